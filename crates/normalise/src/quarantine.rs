//! Why rows are quarantined ([`ReasonCode`]), one recorded problem ([`Problem`]) and the quarantine Arrow table.
//!
//! The quarantine table has one line per *problem* (a row with two bad cells gives two lines with the same
//! `source_file` and `row_number`); the ledger counts quarantined *rows*, so `rows_read == rows_written +
//! rows_quarantined` always holds. Lines are ordered by row, then by the harmonised column order, then by reason.
//! `raw_value` holds the trimmed source cell (at most [`MAX_RAW_CHARS`] characters); for pseudonymised columns it
//! holds the pseudonym, never the raw id (which a [`Problem`] carries separately for `dh validate`: [`RawId`]); for
//! ragged rows it is empty, because shifted cells may hold identifiers;
//! a cell that looks like free text ([`looks_like_free_text`]) is shown as `[withheld: N characters]` by
//! [`shown_value`], whichever check built the problem (and cell checks replace it inside `reason` too).

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// At most this many characters of a raw value are copied into the quarantine table.
pub const MAX_RAW_CHARS: usize = 64;

/// Machine-readable reason for quarantining a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReasonCode {
    /// The row has a different number of fields than the header.
    RaggedRow,
    /// A required field is empty (e.g. missing PSU).
    RequiredMissing,
    /// A categorical cell holds a code that the country config does not map.
    UnknownCode,
    /// The cell cannot be read as the column's type (integer, number, date, boolean).
    InvalidValue,
    /// A number outside the schema's minimum/maximum (e.g. age outside 12-17).
    OutOfRange,
    /// Several rows share a value of a unique column (respondent or household id): all of them are quarantined.
    DuplicateId,
    /// A link to another table points at nothing (a caregiver whose child household is not in the child delivery).
    MissingLink,
    /// A text column (stratum, PSU, region: codes and names) holds what looks like free text, e.g. interviewer
    /// notes mapped by mistake; the value is withheld from the quarantine table too.
    FreeText,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 8] = [
        ReasonCode::RaggedRow,
        ReasonCode::RequiredMissing,
        ReasonCode::UnknownCode,
        ReasonCode::InvalidValue,
        ReasonCode::OutOfRange,
        ReasonCode::DuplicateId,
        ReasonCode::MissingLink,
        ReasonCode::FreeText,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::RaggedRow => "ragged_row",
            ReasonCode::RequiredMissing => "required_missing",
            ReasonCode::UnknownCode => "unknown_code",
            ReasonCode::InvalidValue => "invalid_value",
            ReasonCode::OutOfRange => "out_of_range",
            ReasonCode::DuplicateId => "duplicate_id",
            ReasonCode::MissingLink => "missing_link",
            ReasonCode::FreeText => "free_text",
        }
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 0-based row index in the raw table.
    pub row: usize,
    /// Index of the harmonised column in the schema; `None` for whole-row problems.
    pub field: Option<usize>,
    pub code: ReasonCode,
    /// Source column name (empty for whole-row problems).
    pub source_column: String,
    /// Value shown in the quarantine table (already truncated or pseudonymised).
    pub raw_value: String,
    /// Human-readable explanation.
    pub reason: String,
    /// For problems about a key (duplicate ids, missing links): the id as delivered, for `dh validate` only (see
    /// [`RawId`]); never written to the quarantine table.
    pub raw_id: Option<RawId>,
}

/// A source id exactly as delivered (the cells of a key, joined by ` / ` when it spans columns), kept beside a
/// problem so that `dh validate` can show the data manager which id to fix; the quarantine table shows the
/// pseudonym instead. It is never written to any output: [`quarantine_batch`] ignores it, it has no `Serialize`, and
/// its `Debug` hides the value so that logging a [`Problem`] cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct RawId(Box<str>);

impl RawId {
    pub fn new(delivered: &str) -> Self {
        RawId(delivered.into())
    }

    /// The id as delivered.
    pub fn as_delivered(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RawId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawId(..)")
    }
}

/// Longest text a code or name column (stratum, PSU, region) may hold, in characters and in words; longer
/// cells look like free text (notes, answers to open questions) and are never written. Generous enough for
/// region names such as "Southern Nations, Nationalities, and Peoples' Region".
pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_NAME_WORDS: usize = 8;

/// Whether a text cell looks like free text rather than a code or a name.
pub fn looks_like_free_text(cell: &str) -> bool {
    cell.chars().count() > MAX_NAME_CHARS || cell.split_whitespace().count() > MAX_NAME_WORDS
}

/// The value shown in the quarantine table for a raw cell: `[withheld: N characters]` if it looks like free text
/// ([`looks_like_free_text`]), else the cell cut to [`MAX_RAW_CHARS`] characters.
pub fn shown_value(raw: &str) -> String {
    if looks_like_free_text(raw) {
        return format!("[withheld: {} characters]", raw.chars().count());
    }
    match raw.char_indices().nth(MAX_RAW_CHARS) {
        Some((cut, _)) => format!("{}...", &raw[..cut]),
        None => raw.to_string(),
    }
}

/// Schema of every quarantine table.
pub fn quarantine_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("source_file", DataType::Utf8, false),
        Field::new("row_number", DataType::UInt64, false),
        Field::new("column", DataType::Utf8, true),
        Field::new("raw_value", DataType::Utf8, true),
        Field::new("reason_code", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
    ]))
}

/// Builds the quarantine batch from problems already sorted in output order.
pub fn quarantine_batch(
    source_file: &str,
    row_numbers: &[u64],
    problems: &[Problem],
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let n = problems.len();
    let mut file = StringBuilder::with_capacity(n, n * source_file.len());
    let mut column = StringBuilder::new();
    let mut raw = StringBuilder::new();
    let mut code = StringBuilder::new();
    let mut reason = StringBuilder::new();
    let mut rows = Vec::with_capacity(n);
    for p in problems {
        file.append_value(source_file);
        rows.push(row_numbers.get(p.row).copied().unwrap_or(p.row as u64 + 1));
        if p.field.is_some() {
            column.append_value(&p.source_column);
            raw.append_value(&p.raw_value);
        } else {
            column.append_null();
            raw.append_null();
        }
        code.append_value(p.code.as_str());
        reason.append_value(&p.reason);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(file.finish()),
        Arc::new(UInt64Array::from(rows)),
        Arc::new(column.finish()),
        Arc::new(raw.finish()),
        Arc::new(code.finish()),
        Arc::new(reason.finish()),
    ];
    RecordBatch::try_new(quarantine_schema(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut() {
        assert_eq!(shown_value("abc"), "abc");
        let long = "é".repeat(MAX_NAME_CHARS - 5);
        assert_eq!(shown_value(&long).chars().count(), MAX_RAW_CHARS + 3);
    }

    #[test]
    fn free_text_is_withheld() {
        let long = "é".repeat(100);
        assert_eq!(shown_value(&long), "[withheld: 100 characters]");
        let note = "one two three four five six seven eight nine";
        assert_eq!(shown_value(note), "[withheld: 44 characters]");
    }

    #[test]
    fn reason_codes_are_distinct() {
        let names: std::collections::BTreeSet<_> =
            ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ReasonCode::ALL.len());
    }
}
