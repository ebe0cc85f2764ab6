//! Typed configuration errors. Every variant carries the file and, where known, the line and key.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        /// 1-based line number; 0 when the problem is not tied to one line.
        line: usize,
        message: String,
    },
}

impl ConfigError {
    pub fn invalid(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        ConfigError::Invalid { path: path.into(), line, message: message.into() }
    }
}
