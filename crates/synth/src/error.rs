//! Typed errors of `dh-synth`. Every variant names the country, and where relevant the file, table, column, key
//! or value, so a failing configuration can be fixed without reading the code.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{iso3}: [synth] setting `{key}`: {message}")]
    Setting {
        iso3: String,
        key: String,
        message: String,
    },

    #[error("{iso3}: [synth.prevalence] `{key}`: {message}")]
    Prevalence {
        iso3: String,
        key: String,
        message: String,
    },

    #[error("{iso3}: population cells: {message}")]
    Population { iso3: String, message: String },

    #[error("table `{table}`, field `{field}`: universe `{expr}` at byte {offset}: {message}")]
    Universe {
        table: String,
        field: String,
        expr: String,
        offset: usize,
        message: String,
    },

    #[error("table `{table}`, field `{field}`: {message}")]
    Schema {
        table: String,
        field: String,
        message: String,
    },

    #[error("{iso3}: delivery `{table}` ({file}): {message}")]
    Delivery {
        iso3: String,
        table: String,
        file: String,
        message: String,
    },

    #[error("{iso3}: sample: {message}")]
    Sample { iso3: String, message: String },

    #[error(
        "{path}: value `{value}` in row {row}, column `{column}` cannot be written in {encoding}"
    )]
    Encoding {
        path: PathBuf,
        row: u64,
        column: String,
        value: String,
        encoding: String,
    },

    #[error("{path}: cannot write {format}: {message}")]
    Format {
        path: PathBuf,
        format: &'static str,
        message: String,
    },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: cannot serialise: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("resized tables: {message}")]
    Resize { message: String },

    #[error(transparent)]
    Config(#[from] dh_config::ConfigError),
}

impl SynthError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SynthError::Io {
            path: path.into(),
            source,
        }
    }
}
