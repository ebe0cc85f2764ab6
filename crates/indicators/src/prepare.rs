//! Per-row inputs of one indicator on one country's table, ready for the design-based estimator: which rows are in
//! the denominator, the value each contributes (0/1 or the averaged variable), each row's level of every
//! disaggregation, and whether the country collected the question at all.
//!
//! Rules (documented in `pipelines/indicators.toml` too):
//! * a row is in the universe when the universe expression is *true*; unknown counts as outside (and is counted in
//!   [`Prepared::universe_unknown`]);
//! * for proportions and counts, a universe row whose numerator is unknown goes through the indicator's missing
//!   rule ([`dh_expr::Evaluation::resolve`]): excluded, or counted as "no";
//! * for means, universe rows whose variable is null (or NaN) leave the denominator;
//! * the indicator is `not_collected` when any universe or numerator result is unknown because of the
//!   `not_collected` code: the normaliser writes it for every row of a question the country did not ask.

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::array::{ArrowPrimitiveType, PrimitiveArray};
use arrow::buffer::BooleanBuffer;
use arrow::compute::cast;
use arrow::datatypes::{ArrowNativeType, DataType, Float64Type, Int8Type, Int16Type, Int32Type};
use dh_expr::EvalError;
use dh_survey::NA_CODE;

use crate::catalogue::{Indicator, NOT_COLLECTED, Statistic};

/// One disaggregation's level per row.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainCodes {
    pub column: String,
    /// Levels in schema order; `codes` index into it.
    pub levels: Vec<String>,
    /// Per row: the level index, or [`NA_CODE`] when the row's value is null, a missing code or not a known
    /// level (the codes the estimator takes as they are: four bytes a row, no copy).
    pub codes: Vec<u32>,
}

impl DomainCodes {
    /// The level of every row, `None` for [`NA_CODE`].
    pub fn levels_of_rows(&self) -> Vec<Option<u32>> {
        self.codes
            .iter()
            .map(|&c| (c != NA_CODE).then_some(c))
            .collect()
    }
}

/// Per-row inputs of one indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// In the universe and kept by the missing rule.
    pub in_denominator: Vec<bool>,
    /// 1.0 / 0.0 for proportions and counts, the variable for means; 0.0 outside the denominator.
    pub value: Vec<f64>,
    pub not_collected: bool,
    /// Rows definitely in the universe.
    pub universe_rows: usize,
    /// Rows whose universe could not be decided (outside the universe).
    pub universe_unknown: usize,
    /// Universe rows the missing rule removed from the denominator.
    pub excluded_by_missing_rule: usize,
    pub domains: Vec<DomainCodes>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrepareError {
    #[error("indicator `{indicator}`: {source}")]
    Eval {
        indicator: String,
        #[source]
        source: EvalError,
    },
    #[error("indicator `{indicator}`: column `{column}` is not in the table")]
    MissingColumn { indicator: String, column: String },
    #[error(
        "indicator `{indicator}`: column `{column}` has Arrow type {data_type}; expected {expected}"
    )]
    ColumnType {
        indicator: String,
        column: String,
        data_type: String,
        expected: String,
    },
}

/// Evaluates `indicator` on `batch` (one country's rows of the indicator's table, joins already applied).
pub fn prepare(indicator: &Indicator, batch: &RecordBatch) -> Result<Prepared, PrepareError> {
    prepare_present(indicator, batch, None)
}

/// [`prepare`] on a batch in which only the rows where `present` is true are units of the indicator's
/// table (the others are outside every universe): a caregiver indicator evaluated on the child rows
/// of the design, `present` marking the children whose caregiver was interviewed.
pub fn prepare_present(
    indicator: &Indicator,
    batch: &RecordBatch,
    present: Option<&[bool]>,
) -> Result<Prepared, PrepareError> {
    let eval_err = |source| PrepareError::Eval {
        indicator: indicator.id.clone(),
        source,
    };
    let universe = indicator.universe.evaluate(batch).map_err(eval_err)?;
    // masks as bitmaps, combined 64 rows at a time; `within` keeps the rows that are units of the table
    let present: Option<BooleanBuffer> = present.map(|p| {
        (0..batch.num_rows())
            .map(|i| p.get(i).copied().unwrap_or(false))
            .collect()
    });
    let within = |mask: BooleanArray| -> BooleanBuffer {
        match &present {
            Some(p) => and(mask.values(), p),
            None => mask.values().clone(),
        }
    };
    let in_universe = within(universe.is_true());
    let mut not_collected =
        within(universe.unknown_because(Some(NOT_COLLECTED))).count_set_bits() > 0;
    let universe_unknown = within(universe.is_unknown()).count_set_bits();
    let rows = batch.num_rows();
    let mut in_denominator = vec![false; rows];
    let mut value = vec![0.0; rows];
    match indicator.statistic {
        Statistic::Proportion | Statistic::Count => {
            let Some(numerator) = &indicator.numerator else {
                return Err(PrepareError::MissingColumn {
                    indicator: indicator.id.clone(),
                    column: "numerator".into(),
                });
            };
            let eval = numerator.evaluate(batch).map_err(eval_err)?;
            let nc = eval.unknown_because(Some(NOT_COLLECTED));
            not_collected |= and(&in_universe, nc.values()).count_set_bits() > 0;
            let resolved = eval.resolve(|cause| indicator.missing_rule.treatment(cause));
            let counted = and(&in_universe, resolved.counted.values());
            let yes = and(&counted, resolved.value.values());
            for ((d, v), (c, y)) in in_denominator
                .iter_mut()
                .zip(value.iter_mut())
                .zip(counted.iter().zip(yes.iter()))
            {
                *d = c;
                *v = f64::from(u8::from(y));
            }
        }
        Statistic::Mean => {
            let column = indicator.variable.as_deref().unwrap_or_default();
            let values = numeric_column(indicator, batch, column)?;
            let rows_in = values.iter().zip(in_universe.iter());
            for ((d, slot), (v, u)) in in_denominator.iter_mut().zip(value.iter_mut()).zip(rows_in)
            {
                if let Some(v) = v.filter(|_| u) {
                    *d = true;
                    *slot = v;
                }
            }
        }
    }
    let universe_rows = in_universe.count_set_bits();
    let excluded_by_missing_rule = universe_rows - count(&in_denominator);
    let domains = indicator
        .disaggregations
        .iter()
        .map(|d| domain_codes(indicator, batch, &d.column, &d.levels))
        .collect::<Result<_, _>>()?;
    Ok(Prepared {
        in_denominator,
        value,
        not_collected,
        universe_rows,
        universe_unknown,
        excluded_by_missing_rule,
        domains,
    })
}

