//! Errors of the writers: a table the format cannot hold (names, sizes, values), or the SPSS library's refusal.

/// Why a table could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum StatfileError {
    /// The table breaks a rule of the format (variable name, number of variables, string width, value).
    #[error("{format}: {message}")]
    Invalid {
        format: &'static str,
        message: String,
    },
    /// The SPSS writer (`ambers`) or Arrow refused the table.
    #[error("{format}: {message}")]
    Library {
        format: &'static str,
        message: String,
    },
    /// Writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl StatfileError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        StatfileError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn invalid(format: &'static str, message: impl Into<String>) -> Self {
        StatfileError::Invalid {
            format,
            message: message.into(),
        }
    }
}
