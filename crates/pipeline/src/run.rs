//! `dh run` as a library call: load and check configuration, process countries in a pool of `jobs` threads,
//! write the manifest, publish the staged outputs into `OUT`, write the run log.
//!
//! A configuration problem stops the run before anything is written ([`PipelineError`]). A problem in one
//! country's delivery stops only that country ([`CountryError`] in [`RunSummary::failures`]); the others are
//! published and the manifest lists the failed country with its reason; a failed country's outputs from its last
//! good run are kept, marked `stale` (unless [`RunPolicy::drop_failed`]). An I/O fault (disk full, unwritable
//! output folder) stops the run with [`PipelineError::Io`]; the staging folder is removed on every path that does not
//! publish, and a failure to write only the run log after publication is a warning ([`RunSummary::warnings`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use dh_config::{CountryConfig, SchemaSet};
use rayon::prelude::*;

use std::collections::BTreeMap;

use dh_indicators::estimate::EstimateRow;

use crate::abort_point;
use crate::country::{Context, CountryReport, process_country};
use crate::error::{CountryError, PipelineError};
use crate::hashing::sha256_file;
use crate::incremental::{
    COUNTRY_STAGE, CountryKey, Decision, Reason, country_key, decide, definitions_hash,
    outputs_intact, previous_indicator_rows, previous_manifest, stage_previous_outputs,
};
use crate::indicator_stage::{IndicatorSetup, headline_row, write_indicator_tables};
use crate::key::{KeySource, load_key};
use crate::layout::{MANIFEST_FILE, OutLock, Privacy, Staging, check_out_dir, recover};
use crate::manifest::{
    CountryEntry, CountryStatus, HashedFile, Manifest, ToolInfo, manifest_bytes, relative_path,
};
use crate::manifest::{StageEntry, StaleFrom};
use crate::progress::RunObserver;
use crate::runlog::{CountryTiming, RunLog, millis, new_run_id, rfc3339};
use crate::schedule::{self, Outcome};

/// Inputs of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Raw deliveries: `<raw_dir>/<ISO3>/<file>`.
    pub raw_dir: PathBuf,
    pub out_dir: PathBuf,
    /// `countries/` (country files and `_defaults.toml`).
    pub config_dir: PathBuf,
    /// `schemas/` (one JSON file per harmonised table).
    pub schema_dir: PathBuf,
    /// `pipelines/` (`pipeline.toml` and the indicator catalogue); `None` skips weighting and indicators.
    pub pipelines_dir: Option<PathBuf>,
    /// ISO3 codes to run; empty = every country file in `config_dir`.
    pub countries: Vec<String>,
    /// Worker threads (at least 1).
    pub jobs: usize,
    pub key: KeySource,
    /// Recompute every country even when its key is unchanged.
    pub force: bool,
}

/// How a run treats faults and its outputs (defaults: owner-only microdata, failed countries keep their last good
/// outputs as `stale`).
#[derive(Debug, Clone, Default)]
pub struct RunPolicy {
    /// Permissions of the staging folder, `normalised/`, `quarantine/` and the run logs.
    pub privacy: Privacy,
    /// Drop a failed country's previous outputs instead of keeping them as `stale`.
    pub drop_failed: bool,
    /// Time limit of one country (its stages from reading to writing); `None`: no limit. A country over it fails
    /// and is abandoned; the others are published.
    pub country_timeout: Option<Duration>,
    /// Stata/SPSS files of the harmonised tables to write into `OUT/export/` (`dh run --export`); none when empty.
    pub export: Vec<dh_export::Format>,
}

/// What a run did.
#[derive(Debug)]
pub struct RunSummary {
    pub manifest: Manifest,
    /// Countries that failed, sorted by country code.
    pub failures: Vec<CountryError>,
    pub out_dir: PathBuf,
    pub run_log: PathBuf,
    pub duration_ms: u64,
    /// Headline indicator's total row per country (code order), when the indicator stage ran.
    pub headline: Vec<(String, dh_indicators::estimate::EstimateRow)>,
    /// Id of the headline indicator.
    pub headline_id: Option<String>,
    /// Problems after publication that do not undo it (the run log could not be written).
    pub warnings: Vec<String>,
}

/// Loaded and checked configuration shared by `dh run` and `dh validate`.
pub struct LoadedConfig {
    pub schemas: SchemaSet,
    pub countries: Vec<CountryConfig>,
}

