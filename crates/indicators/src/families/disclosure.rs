//! Statistics and disclosure control of the family indicators: the Wilson score interval of an unweighted
//! proportion, the small-count rule for case and interview tables (a count of 1 to `threshold - 1` is published as
//! `<5`, a true zero is published). Complementary suppression, which keeps a withheld cell from being recovered
//! from the published ones, is [`super::protect`].

/// Counts from 1 to `SMALL_COUNT_THRESHOLD - 1` are withheld (published as `<5`).
pub const SMALL_COUNT_THRESHOLD: u64 = 5;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson score interval of `x` successes in `n` trials (95%); `None` when `n == 0`. The bounds are exactly 0 at
/// `x = 0` and exactly 1 at `x = n` (the formula gives them up to rounding: 8.7e-19 instead of 0 would put an
/// estimate of 0 outside its interval), and always hold the estimate x / n.
pub fn wilson(x: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 || x > n {
        return None;
    }
    let (lower_is_zero, upper_is_one) = (x == 0, x == n);
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    let lower = if lower_is_zero {
        0.0
    } else {
        (centre - half).clamp(0.0, p)
    };
    let upper = if upper_is_one {
        1.0
    } else {
        (centre + half).clamp(p, 1.0)
    };
    Some((lower, upper))
}

/// Whether a count must be withheld: between 1 and `threshold - 1` (a true zero singles nobody out).
pub fn is_small(count: u64, threshold: u64) -> bool {
    count > 0 && count < threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // The interval of R's prop.test(x, n, correct = FALSE): 10/50 -> [0.1124375, 0.3303711].
        let (lo, hi) = wilson(10, 50).unwrap();
        assert!(
            (lo - 0.1124375).abs() < 1e-6 && (hi - 0.3303711).abs() < 1e-6,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 49).unwrap();
        assert!(lo == 0.0 && (hi - 0.0726978).abs() < 1e-6, "{hi}");
        let (lo, hi) = wilson(49, 49).unwrap();
        assert!(
            (lo - (1.0 - 0.0726978)).abs() < 1e-6 && hi == 1.0,
            "{lo} {hi}"
        );
        assert_eq!(wilson(1, 0), None);
        assert_eq!(wilson(3, 2), None);
    }

    #[test]
    fn wilson_bounds_are_exactly_0_and_1_at_the_edges_and_hold_the_estimate() {
        // Before: wilson(0, n) gave a lower bound of about 1e-18 > 0 = the estimate for some n.
        for n in 1..=500usize {
            let (lo, hi) = wilson(0, n).unwrap_or((f64::NAN, f64::NAN));
            assert!(lo == 0.0 && hi > 0.0 && hi < 1.0, "0/{n}: {lo} {hi}");
            let (lo, hi) = wilson(n, n).unwrap_or((f64::NAN, f64::NAN));
            assert!(hi == 1.0 && lo > 0.0 && lo < 1.0, "{n}/{n}: {lo} {hi}");
            for x in [1, n / 2, n - 1] {
                let p = x as f64 / n as f64;
                let (lo, hi) = wilson(x, n).unwrap_or((f64::NAN, f64::NAN));
                assert!(lo <= p && p <= hi && lo >= 0.0 && hi <= 1.0, "{x}/{n}");
            }
        }
    }

    #[test]
    fn counts_from_one_to_four_are_small_zero_and_five_are_not() {
        assert!(!is_small(0, 5));
        assert!(is_small(1, 5) && is_small(4, 5));
        assert!(!is_small(5, 5));
    }
}
