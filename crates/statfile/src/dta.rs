//! Stata `.dta` format 118 (Stata 14-18), UTF-8, little-endian.
//!
//! Layout (Stata's `dta_118` specification): `<header>` (release, byte order, K, N, label, empty timestamp so the
//! bytes do not depend on the clock), `<map>` of the 14 section offsets, `<variable_types>`, `<varnames>`,
//! `<sortlist>`, `<formats>`, `<value_label_names>`, `<variable_labels>`, empty `<characteristics>`, `<data>`, empty
//! `<strls>`, `<value_labels>`.
//!
//! Numeric columns are `byte`, `int`, `long` or `double` ([`Storage`]); system missing is `.` and the table's
//! tagged missing code `i` is the extended missing value `.a` + `i` (`.a`-`.z`) of the column's type. Dates are
//! `long` days since 1960-01-01 with format `%td`. Text columns are `strN` (N = longest cell in bytes, at most
//! 2045). A numeric column of integer storage with value labels (every code an integer) gets a label set named
//! after the variable; labels of tagged missing codes are stored on `.a`, `.b`, ... Default display formats:
//! `%8.0g` (byte, int), `%12.0g` (long), `%10.0g` (double), `%td` (dates), `%Ns` (text, N at most 244).

use crate::dates;
use crate::error::StatfileError;
use crate::model::{Column, LabelledTable, Num, Storage, ValueKey, Values};

const FORMAT: &str = "Stata .dta";

const TYPE_DOUBLE: u16 = 65526;
const TYPE_LONG: u16 = 65528;
const TYPE_INT: u16 = 65529;
const TYPE_BYTE: u16 = 65530;
const MAX_STR: usize = 2045;
/// Extended missing values `.a`-`.z`.
const MAX_TAGS: usize = 26;

/// `.` of each storage type; `.a` is the next value (integers) or the next step (doubles).
const BYTE_MISSING: i8 = 101;
const INT_MISSING: i16 = 32_741;
const LONG_MISSING: i32 = 2_147_483_621;
const DOUBLE_MISSING: u64 = 0x7FE0_0000_0000_0000;
/// Distance between `.`, `.a`, `.b`, ... of a double.
const DOUBLE_TAG_STEP: u64 = 0x0000_0100_0000_0000;

enum Kind {
    Num(Storage),
    Date,
    Str(usize),
}

/// Byte-level encoding of Stata's missing values.
pub mod missing {
    use super::*;

    /// The `long` value of `.` (`tag = None`) or of `.a` + `tag`, as value-label tables store missing values.
    pub fn long(tag: Option<u8>) -> i32 {
        LONG_MISSING + tag.map_or(0, |t| i32::from(t) + 1)
    }
    pub fn int(tag: Option<u8>) -> i16 {
        INT_MISSING + tag.map_or(0, |t| i16::from(t) + 1)
    }
    pub fn byte(tag: Option<u8>) -> i8 {
        BYTE_MISSING + tag.map_or(0, |t| t as i8 + 1)
    }
    /// Bit pattern of a double `.` or `.a` + `tag`.
    pub fn double(tag: Option<u8>) -> u64 {
        DOUBLE_MISSING + tag.map_or(0, |t| (u64::from(t) + 1) * DOUBLE_TAG_STEP)
    }
}

fn kind_of(column: &Column) -> Kind {
    match &column.values {
        Values::Numeric { storage, .. } => Kind::Num(*storage),
        Values::Date(_) => Kind::Date,
        Values::Text(cells) => Kind::Str(cells.iter().map(String::len).max().unwrap_or(0).max(1)),
    }
}

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

/// Whether `name` is a Stata variable name: letters, digits and `_`, 1-32 bytes, not starting with a digit.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Whether `column` gets a value-label set: integer storage, labels, every labelled code an integer.
fn labelled(column: &Column, kind: &Kind) -> bool {
    matches!(kind, Kind::Num(s) if s.is_integer())
        && !column.value_labels.is_empty()
        && column.value_labels.iter().all(|(key, _)| match key {
            ValueKey::Code(v) => {
                v.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(v)
            }
            ValueKey::Missing(_) => true,
        })
}

