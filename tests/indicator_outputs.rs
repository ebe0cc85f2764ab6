//! The indicator outputs explain themselves (issue 13), checked on a full run of the real binary:
//! `indicators.csv` has `statistic`, `label`, `unit` and `universe_label` filled on every row (the Parquet file has
//! the same columns); `flags.csv` lists every flag that appears (and exactly the flag registry), and the Parquet
//! file carries the same legend as key-value metadata; no number is written with a thousands separator and years
//! print as `2013`; every non-`ok` flag of a total row has its mark (from `comparison_legend.csv`) in that row's
//! `comparison.csv` cell, and no cell carries a mark its row does not have.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{describe, dh, s};
use dh_indicators::flags::Flag;

const KEY: &str = "indicator-outputs-key-0123456789abcdef0123";

/// A CSV file as its header and rows of column -> cell (strict: every record has the header's length).
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = reader
        .headers()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .map(String::from)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// True when `text` holds a digit, a comma and a digit (a thousands separator).
fn has_thousands_separator(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b',' && w[2].is_ascii_digit())
}

#[test]
fn indicator_outputs_carry_labels_units_and_legends_and_mark_every_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (raw, out) = (dir.path().join("raw"), dir.path().join("out"));
    common::synth(&raw, "", "1");
    let run = dh(
        Some(KEY),
        &["run", "--raw-dir", s(&raw), "--out-dir", s(&out), "--quiet"],
    );
    assert!(run.status.success(), "{}", describe(&run));
    let dir = out.join("indicators");

    // flags.csv: the registry, one row per flag, and every flag the table uses.
    let legend = read_csv(&dir.join("flags.csv"));
    let listed: Vec<&str> = legend.iter().map(|r| r["flag"].as_str()).collect();
    let registry: Vec<&str> = Flag::ALL.iter().map(|f| f.as_str()).collect();
    assert_eq!(listed, registry);
    assert!(
        legend
            .iter()
            .all(|r| !r["meaning"].is_empty() && !r["rule"].is_empty())
    );

    let rows = read_csv(&dir.join("indicators.csv"));
    assert!(rows.len() > 1000, "{} rows", rows.len());
    let mut used = BTreeSet::new();
    for r in &rows {
        for f in r["flags"].split(';') {
            used.insert(f.to_string());
            assert!(listed.contains(&f), "flag {f} is not in flags.csv");
        }
        for c in ["statistic", "label", "unit", "universe_label"] {
            assert!(
                !r[c].is_empty(),
                "{} {}: empty {c}",
                r["country"],
                r["indicator"]
            );
        }
        for c in [
            "estimate",
            "se",
            "ci_lower",
            "ci_upper",
            "n_weighted",
            "population_estimate",
        ] {
            assert!(
                r[c].is_empty() || r[c].parse::<f64>().is_ok(),
                "{} {}: {c} = {}",
                r["country"],
                r["indicator"],
                r[c]
            );
        }
        if r["unit"] == "year" && !r["estimate"].is_empty() {
            let year = &r["estimate"];
            assert!(
                year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()),
                "{year}"
            );
        }
    }
    assert!(used.len() >= 5, "{used:?}");
    assert!(
        rows.iter()
            .any(|r| r["unit"] == "year" && r["flag"] == "ok")
    );

    // The Parquet file's key-value metadata holds the same legend.
    let file = std::fs::File::open(dir.join("indicators.parquet")).expect("parquet");
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(file).expect("reader");
    let kv = parquet::file::reader::FileReader::metadata(&reader)
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    // ... and the same descriptive columns as the CSV file.
    let columns: Vec<String> = parquet::file::reader::FileReader::metadata(&reader)
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let csv_header: Vec<String> = rows[0].keys().cloned().collect();
    for c in ["statistic", "label", "unit", "universe_label"] {
        assert!(
            columns.iter().any(|n| n == c),
            "indicators.parquet lacks {c}"
        );
        assert!(
            csv_header.iter().any(|n| n == c),
            "indicators.csv lacks {c}"
        );
    }
    let json = kv
        .iter()
        .find(|k| k.key == "dh.flags")
        .and_then(|k| k.value.clone())
        .expect("dh.flags metadata");
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    let in_metadata: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|f| f["flag"].as_str())
        .collect();
    assert_eq!(in_metadata, listed);
    for (m, l) in json.as_array().expect("array").iter().zip(&legend) {
        assert_eq!(m["rule"].as_str(), Some(l["rule"].as_str()));
    }

    // comparison.csv: every flag of a total row has its mark, no mark without its flag, plain numbers.
    let marks: BTreeMap<String, String> = read_csv(&dir.join("comparison_legend.csv"))
        .into_iter()
        .filter(|r| !r["flag"].is_empty())
        .map(|r| (r["flag"].clone(), r["mark"].clone()))
        .collect();
    for f in Flag::PRECEDENCE {
        assert!(marks.contains_key(f.as_str()), "no mark for {}", f.as_str());
    }
    let comparison = read_csv(&dir.join("comparison.csv"));
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> = comparison
        .iter()
        .map(|r| (r["indicator"].as_str(), r))
        .collect();
    let mut checked = 0;
    // A categorical indicator (the legal status matrix) has no total to compare: comparison.csv leaves it out.
    let compared =
        |r: &&BTreeMap<String, String>| r["domain"] == "total" && r["statistic"] != "categorical";
    for r in rows.iter().filter(compared) {
        let line = by_id
            .get(r["indicator"].as_str())
            .unwrap_or_else(|| panic!("{} not in comparison.csv", r["indicator"]));
        let cell = &line[&r["country"]];
        assert_eq!(line["unit"], r["unit"], "{}", r["indicator"]);
        assert!(!has_thousands_separator(cell), "{cell}");
        let flags: Vec<&str> = r["flags"].split(';').filter(|f| *f != "ok").collect();
        for f in &flags {
            assert!(
                cell.contains(marks[*f].as_str()),
                "{} {}: flag {f} has no mark `{}` in `{cell}`",
                r["country"],
                r["indicator"],
                marks[*f]
            );
        }
        for (flag, mark) in &marks {
            if ["*", "!", "^"].contains(&mark.as_str()) && cell.contains(mark.as_str()) {
                assert!(flags.contains(&flag.as_str()), "`{cell}` marks {flag}");
            }
        }
        if r["unit"] == "year" && r["flag"] == "ok" {
            assert_eq!(cell, &r["estimate"]);
        }
        checked += 1;
    }
    assert!(checked > 500, "{checked}");

    // The report and the workbook write a year as a year too (unit `year`): 2013, never 2,013.
    let years: Vec<&BTreeMap<String, String>> = rows
        .iter()
        .filter(|r| r["unit"] == "year" && r["flag"] == "ok")
        .collect();
    assert!(!years.is_empty(), "no year indicator in the run");
    for r in &years {
        let page = out
            .join("report")
            .join(format!("indicator-{}.html", r["indicator"]));
        let html = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{e}"));
        let year: f64 = r["estimate"].parse().unwrap_or_else(|e| panic!("{e}"));
        let year = year.round() as i64;
        let with_separator = format!("{},{:03}", year / 1000, year % 1000);
        assert!(
            !html.contains(&with_separator) && html.contains(&year.to_string()),
            "{}: {} written as {with_separator}",
            page.display(),
            year
        );
    }
}
