//! `dh-estimate`: the `dh estimate` command as a library. It reads a CSV or Parquet table, builds a
//! survey design from options, runs estimates through `dh-survey` and formats them.

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
