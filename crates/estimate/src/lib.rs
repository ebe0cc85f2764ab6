//! `dh-estimate`: the `dh estimate` command as a library. It reads a CSV or Parquet table, builds a
//! survey design from options, runs estimates through `dh-survey` and formats them.

pub mod analyses;
pub mod bench;
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
