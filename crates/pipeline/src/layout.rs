//! Where things live under the output folder `OUT`, and how a run is published.
//!
//! A run writes everything into a private staging folder `OUT/.staging-<run-id>/` with the final layout
//! (`normalised/<table>/country=<ISO3>/part-0.parquet`, `quarantine/...`, `manifest.json`). Publication then
//! moves each previous top-level entry aside and renames the staged one into place, the manifest last, so readers
//! that look at the manifest never see it describe files that are not there. The run log goes to
//! `OUT/runs/<run-id>.json` and is never staged (it is an append-only history, not part of the result).
//!
//! The staging folder is removed on every path that does not publish (a [`Staging`] dropped unpublished removes
//! itself; a signal handler calls [`abandon_for_exit`]); one left by a killed process is removed by the next run
//! ([`recover`]). Microdata (staging, `normalised/`, `quarantine/`, `runs/`) are owner-only unless a wider
//! [`Privacy`] mode is configured. [`check_out_dir`] refuses an output folder holding entries `dh` did not write.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::PipelineError;

/// File name of the manifest inside `OUT`.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Folder of harmonised tables inside `OUT`.
pub const NORMALISED_DIR: &str = "normalised";
/// Folder of rejected rows inside `OUT`.
pub const QUARANTINE_DIR: &str = "quarantine";
/// Folder of the cross-country indicator tables inside `OUT`.
pub const INDICATORS_DIR: &str = "indicators";
/// Folder of the cross-country report (static HTML) inside `OUT` (written by `dh-report`).
pub const REPORT_DIR: &str = "report";
/// Folder of the Excel tables inside `OUT` (written by `dh-report`).
pub const TABLES_DIR: &str = "tables";
/// Stata/SPSS files of `dh run --export` (`export_stage`).
pub const EXPORT_DIR: &str = "export";
/// The Markdown codebook of the run's schemas (`codebook_out`).
pub const CODEBOOK_FILE: &str = "codebook.md";
/// Folder of run logs inside `OUT`.
pub const RUNS_DIR: &str = "runs";

/// Path of a table partition relative to `OUT` (always with `/`, also on Windows, for the manifest).
pub fn partition_rel_path(top: &str, table: &str, iso3: &str) -> String {
    format!("{top}/{table}/country={iso3}/part-0.parquet")
}

/// Permissions of the microdata `dh` writes into `OUT`: the staging folder, `normalised/`, `quarantine/` and the
/// run logs (which hold absolute paths). Folders get `dir_mode`, files `dir_mode` without execute bits. The
/// default 0700 is owner-only; `dh run --microdata-mode 750` lets a group read. The report, the indicator tables
/// and the workbook follow the umask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privacy {
    pub dir_mode: u32,
}

impl Default for Privacy {
    fn default() -> Self {
        Privacy { dir_mode: 0o700 }
    }
}

impl Privacy {
    pub fn file_mode(self) -> u32 {
        self.dir_mode & 0o666
    }

    /// Creates `dir` (and its parents) with this mode for `dir` itself.
    pub fn create_dir(self, dir: &Path) -> Result<(), PipelineError> {
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PipelineError::io(parent, e))?;
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, self.dir_mode);
        builder.create(dir).map_err(|e| PipelineError::io(dir, e))?;
        self.apply(dir, false)
    }

    /// Sets the mode of `path` (a folder with `dir_mode`, a file with [`Privacy::file_mode`]); with `recursive`,
    /// of everything under it too.
    pub fn apply(self, path: &Path, recursive: bool) -> Result<(), PipelineError> {
        let meta = std::fs::symlink_metadata(path).map_err(|e| PipelineError::io(path, e))?;
        if meta.is_dir() && recursive {
            for entry in std::fs::read_dir(path).map_err(|e| PipelineError::io(path, e))? {
                let entry = entry.map_err(|e| PipelineError::io(path, e))?;
                self.apply(&entry.path(), true)?;
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if meta.is_dir() {
                self.dir_mode
            } else {
                self.file_mode()
            };
            if !meta.file_type().is_symlink() {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| PipelineError::io(path, e))?;
            }
        }
        Ok(())
    }
}

