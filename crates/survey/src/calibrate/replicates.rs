//! Calibration of replicate-weight designs, as R's `postStratify`, `rake` and `calibrate` methods for
//! `svyrep.design`: the full-sample weights and every replicate's analysis weights are calibrated to the same
//! population totals (each replicate with its own totals), and the variance is the replicate variance of the
//! calibrated replicates (no residualisation). Raking applies to each replicate the sweeps the full-sample
//! weights needed; a replicate that deletes every PSU of a level gets NaN weights there (0 x Inf, as in R), so
//! its estimates are NaN and the replicate variance drops it as R does.

use super::greg::{self, Aligned};
use super::poststratify::level_totals;
use super::{CalibrateOptions, CalibrationModel, FactorMargin, RakeControl, margins_to_totals};
use crate::SurveyError;
use crate::replicate::{ReplicateSet, ReplicateWeights};

/// Calibrated full-sample weights and replicate set.
#[derive(Debug, Clone)]
pub struct CalibratedReplicates {
    pub weights: Vec<f64>,
    /// The replicate analysis weights after calibration (scale, rscales, mse and type unchanged).
    pub replicates: ReplicateSet,
    /// Sweeps (rake) or Newton steps (calibrate) of the full-sample weights.
    pub iterations: usize,
    pub converged: bool,
    pub warnings: Vec<String>,
}

fn replicate_columns(set: &ReplicateSet, n: usize) -> Result<Vec<Vec<f64>>, SurveyError> {
    if set.n_rows() != n {
        return Err(SurveyError::Invalid(format!(
            "replicate weights have {} rows, the full-sample weights {n}",
            set.n_rows()
        )));
    }
    (0..set.n_replicates())
        .map(|r| {
            set.replicate_weights(r)
                .map(|w| w.into_owned())
                .ok_or_else(|| SurveyError::Invalid(format!("replicate {} is missing", r + 1)))
        })
        .collect()
}

fn with_weights(set: &ReplicateSet, analysis: Vec<Vec<f64>>) -> ReplicateSet {
    ReplicateSet {
        weights: ReplicateWeights::Dense(analysis),
        ..set.clone()
    }
}

/// `w * population / (sample total of w in the level)` for every row (R: `repweights * repreweight[index, ]`);
/// rows of levels left out keep their weight.
fn post_stratify_vector(w: &mut [f64], margin: &FactorMargin<'_>, population: &[Option<f64>]) {
    let mut totals = vec![0.0; population.len()];
    for (&c, v) in margin.factor.codes.iter().zip(w.iter()) {
        if let Some(t) = totals.get_mut(c as usize) {
            *t += v;
        }
    }
    let factor: Vec<f64> = population
        .iter()
        .zip(&totals)
        .map(|(pop, total)| pop.map_or(1.0, |p| p / total))
        .collect();
    for (v, &c) in w.iter_mut().zip(margin.factor.codes) {
        if let Some(f) = factor.get(c as usize) {
            *v *= f;
        }
    }
}

/// One post-stratification of the full-sample weights (with R's checks) and of every replicate.
fn post_stratify_all(
    full: &mut [f64],
    reps: &mut [Vec<f64>],
    margin: &FactorMargin<'_>,
    partial: bool,
    warnings: &mut Vec<String>,
) -> Result<(), SurveyError> {
    let totals = level_totals(margin, full, partial, warnings)?;
    post_stratify_vector(full, margin, &totals.population);
    for w in reps.iter_mut() {
        post_stratify_vector(w, margin, &totals.population);
    }
    Ok(())
}

/// R's `postStratify(replicate design, ~variable, population)`.
pub fn post_stratify_replicates(
    weights: &[f64],
    set: &ReplicateSet,
    margin: &FactorMargin<'_>,
    partial: bool,
) -> Result<CalibratedReplicates, SurveyError> {
    let mut reps = replicate_columns(set, weights.len())?;
    let mut full = weights.to_vec();
    let mut warnings = Vec::new();
    post_stratify_all(&mut full, &mut reps, margin, partial, &mut warnings)?;
    Ok(CalibratedReplicates {
        weights: full,
        replicates: with_weights(set, reps),
        iterations: 1,
        converged: true,
        warnings,
    })
}

