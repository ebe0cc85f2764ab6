//! Estimates of one indicator for one country: the total and every level of every disaggregation, each with its
//! publication flags. Uses `dh-survey` (R `survey` equivalents): `svyciprop` (logit or Korn-Graubard = R's
//! "beta") for proportions, `svymean` for means (and for the design effect of proportions), `svytotal` for counts.
//!
//! The denominator of a domain is the rows of [`Prepared::in_denominator`] in that level; rows outside keep the
//! design with weight 0 (R's `subset`), so variances use every PSU. Every level in the schema gets a row, even when
//! no case falls in it (`suppressed`). Suppressed and not-collected rows have null estimate, SE, interval, df,
//! deff and population estimate. `population_estimate` is the estimate x the weighted denominator for
//! proportions (e.g. "about 400,000 children"), the estimate itself for counts, and null for means.
//!
//! Counts. A count (`svytotal` of a 0/1 over the denominator) is p x N, N the domain's weighted denominator. Its
//! Wald interval goes below zero in small domains, so it is not used ([`count_interval`]):
//! * when N is fixed by the calibration (every row is in the denominator and the domain is the total or a raking
//!   margin: sex, age band, urban/rural), var(count) = N^2 var(p) exactly, and the interval is the proportion's
//!   logit interval (closed form `expit(logit(p) +- t_df se_p / (p (1 - p)))`, the interval R's
//!   `svyciprop(method = "logit")` converges to, with svyciprop's degrees of freedom of the domain, which the row's
//!   `df` then reports) times N; `ci_method` `logit`;
//! * otherwise N is itself estimated, and the interval is the log-scale interval `T exp(+- t_df se_T / T)` with
//!   the SE of the total (it keeps the variance of N, cannot go below 0 and is the usual interval for a positive
//!   total); `ci_method` `log`;
//! * at p = 0 (or p = 1 when N is fixed) the variance is 0 and the Clopper-Pearson boundary interval of the
//!   proportion (below) times N is used; `ci_method` `korn_graubard`.
//!
//! Every published row is then checked by the stage against [`crate::invariants`] (no bound below 0, the estimate
//! inside its interval, ...): a violation is an error, never a published row.
//!
//! Flags ([`crate::flags`]): the base rules on the unweighted denominator, then `unreliable` by the NCHS rules
//! (RSE of counts and means, interval width and effective sample size of proportions), or because no interval
//! can be computed (a level with no degrees of freedom: [`not_estimable`]). Withheld rows hide
//! `n_weighted` too, and a breakdown never has exactly one withheld level ([`crate::suppression`]).
//!
//! Banded domains ([`crate::bands`]): a level of a band derived from a column the universe restricts (the
//! "14-15" age band of an item asked only from age 15) is published under its true range ("15"): the
//! `domain_value` names the population the row estimates.

use dh_survey::{
    CipropMethod, Deff, DomainSpec, Estimate, Factor, Options, SurveyDesign, SurveyError, Variable,
};

use crate::bands::{DerivedBand, band_for, true_labels};
use crate::catalogue::{CiMethod, Indicator, Statistic};
use crate::flags::{Flag, Flags, Precision, publication_flag, reliability};
use crate::pipeline_config::Thresholds;
use crate::prepare::Prepared;

/// The `domain` value of the whole-universe row.
pub const TOTAL: &str = "total";

/// Two-sided level of every interval.
const ALPHA: f64 = 0.05;

/// One output row (without the country, which the caller adds).
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateRow {
    pub indicator: String,
    pub indicator_version: String,
    /// What the estimate is: `proportion`, `mean`, `count` (survey) or the family statistic (`share`, ...).
    pub statistic: &'static str,
    /// `total` or the disaggregation column.
    pub domain: String,
    /// `total` or the level (its true range for a band the universe cuts, see [`crate::bands`]).
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
    /// The first of `flags` in [`Flag::PRECEDENCE`] (`ok` when none holds); set with [`EstimateRow::set_flags`].
    pub flag: Flag,
    /// Every condition that holds.
    pub flags: Flags,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("indicator `{indicator}`, domain `{domain}`: {source}")]
pub struct EstimateError {
    pub indicator: String,
    pub domain: String,
    #[source]
    pub source: SurveyError,
}

/// What the estimator needs besides the indicator, its rows and the design.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub thresholds: &'a Thresholds,
    /// Columns whose level totals the design's weights are calibrated to (the raking margins).
    pub calibrated: &'a [String],
    /// Banded columns derived from numeric ones (schemas), for the true labels of cut bands.
    pub bands: &'a [DerivedBand],
}

