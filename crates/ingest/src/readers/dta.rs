//! Stata `.dta` deliveries (releases 102-119), read with the `dta` crate (pure Rust, row streaming).
//!
//! Cells become the same text a CSV export would hold: numbers in canonical form (`1`, `0.25`), system missing `.`
//! as an empty cell, extended missing values as their Stata code `.a`-`.z` (so the config's `missing` map can say
//! `".a" = "dont_know"`), strings as stored, long strings (`strL`) resolved, `%td` dates as `YYYY-MM-DD` and `%tc`
//! date-times as `YYYY-MM-DD HH:MM:SS`. Each kept column carries its value labels (extended-missing labels keyed
//! `.a`-`.z`) and the extended missing codes that occur in it ([`crate::ColumnLabels`]). Identifier columns are
//! skipped without being decoded into the table. A file that ends before its declared number of observations is an
//! error.

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
    CellColumns, KeptLayout, push_date, push_datetime_micros, push_number,
};
use crate::readers::{DeliveryReader, ensure_exists};
use crate::table::{ColumnLabels, ColumnSelection, RawTable, RawTableBuilder};

pub struct DtaFileReader;

const FORMAT: &str = "Stata .dta";

/// Days from 1960-01-01 (Stata's epoch) to 1970-01-01.
const STATA_EPOCH_DAYS: i64 = -3653;

/// Stata stores the value label of extended missing `.a` as this integer; `.b` is one more, and so on.
const LABEL_MISSING_A: i64 = 2_147_483_621;

/// How the cells of one variable are rendered.
#[derive(Clone, Copy)]
enum Render {
    Plain,
    /// `%td`: days since 1960-01-01.
    Date,
    /// `%tc`/`%tC`: milliseconds since 1960-01-01 00:00.
    DateTime,
}

impl DeliveryReader for DtaFileReader {
    fn read(
        &self,
        path: &Path,
        _delivery: &Delivery,
        keep: &ColumnSelection,
    ) -> Result<RawTable, IngestError> {
        ensure_exists(path)?;
        let fail = |e: DtaError| IngestError::Format {
            file: path.to_path_buf(),
            format: FORMAT,
            message: e.to_string(),
        };
        let mut characteristics = DtaReader::new()
            .from_path(path)
            .map_err(fail)?
            .read_header()
            .map_err(fail)?
            .read_schema()
            .map_err(fail)?;
        characteristics.skip_to_end().map_err(fail)?;
        let mut records = characteristics.into_record_reader().map_err(fail)?;
        let schema = records.schema().clone();
        let declared_rows = records.header().observation_count();
        let header: Vec<String> = schema
            .variables()
            .iter()
            .map(|v| v.name().to_string())
            .collect();
        let layout = KeptLayout::new(header.clone(), keep);
        let builder = RawTableBuilder::new(path, header.clone(), keep)?;
        let renders: Vec<Render> = layout
            .positions
            .iter()
            .map(|&i| render_of(schema.variables()[i].format()))
            .collect();
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
        let encoding = records.encoding();
        let mut cells = CellColumns::new(layout.positions.len());
        let mut extended: Vec<Vec<String>> = vec![Vec::new(); layout.positions.len()];
        let mut rows = 0u64;
        while let Some(record) = records.read_record().map_err(fail)? {
            rows += 1;
            let values = record.values();
            for (b, &i) in layout.positions.iter().enumerate() {
                let value = values.get(i).ok_or_else(|| IngestError::Cell {
                    file: path.to_path_buf(),
                    row: rows,
                    column: header[i].clone(),
                    value: String::new(),
                    message: "the record is shorter than the variable list".to_string(),
                })?;
                let out = cells.buffer(b);
                match value {
                    Value::String(s) => out.push_str(s),
                    Value::LongStringRef(r) => {
                        if let Some(text) = long_strings.get(r) {
                            let decoded =
                                text.data_str(encoding).ok_or_else(|| IngestError::Cell {
                                    file: path.to_path_buf(),
                                    row: rows,
                                    column: header[i].clone(),
                                    value: String::new(),
                                    message: "a long string (strL) is binary or not valid text"
                                        .to_string(),
                                })?;
                            out.push_str(&decoded);
                        }
                    }
                    numeric => match number_of(numeric) {
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
            return Err(IngestError::Format {
                file: path.to_path_buf(),
                format: FORMAT,
                message: format!(
                    "the header declares {declared_rows} observations but {rows} were read; the file looks truncated"
                ),
            });
        }
        let mut value_labels = ValueLabelTable::new();
        records
            .seek_value_labels()
            .and_then(|mut r| r.read_remaining_into(&mut value_labels))
            .map_err(fail)?;
        let mut builder = builder;
        for (b, &i) in layout.positions.iter().enumerate() {
            let variable = &schema.variables()[i];
            let mut labels = ColumnLabels::default();
            if let Some(set) = value_labels.get(variable.value_label_name()) {
                for entry in set.entries() {
                    let value = i64::from(entry.value());
                    let code = if (LABEL_MISSING_A..LABEL_MISSING_A + 26).contains(&value) {
                        format!(".{}", (b'a' + (value - LABEL_MISSING_A) as u8) as char)
                    } else {
                        value.to_string()
                    };
                    labels.value_labels.push((code, entry.label().to_string()));
                }
            }
            labels.missing_codes = std::mem::take(&mut extended[b]);
            for (code, _) in &labels.value_labels {
                if code.starts_with('.') && !labels.missing_codes.contains(code) {
                    labels.missing_codes.push(code.clone());
                }
            }
            builder.set_labels(&header[i], labels);
        }
        layout.finish(builder, &cells, rows)
    }
}

fn render_of(format: &str) -> Render {
    let f = format.trim_start_matches('%').trim_start_matches('-');
    if f.starts_with("td") || f.starts_with('d') {
        Render::Date
    } else if f.starts_with("tc") || f.starts_with("tC") {
        Render::DateTime
    } else {
        Render::Plain
    }
}

fn push_rendered(out: &mut String, x: f64, render: Render) {
    match render {
        Render::Date if x.fract() == 0.0 && x.abs() < 1e8 => {
            push_date(out, x as i64 + STATA_EPOCH_DAYS)
        }
        Render::DateTime if x.fract() == 0.0 && x.abs() < 1e15 => {
            push_datetime_micros(out, (x as i64 + STATA_EPOCH_DAYS * 86_400_000) * 1000)
        }
        _ => push_number(out, x),
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
