//! R's default random number generator, so that a seeded bootstrap here draws what R draws after `set.seed(seed)`
//! (R >= 3.6 defaults: `RNGkind("Mersenne-Twister", "Inversion", "Rejection")`): the seed scrambling of R's
//! `RNG_Init`, the MT19937 generator as R's `MT_genrand` runs it, `unif_rand`'s fixup, and `R_unif_index`
//! (rejection sampling on random bits) behind `sample()`.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;
const I2_32M1: f64 = 2.328_306_437_080_797e-10; // 1 / (2^32 - 1)

/// R's Mersenne-Twister state after `set.seed(seed)`.
pub(crate) struct RRng {
    mt: [u32; N],
    mti: usize,
}

impl RRng {
    /// `set.seed(seed)` with R's default kinds.
    pub(crate) fn new(seed: i32) -> Self {
        let mut s = seed as u32;
        for _ in 0..50 {
            s = s.wrapping_mul(69069).wrapping_add(1);
        }
        // i_seed[0] is R's `dummy[0]` (mti); FixupSeeds then sets it to 624.
        s = s.wrapping_mul(69069).wrapping_add(1);
        let mut mt = [0u32; N];
        for slot in &mut mt {
            s = s.wrapping_mul(69069).wrapping_add(1);
            *slot = s;
        }
        RRng { mt, mti: N }
    }

    fn genrand(&mut self) -> f64 {
        let mag01 = [0u32, MATRIX_A];
        if self.mti >= N {
            let mt = &mut self.mt;
            for kk in 0..N - M {
                let y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + M] ^ (y >> 1) ^ mag01[(y & 1) as usize];
            }
            for kk in N - M..N - 1 {
                let y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
                mt[kk] = mt[kk + M - N] ^ (y >> 1) ^ mag01[(y & 1) as usize];
            }
            let y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
            mt[N - 1] = mt[M - 1] ^ (y >> 1) ^ mag01[(y & 1) as usize];
            self.mti = 0;
        }
        let mut y = self.mt[self.mti];
        self.mti += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        f64::from(y) * 2.328_306_436_538_696_3e-10
    }

    /// R's `unif_rand()`: a uniform in (0, 1).
    pub(crate) fn unif_rand(&mut self) -> f64 {
        let x = self.genrand();
        if x <= 0.0 {
            0.5 * I2_32M1
        } else if 1.0 - x <= 0.0 {
            1.0 - 0.5 * I2_32M1
        } else {
            x
        }
    }

    fn rbits(&mut self, bits: u32) -> f64 {
        let mut v: i64 = 0;
        let mut n = 0;
        while n <= bits {
            let v1 = (self.unif_rand() * 65536.0).floor() as i64;
            v = 65536 * v + v1;
            n += 16;
        }
        (v & ((1i64 << bits) - 1)) as f64
    }

    /// R's `R_unif_index(dn)` with `sample.kind = "Rejection"`: a uniform integer in `0..dn`.
    pub(crate) fn unif_index(&mut self, dn: usize) -> usize {
        if dn == 0 {
            return 0;
        }
        let dn = dn as f64;
        let bits = dn.log2().ceil() as u32;
        loop {
            let dv = self.rbits(bits);
            if dn > dv {
                return dv as usize;
            }
        }
    }

    /// R's `sample.int(n, size)` without replacement, 0-based: the `.Internal(sample())` algorithm, or for
    /// n > 1e7 and size <= n/2 the `sample2` rejection algorithm (R's `useHash` default).
    pub(crate) fn sample_without_replacement(&mut self, n: usize, size: usize) -> Vec<usize> {
        if n > 10_000_000 && 2 * size <= n {
            let mut seen = std::collections::HashSet::with_capacity(size);
            let mut out = Vec::with_capacity(size);
            while out.len() < size {
                let v = self.unif_index(n);
                if seen.insert(v) {
                    out.push(v);
                }
            }
            return out;
        }
        let mut x: Vec<usize> = (0..n).collect();
        let mut remaining = n;
        let mut out = Vec::with_capacity(size);
        for _ in 0..size.min(n) {
            let j = self.unif_index(remaining);
            out.push(x[j]);
            remaining -= 1;
            x[j] = x[remaining];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniforms_and_samples_equal_r() {
        // R 4.2.2: set.seed(42); runif(3)
        let mut rng = RRng::new(42);
        let want = [0.914806043496355, 0.937075413297862, 0.286139534786344];
        for w in want {
            let u = rng.unif_rand();
            assert!((u - w).abs() < 1e-14, "{u} vs {w}");
        }
        // R 4.2.2: set.seed(1); sample(10)  ->  9 4 7 1 2 5 3 10 6 8
        let mut rng = RRng::new(1);
        let perm: Vec<usize> = rng
            .sample_without_replacement(10, 10)
            .iter()
            .map(|i| i + 1)
            .collect();
        assert_eq!(perm, vec![9, 4, 7, 1, 2, 5, 3, 10, 6, 8]);
        // R 4.2.2: set.seed(-5); sample(100, 5, replace=TRUE)  ->  15 9 76 44 44
        let mut rng = RRng::new(-5);
        let draws: Vec<usize> = (0..5).map(|_| rng.unif_index(100) + 1).collect();
        assert_eq!(draws, vec![15, 9, 76, 44, 44]);
        // R 4.2.2: set.seed(3); sample.int(2e7, 5) (the hash path)
        let mut rng = RRng::new(3);
        let big: Vec<usize> = rng
            .sample_without_replacement(20_000_000, 5)
            .iter()
            .map(|i| i + 1)
            .collect();
        assert_eq!(big, vec![17092282, 9130983, 2333370, 18055498, 11964072]);
    }
}
