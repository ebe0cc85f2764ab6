//! The family indicators end to end on `dh synth` deliveries: synthesise, read and normalise every table
//! (household survey and the other data families), run the indicator stage, and check the family rows against the
//! facts the configs encode (Ethiopia: no technology-involved case; Uganda: about 98% girls; Tanzania: 20,625
//! CyberTipline reports 2017-2019; Cambodia: 9 government interviews) and the disclosure rules.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use dh_indicators::estimate::{EstimateRow, TOTAL};
use dh_indicators::{Flag, country_indicators, load};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn normalised(
    config: &dh_config::CountryConfig,
    schemas: &dh_config::SchemaSet,
    key: &dh_normalise::PseudonymKey,
    raw_dir: &Path,
) -> BTreeMap<String, RecordBatch> {
    let read = dh_pipeline::country::read_deliveries(config, raw_dir, false)
        .unwrap_or_else(|e| panic!("{e}"));
    let raw = read.into_iter().map(|d| (d.table, d.raw)).collect();
    dh_pipeline::country::normalise(config, schemas, key, raw)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|t| {
            let batch = arrow::compute::concat_batches(&t.schema, &t.batches)
                .unwrap_or_else(|e| panic!("{e}"));
            (t.table, batch)
        })
        .collect()
}

fn row<'a>(rows: &'a [EstimateRow], id: &str, domain: &str, level: &str) -> &'a EstimateRow {
    rows.iter()
        .find(|r| r.indicator == id && r.domain == domain && r.domain_value == level)
        .unwrap_or_else(|| panic!("no row {id} / {domain} = {level}"))
}

fn count_label(batch: &RecordBatch, column: &str, label: &str) -> usize {
    let text = cast(batch.column_by_name(column).unwrap(), &DataType::Utf8).unwrap();
    text.as_string::<i32>()
        .iter()
        .filter(|v| *v == Some(label))
        .count()
}

