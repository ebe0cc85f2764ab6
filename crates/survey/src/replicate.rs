//! Replicate-weight designs, as R's `survey` builds and uses them:
//! - [`build_replicates`]: conversion of a Taylor design like `as.svrepdesign()` for JK1, JKn (with the lonely-PSU
//!   rule applied when the replicates are built), BRR and Fay (R's Hadamard matrices, so replicate `i` is R's);
//! - [`build_bootstrap`]: `as.svrepdesign(type="bootstrap")` after `set.seed(seed)`, with R's generator, so a seed
//!   gives R's replicates;
//! - [`supplied_replicates`]: replicate weight columns given by the user, with `svrepdesign()`'s scale and rscales
//!   conventions; [`bootstrap_scale`] gives `as.svrepdesign(type="bootstrap")`'s scale for supplied bootstrap
//!   weights;
//! - [`replicate_vcov`]: R's `svrVar()` (centred on the replicate mean, or on the full-sample estimate with `mse`);
//! - [`ReplicateSet::degf`]: R's `degf()` of a replicate design (rank of the analysis weights minus one).
//!
//! Estimators compute one estimate per replicate with [`ReplicateSet::replicate_weights`] or the faster
//! [`ReplicateSet::replicate_totals`], then call [`replicate_vcov`]. Built designs keep R's compressed form
//! (multipliers per PSU; a jackknife replicate lists only the PSUs of its stratum).

mod bootstrap;
mod brr;
pub mod hadamard;
mod jackknife;
mod r_rng;

use std::borrow::Cow;

use crate::SurveyError;
use crate::linalg::Qr;
use crate::lonely::LonelyPsu;

/// The kind of replicate weights (R's `type=`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RepType {
    Jk1,
    Jkn,
    Brr,
    Fay {
        rho: f64,
    },
    Bootstrap,
    /// Successive-difference / ACS replicates (`svrepdesign(type="successive-difference")`: scale 4/R).
    SuccessiveDifference,
    /// `svrepdesign(type="JK2")`: scale 1.
    Jk2,
    /// `svrepdesign(type="other")`: scale and rscales as given (default 1).
    Other,
}

impl RepType {
    /// R's name of the type (`JK1`, `JKn`, `BRR`, `Fay`, `bootstrap`, ...).
    pub fn r_name(&self) -> &'static str {
        match self {
            RepType::Jk1 => "JK1",
            RepType::Jkn => "JKn",
            RepType::Brr => "BRR",
            RepType::Fay { .. } => "Fay",
            RepType::Bootstrap => "bootstrap",
            RepType::SuccessiveDifference => "successive-difference",
            RepType::Jk2 => "JK2",
            RepType::Other => "other",
        }
    }
}

/// One replicate's multipliers of the PSUs: `default` for every PSU except the listed ones (a jackknife
/// replicate lists only the PSUs of one stratum, so a design with thousands of PSUs stays small).
#[derive(Debug, Clone, PartialEq)]
pub struct PsuMultipliers {
    pub default: f64,
    /// `(psu, multiplier)`, PSUs in increasing order.
    pub except: Vec<(usize, f64)>,
}

impl PsuMultipliers {
    /// The multiplier of every PSU `0..n_psu`.
    pub fn dense(&self, n_psu: usize) -> Vec<f64> {
        let mut out = vec![self.default; n_psu];
        for &(p, m) in &self.except {
            if let Some(slot) = out.get_mut(p) {
                *slot = m;
            }
        }
        out
    }

    /// `sum_p multiplier_p * totals_p`.
    fn dot(&self, totals: &[f64], grand_total: f64) -> f64 {
        if 2 * self.except.len() > totals.len() {
            return self
                .dense(totals.len())
                .iter()
                .zip(totals)
                .map(|(a, b)| a * b)
                .sum();
        }
        let listed: f64 = self.except.iter().filter_map(|&(p, _)| totals.get(p)).sum();
        let changed: f64 = self
            .except
            .iter()
            .filter_map(|&(p, m)| totals.get(p).map(|t| m * t))
            .sum();
        self.default * (grand_total - listed) + changed
    }
}

/// Replicate analysis weights, stored the way R stores them.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplicateWeights {
    /// Built from a design (R's `repweights_compressed`): the analysis weight of row `i` in replicate `r` is
    /// `multipliers[r]` of PSU `row_psu[i]` times `pweights[i]`.
    Compressed {
        pweights: Vec<f64>,
        /// Dense PSU index per row (PSUs numbered in order of first appearance).
        row_psu: Vec<usize>,
        n_psu: usize,
        multipliers: Vec<PsuMultipliers>,
    },
    /// Supplied analysis weights, `[replicate][row]`.
    Dense(Vec<Vec<f64>>),
}

