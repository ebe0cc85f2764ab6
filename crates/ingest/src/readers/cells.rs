//! Shared pieces of the binary-format readers (SPSS, Stata, Excel): the canonical text of numbers, dates, times and
//! durations, so a cell reads the same whichever format delivered it (`1`, not `1.0`; `2021-03-04` for a date;
//! `2021-03-04 10:20:30.9` for an instant, however it was stored), the re-decoding of text a format library decoded
//! with the wrong code page ([`TextRule`]), and a column buffer that collects the kept cells of a file before they
//! are pushed row by row into a [`crate::RawTableBuilder`].

use std::borrow::Cow;
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
        match x as i64 {
            // one digit (most codes): no formatting
            n @ 1..=9 => out.push(char::from(b'0' + n as u8)),
            n => out.push_str(itoa::Buffer::new().format(n)),
        }
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

/// Calendar arithmetic is `dh_config::calendar`'s (one implementation for every crate).
pub use dh_config::calendar::{civil_from_days, days_from_civil};

/// Undoes a truncation to whole microseconds, rounding instead. A library that held a count of seconds `x` as an
/// `f64` and gave `truncated = ((x - offset) * 1e6) as i64` turns the 10:20:30.9 a writer meant (stored as the
/// double nearest to it, 30.899999…) into …30.899999. This returns the microseconds of the shortest decimal (at most
/// five places) whose double (give or take one unit in the last place, the precision of the stored value) truncates
/// the same way — the value the writer meant — or `truncated` when none does (a value with six decimals is then
/// right to within 1 µs, all a double of seconds since 1582 holds for current dates anyway). `offset` is the library's epoch shift
/// in whole seconds (SPSS: 12,219,379,200 from 1582-10-14 to 1970-01-01; 0 for durations). No text is formatted:
/// this runs for every date-time cell.
pub fn round_truncated_micros(truncated: i64, offset: i64) -> i64 {
    let truncates_back = |x: f64| ((x - offset as f64) * 1e6) as i64 == truncated;
    let (Some(twice), Some(base)) = (
        truncated.checked_mul(2).and_then(|t| t.checked_add(1)),
        offset.checked_mul(1_000_000),
    ) else {
        return truncated;
    };
    // Down to five places: at six, `truncated` and `truncated + 1` can both be right (a double a hair below or at
    // the microsecond), and the truncated value is as good a guess as the other.
    let mut step = 1_000_000i64;
    while step >= 10 {
        // The multiple of `step` nearest the middle of [truncated, truncated + 1).
        let g = (twice + step).div_euclid(2 * step) * step;
        let Some(n) = base.checked_add(g) else {
            return truncated;
        };
        // The double nearest to the decimal n / 1e6 seconds: whole seconds are exact, and the fraction's rounding
        // error (~1e-22) is far below the last place of the sum.
        let x = n.div_euclid(1_000_000) as f64 + n.rem_euclid(1_000_000) as f64 / 1e6;
        if truncates_back(x) {
            return g;
        }
        step /= 10;
    }
    truncated
}

/// ISO date `YYYY-MM-DD` of a day count since 1970-01-01.
pub fn push_date(out: &mut String, days: i64) {
    let _ = dh_config::calendar::write_iso_date(out, days);
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

/// A duration of microseconds as `HH:MM:SS` (with a fraction when there is one) where hours may exceed 24
/// (`30:00:00` for 30 hours; `-01:30:00` for a negative duration): the same text as [`push_time_of_day`] for any
/// duration under a day, so a time of day stored as a duration (SPSS `TIME`) reads like one stored as a time.
pub fn push_duration(out: &mut String, micros: i64) {
    if micros < 0 {
        out.push('-');
    }
    push_time_of_day(out, micros.unsigned_abs().min(i64::MAX as u64) as i64);
}

/// How text a format library has already decoded is turned into the delivery's real text, given what the file
/// declares and what the delivery config says (`encoding`). One rule for every string of a file (values, value
/// labels, variable labels, variable names), applied by [`TextRule::text`]:
///
/// 1. ASCII is the same in every encoding and is kept as is.
/// 2. The bytes are recovered: text decoded with a single-byte code page is re-encoded with it (lossless when the
///    code page maps every byte, as windows-1252 — the Stata reader's choice — and windows-1256 do; a byte the
///    code page leaves unmapped was replaced by U+FFFD and is lost); text decoded as UTF-8 is its own bytes.
/// 3. Bytes that are valid UTF-8 are read as UTF-8, whatever the file says (UTF-8 is self-verifying: text in a
///    single-byte code page with accented or non-Latin letters is practically never valid UTF-8). When the library
///    had decoded them otherwise, a note says so.
/// 4. Otherwise the configured `encoding`, when it is not UTF-8, decodes them (bytes it cannot decode are an error).
/// 5. Otherwise the library's decoding stands (the file's declaration, or for Stata windows-1252 with a note).
///
/// When the library lost the bytes (a UTF-8 file holding invalid UTF-8, which the SPSS library replaces with U+FFFD;
/// a multi-byte code page) and the config names another encoding, the text cannot be re-decoded: that is an error
/// asking for a re-export, never a silently wrong text.
#[derive(Clone, Copy, Debug)]
pub struct TextRule {
    library: &'static encoding_rs::Encoding,
    configured: Option<&'static encoding_rs::Encoding>,
    library_is_a_guess: bool,
}

/// Something [`TextRule::text`] noticed about one string, reported once per variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextNote {
    /// The library decoded with a single-byte code page but the bytes are UTF-8; read as UTF-8.
    Utf8Found,
    /// Neither UTF-8 nor a configured encoding: read with the library's guess (Stata: windows-1252).
    Guessed,
    /// A UTF-8 file holds bytes that are not UTF-8; the library replaced them with U+FFFD.
    Replaced,
}

