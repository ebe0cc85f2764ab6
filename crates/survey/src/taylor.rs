//! Taylor-linearisation variance of an estimator's influence values, as R's `svyrecvar` / `multistage` /
//! `onestage` / `onestrat` compute it, including the lonely-PSU rules (adjust with survey >= 4.2 centring).
//!
//! Stage 1 always enters; stages 2.. enter only when the design has an fpc (R: `!is.null(fpcs)`), each group's
//! term multiplied by the sampling fractions n/N of the stages above it.

use crate::design::{Design, Stage};
use crate::error::SurveyError;
use crate::lonely::LonelyPsu;

/// Result of one stratum (group) in `onestrat`: a variance contribution or R's NA (lonely `average`).
enum StratumTerm {
    Value(f64),
    Missing,
}

impl Design {
    /// Variance of the estimator whose influence values (already multiplied by the weights, as in R's
    /// `svyrecvar(x * pweights / psum, ...)`) are `z`. Rows outside a domain carry `z = 0`. `keep` marks the
    /// rows R's subsetting keeps (`None` = all): strata and clusters without kept rows drop out of the
    /// computation as in R, which matters for the lonely-PSU rules only.
    pub fn taylor_variance(&self, z: &[f64], keep: Option<&[bool]>) -> Result<f64, SurveyError> {
        if z.len() != self.n_rows || keep.is_some_and(|k| k.len() != self.n_rows) {
            return Err(SurveyError::Invalid(format!(
                "{} influence values for {} rows",
                z.len(),
                self.n_rows
            )));
        }
        let stage1 = &self.stages[0];
        let totals = unit_totals(stage1, z);
        let present = keep.map(|k| units_present(stage1, k));
        let mut v = self.stage1_variance(&totals, present.as_deref())?;
        if !self.only_stage1() {
            // multiplier of each stage-(s-1) unit: product of n/N over its ancestors, itself included
            let mut mult: Vec<f64> = (0..stage1.n_units())
                .map(|u| {
                    stage1.sampsize_of_unit(u) as f64
                        / stage1.popsize_of_unit.as_ref().map_or(f64::NAN, |p| p[u])
                })
                .collect();
            let mut parent_present = present;
            for s in 1..self.stages.len() {
                let stage = &self.stages[s];
                let totals = unit_totals(stage, z);
                for g in 0..stage.n_groups() {
                    if stage.units_of(g).is_empty()
                        || parent_present.as_ref().is_some_and(|p| !p[g])
                    {
                        continue;
                    }
                    // R labels the group by its interaction (e.g. `E.E.152`); here: stratum, then the
                    // 1-based unit number at stage s (order of first appearance)
                    let label = |g: usize| {
                        format!(
                            "{}.{}",
                            self.strata_labels[self.top_stratum(s - 1, g)],
                            g + 1
                        )
                    };
                    let part = self.onestage(stage, s, &totals, &[g], &label)?;
                    v += part * mult[g];
                }
                parent_present = keep.map(|k| units_present(stage, k));
                if s + 1 < self.stages.len() {
                    let pop = stage.popsize_of_unit.as_ref();
                    mult = (0..stage.n_units())
                        .map(|u| {
                            mult[stage.group_of_unit[u] as usize] * stage.sampsize_of_unit(u) as f64
                                / pop.map_or(f64::NAN, |p| p[u])
                        })
                        .collect();
                }
            }
        }
        Ok(v)
    }

    /// Stratum (stage 1 group) above unit `u` of stage `stage` (0-based).
    fn top_stratum(&self, stage: usize, u: usize) -> usize {
        let mut unit = u;
        for t in (1..=stage).rev() {
            unit = self.stages[t].group_of_unit[unit] as usize;
        }
        self.stages[0].group_of_unit[unit] as usize
    }

    /// Whether only the first stage enters the variance (one stage, or no fpc: R's ultimate-cluster rule).
    pub(crate) fn only_stage1(&self) -> bool {
        self.stages.len() == 1 || self.stages[0].popsize_of_unit.is_none()
    }

    /// Stage-1 term from the PSU totals of the influence values; `present` marks PSUs with kept rows.
    pub(crate) fn stage1_variance(
        &self,
        psu_totals: &[f64],
        present: Option<&[bool]>,
    ) -> Result<f64, SurveyError> {
        let stage1 = &self.stages[0];
        let groups: Vec<usize> = (0..stage1.n_groups())
            .filter(|&g| present.is_none_or(|p| stage1.units_of(g).iter().any(|&u| p[u as usize])))
            .collect();
        self.onestage(stage1, 0, psu_totals, &groups, &|g| {
            self.strata_labels[g].clone()
        })
    }

