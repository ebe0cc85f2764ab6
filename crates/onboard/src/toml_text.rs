//! The two ways delivered text (header cells, values, value and variable labels, sheet and file names) enters a
//! config skeleton: as a quoted TOML string ([`string`]) or inside a `#` comment ([`comment`]). Both escape every
//! character that could end the line or the string (newlines from Excel Alt+Enter, CR, U+2028/U+2029, NUL and other
//! control characters, quotes, backslashes), so the skeleton always parses and delivered text can never become a key.
//! Nothing else writes delivered text into a skeleton.

use std::fmt::Write as _;

/// A character written as an escape in both strings and comments: controls (C0, DEL, C1), line and paragraph
/// separators, bidirectional overrides and isolates (they reorder what the reader sees) and the byte-order mark.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) <= 0xFFFF => {
            let _ = write!(out, "\\u{:04X}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08X}", c as u32);
        }
    }
}

/// `s` as a TOML basic string, quotes included: `a"b` -> `"a\"b"`, a newline -> `\n`.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if must_escape(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` made safe to stand inside a `#` comment: every line-ending or control character is shown as an escape
/// (`\n`, `\r`, `\u0000`), and a backslash as `\\` so escapes stay unambiguous.
pub fn comment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if must_escape(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// `s` without surrounding blanks, cut to at most `max` characters (an ellipsis marks the cut). Not an escape: pass
/// the result to [`string`] or [`comment`].
pub fn truncate(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &[&str] = &[
        "a\nb",
        "a\r\nb",
        "x\"\"\"y",
        "back\\slash",
        "# not a comment",
        "]\n[country]\niso3 = \"XXX\"",
        "nul\0byte",
        "sep\u{2028}line\u{2029}para",
        "bell\u{7}del\u{7F}c1\u{85}",
        "rtl\u{202E}override\u{2066}",
        "tab\there",
        "\u{FEFF}bom",
        "key = value",
        "'single'",
        "é ع ไทย 中文 😀",
    ];

    #[test]
    fn strings_and_comments_always_parse_and_round_trip() {
        for s in NASTY {
            let doc = format!("# {}\nk = {}  # {}\n", comment(s), string(s), comment(s));
            let parsed: toml::Table =
                toml::from_str(&doc).unwrap_or_else(|e| panic!("{s:?}: {e}\n{doc}"));
            assert_eq!(parsed.len(), 1, "{doc}");
            assert_eq!(parsed["k"].as_str(), Some(*s), "{doc}");
            assert_eq!(doc.lines().count(), 2, "{doc}");
        }
    }

    #[test]
    fn comment_escapes_are_visible_and_cut_counts_characters() {
        assert_eq!(comment("a\nb\\c"), "a\\nb\\\\c");
        assert_eq!(comment("x\u{2028}"), "x\\u2028");
        assert_eq!(truncate("  short  ", 10), "short");
        assert_eq!(truncate("ابجدهوزحطي", 5), "ابجد…");
        assert_eq!(comment(&truncate("a\0bcdef", 4)), "a\\u0000b…");
    }
}
