//! Tests of margins, diagnostics, trimming and raking (margins reproduced to 1e-8), and of the non-response
//! adjustment (classes, sums, recovery, variance against a numerical linearisation and R's svycontrast).

use dh_config::country::{Population, PopulationCell};

use super::*;

fn population() -> Population {
    let mut cells = Vec::new();
    let mut count = 1000.0;
    for sex in ["male", "female"] {
        for age_band in ["12-13", "14-15", "16-17"] {
            for urban_rural in ["urban", "rural"] {
                cells.push(PopulationCell {
                    sex: sex.into(),
                    age_band: age_band.into(),
                    urban_rural: urban_rural.into(),
                    count,
                });
                count += 250.0;
            }
        }
    }
    Population {
        source: "test".into(),
        population_12_17: 1e5,
        internet_share: 0.5,
        cells,
    }
}

/// A deterministic sample of `n` rows: labels per margin and positive base weights.
fn sample(n: usize) -> (Vec<f64>, Vec<Vec<Option<&'static str>>>) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let mut sex = Vec::new();
    let mut age = Vec::new();
    let mut ur = Vec::new();
    let mut w = Vec::new();
    for _ in 0..n {
        sex.push(Some(["male", "female"][next() % 2]));
        age.push(Some(["12-13", "14-15", "16-17"][next() % 3]));
        ur.push(Some(["urban", "rural", "rural"][next() % 3]));
        w.push(5.0 + (next() % 100) as f64 / 4.0);
    }
    (w, vec![sex, age, ur])
}

#[test]
fn margins_sum_the_cells() {
    let m = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m[0].levels, vec!["male".to_string(), "female".to_string()]);
    // male cells: 1000, 1250, ..., 2250 -> 9750; female: 2500 ... 3750 -> 18750.
    assert_eq!(m[0].totals, vec![9750.0, 18750.0]);
    assert_eq!(
        m[1].levels,
        vec![
            "12-13".to_string(),
            "14-15".to_string(),
            "16-17".to_string()
        ]
    );
    assert_eq!(
        m[1].totals,
        vec![
            1000.0 + 1250.0 + 2500.0 + 2750.0,
            1500.0 + 1750.0 + 3000.0 + 3250.0,
            2000.0 + 2250.0 + 3500.0 + 3750.0
        ]
    );
    assert_eq!(
        m[2].totals,
        vec![
            1000.0 + 1500.0 + 2000.0 + 2500.0 + 3000.0 + 3500.0,
            1250.0 + 1750.0 + 2250.0 + 2750.0 + 3250.0 + 3750.0
        ]
    );
    assert!(m.iter().all(|x| (x.total() - 28500.0).abs() < 1e-9));
}

#[test]
fn bad_population_cells() {
    let mut p = population();
    p.cells[3].count = 0.0;
    assert!(matches!(
        population_margins(&p),
        Err(WeightingError::BadCount { cell: 4, .. })
    ));
    p.cells.clear();
    assert_eq!(population_margins(&p), Err(WeightingError::NoCells));
}

#[test]
fn diagnostics_of_known_weights() {
    let d = diagnostics(&[2.0, 2.0, 2.0]);
    assert_eq!(
        (d.n, d.sum, d.min, d.max, d.ratio, d.kish_deff),
        (3, 6.0, 2.0, 2.0, 1.0, 1.0)
    );
    let d = diagnostics(&[1.0, 3.0]);
    assert_eq!((d.ratio, d.kish_deff), (3.0, 1.25));
    assert!(diagnostics(&[]).kish_deff.is_nan());
}

#[test]
fn trimming_keeps_the_sum_and_respects_the_cap() {
    let w = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 31.0];
    let (t, count) = trim_to_cap(&w, 2.0).unwrap_or_else(|e| panic!("{e}"));
    let sum: f64 = t.iter().sum();
    assert!((sum - 40.0).abs() < 1e-12);
    // cap = 2 x mean 4 = 8: the big weight is capped, the excess 23 is spread over the nine others.
    assert_eq!(count, 1);
    assert!((t[9] - 8.0).abs() < 1e-12);
    assert!(t[..9].iter().all(|x| (x - 32.0 / 9.0).abs() < 1e-12));
    let (same, none) = trim_to_cap(&[1.0, 2.0], 5.0).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((same, none), (vec![1.0, 2.0], 0));
    assert_eq!(trim_to_cap(&w, 1.0), Err(WeightingError::BadCap(1.0)));
    assert!(matches!(
        trim_to_cap(&[1.0, -1.0], 3.0),
        Err(WeightingError::BadWeight(_))
    ));
}

