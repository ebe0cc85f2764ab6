//! Stata `.dta` deliveries (releases 102-119), read with the `dta` crate (pure Rust, row streaming).
//!
//! Cells become the same text a CSV export would hold: numbers in canonical form (`1`, `0.25`), system missing `.`
//! as an empty cell, extended missing values as their Stata code `.a`-`.z` (so the config's `missing` map can say
//! `".a" = "dont_know"`), strings as stored, long strings (`strL`) resolved. Dates and times by display format:
//! `%td` as `YYYY-MM-DD`; `%tc`/`%tC` as `YYYY-MM-DD HH:MM:SS[.f]` (rounded to the microsecond; `YYYY-MM-DD` alone
//! at midnight, as every reader writes instants); the periods `%tm`, `%tq`, `%th` and `%tw` as the ISO date of the
//! period's first day (`2021m3` -> `2021-03-01`, `2021q2` -> `2021-04-01`, `2021h2` -> `2021-07-01`; Stata week
//! `w` of year `y` starts on 1 January + 7(w-1), week 52 running to 31 December); `%ty` stays the plain year (an
//! integer). Business calendars (`%tb…`) and any other `%t` format stay numbers and add a warning naming the variable.
//!
//! Each kept column carries its variable label (question text), its value labels (extended-missing labels keyed
//! `.a`-`.z`: Stata stores the label of `.a` under 2,147,483,622, the long code of `.a`, one more per letter) and
//! the extended missing codes that occur in it or are labelled ([`crate::ColumnLabels`]). Identifier columns are
//! skipped without being decoded into the table. A file that ends before its declared number of observations is an
//! error.
//!
//! Text (values, strLs, value labels, variable labels, variable names) follows one rule for every release
//! ([`TextRule`]): bytes that are valid UTF-8 are UTF-8 (release 118+ is UTF-8 by definition; Stata 13 and earlier
//! state no encoding, and some writers put UTF-8 there); otherwise the delivery's `encoding`, when it is not
//! `utf-8`, decodes them (an old file in windows-1256: `encoding = "windows-1256"`); otherwise they are read as
//! windows-1252, Stata's own code page before release 118, with a warning naming the variable. The library decodes
//! releases up to 117 as windows-1252 (lossless: every byte is its own character), from which the rule recovers the
//! bytes; releases 118+ strictly as UTF-8, and when that fails the file is read again as windows-1252 for the rule.
//!
//! **Bounds.** The library allocates whatever a length field declares before reading it; for releases 113-119 every
//! characteristic, long string and value-label table is first checked against the file's real size (module
//! `bounds`), so a damaged or hostile length is an error naming its byte offset, not an allocation of gigabytes.

mod bounds;

use std::borrow::Cow;
use std::path::Path;

use dh_config::Delivery;
use dta::stata::dta::dta_error::DtaError;
use dta::stata::dta::dta_reader::DtaReader;
use dta::stata::dta::long_string_table::LongStringTable;
use dta::stata::dta::value::Value;
use dta::stata::dta::value_label_table::ValueLabelTable;
use dta::stata::dta::variable_type::VariableType;
use dta::stata::missing_value::MissingValue;

use crate::error::IngestError;
use crate::readers::cells::{
    CellColumns, KeptLayout, TextNote, TextNotes, TextProblem, TextRule, days_from_civil,
    push_date, push_datetime_micros, push_number,
};
use crate::readers::{DeliveryReader, ensure_exists};
use crate::table::{ColumnLabels, ColumnSelection, RawTable, RawTableBuilder};

pub struct DtaFileReader;

const FORMAT: &str = "Stata .dta";

/// Days from 1960-01-01 (Stata's epoch) to 1970-01-01.
const STATA_EPOCH_DAYS: i64 = -3653;

/// Stata stores the value label of extended missing `.a` under this integer (the `long` code of `.a`; `.` is
/// 2,147,483,621); `.b` is one more, and so on to `.z`.
const LABEL_MISSING_A: i64 = 2_147_483_622;

/// How the cells of one variable are rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Render {
    Plain,
    /// `%td`: days since 1960-01-01.
    Date,
    /// `%tc`/`%tC`: milliseconds since 1960-01-01 00:00.
    DateTime,
    /// `%tw`, `%tm`, `%tq`, `%th`: periods since the first one of 1960, rendered as their first day.
    Period(Period),
    /// A `%t` format this reader does not convert (`%tb` business calendars, `%tg`, …): plain, with a warning.
    Unconverted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Period {
    Week,
    Month,
    Quarter,
    Half,
}

