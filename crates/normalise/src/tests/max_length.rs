//! `maxLength` of a text column (issue 16: a law's citation in `legal_provisions`): a longer delivered value is a
//! row problem (`too_long`), never truncated, its reason naming the column and the lengths but not the value; a
//! value within the limit is kept whole, even when it has more words than a name.

use super::*;

const REVIEW_SCHEMA: &str = r#"{
  "name": "review", "title": "Review", "version": "1.0.0", "primaryKey": ["provision"],
  "missingValues": [{"value": -3, "label": "not_applicable"}, {"value": -4, "label": "not_collected"}],
  "fields": [
    {"name": "provision", "type": "string", "description": "Provision", "constraints": {"required": true, "unique": true},
     "categories": [{"value": 1, "label": "p1"}, {"value": 2, "label": "p2"}, {"value": 3, "label": "p3"},
                    {"value": 4, "label": "p4"}]},
    {"name": "citation", "type": "string", "description": "Citation", "missingValues": ["not_applicable"],
     "constraints": {"maxLength": 120}}
  ]}"#;

const REVIEW_CONFIG: &str = r#"
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

[deliveries.review]
file = "review.csv"

[deliveries.review.columns]
provision = { source = "Item", codes = { "1.1" = "p1", "1.2" = "p2", "1.3" = "p3", "1.4" = "p4" } }
citation = { source = "Reference", missing = { "-" = "not_applicable" } }
"#;

fn review_schemas() -> SchemaSet {
    let mut set = SchemaSet::default();
    let t: TableSchema = serde_json::from_str(REVIEW_SCHEMA).unwrap();
    set.tables.insert(t.name.clone(), t);
    set
}

fn normalise_review(rows: &[&[&str]]) -> CountryOutput {
    let config: CountryConfig = toml::from_str(REVIEW_CONFIG).unwrap();
    let raw = BTreeMap::from([(
        "review".to_string(),
        table("review.csv", &["Item", "Reference"], rows),
    )]);
    normalise_country(&config, &review_schemas(), &raw, &key()).unwrap()
}

/// 121 characters: one over the limit.
const TOO_LONG: &str = "Computer Crimes Act No. 2 of 2017, section 14, as amended by the Computer Crimes (Amendment) Act No. 7 of 2019, s. 133(b)";
/// 12 words: more than a name may have, within the limit of a 120-character column.
const AT_LIMIT: &str = "Law No. 11 of 2008 on Electronic Information and Transactions, Art. 27(1)";

#[test]
fn a_text_longer_than_max_length_is_quarantined_whole_and_never_shown() {
    assert_eq!(TOO_LONG.chars().count(), 121);
    assert_eq!(AT_LIMIT.split_whitespace().count(), 12);
    let out = normalise_review(&[
        &["1.1", "Penal Code s. 287/1 (2015)"],
        &["1.2", TOO_LONG],
        &["1.3", AT_LIMIT],
        &["1.4", "-"],
    ]);
    assert_ledger(&out);
    let review = &out.tables["review"];
    let got = reasons(review);
    assert_eq!(got.len(), 1, "{got:?}");
    let (row, code, column, shown) = &got[0];
    assert_eq!(
        (*row, code.as_str(), column.as_deref()),
        (2, "too_long", Some("Reference"))
    );
    let shown = shown.clone().unwrap_or_default();
    assert!(shown.starts_with("[withheld: len 121: "), "{shown}");
    let reason = review
        .quarantine
        .column_by_name("reason")
        .unwrap()
        .as_string::<i32>()
        .value(0)
        .to_string();
    assert!(
        reason.contains("`citation` (source `Reference`)")
            && reason.contains("121 characters")
            && reason.contains("maximum of 120"),
        "{reason}"
    );
    assert!(!reason.contains("Computer"), "{reason}");
    assert_eq!(review.rows_written, 3);
    let kept: Vec<Option<String>> = review
        .batch
        .column_by_name("citation")
        .unwrap()
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect();
    assert_eq!(
        kept,
        vec![
            Some("Penal Code s. 287/1 (2015)".to_string()),
            Some(AT_LIMIT.to_string()),
            None
        ]
    );
    for t in all_text(&review.batch)
        .into_iter()
        .chain(all_text(&review.quarantine))
    {
        assert!(!t.contains("Computer Crimes"), "{t}");
    }
}

#[test]
fn free_text_is_still_caught_in_a_column_with_max_length() {
    // Within 120 characters but 13 words: more than the widened word limit (12) allows.
    let note = "a b c d e f g h i j k l m";
    let out = normalise_review(&[&["1.1", note], &["1.2", "Act 3 (2010)"]]);
    let got = reasons(&out.tables["review"]);
    assert_eq!(
        got.iter()
            .map(|(r, c, _, _)| (*r, c.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "free_text")]
    );
}
