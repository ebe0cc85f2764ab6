//! Calibration to population totals of a model matrix, as R's `calibrate.survey.design2`: the closed-form GREG
//! (`regcalibrate`, linear calfun without bounds) and the Newton iteration `grake` (raking, logit or bounded
//! linear calfun, `MASS::ginv` steps, step halving, `epsilon` on |misfit| / (1 + |total|)). The variance record is
//! R's `greg_calibration`: the QR of the model matrix times sqrt(weight), and g x sqrt(weight).

use super::{CalFun, CalibrateOptions, CalibrationModel, Term};
use crate::SurveyError;
use crate::design::NA_CODE;
use crate::linalg::{Qr, pseudo_inverse, solve};

/// A model matrix with R's column names (treatment contrasts: a factor drops its first level when an intercept
/// is present).
pub(crate) struct ModelMatrix {
    pub names: Vec<String>,
    /// Column-major.
    pub columns: Vec<Vec<f64>>,
}

pub(crate) fn model_matrix(
    model: &CalibrationModel<'_>,
    n: usize,
) -> Result<ModelMatrix, SurveyError> {
    let mut names = Vec::new();
    let mut columns = Vec::new();
    if model.intercept {
        names.push("(Intercept)".to_string());
        columns.push(vec![1.0; n]);
    }
    let mut first_factor = true;
    for term in &model.terms {
        match term {
            Term::Numeric { name, values } => {
                check_len(name, values.len(), n)?;
                let missing = values.iter().filter(|v| v.is_nan()).count();
                if missing > 0 {
                    return Err(SurveyError::MissingValues {
                        variable: name.to_string(),
                        count: missing,
                    });
                }
                names.push(name.to_string());
                columns.push(values.to_vec());
            }
            Term::Factor { name, factor } => {
                check_len(name, factor.codes.len(), n)?;
                if let Some(i) = factor
                    .codes
                    .iter()
                    .position(|&c| c != NA_CODE && c as usize >= factor.labels.len())
                {
                    return Err(SurveyError::Invalid(format!(
                        "calibration variable `{name}`: row {} has level code {} but only {} labels",
                        i + 1,
                        factor.codes[i],
                        factor.labels.len()
                    )));
                }
                let missing = factor.codes.iter().filter(|&&c| c == NA_CODE).count();
                if missing > 0 {
                    return Err(SurveyError::MissingValues {
                        variable: name.to_string(),
                        count: missing,
                    });
                }
                let skip = usize::from(model.intercept || !first_factor);
                first_factor = false;
                for (level, label) in factor.labels.iter().enumerate().skip(skip) {
                    names.push(format!("{name}{label}"));
                    columns.push(
                        factor
                            .codes
                            .iter()
                            .map(|&c| f64::from(u8::from(c as usize == level)))
                            .collect(),
                    );
                }
            }
        }
    }
    if columns.is_empty() {
        return Err(SurveyError::Invalid(
            "calibration model has no columns (no intercept and no terms)".into(),
        ));
    }
    Ok(ModelMatrix { names, columns })
}

fn check_len(name: &str, len: usize, n: usize) -> Result<(), SurveyError> {
    if len == n {
        Ok(())
    } else {
        Err(SurveyError::Invalid(format!(
            "calibration variable `{name}` has {len} values for {n} rows"
        )))
    }
}

