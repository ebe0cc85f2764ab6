//! Typed errors of `dh-bench`: a benchmark that cannot be set up (work folder, configuration, generating the
//! deliveries). A tool that fails while being timed is not an error: it is reported in the results.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Config(#[from] dh_config::ConfigError),

    #[error("generating the deliveries failed (exit {code}): {message}")]
    Synth { code: String, message: String },

    #[error("{path}: cannot read the run's manifest: {message}")]
    Manifest { path: PathBuf, message: String },

    #[error("{0}")]
    Setup(String),
}

impl BenchError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BenchError::Io {
            path: path.into(),
            source,
        }
    }
}