/// Estimates `indicator` from its prepared rows on `design` (the country's raked design, same rows and order).
pub fn estimate_indicator(
    design: &SurveyDesign,
    indicator: &Indicator,
    prepared: &Prepared,
    settings: &Settings<'_>,
) -> Result<Vec<EstimateRow>, EstimateError> {
    let thresholds = settings.thresholds;
    let n = prepared.in_denominator.len();
    let error = |domain: &str, source: SurveyError| EstimateError {
        indicator: indicator.id.clone(),
        domain: domain.to_string(),
        source,
    };
    if design.n_rows() != n {
        return Err(error(
            TOTAL,
            SurveyError::Invalid(format!(
                "design has {} rows, the indicator's table {n}",
                design.n_rows()
            )),
        ));
    }
    let everyone = prepared.in_denominator.iter().all(|&b| b);
    let mut rows = Vec::new();
    let total_codes = vec![0u32; n];
    let total_levels = vec![TOTAL.to_string()];
    // the disaggregations' codes as prepared (NA_CODE where a row has no level), borrowed
    let mut sets: Vec<(&str, &[u32], &[String])> = vec![(TOTAL, &total_codes, &total_levels)];
    for d in &prepared.domains {
        sets.push((&d.column, &d.codes, &d.levels));
    }
    let counts: Vec<Vec<(usize, f64)>> = sets
        .iter()
        .map(|(_, codes, levels)| level_counts(prepared, codes, levels.len(), design.weights()))
        .collect();
    // the sets with a level that can be published are estimated, all in one call where the design allows
    let published: Vec<usize> = (0..sets.len())
        .filter(|&k| {
            !prepared.not_collected
                && counts[k]
                    .iter()
                    .any(|(nu, _)| !publication_flag(*nu, false, thresholds).hides_estimate())
        })
        .collect();
    let chosen: Vec<(&str, &[u32], &[String])> = published.iter().map(|&k| sets[k]).collect();
    let mut estimated = run_estimators_each(design, indicator, prepared, &chosen)
        .map_err(|(k, e)| error(chosen.get(k).map_or(TOTAL, |c| c.0), e))?
        .into_iter();
    for (k, ((domain, _, levels), counts)) in sets.iter().zip(&counts).enumerate() {
        let estimates = if published.contains(&k) {
            estimated.next().unwrap_or_default()
        } else {
            Vec::new()
        };
        let labels: Vec<Option<String>> = band_for(settings.bands, &indicator.table, domain)
            .filter(|_| *domain != TOTAL)
            .map(|band| true_labels(indicator.universe.expr(), band))
            .filter(|l| l.len() == levels.len())
            .unwrap_or_else(|| vec![None; levels.len()]);
        let calibrated =
            everyone && (*domain == TOTAL || settings.calibrated.iter().any(|c| c == domain));
        for (level, label) in levels.iter().enumerate() {
            let (n_unweighted, n_weighted) = counts[level];
            let mut flags = Flags::of(publication_flag(
                n_unweighted,
                prepared.not_collected,
                thresholds,
            ));
            let found = estimates
                .iter()
                .find(|d| *domain == TOTAL || d.estimate.domain.first() == Some(label));
            let mut row = EstimateRow {
                indicator: indicator.id.clone(),
                indicator_version: indicator.version.clone(),
                statistic: indicator.statistic.name(),
                domain: domain.to_string(),
                domain_value: labels[level].clone().unwrap_or_else(|| label.clone()),
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
                flag: Flag::Ok,
                flags: Flags::OK,
            };
            if let (false, Some(found)) = (flags.hides_estimate(), found) {
                let e = &found.estimate;
                row.estimate = finite(e.estimate);
                row.se = finite(e.se);
                row.ci_lower = finite(e.ci_lower);
                row.ci_upper = finite(e.ci_upper);
                row.df = finite(e.df);
                row.deff = found.deff.and_then(finite);
                match indicator.statistic {
                    Statistic::Proportion => {
                        boundary_interval(&mut row, e.estimate);
                        row.population_estimate = finite(e.estimate * n_weighted);
                    }
                    Statistic::Count => {
                        if let Some(p) = &found.proportion {
                            count_interval(&mut row, p, calibrated);
                        }
                        row.population_estimate = finite(e.estimate);
                    }
                    Statistic::Mean => {}
                }
                if row.ci_lower.is_none() || row.ci_upper.is_none() {
                    not_estimable(&mut row);
                    flags.insert(Flag::Unreliable);
                } else if let Some(f) =
                    precision(&row, indicator.statistic).and_then(|p| reliability(p, thresholds))
                {
                    flags.insert(f);
                }
            }
            row.set_flags(flags);
            rows.push(row);
        }
        let first = rows.len() - levels.len();
        if *domain == TOTAL {
            crate::suppression::hide(&mut rows[first]);
        } else {
            crate::suppression::complement_levels(&mut rows[first..]);
        }
    }
    Ok(rows)
}

