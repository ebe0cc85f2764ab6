//! Reader tests on files written by independent tools (pyreadstat for `.sav`/`.dta`, openpyxl for `.xlsx`; see
//! `fixtures/make_fixtures.py`), plus truncated and corrupt copies of them, which must give typed errors, never a
//! panic and never a partial table.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use dh_config::country::Format;
use dh_config::{ColumnMap, Delivery};
use dh_ingest::{IngestError, RawTable, read_delivery};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn delivery(format: Format, sources: &[&str], identifiers: &[&str]) -> Delivery {
    Delivery {
        identifiers: identifiers.iter().map(|s| s.to_string()).collect(),
        columns: sources
            .iter()
            .map(|s| {
                (
                    format!("h_{s}"),
                    ColumnMap {
                        source: Some(s.to_string()),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..Delivery::new("x", format)
    }
}

fn cells(t: &RawTable, column: &str) -> Vec<String> {
    t.column(column)
        .unwrap_or_else(|| panic!("no column {column}"))
        .iter()
        .map(str::to_string)
        .collect()
}

fn all_text(t: &RawTable) -> String {
    t.columns
        .iter()
        .flat_map(|c| c.iter())
        .collect::<Vec<_>>()
        .join("|")
}

#[test]
fn sav_written_by_pyreadstat_reads_values_labels_and_user_missing() {
    let d = delivery(
        Format::Sav,
        &["RESP_ID", "Q1", "AGE", "WT", "REGION", "VISIT"],
        &["RESP_NAME"],
    );
    let t = read_delivery(&fixture("labelled.sav"), &d).unwrap();
    assert_eq!(t.num_rows(), 5);
    assert_eq!(t.row_numbers, vec![1, 2, 3, 4, 5]);
    assert_eq!(cells(&t, "RESP_ID"), ["101", "102", "103", "104", "105"]);
    // User-missing 8 and 9 stay codes; system-missing is an empty cell.
    assert_eq!(cells(&t, "Q1"), ["1", "2", "8", "9", ""]);
    assert_eq!(cells(&t, "AGE"), ["13", "17", "98", "12", "15"]);
    assert_eq!(cells(&t, "WT"), ["12.3456", "0.5", "1", "2.25", "100"]);
    assert_eq!(
        cells(&t, "REGION"),
        ["Nord-Ést", "Sud", "Sud", "Nord-Ést", ""]
    );
    assert_eq!(
        cells(&t, "VISIT"),
        ["2021-03-04", "2020-12-31", "", "2021-01-01", "2021-02-28"]
    );
    let q1 = &t.column("Q1").unwrap().labels;
    assert_eq!(
        q1.value_labels,
        [
            ("1".to_string(), "Yes".to_string()),
            ("2".into(), "No".into()),
            ("8".into(), "Don't know".into()),
            ("9".into(), "Refused".into())
        ]
    );
    assert!(q1.is_declared_missing("8") && q1.is_declared_missing("9"));
    assert!(!q1.is_declared_missing("1"));
    assert_eq!(q1.codes_labelled("Refused").collect::<Vec<_>>(), ["9"]);
    let age = &t.column("AGE").unwrap().labels;
    assert!(age.is_declared_missing("98") && age.is_declared_missing("97"));
    assert!(!age.is_declared_missing("17"));
    // The identifier was never read.
    assert_eq!(t.dropped_columns, ["RESP_NAME"]);
    assert!(!all_text(&t).contains("Example"));
}

#[test]
fn dta_written_by_pyreadstat_reads_labels_and_stata_missing() {
    let d = delivery(
        Format::Dta,
        &["resp_id", "q1", "score", "region", "visit"],
        &["phone"],
    );
    let t = read_delivery(&fixture("labelled.dta"), &d).unwrap();
    assert_eq!(t.num_rows(), 4);
    assert_eq!(cells(&t, "resp_id"), ["201", "202", "203", "204"]);
    assert_eq!(cells(&t, "q1"), ["1", "2", ".a", ".b"]);
    assert_eq!(cells(&t, "score"), ["0.1", "2.5", "", "-3"]);
    assert_eq!(
        cells(&t, "region"),
        ["Central", "Northern", "Central", "Southern"]
    );
    assert_eq!(
        cells(&t, "visit"),
        ["2021-03-04", "1960-01-01", "2021-01-01", ""]
    );
    let q1 = &t.column("q1").unwrap().labels;
    assert_eq!(q1.label_of("1"), Some("Yes"));
    assert_eq!(q1.label_of("2"), Some("No"));
    assert!(q1.is_declared_missing(".a") && q1.is_declared_missing(".b"));
    assert_eq!(t.dropped_columns, ["phone"]);
    assert!(!all_text(&t).contains("555"));
}

#[test]
fn xlsx_written_by_openpyxl_reads_named_sheet_types_and_skips_blank_rows() {
    let mut d = delivery(
        Format::Xlsx,
        &[
            "case_id",
            "year",
            "offence",
            "tech",
            "age",
            "reported_on",
            "ratio",
        ],
        &[],
    );
    d.sheet = Some("cases".into());
    let t = read_delivery(&fixture("workbook.xlsx"), &d).unwrap();
    assert_eq!(t.num_rows(), 3);
    assert_eq!(cells(&t, "case_id"), ["C-001", "C-002", "C-003"]);
    assert_eq!(cells(&t, "year"), ["2017", "2018", "2019"]);
    assert_eq!(cells(&t, "tech"), ["true", "false", ""]);
    assert_eq!(cells(&t, "age"), ["14", "16", ""]);
    assert_eq!(
        cells(&t, "reported_on"),
        ["2017-05-02", "2018-07-09 13:45:00", ""]
    );
    assert_eq!(cells(&t, "ratio"), ["0.25", "1", "12.5"]);
    assert!(t.row_issues.is_empty());

    // Default: the first sheet, whose header does not have the mapped columns.
    d.sheet = None;
    let err = read_delivery(&fixture("workbook.xlsx"), &d).unwrap_err();
    assert!(matches!(err, IngestError::MissingColumn { .. }), "{err}");
    d.sheet = Some("Cases ".into());
    let err = read_delivery(&fixture("workbook.xlsx"), &d).unwrap_err();
    assert!(
        matches!(err, IngestError::NoSheet { .. }) && err.to_string().contains("summary, cases"),
        "{err}"
    );
}

#[test]
fn missing_mapped_column_names_the_file_and_column() {
    let d = delivery(Format::Sav, &["Q99"], &[]);
    let err = read_delivery(&fixture("labelled.sav"), &d).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("labelled.sav") && text.contains("`Q99`"),
        "{text}"
    );
}

/// Every prefix of each fixture, and copies with bytes flipped, must read or fail with an error, never panic; a
/// truncated data section must not come back as a shorter table.
#[test]
fn truncated_and_corrupt_files_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("labelled.sav", Format::Sav, vec!["RESP_ID", "Q1"], 5usize),
        ("labelled.dta", Format::Dta, vec!["resp_id", "q1"], 4),
        ("workbook.xlsx", Format::Xlsx, vec!["note"], 1),
    ];
    for (name, format, sources, rows) in cases {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let d = delivery(format, &sources, &[]);
        let path = dir.path().join(name);
        let step = (bytes.len() / 200).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            if let Ok(t) = read_delivery(&path, &d) {
                assert_eq!(
                    t.num_rows(),
                    rows,
                    "{name} cut at {cut} of {} lost rows",
                    bytes.len()
                );
            }
        }
        for (k, at) in (0..bytes.len()).step_by(step).enumerate() {
            let mut corrupt = bytes.clone();
            corrupt[at] ^= 0x5A + (k as u8 % 7);
            std::fs::write(&path, &corrupt).unwrap();
            let _ = read_delivery(&path, &d);
        }
        std::fs::write(&path, b"not a data file at all").unwrap();
        let err = read_delivery(&path, &d).unwrap_err();
        assert!(
            matches!(err, IngestError::Format { .. }) && err.to_string().contains(name),
            "{err}"
        );
    }
}