#[test]
fn family_indicators_reproduce_the_configured_facts_and_withhold_small_cells() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let only: Vec<String> = ["ETH", "KHM", "TZA", "UGA"].map(String::from).to_vec();
    let configs = dh_config::load_countries(&repo().join("countries"), &only)
        .unwrap_or_else(|e| panic!("{e}"));
    dh_synth::synth_countries(&configs, &schemas, dir.path(), 3, 1.0)
        .unwrap_or_else(|e| panic!("{e}"));
    let (pipeline, catalogue) =
        load(&repo().join("pipelines"), &schemas).unwrap_or_else(|e| panic!("{e}"));
    assert!(catalogue.families.indicators.len() >= 20);
    let key = dh_normalise::PseudonymKey::from_bytes(&[9u8; 32]).unwrap_or_else(|e| panic!("{e}"));
    for config in &configs {
        let iso3 = config.country.iso3.as_str();
        let tables = normalised(config, &schemas, &key, dir.path());
        let result = country_indicators(
            iso3,
            &tables,
            &config.population,
            config.country.reference_years,
            &catalogue,
            &pipeline,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let rows = &result.rows;
        for ind in &catalogue.families.indicators {
            assert!(
                rows.iter().any(|r| r.indicator == ind.id),
                "{iso3}: {} missing",
                ind.id
            );
        }
        // Disclosure: nothing withheld is shown, and no published count or interview cell is 1-4.
        for r in rows.iter().filter(|r| r.flag == Flag::SmallCount) {
            assert!(
                r.estimate.is_none() && r.ci_lower.is_none() && r.n_unweighted == 0,
                "{r:?}"
            );
        }
        for r in rows
            .iter()
            .filter(|r| r.indicator.starts_with("int_theme_") && r.estimate.is_some())
        {
            let x = (r.estimate.unwrap_or(0.0) * r.n_unweighted as f64).round() as usize;
            let n = r.n_unweighted;
            assert!(
                !(1..5).contains(&x) && !(1..5).contains(&(n - x)),
                "{iso3}: {r:?}"
            );
            assert!(r.flags.contains(Flag::NonRepresentative), "{r:?}");
        }
        // Base rules on every family proportion and share: fewer than 25 cases are never a number, 25-49 are
        // low_base; unweighted proportions keep non_representative whatever else holds; the flag is the first
        // condition; Wilson bounds hold the estimate.
        for r in rows
            .iter()
            .filter(|r| matches!(r.statistic, "unweighted_proportion" | "share"))
        {
            assert_eq!(r.flag, r.flags.primary(), "{r:?}");
            if r.flags.contains(Flag::NotCollected) {
                continue;
            }
            assert_eq!(
                r.flags.contains(Flag::NonRepresentative),
                r.statistic == "unweighted_proportion",
                "{r:?}"
            );
            if r.n_unweighted < 25 {
                assert!(
                    r.estimate.is_none() && r.flag.hides_estimate(),
                    "{iso3}: {r:?}"
                );
            } else if r.n_unweighted < 50 && r.estimate.is_some() {
                assert_eq!(r.flag, Flag::LowBase, "{iso3}: {r:?}");
            }
            if let (Some(e), Some(lo), Some(hi)) = (r.estimate, r.ci_lower, r.ci_upper) {
                assert!(
                    0.0 <= lo && lo <= e && e <= hi && hi <= 1.0,
                    "{iso3}: {r:?}"
                );
                if r.statistic == "unweighted_proportion" {
                    assert_ne!(r.flag, Flag::Ok, "{iso3}: {r:?}");
                }
            }
        }
        for r in rows
            .iter()
            .filter(|r| r.indicator == "int_interviews" || r.indicator == "le_cases")
        {
            if let Some(v) = r.estimate {
                assert!(!(1.0..5.0).contains(&v), "{iso3}: {r:?}");
            }
        }
        // Frontline: unweighted, Wilson, non-representative, ~50 workers.
        let fw = row(rows, "fw_barrier_stigma", TOTAL, TOTAL);
        assert_eq!((fw.flag, fw.ci_method), (Flag::LowBase, "wilson"), "{fw:?}");
        assert!(fw.flags.contains(Flag::NonRepresentative));
        assert!(
            (40..=50).contains(&fw.n_unweighted),
            "{iso3}: {}",
            fw.n_unweighted
        );
        let (p, lo, hi) = (
            fw.estimate.unwrap_or(-1.0),
            fw.ci_lower.unwrap_or(2.0),
            fw.ci_upper.unwrap_or(-1.0),
        );
        assert!(lo < p && p < hi, "{iso3}: {lo} {p} {hi}");
        // Interviews by group match the normalised register.
        let gov = count_label(
            &tables["interview_register"],
            "participant_group",
            "government_duty_bearer",
        );
        let gov_row = row(
            rows,
            "int_interviews",
            "participant_group",
            "government_duty_bearer",
        );
        assert_eq!(gov_row.estimate, Some(gov as f64), "{iso3}");
        if iso3 == "KHM" {
            assert!(
                gov == 9 || gov == 8,
                "Cambodia: {gov} government interviews (9 delivered)"
            );
        }
        let technology = row(rows, "le_cases_technology", TOTAL, TOTAL);
        if iso3 == "ETH" {
            assert_eq!(
                (technology.estimate, technology.flag),
                (Some(0.0), Flag::Ok)
            );
            let share = row(rows, "le_cases_technology_share", TOTAL, TOTAL);
            assert_eq!(share.estimate, Some(0.0));
            // The Wilson interval at x = 0 starts at exactly 0 (before: 8.7e-19, above the estimate).
            assert_eq!(share.ci_lower, Some(0.0), "{share:?}");
        } else {
            assert!(
                technology.estimate.unwrap_or(0.0) >= 5.0,
                "{iso3}: {technology:?}"
            );
        }
        let girls = row(rows, "le_victims_girls_share", TOTAL, TOTAL);
        if iso3 == "UGA" {
            assert!(girls.estimate.unwrap_or(0.0) > 0.96, "Uganda: {girls:?}");
        }
        let reports = row(rows, "le_cybertipline_rate", TOTAL, TOTAL);
        let users = config.population.population_12_17 * config.population.internet_share;
        let total_2017_2019 = reports.estimate.unwrap_or(0.0) * users / 10_000.0;
        if iso3 == "TZA" {
            assert!(
                (total_2017_2019 - 20_625.0).abs() < 1e-6,
                "Tanzania: {total_2017_2019}"
            );
            let change = row(rows, "le_cybertipline_change_2017_2019", TOTAL, TOTAL);
            let expected = (8_125.0 - 5_600.0) / 5_600.0;
            assert!(
                (change.estimate.unwrap_or(0.0) - expected).abs() < 1e-12,
                "{change:?}"
            );
        }
        let icse = row(rows, "le_icse_connected", TOTAL, TOTAL);
        assert!(
            icse.estimate == Some(0.0) || icse.estimate == Some(1.0),
            "{icse:?}"
        );
    }
}

