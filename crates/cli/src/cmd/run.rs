//! `dh run`: flags, built-in synthetic data on first use, progress bars, the end-of-run summary and exit codes.
//! The work itself is `dh_pipeline::run::run`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dh_pipeline::incremental::Decision;
use dh_pipeline::key::KeySource;
use dh_pipeline::layout::Privacy;
use dh_pipeline::manifest::CountryStatus;
use dh_pipeline::run::{RunOptions, RunPolicy, RunSummary};

use super::help;
use super::jsonlog::JsonLog;
use super::progress::ProgressBars;
use super::quiet::Quiet;
use super::{
    EXIT_CONFIG, EXIT_DATA, EXIT_INTERNAL, EXIT_IO, EXIT_LOCKED, EXIT_OK, EXIT_QUARANTINE,
    exit_codes_help,
};

/// Folder of the built-in synthetic deliveries (relative to the current directory).
pub const BUILTIN_DATA_DIR: &str = "data";
/// Seed of the built-in synthetic deliveries (fixed, so every checkout gets the same data).
pub const BUILTIN_SEED: u64 = 20_201_101;
/// Written after the built-in data were generated completely.
const BUILTIN_MARKER: &str = ".dh-synth-complete";

const RUN_HELP: &str = "Folders: countries/ and schemas/ are looked up in the current directory unless --config-dir / \
--schema-dir are given. Without --raw-dir, synthetic deliveries for every configured country are generated on first \
use into data/ (fixed seed) with a pseudonym key in data/pseudonym.key. Real deliveries (--raw-dir) need a key: set \
DH_PSEUDONYM_KEY or pass --key-file (a file kept outside the output folder).

