//! Snapshot tests (`insta`) of what users read, through the real binary: `dh validate` on a delivery made from
//! `dh synth` output (its planted row faults, then a renamed column), `dh codebook`, the `dh country new` skeleton
//! of the committed agency delivery (crates/onboard/tests/fixtures/agency), the methods page of a one-country run
//! and the workbook's sheet list. A changed text is then a reviewed diff: `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test -p dh --test snapshots` without cargo-insta, then read `git diff`). The help of
//! every command is snapshot in `crates/cli/src/main.rs` (`help_tests`, snapshots in `crates/cli/snapshots/help/`).
//!
//! Nothing random is masked: runs are deterministic. What depends on the machine or the build is replaced before
//! the snapshot is taken: temporary paths (`[TMP]`) and SHA-256 digests (`[SHA256]`, the manifest records the
//! build's commit).

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use common::{describe, s, workspace};

/// The pseudonymisation key of the runs of this file.
const KEY: &str = "snapshot-test-key-0123456789abcdef0123456789";
/// The country the run and validate snapshots use: one country keeps the test short.
const COUNTRY: &str = "THA";

/// Runs `dh` with a fixed terminal width, so any wrapped text wraps the same everywhere.
fn dh(key: Option<&str>, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dh"));
    command
        .args(args)
        .current_dir(workspace())
        .env_remove("RUST_LOG")
        .env("COLUMNS", "100");
    if let Some(key) = key {
        command.env("DH_PSEUDONYM_KEY", key);
    }
    command.output().expect("run dh")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Replaces `dir` (and its canonical form) by `[TMP]` and every 64-digit hex digest by `[SHA256]`.
fn mask(text: &str, dir: &Path) -> String {
    let mut text = text.to_string();
    if let Ok(canonical) = dir.canonicalize() {
        text = text.replace(s(&canonical), "[TMP]");
    }
    text = text.replace(s(dir), "[TMP]");
    mask_digests(&text)
}

/// Every run of exactly 64 lowercase hex digits becomes `[SHA256]`.
fn mask_digests(text: &str) -> String {
    let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| hex(**c)).count();
        let before_ok = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        let after_ok = chars
            .get(i + run)
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if run == 64 && before_ok && after_ok {
            out.push_str("[SHA256]");
            i += run;
        } else {
            let step = run.max(1);
            out.extend(&chars[i..i + step]);
            i += step;
        }
    }
    out
}

#[test]
fn masking_replaces_digests_and_temporary_paths_only() {
    let digest = "ab".repeat(32);
    let text = format!("/tmp/x/a.csv {digest} {digest}0 cafe");
    assert_eq!(
        mask(&text, Path::new("/tmp/x")),
        format!("[TMP]/a.csv [SHA256] {digest}0 cafe")
    );
}

#[test]
fn codebook() {
    let out = dh(None, &["codebook"]);
    assert!(out.status.success(), "{}", describe(&out));
    insta::assert_snapshot!("codebook", stdout(&out));
}

#[test]
fn country_new_skeleton_of_the_agency_fixture() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("countries");
    std::fs::create_dir_all(&config).expect("mkdir");
    for entry in std::fs::read_dir(workspace().join("countries")).expect("countries/") {
        let p = entry.expect("entry").path();
        // Not a committed JOR.toml: that is the file this test writes.
        if p.extension().is_some_and(|e| e == "toml") && p.file_stem().is_none_or(|n| n != "JOR") {
            std::fs::copy(&p, config.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    // A relative --from: the skeleton names it in its first comment line.
    let out = dh(
        None,
        &[
            "country",
            "new",
            "JOR",
            "--from",
            "crates/onboard/tests/fixtures/agency",
            "--config-dir",
            s(&config),
            "--schema-dir",
            "schemas",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    insta::assert_snapshot!("country_new_stdout", mask(&stdout(&out), tmp.path()));
    let skeleton = std::fs::read_to_string(config.join("JOR.toml")).expect("skeleton");
    insta::assert_snapshot!("country_new_skeleton", mask(&skeleton, tmp.path()));
}

/// `dh synth` deliveries of [`COUNTRY`] and a run over them, made once for the tests that need them.
struct Fixture {
    dir: tempfile::TempDir,
    raw: PathBuf,
    out: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = dir.path().join("raw");
        common::synth(&raw, COUNTRY, "3");
        let out = dir.path().join("out");
        let run = dh(
            Some(KEY),
            &[
                "run",
                "--raw-dir",
                s(&raw),
                "--out-dir",
                s(&out),
                "--countries",
                COUNTRY,
                "--quiet",
            ],
        );
        assert!(run.status.success(), "{}", describe(&run));
        Fixture { dir, raw, out }
    })
}

/// Copies the files of `from` into `to` (one level).
fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, to.join(p.file_name().expect("name"))).expect("copy");
    }
}

#[test]
fn validate_reports_a_renamed_column_and_the_planted_rows() {
    let f = fixture();
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    copy_files(&f.raw.join(COUNTRY), &raw.join(COUNTRY));
    let validate = |raw: &Path| {
        let out = dh(
            Some(KEY),
            &["validate", "--raw-dir", s(raw), "--countries", COUNTRY],
        );
        // 4: delivery or row problems
        assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
        assert!(out.stderr.is_empty(), "{}", describe(&out));
        mask(&stdout(&out), tmp.path())
    };
    // The faults `dh synth` plants, as row problems.
    insta::assert_snapshot!("validate_planted_faults", validate(&raw));

    // The broken delivery: the frontline workers' file names a mapped column differently.
    let file = raw.join(COUNTRY).join("frontline_workers.csv");
    let text = std::fs::read_to_string(&file).expect("frontline_workers.csv");
    let (header, rest) = text.split_once('\n').expect("a header line");
    assert!(header.contains(",Q1_ROLE,"), "{header}");
    let header = header.replace(",Q1_ROLE,", ",Q1_JOB,");
    std::fs::write(&file, format!("{header}\n{rest}")).expect("write");
    insta::assert_snapshot!("validate_renamed_column", validate(&raw));
}

#[test]
fn methods_page_of_a_run() {
    let f = fixture();
    let page = std::fs::read_to_string(f.out.join("report").join("methods.html")).expect("methods");
    insta::assert_snapshot!("report_methods_page", mask(&page, f.dir.path()));
}

#[test]
fn workbook_sheet_list() {
    use calamine::Reader;
    let f = fixture();
    let path = f.out.join("tables").join("indicators.xlsx");
    let workbook: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("open the workbook");
    insta::assert_snapshot!("workbook_sheets", workbook.sheet_names().join("\n"));
}
