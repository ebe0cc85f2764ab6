//! `dh export`: the harmonised tables of a run (`OUT/normalised/<table>/country=*/part-0.parquet`, read only, nothing
//! recomputed) as Stata `.dta` and SPSS `.sav` files, one per table with every country and a leading `country`
//! column. [`table::build`] turns one table into a [`dh_statfile::LabelledTable`] using its schema; [`export`]
//! writes the files atomically ([`write`]). The rules (codes, labels, missing values, names) are documented in
//! [`table`].
//!
//! Other modules:
//!
//! - `error`: Why an export failed

pub mod error;
pub mod read;
pub mod table;
pub mod write;

use std::path::{Path, PathBuf};

use dh_config::SchemaSet;

pub use dh_statfile::SavCompression;
pub use error::ExportError;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Dta,
    Sav,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Dta => "dta",
            Format::Sav => "sav",
        }
    }

    /// `dta` or `sav`.
    pub fn parse(text: &str) -> Option<Format> {
        match text.trim().to_ascii_lowercase().as_str() {
            "dta" | "stata" => Some(Format::Dta),
            "sav" | "spss" => Some(Format::Sav),
            _ => None,
        }
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Output folder of a `dh run`.
    pub from: &'a Path,
    pub schemas: &'a SchemaSet,
    /// Tables to export (all tables with normalised files when `None`).
    pub tables: Option<Vec<String>>,
    /// Countries (ISO3) to include (all when `None`).
    pub countries: Option<Vec<String>>,
    pub formats: Vec<Format>,
    pub sav_compression: SavCompression,
    pub out_dir: &'a Path,
    /// Permission bits of the files written (e.g. `0o600`); the folder gets them plus execute.
    pub file_mode: u32,
}

/// One file written.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub table: String,
    pub format: Format,
    pub path: PathBuf,
    pub rows: usize,
    pub columns: usize,
}

/// Writes `DIR/<table>.dta` / `.sav` for every requested table and format (tables in name order).
pub fn export(request: &Request) -> Result<Vec<Written>, ExportError> {
    let run = read::RunOutput::open(request.from)?;
    let tables = run.select_tables(request.schemas, request.tables.as_deref())?;
    if let Some(countries) = &request.countries {
        run.check_countries(&tables, countries)?;
    }
    write::ensure_dir(request.out_dir, request.file_mode)?;
    let mut written = Vec::new();
    for name in &tables {
        let schema = request
            .schemas
            .get(name)
            .ok_or_else(|| ExportError::UnknownTable {
                table: name.clone(),
                known: request.schemas.tables.keys().cloned().collect(),
            })?;
        let parts = run.parts(name, request.countries.as_deref())?;
        let model = table::build(schema, &parts)?;
        for format in &request.formats {
            let bytes = match format {
                Format::Dta => dh_statfile::dta::encode(&model),
                Format::Sav => dh_statfile::sav::encode(&model, request.sav_compression),
            }
            .map_err(|source| ExportError::Encode {
                table: name.clone(),
                source,
            })?;
            let path = request
                .out_dir
                .join(format!("{name}.{}", format.extension()));
            write::atomic(&path, &bytes, request.file_mode)?;
            written.push(Written {
                table: name.clone(),
                format: *format,
                path,
                rows: model.rows(),
                columns: model.columns.len(),
            });
        }
    }
    Ok(written)
}
