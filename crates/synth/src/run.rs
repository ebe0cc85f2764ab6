//! Synthesising many countries at once: `dh synth` and the built-in data of `dh run` call [`synth_to_dir`].
//!
//! Countries run in parallel (rayon); each country's randomness is keyed by `(seed, ISO3)` only, and the results
//! are gathered in ISO3 order, so every byte written is independent of the thread count. Output layout:
//! `OUT/<ISO3>/<delivery file>` per delivery, `OUT/truth.json` ([`crate::truth`]) and `OUT/injected.json`
//! (`{"problems": [...], "scale": .., "seed": ..}`, problems sorted by country, file and row; see
//! [`crate::messy`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dh_config::{CountryConfig, SchemaSet};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::deliveries::write_deliveries_to;
use crate::error::SynthError;
use crate::messy::InjectedProblem;
use crate::population::SynthPopulation;
use crate::resize::{Resize, Resized};
use crate::truth::{CountryTruth, Truth};
use crate::write::{PlainFiles, TableSink};

/// File names written beside the country folders.
pub const TRUTH_FILE: &str = "truth.json";
pub const INJECTED_FILE: &str = "injected.json";

#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    pub seed: u64,
    /// Sample size multiplier: scale 1 = `sample_children` (~1,000) per country.
    pub scale: f64,
    /// ISO3 codes; empty = every country file in the config directory.
    pub countries: Vec<String>,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            seed: 1,
            scale: 1.0,
            countries: Vec::new(),
        }
    }
}

