//! Deliveries as agencies send them (issue 10): dates in a `date_format`, value labels as values
//! (`value = "label"`), and the raw id behind key problems kept for `dh validate` only.

use super::*;
use dh_ingest::ColumnLabels;

const REGISTER_SCHEMA: &str = r#"{
  "name": "register", "title": "Register", "version": "1.0.0", "primaryKey": ["id"],
  "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -4, "label": "not_collected"}],
  "fields": [
    {"name": "id", "type": "string", "description": "Id", "role": "key", "pseudonymise": true,
     "constraints": {"required": true, "unique": true}},
    {"name": "visit", "type": "date", "description": "Visit", "missingValues": ["dont_know"]},
    {"name": "iso_visit", "type": "date", "description": "Visit, ISO"},
    {"name": "region", "type": "string", "description": "Region", "missingValues": ["dont_know"]},
    {"name": "sex", "type": "string", "description": "Sex",
     "categories": [{"value": 1, "label": "male"}, {"value": 2, "label": "female"}]}
  ]}"#;

const REGISTER_CONFIG: &str = r#"
[country]
iso3 = "JOR"
name = "Jordan"
region = "MENA"
fieldwork_start = "2022-01-01"
fieldwork_end = "2022-02-01"

[population]
source = "test"
population_12_17 = 1000
internet_share = 0.5
cells = []

[deliveries.register]
file = "register.sav"
format = "sav"

[deliveries.register.columns]
id = { source = "ID" }
visit = { source = "VDATE", date_format = "%d/%m/%Y", missing = { "9" = "dont_know" } }
iso_visit = { source = "IDATE" }
region = { source = "GOV", value = "label", missing = { "label:No answer" = "dont_know" } }
sex = { source = "SEX", codes = { "1" = "male", "2" = "female" } }
"#;

const HEADER: [&str; 5] = ["ID", "VDATE", "IDATE", "GOV", "SEX"];

fn register_schemas() -> SchemaSet {
    let mut set = SchemaSet::default();
    let t: TableSchema = serde_json::from_str(REGISTER_SCHEMA).unwrap();
    set.tables.insert(t.name.clone(), t);
    set
}

/// `GOV` labelled as an SPSS governorate variable: `11 = Amman`, `12 = Irbid`, `99 = No answer` (declared missing).
fn register(rows: &[&[&str]]) -> RawTable {
    let mut t = table("register.sav", &HEADER, rows);
    for c in &mut t.columns {
        if c.name == "GOV" {
            c.labels = ColumnLabels {
                value_labels: vec![
                    ("11".into(), "Amman".into()),
                    ("12".into(), " Irbid ".into()),
                    ("99".into(), "No answer".into()),
                ],
                missing_codes: vec!["99".into()],
                ..Default::default()
            };
        }
    }
    t
}

fn normalise_register(config: &str, raw: RawTable) -> Result<CountryOutput, NormaliseError> {
    let config: CountryConfig = toml::from_str(config).unwrap();
    let raw = BTreeMap::from([("register".to_string(), raw)]);
    normalise_country(&config, &register_schemas(), &raw, &key())
}

fn reason_texts(out: &TableOutput) -> Vec<String> {
    let r = out
        .quarantine
        .column_by_name("reason")
        .unwrap()
        .as_string::<i32>();
    r.iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect()
}

fn dates(batch: &RecordBatch, column: &str) -> Vec<Option<i32>> {
    batch
        .column_by_name(column)
        .unwrap()
        .as_primitive::<arrow::datatypes::Date32Type>()
        .iter()
        .collect()
}

