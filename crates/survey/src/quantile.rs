//! Quantiles, R's `svyquantile` (survey >= 4.1): quantile rules `math`, `school` and `hf7`; intervals by
//! Woodruff's method (a CI for the CDF at the estimate with `mean`, `beta`, `xlogit` or `asin`, mapped back through
//! the rule), `score` (Francisco-Fuller, with R's `uniroot`) and, on replicate designs, `quantile` (replicate
//! quantiles, each by the same rule from its analysis weights). `se` = (upper - lower) / (2 qt(1 - alpha/2, df)).
//! One departure from R: the `asin` CDF interval is clamped to its range before mapping back (R folds it and can
//! return an interval that lies above or below its estimate).

use crate::ciprop::beta_interval;
use crate::dist;
use crate::domain::DomainSpec;
use crate::error::SurveyError;
use crate::estimator::{Estimate, Kernel, Options, SurveyDesign, Variable, VarianceKind};
use crate::glm::expit;
use crate::replicate_stats::{self, masked};

/// R's `qrule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuantileRule {
    /// Smallest x whose weighted CDF reaches p (R's default).
    #[default]
    Math,
    /// As `math`, but the midpoint when the CDF hits p exactly.
    School,
    /// Hyndman-Fan type 7, interpolated.
    Hf7,
}

/// R's `interval.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuantileInterval {
    #[default]
    Mean,
    Beta,
    Xlogit,
    Asin,
    Score,
    /// Replicate designs only: variance of the replicate quantiles.
    Quantile,
}

impl std::str::FromStr for QuantileRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "math" => Ok(Self::Math),
            "school" => Ok(Self::School),
            "hf7" => Ok(Self::Hf7),
            other => Err(format!(
                "unknown quantile rule `{other}`: expected math, school or hf7"
            )),
        }
    }
}

impl std::str::FromStr for QuantileInterval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mean" => Ok(Self::Mean),
            "beta" => Ok(Self::Beta),
            "xlogit" => Ok(Self::Xlogit),
            "asin" => Ok(Self::Asin),
            "score" => Ok(Self::Score),
            "quantile" => Ok(Self::Quantile),
            other => Err(format!(
                "unknown interval type `{other}`: expected mean, beta, xlogit, asin, score or quantile"
            )),
        }
    }
}

impl QuantileInterval {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Mean => "woodruff-mean",
            Self::Beta => "woodruff-beta",
            Self::Xlogit => "woodruff-xlogit",
            Self::Asin => "woodruff-asin",
            Self::Score => "score",
            Self::Quantile => "replicate-quantile",
        }
    }
}

/// Sorted (x, w) pairs with zero weights dropped, and the cumulative weights summed with compensation (R sums
/// in long double).
struct Sorted {
    x: Vec<f64>,
    cumw: Vec<f64>,
}

impl Sorted {
    fn new(x: &[f64], w: &[f64]) -> Self {
        let mut idx: Vec<usize> = (0..x.len()).filter(|&i| w[i] != 0.0).collect();
        idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
        let mut cumw = Vec::with_capacity(idx.len());
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for &i in &idx {
            let t = s + w[i];
            c += if s.abs() >= w[i].abs() {
                (s - t) + w[i]
            } else {
                (w[i] - t) + s
            };
            s = t;
            cumw.push(s + c);
        }
        Sorted {
            x: idx.iter().map(|&i| x[i]).collect(),
            cumw,
        }
    }

    fn quantile(&self, p: f64, rule: QuantileRule) -> f64 {
        let n = self.x.len();
        if n == 0 || p.is_nan() {
            return f64::NAN;
        }
        let total = self.cumw[n - 1];
        match rule {
            QuantileRule::Math | QuantileRule::School => {
                let target = p * total;
                let pos = self.cumw.partition_point(|&c| c <= target);
                let pos = pos.saturating_sub(1);
                let next = if pos + 1 == n { pos } else { pos + 1 };
                let wlow = p - self.cumw[pos] / total;
                if wlow == 0.0 {
                    match rule {
                        QuantileRule::Math => self.x[pos],
                        _ => (self.x[pos] + self.x[next]) / 2.0,
                    }
                } else {
                    self.x[next]
                }
            }
            QuantileRule::Hf7 => {
                if n == 1 {
                    return self.x[0];
                }
                let denom = self.cumw[n - 2];
                let pk: Vec<f64> = std::iter::once(0.0)
                    .chain(self.cumw[..n - 1].iter().map(|c| c / denom))
                    .collect();
                if p <= pk[0] {
                    return self.x[0];
                }
                if p >= pk[n - 1] {
                    return self.x[n - 1];
                }
                let j = pk.partition_point(|&a| a <= p);
                let i = j - 1;
                if pk[i] == p {
                    return self.x[i];
                }
                self.x[i] + (self.x[j] - self.x[i]) * (p - pk[i]) / (pk[j] - pk[i])
            }
        }
    }
}

