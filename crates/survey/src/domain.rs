//! Domains: `subset` (a row filter that keeps the design: rows outside get weight 0) and `by` (one or more
//! categorical variables, R's `svyby`): the domain of each row, R's domain order (the interaction with the first
//! variable varying fastest, empty domains dropped) and labels.

use crate::design::{Factor, NA_CODE};
use crate::error::SurveyError;

/// Which rows form the domains of an estimate.
#[derive(Debug, Clone, Default)]
pub struct DomainSpec<'a> {
    /// Rows inside the subset (R: `subset(design, cond)`); `None` = all rows.
    pub subset: Option<&'a [bool]>,
    /// `by` variables (R: `svyby(~x, ~a+b, ...)`); empty = one domain.
    pub by: Vec<Factor<'a>>,
}

/// The domains of one estimate: `domain_of_row[i]` indexes `labels` (`NONE` = in no domain).
#[derive(Debug, Clone)]
pub(crate) struct DomainSet {
    pub domain_of_row: Vec<u32>,
    /// One label per `by` variable for each domain (empty vectors when there is no `by`).
    pub labels: Vec<Vec<String>>,
}

pub(crate) const NONE: u32 = u32::MAX;

impl DomainSet {
    pub fn n_domains(&self) -> usize {
        self.labels.len()
    }

    /// Build the domains; `weights` decide which domains exist (R drops groups whose rows all have weight 0).
    pub fn new(spec: &DomainSpec<'_>, weights: &[f64]) -> Result<Self, SurveyError> {
        let n = weights.len();
        if let Some(s) = spec.subset
            && s.len() != n
        {
            return Err(SurveyError::Invalid(format!(
                "subset has {} rows, design has {n}",
                s.len()
            )));
        }
        let in_subset = |i: usize| spec.subset.is_none_or(|s| s[i]);
        if spec.by.is_empty() {
            let domain_of_row = (0..n)
                .map(|i| if in_subset(i) { 0 } else { NONE })
                .collect();
            return Ok(DomainSet {
                domain_of_row,
                labels: vec![Vec::new()],
            });
        }
        let mut radix = Vec::with_capacity(spec.by.len());
        let mut cells: u64 = 1;
        for (k, f) in spec.by.iter().enumerate() {
            if f.codes.len() != n {
                return Err(SurveyError::Invalid(format!(
                    "by variable {} has {} rows, design has {n}",
                    k + 1,
                    f.codes.len()
                )));
            }
            radix.push(cells);
            cells = cells.saturating_mul(f.labels.len().max(1) as u64);
        }
        if cells > 50_000_000 {
            return Err(SurveyError::Invalid(format!(
                "by variables define {cells} cells: too many domains"
            )));
        }
        // interaction code per row (first variable fastest), NONE when any by value is missing
        let mut code = vec![NONE as u64; n];
        let mut present = vec![false; cells as usize];
        for i in 0..n {
            if !in_subset(i) {
                continue;
            }
            let mut c = 0u64;
            let mut ok = true;
            for (f, &r) in spec.by.iter().zip(&radix) {
                let v = f.codes[i];
                if v == NA_CODE || v as usize >= f.labels.len() {
                    ok = false;
                    break;
                }
                c += v as u64 * r;
            }
            if ok {
                code[i] = c;
                if weights[i] != 0.0 {
                    present[c as usize] = true;
                }
            }
        }
        let mut index = vec![NONE; cells as usize];
        let mut labels = Vec::new();
        for (c, &p) in present.iter().enumerate() {
            if p {
                index[c] = labels.len() as u32;
                let lab = spec
                    .by
                    .iter()
                    .zip(&radix)
                    .map(|(f, &r)| f.labels[(c as u64 / r) as usize % f.labels.len()].clone())
                    .collect();
                labels.push(lab);
            }
        }
        let domain_of_row = code
            .iter()
            .map(|&c| {
                if c == NONE as u64 {
                    NONE
                } else {
                    index[c as usize]
                }
            })
            .collect();
        Ok(DomainSet {
            domain_of_row,
            labels,
        })
    }

    /// Fill `mask` with the rows of domain `d` for which `keep(i)` holds.
    pub fn fill_mask(&self, d: usize, mask: &mut Vec<bool>, keep: impl Fn(usize) -> bool) {
        mask.clear();
        mask.extend(
            self.domain_of_row
                .iter()
                .enumerate()
                .map(|(i, &x)| x == d as u32 && keep(i)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_order_first_fastest() {
        let l1 = vec!["E".to_string(), "H".to_string()];
        let l2 = vec!["No".to_string(), "Yes".to_string()];
        let a = [0u32, 1, 0, 1, 1];
        let b = [0u32, 0, 1, 1, NA_CODE];
        let spec = DomainSpec {
            subset: None,
            by: vec![
                Factor {
                    codes: &a,
                    labels: &l1,
                },
                Factor {
                    codes: &b,
                    labels: &l2,
                },
            ],
        };
        let d = DomainSet::new(&spec, &[1.0; 5]).unwrap();
        let names: Vec<String> = d.labels.iter().map(|l| l.join(".")).collect();
        assert_eq!(names, vec!["E.No", "H.No", "E.Yes", "H.Yes"]);
        assert_eq!(d.domain_of_row, vec![0, 1, 2, 3, NONE]);
    }
}
