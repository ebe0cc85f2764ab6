//! CSV deliveries: any one-byte delimiter, `"` quoting (fields may hold delimiters, quotes and newlines), LF or CRLF
//! line endings, in the delivery's `encoding` (any WHATWG label: UTF-8 with or without byte-order mark, Latin-1,
//! windows-1256, gb18030, shift_jis, UTF-16, ...; see [`crate::encoding`]). The file is read as a stream
//! ([`CsvBatches`]): a chunk at a time decoded to UTF-8 ([`crate::text_stream::TextStream`]), parsed with `csv-core`
//! record by record, and only kept cells are copied into the batch being built. Memory is one batch plus one chunk
//! and one record, whatever the file's size; reading the whole file is the same stream in one batch.
//!
//! **Layout.** Rows are counted as records: a blank line is not a record, and a record whose quoted field holds a
//! newline is one record. `header_row` is the 1-based record holding the variable names (default 1, the first
//! non-blank line; set it to skip a cover text above the table); `skip_rows` records right after the header are not
//! data (e.g. a second header row of labels). Records above the header and skipped records are not records of the
//! table: never stored, never counted. [`crate::RawTable::row_numbers`] holds each data record's 1-based index
//! (counted from the first record after the skipped ones), as for every format; errors name the physical line.

use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use csv_core::ReadRecordResult;
use dh_config::Delivery;
use dh_config::country::Encoding;

use crate::batches::{BatchSource, concat};
use crate::error::IngestError;
use crate::readers::DeliveryReader;
use crate::table::{ColumnSelection, RawTable, RawTableBuilder};
use crate::text_stream::TextStream;

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
        concat(self.batches(path, delivery, keep, usize::MAX)?.as_mut())
    }

    fn batches(
        &self,
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
        batch_rows: usize,
    ) -> Result<Box<dyn BatchSource>, IngestError> {
        let delimiter = delimiter_byte(path, &delivery.delimiter)?;
        let layout = Layout {
            header_row: delivery.header_row,
            skip_rows: delivery.skip_rows,
        };
        let (file, size) = crate::source::open_regular(path)?;
        let stream = TextStream::new(path, file, delivery.encoding).hashing();
        let mut source = CsvBatches::open(stream, delimiter, keep, layout, batch_rows)?;
        source.file_bytes = size;
        Ok(Box::new(source))
    }
}

/// Longest record read (its fields' bytes of UTF-8 plus one per field); a longer one is an error naming the line
/// where it starts, so that a single huge field (a file whose line breaks are not recognised, a 1 GB cell) is
/// refused before the parser's buffers are sized by it.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

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

/// Parses UTF-8 CSV text whose first record is the header.
pub fn parse(
    path: &Path,
    text: &[u8],
    delimiter: u8,
    keep: &ColumnSelection,
) -> Result<RawTable, IngestError> {
    parse_layout(path, text, delimiter, keep, Layout::default())
}

/// Parses UTF-8 CSV text with the header at `layout.header_row` (the file reader's stream, over memory).
pub fn parse_layout(
    path: &Path,
    text: &[u8],
    delimiter: u8,
    keep: &ColumnSelection,
    layout: Layout,
) -> Result<RawTable, IngestError> {
    let stream = TextStream::new(path, Cursor::new(text), Encoding::UTF8);
    concat(&mut CsvBatches::open(
        stream,
        delimiter,
        keep,
        layout,
        usize::MAX,
    )?)
}

/// One parsed record: field contents one after the other, and the end of each field.
#[derive(Default)]
struct Record {
    content: Vec<u8>,
    ends: Vec<usize>,
    /// Bytes of `content` and entries of `ends` in use.
    len: usize,
    fields: usize,
    /// Line where the record starts (as the `csv` crate counts: newlines consumed before it, plus one).
    line: u64,
}

impl Record {
    fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.content[start..self.ends[i]]
    }
}

/// The batches of one CSV file (see the module documentation); the header, `header_row` and `skip_rows` are
/// handled when it is opened.
pub struct CsvBatches<R> {
    file: PathBuf,
    stream: TextStream<R>,
    parser: csv_core::Reader,
    record: Record,
    builder: RawTableBuilder,
    batch_rows: usize,
    row_number: u64,
    max_record: usize,
    /// Size of the file (0 when unknown), to size the first batch once its first rows are read.
    file_bytes: u64,
    started: bool,
    finished: bool,
}

/// Rows read before the first batch is sized from the file's size.
const SIZING_ROWS: usize = 1024;

