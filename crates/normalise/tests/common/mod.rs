//! Builds a valid raw delivery for any country config and harmonised schema, so that tests and the benchmark can
//! exercise the real `countries/` and `schemas/` files without depending on `dh synth`. Every cell is drawn from
//! what the config declares valid (a mapped code, a permitted missing code, a number in range), identifiers get
//! recognisable fake values, and rows link child and caregiver tables through the household id.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dh_config::schema::FieldType;
use dh_config::{CountryConfig, Delivery, Field, SchemaSet};
use rand::{Rng, SeedableRng};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repository's schemas and country configs (`DH_SCHEMA_DIR` overrides the schema folder, for benchmarks).
pub fn load_all() -> (SchemaSet, Vec<CountryConfig>) {
    let root = repo_root();
    let schema_dir =
        std::env::var_os("DH_SCHEMA_DIR").map_or_else(|| root.join("schemas"), PathBuf::from);
    let schemas = dh_config::load_schemas(&schema_dir).expect("schemas load");
    let countries =
        dh_config::load_countries(&root.join("countries"), &[]).expect("countries load");
    (schemas, countries)
}

/// Fake identifier value for row `row` of identifier column `name` (tests search outputs for these).
pub fn identifier_value(name: &str, row: usize) -> String {
    format!("IDENT-{name}-{row:07}")
}

/// Raw id of row `row` for a pseudonymised column.
pub fn raw_id(field: &str, row: usize) -> String {
    if field == "household_id" {
        format!("HHRAW{row:07}")
    } else {
        format!("{field}-RAW{row:07}")
    }
}

/// CSV text (before encoding) of a valid delivery with `rows` rows.
pub fn delivery_csv(
    delivery: &Delivery,
    schemas: &SchemaSet,
    table: &str,
    rows: usize,
    seed: u64,
) -> String {
    let schema = schemas.get(table).expect("schema exists");
    let delim = delivery.delimiter.chars().next().unwrap_or(',');
    let mapped: Vec<(&Field, &str, Vec<String>, Option<String>)> = schema
        .fields
        .iter()
        .filter_map(|f| {
            let m = delivery.columns.get(&f.name)?;
            if m.not_collected {
                return None;
            }
            let source = m.source.as_deref()?;
            let mut codes: Vec<String> = m.codes.keys().cloned().collect();
            if f.is_categorical() && codes.is_empty() {
                codes = f
                    .categories
                    .iter()
                    .flatten()
                    .map(|c| c.value.to_string())
                    .collect();
            }
            if !f.constraints.required {
                let allowed = m
                    .missing
                    .iter()
                    .chain(delivery.missing.iter().filter(|_| m.missing.is_empty()));
                codes.extend(
                    allowed
                        .filter(|(_, l)| f.missing_values.contains(l))
                        .map(|(c, _)| c.clone()),
                );
            }
            Some((f, source, codes, m.date_format.clone()))
        })
        .collect();
    let mut header: Vec<String> = delivery.identifiers.clone();
    header.extend(mapped.iter().map(|(_, s, _, _)| s.to_string()));
    let mut out = String::with_capacity(rows * header.len() * 4);
    out.push_str(&header.join(&delim.to_string()));
    out.push('\n');
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for row in 0..rows {
        let mut cells: Vec<String> = delivery
            .identifiers
            .iter()
            .map(|n| identifier_value(n, row))
            .collect();
        for (f, _, codes, date_format) in &mapped {
            let cell = if f.pseudonymise {
                raw_id(&f.name, row)
            } else if !codes.is_empty() && (f.is_categorical() || rng.random_bool(0.05)) {
                codes[rng.random_range(0..codes.len())].clone()
            } else {
                let lo = f.constraints.minimum.unwrap_or(0.0);
                let hi = f.constraints.maximum.unwrap_or(lo + 500.0);
                match f.field_type {
                    FieldType::Integer => rng.random_range(lo as i64..=hi as i64).to_string(),
                    FieldType::Number => format!("{:.3}", rng.random_range(lo.max(0.001)..=hi)),
                    // In the column's `date_format` where it has one (day, month and 4-digit year fields).
                    FieldType::Date => date_format
                        .as_deref()
                        .unwrap_or("%Y-%m-%d")
                        .replace("%Y", "2020")
                        .replace("%m", &format!("{:02}", 1 + row % 12))
                        .replace("%d", &format!("{:02}", 1 + row % 28)),
                    _ => format!("S{}", row % 37),
                }
            };
            cells.push(cell);
        }
        let mut line = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                line.push(delim);
            }
            let _ = write!(line, "{c}");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Writes every delivery of `config` into `dir` (encoded as configured) with `rows` rows each.
pub fn write_deliveries(config: &CountryConfig, schemas: &SchemaSet, dir: &Path, rows: usize) {
    for (i, (table, delivery)) in config.deliveries.iter().enumerate() {
        let text = delivery_csv(delivery, schemas, table, rows, 1000 + i as u64);
        if delivery.format != dh_config::country::Format::Csv {
            write_binary(delivery, &text, &dir.join(&delivery.file));
            continue;
        }
        let text = if matches!(delivery.line_ending, dh_config::country::LineEnding::Crlf) {
            text.replace('\n', "\r\n")
        } else {
            text
        };
        let bytes = if delivery.encoding == dh_config::Encoding::UTF8_BOM {
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()
        } else {
            text.into_bytes()
        };
        std::fs::write(dir.join(&delivery.file), bytes).expect("write delivery");
    }
}

/// Writes the generated CSV text as a `.sav`/`.dta`/`.xlsx` file with `dh-synth`'s writers. Cells that are
/// `label:<text>` keys (configs mapping by value label) become numeric codes from 1001 on, labelled `<text>`.
fn write_binary(delivery: &Delivery, text: &str, path: &Path) {
    let delim = delivery.delimiter.chars().next().unwrap_or(',');
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(delim)
        .map(str::to_string)
        .collect();
    let mut table = dh_synth::write::TextTable::new(header.clone());
    let mut labelled: Vec<Vec<(String, String)>> = vec![Vec::new(); header.len()];
    for line in lines {
        let cells: Vec<String> = line
            .split(delim)
            .enumerate()
            .map(|(c, cell)| match cell.strip_prefix("label:") {
                Some(label) => {
                    let known = &mut labelled[c];
                    match known.iter().find(|(_, l)| l == label) {
                        Some((code, _)) => code.clone(),
                        None => {
                            let code = (1001 + known.len()).to_string();
                            known.push((code.clone(), label.to_string()));
                            code
                        }
                    }
                }
                None => cell.to_string(),
            })
            .collect();
        table.push_row(&cells);
    }
    for (column, labels) in table.columns.iter_mut().zip(labelled) {
        column.value_labels = labels;
    }
    dh_synth::write::writer_for(delivery.format)
        .write(path, delivery, &table)
        .expect("write binary delivery");
}
