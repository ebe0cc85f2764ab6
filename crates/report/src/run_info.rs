//! What the report shows about the run itself, read from its outputs: the manifest (tool version, the manifest's
//! own SHA-256, country status, the row ledger per input, weighting diagnostics when the manifest records them),
//! the quarantine tables (rows by reason code; raw values are never read) and the design columns of the
//! normalised child table (rows, strata, PSUs).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use dh_manifest::Manifest;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ReportError;

/// The design columns whose distinct values the design summary counts; the normalised table that has them is the
/// design table (the report reads `OUT` only, not the schemas that name it).
pub const DESIGN_COLUMNS: [&str; 2] = ["stratum", "psu"];

#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub tool_name: String,
    pub tool_version: String,
    /// [`manifest_digest`] of the run's manifest.
    pub manifest_sha256: String,
    /// ISO3 -> what the run recorded for that country.
    pub countries: BTreeMap<String, CountryRun>,
}

#[derive(Debug, Clone, Default)]
pub struct CountryRun {
    /// The manifest's status as written (`ok`, `failed`, `stale`; see [`dh_manifest::CountryStatus`]); empty for a
    /// country with inputs or outputs but no `countries[]` entry.
    pub status: String,
    pub error: Option<String>,
    pub ledger: Vec<LedgerLine>,
    /// Quarantined rows by reason code (a row with two reasons counts under both).
    pub quarantine_reasons: BTreeMap<String, u64>,
    pub design: Option<DesignSummary>,
    /// Scalar weighting diagnostics as the manifest records them (name, value), in the manifest's order.
    pub weighting: Vec<(String, String)>,
    /// Routing findings (manifest `consistency`): rows kept as delivered whose answer disagrees with the column's
    /// universe.
    pub routing: Vec<RoutingLine>,
    /// Tables the country did not deliver (manifest `countries[].not_delivered`).
    pub not_delivered: Vec<String>,
    /// For a `stale` country (this run failed; its last good outputs are kept): the hash of the deliveries those
    /// outputs were computed from (manifest `countries[].stale_from.inputs`).
    pub stale_inputs: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingLine {
    pub path: String,
    pub column: String,
    pub issue: String,
    pub rows: u64,
    pub first_row: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LedgerLine {
    pub path: String,
    pub table: String,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesignSummary {
    pub rows: u64,
    pub strata: u64,
    pub psus: u64,
}

/// Reads `OUT/manifest.json` and the outputs it lists. The manifest is read with its own types
/// ([`dh_manifest::Manifest`]): a missing, renamed or unknown field is an error naming the field, never a blank.
pub fn read_run_info(out_dir: &Path) -> Result<RunInfo, ReportError> {
    let path = out_dir.join("manifest.json");
    let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReportError::MissingInput {
            path: path.clone(),
            hint: "run `dh run` first".into(),
        },
        _ => ReportError::io(&path, e),
    })?;
    let json_error = |message: String| ReportError::Json {
        path: path.clone(),
        message,
    };
    let manifest = Manifest::from_bytes(&bytes).map_err(|e| json_error(e.to_string()))?;
    // The digest is taken over the file's JSON as written, not over a re-serialisation.
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| json_error(e.to_string()))?;
    let mut info = RunInfo {
        tool_name: manifest.tool.name.clone(),
        tool_version: manifest.tool.version.clone(),
        manifest_sha256: manifest_digest(&value),
        countries: BTreeMap::new(),
    };
    for c in &manifest.countries {
        info.countries.insert(
            c.country.clone(),
            CountryRun {
                status: c.status.as_str().to_string(),
                error: c.error.clone(),
                not_delivered: c.not_delivered.clone(),
                stale_inputs: c.stale_from.as_ref().map(|f| f.inputs.clone()),
                ..Default::default()
            },
        );
    }
    for input in &manifest.inputs {
        let entry = info.countries.entry(input.country.clone()).or_default();
        entry.ledger.push(LedgerLine {
            path: input.path.clone(),
            table: input.table.clone(),
            rows_read: input.rows_read,
            rows_written: input.rows_written,
            rows_quarantined: input.rows_quarantined,
        });
    }
    read_outputs(out_dir, &manifest, &mut info)?;
    for c in &manifest.consistency {
        info.countries
            .entry(c.country.clone())
            .or_default()
            .routing
            .push(RoutingLine {
                path: c.path.clone(),
                column: c.column.clone(),
                issue: c.issue.clone(),
                rows: c.rows,
                first_row: c.first_row,
            });
    }
    for w in &manifest.weighting {
        let diagnostics = serde_json::to_value(w).map_err(|e| json_error(e.to_string()))?;
        info.countries
            .entry(w.country.clone())
            .or_default()
            .weighting = scalars("", &diagnostics);
    }
    Ok(info)
}