impl<R: Read + Seek> CsvBatches<R> {
    /// Reads up to the first data record: the header (record `layout.header_row`) checked against `keep`, and
    /// the `skip_rows` records after it.
    pub fn open(
        stream: TextStream<R>,
        delimiter: u8,
        keep: &ColumnSelection,
        layout: Layout,
        batch_rows: usize,
    ) -> Result<Self, IngestError> {
        Self::open_with_limit(
            stream,
            delimiter,
            keep,
            layout,
            batch_rows,
            MAX_RECORD_BYTES,
        )
    }

    fn open_with_limit(
        mut stream: TextStream<R>,
        delimiter: u8,
        keep: &ColumnSelection,
        layout: Layout,
        batch_rows: usize,
        max_record: usize,
    ) -> Result<Self, IngestError> {
        let file = stream_file(&stream);
        let mut parser = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let mut record = Record {
            content: vec![0; 4096],
            ends: vec![0; 64],
            ..Record::default()
        };
        let header_row = layout.header_row.max(1);
        for n in 1..=header_row {
            if !read_record(&file, &mut stream, &mut parser, &mut record, max_record)? {
                return Err(if n == 1 {
                    IngestError::Empty { file }
                } else {
                    IngestError::HeaderRow {
                        file,
                        header_row: layout.header_row,
                        problem: format!(
                            "the file has only {} records (blank lines are not records)",
                            n - 1
                        ),
                    }
                });
            }
        }
        let header = (0..record.fields)
            .map(|i| {
                std::str::from_utf8(record.field(i))
                    .map(str::to_string)
                    .map_err(|_| IngestError::Csv {
                        file: file.clone(),
                        line: record.line,
                        message: format!("header field {} is not valid UTF-8", i + 1),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let builder = RawTableBuilder::new(&file, header, keep)?;
        for _ in 0..layout.skip_rows {
            if !read_record(&file, &mut stream, &mut parser, &mut record, max_record)? {
                break;
            }
        }
        Ok(CsvBatches {
            file,
            stream,
            parser,
            record,
            builder,
            batch_rows: batch_rows.max(1),
            row_number: 0,
            max_record,
            file_bytes: 0,
            started: false,
            finished: false,
        })
    }
}

fn stream_file<R: Read + Seek>(stream: &TextStream<R>) -> PathBuf {
    stream.file().to_path_buf()
}

/// Reads the next record into `record`; false at the end of the text.
fn read_record<R: Read + Seek>(
    file: &Path,
    stream: &mut TextStream<R>,
    parser: &mut csv_core::Reader,
    record: &mut Record,
    max_record: usize,
) -> Result<bool, IngestError> {
    record.line = parser.line();
    let (mut len, mut fields) = (0usize, 0usize);
    loop {
        if stream.text().is_empty() && !stream.at_end() {
            stream.fill()?;
            continue;
        }
        let (result, read, written, ended) = parser.read_record(
            stream.text(),
            &mut record.content[len..],
            &mut record.ends[fields..],
        );
        stream.consume(read);
        len += written;
        fields += ended;
        let full = matches!(
            result,
            ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull
        );
        if (full || result == ReadRecordResult::Record) && len + fields > max_record {
            return Err(IngestError::Csv {
                file: file.to_path_buf(),
                line: record.line,
                message: format!(
                    "the record starting on this line is longer than {max_record} bytes (a line break the parser \
                     does not recognise, an unclosed quote, or a huge cell); check the file's line breaks and quoting"
                ),
            });
        }
        match result {
            ReadRecordResult::InputEmpty => {
                if !stream.at_end() {
                    stream.fill()?;
                }
            }
            ReadRecordResult::OutputFull => {
                let grown = record.content.len() * 2;
                record.content.resize(grown, 0);
            }
            ReadRecordResult::OutputEndsFull => {
                let grown = record.ends.len() * 2;
                record.ends.resize(grown, 0);
            }
            ReadRecordResult::Record => {
                record.len = len;
                record.fields = fields;
                return Ok(true);
            }
            ReadRecordResult::End => return Ok(false),
        }
    }
}

impl<R: Read + Seek + Send> BatchSource for CsvBatches<R> {
    fn next_batch(&mut self) -> Result<Option<RawTable>, IngestError> {
        if self.finished {
            return Ok(None);
        }
        while self.builder.rows() < self.batch_rows {
            let more = read_record(
                &self.file,
                &mut self.stream,
                &mut self.parser,
                &mut self.record,
                self.max_record,
            )?;
            if !more {
                self.finished = true;
                break;
            }
            self.row_number += 1;
            let r = &self.record;
            self.builder
                .push_record(self.row_number, &r.content[..r.len], &r.ends[..r.fields])?;
            if !self.started && self.builder.rows() == SIZING_ROWS && self.file_bytes > 0 {
                let per_row = (self.stream.bytes_consumed() / SIZING_ROWS as u64).max(1);
                let expected = usize::try_from(self.file_bytes / per_row).unwrap_or(usize::MAX);
                let more = expected.min(self.batch_rows).saturating_sub(SIZING_ROWS);
                self.builder.reserve_rows(more.saturating_add(more / 16));
            }
        }
        if self.builder.rows() == 0 && self.started {
            return Ok(None);
        }
        self.started = true;
        Ok(Some(self.builder.take_batch()))
    }

    fn sha256_of_bytes_read(&self) -> Option<String> {
        let digest = self.stream.sha256()?;
        Some(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    fn set_batch_rows(&mut self, batch_rows: usize) {
        self.batch_rows = batch_rows.max(1);
        if self.builder.rows() == 0 {
            // the room `take_batch` reserved for a batch as large as the last one is given back
            drop(self.builder.take_rows());
        }
    }
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
        for bad in [";;", "", "é"] {
            assert!(
                matches!(
                    delimiter_byte(Path::new("f"), bad),
                    Err(IngestError::BadDelimiter { delimiter, .. }) if delimiter == bad
                ),
                "{bad:?}"
            );
        }
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

    /// Reads `text` whole with a record cap of `max` bytes.
    fn read_capped(text: &[u8], max: usize) -> Result<RawTable, IngestError> {
        let p = Path::new("f.csv");
        let stream = TextStream::with_chunk(p, Cursor::new(text), Encoding::UTF8, 3);
        let source = CsvBatches::open_with_limit(
            stream,
            b',',
            &ColumnSelection::default(),
            Layout::default(),
            2,
            max,
        )?;
        concat(&mut { source })
    }

    #[test]
    fn records_longer_than_the_cap_are_refused_naming_their_line() {
        // record 2 spans lines 2-3 (a quoted newline); record 3 has 22 bytes of content and 2 fields
        let text = b"id,note\n1,\"a,\"\"b\"\"\nc\"\n2,xxxxxxxxxxxxxxxxxxxx\n3,y\n";
        assert_eq!(read_capped(text, 25).unwrap().num_rows(), 3);
        let err = read_capped(text, 20).unwrap_err();
        assert!(
            matches!(err, IngestError::Csv { line: 4, .. }) && !err.to_string().contains("xxx"),
            "{err}"
        );
        // A quote inside an unquoted field is a character, not the start of a quoted field.
        assert!(read_capped(b"a,5\" screen\nb,c\n", 12).is_ok());
        // No recognised line break: the whole file is one record.
        let one = "id,name\x1e1,Jo\x1e".repeat(100);
        let err = read_capped(one.as_bytes(), 1000).unwrap_err();
        assert!(matches!(err, IngestError::Csv { line: 1, .. }), "{err}");
        // Many empty fields count too.
        let err = read_capped(",".repeat(5000).as_bytes(), 1000).unwrap_err();
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

    /// A batch size changed between batches applies from the next batch: batches end where the new size says, the
    /// rows and their numbers do not change, and the room reserved for a batch as large as the first is given back.
    #[test]
    fn a_new_batch_size_applies_from_the_next_batch() {
        let mut text = String::from("id,q\n");
        for i in 1..=50 {
            text.push_str(&format!("{i},{}\n", i % 3));
        }
        let open = |rows: usize| {
            let stream = TextStream::new(
                Path::new("f.csv"),
                Cursor::new(text.as_bytes()),
                Encoding::UTF8,
            );
            CsvBatches::open(stream, b',', &keep(&["id", "q"]), Layout::default(), rows).unwrap()
        };
        let mut source = open(20);
        let first = source.next_batch().unwrap().unwrap();
        assert_eq!(first.num_rows(), 20);
        source.set_batch_rows(7);
        assert_eq!(source.builder.rows(), 0);
        let room = source.builder.reserved_rows();
        assert!(room < 20, "the first batch's room is kept: {room}");
        let mut sizes = vec![first.num_rows()];
        let mut ids = cells(&first, "id");
        while let Some(batch) = source.next_batch().unwrap() {
            sizes.push(batch.num_rows());
            ids.extend(cells(&batch, "id"));
            assert_eq!(
                batch.row_numbers.first().copied(),
                Some(ids.len() as u64 - batch.num_rows() as u64 + 1)
            );
        }
        assert_eq!(sizes, vec![20, 7, 7, 7, 7, 2]);
        let whole = concat(&mut open(usize::MAX)).unwrap();
        assert_eq!(ids, cells(&whole, "id"));
    }
}