/// A delivery whose mapped columns are all `not_collected` keeps no column, yet every row is still returned (empty)
/// so that the ledger counts them.
#[test]
fn delivery_keeping_no_column_still_gives_every_row() {
    for (file, format, rows, mapped) in [
        ("labelled.sav", Format::Sav, 5, "Q1"),
        ("labelled.dta", Format::Dta, 4, "q1"),
    ] {
        let mut d = delivery(format, &[mapped], &[]);
        for map in d.columns.values_mut() {
            map.not_collected = true;
        }
        let t = read_delivery(&fixture(file), &d).unwrap();
        assert!(t.columns.is_empty(), "{file}");
        assert_eq!(t.num_rows(), rows, "{file}");
        assert_eq!(
            t.row_numbers,
            (1..=rows as u64).collect::<Vec<_>>(),
            "{file}"
        );
    }
}

/// A value the SPSS library cannot represent (a date beyond year 9999) would come out as an empty cell: the file is
/// refused with a message saying how many values, never read with the value silently lost.
#[test]
fn sav_date_the_library_would_null_is_an_error() {
    let path = fixture("date_out_of_range.sav");
    let d = delivery(Format::Sav, &["id", "d"], &[]);
    let err = dh_ingest::read_delivery(&path, &d).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("1 date/time value") && message.contains("date_out_of_range.sav"),
        "{message}"
    );
}
