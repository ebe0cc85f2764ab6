//! Timing of calibration and replicate-weight construction on a generated design (not a test):
//! `cargo run --release -p dh-survey --example bench_calibrate_replicate [rows]`.
//! 1,000,000 rows by default, 500 strata x 2 PSUs (BRR) or 500 x 20 PSUs (JKn), margins of 2 / 6 / 5 levels.

// A benchmark program, not library code: a failed step ends it with its message.
#![allow(clippy::expect_used)]

use std::time::Instant;

use dh_survey::LonelyPsu;
use dh_survey::calibrate::{
    CalFun, CalibrateOptions, CalibrationModel, FactorMargin, RakeControl, Term, calibrate,
    calibrate_to_margins, post_stratify, rake,
};
use dh_survey::design::Factor;
use dh_survey::replicate::{DesignColumns, RepType, ReplicateOptions, build_replicates};

/// Deterministic generator (64-bit LCG, top bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    println!("{label:<48} {:>9.3} s", start.elapsed().as_secs_f64());
    out
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = Lcg(20241128);
    let weights: Vec<f64> = (0..n).map(|_| 50.0 + 100.0 * rng.next()).collect();
    let sex: Vec<u32> = (0..n).map(|_| u32::from(rng.next() < 0.5)).collect();
    let age: Vec<u32> = (0..n).map(|_| (rng.next() * 6.0) as u32).collect();
    let region: Vec<u32> = (0..n).map(|_| (rng.next() * 5.0) as u32).collect();
    let score: Vec<f64> = (0..n).map(|_| 10.0 * rng.next()).collect();
    let sex_labels = vec!["F".to_string(), "M".to_string()];
    let age_labels: Vec<String> = (12..18).map(|a| a.to_string()).collect();
    let region_labels: Vec<String> = (1..=5).map(|r| format!("r{r}")).collect();
    let total: f64 = weights.iter().sum::<f64>() * 1.07;
    let shares = |k: usize, tilt: f64| -> Vec<f64> {
        let raw: Vec<f64> = (0..k).map(|i| 1.0 + tilt * i as f64).collect();
        let s: f64 = raw.iter().sum();
        raw.iter().map(|r| total * r / s).collect()
    };
    let sex_totals = shares(2, 0.1);
    let age_totals = shares(6, 0.05);
    let region_totals = shares(5, -0.05);
    let margins = [
        FactorMargin {
            variable: "sex",
            factor: Factor {
                codes: &sex,
                labels: &sex_labels,
            },
            levels: &sex_labels,
            totals: &sex_totals,
        },
        FactorMargin {
            variable: "age",
            factor: Factor {
                codes: &age,
                labels: &age_labels,
            },
            levels: &age_labels,
            totals: &age_totals,
        },
        FactorMargin {
            variable: "region",
            factor: Factor {
                codes: &region,
                labels: &region_labels,
            },
            levels: &region_labels,
            totals: &region_totals,
        },
    ];
    println!("{n} rows");
    let ps = time("postStratify (6 levels)", || {
        post_stratify(&weights, &margins[1], false).expect("ps")
    });
    let raked = time("rake, 3 margins, R default control", || {
        rake(&weights, &margins, RakeControl::default()).expect("rake")
    });
    time("rake, 3 margins, converged", || {
        rake(&weights, &margins, RakeControl::converged()).expect("rake")
    });
    let model = CalibrationModel {
        terms: vec![
            Term::Factor {
                name: "sex",
                factor: margins[0].factor,
            },
            Term::Factor {
                name: "age",
                factor: margins[1].factor,
            },
            Term::Numeric {
                name: "score",
                values: &score,
            },
        ],
        intercept: true,
    };
    let score_total = weights.iter().zip(&score).map(|(w, s)| w * s).sum::<f64>() * 1.05;
    let mut pop = vec![
        ("(Intercept)".to_string(), total),
        ("sexM".to_string(), sex_totals[1]),
    ];
    pop.extend(
        age_labels
            .iter()
            .zip(&age_totals)
            .skip(1)
            .map(|(l, t)| (format!("age{l}"), *t)),
    );
    pop.push(("score".to_string(), score_total));
    let greg = time("calibrate linear (8 columns)", || {
        calibrate(
            &weights,
            &model,
            &pop,
            &CalibrateOptions::new(CalFun::Linear),
        )
        .expect("linear")
    });
    time("calibrate raking (3 one-way margins)", || {
        calibrate_to_margins(&weights, &margins, &CalibrateOptions::new(CalFun::Raking))
            .expect("raking")
    });
    for (label, cal) in [
        ("postStratify", &ps),
        ("rake (10 sweeps)", &raked),
        ("linear", &greg),
    ] {
        let mut z: Vec<f64> = score.iter().zip(&cal.weights).map(|(s, w)| s * w).collect();
        time(&format!("residualise influence values: {label}"), || {
            cal.calibration.residualise_values(&mut z)
        });
    }
    for (psus_per_stratum, rep_type, label) in [
        (2usize, RepType::Brr, "BRR, 500 strata x 2 PSUs"),
        (20, RepType::Jkn, "JKn, 500 strata x 20 PSUs"),
    ] {
        let strata: Vec<usize> = (0..n).map(|i| i * 500 / n).collect();
        let psu: Vec<usize> = (0..n)
            .map(|i| strata[i] * psus_per_stratum + i % psus_per_stratum)
            .collect();
        let columns = DesignColumns {
            weights: &weights,
            strata: Some(&strata),
            stratum_labels: None,
            psu: &psu,
            fpc: None,
        };
        let options = ReplicateOptions {
            rep_type,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        let set = time(&format!("build {label}"), || {
            build_replicates(&columns, &options).expect("replicates")
        });
        time(
            &format!(
                "  replicate totals of one variable ({} replicates)",
                set.n_replicates()
            ),
            || set.replicate_totals(&score).expect("totals"),
        );
    }
}
