//! Exact rank of the PSU x replicate multiplier matrix of a replicate design built from a design (jackknife,
//! BRR, Fay), without forming it: every replicate multiplies all PSUs by a default except a few listed ones, so
//! the matrix is `1 d' + E` with `E` block-diagonal (blocks = PSUs linked by appearing in one replicate's list,
//! e.g. the strata of a JKn design). rank(1 d' + E) follows from the blocks: rank(E), whether 1 lies in col(E),
//! whether d lies in row(E), and d' E^+ 1. This gives R's `degf` (rank - 1) for designs with thousands of PSUs,
//! where R's `qr()` of the full matrix is out of reach.

use crate::replicate::PsuMultipliers;

/// Relative tolerance for "lies in the span" and for dropping dependent columns.
const TOL: f64 = 1e-9;

/// Orthonormal basis of the span of `cols` (modified Gram-Schmidt, twice), the indices of the columns kept and
/// the upper-triangular coefficients `r[j][k]` (column kept j in terms of basis k <= j).
struct Basis {
    q: Vec<Vec<f64>>,
    kept: Vec<usize>,
    r: Vec<Vec<f64>>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn basis(cols: &[Vec<f64>]) -> Basis {
    let mut q: Vec<Vec<f64>> = Vec::new();
    let mut kept = Vec::new();
    let mut r: Vec<Vec<f64>> = Vec::new();
    for (j, c) in cols.iter().enumerate() {
        let original = norm(c);
        if original == 0.0 {
            continue;
        }
        let mut v = c.clone();
        let mut coef = vec![0.0; q.len()];
        for _ in 0..2 {
            for (k, qk) in q.iter().enumerate() {
                let a = dot(qk, &v);
                coef[k] += a;
                for (vi, qi) in v.iter_mut().zip(qk) {
                    *vi -= a * qi;
                }
            }
        }
        let rest = norm(&v);
        if rest > TOL * original {
            for vi in &mut v {
                *vi /= rest;
            }
            coef.push(rest);
            q.push(v);
            kept.push(j);
            r.push(coef);
        }
    }
    Basis { q, kept, r }
}

impl Basis {
    /// Residual norm of `y` after projection, relative to |y| (0 when y = 0).
    fn relative_residual(&self, y: &[f64]) -> f64 {
        let n = norm(y);
        if n == 0.0 {
            return 0.0;
        }
        let mut v = y.to_vec();
        for _ in 0..2 {
            for qk in &self.q {
                let a = dot(qk, &v);
                for (vi, qi) in v.iter_mut().zip(qk) {
                    *vi -= a * qi;
                }
            }
        }
        norm(&v) / n
    }

