//! Writes one Arrow table to one Parquet file with fixed settings so that the same rows always give the same
//! bytes: snappy compression, a pinned `created_by`, a fixed row-group size, each row group written from its rows
//! concatenated (so the caller's batch boundaries cannot change the page layout), and schema metadata carrying the
//! harmonised table name, schema version and every column's description. [`TableWriter`] takes the rows batch by
//! batch and holds at most one row group of them.
//!
//! Categorical columns of normalised tables are written through [`crate::parquet_dict`]: their Parquet dictionary
//! is the field's codebook ([`dh_config::Field::dictionary_labels`]) in codebook order, the same for every
//! country, including labels no row holds (written from the rows' codebook positions, [`crate::parquet_chunk`]). The
//! Arrow schema stored in the file keeps them dictionaries, ordered where the schema says `ordered`.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use dh_config::TableSchema;
use parquet::arrow::arrow_writer::{ArrowRowGroupWriterFactory, compute_leaves};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter, add_encoded_arrow_schema_to_metadata};
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{WriterProperties, WriterPropertiesBuilder};
use parquet::file::writer::SerializedFileWriter;

use crate::error::PipelineError;
use crate::hashing::HashingWriter;
use crate::parquet_dict::{codebook_positions, write_codebook_chunk};

/// Rows per Parquet row group; fixed so file layout never depends on anything but the data.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;

/// Metadata key of the harmonised table name.
pub const META_TABLE: &str = "dh.table";
/// Metadata key of the harmonised schema version.
pub const META_SCHEMA_VERSION: &str = "dh.schema_version";
/// Metadata key saying whether the file holds harmonised rows (`normalised`) or rejected rows (`quarantine`).
pub const META_KIND: &str = "dh.kind";
/// Field metadata key of a column's description.
pub const META_DESCRIPTION: &str = "description";

/// What a written file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Normalised,
    Quarantine,
}

impl OutputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Normalised => "normalised",
            OutputKind::Quarantine => "quarantine",
        }
    }
}

/// Rows, size and hash of a written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// The `created_by` string written into every file: the tool and its version, nothing that varies between runs.
pub fn created_by() -> String {
    format!("dh {}", env!("CARGO_PKG_VERSION"))
}

/// Writes `batches` (all with the same schema) to `path`. An empty batch list needs `schema` to write an empty
/// file with the right columns.
pub fn write_parquet(
    path: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    table: &TableSchema,
    kind: OutputKind,
) -> Result<WrittenFile, PipelineError> {
    let mut writer = TableWriter::create(path, schema, table, kind)?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()
}

type Sink = HashingWriter<BufWriter<File>>;

/// One Parquet file written batch by batch in bounded memory: rows are buffered until a row group of
/// [`ROW_GROUP_ROWS`] rows is full, and each row group is written from the rows concatenated, so the bytes are
/// those [`write_parquet`] writes for the same rows whatever the batch boundaries. The file's SHA-256 and size are
/// computed from the bytes as they are written.
pub struct TableWriter {
    path: std::path::PathBuf,
    schema: SchemaRef,
    codebooks: Vec<Option<Arc<[String]>>>,
    parquet_schema: parquet::schema::types::SchemaDescriptor,
    props: Arc<WriterProperties>,
    writer: SerializedFileWriter<Sink>,
    factory: ArrowRowGroupWriterFactory,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    rows: u64,
    row_groups: usize,
}

