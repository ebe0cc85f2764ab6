//! SIGINT and SIGTERM during `dh run`: the signals are taken by one thread, which removes the run's staging folder
//! (or lets a publication in progress finish), says so on stderr and exits with 130 (SIGINT) or 143 (SIGTERM).
//! The output folder's lock is an OS lock released when the process ends.

/// Exit code after SIGINT (128 + 2).
pub const EXIT_SIGINT: u8 = 130;
/// Exit code after SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

/// Routes SIGINT and SIGTERM to a clean-up thread. Call before any other thread is started (threads inherit the
/// signal mask). Returns `false` where this is not supported (the default handlers then apply).
#[cfg(unix)]
#[allow(unsafe_code)] // the crate's libc calls (the crate denies unsafe code; see Cargo.toml)
pub fn install() -> bool {
    // SAFETY: plain libc calls on a zero-initialised, locally owned signal set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return false;
        }
        set
    };
    let spawned = std::thread::Builder::new()
        .name("dh-signals".into())
        .spawn(move || {
            let mut signal: libc::c_int = 0;
            // SAFETY: `set` is a valid signal set blocked in every thread; sigwait writes one signal number.
            while unsafe { libc::sigwait(&set, &mut signal) } != 0 {}
            let (name, code) = if signal == libc::SIGINT {
                ("SIGINT", EXIT_SIGINT)
            } else {
                ("SIGTERM", EXIT_SIGTERM)
            };
            let done = dh_pipeline::layout::abandon_for_exit();
            eprintln!("dh run: interrupted by {name}: {done}");
            std::process::exit(i32::from(code));
        });
    spawned.is_ok()
}

#[cfg(not(unix))]
pub fn install() -> bool {
    false
}
