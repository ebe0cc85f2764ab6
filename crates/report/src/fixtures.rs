//! Synthetic run outputs for tests (feature `fixtures`): a context with the 13 Phase 1 countries and four
//! indicators of two families, indicator rows with every flag (ok, low base, suppressed, not collected), and an
//! `OUT` folder holding them as the pipeline writes them (the Parquet columns come from
//! `dh_indicators::output::indicators_batch`, the contract of the indicator stage).

// Test support (compiled for tests and the `fixtures` feature only): a fixture that cannot be written fails the
// test that asked for it.
#![allow(clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use dh_indicators::{EstimateRow, Flag, Flags};
use parquet::arrow::ArrowWriter;

use crate::context::{CONTEXT_FORMAT, CountryInfo, Definition, Reliability, ReportContext};
use crate::table::{IndicatorRow, TOTAL};

/// (ISO3, name, region, internet-using 12-17 population, headline share).
pub const COUNTRIES: [(&str, &str, &str, f64, f64); 13] = [
    (
        "ETH",
        "Ethiopia",
        "Eastern and Southern Africa",
        4_170_195.0,
        0.10,
    ),
    (
        "KEN",
        "Kenya",
        "Eastern and Southern Africa",
        5_051_300.0,
        0.09,
    ),
    (
        "MOZ",
        "Mozambique",
        "Eastern and Southern Africa",
        2_453_600.0,
        0.13,
    ),
    (
        "NAM",
        "Namibia",
        "Eastern and Southern Africa",
        238_868.0,
        0.09,
    ),
    (
        "ZAF",
        "South Africa",
        "Eastern and Southern Africa",
        5_900_000.0,
        0.085,
    ),
    (
        "TZA",
        "Tanzania",
        "Eastern and Southern Africa",
        5_904_771.0,
        0.04,
    ),
    (
        "UGA",
        "Uganda",
        "Eastern and Southern Africa",
        2_727_786.0,
        0.075,
    ),
    ("KHM", "Cambodia", "Southeast Asia", 1_473_940.0, 0.11),
    ("IDN", "Indonesia", "Southeast Asia", 25_053_168.0, 0.02),
    ("MYS", "Malaysia", "Southeast Asia", 2_987_893.0, 0.04),
    ("PHL", "Philippines", "Southeast Asia", 12_530_842.0, 0.20),
    ("THA", "Thailand", "Southeast Asia", 4_528_893.0, 0.09),
    ("VNM", "Viet Nam", "Southeast Asia", 7_495_576.0, 0.01),
];

/// The domains every fixture indicator is broken down by.
pub const DOMAINS: [(&str, &[&str]); 3] = [
    ("sex", &["male", "female"]),
    ("age_band", &["12-13", "14-15", "16-17"]),
    ("urban_rural", &["urban", "rural"]),
];

fn definition(id: &str, label: &str, table: &str, statistic: &str, ci: &str) -> Definition {
    Definition {
        id: id.into(),
        label: label.into(),
        version: "1.0.0".into(),
        table: table.into(),
        statistic: statistic.into(),
        universe_label: if table == "caregiver_survey" {
            "Caregivers of internet-using children".into()
        } else {
            "Internet-using children aged 12-17".into()
        },
        universe: "true".into(),
        numerator: Some("any(offered_money_images == \"yes\", images_shared == \"yes\")".into()),
        variable: None,
        missing_rule: "missing_as_no".into(),
        missing_rule_description: "don't know and refused count as no; nulls leave the denominator"
            .into(),
        missing_rationale:
            "a child who did not say yes is not counted as having had the experience".into(),
        missing_codes: BTreeMap::from([
            ("dont_know".to_string(), "counted as no".to_string()),
            (
                "not_collected".to_string(),
                "excluded from the denominator".to_string(),
            ),
        ]),
        ci_method: ci.into(),
        disaggregations: DOMAINS.iter().map(|(d, _)| d.to_string()).collect(),
        comparability: "Fixture <comparability> & note.".into(),
        notes: String::new(),
        label_template: None,
        withheld_base_hidden: Some(false),
        unit: String::new(),
        level_titles: BTreeMap::new(),
    }
}

