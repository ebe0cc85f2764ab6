//! `dh bench`: flag parsing and printing only; the benchmarks live in the `dh-bench` crate.

use std::path::PathBuf;
use std::process::ExitCode;

use dh_bench::dh_run::{RunOptions, run_benchmark as run_dh_benchmark};
use dh_bench::estimate::{BenchDesign, BenchOptions, run_benchmark};
use dh_bench::memory::{Case, MemoryOptions, run_memory};

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
    /// Time `dh run --force` against DuckDB converting the same deliveries' CSV files to Parquet
    /// (`COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet)`), each on --jobs threads in its own
    /// process, on synthetic deliveries generated first (not timed); prints wall and CPU seconds, peak memory,
    /// rows/s and the ratio of each tool's wall time to DuckDB's.
    #[command(after_help = help::sections(&[
        "DuckDB runs through python3 with the `duckdb` package (pip install duckdb), else the `duckdb` command; \
         without either it is reported and skipped. Latin-1 and windows-1252 files are read by DuckDB with \
         encoding='latin-1'; other encodings are transcoded to UTF-8 before timing. Peak memory is each \
         process's own (wait4), in MB of 2^20 bytes.",
        &help::examples(&[
            "dh bench run",
            "dh bench run --scale 100 --json > bench.json",
            "dh bench run --scale 20 --dh /opt/dh-previous/dh   # time another build",
        ]),
        &help::exit_codes(BENCH_RUN_EXIT_CODES),
    ]))]
    Run(RunArgs),
    /// Peak memory of `dh run --force` on large deliveries against a limit (default 1024 MB): a 10,000,000-row
    /// police-case CSV (Thailand, `police-csv`) and a 5,000,000-row child-survey .sav (Kenya, `child-sav`),
    /// generated first with `dh synth --tables T --rows N` (not timed). Exit 4 when a case goes over the limit.
    #[command(after_help = help::sections(&[
        "A run whose resident memory passes --guard-mb is killed and reported as over the limit, so a case \
         cannot exhaust the machine. Needs about 2 GB of free disk per case (files removed after each case \
         unless --keep).",
        &help::examples(&[
            "dh bench memory",
            "dh bench memory --case police-csv --json",
            "dh bench memory --case child-sav --rows 500000 --dh /opt/dh-previous/dh",
        ]),
        &help::exit_codes(&[
            (EXIT_OK, "every case ran within the limit"),
            (EXIT_USAGE, "usage error (unknown flag or bad value)"),
            (EXIT_DATA, "a case went over the limit, was stopped by the guard, or dh run failed"),
            (EXIT_INTERNAL, "the benchmark could not be set up (work folder, generating the deliveries)"),
        ]),
    ]))]
    Memory(MemoryArgs),
}

const BENCH_RUN_EXIT_CODES: &[help::ExitRow] = &[
    (
        EXIT_OK,
        "benchmark done (DuckDB measured, or reported as missing)",
    ),
    (EXIT_USAGE, "usage error (unknown flag or bad value)"),
    (EXIT_DATA, "dh run failed"),
    (
        EXIT_INTERNAL,
        "the benchmark could not be set up (work folder, generating the deliveries)",
    ),
];

/// Flags every run benchmark shares.
#[derive(clap::Args)]
pub struct CommonArgs {
    /// Threads of each tool (`dh run --jobs`, DuckDB `SET threads`).
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
    /// Seed of the generated deliveries.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder for the generated deliveries and the outputs. Default: a temporary folder.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Keep what the benchmark wrote (by default removed at the end).
    #[arg(long)]
    pub keep: bool,
    /// The dh binary to time (e.g. another build). Default: this one. Deliveries are generated by this one.
    #[arg(long, value_name = "PATH")]
    pub dh: Option<PathBuf>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Folder of country configurations.
    #[arg(long, value_name = "DIR", default_value = "countries")]
    pub config_dir: PathBuf,
    /// Folder of harmonised table schemas.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub schema_dir: PathBuf,
    /// Indicator catalogue and pipeline settings.
    #[arg(long, value_name = "DIR", default_value = "pipelines")]
    pub pipelines_dir: PathBuf,
    #[command(flatten)]
    pub quiet: Quiet,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Sample size multiplier of the generated deliveries (`dh synth --scale`).
    #[arg(long, default_value_t = 20.0)]
    pub scale: f64,
    /// Countries (ISO3, comma-separated). Default: every configured country.
    #[arg(long, value_delimiter = ',')]
    pub countries: Vec<String>,
    /// Time dh only.
    #[arg(long)]
    pub no_duckdb: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(clap::Args)]
