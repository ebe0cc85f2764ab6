//! Turns byte spans of TOML values (and offsets inside expression strings) into 1-based line and column numbers.

use std::ops::Range;

/// 1-based line and column (in characters) of byte `pos` in `text`.
pub fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let pos = floor_char_boundary(text, pos.min(text.len()));
    let before = &text[..pos];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

/// File position of byte `offset` inside the string value `value` whose TOML literal spans `span` in `text`.
/// Exact when the literal holds the value verbatim (no escapes); otherwise the start of the literal.
pub fn position_in_string(text: &str, span: &Range<usize>, value: &str, offset: usize) -> usize {
    let Some(raw) = text.get(span.clone()) else {
        return span.start;
    };
    for quote in ["'''", "\"\"\"", "'", "\""] {
        if raw.len() < 2 * quote.len() || !raw.starts_with(quote) || !raw.ends_with(quote) {
            continue;
        }
        let mut inner_start = quote.len();
        let inner_end = raw.len() - quote.len();
        // Multi-line strings drop a newline directly after the opening quotes.
        if quote.len() == 3 {
            if raw[inner_start..].starts_with("\r\n") {
                inner_start += 2;
            } else if raw[inner_start..].starts_with('\n') {
                inner_start += 1;
            }
        }
        if raw.get(inner_start..inner_end) == Some(value) {
            return span.start + inner_start + offset.min(value.len());
        }
        break;
    }
    span.start
}

fn floor_char_boundary(text: &str, mut pos: usize) -> usize {
    while pos > 0 && !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let text = "a = 1\nbb = 'é x'\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // After `é` (2 bytes) the column counts characters.
        assert_eq!(line_column(text, 14), (2, 8));
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn offsets_inside_literal_strings() {
        let text = "x = 'age >= 15'\ny = \"q == \\\"yes\\\"\"\nz = '''\nab'''";
        let span = 4..15;
        assert_eq!(position_in_string(text, &span, "age >= 15", 4), 9);
        // Escaped basic string: falls back to the start of the literal.
        let start = text.find("\"q").unwrap_or(0);
        let end = text[start..]
            .find('\n')
            .map(|i| start + i)
            .unwrap_or(text.len());
        assert_eq!(
            position_in_string(text, &(start..end), "q == \"yes\"", 5),
            start
        );
        let ml = text.find("'''").unwrap_or(0);
        assert_eq!(position_in_string(text, &(ml..text.len()), "ab", 1), ml + 5);
    }
}
