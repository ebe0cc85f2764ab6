//! Tests of whole-table normalisation on small schemas and configs built here (independent of `schemas/` and
//! `countries/`, which other work may change).

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int16Type};
use dh_config::{CountryConfig, SchemaSet, TableSchema};
use dh_ingest::RawTable;

use super::*;

const KEY: &[u8] = b"test-key-test-key-test-key-test-key";

const CHILD_SCHEMA: &str = r#"{
  "name": "child_survey", "title": "Child", "version": "9.9.9", "primaryKey": ["respondent_id"],
  "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -2, "label": "refused"},
                    {"value": -3, "label": "not_applicable"}, {"value": -4, "label": "not_collected"}],
  "fields": [
    {"name": "respondent_id", "type": "string", "description": "Respondent", "role": "key", "pseudonymise": true,
     "constraints": {"required": true, "unique": true}},
    {"name": "household_id", "type": "string", "description": "Household", "role": "key", "pseudonymise": true,
     "constraints": {"required": true, "unique": true}},
    {"name": "psu", "type": "string", "description": "PSU", "role": "design", "constraints": {"required": true}},
    {"name": "base_weight", "type": "number", "description": "Weight", "role": "design",
     "constraints": {"required": true, "minimum": 0}},
    {"name": "sex", "type": "string", "description": "Sex", "role": "demographic",
     "categories": [{"value": 1, "label": "male"}, {"value": 2, "label": "female"}], "constraints": {"required": true}},
    {"name": "age", "type": "integer", "description": "Age in years", "role": "demographic",
     "constraints": {"required": true, "minimum": 12, "maximum": 17}},
    {"name": "age_band", "type": "string", "description": "Age band", "role": "derived", "derivedFrom": "age", "ordered": true,
     "categories": [{"value": 1, "label": "12-13", "range": [12, 13]}, {"value": 2, "label": "14-15", "range": [14, 15]},
                    {"value": 3, "label": "16-17", "range": [16, 17]}]},
    {"name": "q1", "type": "string", "description": "Offered money", "missingValues": ["dont_know", "refused", "not_applicable"],
     "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}]},
    {"name": "q2", "type": "string", "description": "Not asked here", "missingValues": ["dont_know"],
     "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}]},
    {"name": "hours", "type": "integer", "description": "Hours online", "missingValues": ["dont_know"],
     "constraints": {"minimum": 0, "maximum": 24}}
  ]}"#;

const CAREGIVER_SCHEMA: &str = r#"{
  "name": "caregiver_survey", "title": "Caregiver", "version": "9.9.9", "primaryKey": ["caregiver_id"],
  "foreignKeys": [{"fields": ["household_id"], "reference": {"resource": "child_survey", "fields": ["household_id"]}}],
  "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -4, "label": "not_collected"}],
  "fields": [
    {"name": "caregiver_id", "type": "string", "description": "Caregiver", "role": "key", "pseudonymise": true,
     "constraints": {"required": true, "unique": true}},
    {"name": "household_id", "type": "string", "description": "Household", "role": "key", "pseudonymise": true,
     "constraints": {"required": true}}
  ]}"#;

const CONFIG: &str = r#"
[country]
iso3 = "TST"
name = "Testland"
region = "Nowhere"
fieldwork_start = "2021-01-01"
fieldwork_end = "2021-02-01"

[population]
source = "test"
population_12_17 = 1000
internet_share = 0.5
cells = []

[deliveries.child_survey]
file = "child.csv"
identifiers = ["NAME", "PHONE"]

[deliveries.child_survey.columns]
respondent_id = { source = "ID" }
household_id = { source = "HH" }
psu = { source = "EA" }
base_weight = { source = "WT" }
sex = { source = "SEX", codes = { "1" = "male", "2" = "female" } }
age = { source = "AGE" }
q1 = { source = "Q1", codes = { "1" = "yes", "2" = "no" }, missing = { "8" = "dont_know", "9" = "refused", "" = "not_applicable" } }
q2 = { not_collected = true }
hours = { source = "HRS", missing = { "98" = "dont_know" } }

[deliveries.caregiver_survey]
file = "caregiver.csv"

[deliveries.caregiver_survey.columns]
caregiver_id = { source = "CG" }
household_id = { source = "HH" }
"#;

const CHILD_HEADER: [&str; 8] = ["ID", "HH", "EA", "WT", "SEX", "AGE", "Q1", "HRS"];

fn schemas() -> SchemaSet {
    let mut set = SchemaSet::default();
    for text in [CHILD_SCHEMA, CAREGIVER_SCHEMA] {
        let t: TableSchema = serde_json::from_str(text).unwrap();
        set.tables.insert(t.name.clone(), t);
    }
    set
}

fn config() -> CountryConfig {
    toml::from_str(CONFIG).unwrap()
}