/// Why [`TextRule::text`] could not produce the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextProblem {
    /// The bytes are not text in the configured encoding.
    NotInConfigured,
    /// The library did not keep the bytes, so the configured encoding cannot be applied.
    BytesLost,
}

impl TextRule {
    /// `library`: the encoding the format library decoded with; `configured`: the delivery's `encoding`;
    /// `library_is_a_guess`: whether the library's encoding is a default rather than the file's declaration (then
    /// text read with it gets a [`TextNote::Guessed`]).
    pub fn new(
        library: &'static encoding_rs::Encoding,
        configured: dh_config::Encoding,
        library_is_a_guess: bool,
    ) -> Self {
        TextRule {
            library,
            configured: (!configured.is_utf8()).then(|| configured.codec()),
            library_is_a_guess,
        }
    }

    /// Whether a configured encoding differs from the library's (so that a lossy library decoding is an error).
    fn overrides(&self) -> bool {
        self.configured.is_some_and(|c| c != self.library)
    }

    /// The real text of a string the library decoded as `s`, and what was noticed.
    pub fn text<'a>(&self, s: &'a str) -> Result<(Cow<'a, str>, Option<TextNote>), TextProblem> {
        if s.is_ascii() {
            return Ok((Cow::Borrowed(s), None));
        }
        if self.library == encoding_rs::UTF_8 {
            if s.contains('\u{FFFD}') {
                return if self.overrides() {
                    Err(TextProblem::BytesLost)
                } else {
                    Ok((Cow::Borrowed(s), Some(TextNote::Replaced)))
                };
            }
            return Ok((Cow::Borrowed(s), None));
        }
        if !self.library.is_single_byte() {
            return if self.overrides() {
                Err(TextProblem::BytesLost)
            } else {
                Ok((Cow::Borrowed(s), None))
            };
        }
        let (bytes, _, unmappable) = self.library.encode(s);
        if unmappable {
            return if self.overrides() {
                Err(TextProblem::BytesLost)
            } else {
                Ok((Cow::Borrowed(s), None))
            };
        }
        let (text, note) = self.bytes(&bytes)?;
        if text == s {
            Ok((Cow::Borrowed(s), note))
        } else {
            Ok((Cow::Owned(text.into_owned()), note))
        }
    }

    /// The real text of raw bytes (steps 3-5 of the rule).
    pub fn bytes<'a>(
        &self,
        bytes: &'a [u8],
    ) -> Result<(Cow<'a, str>, Option<TextNote>), TextProblem> {
        if let Ok(text) = std::str::from_utf8(bytes) {
            // Only a declared code page is worth a note; a guessed one (Stata) was never a claim about the file.
            let note = (self.library != encoding_rs::UTF_8
                && !self.library_is_a_guess
                && !text.is_ascii())
            .then_some(TextNote::Utf8Found);
            return Ok((Cow::Borrowed(text), note));
        }
        if let Some(configured) = self.configured {
            return configured
                .decode_without_bom_handling_and_without_replacement(bytes)
                .map(|t| (t, None))
                .ok_or(TextProblem::NotInConfigured);
        }
        let (text, _) = self.library.decode_without_bom_handling(bytes);
        let note = if self.library == encoding_rs::UTF_8 {
            Some(TextNote::Replaced)
        } else if self.library_is_a_guess {
            Some(TextNote::Guessed)
        } else {
            None
        };
        Ok((text, note))
    }
}

