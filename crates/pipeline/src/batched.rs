//! Deliveries larger than one batch ([`dh_ingest::open_delivery`], [`batch_rows`] rows): read twice, never held
//! whole. The first pass ([`read`]) keeps only what the whole-table checks need (hashed keys,
//! [`dh_normalise::keys`]); the second ([`second_pass`]) normalises batch by batch and appends each batch's
//! harmonised and quarantine rows to their Parquet files as they come ([`TableWriter`]), counting the ledger. The
//! indicator stage reads back only the columns it may use ([`projected`]), and the child table's `final_weight`
//! is filled in by rewriting its file batch by batch ([`fill_column`]). A delivery that fits in one batch is
//! returned whole by [`read`] and takes the in-memory path of `country.rs`, so its bytes do not change; a
//! batched one gives the same rows, quarantine lines and ledger (the content checks look at its first batch only,
//! see `dh_normalise`).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use dh_config::{CountryConfig, Delivery, SchemaSet};
use dh_ingest::{DEFAULT_BATCH_ROWS, RawTable};
use dh_normalise::checks::{ReferencedKeyCollector, TableKeyCollector};
use dh_normalise::plan::{PlanContext, TablePlan};
use dh_normalise::{
    BatchContext, KeyHasher, PseudonymKey, ReferencedKeys, TableKeys, consistency::UniverseFinding,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::CountryError;
use crate::layout::{NORMALISED_DIR, QUARANTINE_DIR, Staging, partition_rel_path};
use crate::manifest::OutputEntry;
use crate::parquet_out::{OutputKind, TableWriter, WrittenFile};
use crate::progress::Stage;

/// Hidden setting: rows per batch (default [`DEFAULT_BATCH_ROWS`]). Tests set a few rows so that a small
/// delivery goes through the batched path.
pub const BATCH_ROWS_ENV: &str = "DH_BATCH_ROWS";

/// Rows per batch: [`BATCH_ROWS_ENV`] when it holds a positive number, else [`DEFAULT_BATCH_ROWS`].
pub fn batch_rows() -> usize {
    std::env::var(BATCH_ROWS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_BATCH_ROWS)
}

/// A delivery as read for a run.
pub enum ReadRows {
    /// It fits in one batch: held whole, normalised in memory.
    Whole(RawTable),
    /// Larger: what the first pass over its batches learnt.
    Batched(Box<FirstPass>),
}

/// The first pass over a delivery's batches.
pub struct FirstPass {
    pub plan: TablePlan,
    pub keys: TableKeys,
    /// The keys other tables' links look up, when some link points to this table.
    pub referenced: Option<ReferencedKeys>,
    pub rows_read: u64,
    /// Reader warnings of every batch, in order.
    pub warnings: Vec<String>,
    pub batches: usize,
    /// Bytes the key sets held at the end of the pass (their peak).
    pub key_bytes: usize,
}

/// What the read and normalise steps of a batched table need to know of the country.
pub struct TableJob<'a> {
    pub iso3: &'a str,
    /// The country's config with only its delivered tables.
    pub config: &'a CountryConfig,
    pub schemas: &'a SchemaSet,
    pub key: &'a PseudonymKey,
    pub table: &'a str,
    pub delivery: &'a Delivery,
    pub path: &'a Path,
}

impl TableJob<'_> {
    fn read_err(&self, e: impl ToString) -> CountryError {
        CountryError::new(self.iso3, Stage::Read.as_str(), e.to_string())
    }

    fn normalise_err(&self, e: impl ToString) -> CountryError {
        CountryError::new(self.iso3, Stage::Normalise.as_str(), e.to_string())
    }

    fn open(&self, batch_rows: usize) -> Result<dh_ingest::DeliveryBatches, CountryError> {
        dh_ingest::open_delivery(self.path, self.delivery, batch_rows).map_err(|e| self.read_err(e))
    }

    fn plan_context(&self) -> PlanContext<'_> {
        PlanContext {
            iso3: self.iso3,
            config_file: dh_normalise::config_file(self.config),
            table: self.table,
        }
    }
}