fn key() -> PseudonymKey {
    PseudonymKey::from_bytes(KEY).unwrap()
}

fn table(file: &str, header: &[&str], rows: &[&[&str]]) -> RawTable {
    let rows: Vec<Vec<&str>> = rows.iter().map(|r| r.to_vec()).collect();
    RawTable::from_rows(Path::new(file), header, &rows).unwrap()
}

fn good_child_rows() -> Vec<&'static [&'static str]> {
    vec![
        &["C1", "H1", "EA1", "1.5", "1", "12", "1", "3"],
        &["C2", "H2", "EA1", "2.0", "2", "15", "2", "98"],
        &["C3", "H3", "EA2", "0.5", "2", "17", "", "0"],
        &["C4", "H4", "EA2", "1", "1", "14.0", "9", ""],
    ]
}

fn run(child: RawTable, caregiver: RawTable) -> CountryOutput {
    let raw = BTreeMap::from([
        ("child_survey".to_string(), child),
        ("caregiver_survey".to_string(), caregiver),
    ]);
    normalise_country(&config(), &schemas(), &raw, &key()).unwrap()
}

fn good_caregivers() -> RawTable {
    table(
        "caregiver.csv",
        &["CG", "HH"],
        &[&["G1", "H1"], &["G2", "H2"], &["G3", "H3"], &["G4", "H4"]],
    )
}

fn labels(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = batch.column_by_name(column).unwrap();
    let dict = array.as_dictionary::<Int16Type>();
    let values = dict.values().as_string::<i32>();
    dict.keys()
        .iter()
        .map(|k| k.map(|k| values.value(k as usize).to_string()))
        .collect()
}

fn dictionary_values(batch: &RecordBatch, column: &str) -> Vec<String> {
    let dict = batch
        .column_by_name(column)
        .unwrap()
        .as_dictionary::<Int16Type>();
    dict.values()
        .as_string::<i32>()
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect()
}

fn reasons(out: &TableOutput) -> Vec<(u64, String, Option<String>, Option<String>)> {
    let q = &out.quarantine;
    let rows = q
        .column_by_name("row_number")
        .unwrap()
        .as_primitive::<arrow::datatypes::UInt64Type>();
    let codes = q.column_by_name("reason_code").unwrap().as_string::<i32>();
    let cols = q.column_by_name("column").unwrap().as_string::<i32>();
    let raw = q.column_by_name("raw_value").unwrap().as_string::<i32>();
    (0..q.num_rows())
        .map(|i| {
            let opt =
                |a: &arrow::array::StringArray| (!a.is_null(i)).then(|| a.value(i).to_string());
            (
                rows.value(i),
                codes.value(i).to_string(),
                opt(cols),
                opt(raw),
            )
        })
        .collect()
}

fn assert_ledger(out: &CountryOutput) {
    for t in out.tables.values() {
        assert_eq!(
            t.rows_read,
            t.rows_written + t.rows_quarantined,
            "ledger of {}",
            t.table
        );
        assert_eq!(t.batch.num_rows() as u64, t.rows_written);
        let distinct: std::collections::BTreeSet<u64> = reasons(t).iter().map(|r| r.0).collect();
        assert_eq!(distinct.len() as u64, t.rows_quarantined);
    }
}

#[test]
fn clean_delivery_maps_codes_missing_labels_and_derives_age_band() {
    let out = run(
        table("child.csv", &CHILD_HEADER, &good_child_rows()),
        good_caregivers(),
    );
    assert_ledger(&out);
    let child = &out.tables["child_survey"];
    assert_eq!(child.rows_quarantined, 0, "{:?}", reasons(child));
    let b = &child.batch;
    let schema = b.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "respondent_id",
            "household_id",
            "psu",
            "base_weight",
            "sex",
            "age",
            "age_band",
            "q1",
            "q2",
            "hours"
        ]
    );
    let some = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
    assert_eq!(
        labels(b, "sex"),
        some(&["male", "female", "female", "male"])
    );
    assert_eq!(
        labels(b, "age_band"),
        some(&["12-13", "14-15", "16-17", "14-15"])
    );
    assert_eq!(
        labels(b, "q1"),
        some(&["yes", "no", "not_applicable", "refused"])
    );
    assert_eq!(labels(b, "q2"), some(&["not_collected"; 4]));
    assert_eq!(
        dictionary_values(b, "q1"),
        [
            "yes",
            "no",
            "dont_know",
            "refused",
            "not_applicable",
            "not_collected"
        ]
    );
    assert_eq!(
        b.column_by_name("sex").unwrap().data_type(),
        &DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8))
    );
    let age = b
        .column_by_name("age")
        .unwrap()
        .as_primitive::<arrow::datatypes::Int64Type>();
    assert_eq!(age.values().to_vec(), vec![12, 15, 17, 14]);
    let hours = b
        .column_by_name("hours")
        .unwrap()
        .as_primitive::<arrow::datatypes::Int64Type>();
    assert_eq!(
        hours.iter().collect::<Vec<_>>(),
        vec![Some(3), None, Some(0), None]
    );
    let weight = b
        .column_by_name("base_weight")
        .unwrap()
        .as_primitive::<arrow::datatypes::Float64Type>();
    assert_eq!(weight.values().to_vec(), vec![1.5, 2.0, 0.5, 1.0]);
    let ids = b
        .column_by_name("respondent_id")
        .unwrap()
        .as_string::<i32>();
    assert_eq!(ids.value(0), key().pseudonym("TST", "respondent_id", "C1"));
    let schema = b.schema();
    assert_eq!(schema.metadata()[META_SCHEMA_VERSION], "9.9.9");
    assert_eq!(schema.metadata()[META_COUNTRY], "TST");
    assert_eq!(
        schema.field_with_name("age").unwrap().metadata()["description"],
        "Age in years"
    );
    assert_eq!(
        schema.field_with_name("q2").unwrap().metadata()["not_collected"],
        "true"
    );
}

