//! Survey designs with their variance method (Taylor, calibrated Taylor, replicate weights) and what every
//! estimator shares: the public types ([`Options`], [`Variable`], [`Estimate`]), missing-value checks, domains,
//! R's `degf` and `nrow` of a domain, and the variance of an estimate (Taylor influence values, calibration
//! residuals, or re-estimation with replicate weights). The statistics live in `linear.rs`, `ciprop.rs` and
//! `quantile.rs`.

use crate::design::{Design, DesignSpec, Factor, NA_CODE};
use crate::domain::{DomainSet, DomainSpec};
use crate::error::SurveyError;
use crate::replicate::{self, ReplicateSet};
use crate::replicate_stats;

/// Calibration's effect on the Taylor variance: replace influence values (already weighted) by their residuals
/// from the calibration model, as R's `svyrecvar` does with a design's `postStrata`.
pub trait Residualise: Send + Sync + std::fmt::Debug {
    fn residualise(&self, z: &mut [f64]);

    /// [`Residualise::residualise`] of a `z` that is zero outside the rows `support` (ascending), e.g. a
    /// domain's influence values; an implementation may then visit only those rows where zeros add nothing.
    /// The result must be the same bits as `residualise`.
    fn residualise_supported(&self, z: &mut [f64], support: &[u32]) {
        let _ = support;
        self.residualise(z);
    }

    /// The totals per unit (`unit_of_row`, `n_units` units) of the residuals of a `z` that is zero outside the
    /// rows `support` (ascending), leaving `z` unchanged, each unit's rows added in row order: the same bits as
    /// [`Residualise::residualise_supported`] followed by those sums. `None` (the default) when the
    /// implementation has no such shortcut; the caller then residualises a copy.
    fn residual_unit_totals(
        &self,
        z: &[f64],
        support: &[u32],
        unit_of_row: &[u32],
        n_units: usize,
    ) -> Option<Vec<f64>> {
        let _ = (z, support, unit_of_row, n_units);
        None
    }

    /// [`Residualise::residual_unit_totals`] of several domains at once: `z` holds each domain's values on its
    /// own rows (`supports[k]`, ascending and disjoint, `domain_of_row[i] == k` on them) and zeros elsewhere;
    /// every domain's totals have the bits of `residual_unit_totals` of a `z` holding that domain alone. `None`
    /// (the default) when the implementation has no such shortcut; the caller then takes one domain at a time.
    fn residual_unit_totals_disjoint(
        &self,
        z: &[f64],
        supports: &[&[u32]],
        domain_of_row: &[u32],
        units: (&[u32], usize),
    ) -> Option<Vec<Vec<f64>>> {
        let _ = (z, supports, domain_of_row, units);
        None
    }
}

/// Replicate analysis weights and R's variance constants (`svrVar`).
#[derive(Debug, Clone)]
pub struct ReplicateWeights {
    /// `[replicate][row]` analysis weights (full-sample weight x replicate multiplier).
    pub analysis: Vec<Vec<f64>>,
    pub scale: f64,
    pub rscales: Vec<f64>,
    /// Centre on the full-sample estimate instead of the replicate mean.
    pub mse: bool,
}

/// How variances are computed.
#[derive(Debug)]
pub enum VarianceKind {
    Taylor(Design),
    Calibrated {
        design: Design,
        calibration: Box<dyn Residualise>,
    },
    Replicate(ReplicateSet),
}

/// A survey design ready for estimation.
#[derive(Debug)]
pub struct SurveyDesign {
    /// The Taylor and calibrated designs' are their [`Design`]'s weights, shared.
    pub(crate) weights: std::sync::Arc<[f64]>,
    pub(crate) kind: VarianceKind,
    pub(crate) degf: usize,
}

/// Design effect requested (R `deff=TRUE` compares with SRS without replacement; `"replace"` with replacement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deff {
    #[default]
    None,
    Srs,
    Replace,
}

/// Options shared by the estimators.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// R's `na.rm=TRUE`: rows with a missing value leave the domain (weight 0), the design is kept.
    pub na_rm: bool,
    pub deff: Deff,
    /// Confidence level (0.95).
    pub level: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            na_rm: false,
            deff: Deff::None,
            level: 0.95,
        }
    }
}

