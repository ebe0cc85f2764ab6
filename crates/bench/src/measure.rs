//! Measuring one child process: wall clock, CPU time (user + system) and peak resident memory, from the
//! kernel's own accounting of the process (`wait4`, the `rusage` of the process and of the children it waited
//! for), with an optional guard that stops a process whose resident memory passes a ceiling (read from
//! `/proc/<pid>/status` while it runs) so that a benchmark cannot exhaust a shared machine.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often the memory guard looks at the running process.
const GUARD_INTERVAL: Duration = Duration::from_millis(20);

/// What one process took.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// From start to exit, by the clock of this process.
    pub wall_s: f64,
    /// CPU time in user mode, all threads.
    pub user_s: f64,
    /// CPU time in the kernel, all threads.
    pub sys_s: f64,
    /// Peak resident set size in KiB (`ru_maxrss`).
    pub peak_rss_kb: u64,
    /// Exit code, when the process exited (not killed by a signal).
    pub code: Option<i32>,
    /// The signal that ended the process, if one did.
    pub signal: Option<i32>,
    /// Resident memory (KiB) at which the guard stopped the process, if it did.
    pub stopped_at_kb: Option<u64>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Measured {
    /// CPU seconds, user plus system.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }

    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Peak resident memory in MB of 2^20 bytes (MiB), as every figure of `dh bench`.
    pub fn peak_mb(&self) -> f64 {
        self.peak_rss_kb as f64 / 1024.0
    }

    /// The last non-empty line of standard error (for a one-line failure message).
    pub fn last_error_line(&self) -> String {
        String::from_utf8_lossy(&self.stderr)
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_string()
    }
}

/// Runs `command` to its end with standard input closed and its output captured, and measures it. With
/// `guard_kb`, the process is killed (SIGKILL) as soon as its resident memory is seen above that many KiB;
/// [`Measured::stopped_at_kb`] then says so.
pub fn run_measured(command: &mut Command, guard_kb: Option<u64>) -> std::io::Result<Measured> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let mut stopped_at_kb = None;
    let (status, usage) = loop {
        let options = if guard_kb.is_some() { libc::WNOHANG } else { 0 };
        match wait4(pid, options)? {
            Some(done) => break done,
            None => {
                if let (Some(limit), None) = (guard_kb, stopped_at_kb)
                    && let Some(rss) = resident_kb(pid)
                    && rss > limit
                {
                    stopped_at_kb = Some(rss);
                    // The process may have ended in between: then there is nothing to kill.
                    let _ = child.kill();
                }
                std::thread::sleep(GUARD_INTERVAL);
            }
        }
    };
    let wall_s = start.elapsed().as_secs_f64();
    let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Measured {
        wall_s,
        user_s: seconds(usage.ru_utime),
        sys_s: seconds(usage.ru_stime),
        peak_rss_kb: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        stopped_at_kb,
        stdout: join(stdout),
        stderr: join(stderr),
    })
}

/// Reads a pipe to its end on its own thread (so that a full pipe never blocks the child).
fn drain<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        out
    })
}

/// `wait4(pid, options)`: `Some((status, rusage))` once the process has ended, `None` while it runs (with
/// `WNOHANG`). Interrupted calls are repeated.
#[allow(unsafe_code)]
fn wait4(pid: libc::pid_t, options: libc::c_int) -> std::io::Result<Option<(i32, libc::rusage)>> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `status` and `usage` are valid, exclusively borrowed out-pointers for the duration of the call;
        // `pid` is our own child, which std has not reaped (we never call `Child::wait`).
        let ret = unsafe { libc::wait4(pid, &mut status, options, &mut usage) };
        if ret == pid {
            return Ok(Some((status, usage)));
        }
        if ret == 0 {
            return Ok(None);
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Current resident memory of a running process in KiB (`VmRSS` of `/proc/<pid>/status`), if readable.
fn resident_kb(pid: libc::pid_t) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&text)
}

/// The `VmRSS:` line of a `/proc/<pid>/status` text, in KiB.
pub fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    #[test]
    fn peak_memory_is_the_processes_own() {
        // dd reads into one buffer of the block size: the process holds at least that much.
        let m = run_measured(
            &mut sh("dd if=/dev/zero of=/dev/null bs=96M count=2 2>/dev/null"),
            None,
        )
        .unwrap();
        assert!(m.success(), "{m:?}");
        assert!(m.peak_rss_kb >= 96 * 1024, "{}", m.peak_rss_kb);
        assert!(m.peak_rss_kb < 1024 * 1024, "{}", m.peak_rss_kb);
        let small = run_measured(&mut sh("true"), None).unwrap();
        assert!(small.peak_rss_kb < 32 * 1024, "{}", small.peak_rss_kb);
    }

    #[test]
    fn cpu_time_exit_code_and_output_are_reported() {
        let m = run_measured(
            &mut sh(
                "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo out; echo err >&2; exit 3",
            ),
            None,
        )
        .unwrap();
        assert_eq!(m.code, Some(3));
        assert!(!m.success());
        assert_eq!(m.signal, None);
        assert_eq!(m.stdout, b"out\n");
        assert_eq!(m.last_error_line(), "err");
        assert!(m.user_s > 0.05, "{m:?}");
        assert!(m.wall_s >= m.user_s * 0.5, "{m:?}");
        assert!((m.cpu_s() - (m.user_s + m.sys_s)).abs() < 1e-12);
    }

    #[test]
    fn the_guard_stops_a_process_above_its_ceiling() {
        let m = run_measured(
            &mut sh("exec dd if=/dev/zero of=/dev/null bs=128M count=200"),
            Some(32 * 1024),
        )
        .unwrap();
        assert!(m.stopped_at_kb.is_some_and(|kb| kb > 32 * 1024), "{m:?}");
        assert_eq!(m.signal, Some(libc::SIGKILL));
        assert_eq!(m.code, None);
        // Below the ceiling nothing is stopped.
        let ok = run_measured(&mut sh("exit 0"), Some(512 * 1024)).unwrap();
        assert_eq!((ok.stopped_at_kb, ok.code), (None, Some(0)));
    }

    #[test]
    fn vm_rss_is_read_from_proc_status() {
        let text = "Name:\tdh\nVmHWM:\t  2048 kB\nVmRSS:\t  1536 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(text), Some(1536));
        assert_eq!(parse_vm_rss("Name:\tdh\n"), None);
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let e = run_measured(&mut Command::new("/nonexistent/dh-bench-tool"), None)
            .err()
            .map(|e| e.kind());
        assert_eq!(e, Some(std::io::ErrorKind::NotFound));
    }
}
