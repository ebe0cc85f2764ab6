//! Stata `.dta` deliveries, format 118 (Stata 14-18), little-endian, written here because the `dta` crate cannot
//! build value-label sets for writing.
//!
//! Layout (Stata's `dta_118` specification): `<header>` (release, byte order, K, N, label, empty timestamp so the
//! bytes do not depend on the clock), `<map>` of the 14 section offsets, `<variable_types>`, `<varnames>`,
//! `<sortlist>`, `<formats>`, `<value_label_names>`, `<variable_labels>`, empty `<characteristics>`, `<data>`, empty
//! `<strls>`, `<value_labels>`. Numeric columns whose cells are all integers in Stata's `long` range are `long`
//! (`%12.0g`), other numeric columns `double` (`%10.0g`); text columns are `strN` (N = longest cell in bytes, at
//! most 2045). Empty cells of numeric columns are system missing `.`. Integer-coded columns with value labels get
//! a label set named after the variable.

use std::path::Path;

use dh_config::Delivery;

use super::FormatWriter;
use super::table::{TextColumn, TextTable};
use crate::error::SynthError;

pub struct DtaWriter;

const FORMAT: &str = "Stata .dta";

/// Largest non-missing `long`; `.` is 2,147,483,621.
const LONG_MAX: i64 = 2_147_483_620;
const LONG_MISSING: i32 = 2_147_483_621;
/// System missing `.` of a double.
const DOUBLE_MISSING: u64 = 0x7FE0_0000_0000_0000;
const TYPE_DOUBLE: u16 = 65526;
const TYPE_LONG: u16 = 65528;
const MAX_STR: usize = 2045;

enum Kind {
    Long,
    Double,
    Str(usize),
}

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

fn kind_of(column: &TextColumn) -> Kind {
    if column.is_numeric() {
        let all_long = column.iter().filter(|c| !c.is_empty()).all(|c| {
            c.parse::<i64>()
                .is_ok_and(|v| (-LONG_MAX..=LONG_MAX).contains(&v))
        });
        if all_long { Kind::Long } else { Kind::Double }
    } else {
        Kind::Str(column.iter().map(str::len).max().unwrap_or(0).max(1))
    }
}

/// A null-padded fixed-width field.
/// `text` in a NUL-padded field of `width` bytes, cut at a character boundary so that a NUL always ends it.
fn fixed(out: &mut Vec<u8>, text: &str, width: usize) {
    let bytes = text.as_bytes();
    let mut n = bytes.len().min(width.saturating_sub(1));
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    out.extend_from_slice(&bytes[..n]);
    out.resize(out.len() + (width - n), 0);
}

fn tag(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(name.as_bytes());
}

