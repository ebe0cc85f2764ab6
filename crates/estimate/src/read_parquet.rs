//! Parquet reader: reads the requested columns into typed columns (numbers and booleans as `f64`,
//! strings and dictionaries as categorical).

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::EstimateError;
use crate::table::{Categorical, Column, MISSING_CODE, Table};

/// Reads `columns` (top-level fields, by name) from a Parquet file.
pub fn read_parquet(path: &Path, columns: &[String]) -> Result<Table, EstimateError> {
    let err = |e: &dyn std::fmt::Display| EstimateError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = crate::open_data_file(path)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(&e))?;
    let schema = builder.schema().clone();
    let available: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut roots = Vec::with_capacity(columns.len());
    for name in columns {
        let index = available.iter().position(|a| a == name).ok_or_else(|| {
            EstimateError::ColumnNotFound {
                path: path.to_path_buf(),
                column: name.clone(),
                flag: String::new(),
                available: available.join(", "),
            }
        })?;
        roots.push(index);
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(|e| err(&e))?;
    let mut builders: Vec<Builder> = columns.iter().map(|_| Builder::default()).collect();
    let mut n_rows = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| err(&e))?;
        for (name, builder) in columns.iter().zip(builders.iter_mut()) {
            let array = batch
                .column_by_name(name)
                .ok_or_else(|| err(&format!("column `{name}` missing from a batch")))?;
            builder.push(path, name, array.as_ref())?;
        }
        n_rows += batch.num_rows();
    }
    let mut table = Table {
        n_rows,
        ..Table::default()
    };
    for (name, builder) in columns.iter().zip(builders) {
        table.names.push(name.clone());
        table.columns.push(builder.finish());
    }
    Ok(table)
}

#[derive(Default)]
enum Builder {
    #[default]
    Empty,
    Numeric(Vec<f64>),
    Text {
        index: HashMap<String, u32>,
        labels: Vec<String>,
        codes: Vec<u32>,
    },
}

fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

fn is_numeric(data_type: &DataType) -> bool {
    data_type.is_numeric() || matches!(data_type, DataType::Boolean)
}

impl Builder {
    fn push(&mut self, path: &Path, name: &str, array: &dyn Array) -> Result<(), EstimateError> {
        let data_type = array.data_type();
        let cast_err = |e: arrow::error::ArrowError| EstimateError::Parquet {
            path: path.to_path_buf(),
            message: format!("column `{name}`: {e}"),
        };
        if matches!(self, Builder::Empty) {
            *self = if is_text(data_type) {
                Builder::Text {
                    index: HashMap::new(),
                    labels: Vec::new(),
                    codes: Vec::new(),
                }
            } else if is_numeric(data_type) {
                Builder::Numeric(Vec::new())
            } else {
                return Err(EstimateError::UnsupportedColumnType {
                    path: path.to_path_buf(),
                    column: name.to_string(),
                    data_type: data_type.to_string(),
                });
            };
        }
        match self {
            Builder::Numeric(values) => {
                let cast = arrow::compute::cast(array, &DataType::Float64).map_err(cast_err)?;
                let floats = cast.as_primitive::<arrow::datatypes::Float64Type>();
                values.reserve(floats.len());
                for i in 0..floats.len() {
                    values.push(if floats.is_null(i) {
                        f64::NAN
                    } else {
                        floats.value(i)
                    });
                }
            }
            Builder::Text {
                index,
                labels,
                codes,
            } => {
                let cast = arrow::compute::cast(array, &DataType::Utf8).map_err(cast_err)?;
                let strings = cast.as_string::<i32>();
                codes.reserve(strings.len());
                for i in 0..strings.len() {
                    if strings.is_null(i) {
                        codes.push(MISSING_CODE);
                        continue;
                    }
                    let value = strings.value(i);
                    let code = match index.get(value) {
                        Some(&c) => c,
                        None => {
                            let c = labels.len() as u32;
                            labels.push(value.to_string());
                            index.insert(value.to_string(), c);
                            c
                        }
                    };
                    codes.push(code);
                }
            }
            Builder::Empty => {}
        }
        Ok(())
    }

    fn finish(self) -> Column {
        match self {
            Builder::Empty => Column::Numeric(Vec::new()),
            Builder::Numeric(v) => Column::Numeric(v),
            Builder::Text { labels, codes, .. } => {
                Column::Categorical(Categorical::from_dictionary(codes, labels))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int32Array, RecordBatch, StringArray};
    use arrow::datatypes::{Field, Schema};
    use parquet::arrow::ArrowWriter;

    #[test]
    fn reads_numeric_and_text_with_nulls() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("w", DataType::Float64, true),
            Field::new("n", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Float64Array::from(vec![Some(1.5), None, Some(2.0)])),
                Arc::new(Int32Array::from(vec![Some(3), Some(4), None])),
                Arc::new(StringArray::from(vec![Some("b"), None, Some("a")])),
            ],
        )
        .unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut writer = ArrowWriter::try_new(file.reopen().unwrap(), schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let names: Vec<String> = ["s", "w", "n"].iter().map(|s| s.to_string()).collect();
        let t = read_parquet(file.path(), &names).unwrap();
        assert_eq!(t.n_rows, 3);
        let s = t.column("s").unwrap().to_categorical();
        assert_eq!(s.levels, vec!["a", "b"]);
        assert_eq!(s.codes, vec![1, MISSING_CODE, 0]);
        match t.column("w").unwrap() {
            Column::Numeric(v) => assert!(v[0] == 1.5 && v[1].is_nan() && v[2] == 2.0),
            other => panic!("{other:?}"),
        }
        match t.column("n").unwrap() {
            Column::Numeric(v) => assert!(v[0] == 3.0 && v[1] == 4.0 && v[2].is_nan()),
            other => panic!("{other:?}"),
        }
        let e = read_parquet(file.path(), &["nope".to_string()]).unwrap_err();
        assert!(
            matches!(&e, EstimateError::ColumnNotFound { column, .. } if column == "nope"),
            "{e}"
        );
    }
}
