//! The country threads of `dh run`: what they share, each country's work (carried over from the previous run or
//! computed) and how a thread's outcome (done, timed out, panicked) becomes the country's result.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dh_config::{CountryConfig, SchemaSet};

use crate::abort_point;
use crate::country::{Context, CountryReport, process_country};
use crate::error::{CountryError, PipelineError};
use crate::incremental::{CountryKey, Decision, Plan, complete_key, plan_countries, reuse_country};
use crate::indicator_stage::IndicatorSetup;
use crate::layout::Staging;
use crate::manifest::{Manifest, StageEntry};
use crate::progress::RunObserver;
use crate::schedule::{self, Outcome};

use super::{LoadedConfig, RunOptions, RunPolicy};

/// One country's result and the stage key it was computed under.
pub(super) type CountryResult = (Result<CountryReport, CountryError>, Option<StageEntry>);

/// What the country threads of a run share.
pub(super) struct Shared {
    raw_dir: PathBuf,
    out_dir: PathBuf,
    schemas: SchemaSet,
    key: dh_normalise::PseudonymKey,
    pub(super) indicators: Option<IndicatorSetup>,
    /// A view of the run's staging folder (never removes it).
    staging: Staging,
    pub(super) plan: Plan,
    pool: rayon::ThreadPool,
}

/// One country's work on its own thread: carried over from the previous run, or computed. With
/// `parallel_tables` its tables (read, write, the normaliser's columns) run in the run's shared pool, whose idle
/// threads take part of them; otherwise in a pool of one thread of its own.
fn country_work(
    shared: Arc<Shared>,
    c: CountryConfig,
    mut key: Option<CountryKey>,
    decision: Decision,
    parallel_tables: bool,
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
                    parallel_tables,
                    observer,
                    indicators: s.indicators.as_ref(),
                    cancelled: Some(cancelled),
                };
                let no_hashes = BTreeMap::new();
                let hashes = key.as_ref().map_or(&no_hashes, |k| &k.files);
                let process = || process_country(&c, &ctx, &s.staging, hashes);
                // In the run's pool only for the last countries to start (`shares_the_pool`: no country starts
                // after them, so a hung one never keeps another from a thread); otherwise in a pool of one thread
                // of its own, so that a country is one worker and a hung one holds no shared thread.
                let r = if parallel_tables {
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
        // a key whose inputs were hashed as they were read is completed from the hashes the run recorded
        if let (Ok(rep), Some(k)) = (&r, key.as_mut()) {
            let read = rep
                .inputs
                .iter()
                .map(|i| (i.path.clone(), i.sha256.clone()))
                .collect();
            if complete_key(k, &c, &s.raw_dir, &read).is_err() {
                key = None;
            }
        }
        (r, key.filter(|k| !k.deferred).map(|k| k.entry))
    })
}

/// What the country threads of a run start from.
pub(super) struct CountryStart<'a> {
    /// The run's base manifest (its definitions are part of every country's key).
    pub base: &'a Manifest,
    pub indicators: Option<IndicatorSetup>,
    pub key: dh_normalise::PseudonymKey,
    /// Countries of the previous run kept as they are (not selected by `--countries`).
    pub kept: &'a [String],
    pub previous: Option<Manifest>,
    /// Worker threads (at least 1).
    pub jobs: usize,
}

/// Plans every country of `config`, runs them on `start.jobs` threads (each within the time limit of `policy`)
/// and returns their results in config order, with what the threads shared (the plan, the indicator setup).
pub(super) fn run_countries(
    opts: &RunOptions,
    policy: &RunPolicy,
    observer: &dyn RunObserver,
    config: &LoadedConfig,
    staging: &Staging,
    start: CountryStart<'_>,
) -> Result<(Vec<CountryResult>, Arc<Shared>), PipelineError> {
    let jobs = start.jobs;
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
    let with_indicators = start.indicators.is_some();
    let plan = pool.install(|| {
        plan_countries(
            opts,
            config,
            start.base,
            with_indicators,
            start.kept,
            start.previous,
        )
    });
    // What the country threads share. They own it (through `Arc`), so a thread abandoned at the time limit never
    // holds a borrow of this function's data.
    let shared = Arc::new(Shared {
        raw_dir: opts.raw_dir.clone(),
        out_dir: opts.out_dir.clone(),
        schemas: config.schemas.clone(),
        key: start.key,
        indicators: start.indicators,
        staging: staging.view(),
        plan,
        pool,
    });
    let costs: Vec<u64> = config
        .countries
        .iter()
        .zip(shared.plan.countries.iter())
        .map(|(c, (_, decision))| match decision {
            Decision::Run(_) => bytes_to_read(c, &opts.raw_dir),
            Decision::Reuse | Decision::Keep => 0,
        })
        .collect();
    let computed: Vec<bool> = shared
        .plan
        .countries
        .iter()
        .map(|(_, d)| matches!(d, Decision::Run(_)))
        .collect();
    let sharing = shares_the_pool(&costs, &computed, jobs);
    let tasks: Vec<schedule::Task<CountryResult>> = config
        .countries
        .iter()
        .zip(shared.plan.countries.iter())
        .zip(costs.iter().zip(sharing))
        .map(|((c, (key, decision)), (&cost, parallel_tables))| {
            let work = country_work(
                Arc::clone(&shared),
                c.clone(),
                key.as_ref().ok().cloned(),
                decision.clone(),
                parallel_tables,
            );
            schedule::Task {
                country: c.country.iso3.clone(),
                cost,
                work,
            }
        })
        .collect();
    let timeout = policy.country_timeout;
    let outcomes = schedule::run_countries(tasks, jobs, timeout, observer, |i, outcome| {
        observe(observer, codes[i].as_str(), outcome)
    })?;
    let results = outcomes
        .into_iter()
        .zip(config.countries.iter().zip(shared.plan.countries.iter()))
        .map(|(outcome, (c, (key, _)))| {
            let entry = key
                .as_ref()
                .ok()
                .filter(|k| !k.deferred)
                .map(|k| k.entry.clone());
            country_result(outcome, c, entry, staging, timeout)
        })
        .collect();
    Ok((results, shared))
}

