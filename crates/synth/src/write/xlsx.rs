//! Excel `.xlsx` deliveries (police workbooks, or any table), written with `rust_xlsxwriter`.
//!
//! One worksheet per table, named by the delivery's `sheet` (default `Sheet1`); row 1 is the header. Numeric
//! columns (every cell a plain decimal number) are written as numbers, columns whose cells are all ISO dates
//! (`YYYY-MM-DD`) as dates formatted `yyyy-mm-dd`, everything else as text; empty cells are left blank. The
//! document's creation time is fixed so the bytes depend only on the data. [`write_xlsx`] writes several sheets
//! into one workbook for callers outside the survey deliveries.

use std::path::Path;

use dh_config::Delivery;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use super::FormatWriter;
use super::table::{TextColumn, TextTable};
use crate::error::SynthError;

pub struct XlsxWriter;

const FORMAT: &str = "Excel .xlsx";

impl FormatWriter for XlsxWriter {
    fn write(&self, path: &Path, delivery: &Delivery, table: &TextTable) -> Result<(), SynthError> {
        let sheet = delivery.sheet.as_deref().unwrap_or("Sheet1");
        write_xlsx(path, &[(sheet, table)])
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Number,
    Date,
    Text,
}

fn is_iso_date(cell: &str) -> bool {
    let b = cell.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn kind_of(column: &TextColumn) -> Kind {
    if column.is_numeric() {
        Kind::Number
    } else if column.iter().any(|c| !c.is_empty())
        && column.iter().all(|c| c.is_empty() || is_iso_date(c))
    {
        Kind::Date
    } else {
        Kind::Text
    }
}

/// Writes `sheets` (name, table) into one workbook at `path`.
pub fn write_xlsx(path: &Path, sheets: &[(&str, &TextTable)]) -> Result<(), SynthError> {
    let ferr = |e: XlsxError| SynthError::Format {
        path: path.to_path_buf(),
        format: FORMAT,
        message: e.to_string(),
    };
    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(2021, 6, 30).map_err(ferr)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for (name, table) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*name).map_err(ferr)?;
        for (c, column) in table.columns.iter().enumerate() {
            let col = u16::try_from(c).map_err(|_| {
                ferr(XlsxError::ParameterError(format!(
                    "{} columns exceed Excel's limit",
                    table.columns.len()
                )))
            })?;
            sheet.write_string(0, col, &column.name).map_err(ferr)?;
            let kind = kind_of(column);
            for (r, cell) in column.iter().enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let row = u32::try_from(r + 1).map_err(|_| {
                    ferr(XlsxError::ParameterError("too many rows for Excel".into()))
                })?;
                match kind {
                    Kind::Number => match cell.parse::<f64>() {
                        Ok(x) => sheet.write_number(row, col, x).map(|_| ()),
                        Err(_) => sheet.write_string(row, col, cell).map(|_| ()),
                    },
                    Kind::Date => match ExcelDateTime::parse_from_str(cell) {
                        Ok(d) => sheet
                            .write_datetime_with_format(row, col, &d, &date_format)
                            .map(|_| ()),
                        Err(_) => sheet.write_string(row, col, cell).map(|_| ()),
                    },
                    Kind::Text => sheet.write_string(row, col, cell).map(|_| ()),
                }
                .map_err(ferr)?;
            }
        }
    }
    workbook.save(path).map_err(ferr)
}