impl TableWriter {
    /// Creates `path` (and its folder) for rows of `schema`, annotated for `table` and `kind`.
    pub fn create(
        path: &Path,
        schema: &SchemaRef,
        table: &TableSchema,
        kind: OutputKind,
    ) -> Result<Self, PipelineError> {
        let schema = annotate_schema(schema, table, kind);
        let codebooks = codebooks(&schema, table, kind);
        let parquet_schema = ArrowSchemaConverter::new()
            .convert(&schema)
            .map_err(|e| parquet_err(path, e))?;
        let mut props = writer_properties(table, kind).build();
        add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        let props = Arc::new(props);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PipelineError::io(parent, e))?;
        }
        let file = File::create(path).map_err(|e| PipelineError::io(path, e))?;
        let sink = HashingWriter::new(BufWriter::new(file));
        let writer =
            SerializedFileWriter::new(sink, parquet_schema.root_schema_ptr(), Arc::clone(&props))
                .map_err(|e| parquet_err(path, e))?;
        let factory = ArrowRowGroupWriterFactory::new(&writer, Arc::clone(&schema));
        Ok(TableWriter {
            path: path.to_path_buf(),
            schema,
            codebooks,
            parquet_schema,
            props,
            writer,
            factory,
            pending: Vec::new(),
            pending_rows: 0,
            rows: 0,
            row_groups: 0,
        })
    }

    /// Appends the rows of `batch` (columns as the schema given to [`TableWriter::create`]).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), PipelineError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = batch
            .clone()
            .with_schema(self.schema.clone())
            .map_err(|e| self.err(format!("batch does not match its schema: {e}")))?;
        self.pending_rows += batch.num_rows();
        self.rows += batch.num_rows() as u64;
        self.pending.push(batch);
        if self.pending_rows >= ROW_GROUP_ROWS {
            self.flush(false)?;
        }
        Ok(())
    }

    /// Writes the buffered rows as full row groups, and the rest too when `all`.
    fn flush(&mut self, all: bool) -> Result<(), PipelineError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let joined = if self.pending.len() == 1 {
            self.pending
                .pop()
                .unwrap_or_else(|| RecordBatch::new_empty(self.schema.clone()))
        } else {
            let joined = arrow::compute::concat_batches(&self.schema, &self.pending)
                .map_err(|e| self.err(e.to_string()))?;
            self.pending.clear();
            joined
        };
        self.pending.clear();
        let mut start = 0;
        while start < joined.num_rows() {
            let rows = ROW_GROUP_ROWS.min(joined.num_rows() - start);
            if rows < ROW_GROUP_ROWS && !all {
                break;
            }
            let slice = joined.slice(start, rows);
            self.write_row_group(&slice)
                .map_err(|e| parquet_err(&self.path, e))?;
            start += rows;
        }
        self.pending_rows = joined.num_rows() - start;
        if self.pending_rows > 0 {
            self.pending.push(joined.slice(start, self.pending_rows));
        }
        Ok(())
    }

    /// Writes one row group: codebook columns through [`write_codebook_chunk`], the others through the `parquet`
    /// crate's Arrow column writers.
    fn write_row_group(&mut self, slice: &RecordBatch) -> Result<(), ParquetError> {
        let mut arrow_writers = self
            .factory
            .create_column_writers(self.row_groups)?
            .into_iter();
        let mut row_group = self.writer.next_row_group()?;
        let mut leaf = 0;
        for ((field, column), codebook) in self
            .schema
            .fields()
            .iter()
            .zip(slice.columns())
            .zip(&self.codebooks)
        {
            let missing =
                || ParquetError::General(format!("no column writer for `{}`", field.name()));
            match codebook {
                Some(codebook) => {
                    // a flat dictionary column is one leaf; its Arrow writer is not used
                    arrow_writers.next().ok_or_else(missing)?;
                    let positions = codebook_positions(field.name(), column, codebook)?;
                    let descr = self.parquet_schema.column(leaf);
                    let (bytes, close) =
                        write_codebook_chunk(descr, &self.props, codebook, &positions)?;
                    row_group.append_column(&bytes, close)?;
                    leaf += 1;
                }
                None => {
                    for leaf_column in compute_leaves(field, column)? {
                        let mut column_writer = arrow_writers.next().ok_or_else(missing)?;
                        column_writer.write(&leaf_column)?;
                        column_writer.close()?.append_to_row_group(&mut row_group)?;
                        leaf += 1;
                    }
                }
            }
        }
        row_group.close()?;
        self.row_groups += 1;
        Ok(())
    }

    /// Rows written so far (buffered rows included).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the last row group and the footer; returns rows, size and hash of the file.
    pub fn finish(mut self) -> Result<WrittenFile, PipelineError> {
        self.flush(true)?;
        let path = self.path.clone();
        let sink = self
            .writer
            .into_inner()
            .map_err(|e| parquet_err(&path, e))?;
        let (buffered, sha256, bytes) = sink.finish().map_err(|e| PipelineError::io(&path, e))?;
        // No fsync per file: publication by rename protects against a killed process (the page cache survives it);
        // surviving a power loss would need a sync of the staging folder before publishing (not done yet).
        buffered
            .into_inner()
            .map_err(|e| PipelineError::io(&path, e.into_error()))?;
        Ok(WrittenFile {
            rows: self.rows,
            bytes,
            sha256,
        })
    }

    fn err(&self, message: String) -> PipelineError {
        PipelineError::Parquet {
            path: self.path.clone(),
            message,
        }
    }
}