impl DeliveryReader for DtaFileReader {
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
        bounds::check(path)?;
        // First as the release says (UTF-8 from 118, strictly decoded, the fast path); if that meets text that is not
        // UTF-8, again with every string read as windows-1252 so that the rule can re-decode its bytes.
        match read_pass(path, delivery, keep, false) {
            Err(Pass::NotUtf8) => read_pass(path, delivery, keep, true),
            other => other,
        }
        .map_err(|failure| match failure {
            Pass::Failed(e) => e,
            Pass::NotUtf8 => IngestError::WrongEncoding {
                file: path.to_path_buf(),
                message: "text is not valid in any encoding tried".to_string(),
            },
        })
    }
}

/// Why one pass over a file stopped.
enum Pass {
    /// The library failed on the first pass, possibly on text that is not UTF-8 in a file it decoded as UTF-8: read
    /// again as windows-1252.
    NotUtf8,
    Failed(IngestError),
}

impl From<IngestError> for Pass {
    fn from(e: IngestError) -> Self {
        Pass::Failed(e)
    }
}

/// How one pass decodes text: strings the library decoded strictly as UTF-8 are final; others (windows-1252) go
/// through the [`TextRule`].
struct StataText {
    rule: TextRule,
    strict_utf8: bool,
}

impl StataText {
    fn text<'a>(&self, s: &'a str) -> Result<(Cow<'a, str>, Option<TextNote>), TextProblem> {
        if self.strict_utf8 {
            Ok((Cow::Borrowed(s), None))
        } else {
            self.rule.text(s)
        }
    }
}

/// Reads the file once; `as_1252` makes the library decode every string as windows-1252.
fn read_pass(
    path: &Path,
    delivery: &Delivery,
    keep: &ColumnSelection,
    as_1252: bool,
) -> Result<RawTable, Pass> {
    // The library reports text that is not UTF-8 in several ways (a format error in the schema, an I/O error in a
    // record or a value label), so any failure of the first pass leads to the windows-1252 pass, whose own error is
    // the one reported (a damaged file fails both the same way).
    let fail = |e: DtaError| {
        if !as_1252 {
            Pass::NotUtf8
        } else {
            Pass::Failed(IngestError::Format {
                file: path.to_path_buf(),
                format: FORMAT,
                message: e.to_string(),
            })
        }
    };
    let mut notes = TextNotes::default();
    let text_error = |variable: &str, what: &str, problem: TextProblem| {
        text_error(path, delivery, variable, what, problem)
    };
    let mut reader = DtaReader::new();
    if as_1252 {
        reader = reader.encoding(encoding_rs::WINDOWS_1252);
    }
    let mut characteristics = reader
        .from_path(path)
        .map_err(fail)?
        .read_header()
        .map_err(fail)?
        .read_schema()
        .map_err(fail)?;
    characteristics.skip_to_end().map_err(fail)?;
    let mut records = characteristics.into_record_reader().map_err(fail)?;
    // Windows-1252 decodes every byte to its own character, so each string's bytes can be recovered for the rule.
    let rule = StataText {
        rule: TextRule::new(encoding_rs::WINDOWS_1252, delivery.encoding, true),
        strict_utf8: records.encoding() == encoding_rs::UTF_8,
    };
    let schema = records.schema().clone();
    let declared_rows = records.header().observation_count();
    let mut header = Vec::with_capacity(schema.variables().len());
    for v in schema.variables() {
        let (name, note) = rule
            .text(v.name())
            .map_err(|p| text_error(v.name(), "variable name", p))?;
        notes.add(&name, note);
        header.push(name.into_owned());
    }
    let layout = KeptLayout::new(header.clone(), keep);
    let mut builder = RawTableBuilder::new(path, header.clone(), keep)?;
    let renders: Vec<Render> = layout
        .positions
        .iter()
        .map(|&i| render_of(schema.variables()[i].format()))
        .collect();
    for (b, &i) in layout.positions.iter().enumerate() {
        if renders[b] == Render::Unconverted {
            builder.warn(format!(
                "`{}`: Stata display format {} is not a date format dh converts (e.g. a business calendar); its \
                 cells are kept as numbers",
                header[i],
                schema.variables()[i].format()
            ));
        }
    }
    let has_strl = layout
        .positions
        .iter()
        .any(|&i| schema.variables()[i].variable_type() == VariableType::LongString);
    let mut long_strings = LongStringTable::for_reading();
    if has_strl {
        let mut reader = records.seek_long_strings().map_err(fail)?;
        reader
            .read_remaining_into(&mut long_strings)
            .map_err(fail)?;
        records = reader.seek_records().map_err(fail)?;
    }
    let mut cells = CellColumns::with_rows(layout.positions.len(), declared_rows);
    let mut extended: Vec<Vec<String>> = vec![Vec::new(); layout.positions.len()];
    let mut rows = 0u64;
    while let Some(record) = records.read_record().map_err(fail)? {
        rows += 1;
        let values = record.values();
        for (b, &i) in layout.positions.iter().enumerate() {
            let name = &header[i];
            let value = values.get(i).ok_or_else(|| IngestError::Cell {
                file: path.to_path_buf(),
                row: rows,
                column: name.clone(),
                value: String::new(),
                message: "the record is shorter than the variable list".to_string(),
            })?;
            let decoded = match value {
                Value::String(s) => Some(rule.text(s)),
                Value::LongStringRef(r) => long_strings.get(r).map(|text| {
                    // A text strL keeps its terminating NUL.
                    let data = text.data();
                    rule.rule
                        .bytes(data.strip_suffix(b"\0").unwrap_or(data))
                        .map(|(t, note)| (Cow::Owned(t.into_owned()), note))
                }),
                _ => None,
            };
            let out = cells.buffer(b);
            match decoded {
                Some(text) => {
                    let (text, note) = text.map_err(|p| text_error(name, "a value", p))?;
                    notes.add(name, note);
                    out.push_str(&text);
                }
                None => match number_of(value) {
                    Ok(x) => push_rendered(out, x, renders[b]),
                    Err(MissingValue::System) => {}
                    Err(m) => {
                        let code = missing_code(m);
                        out.push_str(&code);
                        if !extended[b].contains(&code) {
                            extended[b].push(code);
                        }
                    }
                },
            }
            cells.end_cell(b);
        }
    }
    if rows != declared_rows {
        return Err(Pass::Failed(IngestError::Format {
            file: path.to_path_buf(),
            format: FORMAT,
            message: format!(
                "the header declares {declared_rows} observations but {rows} were read; the file looks truncated"
            ),
        }));
    }
    let mut value_labels = ValueLabelTable::new();
    records
        .seek_value_labels()
        .and_then(|mut r| r.read_remaining_into(&mut value_labels))
        .map_err(fail)?;
    for (b, &i) in layout.positions.iter().enumerate() {
        let variable = &schema.variables()[i];
        let name = &header[i];
        let mut labels = ColumnLabels::default();
        if !variable.label().is_empty() {
            let (label, note) = rule
                .text(variable.label())
                .map_err(|p| text_error(name, "the variable label", p))?;
            notes.add(name, note);
            labels.variable_label = Some(label.into_owned());
        }
        if let Some(set) = value_labels.get(variable.value_label_name()) {
            for entry in set.entries() {
                let (label, note) = rule
                    .text(entry.label())
                    .map_err(|p| text_error(name, "a value label", p))?;
                notes.add(name, note);
                labels
                    .value_labels
                    .push((label_code(entry.value()), label.into_owned()));
            }
        }
        labels.missing_codes = std::mem::take(&mut extended[b]);
        for (code, _) in &labels.value_labels {
            if code.starts_with('.') && !labels.missing_codes.contains(code) {
                labels.missing_codes.push(code.clone());
            }
        }
        builder.set_labels(name, labels);
    }
    for warning in notes.warnings("windows-1252") {
        builder.warn(warning);
    }
    Ok(layout.finish_owned(builder, cells, rows)?)
}

