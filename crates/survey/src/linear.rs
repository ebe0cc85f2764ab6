//! Means, totals and ratios (R's `svymean`, `svytotal`, `svyratio`, and `svyby` over them): continuous
//! variables and every level of a categorical one, with SE, t interval, design effect (`deff=TRUE` against SRS
//! without replacement, `"replace"` with replacement), unweighted n and weighted N, overall and by domain.

use crate::design::NA_CODE;
use crate::dist;
use crate::domain::DomainSpec;
use crate::error::SurveyError;
use crate::estimator::{Deff, Estimate, Kernel, Options, SurveyDesign, Variable, VarianceKind};
use crate::linear_fast;
use crate::replicate_stats;
use std::borrow::Cow;

/// R's design effect: `v / vsrs` with s^2 = svyvar = `ss / psum * n/(n-1)`; SRS without replacement
/// (`deff=TRUE`) multiplies by (N-n)/N (a mean gives NaN when N < n, as R), totals scale by N^2.
pub(crate) fn deff_value(v: f64, ss: f64, psum: f64, nobs: usize, total: bool, mode: Deff) -> f64 {
    let n = nobs as f64;
    let s2 = ss / psum * n / (n - 1.0);
    let vsrs = match (total, mode) {
        (false, Deff::Replace) => s2 / n,
        (false, _) if psum < n => f64::NAN,
        (false, _) => s2 * (psum - n) / (psum * n),
        (true, Deff::Replace) => s2 * psum * psum / n,
        (true, _) => s2 * psum * psum * (psum - n) / (psum * n),
    };
    v / vsrs
}

impl SurveyDesign {
    /// svymean: one estimate per domain (per level and domain for a categorical variable).
    pub fn mean(
        &self,
        var: &Variable<'_>,
        domains: &DomainSpec<'_>,
        opts: &Options,
    ) -> Result<Vec<Estimate>, SurveyError> {
        self.linear(var, domains, opts, false)
    }

    /// svytotal: one estimate per domain (per level and domain for a categorical variable).
    pub fn total(
        &self,
        var: &Variable<'_>,
        domains: &DomainSpec<'_>,
        opts: &Options,
    ) -> Result<Vec<Estimate>, SurveyError> {
        self.linear(var, domains, opts, true)
    }

