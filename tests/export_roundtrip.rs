//! `dh export` end to end on `dh synth` data: every cell, variable label, value label and missing code of the
//! exported `.dta` and `.sav` files, read back by independent readers (pyreadstat and R haven, each when
//! installed; the project's own SPSS/Stata readers otherwise), equals what the normalised Parquet files and the
//! schemas say; two exports of the same run are byte-identical; `dh run --export` writes the same files and carries
//! them over; bad requests exit 3, an unwritable output folder 74.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
use common::{describe, dh, read_parquet, s, workspace};
use serde_json::Value;

const KEY: &str = "ZXhwb3J0LXJvdW5kdHJpcC10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm";
const COUNTRIES: &str = "ETH,KEN";

/// What a reader should see in one file: names, variable labels, value labels, missing ranges and cells, in the
/// dump layout of tests/fixtures/export/dump_*.
struct Expected {
    names: Vec<String>,
    labels: BTreeMap<String, String>,
    value_labels: BTreeMap<String, Vec<(Value, String)>>,
    missing_ranges: BTreeMap<String, Vec<(f64, f64)>>,
    cells: BTreeMap<String, Vec<Value>>,
    /// Text columns (an empty cell is empty text, not system missing).
    text_columns: Vec<String>,
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian, H. Hinnant's civil-from-days).
fn iso_date(days: i32) -> String {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn num(v: f64) -> Value {
    serde_json::json!(v)
}

/// The expected content of `<table>.dta` (`dta = true`) or `.sav`, from the Parquet parts and the schema alone.
fn expected(out: &Path, schema: &dh_config::TableSchema, dta: bool) -> Expected {
    let fields: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    let short = dh_config::short_names::short_names(&fields);
    let mut e = Expected {
        names: std::iter::once("country".to_string())
            .chain(short.iter().cloned())
            .collect(),
        labels: BTreeMap::new(),
        value_labels: BTreeMap::new(),
        missing_ranges: BTreeMap::new(),
        cells: BTreeMap::new(),
        text_columns: vec!["country".to_string()],
    };
    e.labels
        .insert("country".into(), "Country (ISO 3166-1 alpha-3 code)".into());
    let missing_key = |i: usize| -> Value {
        if dta {
            Value::String(format!(".{}", (b'a' + i as u8) as char))
        } else {
            num(schema.missing_values[i].value as f64)
        }
    };
    for (f, name) in schema.fields.iter().zip(&short) {
        e.labels.insert(name.clone(), f.title.clone());
        if f.field_type == dh_config::FieldType::String && f.categories.is_none() {
            e.text_columns.push(name.clone());
        }
        if let Some(categories) = &f.categories {
            let mut labels: Vec<(Value, String)> = categories
                .iter()
                .map(|c| (num(c.value as f64), c.label.clone()))
                .collect();
            labels.extend(
                schema
                    .missing_values
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (missing_key(i), m.label.clone())),
            );
            e.value_labels.insert(name.clone(), labels);
            if !dta {
                e.missing_ranges.insert(name.clone(), vec![(-4.0, -1.0)]);
            }
        }
    }
    let mut country_dirs: Vec<_> = std::fs::read_dir(out.join("normalised").join(&schema.name))
        .expect("table folder")
        .map(|d| d.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    country_dirs.sort();
    let mut cells: Vec<Vec<Value>> = vec![Vec::new(); fields.len() + 1];
    for dir in country_dirs {
        let iso3 = dir.trim_start_matches("country=").to_string();
        let path = out
            .join("normalised")
            .join(&schema.name)
            .join(&dir)
            .join("part-0.parquet");
        for batch in read_parquet(&path) {
            cells[0].extend(std::iter::repeat_n(
                Value::String(iso3.clone()),
                batch.num_rows(),
            ));
            for (i, f) in schema.fields.iter().enumerate() {
                let array = batch.column_by_name(&f.name).expect("column");
                let out = &mut cells[i + 1];
                if let Some(categories) = &f.categories {
                    let text = arrow::compute::cast(array, &DataType::Utf8).expect("cast");
                    for v in text.as_string::<i32>().iter() {
                        out.push(match v {
                            None => Value::String(".".into()),
                            Some(label) => match categories.iter().find(|c| c.label == label) {
                                Some(c) => num(c.value as f64),
                                None => missing_key(
                                    schema
                                        .missing_values
                                        .iter()
                                        .position(|m| m.label == label)
                                        .expect("a missing label"),
                                ),
                            },
                        });
                    }
                    continue;
                }
                match f.field_type {
                    dh_config::FieldType::String => {
                        let text = arrow::compute::cast(array, &DataType::Utf8).expect("cast");
                        out.extend(
                            text.as_string::<i32>()
                                .iter()
                                .map(|v| Value::String(v.unwrap_or_default().to_string())),
                        );
                    }
                    dh_config::FieldType::Date => {
                        let d = arrow::compute::cast(array, &DataType::Date32).expect("cast");
                        out.extend(
                            d.as_primitive::<Date32Type>()
                                .iter()
                                .map(|v| Value::String(v.map_or(".".to_string(), iso_date))),
                        );
                    }
                    dh_config::FieldType::Integer => {
                        let v = arrow::compute::cast(array, &DataType::Int64).expect("cast");
                        out.extend(
                            v.as_primitive::<Int64Type>()
                                .iter()
                                .map(|v| v.map_or(Value::String(".".into()), |v| num(v as f64))),
                        );
                    }
                    dh_config::FieldType::Number | dh_config::FieldType::Boolean => {
                        let v = arrow::compute::cast(array, &DataType::Float64).expect("cast");
                        out.extend(
                            v.as_primitive::<Float64Type>()
                                .iter()
                                .map(|v| v.map_or(Value::String(".".into()), num)),
                        );
                    }
                }
            }
        }
    }
    for (name, column) in e.names.clone().into_iter().zip(cells) {
        e.cells.insert(name, column);
    }
    e
}

/// Same cell: equal text, or numbers equal to 1e-12 relative (readers print doubles with 15-17 digits); `got` may
/// give a number as text (the haven dump does) where a number is expected.
fn same(got: &Value, want: &Value) -> bool {
    let got_number = got
        .as_f64()
        .or_else(|| want.as_f64().and(got.as_str()?.parse::<f64>().ok()));
    match (got_number, want.as_f64()) {
        (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
        _ => got == want,
    }
}

/// Compares a reader's dump with the expectation, naming the file, column and row of the first difference.
fn compare(what: &str, dump: &Value, e: &Expected) {
    let names: Vec<String> = serde_json::from_value(dump["names"].clone()).expect("names");
    assert_eq!(names, e.names, "{what}: names");
    for (name, label) in &e.labels {
        assert_eq!(
            dump["labels"][name].as_str(),
            Some(label.as_str()),
            "{what}: label of {name}"
        );
    }
    for name in &e.names {
        let got = dump["value_labels"].get(name);
        match e.value_labels.get(name) {
            None => assert!(
                got.is_none_or(|v| v.as_array().is_some_and(Vec::is_empty)),
                "{what}: {name} labelled"
            ),
            Some(want) => {
                let mut got: Vec<(Value, String)> = got
                    .and_then(Value::as_array)
                    .unwrap_or_else(|| panic!("{what}: no value labels on {name}"))
                    .iter()
                    .map(|p| (p[0].clone(), p[1].as_str().unwrap_or_default().to_string()))
                    .collect();
                // An independent reader gives them in the file's order: the codebook's, then the missing codes.
                if !what.starts_with("dh-ingest") {
                    assert!(
                        got.len() == want.len()
                            && got
                                .iter()
                                .zip(want)
                                .all(|(g, w)| same(&g.0, &w.0) && g.1 == w.1),
                        "{what}: value labels of {name} not in codebook order: {got:?} != {want:?}"
                    );
                }
                let mut want = want.clone();
                let key = |p: &(Value, String)| p.0.to_string();
                got.sort_by_key(key);
                want.sort_by_key(key);
                assert_eq!(
                    got.len(),
                    want.len(),
                    "{what}: value labels of {name}: {got:?}"
                );
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        same(&g.0, &w.0) && g.1 == w.1,
                        "{what}: value labels of {name}: {got:?} != {want:?}"
                    );
                }
            }
        }
        let ranges: Vec<(f64, f64)> = dump["missing_ranges"]
            .get(name)
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        (
                            r[0].as_f64().unwrap_or(f64::NAN),
                            r[1].as_f64().unwrap_or(f64::NAN),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            ranges,
            e.missing_ranges.get(name).cloned().unwrap_or_default(),
            "{what}: missing range of {name}"
        );
        let got = dump["cells"][name]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no cells of {name}"));
        let want = &e.cells[name];
        assert_eq!(got.len(), want.len(), "{what}: rows of {name}");
        for (row, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                same(g, w),
                "{what}: {name} row {}: read {g}, expected {w}",
                row + 1
            );
        }
    }
}

