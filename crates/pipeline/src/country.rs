//! One country's stages: read every delivery, normalise them together (the caregiver-child link spans tables),
//! write each table's harmonised and quarantine Parquet into the staging folder, and account for every row.
//!
//! Memory: a country's raw tables are dropped as soon as normalisation has used them and its batches as soon as
//! they are written; only the small manifest entries leave this module. A delivery larger than one batch
//! (`DH_BATCH_ROWS`, default 262,144 rows) is never held whole: it is read twice and written batch by batch
//! ([`crate::batched`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use dh_config::{CountryConfig, SchemaSet};
use dh_ingest::RawTable;
use rayon::prelude::*;

use crate::batched::ReadRows;
use crate::error::CountryError;
use crate::hashing::sha256_file;
use crate::layout::{NORMALISED_DIR, QUARANTINE_DIR, Staging, partition_rel_path};
use crate::manifest::{ConsistencyEntry, InputEntry, OutputEntry, relative_path};
use crate::parquet_out::{OutputKind, write_parquet};
use crate::progress::{RunObserver, Stage};
use crate::runlog::{CountryTiming, millis};

/// What processing one country produced: manifest entries and timings, never data.
#[derive(Debug, Clone, Default)]
pub struct CountryReport {
    pub country: String,
    pub inputs: Vec<InputEntry>,
    pub outputs: Vec<OutputEntry>,
    pub timing: CountryTiming,
    /// Indicator rows and weight diagnostics (empty when the run has no indicator stage).
    pub estimates: crate::indicator_stage::CountryEstimates,
    /// Routing findings of the country's tables.
    pub consistency: Vec<ConsistencyEntry>,
    /// Configured tables the country did not deliver (`delivered = false`), sorted.
    pub not_delivered: Vec<String>,
}

/// Shared, read-only context of a run.
pub struct Context<'a> {
    pub raw_dir: &'a Path,
    pub schemas: &'a SchemaSet,
    pub key: &'a dh_normalise::PseudonymKey,
    /// Whether tables inside a country may run in parallel (only when countries do not already fill the pool, so a
    /// worker never holds more than one country).
    pub parallel_tables: bool,
    pub observer: &'a dyn RunObserver,
    /// Catalogue and pipeline settings of the weighting and indicator stage; `None` skips the stage.
    pub indicators: Option<&'a crate::indicator_stage::IndicatorSetup>,
    /// Set when the country was abandoned at its time limit: it then writes nothing more.
    pub cancelled: Option<&'a std::sync::atomic::AtomicBool>,
}

/// One read delivery with its provenance: one path and raw table per file of `Delivery::files` (config order).
pub struct ReadDelivery {
    pub table: String,
    pub paths: Vec<PathBuf>,
    pub raw: Vec<RawTable>,
}

/// One normalised table, ready to write.
pub struct NormalisedTable {
    pub table: String,
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub quarantine_schema: SchemaRef,
    pub quarantine: Vec<RecordBatch>,
    /// Distinct source rows rejected (a row with several problems counts once).
    pub rows_quarantined: u64,
    /// Delivery file as configured (relative to the country's raw folder; the files of a multi-file delivery,
    /// joined by `, `).
    pub source_file: String,
    /// The ledger of each delivered file, in config order.
    pub files: Vec<dh_normalise::FileLedger>,
    /// Routing findings in the written rows (kept as delivered).
    pub universe_findings: Vec<dh_normalise::consistency::UniverseFinding>,
    /// Per line of `quarantine` (in order): the id as delivered behind a key problem, for `dh validate` only; the run
    /// never writes it (see `dh_normalise::RawId`).
    pub raw_ids: Vec<Option<dh_normalise::RawId>>,
}

/// Path of a delivery file: `<raw-dir>/<ISO3>/<file>`.
pub fn delivery_path(raw_dir: &Path, iso3: &str, file: &str) -> PathBuf {
    raw_dir.join(iso3).join(file)
}

