//! `dh run` writes the report and workbook; `dh report` rebuilds them from the same `OUT` with the same bytes,
//! and the run's manifest lists them. Runs the real binary on built-in synthetic data for two countries.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dh(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run dh: {e}"));
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn snapshot(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out.join("report"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files.push((
        "indicators.xlsx".into(),
        std::fs::read(out.join("tables/indicators.xlsx")).unwrap_or_default(),
    ));
    files
}

#[test]
fn run_writes_the_report_and_dh_report_rebuilds_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = repo();
    let arg = |p: &str| root.join(p).display().to_string();
    let (config, schemas, pipelines) = (arg("countries"), arg("schemas"), arg("pipelines"));
    let (code, log) = dh(
        dir.path(),
        &[
            "run",
            "--quiet",
            "--countries",
            "THA,KEN",
            "--config-dir",
            &config,
            "--schema-dir",
            &schemas,
            "--pipelines-dir",
            &pipelines,
        ],
    );
    assert_eq!(code, 0, "{log}");
    let out = dir.path().join("out");
    let index = std::fs::read_to_string(out.join("report/index.html")).unwrap_or_default();
    assert!(
        index.contains("Thailand") && index.contains("Kenya"),
        "overview names both countries"
    );
    assert!(out.join("report/country-THA.html").is_file());
    assert!(out.join("report/indicator-ocsea_clear_any.html").is_file());
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap_or_default();
    assert!(
        manifest.contains("\"report/index.html\"")
            && manifest.contains("\"tables/indicators.xlsx\"")
    );
    let first = snapshot(&out);
    assert!(first.len() > 10);

    let (code, log) = dh(dir.path(), &["report", "--out-dir", "out"]);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("pages"), "{log}");
    assert_eq!(first, snapshot(&out), "dh report rebuilds the same bytes");

    let (code, log) = dh(dir.path(), &["report", "--out-dir", "no-such-folder"]);
    assert_eq!(code, 3, "{log}");
}