/// Reads a delivery in batches of `batch_rows` rows: whole when the first batch is all there is, else the first
/// pass over every batch.
pub fn read(job: &TableJob<'_>, batch_rows: usize) -> Result<ReadRows, CountryError> {
    let mut batches = job.open(batch_rows)?;
    let Some(first) = batches.next_batch().map_err(|e| job.read_err(e))? else {
        return Err(job.read_err(format!(
            "{}: the reader returned no rows and no header",
            job.delivery.file
        )));
    };
    let Some(second) = batches.next_batch().map_err(|e| job.read_err(e))? else {
        return Ok(ReadRows::Whole(first));
    };
    let schema = dh_normalise::table_schema(job.config, job.schemas, job.table)
        .map_err(|e| job.normalise_err(e))?;
    let plan =
        dh_normalise::plan::plan_table(&job.plan_context(), schema, job.delivery, &first, job.key)
            .map_err(|e| job.normalise_err(e))?;
    let hasher = KeyHasher::new(job.key);
    let mut keys = TableKeyCollector::new(schema, &plan, hasher);
    let mut referenced = dh_normalise::link_sources(job.config, job.schemas, job.table)
        .map(|sources| ReferencedKeyCollector::new(sources, hasher));
    let (mut rows_read, mut warnings, mut count) = (0u64, Vec::new(), 0usize);
    let mut add = |batch: RawTable| {
        keys.add_batch(&plan, &batch);
        if let Some(r) = referenced.as_mut() {
            r.add_batch(&batch);
        }
        rows_read += batch.num_rows() as u64;
        warnings.extend(batch.warnings);
        count += 1;
    };
    add(first);
    add(second);
    while let Some(batch) = batches.next_batch().map_err(|e| job.read_err(e))? {
        add(batch);
    }
    let key_bytes = keys.heap_bytes()
        + referenced
            .as_ref()
            .map_or(0, ReferencedKeyCollector::heap_bytes);
    Ok(ReadRows::Batched(Box::new(FirstPass {
        plan,
        keys: keys.finish(),
        referenced: referenced.map(ReferencedKeyCollector::finish),
        rows_read,
        warnings,
        batches: count,
        key_bytes,
    })))
}

/// A table normalised and written batch by batch.
pub struct StreamedTable {
    pub table: String,
    /// The harmonised rows' Arrow schema (as written).
    pub schema: SchemaRef,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    pub universe_findings: Vec<UniverseFinding>,
    /// The staged harmonised file.
    pub normalised: PathBuf,
    /// Manifest entries: harmonised, then quarantine.
    pub entries: Vec<OutputEntry>,
}

/// The second pass: normalises the delivery batch by batch with the keys of the first pass (`referenced`: every
/// linked table's keys) and writes the rows into the staging folder as they come. Stops between batches when
/// `cancelled` is set.
pub fn second_pass(
    job: &TableJob<'_>,
    first: &FirstPass,
    referenced: &BTreeMap<String, ReferencedKeys>,
    staging: &Staging,
    cancelled: Option<&std::sync::atomic::AtomicBool>,
) -> Result<StreamedTable, CountryError> {
    let schema = dh_normalise::table_schema(job.config, job.schemas, job.table)
        .map_err(|e| job.normalise_err(e))?;
    let write_err = |e: crate::error::PipelineError| {
        if e.is_io() {
            CountryError::io_fault(job.iso3, Stage::Write.as_str(), e.to_string())
        } else {
            CountryError::new(job.iso3, Stage::Write.as_str(), e.to_string())
        }
    };
    let ctx = job.plan_context();
    let mut batches = job.open(batch_rows())?;
    let mut writers: Option<(TableWriter, TableWriter)> = None;
    let mut out = StreamedTable {
        table: job.table.to_string(),
        schema: Arc::new(Schema::empty()),
        rows_read: 0,
        rows_written: 0,
        rows_quarantined: 0,
        universe_findings: Vec::new(),
        normalised: staging.path(&partition_rel_path(NORMALISED_DIR, job.table, job.iso3)),
        entries: Vec::new(),
    };
    let mut index = 0usize;
    while let Some(batch) = batches.next_batch().map_err(|e| job.read_err(e))? {
        if cancelled.is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst)) {
            return Err(CountryError::new(
                job.iso3,
                "timeout",
                "abandoned at its time limit; nothing written",
            ));
        }
        if batch.num_rows() == 0 && index > 0 {
            continue;
        }
        let context = BatchContext {
            plan: &first.plan,
            keys: &first.keys,
            content_checks: index == 0,
        };
        let normalised = dh_normalise::normalise_batch(
            &ctx,
            schema,
            job.delivery,
            &batch,
            &context,
            |resource: &str| {
                Some(dh_normalise::Referenced {
                    keys: referenced.get(resource)?,
                    delivery: job.config.deliveries.get(resource)?,
                })
            },
        )
        .map_err(|e| job.normalise_err(e))?;
        drop(batch);
        if writers.is_none() {
            out.schema = normalised.batch.schema();
            let open = |top: &str, kind: OutputKind, arrow_schema: &SchemaRef| {
                let path = staging.path(&partition_rel_path(top, job.table, job.iso3));
                // a new file, never one truncated in place (a staged file may be a hard link to a published one)
                let _ = std::fs::remove_file(&path);
                crate::abort_point::fault("country-write")
                    .map_err(|e| crate::error::PipelineError::io(&path, e))
                    .and_then(|()| TableWriter::create(&path, arrow_schema, schema, kind))
                    .map_err(write_err)
            };
            let harmonised = open(NORMALISED_DIR, OutputKind::Normalised, &out.schema)?;
            let quarantine = open(
                QUARANTINE_DIR,
                OutputKind::Quarantine,
                &normalised.quarantine.schema(),
            )?;
            writers = Some((harmonised, quarantine));
        }
        let Some((harmonised, quarantine)) = writers.as_mut() else {
            continue;
        };
        harmonised.write(&normalised.batch).map_err(write_err)?;
        quarantine
            .write(&normalised.quarantine)
            .map_err(write_err)?;
        out.rows_read += normalised.rows_read;
        out.rows_written += normalised.rows_written;
        out.rows_quarantined += normalised.rows_quarantined;
        dh_normalise::merge_universe_findings(
            schema,
            &mut out.universe_findings,
            normalised.universe_findings,
        );
        index += 1;
    }
    let Some((harmonised, quarantine)) = writers else {
        return Err(job.read_err(format!(
            "{}: the reader returned no batch on the second pass",
            job.delivery.file
        )));
    };
    if out.rows_read != first.rows_read {
        return Err(job.read_err(format!(
            "{}: {} rows on the first pass but {} on the second; the file changed while it was read",
            job.delivery.file, first.rows_read, out.rows_read
        )));
    }
    for (top, kind, writer) in [
        (NORMALISED_DIR, OutputKind::Normalised, harmonised),
        (QUARANTINE_DIR, OutputKind::Quarantine, quarantine),
    ] {
        let written = writer.finish().map_err(write_err)?;
        out.entries.push(entry(job, top, kind, written));
    }
    Ok(out)
}

