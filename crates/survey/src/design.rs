//! Taylor-linearisation design structure: strata, nested stages of clusters, fpc, sampling weights, `degf`.
//!
//! Mirrors R's `svydesign()` (survey.design2): stage-s units are nested in stage s-1 units (R's `interaction`),
//! stage-1 units are nested in strata when `nest` is set (otherwise a cluster id found in two strata is an error,
//! as R's check), and `fpc` gives population sizes per stage (or sampling fractions when every value is <= 1).

// Comparisons like `!(v > 0.0)` are deliberate: they reject NaN as well.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use crate::error::SurveyError;
use crate::lonely::LonelyPsu;
use std::collections::HashMap;
use std::sync::Arc;

/// Code of a missing value in a categorical column.
pub const NA_CODE: u32 = u32::MAX;

/// A categorical column: one code per row (`NA_CODE` = missing) and the level labels in R's level order
/// (`codes[i]` indexes `labels`).
#[derive(Debug, Clone, Copy)]
pub struct Factor<'a> {
    pub codes: &'a [u32],
    pub labels: &'a [String],
}

/// Where the sampling weights come from.
#[derive(Debug, Clone, Copy)]
pub enum WeightSpec<'a> {
    /// Sampling weights (R `weights=`).
    Weights(&'a [f64]),
    /// Selection probabilities (R `probs=`); weights are their inverses.
    Probs(&'a [f64]),
    /// Neither given: weights from the fpcs when present (R: product over stages of n/N), else all 1.
    Implicit,
}

/// Everything `svydesign()` takes, as columns.
#[derive(Debug, Clone)]
pub struct DesignSpec<'a> {
    /// Cluster ids per stage (any integer codes); empty = each row its own PSU (`id=~1`).
    pub ids: Vec<&'a [u32]>,
    /// Stratum of each row (stage 1), or `None`.
    pub strata: Option<Factor<'a>>,
    /// Population sizes (or sampling fractions) per stage; empty = with-replacement approximation.
    pub fpc: Vec<&'a [f64]>,
    pub weights: WeightSpec<'a>,
    /// R's `nest=TRUE`: cluster ids are only unique within strata.
    pub nest: bool,
    pub lonely_psu: LonelyPsu,
}

/// One sampling stage: units nested in groups (stage 1: strata; stage s: units of stage s-1).
#[derive(Debug, Clone)]
pub(crate) struct Stage {
    /// Row -> unit (dense, in order of first appearance).
    pub unit_of_row: Vec<u32>,
    /// Unit -> group.
    pub group_of_unit: Vec<u32>,
    /// Group -> units (CSR offsets into `units_by_group`).
    pub group_start: Vec<usize>,
    pub units_by_group: Vec<u32>,
    /// Unit -> population size N of its group (first row of the unit), when the stage has an fpc.
    pub popsize_of_unit: Option<Vec<f64>>,
}

impl Stage {
    pub fn n_units(&self) -> usize {
        self.group_of_unit.len()
    }
    pub fn n_groups(&self) -> usize {
        self.group_start.len() - 1
    }
    pub fn units_of(&self, g: usize) -> &[u32] {
        &self.units_by_group[self.group_start[g]..self.group_start[g + 1]]
    }
    /// Number of sampled units in the group holding unit `u` (R's `fpc$sampsize`).
    pub fn sampsize_of_unit(&self, u: usize) -> usize {
        let g = self.group_of_unit[u] as usize;
        self.group_start[g + 1] - self.group_start[g]
    }
}

/// A validated Taylor design structure with its sampling weights.
#[derive(Debug, Clone)]
pub struct Design {
    pub(crate) n_rows: usize,
    /// Shared with the [`crate::SurveyDesign`] made from the design (and, for a design given its weights as an
    /// `Arc`, with the caller), so that a design of millions of rows holds its weights once.
    pub(crate) weights: Arc<[f64]>,
    /// Shared by the designs made from this one with other weights ([`Design::with_weights`]).
    pub(crate) stages: Arc<[Stage]>,
    pub(crate) strata_labels: Vec<String>,
    pub(crate) lonely_psu: LonelyPsu,
}

/// Densify `(group, code)` pairs into unit ids in order of first appearance.
/// Multiplicative hasher for the integer keys of [`densify`] (keys are not attacker-controlled: the
/// std SipHash costs most of the design build on a million rows).
#[derive(Default)]
struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29))
            .wrapping_mul(0xbf58_476d_1ce4_e5b9)
            .rotate_left(31);
    }
}

