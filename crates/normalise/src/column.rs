//! Turning one planned column into a full-length Arrow array (one entry per raw row, quarantined rows included;
//! they are filtered out afterwards) and recording the problems of its cells.
//!
//! Output types: categorical -> `Dictionary(Int16, Utf8)` whose values are the category labels in schema order
//! followed by the table's missing labels (and `not_collected`), so every country's column has the same dictionary;
//! integer -> `Int64`; number -> `Float64`; string -> `Utf8`; boolean -> `Boolean`; date -> `Date32`; pseudonymised
//! ids -> `Utf8` (64 hex digits). A labelled missing code in a numeric or text column becomes null (Arrow has no
//! place for the label there); a blank cell in a column that is not required is null (system missing). A text
//! cell that looks like free text ([`looks_like_free_text`]) is quarantined with its value withheld. Reasons never
//! contain the cell: it goes only to the quarantine line's `raw_value`, and only when code-like ([`shown_value`]).

use std::sync::Arc;

use arrow::array::builder::BooleanBufferBuilder;
use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float64Array, Int16Array, Int64Array,
    StringArray, StringBuilder,
};
use arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::Int16Type;
use dh_ingest::{ColumnLabels, RawColumn};

use crate::cells::{CellMemo, MEMO_SLOTS, Validity, trim};
use crate::date::{CellDateFormat, parse_iso_date};
use crate::key::ColumnPseudonymiser;
use crate::lookup::{CodeLookup, parse_number};
use crate::plan::{ColumnPlan, Input, Kind, Target, ValueLabels};
use crate::quarantine::{Problem, ReasonCode, shown_value};

pub use crate::quarantine::{MAX_NAME_CHARS, MAX_NAME_WORDS, looks_like_free_text};
use crate::quarantine::{free_text_limits, looks_like_free_text_within};

/// The built array plus, for numeric columns, the numbers (used by derived columns such as `age_band`).
pub struct BuiltColumn {
    pub array: ArrayRef,
    pub numbers: Option<Vec<Option<f64>>>,
}

/// Cell-level context shared by the builders.
pub struct CellContext<'a> {
    pub plan: &'a ColumnPlan,
    pub field_index: usize,
    /// Rows whose cells are not checked (ragged rows: quarantined once as a whole).
    pub skip: &'a [bool],
    pub missing_labels: &'a [String],
    pub problems: &'a mut Vec<Problem>,
    /// Value labels and declared missing codes of the source column (SPSS/Stata deliveries; empty otherwise).
    pub labels: &'a ColumnLabels,
}

