//! Typed errors of the report builder: each names the file (and row, column, value where relevant).

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    #[error("{}: column `{column}` is missing or is not {expected}", path.display())]
    Column {
        path: PathBuf,
        column: String,
        expected: String,
    },
    #[error("{}: row {row}, column `{column}`: value `{value}`: {message}", path.display())]
    Value {
        path: PathBuf,
        row: usize,
        column: String,
        value: String,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Json { path: PathBuf, message: String },
    #[error("{}: not found ({hint})", path.display())]
    MissingInput { path: PathBuf, hint: String },
    #[error("page `{page}`: template error: {message}")]
    Template { page: String, message: String },
    #[error("{}: workbook: {message}", path.display())]
    Workbook { path: PathBuf, message: String },
}

impl ReportError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
