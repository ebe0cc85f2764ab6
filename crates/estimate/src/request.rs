//! The argument model of `dh estimate`: what to read, the design, replication, calibration, the
//! statistic and the domains, with validation that names the flag and value at fault.

use std::path::PathBuf;
use std::str::FromStr;

use dh_survey::LonelyPsu;

use crate::error::EstimateError;

/// Parses a flag value, turning the parser's message into an error naming the flag.
pub fn parse_flag<T: FromStr<Err = String>>(flag: &str, value: &str) -> Result<T, EstimateError> {
    value
        .parse()
        .map_err(|reason: String| EstimateError::invalid(flag, value, reason))
}

/// [`parse_flag`] for a flag that may be absent.
pub fn parse_optional_flag<T: FromStr<Err = String>>(
    flag: &str,
    value: Option<&str>,
) -> Result<Option<T>, EstimateError> {
    value.map(|v| parse_flag(flag, v)).transpose()
}

macro_rules! keyword_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The keyword used on the command line.
            pub fn keyword(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
            /// All keywords, for messages.
            pub fn keywords() -> &'static [&'static str] {
                &[$($text),+]
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(format!("expected one of {}", Self::keywords().join(", "))),
                }
            }
        }
    };
}

keyword_enum!(
    /// `--stat`.
    Statistic { Mean = "mean", Total = "total", Ratio = "ratio", Ciprop = "ciprop", Quantile = "quantile" }
);
keyword_enum!(
    /// `--method`: R's `svyciprop` methods.
    CipropMethod { Logit = "logit", Likelihood = "likelihood", Beta = "beta", Asin = "asin", Mean = "mean", Xlogit = "xlogit" }
);
keyword_enum!(
    /// `--qrule`: R's `svyquantile` quantile rules.
    QuantileRule { Hf7 = "hf7", Math = "math", School = "school" }
);
keyword_enum!(
    /// `--interval-type`: R's `svyquantile` interval types (`quantile` for replicate designs).
    IntervalType { Mean = "mean", Beta = "beta", Xlogit = "xlogit", Asin = "asin", Score = "score", Quantile = "quantile" }
);
keyword_enum!(
    /// `--replicates` / `--rep-type`.
    ReplicateKind { Jk1 = "jk1", Jkn = "jkn", Brr = "brr", Fay = "fay", Bootstrap = "bootstrap" }
);
keyword_enum!(
    /// `--calibrate`.
    CalibrationMethod { PostStratify = "poststratify", Rake = "rake", RakeConverged = "rake-converged", Linear = "linear", Raking = "raking" }
);
keyword_enum!(
    /// `--format`.
    OutputFormat { Table = "table", Json = "json", Csv = "csv" }
);

/// Design effect requested (`--deff` is R's `deff=TRUE`, `--deff-replace` is `deff="replace"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeffKind {
    #[default]
    None,
    WithoutReplacement,
    Replace,
}

/// The sampling design (R's `svydesign`).
#[derive(Debug, Clone, Default)]
pub struct DesignOptions {
    /// Cluster columns, stage by stage; empty means each row is its own PSU.
    pub ids: Vec<String>,
    pub strata: Option<String>,
    /// Population sizes per stage.
    pub fpc: Vec<String>,
    pub weights: Option<String>,
    pub probs: Option<String>,
    pub nest: bool,
    pub lonely_psu: LonelyPsu,
}

/// Replicate weights: built from the design, or supplied in a file.
#[derive(Debug, Clone)]
pub enum ReplicateOptions {
    /// `--replicates KIND` (R's `as.svrepdesign`). Bootstrap replicates are drawn as R draws them
    /// after `set.seed(seed)`, so they need `--seed`; `n_replicates` is R's `replicates` (50).
    Convert {
        kind: ReplicateKind,
        fay_rho: Option<f64>,
        mse: bool,
        seed: Option<i32>,
        n_replicates: Option<usize>,
    },
    /// `--repweights FILE --rep-type KIND` (R's `svrepdesign(combined.weights=TRUE)`).
    Supplied {
        file: PathBuf,
        kind: ReplicateKind,
        fay_rho: Option<f64>,
        scale: Option<f64>,
        mse: bool,
    },
}

