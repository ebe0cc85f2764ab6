//! `dh merge SHARD... --out-dir OUT`: builds `OUT` from the per-country outputs of several `dh run` output folders
//! (shards, e.g. one per machine or scheduler task) and writes the cross-country outputs, so that `OUT` is
//! byte-identical to a single `dh run` over the same countries, inputs and key (the run log aside).
//!
//! Before anything is written, every shard must be a finished `dh run` folder ([`shard`]: its manifest, no
//! interrupted publication, not being written: a shared lock on its `.dh-lock`), made with the merge's
//! definitions (tool version and commit, key fingerprint, schema and `pipelines/` files) and each country's
//! configuration as it is now, and every country must come from exactly one shard ([`compare`]); with `--raw-dir`,
//! each country's stage key must match the deliveries as they are now. Then each country's files are checked
//! against its shard's manifest and linked (or copied) into a staging folder with its manifest entries, status
//! (`ok`, `stale`, `failed`: carried as the shard recorded it) and indicator rows, exactly as `dh run` carries an
//! unchanged country over; the cross-country outputs are written by the function `dh run` uses
//! (`run::Finish::publish`) and the result is published by rename. `OUT` may be one of the shards.

pub mod compare;
pub mod shard;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use dh_config::CountryConfig;
use dh_indicators::estimate::EstimateRow;

use crate::error::{CountryError, PipelineError};
use crate::hashing::sha256_file;
use crate::incremental::previous_report;
use crate::incremental::{
    COUNTRY_STAGE, config_hash, definitions_hash, inputs_hash, outputs_intact,
    stage_previous_outputs,
};
use crate::indicator_stage::IndicatorSetup;
use crate::key::{KeySource, load_key};
use crate::layout::{OutLock, Staging, check_out_dir, recover};
use crate::manifest::{CountryEntry, HashedFile, Manifest, relative_path};
use crate::run::{
    Assembled, Definitions, Finish, LoadedConfig, RunPolicy, RunSummary, add_country,
    base_manifest, display_abs, load_config,
};
use crate::runlog::{CountryTiming, RunLog, new_run_id, rfc3339};
use compare::{Assignment, assign, config_differences, definition_differences};
use shard::Shard;

/// Inputs of a merge.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Output folders of finished `dh run`s, in any order.
    pub shards: Vec<PathBuf>,
    pub out_dir: PathBuf,
    /// `countries/`, `schemas/` and `pipelines/` as for `dh run` (the cross-country outputs are built from them and
    /// the shards must have been made with the same files).
    pub config_dir: PathBuf,
    pub schema_dir: PathBuf,
    pub pipelines_dir: Option<PathBuf>,
    /// Countries of the result; empty = every country file in `config_dir`. Each must be in exactly one shard;
    /// other countries of the shards are left out.
    pub countries: Vec<String>,
    /// The key the shards must have been made with (`--key-file`, `DH_PSEUDONYM_KEY`); `None`: the shards must
    /// agree among themselves (the key is not needed to merge).
    pub key: Option<KeySource>,
    /// The deliveries: when given, each country's stage key must match them as they are now (a shard computed from
    /// older deliveries is refused).
    pub raw_dir: Option<PathBuf>,
}

/// Why a merge did not happen. Nothing was written into `OUT` (a staging folder is removed).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no shards given: pass the output folders of the `dh run`s to merge")]
    NoShards,
    /// A shard cannot be merged: not a `dh run` output folder, made with other definitions, a country's
    /// configuration or deliveries changed since, an output that differs from its manifest.
    #[error("shard {}: {problem}", shard.display())]
    Shard { shard: PathBuf, problem: String },
    #[error(
        "country {country} is in two shards with different results: {} and {}; each country must come from one \
         shard (rerun one of them without it, or pass --countries)",
        first.display(),
        second.display()
    )]
    Twice {
        country: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "no shard holds {}; run them into a shard, or pass --countries to merge the others",
        countries.join(", ")
    )]
    Missing { countries: Vec<String> },
    /// As for `dh run`: configuration, key, output folder, lock, I/O.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl MergeError {
    /// The shards cannot be merged as given (exit code "configuration error"; nothing was written).
    pub fn is_refusal(&self) -> bool {
        !matches!(self, MergeError::Pipeline(_))
    }
}

