//! Proportions with confidence intervals, R's `svyciprop` with its six methods: `logit` (quasibinomial GLM fitted
//! by IRLS, Wald interval on the logit scale; refitted per replicate on replicate designs), `likelihood`
//! (Rao-Scott-scaled profile likelihood, with R's grid, spline and interpolation), `beta` (Korn-Graubard), `asin`,
//! `mean` and `xlogit`. Intervals use t quantiles with df = degf of the (domain) design; the reported SE is the
//! svymean SE.

use crate::ciprop_fast;
use crate::dist;
use crate::domain::DomainSpec;
use crate::error::SurveyError;
use crate::estimator::{Estimate, Kernel, Options, SurveyDesign, Variable, VarianceKind};
use crate::glm::{self, BinomialSums};
use crate::replicate::ReplicateSet;
use crate::replicate_stats::{indicator, masked};
use crate::spline::{approx, fmm_spline_grid};

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

/// `mean`, `xlogit`, `asin` and `beta` intervals from the proportion `p` and its variance `v`:
/// (estimate, lower, upper).
fn closed_form_interval(
    method: CipropMethod,
    p: f64,
    v: f64,
    nrow: usize,
    df: f64,
    alpha: f64,
) -> (f64, f64, f64) {
    let qt = dist::qt(1.0 - alpha / 2.0, df, true);
    match method {
        CipropMethod::Xlogit => {
            let eta = (p / (1.0 - p)).ln();
            let se = v.sqrt() / (p * (1.0 - p));
            (p, glm::expit(eta - qt * se), glm::expit(eta + qt * se))
        }
        CipropMethod::Asin => {
            let t = p.sqrt().asin();
            let se = v.sqrt() / (2.0 * (p * (1.0 - p)).sqrt());
            (p, (t - qt * se).sin().powi(2), (t + qt * se).sin().powi(2))
        }
        CipropMethod::Beta => {
            let (lo, hi) = beta_interval(p, v, nrow, df, alpha);
            (p, lo, hi)
        }
        _ => (p, p - qt * v.sqrt(), p + qt * v.sqrt()),
    }
}

