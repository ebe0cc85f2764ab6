//! Incremental runs: each country's stages (read, normalise, weight and estimate, write) form one keyed unit whose
//! key is the hash of its inputs (delivery files), its configuration (country files, `_defaults.toml` included)
//! and its definitions (schemas, `pipelines/` files, tool version and commit, pseudonym-key fingerprint). The key's
//! three parts are recorded in the manifest (`stages`); a country whose key is unchanged and whose previous outputs
//! are intact (present with the size and SHA-256 the manifest records) is not recomputed: its files are hard-linked (or copied) from the previous run and its manifest
//! entries and indicator rows carried over. Cross-country outputs are always rebuilt.

mod carry;
mod plan;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, UInt64Type};
use dh_config::CountryConfig;
use dh_indicators::estimate::EstimateRow;
use dh_indicators::{Flag, Flags};
use sha2::{Digest, Sha256};

use crate::country::delivery_path;
use crate::hashing::sha256_file;
use crate::indicator_stage::INDICATORS_PARQUET;
use crate::layout::{MANIFEST_FILE, Staging};
use crate::manifest::{Manifest, StageEntry, relative_path};

pub(crate) use carry::{keep_stale, previous_report, reuse_country};
pub use plan::Plan;
pub(crate) use plan::{add_kept_countries, plan_countries};

/// Name of the per-country unit in [`StageEntry::stage`].
pub const COUNTRY_STAGE: &str = "country";

/// Why a country is (re)computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    NoPreviousRun,
    NewCountry,
    Forced,
    ChangedDelivery(Vec<String>),
    ChangedConfig,
    ChangedDefinition,
    PreviousFailed,
    PreviousOutputsMissing(String),
    /// A delivery could not be hashed (missing file); the run reports the error.
    Unhashable(String),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::NoPreviousRun => write!(f, "no previous run in the output folder"),
            Reason::NewCountry => write!(f, "new country"),
            Reason::Forced => write!(f, "forced (--force)"),
            Reason::ChangedDelivery(files) => write!(f, "changed delivery: {}", files.join(", ")),
            Reason::ChangedConfig => write!(f, "changed country configuration"),
            Reason::ChangedDefinition => write!(
                f,
                "changed definition (schemas, pipelines/, tool version or pseudonym key)"
            ),
            Reason::PreviousFailed => write!(f, "failed in the previous run"),
            Reason::PreviousOutputsMissing(p) => {
                write!(f, "previous output missing or altered: {p}")
            }
            Reason::Unhashable(m) => write!(f, "delivery cannot be hashed: {m}"),
        }
    }
}

/// What to do with one country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run(Reason),
    Reuse,
    /// Not selected by `--countries` but in the previous run: its outputs are carried over as they
    /// are (even if its inputs changed since; its previous key stays in the manifest, so the next
    /// run that selects it sees the change).
    Keep,
}

/// A country's key and the hashes of its delivery files (relative path -> sha256).
#[derive(Debug, Clone)]
pub struct CountryKey {
    pub entry: StageEntry,
    pub files: BTreeMap<String, String>,
    /// The inputs are not hashed yet ([`deferred_country_key`]): `entry.inputs` and `entry.key` are empty until
    /// [`complete_key`] fills them from the hashes of the bytes the run read.
    pub deferred: bool,
}

/// Hash of the definitions shared by every country: tool, key fingerprint, schema and pipelines files.
pub fn definitions_hash(base: &Manifest, indicators: bool) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "{}\0{}\0{:?}\0{}\0indicators={indicators}\0",
        base.tool.name, base.tool.version, base.tool.git_commit, base.pseudonym_key_fingerprint
    ));
    for f in &base.schemas {
        h.update(format!("schema\0{}\0{}\0", f.path, f.sha256));
    }
    for f in base
        .configs
        .iter()
        .filter(|f| f.path.starts_with("pipelines/"))
    {
        h.update(format!("pipeline\0{}\0{}\0", f.path, f.sha256));
    }
    hex::encode(h.finalize())
}

/// Hashes a country's config files and delivery files into its key.
pub fn country_key(
    config: &CountryConfig,
    raw_dir: &Path,
    config_dir: &Path,
    definitions: &str,
) -> Result<CountryKey, String> {
    let mut key = deferred_country_key(config, config_dir, definitions)?;
    let (inputs_hash, files) = inputs_hash(config, raw_dir)?;
    set_inputs(&mut key, inputs_hash, files);
    Ok(key)
}

