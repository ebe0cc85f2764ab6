//! Calibration of a Taylor design's weights, as R's `survey` does it, and the matching variance adjustment:
//! - [`post_stratify`]: `postStratify(design, ~factor, population)`; [`post_stratify_cross`] for crossed factors
//!   (`~a+b`);
//! - [`rake`]: `rake(design, margins, population.margins, control)` with R's default control (`maxit = 10`,
//!   `epsilon = 1`: absolute when >= 1, relative to the sum of weights below 1), so the weights equal R's even
//!   when not converged; [`RakeControl::converged`] iterates to convergence;
//! - [`calibrate`]: `calibrate(design, formula, population, calfun)` for the linear (GREG, closed form when
//!   unbounded), raking and logit calfuns with R's `grake` iteration and tolerances.
//!
//! The `*_replicates` functions calibrate a replicate design's full-sample and replicate weights together, as R's
//! methods for `svyrep.design` do.
//!
//! Each Taylor function returns the calibrated weights and a [`Calibration`], which residualises influence values
//! the way R's `svyrecvar` does with the design's `postStrata`: within post-stratum weighted residuals
//! (postStratify), exactly 10 back-fitting sweeps over the margins (rake, whatever its convergence; run on level
//! sums, see `rake_residual.rs`), weighted least-squares residuals on the calibration model matrix (calibrate,
//! R's `qr.resid`). Weights are handled as R holds them: selection probabilities `1/w` divided by the
//! adjustment, weights `1/prob`.

mod greg;
mod poststratify;
mod rake_residual;
mod replicates;

use crate::SurveyError;
use crate::design::Factor;
use crate::estimator::Residualise;
use crate::linalg::Qr;
use poststratify::{PostStratum, post_stratify_step};
use rake_residual::RakeResidual;
pub use replicates::{
    CalibratedReplicates, calibrate_replicates, calibrate_replicates_to_margins,
    post_stratify_replicates, rake_replicates,
};

/// Population counts of the levels of one categorical variable (the oracle's `{"variable", "levels", "totals"}`).
#[derive(Debug, Clone, Copy)]
pub struct FactorMargin<'a> {
    /// The variable's name (for messages and `margins_to_totals` column names).
    pub variable: &'a str,
    /// The sample's values of the variable.
    pub factor: Factor<'a>,
    /// Population levels, matched to the sample's labels by text.
    pub levels: &'a [String],
    pub totals: &'a [f64],
}

/// A term of a calibration formula (`~stype+api99`): a numeric variable or a factor (treatment contrasts).
#[derive(Debug, Clone, Copy)]
pub enum Term<'a> {
    Numeric { name: &'a str, values: &'a [f64] },
    Factor { name: &'a str, factor: Factor<'a> },
}

/// The model of [`calibrate`]: terms in formula order and whether the intercept is included.
#[derive(Debug, Clone)]
pub struct CalibrationModel<'a> {
    pub terms: Vec<Term<'a>>,
    pub intercept: bool,
}

/// R's `calfun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalFun {
    Linear,
    Raking,
    Logit,
}

/// R's `calibrate()` arguments: `calfun`, `bounds`, `maxit` (50), `epsilon` (1e-7), `force`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrateOptions {
    pub calfun: CalFun,
    pub bounds: (f64, f64),
    pub maxit: usize,
    pub epsilon: f64,
    /// Keep the weights of a calibration that did not converge (R `force=TRUE`) instead of an error.
    pub force: bool,
}

impl CalibrateOptions {
    /// R's defaults for a calfun: unbounded, `maxit = 50`, `epsilon = 1e-7`.
    pub fn new(calfun: CalFun) -> Self {
        Self {
            calfun,
            bounds: (f64::NEG_INFINITY, f64::INFINITY),
            maxit: 50,
            epsilon: 1e-7,
            force: false,
        }
    }
}

/// `rake()`'s `control`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RakeControl {
    pub maxit: usize,
    /// Absolute change of the joint weighted table when >= 1, relative to the sum of weights when < 1.
    pub epsilon: f64,
}

impl Default for RakeControl {
    /// R's default, `list(maxit = 10, epsilon = 1)`.
    fn default() -> Self {
        Self {
            maxit: 10,
            epsilon: 1.0,
        }
    }
}

