//! Integration tests of `dh estimate` against R's `survey` results: every case of the oracle
//! (`crates/survey/tests/oracle/expected.json`) becomes one run of the real `dh` binary with the
//! flags that express it, and its `--format json` output is compared with R's numbers at the case's
//! `suggested_rel_tol` (rule of the oracle README). A new case in the JSON is a new check.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../survey/tests/oracle")
}

/// Reads an oracle CSV (quoted fields, `NA` for missing values) as a header and rows of fields.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let fail = |e: csv::Error| -> ! { panic!("{}: {e}", path.display()) };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| fail(e));
    let header = reader
        .headers()
        .unwrap_or_else(|e| fail(e))
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| fail(e))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}

fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let fail = |e: csv::Error| -> ! { panic!("{}: {e}", path.display()) };
    let mut writer = csv::Writer::from_path(path).unwrap_or_else(|e| fail(e));
    for record in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        writer.write_record(record).unwrap_or_else(|e| fail(e));
    }
    writer.flush().unwrap_or_else(|e| fail(csv::Error::from(e)));
}

/// Files the cases need, written once into a temporary directory.
struct Fixture {
    dir: tempfile::TempDir,
    oracle: Value,
    written: HashMap<String, PathBuf>,
    /// Bootstrap designs draw their replicates from R's seed instead of reading R's exported weights.
    seeded_bootstrap: bool,
}

impl Fixture {
    fn new() -> Self {
        let path = oracle_dir().join("expected.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
            oracle: serde_json::from_str(&text).expect("expected.json parses"),
            written: HashMap::new(),
            seeded_bootstrap: false,
        }
    }

    /// The dataset with the oracle's derived variables added (R expressions in `derived_variables`)
    /// and a constant `one` column (for `prob=~1`).
    fn dataset(&mut self, name: &str) -> PathBuf {
        if let Some(p) = self.written.get(name) {
            return p.clone();
        }
        let (mut header, mut rows) = read_csv(&oracle_dir().join(format!("{name}.csv")));
        let col = |header: &[String], c: &str| header.iter().position(|h| h == c);
        let yes = |header: &[String], rows: &[Vec<String>], c: &str| -> Option<Vec<String>> {
            let i = col(header, c)?;
            Some(
                rows.iter()
                    .map(|r| if r[i] == "Yes" { "1" } else { "0" }.to_string())
                    .collect(),
            )
        };
        let mut derived: Vec<(String, Vec<String>)> = Vec::new();
        for (name, source) in [
            ("sch_wide_yes", "sch.wide"),
            ("yr_rnd_yes", "yr.rnd"),
            ("awards_yes", "awards"),
        ] {
            if let Some(values) = yes(&header, &rows, source) {
                derived.push((name.to_string(), values));
            }
        }
        if name == "apiclus1"
            && let Some(i) = col(&header, "dnum")
        {
            let values = rows
                .iter()
                .map(|r| {
                    let d: f64 = r[i].parse().unwrap_or(f64::NAN);
                    if d < 300.0 {
                        "A"
                    } else if d < 800.0 {
                        "B"
                    } else {
                        "C"
                    }
                    .to_string()
                })
                .collect();
            derived.push(("lstrat".to_string(), values));
        }
        derived.push(("one".to_string(), vec!["1".to_string(); rows.len()]));
        for (name, values) in derived {
            header.push(name);
            for (row, v) in rows.iter_mut().zip(values) {
                row.push(v);
            }
        }
        let path = self.dir.path().join(format!("{name}.csv"));
        write_csv(&path, &header, &rows);
        self.written.insert(name.to_string(), path.clone());
        path
    }