/// A country's key without its inputs, for a country computed whatever its inputs (`--force`, no previous run
/// of it): its delivery files are hashed as the run reads them, once, and [`complete_key`] then fills the key.
pub fn deferred_country_key(
    config: &CountryConfig,
    config_dir: &Path,
    definitions: &str,
) -> Result<CountryKey, String> {
    Ok(CountryKey {
        entry: StageEntry {
            country: config.country.iso3.clone(),
            stage: COUNTRY_STAGE.to_string(),
            key: String::new(),
            inputs: String::new(),
            config: config_hash(config, config_dir)?,
            definitions: definitions.to_string(),
        },
        files: BTreeMap::new(),
        deferred: true,
    })
}

/// Fills a deferred key's inputs from the hashes of the delivery files as the run read them (relative path ->
/// sha256); a file the run did not record is hashed here. The key is then what [`country_key`] computes for the
/// same files. A key that is not deferred is left as it is.
pub fn complete_key(
    key: &mut CountryKey,
    config: &CountryConfig,
    raw_dir: &Path,
    read: &BTreeMap<String, String>,
) -> Result<(), String> {
    if !key.deferred {
        return Ok(());
    }
    let (inputs_hash, files) = inputs_digest(config, raw_dir, |rel, path| match read.get(rel) {
        Some(sha) => Ok(sha.clone()),
        None => sha256_file(path).map_err(|e| e.to_string()),
    })?;
    set_inputs(key, inputs_hash, files);
    Ok(())
}

fn set_inputs(key: &mut CountryKey, inputs_hash: String, files: BTreeMap<String, String>) {
    let mut digest = Sha256::new();
    digest.update(format!(
        "{}\0{}\0{inputs_hash}",
        key.entry.definitions, key.entry.config
    ));
    key.entry.key = hex::encode(digest.finalize());
    key.entry.inputs = inputs_hash;
    key.files = files;
    key.deferred = false;
}

/// Hash of a country's configuration files (its own file and `_defaults.toml`): the `config` part of its key.
pub fn config_hash(config: &CountryConfig, config_dir: &Path) -> Result<String, String> {
    let mut cfg = Sha256::new();
    for path in &config.source_files {
        let sha = sha256_file(path).map_err(|e| e.to_string())?;
        cfg.update(format!("{}\0{sha}\0", relative_path(path, config_dir)));
    }
    Ok(hex::encode(cfg.finalize()))
}

/// Hash of a country's delivery files (the `inputs` part of its key; every part of a multi-file delivery) and each
/// file's hash by path relative to the raw folder.
pub fn inputs_hash(
    config: &CountryConfig,
    raw_dir: &Path,
) -> Result<(String, BTreeMap<String, String>), String> {
    inputs_digest(config, raw_dir, |rel, path| {
        // Only regular files are hashed: a FIFO would block and a device never ends (the read stage refuses them).
        if path.exists() && !path.is_file() {
            return Err(format!("{rel}: not a regular file"));
        }
        sha256_file(path).map_err(|e| e.to_string())
    })
}

/// The `inputs` hash of a country's delivery files, each file's hash given by `sha` (relative path, full path).
fn inputs_digest(
    config: &CountryConfig,
    raw_dir: &Path,
    sha: impl Fn(&str, &Path) -> Result<String, String>,
) -> Result<(String, BTreeMap<String, String>), String> {
    let iso3 = &config.country.iso3;
    let mut files = BTreeMap::new();
    let mut inp = Sha256::new();
    // every file of a table delivered as several files (`parts`), in config order
    for (table, delivery) in crate::deliveries::delivered(config) {
        for file in delivery.file_names() {
            let path = delivery_path(raw_dir, iso3, file);
            let rel = relative_path(&path, raw_dir);
            let sha = sha(&rel, &path)?;
            inp.update(format!("{table}\0{rel}\0{sha}\0"));
            files.insert(rel, sha);
        }
    }
    Ok((hex::encode(inp.finalize()), files))
}

/// The previous run's manifest in `OUT`, if any and readable.
pub fn previous_manifest(out: &Path) -> Option<Manifest> {
    let bytes = std::fs::read(out.join(MANIFEST_FILE)).ok()?;
    Manifest::from_bytes(&bytes).ok()
}

