//! Domains: the `--subset` mask (all conditions must hold) and the `--by` groups, ordered as R's
//! `svyby` orders them (first `--by` variable varying fastest; only combinations present in the data).

use crate::error::EstimateError;
use crate::report::Domain;
use crate::request::SubsetCondition;
use crate::table::{Column, MISSING_CODE, Table};

/// Rows in the `--subset` domain (all rows when there is no condition). A missing value in a
/// condition column puts the row outside the domain, as R's `subset()` does.
pub fn subset_mask(
    table: &Table,
    conditions: &[SubsetCondition],
) -> Result<Vec<bool>, EstimateError> {
    let mut mask = vec![true; table.n_rows];
    for cond in conditions {
        let column = table
            .column(&cond.column)
            .ok_or_else(|| EstimateError::invalid("--subset", &cond.column, "no such column"))?;
        match column {
            Column::Categorical(c) => {
                let code = c
                    .levels
                    .iter()
                    .position(|l| *l == cond.value)
                    .ok_or_else(|| {
                        EstimateError::invalid(
                            "--subset",
                            format!("{}={}", cond.column, cond.value),
                            format!("`{}` takes the values {}", cond.column, c.levels.join(", ")),
                        )
                    })? as u32;
                for (m, &c) in mask.iter_mut().zip(&c.codes) {
                    *m &= c == code;
                }
            }
            Column::Numeric(values) => {
                let target: f64 = cond.value.parse().map_err(|_| {
                    EstimateError::invalid(
                        "--subset",
                        format!("{}={}", cond.column, cond.value),
                        format!(
                            "`{}` is numeric, so the value must be a number",
                            cond.column
                        ),
                    )
                })?;
                for (m, &v) in mask.iter_mut().zip(values) {
                    *m &= v == target;
                }
            }
        }
    }
    Ok(mask)
}

/// The `--by` domains present in the data and each row's domain index (`None` when a `--by`
/// value is missing or the row is outside the subset).
#[derive(Debug, Clone, PartialEq)]
pub struct ByGroups {
    pub domains: Vec<Domain>,
    pub group_of_row: Vec<Option<u32>>,
}

/// Groups rows by the categorical values of the `--by` columns.
pub fn by_groups(table: &Table, by: &[String], mask: &[bool]) -> Result<ByGroups, EstimateError> {
    let factors = by
        .iter()
        .map(|name| {
            table
                .column(name)
                .map(Column::to_categorical)
                .ok_or_else(|| EstimateError::invalid("--by", name, "no such column"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // mixed-radix key with the LAST variable most significant, so sorting keys gives R's order
    let mut key_of_row: Vec<Option<u64>> = Vec::with_capacity(table.n_rows);
    for row in 0..table.n_rows {
        if !mask.get(row).copied().unwrap_or(false) {
            key_of_row.push(None);
            continue;
        }
        let mut key = 0u64;
        let mut missing = false;
        for f in factors.iter().rev() {
            let code = f.codes[row];
            if code == MISSING_CODE {
                missing = true;
                break;
            }
            key = key * (f.levels.len() as u64 + 1) + code as u64;
        }
        key_of_row.push(if missing { None } else { Some(key) });
    }
    let mut keys: Vec<u64> = key_of_row.iter().flatten().copied().collect();
    keys.sort_unstable();
    keys.dedup();
    // key = sum_i code_i * prod_{j<i} radix_j (the first variable is least significant)
    let radices: Vec<u64> = factors.iter().map(|f| f.levels.len() as u64 + 1).collect();
    let divisors: Vec<u64> = (0..factors.len())
        .map(|i| radices[..i].iter().product::<u64>())
        .collect();
    let domains = keys
        .iter()
        .map(|&key| {
            Domain(
                factors
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let code = ((key / divisors[i]) % radices[i]) as usize;
                        (
                            by[i].clone(),
                            f.levels.get(code).cloned().unwrap_or_default(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let group_of_row = key_of_row
        .iter()
        .map(|k| k.and_then(|k| keys.binary_search(&k).ok().map(|i| i as u32)))
        .collect();
    Ok(ByGroups {
        domains,
        group_of_row,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Categorical;

    fn table() -> Table {
        let stype = Categorical::from_dictionary(
            vec![0, 1, 2, 0, 1, MISSING_CODE],
            vec!["E".into(), "H".into(), "M".into()],
        );
        let awards =
            Categorical::from_dictionary(vec![0, 0, 1, 1, 1, 0], vec!["Yes".into(), "No".into()]);
        Table {
            n_rows: 6,
            names: vec!["stype".into(), "awards".into(), "x".into()],
            columns: vec![
                Column::Categorical(stype),
                Column::Categorical(awards),
                Column::Numeric(vec![1.0, 2.0, 1.0, f64::NAN, 1.0, 1.0]),
            ],
        }
    }

    #[test]
    fn by_order_is_first_variable_fastest() {
        let t = table();
        let g = by_groups(&t, &["stype".into(), "awards".into()], &[true; 6]).unwrap();
        let labels: Vec<String> = g.domains.iter().map(Domain::label).collect();
        assert_eq!(labels, vec!["E.No", "H.No", "M.No", "E.Yes", "H.Yes"]);
        assert_eq!(
            g.group_of_row,
            vec![Some(3), Some(4), Some(2), Some(0), Some(1), None]
        );
    }

    #[test]
    fn subset_conditions_all_hold() {
        let t = table();
        let conds = vec![
            "awards=Yes".parse::<SubsetCondition>().unwrap(),
            "x=1".parse().unwrap(),
        ];
        assert_eq!(
            subset_mask(&t, &conds).unwrap(),
            vec![true, false, false, false, false, false]
        );
        let bad = vec!["stype=Q".parse::<SubsetCondition>().unwrap()];
        let err = subset_mask(&t, &bad).unwrap_err().to_string();
        assert!(
            err.contains("--subset `stype=Q`") && err.contains("E, H, M"),
            "{err}"
        );
    }
}
