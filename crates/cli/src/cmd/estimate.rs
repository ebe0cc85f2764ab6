//! `dh estimate`: flag parsing only. The flags are translated into a `dh_estimate::EstimateRequest`;
//! reading, estimation and formatting live in the `dh-estimate` library.

use std::path::PathBuf;
use std::process::ExitCode;

use dh_estimate::EstimateError;
use dh_estimate::analyses::read_analyses;
use dh_estimate::request::{
    Analysis, CalibrationOptions, DeffKind, DesignOptions, EstimateRequest, OutputFormat,
    ReplicateOptions, StatisticOptions, SubsetCondition, parse_flag, parse_optional_flag,
};

use super::help::{self, EXIT_USAGE};
use super::{EXIT_CONFIG, EXIT_DATA, EXIT_OK};

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    &help::examples(&[
        "dh estimate apistrat.csv --strata stype --fpc fpc --weights pw \\",
        "      --stat mean --var api00",
        "dh estimate apiclus1.csv --ids dnum --fpc fpc --weights pw \\",
        "      --stat ciprop --var yes --method beta --by stype --format json",
        "dh estimate apiclus1.csv --ids dnum --weights pw --replicates jk1 \\",
        "      --stat total --var enroll --na-rm",
        "dh estimate apiclus1.csv --ids dnum --weights pw \\",
        "      --replicates bootstrap --seed 42 --stat mean --var api00",
        "dh estimate survey.csv --ids psu --strata stratum --weights weight --nest \\",
        "      --analyses analyses.toml --format json",
    ]),
    &help::exit_codes(&[
        (EXIT_OK, "estimates printed"),
        (EXIT_USAGE, "usage error (unknown flag or bad value)"),
        (
            EXIT_CONFIG,
            "the flags do not describe a valid design or statistic, or the analyses file is invalid",
        ),
        (
            EXIT_DATA,
            "the data file cannot be read (missing, a folder, not CSV/Parquet) or its values do not fit \
             the design (missing weights, a column that is not numeric, a lonely PSU)",
        ),
    ]),
]))]
pub struct Args {
    /// Data file: CSV (header row; `NA` and empty fields are missing) or Parquet.
    pub data: PathBuf,

    /// Cluster id column(s), one per stage; omit for one PSU per row.
    #[arg(long, value_delimiter = ',', value_name = "COL[,COL...]")]
    pub ids: Vec<String>,
    /// Stratum column.
    #[arg(long, value_name = "COL")]
    pub strata: Option<String>,
    /// Population size column(s), one per stage (finite population correction).
    #[arg(long, value_delimiter = ',', value_name = "COL[,COL...]")]
    pub fpc: Vec<String>,
    /// Sampling weight column.
    #[arg(long, value_name = "COL", conflicts_with = "probs")]
    pub weights: Option<String>,
    /// Selection probability column (weights are its inverse).
    #[arg(long, value_name = "COL")]
    pub probs: Option<String>,
    /// Cluster ids are unique only within strata (R's nest=TRUE).
    #[arg(long)]
    pub nest: bool,
    /// Strata with a single PSU: fail, adjust, average, certainty or remove.
    #[arg(long, value_name = "RULE", default_value = "fail")]
    pub lonely_psu: String,