/// Decides whether a country runs, comparing its key with the previous manifest's.
pub fn decide(
    key: &Result<CountryKey, String>,
    previous: Option<&Manifest>,
    out: &Path,
    force: bool,
) -> Decision {
    let key = match key {
        Ok(k) => k,
        Err(m) => return Decision::Run(Reason::Unhashable(m.clone())),
    };
    if force {
        return Decision::Run(Reason::Forced);
    }
    let Some(prev) = previous else {
        return Decision::Run(Reason::NoPreviousRun);
    };
    let iso3 = &key.entry.country;
    let Some(old) = prev
        .stages
        .iter()
        .find(|s| &s.country == iso3 && s.stage == COUNTRY_STAGE)
    else {
        return Decision::Run(Reason::NewCountry);
    };
    if !prev
        .countries
        .iter()
        .any(|c| &c.country == iso3 && c.status.is_ok())
    {
        return Decision::Run(Reason::PreviousFailed);
    }
    if old.definitions != key.entry.definitions {
        return Decision::Run(Reason::ChangedDefinition);
    }
    if old.config != key.entry.config {
        return Decision::Run(Reason::ChangedConfig);
    }
    if old.inputs != key.entry.inputs || old.key != key.entry.key {
        let before: HashMap<&str, &str> = prev
            .inputs
            .iter()
            .filter(|i| &i.country == iso3)
            .map(|i| (i.path.as_str(), i.sha256.as_str()))
            .collect();
        let changed: Vec<String> = key
            .files
            .iter()
            .filter(|(p, sha)| before.get(p.as_str()) != Some(&sha.as_str()))
            .map(|(p, _)| p.clone())
            .collect();
        return Decision::Run(Reason::ChangedDelivery(changed));
    }
    match outputs_intact(prev, out, |o| &o.country == iso3) {
        Ok(()) => Decision::Reuse,
        Err(path) => Decision::Run(Reason::PreviousOutputsMissing(path)),
    }
}

/// Checks that every previous output `which` selects is in `out` with the bytes the manifest records: the size
/// first (cheap), then the hash, so that a file altered in place is recomputed rather than carried over under a
/// wrong hash. `Err` names the first file that is missing or altered.
pub fn outputs_intact(
    previous: &Manifest,
    out: &Path,
    which: impl Fn(&crate::manifest::OutputEntry) -> bool,
) -> Result<(), String> {
    for o in previous.outputs.iter().filter(|o| which(o)) {
        let path = out.join(&o.path);
        let ok = std::fs::metadata(&path).is_ok_and(|m| m.len() == o.bytes)
            && sha256_file(&path).is_ok_and(|sha| sha == o.sha256);
        if !ok {
            return Err(o.path.clone());
        }
    }
    Ok(())
}

/// Links (or copies) a reused country's previous files into the staging folder. `out` is the folder the
/// `previous` manifest describes: the run's own `OUT`, or a shard of `dh merge`.
pub fn stage_previous_outputs(
    iso3: &str,
    previous: &Manifest,
    out: &Path,
    staging: &Staging,
) -> Result<(), String> {
    for o in previous.outputs.iter().filter(|o| o.country == iso3) {
        let from = out.join(&o.path);
        let to = staging.path(&o.path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        // A hard link shares the file's mode, which publication sets: only a file of the user running dh is
        // linked (another user's file, e.g. in a shard written by a scheduler account, is copied).
        if !same_owner(&from, staging.root()) || std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", from.display()))?;
        }
    }
    Ok(())
}

/// Whether `file` has the owner of `ours` (a folder this process created).
fn same_owner(file: &Path, ours: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(file), std::fs::metadata(ours)) {
            (Ok(a), Ok(b)) => a.uid() == b.uid(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, ours);
        true
    }
}

