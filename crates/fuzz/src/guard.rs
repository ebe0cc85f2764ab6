//! Resource guards of a fuzz run: [`CappedAlloc`], a counting global allocator that refuses to let the process
//! hold more than a cap (or ask for one block above it), and a watchdog thread for an input that runs too long.
//! Either one saves the input being run into the findings folder, says so on stderr and aborts the process: a
//! finding, like a panic. The binary installs the allocator (`#[global_allocator]`); without it the cap is not
//! enforced.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static CAP: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Set once a limit is hit: from then on the allocator only passes through (writing the finding allocates).
static TRIPPED: AtomicBool = AtomicBool::new(false);
/// Milliseconds since [`epoch`] at which the current execution started; 0 when none runs.
static STARTED_MS: AtomicU64 = AtomicU64::new(0);

/// Executions of the current run so far (reported with a resource finding, which ends the process).
static EXECUTIONS: AtomicU64 = AtomicU64::new(0);

static CURRENT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static FINDINGS: Mutex<Option<(PathBuf, &'static str)>> = Mutex::new(None);

/// The global allocator of the fuzz binary: counts live bytes and aborts with a saved finding above the cap.
pub struct CappedAlloc;

// A global allocator is unsafe by definition; each method forwards to `System` (the crate denies unsafe code
// elsewhere; see Cargo.toml).
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        account(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        account(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            account(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn account(size: usize) {
    let cap = CAP.load(Ordering::Relaxed);
    let live = LIVE.fetch_add(size, Ordering::Relaxed).saturating_add(size);
    PEAK.fetch_max(live, Ordering::Relaxed);
    if (size > cap || live > cap) && !TRIPPED.swap(true, Ordering::SeqCst) {
        finding(&format!(
            "allocation of {size} bytes with {live} bytes live, above the cap of {cap} bytes"
        ));
    }
}

/// Sets the allocation cap (bytes) and where findings go (`<dir>/<target>-<kind>-<hash>.bin`).
pub fn configure(cap_bytes: usize, findings_dir: PathBuf, target: &'static str) {
    CAP.store(cap_bytes, Ordering::Relaxed);
    if let Ok(mut findings) = FINDINGS.lock() {
        *findings = Some((findings_dir, target));
    }
}

/// Starts a new peak measurement from the bytes held now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Most bytes held at once since the last [`reset_peak`] (with [`CappedAlloc`] installed; 0 otherwise).
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Records the number of executions so far.
pub fn progress(executions: u64) {
    EXECUTIONS.store(executions, Ordering::Relaxed);
}

/// Records `data` as the input being run and starts its clock.
pub fn begin(data: &[u8]) {
    if let Ok(mut current) = CURRENT.lock() {
        current.clear();
        current.extend_from_slice(data);
    }
    STARTED_MS.store(now_ms().max(1), Ordering::SeqCst);
}

/// The current input finished.
pub fn end() {
    STARTED_MS.store(0, Ordering::SeqCst);
}

/// Starts the watchdog: an input running longer than `timeout` is a finding.
pub fn start_watchdog(timeout: Duration) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let started = STARTED_MS.load(Ordering::SeqCst);
            if started != 0
                && now_ms().saturating_sub(started) > timeout.as_millis() as u64
                && !TRIPPED.swap(true, Ordering::SeqCst)
            {
                finding(&format!(
                    "one input ran longer than {} s",
                    timeout.as_secs_f64()
                ));
            }
        }
    });
}

/// Saves the current input as a finding of `kind`; returns the file written.
pub fn save_finding(
    dir: &std::path::Path,
    target: &str,
    kind: &str,
    data: &[u8],
) -> Option<PathBuf> {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(data));
    let path = dir.join(format!("{target}-{kind}-{}.bin", &hash[..16]));
    std::fs::create_dir_all(dir).ok()?;
    std::fs::write(&path, data).ok()?;
    Some(path)
}

fn finding(what: &str) -> ! {
    let data = CURRENT.try_lock().map(|c| c.clone()).unwrap_or_default();
    let saved = FINDINGS
        .try_lock()
        .ok()
        .and_then(|f| f.clone())
        .and_then(|(dir, target)| save_finding(&dir, target, "resource", &data));
    eprintln!(
        "dh-fuzz: FINDING after {} executions: {what}; input ({} bytes) saved to {}",
        EXECUTIONS.load(Ordering::Relaxed),
        data.len(),
        saved.map_or_else(|| "(not saved)".to_string(), |p| p.display().to_string())
    );
    std::process::abort()
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}
