//! Timing of the weighting and indicator stage alone (no file reading or normalising in the timed part): synthesise
//! all 13 countries at scale 1, normalise their survey tables, then time `country_indicators` per country on one
//! thread, best of `DH_REPEAT` runs (default 5). With `DH_ROWS_OUT=path` every estimate row is written as text
//! (full float precision) so two builds can be compared.
//! `cargo run --release -p dh-indicators --example stage_timing`

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use dh_indicators::{country_indicators, load};

const SURVEY_TABLES: [&str; 2] = ["child_survey", "caregiver_survey"];

type Tables = BTreeMap<String, RecordBatch>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir()?;
    let schemas = dh_config::load_schemas(&repo.join("schemas"))?;
    let configs = dh_config::load_countries(&repo.join("countries"), &[])?;
    dh_synth::synth_countries(&configs, &schemas, dir.path(), 1, 1.0)?;
    let (pipeline, catalogue) = load(&repo.join("pipelines"), &schemas)?;
    let key = dh_normalise::PseudonymKey::from_bytes(&[7u8; 32])?;
    let mut countries = Vec::new();
    for config in &configs {
        countries.push((config, normalised(config, &schemas, &key, dir.path())?));
    }
    let repeat: usize = std::env::var("DH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut best = Duration::MAX;
    let mut rows = Vec::new();
    for _ in 0..repeat.max(1) {
        rows.clear();
        let started = Instant::now();
        for (config, tables) in &countries {
            let result = country_indicators(
                &config.country.iso3,
                tables,
                &config.population,
                config.country.reference_years,
                &catalogue,
                &pipeline,
            )?;
            rows.push((config.country.iso3.clone(), result.rows));
        }
        best = best.min(started.elapsed());
    }
    let n_rows: usize = rows.iter().map(|(_, r)| r.len()).sum();
    println!(
        "weighting + {} indicators for {} countries ({n_rows} rows): best of {repeat} {:.3} s, one thread",
        catalogue.indicators.len(),
        rows.len(),
        best.as_secs_f64()
    );
    if let Ok(path) = std::env::var("DH_ROWS_OUT") {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for (iso3, rows) in &rows {
            for r in rows {
                writeln!(out, "{iso3} {r:?}")?;
            }
        }
    }
    Ok(())
}

fn normalised(
    config: &dh_config::CountryConfig,
    schemas: &dh_config::SchemaSet,
    key: &dh_normalise::PseudonymKey,
    raw_dir: &Path,
) -> Result<Tables, Box<dyn std::error::Error>> {
    let mut config = config.clone();
    config
        .deliveries
        .retain(|table, _| SURVEY_TABLES.contains(&table.as_str()));
    let read = dh_pipeline::country::read_deliveries(&config, raw_dir, false)?;
    let raw = read.into_iter().map(|d| (d.table, d.raw)).collect();
    let tables = dh_pipeline::country::normalise(&config, schemas, key, raw)?;
    let mut out = Tables::new();
    for t in tables {
        let batch = arrow::compute::concat_batches(&t.schema, &t.batches)?;
        out.insert(t.table, batch);
    }
    Ok(out)
}
