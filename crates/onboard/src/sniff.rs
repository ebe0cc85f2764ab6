//! Which encoding a CSV delivery is in, from its bytes. A byte-order mark decides; NUL bytes at every second position
//! mean UTF-16; valid UTF-8 is UTF-8 (checked for text that was encoded twice, `Ã©` for `é`, and for code-page text
//! that is valid UTF-8 by accident). Otherwise every candidate WHATWG encoding ([`CANDIDATES`]) decodes the file and
//! is scored on how much the result looks like text: the share of non-ASCII characters that are letters of one
//! script, less penalties for C1 controls and private-use characters, stray symbols, words mixing scripts, case flips
//! inside a word (`ÇáÚÑÈíÉ`), Latin words made almost only of accented letters (`Ïðèâåò`) and combining marks
//! without a base letter. The best is proposed when it clearly wins; a file that is mostly UTF-8 with stray bytes, or
//! that several code pages fit, gets a note saying so ([`EncodingGuess::note`]) instead. Notes name counts and
//! encodings, never the file's text.

use dh_config::country::Encoding;

/// Code pages tried on a file that is not UTF-8, in order of preference when two decode to the same text.
pub const CANDIDATES: &[&str] = &[
    "windows-1252",
    "windows-1256",
    "iso-8859-6",
    "windows-874",
    "windows-1251",
    "windows-1250",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1257",
    "windows-1258",
    "gb18030",
    "big5",
    "shift_jis",
    "euc-jp",
    "euc-kr",
];

/// A candidate is proposed when it scores at least this ...
const CLEAR_SCORE: f64 = 0.75;
/// ... and beats every candidate that decodes to a different text by this much.
const CLEAR_MARGIN: f64 = 0.2;
/// Candidates scoring at least this are named in the note as fitting.
const FIT_SCORE: f64 = 0.5;
/// At most this many bytes are scored (cut at a line end).
const SAMPLE_BYTES: usize = 1 << 20;

/// The encoding to read a file with and whether it is a confident proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodingGuess {
    /// The encoding to read the file with for the listing (the best candidate even when not decided).
    pub encoding: Encoding,
    /// True when the skeleton may set `encoding` to it; false leaves a `# TODO encoding` line.
    pub decided: bool,
    /// Why (for a proposed code page) or what to check (a TODO); never quotes the file's text.
    pub note: Option<String>,
    /// The note asks for a check even though the encoding is decided (UTF-8 text that was encoded twice).
    pub check: bool,
}

impl EncodingGuess {
    fn sure(encoding: Encoding, note: Option<String>) -> Self {
        EncodingGuess {
            encoding,
            decided: true,
            note,
            check: false,
        }
    }

    /// UTF-8 (with or without byte-order mark), with a TODO when the text reads as encoded twice.
    fn utf8(encoding: Encoding, text: &str) -> Self {
        let note = double_encoded(text);
        EncodingGuess {
            check: note.is_some(),
            ..EncodingGuess::sure(encoding, note)
        }
    }
}

/// The writing system of a letter or combining mark, as far as scoring needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
    Hebrew,
    Arabic,
    Thai,
    Hangul,
    Kana,
    Han,
}

impl Script {
    fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Greek => "Greek",
            Script::Cyrillic => "Cyrillic",
            Script::Hebrew => "Hebrew",
            Script::Arabic => "Arabic",
            Script::Thai => "Thai",
            Script::Hangul => "Korean",
            Script::Kana => "Japanese kana",
            Script::Han => "Chinese (Han)",
        }
    }
}

