//! `dh merge`: flags, the summary and exit codes of merging shard output folders into one `OUT`. The work itself
//! is `dh_pipeline::merge::merge`.

use std::path::PathBuf;
use std::process::ExitCode;

use dh_pipeline::key::KeySource;
use dh_pipeline::layout::Privacy;
use dh_pipeline::merge::{MergeError, MergeOptions};
use dh_pipeline::run::{RunPolicy, RunSummary};

use super::help::{self, EXIT_USAGE, ExitRow};
use super::quiet::Quiet;
use super::signals::EXIT_SIGINT;
use super::{
    EXIT_CONFIG, EXIT_DATA, EXIT_INTERNAL, EXIT_IO, EXIT_LOCKED, EXIT_OK, EXIT_QUARANTINE,
};

const MERGE_HELP: &str = "Sharded runs: run `dh run --countries A,B --out-dir shards/1` on each machine \
(or scheduler task) with the same countries/, schemas/, pipelines/, dh version and pseudonym key, then merge the \
shards. OUT gets each country's files from its shard (hard-linked when the merging user owns them, else copied; \
each checked against the shard's manifest) and the cross-country outputs (indicators, report, workbook, codebook, \
manifest, with --export the Stata/SPSS files) written as `dh run` writes them: OUT is byte-identical to a single \
`dh run` over the same countries, deliveries and key, apart from OUT/runs/, where the merge writes its own run \
log (each country's line names its shard).

Refused with exit 3, naming the difference, before anything is written: a folder that is not a finished dh run \
(no manifest.json, or a publication interrupted half-way), shards made with another dh version or commit, \
pseudonym key (the key is not needed to merge: with --key-file or DH_PSEUDONYM_KEY the shards must match it, \
otherwise one another), schema or pipelines/ file, a country whose configuration in countries/ changed since its \
shard ran, a country in two shards with different results (both named; shards holding the same record of a \
country, e.g. OUT after the same merge, are not a conflict), a configured country in no shard (--countries merges a subset), \
a file that differs from its shard's manifest. With --raw-dir, a country computed from other deliveries than \
those in the folder now is refused too. A country its shard recorded as failed or stale is carried as recorded \
(exit 4, as the single run). A shard being written by `dh run` exits 5 (each shard is read under a shared lock \
on its .dh-lock). OUT may be one of the shards; the merge is staged and published by rename like a run.";

const MERGE_EXAMPLES: &[&str] = &[
    "dh merge shards/* --out-dir out",
    "dh merge shards/1 shards/2 --out-dir out --export dta,sav",
    "dh merge shards/* --out-dir /secure/out --raw-dir /secure/deliveries \\",
    "      --key-file /secure/pseudonym.key",
];

/// The exit codes of `dh merge`.
const MERGE_EXIT_CODES: &[ExitRow] = &[
    (EXIT_OK, "success: OUT holds the merged run"),
    (EXIT_USAGE, "usage error (unknown flag or bad value)"),
    (
        EXIT_CONFIG,
        "refused: a shard is not a finished dh run, was made with other definitions (dh version, \
         key, schemas/, pipelines/, a country's configuration or, with --raw-dir, its deliveries), a \
         country is in two shards with different results or in none, a file differs from its shard's manifest; or a \
         configuration error; nothing was written",
    ),
    (
        EXIT_DATA,
        "merged, but a shard recorded a country as failed or stale (carried as recorded)",
    ),
    (
        EXIT_LOCKED,
        "OUT or a shard is locked by a dh run; nothing was done (retry later)",
    ),
    (
        EXIT_QUARANTINE,
        "merged, but quarantined rows above --max-quarantine-rate",
    ),
    (EXIT_INTERNAL, "internal error (a bug)"),
    (
        EXIT_IO,
        "I/O error: disk full, unwritable output folder (nothing new was published)",
    ),
    (
        EXIT_SIGINT,
        "interrupted by SIGINT (130) or SIGTERM (143); staging removed, OUT unchanged",
    ),
];