/// `--calibrate METHOD --population FILE.json`.
#[derive(Debug, Clone)]
pub struct CalibrationOptions {
    pub method: CalibrationMethod,
    pub population: PathBuf,
}

/// One `--subset COL=VALUE` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsetCondition {
    pub column: String,
    pub value: String,
}

impl FromStr for SubsetCondition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((column, value)) if !column.trim().is_empty() => Ok(Self {
                column: column.trim().to_string(),
                value: value.trim().to_string(),
            }),
            _ => Err("expected COL=VALUE".to_string()),
        }
    }
}

/// The statistic and its options.
#[derive(Debug, Clone)]
pub struct StatisticOptions {
    pub stat: Statistic,
    pub vars: Vec<String>,
    pub denominator: Option<String>,
    /// Numeric columns to treat as categorical.
    pub factors: Vec<String>,
    pub method: Option<CipropMethod>,
    pub quantiles: Vec<f64>,
    pub qrule: Option<QuantileRule>,
    pub interval_type: Option<IntervalType>,
    pub deff: DeffKind,
    pub na_rm: bool,
    pub level: f64,
}

impl Default for StatisticOptions {
    fn default() -> Self {
        Self {
            stat: Statistic::Mean,
            vars: Vec::new(),
            denominator: None,
            factors: Vec::new(),
            method: None,
            quantiles: Vec::new(),
            qrule: None,
            interval_type: None,
            deff: DeffKind::None,
            na_rm: false,
            level: 0.95,
        }
    }
}

/// One analysis: a statistic over one or more variables, optionally by domains and within a
/// subset. One invocation can run several on one read of the data (`--analyses FILE`).
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub statistic: StatisticOptions,
    pub by: Vec<String>,
    pub subset: Vec<SubsetCondition>,
    /// Where the analysis was given, for messages: `None` for the command line, else e.g.
    /// `analyses.toml, analysis 2 (line 7)`.
    pub origin: Option<String>,
}

impl Analysis {
    /// Checks the statistic's options; errors name the origin and the flag (or file key).
    pub fn validate(&self) -> Result<(), EstimateError> {
        self.validate_statistic().map_err(|e| self.locate(e))?;
        for by in &self.by {
            if self.statistic.vars.contains(by) {
                return Err(self.locate(EstimateError::invalid(
                    "--by",
                    by,
                    "is also a --var column",
                )));
            }
        }
        Ok(())
    }

    /// Prefixes option errors with where the analysis was given.
    pub fn locate(&self, error: EstimateError) -> EstimateError {
        let Some(origin) = &self.origin else {
            return error;
        };
        match error {
            EstimateError::InvalidOption {
                flag,
                value,
                reason,
            } => EstimateError::InvalidOption {
                flag: format!("{origin}: {flag}"),
                value,
                reason,
            },
            EstimateError::MissingOption { flag, reason } => EstimateError::MissingOption {
                flag: format!("{origin}: {flag}"),
                reason,
            },
            EstimateError::NotNumeric {
                flag,
                column,
                example,
                row,
            } => EstimateError::NotNumeric {
                flag: format!("{origin}: {flag}"),
                column,
                example,
                row,
            },
            other => other,
        }
    }