/// Reads every delivered table of a country (in parallel when allowed); tables marked `delivered = false` are not
/// read. When delivered files are missing, the error names every one of them.
pub fn read_deliveries(
    config: &CountryConfig,
    raw_dir: &Path,
    parallel: bool,
) -> Result<Vec<ReadDelivery>, CountryError> {
    let iso3 = config.country.iso3.as_str();
    let missing = crate::deliveries::missing_files(config, raw_dir);
    if !missing.is_empty() {
        return Err(CountryError::new(
            iso3,
            Stage::Read.as_str(),
            crate::deliveries::missing_files_message(&missing),
        ));
    }
    let read_one =
        |(table, delivery): (&String, &dh_config::Delivery)| -> Result<ReadDelivery, CountryError> {
            let mut read = ReadDelivery {
                table: table.clone(),
                paths: Vec::new(),
                raw: Vec::new(),
            };
            for file in delivery.files() {
                let path = delivery_path(raw_dir, iso3, &file.file);
                let raw = dh_ingest::read_delivery(&path, &file)
                    .map_err(|e| CountryError::new(iso3, Stage::Read.as_str(), e.to_string()))?;
                read.paths.push(path);
                read.raw.push(raw);
            }
            Ok(read)
        };
    let tables: Vec<(&String, &dh_config::Delivery)> =
        crate::deliveries::delivered(config).collect();
    if parallel {
        tables.into_par_iter().map(read_one).collect()
    } else {
        tables.into_iter().map(read_one).collect()
    }
}

/// Normalises a country's raw tables (its delivered tables; one raw table per file of a delivery) through its
/// config. Takes the raw tables by value and drops them before returning, so raw text and batches are not held at
/// the same time for longer than needed.
pub fn normalise(
    config: &CountryConfig,
    schemas: &SchemaSet,
    key: &dh_normalise::PseudonymKey,
    raw: BTreeMap<String, Vec<RawTable>>,
) -> Result<Vec<NormalisedTable>, CountryError> {
    let tables = normalise_borrowed(config, schemas, key, &raw)?;
    // A table whose every row was quarantined has no rows to publish: a data error of the country, like a
    // delivery without rows (`dh validate` lists the quarantined rows).
    if let Some(t) = tables
        .iter()
        .find(|t| t.batches.iter().all(|b| b.num_rows() == 0))
    {
        return Err(no_rows_left(
            config.country.iso3.as_str(),
            &t.table,
            t.rows_quarantined,
            &t.source_file,
        ));
    }
    Ok(tables)
}

/// [`normalise`] leaving the raw tables to the caller (`dh validate` reads raw ids from them afterwards).
pub fn normalise_borrowed(
    config: &CountryConfig,
    schemas: &SchemaSet,
    key: &dh_normalise::PseudonymKey,
    raw: &BTreeMap<String, Vec<RawTable>>,
) -> Result<Vec<NormalisedTable>, CountryError> {
    let iso3 = config.country.iso3.as_str();
    let delivered = crate::deliveries::delivered_config(config);
    let output = dh_normalise::normalise_country(&delivered, schemas, raw, key)
        .map_err(|e| CountryError::new(iso3, Stage::Normalise.as_str(), e.to_string()))?;
    Ok(normalised_tables(output))
}

fn normalised_tables(output: dh_normalise::CountryOutput) -> Vec<NormalisedTable> {
    output
        .tables
        .into_iter()
        .map(|(table, t)| NormalisedTable {
            table,
            schema: t.batch.schema(),
            batches: vec![t.batch],
            quarantine_schema: t.quarantine.schema(),
            quarantine: vec![t.quarantine],
            rows_quarantined: t.rows_quarantined,
            source_file: t.source_file,
            files: t.files,
            universe_findings: t.universe_findings,
            raw_ids: t.raw_ids,
        })
        .collect()
}

/// Whether the reader of `format` hashes the bytes it reads ([`crate::batched::TableRead::sha256`]), so that
/// its files need not be hashed apart from reading them.
pub fn hashed_while_read(format: dh_config::country::Format) -> bool {
    matches!(format, dh_config::country::Format::Csv)
}

