//! SPSS `.sav`/`.zsav` deliveries, read with the `ambers` crate (pure Rust, streaming Arrow batches, arrow 57 like
//! the rest of the workspace; bytecode-compressed, uncompressed and zlib-compressed `.zsav` files alike).
//!
//! Cells become the same text a CSV export would hold: numbers in canonical form (`1`, `0.25`), system-missing as
//! an empty cell, user-missing values as their code (so the config's `missing` map decides what they mean), strings
//! without SPSS's trailing blanks, dates as `YYYY-MM-DD`, date-times as `YYYY-MM-DD HH:MM:SS[.f]` (`YYYY-MM-DD`
//! alone at midnight) with fractional seconds rounded to the microsecond (within the about 2 µs an SPSS double holds
//! for current dates: the library truncates, and [`round_truncated_micros`] undoes that), and `TIME`/`DTIME`/`MTIME`
//! values (durations) as `HH:MM:SS[.f]`: a time of day under 24 hours reads exactly like one from any other format;
//! a longer duration keeps counting hours (`30:00:00`, not `1 06:00:00`), a negative one has a leading `-`.
//!
//! Each kept column carries its variable label (question text), value labels and declared user-missing values and
//! ranges ([`crate::ColumnLabels`]; `LO` and `HI` of a range are -inf and +inf), so that a config can map codes by
//! label and normalisation can name an unmapped user-missing code. Only kept columns are decoded (projection);
//! identifiers are never read. (When no column is kept, one non-identifier variable is decoded, and dropped, only to
//! count the cases; an identifier only if the file has nothing else.)
//!
//! The header's case count is a hint: 0 or -1 (older writers) is read as "unknown" and every case in the data is
//! read (0 with a warning); but a file holding fewer cases than a positive count is truncated, and an error, so rows
//! are never lost silently. Other findings of the library (a case size that disagrees with the variable list, a
//! non-standard compression bias) become [`RawTable::warnings`], not refusals; a finding that the library replaced
//! stored values (dates outside years 1-9999 set to null) is an error, since those cells would read as missing.
//!
//! Text (string values, value labels, variable labels, variable names, string missing values) is decoded by the
//! library with the encoding the file declares (its encoding record, else its code page, else windows-1252) and
//! then follows [`TextRule`]: text whose bytes are valid UTF-8 is UTF-8 whatever the file declares (with a warning
//! naming the variable when the file declared a code page); otherwise the delivery's `encoding`, when it is not
//! `utf-8` and differs from the declaration, overrides the declaration (an old file stating windows-1252 for Arabic
//! text: `encoding = "windows-1256"`); otherwise the declaration stands. A file that declares UTF-8 but holds other
//! bytes cannot be re-decoded (the library has replaced them): with a non-UTF-8 `encoding` configured that is an
//! error asking for a re-export, without one a warning.

