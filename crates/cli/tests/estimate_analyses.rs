//! `dh estimate --analyses FILE`: several analyses on one read of the data give exactly the
//! estimates of separate invocations, in file order, each row naming its statistic; errors in the
//! file name the file, the analysis and its line.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// A small stratified cluster sample: 4 strata x 5 PSUs x 12 rows, a continuous `y`, a 0/1 `b`,
/// a text `group` and a numeric code `sex`, from a fixed linear congruential sequence.
fn data() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        // A fixed folder under target/ (a static is never dropped, so a `TempDir` here would never be
        // deleted): each test run replaces the previous run's copy.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("estimate-analyses");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("data folder");
        let path = dir.join("sample.csv");
        let mut state: u64 = 20261128;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut text = String::from("stratum,psu,weight,y,b,group,sex\n");
        for stratum in 1..=4 {
            for psu in 1..=5 {
                for _ in 0..12 {
                    let y = 50.0 + 10.0 * stratum as f64 + 20.0 * next();
                    let b = u8::from(next() < 0.3 + 0.1 * stratum as f64);
                    let group = ["north", "south", "east"][(next() * 3.0) as usize % 3];
                    let sex = 1 + u8::from(next() < 0.5);
                    let weight = 80.0 + 40.0 * next();
                    text.push_str(&format!("{stratum},{psu},{weight},{y},{b},{group},{sex}\n"));
                }
            }
        }
        std::fs::write(&path, text).expect("write sample");
        path
    })
}

const DESIGN: [&str; 7] = [
    "--ids",
    "psu",
    "--strata",
    "stratum",
    "--weights",
    "weight",
    "--nest",
];

fn dh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dh"))
        .arg("estimate")
        .arg(data())
        .args(DESIGN)
        .args(args)
        .output()
        .expect("run dh")
}

fn estimates(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "dh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    v["estimates"].as_array().cloned().unwrap_or_default()
}

#[test]
fn analyses_equal_separate_invocations_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("analyses.toml");
    std::fs::write(
        &file,
        r#"
[[analysis]]
stat = "mean"
var = "y"
by = ["group"]

[[analysis]]
stat = "ciprop"
var = "b"
method = "beta"
subset = ["group=north"]

[[analysis]]
stat = "quantile"
var = "y"
quantiles = [0.25, 0.5]
qrule = "hf7"

[[analysis]]
stat = "total"
var = ["y", "sex"]
factor = "sex"
deff = "replace"

# `sex` is a factor only in the analysis above: here it is a number (R: svymean(~sex))
[[analysis]]
stat = "mean"
var = "sex"
"#,
    )
    .unwrap();
    let file_arg = file.display().to_string();
    let combined = estimates(&dh(&[
        "--stat",
        "mean",
        "--var",
        "b",
        "--analyses",
        &file_arg,
        "--format",
        "json",
    ]));
    let separate: Vec<Vec<&str>> = vec![
        vec!["--stat", "mean", "--var", "b"],
        vec!["--stat", "mean", "--var", "y", "--by", "group"],
        vec![
            "--stat",
            "ciprop",
            "--var",
            "b",
            "--method",
            "beta",
            "--subset",
            "group=north",
        ],
        vec![
            "--stat",
            "quantile",
            "--var",
            "y",
            "--quantiles",
            "0.25,0.5",
            "--qrule",
            "hf7",
        ],
        vec![
            "--stat",
            "total",
            "--var",
            "y,sex",
            "--factor",
            "sex",
            "--deff-replace",
        ],
        vec!["--stat", "mean", "--var", "sex"],
    ];
    let mut expected = Vec::new();
    for args in &separate {
        let mut a = args.clone();
        a.extend(["--format", "json"]);
        expected.extend(estimates(&dh(&a)));
    }
    assert_eq!(combined.len(), expected.len());
    assert_eq!(combined, expected);
    let stats: Vec<&str> = combined.iter().filter_map(|e| e["stat"].as_str()).collect();
    assert_eq!(stats.first(), Some(&"mean"));
    assert_eq!(stats.last(), Some(&"mean"));
    assert!(
        ["ciprop", "quantile", "total"]
            .iter()
            .all(|s| stats.contains(s))
    );

    let table = dh(&["--analyses", &file_arg]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert_eq!(text.matches("Statistic: ").count(), 5, "{text}");
    assert!(text.contains("Statistic: mean of y, by group"), "{text}");
    assert!(text.contains("where group = north"), "{text}");

    let csv = dh(&["--analyses", &file_arg, "--format", "csv"]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    let header = csv.lines().next().unwrap_or_default();
    assert!(header.starts_with("group,name,"), "{header}");
    assert!(header.ends_with(",stat"), "{header}");
    // The file's analyses only: every estimate of `combined` but the first, plus a header.
    assert_eq!(csv.lines().count(), combined.len());
}

#[test]
fn a_bad_analyses_file_is_a_configuration_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[analysis]]\nstat = \"mean\"\nvar = \"y\"\n\n[[analysis]]\nstat = \"ratio\"\nvar = \"y\"\n",
    )
    .unwrap();
    let out = dh(&["--analyses", &file.display().to_string()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml, analysis 2 (line 5): --denominator"),
        "{stderr}"
    );

    std::fs::write(&file, "[[analysis]]\nstat = \"mean\"\nvars = \"y\"\n").unwrap();
    let out = dh(&["--analyses", &file.display().to_string()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("vars"), "{stderr}");

    std::fs::write(&file, "[[analysis]]\nstat = \"mean\"\nvar = \"nope\"\n").unwrap();
    let out = dh(&["--analyses", &file.display().to_string()]);
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`nope`"), "{stderr}");

    let out = dh(&["--stat", "mean", "--var", "y", "--fay-rho", "0.3"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fay-rho"));

    let out = dh(&["--analyses", &file.display().to_string(), "--by", "group"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--by"));
}

/// `dh bench estimate` on a small generated design without the peers: dh is timed and the table says
/// that nothing was checked against R.
#[test]
fn bench_estimate_times_dh_on_a_generated_design() {
    let dir = tempfile::tempdir().unwrap();
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench");
    let out = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(["bench", "estimate", "--rows", "20000", "--strata", "20"])
        .args(["--psus", "400", "--runs", "1", "--no-r", "--no-svy"])
        .arg("--work")
        .arg(dir.path())
        .arg("--bench-dir")
        .arg(&bench)
        .output()
        .expect("run dh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("20000 rows, 20 strata, 400 PSUs"),
        "{stdout}"
    );
    let dh_line = stdout
        .lines()
        .find(|l| l.starts_with("dh "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(!dh_line.contains("not measured"), "{dh_line}");
    assert!(stdout.contains("R did not run"), "{stdout}");
    let dh_json: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("dh.json")).unwrap()).unwrap();
    assert_eq!(dh_json["design"]["n_psu"], 400);
}
