//! Multi-file deliveries (issue 16, `[[deliveries.<table>.parts]]`) and constant columns through `dh run` and `dh
//! validate`: THA's synthetic police workbook is split into a CSV of its 2017-2018 rows (whose status column has
//! another name, mapped by the part) and a workbook of its 2019 rows without the year column (`year` is a part's
//! `constant`). The harmonised table and the indicators are those of the one-file delivery, byte for byte; the
//! ledger has one line per file; quarantine lines name the part's file; the batched path gives the bytes of the
//! in-memory path; a missing part file fails the country (exit 4) naming the file; `dh validate` reads every part.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use arrow::array::AsArray;
use common::{describe, s};
use serde_json::Value;

const KEY: &str = "delivery-parts-test-key-0123456789abcdef";
const POLICE_FILE: &str = "THA_police_cases_2017_2019.xlsx";
const CSV_PART: &str = "police_2017_2018.csv";
const XLSX_PART: &str = "police_2019.xlsx";
const POLICE_PARQUET: &str = "normalised/police_cases/country=THA/part-0.parquet";
const QUARANTINE_PARQUET: &str = "quarantine/police_cases/country=THA/part-0.parquet";

/// The police config of THA in parts (replacing its `file`).
const PARTS: &str = r#"
[[deliveries.police_cases.parts]]
file = "police_2017_2018.csv"
format = "csv"
[deliveries.police_cases.parts.columns]
case_status = { source = "Case status", scheme = "case_status" }

[[deliveries.police_cases.parts]]
file = "police_2019.xlsx"
[deliveries.police_cases.parts.columns]
year = { constant = "2019" }
"#;

/// A copy of `countries/` (defaults and THA) with THA's police cases delivered in parts.
fn parts_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("countries");
    fs::create_dir_all(&cfg).expect("config dir");
    let repo = common::workspace().join("countries");
    fs::copy(repo.join("_defaults.toml"), cfg.join("_defaults.toml")).expect("defaults");
    let tha = fs::read_to_string(repo.join("THA.toml")).expect("THA config");
    let line = format!("file = \"{POLICE_FILE}\"\n");
    assert!(tha.contains(&line), "THA names its police workbook");
    fs::write(cfg.join("THA.toml"), tha.replacen(&line, PARTS, 1)).expect("THA copy");
    cfg
}

/// A workbook cell as the reader gives it (a whole number without `.0`).
fn text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        calamine::Data::Int(n) => n.to_string(),
        calamine::Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// Splits THA's police workbook into the two parts: rows before the first 2019 row into a CSV (status column
/// renamed), the others (all of 2019) into a workbook without the year column. Returns the row counts.
fn split_police(tha: &Path) -> (usize, usize) {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(tha.join(POLICE_FILE)).expect("police workbook");
    let range = book.worksheet_range("Cases").expect("sheet Cases");
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(text).collect()).collect();
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (year, status) = (col("Year"), col("Status"));
    let split = 1 + rows[1..]
        .iter()
        .position(|r| r[year] == "2019")
        .expect("a 2019 row");
    assert!(
        rows[split..].iter().all(|r| r[year] == "2019"),
        "the 2019 rows come last"
    );

    let mut csv = csv::Writer::from_path(tha.join(CSV_PART)).expect("csv part");
    let mut csv_header = header.clone();
    csv_header[status] = "Case status".to_string();
    csv.write_record(&csv_header).expect("csv header");
    for r in &rows[1..split] {
        csv.write_record(r).expect("csv row");
    }
    csv.flush().expect("csv flush");

    let mut out = rust_xlsxwriter::Workbook::new();
    let sheet = out.add_worksheet();
    sheet.set_name("Cases").expect("sheet name");
    for (i, r) in std::iter::once(header).chain(&rows[split..]).enumerate() {
        let cells = r.iter().enumerate().filter(|(c, _)| *c != year);
        for (j, (_, cell)) in cells.enumerate() {
            sheet
                .write_string(i as u32, j as u16, cell)
                .expect("write cell");
        }
    }
    out.save(tha.join(XLSX_PART)).expect("save part");
    fs::remove_file(tha.join(POLICE_FILE)).expect("remove the one-file delivery");
    (split - 1, rows.len() - split)
}

