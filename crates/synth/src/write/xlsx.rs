//! Excel `.xlsx` deliveries (police workbooks, or any table), written with `rust_xlsxwriter`.
//!
//! One worksheet per table, named by the delivery's `sheet` (default `Sheet1`); row 1 is the header, unless the
//! delivery sets `header_row` (agency exports): then a `Cover` sheet of notes comes first when the delivery names
//! its data sheet, the rows above the header hold a title, and `skip_rows` rows of variable labels (the column's
//! question text) follow the header, as fieldwork agencies' exports do. Numeric
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
        let layout = Layout {
            header_row: delivery.header_row.max(1),
            label_rows: delivery.skip_rows,
            cover: delivery.header_row > 1 && delivery.sheet.is_some(),
        };
        write_sheets(path, &[(sheet, table)], layout)
    }
}

/// Where the table sits in its sheet (see the module documentation).
#[derive(Clone, Copy)]
struct Layout {
    /// 1-based row of the header.
    header_row: u32,
    /// Rows of variable labels right under the header.
    label_rows: u32,
    /// A `Cover` sheet of notes before the data sheets.
    cover: bool,
}

/// Lines of the cover sheet and of the title above a lowered header (no data, no personal information).
const COVER_LINES: [&str; 3] = [
    "Data export for the Disrupting Harm household survey",
    "Prepared by the fieldwork agency; see the codebook for variable definitions",
    "Do not circulate",
];

#[derive(Clone, Copy)]
enum Kind {
    Number,
    Date,
    Text,
}

fn kind_of(column: &TextColumn) -> Kind {
    if column.is_numeric() {
        Kind::Number
    } else if column.iter().any(|c| !c.is_empty())
        && column
            .iter()
            .all(|c| c.is_empty() || dh_config::calendar::is_iso_date(c))
    {
        Kind::Date
    } else {
        Kind::Text
    }
}

/// Writes `sheets` (name, table) into one workbook at `path`, each header in row 1.
pub fn write_xlsx(path: &Path, sheets: &[(&str, &TextTable)]) -> Result<(), SynthError> {
    let layout = Layout {
        header_row: 1,
        label_rows: 0,
        cover: false,
    };
    write_sheets(path, sheets, layout)
}

fn write_sheets(
    path: &Path,
    sheets: &[(&str, &TextTable)],
    layout: Layout,
) -> Result<(), SynthError> {
    let ferr = |e: XlsxError| SynthError::Format {
        path: path.to_path_buf(),
        format: FORMAT,
        message: e.to_string(),
    };
    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_ymd(2021, 6, 30).map_err(ferr)?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    if layout.cover {
        let cover = workbook.add_worksheet();
        cover.set_name("Cover").map_err(ferr)?;
        for (r, line) in COVER_LINES.iter().enumerate() {
            cover.write_string(r as u32 * 2, 0, *line).map_err(ferr)?;
        }
    }
    let header = layout.header_row - 1;
    let first_data = header + 1 + layout.label_rows;
    for (name, table) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*name).map_err(ferr)?;
        for (r, line) in COVER_LINES.iter().take(header as usize).enumerate() {
            sheet.write_string(r as u32, 0, *line).map_err(ferr)?;
        }
        for (c, column) in table.columns.iter().enumerate() {
            let col = u16::try_from(c).map_err(|_| {
                ferr(XlsxError::ParameterError(format!(
                    "{} columns exceed Excel's limit",
                    table.columns.len()
                )))
            })?;
            sheet
                .write_string(header, col, &column.name)
                .map_err(ferr)?;
            for r in 0..layout.label_rows {
                let label = column.variable_label.as_deref().unwrap_or(&column.name);
                sheet
                    .write_string(header + 1 + r, col, label)
                    .map_err(ferr)?;
            }
            let kind = kind_of(column);
            for (r, cell) in column.iter().enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let row = u32::try_from(r + first_data as usize).map_err(|_| {
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