/// A variable handed to an estimator. Numeric values use NaN for missing.
#[derive(Debug, Clone, Copy)]
pub enum Variable<'a> {
    Numeric { name: &'a str, values: &'a [f64] },
    Categorical { name: &'a str, factor: Factor<'a> },
}

impl Variable<'_> {
    pub fn name(&self) -> &str {
        match self {
            Variable::Numeric { name, .. } | Variable::Categorical { name, .. } => name,
        }
    }
    pub(crate) fn len(&self) -> usize {
        match self {
            Variable::Numeric { values, .. } => values.len(),
            Variable::Categorical { factor, .. } => factor.codes.len(),
        }
    }
    pub(crate) fn is_missing(&self, i: usize) -> bool {
        match self {
            Variable::Numeric { values, .. } => values[i].is_nan(),
            Variable::Categorical { factor, .. } => factor.codes[i] == NA_CODE,
        }
    }
}

/// One estimate (one statistic of one variable or level in one domain).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Labels of the `by` variables for this domain (empty without `by`).
    pub domain: Vec<String>,
    /// R's name: `api00`, `stypeE`, `api.stu/enroll`, `api00@0.5`.
    pub name: String,
    pub estimate: f64,
    pub se: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    /// How the interval was computed: `wald-t` (means, totals, ratios), the svyciprop method (`logit`,
    /// `likelihood`, `beta`, `asin`, `mean`, `xlogit`; `clopper-pearson` at an estimate of 0 or 1 for all but
    /// `mean`; `xlogit` for a `logit` request on a replicate design where a replicate's proportion is 0 or 1)
    /// or the quantile interval (`woodruff-mean`, ...).
    pub ci_method: &'static str,
    /// Degrees of freedom of the t interval: R's `degf()` of the design the statistic is computed on (the
    /// subset design for a `subset`; for `by` domains the full design's for means, totals and ratios, as
    /// `confint(svyby(...), df = degf(design))`, and each domain's own for svyciprop and svyquantile).
    pub df: f64,
    pub deff: Option<f64>,
    /// Rows in the domain with a non-missing value and non-zero weight.
    pub n_unweighted: usize,
    /// Sum of the weights of those rows.
    pub n_weighted: f64,
}

/// What is estimated from weighted sums over the rows of a mask.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kernel<'a> {
    Mean(&'a [f64]),
    Total(&'a [f64]),
    Ratio(&'a [f64], &'a [f64]),
}

impl Kernel<'_> {
    /// Point estimate with weights `w` over the rows of `mask`.
    pub fn point(&self, w: &[f64], mask: &[bool]) -> f64 {
        match *self {
            Kernel::Mean(x) => {
                let (mut sw, mut swx) = (0.0, 0.0);
                for ((&wi, &xi), &m) in w.iter().zip(x).zip(mask) {
                    if m {
                        sw += wi;
                        swx += wi * xi;
                    }
                }
                swx / sw
            }
            Kernel::Total(x) => w
                .iter()
                .zip(x)
                .zip(mask)
                .filter(|(_, m)| **m)
                .map(|((wi, xi), _)| wi * xi)
                .sum(),
            Kernel::Ratio(y, x) => {
                let (mut sy, mut sx) = (0.0, 0.0);
                for (((&wi, &yi), &xi), &m) in w.iter().zip(y).zip(x).zip(mask) {
                    if m {
                        sy += wi * yi;
                        sx += wi * xi;
                    }
                }
                sy / sx
            }
        }
    }
}

impl SurveyDesign {
    /// A Taylor-linearisation design (R `svydesign`).
    pub fn taylor(spec: &DesignSpec<'_>) -> Result<Self, SurveyError> {
        let design = Design::new(spec)?;
        Ok(Self::from_design(design))
    }

    /// Wrap an already built Taylor design.
    pub fn from_design(design: Design) -> Self {
        let weights = std::sync::Arc::clone(&design.weights);
        let degf = design.degf_for(&weights);
        SurveyDesign {
            weights,
            kind: VarianceKind::Taylor(design),
            degf,
        }
    }

