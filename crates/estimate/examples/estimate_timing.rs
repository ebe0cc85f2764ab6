//! Times `dh_estimate::estimate` in process on the benchmark design (the CSV `dh bench estimate` writes),
//! mean of y, mean of y by domain, logit interval of b.
//! `cargo run --release -p dh-estimate --example estimate_timing -- FILE.csv`

use std::path::PathBuf;
use std::time::Instant;

use dh_estimate::request::{
    Analysis, CipropMethod, DesignOptions, EstimateRequest, Statistic, StatisticOptions,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: estimate_timing FILE.csv")?,
    );
    let design = DesignOptions {
        ids: vec!["psu".into()],
        strata: Some("stratum".into()),
        weights: Some("weight".into()),
        nest: true,
        ..DesignOptions::default()
    };
    type Run = (
        &'static str,
        Statistic,
        &'static str,
        Vec<String>,
        Option<CipropMethod>,
    );
    let runs: [Run; 3] = [
        ("mean", Statistic::Mean, "y", vec![], None),
        (
            "mean by domain",
            Statistic::Mean,
            "y",
            vec!["domain".into()],
            None,
        ),
        (
            "ciprop logit",
            Statistic::Ciprop,
            "b",
            vec![],
            Some(CipropMethod::Logit),
        ),
    ];
    for (label, stat, var, by, method) in runs {
        let request = EstimateRequest {
            data: data.clone(),
            design: design.clone(),
            replicates: None,
            calibration: None,
            analyses: vec![Analysis {
                statistic: StatisticOptions {
                    stat,
                    vars: vec![var.to_string()],
                    method,
                    ..StatisticOptions::default()
                },
                by,
                ..Analysis::default()
            }],
        };
        let start = Instant::now();
        let report = dh_estimate::estimate(&request)?;
        println!(
            "{label}: {:.3} s, {} estimates",
            start.elapsed().as_secs_f64(),
            report.estimates.len()
        );
    }
    Ok(())
}
