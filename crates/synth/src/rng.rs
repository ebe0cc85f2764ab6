//! Deterministic randomness. Two kinds:
//!
//! * sequential streams (`ChaCha8Rng`) for the population frame and the sample draw, each seeded from
//!   `(seed, ISO3, purpose)` so a country's bytes never depend on which thread built it or on other countries;
//! * counter-based draws ([`unit`], [`normal`]) for answers and identifiers: a pure function of
//!   `(country key, child, slot)`, so any child's answers can be regenerated on demand, in any order, and equal
//!   the values counted in `truth.json`.
//!
//! The mixing function is SplitMix64's finaliser; it is portable and fixed, so outputs do not change with the
//! `rand` crate's version.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 finaliser: a bijective 64-bit mixer.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stable 64-bit hash of a string (FNV-1a followed by [`mix64`]).
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix64(h)
}

/// Combines key parts into one key; order matters.
pub fn key(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5DEE_CE66_D1CE_4E5Bu64, |h, p| {
        mix64(h ^ p.wrapping_mul(GOLDEN))
    })
}

/// Uniform draw in the open interval (0, 1) from a key.
pub fn unit(k: u64) -> f64 {
    ((mix64(k) >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// Uniform draw in (0, 1) for `(a, b, c)`.
pub fn unit3(a: u64, b: u64, c: u64) -> f64 {
    unit(key(&[a, b, c]))
}

/// Standard normal draw for `(a, b, c)` (Box-Muller on two counter-based uniforms).
pub fn normal3(a: u64, b: u64, c: u64) -> f64 {
    let k = key(&[a, b, c]);
    let u1 = unit(k);
    let u2 = unit(k ^ 0xA5A5_A5A5_A5A5_A5A5);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Log-odds of a probability in (0, 1).
pub fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Key of a country for a run seed: `(seed, ISO3)`.
pub fn country_key(seed: u64, iso3: &str) -> u64 {
    key(&[seed, hash_str(iso3)])
}

/// A sequential random stream for `(key, purpose)`.
pub fn stream(k: u64, purpose: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(key(&[k, hash_str(purpose)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_inside_the_open_interval_and_roughly_uniform() {
        let n = 100_000u64;
        let mut sum = 0.0;
        for i in 0..n {
            let u = unit3(1, i, 7);
            assert!(u > 0.0 && u < 1.0);
            sum += u;
        }
        let mean = sum / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
    }

    #[test]
    fn normal_has_unit_variance() {
        let n = 100_000u64;
        let (mut s, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let z = normal3(3, i, 1);
            s += z;
            s2 += z * z;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.02,
            "mean {mean} var {var}"
        );
    }

    #[test]
    fn country_keys_differ_and_are_stable() {
        assert_ne!(country_key(1, "THA"), country_key(1, "KEN"));
        assert_ne!(country_key(1, "THA"), country_key(2, "THA"));
        assert_eq!(country_key(1, "THA"), country_key(1, "THA"));
        assert_eq!(hash_str(""), mix64(0xcbf2_9ce4_8422_2325));
    }
}
