//! What `--help` shows after the flags: the exit-code table of each command (built from one list of codes) and the
//! examples block. Both are laid out for an 80-column terminal: table rows wrap with a hanging indent, and every
//! example fits on its line (longer ones continue with `\`), so clap never breaks a command in the middle
//! (checked by `help_tests` in main.rs).

use std::fmt::Write;

use super::{
    EXIT_CONFIG, EXIT_DATA, EXIT_INTERNAL, EXIT_IO, EXIT_LOCKED, EXIT_OK, EXIT_QUARANTINE,
};
use crate::cmd::signals::{EXIT_SIGINT, EXIT_SIGTERM};

/// Width the help text is laid out for.
pub const HELP_WIDTH: usize = 80;

/// Exit code of a clap usage error (unknown flag, bad value).
pub const EXIT_USAGE: u8 = 2;

/// One row of an exit-code table: the code and what it means for that command.
pub type ExitRow = (u8, &'static str);

/// The exit codes of `dh run` (and of `dh` as a whole, in `dh --help`).
pub const RUN_EXIT_CODES: &[ExitRow] = &[
    (EXIT_OK, "success"),
    (EXIT_USAGE, "usage error (unknown flag or bad value)"),
    (
        EXIT_CONFIG,
        "configuration error (countries/, schemas/, pseudonym key, an output folder holding files \
         dh did not write); nothing was written",
    ),
    (
        EXIT_DATA,
        "data error: one or more countries failed or exceeded --country-timeout (the others were \
         written; a failed country's last good outputs are kept, marked stale), or validate found \
         problems",
    ),
    (
        EXIT_LOCKED,
        "output folder locked by another dh run; nothing was done (retry later)",
    ),
    (
        EXIT_QUARANTINE,
        "success, outputs published, but quarantined rows above --max-quarantine-rate",
    ),
    (
        EXIT_INTERNAL,
        "internal error (a bug); a country it stopped is not published, the others are",
    ),
    (
        EXIT_IO,
        "I/O error: disk full, read-only or unwritable output folder, lock path unusable (nothing \
         new was published)",
    ),
    (
        EXIT_SIGINT,
        "interrupted by SIGINT (130) or SIGTERM (143); staging removed, last complete run kept",
    ),
];

/// `Exit codes:` and one row per code, wrapped at [`HELP_WIDTH`] with a hanging indent.
pub fn exit_codes(rows: &[ExitRow]) -> String {
    let mut out = String::from("Exit codes:");
    for (code, meaning) in rows {
        let head = if *code == EXIT_SIGINT {
            format!("  {EXIT_SIGINT}/{EXIT_SIGTERM}")
        } else {
            format!("  {code}")
        };
        let _ = write!(out, "\n{}", hanging(&head, 10, meaning));
    }
    out
}

/// `Examples:` and one example per line; each must fit in [`HELP_WIDTH`] (continue a long one with ` \` and a
/// new string starting with six spaces).
pub fn examples(lines: &[&str]) -> String {
    let mut out = String::from("Examples:");
    for line in lines {
        let _ = write!(out, "\n  {line}");
    }
    out
}

/// Paragraphs of an after-help text joined by blank lines.
pub fn sections(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `head` padded to `indent` columns, then `text` wrapped so that no line exceeds [`HELP_WIDTH`] - 2 and every
/// continuation line starts at `indent`.
fn hanging(head: &str, indent: usize, text: &str) -> String {
    let width = HELP_WIDTH - 2;
    let mut out = format!("{head:<indent$}");
    let mut column = out.chars().count();
    let mut first = true;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if !first && column + 1 + len > width {
            let _ = write!(out, "\n{:indent$}", "");
            column = indent;
            first = true;
        }
        if !first {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
        first = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_table_rows_wrap_with_a_hanging_indent_within_the_width() {
        let table = exit_codes(RUN_EXIT_CODES);
        assert!(table.starts_with("Exit codes:\n  0       success\n  2       usage error"));
        for line in table.lines() {
            assert!(line.chars().count() <= HELP_WIDTH - 2, "{line:?}");
        }
        assert!(
            table.contains("\n  130/143 interrupted by SIGINT"),
            "{table}"
        );
        // a continuation line starts at the meaning's column
        assert!(
            table.contains(
                "\n          folder holding files dh did not write); nothing was written"
            ),
            "{table}"
        );
    }

    #[test]
    fn examples_are_indented_by_two() {
        assert_eq!(
            examples(&["dh run", "dh report --quiet"]),
            "Examples:\n  dh run\n  dh report --quiet"
        );
        assert_eq!(sections(&["a", "", "b"]), "a\n\nb");
    }
}