Outputs: OUT/normalised/<table>/country=<ISO3>/part-0.parquet, OUT/quarantine/<table>/country=<ISO3>/part-0.parquet, \
OUT/indicators/indicators.parquet, indicators.csv, comparison.csv, comparison_legend.csv and flags.csv (weighting \
and indicators from pipelines/; the raked weight is the column final_weight of the normalised child_survey table), \
OUT/report/index.html, OUT/tables/indicators.xlsx, OUT/codebook.md (the codebook of the run's schemas), \
OUT/export/<table>.dta|.sav (with --export), \
OUT/manifest.json (deterministic: hashes, row ledgers and weight diagnostics, no timestamps), OUT/runs/<run-id>.json (timings). \
The output folder must be new, empty or a previous run's (with its manifest.json); one holding other files is refused \
(exit 3). normalised/, quarantine/, the staging folder and runs/ are owner-only (--microdata-mode).

Faults: a country whose delivery fails keeps its last good outputs, marked stale in the manifest and the report \
(--drop-failed removes them instead); the exit code is 4 either way. Disk full or an unwritable output folder \
exit with 74 and publish nothing; SIGINT/SIGTERM exit with 130/143 after removing the staging folder. A country \
running longer than --country-timeout fails (exit 4) and the others are published.

Incremental: each country is keyed by the hashes of its deliveries, its configuration and the definitions \
(schemas, pipelines/, tool version, pseudonym key); an unchanged country is carried over from the previous run in \
OUT, the cross-country outputs are always rebuilt. --dry-run lists what would run and why; --force recomputes.";

const RUN_EXAMPLES: &[&str] = &[
    "dh run",
    "dh run --dry-run",
    "dh run --countries THA,KEN --jobs 2 --out-dir out-th-ke",
    "DH_PSEUDONYM_KEY=... dh run --raw-dir /secure/deliveries --out-dir /secure/out",
];

#[derive(clap::Args)]
#[command(after_help = help::sections(&[RUN_HELP, &help::examples(RUN_EXAMPLES), &exit_codes_help()]))]
pub struct Args {
    /// Raw deliveries, one folder per country (`DIR/<ISO3>/<file>`). Default: built-in synthetic data in data/.
    #[arg(long, value_name = "DIR")]
    pub raw_dir: Option<PathBuf>,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out_dir: PathBuf,
    /// Country configurations (`<ISO3>.toml`, `_defaults.toml`).
    #[arg(long, value_name = "DIR", default_value = "countries")]
    pub config_dir: PathBuf,
    /// Harmonised table schemas (`<table>.json`).
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub schema_dir: PathBuf,
    /// Indicator catalogue and pipeline settings (`pipeline.toml`, `indicators.toml`). When the folder does not
    /// exist the weighting and indicator stage is skipped (with a note).
    #[arg(long, value_name = "DIR", default_value = "pipelines")]
    pub pipelines_dir: PathBuf,
    /// Countries to run (ISO3, comma-separated). Default: every country in the config folder. The previous run's
    /// other countries stay in the output folder as they are (kept), so cross-country outputs still cover them.
    #[arg(long, value_name = "ISO3,...", value_delimiter = ',')]
    pub countries: Vec<String>,
    /// Worker threads. Default: the number of CPUs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// File holding the pseudonym key (instead of DH_PSEUDONYM_KEY). Must lie outside the output folder.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Highest acceptable share of quarantined rows over all rows read (0-1). Above it the run is still
    /// published but exits with code 6.
    #[arg(long, value_name = "RATE", default_value_t = 1.0)]
    pub max_quarantine_rate: f64,
    /// Recompute every selected country even when its inputs, configuration and definitions are unchanged.
    #[arg(long)]
    pub force: bool,
    /// List what would run and why (new file, changed config, changed definition, forced), then exit without
    /// writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Log format on stderr: `human` (progress bars on a terminal, messages) or `json` (one JSON object per event:
    /// stage, country, rows, duration, level; no progress bars).
    #[arg(long, value_enum, default_value = "human")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub quiet: Quiet,
    /// Permissions (octal) of the microdata folders dh writes: the staging folder, normalised/, quarantine/ and
    /// runs/ (files get the same bits without execute). Default 700: owner only; 750 lets the group read. The
    /// report, indicator tables and workbook follow the umask.
    #[arg(long, value_name = "OCTAL", default_value = "700", value_parser = parse_mode)]
    pub microdata_mode: u32,
    /// Also write the harmonised tables as Stata/SPSS files into OUT/export/<table>.dta|.sav (as `dh export`);
    /// carried over unchanged when the normalised files, schemas and dh version are unchanged. OUT/export/ belongs
    /// to the run: a run without --export removes it.
    #[arg(long, value_enum, value_name = "FORMATS", value_delimiter = ',')]
    pub export: Vec<super::export::FormatArg>,
    /// Remove a failed country's previous outputs from the output folder instead of keeping them marked stale.
    #[arg(long)]
    pub drop_failed: bool,
    /// Time limit of one country in seconds (reading to writing). A country over it fails (exit 4, "time
    /// limit") and is abandoned; the other countries are published and the process exits. 0: no limit.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_COUNTRY_TIMEOUT_SECS)]
    pub country_timeout: u64,
}

/// Default of --country-timeout: one hour, far above a country's normal run time (seconds to minutes).
pub const DEFAULT_COUNTRY_TIMEOUT_SECS: u64 = 3600;

/// An octal folder mode between 700 and 777 (the owner keeps full access).
pub(super) fn parse_mode(text: &str) -> Result<u32, String> {
    let mode = u32::from_str_radix(text.trim_start_matches("0o"), 8)
        .map_err(|_| format!("`{text}` is not an octal mode such as 700 or 750"))?;
    if mode > 0o777 || mode & 0o700 != 0o700 {
        return Err(format!(
            "`{text}`: the mode must be octal 700-777 (the owner needs full access)"
        ));
    }
    Ok(mode)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // before any thread starts, so that every thread inherits the blocked signals
    if !args.dry_run {
        super::signals::install();
    }
    let countries: Vec<String> = args
        .countries
        .iter()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    let (raw_dir, generated_key) = match &args.raw_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let data = PathBuf::from(BUILTIN_DATA_DIR);
            if let Err(err) = ensure_builtin_data(
                &data,
                &args.config_dir,
                &args.schema_dir,
                args.quiet.is_set(),
            ) {
                eprintln!(
                    "error: cannot generate the built-in synthetic data in {}: {err:#}",
                    data.display()
                );
                return Ok(ExitCode::from(EXIT_CONFIG));
            }
            (data.clone(), Some(data.join("pseudonym.key")))
        }
    };
    let opts = RunOptions {
        raw_dir,
        out_dir: args.out_dir.clone(),
        config_dir: args.config_dir.clone(),
        schema_dir: args.schema_dir.clone(),
        pipelines_dir: pipelines_dir(&args.pipelines_dir),
        countries,
        jobs: args.jobs.map(usize::from).unwrap_or_else(default_jobs),
        key: KeySource::from_env(args.key_file.clone(), generated_key),
        force: args.force,
    };
    if args.dry_run {
        return dry_run(&opts);
    }
    let json = args.log_format == LogFormat::Json;
    let bars = ProgressBars::new(!args.quiet.is_set() && !json);
    let json_log = JsonLog::default();
    let observer: &dyn dh_pipeline::progress::RunObserver = if json { &json_log } else { &bars };
    let policy = RunPolicy {
        privacy: Privacy {
            dir_mode: args.microdata_mode,
        },
        drop_failed: args.drop_failed,
        country_timeout: (args.country_timeout > 0)
            .then(|| std::time::Duration::from_secs(args.country_timeout)),
        export: args.export.iter().map(|f| f.format()).collect(),
    };
    let result = dh_pipeline::run::run_with(&opts, &policy, observer);
    bars.finish();
    if json {
        let code = exit_code(&result, args.max_quarantine_rate);
        let mut event = serde_json::json!({
            "event": "run_finished",
            "level": if code == EXIT_OK { "info" } else { "error" },
            "exit_code": code,
        });
        if let (Ok(summary), Some(map)) = (&result, event.as_object_mut()) {
            let t = &summary.manifest.totals;
            map.insert("rows".into(), t.rows_written.into());
            map.insert("quarantined".into(), t.rows_quarantined.into());
            map.insert("rows_read".into(), t.rows_read.into());
            map.insert("duration_ms".into(), summary.duration_ms.into());
            map.insert("countries_failed".into(), t.countries_failed.into());
            let stale: Vec<&str> = summary
                .manifest
                .countries
                .iter()
                .filter(|c| c.status == CountryStatus::Stale)
                .map(|c| c.country.as_str())
                .collect();
            map.insert("countries_stale".into(), stale.into());
            if !summary.warnings.is_empty() {
                map.insert("warnings".into(), summary.warnings.clone().into());
            }
        }
        if let (Err(err), Some(map)) = (&result, event.as_object_mut()) {
            map.insert("error".into(), err.to_string().into());
        }
        json_log.emit(event);
    }
    match result {
        Ok(summary) => {
            if !args.quiet.is_set() {
                print_summary(&summary);
            }
            for failure in &summary.failures {
                eprintln!("error: country {failure}");
            }
            for c in summary
                .manifest
                .countries
                .iter()
                .filter(|c| c.status == CountryStatus::Stale)
            {
                eprintln!(
                    "note: country {}: its outputs from its last good run were kept, marked stale in the manifest \
                     and the report (--drop-failed removes them)",
                    c.country
                );
            }
            for warning in &summary.warnings {
                eprintln!("warning: {warning}");
            }
            let totals = &summary.manifest.totals;
            let rate = if totals.rows_read == 0 {
                0.0
            } else {
                totals.rows_quarantined as f64 / totals.rows_read as f64
            };
            if summary.failures.iter().any(|f| f.internal) {
                eprintln!(
                    "internal error: a bug in dh stopped {} country(ies); the other countries were written to {}",
                    summary.failures.iter().filter(|f| f.internal).count(),
                    summary.out_dir.display()
                );
                Ok(ExitCode::from(EXIT_INTERNAL))
            } else if summary.failures.is_empty() && rate > args.max_quarantine_rate {
                eprintln!(
                    "warning: {} of {} rows quarantined ({:.4}), above --max-quarantine-rate {}; outputs were \
                     published",
                    totals.rows_quarantined, totals.rows_read, rate, args.max_quarantine_rate
                );
                Ok(ExitCode::from(EXIT_QUARANTINE))
            } else if summary.failures.is_empty() {
                Ok(ExitCode::from(EXIT_OK))
            } else {
                eprintln!(
                    "{} of {} countries failed; the others were written to {}",
                    summary.failures.len(),
                    summary.manifest.countries.len(),
                    summary.out_dir.display()
                );
                Ok(ExitCode::from(EXIT_DATA))
            }
        }
        Err(err @ dh_pipeline::PipelineError::Locked { .. }) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(EXIT_LOCKED))
        }
        Err(err) if err.is_config() => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(EXIT_CONFIG))
        }
        Err(err) if err.is_io() => {
            eprintln!("error: I/O error: {err}");
            eprintln!(
                "nothing new was published; {} holds the last complete run",
                args.out_dir.display()
            );
            Ok(ExitCode::from(EXIT_IO))
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(EXIT_INTERNAL))
        }
    }
}

