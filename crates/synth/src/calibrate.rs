//! Calibration of the item cut points on the finite population, so that the realised population shares equal the
//! configured targets (exactly when the whole population is the calibration set, which it is up to
//! [`CALIBRATION_CAP`] children; above that a systematic subsample of that size is used). A target is a share of
//! everyone in the column's universe: `dont_know` / `refused` answers come out of the last category.
//!
//! Columns are calibrated in schema order, because a follow-up's universe depends on the answers before it. The
//! headline items (the composite `ocsea_clear_any`) are calibrated first and together: their common loading on the
//! latent risk is solved by bisection so that the share with any of them = `yes` meets `clear_examples_any`
//! (higher loading = more overlap = smaller union). When the target is out of reach the nearest reachable value
//! is used; `truth.json` always reports the realised value.

use std::collections::BTreeSet;

use crate::cell::Cell;
use crate::error::SynthError;
use crate::items::{Child, Gen, TablePlan, loading_for_correlation};

/// Largest calibration set (children).
pub const CALIBRATION_CAP: usize = 30_000;

/// The value below which a share `p` of `xs` lies (midpoint between neighbouring order statistics).
/// `xs` is reordered. Returns `None` for an empty slice.
pub fn cut_point(xs: &mut [f64], p: f64) -> Option<f64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let idx = (p * n as f64).round() as usize;
    if idx == 0 {
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        return Some(min - 1.0);
    }
    if idx >= n {
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        return Some(max + 1.0);
    }
    let (left, upper, _) = xs.select_nth_unstable_by(idx, f64::total_cmp);
    let upper = *upper;
    let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lower + upper) / 2.0)
}

/// Per-child EA effects of a table, computed once per EA (children come grouped by EA).
fn effects_per_child(
    plan: &TablePlan,
    key: u64,
    children: &[Child],
) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut effects: Vec<Vec<f64>> = Vec::new();
    let mut index = Vec::with_capacity(children.len());
    let mut last_ea = None;
    for c in children {
        if last_ea != Some(c.ea) {
            effects.push(plan.ea_effects(key, c.ea));
            last_ea = Some(c.ea);
        }
        index.push(effects.len() - 1);
    }
    (effects, index)
}

/// Calibrates every categorical column of `plan` not in `fixed`, in schema order, on `children`.
pub fn calibrate_table(
    plan: &mut TablePlan,
    key: u64,
    children: &[Child],
    fixed: &BTreeSet<usize>,
) {
    let nf = plan.fields.len();
    let (effects, effect_of) = effects_per_child(plan, key, children);
    let mut rows = vec![Cell::Blank; children.len() * nf];
    let mut xs = Vec::with_capacity(children.len());
    // Universe of the current column per child, evaluated once for both passes over the children.
    let mut inside = vec![true; children.len()];
    for j in 0..nf {
        let everyone = plan.fields[j].universe.is_everyone();
        if !everyone {
            for (ci, flag) in inside.iter_mut().enumerate() {
                *flag = plan.fields[j].universe.eval(&rows[ci * nf..(ci + 1) * nf]);
            }
        }
        if let Gen::Categorical(c) = &plan.fields[j].generator
            && !fixed.contains(&j)
        {
            xs.clear();
            let mut in_universe = 0usize;
            for (ci, child) in children.iter().enumerate() {
                if everyone || inside[ci] {
                    in_universe += 1;
                    if plan.nonresponse(j, child).is_none() {
                        xs.push(plan.latent(j, c, child, effects[effect_of[ci]][j]));
                    }
                }
            }
            // Targets are shares of everyone in the universe; nonresponse comes out of the last category.
            let inflate = in_universe as f64 / xs.len().max(1) as f64;
            let mut cum = 0.0;
            let mut thresholds = Vec::with_capacity(c.shares.len().saturating_sub(1));
            for share in &c.shares[..c.shares.len().saturating_sub(1)] {
                cum += share;
                thresholds.push(cut_point(&mut xs, (cum * inflate).min(1.0)));
            }
            if let Gen::Categorical(c) = &mut plan.fields[j].generator
                && thresholds.iter().all(Option::is_some)
            {
                c.thresholds = thresholds.into_iter().flatten().collect();
            }
        }
        for (ci, child) in children.iter().enumerate() {
            if !(everyone || inside[ci]) {
                rows[ci * nf + j] = plan.outside_universe(j);
                continue;
            }
            let cell = plan.cell(
                j,
                child,
                &rows[ci * nf..(ci + 1) * nf],
                effects[effect_of[ci]][j],
                &[],
            );
            rows[ci * nf + j] = cell;
        }
    }
}

