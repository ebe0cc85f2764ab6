//! The raking variance's residualisation (R's `svyrecvar` with a raked design's `postStrata`: exactly 10
//! back-fitting sweeps over the margins), computed in level space.
//!
//! One sweep step for margin m replaces `x` by `x - w_m * A_m (A_m' (x / w_m) / n_m)` (A_m: the margin's level
//! indicators, w_m: the weights after that margin's post-stratification, n_m: rows per level). Every step
//! subtracts `w_m` times a function of the level, so after all sweeps `x = x0 - sum_m w_m * A_m C_m` where `C_m`
//! accumulates the step corrections of margin m. A step's level sums follow from the level sums of `x0` and the
//! corrections so far through the cross tables `G[m][k][l, l'] = sum over rows in level l of m and l' of k of
//! w_k / w_m`, built once per calibration. So a column costs two passes over the rows (level sums of `x0`, then
//! the subtraction) instead of two per margin per sweep; the sweeps themselves run on the small level vectors.
//! Results equal the row-level sweeps up to floating-point reassociation. When the cross tables would be large
//! compared with the rows (margins with very many levels), the row-level sweeps are used.
//!
//! Rows with the same level and the same weight in every margin (a "cell": raked weights repeat wherever the base
//! weight does) get the same subtraction, so it is computed once per cell ([`Cells`]) and gathered per row: the
//! same operations on the same numbers as per row, so the same bits. Callers that know which rows of `x` can be
//! non-zero (a domain's rows) pass them ([`RakeResidual::residualise_supported`]) and the level sums visit only
//! those rows (the rows left out are zeros, which the level sums skip anyway).

use std::collections::HashMap;

use super::poststratify::PostStratum;

/// R's raking variance: back-fitting sweeps over the margins (`svyrecvar`'s `for (i in 1:10)`).
pub(crate) const SWEEPS: usize = 10;

/// Largest total size (entries) of the cross tables kept in memory.
const MAX_CROSS_ENTRIES: usize = 1 << 20;

/// The last raking sweep's post-stratifications and, when worthwhile, the level-space cross tables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RakeResidual {
    margins: Vec<PostStratum>,
    level_space: Option<LevelSpace>,
}

/// Rows per level of each margin and the cross tables `cross[m][k]` (L_m x L_k, row-major).
#[derive(Debug, Clone, PartialEq)]
struct LevelSpace {
    counts: Vec<Vec<f64>>,
    cross: Vec<Vec<Vec<f64>>>,
    /// The rows grouped by their levels and weights in every margin, when there are few enough groups.
    cells: Option<Cells>,
}

/// Distinct (level, weight) tuples over the margins and the tuple of each row.
#[derive(Debug, Clone, PartialEq)]
struct Cells {
    n_cells: usize,
    of_row: Vec<u32>,
    /// `levels[c * margins + m]`, `weights[c * margins + m]`: margin m's level and weight in cell c.
    levels: Vec<u32>,
    weights: Vec<f64>,
}

impl Cells {
    /// The cells of the rows, or `None` when there are more than half as many cells as rows (no saving).
    fn build(margins: &[PostStratum], n_rows: usize) -> Option<Cells> {
        let n_margins = margins.len();
        let mut index: HashMap<Vec<u64>, u32> = HashMap::new();
        let (mut levels, mut weights) = (Vec::new(), Vec::new());
        let mut of_row = Vec::with_capacity(n_rows);
        let mut key = Vec::with_capacity(2 * n_margins);
        for i in 0..n_rows {
            key.clear();
            for m in margins {
                key.push(u64::from(m.codes[i]));
                key.push(m.new_weights[i].to_bits());
            }
            let cell = match index.get(&key) {
                Some(&c) => c,
                None => {
                    let c = index.len() as u32;
                    index.insert(key.clone(), c);
                    for m in margins {
                        levels.push(m.codes[i]);
                        weights.push(m.new_weights[i]);
                    }
                    if index.len() > n_rows / 2 {
                        return None;
                    }
                    c
                }
            };
            of_row.push(cell);
        }
        Some(Cells {
            n_cells: index.len(),
            of_row,
            levels,
            weights,
        })
    }
}

