//! Proportions with confidence intervals, R's `svyciprop` with its six methods: `logit` (intercept-only
//! quasibinomial GLM, whose fit is logit(p) in closed form; Wald interval on the logit scale; replicate designs use
//! the replicate fits logit(p_r)), `likelihood` (Rao-Scott-scaled profile likelihood, with R's grid, spline and
//! interpolation), `beta` (Korn-Graubard), `asin`, `mean` and `xlogit`. Intervals use t quantiles with df = degf
//! of the (domain) design; the reported SE is the svymean SE. Where R fails (a diverged IRLS fit, NaN at p = 0 or
//! 1, a folded asin bound, a profile grid that misses its level) the interval is still defined and contains the
//! estimate; each such place says why. Bounds are NaN only when df = 0 (no t quantile).

use crate::calibrated_fast::Calibrated;
use crate::ciprop_fast;
use crate::design::Factor;
use crate::dist;
use crate::domain::{DomainSet, DomainSpec};
use crate::error::SurveyError;
use crate::estimator::{Deff, Estimate, Kernel, Options, SurveyDesign, Variable, VarianceKind};
use crate::glm::BinomialSums;
use crate::linear::wald_estimate;
use crate::replicate_stats::{self, indicator, masked};
use crate::spline::{approx, fmm_spline_grid};

/// The svyciprop and svymean estimates of one domain.
pub type PropAndMean = (Estimate, Estimate);

/// svyciprop's `method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipropMethod {
    Logit,
    Likelihood,
    Beta,
    Asin,
    Mean,
    Xlogit,
}

impl std::str::FromStr for CipropMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "logit" => Self::Logit,
            "likelihood" => Self::Likelihood,
            "beta" => Self::Beta,
            "asin" => Self::Asin,
            "mean" => Self::Mean,
            "xlogit" => Self::Xlogit,
            other => {
                return Err(format!(
                    "unknown svyciprop method `{other}`: expected logit, likelihood, beta, asin, mean or xlogit"
                ));
            }
        })
    }
}

impl CipropMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Logit => "logit",
            Self::Likelihood => "likelihood",
            Self::Beta => "beta",
            Self::Asin => "asin",
            Self::Mean => "mean",
            Self::Xlogit => "xlogit",
        }
    }
}

/// Korn-Graubard (R `method="beta"`) interval for a proportion `p` with variance `v`; `nrow` and `degf` of the
/// design scale the effective sample size.
pub(crate) fn beta_interval(p: f64, v: f64, nrow: usize, degf: f64, alpha: f64) -> (f64, f64) {
    let mut n_eff = p * (1.0 - p) / v;
    let ratio = dist::qt(alpha / 2.0, nrow as f64 - 1.0, true) / dist::qt(alpha / 2.0, degf, true);
    n_eff *= ratio * ratio;
    let qb = |q: f64, a: f64, b: f64| {
        if a == 0.0 {
            0.0
        } else if b == 0.0 {
            1.0
        } else {
            dist::qbeta(q, a, b, true)
        }
    };
    (
        qb(alpha / 2.0, n_eff * p, n_eff * (1.0 - p) + 1.0),
        qb(1.0 - alpha / 2.0, n_eff * p + 1.0, n_eff * (1.0 - p)),
    )
}