fn text_error(
    path: &Path,
    delivery: &Delivery,
    variable: &str,
    what: &str,
    problem: TextProblem,
) -> IngestError {
    let message = match problem {
        TextProblem::NotInConfigured => format!(
            "`{variable}`: {what} is neither UTF-8 nor text in the configured encoding {}",
            delivery.encoding
        ),
        TextProblem::BytesLost => format!(
            "`{variable}`: {what} cannot be re-decoded as the configured {}",
            delivery.encoding
        ),
    };
    IngestError::WrongEncoding {
        file: path.to_path_buf(),
        message,
    }
}

/// The cell text of a value-label key: `.a`-`.z` for the extended missing values, else the integer.
fn label_code(value: i32) -> String {
    let value = i64::from(value);
    if (LABEL_MISSING_A..LABEL_MISSING_A + 26).contains(&value) {
        format!(".{}", (b'a' + (value - LABEL_MISSING_A) as u8) as char)
    } else {
        value.to_string()
    }
}

fn render_of(format: &str) -> Render {
    let f = format.trim_start_matches('%').trim_start_matches('-');
    // Stata before 10 wrote `%d` for `%td`.
    if f.starts_with("td") || (f.starts_with('d') && !f.starts_with("dc")) {
        return Render::Date;
    }
    let Some(t) = f.strip_prefix('t') else {
        return Render::Plain;
    };
    match t.chars().next() {
        Some('c') | Some('C') => Render::DateTime,
        Some('w') => Render::Period(Period::Week),
        Some('m') => Render::Period(Period::Month),
        Some('q') => Render::Period(Period::Quarter),
        Some('h') => Render::Period(Period::Half),
        Some('y') => Render::Plain,
        _ => Render::Unconverted,
    }
}

