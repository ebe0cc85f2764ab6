//! What a single delivered value looks like, without keeping it: shaped like a phone number, an e-mail address, GPS
//! coordinates or a personal name, short and code-like, and its shape as text ("len 29: letters, digits, spaces").
//! Pure functions shared by the content checks of normalisation (`dh-normalise`'s `content` module, thresholds in
//! the schemas: [`crate::schema::ContentCheck`]), the quarantine table and `dh country new`. A shape is a strong hint,
//! not proof: the checks judge a column by how its shaped values repeat, not by one value.

/// Digits a phone number has at least and at most (national numbers without trunk prefix have 8 or 9, E.164 allows
/// 15).
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 9..=15;

/// Whether `v` is shaped like a phone number: 9-15 digits, written only with digits and the separators people use
/// (blank, `-`, `.`, `/`, parentheses), and marked as a phone by a leading `+`, a leading `0` (trunk prefix) or
/// separators between digit groups. A plain decimal number (`1234.56789`) or a long code without a leading zero is
/// not phone-shaped.
pub fn looks_like_phone(v: &str) -> bool {
    let v = v.trim();
    let (plus, rest) = match v.strip_prefix('+') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, v),
    };
    if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '(') {
        return false;
    }
    let mut digits = 0;
    let mut dots = 0;
    let mut other_separators = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => dots += 1,
            ' ' | '-' | '/' | '(' | ')' => other_separators += 1,
            _ => return false,
        }
    }
    if !PHONE_DIGITS.contains(&digits) {
        return false;
    }
    if dots == 1 && other_separators == 0 && !plus {
        // A decimal number, e.g. a base weight.
        return false;
    }
    plus || rest.starts_with('0') || other_separators > 0 || dots >= 2
}

/// Whether `v` is shaped like an e-mail address: `local@domain.tld` without blanks.
pub fn looks_like_email(v: &str) -> bool {
    let v = v.trim();
    if v.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain.split('.').all(|part| !part.is_empty())
}

/// Whether `v` is shaped like GPS coordinates: a latitude/longitude pair of decimals (`13.883, 100.512`), a single
/// decimal within -180..180 with at least five decimal places (`13.883030`), or degrees written with `°`.
pub fn looks_like_coordinates(v: &str) -> bool {
    let v = v.trim();
    if v.contains('°') && v.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    let parts: Vec<&str> = v
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [one] => coordinate(one, 5).is_some_and(|x| x.abs() <= 180.0),
        [lat, lon] => {
            coordinate(lat, 2).is_some_and(|x| x.abs() <= 90.0)
                && coordinate(lon, 2).is_some_and(|x| x.abs() <= 180.0)
        }
        _ => false,
    }
}