/// Densify `(group, code)` pairs into unit ids in order of first appearance.
fn densify(groups: &[u32], codes: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut map: HashMap<u64, u32, std::hash::BuildHasherDefault<IntHasher>> = HashMap::default();
    let mut unit_of_row = Vec::with_capacity(codes.len());
    let mut group_of_unit = Vec::new();
    let mut last: Option<(u64, u32)> = None;
    for (&g, &c) in groups.iter().zip(codes) {
        let key = ((g as u64) << 32) | c as u64;
        // rows of one unit usually come together
        let u = match last {
            Some((k, u)) if k == key => u,
            _ => {
                let next = group_of_unit.len() as u32;
                let u = *map.entry(key).or_insert_with(|| {
                    group_of_unit.push(g);
                    next
                });
                last = Some((key, u));
                u
            }
        };
        unit_of_row.push(u);
    }
    (unit_of_row, group_of_unit)
}

fn build_stage(unit_of_row: Vec<u32>, group_of_unit: Vec<u32>, n_groups: usize) -> Stage {
    let mut counts = vec![0usize; n_groups + 1];
    for &g in &group_of_unit {
        counts[g as usize + 1] += 1;
    }
    for g in 0..n_groups {
        counts[g + 1] += counts[g];
    }
    let mut fill = counts.clone();
    let mut units_by_group = vec![0u32; group_of_unit.len()];
    for (u, &g) in group_of_unit.iter().enumerate() {
        units_by_group[fill[g as usize]] = u as u32;
        fill[g as usize] += 1;
    }
    Stage {
        unit_of_row,
        group_of_unit,
        group_start: counts,
        units_by_group,
        popsize_of_unit: None,
    }
}

/// Number of rows of a design: the length of the weights, else of the first-stage ids, the strata or the fpc.
fn spec_rows(spec: &DesignSpec<'_>) -> usize {
    match (&spec.weights, spec.ids.first(), &spec.strata) {
        (WeightSpec::Weights(w) | WeightSpec::Probs(w), _, _) => w.len(),
        (_, Some(ids), _) => ids.len(),
        (_, None, Some(s)) => s.codes.len(),
        _ => spec.fpc.first().map_or(0, |f| f.len()),
    }
}

/// A column of the design must have one value per row.
fn check_len(len: usize, n: usize, what: &str) -> Result<(), SurveyError> {
    if len != n {
        return Err(SurveyError::Invalid(format!(
            "column `{what}` has {len} rows, expected {n}"
        )));
    }
    Ok(())
}

/// Cluster ids of every stage: one per row, none missing.
fn check_ids(ids: &[&[u32]], n: usize) -> Result<(), SurveyError> {
    for (s, ids) in ids.iter().enumerate() {
        check_len(ids.len(), n, &format!("ids (stage {})", s + 1))?;
        if let Some(i) = ids.iter().position(|&c| c == NA_CODE) {
            return Err(SurveyError::Invalid(format!(
                "missing value in `id` (stage {}) at row {}",
                s + 1,
                i + 1
            )));
        }
    }
    Ok(())
}

/// The stratum of each row, re-coded to the strata present (in label order, as R re-factors strata), and their
/// labels.
fn strata_levels(f: &Factor<'_>, n: usize) -> Result<(Vec<u32>, Vec<String>), SurveyError> {
    check_len(f.codes.len(), n, "strata")?;
    if let Some(i) = f
        .codes
        .iter()
        .position(|&c| c == NA_CODE || c as usize >= f.labels.len())
    {
        return Err(SurveyError::Invalid(format!(
            "missing or unknown stratum code at row {}",
            i + 1
        )));
    }
    let mut present = vec![false; f.labels.len()];
    for &c in f.codes {
        present[c as usize] = true;
    }
    let mut remap = vec![0u32; f.labels.len()];
    let mut labels = Vec::new();
    for (c, &p) in present.iter().enumerate() {
        if p {
            remap[c] = labels.len() as u32;
            labels.push(f.labels[c].clone());
        }
    }
    Ok((f.codes.iter().map(|&c| remap[c as usize]).collect(), labels))
}

