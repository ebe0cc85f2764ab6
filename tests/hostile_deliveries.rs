//! Hostile deliveries end to end (issue 12, "Done when"): Thailand's delivery is replaced by an empty table, a
//! file without a header, swapped header cells, phone numbers in the weight column, a file without recognised line
//! breaks, a NUL-filled file, a workbook with one far cell, a symlink to `/dev/zero` or `/etc/passwd`, or a FIFO.
//! Each run of THA and KEN must end within a minute under a 4 GiB address-space limit with a documented exit code,
//! publish Kenya, print a bounded stderr, and leave no name or phone number of the delivery (and no line of
//! `/etc/passwd`) anywhere: not in any file under OUT (Parquet cells decoded, workbook cells read, text scanned),
//! not on stdout, not in the JSON log on stderr.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use common::{describe, s, workspace};

const CHILD_FILE: &str = "TH_DH_child_final.csv";
const POLICE_FILE: &str = "THA_police_cases_2017_2019.xlsx";
/// Wall-clock limit of one run.
const TIME_LIMIT: Duration = Duration::from_secs(60);
/// Address-space limit of one run (`prlimit --as`).
const MEMORY_LIMIT_BYTES: u64 = 4 << 30;
/// Largest stderr accepted from one run (the JSON log of a two-country run is a few KB).
const STDERR_LIMIT_BYTES: usize = 64 * 1024;

/// The deliveries every case starts from (THA and KEN, seed 1), a key, and the identifier values of THA's child
/// survey (names and phone numbers).
struct Base {
    _dir: tempfile::TempDir,
    raw: PathBuf,
    key: PathBuf,
    identifiers: BTreeSet<String>,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = dir.path().join("raw");
        let out = common::dh(
            None,
            &[
                "synth",
                "--out",
                s(&raw),
                "--countries",
                "THA,KEN",
                "--seed",
                "1",
            ],
        );
        assert!(out.status.success(), "synth: {}", describe(&out));
        let key = dir.path().join("key");
        fs::write(&key, "aG9zdGlsZS1kZWxpdmVyaWVzLXRlc3Qta2V5LTMyYnl0ZXM=\n").expect("key");
        let identifiers = identifiers_of(&raw.join("THA").join(CHILD_FILE));
        assert!(
            identifiers.len() > 1000,
            "expected names and phones in the delivery, got {}",
            identifiers.len()
        );
        Base {
            _dir: dir,
            raw,
            key,
            identifiers,
        }
    })
}

/// Names and phone numbers of a synthetic child-survey CSV (8 bytes or longer: shorter strings match estimates and
/// codes by chance).
fn identifiers_of(csv_path: &Path) -> BTreeSet<String> {
    let mut reader = csv::Reader::from_path(csv_path).expect("child csv");
    let header = reader.headers().expect("header").clone();
    let wanted: Vec<usize> = ["RESP_NAME", "RESP_PHONE"]
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|h| h == *name)
                .expect("identifier column")
        })
        .collect();
    let mut values = BTreeSet::new();
    for record in reader.records() {
        let record = record.expect("record");
        for &i in &wanted {
            let v = record.get(i).unwrap_or("").trim();
            if v.len() >= 8 {
                values.insert(v.to_string());
            }
        }
    }
    values
}

/// A fresh copy of the base deliveries in `dir`.
fn copy_raw(dir: &Path) -> PathBuf {
    let raw = dir.join("raw");
    for entry in walk(&base().raw) {
        let rel = entry.strip_prefix(&base().raw).expect("under raw");
        let to = raw.join(rel);
        fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        fs::copy(&entry, &to).expect("copy");
    }
    raw
}

/// Every regular file under `dir` (sorted; symlinks are not followed).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// What one run left behind.
struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    elapsed: Duration,
    out: PathBuf,
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "exit {:?} after {:.1}s\nstdout:\n{}\nstderr (first 4 KB):\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr[..self.stderr.len().min(4096)])
        )
    }
}