#[derive(clap::Args)]
#[command(after_help = help::sections(&[
    MERGE_HELP,
    &help::examples(MERGE_EXAMPLES),
    &help::exit_codes(MERGE_EXIT_CODES),
]))]
pub struct Args {
    /// Output folders of finished `dh run`s (shards), e.g. shards/*.
    #[arg(value_name = "SHARD", required = true)]
    pub shards: Vec<PathBuf>,
    /// Output folder of the merged run (new, empty, a previous run's, or one of the shards).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Country configurations (`<ISO3>.toml`, `_defaults.toml`), as given to the shards' runs.
    #[arg(long, value_name = "DIR", default_value = "countries")]
    pub config_dir: PathBuf,
    /// Harmonised table schemas (`<table>.json`), as given to the shards' runs.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub schema_dir: PathBuf,
    /// Indicator catalogue and pipeline settings, as given to the shards' runs.
    #[arg(long, value_name = "DIR", default_value = "pipelines")]
    pub pipelines_dir: PathBuf,
    /// Countries of the merged run (ISO3, comma-separated), each from exactly one shard. Default: every country in
    /// the config folder; the shards' other countries are left out.
    #[arg(long, value_name = "ISO3,...", value_delimiter = ',')]
    pub countries: Vec<String>,
    /// File holding the pseudonym key the shards must have been made with (or DH_PSEUDONYM_KEY). Without either,
    /// the shards must agree among themselves.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Raw deliveries (`DIR/<ISO3>/<file>`): refuse a country its shard computed from other deliveries.
    #[arg(long, value_name = "DIR")]
    pub raw_dir: Option<PathBuf>,
    /// Also write the harmonised tables as Stata/SPSS files into OUT/export/ (as `dh run --export`).
    #[arg(long, value_enum, value_name = "FORMATS", value_delimiter = ',')]
    pub export: Vec<super::export::FormatArg>,
    /// Permissions (octal) of the microdata folders of OUT, as for `dh run`. Default 700: owner only.
    #[arg(long, value_name = "OCTAL", default_value = "700", value_parser = super::run::parse_mode)]
    pub microdata_mode: u32,
    /// Highest acceptable share of quarantined rows over all rows read (0-1); above it exit code 6.
    #[arg(long, value_name = "RATE", default_value_t = 1.0)]
    pub max_quarantine_rate: f64,
    #[command(flatten)]
    pub quiet: Quiet,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::signals::install();
    let countries: Vec<String> = args
        .countries
        .iter()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    let key = KeySource::from_env(args.key_file.clone(), None);
    let key = (key.key_file.is_some() || key.env_value.is_some()).then_some(key);
    let opts = MergeOptions {
        shards: args.shards.clone(),
        out_dir: args.out_dir.clone(),
        config_dir: args.config_dir.clone(),
        schema_dir: args.schema_dir.clone(),
        pipelines_dir: super::run::pipelines_dir(&args.pipelines_dir),
        countries,
        key,
        raw_dir: args.raw_dir.clone(),
    };
    let policy = RunPolicy {
        privacy: Privacy {
            dir_mode: args.microdata_mode,
        },
        export: args.export.iter().map(|f| f.format()).collect(),
        ..Default::default()
    };
    match dh_pipeline::merge::merge(&opts, &policy) {
        Ok(summary) => {
            if !args.quiet.is_set() {
                print_summary(&summary, args.shards.len());
            }
            for failure in &summary.failures {
                eprintln!("error: country {failure} (as recorded by its shard)");
            }
            for warning in &summary.warnings {
                eprintln!("warning: {warning}");
            }
            let code = super::run::exit_code(&Ok(summary), args.max_quarantine_rate);
            if code == EXIT_QUARANTINE {
                eprintln!(
                    "warning: quarantined rows above --max-quarantine-rate {}; outputs were published",
                    args.max_quarantine_rate
                );
            }
            Ok(ExitCode::from(code))
        }
        Err(MergeError::Pipeline(err)) => {
            if err.is_io() {
                eprintln!("error: I/O error: {err}");
                eprintln!(
                    "nothing new was published; {} is unchanged",
                    args.out_dir.display()
                );
            } else {
                eprintln!("error: {err}");
            }
            let code = super::run::exit_code(&Err(err), args.max_quarantine_rate);
            Ok(ExitCode::from(code))
        }
        Err(err) => {
            eprintln!("error: {err}; nothing was written");
            Ok(ExitCode::from(EXIT_CONFIG))
        }
    }
}

/// Countries and rows merged, failed or stale countries, and where the outputs are.
fn print_summary(summary: &RunSummary, shards: usize) {
    let m = &summary.manifest;
    let t = &m.totals;
    println!(
        "dh merge: {} countries from {shards} shard(s), {} ok, {} failed or stale; {} rows read, {} written, {} \
         quarantined in {:.2} s",
        m.countries.len(),
        t.countries_ok,
        t.countries_failed,
        t.rows_read,
        t.rows_written,
        t.rows_quarantined,
        summary.duration_ms as f64 / 1000.0
    );
    for c in m.countries.iter().filter(|c| !c.status.is_ok()) {
        println!(
            "{:<7} {}: {}",
            c.country,
            c.status,
            c.error.as_deref().unwrap_or("")
        );
    }
    let out = summary.out_dir.display();
    println!(
        "Manifest: {out}/manifest.json   run log: {}",
        summary.run_log.display()
    );
}
