//! Typed errors of `dh estimate`: each names the file, flag, column, row or value involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is a folder, not a data file: give one CSV or Parquet file (for a partitioned Parquet folder \
         such as OUT/normalised/<table>, one country's file: <table>/country=<ISO3>/part-0.parquet)"
    )]
    Folder { path: PathBuf },
    #[error("{path}, line {line}: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error(
        "{path}: column `{column}` has Arrow type {data_type}, which is neither numeric nor text"
    )]
    UnsupportedColumnType {
        path: PathBuf,
        column: String,
        data_type: String,
    },
    #[error("{path}: column `{column}` given to {flag} does not exist (columns: {available})")]
    ColumnNotFound {
        path: PathBuf,
        column: String,
        flag: String,
        available: String,
    },
    #[error("{path}, line {line}, column `{column}`: text is not valid UTF-8")]
    InvalidUtf8 {
        path: PathBuf,
        line: u64,
        column: String,
    },
    #[error(
        "{flag}: column `{column}` must be numeric, but holds text such as `{example}`{}",
        in_data_row(*.row)
    )]
    NotNumeric {
        flag: String,
        column: String,
        example: String,
        /// 1-based data row (header not counted) of the example, when known.
        row: Option<usize>,
    },
    #[error("{flag} `{value}`: {reason}")]
    InvalidOption {
        flag: String,
        value: String,
        reason: String,
    },
    #[error("{flag}: {reason}")]
    MissingOption { flag: String, reason: String },
    #[error("{path}: {message}")]
    Population { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Analyses { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    ReplicateWeights { path: PathBuf, message: String },
    #[error("{0}")]
    Survey(#[from] dh_survey::SurveyError),
}

fn in_data_row(row: Option<usize>) -> String {
    row.map(|r| format!(" (data row {r})")).unwrap_or_default()
}

impl EstimateError {
    pub(crate) fn invalid(flag: &str, value: impl ToString, reason: impl ToString) -> Self {
        Self::InvalidOption {
            flag: flag.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn missing(flag: &str, reason: impl ToString) -> Self {
        Self::MissingOption {
            flag: flag.to_string(),
            reason: reason.to_string(),
        }
    }
}