impl RakeResidual {
    /// The record of the last sweep's post-stratifications. Only each margin's levels and new weights are used
    /// (the old weights are dropped); with level space and cells, the rows' levels and weights are those of their
    /// cells, so each margin's own per-row copies are dropped too: the record then costs one cell id per row.
    pub(crate) fn new(margins: Vec<PostStratum>) -> Self {
        let mut margins = margins;
        for m in &mut margins {
            m.old_weights = Vec::new();
        }
        let level_space = LevelSpace::build(&margins);
        if level_space.as_ref().is_some_and(|ls| ls.cells.is_some()) {
            for m in &mut margins {
                m.codes = Vec::new();
                m.new_weights = Vec::new();
            }
        }
        RakeResidual {
            margins,
            level_space,
        }
    }

    /// Replaces `x` (weighted influence values, one per row) by its residuals from the raking margins.
    pub(crate) fn residualise(&self, x: &mut [f64]) {
        match &self.level_space {
            Some(ls) => ls.residualise(&self.margins, x, None),
            None => self.residualise_by_sweeps(x),
        }
    }

    /// [`RakeResidual::residualise`] of an `x` that is zero outside the rows `support` (ascending).
    pub(crate) fn residualise_supported(&self, x: &mut [f64], support: &[u32]) {
        match &self.level_space {
            Some(ls) => ls.residualise(&self.margins, x, Some(support)),
            None => self.residualise_by_sweeps(x),
        }
    }

    /// The totals per unit of the residuals of an `x` that is zero outside `support` (ascending), `x` left
    /// unchanged; `None` when the residuals come from the row-level sweeps (then residualise a copy).
    pub(crate) fn residual_unit_totals(
        &self,
        x: &[f64],
        support: &[u32],
        unit_of_row: &[u32],
        n_units: usize,
    ) -> Option<Vec<f64>> {
        let ls = self.level_space.as_ref()?;
        (unit_of_row.len() == x.len())
            .then(|| ls.residual_unit_totals(&self.margins, x, Some(support), unit_of_row, n_units))
    }

    /// [`RakeResidual::residual_unit_totals`] of the domains of one call at once: `x` holds every domain's values
    /// on its own rows (`supports[k]`, ascending, disjoint; `domain_of_row[i]` is `k` for the rows of
    /// `supports[k]`, anything else elsewhere), zero on the rows of no domain. One pass over the rows gives every
    /// domain's unit totals, each the same bits as [`RakeResidual::residual_unit_totals`] of that domain alone
    /// (`x` zero outside its rows). `None` without level space and cells (then call the one-domain form).
    pub(crate) fn residual_unit_totals_disjoint(
        &self,
        x: &[f64],
        supports: &[&[u32]],
        domain_of_row: &[u32],
        (unit_of_row, n_units): (&[u32], usize),
    ) -> Option<Vec<Vec<f64>>> {
        let ls = self.level_space.as_ref()?;
        let cells = ls.cells.as_ref()?;
        let n = x.len();
        if unit_of_row.len() != n || domain_of_row.len() != n || cells.of_row.len() != n {
            return None;
        }
        let per_cell: Vec<Vec<f64>> = supports
            .iter()
            .map(|s| cells.subtractions(&ls.corrections(&self.margins, x, Some(s))))
            .collect();
        Some(cells.unit_totals(x, &per_cell, domain_of_row, (unit_of_row, n_units)))
    }

    /// The row-level sweeps, as R runs them.
    pub(crate) fn residualise_by_sweeps(&self, x: &mut [f64]) {
        for _ in 0..SWEEPS {
            for m in &self.margins {
                m.backfit(x);
            }
        }
    }
}

