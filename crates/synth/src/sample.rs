//! Two-stage cluster sample from a [`SynthPopulation`], with base weights from the selection probabilities.
//!
//! Stage 1: in each stratum `h`, `a_h` of its `K_h` EAs by simple random sampling without replacement, with the
//! `ceil(n / children_per_ea)` sampled EAs allocated to strata in proportion to their child counts (at least 2
//! per stratum so every stratum has a variance estimate, at most `K_h`). Stage 2: in each sampled EA `i`, `m_i`
//! of its `M_i` children by simple random sampling; `m_i` is `n / A` or one more, so the sample holds exactly
//! `n = round(sample_children x scale)` children (fewer only if strata are too small). Base weight:
//! `(K_h / a_h) x (M_i / m_i)`, the inverse of the selection probability given `m_i`.
//! Each sampled child brings one caregiver (one row in every table linked to the child table).

use rand::seq::index;

use crate::cell::Cell;
use crate::error::SynthError;
use crate::items::TablePlan;
use crate::population::SynthPopulation;
use crate::rng;

/// A sampled child and the design and identity values of its household.
#[derive(Debug, Clone, PartialEq)]
pub struct Respondent {
    /// Index of the child in the population frame.
    pub child: usize,
    pub ea: usize,
    pub respondent_id: String,
    pub household_id: String,
    pub caregiver_id: String,
    pub stratum: String,
    pub psu: String,
    pub region: String,
    pub base_weight: f64,
    pub lat: f64,
    pub lon: f64,
}

/// One drawn sample: respondents and, per generated table, one row of harmonised cells per respondent.
#[derive(Debug, Clone)]
pub struct SynthSample {
    pub iso3: String,
    pub sample_seed: u64,
    pub scale: f64,
    pub respondents: Vec<Respondent>,
    /// Plans of the tables, in the population's order (child table first).
    pub plans: Vec<TablePlan>,
    /// `rows[t][r]`: the row of respondent `r` in table `plans[t]`.
    pub rows: Vec<Vec<Vec<Cell>>>,
    pub(crate) key: u64,
    pub(crate) bad_row_share: f64,
}

impl SynthPopulation {
    /// Draws a sample of `round(sample_children x scale)` children. Deterministic in `(sample_seed, ISO3)`.
    pub fn draw_sample(&self, sample_seed: u64, scale: f64) -> Result<SynthSample, SynthError> {
        let serr = |message: String| SynthError::Sample {
            iso3: self.iso3.clone(),
            message,
        };
        if !(scale.is_finite() && scale > 0.0) {
            return Err(serr(format!("scale {scale} must be a positive number")));
        }
        let n = (f64::from(self.settings.sample_children) * scale)
            .round()
            .max(1.0) as usize;
        let big_n = self.population_size();
        if n * 5 > big_n {
            return Err(serr(format!(
                "a sample of {n} children is more than a fifth of the population ({big_n}); simulate the \
                 population with a scale of at least {scale}"
            )));
        }
        let frame = &self.frame;
        let allocation = self.ea_allocation(n);
        let total_eas: usize = allocation.iter().sum();
        let (base, extra) = (n / total_eas.max(1), n % total_eas.max(1));

        let mut rng = rng::stream(
            rng::key(&[sample_seed, rng::hash_str(&self.iso3)]),
            "sample",
        );
        let mut respondents = Vec::with_capacity(n);
        let mut rows: Vec<Vec<Vec<Cell>>> =
            self.plans.iter().map(|_| Vec::with_capacity(n)).collect();
        let mut buffers = self.blank_rows();
        let mut ea_rank = 0usize;
        for (h, stratum) in frame.strata.iter().enumerate() {
            let k_h = stratum.eas.len();
            let a_h = allocation[h];
            let mut chosen = index::sample(&mut rng, k_h, a_h).into_vec();
            chosen.sort_unstable();
            for local in chosen {
                let e = stratum.eas.start + local;
                let ea = &frame.eas[e];
                let m_i = (base + usize::from(ea_rank < extra)).min(ea.children.len());
                ea_rank += 1;
                if m_i == 0 {
                    continue;
                }
                let weight = (k_h as f64 / a_h as f64) * (ea.children.len() as f64 / m_i as f64);
                let mut picked = index::sample(&mut rng, ea.children.len(), m_i).into_vec();
                picked.sort_unstable();
                let effects = self.ea_terms(e);
                for p in picked {
                    respondents.push(self.respondent(e, p, weight));
                    let child = self.child(e, ea.children.start + p);
                    self.fill_rows(&child, &effects, &mut buffers);
                    for (t, b) in buffers.iter().enumerate() {
                        rows[t].push(b.clone());
                    }
                }
            }
        }
        Ok(SynthSample {
            iso3: self.iso3.clone(),
            sample_seed,
            scale,
            respondents,
            plans: self.plans.clone(),
            rows,
            key: self.key,
            bad_row_share: self.settings.bad_row_share,
        })
    }