/// A Parquet writer error; one caused by the file system (disk full, ...) is an I/O error of `path`.
fn parquet_err(path: &Path, e: parquet::errors::ParquetError) -> PipelineError {
    if let parquet::errors::ParquetError::External(inner) = &e
        && let Some(io) = inner.downcast_ref::<std::io::Error>()
    {
        let copy = io
            .raw_os_error()
            .map(std::io::Error::from_raw_os_error)
            .unwrap_or_else(|| std::io::Error::new(io.kind(), io.to_string()));
        return PipelineError::io(path, copy);
    }
    PipelineError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes one batch that has no harmonised schema (the indicator table) with the same fixed settings; the
/// batch's schema metadata (the flag legend of the indicator table) is also written as Parquet key-value
/// metadata, sorted by key.
pub fn write_plain_parquet(path: &Path, batch: &RecordBatch) -> Result<WrittenFile, PipelineError> {
    let err = |message: String| PipelineError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| PipelineError::io(parent, e))?;
    }
    let file = File::create(path).map_err(|e| PipelineError::io(path, e))?;
    let sink = HashingWriter::new(BufWriter::new(file));
    let schema = batch.schema();
    let mut metadata: Vec<KeyValue> = schema
        .metadata()
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    metadata.sort_by(|a, b| a.key.cmp(&b.key));
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(created_by())
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_key_value_metadata((!metadata.is_empty()).then_some(metadata))
        .build();
    let mut writer =
        ArrowWriter::try_new(sink, schema, Some(props)).map_err(|e| err(e.to_string()))?;
    writer.write(batch).map_err(|e| parquet_err(path, e))?;
    let sink = writer.into_inner().map_err(|e| parquet_err(path, e))?;
    let (buffered, sha256, bytes) = sink.finish().map_err(|e| PipelineError::io(path, e))?;
    buffered
        .into_inner()
        .map_err(|e| PipelineError::io(path, e.into_error()))?;
    Ok(WrittenFile {
        rows: batch.num_rows() as u64,
        bytes,
        sha256,
    })
}

fn writer_properties(table: &TableSchema, kind: OutputKind) -> WriterPropertiesBuilder {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(created_by())
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_key_value_metadata(Some(vec![
            KeyValue::new(META_KIND.to_string(), kind.as_str().to_string()),
            KeyValue::new(META_TABLE.to_string(), table.name.clone()),
            KeyValue::new(META_SCHEMA_VERSION.to_string(), table.version.clone()),
        ]))
}

/// The codebook of each column written through [`crate::parquet_dict`]: a dictionary-of-strings column of a
/// normalised table whose field has categories; `None` for every other column.
fn codebooks(schema: &Schema, table: &TableSchema, kind: OutputKind) -> Vec<Option<Arc<[String]>>> {
    schema
        .fields()
        .iter()
        .map(|f| {
            let strings =
                matches!(f.data_type(), DataType::Dictionary(_, v) if **v == DataType::Utf8);
            if kind != OutputKind::Normalised || !strings {
                return None;
            }
            let def = table.field(f.name())?;
            def.dictionary_labels(&table.missing_values).map(Arc::from)
        })
        .collect()
}

