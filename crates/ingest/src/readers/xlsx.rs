//! Excel `.xlsx` deliveries (police workbooks, caregiver sheets), read with `calamine`.
//!
//! **Sheet.** The delivery's `sheet` (default: the first sheet); a sheet that is not there is an error listing the
//! sheets that are. [`sheets`] lists every sheet with its size (for onboarding).
//!
//! **Layout.** `header_row` is the Excel row number (1-based, as Excel shows it, even when the used range starts
//! lower) of the row holding the variable names: a cover text above the table is skipped by setting it. The default,
//! 1, means "the first non-blank row", so a sheet whose first rows are blank reads as before. `skip_rows` Excel rows
//! right after the header (blank ones included) are not data, e.g. a second header row of labels: data starts at Excel
//! row `header_row + skip_rows + 1`. From there every non-blank row is a record; fully blank rows are layout, not
//! records (as blank lines in a CSV). Rows above the header and skipped rows are not records: never stored, never
//! counted. [`crate::RawTable::row_numbers`] holds each record's 1-based index among the data records (not its Excel
//! row number), as for every format, so ledger and quarantine row numbers mean the same whatever the format; warnings
//! and errors about single cells name them as Excel does (`Data!C7`). Columns count from the first column used at or
//! below the header row.
//!
//! **Cells** become the text a CSV export would hold: numbers in canonical form (`1`, not `1.0`), booleans
//! `true`/`false`, empty cells empty. A date or time cell (a number with a date or time format) is written by its
//! value, rounded to the millisecond Excel stores, through [`crate::readers::cells`]: a whole day `YYYY-MM-DD`, a
//! date and time `YYYY-MM-DD HH:MM:SS` (with the fraction's significant digits, `.5`), and a time of day with no date
//! part (serial below 1, e.g. a cell typed `13:30:15`) `13:30:15`, never `1899-12-31 13:30:15`. A date part that is
//! not zero is kept even under a time-only format, so one instant gives one text whatever its format (as openpyxl
//! reads it). The 1904 date system gives the same dates as the 1900 one. Serials outside Excel's date range stay
//! numbers; a duration (a `[h]:mm:ss` format) is `HH:MM:SS` with hours past 24 (`36:00:00`), rounded to the
//! millisecond, as SPSS `TIME`/`DTIME` and R `hms` durations read, so a time under a day reads `13:30:15` whether
//! its format was a time of day or a duration. A cell holding an Excel error (`#N/A`, `#DIV/0!`) is kept as that
//! text so that normalisation quarantines the row instead of reading it as missing. Rows wider than the header are
//! flagged as ragged like a CSV row with extra fields.
//!
//! **Merged cells** read as calamine gives them: the value is in the top-left cell of the merged range only, every
//! other cell of it reads as empty. A merged range over kept data cells gives a warning naming it.
//!
//! **Formulas** read as their cached value (what Excel last computed and saved). A formula without one (files written
//! by libraries that do not calculate) reads as empty and gives a warning naming sheet and cell (the first
//! [`MAX_CELL_WARNINGS`], then a count), for the cells that end up in the table.
//!
//! **Cells calamine refuses.** calamine refuses a whole sheet over one value it cannot parse, e.g. a number stored
//! with a leading blank (`<v> 41</v>`, which Excel and openpyxl read as 41). The sheet is then read again from a copy
//! of the workbook in which such values are trimmed (module `repair`); a cell that still cannot be read is an
//! [`IngestError::UnreadableCell`] naming sheet and cell, never its content.
//!
//! **Bounds.** Before calamine opens a workbook, every member is decompressed once as a stream and measured (module
//! `bounds`): a member expanding more than 250 times, a workbook expanding beyond 1 GiB (`DH_XLSX_MAX_UNCOMPRESSED_MB`
//! overrides it) or a shared-string table declaring more strings than it holds is an [`IngestError::Format`], so
//! nothing is allocated from a size the archive merely declares.

mod bounds;
mod repair;

use std::fmt::Write;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

use calamine::{Data, DataRef, ExcelDateTime, ExcelDateTimeType, Reader, Xlsx, XlsxError};
use dh_config::Delivery;

use crate::error::IngestError;
use crate::readers::cells::{push_datetime_micros, push_duration, push_number, push_time_of_day};
use crate::readers::{DeliveryReader, ensure_exists};
use crate::table::{ColumnSelection, RawTable, RawTableBuilder};

pub struct XlsxReader;

const FORMAT: &str = "Excel .xlsx";