impl CellContext<'_> {
    fn report(&mut self, row: usize, code: ReasonCode, raw: &str, reason: String) {
        if self.skipped(row) {
            return;
        }
        // Whatever the problem, only a code-like cell is copied into the quarantine table; any other is shown by its
        // shape and keyed hash (`shown_value`). Reasons are built without the cell.
        let raw_value = shown_value(raw, &self.plan.value_hash);
        self.problems.push(Problem {
            row,
            field: Some(self.field_index),
            code,
            source_column: self.plan.source.clone(),
            raw_value,
            reason,
            raw_id: None,
        });
    }

    fn name(&self) -> &str {
        &self.plan.field.name
    }

    /// Whether the row's cells are not checked (see [`CellContext::skip`]).
    fn skipped(&self, row: usize) -> bool {
        self.skip.get(row).copied().unwrap_or(false)
    }

    /// A code the delivery file declares as missing (SPSS user-missing, Stata `.a`-`.z`) that the config does not
    /// map: quarantined with a reason naming the declaration, never read as a real value.
    fn undeclared_missing(&mut self, row: usize, cell: &str) -> bool {
        if self.labels.is_empty() || !self.labels.is_declared_missing(cell) {
            return false;
        }
        let reason = format!(
            "the code (see raw_value) is declared missing in the delivery file, but the config maps no missing label \
             to it for `{}` (source `{}`); add it to the column's or delivery's `missing`",
            self.name(),
            self.plan.source
        );
        self.report(row, ReasonCode::UnknownCode, cell, reason);
        true
    }

    /// A blank cell (or one whose code means a missing label the field does not permit).
    fn blank_or_disallowed(&mut self, row: usize, raw: &str, target: Option<Target>) {
        if let Some(Target::Disallowed(label)) = target
            && !raw.is_empty()
        {
            let label = self
                .missing_labels
                .get(label as usize)
                .cloned()
                .unwrap_or_default();
            let reason = format!(
                "the code (see raw_value) means `{label}`, which `{}` does not allow",
                self.name()
            );
            self.report(row, ReasonCode::UnknownCode, raw, reason);
        } else if self.plan.required {
            let reason = format!("`{}` is required but the cell is empty", self.name());
            self.report(row, ReasonCode::RequiredMissing, raw, reason);
        }
    }

    /// A text cell that looks like free text: quarantined, and its value withheld from the quarantine table.
    fn free_text(&mut self, row: usize, cell: &str) {
        let reason = format!(
            "`{}` (source `{}`) holds codes or names, but this cell looks like free text ({} characters, {} words); \
             dh never publishes free text: check that the config maps the right source column",
            self.name(),
            self.plan.source,
            cell.chars().count(),
            cell.split_whitespace().count()
        );
        self.report(row, ReasonCode::FreeText, cell, reason);
    }

    /// A text value longer than the schema's `maxLength`: quarantined (never truncated), the reason giving the
    /// lengths only.
    fn check_length(&mut self, row: usize, text: &str) -> bool {
        let Some(max) = self.plan.max_length else {
            return true;
        };
        let chars = text.chars().count();
        if chars <= max {
            return true;
        }
        let reason = format!(
            "`{}` (source `{}`) is {chars} characters long, longer than its maximum of {max}; shorten the delivered \
             value (it is never truncated)",
            self.name(),
            self.plan.source
        );
        self.report(row, ReasonCode::TooLong, text, reason);
        false
    }

    fn check_range(&mut self, row: usize, raw: &str, x: f64) -> bool {
        let below = self.plan.minimum.is_some_and(|m| x < m);
        let above = self.plan.maximum.is_some_and(|m| x > m);
        if below || above {
            let bound =
                |b: Option<f64>| b.map(|v| v.to_string()).unwrap_or_else(|| "..".to_string());
            let reason = format!(
                "`{}` is outside {}-{}",
                self.name(),
                bound(self.plan.minimum),
                bound(self.plan.maximum)
            );
            self.report(row, ReasonCode::OutOfRange, raw, reason);
            return false;
        }
        true
    }
}

/// Builds a column whose input is a raw source column: one pass over the column's cells (any batch of rows), each
/// distinct short cell translated and checked once ([`CellMemo`]); cells with a problem, and longer cells, go
/// through the per-cell checks every time, so each problem is recorded in its row.
pub fn build_raw(ctx: &mut CellContext<'_>, raw: &RawColumn) -> BuiltColumn {
    build_raw_with(ctx, raw, MEMO_SLOTS)
}

