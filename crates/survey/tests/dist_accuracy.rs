//! Accuracy of `dh_survey::dist` against values printed by R 4.2.2 (`tests/dist/make_dist.R`): normal, Student t
//! (non-integer df included, up to 10,000), beta (tails to 1e-140), F(1, df) upper quantiles and log-gamma. Prints the largest relative error
//! per function and fails above the bound each function is held to.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `!(rel <= bound)` is deliberate: a NaN error must fail.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use dh_survey::dist;
use std::collections::BTreeMap;
use std::path::Path;

fn parse(s: &str) -> f64 {
    if s == "NA" {
        f64::NAN
    } else {
        s.parse().unwrap_or(f64::NAN)
    }
}

#[test]
fn distribution_functions_match_r() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dist/dist_reference.csv");
    let text = std::fs::read_to_string(&path).expect("dist_reference.csv");
    let mut worst: BTreeMap<String, (f64, String)> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 5, "{line}");
        let (a, b, c, r) = (parse(f[1]), parse(f[2]), parse(f[3]), parse(f[4]));
        let mine = match f[0] {
            "qnorm" => dist::qnorm(a, true),
            "pnorm" => dist::pnorm(a, true),
            "qt" => dist::qt(a, b, true),
            "pt" => dist::pt(a, b, true),
            "pbeta" => dist::pbeta(a, b, c, true),
            "qbeta" => dist::qbeta(a, b, c, true),
            "qf1_upper" => dist::qf_1(a, b, false),
            "lgamma" => dist::ln_gamma(a),
            other => panic!("unknown function {other}"),
        };
        let rel = if r == 0.0 {
            mine.abs()
        } else {
            ((mine - r) / r).abs()
        };
        let e = worst
            .entry(f[0].to_string())
            .or_insert((0.0, String::new()));
        if !(rel <= e.0) {
            *e = (rel, format!("{line} -> {mine:e}"));
        }
    }
    // bounds (measured worst cases: pt 2.5e-13 at df 10000, qbeta 1.3e-13 for a = 0.08, all others below 6e-14)
    let bound = |name: &str| {
        if name == "pt" || name == "qbeta" {
            5e-13
        } else {
            1e-13
        }
    };
    let mut bad = Vec::new();
    for (name, (rel, at)) in &worst {
        println!("{name:10} max rel error {rel:.2e}  at {at}");
        if !(*rel <= bound(name)) {
            bad.push(name.clone());
        }
    }
    assert!(bad.is_empty(), "functions above their bound: {bad:?}");
}
