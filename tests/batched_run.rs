//! Deliveries read in batches (issue 14): with a batch of a few rows (`DH_BATCH_ROWS`), every delivery of a
//! synthetic run goes through the two-pass batched path (keys first, then normalise and write batch by batch), and
//! the outputs are those of the default run, where each delivery is one batch: the harmonised and quarantine files,
//! the indicators and the manifest (its ledger included) have the same bytes. The THA child delivery is edited so
//! that a duplicated respondent id has its rows in the first and the last batch, and a caregiver's household is
//! missing from the child rows of another batch.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;

use arrow::array::AsArray;
use arrow::datatypes::UInt64Type;
use common::{describe, s};
use serde_json::Value;

const KEY: &str = "batched-run-test-key-0123456789abcdef";
const BATCH_ROWS: &str = "7";
const COUNTRIES: &str = "THA,KEN";

/// The data lines (after the header) of a CSV file whose fields hold no quotes, by index.
fn plain_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.contains('"') && !l.is_empty())
        .map(|(i, _)| i)
        .collect()
}

fn field(line: &str, i: usize) -> String {
    line.split(',').nth(i).expect("field").to_string()
}

fn set_field(line: &str, i: usize, value: &str) -> String {
    let mut fields: Vec<&str> = line.split(',').collect();
    fields[i] = value;
    fields.join(",")
}

/// Gives the last plain data line the respondent id (field 0) of the first one, and the household (field 5) of a
/// line in the middle an id no caregiver has. Returns the two row numbers sharing the id (1-based data records).
fn plant_problems(path: &Path) -> (usize, usize) {
    let text = fs::read_to_string(path).expect("child delivery");
    let header = text.lines().next().expect("header");
    assert!(
        header.starts_with("RESP_ID,") && field(header, 5) == "HH_ID",
        "{header}"
    );
    let plain = plain_lines(&text);
    let (first, middle, last) = (plain[0], plain[plain.len() / 2], plain[plain.len() - 1]);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let id = field(&lines[first], 0);
    lines[last] = set_field(&lines[last], 0, &id);
    lines[middle] = set_field(&lines[middle], 5, "999999999999");
    fs::write(path, lines.join("\n") + "\n").expect("write");
    (first, last)
}

fn run(raw: &Path, out: &Path, batch_rows: Option<&str>) {
    run_streamed(raw, out, batch_rows, None);
}

/// [`run`] with later batches of `stream_rows` rows (`DH_STREAM_ROWS`) after each file's first.
fn run_streamed(raw: &Path, out: &Path, batch_rows: Option<&str>, stream_rows: Option<&str>) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dh"));
    command
        .args([
            "run",
            "--raw-dir",
            s(raw),
            "--out-dir",
            s(out),
            "--countries",
            COUNTRIES,
            "--quiet",
        ])
        .current_dir(common::workspace())
        .env_remove("RUST_LOG")
        .env("DH_PSEUDONYM_KEY", KEY);
    match batch_rows {
        Some(n) => command.env("DH_BATCH_ROWS", n),
        None => command.env_remove("DH_BATCH_ROWS"),
    };
    match stream_rows {
        Some(n) => command.env("DH_STREAM_ROWS", n),
        None => command.env_remove("DH_STREAM_ROWS"),
    };
    let output = command.output().expect("run dh");
    assert!(output.status.success(), "dh run: {}", describe(&output));
}

fn run_log(out: &Path) -> Value {
    let dir = out.join("runs");
    let entry = fs::read_dir(&dir)
        .expect("runs folder")
        .next()
        .expect("a run log")
        .expect("entry");
    serde_json::from_slice(&fs::read(entry.path()).expect("run log")).expect("json")
}

/// (row_number, reason_code) of every line of a quarantine file.
fn quarantine(path: &Path) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for b in common::read_parquet(path) {
        let rows = b
            .column_by_name("row_number")
            .expect("row_number")
            .as_primitive::<UInt64Type>();
        let codes = b
            .column_by_name("reason_code")
            .expect("reason_code")
            .as_string::<i32>();
        for i in 0..b.num_rows() {
            out.push((rows.value(i), codes.value(i).to_string()));
        }
    }
    out
}

