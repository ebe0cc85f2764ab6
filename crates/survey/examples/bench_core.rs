//! Timing of the statistics core alone (no file reading) on a generated design of 1,000,000 rows, 500 strata and
//! 10,000 PSUs: design build, mean + SE overall, mean by a 20-level domain, svyciprop logit (overall and by
//! domain), a median with its Woodruff interval, a JKn design (10,000 replicates), a supplied 80-replicate design
//! and a raked design. Numbers vary with machine load; run it alone.
//! `cargo run --release -p dh-survey --example bench_core`

// A benchmark program, not library code: a failed step ends it with its message.
#![allow(clippy::expect_used)]

use dh_survey::{
    CipropMethod, DesignSpec, DomainSpec, Factor, LonelyPsu, Options, SurveyDesign, Variable,
    WeightSpec,
};
use std::time::Instant;

fn main() {
    let n = 1_000_000usize;
    let (n_strata, n_psu) = (500u32, 10_000u32);
    // deterministic pseudo-random numbers (xorshift)
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let psu: Vec<u32> = (0..n)
        .map(|i| (i as u64 * n_psu as u64 / n as u64) as u32)
        .collect();
    let strata: Vec<u32> = psu.iter().map(|p| p / (n_psu / n_strata)).collect();
    let strata_labels: Vec<String> = (0..n_strata).map(|s| format!("s{s}")).collect();
    let weights: Vec<f64> = (0..n).map(|_| 50.0 + 100.0 * next()).collect();
    let x: Vec<f64> = (0..n).map(|_| 100.0 * next()).collect();
    let y: Vec<f64> = (0..n)
        .map(|_| if next() < 0.3 { 1.0 } else { 0.0 })
        .collect();
    let dom: Vec<u32> = (0..n).map(|_| (next() * 20.0) as u32).collect();
    let dom_labels: Vec<String> = (0..20).map(|d| format!("d{d}")).collect();

    let t = Instant::now();
    let spec = DesignSpec {
        ids: vec![&psu],
        strata: Some(Factor {
            codes: &strata,
            labels: &strata_labels,
        }),
        fpc: vec![],
        weights: WeightSpec::Weights(&weights),
        nest: true,
        lonely_psu: LonelyPsu::Fail,
    };
    let design = SurveyDesign::taylor(&spec).expect("design");
    let t_design = t.elapsed();
    let opts = Options::default();
    let xv = Variable::Numeric {
        name: "x",
        values: &x,
    };
    let yv = Variable::Numeric {
        name: "y",
        values: &y,
    };

    let t = Instant::now();
    let overall = design
        .mean(&xv, &DomainSpec::default(), &opts)
        .expect("mean");
    let t_mean = t.elapsed();
    let by = DomainSpec {
        subset: None,
        by: vec![Factor {
            codes: &dom,
            labels: &dom_labels,
        }],
    };
    let t = Instant::now();
    let by_dom = design.mean(&xv, &by, &opts).expect("by");
    let t_by = t.elapsed();
    let t = Instant::now();
    let ci = design
        .ciprop(&yv, CipropMethod::Logit, &DomainSpec::default(), &opts)
        .expect("ciprop");
    let t_ci = t.elapsed();
    // supplied replicate weights: 80 half-sample replicates (PSU multiplier 0 or 2), analysis weights 80 x 1M
    let t = Instant::now();
    let mut flip = 0x2545_f491_4f6c_dd1du64;
    let analysis: Vec<Vec<f64>> = (0..80)
        .map(|_| {
            let mult: Vec<f64> = (0..n_psu)
                .map(|_| {
                    flip ^= flip << 13;
                    flip ^= flip >> 7;
                    flip ^= flip << 17;
                    if flip & 1 == 0 { 0.0 } else { 2.0 }
                })
                .collect();
            psu.iter()
                .zip(&weights)
                .map(|(&p, &w)| w * mult[p as usize])
                .collect()
        })
        .collect();
    let t_gen = t.elapsed();
    let t = Instant::now();
    let reps = dh_survey::ReplicateWeights {
        analysis,
        scale: 1.0 / 80.0,
        rscales: vec![1.0; 80],
        mse: false,
    };
    let rep_design =
        SurveyDesign::replicate(weights.clone(), reps, None).expect("replicate design");
    let t_rep_build = t.elapsed();
    let t = Instant::now();
    let rep_by = rep_design.mean(&xv, &by, &opts).expect("replicate by");
    let t_rep_by = t.elapsed();
    // JKn built from the design: one replicate per PSU (10,000), R's compressed multipliers
    let t = Instant::now();
    let strata_usize: Vec<usize> = strata.iter().map(|&s| s as usize).collect();
    let psu_usize: Vec<usize> = psu.iter().map(|&p| p as usize).collect();
    let cols = dh_survey::replicate::DesignColumns {
        weights: &weights,
        strata: Some(&strata_usize),
        stratum_labels: None,
        psu: &psu_usize,
        fpc: None,
    };
    let jkn_opts = dh_survey::replicate::ReplicateOptions {
        rep_type: dh_survey::replicate::RepType::Jkn,
        lonely_psu: LonelyPsu::Fail,
        mse: false,
    };
    let jkn_set = dh_survey::replicate::build_replicates(&cols, &jkn_opts).expect("jkn");
    let jkn = SurveyDesign::with_replicates(weights.clone(), jkn_set).expect("jkn design");
    let t_jkn_build = t.elapsed();
    let t = Instant::now();
    let jkn_by = jkn.mean(&xv, &by, &opts).expect("jkn by");
    let t_jkn_by = t.elapsed();
    println!(
        "JKn (10,000 replicates): build incl. degf {:?} (degf {}), mean by 20 domains {:?} (se {})",
        t_jkn_build,
        jkn.degf(),
        t_jkn_by,
        jkn_by[0].se
    );
    let t = Instant::now();
    let ci_by = design
        .ciprop(&yv, CipropMethod::Logit, &by, &opts)
        .expect("ciprop by");
    let t_ci_by = t.elapsed();
    let t = Instant::now();
    let med = design
        .quantile(
            &xv,
            &[0.5],
            dh_survey::QuantileRule::Math,
            dh_survey::QuantileInterval::Mean,
            &DomainSpec::default(),
            &opts,
        )
        .expect("median");
    let t_med = t.elapsed();
    println!(
        "ciprop logit by 20 domains {:?} (first {})",
        t_ci_by, ci_by[0].estimate
    );
    println!(
        "median with Woodruff interval {:?} ({} [{}, {}])",
        t_med, med[0].estimate, med[0].ci_lower, med[0].ci_upper
    );
    // calibrated (raked on two margins, R's default control), mean by 20 domains
    let t = Instant::now();
    let sex: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
    let sex_labels: Vec<String> = vec!["F".into(), "M".into()];
    let sex_totals = vec![6.0e7, 4.0e7];
    let dom_totals: Vec<f64> = (0..20).map(|_| 5.0e6).collect();
    let margins = [
        dh_survey::calibrate::FactorMargin {
            variable: "sex",
            factor: Factor {
                codes: &sex,
                labels: &sex_labels,
            },
            levels: &sex_labels,
            totals: &sex_totals,
        },
        dh_survey::calibrate::FactorMargin {
            variable: "dom",
            factor: Factor {
                codes: &dom,
                labels: &dom_labels,
            },
            levels: &dom_labels,
            totals: &dom_totals,
        },
    ];
    let raked = dh_survey::calibrate::rake(
        &weights,
        &margins,
        dh_survey::calibrate::RakeControl::default(),
    )
    .expect("rake");
    let base = design.taylor_design().expect("taylor").clone();
    let cal = SurveyDesign::calibrated(&base, raked.weights, Box::new(raked.calibration))
        .expect("calibrated");
    let t_cal_build = t.elapsed();
    let t = Instant::now();
    let cal_by = cal.mean(&xv, &by, &opts).expect("calibrated by");
    let t_cal_by = t.elapsed();
    println!(
        "raked design build {:?}, mean by 20 domains {:?} (se {})",
        t_cal_build, t_cal_by, cal_by[0].se
    );
    println!("design build {:?}", t_design);
    println!(
        "replicate design: 80 x 1M weights generated {:?}, build incl. degf {:?} (degf {}), mean by 20 domains {:?} (se {})",
        t_gen,
        t_rep_build,
        rep_design.degf(),
        t_rep_by,
        rep_by[0].se
    );
    println!(
        "mean overall {:?}  ({} se {})",
        t_mean, overall[0].estimate, overall[0].se
    );
    println!(
        "mean by 20 domains {:?}  (first {} se {})",
        t_by, by_dom[0].estimate, by_dom[0].se
    );
    println!(
        "ciprop logit {:?}  ({} [{}, {}])",
        t_ci, ci[0].estimate, ci[0].ci_lower, ci[0].ci_upper
    );
}
