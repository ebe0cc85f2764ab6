//! Country configurations: `countries/<ISO3>.toml`, merged over the shared `countries/_defaults.toml`.
//!
//! A country file holds only what differs from the defaults. Merging is a deep merge of TOML tables where the
//! country's value wins, except that a column mapping (`[deliveries.<table>.columns.<column>]`) given in the
//! country file replaces the default mapping of that column as a whole (so default code lists never leak into a
//! country that uses another code scheme).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Name of the shared defaults file inside the countries directory.
pub const DEFAULTS_FILE: &str = "_defaults.toml";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CountryConfig {
    pub country: CountryMeta,
    pub population: Population,
    /// Survey and other deliveries, keyed by harmonised table name (`child_survey`, `caregiver_survey`, ...).
    #[serde(default)]
    pub deliveries: BTreeMap<String, Delivery>,
    /// Parameters for `dh synth` (synthetic population and prevalences). Optional for real countries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synth: Option<SynthParams>,
    /// Where the merged configuration came from (country file, defaults file); not part of the TOML.
    #[serde(skip)]
    pub source_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CountryMeta {
    /// ISO 3166-1 alpha-3 code; equals the file stem.
    pub iso3: String,
    pub name: String,
    /// Programme region, e.g. "Southeast Asia", "Eastern and Southern Africa".
    pub region: String,
    /// ISO dates (YYYY-MM-DD).
    pub fieldwork_start: String,
    pub fieldwork_end: String,
    #[serde(default)]
    pub report_launch: String,
}

/// Internet-using 12-17 population, the target of raking.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Where the numbers come from.
    pub source: String,
    /// Total 12-17 population.
    pub population_12_17: f64,
    /// Share of 12-17-year-olds using the internet.
    pub internet_share: f64,
    /// Cells of the internet-using 12-17 population; each cell names one category per margin column.
    pub cells: Vec<PopulationCell>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PopulationCell {
    /// Harmonised `sex` label.
    pub sex: String,
    /// Harmonised `age_band` label (`12-13`, `14-15`, `16-17`).
    pub age_band: String,
    /// Harmonised `urban_rural` label.
    pub urban_rural: String,
    pub count: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    Sav,
    Dta,
    Xlsx,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-8 with a byte-order mark.
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    #[serde(rename = "latin-1")]
    Latin1,
    #[serde(rename = "windows-1252")]
    Windows1252,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    #[default]
    Lf,
    Crlf,
}

/// One raw delivery file and how its columns map onto a harmonised table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// File name relative to the country's raw folder (`<raw-dir>/<ISO3>/`).
    pub file: String,
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub encoding: Encoding,
    /// Field delimiter for CSV (one character).
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// Line ending the delivery uses (readers accept both; `dh synth` writes this one).
    #[serde(default)]
    pub line_ending: LineEnding,
    /// Source columns that are direct identifiers (names, phones, GPS, notes): dropped at ingest.
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// Mapping per harmonised column name.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnMap>,
}

fn default_delimiter() -> String {
    ",".to_string()
}

/// How one harmonised column is obtained from the delivery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ColumnMap {
    /// Source variable name in the delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Source code -> harmonised category label (categorical columns).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub codes: BTreeMap<String, String>,
    /// Source missing code -> harmonised missing label (`dont_know`, `refused`, `not_applicable`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, String>,
    /// The country did not ask this question: every row gets `not_collected`, never a real answer.
    #[serde(default)]
    pub not_collected: bool,
}

/// Parameters of the synthetic population used by `dh synth`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SynthParams {
    /// Regions; strata are region x urban/rural.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Target number of sampled children (each with one caregiver).
    #[serde(default)]
    pub sample_children: Option<u32>,
    /// Number of enumeration areas sampled per stratum, children taken per sampled area, etc.
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Value>,
    /// Target past-year proportions per harmonised item (from the facts file).
    #[serde(default)]
    pub prevalence: BTreeMap<String, f64>,
}

/// Loads `<dir>/<iso3>.toml` merged over `<dir>/_defaults.toml` (if present).
pub fn load_country(dir: &Path, iso3: &str) -> Result<CountryConfig, ConfigError> {
    let defaults_path = dir.join(DEFAULTS_FILE);
    let country_path = dir.join(format!("{iso3}.toml"));
    let mut sources = Vec::new();
    let mut merged = toml::Table::new();
    if defaults_path.exists() {
        merged = read_table(&defaults_path)?;
        sources.push(defaults_path.clone());
    }
    let country = read_table(&country_path)?;
    sources.push(country_path.clone());
    merge_country(&mut merged, country);
    let mut config: CountryConfig = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::invalid(&country_path, 0, e.to_string()))?;
    if config.country.iso3 != iso3 {
        return Err(ConfigError::invalid(
            &country_path,
            0,
            format!("country.iso3 is `{}` but the file is named `{iso3}.toml`", config.country.iso3),
        ));
    }
    config.source_files = sources;
    Ok(config)
}

/// Loads the named countries, or every `<ISO3>.toml` in `dir` when `only` is empty, sorted by ISO3.
pub fn load_countries(dir: &Path, only: &[String]) -> Result<Vec<CountryConfig>, ConfigError> {
    let codes: Vec<String> = if only.is_empty() { list_countries(dir)? } else { only.to_vec() };
    codes.iter().map(|c| load_country(dir, c)).collect()
}

/// ISO3 codes of every country file in `dir` (files named like `THA.toml`), sorted.
pub fn list_countries(dir: &Path) -> Result<Vec<String>, ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ConfigError::Io { path: dir.to_path_buf(), source })?;
    let mut codes: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .filter(|s| s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase()))
        .collect();
    codes.sort();
    Ok(codes)
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    text.parse::<toml::Table>().map_err(|e| {
        let line = e.span().map(|s| line_of(&text, s.start)).unwrap_or(0);
        ConfigError::invalid(path, line, e.message().to_string())
    })
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

fn merge_country(base: &mut toml::Table, over: toml::Table) {
    merge_at(base, over, &[]);
}

fn merge_at(base: &mut toml::Table, over: toml::Table, path: &[&str]) {
    for (key, value) in over {
        // A column mapping given by the country replaces the default mapping wholesale.
        let is_column = path.len() == 3 && path[0] == "deliveries" && path[2] == "columns";
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) if !is_column => {
                let mut p = path.to_vec();
                p.push(key.as_str());
                merge_at(b, o, &p);
            }
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}
