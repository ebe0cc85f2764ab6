//! A differencing attack on the published tables of full runs of the real binary (issue 12). For every indicator
//! x country the attacker of `dh_indicators::attack` tries every subtraction and ratio between the published rows
//! of `OUT/indicators/indicators.parquet` (total and levels, across breakdowns, counts vs shares vs rates of the
//! same records, survey proportions vs their `*_count`, the n columns) and the test fails if a withheld value,
//! or a cell or complement of 1-4, comes back. The attacker reads the outputs only: which rows hold the same
//! records it takes from the indicator definitions the run recorded (`report/context.json`: table, universe,
//! numerator, variable, missing rule). Then the CSV, the workbook and the report must show nothing the Parquet
//! withholds.
//!
//! `DH_ATTACK_OUT=<OUT>` attacks an existing output folder instead of fresh runs (to measure another build).

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, UInt64Type};
use dh_indicators::attack::{Finding, Kind, Row as Attacked, attack};
use serde_json::Value;

use common::{describe, dh, s};

const KEY: &str = "disclosure-attack-key-0123456789abcdef0123";
const HIDING: [&str; 3] = ["suppressed", "not_collected", "suppressed_small_count"];

/// One row of `indicators.parquet`.
#[derive(Debug, Clone)]
struct Row {
    country: String,
    indicator: String,
    statistic: String,
    domain: String,
    domain_value: String,
    estimate: Option<f64>,
    n_unweighted: u64,
    n_weighted: f64,
    population_estimate: Option<f64>,
    flag: String,
}

impl Row {
    fn withheld(&self) -> bool {
        HIDING.contains(&self.flag.as_str())
    }

    /// A row withheld by the small-count rule, and any withheld row of an indicator whose disclosure control hides
    /// the base (`hides_withheld_base` in the recorded context: the other data families), publishes n = 0 in place
    /// of its count; the workbook and the report say "withheld", so it cannot be read as "no cases".
    fn n_hidden(&self, ctx: &Context) -> bool {
        let hides = ctx
            .definitions
            .get(&self.indicator)
            .is_some_and(|d| d["hides_withheld_base"] == Value::Bool(true));
        self.n_unweighted == 0
            && (self.flag == "suppressed_small_count"
                || (hides && self.withheld() && self.flag != "not_collected"))
    }

    fn at(&self) -> String {
        format!(
            "{} {} {}={} [{}]",
            self.country, self.indicator, self.domain, self.domain_value, self.flag
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
            let c = arrow::compute::cast(col(name), &DataType::Utf8).expect("text column");
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
                statistic: text("statistic", i),
                domain: text("domain", i),
                domain_value: text("domain_value", i),
                estimate: float("estimate", i),
                n_unweighted: col("n_unweighted").as_primitive::<UInt64Type>().value(i),
                n_weighted: float("n_weighted", i).unwrap_or(0.0),
                population_estimate: float("population_estimate", i),
                flag: text("flag", i),
            });
        }
    }
    rows
}

/// What the run recorded about its indicators and countries (`report/context.json`).
struct Context {
    /// Indicator id -> definition.
    definitions: HashMap<String, Value>,
    /// ISO3 -> internet-using children 12-17 (the denominator of a rate).
    population: HashMap<String, f64>,
    /// ISO3 -> country name (as the report shows it).
    names: HashMap<String, String>,
}