/// `injected.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjectedFile {
    pub problems: Vec<InjectedProblem>,
    pub scale: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountrySummary {
    pub iso3: String,
    pub population_size: usize,
    pub sampled_children: usize,
    pub files: Vec<PathBuf>,
    pub injected_problems: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthSummary {
    pub countries: Vec<CountrySummary>,
    pub truth_file: PathBuf,
    pub injected_file: PathBuf,
    /// The edited configuration folder of a resize with another format (`OUT/config`).
    pub config_dir: Option<PathBuf>,
}

/// Loads configs and schemas from their folders and synthesises the chosen countries into `out`.
pub fn synth_to_dir(
    config_dir: &Path,
    schema_dir: &Path,
    out: &Path,
    options: &SynthOptions,
) -> Result<SynthSummary, SynthError> {
    synth_to_dir_resized(config_dir, schema_dir, out, options, None)
}

/// [`synth_to_dir`] with the tables of `resize` written with its rows and format ([`crate::resize`]).
pub fn synth_to_dir_resized(
    config_dir: &Path,
    schema_dir: &Path,
    out: &Path,
    options: &SynthOptions,
    resize: Option<&Resize>,
) -> Result<SynthSummary, SynthError> {
    let schemas = dh_config::load_schemas(schema_dir)?;
    let configs = dh_config::load_countries(config_dir, &options.countries)?;
    let Some(resize) = resize else {
        return synth_countries(&configs, &schemas, out, options.seed, options.scale);
    };
    resize.check(&configs)?;
    let resized: Vec<CountryConfig> = configs.iter().map(|c| resize.apply(c)).collect();
    let sink = Resized {
        resize,
        schemas: &schemas,
    };
    let mut summary =
        synth_countries_to(&resized, &schemas, out, options.seed, options.scale, &sink)?;
    summary.config_dir = resize.write_config(config_dir, &configs, out)?;
    Ok(summary)
}

/// Synthesises every country in `configs` into `out` (in parallel on the current rayon pool).
pub fn synth_countries(
    configs: &[CountryConfig],
    schemas: &SchemaSet,
    out: &Path,
    seed: u64,
    scale: f64,
) -> Result<SynthSummary, SynthError> {
    synth_countries_to(configs, schemas, out, seed, scale, &PlainFiles)
}

/// [`synth_countries`], every delivery file written through `sink`.
fn synth_countries_to(
    configs: &[CountryConfig],
    schemas: &SchemaSet,
    out: &Path,
    seed: u64,
    scale: f64,
    sink: &dyn TableSink,
) -> Result<SynthSummary, SynthError> {
    std::fs::create_dir_all(out).map_err(|e| SynthError::io(out, e))?;
    let mut results: Vec<CountryResult> = configs
        .par_iter()
        .map(|config| synth_country(config, schemas, out, seed, scale, sink))
        .collect::<Result<_, _>>()?;
    results.sort_by(|a, b| a.2.iso3.cmp(&b.2.iso3));
    let mut countries = BTreeMap::new();
    let mut problems = Vec::new();
    let mut summaries = Vec::new();
    let mut family_problems = Vec::new();
    for (truth, injected, summary, family) in results {
        countries.insert(summary.iso3.clone(), truth);
        problems.extend(injected);
        family_problems.extend(family);
        summaries.push(summary);
    }
    write_json(
        &out.join(crate::families::INJECTED_FAMILIES_FILE),
        &serde_json::json!({ "problems": family_problems, "scale": scale, "seed": seed }),
    )?;
    let truth = Truth {
        countries,
        generator: format!("dh-synth {}", env!("CARGO_PKG_VERSION")),
        scale,
        seed,
    };
    let truth_file = out.join(TRUTH_FILE);
    write_json(&truth_file, &truth)?;
    let injected_file = out.join(INJECTED_FILE);
    write_json(
        &injected_file,
        &InjectedFile {
            problems,
            scale,
            seed,
        },
    )?;
    Ok(SynthSummary {
        countries: summaries,
        truth_file,
        injected_file,
        config_dir: None,
    })
}

/// What one country's synthesis returns: truth, planted survey problems, summary, planted family problems.
type CountryResult = (
    CountryTruth,
    Vec<InjectedProblem>,
    CountrySummary,
    Vec<crate::families::FamilyProblem>,
);

/// One country: population, truth, one sample at `scale`, deliveries in `out/<ISO3>/` (the other data families'
/// deliveries too, see [`crate::families`]).
fn synth_country(
    config: &CountryConfig,
    schemas: &SchemaSet,
    out: &Path,
    seed: u64,
    scale: f64,
    sink: &dyn TableSink,
) -> Result<CountryResult, SynthError> {
    let population = SynthPopulation::simulate(config, schemas, seed, scale)?;
    let truth = population.truth();
    let sample = population.draw_sample(seed, scale)?;
    check_generators(config, &sample)?;
    let dir = out.join(&config.country.iso3);
    let injected = write_deliveries_to(&sample, config, &dir, sink)?;
    let family = crate::families::write_family_deliveries(config, schemas, seed, &dir, sink)?;
    let summary = CountrySummary {
        iso3: config.country.iso3.clone(),
        population_size: population.population_size(),
        sampled_children: sample.respondents.len(),
        files: config
            .deliveries
            .values()
            .flat_map(|d| d.file_names())
            .map(|f| dir.join(f))
            .collect(),
        injected_problems: injected.len(),
    };
    Ok((truth, injected, summary, family))
}

/// Every delivered table has a generator: the survey's (a table of the sample: the child table and the tables
/// linked to it, [`crate::deliveries`]) or one of [`crate::families`].
fn check_generators(config: &CountryConfig, sample: &crate::SynthSample) -> Result<(), SynthError> {
    let survey = |table: &str| sample.plans.iter().any(|p| p.name == table);
    let missing = config.deliveries.iter().find(|(table, delivery)| {
        delivery.delivered && !survey(table) && !crate::families::is_family_table(table)
    });
    match missing {
        Some((table, delivery)) => Err(SynthError::Delivery {
            iso3: sample.iso3.clone(),
            table: table.clone(),
            file: delivery.file.clone(),
            message: "no generator: dh synth writes the child table, tables linked to it and crate::families"
                .into(),
        }),
        None => Ok(()),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SynthError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| SynthError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    std::fs::write(path, bytes).map_err(|e| SynthError::io(path, e))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dh_config::Delivery;
    use dh_config::country::Format;

    use super::*;

    #[test]
    fn every_delivered_table_needs_a_generator() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let schemas = dh_config::load_schemas(&root.join("schemas")).unwrap();
        let mut config = dh_config::load_countries(&root.join("countries"), &["THA".into()])
            .unwrap()
            .remove(0);
        let sample = SynthPopulation::simulate(&config, &schemas, 1, 0.2)
            .and_then(|p| p.draw_sample(1, 0.2))
            .unwrap();
        // The shipped config: survey tables and family tables, all generated.
        assert!(config.deliveries.keys().any(|t| t == "child_survey"));
        assert!(config.deliveries.keys().any(|t| t == "police_cases"));
        check_generators(&config, &sample).unwrap();
        let mut extra = Delivery::new("extra.csv", Format::Csv);
        config
            .deliveries
            .insert("extra_table".into(), extra.clone());
        let err = check_generators(&config, &sample).unwrap_err();
        assert!(
            matches!(&err, SynthError::Delivery { table, .. } if table == "extra_table"),
            "{err}"
        );
        extra.delivered = false;
        config.deliveries.insert("extra_table".into(), extra);
        check_generators(&config, &sample).unwrap();
    }
}
