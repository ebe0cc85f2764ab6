//! One-pass means and totals for plain Taylor designs whose variance has only a first-stage term: every domain's
//! weighted sums and PSU totals are accumulated in a single pass over the rows (domains x PSUs cells), so a
//! 20-level `by` costs one pass instead of twenty. Mathematically identical to the row-level path in
//! `estimator.rs` (same R formulas, summation order differs only).

use crate::design::Design;
use crate::domain::{DomainSet, NONE};
use crate::error::SurveyError;

/// Largest domains x PSUs table the fast path allocates (cells of 3 words).
pub(crate) const MAX_CELLS: usize = 1 << 24;

/// Per-domain results of one column.
pub(crate) struct DomainLinear {
    pub estimate: f64,
    pub variance: f64,
    pub sum_w: f64,
    pub n_nonzero: usize,
    /// sum w (x - mean)^2 over the domain (for design effects), when requested.
    pub ss: Option<f64>,
}

/// Means (or totals) of `x` in every domain of `set`; rows where `missing(i)` are out of every domain.
pub(crate) fn linear_by_psu(
    design: &Design,
    weights: &[f64],
    set: &DomainSet,
    x: &[f64],
    missing: &dyn Fn(usize) -> bool,
    total: bool,
    want_ss: bool,
) -> Result<Vec<DomainLinear>, SurveyError> {
    let n_dom = set.n_domains();
    let psu = design.psu_of_row();
    let n_psu = design.n_psu();
    let cells = n_dom * n_psu;
    let mut tw = vec![0.0; cells];
    let mut twx = vec![0.0; cells];
    let mut rows = vec![0u32; cells];
    let mut sw = vec![0.0; n_dom];
    let mut swx = vec![0.0; n_dom];
    let mut nnz = vec![0usize; n_dom];
    for i in 0..x.len() {
        let d = set.domain_of_row[i];
        if d == NONE || missing(i) {
            continue;
        }
        let (d, w, xi) = (d as usize, weights[i], x[i]);
        let c = d * n_psu + psu[i] as usize;
        tw[c] += w;
        twx[c] += w * xi;
        rows[c] += 1;
        sw[d] += w;
        swx[d] += w * xi;
        nnz[d] += usize::from(w != 0.0);
    }
    let estimates: Vec<f64> = (0..n_dom)
        .map(|d| if total { swx[d] } else { swx[d] / sw[d] })
        .collect();
    let ss = if want_ss {
        let mut ss = vec![0.0; n_dom];
        let means: Vec<f64> = (0..n_dom).map(|d| swx[d] / sw[d]).collect();
        for i in 0..x.len() {
            let d = set.domain_of_row[i];
            if d == NONE || missing(i) {
                continue;
            }
            let e = x[i] - means[d as usize];
            ss[d as usize] += weights[i] * e * e;
        }
        Some(ss)
    } else {
        None
    };
    let mut out = Vec::with_capacity(n_dom);
    let mut totals = vec![0.0; n_psu];
    let mut present = vec![false; n_psu];
    for d in 0..n_dom {
        let est = estimates[d];
        let range = d * n_psu..(d + 1) * n_psu;
        for ((t, p), c) in totals.iter_mut().zip(present.iter_mut()).zip(range) {
            *t = if total {
                twx[c]
            } else {
                (twx[c] - est * tw[c]) / sw[d]
            };
            *p = rows[c] > 0;
        }
        let variance = design.stage1_variance(&totals, Some(&present))?;
        out.push(DomainLinear {
            estimate: est,
            variance,
            sum_w: sw[d],
            n_nonzero: nnz[d],
            ss: ss.as_ref().map(|s| s[d]),
        });
    }
    Ok(out)
}
