//! `dh report`: rebuilds `OUT/report/` and `OUT/tables/indicators.xlsx` from an existing run's outputs
//! (indicator table, manifest, recorded context) without recomputing anything. The work is `dh_report::build`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::help::{self, EXIT_USAGE, ExitRow};
use super::quiet::Quiet;
use super::{EXIT_CONFIG, EXIT_DATA, EXIT_OK};

const REPORT_HELP: &str = "Reads OUT/indicators/indicators.parquet, OUT/manifest.json (and the quarantine and \
normalised tables it lists) and OUT/report/context.json (indicator definitions and country metadata recorded by \
`dh run`). Writes OUT/report/index.html with one page per indicator and per country, a methods page, and \
OUT/tables/indicators.xlsx. `dh run` does the same at the end of every run.";

const REPORT_EXIT_CODES: &[ExitRow] = &[
    (EXIT_OK, "report and workbook written"),
    (EXIT_USAGE, "usage error (unknown flag or bad value)"),
    (
        EXIT_CONFIG,
        "no such output folder, or a file of the run (manifest, indicators, context) is missing",
    ),
    (
        EXIT_DATA,
        "a file of the run cannot be read or the report cannot be written",
    ),
];

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    REPORT_HELP,
    &help::examples(&["dh report", "dh report --out-dir out-th-ke --quiet"]),
    &help::exit_codes(REPORT_EXIT_CODES),
]))]
pub struct Args {
    /// Output folder of an earlier `dh run`.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out_dir: PathBuf,
    /// Print nothing on success.
    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.out_dir.is_dir() {
        eprintln!(
            "error: {}: no such output folder; run `dh run` first or pass --out-dir",
            args.out_dir.display()
        );
        return Ok(ExitCode::from(EXIT_CONFIG));
    }
    let clock = Instant::now();
    match dh_report::build(&args.out_dir, None) {
        Ok(built) => {
            if !args.quiet.is_set() {
                println!(
                    "report: {} pages in {}, workbook {} ({} ms)",
                    built.pages,
                    built.report_dir.display(),
                    built.workbook.display(),
                    clock.elapsed().as_millis()
                );
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(err @ dh_report::ReportError::MissingInput { .. }) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(EXIT_CONFIG))
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(EXIT_DATA))
        }
    }
}
