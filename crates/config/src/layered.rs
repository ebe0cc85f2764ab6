//! Layered TOML: parse the defaults file and a country file with spans, merge them, and remember for every key path
//! which file and line set it, so diagnostics after the merge point into the file that set the value.
//!
//! Merge rules (documented in `countries/_defaults.toml` too):
//! * tables merge key by key and the later layer (the country file) wins;
//! * arrays and scalars are replaced;
//! * tables named `codes` or `missing` are replaced as a whole, never merged, so a default code list never leaks into
//!   a country that uses another code scheme;
//! * a column mapping (`deliveries.<table>.columns.<column>`) that says `not_collected = true` replaces the default
//!   mapping of that column as a whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, key_path};
use crate::limits;

/// Where each key path of a merged configuration was set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Locations {
    files: Vec<PathBuf>,
    keys: BTreeMap<Vec<String>, (usize, usize)>,
}

/// A resolved location: file and 1-based line (0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

impl Locations {
    /// Location of `path`, or of its nearest recorded ancestor, or the last file at line 0.
    pub fn find<S: AsRef<str>>(&self, path: &[S]) -> Location {
        let mut owned: Vec<String> = path.iter().map(|s| s.as_ref().to_string()).collect();
        loop {
            if let Some(&(file, line)) = self.keys.get(&owned) {
                return Location {
                    file: self.files[file].clone(),
                    line,
                };
            }
            if owned.pop().is_none() {
                break;
            }
        }
        Location {
            file: self.files.last().cloned().unwrap_or_default(),
            line: 0,
        }
    }

    /// Location of the nearest ancestor of `path` (or `path` itself) written in the last layer (the country file),
    /// else that file at line 0. Used for things that are missing, which belong in the country file.
    pub fn find_in_last_file<S: AsRef<str>>(&self, path: &[S]) -> Location {
        let last = self.files.len().saturating_sub(1);
        let mut owned: Vec<String> = path.iter().map(|s| s.as_ref().to_string()).collect();
        loop {
            if let Some(&(file, line)) = self.keys.get(&owned)
                && file == last
            {
                return Location {
                    file: self.files[file].clone(),
                    line,
                };
            }
            if owned.pop().is_none() {
                break;
            }
        }
        Location {
            file: self.files.last().cloned().unwrap_or_default(),
            line: 0,
        }
    }

    /// An error about something missing at `path`, located in the country file (see [`Self::find_in_last_file`]).
    pub fn missing_error<S: AsRef<str>>(
        &self,
        path: &[S],
        message: impl Into<String>,
    ) -> Diagnostic {
        let at = self.find_in_last_file(path);
        Diagnostic::error(at.file, at.line, key_path(path), message)
    }

    /// True when `path` itself was written in some file (not only an ancestor).
    pub fn contains<S: AsRef<str>>(&self, path: &[S]) -> bool {
        let owned: Vec<String> = path.iter().map(|s| s.as_ref().to_string()).collect();
        self.keys.contains_key(&owned)
    }

    /// Builds a diagnostic located at `path`.
    pub fn error<S: AsRef<str>>(&self, path: &[S], message: impl Into<String>) -> Diagnostic {
        let at = self.find(path);
        Diagnostic::error(at.file, at.line, key_path(path), message)
    }

    /// Builds a warning located at `path`.
    pub fn warning<S: AsRef<str>>(&self, path: &[S], message: impl Into<String>) -> Diagnostic {
        let at = self.find(path);
        Diagnostic::warning(at.file, at.line, key_path(path), message)
    }

