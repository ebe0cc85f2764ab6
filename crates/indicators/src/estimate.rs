//! Estimates of one indicator for one country: the total and every level of every disaggregation, each with its
//! publication flag. Uses `dh-survey` (R `survey` equivalents): `svyciprop` (logit or Korn-Graubard = R's
//! "beta") for proportions, `svymean` for means (and for the design effect of proportions), `svytotal` for counts.
//!
//! The denominator of a domain is the rows of [`Prepared::in_denominator`] in that level; rows outside keep the
//! design with weight 0 (R's `subset`), so variances use every PSU. Every level in the schema gets a row, even when
//! no case falls in it (`suppressed`). Suppressed and not-collected rows have null estimate, SE, interval, df,
//! deff and population estimate. `population_estimate` is the estimate x the weighted denominator for
//! proportions (e.g. "about 400,000 children"), the estimate itself for counts, and null for means.

use dh_survey::{
    CipropMethod, Deff, DomainSpec, Estimate, Factor, NA_CODE, Options, SurveyDesign, SurveyError,
    Variable,
};

use crate::catalogue::{CiMethod, Indicator, Statistic};
use crate::flags::{Flag, publication_flag};
use crate::pipeline_config::Thresholds;
use crate::prepare::Prepared;

/// The `domain` value of the whole-universe row.
pub const TOTAL: &str = "total";

/// One output row (without the country, which the caller adds).
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateRow {
    pub indicator: String,
    pub indicator_version: String,
    /// `total` or the disaggregation column.
    pub domain: String,
    /// `total` or the level.
    pub domain_value: String,
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub ci_method: &'static str,
    pub df: Option<f64>,
    pub deff: Option<f64>,
    pub n_unweighted: usize,
    pub n_weighted: f64,
    pub population_estimate: Option<f64>,
    pub flag: Flag,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("indicator `{indicator}`, domain `{domain}`: {source}")]
pub struct EstimateError {
    pub indicator: String,
    pub domain: String,
    #[source]
    pub source: SurveyError,
}

