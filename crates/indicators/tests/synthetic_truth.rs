//! End to end on the built-in synthetic data: synthesise every configured country, read and normalise their deliveries,
//! weight and estimate every indicator, and compare with the synthetic population's truth (`truth.json`).

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use dh_indicators::estimate::{EstimateRow, TOTAL};
use dh_indicators::{Flag, country_indicators, load};
use dh_synth::truth::Truth;

const SURVEY_TABLES: [&str; 2] = ["child_survey", "caregiver_survey"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Country {
    iso3: String,
    rows: Vec<EstimateRow>,
}

fn run_all(seed: u64) -> (Vec<Country>, Truth) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let configs =
        dh_config::load_countries(&repo().join("countries"), &[]).unwrap_or_else(|e| panic!("{e}"));
    dh_synth::synth_countries(&configs, &schemas, dir.path(), seed, 1.0)
        .unwrap_or_else(|e| panic!("{e}"));
    let truth: Truth = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(dh_synth::run::TRUTH_FILE))
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (pipeline, catalogue) =
        load(&repo().join("pipelines"), &schemas).unwrap_or_else(|e| panic!("{e}"));
    let key = dh_normalise::PseudonymKey::from_bytes(&[7u8; 32]).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let mut stage_time = std::time::Duration::ZERO;
    for config in &configs {
        let tables = normalised(config, &schemas, &key, dir.path());
        let started = std::time::Instant::now();
        let result = country_indicators(
            &config.country.iso3,
            &tables,
            &config.population,
            config.country.reference_years,
            &catalogue,
            &pipeline,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        stage_time += started.elapsed();
        let w = &result.weighting;
        assert!(
            w.converged && w.max_margin_error < 1e-8,
            "{}: raking converged {} error {}",
            config.country.iso3,
            w.converged,
            w.max_margin_error
        );
        assert!(
            w.after.kish_deff >= 1.0 && w.after.min > 0.0,
            "{}",
            config.country.iso3
        );
        out.push(Country {
            iso3: config.country.iso3.clone(),
            rows: result.rows,
        });
    }
    let rows: usize = out.iter().map(|c: &Country| c.rows.len()).sum();
    eprintln!(
        "weighting + {} indicators for {} countries ({rows} rows): {:.3} s, one thread",
        catalogue.indicators.len(),
        out.len(),
        stage_time.as_secs_f64()
    );
    (out, truth)
}

fn normalised(
    config: &dh_config::CountryConfig,
    schemas: &dh_config::SchemaSet,
    key: &dh_normalise::PseudonymKey,
    raw_dir: &Path,
) -> BTreeMap<String, RecordBatch> {
    // Only the survey tables feed indicators; other data families may not be synthesised yet.
    let mut config = config.clone();
    config
        .deliveries
        .retain(|table, _| SURVEY_TABLES.contains(&table.as_str()));
    let config = &config;
    let read = dh_pipeline::country::read_deliveries(config, raw_dir, false)
        .unwrap_or_else(|e| panic!("{e}"));
    let raw = read.into_iter().map(|d| (d.table, d.raw)).collect();
    let tables = dh_pipeline::country::normalise(config, schemas, key, raw)
        .unwrap_or_else(|e| panic!("{e}"));
    tables
        .into_iter()
        .map(|t| {
            let batch = arrow::compute::concat_batches(&t.schema, &t.batches)
                .unwrap_or_else(|e| panic!("{e}"));
            (t.table, batch)
        })
        .collect()
}

