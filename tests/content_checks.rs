//! End-to-end: identifiers are caught by content, not only by column name (issue 12). Hostile deliveries whose
//! header cells are swapped (children's names under `REGION`, phone numbers under the weight column) fail their
//! country with exit 4, naming file, column and check, while the other countries are published; no name or phone
//! number appears in `OUT`, stdout or stderr. A note with a name and a phone number in one coded cell is quarantined
//! by its shape and keyed hash only, and so is a short one ("Somchai 0899990002"). Clean synthetic deliveries trip
//! no check. The same holds when the deliveries are read in batches.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{describe, dh, s};
use serde_json::Value;

const KEY: &str = "content-checks-test-key-0123456789abcdef";
const NOTE: &str = "Call Somchai Jaidee 0899990001";
/// A short note (2 words, 18 characters) with a phone number inside: no single shape matches it whole.
const SHORT_NOTE: &str = "Somchai 0899990002";

/// Replaces the cell of `column` in data row `row` (1-based, header not counted) of a CSV delivery whose cells hold
/// no commas; returns the row.
fn set_cell(path: &Path, column: &str, row: usize, value: &str) -> u64 {
    let text = fs::read_to_string(path).expect("read delivery");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].trim_start_matches('\u{feff}').split(',').collect();
    let i = header.iter().position(|c| *c == column).expect(column);
    let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
    cells[i] = value.to_string();
    lines[row] = cells.join(",");
    fs::write(path, lines.join("\n") + "\n").expect("write delivery");
    row as u64
}

/// (row_number, column, raw_value, reason) of every quarantine line.
fn read_quarantine(path: &Path) -> Vec<(u64, String, String, String)> {
    use arrow::array::AsArray;
    let file = fs::File::open(path).expect("quarantine part");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut out = Vec::new();
    for batch in reader {
        let b = batch.expect("batch");
        let text = |name: &str| {
            b.column_by_name(name)
                .expect(name)
                .as_string::<i32>()
                .clone()
        };
        let rows = b
            .column_by_name("row_number")
            .expect("row_number")
            .as_primitive::<arrow::datatypes::UInt64Type>()
            .clone();
        let (column, raw, reason) = (text("column"), text("raw_value"), text("reason"));
        for i in 0..b.num_rows() {
            out.push((
                rows.value(i),
                column.value(i).to_string(),
                raw.value(i).to_string(),
                reason.value(i).to_string(),
            ));
        }
    }
    out
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The header of a CSV delivery with two header cells swapped; returns the values of the column that was under
/// `identifier` before the swap (they now sit under `mapped`).
fn swap_header_cells(path: &Path, identifier: &str, mapped: &str) -> Vec<String> {
    let text = fs::read_to_string(path).expect("read delivery");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let bom = header.starts_with('\u{feff}');
    let cells: Vec<&str> = header.trim_start_matches('\u{feff}').split(',').collect();
    let i = cells
        .iter()
        .position(|c| *c == identifier)
        .expect(identifier);
    let j = cells.iter().position(|c| *c == mapped).expect(mapped);
    let values: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(i).map(str::to_string))
        .filter(|v| !v.is_empty())
        .collect();
    let mut swapped: Vec<&str> = cells.clone();
    swapped.swap(i, j);
    let mut out = String::new();
    if bom {
        out.push('\u{feff}');
    }
    out.push_str(&swapped.join(","));
    out.push('\n');
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    fs::write(path, out).expect("write delivery");
    values
}

fn status(manifest: &Value, iso3: &str) -> (String, String) {
    let c = manifest["countries"]
        .as_array()
        .expect("countries")
        .iter()
        .find(|c| c["country"] == iso3)
        .unwrap_or_else(|| panic!("{iso3} not in the manifest"));
    (
        c["status"].as_str().unwrap_or_default().to_string(),
        c["error"].as_str().unwrap_or_default().to_string(),
    )
}

/// THA: the children's names under `REGION` (and the regions under `RESP_NAME`, an identifier never read); MYS:
/// the phone numbers under the weight column `wt`. Returns the names and the phone numbers moved.
fn swap_identifiers_into_mapped_columns(raw: &Path) -> (Vec<String>, Vec<String>) {
    let names = swap_header_cells(
        &raw.join("THA/TH_DH_child_final.csv"),
        "RESP_NAME",
        "REGION",
    );
    let phones = swap_header_cells(&raw.join("MYS/MYS_child.csv"), "telefon", "wt");
    assert!(names.len() > 900 && phones.len() > 900);
    (names, phones)
}