impl RakeControl {
    /// Iterate to convergence: `list(maxit = 200, epsilon = 1e-13)` (1e-13 x the sum of weights).
    pub fn converged() -> Self {
        Self {
            maxit: 200,
            epsilon: 1e-13,
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    PostStratify(PostStratum),
    Rake(RakeResidual),
    Greg { qr: Qr, w: Vec<f64> },
}

/// The variance record of one or more calibrations (R's `design$postStrata`), applied in order.
#[derive(Debug, Clone, Default)]
pub struct Calibration {
    steps: Vec<Step>,
}

impl Calibration {
    /// Replaces weighted influence values `x` (one per row of the design, 0 outside a domain) by their residuals
    /// from the calibration, as `svyrecvar` does.
    pub fn residualise_values(&self, x: &mut [f64]) {
        self.residualise_from(x, 0);
    }

    /// [`Calibration::residualise_values`] of an `x` that is zero outside the rows `support` (ascending): the
    /// same bits, with a first raking step visiting only those rows for its level sums.
    pub fn residualise_values_supported(&self, x: &mut [f64], support: &[u32]) {
        match self.steps.first() {
            Some(Step::Rake(margins)) => {
                margins.residualise_supported(x, support);
                self.residualise_from(x, 1);
            }
            _ => self.residualise_from(x, 0),
        }
    }

    /// The steps from `first` on.
    fn residualise_from(&self, x: &mut [f64], first: usize) {
        for step in self.steps.iter().skip(first) {
            match step {
                Step::PostStratify(ps) => ps.residualise(x),
                Step::Rake(margins) => margins.residualise(x),
                Step::Greg { qr, w } => {
                    for (v, wi) in x.iter_mut().zip(w) {
                        *v /= wi;
                    }
                    qr.residual_in_place(x);
                    for (v, wi) in x.iter_mut().zip(w) {
                        *v *= wi;
                    }
                }
            }
        }
    }
}

impl Residualise for Calibration {
    fn residualise(&self, z: &mut [f64]) {
        self.residualise_values(z);
    }

    fn residualise_supported(&self, z: &mut [f64], support: &[u32]) {
        self.residualise_values_supported(z, support);
    }

    fn residual_unit_totals(
        &self,
        z: &[f64],
        support: &[u32],
        unit_of_row: &[u32],
        n_units: usize,
    ) -> Option<Vec<f64>> {
        match self.steps.as_slice() {
            [Step::Rake(margins)] => margins.residual_unit_totals(z, support, unit_of_row, n_units),
            _ => None,
        }
    }

    fn residual_unit_totals_disjoint(
        &self,
        z: &[f64],
        supports: &[&[u32]],
        domain_of_row: &[u32],
        units: (&[u32], usize),
    ) -> Option<Vec<Vec<f64>>> {
        match self.steps.as_slice() {
            [Step::Rake(margins)] => {
                margins.residual_unit_totals_disjoint(z, supports, domain_of_row, units)
            }
            _ => None,
        }
    }
}

/// Calibrated weights and what the variance needs.
#[derive(Debug, Clone)]
pub struct Calibrated {
    pub weights: Vec<f64>,
    pub calibration: Calibration,
    /// Sweeps (rake) or Newton steps (calibrate) taken.
    pub iterations: usize,
    pub converged: bool,
    /// Warnings R would print (e.g. "Raking did not converge after 10 iterations.").
    pub warnings: Vec<String>,
}

fn probabilities(weights: &[f64]) -> Result<Vec<f64>, SurveyError> {
    if let Some(i) = weights.iter().position(|w| !w.is_finite() || *w < 0.0) {
        return Err(SurveyError::Invalid(format!(
            "calibration: weight {} in row {} is not a non-negative number",
            weights[i],
            i + 1
        )));
    }
    Ok(weights.iter().map(|w| 1.0 / w).collect())
}

/// R's `postStratify(design, ~variable, population)`; `partial` ignores population levels absent from the sample.
pub fn post_stratify(
    weights: &[f64],
    margin: &FactorMargin<'_>,
    partial: bool,
) -> Result<Calibrated, SurveyError> {
    let mut prob = probabilities(weights)?;
    let mut warnings = Vec::new();
    let step = post_stratify_step(&mut prob, margin, partial, &mut warnings)?;
    Ok(Calibrated {
        weights: prob.iter().map(|p| 1.0 / p).collect(),
        calibration: Calibration {
            steps: vec![Step::PostStratify(step)],
        },
        iterations: 1,
        converged: true,
        warnings,
    })
}

/// Population counts of the cells of several categorical variables crossed (R's `postStratify(design, ~a+b,
/// table)`): `cells[k]` holds one level per variable, `totals[k]` its count.
#[derive(Debug, Clone, Copy)]
pub struct CrossMargin<'a> {
    pub variables: &'a [&'a str],
    /// The sample's values of each variable, in the order of `variables`.
    pub factors: &'a [Factor<'a>],
    pub cells: &'a [Vec<String>],
    pub totals: &'a [f64],
}