#[test]
fn raking_reproduces_margins_to_1e8() {
    let margins = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    let (base, labels) = sample(600);
    let r = rake_to_margins(&base, &labels, &margins, &WeightingOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.converged, "iterations {}", r.iterations);
    assert!(r.max_margin_error < 1e-8, "{}", r.max_margin_error);
    // Check independently of margin_error: weighted counts per level.
    for (m, l) in margins.iter().zip(&labels) {
        for (level, total) in m.levels.iter().zip(&m.totals) {
            let s: f64 = r
                .weights
                .iter()
                .zip(l)
                .filter(|(_, x)| x.as_deref() == Some(level.as_str()))
                .map(|(w, _)| w)
                .sum();
            assert!(
                (s - total).abs() / total < 1e-8,
                "{} {level}: {s} vs {total}",
                m.variable
            );
        }
    }
    assert_eq!((r.rounds, r.trimmed), (1, 0));
    assert_eq!(r.before.n, 600);
    assert!((r.after.sum - 28500.0).abs() < 1e-6);
    assert!(r.after.kish_deff >= 1.0);
}

#[test]
fn raking_with_trimming_ends_on_the_margins() {
    let margins = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    let (mut base, labels) = sample(600);
    base[0] = 400.0;
    base[1] = 300.0;
    let untrimmed = rake_to_margins(&base, &labels, &margins, &WeightingOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let opts = WeightingOptions {
        trim_cap: Some(3.0),
        ..WeightingOptions::default()
    };
    let r = rake_to_margins(&base, &labels, &margins, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        untrimmed.after.max / (untrimmed.after.sum / 600.0) > 3.0,
        "the test needs a weight above the cap"
    );
    assert!(r.rounds > 1 && r.trimmed > 0);
    assert!(r.max_margin_error < 1e-8, "{}", r.max_margin_error);
    assert!(r.max_over_cap < 1.05, "{}", r.max_over_cap);
    assert!(r.after.kish_deff < untrimmed.after.kish_deff);
}

#[test]
fn rows_outside_the_population_levels_are_an_error() {
    let margins = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    let (base, mut labels) = sample(50);
    labels[0][7] = None;
    labels[0][9] = Some("other");
    let e = rake_to_margins(&base, &labels, &margins, &WeightingOptions::default()).err();
    assert_eq!(
        e,
        Some(WeightingError::UnplacedRows {
            variable: "sex".into(),
            count: 2,
            first_row: 8,
            value: None
        })
    );
    let e = rake_to_margins(&base[..49], &labels, &margins, &WeightingOptions::default()).err();
    assert!(matches!(e, Some(WeightingError::Length { .. })), "{e:?}");
}

/// Rows of (urban/rural, age band, rows, respondents): the classes example of `nonresponse_classes`' doc.
const NR_CELLS: [(&str, &str, usize, usize); 6] = [
    ("urban", "12-13", 10, 8),
    ("urban", "14-15", 10, 7),
    ("urban", "16-17", 40, 30),
    ("rural", "12-13", 20, 12),
    ("rural", "14-15", 6, 3),
    ("rural", "16-17", 4, 2),
];

type NrRows = (
    Vec<Option<&'static str>>,
    Vec<Option<&'static str>>,
    Vec<bool>,
);

fn nr_rows() -> NrRows {
    let (mut ur, mut age, mut resp) = (Vec::new(), Vec::new(), Vec::new());
    for (u, a, rows, responding) in NR_CELLS {
        for i in 0..rows {
            ur.push(Some(u));
            age.push(Some(a));
            resp.push(i < responding);
        }
    }
    (ur, age, resp)
}

#[test]
fn nonresponse_classes_pool_small_cells_by_dropping_the_last_column() {
    let (ur, age, resp) = nr_rows();
    let (class_of_row, labels) = nonresponse_classes(&[ur.clone(), age.clone()], &resp, 10);
    // Cells with 10+ respondents are classes; urban 12-13 and 14-15 (8 + 7) pool into "urban; (pooled)"; the
    // rural 14-17 rest (5 respondents) is too small even pooled and joins the class with most respondents.
    assert_eq!(
        labels,
        vec!["rural; 12-13", "urban; 16-17", "urban; (pooled)"]
    );
    let class_of = |u: &str, a: &str| {
        let i = (0..ur.len())
            .position(|i| ur[i] == Some(u) && age[i] == Some(a))
            .unwrap_or_else(|| panic!("{u} {a}"));
        labels[class_of_row[i] as usize].as_str()
    };
    assert_eq!(class_of("urban", "12-13"), "urban; (pooled)");
    assert_eq!(class_of("urban", "14-15"), "urban; (pooled)");
    assert_eq!(class_of("rural", "12-13"), "rural; 12-13");
    assert_eq!(class_of("rural", "14-15"), "urban; 16-17");
    assert_eq!(class_of("rural", "16-17"), "urban; 16-17");
    // Every row has a class of its own cell's column levels or a pool; with min 1 every cell is a class.
    let (_, labels) = nonresponse_classes(&[ur.clone(), age.clone()], &resp, 1);
    assert_eq!(labels.len(), 6);
    // Nobody responded: one class, factor 0, every weight 0 (the caregiver estimates are then suppressed).
    let none = vec![false; resp.len()];
    let w = vec![2.0; resp.len()];
    let a = adjust_for_nonresponse(&w, &none, &[ur, age], 10).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.classes.len(), 1);
    assert_eq!(
        (a.classes[0].label.as_str(), a.classes[0].factor),
        ("all (pooled)", 0.0)
    );
    assert!(a.weights.iter().all(|w| *w == 0.0));
}