/// The whole file in memory.
pub fn encode(path: &Path, table: &TextTable) -> Result<Vec<u8>, SynthError> {
    let ferr = |message: String| SynthError::Format {
        path: path.to_path_buf(),
        format: FORMAT,
        message,
    };
    let k = u16::try_from(table.columns.len())
        .ok()
        .filter(|k| *k <= 32_767)
        .ok_or_else(|| {
            ferr(format!(
                "{} variables exceed Stata's limit",
                table.columns.len()
            ))
        })?;
    let n = table.rows() as u64;
    let mut kinds = Vec::with_capacity(table.columns.len());
    for column in &table.columns {
        let name = &column.name;
        let valid_name = !name.is_empty()
            && name.len() <= 32
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !name.as_bytes()[0].is_ascii_digit();
        if !valid_name {
            return Err(ferr(format!(
                "`{name}` is not a Stata variable name (letters, digits, _; at most 32)"
            )));
        }
        let kind = kind_of(column);
        if let Kind::Str(w) = kind
            && w > MAX_STR
        {
            return Err(ferr(format!(
                "column `{name}` holds a cell of {w} bytes; strL is not written"
            )));
        }
        kinds.push(kind);
    }
    let labelled: Vec<bool> = table
        .columns
        .iter()
        .zip(&kinds)
        .map(|(c, kind)| {
            matches!(kind, Kind::Long)
                && !c.value_labels.is_empty()
                && c.value_labels
                    .iter()
                    .all(|(code, _)| code.parse::<i32>().is_ok())
        })
        .collect();

    let mut out = Vec::with_capacity(64 + table.rows() * table.columns.len() * 8);
    let mut offsets = [0u64; 14];
    tag(
        &mut out,
        "<stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>",
    );
    out.extend_from_slice(&k.to_le_bytes());
    tag(&mut out, "</K><N>");
    out.extend_from_slice(&n.to_le_bytes());
    tag(&mut out, "</N><label>");
    out.extend_from_slice(&0u16.to_le_bytes());
    tag(&mut out, "</label><timestamp>");
    out.push(0);
    tag(&mut out, "</timestamp></header>");
    offsets[1] = out.len() as u64;
    tag(&mut out, "<map>");
    let map_at = out.len();
    out.resize(out.len() + 14 * 8, 0);
    tag(&mut out, "</map>");

    offsets[2] = out.len() as u64;
    tag(&mut out, "<variable_types>");
    for kind in &kinds {
        let code = match kind {
            Kind::Long => TYPE_LONG,
            Kind::Double => TYPE_DOUBLE,
            Kind::Str(w) => *w as u16,
        };
        out.extend_from_slice(&code.to_le_bytes());
    }
    tag(&mut out, "</variable_types>");

    offsets[3] = out.len() as u64;
    tag(&mut out, "<varnames>");
    for column in &table.columns {
        fixed(&mut out, &column.name, 129);
    }
    tag(&mut out, "</varnames>");

    offsets[4] = out.len() as u64;
    tag(&mut out, "<sortlist>");
    out.resize(out.len() + (usize::from(k) + 1) * 2, 0);
    tag(&mut out, "</sortlist>");

    offsets[5] = out.len() as u64;
    tag(&mut out, "<formats>");
    for kind in &kinds {
        let format = match kind {
            Kind::Long => "%12.0g".to_string(),
            Kind::Double => "%10.0g".to_string(),
            Kind::Str(w) => format!("%{}s", (*w).min(244)),
        };
        fixed(&mut out, &format, 57);
    }
    tag(&mut out, "</formats>");

    offsets[6] = out.len() as u64;
    tag(&mut out, "<value_label_names>");
    for (column, has) in table.columns.iter().zip(&labelled) {
        fixed(&mut out, if *has { &column.name } else { "" }, 129);
    }
    tag(&mut out, "</value_label_names>");

    offsets[7] = out.len() as u64;
    tag(&mut out, "<variable_labels>");
    for column in &table.columns {
        fixed(
            &mut out,
            column.variable_label.as_deref().unwrap_or(""),
            321,
        );
    }
    tag(&mut out, "</variable_labels>");

    offsets[8] = out.len() as u64;
    tag(&mut out, "<characteristics></characteristics>");

    offsets[9] = out.len() as u64;
    tag(&mut out, "<data>");
    for row in 0..table.rows() {
        for (c, (column, kind)) in table.columns.iter().zip(&kinds).enumerate() {
            let cell = column.get(row);
            let bad = |what: &str| {
                ferr(format!(
                    "row {}, column `{}` (#{c}): `{cell}` is not {what}",
                    row + 1,
                    column.name
                ))
            };
            match kind {
                Kind::Long => {
                    let v = if cell.is_empty() {
                        LONG_MISSING
                    } else {
                        cell.parse::<i32>().map_err(|_| bad("a Stata long"))?
                    };
                    out.extend_from_slice(&v.to_le_bytes());
                }
                Kind::Double => {
                    let bits = if cell.is_empty() {
                        DOUBLE_MISSING
                    } else {
                        cell.parse::<f64>().map_err(|_| bad("a number"))?.to_bits()
                    };
                    out.extend_from_slice(&bits.to_le_bytes());
                }
                Kind::Str(w) => {
                    // A strN cell may fill all N bytes (no terminator); `w` is the longest cell.
                    out.extend_from_slice(cell.as_bytes());
                    out.resize(out.len() + w.saturating_sub(cell.len()), 0);
                }
            }
        }
    }
    tag(&mut out, "</data>");

    offsets[10] = out.len() as u64;
    tag(&mut out, "<strls></strls>");

    offsets[11] = out.len() as u64;
    tag(&mut out, "<value_labels>");
    for (column, has) in table.columns.iter().zip(&labelled) {
        if *has {
            value_label_set(&mut out, &column.name, &column.value_labels);
        }
    }
    tag(&mut out, "</value_labels>");
    offsets[12] = out.len() as u64;
    tag(&mut out, "</stata_dta>");
    offsets[13] = out.len() as u64;
    for (i, offset) in offsets.iter().enumerate() {
        out[map_at + 8 * i..map_at + 8 * i + 8].copy_from_slice(&offset.to_le_bytes());
    }
    Ok(out)
}

/// One `<lbl>` entry: length, name (129 bytes), 3 padding bytes, then n, text length, offsets, values, texts.
fn value_label_set(out: &mut Vec<u8>, name: &str, labels: &[(String, String)]) {
    let mut pairs: Vec<(i32, &str)> = labels
        .iter()
        .filter_map(|(code, label)| code.parse::<i32>().ok().map(|v| (v, label.as_str())))
        .collect();
    pairs.sort_by_key(|(v, _)| *v);
    pairs.dedup_by_key(|(v, _)| *v);
    let mut text = Vec::new();
    let mut offs = Vec::with_capacity(pairs.len());
    for (_, label) in &pairs {
        offs.push(text.len() as i32);
        let bytes = label.as_bytes();
        text.extend_from_slice(&bytes[..bytes.len().min(32_000)]);
        text.push(0);
    }
    let n = pairs.len() as i32;
    let len = 8 + 8 * pairs.len() + text.len();
    tag(out, "<lbl>");
    out.extend_from_slice(&(len as u32).to_le_bytes());
    fixed(out, name, 129);
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(text.len() as i32).to_le_bytes());
    for off in &offs {
        out.extend_from_slice(&off.to_le_bytes());
    }
    for (v, _) in &pairs {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&text);
    tag(out, "</lbl>");
}