    /// A solution `c` (over all columns, zeros for dropped ones) of `E c = y` for `y` in the span.
    fn solve(&self, y: &[f64], n_cols: usize) -> Vec<f64> {
        let b: Vec<f64> = self.q.iter().map(|qk| dot(qk, y)).collect();
        let m = self.q.len();
        // kept column j = sum_{k<=j} r[j][k] q_k, i.e. E_kept = Q R with R[k][j] = r[j][k]; solve R z = b
        let mut z = vec![0.0; m];
        for j in (0..m).rev() {
            let mut s = b[j];
            for (l, zl) in z.iter().enumerate().skip(j + 1) {
                s -= self.r[l][j] * zl;
            }
            z[j] = s / self.r[j][j];
        }
        let mut c = vec![0.0; n_cols];
        for (j, &col) in self.kept.iter().enumerate() {
            c[col] = z[j];
        }
        c
    }
}

/// Rank of the matrix with rows = the PSUs in `present` (indices into the design's PSUs) and one column per
/// replicate, entry = the replicate's multiplier of that PSU.
pub(crate) fn multiplier_rank(
    present: &[usize],
    n_psu: usize,
    multipliers: &[PsuMultipliers],
) -> usize {
    let mut row_of = vec![usize::MAX; n_psu];
    for (k, &p) in present.iter().enumerate() {
        if p < n_psu {
            row_of[p] = k;
        }
    }
    // union-find over present PSUs linked through a replicate's list
    let mut parent: Vec<usize> = (0..present.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let listed_rows = |m: &PsuMultipliers| -> Vec<usize> {
        m.except
            .iter()
            .filter(|(p, _)| *p < n_psu && row_of[*p] != usize::MAX)
            .map(|(p, _)| row_of[*p])
            .collect()
    };
    for m in multipliers {
        let rows = listed_rows(m);
        for w in rows.windows(2) {
            let (a, b) = (find(&mut parent, w[0]), find(&mut parent, w[1]));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    // blocks: their rows and replicates
    let mut block_of_root = vec![usize::MAX; present.len()];
    let mut block_rows: Vec<Vec<usize>> = Vec::new();
    let mut in_block = vec![false; present.len()];
    let mut block_reps: Vec<Vec<usize>> = Vec::new();
    let mut free_d = false; // a replicate that lists no present PSU: column d_r 1, E column 0
    for (r, m) in multipliers.iter().enumerate() {
        let rows = listed_rows(m);
        let Some(&first) = rows.first() else {
            free_d |= m.default != 0.0;
            continue;
        };
        let root = find(&mut parent, first);
        if block_of_root[root] == usize::MAX {
            block_of_root[root] = block_rows.len();
            block_rows.push(Vec::new());
            block_reps.push(Vec::new());
        }
        block_reps[block_of_root[root]].push(r);
    }
    for (k, inside) in in_block.iter_mut().enumerate() {
        let root = find(&mut parent, k);
        if block_of_root[root] != usize::MAX {
            block_rows[block_of_root[root]].push(k);
            *inside = true;
        }
    }
    let rows_outside_blocks = in_block.iter().any(|b| !b);
    let (mut rank_e, mut one_in_col_e, mut d_in_row_e, mut d_e_plus_one) =
        (0usize, !rows_outside_blocks, !free_d, 0.0);
    for (rows, reps) in block_rows.iter().zip(&block_reps) {
        // E_k: rows x reps, entry = multiplier - default
        let local: Vec<usize> = {
            let mut l = vec![usize::MAX; present.len()];
            for (i, &row) in rows.iter().enumerate() {
                l[row] = i;
            }
            l
        };
        let cols: Vec<Vec<f64>> = reps
            .iter()
            .map(|&r| {
                let m = &multipliers[r];
                let mut c = vec![0.0; rows.len()];
                for &(p, v) in &m.except {
                    if p < n_psu && row_of[p] != usize::MAX && local[row_of[p]] != usize::MAX {
                        c[local[row_of[p]]] = v - m.default;
                    }
                }
                c
            })
            .collect();
        let col_basis = basis(&cols);
        rank_e += col_basis.q.len();
        let ones = vec![1.0; rows.len()];
        let one_in = col_basis.relative_residual(&ones) <= TOL.sqrt();
        one_in_col_e &= one_in;
        // row space of E_k = column space of E_k'
        let rows_t: Vec<Vec<f64>> = (0..rows.len())
            .map(|i| cols.iter().map(|c| c[i]).collect())
            .collect();
        let d_k: Vec<f64> = reps.iter().map(|&r| multipliers[r].default).collect();
        let d_in = basis(&rows_t).relative_residual(&d_k) <= TOL.sqrt();
        d_in_row_e &= d_in;
        if one_in && d_in {
            let c = col_basis.solve(&ones, reps.len());
            d_e_plus_one += dot(&d_k, &c);
        }
    }
    // rank(1 d' + E): dim V = rank([1 | E]); equal to it iff 1 lies in col(1 d' + E)
    let dim_v = rank_e + usize::from(!one_in_col_e);
    let one_in_col_m = !d_in_row_e || (one_in_col_e && (d_e_plus_one + 1.0).abs() > TOL.sqrt());
    if one_in_col_m { dim_v } else { dim_v - 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense_rank(present: &[usize], n_psu: usize, m: &[PsuMultipliers]) -> usize {
        let cols: Vec<Vec<f64>> = m
            .iter()
            .map(|x| {
                let d = x.dense(n_psu);
                present.iter().map(|&p| d[p]).collect()
            })
            .collect();
        basis(&cols).q.len()
    }

    fn jkn(strata: &[usize]) -> Vec<PsuMultipliers> {
        // one replicate per PSU: the PSU gets 0, the others of its stratum n_h/(n_h-1)
        let mut out = Vec::new();
        for (p, &h) in strata.iter().enumerate() {
            let members: Vec<usize> = (0..strata.len()).filter(|&q| strata[q] == h).collect();
            let n_h = members.len() as f64;
            if members.len() < 2 {
                continue;
            }
            let except = members
                .iter()
                .map(|&q| (q, if q == p { 0.0 } else { n_h / (n_h - 1.0) }))
                .collect();
            out.push(PsuMultipliers {
                default: 1.0,
                except,
            });
        }
        out
    }

    #[test]
    fn block_rank_equals_dense_rank() {
        // JKn with 3 strata (sizes 3, 4, 1 singleton without replicate)
        let strata = [0, 0, 0, 1, 1, 1, 1, 2];
        let m = jkn(&strata);
        let all: Vec<usize> = (0..8).collect();
        assert_eq!(multiplier_rank(&all, 8, &m), dense_rank(&all, 8, &m));
        // a domain: some PSUs only
        let some = [0, 2, 3, 7];
        assert_eq!(multiplier_rank(&some, 8, &m), dense_rank(&some, 8, &m));
        // JK1: default n/(n-1), the deleted PSU 0
        let n = 6;
        let jk1: Vec<PsuMultipliers> = (0..n)
            .map(|p| PsuMultipliers {
                default: n as f64 / (n as f64 - 1.0),
                except: vec![(p, 0.0)],
            })
            .collect();
        let all6: Vec<usize> = (0..n).collect();
        assert_eq!(multiplier_rank(&all6, n, &jk1), dense_rank(&all6, n, &jk1));
        assert_eq!(
            multiplier_rank(&[1, 4], n, &jk1),
            dense_rank(&[1, 4], n, &jk1)
        );
        // lonely adjust: an extra replicate zeroing the singleton and scaling every other PSU by 1.5
        let mut adj = jkn(&strata);
        adj.push(PsuMultipliers {
            default: 1.5,
            except: vec![(7, 0.0)],
        });
        assert_eq!(multiplier_rank(&all, 8, &adj), dense_rank(&all, 8, &adj));
    }
}