/// The staging folders of the runs in progress in this process, while they may still be removed (publication not
/// begun). Publication holds the lock while it runs, so a signal handler either removes an unpublished staging
/// folder or waits for the publication to end.
static ACTIVE: Mutex<Active> = Mutex::new(Active {
    roots: Vec::new(),
    abandoned: false,
});

struct Active {
    roots: Vec<PathBuf>,
    /// Set by [`abandon_for_exit`]: no publication may begin any more.
    abandoned: bool,
}

fn active() -> std::sync::MutexGuard<'static, Active> {
    ACTIVE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn clear_active(root: &Path) {
    active().roots.retain(|r| r != root);
}

/// For a signal handler about to end the process: removes the staging folder of every run in progress unless its
/// publication has begun (waiting for a publication in progress to end), and keeps any later publication from
/// starting. Returns a sentence saying what was done, for stderr.
pub fn abandon_for_exit() -> String {
    let mut guard = active();
    guard.abandoned = true;
    let mut said = Vec::new();
    for root in std::mem::take(&mut guard.roots) {
        said.push(match std::fs::remove_dir_all(&root) {
            Ok(()) => format!("removed the staging folder {}", root.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => format!(
                "could not remove the staging folder {} ({e}); the next run removes it",
                root.display()
            ),
        });
    }
    said.push(
        "the output folder holds the last complete run (the lock is released when the process ends)".to_string(),
    );
    said.join("; ")
}

/// A staging folder under `OUT` that becomes the published result. Dropped without [`Staging::publish`] (an error,
/// a panic unwinding), it removes itself.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    root: PathBuf,
    run_id: String,
    privacy: Privacy,
    /// Set once publication has begun: the folder then belongs to [`recover`].
    handed_over: bool,
}

impl Staging {
    /// Creates `OUT/.staging-<run-id>/` (and `OUT` itself if needed), owner-only by default.
    pub fn create(out: &Path, run_id: &str) -> Result<Staging, PipelineError> {
        Staging::create_private(out, run_id, Privacy::default())
    }

