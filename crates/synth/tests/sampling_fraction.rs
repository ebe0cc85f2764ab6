//! The synthetic sample's first-stage sampling fraction is small, as in a national frame: the designs carry no
//! finite-population correction, so a sample drawing 10-35% of a stratum's EAs (as the population of 60 EAs
//! per stratum did) overstates every variance. Also: the census used by the coverage study holds every child.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use dh_config::{CountryConfig, SchemaSet};
use dh_synth::SynthPopulation;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schemas() -> SchemaSet {
    dh_config::load_schemas(&root().join("schemas")).expect("shipped schemas load")
}

fn configs(only: &[&str]) -> Vec<CountryConfig> {
    let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
    dh_config::load_countries(&root().join("countries"), &only).expect("shipped configs load")
}

#[test]
fn samples_draw_about_two_percent_of_the_eas_in_every_stratum() {
    let schemas = schemas();
    // Countries with different region counts and sample sizes (KEN 1,014, NAM 994 children).
    for config in configs(&["KEN", "NAM", "THA"]) {
        let iso3 = &config.country.iso3;
        let population = SynthPopulation::simulate(&config, &schemas, 1, 1.0).expect("population");
        let (overall, largest) = population.cluster_sampling_fraction(1.0);
        assert!(
            (0.01..=0.03).contains(&overall),
            "{iso3}: a sample draws {:.1}% of the EAs",
            100.0 * overall
        );
        // A small stratum still gets its 2 EAs (NAM has 14 regions): 2 of ~48 is 4.2%.
        assert!(
            largest <= 0.05,
            "{iso3}: a sample draws {:.1}% of one stratum's EAs",
            100.0 * largest
        );
        // EAs hold 30 children on average whatever the stratum's size.
        let frame = &population.frame;
        let mean = frame.child_count() as f64 / frame.eas.len() as f64;
        assert!(
            (27.0..=33.0).contains(&mean),
            "{iso3}: {mean} children per EA"
        );
        // The sample's base weights reflect it: about 150 population children per sampled child.
        let sample = population.draw_sample(3, 1.0).expect("sample");
        let total: f64 = sample.respondents.iter().map(|r| r.base_weight).sum();
        let ratio = total / population.population_size() as f64;
        assert!(
            (0.9..=1.1).contains(&ratio),
            "{iso3}: weights sum to {ratio} x the population"
        );
    }
}

#[test]
fn census_holds_every_child_once_with_weight_one() {
    let schemas = schemas();
    let mut config = configs(&["THA"]).remove(0);
    let synth = config.synth.as_mut().expect("[synth]");
    synth.sample_children = Some(200);
    synth
        .settings
        .insert("population_factor".into(), toml::Value::Integer(10));
    let population = SynthPopulation::simulate(&config, &schemas, 1, 1.0).expect("population");
    let census = population.census();
    assert_eq!(census.respondents.len(), population.population_size());
    assert!(census.respondents.iter().all(|r| r.base_weight == 1.0));
    let mut children: Vec<usize> = census.respondents.iter().map(|r| r.child).collect();
    children.sort_unstable();
    children.dedup();
    assert_eq!(children.len(), population.population_size());
    // No planted bad rows: the deliveries record no problem.
    let dir = tempfile::tempdir().expect("tempdir");
    let problems = dh_synth::write_deliveries(&census, &config, dir.path()).expect("written");
    assert!(problems.is_empty(), "{problems:?}");
    // A sample's answers are the census answers of the same children.
    let sample = population.draw_sample(5, 1.0).expect("sample");
    for (r, respondent) in sample.respondents.iter().enumerate().take(50) {
        let c = census
            .respondents
            .iter()
            .position(|x| x.child == respondent.child)
            .expect("in census");
        assert_eq!(sample.rows[0][r], census.rows[0][c]);
        assert_eq!(census.respondents[c].household_id, respondent.household_id);
    }
}
