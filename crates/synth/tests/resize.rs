//! Resized deliveries (`dh synth --tables T --rows N [--format F]`, `dh_synth::resize`): streamed files hold the
//! bytes the whole-table writers write, N rows, unique ids, and the generated configuration reads them.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use dh_config::country::Format;
use dh_ingest::{ColumnSelection, RawTable};
use dh_synth::write::sav::SavChunks;
use dh_synth::write::{TextTable, writer_for};
use dh_synth::{Resize, SynthOptions, synth_to_dir, synth_to_dir_resized};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn options(iso3: &str) -> SynthOptions {
    SynthOptions {
        countries: vec![iso3.to_string()],
        ..SynthOptions::default()
    }
}

fn read(path: &Path, config_dir: &Path, iso3: &str, table: &str) -> RawTable {
    let configs = dh_config::load_countries(config_dir, &[iso3.to_string()]).unwrap();
    let delivery = &configs[0].deliveries[table];
    dh_ingest::readers::reader_for(delivery.format, path)
        .and_then(|r| r.read(path, delivery, &ColumnSelection::every_column()))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn table(rows: &[[&str; 4]]) -> TextTable {
    let mut t = TextTable::new(["ID", "Q1", "WT", "NOTE"].iter().map(|s| s.to_string()));
    for r in rows {
        t.push_row(r);
    }
    t.columns[1].value_labels = vec![("1".into(), "Yes".into()), ("98".into(), "DK".into())];
    t.columns[1].missing_codes = vec!["98".into()];
    t.columns[1].variable_label = Some("Question one".into());
    t
}

#[test]
fn a_sav_written_in_chunks_has_the_bytes_of_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ["A-001", "1", "1.25", "long note here"],
        ["A-002", "98", "", ""],
        ["A-003", "", "10", "x"],
    ];
    let chunk = table(&rows);
    let whole = table(&[rows, rows].concat());
    let delivery = dh_config::Delivery::new("t.sav", Format::Sav);
    let expected = dir.path().join("whole.sav");
    writer_for(Format::Sav)
        .write(&expected, &delivery, &whole)
        .unwrap();
    let path = dir.path().join("chunks.sav");
    let mut out = SavChunks::create(&path, &chunk).unwrap();
    out.push(&chunk).unwrap();
    out.push(&chunk).unwrap();
    assert_eq!(out.finish().unwrap(), 6);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&expected).unwrap()
    );
    // Eleven rows in the stream: enough to fill and start bytecode control blocks across chunk boundaries.
    let mut out = SavChunks::create(&path, &chunk).unwrap();
    for _ in 0..11 {
        out.push(&chunk).unwrap();
    }
    out.finish().unwrap();
    let eleven = table(&[rows; 11].concat());
    writer_for(Format::Sav)
        .write(&expected, &delivery, &eleven)
        .unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&expected).unwrap()
    );
}

#[test]
fn a_csv_resized_to_its_own_rows_is_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    synth_to_dir(
        &root().join("countries"),
        &root().join("schemas"),
        &plain,
        &options("THA"),
    )
    .unwrap();
    let file = "THA/TH_DH_child_final.csv";
    let bytes = std::fs::read(plain.join(file)).unwrap();
    let rows = ::csv::Reader::from_reader(bytes.as_slice())
        .records()
        .count() as u64;
    let resized = dir.path().join("resized");
    let resize = Resize {
        tables: vec!["child_survey".into()],
        rows,
        format: None,
    };
    let summary = synth_to_dir_resized(
        &root().join("countries"),
        &root().join("schemas"),
        &resized,
        &options("THA"),
        Some(&resize),
    )
    .unwrap();
    assert_eq!(summary.config_dir, None);
    assert_eq!(std::fs::read(resized.join(file)).unwrap(), bytes);
}

#[test]
fn police_cases_resized_to_csv_read_back_with_unique_ids() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("raw");
    let resize = Resize {
        tables: vec!["police_cases".into()],
        rows: 5_200,
        format: Some(Format::Csv),
    };
    let summary = synth_to_dir_resized(
        &root().join("countries"),
        &root().join("schemas"),
        &out,
        &options("THA"),
        Some(&resize),
    )
    .unwrap();
    let config_dir = summary.config_dir.expect("a generated configuration");
    assert_eq!(config_dir, out.join("config"));
    let path = out.join("THA/THA_police_cases_2017_2019.csv");
    assert!(!out.join("THA/THA_police_cases_2017_2019.xlsx").exists());
    let t = read(&path, &config_dir, "THA", "police_cases");
    assert_eq!(t.num_rows(), 5_200);
    let ids: Vec<&str> = t.column("Case No").unwrap().iter().collect();
    let distinct: BTreeSet<&str> = ids.iter().copied().collect();
    // One planted duplicate pair in the rendered table (1,300 cases), repeated in each of the 4 copies (4 x 1,300 rows).
    assert_eq!(distinct.len(), 5_200 - 4);
    assert!(ids.contains(&"CR/00001/2017-1") && ids.contains(&"CR/00001/2017-3"));
}

#[test]
fn a_child_survey_resized_to_sav_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("raw");
    let resize = Resize {
        tables: vec!["child_survey".into()],
        rows: 3_000,
        format: Some(Format::Sav),
    };
    let summary = synth_to_dir_resized(
        &root().join("countries"),
        &root().join("schemas"),
        &out,
        &options("THA"),
        Some(&resize),
    )
    .unwrap();
    let config_dir = summary.config_dir.expect("a generated configuration");
    let t = read(
        &out.join("THA/TH_DH_child_final.sav"),
        &config_dir,
        "THA",
        "child_survey",
    );
    assert_eq!(t.num_rows(), 3_000);
    let ids: BTreeSet<&str> = t.column("RESP_ID").unwrap().iter().collect();
    assert!(ids.len() > 2_990, "{}", ids.len());
}

#[test]
fn tables_that_cannot_be_resized_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let run = |tables: &[&str], format| {
        let resize = Resize {
            tables: tables.iter().map(|s| s.to_string()).collect(),
            rows: 10,
            format,
        };
        synth_to_dir_resized(
            &root().join("countries"),
            &root().join("schemas"),
            dir.path(),
            &options("THA"),
            Some(&resize),
        )
        .unwrap_err()
        .to_string()
    };
    let xlsx = run(&["police_cases"], None);
    assert!(
        xlsx.contains("only CSV and .sav") && xlsx.contains("--format"),
        "{xlsx}"
    );
    let unknown = run(&["no_such_table"], Some(Format::Csv));
    assert!(
        unknown.contains("THA delivers no table `no_such_table`"),
        "{unknown}"
    );
    let none = run(&[], Some(Format::Csv));
    assert!(none.contains("--tables"), "{none}");
}