/// Which computed countries run their tables in the run's shared pool: the last `jobs` to start
/// ([`schedule::start_order`] of `costs`). While they run no other country is waiting, so the threads that
/// finish first take part of their tables instead of idling to the end of the run; the countries before them keep
/// one thread each, so a run never uses more than `jobs` threads for long. Outputs do not depend on it (the same
/// bytes whatever the thread count).
fn shares_the_pool(costs: &[u64], computed: &[bool], jobs: usize) -> Vec<bool> {
    let mut sharing = vec![false; costs.len()];
    let last: Vec<usize> = schedule::start_order(costs)
        .into_iter()
        .filter(|&i| computed.get(i).copied().unwrap_or(false))
        .collect();
    for &i in last.iter().rev().take(jobs) {
        sharing[i] = true;
    }
    sharing
}

/// Bytes of a country's delivered files (those that can be looked at; a missing one fails the country later).
fn bytes_to_read(c: &CountryConfig, raw_dir: &std::path::Path) -> u64 {
    c.deliveries
        .values()
        .filter(|d| d.delivered)
        .flat_map(|d| d.files())
        .filter_map(|d| {
            std::fs::metadata(crate::country::delivery_path(
                raw_dir,
                &c.country.iso3,
                &d.file,
            ))
            .ok()
        })
        .map(|m| m.len())
        .sum()
}

/// Tells the observer how a country ended.
fn observe(observer: &dyn RunObserver, iso3: &str, outcome: &Outcome<CountryResult>) {
    match outcome {
        Outcome::Done((Ok(rep), _)) => {
            let written = rep.inputs.iter().map(|i| i.rows_written).sum();
            let quarantined = rep.inputs.iter().map(|i| i.rows_quarantined).sum();
            observer.country_finished(iso3, written, quarantined, None);
        }
        Outcome::Done((Err(e), _)) => observer.country_finished(iso3, 0, 0, Some(&e.to_string())),
        Outcome::TimedOut => observer.country_finished(iso3, 0, 0, Some("time limit")),
        Outcome::Panicked => observer.country_finished(iso3, 0, 0, Some("internal error")),
    }
}

/// A thread's outcome as the country's result: a panic is an internal error and a thread over the time limit a
/// `timeout` failure, and whatever either staged is removed (never published).
fn country_result(
    outcome: Outcome<CountryResult>,
    c: &CountryConfig,
    entry: Option<StageEntry>,
    staging: &Staging,
    timeout: Option<Duration>,
) -> CountryResult {
    match outcome {
        Outcome::Done(r) => r,
        Outcome::Panicked => {
            crate::country::remove_country_outputs(c, staging);
            (Err(CountryError::internal(&c.country.iso3)), entry)
        }
        Outcome::TimedOut => {
            // whatever the abandoned thread staged is not published
            crate::country::remove_country_outputs(c, staging);
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
                entry,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shares_the_pool;

    #[test]
    fn the_last_computed_countries_to_start_share_the_pool() {
        // start order by cost: 1 (90), 3 (70), 4 (40), 0 (5), 2 (0, carried over)
        let costs = [5, 90, 0, 70, 40];
        let computed = [true, true, false, true, true];
        assert_eq!(
            shares_the_pool(&costs, &computed, 2),
            vec![true, false, false, false, true]
        );
        assert_eq!(
            shares_the_pool(&costs, &computed, 1),
            vec![true, false, false, false, false]
        );
        // fewer computed countries than threads: every one shares the pool
        assert_eq!(
            shares_the_pool(&costs, &computed, 8),
            vec![true, true, false, true, true]
        );
    }
}