use std::borrow::Cow;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ambers::scanner::SavScanner;
use ambers::{MissingSpec, SpssMetadata, Value};
use arrow::array::{
    Array, ArrayRef, Date32Array, DurationMicrosecondArray, Float64Array, StringArray,
    StringViewArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::record_batch::RecordBatch;
use dh_config::Delivery;

use crate::batches::{BatchSource, DEFAULT_BATCH_ROWS, concat};
use crate::error::IngestError;
use crate::readers::cells::{
    CellColumns, KeptLayout, TextNotes, TextProblem, TextRule, number_text, push_date,
    push_datetime_micros, push_duration, push_number, round_truncated_micros,
};
use crate::readers::{DeliveryReader, ensure_exists};
use crate::table::{ColumnLabels, ColumnSelection, RawTable, RawTableBuilder};

pub struct SavReader;

const FORMAT: &str = "SPSS .sav";

/// Seconds from SPSS's epoch (1582-10-14) to 1970-01-01, which the library subtracts before truncating date-times.
const SPSS_EPOCH_OFFSET_SECONDS: i64 = 12_219_379_200;

/// Whether a finding of the library is its case-count check (`header declares N rows but M rows were read`), which
/// this reader replaces with its own (an error for a truncated file).
/// Whether a finding of the SPSS library says it replaced stored values (dates outside years 1-9999 set to null):
/// an error, not a warning, since the cells would read as missing.
fn is_library_value_loss(finding: &str) -> bool {
    finding.contains("set to null")
}

fn is_library_case_count_finding(finding: &str) -> bool {
    finding.starts_with("header declares ") && finding.contains(" rows but ")
}

/// How one read decodes text, and what it noticed.
struct Text {
    path: PathBuf,
    configured: dh_config::Encoding,
    rule: TextRule,
    notes: TextNotes,
}

impl Text {
    /// The real text of a string of `variable` (see the module doc).
    fn of<'s>(
        &mut self,
        variable: &str,
        what: &str,
        s: &'s str,
    ) -> Result<Cow<'s, str>, IngestError> {
        match self.rule.text(s) {
            Ok((text, note)) => {
                self.notes.add(variable, note);
                Ok(text)
            }
            Err(problem) => Err(self.error(variable, what, problem)),
        }
    }

    fn error(&self, variable: &str, what: &str, problem: TextProblem) -> IngestError {
        let configured = self.configured;
        let message = match problem {
            TextProblem::NotInConfigured => format!(
                "`{variable}`: {what} is neither UTF-8 nor text in the configured encoding {configured}"
            ),
            TextProblem::BytesLost => format!(
                "`{variable}`: {what} cannot be re-decoded as the configured {configured}: the file declares an \
                 encoding whose decoding does not keep the bytes (e.g. UTF-8 holding other bytes); re-save the \
                 file in SPSS/PSPP with the right encoding, or remove `encoding` to read it as the file declares"
            ),
        };
        IngestError::WrongEncoding {
            file: self.path.clone(),
            message,
        }
    }
}

impl DeliveryReader for SavReader {
    fn format_label(&self) -> &'static str {
        FORMAT
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
        Ok(Box::new(SavBatches::open(
            path, delivery, keep, batch_rows,
        )?))
    }
}

/// Bytes of the file buffered by the reader.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// Cases the library decodes at a time (at most; fewer when a batch is smaller). A batch of
/// [`DEFAULT_BATCH_ROWS`] rows is built from several of these: the library's decoded cases (eight bytes a cell as
/// Arrow columns, plus its buffer of uncompressed case records) and the cells' text before it joins the batch are
/// then held for this many cases only, not for a whole batch (at 93 variables about 12 MB instead of 200 MB each).
/// Batch boundaries do not depend on it: a batch ends after exactly `batch_rows` cases (the library's cases are
/// split where a batch ends).
const SCAN_ROWS: usize = 16_384;

/// The batches of one `.sav`/`.zsav` file: the library's scanner read a batch of cases at a time (it holds the
/// compressed data section of a bytecode-compressed `.sav` in memory, one block of a `.zsav`, and nothing more of
/// an uncompressed file), with one batch of the library read ahead so that the last batch carries the findings of
/// the end of the data (case count, warnings).
struct SavBatches {
    path: PathBuf,
    scanner: SavScanner<BufReader<File>>,
    text: Text,
    /// Notes about the labels' text, read when the file is opened and reported after those of the cells (as a
    /// whole read noticed them).
    label_notes: TextNotes,
    layout: KeptLayout,
    /// The library's names of the kept variables, in buffer order.
    kept: Vec<String>,
    library_name: &'static str,
    builder: RawTableBuilder,
    batch_rows: usize,
    /// Size of the file: no file holds more cases than bytes, so no reservation exceeds it.
    file_bytes: u64,
    /// Cases read so far.
    rows: u64,
    ahead: Option<RecordBatch>,
    started: bool,
    finished: bool,
}

