//! Replicate weights against R: the exported JK1 / BRR / Fay analysis weights, the scale, rscales, replicate count
//! and degf of every replicate design in `oracle/expected.json`, and the SE of each replicate design's plain
//! mean/total cases computed from those weights.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Reference values are R doubles printed with %.17g.
#![allow(clippy::excessive_precision)]

use std::collections::HashMap;

use dh_survey::LonelyPsu;
use dh_survey::replicate::{
    DesignColumns, RepType, ReplicateOptions, ReplicateSet, SuppliedOptions, bootstrap_scale,
    build_replicates, replicate_vcov, supplied_replicates,
};
use serde_json::Value;

mod common;
use common::{ORACLE, Table};

fn expected() -> Value {
    let text = std::fs::read_to_string(format!("{ORACLE}/expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("json")
}

fn codes(values: &[String]) -> (Vec<usize>, Vec<String>) {
    let mut map: HashMap<String, usize> = HashMap::new();
    let mut labels = Vec::new();
    let codes = values
        .iter()
        .map(|v| {
            *map.entry(v.clone()).or_insert_with(|| {
                labels.push(v.clone());
                labels.len() - 1
            })
        })
        .collect();
    (codes, labels)
}

/// The Taylor design columns of one oracle design (`designs[id]`), read from its dataset CSV.
struct Columns {
    weights: Vec<f64>,
    strata: Option<(Vec<usize>, Vec<String>)>,
    psu: Vec<usize>,
    fpc: Option<Vec<f64>>,
    data: Table,
}

impl Columns {
    fn of(design: &Value, datasets: &Value) -> Columns {
        let dataset = design["dataset"].as_str().unwrap();
        let data = Table::read(datasets[dataset]["file"].as_str().unwrap());
        let n = data.rows.len();
        let weights = match design["weights"].as_str() {
            Some(w) => data.num(w),
            None => vec![1.0; n],
        };
        let strata_values = design["strata"].as_str().map(|s| {
            if s == "lstrat" {
                data.num("dnum")
                    .iter()
                    .map(|&d| {
                        if d < 300.0 {
                            "A"
                        } else if d < 800.0 {
                            "B"
                        } else {
                            "C"
                        }
                        .to_string()
                    })
                    .collect()
            } else {
                data.text(s)
            }
        });
        let ids = design["ids"].as_array().unwrap();
        let psu_values: Vec<String> = match ids.first() {
            None => (0..n).map(|i| i.to_string()).collect(),
            Some(c) => data.text(c.as_str().unwrap()),
        };
        let psu_keys: Vec<String> =
            match (&strata_values, design["nest"].as_bool().unwrap_or(false)) {
                (Some(s), true) => s
                    .iter()
                    .zip(&psu_values)
                    .map(|(a, b)| format!("{a}\u{1}{b}"))
                    .collect(),
                _ => psu_values,
            };
        let fpc = design["fpc"]
            .as_array()
            .and_then(|a| a.first())
            .map(|c| data.num(c.as_str().unwrap()));
        Columns {
            weights,
            strata: strata_values.map(|s| codes(&s)),
            psu: codes(&psu_keys).0,
            fpc,
            data,
        }
    }
    fn view(&self) -> DesignColumns<'_> {
        DesignColumns {
            weights: &self.weights,
            strata: self.strata.as_ref().map(|s| s.0.as_slice()),
            stratum_labels: self.strata.as_ref().map(|s| s.1.as_slice()),
            psu: &self.psu,
            fpc: self.fpc.as_deref(),
        }
    }
}

fn rep_type(name: &str, design: &Value) -> RepType {
    match name {
        "JK1" => RepType::Jk1,
        "JKn" => RepType::Jkn,
        "BRR" => RepType::Brr,
        "Fay" => RepType::Fay {
            rho: design["fay_rho"].as_f64().unwrap(),
        },
        "bootstrap" => RepType::Bootstrap,
        other => panic!("unknown rep type {other}"),
    }
}

fn lonely(name: &str) -> LonelyPsu {
    name.parse().unwrap()
}

fn read_repweights(file: &str) -> Vec<Vec<f64>> {
    let t = Table::read(file);
    t.header
        .iter()
        .filter(|h| h.starts_with("rep"))
        .map(|h| t.num(h))
        .collect()
}

/// Builds the replicate set of an oracle replicate design as R did.
fn replicate_design(id: &str, all: &Value) -> (ReplicateSet, Columns) {
    let d = &all["designs"][id];
    let datasets = &all["datasets"];
    match d["type"].as_str().unwrap() {
        "replicate" => {
            let base = &all["designs"][d["base_design"].as_str().unwrap()];
            let cols = Columns::of(base, datasets);
            let rt = rep_type(d["rep_type"].as_str().unwrap(), d);
            let mse = d["mse"].as_bool().unwrap();
            let set = if rt == RepType::Bootstrap {
                let w = read_repweights(&format!(
                    "{}_boot_repweights.csv",
                    d["dataset"].as_str().unwrap()
                ));
                let scale = bootstrap_scale(&cols.psu, cols.view().strata, w.len()).unwrap();
                let opts = SuppliedOptions {
                    rep_type: rt,
                    combined_weights: true,
                    scale: Some(scale),
                    rscales: None,
                    mse,
                };
                supplied_replicates(w, &cols.weights, &opts).unwrap()
            } else {
                let lp = lonely(d["lonely_psu_at_creation"].as_str().unwrap_or("fail"));
                build_replicates(
                    &cols.view(),
                    &ReplicateOptions {
                        rep_type: rt,
                        lonely_psu: lp,
                        mse,
                    },
                )
                .unwrap()
            };
            (set, cols)
        }
        "replicate_supplied" => {
            let mut spec = d.clone();
            spec["ids"] = Value::Array(vec![]);
            spec["strata"] = Value::Null;
            spec["fpc"] = Value::Array(vec![]);
            spec["nest"] = Value::Bool(false);
            spec["weights"] = if d["dataset"] == "apiclus1" {
                Value::from("pw")
            } else {
                Value::Null
            };
            let cols = Columns::of(&spec, datasets);
            let rt = rep_type(d["rep_type"].as_str().unwrap(), d);
            let (weights, combined) = match d["repweights_file"].as_str() {
                Some(f) => (read_repweights(f), true),
                None => (
                    d["repweights"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| serde_json::from_value(c.clone()).unwrap())
                        .collect(),
                    d["combined_weights"].as_bool().unwrap(),
                ),
            };
            let scale = id
                .ends_with("_scaled")
                .then(|| all["designs"]["dclus1_boot"]["scale"].as_f64().unwrap());
            let opts = SuppliedOptions {
                rep_type: rt,
                combined_weights: combined,
                scale,
                rscales: None,
                mse: false,
            };
            (
                supplied_replicates(weights, &cols.weights, &opts).unwrap(),
                cols,
            )
        }
        other => panic!("{id}: not a replicate design ({other})"),
    }
}

fn close(a: f64, b: f64, rel: f64, scale: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-12 * scale.abs().max(1.0)
}

#[test]
fn jk1_analysis_weights_equal_r() {
    let all = expected();
    let (set, _) = replicate_design("dclus1_jk1", &all);
    let expected = read_repweights("apiclus1_jk1_repweights.csv");
    assert_eq!(set.n_replicates(), expected.len());
    for (r, col) in expected.iter().enumerate() {
        let ours = set.replicate_weights(r).unwrap();
        for (i, (a, b)) in ours.iter().zip(col).enumerate() {
            assert!(
                close(*a, *b, 1e-15, 0.0),
                "replicate {} row {}: {a} vs {b}",
                r + 1,
                i + 1
            );
        }
    }
}

#[test]
fn brr_and_fay_analysis_weights_equal_r() {
    let all = expected();
    let t = Table::read("scd_brr_repweights.csv");
    for (id, prefix) in [("dscd_brr", "rep"), ("dscd_fay", "fay_rep")] {
        let (set, _) = replicate_design(id, &all);
        assert_eq!(set.n_replicates(), 4, "{id}");
        for r in 0..4 {
            let expected = t.num(&format!("{prefix}{}", r + 1));
            let ours = set.replicate_weights(r).unwrap();
            for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
                assert!(
                    close(*a, *b, 1e-15, 0.0),
                    "{id} replicate {} row {}: {a} vs {b}",
                    r + 1,
                    i + 1
                );
            }
        }
    }
}

