//! The binomial deviance of an intercept-only quasibinomial GLM, `glm(y ~ 1, family = quasibinomial, weights =
//! w)`, which `svyciprop(method = "likelihood")` profiles, and R's `binomial()$linkinv`. The fit itself needs no
//! iteration: the maximum-likelihood intercept is logit of the weighted mean exactly (see `ciprop.rs`).

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

    /// Binomial deviance at a constant logit `eta`, with log(mu) = -log(1 + exp(-eta)) and log(1 - mu) =
    /// -log(1 + exp(eta)) computed without forming mu, so it keeps growing for |eta| > 30 where R's clamped
    /// `linkinv` makes it flat (a profile that needs to go further would never reach its level).
    pub fn deviance_at_logit(&self, eta: f64) -> f64 {
        let ln_mu = -softplus(-eta);
        let ln_1mu = -softplus(eta);
        let mut d = self.c;
        if self.swy != 0.0 {
            d -= self.swy * ln_mu;
        }
        if self.sw != self.swy {
            d -= (self.sw - self.swy) * ln_1mu;
        }
        2.0 * d
    }
}

/// log(1 + exp(x)) without overflow or cancellation.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviance_is_smallest_at_the_weighted_mean_and_grows_past_r_clamp() {
        let y = [1.0, 0.0, 1.0, 1.0, 0.0, 0.4];
        let w = [1.0, 2.0, 0.5, 1.5, 1.0, 1.0];
        let sums = BinomialSums::new(&y, &w, &[true; 6]);
        let deviance =
            |mu: f64| 2.0 * (sums.c - sums.swy * mu.ln() - (sums.sw - sums.swy) * (1.0 - mu).ln());
        let p = sums.swy / sums.sw;
        let logit = (p / (1.0 - p)).ln();
        let at_p = sums.deviance_at_logit(logit);
        for d in [-1e-3, -1e-6, 1e-6, 1e-3] {
            assert!(sums.deviance_at_logit(logit + d) > at_p);
        }
        for eta in [-2.0f64, -0.5, 0.1, 1.5, logit] {
            let mu = 1.0 / (1.0 + (-eta).exp());
            assert!((sums.deviance_at_logit(eta) - deviance(mu)).abs() < 1e-12);
        }
        // beyond R's clamp at |eta| = 30 the deviance keeps growing
        assert!(sums.deviance_at_logit(-60.0) > sums.deviance_at_logit(-40.0));
        assert!(sums.deviance_at_logit(-40.0) > deviance(expit(-40.0)));
    }
}