/// The previous run's indicator rows, by country, read back from `OUT/indicators/indicators.parquet` once the
/// file is checked against the previous manifest (listed, same size and hash).
pub fn previous_indicator_rows(
    previous: &Manifest,
    out: &Path,
) -> Result<BTreeMap<String, Vec<EstimateRow>>, String> {
    if !previous
        .outputs
        .iter()
        .any(|o| o.path == INDICATORS_PARQUET)
    {
        return Err(format!(
            "{INDICATORS_PARQUET} is not in the previous manifest"
        ));
    }
    outputs_intact(previous, out, |o| o.path == INDICATORS_PARQUET)?;
    let path = out.join(INDICATORS_PARQUET);
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut methods: HashMap<String, &'static str> = HashMap::new();
    let mut rows: BTreeMap<String, Vec<EstimateRow>> = BTreeMap::new();
    for batch in reader {
        let batch = batch.map_err(|e| format!("{}: {e}", path.display()))?;
        read_rows(&batch, &mut methods, &mut rows)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(rows)
}

fn read_rows(
    batch: &RecordBatch,
    methods: &mut HashMap<String, &'static str>,
    rows: &mut BTreeMap<String, Vec<EstimateRow>>,
) -> Result<(), String> {
    let col = |name: &str| {
        batch
            .column_by_name(name)
            .ok_or_else(|| format!("column `{name}` missing"))
    };
    let text = |name: &str| -> Result<Vec<String>, String> {
        let c = col(name)?;
        let s = c
            .as_string_opt::<i32>()
            .ok_or_else(|| format!("column `{name}` is not text"))?;
        Ok(s.iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    let float = |name: &str| -> Result<Vec<Option<f64>>, String> {
        let c = col(name)?;
        let f = c
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| format!("column `{name}` is not Float64"))?;
        Ok(f.iter().collect())
    };
    let country = text("country")?;
    let indicator = text("indicator")?;
    let version = text("indicator_version")?;
    let domain = text("domain")?;
    let value = text("domain_value")?;
    let [estimate, se, lo, hi, df, deff, n_weighted, population] = [
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "df",
        "deff",
        "n_weighted",
        "population_estimate",
    ]
    .map(float);
    let (estimate, se, lo, hi, df, deff, n_weighted, population) = (
        estimate?,
        se?,
        lo?,
        hi?,
        df?,
        deff?,
        n_weighted?,
        population?,
    );
    let method = text("ci_method")?;
    let statistic = text("statistic")?;
    let flag = text("flag")?;
    let flags = text("flags")?;
    let n_unweighted = col("n_unweighted")?
        .as_primitive_opt::<UInt64Type>()
        .ok_or("column `n_unweighted` is not UInt64")?
        .clone();
    for i in 0..batch.num_rows() {
        let ci_method = *methods
            .entry(method[i].clone())
            .or_insert_with(|| Box::leak(method[i].clone().into_boxed_str()));
        let statistic = *methods
            .entry(statistic[i].clone())
            .or_insert_with(|| Box::leak(statistic[i].clone().into_boxed_str()));
        let mut row = EstimateRow {
            indicator: indicator[i].clone(),
            indicator_version: version[i].clone(),
            statistic,
            domain: domain[i].clone(),
            domain_value: value[i].clone(),
            estimate: estimate[i],
            se: se[i],
            ci_lower: lo[i],
            ci_upper: hi[i],
            ci_method,
            df: df[i],
            deff: deff[i],
            n_unweighted: n_unweighted.value(i) as usize,
            n_weighted: n_weighted[i].ok_or("n_weighted is null")?,
            population_estimate: population[i],
            flag: Flag::parse(&flag[i]).ok_or_else(|| format!("unknown flag `{}`", flag[i]))?,
            flags: Flags::OK,
        };
        let all = Flags::parse(&flags[i]).ok_or_else(|| format!("unknown flags `{}`", flags[i]))?;
        if all.primary() != row.flag {
            return Err(format!(
                "flag `{}` is not the first of flags `{}`",
                flag[i], flags[i]
            ));
        }
        row.set_flags(all);
        rows.entry(country[i].clone()).or_default().push(row);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{CountryEntry, CountryStatus, InputEntry};

    fn entry(inputs: &str, config: &str, definitions: &str) -> StageEntry {
        StageEntry {
            country: "THA".into(),
            stage: COUNTRY_STAGE.into(),
            key: format!("{inputs}{config}{definitions}"),
            inputs: inputs.into(),
            config: config.into(),
            definitions: definitions.into(),
        }
    }

    fn previous() -> Manifest {
        Manifest {
            stages: vec![entry("i", "c", "d")],
            countries: vec![CountryEntry {
                country: "THA".into(),
                status: CountryStatus::Ok,
                error: None,
                not_delivered: Vec::new(),
                stale_from: None,
            }],
            inputs: vec![InputEntry {
                path: "THA/child.csv".into(),
                country: "THA".into(),
                sha256: "old".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn key(e: StageEntry, sha: &str) -> Result<CountryKey, String> {
        Ok(CountryKey {
            entry: e,
            files: [("THA/child.csv".to_string(), sha.to_string())].into(),
            deferred: false,
        })
    }

    #[test]
    fn decisions_name_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let prev = previous();
        let out = dir.path();
        assert_eq!(
            decide(&key(entry("i", "c", "d"), "old"), Some(&prev), out, false),
            Decision::Reuse
        );
        assert_eq!(
            decide(&key(entry("i", "c", "d"), "old"), Some(&prev), out, true),
            Decision::Run(Reason::Forced)
        );
        assert_eq!(
            decide(&key(entry("i", "c", "d"), "old"), None, out, false),
            Decision::Run(Reason::NoPreviousRun)
        );
        assert_eq!(
            decide(&key(entry("j", "c", "d"), "new"), Some(&prev), out, false),
            Decision::Run(Reason::ChangedDelivery(vec!["THA/child.csv".into()]))
        );
        assert_eq!(
            decide(&key(entry("i", "x", "d"), "old"), Some(&prev), out, false),
            Decision::Run(Reason::ChangedConfig)
        );
        assert_eq!(
            decide(&key(entry("i", "c", "x"), "old"), Some(&prev), out, false),
            Decision::Run(Reason::ChangedDefinition)
        );
        assert!(matches!(
            decide(&Err("gone".into()), Some(&prev), out, false),
            Decision::Run(Reason::Unhashable(_))
        ));
    }

    #[test]
    fn flags_round_trip() {
        for f in Flag::ALL {
            assert_eq!(Flag::parse(f.as_str()), Some(f));
        }
        assert_eq!(Flag::parse("nope"), None);
    }
}
