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

/// Domains up to which [`DomainSet::rows_by_domain`] takes one pass per domain rather than counting and placing.
const FEW_DOMAINS: usize = 4;

/// The rows of each domain of a [`DomainSet`], in row order, so that per-domain sums visit only the domain's
/// rows and add them in the same order as a pass over every row with the domain's mask.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DomainRows {
    /// `rows[start[d]..start[d + 1]]` are the rows of domain `d`.
    start: Vec<usize>,
    rows: Vec<u32>,
}

impl DomainRows {
    pub fn n_domains(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// The rows of domain `d`, ascending.
    pub fn of(&self, d: usize) -> &[u32] {
        &self.rows[self.start[d]..self.start[d + 1]]
    }
}

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
        // interaction code per row (first variable fastest; fits u32: at most 50,000,000 cells), NONE when any
        // by value is missing; then replaced in place by the domain index of its cell
        let mut domain_of_row = vec![NONE; n];
        let mut present = vec![false; cells as usize];
        if let [f] = spec.by.as_slice() {
            // one variable: the cell is the code (branch-free; rows in no cell mark the extra last slot)
            let levels = f.labels.len();
            present.push(false);
            for (i, (slot, &v)) in domain_of_row.iter_mut().zip(f.codes).enumerate() {
                let ok = in_subset(i) && (v as usize) < levels;
                *slot = if ok { v } else { NONE };
                let cell = if ok { v as usize } else { cells as usize };
                present[cell] |= weights[i] != 0.0;
            }
            present.pop();
        } else {
            for (i, slot) in domain_of_row.iter_mut().enumerate() {
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
                    *slot = c as u32;
                    if weights[i] != 0.0 {
                        present[c as usize] = true;
                    }
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
        for d in domain_of_row.iter_mut() {
            if *d != NONE {
                *d = index[*d as usize];
            }
        }
        Ok(DomainSet {
            domain_of_row,
            labels,
        })
    }

    /// The rows of every domain, each domain's rows in row order (one pass; rows in no domain are left out).
    pub fn rows_by_domain(&self) -> DomainRows {
        let n_dom = self.n_domains();
        if n_dom <= FEW_DOMAINS {
            return self.rows_by_domain_compacted();
        }
        self.rows_by_domain_counted()
    }

    /// [`DomainSet::rows_by_domain`] by counting the rows of each domain, then placing each row.
    fn rows_by_domain_counted(&self) -> DomainRows {
        let n_dom = self.n_domains();
        let mut start = vec![0usize; n_dom + 1];
        for &d in &self.domain_of_row {
            if d != NONE {
                start[d as usize + 1] += 1;
            }
        }
        for d in 0..n_dom {
            start[d + 1] += start[d];
        }
        let mut next = start.clone();
        let mut rows = vec![0u32; start[n_dom]];
        for (i, &d) in self.domain_of_row.iter().enumerate() {
            if d != NONE {
                let slot = &mut next[d as usize];
                rows[*slot] = i as u32;
                *slot += 1;
            }
        }
        DomainRows { start, rows }
    }

    /// [`DomainSet::rows_by_domain`] with one branch-free pass per domain: each row index is written at the
    /// domain's next slot, which moves on only when the row is in the domain (so no counting pass, and no
    /// per-domain cursor in memory).
    fn rows_by_domain_compacted(&self) -> DomainRows {
        let n_dom = self.n_domains();
        let mut rows = vec![0u32; self.domain_of_row.len() + 1];
        let mut start = Vec::with_capacity(n_dom + 1);
        let mut next = 0usize;
        for d in 0..n_dom as u32 {
            start.push(next);
            for (i, &x) in self.domain_of_row.iter().enumerate() {
                // `next` <= rows placed so far <= rows.len() - 1
                if let Some(slot) = rows.get_mut(next) {
                    *slot = i as u32;
                }
                next += usize::from(x == d);
            }
        }
        start.push(next);
        rows.truncate(next);
        DomainRows { start, rows }
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

    #[test]
    fn rows_by_domain_are_the_rows_of_each_mask_in_order() {
        let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let codes = [2u32, 0, NA_CODE, 2, 0, 1, 2, 0];
        let subset = [true, true, true, true, false, true, true, true];
        let spec = DomainSpec {
            subset: Some(&subset),
            by: vec![Factor {
                codes: &codes,
                labels: &labels,
            }],
        };
        let set = DomainSet::new(&spec, &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]).unwrap();
        let rows = set.rows_by_domain();
        let mut mask = Vec::new();
        for d in 0..set.n_domains() {
            set.fill_mask(d, &mut mask, |_| true);
            let expected: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
            let got: Vec<usize> = rows.of(d).iter().map(|&i| i as usize).collect();
            assert_eq!(got, expected, "domain {d}");
        }
    }

    #[test]
    fn compacted_and_counted_rows_by_domain_agree() {
        for n_dom in [1u32, 3, 4, 7] {
            let domain_of_row: Vec<u32> = (0..500u32)
                .map(|i| {
                    if i % 9 == 4 {
                        NONE
                    } else {
                        (i * 7 / 3) % n_dom
                    }
                })
                .collect();
            let set = DomainSet {
                domain_of_row,
                labels: vec![Vec::new(); n_dom as usize],
            };
            let (a, b) = (set.rows_by_domain_compacted(), set.rows_by_domain_counted());
            assert_eq!(a, b, "{n_dom} domains");
            assert_eq!(a.n_domains(), n_dom as usize);
        }
    }

    #[test]
    fn one_by_variable_gives_the_domains_of_the_general_interaction() {
        let labels = vec![
            "a".to_string(),
            "b".to_string(),
            "c".to_string(),
            "d".to_string(),
        ];
        let one = vec!["x".to_string()];
        let codes: Vec<u32> = (0..300u32)
            .map(|i| match i % 13 {
                0 => NA_CODE,
                1 => 9,
                _ => (i * 7 / 5) % 3,
            })
            .collect();
        let zeros = vec![0u32; 300];
        let subset: Vec<bool> = (0..300).map(|i| i % 5 != 2).collect();
        // level "d" has no rows; rows of "c" all have weight 0 outside rows divisible by 17
        let weights: Vec<f64> = (0..300)
            .map(|i| {
                if codes[i] == 2 && i % 17 != 0 {
                    0.0
                } else {
                    1.5
                }
            })
            .collect();
        for sub in [None, Some(subset.as_slice())] {
            let single = DomainSpec {
                subset: sub,
                by: vec![Factor {
                    codes: &codes,
                    labels: &labels,
                }],
            };
            let general = DomainSpec {
                subset: sub,
                by: vec![
                    Factor {
                        codes: &codes,
                        labels: &labels,
                    },
                    Factor {
                        codes: &zeros,
                        labels: &one,
                    },
                ],
            };
            let (a, b) = (
                DomainSet::new(&single, &weights).unwrap(),
                DomainSet::new(&general, &weights).unwrap(),
            );
            assert_eq!(a.domain_of_row, b.domain_of_row);
            let firsts: Vec<&String> = b.labels.iter().map(|l| &l[0]).collect();
            assert_eq!(a.labels.iter().map(|l| &l[0]).collect::<Vec<_>>(), firsts);
            assert_eq!(a.n_domains(), 3);
        }
    }
}