    /// Build replicate weights from the design: jk1, jkn, brr, fay or bootstrap.
    #[arg(long, value_name = "KIND", conflicts_with = "repweights")]
    pub replicates: Option<String>,
    /// Fay's rho for fay replicates.
    #[arg(long, value_name = "R")]
    pub fay_rho: Option<f64>,
    /// Seed of bootstrap replicates: the replicates R draws after set.seed(N).
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        requires = "replicates"
    )]
    pub seed: Option<i32>,
    /// Number of bootstrap replicates (R's default 50).
    #[arg(long, value_name = "R", requires = "replicates")]
    pub n_replicates: Option<usize>,
    /// Centre replicate variances on the full-sample estimate.
    #[arg(long)]
    pub mse: bool,
    /// CSV of replicate analysis weights, one column per replicate, rows aligned with DATA.
    #[arg(long, value_name = "FILE", requires = "rep_type")]
    pub repweights: Option<PathBuf>,
    /// Kind of the supplied replicate weights: jk1, jkn, brr, fay or bootstrap.
    #[arg(long, value_name = "KIND", requires = "repweights")]
    pub rep_type: Option<String>,
    /// Variance scale of the supplied replicate weights (default: R's for the kind).
    #[arg(long, value_name = "S", requires = "repweights")]
    pub scale: Option<f64>,

    /// Calibrate the weights: poststratify, rake, rake-converged, linear or raking.
    #[arg(long, value_name = "METHOD", requires = "population")]
    pub calibrate: Option<String>,
    /// JSON array of population margins (the form of the oracle's designs.*.margins).
    #[arg(long, value_name = "FILE.json", requires = "calibrate")]
    pub population: Option<PathBuf>,

    /// Statistic: mean, total, ratio, ciprop or quantile.
    #[arg(long, value_name = "STAT", requires = "vars")]
    pub stat: Option<String>,
    /// Variable(s) to estimate.
    #[arg(
        long = "var",
        value_delimiter = ',',
        value_name = "COL[,COL...]",
        requires = "stat"
    )]
    pub vars: Vec<String>,
    /// TOML file of further analyses, each an [[analysis]] table with the statistic flags as keys
    /// (stat, var, by, subset, method, ...). All run on one read of DATA and one design; their
    /// estimates follow those of --stat/--var, each row naming its statistic.
    #[arg(long, value_name = "FILE.toml", required_unless_present = "stat")]
    pub analyses: Option<PathBuf>,
    /// Denominator of a ratio.
    #[arg(long, value_name = "COL")]
    pub denominator: Option<String>,
    /// Numeric column(s) to treat as categorical.
    #[arg(long = "factor", value_delimiter = ',', value_name = "COL[,COL]")]
    pub factors: Vec<String>,
    /// Domain variable(s): one set of estimates per combination of values.
    #[arg(long, value_delimiter = ',', value_name = "COL[,COL]")]
    pub by: Vec<String>,
    /// Restrict to a domain (repeatable; all must hold). Variance still uses the full design.
    #[arg(long, value_name = "COL=VALUE")]
    pub subset: Vec<String>,
    /// Confidence interval of a proportion: logit, likelihood, beta, asin, mean or xlogit.
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// Quantile probabilities.
    #[arg(long, value_delimiter = ',', value_name = "Q[,Q]")]
    pub quantiles: Vec<f64>,
    /// Quantile rule: hf7, math or school.
    #[arg(long, value_name = "RULE")]
    pub qrule: Option<String>,
    /// Quantile interval: mean, beta, xlogit, asin, score (or quantile on replicate designs).
    #[arg(long, value_name = "TYPE")]
    pub interval_type: Option<String>,
    /// Design effect against SRS without replacement (R's deff=TRUE).
    #[arg(long, conflicts_with = "deff_replace")]
    pub deff: bool,
    /// Design effect against SRS with replacement (R's deff="replace").
    #[arg(long)]
    pub deff_replace: bool,
    /// Drop missing values as R's na.rm=TRUE (rows stay in the design with no contribution).
    #[arg(long)]
    pub na_rm: bool,
    /// Confidence level.
    #[arg(long, value_name = "L", default_value_t = 0.95)]
    pub level: f64,
    /// Output: table, json or csv.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: String,
}