fn script(c: char) -> Option<Script> {
    let u = c as u32;
    Some(match u {
        0x41..=0x5A | 0x61..=0x7A => Script::Latin,
        0xC0..=0x24F if u != 0xD7 && u != 0xF7 => Script::Latin,
        0x300..=0x36F | 0x1E00..=0x1EFF => Script::Latin,
        0x370..=0x3FF if u != 0x37E && u != 0x387 => Script::Greek,
        0x400..=0x52F => Script::Cyrillic,
        0x591..=0x5F2 => Script::Hebrew,
        0x610..=0x61A | 0x620..=0x669 | 0x66E..=0x6D3 | 0x6D5..=0x6FF | 0x750..=0x77F => {
            Script::Arabic
        }
        0xFB50..=0xFDFF | 0xFE70..=0xFEFC => Script::Arabic,
        0xE01..=0xE3A | 0xE40..=0xE4E | 0xE50..=0xE59 => Script::Thai,
        0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7A3 => Script::Hangul,
        0x3041..=0x30FF => Script::Kana,
        0x4E00..=0x9FFF => Script::Han,
        _ => return None,
    })
}

/// Combining marks that need a base letter before them.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x300..=0x36F | 0x591..=0x5C7 | 0x610..=0x61A | 0x64B..=0x65F | 0x670 | 0xE31 | 0xE34..=0xE3A | 0xE47..=0xE4E)
}

/// Characters no text holds: C0/C1 controls (but tab and line ends), private use, the replacement character,
/// half-width katakana and rare CJK extension characters (what a wrong multi-byte decoder produces).
fn is_suspicious(c: char) -> bool {
    let u = c as u32;
    (c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
        || matches!(u, 0xE000..=0xF8FF | 0xFFFD | 0xFF61..=0xFF9F | 0x3400..=0x4DBF)
}

/// Non-ASCII punctuation and symbols that ordinary text uses (quotes, dashes, euro, degree, Arabic comma, CJK
/// punctuation); other non-letter characters count as stray symbols.
fn is_common_punctuation(c: char) -> bool {
    matches!(c as u32,
        0xA0 | 0xAB | 0xBB | 0xB0 | 0x2010..=0x2027 | 0x20AC | 0x60C | 0x61B | 0x61F | 0x640 | 0x66A..=0x66D
        | 0x6D4 | 0x3000..=0x303F | 0xFF01..=0xFF5E | 0xE3F | 0xE2F | 0xE46 | 0xE4F | 0xE5A | 0xE5B)
}

/// How well one decoded text reads as text.
#[derive(Debug, Clone, PartialEq)]
struct Fit {
    score: f64,
    script: Option<Script>,
}

fn fit(text: &str) -> Fit {
    let mut by_script: std::collections::BTreeMap<Script, usize> = Default::default();
    let (mut non_ascii, mut penalty) = (0usize, 0f64);
    for c in text.chars().filter(|c| !c.is_ascii() && !c.is_whitespace()) {
        non_ascii += 1;
        if is_suspicious(c) {
            penalty += 3.0;
        } else if let Some(s) = script(c) {
            *by_script.entry(s).or_default() += 1;
            if s == Script::Latin && (c as u32) > 0xFF && !is_mark(c) {
                penalty += 0.25;
            }
        } else if !is_common_punctuation(c) {
            penalty += 1.0;
        }
    }
    if non_ascii == 0 {
        return Fit {
            score: 1.0,
            script: None,
        };
    }
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || script(c).is_some())) {
        penalty += word_penalty(word);
    }
    let (script, dominant) = by_script
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(s, n)| (Some(*s), *n))
        .unwrap_or((None, 0));
    Fit {
        score: (dominant as f64 - penalty) / non_ascii as f64,
        script,
    }
}

/// Penalty for one word: mixed scripts, case flips, Latin words of almost only accented letters, marks without a
/// base letter, Thai leading vowels without a consonant after them.
fn word_penalty(word: &str) -> f64 {
    let chars: Vec<char> = word.chars().collect();
    let non_ascii = chars.iter().filter(|c| !c.is_ascii()).count();
    if non_ascii == 0 {
        return 0.0;
    }
    let mut scripts: Vec<Script> = chars
        .iter()
        .filter(|c| c.is_alphabetic() || is_mark(**c))
        .filter_map(|c| script(*c))
        .collect();
    scripts.sort();
    scripts.dedup();
    if scripts.len() > 1 {
        return non_ascii as f64;
    }
    let mut penalty = 0.0;
    for (i, c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        if c.is_uppercase() && prev.is_some_and(char::is_lowercase) {
            penalty += 2.0;
        }
        if is_mark(*c) && prev.is_none_or(|p| !p.is_alphabetic() && !is_mark(p)) {
            penalty += 2.0;
        }
        if matches!(*c as u32, 0xE40..=0xE44)
            && chars
                .get(i + 1)
                .is_none_or(|n| !matches!(*n as u32, 0xE01..=0xE2E))
        {
            penalty += 2.0;
        }
    }
    let letters = chars.iter().filter(|c| c.is_alphabetic()).count();
    if scripts == [Script::Latin] && letters >= 4 && non_ascii * 3 > letters * 2 {
        penalty += non_ascii as f64;
    }
    penalty
}

