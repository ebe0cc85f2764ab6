//! The run manifest `OUT/manifest.json`, the contract between its writer (`dh run`, `dh merge`) and its readers
//! (the report, `dh run --countries`, incremental runs, `dh merge`): what went in (config, schema and input files
//! with their hashes and row ledgers) and what came out (every output file with its rows and hash).
//!
//! The same types write and read the file. Reading is strict: a missing, renamed or unknown field is an error that
//! names the field (fields added after the first layout are optional and default to empty).
//!
//! The manifest is deterministic: entries are sorted, paths are relative (inputs to the raw folder, outputs to
//! `OUT`, configs to the config folder, schemas to the schema folder) with `/` separators, and nothing that varies
//! between runs (timestamps, durations, thread count, absolute paths) is recorded; those go to the run log.

use serde::{Deserialize, Serialize};

/// Why a manifest could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest: {0}")]
    Read(serde_json::Error),
    #[error("manifest cannot be serialised: {0}")]
    Write(serde_json::Error),
}

/// Outcome of one country in a run, written as `ok`, `failed` or `stale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CountryStatus {
    // Variants in the order of their names, so that sorting entries orders them as the names sort.
    /// The country failed and has no outputs in `OUT` (see `error`).
    Failed,
    /// The country ran (or its outputs were reused unchanged) without error.
    Ok,
    /// This run failed for the country (see `error`) and the outputs of the run named in `stale_from` are kept in
    /// its place (unless `dh run --drop-failed`).
    Stale,
}

impl CountryStatus {
    /// The name written in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            CountryStatus::Ok => "ok",
            CountryStatus::Failed => "failed",
            CountryStatus::Stale => "stale",
        }
    }

    pub fn is_ok(self) -> bool {
        self == CountryStatus::Ok
    }

    /// Whether `OUT` holds outputs of the country (`ok`, or `stale`: kept from its last good run).
    pub fn has_outputs(self) -> bool {
        matches!(self, CountryStatus::Ok | CountryStatus::Stale)
    }
}

impl std::fmt::Display for CountryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Version of the manifest layout itself.
pub const MANIFEST_FORMAT: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub manifest_format: u32,
    pub tool: ToolInfo,
    /// Fingerprint of the pseudonym key (not the key): outputs differ when the key differs.
    pub pseudonym_key_fingerprint: String,
    pub schemas: Vec<HashedFile>,
    pub configs: Vec<HashedFile>,
    pub countries: Vec<CountryEntry>,
    pub inputs: Vec<InputEntry>,
    pub outputs: Vec<OutputEntry>,
    /// Key of each stage unit (see `incremental`): what the outputs were computed from.
    #[serde(default)]
    pub stages: Vec<StageEntry>,
    /// Weight diagnostics of the weighting stage, one entry per weighted country.
    #[serde(default)]
    pub weighting: Vec<WeightingEntry>,
    /// Routing findings in the written rows (kept as delivered), per table and column.
    #[serde(default)]
    pub consistency: Vec<ConsistencyEntry>,
    pub totals: Totals,
}

/// Rows of one column whose answer disagrees with the column's universe (`dh_normalise::consistency`): kept as
/// delivered and listed here so that the delivery can be checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyEntry {
    pub country: String,
    pub table: String,
    /// The delivery file, relative to the raw folder.
    pub path: String,
    pub column: String,
    /// `answer_outside_universe` or `skipped_inside_universe`.
    pub issue: String,
    pub rows: u64,
    /// Source row number of the first such row.
    pub first_row: u64,
}

/// One keyed unit of work: country x stage, its key and the hashes the key is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageEntry {
    pub country: String,
    pub stage: String,
    pub key: String,
    /// Hash of the delivery files' hashes.
    pub inputs: String,
    /// Hash of the country's configuration files.
    pub config: String,
    /// Hash of the schemas, pipelines files, tool version and pseudonym-key fingerprint.
    pub definitions: String,
}