/// Every categorical column's dictionary is the codebook (categories, then missing labels), whatever order the
/// rows show the values in and whichever values they hold; ordinal fields are ordered dictionaries; field
/// metadata names the allowed missing codes and the schema version.
#[test]
fn dictionaries_follow_the_codebook_and_fields_describe_themselves() {
    let rows: Vec<&[&str]> = vec![
        &["C1", "H1", "EA1", "1.5", "2", "15", "2", "3"],
        &["C2", "H2", "EA1", "2.0", "2", "16", "9", "98"],
        &["C3", "H3", "EA2", "0.5", "1", "14", "2", "0"],
    ];
    let caregivers = table(
        "caregiver.csv",
        &["CG", "HH"],
        &[&["G1", "H1"], &["G2", "H2"], &["G3", "H3"]],
    );
    let out = run(table("child.csv", &CHILD_HEADER, &rows), caregivers);
    let child = &out.tables["child_survey"];
    assert_eq!(child.rows_quarantined, 0, "{:?}", reasons(child));
    let b = &child.batch;
    let set = schemas();
    let schema = set.get("child_survey").unwrap();
    for field in schema.fields.iter().filter(|f| f.is_categorical()) {
        let expected = field.dictionary_labels(&schema.missing_values).unwrap();
        assert_eq!(
            dictionary_values(b, &field.name),
            expected,
            "{}",
            field.name
        );
    }
    assert_eq!(
        dictionary_values(b, "age_band")[..3],
        ["12-13", "14-15", "16-17"]
    );
    let arrow_schema = b.schema();
    let field = |name: &str| arrow_schema.field_with_name(name).unwrap().clone();
    assert_eq!(field("age_band").dict_is_ordered(), Some(true));
    assert_eq!(field("sex").dict_is_ordered(), Some(false));
    assert_eq!(field("age").dict_is_ordered(), None);
    assert_eq!(
        field("q1").metadata()["missing_codes"],
        "-1=dont_know, -2=refused, -3=not_applicable, -4=not_collected"
    );
    assert_eq!(
        field("hours").metadata()["missing_codes"],
        "-1=dont_know, -4=not_collected"
    );
    assert!(!field("sex").metadata().contains_key("missing_codes"));
    for f in arrow_schema.fields() {
        assert_eq!(f.metadata()["schema_version"], "9.9.9", "{}", f.name());
    }
    assert_eq!(field("sex").metadata()["codes"], "1=male, 2=female");
}

#[test]
fn household_pseudonyms_link_child_and_caregiver_tables() {
    let out = run(
        table("child.csv", &CHILD_HEADER, &good_child_rows()),
        good_caregivers(),
    );
    let child = out.tables["child_survey"]
        .batch
        .column_by_name("household_id")
        .unwrap()
        .as_string::<i32>()
        .clone();
    let cg = out.tables["caregiver_survey"]
        .batch
        .column_by_name("household_id")
        .unwrap()
        .as_string::<i32>()
        .clone();
    assert_eq!(child, cg);
    assert_eq!(out.tables["caregiver_survey"].rows_quarantined, 0);
}

