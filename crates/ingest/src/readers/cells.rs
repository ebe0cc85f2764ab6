//! Shared pieces of the binary-format readers (SPSS, Stata, Excel): the canonical text of numbers and dates, so a
//! cell reads the same whichever format delivered it (`1`, not `1.0`; `2021-03-04` for a date), and a column
//! buffer that collects the kept cells of a file before they are pushed row by row into a
//! [`crate::RawTableBuilder`].

use std::fmt::Write;

use crate::error::IngestError;
use crate::table::{ColumnSelection, RawTable, RawTableBuilder};

/// Canonical text of a number: integers without a decimal point (`1`, `-3`, `120000`), other values in the
/// shortest form that reads back to the same `f64` (`0.25`, `12.3456`), never an exponent. Non-finite values
/// (which no delivery should hold) are written `NaN`, `inf`, `-inf` so they are quarantined, not dropped.
pub fn push_number(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str(if x.is_nan() {
            "NaN"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        });
    } else if x == 0.0 {
        out.push('0');
    } else if x.fract() == 0.0 && x.abs() < 1e17 {
        let _ = write!(out, "{}", x as i64);
    } else {
        let _ = write!(out, "{x}");
    }
}

/// [`push_number`] into a new string.
pub fn number_text(x: f64) -> String {
    let mut s = String::new();
    push_number(&mut s, x);
    s
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian; Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// ISO date `YYYY-MM-DD` of a day count since 1970-01-01.
pub fn push_date(out: &mut String, days: i64) {
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
}

/// ISO date-time of microseconds since 1970-01-01 00:00: `YYYY-MM-DD` alone at midnight, else
/// `YYYY-MM-DD HH:MM:SS` (with a fraction when there is one).
pub fn push_datetime_micros(out: &mut String, micros: i64) {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    push_date(out, days);
    if rest == 0 {
        return;
    }
    out.push(' ');
    push_time_of_day(out, rest);
}

/// Time of day `HH:MM:SS` of microseconds since midnight, with the fraction's significant digits when there is
/// one (`13:30:15`, `10:20:30.9`). Every format writes times through this, so one instant gives one text.
pub fn push_time_of_day(out: &mut String, micros: i64) {
    let secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if frac != 0 {
        let digits = format!("{frac:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// The kept cells of one file, column by column (one text buffer and end offsets per column).
#[derive(Debug, Default)]
pub struct CellColumns {
    columns: Vec<(String, Vec<usize>)>,
}

impl CellColumns {
    pub fn new(columns: usize) -> Self {
        CellColumns {
            columns: (0..columns).map(|_| (String::new(), Vec::new())).collect(),
        }
    }

    /// The text buffer of column `c`, to append one cell to; close the cell with [`CellColumns::end_cell`].
    pub fn buffer(&mut self, c: usize) -> &mut String {
        &mut self.columns[c].0
    }

    pub fn end_cell(&mut self, c: usize) {
        let (text, ends) = &mut self.columns[c];
        ends.push(text.len());
    }

    /// Appends a whole cell to column `c`.
    pub fn push(&mut self, c: usize, cell: &str) {
        self.columns[c].0.push_str(cell);
        self.end_cell(c);
    }

    pub fn get(&self, c: usize, row: usize) -> &str {
        let (text, ends) = &self.columns[c];
        let end = ends.get(row).copied().unwrap_or(0);
        let start = if row == 0 {
            0
        } else {
            ends.get(row - 1).copied().unwrap_or(0)
        };
        text.get(start..end).unwrap_or_default()
    }

    /// Rows held (the shortest column's length).
    pub fn rows(&self) -> usize {
        self.columns.iter().map(|(_, e)| e.len()).min().unwrap_or(0)
    }
}

/// A file's header with, for each header position, the index of its buffer in a [`CellColumns`] (kept columns only).
pub struct KeptLayout {
    pub header: Vec<String>,
    /// Header position -> buffer index.
    pub buffer_of: Vec<Option<usize>>,
    /// Buffer index -> header position.
    pub positions: Vec<usize>,
}

impl KeptLayout {
    pub fn new(header: Vec<String>, keep: &ColumnSelection) -> Self {
        let mut buffer_of = Vec::with_capacity(header.len());
        let mut positions = Vec::new();
        for (i, name) in header.iter().enumerate() {
            if keep.contains(name.trim()) {
                buffer_of.push(Some(positions.len()));
                positions.push(i);
            } else {
                buffer_of.push(None);
            }
        }
        KeptLayout {
            header,
            buffer_of,
            positions,
        }
    }

    /// Header names of the kept columns, in buffer order.
    pub fn kept_names(&self) -> Vec<&str> {
        self.positions
            .iter()
            .map(|&i| self.header[i].as_str())
            .collect()
    }

    /// Pushes `rows` rows into `builder` (row numbers 1, 2, ...) and finishes the table. `rows` is the number of
    /// records the reader read, not taken from the buffers: when no column is kept there are no buffers, and every
    /// record must still become an (empty) row so that the ledger counts it.
    pub fn finish(
        &self,
        mut builder: RawTableBuilder,
        cells: &CellColumns,
        rows: u64,
    ) -> Result<RawTable, IngestError> {
        debug_assert!(self.positions.is_empty() || cells.rows() as u64 == rows);
        let width = self.header.len();
        for row in 0..rows as usize {
            builder.push_row(row as u64 + 1, width, |i| {
                self.buffer_of
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|b| cells.get(b, row).as_bytes())
            })?;
        }
        Ok(builder.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_canonical() {
        assert_eq!(number_text(1.0), "1");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(0.25), "0.25");
        assert_eq!(number_text(12.3456), "12.3456");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(number_text(123456789012.0), "123456789012");
        assert_eq!(number_text(f64::NAN), "NaN");
    }

    #[test]
    fn dates_from_day_counts() {
        let mut s = String::new();
        push_date(&mut s, 0);
        assert_eq!(s, "1970-01-01");
        s.clear();
        push_date(&mut s, 18_690);
        assert_eq!(s, "2021-03-04");
        s.clear();
        push_date(&mut s, -141_428);
        assert_eq!(s, "1582-10-14");
        s.clear();
        push_datetime_micros(&mut s, 18_690 * 86_400_000_000 + 3_723_500_000);
        assert_eq!(s, "2021-03-04 01:02:03.5");
    }

    #[test]
    fn columns_buffer_cells() {
        let mut c = CellColumns::new(2);
        c.push(0, "a");
        c.push(1, "");
        c.buffer(0).push_str("bc");
        c.end_cell(0);
        c.push(1, "d");
        assert_eq!(c.rows(), 2);
        assert_eq!(
            (c.get(0, 0), c.get(1, 0), c.get(0, 1), c.get(1, 1)),
            ("a", "", "bc", "d")
        );
    }
}