/// Reads every delivered table of a country for a run ([`crate::batched::read`]: whole when it fits in one
/// batch, else the first pass over its batches), in parallel when allowed; with each table's file paths.
fn read_for_run(
    config: &CountryConfig,
    delivered: &CountryConfig,
    ctx: &Context<'_>,
) -> Result<Vec<(String, Vec<PathBuf>, crate::batched::TableRead)>, CountryError> {
    let iso3 = config.country.iso3.as_str();
    let missing = crate::deliveries::missing_files(config, ctx.raw_dir);
    if !missing.is_empty() {
        return Err(CountryError::new(
            iso3,
            Stage::Read.as_str(),
            crate::deliveries::missing_files_message(&missing),
        ));
    }
    let batch_rows = crate::batched::batch_rows();
    let read_one = |(table, delivery): (&String, &dh_config::Delivery)| {
        let job = crate::batched::TableJob {
            iso3,
            config: delivered,
            schemas: ctx.schemas,
            key: ctx.key,
            table,
            delivery,
            raw_dir: ctx.raw_dir,
        };
        let rows = crate::batched::read(&job, batch_rows)?;
        let paths = job.files().into_iter().map(|(_, p)| p).collect();
        Ok((table.clone(), paths, rows))
    };
    let tables: Vec<(&String, &dh_config::Delivery)> =
        crate::deliveries::delivered(config).collect();
    if ctx.parallel_tables {
        tables.into_par_iter().map(read_one).collect()
    } else {
        tables.into_iter().map(read_one).collect()
    }
}

/// The error of a table none of whose rows is left to publish.
fn no_rows_left(iso3: &str, table: &str, quarantined: u64, source_file: &str) -> CountryError {
    CountryError::new(
        iso3,
        Stage::Normalise.as_str(),
        format!(
            "table `{table}` of country {iso3} has no rows left: all {quarantined} rows of {source_file} were \
             quarantined; `dh validate --countries {iso3}` lists them"
        ),
    )
}

/// Runs all stages of one country, writing into `staging`. On failure the country's staged files are removed so
/// that no partial country is published. `hashes` are the SHA-256 of the delivery files already computed for the
/// country's key (relative path -> hash); a file not in it is hashed here.
pub fn process_country(
    config: &CountryConfig,
    ctx: &Context<'_>,
    staging: &Staging,
    hashes: &BTreeMap<String, String>,
) -> Result<CountryReport, CountryError> {
    let iso3 = config.country.iso3.clone();
    let result = run_stages(config, ctx, staging, hashes);
    if result.is_err() {
        remove_country_outputs(config, staging);
    }
    result.map(|mut r| {
        r.country = iso3;
        r
    })
}

