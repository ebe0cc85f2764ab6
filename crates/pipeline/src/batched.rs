//! Deliveries larger than one batch ([`dh_ingest::open_delivery`], [`batch_rows`] rows): read twice, never held
//! whole. The first pass ([`read`]) keeps only what the whole-table checks need (hashed keys,
//! [`dh_normalise::keys`]); the second ([`second_pass`]) normalises batch by batch and appends each batch's
//! harmonised and quarantine rows to their Parquet files as they come ([`TableWriter`]), counting the ledger. The
//! indicator stage reads back only the columns it may use ([`projected`]), and the child table's `final_weight`
//! is filled in by rewriting its file batch by batch ([`fill_column`]). A delivery that fits in one batch is
//! returned whole by [`read`] and takes the in-memory path of `country.rs`, so its bytes do not change; a
//! batched one gives the same rows, quarantine lines and ledger (the content checks look at its first batch only,
//! see `dh_normalise`).
//!
//! Only each file's first batch has [`batch_rows`] rows: the content checks judge it, during the first pass (their
//! findings fail the table when the second pass reaches that file, as if judged there). The first pass's later
//! batches hold at most [`stream_rows`] rows (every reader can change its batch size between batches), and the
//! second pass opens every file at [`stream_rows`], so that the text of a quarter of a million rows is held once,
//! not throughout. Outputs do not depend on where batches end.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use dh_config::{CountryConfig, Delivery, SchemaSet};
use dh_ingest::{DEFAULT_BATCH_ROWS, RawTable};
use dh_normalise::checks::{ReferencedKeyCollector, TableKeyCollector};
use dh_normalise::content::ContentFinding;
use dh_normalise::plan::{PlanContext, TablePlan};
use dh_normalise::{
    BatchContext, KeyHasher, PseudonymKey, ReferencedKeys, TableKeys, consistency::UniverseFinding,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use crate::error::CountryError;
use crate::layout::{NORMALISED_DIR, QUARANTINE_DIR, Staging, partition_rel_path};
use crate::manifest::OutputEntry;
use crate::parquet_out::{OutputKind, TableWriter, WrittenFile};
use crate::progress::Stage;

/// Hidden setting: rows per batch (default [`DEFAULT_BATCH_ROWS`]). Tests set a few rows so that a small
/// delivery goes through the batched path.
pub const BATCH_ROWS_ENV: &str = "DH_BATCH_ROWS";

/// Rows per batch after a file's first when the reader can change its batch size ([`stream_rows`]).
pub const STREAM_ROWS: usize = 32_768;

/// Hidden setting: [`STREAM_ROWS`] instead (tests set fewer rows than `DH_BATCH_ROWS`, so that later batches are
/// smaller than the first).
pub const STREAM_ROWS_ENV: &str = "DH_STREAM_ROWS";

/// Rows per batch after a file's first batch of `batch_rows` rows: at most [`STREAM_ROWS`] (or
/// [`STREAM_ROWS_ENV`] when it holds a positive number).
pub fn stream_rows(batch_rows: usize) -> usize {
    let stream = std::env::var(STREAM_ROWS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(STREAM_ROWS);
    batch_rows.min(stream).max(1)
}

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
    /// Every file fits in one batch, and all together too: held whole (one table per file of
    /// `Delivery::files`), normalised in memory.
    Whole(Vec<RawTable>),
    /// Larger: what the first pass over its batches learnt.
    Batched(Box<FirstPass>),
}

/// What a first pass read of one delivered file.
#[derive(Debug, Clone, Default)]
pub struct FileRead {
    pub rows_read: u64,
    /// Reader warnings of every batch, in order.
    pub warnings: Vec<String>,
}

/// The first pass over a delivery's batches (every file of it, in config order).
pub struct FirstPass {
    /// One plan per file (each from the file's first batch and its effective delivery).
    pub plans: Vec<TablePlan>,
    pub keys: TableKeys,
    /// The keys other tables' links look up, when some link points to this table.
    pub referenced: Option<ReferencedKeys>,
    pub rows_read: u64,
    /// Per file, in config order.
    pub files: Vec<FileRead>,
    pub batches: usize,
    /// Bytes the key sets held at the end of the pass (their peak).
    pub key_bytes: usize,
    /// Per file (config order): what the content checks found in its first batch (empty: nothing).
    pub content: Vec<Vec<ContentFinding>>,
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
    /// The raw folder (files are `<raw>/<ISO3>/<file>`).
    pub raw_dir: &'a Path,
}

impl TableJob<'_> {
    fn read_err(&self, e: impl ToString) -> CountryError {
        CountryError::new(self.iso3, Stage::Read.as_str(), e.to_string())
    }

    fn normalise_err(&self, e: impl ToString) -> CountryError {
        CountryError::new(self.iso3, Stage::Normalise.as_str(), e.to_string())
    }

    /// Each delivered file's effective delivery and path, in config order.
    pub fn files(&self) -> Vec<(Delivery, PathBuf)> {
        self.delivery
            .files()
            .into_iter()
            .map(|d| {
                let path = crate::country::delivery_path(self.raw_dir, self.iso3, &d.file);
                (d, path)
            })
            .collect()
    }

    fn open(
        &self,
        (delivery, path): &(Delivery, PathBuf),
        batch_rows: usize,
    ) -> Result<dh_ingest::DeliveryBatches, CountryError> {
        dh_ingest::open_delivery(path, delivery, batch_rows).map_err(|e| self.read_err(e))
    }

    fn plan_context(&self) -> PlanContext<'_> {
        PlanContext {
            iso3: self.iso3,
            config_file: dh_normalise::config_file(self.config),
            table: self.table,
        }
    }
}