/// Population totals in model-matrix column order, after R's removal of columns that are zero in the sample
/// and in the population. Returns the kept column indices and their totals.
pub(crate) fn align_population(
    mm: &ModelMatrix,
    sample_total: &[f64],
    population: &[(String, f64)],
    strict: bool,
) -> Result<(Vec<usize>, Vec<f64>), SurveyError> {
    let lookup = |name: &str| population.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    let mut keep = Vec::new();
    let mut totals = Vec::new();
    let mut missing = Vec::new();
    for (j, name) in mm.names.iter().enumerate() {
        let all_zero = mm.columns[j].iter().all(|&v| v == 0.0);
        match lookup(name) {
            Some(t) if sample_total[j] == 0.0 && t == 0.0 && all_zero => {}
            Some(t) if t.is_finite() => {
                keep.push(j);
                totals.push(t);
            }
            Some(t) => {
                return Err(SurveyError::Invalid(format!(
                    "population total of `{name}` is not a number ({t})"
                )));
            }
            None => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(SurveyError::Invalid(format!(
            "Population and sample totals do not match: no population total for {} (model matrix columns: {})",
            missing.join(", "),
            mm.names.join(", ")
        )));
    }
    if strict {
        let extra: Vec<&str> = population
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !mm.names.iter().any(|m| m == n))
            .collect();
        if !extra.is_empty() {
            return Err(SurveyError::Invalid(format!(
                "Population and sample totals are not the same length: population totals {} are not model matrix columns ({})",
                extra.join(", "),
                mm.names.join(", ")
            )));
        }
    }
    Ok((keep, totals))
}

/// Result of a GREG or grake calibration: g-weights and the variance record.
pub(crate) struct GregFit {
    pub g: Vec<f64>,
    pub qr: Qr,
    /// R's `caldata$w` = g * sqrt(weight).
    pub w: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
    pub warnings: Vec<String>,
}

fn column_totals(cols: &[&[f64]], row_weight: &[f64]) -> Vec<f64> {
    cols.iter()
        .map(|c| c.iter().zip(row_weight).map(|(a, b)| a * b).sum())
        .collect()
}

fn scaled_qr(cols: &[&[f64]], whalf: &[f64]) -> Result<Qr, SurveyError> {
    let n = whalf.len();
    let mut data = Vec::with_capacity(n * cols.len());
    for c in cols {
        data.extend(c.iter().zip(whalf).map(|(a, b)| a * b));
    }
    Qr::new(n, cols.len(), data, 1e-7)
}

/// `crossprod(mm * a, mm)` = sum_i a_i m_i m_i^T, column-major p x p.
fn weighted_crossprod(cols: &[&[f64]], a: &[f64]) -> Vec<f64> {
    let p = cols.len();
    let mut out = vec![0.0; p * p];
    for j in 0..p {
        for k in 0..=j {
            let s: f64 = cols[j]
                .iter()
                .zip(cols[k])
                .zip(a)
                .map(|((x, y), w)| x * w * y)
                .sum();
            out[j * p + k] = s;
            out[k * p + j] = s;
        }
    }
    out
}

/// The model-matrix columns kept for calibration (R drops columns that are zero in the sample and the
/// population) and their population totals.
pub(crate) struct Aligned<'m> {
    pub cols: Vec<&'m [f64]>,
    pub population: Vec<f64>,
}

pub(crate) fn align<'m>(
    weights: &[f64],
    mm: &'m ModelMatrix,
    population: &[(String, f64)],
    strict: bool,
) -> Result<Aligned<'m>, SurveyError> {
    let all_cols: Vec<&[f64]> = mm.columns.iter().map(Vec::as_slice).collect();
    let sample_all = column_totals(&all_cols, weights);
    let (keep, population) = align_population(mm, &sample_all, population, strict)?;
    Ok(Aligned {
        cols: keep.iter().map(|&j| all_cols[j]).collect(),
        population,
    })
}

/// g-weights of one weight vector: R's `regcalibrate` (linear, unbounded: one solve) or `grake`.
pub(crate) struct GFit {
    pub g: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
    pub warnings: Vec<String>,
}