/// Loads schemas and the selected countries; every delivery must feed a table that has a schema.
pub fn load_config(
    config_dir: &Path,
    schema_dir: &Path,
    only: &[String],
) -> Result<LoadedConfig, PipelineError> {
    let schemas = dh_config::load_schemas(schema_dir)?;
    if schemas.tables.is_empty() {
        return Err(PipelineError::ConfigMessage(format!(
            "{}: no harmonised table schemas (*.json) found; pass --schema-dir",
            schema_dir.display()
        )));
    }
    let countries = load_checked_countries(config_dir, &schemas, only)?;
    Ok(LoadedConfig { schemas, countries })
}

/// Loads the selected countries (every country file when `only` is empty), sorted by code, and checks them
/// against `schemas` (a delivery that feeds a table with no schema is one of the validation errors).
fn load_checked_countries(
    config_dir: &Path,
    schemas: &SchemaSet,
    only: &[String],
) -> Result<Vec<CountryConfig>, PipelineError> {
    for code in only {
        if !config_dir.join(format!("{code}.toml")).is_file() {
            return Err(PipelineError::ConfigMessage(format!(
                "country `{code}`: no file {}; known countries: {}",
                config_dir.join(format!("{code}.toml")).display(),
                dh_config::country::list_countries(config_dir)?.join(", ")
            )));
        }
    }
    let mut countries = dh_config::load_countries(config_dir, only)?;
    // by code, whatever the order of --countries, so that every output is the same for the same set
    countries.sort_by(|a, b| a.country.iso3.cmp(&b.country.iso3));
    if countries.is_empty() {
        return Err(PipelineError::ConfigMessage(format!(
            "{}: no country files (<ISO3>.toml) found; pass --config-dir",
            config_dir.display()
        )));
    }
    let problems: Vec<dh_config::Diagnostic> = countries
        .iter()
        .flat_map(|c| dh_config::country_errors(c, schemas))
        .collect();
    if !problems.is_empty() {
        return Err(PipelineError::Config(dh_config::ConfigError::Diagnostics(
            problems,
        )));
    }
    Ok(countries)
}

/// Runs the pipeline with the default [`RunPolicy`]. Returns `Err` only for problems that stop the whole run.
pub fn run(opts: &RunOptions, observer: &dyn RunObserver) -> Result<RunSummary, PipelineError> {
    run_with(opts, &RunPolicy::default(), observer)
}

