//! `dh indicators list` / `show` run as the real binary: output, exit codes, and located catalogue errors.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dh(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("cannot run dh: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_prints_every_indicator() {
    let (code, stdout, stderr) = dh(&["indicators", "list"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("id "), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("ocsea_clear_any ")
        && l.contains("child_survey")
        && l.contains("proportion")));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("caregiver_would_report_police ")
                && l.contains("caregiver_survey"))
    );
}

#[test]
fn show_prints_the_full_definition() {
    let (code, stdout, stderr) = dh(&["indicators", "show", "ocsea_told_police"]);
    assert_eq!(code, 0, "{stderr}");
    for needle in [
        "universe:",
        "numerator:",
        "missing codes:",
        "ci method:       korn_graubard",
        "disaggregations: total, sex",
        "comparability:",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
}

#[test]
fn unknown_id_and_invalid_catalogue_exit_with_3() {
    let (code, _, stderr) = dh(&["indicators", "show", "no_such_indicator"]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("no indicator `no_such_indicator`"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pipeline = std::fs::read_to_string(repo().join("pipelines/pipeline.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let catalogue = std::fs::read_to_string(repo().join("pipelines/indicators.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let broken = catalogue.replacen(
        "numerator = 'knows_how_report == \"yes\"'",
        "numerator = 'knows_how_reprt == \"yes\"'",
        1,
    );
    assert_ne!(broken, catalogue, "the test edit must apply");
    std::fs::write(dir.path().join("pipeline.toml"), pipeline).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("indicators.toml"), &broken).unwrap_or_else(|e| panic!("{e}"));
    let line = broken
        .lines()
        .position(|l| l.contains("knows_how_reprt"))
        .map(|i| i + 1)
        .unwrap_or(0);
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let (code, _, stderr) = dh(&["indicators", "list", "--pipelines-dir", &dir_arg]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains(&format!("indicators.toml:{line}:14: indicator `knows_how_report`: `numerator`: unknown column `knows_how_reprt` (did you mean `knows_how_report`?)")), "{stderr}");
}