/// Indicators whose value is one label's share of one column in truth.json: (indicator, table, column, label,
/// labels the indicator's missing rule leaves out of the denominator). truth.json divides by the column's
/// universe including don't know and refused, as the missing_as_no rule does; for the other rules the excluded
/// labels' counts are taken off the denominator.
const ITEM_TRUTHS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "offered_money_images",
        "child_survey",
        "offered_money_images",
        "yes",
        &[],
    ),
    (
        "offered_money_meet",
        "child_survey",
        "offered_money_meet",
        "yes",
        &[],
    ),
    (
        "threatened_sexual",
        "child_survey",
        "threatened_sexual",
        "yes",
        &[],
    ),
    ("images_shared", "child_survey", "images_shared", "yes", &[]),
    (
        "asked_talk_sex",
        "child_survey",
        "asked_talk_sex",
        "yes",
        &[],
    ),
    ("asked_images", "child_survey", "asked_images", "yes", &[]),
    (
        "sexual_comments",
        "child_survey",
        "sexual_comments",
        "yes",
        &[],
    ),
    (
        "sent_sexual_images",
        "child_survey",
        "sent_sexual_images",
        "yes",
        &[],
    ),
    (
        "knows_how_report",
        "child_survey",
        "knows_how_report",
        "yes",
        REFUSED,
    ),
    (
        "received_safety_info",
        "child_survey",
        "received_safety_info",
        "yes",
        REFUSED,
    ),
    (
        "offered_money_images_told_nobody",
        "child_survey",
        "offered_money_images_told_nobody",
        "yes",
        NONRESPONSE,
    ),
    (
        "offered_money_meet_told_nobody",
        "child_survey",
        "offered_money_meet_told_nobody",
        "yes",
        NONRESPONSE,
    ),
    (
        "threatened_sexual_told_nobody",
        "child_survey",
        "threatened_sexual_told_nobody",
        "yes",
        NONRESPONSE,
    ),
    (
        "images_shared_told_nobody",
        "child_survey",
        "images_shared_told_nobody",
        "yes",
        NONRESPONSE,
    ),
    (
        "asked_talk_sex_told_nobody",
        "child_survey",
        "asked_talk_sex_told_nobody",
        "yes",
        NONRESPONSE,
    ),
    (
        "asked_images_told_nobody",
        "child_survey",
        "asked_images_told_nobody",
        "yes",
        NONRESPONSE,
    ),
    (
        "sexual_comments_told_nobody",
        "child_survey",
        "sexual_comments_told_nobody",
        "yes",
        NONRESPONSE,
    ),
    (
        "sent_sexual_images_told_nobody",
        "child_survey",
        "sent_sexual_images_told_nobody",
        "yes",
        NONRESPONSE,
    ),
    (
        "caregiver_would_report_police",
        "caregiver_survey",
        "caregiver_would_report_police",
        "yes",
        REFUSED,
    ),
    (
        "caregiver_received_safety_info",
        "caregiver_survey",
        "caregiver_received_safety_info",
        "yes",
        REFUSED,
    ),
];

/// Labels left out of the denominator by the rule refused_excluded and by item_nonresponse_excluded.
const REFUSED: &[&str] = &["refused"];
const NONRESPONSE: &[&str] = &["dont_know", "refused"];

/// The experiences whose told-the-police share is published per type.
const POLICE_TYPES: [&str; 5] = [
    "offered_money_images",
    "offered_money_meet",
    "threatened_sexual",
    "images_shared",
    "asked_talk_sex",
];

/// The share of `label` in a truth.json column with the `excluded` labels out of the denominator.
fn truth_share(item: &dh_synth::truth::ItemTruth, label: &str, excluded: &[&str]) -> f64 {
    let count = |l: &str| item.counts.get(l).copied().unwrap_or(0) as f64;
    let denominator = item.universe_size as f64 - excluded.iter().map(|l| count(l)).sum::<f64>();
    count(label) / denominator
}

/// The population value of `<x>_told_police`: children who told someone and told the police, among the children
/// who had the experience and answered both questions (told nobody: yes, or no and told police yes or no).
fn told_police_truth(t: &dh_synth::truth::CountryTruth, x: &str) -> Option<f64> {
    let child = &t.tables["child_survey"];
    let nobody = &child[&format!("{x}_told_nobody")];
    let police = &child[&format!("{x}_told_police")];
    if !nobody.collected || !police.collected || !child[x].collected {
        return None;
    }
    let n = |i: &dh_synth::truth::ItemTruth, l: &str| i.counts.get(l).copied().unwrap_or(0) as f64;
    let yes = n(police, "yes");
    Some(yes / (n(nobody, "yes") + yes + n(police, "no")))
}

fn total<'a>(rows: &'a [EstimateRow], id: &str) -> &'a EstimateRow {
    rows.iter()
        .find(|r| r.indicator == id && r.domain == TOTAL)
        .unwrap_or_else(|| panic!("no total row for {id}"))
}