fn dh(args: &[&str], batch_rows: Option<&str>) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dh"));
    command
        .args(args)
        .current_dir(common::workspace())
        .env_remove("RUST_LOG")
        .env("DH_PSEUDONYM_KEY", KEY);
    match batch_rows {
        Some(n) => command.env("DH_BATCH_ROWS", n),
        None => command.env_remove("DH_BATCH_ROWS"),
    };
    command.output().expect("run dh")
}

fn run(raw: &Path, config: Option<&Path>, out: &Path, batch_rows: Option<&str>) -> Output {
    let mut args = vec![
        "run",
        "--raw-dir",
        s(raw),
        "--out-dir",
        s(out),
        "--countries",
        "THA",
        "--quiet",
    ];
    if let Some(config) = config {
        args.extend(["--config-dir", s(config)]);
    }
    dh(&args, batch_rows)
}

/// (source_file, row_number, reason_code) of every quarantine line.
fn quarantine(out: &Path) -> Vec<(String, u64, String)> {
    let mut lines = Vec::new();
    for b in common::read_parquet(&out.join(QUARANTINE_PARQUET)) {
        let file = arrow::compute::cast(
            b.column_by_name("source_file").expect("source_file"),
            &arrow::datatypes::DataType::Utf8,
        )
        .expect("text");
        let file = file.as_string::<i32>();
        let rows = b
            .column_by_name("row_number")
            .expect("row_number")
            .as_primitive::<arrow::datatypes::UInt64Type>();
        let codes = arrow::compute::cast(
            b.column_by_name("reason_code").expect("reason_code"),
            &arrow::datatypes::DataType::Utf8,
        )
        .expect("text");
        let codes = codes.as_string::<i32>();
        for i in 0..b.num_rows() {
            lines.push((
                file.value(i).to_string(),
                rows.value(i),
                codes.value(i).to_string(),
            ));
        }
    }
    lines
}

