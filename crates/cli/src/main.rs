//! The `dh` binary: parses arguments and hands each subcommand to the library crate that owns the work.
//! No data logic lives here; each `cmd::*` module only translates flags into a library call and reports.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(
    name = "dh",
    about = "Disrupting Harm data pipeline: raw deliveries in, comparable indicators out",
    long_about = "Turns raw deliveries of the Disrupting Harm research (household survey of internet-using \
children aged 12-17 and their caregivers, and other data families) into harmonised Parquet tables, \
design-based estimates and indicators for every configured country.",
    version = dh_pipeline::build_info::VERSION_LINE,
    after_help = cmd::help::sections(&[
        &cmd::help::examples(&[
            "dh run                  # built-in synthetic data, all countries, writes out/",
            "dh run --countries THA,KEN --out-dir out-th-ke",
            "dh validate --countries THA",
            "dh codebook > codebook.md",
            "dh estimate apistrat.csv --strata stype --weights pw --fpc fpc \\",
            "      --stat mean --var api00",
            "dh export --format dta,sav --out-dir export",
            "dh completions bash > ~/.local/share/bash-completion/completions/dh",
        ]),
        &cmd::exit_codes_help(),
    ])
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the pipeline: ingest, normalise and write outputs for each country.
    Run(Box<cmd::run::Args>),
    /// Merge shards (output folders of `dh run --countries`) into one run's outputs.
    Merge(Box<cmd::merge::Args>),
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
    /// Benchmarks: `dh bench run` (dh run against DuckDB), `dh bench memory` (peak memory on large deliveries),
    /// `dh bench estimate` (dh estimate against R survey and Python svy).
    Bench(cmd::bench::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    Completions(cmd::completions::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(*a),
        Command::Merge(a) => cmd::merge::run(*a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Codebook(a) => cmd::codebook::run(a),
        Command::Estimate(a) => cmd::estimate::run(*a),
        Command::Indicators(a) => cmd::indicators::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Country(a) => cmd::country::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Completions(a) => cmd::completions::run(a, Cli::command()),
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

/// What users read in `--help`: every command states its exit codes, no example is broken by wrapping at 80
/// columns, the commands that print progress take `-q`, and the full text of every help page is a snapshot
/// (insta snapshots in `crates/cli/snapshots/help/`; review a change with `cargo insta review`).
#[cfg(test)]
mod help_tests {

    use super::*;

    /// Every command and subcommand (not clap's `help`), with its path such as `country new`.
    fn commands() -> Vec<(String, clap::Command)> {
        fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let path = format!("{path} {}", sub.get_name()).trim().to_string();
                out.push((path.clone(), sub.clone()));
                walk(sub, &path, out);
            }
        }
        let mut root = Cli::command();
        root.build();
        let mut out = vec![("dh".to_string(), root.clone())];
        walk(&root, "", &mut out);
        out
    }

    fn long_help(cmd: &clap::Command, width: usize) -> String {
        cmd.clone().term_width(width).render_long_help().to_string()
    }

    #[test]
    fn every_command_states_its_exit_codes() {
        for (path, cmd) in commands() {
            let has_children = cmd.get_subcommands().any(|s| s.get_name() != "help");
            let text = long_help(&cmd, cmd::help::HELP_WIDTH);
            // a command with subcommands may leave the table to them (`country new`, `bench estimate`)
            if has_children && !text.contains("Exit codes:") {
                continue;
            }
            if path == "indicators list" || path == "indicators show" {
                continue; // shared table on `dh indicators --help`
            }
            assert!(
                text.contains("Exit codes:\n  0 "),
                "`{path} --help` has no exit codes"
            );
        }
    }

    #[test]
    fn examples_fit_in_80_columns_and_are_never_broken() {
        for (path, cmd) in commands() {
            let text = long_help(&cmd, 80);
            let Some(start) = text.find("Examples:\n") else {
                continue;
            };
            let block = text[start..].lines().skip(1).take_while(|l| !l.is_empty());
            let mut continued = false;
            for line in block {
                assert!(line.chars().count() <= 80, "`{path}`: {line:?}");
                let ok = if continued {
                    line.starts_with("        -")
                } else {
                    line.starts_with("  dh ") || line.starts_with("  DH_")
                };
                assert!(ok, "`{path}`: example broken by wrapping: {line:?}");
                continued = line.ends_with('\\');
            }
            assert!(
                !continued,
                "`{path}`: last example ends with a continuation"
            );
        }
    }

    #[test]
    fn commands_that_print_progress_take_q() {
        for path in [
            "run",
            "merge",
            "synth",
            "report",
            "export",
            "country new",
            "bench estimate",
            "bench run",
            "bench memory",
        ] {
            let (_, cmd) = commands()
                .into_iter()
                .find(|(p, _)| p == path)
                .unwrap_or_else(|| panic!("no command `{path}`"));
            let quiet = cmd.get_arguments().find(|a| a.get_id() == "quiet");
            assert!(
                quiet.is_some_and(|a| a.get_short() == Some('q')),
                "`dh {path}` has no -q/--quiet"
            );
        }
    }

    /// One insta snapshot per command (`cli/snapshots/help/<path>.snap`, e.g. `country-new.snap`); review a change
    /// with `cargo insta review` (or `INSTA_UPDATE=always` and `git diff`).
    #[test]
    fn help_pages_match_their_snapshots() {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots/help");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| {
            for (path, cmd) in commands() {
                insta::assert_snapshot!(path.replace(' ', "-"), long_help(&cmd, 100));
            }
        });
    }
}