#[test]
fn scale_rscales_count_and_degf_of_every_replicate_design_equal_r() {
    let all = expected();
    let designs = all["designs"].as_object().unwrap();
    let mut checked = 0;
    for (id, d) in designs {
        if !matches!(d["type"].as_str(), Some("replicate" | "replicate_supplied")) {
            continue;
        }
        let (set, _) = replicate_design(id, &all);
        assert_eq!(
            set.n_replicates() as u64,
            d["n_replicates"].as_u64().unwrap(),
            "{id} replicates"
        );
        let scale = d["scale"].as_f64().unwrap();
        assert!(
            close(set.scale, scale, 1e-15, 0.0),
            "{id} scale {} vs {scale}",
            set.scale
        );
        match d["rscales"].as_array() {
            Some(rs) => {
                for (a, b) in set.rscales.iter().zip(rs) {
                    assert!(close(*a, b.as_f64().unwrap(), 1e-15, 0.0), "{id} rscales");
                }
            }
            None => {
                let u = d["rscales_unique"].as_array().unwrap();
                assert!(
                    set.rscales
                        .iter()
                        .all(|r| u.iter().any(|v| v.as_f64() == Some(*r))),
                    "{id} rscales"
                );
            }
        }
        assert_eq!(
            set.degf().unwrap() as u64,
            d["degf"].as_u64().unwrap(),
            "{id} degf"
        );
        assert_eq!(set.mse, d["mse"].as_bool().unwrap(), "{id} mse");
        checked += 1;
    }
    assert_eq!(checked, 20);
}