/// The encoding of a CSV file's bytes.
pub fn sniff_encoding(bytes: &[u8]) -> EncodingGuess {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        let text = String::from_utf8_lossy(sample(&bytes[3..]));
        return EncodingGuess::utf8(Encoding::UTF8_BOM, &text);
    }
    let label = |l: &str| Encoding::from_label(l).unwrap_or(Encoding::UTF8);
    if bytes.starts_with(b"\xFF\xFE") {
        return EncodingGuess::sure(label("utf-16le"), None);
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return EncodingGuess::sure(label("utf-16be"), None);
    }
    if let Some(utf16) = utf16_by_nul_pattern(bytes) {
        return EncodingGuess::sure(
            label(utf16),
            Some(format!(
                "{utf16}: no byte-order mark, but NUL bytes at every second position"
            )),
        );
    }
    let sample = sample(bytes);
    let fits = || -> Vec<(Encoding, Fit, String)> {
        CANDIDATES
            .iter()
            .filter_map(|name| Encoding::from_label(name))
            .filter_map(|encoding| {
                let text = encoding
                    .codec()
                    .decode_without_bom_handling_and_without_replacement(sample)?;
                Some((encoding, fit(&text), text.into_owned()))
            })
            .collect()
    };
    if std::str::from_utf8(bytes).is_ok() {
        // The sample ends at a line end, so it is valid UTF-8 too.
        let text = String::from_utf8_lossy(sample);
        if fit(&text).score < FIT_SCORE
            && let Some((e, f, _)) = fits()
                .into_iter()
                .filter(|(_, f, _)| f.score >= CLEAR_SCORE)
                .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
        {
            // Short code-page text can be valid UTF-8 by accident (Thai windows-874 bytes often are).
            return EncodingGuess {
                encoding: Encoding::UTF8,
                decided: false,
                check: true,
                note: Some(format!(
                    "the file is valid UTF-8 but reads as unusual characters, while {e} reads it as {} text (score \
                     {:.2}); check a few values in a text editor set to each",
                    f.script.map(Script::name).unwrap_or("plain"),
                    f.score
                )),
            };
        }
        return EncodingGuess::utf8(Encoding::UTF8, &text);
    }
    let fits = fits();
    let best = fits
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.1.score.total_cmp(&b.1.score).then(j.cmp(i)))
        .map(|(i, _)| i);
    let Some(best) = best else {
        return EncodingGuess {
            encoding: Encoding::WINDOWS_1252,
            decided: false,
            check: true,
            note: Some("the file is not UTF-8 and no candidate encoding decodes it; ask the agency which encoding it is in".into()),
        };
    };
    let (encoding, best_fit, best_text) = &fits[best];
    let (utf8_share, invalid, first_line) = utf8_share(bytes);
    // Mostly valid UTF-8 sequences that read as text: UTF-8 with stray bytes (code-page text such as Thai
    // windows-874 also forms valid sequences by accident, but they read as unusual characters).
    let utf8_text: String = String::from_utf8_lossy(sample)
        .chars()
        .filter(|c| *c != '\u{FFFD}')
        .collect();
    if utf8_share >= 0.8 && fit(&utf8_text).score >= CLEAR_SCORE {
        return EncodingGuess {
            encoding: *encoding,
            decided: false,
            check: true,
            note: Some(format!(
                "the file is mostly UTF-8 but {invalid} byte(s) are not (the first on line {first_line}): ask the \
                 agency for a clean UTF-8 export, or fix those bytes; a code page would misread the rest"
            )),
        };
    }
    // Code pages of the same script that decode to another text (windows-1250 for French) are not told apart by
    // letters alone: the earlier candidate is kept and the others are named.
    let (same_script, rivals): (Vec<_>, Vec<_>) = fits
        .iter()
        .enumerate()
        .filter(|(i, (_, f, t))| {
            *i != best && t != best_text && f.score >= best_fit.score - CLEAR_MARGIN
        })
        .map(|(_, x)| x)
        .partition(|(_, f, _)| f.script.is_some() && f.script == best_fit.script);
    let describe = |(e, f, _): &(Encoding, Fit, String)| match f.script {
        Some(s) => format!("{e} ({} letters, score {:.2})", s.name(), f.score),
        None => format!("{e} (score {:.2})", f.score),
    };
    if best_fit.score >= CLEAR_SCORE && rivals.is_empty() {
        let script = best_fit.script.map(Script::name).unwrap_or("plain");
        let also = if same_script.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = same_script.iter().map(|(e, _, _)| e.name()).collect();
            format!(
                "; {} also decode it as {script} text with other accented letters: check a few values",
                names.join(", ")
            )
        };
        return EncodingGuess::sure(
            *encoding,
            Some(format!(
                "not UTF-8; decodes as {script} text (score {:.2}; no code page of another script comes within \
                 {CLEAR_MARGIN}){also}",
                best_fit.score
            )),
        );
    }
    let fitting: Vec<String> = fits
        .iter()
        .filter(|(_, f, _)| f.score >= FIT_SCORE)
        .map(describe)
        .collect();
    let note = if fitting.is_empty() {
        format!(
            "the file is not UTF-8 and no code page decodes it into plausible text (best: {}); ask the agency which \
             encoding it is in",
            describe(&fits[best])
        )
    } else {
        format!(
            "the file is not UTF-8 and several code pages fit: {}; check a few values in a text editor set to each \
             and keep the one that reads right",
            fitting.join(", ")
        )
    };
    EncodingGuess {
        encoding: *encoding,
        decided: false,
        note: Some(note),
        check: true,
    }
}