/// The exit code a run result maps to (the same rules as the human-readable path below).
pub(super) fn exit_code(
    result: &Result<RunSummary, dh_pipeline::PipelineError>,
    max_quarantine_rate: f64,
) -> u8 {
    match result {
        Ok(summary) if summary.failures.iter().any(|f| f.internal) => EXIT_INTERNAL,
        Ok(summary) if !summary.failures.is_empty() => EXIT_DATA,
        Ok(summary) => {
            let t = &summary.manifest.totals;
            let rate = if t.rows_read == 0 {
                0.0
            } else {
                t.rows_quarantined as f64 / t.rows_read as f64
            };
            if rate > max_quarantine_rate {
                EXIT_QUARANTINE
            } else {
                EXIT_OK
            }
        }
        Err(dh_pipeline::PipelineError::Locked { .. }) => EXIT_LOCKED,
        Err(e) if e.is_config() => EXIT_CONFIG,
        Err(e) if e.is_io() => EXIT_IO,
        Err(_) => EXIT_INTERNAL,
    }
}

/// Prints each selected country's decision; exit code 0, or 3 for a configuration error.
fn dry_run(opts: &RunOptions) -> anyhow::Result<ExitCode> {
    match dh_pipeline::run::dry_run(opts) {
        Ok(plan) => {
            let to_run = plan
                .iter()
                .filter(|(_, d)| matches!(d, Decision::Run(_)))
                .count();
            for (country, decision) in &plan {
                match decision {
                    Decision::Run(reason) => println!("run      {country}  {reason}"),
                    Decision::Reuse => println!("reuse    {country}  up to date"),
                    Decision::Keep => println!(
                        "keep     {country}  not selected by --countries; previous outputs kept"
                    ),
                }
            }
            println!(
                "dry run: {to_run} of {} countries would be computed; cross-country outputs are always rebuilt",
                plan.len()
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(err) if err.is_config() => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(EXIT_CONFIG))
        }
        Err(err) if err.is_io() => {
            eprintln!("error: I/O error: {err}");
            Ok(ExitCode::from(EXIT_IO))
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(EXIT_INTERNAL))
        }
    }
}