fn request(a: Args) -> Result<(EstimateRequest, OutputFormat), EstimateError> {
    let replicates = match (&a.replicates, &a.repweights) {
        (Some(kind), _) => Some(ReplicateOptions::Convert {
            kind: parse_flag("--replicates", kind)?,
            fay_rho: a.fay_rho,
            mse: a.mse,
            seed: a.seed,
            n_replicates: a.n_replicates,
        }),
        (None, Some(file)) => Some(ReplicateOptions::Supplied {
            file: file.clone(),
            kind: parse_flag("--rep-type", a.rep_type.as_deref().unwrap_or_default())?,
            fay_rho: a.fay_rho,
            scale: a.scale,
            mse: a.mse,
        }),
        (None, None) => {
            if let Some(flag) = [("--fay-rho", a.fay_rho.is_some()), ("--mse", a.mse)]
                .into_iter()
                .find_map(|(flag, given)| given.then_some(flag))
            {
                return Err(EstimateError::MissingOption {
                    flag: flag.to_string(),
                    reason:
                        "applies to replicate weights: give --replicates KIND or --repweights FILE"
                            .to_string(),
                });
            }
            None
        }
    };
    let calibration = match (&a.calibrate, &a.population) {
        (Some(method), Some(population)) => Some(CalibrationOptions {
            method: parse_flag("--calibrate", method)?,
            population: population.clone(),
        }),
        _ => None,
    };
    let deff = match (a.deff, a.deff_replace) {
        (true, _) => DeffKind::WithoutReplacement,
        (false, true) => DeffKind::Replace,
        _ => DeffKind::None,
    };
    let statistic = StatisticOptions {
        stat: parse_flag("--stat", a.stat.as_deref().unwrap_or("mean"))?,
        vars: a.vars,
        denominator: a.denominator,
        factors: a.factors,
        method: parse_optional_flag("--method", a.method.as_deref())?,
        quantiles: a.quantiles,
        qrule: parse_optional_flag("--qrule", a.qrule.as_deref())?,
        interval_type: parse_optional_flag("--interval-type", a.interval_type.as_deref())?,
        deff,
        na_rm: a.na_rm,
        level: a.level,
    };
    let subset = a
        .subset
        .iter()
        .map(|s| parse_flag::<SubsetCondition>("--subset", s))
        .collect::<Result<Vec<_>, _>>()?;
    let design = DesignOptions {
        ids: a.ids,
        strata: a.strata,
        fpc: a.fpc,
        weights: a.weights,
        probs: a.probs,
        nest: a.nest,
        lonely_psu: parse_flag("--lonely-psu", &a.lonely_psu)?,
    };
    let format = parse_flag("--format", &a.format)?;
    let mut analyses = Vec::new();
    let from_file = match &a.analyses {
        Some(file) => read_analyses(file, &statistic)?,
        None => Vec::new(),
    };
    if a.stat.is_some() {
        analyses.push(Analysis {
            statistic,
            by: a.by,
            subset,
            origin: None,
        });
    } else {
        let s = &statistic;
        let stray = [
            ("--by", !a.by.is_empty()),
            ("--subset", !subset.is_empty()),
            ("--denominator", s.denominator.is_some()),
            ("--factor", !s.factors.is_empty()),
            ("--method", s.method.is_some()),
            ("--quantiles", !s.quantiles.is_empty()),
            ("--qrule", s.qrule.is_some()),
            ("--interval-type", s.interval_type.is_some()),
            ("--deff", s.deff != DeffKind::None),
        ];
        if let Some((flag, _)) = stray.iter().find(|(_, given)| *given) {
            return Err(EstimateError::MissingOption {
                flag: flag.to_string(),
                reason: "goes with --stat; in an --analyses file give it per analysis".to_string(),
            });
        }
    }
    analyses.extend(from_file);
    let request = EstimateRequest {
        data: a.data,
        design,
        replicates,
        calibration,
        analyses,
    };
    Ok((request, format))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let outcome = request(args).and_then(|(request, format)| {
        let report = dh_estimate::estimate(&request)?;
        for warning in &report.warnings {
            eprintln!("warning: {warning}");
        }
        Ok(dh_estimate::render(&report, &request, format))
    });
    match outcome {
        Ok(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!(
                "{}",
                super::advice::line(&err, super::advice::estimate(&err))
            );
            let code = match err {
                EstimateError::InvalidOption { .. }
                | EstimateError::MissingOption { .. }
                | EstimateError::Analyses { .. } => EXIT_CONFIG,
                _ => EXIT_DATA,
            };
            Ok(ExitCode::from(code))
        }
    }
}