/// A delivery as read for a run, with the hash of the bytes read from each of its files.
pub struct TableRead {
    pub rows: ReadRows,
    /// Per file (config order): the SHA-256 of the bytes its reader read, when the reader hashes as it reads
    /// ([`dh_ingest::DeliveryBatches::sha256_of_bytes_read`], CSV); `None` for the other formats.
    pub sha256: Vec<Option<String>>,
}

/// Reads a delivery in batches of `batch_rows` rows: whole when each file's first batch is all there is and all
/// files together hold at most one batch of rows, else the first pass over every batch of every file (the files
/// and batches already read are passed on, never read again). Each file is read once; its hash is taken from the
/// bytes read.
pub fn read(job: &TableJob<'_>, batch_rows: usize) -> Result<TableRead, CountryError> {
    let files = job.files();
    let mut whole = Vec::with_capacity(files.len());
    let mut sha256 = Vec::with_capacity(files.len());
    let mut rows = 0usize;
    for (k, file) in files.iter().enumerate() {
        let mut batches = job.open(file, batch_rows)?;
        let Some(first) = batches.next_batch().map_err(|e| job.read_err(e))? else {
            return Err(no_header(job, file));
        };
        rows += first.num_rows();
        batches.set_batch_rows(stream_rows(batch_rows));
        let second = batches.next_batch().map_err(|e| job.read_err(e))?;
        if rows <= batch_rows && second.is_none() {
            whole.push(first);
            sha256.push(batches.sha256_of_bytes_read());
            continue;
        }
        // too large to hold: the first pass, over what was read and then the rest
        let mut pass = Collect::new(job, files.len())?;
        for (done, table) in files.iter().zip(whole) {
            pass.add(done, table)?;
            pass.end_file(job, done)?;
        }
        pass.add(file, first)?;
        if let Some(second) = second {
            pass.add(file, second)?;
        }
        while let Some(batch) = batches.next_batch().map_err(|e| job.read_err(e))? {
            pass.add(file, batch)?;
        }
        pass.end_file(job, file)?;
        sha256.push(batches.sha256_of_bytes_read());
        for rest in &files[k + 1..] {
            let mut batches = job.open(rest, batch_rows)?;
            let mut first = true;
            while let Some(batch) = batches.next_batch().map_err(|e| job.read_err(e))? {
                if std::mem::take(&mut first) {
                    batches.set_batch_rows(stream_rows(batch_rows));
                }
                pass.add(rest, batch)?;
            }
            pass.end_file(job, rest)?;
            sha256.push(batches.sha256_of_bytes_read());
        }
        let rows = pass.finish(job)?;
        // the key sets' per-row entries are freed (only duplicates and link keys stay): give their pages back
        // rather than carry them into the second pass
        crate::memory::release_free_memory();
        return Ok(TableRead { rows, sha256 });
    }
    Ok(TableRead {
        rows: ReadRows::Whole(whole),
        sha256,
    })
}

