//! Means, totals and ratios (R's `svymean`, `svytotal`, `svyratio`, and `svyby` over them): continuous
//! variables and every level of a categorical one, with SE, t interval, design effect (`deff=TRUE` against SRS
//! without replacement, `"replace"` with replacement), unweighted n and weighted N, overall and by domain.

use crate::design::{Design, NA_CODE};
use crate::dist;
use crate::domain::{DomainSet, DomainSpec};
use crate::error::SurveyError;
use crate::estimator::{Deff, Estimate, Kernel, Options, SurveyDesign, Variable, VarianceKind};
use crate::linear_fast;
use crate::replicate::ReplicateSet;
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

/// What [`SurveyDesign::linear`]'s paths are asked: the domains, the columns of the variable, the variable (for
/// its missing rows), the options and mean or total.
struct LinearCall<'c, 'a> {
    set: &'c DomainSet,
    columns: &'c [(String, Cow<'a, [f64]>)],
    var: &'c Variable<'a>,
    opts: &'c Options,
    total: bool,
}

/// One estimate of a domain and a column before its interval, as every path of [`SurveyDesign::linear`]
/// computes it.
struct Cell {
    domain: usize,
    column: usize,
    estimate: f64,
    variance: f64,
    deff: Option<f64>,
    n_unweighted: usize,
    n_weighted: f64,
}