    fn validate_statistic(&self) -> Result<(), EstimateError> {
        let s = &self.statistic;
        if s.vars.is_empty() {
            return Err(EstimateError::missing("--var", "give at least one column"));
        }
        if !(s.level > 0.0 && s.level < 1.0) {
            return Err(EstimateError::invalid(
                "--level",
                s.level,
                "must be between 0 and 1",
            ));
        }
        match (s.stat, &s.denominator) {
            (Statistic::Ratio, None) => {
                return Err(EstimateError::missing(
                    "--denominator",
                    "--stat ratio needs --denominator COL",
                ));
            }
            (stat, Some(d)) if stat != Statistic::Ratio => {
                return Err(EstimateError::invalid(
                    "--denominator",
                    d,
                    "applies only to --stat ratio",
                ));
            }
            _ => {}
        }
        if let Some(m) = s.method
            && s.stat != Statistic::Ciprop
        {
            return Err(EstimateError::invalid(
                "--method",
                m.keyword(),
                "applies only to --stat ciprop",
            ));
        }
        if s.stat == Statistic::Quantile {
            if s.quantiles.is_empty() {
                return Err(EstimateError::missing(
                    "--quantiles",
                    "--stat quantile needs --quantiles Q[,Q...]",
                ));
            }
            if let Some(q) = s.quantiles.iter().find(|q| !(0.0..=1.0).contains(*q)) {
                return Err(EstimateError::invalid(
                    "--quantiles",
                    q,
                    "must be in [0, 1]",
                ));
            }
        } else {
            if !s.quantiles.is_empty() {
                return Err(EstimateError::invalid(
                    "--quantiles",
                    join_numbers(&s.quantiles),
                    "applies only to --stat quantile",
                ));
            }
            if let Some(q) = s.qrule {
                return Err(EstimateError::invalid(
                    "--qrule",
                    q.keyword(),
                    "applies only to --stat quantile",
                ));
            }
            if let Some(i) = s.interval_type {
                return Err(EstimateError::invalid(
                    "--interval-type",
                    i.keyword(),
                    "applies only to --stat quantile",
                ));
            }
        }
        if s.deff != DeffKind::None && !matches!(s.stat, Statistic::Mean | Statistic::Total) {
            return Err(EstimateError::invalid(
                "--deff",
                s.stat.keyword(),
                "design effects are given for --stat mean and total",
            ));
        }
        Ok(())
    }
}

/// Everything `dh estimate` needs: the data, the design, and the analyses to run on it.
#[derive(Debug, Clone)]
pub struct EstimateRequest {
    pub data: PathBuf,
    pub design: DesignOptions,
    pub replicates: Option<ReplicateOptions>,
    pub calibration: Option<CalibrationOptions>,
    /// Run in order on one read of the data; their estimates are reported in this order.
    pub analyses: Vec<Analysis>,
}

impl EstimateRequest {
    /// Checks the combination of options before any data is read.
    pub fn validate(&self) -> Result<(), EstimateError> {
        self.validate_design()?;
        self.validate_replicates()?;
        if self.analyses.is_empty() {
            return Err(EstimateError::missing(
                "--stat",
                "give --stat and --var, or --analyses FILE",
            ));
        }
        for analysis in &self.analyses {
            analysis.validate()?;
        }
        Ok(())
    }

    fn validate_design(&self) -> Result<(), EstimateError> {
        let d = &self.design;
        if d.weights.is_some() && d.probs.is_some() {
            return Err(EstimateError::invalid(
                "--probs",
                d.probs.as_deref().unwrap_or_default(),
                "give either --weights or --probs, not both",
            ));
        }
        if d.weights.is_none() && d.probs.is_none() && d.fpc.is_empty() {
            return Err(EstimateError::missing(
                "--weights",
                "give --weights COL or --probs COL (weights are derived from --fpc only when every stage has one)",
            ));
        }
        let stages = d.ids.len().max(1);
        if d.fpc.len() > stages {
            return Err(EstimateError::invalid(
                "--fpc",
                d.fpc.join(","),
                format!(
                    "{} fpc column(s) for {stages} stage(s) of --ids",
                    d.fpc.len()
                ),
            ));
        }
        if d.weights.is_none() && d.probs.is_none() && d.fpc.len() < stages {
            return Err(EstimateError::missing(
                "--weights",
                format!(
                    "without --weights or --probs, --fpc must give all {stages} stage(s) so that weights can be derived"
                ),
            ));
        }
        if let Some(c) = &self.calibration {
            if !c.population.as_os_str().is_empty() {
                return Ok(());
            }
            return Err(EstimateError::missing(
                "--population",
                "--calibrate needs --population FILE.json",
            ));
        }
        Ok(())
    }