impl SavBatches {
    fn open(
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
        batch_rows: usize,
    ) -> Result<Self, IngestError> {
        let fail = |e: ambers::error::SpssError| format_error(path, e);
        ensure_exists(path)?;
        let (file, file_bytes) = crate::source::open_regular(path)?;
        let batch_rows = batch_rows.max(1);
        let mut scanner = ambers::scan_sav_from_reader(
            BufReader::with_capacity(READ_BUFFER_BYTES, file),
            batch_rows.min(DEFAULT_BATCH_ROWS).min(SCAN_ROWS),
        )
        .map_err(fail)?;
        let declared = scanner.metadata().file_encoding.clone();
        let library = encoding_rs::Encoding::for_label(declared.as_bytes())
            .unwrap_or(encoding_rs::WINDOWS_1252);
        let mut text = Text {
            path: path.to_path_buf(),
            configured: delivery.encoding,
            rule: TextRule::new(library, delivery.encoding, false),
            notes: TextNotes::default(),
        };
        // The library's names (to select and find columns) and the real names (the header).
        let library_names = scanner.metadata().variable_names.clone();
        let mut header = Vec::with_capacity(library_names.len());
        for name in &library_names {
            header.push(text.of(name, "the variable name", name)?.into_owned());
        }
        let layout = KeptLayout::new(header.clone(), keep);
        let mut builder = RawTableBuilder::new(path, header, keep)?;
        let kept: Vec<String> = layout
            .positions
            .iter()
            .map(|&i| library_names[i].clone())
            .collect();
        if kept.is_empty() {
            // The scanner cannot project onto no variable, and the cases must still be counted: decode one
            // variable, preferably not an identifier, without keeping its cells.
            let counter = layout
                .header
                .iter()
                .position(|h| !delivery.identifiers.iter().any(|i| i.trim() == h.trim()))
                .or((!library_names.is_empty()).then_some(0));
            if let Some(counter) = counter {
                scanner
                    .select(&[library_names[counter].as_str()])
                    .map_err(fail)?;
            }
        } else {
            let names: Vec<&str> = kept.iter().map(String::as_str).collect();
            scanner.select(&names).map_err(fail)?;
        }
        // Labels are in the dictionary: every batch carries them.
        let cell_notes = std::mem::take(&mut text.notes);
        for (b, &i) in layout.positions.iter().enumerate() {
            let labels = labels_of(scanner.metadata(), &kept[b], &layout.header[i], &mut text)?;
            builder.set_labels(&layout.header[i], labels);
        }
        let label_notes = std::mem::replace(&mut text.notes, cell_notes);
        let library_name = library.name();
        Ok(SavBatches {
            path: path.to_path_buf(),
            scanner,
            text,
            label_notes,
            layout,
            kept,
            library_name,
            builder,
            batch_rows,
            file_bytes,
            rows: 0,
            ahead: None,
            started: false,
            finished: false,
        })
    }

    /// The library's next batch of cases (the one read ahead first).
    fn next_cases(&mut self) -> Result<Option<RecordBatch>, IngestError> {
        match self.ahead.take() {
            Some(batch) => Ok(Some(batch)),
            None => self
                .scanner
                .next_batch()
                .map_err(|e| format_error(&self.path, e)),
        }
    }

    /// Adds one batch of the library's cases to the batch being built.
    fn add(&mut self, batch: &RecordBatch) -> Result<(), IngestError> {
        let path = self.path.as_path();
        let mut cells = CellColumns::with_rows(self.kept.len(), batch.num_rows() as u64);
        for (b, name) in self.kept.iter().enumerate() {
            let real = &self.layout.header[self.layout.positions[b]];
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| IngestError::Format {
                    file: path.to_path_buf(),
                    format: FORMAT,
                    message: format!("variable `{real}` is in the dictionary but not in the data"),
                })?;
            append_column(path, self.rows, real, column, &mut cells, b, &mut self.text)?;
        }
        let n = batch.num_rows() as u64;
        self.layout
            .push_rows_owned(&mut self.builder, cells, self.rows + 1, n)?;
        self.rows += n;
        Ok(())
    }

    /// At the end of the data: the case count against the header's, the library's findings, the text notes.
    fn finish(&mut self) -> Result<(), IngestError> {
        self.finished = true;
        let rows = self.rows;
        let metadata = self.scanner.metadata();
        let builder = &mut self.builder;
        match metadata.number_rows {
            Some(n) if n > 0 && (rows as i64) < n => {
                return Err(IngestError::Format {
                    file: self.path.clone(),
                    format: FORMAT,
                    message: format!(
                        "the header declares {n} cases but only {rows} could be read; the file looks truncated"
                    ),
                });
            }
            Some(0) if rows > 0 => builder.warn(format!(
                "the header declares 0 cases (as some older writers do); read all {rows} cases in the data"
            )),
            Some(n) if n > 0 && rows as i64 > n => builder.warn(format!(
                "the header declares {n} cases but the data holds {rows}; read all {rows}"
            )),
            _ => {}
        }
        if let Some(loss) = metadata.warnings.iter().find(|w| is_library_value_loss(w)) {
            return Err(IngestError::Format {
                file: self.path.clone(),
                format: FORMAT,
                message: format!(
                    "{loss}; a file whose values cannot be read as stored is refused rather than read with empty \
                     cells: ask the data provider for a corrected file"
                ),
            });
        }
        for warning in &metadata.warnings {
            if !is_library_case_count_finding(warning) {
                builder.warn(format!("SPSS reader: {warning}"));
            }
        }
        self.text.notes.merge(&self.label_notes);
        for warning in self.text.notes.warnings(self.library_name) {
            builder.warn(warning);
        }
        Ok(())
    }
}