/// Cell-level warnings of one kind given per sheet before the rest are only counted.
pub const MAX_CELL_WARNINGS: usize = 20;

impl DeliveryReader for XlsxReader {
    fn format_label(&self) -> &'static str {
        FORMAT
    }

    fn read(
        &self,
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
    ) -> Result<RawTable, IngestError> {
        ensure_exists(path)?;
        bounds::check(path, bounds::max_uncompressed())?;
        let sheet = load_sheet(path, delivery.sheet.as_deref())?;
        build_table(path, &sheet, delivery, keep)
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
    bounds::check(path, bounds::max_uncompressed())?;
    let names = open(path)?.sheet_names();
    let mut out = Vec::new();
    for name in names {
        let sheet = load_sheet(path, Some(&name))?;
        let bounds = |f: fn(&(u32, u32, Data)) -> u32| {
            let min = sheet.cells.iter().map(f).min();
            let max = sheet.cells.iter().map(f).max();
            match (min, max) {
                (Some(lo), Some(hi)) => (hi - lo) as usize + 1,
                _ => 0,
            }
        };
        out.push(SheetSummary {
            rows: bounds(|c| c.0),
            columns: bounds(|c| c.1),
            name,
        });
    }
    Ok(out)
}

/// Most cells a worksheet's rectangle (first to last used row, first to last used column) may span for
/// [`check_dense`]: a dense grid of calamine cells costs about 32 bytes each.
pub const MAX_DENSE_CELLS: u64 = 20_000_000;

