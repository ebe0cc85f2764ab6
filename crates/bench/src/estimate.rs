//! `dh bench estimate`: the estimation benchmark of a generated stratified cluster design (by default
//! 1,000,000 rows, 500 strata, 10,000 PSUs) — mean and SE of `y` overall and by a 20-level domain, and the
//! logit interval of the proportion `b` — timed for `dh estimate` and, when they are installed, for R `survey`
//! and Python `svy` on the same CSV file (each tool reads the file itself), with every tool's numbers compared
//! with R's.
//!
//! Parts: the deterministic data generator ([`write_design_csv`]), the tools' numbers in one shape
//! ([`BenchNumbers`]) and their comparison ([`compare`]), timing a process ([`run_timed`], through
//! [`crate::measure`]), and the whole benchmark ([`run_benchmark`]) with its printed [`BenchReport`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::measure::run_measured;

/// Size and seed of the generated design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchDesign {
    pub rows: usize,
    pub strata: usize,
    pub psus: usize,
    pub seed: u64,
}

impl Default for BenchDesign {
    fn default() -> Self {
        Self {
            rows: 1_000_000,
            strata: 500,
            psus: 10_000,
            seed: 20261128,
        }
    }
}

/// Number of levels of the `domain` column.
pub const DOMAINS: usize = 20;

/// SplitMix64: a fixed, documented stream, so the file does not depend on a library's version.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Writes the design as CSV with columns `stratum` (1..H), `psu` (1..P, unique across strata, P/H per
/// stratum), `weight`, `domain` (`d01`..`d20`, sizes proportional to 1..20), `y` (stratum, PSU and domain
/// effects plus noise), `b` (0/1, PSU-level prevalence around 0.3), and `age`, `sex` (not used by the
/// estimates). The same design always gives the same bytes.
pub fn write_design_csv(path: &Path, design: &BenchDesign) -> std::io::Result<()> {
    let BenchDesign {
        rows,
        strata,
        psus,
        seed,
    } = *design;
    if strata == 0 || psus == 0 || psus % strata != 0 || rows % psus != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "rows ({rows}) must be a multiple of PSUs ({psus}), and PSUs of strata ({strata})"
            ),
        ));
    }
    let mut rng = SplitMix64(seed);
    let total: f64 = (1..=DOMAINS).map(|k| k as f64).sum();
    let mut cumulative = Vec::with_capacity(DOMAINS);
    let mut acc = 0.0;
    for k in 1..=DOMAINS {
        acc += k as f64;
        cumulative.push(acc / total);
    }
    let effect: Vec<f64> = (0..DOMAINS)
        .map(|k| if k % 2 == 0 { 0.5 } else { -0.5 } * k as f64)
        .collect();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    out.write_all(b"stratum,psu,weight,domain,y,b,age,sex\n")?;
    let mut psu = 0usize;
    for h in 1..=strata {
        let base_weight = 50.0 + 150.0 * rng.uniform();
        let stratum_effect = 10.0 * rng.normal();
        for _ in 0..psus / strata {
            psu += 1;
            let psu_effect = 5.0 * rng.normal();
            let psu_weight = base_weight * (0.7 + 0.6 * rng.uniform());
            let p = (0.3 + 0.15 * rng.normal()).clamp(0.02, 0.95);
            for _ in 0..rows / psus {
                let u = rng.uniform();
                let d = cumulative
                    .iter()
                    .position(|&c| u <= c)
                    .unwrap_or(DOMAINS - 1);
                let w = psu_weight * (0.9 + 0.2 * rng.uniform());
                let y = 100.0 + stratum_effect + psu_effect + effect[d] + 15.0 * rng.normal();
                let b = u8::from(rng.uniform() < p);
                let age = 12 + (6.0 * rng.uniform()) as u32;
                let sex = if rng.uniform() < 0.5 { "F" } else { "M" };
                writeln!(out, "{h},{psu},{w:.6},d{:02},{y:.4},{b},{age},{sex}", d + 1)?;
            }
        }
    }
    out.flush()
}