/// `logit`: expit(beta) and the Wald interval on the logit scale (R's confint.svyglm with ddf = df).
fn logit_interval(beta: f64, var_beta: f64, df: f64, alpha: f64) -> (f64, f64, f64) {
    let q = dist::qt(1.0 - alpha / 2.0, df, true);
    let se = var_beta.sqrt();
    (
        glm::expit(beta),
        glm::expit(beta - q * se),
        glm::expit(beta + q * se),
    )
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
        self.check_inputs(&[var], opts)?;
        let Variable::Numeric { name, values: y } = var else {
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
        let (set, subset_df) = self.domains(domains)?;
        let alpha = 1.0 - opts.level;
        if let VarianceKind::Taylor(design) = &self.kind
            && design.only_stage1()
            && method != CipropMethod::Likelihood
            && let Some(stats) = ciprop_fast::domain_props(
                design,
                &self.weights,
                &set,
                y,
                method == CipropMethod::Logit,
            )?
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
                    let (estimate, lo, hi) = match s.logit {
                        Some((beta, var_beta)) => logit_interval(beta, var_beta, df, alpha),
                        None => closed_form_interval(method, s.p, s.var, s.nrow, df, alpha),
                    };
                    let p = Estimate {
                        domain: labels.clone(),
                        name: name.to_string(),
                        estimate,
                        se: s.var.sqrt(),
                        ci_lower: lo,
                        ci_upper: hi,
                        ci_method: method.as_str(),
                        df,
                        deff: None,
                        n_unweighted: s.n_unweighted,
                        n_weighted: s.n_weighted,
                    };
                    (p, None)
                })
                .collect());
        }
        let mut out = Vec::new();
        let mut dom_mask = Vec::new();
        let mut mask = Vec::new();
        let mut buf = Vec::new();
        for d in 0..set.n_domains() {
            set.fill_mask(d, &mut dom_mask, |_| true);
            set.fill_mask(d, &mut mask, |i| !y[i].is_nan());
            let df = if domains.by.is_empty() {
                subset_df
            } else {
                self.degf_of(&dom_mask)?
            } as f64;
            let k = Kernel::Mean(y);
            let p = k.point(&self.weights, &mask);
            let v = self.kernel_variance(&k, &mask, p, &mut buf)?;
            let (estimate, lo, hi) = match method {
                CipropMethod::Logit | CipropMethod::Likelihood => {
                    self.glm_interval(y, &dom_mask, &mask, method, df, alpha, &mut buf)?
                }
                _ => closed_form_interval(method, p, v, self.nrow_of(&dom_mask), df, alpha),
            };
            let (nu, nw) = self.counts(&mask);
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
                estimate,
                se: v.sqrt(),
                ci_lower: lo,
                ci_upper: hi,
                ci_method: method.as_str(),
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

    /// `logit` and `likelihood`: estimate expit(beta) and the interval.
    #[allow(clippy::too_many_arguments)]
    fn glm_interval(
        &self,
        y: &[f64],
        dom_mask: &[bool],
        mask: &[bool],
        method: CipropMethod,
        df: f64,
        alpha: f64,
        buf: &mut Vec<f64>,
    ) -> Result<(f64, f64, f64), SurveyError> {
        if method == CipropMethod::Likelihood && matches!(self.kind, VarianceKind::Replicate(_)) {
            // R returns NA bounds here (its profile needs a Taylor design); refuse rather than invent a method
            return Err(SurveyError::Invalid(
                "svyciprop method `likelihood` needs a Taylor design (R gives NA on replicate designs); use logit or beta".into(),
            ));
        }
        let prior = self.glm_prior_weights(dom_mask);
        let fit = glm::fit_default_start(y, &prior, mask);
        let beta = fit.coef;
        let mu = glm::expit(beta);
        let sums = BinomialSums::new(y, &prior, mask);
        // Taylor influence of beta: estfun %*% Ainv = prior (y - mu) / (mu (1 - mu) sum(prior))
        let denom = mu * (1.0 - mu) * sums.sw;
        let influence = |i: usize| {
            if prior[i] > 0.0 {
                prior[i] * (y[i] - mu) / denom
            } else {
                0.0
            }
        };
        // replicate designs: refit from beta with each replicate's weights scaled to sum 1 (R's svyglm.svyrep.design)
        let refit = |set: &ReplicateSet| -> Result<Vec<f64>, SurveyError> {
            let sw = set.replicate_totals(&indicator(mask))?;
            let swy = set.replicate_totals(&masked(y, mask))?;
            let binary = y
                .iter()
                .zip(mask)
                .all(|(&v, &m)| !m || v == 0.0 || v == 1.0);
            let c = if binary {
                vec![0.0; sw.len()]
            } else {
                let cy: Vec<f64> = y.iter().map(|&v| glm::constant_term(v)).collect();
                set.replicate_totals(&masked(&cy, mask))?
            };
            Ok((0..sw.len())
                .map(|r| {
                    let sums = BinomialSums {
                        sw: 1.0,
                        swy: swy[r] / sw[r],
                        c: c[r] / sw[r],
                    };
                    glm::fit_from_sums(&sums, beta).coef
                })
                .collect())
        };
        let var_beta = self.variance_with(&influence, &refit, beta, mask, buf)?;
        match method {
            CipropMethod::Logit => Ok(logit_interval(beta, var_beta, df, alpha)),
            _ => {
                let (lo, hi) =
                    self.profile_interval(y, &prior, mask, &sums, fit, var_beta, df, alpha)?;
                Ok((mu, glm::expit(lo), glm::expit(hi)))
            }
        }
    }

    /// R's `confint.svyglm(method="likelihood")` for an intercept-only model: Rao-Scott scaled level, profile
    /// deviance on R's grid (`MASSprofile_glm`), fmm spline and linear interpolation (`confint_profile`).
    #[allow(clippy::too_many_arguments)]
    fn profile_interval(
        &self,
        y: &[f64],
        prior: &[f64],
        mask: &[bool],
        sums: &BinomialSums,
        fit: glm::Fit,
        var_beta: f64,
        df: f64,
        alpha: f64,
    ) -> Result<(f64, f64), SurveyError> {
        let beta = fit.coef;
        let mu = glm::expit(beta);
        let naive = 1.0 / (sums.sw * mu * (1.0 - mu));
        let lambda = var_beta / naive;
        let level = 1.0 - alpha;
        let a = dist::pnorm(
            dist::qt((1.0 - level) / 2.0, df, true) * lambda.sqrt(),
            true,
        ) / 2.0;
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
        let zmax = dist::qf_1(a, n_model as f64 - 1.0, false).sqrt();
        let del = zmax / 5.0;
        let original = fit.deviance;
        let mut points: Vec<(f64, f64)> = vec![(beta, 0.0)];
        for sgn in [-1.0, 1.0] {
            let mut step = 0usize;
            let mut z: f64 = 0.0;
            loop {
                step += 1;
                if step >= 10 || z.abs() >= zmax {
                    break;
                }
                let bi = beta + sgn * step as f64 * del * var_beta.sqrt();
                let dev = sums.deviance(glm::expit(bi));
                let mut zz = (dev - original) / dispersion;
                if zz > -0.001 {
                    zz = zz.max(0.0);
                } else {
                    return Err(SurveyError::Invalid(
                        "profiling has found a better solution, so original fit had not converged"
                            .into(),
                    ));
                }
                z = sgn * zz.sqrt();
                points.push((bi, z));
            }
        }
        points.sort_by(|p, q| p.1.total_cmp(&q.1));
        let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        let zs: Vec<f64> = points.iter().map(|p| p.1).collect();
        let (sx, sy) = fmm_spline_grid(&xs, &zs, 3 * xs.len());
        let lo = approx(&sy, &sx, dist::qnorm(2.0 * a, true));
        let hi = approx(&sy, &sx, dist::qnorm(2.0 * a, false));
        Ok((lo, hi))
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
        assert!(
            d.ciprop(&v, CipropMethod::Likelihood, &DomainSpec::default(), &opts)
                .is_err()
        );
        let ok = d
            .ciprop(&v, CipropMethod::Logit, &DomainSpec::default(), &opts)
            .unwrap();
        assert!((ok[0].estimate - 0.75).abs() < 1e-9);
        assert!(ok[0].ci_lower < 0.75 && ok[0].ci_upper > 0.75);
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
