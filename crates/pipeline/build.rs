//! Records what the tool is built from: the git commit (for the manifest's provenance and `dh --version`) as
//! `DH_GIT_COMMIT`, and the build date (UTC, `YYYY-MM-DD`; `SOURCE_DATE_EPOCH` when set, for reproducible builds)
//! as `DH_BUILD_DATE`. Outside a git checkout, or without git, no commit is set. The date is taken when this script
//! runs, i.e. when the commit changes. `DH_GIT_COMMIT_OVERRIDE` (with `SOURCE_DATE_EPOCH`) pins both, so two builds of
//! different commits can be compared byte for byte (the byte-for-byte checks of a refactoring use it).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=DH_GIT_COMMIT_OVERRIDE");
    let date = build_date();
    println!("cargo:rustc-env=DH_BUILD_DATE={date}");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let line = match git_commit() {
        Some(commit) => {
            println!("cargo:rustc-env=DH_GIT_COMMIT={commit}");
            format!("{version} ({} {date})", commit.get(..7).unwrap_or(&commit))
        }
        None => format!("{version} ({date})"),
    };
    println!("cargo:rustc-env=DH_VERSION_LINE={line}");
}

/// The commit of HEAD (watched, so a new commit reruns this script); `None` outside a git checkout. In a linked
/// worktree (`git worktree add`) HEAD lives in the worktree's git folder but the branches and `packed-refs` in the
/// common one: HEAD is watched in the first, the branches in the second (the same folder in a plain checkout).
fn git_commit() -> Option<String> {
    if let Ok(pinned) = std::env::var("DH_GIT_COMMIT_OVERRIDE") {
        return Some(pinned.trim().to_string()).filter(|c| !c.is_empty());
    }
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let output = Command::new("git")
        .args([
            "rev-parse",
            "HEAD",
            "--absolute-git-dir",
            "--git-common-dir",
        ])
        .current_dir(&manifest_dir)
        .output();
    let output = output.ok().filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let (commit, git_dir) = (lines.next()?, lines.next()?);
    let git_dir = Path::new(git_dir.trim());
    // `--git-common-dir` may be relative to the directory git ran in.
    let common_dir = lines
        .next()
        .map(|c| Path::new(&manifest_dir).join(c.trim()))
        .unwrap_or_else(|| git_dir.to_path_buf());
    let watched = [
        git_dir.join("HEAD"),
        common_dir.join("refs/heads"),
        common_dir.join("packed-refs"),
    ];
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    Some(commit.trim().to_string())
}

/// Today (UTC), or the day of `SOURCE_DATE_EPOCH`.
fn build_date() -> String {
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let now = match epoch {
        Some(secs) => chrono::DateTime::from_timestamp(secs, 0),
        None => Some(chrono::Utc::now()),
    };
    now.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "unknown date".to_string())
}