fn run_stages(
    config: &CountryConfig,
    ctx: &Context<'_>,
    staging: &Staging,
    hashes: &BTreeMap<String, String>,
) -> Result<CountryReport, CountryError> {
    let iso3 = config.country.iso3.as_str();
    let start = Instant::now();

    ctx.observer.stage_started(iso3, Stage::Read);
    // The hash recorded for a delivery must be the hash of the bytes read. A reader that hashes as it reads (CSV)
    // gives exactly that, so its file is read once; a hash from before reading (the country's key) must equal it.
    // A file of another format is hashed before reading (unless the key did) and again after, and a file that
    // changed in between fails the country instead of publishing outputs of a partial read under the full
    // file's hash.
    let mut before: BTreeMap<String, String> = BTreeMap::new();
    let files = crate::deliveries::delivered(config).flat_map(|(_, d)| d.files());
    for file in files {
        let path = delivery_path(ctx.raw_dir, iso3, &file.file);
        let rel = relative_path(&path, ctx.raw_dir);
        let sha = match hashes.get(&rel) {
            Some(sha) => sha.clone(),
            None if hashed_while_read(file.format) => continue,
            None if path.is_file() => sha256_file(&path)
                .map_err(|e| CountryError::new(iso3, Stage::Read.as_str(), e.to_string()))?,
            // missing or not a regular file: read_deliveries names the problem
            None => continue,
        };
        before.insert(rel, sha);
    }
    crate::abort_point::reached_in("country-read", iso3);
    let delivered = crate::deliveries::delivered_config(config);
    let read = read_for_run(config, &delivered, ctx)?;
    let read_done = Instant::now();

    let Sorted {
        mut inputs,
        raw,
        first_passes,
        batched,
    } = sort_reads(iso3, ctx.raw_dir, read, &before)?;

    ctx.observer.stage_started(iso3, Stage::Normalise);
    let (mut tables, mut streamed) = if first_passes.is_empty() {
        (normalise(config, ctx.schemas, ctx.key, raw)?, Vec::new())
    } else {
        normalise_in_batches(config, &delivered, ctx, staging, raw, first_passes, &inputs)?
    };
    let normalise_done = Instant::now();
    let estimates = match ctx.indicators {
        Some(setup) => {
            ctx.observer.stage_started(iso3, Stage::Indicators);
            crate::indicator_stage::weigh_and_estimate(
                config,
                setup,
                ctx.schemas,
                &mut tables,
                &mut streamed,
            )?
        }
        None => Default::default(),
    };
    let indicators_done = Instant::now();
    let findings = tables
        .iter()
        .map(|t| (&t.table, &t.source_file, &t.universe_findings))
        .chain(
            streamed
                .iter()
                .map(|t| (&t.table, &t.table, &t.universe_findings)),
        );
    let consistency: Vec<ConsistencyEntry> = findings
        .flat_map(|(table, source_file, found)| {
            let path = inputs
                .get(table)
                .filter(|i| !i.is_empty())
                .map(|i| {
                    i.iter()
                        .map(|e| e.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| source_file.clone());
            found.iter().map(move |f| ConsistencyEntry {
                country: iso3.to_string(),
                table: table.clone(),
                path: path.clone(),
                column: f.column.clone(),
                issue: f.issue.code().to_string(),
                rows: f.rows,
                first_row: f.first_row,
            })
        })
        .collect();

    ctx.observer.stage_started(iso3, Stage::Write);
    let write_one = |t: NormalisedTable| {
        if ctx
            .cancelled
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst))
        {
            return Err(CountryError::new(
                iso3,
                "timeout",
                "abandoned at its time limit; nothing written",
            ));
        }
        write_table(iso3, t, ctx.schemas, staging)
    };
    let written: Vec<(String, Vec<dh_normalise::FileLedger>, Vec<OutputEntry>)> =
        if ctx.parallel_tables {
            tables
                .into_par_iter()
                .map(write_one)
                .collect::<Result<_, _>>()?
        } else {
            tables
                .into_iter()
                .map(write_one)
                .collect::<Result<_, _>>()?
        };
    let write_done = Instant::now();

    let mut outputs = Vec::new();
    let streamed = streamed.into_iter().map(|t| (t.table, t.files, t.entries));
    for (table, files, entries) in written.into_iter().chain(streamed) {
        let Some(input) = inputs.get_mut(&table) else {
            return Err(CountryError::new(
                iso3,
                "ledger",
                format!(
                    "normalisation produced table `{table}`, which no delivery of this country feeds"
                ),
            ));
        };
        if files.len() != input.len() {
            return Err(CountryError::new(
                iso3,
                "ledger",
                format!(
                    "table `{table}`: {} files read but {} normalised",
                    input.len(),
                    files.len()
                ),
            ));
        }
        for (entry, file) in input.iter_mut().zip(files) {
            entry.rows_written = file.rows_written;
            entry.rows_quarantined = file.rows_quarantined;
        }
        outputs.extend(entries);
    }
    check_ledger(iso3, inputs.values().flatten())?;

    Ok(CountryReport {
        country: iso3.to_string(),
        inputs: inputs.into_values().flatten().collect(),
        outputs,
        estimates,
        consistency,
        not_delivered: crate::deliveries::not_delivered(config),
        timing: CountryTiming {
            country: iso3.to_string(),
            status: "ok".to_string(),
            read_ms: millis(read_done - start),
            normalise_ms: millis(normalise_done - read_done),
            indicators_ms: millis(indicators_done - normalise_done),
            write_ms: millis(write_done - indicators_done),
            total_ms: millis(write_done - start),
            batched,
            reason: String::new(),
        },
    })
}

/// The deliveries of a country as read, sorted for the next stages.
struct Sorted {
    /// One ledger line per delivered file (a table delivered as several files has several), in config order.
    inputs: BTreeMap<String, Vec<InputEntry>>,
    /// The tables held whole.
    raw: BTreeMap<String, Vec<RawTable>>,
    /// The first passes of the others, with their files' paths.
    first_passes: Vec<(String, Vec<PathBuf>, Box<crate::batched::FirstPass>)>,
    /// The run log's figures of the batched ones.
    batched: BTreeMap<String, crate::runlog::BatchedRead>,
}