/// Quarantine reasons and the design summary, from the quarantine and normalised design-table files the manifest
/// lists (the design table being the one with the [`DESIGN_COLUMNS`]).
fn read_outputs(
    out_dir: &Path,
    manifest: &Manifest,
    info: &mut RunInfo,
) -> Result<(), ReportError> {
    use rayon::prelude::*;
    /// What one listed file tells the report.
    enum Found {
        Reasons(BTreeMap<String, u64>),
        Design(DesignSummary),
        Nothing,
    }
    // each file read on its own (in parallel), the findings merged in manifest order
    let found: Vec<Result<Found, ReportError>> = manifest
        .outputs
        .par_iter()
        .map(|output| {
            let file = out_dir.join(&output.path);
            if output.kind == "quarantine" && file.is_file() {
                quarantine_reasons(&file).map(Found::Reasons)
            } else if output.kind == "normalised"
                && file.is_file()
                && has_columns(&file, &DESIGN_COLUMNS)?
            {
                design_summary(&file).map(Found::Design)
            } else {
                Ok(Found::Nothing)
            }
        })
        .collect();
    for (output, found) in manifest.outputs.iter().zip(found) {
        match found? {
            Found::Reasons(reasons) => {
                let entry = info.countries.entry(output.country.clone()).or_default();
                for (reason, rows) in reasons {
                    *entry.quarantine_reasons.entry(reason).or_default() += rows;
                }
            }
            Found::Design(design) => {
                info.countries
                    .entry(output.country.clone())
                    .or_default()
                    .design = Some(design);
            }
            Found::Nothing => {}
        }
    }
    Ok(())
}

/// Output folders written by the report itself; the digest leaves their manifest entries out.
pub const REPORT_OUTPUT_PREFIXES: [&str; 2] = ["report/", "tables/"];

