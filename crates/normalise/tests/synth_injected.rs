//! End to end through the library on `dh synth` deliveries for every configured country: every planted bad row (from
//! `injected.json`) is quarantined with the expected reason, no other row is quarantined, the ledger balances, and
//! no identifier value from the raw files appears anywhere in the outputs.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int16Type, UInt64Type};
use dh_ingest::ColumnSelection;
use dh_ingest::readers::reader_for;
use dh_normalise::{PseudonymKey, normalise_country};

fn strings(batch: &RecordBatch) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for column in batch.columns() {
        match column.data_type() {
            DataType::Utf8 => out.extend(
                column
                    .as_string::<i32>()
                    .iter()
                    .flatten()
                    .map(str::to_string),
            ),
            DataType::Dictionary(_, _) => out.extend(
                column
                    .as_dictionary::<Int16Type>()
                    .values()
                    .as_string::<i32>()
                    .iter()
                    .flatten()
                    .map(str::to_string),
            ),
            _ => {}
        }
    }
    out
}

#[test]
fn synthetic_deliveries_quarantine_exactly_the_planted_rows_and_leak_no_identifier() {
    let root = common::repo_root();
    let dir = tempfile::tempdir().unwrap();
    let options = dh_synth::SynthOptions {
        seed: 7,
        scale: 0.3,
        countries: Vec::new(),
    };
    let summary = dh_synth::synth_to_dir(
        &root.join("countries"),
        &root.join("schemas"),
        dir.path(),
        &options,
    )
    .expect("dh synth");
    let injected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary.injected_file).unwrap()).unwrap();
    // (country, table, data_row) -> expected reasons
    let mut expected: BTreeMap<(String, String, u64), BTreeSet<String>> = BTreeMap::new();
    for p in injected["problems"].as_array().unwrap() {
        let country = p["country"].as_str().unwrap().to_string();
        let table = p["table"].as_str().unwrap().to_string();
        let reason = p["expected_reason"].as_str().unwrap().to_string();
        let row = p["data_row"].as_u64().unwrap();
        expected
            .entry((country.clone(), table.clone(), row))
            .or_default()
            .insert(reason.clone());
        if let Some(other) = p["duplicate_of_row"].as_u64() {
            // `duplicate_of_row` is numbered like `row` (header = row 1).
            expected
                .entry((country, table, other - 1))
                .or_default()
                .insert(reason);
        }
    }
    // The other data families' planted rows (dh-synth's `families` module, `injected_families.json`).
    let families_file = dir.path().join(dh_synth::families::INJECTED_FAMILIES_FILE);
    let families: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&families_file).unwrap()).unwrap();
    for p in families["problems"].as_array().unwrap() {
        let text = |k: &str| p[k].as_str().unwrap().to_string();
        expected
            .entry((
                text("country"),
                text("table"),
                p["data_row"].as_u64().unwrap(),
            ))
            .or_default()
            .insert(text("expected_reason"));
    }
    let (schemas, countries) = common::load_all();
    // Every country file, whatever their number (derived from countries/, never a fixed count).
    let configured =
        dh_config::country::list_countries(&common::repo_root().join("countries")).unwrap();
    assert_eq!(countries.len(), configured.len());
    let key = PseudonymKey::from_bytes(b"synth-injected-test-key-0123456789").unwrap();
    let mut found: BTreeMap<(String, String, u64), BTreeSet<String>> = BTreeMap::new();
    // A delivery in several files (`parts`) is read by the pipeline, not by this library-level test.
    let mut in_parts: BTreeSet<(String, String)> = BTreeSet::new();
    for full in &countries {
        let iso3 = &full.country.iso3;
        let mut config = full.clone();
        for (t, d) in &config.deliveries {
            if !d.parts.is_empty() {
                in_parts.insert((iso3.clone(), t.clone()));
            }
        }
        config.deliveries.retain(|_, d| d.parts.is_empty());
        let config = &config;
        let mut raw = BTreeMap::new();
        let mut identifier_values = BTreeSet::new();
        for (table, delivery) in &config.deliveries {
            let path = dir.path().join(iso3).join(&delivery.file);
            let t = dh_ingest::read_delivery(&path, delivery).unwrap_or_else(|e| panic!("{e}"));
            raw.insert(table.clone(), t);
            let ids = ColumnSelection::all(delivery.identifiers.iter().map(String::as_str));
            let id_table = reader_for(delivery.format, &path)
                .unwrap()
                .read(&path, delivery, &ids)
                .unwrap();
            for c in &id_table.columns {
                identifier_values.extend(
                    c.iter()
                        .map(str::trim)
                        .filter(|v| v.len() >= 4)
                        .map(str::to_string),
                );
            }
        }
        assert!(
            !identifier_values.is_empty(),
            "{iso3}: synth wrote no identifiers?"
        );
        let out = normalise_country(config, &schemas, &raw, &key).unwrap_or_else(|e| panic!("{e}"));
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
                .as_primitive::<UInt64Type>();
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
            // Harmonised cells are whole values: an identifier would appear as an equal string.
            for s in strings(&t.batch) {
                assert!(
                    !identifier_values.contains(&s),
                    "{iso3} {}: identifier `{s}` in output",
                    t.table
                );
            }
            // Quarantine texts may embed values: search inside them.
            for s in strings(&t.quarantine) {
                for id in &identifier_values {
                    assert!(
                        !s.contains(id.as_str()),
                        "{iso3} {}: identifier `{id}` in quarantine `{s}`",
                        t.table
                    );
                }
            }
        }
    }
    expected.retain(|(c, t, _), _| !in_parts.contains(&(c.clone(), t.clone())));
    let missing: Vec<_> = expected
        .iter()
        .filter(|(k, v)| found.get(*k).is_none_or(|f| !v.is_subset(f)))
        .collect();
    let extra: Vec<_> = found
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "planted rows not quarantined as expected: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "rows quarantined that were not planted: {:?}",
        &extra[..extra.len().min(20)]
    );
}
