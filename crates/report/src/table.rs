//! The indicator table `OUT/indicators/indicators.parquet` as the report reads it: one [`IndicatorRow`] per
//! country x indicator x domain level, with the publication flag deciding what may be shown
//! ([`IndicatorRow::shown`]) and the `flags` column giving every warning on a shown estimate (low base,
//! unreliable, non-representative: each is shown). Only the columns of the published contract are read (a table
//! written before the `flags` column existed is read with its `flag` as the only condition).

use std::fs::File;
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int64Type, UInt64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::ReportError;

/// The `domain` (and `domain_value`) of the whole-universe row.
pub const TOTAL: &str = "total";

/// One row of the indicator table.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    pub country: String,
    pub indicator: String,
    pub indicator_version: String,
    pub domain: String,
    pub domain_value: String,
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    pub ci_method: String,
    pub n_unweighted: u64,
    pub population_estimate: Option<f64>,
    /// The primary flag (the first of `flags`).
    pub flag: String,
    /// Every condition that holds, in the stage's precedence order (`["ok"]` when none).
    pub flags: Vec<String>,
}

/// Flags under which an estimate is shown (with a warning for all but `ok`).
pub const SHOWN_FLAGS: [&str; 4] = ["ok", "low_base", "unreliable", "non_representative"];

/// What may be shown of an estimate: the estimate and interval only when the primary flag is one of
/// [`SHOWN_FLAGS`]; the warnings come from every condition of the row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shown {
    pub estimate: f64,
    pub ci: Option<(f64, f64)>,
    pub low_base: bool,
    /// Imprecise by the NCHS reliability rules: shown, labelled.
    pub unreliable: bool,
    /// An unweighted estimate from a non-probability sample (frontline workers): shown, labelled.
    pub non_representative: bool,
}

impl IndicatorRow {
    pub fn is_total(&self) -> bool {
        self.domain == TOTAL
    }

    /// Whether the row's case count is withheld too (a row withheld by the small-count rule publishes n = 0 in
    /// place of its count, which must read as "withheld", not as "no cases").
    pub fn n_withheld(&self) -> bool {
        self.n_unweighted == 0 && self.shown().is_none() && self.has("suppressed_small_count")
    }

    /// Whether `flag` is among the row's conditions.
    pub fn has(&self, flag: &str) -> bool {
        self.flag == flag || self.flags.iter().any(|f| f == flag)
    }

    /// The publishable estimate; `None` for suppressed, not-collected or unknown flags, whatever the row holds,
    /// and when any condition of the row withholds the estimate.
    pub fn shown(&self) -> Option<Shown> {
        let all_shown = std::iter::once(&self.flag)
            .chain(&self.flags)
            .all(|f| SHOWN_FLAGS.contains(&f.as_str()));
        if !all_shown {
            return None;
        }
        let (low_base, unreliable, non_representative) = (
            self.has("low_base"),
            self.has("unreliable"),
            self.has("non_representative"),
        );
        let estimate = self.estimate.filter(|e| e.is_finite())?;
        let ci = match (self.ci_lower, self.ci_upper) {
            (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() => Some((lo, hi)),
            _ => None,
        };
        Some(Shown {
            estimate,
            ci,
            low_base,
            unreliable,
            non_representative,
        })
    }

    /// The population estimate when the estimate itself may be shown.
    pub fn shown_population(&self) -> Option<f64> {
        self.shown()
            .and(self.population_estimate)
            .filter(|p| p.is_finite())
    }
}

/// Reads every row of an indicator Parquet file, in file order.
pub fn read_indicators(path: &Path) -> Result<Vec<IndicatorRow>, ReportError> {
    let file = File::open(path).map_err(|e| ReportError::io(path, e))?;
    let parquet_err = |e: &dyn std::fmt::Display| ReportError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| parquet_err(&e))?
        .build()
        .map_err(|e| parquet_err(&e))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| parquet_err(&e))?;
        append_rows(path, &batch, &mut rows)?;
    }
    Ok(rows)
}

fn append_rows(
    path: &Path,
    batch: &RecordBatch,
    rows: &mut Vec<IndicatorRow>,
) -> Result<(), ReportError> {
    let cols = Columns { path, batch };
    let country = cols.text("country")?;
    let indicator = cols.text("indicator")?;
    let version = cols.text("indicator_version")?;
    let domain = cols.text("domain")?;
    let domain_value = cols.text("domain_value")?;
    let estimate = cols.float("estimate")?;
    let se = cols.float("se")?;
    let lower = cols.float("ci_lower")?;
    let upper = cols.float("ci_upper")?;
    let method = cols.text("ci_method")?;
    let n = cols.count("n_unweighted")?;
    let population = cols.float("population_estimate")?;
    let flag = cols.text("flag")?;
    let flags = match batch.column_by_name("flags") {
        Some(_) => Some(cols.text("flags")?),
        None => None,
    };
    let first = rows.len();
    for i in 0..batch.num_rows() {
        let required = |values: &[Option<String>], column: &str| {
            values[i].clone().ok_or_else(|| ReportError::Value {
                path: path.to_path_buf(),
                row: first + i + 1,
                column: column.into(),
                value: "null".into(),
                message: "a value is required".into(),
            })
        };
        rows.push(IndicatorRow {
            country: required(&country, "country")?,
            indicator: required(&indicator, "indicator")?,
            indicator_version: version[i].clone().unwrap_or_default(),
            domain: required(&domain, "domain")?,
            domain_value: required(&domain_value, "domain_value")?,
            estimate: estimate[i],
            se: se[i],
            ci_lower: lower[i],
            ci_upper: upper[i],
            ci_method: method[i].clone().unwrap_or_default(),
            n_unweighted: n[i].unwrap_or(0),
            population_estimate: population[i],
            flag: required(&flag, "flag")?,
            flags: match &flags {
                Some(all) => required(all, "flags")?
                    .split(';')
                    .map(str::to_string)
                    .collect(),
                None => vec![required(&flag, "flag")?],
            },
        });
    }
    Ok(())
}