/// The benchmark's numbers in one shape, whichever tool produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchNumbers {
    /// Mean of `y`: estimate, SE.
    pub mean: [f64; 2],
    /// Mean of `y` per domain (in label order): label, estimate, SE.
    pub by: Vec<(String, f64, f64)>,
    /// Proportion of `b`: estimate, SE, lower, upper.
    pub ciprop: [f64; 4],
}

fn number(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("expected a number, found {v}"))
}

impl BenchNumbers {
    /// From the JSON printed by `bench/estimate_r.R` and `bench/estimate_svy.py`:
    /// `{"mean": {"estimate", "se"}, "by": [{"domain", "estimate", "se"}], "ciprop": {"estimate", "se", "lower", "upper"}}`.
    pub fn from_peer_json(v: &Value) -> Result<Self, String> {
        let by = v["by"]
            .as_array()
            .ok_or("no `by` array")?
            .iter()
            .map(|r| {
                Ok((
                    r["domain"].as_str().ok_or("domain label")?.to_string(),
                    number(&r["estimate"])?,
                    number(&r["se"])?,
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            mean: [number(&v["mean"]["estimate"])?, number(&v["mean"]["se"])?],
            by,
            ciprop: [
                number(&v["ciprop"]["estimate"])?,
                number(&v["ciprop"]["se"])?,
                number(&v["ciprop"]["lower"])?,
                number(&v["ciprop"]["upper"])?,
            ],
        })
    }

    /// From `dh estimate --analyses bench/estimate_analyses.toml --format json`: the overall mean, the
    /// by-domain means and the ciprop row, told apart by `stat` and `domain`.
    pub fn from_dh_json(v: &Value) -> Result<Self, String> {
        let rows = v["estimates"].as_array().ok_or("no `estimates` array")?;
        let mut mean = None;
        let mut ciprop = None;
        let mut by = Vec::new();
        for r in rows {
            match (r["stat"].as_str(), r["domain"].is_null()) {
                (Some("mean"), true) => mean = Some([number(&r["estimate"])?, number(&r["se"])?]),
                (Some("mean"), false) => by.push((
                    r["domain"]["domain"]
                        .as_str()
                        .ok_or("domain label")?
                        .to_string(),
                    number(&r["estimate"])?,
                    number(&r["se"])?,
                )),
                (Some("ciprop"), true) => {
                    ciprop = Some([
                        number(&r["estimate"])?,
                        number(&r["se"])?,
                        number(&r["ci_lower"])?,
                        number(&r["ci_upper"])?,
                    ])
                }
                _ => {}
            }
        }
        Ok(Self {
            mean: mean.ok_or("no overall mean")?,
            by,
            ciprop: ciprop.ok_or("no ciprop estimate")?,
        })
    }
}

/// Agreement of one tool with the reference (R).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Largest relative difference over every number compared.
    pub max_relative: f64,
    /// Numbers compared.
    pub compared: usize,
    /// Numbers outside the tolerance (label, tool, reference).
    pub mismatches: Vec<(String, f64, f64)>,
}

/// Compares `tool` with `reference`: 1e-9 relative for the means and SEs (closed forms), 1e-7 for the logit
/// interval (R fits it with an iterative GLM). Domains must be the same labels in the same order.
pub fn compare(reference: &BenchNumbers, tool: &BenchNumbers) -> Comparison {
    let mut pairs: Vec<(String, f64, f64, f64)> = vec![
        (
            "mean.estimate".into(),
            reference.mean[0],
            tool.mean[0],
            1e-9,
        ),
        ("mean.se".into(), reference.mean[1], tool.mean[1], 1e-9),
    ];
    let mut mismatches = Vec::new();
    let labels = |n: &BenchNumbers| n.by.iter().map(|b| b.0.clone()).collect::<Vec<_>>();
    if labels(reference) != labels(tool) {
        mismatches.push(("domains".to_string(), f64::NAN, f64::NAN));
    }
    for (r, t) in reference.by.iter().zip(&tool.by) {
        pairs.push((format!("by[{}].estimate", r.0), r.1, t.1, 1e-9));
        pairs.push((format!("by[{}].se", r.0), r.2, t.2, 1e-9));
    }
    for (i, what) in ["estimate", "se", "lower", "upper"].iter().enumerate() {
        pairs.push((
            format!("ciprop.{what}"),
            reference.ciprop[i],
            tool.ciprop[i],
            1e-7,
        ));
    }
    let mut max_relative: f64 = 0.0;
    for (label, r, t, tol) in &pairs {
        let rel = (r - t).abs() / r.abs().max(1e-300);
        max_relative = max_relative.max(if rel.is_nan() { f64::INFINITY } else { rel });
        let close = (r - t).abs() <= tol * r.abs().max(t.abs()) + 1e-12 * r.abs().max(1.0);
        if !close {
            mismatches.push((label.clone(), *t, *r));
        }
    }
    Comparison {
        max_relative,
        compared: pairs.len(),
        mismatches,
    }
}

/// One timed process.
#[derive(Debug, Clone)]
pub struct TimedRun {
    pub wall_s: f64,
    /// Peak resident set size in KiB.
    pub peak_rss_kb: Option<u64>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub success: bool,
}

/// Runs `program args` capturing its output, timed by the clock, with its peak resident memory from the
/// kernel's accounting ([`crate::measure`]).
pub fn run_timed(program: &Path, args: &[String]) -> std::io::Result<TimedRun> {
    let run = run_measured(Command::new(program).args(args), None)?;
    Ok(TimedRun {
        wall_s: run.wall_s,
        peak_rss_kb: Some(run.peak_rss_kb),
        success: run.success(),
        stderr: String::from_utf8_lossy(&run.stderr).into_owned(),
        stdout: run.stdout,
    })
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub design: BenchDesign,
    /// Data file and tool outputs go here.
    pub work: PathBuf,
    /// Folder of `estimate_analyses.toml`, `estimate_r.R` and `estimate_svy.py`.
    pub bench_dir: PathBuf,
    /// The `dh` binary to time.
    pub dh: PathBuf,
    /// Runs of dh (the median is reported); the peers run once.
    pub dh_runs: usize,
    pub with_r: bool,
    pub with_svy: bool,
}

/// One tool's outcome.
#[derive(Debug, Clone)]
pub struct ToolResult {
    pub name: &'static str,
    /// Wall seconds of each run (empty when the tool could not run).
    pub walls: Vec<f64>,
    pub peak_rss_kb: Option<u64>,
    /// Why the tool gave no numbers (not installed, failed, unreadable output).
    pub unavailable: Option<String>,
    pub numbers: Option<BenchNumbers>,
    /// Agreement with R (`None` for R itself or without R).
    pub comparison: Option<Comparison>,
}

impl ToolResult {
    /// Median wall time.
    pub fn wall_s(&self) -> Option<f64> {
        let mut w = self.walls.clone();
        w.sort_by(f64::total_cmp);
        w.get(w.len() / 2).copied()
    }
}

/// Everything the benchmark measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub data: PathBuf,
    pub data_bytes: u64,
    pub design: BenchDesign,
    pub tools: Vec<ToolResult>,
}