pub struct MemoryArgs {
    /// Cases to run (comma-separated): police-csv, child-sav. Default: both.
    #[arg(long = "case", value_delimiter = ',', value_parser = ["police-csv", "child-sav"])]
    pub cases: Vec<String>,
    /// Rows of each case's large table instead of its default (10,000,000 police cases; 5,000,000 children).
    #[arg(long, value_name = "N")]
    pub rows: Option<u64>,
    /// Peak memory limit in MB (2^20 bytes).
    #[arg(long, value_name = "MB", default_value_t = 1024.0)]
    pub limit_mb: f64,
    /// Kill a run whose resident memory passes this many MB.
    #[arg(long, value_name = "MB", default_value_t = 8192.0)]
    pub guard_mb: f64,
    #[command(flatten)]
    pub common: CommonArgs,
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
    match args.command {
        Sub::Estimate(a) => estimate(a),
        Sub::Run(a) => run_vs_duckdb(a),
        Sub::Memory(a) => memory(a),
    }
}

/// The binary timed and the binary generating the deliveries.
fn binaries(common: &CommonArgs) -> anyhow::Result<(PathBuf, PathBuf)> {
    let this = std::env::current_exe()?;
    Ok((common.dh.clone().unwrap_or_else(|| this.clone()), this))
}

fn print_json(value: serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

fn run_vs_duckdb(a: RunArgs) -> anyhow::Result<ExitCode> {
    let (dh, synth_with) = binaries(&a.common)?;
    let c = a.common;
    let options = RunOptions {
        scale: a.scale,
        seed: c.seed,
        jobs: c.jobs,
        countries: a.countries,
        work_dir: c.work_dir,
        keep: c.keep,
        dh,
        synth_with,
        config_dir: c.config_dir,
        schema_dir: c.schema_dir,
        pipelines_dir: c.pipelines_dir,
        duckdb: !a.no_duckdb,
    };
    if !c.quiet.is_set() {
        eprintln!(
            "dh bench run: generating deliveries at scale {}, then timing dh and DuckDB",
            options.scale
        );
    }
    let report = match run_dh_benchmark(&options) {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: dh bench run: {err}");
            return Ok(ExitCode::from(EXIT_INTERNAL));
        }
    };
    if c.json {
        print_json(serde_json::to_value(&report)?)?;
    } else {
        print!("{report}");
    }
    Ok(ExitCode::from(if report.dh_failed() {
        EXIT_DATA
    } else {
        EXIT_OK
    }))
}

fn memory(a: MemoryArgs) -> anyhow::Result<ExitCode> {
    let (dh, synth_with) = binaries(&a.common)?;
    let c = a.common;
    let cases = if a.cases.is_empty() {
        Case::ALL.to_vec()
    } else {
        a.cases.iter().filter_map(|n| Case::from_name(n)).collect()
    };
    let options = MemoryOptions {
        cases,
        rows: a.rows,
        limit_mb: a.limit_mb,
        guard_mb: a.guard_mb,
        jobs: c.jobs,
        seed: c.seed,
        work_dir: c.work_dir,
        keep: c.keep,
        dh,
        synth_with,
        config_dir: c.config_dir,
        schema_dir: c.schema_dir,
        pipelines_dir: c.pipelines_dir,
    };
    if !c.quiet.is_set() {
        eprintln!("dh bench memory: generating each case's deliveries, then measuring dh run");
    }
    let report = match run_memory(&options) {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: dh bench memory: {err}");
            return Ok(ExitCode::from(EXIT_INTERNAL));
        }
    };
    if c.json {
        print_json(serde_json::to_value(&report)?)?;
    } else {
        print!("{report}");
    }
    Ok(ExitCode::from(if report.all_within_limit() {
        EXIT_OK
    } else {
        EXIT_DATA
    }))
}

fn estimate(a: EstimateArgs) -> anyhow::Result<ExitCode> {
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
