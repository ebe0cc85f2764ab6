//! A register delivered as SPSS by an independent writer (pyreadstat; `fixtures/make_jordan_register.py`), read by
//! dh's own reader and normalised: the governorate takes its value label (`value = "label"`), the text dates follow
//! `date_format = "%d/%m/%Y"`, and the duplicated id is kept as delivered beside its problems for `dh validate` only.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::AsArray;
use dh_config::{CountryConfig, SchemaSet, TableSchema};
use dh_normalise::{PseudonymKey, normalise_country};

const SCHEMA: &str = r#"{
  "name": "register", "title": "Register", "version": "1.0.0", "primaryKey": ["id"],
  "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -4, "label": "not_collected"}],
  "fields": [
    {"name": "id", "type": "string", "description": "Id", "role": "key", "pseudonymise": true,
     "constraints": {"required": true, "unique": true}},
    {"name": "region", "type": "string", "description": "Region", "missingValues": ["dont_know"]},
    {"name": "interview_date", "type": "date", "description": "Interview date", "constraints": {"required": true}}
  ]}"#;

const CONFIG: &str = r#"
[country]
iso3 = "JOR"
name = "Jordan"
region = "MENA"
fieldwork_start = "2022-01-01"
fieldwork_end = "2022-12-31"

[population]
source = "test"
population_12_17 = 1000
internet_share = 0.5
cells = []

[deliveries.register]
file = "jordan_register.sav"
format = "sav"

[deliveries.register.columns]
id = { source = "SBJNUM" }
region = { source = "GOV", value = "label", missing = { "label:No answer" = "dont_know" } }
interview_date = { source = "INT_DATE", date_format = "%d/%m/%Y" }
"#;

#[test]
fn an_spss_register_gives_labels_and_dates_and_keeps_raw_ids_for_validate() {
    let schema: TableSchema = serde_json::from_str(SCHEMA).unwrap();
    let mut schemas = SchemaSet::default();
    schemas.tables.insert(schema.name.clone(), schema);
    let config: CountryConfig = toml::from_str(CONFIG).unwrap();
    let delivery = &config.deliveries["register"];
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jordan_register.sav");
    let raw = dh_ingest::read_delivery(&path, delivery).unwrap();
    let raw = BTreeMap::from([("register".to_string(), raw)]);
    let key = PseudonymKey::from_bytes(b"test-key-test-key-test-key-test-key").unwrap();
    let out = normalise_country(&config, &schemas, &raw, &key).unwrap();
    let t = &out.tables["register"];

    let region: Vec<Option<&str>> = t
        .batch
        .column_by_name("region")
        .unwrap()
        .as_string::<i32>()
        .iter()
        .collect();
    assert_eq!(region, [Some("Irbid"), None, Some("Amman")]);
    let dates: Vec<Option<i32>> = t
        .batch
        .column_by_name("interview_date")
        .unwrap()
        .as_primitive::<arrow::datatypes::Date32Type>()
        .iter()
        .collect();
    // 2022-12-31, 2022-06-15, 2022-03-09 as days since 1970-01-01.
    assert_eq!(dates, [Some(19357), Some(19158), Some(19060)]);

    let q = &t.quarantine;
    let rows = q
        .column_by_name("row_number")
        .unwrap()
        .as_primitive::<arrow::datatypes::UInt64Type>();
    let codes = q.column_by_name("reason_code").unwrap().as_string::<i32>();
    let columns = q.column_by_name("column").unwrap().as_string::<i32>();
    let lines: Vec<(u64, &str, &str, Option<&str>)> = (0..q.num_rows())
        .map(|i| {
            (
                rows.value(i),
                codes.value(i),
                columns.value(i),
                t.raw_ids[i].as_ref().map(|id| id.as_delivered()),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (1, "duplicate_id", "SBJNUM", Some("J-0001")),
            (4, "invalid_value", "INT_DATE", None),
            (5, "unknown_code", "GOV", None),
            (5, "invalid_value", "INT_DATE", None),
            (7, "duplicate_id", "SBJNUM", Some("J-0001")),
        ]
    );
    let reasons = q.column_by_name("reason").unwrap().as_string::<i32>();
    assert!(reasons.value(1).contains("`%d/%m/%Y` (e.g. `31/12/2021`)"));
    assert!(
        reasons.value(2).contains("`region`") && !reasons.value(2).contains("14"),
        "{}",
        reasons.value(2)
    );
    let raw_values = q.column_by_name("raw_value").unwrap().as_string::<i32>();
    assert_eq!(
        raw_values.value(2),
        "14",
        "a short code is kept in raw_value, not in the reason"
    );
    for i in 0..q.num_rows() {
        let raw_value = q.column_by_name("raw_value").unwrap().as_string::<i32>();
        assert!(!raw_value.value(i).contains("J-0001") && !reasons.value(i).contains("J-0001"));
    }
    assert_eq!(t.rows_read, 7);
    assert_eq!((t.rows_written, t.rows_quarantined), (3, 4));
}
