//! The weighting stage's pure parts: population margins from a country's `[population]` cells, raking of the base
//! weights to them (with `dh-survey`'s R-equivalent `rake`, iterated to convergence), optional trimming to a cap,
//! and the weight diagnostics reported per country (min, max, ratio, Kish design effect due to weighting).
//!
//! With trimming, the stage alternates rake -> trim -> rake ... (at most `max_rounds` rakes) and always ends with a
//! rake, so the final weights reproduce the margins; a weight may then exceed the cap slightly, which the result
//! reports (`max_over_cap`).
//!
//! Tables estimated on the child design (caregivers) get a weighting-class non-response adjustment
//! ([`adjust_for_nonresponse`]) on top of the raked weights, with its own variance step
//! ([`NonresponseCalibration`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use dh_config::country::Population;
use dh_survey::calibrate::{Calibration, FactorMargin, RakeControl, rake};
use dh_survey::{Factor, Residualise, SurveyError};

/// Population counts of the levels of one margin variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    pub variable: String,
    /// Levels in order of first appearance in the config's cells.
    pub levels: Vec<String>,
    pub totals: Vec<f64>,
}

impl Margin {
    /// Sum of the totals.
    pub fn total(&self) -> f64 {
        self.totals.iter().sum()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightingError {
    #[error("population: no cells are given")]
    NoCells,
    #[error(
        "population cell {cell} ({sex}, {age_band}, {urban_rural}): count {count} is not a positive number"
    )]
    BadCount {
        cell: usize,
        sex: String,
        age_band: String,
        urban_rural: String,
        count: f64,
    },
    #[error(
        "margin `{variable}`: {count} sample row(s) have a value that is not a population level (first: row {first_row}, value {value:?}); raking cannot place them"
    )]
    UnplacedRows {
        variable: String,
        count: usize,
        first_row: usize,
        value: Option<String>,
    },
    #[error("margin `{variable}`: {rows} values for {expected} rows")]
    Length {
        variable: String,
        rows: usize,
        expected: usize,
    },
    #[error("weights: {0}")]
    BadWeight(String),
    #[error("trim cap {0} must be a number > 1 (a multiple of the mean weight)")]
    BadCap(f64),
    #[error("raking: {0}")]
    Rake(#[from] SurveyError),
}

/// The sex, age-band and urban/rural margins of a country's internet-using 12-17 population.
pub fn population_margins(population: &Population) -> Result<Vec<Margin>, WeightingError> {
    if population.cells.is_empty() {
        return Err(WeightingError::NoCells);
    }
    let mut margins = vec![
        Margin {
            variable: "sex".into(),
            levels: vec![],
            totals: vec![],
        },
        Margin {
            variable: "age_band".into(),
            levels: vec![],
            totals: vec![],
        },
        Margin {
            variable: "urban_rural".into(),
            levels: vec![],
            totals: vec![],
        },
    ];
    for (i, cell) in population.cells.iter().enumerate() {
        if !cell.count.is_finite() || cell.count <= 0.0 {
            return Err(WeightingError::BadCount {
                cell: i + 1,
                sex: cell.sex.clone(),
                age_band: cell.age_band.clone(),
                urban_rural: cell.urban_rural.clone(),
                count: cell.count,
            });
        }
        for (margin, level) in
            margins
                .iter_mut()
                .zip([&cell.sex, &cell.age_band, &cell.urban_rural])
        {
            match margin.levels.iter().position(|l| l == level) {
                Some(p) => margin.totals[p] += cell.count,
                None => {
                    margin.levels.push(level.clone());
                    margin.totals.push(cell.count);
                }
            }
        }
    }
    Ok(margins)
}

/// Weight diagnostics of one country.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightDiagnostics {
    pub n: usize,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// max / min.
    pub ratio: f64,
    /// Kish's design effect due to unequal weights: n * sum(w^2) / sum(w)^2.
    pub kish_deff: f64,
}

