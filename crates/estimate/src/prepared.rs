//! The data of one request, read and typed: each requested column once, categorical views built
//! on demand (for `--by`, `--factor` and text columns), and accessors that check a column's type against the flag that names it.

use dh_survey::Factor;

use crate::error::EstimateError;
use crate::population::Margins;
use crate::request::EstimateRequest;
use crate::table::{Categorical, Column, Table};

/// The table of a request, with every column the request names.
#[derive(Debug)]
pub struct Prepared {
    pub table: Table,
    /// Categorical view of each column (built on first use for numeric columns such as ids).
    categorical: Vec<Option<Categorical>>,
}

impl Prepared {
    /// Reads the columns that `request` (and the population margins) need, and applies `--factor`.
    pub fn read(
        request: &EstimateRequest,
        margins: Option<&Margins>,
    ) -> Result<Self, EstimateError> {
        let mut wanted = request.columns();
        if let Some(m) = margins {
            for v in m.variables() {
                if !wanted.iter().any(|(n, _)| *n == v) {
                    wanted.push((v, "--population"));
                }
            }
        }
        let names: Vec<String> = wanted.iter().map(|(n, _)| n.clone()).collect();
        let table = crate::read_table(&request.data, &names).map_err(|e| match e {
            EstimateError::ColumnNotFound {
                path,
                column,
                available,
                ..
            } => {
                let flag = wanted
                    .iter()
                    .find(|(n, _)| *n == column)
                    .map_or("", |(_, f)| *f)
                    .to_string();
                EstimateError::ColumnNotFound {
                    path,
                    column,
                    flag,
                    available,
                }
            }
            other => other,
        })?;
        // `--factor` columns must be among those read; each analysis makes its own factors categorical.
        let factors = request
            .analyses
            .iter()
            .flat_map(|a| a.statistic.factors.iter());
        for name in factors {
            if table.column(name).is_none() {
                return Err(EstimateError::invalid(
                    "--factor",
                    name,
                    "is not one of the --var, --by or --subset columns",
                ));
            }
        }
        let categorical = vec![None; table.columns.len()];
        Ok(Self { table, categorical })
    }

    pub fn n_rows(&self) -> usize {
        self.table.n_rows
    }

    fn index(&self, flag: &str, name: &str) -> Result<usize, EstimateError> {
        self.table
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| EstimateError::invalid(flag, name, "column was not read"))
    }

    /// A numeric column; text is an error naming the flag and an example value.
    pub fn numeric(&self, flag: &str, name: &str) -> Result<&[f64], EstimateError> {
        match &self.table.columns[self.index(flag, name)?] {
            Column::Numeric(v) => Ok(v),
            Column::Categorical(c) => {
                // The first value that is not a number, and the first data row holding it.
                let level = c
                    .levels
                    .iter()
                    .position(|l| l.trim().parse::<f64>().is_err())
                    .unwrap_or(0);
                let row = c.codes.iter().position(|&code| code as usize == level);
                let example = c.levels.get(level).cloned().unwrap_or_default();
                Err(EstimateError::NotNumeric {
                    flag: flag.to_string(),
                    column: name.to_string(),
                    example,
                    row: row.map(|r| r + 1),
                })
            }
        }
    }

    /// Makes sure the categorical view of `name` exists (numeric columns are coded like R's factor).
    pub fn ensure_categorical(&mut self, flag: &str, name: &str) -> Result<(), EstimateError> {
        let i = self.index(flag, name)?;
        if self.categorical[i].is_none() {
            self.categorical[i] = Some(self.table.columns[i].to_categorical());
        }
        Ok(())
    }

    /// The categorical view of `name` (call [`Prepared::ensure_categorical`] first).
    pub fn factor(&self, flag: &str, name: &str) -> Result<Factor<'_>, EstimateError> {
        let i = self.index(flag, name)?;
        let c = self.categorical[i]
            .as_ref()
            .ok_or_else(|| EstimateError::invalid(flag, name, "column is not categorical"))?;
        Ok(Factor {
            codes: &c.codes,
            labels: &c.levels,
        })
    }

    /// The column itself.
    pub fn column(&self, flag: &str, name: &str) -> Result<&Column, EstimateError> {
        Ok(&self.table.columns[self.index(flag, name)?])
    }
}