/// R's `uniroot` / `R_zeroin2` (Brent), from given end values.
fn zeroin(
    f: &mut dyn FnMut(f64) -> f64,
    ax: f64,
    bx: f64,
    fa0: f64,
    fb0: f64,
    tol: f64,
    maxit: usize,
) -> f64 {
    let (mut a, mut b, mut fa, mut fb) = (ax, bx, fa0, fb0);
    let (mut c, mut fc) = (a, fa);
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    for _ in 0..=maxit {
        let prev_step = b - a;
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol_act = 2.0 * f64::EPSILON * b.abs() + tol / 2.0;
        let mut new_step = (c - b) / 2.0;
        if new_step.abs() <= tol_act || fb == 0.0 {
            return b;
        }
        if prev_step.abs() >= tol_act && fa.abs() > fb.abs() {
            let cb = c - b;
            let (mut p, mut q);
            if a == c {
                let t1 = fb / fa;
                p = cb * t1;
                q = 1.0 - t1;
            } else {
                q = fa / fc;
                let t1 = fb / fc;
                let t2 = fb / fa;
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0));
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if p < 0.75 * cb * q - (tol_act * q).abs() / 2.0 && p < (prev_step * q / 2.0).abs() {
                new_step = p / q;
            }
        }
        if new_step.abs() < tol_act {
            new_step = if new_step > 0.0 { tol_act } else { -tol_act };
        }
        a = b;
        fa = fb;
        b += new_step;
        fb = f(b);
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
        }
    }
    b
}

/// R's `quantile(x, type = 7)` of unweighted values (for `IQR`).
fn type7(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// One domain of [`SurveyDesign::quantile`]: its rows with a value (`mask`), all its rows (`dom_mask`), the
/// sorted values with their weights, and what every probability's interval needs.
struct QuantileDomain<'a> {
    x: &'a [f64],
    mask: &'a [bool],
    dom_mask: &'a [bool],
    sorted: Sorted,
    rule: QuantileRule,
    df: f64,
    alpha: f64,
    /// The t quantile of the interval (`qt(1 - alpha/2, df)`).
    qcrit: f64,
}