/// Runs `dh run` for THA and KEN on `raw` under the time and memory limits, with the JSON log on stderr.
fn run(raw: &Path, dir: &Path) -> Outcome {
    let out = dir.join("out");
    let bin = env!("CARGO_BIN_EXE_dh");
    let memory = format!("--as={MEMORY_LIMIT_BYTES}");
    let mut child = Command::new("prlimit")
        .args([memory.as_str(), "--", bin])
        .args([
            "run",
            "--raw-dir",
            s(raw),
            "--out-dir",
            s(&out),
            "--key-file",
            s(&base().key),
            "--countries",
            "THA,KEN",
            "--jobs",
            "2",
            "--log-format",
            "json",
            "--quiet",
        ])
        .current_dir(workspace())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn prlimit dh run");
    // Drain both pipes in threads so a flood of output cannot block the child.
    let mut stdout_pipe = child.stdout.take().expect("stdout");
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let stdout_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout_pipe, &mut buf).ok();
        buf
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr_pipe, &mut buf).ok();
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > TIME_LIMIT {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    let stdout = stdout_reader.join().unwrap_or_default();
    let stderr = stderr_reader.join().unwrap_or_default();
    let outcome = Outcome {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
        elapsed,
        out,
    };
    assert!(
        status.is_some(),
        "the run did not end within {TIME_LIMIT:?}\n{}",
        outcome.describe()
    );
    outcome
}

/// The status of each country in the manifest.
fn statuses(out: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(out.join("manifest.json")).expect("manifest.json");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest json");
    manifest["countries"]
        .as_array()
        .expect("countries")
        .iter()
        .map(|c| {
            (
                c["country"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every string cell of a Parquet file (dictionaries and views cast to plain strings).
fn parquet_strings(path: &Path) -> Vec<String> {
    let mut cells = Vec::new();
    for batch in common::read_parquet(path) {
        for col in batch.columns() {
            let is_text = match col.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
                DataType::Dictionary(_, v) => {
                    matches!(
                        **v,
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    )
                }
                _ => false,
            };
            if !is_text {
                continue;
            }
            let text = arrow::compute::cast(col, &DataType::Utf8).expect("cast to utf8");
            let text = text.as_string::<i32>();
            cells.extend(
                (0..text.len())
                    .filter(|&i| text.is_valid(i))
                    .map(|i| text.value(i).to_string()),
            );
        }
    }
    cells
}

/// Every cell of every sheet of a workbook, as text.
fn workbook_strings(path: &Path) -> Vec<String> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).expect("workbook");
    let mut cells = Vec::new();
    for name in book.sheet_names() {
        if let Ok(range) = book.worksheet_range(&name) {
            cells.extend(range.used_cells().map(|(_, _, c)| c.to_string()));
        }
        cells.push(name);
    }
    cells
}

/// The forbidden strings found in `text` (each is 8 bytes or longer: one pass over the text's 8-byte windows,
/// looked up by prefix, instead of one search per forbidden string).
fn found_in<'a>(text: &str, forbidden: &'a BTreeSet<String>) -> Vec<&'a str> {
    let mut by_prefix: std::collections::HashMap<&[u8], Vec<&'a str>> =
        std::collections::HashMap::new();
    for f in forbidden {
        if let Some(prefix) = f.as_bytes().get(..8) {
            by_prefix.entry(prefix).or_default().push(f.as_str());
        }
    }
    let bytes = text.as_bytes();
    let mut found = BTreeSet::new();
    for (i, window) in bytes.windows(8).enumerate() {
        if let Some(candidates) = by_prefix.get(window) {
            found.extend(
                candidates
                    .iter()
                    .copied()
                    .filter(|c| bytes[i..].starts_with(c.as_bytes())),
            );
        }
    }
    found.into_iter().collect()
}

