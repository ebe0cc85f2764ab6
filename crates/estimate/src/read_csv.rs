//! Fast columnar CSV reader: parses only the requested columns into typed columns.
//!
//! Conventions (those of R's `read.csv` as used by the oracle): `NA` and empty fields are missing;
//! a column whose every non-missing field is a number is numeric, otherwise categorical; a code
//! with a leading zero (`007`) makes its column text, so such codes keep their digits.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use crate::error::EstimateError;
use crate::table::{Categorical, Column, MISSING_CODE, Table};

/// Reads `columns` (by header name, in the order given) from a CSV file with a header row.
pub fn read_csv(path: &Path, columns: &[String]) -> Result<Table, EstimateError> {
    let header = read_header(path)?;
    let indices = resolve_columns(path, &header, columns)?;
    let mut builders: Vec<ColumnBuilder> = indices.iter().map(|_| ColumnBuilder::new()).collect();
    let n_rows = scan(path, &indices, &mut builders, columns)?;
    let mut table = Table {
        n_rows,
        ..Table::default()
    };
    let reread: Vec<usize> = builders
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, ColumnBuilder::NeedsText))
        .map(|(i, _)| i)
        .collect();
    if !reread.is_empty() {
        let idx: Vec<usize> = reread.iter().map(|&i| indices[i]).collect();
        let mut text: Vec<ColumnBuilder> =
            reread.iter().map(|_| ColumnBuilder::new_text()).collect();
        let names: Vec<String> = reread.iter().map(|&i| columns[i].clone()).collect();
        scan(path, &idx, &mut text, &names)?;
        for (slot, builder) in reread.into_iter().zip(text) {
            builders[slot] = builder;
        }
    }
    for (name, builder) in columns.iter().zip(builders) {
        table.names.push(name.clone());
        table.columns.push(builder.finish(path, name)?);
    }
    Ok(table)
}

/// The header row of a CSV file.
pub fn read_header(path: &Path) -> Result<Vec<String>, EstimateError> {
    let mut reader = open(path)?;
    let header = reader.headers().map_err(|e| csv_error(path, &e))?;
    Ok(header.iter().map(str::to_string).collect())
}

fn open(path: &Path) -> Result<csv::Reader<File>, EstimateError> {
    let file = File::open(path).map_err(|source| EstimateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .buffer_capacity(1 << 20)
        .from_reader(file))
}

fn resolve_columns(
    path: &Path,
    header: &[String],
    columns: &[String],
) -> Result<Vec<usize>, EstimateError> {
    columns
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| EstimateError::ColumnNotFound {
                    path: path.to_path_buf(),
                    column: name.clone(),
                    flag: String::new(),
                    available: header.join(", "),
                })
        })
        .collect()
}

fn csv_error(path: &Path, err: &csv::Error) -> EstimateError {
    let line = err.position().map(|p| p.line()).unwrap_or(0);
    EstimateError::Csv {
        path: path.to_path_buf(),
        line,
        message: err.to_string(),
    }
}

/// One pass over the file, feeding field `indices[k]` of every record to `builders[k]`.
fn scan(
    path: &Path,
    indices: &[usize],
    builders: &mut [ColumnBuilder],
    names: &[String],
) -> Result<usize, EstimateError> {
    let mut reader = open(path)?;
    let mut record = csv::ByteRecord::new();
    let mut n_rows = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, &e)),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        for ((&idx, builder), name) in indices.iter().zip(builders.iter_mut()).zip(names) {
            let field = record.get(idx).unwrap_or(b"");
            builder
                .push(field, n_rows)
                .map_err(|()| EstimateError::InvalidUtf8 {
                    path: path.to_path_buf(),
                    line,
                    column: name.clone(),
                })?;
        }
        n_rows += 1;
    }
    Ok(n_rows)
}

/// Accumulates one column while the file is scanned.
enum ColumnBuilder {
    /// Every non-missing field so far was a number.
    Numeric(Vec<f64>),
    /// Dictionary-encoded text in first-seen order.
    Text {
        index: HashMap<Box<[u8]>, u32>,
        labels: Vec<String>,
        codes: Vec<u32>,
    },
    /// Numbers were seen before a text field: the column must be read again as text.
    NeedsText,
}

impl ColumnBuilder {
    fn new() -> Self {
        Self::Numeric(Vec::new())
    }

    fn new_text() -> Self {
        Self::Text {
            index: HashMap::new(),
            labels: Vec::new(),
            codes: Vec::new(),
        }
    }

