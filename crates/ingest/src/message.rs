//! Bounds on every message `dh` stores or prints about a delivery (manifest, run log, report, stderr, JSON log,
//! `dh validate`): at most [`MAX_MESSAGE_CHARS`] characters, control characters shown as `\u{..}` escapes (a NUL-filled
//! file must not produce megabytes of NULs on a terminal). Messages are written to name positions (file, row, column,
//! header position), never cell contents; the cap is the backstop for text that comes from a format library or a
//! configuration.

/// Longest message, in characters, before it is cut (a country's message may list several files and their tables).
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// `message` with control characters other than newline and tab escaped, cut to [`MAX_MESSAGE_CHARS`] characters with
/// a note saying how many were left out.
pub fn cap(message: impl Into<String>) -> String {
    let message = message.into();
    let clean = message
        .chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\t');
    if clean && message.len() <= MAX_MESSAGE_CHARS {
        return message;
    }
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS * 4 + 64));
    let mut shown = 0usize;
    let mut chars = message.chars();
    for c in chars.by_ref() {
        if c.is_control() && c != '\n' && c != '\t' {
            let escaped = format!("\\u{{{:x}}}", c as u32);
            shown += escaped.chars().count();
            out.push_str(&escaped);
        } else {
            shown += 1;
            out.push(c);
        }
        if shown >= MAX_MESSAGE_CHARS {
            break;
        }
    }
    let left = chars.count();
    if left > 0 {
        out.push_str(&format!(" [message cut: {left} more characters]"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_pass_unchanged() {
        assert_eq!(cap("THA: file not found"), "THA: file not found");
        assert_eq!(cap("two\nlines\tand a tab"), "two\nlines\tand a tab");
    }

    #[test]
    fn long_messages_are_cut_with_a_count() {
        let long = "é".repeat(MAX_MESSAGE_CHARS + 500);
        let out = cap(long);
        assert!(out.starts_with(&"é".repeat(MAX_MESSAGE_CHARS)));
        assert!(out.ends_with("[message cut: 500 more characters]"), "{out}");
        assert!(out.chars().count() < MAX_MESSAGE_CHARS + 60);
    }

    #[test]
    fn control_characters_are_escaped_and_count_against_the_cap() {
        assert_eq!(cap("a\0b\u{1b}[31m"), "a\\u{0}b\\u{1b}[31m");
        let nuls = "\0".repeat(10_000_000);
        let out = cap(nuls);
        assert!(!out.contains('\0'));
        assert!(
            out.chars().count() < MAX_MESSAGE_CHARS + 60,
            "{}",
            out.len()
        );
    }
}