/// The stages of the design: stage 1 in strata (checked to be nested in them unless `nest`), each later stage
/// nested in the units of the one before.
fn build_stages(
    spec: &DesignSpec<'_>,
    strata_codes: &[u32],
    strata_labels: &[String],
) -> Result<Vec<Stage>, SurveyError> {
    let n = strata_codes.len();
    let has_strata = spec.strata.is_some();
    let row_ids: Vec<u32>;
    let first_ids: &[u32] = match spec.ids.first() {
        Some(ids) => ids,
        None => {
            row_ids = (0..n as u32).collect();
            &row_ids
        }
    };
    let (unit1, group1) = if spec.nest || !has_strata {
        densify(strata_codes, first_ids)
    } else {
        clusters_in_strata(first_ids, strata_codes, strata_labels)?
    };
    if group1.len() == 1 && !(spec.nest && has_strata) {
        return Err(SurveyError::Invalid(
            "Design has only one primary sampling unit".into(),
        ));
    }
    let mut stages = vec![build_stage(unit1, group1, strata_labels.len())];
    for s in 1..spec.ids.len() {
        let parent = &stages[s - 1];
        let n_parent = parent.n_units();
        let (u, g) = densify(&parent.unit_of_row, spec.ids[s]);
        stages.push(build_stage(u, g, n_parent));
    }
    Ok(stages)
}

/// Stage-1 units when cluster ids are unique across strata (`nest = FALSE`): each cluster must sit in one
/// stratum, as R checks. Returns the unit of each row and the stratum of each unit.
fn clusters_in_strata(
    first_ids: &[u32],
    strata_codes: &[u32],
    strata_labels: &[String],
) -> Result<(Vec<u32>, Vec<u32>), SurveyError> {
    let zeros = vec![0u32; first_ids.len()];
    let (u, _) = densify(&zeros, first_ids);
    let n_u = u.iter().map(|&x| x as usize + 1).max().unwrap_or(0);
    let mut stratum_of = vec![u32::MAX; n_u];
    for (i, &unit) in u.iter().enumerate() {
        let s = &mut stratum_of[unit as usize];
        if *s == u32::MAX {
            *s = strata_codes[i];
        } else if *s != strata_codes[i] {
            return Err(SurveyError::Invalid(format!(
                "Clusters not nested in strata at top level; you may want nest=TRUE (cluster at row {} is in strata {} and {})",
                i + 1,
                strata_labels[*s as usize],
                strata_labels[strata_codes[i] as usize]
            )));
        }
    }
    Ok((u, stratum_of))
}

/// Sets each stage's population sizes from its fpc column (population sizes, or sampling fractions when every
/// value is <= 1), checking that no stage samples more units than its group holds.
fn apply_fpc(fpc: &[&[f64]], stages: &mut [Stage], n: usize) -> Result<(), SurveyError> {
    if fpc.len() != stages.len() {
        return Err(SurveyError::Invalid(format!(
            "fpc given for {} stage(s) but the design has {} stage(s)",
            fpc.len(),
            stages.len()
        )));
    }
    let mut any_big = false;
    let mut all_ge1 = true;
    for (s, f) in fpc.iter().enumerate() {
        check_len(f.len(), n, &format!("fpc (stage {})", s + 1))?;
        for (i, &v) in f.iter().enumerate() {
            if !(v > 0.0) {
                return Err(SurveyError::Invalid(format!(
                    "fpc at row {}, stage {} is {v}: must be a positive population size or sampling fraction",
                    i + 1,
                    s + 1
                )));
            }
            any_big |= v > 1.0;
            all_ge1 &= v >= 1.0;
        }
    }
    if any_big != all_ge1 {
        return Err(SurveyError::Invalid(
            "Must have all fpc>=1 or all fpc<=1".into(),
        ));
    }
    for (s, (f, stage)) in fpc.iter().zip(stages.iter_mut()).enumerate() {
        stage.popsize_of_unit = Some(stage_popsizes(stage, f, any_big, s)?);
    }
    Ok(())
}

/// Population size of each unit of `stage` from its first row's fpc value (`popsize`: the value is the size,
/// else it is the sampling fraction).
fn stage_popsizes(
    stage: &Stage,
    f: &[f64],
    popsize: bool,
    s: usize,
) -> Result<Vec<f64>, SurveyError> {
    let mut pop = vec![f64::NAN; stage.n_units()];
    for (i, &u) in stage.unit_of_row.iter().enumerate() {
        let p = &mut pop[u as usize];
        if p.is_nan() {
            let nsamp = stage.sampsize_of_unit(u as usize);
            *p = if popsize { f[i] } else { nsamp as f64 / f[i] };
            if *p < nsamp as f64 {
                return Err(SurveyError::Invalid(format!(
                    "FPC implies >100% sampling in some strata (row {}, stage {}: popsize {} < sampsize {})",
                    i + 1,
                    s + 1,
                    *p,
                    nsamp
                )));
            }
        }
    }
    Ok(pop)
}