    /// A replicate-weight file holding only the columns whose names start with `prefix` + digit.
    fn repweights(&mut self, file: &str, prefix: &str) -> PathBuf {
        let key = format!("{file}:{prefix}");
        if let Some(p) = self.written.get(&key) {
            return p.clone();
        }
        let (header, rows) = read_csv(&oracle_dir().join(file));
        let keep: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                h.strip_prefix(prefix).is_some_and(|rest| {
                    rest.chars().all(|c| c.is_ascii_digit()) && !rest.is_empty()
                })
            })
            .map(|(i, _)| i)
            .collect();
        let header: Vec<String> = keep.iter().map(|&i| header[i].clone()).collect();
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
            .collect();
        let path = self
            .dir
            .path()
            .join(format!("{}_{prefix}.csv", file.trim_end_matches(".csv")));
        write_csv(&path, &header, &rows);
        self.written.insert(key, path.clone());
        path
    }

    fn population(&mut self, design_id: &str, margins: &Value) -> PathBuf {
        let path = self.dir.path().join(format!("{design_id}_population.json"));
        std::fs::write(&path, margins.to_string())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }
}

fn s(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default()
}

/// Flags of a Taylor design (`designs.<id>`).
fn taylor_args(d: &Value, args: &mut Vec<String>) {
    let ids = strings(&d["ids"]);
    if !ids.is_empty() {
        args.extend(["--ids".into(), ids.join(",")]);
    }
    if let Some(strata) = d["strata"].as_str() {
        args.extend(["--strata".into(), strata.into()]);
    }
    let fpc = strings(&d["fpc"]);
    if !fpc.is_empty() {
        args.extend(["--fpc".into(), fpc.join(",")]);
    }
    if let Some(w) = d["weights"].as_str() {
        args.extend(["--weights".into(), w.into()]);
    }
    if let Some(p) = d["probs"].as_str() {
        let column = if p == "1" { "one" } else { p };
        args.extend(["--probs".into(), column.into()]);
    }
    if d["nest"].as_bool() == Some(true) {
        args.push("--nest".into());
    }
}

fn calibration_keyword(method: &str) -> Result<&'static str, String> {
    let m = method.to_ascii_lowercase();
    Ok(if m.starts_with("poststratify") {
        "poststratify"
    } else if m.starts_with("rake (tight") {
        "rake-converged"
    } else if m.starts_with("rake") {
        "rake"
    } else if m.starts_with("calibrate linear") {
        "linear"
    } else if m.starts_with("calibrate raking") {
        "raking"
    } else {
        return Err(format!("calibration method `{method}` has no dh keyword"));
    })
}

/// Flags of the case's design, whatever its type.
fn design_args(fx: &mut Fixture, case: &Value, args: &mut Vec<String>) -> Result<(), String> {
    let designs = fx.oracle["designs"].clone();
    let id = s(&case["design"]["id"]);
    let d = &designs[&id];
    let lonely = case["design"]["lonely_psu"].as_str().unwrap_or("fail");
    match d["type"].as_str().unwrap_or_default() {
        "taylor" => taylor_args(d, args),
        "calibrated" => {
            taylor_args(&designs[s(&d["base_design"])], args);
            let population = fx.population(&id, &d["margins"]);
            args.extend([
                "--calibrate".into(),
                calibration_keyword(&s(&d["method"]))?.into(),
                "--population".into(),
                population.display().to_string(),
            ]);
        }
        "replicate" => {
            let kind = s(&d["rep_type"]).to_ascii_lowercase();
            if kind == "bootstrap" && fx.seeded_bootstrap {
                // draw the replicates as R did after set.seed(seed)
                taylor_args(&designs[s(&d["base_design"])], args);
                args.extend([
                    "--replicates".into(),
                    kind,
                    "--seed".into(),
                    d["seed"].to_string(),
                    "--n-replicates".into(),
                    d["n_replicates"].to_string(),
                ]);
            } else if kind == "bootstrap" {
                // R's bootstrap replicates are random: use R's exported weights with as.svrepdesign's scale
                let base = &designs[s(&d["base_design"])];
                let dataset = s(&case["dataset"]);
                let file = fx.repweights(&format!("{dataset}_boot_repweights.csv"), "rep");
                args.extend(["--weights".into(), s(&base["weights"])]);
                args.extend([
                    "--repweights".into(),
                    file.display().to_string(),
                    "--rep-type".into(),
                    kind,
                ]);
                args.extend(["--scale".into(), s(&d["scale"])]);
            } else {
                taylor_args(&designs[s(&d["base_design"])], args);
                args.extend(["--replicates".into(), kind.clone()]);
                if kind == "fay" {
                    args.extend(["--fay-rho".into(), s(&d["fay_rho"])]);
                }
            }
            if d["mse"].as_bool() == Some(true) {
                args.push("--mse".into());
            }
        }
        "replicate_supplied" => {
            let kind = s(&d["rep_type"]).to_ascii_lowercase();
            let (file, weights) = match d["repweights_file"].as_str() {
                Some(f) => (fx.repweights(f, "rep"), "pw"),
                // multipliers of scd's BRR example = analysis weights, since every sampling weight is 1
                None => (fx.repweights("scd_brr_repweights.csv", "rep"), "one"),
            };
            args.extend(["--weights".into(), weights.into()]);
            args.extend([
                "--repweights".into(),
                file.display().to_string(),
                "--rep-type".into(),
                kind,
            ]);
            if id.ends_with("_scaled") {
                args.extend(["--scale".into(), s(&d["scale"])]);
            }
        }
        other => return Err(format!("design type `{other}`")),
    }
    let lonely = d["lonely_psu_at_creation"].as_str().unwrap_or(lonely);
    if lonely != "fail" {
        args.extend(["--lonely-psu".into(), lonely.into()]);
    }
    Ok(())
}