    /// R's `onestage` over the listed groups of one stage: sum of the group terms, scaled by
    /// n_groups / n_groups_not_NA (lonely `average`).
    fn onestage(
        &self,
        stage: &Stage,
        stage_index: usize,
        totals: &[f64],
        groups: &[usize],
        label: &dyn Fn(usize) -> String,
    ) -> Result<f64, SurveyError> {
        // centre for lonely `adjust` (survey >= 4.2): sum of all unit totals in scope / number of units in scope
        let (mut sum_all, mut n_all) = (0.0, 0usize);
        for &g in groups {
            for &u in stage.units_of(g) {
                sum_all += totals[u as usize];
                n_all += 1;
            }
        }
        let centre = if n_all > 0 {
            sum_all / n_all as f64
        } else {
            0.0
        };
        let (mut v, mut n_ok) = (0.0, 0usize);
        for &g in groups {
            match self.onestrat(stage, stage_index, totals, g, centre, label)? {
                StratumTerm::Value(x) => {
                    v += x;
                    n_ok += 1;
                }
                StratumTerm::Missing => {}
            }
        }
        if groups.is_empty() {
            return Ok(0.0);
        }
        Ok(v * groups.len() as f64 / n_ok as f64)
    }

    fn onestrat(
        &self,
        stage: &Stage,
        stage_index: usize,
        totals: &[f64],
        g: usize,
        centre: f64,
        label: &dyn Fn(usize) -> String,
    ) -> Result<StratumTerm, SurveyError> {
        let units = stage.units_of(g);
        let n = units.len();
        let f = |u: u32| -> f64 {
            match &stage.popsize_of_unit {
                None => 1.0,
                Some(p) => {
                    let big_n = p[u as usize];
                    if big_n.is_infinite() {
                        1.0
                    } else {
                        (big_n - n as f64) / big_n
                    }
                }
            }
        };
        if units.iter().all(|&u| f(u) < 1e-7) {
            return Ok(StratumTerm::Value(0.0));
        }
        if n > 1 {
            let mean = units.iter().map(|&u| totals[u as usize]).sum::<f64>() / n as f64;
            let k = n as f64 / (n as f64 - 1.0);
            let v = units
                .iter()
                .map(|&u| {
                    let d = totals[u as usize] - mean;
                    f(u) * k * d * d
                })
                .sum();
            return Ok(StratumTerm::Value(v));
        }
        let u = units[0];
        match self.lonely_psu {
            LonelyPsu::Fail => Err(SurveyError::LonelyPsu {
                stratum: label(g),
                stage: stage_index + 1,
            }),
            LonelyPsu::Certainty | LonelyPsu::Remove => Ok(StratumTerm::Value(0.0)),
            LonelyPsu::Adjust => {
                let d = totals[u as usize] - centre;
                Ok(StratumTerm::Value(f(u) * d * d))
            }
            LonelyPsu::Average => Ok(StratumTerm::Missing),
        }
    }
}

/// Units holding at least one kept row.
fn units_present(stage: &Stage, keep: &[bool]) -> Vec<bool> {
    let mut p = vec![false; stage.n_units()];
    for (&u, &k) in stage.unit_of_row.iter().zip(keep) {
        if k {
            p[u as usize] = true;
        }
    }
    p
}

fn unit_totals(stage: &Stage, z: &[f64]) -> Vec<f64> {
    let mut t = vec![0.0; stage.n_units()];
    for (&u, &zi) in stage.unit_of_row.iter().zip(z) {
        t[u as usize] += zi;
    }
    t
}

#[cfg(test)]
mod tests {
    use crate::design::{Design, DesignSpec, WeightSpec};
    use crate::lonely::LonelyPsu;

    #[test]
    fn srs_with_replacement_matches_formula() {
        // each row its own PSU, no strata: v = n/(n-1) * sum (z - zbar)^2
        let w = [1.0; 4];
        let spec = DesignSpec {
            ids: vec![],
            strata: None,
            fpc: vec![],
            weights: WeightSpec::Weights(&w),
            nest: false,
            lonely_psu: LonelyPsu::Fail,
        };
        let d = Design::new(&spec).unwrap();
        let z = [1.0, 2.0, 3.0, 6.0];
        let v = d.taylor_variance(&z, None).unwrap();
        assert!((v - 4.0 / 3.0 * (4.0 + 1.0 + 0.0 + 9.0)).abs() < 1e-12);
    }
}
