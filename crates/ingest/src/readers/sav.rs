//! SPSS `.sav`/`.zsav` deliveries, read with the `ambers` crate (pure Rust, streaming Arrow batches, arrow 57 like
//! the rest of the workspace).
//!
//! Cells become the same text a CSV export would hold: numbers in canonical form (`1`, `0.25`), system-missing as
//! an empty cell, user-missing values as their code (so the config's `missing` map decides what they mean), strings
//! without SPSS's trailing blanks, dates as `YYYY-MM-DD` (date-times `YYYY-MM-DD HH:MM:SS`). Each kept column
//! carries its value labels and declared user-missing values ([`crate::ColumnLabels`]) so that a config can map codes
//! by label and normalisation can name an unmapped user-missing code. Only kept columns are decoded (projection);
//! identifiers are never read. (When no column is kept, one non-identifier variable is decoded, and dropped, only to
//! count the cases; an identifier only if the file has nothing else.) Anything the reader flags as damage (a header
//! row count that disagrees with the rows read, dates out of range) is an error, so a truncated file never loses
//! rows silently.

use std::path::Path;

use ambers::{MissingSpec, SpssMetadata, Value};
use arrow::array::{
    Array, ArrayRef, Date32Array, DurationMicrosecondArray, Float64Array, StringArray,
    StringViewArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, TimeUnit};
use dh_config::Delivery;

use crate::error::IngestError;
use crate::readers::cells::{
    CellColumns, KeptLayout, number_text, push_date, push_datetime_micros, push_number,
};
use crate::readers::{DeliveryReader, ensure_exists};
use crate::table::{ColumnLabels, ColumnSelection, RawTable, RawTableBuilder};

pub struct SavReader;

const FORMAT: &str = "SPSS .sav";

impl DeliveryReader for SavReader {
    fn read(
        &self,
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
    ) -> Result<RawTable, IngestError> {
        let fail = |e: ambers::error::SpssError| format_error(path, e);
        ensure_exists(path)?;
        let mut scanner = ambers::scan_sav(path).map_err(fail)?;
        let header = scanner.metadata().variable_names.clone();
        let layout = KeptLayout::new(header.clone(), keep);
        let mut builder = RawTableBuilder::new(path, header, keep)?;
        let kept = layout.kept_names();
        if kept.is_empty() {
            // The scanner cannot project onto no variable, and the cases must still be counted: decode one
            // variable, preferably not an identifier, without keeping its cells.
            let counter = layout
                .header
                .iter()
                .find(|h| !delivery.identifiers.iter().any(|i| i.trim() == h.trim()))
                .or(layout.header.first());
            if let Some(counter) = counter {
                scanner.select(&[counter.as_str()]).map_err(fail)?;
            }
        } else {
            scanner.select(&kept).map_err(fail)?;
        }
        let mut cells = CellColumns::new(kept.len());
        let mut rows = 0u64;
        while let Some(batch) = scanner.next_batch().map_err(fail)? {
            for (b, name) in kept.iter().enumerate() {
                let column = batch
                    .column_by_name(name)
                    .ok_or_else(|| IngestError::Format {
                        file: path.to_path_buf(),
                        format: FORMAT,
                        message: format!(
                            "variable `{name}` is in the dictionary but not in the data"
                        ),
                    })?;
                append_column(path, rows, name, column, &mut cells, b)?;
            }
            rows += batch.num_rows() as u64;
        }
        let metadata = scanner.metadata();
        if !metadata.warnings.is_empty() {
            return Err(IngestError::Format {
                file: path.to_path_buf(),
                format: FORMAT,
                message: format!("the file looks damaged: {}", metadata.warnings.join("; ")),
            });
        }
        for name in &kept {
            builder.set_labels(name, labels_of(metadata, name));
        }
        layout.finish(builder, &cells, rows)
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
                    $render(cells.buffer(b), array.value(i));
                }
                cells.end_cell(b);
            }
        }};
    }
    match column.data_type() {
        DataType::Float64 => each!(Float64Array, |out: &mut String, x: f64| push_number(out, x)),
        DataType::Utf8View => each!(StringViewArray, |out: &mut String, s: &str| out
            .push_str(s.trim_end_matches(' '))),
        DataType::Utf8 => each!(StringArray, |out: &mut String, s: &str| out
            .push_str(s.trim_end_matches(' '))),
        DataType::Date32 => each!(Date32Array, |out: &mut String, d: i32| push_date(
            out,
            i64::from(d)
        )),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            each!(TimestampMicrosecondArray, |out: &mut String, us: i64| {
                push_datetime_micros(out, us)
            })
        }
        DataType::Duration(TimeUnit::Microsecond) => {
            each!(DurationMicrosecondArray, |out: &mut String, us: i64| {
                push_number(out, us as f64 / 1e6)
            })
        }
        other => return Err(unsupported(other)),
    }
    Ok(())
}

/// Value labels and user-missing declarations of one variable.
fn labels_of(metadata: &SpssMetadata, name: &str) -> ColumnLabels {
    let mut labels = ColumnLabels::default();
    if let Some(map) = metadata.value_labels(name) {
        for (value, label) in map {
            labels.value_labels.push((value_text(value), label.clone()));
        }
    }
    if let Some(specs) = metadata.variable_missing_values.get(name) {
        for spec in specs {
            match spec {
                MissingSpec::Value(x) => labels.missing_codes.push(number_text(*x)),
                MissingSpec::StringValue(s) => labels
                    .missing_codes
                    .push(s.trim_end_matches(' ').to_string()),
                MissingSpec::Range { lo, hi } => labels.missing_ranges.push((*lo, *hi)),
            }
        }
    }
    labels
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Numeric(x) => number_text(*x),
        Value::String(s) => s.trim_end_matches(' ').to_string(),
    }
}
