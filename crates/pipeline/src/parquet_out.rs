//! Writes one Arrow table to one Parquet file with fixed settings so that the same rows always give the same
//! bytes: snappy compression, a pinned `created_by`, a fixed row-group size, batches concatenated first (so the
//! caller's batch boundaries cannot change the page layout), and schema metadata carrying the harmonised table
//! name, schema version and every column's description.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};
use dh_config::TableSchema;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::error::PipelineError;
use crate::hashing::HashingWriter;

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
    let err = |message: String| PipelineError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    let schema = annotate_schema(schema, table, kind);
    let batch = if batches.is_empty() {
        RecordBatch::new_empty(schema.clone())
    } else {
        let joined = arrow::compute::concat_batches(&batches[0].schema(), batches)
            .map_err(|e| err(e.to_string()))?;
        joined
            .with_schema(schema.clone())
            .map_err(|e| err(format!("batch does not match its schema: {e}")))?
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| PipelineError::io(parent, e))?;
    }
    let file = File::create(path).map_err(|e| PipelineError::io(path, e))?;
    let sink = HashingWriter::new(BufWriter::new(file));
    let mut writer =
        ArrowWriter::try_new(sink, schema.clone(), Some(writer_properties(table, kind)))
            .map_err(|e| err(e.to_string()))?;
    writer.write(&batch).map_err(|e| parquet_err(path, e))?;
    let sink = writer.into_inner().map_err(|e| parquet_err(path, e))?;
    let (buffered, sha256, bytes) = sink.finish().map_err(|e| PipelineError::io(path, e))?;
    // No fsync per file: publication by rename protects against a killed process (the page cache survives it);
    // surviving a power loss would need a sync of the staging folder before publishing (not done yet).
    buffered
        .into_inner()
        .map_err(|e| PipelineError::io(path, e.into_error()))?;
    Ok(WrittenFile {
        rows: batch.num_rows() as u64,
        bytes,
        sha256,
    })
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

fn writer_properties(table: &TableSchema, kind: OutputKind) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(created_by())
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_key_value_metadata(Some(vec![
            KeyValue::new(META_KIND.to_string(), kind.as_str().to_string()),
            KeyValue::new(META_TABLE.to_string(), table.name.clone()),
            KeyValue::new(META_SCHEMA_VERSION.to_string(), table.version.clone()),
        ]))
        .build()
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
}