/// Merges the shards into `opts.out_dir`. Countries whose shard recorded them `failed` or `stale` are carried
/// with that status and listed in [`RunSummary::failures`], as a single run would list them.
pub fn merge(opts: &MergeOptions, policy: &RunPolicy) -> Result<RunSummary, MergeError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let run_id = new_run_id(started);
    if opts.shards.is_empty() {
        return Err(MergeError::NoShards);
    }
    let config = load_config(&opts.config_dir, &opts.schema_dir, &opts.countries)?;
    let indicators = match &opts.pipelines_dir {
        Some(dir) => Some(IndicatorSetup::load(dir, &config.schemas)?),
        None => None,
    };
    let key = match &opts.key {
        Some(source) => Some(load_key(source, &opts.out_dir)?),
        None => None,
    };
    check_out_dir(&opts.out_dir)?;
    let _lock = OutLock::acquire(&opts.out_dir)?;
    recover(&opts.out_dir)?;
    let out_canonical = opts.out_dir.canonicalize().ok();
    let shards = open_shards(opts, out_canonical.as_deref())?;

    let (fingerprint, key_reference) = match &key {
        Some(k) => (
            k.fingerprint(),
            format!("the key of this merge ({})", k.origin),
        ),
        None => (
            shards[0].manifest.pseudonym_key_fingerprint.clone(),
            format!("the first shard {}", shards[0].path.display()),
        ),
    };
    let dirs = Definitions {
        config_dir: &opts.config_dir,
        schema_dir: &opts.schema_dir,
        pipelines_dir: opts.pipelines_dir.as_deref(),
    };
    let manifest = base_manifest(&dirs, &config, &fingerprint, indicators.as_ref())?;
    for shard in &shards {
        let differences = definition_differences(&manifest, &shard.manifest, &key_reference);
        if !differences.is_empty() {
            return Err(MergeError::Shard {
                shard: shard.path.clone(),
                problem: format!(
                    "made with other definitions than this merge: {}",
                    differences.join("; ")
                ),
            });
        }
    }
    let from = assign_countries(opts, &config.countries, &shards)?;
    let definitions = definitions_hash(&manifest, indicators.is_some());
    for c in &config.countries {
        check_country(c, &shards[from[&c.country.iso3]], opts, &definitions)?;
    }

    let staging = Staging::create_private(&opts.out_dir, &run_id, policy.privacy)?;
    let out = assemble(
        &config,
        (&shards, &from),
        indicators.as_ref(),
        &staging,
        manifest,
    )?;

    let log = RunLog {
        run_id,
        started_at: rfc3339(started),
        jobs: 1,
        raw_dir: opts.raw_dir.as_deref().map(display_abs).unwrap_or_default(),
        out_dir: display_abs(&opts.out_dir),
        config_dir: display_abs(&opts.config_dir),
        schema_dir: display_abs(&opts.schema_dir),
        key_origin: match &key {
            Some(k) => k.origin.clone(),
            None => "not read (the shards' key fingerprint)".to_string(),
        },
        ..Default::default()
    };
    let finish = Finish {
        out_dir: &opts.out_dir,
        config: &config,
        indicators: indicators.as_ref(),
        policy,
        clock,
    };
    Ok(finish.publish(staging, out, log)?)
}

/// Opens every shard once (a shard given twice, under any path, is refused).
fn open_shards(
    opts: &MergeOptions,
    out_canonical: Option<&Path>,
) -> Result<Vec<Shard>, MergeError> {
    let mut shards: Vec<Shard> = Vec::new();
    for path in &opts.shards {
        let shard = Shard::open(path, out_canonical)?;
        if let Some(earlier) = shards.iter().find(|s| s.canonical == shard.canonical) {
            return Err(MergeError::Shard {
                shard: path.clone(),
                problem: format!("given twice (also as {})", earlier.path.display()),
            });
        }
        shards.push(shard);
    }
    Ok(shards)
}