/// The first [`SAMPLE_BYTES`] bytes, cut after a line end so no character is split.
fn sample(bytes: &[u8]) -> &[u8] {
    if bytes.len() <= SAMPLE_BYTES {
        return bytes;
    }
    let cut = bytes[..SAMPLE_BYTES]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(SAMPLE_BYTES, |i| i + 1);
    &bytes[..cut]
}

/// `utf-16le`/`utf-16be` when at least a fifth of the first bytes are NUL and nearly all of them on one parity.
fn utf16_by_nul_pattern(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(4096) & !1];
    if head.len() < 4 {
        return None;
    }
    let (mut even, mut odd) = (0usize, 0usize);
    for (i, b) in head.iter().enumerate() {
        if *b == 0 {
            if i % 2 == 0 {
                even += 1;
            } else {
                odd += 1;
            }
        }
    }
    let nul = even + odd;
    if nul * 5 < head.len() {
        return None;
    }
    if odd * 10 >= nul * 9 {
        Some("utf-16le")
    } else if even * 10 >= nul * 9 {
        Some("utf-16be")
    } else {
        None
    }
}

/// Share of non-ASCII bytes that form valid UTF-8 sequences, the number of invalid bytes and the line of the first.
fn utf8_share(bytes: &[u8]) -> (f64, usize, usize) {
    let (mut valid, mut invalid, mut first) = (0usize, 0usize, None);
    let mut rest = bytes;
    let mut offset = 0;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                valid += s.bytes().filter(|b| !b.is_ascii()).count();
                break;
            }
            Err(e) => {
                let ok = e.valid_up_to();
                valid += rest[..ok].iter().filter(|b| !b.is_ascii()).count();
                let bad = e.error_len().unwrap_or(rest.len() - ok).max(1);
                invalid += bad;
                first.get_or_insert(offset + ok);
                offset += ok + bad;
                rest = &rest[(ok + bad).min(rest.len())..];
                if rest.is_empty() {
                    break;
                }
            }
        }
    }
    let line = first.map_or(0, |at| {
        bytes[..at].iter().filter(|b| **b == b'\n').count() + 1
    });
    let total = valid + invalid;
    let share = if total == 0 {
        0.0
    } else {
        valid as f64 / total as f64
    };
    (share, invalid, line)
}

