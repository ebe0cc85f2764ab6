//! Invariant: the statistics crate does no I/O. `dh-survey` takes slices and returns estimates; files, the
//! environment, processes and the network belong to its callers (dh-estimate, dh-indicators, the oracle tests). This
//! test reads the crate's own sources and manifest: a `std::fs`, `std::io`, `std::env`, `std::net` or
//! `std::process` path or `File::` in `src/`, or a dependency other than `thiserror`, fails it.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

const FORBIDDEN: [&str; 6] = [
    "std::fs",
    "std::io",
    "std::env",
    "std::net",
    "std::process",
    "File::",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_statistics_crate_does_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 10, "found only {} source files", files.len());
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for needle in FORBIDDEN {
                if code.contains(needle) {
                    found.push(format!("{}:{}: {needle}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "I/O in dh-survey:\n{}", found.join("\n"));
}

#[test]
fn the_statistics_crate_depends_on_nothing_that_does_io() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let deps: Vec<&str> = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap_or("")
        .split("\n[")
        .next()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(['.', '=', ' ']).next().unwrap_or(""))
        .collect();
    assert_eq!(
        deps,
        vec!["thiserror"],
        "dh-survey's dependencies changed: check that none does I/O"
    );
}