/// [`build_raw`] with a memo of `memo_slots` slots (0: every cell through the per-cell checks; the tests compare
/// the two).
fn build_raw_with(ctx: &mut CellContext<'_>, raw: &RawColumn, memo_slots: usize) -> BuiltColumn {
    let plan = ctx.plan;
    let rows = raw.len();
    match &plan.kind {
        Kind::Categorical { labels, codes, .. } => {
            let mut keys = Vec::with_capacity(rows);
            let mut nulls = Validity::with_capacity(rows);
            let mut memo = CellMemo::new(memo_slots);
            map_cells(
                ctx,
                raw,
                &mut memo,
                |ctx, row, cell| categorical_cell(ctx, codes, row, cell),
                |key, _| push(&mut keys, &mut nulls, key),
            );
            BuiltColumn {
                array: dictionary_array(Int16Array::new(keys.into(), nulls.finish()), labels),
                numbers: None,
            }
        }
        Kind::Integer { missing } => {
            let mut values = Vec::with_capacity(rows);
            let mut nulls = Validity::with_capacity(rows);
            let mut numbers = Vec::with_capacity(rows);
            let mut memo = CellMemo::new(memo_slots);
            map_cells(
                ctx,
                raw,
                &mut memo,
                |ctx, row, cell| {
                    numeric_cell(ctx, missing, row, cell, "an integer", parse_integer)
                        .filter(|x| ctx.check_range(row, cell, *x as f64))
                },
                |value, _| {
                    push(&mut values, &mut nulls, value);
                    numbers.push(value.map(|v| v as f64));
                },
            );
            BuiltColumn {
                array: Arc::new(Int64Array::new(values.into(), nulls.finish())),
                numbers: Some(numbers),
            }
        }
        Kind::Number { missing } => {
            let mut numbers = Vec::with_capacity(rows);
            let mut memo = CellMemo::new(memo_slots);
            map_cells(
                ctx,
                raw,
                &mut memo,
                |ctx, row, cell| {
                    numeric_cell(ctx, missing, row, cell, "a number", parse_number)
                        .filter(|x| ctx.check_range(row, cell, *x))
                },
                |value, _| numbers.push(value),
            );
            let mut values = Vec::with_capacity(rows);
            let mut nulls = Validity::with_capacity(rows);
            for value in &numbers {
                push(&mut values, &mut nulls, *value);
            }
            BuiltColumn {
                array: Arc::new(Float64Array::new(values.into(), nulls.finish())),
                numbers: Some(numbers),
            }
        }
        Kind::Boolean { missing } => {
            let mut values = BooleanBufferBuilder::new(rows);
            let mut nulls = Validity::with_capacity(rows);
            let mut memo = CellMemo::new(memo_slots);
            map_cells(
                ctx,
                raw,
                &mut memo,
                |ctx, row, cell| numeric_cell(ctx, missing, row, cell, "true or false", parse_bool),
                |value, _| {
                    values.append(value.unwrap_or_default());
                    nulls.push(value.is_some());
                },
            );
            BuiltColumn {
                array: Arc::new(BooleanArray::new(values.finish(), nulls.finish())),
                numbers: None,
            }
        }
        Kind::Date { missing, format } => {
            let mut values = Vec::with_capacity(rows);
            let mut nulls = Validity::with_capacity(rows);
            let mut memo = CellMemo::new(memo_slots);
            map_cells(
                ctx,
                raw,
                &mut memo,
                |ctx, row, cell| match format {
                    None => numeric_cell(
                        ctx,
                        missing,
                        row,
                        cell,
                        "a date (YYYY-MM-DD)",
                        parse_iso_date,
                    ),
                    Some(format) => formatted_date(ctx, missing, row, cell, format),
                },
                |value, _| push(&mut values, &mut nulls, value),
            );
            BuiltColumn {
                array: Arc::new(Date32Array::new(values.into(), nulls.finish())),
                numbers: None,
            }
        }
        Kind::Text {
            missing,
            value_labels,
        } => {
            let mut builder = StringBuilder::with_capacity(rows, rows * 8);
            let mut memo = CellMemo::new(memo_slots);
            map_cells(
                ctx,
                raw,
                &mut memo,
                |ctx, row, cell| text_cell(ctx, missing, value_labels.as_ref(), row, cell),
                |value, cell| match value {
                    TextValue::Null => builder.append_null(),
                    TextValue::Cell => builder.append_value(trim(cell)),
                    TextValue::Label(i) => {
                        match value_labels.as_ref().and_then(|l| l.labels.get(i as usize)) {
                            Some(label) => builder.append_value(label),
                            None => builder.append_null(),
                        }
                    }
                },
            );
            BuiltColumn {
                array: Arc::new(builder.finish()),
                numbers: None,
            }
        }
        Kind::Pseudonym(pseudonymiser) => BuiltColumn {
            array: pseudonym_array(ctx, raw, pseudonymiser),
            numbers: None,
        },
    }
}

