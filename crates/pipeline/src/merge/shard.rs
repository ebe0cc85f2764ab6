//! One shard of `dh merge`: the output folder of a finished `dh run`, read under its shared lock, with its
//! manifest and (read on demand) its indicator rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dh_indicators::estimate::EstimateRow;

use super::MergeError;
use crate::incremental::previous_indicator_rows;
use crate::layout::{MANIFEST_FILE, PUBLISHING_MARKER, ReadLock};
use crate::manifest::Manifest;

/// A shard as given on the command line, its manifest and the lock that keeps a `dh run` from writing it.
#[derive(Debug)]
pub struct Shard {
    /// As given (for messages).
    pub path: PathBuf,
    /// The same folder, canonical (to tell shards and `OUT` apart).
    pub canonical: PathBuf,
    pub manifest: Manifest,
    /// `None` when the shard is `OUT` itself (the merge holds `OUT`'s own lock).
    _lock: Option<ReadLock>,
}

impl Shard {
    /// Opens `path` as a shard: an existing folder holding a `dh` manifest and no half-finished publication,
    /// locked for reading unless it is `out_canonical` (the merge's own, already locked, output folder).
    pub fn open(path: &Path, out_canonical: Option<&Path>) -> Result<Shard, MergeError> {
        let refuse = |problem: String| MergeError::Shard {
            shard: path.to_path_buf(),
            problem,
        };
        let canonical = path
            .canonicalize()
            .map_err(|e| refuse(format!("not a dh output folder ({e})")))?;
        if !canonical.is_dir() {
            return Err(refuse(
                "not a dh output folder (it is a file, not a folder)".into(),
            ));
        }
        let lock = if Some(canonical.as_path()) == out_canonical {
            None
        } else {
            Some(ReadLock::acquire(&canonical)?)
        };
        if let Some(name) = interrupted_publication(&canonical) {
            return Err(refuse(format!(
                "its last `dh run` was interrupted while publishing ({name}); run `dh run` on it again (it \
                 completes the publication) before merging"
            )));
        }
        let manifest_path = canonical.join(MANIFEST_FILE);
        let bytes = std::fs::read(&manifest_path).map_err(|_| {
            refuse(format!(
                "not a dh output folder (no {MANIFEST_FILE}); pass the --out-dir of a finished `dh run`"
            ))
        })?;
        let manifest = match Manifest::from_bytes(&bytes) {
            Ok(m) if m.tool.name == "dh" => m,
            Ok(_) => {
                return Err(refuse(format!(
                    "not a dh output folder ({MANIFEST_FILE} is not a dh manifest)"
                )));
            }
            // the reader's message names the field that is missing, renamed or unknown
            Err(e) => {
                return Err(refuse(format!(
                    "not a dh output folder ({MANIFEST_FILE} is not a dh manifest: {e})"
                )));
            }
        };
        Ok(Shard {
            path: path.to_path_buf(),
            canonical,
            manifest,
            _lock: lock,
        })
    }

    /// The shard's indicator rows by country, read from its `indicators/indicators.parquet` once the file is
    /// checked against its manifest.
    pub fn indicator_rows(&self) -> Result<BTreeMap<String, Vec<EstimateRow>>, MergeError> {
        previous_indicator_rows(&self.manifest, &self.canonical).map_err(|problem| {
            MergeError::Shard {
                shard: self.path.clone(),
                problem: format!("its indicator rows cannot be read: {problem}"),
            }
        })
    }
}

/// The staging folder of a publication that began and did not end, if any (its manifest may describe a mix).
fn interrupted_publication(dir: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.starts_with(".staging-") && dir.join(name).join(PUBLISHING_MARKER).is_file()
        })
        .collect();
    names.sort();
    names.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ToolInfo;

    fn dh_manifest() -> Vec<u8> {
        Manifest {
            tool: ToolInfo {
                name: "dh".into(),
                ..Default::default()
            },
            ..Default::default()
        }
        .to_bytes()
        .unwrap()
    }

    #[test]
    fn a_folder_without_a_dh_manifest_is_not_a_shard() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let text = Shard::open(&missing, None).unwrap_err().to_string();
        assert!(text.contains("not a dh output folder"), "{text}");
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let text = Shard::open(&empty, None).unwrap_err().to_string();
        assert!(text.contains("no manifest.json"), "{text}");
        std::fs::write(empty.join(MANIFEST_FILE), "{}").unwrap();
        let text = Shard::open(&empty, None).unwrap_err().to_string();
        assert!(text.contains("is not a dh manifest"), "{text}");
        assert!(text.contains("missing field"), "{text}");
        let renamed = String::from_utf8(dh_manifest())
            .unwrap()
            .replace("\"inputs\"", "\"input_files\"");
        std::fs::write(empty.join(MANIFEST_FILE), renamed).unwrap();
        let text = Shard::open(&empty, None).unwrap_err().to_string();
        assert!(text.contains("`input_files`"), "{text}");
        std::fs::write(empty.join(MANIFEST_FILE), dh_manifest()).unwrap();
        assert!(Shard::open(&empty, None).is_ok());
    }

    #[test]
    fn a_shard_whose_publication_was_interrupted_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), dh_manifest()).unwrap();
        let staging = dir.path().join(".staging-r1");
        std::fs::create_dir_all(&staging).unwrap();
        assert!(Shard::open(dir.path(), None).is_ok(), "a run in progress");
        std::fs::write(staging.join(PUBLISHING_MARKER), "normalised").unwrap();
        let text = Shard::open(dir.path(), None).unwrap_err().to_string();
        assert!(text.contains("interrupted while publishing"), "{text}");
    }

    #[test]
    fn a_shard_being_written_by_a_run_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), dh_manifest()).unwrap();
        let _run = crate::layout::OutLock::acquire(dir.path()).unwrap();
        let err = Shard::open(dir.path(), None).unwrap_err();
        assert!(
            matches!(
                err,
                MergeError::Pipeline(crate::PipelineError::Locked { .. })
            ),
            "{err}"
        );
        let own = dir.path().canonicalize().unwrap();
        assert!(
            Shard::open(dir.path(), Some(&own)).is_ok(),
            "the merge's own output folder is locked by the merge"
        );
    }
}
