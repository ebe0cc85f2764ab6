//! `dh completions SHELL`: prints the completion script clap_complete generates from the command definitions, so
//! completions can never drift from the flags.

use std::io::Write;
use std::process::ExitCode;

use clap_complete::Shell;

use super::EXIT_OK;
use super::help::{self, EXIT_USAGE};

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    "Write the script where your shell looks for completions, then open a new shell.",
    &help::examples(&[
        "dh completions bash > ~/.local/share/bash-completion/completions/dh",
        "dh completions zsh > ~/.zfunc/_dh      # with fpath+=~/.zfunc in ~/.zshrc",
        "dh completions fish > ~/.config/fish/completions/dh.fish",
        "dh completions powershell >> $PROFILE",
    ]),
    &help::exit_codes(&[
        (EXIT_OK, "script printed"),
        (EXIT_USAGE, "usage error (unknown shell)"),
    ]),
]))]
pub struct Args {
    /// Shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: Args, mut command: clap::Command) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "dh", &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(ExitCode::from(EXIT_OK))
}