/// The sampling weights: given, inverse probabilities, or (neither given) the inverse of the product over stages
/// of n/N when there are fpcs, else 1.
fn sampling_weights(
    spec: &DesignSpec<'_>,
    stages: &[Stage],
    n: usize,
) -> Result<Vec<f64>, SurveyError> {
    Ok(match spec.weights {
        WeightSpec::Weights(w) => {
            check_len(w.len(), n, "weights")?;
            if let Some(i) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
                return Err(SurveyError::Invalid(format!(
                    "weight at row {} is {}: must be finite and >= 0",
                    i + 1,
                    w[i]
                )));
            }
            w.to_vec()
        }
        WeightSpec::Probs(p) => {
            check_len(p.len(), n, "probs")?;
            if let Some(i) = p
                .iter()
                .position(|v| !(*v > 0.0 && (*v <= 1.0 || v.is_infinite())))
            {
                return Err(SurveyError::Invalid(format!(
                    "probability at row {} is {}: must be in (0, 1]",
                    i + 1,
                    p[i]
                )));
            }
            p.iter().map(|v| 1.0 / v).collect()
        }
        WeightSpec::Implicit if spec.fpc.is_empty() => vec![1.0; n],
        WeightSpec::Implicit => (0..n)
            .map(|i| {
                let mut prob = 1.0;
                for st in stages {
                    let u = st.unit_of_row[i] as usize;
                    let pop = st.popsize_of_unit.as_ref().map_or(f64::NAN, |p| p[u]);
                    prob *= st.sampsize_of_unit(u) as f64 / pop;
                }
                1.0 / prob
            })
            .collect(),
    })
}

