//! Typed errors of the pipeline. A [`PipelineError`] stops the whole run (configuration, output folder, I/O
//! faults such as a full disk); a [`CountryError`] stops one country only and is reported with the country code,
//! file, row and column as far as the failing stage knows them.

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
    #[error(
        "{path}: the output folder holds entries that `dh` did not write ({entries}) and no `dh` manifest; \
         refusing to replace them. Choose an empty or new folder for --out-dir, or move those entries away"
    )]
    ForeignOutDir { path: PathBuf, entries: String },
    #[error("country {}: cannot write its outputs: {}", .0.country, .0.message)]
    CountryIo(CountryError),
    #[error("interrupted by {signal}")]
    Interrupted { signal: &'static str },
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
            PipelineError::Config(_)
                | PipelineError::ConfigMessage(_)
                | PipelineError::Key(_)
                | PipelineError::ForeignOutDir { .. }
        )
    }

    /// True for faults of the file system (disk full, read-only or unwritable output folder, a lock path that
    /// cannot be opened): exit code "I/O error", not a bug.
    pub fn is_io(&self) -> bool {
        matches!(self, PipelineError::Io { .. } | PipelineError::CountryIo(_))
    }
}

/// Why one country could not be processed. The other countries carry on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CountryError {
    pub country: String,
    /// Stage that failed: `config`, `read`, `normalise`, `write`, `ledger`.
    pub stage: String,
    /// Full message, naming the file, row and column where the failing stage knows them.
    pub message: String,
    /// The failure is an I/O fault of the output folder (e.g. disk full), not a problem of the delivery: the
    /// whole run stops with the I/O exit code.
    #[serde(skip)]
    pub io_fault: bool,
    /// The failure is a bug in `dh` (its work panicked), not a problem of the delivery: the other countries are
    /// published and the run exits with the internal-error code.
    #[serde(skip)]
    pub internal: bool,
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
            io_fault: false,
            internal: false,
        }
    }

    /// A bug met while processing the country (its work panicked), stage `internal`.
    pub fn internal(country: &str) -> Self {
        CountryError {
            internal: true,
            ..CountryError::new(
                country,
                "internal",
                "internal error while processing this country (a bug in dh, not a fault of the delivery); \
                 its outputs were not published; please report it",
            )
        }
    }

    /// A failure to write the country's outputs (the file system's fault, not the delivery's).
    pub fn io_fault(country: &str, stage: &str, message: impl Into<String>) -> Self {
        CountryError {
            io_fault: true,
            ..CountryError::new(country, stage, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_faults_are_told_apart_from_configuration_and_internal_errors() {
        let full = std::io::Error::from_raw_os_error(28);
        let err = PipelineError::io("/out/.staging-r1/manifest.json", full);
        assert!(err.is_io() && !err.is_config());
        assert!(
            err.to_string().contains("/out/.staging-r1/manifest.json"),
            "{err}"
        );
        let country =
            PipelineError::CountryIo(CountryError::io_fault("THA", "write", "/out/x: disk full"));
        assert!(country.is_io());
        assert_eq!(
            country.to_string(),
            "country THA: cannot write its outputs: /out/x: disk full"
        );
        assert!(!PipelineError::Internal("bug".into()).is_io());
        let foreign = PipelineError::ForeignOutDir {
            path: "/out".into(),
            entries: "notes.txt".into(),
        };
        assert!(foreign.is_config() && !foreign.is_io());
        assert!(!CountryError::new("THA", "read", "x").io_fault);
    }
}
