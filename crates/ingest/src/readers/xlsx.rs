//! Excel `.xlsx` deliveries (police workbooks and the like), read with `calamine`.
//!
//! The sheet is the delivery's `sheet` (default: the first sheet). Its first non-empty row is the header; each
//! following non-empty row is a record (fully empty rows are layout, not records, as blank lines in a CSV). Cells
//! become the text a CSV export would hold: numbers in canonical form (`1`, not `1.0`), booleans `true`/`false`,
//! dates `YYYY-MM-DD` (date-times `YYYY-MM-DD HH:MM:SS`), empty cells empty. A cell holding an Excel error (`#N/A`,
//! `#DIV/0!`) is kept as that text so that normalisation quarantines the row instead of reading it as missing.
//! Rows wider than the header are flagged as ragged like a CSV row with extra fields.

use std::fmt::Write;
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use dh_config::Delivery;

use crate::error::IngestError;
use crate::readers::cells::push_number;
use crate::readers::{DeliveryReader, ensure_exists};
use crate::table::{ColumnSelection, RawTable, RawTableBuilder};

pub struct XlsxReader;

const FORMAT: &str = "Excel .xlsx";

impl DeliveryReader for XlsxReader {
    fn read(
        &self,
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
    ) -> Result<RawTable, IngestError> {
        ensure_exists(path)?;
        let fail = |message: String| IngestError::Format {
            file: path.to_path_buf(),
            format: FORMAT,
            message,
        };
        let mut workbook: Xlsx<_> =
            open_workbook(path).map_err(|e: calamine::XlsxError| fail(e.to_string()))?;
        let names = workbook.sheet_names();
        let sheet = match &delivery.sheet {
            Some(wanted) => names
                .iter()
                .find(|n| n.as_str() == wanted.as_str())
                .cloned()
                .ok_or_else(|| IngestError::NoSheet {
                    file: path.to_path_buf(),
                    sheet: wanted.clone(),
                    available: names.join(", "),
                })?,
            None => names
                .first()
                .cloned()
                .ok_or_else(|| fail("the workbook has no worksheet".to_string()))?,
        };
        let range = workbook
            .worksheet_range(&sheet)
            .map_err(|e| fail(format!("worksheet `{sheet}`: {e}")))?;
        let mut rows = range.rows().filter(|r| r.iter().any(|c| !is_blank(c)));
        let header_row = rows.next().ok_or_else(|| IngestError::Empty {
            file: path.to_path_buf(),
        })?;
        let mut header: Vec<String> = header_row.iter().map(cell_text).collect();
        while header.last().is_some_and(|h| h.trim().is_empty()) {
            header.pop();
        }
        let mut builder = RawTableBuilder::new(path, header.clone(), keep)?;
        let mut texts: Vec<String> = Vec::new();
        for (n, row) in rows.enumerate() {
            texts.clear();
            texts.extend(row.iter().map(cell_text));
            // Trailing empty cells are the sheet's width, not fields; text beyond the header makes the row ragged.
            let last = texts
                .iter()
                .rposition(|t| !t.is_empty())
                .map_or(0, |i| i + 1);
            builder.push_row(n as u64 + 1, last.max(header.len()), |i| {
                texts.get(i).map(|t| t.as_bytes())
            })?;
        }
        Ok(builder.finish())
    }
}

/// One worksheet of a workbook: its name and the size of its used range (rows and columns holding any cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetSummary {
    pub name: String,
    pub rows: usize,
    pub columns: usize,
}

/// Every worksheet of the workbook at `path`, in workbook order, with its size (for onboarding: which sheet holds
/// the data). Reads cell values only to size the sheets; nothing is kept.
pub fn sheets(path: &Path) -> Result<Vec<SheetSummary>, IngestError> {
    ensure_exists(path)?;
    let fail = |message: String| IngestError::Format {
        file: path.to_path_buf(),
        format: FORMAT,
        message,
    };
    let mut workbook: Xlsx<_> =
        open_workbook(path).map_err(|e: calamine::XlsxError| fail(e.to_string()))?;
    let mut out = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| fail(format!("worksheet `{name}`: {e}")))?;
        let (rows, columns) = range.get_size();
        out.push(SheetSummary {
            name,
            rows,
            columns,
        });
    }
    Ok(out)
}

fn is_blank(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// The text of one cell (see the module documentation).
pub fn cell_text(cell: &Data) -> String {
    let mut out = String::new();
    match cell {
        Data::Empty => {}
        Data::String(s) => out.push_str(s),
        Data::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Data::Float(x) => push_number(&mut out, *x),
        Data::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Data::DateTime(dt) if dt.is_duration() => push_number(&mut out, dt.as_f64() * 86_400.0),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            let _ = write!(out, "{y:04}-{mo:02}-{d:02}");
            if (h, mi, s, ms) != (0, 0, 0, 0) {
                let _ = write!(out, " {h:02}:{mi:02}:{s:02}");
                if ms != 0 {
                    let _ = write!(out, ".{ms:03}");
                }
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => out.push_str(s),
        Data::Error(e) => {
            let _ = write!(out, "{e}");
        }
    }
    out
}
