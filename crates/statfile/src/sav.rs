//! SPSS `.sav` (UTF-8), written with the `ambers` crate: bytecode-compressed (as SPSS saves by default), zlib
//! (`.zsav` layout, SPSS 21+) or uncompressed ([`SavCompression`]).
//!
//! Numeric columns are 8-byte floats; a tagged missing code `i` of the table is written as its `spss_value` (e.g.
//! `-1`) and its label goes into the column's value labels. Dates are SPSS dates (seconds since 1582-10-14), format
//! `DATE11` unless the column names another (`EDATE10`, ...). Text columns are `A<width>` (width = the longest
//! cell in bytes, 1 to 32,767). Columns with value labels are nominal; user-missing values are declared as given
//! ([`UserMissing`]). Default formats: `F8.0` (integer storage), `F12.4` (double). The header's creation time is
//! fixed so that the bytes depend only on the table.

use std::io::Cursor;
use std::sync::Arc;

use ambers::{Compression, Measure, MissingSpec, SpssMetadata, Value};
use arrow::array::{ArrayRef, Date32Array, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use crate::error::StatfileError;
use crate::model::{LabelledTable, Num, UserMissing, ValueKey, Values};

const FORMAT: &str = "SPSS .sav";

/// Written into every header instead of the clock (deterministic bytes).
pub const CREATION_TIME: &str = "2021-06-30 12:00:00";

/// Compression of the data records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavCompression {
    None,
    /// Run-length bytecode (SPSS's default).
    Bytecode,
    /// Zlib blocks (`.zsav`), read by SPSS 21+, pyreadstat, haven.
    Zlib,
}

/// The whole file in memory.
pub fn encode(
    table: &LabelledTable,
    compression: SavCompression,
) -> Result<Vec<u8>, StatfileError> {
    let (batch, meta) = batch_and_metadata(table)?;
    let compression = match compression {
        SavCompression::None => Compression::None,
        SavCompression::Bytecode => Compression::Bytecode,
        SavCompression::Zlib => Compression::Zlib,
    };
    write_batch(&batch, &meta, compression)
}

/// The whole file of `batch` with dictionary `meta`, in memory.
pub(crate) fn write_batch(
    batch: &RecordBatch,
    meta: &SpssMetadata,
    compression: Compression,
) -> Result<Vec<u8>, StatfileError> {
    let mut out = Cursor::new(Vec::new());
    ambers::write_sav_to_writer(&mut out, batch, meta, compression, None).map_err(library)?;
    Ok(out.into_inner())
}

fn library(message: impl ToString) -> StatfileError {
    StatfileError::Library {
        format: FORMAT,
        message: message.to_string(),
    }
}

/// The Arrow batch and SPSS dictionary of a table.
pub fn batch_and_metadata(
    table: &LabelledTable,
) -> Result<(RecordBatch, SpssMetadata), StatfileError> {
    let rows = table.rows();
    let tagged = |t: u8, column: &str| {
        table
            .missing
            .get(usize::from(t))
            .map(|m| m.spss_value)
            .ok_or_else(|| {
                StatfileError::invalid(
                    FORMAT,
                    format!("column `{column}`: missing tag {t} is not a code of the table"),
                )
            })
    };
    let mut fields = Vec::with_capacity(table.columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(table.columns.len());
    for column in &table.columns {
        if column.values.len() != rows {
            return Err(StatfileError::invalid(
                FORMAT,
                format!(
                    "column `{}` has {} cells, the table {rows} rows",
                    column.name,
                    column.values.len()
                ),
            ));
        }
        match &column.values {
            Values::Numeric { cells, .. } => {
                let values = cells
                    .iter()
                    .map(|c| match c {
                        Num::Value(v) => Ok(Some(*v)),
                        Num::System => Ok(None),
                        Num::Tagged(t) => tagged(*t, &column.name).map(Some),
                    })
                    .collect::<Result<Vec<Option<f64>>, _>>()?;
                fields.push(Field::new(&column.name, DataType::Float64, true));
                arrays.push(Arc::new(Float64Array::from(values)));
            }
            Values::Date(cells) => {
                fields.push(Field::new(&column.name, DataType::Date32, true));
                arrays.push(Arc::new(Date32Array::from(cells.clone())));
            }
            Values::Text(cells) => {
                fields.push(Field::new(&column.name, DataType::Utf8, true));
                arrays.push(Arc::new(StringArray::from_iter_values(cells.iter())));
            }
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(library)?;
    let mut meta = SpssMetadata::from_arrow_schema(&schema);
    meta.creation_time = CREATION_TIME.to_string();
    meta.file_label = table.label.clone();
    for column in &table.columns {
        let name = column.name.clone();
        if let Some(label) = &column.label {
            meta.variable_labels.insert(name.clone(), label.clone());
        }
        let (format, display) = match &column.values {
            Values::Text(cells) => {
                let width = cells
                    .iter()
                    .map(String::len)
                    .max()
                    .unwrap_or(0)
                    .clamp(1, 32_767);
                meta.variable_storage_widths.insert(name.clone(), width);
                (format!("A{width}"), width.min(40) as u32)
            }
            Values::Date(_) => ("DATE11".to_string(), 11),
            Values::Numeric { storage, .. } if storage.is_integer() => ("F8.0".to_string(), 8),
            Values::Numeric { .. } => ("F12.4".to_string(), 12),
        };
        meta.variable_formats
            .insert(name.clone(), column.spss_format.clone().unwrap_or(format));
        meta.variable_display_widths
            .insert(name.clone(), column.spss_display_width.unwrap_or(display));
        if !matches!(column.values, Values::Numeric { .. }) {
            continue;
        }
        let labels = column
            .value_labels
            .iter()
            .map(|(key, label)| {
                let v = match key {
                    ValueKey::Code(v) => *v,
                    ValueKey::Missing(t) => tagged(*t, &column.name)?,
                };
                Ok((Value::Numeric(v), label.clone()))
            })
            .collect::<Result<Vec<_>, StatfileError>>()?;
        if !labels.is_empty() {
            let measure = if column.ordinal {
                Measure::Ordinal
            } else {
                Measure::Nominal
            };
            meta.variable_measures.insert(name.clone(), measure);
            meta.variable_value_labels
                .insert(name.clone(), labels.into_iter().collect());
        }
        let specs = match &column.user_missing {
            UserMissing::None => Vec::new(),
            UserMissing::Discrete(values) => values
                .iter()
                .take(3)
                .copied()
                .map(MissingSpec::Value)
                .collect(),
            UserMissing::Range { lo, hi } => vec![MissingSpec::Range { lo: *lo, hi: *hi }],
        };
        if !specs.is_empty() {
            meta.variable_missing_values.insert(name, specs);
        }
    }
    Ok((batch, meta))
}
