//! The run output folder as export reads it: `manifest.json` (its presence marks a `dh run` output) and
//! `normalised/<table>/country=<ISO3>/part-0.parquet`, countries in name order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use dh_config::SchemaSet;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::ExportError;

/// File name of one country's part of a normalised table.
pub const PART_FILE: &str = "part-0.parquet";

/// One country's rows of a table.
#[derive(Debug)]
pub struct Part {
    pub country: String,
    pub path: PathBuf,
    /// `dh.schema_version` of the file's metadata, if recorded.
    pub schema_version: Option<String>,
    pub batches: Vec<RecordBatch>,
}

/// A `dh run` output folder.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub root: PathBuf,
    pub normalised: PathBuf,
}

impl RunOutput {
    /// Refuses a folder without `manifest.json` and `normalised/`.
    pub fn open(root: &Path) -> Result<RunOutput, ExportError> {
        let normalised = root.join("normalised");
        if !root.join("manifest.json").is_file() || !normalised.is_dir() {
            return Err(ExportError::NotARunOutput {
                path: root.to_path_buf(),
            });
        }
        Ok(RunOutput {
            root: root.to_path_buf(),
            normalised,
        })
    }

    /// Tables with a schema and a folder under `normalised/`, in name order.
    pub fn tables(&self, schemas: &SchemaSet) -> Result<Vec<String>, ExportError> {
        Ok(subfolders(&self.normalised)?
            .into_iter()
            .filter(|t| schemas.get(t).is_some())
            .collect())
    }

    /// The requested tables (each must exist), or all of them.
    pub fn select_tables(
        &self,
        schemas: &SchemaSet,
        requested: Option<&[String]>,
    ) -> Result<Vec<String>, ExportError> {
        let known = self.tables(schemas)?;
        let Some(requested) = requested else {
            return Ok(known);
        };
        let mut out = BTreeSet::new();
        for t in requested {
            if !known.contains(t) {
                return Err(ExportError::UnknownTable {
                    table: t.clone(),
                    known,
                });
            }
            out.insert(t.clone());
        }
        Ok(out.into_iter().collect())
    }

    /// Countries (ISO3) with a part of `table`, in name order.
    pub fn countries(&self, table: &str) -> Result<Vec<String>, ExportError> {
        Ok(subfolders(&self.normalised.join(table))?
            .into_iter()
            .filter_map(|d| d.strip_prefix("country=").map(str::to_string))
            .collect())
    }

    /// Every requested country must have a part of at least one of `tables`.
    pub fn check_countries(
        &self,
        tables: &[String],
        requested: &[String],
    ) -> Result<(), ExportError> {
        let mut known = BTreeSet::new();
        for t in tables {
            known.extend(self.countries(t)?);
        }
        for c in requested {
            if !known.contains(c) {
                return Err(ExportError::UnknownCountry {
                    country: c.clone(),
                    known: known.into_iter().collect(),
                });
            }
        }
        Ok(())
    }

    /// The parts of `table` (only `only`'s countries when given), read, in country order.
    pub fn parts(&self, table: &str, only: Option<&[String]>) -> Result<Vec<Part>, ExportError> {
        let mut parts = Vec::new();
        for country in self.countries(table)? {
            if only.is_some_and(|o| !o.contains(&country)) {
                continue;
            }
            let path = self
                .normalised
                .join(table)
                .join(format!("country={country}"))
                .join(PART_FILE);
            let (schema_version, batches) = read_parquet(&path)?;
            parts.push(Part {
                country,
                path,
                schema_version,
                batches,
            });
        }
        Ok(parts)
    }
}

/// Names of the subfolders of `dir`, sorted (none when `dir` does not exist).
fn subfolders(dir: &Path) -> Result<Vec<String>, ExportError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ExportError::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ExportError::io(dir, e))?;
        if entry.path().is_dir() {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// The batches and recorded schema version of one Parquet file.
pub fn read_parquet(path: &Path) -> Result<(Option<String>, Vec<RecordBatch>), ExportError> {
    let perr = |message: String| ExportError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| ExportError::io(path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| perr(e.to_string()))?;
    let version = builder
        .schema()
        .metadata()
        .get("dh.schema_version")
        .cloned();
    let reader = builder.build().map_err(|e| perr(e.to_string()))?;
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| perr(e.to_string()))?;
    Ok((version, batches))
}
