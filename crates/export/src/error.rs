//! Why an export failed. [`ExportError::is_usage`] separates problems of the request (not a run output, unknown
//! table or country) from data and I/O errors.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "{}: not the output folder of a `dh run` (no manifest.json or normalised/)", path.display()
    )]
    NotARunOutput { path: PathBuf },
    #[error("no table `{table}` in this run; known tables: {}", known.join(", "))]
    UnknownTable { table: String, known: Vec<String> },
    #[error("no country `{country}` in the exported tables; countries of this run: {}", known.join(", "))]
    UnknownCountry { country: String, known: Vec<String> },
    /// A normalised file does not match its schema (a column absent or of another type, a label not in the
    /// codebook, another schema version).
    #[error("{}: {message}", path.display())]
    Mismatch { path: PathBuf, message: String },
    #[error("{}: cannot read Parquet: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    #[error("table `{table}`: {source}")]
    Encode {
        table: String,
        #[source]
        source: dh_statfile::StatfileError,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ExportError {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        ExportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A problem of the request rather than of the data or the disk.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ExportError::NotARunOutput { .. }
                | ExportError::UnknownTable { .. }
                | ExportError::UnknownCountry { .. }
        )
    }
}