/// Calibrates the headline items of the child table jointly (see the module docs). Returns their indices.
pub fn calibrate_headline(
    plan: &mut TablePlan,
    children: &[Child],
    headline: &[String],
    target_any: Option<f64>,
    default_correlation: f64,
    iso3: &str,
) -> Result<BTreeSet<usize>, SynthError> {
    let herr = |message: String| SynthError::Setting {
        iso3: iso3.to_string(),
        key: "headline_items".into(),
        message,
    };
    let mut items = Vec::new();
    for name in headline {
        let j = plan
            .field_index(name)
            .ok_or_else(|| herr(format!("`{name}` is not a column of `{}`", plan.name)))?;
        let f = &plan.fields[j];
        let ok = matches!(&f.generator, Gen::Categorical(c) if c.shares.len() == 2)
            && f.labels.first().map(String::as_str) == Some("yes")
            && f.universe.is_everyone();
        if !ok {
            return Err(herr(format!(
                "`{name}` must be a yes/no column (yes first) asked of everyone"
            )));
        }
        items.push(j);
    }
    // Per item and child: logit(u) - demographic log-odds, or None for nonresponse.
    let base: Vec<Vec<Option<f64>>> = items
        .iter()
        .map(|&j| {
            let Gen::Categorical(c) = &plan.fields[j].generator else {
                return Vec::new();
            };
            let mut zero = c.clone();
            zero.risk_loading = 0.0;
            zero.cluster_sd = 0.0;
            children
                .iter()
                .map(|ch| {
                    plan.nonresponse(j, ch)
                        .is_none()
                        .then(|| plan.latent(j, &zero, ch, 0.0))
                })
                .collect()
        })
        .collect();
    let shares: Vec<f64> = items
        .iter()
        .map(|&j| match &plan.fields[j].generator {
            Gen::Categorical(c) => c.shares[0],
            _ => 0.0,
        })
        .collect();
    let solve = |loading: f64| -> (Vec<f64>, f64) {
        let mut thresholds = Vec::with_capacity(items.len());
        let mut any = vec![false; children.len()];
        let mut xs = Vec::with_capacity(children.len());
        for (k, b) in base.iter().enumerate() {
            xs.clear();
            xs.extend(
                b.iter()
                    .zip(children)
                    .filter_map(|(x, ch)| x.map(|x| x - loading * ch.risk)),
            );
            let inflate = children.len() as f64 / xs.len().max(1) as f64;
            let t = cut_point(&mut xs, (shares[k] * inflate).min(1.0)).unwrap_or(0.0);
            for (ci, (x, ch)) in b.iter().zip(children).enumerate() {
                if let Some(x) = x
                    && x - loading * ch.risk < t
                {
                    any[ci] = true;
                }
            }
            thresholds.push(t);
        }
        let share = any.iter().filter(|a| **a).count() as f64 / children.len().max(1) as f64;
        (thresholds, share)
    };
    let loading = match target_any {
        None => loading_for_correlation(default_correlation),
        Some(target) => {
            let (mut lo, mut hi) = (0.0, loading_for_correlation(0.98));
            if solve(lo).1 <= target {
                lo
            } else if solve(hi).1 >= target {
                hi
            } else {
                for _ in 0..40 {
                    let mid = (lo + hi) / 2.0;
                    if solve(mid).1 > target {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                (lo + hi) / 2.0
            }
        }
    };
    let (thresholds, _) = solve(loading);
    for (k, &j) in items.iter().enumerate() {
        if let Gen::Categorical(c) = &mut plan.fields[j].generator {
            c.risk_loading = loading;
            c.cluster_sd = 0.0;
            c.thresholds = vec![thresholds[k]];
        }
    }
    Ok(items.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_point_splits_at_the_share() {
        let mut xs: Vec<f64> = (0..100).map(f64::from).rev().collect();
        let t = cut_point(&mut xs, 0.07).expect("non-empty");
        assert_eq!(xs.iter().filter(|x| **x < t).count(), 7);
        assert!(cut_point(&mut [], 0.5).is_none());
        let mut ys = vec![1.0, 2.0];
        assert!(cut_point(&mut ys, 0.0).expect("non-empty") < 1.0);
        assert!(cut_point(&mut ys, 1.0).expect("non-empty") > 2.0);
    }
}