#[test]
fn each_kind_of_bad_row_is_quarantined_with_its_reason() {
    let mut rows = good_child_rows();
    rows.extend_from_slice(&[
        &["C5", "H5", "EA1", "1", "3", "13", "1", "1"], // unknown sex code
        &["C6", "H6", "EA1", "1", "1", "19", "1", "1"], // age outside 12-17
        &["C7", "H7", "", "1", "1", "13", "1", "1"],    // missing PSU
        &["C8", "H8", "EA1", "1", "1", "thirteen", "1", "1"], // not an integer
        &["C1", "H9", "EA1", "1", "1", "13", "1", "1"], // duplicate respondent id (with row 1)
        &["C10", "H10", "EA1", "1", "1"],               // ragged
        &["C11", "H11", "EA1", "1", "1", "13", "7", "1"], // unknown item code
        &["C12", "H12", "EA1", "-2", "2", "13", "1", "1"], // negative weight
        &["C13", "H13", "EA1", "1", "", "13", "1", "1"], // missing sex (required)
    ]);
    let caregivers = table(
        "caregiver.csv",
        &["CG", "HH"],
        &[&["G1", "H1"], &["G2", "H404"], &["G3", "H3"]],
    );
    let out = run(table("child.csv", &CHILD_HEADER, &rows), caregivers);
    assert_ledger(&out);
    let child = &out.tables["child_survey"];
    let got: Vec<(u64, String, Option<String>)> = reasons(child)
        .into_iter()
        .map(|(r, c, col, _)| (r, c, col))
        .collect();
    let s = |c: &str| Some(c.to_string());
    assert_eq!(
        got,
        vec![
            (1, "duplicate_id".into(), s("ID")),
            (5, "unknown_code".into(), s("SEX")),
            (6, "out_of_range".into(), s("AGE")),
            (7, "required_missing".into(), s("EA")),
            (8, "invalid_value".into(), s("AGE")),
            (9, "duplicate_id".into(), s("ID")),
            (10, "ragged_row".into(), None),
            (11, "unknown_code".into(), s("Q1")),
            (12, "out_of_range".into(), s("WT")),
            (13, "required_missing".into(), s("SEX")),
        ]
    );
    assert_eq!(child.rows_read, 13);
    assert_eq!(child.rows_written, 3);
    assert_eq!(child.rows_quarantined, 10);
    let raw_values: Vec<Option<String>> = reasons(child).into_iter().map(|r| r.3).collect();
    assert_eq!(raw_values[1], s("3"));
    assert_eq!(raw_values[2], s("19"));
    // The duplicate id is shown as its pseudonym, never as the raw id.
    assert_eq!(
        raw_values[0],
        Some(key().pseudonym("TST", "respondent_id", "C1"))
    );
    let cg = &out.tables["caregiver_survey"];
    assert_eq!(
        reasons(cg)
            .iter()
            .map(|r| (r.0, r.1.as_str()))
            .collect::<Vec<_>>(),
        vec![(2, "missing_link")]
    );
    assert_eq!(cg.problems_by_reason[&ReasonCode::MissingLink], 1);
}

