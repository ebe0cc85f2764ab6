//! Records the git commit the tool is built from (for the manifest's provenance) as `DH_GIT_COMMIT`. Outside a
//! git checkout, or without git, nothing is set and the manifest simply has no commit.

use std::path::Path;
use std::process::Command;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let output = Command::new("git")
        .args(["rev-parse", "HEAD", "--absolute-git-dir"])
        .current_dir(&manifest_dir)
        .output();
    let Ok(output) = output else {
        return;
    };
    if !output.status.success() {
        return;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let (Some(commit), Some(git_dir)) = (lines.next(), lines.next()) else {
        return;
    };
    let git_dir = Path::new(git_dir.trim());
    for watched in ["HEAD", "refs/heads", "packed-refs"] {
        let path = git_dir.join(watched);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rustc-env=DH_GIT_COMMIT={}", commit.trim());
}