/// A replicate design's weights and variance constants (R's `svyrep.design` minus the data).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateSet {
    pub weights: ReplicateWeights,
    /// Overall multiplier of the variance (R's `scale`).
    pub scale: f64,
    /// Per-replicate multipliers (R's `rscales`), one per replicate.
    pub rscales: Vec<f64>,
    /// Centre the variance on the full-sample estimate (`TRUE`) or on the mean of the replicates (R default).
    pub mse: bool,
    pub rep_type: RepType,
    /// Warnings R would print while building the design (e.g. a guessed scale).
    pub warnings: Vec<String>,
}

impl ReplicateSet {
    pub fn n_replicates(&self) -> usize {
        match &self.weights {
            ReplicateWeights::Compressed { multipliers, .. } => multipliers.len(),
            ReplicateWeights::Dense(w) => w.len(),
        }
    }

    pub fn n_rows(&self) -> usize {
        match &self.weights {
            ReplicateWeights::Compressed { pweights, .. } => pweights.len(),
            ReplicateWeights::Dense(w) => w.first().map_or(0, Vec::len),
        }
    }

    /// Analysis weights of replicate `r` for every row (R's `weights(design, "analysis")[, r]`); `None` when `r`
    /// is out of range.
    pub fn replicate_weights(&self, r: usize) -> Option<Cow<'_, [f64]>> {
        match &self.weights {
            ReplicateWeights::Compressed {
                pweights,
                row_psu,
                n_psu,
                multipliers,
            } => {
                let m = multipliers.get(r)?.dense(*n_psu);
                Some(Cow::Owned(
                    row_psu
                        .iter()
                        .zip(pweights)
                        .map(|(&p, &w)| m[p] * w)
                        .collect(),
                ))
            }
            ReplicateWeights::Dense(w) => w.get(r).map(|col| Cow::Borrowed(col.as_slice())),
        }
    }

    /// `sum_i w_ri * values_i` for every replicate `r`, in one pass over the rows (plus replicates x PSUs for
    /// built designs). `values` has one entry per row; rows outside a domain should hold 0.
    pub fn replicate_totals(&self, values: &[f64]) -> Result<Vec<f64>, SurveyError> {
        if values.len() != self.n_rows() {
            return Err(SurveyError::Invalid(format!(
                "replicate totals: {} values for {} rows",
                values.len(),
                self.n_rows()
            )));
        }
        Ok(match &self.weights {
            ReplicateWeights::Compressed {
                pweights,
                row_psu,
                n_psu,
                multipliers,
            } => {
                let mut psu_totals = vec![0.0; *n_psu];
                for ((&p, &w), &v) in row_psu.iter().zip(pweights).zip(values) {
                    if let Some(t) = psu_totals.get_mut(p) {
                        *t += w * v;
                    }
                }
                let grand: f64 = psu_totals.iter().sum();
                multipliers
                    .iter()
                    .map(|m| m.dot(&psu_totals, grand))
                    .collect()
            }
            ReplicateWeights::Dense(w) => w
                .iter()
                .map(|col| col.iter().zip(values).map(|(a, b)| a * b).sum())
                .collect(),
        })
    }

    /// R's `degf()` for a replicate design: `qr(weights(design, "analysis"), tol = 1e-5)$rank - 1`. Identical rows
    /// and rows scaled by a positive weight do not change the rank, so the matrix is reduced to its distinct rows
    /// first (for built designs: the multipliers of each PSU holding a row with non-zero weight).
    pub fn degf(&self) -> Result<usize, SurveyError> {
        let n_rep = self.n_replicates();
        if n_rep == 0 {
            return Ok(0);
        }
        let distinct: Vec<Vec<f64>> = match &self.weights {
            ReplicateWeights::Compressed {
                pweights,
                row_psu,
                n_psu,
                multipliers,
            } => {
                let mut weighted = vec![false; *n_psu];
                for (&p, &w) in row_psu.iter().zip(pweights) {
                    if w != 0.0
                        && let Some(slot) = weighted.get_mut(p)
                    {
                        *slot = true;
                    }
                }
                let dense: Vec<Vec<f64>> = multipliers.iter().map(|m| m.dense(*n_psu)).collect();
                let rows = (0..*n_psu)
                    .filter(|&p| weighted[p])
                    .map(|p| dense.iter().map(|m| m[p]).collect());
                distinct_rows(rows)
            }
            ReplicateWeights::Dense(w) => {
                let n = self.n_rows();
                distinct_rows((0..n).map(|i| w.iter().map(|col| col[i]).collect()))
            }
        };
        let n = distinct.len();
        let mut data = Vec::with_capacity(n * n_rep);
        for r in 0..n_rep {
            data.extend(distinct.iter().map(|row| row[r]));
        }
        let rank = Qr::new(n, n_rep, data, 1e-5)?.rank();
        Ok(rank.saturating_sub(1))
    }
}

fn distinct_rows(rows: impl Iterator<Item = Vec<f64>>) -> Vec<Vec<f64>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for row in rows {
        let key: Vec<u64> = row.iter().map(|v| v.to_bits()).collect();
        if seen.insert(key) {
            out.push(row);
        }
    }
    out
}

