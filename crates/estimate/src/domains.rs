//! The `--subset` domain: a row mask where every `COL=VALUE` condition holds. (`--by` grouping,
//! in R's `svyby` order, is done by `dh-survey`.)

use crate::error::EstimateError;
use crate::request::SubsetCondition;
use crate::table::{Column, Table};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Categorical, MISSING_CODE};

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
    fn subset_conditions_all_hold() {
        let t = table();
        let conds = vec![
            "awards=Yes".parse::<SubsetCondition>().unwrap(),
            "x=1".parse().unwrap(),
        ];
        assert_eq!(
            subset_mask(&t, &conds).unwrap(),
            vec![true, false, false, false, false, true]
        );
        let bad = vec!["stype=Q".parse::<SubsetCondition>().unwrap()];
        let err = subset_mask(&t, &bad).unwrap_err().to_string();
        assert!(
            err.contains("--subset `stype=Q`") && err.contains("E, H, M"),
            "{err}"
        );
    }
}