/// Diagnostics of `weights` (NaN fields for an empty slice).
pub fn diagnostics(weights: &[f64]) -> WeightDiagnostics {
    let n = weights.len();
    let sum: f64 = weights.iter().sum();
    let sum_sq: f64 = weights.iter().map(|w| w * w).sum();
    let min = weights.iter().copied().fold(f64::INFINITY, f64::min);
    let max = weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if n == 0 {
        return WeightDiagnostics {
            n,
            sum,
            min: f64::NAN,
            max: f64::NAN,
            ratio: f64::NAN,
            kish_deff: f64::NAN,
        };
    }
    WeightDiagnostics {
        n,
        sum,
        min,
        max,
        ratio: max / min,
        kish_deff: n as f64 * sum_sq / (sum * sum),
    }
}

/// Caps weights at `cap` x the mean weight and spreads the excess over the uncapped weights in proportion to
/// them, repeating until none exceeds the cap; the sum of weights is unchanged. Returns the weights and the
/// number of weights at the cap.
pub fn trim_to_cap(weights: &[f64], cap: f64) -> Result<(Vec<f64>, usize), WeightingError> {
    if !cap.is_finite() || cap <= 1.0 {
        return Err(WeightingError::BadCap(cap));
    }
    check_weights(weights)?;
    let n = weights.len();
    let mut w = weights.to_vec();
    if n == 0 {
        return Ok((w, 0));
    }
    let limit = cap * w.iter().sum::<f64>() / n as f64;
    let mut capped = vec![false; n];
    // Each pass caps at least one more weight or stops, so n passes suffice.
    for _ in 0..n {
        let mut excess = 0.0;
        for (wi, c) in w.iter_mut().zip(capped.iter_mut()) {
            if !*c && *wi > limit {
                excess += *wi - limit;
                *wi = limit;
                *c = true;
            }
        }
        if excess == 0.0 {
            break;
        }
        let free: f64 = w
            .iter()
            .zip(&capped)
            .filter(|(_, c)| !**c)
            .map(|(wi, _)| wi)
            .sum();
        if free <= 0.0 {
            break;
        }
        for (wi, c) in w.iter_mut().zip(&capped) {
            if !*c {
                *wi += excess * *wi / free;
            }
        }
    }
    Ok((w, capped.iter().filter(|c| **c).count()))
}

/// Options of [`rake_to_margins`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightingOptions {
    /// Cap on weight / mean weight; `None` for no trimming.
    pub trim_cap: Option<f64>,
    /// Most rakes when trimming (rake, trim, rake, ...).
    pub max_rounds: usize,
    pub control: RakeControl,
}

impl Default for WeightingOptions {
    fn default() -> Self {
        WeightingOptions {
            trim_cap: None,
            max_rounds: 10,
            control: RakeControl::converged(),
        }
    }
}

/// Raked weights and what the manifest and the variance need.
#[derive(Debug, Clone)]
pub struct Weighted {
    /// Shared with the designs made from them (`dh_survey::Design::with_weights`).
    pub weights: Arc<[f64]>,
    /// The final rake's variance record (for the estimator's residualisation), shared by every design made from
    /// these weights ([`SharedCalibration`], [`NonresponseCalibration`]) instead of copied into each: it holds
    /// several numbers per row.
    pub calibration: Arc<Calibration>,
    pub converged: bool,
    /// Raking sweeps of the final rake.
    pub iterations: usize,
    /// Rakes done (1 without trimming).
    pub rounds: usize,
    pub trimmed: usize,
    /// Largest weight / (cap x mean weight) after the final rake (<= 1 when the cap holds); 0 without trimming.
    pub max_over_cap: f64,
    pub before: WeightDiagnostics,
    pub after: WeightDiagnostics,
    /// Largest |weighted sample total - population total| / population total over every margin level.
    pub max_margin_error: f64,
}

/// Rakes `base` weights so that, for each margin, the weighted count of each level equals its population total.
/// `sample[m][i]` is row i's label for margin m (`None` = missing).
pub fn rake_to_margins(
    base: &[f64],
    sample: &[Vec<Option<&str>>],
    margins: &[Margin],
    options: &WeightingOptions,
) -> Result<Weighted, WeightingError> {
    check_weights(base)?;
    let codes: Vec<Vec<u32>> = margins
        .iter()
        .zip(sample)
        .map(|(m, labels)| level_codes(m, labels, base.len()))
        .collect::<Result<_, _>>()?;
    if codes.len() != margins.len() {
        return Err(WeightingError::Length {
            variable: "margins".into(),
            rows: sample.len(),
            expected: margins.len(),
        });
    }
    rake_coded(base, &codes, margins, options)
}