/// The columns a variable is estimated on: a numeric column itself, or one indicator per level of a categorical
/// one (named variable then level, missing where the code is missing).
fn linear_columns<'a>(var: &Variable<'a>) -> Vec<(String, Cow<'a, [f64]>)> {
    match var {
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
    }
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
        self.linear_on(var, domains, opts, total, false)
    }

    /// [`SurveyDesign::mean`] (`total` false) or [`SurveyDesign::total`] on the row-level path (`by_rows`) or the
    /// fastest path the design has.
    #[cfg(test)]
    pub(crate) fn linear_for_test(
        &self,
        var: &Variable<'_>,
        domains: &DomainSpec<'_>,
        opts: &Options,
        total: bool,
        by_rows: bool,
    ) -> Result<Vec<Estimate>, SurveyError> {
        self.linear_on(var, domains, opts, total, by_rows)
    }

    fn linear_on(
        &self,
        var: &Variable<'_>,
        domains: &DomainSpec<'_>,
        opts: &Options,
        total: bool,
        by_rows: bool,
    ) -> Result<Vec<Estimate>, SurveyError> {
        self.check_inputs(&[var], opts)?;
        let (set, df) = self.domains(domains)?;
        let columns = linear_columns(var);
        let call = LinearCall {
            set: &set,
            columns: &columns,
            var,
            opts,
            total,
        };
        let fast = if by_rows {
            None
        } else {
            self.linear_fast(&call)?
        };
        let cells = match fast {
            Some(cells) => cells,
            None => self.linear_by_rows(&call)?,
        };
        let q = dist::qt(1.0 - (1.0 - opts.level) / 2.0, df as f64, true);
        Ok(cells
            .into_iter()
            .map(|c| {
                let se: f64 = f64::sqrt(c.variance);
                Estimate {
                    domain: set.labels[c.domain].to_vec(),
                    name: columns[c.column].0.to_string(),
                    estimate: c.estimate,
                    se,
                    ci_lower: c.estimate - q * se,
                    ci_upper: c.estimate + q * se,
                    ci_method: "wald-t",
                    df: df as f64,
                    deff: c.deff,
                    n_unweighted: c.n_unweighted,
                    n_weighted: c.n_weighted,
                }
            })
            .collect())
    }

    /// The fastest path the design has, in domain then column order: one pass per column for plain Taylor
    /// designs with a first-stage variance only (`linear_fast.rs`) and for replicate designs without a design
    /// effect, each domain's own rows for calibrated designs (`calibrated_fast.rs`); `None` when none applies.
    fn linear_fast(&self, call: &LinearCall<'_, '_>) -> Result<Option<Vec<Cell>>, SurveyError> {
        if let VarianceKind::Taylor(design) = &self.kind
            && design.only_stage1()
            && call.set.n_domains().saturating_mul(design.n_psu()) <= linear_fast::MAX_CELLS
        {
            return self.linear_one_pass(design, call).map(Some);
        }
        if let VarianceKind::Replicate(reps) = &self.kind
            && call.opts.deff == Deff::None
            && let Some(cells) = self.linear_replicate(reps, call)?
        {
            return Ok(Some(cells));
        }
        if let Some(cal) = self.calibrated_parts() {
            let rows = call.set.rows_by_domain();
            let missing = |i: usize| call.var.is_missing(i);
            let mut out = Vec::with_capacity(call.set.n_domains() * call.columns.len());
            let mut buf = Vec::new();
            if let [(_, col)] = call.columns {
                let kernels = cal.kernels(
                    &rows,
                    &call.set.domain_of_row,
                    col,
                    missing,
                    (call.total, call.opts.deff),
                    &mut buf,
                )?;
                out.extend(kernels.into_iter().enumerate().map(|(d, k)| Cell {
                    domain: d,
                    column: 0,
                    estimate: k.estimate,
                    variance: k.variance,
                    deff: k.deff,
                    n_unweighted: k.n_nonzero,
                    n_weighted: k.sum_w_nonzero,
                }));
                return Ok(Some(out));
            }
            for d in 0..call.set.n_domains() {
                for (c, (_, col)) in call.columns.iter().enumerate() {
                    let k = cal.kernel(
                        rows.of(d),
                        col,
                        missing,
                        call.total,
                        call.opts.deff,
                        &mut buf,
                    )?;
                    out.push(Cell {
                        domain: d,
                        column: c,
                        estimate: k.estimate,
                        variance: k.variance,
                        deff: k.deff,
                        n_unweighted: k.n_nonzero,
                        n_weighted: k.sum_w_nonzero,
                    });
                }
            }
            return Ok(Some(out));
        }
        Ok(None)
    }

    /// Plain Taylor designs with a first-stage variance only: one pass per column for all domains.
    fn linear_one_pass(
        &self,
        design: &Design,
        call: &LinearCall<'_, '_>,
    ) -> Result<Vec<Cell>, SurveyError> {
        let missing = |i: usize| call.var.is_missing(i);
        let per_column = call
            .columns
            .iter()
            .map(|(_, col)| {
                linear_fast::linear_by_psu(
                    design,
                    &self.weights,
                    call.set,
                    col,
                    &missing,
                    call.total,
                    call.opts.deff != Deff::None,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(call.set.n_domains() * call.columns.len());
        for d in 0..call.set.n_domains() {
            for (c, res) in per_column.iter().enumerate() {
                let r = &res[d];
                let deff = r.ss.map(|ss| {
                    deff_value(
                        r.variance,
                        ss,
                        r.sum_w,
                        r.n_nonzero,
                        call.total,
                        call.opts.deff,
                    )
                });
                out.push(Cell {
                    domain: d,
                    column: c,
                    estimate: r.estimate,
                    variance: r.variance,
                    deff,
                    n_unweighted: r.n_nonzero,
                    n_weighted: r.sum_w,
                });
            }
        }
        Ok(out)
    }

    /// Replicate designs: every domain's replicate estimates in one pass per column; `None` when a column's
    /// domains x PSUs table would be too large.
    fn linear_replicate(
        &self,
        reps: &ReplicateSet,
        call: &LinearCall<'_, '_>,
    ) -> Result<Option<Vec<Cell>>, SurveyError> {
        let missing = |i: usize| call.var.is_missing(i);
        let mut per_column = Vec::with_capacity(call.columns.len());
        for (_, col) in call.columns {
            match replicate_stats::domain_linear(
                reps,
                &self.weights,
                &call.set.domain_of_row,
                call.set.n_domains(),
                col,
                &missing,
                call.total,
            ) {
                Some(r) => per_column.push(r),
                None => return Ok(None),
            }
        }
        let mut out = Vec::with_capacity(call.set.n_domains() * call.columns.len());
        for d in 0..call.set.n_domains() {
            for (c, res) in per_column.iter().enumerate() {
                let r = &res[d];
                let v = replicate_stats::variance(reps, &r.thetas, r.estimate)?;
                out.push(Cell {
                    domain: d,
                    column: c,
                    estimate: r.estimate,
                    variance: v,
                    deff: None,
                    n_unweighted: r.n_nonzero,
                    n_weighted: r.sum_w,
                });
            }
        }
        Ok(Some(out))
    }

    /// The row-level path, for every design: a mask per domain over every row.
    fn linear_by_rows(&self, call: &LinearCall<'_, '_>) -> Result<Vec<Cell>, SurveyError> {
        let mut out = Vec::new();
        let mut mask = Vec::new();
        let mut buf = Vec::new();
        for d in 0..call.set.n_domains() {
            call.set
                .fill_mask(d, &mut mask, |i| !call.var.is_missing(i));
            let (nu, nw) = self.counts(&mask);
            for (c, (_, col)) in call.columns.iter().enumerate() {
                let k = if call.total {
                    Kernel::Total(col)
                } else {
                    Kernel::Mean(col)
                };
                let est = k.point(&self.weights, &mask);
                let v = self.kernel_variance(&k, &mask, est, &mut buf)?;
                let deff = self.deff(col, &mask, v, call.total, call.opts.deff);
                out.push(Cell {
                    domain: d,
                    column: c,
                    estimate: est,
                    variance: v,
                    deff,
                    n_unweighted: nu,
                    n_weighted: nw,
                });
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
        assert_eq!(
            d.mean(&v, &DomainSpec::default(), &opts),
            Err(SurveyError::Invalid(
                "confidence level 95 must lie strictly between 0 and 1 (e.g. 0.95)".into()
            ))
        );
        let labels = vec!["a".to_string()];
        let codes = [0u32, 1, 0];
        let f = Variable::Categorical {
            name: "f",
            factor: Factor {
                codes: &codes,
                labels: &labels,
            },
        };
        assert_eq!(
            d.mean(&f, &DomainSpec::default(), &Options::default()),
            Err(SurveyError::Invalid(
                "variable `f` row 2: code 1 has no label (1 levels)".into()
            ))
        );
        let short = [1.0, 2.0];
        let s = Variable::Numeric {
            name: "s",
            values: &short,
        };
        assert_eq!(
            d.total(&s, &DomainSpec::default(), &Options::default()),
            Err(SurveyError::Invalid(
                "variable `s` has 2 rows, design has 3".into()
            ))
        );
    }
}