fn no_header(job: &TableJob<'_>, file: &(Delivery, PathBuf)) -> CountryError {
    job.read_err(format!(
        "{}: the reader returned no rows and no header",
        file.0.file
    ))
}

/// What the first pass collects, file after file (config order), batch after batch.
struct Collect<'j> {
    job: &'j TableJob<'j>,
    schema: &'j dh_config::TableSchema,
    hasher: KeyHasher,
    several: bool,
    keys: Option<TableKeyCollector>,
    referenced: Option<ReferencedKeyCollector>,
    /// One per file begun (planned from its first batch).
    plans: Vec<TablePlan>,
    /// One per file begun: the content checks' findings in its first batch.
    content: Vec<Vec<ContentFinding>>,
    /// One per file ended.
    reads: Vec<FileRead>,
    /// The file being read.
    current: FileRead,
    batches: usize,
}

impl<'j> Collect<'j> {
    fn new(job: &'j TableJob<'j>, files: usize) -> Result<Self, CountryError> {
        let schema = dh_normalise::table_schema(job.config, job.schemas, job.table)
            .map_err(|e| job.normalise_err(e))?;
        let hasher = KeyHasher::new(job.key);
        Ok(Collect {
            job,
            schema,
            hasher,
            several: files > 1,
            keys: None,
            referenced: dh_normalise::link_sources(job.config, job.schemas, job.table)
                .map(|sources| ReferencedKeyCollector::new(sources, hasher)),
            plans: Vec::new(),
            content: Vec::new(),
            reads: Vec::new(),
            current: FileRead::default(),
            batches: 0,
        })
    }

    /// Adds one batch of `file` (the file's first batch plans it).
    fn add(&mut self, file: &(Delivery, PathBuf), batch: RawTable) -> Result<(), CountryError> {
        let job = self.job;
        if self.plans.len() == self.reads.len() {
            let plan = dh_normalise::plan::plan_table(
                &job.plan_context(),
                self.schema,
                &file.0,
                &batch,
                job.key,
            )
            .map_err(|e| job.normalise_err(e))?;
            let (schema, hasher) = (self.schema, self.hasher);
            let keys = self
                .keys
                .get_or_insert_with(|| TableKeyCollector::new(schema, &plan, hasher));
            if self.several {
                keys.start_file(&file.0.file);
            }
            self.content
                .push(first_batch_findings(self.schema, &plan, &batch));
            self.plans.push(plan);
        }
        if let (Some(keys), Some(plan)) = (self.keys.as_mut(), self.plans.last()) {
            keys.add_batch(plan, &batch);
        }
        if let Some(r) = self.referenced.as_mut() {
            if self.several {
                r.add_part_batch(&batch, job.delivery, &file.0);
            } else {
                r.add_batch(&batch);
            }
        }
        self.current.rows_read += batch.num_rows() as u64;
        self.current.warnings.extend(batch.warnings);
        self.batches += 1;
        Ok(())
    }

    /// Ends `file`: a file that gave no batch at all is an error.
    fn end_file(
        &mut self,
        job: &TableJob<'_>,
        file: &(Delivery, PathBuf),
    ) -> Result<(), CountryError> {
        if self.plans.len() == self.reads.len() {
            return Err(no_header(job, file));
        }
        self.reads.push(std::mem::take(&mut self.current));
        Ok(())
    }

    fn finish(self, job: &TableJob<'_>) -> Result<ReadRows, CountryError> {
        let Some(keys) = self.keys else {
            return Err(job.read_err("a delivery without files"));
        };
        let key_bytes = keys.heap_bytes()
            + self
                .referenced
                .as_ref()
                .map_or(0, ReferencedKeyCollector::heap_bytes);
        Ok(ReadRows::Batched(Box::new(FirstPass {
            plans: self.plans,
            keys: keys.finish(),
            referenced: self.referenced.map(ReferencedKeyCollector::finish),
            rows_read: self.reads.iter().map(|r| r.rows_read).sum(),
            files: self.reads,
            batches: self.batches,
            key_bytes,
            content: self.content,
        })))
    }
}