impl BatchSource for SavBatches {
    fn next_batch(&mut self) -> Result<Option<RawTable>, IngestError> {
        if self.finished {
            return Ok(None);
        }
        while self.builder.rows() < self.batch_rows {
            let Some(batch) = self.next_cases()? else {
                self.finish()?;
                break;
            };
            let room = self.batch_rows - self.builder.rows();
            if batch.num_rows() > room {
                // the batch ends inside the library's cases: the rest begins the next batch
                self.ahead = Some(batch.slice(room, batch.num_rows() - room));
                self.add(&batch.slice(0, room))?;
                break;
            }
            let first = self.builder.rows() == 0;
            self.add(&batch)?;
            if first {
                self.reserve_batch();
            }
        }
        if !self.finished && self.ahead.is_none() {
            // read ahead: the last batch carries the findings of the end of the data
            match self.next_cases()? {
                Some(batch) => self.ahead = Some(batch),
                None => self.finish()?,
            }
        }
        if self.builder.rows() == 0 && self.started {
            return Ok(None);
        }
        self.started = true;
        Ok(Some(self.builder.take_rows()))
    }

    fn set_batch_rows(&mut self, batch_rows: usize) {
        self.batch_rows = batch_rows.max(1);
    }
}

impl SavBatches {
    /// After the first cases of a batch: room for the rest of it (bounded by the header's case count, the file's
    /// size and [`DEFAULT_BATCH_ROWS`], so that a malformed header cannot ask for much), each
    /// column's text sized at its mean cell so far, so that the batch does not grow by repeated doubling. Room is
    /// reserved only now, not when the previous batch is handed out, so it is not held while that batch is used.
    fn reserve_batch(&mut self) {
        let declared = self
            .scanner
            .metadata()
            .number_rows
            .and_then(|n| u64::try_from(n).ok())
            .filter(|n| *n > 0);
        let Some(declared) = declared else {
            return;
        };
        let left = declared.saturating_sub(self.rows).min(self.file_bytes);
        let left = usize::try_from(left).unwrap_or(usize::MAX);
        let more = (self.batch_rows - self.builder.rows())
            .min(left)
            .min(DEFAULT_BATCH_ROWS);
        if more > 0 {
            self.builder.reserve_rows(more);
        }
    }
}

fn format_error(path: &Path, e: ambers::error::SpssError) -> IngestError {
    match e {
        ambers::error::SpssError::Io(source) if source.kind() == std::io::ErrorKind::NotFound => {
            IngestError::NotFound {
                file: path.to_path_buf(),
            }
        }
        other => IngestError::Format {
            file: path.to_path_buf(),
            format: FORMAT,
            message: other.to_string(),
        },
    }
}