/// Free text in a code or name column (notes mapped onto the PSU by mistake) is quarantined, and neither it nor
/// the fragment of free text in a coded column reaches the quarantine table.
#[test]
fn free_text_never_reaches_an_output() {
    const NOTE: &str =
        "interviewer note: the respondent asked to finish the interview at home after school hours";
    const LONG_CODE: &str =
        "answer written out in words by the respondent instead of a code from the list";
    let mut rows = good_child_rows();
    rows.extend_from_slice(&[
        &["C5", "H5", NOTE, "1", "1", "13", "1", "1"],
        &["C6", "H6", "EA1", "1", "1", "13", LONG_CODE, "1"],
        &[
            "C7",
            "H7",
            "Southern Nations, Nationalities, and Peoples' Region",
            "1",
            "2",
            "13",
            "1",
            "1",
        ],
    ]);
    let out = run(table("child.csv", &CHILD_HEADER, &rows), good_caregivers());
    assert_ledger(&out);
    let child = &out.tables["child_survey"];
    let got = reasons(child);
    assert_eq!(
        got.iter()
            .map(|(r, c, col, _)| (*r, c.as_str(), col.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            (5, "free_text", Some("EA")),
            (6, "unknown_code", Some("Q1"))
        ]
    );
    let shown = |i: usize| got[i].3.clone().unwrap_or_default();
    assert!(
        shown(0).starts_with("[withheld: len 89: letters, spaces, punctuation; hmac "),
        "{}",
        shown(0)
    );
    assert!(
        shown(1).starts_with("[withheld: len 77: letters, spaces; hmac "),
        "{}",
        shown(1)
    );
    // A long but legitimate name (6 words, 53 characters) is kept.
    assert_eq!(child.rows_written, 5);
    let mut text = all_text(&child.batch);
    text.extend(all_text(&child.quarantine));
    for t in text {
        assert!(!t.contains("interviewer") && !t.contains("in words"), "{t}");
    }
}

/// A required text column whose cell holds a permitted missing code is named as holding that code, not as empty.
#[test]
fn required_text_with_a_missing_code_names_the_code() {
    let mut set = schemas();
    let child = set.tables.get_mut("child_survey").unwrap();
    let psu = child.fields.iter_mut().find(|f| f.name == "psu").unwrap();
    psu.missing_values.push("dont_know".into());
    let mut c = config();
    let psu_map = c
        .deliveries
        .get_mut("child_survey")
        .unwrap()
        .columns
        .get_mut("psu")
        .unwrap();
    psu_map.missing.insert("99".into(), "dont_know".into());
    let mut rows = good_child_rows();
    rows.push(&["C5", "H5", "99", "1", "1", "13", "1", "1"]);
    let raw = BTreeMap::from([
        (
            "child_survey".to_string(),
            table("child.csv", &CHILD_HEADER, &rows),
        ),
        ("caregiver_survey".to_string(), good_caregivers()),
    ]);
    let out = normalise_country(&c, &set, &raw, &key()).unwrap();
    assert_ledger(&out);
    let child = &out.tables["child_survey"];
    let got = reasons(child);
    assert_eq!(
        got.iter()
            .map(|(r, c, col, v)| (*r, c.as_str(), col.as_deref(), v.as_deref()))
            .collect::<Vec<_>>(),
        vec![(5, "required_missing", Some("EA"), Some("99"))]
    );
    let reason = child
        .quarantine
        .column_by_name("reason")
        .unwrap()
        .as_string::<i32>()
        .value(0);
    assert!(
        reason.contains("holds a missing code") && !reason.contains("99"),
        "{reason}"
    );
}

#[test]
fn a_row_with_several_problems_is_one_quarantined_row() {
    let rows: Vec<&[&str]> = vec![&["C1", "H1", "", "x", "5", "30", "7", "99"]];
    let out = run(
        table("child.csv", &CHILD_HEADER, &rows),
        table("caregiver.csv", &["CG", "HH"], &[&["G1", "H1"]]),
    );
    let child = &out.tables["child_survey"];
    assert_eq!(child.rows_quarantined, 1);
    assert_eq!(child.rows_written, 0);
    assert_eq!(child.quarantine.num_rows(), 6, "{:?}", reasons(child));
    assert_ledger(&out);
}

#[test]
fn a_delivery_without_rows_is_an_error_naming_table_and_country() {
    let raw = BTreeMap::from([
        (
            "child_survey".to_string(),
            table("child.csv", &CHILD_HEADER, &[]),
        ),
        ("caregiver_survey".to_string(), good_caregivers()),
    ]);
    let err = normalise_country(&config(), &schemas(), &raw, &key())
        .err()
        .unwrap_or_else(|| panic!("a header-only delivery was accepted"));
    assert!(matches!(err, NormaliseError::NoRows { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("table `child_survey` of country TST has no rows"),
        "{message}"
    );
    assert!(message.contains("child.csv"), "{message}");
}

#[test]
fn every_row_quarantined_gives_an_empty_batch_without_panicking() {
    // Both rows have a child id that is missing: every row goes to quarantine and the batch has no rows.
    let out = run(
        table(
            "child.csv",
            &CHILD_HEADER,
            &[
                &["", "H1", "EA1", "1.5", "1", "12", "1", "3"],
                &["", "H2", "EA1", "2.0", "2", "15", "2", "98"],
            ],
        ),
        table("caregiver.csv", &["CG", "HH"], &[&["G1", "H1"]]),
    );
    assert_ledger(&out);
    assert_eq!(out.tables["child_survey"].batch.num_columns(), 10);
    assert_eq!(out.tables["child_survey"].batch.num_rows(), 0);
    assert_eq!(out.tables["child_survey"].rows_quarantined, 2);
}

#[test]
fn outputs_are_deterministic() {
    let mut rows = good_child_rows();
    rows.push(&["C1", "H9", "EA1", "1", "3", "19", "7", "1"]);
    let a = run(table("child.csv", &CHILD_HEADER, &rows), good_caregivers());
    let b = run(table("child.csv", &CHILD_HEADER, &rows), good_caregivers());
    for (t, out) in &a.tables {
        assert_eq!(out.batch, b.tables[t].batch);
        assert_eq!(out.quarantine, b.tables[t].quarantine);
        assert_eq!(
            out.batch.schema().metadata(),
            b.tables[t].batch.schema().metadata()
        );
    }
}

#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    let mut rows = good_child_rows();
    rows.extend_from_slice(&[
        &["C1", "H9", "EA1", "1", "3", "19", "7", "1"],
        &["C9", "H10", "", "x", "1", "13", "1", "99"],
    ]);
    let in_pool = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run(table("child.csv", &CHILD_HEADER, &rows), good_caregivers()))
    };
    let one = in_pool(1);
    let four = in_pool(4);
    for (t, out) in &one.tables {
        assert_eq!(out.batch, four.tables[t].batch);
        assert_eq!(out.quarantine, four.tables[t].quarantine);
    }
}

