//! Oracle test: every case of `tests/oracle/expected.json` (R survey 4.1-1) is rebuilt from its JSON description
//! (design, statistic, variable, domain, options), computed with `dh-survey` and compared with R at the case's
//! `suggested_rel_tol` using the README's rule `|a-b| <= tol*max(|a|,|b|) + 1e-12*max(1,|estimate|)`. Cases whose
//! `expected.error` is set must fail. A new case in the JSON is a new test without code changes.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dh_survey::calibrate::{
    self, CalFun, CalibrateOptions, CalibrationModel, FactorMargin, RakeControl, Term,
};
use dh_survey::replicate::{self, DesignColumns, RepType, ReplicateOptions, SuppliedOptions};
use dh_survey::{
    CipropMethod, Deff, Design, DesignSpec, DomainSpec, Estimate, Factor, LonelyPsu, NA_CODE,
    Options, QuantileInterval, QuantileRule, SurveyDesign, Variable, WeightSpec,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle")
}

/// A dataset read from CSV: raw text cells (`None` for `NA`).
struct Table {
    n: usize,
    columns: HashMap<String, Vec<Option<String>>>,
}

/// A categorical column with R's level order (sorted distinct values).
struct FactorCol {
    codes: Vec<u32>,
    labels: Vec<String>,
}

impl FactorCol {
    fn factor(&self) -> Factor<'_> {
        Factor {
            codes: &self.codes,
            labels: &self.labels,
        }
    }
}

impl Table {
    fn read(path: &Path) -> Table {
        let mut rdr =
            csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let headers: Vec<String> = rdr
            .headers()
            .expect("headers")
            .iter()
            .map(str::to_string)
            .collect();
        let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.len()];
        let mut n = 0;
        for rec in rdr.records() {
            let rec = rec.expect("record");
            for (j, cell) in rec.iter().enumerate() {
                cols[j].push(if cell == "NA" {
                    None
                } else {
                    Some(cell.to_string())
                });
            }
            n += 1;
        }
        Table {
            n,
            columns: headers.into_iter().zip(cols).collect(),
        }
    }

    fn raw(&self, name: &str) -> &Vec<Option<String>> {
        self.columns
            .get(name)
            .unwrap_or_else(|| panic!("no column `{name}`"))
    }

    fn numeric(&self, name: &str) -> Vec<f64> {
        self.raw(name)
            .iter()
            .map(|c| {
                c.as_ref().map_or(f64::NAN, |s| {
                    s.parse::<f64>().unwrap_or_else(|_| panic!("{name}: `{s}`"))
                })
            })
            .collect()
    }

    fn factor(&self, name: &str) -> FactorCol {
        let raw = self.raw(name);
        let mut labels: Vec<String> = raw.iter().flatten().cloned().collect();
        labels.sort();
        labels.dedup();
        let index: HashMap<&str, u32> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u32))
            .collect();
        let codes = raw
            .iter()
            .map(|c| c.as_ref().map_or(NA_CODE, |s| index[s.as_str()]))
            .collect();
        FactorCol { codes, labels }
    }

    /// Cluster ids as integer codes in order of appearance.
    fn codes(&self, name: &str) -> Vec<u32> {
        let mut map: HashMap<&str, u32> = HashMap::new();
        self.raw(name)
            .iter()
            .map(|c| {
                let s = c.as_deref().unwrap_or("NA");
                let next = map.len() as u32;
                *map.entry(s).or_insert(next)
            })
            .collect()
    }

    fn add(&mut self, name: &str, values: Vec<Option<String>>) {
        self.columns.insert(name.to_string(), values);
    }

    /// The derived variables of the oracle (`derived_variables` in the JSON).
    fn add_derived(&mut self) {
        let yes = |t: &Table, col: &str| -> Vec<Option<String>> {
            t.raw(col)
                .iter()
                .map(|c| {
                    c.as_ref()
                        .map(|s| if s == "Yes" { "1".into() } else { "0".into() })
                })
                .collect()
        };
        if self.columns.contains_key("sch.wide") {
            let v = yes(self, "sch.wide");
            self.add("sch_wide_yes", v);
            let v = yes(self, "yr.rnd");
            self.add("yr_rnd_yes", v);
            let v = yes(self, "awards");
            self.add("awards_yes", v);
            let lstrat = self
                .numeric("dnum")
                .iter()
                .map(|&d| {
                    Some(
                        if d < 300.0 {
                            "A"
                        } else if d < 800.0 {
                            "B"
                        } else {
                            "C"
                        }
                        .to_string(),
                    )
                })
                .collect();
            self.add("lstrat", lstrat);
        }
    }
}

