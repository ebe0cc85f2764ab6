//! Country configurations: `countries/<ISO3>.toml`, merged over the shared `countries/_defaults.toml`.
//!
//! A country file holds only what differs from the defaults; the merge rules live in [`crate::layered`]. After the
//! merge, every key is checked against the known layout ([`crate::shape`]), the result is deserialised into
//! [`CountryConfig`], and each column mapping's code scheme and inherited missing codes are resolved into its
//! `codes`/`missing`, so consumers (ingest, normalise, synth) read one flat mapping per column. Semantic checks against
//! the harmonised schemas are in [`crate::validate`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::error::ConfigError;
pub use crate::layered::line_of;
use crate::layered::{Locations, merge_layers, read_layer};

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
    /// Named code lists (`[code_schemes.yes_no]`) that column mappings refer to with `scheme = "..."`.
    #[serde(default)]
    pub code_schemes: BTreeMap<String, CodeScheme>,
    /// Parameters for `dh synth` (synthetic population and prevalences). Optional for real countries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synth: Option<SynthParams>,
    /// Files merged into this configuration, in merge order (defaults, then the country file); not part of the TOML.
    #[serde(skip)]
    pub source_files: Vec<PathBuf>,
    /// File and line that set each key (for diagnostics); not part of the TOML.
    #[serde(skip)]
    pub locations: Locations,
}

/// A named source code list shared by many columns (e.g. every yes/no item).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CodeScheme {
    /// Source code -> harmonised category label.
    #[serde(default)]
    pub codes: BTreeMap<String, String>,
    /// Source missing code -> harmonised missing label; when empty, the delivery's `missing` applies.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, String>,
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
    /// First and last calendar year of the administrative data (law enforcement, CyberTipline) the country's
    /// indicators cover; Phase 1 countries report 2017-2019, Phase 2 countries 2021-2023.
    #[serde(default)]
    pub reference_years: ReferenceYears,
}

/// An inclusive range of calendar years (`reference_years = { first = 2021, last = 2023 }`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReferenceYears {
    pub first: i32,
    pub last: i32,
}

impl Default for ReferenceYears {
    /// Disrupting Harm Phase 1: 2017-2019.
    fn default() -> Self {
        ReferenceYears {
            first: 2017,
            last: 2019,
        }
    }
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

/// A delivery file format. [`Format::ALL`] is the one list of formats: the config shape ([`crate::shape`]),
/// onboarding (which files of a folder are deliveries), the ingest reader registry and the synth writer registry
/// are all found from it, and every per-format property is an exhaustive `match` below, so adding a variant makes
/// the compiler list each place that needs an entry (add the variant to [`Format::ALL`] too; a test checks it).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    Sav,
    Dta,
    Xlsx,
}

impl Format {
    /// Every format, in the order they are listed to users.
    pub const ALL: [Format; 4] = [Format::Csv, Format::Sav, Format::Dta, Format::Xlsx];

    /// The config spellings of [`Format::ALL`] (`format = "..."`), in the same order.
    pub const NAMES: [&'static str; Format::ALL.len()] = {
        let mut names = [""; Format::ALL.len()];
        let mut i = 0;
        while i < names.len() {
            names[i] = Format::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The config spelling (`csv`, `sav`, `dta`, `xlsx`); the same as its serde name.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Sav => "sav",
            Format::Dta => "dta",
            Format::Xlsx => "xlsx",
        }
    }

    /// The file extensions (lower case, no dot) of deliveries in this format, the usual one first: onboarding
    /// finds delivery files by them (`.zsav` is compressed SPSS, read by the `sav` reader).
    pub const fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Csv => &["csv", "tsv", "txt"],
            Format::Sav => &["sav", "zsav"],
            Format::Dta => &["dta"],
            Format::Xlsx => &["xlsx"],
        }
    }

    /// How the format is named in messages (`CSV`, `SPSS .sav`, ...).
    pub const fn description(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Sav => "SPSS .sav",
            Format::Dta => "Stata .dta",
            Format::Xlsx => "Excel .xlsx",
        }
    }

    /// Whether files of this format carry value labels and variable metadata (codes can be written as
    /// `"label:Yes"` keys, `value = "label"` applies).
    pub const fn has_value_labels(self) -> bool {
        match self {
            Format::Sav | Format::Dta => true,
            Format::Csv | Format::Xlsx => false,
        }
    }

    /// Every delivery file extension (lower case, no dot) with the format that reads it, in [`Format::ALL`] order,
    /// made from [`Format::extensions`]: the list onboarding and tools use to find delivery files.
    pub const EXTENSIONS: &'static [(&'static str, Format)] = &{
        let mut out = [("", Format::Csv); Format::extension_count()];
        let (mut i, mut k) = (0, 0);
        while i < Format::ALL.len() {
            let exts = Format::ALL[i].extensions();
            let mut j = 0;
            while j < exts.len() {
                out[k] = (exts[j], Format::ALL[i]);
                (j, k) = (j + 1, k + 1);
            }
            i += 1;
        }
        out
    };

    const fn extension_count() -> usize {
        let (mut i, mut n) = (0, 0);
        while i < Format::ALL.len() {
            n += Format::ALL[i].extensions().len();
            i += 1;
        }
        n
    }

    /// The format a file extension (without the dot, any case) names, or `None` for files that are not deliveries.
    pub fn from_extension(ext: &str) -> Option<Format> {
        Format::EXTENSIONS
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(ext))
            .map(|(_, f)| *f)
    }

    /// The format a config spelling names (`None` for any other text).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

