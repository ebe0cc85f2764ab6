//! Why rows are quarantined ([`ReasonCode`]), one recorded problem ([`Problem`]) and the quarantine Arrow table.
//!
//! The quarantine table has one line per *problem* (a row with two bad cells gives two lines with the same
//! `source_file` and `row_number`); the ledger counts quarantined *rows*, so `rows_read == rows_written +
//! rows_quarantined` always holds. Lines are ordered by row, then by the harmonised column order, then by reason.
//! `raw_value` holds the trimmed source cell only when it is short and code-like (`dh_config::content::looks_like_code`:
//! at most 24 characters and 3 words, not shaped like a phone number, e-mail address, coordinates or a personal
//! name, and holding none inside: no such word, no two adjacent name-shaped words, no run of 9 digits; the column
//! itself has passed its content checks, or the country would have failed before). Any other cell
//! is shown by [`shown_value`] as its shape and a keyed hash, e.g. `[withheld: len 30: letters, digits, spaces;
//! hmac 3f9a0c1d2e4b5a69]`: the hash is the first 16 hex digits of the value's pseudonym in that column
//! (`HMAC-SHA256(key, "<ISO3>:<column>:<value>")`, the run's pseudonym key), so equal values have equal hashes. To
//! find the row, the data manager opens the delivery file at `source_file`, `row_number` (or runs `dh validate`,
//! whose terminal output may show the cell); the hash tells which quarantine lines hold the same value, across runs
//! with the same key. For pseudonymised columns `raw_value` holds the pseudonym, never the raw id (which a
//! [`Problem`] carries separately for `dh validate`: [`RawId`]); for ragged rows it is empty, because shifted cells
//! may hold identifiers. `reason` never contains a cell.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use dh_config::content::{looks_like_code, shape};

use crate::key::ColumnPseudonymiser;