/// [`rake_to_margins`] of rows whose levels are given as codes: `codes[m][i]` is row i's index into
/// `margins[m].levels` (each placed: [`rake_to_margins`] reports the rows that are not). For callers that read the
/// levels from a dictionary column without a label per row.
pub fn rake_coded(
    base: &[f64],
    codes: &[Vec<u32>],
    margins: &[Margin],
    options: &WeightingOptions,
) -> Result<Weighted, WeightingError> {
    check_weights(base)?;
    if let Some((m, c)) = margins
        .iter()
        .zip(codes)
        .find(|(_, c)| c.len() != base.len())
    {
        return Err(WeightingError::Length {
            variable: m.variable.clone(),
            rows: c.len(),
            expected: base.len(),
        });
    }
    if codes.len() != margins.len() {
        return Err(WeightingError::Length {
            variable: "margins".into(),
            rows: codes.len(),
            expected: margins.len(),
        });
    }
    let factor_margins: Vec<FactorMargin<'_>> = margins
        .iter()
        .zip(codes)
        .map(|(m, c)| FactorMargin {
            variable: &m.variable,
            factor: Factor {
                codes: c,
                labels: &m.levels,
            },
            levels: &m.levels,
            totals: &m.totals,
        })
        .collect();
    let mut weights = base.to_vec();
    let mut trimmed = 0;
    let mut rounds = 0;
    let result = loop {
        let raked = rake(&weights, &factor_margins, options.control)?;
        rounds += 1;
        let Some(cap) = options.trim_cap else {
            break raked;
        };
        let limit = cap * raked.weights.iter().sum::<f64>() / raked.weights.len().max(1) as f64;
        let over = raked.weights.iter().any(|w| *w > limit * (1.0 + 1e-9));
        if !over || rounds >= options.max_rounds.max(1) {
            break raked;
        }
        let (t, count) = trim_to_cap(&raked.weights, cap)?;
        trimmed = count;
        weights = t;
    };
    let max_over_cap = match options.trim_cap {
        Some(cap) => {
            let d = diagnostics(&result.weights);
            d.max / (cap * d.sum / d.n.max(1) as f64)
        }
        None => 0.0,
    };
    let max_margin_error = margin_error(&result.weights, codes, margins);
    Ok(Weighted {
        before: diagnostics(base),
        after: diagnostics(&result.weights),
        weights: result.weights.into(),
        calibration: Arc::new(result.calibration),
        converged: result.converged,
        iterations: result.iterations,
        rounds,
        trimmed,
        max_over_cap,
        max_margin_error,
    })
}

/// Every weight a positive number (the first that is not is the error).
pub fn check_weights(weights: &[f64]) -> Result<(), WeightingError> {
    match weights.iter().position(|w| !w.is_finite() || *w <= 0.0) {
        Some(i) => Err(WeightingError::BadWeight(format!(
            "row {} has weight {}, expected a positive number",
            i + 1,
            weights[i]
        ))),
        None => Ok(()),
    }
}

pub(crate) fn level_codes(
    margin: &Margin,
    labels: &[Option<&str>],
    n: usize,
) -> Result<Vec<u32>, WeightingError> {
    if labels.len() != n {
        return Err(WeightingError::Length {
            variable: margin.variable.clone(),
            rows: labels.len(),
            expected: n,
        });
    }
    let mut codes = Vec::with_capacity(n);
    let mut unplaced = Unplaced::default();
    for (i, label) in labels.iter().enumerate() {
        match label.and_then(|l| margin.levels.iter().position(|x| x == l)) {
            Some(p) => codes.push(p as u32),
            None => {
                unplaced.add(i, *label);
                codes.push(dh_survey::NA_CODE);
            }
        }
    }
    unplaced.codes_or_error(margin, codes)
}

/// Rows whose label is not a level of a margin: how many, and the first one's row number and label.
#[derive(Debug, Default)]
pub(crate) struct Unplaced {
    count: usize,
    first: Option<(usize, Option<String>)>,
}

