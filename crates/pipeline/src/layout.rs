//! Where things live under the output folder `OUT`, and how a run is published.
//!
//! A run writes everything into a private staging folder `OUT/.staging-<run-id>/` with the final layout
//! (`normalised/<table>/country=<ISO3>/part-0.parquet`, `quarantine/...`, `manifest.json`). Publication then
//! moves each previous top-level entry aside and renames the staged one into place, the manifest last, so readers
//! that look at the manifest never see it describe files that are not there. The run log goes to
//! `OUT/runs/<run-id>.json` and is never staged (it is an append-only history, not part of the result).

use std::path::{Path, PathBuf};

use crate::error::PipelineError;

/// File name of the manifest inside `OUT`.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Folder of harmonised tables inside `OUT`.
pub const NORMALISED_DIR: &str = "normalised";
/// Folder of rejected rows inside `OUT`.
pub const QUARANTINE_DIR: &str = "quarantine";
/// Folder of the cross-country indicator tables inside `OUT`.
pub const INDICATORS_DIR: &str = "indicators";
/// Folder of run logs inside `OUT`.
pub const RUNS_DIR: &str = "runs";

/// Path of a table partition relative to `OUT` (always with `/`, also on Windows, for the manifest).
pub fn partition_rel_path(top: &str, table: &str, iso3: &str) -> String {
    format!("{top}/{table}/country={iso3}/part-0.parquet")
}

/// A staging folder under `OUT` that becomes the published result.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    root: PathBuf,
    run_id: String,
}

impl Staging {
    /// Creates `OUT/.staging-<run-id>/` (and `OUT` itself if needed).
    pub fn create(out: &Path, run_id: &str) -> Result<Staging, PipelineError> {
        let root = out.join(format!(".staging-{run_id}"));
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| PipelineError::io(&root, e))?;
        }
        std::fs::create_dir_all(&root).map_err(|e| PipelineError::io(&root, e))?;
        Ok(Staging {
            out: out.to_path_buf(),
            root,
            run_id: run_id.to_string(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Absolute path in the staging folder of a path relative to `OUT`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Moves the staged result into `OUT`, replacing the previous run's `normalised/`, `quarantine/` and manifest.
    pub fn publish(self) -> Result<(), PipelineError> {
        let old = self.out.join(format!(".previous-{}", self.run_id));
        std::fs::create_dir_all(&old).map_err(|e| PipelineError::io(&old, e))?;
        // Directories first, the manifest last.
        for name in [
            NORMALISED_DIR,
            QUARANTINE_DIR,
            INDICATORS_DIR,
            MANIFEST_FILE,
        ] {
            let target = self.out.join(name);
            if target.exists() {
                std::fs::rename(&target, old.join(name))
                    .map_err(|e| PipelineError::io(&target, e))?;
            }
            let staged = self.root.join(name);
            if staged.exists() {
                std::fs::rename(&staged, &target).map_err(|e| PipelineError::io(&staged, e))?;
            }
        }
        std::fs::remove_dir_all(&old).map_err(|e| PipelineError::io(&old, e))?;
        std::fs::remove_dir_all(&self.root).map_err(|e| PipelineError::io(&self.root, e))?;
        Ok(())
    }

    /// Removes the staging folder without publishing (used when the run is abandoned).
    pub fn discard(self) -> Result<(), PipelineError> {
        std::fs::remove_dir_all(&self.root).map_err(|e| PipelineError::io(&self.root, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_paths_follow_hive_layout() {
        assert_eq!(
            partition_rel_path(NORMALISED_DIR, "child_survey", "THA"),
            "normalised/child_survey/country=THA/part-0.parquet"
        );
    }

    #[test]
    fn publish_replaces_previous_run_entirely() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("normalised/old_table")).unwrap();
        std::fs::write(out.join("manifest.json"), "old").unwrap();
        std::fs::create_dir_all(out.join("runs")).unwrap();
        std::fs::write(out.join("runs/r0.json"), "log").unwrap();

        let staging = Staging::create(&out, "r1").unwrap();
        let part = staging.path(&partition_rel_path(NORMALISED_DIR, "t", "THA"));
        std::fs::create_dir_all(part.parent().unwrap()).unwrap();
        std::fs::write(&part, "new").unwrap();
        std::fs::write(staging.path(MANIFEST_FILE), "new").unwrap();
        staging.publish().unwrap();

        assert!(!out.join("normalised/old_table").exists());
        assert_eq!(
            std::fs::read_to_string(out.join("normalised/t/country=THA/part-0.parquet")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("manifest.json")).unwrap(),
            "new"
        );
        assert!(!out.join("quarantine").exists());
        assert!(out.join("runs/r0.json").exists(), "run logs are kept");
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(
            leftovers.is_empty(),
            "staging and previous folders are removed"
        );
    }
}