    /// Adds one field; `Err(())` when text is not UTF-8.
    fn push(&mut self, field: &[u8], row: usize) -> Result<(), ()> {
        let field = trim_ascii(field);
        let missing = is_missing(field);
        match self {
            Self::Numeric(values) => {
                if missing {
                    values.push(f64::NAN);
                } else if let Some(x) = parse_number(field) {
                    values.push(x);
                } else if values.iter().all(|v| v.is_nan()) {
                    *self = Self::Text {
                        index: HashMap::new(),
                        labels: Vec::new(),
                        codes: vec![MISSING_CODE; row],
                    };
                    return self.push(field, row);
                } else {
                    *self = Self::NeedsText;
                }
            }
            Self::Text {
                index,
                labels,
                codes,
            } => {
                if missing {
                    codes.push(MISSING_CODE);
                } else if let Some(&code) = index.get(field) {
                    codes.push(code);
                } else {
                    let label = std::str::from_utf8(field).map_err(|_| ())?;
                    let code = labels.len() as u32;
                    labels.push(label.to_string());
                    index.insert(field.into(), code);
                    codes.push(code);
                }
            }
            Self::NeedsText => {}
        }
        Ok(())
    }

    fn finish(self, path: &Path, name: &str) -> Result<Column, EstimateError> {
        match self {
            Self::Numeric(values) => Ok(Column::Numeric(values)),
            Self::Text { labels, codes, .. } => Ok(Column::Categorical(
                Categorical::from_dictionary(codes, labels),
            )),
            Self::NeedsText => Err(EstimateError::Csv {
                path: path.to_path_buf(),
                line: 0,
                message: format!("column `{name}` could not be re-read as text"),
            }),
        }
    }
}

fn trim_ascii(field: &[u8]) -> &[u8] {
    field.trim_ascii()
}

fn is_missing(field: &[u8]) -> bool {
    field.is_empty() || field == b"NA"
}

/// Parses a number as R's `read.csv` would, except that codes with a leading zero stay text.
fn parse_number(field: &[u8]) -> Option<f64> {
    let digits = match field.first() {
        Some(b'+' | b'-') => &field[1..],
        _ => field,
    };
    if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
        return None;
    }
    fast_float2::parse::<f64, _>(field).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn types_missing_and_levels() {
        let f = write(
            "id,x,s,code,late\n1,2.5,\"M\",001,1\n2,NA,E,002,2\n3,,\"H\",010,x\n4,1e3,NA,011,3\n",
        );
        let t = read_csv(f.path(), &names(&["x", "s", "code", "late", "id"])).unwrap();
        assert_eq!(t.n_rows, 4);
        match t.column("x").unwrap() {
            Column::Numeric(v) => {
                assert_eq!(v[0], 2.5);
                assert!(v[1].is_nan() && v[2].is_nan());
                assert_eq!(v[3], 1000.0);
            }
            other => panic!("x not numeric: {other:?}"),
        }
        let s = t.column("s").unwrap().to_categorical();
        assert_eq!(s.levels, vec!["E", "H", "M"]);
        assert_eq!(s.codes, vec![2, 0, 1, MISSING_CODE]);
        let code = t.column("code").unwrap().to_categorical();
        assert_eq!(code.levels, vec!["001", "002", "010", "011"]);
        let late = t.column("late").unwrap().to_categorical();
        assert_eq!(late.levels, vec!["1", "2", "3", "x"]);
        assert_eq!(late.codes, vec![0, 1, 3, 2]);
        assert!(matches!(t.column("id"), Some(Column::Numeric(_))));
    }

    #[test]
    fn unknown_column_is_named() {
        let f = write("a,b\n1,2\n");
        let err = read_csv(f.path(), &names(&["zz"])).unwrap_err();
        assert!(err.to_string().contains("`zz`"), "{err}");
    }

    #[test]
    fn ragged_rows_error_with_line() {
        let f = write("a,b\n1,2\n3\n");
        let err = read_csv(f.path(), &names(&["a"])).unwrap_err();
        assert!(matches!(err, EstimateError::Csv { line: 3, .. }), "{err:?}");
    }

    #[test]
    fn zero_and_decimals_stay_numeric() {
        let f = write("a\n0\n0.5\n-0.25\n");
        let t = read_csv(f.path(), &names(&["a"])).unwrap();
        assert_eq!(t.column("a"), Some(&Column::Numeric(vec![0.0, 0.5, -0.25])));
    }
}
