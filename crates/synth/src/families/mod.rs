//! Synthetic deliveries of the other data families: the frontline-worker survey, the interview register
//! and its coded segments, NCMEC CyberTipline counts, police case records (Excel workbooks) and the ICSE
//! connection. Each is generated from `[synth.families.<table>]` ([`params`]) as harmonised values
//! ([`generate`]) and written through the inverse of the country's own mapping in the delivery's format
//! ([`render`], then the survey's [`crate::write::writer_for`]), so every country's labels and quirks (local
//! offence labels, codebook paths, `.sav`/`.dta`/`.xlsx`/CSV files, column names) are exercised end to end.
//!
//! Country fragments from the facts file are config values: Ethiopia's `technology_share = 0` (no
//! technology-involved cases recorded 2017-2019), Uganda's `female_share = 0.98`, Tanzania's 20,625 CyberTipline
//! reports 2017-2019, Cambodia's 9 government interviews. When `bad_row_share > 0`, a few rows per table are made
//! bad the way real data go wrong (an unknown code, a duplicate id, an out-of-range year, an empty required cell, an
//! impossible date, a segment of an interview the register does not list); they are listed in
//! `injected_families.json` ([`FamilyProblem`]) with the quarantine reason expected. Helpline, hotline and NGO
//! contacts ([`services`]) and the legal-framework review ([`legal`]) are generated one delivered file at a time
//! (`Delivery::files`: a delivery in parts, e.g. one file per organisation, gets each part's rows rendered with
//! the part's own mapping and format). No free text is generated:
//! a transcript-text column of an export holds an opaque placeholder token ([`render::TEXT_PLACEHOLDER`]).

pub mod generate;
pub mod legal;
pub mod params;
pub mod render;
pub mod services;

use std::path::Path;

use dh_config::{CountryConfig, Delivery, SchemaSet, TableSchema};
use serde::{Deserialize, Serialize};

use crate::error::SynthError;
use crate::rng;
use generate::{Rows, Val};
use render::{Plant, distinct_rows, unmapped_code};

/// The family tables `dh synth` generates here (every other table is the household survey's).
pub const FAMILY_TABLES: [&str; 8] = [
    "frontline_survey",
    "interview_register",
    "interview_segments",
    "cybertipline_reports",
    "police_cases",
    "icse_connection",
    "service_contacts",
    "legal_provisions",
];

/// File written beside `injected.json` listing the family rows made bad.
pub const INJECTED_FAMILIES_FILE: &str = "injected_families.json";

pub fn is_family_table(table: &str) -> bool {
    FAMILY_TABLES.contains(&table)
}

/// One planted problem in a family delivery (fields in alphabetical order for sorted keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyProblem {
    /// Source column holding the bad value.
    pub column: String,
    pub country: String,
    /// 1-based data record number (header not counted), as in the quarantine table.
    pub data_row: u64,
    pub expected_reason: String,
    pub file: String,
    pub harmonised_column: String,
    /// Row number in the file, the header being row 1.
    pub row: u64,
    pub table: String,
    pub value: String,
}

/// The category labels of a column of `schema`, in schema order (empty for a column without categories).
pub(super) fn labels(schema: &TableSchema, column: &str) -> Vec<String> {
    schema
        .field(column)
        .and_then(|f| f.categories.as_ref())
        .map(|c| c.iter().map(|c| c.label.clone()).collect())
        .unwrap_or_default()
}

fn schema<'s>(schemas: &'s SchemaSet, table: &str) -> Result<&'s TableSchema, SynthError> {
    schemas.get(table).ok_or_else(|| SynthError::Schema {
        table: table.into(),
        field: String::new(),
        message: "no harmonised schema for this family table".into(),
    })
}

/// Writes every family delivery of `config` into `dir` (the country folder) through `sink` and returns the
/// planted problems.
pub fn write_family_deliveries(
    config: &CountryConfig,
    schemas: &SchemaSet,
    seed: u64,
    dir: &Path,
    sink: &dyn crate::write::TableSink,
) -> Result<Vec<FamilyProblem>, SynthError> {
    if !config.deliveries.keys().any(|t| is_family_table(t)) {
        return Ok(Vec::new());
    }
    let iso3 = config.country.iso3.as_str();
    let settings = crate::settings::Settings::from_config(config)?;
    let key = rng::country_key(seed, iso3);
    let stream = |table: &str| rng::stream(key, &format!("family:{table}"));
    let bad = settings.bad_row_share > 0.0;
    let nr = generate::nonresponse(config)?;
    std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
    let mut problems = Vec::new();

    let register_schema = schema(schemas, "interview_register")?;
    let register_rows = generate::register(
        iso3,
        &params::family_params(config, "interview_register")?,
        &labels(register_schema, "participant_group"),
        &labels(register_schema, "interview_mode"),
        &settings.regions,
        &mut stream("interview_register"),
    )?;
    for (table, delivery) in &config.deliveries {
        if !is_family_table(table) || !delivery.delivered {
            continue;
        }
        let table_schema = schema(schemas, table)?;
        let mut rng = stream(table);
        for (part, file) in delivery.files().iter().enumerate() {
            let mut rows = rows_for(
                config,
                table,
                table_schema,
                file,
                &settings.regions,
                nr,
                &register_rows,
                &mut rng,
            )?;
            // The first file keeps the stream of a one-file delivery.
            let purpose = match part {
                0 => format!("family-messy:{table}"),
                _ => format!("family-messy:{table}:{part}"),
            };
            let mut plant_rng = rng::stream(key, &purpose);
            let plants = match (bad, table.as_str()) {
                (false, _) => Vec::new(),
                (true, "service_contacts") => services::plants(&mut rows, file, &mut plant_rng),
                (true, "legal_provisions") => legal::plants(
                    &rows,
                    &params::family_params(config, table)?,
                    table_schema,
                    &mut plant_rng,
                ),
                (true, _) => plants_for(iso3, table, &rows, file, &mut plant_rng),
            };
            problems.extend(write_file(
                iso3,
                table,
                table_schema,
                file,
                &rows,
                plants,
                key,
                dir,
                sink,
            )?);
        }
    }
    problems.sort_by(|a, b| (&a.file, a.row, &a.column).cmp(&(&b.file, b.row, &b.column)));
    Ok(problems)
}

