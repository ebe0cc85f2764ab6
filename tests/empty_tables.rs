//! Empty tables (issue 12): a delivery with a header and no data rows (child survey, caregiver survey, frontline
//! survey, ICSE connection), a file whose every row is ragged and a child survey with two header cells swapped (all
//! rows quarantined) used to panic in the
//! expression evaluator (an empty Arrow dictionary), exit 101 with nothing published and the staging folder left
//! behind. Each is now a data error of its own country: `dh run` exits 4 naming the table and the country, the
//! other countries are published, no staging folder remains, and `dh validate` reports the same problem.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;

use common::{describe, dh, s};
use serde_json::Value;

const KEY: &str = "empty-tables-test-key-0123456789abcdef";

/// Keeps the first line (the header) of a delivery file.
fn keep_header_only(path: &Path) {
    let text = fs::read_to_string(path).expect("delivery");
    let header = text.lines().next().expect("header line");
    fs::write(path, format!("{header}\n")).expect("write");
}

/// Swaps two header cells (`sex` and `age`), so that every row's sex and age are out of range.
fn swap_sex_and_age(path: &Path) {
    let text = fs::read_to_string(path).expect("delivery");
    let (header, rest) = text.split_once('\n').expect("header line");
    assert!(header.contains(",sex,age,"), "{header}");
    fs::write(
        path,
        format!("{}\n{rest}", header.replace(",sex,age,", ",age,sex,")),
    )
    .expect("write");
}

/// How a delivery is spoilt.
#[derive(Clone, Copy, PartialEq)]
enum Spoil {
    HeaderOnly,
    Ragged,
    SwappedHeader,
}

/// Adds one field to every data row, so that every row has more fields than the header.
fn make_every_row_ragged(path: &Path) {
    let text = fs::read_to_string(path).expect("delivery");
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().expect("header line"));
    for line in lines {
        out.push_str(line);
        out.push_str(",extra\n");
    }
    fs::write(path, out).expect("write");
}

fn country<'a>(manifest: &'a Value, iso3: &str) -> &'a Value {
    manifest["countries"]
        .as_array()
        .expect("countries")
        .iter()
        .find(|c| c["country"] == iso3)
        .unwrap_or_else(|| panic!("{iso3} not in the manifest: {manifest}"))
}

#[test]
fn empty_tables_fail_their_country_and_the_others_are_published() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    let out = tmp.path().join("out");
    common::synth(&raw, "THA,IDN,KHM,ETH,PHL,MYS,KEN", "5");

    let cases = [
        (
            "THA",
            "child_survey",
            "TH_DH_child_final.csv",
            Spoil::HeaderOnly,
        ),
        (
            "IDN",
            "caregiver_survey",
            "IDN_survei_pengasuh.csv",
            Spoil::HeaderOnly,
        ),
        (
            "KHM",
            "frontline_survey",
            "frontline_workers.csv",
            Spoil::HeaderOnly,
        ),
        (
            "ETH",
            "icse_connection",
            "icse_connection.csv",
            Spoil::HeaderOnly,
        ),
        (
            "PHL",
            "interview_register",
            "interview_register.csv",
            Spoil::Ragged,
        ),
        ("MYS", "child_survey", "MYS_child.csv", Spoil::SwappedHeader),
    ];
    for (iso3, _, file, spoil) in cases {
        let path = raw.join(iso3).join(file);
        match spoil {
            Spoil::HeaderOnly => keep_header_only(&path),
            Spoil::Ragged => make_every_row_ragged(&path),
            Spoil::SwappedHeader => swap_sex_and_age(&path),
        }
    }

    let run = dh(
        Some(KEY),
        &[
            "run",
            "--raw-dir",
            s(&raw),
            "--out-dir",
            s(&out),
            "--countries",
            "THA,IDN,KHM,ETH,PHL,MYS,KEN",
            "--quiet",
        ],
    );
    assert_eq!(run.status.code(), Some(4), "{}", describe(&run));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("panicked"), "{}", describe(&run));

    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(country(&manifest, "KEN")["status"], "ok", "{manifest}");
    assert!(
        out.join("normalised/child_survey/country=KEN/part-0.parquet")
            .exists(),
        "KEN is published"
    );
    for (iso3, table, file, spoil) in cases {
        let c = country(&manifest, iso3);
        assert_eq!(c["status"], "failed", "{iso3}: {c}");
        let error = c["error"].as_str().unwrap_or_default();
        let expected = if spoil != Spoil::HeaderOnly {
            format!("table `{table}` of country {iso3} has no rows left")
        } else {
            format!("table `{table}` of country {iso3} has no rows")
        };
        assert!(error.contains(&expected), "{iso3}: {error}");
        assert!(error.contains(file), "{iso3}: {error}");
        assert!(
            !out.join(format!("normalised/{table}/country={iso3}"))
                .exists(),
            "{iso3}: nothing published for the failed country"
        );
    }
    let leftovers: Vec<String> = fs::read_dir(&out)
        .expect("out")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".staging"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");

    // `dh validate` reports the same problem instead of panicking.
    for (iso3, table, _, spoil) in cases {
        let validate = dh(
            None,
            &["validate", "--raw-dir", s(&raw), "--countries", iso3],
        );
        assert_eq!(
            validate.status.code(),
            Some(4),
            "{iso3}: {}",
            describe(&validate)
        );
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&validate.stdout),
            String::from_utf8_lossy(&validate.stderr)
        );
        assert!(!text.contains("panicked"), "{iso3}: {text}");
        if spoil == Spoil::HeaderOnly {
            assert!(
                text.contains(&format!("table `{table}` of country {iso3} has no rows")),
                "{iso3}: {text}"
            );
        }
    }
}