impl Design {
    /// Build the design; errors name the offending row, stage and value.
    pub fn new(spec: &DesignSpec<'_>) -> Result<Self, SurveyError> {
        let n = spec_rows(spec);
        if n == 0 {
            return Err(SurveyError::Invalid("the design has no rows".into()));
        }
        check_ids(&spec.ids, n)?;
        let (strata_codes, strata_labels) = match &spec.strata {
            Some(f) => strata_levels(f, n)?,
            None => (vec![0; n], vec!["1".to_string()]),
        };
        let mut stages = build_stages(spec, &strata_codes, &strata_labels)?;
        if !spec.fpc.is_empty() {
            apply_fpc(&spec.fpc, &mut stages, n)?;
        }
        let weights = sampling_weights(spec, &stages, n)?;
        Ok(Design {
            n_rows: n,
            weights: weights.into(),
            stages: stages.into(),
            strata_labels,
            lonely_psu: spec.lonely_psu,
        })
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }
    /// Sampling weights (1/prob).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    pub fn n_strata(&self) -> usize {
        self.strata_labels.len()
    }
    /// Number of primary sampling units.
    pub fn n_psu(&self) -> usize {
        self.stages[0].n_units()
    }
    /// Dense PSU index of each row (PSUs unique across strata).
    pub fn psu_of_row(&self) -> &[u32] {
        &self.stages[0].unit_of_row
    }
    pub fn lonely_psu(&self) -> LonelyPsu {
        self.lonely_psu
    }
    /// Replace the sampling weights (calibrated designs keep the structure and change the weights); the
    /// structure is shared, not copied.
    pub fn with_weights(&self, weights: impl Into<Arc<[f64]>>) -> Result<Self, SurveyError> {
        let weights: Arc<[f64]> = weights.into();
        if weights.len() != self.n_rows {
            return Err(SurveyError::Invalid(format!(
                "{} weights for a design of {} rows",
                weights.len(),
                self.n_rows
            )));
        }
        Ok(Design {
            n_rows: self.n_rows,
            weights,
            stages: Arc::clone(&self.stages),
            strata_labels: self.strata_labels.clone(),
            lonely_psu: self.lonely_psu,
        })
    }

    /// Stratum index of each row (0-based, strata in label order).
    pub fn stratum_of_row(&self) -> Vec<usize> {
        let st = &self.stages[0];
        st.unit_of_row
            .iter()
            .map(|&u| st.group_of_unit[u as usize] as usize)
            .collect()
    }
    /// Labels of the strata (`"1"` for an unstratified design).
    pub fn strata_labels(&self) -> &[String] {
        &self.strata_labels
    }
    /// Stage-1 population size (fpc) of each row's stratum, when the design has an fpc.
    pub fn stage1_popsize_of_row(&self) -> Option<Vec<f64>> {
        let st = &self.stages[0];
        st.popsize_of_unit
            .as_ref()
            .map(|p| st.unit_of_row.iter().map(|&u| p[u as usize]).collect())
    }

    /// R's `degf()`: PSUs minus strata, counting only rows whose weight `w[i]` is not zero.
    pub fn degf_for(&self, w: &[f64]) -> usize {
        self.degf_over(w, 0..w.len())
    }

    /// [`Design::degf_for`] of the weights `w` kept on the rows `rows` only (0 elsewhere), visiting those rows
    /// alone: R's `degf()` of a domain's subset design.
    pub(crate) fn degf_for_rows(&self, w: &[f64], rows: &[u32]) -> usize {
        self.degf_over(w, rows.iter().map(|&i| i as usize))
    }

    /// [`Design::degf_for`] of the weights `w` kept where `mask` is true (0 elsewhere).
    pub(crate) fn degf_for_mask(&self, w: &[f64], mask: &[bool]) -> usize {
        self.degf_over(w, (0..w.len().min(mask.len())).filter(|&i| mask[i]))
    }

    /// PSUs minus strata among the rows `rows` with a non-zero weight.
    fn degf_over(&self, w: &[f64], rows: impl Iterator<Item = usize>) -> usize {
        let st = &self.stages[0];
        let mut psu_seen = vec![false; st.n_units()];
        let mut strat_seen = vec![false; st.n_groups()];
        let (mut np, mut ns) = (0usize, 0usize);
        for i in rows {
            if w[i] != 0.0 {
                let u = st.unit_of_row[i] as usize;
                if !psu_seen[u] {
                    psu_seen[u] = true;
                    np += 1;
                    let g = st.group_of_unit[u] as usize;
                    if !strat_seen[g] {
                        strat_seen[g] = true;
                        ns += 1;
                    }
                }
            }
        }
        np.saturating_sub(ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_units_and_degf() {
        let labels = vec!["A".to_string(), "B".to_string()];
        let strata = [0u32, 0, 0, 1, 1, 1];
        let ids = [1u32, 1, 2, 1, 2, 3];
        let w = [1.0; 6];
        let spec = DesignSpec {
            ids: vec![&ids],
            strata: Some(Factor {
                codes: &strata,
                labels: &labels,
            }),
            fpc: vec![],
            weights: WeightSpec::Weights(&w),
            nest: true,
            lonely_psu: LonelyPsu::Fail,
        };
        let d = Design::new(&spec).unwrap();
        assert_eq!(d.n_psu(), 5);
        assert_eq!(d.degf_for(&w), 3);
        let spec_not_nested = DesignSpec {
            nest: false,
            ..spec
        };
        let err = Design::new(&spec_not_nested).unwrap_err().to_string();
        assert!(
            err.starts_with("Clusters not nested in strata at top level"),
            "{err}"
        );
    }

    #[test]
    fn degf_of_rows_and_masks_equals_degf_for_of_the_masked_weights() {
        let labels = vec!["A".to_string(), "B".to_string(), "C".to_string()];
        let strata = [0u32, 0, 0, 0, 1, 1, 1, 2, 2, 2];
        let ids = [1u32, 1, 2, 3, 1, 2, 2, 1, 2, 3];
        let w = [1.0, 0.0, 2.0, 1.0, 3.0, 1.0, 0.0, 0.0, 2.0, 2.0];
        let spec = DesignSpec {
            ids: vec![&ids],
            strata: Some(Factor {
                codes: &strata,
                labels: &labels,
            }),
            fpc: vec![],
            weights: WeightSpec::Weights(&w),
            nest: true,
            lonely_psu: LonelyPsu::Adjust,
        };
        let d = Design::new(&spec).unwrap();
        for bits in 0u32..(1 << 10) {
            let rows: Vec<u32> = (0..10u32).filter(|i| bits & (1 << i) != 0).collect();
            let masked: Vec<f64> = (0..10)
                .map(|i| if bits & (1 << i) != 0 { w[i] } else { 0.0 })
                .collect();
            let mask: Vec<bool> = (0..10).map(|i| bits & (1 << i) != 0).collect();
            assert_eq!(
                d.degf_for_rows(&w, &rows),
                d.degf_for(&masked),
                "rows {rows:?}"
            );
            assert_eq!(
                d.degf_for_mask(&w, &mask),
                d.degf_for(&masked),
                "rows {rows:?}"
            );
        }
    }

    #[test]
    fn weights_from_fpc() {
        let ids1 = [1u32, 1, 2, 2];
        let ids2 = [1u32, 2, 3, 4];
        let f1 = [10.0; 4];
        let f2 = [4.0, 4.0, 8.0, 8.0];
        let spec = DesignSpec {
            ids: vec![&ids1, &ids2],
            strata: None,
            fpc: vec![&f1, &f2],
            weights: WeightSpec::Implicit,
            nest: false,
            lonely_psu: LonelyPsu::Fail,
        };
        let d = Design::new(&spec).unwrap();
        assert_eq!(d.weights(), &[10.0, 10.0, 20.0, 20.0]);
    }
}
