//! The published indicator tables, built from every country's [`EstimateRow`]s (countries in the order given,
//! rows in catalogue and domain order, so the bytes are the same whatever the thread count). Columns: see
//! [`COLUMNS`]; `statistic` (after `indicator_version`) says what the estimate is (`proportion`, `mean`, `count`
//! for the survey; `unweighted_proportion`, `share`, `count`, `total`, `rate_per_10000`, `change` for the other
//! families; only a `change` can be negative), `flag` is the row's primary flag and `flags` (last) every
//! condition that holds, `;`-separated in the precedence order of [`crate::flags::Flag::PRECEDENCE`] (its first
//! entry is always `flag`).
//! * [`indicators_batch`]: the Arrow batch behind `OUT/indicators/indicators.parquet`;
//! * [`indicators_csv`]: the same rows as CSV (`indicators.csv`);
//! * [`comparison_csv`]: `comparison.csv`, one row per indicator and one column per country holding the total
//!   estimate with its interval, or the flag when the estimate is withheld (`low_base` estimates carry a `*`).

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;

use crate::estimate::{EstimateRow, TOTAL};
use crate::flags::Flag;

/// Column names of `indicators.parquet` / `indicators.csv`, in order.
pub const COLUMNS: [&str; 18] = [
    "country",
    "indicator",
    "indicator_version",
    "statistic",
    "domain",
    "domain_value",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "ci_method",
    "df",
    "deff",
    "n_unweighted",
    "n_weighted",
    "population_estimate",
    "flag",
    "flags",
];

/// One country's rows.
pub type CountryRows<'a> = (&'a str, &'a [EstimateRow]);

