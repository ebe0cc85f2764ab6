//! Benchmark (not a test): read + normalise one country at a given size.
//!
//! `cargo run --release -p dh-normalise --example bench_normalise -- [ISO3] [ROWS] [REPEATS] [RAW_DIR]`
//! (defaults THA 100000 3). Without RAW_DIR it generates valid deliveries from the repository's config (not timed);
//! with RAW_DIR it reads `RAW_DIR/<ISO3>/` as written by `dh synth` (ROWS is then ignored). It times
//! `dh_ingest::read_delivery` and `dh_normalise::normalise_country` separately and prints rows/s, and the content
//! checks alone (planning and checking every table; they also run inside `normalise_country`).

// A benchmark program, not library code: a failed step ends it with its message.
#![allow(clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iso3 = args.get(1).cloned().unwrap_or_else(|| "THA".into());
    let rows: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let repeats: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let (schemas, countries) = common::load_all();
    let Some(config) = countries.iter().find(|c| c.country.iso3 == iso3) else {
        eprintln!("no config for {iso3}");
        std::process::exit(2);
    };
    // Only the tables whose schema was loaded (DH_SCHEMA_DIR may hold a subset, e.g. the survey tables).
    let mut config = config.clone();
    config
        .deliveries
        .retain(|table, _| schemas.tables.contains_key(table));
    let config = &config;
    let generated = tempfile::tempdir().expect("temp dir");
    let dir = match args.get(4) {
        Some(raw_dir) => std::path::Path::new(raw_dir).join(&iso3),
        None => {
            common::write_deliveries(config, &schemas, generated.path(), rows);
            generated.path().to_path_buf()
        }
    };
    let key = dh_normalise::PseudonymKey::from_bytes(b"benchmark-key-benchmark-key-benchmark")
        .expect("key");
    let bytes: u64 = config
        .deliveries
        .values()
        .map(|d| {
            std::fs::metadata(dir.join(&d.file))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum();
    println!(
        "{iso3}: {} tables, {:.1} MB of CSV in {}",
        config.deliveries.len(),
        bytes as f64 / 1e6,
        dir.display()
    );
    for run in 0..repeats {
        let t0 = Instant::now();
        let mut raw = BTreeMap::new();
        let mut cells = 0usize;
        for (table, delivery) in &config.deliveries {
            let t = dh_ingest::read_delivery(&dir.join(&delivery.file), delivery).expect("read");
            cells += t.num_rows() * t.columns.len();
            raw.insert(table.clone(), t);
        }
        let read = t0.elapsed();
        let t1 = Instant::now();
        let out = dh_normalise::normalise_country(config, &schemas, &raw, &key).expect("normalise");
        let norm = t1.elapsed();
        let total_rows: u64 = out.tables.values().map(|t| t.rows_read).sum();
        let quarantined: u64 = out.tables.values().map(|t| t.rows_quarantined).sum();
        // The content checks alone (they run inside normalise_country too): plan each table (not timed), then check it.
        let mut content = std::time::Duration::ZERO;
        for (table, delivery) in &config.deliveries {
            let (Some(schema), Some(t)) = (schemas.get(table), raw.get(table)) else {
                continue;
            };
            let ctx = dh_normalise::plan::PlanContext {
                iso3: &iso3,
                config_file: std::path::PathBuf::new(),
                table,
            };
            let plan =
                dh_normalise::plan::plan_table(&ctx, schema, delivery, t, &key).expect("plan");
            let skip = vec![false; t.num_rows()];
            let t2 = Instant::now();
            let found = dh_normalise::content::check_table(&schema.content_limits, &plan, t, &skip);
            content += t2.elapsed();
            assert!(found.is_empty(), "{table}: {found:?}");
        }
        println!(
            "run {run}: content checks (all tables) {:.4} s = {:.1}% of normalise",
            content.as_secs_f64(),
            100.0 * content.as_secs_f64() / norm.as_secs_f64()
        );
        let all = read + norm;
        println!(
            "run {run}: read {:.3} s, normalise {:.3} s, total {:.3} s; {total_rows} rows ({cells} cells), {quarantined} quarantined; {:.0} rows/s, {:.1} M cells/s",
            read.as_secs_f64(),
            norm.as_secs_f64(),
            all.as_secs_f64(),
            total_rows as f64 / all.as_secs_f64(),
            cells as f64 / all.as_secs_f64() / 1e6
        );
    }
}