/// A shown estimate without an interval: the level has no degrees of freedom (every case in one PSU, so svyciprop's
/// t quantile is undefined, as in R), and the variance the design gives it (0: one PSU total) is no measure of its
/// precision. SE, design effect and interval are left empty, `ci_method` says `none`, and the caller flags the
/// row `unreliable` (its precision cannot be assessed); `df` keeps the 0 that says why.
fn not_estimable(row: &mut EstimateRow) {
    (row.se, row.deff, row.ci_lower, row.ci_upper) = (None, None, None, None);
    row.ci_method = "none";
}

/// What the reliability rule looks at for a published survey row (`None` when the row has no estimate).
fn precision(row: &EstimateRow, statistic: Statistic) -> Option<Precision> {
    let estimate = row.estimate?;
    Some(match statistic {
        Statistic::Proportion => Precision::Proportion {
            ci_lower: row.ci_lower?,
            ci_upper: row.ci_upper?,
            n_unweighted: row.n_unweighted,
            deff: row.deff,
        },
        Statistic::Count | Statistic::Mean => Precision::Magnitude {
            estimate,
            se: row.se?,
        },
    })
}

/// The single row of an indicator whose table the country did not deliver (`delivered = false`): the total,
/// flagged `not_collected`, with nothing estimated (the same shape as a family indicator without its table).
pub fn not_delivered_row(indicator: &Indicator) -> EstimateRow {
    EstimateRow::not_collected(
        &indicator.id,
        &indicator.version,
        indicator.statistic.name(),
        indicator.ci_method.name(),
    )
}

impl EstimateRow {
    /// The total row of an indicator with nothing to estimate, flagged `not_collected`.
    pub fn not_collected(
        id: &str,
        version: &str,
        statistic: &'static str,
        ci_method: &'static str,
    ) -> EstimateRow {
        EstimateRow {
            indicator: id.to_string(),
            indicator_version: version.to_string(),
            statistic,
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
            flags: Flags::of(Flag::NotCollected),
        }
    }

    /// Sets every condition of the row and its primary `flag`.
    pub fn set_flags(&mut self, flags: Flags) {
        self.flags = flags;
        self.flag = flags.primary();
    }

    /// Adds one condition (the primary `flag` follows the precedence).
    pub fn add_flag(&mut self, flag: Flag) {
        self.set_flags(self.flags.with(flag));
    }
}