    /// Every child of the population (a census) as a "sample" with base weight 1 and no planted bad rows, so
    /// that the population value of any indicator, in any domain, can be computed by the same pipeline that
    /// estimates it from a sample (the coverage study's truth). Holds every child's answers in memory: about
    /// 1.2 KB per child (about 180 MB for the default 150,000 children).
    pub fn census(&self) -> SynthSample {
        let n = self.population_size();
        let mut respondents = Vec::with_capacity(n);
        let mut rows: Vec<Vec<Vec<Cell>>> =
            self.plans.iter().map(|_| Vec::with_capacity(n)).collect();
        let mut buffers = self.blank_rows();
        for (e, ea) in self.frame.eas.iter().enumerate() {
            let effects = self.ea_terms(e);
            for p in 0..ea.children.len() {
                respondents.push(self.respondent(e, p, 1.0));
                let child = self.child(e, ea.children.start + p);
                self.fill_rows(&child, &effects, &mut buffers);
                for (t, b) in buffers.iter().enumerate() {
                    rows[t].push(b.clone());
                }
            }
        }
        SynthSample {
            iso3: self.iso3.clone(),
            sample_seed: 0,
            scale: self.scale,
            respondents,
            plans: self.plans.clone(),
            rows,
            key: self.key,
            bad_row_share: 0.0,
        }
    }

    /// The design and identity values of child `p` (0-based within its EA) of EA `e`.
    fn respondent(&self, e: usize, p: usize, base_weight: f64) -> Respondent {
        let ea = &self.frame.eas[e];
        let stratum = &self.frame.strata[ea.stratum];
        let household_id = format!("{}{:04}", ea.code, p + 1);
        Respondent {
            child: ea.children.start + p,
            ea: e,
            respondent_id: format!("{household_id}01"),
            caregiver_id: format!("{household_id}02"),
            household_id,
            stratum: stratum.code.clone(),
            psu: ea.code.clone(),
            region: self.settings.regions[stratum.region].clone(),
            base_weight,
            lat: ea.lat,
            lon: ea.lon,
        }
    }

    /// Share of the population's EAs that a sample of `sample_children x scale` children draws (the first-stage
    /// sampling fraction; the designs carry no finite-population correction, so it should be small), and its
    /// largest value in any stratum.
    pub fn cluster_sampling_fraction(&self, scale: f64) -> (f64, f64) {
        let frame = &self.frame;
        let n = (f64::from(self.settings.sample_children) * scale)
            .round()
            .max(1.0) as usize;
        let allocation = self.ea_allocation(n);
        let overall = allocation.iter().sum::<usize>() as f64 / frame.eas.len().max(1) as f64;
        let largest = allocation
            .iter()
            .zip(&frame.strata)
            .map(|(a, s)| *a as f64 / s.eas.len().max(1) as f64)
            .fold(0.0, f64::max);
        (overall, largest)
    }

    /// Sampled EAs per stratum for a sample of `n` children.
    fn ea_allocation(&self, n: usize) -> Vec<usize> {
        let frame = &self.frame;
        let m = self.settings.children_per_ea.max(1) as usize;
        let sizes: Vec<usize> = frame
            .strata
            .iter()
            .map(|s| s.eas.clone().map(|e| frame.eas[e].children.len()).sum())
            .collect();
        let caps: Vec<usize> = frame.strata.iter().map(|s| s.eas.len()).collect();
        allocate(n.div_ceil(m), &sizes, &caps)
    }
}

/// Allocates `total` sampled EAs to strata in proportion to `sizes` (largest remainder), at least
/// `min(2, K_h)` and at most `K_h` per stratum.
fn allocate(total: usize, sizes: &[usize], caps: &[usize]) -> Vec<usize> {
    let sum: usize = sizes.iter().sum();
    if sum == 0 {
        return vec![0; sizes.len()];
    }
    let exact: Vec<f64> = sizes
        .iter()
        .map(|s| total as f64 * *s as f64 / sum as f64)
        .collect();
    let mut alloc: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|a, b| {
        (exact[*b] - exact[*b].floor())
            .total_cmp(&(exact[*a] - exact[*a].floor()))
            .then(a.cmp(b))
    });
    let short = total.saturating_sub(alloc.iter().sum());
    for &h in order.iter().take(short) {
        alloc[h] += 1;
    }
    alloc
        .iter()
        .zip(caps)
        .map(|(a, cap)| (*a).max(2.min(*cap)).min(*cap))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_proportional_with_floors_and_caps() {
        assert_eq!(allocate(10, &[100, 300, 600], &[50, 50, 50]), vec![2, 3, 6]);
        assert_eq!(allocate(10, &[0, 1000], &[5, 5]), vec![2, 5]);
        assert_eq!(allocate(4, &[0, 0], &[3, 3]), vec![0, 0]);
    }
}