#[test]
fn nonresponse_adjustment_keeps_each_class_total_on_its_respondents() {
    let (ur, age, resp) = nr_rows();
    let w: Vec<f64> = (0..resp.len()).map(|i| 1.0 + (i % 7) as f64).collect();
    let a = adjust_for_nonresponse(&w, &resp, &[ur, age], 10).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.classes.len(), 3);
    for (c, class) in a.classes.iter().enumerate() {
        let rows: Vec<usize> = (0..w.len())
            .filter(|&i| a.class_of_row[i] as usize == c)
            .collect();
        let all: f64 = rows.iter().map(|&i| w[i]).sum();
        let responding: f64 = rows.iter().filter(|&&i| resp[i]).map(|&i| w[i]).sum();
        let adjusted: f64 = rows.iter().map(|&i| a.weights[i]).sum();
        assert_eq!(class.rows, rows.len());
        assert_eq!(class.respondents, rows.iter().filter(|&&i| resp[i]).count());
        assert!((class.weight_all - all).abs() < 1e-9);
        assert!((class.factor - all / responding).abs() < 1e-12);
        assert!((adjusted - all).abs() < 1e-9 * all, "{class:?}");
    }
    for (adjusted, responded) in a.weights.iter().zip(&resp) {
        assert_eq!(*adjusted == 0.0, !responded);
    }
    let total: f64 = a.weights.iter().sum();
    assert!((total - w.iter().sum::<f64>()).abs() < 1e-9);
    // Lengths are checked.
    assert!(matches!(
        adjust_for_nonresponse(&w, &resp[1..], &[], 10),
        Err(WeightingError::Length { .. })
    ));
}

/// 2 strata x 4 PSUs x 8 rows; class = urban (first 5 rows of a PSU) / rural; y and response differ by class.
struct NrDesign {
    strata: Vec<u32>,
    psu: Vec<u32>,
    w: Vec<f64>,
    class: Vec<Option<&'static str>>,
    y: Vec<f64>,
    resp: Vec<bool>,
}