fn push_rendered(out: &mut String, x: f64, render: Render) {
    match render {
        Render::Date if x.fract() == 0.0 && x.abs() < 1e8 => {
            push_date(out, x as i64 + STATA_EPOCH_DAYS)
        }
        Render::DateTime if x.abs() < 1e15 => {
            let micros = (x * 1000.0).round() as i64;
            push_datetime_micros(out, micros + STATA_EPOCH_DAYS * 86_400_000_000)
        }
        Render::Period(period) if x.fract() == 0.0 && x.abs() < 1e8 => {
            push_date(out, period_first_day(period, x as i64))
        }
        _ => push_number(out, x),
    }
}

/// Days since 1970-01-01 of the first day of Stata period `n` (periods counted from the first of 1960).
fn period_first_day(period: Period, n: i64) -> i64 {
    let per_year = match period {
        Period::Week => 52,
        Period::Month => 12,
        Period::Quarter => 4,
        Period::Half => 2,
    };
    let year = 1960 + n.div_euclid(per_year);
    let k = n.rem_euclid(per_year);
    match period {
        Period::Week => days_from_civil(year, 1, 1) + 7 * k,
        Period::Month => days_from_civil(year, k as u32 + 1, 1),
        Period::Quarter => days_from_civil(year, 3 * k as u32 + 1, 1),
        Period::Half => days_from_civil(year, 6 * k as u32 + 1, 1),
    }
}

/// The number a numeric value holds, or which missing value it is.
fn number_of(value: &Value) -> Result<f64, MissingValue> {
    use dta::stata::{
        stata_byte::StataByte, stata_double::StataDouble, stata_float::StataFloat,
        stata_int::StataInt, stata_long::StataLong,
    };
    match *value {
        Value::Byte(StataByte::Present(v)) => Ok(f64::from(v)),
        Value::Int(StataInt::Present(v)) => Ok(f64::from(v)),
        Value::Long(StataLong::Present(v)) => Ok(f64::from(v)),
        // The shortest decimal that reads back to the same f32 (0.1f32 -> 0.1, not 0.100000001).
        Value::Float(StataFloat::Present(v)) => {
            Ok(v.to_string().parse::<f64>().unwrap_or(f64::from(v)))
        }
        Value::Double(StataDouble::Present(v)) => Ok(v),
        Value::Byte(StataByte::Missing(m))
        | Value::Int(StataInt::Missing(m))
        | Value::Long(StataLong::Missing(m))
        | Value::Float(StataFloat::Missing(m))
        | Value::Double(StataDouble::Missing(m)) => Err(m),
        Value::String(_) | Value::LongStringRef(_) => Err(MissingValue::System),
    }
}

/// `.a` ... `.z` for an extended missing value.
fn missing_code(m: MissingValue) -> String {
    let code = m.code();
    if (1..=26).contains(&code) {
        format!(".{}", (b'a' + code - 1) as char)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(x: f64, format: &str) -> String {
        let mut s = String::new();
        push_rendered(&mut s, x, render_of(format));
        s
    }

    #[test]
    fn extended_missing_labels_start_at_a() {
        assert_eq!(label_code(2_147_483_622), ".a");
        assert_eq!(label_code(2_147_483_623), ".b");
        assert_eq!(label_code(2_147_483_647), ".z");
        assert_eq!(label_code(2_147_483_621), "2147483621");
        assert_eq!(label_code(-3), "-3");
    }

    #[test]
    fn period_formats_render_as_their_first_day() {
        // 2021m3 = (2021 - 1960) * 12 + 2
        assert_eq!(rendered(734.0, "%tm"), "2021-03-01");
        assert_eq!(rendered(-1.0, "%tm"), "1959-12-01");
        assert_eq!(rendered(245.0, "%tq"), "2021-04-01");
        assert_eq!(rendered(123.0, "%th"), "2021-07-01");
        // 2021w3 starts on Jan 1 + 14; week 52 of 2021 on Dec 24.
        assert_eq!(rendered(3174.0, "%tw"), "2021-01-15");
        assert_eq!(rendered(3223.0, "%tw"), "2021-12-24");
        assert_eq!(rendered(2021.0, "%ty"), "2021");
        assert_eq!(rendered(22343.0, "%tdCCYY-NN-DD"), "2021-03-04");
        assert_eq!(rendered(22343.0, "%d"), "2021-03-04");
        assert_eq!(
            rendered(1_930_472_430_900.0, "%tc"),
            "2021-03-04 10:20:30.9"
        );
        assert_eq!(rendered(1_930_435_200_000.0, "%tC"), "2021-03-04");
        assert_eq!(rendered(22343.0, "%tbmycal"), "22343");
        assert_eq!(render_of("%tbmycal"), Render::Unconverted);
        assert_eq!(render_of("%9.0g"), Render::Plain);
        assert_eq!(render_of("%-9s"), Render::Plain);
        assert_eq!(rendered(0.5, "%tm"), "0.5");
    }
}
