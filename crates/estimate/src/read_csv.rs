//! Fast columnar CSV reader: parses only the requested columns into typed columns.
//!
//! Conventions (those of R's `read.csv` as used by the oracle): `NA` and empty fields are missing;
//! a column whose every non-missing field is a number is numeric, otherwise categorical; a code
//! with a leading zero (`007`) makes its column text, so such codes keep their digits.
//!
//! The body is read in blocks that end at a line break and parsed on all cores, then merged in
//! file order, so the result does not depend on the thread count. A line break is only a safe
//! block end when no quote can be open, so from the first block holding a `"` on, the rest of the
//! file is parsed sequentially.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rayon::prelude::*;

use crate::column_builder::ColumnBuilder;
use crate::error::EstimateError;
use crate::table::Table;

/// Bytes per parallel block.
const BLOCK_BYTES: usize = 4 << 20;

/// Reads `columns` (by header name, in the order given) from a CSV file with a header row.
pub fn read_csv(path: &Path, columns: &[String]) -> Result<Table, EstimateError> {
    let (header, body_start) = header_and_body_start(path)?;
    let indices = resolve_columns(path, &header, columns)?;
    let layout = Layout {
        path,
        n_fields: header.len(),
        indices: &indices,
        names: columns,
    };
    let (mut builders, n_rows) = scan_body(&layout, body_start, ColumnBuilder::numeric)?;
    let reread: Vec<usize> = builders
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, ColumnBuilder::NeedsText))
        .map(|(i, _)| i)
        .collect();
    if !reread.is_empty() {
        let idx: Vec<usize> = reread.iter().map(|&i| indices[i]).collect();
        let names: Vec<String> = reread.iter().map(|&i| columns[i].clone()).collect();
        let text_layout = Layout {
            indices: &idx,
            names: &names,
            ..layout
        };
        let (text, _) = scan_body(&text_layout, body_start, ColumnBuilder::text)?;
        for (slot, builder) in reread.into_iter().zip(text) {
            builders[slot] = builder;
        }
    }
    let mut table = Table {
        n_rows,
        ..Table::default()
    };
    for (name, builder) in columns.iter().zip(builders) {
        let column = builder.finish().ok_or_else(|| EstimateError::Csv {
            path: path.to_path_buf(),
            line: 0,
            message: format!("column `{name}` could not be read as text"),
        })?;
        table.names.push(name.clone());
        table.columns.push(column);
    }
    Ok(table)
}

/// The header row of a CSV file.
pub fn read_header(path: &Path) -> Result<Vec<String>, EstimateError> {
    Ok(header_and_body_start(path)?.0)
}

fn open(path: &Path) -> Result<File, EstimateError> {
    crate::open_data_file(path)
}

fn io_error(path: &Path, source: std::io::Error) -> EstimateError {
    EstimateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The header fields and the byte offset where the first record starts.
fn header_and_body_start(path: &Path) -> Result<(Vec<String>, u64), EstimateError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(open(path)?);
    let mut record = csv::StringRecord::new();
    let found = reader
        .read_record(&mut record)
        .map_err(|e| csv_error(path, 0, &e))?;
    if !found {
        return Err(EstimateError::Csv {
            path: path.to_path_buf(),
            line: 1,
            message: "the file is empty: a header row is required".to_string(),
        });
    }
    let header = record
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string());
    Ok((header.collect(), reader.position().byte()))
}

fn resolve_columns(
    path: &Path,
    header: &[String],
    columns: &[String],
) -> Result<Vec<usize>, EstimateError> {
    columns
        .iter()
        .map(|name| {
            let mut at = header
                .iter()
                .enumerate()
                .filter(|(_, h)| *h == name)
                .map(|(i, _)| i);
            match (at.next(), at.next()) {
                (Some(i), None) => Ok(i),
                (Some(first), Some(second)) => Err(EstimateError::Csv {
                    path: path.to_path_buf(),
                    line: 1,
                    message: format!(
                        "column `{name}` appears more than once in the header (fields {} and {}); \
                         rename one so that it is clear which to read",
                        first + 1,
                        second + 1
                    ),
                }),
                (None, _) => Err(EstimateError::ColumnNotFound {
                    path: path.to_path_buf(),
                    column: name.clone(),
                    flag: String::new(),
                    available: header.join(", "),
                }),
            }
        })
        .collect()
}

