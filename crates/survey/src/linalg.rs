//! Small dense linear algebra that the replicate and calibration code needs, written to follow the routines R
//! calls so that results agree with R's `survey` to rounding:
//! - [`Qr`]: Householder QR with LINPACK `dqrdc2`'s limited column pivoting and rank rule (R's `qr()`), and the
//!   `dqrsl` residual (R's `qr.resid()`);
//! - [`solve`]: LU with partial pivoting and R's "computationally singular" check (R's `solve()`);
//! - [`pseudo_inverse`]: Moore-Penrose inverse of a symmetric matrix with `MASS::ginv`'s tolerance rule.
//!
//! Matrices are column-major `Vec<f64>` (column `j` is `data[j * n..(j + 1) * n]`), like R.

use crate::SurveyError;

/// A QR decomposition as R's `qr(x, tol)` (LINPACK `dqrdc2`) stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Qr {
    n: usize,
    p: usize,
    /// Householder vectors below the diagonal, R above it (column-major, n x p, pivoted column order).
    qr: Vec<f64>,
    qraux: Vec<f64>,
    /// `pivot[j]` = original index of the column now in position `j`.
    pivot: Vec<usize>,
    rank: usize,
}

fn norm2(x: &[f64]) -> f64 {
    // BLAS dnrm2 scales to avoid overflow; the plain formula agrees to rounding for survey-sized values.
    let scale = x.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let ssq: f64 = x.iter().map(|v| (v / scale) * (v / scale)).sum();
    scale * ssq.sqrt()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Qr {
    /// Decomposes the n x p column-major matrix `data`; columns whose norm falls below `tol` times their original
    /// norm are moved to the end and excluded from the rank (R's default `tol` is 1e-7).
    pub fn new(n: usize, p: usize, mut data: Vec<f64>, tol: f64) -> Result<Self, SurveyError> {
        if data.len() != n * p {
            return Err(SurveyError::Invalid(format!(
                "QR: matrix has {} values, expected {n} x {p}",
                data.len()
            )));
        }
        if data.iter().any(|v| !v.is_finite()) {
            return Err(SurveyError::Invalid(
                "QR: matrix holds a missing or infinite value".into(),
            ));
        }
        let mut qraux: Vec<f64> = (0..p).map(|j| norm2(&data[j * n..(j + 1) * n])).collect();
        let mut work1 = qraux.clone();
        let mut work2: Vec<f64> = qraux
            .iter()
            .map(|&v| if v == 0.0 { 1.0 } else { v })
            .collect();
        let mut pivot: Vec<usize> = (0..p).collect();
        let lup = n.min(p);
        let mut k = p + 1; // 1-based as in LINPACK
        for l in 0..lup {
            // Cycle negligible columns to the end.
            while l + 1 < k && qraux[l] < work2[l] * tol {
                let moved: Vec<f64> = data[l * n..(l + 1) * n].to_vec();
                data.copy_within((l + 1) * n..p * n, l * n);
                data[(p - 1) * n..p * n].copy_from_slice(&moved);
                pivot[l..].rotate_left(1);
                qraux[l..].rotate_left(1);
                work1[l..].rotate_left(1);
                work2[l..].rotate_left(1);
                k -= 1;
            }
            if l + 1 == n {
                break;
            }
            let col_l = l * n;
            let mut nrmxl = norm2(&data[col_l + l..col_l + n]);
            if nrmxl == 0.0 {
                continue;
            }
            if data[col_l + l] != 0.0 {
                nrmxl = nrmxl.abs().copysign(data[col_l + l]);
            }
            for v in &mut data[col_l + l..col_l + n] {
                *v *= 1.0 / nrmxl;
            }
            data[col_l + l] += 1.0;
            for j in l + 1..p {
                let (left, right) = data.split_at_mut(j * n);
                let hv = &left[col_l + l..col_l + n];
                let cj = &mut right[l..n];
                let t = -dot(hv, cj) / hv[0];
                for (c, h) in cj.iter_mut().zip(hv) {
                    *c += t * h;
                }
                if qraux[j] != 0.0 {
                    let tt = (1.0 - (cj[0].abs() / qraux[j]).powi(2)).max(0.0);
                    if tt.abs() < 1e-6 {
                        qraux[j] = norm2(&cj[1..]);
                        work1[j] = qraux[j];
                    } else {
                        qraux[j] *= tt.sqrt();
                    }
                }
            }
            qraux[l] = data[col_l + l];
            data[col_l + l] = -nrmxl;
        }
        let rank = (k - 1).min(n);
        let _ = work1;
        Ok(Self {
            n,
            p,
            qr: data,
            qraux,
            pivot,
            rank,
        })
    }

    pub fn rank(&self) -> usize {
        self.rank
    }

    pub fn n_rows(&self) -> usize {
        self.n
    }

    pub fn n_cols(&self) -> usize {
        self.p
    }

    /// Original column indices in pivoted order (R's `qr$pivot`, 0-based).
    pub fn pivot(&self) -> &[usize] {
        &self.pivot
    }

    fn apply_householder(&self, j: usize, y: &mut [f64]) {
        if self.qraux[j] == 0.0 {
            return;
        }
        let col = &self.qr[j * self.n..(j + 1) * self.n];
        // The stored diagonal holds R; the Householder vector's first element is in qraux.
        let head = self.qraux[j];
        let mut t = head * y[j] + dot(&col[j + 1..], &y[j + 1..]);
        t = -t / head;
        y[j] += t * head;
        for (yi, ci) in y[j + 1..].iter_mut().zip(&col[j + 1..]) {
            *yi += t * ci;
        }
    }

    /// Replaces `y` (length n) by its residual from the least-squares projection on the first `rank` pivoted
    /// columns: R's `qr.resid(qr, y)`.
    pub fn residual_in_place(&self, y: &mut [f64]) {
        let k = self.rank;
        if k == 0 || y.len() != self.n {
            return;
        }
        let ju = k.min(self.n - 1);
        for j in 0..ju {
            self.apply_householder(j, y);
        }
        for v in &mut y[..k.min(self.n)] {
            *v = 0.0;
        }
        for j in (0..ju).rev() {
            self.apply_householder(j, y);
        }
    }
}

/// Solves `a x = b` for square column-major `a` (p x p) by LU with partial pivoting, as R's `solve(a, b)`; an
/// error when the reciprocal 1-norm condition number is below machine epsilon (R: "system is computationally
/// singular").
pub fn solve(p: usize, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurveyError> {
    if a.len() != p * p || b.len() != p {
        return Err(SurveyError::Invalid(format!(
            "solve: expected a {p} x {p} system"
        )));
    }
    let inverse = invert(p, a)?;
    let norm1 = |m: &[f64]| {
        (0..p)
            .map(|j| m[j * p..(j + 1) * p].iter().map(|v| v.abs()).sum::<f64>())
            .fold(0.0, f64::max)
    };
    let rcond = 1.0 / (norm1(a) * norm1(&inverse));
    if rcond.is_nan() || rcond < f64::EPSILON {
        return Err(SurveyError::Invalid(format!(
            "calibration system is computationally singular: reciprocal condition number = {rcond:e} (collinear or empty calibration variables)"
        )));
    }
    let (lu, perm) = lu_decompose(p, a)?;
    Ok(lu_solve(p, &lu, &perm, b))
}

fn lu_decompose(p: usize, a: &[f64]) -> Result<(Vec<f64>, Vec<usize>), SurveyError> {
    let mut lu = a.to_vec();
    let mut perm: Vec<usize> = (0..p).collect();
    for c in 0..p {
        let (mut best, mut best_abs) = (c, lu[c * p + c].abs());
        for r in c + 1..p {
            let v = lu[c * p + r].abs();
            if v > best_abs {
                best = r;
                best_abs = v;
            }
        }
        if best_abs == 0.0 || !best_abs.is_finite() {
            return Err(SurveyError::Invalid(
                "calibration system is exactly singular (collinear or empty calibration variables)"
                    .into(),
            ));
        }
        if best != c {
            for j in 0..p {
                lu.swap(j * p + c, j * p + best);
            }
            perm.swap(c, best);
        }
        let pivot = lu[c * p + c];
        for r in c + 1..p {
            let f = lu[c * p + r] / pivot;
            lu[c * p + r] = f;
            for j in c + 1..p {
                lu[j * p + r] -= f * lu[j * p + c];
            }
        }
    }
    Ok((lu, perm))
}

fn lu_solve(p: usize, lu: &[f64], perm: &[usize], b: &[f64]) -> Vec<f64> {
    let mut x: Vec<f64> = perm.iter().map(|&i| b[i]).collect();
    for r in 0..p {
        for c in 0..r {
            x[r] -= lu[c * p + r] * x[c];
        }
    }
    for r in (0..p).rev() {
        for c in r + 1..p {
            x[r] -= lu[c * p + r] * x[c];
        }
        x[r] /= lu[r * p + r];
    }
    x
}

fn invert(p: usize, a: &[f64]) -> Result<Vec<f64>, SurveyError> {
    let (lu, perm) = lu_decompose(p, a)?;
    let mut inv = vec![0.0; p * p];
    for j in 0..p {
        let mut e = vec![0.0; p];
        e[j] = 1.0;
        let col = lu_solve(p, &lu, &perm, &e);
        inv[j * p..(j + 1) * p].copy_from_slice(&col);
    }
    Ok(inv)
}

/// Moore-Penrose inverse of a symmetric p x p matrix, keeping singular values above `tol` times the largest
/// (`MASS::ginv(x, tol)`; for a symmetric matrix the singular values are the absolute eigenvalues). Eigenvalues
/// come from the cyclic Jacobi method.
pub fn pseudo_inverse(p: usize, a: &[f64], tol: f64) -> Result<Vec<f64>, SurveyError> {
    if a.len() != p * p {
        return Err(SurveyError::Invalid(format!(
            "pseudo-inverse: expected a {p} x {p} matrix"
        )));
    }
    if a.iter().any(|v| !v.is_finite()) {
        return Err(SurveyError::Invalid(
            "pseudo-inverse: matrix holds a missing or infinite value".into(),
        ));
    }
    let (values, vectors) = symmetric_eigen(p, a);
    let largest = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let cut = (tol * largest).max(0.0);
    let mut out = vec![0.0; p * p];
    for (k, &lambda) in values.iter().enumerate() {
        if lambda.abs() > cut {
            let v = &vectors[k * p..(k + 1) * p];
            for j in 0..p {
                for i in 0..p {
                    out[j * p + i] += v[i] * v[j] / lambda;
                }
            }
        }
    }
    Ok(out)
}

/// Eigenvalues and eigenvectors (column k of the returned matrix) of a symmetric matrix by cyclic Jacobi sweeps.
fn symmetric_eigen(p: usize, a: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    // Symmetrise: the caller's matrix is symmetric up to rounding.
    for i in 0..p {
        for j in 0..i {
            let avg = 0.5 * (m[j * p + i] + m[i * p + j]);
            m[j * p + i] = avg;
            m[i * p + j] = avg;
        }
    }
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..p)
            .flat_map(|j| (0..p).filter(move |&i| i != j).map(move |i| (i, j)))
            .map(|(i, j)| m[j * p + i].powi(2))
            .sum();
        let diag: f64 = (0..p).map(|i| m[i * p + i].powi(2)).sum();
        if off <= f64::EPSILON * f64::EPSILON * diag || off == 0.0 {
            break;
        }
        for q in 1..p {
            for r in 0..q {
                let apq = m[q * p + r];
                if apq == 0.0 {
                    continue;
                }
                let app = m[r * p + r];
                let aqq = m[q * p + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..p {
                    let mkr = m[r * p + k];
                    let mkq = m[q * p + k];
                    m[r * p + k] = c * mkr - s * mkq;
                    m[q * p + k] = s * mkr + c * mkq;
                }
                for k in 0..p {
                    let mrk = m[k * p + r];
                    let mqk = m[k * p + q];
                    m[k * p + r] = c * mrk - s * mqk;
                    m[k * p + q] = s * mrk + c * mqk;
                }
                for k in 0..p {
                    let vkr = v[r * p + k];
                    let vkq = v[q * p + k];
                    v[r * p + k] = c * vkr - s * vkq;
                    v[q * p + k] = s * vkr + c * vkq;
                }
            }
        }
    }
    let values = (0..p).map(|i| m[i * p + i]).collect();
    (values, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residual_is_orthogonal_to_columns_and_rank_detects_collinearity() {
        // Columns: intercept, x, 2x (collinear with x).
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut data = vec![1.0; 5];
        data.extend_from_slice(&x);
        data.extend(x.iter().map(|v| 2.0 * v));
        let qr = Qr::new(5, 3, data, 1e-7).unwrap();
        assert_eq!(qr.rank(), 2);
        assert_eq!(qr.pivot(), &[0, 1, 2]);
        let mut y = vec![1.0, 3.0, 2.0, 5.0, 4.0];
        qr.residual_in_place(&mut y);
        let s: f64 = y.iter().sum();
        let sx: f64 = y.iter().zip(&x).map(|(a, b)| a * b).sum();
        assert!(s.abs() < 1e-12 && sx.abs() < 1e-12, "{y:?}");
        // Least squares of (1,3,2,5,4) on (1, x): slope 0.8, intercept 0.6.
        let fitted: Vec<f64> = x.iter().map(|v| 0.6 + 0.8 * v).collect();
        for ((r, f), obs) in y.iter().zip(&fitted).zip([1.0, 3.0, 2.0, 5.0, 4.0]) {
            assert!((r - (obs - f)).abs() < 1e-12);
        }
    }

    #[test]
    fn negligible_column_is_pivoted_to_the_end() {
        let data = vec![0.0, 0.0, 0.0, 1.0, 2.0, 3.0];
        let qr = Qr::new(3, 2, data, 1e-7).unwrap();
        assert_eq!(qr.rank(), 1);
        assert_eq!(qr.pivot(), &[1, 0]);
    }

    #[test]
    fn solve_and_singularity() {
        let a = [4.0, 2.0, 1.0, 3.0]; // [[4,1],[2,3]] column-major
        let x = solve(2, &a, &[1.0, 2.0]).unwrap();
        assert!((4.0 * x[0] + 1.0 * x[1] - 1.0).abs() < 1e-14);
        assert!((2.0 * x[0] + 3.0 * x[1] - 2.0).abs() < 1e-14);
        let err = solve(2, &[1.0, 2.0, 2.0, 4.0], &[1.0, 1.0]).unwrap_err();
        assert!(err.to_string().contains("exactly singular"), "{err}");
    }

    #[test]
    fn pseudo_inverse_of_full_rank_is_inverse_and_drops_null_space() {
        let a = [2.0, 1.0, 1.0, 3.0];
        let g = pseudo_inverse(2, &a, 1e-12).unwrap();
        // inverse of [[2,1],[1,3]] is [[3,-1],[-1,2]]/5
        let expect = [0.6, -0.2, -0.2, 0.4];
        for (a, b) in g.iter().zip(expect) {
            assert!((a - b).abs() < 1e-14);
        }
        let singular = [1.0, 1.0, 1.0, 1.0];
        let g = pseudo_inverse(2, &singular, 1e-12).unwrap();
        for v in g {
            assert!((v - 0.25).abs() < 1e-14);
        }
    }
}
