//! `dh run --export dta,sav`: the harmonised tables of the run as Stata/SPSS files in `OUT/export/<table>.dta|.sav`
//! (written by `dh_export` from the staged normalised files, published with the rest of the run).
//!
//! Incremental: `export/inputs.sha256` records a hash of what the files were made from (tool name, version and
//! commit; the formats; the schema files' hashes; every normalised file's path and hash). When the previous run's
//! record equals this run's and its files are all there, they are carried over (hard link, else copy) instead of
//! being written again.

use std::path::Path;

use dh_config::SchemaSet;
use dh_export::{Format, Request, SavCompression};

use crate::error::PipelineError;
use crate::layout::{EXPORT_DIR, Privacy, Staging};
use crate::manifest::{Manifest, OutputEntry};

/// File inside `export/` holding the inputs hash.
pub const INPUTS_FILE: &str = "inputs.sha256";

/// Whether the files were written or carried over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportOutcome {
    Written,
    Reused,
}

/// The inputs hash of an export of `manifest`'s normalised outputs in `formats`.
pub fn inputs_hash(manifest: &Manifest, formats: &[Format]) -> String {
    let mut text = format!(
        "tool {} {} {}\nformats {}\n",
        manifest.tool.name,
        manifest.tool.version,
        manifest.tool.git_commit.as_deref().unwrap_or("-"),
        formats
            .iter()
            .map(|f| f.extension())
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut schemas: Vec<_> = manifest.schemas.iter().collect();
    schemas.sort_by(|a, b| a.path.cmp(&b.path));
    for s in schemas {
        text.push_str(&format!("schema {} {}\n", s.path, s.sha256));
    }
    let mut parts: Vec<&OutputEntry> = manifest
        .outputs
        .iter()
        .filter(|o| o.kind == "normalised")
        .collect();
    parts.sort_by(|a, b| a.path.cmp(&b.path));
    for o in parts {
        text.push_str(&format!("normalised {} {}\n", o.path, o.sha256));
    }
    crate::hashing::sha256_hex(text.as_bytes())
}

/// Writes (or carries over) `export/` in the staging folder and returns its manifest entries.
pub fn export(
    staging: &Staging,
    out: &Path,
    schemas: &SchemaSet,
    formats: &[Format],
    manifest: &Manifest,
    privacy: Privacy,
) -> Result<(Vec<OutputEntry>, ExportOutcome), PipelineError> {
    let mut formats = formats.to_vec();
    formats.sort();
    formats.dedup();
    let hash = inputs_hash(manifest, &formats);
    let staged = staging.path(EXPORT_DIR);
    privacy.create_dir(&staged)?;
    let previous = out.join(EXPORT_DIR);
    let outcome = if reuse(&previous, &staged, &hash)? {
        ExportOutcome::Reused
    } else {
        let request = Request {
            from: staging.root(),
            schemas,
            tables: None,
            countries: None,
            formats,
            sav_compression: SavCompression::Bytecode,
            out_dir: &staged,
            file_mode: privacy.file_mode(),
        };
        dh_export::export(&request).map_err(|e| match e {
            dh_export::ExportError::Io { path, source } => PipelineError::Io { path, source },
            e => PipelineError::Internal(format!("export: {e}")),
        })?;
        let record = staged.join(INPUTS_FILE);
        std::fs::write(&record, format!("{hash}\n")).map_err(|e| PipelineError::io(&record, e))?;
        ExportOutcome::Written
    };
    privacy.apply(&staged, true)?;
    let entries = crate::layout::hashed_files(staging, &[EXPORT_DIR], "export")?;
    Ok((entries, outcome))
}

/// Carries the previous export into `staged` when its recorded hash is `hash`; `false` when it cannot.
fn reuse(previous: &Path, staged: &Path, hash: &str) -> Result<bool, PipelineError> {
    let recorded = std::fs::read_to_string(previous.join(INPUTS_FILE)).unwrap_or_default();
    if recorded.trim() != hash {
        return Ok(false);
    }
    let Ok(entries) = std::fs::read_dir(previous) else {
        return Ok(false);
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let (from, to) = (previous.join(name), staged.join(name));
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(|e| PipelineError::io(&to, e))?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::HashedFile;

    #[test]
    fn inputs_hash_follows_tool_formats_schemas_and_normalised_files_only() {
        let mut m = Manifest::default();
        m.tool.name = "dh".into();
        m.tool.version = "0.1.0".into();
        m.schemas.push(HashedFile {
            path: "child_survey.json".into(),
            sha256: "aa".into(),
        });
        m.outputs.push(OutputEntry {
            path: "normalised/child_survey/country=KEN/part-0.parquet".into(),
            kind: "normalised".into(),
            sha256: "bb".into(),
            ..Default::default()
        });
        let base = inputs_hash(&m, &[Format::Dta]);
        assert_eq!(base, inputs_hash(&m, &[Format::Dta]));
        assert_ne!(base, inputs_hash(&m, &[Format::Dta, Format::Sav]));
        let mut other = m.clone();
        other.outputs.push(OutputEntry {
            path: "report/index.html".into(),
            kind: "report".into(),
            sha256: "cc".into(),
            ..Default::default()
        });
        assert_eq!(base, inputs_hash(&other, &[Format::Dta]));
        other.outputs[0].sha256 = "bc".into();
        assert_ne!(base, inputs_hash(&other, &[Format::Dta]));
        let mut newer = m.clone();
        newer.tool.version = "0.2.0".into();
        assert_ne!(base, inputs_hash(&newer, &[Format::Dta]));
    }
}