/// Refuses a worksheet whose used rectangle spans more than [`MAX_DENSE_CELLS`] cells, before a caller lays it out
/// densely (calamine's `worksheet_range` allocates the whole rectangle: one cell at XFD1048576 asked for 512 GiB).
/// Reads the sheet sparsely (its cells only) to measure it; the error names the corners, never a cell's content.
pub fn check_dense(path: &Path, sheet: &str) -> Result<(), IngestError> {
    ensure_exists(path)?;
    bounds::check(path, bounds::max_uncompressed())?;
    let loaded = load_sheet(path, Some(sheet))?;
    let span = |f: fn(&(u32, u32, Data)) -> u32| {
        let lo = loaded.cells.iter().map(f).min().unwrap_or(0);
        let hi = loaded.cells.iter().map(f).max().unwrap_or(0);
        (lo, hi)
    };
    let (r0, r1) = span(|c| c.0);
    let (c0, c1) = span(|c| c.1);
    let cells = (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
    if !loaded.cells.is_empty() && cells > MAX_DENSE_CELLS {
        return Err(format_error(
            path,
            format!(
                "worksheet `{sheet}` spans {}:{} ({cells} cells), more than the {MAX_DENSE_CELLS} cells laid out at \
                 once; delete the stray cells far from the table and save the file again",
                cell_name(r0, c0),
                cell_name(r1, c1)
            ),
        ));
    }
    Ok(())
}

/// The non-empty cells of one worksheet, in (row, column) order, with what the table builder needs besides.
struct Sheet {
    name: String,
    /// (0-based row, 0-based column, value), empty cells left out.
    cells: Vec<(u32, u32, Data)>,
    /// Cells holding a formula but no cached value.
    formulas_without_value: Vec<(u32, u32)>,
    /// Merged ranges ((first row, first column), (last row, last column)), 0-based.
    merged: Vec<((u32, u32), (u32, u32))>,
}

fn format_error(path: &Path, message: String) -> IngestError {
    IngestError::Format {
        file: path.to_path_buf(),
        format: FORMAT,
        message,
    }
}

fn open(path: &Path) -> Result<Xlsx<std::io::BufReader<std::fs::File>>, IngestError> {
    calamine::open_workbook(path).map_err(|e: XlsxError| format_error(path, describe(&e)))
}

/// Reads the sheet named `wanted` (default: the first), falling back to a repaired copy of the workbook when calamine
/// refuses a cell (see the module documentation).
fn load_sheet(path: &Path, wanted: Option<&str>) -> Result<Sheet, IngestError> {
    let mut workbook = open(path)?;
    let names = workbook.sheet_names();
    let name = match wanted {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .cloned()
            .ok_or_else(|| IngestError::NoSheet {
                file: path.to_path_buf(),
                sheet: wanted.to_string(),
                available: names.join(", "),
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| format_error(path, "the workbook has no worksheet".to_string()))?,
    };
    let unreadable =
        |e: &XlsxError| format_error(path, format!("worksheet `{name}`: {}", describe(e)));
    let scan = repair::scan_sheet(path, &name);
    let with_merges = |mut sheet: Sheet, workbook: &mut Xlsx<_>| -> Result<Sheet, XlsxError> {
        sheet.merged = match &scan {
            Some(scan) => scan.merged.clone(),
            None => workbook
                .merge_cells_by_sheet_name(&name)?
                .into_iter()
                .map(|d| (d.start, d.end))
                .collect(),
        };
        Ok(sheet)
    };
    let first = read_sheet(&mut workbook, &name);
    // calamine refuses a padded number but reads a padded or non-numeric shared-string index as string 0 without an
    // error: a sheet with any of them is read through the repaired copy.
    if first.is_ok() && !scan.as_ref().is_some_and(|s| s.suspect) {
        return first
            .and_then(|sheet| with_merges(sheet, &mut workbook))
            .map_err(|e| unreadable(&e));
    }
    let Some(bytes) = repair::repaired_workbook(path, &name)? else {
        return first
            .and_then(|sheet| with_merges(sheet, &mut workbook))
            .map_err(|e| unreadable(&e));
    };
    let mut repaired = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    read_sheet(&mut repaired, &name)
        .and_then(|sheet| with_merges(sheet, &mut workbook))
        .map_err(|e| unreadable(&e))
}

/// calamine's error text, except for the errors whose text would quote a cell's content.
fn describe(e: &XlsxError) -> String {
    match e {
        XlsxError::Unrecognized { typ, .. } => format!("a {typ} could not be read"),
        XlsxError::CellError(_) => "a cell holds an unknown Excel error value".to_string(),
        XlsxError::ParseFloat(_) | XlsxError::ParseInt(_) => {
            "a number cell holds a value that is not a number".to_string()
        }
        other => other.to_string(),
    }
}

fn read_sheet<RS: Read + Seek>(workbook: &mut Xlsx<RS>, name: &str) -> Result<Sheet, XlsxError> {
    let mut cells = Vec::new();
    let mut formulas_without_value = Vec::new();
    {
        let mut reader = workbook.worksheet_cells_reader(name)?;
        while let Some(record) = reader.next_cell_with_formula_metadata()? {
            let (row, col) = record.pos;
            match record.value {
                DataRef::Empty => {
                    if record.formula.is_some() {
                        formulas_without_value.push((row, col));
                    }
                }
                value => cells.push((row, col, Data::from(value))),
            }
        }
    }
    if !cells.is_sorted_by_key(|c| (c.0, c.1)) {
        cells.sort_by_key(|c| (c.0, c.1));
    }
    Ok(Sheet {
        name: name.to_string(),
        cells,
        formulas_without_value,
        merged: Vec::new(),
    })
}

/// The sheet's rows: (0-based row, its cells), in order.
fn rows(cells: &[(u32, u32, Data)]) -> impl Iterator<Item = (u32, &[(u32, u32, Data)])> {
    cells
        .chunk_by(|a, b| a.0 == b.0)
        .map(|chunk| (chunk[0].0, chunk))
}

fn build_table(
    path: &Path,
    sheet: &Sheet,
    delivery: &Delivery,
    keep: &ColumnSelection,
) -> Result<RawTable, IngestError> {
    let non_blank = |row: &[(u32, u32, Data)]| row.iter().any(|c| !is_blank(&c.2));
    let header_index = if delivery.header_row <= 1 {
        rows(&sheet.cells)
            .find(|(_, r)| non_blank(r))
            .map(|(i, _)| i)
            .ok_or_else(|| IngestError::Empty {
                file: path.to_path_buf(),
            })?
    } else {
        let wanted = delivery.header_row - 1;
        let last = sheet.cells.last().map(|c| c.0);
        let found = rows(&sheet.cells).find(|(i, r)| *i == wanted && non_blank(r));
        match (found, last) {
            (Some((i, _)), _) => i,
            (None, Some(last)) if last >= wanted => {
                return Err(header_error(
                    path,
                    delivery,
                    format!("row {} of worksheet `{}` is empty", wanted + 1, sheet.name),
                ));
            }
            (None, last) => {
                let end = last.map_or("holds no cell".to_string(), |l| {
                    format!("ends at row {}", l + 1)
                });
                return Err(header_error(
                    path,
                    delivery,
                    format!("worksheet `{}` {end}", sheet.name),
                ));
            }
        }
    };
    let data_start = header_index
        .saturating_add(1)
        .saturating_add(delivery.skip_rows);
    let in_table = |row: u32| row == header_index || row >= data_start;
    let first_col = sheet
        .cells
        .iter()
        .filter(|c| in_table(c.0))
        .map(|c| c.1)
        .min()
        .unwrap_or(0);
    let header_cells = rows(&sheet.cells)
        .find(|(i, _)| *i == header_index)
        .map_or(&[][..], |(_, r)| r);
    let mut header: Vec<String> = Vec::new();
    for (_, col, value) in header_cells {
        let at = (col - first_col) as usize;
        header.resize(at, String::new());
        header.push(cell_text(value));
    }
    while header.last().is_some_and(|h| h.trim().is_empty()) {
        header.pop();
    }
    let mut builder = RawTableBuilder::new(path, header.clone(), keep)?;
    // Whether a sheet column is a kept column of the table (columns left of the table are not).
    let kept_col = |col: u32| {
        col.checked_sub(first_col)
            .is_some_and(|at| (at as usize) < header.len() && builder.keeps(at as usize))
    };
    let mut warnings = CellWarnings::new(
        &sheet.name,
        "formula without a cached value, read as empty (the file was \
         saved by a program that does not calculate formulas; opening and saving it in Excel or LibreOffice stores \
         the values)",
    );
    for &(row, col) in &sheet.formulas_without_value {
        if col >= first_col && (row == header_index || (row >= data_start && kept_col(col))) {
            warnings.add(cell_name(row, col));
        }
    }
    let mut merges = CellWarnings::new(
        &sheet.name,
        "merged cells: only the first cell holds the value, the others \
         read as empty",
    );
    for &((r0, c0), (r1, c1)) in &sheet.merged {
        if r1 >= data_start && (c0..=c1).any(kept_col) {
            merges.add(format!("{}:{}", cell_name(r0, c0), cell_name(r1, c1)));
        }
    }
    let mut texts: Vec<String> = Vec::new();
    let mut record = 0u64;
    for (_, row) in rows(&sheet.cells).filter(|(i, _)| *i >= data_start) {
        if !non_blank(row) {
            continue;
        }
        texts.clear();
        let mut width = 0usize;
        for (_, col, value) in row {
            let at = (col - first_col) as usize;
            if at >= texts.len() {
                texts.resize(at + 1, String::new());
            }
            // Only kept cells become text; the others only count for the row's width.
            if at < header.len() && builder.keeps(at) {
                texts[at] = cell_text(value);
            }
            if !matches!(value, Data::String(s) if s.is_empty()) {
                width = at + 1;
            }
        }
        record += 1;
        builder.push_row(record, width.max(header.len()), |i| {
            texts.get(i).map(|t| t.as_bytes())
        })?;
    }
    for w in warnings.finish().into_iter().chain(merges.finish()) {
        builder.warn(w);
    }
    Ok(builder.finish())
}

fn header_error(path: &Path, delivery: &Delivery, problem: String) -> IngestError {
    IngestError::HeaderRow {
        file: path.to_path_buf(),
        header_row: delivery.header_row,
        problem,
    }
}

/// Warnings of one kind about cells of one sheet, capped at [`MAX_CELL_WARNINGS`] and then counted.
struct CellWarnings<'a> {
    sheet: &'a str,
    what: &'static str,
    places: Vec<String>,
    more: usize,
}

impl<'a> CellWarnings<'a> {
    fn new(sheet: &'a str, what: &'static str) -> Self {
        CellWarnings {
            sheet,
            what,
            places: Vec::new(),
            more: 0,
        }
    }

    fn add(&mut self, place: String) {
        if self.places.len() < MAX_CELL_WARNINGS {
            self.places.push(place);
        } else {
            self.more += 1;
        }
    }

    fn finish(self) -> Vec<String> {
        let sheet = sheet_ref(self.sheet);
        let mut out: Vec<String> = self
            .places
            .iter()
            .map(|p| format!("{sheet}!{p}: {}", self.what))
            .collect();
        if self.more > 0 {
            out.push(format!(
                "worksheet `{}`: and {} more cells with a {}",
                self.sheet,
                self.more,
                self.what.split([',', ':']).next().unwrap_or(self.what)
            ));
        }
        out
    }
}

/// The sheet's name as Excel writes it in a reference: quoted when it holds anything but letters, digits and `_`.
pub fn sheet_ref(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

/// Excel's name of the cell at a 0-based (row, column): `A1`, `C7`, `AA10`.
pub fn cell_name(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = col as u64 + 1;
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row as u64 + 1)
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
        Data::DateTime(dt) if dt.is_duration() => push_duration_days(&mut out, dt.as_f64()),
        Data::DateTime(dt) => push_serial(&mut out, dt.as_f64(), uses_1904(dt)),
        Data::DateTimeIso(s) => push_iso(&mut out, s),
        Data::DurationIso(s) => out.push_str(s),
        Data::Error(e) => {
            let _ = write!(out, "{e}");
        }
    }
    out
}

