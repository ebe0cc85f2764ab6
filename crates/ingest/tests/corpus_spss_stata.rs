//! The SPSS and Stata corpus: small files written by independent software (pyreadstat, PSPP, R haven, pandas, R
//! foreign; see `tests/corpus/README.md`), each with the script that made it and an expected-content JSON written
//! from the writer's side (what the script told the writer to store). Every file is read through dh's readers and
//! every cell, variable label, value label, missing code and missing range is compared. None of the writers is
//! needed at test time.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use dh_config::Delivery;
use dh_config::country::{Encoding, Format};
use dh_ingest::{ColumnSelection, RawTable, readers::reader_for};
use serde_json::Value;

fn corpus_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files = Vec::new();
    for folder in ["spss", "stata"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn read(expected: &Value, dir: &Path) -> Result<RawTable, String> {
    let file = dir.join(expected["file"].as_str().unwrap());
    let format = match expected["format"].as_str().unwrap() {
        "sav" => Format::Sav,
        "dta" => Format::Dta,
        other => panic!("format {other}"),
    };
    let delivery = Delivery {
        encoding: Encoding::from_label(expected["encoding"].as_str().unwrap()).unwrap(),
        ..Delivery::new(file.display().to_string(), format)
    };
    reader_for(format, &file)
        .unwrap()
        .read(&file, &delivery, &ColumnSelection::every_column())
        .map_err(|e| e.to_string())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn bound(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::String(s) if s == "inf" => f64::INFINITY,
        other => other.as_f64().unwrap(),
    }
}

/// Compares one corpus file; returns the differences found (empty when it reads as expected).
fn differences(json: &Path) -> Vec<String> {
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let t = match read(&expected, json.parent().unwrap()) {
        Ok(t) => t,
        Err(e) => return vec![format!("not read: {e}")],
    };
    let mut diffs = Vec::new();
    let header = strings(&expected["header"]);
    let names: Vec<&str> = t.column_names().collect();
    if names != header {
        diffs.push(format!("header {names:?}, expected {header:?}"));
        return diffs;
    }
    let rows = expected["rows"].as_array().unwrap();
    if t.num_rows() != rows.len() {
        diffs.push(format!("{} rows, expected {}", t.num_rows(), rows.len()));
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, want) in strings(row).iter().enumerate() {
            let got = t.columns[c].get(r).unwrap_or("<none>");
            if got != want {
                diffs.push(format!(
                    "row {} `{}`: {got:?}, expected {want:?}",
                    r + 1,
                    header[c]
                ));
            }
        }
    }
    for column in &t.columns {
        let name = column.name.as_str();
        let labels = &column.labels;
        let want = expected["variable_labels"][name].as_str();
        if labels.variable_label.as_deref() != want {
            diffs.push(format!(
                "`{name}` variable label {:?}, expected {want:?}",
                labels.variable_label
            ));
        }
        let mut want: Vec<(String, String)> = expected["value_labels"][name]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        let p = strings(p);
                        (p[0].clone(), p[1].clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut got = labels.value_labels.clone();
        want.sort();
        got.sort();
        if got != want {
            diffs.push(format!("`{name}` value labels {got:?}, expected {want:?}"));
        }
        let mut want = expected["missing_codes"]
            .get(name)
            .map(strings)
            .unwrap_or_default();
        let mut got = labels.missing_codes.clone();
        want.sort();
        got.sort();
        if got != want {
            diffs.push(format!("`{name}` missing codes {got:?}, expected {want:?}"));
        }
        let want: Vec<(f64, f64)> = expected["missing_ranges"][name]
            .as_array()
            .map(|a| a.iter().map(|p| (bound(&p[0]), bound(&p[1]))).collect())
            .unwrap_or_default();
        if labels.missing_ranges != want {
            diffs.push(format!(
                "`{name}` missing ranges {:?}, expected {want:?}",
                labels.missing_ranges
            ));
        }
    }
    let want = strings(&expected["warnings"]);
    if t.warnings.len() != want.len()
        || !want
            .iter()
            .all(|w| t.warnings.iter().any(|g| g.contains(w)))
    {
        diffs.push(format!("warnings {:?}, expected {want:?}", t.warnings));
    }
    diffs
}

#[test]
fn every_corpus_file_reads_as_its_writer_was_told() {
    let files = corpus_files();
    assert!(files.len() >= 26, "corpus incomplete: {files:?}");
    let mut failures = Vec::new();
    for json in &files {
        let diffs = differences(json);
        if !diffs.is_empty() {
            failures.push(format!(
                "{}:\n  {}",
                json.file_name().unwrap().to_string_lossy(),
                diffs.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// No warning or error of the corpus reads may hold a cell's text (here: the non-ASCII region names).
#[test]
fn warnings_never_hold_cell_text() {
    for json in corpus_files() {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let Ok(t) = read(&expected, json.parent().unwrap()) else {
            continue;
        };
        for w in &t.warnings {
            for secret in ["عمّان", "กรุงเทพฯ", "São Tomé", "إربد", "Zarqa"]
            {
                assert!(!w.contains(secret), "{}: {w}", json.display());
            }
        }
    }
}

fn corpus(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(path)
}

fn read_with(
    path: &Path,
    format: Format,
    encoding: &str,
) -> Result<RawTable, dh_ingest::IngestError> {
    let delivery = Delivery {
        encoding: Encoding::from_label(encoding).unwrap(),
        ..Delivery::new(path.display().to_string(), format)
    };
    reader_for(format, path)?.read(path, &delivery, &ColumnSelection::every_column())
}

/// Issue 10: a finding of the SPSS library (here a header case size that disagrees with the variable list) was a
/// refusal ("the file looks damaged"); it is a warning, and the file reads.
#[test]
fn spss_library_findings_are_warnings() {
    let mut bytes = std::fs::read(corpus("spss/pspp_compressed.sav")).unwrap();
    bytes[68..72].copy_from_slice(&3i32.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case_size.sav");
    std::fs::write(&path, &bytes).unwrap();
    let t = read_with(&path, Format::Sav, "utf-8").unwrap();
    assert_eq!(t.num_rows(), 4);
    assert_eq!(
        t.column("q1").unwrap().iter().collect::<Vec<_>>(),
        ["1", "2", "8", "9"]
    );
    assert!(
        t.warnings
            .iter()
            .any(|w| w.starts_with("SPSS reader: header declares 3 values per row")),
        "{:?}",
        t.warnings
    );
}

/// Issue 10: Stata's `.a` label was listed as `.b` (the label key of `.a` is 2,147,483,622, not 2,147,483,621).
#[test]
fn stata_extended_missing_labels_are_not_shifted() {
    for file in ["stata/haven_v15.dta", "stata/haven_v13.dta"] {
        let t = read_with(&corpus(file), Format::Dta, "utf-8").unwrap();
        let q1 = &t.column("q1").unwrap().labels;
        assert_eq!(q1.label_of(".a"), Some("Don't know"), "{file}");
        assert_eq!(
            q1.codes_labelled("Refused").collect::<Vec<_>>(),
            [".b"],
            "{file}"
        );
        assert_eq!(q1.label_of(".c"), Some("Not applicable"), "{file}");
        assert_eq!(q1.label_of(".d"), None, "{file}");
    }
}

/// Issue 10: an SPSS header case count of 0 or -1 (older writers) was refused as damaged; a positive count larger
/// than the data (a truncated file) must still be an error.
#[test]
fn spss_case_count_zero_or_unknown_reads_but_truncation_fails() {
    let t = read_with(&corpus("spss/pspp_ncases0.sav"), Format::Sav, "utf-8").unwrap();
    assert_eq!(t.num_rows(), 4);
    assert!(
        t.warnings.iter().any(|w| w.contains("declares 0 cases")),
        "{:?}",
        t.warnings
    );
    let t = read_with(&corpus("spss/pspp_ncases_minus1.sav"), Format::Sav, "utf-8").unwrap();
    assert_eq!(t.num_rows(), 4);
    let dir = tempfile::tempdir().unwrap();
    // More cases than declared: nothing is lost, all are read, with a warning.
    let mut bytes = std::fs::read(corpus("spss/pspp_uncompressed.sav")).unwrap();
    bytes[80..84].copy_from_slice(&2i32.to_le_bytes());
    let path = dir.path().join("more.sav");
    std::fs::write(&path, &bytes).unwrap();
    let t = read_with(&path, Format::Sav, "utf-8").unwrap();
    assert_eq!(t.num_rows(), 4);
    assert!(
        t.warnings.iter().any(|w| w.contains("declares 2 cases")),
        "{:?}",
        t.warnings
    );
    for (source, declared) in [
        ("spss/pspp_uncompressed.sav", 5i32),
        ("spss/pspp_zcompressed.zsav", 40),
    ] {
        let mut bytes = std::fs::read(corpus(source)).unwrap();
        bytes[80..84].copy_from_slice(&declared.to_le_bytes());
        let path = dir.path().join("truncated.sav");
        std::fs::write(&path, &bytes).unwrap();
        let err = read_with(&path, Format::Sav, "utf-8")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("truncated") && err.contains(&format!("declares {declared} cases")),
            "{err}"
        );
    }
}

/// Issue 10: `encoding` was accepted and ignored for `.sav`/`.dta`.
#[test]
fn configured_encoding_is_honoured_for_spss_and_stata() {
    let arabic = ["عمّان", "إربد", "Zarqa"];
    // Stata 114 from R foreign: windows-1256 bytes, nothing in the file says so.
    let t = read_with(
        &corpus("stata/foreign_cp1256.dta"),
        Format::Dta,
        "windows-1256",
    )
    .unwrap();
    assert_eq!(
        t.column("region").unwrap().iter().collect::<Vec<_>>(),
        arabic
    );
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    // Without it: windows-1252 (Stata's old code page), with a warning naming the variable, never the text.
    let t = read_with(&corpus("stata/foreign_cp1256.dta"), Format::Dta, "utf-8").unwrap();
    assert_ne!(t.column("region").unwrap().get(0), Some(arabic[0]));
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("`region`") && w.contains("windows-1252")),
        "{:?}",
        t.warnings
    );
    // Stata 117 from haven holding UTF-8: read as UTF-8 whatever is configured.
    for encoding in ["utf-8", "windows-1256"] {
        let t = read_with(&corpus("stata/haven_v13.dta"), Format::Dta, encoding).unwrap();
        assert_eq!(t.column("region").unwrap().get(0), Some("عمّان"));
    }
    // Release 119 (UTF-8 by definition) holding one Latin-1 value: that value reads as windows-1252 with a warning,
    // the UTF-8 ones as UTF-8.
    let mut bytes = std::fs::read(corpus("stata/pyreadstat_v15.dta")).unwrap();
    let at = bytes
        .windows(10)
        .position(|w| w == "São Tomé".as_bytes())
        .unwrap();
    bytes.splice(at..at + 10, b"S\xe3o Tom\xe9\0\0".iter().copied());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin_in_119.dta");
    std::fs::write(&path, &bytes).unwrap();
    let t = read_with(&path, Format::Dta, "utf-8").unwrap();
    assert_eq!(
        t.column("region").unwrap().iter().collect::<Vec<_>>(),
        ["عمّان", "กรุงเทพฯ", "São Tomé", ""]
    );
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("`region`") && w.contains("windows-1252")),
        "{:?}",
        t.warnings
    );
    assert_eq!(
        t.column("q1").unwrap().labels.variable_label.as_deref(),
        Some("Offered money for images?")
    );
    // SPSS declaring windows-1252 for windows-1256 text: the configured encoding overrides the declaration.
    let file = corpus("spss/pspp_cp1256_declared_1252.sav");
    let t = read_with(&file, Format::Sav, "windows-1256").unwrap();
    assert_eq!(
        t.column("region").unwrap().iter().collect::<Vec<_>>(),
        arabic
    );
    assert_eq!(
        t.column("region").unwrap().labels.variable_label.as_deref(),
        Some("المحافظة")
    );
    let t = read_with(&file, Format::Sav, "utf-8").unwrap();
    assert_eq!(
        t.column("region").unwrap().get(0),
        Some("ÚãøÇä"),
        "the file's own declaration"
    );
    // SPSS declaring UTF-8 but holding Latin-1 bytes: cannot be re-decoded, so a configured code page is an error
    // naming the variable (not the value); with utf-8 configured, a warning.
    let mut bytes = std::fs::read(corpus("spss/pspp_uncompressed.sav")).unwrap();
    let at = bytes
        .windows(4)
        .position(|w| w == "São".as_bytes())
        .unwrap();
    bytes.splice(at..at + 4, b"S\xe3o ".iter().copied());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin_in_utf8.sav");
    std::fs::write(&path, &bytes).unwrap();
    let err = read_with(&path, Format::Sav, "windows-1252")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`region`") && err.contains("windows-1252") && !err.contains("S\u{FFFD}o"),
        "{err}"
    );
    let t = read_with(&path, Format::Sav, "utf-8").unwrap();
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("`region`") && w.contains("not UTF-8")),
        "{:?}",
        t.warnings
    );
}

