//! End-to-end tests of the real `dh` binary on synthetic deliveries in temporary folders: all countries' outputs,
//! harmonised columns only, ledger balance, quarantine reasons of every planted bad row, no identifier in any output
//! byte, byte-identical outputs for `--jobs 1` and `--jobs 4`, one broken delivery failing only its country, the
//! built-in data path of a bare `dh run`, and `dh validate`.
//!
//! The expensive part (synthesise once, run twice) is shared by the tests through a `OnceLock`.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

const KEY: &str = "e2e-test-key-0123456789abcdef0123456789";
const SEED: &str = "7";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// Runs `dh` in `cwd` with the test key in the environment.
fn dh(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(args)
        .current_dir(cwd)
        .env("DH_PSEUDONYM_KEY", KEY)
        .env_remove("RUST_LOG")
        .output()
        .expect("run dh")
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Synthetic deliveries and two runs (`--jobs 1`, `--jobs 4`) shared by the tests.
struct Fixture {
    raw: PathBuf,
    out1: PathBuf,
    out4: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // A fixed folder under target/ (a static is never dropped, so a `TempDir` here would never be deleted):
        // each test run replaces the previous run's copy.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-fixture");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("fixture folder");
        let raw = dir.join("raw");
        let ws = workspace();
        ok(
            &dh(&ws, &["synth", "--out", s(&raw), "--seed", SEED]),
            "dh synth",
        );
        let out1 = dir.join("out1");
        let out4 = dir.join("out4");
        ok(
            &dh(
                &ws,
                &[
                    "run",
                    "--raw-dir",
                    s(&raw),
                    "--out-dir",
                    s(&out1),
                    "--jobs",
                    "1",
                    "--quiet",
                ],
            ),
            "dh run --jobs 1",
        );
        ok(
            &dh(
                &ws,
                &[
                    "run",
                    "--raw-dir",
                    s(&raw),
                    "--out-dir",
                    s(&out4),
                    "--jobs",
                    "4",
                    "--quiet",
                ],
            ),
            "dh run --jobs 4",
        );
        Fixture { raw, out1, out4 }
    })
}

fn manifest(out: &Path) -> Value {
    serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
        .expect("manifest json")
}

fn countries() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(workspace().join("countries"))
        .expect("countries/")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.path()
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string)
        })
        .filter(|s| s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase()))
        .collect();
    v.sort();
    v
}

