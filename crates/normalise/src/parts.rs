//! Tables delivered as several files (`[[deliveries.<table>.parts]]`, `Delivery::files`): each file is planned and
//! normalised with its own effective delivery (its mapping, codes and constants), against keys collected over
//! every file, and the files' outputs are joined here into one table, in config order. A one-file delivery is one
//! part and passes through unchanged, so its bytes do not depend on this module.
//!
//! Joining keeps the harmonised columns' codebook: every part's dictionary column holds the same labels (the
//! field's codebook, [`dh_config::Field::dictionary_labels`]), so the joined column is the parts' keys over the
//! first part's labels, never a merged dictionary. A field's metadata is what every part's says (a column one file
//! did not collect is not `not_collected` for the table).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, RecordBatch};
use arrow::datatypes::{DataType, Field as ArrowField, Int16Type, Schema, SchemaRef};
use arrow::error::ArrowError;
use dh_config::TableSchema;
use dh_ingest::RawTable;

use crate::TableOutput;
use crate::plan::TablePlan;

/// The raw rows of one delivered table as read: one [`RawTable`] per file of `Delivery::files`, in that order (a
/// one-file delivery is one `RawTable`).
pub trait TableParts {
    fn parts(&self) -> &[RawTable];
}

impl TableParts for RawTable {
    fn parts(&self) -> &[RawTable] {
        std::slice::from_ref(self)
    }
}

impl TableParts for Vec<RawTable> {
    fn parts(&self) -> &[RawTable] {
        self
    }
}

/// The outputs of a table's files (in config order) as one table: rows, quarantine lines and raw ids in order,
/// counts summed, routing findings merged. `source_file` lists the files.
pub fn join_outputs(
    schema: &TableSchema,
    mut outputs: Vec<TableOutput>,
) -> Result<TableOutput, ArrowError> {
    if outputs.len() <= 1 {
        return outputs
            .pop()
            .ok_or_else(|| ArrowError::InvalidArgumentError("a table without files".into()));
    }
    let arrow_schema = common_schema(outputs.iter().map(|o| o.batch.schema()))?;
    let batch = concat_keeping_codebooks(&arrow_schema, outputs.iter().map(|o| &o.batch))?;
    let quarantine_schema = outputs[0].quarantine.schema();
    let quarantine =
        concat_keeping_codebooks(&quarantine_schema, outputs.iter().map(|o| &o.quarantine))?;
    let mut joined = TableOutput {
        table: outputs[0].table.clone(),
        source_file: outputs
            .iter()
            .map(|o| o.source_file.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        rows_read: 0,
        rows_written: 0,
        rows_quarantined: 0,
        batch,
        quarantine,
        problems_by_reason: Default::default(),
        raw_ids: Vec::new(),
        universe_findings: Vec::new(),
        files: Vec::new(),
    };
    for o in outputs {
        joined.rows_read += o.rows_read;
        joined.rows_written += o.rows_written;
        joined.rows_quarantined += o.rows_quarantined;
        for (code, n) in o.problems_by_reason {
            *joined.problems_by_reason.entry(code).or_insert(0) += n;
        }
        joined.raw_ids.extend(o.raw_ids);
        joined.files.extend(o.files);
        crate::merge_universe_findings(schema, &mut joined.universe_findings, o.universe_findings);
    }
    Ok(joined)
}

/// Each harmonised column's metadata as every file's plan gives it (the entries all plans share): the metadata of
/// the table's written columns when it is normalised batch by batch.
pub fn common_metadata(schema: &TableSchema, plans: &[TablePlan]) -> Vec<HashMap<String, String>> {
    let mut plans = plans.iter();
    let Some(first) = plans.next() else {
        return Vec::new();
    };
    let mut metadata: Vec<HashMap<String, String>> = first
        .columns
        .iter()
        .map(|c| crate::field_metadata(schema, c))
        .collect();
    for plan in plans {
        for (meta, column) in metadata.iter_mut().zip(&plan.columns) {
            let other = crate::field_metadata(schema, column);
            meta.retain(|k, v| other.get(k) == Some(v));
        }
    }
    metadata
}

/// `batch` with its fields' metadata replaced by `metadata` (one map per field, [`common_metadata`]).
pub fn with_field_metadata(
    batch: &RecordBatch,
    metadata: &[HashMap<String, String>],
) -> Result<RecordBatch, ArrowError> {
    let old = batch.schema();
    let fields: Vec<ArrowField> = old
        .fields()
        .iter()
        .zip(metadata)
        .map(|(f, meta)| f.as_ref().clone().with_metadata(meta.clone()))
        .collect();
    let schema = Arc::new(Schema::new_with_metadata(fields, old.metadata().clone()));
    RecordBatch::try_new_with_options(
        schema,
        batch.columns().to_vec(),
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}

/// The schema of the parts' batches with each field's metadata reduced to the entries every part has.
fn common_schema(mut schemas: impl Iterator<Item = SchemaRef>) -> Result<SchemaRef, ArrowError> {
    let first = schemas
        .next()
        .ok_or_else(|| ArrowError::InvalidArgumentError("no schema".into()))?;
    let mut metadata: Vec<HashMap<String, String>> = first
        .fields()
        .iter()
        .map(|f| f.metadata().clone())
        .collect();
    for other in schemas {
        if other.fields().len() != metadata.len() {
            return Err(ArrowError::SchemaError(
                "the files of a table gave different columns".into(),
            ));
        }
        for (meta, field) in metadata.iter_mut().zip(other.fields()) {
            meta.retain(|k, v| field.metadata().get(k) == Some(v));
        }
    }
    let fields: Vec<ArrowField> = first
        .fields()
        .iter()
        .zip(metadata)
        .map(|(f, meta)| f.as_ref().clone().with_metadata(meta))
        .collect();
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        first.metadata().clone(),
    )))
}

