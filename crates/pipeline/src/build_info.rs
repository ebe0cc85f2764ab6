//! What this build of `dh` is: version, git commit and build date (set by `build.rs`), for `dh --version` and the
//! manifest's provenance.

/// The workspace version (`Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The full git commit the tool was built from; `None` outside a git checkout.
pub const GIT_COMMIT: Option<&str> = option_env!("DH_GIT_COMMIT");

/// The build date, `YYYY-MM-DD` (UTC; `SOURCE_DATE_EPOCH` when it was set at build time).
pub const BUILD_DATE: &str = env!("DH_BUILD_DATE");

/// What `dh --version` prints after the name: `0.2.0 (abc1234 2026-12-06)` (version, the commit's first seven
/// characters as `git log --oneline` shows them, build date), or `0.2.0 (2026-12-06)` without a commit.
pub const VERSION_LINE: &str = env!("DH_VERSION_LINE");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_line_is_version_short_commit_and_date() {
        let line = VERSION_LINE;
        assert!(line.starts_with(VERSION), "{line}");
        let inside = line
            .strip_prefix(VERSION)
            .and_then(|rest| rest.strip_prefix(" ("))
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{line}"));
        let date = inside.rsplit(' ').next().unwrap_or_default();
        assert_eq!(date, BUILD_DATE, "{line}");
        assert!(date_like(date), "{line}");
        if let Some(commit) = GIT_COMMIT {
            assert!(
                inside.starts_with(&commit[..7]) && inside.len() == 7 + 1 + 10,
                "{line}"
            );
        }
    }

    fn date_like(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && s.chars()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    }
}