#[test]
fn a_run_in_tiny_batches_gives_the_bytes_of_the_default_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    common::synth(&raw, COUNTRIES, "3");
    let (first, last) = plant_problems(&raw.join("THA/TH_DH_child_final.csv"));
    assert!(
        last - first > 2 * 7,
        "the duplicate rows fall in different batches"
    );

    let whole = tmp.path().join("whole");
    let batched = tmp.path().join("batched");
    run(&raw, &whole, None);
    run(&raw, &batched, Some(BATCH_ROWS));

    // the batched run did read every delivery with more than one batch of rows in batches
    let log = run_log(&batched);
    let tha = log["countries"]
        .as_array()
        .expect("countries")
        .iter()
        .find(|c| c["country"] == "THA")
        .expect("THA timing");
    let child = &tha["batched"]["child_survey"];
    assert!(child["batches"].as_u64().expect("batches") > 100, "{tha}");
    assert!(child["key_bytes"].as_u64().expect("key_bytes") > 0, "{tha}");
    assert!(tha["batched"]["caregiver_survey"].is_object(), "{tha}");
    assert!(tha["indicators_ms"].is_u64(), "{tha}");
    let default_log = run_log(&whole);
    assert!(
        default_log["countries"][0].get("batched").is_none(),
        "{default_log}"
    );

    // the planted problems are found across batches
    let child_q = quarantine(&batched.join("quarantine/child_survey/country=THA/part-0.parquet"));
    for row in [first as u64, last as u64] {
        assert!(
            child_q.contains(&(row, "duplicate_id".to_string())),
            "row {row}: {child_q:?}"
        );
    }
    let caregiver_q =
        quarantine(&batched.join("quarantine/caregiver_survey/country=THA/part-0.parquet"));
    assert!(
        caregiver_q.iter().any(|(_, code)| code == "missing_link"),
        "{caregiver_q:?}"
    );

    // same bytes everywhere: harmonised and quarantine files, indicators, report, manifest and its ledger
    same_outputs(&whole, &batched);
    let manifest: Value =
        serde_json::from_slice(&fs::read(batched.join("manifest.json")).expect("manifest"))
            .expect("json");
    for input in manifest["inputs"].as_array().expect("inputs") {
        let (r, w, q) = (
            input["rows_read"].as_u64().expect("rows_read"),
            input["rows_written"].as_u64().expect("rows_written"),
            input["rows_quarantined"]
                .as_u64()
                .expect("rows_quarantined"),
        );
        assert_eq!(r, w + q, "ledger of {input}");
    }
}

/// Every output file of `a` and `b` has the same bytes (run logs aside).
fn same_outputs(a: &Path, b: &Path) {
    let x = common::output_files(a);
    let y = common::output_files(b);
    assert_eq!(
        x.keys().collect::<Vec<_>>(),
        y.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (path, bytes) in &x {
        assert!(
            y[path] == *bytes,
            "{} differs between {} and {}",
            path.display(),
            a.display(),
            b.display()
        );
    }
}

/// Later batches smaller than each file's first (`DH_STREAM_ROWS` below `DH_BATCH_ROWS`; the KEN child `.sav`
/// reader changes its batch size, the CSV reader keeps it): the same bytes as the default run, and more batches
/// than with the first batch's size throughout.
#[test]
fn later_batches_smaller_than_the_first_give_the_bytes_of_the_default_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    common::synth(&raw, COUNTRIES, "3");
    let whole = tmp.path().join("whole");
    let batched = tmp.path().join("batched");
    let streamed = tmp.path().join("streamed");
    run(&raw, &whole, None);
    run(&raw, &batched, Some("500"));
    run_streamed(&raw, &streamed, Some("500"), Some("9"));
    same_outputs(&whole, &streamed);
    let batches = |out: &Path| {
        let log = run_log(out);
        let ken = log["countries"]
            .as_array()
            .expect("countries")
            .iter()
            .find(|c| c["country"] == "KEN")
            .expect("KEN timing")
            .clone();
        ken["batched"]["child_survey"]["batches"]
            .as_u64()
            .unwrap_or_else(|| panic!("{ken}"))
    };
    assert!(batches(&streamed) > 10 * batches(&batched));
}
