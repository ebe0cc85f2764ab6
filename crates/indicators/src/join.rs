//! Applies a `[tables.<table>.join]` of `pipelines/pipeline.toml`: appends the named columns of another table to
//! each row, matched on a key (caregiver rows take the child's design and demographic columns through
//! `household_id`). Rows without a match get nulls and are counted; a key that appears twice in the other table is
//! an error, because the match would be ambiguous.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, Field, Schema};

use crate::pipeline_config::Join;

/// The joined batch and which of its rows found a match.
#[derive(Debug, Clone)]
pub struct Joined {
    pub batch: RecordBatch,
    /// Rows without a match (their appended columns are null).
    pub unmatched: usize,
    /// Per row of the batch: whether a row of the other table matched it.
    pub matched: Vec<bool>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JoinError {
    #[error("join of `{table}` with `{other}`: column `{column}` is missing from `{in_table}`")]
    MissingColumn {
        table: String,
        other: String,
        column: String,
        in_table: String,
    },
    #[error("join of `{table}` with `{other}`: key `{key}` cannot be read as text ({data_type})")]
    KeyType {
        table: String,
        other: String,
        key: String,
        data_type: String,
    },
    #[error(
        "join of `{table}` with `{other}`: key value {value:?} appears in rows {first} and {second} of `{other}`"
    )]
    DuplicateKey {
        table: String,
        other: String,
        value: String,
        first: usize,
        second: usize,
    },
    #[error("join of `{table}` with `{other}`: column `{column}` already exists in `{table}`")]
    ColumnExists {
        table: String,
        other: String,
        column: String,
    },
    #[error("join of `{table}` with `{other}`: {message}")]
    Arrow {
        table: String,
        other: String,
        message: String,
    },
}

/// Appends `join.columns` of `other` (table `join.table`) to `batch` (table `table`), matched on `join.on`.
pub fn apply_join(
    table: &str,
    batch: &RecordBatch,
    other: &RecordBatch,
    join: &Join,
) -> Result<Joined, JoinError> {
    let indices = join_rows(table, batch, other, join)?;
    let unmatched = indices.null_count();
    for name in &join.columns {
        if batch.column_by_name(name).is_some() {
            return Err(JoinError::ColumnExists {
                table: table.to_string(),
                other: join.table.clone(),
                column: name.clone(),
            });
        }
        if other.column_by_name(name).is_none() {
            return Err(JoinError::MissingColumn {
                table: table.to_string(),
                other: join.table.clone(),
                column: name.clone(),
                in_table: join.table.clone(),
            });
        }
    }
    let batch = with_taken_columns(table, batch, other, join, &indices, &join.columns)?;
    let matched = (0..indices.len()).map(|i| indices.is_valid(i)).collect();
    Ok(Joined {
        batch,
        unmatched,
        matched,
    })
}

/// The row of `other` (table `join.table`) whose `join.on` matches each row of `batch` (table `table`), null
/// where none does: the key checks of [`apply_join`] (both keys present and readable as text, no key twice in
/// `other`) without taking any column.
pub fn join_rows(
    table: &str,
    batch: &RecordBatch,
    other: &RecordBatch,
    join: &Join,
) -> Result<UInt32Array, JoinError> {
    let names = (table.to_string(), join.table.clone());
    let missing = |column: &str, in_table: &str| JoinError::MissingColumn {
        table: names.0.clone(),
        other: names.1.clone(),
        column: column.to_string(),
        in_table: in_table.to_string(),
    };
    let here_key = batch
        .column_by_name(&join.on)
        .ok_or_else(|| missing(&join.on, table))?;
    let there_key = other
        .column_by_name(&join.on)
        .ok_or_else(|| missing(&join.on, &join.table))?;
    let here_key = key_text(here_key, &names, &join.on)?;
    let there_key = key_text(there_key, &names, &join.on)?;
    let here_key = here_key.as_string::<i32>();
    let there_key = there_key.as_string::<i32>();
    // aHash with seeds drawn per process from std's random state (as resistant to crafted collisions as SipHash
    // is meant to be, and faster on long keys); only lookups are made, never an iteration whose order could
    // reach an output
    let seeds = std::collections::hash_map::RandomState::new();
    let seed = |i: u64| std::hash::BuildHasher::hash_one(&seeds, i);
    let hasher = ahash::RandomState::with_seeds(seed(0), seed(1), seed(2), seed(3));
    let mut index: HashMap<&str, usize, ahash::RandomState> =
        HashMap::with_capacity_and_hasher(there_key.len(), hasher);
    for (row, key) in there_key.iter().enumerate() {
        if let Some(k) = key
            && let Some(first) = index.insert(k, row)
        {
            return Err(JoinError::DuplicateKey {
                table: names.0,
                other: names.1,
                value: k.to_string(),
                first: first + 1,
                second: row + 1,
            });
        }
    }
    Ok(here_key
        .iter()
        .map(|k| k.and_then(|k| index.get(k)).map(|&r| r as u32))
        .collect())
}