fn context(out: &Path) -> Context {
    let path = out.join("report/context.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).expect("context.json");
    let list = |key: &str| json[key].as_array().cloned().unwrap_or_default();
    let text_of = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_string();
    Context {
        definitions: list("indicators")
            .into_iter()
            .map(|d| (text_of(&d, "id"), d))
            .collect(),
        population: list("countries")
            .iter()
            .map(|c| (text_of(c, "iso3"), c["population"].as_f64().unwrap_or(0.0)))
            .collect(),
        names: list("countries")
            .iter()
            .map(|c| (text_of(c, "iso3"), text_of(c, "name")))
            .collect(),
    }
}

/// The attacker's view of the published rows (not-collected rows hold nothing and are left out).
fn attacked(rows: &[Row], ctx: &Context) -> Vec<(usize, Attacked)> {
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        // A categorical row is a status (a provision of public law), not a count of anyone.
        if r.flag == "not_collected" || r.statistic == "change" || r.statistic == "categorical" {
            continue;
        }
        let def = ctx.definitions.get(&r.indicator);
        let field = |key: &str| {
            def.map(|d| d[key].to_string())
                .unwrap_or_else(|| "?".to_string())
        };
        let (kind, ratio, scale) = match r.statistic.as_str() {
            "count"
                if field("table") == "\"child_survey\""
                    || field("table") == "\"caregiver_survey\"" =>
            {
                (Kind::Weighted, false, 1.0)
            }
            "proportion" | "mean" => (Kind::Weighted, true, 1.0),
            "count" => (Kind::Records, false, 1.0),
            "share" | "unweighted_proportion" => (Kind::Records, true, 1.0),
            "total" => (Kind::Sum, false, 1.0),
            "rate_per_10000" => (
                Kind::Sum,
                false,
                ctx.population.get(&r.country).copied().unwrap_or(f64::NAN) / 10_000.0,
            ),
            other => panic!("unknown statistic {other}"),
        };
        // Rows holding the same records: same table and numerator (and universe, missing rule); a rate and a
        // total of the same column and numerator (all contacts, or only those about OCSEA) hold the same records
        // in a level (a year), their totals only with the same universe. A share of a sum of a column (its n is
        // the sum of its denominator) is read as records: x = estimate x n.
        let link = match kind {
            Kind::Sum if r.domain != "total" => {
                format!(
                    "{}|{}|{}|{}",
                    r.country,
                    field("table"),
                    field("variable"),
                    field("numerator")
                )
            }
            _ => format!(
                "{}|{}|{}|{}|{}|{}",
                r.country,
                field("table"),
                field("universe"),
                field("numerator"),
                field("variable"),
                field("missing_rule")
            ),
        };
        let withheld = r.withheld();
        let denominator = match kind {
            // A withheld row's n columns hold 0 when hidden.
            Kind::Records if withheld && r.n_unweighted == 0 => None,
            Kind::Records => Some(r.n_unweighted as f64),
            Kind::Weighted if withheld && r.n_weighted == 0.0 => None,
            Kind::Weighted => Some(r.n_weighted),
            Kind::Sum => None,
        };
        let controlled = def
            .and_then(|d| d["notes"].as_str())
            .is_some_and(|n| n.contains("Counts from 1 to 4"));
        out.push((
            i,
            Attacked {
                group: format!("{} {}", r.country, r.indicator),
                domain: r.domain.clone(),
                level: r.domain_value.clone(),
                link: Some(link),
                kind,
                ratio,
                scale,
                estimate: r.estimate,
                denominator,
                numerator: r.population_estimate.filter(|_| kind == Kind::Weighted),
                withheld,
                controlled,
            },
        ));
    }
    out
}

/// The leaks of one output folder, described.
fn leaks(out: &Path) -> Vec<String> {
    let rows = read_rows(&out.join("indicators/indicators.parquet"));
    assert!(rows.len() > 1000, "only {} rows", rows.len());
    let ctx = context(out);
    let view = attacked(&rows, &ctx);
    let table: Vec<Attacked> = view.iter().map(|(_, a)| a.clone()).collect();
    attack(&table)
        .into_iter()
        .map(|leak| {
            let row = &rows[view[leak.row].0];
            let what = match leak.finding {
                Finding::Recovered {
                    numerator,
                    denominator,
                } => format!("withheld value recovered: {numerator} of {denominator:?}"),
                Finding::SmallCell { value } => format!("withheld cell of {value} recovered"),
                Finding::SmallComplement { value } => {
                    format!("withheld complement of {value} recovered")
                }
                Finding::PublishedSmallCell { value } => format!("cell of {value} published"),
                Finding::PublishedSmallComplement { value } => {
                    format!("complement of {value} published")
                }
            };
            format!("{}: {what}", row.at())
        })
        .collect()
}

