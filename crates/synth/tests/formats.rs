//! The format writers of `dh synth` read back through `dh-ingest`: the same cells, value labels and declared
//! missing codes, byte-identical when written twice. (Independent readers: `check_with_pyreadstat.py` beside this
//! file reads the same kind of files with pyreadstat and openpyxl.)

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use dh_config::Delivery;
use dh_config::country::Format;
use dh_ingest::{ColumnSelection, RawTable};
use dh_synth::write::{TextTable, write_xlsx, writer_for};

fn sample_table() -> TextTable {
    let mut t = TextTable::new(
        ["RESP_ID", "EA", "Q1", "AGE", "WT", "REGION", "VISIT"]
            .iter()
            .map(|s| s.to_string()),
    );
    let rows: [[&str; 7]; 4] = [
        ["101", "0110", "1", "13", "1.2500", "Nord-Ést", "2021-03-04"],
        ["102", "0111", "2", "17", "0.5", "Sud", "2021-03-05"],
        ["103", "0112", "98", "", "2", "Sud, \"Ouest\"", ""],
        ["104", "0113", "99", "12", "10", "", "2020-12-31"],
    ];
    for r in &rows {
        t.push_row(r);
    }
    t.columns[2].value_labels = vec![
        ("1".into(), "Yes".into()),
        ("2".into(), "No".into()),
        ("98".into(), "Don't know".into()),
        ("99".into(), "Refused".into()),
    ];
    t.columns[2].missing_codes = vec!["98".into(), "99".into()];
    t
}

fn delivery(format: Format, file: &str) -> Delivery {
    Delivery::new(file, format)
}

fn read(path: &Path, d: &Delivery) -> RawTable {
    dh_ingest::readers::reader_for(d.format, path)
        .and_then(|r| r.read(path, d, &ColumnSelection::every_column()))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn cells(t: &RawTable, name: &str) -> Vec<String> {
    t.column(name)
        .unwrap_or_else(|| panic!("column {name}"))
        .iter()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_format_reads_back_the_same_cells() {
    let dir = tempfile::tempdir().unwrap();
    let table = sample_table();
    for (format, file) in [
        (Format::Csv, "t.csv"),
        (Format::Sav, "t.sav"),
        (Format::Dta, "t.dta"),
        (Format::Xlsx, "t.xlsx"),
    ] {
        let d = delivery(format, file);
        let path = dir.path().join(file);
        writer_for(format).write(&path, &d, &table).unwrap();
        let first = std::fs::read(&path).unwrap();
        writer_for(format).write(&path, &d, &table).unwrap();
        assert_eq!(first, std::fs::read(&path).unwrap(), "{file}: bytes differ");
        let t = read(&path, &d);
        assert_eq!(t.num_rows(), 4, "{file}");
        assert_eq!(cells(&t, "RESP_ID"), ["101", "102", "103", "104"], "{file}");
        // Codes with leading zeros stay text in every format.
        assert_eq!(cells(&t, "EA"), ["0110", "0111", "0112", "0113"], "{file}");
        assert_eq!(cells(&t, "Q1"), ["1", "2", "98", "99"], "{file}");
        assert_eq!(cells(&t, "AGE"), ["13", "17", "", "12"], "{file}");
        let wt = cells(&t, "WT");
        let expected_wt: &[&str] = if format == Format::Csv {
            &["1.2500", "0.5", "2", "10"]
        } else {
            &["1.25", "0.5", "2", "10"]
        };
        assert_eq!(wt, expected_wt, "{file}");
        assert_eq!(
            cells(&t, "REGION"),
            ["Nord-Ést", "Sud", "Sud, \"Ouest\"", ""],
            "{file}"
        );
        assert_eq!(
            cells(&t, "VISIT"),
            ["2021-03-04", "2021-03-05", "", "2020-12-31"],
            "{file}"
        );
        let labels = &t.column("Q1").unwrap().labels;
        match format {
            Format::Sav => {
                assert_eq!(labels.label_of("98"), Some("Don't know"));
                assert!(labels.is_declared_missing("98") && labels.is_declared_missing("99"));
                assert!(!labels.is_declared_missing("1"));
            }
            Format::Dta => {
                assert_eq!(labels.label_of("1"), Some("Yes"));
                assert_eq!(labels.label_of("99"), Some("Refused"));
            }
            Format::Csv | Format::Xlsx => assert!(labels.is_empty()),
        }
    }
}

#[test]
fn xlsx_with_several_sheets_reads_the_configured_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("police.xlsx");
    let mut cases = TextTable::new(["case_id", "year"].iter().map(|s| s.to_string()));
    cases.push_row(&["C-1", "2019"]);
    let mut notes = TextTable::new(["note"].iter().map(|s| s.to_string()));
    notes.push_row(&["vintage 2020"]);
    write_xlsx(&path, &[("notes", &notes), ("cases", &cases)]).unwrap();
    let mut d = delivery(Format::Xlsx, "police.xlsx");
    d.sheet = Some("cases".into());
    let t = read(&path, &d);
    assert_eq!(cells(&t, "year"), ["2019"]);
}

#[test]
fn writers_report_what_a_format_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = TextTable::new(["bad name"].iter().map(|s| s.to_string()));
    t.push_row(&["1"]);
    let d = delivery(Format::Dta, "bad.dta");
    let err = writer_for(Format::Dta)
        .write(&dir.path().join("bad.dta"), &d, &t)
        .unwrap_err();
    assert!(err.to_string().contains("`bad name`"), "{err}");
}