/// `batch` with the columns `columns` of `other` (table `join.table`) appended, taken at `rows` (one per row of
/// `batch`, from [`join_rows`]; null where none matched).
pub fn with_taken_columns(
    table: &str,
    batch: &RecordBatch,
    other: &RecordBatch,
    join: &Join,
    rows: &UInt32Array,
    columns: &[String],
) -> Result<RecordBatch, JoinError> {
    let arrow_err = |e: arrow::error::ArrowError| JoinError::Arrow {
        table: table.to_string(),
        other: join.table.clone(),
        message: e.to_string(),
    };
    let mut fields: Vec<Arc<Field>> = batch.schema().fields().iter().cloned().collect();
    let mut arrays: Vec<ArrayRef> = batch.columns().to_vec();
    for name in columns {
        let (i, field) = other
            .schema()
            .column_with_name(name)
            .map(|(i, f)| (i, f.clone()))
            .ok_or_else(|| JoinError::MissingColumn {
                table: table.to_string(),
                other: join.table.clone(),
                column: name.clone(),
                in_table: join.table.clone(),
            })?;
        let taken = take(other.column(i).as_ref(), rows, None).map_err(arrow_err)?;
        fields.push(Arc::new(field.with_nullable(true)));
        arrays.push(taken);
    }
    let schema = Arc::new(Schema::new_with_metadata(
        fields,
        batch.schema().metadata().clone(),
    ));
    RecordBatch::try_new(schema, arrays).map_err(arrow_err)
}