/// All rows as one Arrow batch (nullable floats where an estimate is withheld).
pub fn indicators_batch(countries: &[CountryRows<'_>]) -> Result<RecordBatch, ArrowError> {
    let rows: Vec<(&str, &EstimateRow)> = countries
        .iter()
        .flat_map(|(c, rows)| rows.iter().map(move |r| (*c, r)))
        .collect();
    let text = |f: &dyn Fn(&(&str, &EstimateRow)) -> String| -> ArrayRef {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let float = |f: &dyn Fn(&EstimateRow) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(
            rows.iter().map(|(_, r)| f(r)).collect::<Vec<_>>(),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|(c, _)| c.to_string()),
        text(&|(_, r)| r.indicator.clone()),
        text(&|(_, r)| r.indicator_version.clone()),
        text(&|(_, r)| r.statistic.to_string()),
        text(&|(_, r)| r.domain.clone()),
        text(&|(_, r)| r.domain_value.clone()),
        float(&|r| r.estimate),
        float(&|r| r.se),
        float(&|r| r.ci_lower),
        float(&|r| r.ci_upper),
        text(&|(_, r)| r.ci_method.to_string()),
        float(&|r| r.df),
        float(&|r| r.deff),
        Arc::new(UInt64Array::from(
            rows.iter()
                .map(|(_, r)| r.n_unweighted as u64)
                .collect::<Vec<_>>(),
        )),
        float(&|r| Some(r.n_weighted)),
        float(&|r| r.population_estimate),
        text(&|(_, r)| r.flag.as_str().to_string()),
        text(&|(_, r)| r.flags.names()),
    ];
    let fields: Vec<Field> = COLUMNS
        .iter()
        .zip(&columns)
        .map(|(name, c)| {
            let nullable = matches!(c.data_type(), DataType::Float64) && *name != "n_weighted";
            Field::new(*name, c.data_type().clone(), nullable)
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// All rows as CSV with a header; empty cells for withheld values.
pub fn indicators_csv(countries: &[CountryRows<'_>]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for (country, rows) in countries {
        for r in *rows {
            let cells = [
                csv_text(country),
                csv_text(&r.indicator),
                csv_text(&r.indicator_version),
                csv_text(r.statistic),
                csv_text(&r.domain),
                csv_text(&r.domain_value),
                opt(r.estimate),
                opt(r.se),
                opt(r.ci_lower),
                opt(r.ci_upper),
                csv_text(r.ci_method),
                opt(r.df),
                opt(r.deff),
                r.n_unweighted.to_string(),
                r.n_weighted.to_string(),
                opt(r.population_estimate),
                csv_text(r.flag.as_str()),
                csv_text(&r.flags.names()),
            ];
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    out
}

/// One row per indicator (first-seen order), one column per country: `estimate [lower, upper]` rounded to 4
/// decimals (proportions) or to integers (counts above 1000), `*` appended for `low_base` and `!` for
/// `unreliable` (both when both hold), the flag name when the estimate is withheld, empty when the country has
/// no row for the indicator.
pub fn comparison_csv(countries: &[CountryRows<'_>]) -> String {
    let mut indicators: Vec<&str> = Vec::new();
    for (_, rows) in countries {
        for r in *rows {
            if r.domain == TOTAL && !indicators.contains(&r.indicator.as_str()) {
                indicators.push(&r.indicator);
            }
        }
    }
    let mut out = String::from("indicator");
    for (c, _) in countries {
        out.push(',');
        out.push_str(&csv_text(c));
    }
    out.push('\n');
    for id in indicators {
        out.push_str(&csv_text(id));
        for (_, rows) in countries {
            out.push(',');
            if let Some(r) = rows.iter().find(|r| r.indicator == id && r.domain == TOTAL) {
                out.push_str(&csv_text(&comparison_cell(r)));
            }
        }
        out.push('\n');
    }
    out
}

fn comparison_cell(r: &EstimateRow) -> String {
    let Some(est) = r.estimate.filter(|_| !r.flag.hides_estimate()) else {
        return r.flag.cell_text().to_string();
    };
    let fmt = |x: f64| {
        if x.abs() >= 1000.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.4}")
        }
    };
    let mut cell = fmt(est);
    if let (Some(lo), Some(hi)) = (r.ci_lower, r.ci_upper) {
        let _ = write!(cell, " [{}, {}]", fmt(lo), fmt(hi));
    }
    if r.flags.contains(Flag::LowBase) {
        cell.push('*');
    }
    if r.flags.contains(Flag::Unreliable) {
        cell.push('!');
    }
    cell
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// Quotes a CSV field when it holds a comma, quote or line break.
fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Flags;

    fn row(
        indicator: &str,
        domain: &str,
        value: &str,
        est: Option<f64>,
        flag: Flag,
    ) -> EstimateRow {
        let mut r = EstimateRow {
            indicator: indicator.into(),
            indicator_version: "1.0.0".into(),
            statistic: "proportion",
            domain: domain.into(),
            domain_value: value.into(),
            estimate: est,
            se: est.map(|_| 0.01),
            ci_lower: est.map(|e| e - 0.02),
            ci_upper: est.map(|e| e + 0.02),
            ci_method: "logit",
            df: est.map(|_| 40.0),
            deff: est.map(|_| 1.5),
            n_unweighted: 100,
            n_weighted: 2500.5,
            population_estimate: est.map(|e| e * 2500.5),
            flag,
            flags: Flags::OK,
        };
        r.set_flags(Flags::of(flag));
        r
    }

    fn sample() -> (Vec<EstimateRow>, Vec<EstimateRow>) {
        let a = vec![
            row("h", TOTAL, TOTAL, Some(0.125), Flag::Ok),
            row("h", "sex", "male", None, Flag::Suppressed),
            row("x", TOTAL, TOTAL, Some(0.5), Flag::LowBase),
        ];
        let b = vec![row("h", TOTAL, TOTAL, None, Flag::NotCollected)];
        (a, b)
    }

    #[test]
    fn batch_has_every_column_and_nulls_for_withheld_values() {
        let (a, b) = sample();
        let batch = indicators_batch(&[("AAA", &a), ("BBB", &b)]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(batch.num_rows(), 4);
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, COLUMNS.map(String::from).to_vec());
        let est = batch.column(6);
        assert_eq!(est.null_count(), 2);
    }

    #[test]
    fn csv_rows_and_empty_cells() {
        let (a, b) = sample();
        let csv = indicators_csv(&[("AAA", &a), ("BBB", &b)]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "AAA,h,1.0.0,proportion,total,total,0.125,0.01,0.105,0.145,logit,40,1.5,100,2500.5,312.5625,ok,ok"
        );
        assert_eq!(
            lines[2],
            "AAA,h,1.0.0,proportion,sex,male,,,,,logit,,,100,2500.5,,suppressed,suppressed"
        );
        assert_eq!(
            lines[4],
            "BBB,h,1.0.0,proportion,total,total,,,,,logit,,,100,2500.5,,not_collected,not_collected"
        );
    }

    #[test]
    fn comparison_table_shows_intervals_and_flags() {
        let (a, b) = sample();
        let csv = comparison_csv(&[("AAA", &a), ("BBB", &b)]);
        assert_eq!(
            csv,
            "indicator,AAA,BBB\nh,\"0.1250 [0.1050, 0.1450]\",not_collected\nx,\"0.5000 [0.4800, 0.5200]*\",\n"
        );
    }

    #[test]
    fn several_conditions_are_all_listed_and_the_primary_flag_comes_first() {
        let mut r = row("f", TOTAL, TOTAL, Some(0.4), Flag::NonRepresentative);
        r.statistic = "unweighted_proportion";
        r.add_flag(Flag::LowBase);
        r.add_flag(Flag::Unreliable);
        assert_eq!(r.flag, Flag::LowBase);
        let rows = vec![r];
        let csv = indicators_csv(&[("AAA", &rows)]);
        let line = csv.lines().nth(1).unwrap_or_default();
        assert!(
            line.starts_with("AAA,f,1.0.0,unweighted_proportion,")
                && line.ends_with(",low_base,low_base;unreliable;non_representative"),
            "{line}"
        );
        let batch = indicators_batch(&[("AAA", &rows)]).unwrap_or_else(|e| panic!("{e}"));
        let flags = batch.column_by_name("flags").and_then(|c| {
            c.as_any()
                .downcast_ref::<StringArray>()
                .map(|a| a.value(0).to_string())
        });
        assert_eq!(
            flags.as_deref(),
            Some("low_base;unreliable;non_representative")
        );
        assert_eq!(
            comparison_csv(&[("AAA", &rows)]),
            "indicator,AAA\nf,\"0.4000 [0.3800, 0.4200]*!\"\n"
        );
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_text("plain"), "plain");
    }
}