    /// A calibrated design: the base design's structure, the calibrated weights, and the residualisation that
    /// the Taylor variance applies (R: postStratify / rake / calibrate).
    pub fn calibrated(
        base: &Design,
        weights: impl Into<std::sync::Arc<[f64]>>,
        calibration: Box<dyn Residualise>,
    ) -> Result<Self, SurveyError> {
        let design = base.with_weights(weights)?;
        Ok(Self::calibrated_design(design, calibration))
    }

    /// [`SurveyDesign::calibrated`] of a design built with the calibrated weights already (the same design as
    /// `calibrated(base, weights, ..)` of a `base` with the same structure), which it then holds without a copy.
    pub fn calibrated_design(design: Design, calibration: Box<dyn Residualise>) -> Self {
        let weights = std::sync::Arc::clone(&design.weights);
        let degf = design.degf_for(&weights);
        SurveyDesign {
            weights,
            kind: VarianceKind::Calibrated {
                design,
                calibration,
            },
            degf,
        }
    }

    /// A replicate-weight design from dense analysis weights and R's constants. `degf` `None` = R's default,
    /// the rank of the replicate weights minus 1. Prefer [`SurveyDesign::with_replicates`] for a
    /// [`ReplicateSet`] built from a design: it keeps R's compressed form (replicates x PSUs).
    pub fn replicate(
        weights: Vec<f64>,
        reps: ReplicateWeights,
        degf: Option<usize>,
    ) -> Result<Self, SurveyError> {
        let set = ReplicateSet {
            weights: replicate::ReplicateWeights::Dense(reps.analysis),
            scale: reps.scale,
            rscales: reps.rscales,
            mse: reps.mse,
            rep_type: replicate::RepType::Other,
            warnings: Vec::new(),
        };
        Self::with_replicates_degf(weights, set, degf)
    }

    /// A replicate design from a [`ReplicateSet`] (built by `as.svrepdesign` rules or supplied) and the
    /// full-sample sampling weights; degf = rank of the analysis weights - 1, as R.
    pub fn with_replicates(weights: Vec<f64>, set: ReplicateSet) -> Result<Self, SurveyError> {
        Self::with_replicates_degf(weights, set, None)
    }

    /// As [`SurveyDesign::with_replicates`] with the degrees of freedom given when known (`None`: computed).
    /// R computes a replicate design's degf once, when the design is created, and keeps it: a design calibrated
    /// from it (`postStratify`, `rake`, `calibrate`) has the degf of the design it was calibrated from.
    pub fn with_replicates_degf(
        weights: Vec<f64>,
        set: ReplicateSet,
        degf: Option<usize>,
    ) -> Result<Self, SurveyError> {
        let n = weights.len();
        if set.n_replicates() > 0 && set.n_rows() != n {
            return Err(SurveyError::Invalid(format!(
                "replicate weights have {} rows, the design {n}",
                set.n_rows()
            )));
        }
        if set.rscales.len() != set.n_replicates() {
            return Err(SurveyError::Invalid(format!(
                "{} rscales for {} replicates",
                set.rscales.len(),
                set.n_replicates()
            )));
        }
        if let replicate::ReplicateWeights::Dense(w) = &set.weights
            && let Some(r) = w.iter().position(|c| c.len() != n)
        {
            return Err(SurveyError::Invalid(format!(
                "replicate {} has {} rows, expected {n}",
                r + 1,
                w[r].len()
            )));
        }
        let degf = match degf {
            Some(v) => v,
            None => replicate_stats::degf_of(&set, &weights, &vec![true; n])?,
        };
        Ok(SurveyDesign {
            weights: weights.into(),
            kind: VarianceKind::Replicate(set),
            degf,
        })
    }

    /// As [`SurveyDesign::with_replicates`], cloning the set.
    pub fn from_replicate_set(weights: Vec<f64>, set: &ReplicateSet) -> Result<Self, SurveyError> {
        Self::with_replicates(weights, set.clone())
    }

