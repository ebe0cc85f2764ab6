//! The `dh` binary: parses arguments and hands each subcommand to the library crate that owns the work.
//! No data logic lives here; each `cmd::*` module only translates flags into a library call and reports.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(
    name = "dh",
    version,
    about = "Disrupting Harm data pipeline: raw deliveries in, comparable indicators out",
    long_about = "Turns raw deliveries of the Disrupting Harm research (household survey of internet-using \
children aged 12-17 and their caregivers, and other data families) into harmonised Parquet tables, \
design-based estimates and indicators for every configured country.",
    after_help = format!("{}\n\n{}", "Examples:\n  dh run                      # built-in synthetic data, all countries, writes out/\n  dh run --countries THA,KEN --out-dir out-th-ke\n  dh validate --countries THA\n  dh codebook > codebook.md\n  dh estimate apistrat.csv --strata stype --weights pw --fpc fpc --stat mean --var api00", cmd::EXIT_CODES_HELP)
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the pipeline: ingest, normalise and write outputs for each country.
    Run(Box<cmd::run::Args>),
    /// Check configurations and deliveries without writing outputs.
    Validate(cmd::validate::Args),
    /// Write synthetic raw deliveries for the configured countries.
    Synth(cmd::synth::Args),
    /// Print a Markdown codebook of the harmonised schemas.
    Codebook(cmd::codebook::Args),
    /// Design-based estimates from a CSV or Parquet file (like svydesign + svymean in R).
    Estimate(Box<cmd::estimate::Args>),
    /// List the indicator catalogue (pipelines/) or show one indicator's full definition.
    Indicators(cmd::indicators::Args),
    /// Rebuild the report (OUT/report/) and workbook (OUT/tables/indicators.xlsx) from an existing run.
    Report(cmd::report::Args),
    /// Onboard a country: write a config skeleton from its delivery folder (`dh country new ISO3 --from DIR`).
    Country(cmd::country::Args),
    /// Export the harmonised tables of a run as Stata .dta / SPSS .sav files with labels and missing codes.
    Export(cmd::export::Args),
    /// Benchmarks: `dh bench estimate` times dh estimate against R survey and Python svy.
    Bench(cmd::bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(*a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Codebook(a) => cmd::codebook::run(a),
        Command::Estimate(a) => cmd::estimate::run(*a),
        Command::Indicators(a) => cmd::indicators::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Country(a) => cmd::country::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Export(a) => cmd::export::run(a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(cmd::EXIT_INTERNAL)
        }
    }
}
