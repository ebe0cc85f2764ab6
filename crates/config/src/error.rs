//! Typed configuration errors. Every variant carries the file and, where known, the line and key.

use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, render};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", at(path, *line))]
    Invalid {
        path: PathBuf,
        /// 1-based line number; 0 when the problem is not tied to one line.
        line: usize,
        message: String,
    },
    /// Every problem found in one or more files, each with file, line and key.
    #[error("{}", render(.0))]
    Diagnostics(Vec<Diagnostic>),
}

impl ConfigError {
    /// The problems as diagnostics (one for `Io`/`Invalid`).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            ConfigError::Io { path, source } => vec![Diagnostic::error(
                path,
                0,
                "",
                format!("cannot read: {source}"),
            )],
            ConfigError::Invalid {
                path,
                line,
                message,
            } => vec![Diagnostic::error(path, *line, "", message.clone())],
            ConfigError::Diagnostics(d) => d.clone(),
        }
    }

    pub fn invalid(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

/// `path:line`, or only `path` when the line is unknown (0).
fn at(path: &std::path::Path, line: usize) -> String {
    if line == 0 {
        path.display().to_string()
    } else {
        format!("{}:{line}", path.display())
    }
}