/// Sorts the deliveries read for a run: each file's ledger line (its hash checked against `before`, the hash taken
/// before reading), the tables held whole, and the first passes of the others.
fn sort_reads(
    iso3: &str,
    raw_dir: &Path,
    read: Vec<(String, Vec<PathBuf>, crate::batched::TableRead)>,
    before: &BTreeMap<String, String>,
) -> Result<Sorted, CountryError> {
    let mut inputs: BTreeMap<String, Vec<InputEntry>> = BTreeMap::new();
    let mut raw = BTreeMap::new();
    let mut first_passes = Vec::new();
    let mut batched = BTreeMap::new();
    for (table, full_paths, crate::batched::TableRead { rows, sha256 }) in read {
        let mut entries = Vec::with_capacity(full_paths.len());
        for (i, full_path) in full_paths.iter().enumerate() {
            let path = relative_path(full_path, raw_dir);
            let read_hash = sha256.get(i).cloned().flatten();
            let sha256 = hash_of_read(iso3, full_path, &path, before.get(&path), read_hash)?;
            let (rows_read, warnings) = match &rows {
                ReadRows::Whole(t) => t
                    .get(i)
                    .map(|t| (t.num_rows() as u64, t.warnings.clone()))
                    .unwrap_or_default(),
                ReadRows::Batched(p) => p
                    .files
                    .get(i)
                    .map(|f| (f.rows_read, f.warnings.clone()))
                    .unwrap_or_default(),
            };
            entries.push(InputEntry {
                path,
                country: iso3.to_string(),
                table: table.clone(),
                sha256,
                rows_read,
                rows_written: 0,
                rows_quarantined: 0,
                warnings,
            });
        }
        inputs.insert(table.clone(), entries);
        match rows {
            ReadRows::Whole(t) => {
                raw.insert(table, t);
            }
            ReadRows::Batched(p) => {
                batched.insert(
                    table.clone(),
                    crate::runlog::BatchedRead {
                        rows: p.rows_read,
                        batches: p.batches as u64,
                        key_bytes: p.key_bytes as u64,
                    },
                );
                first_passes.push((table, full_paths, p))
            }
        }
    }
    Ok(Sorted {
        inputs,
        raw,
        first_passes,
        batched,
    })
}

/// Normalises a country some of whose deliveries were read in batches (`first_passes`, with their full paths):
/// the tables in `raw` in memory, the others batch by batch straight into the staging folder. The link checks of
/// both kinds use the keys of the first passes and of the tables in memory.
fn normalise_in_batches(
    config: &CountryConfig,
    delivered: &CountryConfig,
    ctx: &Context<'_>,
    staging: &Staging,
    raw: BTreeMap<String, Vec<RawTable>>,
    first_passes: Vec<(String, Vec<PathBuf>, Box<crate::batched::FirstPass>)>,
    inputs: &BTreeMap<String, Vec<InputEntry>>,
) -> Result<(Vec<NormalisedTable>, Vec<crate::batched::StreamedTable>), CountryError> {
    let iso3 = config.country.iso3.as_str();
    let err = |e: dh_normalise::NormaliseError| {
        CountryError::new(iso3, Stage::Normalise.as_str(), e.to_string())
    };
    let hasher = dh_normalise::KeyHasher::new(ctx.key);
    let mut referenced: BTreeMap<String, dh_normalise::ReferencedKeys> = BTreeMap::new();
    for (table, t) in &raw {
        if let (Some(sources), Some(delivery)) = (
            dh_normalise::link_sources(delivered, ctx.schemas, table),
            delivered.deliveries.get(table),
        ) {
            referenced.insert(
                table.clone(),
                dh_normalise::referenced_keys(delivery, t, sources, hasher),
            );
        }
    }
    let mut passes = Vec::with_capacity(first_passes.len());
    for (table, path, mut pass) in first_passes {
        if let Some(keys) = pass.referenced.take() {
            referenced.insert(table.clone(), keys);
        }
        passes.push((table, path, pass));
    }
    let output = dh_normalise::normalise_tables(delivered, ctx.schemas, &raw, ctx.key, &referenced)
        .map_err(err)?;
    drop(raw);
    let tables = normalised_tables(output);
    let mut streamed = Vec::with_capacity(passes.len());
    for (table, paths, pass) in passes {
        let Some(delivery) = delivered.deliveries.get(&table) else {
            continue;
        };
        let job = crate::batched::TableJob {
            iso3,
            config: delivered,
            schemas: ctx.schemas,
            key: ctx.key,
            table: &table,
            delivery,
            raw_dir: ctx.raw_dir,
        };
        let t = crate::batched::second_pass(&job, &pass, &referenced, staging, ctx.cancelled)?;
        // read twice: both reads must have seen the bytes whose hash the manifest records
        let read_hashes = t.sha256.iter().cloned().chain(std::iter::repeat(None));
        for ((path, input), read_hash) in paths
            .iter()
            .zip(inputs.get(&table).into_iter().flatten())
            .zip(read_hashes)
        {
            hash_of_read(iso3, path, &input.path, Some(&input.sha256), read_hash)?;
        }
        streamed.push(t);
    }
    let mut empty: Vec<(&str, u64, String)> = tables
        .iter()
        .filter(|t| t.batches.iter().all(|b| b.num_rows() == 0))
        .map(|t| (t.table.as_str(), t.rows_quarantined, t.source_file.clone()))
        .collect();
    empty.extend(
        streamed
            .iter()
            .filter(|t| t.rows_written == 0)
            .filter_map(|t| {
                let files = delivered.deliveries.get(&t.table)?.file_names().join(", ");
                Some((t.table.as_str(), t.rows_quarantined, files))
            }),
    );
    empty.sort();
    if let Some((table, quarantined, file)) = empty.first() {
        return Err(no_rows_left(iso3, table, *quarantined, file));
    }
    Ok((tables, streamed))
}