/// The pipelines folder, or `None` (with a note) when it does not exist (`dh run`, `dh merge`).
pub(super) fn pipelines_dir(dir: &Path) -> Option<PathBuf> {
    if dir.join("pipeline.toml").is_file() {
        return Some(dir.to_path_buf());
    }
    eprintln!(
        "note: {} has no pipeline.toml; weighting and indicators are skipped (pass --pipelines-dir)",
        dir.display()
    );
    None
}

pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Generates synthetic deliveries for every configured country into `data` unless a previous call completed.
pub fn ensure_builtin_data(
    data: &Path,
    config_dir: &Path,
    schema_dir: &Path,
    quiet: bool,
) -> anyhow::Result<()> {
    if data.join(BUILTIN_MARKER).exists() {
        return Ok(());
    }
    if !quiet {
        eprintln!(
            "Generating built-in synthetic deliveries into {} (first use, seed {BUILTIN_SEED}) ...",
            data.display()
        );
    }
    // dh-synth's entry point: writes <ISO3>/ deliveries, truth.json and injected.json.
    let options = dh_synth::SynthOptions {
        seed: BUILTIN_SEED,
        scale: 1.0,
        countries: Vec::new(),
    };
    dh_synth::synth_to_dir(config_dir, schema_dir, data, &options)?;
    std::fs::write(data.join(BUILTIN_MARKER), format!("seed {BUILTIN_SEED}\n"))?;
    Ok(())
}

