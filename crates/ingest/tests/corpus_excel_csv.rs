//! The Excel and CSV part of the corpus of files written by independent software (`tests/corpus/excel`: openpyxl,
//! xlsxwriter, R openxlsx; `tests/corpus/csv`: Python codecs in each code page; see the README there). Each file is
//! read with dh's reader through `read_delivery`, with the layout its `<file>.expected.json` gives, and every cell is
//! compared with what the writer was told to store; warnings must name exactly the formula cells without a cached
//! value and the merged ranges the writer made, and undecodable files must fail naming line and byte offset.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dh_config::country::{Encoding, Format, LineEnding};
use dh_config::{ColumnMap, Delivery};
use dh_ingest::{IngestError, read_delivery};
use serde_json::Value;

fn corpus(dir: &str) -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(dir);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if let Some(data) = name.strip_suffix(".expected.json") {
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            out.push((dir.join(data), expected));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn delivery(format: Format, expected: &Value) -> Delivery {
    let columns = expected["columns"].as_object();
    Delivery {
        encoding: expected["encoding"]
            .as_str()
            .map_or(Encoding::UTF8, |l| Encoding::from_label(l).unwrap()),
        delimiter: expected["delimiter"].as_str().unwrap_or(",").into(),
        line_ending: LineEnding::Crlf,
        sheet: expected["sheet"].as_str().map(str::to_string),
        header_row: expected["header_row"].as_u64().unwrap() as u32,
        skip_rows: expected["skip_rows"].as_u64().unwrap() as u32,
        columns: columns
            .into_iter()
            .flatten()
            .map(|(name, _)| {
                (
                    format!("h_{name}"),
                    ColumnMap {
                        source: Some(name.clone()),
                        ..Default::default()
                    },
                )
            })
            .collect(),
        ..Delivery::new(expected["file"].as_str().unwrap(), format)
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Reads one corpus file and compares every cell; returns the number of cells compared.
fn check(path: &Path, format: Format, expected: &Value) -> usize {
    let name = path.file_name().unwrap().to_string_lossy();
    let d = delivery(format, expected);
    let result = read_delivery(path, &d);
    if let Some(error) = expected.get("error") {
        match result {
            Err(IngestError::Encoding {
                line, byte_offset, ..
            }) => {
                assert_eq!(line, error["line"].as_u64().unwrap(), "{name}: line");
                assert_eq!(
                    byte_offset,
                    error["byte_offset"].as_u64().unwrap(),
                    "{name}: byte offset"
                );
            }
            other => panic!("{name}: expected an encoding error, got {other:?}"),
        }
        return 0;
    }
    let table = result.unwrap_or_else(|e| panic!("{name}: {e}"));
    let columns = expected["columns"].as_object().unwrap();
    let mut compared = 0;
    let rows = columns.values().next().map_or(0, |c| strings(c).len());
    assert_eq!(table.num_rows(), rows, "{name}: rows");
    assert_eq!(
        table.row_numbers,
        (1..=rows as u64).collect::<Vec<_>>(),
        "{name}: row numbers are data record indexes"
    );
    assert!(
        table.row_issues.is_empty(),
        "{name}: {:?}",
        table.row_issues
    );
    for (column, cells) in columns {
        let got: Vec<String> = table
            .column(column)
            .unwrap_or_else(|| panic!("{name}: no column {column}"))
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(got, strings(cells), "{name}: column {column}");
        compared += got.len();
    }
    // Warnings: one per formula cell without a cached value and per merged range over the data, naming it.
    let mut places: BTreeMap<String, usize> = BTreeMap::new();
    for place in strings(&expected["formulas_without_value"])
        .into_iter()
        .chain(strings(&expected["merged"]))
    {
        *places.entry(format!("!{place}:")).or_default() += 1;
    }
    assert_eq!(
        table.warnings.len(),
        places.len(),
        "{name}: {:#?}",
        table.warnings
    );
    for place in places.keys() {
        assert!(
            table.warnings.iter().any(|w| w.contains(place.as_str())),
            "{name}: no warning for {place}: {:#?}",
            table.warnings
        );
    }
    compared
}

#[test]
fn excel_corpus_reads_every_cell_as_written() {
    let files = corpus("excel");
    let writers: Vec<&str> = files
        .iter()
        .map(|(_, e)| e["writer"].as_str().unwrap())
        .collect();
    for writer in ["openpyxl", "xlsxwriter", "openxlsx"] {
        assert!(
            writers.iter().any(|w| w.contains(writer)),
            "no file from {writer}"
        );
    }
    let mut cells = 0;
    for (path, expected) in &files {
        cells += check(path, Format::Xlsx, expected);
    }
    assert!(cells > 150, "{cells} cells compared");
}

#[test]
fn csv_corpus_reads_every_code_page_and_names_undecodable_bytes() {
    let files = corpus("csv");
    let mut encodings: Vec<&str> = files
        .iter()
        .map(|(_, e)| e["encoding"].as_str().unwrap())
        .collect();
    encodings.sort();
    encodings.dedup();
    assert_eq!(
        encodings,
        [
            "gb18030",
            "iso-8859-6",
            "shift_jis",
            "utf-16be",
            "utf-16le",
            "windows-1251",
            "windows-1256",
            "windows-874"
        ]
    );
    let mut errors = 0;
    for (path, expected) in &files {
        if check(path, Format::Csv, expected) == 0 {
            errors += 1;
        }
    }
    assert_eq!(errors, 2, "the two files with undecodable bytes");
}

/// The same instants written by openpyxl and xlsxwriter in the 1900 and the 1904 date system read the same.
#[test]
fn both_date_systems_and_both_writers_give_the_same_dates() {
    let files = corpus("excel");
    let column = |file: &str, col: &str| -> Vec<String> {
        let (path, expected) = files
            .iter()
            .find(|(p, _)| p.ends_with(file))
            .unwrap_or_else(|| panic!("{file}"));
        let t = read_delivery(path, &delivery(Format::Xlsx, expected)).unwrap();
        t.column(col).unwrap().iter().map(str::to_string).collect()
    };
    for col in ["visit", "when", "at"] {
        let reference = column("openpyxl_layout.xlsx", col);
        for other in [
            "openpyxl_1904.xlsx",
            "xlsxwriter_formulas.xlsx",
            "xlsxwriter_1904.xlsx",
        ] {
            assert_eq!(column(other, col), reference, "{other}: {col}");
        }
    }
    assert_eq!(
        column("openpyxl_layout.xlsx", "at"),
        ["13:30:15", "00:00:00", "10:20:30.9", "23:59:59"]
    );
}