fn key_text(array: &ArrayRef, names: &(String, String), key: &str) -> Result<ArrayRef, JoinError> {
    cast(array, &DataType::Utf8).map_err(|_| JoinError::KeyType {
        table: names.0.clone(),
        other: names.1.clone(),
        key: key.to_string(),
        data_type: array.data_type().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use arrow::array::{DictionaryArray, Int64Array, StringArray};
    use arrow::datatypes::Int16Type;

    use super::*;

    fn join() -> Join {
        Join {
            table: "child_survey".into(),
            on: "household_id".into(),
            columns: vec!["sex".into(), "age".into()],
        }
    }

    fn child() -> RecordBatch {
        let hh: ArrayRef = Arc::new(StringArray::from(vec!["h1", "h2", "h3"]));
        let sex_values = Arc::new(StringArray::from(vec!["male", "female"]));
        let sex: ArrayRef = Arc::new(
            DictionaryArray::<Int16Type>::try_new(
                arrow::array::Int16Array::from(vec![0, 1, 1]),
                sex_values,
            )
            .unwrap_or_else(|e| panic!("{e}")),
        );
        let age: ArrayRef = Arc::new(Int64Array::from(vec![12, 15, 17]));
        RecordBatch::try_from_iter(vec![("household_id", hh), ("sex", sex), ("age", age)])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn caregiver(keys: Vec<Option<&str>>) -> RecordBatch {
        let n = keys.len();
        let hh: ArrayRef = Arc::new(StringArray::from(keys));
        let q: ArrayRef = Arc::new(StringArray::from(vec!["yes"; n]));
        RecordBatch::try_from_iter(vec![("household_id", hh), ("would_report", q)])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn appends_matched_columns_and_counts_unmatched_rows() {
        let j = apply_join(
            "caregiver_survey",
            &caregiver(vec![Some("h3"), Some("h1"), Some("zz"), None]),
            &child(),
            &join(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(j.unmatched, 2);
        let b = &j.batch;
        assert_eq!(b.num_columns(), 4);
        let age = b.column_by_name("age").map(|a| {
            a.as_primitive::<arrow::datatypes::Int64Type>()
                .iter()
                .collect::<Vec<_>>()
        });
        assert_eq!(age, Some(vec![Some(17), Some(12), None, None]));
        let sex = b.column_by_name("sex").unwrap_or_else(|| panic!("sex"));
        assert!(matches!(sex.data_type(), DataType::Dictionary(_, _)));
        let sex = cast(sex, &DataType::Utf8).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sex.as_string::<i32>().iter().collect::<Vec<_>>(),
            vec![Some("female"), Some("male"), None, None]
        );
    }

    /// The rows matched once and columns taken later, a few at a time, are the columns the join appends.
    #[test]
    fn rows_matched_once_give_the_joined_columns_taken_later() {
        let here = caregiver(vec![Some("h3"), Some("h1"), Some("zz"), None]);
        let rows = join_rows("caregiver_survey", &here, &child(), &join())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rows.iter().collect::<Vec<_>>(),
            vec![Some(2), Some(0), None, None]
        );
        let joined = apply_join("caregiver_survey", &here, &child(), &join())
            .unwrap_or_else(|e| panic!("{e}"));
        let age_only = with_taken_columns(
            "caregiver_survey",
            &here,
            &child(),
            &join(),
            &rows,
            &["age".to_string()],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(age_only.num_columns(), 3);
        assert_eq!(
            age_only.column_by_name("age"),
            joined.batch.column_by_name("age")
        );
        assert!(
            age_only
                .schema()
                .field_with_name("age")
                .is_ok_and(|f| f.is_nullable())
        );
        let e =
            with_taken_columns("t", &here, &child(), &join(), &rows, &["nope".to_string()]).err();
        assert!(matches!(e, Some(JoinError::MissingColumn { .. })), "{e:?}");
    }

    #[test]
    fn duplicate_keys_and_missing_columns_are_errors() {
        let dup = caregiver(vec![Some("h1"), Some("h1")]);
        let e = apply_join(
            "child_survey",
            &child(),
            &dup,
            &Join {
                table: "caregiver_survey".into(),
                on: "household_id".into(),
                columns: vec!["would_report".into()],
            },
        )
        .err();
        assert!(
            matches!(
                e,
                Some(JoinError::DuplicateKey {
                    first: 1,
                    second: 2,
                    ..
                })
            ),
            "{e:?}"
        );
        let bad = Join {
            columns: vec!["region".into()],
            ..join()
        };
        let e = apply_join(
            "caregiver_survey",
            &caregiver(vec![Some("h1")]),
            &child(),
            &bad,
        )
        .err();
        assert!(matches!(e, Some(JoinError::MissingColumn { .. })), "{e:?}");
        let bad = Join {
            on: "hh".into(),
            ..join()
        };
        let e = apply_join(
            "caregiver_survey",
            &caregiver(vec![Some("h1")]),
            &child(),
            &bad,
        )
        .err();
        assert!(matches!(e, Some(JoinError::MissingColumn { .. })), "{e:?}");
        let clash = Join {
            columns: vec!["household_id".into()],
            ..join()
        };
        let e = apply_join(
            "caregiver_survey",
            &caregiver(vec![Some("h1")]),
            &child(),
            &clash,
        )
        .err();
        assert!(matches!(e, Some(JoinError::ColumnExists { .. })), "{e:?}");
    }
}
