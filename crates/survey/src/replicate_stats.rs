//! Estimators on replicate-weight designs: re-estimation with every replicate's weights through
//! [`ReplicateSet::replicate_totals`] (one pass over the rows, replicates x PSUs for built designs, never a
//! replicates x rows matrix), R's `svrVar`, and the `degf` of a domain (R's `[.svyrep.design` recomputes
//! `qr(weights(design, "analysis"), tol = 1e-5)$rank - 1` on the rows it keeps).

use crate::error::SurveyError;
use crate::estimator::Kernel;
use crate::linalg::Qr;
use crate::replicate::{ReplicateSet, ReplicateWeights, replicate_vcov};
use std::collections::HashSet;

/// Largest matrix (distinct rows x replicates) whose rank is computed for `degf`.
const MAX_RANK_CELLS: usize = 20_000_000;
/// Largest min(rows, replicates) of that matrix.
const MAX_RANK_SIDE: usize = 2_500;

/// `values` inside the mask, 0 outside.
pub(crate) fn masked(values: &[f64], mask: &[bool]) -> Vec<f64> {
    values
        .iter()
        .zip(mask)
        .map(|(&v, &m)| if m { v } else { 0.0 })
        .collect()
}

/// 1 inside the mask, 0 outside.
pub(crate) fn indicator(mask: &[bool]) -> Vec<f64> {
    mask.iter().map(|&m| if m { 1.0 } else { 0.0 }).collect()
}

/// The kernel's estimate with each replicate's weights.
pub(crate) fn kernel_thetas(
    set: &ReplicateSet,
    k: &Kernel<'_>,
    mask: &[bool],
) -> Result<Vec<f64>, SurveyError> {
    let ratio = |num: Vec<f64>, den: Vec<f64>| num.iter().zip(&den).map(|(a, b)| a / b).collect();
    Ok(match *k {
        Kernel::Mean(x) => ratio(
            set.replicate_totals(&masked(x, mask))?,
            set.replicate_totals(&indicator(mask))?,
        ),
        Kernel::Total(x) => set.replicate_totals(&masked(x, mask))?,
        Kernel::Ratio(y, x) => ratio(
            set.replicate_totals(&masked(y, mask))?,
            set.replicate_totals(&masked(x, mask))?,
        ),
    })
}

/// R's `svrVar` for one statistic (replicates giving NaN are dropped, as R's `na.omit`).
pub(crate) fn variance(set: &ReplicateSet, thetas: &[f64], full: f64) -> Result<f64, SurveyError> {
    let per: Vec<Vec<f64>> = thetas.iter().map(|&t| vec![t]).collect();
    let v = replicate_vcov(&[full], &per, set)?;
    Ok(v.vcov
        .first()
        .and_then(|r| r.first())
        .copied()
        .unwrap_or(f64::NAN))
}

/// R's `degf()` of the design restricted to the rows of `mask`: rank of the analysis weights of those rows
/// minus 1. A row that repeats another, or is a positive multiple of it (rows of one PSU: pweight x the PSU's
/// multipliers), does not change the rank, so rows are scaled to their largest entry, rounded to 12 significant
/// digits for the comparison, and only distinct ones enter the QR (R's `qr(., tol = 1e-5)`).
pub(crate) fn degf_of(
    set: &ReplicateSet,
    weights: &[f64],
    mask: &[bool],
) -> Result<usize, SurveyError> {
    let n_rep = set.n_replicates();
    if n_rep == 0 {
        return Ok(0);
    }
    let too_large = |n: usize| {
        SurveyError::Invalid(format!(
            "degf of this replicate design is the rank of a {n} x {n_rep} matrix of replicate weights (R: \
             qr(weights(design, \"analysis\"))$rank - 1), too large to compute here; use fewer replicates \
             (e.g. BRR or bootstrap) or the Taylor design"
        ))
    };
    let mut rows = DistinctRows::default();
    match &set.weights {
        ReplicateWeights::Compressed {
            row_psu,
            n_psu,
            multipliers,
            ..
        } => {
            let mut psu_in = vec![false; *n_psu];
            for (i, &p) in row_psu.iter().enumerate() {
                if mask[i] && weights[i] != 0.0 && p < *n_psu {
                    psu_in[p] = true;
                }
            }
            let present: Vec<usize> = (0..*n_psu).filter(|&p| psu_in[p]).collect();
            if present.len().saturating_mul(n_rep) > MAX_RANK_CELLS
                || present.len().min(n_rep) > MAX_RANK_SIDE
            {
                // large built designs (e.g. JKn with thousands of PSUs): exact rank from the block structure
                return Ok(
                    crate::block_rank::multiplier_rank(&present, *n_psu, multipliers)
                        .saturating_sub(1),
                );
            }
            // PSU x replicate multipliers of the present PSUs, without a replicates x all-PSUs matrix
            let mut slot = vec![usize::MAX; *n_psu];
            for (k, &p) in present.iter().enumerate() {
                slot[p] = k;
            }
            let mut m = vec![0.0; present.len() * n_rep];
            for (r, mult) in multipliers.iter().enumerate() {
                for k in 0..present.len() {
                    m[k * n_rep + r] = mult.default;
                }
                for &(p, v) in &mult.except {
                    if p < *n_psu && slot[p] != usize::MAX {
                        m[slot[p] * n_rep + r] = v;
                    }
                }
            }
            for k in 0..present.len() {
                rows.push(&m[k * n_rep..(k + 1) * n_rep]);
            }
        }
        ReplicateWeights::Dense(w) => {
            let mut row = vec![0.0; n_rep];
            for i in (0..mask.len()).filter(|&i| mask[i]) {
                for (v, col) in row.iter_mut().zip(w) {
                    *v = col[i];
                }
                rows.push(&row);
                if rows.rows.len().saturating_mul(n_rep) > MAX_RANK_CELLS {
                    return Err(too_large(rows.rows.len()));
                }
            }
        }
    }
    let n = rows.rows.len();
    if n == 0 {
        return Ok(0);
    }
    // a QR of n x R costs n R min(n, R); refuse what would take minutes
    if n.saturating_mul(n_rep) > MAX_RANK_CELLS || n.min(n_rep) > MAX_RANK_SIDE {
        return Err(too_large(n));
    }
    let mut data = Vec::with_capacity(n * n_rep);
    for r in 0..n_rep {
        data.extend(rows.rows.iter().map(|row| row[r]));
    }
    Ok(Qr::new(n, n_rep, data, 1e-5)?.rank().saturating_sub(1))
}

