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
        let m = self.settings.children_per_ea.max(1) as usize;
        let sizes: Vec<usize> = frame
            .strata
            .iter()
            .map(|s| s.eas.clone().map(|e| frame.eas[e].children.len()).sum())
            .collect();
        let allocation = allocate(
            n.div_ceil(m),
            &sizes,
            &frame.strata.iter().map(|s| s.eas.len()).collect::<Vec<_>>(),
        );
        let total_eas: usize = allocation.iter().sum();
        let (base, extra) = (n / total_eas.max(1), n % total_eas.max(1));

        let mut rng = rng::stream(
            rng::key(&[sample_seed, rng::hash_str(&self.iso3)]),
            "sample",
        );
        let mut respondents = Vec::with_capacity(n);
        let mut rows: Vec<Vec<Vec<Cell>>> =
            self.plans.iter().map(|_| Vec::with_capacity(n)).collect();
        let mut buffers: Vec<Vec<Cell>> = self
            .plans
            .iter()
            .map(|p| vec![Cell::Blank; p.fields.len()])
            .collect();
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
                    let i = ea.children.start + p;
                    let household_id = format!("{}{:04}", ea.code, p + 1);
                    respondents.push(Respondent {
                        child: i,
                        ea: e,
                        respondent_id: format!("{household_id}01"),
                        caregiver_id: format!("{household_id}02"),
                        household_id,
                        stratum: stratum.code.clone(),
                        psu: ea.code.clone(),
                        region: self.settings.regions[stratum.region].clone(),
                        base_weight: weight,
                        lat: ea.lat,
                        lon: ea.lon,
                    });
                    let child = self.child(e, i);
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