/// The smallest k such that more than k misses among `n` independent intervals, each missing with probability
/// `p`, happen with probability below `alpha` (13 intervals at 95%: 2, as P(3 or more) = 2.5%).
fn allowed_misses(n: usize, p: f64, alpha: f64) -> usize {
    let mut pmf = (1.0 - p).powi(n as i32);
    let mut cdf = pmf;
    let mut k = 0;
    while 1.0 - cdf >= alpha && k < n {
        pmf *= (n - k) as f64 / (k + 1) as f64 * p / (1.0 - p);
        cdf += pmf;
        k += 1;
    }
    k
}

#[test]
fn allowed_misses_follow_the_binomial_tail() {
    assert_eq!(allowed_misses(13, 0.05, 0.05), 2);
    assert_eq!(allowed_misses(14, 0.05, 0.05), 2);
    assert_eq!(allowed_misses(1, 0.05, 0.05), 1);
}

fn covers(row: &EstimateRow, truth: f64) -> bool {
    matches!((row.ci_lower, row.ci_upper), (Some(lo), Some(hi)) if lo <= truth && truth <= hi)
}

#[test]
fn headline_and_items_cover_the_synthetic_truth() {
    let (countries, truth) = run_all(1);
    let configured = dh_config::country::list_countries(&repo().join("countries"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(countries.len(), configured.len());
    let mut headline_misses = Vec::new();
    let mut item_checks = 0;
    let mut item_misses = Vec::new();
    let mut not_collected_seen = 0;
    for c in &countries {
        let t = &truth.countries[&c.iso3];
        let headline = total(&c.rows, "ocsea_clear_any");
        let h = t.composites["ocsea_clear_any"].proportion;
        assert_eq!(headline.flag, Flag::Ok, "{}", c.iso3);
        eprintln!(
            "{} headline {:.4} [{:.4}, {:.4}] truth {h:.4} n={}",
            c.iso3,
            headline.estimate.unwrap_or(f64::NAN),
            headline.ci_lower.unwrap_or(f64::NAN),
            headline.ci_upper.unwrap_or(f64::NAN),
            headline.n_unweighted
        );
        if !covers(headline, h) {
            headline_misses.push(c.iso3.clone());
        }
        let items = ITEM_TRUTHS
            .iter()
            .map(|(item, table, column, label, excluded)| {
                let it = &t.tables[*table][*column];
                let truth = it.collected.then(|| truth_share(it, label, excluded));
                (item.to_string(), truth)
            })
            .chain(
                POLICE_TYPES
                    .iter()
                    .map(|x| (format!("{x}_told_police"), told_police_truth(t, x))),
            );
        for (item, truth) in items {
            let row = total(&c.rows, &item);
            let Some(p) = truth else {
                assert_eq!(row.flag, Flag::NotCollected, "{} {item}", c.iso3);
                not_collected_seen += 1;
                continue;
            };
            if row.flag == Flag::Suppressed {
                // Fewer than 25 cases (e.g. told nobody among the few offered money in low-prevalence countries).
                assert_eq!((row.estimate, row.ci_lower), (None, None));
                continue;
            }
            item_checks += 1;
            if !covers(row, p) {
                item_misses.push(format!(
                    "{} {item}: {:?} [{:?}, {:?}] truth {p}",
                    c.iso3, row.estimate, row.ci_lower, row.ci_upper
                ));
            }
        }
    }
    assert!(
        not_collected_seen > 0,
        "no not_collected question was exercised"
    );
    // One independent 95% interval per country: allow the misses that happen with probability >= 5% (2 of 13).
    let allowed = allowed_misses(countries.len(), 0.05, 0.05);
    assert!(
        headline_misses.len() <= allowed,
        "headline intervals miss the truth in {headline_misses:?}"
    );
    let coverage = 1.0 - item_misses.len() as f64 / item_checks as f64;
    eprintln!("item coverage {coverage:.3} over {item_checks} intervals; misses {item_misses:#?}");
    assert!(
        coverage >= 0.88,
        "item interval coverage {coverage:.3}: {item_misses:#?}"
    );
}