    fn validate_replicates(&self) -> Result<(), EstimateError> {
        let (kind, fay_rho, scale) = match &self.replicates {
            None => return Ok(()),
            Some(ReplicateOptions::Convert {
                kind,
                fay_rho,
                seed,
                n_replicates,
                ..
            }) => {
                let bootstrap = *kind == ReplicateKind::Bootstrap;
                if bootstrap && seed.is_none() {
                    return Err(EstimateError::missing(
                        "--seed",
                        "bootstrap replicates are random: give --seed N (R's set.seed) to draw R's replicates, \
                         or supply them with --repweights FILE --rep-type bootstrap",
                    ));
                }
                if !bootstrap && let Some(seed) = seed {
                    return Err(EstimateError::invalid(
                        "--seed",
                        seed,
                        "applies only to --replicates bootstrap",
                    ));
                }
                match n_replicates {
                    Some(n) if !bootstrap => {
                        return Err(EstimateError::invalid(
                            "--n-replicates",
                            n,
                            "applies only to --replicates bootstrap",
                        ));
                    }
                    Some(n) if *n < 2 => {
                        return Err(EstimateError::invalid(
                            "--n-replicates",
                            n,
                            "needs at least 2 replicates",
                        ));
                    }
                    _ => {}
                }
                (*kind, *fay_rho, None)
            }
            Some(ReplicateOptions::Supplied {
                kind,
                fay_rho,
                scale,
                ..
            }) => (*kind, *fay_rho, *scale),
        };
        if let Some(rho) = fay_rho {
            if kind != ReplicateKind::Fay {
                return Err(EstimateError::invalid(
                    "--fay-rho",
                    rho,
                    "applies only to fay replicates",
                ));
            }
            if !(0.0..1.0).contains(&rho) {
                return Err(EstimateError::invalid(
                    "--fay-rho",
                    rho,
                    "must be in [0, 1)",
                ));
            }
        }
        if let Some(s) = scale
            && !(s.is_finite() && s > 0.0)
        {
            return Err(EstimateError::invalid(
                "--scale",
                s,
                "must be a positive number",
            ));
        }
        Ok(())
    }

    /// Every data column the request reads, each with the flag that names it (first flag wins).
    pub fn columns(&self) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        let mut add = |name: &str, flag: &'static str| {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.to_string(), flag));
            }
        };
        let d = &self.design;
        d.ids.iter().for_each(|c| add(c, "--ids"));
        d.strata.iter().for_each(|c| add(c, "--strata"));
        d.fpc.iter().for_each(|c| add(c, "--fpc"));
        d.weights.iter().for_each(|c| add(c, "--weights"));
        d.probs.iter().for_each(|c| add(c, "--probs"));
        for a in &self.analyses {
            a.statistic.vars.iter().for_each(|c| add(c, "--var"));
            a.statistic
                .denominator
                .iter()
                .for_each(|c| add(c, "--denominator"));
            a.by.iter().for_each(|c| add(c, "--by"));
            a.subset.iter().for_each(|c| add(&c.column, "--subset"));
        }
        out
    }
}

