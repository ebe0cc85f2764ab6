//! The published indicator tables, built from every country's [`EstimateRow`]s (countries in the order given,
//! rows in catalogue and domain order, so the bytes are the same whatever the thread count). Columns: see
//! [`COLUMNS`]; `statistic` (after `indicator_version`) says what the estimate is (`proportion`, `mean`, `count`
//! for the survey; `unweighted_proportion`, `share`, `count`, `total`, `rate_per_10000`, `change` for the other
//! families; only a `change` can be negative), then `label`, `unit` (what the value counts or measures:
//! [`crate::units`]) and `universe_label` from the catalogue ([`Descriptions`]); `flag` is the row's primary flag
//! and `flags` every condition that holds, `;`-separated in the precedence order of
//! [`crate::flags::Flag::PRECEDENCE`] (its first entry is always `flag`); `estimate_label` (last, appended by
//! issue 16) holds the label of a `categorical` row's code (the status of a legal provision: `yes` for 1,
//! [`Descriptions::estimate_label`]), null on every other row.
//! * [`indicators_table`]: the Arrow batch behind `OUT/indicators/indicators.parquet`, with the flag legend in
//!   its schema metadata ([`FLAGS_METADATA_KEY`]);
//! * [`indicators_csv`]: the same rows as CSV (`indicators.csv`), numbers at full precision;
//! * [`comparison_csv`]: `comparison.csv`, one row per indicator (id, label, unit; `categorical` indicators,
//!   which have no total, are left out: their matrix is their rows) and one column per country
//!   holding the total estimate with its interval written by [`ValueFormat`], the flag's text when the estimate
//!   is withheld, and a mark for every other flag ([`crate::flags::Flag::comparison_mark`]); its marks and
//!   formats are explained by [`comparison_legend_csv`] (`comparison_legend.csv`).

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;

use crate::describe::{Description, Descriptions};
use crate::estimate::{EstimateRow, TOTAL};
use crate::flags::{Flag, legend_json};
use crate::pipeline_config::Thresholds;
use crate::units::{self, ValueFormat};

/// Schema (and Parquet key-value) metadata key of the flag legend: a JSON array of `{"flag", "meaning", "rule"}`.
pub const FLAGS_METADATA_KEY: &str = "dh.flags";

/// Column names of `indicators.parquet` / `indicators.csv`, in order.
pub const COLUMNS: [&str; 22] = [
    "country",
    "indicator",
    "indicator_version",
    "statistic",
    "label",
    "unit",
    "universe_label",
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
    "estimate_label",
];

/// One country's rows.
pub type CountryRows<'a> = (&'a str, &'a [EstimateRow]);

/// [`indicators_table`] without a catalogue (test fixtures): `label` and `universe_label` empty, `unit` only
/// where the statistic alone gives it, the legend with the default thresholds.
pub fn indicators_batch(countries: &[CountryRows<'_>]) -> Result<RecordBatch, ArrowError> {
    indicators_table(countries, &Descriptions::default(), &Thresholds::NCHS)
}

/// The description of a row: the catalogue's, else an empty label and the unit the statistic gives.
fn describe(descriptions: &Descriptions, country: &str, r: &EstimateRow) -> Description {
    descriptions
        .get(country, &r.indicator)
        .cloned()
        .unwrap_or_else(|| Description {
            unit: units::derived(r.statistic, "")
                .unwrap_or_default()
                .to_string(),
            ..Description::default()
        })
}

/// All rows as one Arrow batch (nullable floats where an estimate is withheld), the flag legend with
/// `thresholds` in the schema metadata under [`FLAGS_METADATA_KEY`].
pub fn indicators_table(
    countries: &[CountryRows<'_>],
    descriptions: &Descriptions,
    thresholds: &Thresholds,
) -> Result<RecordBatch, ArrowError> {
    let rows: Vec<(&str, &EstimateRow)> = countries
        .iter()
        .flat_map(|(c, rows)| rows.iter().map(move |r| (*c, r)))
        .collect();
    let described: Vec<Description> = rows
        .iter()
        .map(|(c, r)| describe(descriptions, c, r))
        .collect();
    let description = |f: &dyn Fn(&Description) -> &str| -> ArrayRef {
        Arc::new(StringArray::from(
            described.iter().map(f).collect::<Vec<_>>(),
        ))
    };
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
        description(&|d| &d.label),
        description(&|d| &d.unit),
        description(&|d| &d.universe_label),
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
        Arc::new(StringArray::from(
            rows.iter()
                .map(|(c, r)| descriptions.estimate_label(c, &r.indicator, r.estimate))
                .collect::<Vec<_>>(),
        )),
    ];
    let fields: Vec<Field> = COLUMNS
        .iter()
        .zip(&columns)
        .map(|(name, c)| {
            let nullable = (matches!(c.data_type(), DataType::Float64) && *name != "n_weighted")
                || *name == "estimate_label";
            Field::new(*name, c.data_type().clone(), nullable)
        })
        .collect();
    let metadata = std::collections::HashMap::from([(
        FLAGS_METADATA_KEY.to_string(),
        legend_json(thresholds),
    )]);
    RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, metadata)),
        columns,
    )
}