    /// [`Staging::create`] with the given permissions for the staging folder and the microdata in it.
    pub fn create_private(
        out: &Path,
        run_id: &str,
        privacy: Privacy,
    ) -> Result<Staging, PipelineError> {
        let root = out.join(format!(".staging-{run_id}"));
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| PipelineError::io(&root, e))?;
        }
        let staging = Staging {
            out: out.to_path_buf(),
            root: root.clone(),
            run_id: run_id.to_string(),
            privacy,
            handed_over: false,
        };
        active().roots.push(root.clone());
        privacy.create_dir(&root)?;
        Ok(staging)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A handle on the same folder for writers on other threads; it never publishes or removes the folder.
    pub fn view(&self) -> Staging {
        Staging {
            out: self.out.clone(),
            root: self.root.clone(),
            run_id: self.run_id.clone(),
            privacy: self.privacy,
            handed_over: true,
        }
    }

    /// Absolute path in the staging folder of a path relative to `OUT`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Moves the staged result into `OUT`, replacing the previous run's published entries ([`PUBLISHED`]), the
    /// manifest last. First a marker listing the staged entries is written into the staging folder; from then on
    /// the publication is rolled forward by [`recover`] if the process dies half-way, so `OUT` converges to the new
    /// run.
    pub fn publish(mut self) -> Result<(), PipelineError> {
        // Microdata owner-only (or as configured) before they become visible in `OUT`.
        for dir in [NORMALISED_DIR, QUARANTINE_DIR, EXPORT_DIR] {
            let path = self.root.join(dir);
            if path.exists() {
                self.privacy.apply(&path, true)?;
            }
        }
        let mut guard = active();
        if guard.abandoned {
            // a signal handler has abandoned this run and is ending the process
            return Err(PipelineError::Interrupted { signal: "a signal" });
        }
        let produced: Vec<&str> = PUBLISHED
            .iter()
            .copied()
            .filter(|name| self.root.join(name).exists())
            .collect();
        let marker = self.root.join(PUBLISHING_MARKER);
        let tmp = self.root.join(format!("{PUBLISHING_MARKER}.tmp"));
        std::fs::write(&tmp, produced.join("\n")).map_err(|e| PipelineError::io(&tmp, e))?;
        std::fs::rename(&tmp, &marker).map_err(|e| PipelineError::io(&marker, e))?;
        self.handed_over = true;
        crate::abort_point::reached("publish-start");
        let result = roll_forward(&self.out, &self.root, &self.run_id);
        guard.roots.retain(|r| r != &self.root);
        result
    }

    /// Removes the staging folder without publishing (used when the run is abandoned).
    pub fn discard(mut self) -> Result<(), PipelineError> {
        self.handed_over = true;
        clear_active(&self.root);
        std::fs::remove_dir_all(&self.root).map_err(|e| PipelineError::io(&self.root, e))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.handed_over {
            return;
        }
        clear_active(&self.root);
        // Best effort: what cannot be removed now is removed by the next run's `recover`.
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Manifest entries (path, size, SHA-256) of every file under the given staged folders, sorted by path.
pub fn hashed_files(
    staging: &Staging,
    folders: &[&str],
    kind: &str,
) -> Result<Vec<crate::manifest::OutputEntry>, PipelineError> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), PipelineError> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for e in entries {
            let path = e.map_err(|e| PipelineError::io(dir, e))?.path();
            if path.is_dir() {
                walk(&path, files)?;
            } else {
                files.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for folder in folders {
        walk(&staging.path(folder), &mut files)?;
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::metadata(&path)
                .map_err(|e| PipelineError::io(&path, e))?
                .len();
            Ok(crate::manifest::OutputEntry {
                path: crate::manifest::relative_path(&path, staging.root()),
                country: String::new(),
                table: kind.to_string(),
                kind: kind.to_string(),
                rows: 0,
                bytes,
                sha256: crate::hashing::sha256_file(&path)?,
            })
        })
        .collect()
}

/// Top-level entries of `OUT` that a run publishes, in publication order (the manifest last).
pub const PUBLISHED: [&str; 8] = [
    NORMALISED_DIR,
    QUARANTINE_DIR,
    INDICATORS_DIR,
    REPORT_DIR,
    TABLES_DIR,
    EXPORT_DIR,
    CODEBOOK_FILE,
    MANIFEST_FILE,
];
/// File in a staging folder that says publication has begun and lists the staged entries.
pub const PUBLISHING_MARKER: &str = ".publishing";
/// Prefixes of the private folders of a run inside `OUT`.
const STAGING_PREFIX: &str = ".staging-";
const PREVIOUS_PREFIX: &str = ".previous-";

/// Completes a publication (idempotent): the old manifest is moved aside first; then for each entry, the old one is moved into `.previous-<run-id>/` and the
/// staged one renamed into place; an entry the new run does not produce is moved aside. Then both private folders
/// are removed.
fn roll_forward(out: &Path, root: &Path, run_id: &str) -> Result<(), PipelineError> {
    let marker = root.join(PUBLISHING_MARKER);
    let listed = std::fs::read_to_string(&marker).map_err(|e| PipelineError::io(&marker, e))?;
    let produced: Vec<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
    let old = out.join(format!("{PREVIOUS_PREFIX}{run_id}"));
    std::fs::create_dir_all(&old).map_err(|e| PipelineError::io(&old, e))?;
    // The old manifest goes first, so that while entries are swapped `OUT` has no manifest describing a mix.
    let manifest = out.join(MANIFEST_FILE);
    if manifest.exists() && root.join(MANIFEST_FILE).exists() {
        let aside = old.join(MANIFEST_FILE);
        remove_any(&aside)?;
        std::fs::rename(&manifest, &aside).map_err(|e| PipelineError::io(&manifest, e))?;
    }
    for name in PUBLISHED {
        let target = out.join(name);
        let staged = root.join(name);
        let aside = old.join(name);
        if staged.exists() || !produced.contains(&name) {
            if target.exists() {
                remove_any(&aside)?;
                std::fs::rename(&target, &aside).map_err(|e| PipelineError::io(&target, e))?;
            }
            crate::abort_point::reached("publish-entry-aside");
            if staged.exists() {
                std::fs::rename(&staged, &target).map_err(|e| PipelineError::io(&staged, e))?;
            }
        }
    }
    std::fs::remove_dir_all(&old).map_err(|e| PipelineError::io(&old, e))?;
    std::fs::remove_dir_all(root).map_err(|e| PipelineError::io(root, e))?;
    Ok(())
}

