//! `--population FILE.json`: population margins for calibration, in the form of the oracle's
//! `designs.*.margins`: either one-way tables (`{"variable", "levels", "totals"}`, for
//! post-stratification and raking) or a model formula with totals named as R names the model
//! matrix columns (`{"formula": "~stype+api99", "population_totals": {"(Intercept)": 6194, ...}}`).

use std::path::Path;

use serde_json::Value;

use crate::error::EstimateError;

/// A one-way population table of a categorical variable.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorMargin {
    pub variable: String,
    pub levels: Vec<String>,
    pub totals: Vec<f64>,
}

/// Totals of the columns of a model matrix (R's `calibrate(design, formula, population)`).
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaMargin {
    /// The variables of the formula, in order.
    pub terms: Vec<String>,
    pub intercept: bool,
    /// Totals by model-matrix column name (`(Intercept)`, `stypeH`, `api99`, ...).
    pub totals: Vec<(String, f64)>,
}

/// The margins of a population file.
#[derive(Debug, Clone, PartialEq)]
pub enum Margins {
    Factors(Vec<FactorMargin>),
    Formula(FormulaMargin),
}

impl Margins {
    /// The data columns the margins refer to.
    pub fn variables(&self) -> Vec<String> {
        match self {
            Margins::Factors(f) => f.iter().map(|m| m.variable.clone()).collect(),
            Margins::Formula(f) => f.terms.clone(),
        }
    }
}

/// Reads and checks a population file.
pub fn read_population(path: &Path) -> Result<Margins, EstimateError> {
    let text = std::fs::read_to_string(path).map_err(|source| EstimateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_population(&text).map_err(|message| EstimateError::Population {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses the JSON text of a population file.
pub fn parse_population(text: &str) -> Result<Margins, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let items = match &value {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![value.clone()],
        _ => return Err("expected a JSON array of margins".into()),
    };
    if items.is_empty() {
        return Err("no margins given".into());
    }
    if items.iter().all(|m| m.get("formula").is_some()) {
        if items.len() != 1 {
            return Err(
                "give one formula margin (all calibration variables in one formula)".into(),
            );
        }
        return parse_formula(&items[0]).map(Margins::Formula);
    }
    items
        .iter()
        .enumerate()
        .map(|(i, m)| parse_factor(i, m))
        .collect::<Result<Vec<_>, _>>()
        .map(Margins::Factors)
}

fn parse_factor(index: usize, m: &Value) -> Result<FactorMargin, String> {
    let at = |what: &str| format!("margin {}: {what}", index + 1);
    let variable = m
        .get("variable")
        .and_then(Value::as_str)
        .ok_or_else(|| at("needs \"variable\" (a column name) or \"formula\""))?
        .to_string();
    let levels: Vec<String> = m
        .get("levels")
        .and_then(Value::as_array)
        .ok_or_else(|| at("needs \"levels\", an array"))?
        .iter()
        .map(|l| match l {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(at(&format!("level {other} is neither text nor a number"))),
        })
        .collect::<Result<_, _>>()?;
    let totals: Vec<f64> = m
        .get("totals")
        .and_then(Value::as_array)
        .ok_or_else(|| at("needs \"totals\", an array of numbers"))?
        .iter()
        .map(|t| {
            t.as_f64()
                .ok_or_else(|| at(&format!("total {t} is not a number")))
        })
        .collect::<Result<_, _>>()?;
    if levels.len() != totals.len() {
        return Err(at(&format!(
            "{} levels but {} totals for `{variable}`",
            levels.len(),
            totals.len()
        )));
    }
    if let Some(t) = totals.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
        return Err(at(&format!(
            "total {t} for `{variable}` is not a non-negative number"
        )));
    }
    Ok(FactorMargin {
        variable,
        levels,
        totals,
    })
}

fn parse_formula(m: &Value) -> Result<FormulaMargin, String> {
    let formula = m
        .get("formula")
        .and_then(Value::as_str)
        .ok_or("\"formula\" must be text such as \"~stype+api99\"")?;
    let rhs = formula
        .trim()
        .strip_prefix('~')
        .ok_or_else(|| format!("formula `{formula}` must start with ~"))?;
    let mut intercept = true;
    let mut terms = Vec::new();
    for term in rhs.split('+').map(str::trim) {
        match term {
            "1" => {}
            "0" | "-1" => intercept = false,
            t if t.ends_with("-1") => {
                intercept = false;
                terms.push(t.trim_end_matches("-1").trim().to_string());
            }
            t if t.is_empty() || t.contains(['*', ':', '(', '^', '-']) => {
                return Err(format!(
                    "formula `{formula}`: only sums of variables are supported (term `{t}`)"
                ));
            }
            t => terms.push(t.to_string()),
        }
    }
    let totals_obj = m
        .get("population_totals")
        .and_then(Value::as_object)
        .ok_or("\"population_totals\" must be an object of model-matrix column totals")?;
    let totals = totals_obj
        .iter()
        .map(|(k, v)| {
            v.as_f64()
                .map(|x| (k.clone(), x))
                .ok_or_else(|| format!("population total `{k}` is not a number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FormulaMargin {
        terms,
        intercept,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_margins() {
        let m = parse_population(
            r#"[{"variable": "stype", "levels": ["E","H","M"], "totals": [4421, 755, 1018]},
                {"variable": "sch.wide", "levels": ["No","Yes"], "totals": [1072, 5122]}]"#,
        )
        .unwrap();
        assert_eq!(m.variables(), vec!["stype", "sch.wide"]);
        match m {
            Margins::Factors(f) => assert_eq!(f[1].totals, vec![1072.0, 5122.0]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn formula_margin() {
        let m = parse_population(
            r#"[{"formula": "~stype+api99", "population_totals": {"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018, "api99": 3914069}}]"#,
        )
        .unwrap();
        match m {
            Margins::Formula(f) => {
                assert_eq!(f.terms, vec!["stype", "api99"]);
                assert!(f.intercept);
                assert_eq!(f.totals.len(), 4);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_margin() {
        let e = parse_population(r#"[{"variable": "stype", "levels": ["E"], "totals": [1, 2]}]"#)
            .unwrap_err();
        assert!(e.contains("margin 1") && e.contains("stype"), "{e}");
        let e = parse_population("{").unwrap_err();
        assert!(e.starts_with("not valid JSON"), "{e}");
        let e = parse_population(r#"[{"formula": "~a*b", "population_totals": {}}]"#).unwrap_err();
        assert!(
            e.contains("only sums of variables are supported (term `a*b`)"),
            "{e}"
        );
    }
}
