//! `dh validate`: configuration and delivery checks without writing outputs. Prints every problem (file, line or
//! row, column or key, value, reason) and a summary count; exits non-zero when there are problems.

use std::path::PathBuf;
use std::process::ExitCode;

use dh_pipeline::validate::{Problem, ProblemKind, ValidateOptions};

use super::help::{self, EXIT_USAGE, ExitRow};
use super::run::{BUILTIN_DATA_DIR, default_jobs, ensure_builtin_data};
use super::{EXIT_CONFIG, EXIT_DATA, EXIT_INTERNAL, EXIT_OK};

const VALIDATE_HELP: &str = "Checks each country's configuration against the harmonised schemas, then reads and \
normalises its deliveries in memory (nothing is written) and lists every row that a run would quarantine. \
Configuration problems exit with 3, delivery or row problems with 4.";

const VALIDATE_EXIT_CODES: &[ExitRow] = &[
    (EXIT_OK, "no problems"),
    (EXIT_USAGE, "usage error (unknown flag or bad value)"),
    (
        EXIT_CONFIG,
        "configuration problems (countries/, schemas/), or the built-in data cannot be generated",
    ),
    (EXIT_DATA, "delivery or row problems (every one is listed)"),
    (EXIT_INTERNAL, "internal error (a bug)"),
];

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    VALIDATE_HELP,
    &help::examples(&[
        "dh validate",
        "dh validate --countries THA --config-only",
        "dh validate --raw-dir /secure/deliveries --countries KEN,UGA",
    ]),
    &help::exit_codes(VALIDATE_EXIT_CODES),
]))]
pub struct Args {
    /// Countries to check (ISO3, comma-separated). Default: every country in the config folder.
    #[arg(long, value_name = "ISO3,...", value_delimiter = ',')]
    pub countries: Vec<String>,
    /// Raw deliveries (`DIR/<ISO3>/<file>`). Default: built-in synthetic data in data/ (generated on first use).
    #[arg(long, value_name = "DIR")]
    pub raw_dir: Option<PathBuf>,
    /// Country configurations.
    #[arg(long, value_name = "DIR", default_value = "countries")]
    pub config_dir: PathBuf,
    /// Harmonised table schemas.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub schema_dir: PathBuf,
    /// Worker threads. Default: the number of CPUs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Check the configuration only; do not read deliveries.
    #[arg(long)]
    pub config_only: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let raw_dir = match (&args.raw_dir, args.config_only) {
        (Some(dir), _) => dir.clone(),
        (None, true) => PathBuf::from(BUILTIN_DATA_DIR),
        (None, false) => {
            let data = PathBuf::from(BUILTIN_DATA_DIR);
            if let Err(err) = ensure_builtin_data(&data, &args.config_dir, &args.schema_dir, false)
            {
                eprintln!(
                    "error: cannot generate the built-in synthetic data in {}: {err:#}",
                    data.display()
                );
                return Ok(ExitCode::from(EXIT_CONFIG));
            }
            data
        }
    };
    let opts = ValidateOptions {
        raw_dir,
        config_dir: args.config_dir,
        schema_dir: args.schema_dir,
        countries: args
            .countries
            .iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .collect(),
        jobs: args.jobs.map(usize::from).unwrap_or_else(default_jobs),
        config_only: args.config_only,
    };
    let report = match dh_pipeline::validate::validate(&opts) {
        Ok(r) => r,
        Err(err) if err.is_config() => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(EXIT_INTERNAL));
        }
    };
    for problem in &report.problems {
        println!("{problem}");
    }
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
    let (config, delivery, rows) = (
        report.count(ProblemKind::Config),
        report.count(ProblemKind::Delivery),
        report.count(ProblemKind::Row),
    );
    println!(
        "{} in {}: {config} configuration, {delivery} delivery, {rows} row ({} checked)",
        plural(report.problems.len(), "problem"),
        plural(report.countries.len(), "country"),
        plural(report.rows_checked as usize, "row"),
    );
    let routing: Vec<&Problem> = report
        .warnings
        .iter()
        .filter(|w| w.kind == ProblemKind::Routing)
        .collect();
    if !routing.is_empty() {
        let rows: u64 = routing.iter().map(|w| w.rows).sum();
        println!(
            "{} about routing ({rows} rows kept as delivered; they do not change the exit code)",
            plural(routing.len(), "warning"),
        );
    }
    let reader = report.count_warnings(ProblemKind::Reader);
    if reader > 0 {
        println!(
            "{} from the readers (files read; check them; they do not change the exit code)",
            plural(reader, "warning"),
        );
    }
    Ok(ExitCode::from(if config > 0 {
        EXIT_CONFIG
    } else if delivery + rows > 0 {
        EXIT_DATA
    } else {
        EXIT_OK
    }))
}

/// `1 problem`, `2 problems`, `1 country`, `3 countries`.
fn plural(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("{n} {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals() {
        assert_eq!(super::plural(1, "problem"), "1 problem");
        assert_eq!(super::plural(0, "problem"), "0 problems");
        assert_eq!(super::plural(3, "country"), "3 countries");
        assert_eq!(super::plural(1, "country"), "1 country");
    }
}
