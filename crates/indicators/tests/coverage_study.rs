//! Coverage study (ignored by default; one command):
//!
//! ```sh
//! cargo test --release -p dh-indicators --test coverage_study -- --ignored --nocapture
//! ```
//!
//! For each of the 13 synthetic countries, simulates the population once, then draws `DH_COVERAGE_SAMPLES`
//! (default 200) independent samples from it; each sample goes through the real path (deliveries written to disk,
//! read, normalised, raked, estimated) and the study records whether the 95% interval of the headline indicator and
//! of the four clear-example items covers the population value. Prints the coverage per country and overall, and
//! fails if the overall headline coverage is outside 93-97%.

use std::path::PathBuf;
use std::sync::Mutex;

use dh_indicators::estimate::TOTAL;
use dh_indicators::{country_indicators, load};
use dh_synth::SynthPopulation;

const ITEMS: [&str; 4] = [
    "offered_money_images",
    "offered_money_meet",
    "threatened_sexual",
    "images_shared",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[derive(Default, Clone, Copy)]
struct Tally {
    headline_hits: usize,
    headline_n: usize,
    item_hits: usize,
    item_n: usize,
    headline_sum: f64,
    headline_truth: f64,
}

#[test]
#[ignore = "coverage study: minutes in release mode; run with --ignored"]
fn interval_coverage_over_independent_samples() {
    let samples: u64 = std::env::var("DH_COVERAGE_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let only: Vec<String> = std::env::var("DH_COVERAGE_COUNTRIES")
        .map(|v| {
            v.split(',')
                .map(str::to_string)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let configs = dh_config::load_countries(&repo().join("countries"), &only)
        .unwrap_or_else(|e| panic!("{e}"));
    let (pipeline, mut catalogue) =
        load(&repo().join("pipelines"), &schemas).unwrap_or_else(|e| panic!("{e}"));
    catalogue
        .indicators
        .retain(|i| i.id == "ocsea_clear_any" || ITEMS.contains(&i.id.as_str()));
    let key = dh_normalise::PseudonymKey::from_bytes(&[7u8; 32]).unwrap_or_else(|e| panic!("{e}"));
    let results = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
        {
            scope.spawn(|| loop {
                let index = {
                    let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                    *n += 1;
                    *n - 1
                };
                let Some(config) = configs.get(index) else { break };
                // Only the survey tables feed indicators; other data families may not be synthesised yet.
                let mut config = config.clone();
                config.deliveries.retain(|table, _| table == "child_survey" || table == "caregiver_survey");
                let config = &config;
                let iso3 = config.country.iso3.clone();
                let population = SynthPopulation::simulate(config, &schemas, 1, 1.0).unwrap_or_else(|e| panic!("{e}"));
                let truth = population.truth();
                let headline_truth = truth.composites["ocsea_clear_any"].proportion;
                let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                let mut tally = Tally { headline_truth, ..Tally::default() };
                for s in 0..samples {
                    let sample = population.draw_sample(10_000 + s, 1.0).unwrap_or_else(|e| panic!("{e}"));
                    let country_dir = dir.path().join(&iso3);
                    dh_synth::write::write_deliveries(&sample, config, &country_dir).unwrap_or_else(|e| panic!("{e}"));
                    let read = dh_pipeline::country::read_deliveries(config, dir.path(), false).unwrap_or_else(|e| panic!("{e}"));
                    let raw = read.into_iter().map(|d| (d.table, d.raw)).collect();
                    let tables = dh_pipeline::country::normalise(config, &schemas, &key, raw).unwrap_or_else(|e| panic!("{e}"));
                    let tables = tables
                        .into_iter()
                        .map(|t| (t.table, arrow::compute::concat_batches(&t.schema, &t.batches).unwrap_or_else(|e| panic!("{e}"))))
                        .collect();
                    let out = country_indicators(&iso3, &tables, &config.population, config.country.reference_years, &catalogue, &pipeline)
                        .unwrap_or_else(|e| panic!("{e}"));
                    for row in out.rows.iter().filter(|r| r.domain == TOTAL) {
                        let value = if row.indicator == "ocsea_clear_any" {
                            headline_truth
                        } else {
                            let item = &truth.tables["child_survey"][&row.indicator];
                            if !item.collected {
                                continue;
                            }
                            item.proportions.get("yes").copied().unwrap_or(0.0)
                        };
                        let hit = matches!((row.ci_lower, row.ci_upper), (Some(lo), Some(hi)) if lo <= value && value <= hi);
                        if row.indicator == "ocsea_clear_any" {
                            tally.headline_sum += row.estimate.unwrap_or(f64::NAN);
                            tally.headline_n += 1;
                            tally.headline_hits += usize::from(hit);
                        } else {
                            tally.item_n += 1;
                            tally.item_hits += usize::from(hit);
                        }
                    }
                }
                results.lock().unwrap_or_else(|e| e.into_inner()).push((iso3, tally));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut all = Tally::default();
    println!(
        "country  headline coverage  item coverage   mean headline estimate vs truth   ({samples} samples per country)"
    );
    for (iso3, t) in &results {
        println!(
            "{iso3}      {:.3} ({}/{})      {:.3} ({}/{})      {:.4} vs {:.4}",
            t.headline_hits as f64 / t.headline_n as f64,
            t.headline_hits,
            t.headline_n,
            t.item_hits as f64 / t.item_n.max(1) as f64,
            t.item_hits,
            t.item_n,
            t.headline_sum / t.headline_n as f64,
            t.headline_truth
        );
        all.headline_hits += t.headline_hits;
        all.headline_n += t.headline_n;
        all.item_hits += t.item_hits;
        all.item_n += t.item_n;
    }
    let headline = all.headline_hits as f64 / all.headline_n as f64;
    let items = all.item_hits as f64 / all.item_n as f64;
    println!(
        "overall  headline {headline:.4} ({}/{})  items {items:.4} ({}/{})  in {:.1} s",
        all.headline_hits,
        all.headline_n,
        all.item_hits,
        all.item_n,
        started.elapsed().as_secs_f64()
    );
    assert!(
        (0.93..=0.97).contains(&headline),
        "overall headline coverage {headline:.4} outside 93-97%"
    );
}
