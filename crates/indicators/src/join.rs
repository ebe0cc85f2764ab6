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

/// How the rows of a table laid over the design table (caregivers over the child rows) match the design rows.
#[derive(Debug, Clone)]
pub struct DesignMatch {
    /// Per design row: the matching row of the other table, null where none.
    pub rows: UInt32Array,
    /// Rows of the other table whose key matches no design row (or is null).
    pub other_unmatched: usize,
}

/// The design table's key column in pieces of consecutive rows, in row order: called with a function that
/// takes each piece; may be called twice. Its error is the source's (reading the column back from a file).
pub type KeyPieces<'a, E> = dyn FnMut(&mut dyn FnMut(&ArrayRef)) -> Result<(), E> + 'a;

/// [`join_rows`] of the design table's rows against `other` and the unmatched count of [`apply_join`] of
/// `other` against the design table (the checks and errors of both, in that order: keys present and readable as
/// text, design keys unique, then `other` keys unique), without holding the design table's keys: they come in
/// pieces (`design_key`: the key's Arrow type, `None` when the design table lacks it) and only a 64-bit hash of
/// each is kept. Matches are exact: design rows look up `other`'s keys by their text; two design keys with the
/// same hash are compared by their text in a second pass over the pieces (only the rows of the hashes seen
/// twice), so a hash collision can only cost that pass, never a wrong match or a false duplicate. The outer
/// error is the source's, the inner one the join's.
pub fn design_rows<E>(
    (table, design_table): (&str, &str),
    other: &RecordBatch,
    on: &str,
    design_key: Option<&DataType>,
    pieces: &mut KeyPieces<'_, E>,
) -> Result<Result<DesignMatch, JoinError>, E> {
    let seeds = std::collections::hash_map::RandomState::new();
    let seed = |i: u64| std::hash::BuildHasher::hash_one(&seeds, i);
    let hasher = ahash::RandomState::with_seeds(seed(0), seed(1), seed(2), seed(3));
    design_rows_hashed(
        (table, design_table),
        other,
        on,
        design_key,
        pieces,
        &|k: &str| hasher.hash_one(k),
    )
}

/// [`design_rows`] with the hash of the design keys given (tests give a colliding one).
fn design_rows_hashed<E>(
    (table, design_table): (&str, &str),
    other: &RecordBatch,
    on: &str,
    design_key: Option<&DataType>,
    pieces: &mut KeyPieces<'_, E>,
    hash: &dyn Fn(&str) -> u64,
) -> Result<Result<DesignMatch, JoinError>, E> {
    let names = (table.to_string(), design_table.to_string());
    let missing = |in_table: &str| JoinError::MissingColumn {
        table: names.0.clone(),
        other: names.1.clone(),
        column: on.to_string(),
        in_table: in_table.to_string(),
    };
    let Some(other_key) = other.column_by_name(on) else {
        return Ok(Err(missing(table)));
    };
    let Some(design_type) = design_key else {
        return Ok(Err(missing(design_table)));
    };
    let other_key = match key_text(other_key, &names, on) {
        Ok(k) => k,
        Err(e) => return Ok(Err(e)),
    };
    let key_type_error = || JoinError::KeyType {
        table: names.0.clone(),
        other: names.1.clone(),
        key: on.to_string(),
        data_type: design_type.to_string(),
    };
    if !arrow::compute::can_cast_types(design_type, &DataType::Utf8) {
        return Ok(Err(key_type_error()));
    }
    let other_key = other_key.as_string::<i32>();
    let (index, other_duplicate) = other_index(other_key, (design_table, table));
    // one pass: each design row's match, the other rows matched, the hash of every design key
    let mut rows = arrow::array::UInt32Builder::new();
    let mut matched = vec![false; other_key.len()];
    let mut hashes: Vec<u64> = Vec::new();
    let mut failed = false;
    pieces(&mut |piece: &ArrayRef| {
        let Some(text) = piece_text(piece, &mut failed) else {
            return;
        };
        for key in text.as_string::<i32>().iter() {
            let found = key.and_then(|k| {
                hashes.push(hash(k));
                index.get(k).copied()
            });
            if let Some(r) = found {
                matched[r as usize] = true;
            }
            rows.append_option(found);
        }
    })?;
    if failed {
        return Ok(Err(key_type_error()));
    }
    hashes.sort_unstable();
    let twice: std::collections::HashSet<u64> = hashes
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    drop(hashes);
    if !twice.is_empty()
        && let Some((value, first, second)) = first_repeat(pieces, &twice, hash)?
    {
        return Ok(Err(JoinError::DuplicateKey {
            table: names.0,
            other: names.1,
            value,
            first,
            second,
        }));
    }
    if let Some(e) = other_duplicate {
        return Ok(Err(e));
    }
    let other_unmatched = (0..other_key.len())
        .filter(|&r| other_key.is_null(r) || !matched[r])
        .count();
    Ok(Ok(DesignMatch {
        rows: rows.finish(),
        other_unmatched,
    }))
}

