//! R's `spline(x, y, n, method = "fmm")` (Forsythe, Malcolm and Moler cubic spline on an even grid) and
//! `approx(x, y, xout)` (linear interpolation, NA outside the range), as `confint_profile` uses them.

/// Sort pairs by x and average the y of tied x (R's `regularize.values(ties = mean)`).
fn regularize(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .map(|(&a, &b)| (a, b))
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .collect();
    pairs.sort_by(|p, q| p.0.total_cmp(&q.0));
    let (mut xs, mut ys): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        let mut s = 0.0;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            s += pairs[j].1;
            j += 1;
        }
        xs.push(pairs[i].0);
        ys.push(s / (j - i) as f64);
        i = j;
    }
    (xs, ys)
}

/// Coefficients (b, c, d) of the fmm spline through (x, y), x strictly increasing.
fn fmm_coef(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = x.len();
    let (mut b, mut c, mut d) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    if n < 2 {
        return (b, c, d);
    }
    if n < 3 {
        let t = (y[1] - y[0]) / (x[1] - x[0]);
        b[0] = t;
        b[1] = t;
        return (b, c, d);
    }
    let nm1 = n - 1;
    d[0] = x[1] - x[0];
    c[1] = (y[1] - y[0]) / d[0];
    for i in 1..nm1 {
        d[i] = x[i + 1] - x[i];
        b[i] = 2.0 * (d[i - 1] + d[i]);
        c[i + 1] = (y[i + 1] - y[i]) / d[i];
        c[i] = c[i + 1] - c[i];
    }
    b[0] = -d[0];
    b[nm1] = -d[n - 2];
    c[0] = 0.0;
    c[nm1] = 0.0;
    if n > 3 {
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0]);
        c[nm1] = c[n - 2] / (x[nm1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4]);
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0]);
        c[nm1] = -c[nm1] * d[n - 2] * d[n - 2] / (x[nm1] - x[n - 4]);
    }
    for i in 1..=nm1 {
        let t = d[i - 1] / b[i - 1];
        b[i] -= t * d[i - 1];
        c[i] -= t * c[i - 1];
    }
    c[nm1] /= b[nm1];
    for i in (0..nm1).rev() {
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i];
    }
    b[nm1] = (y[nm1] - y[n - 2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[nm1]);
    for i in 0..nm1 {
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i]);
        d[i] = (c[i + 1] - c[i]) / d[i];
        c[i] *= 3.0;
    }
    c[nm1] *= 3.0;
    d[nm1] = d[n - 2];
    (b, c, d)
}

/// `spline(x, y, n = n_out)`: the grid `seq(min(x), max(x), length.out = n_out)` and the spline values there.
pub(crate) fn fmm_spline_grid(x: &[f64], y: &[f64], n_out: usize) -> (Vec<f64>, Vec<f64>) {
    let (x, y) = regularize(x, y);
    if x.is_empty() || n_out == 0 {
        return (Vec::new(), Vec::new());
    }
    let (b, c, d) = fmm_coef(&x, &y);
    let (lo, hi) = (x[0], x[x.len() - 1]);
    let by = if n_out > 1 {
        (hi - lo) / (n_out - 1) as f64
    } else {
        0.0
    };
    let grid: Vec<f64> = (0..n_out)
        .map(|i| {
            if i + 1 == n_out {
                hi
            } else {
                lo + i as f64 * by
            }
        })
        .collect();
    let values = grid
        .iter()
        .map(|&u| {
            // interval i with x[i] <= u (the first for u < x[0])
            let i = match x.partition_point(|&v| v <= u) {
                0 => 0,
                k => k - 1,
            };
            let dx = u - x[i];
            y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))
        })
        .collect();
    (grid, values)
}

/// `approx(x, y, xout = v)$y` (linear, NaN outside the range of x).
pub(crate) fn approx(x: &[f64], y: &[f64], v: f64) -> f64 {
    let (x, y) = regularize(x, y);
    if x.is_empty() || v.is_nan() || v < x[0] || v > x[x.len() - 1] {
        return f64::NAN;
    }
    let j = x.partition_point(|&a| a <= v);
    if j == x.len() {
        return y[x.len() - 1];
    }
    let i = j - 1;
    if x[i] == v {
        return y[i];
    }
    y[i] + (y[j] - y[i]) * (v - x[i]) / (x[j] - x[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spline_reproduces_cubic() {
        // fmm end conditions make the spline exact for a cubic
        let x: Vec<f64> = (0..7).map(|i| i as f64 * 0.5).collect();
        let y: Vec<f64> = x.iter().map(|v| v * v * v - 2.0 * v + 1.0).collect();
        let (g, s) = fmm_spline_grid(&x, &y, 21);
        for (u, v) in g.iter().zip(&s) {
            assert!((v - (u * u * u - 2.0 * u + 1.0)).abs() < 1e-12);
        }
        assert!((approx(&[0.0, 1.0, 2.0], &[0.0, 10.0, 30.0], 1.5) - 20.0).abs() < 1e-15);
        assert!(approx(&[0.0, 1.0], &[0.0, 1.0], 2.0).is_nan());
    }
}