impl BenchReport {
    /// dh failed, gave unreadable output, or its numbers differ from R's beyond the tolerances.
    pub fn dh_failed(&self) -> bool {
        self.tools.iter().any(|t| {
            t.name == "dh"
                && (t.unavailable.is_some()
                    || t.comparison
                        .as_ref()
                        .is_some_and(|c| !c.mismatches.is_empty()))
        })
    }
}

fn tool_run(
    name: &'static str,
    program: &Path,
    args: &[String],
    runs: usize,
    work: &Path,
    parse: fn(&Value) -> Result<BenchNumbers, String>,
) -> ToolResult {
    let mut result = ToolResult {
        name,
        walls: Vec::new(),
        peak_rss_kb: None,
        unavailable: None,
        numbers: None,
        comparison: None,
    };
    for _ in 0..runs.max(1) {
        match run_timed(program, args) {
            Err(e) => {
                result.unavailable = Some(format!("cannot run {}: {e}", program.display()));
                return result;
            }
            Ok(run) if !run.success => {
                let first = run.stderr.lines().last().unwrap_or("").trim().to_string();
                result.unavailable = Some(format!("{} failed: {first}", program.display()));
                return result;
            }
            Ok(run) => {
                result.walls.push(run.wall_s);
                result.peak_rss_kb = result.peak_rss_kb.max(run.peak_rss_kb);
                let _ = std::fs::write(work.join(format!("{name}.json")), &run.stdout);
                match serde_json::from_slice::<Value>(&run.stdout)
                    .map_err(|e| e.to_string())
                    .and_then(|v| parse(&v))
                {
                    Ok(n) => result.numbers = Some(n),
                    Err(e) => {
                        result.unavailable = Some(format!("unreadable output: {e}"));
                        return result;
                    }
                }
            }
        }
    }
    result
}

