//! svyciprop on plain Taylor designs whose variance has only a first-stage term, for every domain at once: one
//! pass gathers each domain's weighted sums, PSU totals (domains x PSUs cells), row counts and the PSUs that
//! count for its `degf`; the variance of each domain's mean then comes from the PSU totals without touching the
//! rows again (the logit interval needs nothing more: its variance is v / (p (1 - p))^2, see `ciprop.rs`). Same
//! R formulas as the row-level path in `ciprop.rs` (summation order differs only).

use crate::design::Design;
use crate::domain::{DomainSet, NONE};
use crate::error::SurveyError;
use crate::linear_fast::MAX_CELLS;

/// What the interval methods need about one domain.
pub(crate) struct PropStats {
    pub p: f64,
    pub var: f64,
    /// R's degf of the domain's subset design.
    pub degf: usize,
    /// R's nrow of the domain's subset design (rows dropped outside it).
    pub nrow: usize,
    pub n_unweighted: usize,
    pub n_weighted: f64,
}

/// The statistics of every domain of `set`; `None` when the domains x PSUs table would be too large.
pub(crate) fn domain_props(
    design: &Design,
    weights: &[f64],
    set: &DomainSet,
    y: &[f64],
) -> Result<Option<Vec<PropStats>>, SurveyError> {
    let n_dom = set.n_domains();
    let n_psu = design.n_psu();
    let cells = n_dom.saturating_mul(n_psu);
    if cells > MAX_CELLS {
        return Ok(None);
    }
    let psu = design.psu_of_row();
    let stratum_of_psu = &design.stages[0].group_of_unit;
    let (mut tw, mut twy) = (vec![0.0; cells], vec![0.0; cells]);
    let mut present = vec![false; cells];
    let mut weighted = vec![false; cells];
    let (mut rows_dom, mut sw_dom) = (vec![0usize; n_dom], vec![0.0; n_dom]);
    let (mut sw, mut swy, mut nnz) = (vec![0.0; n_dom], vec![0.0; n_dom], vec![0usize; n_dom]);
    for i in 0..y.len() {
        let d = set.domain_of_row[i];
        if d == NONE {
            continue;
        }
        let (d, w) = (d as usize, weights[i]);
        let c = d * n_psu + psu[i] as usize;
        rows_dom[d] += 1;
        sw_dom[d] += w;
        weighted[c] |= w != 0.0;
        if !y[i].is_nan() {
            tw[c] += w;
            twy[c] += w * y[i];
            present[c] = true;
            sw[d] += w;
            swy[d] += w * y[i];
            nnz[d] += usize::from(w != 0.0);
        }
    }
    let mut out = Vec::with_capacity(n_dom);
    let mut totals = vec![0.0; n_psu];
    let mut seen_stratum = vec![false; design.n_strata()];
    for d in 0..n_dom {
        let range = d * n_psu..(d + 1) * n_psu;
        // degf: PSUs with a non-zero weight in the domain minus their strata
        seen_stratum.iter_mut().for_each(|s| *s = false);
        let (mut n_p, mut n_s) = (0usize, 0usize);
        for (p, &wtd) in weighted[range.clone()].iter().enumerate() {
            if wtd {
                n_p += 1;
                let h = stratum_of_psu[p] as usize;
                if !seen_stratum[h] {
                    seen_stratum[h] = true;
                    n_s += 1;
                }
            }
        }
        let p_hat = swy[d] / sw[d];
        let pres = &present[range.clone()];
        for (t, c) in totals.iter_mut().zip(range) {
            *t = (twy[c] - p_hat * tw[c]) / sw[d];
        }
        let var = design.stage1_variance(&totals, Some(pres))?;
        out.push(PropStats {
            p: p_hat,
            var,
            degf: n_p.saturating_sub(n_s),
            nrow: rows_dom[d],
            n_unweighted: nnz[d],
            n_weighted: sw[d],
        });
    }
    Ok(Some(out))
}