/// Each country's entries, outputs (staged from its shard, checked against the shard's manifest) and indicator
/// rows, with the status its shard recorded: what a single run would have assembled.
fn assemble(
    config: &LoadedConfig,
    (shards, from): (&[Shard], &BTreeMap<String, usize>),
    indicators: Option<&IndicatorSetup>,
    staging: &Staging,
    base: Manifest,
) -> Result<Assembled, MergeError> {
    let mut rows: Vec<Option<BTreeMap<String, Vec<EstimateRow>>>> = Vec::new();
    rows.resize_with(shards.len(), || None);
    let mut out = Assembled {
        manifest: base,
        estimates: Vec::new(),
        failures: Vec::new(),
        timings: Vec::new(),
    };
    for c in &config.countries {
        let iso3 = c.country.iso3.as_str();
        let index = from[iso3];
        let shard = &shards[index];
        let refuse = |problem: String| MergeError::Shard {
            shard: shard.path.clone(),
            problem: format!("country {iso3}: {problem}"),
        };
        let Some(status) = shard
            .manifest
            .countries
            .iter()
            .find(|s| s.country == iso3)
            .cloned()
        else {
            return Err(refuse("not in the shard's manifest".into()));
        };
        let timing = CountryTiming {
            country: iso3.to_string(),
            status: status.status.as_str().to_string(),
            reason: format!("merged from shard {}", display_abs(&shard.path)),
            ..Default::default()
        };
        if !status.status.is_ok() {
            out.failures.push(failure_of(&status));
        }
        if !status.status.has_outputs() {
            // failed without outputs to keep: only its status, as in the shard's run
            out.manifest.countries.push(status);
            out.timings.push(timing);
            continue;
        }
        outputs_intact(&shard.manifest, &shard.canonical, |o| o.country == iso3).map_err(
            |path| {
                refuse(format!(
                    "output {path} is missing or differs from the shard's manifest"
                ))
            },
        )?;
        let entry = stage_entry(&shard.manifest, iso3)
            .ok_or_else(|| refuse("no stage key in the shard's manifest".into()))?;
        let country_rows = match indicators {
            None => Vec::new(),
            Some(_) => {
                if rows[index].is_none() {
                    rows[index] = Some(shard.indicator_rows()?);
                }
                rows[index]
                    .as_ref()
                    .and_then(|r| r.get(iso3))
                    .cloned()
                    .ok_or_else(|| refuse("no indicator rows in the shard".into()))?
            }
        };
        stage_previous_outputs(iso3, &shard.manifest, &shard.canonical, staging)
            .map_err(|e| PipelineError::io(staging.root(), std::io::Error::other(e)))?;
        let report = previous_report(
            iso3,
            &shard.manifest,
            timing,
            country_rows,
            status.not_delivered.clone(),
        );
        out.manifest.stages.push(entry);
        out.manifest.countries.push(status);
        add_country(&mut out, report);
    }
    Ok(out)
}

/// Which shard each country of the merge comes from (index into `shards`). Without `--countries`, a shard's
/// country that has no configuration file is refused (it would be dropped silently).
fn assign_countries(
    opts: &MergeOptions,
    countries: &[CountryConfig],
    shards: &[Shard],
) -> Result<BTreeMap<String, usize>, MergeError> {
    let codes: Vec<String> = countries.iter().map(|c| c.country.iso3.clone()).collect();
    if opts.countries.is_empty() {
        for shard in shards {
            if let Some(other) = shard
                .manifest
                .countries
                .iter()
                .find(|c| !codes.contains(&c.country))
            {
                return Err(MergeError::Shard {
                    shard: shard.path.clone(),
                    problem: format!(
                        "holds country {}, which has no configuration file in {}; pass --countries to merge \
                         the others",
                        other.country,
                        opts.config_dir.display()
                    ),
                });
            }
        }
    }
    let manifests: Vec<&Manifest> = shards.iter().map(|s| &s.manifest).collect();
    assign(&codes, &manifests).map_err(|a| match a {
        Assignment::Twice {
            country,
            first,
            second,
        } => MergeError::Twice {
            country,
            first: shards[first].path.clone(),
            second: shards[second].path.clone(),
        },
        Assignment::Missing(countries) => MergeError::Missing { countries },
    })
}