pub(crate) fn g_weights(
    aligned: &Aligned<'_>,
    weights: &[f64],
    options: &CalibrateOptions,
) -> Result<GFit, SurveyError> {
    let cols = &aligned.cols;
    let p = cols.len();
    let n = weights.len();
    let sample_total = column_totals(cols, weights);
    let (lower, upper) = options.bounds;
    if options.calfun == CalFun::Linear && lower == f64::NEG_INFINITY && upper == f64::INFINITY {
        let tmat = weighted_crossprod(cols, weights);
        let rhs: Vec<f64> = aligned
            .population
            .iter()
            .zip(&sample_total)
            .map(|(a, b)| a - b)
            .collect();
        let t = solve(p, &tmat, &rhs)?;
        let g = (0..n)
            .map(|i| 1.0 + cols.iter().zip(&t).map(|(c, tj)| c[i] * tj).sum::<f64>())
            .collect();
        return Ok(GFit {
            g,
            iterations: 1,
            converged: true,
            warnings: vec![],
        });
    }
    let (g, iterations, converged, warnings) =
        grake(cols, weights, &aligned.population, &sample_total, options)?;
    Ok(GFit {
        g,
        iterations,
        converged,
        warnings,
    })
}

pub(crate) fn fit(
    weights: &[f64],
    mm: &ModelMatrix,
    population: &[(String, f64)],
    strict: bool,
    options: &CalibrateOptions,
) -> Result<GregFit, SurveyError> {
    let aligned = align(weights, mm, population, strict)?;
    let whalf: Vec<f64> = weights.iter().map(|w| w.sqrt()).collect();
    let qr = scaled_qr(&aligned.cols, &whalf)?;
    let GFit {
        g,
        iterations,
        converged,
        warnings,
    } = g_weights(&aligned, weights, options)?;
    let w = g.iter().zip(&whalf).map(|(a, b)| a * b).collect();
    Ok(GregFit {
        g,
        qr,
        w,
        iterations,
        converged,
        warnings,
    })
}