/// Hex digits of the keyed hash shown for a withheld value.
pub const HASH_HEX_DIGITS: usize = 16;

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
    /// A text value longer than the schema's `maxLength` characters (e.g. a law's citation): never truncated.
    TooLong,
    /// Several rows share a value of a unique column (respondent or household id): all of them are quarantined.
    DuplicateId,
    /// A link to another table points at nothing (a caregiver whose child household is not in the child delivery).
    MissingLink,
    /// A text column (stratum, PSU, region: codes and names) holds what looks like free text, e.g. interviewer
    /// notes mapped by mistake; the value is withheld from the quarantine table too.
    FreeText,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 9] = [
        ReasonCode::RaggedRow,
        ReasonCode::RequiredMissing,
        ReasonCode::UnknownCode,
        ReasonCode::InvalidValue,
        ReasonCode::OutOfRange,
        ReasonCode::TooLong,
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
            ReasonCode::TooLong => "too_long",
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

/// The free-text limits (characters, words) of a text column whose schema sets `maxLength` (a short reference such
/// as a citation, checked against its own length first): the characters are `maxLength` when above
/// [`MAX_NAME_CHARS`], and the words scale with them (one word per 10 characters, at least [`MAX_NAME_WORDS`]).
/// Without `maxLength` the limits are the name limits.
pub fn free_text_limits(max_length: Option<usize>) -> (usize, usize) {
    match max_length {
        Some(m) if m > MAX_NAME_CHARS => {
            (m, (m * MAX_NAME_WORDS / MAX_NAME_CHARS).max(MAX_NAME_WORDS))
        }
        _ => (MAX_NAME_CHARS, MAX_NAME_WORDS),
    }
}

/// Whether a text cell looks like free text within the given limits ([`free_text_limits`]).
pub fn looks_like_free_text_within(cell: &str, (chars, words): (usize, usize)) -> bool {
    if (chars, words) == (MAX_NAME_CHARS, MAX_NAME_WORDS) {
        return looks_like_free_text(cell);
    }
    cell.chars().count() > chars || cell.split_whitespace().count() > words
}

/// Whether a text cell looks like free text rather than a code or a name.
pub fn looks_like_free_text(cell: &str) -> bool {
    // A cell of at most MAX_NAME_CHARS bytes has at most as many characters, and MAX_NAME_WORDS + 1 words take at
    // least 2 * MAX_NAME_WORDS + 1 bytes (one per word and one between words): short cells need no counting.
    if cell.len() <= MAX_NAME_CHARS.min(2 * MAX_NAME_WORDS) {
        return false;
    }
    cell.chars().count() > MAX_NAME_CHARS || cell.split_whitespace().count() > MAX_NAME_WORDS
}

/// The value shown in the quarantine table for a raw cell: the cell if it is short and code-like
/// (`dh_config::content::looks_like_code`), else `[withheld: <shape>; hmac <16 hex digits>]` with the cell's shape
/// and keyed hash in its column (see the module documentation).
pub fn shown_value(raw: &str, hash: &ColumnPseudonymiser) -> String {
    if looks_like_code(raw) {
        return raw.to_string();
    }
    let mut digest = String::with_capacity(64);
    hash.write(raw, &mut digest);
    digest.truncate(HASH_HEX_DIGITS);
    format!("[withheld: {}; hmac {digest}]", shape(raw))
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

    fn hash() -> ColumnPseudonymiser {
        crate::key::PseudonymKey::from_bytes(&[7u8; 32])
            .unwrap()
            .for_column("THA", "sex")
    }

    #[test]
    fn only_code_like_values_are_shown() {
        let h = hash();
        assert_eq!(shown_value("7", &h), "7");
        assert_eq!(shown_value("01U", &h), "01U");
        assert_eq!(shown_value("", &h), "");
        let long = "é".repeat(100);
        assert!(shown_value(&long, &h).starts_with("[withheld: len 100: letters; hmac "));
        let note = "Call Somchai Jaidee 0899990001";
        let shown = shown_value(note, &h);
        assert!(
            shown.starts_with("[withheld: len 30: letters, digits, spaces; hmac "),
            "{shown}"
        );
        assert!(!shown.contains("Somchai") && !shown.contains("0899990001"));
        for v in ["0899990001", "Somchai Jaidee", "a@b.org", "13.883030"] {
            assert!(shown_value(v, &h).starts_with("[withheld: "), "{v}");
        }
    }

    #[test]
    fn the_hash_is_the_pseudonym_prefix_and_tells_equal_values_apart() {
        let key = crate::key::PseudonymKey::from_bytes(&[7u8; 32]).unwrap();
        let h = key.for_column("THA", "sex");
        let shown = shown_value("Somchai Jaidee", &h);
        let pseudonym = key.pseudonym("THA", "sex", "Somchai Jaidee");
        assert!(
            shown.ends_with(&format!("hmac {}]", &pseudonym[..HASH_HEX_DIGITS])),
            "{shown}"
        );
        assert_eq!(shown, shown_value("Somchai Jaidee", &h));
        assert_ne!(shown, shown_value("Somchai Jaideee", &h));
    }

    #[test]
    fn free_text_shortcut_agrees_with_counting() {
        let counted = |cell: &str| {
            cell.chars().count() > MAX_NAME_CHARS
                || cell.split_whitespace().count() > MAX_NAME_WORDS
        };
        let mut cells: Vec<String> = vec![
            "a b c d e f g h i".into(),
            "a b c d e f g h".into(),
            "a\u{a0}b c d e f g h i".into(),
            "é".repeat(81),
            "x".repeat(80),
            "x".repeat(81),
        ];
        for words in 1..12 {
            for sep in [" ", "  ", "\t", "\u{3000}"] {
                cells.push(vec!["w"; words].join(sep));
            }
        }
        for cell in &cells {
            assert_eq!(looks_like_free_text(cell), counted(cell), "{cell:?}");
        }
    }

    #[test]
    fn a_max_length_widens_the_free_text_limits_in_proportion() {
        assert_eq!(free_text_limits(None), (MAX_NAME_CHARS, MAX_NAME_WORDS));
        assert_eq!(free_text_limits(Some(40)), (MAX_NAME_CHARS, MAX_NAME_WORDS));
        assert_eq!(free_text_limits(Some(120)), (120, 12));
        let citation = "Law No. 11 of 2008 on Electronic Information and Transactions, Art. 27(1)";
        assert!(looks_like_free_text(citation));
        assert!(!looks_like_free_text_within(
            citation,
            free_text_limits(Some(120))
        ));
        let note = vec!["word"; 13].join(" ");
        assert!(looks_like_free_text_within(
            &note,
            free_text_limits(Some(120))
        ));
    }

    #[test]
    fn reason_codes_are_distinct() {
        let names: std::collections::BTreeSet<_> =
            ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ReasonCode::ALL.len());
    }
}
