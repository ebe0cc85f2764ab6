//! In-memory typed columns read from a data file: numeric (`f64`, `NaN` = missing) or categorical
//! (codes into levels sorted like R's factor levels, `u32::MAX` = missing).

use std::collections::HashMap;

use dh_survey::collate::r_collate;

/// Code of a missing value in a categorical column.
pub const MISSING_CODE: u32 = u32::MAX;

/// A categorical column: one code per row into `levels`.
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    pub codes: Vec<u32>,
    pub levels: Vec<String>,
}

impl Categorical {
    /// Builds a categorical column from first-seen dictionary codes and their labels, re-coding so that
    /// levels are in R's order (`factor()` on a usual Linux build, which collates with ICU even in a
    /// C.UTF-8 locale: letters ignoring case, lowercase first on ties; see [`dh_survey::collate`]).
    pub fn from_dictionary(mut codes: Vec<u32>, labels: Vec<String>) -> Self {
        let mut order: Vec<u32> = (0..labels.len() as u32).collect();
        order.sort_by(|&a, &b| r_collate(&labels[a as usize], &labels[b as usize]));
        let mut remap = vec![0u32; labels.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        for code in codes.iter_mut() {
            if *code != MISSING_CODE {
                *code = remap[*code as usize];
            }
        }
        let mut labels: Vec<Option<String>> = labels.into_iter().map(Some).collect();
        let levels = order
            .iter()
            .map(|&old| labels[old as usize].take().unwrap_or_default())
            .collect();
        Self { codes, levels }
    }

    /// Builds a categorical column from a numeric one (R's `factor()` on numbers): levels sorted
    /// numerically, labelled as R prints them (`as.character`).
    pub fn from_numeric(values: &[f64]) -> Self {
        if let Some(dense) = Self::from_integer_range(values) {
            return dense;
        }
        // `+ 0.0` turns -0.0 into 0.0: one level for both zeros, as R's factor() gives.
        let mut distinct: Vec<f64> = values
            .iter()
            .filter(|v| !v.is_nan())
            .map(|v| v + 0.0)
            .collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let index: HashMap<u64, u32> = distinct
            .iter()
            .enumerate()
            .map(|(i, v)| (v.to_bits(), i as u32))
            .collect();
        let codes = values
            .iter()
            .map(|v| {
                if v.is_nan() {
                    MISSING_CODE
                } else {
                    index
                        .get(&(v + 0.0).to_bits())
                        .copied()
                        .unwrap_or(MISSING_CODE)
                }
            })
            .collect();
        let levels = distinct.iter().map(|&v| r_number_label(v)).collect();
        Self { codes, levels }
    }

    /// [`Categorical::from_numeric`] for integer codes in a range at most a few times the row
    /// count (ids, strata, survey codes): a lookup table instead of hashing.
    fn from_integer_range(values: &[f64]) -> Option<Self> {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &v in values {
            if v.is_nan() {
                continue;
            }
            if v != v.trunc() || v.abs() > 1e15 {
                return None;
            }
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            return Some(Self {
                codes: vec![MISSING_CODE; values.len()],
                levels: Vec::new(),
            });
        }
        let span = (hi - lo) as usize + 1;
        if span > 4 * values.len() + 1024 {
            return None;
        }
        let mut code_of = vec![MISSING_CODE; span];
        for &v in values {
            if !v.is_nan() {
                code_of[(v - lo) as usize] = 0;
            }
        }
        let mut levels = Vec::new();
        for (offset, slot) in code_of.iter_mut().enumerate() {
            if *slot == 0 {
                *slot = levels.len() as u32;
                levels.push(r_number_label(lo + offset as f64));
            }
        }
        let codes = values
            .iter()
            .map(|&v| {
                if v.is_nan() {
                    MISSING_CODE
                } else {
                    code_of[(v - lo) as usize]
                }
            })
            .collect();
        Some(Self { codes, levels })
    }

    /// The label of a row, or `None` when missing.
    pub fn label(&self, row: usize) -> Option<&str> {
        let code = *self.codes.get(row)?;
        self.levels.get(code as usize).map(String::as_str)
    }
}

/// How R's `as.character()` prints a double: integers without a decimal point, others with up to
/// 15 significant digits and no trailing zeros.
pub fn r_number_label(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let text = format!("{:.*e}", 14, value);
    let Some((mantissa, exponent)) = text.split_once('e') else {
        return text;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-5..15).contains(&exponent) {
        let decimals = (14 - exponent).max(0) as usize;
        let fixed = format!("{:.*}", decimals, value);
        if fixed.contains('.') {
            fixed
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            fixed
        }
    } else {
        let mantissa = if mantissa.contains('.') {
            mantissa.trim_end_matches('0').trim_end_matches('.')
        } else {
            mantissa
        };
        format!(
            "{mantissa}e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        )
    }
}

/// One column of data.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; `NaN` marks a missing value.
    Numeric(Vec<f64>),
    /// Text (or a numeric column declared categorical).
    Categorical(Categorical),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Categorical(c) => c.codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// This column as categorical (a numeric column becomes R's `factor()` of it).
    pub fn to_categorical(&self) -> Categorical {
        match self {
            Column::Numeric(v) => Categorical::from_numeric(v),
            Column::Categorical(c) => c.clone(),
        }
    }

    /// Approximate size in bytes of the same data as Arrow arrays (for memory reports).
    pub fn arrow_size_bytes(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len() * 8,
            Column::Categorical(c) => {
                c.codes.len() * 4 + c.levels.iter().map(|l| l.len() + 4).sum::<usize>()
            }
        }
    }
}