impl LevelSpace {
    /// The cross tables, or `None` when they would cost more than the row-level sweeps (or memory) saves.
    fn build(margins: &[PostStratum]) -> Option<Self> {
        let n_rows = margins.first().map_or(0, |m| m.codes.len());
        if margins.is_empty()
            || margins
                .iter()
                .any(|m| m.codes.len() != n_rows || m.new_weights.len() != n_rows)
        {
            return None;
        }
        let levels: usize = margins.iter().map(|m| m.n_levels).sum();
        let entries = levels.saturating_mul(levels);
        if entries > MAX_CROSS_ENTRIES || entries > n_rows.saturating_mul(margins.len()) {
            return None;
        }
        // a code outside its margin's levels would make the row-level sweeps panic too; refuse level space
        if margins
            .iter()
            .any(|m| m.codes.iter().any(|&c| c as usize >= m.n_levels))
        {
            return None;
        }
        let mut counts: Vec<Vec<f64>> = margins.iter().map(|m| vec![0.0; m.n_levels]).collect();
        let mut cross: Vec<Vec<Vec<f64>>> = margins
            .iter()
            .map(|a| {
                margins
                    .iter()
                    .map(|b| vec![0.0; a.n_levels * b.n_levels])
                    .collect()
            })
            .collect();
        for i in 0..n_rows {
            for (m, a) in margins.iter().enumerate() {
                let la = a.codes[i] as usize;
                counts[m][la] += 1.0;
                for (k, b) in margins.iter().enumerate() {
                    let lb = b.codes[i] as usize;
                    cross[m][k][la * b.n_levels + lb] += b.new_weights[i] / a.new_weights[i];
                }
            }
        }
        let cells = Cells::build(margins, n_rows);
        Some(LevelSpace {
            counts,
            cross,
            cells,
        })
    }

    /// The residuals of `x`; `support`, when given, holds every row where `x` can be non-zero, ascending.
    fn residualise(&self, margins: &[PostStratum], x: &mut [f64], support: Option<&[u32]>) {
        let corrections = self.corrections(margins, x, support);
        match &self.cells {
            Some(cells) => {
                // the subtraction of each cell, then one gather per row
                let per_cell = cells.subtractions(&corrections);
                for (xi, &c) in x.iter_mut().zip(&cells.of_row) {
                    *xi -= per_cell[c as usize];
                }
            }
            None => {
                for (i, xi) in x.iter_mut().enumerate() {
                    *xi -= subtraction(margins, &corrections, i);
                }
            }
        }
    }

    /// The totals per unit (`unit_of_row`, `n_units` units) of the residuals of `x` (left unchanged), each
    /// unit's rows added in row order: the same bits as [`LevelSpace::residualise`] then summing.
    fn residual_unit_totals(
        &self,
        margins: &[PostStratum],
        x: &[f64],
        support: Option<&[u32]>,
        unit_of_row: &[u32],
        n_units: usize,
    ) -> Vec<f64> {
        let corrections = self.corrections(margins, x, support);
        let mut totals = vec![0.0; n_units];
        match &self.cells {
            Some(cells) => {
                let per_cell = cells.subtractions(&corrections);
                for ((&xi, &c), &u) in x.iter().zip(&cells.of_row).zip(unit_of_row) {
                    totals[u as usize] += xi - per_cell[c as usize];
                }
            }
            None => {
                for (i, (&xi, &u)) in x.iter().zip(unit_of_row).enumerate() {
                    totals[u as usize] += xi - subtraction(margins, &corrections, i);
                }
            }
        }
        totals
    }