/// Runs the pipeline. Returns `Err` only for problems that stop the whole run.
pub fn run_with(
    opts: &RunOptions,
    policy: &RunPolicy,
    observer: &dyn RunObserver,
) -> Result<RunSummary, PipelineError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let run_id = new_run_id(started);
    let mut config = load_config(&opts.config_dir, &opts.schema_dir, &opts.countries)?;
    let indicators = match &opts.pipelines_dir {
        Some(dir) => Some(IndicatorSetup::load(dir, &config.schemas)?),
        None => None,
    };
    let key = load_key(&opts.key, &opts.out_dir)?;
    check_out_dir(&opts.out_dir)?;
    let _lock = OutLock::acquire(&opts.out_dir)?;
    recover(&opts.out_dir)?;
    let previous = previous_manifest(&opts.out_dir);
    let (kept, unusable) = add_kept_countries(opts, &mut config, previous.as_ref());
    let pseudonym_key = dh_normalise::PseudonymKey::from_bytes(&key.bytes)
        .map_err(|e| PipelineError::Key(e.to_string()))?;
    let jobs = opts.jobs.max(1);

    let staging = Staging::create_private(&opts.out_dir, &run_id, policy.privacy)?;
    let mut manifest = base_manifest(
        &Definitions::of(opts),
        &config,
        &key.fingerprint(),
        indicators.as_ref(),
    )?;

    let codes: Vec<String> = config
        .countries
        .iter()
        .map(|c| c.country.iso3.clone())
        .collect();
    observer.run_started(&codes);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| PipelineError::ThreadPool {
            jobs,
            message: e.to_string(),
        })?;
    let plan = pool.install(|| {
        plan_countries(
            opts,
            &config,
            &manifest,
            indicators.is_some(),
            &kept,
            previous,
        )
    });
    let computed = plan
        .countries
        .iter()
        .filter(|(_, d)| matches!(d, Decision::Run(_)))
        .count();
    // What the country threads share. They own it (through `Arc`), so a thread abandoned at the time limit never
    // holds a borrow of this function's data.
    let shared = Arc::new(Shared {
        raw_dir: opts.raw_dir.clone(),
        out_dir: opts.out_dir.clone(),
        schemas: config.schemas.clone(),
        key: pseudonym_key,
        indicators,
        staging: staging.view(),
        plan,
        // tables of a country in parallel only when the countries computed do not fill the pool
        parallel_tables: computed < jobs,
        pool,
    });
    let tasks: Vec<(String, schedule::Work<CountryResult>)> = config
        .countries
        .iter()
        .zip(shared.plan.countries.iter())
        .map(|(c, (key, decision))| {
            let work = country_work(
                Arc::clone(&shared),
                c.clone(),
                key.as_ref().ok().cloned(),
                decision.clone(),
            );
            (c.country.iso3.clone(), work)
        })
        .collect();
    let timeout = policy.country_timeout;
    let outcomes = schedule::run_countries(tasks, jobs, timeout, observer, |i, outcome| {
        let iso3 = codes[i].as_str();
        match outcome {
            Outcome::Done((Ok(rep), _)) => {
                let written = rep.inputs.iter().map(|i| i.rows_written).sum();
                let quarantined = rep.inputs.iter().map(|i| i.rows_quarantined).sum();
                observer.country_finished(iso3, written, quarantined, None);
            }
            Outcome::Done((Err(e), _)) => {
                observer.country_finished(iso3, 0, 0, Some(&e.to_string()))
            }
            Outcome::TimedOut => observer.country_finished(iso3, 0, 0, Some("time limit")),
            Outcome::Panicked => observer.country_finished(iso3, 0, 0, Some("internal error")),
        }
    })?;
    let results: Vec<CountryResult> = outcomes
        .into_iter()
        .zip(config.countries.iter().zip(shared.plan.countries.iter()))
        .map(|(outcome, (c, (key, _)))| match outcome {
            Outcome::Done(r) => r,
            Outcome::Panicked => {
                crate::country::remove_country_outputs(c, &staging);
                (
                    Err(CountryError::internal(&c.country.iso3)),
                    key.as_ref().ok().map(|k| k.entry.clone()),
                )
            }
            Outcome::TimedOut => {
                // whatever the abandoned thread staged is not published
                crate::country::remove_country_outputs(c, &staging);
                let limit = timeout.map_or(0, |t| t.as_secs());
                (
                    Err(CountryError::new(
                        &c.country.iso3,
                        "timeout",
                        format!(
                            "took longer than the time limit of {limit} s (--country-timeout); the country was \
                             abandoned and the other countries were published"
                        ),
                    )),
                    key.as_ref().ok().map(|k| k.entry.clone()),
                )
            }
        })
        .collect();
    let previous = shared.plan.previous.as_ref();
    let plan = &shared.plan;
    let indicators = &shared.indicators;

    // A country that could not write its outputs met a fault of the output folder (disk full, ...), not of its
    // delivery: the run stops and nothing is published (the staging folder is removed when `staging` drops).
    if let Some(fault) = results
        .iter()
        .find_map(|(r, _)| r.as_ref().err().filter(|e| e.io_fault))
    {
        return Err(PipelineError::CountryIo(fault.clone()));
    }
    let mut estimates: Vec<(String, Vec<dh_indicators::estimate::EstimateRow>)> = Vec::new();
    let mut failures = Vec::new();
    let mut timings = Vec::new();
    let mut stale_rows: Option<Result<BTreeMap<String, Vec<EstimateRow>>, String>> = None;
    let unusable_kept = unusable.into_iter().map(|e| (Err(e), None));
    for (r, stage_key) in results.into_iter().chain(unusable_kept) {
        match r {
            Ok(rep) => {
                manifest.stages.extend(stage_key);
                // a stale country kept as it is (not selected by --countries) stays stale
                let kept_stale = previous
                    .filter(|_| rep.timing.status == "kept")
                    .and_then(|p| {
                        p.countries
                            .iter()
                            .find(|c| c.country == rep.country && c.status == CountryStatus::Stale)
                    })
                    .cloned();
                manifest.countries.push(kept_stale.unwrap_or(CountryEntry {
                    country: rep.country.clone(),
                    status: CountryStatus::Ok,
                    error: None,
                    not_delivered: rep.not_delivered.clone(),
                    stale_from: None,
                }));
                add_country(&mut manifest, &mut estimates, &mut timings, rep);
            }
            Err(e) => {
                let stale = match (policy.drop_failed, previous) {
                    (false, Some(prev)) => {
                        let rows = match (&indicators, plan.previous_rows.contains_key(&e.country))
                        {
                            (None, _) => None,
                            (Some(_), true) => Some(&plan.previous_rows),
                            (Some(_), false) => stale_rows
                                .get_or_insert_with(|| previous_indicator_rows(prev, &opts.out_dir))
                                .as_ref()
                                .ok(),
                        };
                        keep_stale(
                            &e,
                            prev,
                            indicators.is_some().then_some(rows).flatten(),
                            indicators.is_some(),
                            &opts.out_dir,
                            &staging,
                        )
                    }
                    _ => None,
                };
                match stale {
                    Some((rep, status, entry)) => {
                        manifest.stages.push(entry);
                        manifest.countries.push(status);
                        add_country(&mut manifest, &mut estimates, &mut timings, rep);
                    }
                    None => {
                        manifest.countries.push(CountryEntry {
                            country: e.country.clone(),
                            status: CountryStatus::Failed,
                            error: Some(format!("{}: {}", e.stage, e.message)),
                            not_delivered: Vec::new(),
                            stale_from: None,
                        });
                        timings.push(CountryTiming {
                            country: e.country.clone(),
                            status: "failed".into(),
                            ..Default::default()
                        });
                    }
                }
                failures.push(e);
            }
        }
    }
    let log = RunLog {
        run_id,
        started_at: rfc3339(started),
        jobs,
        raw_dir: display_abs(&opts.raw_dir),
        out_dir: display_abs(&opts.out_dir),
        config_dir: display_abs(&opts.config_dir),
        schema_dir: display_abs(&opts.schema_dir),
        key_origin: key.origin.clone(),
        ..Default::default()
    };
    let finish = Finish {
        out_dir: &opts.out_dir,
        config: &config,
        indicators: indicators.as_ref(),
        policy,
        clock,
    };
    finish.publish(
        staging,
        Assembled {
            manifest,
            estimates,
            failures,
            timings,
        },
        log,
    )
}