#[test]
fn configuration_gaps_are_typed_errors() {
    let raw = || {
        BTreeMap::from([
            (
                "child_survey".to_string(),
                table("child.csv", &CHILD_HEADER, &good_child_rows()),
            ),
            ("caregiver_survey".to_string(), good_caregivers()),
        ])
    };
    let mut c = config();
    c.deliveries
        .get_mut("child_survey")
        .unwrap()
        .columns
        .remove("psu");
    let err = normalise_country(&c, &schemas(), &raw(), &key()).unwrap_err();
    assert!(
        matches!(err, NormaliseError::MissingMapping { ref column, .. } if column == "psu"),
        "{err}"
    );

    let mut c = config();
    let sex = c
        .deliveries
        .get_mut("child_survey")
        .unwrap()
        .columns
        .get_mut("sex")
        .unwrap();
    sex.codes.insert("3".into(), "other".into());
    let err = normalise_country(&c, &schemas(), &raw(), &key()).unwrap_err();
    assert!(err.to_string().contains("`other`"), "{err}");

    let mut c = config();
    let q1 = c
        .deliveries
        .get_mut("child_survey")
        .unwrap()
        .columns
        .get_mut("q1")
        .unwrap();
    q1.missing.insert("7".into(), "maybe".into());
    assert!(matches!(
        normalise_country(&c, &schemas(), &raw(), &key()),
        Err(NormaliseError::BadMapping { .. })
    ));

    let mut c = config();
    let child = c.deliveries.get_mut("child_survey").unwrap();
    child.identifiers.push("EA".into());
    let err = normalise_country(&c, &schemas(), &raw(), &key()).unwrap_err();
    assert!(err.to_string().contains("declared an identifier"), "{err}");

    let mut c = config();
    let extra = dh_config::ColumnMap {
        source: Some("X".into()),
        ..Default::default()
    };
    c.deliveries
        .get_mut("child_survey")
        .unwrap()
        .columns
        .insert("nonsense".into(), extra);
    assert!(matches!(
        normalise_country(&c, &schemas(), &raw(), &key()),
        Err(NormaliseError::UnknownColumn { .. })
    ));

    let mut r = raw();
    r.insert(
        "child_survey".into(),
        table("child.csv", &["ID"], &[&["C1"]]),
    );
    let err = normalise_country(&config(), &schemas(), &r, &key()).unwrap_err();
    assert!(
        matches!(err, NormaliseError::MissingSourceColumn { .. }),
        "{err}"
    );

    let mut r = raw();
    r.remove("child_survey");
    let err = normalise_country(&config(), &schemas(), &r, &key()).unwrap_err();
    assert!(
        matches!(err, NormaliseError::MissingRawTable { .. }),
        "{err}"
    );
}

/// Reads a CSV delivery with identifier columns and a row whose unquoted comma shifts an identifier into a mapped
/// column; no identifier value and no raw id may appear anywhere in the outputs.
#[test]
fn no_identifier_or_raw_id_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let child_csv = "ID,NAME,PHONE,HH,EA,WT,SEX,AGE,Q1,HRS\n\
        RID-0001,Ann Zebedee,+66 81 555 0101,HID-0001,EA1,1,1,13,1,2\n\
        RID-0002,Bo Quixote,+66 81 555 0102,HID-0002,EA1,1,2,14,2,2\n\
        RID-0003,Cy Xylo, Jr,+66 81 555 0103,HID-0003,EA1,1,1,15,1,2\n\
        RID-0001,Di Yarrow,+66 81 555 0104,HID-0004,EA1,1,2,16,1,2\n";
    std::fs::write(dir.path().join("child.csv"), child_csv).unwrap();
    std::fs::write(
        dir.path().join("caregiver.csv"),
        "CG,HH\nCID-1,HID-0001\nCID-2,HID-0999\n",
    )
    .unwrap();
    let c = config();
    let mut raw = BTreeMap::new();
    for (t, d) in &c.deliveries {
        raw.insert(
            t.clone(),
            dh_ingest::read_delivery(&dir.path().join(&d.file), d).unwrap(),
        );
    }
    let out = normalise_country(&c, &schemas(), &raw, &key()).unwrap();
    assert_ledger(&out);
    let forbidden = [
        "Zebedee", "Quixote", "Xylo", "Jr", "Yarrow", "555", "RID-", "HID-", "CID-",
    ];
    for t in out.tables.values() {
        for batch in [&t.batch, &t.quarantine] {
            for text in all_text(batch) {
                for f in forbidden {
                    assert!(!text.contains(f), "`{f}` leaked into {}: {text}", t.table);
                }
            }
        }
    }
    let child = &out.tables["child_survey"];
    assert_eq!(child.rows_quarantined, 3, "{:?}", reasons(child));
}

