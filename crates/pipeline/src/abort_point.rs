//! Named points of a run where tests can make the process die abruptly, to check that an interrupted run leaves
//! `OUT` valid and that the next run converges. Only in debug builds: with `DH_TEST_ABORT_AT=<point>` set, the
//! process aborts (no destructors, no clean-up, like SIGKILL) the first time it reaches that point. Release
//! builds compile this to nothing.
//!
//! Points: `country-staged` (a country's files are in the staging folder), `before-publish` (everything staged,
//! manifest written), `publish-start` (publication marker written), `publish-entry-aside` (an old entry moved
//! aside, its replacement not yet renamed in).

/// Environment variable naming the point to abort at.
pub const ENV: &str = "DH_TEST_ABORT_AT";

/// Aborts the process if `DH_TEST_ABORT_AT` names `point` (debug builds only).
#[inline]
pub fn reached(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var(ENV).is_ok_and(|p| p == point) {
        eprintln!("{ENV}={point}: aborting");
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}
