//! Calibrated weights against R (`oracle/apiclus1_calibrated_weights.csv`: postStratify, rake with R's default
//! control and converged, linear calibrate with and without api99, raking calibrate), and the SE of the
//! calibrated designs' plain means and totals with the one-stage cluster Taylor variance of dclus1, to check the
//! residualisation the variance applies.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Reference values are R doubles printed with %.17g.
#![allow(clippy::excessive_precision)]

use dh_survey::calibrate::{
    CalFun, CalibrateOptions, Calibrated, CalibrationModel, FactorMargin, RakeControl, Term,
    calibrate, calibrate_to_margins, post_stratify, rake,
};
use dh_survey::design::Factor;
use serde_json::Value;

mod common;
use common::{ORACLE, Table};

/// Codes and sorted labels (R's factor levels from `read.csv(stringsAsFactors=TRUE)`).
fn factor_of(values: &[String]) -> (Vec<u32>, Vec<String>) {
    let mut labels: Vec<String> = values.to_vec();
    labels.sort();
    labels.dedup();
    let codes = values
        .iter()
        .map(|v| labels.iter().position(|l| l == v).unwrap() as u32)
        .collect();
    (codes, labels)
}

struct Api {
    data: Table,
    pw: Vec<f64>,
    stype: (Vec<u32>, Vec<String>),
    sch_wide: (Vec<u32>, Vec<String>),
    api99: Vec<f64>,
}

fn api() -> Api {
    let data = Table::read("apiclus1.csv");
    Api {
        pw: data.num("pw"),
        stype: factor_of(&data.text("stype")),
        sch_wide: factor_of(&data.text("sch.wide")),
        api99: data.num("api99"),
        data,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

struct Populations {
    types: Vec<String>,
    type_totals: Vec<f64>,
    wide: Vec<String>,
    wide_totals: Vec<f64>,
}

fn populations() -> Populations {
    Populations {
        types: strings(&["E", "H", "M"]),
        type_totals: vec![4421.0, 755.0, 1018.0],
        wide: strings(&["No", "Yes"]),
        wide_totals: vec![1072.0, 5122.0],
    }
}

fn margins<'a>(a: &'a Api, p: &'a Populations) -> [FactorMargin<'a>; 2] {
    [
        FactorMargin {
            variable: "stype",
            factor: Factor {
                codes: &a.stype.0,
                labels: &a.stype.1,
            },
            levels: &p.types,
            totals: &p.type_totals,
        },
        FactorMargin {
            variable: "sch.wide",
            factor: Factor {
                codes: &a.sch_wide.0,
                labels: &a.sch_wide.1,
            },
            levels: &p.wide,
            totals: &p.wide_totals,
        },
    ]
}

fn totals(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
    pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

/// The calibrated design of one oracle calibrated design id.
fn calibrated(id: &str, a: &Api, p: &Populations) -> Calibrated {
    let m = margins(a, p);
    let stype = Term::Factor {
        name: "stype",
        factor: m[0].factor,
    };
    let linear = CalibrateOptions::new(CalFun::Linear);
    match id {
        "dclus1_ps" => post_stratify(&a.pw, &m[0], false).unwrap(),
        "dclus1_rake" | "dclus1_nofpc_rake" => rake(&a.pw, &m, RakeControl::default()).unwrap(),
        "dclus1_rake_tight" => rake(&a.pw, &m, RakeControl::converged()).unwrap(),
        "dclus1_cal_linear" => {
            let model = CalibrationModel {
                terms: vec![stype],
                intercept: true,
            };
            let pop = totals(&[
                ("(Intercept)", 6194.0),
                ("stypeH", 755.0),
                ("stypeM", 1018.0),
            ]);
            calibrate(&a.pw, &model, &pop, &linear).unwrap()
        }
        "dclus1_cal_linear_api99" => {
            let model = CalibrationModel {
                terms: vec![
                    stype,
                    Term::Numeric {
                        name: "api99",
                        values: &a.api99,
                    },
                ],
                intercept: true,
            };
            let pop = totals(&[
                ("(Intercept)", 6194.0),
                ("stypeH", 755.0),
                ("stypeM", 1018.0),
                ("api99", 3914069.0),
            ]);
            calibrate(&a.pw, &model, &pop, &linear).unwrap()
        }
        "dclus1_cal_raking" => {
            let model = CalibrationModel {
                terms: vec![
                    stype,
                    Term::Factor {
                        name: "sch.wide",
                        factor: m[1].factor,
                    },
                ],
                intercept: true,
            };
            let pop = totals(&[
                ("(Intercept)", 6194.0),
                ("stypeH", 755.0),
                ("stypeM", 1018.0),
                ("sch.wideYes", 5122.0),
            ]);
            calibrate(&a.pw, &model, &pop, &CalibrateOptions::new(CalFun::Raking)).unwrap()
        }
        other => panic!("unknown calibrated design {other}"),
    }
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()))
        .fold(0.0, f64::max)
}