/// The columns of a Taylor design that `as.svrepdesign()` reads.
#[derive(Debug, Clone, Copy)]
pub struct DesignColumns<'a> {
    /// Full-sample sampling weights (1/prob), one per row.
    pub weights: &'a [f64],
    /// Stratum code per row; `None` for an unstratified design.
    pub strata: Option<&'a [usize]>,
    /// Label of each stratum code as R would print it (`as.character(strata)`); BRR orders strata by it, and
    /// errors name strata by it. When `None`, codes are used.
    pub stratum_labels: Option<&'a [String]>,
    /// First-stage PSU code per row, unique across strata (as after `nest=TRUE`).
    pub psu: &'a [usize],
    /// First-stage fpc per row as `svydesign` takes it: population sizes (number of PSUs in the stratum's
    /// population), or sampling fractions when every value is <= 1 (then population = PSUs sampled / fraction, as
    /// R's `as.fpc`); `None` = no fpc.
    pub fpc: Option<&'a [f64]>,
}

/// Options of [`build_replicates`] (R's `as.svrepdesign(design, type, fay.rho, mse)` plus the lonely-PSU option in
/// force when the replicates are built).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplicateOptions {
    pub rep_type: RepType,
    pub lonely_psu: LonelyPsu,
    pub mse: bool,
}

/// PSU structure shared by the builders: dense PSU index per row, each PSU's stratum, in first-appearance order.
pub(crate) struct PsuLayout {
    pub row_psu: Vec<usize>,
    /// Stratum code of each dense PSU.
    pub psu_stratum: Vec<usize>,
    /// Distinct strata codes in order of first appearance.
    pub strata: Vec<usize>,
}

impl PsuLayout {
    fn new(psu: &[usize], strata: Option<&[usize]>) -> Result<Self, SurveyError> {
        let mut dense = std::collections::HashMap::new();
        let mut row_psu = Vec::with_capacity(psu.len());
        let mut psu_stratum = Vec::new();
        let mut seen_strata = std::collections::HashSet::new();
        let mut strata_order = Vec::new();
        for (i, &p) in psu.iter().enumerate() {
            let s = strata.map_or(0, |st| st[i]);
            let next = dense.len();
            let d = *dense.entry(p).or_insert(next);
            if d == next {
                psu_stratum.push(s);
                if seen_strata.insert(s) {
                    strata_order.push(s);
                }
            } else if psu_stratum[d] != s {
                return Err(SurveyError::Invalid(format!(
                    "PSU code {p} appears in two strata (row {}): PSUs must be nested in strata (use nest)",
                    i + 1
                )));
            }
            row_psu.push(d);
        }
        Ok(Self {
            row_psu,
            psu_stratum,
            strata: strata_order,
        })
    }

    pub fn n_psu(&self) -> usize {
        self.psu_stratum.len()
    }
}

pub(crate) fn stratum_label(columns: &DesignColumns<'_>, code: usize) -> String {
    columns
        .stratum_labels
        .and_then(|l| l.get(code).cloned())
        .unwrap_or_else(|| code.to_string())
}

/// Stage-1 population size of each stratum (first row's value; an error if it varies within the stratum).
pub(crate) fn stratum_fpc(
    columns: &DesignColumns<'_>,
    layout: &PsuLayout,
) -> Result<Option<std::collections::HashMap<usize, f64>>, SurveyError> {
    let Some(fpc) = columns.fpc else {
        return Ok(None);
    };
    let mut out = std::collections::HashMap::new();
    for (i, (&f, &p)) in fpc.iter().zip(&layout.row_psu).enumerate() {
        let s = layout.psu_stratum[p];
        if !f.is_finite() || f <= 0.0 {
            return Err(SurveyError::Invalid(format!(
                "fpc: invalid population size {f} in row {}",
                i + 1
            )));
        }
        let first = *out.entry(s).or_insert(f);
        if first != f {
            return Err(SurveyError::Invalid(format!(
                "fpc: population size varies within stratum {} ({first} and {f}, row {})",
                stratum_label(columns, s),
                i + 1
            )));
        }
    }
    Ok(Some(out))
}

/// Stage-1 population sizes per row: the fpc column itself, or PSUs sampled in the stratum / fraction when the
/// column holds sampling fractions (all values <= 1 and one below 1), as R's `as.fpc`.
fn population_sizes(
    fpc: Option<&[f64]>,
    layout: &PsuLayout,
) -> Result<Option<Vec<f64>>, SurveyError> {
    let Some(fpc) = fpc else { return Ok(None) };
    if let Some(i) = fpc.iter().position(|v| v.is_nan() || *v <= 0.0) {
        return Err(SurveyError::Invalid(format!(
            "fpc in row {} is {}: must be a positive population size or sampling fraction",
            i + 1,
            fpc[i]
        )));
    }
    let is_popsize = fpc.iter().any(|&v| v > 1.0);
    if is_popsize {
        if let Some(i) = fpc.iter().position(|&v| v < 1.0) {
            return Err(SurveyError::Invalid(format!(
                "Must have all fpc>=1 or all fpc<=1 (row {} has {})",
                i + 1,
                fpc[i]
            )));
        }
        return Ok(Some(fpc.to_vec()));
    }
    let mut sampled = std::collections::HashMap::new();
    for &s in &layout.psu_stratum {
        *sampled.entry(s).or_insert(0usize) += 1;
    }
    Ok(Some(
        fpc.iter()
            .zip(&layout.row_psu)
            .map(|(&f, &p)| sampled[&layout.psu_stratum[p]] as f64 / f)
            .collect(),
    ))
}