/// Notes of a [`TextRule`] collected per variable (each variable and note once), turned into warnings at the end of a
/// read. They name the variable and the encodings, never the text.
#[derive(Debug, Default)]
pub struct TextNotes {
    notes: Vec<(String, TextNote)>,
}

impl TextNotes {
    pub fn add(&mut self, variable: &str, note: Option<TextNote>) {
        if let Some(note) = note
            && !self.notes.iter().any(|(v, n)| v == variable && *n == note)
        {
            self.notes.push((variable.to_string(), note));
        }
    }

    /// Adds the notes of `later` that are not here yet, after these (as if they had been noticed afterwards).
    pub fn merge(&mut self, later: &TextNotes) {
        for (variable, note) in &later.notes {
            self.add(variable, Some(*note));
        }
    }

    /// One warning per (variable, note); `declared` is the encoding the file declares (or the reader assumed).
    pub fn warnings(&self, declared: &str) -> Vec<String> {
        self.notes
            .iter()
            .map(|(v, note)| match note {
                TextNote::Utf8Found => format!(
                    "`{v}`: the file declares {declared} but the text is UTF-8; read as UTF-8"
                ),
                TextNote::Guessed => format!(
                    "`{v}`: text is neither UTF-8 nor in a configured encoding; read as {declared}. If it looks \
                     wrong, set `encoding` in the delivery config to the file's code page (e.g. windows-1256)"
                ),
                TextNote::Replaced => format!(
                    "`{v}`: the file declares UTF-8 but holds bytes that are not UTF-8; they read as U+FFFD. Ask for \
                     a re-export, or re-save the file in SPSS/PSPP with the right encoding"
                ),
            })
            .collect()
    }
}