/// Numbers inside an R vector literal: `0.5` or `c(0.25, 0.5)`.
fn r_numbers(text: &str) -> Vec<String> {
    text.trim_start_matches("c(")
        .trim_end_matches(')')
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// The value of `name="..."` in an R argument string.
fn r_string_arg(args: &str, name: &str) -> Option<String> {
    let start = args.find(&format!("{name}=\""))? + name.len() + 2;
    let end = args[start..].find('"')? + start;
    Some(args[start..end].to_string())
}

fn statistic_args(case: &Value, args: &mut Vec<String>) -> Result<(), String> {
    let statistic = s(&case["statistic"]);
    let inner = statistic.trim_start_matches("svyby(").trim_end_matches(')');
    let stat = match inner {
        "svymean" => "mean",
        "svytotal" => "total",
        "svyratio" => "ratio",
        "svyciprop" => "ciprop",
        "svyquantile" => "quantile",
        other => return Err(format!("statistic `{other}`")),
    };
    args.extend(["--stat".into(), stat.into()]);
    let variable = s(&case["variable"]);
    match variable.split_once('/') {
        Some((num, den)) => args.extend([
            "--var".into(),
            num.into(),
            "--denominator".into(),
            den.into(),
        ]),
        None => args.extend(["--var".into(), variable]),
    }
    let domain = &case["domain"];
    match domain["type"].as_str() {
        Some("svyby") => args.extend(["--by".into(), strings(&domain["by"]).join(",")]),
        Some("subset") => {
            let cond = s(&domain["condition"]);
            let (col, value) = cond.split_once("==").ok_or(format!("subset `{cond}`"))?;
            args.extend([
                "--subset".into(),
                format!("{}={}", col.trim(), value.trim().trim_matches('"')),
            ]);
        }
        _ => {}
    }
    let o = &case["options"];
    // some cases carry na.rm only in the R code that was evaluated
    let r_code = s(&case["r_code"]).replace(' ', "");
    if o["na_rm"].as_bool() == Some(true) || r_code.contains("na.rm=TRUE") {
        args.push("--na-rm".into());
    }
    match &o["deff"] {
        Value::Bool(true) => args.push("--deff".into()),
        Value::String(r) if r == "replace" => args.push("--deff-replace".into()),
        _ => {}
    }
    if let Some(m) = o["method"].as_str() {
        args.extend(["--method".into(), m.into()]);
    }
    if let Some(level) = o["level"].as_f64() {
        args.extend(["--level".into(), level.to_string()]);
    }
    if let Some(q) = o["quantiles"].as_str() {
        args.extend(["--quantiles".into(), r_numbers(q).join(",")]);
        let extra = o["args"].as_str().unwrap_or_default();
        if let Some(rule) = r_string_arg(extra, "qrule") {
            args.extend(["--qrule".into(), rule]);
        }
        if let Some(t) = r_string_arg(extra, "interval.type") {
            args.extend(["--interval-type".into(), t]);
        }
    }
    Ok(())
}

fn close(actual: f64, expected: f64, tol: f64, scale: f64) -> bool {
    (actual - expected).abs()
        <= tol * actual.abs().max(expected.abs()) + 1e-12 * scale.abs().max(1.0)
}

/// Compares one output number with R's (`null` = NA).
fn check_number(
    what: &str,
    actual: &Value,
    expected: &Value,
    tol: f64,
    scale: f64,
) -> Result<(), String> {
    match (actual.as_f64(), expected.as_f64()) {
        (None, None) => Ok(()),
        (Some(a), Some(e)) if close(a, e, tol, scale) => Ok(()),
        _ => Err(format!("{what}: dh {actual}, R {expected}")),
    }
}

/// The interval R reports for the case, with its degrees of freedom per estimate.
fn expected_interval(
    case: &Value,
    estimates: &[Value],
) -> Option<(Value, Value, Vec<Value>, &'static str)> {
    let e = &case["expected"];
    if e["ci"].is_object() {
        let ci = &e["ci"];
        let df = match ci["df_per_domain"].as_array() {
            Some(d) => d.clone(),
            None => vec![ci["df"].clone(); estimates.len()],
        };
        return Some((ci["lower"].clone(), ci["upper"].clone(), df, "ci"));
    }
    let method = estimates.first()?["ci_method"].as_str()?.to_string();
    let (block, name) = if method == "normal" {
        (&e["ci_normal"], "ci_normal")
    } else {
        (&e["ci_t"], "ci_t")
    };
    if !block.is_object() {
        return None;
    }
    let df = vec![block["df"].clone(); estimates.len()];
    Some((block["lower"].clone(), block["upper"].clone(), df, name))
}

fn compare(case: &Value, output: &Value) -> Result<(), String> {
    let e = &case["expected"];
    let tol = case["suggested_rel_tol"].as_f64().unwrap_or(1e-9);
    let estimates = output["estimates"]
        .as_array()
        .ok_or("no `estimates` array")?;
    let names = strings(&e["names"]);
    if names.is_empty() {
        return Err("R's case lists no estimate".into());
    }
    let got: Vec<String> = estimates.iter().map(|x| s(&x["name"])).collect();
    if got != names {
        return Err(format!("names: dh {got:?}, R {names:?}"));
    }
    let override_se = &case["expected_survey_4_2"]["se"];
    let se = if override_se.is_array() {
        override_se
    } else {
        &e["se"]
    };
    let mut problems = Vec::new();
    for (i, row) in estimates.iter().enumerate() {
        let est = e["estimate"][i].as_f64().unwrap_or(0.0);
        let mut check = |what: &str, a: &Value, x: &Value| {
            if let Err(p) = check_number(&format!("{}[{i}] {what}", names[i]), a, x, tol, est) {
                problems.push(p);
            }
        };
        check("estimate", &row["estimate"], &e["estimate"][i]);
        check("se", &row["se"], &se[i]);
        if e["deff"].is_array() {
            check("deff", &row["deff"], &e["deff"][i]);
        }
    }
    // R gives no interval for svyratio; the 4.2 override changes the SE but not R 4.1's intervals
    let interval = if override_se.is_array() {
        None
    } else {
        expected_interval(case, estimates)
    };
    if let Some((lower, upper, df, block)) = interval {
        for (i, row) in estimates.iter().enumerate() {
            let est = e["estimate"][i].as_f64().unwrap_or(0.0);
            for (what, a, x) in [
                ("ci_lower", &row["ci_lower"], &lower[i]),
                ("ci_upper", &row["ci_upper"], &upper[i]),
            ] {
                if let Err(p) = check_number(
                    &format!("{}[{i}] {what} ({block})", names[i]),
                    a,
                    x,
                    tol,
                    est,
                ) {
                    problems.push(p);
                }
            }
            if !df[i].is_null() && row["df"].as_f64() != df[i].as_f64() {
                problems.push(format!(
                    "{}[{i}] df: dh {}, R {}",
                    names[i], row["df"], df[i]
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// `base` with the fields of `over` laid over it (objects merged field by field).
fn merge(base: &mut Value, over: &Value) {
    let Some(fields) = over.as_object() else {
        return;
    };
    for (k, v) in fields {
        match base.get_mut(k) {
            Some(b) if b.is_object() && v.is_object() => merge(b, v),
            _ => base[k] = v.clone(),
        }
    }
}

fn run_case(fx: &mut Fixture, case: &Value) -> Result<(), String> {
    // where R fails (a diverged fit, NaN, an ignored option), `dh_expected` holds what dh must give instead,
    // computed in R from the documented rule (tests/oracle/README.md); its fields replace those of `expected`
    let mut case = case.clone();
    let over = case["dh_expected"].clone();
    merge(&mut case["expected"], &over);
    let case = &case;
    let data = fx.dataset(&s(&case["dataset"]));
    let mut args: Vec<String> = vec!["estimate".into(), data.display().to_string()];
    design_args(fx, case, &mut args)?;
    statistic_args(case, &mut args)?;
    args.extend(["--format".into(), "json".into()]);
    let out = Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run dh: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = || format!("dh {}", args[1..].join(" "));
    if let Some(expected_error) = case["expected"]["error"].as_str() {
        if out.status.success() {
            return Err(format!(
                "R fails with `{expected_error}` but `{}` succeeded",
                shown()
            ));
        }
        if !stderr.contains(expected_error) {
            return Err(format!(
                "error `{}` does not contain R's `{expected_error}`",
                stderr.trim()
            ));
        }
        return Ok(());
    }
    if !out.status.success() {
        return Err(format!("`{}` failed: {}", shown(), stderr.trim()));
    }
    let output: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("`{}` printed invalid JSON: {e}", shown()))?;
    compare(case, &output).map_err(|p| format!("{p}\n    (`{}`)", shown()))
}

/// Cases of expected.json; without `ORACLE_FILTER` every one of them must run.
const ORACLE_CASES: usize = 341;

/// Every case of the oracle, or those whose id contains `ORACLE_FILTER` (as `crates/survey/tests/oracle.rs`).
/// Fails when no case ran (a filter that matches nothing) and, without a filter, when fewer than
/// [`ORACLE_CASES`] ran.
#[test]
fn every_oracle_case_through_the_cli() {
    let mut fx = Fixture::new();
    let cases = fx.oracle["cases"].as_array().cloned().unwrap_or_default();
    assert!(
        cases.len() >= ORACLE_CASES,
        "expected.json holds {} cases",
        cases.len()
    );
    let filter = std::env::var("ORACLE_FILTER").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in &cases {
        if filter
            .as_deref()
            .is_some_and(|f| !s(&case["id"]).contains(f))
        {
            continue;
        }
        ran += 1;
        if let Err(problem) = run_case(&mut fx, case) {
            failures.push(format!("{}: {problem}", s(&case["id"])));
        }
    }
    let passed = ran - failures.len();
    println!("oracle cases through `dh estimate`: {passed} of {ran} pass");
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        ran > 0,
        "no oracle case ran: ORACLE_FILTER={filter:?} matches no case id"
    );
    if filter.is_none() {
        assert_eq!(ran, cases.len(), "every case runs without a filter");
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} oracle cases fail (listed above)",
        failures.len(),
    );
}

/// The bootstrap cases again, with `--replicates bootstrap --seed N`: dh draws R's replicates itself.
#[test]
fn bootstrap_cases_with_r_seed_through_the_cli() {
    let mut fx = Fixture::new();
    fx.seeded_bootstrap = true;
    let designs = fx.oracle["designs"].clone();
    let cases: Vec<Value> = fx.oracle["cases"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| designs[s(&c["design"]["id"])]["rep_type"] == "bootstrap")
        .collect();
    assert!(cases.len() >= 3, "{} bootstrap cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            run_case(&mut fx, case)
                .err()
                .map(|p| format!("{}: {p}", s(&case["id"])))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// JK1 replicates of dclus1 calibrated four ways, `calibrate(as.svrepdesign(dclus1, type="JK1"), ...)`
/// in R 4.2.2 / survey 4.1-1 (not in the oracle; the numbers of `calibrated_replicate_designs_equal_r`
/// in crates/survey/tests/calibration_weights.rs): svymean(~api00) and svytotal(~enroll) with SEs.
#[test]
#[allow(clippy::excessive_precision)] // R's numbers with every digit R printed
fn calibrated_replicate_designs_through_the_cli() {
    let mut fx = Fixture::new();
    let data = fx.dataset("apiclus1");
    let cases: [(&str, &str, [f64; 4], f64); 4] = [
        (
            "dclus1_ps",
            "poststratify",
            [
                642.31078821158223,
                26.934535367426029,
                3680892.945119048,
                473431.35677977849,
            ],
            1e-9,
        ),
        (
            "dclus1_rake",
            "rake",
            [
                641.23024686220879,
                26.873474236089464,
                3647300.0313143106,
                463510.85956667759,
            ],
            1e-9,
        ),
        (
            "dclus1_cal_linear_api99",
            "linear",
            [
                665.30907116577976,
                3.9428544837676145,
                3638487.2041318817,
                478748.86392581777,
            ],
            1e-9,
        ),
        (
            "dclus1_cal_raking",
            "raking",
            [
                641.23032092412427,
                26.873980438303629,
                3647280.1488776961,
                463582.1828199256,
            ],
            1e-7,
        ),
    ];
    for (design, method, want, tol) in cases {
        let margins = fx.oracle["designs"][design]["margins"].clone();
        let population = fx.population(design, &margins);
        for (i, (stat, var)) in [("mean", "api00"), ("total", "enroll")].iter().enumerate() {
            let out = Command::new(env!("CARGO_BIN_EXE_dh"))
                .arg("estimate")
                .arg(&data)
                .args(["--ids", "dnum", "--fpc", "fpc", "--weights", "pw"])
                .args(["--replicates", "jk1", "--calibrate", method, "--population"])
                .arg(&population)
                .args(["--stat", stat, "--var", var, "--format", "json"])
                .output()
                .expect("run dh");
            assert!(
                out.status.success(),
                "{design} {stat}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
            let e = &v["estimates"][0];
            for (what, got, expected) in [
                ("estimate", &e["estimate"], want[2 * i]),
                ("se", &e["se"], want[2 * i + 1]),
            ] {
                let got = got.as_f64().unwrap_or(f64::NAN);
                assert!(
                    close(got, expected, tol, expected.abs()),
                    "{design} {stat} {what}: dh {got}, R {expected}"
                );
            }
        }
    }
}

#[test]
fn helpers_parse_r_arguments() {
    assert_eq!(r_numbers("c(0.25, 0.5, 0.75)"), vec!["0.25", "0.5", "0.75"]);
    assert_eq!(r_numbers("0.5"), vec!["0.5"]);
    assert_eq!(
        r_string_arg(", qrule=\"hf7\"", "qrule").as_deref(),
        Some("hf7")
    );
    assert!(close(1.0, 1.0 + 1e-10, 1e-9, 1.0));
    assert!(!close(1.0, 1.001, 1e-9, 1.0));
}
