//! The published-number invariants, checked over every row of `OUT/indicators/indicators.parquet` of full runs of
//! the real binary on three synthetic seeds (issue 11). The rules are restated here from the outputs alone (not
//! through `dh-indicators`), so a change in the library cannot silently change what the test accepts:
//!
//! * a shown estimate lies inside its interval, and a positive SE never comes with a zero-width interval;
//! * no negative estimate or bound for a non-negative quantity (everything but a `change`);
//! * proportions (survey proportions, unweighted proportions, shares) and their bounds lie in [0, 1];
//! * a row flagged `ok` that carries sampling error (an interval) has at least 25 cases; a survey count or mean
//!   flagged `ok` has a relative standard error of at most 30%; a proportion flagged `ok` has an interval at
//!   most 30 points wide and an effective sample size (n / deff) of at least 30 (any proportion or share: the
//!   width rule; survey proportions: also the effective sample size);
//! * a row whose flag hides the estimate shows no estimate, SE, interval or population estimate;
//! * `flags` lists the primary `flag` first, and holds `ok` only alone.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, UInt64Type};

use common::{describe, dh, s};

const KEY: &str = "invariants-test-key-0123456789abcdef01234";

/// One published row, as read back.
#[derive(Debug)]
struct Row {
    country: String,
    indicator: String,
    domain: String,
    domain_value: String,
    statistic: String,
    estimate: Option<f64>,
    se: Option<f64>,
    ci_lower: Option<f64>,
    ci_upper: Option<f64>,
    ci_method: String,
    deff: Option<f64>,
    n_unweighted: u64,
    population_estimate: Option<f64>,
    flag: String,
    flags: String,
}

impl Row {
    fn at(&self) -> String {
        format!(
            "{} {} {}={} [{} {}] est={:?} se={:?} ci=[{:?}, {:?}] n={} deff={:?} flag={} flags={}",
            self.country,
            self.indicator,
            self.domain,
            self.domain_value,
            self.statistic,
            self.ci_method,
            self.estimate,
            self.se,
            self.ci_lower,
            self.ci_upper,
            self.n_unweighted,
            self.deff,
            self.flag,
            self.flags
        )
    }
}

fn read_rows(path: &Path) -> Vec<Row> {
    let batches: Vec<RecordBatch> = common::read_parquet(path);
    let mut rows = Vec::new();
    for b in &batches {
        let col = |name: &str| {
            b.column_by_name(name)
                .unwrap_or_else(|| panic!("indicators.parquet has no column `{name}`"))
        };
        let text = |name: &str, i: usize| -> String {
            let c = col(name);
            let c = arrow::compute::cast(c, &DataType::Utf8).expect("text column");
            c.as_string::<i32>().value(i).to_string()
        };
        let float = |name: &str, i: usize| -> Option<f64> {
            let c = col(name).as_primitive::<Float64Type>();
            c.is_valid(i).then(|| c.value(i))
        };
        for i in 0..b.num_rows() {
            rows.push(Row {
                country: text("country", i),
                indicator: text("indicator", i),
                domain: text("domain", i),
                domain_value: text("domain_value", i),
                statistic: text("statistic", i),
                estimate: float("estimate", i),
                se: float("se", i),
                ci_lower: float("ci_lower", i),
                ci_upper: float("ci_upper", i),
                ci_method: text("ci_method", i),
                deff: float("deff", i),
                n_unweighted: col("n_unweighted").as_primitive::<UInt64Type>().value(i),
                population_estimate: float("population_estimate", i),
                flag: text("flag", i),
                flags: text("flags", i),
            });
        }
    }
    rows
}

const HIDING: [&str; 3] = ["suppressed", "not_collected", "suppressed_small_count"];
const PROPORTIONS: [&str; 3] = ["proportion", "unweighted_proportion", "share"];

