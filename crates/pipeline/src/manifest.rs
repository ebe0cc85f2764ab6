//! The run manifest `OUT/manifest.json`: its types live in `dh-manifest` (shared with the report, which reads it);
//! this module re-exports them and holds the pipeline's path and write helpers.

pub use dh_manifest::*;

use crate::error::PipelineError;

/// The manifest's bytes (pretty JSON with a trailing newline) as a pipeline result.
pub fn manifest_bytes(manifest: &Manifest) -> Result<Vec<u8>, PipelineError> {
    manifest
        .to_bytes()
        .map_err(|e| PipelineError::Internal(e.to_string()))
}

/// A path relative to `base`, with `/` separators; falls back to the file name when `path` is not under `base`.
pub fn relative_path(path: &std::path::Path, base: &std::path::Path) -> String {
    let rel = path
        .strip_prefix(base)
        .ok()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| {
            path.file_name()
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| path.to_path_buf())
        });
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn relative_paths_use_forward_slashes() {
        assert_eq!(
            relative_path(Path::new("/raw/THA/child.csv"), Path::new("/raw")),
            "THA/child.csv"
        );
        assert_eq!(
            relative_path(Path::new("/elsewhere/x.toml"), Path::new("/raw")),
            "x.toml"
        );
    }
}