fn nr_design() -> NrDesign {
    let mut d = NrDesign {
        strata: vec![],
        psu: vec![],
        w: vec![],
        class: vec![],
        y: vec![],
        resp: vec![],
    };
    for h in 0..2u32 {
        for p in 0..4u32 {
            for j in 0..8u32 {
                let urban = j < 5;
                d.strata.push(h);
                d.psu.push(h * 4 + p);
                d.w.push(10.0 + f64::from((h * 13 + p * 5 + j * 3) % 9));
                d.class.push(Some(if urban { "urban" } else { "rural" }));
                // urban: y = 1 for 4 of 5 rows, rural: 1 of 3 (varying with the PSU)
                d.y.push(f64::from(u8::from(if urban {
                    (j + p) % 5 != 0
                } else {
                    (j + p) % 3 == 0
                })));
                // urban: 4 of 5 respond; rural: 1 or 2 of 3
                d.resp.push(if urban {
                    (j + h) % 5 != 4
                } else {
                    (j + p) % 3 != 1 || p % 2 == 0 && j == 5
                });
            }
        }
    }
    d
}

fn taylor(d: &NrDesign) -> dh_survey::SurveyDesign {
    let labels = vec!["a".to_string(), "b".to_string()];
    let spec = dh_survey::DesignSpec {
        ids: vec![&d.psu],
        strata: Some(Factor {
            codes: &d.strata,
            labels: &labels,
        }),
        fpc: vec![],
        weights: dh_survey::WeightSpec::Weights(&d.w),
        nest: true,
        lonely_psu: dh_survey::LonelyPsu::Adjust,
    };
    dh_survey::SurveyDesign::taylor(&spec).unwrap_or_else(|e| panic!("{e}"))
}

fn adjusted(d: &NrDesign, w: &[f64]) -> (NonresponseAdjusted, dh_survey::SurveyDesign) {
    let a = adjust_for_nonresponse(w, &d.resp, std::slice::from_ref(&d.class), 1)
        .unwrap_or_else(|e| panic!("{e}"));
    let base = taylor(d);
    let base = base.taylor_design().unwrap_or_else(|| panic!("taylor"));
    let step = NonresponseCalibration::new(w, &a, Calibration::default());
    let design = dh_survey::SurveyDesign::calibrated(base, a.weights.clone(), Box::new(step))
        .unwrap_or_else(|e| panic!("{e}"));
    (a, design)
}