/// The harmonised rows of one delivered file of a family table.
#[allow(clippy::too_many_arguments)]
fn rows_for(
    config: &CountryConfig,
    table: &str,
    table_schema: &TableSchema,
    file: &Delivery,
    regions: &[String],
    nr: generate::Nonresponse,
    register_rows: &Rows,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Result<Rows, SynthError> {
    let iso3 = config.country.iso3.as_str();
    Ok(match table {
        "frontline_survey" => generate::frontline(
            iso3,
            &params::family_params(config, table)?,
            regions,
            nr,
            rng,
        )?,
        "interview_register" => register_rows.clone(),
        "interview_segments" => {
            let ids: Vec<String> = register_rows
                .rows
                .iter()
                .filter_map(|r| match r.first() {
                    Some(Val::Raw(id)) => Some(id.clone()),
                    _ => None,
                })
                .collect();
            generate::segments(
                iso3,
                &params::family_params(config, table)?,
                &ids,
                file,
                &labels(table_schema, "theme"),
                rng,
            )?
        }
        "cybertipline_reports" => {
            generate::cybertipline(iso3, &params::family_params(config, table)?)?
        }
        "police_cases" => {
            generate::police(iso3, &params::family_params(config, table)?, file, rng)?
        }
        "service_contacts" => {
            let p = params::family_params(config, table)?;
            services::check(iso3, &p, table_schema)?;
            services::rows(iso3, &p, file, config.country.reference_years, rng)?
        }
        "legal_provisions" => legal::rows(
            iso3,
            &params::family_params(config, table)?,
            file,
            table_schema,
            rng,
        )?,
        _ => generate::icse(&params::family_params(config, table)?),
    })
}

/// Renders one delivered file through the inverse of its mapping, writes it through `sink` and returns its
/// planted problems.
#[allow(clippy::too_many_arguments)]
fn write_file(
    iso3: &str,
    table: &str,
    table_schema: &TableSchema,
    file: &Delivery,
    rows: &Rows,
    plants: Vec<Plant>,
    key: u64,
    dir: &Path,
    sink: &dyn crate::write::TableSink,
) -> Result<Vec<FamilyProblem>, SynthError> {
    let derr = |message: String| SynthError::Delivery {
        iso3: iso3.to_string(),
        table: table.to_string(),
        file: file.file.clone(),
        message,
    };
    let (text, _) = render::render(rows, table_schema, file, key, &plants).map_err(derr)?;
    let path = dir.join(&file.file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| SynthError::io(parent, e))?;
    }
    sink.write(table, &path, file, &text)?;
    Ok(plants
        .into_iter()
        .map(|p| FamilyProblem {
            column: file
                .columns
                .get(&p.column)
                .and_then(|m| m.source.clone())
                .unwrap_or_default(),
            country: iso3.to_string(),
            data_row: p.row as u64 + 1,
            expected_reason: p.reason.to_string(),
            file: file.file.clone(),
            harmonised_column: p.column,
            row: p.row as u64 + 2,
            table: table.to_string(),
            value: p.value,
        })
        .collect())
}

fn raw_text(rows: &Rows, row: usize, column: usize) -> String {
    match rows.rows.get(row).and_then(|r| r.get(column)) {
        Some(Val::Raw(s)) => s.clone(),
        _ => String::new(),
    }
}

/// The bad values planted in one family table (none in tables too small to spare a row).
fn plants_for(
    iso3: &str,
    table: &str,
    rows: &Rows,
    delivery: &Delivery,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Vec<Plant> {
    let plant = |row: usize, column: &str, value: String, reason: &'static str| Plant {
        row,
        column: column.to_string(),
        value,
        reason,
    };
    let n = rows.rows.len();
    match table {
        "frontline_survey" => distinct_rows(rng, n, 1)
            .into_iter()
            .map(|r| {
                let code = unmapped_code(delivery, "worker_role", &["7", "77", "777"]);
                plant(r, "worker_role", code, "unknown_code")
            })
            .collect(),
        "interview_register" => distinct_rows(rng, n, 1)
            .into_iter()
            .map(|r| plant(r, "interview_date", "2021-02-30".into(), "invalid_value"))
            .collect(),
        "interview_segments" => match distinct_rows(rng, n, 2).as_slice() {
            [a, b] => vec![
                plant(
                    *a,
                    "interview_id",
                    format!("{iso3}-INT-999"),
                    "missing_link",
                ),
                plant(*b, "segment_count", "0".into(), "out_of_range"),
            ],
            _ => Vec::new(),
        },
        "police_cases" => match distinct_rows(rng, n, 5).as_slice() {
            [a, b, c, d, e] => {
                let offence = unmapped_code(
                    delivery,
                    "offence_category",
                    &["Unclassified offence", "Other offence (unclassified)"],
                );
                let twin = raw_text(rows, *e, 0);
                vec![
                    plant(*a, "offence_category", offence, "unknown_code"),
                    plant(*b, "year", "1918".into(), "out_of_range"),
                    plant(*c, "case_status", String::new(), "required_missing"),
                    plant(*d, "case_id", twin.clone(), "duplicate_id"),
                    plant(*e, "case_id", twin, "duplicate_id"),
                ]
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}