/// Bytes of one pseudonym (64 hex digits).
const PSEUDONYM_BYTES: usize = 64;

/// A pseudonymised id column: each non-blank trimmed cell's pseudonym, or null for a blank cell (recorded). The
/// pseudonyms are written straight into the array's values (validated as UTF-8 once for the column) when their
/// offsets fit `i32`; otherwise through Arrow's builder, as before. Ids do not repeat within a column: no memo.
fn pseudonym_array(
    ctx: &mut CellContext<'_>,
    raw: &RawColumn,
    pseudonymiser: &ColumnPseudonymiser,
) -> ArrayRef {
    let rows = raw.len();
    let fits = rows
        .checked_mul(PSEUDONYM_BYTES)
        .is_some_and(|bytes| i32::try_from(bytes).is_ok());
    if !fits {
        return pseudonym_array_built(ctx, raw, pseudonymiser);
    }
    let problems_before = ctx.problems.len();
    let mut values: Vec<u8> = Vec::with_capacity(rows * PSEUDONYM_BYTES);
    let mut offsets: Vec<i32> = Vec::with_capacity(rows + 1);
    let mut nulls = Validity::with_capacity(rows);
    offsets.push(0);
    for (row, cell) in raw.iter().enumerate() {
        let cell = trim(cell);
        if cell.is_empty() {
            ctx.blank_or_disallowed(row, cell, None);
            nulls.push(false);
        } else {
            pseudonymiser.write_bytes(cell, &mut values);
            nulls.push(true);
        }
        // at most `rows * PSEUDONYM_BYTES`, which fits
        offsets.push(values.len() as i32);
    }
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    match StringArray::try_new(offsets, Buffer::from_vec(values), nulls.finish()) {
        Ok(array) => Arc::new(array),
        // not reached (the offsets grow, the values are ASCII); if it were, the column is built again
        Err(_) => {
            ctx.problems.truncate(problems_before);
            pseudonym_array_built(ctx, raw, pseudonymiser)
        }
    }
}

/// [`pseudonym_array`] through Arrow's string builder.
fn pseudonym_array_built(
    ctx: &mut CellContext<'_>,
    raw: &RawColumn,
    pseudonymiser: &ColumnPseudonymiser,
) -> ArrayRef {
    let rows = raw.len();
    let mut builder = StringBuilder::with_capacity(rows, rows.saturating_mul(PSEUDONYM_BYTES));
    let mut buf = String::with_capacity(PSEUDONYM_BYTES);
    for (row, cell) in raw.iter().enumerate() {
        let cell = trim(cell);
        if cell.is_empty() {
            ctx.blank_or_disallowed(row, cell, None);
            builder.append_null();
        } else {
            buf.clear();
            pseudonymiser.write(cell, &mut buf);
            builder.append_value(&buf);
        }
    }
    Arc::new(builder.finish())
}