/// Issue 10: one instant gives one text whatever wrote it (SPSS fractional seconds were truncated to .899999;
/// Stata periods were plain integers; SPSS TIME was a number of seconds).
#[test]
fn one_instant_one_text_across_writers() {
    for (file, format) in [
        ("spss/pyreadstat_plain.sav", Format::Sav),
        ("spss/pspp_compressed.sav", Format::Sav),
        ("spss/haven_zsav.zsav", Format::Sav),
        ("stata/pandas_118.dta", Format::Dta),
        ("stata/pyreadstat_v15.dta", Format::Dta),
        ("stata/haven_v13.dta", Format::Dta),
    ] {
        let t = read_with(&corpus(file), format, "utf-8").unwrap();
        assert_eq!(
            t.column("stamp").unwrap().get(0),
            Some("2021-03-04 10:20:30.9"),
            "{file}"
        );
        assert_eq!(
            t.column("stamp").unwrap().get(1),
            Some("2021-03-04"),
            "{file}"
        );
    }
    let t = read_with(&corpus("stata/pandas_114.dta"), Format::Dta, "utf-8").unwrap();
    let first = |c: &str| t.column(c).unwrap().get(0).unwrap().to_string();
    assert_eq!(
        [
            first("month"),
            first("quarter"),
            first("week"),
            first("half"),
            first("year")
        ],
        [
            "2021-03-01",
            "2021-04-01",
            "2021-01-15",
            "2021-07-01",
            "2021"
        ]
    );
    let t = read_with(&corpus("spss/pspp_uncompressed.sav"), Format::Sav, "utf-8").unwrap();
    assert_eq!(
        t.column("tod").unwrap().iter().collect::<Vec<_>>(),
        ["13:30:15", "00:00:00", "23:59:59.9", ""]
    );
    assert_eq!(t.column("dur").unwrap().get(1), Some("30:00:00"));
}

/// Issue 10: SPSS `LO THRU 0` and `LO THRU HI` come through with infinite bounds; `.zsav` files read.
#[test]
fn spss_missing_ranges_with_lo_hi_and_zsav() {
    for file in ["spss/pspp_uncompressed.sav", "spss/pspp_zcompressed.zsav"] {
        let t = read_with(&corpus(file), Format::Sav, "utf-8").unwrap();
        let income = &t.column("income").unwrap().labels;
        assert_eq!(income.missing_ranges, [(f64::NEG_INFINITY, 0.0)], "{file}");
        assert!(income.is_declared_missing("-10") && !income.is_declared_missing("250.5"));
        assert_eq!(
            t.column("q2").unwrap().labels.missing_ranges,
            [(f64::NEG_INFINITY, f64::INFINITY)]
        );
        assert_eq!(
            t.column("age").unwrap().labels.missing_ranges,
            [(97.0, 99.0)]
        );
        assert_eq!(
            t.column("q1").unwrap().labels.variable_label.as_deref(),
            Some("Offered money for images?")
        );
    }
}