/// Asserts that no forbidden string is in any output of the run: every file under OUT (text as bytes, Parquet and
/// workbook cells decoded), stdout and stderr.
fn assert_no_leak(o: &Outcome, forbidden: &BTreeSet<String>, case: &str) {
    let check = |what: &str, text: &str| {
        let found = found_in(text, forbidden);
        assert!(
            found.is_empty(),
            "{case}: {what} holds delivered identifiers {:?}",
            &found[..found.len().min(5)]
        );
    };
    check("stdout", &String::from_utf8_lossy(&o.stdout));
    check("stderr", &String::from_utf8_lossy(&o.stderr));
    for file in walk(&o.out) {
        let rel = file
            .strip_prefix(&o.out)
            .unwrap_or(&file)
            .display()
            .to_string();
        let bytes = fs::read(&file).expect("read output");
        check(&rel, &String::from_utf8_lossy(&bytes));
        match file.extension().and_then(|x| x.to_str()) {
            Some("parquet") => check(&rel, &parquet_strings(&file).join("\n")),
            Some("xlsx") => check(&rel, &workbook_strings(&file).join("\n")),
            _ => {}
        }
    }
}

/// One hostile case: `plant` alters the copied deliveries; THA must end with one of `thailand_exits`.
fn hostile_case(case: &str, plant: impl FnOnce(&Path), allowed_exits: &[i32]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = copy_raw(dir.path());
    plant(&raw.join("THA"));
    let o = run(&raw, dir.path());
    assert!(
        o.code.is_some_and(|c| allowed_exits.contains(&c)),
        "{case}: expected exit in {allowed_exits:?}\n{}",
        o.describe()
    );
    assert!(
        o.stderr.len() <= STDERR_LIMIT_BYTES,
        "{case}: {} bytes on stderr\n{}",
        o.stderr.len(),
        o.describe()
    );
    let statuses = statuses(&o.out);
    assert_eq!(
        statuses.get("KEN").map(String::as_str),
        Some("ok"),
        "{case}: Kenya not published: {statuses:?}\n{}",
        o.describe()
    );
    assert!(
        o.out
            .join("normalised/child_survey/country=KEN/part-0.parquet")
            .is_file(),
        "{case}: Kenya's child survey missing"
    );
    if !allowed_exits.contains(&0) {
        assert_ne!(
            statuses.get("THA").map(String::as_str),
            Some("ok"),
            "{case}: Thailand published as ok"
        );
    }
    let mut forbidden = base().identifiers.clone();
    if let Ok(passwd) = fs::read_to_string("/etc/passwd") {
        forbidden.extend(
            passwd
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= 8)
                .map(str::to_string),
        );
    }
    assert_no_leak(&o, &forbidden, case);
}

/// Rewrites THA's child-survey CSV through `edit` (text in, text out).
fn edit_child(tha: &Path, edit: impl FnOnce(String) -> String) {
    let path = tha.join(CHILD_FILE);
    let text = fs::read_to_string(&path).expect("child csv");
    fs::write(&path, edit(text)).expect("write child csv");
}

/// Swaps two columns' header cells.
fn swap_header_cells(text: String, a: &str, b: &str) -> String {
    let (header, rest) = text.split_once('\n').expect("header line");
    let cells: Vec<&str> = header
        .split(',')
        .map(|c| {
            if c == a {
                b
            } else if c == b {
                a
            } else {
                c
            }
        })
        .collect();
    format!("{}\n{rest}", cells.join(","))
}