/// One pass over a column: `check` gives each trimmed cell's output value and records its problems; `emit` takes
/// the value with the raw cell. A short cell whose check recorded no problem is remembered in `memo`, and its later
/// occurrences skip the check (the outcome of a clean cell depends on its text only). Rows in `skip` record no
/// problem, so their outcome is not remembered.
fn map_cells<V: Copy + Default>(
    ctx: &mut CellContext<'_>,
    raw: &RawColumn,
    memo: &mut CellMemo<V>,
    mut check: impl FnMut(&mut CellContext<'_>, usize, &str) -> V,
    mut emit: impl FnMut(V, &str),
) {
    for (row, cell) in raw.iter().enumerate() {
        let value = match memo.get(cell) {
            Some(value) => value,
            None => {
                let before = ctx.problems.len();
                let value = check(ctx, row, trim(cell));
                if ctx.problems.len() == before && !ctx.skipped(row) {
                    memo.insert(cell, value);
                }
                value
            }
        };
        emit(value, cell);
    }
}

/// Appends a value or a null to a primitive column's buffers.
#[inline]
fn push<T: Default>(values: &mut Vec<T>, nulls: &mut Validity, value: Option<T>) {
    nulls.push(value.is_some());
    values.push(value.unwrap_or_default());
}

/// A coded cell: its dictionary key, or null (blank, missing code or a problem, which is recorded).
fn categorical_cell(
    ctx: &mut CellContext<'_>,
    codes: &CodeLookup<Target>,
    row: usize,
    cell: &str,
) -> Option<i16> {
    match codes.get(cell) {
        Some(Target::Key(k)) => Some(k),
        Some(target) => {
            ctx.blank_or_disallowed(row, cell, Some(target));
            None
        }
        None if cell.is_empty() => {
            ctx.blank_or_disallowed(row, cell, None);
            None
        }
        None => {
            if !ctx.undeclared_missing(row, cell) {
                let reason = format!(
                    "the code (see raw_value) is not in the code list of `{}`",
                    ctx.name()
                );
                ctx.report(row, ReasonCode::UnknownCode, cell, reason);
            }
            None
        }
    }
}

/// The output of a text cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum TextValue {
    #[default]
    Null,
    /// The trimmed cell itself.
    Cell,
    /// The value label of the cell's code (index into [`ValueLabels::labels`]).
    Label(u32),
}

/// A text cell: blank, missing codes and undeclared missing codes as for the other types; any other text is the
/// value, or with `value = "label"` the label the file gives the code. Text that looks like free text is null (and
/// recorded, its value withheld).
fn text_cell(
    ctx: &mut CellContext<'_>,
    missing: &CodeLookup<Target>,
    value_labels: Option<&ValueLabels>,
    row: usize,
    cell: &str,
) -> TextValue {
    let (value, text) = match value_labels {
        None => match numeric_cell(ctx, missing, row, cell, "text", |_| Some(())) {
            Some(()) => (TextValue::Cell, cell),
            None => return TextValue::Null,
        },
        Some(labels) => match labelled_code(ctx, missing, row, cell, labels) {
            Some(i) => (
                TextValue::Label(i),
                labels.labels.get(i as usize).map_or("", String::as_str),
            ),
            None => return TextValue::Null,
        },
    };
    if !ctx.check_length(row, text) {
        return TextValue::Null;
    }
    if looks_like_free_text_within(text, free_text_limits(ctx.plan.max_length)) {
        ctx.free_text(row, text);
        return TextValue::Null;
    }
    value
}

/// Blank cells, missing codes and codes the file declares missing: whether the cell is one (its problems, if any,
/// are recorded; the output cell is null).
fn blank_or_missing(
    ctx: &mut CellContext<'_>,
    missing: &CodeLookup<Target>,
    row: usize,
    cell: &str,
) -> bool {
    let target = missing.get(cell);
    if cell.is_empty() || target.is_some() {
        if !matches!(target, Some(Target::Missing)) {
            ctx.blank_or_disallowed(row, cell, target);
        } else if ctx.plan.required {
            let reason = format!("`{}` is required but holds a missing code", ctx.name());
            ctx.report(row, ReasonCode::RequiredMissing, cell, reason);
        }
        return true;
    }
    ctx.undeclared_missing(row, cell)
}

/// Missing-code lookup, then parsing; records blank/disallowed/invalid problems.
fn numeric_cell<T>(
    ctx: &mut CellContext<'_>,
    missing: &CodeLookup<Target>,
    row: usize,
    cell: &str,
    expected: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    if blank_or_missing(ctx, missing, row, cell) {
        return None;
    }
    let value = parse(cell);
    if value.is_none() {
        let reason = format!("`{}` must be {expected} (see raw_value)", ctx.name());
        ctx.report(row, ReasonCode::InvalidValue, cell, reason);
    }
    value
}