/// All rows as CSV with a header; empty cells for withheld values. Numbers are written at full precision
/// (shortest round-trip form: `0.125`, `2013`, never a thousands separator).
pub fn indicators_csv(countries: &[CountryRows<'_>], descriptions: &Descriptions) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for (country, rows) in countries {
        for r in *rows {
            let d = describe(descriptions, country, r);
            let cells = [
                csv_text(country),
                csv_text(&r.indicator),
                csv_text(&r.indicator_version),
                csv_text(r.statistic),
                csv_text(&d.label),
                csv_text(&d.unit),
                csv_text(&d.universe_label),
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
                csv_text(
                    descriptions
                        .estimate_label(country, &r.indicator, r.estimate)
                        .unwrap_or_default(),
                ),
            ];
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    out
}

/// One row per indicator (first-seen order) with its generic label and unit, one column per country holding its
/// total row: `estimate [lower, upper]` written by the statistic's [`ValueFormat`] (the interval when the row has
/// one), or the text of the flag(s) that withhold it (`suppressed`, `not_collected`, `<5`, `;`-separated when
/// several do); then the mark of every other flag in precedence order (`*` low base, `!` unreliable, `^`
/// non-representative). Empty when the country has no row for the indicator.
pub fn comparison_csv(countries: &[CountryRows<'_>], descriptions: &Descriptions) -> String {
    let mut indicators: Vec<(&str, &str)> = Vec::new();
    for (_, rows) in countries {
        for r in *rows {
            let categorical = units::statistic(r.statistic).is_some_and(|s| s.categorical);
            if r.domain == TOTAL
                && !categorical
                && !indicators.iter().any(|(id, _)| *id == r.indicator)
            {
                indicators.push((&r.indicator, r.statistic));
            }
        }
    }
    let mut out = String::from("indicator,label,unit");
    for (c, _) in countries {
        out.push(',');
        out.push_str(&csv_text(c));
    }
    out.push('\n');
    for (id, statistic) in indicators {
        let d = descriptions.generic(id);
        let unit = d.map_or(units::derived(statistic, "").unwrap_or_default(), |d| {
            d.unit.as_str()
        });
        let format = ValueFormat::of(statistic, unit);
        out.push_str(&csv_text(id));
        out.push(',');
        out.push_str(&csv_text(d.map_or("", |d| d.label.as_str())));
        out.push(',');
        out.push_str(&csv_text(unit));
        for (_, rows) in countries {
            out.push(',');
            if let Some(r) = rows.iter().find(|r| r.indicator == id && r.domain == TOTAL) {
                out.push_str(&csv_text(&comparison_cell(r, format)));
            }
        }
        out.push('\n');
    }
    out
}

fn comparison_cell(r: &EstimateRow, format: ValueFormat) -> String {
    let flags = r.flags.list();
    let shown = r.estimate.filter(|_| !r.flag.hides_estimate());
    let mut cell = match shown {
        Some(est) => {
            let mut cell = format.text(est);
            if let (Some(lo), Some(hi)) = (r.ci_lower, r.ci_upper) {
                let _ = write!(cell, " [{}, {}]", format.text(lo), format.text(hi));
            }
            cell
        }
        None => {
            let withheld: Vec<&str> = flags
                .iter()
                .filter(|f| f.hides_estimate())
                .map(|f| f.comparison_mark())
                .collect();
            if withheld.is_empty() {
                r.flag.cell_text().to_string()
            } else {
                withheld.join(";")
            }
        }
    };
    for f in flags.iter().filter(|f| !f.hides_estimate()) {
        cell.push_str(f.comparison_mark());
    }
    cell
}

/// Column names of `comparison_legend.csv`.
pub const COMPARISON_LEGEND_COLUMNS: [&str; 3] = ["mark", "flag", "meaning"];

/// `comparison_legend.csv`: what each mark of `comparison.csv` means (one row per flag, from the flag registry),
/// then the interval, the empty cell and the number formats by statistic.
pub fn comparison_legend_csv() -> String {
    let mut rows: Vec<[String; 3]> = Flag::PRECEDENCE
        .iter()
        .map(|f| {
            let how = if f.hides_estimate() {
                "in place of the estimate"
            } else {
                "after the estimate"
            };
            [
                f.comparison_mark().to_string(),
                f.as_str().to_string(),
                format!("{} ({how}; flags.csv gives the rule)", f.meaning()),
            ]
        })
        .collect();
    rows.push([
        "[lower, upper]".into(),
        String::new(),
        "95% confidence interval of the estimate (none for administrative counts, totals, rates and changes)"
            .into(),
    ]);
    rows.push([
        String::new(),
        String::new(),
        "an empty cell: the country has no row for the indicator".into(),
    ]);
    for f in ValueFormat::ALL {
        rows.push([f.example(), String::new(), f.describe().into()]);
    }
    let mut out = COMPARISON_LEGEND_COLUMNS.join(",");
    out.push('\n');
    for row in rows {
        out.push_str(
            &row.iter()
                .map(|c| csv_text(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// Quotes a CSV field when it holds a comma, quote or line break.
pub(crate) fn csv_text(s: &str) -> String {
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

    /// Descriptions of `h` (with a comma in its label) and `x`; BBB's `h` has its own label.
    fn descriptions() -> Descriptions {
        let d = |label: &str, unit: &str| Description {
            label: label.into(),
            unit: unit.into(),
            universe_label: "Children, 12-17".into(),
            codes: Vec::new(),
        };
        Descriptions::from_entries(
            [
                ("h", d("Told, or not", "proportion")),
                ("x", d("X", "proportion")),
            ],
            [("BBB", "h", d("Told in BBB", "proportion"))],
        )
    }

    #[test]
    fn batch_has_every_column_and_nulls_for_withheld_values() {
        let (a, b) = sample();
        let batch = indicators_table(
            &[("AAA", &a), ("BBB", &b)],
            &descriptions(),
            &Thresholds::NCHS,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(batch.num_rows(), 4);
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, COLUMNS.map(String::from).to_vec());
        let est = batch.column_by_name("estimate").map(|c| c.null_count());
        assert_eq!(est, Some(2));
        let text = |name: &str, i: usize| {
            batch
                .column_by_name(name)
                .and_then(|c| {
                    c.as_any()
                        .downcast_ref::<StringArray>()
                        .map(|a| a.value(i).to_string())
                })
                .unwrap_or_default()
        };
        assert_eq!(text("label", 0), "Told, or not");
        assert_eq!(text("label", 3), "Told in BBB");
        assert_eq!(text("unit", 3), "proportion");
        assert_eq!(text("universe_label", 2), "Children, 12-17");
        let legend = batch.schema().metadata().get(FLAGS_METADATA_KEY).cloned();
        assert_eq!(legend, Some(legend_json(&Thresholds::NCHS)));
    }

    #[test]
    fn without_a_catalogue_labels_are_empty_and_the_unit_follows_the_statistic() {
        let (a, _) = sample();
        let batch = indicators_batch(&[("AAA", &a)]).unwrap_or_else(|e| panic!("{e}"));
        let unit = batch.column_by_name("unit").and_then(|c| {
            c.as_any()
                .downcast_ref::<StringArray>()
                .map(|a| a.value(0).to_string())
        });
        assert_eq!(unit.as_deref(), Some("proportion"));
        let csv = indicators_csv(&[("AAA", &a)], &Descriptions::default());
        assert!(
            csv.lines()
                .nth(1)
                .unwrap_or_default()
                .starts_with("AAA,h,1.0.0,proportion,,proportion,,total,")
        );
    }

    #[test]
    fn csv_rows_and_empty_cells() {
        let (a, b) = sample();
        let csv = indicators_csv(&[("AAA", &a), ("BBB", &b)], &descriptions());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "AAA,h,1.0.0,proportion,\"Told, or not\",proportion,\"Children, 12-17\",total,total,0.125,0.01,0.105,\
             0.145,logit,40,1.5,100,2500.5,312.5625,ok,ok,"
        );
        assert_eq!(
            lines[2],
            "AAA,h,1.0.0,proportion,\"Told, or not\",proportion,\"Children, 12-17\",sex,male,,,,,logit,,,100,\
             2500.5,,suppressed,suppressed,"
        );
        assert_eq!(
            lines[4],
            "BBB,h,1.0.0,proportion,Told in BBB,proportion,\"Children, 12-17\",total,total,,,,,logit,,,100,2500.5,,\
             not_collected,not_collected,"
        );
    }

    #[test]
    fn comparison_table_shows_intervals_and_flags() {
        let (a, b) = sample();
        let csv = comparison_csv(&[("AAA", &a), ("BBB", &b)], &descriptions());
        assert_eq!(
            csv,
            "indicator,label,unit,AAA,BBB\nh,\"Told, or not\",proportion,\"0.1250 [0.1050, 0.1450]\",not_collected\n\
             x,X,proportion,\"0.5000 [0.4800, 0.5200]*\",\n"
        );
    }

    #[test]
    fn comparison_numbers_follow_the_statistic_whatever_their_size() {
        let mut count = row("c", TOTAL, TOTAL, Some(12.0), Flag::Ok);
        count.statistic = "count";
        (count.ci_lower, count.ci_upper) = (Some(3.4), Some(1234.5));
        let mut year = row("y", TOTAL, TOTAL, Some(2013.0), Flag::Ok);
        year.statistic = "total";
        (year.ci_lower, year.ci_upper) = (None, None);
        let mut rate = row("r", TOTAL, TOTAL, Some(1010.04), Flag::Ok);
        rate.statistic = "rate_per_10000";
        (rate.ci_lower, rate.ci_upper) = (None, None);
        let d = |unit: &str| Description {
            unit: unit.into(),
            ..Description::default()
        };
        let descriptions = Descriptions::from_entries(
            [
                ("c", d("children")),
                ("y", d(units::YEAR)),
                ("r", d("reports per 10,000")),
            ],
            [],
        );
        let rows = vec![count, year, rate];
        let csv = comparison_csv(&[("AAA", &rows)], &descriptions);
        assert_eq!(
            csv,
            "indicator,label,unit,AAA\nc,,children,\"12 [3, 1234]\"\ny,,year,2013\nr,,\"reports per 10,000\",1010.0\n"
        );
    }

    #[test]
    fn every_flag_of_a_row_has_its_mark_in_the_comparison_cell() {
        let mut shown = row("a", TOTAL, TOTAL, Some(0.4), Flag::Ok);
        shown.set_flags(Flags::of(Flag::NonRepresentative));
        let mut withheld = row("b", TOTAL, TOTAL, None, Flag::SmallCount);
        withheld.set_flags(Flags::of(Flag::SmallCount).with(Flag::NonRepresentative));
        let mut both = row("c", TOTAL, TOTAL, None, Flag::SmallCount);
        both.set_flags(Flags::of(Flag::SmallCount).with(Flag::Suppressed));
        let rows = vec![shown, withheld, both];
        let csv = comparison_csv(&[("AAA", &rows)], &Descriptions::default());
        assert_eq!(
            csv,
            "indicator,label,unit,AAA\na,,proportion,\"0.4000 [0.3800, 0.4200]^\"\nb,,proportion,<5^\n\
             c,,proportion,<5;suppressed\n"
        );
    }

    #[test]
    fn the_comparison_legend_explains_every_mark() {
        let legend = comparison_legend_csv();
        let mut lines = legend.lines();
        assert_eq!(lines.next(), Some("mark,flag,meaning"));
        for f in Flag::PRECEDENCE {
            let start = format!("{},{},", f.comparison_mark(), f.as_str());
            assert!(
                legend.lines().any(|l| l.starts_with(&start)),
                "{start}\n{legend}"
            );
        }
        assert!(legend.contains("\n2013,,years"), "{legend}");
        assert!(legend.contains("\n0.1250,,"), "{legend}");
    }

    #[test]
    fn several_conditions_are_all_listed_and_the_primary_flag_comes_first() {
        let mut r = row("f", TOTAL, TOTAL, Some(0.4), Flag::NonRepresentative);
        r.statistic = "unweighted_proportion";
        r.add_flag(Flag::LowBase);
        r.add_flag(Flag::Unreliable);
        assert_eq!(r.flag, Flag::LowBase);
        let rows = vec![r];
        let csv = indicators_csv(&[("AAA", &rows)], &Descriptions::default());
        let line = csv.lines().nth(1).unwrap_or_default();
        assert!(
            line.starts_with("AAA,f,1.0.0,unweighted_proportion,,proportion,,")
                && line.ends_with(",low_base,low_base;unreliable;non_representative,"),
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
            comparison_csv(&[("AAA", &rows)], &Descriptions::default()),
            "indicator,label,unit,AAA\nf,,proportion,\"0.4000 [0.3800, 0.4200]*!^\"\n"
        );
    }

    #[test]
    fn a_categorical_row_carries_the_label_of_its_code_and_stays_out_of_the_comparison() {
        let status = |level: &str, code: Option<f64>, flag: Flag| {
            let mut r = row("legal", "provision", level, code, flag);
            r.statistic = "categorical";
            (r.se, r.ci_lower, r.ci_upper, r.df, r.deff) = (None, None, None, None, None);
            r.population_estimate = None;
            r
        };
        let rows = vec![
            row("h", TOTAL, TOTAL, Some(0.125), Flag::Ok),
            status("grooming", Some(2.0), Flag::Ok),
            status("plan", None, Flag::NotCollected),
        ];
        let codes: Vec<(i64, String)> = ["yes", "partial", "no", "unclear"]
            .iter()
            .zip(1..)
            .map(|(l, c)| (c, l.to_string()))
            .collect();
        let descriptions = Descriptions::from_entries(
            [(
                "legal",
                Description {
                    unit: "status code".into(),
                    codes,
                    ..Description::default()
                },
            )],
            [],
        );
        let batch = indicators_table(&[("AAA", &rows)], &descriptions, &Thresholds::NCHS)
            .unwrap_or_else(|e| panic!("{e}"));
        let labels = batch
            .column_by_name("estimate_label")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned());
        let labels: Vec<Option<&str>> = labels.as_ref().map_or(Vec::new(), |a| a.iter().collect());
        assert_eq!(labels, [None, Some("partial"), None]);
        let schema = batch.schema();
        let field = schema.field_with_name("estimate_label");
        assert!(field.is_ok_and(|f| f.is_nullable()));
        let csv = indicators_csv(&[("AAA", &rows)], &descriptions);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].ends_with(",flags,estimate_label"), "{}", lines[0]);
        assert!(lines[2].ends_with(",ok,ok,partial"), "{}", lines[2]);
        assert!(
            lines[3].ends_with(",not_collected,not_collected,"),
            "{}",
            lines[3]
        );
        let comparison = comparison_csv(&[("AAA", &rows)], &descriptions);
        assert!(!comparison.contains("legal"), "{comparison}");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_text("plain"), "plain");
    }
}