/// What the content checks find in a file's first batch, judged as `dh_normalise::normalise_batch` judges the
/// batch it is told to check (the rows the reader could not read cleanly left out).
fn first_batch_findings(
    schema: &dh_config::TableSchema,
    plan: &TablePlan,
    batch: &RawTable,
) -> Vec<ContentFinding> {
    let mut skip = vec![false; batch.num_rows()];
    for issue in &batch.row_issues {
        if let Some(s) = skip.get_mut(issue.row) {
            *s = true;
        }
    }
    dh_normalise::content::check_table(&schema.content_limits, plan, batch, &skip)
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
    /// The ledger of each delivered file, in config order.
    pub files: Vec<dh_normalise::FileLedger>,
    /// The SHA-256 of the bytes the second pass read from each file (config order), when its reader hashes.
    pub sha256: Vec<Option<String>>,
}

/// The harmonised and quarantine writers of a streamed table, opened with its first batch.
type Writers = (TableWriter, TableWriter);

/// The second pass: normalises every file of the delivery batch by batch with the keys of the first pass
/// (`referenced`: every linked table's keys) and writes the rows into the staging folder as they come. Stops
/// between batches when `cancelled` is set.
pub fn second_pass(
    job: &TableJob<'_>,
    first: &FirstPass,
    referenced: &BTreeMap<String, ReferencedKeys>,
    staging: &Staging,
    cancelled: Option<&std::sync::atomic::AtomicBool>,
) -> Result<StreamedTable, CountryError> {
    let schema = dh_normalise::table_schema(job.config, job.schemas, job.table)
        .map_err(|e| job.normalise_err(e))?;
    let files = job.files();
    // the files of a table may differ in which columns they collected: the table's metadata is what all say
    let metadata =
        (files.len() > 1).then(|| dh_normalise::parts::common_metadata(schema, &first.plans));
    let mut writers: Option<Writers> = None;
    let mut out = StreamedTable {
        table: job.table.to_string(),
        schema: Arc::new(Schema::empty()),
        rows_read: 0,
        rows_written: 0,
        rows_quarantined: 0,
        universe_findings: Vec::new(),
        normalised: staging.path(&partition_rel_path(NORMALISED_DIR, job.table, job.iso3)),
        entries: Vec::new(),
        files: Vec::with_capacity(files.len()),
        sha256: Vec::with_capacity(files.len()),
    };
    for (((file, plan), read), content) in files
        .iter()
        .zip(&first.plans)
        .zip(&first.files)
        .zip(&first.content)
    {
        let pass = FilePass {
            job,
            first,
            plan,
            content,
            metadata: metadata.as_deref(),
            referenced,
            staging,
            cancelled,
        };
        let (ledger, sha256) = pass.run(file, &mut writers, &mut out)?;
        if ledger.rows_read != read.rows_read {
            return Err(job.read_err(format!(
                "{}: {} rows on the first pass but {} on the second; the file changed while it was read",
                file.0.file, read.rows_read, ledger.rows_read
            )));
        }
        out.files.push(ledger);
        out.sha256.push(sha256);
    }
    let Some((harmonised, quarantine)) = writers else {
        return Err(job.read_err(format!(
            "{}: the reader returned no batch on the second pass",
            job.delivery.file_names().join(", ")
        )));
    };
    for (top, kind, writer) in [
        (NORMALISED_DIR, OutputKind::Normalised, harmonised),
        (QUARANTINE_DIR, OutputKind::Quarantine, quarantine),
    ] {
        let written = writer.finish().map_err(|e| write_err(job, e))?;
        out.entries.push(entry(job, top, kind, written));
    }
    Ok(out)
}