/// Every string in a batch: values, dictionary values, metadata.
fn all_text(batch: &RecordBatch) -> Vec<String> {
    let mut out: Vec<String> = batch.schema().metadata().values().cloned().collect();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        out.extend(field.metadata().values().cloned());
        let strings = match column.data_type() {
            DataType::Utf8 => Some(column.as_string::<i32>().clone()),
            DataType::Dictionary(_, _) => Some(
                column
                    .as_dictionary::<Int16Type>()
                    .values()
                    .as_string::<i32>()
                    .clone(),
            ),
            _ => None,
        };
        if let Some(s) = strings {
            out.extend(s.iter().flatten().map(str::to_string));
        }
    }
    out
}

/// Fuzz-style: random cells (codes, numbers, blanks, junk, ragged lengths) never panic and always balance.
#[test]
fn random_cells_never_panic_and_always_balance() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let pool = [
        "", "1", "2", "3", "8", "9", "98", "12", "17", "18", "-1", "1.5", "x", " 2 ", "NaN", "1e9",
        "é", "C1",
    ];
    for _ in 0..60 {
        // At least one row per table: a table without rows is an error (see
        // `a_delivery_without_rows_is_an_error_naming_table_and_country`).
        let n = rng.random_range(1..40);
        let rows: Vec<Vec<String>> = (0..n)
            .map(|_| {
                let len = if rng.random_bool(0.1) {
                    rng.random_range(0..10)
                } else {
                    CHILD_HEADER.len()
                };
                (0..len)
                    .map(|_| pool[rng.random_range(0..pool.len())].to_string())
                    .collect()
            })
            .collect();
        let child = RawTable::from_rows(Path::new("child.csv"), &CHILD_HEADER, &rows).unwrap();
        let cg_rows: Vec<Vec<String>> = (0..rng.random_range(1..10))
            .map(|_| vec![pool[rng.random_range(0..pool.len())].to_string(); 2])
            .collect();
        let cg = RawTable::from_rows(Path::new("caregiver.csv"), &["CG", "HH"], &cg_rows).unwrap();
        let raw = BTreeMap::from([
            ("child_survey".to_string(), child),
            ("caregiver_survey".to_string(), cg),
        ]);
        // Random PSU codes from a small pool may be near-unique per row: a content-check error is an answer too.
        match normalise_country(&config(), &schemas(), &raw, &key()) {
            Ok(out) => assert_ledger(&out),
            Err(NormaliseError::ContentCheck { findings, .. }) => {
                assert!(findings.contains("near_unique"), "{findings}")
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Mapping by value label (`label:Yes` keys) and declared user-missing codes, as SPSS/Stata deliveries carry them.
mod value_labels {
    use super::*;
    use dh_ingest::ColumnLabels;

    fn labelled_child(rows: &[&[&str]]) -> RawTable {
        let mut t = table("child.sav", &CHILD_HEADER, rows);
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(c, l)| (c.to_string(), l.to_string()))
                .collect()
        };
        for column in &mut t.columns {
            match column.name.as_str() {
                "Q1" => {
                    column.labels = ColumnLabels {
                        value_labels: pairs(&[
                            ("1", "Yes"),
                            ("2", "No"),
                            ("7", "Other"),
                            ("8", "Don't know"),
                            ("9", "Refused"),
                        ]),
                        missing_codes: vec!["7".into(), "8".into(), "9".into()],
                        missing_ranges: vec![],
                        variable_label: None,
                    }
                }
                "HRS" => {
                    column.labels = ColumnLabels {
                        missing_ranges: vec![(97.0, 99.0)],
                        ..Default::default()
                    }
                }
                _ => {}
            }
        }
        t
    }

    fn config_by_label() -> CountryConfig {
        let text = CONFIG.replace(
            r#"q1 = { source = "Q1", codes = { "1" = "yes", "2" = "no" }, missing = { "8" = "dont_know", "9" = "refused", "" = "not_applicable" } }"#,
            r#"q1 = { source = "Q1", codes = { "label:Yes" = "yes", "label:No" = "no" }, missing = { "label:Don't know" = "dont_know", "9" = "refused", "" = "not_applicable" } }"#,
        );
        assert_ne!(
            text, CONFIG,
            "the test config line changed; update this test"
        );
        toml::from_str(&text).unwrap()
    }

    fn run_labelled(child: RawTable) -> Result<CountryOutput, NormaliseError> {
        let raw = BTreeMap::from([
            ("child_survey".to_string(), child),
            ("caregiver_survey".to_string(), good_caregivers()),
        ]);
        normalise_country(&config_by_label(), &schemas(), &raw, &key())
    }

    #[test]
    fn codes_map_by_value_label_and_unmapped_user_missing_is_quarantined_with_its_label() {
        let child = labelled_child(&[
            &["C1", "H1", "EA1", "1.5", "1", "12", "1", "3"],
            &["C2", "H2", "EA1", "2.0", "2", "15", "2", "98"],
            &["C3", "H3", "EA2", "0.5", "2", "17", "8", "0"],
            &["C4", "H4", "EA2", "1", "1", "14", "7", "1"],
            &["C5", "H5", "EA2", "1", "1", "14", "1", "97"],
        ]);
        let out = run_labelled(child).unwrap();
        let t = &out.tables["child_survey"];
        assert_eq!(
            labels(&t.batch, "q1"),
            [
                Some("yes".into()),
                Some("no".into()),
                Some("dont_know".into())
            ]
        );
        let r = reasons(t);
        assert_eq!(
            r,
            [
                (
                    4,
                    "unknown_code".into(),
                    Some("Q1".into()),
                    Some("7".into())
                ),
                (
                    5,
                    "unknown_code".into(),
                    Some("HRS".into()),
                    Some("97".into())
                ),
            ]
        );
        let reason = t
            .quarantine
            .column_by_name("reason")
            .unwrap()
            .as_string::<i32>()
            .value(0)
            .to_string();
        // The value label is delivered text: named neither in the reason nor elsewhere.
        assert!(
            reason.contains("declared missing")
                && !reason.contains("Other")
                && !reason.contains("97"),
            "{reason}"
        );
        assert_ledger(&out);
    }

    #[test]
    fn a_label_the_file_does_not_have_is_a_mapping_error() {
        let child = labelled_child(&[&["C1", "H1", "EA1", "1.5", "1", "12", "1", "3"]]);
        let mut child_no_labels = child.clone();
        for c in &mut child_no_labels.columns {
            c.labels = ColumnLabels::default();
        }
        let err = run_labelled(child_no_labels).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`label:") && text.contains("`Q1`") && text.contains("none"),
            "{text}"
        );
    }
}

mod batches;
mod delivered;
mod max_length;
mod parts;

/// Content checks: a design column holding names, or a weight column holding phone numbers, fails the table with
/// an error that names file, column and check but no value.
mod content_checks {
    use super::*;

    fn child_rows(psu: impl Fn(usize) -> String, weight: impl Fn(usize) -> String) -> RawTable {
        let rows: Vec<Vec<String>> = (0..30)
            .map(|i| {
                vec![
                    format!("C{i}"),
                    format!("H{i}"),
                    psu(i),
                    weight(i),
                    "1".into(),
                    "13".into(),
                    "1".into(),
                    "1".into(),
                ]
            })
            .collect();
        RawTable::from_rows(Path::new("child.csv"), &CHILD_HEADER, &rows).unwrap()
    }

    fn error_of(child: RawTable, schemas: &SchemaSet) -> String {
        let raw = BTreeMap::from([
            ("child_survey".to_string(), child),
            ("caregiver_survey".to_string(), good_caregivers()),
        ]);
        match normalise_country(&config(), schemas, &raw, &key()) {
            Err(e @ NormaliseError::ContentCheck { .. }) => e.to_string(),
            Err(e) => panic!("another error: {e}"),
            Ok(_) => panic!("content checks passed"),
        }
    }

    fn name(i: usize) -> String {
        format!("Somchai Jai{}", "dee".repeat(i + 1))
    }

    #[test]
    fn names_in_a_design_column_fail_the_table_without_showing_them() {
        let message = error_of(child_rows(name, |_| "1.5".into()), &schemas());
        assert!(message.contains("child.csv"), "{message}");
        assert!(
            message.contains("column `psu` (source `EA`) fails content check `near_unique`"),
            "{message}"
        );
        assert!(message.contains("`personal_name`"), "{message}");
        assert!(!message.contains("Somchai"), "{message}");
    }

    #[test]
    fn phone_numbers_in_the_weight_column_fail_the_table() {
        let phone = |i: usize| format!("08{:08}", 99990001 + i);
        let message = error_of(child_rows(|i| format!("EA{}", i % 3), phone), &schemas());
        assert!(
            message.contains("column `base_weight` (source `WT`) fails content check `phone`"),
            "{message}"
        );
        assert!(!message.contains("0899990001"), "{message}");
        // One phone number among real weights: the weight check (with the schema asking for it) trips as well.
        let mut set = schemas();
        let weight = set
            .tables
            .get_mut("child_survey")
            .and_then(|t| t.fields.iter_mut().find(|f| f.name == "base_weight"))
            .unwrap();
        weight
            .content_checks
            .push(dh_config::schema::ContentCheck::BaseWeight);
        weight
            .skip_content_checks
            .push(dh_config::schema::ContentCheck::Phone);
        let one = |i: usize| {
            if i == 7 {
                "0899990001".to_string()
            } else {
                format!("{}.5", 50 + i % 4)
            }
        };
        let message = error_of(child_rows(|i| format!("EA{}", i % 3), one), &set);
        assert!(
            message.contains(
                "fails content check `base_weight`: the largest base weight is more than 100 times"
            ),
            "{message}"
        );
        assert!(
            !message.contains("0899990001") && !message.contains("899990001"),
            "{message}"
        );
    }
}
