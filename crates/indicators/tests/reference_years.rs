//! Issue 10: law-enforcement reference years per country. A Phase 2 country (`reference_years = { first = 2021,
//! last = 2023 }`) with CyberTipline reports and police cases for 2021-2023, synthesised and run end to end through
//! the library: its reference-year indicators are estimated on 2021-2023 (not `not_collected` as with the fixed
//! 2017-2019 years), keep their ids, and the report's country pages name each country's years (Kenya, run with it,
//! stays 2017-2019).

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `countries/` with `_defaults.toml` and a Thailand turned into a Phase 2 country without planted bad rows.
fn phase2_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("countries");
    std::fs::create_dir_all(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let read = |name: &str| {
        std::fs::read_to_string(repo().join("countries").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    std::fs::write(cfg.join("_defaults.toml"), read("_defaults.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut tha = read("THA.toml");
    for (from, to) in [
        (
            "report_launch = \"2022-02-21\"\n",
            "report_launch = \"2022-02-21\"\nreference_years = { first = 2021, last = 2023 }\n",
        ),
        (
            "reports = { \"2017\" = 86000, \"2018\" = 98000, \"2019\" = 117213 }",
            "reports = { \"2021\" = 40000, \"2022\" = 50000, \"2023\" = 60000 }",
        ),
        (
            "cases = { \"2017\" = 400, \"2018\" = 430, \"2019\" = 470 }",
            "cases = { \"2021\" = 300, \"2022\" = 320, \"2023\" = 340 }",
        ),
        (
            "[synth.settings]\n",
            "[synth.settings]\nbad_row_share = 0.0\n",
        ),
    ] {
        assert!(tha.contains(from), "THA.toml lacks {from}");
        tha = tha.replacen(from, to, 1);
    }
    std::fs::write(cfg.join("THA.toml"), tha).unwrap_or_else(|e| panic!("{e}"));
    // Kenya stays a Phase 1 country (2017-2019).
    std::fs::write(cfg.join("KEN.toml"), read("KEN.toml")).unwrap_or_else(|e| panic!("{e}"));
    cfg
}

#[test]
fn a_phase2_country_reports_its_own_reference_years() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = phase2_config(dir.path());
    let raw = dir.path().join("raw");
    dh_synth::synth_to_dir(
        &config,
        &repo().join("schemas"),
        &raw,
        &dh_synth::SynthOptions {
            seed: 2,
            scale: 0.3,
            countries: vec!["KEN".into(), "THA".into()],
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    let summary = dh_pipeline::run::run(
        &dh_pipeline::run::RunOptions {
            raw_dir: raw,
            out_dir: out.clone(),
            config_dir: config,
            schema_dir: repo().join("schemas"),
            pipelines_dir: Some(repo().join("pipelines")),
            countries: Vec::new(),
            jobs: 2,
            key: dh_pipeline::key::KeySource {
                key_file: None,
                env_value: Some("reference-years-test-key-0123456789abcdef".into()),
                generated_file: None,
            },
            force: false,
        },
        &dh_pipeline::progress::Silent,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);

    let mut csv = csv::Reader::from_path(out.join("indicators/indicators.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let header = csv.headers().unwrap_or_else(|e| panic!("{e}")).clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let records: Vec<Vec<String>> = csv
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .map(String::from)
                .collect()
        })
        .collect();
    let rows: Vec<Vec<&str>> = records
        .iter()
        .map(|r| r.iter().map(String::as_str).collect::<Vec<&str>>())
        .filter(|r| r[col("country")] == "THA")
        .collect();
    let find = |id: &str, domain: &str, level: &str| {
        rows.iter()
            .find(|r| {
                r[col("indicator")] == id
                    && r[col("domain")] == domain
                    && r[col("domain_value")] == level
            })
            .unwrap_or_else(|| panic!("no row {id} {domain} {level}"))
    };
    let estimate = |r: &Vec<&str>| -> f64 {
        r[col("estimate")]
            .parse()
            .unwrap_or_else(|_| panic!("no estimate in {r:?}"))
    };
    // Change 2021 -> 2023: 40,000 -> 60,000 reports = +50%.
    let change = find("le_cybertipline_change_2017_2019", "total", "total");
    assert_eq!(change[col("flag")], "ok", "{change:?}");
    assert!((estimate(change) - 0.5).abs() < 1e-9, "{change:?}");
    // The rate covers 2021-2023 (150,000 reports), by year too.
    let rate = find("le_cybertipline_rate", "total", "total");
    assert_eq!(rate[col("flag")], "ok", "{rate:?}");
    // The label and universe columns carry THA's own years; the unit is the catalogue's.
    assert_eq!(
        rate[col("label")],
        "CyberTipline reports per 10,000 internet-using children aged 12-17, by year (total: 2021-2023 together)"
    );
    assert_eq!(
        rate[col("universe_label")],
        "NCMEC CyberTipline reports concerning the country, 2021-2023"
    );
    assert_eq!(
        rate[col("unit")],
        "reports per 10,000 internet-using children aged 12-17"
    );
    for year in ["2021", "2022", "2023"] {
        find("le_cybertipline_rate", "year", year);
    }
    let by_year: f64 = ["2021", "2022", "2023"]
        .iter()
        .map(|y| estimate(find("le_cybertipline_rate", "year", y)))
        .sum();
    assert!(
        (estimate(rate) - by_year).abs() < 1e-6,
        "{rate:?} vs {by_year}"
    );

    // Each country's page names its own years; the cross-country indicator page words them.
    let page = |name: &str| {
        std::fs::read_to_string(out.join("report").join(name)).unwrap_or_else(|e| panic!("{e}"))
    };
    for (iso3, years) in [("THA", "from 2021 to 2023"), ("KEN", "from 2017 to 2019")] {
        let html = page(&format!("country-{iso3}.html"));
        assert!(
            html.contains(&format!("Relative change in CyberTipline reports {years}")),
            "{iso3}'s page names its years"
        );
        assert!(!html.contains("{ref_"), "constants left on {iso3}'s page");
    }
    assert!(page("indicator-le_cybertipline_change_2017_2019.html").contains(
        "Relative change in CyberTipline reports from the first reference year to the last reference year"
    ));
}