/// Builds replicate weights from a Taylor design as R's `as.svrepdesign(design, type=...)` does (JK1, JKn, BRR,
/// Fay). Bootstrap replicates are random in R: supply them with [`supplied_replicates`] and [`bootstrap_scale`].
pub fn build_replicates(
    columns: &DesignColumns<'_>,
    options: &ReplicateOptions,
) -> Result<ReplicateSet, SurveyError> {
    let (layout, popsize) = prepare(columns)?;
    let columns = &DesignColumns {
        fpc: popsize.as_deref(),
        ..*columns
    };
    let mut warnings = Vec::new();
    let (multipliers, scale, rscales) = match options.rep_type {
        RepType::Jk1 => {
            if columns.strata.is_some() {
                return Err(SurveyError::Invalid(
                    "Can't use JK1 for a stratified design".into(),
                ));
            }
            jackknife::jk1(columns, &layout)?
        }
        RepType::Jkn => {
            if columns.strata.is_none() {
                return Err(SurveyError::Invalid(
                    "Must use JK1 or bootstrap for an unstratified design".into(),
                ));
            }
            jackknife::jkn(columns, &layout, options.lonely_psu)?
        }
        RepType::Brr | RepType::Fay { .. } => {
            if columns.strata.is_none() {
                return Err(SurveyError::Invalid(
                    "Must use JK1 or bootstrap for an unstratified design".into(),
                ));
            }
            if columns.fpc.is_some() {
                warnings.push("Finite population correction dropped in conversion".to_string());
            }
            let rho = match options.rep_type {
                RepType::Fay { rho } => rho,
                _ => 0.0,
            };
            if !(0.0..1.0).contains(&rho) {
                return Err(SurveyError::Invalid(format!(
                    "Fay's rho must be in [0, 1), got {rho}"
                )));
            }
            brr::brr(columns, &layout, rho)?
        }
        other => {
            return Err(SurveyError::Invalid(format!(
                "replicate type {} is random: use build_bootstrap with a seed, or supply the replicate weights",
                other.r_name()
            )));
        }
    };
    let rep_type = match options.rep_type {
        RepType::Fay { rho: 0.0 } => RepType::Brr,
        t => t,
    };
    Ok(ReplicateSet {
        weights: ReplicateWeights::Compressed {
            pweights: columns.weights.to_vec(),
            n_psu: layout.n_psu(),
            row_psu: layout.row_psu,
            multipliers,
        },
        scale,
        rscales,
        mse: options.mse,
        rep_type,
        warnings,
    })
}

/// Bootstrap replicates as R's `as.svrepdesign(design, type="bootstrap", replicates=replicates)` draws them after
/// `set.seed(seed)` (R's default generator: Mersenne-Twister, Rejection sampling): the same seed gives R's
/// replicate weights. The scale is `nbar / ((nbar - 1) (R - 1))` (R's `bootweights`).
pub fn build_bootstrap(
    columns: &DesignColumns<'_>,
    replicates: usize,
    seed: i32,
    mse: bool,
) -> Result<ReplicateSet, SurveyError> {
    let (layout, popsize) = prepare(columns)?;
    let columns = &DesignColumns {
        fpc: popsize.as_deref(),
        ..*columns
    };
    let (multipliers, scale, rscales) = bootstrap::bootstrap(columns, &layout, replicates, seed)?;
    Ok(ReplicateSet {
        weights: ReplicateWeights::Compressed {
            pweights: columns.weights.to_vec(),
            n_psu: layout.n_psu(),
            row_psu: layout.row_psu,
            multipliers,
        },
        scale,
        rscales,
        mse,
        rep_type: RepType::Bootstrap,
        warnings: vec![],
    })
}

/// Checks the design columns and returns the PSU layout and the stage-1 population sizes.
fn prepare(columns: &DesignColumns<'_>) -> Result<(PsuLayout, Option<Vec<f64>>), SurveyError> {
    let n = columns.weights.len();
    if columns.psu.len() != n
        || columns.strata.is_some_and(|s| s.len() != n)
        || columns.fpc.is_some_and(|f| f.len() != n)
    {
        return Err(SurveyError::Invalid(
            "replicate weights: design columns have different lengths".into(),
        ));
    }
    if n == 0 {
        return Err(SurveyError::Invalid(
            "replicate weights: the design has no rows".into(),
        ));
    }
    if let Some((i, w)) = columns
        .weights
        .iter()
        .enumerate()
        .find(|(_, w)| !w.is_finite())
    {
        return Err(SurveyError::Invalid(format!(
            "replicate weights: weight {w} in row {} is not finite",
            i + 1
        )));
    }
    let layout = PsuLayout::new(columns.psu, columns.strata)?;
    let popsize = population_sizes(columns.fpc, &layout)?;
    Ok((layout, popsize))
}