/// Separator of level labels in a cell name; a control character that does not occur in data labels.
const CELL_SEPARATOR: char = '\u{1f}';

/// R's `postStratify(design, ~a+b, population)` with the post-strata formed by crossing several factors.
pub fn post_stratify_cross(
    weights: &[f64],
    margin: &CrossMargin<'_>,
    partial: bool,
) -> Result<Calibrated, SurveyError> {
    let n = weights.len();
    if margin.variables.len() != margin.factors.len() || margin.variables.is_empty() {
        return Err(SurveyError::Invalid(
            "cross-classified margin: one factor per variable needed".into(),
        ));
    }
    if let Some(k) = margin
        .cells
        .iter()
        .position(|c| c.len() != margin.variables.len())
    {
        return Err(SurveyError::Invalid(format!(
            "cross-classified margin: cell {} has {} levels for {} variables",
            k + 1,
            margin.cells[k].len(),
            margin.variables.len()
        )));
    }
    let mut cell_of: std::collections::HashMap<Vec<u32>, u32> = std::collections::HashMap::new();
    let mut labels: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(n);
    for i in 0..n {
        let mut key = Vec::with_capacity(margin.factors.len());
        for (f, name) in margin.factors.iter().zip(margin.variables) {
            match f.codes.get(i) {
                Some(&c) if c == crate::design::NA_CODE => {
                    let count = f
                        .codes
                        .iter()
                        .filter(|&&c| c == crate::design::NA_CODE)
                        .count();
                    return Err(SurveyError::MissingValues {
                        variable: name.to_string(),
                        count,
                    });
                }
                Some(&c) if (c as usize) < f.labels.len() => key.push(c),
                _ => {
                    return Err(SurveyError::Invalid(format!(
                        "`{name}`: no valid level for row {}",
                        i + 1
                    )));
                }
            }
        }
        let next = labels.len() as u32;
        let code = *cell_of.entry(key.clone()).or_insert_with(|| {
            let parts: Vec<&str> = key
                .iter()
                .zip(margin.factors)
                .map(|(&c, f)| f.labels[c as usize].as_str())
                .collect();
            labels.push(parts.join(&CELL_SEPARATOR.to_string()));
            next
        });
        codes.push(code);
    }
    let levels: Vec<String> = margin
        .cells
        .iter()
        .map(|c| c.join(&CELL_SEPARATOR.to_string()))
        .collect();
    let name = margin.variables.join("+");
    let joined = FactorMargin {
        variable: &name,
        factor: Factor {
            codes: &codes,
            labels: &labels,
        },
        levels: &levels,
        totals: margin.totals,
    };
    let mut out = post_stratify(weights, &joined, partial).map_err(|e| match e {
        SurveyError::Invalid(m) => SurveyError::Invalid(m.replace(CELL_SEPARATOR, ":")),
        other => other,
    })?;
    for w in &mut out.warnings {
        *w = w.replace(CELL_SEPARATOR, ":");
    }
    Ok(out)
}