    /// The Taylor design structure (`None` for replicate designs).
    pub fn taylor_design(&self) -> Option<&Design> {
        match &self.kind {
            VarianceKind::Taylor(d) | VarianceKind::Calibrated { design: d, .. } => Some(d),
            VarianceKind::Replicate(_) => None,
        }
    }

    pub fn n_rows(&self) -> usize {
        self.weights.len()
    }
    /// Sampling (full-sample) weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    /// R's `degf(design)`.
    pub fn degf(&self) -> usize {
        self.degf
    }
    pub fn kind(&self) -> &VarianceKind {
        &self.kind
    }
    /// Number of strata and PSUs of a Taylor design (`None` for replicate designs).
    pub fn structure(&self) -> Option<(usize, usize)> {
        match &self.kind {
            VarianceKind::Taylor(d) | VarianceKind::Calibrated { design: d, .. } => {
                Some((d.n_strata(), d.n_psu()))
            }
            VarianceKind::Replicate(_) => None,
        }
    }

    /// R's `degf()` of the design restricted to `mask` (a `subset()` design).
    pub(crate) fn degf_of(&self, mask: &[bool]) -> Result<usize, SurveyError> {
        match &self.kind {
            VarianceKind::Taylor(d) | VarianceKind::Calibrated { design: d, .. } => {
                Ok(d.degf_for_mask(&self.weights, mask))
            }
            VarianceKind::Replicate(set) => replicate_stats::degf_of(set, &self.weights, mask),
        }
    }

    /// Whether R's subsetting drops the rows outside a domain (`[.survey.design2` on an uncalibrated design,
    /// `[.svyrep.design`) rather than keeping them with weight 0 (calibrated designs). Variances are the same
    /// either way; `nrow(design)`, svyglm's weight normalisation and the score interval's range depend on it.
    pub(crate) fn subset_drops_rows(&self) -> bool {
        !matches!(self.kind, VarianceKind::Calibrated { .. })
    }

    /// R's `nrow(design)` of the design restricted to `mask`.
    pub(crate) fn nrow_of(&self, mask: &[bool]) -> usize {
        if self.subset_drops_rows() {
            mask.iter().filter(|&&m| m).count()
        } else {
            self.n_rows()
        }
    }

    /// Variance of a kernel's estimate `est` over `mask`.
    pub(crate) fn kernel_variance(
        &self,
        k: &Kernel<'_>,
        mask: &[bool],
        est: f64,
        buf: &mut Vec<f64>,
    ) -> Result<f64, SurveyError> {
        if let VarianceKind::Replicate(set) = &self.kind {
            let thetas = replicate_stats::kernel_thetas(set, k, mask)?;
            return replicate_stats::variance(set, &thetas, est);
        }
        let w = &self.weights;
        let masked_sum =
            |f: &dyn Fn(usize) -> f64| -> f64 { (0..w.len()).filter(|&i| mask[i]).map(f).sum() };
        match *k {
            Kernel::Mean(x) => {
                let sw = masked_sum(&|i| w[i]);
                self.taylor_influence_variance(mask, &|i| w[i] * (x[i] - est) / sw, buf)
            }
            Kernel::Total(x) => self.taylor_influence_variance(mask, &|i| w[i] * x[i], buf),
            Kernel::Ratio(y, x) => {
                let sx = masked_sum(&|i| w[i] * x[i]);
                self.taylor_influence_variance(mask, &|i| w[i] * (y[i] - est * x[i]) / sx, buf)
            }
        }
    }