fn police_inputs(out: &Path) -> Vec<Value> {
    let manifest: Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    manifest["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .filter(|i| i["table"] == "police_cases")
        .cloned()
        .collect()
}

#[test]
fn a_delivery_in_two_files_gives_the_table_and_indicators_of_one_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    common::synth(&raw, "THA", "1");
    let single = tmp.path().join("single");
    let out = run(&raw, None, &single, None);
    assert!(out.status.success(), "one-file run: {}", describe(&out));

    let config = parts_config(tmp.path());
    let (csv_rows, xlsx_rows) = split_police(&raw.join("THA"));
    let parts = tmp.path().join("parts");
    let out = run(&raw, Some(&config), &parts, None);
    assert!(out.status.success(), "parts run: {}", describe(&out));

    // the harmonised table (the constant year included) and the indicators have the same bytes
    let (a, b) = (common::output_files(&single), common::output_files(&parts));
    for rel in [
        POLICE_PARQUET,
        "indicators/indicators.csv",
        "indicators/indicators.parquet",
    ] {
        assert!(
            a[Path::new(rel)] == b[Path::new(rel)],
            "{rel} differs between the one-file and the two-file delivery"
        );
    }

    // one ledger line per file, balanced
    let inputs = police_inputs(&parts);
    let by_path: BTreeMap<&str, &Value> = inputs
        .iter()
        .map(|i| (i["path"].as_str().expect("path"), i))
        .collect();
    assert_eq!(
        by_path.keys().copied().collect::<Vec<_>>(),
        vec!["THA/police_2017_2018.csv", "THA/police_2019.xlsx"],
        "{inputs:?}"
    );
    for (path, rows) in [
        ("THA/police_2017_2018.csv", csv_rows),
        ("THA/police_2019.xlsx", xlsx_rows),
    ] {
        let i = by_path[path];
        assert_eq!(i["rows_read"].as_u64(), Some(rows as u64), "{i}");
        assert_eq!(
            i["rows_read"].as_u64(),
            Some(i["rows_written"].as_u64().unwrap() + i["rows_quarantined"].as_u64().unwrap()),
            "{i}"
        );
    }
    let single_inputs = police_inputs(&single);
    let quarantined = |inputs: &[Value]| -> u64 {
        inputs
            .iter()
            .map(|i| i["rows_quarantined"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(quarantined(&inputs), quarantined(&single_inputs));

    // quarantine lines name the part's file; the rows before the split keep their numbers
    let q = quarantine(&parts);
    assert!(!q.is_empty(), "the synthetic delivery has messy rows");
    let single_q = quarantine(&single);
    assert_eq!(q.len(), single_q.len());
    for ((file, row, code), (_, single_row, single_code)) in q.iter().zip(&single_q) {
        assert!(file == CSV_PART || file == XLSX_PART, "{file}");
        assert_eq!(code, single_code);
        if file == CSV_PART {
            assert_eq!(row, single_row);
        }
    }

    // the batched path (7 rows a batch) gives the bytes of the in-memory path
    let batched = tmp.path().join("batched");
    let out = run(&raw, Some(&config), &batched, Some("7"));
    assert!(out.status.success(), "batched run: {}", describe(&out));
    let log = fs::read_dir(batched.join("runs"))
        .expect("runs")
        .next()
        .expect("a run log")
        .expect("entry")
        .path();
    let log: Value = serde_json::from_slice(&fs::read(log).expect("log")).expect("json");
    let police = &log["countries"][0]["batched"]["police_cases"];
    assert_eq!(
        police["rows"].as_u64(),
        Some((csv_rows + xlsx_rows) as u64),
        "{log}"
    );
    assert!(police["batches"].as_u64().expect("batches") > 100, "{log}");
    let c = common::output_files(&batched);
    assert_eq!(b.keys().collect::<Vec<_>>(), c.keys().collect::<Vec<_>>());
    for (path, bytes) in &b {
        assert!(
            c[path] == *bytes,
            "{} differs in the batched run",
            path.display()
        );
    }

    // `dh validate` reads every part and names the part's file for a quarantined row
    let out = dh(
        &[
            "validate",
            "--raw-dir",
            s(&raw),
            "--config-dir",
            s(&config),
            "--countries",
            "THA",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let listed =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(listed.contains(CSV_PART), "{}", describe(&out));

    // every part is in the country's key: unchanged, the country is reused; a changed part reruns it
    let dry_run = |raw: &Path| {
        let out = dh(
            &[
                "run",
                "--raw-dir",
                s(raw),
                "--out-dir",
                s(&parts),
                "--config-dir",
                s(&config),
                "--countries",
                "THA",
                "--dry-run",
            ],
            None,
        );
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let plan = dry_run(&raw);
    assert!(plan.contains("reuse    THA"), "{plan}");
    let mut csv_text = fs::read_to_string(raw.join("THA").join(CSV_PART)).expect("csv part");
    csv_text.push('\n');
    fs::write(raw.join("THA").join(CSV_PART), csv_text).expect("edit the csv part");
    let plan = dry_run(&raw);
    assert!(
        plan.contains("run      THA  changed delivery: THA/police_2017_2018.csv"),
        "{plan}"
    );

    // a missing part file fails the country with a message naming it
    fs::remove_file(raw.join("THA").join(XLSX_PART)).expect("remove a part");
    let missing = tmp.path().join("missing");
    let out = run(&raw, Some(&config), &missing, None);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(XLSX_PART),
        "{}",
        describe(&out)
    );
}