/// Whether a date cell comes from a workbook in the 1904 date system (calamine keeps the flag in the value but does
/// not expose it, so compare with the same value built in each system).
fn uses_1904(dt: &ExcelDateTime) -> bool {
    *dt == ExcelDateTime::new(dt.as_f64(), ExcelDateTimeType::DateTime, true)
}

const MS_PER_DAY: i64 = 86_400_000;
/// First serial past 9999-12-31 in the 1900 system (Excel's last date).
const END_1900: f64 = 2_958_466.0;
/// Days from 1900-01-00 (serial 0) to 1970-01-01, for serials from 1900-03-01 on (Excel counts a 1900-02-29).
const UNIX_1900: i64 = 25_569;
/// Days from 1904-01-01 (serial 0 of the 1904 system) to 1970-01-01.
const UNIX_1904: i64 = 24_107;

/// Text of an Excel duration (a serial under a `[h]:mm:ss`-like format: days), rounded to the millisecond; a value
/// too large for a duration (beyond about 292,000 years) stays a number.
fn push_duration_days(out: &mut String, days: f64) {
    let ms = (days * MS_PER_DAY as f64).round();
    if ms.is_finite() && ms.abs() < (i64::MAX / 1000) as f64 {
        push_duration(out, ms as i64 * 1000);
    } else {
        push_number(out, days);
    }
}