/// The CSV, the workbook and the report show nothing the Parquet withholds.
fn other_outputs_show_nothing_withheld(out: &Path) -> Vec<String> {
    let rows = read_rows(&out.join("indicators/indicators.parquet"));
    let ctx = context(out);
    let key = |c: &str, i: &str, d: &str, v: &str| format!("{c}|{i}|{d}|{v}");
    let by_key: HashMap<String, &Row> = rows
        .iter()
        .map(|r| (key(&r.country, &r.indicator, &r.domain, &r.domain_value), r))
        .collect();
    let mut problems = Vec::new();

    // indicators.csv: a withheld row has empty number cells and the Parquet's n columns.
    let mut csv = csv::Reader::from_path(out.join("indicators/indicators.csv")).expect("csv");
    let header = csv.headers().expect("csv header").clone();
    let at = |name: &str| header.iter().position(|h| h == name).expect("csv column");
    for record in csv.records() {
        let record = record.expect("csv record");
        let get = |name: &str| record.get(at(name)).unwrap_or_default();
        let k = key(
            get("country"),
            get("indicator"),
            get("domain"),
            get("domain_value"),
        );
        let Some(r) = by_key.get(&k) else {
            problems.push(format!("csv row {k} is not in the Parquet"));
            continue;
        };
        if r.withheld() {
            for c in [
                "estimate",
                "se",
                "ci_lower",
                "ci_upper",
                "df",
                "deff",
                "population_estimate",
            ] {
                if !get(c).is_empty() {
                    problems.push(format!("csv {}: `{c}` shows a number", r.at()));
                }
            }
            let n: u64 = get("n_unweighted").parse().unwrap_or(u64::MAX);
            let nw: f64 = get("n_weighted").parse().unwrap_or(f64::NAN);
            if n != r.n_unweighted || nw != r.n_weighted {
                problems.push(format!("csv {}: n columns differ from the Parquet", r.at()));
            }
        }
    }

    // The workbook: every sheet with the indicator header.
    use calamine::{Data, Reader};
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook(out.join("tables/indicators.xlsx")).expect("workbook");
    let cell_text = |d: &Data| match d {
        Data::Empty => String::new(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => format!("{i}"),
        other => other.to_string(),
    };
    let mut workbook_rows = 0usize;
    for name in workbook.sheet_names() {
        let Ok(range) = workbook.worksheet_range(&name) else {
            continue;
        };
        let mut lines = range.rows();
        let Some(head) = lines.next() else { continue };
        let head: Vec<String> = head.iter().map(cell_text).collect();
        let col = |h: &str| head.iter().position(|x| x == h);
        let (Some(c), Some(i), Some(d), Some(v), Some(e), Some(lo), Some(hi), Some(n), Some(p)) = (
            col("Country"),
            col("Indicator"),
            col("Domain"),
            col("Domain value"),
            col("Estimate"),
            col("CI lower (95%)"),
            col("CI upper (95%)"),
            col("n (unweighted)"),
            col("Population estimate"),
        ) else {
            continue;
        };
        for line in lines {
            let get = |j: usize| line.get(j).map(cell_text).unwrap_or_default();
            let k = key(&get(c), &get(i), &get(d), &get(v));
            let Some(r) = by_key.get(&k) else {
                problems.push(format!(
                    "workbook sheet {name}: row {k} is not in the Parquet"
                ));
                continue;
            };
            workbook_rows += 1;
            if r.withheld() {
                // A withheld estimate cell says why in words ("<5"), never a number.
                let number = |j: usize| matches!(line.get(j), Some(Data::Float(_) | Data::Int(_)));
                if number(e) || [lo, hi, p].iter().any(|&j| !get(j).is_empty()) {
                    problems.push(format!("workbook sheet {name}: {} shows a number", r.at()));
                }
                let want_n = if r.n_hidden(&ctx) {
                    "withheld".to_string()
                } else {
                    r.n_unweighted.to_string()
                };
                if get(n) != want_n {
                    problems.push(format!(
                        "workbook sheet {name}: {} shows n = {} (Parquet {})",
                        r.at(),
                        get(n),
                        r.n_unweighted
                    ));
                }
            }
        }
    }
    if workbook_rows < rows.len() {
        problems.push(format!(
            "the workbook has {workbook_rows} indicator rows, the Parquet {}",
            rows.len()
        ));
    }

    // The report's indicator pages: one table row per country (total) and per country x level.
    let mut by_page: BTreeMap<(String, String, String), Vec<&Row>> = BTreeMap::new();
    for r in &rows {
        let name = ctx.names.get(&r.country).cloned().unwrap_or_default();
        // The report labels levels ("Government duty bearer" for `government_duty_bearer`).
        let level = if r.domain == "total" {
            r.domain_value.clone()
        } else {
            dh_report::format::humanise(&r.domain_value)
        };
        by_page
            .entry((r.indicator.clone(), name, level))
            .or_default()
            .push(r);
    }
    let mut report_rows = 0usize;
    for id in ctx.definitions.keys() {
        let path = out.join(format!("report/indicator-{id}.html"));
        let Ok(html) = fs::read_to_string(&path) else {
            problems.push(format!("no report page for {id}"));
            continue;
        };
        for tr in html.split("<tr>").skip(1) {
            let tr = tr.split("</tr>").next().unwrap_or_default();
            let Some((country, level, withheld, n)) = page_row(tr) else {
                continue;
            };
            let Some(candidates) = by_page.get(&(id.clone(), country.clone(), level.clone()))
            else {
                continue;
            };
            report_rows += 1;
            let fits = candidates.iter().any(|r| {
                let want_n = if r.n_hidden(&ctx) {
                    "withheld".to_string()
                } else {
                    thousands(r.n_unweighted)
                };
                r.withheld() == withheld && (!withheld || n == want_n)
            });
            if !fits {
                problems.push(format!(
                    "report page of {id}: {country} {level} (withheld {withheld}, n {n}) matches no Parquet row"
                ));
            }
        }
    }
    if report_rows < 100 {
        problems.push(format!("only {report_rows} report rows were checked"));
    }
    problems
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// (country name, level or `total`, withheld, n cell) of one table row of an indicator page; `None` for rows of
/// other tables. A total row names the country as a link; a level row names it as text, then the level.
fn page_row(tr: &str) -> Option<(String, String, bool, String)> {
    let th = tr.strip_prefix("<th scope=\"row\">")?;
    let (head, rest) = th.split_once("</th>")?;
    let (country, level, rest) = if let Some(link) = head.strip_prefix("<a href=\"country-") {
        let name = link.split_once("\">")?.1.strip_suffix("</a>")?;
        (name.to_string(), "total".to_string(), rest)
    } else {
        let rest = rest.strip_prefix("<td>")?;
        let (level, rest) = rest.split_once("</td>")?;
        (head.to_string(), level.to_string(), rest)
    };
    let withheld = rest.contains("class=\"withheld\"");
    let numbers: Vec<&str> = rest
        .split("<td class=\"num\">")
        .skip(1)
        .filter_map(|c| c.split_once("</td>").map(|(v, _)| v))
        .collect();
    let n = numbers.last()?.to_string();
    Some((html_unescape(&country), html_unescape(&level), withheld, n))
}

fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn full_run(seed: &str) -> (tempfile::TempDir, PathBuf) {
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
    (dir, out)
}

fn report(what: &str, found: &[String]) -> String {
    format!(
        "{} {what}; first 40:\n{}",
        found.len(),
        found
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[test]
fn no_withheld_value_comes_back_from_the_published_tables() {
    let outs: Vec<(String, Option<tempfile::TempDir>, PathBuf)> =
        match std::env::var_os("DH_ATTACK_OUT") {
            Some(out) => vec![("given".into(), None, PathBuf::from(out))],
            None => std::thread::scope(|scope| {
                let handles: Vec<_> = ["1", "2"]
                    .into_iter()
                    .map(|seed| {
                        scope.spawn(move || {
                            let (dir, out) = full_run(seed);
                            (format!("seed {seed}"), Some(dir), out)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("run thread"))
                    .collect()
            }),
        };
    let mut found = Vec::new();
    let mut shown = Vec::new();
    for (name, _dir, out) in &outs {
        found.extend(leaks(out).into_iter().map(|l| format!("{name}: {l}")));
        shown.extend(
            other_outputs_show_nothing_withheld(out)
                .into_iter()
                .map(|l| format!("{name}: {l}")),
        );
    }
    if std::env::var_os("DH_ATTACK_OUT").is_some() {
        for line in found.iter().chain(&shown) {
            eprintln!("{line}");
        }
    }
    assert!(
        found.is_empty(),
        "{}",
        report("leaks in indicators.parquet", &found)
    );
    assert!(
        shown.is_empty(),
        "{}",
        report(
            "differences between the Parquet and the CSV, workbook or report",
            &shown
        )
    );
}