fn texts(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    batch
        .column_by_name(column)
        .unwrap()
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// 2021-03-01 and 2021-12-31 as days since 1970-01-01.
const MAR_1: i32 = 18687;
const DEC_31: i32 = 18992;

#[test]
fn dates_are_read_in_the_columns_date_format_and_others_are_row_problems() {
    let out = normalise_register(
        REGISTER_CONFIG,
        register(&[
            &["A1", "01/03/2021", "2021-03-01", "11", "1"],
            &["A2", "31/12/2021", "", "12", "2"],
            &["A3", "9", "", "11", "1"],
            &["A4", "31/02/2021", "", "11", "1"], // not a calendar day
            &["A5", "2021-03-01", "", "11", "1"], // ISO, but the format is DD/MM/YYYY
            &["A6", "01/03/2021", "01/03/2021", "11", "1"], // no date_format: ISO only, as before
        ]),
    )
    .unwrap();
    let t = &out.tables["register"];
    assert_eq!(
        dates(&t.batch, "visit"),
        [Some(MAR_1), Some(DEC_31), None],
        "the missing code 9 is null"
    );
    assert_eq!(dates(&t.batch, "iso_visit"), [Some(MAR_1), None, None]);
    let r = reasons(t);
    assert_eq!(
        r.iter()
            .map(|(row, code, col, _)| (*row, code.as_str(), col.as_deref()))
            .collect::<Vec<_>>(),
        [
            (4, "invalid_value", Some("VDATE")),
            (5, "invalid_value", Some("VDATE")),
            (6, "invalid_value", Some("IDATE")),
        ]
    );
    let reasons = reason_texts(t);
    for reason in &reasons[..2] {
        assert!(
            reason.contains("`%d/%m/%Y` (e.g. `31/12/2021`)") && reason.contains("`visit`"),
            "{reason}"
        );
        // The cell goes to `raw_value` only, as for every cell check; the reason never repeats it.
        assert!(
            !reason.contains("31/02") && !reason.contains("2021-03-01"),
            "{reason}"
        );
    }
    assert_eq!(r[0].3.as_deref(), Some("31/02/2021"));
    assert!(reasons[2].contains("YYYY-MM-DD"), "{}", reasons[2]);
    assert_eq!(t.rows_read, t.rows_written + t.rows_quarantined);
}

#[test]
fn a_date_format_that_does_not_apply_is_a_mapping_error() {
    let bad = REGISTER_CONFIG.replace("date_format = \"%d/%m/%Y\"", "date_format = \"%d/%m/%E\"");
    let err = normalise_register(&bad, register(&[])).unwrap_err();
    assert!(err.to_string().contains("`%E`"), "{err}");
    let not_a_date = REGISTER_CONFIG.replace(
        "region = { source = \"GOV\", value = \"label\"",
        "region = { source = \"GOV\", date_format = \"%d/%m/%Y\"",
    );
    let err = normalise_register(&not_a_date, register(&[])).unwrap_err();
    assert!(
        err.to_string().contains("region") && err.to_string().contains("not a date"),
        "{err}"
    );
}

#[test]
fn value_label_columns_take_the_delivered_label_of_each_code() {
    let out = normalise_register(
        REGISTER_CONFIG,
        register(&[
            &["A1", "01/03/2021", "", "11", "1"],
            &["A2", "01/03/2021", "", "12.0", "2"], // SPSS numbers written as decimals match the code
            &["A3", "01/03/2021", "", "99", "1"],   // labelled missing: through `missing`
            &["A4", "01/03/2021", "", "", "1"],     // blank, not required: null
            &["A5", "01/03/2021", "", "13", "1"],   // a code without a label
        ]),
    )
    .unwrap();
    let t = &out.tables["register"];
    assert_eq!(
        texts(&t.batch, "region"),
        [Some("Amman".into()), Some("Irbid".into()), None, None]
    );
    assert_eq!(
        reasons(t),
        [(
            5,
            "unknown_code".to_string(),
            Some("GOV".to_string()),
            Some("13".to_string())
        )]
    );
    let reason = &reason_texts(t)[0];
    assert!(
        reason.contains("the code (see raw_value) of `region` (source `GOV`) has no value label")
            && !reason.contains("13"),
        "{reason}"
    );
}

#[test]
fn value_label_without_labels_or_on_a_coded_column_is_a_mapping_error() {
    let mut unlabelled = register(&[&["A1", "01/03/2021", "", "11", "1"]]);
    for c in &mut unlabelled.columns {
        c.labels = ColumnLabels::default();
    }
    let err = normalise_register(REGISTER_CONFIG, unlabelled).unwrap_err();
    assert!(
        err.to_string().contains("`GOV` has no value labels"),
        "{err}"
    );
    let coded = REGISTER_CONFIG.replace(
        "sex = { source = \"SEX\",",
        "sex = { source = \"SEX\", value = \"label\",",
    );
    let err = normalise_register(&coded, register(&[])).unwrap_err();
    assert!(
        err.to_string().contains("sex") && err.to_string().contains("text columns"),
        "{err}"
    );
}

/// Duplicate ids and missing links keep the id as delivered beside the quarantine line (for `dh validate`), while
/// the quarantine table shows only the pseudonym and a `Problem`'s `Debug` hides the id.
#[test]
fn key_problems_keep_the_raw_id_for_validate_only() {
    let mut rows = good_child_rows();
    rows.push(&["C1", "H9", "EA1", "1", "1", "13", "1", "1"]);
    let caregivers = table(
        "caregiver.csv",
        &["CG", "HH"],
        &[&["G1", "H1"], &["G2", "HX-404"]],
    );
    let out = run(table("child.csv", &CHILD_HEADER, &rows), caregivers);
    let child = &out.tables["child_survey"];
    assert_eq!(child.raw_ids.len(), child.quarantine.num_rows());
    let shown = |t: &TableOutput| -> Vec<(u64, String, Option<String>)> {
        reasons(t)
            .into_iter()
            .zip(&t.raw_ids)
            .map(|((row, code, _, _), id)| {
                (row, code, id.as_ref().map(|i| i.as_delivered().to_string()))
            })
            .collect()
    };
    assert_eq!(
        shown(child),
        [
            (1, "duplicate_id".to_string(), Some("C1".to_string())),
            (5, "duplicate_id".to_string(), Some("C1".to_string())),
        ]
    );
    let cg = &out.tables["caregiver_survey"];
    assert_eq!(
        shown(cg),
        [(2, "missing_link".to_string(), Some("HX-404".to_string()))]
    );
    for t in out.tables.values() {
        for text in all_text(&t.quarantine) {
            assert!(!text.contains("HX-404"), "raw id in quarantine: {text}");
            assert_ne!(text, "C1", "raw id in quarantine");
        }
    }
    let problem = Problem {
        row: 0,
        field: None,
        code: ReasonCode::DuplicateId,
        source_column: String::new(),
        raw_value: String::new(),
        reason: String::new(),
        raw_id: Some(RawId::new("HX-404")),
    };
    assert!(!format!("{problem:?}").contains("HX-404"));
}

/// A key spanning columns is shown with its cells joined by ` / `.
#[test]
fn a_composite_key_is_shown_cell_by_cell() {
    let schema = REGISTER_SCHEMA
        .replace(
            r#""primaryKey": ["id"]"#,
            r#""primaryKey": ["region", "visit"]"#,
        )
        .replace(
            r#""constraints": {"required": true, "unique": true}"#,
            r#""constraints": {"required": true}"#,
        );
    let t: TableSchema = serde_json::from_str(&schema).unwrap();
    let mut set = SchemaSet::default();
    set.tables.insert(t.name.clone(), t);
    let config: CountryConfig = toml::from_str(REGISTER_CONFIG).unwrap();
    let raw = BTreeMap::from([(
        "register".to_string(),
        register(&[
            &["A1", "01/03/2021", "", "11", "1"],
            &["A2", "01/03/2021", "", "11", "2"],
        ]),
    )]);
    let out = normalise_country(&config, &set, &raw, &key()).unwrap();
    let ids: Vec<Option<&str>> = out.tables["register"]
        .raw_ids
        .iter()
        .map(|i| i.as_ref().map(RawId::as_delivered))
        .collect();
    assert_eq!(ids, [Some("11 / 01/03/2021"); 2]);
}