/// R's `grake`: Newton iterations on the calibration equations with the calfun's inverse distance `Fm1` and
/// derivative `dF`.
fn grake(
    cols: &[&[f64]],
    weights: &[f64],
    population: &[f64],
    sample_total: &[f64],
    options: &CalibrateOptions,
) -> Result<(Vec<f64>, usize, bool, Vec<String>), SurveyError> {
    let n = weights.len();
    let p = cols.len();
    let calfun = options.calfun;
    let bounds = options.bounds;
    if calfun == CalFun::Logit && !(bounds.0.is_finite() && bounds.1.is_finite()) {
        return Err(SurveyError::Invalid(
            "Logit calibration requires finite bounds".into(),
        ));
    }
    let mut warnings = Vec::new();
    let mut ww = weights.to_vec();
    let mut sample_total = sample_total.to_vec();
    let scales: Vec<f64> = population
        .iter()
        .zip(&sample_total)
        .map(|(a, b)| a / b)
        .collect();
    let mut rescale = None;
    if scales.iter().copied().fold(f64::INFINITY, f64::min) > 20.0 {
        let s = scales.iter().sum::<f64>() / p as f64;
        for w in &mut ww {
            *w *= s;
        }
        for t in &mut sample_total {
            *t *= s;
        }
        if bounds.0.is_finite() || bounds.1.is_finite() {
            warnings.push(format!(
                "Bounds were set but will be interpreted after rescaling by {s:.3}"
            ));
        }
        rescale = Some(s);
    }
    let xeta_of = |eta: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| cols.iter().zip(eta).map(|(c, e)| c[i] * e).sum())
            .collect()
    };
    let misfit_of = |xeta: &[f64]| -> Vec<f64> {
        let adjust: Vec<f64> = xeta
            .iter()
            .zip(&ww)
            .map(|(&u, w)| w * calfun.fm1(u, bounds))
            .collect();
        cols.iter()
            .zip(population.iter().zip(&sample_total))
            .map(|(c, (pop, st))| pop - st - c.iter().zip(&adjust).map(|(a, b)| a * b).sum::<f64>())
            .collect()
    };
    let mut eta = vec![0.0; p];
    let mut xeta = vec![0.0; n];
    let mut g: Vec<f64>;
    let mut deriv: Vec<f64> = xeta.iter().map(|&u| calfun.df(u, bounds)).collect();
    let mut iter = 1;
    let tol = 256.0 * f64::EPSILON;
    let converged;
    loop {
        let a: Vec<f64> = ww.iter().zip(&deriv).map(|(w, d)| w * d).collect();
        let tmat = weighted_crossprod(cols, &a);
        let misfit = misfit_of(&xeta);
        let ginv = pseudo_inverse(p, &tmat, tol)?;
        let mut deta: Vec<f64> = (0..p)
            .map(|r| (0..p).map(|c| ginv[c * p + r] * misfit[c]).sum())
            .collect();
        for (e, d) in eta.iter_mut().zip(&deta) {
            *e += d;
        }
        xeta = xeta_of(&eta);
        g = xeta.iter().map(|&u| 1.0 + calfun.fm1(u, bounds)).collect();
        deriv = xeta.iter().map(|&u| calfun.df(u, bounds)).collect();
        while iter < options.maxit
            && (g.iter().any(|v| !v.is_finite()) || deriv.iter().any(|v| !v.is_finite()))
        {
            iter += 1;
            for d in &mut deta {
                *d /= 2.0;
            }
            for (e, d) in eta.iter_mut().zip(&deta) {
                *e -= d;
            }
            xeta = xeta_of(&eta);
            g = xeta.iter().map(|&u| 1.0 + calfun.fm1(u, bounds)).collect();
            deriv = xeta.iter().map(|&u| calfun.df(u, bounds)).collect();
        }
        let misfit = misfit_of(&xeta);
        let relative: Vec<f64> = misfit
            .iter()
            .zip(population)
            .map(|(m, t)| m.abs() / (1.0 + t.abs()))
            .collect();
        if relative.iter().all(|&r| r < options.epsilon) {
            converged = true;
            break;
        }
        iter += 1;
        if iter > options.maxit {
            let achieved = relative.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            warnings.push(format!(
                "Failed to converge: eps={achieved} in {iter} iterations"
            ));
            converged = false;
            break;
        }
    }
    if let Some(s) = rescale {
        for v in &mut g {
            *v *= s;
        }
    }
    Ok((g, iter, converged, warnings))
}

impl CalFun {
    /// R's `calfun$Fm1(u, bounds)`: g - 1 as a function of the linear predictor.
    pub(crate) fn fm1(self, u: f64, (lower, upper): (f64, f64)) -> f64 {
        match self {
            CalFun::Linear => (u + 1.0).max(lower).min(upper) - 1.0,
            CalFun::Raking => u.exp().max(lower).min(upper) - 1.0,
            CalFun::Logit => {
                let a = (upper - lower) / ((upper - 1.0) * (1.0 - lower));
                let e = (a * u).exp();
                (lower * (upper - 1.0) + upper * (1.0 - lower) * e)
                    / (upper - 1.0 + (1.0 - lower) * e)
                    - 1.0
            }
        }
    }

    /// R's `calfun$dF(u, bounds)`.
    pub(crate) fn df(self, u: f64, (lower, upper): (f64, f64)) -> f64 {
        let inside = u < upper - 1.0 && u > lower - 1.0;
        match self {
            CalFun::Linear => f64::from(u8::from(inside)),
            CalFun::Raking => {
                if inside {
                    u.exp()
                } else {
                    0.0
                }
            }
            CalFun::Logit => {
                let a = (upper - lower) / ((upper - 1.0) * (1.0 - lower));
                let e = (a * u).exp();
                let den = upper - 1.0 + (1.0 - lower) * e;
                upper * (1.0 - lower) * e * a / den
                    - ((lower * (upper - 1.0) + upper * (1.0 - lower) * e)
                        * ((1.0 - lower) * e * a))
                        / (den * den)
            }
        }
    }
}
