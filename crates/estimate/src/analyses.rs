//! `--analyses FILE.toml`: several analyses run on one read of the data and one design. Each
//! `[[analysis]]` table takes the statistic flags of the command line as keys (`stat`, `var`,
//! `denominator`, `factor`, `by`, `subset`, `method`, `quantiles`, `qrule`, `interval_type`,
//! `deff`, `na_rm`, `level`); `na_rm` and `level` default to the command line's values.
//!
//! ```toml
//! [[analysis]]
//! stat = "mean"
//! var = "y"
//! by = ["domain"]
//!
//! [[analysis]]
//! stat = "ciprop"
//! var = "b"
//! method = "logit"
//! subset = ["sex=2"]
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::error::EstimateError;
use crate::request::{
    Analysis, DeffKind, StatisticOptions, SubsetCondition, parse_flag, parse_optional_flag,
};

/// A column name or a list of them (`var = "y"` or `var = ["y", "z"]`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Names {
    One(String),
    Many(Vec<String>),
}

impl Default for Names {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

impl Names {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(name) => vec![name],
            Self::Many(names) => names,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    stat: String,
    var: Names,
    denominator: Option<String>,
    #[serde(default)]
    factor: Names,
    #[serde(default)]
    by: Names,
    #[serde(default)]
    subset: Names,
    method: Option<String>,
    #[serde(default)]
    quantiles: Vec<f64>,
    qrule: Option<String>,
    interval_type: Option<String>,
    /// `"srs"` (R's `deff=TRUE`) or `"replace"` (R's `deff="replace"`).
    deff: Option<String>,
    na_rm: Option<bool>,
    level: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalysesFile {
    #[serde(default)]
    analysis: Vec<toml::Spanned<Entry>>,
}

/// Reads the analyses of `path`; `defaults` gives `na_rm` and `level` where a table omits them.
pub fn read_analyses(
    path: &Path,
    defaults: &StatisticOptions,
) -> Result<Vec<Analysis>, EstimateError> {
    let text = std::fs::read_to_string(path).map_err(|source| EstimateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_analyses(&text, path, defaults)
}

/// Parses the text of an analyses file (`path` is used in messages only).
pub fn parse_analyses(
    text: &str,
    path: &Path,
    defaults: &StatisticOptions,
) -> Result<Vec<Analysis>, EstimateError> {
    let file: AnalysesFile = toml::from_str(text).map_err(|e| EstimateError::Analyses {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    if file.analysis.is_empty() {
        return Err(EstimateError::Analyses {
            path: path.to_path_buf(),
            message: "no [[analysis]] table".to_string(),
        });
    }
    file.analysis
        .into_iter()
        .enumerate()
        .map(|(i, spanned)| {
            let line = text[..spanned.span().start.min(text.len())]
                .matches('\n')
                .count()
                + 1;
            let origin = format!("{}, analysis {} (line {line})", path.display(), i + 1);
            let analysis = Analysis {
                origin: Some(origin),
                ..Analysis::default()
            };
            to_analysis(spanned.into_inner(), defaults, analysis)
        })
        .collect()
}

fn to_analysis(
    entry: Entry,
    defaults: &StatisticOptions,
    mut analysis: Analysis,
) -> Result<Analysis, EstimateError> {
    let parse = || -> Result<StatisticOptions, EstimateError> {
        let statistic = StatisticOptions {
            stat: parse_flag("stat", &entry.stat)?,
            vars: Vec::new(),
            denominator: None,
            factors: Vec::new(),
            method: parse_optional_flag("method", entry.method.as_deref())?,
            quantiles: entry.quantiles.clone(),
            qrule: parse_optional_flag("qrule", entry.qrule.as_deref())?,
            interval_type: parse_optional_flag("interval_type", entry.interval_type.as_deref())?,
            deff: match entry.deff.as_deref() {
                None => DeffKind::None,
                Some("srs") => DeffKind::WithoutReplacement,
                Some("replace") => DeffKind::Replace,
                Some(other) => {
                    return Err(EstimateError::invalid(
                        "deff",
                        other,
                        "expected srs or replace",
                    ));
                }
            },
            na_rm: entry.na_rm.unwrap_or(defaults.na_rm),
            level: entry.level.unwrap_or(defaults.level),
        };
        Ok(statistic)
    };
    let mut statistic = parse().map_err(|e| analysis.locate(e))?;
    statistic.vars = entry.var.into_vec();
    statistic.denominator = entry.denominator;
    statistic.factors = entry.factor.into_vec();
    analysis.subset = entry
        .subset
        .into_vec()
        .iter()
        .map(|s| parse_flag::<SubsetCondition>("subset", s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| analysis.locate(e))?;
    analysis.statistic = statistic;
    analysis.by = entry.by.into_vec();
    Ok(analysis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{CipropMethod, Statistic};

    fn parse(text: &str) -> Result<Vec<Analysis>, EstimateError> {
        parse_analyses(text, Path::new("a.toml"), &StatisticOptions::default())
    }

    #[test]
    fn tables_become_analyses_in_order() {
        let analyses = parse(
            "[[analysis]]\nstat = \"mean\"\nvar = \"y\"\nby = [\"domain\"]\n\n\
             [[analysis]]\nstat = \"ciprop\"\nvar = [\"b\"]\nmethod = \"beta\"\nsubset = [\"sex=2\"]\nna_rm = true\n",
        )
        .unwrap();
        assert_eq!(analyses.len(), 2);
        assert_eq!(analyses[0].statistic.stat, Statistic::Mean);
        assert_eq!(analyses[0].statistic.vars, ["y"]);
        assert_eq!(analyses[0].by, ["domain"]);
        assert_eq!(
            analyses[0].origin.as_deref(),
            Some("a.toml, analysis 1 (line 1)")
        );
        assert_eq!(analyses[1].statistic.method, Some(CipropMethod::Beta));
        assert_eq!(analyses[1].subset[0].column, "sex");
        assert!(analyses[1].statistic.na_rm);
        assert_eq!(
            analyses[1].origin.as_deref(),
            Some("a.toml, analysis 2 (line 6)")
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = parse("[[analysis]]\nstat = \"mean\"\nvar = \"y\"\nbyy = [\"d\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("a.toml:"), "{err}");
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("byy"), "{err}");
        let err = parse("\n[[analysis]]\nstat = \"median\"\nvar = \"y\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("a.toml, analysis 1 (line 2): stat `median`"),
            "{err}"
        );
        let err = parse("[[analysis]]\nstat = \"mean\"\nvar = \"y\"\ndeff = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("deff `yes`"), "{err}");
        let err = parse("").unwrap_err().to_string();
        assert!(err.contains("no [[analysis]]"), "{err}");
    }
}
