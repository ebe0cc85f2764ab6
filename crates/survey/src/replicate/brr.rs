//! Balanced repeated replication and Fay's method as R's `brrweights()` builds them for `as.svrepdesign`:
//! strata must hold 2 PSUs (strata with an even number above 2 are split into pairs, R's `large="split"`;
//! fewer than 2 is an error, R's `small="fail"`); pairs are numbered in R's order of the stratum labels (ICU
//! collation, see `collate`; then first appearance), and replicate i takes column i of R's Hadamard matrix, so
//! the replicates equal R's.

use super::hadamard::hadamard;
use super::jackknife::Built;
use super::{DesignColumns, PsuLayout, PsuMultipliers, stratum_label};
use crate::SurveyError;
use crate::collate::r_collate;

pub(crate) fn brr(
    columns: &DesignColumns<'_>,
    layout: &PsuLayout,
    rho: f64,
) -> Result<Built, SurveyError> {
    let n_psu = layout.n_psu();
    let labels: Vec<String> = layout
        .psu_stratum
        .iter()
        .map(|&s| stratum_label(columns, s))
        .collect();
    // Strata in R's string order (`order(as.character(strata))`), PSUs in first-appearance order within each.
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut by_label: Vec<(&str, Vec<usize>)> = Vec::new();
    for (p, label) in labels.iter().enumerate() {
        let next = by_label.len();
        let k = *index.entry(label.as_str()).or_insert(next);
        if k == next {
            by_label.push((label.as_str(), Vec::new()));
        }
        by_label[k].1.push(p);
    }
    by_label.sort_by(|a, b| r_collate(a.0, b.0));
    if let Some((label, _)) = by_label.iter().find(|(_, psus)| psus.len() < 2) {
        return Err(SurveyError::Invalid(format!(
            "Some strata have fewer than 2 PSUs (stratum {label}): BRR needs 2 PSUs per stratum"
        )));
    }
    if let Some((label, psus)) = by_label
        .iter()
        .find(|(_, psus)| psus.len() > 2 && psus.len() % 2 == 1)
    {
        return Err(SurveyError::Invalid(format!(
            "Can't split with odd numbers of PSUs in a stratum (stratum {label} has {})",
            psus.len()
        )));
    }
    // Half-sample pattern per PSU: (first column, second column) and its pair number (1-based).
    let mut half = vec![(0.0_f64, 0.0_f64); n_psu];
    let mut pair = vec![0usize; n_psu];
    let mut upto = 0;
    let groups = by_label.iter().map(|(_, psus)| psus);
    for psus in groups
        .clone()
        .filter(|p| p.len() > 2)
        .chain(groups.filter(|p| p.len() == 2))
    {
        for (t, &p) in psus.iter().enumerate() {
            let first = (t % 2) as f64;
            half[p] = (first, 1.0 - first);
            pair[p] = upto + t / 2 + 1;
        }
        upto += psus.len() / 2;
    }
    let h = hadamard(upto);
    let n_rep = h.len();
    let multipliers: Vec<PsuMultipliers> = (0..n_rep)
        .map(|i| {
            let except = (0..n_psu)
                .map(|p| {
                    let (w1, w2) = half[p];
                    let (wa, wb) = if h[pair[p]][i] == 1 {
                        (w2, w1)
                    } else {
                        (w1, w2)
                    };
                    (p, wa * (2.0 - rho) + wb * rho)
                })
                .collect();
            PsuMultipliers {
                default: 1.0,
                except,
            }
        })
        .collect();
    let scale = 1.0 / (n_rep as f64 * (1.0 - rho).powi(2));
    Ok((multipliers, scale, vec![1.0; n_rep]))
}