pub fn context() -> ReportContext {
    ReportContext {
        context_format: CONTEXT_FORMAT,
        headline: Some("ocsea_clear_any".into()),
        suppress_below: 25,
        low_base_below: 50,
        reliability: Reliability::default(),
        countries: COUNTRIES
            .iter()
            .map(|(iso3, name, region, population, _)| CountryInfo {
                iso3: iso3.to_string(),
                name: name.to_string(),
                region: region.to_string(),
                fieldwork_start: "2021-01-11".into(),
                fieldwork_end: "2021-04-30".into(),
                population: *population,
                population_source: "fixture".into(),
                reference_years: None,
            })
            .collect(),
        indicators: vec![
            definition(
                "ocsea_clear_any",
                "Subjected to clear examples of OCSEA in the past year",
                "child_survey",
                "proportion",
                "logit",
            ),
            definition(
                "ocsea_clear_any_count",
                "Number of children subjected to clear examples of OCSEA",
                "child_survey",
                "count",
                "wald",
            ),
            definition(
                "told_police",
                "Told the police about the most recent incident",
                "child_survey",
                "proportion",
                "korn_graubard",
            ),
            definition(
                "caregiver_report_police",
                "Caregivers who would report harm to the police",
                "caregiver_survey",
                "proportion",
                "logit",
            ),
        ],
    }
}

fn flag_of(n: u64, not_collected: bool) -> &'static str {
    if not_collected {
        "not_collected"
    } else if n < 25 {
        "suppressed"
    } else if n < 50 {
        "low_base"
    } else {
        "ok"
    }
}

#[allow(clippy::too_many_arguments)] // a flat list of the row's values reads best in a fixture
fn make_row(
    country: &str,
    indicator: &str,
    domain: &str,
    value: &str,
    p: f64,
    n: u64,
    population: f64,
    statistic: &str,
    not_collected: bool,
) -> IndicatorRow {
    let flag = flag_of(n, not_collected);
    let shown = matches!(flag, "ok" | "low_base");
    let nf = n.max(1) as f64;
    let (estimate, se) = match statistic {
        "count" => (
            p * population,
            (p * (1.0 - p) / nf * 1.5).sqrt() * population,
        ),
        _ => (p, (p * (1.0 - p) / nf * 1.5).sqrt()),
    };
    let upper_bound = if statistic == "count" {
        f64::INFINITY
    } else {
        1.0
    };
    IndicatorRow {
        country: country.into(),
        indicator: indicator.into(),
        indicator_version: "1.0.0".into(),
        domain: domain.into(),
        domain_value: value.into(),
        estimate: shown.then_some(estimate),
        se: shown.then_some(se),
        ci_lower: shown.then_some((estimate - 1.96 * se).max(0.0)),
        ci_upper: shown.then_some((estimate + 1.96 * se).min(upper_bound)),
        ci_method: if statistic == "count" {
            "wald"
        } else {
            "logit"
        }
        .into(),
        n_unweighted: n,
        population_estimate: shown.then_some(if statistic == "count" {
            estimate
        } else {
            estimate * population
        }),
        flag: flag.into(),
        flags: vec![flag.into()],
    }
}

/// Rows for every country x fixture indicator x domain, in the stage's order (country, indicator, total first).
pub fn rows(context: &ReportContext) -> Vec<IndicatorRow> {
    let mut out = Vec::new();
    for (k, (iso3, _, _, population, headline)) in COUNTRIES.iter().enumerate() {
        for def in &context.indicators {
            // (share, unweighted base of the total)
            let (p, n_total) = match def.id.as_str() {
                "told_police" => (0.02 + 0.002 * k as f64, (headline * 1000.0).round() as u64),
                "caregiver_report_police" => (0.17 + 0.01 * k as f64, 990),
                _ => (*headline, 1000),
            };
            let not_collected = def.id == "caregiver_report_police" && *iso3 == "ZAF";
            out.push(make_row(
                iso3,
                &def.id,
                TOTAL,
                TOTAL,
                p,
                n_total,
                *population,
                &def.statistic,
                not_collected,
            ));
            for (domain, levels) in DOMAINS {
                for (j, level) in levels.iter().enumerate() {
                    let share = 1.0 / levels.len() as f64;
                    let pj = p * (0.8 + 0.4 * j as f64 / levels.len() as f64);
                    out.push(make_row(
                        iso3,
                        &def.id,
                        domain,
                        level,
                        pj,
                        (n_total as f64 * share).round() as u64,
                        population * share,
                        &def.statistic,
                        not_collected,
                    ));
                }
            }
        }
    }
    out
}