/// Unweighted and weighted denominator per level: the rows in the denominator with a positive weight, their
/// weights added in row order from 0.0.
fn level_counts(
    prepared: &Prepared,
    codes: &[u32],
    levels: usize,
    weights: &[f64],
) -> Vec<(usize, f64)> {
    if levels <= LEVEL_LANES {
        return level_counts_side_by_side(&prepared.in_denominator, codes, levels, weights);
    }
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

/// Levels whose sums [`level_counts_side_by_side`] keeps in registers.
const LEVEL_LANES: usize = 4;

/// [`level_counts`] of at most [`LEVEL_LANES`] levels in one pass, every level's sum in its own register: a row
/// adds its weight to its level and +0.0 to the others. A sum that starts from +0.0 and adds positive weights is
/// never -0.0, so adding +0.0 leaves its bits unchanged: the same bits as adding the level's rows alone.
fn level_counts_side_by_side(
    keep: &[bool],
    codes: &[u32],
    levels: usize,
    weights: &[f64],
) -> Vec<(usize, f64)> {
    let mut sums = [0.0f64; LEVEL_LANES];
    let mut counts = [0usize; LEVEL_LANES];
    for ((&keep, &code), &w) in keep.iter().zip(codes).zip(weights) {
        let counted = keep && w > 0.0;
        for (l, (s, n)) in sums.iter_mut().zip(counts.iter_mut()).enumerate() {
            let here = counted && code as usize == l;
            *s += if here { w } else { 0.0 };
            *n += usize::from(here);
        }
    }
    counts.into_iter().zip(sums).take(levels).collect()
}

/// The estimates of one domain: the statistic, its design effect (from svymean/svytotal) where defined, and for
/// counts the proportion p = count / N behind it (svyciprop of the 0/1 over the same denominator).
struct DomainEstimate {
    estimate: Estimate,
    deff: Option<f64>,
    proportion: Option<Estimate>,
}

/// The estimates of every domain of each set (`name`, level codes, levels; the total's codes all 0 and no `by`),
/// as [`run_estimators`] on each in turn: proportions in one call that checks the variable and computes the
/// denominator's degrees of freedom once. The first error comes with the index of its set.
fn run_estimators_each<'a>(
    design: &SurveyDesign,
    indicator: &Indicator,
    prepared: &Prepared,
    sets: &[(&str, &'a [u32], &'a [String])],
) -> Result<Vec<Vec<DomainEstimate>>, (usize, SurveyError)> {
    let spec = |&(domain, codes, labels): &(&str, &'a [u32], &'a [String])| -> Vec<Factor<'a>> {
        if domain == TOTAL {
            Vec::new()
        } else {
            vec![Factor { codes, labels }]
        }
    };
    let subset = Some(prepared.in_denominator.as_slice());
    if indicator.statistic != Statistic::Proportion {
        return sets
            .iter()
            .enumerate()
            .map(|(k, set)| {
                let spec = DomainSpec {
                    subset,
                    by: spec(set),
                };
                run_estimators(design, indicator, prepared, &spec).map_err(|e| (k, e))
            })
            .collect();
    }
    let by: Vec<Vec<Factor<'_>>> = sets.iter().map(spec).collect();
    let var = Variable::Numeric {
        name: &indicator.id,
        values: &prepared.value,
    };
    let with_deff = Options {
        deff: Deff::Srs,
        ..Options::default()
    };
    let each = design.ciprop_with_mean_each(&var, ci_method(indicator), subset, &by, &with_deff)?;
    Ok(each
        .into_iter()
        .map(|pairs| pairs.into_iter().map(proportion_estimate).collect())
        .collect())
}

/// svyciprop's method for a proportion's `ci_method`.
fn ci_method(indicator: &Indicator) -> CipropMethod {
    match indicator.ci_method {
        CiMethod::KornGraubard => CipropMethod::Beta,
        CiMethod::Logit | CiMethod::Wald => CipropMethod::Logit,
    }
}

/// A proportion's estimate: point estimate, SE and deff from svymean (exact weighted mean; svyciprop reports the
/// same SE), the interval from svyciprop.
fn proportion_estimate((mut p, m): (Estimate, Estimate)) -> DomainEstimate {
    p.estimate = m.estimate;
    p.se = m.se;
    DomainEstimate {
        estimate: p,
        deff: m.deff,
        proportion: None,
    }
}

/// The estimates of every domain of `spec`.
fn run_estimators(
    design: &SurveyDesign,
    indicator: &Indicator,
    prepared: &Prepared,
    spec: &DomainSpec<'_>,
) -> Result<Vec<DomainEstimate>, SurveyError> {
    let var = Variable::Numeric {
        name: &indicator.id,
        values: &prepared.value,
    };
    let with_deff = Options {
        deff: Deff::Srs,
        ..Options::default()
    };
    let plain = |e: Estimate| DomainEstimate {
        deff: e.deff,
        estimate: e,
        proportion: None,
    };
    match indicator.statistic {
        Statistic::Proportion => {
            // one call so the raked design linearises each domain once for both
            Ok(design
                .ciprop_with_mean(&var, ci_method(indicator), spec, &with_deff)?
                .into_iter()
                .map(proportion_estimate)
                .collect())
        }
        Statistic::Mean => Ok(design
            .mean(&var, spec, &with_deff)?
            .into_iter()
            .map(plain)
            .collect()),
        Statistic::Count => {
            let totals = design.total(&var, spec, &with_deff)?;
            // svyciprop's "mean" method: the proportion, its SE and the df svyciprop uses for the domain (the
            // domain's own design), without a model fit; the logit interval is then computed in closed form.
            let props = design.ciprop(&var, CipropMethod::Mean, spec, &Options::default())?;
            Ok(totals
                .into_iter()
                .map(|t| {
                    let proportion = props.iter().find(|m| m.domain == t.domain).cloned();
                    DomainEstimate {
                        deff: t.deff,
                        estimate: t,
                        proportion,
                    }
                })
                .collect())
        }
    }
}