/// Every broken rule of one row, as text.
fn violations(r: &Row) -> Vec<String> {
    let mut v = Vec::new();
    let mut fail = |what: &str| v.push(format!("{what}: {}", r.at()));
    if HIDING.contains(&r.flag.as_str()) {
        if r.estimate.is_some()
            || r.se.is_some()
            || r.ci_lower.is_some()
            || r.ci_upper.is_some()
            || r.population_estimate.is_some()
        {
            fail("a withheld row shows a number");
        }
        return v;
    }
    if r.flags.split(';').next() != Some(r.flag.as_str()) {
        fail("`flags` does not start with the primary flag");
    }
    if r.flags.split(';').any(|f| f == "ok") && r.flags != "ok" {
        fail("`ok` listed with other conditions");
    }
    let Some(e) = r.estimate else {
        if r.flag == "ok" {
            fail("an ok row without an estimate");
        }
        return v;
    };
    let non_negative = r.statistic != "change";
    if non_negative && e < 0.0 {
        fail("negative estimate of a non-negative quantity");
    }
    let proportion = PROPORTIONS.contains(&r.statistic.as_str());
    if proportion && !(0.0..=1.0).contains(&e) {
        fail("proportion outside [0, 1]");
    }
    match (r.ci_lower, r.ci_upper) {
        (Some(lo), Some(hi)) => {
            let slack = 1e-12 * e.abs().max(1.0);
            if !(lo <= e + slack && e <= hi + slack) {
                fail("estimate outside its interval");
            }
            if r.se.is_some_and(|se| se > 0.0) && hi - lo <= 0.0 {
                fail("zero-width interval with a positive SE");
            }
            if non_negative && lo < 0.0 {
                fail("negative bound of a non-negative quantity");
            }
            if proportion && !(0.0 <= lo && hi <= 1.0) {
                fail("proportion bound outside [0, 1]");
            }
            if r.flag == "ok" {
                if r.n_unweighted < 25 {
                    fail("fewer than 25 cases flagged ok");
                }
                if proportion {
                    if hi - lo > 0.30 + 1e-12 {
                        fail("interval wider than 30 points flagged ok");
                    }
                    if let Some(d) = r.deff.filter(|d| *d > 0.0)
                        && (r.n_unweighted as f64) / d < 30.0
                    {
                        fail("effective sample size below 30 flagged ok");
                    }
                }
            }
        }
        (None, None) => {
            if r.ci_method != "none" {
                fail("no interval although the row names a ci method");
            }
        }
        _ => fail("one bound without the other"),
    }
    if r.flag == "ok"
        && matches!(r.statistic.as_str(), "count" | "mean")
        && r.ci_method != "none"
        && let Some(se) = r.se
        && e > 0.0
        && se / e > 0.30
    {
        fail("relative standard error above 30% flagged ok");
    }
    if r.ci_method != "none" && r.se.is_some_and(|se| se > 0.0) && r.flag == "ok" && e == 0.0 {
        fail("ok row with estimate 0 and a positive SE");
    }
    v
}

fn full_run(seed: &str) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("temp dir");
    let raw = dir.path().join("raw");
    let out = dir.path().join("out");
    let synth = dh(Some(KEY), &["synth", "--out", s(&raw), "--seed", seed]);
    assert!(synth.status.success(), "dh synth: {}", describe(&synth));
    let run = dh(
        Some(KEY),
        &["run", "--raw-dir", s(&raw), "--out-dir", s(&out), "--quiet"],
    );
    assert!(run.status.success(), "dh run: {}", describe(&run));
    read_rows(&out.join("indicators/indicators.parquet"))
}

