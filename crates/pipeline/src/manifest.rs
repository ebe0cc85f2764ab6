//! The run manifest `OUT/manifest.json`: what went in (config, schema and input files with their hashes and row
//! ledgers) and what came out (every output file with its rows and hash).
//!
//! The manifest is deterministic: entries are sorted, paths are relative (inputs to the raw folder, outputs to
//! `OUT`, configs to the config folder, schemas to the schema folder) with `/` separators, and nothing that varies
//! between runs (timestamps, durations, thread count, absolute paths) is recorded; those go to the run log.

use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

/// Version of the manifest layout itself.
pub const MANIFEST_FORMAT: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_format: u32,
    pub tool: ToolInfo,
    /// Fingerprint of the pseudonym key (not the key): outputs differ when the key differs.
    pub pseudonym_key_fingerprint: String,
    pub schemas: Vec<HashedFile>,
    pub configs: Vec<HashedFile>,
    pub countries: Vec<CountryStatus>,
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

/// Diagnostics of one country's raked weights (issue 4): before and after raking, convergence and trimming.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
pub struct WeightStats {
    pub min: f64,
    pub max: f64,
    pub ratio: f64,
    pub sum: f64,
    pub kish_deff: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    /// Git commit the tool was built from, when built from a checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
}

/// A configuration or schema file and its SHA-256.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HashedFile {
    pub path: String,
    pub sha256: String,
}

/// Outcome of one country.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CountryStatus {
    pub country: String,
    /// `ok`, `failed`, or `stale`: this run failed for the country (see `error`) and the outputs of the run named
    /// in `stale_from` are kept in its place (unless `dh run --drop-failed`).
    pub status: String,
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
pub struct StaleFrom {
    pub key: String,
    pub inputs: String,
}

/// One raw delivery file and its row ledger: `rows_read = rows_written + rows_quarantined`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
            countries_ok: self.countries.iter().filter(|c| c.status == "ok").count() as u64,
            countries_failed: self.countries.iter().filter(|c| c.status != "ok").count() as u64,
            rows_read: self.inputs.iter().map(|i| i.rows_read).sum(),
            rows_written: self.inputs.iter().map(|i| i.rows_written).sum(),
            rows_quarantined: self.inputs.iter().map(|i| i.rows_quarantined).sum(),
        };
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PipelineError> {
        let mut bytes =
            serde_json::to_vec_pretty(self).map_err(|e| PipelineError::Internal(e.to_string()))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Manifest, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// A path relative to `base`, with `/` separators; falls back to the file name when `path` is not under `base`.
pub fn relative_path(path: &std::path::Path, base: &std::path::Path) -> String {
    let rel = path
        .strip_prefix(base)
        .ok()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| {
            path.file_name()
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| path.to_path_buf())
        });
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn input(path: &str, read: u64, written: u64, quarantined: u64) -> InputEntry {
        InputEntry {
            path: path.into(),
            country: path[..3].into(),
            table: "child_survey".into(),
            sha256: "00".into(),
            rows_read: read,
            rows_written: written,
            rows_quarantined: quarantined,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn finalise_sorts_and_totals_regardless_of_insertion_order() {
        let mut a = Manifest {
            inputs: vec![input("THA/c.csv", 10, 9, 1), input("KEN/c.csv", 5, 5, 0)],
            ..Default::default()
        };
        let mut b = Manifest {
            inputs: vec![input("KEN/c.csv", 5, 5, 0), input("THA/c.csv", 10, 9, 1)],
            ..Default::default()
        };
        a.finalise();
        b.finalise();
        assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
        assert_eq!(a.inputs[0].path, "KEN/c.csv");
        assert_eq!(a.totals.rows_read, 15);
        assert_eq!(a.totals.rows_quarantined, 1);
        assert!(a.inputs.iter().all(InputEntry::balanced));
        assert!(!input("X/y", 3, 1, 1).balanced());
    }

    #[test]
    fn round_trips_through_json() {
        let mut m = Manifest {
            inputs: vec![input("THA/c.csv", 2, 2, 0)],
            ..Default::default()
        };
        m.finalise();
        let back = Manifest::from_bytes(&m.to_bytes().unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn relative_paths_use_forward_slashes() {
        assert_eq!(
            relative_path(Path::new("/raw/THA/child.csv"), Path::new("/raw")),
            "THA/child.csv"
        );
        assert_eq!(
            relative_path(Path::new("/elsewhere/x.toml"), Path::new("/raw")),
            "x.toml"
        );
    }
}
