//! The work folder of a benchmark: a temporary folder, or the one given (`--work-dir`); what the benchmark wrote
//! there is removed at the end unless kept (`--keep`). Also the steps every run benchmark shares: generating the
//! deliveries with `dh synth` (outside the timed part), the pseudonym key, and the rows a `dh run` read.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BenchError;
use crate::measure::run_measured;

/// The file in a work folder listing the entries benchmarks wrote there (the only ones a benchmark removes).
pub const ENTRIES_FILE: &str = ".dh-bench-entries";

/// Pseudonym key of benchmark runs (base64 of a fixed, not secret text: the outputs are thrown away).
const BENCH_KEY: &str = "ZGgtYmVuY2gta2V5LW5vdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3\n";

pub struct Work {
    dir: PathBuf,
    temp: Option<tempfile::TempDir>,
    keep: bool,
    /// Entries of `dir` this benchmark created (removed at the end unless kept).
    created: Vec<PathBuf>,
}

impl Work {
    pub fn new(work_dir: Option<&Path>, keep: bool) -> Result<Work, BenchError> {
        let (dir, temp) = match work_dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|e| BenchError::io(d, e))?;
                (d.to_path_buf(), None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("dh-bench-")
                    .tempdir()
                    .map_err(|e| BenchError::io(std::env::temp_dir(), e))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        Ok(Work {
            dir,
            temp,
            keep,
            created: Vec::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `dir/name`, emptied first if it exists, and recorded for removal. An existing `dir/name` is removed only
    /// when a benchmark made it (listed in the folder's [`ENTRIES_FILE`]): `--work-dir .` in a project folder must
    /// never delete its `out/` or `raw/`.
    pub fn fresh(&mut self, name: &str) -> Result<PathBuf, BenchError> {
        let path = self.dir.join(name);
        let listed = self.dir.join(ENTRIES_FILE);
        let ours = std::fs::read_to_string(&listed).unwrap_or_default();
        if (path.exists() || path.is_symlink()) && !ours.lines().any(|l| l == name) {
            return Err(BenchError::Setup(format!(
                "{}: exists and was not written by dh bench; give --work-dir a new or empty folder",
                path.display()
            )));
        }
        if !ours.lines().any(|l| l == name) {
            std::fs::write(&listed, format!("{ours}{name}\n"))
                .map_err(|e| BenchError::io(&listed, e))?;
        }
        if path.is_symlink() {
            std::fs::remove_file(&path).map_err(|e| BenchError::io(&path, e))?;
        } else if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(|e| BenchError::io(&path, e))?;
        } else if path.exists() {
            std::fs::remove_file(&path).map_err(|e| BenchError::io(&path, e))?;
        }
        self.created.push(path.clone());
        Ok(path)
    }

    /// Writes the benchmark's key file and returns its path.
    pub fn key_file(&mut self) -> Result<PathBuf, BenchError> {
        let path = self.fresh("pseudonym.key")?;
        std::fs::write(&path, BENCH_KEY).map_err(|e| BenchError::io(&path, e))?;
        Ok(path)
    }

    /// Whether the folder stays after [`Work::finish`].
    pub fn kept(&self) -> bool {
        self.keep
    }

    /// Removes what the benchmark wrote, unless kept; returns the folder when it stays.
    pub fn finish(mut self) -> Option<PathBuf> {
        if self.keep {
            if let Some(t) = self.temp.take() {
                return Some(t.keep());
            }
            return Some(self.dir.clone());
        }
        for path in &self.created {
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
        }
        None
    }
}

/// Runs `dh synth` (not timed) with `args` after `--out out`.
pub fn synth(dh: &Path, out: &Path, args: &[String]) -> Result<(), BenchError> {
    let m = run_measured(
        Command::new(dh)
            .arg("synth")
            .arg("--out")
            .arg(out)
            .args(args)
            .arg("--quiet"),
        None,
    )
    .map_err(|e| BenchError::io(dh, e))?;
    if m.success() {
        return Ok(());
    }
    Err(BenchError::Synth {
        code: m
            .code
            .map_or_else(|| "by a signal".into(), |c| c.to_string()),
        message: m.last_error_line(),
    })
}

/// Rows read by a `dh run` (`totals.rows_read` of its manifest).
pub fn rows_read(out_dir: &Path) -> Result<u64, BenchError> {
    let path = out_dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| BenchError::io(&path, e))?;
    parse_rows_read(&text).map_err(|message| BenchError::Manifest { path, message })
}

fn parse_rows_read(text: &str) -> Result<u64, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    v["totals"]["rows_read"]
        .as_u64()
        .ok_or_else(|| "no totals.rows_read".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_come_from_the_manifest_totals() {
        assert_eq!(
            parse_rows_read(r#"{"totals": {"rows_read": 42, "rows_written": 40}}"#),
            Ok(42)
        );
        assert_eq!(
            parse_rows_read(r#"{"totals": {}}"#),
            Err("no totals.rows_read".to_string())
        );
        // serde_json's message, located in the text
        let e = parse_rows_read("not json").unwrap_err();
        assert!(e.contains("line 1 column"), "{e}");
    }

    #[test]
    fn a_folder_the_benchmark_did_not_write_is_never_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("out/indicators")).unwrap();
        std::fs::write(dir.path().join("raw"), "a file of the user").unwrap();
        let mut work = Work::new(Some(dir.path()), false).unwrap();
        let err = work.fresh("out").unwrap_err().to_string();
        assert!(err.contains("not written by dh bench"), "{err}");
        let err = work.fresh("raw").unwrap_err().to_string();
        assert!(
            err.contains("raw: exists and was not written by dh bench"),
            "{err}"
        );
        assert_eq!(work.finish(), None);
        assert!(dir.path().join("out/indicators").is_dir());
        assert!(dir.path().join("raw").is_file());
    }

    #[test]
    fn what_the_benchmark_wrote_is_removed_unless_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.txt"), "x").unwrap();
        let mut work = Work::new(Some(dir.path()), false).unwrap();
        let raw = work.fresh("raw").unwrap();
        std::fs::create_dir_all(raw.join("THA")).unwrap();
        let key = work.key_file().unwrap();
        assert!(key.is_file());
        assert_eq!(work.finish(), None);
        assert!(!raw.exists() && !key.exists());
        assert!(dir.path().join("mine.txt").exists(), "other files stay");
        // a second benchmark in the same folder may replace what the first wrote
        let mut again = Work::new(Some(dir.path()), false).unwrap();
        std::fs::create_dir_all(again.fresh("raw").unwrap()).unwrap();
        assert!(again.fresh("raw").is_ok());
        assert_eq!(again.finish(), None);

        let mut kept = Work::new(None, true).unwrap();
        let file = kept.key_file().unwrap();
        let stays = kept.finish().unwrap();
        assert!(file.is_file());
        std::fs::remove_dir_all(stays).unwrap();

        let temp = Work::new(None, false).unwrap();
        let path = temp.dir().to_path_buf();
        assert_eq!(temp.finish(), None);
        assert!(!path.exists());
    }
}