    fn linear(
        &self,
        var: &Variable<'_>,
        domains: &DomainSpec<'_>,
        opts: &Options,
        total: bool,
    ) -> Result<Vec<Estimate>, SurveyError> {
        self.check_inputs(&[var], opts)?;
        let (set, df) = self.domains(domains)?;
        // columns: one numeric column, or one indicator per level
        let columns: Vec<(String, Cow<'_, [f64]>)> = match var {
            Variable::Numeric { name, values } => vec![(name.to_string(), Cow::Borrowed(*values))],
            Variable::Categorical { name, factor } => factor
                .labels
                .iter()
                .enumerate()
                .map(|(l, lab)| {
                    let col = factor
                        .codes
                        .iter()
                        .map(|&c| match c {
                            NA_CODE => f64::NAN,
                            c if c as usize == l => 1.0,
                            _ => 0.0,
                        })
                        .collect();
                    (format!("{name}{lab}"), Cow::Owned(col))
                })
                .collect(),
        };
        let q = dist::qt(1.0 - (1.0 - opts.level) / 2.0, df as f64, true);
        let estimate = |domain: &[String], name: &str, est: f64, v: f64, deff, nu, nw| {
            let se: f64 = f64::sqrt(v);
            Estimate {
                domain: domain.to_vec(),
                name: name.to_string(),
                estimate: est,
                se,
                ci_lower: est - q * se,
                ci_upper: est + q * se,
                ci_method: "wald-t",
                df: df as f64,
                deff,
                n_unweighted: nu,
                n_weighted: nw,
            }
        };
        if let VarianceKind::Taylor(design) = &self.kind
            && design.only_stage1()
            && set.n_domains().saturating_mul(design.n_psu()) <= linear_fast::MAX_CELLS
        {
            // one pass per column for all domains; estimates ordered by domain, then column
            let missing = |i: usize| var.is_missing(i);
            let per_column = columns
                .iter()
                .map(|(_, col)| {
                    linear_fast::linear_by_psu(
                        design,
                        &self.weights,
                        &set,
                        col,
                        &missing,
                        total,
                        opts.deff != Deff::None,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = Vec::with_capacity(set.n_domains() * columns.len());
            for d in 0..set.n_domains() {
                for ((name, _), res) in columns.iter().zip(&per_column) {
                    let r = &res[d];
                    let deff = r.ss.map(|ss| {
                        deff_value(r.variance, ss, r.sum_w, r.n_nonzero, total, opts.deff)
                    });
                    out.push(estimate(
                        &set.labels[d],
                        name,
                        r.estimate,
                        r.variance,
                        deff,
                        r.n_nonzero,
                        r.sum_w,
                    ));
                }
            }
            return Ok(out);
        }
        if let VarianceKind::Replicate(reps) = &self.kind
            && opts.deff == Deff::None
        {
            // replicate designs: every domain's replicate estimates in one pass per column
            let missing = |i: usize| var.is_missing(i);
            let mut per_column = Vec::with_capacity(columns.len());
            for (_, col) in &columns {
                match replicate_stats::domain_linear(
                    reps,
                    &self.weights,
                    &set.domain_of_row,
                    set.n_domains(),
                    col,
                    &missing,
                    total,
                ) {
                    Some(r) => per_column.push(r),
                    None => break,
                }
            }
            if per_column.len() == columns.len() {
                let mut out = Vec::with_capacity(set.n_domains() * columns.len());
                for d in 0..set.n_domains() {
                    for ((name, _), res) in columns.iter().zip(&per_column) {
                        let r = &res[d];
                        let v = replicate_stats::variance(reps, &r.thetas, r.estimate)?;
                        out.push(estimate(
                            &set.labels[d],
                            name,
                            r.estimate,
                            v,
                            None,
                            r.n_nonzero,
                            r.sum_w,
                        ));
                    }
                }
                return Ok(out);
            }
        }
        if let Some(cal) = self.calibrated_parts() {
            // calibrated designs: each domain's sums over its own rows (calibrated_fast.rs)
            let rows = set.rows_by_domain();
            let missing = |i: usize| var.is_missing(i);
            let mut out = Vec::with_capacity(set.n_domains() * columns.len());
            let mut buf = Vec::new();
            for d in 0..set.n_domains() {
                for (name, col) in &columns {
                    let k = cal.kernel(rows.of(d), col, missing, total, opts.deff, &mut buf)?;
                    out.push(estimate(
                        &set.labels[d],
                        name,
                        k.estimate,
                        k.variance,
                        k.deff,
                        k.n_nonzero,
                        k.sum_w_nonzero,
                    ));
                }
            }
            return Ok(out);
        }
        let mut out = Vec::new();
        let mut mask = Vec::new();
        let mut buf = Vec::new();
        for d in 0..set.n_domains() {
            set.fill_mask(d, &mut mask, |i| !var.is_missing(i));
            let (nu, nw) = self.counts(&mask);
            for (name, col) in &columns {
                let k = if total {
                    Kernel::Total(col)
                } else {
                    Kernel::Mean(col)
                };
                let est = k.point(&self.weights, &mask);
                let v = self.kernel_variance(&k, &mask, est, &mut buf)?;
                let deff = self.deff(col, &mask, v, total, opts.deff);
                out.push(estimate(&set.labels[d], name, est, v, deff, nu, nw));
            }
        }
        Ok(out)
    }

    /// svyratio(num, den): one estimate per domain.
    pub fn ratio(
        &self,
        num: &Variable<'_>,
        den: &Variable<'_>,
        domains: &DomainSpec<'_>,
        opts: &Options,
    ) -> Result<Vec<Estimate>, SurveyError> {
        self.check_inputs(&[num, den], opts)?;
        let (
            Variable::Numeric {
                name: nn,
                values: y,
            },
            Variable::Numeric {
                name: dn,
                values: x,
            },
        ) = (num, den)
        else {
            return Err(SurveyError::Invalid(
                "svyratio needs numeric numerator and denominator".into(),
            ));
        };
        let (set, df) = self.domains(domains)?;
        let mut out = Vec::new();
        let mut mask = Vec::new();
        let mut buf = Vec::new();
        for d in 0..set.n_domains() {
            set.fill_mask(d, &mut mask, |i| !y[i].is_nan() && !x[i].is_nan());
            let k = Kernel::Ratio(y, x);
            let est = k.point(&self.weights, &mask);
            let v = self.kernel_variance(&k, &mask, est, &mut buf)?;
            let deff = if opts.deff == Deff::None {
                None
            } else {
                // R: deff(svytotal(y - R x, design)), the design effect of the linearised total (scale-free);
                // on a Taylor design its variance is the ratio's variance times (sum w x)^2
                let r: Vec<f64> = y
                    .iter()
                    .zip(x.iter())
                    .map(|(yi, xi)| yi - est * xi)
                    .collect();
                let k_r = Kernel::Total(&r);
                let t_r = k_r.point(&self.weights, &mask);
                let v_r = self.kernel_variance(&k_r, &mask, t_r, &mut buf)?;
                self.deff(&r, &mask, v_r, true, opts.deff)
            };
            let mut e = self.wald(
                set.labels[d].clone(),
                format!("{nn}/{dn}"),
                est,
                v,
                df,
                deff,
                &mask,
                opts.level,
            );
            e.n_weighted = self
                .weights
                .iter()
                .zip(&mask)
                .filter(|(_, m)| **m)
                .map(|(w, _)| w)
                .sum();
            out.push(e);
        }
        Ok(out)
    }

    /// Design effect of a mean or total of `x` over `mask` whose design variance is `v`.
    pub(crate) fn deff(
        &self,
        x: &[f64],
        mask: &[bool],
        v: f64,
        total: bool,
        mode: Deff,
    ) -> Option<f64> {
        if mode == Deff::None {
            return None;
        }
        let w = &self.weights;
        let (mut psum, mut swx, mut nobs) = (0.0, 0.0, 0usize);
        for i in 0..x.len() {
            if mask[i] {
                psum += w[i];
                swx += w[i] * x[i];
                nobs += usize::from(w[i] != 0.0);
            }
        }
        if let VarianceKind::Replicate(_) = self.kind {
            nobs = mask.iter().filter(|&&m| m).count();
        }
        let xbar = swx / psum;
        let mut ss = 0.0;
        for i in 0..x.len() {
            if mask[i] {
                ss += w[i] * (x[i] - xbar) * (x[i] - xbar);
            }
        }
        Some(deff_value(v, ss, psum, nobs, total, mode))
    }

    /// An estimate with a Wald t interval.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn wald(
        &self,
        domain: Vec<String>,
        name: String,
        est: f64,
        var: f64,
        df: usize,
        deff: Option<f64>,
        mask: &[bool],
        level: f64,
    ) -> Estimate {
        let q = dist::qt(1.0 - (1.0 - level) / 2.0, df as f64, true);
        wald_estimate(domain, name, est, var, df, q, deff, self.counts(mask))
    }
}

/// An estimate with the Wald t interval `est +- q se`, `q` the t quantile for `df`; `counts` are the domain's
/// rows with a non-zero weight and their weight sum.
#[allow(clippy::too_many_arguments)]
pub(crate) fn wald_estimate(
    domain: Vec<String>,
    name: String,
    est: f64,
    var: f64,
    df: usize,
    q: f64,
    deff: Option<f64>,
    (nu, nw): (usize, f64),
) -> Estimate {
    let se = var.sqrt();
    Estimate {
        domain,
        name,
        estimate: est,
        se,
        ci_lower: est - q * se,
        ci_upper: est + q * se,
        ci_method: "wald-t",
        df: df as f64,
        deff,
        n_unweighted: nu,
        n_weighted: nw,
    }
}

#[cfg(test)]
mod tests {
    use crate::design::{DesignSpec, Factor, WeightSpec};
    use crate::domain::DomainSpec;
    use crate::error::SurveyError;
    use crate::estimator::{Options, SurveyDesign, Variable};
    use crate::lonely::LonelyPsu;

    fn srs(n: usize) -> SurveyDesign {
        let w = vec![2.0; n];
        let spec = DesignSpec {
            ids: vec![],
            strata: None,
            fpc: vec![],
            weights: WeightSpec::Weights(&w),
            nest: false,
            lonely_psu: LonelyPsu::Fail,
        };
        SurveyDesign::taylor(&spec).unwrap()
    }

    #[test]
    fn missing_values_need_na_rm_and_then_leave_the_domain() {
        let d = srs(5);
        let x = [1.0, f64::NAN, 3.0, f64::NAN, 5.0];
        let v = Variable::Numeric {
            name: "x",
            values: &x,
        };
        let err = d
            .mean(&v, &DomainSpec::default(), &Options::default())
            .unwrap_err();
        assert_eq!(
            err,
            SurveyError::MissingValues {
                variable: "x".into(),
                count: 2
            }
        );
        let opts = Options {
            na_rm: true,
            ..Options::default()
        };
        let e = &d.mean(&v, &DomainSpec::default(), &opts).unwrap()[0];
        assert_eq!((e.estimate, e.n_unweighted, e.n_weighted), (3.0, 3, 6.0));
        // the dropped rows stay PSUs of the design (n = 5): var = 5/4 * sum(z^2), z = w (x - m) / sum(w);
        // R: SE(svymean(~x, svydesign(id=~1, weights=~w, data=d), na.rm=TRUE)) = 1.0540925533894598
        assert!((e.se - 1.0540925533894598).abs() < 1e-15);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let d = srs(3);
        let x = [1.0, 2.0, 3.0];
        let v = Variable::Numeric {
            name: "x",
            values: &x,
        };
        let opts = Options {
            level: 95.0,
            ..Options::default()
        };
        assert!(d.mean(&v, &DomainSpec::default(), &opts).is_err());
        let labels = vec!["a".to_string()];
        let codes = [0u32, 1, 0];
        let f = Variable::Categorical {
            name: "f",
            factor: Factor {
                codes: &codes,
                labels: &labels,
            },
        };
        assert!(
            d.mean(&f, &DomainSpec::default(), &Options::default())
                .is_err()
        );
        let short = [1.0, 2.0];
        let s = Variable::Numeric {
            name: "s",
            values: &short,
        };
        assert!(
            d.total(&s, &DomainSpec::default(), &Options::default())
                .is_err()
        );
    }
}
