//! SPSS `.sav` deliveries, written with the `ambers` crate (bytecode-compressed, UTF-8, as current SPSS versions
//! save by default).
//!
//! Numeric columns (every cell a plain decimal number) become numeric variables (`F<w>.<d>`, empty cells
//! system-missing); other columns string variables `A<w>` (w = longest cell in bytes). Numeric coded columns carry
//! their value labels and declare the missing codes of the mapping as user-missing: up to three discrete values,
//! or, when there are more, one range over them if no category code falls inside it (plus no discrete value),
//! else the three smallest. The header's creation time is fixed so that the bytes depend only on the data.

use std::path::Path;
use std::sync::Arc;

use ambers::{Compression, Measure, MissingSpec, SpssMetadata, Value};
use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use dh_config::Delivery;

use super::FormatWriter;
use super::table::{TextColumn, TextTable};
use crate::error::SynthError;

pub struct SavWriter;

const FORMAT: &str = "SPSS .sav";

/// Written into every header instead of the clock (deterministic bytes).
const CREATION_TIME: &str = "2021-06-30 12:00:00";

impl FormatWriter for SavWriter {
    fn write(
        &self,
        path: &Path,
        _delivery: &Delivery,
        table: &TextTable,
    ) -> Result<(), SynthError> {
        let ferr = |message: String| SynthError::Format {
            path: path.to_path_buf(),
            format: FORMAT,
            message,
        };
        let (batch, meta) = batch_and_metadata(table).map_err(&ferr)?;
        ambers::write_sav(path, &batch, &meta, Compression::Bytecode, None)
            .map_err(|e| ferr(e.to_string()))
    }
}

/// The Arrow batch and SPSS dictionary of a table.
pub fn batch_and_metadata(table: &TextTable) -> Result<(RecordBatch, SpssMetadata), String> {
    let mut fields = Vec::with_capacity(table.columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(table.columns.len());
    let numeric: Vec<bool> = table.columns.iter().map(TextColumn::is_numeric).collect();
    for (column, is_numeric) in table.columns.iter().zip(&numeric) {
        if *is_numeric {
            let values: Vec<Option<f64>> = column
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        None
                    } else {
                        c.parse::<f64>().ok()
                    }
                })
                .collect();
            fields.push(Field::new(&column.name, DataType::Float64, true));
            arrays.push(Arc::new(Float64Array::from(values)));
        } else {
            fields.push(Field::new(&column.name, DataType::Utf8, true));
            arrays.push(Arc::new(StringArray::from_iter_values(column.iter())));
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?;
    let mut meta = SpssMetadata::from_arrow_schema(&schema);
    meta.creation_time = CREATION_TIME.to_string();
    meta.file_label = "Disrupting Harm synthetic delivery".to_string();
    for (column, is_numeric) in table.columns.iter().zip(&numeric) {
        let name = column.name.clone();
        if let Some(label) = &column.variable_label {
            meta.variable_labels.insert(name.clone(), label.clone());
        }
        if !is_numeric {
            let width = column
                .iter()
                .map(str::len)
                .max()
                .unwrap_or(0)
                .clamp(1, 32_767);
            meta.variable_formats
                .insert(name.clone(), format!("A{width}"));
            meta.variable_storage_widths.insert(name.clone(), width);
            meta.variable_display_widths
                .insert(name.clone(), width.min(40) as u32);
            continue;
        }
        let decimals = column
            .iter()
            .filter_map(|c| c.split_once('.').map(|(_, f)| f.len()))
            .max()
            .unwrap_or(0)
            .min(16);
        let int_width = column.iter().map(str::len).max().unwrap_or(1).max(1);
        let width = (int_width + 1).clamp(decimals + 2, 40);
        meta.variable_formats
            .insert(name.clone(), format!("F{width}.{decimals}"));
        meta.variable_display_widths
            .insert(name.clone(), width as u32);
        let labels: Vec<(f64, &str)> = column
            .value_labels
            .iter()
            .filter_map(|(code, label)| code.parse::<f64>().ok().map(|x| (x, label.as_str())))
            .collect();
        if labels.is_empty() {
            continue;
        }
        meta.variable_measures
            .insert(name.clone(), Measure::Nominal);
        meta.variable_value_labels.insert(
            name.clone(),
            labels
                .iter()
                .map(|(x, l)| (Value::Numeric(*x), l.to_string()))
                .collect(),
        );
        let specs = missing_specs(column);
        if !specs.is_empty() {
            meta.variable_missing_values.insert(name, specs);
        }
    }
    Ok((batch, meta))
}

/// User-missing declaration for a column's missing codes (see the module documentation).
fn missing_specs(column: &TextColumn) -> Vec<MissingSpec> {
    let mut codes: Vec<f64> = column
        .missing_codes
        .iter()
        .filter_map(|c| c.parse::<f64>().ok())
        .collect();
    codes.sort_by(f64::total_cmp);
    codes.dedup();
    if codes.len() <= 3 {
        return codes.into_iter().map(MissingSpec::Value).collect();
    }
    let (lo, hi) = (codes[0], codes[codes.len() - 1]);
    let category_inside = column.value_labels.iter().any(|(code, _)| {
        code.parse::<f64>()
            .is_ok_and(|x| lo <= x && x <= hi && !codes.contains(&x))
    });
    if category_inside {
        codes.into_iter().take(3).map(MissingSpec::Value).collect()
    } else {
        vec![MissingSpec::Range { lo, hi }]
    }
}