fn remove_any(path: &Path) -> Result<(), PipelineError> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else if path.exists() {
        std::fs::remove_file(path)
    } else {
        Ok(())
    };
    result.map_err(|e| PipelineError::io(path, e))
}

/// Cleans up after an interrupted run (call while holding the [`OutLock`]): a publication that had begun is
/// completed, a staging folder whose publication had not begun is removed, and so are left-over `.previous-`
/// folders. Returns the run ids whose publication was completed.
pub fn recover(out: &Path) -> Result<Vec<String>, PipelineError> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut completed = Vec::new();
    for name in &names {
        if let Some(run_id) = name.strip_prefix(STAGING_PREFIX) {
            let root = out.join(name);
            if root.join(PUBLISHING_MARKER).is_file() {
                roll_forward(out, &root, run_id)?;
                completed.push(run_id.to_string());
            } else {
                remove_any(&root)?;
            }
        }
    }
    for name in &names {
        if name.starts_with(PREVIOUS_PREFIX) {
            remove_any(&out.join(name))?;
        }
    }
    Ok(completed)
}

/// Refuses an output folder that holds entries `dh` did not write (checked before anything is written into it):
/// a folder that does not exist, is empty, or holds a `dh` manifest (a previous run) is accepted; so is one that
/// holds only `dh`'s own private entries (lock file, run logs, staging and previous folders of an interrupted run),
/// or a publication that was interrupted half-way.
/// Otherwise publication would move aside and delete entries named like the run's outputs (`report/`, `tables/`).
pub fn check_out_dir(out: &Path) -> Result<(), PipelineError> {
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(PipelineError::ForeignOutDir {
                path: out.to_path_buf(),
                entries: "it is a file, not a folder".to_string(),
            });
        }
        Err(e) => return Err(PipelineError::io(out, e)),
    };
    if crate::incremental::previous_manifest(out).is_some_and(|m| m.tool.name == "dh") {
        return Ok(());
    }
    let names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // A publication interrupted while entries were swapped (no manifest in `OUT` at that moment): `recover`
    // completes it.
    if names.iter().any(|name| {
        name.starts_with(STAGING_PREFIX) && out.join(name).join(PUBLISHING_MARKER).is_file()
    }) {
        return Ok(());
    }
    let mut foreign: Vec<String> = names
        .into_iter()
        .filter(|name| {
            name != LOCK_FILE
                && name != RUNS_DIR
                && !name.starts_with(STAGING_PREFIX)
                && !name.starts_with(PREVIOUS_PREFIX)
        })
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let shown = foreign.len().min(5);
    let mut listed = foreign[..shown].join(", ");
    if foreign.len() > shown {
        listed.push_str(&format!(" and {} more", foreign.len() - shown));
    }
    Err(PipelineError::ForeignOutDir {
        path: out.to_path_buf(),
        entries: listed,
    })
}

/// Exclusive lock on an output folder, held for the whole run: an OS file lock on `OUT/.dh-lock` (released by the
/// kernel when the process ends, even by SIGKILL, so a stale lock never blocks).
#[derive(Debug)]
pub struct OutLock {
    _file: std::fs::File,
}

