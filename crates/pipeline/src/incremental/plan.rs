//! Planning a run's countries from the previous run in `OUT`: each country's key and decision (run, reuse,
//! keep), and the countries of the previous run that `--countries` did not select, kept as they are.

use std::collections::BTreeMap;

use dh_indicators::estimate::EstimateRow;
use rayon::prelude::*;

use crate::error::CountryError;
use crate::manifest::Manifest;
use crate::run::{LoadedConfig, RunOptions};

use super::{
    COUNTRY_STAGE, CountryKey, Decision, Reason, country_key, decide, deferred_country_key,
    definitions_hash, outputs_intact, previous_indicator_rows,
};

/// Keys and decisions of every selected country (in config order), the previous manifest and, when some country
/// may be reused, the previous indicator rows.
pub struct Plan {
    pub countries: Vec<(Result<CountryKey, String>, Decision)>,
    pub previous: Option<Manifest>,
    pub previous_rows: BTreeMap<String, Vec<EstimateRow>>,
}

/// Each country's key and decision against the previous run (a `kept` country with intact outputs is carried
/// over as it is), and the previous indicator rows when some country is carried over; a carried country whose
/// rows cannot be read is recomputed.
pub(crate) fn plan_countries(
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
                    deferred: false,
                };
                return (Ok(key), Decision::Keep);
            }
            // A country computed whatever its inputs (forced, or not in the previous run) hashes its deliveries
            // as it reads them (each file read once); the others need their inputs' hash to decide.
            let key = if opts.force || previous_entry.is_none() {
                deferred_country_key(c, &opts.config_dir, &definitions)
            } else {
                country_key(c, &opts.raw_dir, &opts.config_dir, &definitions)
            };
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
pub(crate) fn add_kept_countries(
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