/// What the per-country part of a run (or of a merge) hands to the cross-country outputs: the manifest with the
/// run's definitions and every country's entries, each published country's indicator rows, the failures and
/// the run log's country lines.
pub(crate) struct Assembled {
    pub manifest: Manifest,
    pub estimates: Vec<(String, Vec<EstimateRow>)>,
    pub failures: Vec<CountryError>,
    pub timings: Vec<CountryTiming>,
}

/// The cross-country end of `dh run` and `dh merge` (one function, so that a merge of shards writes the bytes a
/// single run writes): indicator tables, codebook, manifest, report and workbook, export, publication, run log.
pub(crate) struct Finish<'a> {
    pub out_dir: &'a Path,
    /// Every country of the result (published, stale or failed), sorted by code.
    pub config: &'a LoadedConfig,
    pub indicators: Option<&'a IndicatorSetup>,
    pub policy: &'a RunPolicy,
    /// Started with the command, for the run log's duration.
    pub clock: Instant,
}

impl Finish<'_> {
    /// Writes the cross-country outputs into `staging`, publishes it into `OUT` and writes `log` (completed here:
    /// end time, duration, outcome, country lines) to `OUT/runs/`.
    pub(crate) fn publish(
        &self,
        staging: Staging,
        assembled: Assembled,
        mut log: RunLog,
    ) -> Result<RunSummary, PipelineError> {
        let Assembled {
            mut manifest,
            mut estimates,
            mut failures,
            timings,
        } = assembled;
        let (config, indicators, policy) = (self.config, self.indicators, self.policy);
        estimates.sort_by(|a, b| a.0.cmp(&b.0));
        let mut headline = Vec::new();
        if let Some(setup) = indicators {
            manifest.outputs.extend(write_indicator_tables(
                &staging,
                &estimates,
                setup,
                &config.countries,
            )?);
            if let Some(id) = setup.headline() {
                for (country, rows) in &estimates {
                    if let Some(row) = headline_row(rows, id) {
                        headline.push((country.clone(), row.clone()));
                    }
                }
            }
        }
        // OUT/codebook.md: the codebook of this run's schemas, published and listed like every output.
        manifest.outputs.push(crate::codebook_out::write_codebook(
            &staging,
            &config.schemas,
        )?);
        manifest.finalise();
        failures.sort_by(|a, b| a.country.cmp(&b.country));

        let manifest_path = staging.path(MANIFEST_FILE);
        abort_point::fault("manifest-write").map_err(|e| PipelineError::io(&manifest_path, e))?;
        std::fs::write(&manifest_path, manifest_bytes(&manifest)?)
            .map_err(|e| PipelineError::io(&manifest_path, e))?;
        if let Some(setup) = indicators {
            // The report and workbook (dh-report), built from the staged outputs and published with them.
            let context = dh_report::ReportContext::from_run(
                &config.countries,
                &setup.catalogue,
                &setup.pipeline,
            );
            dh_report::build(staging.root(), Some(&context)).map_err(|e| match e {
                dh_report::ReportError::Io { path, source } => PipelineError::Io { path, source },
                e => PipelineError::Internal(format!("report: {e}")),
            })?;
            // The report and workbook are outputs too: list them and write the manifest again.
            manifest.outputs.extend(crate::layout::hashed_files(
                &staging,
                &[crate::layout::REPORT_DIR, crate::layout::TABLES_DIR],
                "report",
            )?);
            manifest.finalise();
            std::fs::write(&manifest_path, manifest_bytes(&manifest)?)
                .map_err(|e| PipelineError::io(&manifest_path, e))?;
        }
        if !policy.export.is_empty() {
            // Stata/SPSS files from the staged normalised tables (carried over when their inputs are unchanged).
            let (entries, _) = crate::export_stage::export(
                &staging,
                self.out_dir,
                &config.schemas,
                &policy.export,
                &manifest,
                policy.privacy,
            )?;
            manifest.outputs.extend(entries);
            manifest.finalise();
            std::fs::write(&manifest_path, manifest_bytes(&manifest)?)
                .map_err(|e| PipelineError::io(&manifest_path, e))?;
        }
        abort_point::reached("before-publish");
        staging.publish()?;

        let duration_ms = millis(self.clock.elapsed());
        log.finished_at = rfc3339(SystemTime::now());
        log.duration_ms = duration_ms;
        log.outcome = if failures.is_empty() {
            "ok"
        } else {
            "data_error"
        }
        .to_string();
        log.countries = timings;
        // The outputs are published: a run log that cannot be written is a warning, not a failure of the run.
        let mut warnings = Vec::new();
        let run_log = match log.write_private(self.out_dir, policy.privacy) {
            Ok(path) => path,
            Err(e) => {
                warnings.push(format!(
                    "the outputs were published, but the run log could not be written: {e}"
                ));
                self.out_dir
                    .join(crate::layout::RUNS_DIR)
                    .join(format!("{}.json", log.run_id))
            }
        };
        Ok(RunSummary {
            warnings,
            manifest,
            failures,
            out_dir: self.out_dir.to_path_buf(),
            run_log,
            duration_ms,
            headline,
            headline_id: indicators.and_then(|s| s.headline().map(str::to_string)),
        })
    }
}