#[test]
fn calibrated_weights_equal_r() {
    let a = api();
    let p = populations();
    let expected = Table::read("apiclus1_calibrated_weights.csv");
    // (design, column, relative tolerance): R's iterations are reproduced step by step, so even the iterative
    // methods agree to rounding (measured: at most 2.5e-15).
    let cases = [
        ("dclus1_ps", "ps", 1e-13),
        ("dclus1_rake", "rake", 1e-13),
        ("dclus1_rake_tight", "rake_tight", 1e-13),
        ("dclus1_cal_linear", "cal_linear", 1e-13),
        ("dclus1_cal_linear_api99", "cal_linear_api99", 1e-13),
        ("dclus1_cal_raking", "cal_raking", 1e-13),
    ];
    for (id, column, tol) in cases {
        let ours = calibrated(id, &a, &p);
        let diff = max_rel_diff(&ours.weights, &expected.num(column));
        eprintln!(
            "{id}: max relative weight difference from R {diff:e} ({} iterations)",
            ours.iterations
        );
        assert!(
            diff <= tol,
            "{id}: max relative difference {diff:e} > {tol:e}"
        );
    }
}

#[test]
fn default_rake_stops_unconverged_like_r_and_converged_rake_matches_raking_calibration() {
    let a = api();
    let p = populations();
    let m = margins(&a, &p);
    let default = rake(&a.pw, &m, RakeControl::default()).unwrap();
    let tight = rake(&a.pw, &m, RakeControl::converged()).unwrap();
    assert!(default.converged && tight.converged);
    assert!(tight.iterations > default.iterations);
    let spread = max_rel_diff(&default.weights, &tight.weights);
    assert!(
        spread > 1e-6 && spread < 1e-4,
        "default rake differs from converged by {spread:e}"
    );
    let raking = calibrate_to_margins(&a.pw, &m, &CalibrateOptions::new(CalFun::Raking)).unwrap();
    assert!(max_rel_diff(&raking.weights, &tight.weights) < 1e-6);
}

/// One-stage cluster Taylor variance of a total of influence values (dclus1: PSU dnum, fpc 757; no fpc for
/// dclus1_nofpc_rake).
fn cluster_variance(z: &[f64], psu: &[String], fpc: Option<f64>) -> f64 {
    let mut ids: Vec<&String> = psu.iter().collect();
    ids.sort();
    ids.dedup();
    let totals: Vec<f64> = ids
        .iter()
        .map(|id| {
            psu.iter()
                .zip(z)
                .filter(|(p, _)| p == id)
                .map(|(_, v)| v)
                .sum()
        })
        .collect();
    let n = totals.len() as f64;
    let mean = totals.iter().sum::<f64>() / n;
    let ss: f64 = totals.iter().map(|t| (t - mean).powi(2)).sum();
    let f = fpc.map_or(1.0, |big_n| (big_n - n) / big_n);
    f * n / (n - 1.0) * ss
}

