//! `dh run` as a library call: load and check configuration, process countries in a pool of `jobs` threads,
//! write the manifest, publish the staged outputs into `OUT`, write the run log.
//!
//! A configuration problem stops the run before anything is written ([`PipelineError`]). A problem in one
//! country's delivery stops only that country ([`CountryError`] in [`RunSummary::failures`]); the others are
//! published and the manifest lists the failed country with its reason; a failed country's outputs from its last
//! good run are kept, marked `stale` (unless [`RunPolicy::drop_failed`]). An I/O fault (disk full, unwritable
//! output folder) stops the run with [`PipelineError::Io`]; the staging folder is removed on every path that does not
//! publish, and a failure to write only the run log after publication is a warning ([`RunSummary::warnings`]).

mod countries;
mod finish;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use dh_config::{CountryConfig, SchemaSet};
use dh_indicators::estimate::EstimateRow;

use crate::country::CountryReport;
use crate::error::{CountryError, PipelineError};
use crate::hashing::sha256_file;
use crate::incremental::{
    Decision, add_kept_countries, keep_stale, plan_countries, previous_indicator_rows,
    previous_manifest,
};
use crate::indicator_stage::IndicatorSetup;
use crate::key::{KeySource, load_key};
use crate::layout::{OutLock, Privacy, Staging, check_out_dir, recover};
use crate::manifest::{
    CountryEntry, CountryStatus, HashedFile, Manifest, StageEntry, ToolInfo, relative_path,
};
use crate::progress::RunObserver;
use crate::runlog::{CountryTiming, RunLog, new_run_id, rfc3339};
use countries::{CountryResult, CountryStart, Shared, run_countries};
pub(crate) use finish::{Assembled, Finish};

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
    // Configuration, key and output folder: a problem here stops the run before anything is written.
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

    let staging = Staging::create_private(&opts.out_dir, &run_id, policy.privacy)?;
    let manifest = base_manifest(
        &Definitions::of(opts),
        &config,
        &key.fingerprint(),
        indicators.as_ref(),
    )?;
    let start = CountryStart {
        base: &manifest,
        indicators,
        key: pseudonym_key,
        kept: &kept,
        previous,
        jobs: opts.jobs.max(1),
    };
    let (results, shared) = run_countries(opts, policy, observer, &config, &staging, start)?;

    // A country that could not write its outputs met a fault of the output folder (disk full, ...), not of its
    // delivery: the run stops and nothing is published (the staging folder is removed when `staging` drops).
    if let Some(fault) = results
        .iter()
        .find_map(|(r, _)| r.as_ref().err().filter(|e| e.io_fault))
    {
        return Err(PipelineError::CountryIo(fault.clone()));
    }
    let unusable_kept = unusable.into_iter().map(|e| (Err(e), None));
    let assembled = assemble(
        opts,
        policy,
        (&shared, &staging),
        manifest,
        results.into_iter().chain(unusable_kept),
    );
    let log = RunLog {
        run_id,
        started_at: rfc3339(started),
        jobs: opts.jobs.max(1),
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
        indicators: shared.indicators.as_ref(),
        policy,
        clock,
    };
    finish.publish(staging, assembled, log)
}

/// The manifest's country entries, stage keys and per-country outputs of every result, in order: a computed or
/// reused country as `ok` (a kept stale country stays `stale`), a failed one as `stale` when its last good outputs
/// can be kept ([`keep_stale`]), otherwise as `failed`.
fn assemble(
    opts: &RunOptions,
    policy: &RunPolicy,
    (shared, staging): (&Shared, &Staging),
    manifest: Manifest,
    results: impl Iterator<Item = CountryResult>,
) -> Assembled {
    let previous = shared.plan.previous.as_ref();
    let mut out = Assembled {
        manifest,
        estimates: Vec::new(),
        failures: Vec::new(),
        timings: Vec::new(),
    };
    let mut stale_rows: Option<Result<BTreeMap<String, Vec<EstimateRow>>, String>> = None;
    for (r, stage_key) in results {
        match r {
            Ok(rep) => {
                out.manifest.stages.extend(stage_key);
                // a stale country kept as it is (not selected by --countries) stays stale
                let kept_stale = previous
                    .filter(|_| rep.timing.status == "kept")
                    .and_then(|p| {
                        p.countries
                            .iter()
                            .find(|c| c.country == rep.country && c.status == CountryStatus::Stale)
                    })
                    .cloned();
                out.manifest
                    .countries
                    .push(kept_stale.unwrap_or(CountryEntry {
                        country: rep.country.clone(),
                        status: CountryStatus::Ok,
                        error: None,
                        not_delivered: rep.not_delivered.clone(),
                        stale_from: None,
                    }));
                add_country(&mut out, rep);
            }
            Err(e) => {
                let stale = match (policy.drop_failed, previous) {
                    (false, Some(prev)) => {
                        stale_country(&e, prev, &mut stale_rows, (opts, shared, staging))
                    }
                    _ => None,
                };
                match stale {
                    Some((rep, status, entry)) => {
                        out.manifest.stages.push(entry);
                        out.manifest.countries.push(status);
                        add_country(&mut out, rep);
                    }
                    None => {
                        out.manifest.countries.push(CountryEntry {
                            country: e.country.clone(),
                            status: CountryStatus::Failed,
                            error: Some(format!("{}: {}", e.stage, e.message)),
                            not_delivered: Vec::new(),
                            stale_from: None,
                        });
                        out.timings.push(CountryTiming {
                            country: e.country.clone(),
                            status: "failed".into(),
                            ..Default::default()
                        });
                    }
                }
                out.failures.push(e);
            }
        }
    }
    out
}

/// A failed country's last good outputs kept as `stale` ([`keep_stale`]), with its previous indicator rows (read
/// from the previous run once, into `stale_rows`, when the plan did not already read them).
fn stale_country(
    e: &CountryError,
    prev: &Manifest,
    stale_rows: &mut Option<Result<BTreeMap<String, Vec<EstimateRow>>, String>>,
    (opts, shared, staging): (&RunOptions, &Shared, &Staging),
) -> Option<(CountryReport, CountryEntry, StageEntry)> {
    let plan = &shared.plan;
    let indicators = &shared.indicators;
    let rows = match (indicators, plan.previous_rows.contains_key(&e.country)) {
        (None, _) => None,
        (Some(_), true) => Some(&plan.previous_rows),
        (Some(_), false) => stale_rows
            .get_or_insert_with(|| previous_indicator_rows(prev, &opts.out_dir))
            .as_ref()
            .ok(),
    };
    keep_stale(
        e,
        prev,
        indicators.is_some().then_some(rows).flatten(),
        indicators.is_some(),
        &opts.out_dir,
        staging,
    )
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
pub(crate) fn add_country(out: &mut Assembled, rep: CountryReport) {
    out.manifest.inputs.extend(rep.inputs);
    out.manifest.outputs.extend(rep.outputs);
    out.manifest.weighting.extend(rep.estimates.weighting);
    out.manifest.consistency.extend(rep.consistency);
    out.estimates.push((rep.country, rep.estimates.rows));
    out.timings.push(rep.timing);
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