    /// Removes `prefix` and every key below it. Keys sharing a prefix are contiguous in the ordered map, starting
    /// at the prefix itself, so this touches only the removed range.
    fn remove_subtree(&mut self, prefix: &[String]) {
        let doomed: Vec<Vec<String>> = self
            .keys
            .range(prefix.to_vec()..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for k in doomed {
            self.keys.remove(&k);
        }
    }
}

/// One parsed layer: the plain TOML table plus the spanned document for locations.
pub struct Layer {
    pub path: PathBuf,
    pub text: String,
    pub table: toml::Table,
}

/// Reads and parses one TOML file. Syntax errors and duplicate keys are reported (at most
/// [`limits::MAX_SYNTAX_ERRORS`]), each with its line. The file is refused before parsing when it is not a regular
/// file, is above [`limits::MAX_CONFIG_BYTES`] or has a line above [`limits::MAX_LINE_BYTES`]; after parsing, when
/// a string or array is above its limit (see [`limits`]).
pub fn read_layer(path: &Path) -> Result<Layer, Vec<Diagnostic>> {
    let text = limits::read_bounded(path, limits::MAX_CONFIG_BYTES)
        .map_err(|e| vec![Diagnostic::error(path, e.line(), "", e.to_string())])?;
    let (_, errors) = DeTable::parse_recoverable(&text);
    if !errors.is_empty() {
        // One line index for all errors: a file with many errors (e.g. an invalid escape repeated) stays linear.
        let lines = LineIndex::new(&text);
        let mut diagnostics: Vec<Diagnostic> = errors
            .iter()
            .take(limits::MAX_SYNTAX_ERRORS)
            .map(|e| {
                let line = e.span().map(|s| lines.line(s.start)).unwrap_or(0);
                Diagnostic::error(
                    path,
                    line,
                    "",
                    format!(
                        "invalid TOML: {}; fix the syntax (each key once per table)",
                        e.message().trim()
                    ),
                )
            })
            .collect();
        if let Some(more) = errors.len().checked_sub(limits::MAX_SYNTAX_ERRORS)
            && more > 0
        {
            diagnostics.push(limits::more_errors(path, more));
        }
        return Err(diagnostics);
    }
    let table = text.parse::<toml::Table>().map_err(|e| {
        let line = e.span().map(|s| line_of(&text, s.start)).unwrap_or(0);
        vec![Diagnostic::error(
            path,
            line,
            "",
            format!("invalid TOML: {}", e.message().trim()),
        )]
    })?;
    let oversized = limits::oversized_values(&table);
    if !oversized.is_empty() {
        return Err(oversized
            .into_iter()
            .map(|(key, message)| {
                Diagnostic::error(
                    path,
                    0,
                    key_path(&key),
                    format!("{message}; is it the right value?"),
                )
            })
            .collect());
    }
    Ok(Layer {
        path: path.to_path_buf(),
        text,
        table,
    })
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Byte offsets of line ends, for many offset -> line lookups in one text.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        LineIndex(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// 1-based line of `offset` (same result as [`line_of`]).
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

/// Merges `layers` in order (later wins) and records the location of every key.
pub fn merge_layers(layers: &[Layer]) -> (toml::Table, Locations) {
    let mut merged = toml::Table::new();
    let mut locations = Locations::default();
    for layer in layers {
        merge_at(&mut merged, &layer.table, &mut Vec::new());
        locations.files.push(layer.path.clone());
        let file = locations.files.len() - 1;
        // The text parsed without errors in read_layer, so the spanned parse succeeds here too.
        if let Ok(doc) = DeTable::parse(&layer.text) {
            let lines = LineIndex::new(&layer.text);
            record(&mut locations, file, &lines, doc.get_ref(), &mut Vec::new());
        }
    }
    (merged, locations)
}

/// True when a table at `path` replaces the existing value instead of merging into it.
fn replaces_whole(path: &[String], is_not_collected_column: bool) -> bool {
    let last = path.last().map(String::as_str);
    if matches!(last, Some("codes") | Some("missing")) {
        return true;
    }
    is_column_path(path) && is_not_collected_column
}

fn is_column_path(path: &[String]) -> bool {
    path.len() == 4 && path[0] == "deliveries" && path[2] == "columns"
}

fn merge_at(base: &mut toml::Table, over: &toml::Table, path: &mut Vec<String>) {
    for (key, value) in over {
        path.push(key.clone());
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o))
                if !replaces_whole(
                    path,
                    o.get("not_collected") == Some(&toml::Value::Boolean(true)),
                ) =>
            {
                merge_at(b, o, path);
            }
            (_, v) => {
                base.insert(key.clone(), v.clone());
            }
        }
        path.pop();
    }
}

fn record(
    locations: &mut Locations,
    file: usize,
    lines: &LineIndex,
    table: &DeTable<'_>,
    path: &mut Vec<String>,
) {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        let line = lines.line(key.span().start);
        let replace = match value.get_ref() {
            DeValue::Table(t) => {
                let nc = matches!(
                    t.get("not_collected").map(|v| v.get_ref()),
                    Some(DeValue::Boolean(true))
                );
                replaces_whole(path, nc)
            }
            _ => true,
        };
        if replace {
            locations.remove_subtree(path);
        }
        locations.keys.insert(path.clone(), (file, line));
        record_value(locations, file, lines, value.get_ref(), path);
        path.pop();
    }
}