#[test]
fn calibrated_standard_errors_of_plain_means_and_totals_equal_r() {
    let text = std::fs::read_to_string(format!("{ORACLE}/expected.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let a = api();
    let p = populations();
    let psu = a.data.text("dnum");
    let mut checked = 0;
    for case in all["cases"].as_array().unwrap() {
        let design = &case["design"];
        let stat = case["statistic"].as_str().unwrap();
        let var = case["variable"].as_str().unwrap();
        if design["type"] != "calibrated"
            || !case["domain"].is_null()
            || case["options"].get("deff").is_some()
            || !matches!(stat, "svymean" | "svytotal")
            || !matches!(var, "api00" | "enroll" | "awards_yes")
        {
            continue;
        }
        let id = design["id"].as_str().unwrap();
        let cal = calibrated(id, &a, &p);
        let y: Vec<f64> = if var == "awards_yes" {
            a.data
                .text("awards")
                .iter()
                .map(|v| f64::from(u8::from(v == "Yes")))
                .collect()
        } else {
            a.data.num(var)
        };
        let w = &cal.weights;
        let (est, mut z): (f64, Vec<f64>) = if stat == "svymean" {
            let sw: f64 = w.iter().sum();
            let mean = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
            (
                mean,
                y.iter().zip(w).map(|(y, w)| (y - mean) * w / sw).collect(),
            )
        } else {
            (
                y.iter().zip(w).map(|(y, w)| y * w).sum(),
                y.iter().zip(w).map(|(y, w)| y * w).collect(),
            )
        };
        cal.calibration.residualise_values(&mut z);
        let fpc = if id == "dclus1_nofpc_rake" {
            None
        } else {
            Some(757.0)
        };
        let se = cluster_variance(&z, &psu, fpc).sqrt();
        let e = &case["expected"];
        let tol = case["suggested_rel_tol"].as_f64().unwrap();
        let (want_est, want_se) = (
            e["estimate"][0].as_f64().unwrap(),
            e["se"][0].as_f64().unwrap(),
        );
        let close = |x: f64, y: f64| {
            (x - y).abs() <= tol * x.abs().max(y.abs()) + 1e-12 * want_est.abs().max(1.0)
        };
        assert!(
            close(est, want_est),
            "{}: estimate {est} vs {want_est}",
            case["id"]
        );
        assert!(
            close(se, want_se),
            "{}: se {se} vs {want_se} (tol {tol:e})",
            case["id"]
        );
        checked += 1;
    }
    assert_eq!(checked, 21, "plain mean/total cases on calibrated designs");
}

/// Bounded calibration through `grake` (not in the oracle): R 4.2.2 / survey 4.1-1 reference values from
/// `calibrate(dclus1, ~stype+api99, pop, calfun=..., bounds=...)`: sum of weights, weights of rows 1, 50, 100
/// and 183, and `svymean(~api00)` with its SE.
#[test]
fn bounded_linear_and_logit_calibration_equal_r() {
    let a = api();
    let p = populations();
    let m = margins(&a, &p);
    let model = CalibrationModel {
        terms: vec![
            Term::Factor {
                name: "stype",
                factor: m[0].factor,
            },
            Term::Numeric {
                name: "api99",
                values: &a.api99,
            },
        ],
        intercept: true,
    };
    let pop = totals(&[
        ("(Intercept)", 6194.0),
        ("stypeH", 755.0),
        ("stypeM", 1018.0),
        ("api99", 3914069.0),
    ]);
    let cases = [
        (
            CalFun::Logit,
            (0.7, 1.7),
            [
                6194.0000000528944,
                55.662409143197941,
                29.302754480943335,
                56.477042515635915,
                40.726235716173505,
            ],
            (665.46096942749227, 3.419983721569527),
        ),
        (
            CalFun::Linear,
            (0.5, 1.75),
            [
                6193.9999999999991,
                52.732679267500139,
                33.453534014061901,
                54.881905922920559,
                39.346574843440422,
            ],
            (665.35745987232951, 3.4394646925379129),
        ),
    ];
    let psu = a.data.text("dnum");
    let y = a.data.num("api00");
    for (calfun, bounds, want, (want_mean, want_se)) in cases {
        let options = CalibrateOptions {
            bounds,
            ..CalibrateOptions::new(calfun)
        };
        let cal = calibrate(&a.pw, &model, &pop, &options).unwrap();
        let w = &cal.weights;
        let got = [w.iter().sum::<f64>(), w[0], w[49], w[99], w[182]];
        assert!(
            max_rel_diff(&got, &want) < 1e-12,
            "{calfun:?}: {got:?} vs {want:?}"
        );
        let sw: f64 = w.iter().sum();
        let mean = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
        let mut z: Vec<f64> = y.iter().zip(w).map(|(y, w)| (y - mean) * w / sw).collect();
        cal.calibration.residualise_values(&mut z);
        let se = cluster_variance(&z, &psu, Some(757.0)).sqrt();
        assert!(
            max_rel_diff(&[mean, se], &[want_mean, want_se]) < 1e-10,
            "{calfun:?}: {mean} {se}"
        );
    }
    // R: "Calibration failed" when the bounds cannot be met within maxit.
    let tight = CalibrateOptions {
        bounds: (0.9, 1.1),
        ..CalibrateOptions::new(CalFun::Linear)
    };
    let err = calibrate(&a.pw, &model, &pop, &tight)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Calibration failed"), "{err}");
}

/// `postStratify(dclus1, ~stype+sch.wide, table(apipop$stype, apipop$sch.wide))` in R 4.2.2 / survey 4.1-1 (not
/// in the oracle): sum of weights, weights of rows 1, 50, 100, 183, svymean(~api00) and svytotal(~enroll).
#[test]
fn cross_classified_post_stratification_equals_r() {
    use dh_survey::calibrate::{CrossMargin, post_stratify_cross};
    let a = api();
    let factors = [
        Factor {
            codes: &a.stype.0,
            labels: &a.stype.1,
        },
        Factor {
            codes: &a.sch_wide.0,
            labels: &a.sch_wide.1,
        },
    ];
    let cells: Vec<Vec<String>> = [
        ("E", "No"),
        ("H", "No"),
        ("M", "No"),
        ("E", "Yes"),
        ("H", "Yes"),
        ("M", "Yes"),
    ]
    .iter()
    .map(|(s, w)| vec![s.to_string(), w.to_string()])
    .collect();
    let totals = [472.0, 334.0, 266.0, 3949.0, 421.0, 752.0];
    let margin = CrossMargin {
        variables: &["stype", "sch.wide"],
        factors: &factors,
        cells: &cells,
        totals: &totals,
    };
    let cal = post_stratify_cross(&a.pw, &margin, false).unwrap();
    let w = &cal.weights;
    let got = [w.iter().sum::<f64>(), w[0], w[49], w[99], w[182]];
    let want = [
        6194.0,
        38.27272727272728,
        29.916666666666664,
        111.33333333333331,
        29.916666666666664,
    ];
    assert!(max_rel_diff(&got, &want) < 1e-14, "{got:?}");
    let psu = a.data.text("dnum");
    for (var, mean, want) in [
        ("api00", true, (643.15040977497051, 22.830028915034458)),
        ("enroll", false, (3610219.2366310158, 380450.34028862522)),
    ] {
        let y = a.data.num(var);
        let sw: f64 = w.iter().sum();
        let total = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>();
        let (est, mut z): (f64, Vec<f64>) = if mean {
            let m = total / sw;
            (m, y.iter().zip(w).map(|(y, w)| (y - m) * w / sw).collect())
        } else {
            (total, y.iter().zip(w).map(|(y, w)| y * w).collect())
        };
        cal.calibration.residualise_values(&mut z);
        let se = cluster_variance(&z, &psu, Some(757.0)).sqrt();
        assert!(
            max_rel_diff(&[est, se], &[want.0, want.1]) < 1e-12,
            "{var}: {est} {se}"
        );
    }
    let short = CrossMargin {
        cells: &cells[..5],
        totals: &totals[..5],
        ..margin
    };
    let err = post_stratify_cross(&a.pw, &short, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`M:Yes`"), "{err}");
}

/// Raking calibration from equal weights (population/sample ratios above 20: `grake` first rescales the weights
/// by the mean ratio), R 4.2.2 / survey 4.1-1: `calibrate(svydesign(id=~dnum, weights=~one, fpc=~fpc),
/// ~stype+sch.wide, pop, calfun="raking")`.
#[test]
fn raking_calibration_from_unit_weights_rescales_like_r() {
    let a = api();
    let p = populations();
    let m = margins(&a, &p);
    let model = CalibrationModel {
        terms: vec![
            Term::Factor {
                name: "stype",
                factor: m[0].factor,
            },
            Term::Factor {
                name: "sch.wide",
                factor: m[1].factor,
            },
        ],
        intercept: true,
    };
    let pop = totals(&[
        ("(Intercept)", 6194.0),
        ("stypeH", 755.0),
        ("stypeM", 1018.0),
        ("sch.wideYes", 5122.0),
    ]);
    let ones = vec![1.0; a.pw.len()];
    let cal = calibrate(&ones, &model, &pop, &CalibrateOptions::new(CalFun::Raking)).unwrap();
    let w = &cal.weights;
    let got = [w.iter().sum::<f64>(), w[0], w[49], w[99], w[182]];
    let want = [
        6194.0000000006003,
        50.329401116071487,
        29.870675492685752,
        67.125529241238411,
        29.870675492685752,
    ];
    assert!(max_rel_diff(&got, &want) < 1e-12, "{got:?}");
    let y = a.data.num("api00");
    let sw: f64 = w.iter().sum();
    let mean = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
    let mut z: Vec<f64> = y.iter().zip(w).map(|(y, w)| (y - mean) * w / sw).collect();
    cal.calibration.residualise_values(&mut z);
    let se = cluster_variance(&z, &a.data.text("dnum"), Some(757.0)).sqrt();
    assert!(
        max_rel_diff(&[mean, se], &[641.23032092681854, 23.70361688792207]) < 1e-10,
        "{mean} {se}"
    );
}

/// Calibration of the JK1 replicate design `as.svrepdesign(dclus1, type="JK1")` in R 4.2.2 / survey 4.1-1 (not in
/// the oracle): for postStratify, rake, linear calibrate (~stype+api99) and raking calibrate (~stype+sch.wide),
/// svymean(~api00) and svytotal(~enroll) with SEs, the sum of the full-sample weights and of replicates 1 and 15.
#[test]
fn calibrated_replicate_designs_equal_r() {
    use dh_survey::calibrate::{calibrate_replicates, post_stratify_replicates, rake_replicates};
    use dh_survey::replicate::{
        DesignColumns, RepType, ReplicateOptions, build_replicates, replicate_vcov,
    };
    let a = api();
    let p = populations();
    let m = margins(&a, &p);
    let psu: Vec<usize> = a.data.num("dnum").iter().map(|d| *d as usize).collect();
    let fpc = a.data.num("fpc");
    let columns = DesignColumns {
        weights: &a.pw,
        strata: None,
        stratum_labels: None,
        psu: &psu,
        fpc: Some(&fpc),
    };
    let opts = ReplicateOptions {
        rep_type: RepType::Jk1,
        lonely_psu: dh_survey::LonelyPsu::Fail,
        mse: false,
    };
    let jk1 = build_replicates(&columns, &opts).unwrap();
    let stype = Term::Factor {
        name: "stype",
        factor: m[0].factor,
    };
    let linear_model = CalibrationModel {
        terms: vec![
            stype,
            Term::Numeric {
                name: "api99",
                values: &a.api99,
            },
        ],
        intercept: true,
    };
    let linear_pop = totals(&[
        ("(Intercept)", 6194.0),
        ("stypeH", 755.0),
        ("stypeM", 1018.0),
        ("api99", 3914069.0),
    ]);
    let raking_model = CalibrationModel {
        terms: vec![
            stype,
            Term::Factor {
                name: "sch.wide",
                factor: m[1].factor,
            },
        ],
        intercept: true,
    };
    let raking_pop = totals(&[
        ("(Intercept)", 6194.0),
        ("stypeH", 755.0),
        ("stypeM", 1018.0),
        ("sch.wideYes", 5122.0),
    ]);
    let cases = [
        (
            "ps",
            [
                642.31078821158223,
                26.934535367426029,
                3680892.945119048,
                473431.35677977849,
                6194.0,
                6193.9999999999936,
                6193.9999999999936,
            ],
        ),
        (
            "rake",
            [
                641.23024686220879,
                26.873474236089464,
                3647300.0313143106,
                463510.85956667759,
                6194.0,
                6193.9999999999973,
                6194.0000000000009,
            ],
        ),
        (
            "lin",
            [
                665.30907116577976,
                3.9428544837676145,
                3638487.2041318817,
                478748.86392581777,
                6194.0000000000027,
                6194.0000000000027,
                6194.0,
            ],
        ),
        (
            "raking",
            [
                641.23032092412427,
                26.873980438303629,
                3647280.1488776961,
                463582.1828199256,
                6194.0000007535909,
                6194.0000005811726,
                6194.0000005749271,
            ],
        ),
    ];
    let api00 = a.data.num("api00");
    let enroll = a.data.num("enroll");
    for (label, want) in cases {
        let cal = match label {
            "ps" => post_stratify_replicates(&a.pw, &jk1, &m[0], false),
            "rake" => rake_replicates(&a.pw, &jk1, &m, RakeControl::default()),
            "lin" => calibrate_replicates(
                &a.pw,
                &jk1,
                &linear_model,
                &linear_pop,
                &CalibrateOptions::new(CalFun::Linear),
            ),
            _ => calibrate_replicates(
                &a.pw,
                &jk1,
                &raking_model,
                &raking_pop,
                &CalibrateOptions::new(CalFun::Raking),
            ),
        }
        .unwrap();
        let set = &cal.replicates;
        let ones = vec![1.0; a.pw.len()];
        let sum = |w: &[f64], y: &[f64]| w.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        let mean = sum(&cal.weights, &api00) / sum(&cal.weights, &ones);
        let num = set.replicate_totals(&api00).unwrap();
        let den = set.replicate_totals(&ones).unwrap();
        let reps: Vec<Vec<f64>> = num.iter().zip(&den).map(|(a, b)| vec![a / b]).collect();
        let mean_se = replicate_vcov(&[mean], &reps, set).unwrap().vcov[0][0].sqrt();
        let total = sum(&cal.weights, &enroll);
        let reps: Vec<Vec<f64>> = set
            .replicate_totals(&enroll)
            .unwrap()
            .into_iter()
            .map(|t| vec![t])
            .collect();
        let total_se = replicate_vcov(&[total], &reps, set).unwrap().vcov[0][0].sqrt();
        let w1: f64 = set.replicate_weights(0).unwrap().iter().sum();
        let w15: f64 = set.replicate_weights(14).unwrap().iter().sum();
        let got = [
            mean,
            mean_se,
            total,
            total_se,
            cal.weights.iter().sum(),
            w1,
            w15,
        ];
        assert!(
            max_rel_diff(&got, &want) < 1e-12,
            "{label}: {got:?} vs {want:?}"
        );
    }
}