/// Most end offsets [`CellColumns::with_rows`] reserves per column (larger files grow the buffers as they read).
pub const RESERVED_ROWS_CAP: u64 = 1 << 22;

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

    /// [`CellColumns::new`] with room for the end offsets of `rows` cells per column (a row count the file or the
    /// library states; capped at [`RESERVED_ROWS_CAP`] so a damaged header cannot ask for a huge allocation), so the
    /// offsets are not copied as they grow.
    pub fn with_rows(columns: usize, rows: u64) -> Self {
        let rows = usize::try_from(rows.min(RESERVED_ROWS_CAP)).unwrap_or(0);
        CellColumns {
            columns: (0..columns)
                .map(|_| (String::new(), Vec::with_capacity(rows)))
                .collect(),
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
        self.push_rows(&mut builder, cells, 1, rows)?;
        Ok(builder.finish())
    }

    /// [`KeptLayout::finish`] handing the buffers over to the table instead of copying them.
    pub fn finish_owned(
        &self,
        mut builder: RawTableBuilder,
        cells: CellColumns,
        rows: u64,
    ) -> Result<RawTable, IngestError> {
        self.push_rows_owned(&mut builder, cells, 1, rows)?;
        Ok(builder.finish())
    }

    /// [`KeptLayout::push_rows`] handing the buffers over (see [`RawTableBuilder::push_owned_columns`]).
    pub fn push_rows_owned(
        &self,
        builder: &mut RawTableBuilder,
        cells: CellColumns,
        first_row_number: u64,
        rows: u64,
    ) -> Result<(), IngestError> {
        debug_assert!(self.positions.is_empty() || cells.rows() as u64 == rows);
        let rows = usize::try_from(rows).unwrap_or(usize::MAX);
        let mut buffers: Vec<Option<(String, Vec<usize>)>> =
            cells.columns.into_iter().map(Some).collect();
        builder.push_owned_columns(first_row_number, rows, |i| {
            let b = self.buffer_of.get(i).copied().flatten()?;
            buffers.get_mut(b).and_then(Option::take)
        })
    }

    /// Pushes the `rows` rows held in `cells` into `builder`, numbered from `first_row_number` (see
    /// [`KeptLayout::finish`] for why `rows` is given).
    pub fn push_rows(
        &self,
        builder: &mut RawTableBuilder,
        cells: &CellColumns,
        first_row_number: u64,
        rows: u64,
    ) -> Result<(), IngestError> {
        debug_assert!(self.positions.is_empty() || cells.rows() as u64 == rows);
        let rows = usize::try_from(rows).unwrap_or(usize::MAX);
        builder.push_columns(first_row_number, rows, |i| {
            let b = self.buffer_of.get(i).copied().flatten()?;
            cells
                .columns
                .get(b)
                .map(|(text, ends)| (text.as_str(), ends.as_slice()))
        })
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
        // the one-digit shortcut gives what formatting gives
        for n in -12i64..=120 {
            assert_eq!(number_text(n as f64), n.to_string(), "{n}");
        }
        assert_eq!(number_text(9.5), "9.5");
        assert_eq!(number_text(0.999_999_999_999), "0.999999999999");
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
    fn stata_epoch_is_1960() {
        assert_eq!(days_from_civil(1960, 1, 1), -3653);
    }

    /// SPSS keeps date-times as seconds since 1582-10-14; the library truncates `(x - offset) * 1e6`, which turns
    /// 10:20:30.9 into …30.899999. Rounding from the shortest decimal gives back .9.
    #[test]
    fn truncated_micros_are_rounded() {
        let offset = 12_219_379_200i64;
        for text in [
            "13834174830.9",
            "13834137600",
            "12219379200.5",
            "13140000000.12345",
            "14000000000.25",
            "11000000000.1",
        ] {
            let spss: f64 = text.parse().unwrap();
            let truncated = ((spss - offset as f64) * 1e6) as i64;
            let (int, frac) = text.split_once('.').unwrap_or((text, ""));
            let want = (int.parse::<i64>().unwrap() - offset) * 1_000_000
                + format!("{frac:0<6}").parse::<i64>().unwrap();
            assert_eq!(round_truncated_micros(truncated, offset), want, "{text}");
        }
        // Durations (offset 0): 8.2 s truncates to 8 199 999 us.
        let truncated = (8.2f64 * 1e6) as i64;
        assert_eq!(truncated, 8_199_999);
        assert_eq!(round_truncated_micros(truncated, 0), 8_200_000);
        assert_eq!(round_truncated_micros(-8_199_999, 0), -8_200_000);
        assert_eq!(round_truncated_micros(1_234_567, 0), 1_234_567);
    }

    /// Many values: date-times to the millisecond and durations to 10 µs (what writers store) come back exactly;
    /// others within the 2 µs a double of seconds since 1582 holds.
    #[test]
    fn rounding_recovers_what_writers_store() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let offset = 12_219_379_200i64;
        for _ in 0..20_000 {
            // A writer stores the double nearest to the decimal it means.
            let ms: i64 = rng.random_range(-2_000_000_000_000..3_000_000_000_000);
            let total = offset * 1000 + ms;
            let spss: f64 = format!("{}.{:03}", total.div_euclid(1000), total.rem_euclid(1000))
                .parse()
                .unwrap();
            let truncated = ((spss - offset as f64) * 1e6) as i64;
            assert_eq!(
                round_truncated_micros(truncated, offset),
                ms * 1000,
                "{ms} ms"
            );
            // One computed in floating point may be a place off: still within the double's precision.
            let spss = offset as f64 + ms as f64 / 1000.0;
            let back = round_truncated_micros(((spss - offset as f64) * 1e6) as i64, offset);
            assert!((back - ms * 1000).abs() <= 2, "{ms} ms -> {back}");
            let us: i64 = rng.random_range(0..8_640_000_000) * 10;
            let seconds = us as f64 / 1e6;
            assert_eq!(
                round_truncated_micros((seconds * 1e6) as i64, 0),
                us,
                "{us} us"
            );
            let us: i64 = rng.random_range(0..86_400_000_000);
            let back = round_truncated_micros(((us as f64 / 1e6) * 1e6) as i64, 0);
            assert!((back - us).abs() <= 1, "{us} us -> {back}");
            let us: i64 = rng.random_range(0..3_000_000_000_000_000);
            let spss = offset as f64 + us as f64 / 1e6;
            let back = round_truncated_micros(((spss - offset as f64) * 1e6) as i64, offset);
            assert!((back - us).abs() <= 2, "{us} us -> {back}");
        }
    }

    #[test]
    fn durations_may_exceed_a_day() {
        let mut s = String::new();
        push_duration(&mut s, 30 * 3_600_000_000);
        assert_eq!(s, "30:00:00");
        s.clear();
        push_duration(&mut s, -5_400_000_000);
        assert_eq!(s, "-01:30:00");
        s.clear();
        push_duration(&mut s, 13 * 3_600_000_000 + 30 * 60_000_000 + 15_000_000);
        assert_eq!(s, "13:30:15");
    }

    fn rule(library: &'static encoding_rs::Encoding, configured: &str, guess: bool) -> TextRule {
        TextRule::new(
            library,
            dh_config::Encoding::from_label(configured).unwrap(),
            guess,
        )
    }

    #[test]
    fn single_byte_decoding_is_reversible() {
        for enc in [
            encoding_rs::WINDOWS_1252,
            encoding_rs::WINDOWS_1256,
            encoding_rs::WINDOWS_874,
        ] {
            let bytes: Vec<u8> = (1..=255u8).collect();
            let (text, _) = enc.decode_without_bom_handling(&bytes);
            let (back, _, unmappable) = enc.encode(&text);
            if enc != encoding_rs::WINDOWS_874 {
                assert!(!unmappable, "{}", enc.name());
                assert_eq!(&*back, &bytes[..], "{}", enc.name());
            }
        }
    }

    #[test]
    fn text_rule_prefers_utf8_then_the_configured_code_page() {
        let arabic = "عمّان";
        let cp1256 = encoding_rs::WINDOWS_1256.encode(arabic).0.into_owned();
        // A windows-1252 library decoding of windows-1256 bytes, configured windows-1256: the Arabic comes back.
        let as_1252 = encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(&cp1256)
            .0;
        let r = rule(encoding_rs::WINDOWS_1252, "windows-1256", true);
        assert_eq!(
            r.text(&as_1252).unwrap(),
            (Cow::Owned(arabic.to_string()), None)
        );
        // UTF-8 bytes decoded as windows-1252 are read as UTF-8, whatever the config, with a note when the file
        // declared windows-1252 (not when the reader only guessed it).
        let mojibake = encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(arabic.as_bytes())
            .0;
        let r = rule(encoding_rs::WINDOWS_1252, "utf-8", true);
        assert_eq!(
            r.text(&mojibake).unwrap(),
            (Cow::Owned(arabic.to_string()), None)
        );
        for configured in ["utf-8", "windows-1256"] {
            let r = rule(encoding_rs::WINDOWS_1252, configured, false);
            assert_eq!(
                r.text(&mojibake).unwrap(),
                (Cow::Owned(arabic.to_string()), Some(TextNote::Utf8Found))
            );
        }
        // Nothing configured, not UTF-8: the library's guess stands, noted when it is a guess.
        let latin = "São";
        let r = rule(encoding_rs::WINDOWS_1252, "utf-8", true);
        assert_eq!(r.text(latin).unwrap().1, Some(TextNote::Guessed));
        let r = rule(encoding_rs::WINDOWS_1252, "utf-8", false);
        assert_eq!(r.text(latin).unwrap(), (Cow::Borrowed(latin), None));
        assert_eq!(r.text("plain").unwrap(), (Cow::Borrowed("plain"), None));
        // A configured multi-byte encoding that cannot decode the bytes is an error.
        let r = rule(encoding_rs::WINDOWS_1252, "shift_jis", true);
        assert_eq!(r.bytes(b"\x81\xff"), Err(TextProblem::NotInConfigured));
    }

    #[test]
    fn text_rule_refuses_what_the_library_lost() {
        let r = rule(encoding_rs::UTF_8, "windows-1256", false);
        assert_eq!(r.text("a\u{FFFD}b"), Err(TextProblem::BytesLost));
        assert_eq!(r.text("عمّان").unwrap().1, None);
        let r = rule(encoding_rs::UTF_8, "utf-8", false);
        assert_eq!(r.text("a\u{FFFD}b").unwrap().1, Some(TextNote::Replaced));
        let r = rule(encoding_rs::SHIFT_JIS, "windows-1256", false);
        assert_eq!(r.text("é"), Err(TextProblem::BytesLost));
    }

    #[test]
    fn text_notes_name_variables_once() {
        let mut notes = TextNotes::default();
        notes.add("region", Some(TextNote::Utf8Found));
        notes.add("region", Some(TextNote::Utf8Found));
        notes.add("q1", None);
        let w = notes.warnings("windows-1252");
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("`region`") && w[0].contains("windows-1252"),
            "{w:?}"
        );
    }

    #[test]
    fn reserved_columns_hold_the_same_cells() {
        let mut c = CellColumns::with_rows(2, 3);
        assert_eq!(c.rows(), 0);
        assert!(c.columns.iter().all(|(_, ends)| ends.capacity() >= 3));
        for row in 0..5 {
            c.push(0, &row.to_string());
            c.push(1, "");
        }
        assert_eq!(c.rows(), 5);
        assert_eq!(c.get(0, 4), "4");
        assert_eq!(c.get(1, 2), "");
        let huge = CellColumns::with_rows(1, u64::MAX);
        assert!(huge.columns[0].1.capacity() >= RESERVED_ROWS_CAP as usize);
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
