//! Estimators on replicate-weight designs: re-estimation with every replicate's weights through
//! [`ReplicateSet::replicate_totals`] (one pass over the rows, replicates x PSUs for built designs, never a
//! replicates x rows matrix), R's `svrVar`, and the `degf` of a domain (R's `[.svyrep.design` recomputes
//! `qr(weights(design, "analysis"), tol = 1e-5)$rank - 1` on the rows it keeps).

use crate::error::SurveyError;
use crate::estimator::Kernel;
use crate::linalg::Qr;
use crate::replicate::{ReplicateSet, ReplicateWeights, replicate_vcov};
use std::collections::HashSet;

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
/// minus 1. Rows repeating another row, or a positive multiple of it (rows of one PSU in a built design), do not
/// change the rank, so only distinct rows enter the QR.
pub(crate) fn degf_of(
    set: &ReplicateSet,
    weights: &[f64],
    mask: &[bool],
) -> Result<usize, SurveyError> {
    let n_rep = set.n_replicates();
    if n_rep == 0 {
        return Ok(0);
    }
    let mut seen: HashSet<Vec<u64>> = HashSet::new();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut push = |row: Vec<f64>| {
        let key: Vec<u64> = row.iter().map(|v| v.to_bits()).collect();
        if seen.insert(key) {
            rows.push(row);
        }
    };
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
            let dense: Vec<Vec<f64>> = multipliers.iter().map(|m| m.dense(*n_psu)).collect();
            for p in (0..*n_psu).filter(|&p| psu_in[p]) {
                push(dense.iter().map(|m| m[p]).collect());
            }
        }
        ReplicateWeights::Dense(w) => {
            for i in (0..mask.len()).filter(|&i| mask[i]) {
                push(w.iter().map(|col| col[i]).collect());
            }
        }
    }
    let n = rows.len();
    if n == 0 {
        return Ok(0);
    }
    let mut data = Vec::with_capacity(n * n_rep);
    for r in 0..n_rep {
        data.extend(rows.iter().map(|row| row[r]));
    }
    Ok(Qr::new(n, n_rep, data, 1e-5)?.rank().saturating_sub(1))
}