/// A note when most words with non-ASCII characters read as UTF-8 that was decoded as windows-1252 and encoded again
/// (`Ã©` for `é`, `Ø§` for `ا`, `à¸` for Thai).
fn double_encoded(text: &str) -> Option<String> {
    let (mut words, mut twice) = (0usize, 0usize);
    for word in text.split(|c: char| c.is_ascii_whitespace() || matches!(c, ',' | ';' | '"' | '|'))
    {
        if word.is_ascii() {
            continue;
        }
        words += 1;
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(word);
        if !unmappable
            && bytes.as_ref() != word.as_bytes()
            && std::str::from_utf8(&bytes).is_ok_and(|s| !s.is_ascii())
        {
            twice += 1;
        }
    }
    (twice > 0 && twice * 2 >= words).then(|| {
        format!(
            "{twice} of {words} words with non-ASCII characters read as UTF-8 encoded twice (mojibake such as `Ã©` \
             for `é` or `Ø§` for `ا`): ask the agency for an export from the original data; `dh` reads files as \
             delivered and cannot undo it"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(label: &str, text: &str) -> Vec<u8> {
        let codec = Encoding::from_label(label).expect("label").codec();
        let (bytes, _, unmappable) = codec.encode(text);
        assert!(!unmappable, "{label} cannot encode the sample");
        bytes.into_owned()
    }

    const ARABIC: &str = "ID,GOV,NAME\n1,عمّان,محمد الخطيب\n2,إربد,فاطمة القاسم\n3,الزرقاء,خالد يوسف\n4,المفرق,ليلى عبد الله\n5,الكرك,سارة منصور\n";
    const THAI: &str = "ID,PROVINCE,NOTE\n1,กรุงเทพมหานคร,เด็กใช้อินเทอร์เน็ตทุกวัน\n2,เชียงใหม่,ไม่ทราบ\n3,ขอนแก่น,ปฏิเสธที่จะตอบ\n4,ภูเก็ต,ครอบครัวมีโทรศัพท์มือถือ\n";
    const CYRILLIC: &str = "ID,REGION,NOTE\n1,Москва,Ребёнок пользуется интернетом каждый день\n2,Казань,Не знаю\n3,Новосибирск,Отказ от ответа\n";
    const FRENCH: &str = "ID;REGION;NOTE\n1;Île-de-France;Élève très intéressé\n2;Provence-Alpes-Côte d'Azur;Ne sait pas\n3;Bretagne;Refusé\n4;Hauts-de-France;Garçon âgé de 14 ans\n";

    #[test]
    fn code_pages_of_arabic_thai_cyrillic_and_french_samples() {
        for (label, text, script) in [
            ("windows-1256", ARABIC, "Arabic"),
            ("windows-874", THAI, "Thai"),
            ("windows-1251", CYRILLIC, "Cyrillic"),
            ("windows-1252", FRENCH, "Latin"),
        ] {
            let guess = sniff_encoding(&encode(label, text));
            assert_eq!(guess.encoding.name(), label, "{guess:?}");
            assert!(guess.decided, "{label}: {guess:?}");
            let note = guess.note.expect("note");
            eprintln!("{label}: {note}");
            assert!(note.contains(script), "{note}");
            for word in ["محمد", "กรุงเทพ", "Москва", "Élève"] {
                assert!(!note.contains(word), "note quotes the file: {note}");
            }
        }
    }

    #[test]
    fn short_ambiguous_code_page_text_is_a_todo_naming_the_fits() {
        // Two Arabic letters shared by windows-1256 and iso-8859-6: both fit, neither clearly wins.
        let guess = sniff_encoding(&encode("windows-1256", "ID,X\n1,ءا\n"));
        assert!(!guess.decided, "{guess:?}");
        let note = guess.note.expect("note");
        assert!(
            note.contains("windows-1256") && note.contains("iso-8859-6"),
            "{note}"
        );
    }

    #[test]
    fn utf8_boms_utf16_and_double_encoding() {
        assert_eq!(sniff_encoding(b"ID\n1\n").encoding, Encoding::UTF8);
        assert_eq!(
            sniff_encoding("ID\né\n".as_bytes()),
            EncodingGuess::sure(Encoding::UTF8, None)
        );
        assert_eq!(
            sniff_encoding(b"\xEF\xBB\xBFID\n").encoding,
            Encoding::UTF8_BOM
        );
        assert_eq!(
            sniff_encoding(b"\xFF\xFEI\0D\0").encoding.name(),
            "utf-16le"
        );
        assert_eq!(
            sniff_encoding(b"I\0D\0,\0X\0\n\0").encoding.name(),
            "utf-16le"
        );
        assert_eq!(
            sniff_encoding(b"\0I\0D\0,\0X\0\n").encoding.name(),
            "utf-16be"
        );
        // UTF-8 text decoded as windows-1252 and saved as UTF-8 again.
        let (once, _, _) = encoding_rs::WINDOWS_1252.decode("ID,NOM\n1,Élève\n2,عمّان\n".as_bytes());
        let guess = sniff_encoding(once.as_bytes());
        assert!(guess.decided && guess.check && guess.encoding == Encoding::UTF8);
        let note = guess.note.expect("mojibake note");
        assert!(
            note.contains("2 of 2 words") && note.contains("encoded twice"),
            "{note}"
        );
        assert!(!note.contains("lève"), "{note}");
    }

    /// Fuzz-style: random bytes and random text in random code pages never panic, and the proposed encoding always
    /// decodes the file with the reader's decoder.
    #[test]
    fn random_bytes_never_panic_and_the_guess_decodes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let path = std::path::Path::new("x.csv");
        for case in 0..400 {
            let len = rng.random_range(0..300);
            let bytes: Vec<u8> = if case % 2 == 0 {
                (0..len).map(|_| rng.random()).collect()
            } else {
                let text: String = (0..len)
                    .map(|_| char::from_u32(rng.random_range(0x20..0x1000)).unwrap_or(' '))
                    .collect();
                let label = CANDIDATES[rng.random_range(0..CANDIDATES.len())];
                let codec = Encoding::from_label(label).expect("label").codec();
                codec.encode(&text).0.into_owned()
            };
            let guess = sniff_encoding(&bytes);
            assert!(guess.decided || guess.note.is_some(), "{guess:?}");
            if guess.decided {
                let decoded = dh_ingest::encoding::decode(path, &bytes, guess.encoding);
                assert!(decoded.is_ok(), "case {case}: {guess:?} {decoded:?}");
            }
        }
    }

    #[test]
    fn code_page_text_that_is_valid_utf8_by_accident_is_a_todo() {
        // Thai windows-874 `เกก` is E0 A1 A1, a valid UTF-8 sequence (U+0861).
        let bytes = encode("windows-874", "ID,X\n1,เกกเขข\n2,เกข\n");
        assert!(std::str::from_utf8(&bytes).is_ok());
        let guess = sniff_encoding(&bytes);
        assert!(!guess.decided, "{guess:?}");
        let note = guess.note.expect("note");
        assert!(note.contains("windows-874 reads it as Thai text"), "{note}");
    }

    #[test]
    fn mostly_utf8_with_a_stray_byte_is_a_todo() {
        let mut bytes = "ID,GOV\n1,عمّان\n2,إربد\n3,الزرقاء\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"4,\xE9\n");
        let guess = sniff_encoding(&bytes);
        assert!(!guess.decided, "{guess:?}");
        assert!(guess.note.expect("note").contains("line 5"));
    }
}