fn entry(job: &TableJob<'_>, top: &str, kind: OutputKind, written: WrittenFile) -> OutputEntry {
    OutputEntry {
        path: partition_rel_path(top, job.table, job.iso3),
        country: job.iso3.to_string(),
        table: job.table.to_string(),
        kind: kind.as_str().to_string(),
        rows: written.rows,
        bytes: written.bytes,
        sha256: written.sha256,
    }
}

/// The harmonised rows of a streamed table read back from its staged file, with only the columns `keep` accepts.
pub fn projected(
    t: &StreamedTable,
    keep: impl Fn(&Field) -> bool,
) -> Result<RecordBatch, crate::error::PipelineError> {
    let err = |message: String| crate::error::PipelineError::Parquet {
        path: t.normalised.clone(),
        message,
    };
    let file =
        File::open(&t.normalised).map_err(|e| crate::error::PipelineError::io(&t.normalised, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
    let indices: Vec<usize> = t
        .schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| keep(f))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices.iter().copied());
    // one batch of every row, so the columns are not held twice by a concatenation
    let rows = usize::try_from(t.rows_written).unwrap_or(usize::MAX).max(1);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(rows)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let schema = Arc::new(t.schema.project(&indices).map_err(|e| err(e.to_string()))?);
    let mut batches = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        // the schema of the rows as normalised (the file's adds descriptions)
        let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
            .map_err(|e| err(e.to_string()))?;
        batches.push(batch);
    }
    match batches.len() {
        1 => Ok(batches.swap_remove(0)),
        _ => arrow::compute::concat_batches(&schema, &batches).map_err(|e| err(e.to_string())),
    }
}

/// Rewrites a streamed table's harmonised file with column `name` replaced by `values` (one per row, in order),
/// batch by batch, as `with_column` of the indicator stage replaces it in a table held whole; updates its manifest
/// entry.
pub fn fill_column(
    t: &mut StreamedTable,
    job_table: &dh_config::TableSchema,
    name: &str,
    values: &ArrayRef,
) -> Result<(), crate::error::PipelineError> {
    let err = |message: String| crate::error::PipelineError::Parquet {
        path: t.normalised.clone(),
        message,
    };
    let Some(position) = t.schema.fields().iter().position(|f| f.name() == name) else {
        return Err(err(format!("no column `{name}` to fill")));
    };
    if values.len() as u64 != t.rows_written {
        return Err(err(format!(
            "{} values for `{name}` but {} rows",
            values.len(),
            t.rows_written
        )));
    }
    let mut fields: Vec<Arc<Field>> = t.schema.fields().iter().cloned().collect();
    fields[position] = Arc::new(
        Field::new(name, values.data_type().clone(), values.null_count() > 0)
            .with_metadata(fields[position].metadata().clone()),
    );
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        t.schema.metadata().clone(),
    ));
    let filled = t.normalised.with_extension("parquet.filling");
    let _ = std::fs::remove_file(&filled);
    let file =
        File::open(&t.normalised).map_err(|e| crate::error::PipelineError::io(&t.normalised, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| {
            b.with_batch_size(crate::parquet_out::ROW_GROUP_ROWS)
                .build()
        })
        .map_err(|e| err(e.to_string()))?;
    let mut writer = TableWriter::create(&filled, &schema, job_table, OutputKind::Normalised)?;
    let mut offset = 0;
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        let mut columns = batch.columns().to_vec();
        columns[position] = values.slice(offset, batch.num_rows());
        offset += batch.num_rows();
        let batch =
            RecordBatch::try_new(schema.clone(), columns).map_err(|e| err(e.to_string()))?;
        writer.write(&batch)?;
    }
    let written = writer.finish()?;
    std::fs::rename(&filled, &t.normalised)
        .map_err(|e| crate::error::PipelineError::io(&t.normalised, e))?;
    t.schema = schema;
    if let Some(e) = t.entries.first_mut() {
        e.rows = written.rows;
        e.bytes = written.bytes;
        e.sha256 = written.sha256;
    }
    Ok(())
}
