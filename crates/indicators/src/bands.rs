//! True labels of banded domains. A band column derived from a numeric column (`age_band` from `age`, with each
//! category's inclusive `range` in `schemas/`) is only the population of its label when the indicator's universe
//! keeps every value of the range. An item asked only of children aged 15 and over (universe `age >= 15`) has an
//! age band "14-15" that holds 15-year-olds only; its rows are published under the level's true range ("15").
//!
//! The test is structural, on the universe expression: each integer value of a band's range is put into the
//! universe with every other column unknown (three-valued logic, as the evaluator's); a value for which the
//! universe is false whatever the other columns hold is outside. A band with some values outside is relabelled
//! to the values left (`15`, `16-17`, or runs joined by `, `); a band with every value outside keeps its label (it
//! has no case and is suppressed). Bands over a non-integer source are tested at their two ends.

use dh_config::{FieldType, SchemaSet};
use dh_expr::{CompareOp, Expr, Literal};

/// A categorical column derived from a numeric one by ranges (`schemas/`, role `derived` with `derivedFrom`).
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedBand {
    /// The table whose schema defines it.
    pub table: String,
    pub column: String,
    /// The numeric column it is derived from.
    pub source: String,
    /// The source holds whole numbers (every value of a range can be tested).
    pub integer: bool,
    /// Level label and its inclusive range of the source, in code order.
    pub levels: Vec<(String, [f64; 2])>,
}

/// Every banded derived column of the schemas (tables in name order).
pub fn derived_bands(schemas: &SchemaSet) -> Vec<DerivedBand> {
    let mut out = Vec::new();
    for (table, schema) in &schemas.tables {
        for field in &schema.fields {
            let (Some(source), Some(categories)) = (&field.derived_from, &field.categories) else {
                continue;
            };
            let levels: Vec<(String, [f64; 2])> = categories
                .iter()
                .filter_map(|c| c.range.map(|r| (c.label.clone(), r)))
                .collect();
            if levels.is_empty() {
                continue;
            }
            let integer = schema
                .field(source)
                .is_some_and(|f| f.field_type == FieldType::Integer);
            out.push(DerivedBand {
                table: table.clone(),
                column: field.name.clone(),
                source: source.clone(),
                integer,
                levels,
            });
        }
    }
    out
}

/// Kleene truth of a universe for one value of the source with every other column unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    False,
    True,
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::True => Truth::False,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

fn truth(b: bool) -> Truth {
    if b { Truth::True } else { Truth::False }
}

/// The universe at `source = value`, other columns unknown.
fn at_value(expr: &Expr, source: &str, value: f64) -> Truth {
    match expr {
        Expr::Const(b) => truth(*b),
        Expr::Compare {
            column,
            op,
            value: lit,
        } if column.name == source => match lit.value {
            Literal::Number(n) => truth(op.apply(&value, &n)),
            _ => Truth::Unknown,
        },
        Expr::InList {
            column,
            values,
            negated,
        } if column.name == source => {
            let found = values
                .iter()
                .any(|l| matches!(l.value, Literal::Number(n) if CompareOp::Eq.apply(&value, &n)));
            truth(found != *negated)
        }
        Expr::IsMissing(column) if column.name == source => Truth::False,
        Expr::Column(_) | Expr::Compare { .. } | Expr::InList { .. } | Expr::IsMissing(_) => {
            Truth::Unknown
        }
        Expr::Not(inner) => at_value(inner, source, value).not(),
        Expr::And(items) => items.iter().fold(Truth::True, |acc, e| {
            match (acc, at_value(e, source, value)) {
                (Truth::False, _) | (_, Truth::False) => Truth::False,
                (Truth::True, Truth::True) => Truth::True,
                _ => Truth::Unknown,
            }
        }),
        Expr::Or(items) => items.iter().fold(Truth::False, |acc, e| {
            match (acc, at_value(e, source, value)) {
                (Truth::True, _) | (_, Truth::True) => Truth::True,
                (Truth::False, Truth::False) => Truth::False,
                _ => Truth::Unknown,
            }
        }),
    }
}