/// The SHA-256 recorded for a delivery file once read: the hash of the bytes its reader read (`read`, when the
/// reader hashes), else the file's hash after reading; either must equal `hashed` (its hash before reading, when
/// known).
fn hash_of_read(
    iso3: &str,
    path: &Path,
    rel: &str,
    hashed: Option<&String>,
    read: Option<String>,
) -> Result<String, CountryError> {
    match (read, hashed) {
        (Some(after), Some(before)) if *before != after => Err(changed_while_read(iso3, rel)),
        (Some(after), _) => Ok(after),
        (None, hashed) => unchanged_since_hashed(iso3, path, rel, hashed),
    }
}

fn changed_while_read(iso3: &str, rel: &str) -> CountryError {
    CountryError::new(
        iso3,
        Stage::Read.as_str(),
        format!(
            "{rel}: the file changed while it was read (its SHA-256 differs before and after reading); \
             nothing of this country is published from it. Rerun once the delivery is complete"
        ),
    )
}

/// The delivery's SHA-256 after it was read, which must equal `hashed` (its hash before reading, when known).
fn unchanged_since_hashed(
    iso3: &str,
    path: &Path,
    rel: &str,
    hashed: Option<&String>,
) -> Result<String, CountryError> {
    let after = sha256_file(path)
        .map_err(|e| CountryError::new(iso3, Stage::Read.as_str(), e.to_string()))?;
    match hashed {
        Some(before) if *before != after => Err(changed_while_read(iso3, rel)),
        _ => Ok(after),
    }
}

/// Every input row is either written or quarantined, exactly once.
fn check_ledger<'a>(
    iso3: &str,
    inputs: impl Iterator<Item = &'a InputEntry>,
) -> Result<(), CountryError> {
    for input in inputs {
        if !input.balanced() {
            return Err(CountryError::new(
                iso3,
                "ledger",
                format!(
                    "{}: {} rows read but {} written + {} quarantined = {}; refusing to publish a country that \
                     loses or duplicates rows",
                    input.path,
                    input.rows_read,
                    input.rows_written,
                    input.rows_quarantined,
                    input.rows_written + input.rows_quarantined
                ),
            ));
        }
    }
    Ok(())
}