struct Columns<'a> {
    path: &'a Path,
    batch: &'a RecordBatch,
}

impl Columns<'_> {
    fn column(&self, name: &str, expected: &str) -> Result<&dyn Array, ReportError> {
        self.batch
            .column_by_name(name)
            .map(|c| c.as_ref())
            .ok_or_else(|| self.wrong(name, expected))
    }

    fn wrong(&self, name: &str, expected: &str) -> ReportError {
        ReportError::Column {
            path: self.path.to_path_buf(),
            column: name.into(),
            expected: expected.into(),
        }
    }

    fn text(&self, name: &str) -> Result<Vec<Option<String>>, ReportError> {
        let col = self.column(name, "text")?;
        match col.data_type() {
            DataType::Utf8 => Ok(col
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()),
            DataType::LargeUtf8 => Ok(col
                .as_string::<i64>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()),
            DataType::Utf8View => Ok(col
                .as_string_view()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()),
            _ => Err(self.wrong(name, "text")),
        }
    }

    fn float(&self, name: &str) -> Result<Vec<Option<f64>>, ReportError> {
        let col = self.column(name, "a 64-bit float")?;
        match col.data_type() {
            DataType::Float64 => Ok(col.as_primitive::<Float64Type>().iter().collect()),
            _ => Err(self.wrong(name, "a 64-bit float")),
        }
    }

    fn count(&self, name: &str) -> Result<Vec<Option<u64>>, ReportError> {
        let col = self.column(name, "an integer")?;
        match col.data_type() {
            DataType::UInt64 => Ok(col.as_primitive::<UInt64Type>().iter().collect()),
            DataType::Int64 => Ok(col
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.and_then(|x| u64::try_from(x).ok()))
                .collect()),
            _ => Err(self.wrong(name, "an integer")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(flag: &str, estimate: Option<f64>) -> IndicatorRow {
        IndicatorRow {
            country: "THA".into(),
            indicator: "h".into(),
            indicator_version: "1.0.0".into(),
            domain: TOTAL.into(),
            domain_value: TOTAL.into(),
            estimate,
            se: estimate.map(|_| 0.01),
            ci_lower: estimate.map(|e| e - 0.02),
            ci_upper: estimate.map(|e| e + 0.02),
            ci_method: "logit".into(),
            n_unweighted: 100,
            population_estimate: estimate.map(|e| e * 1000.0),
            flag: flag.into(),
            flags: vec![flag.into()],
        }
    }

    #[test]
    fn a_count_withheld_by_the_small_count_rule_reads_as_withheld_not_as_zero() {
        let mut withheld = row("suppressed_small_count", None);
        withheld.n_unweighted = 0;
        assert!(withheld.n_withheld());
        // a suppressed row of a true empty base keeps its n = 0; a shown row keeps its n
        let mut empty = row("suppressed", None);
        empty.n_unweighted = 0;
        assert!(!empty.n_withheld());
        assert!(!row("ok", Some(0.5)).n_withheld());
    }

    #[test]
    fn only_ok_and_low_base_rows_are_shown() {
        assert!(row("ok", Some(0.1)).shown().is_some());
        assert!(
            row("low_base", Some(0.1))
                .shown()
                .is_some_and(|s| s.low_base)
        );
        // A suppressed row is never shown, even if a value slipped into it.
        assert_eq!(row("suppressed", Some(0.1)).shown(), None);
        assert_eq!(row("suppressed", Some(0.1)).shown_population(), None);
        assert_eq!(row("not_collected", Some(0.0)).shown(), None);
        assert_eq!(row("suppressed_small_count", Some(3.0)).shown(), None);
        assert!(
            row("non_representative", Some(0.4))
                .shown()
                .is_some_and(|s| s.non_representative)
        );
        assert_eq!(row("unexpected", Some(0.1)).shown(), None);
        assert!(
            row("unreliable", Some(0.1))
                .shown()
                .is_some_and(|s| s.unreliable)
        );
        assert_eq!(row("ok", None).shown(), None);
        assert_eq!(row("ok", Some(f64::NAN)).shown(), None);
    }

    #[test]
    fn every_warning_of_a_row_is_kept() {
        let mut r = row("low_base", Some(0.4));
        r.flags = vec!["low_base".into(), "non_representative".into()];
        let s = r.shown().unwrap_or_else(|| panic!("shown"));
        assert!(s.low_base && s.non_representative && !s.unreliable);
        // A withholding condition anywhere in the list hides the estimate.
        r.flags.push("suppressed".into());
        assert_eq!(r.shown(), None);
    }

    #[test]
    fn missing_file_and_wrong_columns_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let err = read_indicators(&dir.path().join("none.parquet")).unwrap_err();
        assert!(matches!(err, ReportError::Io { .. }));
        let bad = dir.path().join("bad.parquet");
        std::fs::write(&bad, b"not parquet").unwrap_or_else(|e| panic!("{e}"));
        let err = read_indicators(&bad).unwrap_err();
        assert!(err.to_string().contains("bad.parquet"), "{err}");
    }
}