fn join_numbers(values: &[f64]) -> String {
    values
        .iter()
        .map(f64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> EstimateRequest {
        EstimateRequest {
            data: PathBuf::from("x.csv"),
            design: DesignOptions {
                weights: Some("pw".into()),
                ..DesignOptions::default()
            },
            replicates: None,
            calibration: None,
            analyses: vec![Analysis {
                statistic: StatisticOptions {
                    vars: vec!["api00".into()],
                    ..StatisticOptions::default()
                },
                ..Analysis::default()
            }],
        }
    }

    #[test]
    fn valid_request_passes() {
        assert!(base().validate().is_ok());
    }

    #[test]
    fn keywords_parse_and_reject() {
        assert_eq!(
            parse_flag::<Statistic>("--stat", "ciprop").unwrap(),
            Statistic::Ciprop
        );
        let err = parse_flag::<Statistic>("--stat", "median").unwrap_err();
        assert!(err.to_string().contains("--stat `median`"), "{err}");
        assert!(err.to_string().contains("quantile"), "{err}");
        let c: SubsetCondition = "stype=E".parse().unwrap();
        assert_eq!(c.column, "stype");
        assert_eq!(
            "=E".parse::<SubsetCondition>(),
            Err("expected COL=VALUE".to_string())
        );
    }

    #[test]
    fn inconsistent_options_name_the_flag() {
        let mut r = base();
        r.analyses[0].statistic.stat = Statistic::Ratio;
        assert!(
            r.validate()
                .unwrap_err()
                .to_string()
                .contains("--denominator")
        );
        let mut r = base();
        r.analyses[0].statistic.method = Some(CipropMethod::Beta);
        assert!(r.validate().unwrap_err().to_string().contains("--method"));
        let mut r = base();
        r.design.probs = Some("p".into());
        assert!(r.validate().unwrap_err().to_string().contains("--probs"));
        let mut r = base();
        r.design.weights = None;
        assert!(r.validate().unwrap_err().to_string().contains("--weights"));
        let mut r = base();
        r.analyses[0].statistic.stat = Statistic::Quantile;
        assert!(
            r.validate()
                .unwrap_err()
                .to_string()
                .contains("--quantiles")
        );
        r.analyses[0].statistic.quantiles = vec![1.5];
        assert!(
            r.validate()
                .unwrap_err()
                .to_string()
                .contains("--quantiles `1.5`")
        );
        let mut r = base();
        r.replicates = Some(ReplicateOptions::Convert {
            kind: ReplicateKind::Jk1,
            fay_rho: Some(0.3),
            mse: false,
            seed: None,
            n_replicates: None,
        });
        assert!(r.validate().unwrap_err().to_string().contains("--fay-rho"));
        let bootstrap = |seed, n_replicates| ReplicateOptions::Convert {
            kind: ReplicateKind::Bootstrap,
            fay_rho: None,
            mse: false,
            seed,
            n_replicates,
        };
        let mut r = base();
        r.replicates = Some(bootstrap(None, None));
        assert!(r.validate().unwrap_err().to_string().contains("--seed"));
        r.replicates = Some(bootstrap(Some(7), Some(1)));
        assert!(
            r.validate()
                .unwrap_err()
                .to_string()
                .contains("--n-replicates")
        );
        r.replicates = Some(bootstrap(Some(7), Some(100)));
        assert!(r.validate().is_ok());
        let mut r = base();
        r.analyses[0].statistic.level = 95.0;
        assert!(r.validate().unwrap_err().to_string().contains("--level"));
        let mut r = base();
        r.analyses.clear();
        assert!(r.validate().unwrap_err().to_string().contains("--analyses"));
    }

    #[test]
    fn errors_of_a_file_analysis_name_where_it_was_given() {
        let mut r = base();
        let mut second = r.analyses[0].clone();
        second.statistic.stat = Statistic::Ratio;
        second.origin = Some("a.toml, analysis 2 (line 5)".into());
        r.analyses.push(second);
        let err = r.validate().unwrap_err().to_string();
        assert!(
            err.starts_with("a.toml, analysis 2 (line 5): --denominator"),
            "{err}"
        );
    }

    #[test]
    fn columns_of_every_analysis_are_read_once() {
        let mut r = base();
        let mut second = r.analyses[0].clone();
        second.statistic.vars = vec!["api99".into(), "api00".into()];
        second.by = vec!["stype".into()];
        r.analyses.push(second);
        let names: Vec<String> = r.columns().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["pw", "api00", "api99", "stype"]);
    }

    #[test]
    fn fpc_can_replace_weights_only_for_every_stage() {
        let mut r = base();
        r.design.weights = None;
        r.design.ids = vec!["dnum".into(), "snum".into()];
        r.design.fpc = vec!["fpc1".into()];
        let e = r.validate().unwrap_err();
        assert!(
            matches!(&e, EstimateError::MissingOption { flag, reason }
                if flag == "--weights" && reason.contains("--fpc must give all 2 stage(s)")),
            "{e}"
        );
        r.design.fpc.push("fpc2".into());
        assert!(r.validate().is_ok());
    }

    #[test]
    fn columns_are_listed_once_with_their_flag() {
        let mut r = base();
        r.design.ids = vec!["dnum".into()];
        r.analyses[0].by = vec!["stype".into()];
        r.analyses[0].subset = vec!["stype=E".parse().unwrap()];
        let cols = r.columns();
        assert_eq!(
            cols,
            vec![
                ("dnum".to_string(), "--ids"),
                ("pw".to_string(), "--weights"),
                ("api00".to_string(), "--var"),
                ("stype".to_string(), "--by"),
            ]
        );
    }
}