/// The whole file in memory.
pub fn encode(table: &LabelledTable) -> Result<Vec<u8>, StatfileError> {
    let (k, kinds) = check(table)?;
    let labelled: Vec<bool> = table
        .columns
        .iter()
        .zip(&kinds)
        .map(|(c, kind)| labelled(c, kind))
        .collect();
    let rows = table.rows();
    let mut out = Vec::with_capacity(64 + rows * table.columns.len() * 8);
    let mut offsets = [0u64; 14];
    header(&mut out, table, k, rows as u64);
    offsets[1] = out.len() as u64;
    tag(&mut out, "<map>");
    let map_at = out.len();
    out.resize(out.len() + 14 * 8, 0);
    tag(&mut out, "</map>");
    descriptors(&mut out, &mut offsets, table, &kinds, &labelled, k);
    offsets[9] = out.len() as u64;
    tag(&mut out, "<data>");
    data(&mut out, table, &kinds)?;
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

/// The table's variable count and each column's Stata storage, or why Stata cannot hold the table (too many
/// variables or missing codes, an invalid name, a ragged column, a string over `MAX_STR` bytes).
fn check(table: &LabelledTable) -> Result<(u16, Vec<Kind>), StatfileError> {
    let ferr = |message: String| StatfileError::invalid(FORMAT, message);
    let k = u16::try_from(table.columns.len())
        .ok()
        .filter(|k| *k <= 32_767)
        .ok_or_else(|| {
            ferr(format!(
                "{} variables exceed Stata's limit",
                table.columns.len()
            ))
        })?;
    if table.missing.len() > MAX_TAGS {
        return Err(ferr(format!(
            "{} missing codes; Stata has 26 extended missing values (.a-.z)",
            table.missing.len()
        )));
    }
    let rows = table.rows();
    let mut kinds = Vec::with_capacity(table.columns.len());
    for column in &table.columns {
        let name = &column.name;
        if !valid_name(name) {
            return Err(ferr(format!(
                "`{name}` is not a Stata variable name (letters, digits, _; at most 32)"
            )));
        }
        if column.values.len() != rows {
            return Err(ferr(format!(
                "column `{name}` has {} cells, the table {rows} rows",
                column.values.len()
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
    Ok((k, kinds))
}

/// The `<header>`: release 118, little-endian, K, N, the dataset label and an empty timestamp (no clock).
fn header(out: &mut Vec<u8>, table: &LabelledTable, k: u16, n: u64) {
    tag(
        out,
        "<stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>",
    );
    out.extend_from_slice(&k.to_le_bytes());
    tag(out, "</K><N>");
    out.extend_from_slice(&n.to_le_bytes());
    tag(out, "</N><label>");
    let label = cut(&table.label, 80);
    out.extend_from_slice(&(label.len() as u16).to_le_bytes());
    out.extend_from_slice(label.as_bytes());
    tag(out, "</label><timestamp>");
    out.push(0);
    tag(out, "</timestamp></header>");
}

/// The variable descriptors, from `<variable_types>` to `<characteristics>` (map entries 2-8).
fn descriptors(
    out: &mut Vec<u8>,
    offsets: &mut [u64; 14],
    table: &LabelledTable,
    kinds: &[Kind],
    labelled: &[bool],
    k: u16,
) {
    offsets[2] = out.len() as u64;
    tag(out, "<variable_types>");
    for kind in kinds {
        let code = match kind {
            Kind::Num(Storage::Byte) => TYPE_BYTE,
            Kind::Num(Storage::Int) => TYPE_INT,
            Kind::Num(Storage::Long) | Kind::Date => TYPE_LONG,
            Kind::Num(Storage::Double) => TYPE_DOUBLE,
            Kind::Str(w) => *w as u16,
        };
        out.extend_from_slice(&code.to_le_bytes());
    }
    tag(out, "</variable_types>");

    offsets[3] = out.len() as u64;
    tag(out, "<varnames>");
    for column in &table.columns {
        fixed(out, &column.name, 129);
    }
    tag(out, "</varnames>");

    offsets[4] = out.len() as u64;
    tag(out, "<sortlist>");
    out.resize(out.len() + (usize::from(k) + 1) * 2, 0);
    tag(out, "</sortlist>");

    offsets[5] = out.len() as u64;
    tag(out, "<formats>");
    for (column, kind) in table.columns.iter().zip(kinds) {
        let format = match (&column.stata_format, kind) {
            (Some(f), _) => f.clone(),
            (None, Kind::Num(Storage::Byte | Storage::Int)) => "%8.0g".to_string(),
            (None, Kind::Num(Storage::Long)) => "%12.0g".to_string(),
            (None, Kind::Num(Storage::Double)) => "%10.0g".to_string(),
            (None, Kind::Date) => "%td".to_string(),
            (None, Kind::Str(w)) => format!("%{}s", (*w).min(244)),
        };
        fixed(out, &format, 57);
    }
    tag(out, "</formats>");

    offsets[6] = out.len() as u64;
    tag(out, "<value_label_names>");
    for (column, has) in table.columns.iter().zip(labelled) {
        fixed(out, if *has { &column.name } else { "" }, 129);
    }
    tag(out, "</value_label_names>");

    offsets[7] = out.len() as u64;
    tag(out, "<variable_labels>");
    for column in &table.columns {
        fixed(out, column.label.as_deref().unwrap_or(""), 321);
    }
    tag(out, "</variable_labels>");

    offsets[8] = out.len() as u64;
    tag(out, "<characteristics></characteristics>");
}

/// The `<data>` rows: each cell in its column's storage (extended missing values as tags `.a`-`.z`).
fn data(out: &mut Vec<u8>, table: &LabelledTable, kinds: &[Kind]) -> Result<(), StatfileError> {
    let tags = table.missing.len();
    for row in 0..table.rows() {
        for (c, (column, kind)) in table.columns.iter().zip(kinds).enumerate() {
            let bad = |what: &str| {
                StatfileError::invalid(
                    FORMAT,
                    format!("row {}, column `{}` (#{c}): {what}", row + 1, column.name),
                )
            };
            match (&column.values, kind) {
                (Values::Numeric { cells, .. }, Kind::Num(storage)) => {
                    let cell = cells[row];
                    if let Num::Tagged(t) = cell
                        && usize::from(t) >= tags
                    {
                        return Err(bad(&format!("missing tag {t} is not a code of the table")));
                    }
                    numeric_cell(out, *storage, cell)
                        .map_err(|v| bad(&format!("{v} does not fit Stata storage {storage:?}")))?;
                }
                (Values::Date(cells), Kind::Date) => {
                    let v = match cells[row] {
                        Some(days) => dates::stata_days(days),
                        None => LONG_MISSING,
                    };
                    out.extend_from_slice(&v.to_le_bytes());
                }
                (Values::Text(cells), Kind::Str(w)) => {
                    // A strN cell may fill all N bytes (no terminator); `w` is the longest cell.
                    let cell = &cells[row];
                    out.extend_from_slice(cell.as_bytes());
                    out.resize(out.len() + w.saturating_sub(cell.len()), 0);
                }
                _ => return Err(bad("cell type does not match the column")),
            }
        }
    }
    Ok(())
}

/// `text` cut to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut n = text.len().min(max);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    &text[..n]
}

/// Appends one numeric cell; `Err(value)` when the value does not fit the storage type.
fn numeric_cell(out: &mut Vec<u8>, storage: Storage, cell: Num) -> Result<(), f64> {
    let tag = match cell {
        Num::Value(_) => None,
        Num::System => Some(None),
        Num::Tagged(t) => Some(Some(t)),
    };
    let value = match cell {
        Num::Value(v) => v,
        _ => 0.0,
    };
    let integral = |lo: f64, hi: f64| value.fract() == 0.0 && (lo..=hi).contains(&value);
    match (storage, tag) {
        (Storage::Byte, Some(t)) => out.push(missing::byte(t) as u8),
        (Storage::Byte, None) if integral(-127.0, 100.0) => out.push(value as i8 as u8),
        (Storage::Int, Some(t)) => out.extend_from_slice(&missing::int(t).to_le_bytes()),
        (Storage::Int, None) if integral(-32_767.0, 32_740.0) => {
            out.extend_from_slice(&(value as i16).to_le_bytes())
        }
        (Storage::Long, Some(t)) => out.extend_from_slice(&missing::long(t).to_le_bytes()),
        (Storage::Long, None) if integral(-2_147_483_647.0, 2_147_483_620.0) => {
            out.extend_from_slice(&(value as i32).to_le_bytes())
        }
        (Storage::Double, Some(t)) => out.extend_from_slice(&missing::double(t).to_le_bytes()),
        (Storage::Double, None) if value.is_finite() => {
            out.extend_from_slice(&value.to_bits().to_le_bytes())
        }
        _ => return Err(value),
    }
    Ok(())
}

/// One `<lbl>` entry: length, name (129 bytes), 3 padding bytes, then n, text length, offsets, values, texts.
/// Values are sorted (codes, then `.a`, `.b`, ...); a repeated value keeps its first label.
fn value_label_set(out: &mut Vec<u8>, name: &str, labels: &[(ValueKey, String)]) {
    let mut pairs: Vec<(i32, &str)> = labels
        .iter()
        .map(|(key, label)| {
            let v = match key {
                ValueKey::Code(v) => *v as i32,
                ValueKey::Missing(t) => missing::long(Some(*t)),
            };
            (v, label.as_str())
        })
        .collect();
    pairs.sort_by_key(|(v, _)| *v);
    pairs.dedup_by_key(|(v, _)| *v);
    let mut text = Vec::new();
    let mut offs = Vec::with_capacity(pairs.len());
    for (_, label) in &pairs {
        offs.push(text.len() as i32);
        text.extend_from_slice(cut(label, 32_000).as_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_missing_encoding() {
        // Stata's documented values: . = 101/32,741/2,147,483,621/0x7fe0..., .a is the next one.
        assert_eq!(missing::byte(None), 101);
        assert_eq!(missing::byte(Some(0)), 102);
        assert_eq!(missing::byte(Some(25)), 127);
        assert_eq!(missing::int(Some(0)), 32_742);
        assert_eq!(missing::int(Some(3)), 32_745);
        assert_eq!(missing::long(Some(0)), 2_147_483_622);
        assert_eq!(missing::long(Some(25)), 2_147_483_647);
        assert_eq!(missing::double(Some(0)), 0x7FE0_0100_0000_0000);
        assert_eq!(missing::double(Some(3)), 0x7FE0_0400_0000_0000);
        let mut out = Vec::new();
        numeric_cell(&mut out, Storage::Byte, Num::Tagged(1)).unwrap();
        numeric_cell(&mut out, Storage::Int, Num::Value(-3.0)).unwrap();
        assert_eq!(out, vec![103, 0xFD, 0xFF]);
        assert_eq!(
            numeric_cell(&mut out, Storage::Byte, Num::Value(101.0)),
            Err(101.0)
        );
        assert_eq!(
            numeric_cell(&mut out, Storage::Long, Num::Value(1.5)),
            Err(1.5)
        );
    }

    #[test]
    fn header_has_no_clock_and_label_is_cut() {
        let table = LabelledTable {
            label: "x".repeat(100),
            columns: vec![Column::new("a", Values::Date(vec![Some(0), None]))],
            missing: Vec::new(),
        };
        let bytes = encode(&table).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(&format!(
            "<label>\u{50}\0{}</label><timestamp>\0</timestamp>",
            "x".repeat(80)
        )));
        assert_eq!(bytes, encode(&table).unwrap());
    }

    #[test]
    fn refuses_bad_names_and_unknown_tags() {
        let mut table = LabelledTable {
            columns: vec![Column::new("1a", Values::Text(vec!["x".into()]))],
            ..Default::default()
        };
        assert!(encode(&table).unwrap_err().to_string().contains("`1a`"));
        table.columns = vec![Column::new(
            "a",
            Values::Numeric {
                storage: Storage::Byte,
                cells: vec![Num::Tagged(0)],
            },
        )];
        assert!(
            encode(&table)
                .unwrap_err()
                .to_string()
                .contains("missing tag 0")
        );
    }
}