/// A table of named columns, all of the same length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub n_rows: usize,
    pub names: Vec<String>,
    pub columns: Vec<Column>,
}

impl Table {
    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.columns.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_zeros_are_one_level() {
        let c = Categorical::from_numeric(&[0.5, -0.0, 0.0, f64::NAN]);
        assert_eq!(c.levels, ["0", "0.5"]);
        assert_eq!(c.codes, [1, 0, 0, MISSING_CODE]);
    }

    #[test]
    fn levels_follow_r_collation_not_bytes() {
        let labels = ["b", "B", "a", "A10", "A2", "_x", "Zeta", "alpha"];
        let c = Categorical::from_dictionary(
            (0..labels.len() as u32).collect(),
            labels.iter().map(|l| l.to_string()).collect(),
        );
        // levels(factor(c("b","B","a","A10","A2","_x","Zeta","alpha"))) in R 4.2
        assert_eq!(
            c.levels,
            ["_x", "a", "A10", "A2", "alpha", "b", "B", "Zeta"]
        );
        assert_eq!(c.label(0), Some("b"));
    }

    #[test]
    fn levels_are_sorted_and_codes_remapped() {
        let c = Categorical::from_dictionary(
            vec![0, 1, MISSING_CODE, 2, 0],
            vec!["M".into(), "E".into(), "H".into()],
        );
        assert_eq!(c.levels, vec!["E", "H", "M"]);
        assert_eq!(c.codes, vec![2, 0, MISSING_CODE, 1, 2]);
        assert_eq!(c.label(3), Some("H"));
        assert_eq!(c.label(2), None);
    }

    #[test]
    fn numeric_factor_sorts_numerically() {
        let c = Categorical::from_numeric(&[10.0, 2.0, f64::NAN, 2.0, 1.5]);
        assert_eq!(c.levels, vec!["1.5", "2", "10"]);
        assert_eq!(c.codes, vec![2, 1, MISSING_CODE, 1, 0]);
    }

    #[test]
    fn integer_codes_use_the_lookup_table_and_agree_with_hashing() {
        let values = [7.0, -3.0, f64::NAN, 7.0, 0.0, 1e9];
        let sparse = Categorical::from_numeric(&values);
        assert_eq!(sparse.levels, vec!["-3", "0", "7", "1000000000"]);
        let dense = Categorical::from_integer_range(&values[..5]).unwrap();
        assert_eq!(dense.levels, vec!["-3", "0", "7"]);
        assert_eq!(dense.codes, vec![2, 0, MISSING_CODE, 2, 1]);
        assert!(Categorical::from_integer_range(&[1.5]).is_none());
        assert_eq!(
            Categorical::from_numeric(&[f64::NAN]).codes,
            vec![MISSING_CODE]
        );
    }

    #[test]
    fn r_labels() {
        assert_eq!(r_number_label(3.0), "3");
        assert_eq!(r_number_label(-12.0), "-12");
        assert_eq!(r_number_label(0.1), "0.1");
        assert_eq!(r_number_label(44.2099990844727), "44.2099990844727");
        assert_eq!(r_number_label(1.0 / 3.0), "0.333333333333333");
        assert_eq!(r_number_label(1e20), "1e+20");
    }
}