/// Replaces the values of column `target` by those of column `source` (unquoted synthetic CSV).
fn copy_column(text: String, source: &str, target: &str) -> String {
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let names: Vec<&str> = header.split(',').collect();
    let from = names
        .iter()
        .position(|c| *c == source)
        .expect("source column");
    let to = names
        .iter()
        .position(|c| *c == target)
        .expect("target column");
    let mut out = format!("{header}\n");
    for line in lines {
        let mut cells: Vec<&str> = line.split(',').collect();
        if cells.len() == names.len() {
            cells[to] = cells[from];
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[test]
fn a_standard_run_publishes_both_countries_and_leaks_nothing() {
    hostile_case("standard", |_| {}, &[0]);
}

#[test]
fn a_header_only_child_survey_fails_its_country() {
    hostile_case(
        "empty table",
        |tha| edit_child(tha, |t| format!("{}\n", t.lines().next().unwrap_or(""))),
        &[4],
    );
}

#[test]
fn a_child_survey_without_a_header_row_fails_its_country_without_echoing_cells() {
    hostile_case(
        "no header",
        |tha| {
            edit_child(tha, |t| {
                t.split_once('\n').map(|(_, r)| r.to_string()).unwrap_or(t)
            })
        },
        &[4],
    );
}

#[test]
fn swapped_name_and_region_header_cells_fail_the_country() {
    hostile_case(
        "swapped header",
        |tha| edit_child(tha, |t| swap_header_cells(t, "RESP_NAME", "REGION")),
        &[4],
    );
}

#[test]
fn phone_numbers_in_the_weight_column_fail_the_country() {
    hostile_case(
        "phones in weight",
        |tha| edit_child(tha, |t| copy_column(t, "RESP_PHONE", "WT")),
        &[4],
    );
}

#[test]
fn a_file_without_recognised_line_breaks_fails_without_echoing_it() {
    hostile_case(
        "no line breaks",
        |tha| edit_child(tha, |t| t.replace('\n', "\u{2028}")),
        &[4],
    );
}

#[test]
fn a_nul_filled_file_fails_with_a_short_message() {
    hostile_case(
        "NUL-filled",
        |tha| fs::write(tha.join(CHILD_FILE), vec![0u8; 8 << 20]).expect("write"),
        &[4],
    );
}

#[test]
fn a_workbook_with_one_far_cell_ends_quickly_within_memory() {
    hostile_case(
        "far-cell xlsx",
        |tha| write_far_cell_copy(&tha.join(POLICE_FILE)),
        &[0, 4],
    );
}

#[test]
fn a_symlink_to_dev_zero_fails_its_country_without_hanging() {
    hostile_case(
        "/dev/zero",
        |tha| {
            let path = tha.join(CHILD_FILE);
            fs::remove_file(&path).expect("remove");
            std::os::unix::fs::symlink("/dev/zero", &path).expect("symlink");
        },
        &[4],
    );
}

#[test]
fn a_symlink_to_etc_passwd_fails_its_country_without_publishing_it() {
    hostile_case(
        "/etc/passwd",
        |tha| {
            let path = tha.join(CHILD_FILE);
            fs::remove_file(&path).expect("remove");
            std::os::unix::fs::symlink("/etc/passwd", &path).expect("symlink");
        },
        &[4],
    );
}

#[test]
fn a_fifo_in_place_of_a_delivery_fails_its_country_without_hanging() {
    hostile_case(
        "FIFO",
        |tha| {
            let path = tha.join(CHILD_FILE);
            fs::remove_file(&path).expect("remove");
            let made = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
            assert!(made.success(), "mkfifo failed");
        },
        &[4],
    );
}

/// Rewrites a workbook with the same cells plus one text cell at XFD1048576 (the last cell a sheet can hold).
fn write_far_cell_copy(path: &Path) {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).expect("police workbook");
    let names = book.sheet_names();
    let mut out = rust_xlsxwriter::Workbook::new();
    for (i, name) in names.iter().enumerate() {
        let range = book.worksheet_range(name).expect("sheet");
        let sheet = out.add_worksheet();
        sheet.set_name(name).expect("sheet name");
        let (row0, col0) = range.start().unwrap_or((0, 0));
        for (r, c, cell) in range.used_cells() {
            let (row, col) = (row0 + r as u32, (col0 + c as u32) as u16);
            match cell {
                calamine::Data::Float(f) => sheet.write_number(row, col, *f),
                calamine::Data::Int(n) => sheet.write_number(row, col, *n as f64),
                other => sheet.write_string(row, col, other.to_string()),
            }
            .expect("write cell");
        }
        if i == 0 {
            sheet
                .write_string(1_048_575, 16_383, "far")
                .expect("far cell");
        }
    }
    out.save(path).expect("save workbook");
}

#[test]
fn the_leak_search_finds_a_planted_identifier_anywhere_in_a_text() {
    let forbidden: BTreeSet<String> = ["Somchai Jaidee", "0899990001", "root:x:0:0:root"]
        .into_iter()
        .map(String::from)
        .collect();
    let text = "row 3: 0899990001\u{1e}header Somchai Jaidee,root:x:0:0:root:/root";
    assert_eq!(
        found_in(text, &forbidden),
        vec!["0899990001", "Somchai Jaidee", "root:x:0:0:root"]
    );
    assert!(found_in("Somchai Jaide", &forbidden).is_empty());
}