/// The values of a range that are tested.
fn values_of(range: [f64; 2], integer: bool) -> Vec<f64> {
    let [lo, hi] = range;
    if integer && lo.is_finite() && hi.is_finite() && hi - lo <= 1000.0 {
        let (lo, hi) = (lo.ceil() as i64, hi.floor() as i64);
        (lo..=hi).map(|v| v as f64).collect()
    } else {
        vec![lo, hi]
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// For each level of `band`, `Some(true label)` when the universe keeps only part of its range, `None` when it
/// keeps all of it, none of it, or does not refer to the band's source.
pub fn true_labels(universe: &Expr, band: &DerivedBand) -> Vec<Option<String>> {
    if !universe.columns().contains(&band.source.as_str()) {
        return vec![None; band.levels.len()];
    }
    band.levels
        .iter()
        .map(|(_, range)| {
            let values = values_of(*range, band.integer);
            let inside: Vec<bool> = values
                .iter()
                .map(|v| at_value(universe, &band.source, *v) != Truth::False)
                .collect();
            if inside.iter().all(|b| *b) || inside.iter().all(|b| !*b) {
                return None;
            }
            if !band.integer {
                // Only the ends were tested: name the end that is kept.
                let kept: Vec<String> = values
                    .iter()
                    .zip(&inside)
                    .filter(|(_, k)| **k)
                    .map(|(v, _)| number(*v))
                    .collect();
                return Some(kept.join(", "));
            }
            let mut runs: Vec<(f64, f64)> = Vec::new();
            for (v, keep) in values.iter().zip(&inside) {
                if !keep {
                    continue;
                }
                match runs.last_mut() {
                    Some((_, end)) if *v == *end + 1.0 => *end = *v,
                    _ => runs.push((*v, *v)),
                }
            }
            Some(
                runs.iter()
                    .map(|(a, b)| {
                        if a == b {
                            number(*a)
                        } else {
                            format!("{}-{}", number(*a), number(*b))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
        .collect()
}

/// The band definition that applies to column `column` of an indicator on `table`: the table's own, else one
/// of another table (a column borrowed through a join keeps its definition).
pub fn band_for<'a>(
    bands: &'a [DerivedBand],
    table: &str,
    column: &str,
) -> Option<&'a DerivedBand> {
    bands
        .iter()
        .find(|b| b.table == table && b.column == column)
        .or_else(|| bands.iter().find(|b| b.column == column))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age_band() -> DerivedBand {
        DerivedBand {
            table: "child_survey".into(),
            column: "age_band".into(),
            source: "age".into(),
            integer: true,
            levels: vec![
                ("12-13".into(), [12.0, 13.0]),
                ("14-15".into(), [14.0, 15.0]),
                ("16-17".into(), [16.0, 17.0]),
            ],
        }
    }

    fn labels(universe: &str) -> Vec<Option<String>> {
        let expr = dh_expr::parse(universe).unwrap_or_else(|e| panic!("{e}"));
        true_labels(&expr, &age_band())
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn a_band_cut_by_the_universe_gets_its_true_range() {
        assert_eq!(labels("age >= 15"), vec![None, some("15"), None]);
        assert_eq!(labels("age > 12"), vec![some("13"), None, None]);
        assert_eq!(labels("age <= 16"), vec![None, None, some("16")]);
        assert_eq!(labels("age in [12, 14, 15]"), vec![some("12"), None, None]);
        assert_eq!(labels("not (age == 14)"), vec![None, some("15"), None]);
    }

    #[test]
    fn other_columns_are_unknown_and_cannot_exclude_a_value() {
        assert_eq!(
            labels(r#"age >= 15 and q == "yes""#),
            vec![None, some("15"), None]
        );
        // "or" with an unknown keeps every value: the universe may hold any age.
        assert_eq!(labels(r#"age >= 15 or q == "yes""#), vec![None; 3]);
        assert_eq!(labels("true"), vec![None; 3]);
        assert_eq!(labels(r#"q == "yes""#), vec![None; 3]);
        assert_eq!(
            labels("not is_missing(age) and age != 16"),
            vec![None, None, some("17")]
        );
    }

    #[test]
    fn band_wholly_outside_keeps_its_label_and_non_integer_sources_test_the_ends() {
        assert_eq!(labels("age >= 16"), vec![None, None, None]);
        let mut b = age_band();
        b.integer = false;
        let expr = dh_expr::parse("age >= 15").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(true_labels(&expr, &b), vec![None, some("15"), None]);
    }

    #[test]
    fn the_repository_schemas_define_age_band_from_age() {
        let schemas = dh_config::load_schemas(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let bands = derived_bands(&schemas);
        let b = band_for(&bands, "caregiver_survey", "age_band").unwrap_or_else(|| panic!());
        assert_eq!(
            (b.table.as_str(), b.source.as_str(), b.integer),
            ("child_survey", "age", true)
        );
        assert_eq!(b.levels[1], ("14-15".to_string(), [14.0, 15.0]));
    }
}