/// Rows per country and table, quarantined rows, failures, and where the outputs are.
fn print_summary(summary: &RunSummary) {
    let m = &summary.manifest;
    let t = &m.totals;
    let rate = if t.rows_read == 0 {
        0.0
    } else {
        100.0 * t.rows_quarantined as f64 / t.rows_read as f64
    };
    println!(
        "dh run: {} countries ok, {} failed; {} rows read, {} written, {} quarantined ({rate:.2}%) in {:.2} s",
        t.countries_ok,
        t.countries_failed,
        t.rows_read,
        t.rows_written,
        t.rows_quarantined,
        summary.duration_ms as f64 / 1000.0
    );
    let width = m
        .inputs
        .iter()
        .map(|i| i.table.len())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "{:<7} {:<width$} {:>9} {:>9} {:>11}",
        "country", "table", "read", "written", "quarantined"
    );
    let mut inputs: Vec<_> = m.inputs.iter().collect();
    inputs.sort_by(|a, b| (&a.country, &a.table).cmp(&(&b.country, &b.table)));
    for i in inputs {
        println!(
            "{:<7} {:<width$} {:>9} {:>9} {:>11}",
            i.country, i.table, i.rows_read, i.rows_written, i.rows_quarantined
        );
    }
    for c in &m.countries {
        for table in &c.not_delivered {
            println!("{:<7} {table:<width$} not delivered", c.country);
        }
    }
    for c in m.countries.iter().filter(|c| !c.status.is_ok()) {
        println!(
            "{:<7} FAILED: {}",
            c.country,
            c.error.as_deref().unwrap_or("")
        );
    }
    print_headline(summary);
    let out = summary.out_dir.display();
    println!("Harmonised tables: {out}/normalised/   rejected rows: {out}/quarantine/");
    println!(
        "Manifest: {out}/manifest.json   run log: {}",
        summary.run_log.display()
    );
}

/// The headline indicator per country with its interval (or its flag when withheld).
fn print_headline(summary: &RunSummary) {
    let Some(id) = &summary.headline_id else {
        return;
    };
    println!("Headline indicator `{id}` (total, 95% interval):");
    for (country, r) in &summary.headline {
        let shown = match (r.estimate, r.ci_lower, r.ci_upper) {
            (Some(e), Some(lo), Some(hi)) if !r.flag.hides_estimate() => format!(
                "{:>6.2}%  [{:.2}%, {:.2}%]  n = {}  {}",
                100.0 * e,
                100.0 * lo,
                100.0 * hi,
                r.n_unweighted,
                r.flag.as_str()
            ),
            _ => format!("{}  n = {}", r.flag.as_str(), r.n_unweighted),
        };
        println!("{country:<7} {shown}");
    }
    let out = summary.out_dir.display();
    println!(
        "Indicators: {out}/indicators/indicators.parquet, indicators.csv, comparison.csv (legends: flags.csv, \
         comparison_legend.csv)"
    );
}