/// `err` at a line counted from the start of a block that begins at line `first_line`.
fn csv_error(path: &Path, first_line: u64, err: &csv::Error) -> EstimateError {
    let line = err.position().map(|p| p.line()).unwrap_or(1);
    EstimateError::Csv {
        path: path.to_path_buf(),
        line: first_line + line.saturating_sub(1),
        message: err.to_string(),
    }
}

/// Where the wanted fields are.
#[derive(Clone, Copy)]
struct Layout<'a> {
    path: &'a Path,
    n_fields: usize,
    indices: &'a [usize],
    names: &'a [String],
}

/// Parses CSV records from `input` (its first line is file line `first_line`) into fresh builders.
fn parse_records<R: Read>(
    layout: &Layout<'_>,
    input: R,
    first_line: u64,
    new_builder: fn() -> ColumnBuilder,
) -> Result<(Vec<ColumnBuilder>, usize), EstimateError> {
    let mut builders: Vec<ColumnBuilder> = layout.indices.iter().map(|_| new_builder()).collect();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut rows = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(layout.path, first_line, &e)),
        }
        let line = || first_line + record.position().map_or(1, |p| p.line()) - 1;
        if record.len() != layout.n_fields {
            return Err(EstimateError::Csv {
                path: layout.path.to_path_buf(),
                line: line(),
                message: format!(
                    "{} fields, but the header has {}",
                    record.len(),
                    layout.n_fields
                ),
            });
        }
        for ((&idx, builder), name) in layout.indices.iter().zip(&mut builders).zip(layout.names) {
            let field = record.get(idx).unwrap_or(b"");
            builder
                .push(field, rows)
                .map_err(|_| EstimateError::InvalidUtf8 {
                    path: layout.path.to_path_buf(),
                    line: line(),
                    column: name.clone(),
                })?;
        }
        rows += 1;
    }
    Ok((builders, rows))
}

/// Parses a block without quotes or carriage returns: records end at `\n`, fields at `,`, empty
/// lines are skipped (the same records the `csv` crate reads from such text, found faster).
fn parse_plain_block(
    layout: &Layout<'_>,
    block: &[u8],
    first_line: u64,
    new_builder: fn() -> ColumnBuilder,
) -> Result<(Vec<ColumnBuilder>, usize), EstimateError> {
    let mut builders: Vec<ColumnBuilder> = layout.indices.iter().map(|_| new_builder()).collect();
    let mut bounds: Vec<(usize, usize)> = Vec::with_capacity(layout.n_fields + 1);
    let mut rows = 0usize;
    let mut record_start = 0usize;
    let mut line = first_line;
    let ends = memchr::memchr_iter(b'\n', block).chain(std::iter::once(block.len()));
    for end in ends {
        let record = &block[record_start.min(end)..end];
        let this_start = record_start;
        record_start = end + 1;
        line += 1;
        if record.is_empty() {
            continue;
        }
        let line = line - 1;
        let record_start = this_start;
        bounds.clear();
        let mut field_start = 0usize;
        for i in memchr::memchr_iter(b',', record) {
            bounds.push((field_start, i));
            field_start = i + 1;
        }
        bounds.push((field_start, record.len()));
        if bounds.len() != layout.n_fields {
            return Err(EstimateError::Csv {
                path: layout.path.to_path_buf(),
                line,
                message: format!(
                    "{} fields, but the header has {} (record at byte {record_start} of its block)",
                    bounds.len(),
                    layout.n_fields
                ),
            });
        }
        for ((&idx, builder), name) in layout.indices.iter().zip(&mut builders).zip(layout.names) {
            let (a, b) = bounds[idx];
            builder
                .push(&record[a..b], rows)
                .map_err(|_| EstimateError::InvalidUtf8 {
                    path: layout.path.to_path_buf(),
                    line,
                    column: name.clone(),
                })?;
        }
        rows += 1;
    }
    Ok((builders, rows))
}