/// A decimal written with at least `places` digits after the point.
fn coordinate(text: &str, places: usize) -> Option<f64> {
    let (_, fraction) = text.split_once('.')?;
    if fraction.len() < places || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Whether `v` is shaped like a personal name: two to four words, each starting with an upper-case letter followed
/// by lower-case letters (apostrophes, hyphens and dots allowed), e.g. "Baré Pakiso" or "Mary-Jane O'Neil". Region
/// names have the same shape ("Phnom Penh"); the content check tells them apart by how often they repeat.
pub fn looks_like_personal_name(v: &str) -> bool {
    let words: Vec<&str> = v.split_whitespace().collect();
    (2..=4).contains(&words.len()) && words.iter().all(|w| name_word(w))
}

fn name_word(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_uppercase() {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    rest.iter().any(|c| c.is_lowercase())
        && rest
            .iter()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.'))
}

/// Longest value counted as code-like, in characters.
pub const MAX_CODE_CHARS: usize = 24;
/// Most words a code-like value has.
pub const MAX_CODE_WORDS: usize = 3;

/// Whether `v` is short and code-like, so that showing it can reveal nothing about a person: at most
/// [`MAX_CODE_CHARS`] characters and [`MAX_CODE_WORDS`] words, no control characters, not shaped like a phone
/// number, an e-mail address, coordinates or a personal name, and holding none of them inside: no word shaped like
/// a phone number, an e-mail address or coordinates, no two adjacent name-shaped words, and no run of as many
/// digits as a phone number has (`Somchai 0899990001`, `call Somchai Jaidee`, `tel:0899990001`).
pub fn looks_like_code(v: &str) -> bool {
    v.chars().count() <= MAX_CODE_CHARS
        && v.split_whitespace().count() <= MAX_CODE_WORDS
        && !v.chars().any(char::is_control)
        && !looks_like_phone(v)
        && !looks_like_email(v)
        && !looks_like_coordinates(v)
        && !looks_like_personal_name(v)
        && !holds_identifier(v)
}

/// Whether a part of `v` is shaped like a phone number, an e-mail address, coordinates or a personal name.
fn holds_identifier(v: &str) -> bool {
    let words: Vec<&str> = v.split_whitespace().collect();
    words
        .iter()
        .any(|w| looks_like_phone(w) || looks_like_email(w) || looks_like_coordinates(w))
        || words
            .windows(2)
            .any(|pair| pair.iter().all(|w| name_word(w)))
        || longest_digit_run(v) >= *PHONE_DIGITS.start()
}

/// The length of the longest run of consecutive ASCII digits in `v`.
fn longest_digit_run(v: &str) -> usize {
    v.split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0)
}

/// The shape of a value without its content: its length in characters and the classes of characters it holds, e.g.
/// `len 29: letters, digits, spaces`.
pub fn shape(v: &str) -> String {
    let (mut letters, mut digits, mut spaces, mut punctuation, mut other) =
        (false, false, false, false, false);
    for c in v.chars() {
        if c.is_alphabetic() {
            letters = true;
        } else if c.is_numeric() {
            digits = true;
        } else if c.is_whitespace() {
            spaces = true;
        } else if c.is_ascii_punctuation() {
            punctuation = true;
        } else {
            other = true;
        }
    }
    let classes: Vec<&str> = [
        (letters, "letters"),
        (digits, "digits"),
        (spaces, "spaces"),
        (punctuation, "punctuation"),
        (other, "other characters"),
    ]
    .into_iter()
    .filter_map(|(present, name)| present.then_some(name))
    .collect();
    let len = v.chars().count();
    if classes.is_empty() {
        format!("len {len}")
    } else {
        format!("len {len}: {}", classes.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        for v in [
            "0826837937",
            "+66 89 999 0001",
            "089-999-0001",
            "(02) 123 4567",
            "+255712345678",
            "0899990001",
            "089.999.0001",
        ] {
            assert!(looks_like_phone(v), "{v}");
        }
        for v in [
            "59.0667",
            "1234.56789",
            "826837937",
            "01100007",
            "2020-11-27",
            "100000000",
            "Bangkok",
            "1e9",
            "+",
            "0123456789012345678",
        ] {
            assert!(!looks_like_phone(v), "{v}");
        }
    }

    #[test]
    fn emails_coordinates_names() {
        assert!(looks_like_email("somchai.j@example.co.th"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("@example.com"));
        assert!(!looks_like_email("North @ 2"));
        for v in ["13.883030", "-6.17511", "13.883, 100.512", "13°52'59\"N"] {
            assert!(looks_like_coordinates(v), "{v}");
        }
        for v in ["59.0667", "13.88", "2", "Bangkok", "1.2.3", "300.12345"] {
            assert!(!looks_like_coordinates(v), "{v}");
        }
        for v in [
            "Baré Pakiso",
            "Somchai Jaidee",
            "Mary-Jane O'Neil",
            "Phnom Penh",
        ] {
            assert!(looks_like_personal_name(v), "{v}");
        }
        for v in [
            "Bangkok",
            "Dar es Salaam",
            "NCR",
            "TH 01",
            "01U",
            "Region 1 North",
            "one two",
        ] {
            assert!(!looks_like_personal_name(v), "{v}");
        }
    }

    #[test]
    fn codes_and_shapes() {
        for v in [
            "7",
            "01U",
            "yes",
            "-1",
            "TH-01",
            "Bangkok",
            "dont know",
            "2019-13-45",
            "01100001",
            "code 7 North",
        ] {
            assert!(looks_like_code(v), "{v}");
        }
        for v in [
            "Call Somchai Jaidee 0899990001",
            // An identifier inside a short value (issue 12: quarantine `raw_value`, `dh country new` examples).
            "Somchai 0899990001",
            "tel:0899990001",
            "call Somchai Jaidee",
            "see a@b.org",
            "at 13.883030",
            "ph +66899990001",
            "Somchai Jaidee",
            "0899990001",
            "a@b.org",
            "13.883030",
            "a\nb",
            "abcdefghijklmnopqrstuvwxyz",
        ] {
            assert!(!looks_like_code(v), "{v}");
        }
        assert_eq!(
            shape("Call Somchai Jaidee 0899990001"),
            "len 30: letters, digits, spaces"
        );
        assert_eq!(shape("é-1"), "len 3: letters, digits, punctuation");
        assert_eq!(shape(""), "len 0");
        assert_eq!(shape("€"), "len 1: other characters");
    }
}