/// Concatenates batches of the same columns; a dictionary column takes the keys of every batch over the first
/// batch's values (which every batch shares: the codebook), so no dictionary is merged or reordered.
fn concat_keeping_codebooks<'b>(
    schema: &SchemaRef,
    batches: impl Iterator<Item = &'b RecordBatch>,
) -> Result<RecordBatch, ArrowError> {
    let batches: Vec<&RecordBatch> = batches.collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let parts: Vec<&ArrayRef> = batches.iter().map(|b| b.column(i)).collect();
        let column = match field.data_type() {
            DataType::Dictionary(key, _) if key.as_ref() == &DataType::Int16 => {
                concat_dictionary(&parts)?
            }
            _ => {
                let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
                arrow::compute::concat(&refs)?
            }
        };
        columns.push(column);
    }
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
}

fn concat_dictionary(parts: &[&ArrayRef]) -> Result<ArrayRef, ArrowError> {
    let all: Vec<&DictionaryArray<Int16Type>> = parts
        .iter()
        .map(|a| a.as_dictionary::<Int16Type>())
        .collect();
    // a file whose every row was quarantined may come with no labels at all (Arrow filters to an empty array)
    let dictionaries: Vec<&DictionaryArray<Int16Type>> =
        all.iter().copied().filter(|d| !d.is_empty()).collect();
    let Some(first) = dictionaries.first().or(all.first()) else {
        return Err(ArrowError::InvalidArgumentError("no column".into()));
    };
    if dictionaries.iter().any(|d| d.values() != first.values()) {
        return Err(ArrowError::InvalidArgumentError(
            "the files of a table gave a categorical column different labels".into(),
        ));
    }
    let keys: Vec<&dyn Array> = dictionaries
        .iter()
        .map(|d| d.keys() as &dyn Array)
        .collect();
    let keys = arrow::compute::concat(&keys)?;
    let keys = keys.as_primitive::<Int16Type>().clone();
    Ok(Arc::new(DictionaryArray::try_new(
        keys,
        first.values().clone(),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int16Array, Int64Array, StringArray};

    fn batch(keys: &[i16], numbers: &[i64], not_collected: bool) -> RecordBatch {
        let labels: ArrayRef = Arc::new(StringArray::from(vec!["a", "b", "not_collected"]));
        let dict = DictionaryArray::try_new(Int16Array::from(keys.to_vec()), labels).unwrap();
        let mut meta = HashMap::from([("role".to_string(), "item".to_string())]);
        if not_collected {
            meta.insert("not_collected".into(), "true".into());
        }
        let schema = Schema::new(vec![
            ArrowField::new("c", dict.data_type().clone(), true).with_metadata(meta),
            ArrowField::new("n", DataType::Int64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(dict), Arc::new(Int64Array::from(numbers.to_vec()))],
        )
        .unwrap()
    }

    #[test]
    fn dictionary_columns_keep_the_codebook_and_metadata_is_what_every_part_says() {
        let a = batch(&[1, 1], &[1, 2], false);
        let b = batch(&[2], &[3], true);
        let schema = common_schema([a.schema(), b.schema()].into_iter()).unwrap();
        assert_eq!(schema.field(0).metadata().get("role").unwrap(), "item");
        assert!(!schema.field(0).metadata().contains_key("not_collected"));
        let joined = concat_keeping_codebooks(&schema, [&a, &b].into_iter()).unwrap();
        assert_eq!(joined.num_rows(), 3);
        let dict = joined.column(0).as_dictionary::<Int16Type>();
        assert_eq!(dict.values().len(), 3, "labels are not merged or dropped");
        assert_eq!(dict.keys().values().to_vec(), vec![1, 1, 2]);
    }

    #[test]
    fn a_file_without_rows_does_not_lose_the_codebook() {
        let a = batch(&[0, 1], &[1, 2], false);
        let empty = a.slice(0, 0);
        let labels: ArrayRef = Arc::new(StringArray::from(Vec::<&str>::new()));
        let no_labels =
            DictionaryArray::try_new(Int16Array::from(Vec::<i16>::new()), labels).unwrap();
        let no_labels: ArrayRef = Arc::new(no_labels);
        let joined = concat_dictionary(&[&no_labels, a.column(0), empty.column(0)]).unwrap();
        let dict = joined.as_dictionary::<Int16Type>();
        assert_eq!(dict.values().len(), 3);
        assert_eq!(dict.keys().values().to_vec(), vec![0, 1]);
    }

    #[test]
    fn parts_with_different_labels_are_refused() {
        let a = batch(&[0], &[1], false);
        let labels: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        let dict = DictionaryArray::try_new(Int16Array::from(vec![0i16]), labels).unwrap();
        let other: ArrayRef = Arc::new(dict);
        assert!(concat_dictionary(&[a.column(0), &other]).is_err());
    }
}