/// File name of the lock inside `OUT`.
pub const LOCK_FILE: &str = ".dh-lock";

impl OutLock {
    /// Takes the lock without waiting; [`PipelineError::Locked`] when another process holds it.
    pub fn acquire(out: &Path) -> Result<OutLock, PipelineError> {
        std::fs::create_dir_all(out).map_err(|e| PipelineError::io(out, e))?;
        let path = out.join(LOCK_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| PipelineError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(OutLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(PipelineError::Locked { path }),
            Err(std::fs::TryLockError::Error(e)) => Err(PipelineError::io(&path, e)),
        }
    }
}

/// Shared lock on an output folder that `dh merge` reads as a shard: taken on the folder's existing `.dh-lock`
/// without creating or writing anything there, so that a `dh run` writing the folder (which holds the exclusive
/// lock) refuses to start while the merge reads it, and a merge refuses a folder being written.
#[derive(Debug)]
pub struct ReadLock {
    _file: Option<std::fs::File>,
}

impl ReadLock {
    /// Takes the shared lock without waiting; [`PipelineError::Locked`] when a `dh run` holds the folder. A folder
    /// without a lock file was never written by a `dh run` in progress: nothing to lock.
    pub fn acquire(out: &Path) -> Result<ReadLock, PipelineError> {
        let path = out.join(LOCK_FILE);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ReadLock { _file: None });
            }
            Err(e) => return Err(PipelineError::io(&path, e)),
        };
        match file.try_lock_shared() {
            Ok(()) => Ok(ReadLock { _file: Some(file) }),
            Err(std::fs::TryLockError::WouldBlock) => Err(PipelineError::Locked { path }),
            Err(std::fs::TryLockError::Error(e)) => Err(PipelineError::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_lock_waits_for_no_one_but_is_refused_while_a_run_holds_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ReadLock::acquire(dir.path()).is_ok(), "no lock file");
        assert!(!dir.path().join(LOCK_FILE).exists(), "nothing is created");
        let run = OutLock::acquire(dir.path()).unwrap();
        let refused = ReadLock::acquire(dir.path());
        assert!(
            matches!(refused, Err(PipelineError::Locked { .. })),
            "{refused:?}"
        );
        drop(run);
        let first = ReadLock::acquire(dir.path()).unwrap();
        let second = ReadLock::acquire(dir.path());
        assert!(second.is_ok(), "two merges may read one shard");
        assert!(
            matches!(
                OutLock::acquire(dir.path()),
                Err(PipelineError::Locked { .. })
            ),
            "a run waits for the merges reading its folder"
        );
        drop((first, second));
    }

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = OutLock::acquire(dir.path()).unwrap();
        let second = OutLock::acquire(dir.path());
        assert!(
            matches!(second, Err(PipelineError::Locked { .. })),
            "{second:?}"
        );
        drop(first);
        assert!(OutLock::acquire(dir.path()).is_ok());
    }

    #[test]
    fn recover_completes_a_begun_publication_and_drops_an_unbegun_one() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::create_dir_all(out.join("quarantine")).unwrap();
        std::fs::write(out.join("manifest.json"), "old").unwrap();
        // Half-published run r1: normalised already swapped in, old quarantine moved aside, manifest not yet.
        std::fs::create_dir_all(out.join("normalised")).unwrap();
        std::fs::create_dir_all(out.join(".previous-r1/quarantine")).unwrap();
        std::fs::create_dir_all(out.join(".staging-r1/quarantine/new")).unwrap();
        std::fs::write(out.join(".staging-r1/manifest.json"), "new").unwrap();
        std::fs::write(
            out.join(".staging-r1/.publishing"),
            "normalised\nquarantine\nmanifest.json",
        )
        .unwrap();
        std::fs::remove_dir_all(out.join("quarantine")).unwrap();
        // Unbegun run r2.
        std::fs::create_dir_all(out.join(".staging-r2/normalised")).unwrap();
        assert_eq!(recover(out).unwrap(), vec!["r1".to_string()]);
        assert_eq!(
            std::fs::read_to_string(out.join("manifest.json")).unwrap(),
            "new"
        );
        assert!(out.join("quarantine/new").is_dir());
        assert!(out.join("normalised").is_dir());
        let hidden: Vec<_> = std::fs::read_dir(out)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(hidden.is_empty(), "{hidden:?}");
    }

    #[test]
    fn an_output_folder_with_foreign_entries_and_no_manifest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        assert!(check_out_dir(&out).is_ok(), "a new folder");
        std::fs::create_dir_all(out.join(RUNS_DIR)).unwrap();
        std::fs::write(out.join(LOCK_FILE), "").unwrap();
        std::fs::create_dir_all(out.join(".staging-r1")).unwrap();
        assert!(check_out_dir(&out).is_ok(), "only dh's private entries");
        std::fs::create_dir_all(out.join(REPORT_DIR)).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = check_out_dir(&out).unwrap_err();
        assert!(err.is_config(), "{err}");
        let text = err.to_string();
        assert!(text.contains("notes.txt, report"), "{text}");
        std::fs::write(out.join(".staging-r1").join(PUBLISHING_MARKER), "report").unwrap();
        assert!(
            check_out_dir(&out).is_ok(),
            "a publication interrupted half-way"
        );
        std::fs::remove_file(out.join(".staging-r1").join(PUBLISHING_MARKER)).unwrap();
        std::fs::write(out.join(MANIFEST_FILE), "not json").unwrap();
        assert!(
            matches!(
                check_out_dir(&out),
                Err(PipelineError::ForeignOutDir { .. })
            ),
            "a manifest that is not dh's"
        );
        let manifest = crate::manifest::Manifest {
            tool: crate::manifest::ToolInfo {
                name: "dh".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        std::fs::write(out.join(MANIFEST_FILE), manifest.to_bytes().unwrap()).unwrap();
        assert!(check_out_dir(&out).is_ok(), "a previous run's folder");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(check_out_dir(&file).unwrap_err().is_config());
    }

    #[test]
    fn a_staging_folder_dropped_unpublished_removes_itself() {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::create(dir.path(), "r1").unwrap();
        let root = staging.root().to_path_buf();
        std::fs::create_dir_all(root.join("normalised/t")).unwrap();
        std::fs::write(root.join("normalised/t/x"), "x").unwrap();
        drop(staging);
        assert!(!root.exists());
    }

    #[cfg(unix)]
    #[test]
    fn microdata_are_owner_only_by_default_and_follow_a_configured_mode() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let staging = Staging::create(&out, "r1").unwrap();
        assert_eq!(mode(staging.root()), 0o700);
        let part = staging.path(&partition_rel_path(QUARANTINE_DIR, "t", "THA"));
        std::fs::create_dir_all(part.parent().unwrap()).unwrap();
        std::fs::write(&part, "x").unwrap();
        std::fs::set_permissions(&part, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(staging.path(MANIFEST_FILE), "{}").unwrap();
        staging.publish().unwrap();
        assert_eq!(mode(&out.join(QUARANTINE_DIR)), 0o700);
        assert_eq!(mode(&out.join("quarantine/t/country=THA")), 0o700);
        assert_eq!(
            mode(&out.join("quarantine/t/country=THA/part-0.parquet")),
            0o600
        );

        let group = Privacy { dir_mode: 0o750 };
        let staging = Staging::create_private(&out, "r2", group).unwrap();
        assert_eq!(mode(staging.root()), 0o750);
        let part = staging.path(&partition_rel_path(NORMALISED_DIR, "t", "THA"));
        std::fs::create_dir_all(part.parent().unwrap()).unwrap();
        std::fs::write(&part, "x").unwrap();
        std::fs::write(staging.path(MANIFEST_FILE), "{}").unwrap();
        staging.publish().unwrap();
        assert_eq!(
            mode(&out.join("normalised/t/country=THA/part-0.parquet")),
            0o640
        );
    }

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
