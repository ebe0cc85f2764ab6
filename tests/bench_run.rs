//! `dh bench run` end to end (issue 14): the real binary generates scale-1 deliveries for two countries (one of
//! them Latin-1), times `dh run` and DuckDB, and prints a table (and JSON) of the agreed shape. Timings are not
//! checked, only the shape and the row counts. DuckDB is optional (tests/common/optional.rs): without it the
//! table must say so, and under CI the test fails.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::optional::tool_missing;
use common::{describe, dh, s};

fn duckdb_installed() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success())
        || std::process::Command::new("duckdb")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
}

#[test]
fn bench_run_prints_one_line_per_tool_with_figures() {
    let out = dh(
        None,
        &[
            "bench",
            "run",
            "--scale",
            "1",
            "--countries",
            "THA,MOZ",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.split_whitespace().next() == Some("tool"))
        .unwrap_or_else(|| panic!("no table header in:\n{text}"));
    assert_eq!(
        lines[header].split_whitespace().collect::<Vec<_>>(),
        [
            "tool",
            "wall_s",
            "cpu_s",
            "peak_MB",
            "rows",
            "rows_per_s",
            "ratio"
        ]
    );
    let dh_line: Vec<&str> = lines[header + 1].split_whitespace().collect();
    assert_eq!(dh_line.len(), 7, "{text}");
    assert_eq!(dh_line[0], "dh");
    let numbers: Vec<f64> = dh_line[1..6]
        .iter()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{v} in\n{text}")))
        .collect();
    assert!(numbers.iter().all(|x| *x > 0.0), "{text}");
    assert!(numbers[3] > 2_000.0, "two countries read more rows: {text}");
    let duck: Vec<&str> = lines[header + 2].split_whitespace().collect();
    assert_eq!(duck[0], "duckdb");
    if duckdb_installed() {
        assert_eq!(duck.len(), 7, "{text}");
        assert_eq!(duck[6], "1.00");
        let ratio: f64 = dh_line[6].parse().unwrap();
        let walls: (f64, f64) = (dh_line[1].parse().unwrap(), duck[1].parse().unwrap());
        assert!(
            (ratio - walls.0 / walls.1).abs() < 0.01 + 0.01 * ratio,
            "{text}"
        );
        assert!(text.contains("read as latin-1"), "{text}");
    } else {
        assert_eq!(&duck[1..3], ["not", "measured:"], "{text}");
        tool_missing("dh bench run against DuckDB", "DuckDB is not installed");
    }
}

#[test]
fn bench_run_json_keeps_the_work_folder_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let out = dh(
        None,
        &[
            "bench",
            "run",
            "--scale",
            "1",
            "--countries",
            "THA",
            "--no-duckdb",
            "--json",
            "--keep",
            "--work-dir",
            s(&work),
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["countries"], 1);
    assert_eq!(v["jobs"], 2);
    let tools = v["tools"].as_array().unwrap();
    assert_eq!(tools[0]["tool"], "dh");
    for key in ["wall_s", "cpu_s", "peak_mb", "rows", "rows_per_s"] {
        assert!(
            tools[0][key].as_f64().is_some_and(|x| x > 0.0),
            "{key}: {v}"
        );
    }
    assert_eq!(tools[1]["tool"], "duckdb");
    assert!(
        tools[1]["skipped"]
            .as_str()
            .unwrap()
            .contains("--no-duckdb")
    );
    assert!(work.join("raw/THA").is_dir() && work.join("out/manifest.json").is_file());
}

#[test]
fn a_failing_dh_run_exits_4_and_says_why() {
    // A binary that is not dh: the timed run fails, the benchmark reports it.
    let out = dh(
        None,
        &[
            "bench",
            "run",
            "--scale",
            "1",
            "--countries",
            "THA",
            "--no-duckdb",
            "--dh",
            "/bin/false",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dh") && text.contains("not measured: dh run failed (exit 1)"),
        "{text}"
    );
}

#[test]
fn bench_memory_holds_a_case_to_its_limit() {
    // The police case at a small size: the same path as the 10,000,000-row case, in seconds.
    let args = |limit: &str| -> Vec<String> {
        [
            "bench",
            "memory",
            "--case",
            "police-csv",
            "--rows",
            "20000",
            "--limit-mb",
            limit,
            "--json",
            "-q",
        ]
        .map(str::to_string)
        .to_vec()
    };
    let within = dh(
        None,
        &args("1024").iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(within.status.success(), "{}", describe(&within));
    let v: serde_json::Value = serde_json::from_slice(&within.stdout).expect("JSON on stdout");
    let case = &v["cases"][0];
    assert_eq!(case["case"], "police-csv");
    assert_eq!(case["table_rows"], 20_000);
    assert_eq!(case["within_limit"], true);
    assert!(case["rows"].as_u64().is_some_and(|r| r > 20_000), "{v}");
    assert!(case["peak_mb"].as_f64().is_some_and(|m| m > 1.0), "{v}");

    let over = dh(
        None,
        &args("1").iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(over.status.code(), Some(4), "{}", describe(&over));
    let v: serde_json::Value = serde_json::from_slice(&over.stdout).expect("JSON on stdout");
    assert_eq!(v["cases"][0]["within_limit"], false);
}
