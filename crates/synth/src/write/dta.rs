//! Stata `.dta` deliveries: the [`TextTable`] as a [`dh_statfile::LabelledTable`], written by the workspace's one
//! `.dta` writer ([`dh_statfile::dta`], format 118, no clock in the header).
//!
//! Numeric columns whose cells are all integers in Stata's `long` range are `long` (`%12.0g`), other numeric
//! columns `double` (`%10.0g`); text columns are `strN`. Empty cells of numeric columns are system missing `.`.
//! Integer-coded columns with value labels (every code an integer) get a label set named after the variable.

use std::path::Path;

use dh_config::Delivery;
use dh_statfile::{Column, LabelledTable, Num, Storage, ValueKey, Values};

use super::FormatWriter;
use super::table::{TextColumn, TextTable};
use crate::error::SynthError;

pub struct DtaWriter;

const FORMAT: &str = "Stata .dta";

/// Largest non-missing `long`.
const LONG_MAX: i64 = 2_147_483_620;

impl FormatWriter for DtaWriter {
    fn write(
        &self,
        path: &Path,
        _delivery: &Delivery,
        table: &TextTable,
    ) -> Result<(), SynthError> {
        let bytes = encode(path, table)?;
        std::fs::write(path, bytes).map_err(|e| SynthError::io(path, e))
    }
}

/// The whole file in memory.
pub fn encode(path: &Path, table: &TextTable) -> Result<Vec<u8>, SynthError> {
    let ferr = |message: String| SynthError::Format {
        path: path.to_path_buf(),
        format: FORMAT,
        message,
    };
    let model = LabelledTable {
        label: String::new(),
        columns: table
            .columns
            .iter()
            .map(|c| column(c).map_err(&ferr))
            .collect::<Result<_, _>>()?,
        missing: Vec::new(),
    };
    dh_statfile::dta::encode(&model).map_err(|e| ferr(e.to_string()))
}

fn column(text: &TextColumn) -> Result<Column, String> {
    let values = if text.is_numeric() {
        let long = text.iter().filter(|c| !c.is_empty()).all(|c| {
            c.parse::<i64>()
                .is_ok_and(|v| (-LONG_MAX..=LONG_MAX).contains(&v))
        });
        let cells =
            text.iter()
                .enumerate()
                .map(|(row, c)| match c {
                    "" => Ok(Num::System),
                    _ => c.parse::<f64>().map(Num::Value).map_err(|_| {
                        format!("row {}, column `{}`: not a number", row + 1, text.name)
                    }),
                })
                .collect::<Result<_, _>>()?;
        Values::Numeric {
            storage: if long { Storage::Long } else { Storage::Double },
            cells,
        }
    } else {
        Values::Text(text.iter().map(str::to_string).collect())
    };
    let mut column = Column::new(text.name.clone(), values);
    column.label = text.variable_label.clone();
    // A label set only when every code is an integer (as Stata requires); otherwise none.
    let codes: Option<Vec<(ValueKey, String)>> = text
        .value_labels
        .iter()
        .map(|(code, label)| {
            code.parse::<i32>()
                .ok()
                .map(|v| (ValueKey::Code(f64::from(v)), label.clone()))
        })
        .collect();
    column.value_labels = codes.unwrap_or_default();
    Ok(column)
}
