//! The household survey's deliveries: writes a [`SynthSample`] as the country's raw files, one for every
//! `[deliveries.<table>]` of the config whose table the sample holds (the child table and the tables linked to it;
//! [`crate::run`] checks that every other delivered table has a generator in [`crate::families`]). The cells are
//! computed once as a [`TextTable`] and written in the delivery's format by the generic layer ([`crate::write`]).
//!
//! Each harmonised value goes through the INVERSE of the country's column mapping: category label -> the
//! country's source code (the first code, in sorted order, mapped to that label), missing label -> the country's
//! missing code (`""` = an empty cell). A column with `not_collected = true` has no source and is absent; a
//! harmonised column the delivery does not map is absent too. Alongside the mapped columns every delivery holds
//! its direct identifiers (`identifiers`, see [`crate::identifiers`]) and two unmapped administrative columns
//! (`interview_minutes`, `form_version`) that ingest must ignore. A code key naming a value label
//! (`"label:Yes" = "yes"`, for `.sav`/`.dta`) gets the smallest positive integer code the column does not use
//! otherwise, and the file labels that code `Yes`; other codes are labelled with the harmonised label in words
//! (`dont_know` -> `Don't know`).
//!
//! Column order: the first mapped column (the respondent or caregiver id), the identifiers other than notes,
//! the remaining mapped columns in schema order, the administrative columns, then the notes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use dh_config::{ColumnMap, CountryConfig, Delivery};

use crate::cell::Cell;
use crate::error::SynthError;
use crate::identifiers::IdentifierKind;
use crate::items::{FrameField, Gen, TablePlan};
use crate::messy::{self, InjectedProblem, Injection, Targets};
use crate::population::CHILD_TABLE;
use crate::rng;
use crate::sample::{Respondent, SynthSample};
use crate::write::{PlainFiles, SourceCodes, TableSink, TextTable, inverse};

/// Unmapped administrative columns added to every delivery.
const ADMIN_COLUMNS: [&str; 2] = ["interview_minutes", "form_version"];

/// How one output column gets its text.
enum Source<'a> {
    Field { index: usize, text: FieldText<'a> },
    Identifier(IdentifierKind),
    Admin(usize),
}

/// Precomputed inverse mapping of one harmonised column.
struct FieldText<'a> {
    frame: Option<FrameField>,
    /// Source code per category index (the label itself when the mapping has no codes).
    categories: Vec<String>,
    /// Source code per table missing label, if the country has one.
    missing: Vec<Option<String>>,
    /// Harmonised label -> source code, for frame values (sex, urban/rural) and the planted unknown codes.
    by_label: BTreeMap<String, String>,
    /// (source code, human label) for formats with value labels.
    value_labels: Vec<(String, String)>,
    /// Source codes of missing labels (declared user-missing in `.sav`).
    missing_codes: Vec<String>,
    map: &'a ColumnMap,
}

struct Column<'a> {
    header: String,
    source: Source<'a>,
}

/// Writes every delivered survey table of `config` (a table of `sample`) into `dir` (the country's folder, created
/// if needed) and returns the problems planted in them, sorted by file and row. Other tables are skipped: the
/// families' are written by [`crate::families`], and [`crate::run`] refuses a table that no generator writes.
pub fn write_deliveries(
    sample: &SynthSample,
    config: &CountryConfig,
    dir: &Path,
) -> Result<Vec<InjectedProblem>, SynthError> {
    write_deliveries_to(sample, config, dir, &PlainFiles)
}

/// [`write_deliveries`], each file written through `sink`.
pub fn write_deliveries_to(
    sample: &SynthSample,
    config: &CountryConfig,
    dir: &Path,
    sink: &dyn TableSink,
) -> Result<Vec<InjectedProblem>, SynthError> {
    std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
    let mut problems = Vec::new();
    for (table, delivery) in &config.deliveries {
        let Some(t) = sample.plans.iter().position(|p| &p.name == table) else {
            continue; // not a survey table: another generator's (crate::families)
        };
        if !delivery.delivered {
            continue;
        }
        let derr = |message: String| SynthError::Delivery {
            iso3: sample.iso3.clone(),
            table: table.clone(),
            file: delivery.file.clone(),
            message,
        };
        let plan = &sample.plans[t];
        let columns = columns(plan, delivery).map_err(&derr)?;
        let targets = targets(plan, &columns);
        let mut rng = rng::stream(
            rng::key(&[sample.sample_seed, rng::hash_str(&sample.iso3)]),
            &format!("messy:{table}"),
        );
        let households: HashSet<&str> = sample
            .respondents
            .iter()
            .map(|r| r.household_id.as_str())
            .collect();
        let injections = messy::plan(
            &targets,
            sample.rows[t].len(),
            sample.bad_row_share,
            &mut rng,
            |r| sample.respondents[r].respondent_id.clone(),
            |k| orphan_household(&households, k),
        );
        let path = dir.join(&delivery.file);
        let text = render(sample, t, delivery, &columns, &injections)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| SynthError::io(parent, e))?;
        }
        sink.write(table, &path, delivery, &text)?;
        for inj in &injections {
            let Source::Field { index, .. } = columns[inj.column].source else {
                continue;
            };
            let record = |row: usize, other: Option<usize>| InjectedProblem {
                column: columns[inj.column].header.clone(),
                country: sample.iso3.clone(),
                data_row: row as u64 + 1,
                duplicate_of_row: other.map(|o| o as u64 + 2),
                expected_reason: inj.kind.expected_reason().to_string(),
                file: delivery.file.clone(),
                harmonised_column: plan.fields[index].name.clone(),
                kind: inj.kind,
                row: row as u64 + 2,
                table: table.clone(),
                value: inj.value.clone(),
            };
            problems.push(record(inj.row, inj.duplicate_of));
            if let Some(original) = inj.duplicate_of {
                let mut twin = record(original, Some(inj.row));
                twin.value = inj.value.clone();
                problems.push(twin);
            }
        }
    }
    problems.sort_by(|a, b| (&a.file, a.row).cmp(&(&b.file, b.row)));
    Ok(problems)
}

