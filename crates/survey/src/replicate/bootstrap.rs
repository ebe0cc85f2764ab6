//! Bootstrap replicate weights drawn as R's `bootweights()` draws them (`as.svrepdesign(type="bootstrap")`,
//! Canty-Davison / Rao-Wu style): in each stratum (order of first appearance) the PSUs are permuted, then each
//! replicate resamples as many PSUs with replacement (without an fpc) or without replacement from the PSUs
//! repeated up to the population size (with an fpc); a PSU's multiplier is the number of times it was drawn.
//! With R's generator seeded as `set.seed(seed)`, the replicates equal R's; the scale is
//! `nbar / ((nbar - 1) (R - 1))` with `nbar` the harmonic mean of PSUs per stratum.

use super::jackknife::Built;
use super::r_rng::RRng;
use super::{DesignColumns, PsuLayout, PsuMultipliers, stratum_fpc, stratum_label};
use crate::SurveyError;

pub(crate) fn bootstrap(
    columns: &DesignColumns<'_>,
    layout: &PsuLayout,
    replicates: usize,
    seed: i32,
) -> Result<Built, SurveyError> {
    if replicates < 2 {
        return Err(SurveyError::Invalid(
            "bootstrap needs at least 2 replicates".into(),
        ));
    }
    let fpc = stratum_fpc(columns, layout)?;
    let n_psu = layout.n_psu();
    let mut members_of: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for (p, &s) in layout.psu_stratum.iter().enumerate() {
        members_of.entry(s).or_default().push(p);
    }
    let mut counts = vec![vec![0u32; n_psu]; replicates];
    let mut rng = RRng::new(seed);
    for &s in &layout.strata {
        let members = members_of.remove(&s).unwrap_or_default();
        let n = members.len();
        if n < 2 {
            return Err(SurveyError::Invalid(format!(
                "bootstrap: stratum {} has a single PSU (R's bootweights gives meaningless weights there)",
                stratum_label(columns, s)
            )));
        }
        let permuted: Vec<usize> = rng
            .sample_without_replacement(n, n)
            .iter()
            .map(|&i| members[i])
            .collect();
        let population = fpc.as_ref().and_then(|m| m.get(&s).copied());
        if let Some(big_n) = population
            && big_n < n as f64
        {
            return Err(SurveyError::Invalid(format!(
                "Population size smaller than sample size in stratum {}",
                stratum_label(columns, s)
            )));
        }
        for rep in counts.iter_mut() {
            match population {
                None => {
                    for _ in 0..n {
                        rep[permuted[rng.unif_index(n)]] += 1;
                    }
                }
                Some(big_n) => {
                    // sample(rep(upsu, length = N), n): without replacement from the PSUs repeated to length N.
                    let len = big_n.floor() as usize;
                    for k in rng.sample_without_replacement(len, n) {
                        rep[permuted[k % n]] += 1;
                    }
                }
            }
        }
    }
    let mut per_stratum = std::collections::HashMap::new();
    for &s in &layout.psu_stratum {
        *per_stratum.entry(s).or_insert(0usize) += 1;
    }
    let mean_inverse: f64 = layout
        .strata
        .iter()
        .map(|s| 1.0 / per_stratum[s] as f64)
        .sum::<f64>()
        / layout.strata.len() as f64;
    let nbar = 1.0 / mean_inverse;
    let scale = nbar / ((nbar - 1.0) * (replicates as f64 - 1.0));
    let multipliers = counts
        .into_iter()
        .map(|c| PsuMultipliers {
            default: 0.0,
            except: c
                .iter()
                .enumerate()
                .filter(|(_, k)| **k > 0)
                .map(|(p, k)| (p, f64::from(*k)))
                .collect(),
        })
        .collect();
    Ok((multipliers, scale, vec![1.0; replicates]))
}
