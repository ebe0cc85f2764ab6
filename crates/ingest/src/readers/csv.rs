//! CSV deliveries: any one-byte delimiter, `"` quoting (fields may hold delimiters, quotes and newlines), LF or CRLF
//! line endings, in the delivery's `encoding` (any WHATWG label: UTF-8 with or without byte-order mark, Latin-1,
//! windows-1256, gb18030, shift_jis, UTF-16, ...; see [`crate::encoding`]). The whole file is decoded to UTF-8 first,
//! then parsed with `csv::ByteRecord` so that only kept cells are copied.
//!
//! **Layout.** Rows are counted as records: a blank line is not a record, and a record whose quoted field holds a
//! newline is one record. `header_row` is the 1-based record holding the variable names (default 1, the first
//! non-blank line; set it to skip a cover text above the table); `skip_rows` records right after the header are not
//! data (e.g. a second header row of labels). Records above the header and skipped records are not records of the
//! table: never stored, never counted. [`crate::RawTable::row_numbers`] holds each data record's 1-based index
//! (counted from the first record after the skipped ones), as for every format; errors name the physical line.

use std::path::Path;

use dh_config::Delivery;

use crate::encoding::decode;
use crate::error::IngestError;
use crate::readers::DeliveryReader;
use crate::table::{ColumnSelection, RawTable, RawTableBuilder};

pub struct CsvReader;

impl DeliveryReader for CsvReader {
    fn format_label(&self) -> &'static str {
        "CSV"
    }

    fn read(
        &self,
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
    ) -> Result<RawTable, IngestError> {
        let delimiter = delimiter_byte(path, &delivery.delimiter)?;
        let bytes = crate::source::read_regular(path)?;
        let text = decode(path, &bytes, delivery.encoding)?;
        check_record_lengths(path, text.as_bytes(), delimiter, MAX_RECORD_BYTES)?;
        let layout = Layout {
            header_row: delivery.header_row,
            skip_rows: delivery.skip_rows,
        };
        parse_layout(path, text.as_bytes(), delimiter, keep, layout)
    }
}

/// Longest record (all its fields, in bytes of UTF-8) read; a longer one is an error naming its line, so that a
/// single huge field (a file whose line breaks are not recognised, a 1 GB cell) is refused before the parser's
/// buffers and the column text are sized by it.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// [`IngestError::Csv`] naming the line where the first record longer than `max` bytes starts. Records are found as
/// the parser finds them: a quote opens a quoted field only at the start of a field, `""` inside it is a quote, and a
/// line break inside a quoted field does not end the record.
pub fn check_record_lengths(
    path: &Path,
    text: &[u8],
    delimiter: u8,
    max: usize,
) -> Result<(), IngestError> {
    let mut start = 0usize;
    let mut line = 1u64;
    let mut start_line = 1u64;
    let mut field_start = true;
    let mut quoted = false;
    let mut i = 0usize;
    while i < text.len() {
        let b = text[i];
        if quoted {
            if b == b'"' {
                if text.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            } else if b == b'\n' {
                line += 1;
            }
        } else if b == b'"' && field_start {
            quoted = true;
            field_start = false;
        } else if b == delimiter {
            field_start = true;
        } else if b == b'\n' || b == b'\r' {
            if b == b'\n' {
                line += 1;
            }
            start = i + 1;
            start_line = line;
            field_start = true;
        } else {
            field_start = false;
        }
        if i + 1 - start > max {
            return Err(IngestError::Csv {
                file: path.to_path_buf(),
                line: start_line,
                message: format!(
                    "the record starting on this line is longer than {max} bytes (a line break the parser does not \
                     recognise, an unclosed quote, or a huge cell); check the file's line breaks and quoting"
                ),
            });
        }
        i += 1;
    }
    Ok(())
}

/// The configured delimiter as one byte. `\t` may also be written as `tab` or the two characters `\t`.
pub fn delimiter_byte(path: &Path, delimiter: &str) -> Result<u8, IngestError> {
    match delimiter {
        "tab" | "\\t" => return Ok(b'\t'),
        _ => {}
    }
    match delimiter.as_bytes() {
        [b] if *b != b'"' && *b != b'\n' && *b != b'\r' => Ok(*b),
        _ => Err(IngestError::BadDelimiter {
            file: path.to_path_buf(),
            delimiter: delimiter.to_string(),
        }),
    }
}

/// Where the table starts (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// 1-based record holding the variable names (0 is read as 1).
    pub header_row: u32,
    /// Records right after the header that are not data.
    pub skip_rows: u32,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            header_row: 1,
            skip_rows: 0,
        }
    }
}