/// Appends the builders of a later part of the file.
fn merge(into: &mut Option<(Vec<ColumnBuilder>, usize)>, part: (Vec<ColumnBuilder>, usize)) {
    match into {
        None => *into = Some(part),
        Some((builders, rows)) => {
            for (b, next) in builders.iter_mut().zip(part.0) {
                b.append(next, *rows);
            }
            *rows += part.1;
        }
    }
}

/// Reads the body from `body_start`: quote-free blocks in parallel, the rest sequentially.
fn scan_body(
    layout: &Layout<'_>,
    body_start: u64,
    new_builder: fn() -> ColumnBuilder,
) -> Result<(Vec<ColumnBuilder>, usize), EstimateError> {
    let path = layout.path;
    let mut file = open(path)?;
    file.seek(SeekFrom::Start(body_start))
        .map_err(|e| io_error(path, e))?;
    let threads = rayon::current_num_threads().max(1);
    let mut result: Option<(Vec<ColumnBuilder>, usize)> = None;
    let mut pending: Vec<u8> = Vec::new();
    let mut line = 2u64;
    let mut eof = false;
    let mut quoted = false;
    while !eof && !quoted {
        let mut batch: Vec<(Vec<u8>, u64)> = Vec::with_capacity(threads);
        while batch.len() < threads && !eof {
            let filled = pending.len();
            pending.resize(filled + BLOCK_BYTES, 0);
            let got =
                read_full(&mut file, &mut pending[filled..]).map_err(|e| io_error(path, e))?;
            pending.truncate(filled + got);
            eof = got == 0;
            if memchr::memchr(b'"', &pending).is_some() {
                quoted = true;
                break;
            }
            let end = if eof {
                pending.len()
            } else {
                match memchr::memrchr(b'\n', &pending) {
                    Some(i) => i + 1,
                    None => continue,
                }
            };
            let rest = pending.split_off(end);
            let lines = memchr::memchr_iter(b'\n', &pending).count() as u64;
            batch.push((std::mem::replace(&mut pending, rest), line));
            line += lines;
        }
        let parts: Vec<Result<_, EstimateError>> = batch
            .par_iter()
            .map(|(block, first_line)| {
                if memchr::memchr(b'\r', block).is_some() {
                    parse_records(layout, block.as_slice(), *first_line, new_builder)
                } else {
                    parse_plain_block(layout, block, *first_line, new_builder)
                }
            })
            .collect();
        for part in parts {
            merge(&mut result, part?);
        }
    }
    if quoted {
        let rest = std::io::Cursor::new(pending).chain(file);
        merge(&mut result, parse_records(layout, rest, line, new_builder)?);
    }
    Ok(result.unwrap_or_else(|| (layout.indices.iter().map(|_| new_builder()).collect(), 0)))
}

