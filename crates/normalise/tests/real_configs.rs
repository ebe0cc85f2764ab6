//! Normalises a valid generated delivery for each of the repository's country configs against the repository's
//! schemas: every config must plan without error, no valid row may be quarantined, and no identifier or raw id
//! may reach an output.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int16Type};
use dh_normalise::{PseudonymKey, normalise_country};

#[test]
fn every_country_config_normalises_a_valid_delivery_without_quarantine() {
    let (schemas, countries) = common::load_all();
    assert!(!countries.is_empty());
    let key = PseudonymKey::from_bytes(b"integration-test-key-integration-test").unwrap();
    for full in &countries {
        // A delivery in several files (`parts`) is read by the pipeline, not by this library-level test.
        let mut config = full.clone();
        config.deliveries.retain(|_, d| d.parts.is_empty());
        let config = &config;
        let dir = tempfile::tempdir().unwrap();
        common::write_deliveries(config, &schemas, dir.path(), 200);
        let mut raw = BTreeMap::new();
        for (table, delivery) in &config.deliveries {
            let t = dh_ingest::read_delivery(&dir.path().join(&delivery.file), delivery)
                .unwrap_or_else(|e| panic!("{}: {e}", config.country.iso3));
            raw.insert(table.clone(), t);
        }
        let out = normalise_country(config, &schemas, &raw, &key)
            .unwrap_or_else(|e| panic!("{}: {e}", config.country.iso3));
        for t in out.tables.values() {
            assert_eq!(t.rows_read, 200);
            // 200 random rows cannot be unique on a key of few-valued columns (CyberTipline counts: year x
            // report type); such tables may only quarantine duplicate keys here (crates/normalise/tests/families.rs
            // covers them with realistic deliveries).
            // Likewise a key of one coded column (the legal review's provision: 11 values).
            let schema = schemas.get(&t.table).unwrap();
            let coded_key = schema
                .primary_key
                .iter()
                .all(|k| schema.field(k).is_some_and(|f| f.categories.is_some()));
            let composite_key = schema.primary_key.len() > 1 || coded_key;
            let reasons = t
                .quarantine
                .column_by_name("reason_code")
                .unwrap()
                .as_string::<i32>();
            let only_duplicate_keys =
                composite_key && reasons.iter().all(|r| r == Some("duplicate_id"));
            if !only_duplicate_keys {
                assert_eq!(
                    t.rows_quarantined, 0,
                    "{} {}: {:?}",
                    config.country.iso3, t.table, t.quarantine
                );
            }
            assert_eq!(
                t.batch.num_columns(),
                schemas.get(&t.table).unwrap().fields.len()
            );
            for column in t.batch.columns() {
                let values: Vec<String> = match column.data_type() {
                    DataType::Utf8 => column
                        .as_string::<i32>()
                        .iter()
                        .flatten()
                        .map(str::to_string)
                        .collect(),
                    DataType::Dictionary(_, _) => column
                        .as_dictionary::<Int16Type>()
                        .values()
                        .as_string::<i32>()
                        .iter()
                        .flatten()
                        .map(str::to_string)
                        .collect(),
                    _ => vec![],
                };
                for v in values {
                    assert!(
                        !v.contains("IDENT-") && !v.contains("RAW0"),
                        "{}: leaked {v}",
                        config.country.iso3
                    );
                }
            }
        }
    }
}
