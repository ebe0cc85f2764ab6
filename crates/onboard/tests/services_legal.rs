//! `dh country new` recognises the deliveries of issue 16 (tests/fixtures/services_legal/make.py, written with
//! openpyxl and Python's csv): a helpline's statistics workbook with a cover sheet and no hint in its file name is
//! proposed as `service_contacts` by its columns, a legal review checklist as `legal_provisions`, and a second
//! organisation's file is pointed to `[[deliveries.service_contacts.parts]]`.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn service_contact_and_legal_review_files_are_proposed_as_their_tables() {
    let schemas = dh_config::load_schemas(&repo().join("schemas")).expect("schemas");
    let defaults: toml::Table = toml::from_str(
        &std::fs::read_to_string(repo().join("countries/_defaults.toml")).expect("defaults"),
    )
    .expect("defaults parse");
    let dir = repo().join("tests/fixtures/services_legal");
    let out = dh_onboard::skeleton("ARM", &dir, &schemas, &defaults).expect("skeleton");
    let text = &out.text;
    assert_eq!(
        out.tables,
        vec![
            (
                "annual_statistics_2019.xlsx".to_string(),
                "service_contacts".to_string()
            ),
            (
                "review_2021.csv".to_string(),
                "legal_provisions".to_string()
            ),
        ],
        "{text}"
    );
    assert!(
        text.contains("annual_statistics_2019.xlsx -> service_contacts (guessed from")
            && text.contains("review_2021.csv -> legal_provisions (guessed from"),
        "{text}"
    );
    let parsed: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let d = &parsed["deliveries"];
    let services = &d["service_contacts"];
    assert_eq!(services["sheet"].as_str(), Some("Stats"), "{text}");
    // Names that differ from the defaults' are proposed; the others come from _defaults.toml.
    for (column, source) in [
        ("organisation", "Organization"),
        ("child_sex", "Gender"),
        ("contacts", "Number of contacts"),
    ] {
        assert_eq!(
            services["columns"][column]["source"].as_str(),
            Some(source),
            "{column}\n{text}"
        );
    }
    for column in [
        "organisation_type",
        "year",
        "channel",
        "category",
        "child_age_band",
        "data_vintage",
    ] {
        assert!(
            services["columns"].get(column).is_none(),
            "{column}\n{text}"
        );
        assert!(
            !text.contains(&format!("# TODO {column} =")),
            "{column}\n{text}"
        );
    }
    // The checklist's columns have the defaults' names, the citation included (text, length-limited: its values
    // are not listed).
    assert!(
        d["legal_provisions"].get("columns").is_none()
            || d["legal_provisions"]["columns"]
                .as_table()
                .is_some_and(|t| t.is_empty()),
        "{text}"
    );
    assert!(!text.contains("# TODO citation"), "{text}");
    assert!(!text.contains("Penal Code"), "{text}");
    // The second organisation's file: a TODO naming the multi-file form, not a second delivery.
    assert!(
        text.contains("# TODO ngo_hotline_reports.csv: which harmonised table is this? (another file was already taken as service_contacts; if this is another file of the same table")
            && text.contains("[[deliveries.service_contacts.parts]]"),
        "{text}"
    );
}