fn orphan_household(existing: &HashSet<&str>, k: usize) -> String {
    (0..)
        .map(|i| format!("99999999{:04}", k * 10 + i))
        .find(|c| !existing.contains(c.as_str()))
        .unwrap_or_default()
}

/// The delivery's columns in file order (see the module documentation).
fn columns<'a>(plan: &TablePlan, delivery: &'a Delivery) -> Result<Vec<Column<'a>>, String> {
    let mut mapped = Vec::new();
    for (index, f) in plan.fields.iter().enumerate() {
        let Some(map) = delivery.columns.get(&f.name) else {
            continue;
        };
        if map.not_collected {
            continue;
        }
        let Some(source) = &map.source else { continue };
        mapped.push(Column {
            header: source.clone(),
            source: Source::Field {
                index,
                text: field_text(plan, index, source, map)?,
            },
        });
    }
    if mapped.is_empty() {
        return Err("the delivery maps no harmonised column".into());
    }
    let taken: BTreeSet<String> = mapped
        .iter()
        .map(|c| c.header.to_ascii_lowercase())
        .chain(delivery.identifiers.iter().map(|s| s.to_ascii_lowercase()))
        .collect();
    let ids: Vec<(String, IdentifierKind)> = delivery
        .identifiers
        .iter()
        .map(|s| (s.clone(), IdentifierKind::from_column(s)))
        .collect();
    let mut out = Vec::new();
    let mut rest = mapped.into_iter();
    out.extend(rest.next());
    for (name, kind) in ids.iter().filter(|(_, k)| *k != IdentifierKind::Note) {
        out.push(Column {
            header: name.clone(),
            source: Source::Identifier(*kind),
        });
    }
    out.extend(rest);
    for (i, name) in ADMIN_COLUMNS.iter().enumerate() {
        if !taken.contains(*name) {
            out.push(Column {
                header: name.to_string(),
                source: Source::Admin(i),
            });
        }
    }
    for (name, kind) in ids.iter().filter(|(_, k)| *k == IdentifierKind::Note) {
        out.push(Column {
            header: name.clone(),
            source: Source::Identifier(*kind),
        });
    }
    Ok(out)
}

/// The inverse mapping of harmonised column `plan.fields[index]`, delivered as `source` through `map`.
fn field_text<'a>(
    plan: &TablePlan,
    index: usize,
    source: &str,
    map: &'a ColumnMap,
) -> Result<FieldText<'a>, String> {
    let f = &plan.fields[index];
    let mut codes = SourceCodes::new(map);
    let categories: Vec<String> = if map.codes.is_empty() {
        f.labels.clone()
    } else {
        f.labels
            .iter()
            .map(|label| {
                let key = inverse(&map.codes, label).ok_or_else(|| {
                    format!(
                        "column `{}` ({source}) has no source code for category `{label}`",
                        f.name
                    )
                })?;
                Ok(codes.resolve(&key, label))
            })
            .collect::<Result<_, String>>()?
    };
    let missing: Vec<Option<String>> = plan
        .missing_labels
        .iter()
        .map(|l| inverse(&map.missing, l).map(|key| codes.resolve(&key, l)))
        .collect();
    let missing_codes = missing
        .iter()
        .flatten()
        .filter(|c| !c.is_empty())
        .cloned()
        .collect();
    let by_label = f
        .labels
        .iter()
        .zip(&categories)
        .map(|(l, c)| (l.clone(), c.clone()))
        .collect();
    let frame = match f.generator {
        Gen::Frame(ff) => Some(ff),
        _ => None,
    };
    Ok(FieldText {
        frame,
        categories,
        missing,
        by_label,
        value_labels: if map.codes.is_empty() {
            Vec::new()
        } else {
            codes.labels
        },
        missing_codes,
        map,
    })
}