fn to_estimate_row(r: &IndicatorRow) -> EstimateRow {
    let flag = Flag::parse(&r.flag).unwrap_or(Flag::Suppressed);
    let flags = r
        .flags
        .iter()
        .filter_map(|f| Flag::parse(f))
        .fold(Flags::of(flag), Flags::with);
    let mut row = EstimateRow {
        indicator: r.indicator.clone(),
        indicator_version: r.indicator_version.clone(),
        statistic: if r.ci_method == "wald" {
            "count"
        } else {
            "proportion"
        },
        domain: r.domain.clone(),
        domain_value: r.domain_value.clone(),
        estimate: r.estimate,
        se: r.se,
        ci_lower: r.ci_lower,
        ci_upper: r.ci_upper,
        ci_method: match r.ci_method.as_str() {
            "wald" => "wald",
            "korn_graubard" => "korn_graubard",
            _ => "logit",
        },
        df: r.estimate.map(|_| 40.0),
        deff: r.estimate.map(|_| 1.5),
        n_unweighted: r.n_unweighted as usize,
        n_weighted: r.n_unweighted as f64 * 1000.0,
        population_estimate: r.population_estimate,
        flag,
        flags,
    };
    row.set_flags(flags);
    row
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    writer
        .write(batch)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    writer
        .close()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Writes `rows` as `OUT/indicators/indicators.parquet` through the indicator stage's batch builder.
pub fn write_indicators(out: &Path, rows: &[IndicatorRow]) {
    let mut countries: Vec<(String, Vec<EstimateRow>)> = Vec::new();
    for r in rows {
        match countries.last_mut() {
            Some((c, list)) if *c == r.country => list.push(to_estimate_row(r)),
            _ => countries.push((r.country.clone(), vec![to_estimate_row(r)])),
        }
    }
    let borrowed: Vec<(&str, &[EstimateRow])> = countries
        .iter()
        .map(|(c, rows)| (c.as_str(), rows.as_slice()))
        .collect();
    let batch = dh_indicators::output::indicators_batch(&borrowed)
        .unwrap_or_else(|e| panic!("indicators batch: {e}"));
    write_parquet(&out.join(crate::INDICATORS_FILE), &batch);
}

/// Writes a complete fixture `OUT`: indicator table, manifest with a ledger, one quarantine table (THA) and a
/// normalised child table with design columns (THA).
pub fn write_out_dir(out: &Path, rows: &[IndicatorRow]) {
    write_indicators(out, rows);
    let quarantine = "quarantine/child_survey/country=THA/part-0.parquet";
    let q_schema = Arc::new(Schema::new(vec![
        Field::new("source_file", DataType::Utf8, false),
        Field::new("row_number", DataType::UInt64, false),
        Field::new("reason_code", DataType::Utf8, false),
    ]));
    let q = RecordBatch::try_new(
        q_schema,
        vec![
            Arc::new(StringArray::from(vec!["THA/c.csv"; 3])) as ArrayRef,
            Arc::new(UInt64Array::from(vec![4u64, 4, 9])),
            Arc::new(StringArray::from(vec![
                "code_unknown",
                "out_of_range",
                "code_unknown",
            ])),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    write_parquet(&out.join(quarantine), &q);
    let normalised = "normalised/child_survey/country=THA/part-0.parquet";
    let d_schema = Arc::new(Schema::new(vec![
        Field::new("stratum", DataType::Utf8, false),
        Field::new("psu", DataType::Utf8, false),
    ]));
    let d = RecordBatch::try_new(
        d_schema,
        vec![
            Arc::new(StringArray::from(vec!["s1", "s1", "s2", "s2", "s2"])) as ArrayRef,
            Arc::new(StringArray::from(vec!["p1", "p2", "p1", "p1", "p3"])),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    write_parquet(&out.join(normalised), &d);
    let output = |path: &str, kind: &str, rows: u64| dh_manifest::OutputEntry {
        path: path.into(),
        country: "THA".into(),
        table: "child_survey".into(),
        kind: kind.into(),
        rows,
        bytes: 0,
        sha256: "00".into(),
    };
    let mut manifest = dh_manifest::Manifest {
        tool: dh_manifest::ToolInfo {
            name: "dh".into(),
            version: "0.1.0".into(),
            git_commit: None,
        },
        countries: COUNTRIES
            .iter()
            .map(|c| dh_manifest::CountryEntry {
                country: c.0.into(),
                status: dh_manifest::CountryStatus::Ok,
                error: None,
                not_delivered: Vec::new(),
                stale_from: None,
            })
            .collect(),
        inputs: vec![dh_manifest::InputEntry {
            path: "THA/c.csv".into(),
            country: "THA".into(),
            table: "child_survey".into(),
            sha256: "00".into(),
            rows_read: 1002,
            rows_written: 1000,
            rows_quarantined: 2,
            warnings: Vec::new(),
        }],
        outputs: vec![
            output(quarantine, "quarantine", 3),
            output(normalised, "normalised", 5),
        ],
        weighting: vec![dh_manifest::WeightingEntry {
            country: "THA".into(),
            converged: true,
            final_weights: dh_manifest::WeightStats {
                kish_deff: 1.23,
                ..Default::default()
            },
            ..Default::default()
        }],
        ..Default::default()
    };
    manifest.finalise();
    let bytes = manifest.to_bytes().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(out.join("manifest.json"), bytes).unwrap_or_else(|e| panic!("{e}"));
}