pub use crate::encoding::Encoding;

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
    #[serde(default)]
    pub file: String,
    /// `false` when the country did not deliver this table at all: the table is absent from the country's outputs,
    /// its indicators are `not_collected`, and everything else runs (`file` is then not needed).
    #[serde(default = "default_true")]
    pub delivered: bool,
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
    /// Worksheet to read from an `.xlsx` delivery (default: the first sheet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// 1-based row holding the variable names (`.xlsx` and CSV; default 1). For `.xlsx` it counts the sheet's rows
    /// as Excel numbers them (row 1 is the sheet's first row even when the used range starts lower); for CSV it counts
    /// records (a blank line is not one). The default 1 means the first non-blank row, so a sheet or file whose first
    /// rows are blank still reads; set it to skip a cover text above the table.
    #[serde(default = "default_header_row")]
    pub header_row: u32,
    /// Rows right after the header that are not data (e.g. a second header row of labels); default 0. Counted as
    /// `header_row` counts: Excel rows (blank ones included) for `.xlsx`, records for CSV. Neither these nor the rows
    /// above the header are records of the table.
    #[serde(default)]
    pub skip_rows: u32,
    /// Source columns that are direct identifiers (names, phones, GPS, notes): dropped at ingest.
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// Source missing code -> harmonised missing label for every coded column of this delivery, unless its scheme
    /// or the column sets its own. `""` stands for an empty cell.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, String>,
    /// Mapping per harmonised column name.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnMap>,
    /// The files of a table delivered as several files (e.g. one per organisation): `[[deliveries.<table>.parts]]`.
    /// Each part names its `file` and may set any file setting and column mapping of its own; what it does not set
    /// it takes from this delivery. Empty for the usual one-file delivery (then `file` is the file). Rows of all
    /// parts form one table. Use [`Delivery::files`] to get one effective delivery per file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<DeliveryPart>,
}

/// One file of a delivery made of several files (`[[deliveries.<table>.parts]]`). Every setting but `file` is
/// optional and falls back to the delivery's own; `columns` replace the delivery's mapping of the same column, one
/// column at a time (so one organisation's file can map its own category labels, or give a column as a `constant`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct DeliveryPart {
    /// File name relative to the country's raw folder.
    #[serde(default)]
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_ending: Option<LineEnding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_rows: Option<u32>,
    /// Identifier columns of this file, in addition to the delivery's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<String>,
    /// Replaces the delivery's `missing` for this file when set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, String>,
    /// Column mappings of this file; a column not listed here keeps the delivery's mapping.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnMap>,
}

impl Delivery {
    /// One effective delivery per delivered file, in config order: this delivery itself when it has no `parts`,
    /// else each part over this delivery's settings and column mappings (each returned delivery has no parts).
    /// After loading, every column mapping of every part is resolved like the delivery's own.
    pub fn files(&self) -> Vec<Delivery> {
        if self.parts.is_empty() {
            return vec![self.clone()];
        }
        self.parts.iter().map(|p| self.with_part(p)).collect()
    }

    /// This delivery's settings with `part`'s on top (no parts).
    fn with_part(&self, part: &DeliveryPart) -> Delivery {
        let mut d = self.clone();
        d.parts = Vec::new();
        d.file = part.file.clone();
        if let Some(f) = part.format {
            d.format = f;
        }
        if let Some(e) = part.encoding {
            d.encoding = e;
        }
        if let Some(x) = &part.delimiter {
            d.delimiter = x.clone();
        }
        if let Some(l) = part.line_ending {
            d.line_ending = l;
        }
        if part.sheet.is_some() {
            d.sheet = part.sheet.clone();
        }
        if let Some(h) = part.header_row {
            d.header_row = h;
        }
        if let Some(s) = part.skip_rows {
            d.skip_rows = s;
        }
        for i in &part.identifiers {
            if !d.identifiers.contains(i) {
                d.identifiers.push(i.clone());
            }
        }
        if !part.missing.is_empty() {
            d.missing = part.missing.clone();
        }
        for (name, map) in &part.columns {
            d.columns.insert(name.clone(), map.clone());
        }
        d
    }