/// One country's result and the stage key it was computed under.
type CountryResult = (Result<CountryReport, CountryError>, Option<StageEntry>);

/// What the country threads of a run share.
struct Shared {
    raw_dir: PathBuf,
    out_dir: PathBuf,
    schemas: SchemaSet,
    key: dh_normalise::PseudonymKey,
    indicators: Option<IndicatorSetup>,
    /// A view of the run's staging folder (never removes it).
    staging: Staging,
    plan: Plan,
    parallel_tables: bool,
    pool: rayon::ThreadPool,
}

/// One country's work on its own thread: carried over from the previous run, or computed.
fn country_work(
    shared: Arc<Shared>,
    c: CountryConfig,
    key: Option<CountryKey>,
    decision: Decision,
) -> schedule::Work<CountryResult> {
    Box::new(move |observer, cancelled| {
        let s = &*shared;
        let rows = s.indicators.is_some().then_some(&s.plan.previous_rows);
        let previous = s.plan.previous.as_ref();
        let reused = match (&decision, previous) {
            (Decision::Reuse, Some(prev)) => reuse_country(&c, prev, rows, &s.out_dir, &s.staging),
            (Decision::Keep, Some(prev)) => reuse_country(&c, prev, rows, &s.out_dir, &s.staging)
                .map(|mut rep| {
                    rep.timing.status = "kept".to_string();
                    rep.timing.reason =
                        "not selected by --countries; previous outputs kept".to_string();
                    rep
                }),
            _ => None,
        };
        let r = match reused {
            Some(rep) => Ok(rep),
            None => {
                let ctx = Context {
                    raw_dir: &s.raw_dir,
                    schemas: &s.schemas,
                    key: &s.key,
                    parallel_tables: s.parallel_tables,
                    observer,
                    indicators: s.indicators.as_ref(),
                    cancelled: Some(cancelled),
                };
                let no_hashes = BTreeMap::new();
                let hashes = key.as_ref().map_or(&no_hashes, |k| &k.files);
                let process = || process_country(&c, &ctx, &s.staging, hashes);
                // In the run's pool only when tables run in parallel (fewer countries computed than threads, so a
                // hung country never takes the last thread); otherwise in a pool of one thread of its own, so
                // that a country is one worker (`--jobs` bounds the CPUs used) and a hung one holds no shared
                // thread.
                let r = if s.parallel_tables {
                    s.pool.install(process)
                } else {
                    match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
                        Ok(own) => own.install(process),
                        Err(_) => process(),
                    }
                };
                let r = r.map(|mut rep| {
                    rep.timing.reason = match &decision {
                        Decision::Run(reason) => reason.to_string(),
                        Decision::Reuse | Decision::Keep => "previous outputs unusable".to_string(),
                    };
                    rep
                });
                abort_point::reached("country-staged");
                crate::memory::release_free_memory();
                r
            }
        };
        (r, key.map(|k| k.entry))
    })
}

