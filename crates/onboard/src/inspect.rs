//! Reading a delivery folder for onboarding: which files it holds, how each is encoded (CSV sniffing), and a profile
//! of every variable (inferred type, value labels, distinct values). Values of likely direct identifiers and of
//! high-cardinality columns are never kept in a profile, so they cannot reach the generated config file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dh_config::Delivery;
use dh_config::country::{Encoding, Format, LineEnding};
use dh_ingest::{ColumnSelection, RawColumn, readers};

use crate::OnboardError;

/// At most this many distinct values are listed for a variable; a variable with more is described by its count.
pub const MAX_LISTED_VALUES: usize = 12;

/// Name words (lower case) that mark a likely direct identifier.
const IDENTIFIER_WORDS: &[&str] = &[
    "name",
    "phone",
    "mobile",
    "tel",
    "email",
    "address",
    "gps",
    "lat",
    "lon",
    "latitude",
    "longitude",
    "notes",
    "note",
    "comment",
    "comments",
    "text",
];

/// How to read one delivery file, as far as the file itself tells.
#[derive(Debug, Clone, PartialEq)]
pub struct FileLayout {
    pub format: Format,
    pub encoding: Encoding,
    pub delimiter: String,
    pub line_ending: LineEnding,
    pub sheet: Option<String>,
}

/// One variable of a delivery file.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableProfile {
    pub name: String,
    /// `integer`, `number`, `date`, `text` or `empty`.
    pub kind: &'static str,
    /// Code -> label, from SPSS/Stata value labels.
    pub value_labels: Vec<(String, String)>,
    /// Codes the file declares missing (SPSS user-missing, Stata extended missing).
    pub declared_missing: Vec<String>,
    /// Distinct non-empty values when there are at most [`MAX_LISTED_VALUES`] and the variable is not a likely
    /// identifier; otherwise empty.
    pub values: Vec<String>,
    pub distinct: usize,
    pub has_empty: bool,
    pub likely_identifier: bool,
}

/// One delivery file with its variables.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectedFile {
    pub file_name: String,
    pub layout: FileLayout,
    pub rows: usize,
    pub variables: Vec<VariableProfile>,
}

/// Lower-case letters and digits only: `Q01_Net-Freq` -> `q01netfreq`.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The format a file name implies, or `None` for files that are not deliveries.
pub fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Some(Format::Csv),
        "sav" => Some(Format::Sav),
        "dta" => Some(Format::Dta),
        "xlsx" => Some(Format::Xlsx),
        _ => None,
    }
}

/// Every delivery file of `dir` (supported extensions), sorted by name.
pub fn delivery_files(dir: &Path) -> Result<Vec<PathBuf>, OnboardError> {
    let io = |source| OnboardError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() && format_of(&path).is_some() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Encoding, delimiter and line ending of a CSV file, from its bytes.
pub fn sniff_csv(bytes: &[u8]) -> (Encoding, String, LineEnding) {
    let encoding = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Encoding::UTF8_BOM
    } else if std::str::from_utf8(bytes).is_ok() {
        Encoding::UTF8
    } else {
        Encoding::WINDOWS_1252
    };
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let line_ending = if first_line.ends_with(b"\r") {
        LineEnding::Crlf
    } else {
        LineEnding::Lf
    };
    let delimiter = [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| (first_line.iter().filter(|b| *b == d).count(), *d == b','))
        .unwrap_or(b',');
    (encoding, (delimiter as char).to_string(), line_ending)
}

/// Reads one delivery file (every column) and profiles its variables. `sheet` is the worksheet to try first for
/// an `.xlsx` file (the defaults' sheet); when the file lacks it, the first sheet is read.
pub fn inspect_file(path: &Path, sheet: Option<&str>) -> Result<InspectedFile, OnboardError> {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| OnboardError::FileName {
            path: path.to_path_buf(),
        })?
        .to_string();
    let format = format_of(path).ok_or_else(|| OnboardError::FileName {
        path: path.to_path_buf(),
    })?;
    let mut layout = FileLayout {
        format,
        encoding: Encoding::UTF8,
        delimiter: ",".into(),
        line_ending: LineEnding::Lf,
        sheet: None,
    };
    if format == Format::Csv {
        let bytes = std::fs::read(path).map_err(|source| OnboardError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        (layout.encoding, layout.delimiter, layout.line_ending) = sniff_csv(&bytes);
    }
    let read = |layout: &FileLayout| {
        let delivery = Delivery {
            encoding: layout.encoding,
            delimiter: layout.delimiter.clone(),
            line_ending: layout.line_ending,
            sheet: layout.sheet.clone(),
            ..Delivery::new(file_name.clone(), layout.format)
        };
        readers::reader_for(layout.format, path)?.read(
            path,
            &delivery,
            &ColumnSelection::every_column(),
        )
    };
    let table = match sheet.filter(|_| format == Format::Xlsx) {
        Some(s) => {
            layout.sheet = Some(s.to_string());
            match read(&layout) {
                Ok(t) => t,
                Err(_) => {
                    layout.sheet = None;
                    read(&layout)?
                }
            }
        }
        None => read(&layout)?,
    };
    Ok(InspectedFile {
        file_name,
        layout,
        rows: table.num_rows(),
        variables: table.columns.iter().map(profile).collect(),
    })
}