impl Unplaced {
    /// Counts the row at index `row` (0-based) with `label`.
    pub(crate) fn add(&mut self, row: usize, label: Option<&str>) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some((row + 1, label.map(str::to_string)));
        }
    }

    /// `codes` when no row was counted, else the error that names the first row.
    pub(crate) fn codes_or_error(
        self,
        margin: &Margin,
        codes: Vec<u32>,
    ) -> Result<Vec<u32>, WeightingError> {
        match self.first {
            Some((first_row, value)) => Err(WeightingError::UnplacedRows {
                variable: margin.variable.clone(),
                count: self.count,
                first_row,
                value,
            }),
            None => Ok(codes),
        }
    }
}

fn margin_error(weights: &[f64], codes: &[Vec<u32>], margins: &[Margin]) -> f64 {
    let mut worst: f64 = 0.0;
    for (m, c) in margins.iter().zip(codes) {
        let mut sums = vec![0.0; m.levels.len()];
        for (w, &code) in weights.iter().zip(c) {
            if let Some(s) = sums.get_mut(code as usize) {
                *s += w;
            }
        }
        for (s, t) in sums.iter().zip(&m.totals) {
            worst = worst.max((s - t).abs() / t);
        }
    }
    worst
}

/// One weighting class of a non-response adjustment.
#[derive(Debug, Clone, PartialEq)]
pub struct NonresponseClass {
    /// The class's level of each class column, `; `-separated, `(pooled)` for a column pooled away, `all
    /// (pooled)` for the last pool (the indicator stage prefixes each level with its column: `urban_rural=urban`).
    pub label: String,
    /// Child rows in the class.
    pub rows: usize,
    /// Child rows in the class whose unit was interviewed (e.g. whose caregiver has a row).
    pub respondents: usize,
    /// Sum of the (raked) weights of every child row of the class.
    pub weight_all: f64,
    /// Sum of the weights of the respondents of the class.
    pub weight_respondents: f64,
    /// weight_all / weight_respondents (0 when the class has no respondent).
    pub factor: f64,
}

/// Weights adjusted for non-response and the classes they come from.
#[derive(Debug, Clone, PartialEq)]
pub struct NonresponseAdjusted {
    /// Per child row: the raked weight x its class factor for respondents, 0 for non-respondents.
    pub weights: Vec<f64>,
    /// Per child row: index into `classes`.
    pub class_of_row: Vec<u32>,
    pub classes: Vec<NonresponseClass>,
}

/// Weighting classes for a non-response adjustment. `labels[k][i]` is row i's level of class column k (columns
/// most important first; `None` is a level of its own), `respondent[i]` whether row i responded.
///
/// Cells are the crossed levels of every column. A cell with at least `min_respondents` respondents is a class.
/// The rows of the cells that are not are pooled by their levels of the first K-1 columns (the last column is
/// dropped), and each pool with enough respondents is a class; and so on down to one pool of every remaining
/// row. That last pool is a class if it has enough respondents or if it is all there is; otherwise it joins the
/// class with the most respondents. So every class has at least `min_respondents` respondents unless the whole
/// table has fewer, and classes never overlap.
pub fn nonresponse_classes(
    labels: &[Vec<Option<&str>>],
    respondent: &[bool],
    min_respondents: usize,
) -> (Vec<u32>, Vec<String>) {
    let n = respondent.len();
    let mut class_of_row: Vec<Option<u32>> = vec![None; n];
    let mut class_labels: Vec<String> = Vec::new();
    let mut class_respondents: Vec<usize> = Vec::new();
    for depth in (1..=labels.len()).rev() {
        // Pools of the unassigned rows by their first `depth` levels, in order of the key.
        let mut pools: BTreeMap<Vec<Option<&str>>, (Vec<usize>, usize)> = BTreeMap::new();
        for i in (0..n).filter(|&i| class_of_row[i].is_none()) {
            let key: Vec<Option<&str>> = labels[..depth]
                .iter()
                .map(|col| col.get(i).copied().flatten())
                .collect();
            let pool = pools.entry(key).or_default();
            pool.0.push(i);
            pool.1 += usize::from(respondent[i]);
        }
        for (key, (rows, responding)) in pools {
            if responding >= min_respondents.max(1) {
                let code = class_labels.len() as u32;
                let mut parts: Vec<String> = key
                    .iter()
                    .map(|v| v.unwrap_or("(missing)").to_string())
                    .collect();
                parts.extend((depth..labels.len()).map(|_| "(pooled)".to_string()));
                class_labels.push(parts.join("; "));
                class_respondents.push(responding);
                for i in rows {
                    class_of_row[i] = Some(code);
                }
            }
        }
    }
    let rest: Vec<usize> = (0..n).filter(|&i| class_of_row[i].is_none()).collect();
    if !rest.is_empty() {
        let responding = rest.iter().filter(|&&i| respondent[i]).count();
        let largest =
            (0..class_respondents.len()).max_by_key(|&c| (class_respondents[c], usize::MAX - c));
        let code = match largest {
            Some(c) if responding < min_respondents.max(1) => c as u32,
            _ => {
                class_labels.push("all (pooled)".to_string());
                (class_labels.len() - 1) as u32
            }
        };
        for i in rest {
            class_of_row[i] = Some(code);
        }
    }
    // a new vector of four bytes a row (collecting in place would keep the eight-byte allocation)
    let mut codes = Vec::with_capacity(n);
    codes.extend(class_of_row.iter().map(|c| c.unwrap_or(0)));
    (codes, class_labels)
}