/// `svymean` / `svytotal` of one variable on a replicate design, as R's `svymean.svyrep.design`.
fn mean_and_total_se(set: &ReplicateSet, cols: &Columns, var: &str, mean: bool) -> (f64, f64) {
    let values: Vec<f64> = if var == "sch_wide_yes" {
        cols.data
            .text("sch.wide")
            .iter()
            .map(|v| f64::from(u8::from(v == "Yes")))
            .collect()
    } else {
        cols.data.num(var)
    };
    let ok: Vec<f64> = values
        .iter()
        .map(|v| f64::from(u8::from(!v.is_nan())))
        .collect();
    let x: Vec<f64> = values
        .iter()
        .map(|v| if v.is_nan() { 0.0 } else { *v })
        .collect();
    let full_num: f64 = x.iter().zip(&cols.weights).map(|(a, b)| a * b).sum();
    let full_den: f64 = ok.iter().zip(&cols.weights).map(|(a, b)| a * b).sum();
    let num = set.replicate_totals(&x).unwrap();
    let den = set.replicate_totals(&ok).unwrap();
    let (full, reps): (f64, Vec<Vec<f64>>) = if mean {
        (
            full_num / full_den,
            num.iter().zip(&den).map(|(a, b)| vec![a / b]).collect(),
        )
    } else {
        (full_num, num.iter().map(|a| vec![*a]).collect())
    };
    let v = replicate_vcov(&[full], &reps, set).unwrap();
    (full, v.vcov[0][0].sqrt())
}

#[test]
fn replicate_standard_errors_of_plain_means_and_totals_equal_r() {
    let all = expected();
    let mut checked = 0;
    for case in all["cases"].as_array().unwrap() {
        let design = &case["design"];
        let kind = design["type"].as_str().unwrap();
        let stat = case["statistic"].as_str().unwrap();
        if !matches!(kind, "replicate" | "replicate_supplied")
            || !matches!(stat, "svymean" | "svytotal")
            || !case["domain"].is_null()
            || case["options"].get("deff").is_some()
            || case["variable"].as_str().unwrap().contains('~')
        {
            continue;
        }
        let var = case["variable"].as_str().unwrap();
        if !(var == "api00"
            || var == "enroll"
            || var == "sch_wide_yes"
            || var == "alive"
            || var == "arrests")
        {
            continue;
        }
        let (set, cols) = replicate_design(design["id"].as_str().unwrap(), &all);
        let (est, se) = mean_and_total_se(&set, &cols, var, stat == "svymean");
        let e = &case["expected"];
        let tol = case["suggested_rel_tol"].as_f64().unwrap();
        let (want_est, want_se) = (
            e["estimate"][0].as_f64().unwrap(),
            e["se"][0].as_f64().unwrap(),
        );
        assert!(
            close(est, want_est, tol, want_est),
            "{}: estimate {est} vs {want_est}",
            case["id"]
        );
        assert!(
            close(se, want_se, tol, want_est),
            "{}: se {se} vs {want_se}",
            case["id"]
        );
        checked += 1;
    }
    assert_eq!(checked, 36, "plain mean/total cases on replicate designs");
}