/// True when a variable name looks like a direct identifier (name, phone, GPS, free-text notes).
pub fn looks_like_identifier(name: &str) -> bool {
    words(name).any(|w| IDENTIFIER_WORDS.contains(&w.as_str()))
}

/// The words of a variable name, lower case: `RESP_NAME` -> `resp`, `name`; `victimName` -> `victim`, `name`.
fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            out.push(std::mem::take(&mut current));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase();
        current.extend(c.to_lowercase());
    }
    out.push(current);
    out.into_iter().filter(|w| !w.is_empty())
}

fn profile(column: &RawColumn) -> VariableProfile {
    let likely_identifier = looks_like_identifier(&column.name);
    let mut distinct: BTreeSet<&str> = BTreeSet::new();
    let mut has_empty = false;
    for v in column.iter() {
        if v.is_empty() {
            has_empty = true;
        } else {
            distinct.insert(v);
        }
    }
    let kind = infer_kind(distinct.iter().copied());
    let values = if likely_identifier || distinct.len() > MAX_LISTED_VALUES {
        Vec::new()
    } else {
        let mut v: Vec<String> = distinct.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| numeric_order(a, b));
        v
    };
    VariableProfile {
        name: column.name.clone(),
        kind,
        value_labels: column.labels.value_labels.clone(),
        declared_missing: column.labels.missing_codes.clone(),
        values,
        distinct: distinct.len(),
        has_empty,
        likely_identifier,
    }
}

/// Orders numbers numerically and puts them before text.
fn numeric_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

fn infer_kind<'a>(values: impl Iterator<Item = &'a str>) -> &'static str {
    let mut kind = "empty";
    for v in values {
        let this = if v.parse::<i64>().is_ok() {
            "integer"
        } else if v.parse::<f64>().is_ok() {
            "number"
        } else if is_iso_date(v) {
            "date"
        } else {
            return "text";
        };
        kind = match (kind, this) {
            ("empty", t) => t,
            (k, t) if k == t => k,
            ("integer", "number") | ("number", "integer") => "number",
            _ => return "text",
        };
    }
    kind
}

fn is_iso_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_semicolon_crlf_latin1() {
        let (e, d, l) = sniff_csv(b"ID;NOM\r\n1;Jos\xE9\r\n");
        assert_eq!(
            (e, d.as_str(), l),
            (Encoding::WINDOWS_1252, ";", LineEnding::Crlf)
        );
        let (e, d, l) = sniff_csv(b"\xEF\xBB\xBFA,B\n1,2\n");
        assert_eq!(
            (e, d.as_str(), l),
            (Encoding::UTF8_BOM, ",", LineEnding::Lf)
        );
    }

    #[test]
    fn kinds_and_identifiers() {
        assert_eq!(infer_kind(["1", "2"].into_iter()), "integer");
        assert_eq!(infer_kind(["1", "2.5"].into_iter()), "number");
        assert_eq!(infer_kind(["2021-01-02"].into_iter()), "date");
        assert_eq!(infer_kind(["1", "x"].into_iter()), "text");
        assert!(looks_like_identifier("RESP_NAME"));
        assert!(looks_like_identifier("GPS_LAT"));
        assert!(looks_like_identifier("Victim name"));
        assert!(!looks_like_identifier("Q02_OFFER_IMG"));
        assert!(!looks_like_identifier("REGION"));
        assert!(!looks_like_identifier("Q05_OFFER_IMG_PLAT"));
        assert!(looks_like_identifier("victimName"));
        assert!(looks_like_identifier("coded_text"));
    }

    #[test]
    fn profile_withholds_identifier_values() {
        let col = RawColumn::from_cells("RESP_PHONE", &["0812", "0813", ""]).unwrap();
        let p = profile(&col);
        assert!(p.likely_identifier && p.values.is_empty() && p.has_empty);
        assert_eq!(p.distinct, 2);
        let col = RawColumn::from_cells("Q1", &["2", "10", "1"]).unwrap();
        assert_eq!(profile(&col).values, vec!["1", "2", "10"]);
    }
}