/// Keys and decisions of every selected country (in config order), the previous manifest and, when some country
/// may be reused, the previous indicator rows.
pub struct Plan {
    pub countries: Vec<(Result<CountryKey, String>, Decision)>,
    pub previous: Option<Manifest>,
    pub previous_rows: BTreeMap<String, Vec<EstimateRow>>,
}

fn plan_countries(
    opts: &RunOptions,
    config: &LoadedConfig,
    base: &Manifest,
    indicators: bool,
    kept: &[String],
    previous: Option<Manifest>,
) -> Plan {
    let definitions = definitions_hash(base, indicators);
    let carried = |d: &Decision| matches!(d, Decision::Reuse | Decision::Keep);
    let mut countries: Vec<(Result<CountryKey, String>, Decision)> = config
        .countries
        .par_iter()
        .map(|c| {
            let iso3 = &c.country.iso3;
            let previous_entry = previous.as_ref().and_then(|p| {
                p.stages
                    .iter()
                    .find(|s| &s.country == iso3 && s.stage == COUNTRY_STAGE)
            });
            // A kept country is carried over only when its previous outputs are intact; otherwise it is
            // planned like any other country (and recomputed).
            if let (true, Some(entry), Some(prev)) =
                (kept.contains(iso3), previous_entry, previous.as_ref())
                && outputs_intact(prev, &opts.out_dir, |o| &o.country == iso3).is_ok()
            {
                let key = CountryKey {
                    entry: entry.clone(),
                    files: BTreeMap::new(),
                };
                return (Ok(key), Decision::Keep);
            }
            let key = country_key(c, &opts.raw_dir, &opts.config_dir, &definitions);
            let decision = decide(&key, previous.as_ref(), &opts.out_dir, opts.force);
            (key, decision)
        })
        .collect();
    let mut previous_rows = BTreeMap::new();
    if indicators && countries.iter().any(|(_, d)| carried(d)) {
        let rows = match &previous {
            Some(prev) => previous_indicator_rows(prev, &opts.out_dir),
            None => Err("no previous manifest".to_string()),
        };
        match rows {
            Ok(rows) => previous_rows = rows,
            Err(message) => {
                for (_, d) in countries.iter_mut().filter(|(_, d)| carried(d)) {
                    *d = Decision::Run(Reason::PreviousOutputsMissing(message.clone()));
                }
            }
        }
    }
    Plan {
        countries,
        previous,
        previous_rows,
    }
}