/// Estimates `indicator` from its prepared rows on `design` (the country's raked design, same rows and order).
pub fn estimate_indicator(
    design: &SurveyDesign,
    indicator: &Indicator,
    prepared: &Prepared,
    thresholds: &Thresholds,
) -> Result<Vec<EstimateRow>, EstimateError> {
    let n = prepared.in_denominator.len();
    if design.n_rows() != n {
        return Err(EstimateError {
            indicator: indicator.id.clone(),
            domain: TOTAL.into(),
            source: SurveyError::Invalid(format!(
                "design has {} rows, the indicator's table {n}",
                design.n_rows()
            )),
        });
    }
    let mut rows = Vec::new();
    let total_codes = vec![0u32; n];
    let total_levels = vec![TOTAL.to_string()];
    let mut sets: Vec<(&str, Vec<u32>, &[String])> = vec![(TOTAL, total_codes, &total_levels)];
    for d in &prepared.domains {
        let codes = d.codes.iter().map(|c| c.unwrap_or(NA_CODE)).collect();
        sets.push((&d.column, codes, &d.levels));
    }
    for (domain, codes, levels) in &sets {
        let by = if *domain == TOTAL {
            vec![]
        } else {
            vec![Factor {
                codes,
                labels: levels,
            }]
        };
        let spec = DomainSpec {
            subset: Some(&prepared.in_denominator),
            by,
        };
        let counts = level_counts(prepared, codes, levels.len(), design.weights());
        let any_published = !prepared.not_collected
            && counts
                .iter()
                .any(|(nu, _)| !publication_flag(*nu, false, thresholds).hides_estimate());
        let estimates = if any_published {
            run_estimators(design, indicator, prepared, &spec).map_err(|source| EstimateError {
                indicator: indicator.id.clone(),
                domain: domain.to_string(),
                source,
            })?
        } else {
            Vec::new()
        };
        for (level, label) in levels.iter().enumerate() {
            let (n_unweighted, n_weighted) = counts[level];
            let flag = publication_flag(n_unweighted, prepared.not_collected, thresholds);
            let found = estimates
                .iter()
                .find(|(e, _)| *domain == TOTAL || e.domain.first() == Some(label));
            let mut row = EstimateRow {
                indicator: indicator.id.clone(),
                indicator_version: indicator.version.clone(),
                domain: domain.to_string(),
                domain_value: label.clone(),
                estimate: None,
                se: None,
                ci_lower: None,
                ci_upper: None,
                ci_method: indicator.ci_method.name(),
                df: None,
                deff: None,
                n_unweighted,
                n_weighted,
                population_estimate: None,
                flag,
            };
            if let (false, Some((e, deff))) = (flag.hides_estimate(), found) {
                row.estimate = finite(e.estimate);
                row.se = finite(e.se);
                row.ci_lower = finite(e.ci_lower);
                row.ci_upper = finite(e.ci_upper);
                row.df = finite(e.df);
                row.deff = deff.and_then(finite);
                if indicator.statistic == Statistic::Proportion {
                    boundary_interval(&mut row, e.estimate);
                }
                row.population_estimate = match indicator.statistic {
                    Statistic::Proportion => finite(e.estimate * n_weighted),
                    Statistic::Count => finite(e.estimate),
                    Statistic::Mean => None,
                };
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The single row of an indicator whose table the country did not deliver (`delivered = false`): the total,
/// flagged `not_collected`, with nothing estimated (the same shape as a family indicator without its table).
pub fn not_delivered_row(indicator: &Indicator) -> EstimateRow {
    EstimateRow::not_collected(
        &indicator.id,
        &indicator.version,
        indicator.ci_method.name(),
    )
}

impl EstimateRow {
    /// The total row of an indicator with nothing to estimate, flagged `not_collected`.
    pub fn not_collected(id: &str, version: &str, ci_method: &'static str) -> EstimateRow {
        EstimateRow {
            indicator: id.to_string(),
            indicator_version: version.to_string(),
            domain: TOTAL.into(),
            domain_value: TOTAL.into(),
            estimate: None,
            se: None,
            ci_lower: None,
            ci_upper: None,
            ci_method,
            df: None,
            deff: None,
            n_unweighted: 0,
            n_weighted: 0.0,
            population_estimate: None,
            flag: Flag::NotCollected,
        }
    }
}

/// Unweighted and weighted denominator per level.
fn level_counts(
    prepared: &Prepared,
    codes: &[u32],
    levels: usize,
    weights: &[f64],
) -> Vec<(usize, f64)> {
    let mut out = vec![(0usize, 0.0f64); levels];
    for ((&keep, &code), &w) in prepared.in_denominator.iter().zip(codes).zip(weights) {
        if keep
            && w > 0.0
            && let Some(slot) = out.get_mut(code as usize)
        {
            slot.0 += 1;
            slot.1 += w;
        }
    }
    out
}

/// The estimates of every domain of `spec`, each with its design effect (from svymean) where defined.
fn run_estimators(
    design: &SurveyDesign,
    indicator: &Indicator,
    prepared: &Prepared,
    spec: &DomainSpec<'_>,
) -> Result<Vec<(Estimate, Option<f64>)>, SurveyError> {
    let var = Variable::Numeric {
        name: &indicator.id,
        values: &prepared.value,
    };
    let with_deff = Options {
        deff: Deff::Srs,
        ..Options::default()
    };
    match indicator.statistic {
        Statistic::Proportion => {
            let method = match indicator.ci_method {
                CiMethod::KornGraubard => CipropMethod::Beta,
                CiMethod::Logit | CiMethod::Wald => CipropMethod::Logit,
            };
            // Point estimate, SE and deff from svymean (exact weighted mean; svyciprop reports the same SE), the
            // interval from svyciprop; one call so the raked design linearises each domain once for both.
            Ok(design
                .ciprop_with_mean(&var, method, spec, &with_deff)?
                .into_iter()
                .map(|(mut p, m)| {
                    p.estimate = m.estimate;
                    p.se = m.se;
                    (p, m.deff)
                })
                .collect())
        }
        Statistic::Mean => Ok(design
            .mean(&var, spec, &with_deff)?
            .into_iter()
            .map(|m| (m.clone(), m.deff))
            .collect()),
        Statistic::Count => Ok(design
            .total(&var, spec, &with_deff)?
            .into_iter()
            .map(|m| (m.clone(), m.deff))
            .collect()),
    }
}

/// At an estimate of exactly 0 or 1 the variance is 0 and neither the logit nor the Korn-Graubard interval is
/// defined (R returns NaN). Following the NCHS presentation standard for proportions, the Clopper-Pearson interval
/// with the effective sample size set to the unweighted denominator is used: [0, 1 - (alpha/2)^(1/n)] at 0 and
/// [(alpha/2)^(1/n), 1] at 1; the row's `ci_method` says `korn_graubard`.
fn boundary_interval(row: &mut EstimateRow, p: f64) {
    if (p != 0.0 && p != 1.0) || row.n_unweighted == 0 {
        return;
    }
    let alpha: f64 = 0.05;
    let edge = (alpha / 2.0).powf(1.0 / row.n_unweighted as f64);
    (row.ci_lower, row.ci_upper) = if p == 0.0 {
        (Some(0.0), Some(1.0 - edge))
    } else {
        (Some(edge), Some(1.0))
    };
    row.ci_method = CiMethod::KornGraubard.name();
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
#[path = "estimate_tests.rs"]
mod tests;
