//! `dh-indicators`: the indicator catalogue. Indicators are data in `pipelines/` (an analyst edits TOML, not
//! Rust): [`pipeline_config`] reads `pipelines/pipeline.toml` (thresholds, joins, required disaggregations) and
//! [`catalogue`] reads and validates `pipelines/indicators.toml` against the harmonised schemas, compiling each
//! universe and numerator with `dh-expr`. [`prepare`] turns one indicator and one country's table into the per-row
//! inputs of the estimator, [`flags`] holds the publication rules, [`suppression`] the complementary suppression
//! of survey estimates, [`attack`] a differencing attacker on published rows, [`invariants`] what every published row keeps
//! (checked before a country's rows leave the stage), [`bands`] the true labels of banded domains
//! an indicator's universe cuts, [`units`] the unit of each indicator's values and how they are written,
//! [`describe`] the label, unit and universe columns of the published tables, and [`weighting`] the pure parts of the weighting stage (margins, raking with
//! `dh-survey`, trimming, diagnostics).
//!
//! Other modules:
//!
//! - `error`: Catalogue and pipeline-configuration errors
//! - `estimate`: Estimates of one indicator for one country: the total and every level of every disaggregation,
//!   each with its publication flags
//! - `families`: Indicators of the other data families (frontline-worker survey, interviews, law enforcement): the
//!   catalogue `pipelines/families.toml` ([`catalogue`]), the per-interview theme table ([`themes`]), unweighted
//!   statistics with Wilson intervals and small-count disclosure control ([`disclosure`]), complementary
//!   suppression across breakdowns and indicators ([`protect`]), the country constants of the catalogue
//!   ([`reference_years`]) and the rows per country ([`estimate`]), which the indicator stage appends to the survey
//!   estimates
//! - `join`: Applies a `[tables.<table>.join]` of `pipelines/pipeline.toml`: appends the named columns of another
//!   table to each row, matched on a key (caregiver rows take the child's design and demographic columns through
//!   `household_id`)
//! - `location`: Turns byte spans of TOML values (and offsets inside expression strings) into 1-based line and
//!   column numbers
//! - `output`: The published indicator tables, built from every country's [`EstimateRow`]s (countries in the order
//!   given, rows in catalogue and domain order, so the bytes are the same whatever the thread count)
//! - `test_support`: Shared fixtures for unit tests: a small child table, a caregiver table joined to it, and a
//!   pipeline config

pub mod attack;
pub mod bands;
pub mod catalogue;
pub mod columns;
pub mod describe;
pub mod design_columns;
pub mod error;
pub mod estimate;
pub mod families;
pub mod flags;
pub mod invariants;
pub mod join;
pub mod location;
pub mod output;
pub mod pipeline_config;
pub mod prepare;
pub mod stage;
pub mod suppression;
#[cfg(test)]
mod test_support;
pub mod units;
pub mod weighting;

pub use catalogue::{
    Catalogue, CiMethod, Disaggregation, Indicator, MissingRule, Statistic, load_catalogue,
    parse_catalogue,
};
pub use describe::{Description, Descriptions};
pub use error::{CatalogError, CatalogErrors};
pub use estimate::{EstimateError, EstimateRow, Settings, estimate_indicator};
pub use flags::{Flag, Flags, publication_flag};
pub use join::{JoinError, Joined, apply_join};
pub use pipeline_config::{
    Join, PipelineConfig, Thresholds, WeightingSettings, load_pipeline_config,
};
pub use prepare::{DomainCodes, PrepareError, Prepared, prepare};
pub use stage::{CountryIndicators, StageError, country_indicators};

use std::path::Path;

use dh_config::SchemaSet;

/// Loads `<pipelines_dir>/pipeline.toml` and the catalogue it names, validated against `schemas` (the banded
/// columns of the schemas and the design table are recorded in the pipeline configuration).
pub fn load(
    pipelines_dir: &Path,
    schemas: &SchemaSet,
) -> Result<(PipelineConfig, Catalogue), CatalogErrors> {
    let mut pipeline = load_pipeline_config(pipelines_dir)?;
    pipeline.bands = bands::derived_bands(schemas);
    pipeline.design_table = dh_config::design_table(schemas)
        .map_err(|e| {
            CatalogErrors(vec![CatalogError {
                file: pipeline.file.clone(),
                line: 0,
                column: 0,
                indicator: None,
                key: String::new(),
                message: e.to_string(),
            }])
        })?
        .to_string();
    let catalogue = load_catalogue(&pipeline, schemas)?;
    Ok((pipeline, catalogue))
}