/// With `--countries`, the countries of the previous run in `OUT` that were not selected: added to
/// `config` (sorted by code) so that their outputs are carried over as they are ([`Decision::Keep`])
/// and the cross-country outputs still cover them. Returns their codes, and a failure for each such
/// country whose configuration no longer loads and validates (its outputs cannot be kept).
fn add_kept_countries(
    opts: &RunOptions,
    config: &mut LoadedConfig,
    previous: Option<&Manifest>,
) -> (Vec<String>, Vec<CountryError>) {
    let Some(previous) = previous.filter(|_| !opts.countries.is_empty()) else {
        return (Vec::new(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut unusable = Vec::new();
    for status in previous.countries.iter().filter(|c| c.status.has_outputs()) {
        let code = &status.country;
        let selected = config.countries.iter().any(|c| &c.country.iso3 == code);
        let staged = previous
            .stages
            .iter()
            .any(|s| &s.country == code && s.stage == COUNTRY_STAGE);
        if selected || !staged {
            continue;
        }
        match dh_config::load_and_validate(&opts.config_dir, code, &config.schemas) {
            (Some(country), _) => {
                config.countries.push(country);
                kept.push(code.clone());
            }
            (None, diagnostics) => {
                let problems: Vec<String> = diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect();
                unusable.push(CountryError::new(
                    code,
                    "config",
                    format!(
                        "not selected by --countries, but its previous outputs cannot be kept: its \
                         configuration no longer loads: {}",
                        problems.join("; ")
                    ),
                ));
            }
        }
    }
    config
        .countries
        .sort_by(|a, b| a.country.iso3.cmp(&b.country.iso3));
    (kept, unusable)
}

/// What `dh run` would do, without doing it (`--dry-run`): every country of the run with its
/// decision (with `--countries`, the other countries of the previous run are kept).
pub fn dry_run(opts: &RunOptions) -> Result<Vec<(String, Decision)>, PipelineError> {
    let mut config = load_config(&opts.config_dir, &opts.schema_dir, &opts.countries)?;
    let previous = previous_manifest(&opts.out_dir);
    let (kept, _) = add_kept_countries(opts, &mut config, previous.as_ref());
    let indicators = match &opts.pipelines_dir {
        Some(dir) => Some(IndicatorSetup::load(dir, &config.schemas)?),
        None => None,
    };
    let key = load_key(&opts.key, &opts.out_dir)?;
    let base = base_manifest(
        &Definitions::of(opts),
        &config,
        &key.fingerprint(),
        indicators.as_ref(),
    )?;
    let plan = plan_countries(opts, &config, &base, indicators.is_some(), &kept, previous);
    Ok(config
        .countries
        .iter()
        .zip(plan.countries)
        .map(|(c, (_, d))| (c.country.iso3.clone(), d))
        .collect())
}

/// Adds a published country's manifest entries (inputs, outputs, weighting, consistency), its indicator rows and
/// its timing: the same for a computed, reused or stale country.
pub(crate) fn add_country(
    manifest: &mut Manifest,
    estimates: &mut Vec<(String, Vec<EstimateRow>)>,
    timings: &mut Vec<CountryTiming>,
    rep: CountryReport,
) {
    manifest.inputs.extend(rep.inputs);
    manifest.outputs.extend(rep.outputs);
    manifest.weighting.extend(rep.estimates.weighting);
    manifest.consistency.extend(rep.consistency);
    estimates.push((rep.country, rep.estimates.rows));
    timings.push(rep.timing);
}

/// A country carried over from the previous run: its files linked into staging, its manifest entries and
/// indicator rows (`rows`, when the run has an indicator stage) copied. `None` when anything is missing (the
/// country is then computed).
fn reuse_country(
    config: &dh_config::CountryConfig,
    previous: &Manifest,
    rows: Option<&BTreeMap<String, Vec<EstimateRow>>>,
    out: &Path,
    staging: &Staging,
) -> Option<CountryReport> {
    let iso3 = config.country.iso3.as_str();
    let indicator_rows = match rows {
        Some(rows) => rows.get(iso3)?.clone(),
        None => Vec::new(),
    };
    stage_previous_outputs(iso3, previous, out, staging).ok()?;
    Some(previous_report(
        iso3,
        previous,
        CountryTiming {
            country: iso3.to_string(),
            status: "reused".to_string(),
            ..Default::default()
        },
        indicator_rows,
        crate::deliveries::not_delivered(config),
    ))
}

/// A country's report rebuilt from the previous run's manifest (inputs, outputs, weighting, consistency) with the
/// given timing entry and indicator rows: the part shared by a reused and a stale country.
pub(crate) fn previous_report(
    iso3: &str,
    previous: &Manifest,
    timing: CountryTiming,
    indicator_rows: Vec<EstimateRow>,
    not_delivered: Vec<String>,
) -> CountryReport {
    let of = |c: &str| c == iso3;
    CountryReport {
        country: iso3.to_string(),
        inputs: previous
            .inputs
            .iter()
            .filter(|i| of(&i.country))
            .cloned()
            .collect(),
        outputs: previous
            .outputs
            .iter()
            .filter(|o| of(&o.country))
            .cloned()
            .collect(),
        timing,
        estimates: crate::indicator_stage::CountryEstimates {
            rows: indicator_rows,
            weighting: previous.weighting.iter().find(|w| of(&w.country)).cloned(),
        },
        consistency: previous
            .consistency
            .iter()
            .filter(|c| of(&c.country))
            .cloned()
            .collect(),
        not_delivered,
    }
}

/// A failed country's outputs from its last good run, carried into staging and marked `stale` (status, manifest
/// entries, indicator rows when `with_indicators`), with the stage entry of the run they came from. `None` when
/// there is nothing intact to keep (no previous success, an output missing or altered, no indicator rows).
fn keep_stale(
    failure: &CountryError,
    previous: &Manifest,
    rows: Option<&BTreeMap<String, Vec<EstimateRow>>>,
    with_indicators: bool,
    out: &Path,
    staging: &Staging,
) -> Option<(CountryReport, CountryEntry, StageEntry)> {
    let iso3 = failure.country.as_str();
    let of = |c: &str| c == iso3;
    let before = previous
        .countries
        .iter()
        .find(|c| of(&c.country) && c.status.has_outputs())?;
    let entry = previous
        .stages
        .iter()
        .find(|s| of(&s.country) && s.stage == COUNTRY_STAGE)?
        .clone();
    let indicator_rows = match (with_indicators, rows) {
        (false, _) => Vec::new(),
        (true, Some(rows)) => rows.get(iso3)?.clone(),
        (true, None) => return None,
    };
    if !previous.outputs.iter().any(|o| of(&o.country)) {
        return None;
    }
    outputs_intact(previous, out, |o| of(&o.country)).ok()?;
    stage_previous_outputs(iso3, previous, out, staging).ok()?;
    let stale_from = before.stale_from.clone().unwrap_or_else(|| StaleFrom {
        key: entry.key.clone(),
        inputs: entry.inputs.clone(),
    });
    let status = CountryEntry {
        country: iso3.to_string(),
        status: CountryStatus::Stale,
        error: Some(format!(
            "{}: {} (previous outputs kept, marked stale)",
            failure.stage, failure.message
        )),
        not_delivered: before.not_delivered.clone(),
        stale_from: Some(stale_from),
    };
    let report = previous_report(
        iso3,
        previous,
        CountryTiming {
            country: iso3.to_string(),
            status: "stale".to_string(),
            reason: "failed; previous outputs kept".to_string(),
            ..Default::default()
        },
        indicator_rows,
        before.not_delivered.clone(),
    );
    Some((report, status, entry))
}

/// The definition folders a manifest's hashes are taken from.
pub(crate) struct Definitions<'a> {
    pub config_dir: &'a Path,
    pub schema_dir: &'a Path,
    pub pipelines_dir: Option<&'a Path>,
}

impl<'a> Definitions<'a> {
    fn of(opts: &'a RunOptions) -> Self {
        Definitions {
            config_dir: &opts.config_dir,
            schema_dir: &opts.schema_dir,
            pipelines_dir: opts.pipelines_dir.as_deref(),
        }
    }
}

/// Tool, key fingerprint and the hashes of every config and schema file used.
pub(crate) fn base_manifest(
    dirs: &Definitions<'_>,
    config: &LoadedConfig,
    key_fingerprint: &str,
    indicators: Option<&IndicatorSetup>,
) -> Result<Manifest, PipelineError> {
    let mut m = Manifest {
        tool: ToolInfo {
            name: "dh".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: option_env!("DH_GIT_COMMIT").map(str::to_string),
        },
        pseudonym_key_fingerprint: key_fingerprint.to_string(),
        ..Default::default()
    };
    for path in config.schemas.files.values() {
        m.schemas.push(HashedFile {
            path: relative_path(path, dirs.schema_dir),
            sha256: sha256_file(path)?,
        });
    }
    if let (Some(setup), Some(dir)) = (indicators, dirs.pipelines_dir) {
        for path in &setup.files {
            m.configs.push(HashedFile {
                path: format!("pipelines/{}", relative_path(path, dir)),
                sha256: sha256_file(path)?,
            });
        }
    }
    for c in &config.countries {
        for path in &c.source_files {
            m.configs.push(HashedFile {
                path: relative_path(path, dirs.config_dir),
                sha256: sha256_file(path)?,
            });
        }
    }
    Ok(m)
}

pub(crate) fn display_abs(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace_dir(sub: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(sub)
    }

    #[test]
    fn an_unknown_country_is_a_configuration_error_listing_the_known_ones() {
        let countries = workspace_dir("countries");
        let schemas = workspace_dir("schemas");
        let Err(err) = load_config(&countries, &schemas, &["XXX".to_string()]) else {
            panic!("an unknown country must fail");
        };
        assert!(err.is_config());
        let text = err.to_string();
        assert!(text.contains("XXX") && text.contains("THA"), "{text}");
    }

    #[test]
    fn an_empty_schema_folder_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let Err(err) = load_config(&workspace_dir("countries"), dir.path(), &[]) else {
            panic!("an empty schema folder must fail");
        };
        assert!(err.is_config());
        assert!(
            err.to_string().contains("no harmonised table schemas"),
            "{err}"
        );
    }

    #[test]
    fn a_run_without_a_key_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let opts = RunOptions {
            raw_dir: dir.path().join("raw"),
            out_dir: out.clone(),
            config_dir: workspace_dir("countries"),
            schema_dir: workspace_dir("schemas"),
            pipelines_dir: None,
            countries: vec!["THA".to_string()],
            jobs: 1,
            key: KeySource::default(),
            force: false,
        };
        let err = run(&opts, &crate::progress::Silent).expect_err("no key must fail");
        assert!(matches!(err, PipelineError::Key(_)), "{err}");
        assert!(!out.exists(), "nothing is written before the key is known");
    }
}