fn schema_fields(table: &str) -> Vec<String> {
    let text =
        fs::read(workspace().join("schemas").join(format!("{table}.json"))).expect("schema file");
    let v: Value = serde_json::from_slice(&text).expect("schema json");
    v["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_string())
        .collect()
}

/// Harmonised tables the country's config delivers, sorted.
fn country_tables(code: &str) -> Vec<String> {
    let config =
        dh_config::load_country(&workspace().join("countries"), code).expect("country config");
    config
        .deliveries
        .iter()
        .filter(|(_, d)| d.delivered)
        .map(|(table, _)| table.clone())
        .collect()
}

/// Whether `dh synth` plants bad rows in the country's deliveries (its `[synth.settings] bad_row_share`, default
/// 0.005; a committed config may set 0, as Jordan's agency description does).
fn plants_bad_rows(code: &str) -> bool {
    let config =
        dh_config::load_country(&workspace().join("countries"), code).expect("country config");
    dh_synth::settings::Settings::from_config(&config)
        .expect("synth settings")
        .bad_row_share
        > 0.0
}

/// How many files the country delivers (one per table, or one per part of a table delivered in several files).
fn country_files(code: &str) -> usize {
    let config =
        dh_config::load_country(&workspace().join("countries"), code).expect("country config");
    config
        .deliveries
        .values()
        .filter(|d| d.delivered)
        .map(|d| d.file_names().len())
        .sum()
}

/// Survey tables carry the planted bad rows and the direct identifiers.
fn is_survey(table: &str) -> bool {
    table == "child_survey" || table == "caregiver_survey"
}

fn read_batches(path: &Path) -> Vec<RecordBatch> {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet reader")
        .build()
        .expect("parquet reader")
        .map(|b| b.expect("batch"))
        .collect()
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(rel.to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Every numeric cell of every batch, formatted as text (as a leaked GPS coordinate or numeric id would read).
fn numeric_cells(batches: &[RecordBatch]) -> Vec<String> {
    let mut cells = Vec::new();
    for b in batches {
        for col in b.columns() {
            if col.data_type().is_numeric() {
                let text = arrow::compute::cast(col, &DataType::Utf8).expect("cast to text");
                cells.extend(text.as_string::<i32>().iter().flatten().map(str::to_string));
            }
        }
    }
    cells
}

/// Every string cell (plain or dictionary-encoded) of every batch, plus column names.
fn string_cells(batches: &[RecordBatch]) -> Vec<String> {
    let mut cells = Vec::new();
    for b in batches {
        for (field, col) in b.schema().fields().iter().zip(b.columns()) {
            cells.push(field.name().clone());
            match col.data_type() {
                DataType::Utf8 => {
                    cells.extend(col.as_string::<i32>().iter().flatten().map(str::to_string))
                }
                DataType::LargeUtf8 => {
                    cells.extend(col.as_string::<i64>().iter().flatten().map(str::to_string))
                }
                DataType::Dictionary(_, value) if value.as_ref() == &DataType::Utf8 => {
                    let dict = col.as_any_dictionary();
                    cells.extend(
                        dict.values()
                            .as_string::<i32>()
                            .iter()
                            .flatten()
                            .map(str::to_string),
                    );
                }
                _ => {}
            }
        }
    }
    cells
}

#[test]
fn every_country_has_outputs_with_only_harmonised_columns() {
    let f = fixture();
    let m = manifest(&f.out1);
    let codes = countries();
    assert!(!codes.is_empty(), "no country configs in countries/");
    for code in &codes {
        let status = m["countries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["country"] == code.as_str());
        assert_eq!(
            status.map(|c| c["status"].clone()),
            Some(Value::from("ok")),
            "{code} in manifest"
        );
        for table in country_tables(code) {
            let path = f
                .out1
                .join(format!("normalised/{table}/country={code}/part-0.parquet"));
            let batches = read_batches(&path);
            let schema = batches
                .first()
                .map(|b| b.schema())
                .expect("at least one batch");
            let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
            // `final_weight` is a harmonised (derived) column that the weighting stage fills (issue 4).
            let expected = schema_fields(&table);
            assert_eq!(
                names,
                expected,
                "{}: columns must be exactly the harmonised ones",
                path.display()
            );
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            let min_rows = if is_survey(&table) { 500 } else { 1 };
            assert!(rows >= min_rows, "{}: only {rows} rows", path.display());
            let q = f
                .out1
                .join(format!("quarantine/{table}/country={code}/part-0.parquet"));
            assert!(q.is_file(), "{} missing", q.display());
        }
    }
}

#[test]
fn manifest_ledger_balances_and_hashes_match_files() {
    let f = fixture();
    let m = manifest(&f.out1);
    let inputs = m["inputs"].as_array().expect("inputs");
    assert_eq!(
        inputs.len(),
        countries().iter().map(|c| country_files(c)).sum::<usize>(),
        "one input per country and delivered file (a table in parts has one per part)"
    );
    for i in inputs {
        let (read, written, quarantined) = (
            i["rows_read"].as_u64().unwrap(),
            i["rows_written"].as_u64().unwrap(),
            i["rows_quarantined"].as_u64().unwrap(),
        );
        assert_eq!(read, written + quarantined, "ledger of {}", i["path"]);
        if is_survey(i["table"].as_str().unwrap())
            && plants_bad_rows(i["country"].as_str().unwrap())
        {
            assert!(
                quarantined > 0,
                "{}: synthetic deliveries plant bad rows, none quarantined",
                i["path"]
            );
        }
        let raw = f.raw.join(i["path"].as_str().unwrap());
        assert_eq!(
            i["sha256"].as_str().unwrap(),
            sha256_hex(&fs::read(&raw).unwrap()),
            "{}",
            raw.display()
        );
    }
    let outputs = m["outputs"].as_array().expect("outputs");
    for o in outputs {
        let path = f.out1.join(o["path"].as_str().unwrap());
        let bytes = fs::read(&path).unwrap();
        assert_eq!(
            o["sha256"].as_str().unwrap(),
            sha256_hex(&bytes),
            "{}",
            path.display()
        );
        if path.extension().is_some_and(|x| x == "parquet") {
            let rows: usize = read_batches(&path).iter().map(|b| b.num_rows()).sum();
            assert_eq!(
                o["rows"].as_u64().unwrap(),
                rows as u64,
                "{}",
                path.display()
            );
        }
        if o["kind"] == "normalised" {
            // A table delivered in several files has one input per file: their rows together are the table's.
            let written: u64 = inputs
                .iter()
                .filter(|i| i["country"] == o["country"] && i["table"] == o["table"])
                .map(|i| i["rows_written"].as_u64().unwrap())
                .sum();
            assert_eq!(
                serde_json::json!(written),
                o["rows"],
                "rows written = rows in {}",
                path.display()
            );
        }
    }
    // Every output file on disk is in the manifest and vice versa.
    let listed: BTreeSet<String> = outputs
        .iter()
        .map(|o| o["path"].as_str().unwrap().to_string())
        .collect();
    let on_disk: BTreeSet<String> = files_under(&f.out1)
        .into_iter()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .filter(|p| p != "manifest.json" && !p.starts_with("runs/") && !p.starts_with('.'))
        .collect();
    assert_eq!(
        listed, on_disk,
        "every output file and only those are in the manifest"
    );
    let text = fs::read_to_string(f.out1.join("manifest.json")).unwrap();
    assert!(
        !text.contains(s(&f.raw)) && !text.contains(s(&f.out1)),
        "manifest paths must be relative"
    );
    assert!(
        fs::read_dir(f.out1.join("runs")).unwrap().count() == 1,
        "one run log"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn jobs_1_and_jobs_4_give_identical_bytes() {
    let f = fixture();
    let a = files_under(&f.out1)
        .into_iter()
        .filter(|p| !p.starts_with("runs") && !p.to_string_lossy().starts_with('.'))
        .collect::<Vec<_>>();
    let b = files_under(&f.out4)
        .into_iter()
        .filter(|p| !p.starts_with("runs") && !p.to_string_lossy().starts_with('.'))
        .collect::<Vec<_>>();
    assert_eq!(a, b, "same files");
    assert!(a.iter().any(|p| p.ends_with("manifest.json")));
    for rel in &a {
        assert!(
            fs::read(f.out1.join(rel)).unwrap() == fs::read(f.out4.join(rel)).unwrap(),
            "{} differs",
            rel.display()
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_broken_delivery_fails_only_its_country() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    copy_dir(&f.raw, &raw);
    // THA's child survey delivery (a CSV) loses its real header: reading fails with a missing-column error naming
    // the file, so the whole country fails (its caregiver rows link to the child table).
    let config =
        dh_config::load_country(&workspace().join("countries"), "THA").expect("THA config");
    let child = &config.deliveries["child_survey"];
    assert_eq!(
        child.format,
        dh_config::country::Format::Csv,
        "the test corrupts a CSV header"
    );
    fs::write(
        raw.join("THA").join(&child.file),
        "not_a_column,other\n1,2\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = dh(
        &workspace(),
        &["run", "--raw-dir", s(&raw), "--out-dir", s(&out), "--quiet"],
    );
    assert_eq!(
        run.status.code(),
        Some(4),
        "data error exit code; stderr:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("THA/") && stderr.contains("not in the header"),
        "{stderr}"
    );
    let m = manifest(&out);
    assert!(
        m["countries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["country"] == "THA" && c["status"] == "failed"),
        "THA is recorded as failed: {}",
        m["countries"]
    );
    for c in m["countries"].as_array().unwrap() {
        let expected = if c["country"] == "THA" {
            "failed"
        } else {
            "ok"
        };
        assert_eq!(c["status"], expected, "{c}");
    }
    assert_eq!(m["totals"]["countries_ok"], countries().len() - 1);
    assert!(
        files_under(&out)
            .iter()
            .all(|p| !p.to_string_lossy().contains("country=THA")),
        "no THA outputs"
    );
    // The other countries' outputs are the same bytes as in a clean run.
    let clean = manifest(&f.out1);
    let others = |m: &Value| -> Vec<Value> {
        m["outputs"]
            .as_array()
            .unwrap()
            .iter()
            // Per-country outputs only: cross-country outputs (country "") change when a country is missing.
            .filter(|o| o["country"] != "THA" && o["country"] != "")
            .cloned()
            .collect()
    };
    assert_eq!(others(&m), others(&clean));
}

#[test]
fn a_real_run_without_a_key_is_a_configuration_error() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args([
            "run",
            "--raw-dir",
            s(&f.raw),
            "--out-dir",
            s(&out),
            "--countries",
            "THA",
            "--quiet",
        ])
        .current_dir(workspace())
        .env_remove("DH_PSEUDONYM_KEY")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("DH_PSEUDONYM_KEY") && stderr.contains("--key-file"),
        "{stderr}"
    );
    assert!(!out.join("manifest.json").exists());
}

#[test]
fn bare_dh_run_generates_builtin_data_and_writes_out() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace();
    for sub in ["countries", "schemas"] {
        copy_dir(&ws.join(sub), &dir.path().join(sub));
    }
    let run = Command::new(env!("CARGO_BIN_EXE_dh"))
        .arg("run")
        .current_dir(dir.path())
        .env_remove("DH_PSEUDONYM_KEY")
        .output()
        .unwrap();
    ok(&run, "bare dh run");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("{} countries ok", countries().len()))
            && stdout.contains("manifest.json"),
        "{stdout}"
    );
    assert!(dir.path().join("data/pseudonym.key").is_file());
    assert!(dir.path().join("out/manifest.json").is_file());
    assert!(
        files_under(&dir.path().join("out"))
            .iter()
            .all(|p| !p.to_string_lossy().contains("key"))
    );
    let first = fs::read(dir.path().join("out/manifest.json")).unwrap();
    // Second run: same data and key, same bytes.
    let again = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(["run", "--quiet"])
        .current_dir(dir.path())
        .env_remove("DH_PSEUDONYM_KEY")
        .output()
        .unwrap();
    ok(&again, "second bare dh run");
    assert!(again.stdout.is_empty(), "--quiet prints nothing");
    assert!(
        first == fs::read(dir.path().join("out/manifest.json")).unwrap(),
        "rerun changed the manifest"
    );
    assert_eq!(
        fs::read_dir(dir.path().join("out/runs")).unwrap().count(),
        2,
        "one run log per run"
    );
}

#[test]
fn validate_reports_every_quarantined_row_and_writes_nothing() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace();
    // Run in an empty folder, with the configuration and schemas named by absolute path, so that the check
    // below (the folder is still empty) shows that validate writes nothing.
    let run = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args([
            "validate",
            "--raw-dir",
            s(&f.raw),
            "--config-dir",
            s(&ws.join("countries")),
            "--schema-dir",
            s(&ws.join("schemas")),
            "--countries",
            "THA,KEN",
        ])
        .current_dir(dir.path())
        .env("DH_PSEUDONYM_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let m = manifest(&f.out1);
    let expected: u64 = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["country"] == "THA" || i["country"] == "KEN")
        .map(|i| i["rows_quarantined"].as_u64().unwrap())
        .sum();
    let row_lines = stdout.lines().filter(|l| l.contains(": row ")).count() as u64;
    assert!(
        row_lines >= expected,
        "at least one line per quarantined row: {row_lines} < {expected}\n{stdout}"
    );
    assert!(stdout.contains("problems"), "summary count: {stdout}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);

    let bad_config = dir.path().join("countries");
    copy_dir(&workspace().join("countries"), &bad_config);
    let tha = fs::read_to_string(bad_config.join("THA.toml")).unwrap();
    // An unknown key at the top level (before any table header), where every key is checked.
    fs::write(
        bad_config.join("THA.toml"),
        format!("unknown_key_for_test = 1\n{tha}"),
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args([
            "validate",
            "--config-dir",
            s(&bad_config),
            "--countries",
            "THA",
            "--config-only",
        ])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("THA.toml") && stdout.contains("unknown_key_for_test"),
        "{stdout}"
    );
}

/// `dh validate` reports are for the data manager: duplicate ids and missing links show the id as delivered (with
/// file and row), which the agency can look up. `dh run` writes only pseudonyms: no file under OUT holds those ids.
#[test]
fn validate_shows_raw_ids_that_no_run_output_holds() {
    let f = fixture();
    let injected: Value =
        serde_json::from_slice(&fs::read(f.raw.join("injected.json")).expect("injected.json"))
            .unwrap();
    let keyed: Vec<&Value> = injected["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["country"] == "THA")
        .filter(|e| {
            e["kind"] == "duplicate_respondent_id" || e["kind"] == "caregiver_without_child"
        })
        .collect();
    let kinds: BTreeSet<&str> = keyed.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.len(),
        2,
        "THA has planted duplicate ids and missing links"
    );
    let run = dh(
        &workspace(),
        &["validate", "--raw-dir", s(&f.raw), "--countries", "THA"],
    );
    assert_eq!(
        run.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let mut ids = BTreeSet::new();
    for e in &keyed {
        let (file, column, value, reason) = (
            e["file"].as_str().unwrap(),
            e["column"].as_str().unwrap(),
            e["value"].as_str().unwrap(),
            e["expected_reason"].as_str().unwrap(),
        );
        let mut rows = vec![e["data_row"].as_u64().unwrap()];
        rows.extend(e["duplicate_of_row"].as_u64().map(|r| r - 1));
        for row in rows {
            let line = format!("THA: {file}: row {row}, column `{column}`, value `{value}`: ");
            assert!(
                stdout
                    .lines()
                    .any(|l| l.starts_with(&line) && l.ends_with(&format!("[{reason}]"))),
                "no line `{line}...[{reason}]` in:\n{stdout}"
            );
        }
        ids.insert(value.to_string());
    }
    for rel in files_under(&f.out1) {
        let bytes = fs::read(f.out1.join(&rel)).unwrap();
        for id in &ids {
            assert!(
                !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
                "{}: holds the raw id `{id}`",
                rel.display()
            );
        }
    }
}

/// Identifier values of every raw delivery: the columns the config declares as identifiers (names, phones, GPS,
/// notes) and the raw values of the pseudonymised key columns (respondent and household ids).
fn raw_identifier_values(raw_dir: &Path) -> BTreeSet<String> {
    let ws = workspace();
    let schemas = dh_config::load_schemas(&ws.join("schemas")).expect("schemas");
    let mut values = BTreeSet::new();
    for code in countries() {
        let config = dh_config::load_country(&ws.join("countries"), &code).expect("country config");
        let files = config
            .deliveries
            .iter()
            .filter(|(_, d)| d.delivered)
            .flat_map(|(table, d)| d.files().into_iter().map(move |f| (table, f)));
        for (table, delivery) in files {
            let delivery = &delivery;
            let schema = schemas.get(table).expect("schema");
            let mut sources: Vec<String> = delivery.identifiers.clone();
            for (column, map) in &delivery.columns {
                if schema.field(column).is_some_and(|f| f.pseudonymise)
                    && let Some(src) = &map.source
                {
                    sources.push(src.clone());
                }
            }
            if is_survey(table) {
                assert!(
                    !delivery.identifiers.is_empty(),
                    "{code}/{table}: the config declares no identifiers"
                );
            }
            // Read exactly those columns with the real reader (it handles each country's encoding and delimiter).
            let mut only_ids = delivery.clone();
            only_ids.identifiers.clear();
            only_ids.columns = sources
                .iter()
                .map(|s| {
                    (
                        s.clone(),
                        dh_config::ColumnMap {
                            source: Some(s.clone()),
                            ..Default::default()
                        },
                    )
                })
                .collect();
            let path = raw_dir.join(&code).join(&delivery.file);
            let t = dh_ingest::read_delivery(&path, &only_ids).unwrap_or_else(|e| panic!("{e}"));
            for col in &t.columns {
                values.extend(
                    col.iter()
                        .map(str::trim)
                        .filter(|v| v.len() >= 4)
                        .map(str::to_string),
                );
            }
        }
    }
    values
}

/// Identifiers of 8 bytes or more, indexed by their first 8 bytes, for a fast scan of raw bytes.
fn by_prefix(values: &BTreeSet<String>) -> BTreeMap<[u8; 8], Vec<&str>> {
    let mut map: BTreeMap<[u8; 8], Vec<&str>> = BTreeMap::new();
    for v in values {
        if let Some(prefix) = v.as_bytes().first_chunk::<8>() {
            map.entry(*prefix).or_default().push(v);
        }
    }
    map
}

/// Every distinct identifier found in `bytes`.
fn find_in_bytes<'a>(bytes: &[u8], index: &BTreeMap<[u8; 8], Vec<&'a str>>) -> BTreeSet<&'a str> {
    let mut hits = BTreeSet::new();
    for (i, w) in bytes.windows(8).enumerate() {
        let Some(candidates) = <&[u8; 8]>::try_from(w).ok().and_then(|w| index.get(w)) else {
            continue;
        };
        hits.extend(
            candidates
                .iter()
                .copied()
                .filter(|c| bytes[i..].starts_with(c.as_bytes())),
        );
    }
    hits
}

/// The hits that show a leak. A short number (a GPS coordinate such as `0.317471`, under 10 characters) equals
/// computed estimates by chance (proportions near the equator's latitudes), so short numbers are not searched in
/// raw bytes; they are checked as whole cell values in every per-country table instead (see `numeric_cells`).
/// Names, notes, phone numbers and ids count wherever they appear.
fn leaks<'a>(hits: &BTreeSet<&'a str>) -> Vec<&'a str> {
    let short_number = |v: &str| {
        v.len() < 10
            && v.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
    };
    hits.iter().copied().filter(|v| !short_number(v)).collect()
}

#[test]
fn no_identifier_value_reaches_any_output() {
    let f = fixture();
    let ids = raw_identifier_values(&f.raw);
    assert!(
        ids.len() > countries().len() * 1000,
        "expected identifier values from every delivery, got {}",
        ids.len()
    );
    let index = by_prefix(&ids);
    for rel in files_under(&f.out1) {
        let path = f.out1.join(&rel);
        let bytes = fs::read(&path).unwrap();
        // 1. Raw bytes of every file (Parquet, manifest, run log).
        let found = leaks(&find_in_bytes(&bytes, &index));
        assert!(
            found.is_empty(),
            "{}: holds identifiers {found:?}",
            rel.display()
        );
        // 2. Every decoded cell of every Parquet file: no cell equals or contains an identifier; truncated
        //    quarantine values (`...`) must not be the start of one either.
        if rel.extension().is_some_and(|x| x == "parquet") {
            let quarantine = rel.starts_with("quarantine");
            let batches = read_batches(&path);
            let per_country = rel.starts_with("normalised") || rel.starts_with("quarantine");
            if per_country {
                for cell in numeric_cells(&batches) {
                    assert!(
                        cell.len() < 6 || !ids.contains(&cell),
                        "{}: numeric cell is identifier `{cell}`",
                        rel.display()
                    );
                }
            }
            for cell in string_cells(&batches) {
                assert!(
                    !ids.contains(&cell),
                    "{}: cell is identifier `{cell}`",
                    rel.display()
                );
                if let Some(cut) = cell.strip_suffix("...").filter(|c| c.len() >= 4) {
                    let next = ids.range(cut.to_string()..).next();
                    assert!(
                        !next.is_some_and(|id| id.starts_with(cut)),
                        "{}: truncated identifier `{cell}`",
                        rel.display()
                    );
                }
                // Quarantine text (raw values, reasons) must not contain an identifier anywhere inside it.
                let found = if quarantine {
                    leaks(&find_in_bytes(cell.as_bytes(), &index))
                } else {
                    Vec::new()
                };
                assert!(
                    found.is_empty(),
                    "{}: quarantine text `{cell}` contains identifiers {found:?}",
                    rel.display()
                );
            }
        } else {
            let text = String::from_utf8_lossy(&bytes);
            for token in text.split(['"', '\n']) {
                assert!(
                    !ids.contains(token.trim()),
                    "{}: holds identifier `{token}`",
                    rel.display()
                );
            }
        }
    }
}

/// (source_file, row_number, reason_code) of every quarantine line of one partition.
fn quarantine_lines(path: &Path) -> BTreeSet<(String, u64, String)> {
    let mut lines = BTreeSet::new();
    for b in read_batches(path) {
        let file = b
            .column_by_name("source_file")
            .expect("source_file")
            .as_string::<i32>()
            .clone();
        let row = b
            .column_by_name("row_number")
            .expect("row_number")
            .as_primitive::<arrow::datatypes::UInt64Type>()
            .clone();
        let reason = b
            .column_by_name("reason_code")
            .expect("reason_code")
            .as_string::<i32>()
            .clone();
        for i in 0..b.num_rows() {
            lines.insert((
                file.value(i).to_string(),
                row.value(i),
                reason.value(i).to_string(),
            ));
        }
    }
    lines
}

#[test]
fn every_planted_bad_row_is_quarantined_with_its_reason() {
    let f = fixture();
    let injected: Value =
        serde_json::from_slice(&fs::read(f.raw.join("injected.json")).expect("injected.json"))
            .unwrap();
    let entries = injected["problems"]
        .as_array()
        .expect("injected.json has a `problems` list");
    let mut kinds = BTreeSet::new();
    let mut cache: BTreeMap<PathBuf, BTreeSet<(String, u64, String)>> = BTreeMap::new();
    for e in entries {
        let (country, table, file) = (
            e["country"].as_str().unwrap(),
            e["table"].as_str().unwrap(),
            e["file"].as_str().unwrap(),
        );
        let reason = e["expected_reason"].as_str().unwrap();
        let path = f.out1.join(format!(
            "quarantine/{table}/country={country}/part-0.parquet"
        ));
        let lines = cache
            .entry(path.clone())
            .or_insert_with(|| quarantine_lines(&path));
        // Quarantine rows are data-record numbers (header not counted), as dh-ingest numbers them; injected.json
        // gives that as `data_row`, and `duplicate_of_row` in file numbering (header = row 1).
        let mut rows = vec![e["data_row"].as_u64().expect("data_row")];
        rows.extend(e["duplicate_of_row"].as_u64().map(|r| r - 1));
        for row in rows {
            assert!(
                lines.contains(&(file.to_string(), row, reason.to_string())),
                "{country} {file} row {row}: planted `{}` not quarantined as `{reason}`; lines near it: {:?}",
                e["kind"],
                lines
                    .iter()
                    .filter(|l| l.1.abs_diff(row) <= 1)
                    .collect::<Vec<_>>()
            );
        }
        kinds.insert(e["kind"].as_str().unwrap().to_string());
    }
    let all: BTreeSet<String> = [
        "unknown_code",
        "age_out_of_range",
        "duplicate_respondent_id",
        "missing_psu",
        "caregiver_without_child",
    ]
    .map(String::from)
    .into();
    assert_eq!(kinds, all, "every kind of bad row is planted and checked");
}

/// A follow-up answered although its screening question says `no` (routing not followed): the row is kept as
/// delivered, `dh validate` reports it as a warning with file, row, column and value (the exit code is unchanged),
/// and the run lists it in the manifest's `consistency`.
#[test]
fn an_answer_outside_its_universe_is_kept_and_reported() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    copy_dir(&f.raw.join("THA"), &raw.join("THA"));
    let config =
        dh_config::load_country(&workspace().join("countries"), "THA").expect("THA config");
    let child = &config.deliveries["child_survey"];
    assert_eq!(child.format, dh_config::country::Format::Csv);
    let delimiter = child.delimiter.as_bytes()[0];
    let source = |column: &str| -> String {
        child.columns[column]
            .source
            .clone()
            .unwrap_or_else(|| panic!("{column} has a source"))
    };
    let (screening, follow_up) = (
        source("offered_money_images"),
        source("offered_money_images_where"),
    );
    // Rows with a planted problem are quarantined: choose a clean one.
    let injected: Value =
        serde_json::from_slice(&fs::read(f.raw.join("injected.json")).unwrap()).unwrap();
    let planted: Vec<u64> = injected["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["country"] == "THA" && p["file"] == child.file.as_str())
        .filter_map(|p| p["data_row"].as_u64())
        .collect();
    let path = raw.join("THA").join(&child.file);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_path(&path)
        .unwrap();
    let header = reader.byte_headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name.as_bytes()).unwrap();
    let (s_at, f_at) = (at(&screening), at(&follow_up));
    let mut records: Vec<csv::ByteRecord> = reader.byte_records().map(|r| r.unwrap()).collect();
    let (index, _) = records
        .iter()
        .enumerate()
        .find(|(i, r)| &r[s_at] == b"2" && !planted.contains(&(*i as u64 + 1)))
        .expect("a clean row answering no");
    let mut changed: Vec<Vec<u8>> = records[index].iter().map(<[u8]>::to_vec).collect();
    changed[f_at] = b"1".to_vec(); // `online`
    records[index] = csv::ByteRecord::from(changed);
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_path(&path)
        .unwrap();
    writer.write_byte_record(&header).unwrap();
    for r in &records {
        writer.write_byte_record(r).unwrap();
    }
    writer.flush().unwrap();
    let data_row = index + 1;

    let validate = dh(
        &workspace(),
        &["validate", "--raw-dir", s(&raw), "--countries", "THA"],
    );
    let stdout = String::from_utf8_lossy(&validate.stdout);
    let expected = format!(
        "warning: THA: {}: row {data_row}, column `offered_money_images_where`, value `online`",
        child.file
    );
    assert!(stdout.contains(&expected), "{expected}\n{stdout}");
    assert!(stdout.contains("[answer_outside_universe]"), "{stdout}");
    assert!(stdout.contains("1 warning about routing"), "{stdout}");
    // THA's planted bad rows make it a data error (4) with or without the warning.
    assert_eq!(validate.status.code(), Some(4), "{stdout}");

    let out = dir.path().join("out");
    let run = dh(
        &workspace(),
        &[
            "run",
            "--raw-dir",
            s(&raw),
            "--out-dir",
            s(&out),
            "--countries",
            "THA",
            "--quiet",
        ],
    );
    ok(&run, "dh run");
    let m = manifest(&out);
    let entries = m["consistency"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["column"], "offered_money_images_where");
    assert_eq!(e["issue"], "answer_outside_universe");
    assert_eq!(e["rows"], 1);
    assert_eq!(e["first_row"], data_row as u64);
    assert_eq!(e["path"], format!("THA/{}", child.file));
    // The country page of the report shows it under data quality.
    let page = fs::read_to_string(out.join("report").join("country-THA.html")).unwrap();
    assert!(
        page.contains("<code>offered_money_images_where</code>")
            && page.contains("<code>answer_outside_universe</code>"),
        "routing finding missing from the country page"
    );
}

/// The manifest is read with the types that write it (`dh-manifest`): a renamed field stops `dh report` with a
/// message naming the field, never a report with blanks.
#[test]
fn a_report_on_a_manifest_with_a_renamed_field_names_the_field() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    copy_dir(&f.out1, &out);
    let path = out.join("manifest.json");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"rows_read\""));
    fs::write(&path, text.replace("\"rows_read\"", "\"rows_in\"")).unwrap();
    let report = dh(&workspace(), &["report", "--out-dir", s(&out), "--quiet"]);
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert_ne!(report.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("`rows_in`") && stderr.contains("manifest.json"),
        "{stderr}"
    );
}
