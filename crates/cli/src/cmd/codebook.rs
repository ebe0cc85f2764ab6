//! `dh codebook`: prints the Markdown codebook of the harmonised schemas (rendering lives in `dh_config::codebook`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::help::{self, EXIT_USAGE};
use super::{EXIT_CONFIG, EXIT_OK};

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    &help::examples(&[
        "dh codebook > codebook.md",
        "dh codebook --table caregiver_survey",
        "dh codebook --schema-dir my-schemas",
    ]),
    &help::exit_codes(&[
        (EXIT_OK, "codebook printed"),
        (EXIT_USAGE, "usage error (unknown flag or bad value)"),
        (EXIT_CONFIG, "a schema is invalid or --table names no table"),
    ]),
]))]
pub struct Args {
    /// Folder holding the harmonised table schemas (`<table>.json`).
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub schema_dir: PathBuf,
    /// Print only this table (e.g. `child_survey`).
    #[arg(long, value_name = "T")]
    pub table: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rendered = dh_config::load_schemas(&args.schema_dir)
        .and_then(|set| dh_config::render_codebook(&set, args.table.as_deref()));
    match rendered {
        Ok(markdown) => {
            print!("{markdown}");
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::from(EXIT_CONFIG))
        }
    }
}