/// Weighting-class adjustment for units of a linked table that were not interviewed (caregivers of some
/// children): within each class (see [`nonresponse_classes`]) the weights of the respondents are scaled by
/// (sum of the weights of every child row of the class) / (sum of the weights of its respondents), and
/// non-respondents get weight 0. The adjusted weights of a class add up to the class's child weights, so totals
/// and `population_estimate` keep counting children, and a class's respondents stand for its non-respondents.
pub fn adjust_for_nonresponse(
    weights: &[f64],
    respondent: &[bool],
    labels: &[Vec<Option<&str>>],
    min_respondents: usize,
) -> Result<NonresponseAdjusted, WeightingError> {
    check_weights(weights)?;
    let n = weights.len();
    if respondent.len() != n {
        return Err(WeightingError::Length {
            variable: "respondent flags".into(),
            rows: respondent.len(),
            expected: n,
        });
    }
    if let Some(col) = labels.iter().find(|c| c.len() != n) {
        return Err(WeightingError::Length {
            variable: "non-response class column".into(),
            rows: col.len(),
            expected: n,
        });
    }
    let (class_of_row, class_labels) = nonresponse_classes(labels, respondent, min_respondents);
    let mut classes: Vec<NonresponseClass> = class_labels
        .into_iter()
        .map(|label| NonresponseClass {
            label,
            rows: 0,
            respondents: 0,
            weight_all: 0.0,
            weight_respondents: 0.0,
            factor: 0.0,
        })
        .collect();
    for i in 0..n {
        let c = &mut classes[class_of_row[i] as usize];
        c.rows += 1;
        c.weight_all += weights[i];
        if respondent[i] {
            c.respondents += 1;
            c.weight_respondents += weights[i];
        }
    }
    for c in &mut classes {
        if c.weight_respondents > 0.0 {
            c.factor = c.weight_all / c.weight_respondents;
        }
    }
    let adjusted = (0..n)
        .map(|i| {
            if respondent[i] {
                weights[i] * classes[class_of_row[i] as usize].factor
            } else {
                0.0
            }
        })
        .collect();
    Ok(NonresponseAdjusted {
        weights: adjusted,
        class_of_row,
        classes,
    })
}

/// The variance step of a non-response adjustment on top of a calibration (the rake). The adjusted estimator of
/// a total is `sum_c W_c Y_c / R_c` (W_c: the class's child weights, R_c: its respondents' weights, Y_c: their
/// weighted total), whose influence value for row i of class c is `w*_i y_i - w*_i B_c + w_i B_c` with
/// `B_c = Y_c / R_c`: the first two terms are the within-class residual of a post-stratification on fixed class
/// totals (R `postStratify`), the third adds the variability of W_c, which is estimated from the child sample and
/// not known. Given the influence values computed with the adjusted weights w* (0 for non-respondents),
/// `B_c = sum_c z / W_c`, so each row gets `(w_i - w*_i) B_c` added; the result, in units of the raked weights,
/// then goes through the rake's own residualisation. Linear, so it serves means and ratios as well.
#[derive(Debug, Clone)]
pub struct NonresponseCalibration {
    class_of_row: Vec<u32>,
    /// Raked weights of every row.
    full: Arc<[f64]>,
    /// Adjusted weights (0 for non-respondents).
    adjusted: Arc<[f64]>,
    /// Per class: sum of the raked weights of every row.
    class_weight: Vec<f64>,
    inner: Arc<Calibration>,
}