/// Parses decoded UTF-8 CSV text whose first record is the header.
pub fn parse(
    path: &Path,
    text: &[u8],
    delimiter: u8,
    keep: &ColumnSelection,
) -> Result<RawTable, IngestError> {
    parse_layout(path, text, delimiter, keep, Layout::default())
}

/// Parses decoded UTF-8 CSV text with the header at `layout.header_row`.
pub fn parse_layout(
    path: &Path,
    text: &[u8],
    delimiter: u8,
    keep: &ColumnSelection,
    layout: Layout,
) -> Result<RawTable, IngestError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut record = ::csv::ByteRecord::new();
    let csv_error = |e: ::csv::Error, line: u64| IngestError::Csv {
        file: path.to_path_buf(),
        line: e.position().map(|p| p.line()).unwrap_or(line),
        message: e.to_string(),
    };
    let header_row = layout.header_row.max(1);
    for n in 1..=header_row {
        if !reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(e, 1))?
        {
            return Err(if n == 1 {
                IngestError::Empty {
                    file: path.to_path_buf(),
                }
            } else {
                IngestError::HeaderRow {
                    file: path.to_path_buf(),
                    header_row: layout.header_row,
                    problem: format!(
                        "the file has only {} records (blank lines are not records)",
                        n - 1
                    ),
                }
            });
        }
    }
    let header_line = record.position().map_or(1, |p| p.line());
    let header = record
        .iter()
        .enumerate()
        .map(|(i, h)| {
            std::str::from_utf8(h)
                .map(str::to_string)
                .map_err(|_| IngestError::Csv {
                    file: path.to_path_buf(),
                    line: header_line,
                    message: format!("header field {} is not valid UTF-8", i + 1),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut builder = RawTableBuilder::new(path, header, keep)?;
    for _ in 0..layout.skip_rows {
        let line = record.position().map_or(0, |p| p.line());
        if !reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(e, line))?
        {
            break;
        }
    }
    let mut row_number = 0u64;
    loop {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, line)),
        }
        row_number += 1;
        builder.push_row(row_number, record.len(), |i| record.get(i))?;
    }
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::RowIssueKind;

    fn keep(names: &[&str]) -> ColumnSelection {
        ColumnSelection::all(names.iter().copied())
    }

    fn cells(t: &RawTable, col: &str) -> Vec<String> {
        t.column(col).unwrap().iter().map(str::to_string).collect()
    }

    #[test]
    fn semicolon_delimiter_crlf_and_quoted_fields() {
        let text = b"id;note;q1\r\n1;\"Smith, J; \"\"Jo\"\"\nline two\";2\r\n2;plain;1\r\n";
        let t = parse(Path::new("f.csv"), text, b';', &keep(&["id", "q1"])).unwrap();
        assert_eq!(cells(&t, "id"), vec!["1", "2"]);
        assert_eq!(cells(&t, "q1"), vec!["2", "1"]);
        assert_eq!(t.dropped_columns, vec!["note"]);
        assert!(t.row_issues.is_empty());
        assert_eq!(t.row_numbers, vec![1, 2]);
    }

    #[test]
    fn quoted_kept_field_keeps_commas_and_newlines() {
        let text = b"id,q\n1,\"a,b\nc\"\n";
        let t = parse(Path::new("f.csv"), text, b',', &keep(&["id", "q"])).unwrap();
        assert_eq!(cells(&t, "q"), vec!["a,b\nc"]);
    }

    #[test]
    fn tab_and_pipe_delimiters() {
        assert_eq!(delimiter_byte(Path::new("f"), "\t").unwrap(), b'\t');
        assert_eq!(delimiter_byte(Path::new("f"), "tab").unwrap(), b'\t');
        assert_eq!(delimiter_byte(Path::new("f"), "|").unwrap(), b'|');
        assert!(delimiter_byte(Path::new("f"), ";;").is_err());
        assert!(delimiter_byte(Path::new("f"), "").is_err());
        assert!(delimiter_byte(Path::new("f"), "é").is_err());
        let t = parse(Path::new("f.tsv"), b"a\tb\n1\t2\n", b'\t', &keep(&["b"])).unwrap();
        assert_eq!(cells(&t, "b"), vec!["2"]);
    }

    #[test]
    fn ragged_rows_are_kept_and_flagged() {
        let text = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n";
        let t = parse(Path::new("f.csv"), text, b',', &keep(&["a", "c"])).unwrap();
        assert_eq!(t.num_rows(), 3);
        assert_eq!(cells(&t, "c"), vec!["3", "", "8"]);
        let kinds: Vec<_> = t
            .row_issues
            .iter()
            .map(|i| (i.row, i.kind.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (
                    1,
                    RowIssueKind::Ragged {
                        expected: 3,
                        found: 2
                    }
                ),
                (
                    2,
                    RowIssueKind::Ragged {
                        expected: 3,
                        found: 4
                    }
                )
            ]
        );
    }

    #[test]
    fn empty_file_header_only_and_missing_final_newline() {
        assert!(matches!(
            parse(Path::new("f"), b"", b',', &keep(&[])),
            Err(IngestError::Empty { .. })
        ));
        let t = parse(Path::new("f"), b"a,b\n", b',', &keep(&["a"])).unwrap();
        assert_eq!(t.num_rows(), 0);
        let t = parse(Path::new("f"), b"a,b\n1,2", b',', &keep(&["b"])).unwrap();
        assert_eq!(cells(&t, "b"), vec!["2"]);
    }

    #[test]
    fn header_names_are_trimmed() {
        let t = parse(
            Path::new("f"),
            b" a , b\r\n1,2\r\n",
            b',',
            &keep(&["a", "b"]),
        )
        .unwrap();
        assert_eq!(t.column_names().collect::<Vec<_>>(), vec!["a", "b"]);
    }

    fn layout(header_row: u32, skip_rows: u32) -> Layout {
        Layout {
            header_row,
            skip_rows,
        }
    }

    #[test]
    fn header_row_and_skip_rows_count_records() {
        // A cover text, a blank line (not a record), the header, a label row, data.
        let text = b"Child survey, \"wave 1\"\n\nid,q1\nRespondent,\"Question\none\"\n1,3\n\n2,4\n";
        let t = parse_layout(
            Path::new("f"),
            text,
            b',',
            &keep(&["id", "q1"]),
            layout(2, 1),
        )
        .unwrap();
        assert_eq!(cells(&t, "id"), vec!["1", "2"]);
        assert_eq!(cells(&t, "q1"), vec!["3", "4"]);
        assert_eq!(t.row_numbers, vec![1, 2]);
        assert!(t.row_issues.is_empty());
        // Without skip_rows the label row (one record over two lines) is data.
        let t = parse_layout(Path::new("f"), text, b',', &keep(&["id"]), layout(2, 0)).unwrap();
        assert_eq!(cells(&t, "id"), vec!["Respondent", "1", "2"]);
        // Skipping more records than there are leaves a header-only table.
        let t = parse_layout(Path::new("f"), text, b',', &keep(&["id"]), layout(2, 9)).unwrap();
        assert_eq!(t.num_rows(), 0);
        // The default header is the first record: the cover text.
        let err =
            parse_layout(Path::new("f"), text, b',', &keep(&["id"]), layout(1, 0)).unwrap_err();
        assert!(matches!(err, IngestError::MissingColumn { .. }), "{err}");
    }

    #[test]
    fn records_longer_than_the_cap_are_refused_naming_their_line() {
        let p = Path::new("f.csv");
        let text = b"id,note\n1,\"a,\"\"b\"\"\nc\"\n2,xxxxxxxxxxxxxxxxxxxx\n3,y\n";
        assert!(check_record_lengths(p, text, b',', 25).is_ok());
        let err = check_record_lengths(p, text, b',', 20).unwrap_err();
        assert!(
            matches!(err, IngestError::Csv { line: 4, .. }) && !err.to_string().contains("xxx"),
            "{err}"
        );
        // A quote inside an unquoted field is a character, not the start of a quoted field.
        assert!(check_record_lengths(p, b"a,5\" screen\nb,c\n", b',', 12).is_ok());
        // No recognised line break: the whole file is one record.
        let one = "id,name\x1e1,Jo\x1e".repeat(100);
        let err = check_record_lengths(p, one.as_bytes(), b',', 1000).unwrap_err();
        assert!(matches!(err, IngestError::Csv { line: 1, .. }), "{err}");
    }

    #[test]
    fn header_row_past_the_end_names_the_file() {
        let err = parse_layout(
            Path::new("dir/f.csv"),
            b"a\n1\n\n",
            b',',
            &keep(&[]),
            layout(5, 0),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, IngestError::HeaderRow { header_row: 5, .. })
                && text.contains("dir/f.csv")
                && text.contains("only 2 records"),
            "{text}"
        );
    }
}