/// `as.svrepdesign(type="bootstrap")`'s scale, `nbar / ((nbar - 1) * (R - 1))` with `nbar` the harmonic mean of
/// the number of PSUs per stratum (R's `bootweights()`); pass it as `scale` with supplied bootstrap weights to
/// reproduce a design R built itself.
pub fn bootstrap_scale(
    psu: &[usize],
    strata: Option<&[usize]>,
    replicates: usize,
) -> Result<f64, SurveyError> {
    let layout = PsuLayout::new(psu, strata)?;
    let mut counts = std::collections::HashMap::new();
    for &s in &layout.psu_stratum {
        *counts.entry(s).or_insert(0usize) += 1;
    }
    if replicates < 2 || counts.is_empty() {
        return Err(SurveyError::Invalid(
            "bootstrap scale needs at least 2 replicates and one PSU".into(),
        ));
    }
    let mean_inverse: f64 = layout
        .strata
        .iter()
        .map(|s| 1.0 / counts[s] as f64)
        .sum::<f64>()
        / counts.len() as f64;
    let nbar = 1.0 / mean_inverse;
    Ok(nbar / ((nbar - 1.0) * (replicates as f64 - 1.0)))
}

/// Options of [`supplied_replicates`], as `svrepdesign(type, combined.weights, rho, scale, rscales, mse)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppliedOptions {
    pub rep_type: RepType,
    /// The columns are analysis weights (`TRUE`, R's default) rather than multipliers of the sampling weights.
    pub combined_weights: bool,
    pub scale: Option<f64>,
    /// One value (recycled) or one per replicate.
    pub rscales: Option<Vec<f64>>,
    pub mse: bool,
}

/// Replicate weights supplied by the user (`repweights[r][i]`, one vector per replicate), with the scale rules of
/// R's `svrepdesign()`: BRR 1/R, Fay 1/(R(1-rho)^2), bootstrap 1/(R-1) unless given, JK1 (R-1)/R guessed when
/// not given, JKn requires rscales for combined weights, successive-difference 4/R.
pub fn supplied_replicates(
    repweights: Vec<Vec<f64>>,
    pweights: &[f64],
    options: &SuppliedOptions,
) -> Result<ReplicateSet, SurveyError> {
    check_supplied(&repweights, pweights)?;
    let n_rep = repweights.len();
    let mut warnings = combined_weights_warnings(&repweights, pweights, options.combined_weights);
    let rscales = match &options.rscales {
        None => None,
        Some(v) if v.len() == 1 => Some(vec![v[0]; n_rep]),
        Some(v) if v.len() == n_rep => Some(v.clone()),
        Some(v) => {
            return Err(SurveyError::Invalid(format!(
                "rscales has length {}, should be ncol(repweights) = {n_rep}",
                v.len()
            )));
        }
    };
    let (scale, rscales) = supplied_scales(&repweights, options, rscales, &mut warnings)?;
    let analysis = if options.combined_weights {
        repweights
    } else {
        repweights
            .into_iter()
            .map(|col| col.iter().zip(pweights).map(|(m, w)| m * w).collect())
            .collect()
    };
    Ok(ReplicateSet {
        weights: ReplicateWeights::Dense(analysis),
        scale: scale.unwrap_or(1.0),
        rscales: rscales.unwrap_or_else(|| vec![1.0; n_rep]),
        mse: options.mse,
        rep_type: options.rep_type,
        warnings,
    })
}

/// At least one replicate column, each with one finite value per row, and finite sampling weights.
fn check_supplied(repweights: &[Vec<f64>], pweights: &[f64]) -> Result<(), SurveyError> {
    let n = pweights.len();
    if repweights.is_empty() {
        return Err(SurveyError::Invalid(
            "You must provide replication weights".into(),
        ));
    }
    for (r, col) in repweights.iter().enumerate() {
        if col.len() != n {
            return Err(SurveyError::Invalid(format!(
                "replicate weight column {} has {} rows, the data {n}",
                r + 1,
                col.len()
            )));
        }
        if let Some(i) = col.iter().position(|v| !v.is_finite()) {
            return Err(SurveyError::Invalid(format!(
                "Missing values not allowed in 'repweights': replicate column {}, row {} holds {}",
                r + 1,
                i + 1,
                col[i]
            )));
        }
    }
    if let Some(i) = pweights.iter().position(|v| !v.is_finite()) {
        return Err(SurveyError::Invalid(format!(
            "Missing values not allowed in 'weights': row {}",
            i + 1
        )));
    }
    Ok(())
}