/// survey's `expit` (exp(eta) / (1 + exp(eta)), unclamped), which svyciprop applies to the bounds; written so
/// that it neither overflows nor rounds a bound across the estimate for |eta| > 30, where R's
/// `binomial()$linkinv` clamps at 2.2e-16.
fn expit(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// `ci_method` of an interval at an estimate of exactly 0 or 1 (see [`boundary_interval`]).
pub const BOUNDARY_METHOD: &str = "clopper-pearson";

/// At an estimate of exactly 0 or 1 the SE is 0 and the logit, likelihood, xlogit, asin and beta intervals are
/// undefined (R returns NaN, or for `logit` a diverged fit such as 7.6e-12 with the interval [6.1e-12,
/// 9.6e-12]). Following the NCHS presentation standard for proportions (effective sample size = the sample size
/// when p is 0 or 1), this is the Korn-Graubard interval with n_eff = `n`, the domain's unweighted count, scaled
/// by R's degrees-of-freedom factor (qt(alpha/2, nrow - 1) / qt(alpha/2, df))^2 (taken as 1 where undefined or
/// above 1): [0, 1 - (alpha/2)^(1/n_eff)] at 0 and [(alpha/2)^(1/n_eff), 1] at 1.
fn boundary_interval(p: f64, n: usize, nrow: usize, df: f64, alpha: f64) -> (f64, f64) {
    let ratio = dist::qt(alpha / 2.0, nrow as f64 - 1.0, true) / dist::qt(alpha / 2.0, df, true);
    let n_eff = n as f64 * (ratio * ratio).min(1.0);
    let edge = (alpha / 2.0).powf(1.0 / n_eff);
    if p == 0.0 {
        (0.0, 1.0 - edge)
    } else {
        (edge, 1.0)
    }
}

/// What the interval of one domain is computed from.
#[derive(Debug, Clone, Copy)]
struct DomainProp {
    /// Weighted proportion (svymean).
    p: f64,
    /// Its variance (svymean's).
    v: f64,
    /// Unweighted count of the domain's rows with a value and non-zero weight.
    n: usize,
    /// R's `nrow()` of the domain's design.
    nrow: usize,
    df: f64,
}

impl DomainProp {
    /// The boundary interval at p = 0 or 1 for the methods that are undefined there (all but `mean`).
    fn boundary(&self, method: CipropMethod, alpha: f64) -> Option<(f64, f64)> {
        ((self.p == 0.0 || self.p == 1.0) && self.n > 0 && method != CipropMethod::Mean)
            .then(|| boundary_interval(self.p, self.n, self.nrow, self.df, alpha))
    }

    /// Delta-method variance of logit(p): v / (p (1 - p))^2. This is also svyglm's sandwich variance of the
    /// intercept of `glm(y ~ 1, quasibinomial)` on Taylor and calibrated designs, whose influence values
    /// prior (y - mu) / (mu (1 - mu) sum(prior)) at mu = p are the mean's divided by p (1 - p).
    fn logit_variance(&self) -> f64 {
        self.v / (self.p * (1.0 - self.p)).powi(2)
    }
}

/// `mean`, `xlogit` (and `logit` on Taylor designs), `asin` and `beta` intervals from the proportion `p` and its
/// variance `v`: (lower, upper).
/// Where R's transformation leaves its range it is fixed here: the asin scale is clamped to [0, pi/2] before
/// squaring the sine (R's sin(x)^2 folds a bound beyond the range back inside, e.g. [0.34, 0.92] for p = 0.10),
/// and a variance of 0 gives [p, p] (R's beta gives NaN from an infinite effective sample size).
fn closed_form_interval(method: CipropMethod, d: &DomainProp, alpha: f64) -> (f64, f64) {
    let (p, v) = (d.p, d.v);
    let qt = dist::qt(1.0 - alpha / 2.0, d.df, true);
    if v == 0.0 && method != CipropMethod::Mean && qt.is_finite() {
        return (p, p);
    }
    match method {
        // on a Taylor design `logit` is `xlogit`: the closed-form fit's variance is the delta method's
        CipropMethod::Xlogit | CipropMethod::Logit => {
            logit_interval(p, d.logit_variance(), d.df, alpha)
        }
        CipropMethod::Asin => {
            let t = p.sqrt().asin();
            let se = v.sqrt() / (2.0 * (p * (1.0 - p)).sqrt());
            let half_pi = std::f64::consts::FRAC_PI_2;
            let lo = (t - qt * se).clamp(0.0, half_pi).sin().powi(2);
            let hi = (t + qt * se).clamp(0.0, half_pi).sin().powi(2);
            contain(p, lo, hi)
        }
        CipropMethod::Beta => beta_interval(p, v, d.nrow, d.df, alpha),
        _ => (p - qt * v.sqrt(), p + qt * v.sqrt()),
    }
}

/// The bounds widened to `p` where back-transforming logit(p) or asin(sqrt(p)) rounds by an ulp past it.
fn contain(p: f64, lo: f64, hi: f64) -> (f64, f64) {
    if lo.is_nan() || hi.is_nan() {
        // no interval (df = 0): stays NaN rather than collapsing to p
        return (f64::NAN, f64::NAN);
    }
    (lo.min(p), hi.max(p))
}

/// `logit` (and `xlogit`): the Wald interval on the logit scale mapped back, expit(logit(p) +- t se) (R's
/// confint.svyglm with ddf = df).
fn logit_interval(p: f64, var_logit: f64, df: f64, alpha: f64) -> (f64, f64) {
    let q = dist::qt(1.0 - alpha / 2.0, df, true);
    let eta = (p / (1.0 - p)).ln();
    let se = var_logit.sqrt();
    contain(p, expit(eta - q * se), expit(eta + q * se))
}

/// What one svyciprop call asks, shared by its paths.
#[derive(Clone, Copy)]
struct PropCall<'a> {
    name: &'a str,
    y: &'a [f64],
    method: CipropMethod,
    /// Domains come from `by` variables (each then has its own degf).
    by: bool,
    /// degf of the (subset) design.
    subset_df: usize,
    alpha: f64,
    opts: &'a Options,
    with_mean: bool,
}

impl SurveyDesign {
    /// svyciprop: proportion and interval per domain.
    pub fn ciprop(
        &self,
        var: &Variable<'_>,
        method: CipropMethod,
        domains: &DomainSpec<'_>,
        opts: &Options,
    ) -> Result<Vec<Estimate>, SurveyError> {
        Ok(self
            .ciprop_domains(var, method, domains, opts, false)?
            .into_iter()
            .map(|(p, _)| p)
            .collect())
    }

    /// svyciprop and svymean (with the design effect `opts.deff`) of the same 0/1 variable, one pair per domain,
    /// equal to calling [`SurveyDesign::ciprop`] and [`SurveyDesign::mean`]. On calibrated designs both share one
    /// linearisation per domain (the mean's variance is the one svyciprop reports as its SE).
    pub fn ciprop_with_mean(
        &self,
        var: &Variable<'_>,
        method: CipropMethod,
        domains: &DomainSpec<'_>,
        opts: &Options,
    ) -> Result<Vec<(Estimate, Estimate)>, SurveyError> {
        let shared = matches!(self.kind, VarianceKind::Calibrated { .. });
        let props = self.ciprop_domains(var, method, domains, opts, shared)?;
        if shared {
            return props
                .into_iter()
                .map(|(p, m)| match m {
                    Some(m) => Ok((p, m)),
                    None => Err(SurveyError::Invalid(
                        "internal: svymean missing from a shared svyciprop".into(),
                    )),
                })
                .collect();
        }
        let means = self.mean(var, domains, opts)?;
        if means.len() != props.len() {
            return Err(SurveyError::Invalid(format!(
                "internal: {} svyciprop domains but {} svymean domains",
                props.len(),
                means.len()
            )));
        }
        Ok(props.into_iter().map(|(p, _)| p).zip(means).collect())
    }