/// The interval of a count row (see the module documentation): the proportion's interval times the calibrated N,
/// or the log-scale interval of the total; the Clopper-Pearson boundary interval times N at p = 0 (and p = 1
/// when N is calibrated). `row` holds the total (estimate, SE, df) and its weighted denominator N.
fn count_interval(row: &mut EstimateRow, p: &Estimate, calibrated: bool) {
    let (Some(total), Some(se), Some(df)) = (row.estimate, row.se, row.df) else {
        return;
    };
    let n = row.n_weighted;
    let boundary = |row: &mut EstimateRow, prop: f64| {
        if let Some((lo, hi)) = clopper_pearson_boundary(prop, row.n_unweighted) {
            (row.ci_lower, row.ci_upper) = (Some(lo * n), Some(hi * n));
            row.ci_method = CiMethod::KornGraubard.name();
        }
    };
    if total == 0.0 || (calibrated && (p.estimate == 0.0 || p.estimate == 1.0)) {
        boundary(row, if total == 0.0 { 0.0 } else { p.estimate });
        row.ci_upper = row.ci_upper.map(|hi| hi.max(total));
        return;
    }
    let (lo, hi) = if calibrated {
        // The proportion's interval, with the proportion's degrees of freedom (the domain's, as svyciprop; the
        // design's when the domain has none, e.g. all its cases in one PSU).
        let df = if p.df.is_finite() && p.df > 0.0 {
            p.df
        } else {
            df
        };
        let q = dh_survey::dist::qt(1.0 - ALPHA / 2.0, df, true);
        let (lo, hi) = logit_interval(p.estimate, p.se, q);
        row.df = finite(df);
        row.ci_method = CiMethod::Logit.name();
        (lo * n, hi * n)
    } else {
        let q = dh_survey::dist::qt(1.0 - ALPHA / 2.0, df, true);
        let factor = (q * se / total).exp();
        row.ci_method = "log";
        (total / factor, total * factor)
    };
    // p x N and the survey total are the same number up to rounding: the interval holds the published total.
    row.ci_lower = finite(lo).map(|lo| lo.min(total));
    row.ci_upper = finite(hi).map(|hi| hi.max(total));
}

/// The logit interval of a proportion `p` (0 < p < 1) with standard error `se`, `q` the t quantile:
/// `expit(logit(p) +- q se / (p (1 - p)))` (delta method on the logit scale; the interval R's
/// `svyciprop(method = "logit")` gives when its fit converges). Never collapses: for a positive SE both bounds
/// are strictly inside (0, 1) up to floating point, and p lies between them.
pub fn logit_interval(p: f64, se: f64, q: f64) -> (f64, f64) {
    let eta = (p / (1.0 - p)).ln();
    let half = q * se / (p * (1.0 - p));
    let expit = |x: f64| 1.0 / (1.0 + (-x).exp());
    (expit(eta - half).min(p), expit(eta + half).max(p))
}

/// Clopper-Pearson interval at an estimate of exactly 0 or 1 with `n` cases: [0, 1 - (alpha/2)^(1/n)] at 0,
/// [(alpha/2)^(1/n), 1] at 1; `None` otherwise.
fn clopper_pearson_boundary(p: f64, n: usize) -> Option<(f64, f64)> {
    if (p != 0.0 && p != 1.0) || n == 0 {
        return None;
    }
    let edge = (ALPHA / 2.0).powf(1.0 / n as f64);
    Some(if p == 0.0 {
        (0.0, 1.0 - edge)
    } else {
        (edge, 1.0)
    })
}

/// At an estimate of exactly 0 or 1 the variance is 0 and neither the logit nor the Korn-Graubard interval is
/// defined (R returns NaN). Following the NCHS presentation standard for proportions, the Clopper-Pearson interval
/// with the effective sample size set to the unweighted denominator is used: [0, 1 - (alpha/2)^(1/n)] at 0 and
/// [(alpha/2)^(1/n), 1] at 1; the row's `ci_method` says `korn_graubard`.
fn boundary_interval(row: &mut EstimateRow, p: f64) {
    if let Some((lo, hi)) = clopper_pearson_boundary(p, row.n_unweighted) {
        (row.ci_lower, row.ci_upper) = (Some(lo), Some(hi));
        row.ci_method = CiMethod::KornGraubard.name();
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[cfg(test)]
#[path = "estimate_tests.rs"]
mod tests;
