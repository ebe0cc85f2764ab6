//! Generated family rows -> one delivery's cells: each harmonised value through the inverse of the country's
//! column mapping (category label -> the country's code, missing label -> its missing code, with value labels and
//! user-missing codes for `.sav`/`.dta`), the delivery's identifier columns (names, phones: dropped by ingest;
//! a column named like `coded_text` gets an opaque placeholder token, never text), and planted bad rows.

use std::collections::BTreeMap;

use dh_config::{Delivery, TableSchema};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::generate::{Rows, Val};
use crate::identifiers::IdentifierKind;
use crate::rng;
use crate::write::{SourceCodes, TextTable, inverse};

/// Prefix of the placeholder written into transcript-text columns of synthetic exports: tests look for it in
/// every output to prove that no text column reaches one.
pub const TEXT_PLACEHOLDER: &str = "SYNTH-TEXT-PLACEHOLDER-";

/// How one harmonised column is written.
struct Written<'a> {
    index: usize,
    map: &'a dh_config::ColumnMap,
    title: String,
    header: String,
    categories: BTreeMap<String, String>,
    missing: BTreeMap<String, String>,
    value_labels: Vec<(String, String)>,
    missing_codes: Vec<String>,
}

/// A bad value planted in a delivery: (row index, harmonised column, value, expected quarantine reason).
#[derive(Debug, Clone, PartialEq)]
pub struct Plant {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub reason: &'static str,
}

/// The delivery's cells, or a message naming the column and row the country cannot express.
pub fn render(
    rows: &Rows,
    schema: &TableSchema,
    delivery: &Delivery,
    key: u64,
    plants: &[Plant],
) -> Result<(TextTable, Vec<(String, String)>), String> {
    let mut written = Vec::new();
    for (index, name) in rows.columns.iter().enumerate() {
        let Some(map) = delivery.columns.get(name) else {
            continue;
        };
        let Some(source) = map.source.as_ref().filter(|_| !map.not_collected) else {
            continue;
        };
        let field = schema
            .field(name)
            .ok_or_else(|| format!("the schema has no column `{name}`"))?;
        let mut codes = SourceCodes::new(map);
        let mut categories = BTreeMap::new();
        if !map.codes.is_empty() {
            for c in field.categories.iter().flatten() {
                if let Some(k) = inverse(&map.codes, &c.label) {
                    categories.insert(c.label.clone(), codes.resolve(&k, &c.label));
                }
            }
        }
        let mut missing = BTreeMap::new();
        for m in &schema.missing_values {
            if let Some(k) = inverse(&map.missing, &m.label) {
                missing.insert(m.label.clone(), codes.resolve(&k, &m.label));
            }
        }
        let missing_codes = missing
            .values()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect();
        written.push(Written {
            index,
            map,
            title: field.title.clone(),
            header: source.clone(),
            categories,
            missing,
            value_labels: if map.codes.is_empty() {
                Vec::new()
            } else {
                codes.labels
            },
            missing_codes,
        });
    }
    if written.is_empty() {
        return Err("the delivery maps no generated column".into());
    }
    let (texts, others): (Vec<&String>, Vec<&String>) = delivery
        .identifiers
        .iter()
        .partition(|s| s.to_ascii_lowercase().contains("text"));
    let mut headers: Vec<String> = vec![written[0].header.clone()];
    headers.extend(others.iter().map(|s| s.to_string()));
    headers.extend(written[1..].iter().map(|w| w.header.clone()));
    headers.extend(texts.iter().map(|s| s.to_string()));
    let mut table = TextTable::new(headers.clone());
    let column_of = |w: usize| if w == 0 { 0 } else { others.len() + w };
    for (w, col) in written.iter().enumerate() {
        let out = &mut table.columns[column_of(w)];
        out.value_labels = col.value_labels.clone();
        out.missing_codes = col.missing_codes.clone();
        out.variable_label = Some(col.title.clone());
    }
    let mut planted = Vec::new();
    for (r, row) in rows.rows.iter().enumerate() {
        let mut cells = vec![String::new(); headers.len()];
        for (w, col) in written.iter().enumerate() {
            let cell = &mut cells[column_of(w)];
            *cell = match &row[col.index] {
                Val::Raw(s) => s.clone(),
                Val::Label(l) => col.categories.get(l).cloned().ok_or_else(|| {
                    format!(
                        "row {}: `{}` has no source code for `{l}`",
                        r + 2,
                        col.header
                    )
                })?,
                Val::Missing(m) => match col.missing.get(*m) {
                    Some(code) => code.clone(),
                    None if *m == "not_applicable" => String::new(),
                    None => {
                        return Err(format!(
                            "row {}: `{}` has no missing code for `{m}`",
                            r + 2,
                            col.header
                        ));
                    }
                },
            };
        }
        for (i, name) in others.iter().enumerate() {
            cells[1 + i] = crate::identifiers::encodable(
                IdentifierKind::from_column(name).value(key, r as u64, name, 0.0, 0.0),
                delivery.encoding,
            );
        }
        let first_text = headers.len() - texts.len();
        for (i, name) in texts.iter().enumerate() {
            let k = rng::key(&[key, r as u64, rng::hash_str(name)]);
            cells[first_text + i] = format!("{TEXT_PLACEHOLDER}{:016x}", rng::mix64(k));
        }
        for p in plants.iter().filter(|p| p.row == r) {
            if let Some(w) = written
                .iter()
                .position(|w| rows.columns[w.index] == p.column)
            {
                cells[column_of(w)] = p.value.clone();
                planted.push((written[w].header.clone(), p.value.clone()));
            }
        }
        table.push_row(&cells);
    }
    for (w, col) in written.iter().enumerate() {
        table.columns[column_of(w)]
            .apply_mapping(col.map)
            .map_err(|m| format!("column `{}`: {m}", col.header))?;
    }
    Ok((table, planted))
}

/// A code the column does not map (neither a category nor a missing code).
pub fn unmapped_code(delivery: &Delivery, column: &str, candidates: &[&str]) -> String {
    let used = |c: &str| {
        delivery
            .columns
            .get(column)
            .is_some_and(|m| m.codes.contains_key(c) || m.missing.contains_key(c))
    };
    candidates
        .iter()
        .find(|c| !used(c))
        .map(|c| c.to_string())
        .unwrap_or_else(|| "unmapped-code".to_string())
}

/// `count` distinct row indexes below `rows` (empty when the table is too small to spare them).
pub fn distinct_rows(rng: &mut ChaCha8Rng, rows: usize, count: usize) -> Vec<usize> {
    if rows < 10 * count.max(1) {
        return Vec::new();
    }
    let mut picked: Vec<usize> = Vec::with_capacity(count);
    while picked.len() < count {
        let r = rng.random_range(0..rows);
        if !picked.contains(&r) {
            picked.push(r);
        }
    }
    picked
}