/// R's `rake(design, sample.margins, population.margins, control)`: sweeps of post-stratification over the
/// margins until the joint weighted table of all margin variables changes by less than epsilon.
pub fn rake(
    weights: &[f64],
    margins: &[FactorMargin<'_>],
    control: RakeControl,
) -> Result<Calibrated, SurveyError> {
    if margins.is_empty() {
        return Err(SurveyError::Invalid("rake: no margins given".into()));
    }
    if let Some(i) = weights.iter().position(|w| *w <= 0.0) {
        return Err(SurveyError::Invalid(format!(
            "rake: weight {} in row {} is not positive; R's raking variance is undefined with zero weights, drop those rows",
            weights[i],
            i + 1
        )));
    }
    let mut prob = probabilities(weights)?;
    let epsilon = if control.epsilon < 1.0 {
        control.epsilon * weights.iter().sum::<f64>()
    } else {
        control.epsilon
    };
    let joint = joint_cells(margins, weights.len())?;
    let table = |prob: &[f64]| {
        let mut t = vec![0.0; joint.1];
        for (&c, p) in joint.0.iter().zip(prob) {
            t[c] += 1.0 / p;
        }
        t
    };
    let mut old = table(&prob);
    let mut iter = 0;
    let mut converged = false;
    let mut last = Vec::new();
    let mut warnings = Vec::new();
    while iter < control.maxit {
        last.clear();
        for m in margins {
            let mut step = post_stratify_step(&mut prob, m, false, &mut warnings)?;
            // the raking variance never reads the old weights (`RakeResidual`)
            step.old_weights = Vec::new();
            last.push(step);
        }
        let new = table(&prob);
        let delta = old
            .iter()
            .zip(&new)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        if delta < epsilon {
            converged = true;
            break;
        }
        old = new;
        iter += 1;
    }
    if !converged {
        warnings.push(format!("Raking did not converge after {iter} iterations."));
    }
    let steps = if last.is_empty() {
        vec![]
    } else {
        vec![Step::Rake(RakeResidual::new(last))]
    };
    Ok(Calibrated {
        weights: prob.iter().map(|p| 1.0 / p).collect(),
        calibration: Calibration { steps },
        iterations: iter,
        converged,
        warnings,
    })
}

/// Dense id of each row's cell in the cross-classification of all margin variables (R's `svytable(ff)`).
fn joint_cells(margins: &[FactorMargin<'_>], n: usize) -> Result<(Vec<usize>, usize), SurveyError> {
    let mut ids = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut key = Vec::with_capacity(margins.len());
        for m in margins {
            let Some(&c) = m.factor.codes.get(i) else {
                return Err(SurveyError::Invalid(format!(
                    "margin `{}` has {} values for {n} rows",
                    m.variable,
                    m.factor.codes.len()
                )));
            };
            key.push(c);
        }
        let next = ids.len();
        out.push(*ids.entry(key).or_insert(next));
    }
    Ok((out, ids.len()))
}

/// R's `calibrate(design, formula, population, calfun, bounds, maxit, epsilon, force)`. `population` holds the
/// totals by model-matrix column name (`(Intercept)`, `stypeH`, `api99`); every column needs one and no other
/// name may appear.
pub fn calibrate(
    weights: &[f64],
    model: &CalibrationModel<'_>,
    population: &[(String, f64)],
    options: &CalibrateOptions,
) -> Result<Calibrated, SurveyError> {
    calibrate_with(weights, model, population, true, options)
}

/// [`calibrate`] to one-way margins (R's `calibrate(design, list(~a, ~b), list(pop.a, pop.b))`): the model is
/// the intercept plus each margin's factor, the totals come from [`margins_to_totals`].
pub fn calibrate_to_margins(
    weights: &[f64],
    margins: &[FactorMargin<'_>],
    options: &CalibrateOptions,
) -> Result<Calibrated, SurveyError> {
    calibrate_with(
        weights,
        &margins_model(margins),
        &margins_to_totals(margins),
        false,
        options,
    )
}

/// The model of one-way margins: the intercept plus each margin's factor.
fn margins_model<'a>(margins: &[FactorMargin<'a>]) -> CalibrationModel<'a> {
    CalibrationModel {
        terms: margins
            .iter()
            .map(|m| Term::Factor {
                name: m.variable,
                factor: m.factor,
            })
            .collect(),
        intercept: true,
    }
}

/// Totals by model-matrix column name of one-way margins (R's `margins2totals`): `(Intercept)` is the first
/// margin's sum; every level gets `variable` + `level`.
pub fn margins_to_totals(margins: &[FactorMargin<'_>]) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    if let Some(first) = margins.first() {
        out.push(("(Intercept)".to_string(), first.totals.iter().sum()));
    }
    for m in margins {
        for (level, total) in m.levels.iter().zip(m.totals) {
            out.push((format!("{}{level}", m.variable), *total));
        }
    }
    out
}