/// Writes one table's harmonised and quarantine partitions; returns (table, each file's ledger, entries).
fn write_table(
    iso3: &str,
    t: NormalisedTable,
    schemas: &SchemaSet,
    staging: &Staging,
) -> Result<(String, Vec<dh_normalise::FileLedger>, Vec<OutputEntry>), CountryError> {
    let err = |m: String| CountryError::new(iso3, Stage::Write.as_str(), m);
    let schema = schemas
        .get(&t.table)
        .ok_or_else(|| err(format!("no harmonised schema for table `{}`", t.table)))?;
    let mut entries = Vec::with_capacity(2);
    let mut rows = [0u64; 2];
    for (i, (kind, top, arrow_schema, batches)) in [
        (
            OutputKind::Normalised,
            NORMALISED_DIR,
            &t.schema,
            &t.batches,
        ),
        (
            OutputKind::Quarantine,
            QUARANTINE_DIR,
            &t.quarantine_schema,
            &t.quarantine,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let rel = partition_rel_path(top, &t.table, iso3);
        let path = staging.path(&rel);
        // a new file, never one truncated in place (a staged file may be a hard link to a published one)
        let _ = std::fs::remove_file(&path);
        let written = crate::abort_point::fault("country-write")
            .map_err(|e| crate::error::PipelineError::io(&path, e))
            .and_then(|()| write_parquet(&path, arrow_schema, batches, schema, kind))
            .map_err(|e| {
                if e.is_io() {
                    CountryError::io_fault(iso3, Stage::Write.as_str(), e.to_string())
                } else {
                    err(e.to_string())
                }
            })?;
        rows[i] = written.rows;
        entries.push(OutputEntry {
            path: rel,
            country: iso3.to_string(),
            table: t.table.clone(),
            kind: kind.as_str().to_string(),
            rows: written.rows,
            bytes: written.bytes,
            sha256: written.sha256,
        });
    }
    let mut files = t.files;
    // the harmonised rows as written (a later stage may have changed the table held in memory)
    if let [only] = files.as_mut_slice() {
        only.rows_written = rows[0];
        only.rows_quarantined = t.rows_quarantined;
    } else if files.iter().map(|f| f.rows_written).sum::<u64>() != rows[0] {
        return Err(err(format!(
            "table `{}`: {} rows written, but its files' ledgers sum to {}",
            t.table,
            rows[0],
            files.iter().map(|f| f.rows_written).sum::<u64>()
        )));
    }
    Ok((t.table, files, entries))
}

/// Removes whatever was staged for this country (best effort; the staging folder is discarded on failure anyway).
pub fn remove_country_outputs(config: &CountryConfig, staging: &Staging) {
    let iso3 = config.country.iso3.as_str();
    for table in config.deliveries.keys() {
        for top in [NORMALISED_DIR, QUARANTINE_DIR] {
            let path = staging.path(&partition_rel_path(top, table, iso3));
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(read: u64, written: u64, quarantined: u64) -> InputEntry {
        InputEntry {
            path: "THA/child.csv".into(),
            rows_read: read,
            rows_written: written,
            rows_quarantined: quarantined,
            ..Default::default()
        }
    }

    #[test]
    fn ledger_accepts_balanced_and_names_the_file_when_rows_go_missing() {
        assert!(check_ledger("THA", [entry(10, 8, 2)].iter()).is_ok());
        let err = check_ledger("THA", [entry(10, 8, 2), entry(10, 8, 1)].iter()).unwrap_err();
        assert_eq!(err.stage, "ledger");
        assert!(
            err.message.contains("THA/child.csv") && err.message.contains("10 rows read"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_file_that_changed_after_it_was_hashed_fails_its_country() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("child.csv");
        std::fs::write(&path, "id\n1\n2\n").unwrap();
        let hashed = sha256_file(&path).unwrap();
        assert_eq!(
            unchanged_since_hashed("THA", &path, "THA/child.csv", Some(&hashed)).unwrap(),
            hashed
        );
        std::fs::write(&path, "id\n1\n").unwrap();
        let err = unchanged_since_hashed("THA", &path, "THA/child.csv", Some(&hashed)).unwrap_err();
        assert_eq!(err.stage, "read");
        assert!(
            err.message.contains("THA/child.csv") && err.message.contains("changed"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_hash_of_the_bytes_read_is_recorded_and_checked_against_the_hash_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("child.csv");
        std::fs::write(&path, "id\n1\n").unwrap();
        let now = sha256_file(&path).unwrap();
        let read = "ab".repeat(32);
        // the reader's hash is recorded as it is, without reading the file again
        assert_eq!(
            hash_of_read("THA", &path, "THA/child.csv", None, Some(read.clone())).unwrap(),
            read
        );
        assert_eq!(
            hash_of_read(
                "THA",
                &path,
                "THA/child.csv",
                Some(&read),
                Some(read.clone())
            )
            .unwrap(),
            read
        );
        // a hash before reading that differs from the bytes read fails the country
        let err = hash_of_read("THA", &path, "THA/child.csv", Some(&now), Some(read)).unwrap_err();
        assert!(
            err.message.contains("changed while it was read"),
            "{}",
            err.message
        );
        // a reader that does not hash: the file is hashed after reading
        assert_eq!(
            hash_of_read("THA", &path, "THA/child.csv", Some(&now), None).unwrap(),
            now
        );
        assert!(hashed_while_read(dh_config::country::Format::Csv));
    }

    #[test]
    fn delivery_paths_are_per_country_folders() {
        assert_eq!(
            delivery_path(Path::new("raw"), "KEN", "child.csv"),
            Path::new("raw/KEN/child.csv")
        );
    }
}