/// `a` and `b` row by row, with the length of `a` (rows past the end of `b` are false).
fn and(a: &BooleanBuffer, b: &BooleanBuffer) -> BooleanBuffer {
    if a.len() == b.len() {
        a & b
    } else {
        (0..a.len())
            .map(|i| a.value(i) && i < b.len() && b.value(i))
            .collect()
    }
}

/// Rows where `mask` holds.
fn count(mask: &[bool]) -> usize {
    mask.iter().filter(|&&b| b).count()
}

fn numeric_column(
    indicator: &Indicator,
    batch: &RecordBatch,
    column: &str,
) -> Result<Vec<Option<f64>>, PrepareError> {
    let array = batch
        .column_by_name(column)
        .ok_or_else(|| PrepareError::MissingColumn {
            indicator: indicator.id.clone(),
            column: column.to_string(),
        })?;
    let type_error = || PrepareError::ColumnType {
        indicator: indicator.id.clone(),
        column: column.to_string(),
        data_type: array.data_type().to_string(),
        expected: "a numeric column".into(),
    };
    if !array.data_type().is_numeric() {
        return Err(type_error());
    }
    let floats = cast(array, &DataType::Float64).map_err(|_| type_error())?;
    let floats = floats.as_primitive::<Float64Type>();
    Ok((0..floats.len())
        .map(|i| {
            floats
                .is_valid(i)
                .then(|| floats.value(i))
                .filter(|v| v.is_finite())
        })
        .collect())
}

/// Level index per row, resolved once per dictionary entry for dictionary columns.
fn domain_codes(
    indicator: &Indicator,
    batch: &RecordBatch,
    column: &str,
    levels: &[String],
) -> Result<DomainCodes, PrepareError> {
    let array = batch
        .column_by_name(column)
        .ok_or_else(|| PrepareError::MissingColumn {
            indicator: indicator.id.clone(),
            column: column.to_string(),
        })?;
    let level_of = |label: Option<&str>| {
        label
            .and_then(|l| levels.iter().position(|x| x == l))
            .map_or(NA_CODE, |p| p as u32)
    };
    let type_error = || PrepareError::ColumnType {
        indicator: indicator.id.clone(),
        column: column.to_string(),
        data_type: array.data_type().to_string(),
        expected: "a dictionary or text column of labels".into(),
    };
    let codes = match array.data_type() {
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let entries = labels(dict.values().as_ref()).ok_or_else(type_error)?;
            let per_entry: Vec<u32> = entries.into_iter().map(level_of).collect();
            let keys = dict.keys();
            // arrow's `normalized_keys` asserts on an empty dictionary (no rows, or no value in any row).
            if per_entry.is_empty() {
                vec![NA_CODE; keys.len()]
            } else if let Some(k) = keys.as_primitive_opt::<Int16Type>() {
                key_levels(k, &per_entry)
            } else if let Some(k) = keys.as_primitive_opt::<Int32Type>() {
                key_levels(k, &per_entry)
            } else if let Some(k) = keys.as_primitive_opt::<Int8Type>() {
                key_levels(k, &per_entry)
            } else {
                let nulls = keys.nulls();
                dict.normalized_keys()
                    .into_iter()
                    .enumerate()
                    .map(|(row, k)| {
                        if nulls.is_some_and(|n| n.is_null(row)) {
                            NA_CODE
                        } else {
                            per_entry.get(k).copied().unwrap_or(NA_CODE)
                        }
                    })
                    .collect()
            }
        }
        _ => labels(array.as_ref())
            .ok_or_else(type_error)?
            .into_iter()
            .map(level_of)
            .collect(),
    };
    Ok(DomainCodes {
        column: column.to_string(),
        levels: levels.to_vec(),
        codes,
    })
}

/// The level of every row of a dictionary column from its keys, read in place (no `normalized_keys` vector):
/// `per_entry[k]` for key k, [`NA_CODE`] for a null key (and a key outside the dictionary).
fn key_levels<K: ArrowPrimitiveType>(keys: &PrimitiveArray<K>, per_entry: &[u32]) -> Vec<u32> {
    let nulls = keys.nulls();
    keys.values()
        .iter()
        .enumerate()
        .map(|(row, k)| {
            if nulls.is_some_and(|n| n.is_null(row)) {
                NA_CODE
            } else {
                k.to_usize()
                    .and_then(|k| per_entry.get(k).copied())
                    .unwrap_or(NA_CODE)
            }
        })
        .collect()
}

fn labels(array: &dyn Array) -> Option<Vec<Option<&str>>> {
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().iter().collect()),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().iter().collect()),
        DataType::Utf8View => Some(array.as_string_view().iter().collect()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "prepare_tests.rs"]
mod tests;
