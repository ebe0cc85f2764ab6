//! Named points of a run where tests can make the process die abruptly, fail with an I/O error or wait, to check
//! that an interrupted or failing run leaves `OUT` valid and that the next run converges. Only in debug builds;
//! release builds compile this to nothing.
//!
//! - `DH_TEST_ABORT_AT=<point>`: the process aborts (no destructors, no clean-up, like SIGKILL) the first time it
//!   reaches that point.
//! - `DH_TEST_FAULT_AT=<point>`: [`fault`] at that point returns "No space left on device" (ENOSPC), as a full disk
//!   would.
//! - `DH_TEST_PAUSE_AT=<point>` with `DH_TEST_PAUSE_FILE=<path>`: at that point the run creates `<path>.paused` and
//!   waits (at most 120 s) until `<path>` exists, so a test can change a file or send a signal meanwhile.
//!
//! Points: `country-staged` (a country's files are in the staging folder), `before-publish` (everything staged,
//! manifest written), `publish-start` (publication marker written), `publish-entry-aside` (an old entry moved
//! aside, its replacement not yet renamed in), `country-read` or `country-read:<ISO3>` (a country's delivery files
//! hashed, not yet read),
//! `country-write`, `manifest-write` and `run-log-write` (fault only).

/// Environment variable naming the point to abort at.
pub const ENV: &str = "DH_TEST_ABORT_AT";
/// Environment variable naming the point where [`fault`] fails.
pub const FAULT_ENV: &str = "DH_TEST_FAULT_AT";
/// Environment variable naming the point to pause at.
pub const PAUSE_ENV: &str = "DH_TEST_PAUSE_AT";
/// Environment variable naming the file whose creation ends the pause.
pub const PAUSE_FILE_ENV: &str = "DH_TEST_PAUSE_FILE";

/// Aborts the process if `DH_TEST_ABORT_AT` names `point`, pauses if `DH_TEST_PAUSE_AT` does (debug builds only).
#[inline]
pub fn reached(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var(ENV).is_ok_and(|p| p == point) {
        eprintln!("{ENV}={point}: aborting");
        std::process::abort();
    }
    pause(point);
}

/// [`reached`] for one country's point: the variables may name `<point>` (every country) or `<point>:<ISO3>`.
#[inline]
pub fn reached_in(point: &str, country: &str) {
    reached(point);
    #[cfg(debug_assertions)]
    reached(&format!("{point}:{country}"));
    #[cfg(not(debug_assertions))]
    let _ = country;
}

/// `Err(ENOSPC)` if `DH_TEST_FAULT_AT` names `point` (debug builds only), else `Ok`.
#[inline]
pub fn fault(point: &str) -> std::io::Result<()> {
    #[cfg(debug_assertions)]
    if std::env::var(FAULT_ENV).is_ok_and(|p| p == point) {
        // ENOSPC, "No space left on device", as the OS reports a full disk
        #[cfg(unix)]
        return Err(std::io::Error::from_raw_os_error(28));
        #[cfg(not(unix))]
        return Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
    }
    let _ = point;
    Ok(())
}

/// Waits while a test acts if `DH_TEST_PAUSE_AT` names `point` (debug builds only).
#[inline]
pub fn pause(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var(PAUSE_ENV).is_ok_and(|p| p == point)
        && let Ok(file) = std::env::var(PAUSE_FILE_ENV)
    {
        let resume = std::path::PathBuf::from(&file);
        let _ = std::fs::write(format!("{file}.paused"), point);
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !resume.exists() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

#[cfg(test)]
mod tests {
    #[test]
    fn without_the_variables_nothing_happens() {
        assert!(super::fault("nowhere-point").is_ok());
        super::pause("nowhere-point");
        super::reached("nowhere-point");
    }
}
