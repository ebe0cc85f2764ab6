//! `dh estimate` end to end: read the data, build the design, run the statistic through
//! `dh-survey`, and turn its estimates into a [`Report`] with R's labels.

use rayon::prelude::*;

use dh_survey::{Deff, DomainSpec, Estimate, Options, QuantileInterval, SurveyDesign, Variable};

use crate::build_design::{build_design, prepare_design_columns, prepare_margin_columns};
use crate::domains::subset_mask;
use crate::error::EstimateError;
use crate::format::{to_csv, to_table};
use crate::population::read_population;
use crate::prepared::Prepared;
use crate::report::{Domain, EstimateRow, Report};
use crate::request::{
    Analysis, CipropMethod, DeffKind, EstimateRequest, IntervalType, OutputFormat, QuantileRule,
    Statistic,
};
use crate::table::Column;

/// Runs a request: the whole of `dh estimate` except printing. The data is read once and the
/// design built once; the analyses then run in parallel and report in request order.
pub fn estimate(request: &EstimateRequest) -> Result<Report, EstimateError> {
    request.validate()?;
    let margins = request
        .calibration
        .as_ref()
        .map(|c| read_population(&c.population))
        .transpose()?;
    let mut data = Prepared::read(request, margins.as_ref())?;
    prepare_design_columns(request, &mut data)?;
    if let Some(m) = &margins {
        prepare_margin_columns(m, &mut data)?;
    }
    for analysis in &request.analyses {
        for by in &analysis.by {
            data.ensure_categorical("--by", by)
                .map_err(|e| analysis.locate(e))?;
        }
        for factor in &analysis.statistic.factors {
            data.ensure_categorical("--factor", factor)
                .map_err(|e| analysis.locate(e))?;
        }
        for var in &analysis.statistic.vars {
            if matches!(
                data.column("--var", var).map_err(|e| analysis.locate(e))?,
                Column::Categorical(_)
            ) {
                data.ensure_categorical("--var", var)
                    .map_err(|e| analysis.locate(e))?;
            }
        }
    }
    let built = build_design(request, &data, margins.as_ref())?;
    let groups = request
        .analyses
        .par_iter()
        .enumerate()
        .map(|(index, analysis)| {
            run_analysis(index, analysis, &data, &built.design).map_err(|e| analysis.locate(e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Report {
        design: built.summary,
        estimates: groups.into_iter().flatten().collect(),
        warnings: built.warnings,
    })
}

/// One analysis: its domains, then each variable's estimates, labelled as R labels them.
fn run_analysis(
    index: usize,
    analysis: &Analysis,
    data: &Prepared,
    design: &SurveyDesign,
) -> Result<Vec<EstimateRow>, EstimateError> {
    let mask = if analysis.subset.is_empty() {
        None
    } else {
        Some(subset_mask(&data.table, &analysis.subset)?)
    };
    let by = analysis
        .by
        .iter()
        .map(|c| data.factor("--by", c))
        .collect::<Result<Vec<_>, _>>()?;
    let domains = DomainSpec {
        subset: mask.as_deref(),
        by,
    };
    let mut estimates = Vec::new();
    for var in &analysis.statistic.vars {
        estimates.extend(run_statistic(analysis, data, design, var, &domains)?);
    }
    Ok(label_rows(index, analysis, estimates))
}

/// A `--var` column: categorical when it holds text or is one of the analysis's `--factor` columns.
fn variable<'a>(
    data: &'a Prepared,
    analysis: &Analysis,
    name: &'a str,
) -> Result<Variable<'a>, EstimateError> {
    let flag = "--var";
    Ok(match data.column(flag, name)? {
        Column::Numeric(values) if !analysis.statistic.factors.iter().any(|f| f == name) => {
            Variable::Numeric { name, values }
        }
        _ => Variable::Categorical {
            name,
            factor: data.factor(flag, name)?,
        },
    })
}

fn run_statistic(
    analysis: &Analysis,
    data: &Prepared,
    design: &SurveyDesign,
    var: &str,
    domains: &DomainSpec<'_>,
) -> Result<Vec<Estimate>, EstimateError> {
    let s = &analysis.statistic;
    let options = Options {
        na_rm: s.na_rm,
        deff: match s.deff {
            DeffKind::None => Deff::None,
            DeffKind::WithoutReplacement => Deff::Srs,
            DeffKind::Replace => Deff::Replace,
        },
        level: s.level,
    };
    let v = variable(data, analysis, var)?;
    Ok(match s.stat {
        Statistic::Mean => design.mean(&v, domains, &options)?,
        Statistic::Total => design.total(&v, domains, &options)?,
        Statistic::Ratio => {
            let den_name = s.denominator.as_deref().unwrap_or_default();
            let den = Variable::Numeric {
                name: den_name,
                values: data.numeric("--denominator", den_name)?,
            };
            design.ratio(&v, &den, domains, &options)?
        }
        Statistic::Ciprop => {
            let method = match s.method.unwrap_or(CipropMethod::Logit) {
                CipropMethod::Logit => dh_survey::CipropMethod::Logit,
                CipropMethod::Likelihood => dh_survey::CipropMethod::Likelihood,
                CipropMethod::Beta => dh_survey::CipropMethod::Beta,
                CipropMethod::Asin => dh_survey::CipropMethod::Asin,
                CipropMethod::Mean => dh_survey::CipropMethod::Mean,
                CipropMethod::Xlogit => dh_survey::CipropMethod::Xlogit,
            };
            design.ciprop(&v, method, domains, &options)?
        }
        Statistic::Quantile => {
            let rule = match s.qrule.unwrap_or(QuantileRule::Math) {
                QuantileRule::Math => dh_survey::QuantileRule::Math,
                QuantileRule::School => dh_survey::QuantileRule::School,
                QuantileRule::Hf7 => dh_survey::QuantileRule::Hf7,
            };
            let interval = match s.interval_type.unwrap_or(IntervalType::Mean) {
                IntervalType::Mean => QuantileInterval::Mean,
                IntervalType::Beta => QuantileInterval::Beta,
                IntervalType::Xlogit => QuantileInterval::Xlogit,
                IntervalType::Asin => QuantileInterval::Asin,
                IntervalType::Score => QuantileInterval::Score,
                IntervalType::Quantile => QuantileInterval::Quantile,
            };
            design.quantile(&v, &s.quantiles, rule, interval, domains, &options)?
        }
    })
}

/// Converts the library's estimates into report rows, ordered and named as R orders and names them:
/// without `--by`, R's names (`api00`, `stypeE`); with `--by`, svyby's labels (`E`, `E.Yes`, or
/// `E:stypeE` when a domain holds several estimates), statistic-major like `coef(svyby(...))`.
fn label_rows(index: usize, analysis: &Analysis, estimates: Vec<Estimate>) -> Vec<EstimateRow> {
    let mut rows: Vec<(usize, EstimateRow)> = Vec::with_capacity(estimates.len());
    let mut names: Vec<String> = Vec::new();
    for e in estimates {
        let position = match names.iter().position(|n| *n == e.name) {
            Some(p) => p,
            None => {
                names.push(e.name.clone());
                names.len() - 1
            }
        };
        let domain = if analysis.by.is_empty() {
            None
        } else {
            Some(Domain(
                analysis
                    .by
                    .iter()
                    .cloned()
                    .zip(e.domain.iter().cloned())
                    .collect(),
            ))
        };
        rows.push((
            position,
            EstimateRow {
                domain,
                name: e.name,
                estimate: e.estimate,
                se: e.se,
                ci_lower: e.ci_lower,
                ci_upper: e.ci_upper,
                ci_method: e.ci_method.to_string(),
                df: if e.df.is_finite() { Some(e.df) } else { None },
                deff: e.deff,
                n_unweighted: e.n_unweighted,
                n_weighted: e.n_weighted,
                stat: analysis.statistic.stat.keyword().to_string(),
                analysis: index,
            },
        ));
    }
    rows.sort_by_key(|(position, _)| *position);
    let several = names.len() > 1;
    rows.into_iter()
        .map(|(_, mut row)| {
            if let Some(domain) = &row.domain {
                row.name = if several {
                    format!("{}:{}", domain.label(), row.name)
                } else {
                    domain.label()
                };
            }
            row
        })
        .collect()
}

/// The line describing the design and variance method, for the table format.
fn design_line(request: &EstimateRequest) -> String {
    let d = &request.design;
    let mut design = Vec::new();
    if let Some(s) = &d.strata {
        design.push(format!("strata {s}"));
    }
    if !d.ids.is_empty() {
        design.push(format!("clusters {}", d.ids.join(" > ")));
    }
    if let Some(w) = &d.weights {
        design.push(format!("weights {w}"));
    }
    if let Some(p) = &d.probs {
        design.push(format!("probabilities {p}"));
    }
    if !d.fpc.is_empty() {
        design.push(format!("fpc {}", d.fpc.join(", ")));
    }
    if d.nest {
        design.push("nested".to_string());
    }
    let variance = match &request.replicates {
        None => "Taylor linearisation".to_string(),
        Some(crate::request::ReplicateOptions::Convert { kind, .. }) => {
            format!("{} replicate weights built from the design", kind.keyword())
        }
        Some(crate::request::ReplicateOptions::Supplied { file, kind, .. }) => {
            format!(
                "{} replicate weights from {}",
                kind.keyword(),
                file.display()
            )
        }
    };
    format!("Variance: {variance}; {}", design.join(", "))
}

/// The line describing one analysis, for the table format.
fn analysis_line(analysis: &Analysis) -> String {
    let s = &analysis.statistic;
    let mut statistic = format!("Statistic: {} of {}", s.stat.keyword(), s.vars.join(", "));
    if let Some(den) = &s.denominator {
        statistic.push_str(&format!(" / {den}"));
    }
    if !analysis.by.is_empty() {
        statistic.push_str(&format!(", by {}", analysis.by.join(" x ")));
    }
    for c in &analysis.subset {
        statistic.push_str(&format!(", where {} = {}", c.column, c.value));
    }
    statistic.push_str(&format!("; {}% intervals", s.level * 100.0));
    statistic
}

/// The text printed for `format`.
pub fn render(report: &Report, request: &EstimateRequest, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => report.to_json(),
        OutputFormat::Csv => to_csv(report),
        OutputFormat::Table => {
            let analyses: Vec<String> = request.analyses.iter().map(analysis_line).collect();
            to_table(report, &design_line(request), &analyses)
        }
    }
}