fn calibrate_with(
    weights: &[f64],
    model: &CalibrationModel<'_>,
    population: &[(String, f64)],
    strict: bool,
    options: &CalibrateOptions,
) -> Result<Calibrated, SurveyError> {
    let mut prob = probabilities(weights)?;
    let mm = greg::model_matrix(model, weights.len())?;
    let fit = greg::fit(weights, &mm, population, strict, options)?;
    if !fit.converged && !options.force {
        return Err(SurveyError::Invalid(format!(
            "Calibration failed: {}",
            fit.warnings.join("; ")
        )));
    }
    for (p, g) in prob.iter_mut().zip(&fit.g) {
        *p /= g;
    }
    Ok(Calibrated {
        weights: prob.iter().map(|p| 1.0 / p).collect(),
        calibration: Calibration {
            steps: vec![Step::Greg {
                qr: fit.qr,
                w: fit.w,
            }],
        },
        iterations: fit.iterations,
        converged: fit.converged,
        warnings: fit.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn post_stratified_weights_hit_the_totals_and_residuals_sum_to_zero_within_levels() {
        let codes = [0u32, 0, 1, 1, 1];
        let lab = labels(&["a", "b"]);
        let levels = labels(&["b", "a"]);
        let totals = [30.0, 10.0];
        let m = FactorMargin {
            variable: "g",
            factor: Factor {
                codes: &codes,
                labels: &lab,
            },
            levels: &levels,
            totals: &totals,
        };
        let out = post_stratify(&[1.0, 3.0, 2.0, 2.0, 2.0], &m, false).unwrap();
        assert!((out.weights[0] + out.weights[1] - 10.0).abs() < 1e-12);
        assert!((out.weights[2..].iter().sum::<f64>() - 30.0).abs() < 1e-12);
        // A variable constant within post-strata has no variance after post-stratification.
        let mut x: Vec<f64> = out
            .weights
            .iter()
            .zip(codes)
            .map(|(w, c)| w * (1.0 + c as f64))
            .collect();
        out.calibration.residualise_values(&mut x);
        assert!(x.iter().all(|v| v.abs() < 1e-12), "{x:?}");
    }

    #[test]
    fn sample_level_absent_from_population_is_an_error() {
        let codes = [0u32, 1];
        let lab = labels(&["a", "b"]);
        let levels = labels(&["a"]);
        let m = FactorMargin {
            variable: "g",
            factor: Factor {
                codes: &codes,
                labels: &lab,
            },
            levels: &levels,
            totals: &[5.0],
        };
        let err = post_stratify(&[1.0, 1.0], &m, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`b`"), "{err}");
    }

    #[test]
    fn linear_calibration_reproduces_totals_and_missing_total_is_an_error() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let model = CalibrationModel {
            terms: vec![Term::Numeric {
                name: "x",
                values: &x,
            }],
            intercept: true,
        };
        let pop = vec![("(Intercept)".to_string(), 10.0), ("x".to_string(), 30.0)];
        let out = calibrate(
            &[2.0; 4],
            &model,
            &pop,
            &CalibrateOptions::new(CalFun::Linear),
        )
        .unwrap();
        assert!((out.weights.iter().sum::<f64>() - 10.0).abs() < 1e-12);
        assert!((out.weights.iter().zip(&x).map(|(w, v)| w * v).sum::<f64>() - 30.0).abs() < 1e-12);
        let raking = calibrate(
            &[2.0; 4],
            &model,
            &pop,
            &CalibrateOptions::new(CalFun::Raking),
        )
        .unwrap();
        assert!(
            (raking
                .weights
                .iter()
                .zip(&x)
                .map(|(w, v)| w * v)
                .sum::<f64>()
                - 30.0)
                .abs()
                < 1e-5
        );
        assert!(raking.weights.iter().all(|w| *w > 0.0));
        let err = calibrate(
            &[2.0; 4],
            &model,
            &pop[..1],
            &CalibrateOptions::new(CalFun::Linear),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("no population total for x"),
            "{err}"
        );
    }
}
