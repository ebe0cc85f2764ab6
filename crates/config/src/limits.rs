//! Size limits of the hand-edited configuration files (countries/, schemas/, pipelines/) and their bounded reader.
//!
//! A configuration file is read only when it is a regular file no larger than its limit ([`MAX_CONFIG_BYTES`] for
//! TOML, [`MAX_SCHEMA_BYTES`] for a JSON schema) and none of its lines is longer than [`MAX_LINE_BYTES`]; all of
//! this is checked before parsing, so memory and time stay proportional to a small file. After parsing, TOML
//! values are checked against [`MAX_STRING_BYTES`] and [`MAX_ARRAY_ITEMS`] (a multi-line string or array can stay
//! within the line limit). A file with syntax errors reports at most [`MAX_SYNTAX_ERRORS`] of them.
//!
//! The largest shipped files are far below these limits (a country TOML ~12 KB, `_defaults.toml` 28 KB,
//! `pipelines/indicators.toml` 47 KB, `schemas/child_survey.json` 65 KB, longest line 626 bytes).

use std::io::Read;
use std::path::Path;

use crate::diagnostic::Diagnostic;

/// Largest country, defaults or pipelines TOML file read (1 MiB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Largest harmonised table schema (JSON) read (4 MiB).
pub const MAX_SCHEMA_BYTES: u64 = 4 << 20;
/// Longest line of a configuration file (64 KiB): bounds every single-line string, key and inline array.
pub const MAX_LINE_BYTES: usize = 64 << 10;
/// Longest string value of a TOML file, multi-line strings included (64 KiB).
pub const MAX_STRING_BYTES: usize = 64 << 10;
/// Most items of one TOML array.
pub const MAX_ARRAY_ITEMS: usize = 100_000;
/// Most syntax errors reported for one file; the rest are counted in one last message.
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// Why a configuration file was not read. The caller names the file.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("cannot read the file: {0}; check the path and permissions")]
    Io(#[source] std::io::Error),
    #[error("not a regular file (a folder, device or pipe); a configuration must be a plain file")]
    NotAFile,
    #[error(
        "the file is {size} bytes, above the limit of {limit} bytes for a configuration file; is it the right file?"
    )]
    TooLarge { size: u64, limit: u64 },
    #[error(
        "line {line} is {length} bytes long, above the limit of {limit} bytes per line; shorten it or split it over \
         several lines"
    )]
    LineTooLong {
        line: usize,
        length: usize,
        limit: usize,
    },
    #[error("the file is not UTF-8 text (first invalid byte at offset {offset}); save it as UTF-8")]
    NotUtf8 { offset: usize },
}

impl LimitError {
    /// 1-based line the problem is on; 0 when it concerns the whole file.
    pub fn line(&self) -> usize {
        match self {
            LimitError::LineTooLong { line, .. } => *line,
            _ => 0,
        }
    }
}

/// Reads a configuration file of at most `limit` bytes as UTF-8 text, refusing anything that is not a regular file
/// (a FIFO or device would block or never end) and any line longer than [`MAX_LINE_BYTES`]. At most `limit + 1`
/// bytes are ever read, so a file that grows while it is read is refused too.
pub fn read_bounded(path: &Path, limit: u64) -> Result<String, LimitError> {
    let meta = std::fs::metadata(path).map_err(LimitError::Io)?;
    if !meta.is_file() {
        return Err(LimitError::NotAFile);
    }
    if meta.len() > limit {
        return Err(LimitError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let file = std::fs::File::open(path).map_err(LimitError::Io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(LimitError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(LimitError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    check_lines(&bytes, MAX_LINE_BYTES)?;
    String::from_utf8(bytes).map_err(|e| LimitError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Refuses the first line longer than `limit` bytes.
pub fn check_lines(bytes: &[u8], limit: usize) -> Result<(), LimitError> {
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.len() > limit {
            return Err(LimitError::LineTooLong {
                line: i + 1,
                length: line.len(),
                limit,
            });
        }
    }
    Ok(())
}

/// Key paths of TOML values above the string or array limits, each with a message (the value is never shown).
pub fn oversized_values(table: &toml::Table) -> Vec<(Vec<String>, String)> {
    let mut found = Vec::new();
    let mut path = Vec::new();
    walk_table(table, &mut path, &mut found);
    found
}

fn walk_table(table: &toml::Table, path: &mut Vec<String>, found: &mut Vec<(Vec<String>, String)>) {
    for (key, value) in table {
        path.push(key.clone());
        walk_value(value, path, found);
        path.pop();
    }
}

fn walk_value(value: &toml::Value, path: &mut Vec<String>, found: &mut Vec<(Vec<String>, String)>) {
    match value {
        toml::Value::String(s) if s.len() > MAX_STRING_BYTES => found.push((
            path.clone(),
            format!(
                "a string of {} bytes, above the limit of {MAX_STRING_BYTES} bytes",
                s.len()
            ),
        )),
        toml::Value::Array(items) if items.len() > MAX_ARRAY_ITEMS => found.push((
            path.clone(),
            format!(
                "an array of {} items, above the limit of {MAX_ARRAY_ITEMS} items",
                items.len()
            ),
        )),
        toml::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                walk_value(item, path, found);
                path.pop();
            }
        }
        toml::Value::Table(t) => walk_table(t, path, found),
        _ => {}
    }
}

/// The diagnostic that stands for `more` syntax errors not shown (after the first [`MAX_SYNTAX_ERRORS`]).
pub fn more_errors(path: &Path, more: usize) -> Diagnostic {
    Diagnostic::error(
        path,
        0,
        "",
        format!("{more} more syntax errors in this file are not shown; fix the ones above first"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "a = 1\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            read_bounded(&path, 100).unwrap_or_else(|e| panic!("{e}")),
            "a = 1\n"
        );
    }

    #[test]
    fn files_above_the_limit_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'#'; 101]).unwrap_or_else(|e| panic!("{e}"));
        let err = read_bounded(&path, 100).err();
        assert!(
            matches!(
                err,
                Some(LimitError::TooLarge {
                    size: 101,
                    limit: 100
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn long_lines_are_refused_with_their_line_number() {
        let text = format!("a = 1\nb = \"{}\"\n", "x".repeat(MAX_LINE_BYTES));
        let err = check_lines(text.as_bytes(), MAX_LINE_BYTES).err();
        assert!(
            matches!(err, Some(LimitError::LineTooLong { line: 2, .. })),
            "{err:?}"
        );
        assert!(check_lines(b"a = 1\n", MAX_LINE_BYTES).is_ok());
    }

    #[test]
    fn folders_and_non_utf8_files_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_bounded(dir.path(), 100),
            Err(LimitError::NotAFile)
        ));
        let path = dir.path().join("latin1.toml");
        std::fs::write(&path, b"a = \"\xe9\"\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_bounded(&path, 100),
            Err(LimitError::NotUtf8 { offset: 5 })
        ));
    }

    #[test]
    fn oversized_strings_and_arrays_are_found_by_key() {
        let big = "x".repeat(MAX_STRING_BYTES + 1);
        let text = format!(
            "[t]\nok = \"small\"\ns = '''\n{big}'''\nlist = [{}]\n",
            vec!["1"; MAX_ARRAY_ITEMS + 1].join(",\n")
        );
        let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}"));
        let found = oversized_values(&table);
        let paths: Vec<String> = found.iter().map(|(p, _)| p.join(".")).collect();
        assert_eq!(paths, vec!["t.list", "t.s"]);
        assert!(!found[1].1.contains("xxx"), "the value is not shown");
    }
}