#[test]
fn every_published_row_of_three_full_runs_keeps_the_invariants() {
    let runs: Vec<(&str, Vec<Row>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["1", "2", "3"]
            .into_iter()
            .map(|seed| scope.spawn(move || (seed, full_run(seed))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("run thread"))
            .collect()
    });
    let mut broken = Vec::new();
    let mut shown = 0usize;
    for (seed, rows) in &runs {
        assert!(rows.len() > 1000, "seed {seed}: only {} rows", rows.len());
        let with_estimate = rows.iter().filter(|r| r.estimate.is_some()).count();
        let with_interval = rows.iter().filter(|r| r.ci_lower.is_some()).count();
        // The row counts checked, for the record (`--nocapture` shows them).
        println!(
            "seed {seed}: {} rows checked, {with_estimate} with an estimate, {with_interval} with an interval",
            rows.len()
        );
        shown += with_estimate;
        for r in rows {
            broken.extend(
                violations(r)
                    .into_iter()
                    .map(|v| format!("seed {seed}: {v}")),
            );
        }
    }
    assert!(shown > 1000, "only {shown} rows with an estimate");
    assert!(
        broken.is_empty(),
        "{} published rows break an invariant; first 30:\n{}",
        broken.len(),
        broken
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The checker itself: each rule catches the row it is about (so the test above cannot pass by checking nothing).
#[test]
fn the_checker_catches_each_broken_rule() {
    let good = || Row {
        country: "THA".into(),
        indicator: "x".into(),
        domain: "total".into(),
        domain_value: "total".into(),
        statistic: "proportion".into(),
        estimate: Some(0.2),
        se: Some(0.02),
        ci_lower: Some(0.16),
        ci_upper: Some(0.24),
        ci_method: "logit".into(),
        deff: Some(1.5),
        n_unweighted: 900,
        population_estimate: Some(1000.0),
        flag: "ok".into(),
        flags: "ok".into(),
    };
    assert!(violations(&good()).is_empty(), "{:?}", violations(&good()));
    type Breaker = Box<dyn Fn(&mut Row)>;
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "outside",
            Box::new(|r| (r.ci_lower, r.ci_upper) = (Some(2.2e-16), Some(2.2e-16))),
        ),
        (
            "zero-width",
            Box::new(|r| (r.estimate, r.ci_lower, r.ci_upper) = (Some(0.2), Some(0.2), Some(0.2))),
        ),
        (
            "negative bound",
            Box::new(|r| {
                r.statistic = "count".into();
                (r.estimate, r.se, r.ci_lower, r.ci_upper) =
                    (Some(100.0), Some(20.0), Some(-5.0), Some(140.0));
            }),
        ),
        ("fewer than 25", Box::new(|r| r.n_unweighted = 24)),
        (
            "relative standard error",
            Box::new(|r| {
                r.statistic = "mean".into();
                (r.estimate, r.se, r.ci_lower, r.ci_upper) =
                    (Some(2.0), Some(0.7), Some(0.6), Some(3.4));
            }),
        ),
        (
            "wider than 30 points",
            Box::new(|r| (r.ci_lower, r.ci_upper) = (Some(0.05), Some(0.40))),
        ),
        ("effective sample size", Box::new(|r| r.deff = Some(31.0))),
        (
            "withheld row shows",
            Box::new(|r| r.flag = "suppressed".into()),
        ),
        (
            "proportion outside",
            Box::new(|r| (r.estimate, r.ci_upper) = (Some(1.2), Some(1.3))),
        ),
        (
            "primary flag",
            Box::new(|r| {
                r.flag = "low_base".into();
                r.flags = "non_representative;low_base".into();
            }),
        ),
    ];
    for (rule, break_it) in cases {
        let mut r = good();
        break_it(&mut r);
        let v = violations(&r);
        assert!(
            v.iter().any(|m| m.contains(rule)),
            "rule `{rule}` not caught: {v:?}"
        );
    }
    // a relative change may be negative
    let mut change = good();
    change.statistic = "change".into();
    (change.estimate, change.ci_lower, change.ci_upper, change.se) = (Some(-0.3), None, None, None);
    change.ci_method = "none".into();
    assert!(violations(&change).is_empty(), "{:?}", violations(&change));
}