impl SurveyDesign {
    /// svyquantile: one estimate per domain and probability.
    #[allow(clippy::too_many_arguments)]
    pub fn quantile(
        &self,
        var: &Variable<'_>,
        probs: &[f64],
        rule: QuantileRule,
        interval: QuantileInterval,
        domains: &DomainSpec<'_>,
        opts: &Options,
    ) -> Result<Vec<Estimate>, SurveyError> {
        self.check_inputs(&[var], opts)?;
        let Variable::Numeric { name, values: x } = var else {
            return Err(SurveyError::Invalid(
                "svyquantile needs a numeric variable".into(),
            ));
        };
        if let Some(p) = probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(SurveyError::Invalid(format!(
                "quantile probability {p} is outside [0, 1]"
            )));
        }
        let is_rep = matches!(self.kind, VarianceKind::Replicate(_));
        if interval == QuantileInterval::Quantile && !is_rep {
            return Err(SurveyError::Invalid(
                "interval type `quantile` needs a replicate-weight design".into(),
            ));
        }
        if interval == QuantileInterval::Score && is_rep {
            return Err(SurveyError::Invalid(
                "interval type `score` is for Taylor designs (R)".into(),
            ));
        }
        let (set, subset_df) = self.domains(domains)?;
        let alpha = 1.0 - opts.level;
        let mut out = Vec::new();
        let (mut dom_mask, mut mask, mut buf) = (Vec::new(), Vec::new(), Vec::new());
        for d in 0..set.n_domains() {
            set.fill_mask(d, &mut dom_mask, |_| true);
            set.fill_mask(d, &mut mask, |i| !x[i].is_nan());
            let df = if domains.by.is_empty() {
                subset_df
            } else {
                self.degf_of(&dom_mask)?
            } as f64;
            let w: Vec<f64> = self
                .weights
                .iter()
                .zip(&mask)
                .map(|(&w, &m)| if m { w } else { 0.0 })
                .collect();
            let dom = QuantileDomain {
                x,
                mask: &mask,
                dom_mask: &dom_mask,
                sorted: Sorted::new(x, &w),
                rule,
                df,
                alpha,
                qcrit: dist::qt(1.0 - alpha / 2.0, df, true),
            };
            for &p in probs {
                let qhat = dom.sorted.quantile(p, rule);
                let (lo, hi) = match interval {
                    QuantileInterval::Quantile => {
                        self.replicate_quantile_interval(&dom, p, qhat)?
                    }
                    QuantileInterval::Score => {
                        self.score_interval(x, &mask, &dom.sorted, p, rule, df, alpha, &mut buf)?
                    }
                    _ => self.cdf_interval(&dom, qhat, interval, &mut buf)?,
                };
                let (nu, nw) = self.counts(&mask);
                out.push(Estimate {
                    domain: set.labels[d].clone(),
                    name: format!("{name}@{p}"),
                    estimate: qhat,
                    se: (hi - lo) / (2.0 * dom.qcrit),
                    ci_lower: lo,
                    ci_upper: hi,
                    ci_method: interval.as_str(),
                    df,
                    deff: None,
                    n_unweighted: nu,
                    n_weighted: nw,
                });
            }
        }
        Ok(out)
    }

    /// Interval type `quantile` (replicate designs): the quantile in every replicate, their replicate variance,
    /// and a t interval around the estimate.
    fn replicate_quantile_interval(
        &self,
        dom: &QuantileDomain<'_>,
        p: f64,
        qhat: f64,
    ) -> Result<(f64, f64), SurveyError> {
        let VarianceKind::Replicate(set) = &self.kind else {
            return Err(SurveyError::Invalid(
                "interval type `quantile` needs a replicate-weight design".into(),
            ));
        };
        let mut thetas = Vec::with_capacity(set.n_replicates());
        for r in 0..set.n_replicates() {
            let wr = set
                .replicate_weights(r)
                .ok_or_else(|| SurveyError::Invalid(format!("replicate {} is missing", r + 1)))?;
            thetas.push(Sorted::new(dom.x, &masked(&wr, dom.mask)).quantile(p, dom.rule));
        }
        let v = replicate_stats::variance(set, &thetas, qhat)?;
        Ok((qhat - v.sqrt() * dom.qcrit, qhat + v.sqrt() * dom.qcrit))
    }

    /// Woodruff's intervals (`mean`, `xlogit`, `asin`, `beta`): an interval for the CDF at the estimate, mapped
    /// back through the quantile rule (NaN where a bound leaves [0, 1]).
    fn cdf_interval(
        &self,
        dom: &QuantileDomain<'_>,
        qhat: f64,
        interval: QuantileInterval,
        buf: &mut Vec<f64>,
    ) -> Result<(f64, f64), SurveyError> {
        let qcrit = dom.qcrit;
        let ind: Vec<f64> = dom
            .x
            .iter()
            .map(|&v| if v <= qhat { 1.0 } else { 0.0 })
            .collect();
        let k = Kernel::Mean(&ind);
        let m = k.point(&self.weights, dom.mask);
        let v = self.kernel_variance(&k, dom.mask, m, buf)?;
        let se = v.sqrt();
        let (pl, pu) = match interval {
            QuantileInterval::Mean => (m - qcrit * se, m + qcrit * se),
            QuantileInterval::Xlogit => {
                let eta = (m / (1.0 - m)).ln();
                let s = se / (m * (1.0 - m));
                (expit(eta - qcrit * s), expit(eta + qcrit * s))
            }
            QuantileInterval::Asin => {
                // clamped to the range of asin(sqrt(p)) before squaring the sine: R's
                // sin(x)^2 folds a bound past 0 or pi/2 back inside, and the lower CDF
                // bound can then exceed the estimate's CDF (an interval above its estimate)
                let t = m.sqrt().asin();
                let s = se / (2.0 * (m * (1.0 - m)).sqrt());
                let half_pi = std::f64::consts::FRAC_PI_2;
                (
                    (t - qcrit * s).clamp(0.0, half_pi).sin().powi(2),
                    (t + qcrit * s).clamp(0.0, half_pi).sin().powi(2),
                )
            }
            _ => beta_interval(m, v, self.nrow_of(dom.dom_mask), dom.df, dom.alpha),
        };
        let lo = if pl.is_nan() || pl < 0.0 {
            f64::NAN
        } else {
            dom.sorted.quantile(pl, dom.rule)
        };
        let hi = if pu.is_nan() || pu > 1.0 {
            f64::NAN
        } else {
            dom.sorted.quantile(pu, dom.rule)
        };
        Ok((lo, hi))
    }

    /// R's `ffullerCI`: invert the score test for the CDF with `uniroot`, then map the unweighted proportions
    /// below the roots through the quantile rule.
    #[allow(clippy::too_many_arguments)]
    fn score_interval(
        &self,
        x: &[f64],
        mask: &[bool],
        sorted: &Sorted,
        p: f64,
        rule: QuantileRule,
        df: f64,
        alpha: f64,
        buf: &mut Vec<f64>,
    ) -> Result<(f64, f64), SurveyError> {
        // the x vector R holds: every row of a Taylor design (missing values set to 0), the domain rows otherwise
        let xr: Vec<f64> = if self.subset_drops_rows() {
            (0..x.len()).filter(|&i| mask[i]).map(|i| x[i]).collect()
        } else {
            x.iter()
                .map(|&v| if v.is_nan() { 0.0 } else { v })
                .collect()
        };
        let mut xs = xr.clone();
        xs.sort_by(f64::total_cmp);
        if xs.is_empty() {
            return Ok((f64::NAN, f64::NAN));
        }
        let iqr = type7(&xs, 0.75) - type7(&xs, 0.25);
        let lower = xs[0] + iqr / 100.0;
        let upper = xs[xs.len() - 1] - iqr / 100.0;
        let tol = 1.0 / (100.0 * (self.nrow_of(mask) as f64).sqrt());
        let mut ind = vec![0.0; x.len()];
        let mut score = |theta: f64, qlimit: f64| -> f64 {
            for (u, &v) in ind.iter_mut().zip(x) {
                *u = if v > theta { 1.0 } else { 0.0 } - (1.0 - p);
            }
            let k = Kernel::Mean(&ind);
            let m = k.point(&self.weights, mask);
            let v = self.kernel_variance(&k, mask, m, buf).unwrap_or(f64::NAN);
            m / v.sqrt() - qlimit
        };
        let mut root = |qlimit: f64| -> Result<f64, SurveyError> {
            let fl = score(lower, qlimit);
            let fu = score(upper, qlimit);
            if fl * fu > 0.0 || fl.is_nan() || fu.is_nan() {
                return Err(SurveyError::Invalid(
                    "score interval: f() values at end points not of opposite sign".into(),
                ));
            }
            Ok(zeroin(
                &mut |t| score(t, qlimit),
                lower,
                upper,
                fl,
                fu,
                tol,
                1000,
            ))
        };
        let qlow = root(dist::qt(alpha / 2.0, df, false))?;
        let qup = root(dist::qt(alpha / 2.0, df, true))?;
        let frac = |q: f64| xr.iter().filter(|&&v| v <= q).count() as f64 / xr.len() as f64;
        Ok((
            sorted.quantile(frac(qlow), rule),
            sorted.quantile(frac(qup), rule),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Woodruff intervals of many small generated Taylor designs hold their estimate wherever both bounds exist
    /// (R's asin interval folded a CDF bound below 0 back above the estimate's CDF).
    #[test]
    fn woodruff_intervals_hold_their_estimate() {
        use crate::design::{DesignSpec, Factor, WeightSpec};
        use crate::lonely::LonelyPsu;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut unif = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let labels: Vec<String> = (0..3).map(|h| h.to_string()).collect();
        let mut broken = Vec::new();
        for _ in 0..200 {
            let n = 12;
            let strata: Vec<u32> = (0..n as u32).map(|i| i / 6).collect();
            let psu: Vec<u32> = (0..n as u32).map(|i| i / 3).collect();
            let w: Vec<f64> = (0..n).map(|_| 1.0 + 20.0 * unif() * unif()).collect();
            let x: Vec<f64> = (0..n).map(|_| (unif() * 6.0).floor()).collect();
            let spec = DesignSpec {
                ids: vec![&psu],
                strata: Some(Factor {
                    codes: &strata,
                    labels: &labels,
                }),
                fpc: vec![],
                weights: WeightSpec::Weights(&w),
                nest: true,
                lonely_psu: LonelyPsu::Fail,
            };
            let d = SurveyDesign::taylor(&spec).unwrap();
            let v = Variable::Numeric {
                name: "x",
                values: &x,
            };
            for interval in [
                QuantileInterval::Mean,
                QuantileInterval::Beta,
                QuantileInterval::Xlogit,
                QuantileInterval::Asin,
            ] {
                let est = d
                    .quantile(
                        &v,
                        &[0.1, 0.25, 0.5, 0.9],
                        QuantileRule::Math,
                        interval,
                        &DomainSpec::default(),
                        &Options::default(),
                    )
                    .unwrap();
                for e in est {
                    if e.ci_lower > e.estimate || e.ci_upper < e.estimate {
                        broken.push(format!("{interval:?} {e:?}"));
                    }
                }
            }
        }
        assert!(broken.is_empty(), "{}", broken.join("\n"));
    }

    /// 3 strata x 2 PSUs x 3 rows, JKn: the median is 0.2 in every replicate, so R's svyquantile
    /// (interval.type = "quantile") reports SE 0 and the interval [0.2, 0.2]; an f64 mean of the replicates
    /// gave SE 5.2e-17 and [0.19999999999999984, 0.20000000000000018].
    #[test]
    fn replicate_quantile_that_no_replicate_moves_has_se_zero() {
        use crate::lonely::LonelyPsu;
        use crate::replicate::{DesignColumns, RepType, ReplicateOptions, build_replicates};
        let st: Vec<usize> = (0..18).map(|i| i / 6).collect();
        let psu: Vec<usize> = (0..18).map(|i| i / 3).collect();
        let w = [
            1.0, 2.0, 3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 4.0, 3.0, 3.0, 1.0, 2.0, 5.0, 1.0, 1.0, 2.0,
            2.0,
        ];
        let x = [
            0.1, 0.2, 0.2, 0.2, 0.2, 0.3, 0.2, 0.1, 0.2, 0.2, 0.2, 0.2, 0.3, 0.2, 0.1, 0.2, 0.2,
            0.3,
        ];
        let cols = DesignColumns {
            weights: &w,
            strata: Some(&st),
            stratum_labels: None,
            psu: &psu,
            fpc: None,
        };
        let options = ReplicateOptions {
            rep_type: RepType::Jkn,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        let set = build_replicates(&cols, &options).unwrap();
        let d = SurveyDesign::with_replicates(w.to_vec(), set).unwrap();
        let v = Variable::Numeric {
            name: "x",
            values: &x,
        };
        let e = d
            .quantile(
                &v,
                &[0.5],
                QuantileRule::Math,
                QuantileInterval::Quantile,
                &DomainSpec::default(),
                &Options::default(),
            )
            .unwrap();
        assert_eq!(e[0].estimate, 0.2);
        assert_eq!((e[0].se, e[0].ci_lower, e[0].ci_upper), (0.0, 0.2, 0.2));
    }

    #[test]
    fn math_and_school_rules() {
        let x = [3.0, 1.0, 2.0, 4.0];
        let w = [1.0, 1.0, 1.0, 1.0];
        let s = Sorted::new(&x, &w);
        assert_eq!(s.quantile(0.5, QuantileRule::Math), 2.0);
        assert_eq!(s.quantile(0.5, QuantileRule::School), 2.5);
        assert_eq!(s.quantile(0.6, QuantileRule::Math), 3.0);
        // hf7 with equal weights is R's quantile(type = 7)
        assert!((s.quantile(0.5, QuantileRule::Hf7) - 2.5).abs() < 1e-15);
    }
}
