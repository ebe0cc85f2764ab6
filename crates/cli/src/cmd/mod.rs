//! One module per subcommand. Each owns only argument definitions and reporting.

pub mod bench;
pub mod codebook;
pub mod country;
pub mod estimate;
pub mod export;
pub mod indicators;
pub mod jsonlog;
pub mod progress;
pub mod report;
pub mod run;
pub mod signals;
pub mod synth;
pub mod validate;

// Exit codes of every subcommand. Usage errors (unknown flag, bad value) exit with clap's 2, so ours start at 3.
// Documented for users in `dh run --help` (see [`EXIT_CODES_HELP`]) and the README.

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

/// The exit-code table shown in `--help`.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0   success
  2   usage error (unknown flag or bad value)
  3   configuration error (countries/, schemas/, pseudonym key, an output folder holding
      files dh did not write); nothing was written
  4   data error: one or more countries failed or exceeded --country-timeout (the others
      were written; a failed country's last good outputs are kept, marked stale), or
      validate found problems
  5   output folder locked by another dh run; nothing was done (retry later)
  6   success, outputs published, but quarantined rows above --max-quarantine-rate
  70  internal error (a bug); a country it stopped is not published, the others are
  74  I/O error: disk full, read-only or unwritable output folder, lock path unusable
      (nothing new was published)
  130 interrupted by SIGINT, 143 by SIGTERM (staging removed, last complete run kept)";