/// Text of an Excel date serial (see the module documentation), rounded to the millisecond.
pub fn push_serial(out: &mut String, serial: f64, date1904: bool) {
    let end = if date1904 {
        END_1900 - 1462.0
    } else {
        END_1900
    };
    if !(0.0..end).contains(&serial) {
        push_number(out, serial);
        return;
    }
    let ms = (serial * MS_PER_DAY as f64).round() as i64;
    let (days, ms_of_day) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
    if days == 0 {
        push_time_of_day(out, ms_of_day * 1000);
        return;
    }
    let unix_days = if date1904 {
        days - UNIX_1904
    } else if days < 60 {
        // Before Excel's fictitious 1900-02-29 (serial 60, read as 1900-03-01 as openpyxl does).
        days - UNIX_1900 + 1
    } else {
        days - UNIX_1900
    };
    push_datetime_micros(out, (unix_days * MS_PER_DAY + ms_of_day) * 1000);
}

/// An ISO 8601 date-time as stored in a `t="d"` cell (`2021-03-04T13:30:15Z`), written as the other date cells are;
/// anything else is kept as it is.
fn push_iso(out: &mut String, s: &str) {
    let t = s.trim().trim_end_matches('Z');
    let (date, time) = match t.split_once('T') {
        Some((d, t)) => (Some(d), Some(t)),
        None if t.contains(':') => (None, Some(t)),
        None => (Some(t), None),
    };
    let date_ok = date.is_none_or(dh_config::calendar::is_iso_date);
    let micros = time.map(parse_time_micros);
    if !date_ok || micros.is_some_and(|m| m.is_none()) {
        out.push_str(s);
        return;
    }
    let micros = micros.flatten();
    match (date, micros) {
        (Some(d), Some(m)) if m != 0 => {
            out.push_str(d);
            out.push(' ');
            push_time_of_day(out, m);
        }
        (Some(d), _) => out.push_str(d),
        (None, Some(m)) => push_time_of_day(out, m),
        (None, None) => out.push_str(s),
    }
}

/// Microseconds since midnight of `HH:MM[:SS[.fff]]`, rounded to the millisecond.
fn parse_time_micros(t: &str) -> Option<i64> {
    let mut parts = t.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let s: f64 = match parts.next() {
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            s.parse().ok()?
        }
        Some(_) => return None,
        None => 0.0,
    };
    if parts.next().is_some() || !(0..24).contains(&h) || !(0..60).contains(&m) || s >= 61.0 {
        return None;
    }
    Some(((h * 3600 + m * 60) * 1000 + (s * 1000.0).round() as i64) * 1000)
}

#[cfg(test)]
mod tests;