/// R's warnings when the mean replicate weight and the mean sampling weight contradict `combined.weights`.
fn combined_weights_warnings(
    repweights: &[Vec<f64>],
    pweights: &[f64],
    combined_weights: bool,
) -> Vec<String> {
    let n = pweights.len();
    let mut warnings = Vec::new();
    let repwtmn = repweights
        .iter()
        .map(|c| c.iter().sum::<f64>() / n as f64)
        .sum::<f64>()
        / repweights.len() as f64;
    let wtmn = pweights.iter().sum::<f64>() / n as f64;
    if combined_weights && repwtmn < 5.0 && wtmn / repwtmn > 5.0 {
        warnings.push(format!(
            "Data do not look like combined weights: mean replication weight is {repwtmn}  and mean sampling weight is {wtmn}"
        ));
    }
    if !combined_weights && repwtmn > 5.0 && wtmn / repwtmn < 5.0 {
        warnings.push(format!(
            "Data look like combined weights: mean replication weight is {repwtmn}  and mean sampling weight is {wtmn}"
        ));
    }
    warnings
}

/// `svrepdesign()`'s scale and rscales for the replicate type: fixed by the type (BRR, Fay, successive
/// difference, JK2), defaulted (bootstrap), guessed with a warning (JK1, JKn from multipliers), or as given.
/// `None` is R's default of 1 (scale) or all 1 (rscales).
fn supplied_scales(
    repweights: &[Vec<f64>],
    options: &SuppliedOptions,
    mut rscales: Option<Vec<f64>>,
    warnings: &mut Vec<String>,
) -> Result<(Option<f64>, Option<Vec<f64>>), SurveyError> {
    let n_rep = repweights.len();
    let r = n_rep as f64;
    let mut scale = options.scale;
    match options.rep_type {
        RepType::Brr => {
            if scale.is_some() {
                warnings.push("type='BRR' does not use 'scale=' argument".into());
            }
            scale = Some(1.0 / r);
        }
        RepType::Fay { rho } => {
            if !(0.0..1.0).contains(&rho) {
                return Err(SurveyError::Invalid(format!(
                    "Fay's rho must be in [0, 1), got {rho}"
                )));
            }
            scale = Some(1.0 / (r * (1.0 - rho).powi(2)));
        }
        RepType::Bootstrap => {
            if n_rep < 2 {
                return Err(SurveyError::Invalid(
                    "bootstrap needs at least 2 replicates".into(),
                ));
            }
            scale = Some(scale.unwrap_or(1.0 / (r - 1.0)));
        }
        RepType::Jk1 if scale.is_none() => {
            if options.combined_weights {
                warnings.push("scale (n-1)/n not provided: guessing n=number of replicates".into());
                scale = Some((r - 1.0) / r);
            } else {
                warnings.push("scale (n-1)/n not provided: guessing from weights".into());
                let max = repweights.first().map_or(f64::NEG_INFINITY, |c| {
                    c.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                });
                scale = Some(1.0 / max);
            }
        }
        RepType::Jkn if rscales.is_none() => {
            if options.combined_weights {
                return Err(SurveyError::Invalid(
                    "Must provide rscales for combined JKn weights".into(),
                ));
            }
            warnings.push("rscales (n-1)/n not provided:guessing from weights".into());
            rscales = Some(
                repweights
                    .iter()
                    .map(|c| 1.0 / c.iter().copied().fold(f64::NEG_INFINITY, f64::max))
                    .collect(),
            );
        }
        RepType::SuccessiveDifference => {
            if scale.is_some() || rscales.is_some() {
                warnings.push("with type successive-difference scale= and rscales= are not needed and will be ignored".into());
            }
            rscales = Some(vec![1.0; n_rep]);
            scale = Some(4.0 / r);
        }
        RepType::Jk2 => {
            warnings.push(
                "with type JK2 scale= and rscales= are not needed and will be ignored".into(),
            );
            rscales = Some(vec![1.0; n_rep]);
            scale = Some(1.0);
        }
        RepType::Other if scale.is_none() || rscales.is_none() => {
            warnings.push("scale or rscales not specified, set to 1".into());
        }
        _ => {}
    }
    Ok((scale, rscales))
}

/// Replicate variance of a vector of statistics (R's `svrVar`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateVariance {
    /// `vcov[j][k]`, statistics j and k.
    pub vcov: Vec<Vec<f64>>,
    /// The centre used: the full-sample estimate (mse) or the mean of the replicates.
    pub centre: Vec<f64>,
    /// Replicates whose estimate was NaN and were discarded, as R does (with a warning).
    pub discarded: Vec<usize>,
}