/// SHA-256 of the manifest in canonical form (compact JSON, keys sorted) without the entries of the report's own
/// files. The report cannot name the hash of a manifest that lists the report's hashes; this digest is the same
/// whether the manifest lists them or not, so a report built by `dh run` and one rebuilt by `dh report` agree.
/// Reproduce in Python: load the JSON, drop those `outputs`, `json.dumps(m, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)`, SHA-256 of the UTF-8 bytes (checked on a real run's manifest).
pub fn manifest_digest(manifest: &Value) -> String {
    let mut canonical = manifest.clone();
    if let Some(Value::Array(outputs)) = canonical.get_mut("outputs") {
        outputs.retain(|o| {
            let path = o.get("path").and_then(Value::as_str).unwrap_or("");
            !REPORT_OUTPUT_PREFIXES.iter().any(|p| path.starts_with(p))
        });
    }
    // serde_json's map keeps keys sorted (no `preserve_order`), so this is the canonical form.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// Flattens an object's scalar fields (nested objects as `outer.inner`), skipping `country` and lists.
fn scalars(prefix: &str, value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(map) = value {
        for (key, v) in map {
            if prefix.is_empty() && key == "country" {
                continue;
            }
            let name = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match v {
                Value::Object(_) => out.extend(scalars(&name, v)),
                Value::Number(n) => out.push((name, diagnostic_number(n))),
                Value::Bool(b) => out.push((name, b.to_string())),
                Value::String(s) => out.push((name, s.clone())),
                _ => {}
            }
        }
    }
    out
}

/// Integers as written; other numbers with four decimals, or in scientific notation when tiny (e.g. a margin
/// error of 1e-12).
fn diagnostic_number(n: &serde_json::Number) -> String {
    if n.is_u64() || n.is_i64() {
        return n.to_string();
    }
    match n.as_f64() {
        Some(x) if x != 0.0 && x.abs() < 1e-3 => format!("{x:.2e}"),
        Some(x) => format!("{x:.4}"),
        None => n.to_string(),
    }
}

pub(crate) fn open_columns(
    file: &Path,
    columns: &[&str],
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, ReportError> {
    let err = |e: &dyn std::fmt::Display| ReportError::Parquet {
        path: file.to_path_buf(),
        message: e.to_string(),
    };
    let handle = File::open(file).map_err(|e| ReportError::io(file, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(handle).map_err(|e| err(&e))?;
    let schema = builder.parquet_schema();
    let mut indices = Vec::new();
    for name in columns {
        let index = schema
            .columns()
            .iter()
            .position(|c| c.name() == *name)
            .ok_or_else(|| ReportError::Column {
                path: file.to_path_buf(),
                column: (*name).into(),
                expected: "present".into(),
            })?;
        indices.push(index);
    }
    let mask = ProjectionMask::leaves(schema, indices);
    builder.with_projection(mask).build().map_err(|e| err(&e))
}

/// Whether the Parquet file has every one of `columns`.
fn has_columns(file: &Path, columns: &[&str]) -> Result<bool, ReportError> {
    let handle = File::open(file).map_err(|e| ReportError::io(file, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(handle).map_err(|e| ReportError::Parquet {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
    let schema = builder.parquet_schema();
    Ok(columns
        .iter()
        .all(|name| schema.columns().iter().any(|c| c.name() == *name)))
}

/// Rows by reason code: distinct (`source_file`, `row_number`) per `reason_code`.
fn quarantine_reasons(file: &Path) -> Result<BTreeMap<String, u64>, ReportError> {
    let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
    for batch in open_columns(file, &["source_file", "row_number", "reason_code"])? {
        let batch = batch.map_err(|e| ReportError::Parquet {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
        let source = strings(file, &batch, "source_file")?;
        let rows = cells(file, &batch, "row_number")?;
        let reasons = strings(file, &batch, "reason_code")?;
        for i in 0..batch.num_rows() {
            seen.insert((reasons[i].clone(), source[i].clone(), rows[i].clone()));
        }
    }
    let mut counts = BTreeMap::new();
    for (reason, _, _) in seen {
        *counts.entry(reason).or_default() += 1;
    }
    Ok(counts)
}

/// Rows, distinct strata and distinct PSUs of a normalised design table.
fn design_summary(file: &Path) -> Result<DesignSummary, ReportError> {
    // stratum -> its PSUs; looked up by borrowed text, so a row already seen allocates nothing
    let mut psus_of: HashMap<String, HashSet<String>> = HashMap::new();
    let mut rows = 0u64;
    for batch in open_columns(file, &DESIGN_COLUMNS)? {
        let batch = batch.map_err(|e| ReportError::Parquet {
            path: file.to_path_buf(),
            message: e.to_string(),
        })?;
        rows += batch.num_rows() as u64;
        let stratum = text_column(file, &batch, "stratum")?;
        let psu = text_column(file, &batch, "psu")?;
        let (stratum, psu) = (stratum.as_string::<i32>(), psu.as_string::<i32>());
        // rows of one PSU usually come together: a row like the one before adds nothing and is not looked up
        let mut before: Option<(&str, &str)> = None;
        for i in 0..batch.num_rows() {
            let (s, p) = (text_cell(stratum, i), text_cell(psu, i));
            if before == Some((s, p)) {
                continue;
            }
            before = Some((s, p));
            match psus_of.get_mut(s) {
                Some(psus) => {
                    if !psus.contains(p) {
                        psus.insert(p.to_string());
                    }
                }
                None => {
                    psus_of.insert(s.to_string(), HashSet::from([p.to_string()]));
                }
            }
        }
    }
    Ok(DesignSummary {
        rows,
        strata: psus_of.len() as u64,
        psus: psus_of.values().map(|p| p.len() as u64).sum(),
    })
}

/// A column as one Utf8 array (whatever its type: dictionaries and numbers are cast), for set operations
/// without a `String` per cell.
fn text_column(
    file: &Path,
    batch: &arrow::array::RecordBatch,
    name: &str,
) -> Result<arrow::array::ArrayRef, ReportError> {
    arrow::compute::cast(column(file, batch, name)?, &DataType::Utf8).map_err(|e| {
        ReportError::Parquet {
            path: file.to_path_buf(),
            message: e.to_string(),
        }
    })
}

/// The column `name` of a batch read from `file`.
fn column<'b>(
    file: &Path,
    batch: &'b arrow::array::RecordBatch,
    name: &str,
) -> Result<&'b arrow::array::ArrayRef, ReportError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| ReportError::Column {
            path: file.to_path_buf(),
            column: name.into(),
            expected: "present".into(),
        })
}

/// A cell of a Utf8 array, a null as empty (as [`cells`] shows it).
fn text_cell(a: &arrow::array::StringArray, i: usize) -> &str {
    if a.is_null(i) { "" } else { a.value(i) }
}

fn strings(
    file: &Path,
    batch: &arrow::array::RecordBatch,
    name: &str,
) -> Result<Vec<String>, ReportError> {
    cells(file, batch, name)
}

/// Any column's cells as text (nulls as empty), through Arrow's display formatter.
pub(crate) fn cells(
    file: &Path,
    batch: &arrow::array::RecordBatch,
    name: &str,
) -> Result<Vec<String>, ReportError> {
    let col = column(file, batch, name)?;
    if col.data_type() == &DataType::Utf8 {
        return Ok(col
            .as_string::<i32>()
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect());
    }
    let formatter = arrow::util::display::ArrayFormatter::try_new(
        col.as_ref(),
        &arrow::util::display::FormatOptions::default(),
    )
    .map_err(|e| ReportError::Parquet {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok((0..col.len())
        .map(|i| {
            if col.is_null(i) {
                String::new()
            } else {
                formatter.value(i).to_string()
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dh_manifest::{CountryEntry, CountryStatus, StaleFrom, ToolInfo};

    fn country(iso3: &str, status: CountryStatus) -> CountryEntry {
        CountryEntry {
            country: iso3.into(),
            status,
            error: None,
            not_delivered: Vec::new(),
            stale_from: None,
        }
    }

    /// Writes `manifest` to a new folder's `manifest.json`, passing its JSON text through `edit` first.
    fn out_with(manifest: &Manifest, edit: impl Fn(String) -> String) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut m = manifest.clone();
        m.tool = ToolInfo {
            name: "dh".into(),
            version: "0.1.0".into(),
            git_commit: None,
        };
        m.finalise();
        let text = String::from_utf8(m.to_bytes().unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("manifest.json"), edit(text))
            .unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    /// Counts strata and (stratum, PSU) pairs of random columns (runs of equal rows, nulls, small row groups)
    /// and compares them with a plain count over every row.
    #[test]
    fn design_summary_counts_distinct_strata_and_psus_of_every_row() {
        use arrow::array::{ArrayRef, RecordBatch, StringArray};
        use std::collections::BTreeSet;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for case in 0..20 {
            let rows = 1 + next(400) as usize;
            let mut stratum: Vec<Option<String>> = Vec::new();
            let mut psu: Vec<Option<String>> = Vec::new();
            while stratum.len() < rows {
                let (s, p) = (next(4), next(6));
                for _ in 0..1 + next(5) {
                    stratum.push((s != 0).then(|| format!("s{s}")));
                    psu.push((p != 0).then(|| format!("p{p}")));
                }
            }
            let expected_strata: BTreeSet<&str> =
                stratum.iter().map(|s| s.as_deref().unwrap_or("")).collect();
            let expected_psus: BTreeSet<(&str, &str)> = stratum
                .iter()
                .zip(&psu)
                .map(|(s, p)| (s.as_deref().unwrap_or(""), p.as_deref().unwrap_or("")))
                .collect();
            let batch = RecordBatch::try_from_iter([
                (
                    "stratum",
                    Arc::new(StringArray::from(stratum.clone())) as ArrayRef,
                ),
                ("psu", Arc::new(StringArray::from(psu.clone())) as ArrayRef),
            ])
            .unwrap();
            let path = dir.path().join(format!("design{case}.parquet"));
            let props = parquet::file::properties::WriterProperties::builder()
                .set_max_row_group_size(1 + next(50) as usize)
                .build();
            let mut writer = parquet::arrow::ArrowWriter::try_new(
                std::fs::File::create(&path).unwrap(),
                batch.schema(),
                Some(props),
            )
            .unwrap();
            writer.write(&batch).unwrap();
            writer.close().unwrap();
            let summary = design_summary(&path).unwrap();
            assert_eq!(summary.rows, stratum.len() as u64, "case {case}");
            assert_eq!(summary.strata, expected_strata.len() as u64, "case {case}");
            assert_eq!(summary.psus, expected_psus.len() as u64, "case {case}");
        }
    }

    #[test]
    fn weighting_diagnostics_are_flattened_with_their_numbers_formatted() {
        let nested =
            serde_json::json!({"country": "THA", "converged": true, "after": {"max": 3.5}});
        assert_eq!(
            scalars("", &nested),
            vec![
                ("after.max".to_string(), "3.5000".to_string()),
                ("converged".to_string(), "true".to_string())
            ]
        );
        let tiny = serde_json::json!({"e": 3.2e-12, "n": 1014, "r": 12.345678});
        assert_eq!(
            scalars("", &tiny),
            vec![
                ("e".to_string(), "3.20e-12".to_string()),
                ("n".to_string(), "1014".to_string()),
                ("r".to_string(), "12.3457".to_string())
            ]
        );
    }

    #[test]
    fn weighting_diagnostics_are_read_from_the_typed_entry() {
        let mut m = Manifest::default();
        m.countries.push(country("THA", CountryStatus::Ok));
        m.weighting.push(dh_manifest::WeightingEntry {
            country: "THA".into(),
            n: 1014,
            converged: true,
            ..Default::default()
        });
        m.weighting[0].final_weights.kish_deff = 1.25;
        let dir = out_with(&m, |t| t);
        let info = read_run_info(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let w = &info.countries["THA"].weighting;
        assert!(w.contains(&("n".to_string(), "1014".to_string())), "{w:?}");
        assert!(
            w.contains(&("final.kish_deff".to_string(), "1.2500".to_string())),
            "{w:?}"
        );
        assert!(!w.iter().any(|(k, _)| k == "country"), "{w:?}");
    }

    #[test]
    fn the_digest_ignores_the_reports_own_entries_and_key_order() {
        let a = serde_json::json!({"tool": {"name": "dh"}, "outputs": [{"path": "indicators/i.parquet"}]});
        let b: Value = serde_json::from_str(
            r#"{"outputs": [{"path": "indicators/i.parquet"}, {"path": "report/index.html"},
                {"path": "tables/indicators.xlsx"}], "tool": {"name": "dh"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifest_digest(&a), manifest_digest(&b));
        let c = serde_json::json!({"tool": {"name": "dh"}, "outputs": [{"path": "indicators/j.parquet"}]});
        assert_ne!(manifest_digest(&a), manifest_digest(&c));
        assert_eq!(manifest_digest(&a).len(), 64);
    }

    #[test]
    fn tables_not_delivered_are_read_from_the_country_entry() {
        let mut jor = country("JOR", CountryStatus::Ok);
        jor.not_delivered = vec!["police_cases".into()];
        let m = Manifest {
            countries: vec![jor, country("THA", CountryStatus::Ok)],
            ..Default::default()
        };
        let dir = out_with(&m, |t| t);
        let info = read_run_info(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.countries["JOR"].not_delivered, ["police_cases"]);
        assert!(info.countries["THA"].not_delivered.is_empty());
        assert_eq!(info.tool_version, "0.1.0");
    }

    #[test]
    fn a_stale_country_names_the_deliveries_its_outputs_came_from() {
        let mut ken = country("KEN", CountryStatus::Stale);
        ken.error = Some("read: missing".into());
        ken.stale_from = Some(StaleFrom {
            key: "k1".into(),
            inputs: "abc".into(),
        });
        let m = Manifest {
            countries: vec![ken, country("THA", CountryStatus::Ok)],
            ..Default::default()
        };
        let dir = out_with(&m, |t| t);
        let info = read_run_info(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.countries["KEN"].status, "stale");
        assert_eq!(info.countries["KEN"].stale_inputs.as_deref(), Some("abc"));
        assert_eq!(info.countries["THA"].stale_inputs, None);
    }

    #[test]
    fn a_renamed_field_fails_with_a_message_naming_it() {
        let m = Manifest {
            countries: vec![country("THA", CountryStatus::Ok)],
            ..Default::default()
        };
        let renamed = out_with(&m, |t| t.replace("\"version\"", "\"tool_version\""));
        let err = read_run_info(renamed.path())
            .err()
            .unwrap_or_else(|| panic!("a renamed field was read"))
            .to_string();
        assert!(
            err.contains("tool_version") && err.contains("manifest.json"),
            "{err}"
        );
        let missing = out_with(&m, |t| {
            t.lines()
                .filter(|l| !l.contains("\"country\": \"THA\""))
                .collect::<Vec<_>>()
                .join("\n")
        });
        let err = read_run_info(missing.path())
            .err()
            .unwrap_or_else(|| panic!("a missing field was read"))
            .to_string();
        assert!(err.contains("missing field `country`"), "{err}");
    }

    #[test]
    fn a_missing_manifest_says_to_run_first() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let err = read_run_info(dir.path()).unwrap_err();
        assert!(err.to_string().contains("dh run"), "{err}");
    }
}
