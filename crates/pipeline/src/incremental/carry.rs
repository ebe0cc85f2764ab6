//! Carrying a country's outputs over from the previous run: reused unchanged (its key did not change), or kept
//! and marked `stale` when this run failed for it.

use std::collections::BTreeMap;
use std::path::Path;

use dh_indicators::estimate::EstimateRow;

use crate::country::CountryReport;
use crate::error::CountryError;
use crate::layout::Staging;
use crate::manifest::{CountryEntry, CountryStatus, Manifest, StageEntry, StaleFrom};
use crate::runlog::CountryTiming;

use super::{COUNTRY_STAGE, outputs_intact, stage_previous_outputs};

/// A country carried over from the previous run: its files linked into staging, its manifest entries and
/// indicator rows (`rows`, when the run has an indicator stage) copied. `None` when anything is missing (the
/// country is then computed).
pub(crate) fn reuse_country(
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
pub(crate) fn keep_stale(
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
