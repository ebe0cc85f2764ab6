//! One module per subcommand. Each owns only argument definitions and reporting.

pub mod advice;
pub mod bench;
pub mod codebook;
pub mod completions;
pub mod country;
pub mod estimate;
pub mod export;
pub mod help;
pub mod indicators;
pub mod jsonlog;
pub mod merge;
pub mod progress;
pub mod quiet;
pub mod report;
pub mod run;
pub mod signals;
pub mod synth;
pub mod validate;

// Exit codes of every subcommand. Usage errors (unknown flag, bad value) exit with clap's 2, so ours start at 3.
// Documented for users in each command's `--help` (tables built in [`help`]) and the README.

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: configuration error (countries/, schemas/, flags, pseudonym key); nothing was written.
pub const EXIT_CONFIG: u8 = 3;
/// Exit code: data error (one or more deliveries could not be processed, or `dh validate` found problems).
/// The other countries' outputs were still written.
pub const EXIT_DATA: u8 = 4;
/// Exit code: another `dh run` holds the output folder's lock; nothing was done.
pub const EXIT_LOCKED: u8 = 5;
/// Exit code: the run succeeded and was published, but the share of quarantined rows exceeded
/// `--max-quarantine-rate`.
pub const EXIT_QUARANTINE: u8 = 6;
/// Exit code: internal error (a bug).
pub const EXIT_INTERNAL: u8 = 70;
/// Exit code: I/O error (disk full, read-only or unwritable output folder, lock path unusable); the message names
/// the path and the OS error. Nothing new was published and no staging folder is left behind.
pub const EXIT_IO: u8 = 74;

/// The exit-code table of `dh run` and `dh --help` (rows in [`help::RUN_EXIT_CODES`]).
pub fn exit_codes_help() -> String {
    help::exit_codes(help::RUN_EXIT_CODES)
}