    /// [`SurveyDesign::ciprop_with_mean`] of one variable over several domain specifications sharing one
    /// `subset` (`by[k]` the `by` variables of the k-th: the total and each breakdown of an indicator), with the
    /// checks of the variable and the degrees of freedom of the subset design done once on calibrated designs.
    /// The results are those of calling `ciprop_with_mean` with each specification in turn; the first error
    /// comes back with the index of its specification.
    pub fn ciprop_with_mean_each<'a>(
        &self,
        var: &Variable<'_>,
        method: CipropMethod,
        subset: Option<&'a [bool]>,
        by: &[Vec<Factor<'a>>],
        opts: &Options,
    ) -> Result<Vec<Vec<PropAndMean>>, (usize, SurveyError)> {
        let spec = |by: &Vec<Factor<'a>>| DomainSpec {
            subset,
            by: by.clone(),
        };
        let cal = match self.calibrated_parts() {
            Some(cal) if method != CipropMethod::Likelihood => cal,
            _ => {
                return by
                    .iter()
                    .enumerate()
                    .map(|(k, b)| {
                        self.ciprop_with_mean(var, method, &spec(b), opts)
                            .map_err(|e| (k, e))
                    })
                    .collect();
            }
        };
        let (name, y) = self.prop_inputs(var, opts).map_err(|e| (0, e))?;
        let mut subset_df = None;
        let mut out = Vec::with_capacity(by.len());
        for (k, b) in by.iter().enumerate() {
            let set = DomainSet::new(&spec(b), &self.weights).map_err(|e| (k, e))?;
            let df = match subset_df {
                Some(df) => df,
                None => *subset_df.insert(match subset {
                    None => self.degf,
                    Some(s) => self.degf_of(s).map_err(|e| (k, e))?,
                }),
            };
            let call = PropCall {
                name,
                y,
                method,
                by: !b.is_empty(),
                subset_df: df,
                alpha: 1.0 - opts.level,
                opts,
                with_mean: true,
            };
            let props = self
                .ciprop_calibrated(&cal, &set, &call)
                .map_err(|e| (k, e))?;
            let pairs = props
                .into_iter()
                .map(|(p, m)| {
                    m.map(|m| (p, m)).ok_or_else(|| {
                        SurveyError::Invalid(
                            "internal: svymean missing from a shared svyciprop".into(),
                        )
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(|e| (k, e))?;
            out.push(pairs);
        }
        Ok(out)
    }

    /// The checks of a svyciprop variable: [`SurveyDesign::check_inputs`], numeric, values in [0, 1] or NaN.
    fn prop_inputs<'v>(
        &self,
        var: &Variable<'v>,
        opts: &Options,
    ) -> Result<(&'v str, &'v [f64]), SurveyError> {
        self.check_inputs(&[var], opts)?;
        let Variable::Numeric { name, values: y } = *var else {
            return Err(SurveyError::Invalid(
                "svyciprop needs a numeric 0/1 variable".into(),
            ));
        };
        if let Some(i) = y
            .iter()
            .position(|v| !v.is_nan() && !(0.0..=1.0).contains(v))
        {
            return Err(SurveyError::Invalid(format!(
                "svyciprop: `{name}` row {} is {}; a proportion needs values 0 <= y <= 1",
                i + 1,
                y[i]
            )));
        }
        Ok((name, y))
    }

    /// svyciprop per domain and, with `with_mean` on the row-level path, the svymean estimate of each domain
    /// from the same linearisation (the one-pass Taylor path never returns it).
    fn ciprop_domains(
        &self,
        var: &Variable<'_>,
        method: CipropMethod,
        domains: &DomainSpec<'_>,
        opts: &Options,
        with_mean: bool,
    ) -> Result<Vec<(Estimate, Option<Estimate>)>, SurveyError> {
        self.ciprop_domains_on(var, method, domains, opts, with_mean, false)
    }

    /// [`SurveyDesign::ciprop_domains`] on the row-level path (`by_rows`) or the fastest path the design has.
    #[cfg(test)]
    pub(crate) fn ciprop_domains_for_test(
        &self,
        var: &Variable<'_>,
        method: CipropMethod,
        domains: &DomainSpec<'_>,
        opts: &Options,
        with_mean: bool,
        by_rows: bool,
    ) -> Result<Vec<(Estimate, Option<Estimate>)>, SurveyError> {
        self.ciprop_domains_on(var, method, domains, opts, with_mean, by_rows)
    }

    fn ciprop_domains_on(
        &self,
        var: &Variable<'_>,
        method: CipropMethod,
        domains: &DomainSpec<'_>,
        opts: &Options,
        with_mean: bool,
        by_rows: bool,
    ) -> Result<Vec<(Estimate, Option<Estimate>)>, SurveyError> {
        let (name, y) = self.prop_inputs(var, opts)?;
        let (set, subset_df) = self.domains(domains)?;
        let alpha = 1.0 - opts.level;
        if let VarianceKind::Taylor(design) = &self.kind
            && !by_rows
            && design.only_stage1()
            && method != CipropMethod::Likelihood
            && let Some(stats) = ciprop_fast::domain_props(design, &self.weights, &set, y)?
        {
            return Ok(stats
                .iter()
                .zip(&set.labels)
                .map(|(s, labels)| {
                    let df = if domains.by.is_empty() {
                        subset_df
                    } else {
                        s.degf
                    } as f64;
                    let d = DomainProp {
                        p: s.p,
                        v: s.var,
                        n: s.n_unweighted,
                        nrow: s.nrow,
                        df,
                    };
                    let (lo, hi, how) = match d.boundary(method, alpha) {
                        Some((lo, hi)) => (lo, hi, BOUNDARY_METHOD),
                        None => {
                            let (lo, hi) = closed_form_interval(method, &d, alpha);
                            (lo, hi, method.as_str())
                        }
                    };
                    let p = Estimate {
                        domain: labels.clone(),
                        name: name.to_string(),
                        estimate: s.p,
                        se: s.var.sqrt(),
                        ci_lower: lo,
                        ci_upper: hi,
                        ci_method: how,
                        df,
                        deff: None,
                        n_unweighted: s.n_unweighted,
                        n_weighted: s.n_weighted,
                    };
                    (p, None)
                })
                .collect());
        }
        let call = PropCall {
            name,
            y,
            method,
            by: !domains.by.is_empty(),
            subset_df,
            alpha,
            opts,
            with_mean,
        };
        match self.calibrated_parts() {
            Some(cal) if method != CipropMethod::Likelihood && !by_rows => {
                self.ciprop_calibrated(&cal, &set, &call)
            }
            _ => self.ciprop_by_rows(&set, &call),
        }
    }

    /// The calibrated-design path of [`SurveyDesign::ciprop_domains`]: each domain's sums over its own rows
    /// (`calibrated_fast.rs`), the same numbers as [`SurveyDesign::ciprop_by_rows`].
    fn ciprop_calibrated(
        &self,
        cal: &Calibrated<'_>,
        set: &DomainSet,
        call: &PropCall<'_>,
    ) -> Result<Vec<(Estimate, Option<Estimate>)>, SurveyError> {
        let PropCall {
            name,
            y,
            method,
            by,
            subset_df,
            alpha,
            opts,
            with_mean,
        } = *call;
        let rows = set.rows_by_domain();
        let missing = |i: usize| y[i].is_nan();
        let mean_deff = if with_mean { opts.deff } else { Deff::None };
        let q_mean = dist::qt(1.0 - (1.0 - opts.level) / 2.0, subset_df as f64, true);
        let mut out = Vec::with_capacity(set.n_domains());
        let mut buf = Vec::new();
        let kernels = cal.kernels(
            &rows,
            &set.domain_of_row,
            y,
            missing,
            (false, mean_deff),
            &mut buf,
        )?;
        for (d, k) in kernels.into_iter().enumerate() {
            let rows = rows.of(d);
            let df = if !by { subset_df } else { cal.degf(rows) } as f64;
            let (p, v) = (k.estimate, k.variance);
            let prop = DomainProp {
                p,
                v,
                n: k.n_nonzero,
                nrow: self.n_rows(),
                df,
            };
            let (lo, hi, how) = match prop.boundary(method, alpha) {
                Some((lo, hi)) => (lo, hi, BOUNDARY_METHOD),
                // `glm_interval` with a `logit` request on a calibrated design
                None if method == CipropMethod::Logit => {
                    let (lo, hi) = logit_interval(p, prop.logit_variance(), df, alpha);
                    (lo, hi, method.as_str())
                }
                None => {
                    let (lo, hi) = closed_form_interval(method, &prop, alpha);
                    (lo, hi, method.as_str())
                }
            };
            let mean = with_mean.then(|| {
                wald_estimate(
                    set.labels[d].clone(),
                    name.to_string(),
                    p,
                    v,
                    subset_df,
                    q_mean,
                    k.deff,
                    (k.n_nonzero, k.sum_w_nonzero),
                )
            });
            let prop = Estimate {
                domain: set.labels[d].clone(),
                name: name.to_string(),
                estimate: p,
                se: v.sqrt(),
                ci_lower: lo,
                ci_upper: hi,
                ci_method: how,
                df,
                deff: None,
                n_unweighted: k.n_nonzero,
                n_weighted: k.sum_w_nonzero,
            };
            out.push((prop, mean));
        }
        Ok(out)
    }

    /// The row-level path of [`SurveyDesign::ciprop_domains`]: a mask per domain over every row.
    fn ciprop_by_rows(
        &self,
        set: &DomainSet,
        call: &PropCall<'_>,
    ) -> Result<Vec<(Estimate, Option<Estimate>)>, SurveyError> {
        let PropCall {
            name,
            y,
            method,
            by,
            subset_df,
            alpha,
            opts,
            with_mean,
        } = *call;
        let mut out = Vec::new();
        let mut dom_mask = Vec::new();
        let mut mask = Vec::new();
        let mut buf = Vec::new();
        for d in 0..set.n_domains() {
            set.fill_mask(d, &mut dom_mask, |_| true);
            set.fill_mask(d, &mut mask, |i| !y[i].is_nan());
            let df = if !by {
                subset_df
            } else {
                self.degf_of(&dom_mask)?
            } as f64;
            let k = Kernel::Mean(y);
            let p = k.point(&self.weights, &mask);
            let v = self.kernel_variance(&k, &mask, p, &mut buf)?;
            let (nu, nw) = self.counts(&mask);
            let prop = DomainProp {
                p,
                v,
                n: nu,
                nrow: self.nrow_of(&dom_mask),
                df,
            };
            let (lo, hi, how) = match prop.boundary(method, alpha) {
                Some((lo, hi)) => (lo, hi, BOUNDARY_METHOD),
                None => match method {
                    CipropMethod::Logit | CipropMethod::Likelihood => {
                        self.glm_interval(y, &dom_mask, &mask, method, &prop, alpha)?
                    }
                    _ => {
                        let (lo, hi) = closed_form_interval(method, &prop, alpha);
                        (lo, hi, method.as_str())
                    }
                },
            };
            let mean = with_mean.then(|| {
                // exactly what svymean's row-level path computes for this domain
                let deff = self.deff(y, &mask, v, false, opts.deff);
                self.wald(
                    set.labels[d].clone(),
                    name.to_string(),
                    p,
                    v,
                    subset_df,
                    deff,
                    &mask,
                    opts.level,
                )
            });
            let prop = Estimate {
                domain: set.labels[d].clone(),
                name: name.to_string(),
                estimate: p,
                se: v.sqrt(),
                ci_lower: lo,
                ci_upper: hi,
                ci_method: how,
                df,
                deff: None,
                n_unweighted: nu,
                n_weighted: nw,
            };
            out.push((prop, mean));
        }
        Ok(out)
    }

    /// Prior weights of svyglm: weights / mean(weights) over the rows R keeps (Taylor: every row, out-of-domain
    /// rows weight 0; replicate: the domain's rows).
    fn glm_prior_weights(&self, dom_mask: &[bool]) -> Vec<f64> {
        let total: f64 = self
            .weights
            .iter()
            .zip(dom_mask)
            .filter(|(_, m)| **m)
            .map(|(w, _)| w)
            .sum();
        let mean = total / self.nrow_of(dom_mask) as f64;
        self.weights
            .iter()
            .zip(dom_mask)
            .map(|(&w, &m)| if m { w / mean } else { 0.0 })
            .collect()
    }

    /// `logit` and `likelihood` for a domain with 0 < p < 1: (lower, upper, ci_method). The intercept-only
    /// quasibinomial svyglm behind them has the closed-form fit beta = logit(p) (the score
    /// sum prior (y - expit(beta)) is zero exactly there), so nothing is iterated. R fits it by IRLS without
    /// step-halving, which diverges on small domains of large designs (prior weights w / mean(w) over all rows
    /// of a calibrated design are large, the first iteration lands far from logit(p) and Newton overshoots
    /// past |eta| = 30 to +-1e15): R then reports e.g. p = 0 with the interval [0, 0] for p = 0.129.
    /// Variance of beta: Taylor and calibrated designs, v / (p (1 - p))^2 (svyglm's sandwich); replicate
    /// designs, the variance of the replicate fits logit(p_r) (svyglm.svyrep.design refits each replicate).
    fn glm_interval(
        &self,
        y: &[f64],
        dom_mask: &[bool],
        mask: &[bool],
        method: CipropMethod,
        d: &DomainProp,
        alpha: f64,
    ) -> Result<(f64, f64, &'static str), SurveyError> {
        let beta = (d.p / (1.0 - d.p)).ln();
        let var_beta = match (&self.kind, method) {
            (VarianceKind::Replicate(_), CipropMethod::Likelihood) => {
                // R returns NA bounds here (its profile needs a Taylor design); refuse rather than invent one
                return Err(SurveyError::Invalid(
                    "svyciprop method `likelihood` needs a Taylor design (R gives NA on replicate designs); use logit or beta".into(),
                ));
            }
            (VarianceKind::Replicate(set), _) => {
                let sw = set.replicate_totals(&indicator(mask))?;
                let swy = set.replicate_totals(&masked(y, mask))?;
                let thetas: Vec<f64> = sw
                    .iter()
                    .zip(&swy)
                    .map(|(&sw, &swy)| {
                        let pr = swy / sw;
                        (pr / (1.0 - pr)).ln()
                    })
                    .collect();
                if thetas.iter().any(|t| !t.is_finite()) {
                    // a replicate with p_r = 0 or 1 has no logit (R's refit drifts to |beta| near 30 and
                    // reports an interval near [0, 1]); the delta method on the replicate variance of p is
                    // defined, and the row says so
                    let (lo, hi) = logit_interval(d.p, d.logit_variance(), d.df, alpha);
                    return Ok((lo, hi, CipropMethod::Xlogit.as_str()));
                }
                replicate_stats::variance(set, &thetas, beta)?
            }
            _ => d.logit_variance(),
        };
        if method == CipropMethod::Logit {
            let (lo, hi) = logit_interval(d.p, var_beta, d.df, alpha);
            return Ok((lo, hi, method.as_str()));
        }
        let prior = self.glm_prior_weights(dom_mask);
        let sums = BinomialSums::new(y, &prior, mask);
        let (lo, hi) =
            self.profile_interval(y, &prior, mask, &sums, beta, var_beta, d.df, alpha)?;
        let (lo, hi) = contain(d.p, lo, hi);
        Ok((lo, hi, method.as_str()))
    }

    /// R's `confint.svyglm(method="likelihood")` for an intercept-only model: Rao-Scott scaled level, profile
    /// deviance on R's grid (`MASSprofile_glm`: at most 9 steps of zmax/5 SEs each way, stopping past zmax),
    /// fmm spline and linear interpolation (`confint_profile`); returns the bounds on the proportion scale.
    /// Where R's 9 steps stop short of the cutoff (small Rao-Scott factor, few df) R returns NA; here the
    /// profile continues with the same step until it passes the cutoff (points R computes are unchanged), or
    /// an error says why it cannot. A zero variance gives [p, p].
    #[allow(clippy::too_many_arguments)]
    fn profile_interval(
        &self,
        y: &[f64],
        prior: &[f64],
        mask: &[bool],
        sums: &BinomialSums,
        beta: f64,
        var_beta: f64,
        df: f64,
        alpha: f64,
    ) -> Result<(f64, f64), SurveyError> {
        /// Steps beyond R's 9 on one side before giving up.
        const MAX_EXTRA_STEPS: usize = 1000;
        let mu = expit(beta);
        if df.is_nan() || df <= 0.0 {
            return Ok((f64::NAN, f64::NAN));
        }
        if var_beta == 0.0 {
            return Ok((mu, mu));
        }
        if !var_beta.is_finite() {
            return Err(SurveyError::Invalid(format!(
                "svyciprop likelihood: the variance of logit(p) is {var_beta}; use logit or beta"
            )));
        }
        let naive = 1.0 / (sums.sw * mu * (1.0 - mu));
        let lambda = var_beta / naive;
        let level = 1.0 - alpha;
        // R: a = pnorm(qt((1 - level)/2, df) sqrt(lambda)) / 2 and cutoffs qnorm(2a), qnorm(2a, upper); the
        // cutoffs are taken as +-qt sqrt(lambda) directly (equal, and still finite when pnorm underflows to 0)
        let scaled = dist::qt((1.0 - level) / 2.0, df, true) * lambda.sqrt();
        let a = dist::pnorm(scaled, true) / 2.0;
        // dispersion: svyvar of the Pearson residuals on the design (R's residuals.svyglm divides the
        // survey weights out of them)
        let mut resid = vec![0.0; y.len()];
        for i in 0..y.len() {
            if mask[i] && prior[i] > 0.0 {
                resid[i] = (y[i] - mu) / (mu * (1.0 - mu)).sqrt();
            }
        }
        let dispersion = self.weighted_variance(&resid, mask);
        let n_model = self.nrow_of(mask);
        let mut zmax = dist::qf_1(a, n_model as f64 - 1.0, false).sqrt();
        if !zmax.is_finite() {
            // a underflowed (R's grid step is then infinite and its bounds NaN): the upper a quantile of
            // sqrt(F(1, n - 1)) is at least the cutoff, which sets the step instead
            zmax = scaled.abs();
        }
        let original = sums.deviance_at_logit(beta);
        let cutoff = if a > 0.0 {
            [dist::qnorm(2.0 * a, true), dist::qnorm(2.0 * a, false)]
        } else {
            [scaled, -scaled]
        };
        // with few rows (n - 1 = 1 or 2 F df) R's zmax is huge (5e71 for 2 rows) and its grid steps jump past
        // the whole profile, so the interpolated bound is arbitrary (it can land on the estimate); the step is
        // capped at (2 |cutoff| + 1) / 5 SEs, which leaves R's grid unchanged wherever zmax is near the cutoff
        let zmax = zmax.min(2.0 * cutoff[1].abs() + 1.0);
        let del = zmax / 5.0;
        if !(del > 0.0
            && del.is_finite()
            && dispersion > 0.0
            && cutoff.iter().all(|c| c.is_finite()))
        {
            return Err(SurveyError::Invalid(format!(
                "svyciprop likelihood: the profile is undefined (zmax {zmax}, dispersion {dispersion}, \
                 Rao-Scott factor {lambda}); use logit or beta"
            )));
        }
        let mut points: Vec<(f64, f64)> = vec![(beta, 0.0)];
        for (sgn, cut) in [(-1.0, cutoff[0]), (1.0, cutoff[1])] {
            let mut step = 0usize;
            let mut z: f64 = 0.0;
            loop {
                step += 1;
                let in_r_grid = step < 10 && z.abs() < zmax;
                if !in_r_grid && z.abs() >= cut.abs() {
                    break;
                }
                if step >= 10 + MAX_EXTRA_STEPS {
                    return Err(SurveyError::Invalid(format!(
                        "svyciprop likelihood: the profile deviance did not reach the interval's level \
                         (z {z} of {cut}) in {step} steps; use logit or beta"
                    )));
                }
                let bi = beta + sgn * step as f64 * del * var_beta.sqrt();
                let dev = sums.deviance_at_logit(bi);
                let zz = (dev - original) / dispersion;
                if !zz.is_finite() {
                    return Err(SurveyError::Invalid(format!(
                        "svyciprop likelihood: the profile deviance is not finite at logit {bi} before reaching \
                         the interval's level; use logit or beta"
                    )));
                }
                // deviance at p is the minimum, so zz is >= 0 up to rounding
                z = sgn * zz.max(0.0).sqrt();
                points.push((bi, z));
            }
        }
        points.sort_by(|p, q| p.1.total_cmp(&q.1));
        let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        let zs: Vec<f64> = points.iter().map(|p| p.1).collect();
        let (sx, sy) = fmm_spline_grid(&xs, &zs, 3 * xs.len());
        let lo = approx(&sy, &sx, cutoff[0]);
        let hi = approx(&sy, &sx, cutoff[1]);
        Ok((expit(lo), expit(hi)))
    }

    /// R's `svyvar` of one variable on the design restricted to `mask` (point estimate).
    pub(crate) fn weighted_variance(&self, x: &[f64], mask: &[bool]) -> f64 {
        let (mut sw, mut swx, mut n) = (0.0, 0.0, 0usize);
        for i in 0..x.len() {
            if mask[i] {
                sw += self.weights[i];
                swx += self.weights[i] * x[i];
                if self.weights[i] != 0.0 {
                    n += 1;
                }
            }
        }
        let xbar = swx / sw;
        let n = n as f64;
        let mut s = 0.0;
        for i in 0..x.len() {
            if mask[i] {
                s += self.weights[i] * (x[i] - xbar) * (x[i] - xbar) * n / (n - 1.0);
            }
        }
        s / sw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimator::ReplicateWeights;

    #[test]
    fn likelihood_on_replicate_design_is_refused() {
        let w = vec![1.0; 4];
        let reps = ReplicateWeights {
            analysis: vec![
                vec![0.0, 2.0, 1.0, 1.0],
                vec![2.0, 0.0, 1.0, 1.0],
                vec![1.0, 1.0, 0.0, 2.0],
            ],
            scale: 0.5,
            rscales: vec![1.0; 3],
            mse: false,
        };
        let d = SurveyDesign::replicate(w, reps, None).unwrap();
        let y = [1.0, 0.0, 1.0, 1.0];
        let v = Variable::Numeric {
            name: "y",
            values: &y,
        };
        let opts = Options::default();
        let err = d
            .ciprop(&v, CipropMethod::Likelihood, &DomainSpec::default(), &opts)
            .unwrap_err();
        assert!(
            matches!(&err, SurveyError::Invalid(m) if m.contains("`likelihood` needs a Taylor design")),
            "{err:?}"
        );
        let ok = d
            .ciprop(&v, CipropMethod::Logit, &DomainSpec::default(), &opts)
            .unwrap();
        assert!((ok[0].estimate - 0.75).abs() < 1e-9);
        assert!(ok[0].ci_lower < 0.75 && ok[0].ci_upper > 0.75);
    }

    /// A 30-row domain of a 2000-row post-stratified design, 4 of its rows 1: svyglm's prior weights (w over
    /// the mean weight of all rows, as R keeps the rows outside the domain of a calibrated design) are large,
    /// so R's IRLS (and the IRLS this crate ran before) starts far from logit(p) and diverges to -1e15: R
    /// reports p = 0 with the interval [0, 0] on this kind of domain (p = 0.13 there).
    #[test]
    fn logit_interval_of_a_small_domain_of_a_calibrated_design_holds_its_estimate() {
        use crate::calibrate::{FactorMargin, post_stratify};
        use crate::design::{DesignSpec, Factor, WeightSpec};
        use crate::lonely::LonelyPsu;
        let n = 2000usize;
        let psu: Vec<u32> = (0..n as u32).map(|i| i / 20).collect();
        let strata: Vec<u32> = psu.iter().map(|p| p / 10).collect();
        let strata_labels: Vec<String> = (0..10).map(|s| format!("s{s}")).collect();
        let w: Vec<f64> = (0..n)
            .map(|i| 10.0 * (1.0 + ((i * 37) % 11) as f64 / 5.0))
            .collect();
        let sex: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
        let sex_labels = vec!["F".to_string(), "M".to_string()];
        let in_domain: Vec<bool> = (0..n).map(|i| i % 67 == 3).collect();
        let mut seen = 0;
        let y: Vec<f64> = in_domain
            .iter()
            .map(|&d| {
                seen += usize::from(d);
                f64::from(u8::from(d && seen % 7 == 1))
            })
            .collect();
        let spec = DesignSpec {
            ids: vec![&psu],
            strata: Some(Factor {
                codes: &strata,
                labels: &strata_labels,
            }),
            fpc: vec![],
            weights: WeightSpec::Weights(&w),
            nest: true,
            lonely_psu: LonelyPsu::Fail,
        };
        let plain = SurveyDesign::taylor(&spec).unwrap();
        let margin = FactorMargin {
            variable: "sex",
            factor: Factor {
                codes: &sex,
                labels: &sex_labels,
            },
            levels: &sex_labels,
            totals: &[20000.0, 24000.0],
        };
        let ps = post_stratify(&w, &margin, false).unwrap();
        let base = plain.taylor_design().unwrap().clone();
        let cal = SurveyDesign::calibrated(&base, ps.weights, Box::new(ps.calibration)).unwrap();
        let domain = DomainSpec {
            subset: Some(&in_domain),
            by: vec![],
        };
        let v = Variable::Numeric {
            name: "y",
            values: &y,
        };
        let opts = Options::default();
        let mean = cal.mean(&v, &domain, &opts).unwrap()[0].clone();
        assert_eq!(mean.n_unweighted, 30);
        assert!(mean.estimate > 0.1 && mean.estimate < 0.2, "{mean:?}");
        let logit = cal.ciprop(&v, CipropMethod::Logit, &domain, &opts).unwrap()[0].clone();
        let xlogit = cal
            .ciprop(&v, CipropMethod::Xlogit, &domain, &opts)
            .unwrap()[0]
            .clone();
        assert!((logit.estimate - mean.estimate).abs() < 1e-15);
        assert!(
            logit.ci_lower > 0.01 && logit.ci_lower < logit.estimate,
            "{logit:?}"
        );
        assert!(
            logit.ci_upper > logit.estimate && logit.ci_upper < 0.6,
            "{logit:?}"
        );
        // on a Taylor or calibrated design the closed-form logit interval is the delta-method one
        assert!((logit.ci_lower - xlogit.ci_lower).abs() < 1e-14);
        assert!((logit.ci_upper - xlogit.ci_upper).abs() < 1e-14);
        let lik = cal
            .ciprop(&v, CipropMethod::Likelihood, &domain, &opts)
            .unwrap()[0]
            .clone();
        assert!(lik.ci_lower > 0.0 && lik.ci_lower < lik.estimate, "{lik:?}");
        assert!(lik.ci_upper > lik.estimate && lik.ci_upper < 0.7, "{lik:?}");
    }

    /// p = 0 and p = 1: every method but `mean` gives the Clopper-Pearson interval with n_eff = n (R gives NaN,
    /// or for logit a diverged fit whose estimate lies outside its own interval).
    #[test]
    fn boundary_estimates_get_the_clopper_pearson_interval() {
        let w: Vec<f64> = (0..30).map(|i| 1.0 + (i % 4) as f64).collect();
        let reps = ReplicateWeights {
            analysis: (0..10)
                .map(|r| {
                    (0..30)
                        .map(|i| if i / 3 == r { 0.0 } else { w[i] * 10.0 / 9.0 })
                        .collect()
                })
                .collect(),
            scale: 0.9,
            rscales: vec![1.0; 10],
            mse: false,
        };
        let rep = SurveyDesign::replicate(w.clone(), reps, None).unwrap();
        let opts = Options::default();
        // n = 30 rows, df = 9: n_eff = 30 (qt(0.025, 29) / qt(0.025, 9))^2
        let ratio = dist::qt(0.025, 29.0, true) / dist::qt(0.025, 9.0, true);
        let edge = 0.025f64.powf(1.0 / (30.0 * ratio * ratio));
        assert!(edge > 0.85 && edge < 0.87);
        for (value, lo, hi) in [(0.0, 0.0, 1.0 - edge), (1.0, edge, 1.0)] {
            let y = vec![value; 30];
            let v = Variable::Numeric {
                name: "y",
                values: &y,
            };
            for method in [
                CipropMethod::Logit,
                CipropMethod::Beta,
                CipropMethod::Asin,
                CipropMethod::Xlogit,
            ] {
                let e = rep
                    .ciprop(&v, method, &DomainSpec::default(), &opts)
                    .unwrap()[0]
                    .clone();
                assert_eq!(e.estimate, value);
                assert_eq!(e.ci_method, BOUNDARY_METHOD);
                assert!((e.ci_lower - lo).abs() < 1e-12, "{method:?} {e:?}");
                assert!((e.ci_upper - hi).abs() < 1e-12, "{method:?} {e:?}");
            }
            let m = rep
                .ciprop(&v, CipropMethod::Mean, &DomainSpec::default(), &opts)
                .unwrap()[0]
                .clone();
            assert_eq!(
                (m.ci_lower, m.ci_upper, m.ci_method),
                (value, value, "mean")
            );
        }
    }

    /// A JK1 design whose 1s all sit in one PSU: the replicate without that PSU has p_r = 0 and no logit, so
    /// the logit request falls back to the delta method on the replicate variance of p and says so.
    #[test]
    fn logit_on_a_replicate_with_p_zero_falls_back_to_xlogit() {
        let n = 12;
        let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let psu: Vec<usize> = (0..n).map(|i| i / 3).collect();
        let reps = ReplicateWeights {
            analysis: (0..4)
                .map(|r| {
                    (0..n)
                        .map(|i| if psu[i] == r { 0.0 } else { w[i] * 4.0 / 3.0 })
                        .collect()
                })
                .collect(),
            scale: 0.75,
            rscales: vec![1.0; 4],
            mse: false,
        };
        let d = SurveyDesign::replicate(w.clone(), reps, None).unwrap();
        let y: Vec<f64> = (0..n)
            .map(|i| f64::from(u8::from(i == 1 || i == 2)))
            .collect();
        let v = Variable::Numeric {
            name: "y",
            values: &y,
        };
        let opts = Options::default();
        let e = d
            .ciprop(&v, CipropMethod::Logit, &DomainSpec::default(), &opts)
            .unwrap()[0]
            .clone();
        let x = d
            .ciprop(&v, CipropMethod::Xlogit, &DomainSpec::default(), &opts)
            .unwrap()[0]
            .clone();
        assert_eq!(e.ci_method, "xlogit");
        assert_eq!((e.ci_lower, e.ci_upper), (x.ci_lower, x.ci_upper));
        assert!(
            e.se > 0.0 && e.ci_lower < e.estimate && e.estimate < e.ci_upper,
            "{e:?}"
        );
    }

    #[test]
    fn asin_interval_is_clamped_to_its_range() {
        // R folds an asin-scale bound below 0 back with sin^2: p = 0.1, large SE gave a lower bound above p
        let d = DomainProp {
            p: 0.1,
            v: 0.13f64.powi(2),
            n: 4,
            nrow: 4,
            df: 2.0,
        };
        let (lo, hi) = closed_form_interval(CipropMethod::Asin, &d, 0.05);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.1 && hi <= 1.0);
        let wide = DomainProp { p: 0.9, ..d };
        let (lo, hi) = closed_form_interval(CipropMethod::Asin, &wide, 0.05);
        assert!(lo < 0.9 && hi == 1.0);
    }

    #[test]
    fn no_degrees_of_freedom_leave_no_interval_rather_than_a_point() {
        let d = DomainProp {
            p: 0.3,
            v: 0.01,
            n: 5,
            nrow: 5,
            df: 0.0,
        };
        for method in [
            CipropMethod::Logit,
            CipropMethod::Xlogit,
            CipropMethod::Asin,
            CipropMethod::Beta,
            CipropMethod::Mean,
        ] {
            let (lo, hi) = closed_form_interval(method, &d, 0.05);
            assert!(lo.is_nan() && hi.is_nan(), "{method:?}: [{lo}, {hi}]");
        }
    }

    #[test]
    fn ciprop_with_mean_equals_separate_calls_on_raked_and_plain_designs() {
        use crate::calibrate::{FactorMargin, RakeControl, rake};
        use crate::design::{DesignSpec, Factor, WeightSpec};
        use crate::estimator::Deff;
        use crate::lonely::LonelyPsu;
        let n = 240usize;
        let psu: Vec<u32> = (0..n as u32).map(|i| i / 6).collect();
        let strata: Vec<u32> = psu.iter().map(|p| p / 5).collect();
        let strata_labels: Vec<String> = (0..8).map(|s| format!("s{s}")).collect();
        let w: Vec<f64> = (0..n).map(|i| 20.0 + ((i * 37) % 23) as f64).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| match (i * 13) % 7 {
                0 | 3 => 1.0,
                5 if i % 2 == 0 => f64::NAN,
                _ => 0.0,
            })
            .collect();
        let sex: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
        let age: Vec<u32> = (0..n as u32).map(|i| (i / 2) % 3).collect();
        let sex_labels = vec!["F".to_string(), "M".to_string()];
        let age_labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let spec = DesignSpec {
            ids: vec![&psu],
            strata: Some(Factor {
                codes: &strata,
                labels: &strata_labels,
            }),
            fpc: vec![],
            weights: WeightSpec::Weights(&w),
            nest: true,
            lonely_psu: LonelyPsu::Fail,
        };
        let plain = SurveyDesign::taylor(&spec).unwrap();
        let margins = [
            FactorMargin {
                variable: "sex",
                factor: Factor {
                    codes: &sex,
                    labels: &sex_labels,
                },
                levels: &sex_labels,
                totals: &[4000.0, 3000.0],
            },
            FactorMargin {
                variable: "age",
                factor: Factor {
                    codes: &age,
                    labels: &age_labels,
                },
                levels: &age_labels,
                totals: &[2000.0, 2500.0, 2500.0],
            },
        ];
        let raked = rake(&w, &margins, RakeControl::default()).unwrap();
        let base = plain.taylor_design().unwrap().clone();
        let cal =
            SurveyDesign::calibrated(&base, raked.weights, Box::new(raked.calibration)).unwrap();
        let subset: Vec<bool> = (0..n).map(|i| i % 5 != 0).collect();
        let by = DomainSpec {
            subset: Some(&subset),
            by: vec![Factor {
                codes: &age,
                labels: &age_labels,
            }],
        };
        let opts = Options {
            na_rm: true,
            deff: Deff::Srs,
            ..Options::default()
        };
        let v = Variable::Numeric {
            name: "y",
            values: &y,
        };
        for design in [&plain, &cal] {
            for method in [CipropMethod::Logit, CipropMethod::Beta] {
                for domains in [DomainSpec::default(), by.clone()] {
                    let both = design
                        .ciprop_with_mean(&v, method, &domains, &opts)
                        .unwrap();
                    let props = design.ciprop(&v, method, &domains, &opts).unwrap();
                    let means = design.mean(&v, &domains, &opts).unwrap();
                    assert_eq!(both.len(), props.len());
                    for ((p, m), (p0, m0)) in both.iter().zip(props.iter().zip(&means)) {
                        assert_eq!(p, p0);
                        assert_eq!(m, m0);
                        assert!(m.deff.is_some_and(|d| d.is_finite()));
                    }
                }
            }
        }
    }
}