fn write_err(job: &TableJob<'_>, e: crate::error::PipelineError) -> CountryError {
    if e.is_io() {
        CountryError::io_fault(job.iso3, Stage::Write.as_str(), e.to_string())
    } else {
        CountryError::new(job.iso3, Stage::Write.as_str(), e.to_string())
    }
}

/// The second pass over one file of a streamed table.
struct FilePass<'j, 'a> {
    job: &'j TableJob<'a>,
    first: &'j FirstPass,
    plan: &'j TablePlan,
    /// The content checks' findings in the file's first batch (first pass).
    content: &'j [ContentFinding],
    /// The table's column metadata when it has several files.
    metadata: Option<&'j [std::collections::HashMap<String, String>]>,
    referenced: &'j BTreeMap<String, ReferencedKeys>,
    staging: &'j Staging,
    cancelled: Option<&'j std::sync::atomic::AtomicBool>,
}

impl FilePass<'_, '_> {
    /// Normalises and writes every batch of `file` (opening the writers with the table's first batch); returns
    /// the file's ledger and the hash of the bytes read (when its reader hashes), and adds its counts and
    /// findings to `out`.
    fn run(
        &self,
        file: &(Delivery, PathBuf),
        writers: &mut Option<Writers>,
        out: &mut StreamedTable,
    ) -> Result<(dh_normalise::FileLedger, Option<String>), CountryError> {
        let job = self.job;
        let schema = dh_normalise::table_schema(job.config, job.schemas, job.table)
            .map_err(|e| job.normalise_err(e))?;
        let ctx = job.plan_context();
        let mut batches = job.open(file, stream_rows(batch_rows()))?;
        let mut ledger = dh_normalise::FileLedger {
            file: file.0.file.clone(),
            ..Default::default()
        };
        let mut index = 0usize;
        while let Some(batch) = batches.next_batch().map_err(|e| job.read_err(e))? {
            if self
                .cancelled
                .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst))
            {
                return Err(CountryError::new(
                    job.iso3,
                    "timeout",
                    "abandoned at its time limit; nothing written",
                ));
            }
            if batch.num_rows() == 0 && (index > 0 || writers.is_some()) {
                continue;
            }
            if index == 0 && !self.content.is_empty() {
                return Err(
                    job.normalise_err(dh_normalise::NormaliseError::ContentCheck {
                        country: job.iso3.to_string(),
                        file: file.0.file.clone(),
                        table: job.table.to_string(),
                        findings: dh_normalise::content::describe(self.content),
                    }),
                );
            }
            // judged in the first pass, on the file's first batch of `batch_rows()` rows
            let context = BatchContext {
                plan: self.plan,
                keys: &self.first.keys,
                content_checks: false,
            };
            let referenced = self.referenced;
            let mut normalised = dh_normalise::normalise_batch(
                &ctx,
                schema,
                &file.0,
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
            if let Some(metadata) = self.metadata {
                normalised.batch =
                    dh_normalise::parts::with_field_metadata(&normalised.batch, metadata)
                        .map_err(|e| job.normalise_err(e))?;
            }
            if writers.is_none() {
                out.schema = normalised.batch.schema();
                *writers = Some(self.open_writers(&out.schema, &normalised.quarantine.schema())?);
            }
            let Some((harmonised, quarantine)) = writers.as_mut() else {
                continue;
            };
            harmonised
                .write(&normalised.batch)
                .map_err(|e| write_err(job, e))?;
            quarantine
                .write(&normalised.quarantine)
                .map_err(|e| write_err(job, e))?;
            ledger.rows_read += normalised.rows_read;
            ledger.rows_written += normalised.rows_written;
            ledger.rows_quarantined += normalised.rows_quarantined;
            dh_normalise::merge_universe_findings(
                schema,
                &mut out.universe_findings,
                normalised.universe_findings,
            );
            index += 1;
        }
        out.rows_read += ledger.rows_read;
        out.rows_written += ledger.rows_written;
        out.rows_quarantined += ledger.rows_quarantined;
        Ok((ledger, batches.sha256_of_bytes_read()))
    }

    fn open_writers(
        &self,
        harmonised: &SchemaRef,
        quarantine: &SchemaRef,
    ) -> Result<Writers, CountryError> {
        let job = self.job;
        let schema = dh_normalise::table_schema(job.config, job.schemas, job.table)
            .map_err(|e| job.normalise_err(e))?;
        let open = |top: &str, kind: OutputKind, arrow_schema: &SchemaRef| {
            let path = self
                .staging
                .path(&partition_rel_path(top, job.table, job.iso3));
            // a new file, never one truncated in place (a staged file may be a hard link to a published one)
            let _ = std::fs::remove_file(&path);
            crate::abort_point::fault("country-write")
                .map_err(|e| crate::error::PipelineError::io(&path, e))
                .and_then(|()| TableWriter::create(&path, arrow_schema, schema, kind))
                .map_err(|e| write_err(job, e))
        };
        Ok((
            open(NORMALISED_DIR, OutputKind::Normalised, harmonised)?,
            open(QUARANTINE_DIR, OutputKind::Quarantine, quarantine)?,
        ))
    }
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
///
/// Each row group is read on its own and each column is then joined from its row groups' pieces, one column at a
/// time: a categorical column stays its row groups' dictionary keys (two bytes a row), where one read across row
/// groups would make the Parquet reader write out every row's label text when it meets the next row group's
/// dictionary page (about 670 MB for a million child rows).
pub fn projected(
    t: &StreamedTable,
    keep: impl Fn(&Field) -> bool,
) -> Result<RecordBatch, crate::error::PipelineError> {
    let err = |message: String| crate::error::PipelineError::Parquet {
        path: t.normalised.clone(),
        message,
    };
    let io = |e: std::io::Error| crate::error::PipelineError::io(&t.normalised, e);
    let file = File::open(&t.normalised).map_err(io)?;
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
        .map_err(|e| err(e.to_string()))?;
    let indices: Vec<usize> = t
        .schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| keep(f))
        .map(|(i, _)| i)
        .collect();
    let schema = Arc::new(t.schema.project(&indices).map_err(|e| err(e.to_string()))?);
    let mask = ProjectionMask::roots(metadata.parquet_schema(), indices.iter().copied());
    let mut pieces: Vec<Vec<ArrayRef>> = vec![Vec::new(); indices.len()];
    each_row_group(&t.normalised, &file, &metadata, &mask, &mut |batch| {
        for (column, piece) in pieces.iter_mut().zip(batch.columns()) {
            column.push(piece.clone());
        }
    })?;
    let columns = pieces
        .into_iter()
        .zip(schema.fields())
        .map(|(column, field)| joined_column(column, field.data_type()))
        .collect::<Result<Vec<ArrayRef>, _>>()
        .map_err(|e| err(e.to_string()))?;
    // the schema of the rows as normalised (the file's adds descriptions)
    let rows = columns
        .first()
        .map_or_else(|| usize::try_from(t.rows_written).unwrap_or(0), |c| c.len());
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, columns, &options).map_err(|e| err(e.to_string()))
}

