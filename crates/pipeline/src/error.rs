//! Typed errors of the pipeline. A [`PipelineError`] stops the whole run (configuration, output folder);
//! a [`CountryError`] stops one country only and is reported with the country code, file, row, column and value
//! as far as the failing stage knows them.

use std::path::{Path, PathBuf};

/// An error that stops the whole run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("configuration error: {0}")]
    Config(#[from] dh_config::ConfigError),
    #[error("configuration error: {0}")]
    ConfigMessage(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write Parquet: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("pseudonym key: {0}")]
    Key(String),
    #[error("cannot start {jobs} worker threads: {message}")]
    ThreadPool { jobs: usize, message: String },
    #[error(
        "{path}: the output folder is locked by another `dh` run; wait for it to finish (the lock is released \
         automatically when that process ends, even if it is killed)"
    )]
    Locked { path: PathBuf },
    #[error("internal error: {0}")]
    Internal(String),
}

impl PipelineError {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        PipelineError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// True for problems the user fixes in `countries/` or `schemas/` (exit code "configuration error").
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            PipelineError::Config(_) | PipelineError::ConfigMessage(_) | PipelineError::Key(_)
        )
    }
}

/// Why one country could not be processed. The other countries carry on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CountryError {
    pub country: String,
    /// Stage that failed: `config`, `read`, `normalise`, `write`, `ledger`.
    pub stage: String,
    /// Full message, naming the file, row, column and value where the failing stage knows them.
    pub message: String,
}

impl std::fmt::Display for CountryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.country, self.stage, self.message)
    }
}

impl std::error::Error for CountryError {}

impl CountryError {
    pub fn new(country: &str, stage: &str, message: impl Into<String>) -> Self {
        CountryError {
            country: country.to_string(),
            stage: stage.to_string(),
            message: dh_ingest::message::cap(message.into()),
        }
    }
}