fn mean_of(design: &dh_survey::SurveyDesign, y: &[f64], subset: &[bool]) -> dh_survey::Estimate {
    let est = design
        .mean(
            &dh_survey::Variable::Numeric {
                name: "y",
                values: y,
            },
            &dh_survey::DomainSpec {
                subset: Some(subset),
                by: vec![],
            },
            &dh_survey::Options::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    est[0].clone()
}

/// 2 strata x 4 PSUs, each with 10 urban rows (y = 1 for 4 of every 5, all respond) and 6 rural rows (y = 1 for 1
/// of every 3, the first 3 respond): response differs by class and, within a class, is unrelated to y (the
/// respondents repeat the non-respondents' weights and answers).
fn classed_nonresponse() -> NrDesign {
    let mut d = NrDesign {
        strata: vec![],
        psu: vec![],
        w: vec![],
        class: vec![],
        y: vec![],
        resp: vec![],
    };
    for h in 0..2u32 {
        for p in 0..4u32 {
            let base = 10.0 + f64::from(h * 4 + p);
            for j in 0..16u32 {
                let urban = j < 10;
                let k = if urban { j % 5 } else { (j - 10) % 3 };
                d.strata.push(h);
                d.psu.push(h * 4 + p);
                d.w.push(base * (1.0 + 0.1 * f64::from(k)));
                d.class.push(Some(if urban { "urban" } else { "rural" }));
                d.y.push(f64::from(u8::from(if urban { k != 4 } else { k == 0 })));
                d.resp.push(urban || j < 13);
            }
        }
    }
    d
}

#[test]
fn nonresponse_adjustment_recovers_the_full_sample_estimate_when_response_differs_by_class() {
    let d = classed_nonresponse();
    let everyone = vec![true; d.w.len()];
    // What the child sample would give if every caregiver had answered.
    let full = mean_of(&taylor(&d), &d.y, &everyone);
    // Respondents only, unadjusted: the estimate before this adjustment (a domain of the child design), which
    // over-represents urban households (all respond) against rural ones (half respond).
    let unadjusted = mean_of(&taylor(&d), &d.y, &d.resp);
    let (a, design) = adjusted(&d, &d.w);
    let adjusted = mean_of(&design, &d.y, &d.resp);
    let factors: Vec<f64> = a.classes.iter().map(|c| c.factor).collect();
    assert!(
        (factors[0] - 2.0).abs() < 1e-12 && (factors[1] - 1.0).abs() < 1e-12,
        "{factors:?}"
    );
    assert!(
        (adjusted.estimate - full.estimate).abs() < 1e-12,
        "full {}, adjusted {}",
        full.estimate,
        adjusted.estimate
    );
    assert!(
        unadjusted.estimate - full.estimate > 0.05,
        "full {}, unadjusted {}",
        full.estimate,
        unadjusted.estimate
    );
    // The adjusted weights still count every child: their sum over respondents is the full weight total.
    assert!((adjusted.n_weighted - full.n_weighted).abs() < 1e-9 * full.n_weighted);
    assert!(unadjusted.n_weighted < 0.9 * full.n_weighted);
}

#[test]
fn nonresponse_variance_equals_the_numerical_linearisation() {
    let d = nr_design();
    let (_, design) = adjusted(&d, &d.w);
    let got = mean_of(&design, &d.y, &d.resp);
    // The adjusted estimator as a function of the (raked) weights, and its influence values w_i dp/dw_i by
    // central differences: the classes depend only on who responded, so they stay fixed.
    let estimator = |w: &[f64]| {
        let a = adjust_for_nonresponse(w, &d.resp, std::slice::from_ref(&d.class), 1)
            .unwrap_or_else(|e| panic!("{e}"));
        let num: f64 = (0..w.len()).map(|i| a.weights[i] * d.y[i]).sum();
        num / a.weights.iter().sum::<f64>()
    };
    assert!((estimator(&d.w) - got.estimate).abs() < 1e-12);
    let u: Vec<f64> = (0..d.w.len())
        .map(|i| {
            let h = 1e-6 * d.w[i];
            let mut up = d.w.clone();
            up[i] += h;
            let mut down = d.w.clone();
            down[i] -= h;
            (estimator(&up) - estimator(&down)) / (2.0 * h)
        })
        .collect();
    // Var(p) = Var(sum_i w_i u_i) on the child design.
    let total = taylor(&d)
        .total(
            &dh_survey::Variable::Numeric {
                name: "u",
                values: &u,
            },
            &dh_survey::DomainSpec::default(),
            &dh_survey::Options::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        (got.se - total[0].se).abs() < 1e-6 * total[0].se,
        "adjusted design SE {} vs linearisation {}",
        got.se,
        total[0].se
    );
    assert!(got.se > 0.0);
}

/// R `survey` 4.1.1 on the rows of [`nr_design`] (written out as `stratum, psu, w, cls, y, resp`): the adjusted
/// estimator as a function of design totals, with its delta-method variance (`svycontrast`):
///
/// ```r
/// options(survey.lonely.psu = "adjust")
/// for (c in c("urban", "rural")) { ind <- as.numeric(d$cls == c)
///   d[[paste0("t1_", c)]] <- ind * d$resp * d$y; d[[paste0("t3_", c)]] <- ind * d$resp
///   d[[paste0("t4_", c)]] <- ind }
/// des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = d)
/// tot <- svytotal(~t1_urban + t3_urban + t4_urban + t1_rural + t3_rural + t4_rural, des)
/// svycontrast(tot, quote((t4_urban / t3_urban * t1_urban + t4_rural / t3_rural * t1_rural) /
///                        (t4_urban + t4_rural)))   # 0.679323699882754, SE 0.0288469060673871
/// svymean(~y, subset(des, resp == 1))              # unadjusted: 0.684736091298145, SE 0.0287086955039873
/// ```
#[test]
fn nonresponse_estimate_and_se_equal_r_svycontrast() {
    let d = nr_design();
    let (_, design) = adjusted(&d, &d.w);
    let got = mean_of(&design, &d.y, &d.resp);
    assert!(
        (got.estimate - 0.679323699882754).abs() < 1e-13,
        "{}",
        got.estimate
    );
    assert!((got.se - 0.0288469060673871).abs() < 1e-12, "{}", got.se);
    let unadjusted = mean_of(&taylor(&d), &d.y, &d.resp);
    assert!((unadjusted.estimate - 0.684736091298145).abs() < 1e-13);
    assert!((unadjusted.se - 0.0287086955039873).abs() < 1e-12);
}

#[test]
fn nonresponse_residualisation_of_a_domain_visits_its_rows_and_keeps_the_bits() {
    use dh_survey::Residualise;
    let margins = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    let (base, labels) = sample(600);
    let raked = rake_to_margins(&base, &labels, &margins, &WeightingOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let respondent: Vec<bool> = (0..600).map(|i| i % 7 != 3 && i % 11 != 5).collect();
    let classes = vec![labels[2].clone(), labels[1].clone()];
    let adjusted = adjust_for_nonresponse(&raked.weights, &respondent, &classes, 5)
        .unwrap_or_else(|e| panic!("{e}"));
    let step = NonresponseCalibration::new(&raked.weights, &adjusted, raked.calibration.clone());
    // a domain's influence values: zero outside its rows and for its non-respondents
    let support: Vec<u32> = (0..600u32).filter(|i| i % 4 != 0).collect();
    let mut z0 = vec![0.0; 600];
    for &i in &support {
        let i = i as usize;
        z0[i] = adjusted.weights[i] * (((i * 31) % 13) as f64 / 13.0 - 0.4) / 1e4;
    }
    let (mut dense, mut supported) = (z0.clone(), z0.clone());
    step.residualise(&mut dense);
    step.residualise_supported(&mut supported, &support);
    assert!(dense != z0);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&supported), bits(&dense));
}