/// Adds table name, schema version and kind to the schema metadata, and each harmonised column's description to
/// its field metadata (keeping whatever metadata the batches already carry; ours wins on a key clash).
pub fn annotate_schema(schema: &SchemaRef, table: &TableSchema, kind: OutputKind) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut meta: HashMap<String, String> = f.metadata().clone();
            if kind == OutputKind::Normalised
                && let Some(def) = table.field(f.name())
            {
                meta.insert(META_DESCRIPTION.to_string(), def.description.clone());
            }
            f.as_ref().clone().with_metadata(meta)
        })
        .collect();
    let mut meta = schema.metadata().clone();
    meta.insert(META_TABLE.to_string(), table.name.clone());
    meta.insert(META_SCHEMA_VERSION.to_string(), table.version.clone());
    meta.insert(META_KIND.to_string(), kind.as_str().to_string());
    Arc::new(Schema::new_with_metadata(fields, meta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{DictionaryArray, Int32Array};
    use arrow::datatypes::{DataType, Int32Type};

    fn table() -> TableSchema {
        serde_json::from_value(serde_json::json!({
            "name": "child_survey", "title": "Child survey", "version": "1.2.0",
            "fields": [
                {"name": "age", "type": "integer", "description": "Age in completed years"},
                {"name": "sex", "type": "string", "description": "Sex of the child",
                 "categories": [{"value": 1, "label": "male"}, {"value": 2, "label": "female"}]}
            ]
        }))
        .unwrap()
    }

    fn batch(ages: &[i32]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("age", DataType::Int32, true),
            Field::new(
                "sex",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
        ]));
        let sex: DictionaryArray<Int32Type> = ages
            .iter()
            .map(|a| if a % 2 == 0 { "male" } else { "female" })
            .collect();
        RecordBatch::try_new(
            schema,
            vec![Arc::new(Int32Array::from(ages.to_vec())), Arc::new(sex)],
        )
        .unwrap()
    }

    #[test]
    fn batch_boundaries_do_not_change_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let one = batch(&[12, 13, 14, 15, 16, 17]);
        let split = [batch(&[12, 13]), batch(&[14, 15, 16]), batch(&[17])];
        let a = write_parquet(
            &dir.path().join("a.parquet"),
            &one.schema(),
            std::slice::from_ref(&one),
            &table(),
            OutputKind::Normalised,
        )
        .unwrap();
        let b = write_parquet(
            &dir.path().join("b/c.parquet"),
            &one.schema(),
            &split,
            &table(),
            OutputKind::Normalised,
        )
        .unwrap();
        assert_eq!(a.rows, 6);
        assert_eq!(a, b);
        let bytes_a = std::fs::read(dir.path().join("a.parquet")).unwrap();
        assert_eq!(
            bytes_a,
            std::fs::read(dir.path().join("b/c.parquet")).unwrap()
        );
        assert_eq!(crate::hashing::sha256_hex(&bytes_a), a.sha256);
    }

    #[test]
    fn rows_streamed_in_batches_over_several_row_groups_give_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let ages: Vec<i32> = (0..2 * ROW_GROUP_ROWS + 123)
            .map(|i| 12 + (i % 6) as i32)
            .collect();
        let one = batch(&ages);
        let a = write_parquet(
            &dir.path().join("a.parquet"),
            &one.schema(),
            std::slice::from_ref(&one),
            &table(),
            OutputKind::Normalised,
        )
        .unwrap();
        let mut writer = TableWriter::create(
            &dir.path().join("b.parquet"),
            &one.schema(),
            &table(),
            OutputKind::Normalised,
        )
        .unwrap();
        let mut start = 0;
        while start < ages.len() {
            let n = 7001.min(ages.len() - start);
            writer.write(&one.slice(start, n)).unwrap();
            start += n;
        }
        assert_eq!(writer.rows(), ages.len() as u64);
        let b = writer.finish().unwrap();
        assert_eq!(a, b);
        let bytes = std::fs::read(dir.path().join("b.parquet")).unwrap();
        assert_eq!(bytes, std::fs::read(dir.path().join("a.parquet")).unwrap());
        let reader =
            parquet::file::reader::SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        use parquet::file::reader::FileReader;
        assert_eq!(reader.metadata().num_row_groups(), 3);
    }

    #[test]
    fn metadata_and_settings_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let b = batch(&[12, 17]);
        write_parquet(
            &path,
            &b.schema(),
            std::slice::from_ref(&b),
            &table(),
            OutputKind::Normalised,
        )
        .unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            File::open(&path).unwrap(),
        )
        .unwrap();
        let meta = reader.metadata().file_metadata();
        assert_eq!(meta.created_by(), Some(created_by().as_str()));
        let kv = meta.key_value_metadata().unwrap();
        assert!(
            kv.iter()
                .any(|k| k.key == META_SCHEMA_VERSION && k.value.as_deref() == Some("1.2.0"))
        );
        let schema = reader.schema().clone();
        assert_eq!(
            schema.metadata().get(META_TABLE).map(String::as_str),
            Some("child_survey")
        );
        let age = schema.field_with_name("age").unwrap();
        assert_eq!(
            age.metadata().get(META_DESCRIPTION).map(String::as_str),
            Some("Age in completed years")
        );
        let col = reader.metadata().row_group(0).column(0);
        assert_eq!(col.compression(), Compression::SNAPPY);
        let rows: usize = reader.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 2);
    }

    #[test]
    fn empty_table_writes_header_only_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new(
            "reason",
            DataType::Utf8,
            false,
        )]));
        let w = write_parquet(&path, &schema, &[], &table(), OutputKind::Quarantine).unwrap();
        assert_eq!(w.rows, 0);
        assert!(path.exists());
    }

    fn codebook_table() -> TableSchema {
        serde_json::from_value(serde_json::json!({
            "name": "child_survey", "title": "Child survey", "version": "1.2.0",
            "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -4, "label": "not_collected"}],
            "fields": [
                {"name": "age", "type": "integer", "description": "Age"},
                {"name": "age_band", "type": "string", "description": "Band", "ordered": true,
                 "categories": [{"value": 1, "label": "12-13"}, {"value": 2, "label": "14-15"},
                                {"value": 3, "label": "16-17"}]},
                {"name": "q", "type": "string", "description": "Item",
                 "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}]}
            ]
        }))
        .unwrap()
    }

    /// `rows` rows whose bands appear in the order 14-15, 16-17, 12-13 (never the codebook's), with nulls, and an
    /// item column that is null throughout; the in-memory dictionaries are in order of appearance too.
    fn codebook_batch(rows: usize) -> RecordBatch {
        let band = |i: usize| match i % 7 {
            0..=2 => Some("14-15"),
            3 | 4 => Some("16-17"),
            5 => None,
            _ => Some("12-13"),
        };
        let bands: DictionaryArray<arrow::datatypes::Int16Type> = (0..rows).map(band).collect();
        let items: DictionaryArray<arrow::datatypes::Int16Type> =
            (0..rows).map(|_| None::<&str>).collect();
        let dict = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8));
        let schema = Arc::new(Schema::new(vec![
            Field::new("age", DataType::Int32, true),
            Field::new("age_band", dict.clone(), true).with_dict_is_ordered(true),
            Field::new("q", dict, true),
        ]));
        let ages = Int32Array::from_iter_values((0..rows).map(|i| 12 + (i % 6) as i32));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(ages), Arc::new(bands), Arc::new(items)],
        )
        .unwrap()
    }

    fn read_back(path: &Path) -> (SchemaRef, Vec<RecordBatch>) {
        let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            File::open(path).unwrap(),
        )
        .unwrap();
        let schema = builder.schema().clone();
        let reader = builder.build().unwrap();
        (schema, reader.map(|b| b.unwrap()).collect())
    }

    fn strings(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
        batches
            .iter()
            .flat_map(|b| {
                let c = arrow::compute::cast(b.column_by_name(column).unwrap(), &DataType::Utf8)
                    .unwrap();
                let c = c
                    .as_any()
                    .downcast_ref::<arrow::array::StringArray>()
                    .unwrap()
                    .clone();
                c.iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>()
            })
            .collect()
    }

    fn dictionary(batch: &RecordBatch, column: &str) -> Vec<String> {
        use arrow::array::AsArray;
        let d = batch.column_by_name(column).unwrap().as_any_dictionary();
        let v = d.values().as_string::<i32>();
        v.iter().map(|s| s.unwrap().to_string()).collect()
    }

    /// The file's dictionaries are the codebooks (with labels no row holds), in every row group, whatever the order
    /// of appearance; every value reads back unchanged; the ordered flag and the compression of the other columns
    /// are kept.
    #[test]
    fn categorical_columns_are_written_with_their_codebook() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.parquet");
        let rows = ROW_GROUP_ROWS + 1000;
        let b = codebook_batch(rows);
        let table = codebook_table();
        let written = write_parquet(
            &path,
            &b.schema(),
            std::slice::from_ref(&b),
            &table,
            OutputKind::Normalised,
        )
        .unwrap();
        assert_eq!(written.rows, rows as u64);
        let (schema, batches) = read_back(&path);
        let band = ["12-13", "14-15", "16-17", "dont_know", "not_collected"];
        let item = ["yes", "no", "dont_know", "not_collected"];
        let meta =
            parquet::file::reader::SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        use parquet::file::reader::FileReader;
        assert_eq!(meta.metadata().num_row_groups(), 2);
        for batch in &batches {
            assert_eq!(dictionary(batch, "age_band"), band);
            assert_eq!(dictionary(batch, "q"), item);
        }
        assert_eq!(
            strings(&batches, "age_band"),
            strings(std::slice::from_ref(&b), "age_band")
        );
        assert_eq!(strings(&batches, "q"), vec![None; rows]);
        assert_eq!(
            strings(&batches, "age"),
            strings(std::slice::from_ref(&b), "age")
        );
        let field = schema.field_with_name("age_band").unwrap();
        assert_eq!(field.dict_is_ordered(), Some(true));
        assert_eq!(
            schema.field_with_name("q").unwrap().dict_is_ordered(),
            Some(false)
        );
        let rg = meta.metadata().row_group(0);
        assert_eq!(rg.column(0).compression(), Compression::SNAPPY);
        assert_eq!(rg.column(1).compression(), Compression::SNAPPY);
        // the chunk statistics still describe the values
        let stats = rg.column(1).statistics().unwrap();
        assert_eq!(stats.min_bytes_opt(), Some("12-13".as_bytes()));
        assert_eq!(stats.max_bytes_opt(), Some("16-17".as_bytes()));
        assert_eq!(
            stats.null_count_opt(),
            Some((0..ROW_GROUP_ROWS).filter(|i| i % 7 == 5).count() as u64)
        );
    }

    /// The same rows give the same bytes, and the values are those the plain Arrow writer writes.
    #[test]
    fn codebook_files_are_deterministic_and_hold_the_arrow_writer_values() {
        let dir = tempfile::tempdir().unwrap();
        let b = codebook_batch(5000);
        let table = codebook_table();
        let write = |name: &str| {
            let path = dir.path().join(name);
            write_parquet(
                &path,
                &b.schema(),
                std::slice::from_ref(&b),
                &table,
                OutputKind::Normalised,
            )
            .unwrap();
            std::fs::read(path).unwrap()
        };
        assert_eq!(write("a.parquet"), write("b.parquet"));
        let plain = dir.path().join("plain.parquet");
        write_plain_parquet(&plain, &b).unwrap();
        let (_, ours) = read_back(&dir.path().join("a.parquet"));
        let (_, theirs) = read_back(&plain);
        for column in ["age", "age_band", "q"] {
            assert_eq!(strings(&ours, column), strings(&theirs, column), "{column}");
        }
        // the plain writer's dictionary follows the rows; ours the codebook
        assert_eq!(
            dictionary(&theirs[0], "age_band"),
            ["14-15", "16-17", "12-13"]
        );
        assert_eq!(
            dictionary(&ours[0], "age_band")[..3],
            ["12-13", "14-15", "16-17"]
        );
    }

    /// A label outside the codebook is an error naming the column, not a silent change; quarantine files are
    /// written as before.
    #[test]
    fn values_outside_the_codebook_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dict = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8));
        let schema = Arc::new(Schema::new(vec![Field::new("q", dict, true)]));
        let q: DictionaryArray<arrow::datatypes::Int16Type> =
            vec!["yes", "perhaps"].into_iter().collect();
        let b = RecordBatch::try_new(schema, vec![Arc::new(q)]).unwrap();
        let err = write_parquet(
            &dir.path().join("x.parquet"),
            &b.schema(),
            std::slice::from_ref(&b),
            &codebook_table(),
            OutputKind::Normalised,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("column `q` holds a value that is not in its codebook"),
            "{err}"
        );
        assert!(!err.contains("perhaps"), "{err}");
        let path = dir.path().join("q.parquet");
        write_parquet(
            &path,
            &b.schema(),
            std::slice::from_ref(&b),
            &codebook_table(),
            OutputKind::Quarantine,
        )
        .unwrap();
        let (_, batches) = read_back(&path);
        assert_eq!(dictionary(&batches[0], "q"), ["yes", "perhaps"]);
    }
}
