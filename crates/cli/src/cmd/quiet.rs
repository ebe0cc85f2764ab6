//! `-q/--quiet`, one definition for every command that prints progress or a summary.

/// Flattened into a command's arguments with `#[command(flatten)]`.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct Quiet {
    /// Print no progress and no summary (errors and warnings still go to stderr).
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
}

impl Quiet {
    /// Whether `-q/--quiet` was given.
    pub fn is_set(self) -> bool {
        self.quiet
    }
}