/// Generates the data (unless the file for this design exists), then times dh, R and svy on it and
/// compares every tool's numbers with R's.
pub fn run_benchmark(options: &BenchOptions) -> std::io::Result<BenchReport> {
    let d = options.design;
    std::fs::create_dir_all(&options.work)?;
    let data = options.work.join(format!(
        "estimate_{}x{}x{}_{}.csv",
        d.rows, d.strata, d.psus, d.seed
    ));
    if !data.is_file() {
        let partial = data.with_extension("csv.partial");
        write_design_csv(&partial, &d)?;
        std::fs::rename(&partial, &data)?;
    }
    let data_text = data.display().to_string();
    let analyses = options.bench_dir.join("estimate_analyses.toml");
    let dh_args: Vec<String> = [
        "estimate",
        &data_text,
        "--ids",
        "psu",
        "--strata",
        "stratum",
        "--weights",
        "weight",
        "--nest",
        "--analyses",
        &analyses.display().to_string(),
        "--format",
        "json",
    ]
    .map(str::to_string)
    .to_vec();
    let mut tools = vec![tool_run(
        "dh",
        &options.dh,
        &dh_args,
        options.dh_runs,
        &options.work,
        BenchNumbers::from_dh_json,
    )];
    if options.with_svy {
        let script = options
            .bench_dir
            .join("estimate_svy.py")
            .display()
            .to_string();
        tools.push(tool_run(
            "svy",
            Path::new("python3"),
            &[script, data_text.clone()],
            1,
            &options.work,
            BenchNumbers::from_peer_json,
        ));
    }
    if options.with_r {
        let script = options.bench_dir.join("estimate_r.R").display().to_string();
        tools.push(tool_run(
            "R",
            Path::new("Rscript"),
            &[script, data_text.clone()],
            1,
            &options.work,
            BenchNumbers::from_peer_json,
        ));
    }
    let reference = tools
        .iter()
        .find(|t| t.name == "R")
        .and_then(|t| t.numbers.clone());
    if let Some(r) = &reference {
        for t in tools.iter_mut().filter(|t| t.name != "R") {
            t.comparison = t.numbers.as_ref().map(|n| compare(r, n));
        }
    }
    Ok(BenchReport {
        data_bytes: std::fs::metadata(&data)?.len(),
        data,
        design: d,
        tools,
    })
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = &self.design;
        writeln!(
            f,
            "data: {} ({} rows, {} strata, {} PSUs; {:.1} MB CSV)",
            self.data.display(),
            d.rows,
            d.strata,
            d.psus,
            self.data_bytes as f64 / 1e6
        )?;
        writeln!(
            f,
            "work: mean + SE of y overall and by a {DOMAINS}-level domain, svyciprop(logit) of b; CSV reading included"
        )?;
        writeln!(
            f,
            "{:<5} {:>9} {:>14} {:>12}",
            "tool", "wall_s", "peak_rss_MB", "dh_faster_x"
        )?;
        let dh_wall = self
            .tools
            .iter()
            .find(|t| t.name == "dh")
            .and_then(ToolResult::wall_s);
        for t in &self.tools {
            match (&t.unavailable, t.wall_s()) {
                (None, Some(wall)) => {
                    let rss = t
                        .peak_rss_kb
                        .map_or_else(|| "?".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
                    let ratio = match dh_wall {
                        Some(dh) if t.name != "dh" && dh > 0.0 => format!("{:.1}", wall / dh),
                        _ => "-".to_string(),
                    };
                    let runs = if t.walls.len() > 1 {
                        format!("  (median of {} runs)", t.walls.len())
                    } else {
                        String::new()
                    };
                    writeln!(f, "{:<5} {wall:>9.3} {rss:>14} {ratio:>12}{runs}", t.name)?;
                }
                (why, _) => {
                    let why = why.as_deref().unwrap_or("no run");
                    writeln!(f, "{:<5} not measured: {why}", t.name)?;
                }
            }
        }
        for t in &self.tools {
            if let Some(c) = &t.comparison {
                writeln!(
                    f,
                    "{}: largest relative difference from R {:.2e} over {} numbers{}",
                    t.name,
                    c.max_relative,
                    c.compared,
                    if c.mismatches.is_empty() {
                        ""
                    } else {
                        " — MISMATCH"
                    }
                )?;
                for (label, got, want) in &c.mismatches {
                    writeln!(f, "  {label}: {} {got:?}, R {want:?}", t.name)?;
                }
            }
        }
        if !self
            .tools
            .iter()
            .any(|t| t.name == "R" && t.numbers.is_some())
        {
            writeln!(f, "R did not run: numbers not checked against R")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_design_is_deterministic_and_has_the_asked_shape() {
        let dir = tempfile::tempdir().unwrap();
        let design = BenchDesign {
            rows: 2_000,
            strata: 10,
            psus: 100,
            seed: 7,
        };
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        write_design_csv(&a, &design).unwrap();
        write_design_csv(&b, &design).unwrap();
        let text = std::fs::read_to_string(&a).unwrap();
        assert_eq!(text, std::fs::read_to_string(&b).unwrap());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "stratum,psu,weight,domain,y,b,age,sex");
        assert_eq!(lines.len(), 2_001);
        let last: Vec<&str> = lines[2_000].split(',').collect();
        assert_eq!((last[0], last[1]), ("10", "100"));
        let domains: std::collections::BTreeSet<&str> = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(3).unwrap())
            .collect();
        assert_eq!(domains.len(), DOMAINS);
        let e = write_design_csv(&a, &BenchDesign { psus: 99, ..design }).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            e.to_string().contains("must be a multiple of PSUs (99)"),
            "{e}"
        );
    }

    #[test]
    fn numbers_from_every_tool_compare_with_tolerances() {
        let peer: Value = serde_json::from_str(
            r#"{"mean": {"estimate": 100.0, "se": 0.5},
                "by": [{"domain": "d01", "estimate": 99.0, "se": 1.0}],
                "ciprop": {"estimate": 0.3, "se": 0.01, "lower": 0.28, "upper": 0.32}}"#,
        )
        .unwrap();
        let dh: Value = serde_json::from_str(
            r#"{"estimates": [
                {"domain": null, "name": "y", "stat": "mean", "estimate": 100.0, "se": 0.5},
                {"domain": {"domain": "d01"}, "name": "d01", "stat": "mean", "estimate": 99.0, "se": 1.0000001},
                {"domain": null, "name": "b", "stat": "ciprop", "estimate": 0.3, "se": 0.01,
                 "ci_lower": 0.28000000001, "ci_upper": 0.32}]}"#,
        )
        .unwrap();
        let r = BenchNumbers::from_peer_json(&peer).unwrap();
        let d = BenchNumbers::from_dh_json(&dh).unwrap();
        let c = compare(&r, &d);
        assert_eq!(c.compared, 8);
        assert_eq!(c.mismatches.len(), 1, "{c:?}");
        assert_eq!(c.mismatches[0].0, "by[d01].se");
        assert!((c.max_relative - 1e-7).abs() < 1e-12);
    }
}