/// Diagnostics of one country's raked weights: before and after raking, convergence and trimming.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightingEntry {
    pub country: String,
    /// Rows of the design table that carry a weight.
    pub n: u64,
    pub base: WeightStats,
    #[serde(rename = "final")]
    pub final_weights: WeightStats,
    pub converged: bool,
    /// Raking sweeps of the final rake.
    pub iterations: u64,
    /// Rakes done (1 without trimming).
    pub rounds: u64,
    /// Weights trimmed to the cap.
    pub trimmed: u64,
    /// Largest relative gap between a weighted margin level and its population total.
    pub max_margin_error: f64,
    /// Rows of other tables left out of the estimates because no row of the design table matches them
    /// (e.g. a caregiver whose child's row was quarantined), by table; they stay in the normalised output.
    #[serde(default)]
    pub unweighted_rows: std::collections::BTreeMap<String, u64>,
    /// The non-response weighting classes of the other tables (caregivers), by table: who responded in each
    /// class and the factor its respondents' weights were scaled by (`[nonresponse.<table>]` in the catalogue).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub nonresponse: std::collections::BTreeMap<String, Vec<NonresponseClassEntry>>,
}

/// One non-response weighting class in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonresponseClassEntry {
    /// The class's levels (`urban_rural=urban; age_band=12-13`, `(pooled)` for a pooled column).
    pub class: String,
    /// Design-table rows in the class, and those whose unit responded (e.g. whose caregiver has a row).
    pub rows: u64,
    pub respondents: u64,
    /// weight of every row of the class / weight of its respondents.
    pub factor: f64,
}

/// Minimum, maximum, max/min ratio, sum and Kish's design effect due to weighting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightStats {
    pub min: f64,
    pub max: f64,
    pub ratio: f64,
    pub sum: f64,
    pub kish_deff: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    /// Git commit the tool was built from, when built from a checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
}

/// A configuration or schema file and its SHA-256.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashedFile {
    pub path: String,
    pub sha256: String,
}

/// Outcome of one country (`countries[]`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryEntry {
    pub country: String,
    pub status: CountryStatus,
    /// Stage and message of the failure; absent when the country succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Configured tables the country did not deliver (`delivered = false`): no input, ledger line or output, and
    /// their indicators are `not_collected`; absent when every table was delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_delivered: Vec<String>,
    /// For a `stale` country: the stage key of the run whose outputs are kept (what they were computed from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_from: Option<StaleFrom>,
}

/// Where a stale country's kept outputs come from: the last run in which the country succeeded, named by its
/// stage key and the hash of its delivery files (the manifest holds no run ids or timestamps; the run logs in
/// `OUT/runs/` do).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaleFrom {
    pub key: String,
    pub inputs: String,
}

/// One raw delivery file and its row ledger: `rows_read = rows_written + rows_quarantined`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputEntry {
    /// Relative to the raw folder, e.g. `THA/child_survey.csv`.
    pub path: String,
    pub country: String,
    pub table: String,
    pub sha256: String,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    /// What the reader noticed without refusing the file (a formula without a cached value, a text decoded with the
    /// configured code page, a header case count of 0): places and variables, never cell contents. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl InputEntry {
    pub fn balanced(&self) -> bool {
        self.rows_read == self.rows_written + self.rows_quarantined
    }
}

/// One output file.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputEntry {
    /// Relative to `OUT`, e.g. `normalised/child_survey/country=THA/part-0.parquet`.
    pub path: String,
    pub country: String,
    pub table: String,
    /// `normalised` or `quarantine`.
    pub kind: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub countries_ok: u64,
    pub countries_failed: u64,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
}

impl Manifest {
    /// Sorts every list and recomputes the totals, so the serialised bytes depend only on the content.
    pub fn finalise(&mut self) {
        self.manifest_format = MANIFEST_FORMAT;
        self.schemas.sort();
        self.schemas.dedup();
        self.configs.sort();
        self.configs.dedup();
        self.countries.sort();
        self.inputs.sort();
        self.outputs.sort();
        self.weighting.sort_by(|a, b| a.country.cmp(&b.country));
        self.stages.sort();
        self.consistency.sort();
        self.totals = Totals {
            countries_ok: self.countries.iter().filter(|c| c.status.is_ok()).count() as u64,
            countries_failed: self.countries.iter().filter(|c| !c.status.is_ok()).count() as u64,
            rows_read: self.inputs.iter().map(|i| i.rows_read).sum(),
            rows_written: self.inputs.iter().map(|i| i.rows_written).sum(),
            rows_quarantined: self.inputs.iter().map(|i| i.rows_quarantined).sum(),
        };
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ManifestError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(ManifestError::Write)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Reads a manifest; a missing, renamed or unknown field is an error that names the field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        serde_json::from_slice(bytes).map_err(ManifestError::Read)
    }
}

#[cfg(test)]
mod tests;
