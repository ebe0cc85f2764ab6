//! One rule for tests that compare dh's files with an independent tool which may be missing (Chromium, pyarrow,
//! openpyxl, pyreadstat, R haven): without the tool the test says so on the terminal and passes, unless the
//! environment variable `CI` is set (`.ci/run` sets it and installs the tools), then it fails, so CI never skips
//! a comparison silently. Shared by `tests/` (through `common`) and `crates/report/tests/` (by path).

#![allow(dead_code)] // each test file uses its own subset

use std::io::Write as _;

/// Whether the environment variable `CI` is set (to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// `what` cannot be checked because `reason`: fails under CI, otherwise writes a note to the process's stderr
/// (not through `eprintln!`, which the test harness captures, so `cargo test` shows it) and returns.
pub fn tool_missing(what: &str, reason: &str) {
    assert!(
        !in_ci(),
        "{what}: {reason}; CI is set, so this check may not be skipped"
    );
    let _ = writeln!(
        std::io::stderr(),
        "skipped {what}: {reason} (with CI set this fails instead)"
    );
}
