//! Helpers shared by the end-to-end tests of this folder (each test file is its own crate and declares
//! `mod common;`): the workspace root, the real `dh` binary run from it, and how a failed run is described.

#![allow(dead_code)] // each test file uses its own subset

pub mod optional;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (where `countries/`, `schemas/` and `pipelines/` are).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The configured countries: the ISO3 code of every `countries/<ISO3>.toml`, sorted (what `dh run` runs by
/// default). Tests count and name countries from this list, never from a number or a list of their own.
pub fn countries() -> Vec<String> {
    dh_config::country::list_countries(&workspace().join("countries")).expect("countries/")
}

/// Runs the real `dh` with `args` from the workspace root, with `key` as the pseudonymisation key when given and
/// without `RUST_LOG` (so logs do not depend on the caller's environment).
pub fn dh(key: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dh"));
    command
        .args(args)
        .current_dir(workspace())
        .env_remove("RUST_LOG");
    if let Some(key) = key {
        command.env("DH_PSEUDONYM_KEY", key);
    }
    command.output().expect("run dh")
}

/// Writes synthetic deliveries into `raw` with `dh synth --seed SEED` for `countries` (comma-separated ISO3; empty:
/// every configured country) and fails the test, describing the run, when that does not succeed.
pub fn synth(raw: &Path, countries: &str, seed: &str) {
    let mut args = vec!["synth", "--out", s(raw), "--seed", seed];
    if !countries.is_empty() {
        args.extend(["--countries", countries]);
    }
    let out = dh(None, &args);
    assert!(out.status.success(), "dh synth: {}", describe(&out));
}

/// Exit code, stdout and stderr of a run, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every record batch of a Parquet file (panics naming the file when it cannot be read).
pub fn read_parquet(path: &Path) -> Vec<arrow::array::RecordBatch> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .build()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|b| b.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// Every file under a run's output folder except the run logs (`runs/`) and the lock, by relative path, with its
/// bytes: what two runs that must give the same outputs are compared on.
pub fn output_files(out: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, into: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            if rel.starts_with("runs") || rel.starts_with(".dh-lock") {
                continue;
            }
            if path.is_dir() {
                walk(&path, root, into);
            } else {
                into.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut map = std::collections::BTreeMap::new();
    walk(out, out, &mut map);
    map
}
