//! Property test of every svyciprop method over many generated small domains with unequal weights, on Taylor
//! (one-pass path), calibrated (row path) and JKn replicate designs: the interval contains the estimate, lies in
//! [0, 1], and has positive width whenever the SE is positive.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dh_survey::calibrate::{FactorMargin, RakeControl, rake};
use dh_survey::replicate::{DesignColumns, RepType, ReplicateOptions, build_replicates};
use dh_survey::{
    CipropMethod, DesignSpec, DomainSpec, Estimate, Factor, LonelyPsu, Options, SurveyDesign,
    Variable, WeightSpec,
};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    fn unif(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One generated sample: strata x PSUs x rows, weights spread over two orders of magnitude, a 0/1 outcome with
/// a rare-ish prevalence, and a domain variable with two small domains and the rest.
struct Sample {
    stratum: Vec<u32>,
    psu: Vec<u32>,
    w: Vec<f64>,
    y: Vec<f64>,
    dom: Vec<u32>,
    sex: Vec<u32>,
}

fn sample(rng: &mut Rng) -> Sample {
    let n_strata = 2 + (rng.next() % 4) as u32;
    let psus_per = 2 + (rng.next() % 3) as u32;
    let rows_per = 2 + (rng.next() % 5) as usize;
    let prevalence = 0.05 + 0.4 * rng.unif();
    let small = 0.05 + 0.3 * rng.unif();
    let spread = 1.0 + 4.0 * rng.unif();
    let mut s = Sample {
        stratum: vec![],
        psu: vec![],
        w: vec![],
        y: vec![],
        dom: vec![],
        sex: vec![],
    };
    // rows outside the small domains (domain "rest"): in a calibrated design svyglm's prior weights are w over
    // the mean weight of all rows, large for a small domain, which made R's IRLS diverge
    let padding = (rng.next() % 40) as usize;
    for h in 0..n_strata {
        for p in 0..psus_per {
            for k in 0..rows_per + padding {
                s.stratum.push(h);
                s.psu.push(h * psus_per + p);
                s.w.push((spread * (rng.unif() * 2.0 - 1.0)).exp() * 10.0);
                s.y.push(f64::from(u8::from(rng.unif() < prevalence)));
                s.dom.push(if k >= rows_per {
                    2
                } else {
                    u32::from(rng.unif() < small)
                });
                s.sex.push((rng.next() % 2) as u32);
            }
        }
    }
    s
}

const METHODS: [CipropMethod; 6] = [
    CipropMethod::Logit,
    CipropMethod::Likelihood,
    CipropMethod::Beta,
    CipropMethod::Asin,
    CipropMethod::Mean,
    CipropMethod::Xlogit,
];

/// The invariants of one estimate; `Err` describes the first one broken.
fn check(e: &Estimate, method: CipropMethod) -> Result<(), String> {
    let (p, lo, hi) = (e.estimate, e.ci_lower, e.ci_upper);
    if e.n_unweighted == 0 || e.df.is_nan() || e.df <= 0.0 {
        return Ok(());
    }
    if !(lo <= p && p <= hi) {
        return Err(format!(
            "{method:?}: estimate {p} outside [{lo}, {hi}] ({e:?})"
        ));
    }
    if method != CipropMethod::Mean && !(0.0 <= lo && hi <= 1.0) {
        return Err(format!("{method:?}: [{lo}, {hi}] outside [0, 1] ({e:?})"));
    }
    if e.se > 0.0 && hi <= lo {
        return Err(format!("{method:?}: zero width with SE {} ({e:?})", e.se));
    }
    if e.se > 0.0 && p > 0.0 && p < 1.0 && !(lo < p && p < hi) {
        return Err(format!(
            "{method:?}: estimate {p} on a bound of [{lo}, {hi}] ({e:?})"
        ));
    }
    Ok(())
}

fn check_all(design: &SurveyDesign, s: &Sample, label: &str, failures: &mut Vec<String>) {
    let labels = vec!["a".to_string(), "b".to_string(), "rest".to_string()];
    let domains = DomainSpec {
        subset: None,
        by: vec![Factor {
            codes: &s.dom,
            labels: &labels,
        }],
    };
    let v = Variable::Numeric {
        name: "y",
        values: &s.y,
    };
    for method in METHODS {
        if method == CipropMethod::Likelihood && label == "jkn" {
            continue;
        }
        match design.ciprop(&v, method, &domains, &Options::default()) {
            Ok(est) => {
                for e in &est {
                    if let Err(msg) = check(e, method) {
                        failures.push(format!("{label}: {msg}"));
                    }
                }
            }
            Err(err) => failures.push(format!("{label}: {method:?}: error {err}")),
        }
    }
}

#[test]
fn every_method_contains_its_estimate_on_small_domains() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut failures = Vec::new();
    let strata_labels: Vec<String> = (0..8).map(|h| format!("s{h}")).collect();
    let sex_labels = vec!["F".to_string(), "M".to_string()];
    for _ in 0..300 {
        let s = sample(&mut rng);
        let spec = DesignSpec {
            ids: vec![&s.psu],
            strata: Some(Factor {
                codes: &s.stratum,
                labels: &strata_labels,
            }),
            fpc: vec![],
            weights: WeightSpec::Weights(&s.w),
            nest: true,
            lonely_psu: LonelyPsu::Fail,
        };
        let Ok(taylor) = SurveyDesign::taylor(&spec) else {
            continue;
        };
        check_all(&taylor, &s, "taylor", &mut failures);
        // raked to a sex margin: the row-level path
        let total: f64 = s.w.iter().sum();
        let margins = [FactorMargin {
            variable: "sex",
            factor: Factor {
                codes: &s.sex,
                labels: &sex_labels,
            },
            levels: &sex_labels,
            totals: &[0.4 * total, 0.6 * total],
        }];
        if let (Ok(raked), Some(base)) = (
            rake(&s.w, &margins, RakeControl::default()),
            taylor.taylor_design(),
        ) && let Ok(cal) =
            SurveyDesign::calibrated(base, raked.weights, Box::new(raked.calibration))
        {
            check_all(&cal, &s, "raked", &mut failures);
        }
        let strata: Vec<usize> = s.stratum.iter().map(|&h| h as usize).collect();
        let psu: Vec<usize> = s.psu.iter().map(|&p| p as usize).collect();
        let columns = DesignColumns {
            weights: &s.w,
            strata: Some(&strata),
            stratum_labels: None,
            psu: &psu,
            fpc: None,
        };
        let options = ReplicateOptions {
            rep_type: RepType::Jkn,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        if let Ok(set) = build_replicates(&columns, &options)
            && let Ok(rep) = SurveyDesign::with_replicates(s.w.clone(), set)
        {
            check_all(&rep, &s, "jkn", &mut failures);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures, first ones:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