fn targets(plan: &TablePlan, columns: &[Column]) -> Targets {
    let mut t = Targets::default();
    for (c, col) in columns.iter().enumerate() {
        let Source::Field { index, text } = &col.source else {
            continue;
        };
        let f = &plan.fields[*index];
        match (&f.generator, f.name.as_str()) {
            (Gen::Categorical(_), _) if !text.map.codes.is_empty() => {
                let used = text
                    .by_label
                    .values()
                    .chain(text.missing.iter().flatten())
                    .chain(text.map.codes.keys())
                    .chain(text.map.missing.keys())
                    .cloned()
                    .collect();
                t.coded.push((c, used));
            }
            (Gen::Frame(FrameField::Age), _) => t.age = Some(c),
            (Gen::Frame(FrameField::RespondentId), _) => t.respondent_id = Some(c),
            (Gen::Frame(FrameField::Psu), _) => t.psu = Some(c),
            (Gen::Frame(FrameField::HouseholdId), _) if plan.name != CHILD_TABLE => {
                t.link = Some(c)
            }
            _ => {}
        }
    }
    t
}

fn frame_text(r: &Respondent, ff: FrameField) -> String {
    match ff {
        FrameField::RespondentId => r.respondent_id.clone(),
        FrameField::HouseholdId => r.household_id.clone(),
        FrameField::CaregiverId => r.caregiver_id.clone(),
        FrameField::Stratum => r.stratum.clone(),
        FrameField::Psu => r.psu.clone(),
        FrameField::Region => r.region.clone(),
        FrameField::BaseWeight => format!("{:.4}", r.base_weight),
        FrameField::Sex | FrameField::Age | FrameField::AgeBand | FrameField::UrbanRural => {
            String::new()
        }
    }
}

/// Text of one mapped cell, or an error message when the country cannot express the value.
fn cell_text(
    cell: Cell,
    text: &FieldText,
    plan: &TablePlan,
    r: &Respondent,
    out: &mut String,
) -> Result<(), String> {
    out.clear();
    match cell {
        Cell::Cat(k) => out.push_str(&text.categories[k as usize]),
        Cell::Missing(m) => match &text.missing[m as usize] {
            Some(code) => out.push_str(code),
            None => {
                let label = &plan.missing_labels[m as usize];
                if label != "not_applicable" {
                    return Err(format!("no source code for the missing label `{label}`"));
                }
            }
        },
        Cell::Int(v) => out.push_str(&v.to_string()),
        Cell::Num(x) => out.push_str(&format!("{x:.4}")),
        Cell::Frame => {
            let value = text.frame.map(|ff| frame_text(r, ff)).unwrap_or_default();
            match text.by_label.get(&value) {
                Some(code) if !text.map.codes.is_empty() => out.push_str(code),
                _ => out.push_str(&value),
            }
        }
        Cell::Blank => {}
    }
    Ok(())
}

/// The delivery's cells (planted problems included) with the value labels and missing codes of each column.
fn render(
    sample: &SynthSample,
    t: usize,
    delivery: &Delivery,
    columns: &[Column],
    injections: &[Injection],
) -> Result<TextTable, SynthError> {
    let plan = &sample.plans[t];
    let derr = |message: String| SynthError::Delivery {
        iso3: sample.iso3.clone(),
        table: plan.name.clone(),
        file: delivery.file.clone(),
        message,
    };
    let mut table = TextTable::new(columns.iter().map(|c| c.header.clone()));
    for (out, col) in table.columns.iter_mut().zip(columns) {
        if let Source::Field { text, index } = &col.source {
            out.value_labels = text.value_labels.clone();
            out.missing_codes = text.missing_codes.clone();
            out.variable_label = Some(plan.fields[*index].title.clone());
        }
    }
    let mut cells: Vec<String> = vec![String::new(); columns.len()];
    let mut next = injections.iter().peekable();
    for (ri, (r, row)) in sample.respondents.iter().zip(&sample.rows[t]).enumerate() {
        let file_row = ri as u64 + 2;
        for (c, col) in columns.iter().enumerate() {
            let out = &mut cells[c];
            match &col.source {
                Source::Field { index, text } => cell_text(row[*index], text, plan, r, out)
                    .map_err(|m| derr(format!("row {file_row}, column `{}`: {m}", col.header)))?,
                Source::Identifier(kind) => {
                    *out = crate::identifiers::encodable(
                        kind.value(sample.key, r.child as u64, &col.header, r.lat, r.lon),
                        delivery.encoding,
                    );
                }
                Source::Admin(0) => {
                    *out = (15 + rng::mix64(sample.key ^ r.child as u64) % 61).to_string()
                }
                Source::Admin(_) => *out = "2.3".to_string(),
            }
        }
        while let Some(inj) = next.peek() {
            if inj.row != ri {
                break;
            }
            cells[inj.column] = inj.value.clone();
            next.next();
        }
        table.push_row(&cells);
    }
    for (out, col) in table.columns.iter_mut().zip(columns) {
        if let Source::Field { text, .. } = &col.source {
            out.apply_mapping(text.map)
                .map_err(|m| derr(format!("column `{}`: {m}", col.header)))?;
        }
    }
    Ok(table)
}