    /// The accumulated corrections of every margin's levels after the sweeps, from the level sums of `x`.
    fn corrections(
        &self,
        margins: &[PostStratum],
        x: &[f64],
        support: Option<&[u32]>,
    ) -> Vec<Vec<f64>> {
        // level sums of x / w_m for every margin (rows with x = 0 add nothing)
        let mut sums: Vec<Vec<f64>> = margins.iter().map(|m| vec![0.0; m.n_levels]).collect();
        let n_margins = margins.len();
        let mut add = |i: usize, xi: f64| {
            if xi == 0.0 {
                return;
            }
            match &self.cells {
                // the row's cell holds its level and weight in every margin (the same numbers)
                Some(cells) => {
                    let at = cells.of_row[i] as usize * n_margins;
                    let levels = &cells.levels[at..at + n_margins];
                    let weights = &cells.weights[at..at + n_margins];
                    for ((s, &l), &w) in sums.iter_mut().zip(levels).zip(weights) {
                        s[l as usize] += xi / w;
                    }
                }
                None => {
                    for (m, s) in margins.iter().zip(sums.iter_mut()) {
                        s[m.codes[i] as usize] += xi / m.new_weights[i];
                    }
                }
            }
        };
        match support {
            Some(rows) => rows.iter().for_each(|&i| add(i as usize, x[i as usize])),
            None => x.iter().enumerate().for_each(|(i, &xi)| add(i, xi)),
        }
        // the sweeps on level vectors: corrections[m][l] accumulates sum / count of every step of margin m
        let mut corrections: Vec<Vec<f64>> =
            margins.iter().map(|m| vec![0.0; m.n_levels]).collect();
        for _ in 0..SWEEPS {
            for m in 0..margins.len() {
                for l in 0..margins[m].n_levels {
                    let count = self.counts[m][l];
                    if count == 0.0 {
                        continue;
                    }
                    let mut s = sums[m][l];
                    for (k, c_k) in corrections.iter().enumerate() {
                        let row = &self.cross[m][k][l * c_k.len()..(l + 1) * c_k.len()];
                        s -= row.iter().zip(c_k).map(|(g, c)| g * c).sum::<f64>();
                    }
                    corrections[m][l] += s / count;
                }
            }
        }
        corrections
    }
}

/// What row `i` loses: the sum over margins of its weight times its level's correction.
fn subtraction(margins: &[PostStratum], corrections: &[Vec<f64>], i: usize) -> f64 {
    let mut r = 0.0;
    for (m, c) in margins.iter().zip(corrections) {
        r += m.new_weights[i] * c[m.codes[i] as usize];
    }
    r
}

/// Domains whose unit totals one pass over the rows accumulates side by side.
const LANES: usize = 4;

/// Writes the accumulated totals of unit `p` of the lanes in use.
fn store(group: &mut [Vec<f64>], p: usize, acc: &[f64; LANES]) {
    for (l, &a) in acc.iter().enumerate() {
        if let Some(t) = group.get_mut(l) {
            t[p] = a;
        }
    }
}

impl Cells {
    /// The unit totals of the residuals `x[i] - per_cell[k][cell of i]` of every domain k (`x` counted for the
    /// rows of domain k only, +0.0 elsewhere, as in a buffer holding that domain alone): each unit's rows are
    /// added in row order starting from 0.0, so every total has the bits of the one-domain loop of
    /// [`LevelSpace::residual_unit_totals`]. A run of rows of one unit accumulates in registers, `LANES` domains
    /// at a time.
    fn unit_totals(
        &self,
        x: &[f64],
        per_cell: &[Vec<f64>],
        domain_of_row: &[u32],
        (unit_of_row, n_units): (&[u32], usize),
    ) -> Vec<Vec<f64>> {
        let mut totals = vec![vec![0.0; n_units]; per_cell.len()];
        for first in (0..per_cell.len()).step_by(LANES) {
            let lanes = (per_cell.len() - first).min(LANES);
            let group = &mut totals[first..first + lanes];
            let mut side_by_side = vec![[0.0f64; LANES]; self.n_cells];
            for (lane, subtractions) in per_cell[first..first + lanes].iter().enumerate() {
                for (slot, &s) in side_by_side.iter_mut().zip(subtractions) {
                    slot[lane] = s;
                }
            }
            // `acc` is only ever indexed by constants (loops over 0..LANES), so that it stays in registers
            let mut acc = [0.0f64; LANES];
            let mut current: Option<usize> = None;
            let rows = x
                .iter()
                .zip(&self.of_row)
                .zip(unit_of_row)
                .zip(domain_of_row);
            for (((&xi, &c), &u), &d) in rows {
                let u = u as usize;
                if current != Some(u) {
                    if let Some(p) = current {
                        store(group, p, &acc);
                    }
                    for (l, a) in acc.iter_mut().enumerate() {
                        *a = group.get(l).map_or(0.0, |t| t[u]);
                    }
                    current = Some(u);
                }
                let lane = d.wrapping_sub(first as u32);
                let s = &side_by_side[c as usize];
                for (l, a) in acc.iter_mut().enumerate() {
                    let xl = if lane == l as u32 { xi } else { 0.0 };
                    *a += xl - s[l];
                }
            }
            if let Some(p) = current {
                store(group, p, &acc);
            }
        }
        totals
    }

