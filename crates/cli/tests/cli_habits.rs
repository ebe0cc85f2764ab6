//! CLI conventions users and scripts rely on, through the real binary: `--version` names the commit and build
//! date, `dh completions` prints a script for every shell, `-q` silences progress, and a folder given to
//! `dh estimate` is named as such.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dh(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dh"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run dh: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_names_the_commit_and_build_date() {
    let out = dh(&repo(), &["--version"]);
    assert!(out.status.success());
    let line = text(&out.stdout);
    let line = line.trim_end();
    // dh 0.2.0 (abc1234 2026-12-06), or dh 0.2.0 (2026-12-06) outside a git checkout
    let rest = line
        .strip_prefix(&format!("dh {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line:?}"));
    let (commit, date) = rest.rsplit_once(' ').unwrap_or(("", rest));
    assert!(
        commit.is_empty() || (commit.len() == 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{line:?}"
    );
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
        "{line:?}"
    );
    // In a git checkout (a linked worktree included) the commit is HEAD's, not the one of an earlier build:
    // committing reruns the build script.
    let head = Command::new("git")
        .args(["rev-parse", "--short=7", "HEAD"])
        .current_dir(repo())
        .output();
    if let Ok(head) = head.as_ref().map(|o| text(&o.stdout))
        && std::env::var_os("DH_GIT_COMMIT_OVERRIDE").is_none()
        && head.trim().len() == 7
    {
        assert_eq!(commit, head.trim(), "{line:?} is not HEAD's commit");
    }
}

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = dh(&repo(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for sub in ["run", "validate", "estimate", "out-dir", "quiet"] {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let out = dh(&repo(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "unknown shell is a usage error");
}

#[test]
fn quiet_synth_prints_nothing_and_still_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = tmp.path().join("raw");
    let raw_arg = raw.to_string_lossy().into_owned();
    let out = dh(
        &repo(),
        &["synth", "--out", &raw_arg, "--countries", "THA", "-q"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        text(&out.stdout)
    );
    assert!(raw.join("truth.json").is_file());
    // without -q the summary is printed
    let out = dh(&repo(), &["synth", "--out", &raw_arg, "--countries", "THA"]);
    assert!(text(&out.stdout).contains("THA: "));
}

#[test]
fn synth_with_an_unknown_country_is_a_configuration_error() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = tmp.path().join("raw");
    let out = dh(
        &repo(),
        &[
            "synth",
            "--out",
            &raw.to_string_lossy(),
            "--countries",
            "XXX",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[test]
fn estimate_on_a_folder_says_it_is_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("child_survey")).unwrap();
    let out = dh(
        tmp.path(),
        &[
            "estimate",
            "child_survey",
            "--weights",
            "w",
            "--stat",
            "mean",
            "--var",
            "x",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("child_survey is a folder, not a data file"),
        "{err}"
    );
    assert!(
        !err.contains("line 0") && !err.contains("os error"),
        "{err}"
    );
}