/// R's `rake(replicate design, margins, population margins, control)`: sweeps until the joint table of the
/// full-sample weights changes by less than epsilon; the replicates take the same sweeps.
pub fn rake_replicates(
    weights: &[f64],
    set: &ReplicateSet,
    margins: &[FactorMargin<'_>],
    control: RakeControl,
) -> Result<CalibratedReplicates, SurveyError> {
    if margins.is_empty() {
        return Err(SurveyError::Invalid("rake: no margins given".into()));
    }
    let mut reps = replicate_columns(set, weights.len())?;
    let mut full = weights.to_vec();
    let epsilon = if control.epsilon < 1.0 {
        control.epsilon * weights.iter().sum::<f64>()
    } else {
        control.epsilon
    };
    let (cells, n_cells) = super::joint_cells(margins, weights.len())?;
    let table = |w: &[f64]| {
        let mut t = vec![0.0; n_cells];
        for (&c, v) in cells.iter().zip(w) {
            t[c] += v;
        }
        t
    };
    let mut old = table(&full);
    let mut iter = 0;
    let mut converged = false;
    let mut warnings = Vec::new();
    while iter < control.maxit {
        for m in margins {
            post_stratify_all(&mut full, &mut reps, m, false, &mut warnings)?;
        }
        let new = table(&full);
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
    Ok(CalibratedReplicates {
        weights: full,
        replicates: with_weights(set, reps),
        iterations: iter,
        converged,
        warnings,
    })
}

/// R's `calibrate(replicate design, formula, population, calfun, ...)`: g-weights for the full sample and for
/// each replicate (R ignores a replicate's non-convergence; the full sample's is an error unless `force`).
pub fn calibrate_replicates(
    weights: &[f64],
    set: &ReplicateSet,
    model: &CalibrationModel<'_>,
    population: &[(String, f64)],
    options: &CalibrateOptions,
) -> Result<CalibratedReplicates, SurveyError> {
    calibrate_replicates_with(weights, set, model, population, true, options)
}

/// [`calibrate_replicates`] to one-way margins (R's `calibrate(design, list(~a, ~b), list(pop.a, pop.b))`).
pub fn calibrate_replicates_to_margins(
    weights: &[f64],
    set: &ReplicateSet,
    margins: &[FactorMargin<'_>],
    options: &CalibrateOptions,
) -> Result<CalibratedReplicates, SurveyError> {
    let model = super::margins_model(margins);
    calibrate_replicates_with(
        weights,
        set,
        &model,
        &margins_to_totals(margins),
        false,
        options,
    )
}

fn calibrate_replicates_with(
    weights: &[f64],
    set: &ReplicateSet,
    model: &CalibrationModel<'_>,
    population: &[(String, f64)],
    strict: bool,
    options: &CalibrateOptions,
) -> Result<CalibratedReplicates, SurveyError> {
    let reps = replicate_columns(set, weights.len())?;
    let mm = greg::model_matrix(model, weights.len())?;
    let aligned: Aligned<'_> = greg::align(weights, &mm, population, strict)?;
    let full_fit = greg::g_weights(&aligned, weights, options)?;
    if !full_fit.converged && !options.force {
        return Err(SurveyError::Invalid(format!(
            "Calibration failed: {}",
            full_fit.warnings.join("; ")
        )));
    }
    let full: Vec<f64> = weights
        .iter()
        .zip(&full_fit.g)
        .map(|(w, g)| w * g)
        .collect();
    let mut calibrated = Vec::with_capacity(reps.len());
    for w in &reps {
        let fit = greg::g_weights(&aligned, w, options)?;
        calibrated.push(w.iter().zip(&fit.g).map(|(a, g)| a * g).collect());
    }
    Ok(CalibratedReplicates {
        weights: full,
        replicates: with_weights(set, calibrated),
        iterations: full_fit.iterations,
        converged: full_fit.converged,
        warnings: full_fit.warnings,
    })
}