impl NonresponseCalibration {
    /// The variance step of `adjusted`, made from raked weights `full` whose own variance record is `inner`.
    pub fn new(
        full: &[f64],
        adjusted: &NonresponseAdjusted,
        inner: impl Into<Arc<Calibration>>,
    ) -> Self {
        NonresponseCalibration {
            class_of_row: adjusted.class_of_row.clone(),
            full: full.into(),
            adjusted: adjusted.weights.as_slice().into(),
            class_weight: adjusted.classes.iter().map(|c| c.weight_all).collect(),
            inner: inner.into(),
        }
    }

    /// [`NonresponseCalibration::new`] holding the raked weights `full` and the adjusted weights shared with
    /// their designs instead of copies (`class_of_row` and `classes` as in [`NonresponseAdjusted`]).
    pub fn shared(
        full: Arc<[f64]>,
        adjusted: Arc<[f64]>,
        class_of_row: Vec<u32>,
        classes: &[NonresponseClass],
        inner: Arc<Calibration>,
    ) -> Self {
        NonresponseCalibration {
            class_of_row,
            full,
            adjusted,
            class_weight: classes.iter().map(|c| c.weight_all).collect(),
            inner,
        }
    }
}

impl NonresponseCalibration {
    /// The class sums of `z` over `rows` (the zeros of `z` left out add nothing: a sum from 0.0 never becomes
    /// -0.0), then the adjustment's step and the rake's.
    fn residualise_rows(&self, z: &mut [f64], rows: impl Iterator<Item = usize>) {
        let mut sums = vec![0.0; self.class_weight.len()];
        for i in rows {
            sums[self.class_of_row[i] as usize] += z[i];
        }
        for (i, zi) in z.iter_mut().enumerate() {
            let c = self.class_of_row[i] as usize;
            if self.class_weight[c] > 0.0 {
                *zi += (self.full[i] - self.adjusted[i]) * sums[c] / self.class_weight[c];
            }
        }
        self.inner.residualise_values(z);
    }
}

impl Residualise for NonresponseCalibration {
    fn residualise(&self, z: &mut [f64]) {
        let rows = 0..z.len().min(self.class_of_row.len());
        self.residualise_rows(z, rows);
    }

    fn residualise_supported(&self, z: &mut [f64], support: &[u32]) {
        self.residualise_rows(z, support.iter().map(|&i| i as usize));
    }
}

/// A rake's variance record shared between designs ([`Weighted::calibration`]): the residualisation of the
/// calibration it holds, every method passed on unchanged (so the same fast paths and the same bits).
#[derive(Debug, Clone)]
pub struct SharedCalibration(pub Arc<Calibration>);

impl Residualise for SharedCalibration {
    fn residualise(&self, z: &mut [f64]) {
        self.0.residualise(z);
    }

    fn residualise_supported(&self, z: &mut [f64], support: &[u32]) {
        self.0.residualise_supported(z, support);
    }

    fn residual_unit_totals(
        &self,
        z: &[f64],
        support: &[u32],
        unit_of_row: &[u32],
        n_units: usize,
    ) -> Option<Vec<f64>> {
        self.0
            .residual_unit_totals(z, support, unit_of_row, n_units)
    }

    fn residual_unit_totals_disjoint(
        &self,
        z: &[f64],
        supports: &[&[u32]],
        domain_of_row: &[u32],
        units: (&[u32], usize),
    ) -> Option<Vec<Vec<f64>>> {
        self.0
            .residual_unit_totals_disjoint(z, supports, domain_of_row, units)
    }
}

#[cfg(test)]
#[path = "weighting_tests.rs"]
mod tests;