/// Calls `f` with the columns `mask` selects of the Parquet file `path` (opened as `file`, with its `metadata`),
/// one row group at a time, in row order: each row group is one batch, so a categorical column's piece stays its
/// row group's dictionary keys.
pub(crate) fn each_row_group(
    path: &Path,
    file: &File,
    metadata: &ArrowReaderMetadata,
    mask: &ProjectionMask,
    f: &mut dyn FnMut(&RecordBatch),
) -> Result<(), crate::error::PipelineError> {
    let err = |message: String| crate::error::PipelineError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    for (group, meta) in metadata.metadata().row_groups().iter().enumerate() {
        let rows = usize::try_from(meta.num_rows()).unwrap_or(0).max(1);
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            file.try_clone()
                .map_err(|e| crate::error::PipelineError::io(path, e))?,
            metadata.clone(),
        )
        .with_row_groups(vec![group])
        .with_projection(mask.clone())
        .with_batch_size(rows)
        .build()
        .map_err(|e| err(e.to_string()))?;
        for batch in reader {
            f(&batch.map_err(|e| err(e.to_string()))?);
        }
    }
    Ok(())
}

/// One column from its row groups' pieces (the pieces are dropped as soon as they are joined).
fn joined_column(
    pieces: Vec<ArrayRef>,
    data_type: &arrow::datatypes::DataType,
) -> Result<ArrayRef, arrow::error::ArrowError> {
    let mut pieces = pieces;
    match pieces.len() {
        0 => Ok(arrow::array::new_empty_array(data_type)),
        1 => Ok(pieces.swap_remove(0)),
        _ => {
            let refs: Vec<&dyn arrow::array::Array> = pieces.iter().map(|p| p.as_ref()).collect();
            arrow::compute::concat(&refs)
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use arrow::array::{Array, AsArray, DictionaryArray, Int32Array};
    use arrow::datatypes::{DataType, Int16Type};

    use super::*;
    use crate::parquet_out::{ROW_GROUP_ROWS, write_parquet};

    fn table() -> dh_config::TableSchema {
        serde_json::from_value(serde_json::json!({
            "name": "child_survey", "title": "Child survey", "version": "1.2.0",
            "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -4, "label": "not_collected"}],
            "fields": [
                {"name": "age", "type": "integer", "description": "Age"},
                {"name": "age_band", "type": "string", "description": "Band", "ordered": true,
                 "categories": [{"value": 1, "label": "12-13"}, {"value": 2, "label": "14-15"},
                                {"value": 3, "label": "16-17"}]}
            ]
        }))
        .unwrap()
    }

    fn band(i: usize) -> Option<&'static str> {
        match i % 5 {
            0 | 1 => Some("14-15"),
            2 => None,
            3 => Some("16-17"),
            _ => Some("12-13"),
        }
    }

    /// A file of three row groups read back with a projection: the rows as written, and each categorical column
    /// still its row groups' codebook dictionaries with two-byte keys (never the labels written out per row and
    /// interned again in order of appearance, which drops the labels no row holds).
    #[test]
    fn projected_rows_keep_their_dictionary_keys_across_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part-0.parquet");
        let rows = 2 * ROW_GROUP_ROWS + 17;
        let dict = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8));
        let schema = Arc::new(Schema::new(vec![
            Field::new("age", DataType::Int32, true),
            Field::new("age_band", dict, true).with_dict_is_ordered(true),
        ]));
        let bands: DictionaryArray<Int16Type> = (0..rows).map(band).collect();
        let ages = Int32Array::from_iter_values((0..rows).map(|i| 12 + (i % 6) as i32));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(ages), Arc::new(bands)]).unwrap();
        let written = write_parquet(
            &path,
            &schema,
            std::slice::from_ref(&batch),
            &table(),
            OutputKind::Normalised,
        )
        .unwrap();
        let t = StreamedTable {
            table: "child_survey".into(),
            schema,
            rows_read: rows as u64,
            rows_written: written.rows,
            rows_quarantined: 0,
            universe_findings: Vec::new(),
            normalised: path,
            entries: Vec::new(),
            files: Vec::new(),
            sha256: Vec::new(),
        };
        let got = projected(&t, |f| f.name() == "age_band").unwrap();
        assert_eq!(got.num_rows(), rows);
        assert_eq!(got.num_columns(), 1);
        assert_eq!(got.schema().field(0).name(), "age_band");
        let column = got.column(0);
        let keys = column.as_dictionary::<Int16Type>();
        let values = keys.values().as_string::<i32>();
        let labels: Vec<Option<&str>> = keys
            .keys()
            .iter()
            .map(|k| k.map(|k| values.value(k as usize)))
            .collect();
        assert_eq!(labels, (0..rows).map(band).collect::<Vec<_>>());
        // each row group's codebook (5 labels, `dont_know` and `not_collected` included), not the 3 labels held
        assert_eq!(values.len(), 3 * 5);
        let codebook: Vec<&str> = values
            .iter()
            .take(5)
            .map(Option::unwrap_or_default)
            .collect();
        assert_eq!(
            codebook,
            ["12-13", "14-15", "16-17", "dont_know", "not_collected"]
        );
        // no column: the rows are still counted
        let none = projected(&t, |_| false).unwrap();
        assert_eq!((none.num_rows(), none.num_columns()), (rows, 0));
    }
}
