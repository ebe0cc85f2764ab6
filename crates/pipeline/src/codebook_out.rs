//! `OUT/codebook.md`: the Markdown codebook of the run's schemas (the text of `dh codebook`), written into the
//! staging folder on every run, published with the other outputs and listed in the manifest.

use crate::error::PipelineError;
use crate::layout::{CODEBOOK_FILE, Staging};
use crate::manifest::OutputEntry;

/// Manifest `kind` (and `table`) of the codebook entry.
pub const CODEBOOK_KIND: &str = "codebook";

/// Writes the codebook of `schemas` into the staging folder and returns its manifest entry.
pub fn write_codebook(
    staging: &Staging,
    schemas: &dh_config::SchemaSet,
) -> Result<OutputEntry, PipelineError> {
    let markdown = dh_config::render_codebook(schemas, None)?;
    let path = staging.path(CODEBOOK_FILE);
    std::fs::write(&path, markdown.as_bytes()).map_err(|e| PipelineError::io(&path, e))?;
    Ok(OutputEntry {
        path: CODEBOOK_FILE.to_string(),
        country: String::new(),
        table: CODEBOOK_KIND.to_string(),
        kind: CODEBOOK_KIND.to_string(),
        rows: 0,
        bytes: markdown.len() as u64,
        sha256: crate::hashing::sha256_hex(markdown.as_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codebook_is_staged_with_its_entry() {
        let out = tempfile::tempdir().unwrap();
        let staging = Staging::create(out.path(), "test-run").unwrap();
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        let schemas = dh_config::load_schemas(&dir).unwrap();
        let entry = write_codebook(&staging, &schemas).unwrap();
        let written = std::fs::read(staging.path(CODEBOOK_FILE)).unwrap();
        let expected = dh_config::render_codebook(&schemas, None).unwrap();
        assert_eq!(written, expected.as_bytes());
        assert_eq!(entry.path, "codebook.md");
        assert_eq!(entry.bytes, written.len() as u64);
        assert_eq!(entry.sha256, crate::hashing::sha256_hex(&written));
        assert!(expected.contains("categorical, ordered"));
    }
}