    /// The delivered file names (one per part, or `file`), in config order.
    pub fn file_names(&self) -> Vec<&str> {
        if self.parts.is_empty() {
            vec![self.file.as_str()]
        } else {
            self.parts.iter().map(|p| p.file.as_str()).collect()
        }
    }

    /// A delivered file of `format` with every other setting at its default and no columns mapped.
    pub fn new(file: impl Into<String>, format: Format) -> Self {
        Delivery {
            file: file.into(),
            delivered: true,
            format,
            encoding: Encoding::default(),
            delimiter: default_delimiter(),
            line_ending: LineEnding::default(),
            sheet: None,
            header_row: default_header_row(),
            skip_rows: 0,
            identifiers: Vec::new(),
            missing: BTreeMap::new(),
            columns: BTreeMap::new(),
            parts: Vec::new(),
        }
    }
}

/// Prefix of a `codes`/`missing` key that names a value label of the delivery (SPSS, Stata) instead of a code.
pub const LABEL_PREFIX: &str = "label:";

/// The value label a code key names (`"label:Yes"` -> `Some("Yes")`), or `None` for a plain code.
pub fn label_key(key: &str) -> Option<&str> {
    key.strip_prefix(LABEL_PREFIX)
}

fn default_delimiter() -> String {
    ",".to_string()
}

fn default_true() -> bool {
    true
}

fn default_header_row() -> u32 {
    1
}

/// Where a column's harmonised value comes from: the delivered code (default) or, for `.sav`/`.dta` deliveries, the
/// value label the file gives that code (`value = "label"`, e.g. a region variable `11 = Amman`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ValueSource {
    #[default]
    Code,
    Label,
}

/// How one harmonised column is obtained from the delivery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ColumnMap {
    /// Source variable name in the delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Name of a `[code_schemes.<name>]` entry; resolved into `codes` (and `missing`) on load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Source code -> harmonised category label (categorical columns). After loading this holds the resolved codes
    /// (the column's own, else its scheme's). In `.sav`/`.dta` deliveries a key may name a value label instead of a
    /// code: `"label:Yes" = "yes"` maps every code the file labels `Yes` (see [`LABEL_PREFIX`]); the same holds for
    /// `missing` keys (`"label:Refused" = "refused"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub codes: BTreeMap<String, String>,
    /// Source missing code -> harmonised missing label (`dont_know`, `refused`, `not_applicable`). After loading this
    /// holds the resolved missing codes (the column's own, else its scheme's, else the delivery's for coded columns).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing: BTreeMap<String, String>,
    /// The country did not ask this question: every row gets `not_collected`, never a real answer.
    #[serde(default)]
    pub not_collected: bool,
    /// Take the delivered value label instead of the code (text columns without categories; see [`ValueSource`]).
    #[serde(default, skip_serializing_if = "is_default_value_source")]
    pub value: ValueSource,
    /// strftime-style layout of a date column's text cells (e.g. `"%d/%m/%Y"`); a cell that does not match is a row
    /// problem naming this format. Without it dates must be ISO `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    /// A source value that every row of the file has, as if delivered in a column (no `source`): mapped through
    /// `codes`/`missing` like a delivered cell. For what a file says once for all its rows, e.g. the organisation
    /// that sent it (`organisation = { constant = "Childline" }` in one part of a multi-file delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<String>,
}

fn is_default_value_source(v: &ValueSource) -> bool {
    *v == ValueSource::Code
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
    /// Target past-year proportions per harmonised yes/no item (share `yes` within the item's universe).
    #[serde(default)]
    pub prevalence: BTreeMap<String, f64>,
    /// Target category shares per other coded item: column -> label -> share (summing to 1).
    #[serde(default)]
    pub distribution: BTreeMap<String, BTreeMap<String, f64>>,
    /// Parameters of the other data families' synthetic deliveries, by harmonised table (`[synth.families.<table>]`;
    /// read and checked by `dh-synth`'s family generators).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub families: BTreeMap<String, toml::Value>,
}

