//! One post-stratification step (R's `postStratify.survey.design`): rescale the weights of each level of a
//! factor to its population count, with R's checks of sample and population cells, and the record the Taylor
//! variance needs (`index` with `oldweights` / `weights` attributes in R).

use super::FactorMargin;
use crate::SurveyError;
use crate::design::NA_CODE;

/// What one post-stratification leaves for the variance: level per row, weights before and after.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PostStratum {
    pub codes: Vec<u32>,
    pub old_weights: Vec<f64>,
    pub new_weights: Vec<f64>,
    pub n_levels: usize,
}

/// Sample weight and population count of every level of a margin's factor (population `None` for levels left
/// out: zero in sample and population, or absent from the sample with `partial`), after R's checks.
pub(crate) struct LevelTotals {
    pub sample: Vec<f64>,
    pub population: Vec<Option<f64>>,
}

pub(crate) fn level_totals(
    margin: &FactorMargin<'_>,
    weights: &[f64],
    partial: bool,
    warnings: &mut Vec<String>,
) -> Result<LevelTotals, SurveyError> {
    let codes = margin.factor.codes;
    let labels = margin.factor.labels;
    if codes.len() != weights.len() {
        return Err(SurveyError::Invalid(format!(
            "margin `{}`: {} values for {} rows",
            margin.variable,
            codes.len(),
            weights.len()
        )));
    }
    if margin.levels.len() != margin.totals.len() {
        return Err(SurveyError::Invalid(format!(
            "margin `{}`: {} levels but {} totals",
            margin.variable,
            margin.levels.len(),
            margin.totals.len()
        )));
    }
    let missing = codes.iter().filter(|&&c| c == NA_CODE).count();
    if missing > 0 {
        return Err(SurveyError::MissingValues {
            variable: margin.variable.to_string(),
            count: missing,
        });
    }
    let mut sample = vec![0.0; labels.len()];
    for (&c, &w) in codes.iter().zip(weights) {
        let Some(slot) = sample.get_mut(c as usize) else {
            return Err(SurveyError::Invalid(format!(
                "margin `{}`: level code {c} has no label",
                margin.variable
            )));
        };
        *slot += w;
    }
    for (level, total) in margin.levels.iter().zip(margin.totals) {
        if !total.is_finite() || *total < 0.0 {
            return Err(SurveyError::Invalid(format!(
                "margin `{}`: population total {total} of level `{level}` is not a non-negative number",
                margin.variable
            )));
        }
    }
    let population_of = |label: &str| -> Option<f64> {
        margin
            .levels
            .iter()
            .position(|l| l == label)
            .map(|i| margin.totals[i])
    };
    let mut population = vec![None; labels.len()];
    for (c, label) in labels.iter().enumerate() {
        let sample_zero = sample[c] == 0.0;
        let pop = population_of(label).unwrap_or(0.0);
        match (sample_zero, pop == 0.0) {
            (true, true) => {}
            (false, true) => {
                return Err(SurveyError::Invalid(format!(
                    "Strata in sample absent from population: level `{label}` of `{}` has sample weight {} but no population total",
                    margin.variable, sample[c]
                )));
            }
            (true, false) => {
                if !partial {
                    return Err(SurveyError::Invalid(format!(
                        "Some strata absent from sample: level `{label}` of `{}` (population {pop}) has no sample weight",
                        margin.variable
                    )));
                }
            }
            (false, false) => population[c] = Some(pop),
        }
    }
    let data_has = |level: &str| {
        labels
            .iter()
            .enumerate()
            .any(|(c, l)| l == level && sample[c] != 0.0)
    };
    for (level, total) in margin.levels.iter().zip(margin.totals) {
        if *total != 0.0 && !data_has(level) {
            if partial {
                warnings.push("Some strata absent from sample: ignored".into());
            } else {
                return Err(SurveyError::Invalid(format!(
                    "Some strata absent from sample: level `{level}` of `{}` (population {total}) has no sample weight; use partial post-stratification to ignore it",
                    margin.variable
                )));
            }
        }
    }
    Ok(LevelTotals { sample, population })
}

/// Multiplies the weights of every level of `margin` by population / sample total, updating `prob` (selection
/// probabilities, as R keeps them: `prob <- prob / reweight`).
pub(crate) fn post_stratify_step(
    prob: &mut [f64],
    margin: &FactorMargin<'_>,
    partial: bool,
    warnings: &mut Vec<String>,
) -> Result<PostStratum, SurveyError> {
    let old_weights: Vec<f64> = prob.iter().map(|p| 1.0 / p).collect();
    let totals = level_totals(margin, &old_weights, partial, warnings)?;
    let reweight: Vec<f64> = totals
        .population
        .iter()
        .zip(&totals.sample)
        .map(|(pop, sample)| pop.map_or(f64::NAN, |p| p / sample))
        .collect();
    let codes = margin.factor.codes;
    for (p, &c) in prob.iter_mut().zip(codes) {
        let r = reweight[c as usize];
        if r.is_finite() {
            *p /= r;
        }
    }
    let new_weights = prob.iter().map(|p| 1.0 / p).collect();
    Ok(PostStratum {
        codes: codes.to_vec(),
        old_weights,
        new_weights,
        n_levels: totals.sample.len(),
    })
}

impl PostStratum {
    /// R's `svyrecvar` for a `postStrata` entry: subtract, within each level, the old-weighted mean of
    /// `x / new_weight`, times the new weight.
    pub(crate) fn residualise(&self, x: &mut [f64]) {
        let mut num = vec![0.0; self.n_levels];
        let mut den = vec![0.0; self.n_levels];
        for (i, (xi, &c)) in x.iter().zip(&self.codes).enumerate() {
            let (psw, oldw) = self.weights_at(i);
            num[c as usize] += xi * oldw / psw;
            den[c as usize] += oldw;
        }
        for (i, (xi, &c)) in x.iter_mut().zip(&self.codes).enumerate() {
            let (psw, _) = self.weights_at(i);
            *xi -= num[c as usize] / den[c as usize] * psw;
        }
    }

    fn weights_at(&self, i: usize) -> (f64, f64) {
        let (psw, oldw) = (self.new_weights[i], self.old_weights[i]);
        if psw == 0.0 && oldw == 0.0 {
            (1.0, oldw)
        } else {
            (psw, oldw)
        }
    }

    /// One back-fitting step of R's raking variance: subtract the unweighted level mean of `x / weight`, times
    /// the weight.
    pub(crate) fn backfit(&self, x: &mut [f64]) {
        let mut sum = vec![0.0; self.n_levels];
        let mut count = vec![0usize; self.n_levels];
        for ((xi, &c), w) in x.iter().zip(&self.codes).zip(&self.new_weights) {
            sum[c as usize] += xi / w;
            count[c as usize] += 1;
        }
        for ((xi, &c), w) in x.iter_mut().zip(&self.codes).zip(&self.new_weights) {
            *xi -= w * (sum[c as usize] / count[c as usize] as f64);
        }
    }
}