/// The datasets of a JSON file (`datasets.<name>.file`, relative to `dir`), with the derived variables.
fn load_tables(root: &Value, dir: &Path) -> BTreeMap<String, Table> {
    let mut out = BTreeMap::new();
    let Some(datasets) = root["datasets"].as_object() else {
        return out;
    };
    for (name, ds) in datasets {
        let file = ds["file"].as_str().expect("file");
        let mut t = Table::read(&dir.join(file));
        t.add_derived();
        assert_eq!(t.n as u64, ds["n_rows"].as_u64().expect("n_rows"), "{name}");
        out.insert(name.clone(), t);
    }
    out
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn lonely(s: Option<&str>) -> LonelyPsu {
    s.unwrap_or("fail").parse().expect("lonely rule")
}

/// A Taylor design from a design description (`designs.<id>` or the case's copy).
fn taylor_design(def: &Value, t: &Table, rule: LonelyPsu) -> Result<Design, String> {
    let ids: Vec<Vec<u32>> = str_list(&def["ids"]).iter().map(|c| t.codes(c)).collect();
    let strata = def["strata"].as_str().map(|s| t.factor(s));
    let fpc: Vec<Vec<f64>> = str_list(&def["fpc"]).iter().map(|c| t.numeric(c)).collect();
    let w = def["weights"].as_str().map(|c| t.numeric(c));
    let probs: Option<Vec<f64>> = def["probs"].as_str().map(|p| match p.parse::<f64>() {
        Ok(v) => vec![v; t.n],
        Err(_) => t.numeric(p),
    });
    let weights = match (&w, &probs) {
        (Some(w), _) => WeightSpec::Weights(w),
        (None, Some(p)) => WeightSpec::Probs(p),
        _ => WeightSpec::Implicit,
    };
    let spec = DesignSpec {
        ids: ids.iter().map(|v| v.as_slice()).collect(),
        strata: strata.as_ref().map(|s| s.factor()),
        fpc: fpc.iter().map(|v| v.as_slice()).collect(),
        weights,
        nest: def["nest"].as_bool().unwrap_or(false),
        lonely_psu: rule,
    };
    Design::new(&spec).map_err(|e| e.to_string())
}

/// Margins of `designs.<id>.margins` in the `{variable, levels, totals}` form.
struct OwnedMargin {
    variable: String,
    factor: FactorCol,
    levels: Vec<String>,
    totals: Vec<f64>,
}

fn margins(def: &Value, t: &Table) -> Vec<OwnedMargin> {
    def["margins"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| m["variable"].is_string())
                .map(|m| {
                    let variable = m["variable"].as_str().unwrap_or_default().to_string();
                    OwnedMargin {
                        factor: t.factor(&variable),
                        variable,
                        levels: str_list(&m["levels"]),
                        totals: m["totals"]
                            .as_array()
                            .map(|v| v.iter().filter_map(Value::as_f64).collect())
                            .unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn borrow_margins(m: &[OwnedMargin]) -> Vec<FactorMargin<'_>> {
    m.iter()
        .map(|m| FactorMargin {
            variable: &m.variable,
            factor: m.factor.factor(),
            levels: &m.levels,
            totals: &m.totals,
        })
        .collect()
}

/// Build the design of a case.
fn build_design(root: &Value, case: &Value, t: &Table) -> Result<SurveyDesign, String> {
    let cd = &case["design"];
    let id = cd["id"].as_str().unwrap_or_default();
    let def = &root["designs"][id];
    let rule = lonely(cd["lonely_psu"].as_str());
    match cd["type"].as_str().unwrap_or_default() {
        "taylor" => Ok(SurveyDesign::from_design(taylor_design(def, t, rule)?)),
        "calibrated" => {
            let base_def = &root["designs"][def["base_design"].as_str().unwrap_or_default()];
            let base = taylor_design(base_def, t, rule)?;
            let method = def["method"].as_str().unwrap_or_default();
            let owned = margins(def, t);
            let fm = borrow_margins(&owned);
            let w = base.weights();
            let cal = if method.starts_with("postStratify") {
                calibrate::post_stratify(w, &fm[0], false)
            } else if method.starts_with("rake (tight") {
                calibrate::rake(
                    w,
                    &fm,
                    RakeControl {
                        maxit: 200,
                        epsilon: 1e-13,
                    },
                )
            } else if method.starts_with("rake") {
                calibrate::rake(w, &fm, RakeControl::default())
            } else if method.starts_with("calibrate") {
                let m = &def["margins"][0];
                let formula = m["formula"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches('~')
                    .to_string();
                let names: Vec<String> = formula.split('+').map(|s| s.trim().to_string()).collect();
                let numeric: Vec<(String, Vec<f64>)> = names
                    .iter()
                    .filter(|n| *n == "api99")
                    .map(|n| (n.clone(), t.numeric(n)))
                    .collect();
                let factors: Vec<(String, FactorCol)> = names
                    .iter()
                    .filter(|n| *n != "api99")
                    .map(|n| (n.clone(), t.factor(n)))
                    .collect();
                let terms: Vec<Term<'_>> = names
                    .iter()
                    .map(|n| {
                        if let Some((name, v)) = numeric.iter().find(|(k, _)| k == n) {
                            Term::Numeric { name, values: v }
                        } else {
                            let (name, f) =
                                factors.iter().find(|(k, _)| k == n).expect("factor term");
                            Term::Factor {
                                name,
                                factor: f.factor(),
                            }
                        }
                    })
                    .collect();
                let model = CalibrationModel {
                    terms,
                    intercept: true,
                };
                let pop: Vec<(String, f64)> = m["population_totals"]
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(f64::NAN)))
                            .collect()
                    })
                    .unwrap_or_default();
                let calfun = if method.contains("raking") {
                    CalFun::Raking
                } else {
                    CalFun::Linear
                };
                calibrate::calibrate(w, &model, &pop, &CalibrateOptions::new(calfun))
            } else {
                return Err(format!("unknown calibration method `{method}`"));
            }
            .map_err(|e| e.to_string())?;
            SurveyDesign::calibrated(&base, cal.weights, Box::new(cal.calibration))
                .map_err(|e| e.to_string())
        }
        "replicate" => {
            let base_def = &root["designs"][def["base_design"].as_str().unwrap_or_default()];
            let build_rule = def["lonely_psu_at_creation"]
                .as_str()
                .map_or(rule, |s| lonely(Some(s)));
            let base = taylor_design(base_def, t, build_rule)?;
            let mse = def["mse"].as_bool().unwrap_or(false);
            let strata = base.stratum_of_row();
            let psu: Vec<usize> = base.psu_of_row().iter().map(|&p| p as usize).collect();
            let rep_type = match def["rep_type"].as_str().unwrap_or_default() {
                "JK1" => RepType::Jk1,
                "JKn" => RepType::Jkn,
                "BRR" => RepType::Brr,
                "Fay" => RepType::Fay {
                    rho: def["fay_rho"].as_f64().unwrap_or(0.0),
                },
                "bootstrap" => RepType::Bootstrap,
                other => return Err(format!("unknown rep_type {other}")),
            };
            let set = if rep_type == RepType::Bootstrap {
                // random in R: the exported replicate weights with as.svrepdesign's bootstrap scale
                let file = format!(
                    "{}_boot_repweights.csv",
                    def["dataset"].as_str().unwrap_or_default()
                );
                let reps = read_repweights(&file);
                let scale = replicate::bootstrap_scale(&psu, Some(&strata), reps.len())
                    .map_err(|e| e.to_string())?;
                let opts = SuppliedOptions {
                    rep_type,
                    combined_weights: true,
                    scale: Some(scale),
                    rscales: None,
                    mse,
                };
                replicate::supplied_replicates(reps, base.weights(), &opts)
            } else {
                let fpc = base.stage1_popsize_of_row();
                let cols = DesignColumns {
                    weights: base.weights(),
                    // R: JK1 needs an unstratified design, JKn/BRR a stratified one (`has.strata`)
                    strata: (!base_def["strata"].is_null()).then_some(strata.as_slice()),
                    stratum_labels: Some(base.strata_labels()),
                    psu: &psu,
                    fpc: fpc.as_deref(),
                };
                replicate::build_replicates(
                    &cols,
                    &ReplicateOptions {
                        rep_type,
                        lonely_psu: build_rule,
                        mse,
                    },
                )
            }
            .map_err(|e| e.to_string())?;
            SurveyDesign::from_replicate_set(base.weights().to_vec(), &set)
                .map_err(|e| e.to_string())
        }
        "replicate_supplied" => {
            let rep_type = match def["rep_type"].as_str().unwrap_or_default() {
                "BRR" => RepType::Brr,
                "bootstrap" => RepType::Bootstrap,
                other => return Err(format!("unsupported supplied rep_type {other}")),
            };
            let (reps, combined) = if let Some(file) = def["repweights_file"].as_str() {
                (read_repweights(file), true)
            } else {
                let reps: Vec<Vec<f64>> = def["repweights"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|r| {
                                r.as_array()
                                    .map(|v| v.iter().filter_map(Value::as_f64).collect())
                                    .unwrap_or_default()
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (reps, def["combined_weights"].as_bool().unwrap_or(true))
            };
            let w = match def["r_call"]
                .as_str()
                .unwrap_or_default()
                .contains("weights=~pw")
            {
                true => t.numeric("pw"),
                false => vec![1.0; t.n],
            };
            let scale = if def["r_call"]
                .as_str()
                .unwrap_or_default()
                .contains("scale=")
            {
                def["scale"].as_f64()
            } else {
                None
            };
            let opts = SuppliedOptions {
                rep_type,
                combined_weights: combined,
                scale,
                rscales: None,
                mse: def["mse"].as_bool().unwrap_or(false),
            };
            let set = replicate::supplied_replicates(reps, &w, &opts).map_err(|e| e.to_string())?;
            SurveyDesign::from_replicate_set(w, &set).map_err(|e| e.to_string())
        }
        other => Err(format!("unknown design type {other}")),
    }
}

/// Replicate weight columns `rep1..repR` of an exported CSV.
fn read_repweights(file: &str) -> Vec<Vec<f64>> {
    let t = Table::read(&oracle_dir().join(file));
    let mut names: Vec<&String> = t.columns.keys().filter(|k| k.starts_with("rep")).collect();
    names.sort_by_key(|k| k[3..].parse::<usize>().unwrap_or(usize::MAX));
    names.iter().map(|k| t.numeric(k)).collect()
}

/// Parse R's `c(0.25, 0.5)` or `0.5`.
fn parse_numbers(s: &str) -> Vec<f64> {
    s.trim_start_matches("c(")
        .trim_end_matches(')')
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect()
}

/// `name="value"` from the `args` option of quantile cases.
fn arg(args: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = args.find(&key)? + key.len();
    let end = args[start..].find('"')? + start;
    Some(args[start..end].to_string())
}

/// Run the case's statistic; `Ok(estimates)` in R's order.
fn run_case(root: &Value, case: &Value, t: &Table) -> Result<Vec<Estimate>, String> {
    let design = build_design(root, case, t)?;
    let opts_json = &case["options"];
    let opts = Options {
        // one case (dclus2__subset_stypeM__total__enroll) has na.rm=TRUE only in its r_code
        na_rm: opts_json["na_rm"].as_bool().unwrap_or(false)
            || case["r_code"]
                .as_str()
                .unwrap_or_default()
                .contains("na.rm=TRUE"),
        deff: match &opts_json["deff"] {
            Value::Bool(true) => Deff::Srs,
            Value::String(s) if s == "replace" => Deff::Replace,
            _ => Deff::None,
        },
        level: opts_json["level"].as_f64().unwrap_or(0.95),
    };
    // domain
    let mut by_cols = Vec::new();
    let mut subset: Option<Vec<bool>> = None;
    match case["domain"]["type"].as_str() {
        Some("svyby") => {
            by_cols = str_list(&case["domain"]["by"])
                .iter()
                .map(|b| t.factor(b))
                .collect()
        }
        Some("subset") => {
            let cond = case["domain"]["condition"].as_str().unwrap_or_default();
            // `col == "v"` or `col != "v"`
            let (negate, (col, val)) = match cond.split_once("!=") {
                Some(parts) => (true, parts),
                None => (
                    false,
                    cond.split_once("==").ok_or(format!("condition `{cond}`"))?,
                ),
            };
            let val = val.trim().trim_matches('"');
            subset = Some(
                t.raw(col.trim())
                    .iter()
                    .map(|c| c.is_some() && ((c.as_deref() == Some(val)) != negate))
                    .collect(),
            );
        }
        _ => {}
    }
    let domains = DomainSpec {
        subset: subset.as_deref(),
        by: by_cols.iter().map(|f| f.factor()).collect(),
    };
    let variable = case["variable"].as_str().unwrap_or_default();
    let stat = case["statistic"].as_str().unwrap_or_default();
    let stat = stat.trim_start_matches("svyby(").trim_end_matches(')');
    let numeric_storage;
    let factor_storage;
    // a text column (any value that is not a number) is categorical, as read.csv makes it a factor
    let is_text = !variable.contains('/')
        && t.columns
            .get(variable)
            .is_some_and(|c| c.iter().flatten().any(|v| v.parse::<f64>().is_err()));
    let var = if is_text {
        factor_storage = t.factor(variable);
        Variable::Categorical {
            name: variable,
            factor: factor_storage.factor(),
        }
    } else if !variable.contains('/') {
        numeric_storage = t.numeric(variable);
        Variable::Numeric {
            name: variable,
            values: &numeric_storage,
        }
    } else {
        numeric_storage = Vec::new();
        Variable::Numeric {
            name: variable,
            values: &numeric_storage,
        }
    };
    let r = match stat {
        "svymean" => design.mean(&var, &domains, &opts),
        "svytotal" => design.total(&var, &domains, &opts),
        "svyratio" => {
            let (a, b) = variable.split_once('/').ok_or("ratio variable")?;
            let (na, nb) = (t.numeric(a), t.numeric(b));
            design.ratio(
                &Variable::Numeric {
                    name: a,
                    values: &na,
                },
                &Variable::Numeric {
                    name: b,
                    values: &nb,
                },
                &domains,
                &opts,
            )
        }
        "svyciprop" => {
            let method: CipropMethod = opts_json["method"].as_str().unwrap_or("logit").parse()?;
            design.ciprop(&var, method, &domains, &opts)
        }
        "svyquantile" => {
            let probs = parse_numbers(opts_json["quantiles"].as_str().unwrap_or("0.5"));
            let args = opts_json["args"].as_str().unwrap_or_default();
            let rule: QuantileRule =
                arg(args, "qrule").map_or(Ok(QuantileRule::Math), |s| s.parse())?;
            let interval: QuantileInterval =
                arg(args, "interval.type").map_or(Ok(QuantileInterval::Mean), |s| s.parse())?;
            design.quantile(&var, &probs, rule, interval, &domains, &opts)
        }
        other => return Err(format!("unknown statistic {other}")),
    };
    r.map_err(|e| e.to_string())
}

/// `over`'s fields written into `base`, objects merged field by field.
fn merge(base: &mut Value, over: &Value) {
    let Some(fields) = over.as_object() else {
        return;
    };
    for (k, v) in fields {
        match base.get_mut(k) {
            Some(b) if b.is_object() && v.is_object() => merge(b, v),
            _ => {
                base[k] = v.clone();
            }
        }
    }
}

fn close(a: f64, b: f64, tol: f64, scale: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    (a - b).abs() <= tol * a.abs().max(b.abs()) + 1e-12 * scale.abs().max(1.0)
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

/// Compare one case; `Ok` gives the largest share of the allowed difference used (0 = exact, 1 = at tolerance).
fn check_case(case: &Value, got: &[Estimate]) -> Result<f64, String> {
    // where R fails (a diverged fit, NaN), `dh_expected` holds what dh-survey must give instead, computed in R
    // from the documented rule; its fields replace those of `expected`
    let mut merged = case["expected"].clone();
    merge(&mut merged, &case["dh_expected"]);
    let exp = &merged;
    let tol = case["suggested_rel_tol"].as_f64().unwrap_or(1e-9);
    let mut problems = Vec::new();
    let est = numbers(&exp["estimate"]);
    if est.is_empty() {
        return Err("R's case lists no estimate".into());
    }
    if got.len() != est.len() {
        return Err(format!("{} estimates, expected {}", got.len(), est.len()));
    }
    let names = str_list(&exp["names"]);
    // R's labels: the domain for svyby of one statistic, `domain:name` for several statistics per domain
    let is_by = case["domain"]["type"].as_str() == Some("svyby");
    let per_domain = got.iter().filter(|g| g.domain == got[0].domain).count();
    let label = |g: &Estimate| match (is_by, per_domain) {
        (false, _) => g.name.clone(),
        (true, 1) => g.domain.join("."),
        (true, _) => format!("{}:{}", g.domain.join("."), g.name),
    };
    // compare in R's order when every R label is found (R orders svyby(~factor) level-major)
    let mut order: Vec<usize> = (0..got.len()).collect();
    if let Some(o) = names
        .iter()
        .map(|n| got.iter().position(|g| &label(g) == n))
        .collect::<Option<Vec<_>>>()
    {
        order = o;
    }
    let got: Vec<Estimate> = order.iter().map(|&i| got[i].clone()).collect();
    for (i, g) in got.iter().enumerate() {
        let name = label(g);
        if names.get(i) != Some(&name) {
            problems.push(format!("name[{i}] {name} vs {:?}", names.get(i)));
        }
    }
    let mut worst: f64 = 0.0;
    let mut cmp = |what: &str, mine: &[f64], theirs: &[f64]| {
        if mine.len() != theirs.len() {
            problems.push(format!("{what}: {} values, R {}", mine.len(), theirs.len()));
        }
        for (i, (a, b)) in mine.iter().zip(theirs).enumerate() {
            let allowed = tol * a.abs().max(b.abs()) + 1e-12 * est[i].abs().max(1.0);
            if a.is_finite() && b.is_finite() {
                worst = worst.max((a - b).abs() / allowed);
            }
            if !close(*a, *b, tol, est[i]) {
                problems.push(format!(
                    "{what}[{i}] {a:.17} vs R {b:.17} (rel {:.2e})",
                    (a - b).abs() / b.abs()
                ));
            }
        }
    };
    let col = |f: fn(&Estimate) -> f64| got.iter().map(f).collect::<Vec<f64>>();
    cmp("estimate", &col(|e| e.estimate), &est);
    let se_expected = match case["expected_survey_4_2"]["se"].as_array() {
        Some(_) => numbers(&case["expected_survey_4_2"]["se"]),
        None => numbers(&exp["se"]),
    };
    cmp("se", &col(|e| e.se), &se_expected);
    if exp["deff"].is_array() {
        cmp(
            "deff",
            &col(|e| e.deff.unwrap_or(f64::NAN)),
            &numbers(&exp["deff"]),
        );
    }
    let uses_4_2 = case["expected_survey_4_2"].is_object();
    for key in ["ci", "ci_t"] {
        let ci = &exp[key];
        if ci.is_object() && !uses_4_2 {
            cmp(
                &format!("{key}.lower"),
                &col(|e| e.ci_lower),
                &numbers(&ci["lower"]),
            );
            cmp(
                &format!("{key}.upper"),
                &col(|e| e.ci_upper),
                &numbers(&ci["upper"]),
            );
            let dfs = if ci["df_per_domain"].is_array() {
                numbers(&ci["df_per_domain"])
            } else {
                vec![ci["df"].as_f64().unwrap_or(f64::NAN); got.len()]
            };
            cmp(&format!("{key}.df"), &col(|e| e.df), &dfs);
        }
    }
    if exp["ci_normal"].is_object() && !uses_4_2 {
        let z = dh_survey::dist::qnorm(0.975, true);
        let lower: Vec<f64> = got.iter().map(|e| e.estimate - z * e.se).collect();
        let upper: Vec<f64> = got.iter().map(|e| e.estimate + z * e.se).collect();
        cmp(
            "ci_normal.lower",
            &lower,
            &numbers(&exp["ci_normal"]["lower"]),
        );
        cmp(
            "ci_normal.upper",
            &upper,
            &numbers(&exp["ci_normal"]["upper"]),
        );
    }
    if problems.is_empty() {
        Ok(worst)
    } else {
        Err(problems.join("; "))
    }
}

/// Run every case of one JSON file (designs from that file, datasets from the shared oracle), or those whose id
/// contains `ORACLE_FILTER`. Fails when no case ran (a filter that matches nothing), and, without a filter, when
/// fewer than `min_cases` ran (a truncated file).
fn run_file(cases_file: &Path, shared: BTreeMap<String, Table>, min_cases: usize) {
    let text = std::fs::read_to_string(cases_file).expect("cases file");
    let root: Value = serde_json::from_str(&text).expect("json");
    // datasets of this file (beside it) in addition to the shared oracle's
    let mut tables = shared;
    tables.extend(load_tables(
        &root,
        cases_file.parent().unwrap_or(Path::new(".")),
    ));
    let cases = root["cases"].as_array().expect("cases");
    let filter = std::env::var("ORACLE_FILTER").ok();
    // per statistic and design type: passed, failed, largest share of the tolerance used by a passing case
    let mut summary: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap_or_default();
        if filter.as_deref().is_some_and(|f| !id.contains(f)) {
            continue;
        }
        ran += 1;
        let key = format!(
            "{} [{}]",
            case["statistic"].as_str().unwrap_or_default(),
            case["design"]["type"].as_str().unwrap_or_default()
        );
        let t = &tables[case["dataset"].as_str().unwrap_or_default()];
        let result = run_case(&root, case, t);
        let outcome = match (case["expected"]["error"].as_str(), result) {
            (Some(msg), Err(e)) => {
                // R names a stage-2 stratum by its interaction label (`E.E.152`); compare without labels there
                let unlabelled =
                    |m: &str| match (m.find("Stratum ("), m.find(") has only one PSU at stage")) {
                        (Some(a), Some(b)) if a < b && !m.ends_with("stage 1") => {
                            format!("{}{}", &m[..a], &m[b..])
                        }
                        _ => m.to_string(),
                    };
                if e.contains(msg) || unlabelled(&e).contains(&unlabelled(msg)) {
                    Ok(0.0)
                } else {
                    Err(format!("error `{e}`, R says `{msg}`"))
                }
            }
            (Some(msg), Ok(_)) => Err(format!("expected error `{msg}`, got estimates")),
            (None, Err(e)) => Err(format!("error: {e}")),
            (None, Ok(got)) => check_case(case, &got),
        };
        let entry = summary.entry(key).or_default();
        match outcome {
            Ok(share) => {
                entry.0 += 1;
                entry.2 = entry.2.max(share);
            }
            Err(e) => {
                entry.1 += 1;
                failures.push(format!("{id}: {e}"));
            }
        }
    }
    println!("oracle summary (passed / failed / largest share of the tolerance used):");
    let (mut p, mut f) = (0, 0);
    for (k, (ok, bad, share)) in &summary {
        println!("  {k:45} {ok:4} {bad:4}   {share:.2e}");
        p += ok;
        f += bad;
    }
    println!("  total {p} passed, {f} failed of {}", p + f);
    for fl in &failures {
        println!("FAIL {fl}");
    }
    assert_eq!(p + f, ran, "every case that ran is counted once");
    assert!(
        ran > 0,
        "no case of {} ran: ORACLE_FILTER={filter:?} matches no case id (for the cases of one file, name its \
         test too: `cargo test -p dh-survey --test oracle oracle_cases` or `extra_r_cases`)",
        cases_file.display()
    );
    if filter.is_none() {
        assert!(
            ran >= min_cases,
            "{ran} cases of {} ran, expected at least {min_cases}",
            cases_file.display()
        );
    }
    assert!(
        failures.is_empty(),
        "{} case(s) of {} failed",
        failures.len(),
        cases_file.display()
    );
}

fn shared_tables() -> BTreeMap<String, Table> {
    let text = std::fs::read_to_string(oracle_dir().join("expected.json")).expect("expected.json");
    load_tables(&serde_json::from_str(&text).expect("json"), &oracle_dir())
}

/// The 341 cases of the shared oracle (R survey 4.1-1).
#[test]
fn oracle_cases() {
    run_file(&oracle_dir().join("expected.json"), shared_tables(), 341);
}

/// Extra R cases written by `tests/extra/make_extra.R` (same schema).
#[test]
fn extra_r_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/extra");
    run_file(&dir.join("extra_expected.json"), shared_tables(), 77);
}