/// `python3` with pyreadstat, `Rscript` with haven and jsonlite: the readers available here.
fn readers() -> Vec<(&'static str, Vec<String>)> {
    let fixtures = workspace().join("tests/fixtures/export");
    let mut out = Vec::new();
    if std::env::var("DH_EXPORT_TEST_READERS").is_ok_and(|v| v == "own") {
        return out;
    }
    let ok = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ok("python3", &["-c", "import pyreadstat"]) {
        out.push((
            "pyreadstat",
            vec![
                "python3".into(),
                s(&fixtures.join("dump_pyreadstat.py")).into(),
            ],
        ));
    }
    if ok("Rscript", &["-e", "library(haven); library(jsonlite)"]) {
        out.push((
            "haven",
            vec!["Rscript".into(), s(&fixtures.join("dump_haven.R")).into()],
        ));
    }
    out
}

fn dump(reader: &[String], file: &Path, json: &Path) -> Value {
    let out = Command::new(&reader[0])
        .args(&reader[1..])
        .arg(file)
        .arg(json)
        .output()
        .expect("reader");
    assert!(
        out.status.success(),
        "{} {}: {}",
        reader[1],
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(json).expect("dump")).expect("json")
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("export dir")
        .map(|e| {
            let p = e.expect("entry").path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect()
}

#[test]
fn exported_files_read_back_cell_for_cell_and_are_deterministic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    let out = tmp.path().join("out");
    common::synth(&raw, COUNTRIES, "1");
    let run = dh(
        Some(KEY),
        &[
            "run",
            "--raw-dir",
            s(&raw),
            "--out-dir",
            s(&out),
            "--countries",
            COUNTRIES,
            "--quiet",
        ],
    );
    assert!(run.status.success(), "run: {}", describe(&run));

    let (e1, e2) = (tmp.path().join("e1"), tmp.path().join("e2"));
    for dir in [&e1, &e2] {
        let export = dh(
            None,
            &[
                "export",
                "--format",
                "dta,sav",
                "--from",
                s(&out),
                "--out-dir",
                s(dir),
                "--quiet",
            ],
        );
        assert!(export.status.success(), "export: {}", describe(&export));
    }
    let (first, second) = (files(&e1), files(&e2));
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &first {
        assert!(
            bytes == &second[name],
            "{name} differs between two exports of the same run"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in first.keys() {
            let mode = std::fs::metadata(e1.join(name))
                .expect("meta")
                .permissions()
                .mode()
                & 0o077;
            assert_eq!(mode, 0, "{name} is readable by others");
        }
    }
    run_export_matches_dh_export_and_is_incremental(&raw, &out, &first);

    let (zlib, plain) = (tmp.path().join("zlib"), tmp.path().join("plain"));
    for (compression, dir) in [("zlib", &zlib), ("none", &plain)] {
        let export = dh(
            None,
            &[
                "export",
                "--format",
                "sav",
                "--sav-compression",
                compression,
                "--from",
                s(&out),
                "--tables",
                "child_survey,interview_register",
                "--out-dir",
                s(dir),
                "--quiet",
            ],
        );
        assert!(
            export.status.success(),
            "export {compression}: {}",
            describe(&export)
        );
    }
    check_headers(&e1, &zlib, &plain);

    let schemas = dh_config::load_schemas(&workspace().join("schemas")).expect("schemas");
    let tables: Vec<String> = std::fs::read_dir(out.join("normalised"))
        .expect("normalised")
        .map(|d| d.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(tables.len() >= 6, "{tables:?}");
    let readers = readers();
    if readers.is_empty() && std::env::var("DH_EXPORT_TEST_READERS").is_err() {
        common::optional::tool_missing(
            "the independent read-back of the exported files (dh's own readers are used instead)",
            "neither python3 with pyreadstat nor Rscript with haven and jsonlite is installed",
        );
    }
    let json = tmp.path().join("dump.json");
    let mut compared = 0;
    for table in &tables {
        let schema = schemas.get(table).expect("schema");
        for (dta, dir) in [(true, &e1), (false, &e1), (false, &zlib), (false, &plain)] {
            let file = dir.join(format!("{table}.{}", if dta { "dta" } else { "sav" }));
            if !file.exists() {
                continue;
            }
            let want = expected(&out, schema, dta);
            if readers.is_empty() {
                compare(
                    &format!("dh-ingest {}", file.display()),
                    &own_dump(&file, &want),
                    &want,
                );
                compared += 1;
            }
            for (reader, command) in &readers {
                let got = dump(command, &file, &json);
                compare(&format!("{reader} {}", file.display()), &got, &want);
                compared += 1;
            }
        }
    }
    assert!(compared >= tables.len() * 2, "{compared} comparisons");
}

/// The formats the contract names: every `.dta` is release 118 (UTF-8, little-endian); a `.sav` is
/// bytecode-compressed by default (`$FL2`, compression 1), `$FL3` with compression 2 under
/// `--sav-compression zlib`, `$FL2` with compression 0 under `none`.
fn check_headers(default: &Path, zlib: &Path, plain: &Path) {
    let sav_header = |path: &Path| {
        let bytes = std::fs::read(path).expect("sav");
        let code = i32::from_le_bytes(bytes[72..76].try_into().expect("4 bytes"));
        (String::from_utf8_lossy(&bytes[..4]).into_owned(), code)
    };
    for (name, bytes) in files(default) {
        if name.ends_with(".dta") {
            assert!(
                bytes.starts_with(
                    b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder>"
                ),
                "{name}: not a format 118 file"
            );
        } else if name.ends_with(".sav") {
            assert_eq!(
                sav_header(&default.join(&name)),
                ("$FL2".to_string(), 1),
                "{name}"
            );
        }
    }
    for (dir, want) in [(zlib, ("$FL3", 2)), (plain, ("$FL2", 0))] {
        for name in files(dir).keys() {
            assert_eq!(
                sav_header(&dir.join(name)),
                (want.0.to_string(), want.1),
                "{}",
                dir.join(name).display()
            );
        }
    }
}

/// `dh run --export dta,sav` writes the same files as `dh export` into `OUT/export/`, carries them over (same
/// inode) when nothing changed, and a run without `--export` publishes no `export/`.
fn run_export_matches_dh_export_and_is_incremental(
    raw: &Path,
    out: &Path,
    exported: &BTreeMap<String, Vec<u8>>,
) {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--raw-dir",
            s(raw),
            "--out-dir",
            s(out),
            "--countries",
            COUNTRIES,
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let r = dh(Some(KEY), &args);
        assert!(r.status.success(), "run {extra:?}: {}", describe(&r));
    };
    run(&["--export", "dta,sav"]);
    let export = out.join("export");
    let published = files(&export);
    for (name, bytes) in exported {
        assert!(
            published.get(name) == Some(bytes),
            "OUT/export/{name} differs from dh export"
        );
    }
    assert!(published.contains_key("inputs.sha256"));
    let manifest = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
    assert!(
        manifest.contains("\"path\": \"export/child_survey.dta\""),
        "{manifest}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let inode = |p: &Path| std::fs::metadata(p).expect("meta").ino();
        let before = inode(&export.join("child_survey.sav"));
        run(&["--export", "dta,sav"]);
        assert_eq!(
            before,
            inode(&export.join("child_survey.sav")),
            "unchanged inputs: the file is carried over"
        );
        assert_eq!(files(&export), published);
    }
    run(&[]);
    assert!(
        !export.exists(),
        "a run without --export publishes no export/"
    );
    let manifest = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
    assert!(!manifest.contains("\"kind\": \"export\""));
}

/// Without pyreadstat and haven (or with `DH_EXPORT_TEST_READERS=own`): the project's own readers (dh-ingest) read
/// the file back, cells as canonical text (`1`, `.a`, ISO dates, empty = system missing), with variable and value
/// labels; the dump is compared like an independent reader's (user-missing ranges excepted: ingest lists codes).
fn own_dump(file: &Path, want: &Expected) -> Value {
    use dh_config::country::{ColumnMap, Delivery, Format};
    let format = if file.extension().is_some_and(|e| e == "dta") {
        Format::Dta
    } else {
        Format::Sav
    };
    let mut delivery = Delivery::new(file.file_name().unwrap().to_string_lossy().as_ref(), format);
    for name in &want.names {
        delivery.columns.insert(
            name.clone(),
            ColumnMap {
                source: Some(name.clone()),
                ..Default::default()
            },
        );
    }
    let table = dh_ingest::read_delivery(file, &delivery)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let key = |code: &str| {
        code.parse::<f64>()
            .map_or(Value::String(code.to_string()), num)
    };
    let mut dump = serde_json::json!({"names": [], "labels": {}, "value_labels": {}, "missing_ranges": {}, "cells": {}});
    for column in &table.columns {
        let name = column.name.clone();
        let text = want.text_columns.contains(&name);
        dump["names"]
            .as_array_mut()
            .unwrap()
            .push(Value::String(name.clone()));
        if let Some(label) = &column.labels.variable_label {
            dump["labels"][&name] = Value::String(label.clone());
        }
        if !column.labels.value_labels.is_empty() {
            dump["value_labels"][&name] = column
                .labels
                .value_labels
                .iter()
                .map(|(code, label)| serde_json::json!([key(code), label]))
                .collect();
        }
        if let Some(ranges) = want.missing_ranges.get(&name) {
            dump["missing_ranges"][&name] = ranges
                .iter()
                .map(|(lo, hi)| serde_json::json!([lo, hi]))
                .collect();
        }
        dump["cells"][&name] = column
            .iter()
            .map(|c| {
                Value::String(if c.is_empty() && !text {
                    ".".into()
                } else {
                    c.to_string()
                })
            })
            .collect();
    }
    dump
}

#[test]
fn bad_requests_exit_3_and_an_unwritable_folder_74() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let not_run = dh(
        None,
        &[
            "export",
            "--format",
            "dta",
            "--from",
            s(tmp.path()),
            "--out-dir",
            s(&tmp.path().join("x")),
        ],
    );
    assert_eq!(not_run.status.code(), Some(3), "{}", describe(&not_run));
    assert!(
        String::from_utf8_lossy(&not_run.stderr).contains("not the output folder of a `dh run`"),
        "{}",
        describe(&not_run)
    );
    // A folder with a manifest and normalised/ but no such table.
    std::fs::create_dir_all(tmp.path().join("normalised/child_survey/country=KEN")).expect("mkdir");
    std::fs::write(tmp.path().join("manifest.json"), "{}").expect("manifest");
    let unknown = dh(
        None,
        &[
            "export",
            "--format",
            "sav",
            "--from",
            s(tmp.path()),
            "--tables",
            "children",
            "--out-dir",
            s(&tmp.path().join("x")),
        ],
    );
    assert_eq!(unknown.status.code(), Some(3), "{}", describe(&unknown));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no table `children`"),
        "{}",
        describe(&unknown)
    );
    let country = dh(
        None,
        &[
            "export",
            "--format",
            "sav",
            "--from",
            s(tmp.path()),
            "--countries",
            "XYZ",
            "--out-dir",
            s(&tmp.path().join("x")),
        ],
    );
    assert_eq!(country.status.code(), Some(3), "{}", describe(&country));
    assert!(!tmp.path().join("x").join("child_survey.sav").exists());
    // An output folder that cannot be created (below a regular file): I/O error, 74.
    let file = tmp.path().join("file");
    std::fs::write(&file, "").expect("file");
    let io = dh(
        None,
        &[
            "export",
            "--format",
            "dta",
            "--from",
            s(tmp.path()),
            "--out-dir",
            s(&file.join("x")),
        ],
    );
    assert_eq!(io.status.code(), Some(74), "{}", describe(&io));
}
