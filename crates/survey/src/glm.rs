//! Intercept-only quasibinomial GLM fitted by IRLS exactly as R's `glm.fit` iterates (logit link, starting values
//! `(w y + 0.5)/(w + 1)` or a given start, stop when |dev - devold|/(|dev| + 0.1) < 1e-8, at most 25 iterations).
//! `svyciprop(method = "logit" / "likelihood")` is built on it.

const EPSILON: f64 = 1e-8;
const MAXIT: usize = 25;
const THRESH: f64 = 30.0;

/// R's `binomial()$linkinv` (with its thresholds).
pub(crate) fn expit(eta: f64) -> f64 {
    let e = if eta < -THRESH {
        f64::EPSILON
    } else if eta > THRESH {
        1.0 / f64::EPSILON
    } else {
        eta.exp()
    };
    e / (1.0 + e)
}

/// R's `binomial()$mu.eta`.
fn mu_eta(eta: f64) -> f64 {
    let opexp = 1.0 + eta.exp();
    if eta.abs() > THRESH {
        f64::EPSILON
    } else {
        eta.exp() / (opexp * opexp)
    }
}

/// x log x with 0 log 0 = 0 (exact 0 for x = 1 without a log).
pub(crate) fn xlogx(x: f64) -> f64 {
    if x > 0.0 && x != 1.0 { x * x.ln() } else { 0.0 }
}

/// Weighted sums that determine the deviance of a constant fit: sum w, sum w y, and the constant part.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BinomialSums {
    pub sw: f64,
    pub swy: f64,
    /// sum w (y log y + (1-y) log(1-y))
    pub c: f64,
}

impl BinomialSums {
    pub fn new(y: &[f64], w: &[f64], mask: &[bool]) -> Self {
        let (mut sw, mut swy, mut c) = (0.0, 0.0, 0.0);
        for i in 0..y.len() {
            if mask[i] && w[i] > 0.0 {
                sw += w[i];
                swy += w[i] * y[i];
                c += w[i] * (xlogx(y[i]) + xlogx(1.0 - y[i]));
            }
        }
        BinomialSums { sw, swy, c }
    }

    /// Binomial deviance at a constant mean `mu`.
    pub fn deviance(&self, mu: f64) -> f64 {
        2.0 * (self.c - self.swy * mu.ln() - (self.sw - self.swy) * (1.0 - mu).ln())
    }
}

/// Result of an intercept-only fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fit {
    pub coef: f64,
    pub deviance: f64,
}

/// Continue IRLS from a constant eta (all rows share it after the first iteration).
fn iterate(sums: &BinomialSums, mut eta: f64, mut devold: f64, iterations_done: usize) -> Fit {
    let mut dev = devold;
    for _ in iterations_done..MAXIT {
        let mu = expit(eta);
        let me = mu_eta(eta);
        let var = mu * (1.0 - mu);
        // z = eta + (y - mu)/mu.eta, w2 = prior * mu.eta^2 / var; coef = sum(w2 z)/sum(w2)
        let w2 = me * me / var;
        let coef = (w2 * (eta * sums.sw + (sums.swy - mu * sums.sw) / me)) / (w2 * sums.sw);
        eta = coef;
        dev = sums.deviance(expit(eta));
        if (dev - devold).abs() / (dev.abs() + 0.1) < EPSILON {
            break;
        }
        devold = dev;
    }
    Fit {
        coef: eta,
        deviance: dev,
    }
}

/// Sums of glm.fit's first IRLS iteration, which starts every row at its own mustart = (w y + 0.5)/(w + 1).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FirstIteration {
    devold: f64,
    swz: f64,
    sw2: f64,
}

impl FirstIteration {
    /// Add one row with prior weight `w` > 0 and response `y`.
    pub fn add(&mut self, w: f64, y: f64) {
        // mu = linkinv(linkfun(mustart)) and mu.eta(eta) = mu (1 - mu) up to rounding: two logs per row
        let mu = (w * y + 0.5) / (w + 1.0);
        let (ln_mu, ln_1mu) = (mu.ln(), (-mu).ln_1p());
        let eta = ln_mu - ln_1mu;
        self.devold += 2.0 * w * (xlogx(y) + xlogx(1.0 - y) - y * ln_mu - (1.0 - y) * ln_1mu);
        let me = mu * (1.0 - mu);
        let z = eta + (y - mu) / me;
        let w2 = w * me;
        self.swz += w2 * z;
        self.sw2 += w2;
    }

    /// Complete the fit: the first iteration's coefficient, then IRLS on the constant eta until glm.fit's
    /// convergence rule holds.
    pub fn finish(&self, sums: &BinomialSums) -> Fit {
        let eta = self.swz / self.sw2;
        let dev = sums.deviance(expit(eta));
        if (dev - self.devold).abs() / (dev.abs() + 0.1) < EPSILON {
            return Fit {
                coef: eta,
                deviance: dev,
            };
        }
        iterate(sums, eta, dev, 1)
    }
}

/// `glm(y ~ 1, family = quasibinomial, weights = w)` over the rows of `mask` with positive weight.
pub(crate) fn fit_default_start(y: &[f64], w: &[f64], mask: &[bool]) -> Fit {
    let sums = BinomialSums::new(y, w, mask);
    let mut first = FirstIteration::default();
    for i in 0..y.len() {
        if mask[i] && w[i] > 0.0 {
            first.add(w[i], y[i]);
        }
    }
    first.finish(&sums)
}

/// `glm.fit(..., start = start)` on data summarised by `sums`: every row starts at eta = start.
pub(crate) fn fit_from_sums(sums: &BinomialSums, start: f64) -> Fit {
    let devold = sums.deviance(expit(start));
    iterate(sums, start, devold, 0)
}

/// The part of a row's binomial deviance that does not depend on mu: y log y + (1-y) log(1-y).
pub(crate) fn constant_term(y: f64) -> f64 {
    xlogx(y) + xlogx(1.0 - y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_to_logit_of_weighted_mean() {
        let y = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        let w = [1.0, 2.0, 0.5, 1.5, 1.0, 1.0];
        let m = [true; 6];
        let fit = fit_default_start(&y, &w, &m);
        let p = (1.0 + 0.5 + 1.5 + 1.0) / 7.0;
        assert!((expit(fit.coef) - p).abs() < 1e-8);
        let fit2 = fit_from_sums(&BinomialSums::new(&y, &w, &m), 0.3);
        assert!((expit(fit2.coef) - p).abs() < 1e-8);
    }
}
