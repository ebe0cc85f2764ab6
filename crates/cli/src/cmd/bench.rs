//! `dh bench`: flag parsing and printing only; the benchmarks live in the `dh-bench` crate.

use std::path::PathBuf;
use std::process::ExitCode;

use dh_bench::estimate::{BenchDesign, BenchOptions, run_benchmark};

use super::help::{self, EXIT_USAGE};
use super::quiet::Quiet;
use super::{EXIT_DATA, EXIT_INTERNAL, EXIT_OK};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Time `dh estimate` against R `survey` and Python `svy` on a generated design (default 1,000,000 rows,
    /// 500 strata, 10,000 PSUs): mean + SE overall and by a 20-level domain, and svyciprop(logit); CSV
    /// reading included; every tool's numbers compared with R's (exit 4 when dh fails or its numbers differ).
    #[command(after_help = help::sections(&[
        "Needs, for the peers: r-base-core and r-cran-survey (Rscript), and `pip install svy` (python3); a peer \
         that is missing is reported and skipped. Peak memory is each process's own (wait4).",
        &help::examples(&[
            "dh bench estimate",
            "dh bench estimate --rows 100000 --strata 50 --psus 1000 --no-r",
        ]),
        &help::exit_codes(&[
            (EXIT_OK, "benchmark done, dh's numbers agree with R's"),
            (EXIT_USAGE, "usage error (unknown flag or bad value)"),
            (EXIT_DATA, "dh failed or its numbers differ from R's"),
            (EXIT_INTERNAL, "the benchmark could not be set up (work folder, data)"),
        ]),
    ]))]
    Estimate(EstimateArgs),
}

#[derive(clap::Args)]
pub struct EstimateArgs {
    /// Folder for the generated CSV (kept and reused) and the tools' outputs.
    #[arg(long, value_name = "DIR", default_value = "target/bench-estimate")]
    pub work: PathBuf,
    /// Folder holding estimate_analyses.toml, estimate_r.R and estimate_svy.py.
    #[arg(long, value_name = "DIR", default_value = "bench")]
    pub bench_dir: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    #[arg(long, default_value_t = 500)]
    pub strata: usize,
    #[arg(long, default_value_t = 10_000)]
    pub psus: usize,
    #[arg(long, default_value_t = 20261128)]
    pub seed: u64,
    /// Runs of dh; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Skip R `survey` (then nothing is checked against R).
    #[arg(long)]
    pub no_r: bool,
    /// Skip Python `svy`.
    #[arg(long)]
    pub no_svy: bool,
    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Sub::Estimate(a) = args.command;
    let options = BenchOptions {
        design: BenchDesign {
            rows: a.rows,
            strata: a.strata,
            psus: a.psus,
            seed: a.seed,
        },
        work: a.work,
        bench_dir: a.bench_dir,
        dh: std::env::current_exe()?,
        dh_runs: a.runs,
        with_r: !a.no_r,
        with_svy: !a.no_svy,
    };
    if !a.quiet.is_set() {
        eprintln!(
            "dh bench estimate: {} rows; R and svy take a while",
            options.design.rows
        );
    }
    let report = run_benchmark(&options)?;
    print!("{report}");
    Ok(ExitCode::from(if report.dh_failed() {
        EXIT_DATA
    } else {
        EXIT_OK
    }))
}
