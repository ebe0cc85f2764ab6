//! One module per subcommand. Each owns only argument definitions and reporting.

pub mod codebook;
pub mod estimate;
pub mod indicators;
pub mod run;
pub mod synth;
pub mod validate;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: configuration error.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code: data error (a delivery could not be processed).
pub const EXIT_DATA: u8 = 3;
/// Exit code: internal error.
pub const EXIT_INTERNAL: u8 = 70;