/// Reads until `buf` is full or the file ends; the number of bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut total = 0;
    while total < buf.len() {
        match file.read(&mut buf[total..]) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Column, MISSING_CODE};
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
    fn a_column_named_twice_in_the_header_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rep.csv");
        std::fs::write(&path, "r1,r1,r2\n1,2,3\n").unwrap();
        let err = read_csv(&path, &["r1".to_string(), "r2".to_string()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`r1` appears more than once"), "{err}");
        assert!(read_csv(&path, &["r2".to_string()]).is_ok());
    }

    #[test]
    fn ragged_rows_error_with_line() {
        let f = write("a,b\n1,2\n3\n");
        let err = read_csv(f.path(), &names(&["a"])).unwrap_err();
        assert!(matches!(err, EstimateError::Csv { line: 3, .. }), "{err:?}");
        let f = write("a,b\n\"1\",2\n3,4\n5\n");
        let err = read_csv(f.path(), &names(&["a"])).unwrap_err();
        assert!(matches!(err, EstimateError::Csv { line: 4, .. }), "{err:?}");
    }

    #[test]
    fn zero_and_decimals_stay_numeric() {
        let f = write("a\n0\n0.5\n-0.25\n");
        let t = read_csv(f.path(), &names(&["a"])).unwrap();
        assert_eq!(t.column("a"), Some(&Column::Numeric(vec![0.0, 0.5, -0.25])));
    }

    #[test]
    fn plain_blocks_read_like_the_csv_crate() {
        let text = "a,b,c\n1,x,3\n\n4,,NA\n7,y,9";
        let fast = read_csv(write(text).path(), &names(&["c", "b", "a"])).unwrap();
        let crlf = read_csv(
            write(&text.replace('\n', "\r\n")).path(),
            &names(&["c", "b", "a"]),
        )
        .unwrap();
        assert_eq!(format!("{fast:?}"), format!("{crlf:?}"));
        assert_eq!(fast.n_rows, 3);
        assert_eq!(
            fast.column("b").unwrap().to_categorical().levels,
            vec!["x", "y"]
        );
        let err = read_csv(write("a,b\n1,2\n\n3,4,5\n").path(), &names(&["a"])).unwrap_err();
        assert!(matches!(err, EstimateError::Csv { line: 4, .. }), "{err:?}");
    }

    #[test]
    fn empty_body_and_missing_final_newline() {
        let t = read_csv(write("a,b\n").path(), &names(&["b"])).unwrap();
        assert_eq!(t.n_rows, 0);
        let t = read_csv(write("a,b\n1,2\n3,4").path(), &names(&["b"])).unwrap();
        assert_eq!(t.column("b"), Some(&Column::Numeric(vec![2.0, 4.0])));
        let e = read_csv(write("").path(), &names(&["b"])).unwrap_err();
        assert!(
            e.to_string()
                .contains("the file is empty: a header row is required"),
            "{e}"
        );
    }

    /// Many blocks (parallel), then a quoted field with a line break (sequential from there on):
    /// the same columns as a plain sequential parse.
    #[test]
    fn block_parallel_read_equals_sequential_parse() {
        let mut text = String::from("k,v,s\n");
        let rows = 400_000;
        for i in 0..rows {
            let s = if i % 3 == 0 {
                "NA".to_string()
            } else {
                format!("L{}", i % 7)
            };
            text.push_str(&format!("{i},{}.25,{s}\n", i % 1000));
        }
        text.push_str("400000,1.5,\"multi\nline\"\n400001,NA,L1\n");
        let f = write(&text);
        let t = read_csv(f.path(), &names(&["s", "v", "k"])).unwrap();
        assert_eq!(t.n_rows, rows + 2);
        let s = t.column("s").unwrap().to_categorical();
        assert_eq!(s.levels.len(), 8);
        assert_eq!(s.label(1), Some("L1"));
        assert_eq!(s.label(0), None);
        assert_eq!(s.label(rows), Some("multi\nline"));
        match t.column("k").unwrap() {
            Column::Numeric(v) => assert!(v.iter().enumerate().all(|(i, &x)| x == i as f64)),
            other => panic!("{other:?}"),
        }
        match t.column("v").unwrap() {
            Column::Numeric(v) => {
                assert_eq!(v[123_456], 456.25);
                assert!(v[rows + 1].is_nan());
            }
            other => panic!("{other:?}"),
        }
        let bad = format!("{}x,1,2,3\n", &text[..text.len() - 1]);
        let err = read_csv(write(&bad).path(), &names(&["k"])).unwrap_err();
        assert!(
            matches!(err, EstimateError::Csv { line, .. } if line == rows as u64 + 4),
            "{err:?}"
        );
    }
}