/// `dh run` as a library call on synthetic deliveries of every configured country: every country publishes the household
/// survey and the three other data families (six family tables), each with a balanced ledger, and the family
/// indicators appear in `OUT/indicators/indicators.csv` for every country with their flags.
#[test]
fn a_run_ingests_all_four_families_for_every_country() {
    let raw = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let options = dh_synth::SynthOptions {
        seed: 4,
        scale: 0.2,
        countries: Vec::new(),
    };
    dh_synth::synth_to_dir(
        &repo().join("countries"),
        &repo().join("schemas"),
        raw.path(),
        &options,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let opts = dh_pipeline::run::RunOptions {
        raw_dir: raw.path().to_path_buf(),
        out_dir: out.path().join("out"),
        config_dir: repo().join("countries"),
        schema_dir: repo().join("schemas"),
        pipelines_dir: Some(repo().join("pipelines")),
        countries: Vec::new(),
        jobs: 2,
        key: dh_pipeline::key::KeySource {
            key_file: None,
            env_value: Some("families-run-test-key-0123456789abcdef".into()),
            generated_file: None,
        },
        force: false,
    };
    let summary = dh_pipeline::run::run(&opts, &dh_pipeline::progress::Silent)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let tables = [
        "child_survey",
        "caregiver_survey",
        "frontline_survey",
        "interview_register",
        "interview_segments",
        "cybertipline_reports",
        "police_cases",
        "icse_connection",
    ];
    let m = &summary.manifest;
    let configured = dh_config::country::list_countries(&repo().join("countries"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.countries.len(), configured.len());
    for c in &m.countries {
        for t in tables {
            let input = m
                .inputs
                .iter()
                .find(|i| i.country == c.country && i.table == t)
                .unwrap_or_else(|| panic!("{}: no {t}", c.country));
            assert!(input.rows_written > 0, "{}: {t} empty", c.country);
            assert_eq!(input.rows_read, input.rows_written + input.rows_quarantined);
            let part = out
                .path()
                .join("out/normalised")
                .join(t)
                .join(format!("country={}", c.country))
                .join("part-0.parquet");
            assert!(part.is_file(), "{}", part.display());
        }
    }
    let mut csv = csv::Reader::from_path(out.path().join("out/indicators/indicators.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let header = csv.headers().unwrap_or_else(|e| panic!("{e}")).clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or(usize::MAX);
    let (country, indicator, flag) = (col("country"), col("indicator"), col("flags"));
    let mut seen: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut flags = std::collections::BTreeSet::new();
    for record in csv.records() {
        let cells = record.unwrap_or_else(|e| panic!("{e}"));
        let id = cells.get(indicator).unwrap_or_default();
        let family = ["fw_", "int_", "le_", "sc_", "legal_"];
        if family.iter().any(|p| id.starts_with(p)) {
            seen.entry(cells.get(country).unwrap_or_default().to_string())
                .or_default()
                .insert(id.to_string());
            for f in cells.get(flag).unwrap_or_default().split(';') {
                flags.insert(f.to_string());
            }
        }
    }
    let (_, catalogue) = load(
        &repo().join("pipelines"),
        &dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seen.len(), configured.len(), "{:?}", seen.keys());
    for (iso3, ids) in &seen {
        assert_eq!(
            ids.len(),
            catalogue.families.indicators.len(),
            "{iso3}: {ids:?}"
        );
    }
    assert!(
        flags.contains("non_representative") && flags.contains("ok"),
        "{flags:?}"
    );
}