/// Loads `<dir>/<iso3>.toml` merged over `<dir>/_defaults.toml` (if present).
///
/// Fails with every syntax, layout and type problem found ([`ConfigError::Diagnostics`]). Semantic problems
/// (unknown harmonised columns or codes, population cells, ...) are found by [`crate::validate_country`].
pub fn load_country(dir: &Path, iso3: &str) -> Result<CountryConfig, ConfigError> {
    let defaults_path = dir.join(DEFAULTS_FILE);
    let country_path = dir.join(format!("{iso3}.toml"));
    let mut paths = Vec::new();
    if defaults_path.exists() {
        paths.push(defaults_path);
    }
    paths.push(country_path.clone());
    let mut layers = Vec::new();
    let mut problems = Vec::new();
    for path in &paths {
        match read_layer(path) {
            Ok(layer) => layers.push(layer),
            Err(mut d) => problems.append(&mut d),
        }
    }
    if !problems.is_empty() {
        return Err(ConfigError::Diagnostics(problems));
    }
    let (merged, locations) = merge_layers(&layers);
    problems.extend(crate::shape::check_country(&merged, &locations));
    if !problems.is_empty() {
        return Err(ConfigError::Diagnostics(problems));
    }
    let mut config: CountryConfig =
        toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| {
                ConfigError::Diagnostics(vec![Diagnostic::error(
                    &country_path,
                    0,
                    "",
                    format!(
                        "{}; add the missing key to the country file or to {DEFAULTS_FILE}",
                        e.message().trim()
                    ),
                )])
            })?;
    let years = config.country.reference_years;
    if years.first > years.last {
        return Err(ConfigError::Diagnostics(vec![locations.error(
            &["country", "reference_years"],
            format!(
                "reference_years runs from {} to {}; `first` must not be after `last`",
                years.first, years.last
            ),
        )]));
    }
    if config.country.iso3 != iso3 {
        return Err(ConfigError::Diagnostics(vec![locations.error(
            &["country", "iso3"],
            format!(
                "country.iso3 is `{}` but the file is named `{iso3}.toml`; make them equal",
                config.country.iso3
            ),
        )]));
    }
    crate::resolve::resolve_mappings(&mut config);
    config.source_files = paths;
    config.locations = locations;
    Ok(config)
}

/// Loads the named countries, or every `<ISO3>.toml` in `dir` when `only` is empty, sorted by ISO3.
///
/// Loads every country before failing, so the error carries the problems of all of them.
pub fn load_countries(dir: &Path, only: &[String]) -> Result<Vec<CountryConfig>, ConfigError> {
    let codes: Vec<String> = if only.is_empty() {
        list_countries(dir)?
    } else {
        only.to_vec()
    };
    let mut configs = Vec::new();
    let mut problems = Vec::new();
    for code in &codes {
        match load_country(dir, code) {
            Ok(c) => configs.push(c),
            Err(e) => problems.extend(e.diagnostics()),
        }
    }
    if problems.is_empty() {
        Ok(configs)
    } else {
        Err(ConfigError::Diagnostics(problems))
    }
}

/// ISO3 codes of every country file in `dir` (files named like `THA.toml`), sorted.
pub fn list_countries(dir: &Path) -> Result<Vec<String>, ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ConfigError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut codes: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .filter(|s| s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase()))
        .collect();
    codes.sort();
    Ok(codes)
}

#[cfg(test)]
mod format_tests {
    use super::Format;

    /// Every variant, by an exhaustive match: a new variant fails to compile here until it is listed, and the
    /// test then fails until it is in [`Format::ALL`].
    fn every_variant() -> Vec<Format> {
        let all = [Format::Csv, Format::Sav, Format::Dta, Format::Xlsx];
        for f in all {
            match f {
                Format::Csv | Format::Sav | Format::Dta | Format::Xlsx => {}
            }
        }
        all.to_vec()
    }

    #[test]
    fn all_lists_every_format_once_with_its_serde_name() {
        assert_eq!(Format::ALL.to_vec(), every_variant());
        for (f, name) in Format::ALL.iter().zip(Format::NAMES) {
            assert_eq!(f.name(), name);
            let parsed: Format = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(parsed, *f);
            assert_eq!(Format::from_name(name), Some(*f));
        }
        assert_eq!(Format::from_name("parquet"), None);
    }

    #[test]
    fn extensions_name_one_format_each() {
        let all = Format::EXTENSIONS;
        assert_eq!(all.len(), 7);
        for (e, f) in all {
            assert_eq!(all.iter().filter(|(x, _)| x == e).count(), 1, "{e}");
            assert_eq!(Format::from_extension(e), Some(*f));
            assert_eq!(Format::from_extension(&e.to_uppercase()), Some(*f));
        }
        for f in Format::ALL {
            assert_eq!(f.extensions()[0], f.name(), "usual extension first");
        }
        assert_eq!(Format::from_extension("zsav"), Some(Format::Sav));
        assert_eq!(Format::from_extension("parquet"), None);
    }
}
