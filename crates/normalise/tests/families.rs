//! The other data families end to end through the library on `dh synth` deliveries for every configured country: each
//! family's mapping (local offence labels and codebook paths onto harmonised categories, the .sav/.dta/.xlsx/CSV
//! deliveries), the facts-file fragments the configs encode, each quarantine reason planted in the family tables,
//! pseudonymised interview and case ids, and no transcript-text placeholder, identifier or raw id in any output.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use dh_ingest::ColumnSelection;
use dh_ingest::readers::reader_for;
use dh_normalise::{PseudonymKey, normalise_country};
use dh_synth::families::render::TEXT_PLACEHOLDER;
use dh_synth::families::{FAMILY_TABLES, INJECTED_FAMILIES_FILE, is_family_table};

/// Every cell of a batch as text (dictionary and numeric columns included).
fn cells(batch: &RecordBatch) -> Vec<String> {
    let mut out = Vec::new();
    for column in batch.columns() {
        if let Ok(text) = cast(column, &DataType::Utf8) {
            out.extend(text.as_string::<i32>().iter().flatten().map(str::to_string));
        }
    }
    out
}

fn texts(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let column = batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"));
    let text = cast(column, &DataType::Utf8).unwrap();
    text.as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn count(batch: &RecordBatch, name: &str, value: &str) -> usize {
    texts(batch, name)
        .iter()
        .filter(|v| v.as_deref() == Some(value))
        .count()
}

#[test]
fn family_deliveries_map_quarantine_and_leak_nothing() {
    let root = common::repo_root();
    let dir = tempfile::tempdir().unwrap();
    let options = dh_synth::SynthOptions {
        seed: 5,
        scale: 0.1,
        countries: Vec::new(),
    };
    dh_synth::synth_to_dir(
        &root.join("countries"),
        &root.join("schemas"),
        dir.path(),
        &options,
    )
    .expect("dh synth");
    let injected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(INJECTED_FAMILIES_FILE)).unwrap())
            .unwrap();
    let mut expected: BTreeMap<(String, String, u64), String> = BTreeMap::new();
    let mut reasons_planted = BTreeSet::new();
    for p in injected["problems"].as_array().unwrap() {
        let text = |k: &str| p[k].as_str().unwrap().to_string();
        reasons_planted.insert(text("expected_reason"));
        expected.insert(
            (
                text("country"),
                text("table"),
                p["data_row"].as_u64().unwrap(),
            ),
            text("expected_reason"),
        );
    }
    for reason in [
        "unknown_code",
        "invalid_value",
        "missing_link",
        "out_of_range",
        "required_missing",
        "duplicate_id",
    ] {
        assert!(
            reasons_planted.contains(reason),
            "no family row planted with {reason}"
        );
    }

    let (schemas, countries) = common::load_all();
    // Every country file, whatever their number (derived from countries/, never a fixed count).
    let configured =
        dh_config::country::list_countries(&common::repo_root().join("countries")).unwrap();
    assert_eq!(countries.len(), configured.len());
    let key = PseudonymKey::from_bytes(b"families-test-key-0123456789abcdef").unwrap();
    let mut formats = BTreeSet::new();
    let mut found: BTreeMap<(String, String, u64), BTreeSet<String>> = BTreeMap::new();
    let mut in_parts: BTreeSet<(String, String)> = BTreeSet::new();
    for full in &countries {
        let iso3 = full.country.iso3.clone();
        let mut config = full.clone();
        config.deliveries.retain(|t, _| is_family_table(t));
        assert_eq!(config.deliveries.len(), FAMILY_TABLES.len(), "{iso3}");
        // A delivery in several files (`parts`) is read by the pipeline, not by this library-level test.
        for (t, d) in &config.deliveries {
            if !d.parts.is_empty() {
                in_parts.insert((iso3.clone(), t.clone()));
            }
        }
        config.deliveries.retain(|_, d| d.parts.is_empty());
        let mut raw = BTreeMap::new();
        let mut secrets: BTreeSet<String> = BTreeSet::new();
        for (table, delivery) in &config.deliveries {
            formats.insert(format!("{:?}", delivery.format));
            let path = dir.path().join(&iso3).join(&delivery.file);
            let t = dh_ingest::read_delivery(&path, delivery).unwrap_or_else(|e| panic!("{e}"));
            // Identifier columns and the transcript-text column, read on purpose to search outputs for them.
            let ids = ColumnSelection::all(delivery.identifiers.iter().map(String::as_str));
            let id_table = reader_for(delivery.format, &path)
                .unwrap()
                .read(&path, delivery, &ids)
                .unwrap();
            for c in &id_table.columns {
                secrets.extend(
                    c.iter()
                        .map(str::trim)
                        .filter(|v| v.len() >= 4)
                        .map(str::to_string),
                );
            }
            // Raw ids of pseudonymised columns.
            let schema = schemas.get(table).unwrap();
            for f in schema.fields.iter().filter(|f| f.pseudonymise) {
                let source = delivery.columns[&f.name].source.clone().unwrap();
                secrets.extend(
                    t.column(&source)
                        .unwrap()
                        .iter()
                        .filter(|v| !v.is_empty())
                        .map(str::to_string),
                );
            }
            raw.insert(table.clone(), t);
        }
        assert!(
            secrets.iter().any(|s| s.starts_with(TEXT_PLACEHOLDER)),
            "{iso3}: no transcript column written"
        );
        let out =
            normalise_country(&config, &schemas, &raw, &key).unwrap_or_else(|e| panic!("{e}"));
        for t in out.tables.values() {
            assert_eq!(
                t.rows_read,
                t.rows_written + t.rows_quarantined,
                "{iso3} {}",
                t.table
            );
            let rows = t
                .quarantine
                .column_by_name("row_number")
                .unwrap()
                .as_primitive::<arrow::datatypes::UInt64Type>();
            let codes = t
                .quarantine
                .column_by_name("reason_code")
                .unwrap()
                .as_string::<i32>();
            for i in 0..t.quarantine.num_rows() {
                found
                    .entry((iso3.clone(), t.table.clone(), rows.value(i)))
                    .or_default()
                    .insert(codes.value(i).to_string());
            }
            // Harmonised cells are whole values: a secret would appear as an equal string.
            for cell in cells(&t.batch) {
                assert!(
                    !cell.contains(TEXT_PLACEHOLDER),
                    "{iso3} {}: transcript text in output",
                    t.table
                );
                assert!(
                    !secrets.contains(&cell),
                    "{iso3} {}: `{cell}` leaked",
                    t.table
                );
            }
            // Quarantine texts may embed values: search inside them.
            for cell in cells(&t.quarantine) {
                assert!(
                    !cell.contains(TEXT_PLACEHOLDER),
                    "{iso3} {}: transcript text in quarantine",
                    t.table
                );
                for s in &secrets {
                    assert!(
                        !cell.contains(s.as_str()),
                        "{iso3} {}: `{s}` leaked into `{cell}`",
                        t.table
                    );
                }
            }
        }
        let table = |name: &str| &out.tables[name].batch;

        // Frontline workers: 49-50 delivered, every role a harmonised label.
        let fw = &out.tables["frontline_survey"];
        assert!(
            (49..=50).contains(&fw.rows_read),
            "{iso3}: {} workers",
            fw.rows_read
        );
        // Interviews: group sizes as delivered (Cambodia 9 government duty-bearers), themes mapped from local
        // code paths, and segment ids pseudonymised with the same key as the register's.
        let group_map = &config.deliveries["interview_register"].columns["participant_group"];
        let gov_code = group_map
            .codes
            .iter()
            .find(|(_, l)| l.as_str() == "government_duty_bearer")
            .map(|(c, _)| c.clone())
            .unwrap();
        let group_source = group_map.source.clone().unwrap();
        let gov = raw["interview_register"]
            .column(&group_source)
            .unwrap()
            .iter()
            .filter(|v| *v == gov_code)
            .count();
        if iso3 == "KHM" {
            assert_eq!(gov, 9, "Cambodia: 9 government interviews");
        } else {
            assert!(
                (10..=12).contains(&gov),
                "{iso3}: {gov} government interviews"
            );
        }
        let themes: BTreeSet<String> = texts(table("interview_segments"), "theme")
            .into_iter()
            .flatten()
            .collect();
        assert!(
            themes.contains("facing_offenders_in_court") && themes.len() >= 6,
            "{iso3}: {themes:?}"
        );
        let registered: BTreeSet<Option<String>> =
            texts(table("interview_register"), "interview_id")
                .into_iter()
                .collect();
        let segment_ids = texts(table("interview_segments"), "interview_id");
        let linked = segment_ids
            .iter()
            .filter(|id| registered.contains(*id))
            .count();
        assert!(
            linked * 10 >= segment_ids.len() * 8,
            "{iso3}: {linked} of {} segments link",
            segment_ids.len()
        );
        // Police cases: offences in harmonised categories, facts-file fragments.
        let police = table("police_cases");
        let offences: BTreeSet<String> = texts(police, "offence_category")
            .into_iter()
            .flatten()
            .collect();
        assert!(
            offences.contains("sexual_abuse") && offences.len() >= 5,
            "{iso3}: {offences:?}"
        );
        let tech_yes = count(police, "technology_involved", "yes");
        if iso3 == "ETH" {
            assert_eq!(
                tech_yes, 0,
                "Ethiopia recorded no technology-involved cases"
            );
        } else {
            assert!(tech_yes > 0, "{iso3}");
        }
        let girls = count(police, "victim_sex", "female") as f64;
        let boys = count(police, "victim_sex", "male") as f64;
        if iso3 == "UGA" {
            assert!(
                girls / (girls + boys) > 0.96,
                "Uganda: {girls} girls, {boys} boys"
            );
        }
        // CyberTipline: Tanzania 20,625 reports 2017-2019.
        let ct = table("cybertipline_reports");
        let years = ct
            .column_by_name("year")
            .unwrap()
            .as_primitive::<Int64Type>();
        let reports = ct
            .column_by_name("reports")
            .unwrap()
            .as_primitive::<Int64Type>();
        let total: i64 = (0..ct.num_rows())
            .filter(|&i| (2017..=2019).contains(&years.value(i)))
            .map(|i| reports.value(i))
            .sum();
        if iso3 == "TZA" {
            assert_eq!(total, 20_625);
        }
        assert_eq!(ct.num_rows(), 6, "{iso3}: 3 years x 2 report types");
        assert_eq!(table("icse_connection").num_rows(), 1);
    }
    for f in ["Csv", "Sav", "Dta", "Xlsx"] {
        assert!(
            formats.contains(f),
            "no family delivery as {f}: {formats:?}"
        );
    }
    expected.retain(|(c, t, _), _| !in_parts.contains(&(c.clone(), t.clone())));
    let missing: Vec<_> = expected
        .iter()
        .filter(|(k, reason)| found.get(*k).is_none_or(|f| !f.contains(*reason)))
        .collect();
    let extra: Vec<_> = found
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "planted family rows not quarantined as expected: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "family rows quarantined that were not planted: {extra:?}"
    );
}