    /// Taylor variance of influence values `z(i)` (already weighted, R's `x * pweights / psum`) of the rows of
    /// `mask` (0 elsewhere): PSU totals in one pass when only the first stage enters, the row-level recursion
    /// (and calibration residuals) otherwise.
    pub(crate) fn taylor_influence_variance(
        &self,
        mask: &[bool],
        z: &dyn Fn(usize) -> f64,
        buf: &mut Vec<f64>,
    ) -> Result<f64, SurveyError> {
        let fill = |buf: &mut Vec<f64>| {
            buf.clear();
            buf.extend((0..mask.len()).map(|i| if mask[i] { z(i) } else { 0.0 }));
        };
        match &self.kind {
            VarianceKind::Taylor(d) if d.only_stage1() => {
                let psu = d.psu_of_row();
                let mut totals = vec![0.0; d.n_psu()];
                let mut present = vec![false; d.n_psu()];
                for i in (0..mask.len()).filter(|&i| mask[i]) {
                    let p = psu[i] as usize;
                    totals[p] += z(i);
                    present[p] = true;
                }
                d.stage1_variance(&totals, Some(&present))
            }
            VarianceKind::Taylor(d) => {
                fill(buf);
                d.taylor_variance(buf, Some(mask))
            }
            VarianceKind::Calibrated {
                design,
                calibration,
            } => {
                fill(buf);
                calibration.residualise(buf);
                design.taylor_variance(buf, None)
            }
            VarianceKind::Replicate(_) => Err(SurveyError::Invalid(
                "internal: Taylor variance requested on a replicate design".into(),
            )),
        }
    }

    pub(crate) fn check_len(&self, len: usize, name: &str) -> Result<(), SurveyError> {
        if len != self.n_rows() {
            return Err(SurveyError::Invalid(format!(
                "variable `{name}` has {len} rows, design has {}",
                self.n_rows()
            )));
        }
        Ok(())
    }

    /// Checks shared by every estimator: variable lengths and values, missing values (an error naming the count
    /// unless `na_rm`), and the confidence level.
    pub(crate) fn check_inputs(
        &self,
        vars: &[&Variable<'_>],
        opts: &Options,
    ) -> Result<(), SurveyError> {
        if !(opts.level > 0.0 && opts.level < 1.0) {
            return Err(SurveyError::Invalid(format!(
                "confidence level {} must lie strictly between 0 and 1 (e.g. 0.95)",
                opts.level
            )));
        }
        self.check_missing(vars, opts.na_rm)
    }

    /// Error naming the count of missing values unless `na_rm`.
    pub(crate) fn check_missing(
        &self,
        vars: &[&Variable<'_>],
        na_rm: bool,
    ) -> Result<(), SurveyError> {
        for v in vars {
            self.check_len(v.len(), v.name())?;
            match v {
                Variable::Categorical { name, factor } => {
                    let labels = factor.labels.len();
                    if let Some(i) = factor
                        .codes
                        .iter()
                        .position(|&c| c != NA_CODE && c as usize >= labels)
                    {
                        return Err(SurveyError::Invalid(format!(
                            "variable `{name}` row {}: code {} has no label ({labels} levels)",
                            i + 1,
                            factor.codes[i],
                        )));
                    }
                }
                Variable::Numeric { name, values } => {
                    if let Some(i) = values.iter().position(|x| x.is_infinite()) {
                        return Err(SurveyError::Invalid(format!(
                            "variable `{name}` row {}: value {}",
                            i + 1,
                            values[i]
                        )));
                    }
                }
            }
            if !na_rm {
                let count = (0..v.len()).filter(|&i| v.is_missing(i)).count();
                if count > 0 {
                    return Err(SurveyError::MissingValues {
                        variable: v.name().to_string(),
                        count,
                    });
                }
            }
        }
        Ok(())
    }

    /// The domains of a call plus the df of the (subset) design for Wald intervals.
    pub(crate) fn domains(&self, spec: &DomainSpec<'_>) -> Result<(DomainSet, usize), SurveyError> {
        let set = DomainSet::new(spec, &self.weights)?;
        let df = match spec.subset {
            None => self.degf,
            Some(s) => self.degf_of(s)?,
        };
        Ok((set, df))
    }

    /// Rows of the mask with non-zero weight, and their weight sum.
    pub(crate) fn counts(&self, mask: &[bool]) -> (usize, f64) {
        let (mut n, mut s) = (0usize, 0.0);
        for (&w, &m) in self.weights.iter().zip(mask) {
            if m && w != 0.0 {
                n += 1;
                s += w;
            }
        }
        (n, s)
    }
}