/// R's `mean()` of doubles: the sum accumulated in extended precision (here compensated), divided by n, then
/// corrected by the mean of the residuals. Replicate estimates that are all equal (a quantile that no replicate
/// moves) then centre exactly on their value and give a variance of exactly 0, as in R; a plain f64 sum / n is
/// off by an ulp (six copies of 0.2 average to 0.20000000000000004) and gave a positive SE.
fn r_mean(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = values.clone().count() as f64;
    let m = neumaier_sum(values.clone()) / n;
    if !m.is_finite() {
        return m;
    }
    m + neumaier_sum(values.map(|v| v - m)) / n
}

/// Sum with Neumaier's compensation.
fn neumaier_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for v in values {
        let t = s + v;
        c += if s.abs() >= v.abs() {
            (s - t) + v
        } else {
            (v - t) + s
        };
        s = t;
    }
    s + c
}

/// R's `svrVar(thetas, scale, rscales, mse, coef)`: `per_replicate[r][k]` is statistic k in replicate r, `full`
/// the full-sample estimates. Replicates with a NaN estimate are dropped (R's `na.omit`); all dropped is an error.
pub fn replicate_vcov(
    full: &[f64],
    per_replicate: &[Vec<f64>],
    set: &ReplicateSet,
) -> Result<ReplicateVariance, SurveyError> {
    let p = full.len();
    if per_replicate.len() != set.rscales.len() {
        return Err(SurveyError::Invalid(format!(
            "replicate variance: {} replicate estimates for {} replicates",
            per_replicate.len(),
            set.rscales.len()
        )));
    }
    if let Some(r) = per_replicate.iter().position(|t| t.len() != p) {
        return Err(SurveyError::Invalid(format!(
            "replicate variance: replicate {} has the wrong length",
            r + 1
        )));
    }
    if per_replicate.is_empty() {
        // All PSUs self-representing (R: survey.drop.replicates): no sampling variance.
        return Ok(ReplicateVariance {
            vcov: vec![vec![0.0; p]; p],
            centre: full.to_vec(),
            discarded: vec![],
        });
    }
    let discarded: Vec<usize> = (0..per_replicate.len())
        .filter(|&r| per_replicate[r].iter().any(|v| v.is_nan()))
        .collect();
    let kept: Vec<usize> = (0..per_replicate.len())
        .filter(|r| !discarded.contains(r))
        .collect();
    if kept.is_empty() {
        return Err(SurveyError::Invalid("All replicates contained NAs".into()));
    }
    let centre: Vec<f64> = if set.mse {
        full.to_vec()
    } else {
        let used: Vec<usize> = kept
            .iter()
            .copied()
            .filter(|&r| set.rscales[r] > 0.0)
            .collect();
        (0..p)
            .map(|k| r_mean(used.iter().map(|&r| per_replicate[r][k])))
            .collect()
    };
    let mut vcov = vec![vec![0.0; p]; p];
    for &r in &kept {
        let root = set.rscales[r].sqrt();
        let dev: Vec<f64> = (0..p)
            .map(|k| (per_replicate[r][k] - centre[k]) * root)
            .collect();
        for j in 0..p {
            for k in 0..p {
                vcov[j][k] += dev[j] * dev[k];
            }
        }
    }
    for row in &mut vcov {
        for v in row.iter_mut() {
            *v *= set.scale;
        }
    }
    Ok(ReplicateVariance {
        vcov,
        centre,
        discarded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(rscales: Vec<f64>, scale: f64, mse: bool) -> ReplicateSet {
        ReplicateSet {
            weights: ReplicateWeights::Dense(vec![vec![1.0]; rscales.len()]),
            scale,
            rscales,
            mse,
            rep_type: RepType::Other,
            warnings: vec![],
        }
    }

    #[test]
    fn variance_centres_on_replicate_mean_or_full_estimate() {
        let thetas = vec![vec![1.0], vec![2.0], vec![6.0]];
        let v = replicate_vcov(&[2.0], &thetas, &set(vec![1.0; 3], 0.5, false)).unwrap();
        // mean 3: (4 + 1 + 9) * 0.5
        assert_eq!(v.vcov[0][0], 7.0);
        let v = replicate_vcov(&[2.0], &thetas, &set(vec![1.0; 3], 0.5, true)).unwrap();
        assert_eq!(v.vcov[0][0], 0.5 * (1.0 + 0.0 + 16.0));
    }

    #[test]
    fn equal_replicate_estimates_have_variance_exactly_zero() {
        // 6 x 0.2 summed in f64 and divided by 6 is 0.20000000000000004: the variance was 1e-33, not 0
        for (value, n) in [(0.2, 6), (0.1, 15), (652.7, 50), (1.0 / 3.0, 40)] {
            let thetas = vec![vec![value]; n];
            let v = replicate_vcov(&[value], &thetas, &set(vec![1.0; n], 0.5, false)).unwrap();
            assert_eq!(v.vcov[0][0], 0.0, "{value} x {n}");
            assert_eq!(v.centre[0], value);
        }
    }

    #[test]
    fn nan_replicates_are_discarded() {
        let thetas = vec![vec![1.0], vec![f64::NAN], vec![3.0]];
        let v = replicate_vcov(&[2.0], &thetas, &set(vec![1.0; 3], 1.0, false)).unwrap();
        assert_eq!(v.discarded, vec![1]);
        assert_eq!(v.vcov[0][0], 2.0);
        let all_nan = vec![vec![f64::NAN]; 3];
        assert_eq!(
            replicate_vcov(&[2.0], &all_nan, &set(vec![1.0; 3], 1.0, false)),
            Err(SurveyError::Invalid("All replicates contained NAs".into()))
        );
    }

    #[test]
    fn supplied_scales_follow_svrepdesign() {
        let w = vec![vec![1.0, 2.0]; 4];
        let pw = [1.0, 1.0];
        let opts = |t| SuppliedOptions {
            rep_type: t,
            combined_weights: true,
            scale: None,
            rscales: None,
            mse: false,
        };
        assert_eq!(
            supplied_replicates(w.clone(), &pw, &opts(RepType::Brr))
                .unwrap()
                .scale,
            0.25
        );
        assert_eq!(
            supplied_replicates(w.clone(), &pw, &opts(RepType::Bootstrap))
                .unwrap()
                .scale,
            1.0 / 3.0
        );
        let fay = supplied_replicates(w.clone(), &pw, &opts(RepType::Fay { rho: 0.5 })).unwrap();
        assert_eq!(fay.scale, 1.0);
        assert_eq!(
            supplied_replicates(w.clone(), &pw, &opts(RepType::Jkn)),
            Err(SurveyError::Invalid(
                "Must provide rscales for combined JKn weights".into()
            ))
        );
        let mut bad = w;
        bad[2][1] = f64::NAN;
        let err = supplied_replicates(bad, &pw, &opts(RepType::Brr))
            .unwrap_err()
            .to_string();
        assert!(err.contains("column 3") && err.contains("row 2"), "{err}");
    }

    #[test]
    fn census_jk1_has_no_replicates_and_zero_variance() {
        let w = [2.0, 2.0, 3.0];
        let psu = [0, 1, 2];
        let fpc = [3.0; 3];
        let cols = DesignColumns {
            weights: &w,
            strata: None,
            stratum_labels: None,
            psu: &psu,
            fpc: Some(&fpc),
        };
        let opts = ReplicateOptions {
            rep_type: RepType::Jk1,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        let set = build_replicates(&cols, &opts).unwrap();
        assert_eq!(set.n_replicates(), 0);
        assert_eq!(
            set.replicate_totals(&[1.0, 2.0, 3.0]).unwrap(),
            Vec::<f64>::new()
        );
        let v = replicate_vcov(&[5.0], &[], &set).unwrap();
        assert_eq!(v.vcov, vec![vec![0.0]]);
        assert_eq!(set.degf().unwrap(), 0);
    }

    #[test]
    fn jkn_weights_and_totals_follow_the_deleted_psu() {
        // strata A = {p0, p1}, B = {p2, p3, p4}
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let strata = [0, 0, 1, 1, 1, 1];
        let psu = [0, 1, 2, 3, 4, 4];
        let cols = DesignColumns {
            weights: &w,
            strata: Some(&strata),
            stratum_labels: None,
            psu: &psu,
            fpc: None,
        };
        let opts = ReplicateOptions {
            rep_type: RepType::Jkn,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        let set = build_replicates(&cols, &opts).unwrap();
        assert_eq!(set.n_replicates(), 5);
        assert_eq!(set.rscales, vec![0.5, 0.5, 2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0]);
        let r0 = set.replicate_weights(0).unwrap();
        assert_eq!(r0.as_ref(), &[0.0, 4.0, 3.0, 4.0, 5.0, 6.0]);
        let r4 = set.replicate_weights(4).unwrap();
        assert_eq!(r4.as_ref(), &[1.0, 2.0, 4.5, 6.0, 0.0, 0.0]);
        let totals = set.replicate_totals(&[1.0; 6]).unwrap();
        for (r, total) in totals.iter().enumerate() {
            let direct: f64 = set.replicate_weights(r).unwrap().iter().sum();
            assert!((total - direct).abs() < 1e-12);
        }
        assert!(set.replicate_weights(5).is_none());
    }

    #[test]
    fn bootstrap_scale_uses_harmonic_mean_of_psus_per_stratum() {
        let psu: Vec<usize> = (0..15).collect();
        let s = bootstrap_scale(&psu, None, 50).unwrap();
        assert!((s - 15.0 / (14.0 * 49.0)).abs() < 1e-17);
        // strata with 2 and 4 PSUs: harmonic mean 8/3
        let strata = [0, 0, 1, 1, 1, 1];
        let psu = [0, 1, 2, 3, 4, 5];
        let s = bootstrap_scale(&psu, Some(&strata), 11).unwrap();
        let nbar = 8.0 / 3.0;
        assert!((s - nbar / ((nbar - 1.0) * 10.0)).abs() < 1e-15);
    }
}