#[test]
fn lonely_fail_and_brr_with_a_single_psu_stratum_are_errors() {
    let all = expected();
    let cols = Columns::of(&all["designs"]["dlonely"], &all["datasets"]);
    let fail = ReplicateOptions {
        rep_type: RepType::Jkn,
        lonely_psu: LonelyPsu::Fail,
        mse: false,
    };
    let err = build_replicates(&cols.view(), &fail)
        .unwrap_err()
        .to_string();
    assert!(err.contains("(C)"), "{err}");
    let brr = ReplicateOptions {
        rep_type: RepType::Brr,
        lonely_psu: LonelyPsu::Fail,
        mse: false,
    };
    let err = build_replicates(&cols.view(), &brr)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Some strata have fewer than 2 PSUs (stratum C)"),
        "{err}"
    );
    let unstratified = Columns::of(&all["designs"]["dclus1"], &all["datasets"]);
    let err = build_replicates(&unstratified.view(), &brr)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "Must use JK1 or bootstrap for an unstratified design");
}

#[test]
fn fpc_given_as_sampling_fractions_equals_population_sizes() {
    let all = expected();
    for (id, rep_type) in [("dclus1", RepType::Jk1), ("dstrat", RepType::Jkn)] {
        let cols = Columns::of(&all["designs"][id], &all["datasets"]);
        let opts = ReplicateOptions {
            rep_type,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        let by_size = build_replicates(&cols.view(), &opts).unwrap();
        // fraction = PSUs sampled in the stratum / population size
        let population = cols.fpc.clone().unwrap();
        let strata = cols
            .view()
            .strata
            .map(<[usize]>::to_vec)
            .unwrap_or_else(|| vec![0; population.len()]);
        let fractions: Vec<f64> = population
            .iter()
            .zip(&strata)
            .map(|(big_n, s)| {
                let mut psus: Vec<usize> = cols
                    .psu
                    .iter()
                    .zip(&strata)
                    .filter(|(_, t)| *t == s)
                    .map(|(p, _)| *p)
                    .collect();
                psus.sort();
                psus.dedup();
                psus.len() as f64 / big_n
            })
            .collect();
        let view = DesignColumns {
            fpc: Some(&fractions),
            ..cols.view()
        };
        let by_fraction = build_replicates(&view, &opts).unwrap();
        assert!(
            close(by_fraction.scale, by_size.scale, 1e-14, 0.0),
            "{id} scale"
        );
        for (a, b) in by_fraction.rscales.iter().zip(&by_size.rscales) {
            assert!(close(*a, *b, 1e-14, 0.0), "{id} rscales {a} vs {b}");
        }
    }
}

#[test]
fn seeded_bootstrap_draws_r_replicates() {
    use dh_survey::replicate::build_bootstrap;
    let all = expected();
    let d = &all["designs"]["dclus1_boot"];
    let cols = Columns::of(&all["designs"]["dclus1_nofpc"], &all["datasets"]);
    let seed = d["seed"].as_i64().unwrap() as i32;
    let set = build_bootstrap(&cols.view(), 50, seed, false).unwrap();
    let expected = read_repweights("apiclus1_boot_repweights.csv");
    assert_eq!(set.n_replicates(), expected.len());
    for (r, col) in expected.iter().enumerate() {
        let ours = set.replicate_weights(r).unwrap();
        for (i, (a, b)) in ours.iter().zip(col).enumerate() {
            assert!(
                close(*a, *b, 1e-15, 0.0),
                "replicate {} row {}: {a} vs {b}",
                r + 1,
                i + 1
            );
        }
    }
    assert!(close(set.scale, d["scale"].as_f64().unwrap(), 1e-15, 0.0));
    assert_eq!(set.degf().unwrap() as u64, d["degf"].as_u64().unwrap());
}

/// `set.seed(7); as.svrepdesign(dclus1, type="bootstrap", replicates=4)` (with fpc 757: PSUs drawn without
/// replacement from the PSUs repeated to 757) and `set.seed(-123); as.svrepdesign(dstratclus, type="bootstrap",
/// replicates=3)` (3 strata) in R 4.2.2 / survey 4.1-1: per replicate, sum over rows of row number x analysis
/// weight, and the scale.
#[test]
fn seeded_bootstrap_with_fpc_and_strata_equals_r() {
    use dh_survey::replicate::build_bootstrap;
    let all = expected();
    let cases: [(&str, i32, &[f64], f64); 2] = [
        (
            "dclus1",
            7,
            &[
                716439.37083816424,
                820180.41452026251,
                517892.89049911423,
                912819.64341354242,
            ],
            0.35714285714285715,
        ),
        (
            "dstratclus",
            -123,
            &[607709.6364650731, 551319.77760696446, 544810.7472019199],
            0.51009392205548953,
        ),
    ];
    for (id, seed, checksums, scale) in cases {
        let cols = Columns::of(&all["designs"][id], &all["datasets"]);
        let set = build_bootstrap(&cols.view(), checksums.len(), seed, false).unwrap();
        for (r, want) in checksums.iter().enumerate() {
            let w = set.replicate_weights(r).unwrap();
            let got: f64 = w.iter().enumerate().map(|(i, v)| (i + 1) as f64 * v).sum();
            assert!(
                close(got, *want, 1e-13, 0.0),
                "{id} replicate {}: {got} vs {want}",
                r + 1
            );
        }
        assert!(close(set.scale, scale, 1e-15, 0.0), "{id} scale");
    }
}

/// BRR and Fay (rho 0.5) on 8 strata of 2 PSUs whose labels R orders with ICU collation ("10" < "2" < "a 1" <
/// "a_1" < "a" < "b" < "B" < "C"), R 4.2.2 / survey 4.1-1: per replicate, sum of row number x analysis weight.
#[test]
fn brr_orders_strata_like_r() {
    let labels = ["b", "a", "B", "10", "2", "C", "a_1", "a 1"];
    let strata_values: Vec<String> = labels
        .iter()
        .flat_map(|l| [l.to_string(), l.to_string()])
        .collect();
    let (strata, stratum_labels) = codes(&strata_values);
    let psu: Vec<usize> = (0..16).collect();
    let weights: Vec<f64> = (1..=16).map(|i| i as f64 * 1.5).collect();
    let cols = DesignColumns {
        weights: &weights,
        strata: Some(&strata),
        stratum_labels: Some(&stratum_labels),
        psu: &psu,
        fpc: None,
    };
    let brr: [f64; 12] = [
        2040.0, 2325.0, 2280.0, 2280.0, 2196.0, 2220.0, 2268.0, 2175.0, 2220.0, 2373.0, 2310.0,
        2241.0,
    ];
    let fay: [f64; 12] = [
        2142.0, 2284.5, 2262.0, 2262.0, 2220.0, 2232.0, 2256.0, 2209.5, 2232.0, 2308.5, 2277.0,
        2242.5,
    ];
    for (rep_type, want) in [(RepType::Brr, brr), (RepType::Fay { rho: 0.5 }, fay)] {
        let opts = ReplicateOptions {
            rep_type,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        let set = build_replicates(&cols, &opts).unwrap();
        assert_eq!(set.n_replicates(), 12);
        for (r, w) in want.iter().enumerate() {
            let got: f64 = set
                .replicate_weights(r)
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, v)| (i + 1) as f64 * v)
                .sum();
            assert!(
                close(got, *w, 1e-14, 0.0),
                "{rep_type:?} replicate {}: {got} vs {w}",
                r + 1
            );
        }
    }
}