/// Rows kept once up to a positive factor (all-zero rows are dropped: they add no rank).
#[derive(Default)]
struct DistinctRows {
    seen: HashSet<Vec<u64>>,
    rows: Vec<Vec<f64>>,
}

impl DistinctRows {
    fn push(&mut self, row: &[f64]) {
        let scale = row.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if scale == 0.0 || !scale.is_finite() {
            return;
        }
        let key: Vec<u64> = row.iter().map(|v| round12(v / scale).to_bits()).collect();
        if self.seen.insert(key) {
            self.rows.push(row.iter().map(|v| v / scale).collect());
        }
    }
}

/// `x` rounded to 12 significant digits (exact zero stays zero).
fn round12(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = 11 - x.abs().log10().floor() as i32;
    if !(-300..=300).contains(&e) {
        return x;
    }
    let f = 10f64.powi(e);
    (x * f).round() / f
}

/// Full-sample and replicate estimates of one domain's mean or total.
pub(crate) struct DomainThetas {
    pub estimate: f64,
    pub thetas: Vec<f64>,
    pub sum_w: f64,
    pub n_nonzero: usize,
}

/// Means (or totals) of `x` in every domain with every replicate's weights, in one pass over the rows: dense
/// weights accumulate domains x replicates sums; built designs accumulate domains x PSUs totals and apply each
/// replicate's PSU multipliers. `None` when the domains x PSUs table would be too large (callers fall back to
/// one domain at a time).
pub(crate) fn domain_linear(
    set: &ReplicateSet,
    weights: &[f64],
    domain_of_row: &[u32],
    n_dom: usize,
    x: &[f64],
    missing: &dyn Fn(usize) -> bool,
    total: bool,
) -> Option<Vec<DomainThetas>> {
    let n_rep = set.n_replicates();
    let keep = |i: usize| domain_of_row[i] != crate::domain::NONE && !missing(i);
    let mut sw = vec![0.0; n_dom];
    let mut swx = vec![0.0; n_dom];
    let mut nnz = vec![0usize; n_dom];
    // replicate numerators and denominators, [domain * n_rep + r]
    let mut num = vec![0.0; n_dom * n_rep];
    let mut den = vec![0.0; n_dom * n_rep];
    match &set.weights {
        ReplicateWeights::Dense(w) => {
            for i in (0..x.len()).filter(|&i| keep(i)) {
                let d = domain_of_row[i] as usize;
                sw[d] += weights[i];
                swx[d] += weights[i] * x[i];
                nnz[d] += usize::from(weights[i] != 0.0);
                let base = d * n_rep;
                for (r, col) in w.iter().enumerate() {
                    num[base + r] += col[i] * x[i];
                    den[base + r] += col[i];
                }
            }
        }
        ReplicateWeights::Compressed {
            row_psu,
            n_psu,
            multipliers,
            pweights,
        } => {
            if n_dom.saturating_mul(*n_psu) > crate::linear_fast::MAX_CELLS {
                return None;
            }
            let mut tw = vec![0.0; n_dom * n_psu];
            let mut twx = vec![0.0; n_dom * n_psu];
            for i in (0..x.len()).filter(|&i| keep(i)) {
                let d = domain_of_row[i] as usize;
                sw[d] += weights[i];
                swx[d] += weights[i] * x[i];
                nnz[d] += usize::from(weights[i] != 0.0);
                let p = *row_psu.get(i)?;
                let c = d * n_psu + p;
                tw[c] += pweights[i];
                twx[c] += pweights[i] * x[i];
            }
            for d in 0..n_dom {
                let cells = d * n_psu..(d + 1) * n_psu;
                let (all_w, all_wx): (f64, f64) =
                    (tw[cells.clone()].iter().sum(), twx[cells].iter().sum());
                for (r, m) in multipliers.iter().enumerate() {
                    let (mut a, mut b) = (m.default * all_wx, m.default * all_w);
                    for &(p, v) in &m.except {
                        if p < *n_psu {
                            a += (v - m.default) * twx[d * n_psu + p];
                            b += (v - m.default) * tw[d * n_psu + p];
                        }
                    }
                    num[d * n_rep + r] = a;
                    den[d * n_rep + r] = b;
                }
            }
        }
    }
    Some(
        (0..n_dom)
            .map(|d| {
                let range = d * n_rep..(d + 1) * n_rep;
                let thetas = if total {
                    num[range].to_vec()
                } else {
                    num[range.clone()]
                        .iter()
                        .zip(&den[range])
                        .map(|(a, b)| a / b)
                        .collect()
                };
                DomainThetas {
                    estimate: if total { swx[d] } else { swx[d] / sw[d] },
                    thetas,
                    sum_w: sw[d],
                    n_nonzero: nnz[d],
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lonely::LonelyPsu;
    use crate::replicate::{DesignColumns, RepType, ReplicateOptions, build_replicates};

    /// The block-structure rank equals the QR rank on built jackknife and BRR designs, lonely rules included.
    #[test]
    fn block_rank_matches_qr_rank_on_built_designs() {
        // strata A (5 PSUs), B (9 PSUs), C (1 PSU); two rows per PSU
        let mut strata = Vec::new();
        let mut psu = Vec::new();
        for (h, n_h) in [5usize, 9, 1].iter().enumerate() {
            for _ in 0..*n_h {
                let p = psu.iter().max().map_or(0, |m| m + 1);
                psu.extend([p, p]);
                strata.extend([h, h]);
            }
        }
        let weights: Vec<f64> = (0..psu.len()).map(|i| 1.0 + (i % 7) as f64).collect();
        let labels: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        let mask = vec![true; psu.len()];
        let check = |set: &ReplicateSet, what: &str| {
            let ReplicateWeights::Compressed {
                n_psu, multipliers, ..
            } = &set.weights
            else {
                panic!("{what}: expected built weights");
            };
            let present: Vec<usize> = (0..*n_psu).collect();
            let block =
                crate::block_rank::multiplier_rank(&present, *n_psu, multipliers).saturating_sub(1);
            assert_eq!(block, degf_of(set, &weights, &mask).unwrap(), "{what}");
        };
        for rule in [
            LonelyPsu::Certainty,
            LonelyPsu::Remove,
            LonelyPsu::Average,
            LonelyPsu::Adjust,
        ] {
            let cols = DesignColumns {
                weights: &weights,
                strata: Some(&strata),
                stratum_labels: Some(&labels),
                psu: &psu,
                fpc: None,
            };
            let opts = ReplicateOptions {
                rep_type: RepType::Jkn,
                lonely_psu: rule,
                mse: false,
            };
            check(
                &build_replicates(&cols, &opts).unwrap(),
                &format!("JKn {rule:?}"),
            );
        }
        let cols = DesignColumns {
            weights: &weights,
            strata: None,
            stratum_labels: None,
            psu: &psu,
            fpc: None,
        };
        let opts = ReplicateOptions {
            rep_type: RepType::Jk1,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        check(&build_replicates(&cols, &opts).unwrap(), "JK1");
        // BRR needs two PSUs per stratum: pair the PSUs
        let pair_strata: Vec<usize> = psu.iter().map(|p| p / 2).collect();
        let cols = DesignColumns {
            weights: &weights,
            strata: Some(&pair_strata[..28]),
            stratum_labels: None,
            psu: &psu[..28],
            fpc: None,
        };
        let brr = ReplicateOptions {
            rep_type: RepType::Brr,
            lonely_psu: LonelyPsu::Fail,
            mse: false,
        };
        let set = build_replicates(
            &DesignColumns {
                weights: &weights[..28],
                ..cols
            },
            &brr,
        )
        .unwrap();
        let ReplicateWeights::Compressed {
            n_psu, multipliers, ..
        } = &set.weights
        else {
            panic!("BRR: expected built weights");
        };
        let present: Vec<usize> = (0..*n_psu).collect();
        assert_eq!(
            crate::block_rank::multiplier_rank(&present, *n_psu, multipliers).saturating_sub(1),
            degf_of(&set, &weights[..28], &mask[..28]).unwrap(),
            "BRR"
        );
    }
}