    /// [`subtraction`] of every cell.
    fn subtractions(&self, corrections: &[Vec<f64>]) -> Vec<f64> {
        let n_margins = corrections.len();
        (0..self.n_cells)
            .map(|c| {
                let at = c * n_margins..(c + 1) * n_margins;
                let mut r = 0.0;
                for ((&w, &l), corr) in self.weights[at.clone()]
                    .iter()
                    .zip(&self.levels[at])
                    .zip(corrections)
                {
                    r += w * corr[l as usize];
                }
                r
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three margins (2, 3 and 5 levels) over `n` rows with uneven weights per margin.
    fn margins(n: usize) -> Vec<PostStratum> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        [2usize, 3, 5]
            .iter()
            .map(|&levels| {
                let codes: Vec<u32> = (0..n).map(|_| (next() * levels as f64) as u32).collect();
                let new_weights: Vec<f64> = (0..n).map(|_| 10.0 + 90.0 * next()).collect();
                PostStratum {
                    codes,
                    old_weights: new_weights.clone(),
                    new_weights,
                    n_levels: levels,
                }
            })
            .collect()
    }

    fn max_relative_difference(a: &[f64], b: &[f64]) -> f64 {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / scale)
            .fold(0.0, f64::max)
    }

    #[test]
    fn level_space_equals_the_row_level_sweeps() {
        let n = 500;
        let r = RakeResidual::new(margins(n));
        assert!(r.level_space.is_some());
        // a domain's mean influence: zero outside the domain
        let x0: Vec<f64> = (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    0.0
                } else {
                    ((i * 7919) % 101) as f64 - 50.0
                }
            })
            .collect();
        let (mut fast, mut slow) = (x0.clone(), x0.clone());
        r.residualise(&mut fast);
        r.residualise_by_sweeps(&mut slow);
        assert!(fast != x0);
        let diff = max_relative_difference(&fast, &slow);
        assert!(diff < 1e-13, "{diff:e}");
    }

    #[test]
    fn empty_levels_and_few_rows_fall_back_or_agree() {
        // a level with no rows (code 2 of 4 unused) must not spread NaN
        let mut ms = margins(60);
        for c in ms[2].codes.iter_mut() {
            if *c == 2 {
                *c = 3;
            }
        }
        ms[2].n_levels = 6;
        let r = RakeResidual::new(ms);
        let x0: Vec<f64> = (0..60).map(|i| (i % 7) as f64 - 3.0).collect();
        let (mut fast, mut slow) = (x0.clone(), x0);
        r.residualise(&mut fast);
        r.residualise_by_sweeps(&mut slow);
        assert!(fast.iter().all(|v| v.is_finite()));
        let diff = max_relative_difference(&fast, &slow);
        assert!(diff < 1e-13, "{diff:e}");
        // more level pairs than row-margin cells: the row-level sweeps are used
        let small = RakeResidual::new(margins(3));
        assert!(small.level_space.is_none());
    }

    /// Margins whose weights repeat (a few base weights raked by level), so that rows share cells.
    fn repeating_margins(n: usize) -> Vec<PostStratum> {
        let base: Vec<f64> = (0..n).map(|i| 12.5 + ((i / 4) % 9) as f64 * 3.25).collect();
        let factors = [[1.1, 0.93], [0.87, 1.2], [1.05, 0.99]];
        let mut w = base;
        (0..3)
            .map(|m| {
                let codes: Vec<u32> = (0..n).map(|i| ((i * (m + 3)) / 5 % 2) as u32).collect();
                let old_weights = w.clone();
                w = w
                    .iter()
                    .zip(&codes)
                    .map(|(w, &c)| w * factors[m][c as usize])
                    .collect();
                PostStratum {
                    codes,
                    old_weights,
                    new_weights: w.clone(),
                    n_levels: 2,
                }
            })
            .collect()
    }

    #[test]
    fn cells_and_support_give_the_bits_of_the_row_by_row_subtraction() {
        let n = 400;
        let with_cells = RakeResidual::new(repeating_margins(n));
        let cells = with_cells
            .level_space
            .as_ref()
            .and_then(|ls| ls.cells.as_ref())
            .expect("repeated weights form cells");
        assert!(cells.n_cells < n / 4, "{}", cells.n_cells);
        // with cells, the record keeps one cell id per row and no per-row copy of the margins
        assert!(
            with_cells.margins.iter().all(|m| m.codes.is_empty()
                && m.new_weights.is_empty()
                && m.old_weights.is_empty())
        );
        let row_by_row = {
            let margins = repeating_margins(n);
            let mut level_space = LevelSpace::build(&margins);
            if let Some(ls) = level_space.as_mut() {
                ls.cells = None;
            }
            RakeResidual {
                margins,
                level_space,
            }
        };
        // a domain's influence values: non-zero on its rows only (one row of it exactly 0)
        let support: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 1).collect();
        let mut x0 = vec![0.0; n];
        for &i in &support {
            x0[i as usize] = ((i as usize * 7919) % 101) as f64 / 7.0 - 6.0;
        }
        x0[support[5] as usize] = 0.0;
        let (mut a, mut b, mut c) = (x0.clone(), x0.clone(), x0.clone());
        with_cells.residualise(&mut a);
        row_by_row.residualise(&mut b);
        with_cells.residualise_supported(&mut c, &support);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert!(a != x0);
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(bits(&c), bits(&b));
        let mut slow = x0.clone();
        row_by_row.residualise_by_sweeps(&mut slow);
        assert!(max_relative_difference(&a, &slow) < 1e-13);
        // PSU totals of the residuals, without residualising in place, with and without cells
        let unit_of_row: Vec<u32> = (0..n as u32).map(|i| (i * 7 / 3) % 37).collect();
        let mut expected = vec![0.0; 37];
        for (&u, &v) in unit_of_row.iter().zip(&b) {
            expected[u as usize] += v;
        }
        for r in [&with_cells, &row_by_row] {
            let totals = r
                .residual_unit_totals(&x0, &support, &unit_of_row, 37)
                .expect("level space");
            assert_eq!(bits(&totals), bits(&expected));
        }
    }

    #[test]
    fn disjoint_domains_in_one_pass_give_the_bits_of_each_domain_alone() {
        let n = 400;
        let r = RakeResidual::new(repeating_margins(n));
        // units in runs (sorted) and scattered; 1, 3 and 6 domains (two groups of lanes), some rows in none
        let sorted: Vec<u32> = (0..n as u32).map(|i| i / 9).collect();
        let scattered: Vec<u32> = (0..n as u32).map(|i| (i * 7 / 3) % 37).collect();
        for (unit_of_row, n_units) in [(&sorted, 45usize), (&scattered, 37)] {
            for n_domains in [1u32, 3, 6] {
                let domain_of_row: Vec<u32> = (0..n as u32)
                    .map(|i| {
                        if i % 11 == 5 {
                            u32::MAX
                        } else {
                            (i * 13 / 7) % n_domains
                        }
                    })
                    .collect();
                let supports: Vec<Vec<u32>> = (0..n_domains)
                    .map(|d| {
                        (0..n as u32)
                            .filter(|&i| domain_of_row[i as usize] == d)
                            .collect()
                    })
                    .collect();
                let value = |i: usize| ((i * 7919) % 101) as f64 / 7.0 - 6.0;
                let mut x = vec![0.0; n];
                for s in &supports {
                    for &i in s {
                        x[i as usize] = value(i as usize);
                    }
                }
                let refs: Vec<&[u32]> = supports.iter().map(Vec::as_slice).collect();
                let all = r
                    .residual_unit_totals_disjoint(
                        &x,
                        &refs,
                        &domain_of_row,
                        (unit_of_row, n_units),
                    )
                    .expect("cells");
                assert_eq!(all.len(), supports.len());
                for (s, got) in supports.iter().zip(&all) {
                    let mut alone = vec![0.0; n];
                    for &i in s {
                        alone[i as usize] = value(i as usize);
                    }
                    let expected = r
                        .residual_unit_totals(&alone, s, unit_of_row, n_units)
                        .expect("level space");
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(got), bits(&expected));
                }
            }
        }
    }
}
