//! `dh-estimate`: the `dh estimate` command as a library. It reads a CSV or Parquet table, builds a
//! survey design from options, runs estimates through `dh-survey` and formats them.
//!
//! Other modules:
//!
//! - `analyses`: `--analyses FILE.toml`: several analyses run on one read of the data and one design
//! - `build_design`: Builds the `dh-survey` design a request describes: Taylor (`svydesign`), replicate weights
//!   converted from it (`as.svrepdesign`) or supplied in a file (`svrepdesign`), and calibration
//! - `column_builder`: Accumulates one CSV column while records are parsed: numeric while every non-missing field
//!   is a number, dictionary-encoded text otherwise; builders of consecutive blocks merge in order
//! - `domains`: The `--subset` domain: a row mask where every `COL=VALUE` condition holds
//! - `engine`: `dh estimate` end to end: read the data, build the design, run the statistic through `dh-survey`,
//!   and turn its estimates into a [`Report`] with R's labels
//! - `error`: Typed errors of `dh estimate`: each names the file, flag, column, row or value involved
//! - `format`: Text outputs of a [`Report`]: `csv` (full precision, one column per `--by` variable) and the human
//!   `table` (aligned, with the design summarised on top)
//! - `population`: `--population FILE.json`: population margins for calibration, in the form of the oracle's
//!   `designs.*.margins`: either one-way tables (`{"variable", "levels", "totals"}`, for post-stratification and
//!   raking) or a model formula with totals named as R names the model matrix columns (`{"formula": "~stype+api99",
//!   "population_totals": {"(Intercept)": 6194, ...}}`)
//! - `prepared`: The data of one request, read and typed: each requested column once, categorical views built on
//!   demand (for `--by`, `--factor` and text columns), and accessors that check a column's type against the flag
//!   that names it
//! - `read_csv`: Fast columnar CSV reader: parses only the requested columns into typed columns
//! - `read_parquet`: Parquet reader: reads the requested columns into typed columns (numbers and booleans as `f64`,
//!   strings and dictionaries as categorical)
//! - `report`: The result of `dh estimate`: a design summary and one row per estimate, serialised to the `--format
//!   json` shape of the contract (numbers at full precision, `null` for NA)
//! - `request`: The argument model of `dh estimate`: what to read, the design, replication, calibration, the
//!   statistic and the domains, with validation that names the flag and value at fault

pub mod analyses;
pub mod build_design;
pub mod column_builder;
pub mod domains;
pub mod engine;
pub mod error;
pub mod format;
pub mod population;
pub mod prepared;
pub mod read_csv;
pub mod read_parquet;
pub mod report;
pub mod request;
pub mod table;

pub use engine::{estimate, render};
pub use error::EstimateError;
pub use table::{Categorical, Column, Table};

use std::fs::File;
use std::path::Path;

/// Reads the named columns of a CSV or Parquet file (chosen by extension: `.parquet`/`.pq`, else CSV).
pub fn read_table(path: &Path, columns: &[String]) -> Result<Table, EstimateError> {
    let is_parquet = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"));
    if is_parquet {
        read_parquet::read_parquet(path, columns)
    } else {
        read_csv::read_csv(path, columns)
    }
}

/// Opens the data file `path` for reading. A folder is refused with a message saying what to pass instead (a
/// partitioned Parquet folder such as `OUT/normalised/<table>` holds one `part-0.parquet` per country).
pub(crate) fn open_data_file(path: &Path) -> Result<File, EstimateError> {
    if path.is_dir() {
        return Err(EstimateError::Folder {
            path: path.to_path_buf(),
        });
    }
    File::open(path).map_err(|source| EstimateError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_named_as_such_with_what_to_pass_instead() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["data", "data.parquet", "data.csv"] {
            let path = dir.path().join(name);
            std::fs::create_dir(&path).unwrap();
            let err = read_table(&path, &["x".to_string()])
                .unwrap_err()
                .to_string();
            assert!(err.contains("is a folder, not a data file"), "{err}");
            assert!(err.contains("part-0.parquet"), "{err}");
            assert!(
                !err.contains("line 0") && !err.contains("os error"),
                "{err}"
            );
        }
    }
}