/// A rake's variance record shared between designs gives what the record itself gives, bit for bit, through
/// every method of `Residualise` (the fast paths included).
#[test]
fn shared_calibration_passes_every_method_on_unchanged() {
    use dh_survey::Residualise;
    let margins = population_margins(&population()).unwrap_or_else(|e| panic!("{e}"));
    let (base, labels) = sample(600);
    let raked = rake_to_margins(&base, &labels, &margins, &WeightingOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let shared = SharedCalibration(raked.calibration.clone());
    let own: &Calibration = &raked.calibration;
    let support: Vec<u32> = (0..600u32).filter(|i| i % 3 != 0).collect();
    let mut z0 = vec![0.0; 600];
    for &i in &support {
        let i = i as usize;
        z0[i] = raked.weights[i] * (((i * 17) % 11) as f64 / 11.0 - 0.3);
    }
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let (mut a, mut b) = (z0.clone(), z0.clone());
    own.residualise(&mut a);
    shared.residualise(&mut b);
    assert!(a != z0);
    assert_eq!(bits(&a), bits(&b));
    let (mut a, mut b) = (z0.clone(), z0.clone());
    own.residualise_supported(&mut a, &support);
    shared.residualise_supported(&mut b, &support);
    assert_eq!(bits(&a), bits(&b));
    let units: Vec<u32> = (0..600u32).map(|i| i / 10).collect();
    let a = own.residual_unit_totals(&z0, &support, &units, 60);
    let b = shared.residual_unit_totals(&z0, &support, &units, 60);
    assert!(a.is_some());
    assert_eq!(a.map(|v| bits(&v)), b.map(|v| bits(&v)));
    // two disjoint domains (rows by parity) in one pass; with equal base weights the rows fall into few cells,
    // which the one-pass shortcut needs
    let raked = rake_to_margins(
        &[10.0; 600],
        &labels,
        &margins,
        &WeightingOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let shared = SharedCalibration(raked.calibration.clone());
    let own: &Calibration = &raked.calibration;
    let domain_of_row: Vec<u32> = (0..600u32).map(|i| i % 2).collect();
    let even: Vec<u32> = support.iter().copied().filter(|i| i % 2 == 0).collect();
    let odd: Vec<u32> = support.iter().copied().filter(|i| i % 2 == 1).collect();
    let supports = [even.as_slice(), odd.as_slice()];
    let a = own.residual_unit_totals_disjoint(&z0, &supports, &domain_of_row, (&units, 60));
    let b = shared.residual_unit_totals_disjoint(&z0, &supports, &domain_of_row, (&units, 60));
    assert!(a.is_some(), "the rake's record has the one-pass shortcut");
    let all_bits = |v: Vec<Vec<f64>>| v.iter().map(|d| bits(d)).collect::<Vec<_>>();
    assert_eq!(a.map(all_bits), b.map(all_bits));
    // one record, not a copy per design
    assert!(Arc::ptr_eq(&shared.0, &raked.calibration));
}
