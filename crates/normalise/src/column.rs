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

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float64Array, Int16Array, Int64Array,
    StringArray, StringBuilder,
};
use arrow::datatypes::Int16Type;
use dh_ingest::{ColumnLabels, RawColumn};

use crate::date::{CellDateFormat, parse_iso_date};
use crate::lookup::{CodeLookup, parse_number};
use crate::plan::{ColumnPlan, Input, Kind, Target, ValueLabels};
use crate::quarantine::{Problem, ReasonCode, shown_value};

pub use crate::quarantine::{MAX_NAME_CHARS, MAX_NAME_WORDS, looks_like_free_text};

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
        if self.skip.get(row).copied().unwrap_or(false) {
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

/// Builds a column whose input is a raw source column.
pub fn build_raw(ctx: &mut CellContext<'_>, raw: &RawColumn) -> BuiltColumn {
    let plan = ctx.plan;
    match &plan.kind {
        Kind::Categorical { labels, codes, .. } => {
            let mut keys: Vec<Option<i16>> = Vec::with_capacity(raw.len());
            for (row, cell) in raw.iter().enumerate() {
                let cell = cell.trim();
                let key = match codes.get(cell) {
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
                };
                keys.push(key);
            }
            BuiltColumn {
                array: dictionary(keys, labels),
                numbers: None,
            }
        }
        Kind::Integer { missing } => {
            let mut values: Vec<Option<i64>> = Vec::with_capacity(raw.len());
            let mut numbers = Vec::with_capacity(raw.len());
            for (row, cell) in raw.iter().enumerate() {
                let cell = cell.trim();
                let value = numeric_cell(ctx, missing, row, cell, "an integer", parse_integer)
                    .filter(|x| ctx.check_range(row, cell, *x as f64));
                values.push(value);
                numbers.push(value.map(|v| v as f64));
            }
            BuiltColumn {
                array: Arc::new(Int64Array::from(values)),
                numbers: Some(numbers),
            }
        }
        Kind::Number { missing } => {
            let mut values: Vec<Option<f64>> = Vec::with_capacity(raw.len());
            for (row, cell) in raw.iter().enumerate() {
                let cell = cell.trim();
                let value = numeric_cell(ctx, missing, row, cell, "a number", parse_number)
                    .filter(|x| ctx.check_range(row, cell, *x));
                values.push(value);
            }
            let array = Arc::new(Float64Array::from(values.clone()));
            BuiltColumn {
                array,
                numbers: Some(values),
            }
        }
        Kind::Boolean { missing } => {
            let values: Vec<Option<bool>> = raw
                .iter()
                .enumerate()
                .map(|(row, cell)| {
                    numeric_cell(ctx, missing, row, cell.trim(), "true or false", parse_bool)
                })
                .collect();
            BuiltColumn {
                array: Arc::new(BooleanArray::from(values)),
                numbers: None,
            }
        }
        Kind::Date { missing, format } => {
            let values: Vec<Option<i32>> = raw
                .iter()
                .enumerate()
                .map(|(row, cell)| {
                    let cell = cell.trim();
                    match format {
                        None => numeric_cell(
                            ctx,
                            missing,
                            row,
                            cell,
                            "a date (YYYY-MM-DD)",
                            parse_iso_date,
                        ),
                        Some(format) => formatted_date(ctx, missing, row, cell, format),
                    }
                })
                .collect();
            BuiltColumn {
                array: Arc::new(Date32Array::from(values)),
                numbers: None,
            }
        }
        Kind::Text {
            missing,
            value_labels,
        } => {
            let mut builder = StringBuilder::with_capacity(raw.len(), raw.len() * 8);
            for (row, cell) in raw.iter().enumerate() {
                let cell = cell.trim();
                // Blank, missing codes and undeclared missing codes as for the other types; any other text parses,
                // or with `value = "label"` any code the file labels.
                let text = match value_labels {
                    None => {
                        numeric_cell(ctx, missing, row, cell, "text", |_| Some(())).map(|()| cell)
                    }
                    Some(labels) => labelled_code(ctx, missing, row, cell, labels),
                };
                match text {
                    Some(text) if looks_like_free_text(text) => {
                        ctx.free_text(row, text);
                        builder.append_null();
                    }
                    Some(text) => builder.append_value(text),
                    None => builder.append_null(),
                }
            }
            BuiltColumn {
                array: Arc::new(builder.finish()),
                numbers: None,
            }
        }
        Kind::Pseudonym(pseudonymiser) => {
            let mut builder = StringBuilder::with_capacity(raw.len(), raw.len() * 64);
            let mut buf = String::with_capacity(64);
            for (row, cell) in raw.iter().enumerate() {
                let cell = cell.trim();
                if cell.is_empty() {
                    ctx.blank_or_disallowed(row, cell, None);
                    builder.append_null();
                } else {
                    buf.clear();
                    pseudonymiser.write(cell, &mut buf);
                    builder.append_value(&buf);
                }
            }
            BuiltColumn {
                array: Arc::new(builder.finish()),
                numbers: None,
            }
        }
    }
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
fn labelled_code<'l>(
    ctx: &mut CellContext<'_>,
    missing: &CodeLookup<Target>,
    row: usize,
    cell: &str,
    labels: &'l ValueLabels,
) -> Option<&'l str> {
    if blank_or_missing(ctx, missing, row, cell) {
        return None;
    }
    let label = labels.label(cell);
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
    let values: ArrayRef = Arc::new(StringArray::from_iter_values(labels.iter()));
    // Keys are indexes into `labels` by construction (plan_table caps the label count at i16::MAX).
    let keys = Int16Array::from(keys);
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
    use super::*;

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