/// The row of each key of `other` (exact text), and the error of the first key found twice (rows 1-based, as
/// [`join_rows`] reports it with `names` = (design table, other table)); the index stops at that key.
fn other_index<'a>(
    keys: &'a arrow::array::StringArray,
    (design_table, table): (&str, &str),
) -> (HashMap<&'a str, u32>, Option<JoinError>) {
    let mut index: HashMap<&str, u32> = HashMap::with_capacity(keys.len());
    for (row, key) in keys.iter().enumerate() {
        if let Some(k) = key
            && let Some(first) = index.insert(k, row as u32)
        {
            let e = JoinError::DuplicateKey {
                table: design_table.to_string(),
                other: table.to_string(),
                value: k.to_string(),
                first: first as usize + 1,
                second: row + 1,
            };
            return (index, Some(e));
        }
    }
    (index, None)
}

/// A piece of keys as text; `None` (and `failed` set) when it cannot be cast, or once a piece could not.
fn piece_text(piece: &ArrayRef, failed: &mut bool) -> Option<ArrayRef> {
    if *failed {
        return None;
    }
    let text = cast(piece, &DataType::Utf8).ok();
    *failed = text.is_none();
    text
}

/// The first design key (in row order) equal to an earlier one, among the keys whose hash is in `twice`: its
/// text and the two rows (1-based), as the index of [`join_rows`] over the design keys finds it.
fn first_repeat<E>(
    pieces: &mut KeyPieces<'_, E>,
    twice: &std::collections::HashSet<u64>,
    hash: &dyn Fn(&str) -> u64,
) -> Result<Option<(String, usize, usize)>, E> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut found: Option<(String, usize, usize)> = None;
    let mut row = 0usize;
    let mut failed = false;
    pieces(&mut |piece: &ArrayRef| {
        let Some(text) = piece_text(piece, &mut failed) else {
            return;
        };
        for key in text.as_string::<i32>().iter() {
            row += 1;
            let Some(k) = key.filter(|k| found.is_none() && twice.contains(&hash(k))) else {
                continue;
            };
            match seen.get(k) {
                Some(&first) => found = Some((k.to_string(), first, row)),
                None => {
                    seen.insert(k.to_string(), row);
                }
            }
        }
    })?;
    Ok(found)
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

    /// Child keys in pieces of `split` rows each.
    fn child_pieces(keys: &[Option<&str>], split: usize) -> Vec<ArrayRef> {
        keys.chunks(split.max(1))
            .map(|c| Arc::new(StringArray::from(c.to_vec())) as ArrayRef)
            .collect()
    }

    fn matched(
        caregivers: &RecordBatch,
        keys: &[Option<&str>],
        split: usize,
        hash: &dyn Fn(&str) -> u64,
    ) -> Result<DesignMatch, JoinError> {
        let pieces = child_pieces(keys, split);
        let mut each = |f: &mut dyn FnMut(&ArrayRef)| -> Result<(), String> {
            pieces.iter().for_each(&mut *f);
            Ok(())
        };
        design_rows_hashed(
            ("caregiver_survey", "child_survey"),
            caregivers,
            "household_id",
            Some(&DataType::Utf8),
            &mut each,
            hash,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The match of the design rows from key pieces is the two joins of the whole key columns: the rows of
    /// `join_rows` and the unmatched count of `apply_join`, whatever the pieces and even when every key has the
    /// same hash.
    #[test]
    fn design_rows_from_pieces_are_the_joins_of_the_whole_columns() {
        let caregivers = caregiver(vec![Some("h3"), Some("h1"), Some("zz"), None]);
        let keys = [Some("h1"), None, Some("h2"), Some("h3")];
        let child = RecordBatch::try_from_iter(vec![(
            "household_id",
            Arc::new(StringArray::from(keys.to_vec())) as ArrayRef,
        )])
        .unwrap_or_else(|e| panic!("{e}"));
        let onto = Join {
            table: "caregiver_survey".into(),
            on: "household_id".into(),
            columns: vec![],
        };
        let want =
            join_rows("child_survey", &child, &caregivers, &onto).unwrap_or_else(|e| panic!("{e}"));
        let to_child = Join {
            columns: vec![],
            ..join()
        };
        let unmatched = apply_join("caregiver_survey", &caregivers, &child, &to_child)
            .unwrap_or_else(|e| panic!("{e}"))
            .unmatched;
        assert_eq!(unmatched, 2);
        let same_hash = |_: &str| 7u64;
        let real = ahash::RandomState::with_seeds(1, 2, 3, 4);
        let real_hash = |k: &str| real.hash_one(k);
        for split in [1, 2, 4] {
            for hash in [&same_hash as &dyn Fn(&str) -> u64, &real_hash] {
                let got =
                    matched(&caregivers, &keys, split, hash).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(got.rows, want);
                assert_eq!(got.other_unmatched, unmatched);
            }
        }
    }

    #[test]
    fn design_rows_report_duplicates_as_the_joins_do() {
        let same_hash = |_: &str| 7u64;
        let real = ahash::RandomState::with_seeds(1, 2, 3, 4);
        let real_hash = |k: &str| real.hash_one(k);
        for hash in [&same_hash as &dyn Fn(&str) -> u64, &real_hash] {
            // a child key twice: the first repeat in row order, as `to_child` reports it
            let keys = [Some("a"), Some("b"), None, Some("b"), Some("a")];
            let e = matched(&caregiver(vec![Some("a")]), &keys, 2, hash).err();
            assert_eq!(
                e,
                Some(JoinError::DuplicateKey {
                    table: "caregiver_survey".into(),
                    other: "child_survey".into(),
                    value: "b".into(),
                    first: 2,
                    second: 4,
                })
            );
            // a caregiver key twice too: the child's duplicate comes first, then the caregivers'
            let twice = caregiver(vec![Some("x"), Some("a"), Some("a")]);
            let e = matched(&twice, &keys, 3, hash).err();
            assert!(
                matches!(e, Some(JoinError::DuplicateKey { second: 4, .. })),
                "{e:?}"
            );
            let e = matched(&twice, &[Some("a"), Some("b")], 1, hash).err();
            assert_eq!(
                e,
                Some(JoinError::DuplicateKey {
                    table: "child_survey".into(),
                    other: "caregiver_survey".into(),
                    value: "a".into(),
                    first: 2,
                    second: 3,
                })
            );
        }
    }

    #[test]
    fn design_rows_missing_keys_and_source_errors() {
        let no_key = RecordBatch::try_from_iter(vec![(
            "other",
            Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
        )])
        .unwrap_or_else(|e| panic!("{e}"));
        let mut none = |_: &mut dyn FnMut(&ArrayRef)| -> Result<(), String> { Ok(()) };
        let names = ("caregiver_survey", "child_survey");
        let e = design_rows(
            names,
            &no_key,
            "household_id",
            Some(&DataType::Utf8),
            &mut none,
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .err();
        assert!(
            matches!(&e, Some(JoinError::MissingColumn { in_table, .. }) if in_table == "caregiver_survey"),
            "{e:?}"
        );
        let cg = caregiver(vec![Some("a")]);
        let e = design_rows(names, &cg, "household_id", None, &mut none)
            .unwrap_or_else(|e| panic!("{e}"))
            .err();
        assert!(
            matches!(&e, Some(JoinError::MissingColumn { in_table, .. }) if in_table == "child_survey"),
            "{e:?}"
        );
        let mut failing =
            |_: &mut dyn FnMut(&ArrayRef)| -> Result<(), String> { Err("disk".to_string()) };
        let e = design_rows(
            names,
            &cg,
            "household_id",
            Some(&DataType::Utf8),
            &mut failing,
        )
        .err();
        assert_eq!(e.as_deref(), Some("disk"));
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