/// The run ended with exit 4, Thailand (names under `REGION`) and Malaysia (phone numbers under the weight
/// column) failed naming file, column and check, and neither has a harmonised child table; returns the manifest.
fn assert_swapped_countries_failed(run: &std::process::Output, out_dir: &Path) -> Value {
    assert_eq!(run.status.code(), Some(4), "{}", describe(run));
    let manifest: Value =
        serde_json::from_slice(&fs::read(out_dir.join("manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    let (tha, tha_error) = status(&manifest, "THA");
    assert_eq!(tha, "failed", "{tha_error}");
    assert!(
        tha_error.contains("TH_DH_child_final.csv")
            && tha_error
                .contains("column `region` (source `REGION`) fails content check `near_unique`"),
        "{tha_error}"
    );
    let (mys, mys_error) = status(&manifest, "MYS");
    assert_eq!(mys, "failed", "{mys_error}");
    assert!(
        mys_error.contains("MYS_child.csv")
            && mys_error.contains("column `base_weight` (source `wt`) fails content check `phone`"),
        "{mys_error}"
    );
    for failed in ["THA", "MYS"] {
        assert!(
            !out_dir
                .join(format!("normalised/child_survey/country={failed}"))
                .exists()
        );
    }
    manifest
}

#[test]
fn swapped_header_cells_fail_their_country_and_leak_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    let out_dir = tmp.path().join("out");
    common::synth(&raw, "THA,MYS,VNM", "1");
    let (names, phones) = swap_identifiers_into_mapped_columns(&raw);
    // VNM: a note with a name and a phone number in one cell of the coded column `sex` (data row 5).
    let note_row = set_cell(&raw.join("VNM/VN_khao_sat_tre_em.csv"), "sex", 5, NOTE);
    let short_note_row = set_cell(
        &raw.join("VNM/VN_khao_sat_tre_em.csv"),
        "sex",
        6,
        SHORT_NOTE,
    );

    let run = dh(
        Some(KEY),
        &[
            "run",
            "--raw-dir",
            s(&raw),
            "--out-dir",
            s(&out_dir),
            "--countries",
            "THA,MYS,VNM",
            "--quiet",
        ],
    );
    let manifest = assert_swapped_countries_failed(&run, &out_dir);
    let (vnm, vnm_error) = status(&manifest, "VNM");
    assert_eq!(vnm, "ok", "{vnm_error}");
    assert!(
        out_dir
            .join("normalised/child_survey/country=VNM/part-0.parquet")
            .is_file()
    );
    // The note is quarantined by its shape and keyed hash, never as delivered.
    let quarantine =
        read_quarantine(&out_dir.join("quarantine/child_survey/country=VNM/part-0.parquet"));
    let line = quarantine
        .iter()
        .find(|l| l.0 == note_row && l.1 == "sex")
        .unwrap_or_else(|| panic!("row {note_row} not quarantined: {quarantine:?}"));
    assert!(
        line.2
            .starts_with("[withheld: len 30: letters, digits, spaces; hmac ")
            && line.2.ends_with(']'),
        "{line:?}"
    );
    assert!(line.3.contains("not in the code list of `sex`"), "{line:?}");
    let short = quarantine
        .iter()
        .find(|l| l.0 == short_note_row && l.1 == "sex")
        .unwrap_or_else(|| panic!("row {short_note_row} not quarantined: {quarantine:?}"));
    assert!(
        short
            .2
            .starts_with("[withheld: len 18: letters, digits, spaces; hmac "),
        "{short:?}"
    );
    for l in &quarantine {
        assert!(
            !l.2.contains("Somchai")
                && !l.3.contains("Somchai")
                && !l.2.contains("0899990002")
                && !l.3.contains("0899990002"),
            "{l:?}"
        );
    }

    let mut delivered: Vec<String> = names.iter().chain(&phones).cloned().collect();
    delivered.extend([NOTE.to_string(), "Somchai".into(), "0899990002".into()]);
    assert_nothing_shown(&run, &out_dir, &delivered, 10);
}

/// No delivered value of `values` anywhere: every file of `out_dir` (run log included), stdout and stderr.
/// `min_texts` (files plus the two streams) guards against a run that wrote almost nothing.
fn assert_nothing_shown(
    run: &std::process::Output,
    out_dir: &Path,
    values: &[String],
    min_texts: usize,
) {
    let mut texts: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), run.stdout.clone()),
        ("stderr".into(), run.stderr.clone()),
    ];
    for f in files(out_dir) {
        texts.push((f.display().to_string(), fs::read(&f).expect("read output")));
    }
    assert!(texts.len() > min_texts, "too few outputs to be a real run");
    for (what, bytes) in &texts {
        let text = String::from_utf8_lossy(bytes);
        for value in values {
            assert!(
                !text.contains(value.as_str()),
                "{what} holds a delivered name or phone number"
            );
        }
    }
}

/// The same hostile deliveries read in batches (issue 14): each file's first batch of `DH_BATCH_ROWS` rows is
/// judged by the content checks during the first pass, and later batches are smaller (`DH_STREAM_ROWS`). The
/// countries fail with the same checks as when read whole, and nothing delivered is shown. The child files hold
/// about 1,000 rows, so a batch of 600 rows sends them through the batched path.
#[test]
fn swapped_header_cells_fail_their_country_when_read_in_batches() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    let out_dir = tmp.path().join("out");
    common::synth(&raw, "THA,MYS", "1");
    let (names, phones) = swap_identifiers_into_mapped_columns(&raw);
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(["run", "--raw-dir", s(&raw), "--out-dir", s(&out_dir)])
        .args(["--countries", "THA,MYS", "--quiet"])
        .current_dir(common::workspace())
        .env_remove("RUST_LOG")
        .env("DH_PSEUDONYM_KEY", KEY)
        .env("DH_BATCH_ROWS", "600")
        .env("DH_STREAM_ROWS", "7")
        .output()
        .expect("run dh");
    assert_swapped_countries_failed(&run, &out_dir);
    let delivered: Vec<String> = names.into_iter().chain(phones).collect();
    assert_nothing_shown(&run, &out_dir, &delivered, 3);
}

/// No false positives: every country of another seed's synthetic deliveries passes the content checks.
#[test]
fn clean_synthetic_deliveries_trip_no_content_check() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    let synth = dh(None, &["synth", "--out", s(&raw), "--seed", "2"]);
    assert!(synth.status.success(), "{}", describe(&synth));
    let validate = dh(Some(KEY), &["validate", "--raw-dir", s(&raw)]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
    // Row problems (the faults `dh synth` plants) are expected; no country fails a check of its deliveries.
    assert!(!text.contains("content check"), "{}", describe(&validate));
    assert!(
        text.contains(&format!(
            "in {} countries: 0 configuration, 0 delivery,",
            common::countries().len()
        )),
        "{}",
        describe(&validate)
    );
}