/// A date cell read with the column's `date_format`. A cell that does not match is reported with the expected
/// format and an example; like every cell check, the cell itself goes only to the quarantine line's `raw_value`
/// (through [`shown_value`]), never into the reason.
fn formatted_date(
    ctx: &mut CellContext<'_>,
    missing: &CodeLookup<Target>,
    row: usize,
    cell: &str,
    format: &CellDateFormat,
) -> Option<i32> {
    if blank_or_missing(ctx, missing, row, cell) {
        return None;
    }
    let value = format.parse(cell);
    if value.is_none() {
        let reason = format!(
            "`{}` (source `{}`) must be a date written as `{}` (e.g. `{}`), but this cell does not match that format or \
             is not a real calendar day",
            ctx.name(),
            ctx.plan.source,
            format.as_str(),
            format.example()
        );
        ctx.report(row, ReasonCode::InvalidValue, cell, reason);
    }
    value
}

/// `value = "label"`: the value label the delivery gives a cell's code. Blank cells and missing codes are handled
/// as for any text column; a code the file gives no label is an unknown code (the code only in `raw_value`, as for
/// every cell check).
fn labelled_code(
    ctx: &mut CellContext<'_>,
    missing: &CodeLookup<Target>,
    row: usize,
    cell: &str,
    labels: &ValueLabels,
) -> Option<u32> {
    if blank_or_missing(ctx, missing, row, cell) {
        return None;
    }
    let label = labels.index(cell);
    if label.is_none() {
        let reason = format!(
            "the code (see raw_value) of `{}` (source `{}`) has no value label in the delivery file, and the column takes the \
             value label (value = \"label\"); add the label to the file, or map the code as missing",
            ctx.name(),
            ctx.plan.source
        );
        ctx.report(row, ReasonCode::UnknownCode, cell, reason);
    }
    label
}