fn record_value(
    locations: &mut Locations,
    file: usize,
    lines: &LineIndex,
    value: &DeValue<'_>,
    path: &mut Vec<String>,
) {
    match value {
        DeValue::Table(t) => record(locations, file, lines, t, path),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                locations
                    .keys
                    .insert(path.clone(), (file, lines.line(item.span().start)));
                record_value(locations, file, lines, item.get_ref(), path);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(dir: &Path, name: &str, text: &str) -> Layer {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        read_layer(&path).unwrap()
    }

    #[test]
    fn country_value_wins_and_points_into_country_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = layer(dir.path(), "d.toml", "[a]\nx = 1\ny = 2\n");
        let c = layer(dir.path(), "c.toml", "\n\n[a]\ny = 3\n");
        let (merged, loc) = merge_layers(&[d, c]);
        assert_eq!(merged["a"]["x"].as_integer(), Some(1));
        assert_eq!(merged["a"]["y"].as_integer(), Some(3));
        assert_eq!(
            loc.find(&["a", "y"]),
            Location {
                file: dir.path().join("c.toml"),
                line: 4
            }
        );
        assert_eq!(
            loc.find(&["a", "x"]),
            Location {
                file: dir.path().join("d.toml"),
                line: 2
            }
        );
    }

    #[test]
    fn codes_tables_replace_instead_of_merging() {
        let dir = tempfile::tempdir().unwrap();
        let d = layer(
            dir.path(),
            "d.toml",
            "[s]\ncodes = { \"1\" = \"yes\", \"2\" = \"no\" }\n",
        );
        let c = layer(
            dir.path(),
            "c.toml",
            "[s]\ncodes = { \"1\" = \"yes\", \"0\" = \"no\" }\n",
        );
        let (merged, loc) = merge_layers(&[d, c]);
        let codes = merged["s"]["codes"].as_table().unwrap();
        assert_eq!(codes.len(), 2);
        assert!(codes.get("2").is_none());
        assert!(!loc.contains(&["s", "codes", "2"]));
    }

    #[test]
    fn not_collected_column_replaces_default_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let d = layer(
            dir.path(),
            "d.toml",
            "[deliveries.t.columns]\nq = { scheme = \"yes_no\" }\n",
        );
        let c = layer(
            dir.path(),
            "c.toml",
            "[deliveries.t.columns]\nq = { not_collected = true }\n",
        );
        let (merged, loc) = merge_layers(&[d, c]);
        let q = merged["deliveries"]["t"]["columns"]["q"]
            .as_table()
            .unwrap();
        assert!(q.get("scheme").is_none());
        assert!(!loc.contains(&["deliveries", "t", "columns", "q", "scheme"]));
    }

    #[test]
    fn line_index_agrees_with_line_of() {
        let text = "a\nbb\n\nccc\n";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            assert_eq!(index.line(offset), line_of(text, offset), "offset {offset}");
        }
    }

    #[test]
    fn duplicate_keys_are_all_reported_with_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dup.toml");
        std::fs::write(&path, "a = 1\na = 2\n[t]\nb = 1\nb = 2\n").unwrap();
        let errs = read_layer(&path).err().unwrap();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].line, 2);
        assert_eq!(errs[1].line, 5);
    }

    /// A string of 20,000 invalid escapes gave one diagnostic per escape, each locating its line by scanning the
    /// text from the start: quadratic time and memory growing with the errors (a 10 MB string took over 11 GB).
    #[test]
    fn many_syntax_errors_are_capped_and_located_in_linear_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, format!("a = 1\nb = \"{}\"\n", "\\q".repeat(20_000))).unwrap();
        let start = std::time::Instant::now();
        let errs = read_layer(&path).err().unwrap();
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
        assert_eq!(errs.len(), limits::MAX_SYNTAX_ERRORS + 1, "{errs:?}");
        assert_eq!(errs[0].line, 2);
        assert!(
            errs[limits::MAX_SYNTAX_ERRORS]
                .message
                .contains("more syntax errors")
        );
    }

    #[test]
    fn oversized_files_lines_and_strings_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        std::fs::write(&big, format!("a = \"{}\"\n", "x".repeat(10_000_000))).unwrap();
        let errs = read_layer(&big).err().unwrap();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].file, big);
        assert!(
            errs[0].message.contains("above the limit"),
            "{}",
            errs[0].message
        );
        assert!(errs[0].to_string().len() < 400, "{}", errs[0]);

        let long = dir.path().join("long.toml");
        std::fs::write(&long, format!("a = 1\nb = \"{}\"\n", "x".repeat(100_000))).unwrap();
        let errs = read_layer(&long).err().unwrap();
        assert_eq!((errs.len(), errs[0].line), (1, 2), "{errs:?}");
        assert!(!errs[0].message.contains("xxx"));

        let multi = dir.path().join("multi.toml");
        let lines = vec!["y".repeat(1000); 100].join("\n");
        std::fs::write(&multi, format!("[t]\ns = \"\"\"\n{lines}\"\"\"\n")).unwrap();
        let errs = read_layer(&multi).err().unwrap();
        assert_eq!((errs.len(), errs[0].key.as_str()), (1, "t.s"), "{errs:?}");
        assert!(!errs[0].message.contains("yyy"));
    }
}