/// Appends one Arrow column's cells as text to buffer `b`.
fn append_column(
    path: &Path,
    first_row: u64,
    name: &str,
    column: &ArrayRef,
    cells: &mut CellColumns,
    b: usize,
    text: &mut Text,
) -> Result<(), IngestError> {
    let unsupported = |t: &DataType| IngestError::Cell {
        file: path.to_path_buf(),
        row: first_row + 1,
        column: name.to_string(),
        value: String::new(),
        message: format!("unsupported SPSS storage type {t}"),
    };
    macro_rules! each {
        ($ty:ty, $render:expr) => {{
            let array = column
                .as_any()
                .downcast_ref::<$ty>()
                .ok_or_else(|| unsupported(column.data_type()))?;
            for i in 0..array.len() {
                if array.is_valid(i) {
                    $render(cells.buffer(b), array.value(i))?;
                }
                cells.end_cell(b);
            }
        }};
    }
    let mut string = |out: &mut String, s: &str| -> Result<(), IngestError> {
        let s = s.trim_end_matches(' ');
        if s.is_ascii() {
            out.push_str(s);
        } else {
            out.push_str(&text.of(name, "a value", s)?);
        }
        Ok(())
    };
    match column.data_type() {
        DataType::Float64 => each!(Float64Array, |out: &mut String, x: f64| {
            push_number(out, x);
            Ok::<(), IngestError>(())
        }),
        DataType::Utf8View => each!(StringViewArray, |out: &mut String, s: &str| string(out, s)),
        DataType::Utf8 => each!(StringArray, |out: &mut String, s: &str| string(out, s)),
        DataType::Date32 => each!(Date32Array, |out: &mut String, d: i32| {
            push_date(out, i64::from(d));
            Ok::<(), IngestError>(())
        }),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            each!(TimestampMicrosecondArray, |out: &mut String, us: i64| {
                push_datetime_micros(out, round_truncated_micros(us, SPSS_EPOCH_OFFSET_SECONDS));
                Ok::<(), IngestError>(())
            })
        }
        DataType::Duration(TimeUnit::Microsecond) => {
            each!(DurationMicrosecondArray, |out: &mut String, us: i64| {
                push_duration(out, round_truncated_micros(us, 0));
                Ok::<(), IngestError>(())
            })
        }
        other => return Err(unsupported(other)),
    }
    Ok(())
}

/// A missing-range bound: SPSS writes `LO` and `HI` as the lowest and highest doubles; they mean -inf and +inf.
fn range_bound(x: f64) -> f64 {
    if x <= -1e300 {
        f64::NEG_INFINITY
    } else if x >= 1e300 {
        f64::INFINITY
    } else {
        x
    }
}

/// Variable label, value labels and user-missing declarations of one variable (`library_name` as the library
/// spells it, `name` the real name).
fn labels_of(
    metadata: &SpssMetadata,
    library_name: &str,
    name: &str,
    text: &mut Text,
) -> Result<ColumnLabels, IngestError> {
    let mut labels = ColumnLabels::default();
    if let Some(label) = metadata.label(library_name)
        && !label.trim().is_empty()
    {
        labels.variable_label = Some(text.of(name, "the variable label", label)?.into_owned());
    }
    if let Some(map) = metadata.value_labels(library_name) {
        for (value, label) in map {
            let code = match value {
                Value::Numeric(x) => number_text(*x),
                Value::String(s) => text
                    .of(name, "a value-label code", s.trim_end_matches(' '))?
                    .into_owned(),
            };
            labels
                .value_labels
                .push((code, text.of(name, "a value label", label)?.into_owned()));
        }
    }
    if let Some(specs) = metadata.variable_missing_values.get(library_name) {
        for spec in specs {
            match spec {
                MissingSpec::Value(x) => labels.missing_codes.push(number_text(*x)),
                MissingSpec::StringValue(s) => labels.missing_codes.push(
                    text.of(name, "a missing value", s.trim_end_matches(' '))?
                        .into_owned(),
                ),
                MissingSpec::Range { lo, hi } => labels
                    .missing_ranges
                    .push((range_bound(*lo), range_bound(*hi))),
            }
        }
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_case_count_finding_is_replaced() {
        assert!(is_library_case_count_finding(
            "header declares 0 rows but 4 rows were read"
        ));
        assert!(!is_library_case_count_finding(
            "header declares 1 values per row but the variable list defines 12; used 12"
        ));
    }

    #[test]
    fn lo_and_hi_are_infinite() {
        assert_eq!(range_bound(-f64::MAX), f64::NEG_INFINITY);
        assert_eq!(
            range_bound(f64::from_bits(0xFFEF_FFFF_FFFF_FFFE)),
            f64::NEG_INFINITY
        );
        assert_eq!(range_bound(f64::MAX), f64::INFINITY);
        assert_eq!(range_bound(97.0), 97.0);
    }
}