/// An integer written as `13`, `+13`, `13.0` or `1.3e1`.
pub fn parse_integer(text: &str) -> Option<i64> {
    if let Ok(v) = text.parse::<i64>() {
        return Some(v);
    }
    let x = parse_number(text)?;
    (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// What a banded column's source turned out to be.
pub enum BandSource<'a> {
    Numbers(&'a [Option<f64>]),
    NotCollected,
    Unavailable,
}

/// A column that is not read from the delivery: `not_collected`, banded from another column, or filled later.
pub fn build_unread(plan: &ColumnPlan, rows: usize, source: BandSource<'_>) -> ArrayRef {
    match (&plan.input, &plan.kind) {
        (
            Input::NotCollected,
            Kind::Categorical {
                labels,
                not_collected,
                ..
            },
        ) => dictionary(vec![Some(*not_collected); rows], labels),
        (
            Input::Banded { bands, .. },
            Kind::Categorical {
                labels,
                not_collected,
                ..
            },
        ) => {
            let keys: Vec<Option<i16>> = match source {
                BandSource::Numbers(numbers) => numbers
                    .iter()
                    .map(|x| {
                        x.and_then(|x| {
                            bands
                                .iter()
                                .find(|(lo, hi, _)| x >= *lo && x <= *hi)
                                .map(|b| b.2)
                        })
                    })
                    .collect(),
                BandSource::NotCollected => vec![Some(*not_collected); rows],
                BandSource::Unavailable => vec![None; rows],
            };
            dictionary(keys, labels)
        }
        (_, kind) => null_array(kind, rows),
    }
}

fn null_array(kind: &Kind, rows: usize) -> ArrayRef {
    match kind {
        Kind::Categorical { labels, .. } => dictionary(vec![None; rows], labels),
        Kind::Integer { .. } => Arc::new(Int64Array::new_null(rows)),
        Kind::Number { .. } => Arc::new(Float64Array::new_null(rows)),
        Kind::Boolean { .. } => Arc::new(BooleanArray::new_null(rows)),
        Kind::Date { .. } => Arc::new(Date32Array::new_null(rows)),
        Kind::Text { .. } | Kind::Pseudonym(_) => Arc::new(StringArray::new_null(rows)),
    }
}

fn dictionary(keys: Vec<Option<i16>>, labels: &[String]) -> ArrayRef {
    dictionary_array(Int16Array::from(keys), labels)
}

fn dictionary_array(keys: Int16Array, labels: &[String]) -> ArrayRef {
    let values: ArrayRef = Arc::new(StringArray::from_iter_values(labels.iter()));
    // Keys are indexes into `labels` by construction (plan_table caps the label count at i16::MAX).
    match DictionaryArray::<Int16Type>::try_new(keys, values.clone()) {
        Ok(array) => Arc::new(array),
        Err(_) => Arc::new(DictionaryArray::<Int16Type>::new(
            Int16Array::new_null(0),
            values,
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use dh_config::{CountryConfig, TableSchema};
    use dh_ingest::RawTable;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::cells::tests::random_cell;
    use crate::key::PseudonymKey;
    use crate::plan::{PlanContext, plan_table};

    const SCHEMA: &str = r#"{
      "name": "t", "title": "t", "version": "1.0.0",
      "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -2, "label": "refused"},
                        {"value": -4, "label": "not_collected"}],
      "fields": [
        {"name": "id", "type": "string", "description": "id", "role": "key", "pseudonymise": true,
         "constraints": {"required": true}},
        {"name": "sex", "type": "string", "description": "s", "role": "demographic", "missingValues": ["dont_know"],
         "categories": [{"value": 1, "label": "male"}, {"value": 2, "label": "female"}],
         "constraints": {"required": true}},
        {"name": "q", "type": "string", "description": "q", "role": "item", "missingValues": ["dont_know"],
         "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}]},
        {"name": "age", "type": "integer", "description": "a", "role": "demographic", "missingValues": ["dont_know"],
         "constraints": {"required": true, "minimum": 1, "maximum": 98}},
        {"name": "hours", "type": "number", "description": "h", "role": "item", "missingValues": ["dont_know"],
         "constraints": {"minimum": 0, "maximum": 24}},
        {"name": "online", "type": "boolean", "description": "o", "role": "item", "missingValues": ["dont_know"]},
        {"name": "day", "type": "date", "description": "d", "role": "item", "missingValues": ["dont_know"]},
        {"name": "region", "type": "string", "description": "r", "role": "design", "missingValues": ["dont_know"],
         "constraints": {"required": true}}
      ]}"#;

    const CONFIG: &str = r#"
[country]
iso3 = "TST"
name = "Testland"
region = "Nowhere"
fieldwork_start = "2021-01-01"
fieldwork_end = "2021-02-01"

[population]
source = "test"
population_12_17 = 1000
internet_share = 0.5
cells = []

[deliveries.t]
file = "t.csv"

[deliveries.t.columns]
id = { source = "ID" }
sex = { source = "SEX", codes = { "1" = "male", "2" = "female" }, missing = { "98" = "dont_know", "99" = "refused" } }
q = { source = "Q", codes = { "1" = "yes", "2" = "no", "NS" = "yes" }, missing = { "-1" = "dont_know", "" = "dont_know" } }
age = { source = "AGE", missing = { "-1" = "dont_know", "99" = "refused" } }
hours = { source = "HRS", missing = { "98" = "dont_know" } }
online = { source = "ON", missing = { "8" = "dont_know" } }
day = { source = "DAY", missing = { "-1" = "dont_know" } }
region = { source = "REG", missing = { "-1" = "dont_know", "99" = "refused" } }
"#;

    const HEADER: [&str; 8] = ["ID", "SEX", "Q", "AGE", "HRS", "ON", "DAY", "REG"];

    /// A cell for any column: its codes, numbers, dates, repeated short text and the random cells of
    /// [`random_cell`] (blanks, padding, non-ASCII, whitespace of every kind).
    fn cell(rng: &mut ChaCha8Rng) -> String {
        const POOL: &[&str] = &[
            "1",
            "2",
            "98",
            "99",
            "-1",
            "NS",
            "8",
            " 1",
            "2 ",
            "1.0",
            "01",
            "0",
            "24",
            "25",
            "12.5",
            "true",
            "no",
            "Y",
            "2021-03-04",
            "2021-02-30",
            "x",
            "Bangkok",
            "",
            "",
            "A B C D E F G H I J",
        ];
        if rng.random_bool(0.7) {
            POOL[rng.random_range(0..POOL.len())].to_string()
        } else {
            random_cell(rng)
        }
    }

    /// Every column of a random table built with the memo and without: same arrays, same problems.
    #[test]
    fn memo_gives_the_outcome_of_checking_every_cell() {
        let schema: TableSchema = serde_json::from_str(SCHEMA).unwrap();
        let config: CountryConfig = toml::from_str(CONFIG).unwrap();
        let delivery = &config.deliveries["t"];
        let key = PseudonymKey::from_bytes(&[3u8; 32]).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut pseudonyms = 0;
        for round in 0..20 {
            let rows = rng.random_range(1..400);
            let cells: Vec<Vec<String>> = (0..rows)
                .map(|_| HEADER.iter().map(|_| cell(&mut rng)).collect())
                .collect();
            let refs: Vec<Vec<&str>> = cells
                .iter()
                .map(|r| r.iter().map(String::as_str).collect())
                .collect();
            let raw = RawTable::from_rows(Path::new("t.csv"), &HEADER, &refs).unwrap();
            let skip: Vec<bool> = (0..rows).map(|_| rng.random_bool(0.05)).collect();
            let ctx = PlanContext {
                iso3: "TST",
                config_file: PathBuf::from("TST.toml"),
                table: "t",
            };
            let plan = plan_table(&ctx, &schema, delivery, &raw, &key).unwrap();
            for (field_index, column) in plan.columns.iter().enumerate() {
                let Input::Raw(index) = column.input else {
                    panic!("{} is not read", column.field.name);
                };
                let built = |slots: usize| {
                    let mut problems = Vec::new();
                    let mut ctx = CellContext {
                        plan: column,
                        field_index,
                        skip: &skip,
                        missing_labels: &plan.missing_labels,
                        problems: &mut problems,
                        labels: &raw.columns[index].labels,
                    };
                    let b = build_raw_with(&mut ctx, &raw.columns[index], slots);
                    (b.array.to_data(), b.numbers, problems)
                };
                let (array, numbers, problems) = built(MEMO_SLOTS);
                let (plain_array, plain_numbers, plain_problems) = built(0);
                let name = &column.field.name;
                assert_eq!(array, plain_array, "round {round}, {name}");
                assert_eq!(numbers, plain_numbers, "round {round}, {name}");
                assert_eq!(problems, plain_problems, "round {round}, {name}");
                assert_eq!(array.len(), rows);
                if let Kind::Pseudonym(p) = &column.kind {
                    // the values written straight into the array equal those of Arrow's builder
                    let mut built_problems = Vec::new();
                    let mut ctx = CellContext {
                        plan: column,
                        field_index,
                        skip: &skip,
                        missing_labels: &plan.missing_labels,
                        problems: &mut built_problems,
                        labels: &raw.columns[index].labels,
                    };
                    let built = pseudonym_array_built(&mut ctx, &raw.columns[index], p);
                    assert_eq!(built.to_data(), array, "round {round}, {name}");
                    assert_eq!(built_problems, problems, "round {round}, {name}");
                    pseudonyms += 1;
                }
            }
        }
        assert_eq!(pseudonyms, 20);
    }

    #[test]
    fn integers_accept_decimal_forms() {
        assert_eq!(parse_integer("13"), Some(13));
        assert_eq!(parse_integer("13.0"), Some(13));
        assert_eq!(parse_integer("+13"), Some(13));
        assert_eq!(parse_integer("13.5"), None);
        assert_eq!(parse_integer("thirteen"), None);
        assert_eq!(parse_integer("1e300"), None);
    }
}