/// Refuses a country computed under other definitions or from another configuration than the merge's, or (with
/// `--raw-dir`) from other deliveries than those in the raw folder now. A `failed` or `stale` country is carried
/// as its shard recorded it (its kept outputs come from an earlier run by design).
fn check_country(
    c: &CountryConfig,
    shard: &Shard,
    opts: &MergeOptions,
    definitions: &str,
) -> Result<(), MergeError> {
    let iso3 = c.country.iso3.as_str();
    let refuse = |problem: String| MergeError::Shard {
        shard: shard.path.clone(),
        problem: format!("country {iso3}: {problem}"),
    };
    let ok = shard
        .manifest
        .countries
        .iter()
        .any(|s| s.country == iso3 && s.status.is_ok());
    if !ok {
        return Ok(());
    }
    let entry = stage_entry(&shard.manifest, iso3)
        .ok_or_else(|| refuse("no stage key in the shard's manifest".into()))?;
    if entry.definitions != definitions {
        return Err(refuse(
            "computed under other definitions than this merge (schemas, pipelines/, tool version or key)"
                .into(),
        ));
    }
    let config = config_hash(c, &opts.config_dir).map_err(PipelineError::ConfigMessage)?;
    if entry.config != config {
        let mut current = Vec::new();
        for path in &c.source_files {
            current.push(HashedFile {
                path: relative_path(path, &opts.config_dir),
                sha256: sha256_file(path)?,
            });
        }
        let changed = config_differences(&shard.manifest, &current);
        return Err(refuse(format!(
            "its configuration in {} differs from the shard's ({}); rerun the shard",
            opts.config_dir.display(),
            if changed.is_empty() {
                "the set of files".to_string()
            } else {
                changed.join(", ")
            }
        )));
    }
    if let Some(raw) = &opts.raw_dir {
        let (inputs, files) = inputs_hash(c, raw)
            .map_err(|e| refuse(format!("its deliveries cannot be hashed: {e}")))?;
        if inputs != entry.inputs {
            let changed: Vec<String> = files
                .iter()
                .filter(|(path, sha)| {
                    !shard
                        .manifest
                        .inputs
                        .iter()
                        .any(|i| &i.path == *path && &i.sha256 == *sha)
                })
                .map(|(path, _)| path.clone())
                .collect();
            return Err(refuse(format!(
                "computed from other deliveries than those in {} ({}); rerun the shard",
                raw.display(),
                if changed.is_empty() {
                    "the set of files".to_string()
                } else {
                    changed.join(", ")
                }
            )));
        }
    }
    Ok(())
}

fn stage_entry(manifest: &Manifest, iso3: &str) -> Option<crate::manifest::StageEntry> {
    manifest
        .stages
        .iter()
        .find(|s| s.country == iso3 && s.stage == COUNTRY_STAGE)
        .cloned()
}

/// The failure a single run reported for a country its shard recorded as `failed` or `stale` (`error` is
/// `stage: message`).
fn failure_of(status: &CountryEntry) -> CountryError {
    let text = status.error.as_deref().unwrap_or("failed in its shard");
    let (stage, message) = text.split_once(": ").unwrap_or(("shard", text));
    let mut failure = CountryError::new(&status.country, stage, message);
    failure.internal = stage == "internal";
    failure
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::CountryStatus;

    #[test]
    fn a_failure_keeps_the_stage_of_the_shards_run() {
        let status = CountryEntry {
            country: "THA".into(),
            status: CountryStatus::Failed,
            error: Some("read: THA/child.csv: missing".into()),
            not_delivered: Vec::new(),
            stale_from: None,
        };
        let f = failure_of(&status);
        assert_eq!(
            (f.stage.as_str(), f.message.as_str()),
            ("read", "THA/child.csv: missing")
        );
        assert!(!f.internal);
        let internal = CountryEntry {
            error: Some("internal: a bug".into()),
            ..status
        };
        assert!(failure_of(&internal).internal);
    }

    #[test]
    fn merging_nothing_is_refused_before_anything_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let opts = MergeOptions {
            shards: Vec::new(),
            out_dir: dir.path().join("out"),
            config_dir: dir.path().join("countries"),
            schema_dir: dir.path().join("schemas"),
            pipelines_dir: None,
            countries: Vec::new(),
            key: None,
            raw_dir: None,
        };
        let err = merge(&opts, &RunPolicy::default()).unwrap_err();
        assert!(matches!(err, MergeError::NoShards) && err.is_refusal());
        assert!(!dir.path().join("out").exists());
    }
}
