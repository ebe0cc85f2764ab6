//! Routing consistency of a normalised table: every column's universe (`schemas/<table>.json`, e.g. a follow-up
//! asked only of children who answered `yes` to its screening question) evaluated on the harmonised rows.
//!
//! Two findings, counted per column:
//! * `answer_outside_universe`: an answer (including `dont_know` / `refused`) where the universe is false, i.e.
//!   the questionnaire should have routed the respondent past the question;
//! * `skipped_inside_universe`: `not_applicable` where the universe holds, i.e. the question was skipped although
//!   it applied.
//!
//! Rows whose universe cannot be decided (it depends on a missing answer) are not judged, nor are `not_collected`
//! cells. Only categorical columns keep missing labels: number, integer, date, boolean and text columns turn a
//! missing code into null (see [`crate::column`]), so `skipped_inside_universe` can only be found in categorical
//! columns (a text cell is judged by its text: only one that literally reads `not_applicable` would count), while
//! `answer_outside_universe` is found in columns of every type.
//!
//! The data are kept as delivered: indicators state their own universes, so an answer outside a column's universe
//! never enters an estimate of that column's indicators. Findings are reported (manifest, `dh validate`) with the
//! source row of the first case, so the delivery can be checked.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::buffer::{BooleanBuffer, Buffer};
use arrow::datatypes::Int16Type;
use dh_config::TableSchema;

use crate::plan::NOT_COLLECTED;

/// Label of a question skipped by routing.
const NOT_APPLICABLE: &str = "not_applicable";

/// The kind of a routing finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UniverseIssue {
    AnswerOutsideUniverse,
    SkippedInsideUniverse,
}

impl UniverseIssue {
    /// Machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::AnswerOutsideUniverse => "answer_outside_universe",
            Self::SkippedInsideUniverse => "skipped_inside_universe",
        }
    }

    /// What it means, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::AnswerOutsideUniverse => {
                "answered although the column's universe excludes the row (routing not followed); kept as delivered"
            }
            Self::SkippedInsideUniverse => {
                "not_applicable although the column's universe includes the row (question skipped); kept as delivered"
            }
        }
    }
}

/// One column's rows with one kind of finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UniverseFinding {
    pub column: String,
    pub issue: UniverseIssue,
    pub rows: u64,
    /// Source row number (as in the quarantine table) of the first such row.
    pub first_row: u64,
    /// The value in that row.
    pub first_value: String,
    /// The column's universe expression.
    pub universe: String,
}

/// The routing findings of `batch` (the harmonised rows of `schema`'s table); `source_rows` has one entry per row
/// of `batch`, `source_rows[i]` being the source row number of row `i`. Columns with the universe `true`, or whose
/// universe does not compile (reported when the schema is loaded), are skipped. Ordered by column position, then
/// kind. Each distinct universe is evaluated once; the rows are then compared as bitmaps.
pub fn universe_findings(
    schema: &TableSchema,
    batch: &RecordBatch,
    source_rows: &[u64],
) -> Vec<UniverseFinding> {
    debug_assert_eq!(source_rows.len(), batch.num_rows());
    let columns = schema.expr_columns();
    let mut truths: HashMap<&str, Option<Truths>> = HashMap::new();
    let mut findings = Vec::new();
    for field in &schema.fields {
        if field.universe.trim() == "true" {
            continue;
        }
        let Some(values) = batch.column_by_name(&field.name) else {
            continue;
        };
        let truth = truths
            .entry(field.universe.as_str())
            .or_insert_with(|| Truths::of(&field.universe, &columns, batch));
        let Some(truth) = truth else {
            continue;
        };
        let cells = Classes::of(values.as_ref());
        if cells.answer.len() != truth.is_true.len() {
            continue;
        }
        for (issue, hits) in [
            (
                UniverseIssue::AnswerOutsideUniverse,
                &truth.is_false & &cells.answer,
            ),
            (
                UniverseIssue::SkippedInsideUniverse,
                &truth.is_true & &cells.not_applicable,
            ),
        ] {
            let Some(row) = hits.set_indices().next() else {
                continue;
            };
            findings.push(UniverseFinding {
                column: field.name.clone(),
                issue,
                rows: hits.count_set_bits() as u64,
                first_row: source_rows.get(row).copied().unwrap_or_default(),
                first_value: arrow::util::display::array_value_to_string(values.as_ref(), row)
                    .unwrap_or_default(),
                universe: field.universe.clone(),
            });
        }
    }
    findings
}

/// A universe's rows where it holds and where it does not (rows where it cannot be decided are in neither).
struct Truths {
    is_true: BooleanBuffer,
    is_false: BooleanBuffer,
}

impl Truths {
    /// `None` when the universe does not compile or cannot be evaluated on the batch.
    fn of(universe: &str, columns: &dh_expr::Columns, batch: &RecordBatch) -> Option<Self> {
        let evaluation = dh_expr::compile(universe, columns)
            .ok()?
            .evaluate(batch)
            .ok()?;
        let truth = evaluation.values();
        if truth.len() != batch.num_rows() {
            return None;
        }
        let values = truth.values();
        let (is_true, is_false) = match truth.nulls() {
            Some(known) => (values & known.inner(), &!values & known.inner()),
            None => (values.clone(), !values),
        };
        Some(Truths { is_true, is_false })
    }
}

/// What a column's cells hold, for the routing check: the rows holding an answer, and those holding
/// `not_applicable` (null and `not_collected` cells are in neither).
struct Classes {
    answer: BooleanBuffer,
    not_applicable: BooleanBuffer,
}

impl Classes {
    /// Dictionary labels are classified once per dictionary entry; a number or any other non-null value is an
    /// answer.
    fn of(array: &dyn Array) -> Self {
        let rows = array.len();
        let nulls = array.nulls();
        let valid = |row: usize| nulls.is_none_or(|n| n.is_valid(row));
        if let Some(dict) = array.as_any_dictionary_opt() {
            let values = dict.values();
            let entries: Vec<CellClass> = match values.as_string_opt::<i32>() {
                Some(labels) => (0..labels.len())
                    .map(|i| {
                        if labels.is_null(i) {
                            CellClass::Null
                        } else {
                            class_of(labels.value(i))
                        }
                    })
                    .collect(),
                None => vec![CellClass::Answer; values.len()],
            };
            // arrow's `normalized_keys` asserts on an empty dictionary (a column with no value in any row).
            if entries.is_empty() {
                return Classes::by_row(rows, |_| CellClass::Null);
            }
            let entry = |k: usize| entries.get(k).copied().unwrap_or(CellClass::Null);
            if let Some(dict) = array.as_dictionary_opt::<Int16Type>() {
                let keys = dict.keys().values();
                return Classes::by_row(rows, |row| match keys.get(row) {
                    Some(&k) if valid(row) && k >= 0 => entry(k as usize),
                    _ => CellClass::Null,
                });
            }
            let keys = dict.normalized_keys();
            return Classes::by_row(rows, |row| match keys.get(row) {
                Some(&k) if valid(row) => entry(k),
                _ => CellClass::Null,
            });
        }
        match array.as_string_opt::<i32>() {
            Some(text) => Classes::by_row(rows, |row| {
                if valid(row) {
                    class_of(text.value(row))
                } else {
                    CellClass::Null
                }
            }),
            // Every valid cell is an answer: the validity bitmap itself.
            None => Classes {
                answer: nulls.map_or_else(|| BooleanBuffer::new_set(rows), |n| n.inner().clone()),
                not_applicable: BooleanBuffer::new_unset(rows),
            },
        }
    }

    /// Both bitmaps in one pass over the rows, 64 rows per word.
    fn by_row(rows: usize, class: impl Fn(usize) -> CellClass) -> Self {
        let words = rows.div_ceil(64);
        let mut answer = Vec::with_capacity(words);
        let mut not_applicable = Vec::with_capacity(words);
        for word in 0..words {
            let first = word * 64;
            let (mut a, mut n) = (0u64, 0u64);
            for bit in 0..(rows - first).min(64) {
                let c = class(first + bit);
                a |= u64::from(c == CellClass::Answer) << bit;
                n |= u64::from(c == CellClass::NotApplicable) << bit;
            }
            answer.push(a);
            not_applicable.push(n);
        }
        Classes {
            answer: BooleanBuffer::new(Buffer::from_vec(answer), 0, rows),
            not_applicable: BooleanBuffer::new(Buffer::from_vec(not_applicable), 0, rows),
        }
    }
}

/// What a cell holds, for the routing check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellClass {
    Null,
    NotApplicable,
    NotCollected,
    Answer,
}

fn class_of(label: &str) -> CellClass {
    match label {
        NOT_APPLICABLE => CellClass::NotApplicable,
        NOT_COLLECTED => CellClass::NotCollected,
        _ => CellClass::Answer,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, DictionaryArray, Int16Array, Int64Array, StringArray};
    use arrow::datatypes::Int16Type;

    use super::*;

    fn schema() -> TableSchema {
        let text = r#"{
          "name": "t", "title": "t", "version": "1.0.0",
          "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -3, "label": "not_applicable"},
                            {"value": -4, "label": "not_collected"}],
          "fields": [
            {"name": "age", "type": "integer", "description": "a", "role": "demographic", "universe": "true"},
            {"name": "q", "type": "string", "description": "q", "role": "item",
             "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}],
             "missingValues": ["dont_know", "not_applicable", "not_collected"], "universe": "true"},
            {"name": "f", "type": "string", "description": "follow-up", "role": "item",
             "categories": [{"value": 1, "label": "online"}, {"value": 2, "label": "in_person"}],
             "missingValues": ["dont_know", "not_applicable", "not_collected"], "universe": "q == \"yes\""}
          ]}"#;
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn dict(labels: &[&str], keys: Vec<Option<i16>>) -> ArrayRef {
        Arc::new(
            DictionaryArray::<Int16Type>::try_new(
                Int16Array::from(keys),
                Arc::new(StringArray::from(labels.to_vec())),
            )
            .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    #[test]
    fn answers_outside_and_skips_inside_the_universe_are_counted_with_the_first_row() {
        let labels = ["yes", "no", "dont_know", "not_applicable", "not_collected"];
        let q = dict(
            &labels,
            vec![
                Some(0),
                Some(1),
                Some(1),
                Some(0),
                Some(2),
                Some(0),
                Some(1),
                None,
            ],
        );
        let f_labels = [
            "online",
            "in_person",
            "dont_know",
            "not_applicable",
            "not_collected",
        ];
        let f = dict(
            &f_labels,
            vec![
                Some(0), // yes -> answered: fine
                Some(1), // no -> answered: outside
                Some(3), // no -> not_applicable: fine
                Some(3), // yes -> not_applicable: skipped inside
                Some(0), // dont_know screening: not judged
                Some(4), // yes -> not_collected: not judged
                Some(2), // no -> dont_know: outside
                Some(0), // screening null: not judged
            ],
        );
        let age: ArrayRef = Arc::new(Int64Array::from(vec![12; 8]));
        let batch = RecordBatch::try_from_iter(vec![("age", age), ("q", q), ("f", f)])
            .unwrap_or_else(|e| panic!("{e}"));
        let rows: Vec<u64> = (0..8).map(|i| 100 + i).collect();
        let found = universe_findings(&schema(), &batch, &rows);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].column, "f");
        assert_eq!(found[0].issue, UniverseIssue::AnswerOutsideUniverse);
        assert_eq!((found[0].rows, found[0].first_row), (2, 101));
        assert_eq!(found[0].first_value, "in_person");
        assert_eq!(found[1].issue, UniverseIssue::SkippedInsideUniverse);
        assert_eq!((found[1].rows, found[1].first_row), (1, 103));
        assert_eq!(found[1].universe, "q == \"yes\"");
    }

    /// A table with no rows, and one whose columns hold no value, have empty dictionaries (arrow's
    /// `normalized_keys` asserts on them): no finding, no panic.
    /// The classes row by row, as the definition states them.
    fn classes_by_definition(array: &dyn Array) -> (Vec<bool>, Vec<bool>) {
        (0..array.len())
            .map(|row| {
                let text =
                    arrow::util::display::array_value_to_string(array, row).unwrap_or_default();
                let class = if array.is_null(row) {
                    CellClass::Null
                } else if array.as_any_dictionary_opt().is_some()
                    || array.as_string_opt::<i32>().is_some()
                {
                    class_of(&text)
                } else {
                    CellClass::Answer
                };
                (
                    class == CellClass::Answer,
                    class == CellClass::NotApplicable,
                )
            })
            .unzip()
    }

    #[test]
    fn classes_equal_their_definition_row_by_row() {
        let labels = ["yes", "not_applicable", "not_collected"];
        for rows in [0usize, 1, 63, 64, 65, 130] {
            let keys: Vec<Option<i16>> = (0..rows)
                .map(|i| (i % 5 != 4).then_some((i % 3) as i16))
                .collect();
            let texts: Vec<Option<&str>> = (0..rows)
                .map(|i| (i % 7 != 6).then_some(["a", "not_applicable", "not_collected"][i % 3]))
                .collect();
            let numbers: Vec<Option<i64>> = (0..rows)
                .map(|i| (i % 4 != 1).then_some(i as i64))
                .collect();
            let all_valid: Vec<i64> = (0..rows as i64).collect();
            let arrays: Vec<ArrayRef> = vec![
                dict(&labels, keys),
                Arc::new(StringArray::from(texts)),
                Arc::new(Int64Array::from(numbers)),
                Arc::new(Int64Array::from(all_valid)),
            ];
            for array in arrays {
                let classes = Classes::of(array.as_ref());
                let (answer, not_applicable) = classes_by_definition(array.as_ref());
                assert_eq!(classes.answer.iter().collect::<Vec<_>>(), answer, "{rows}");
                assert_eq!(
                    classes.not_applicable.iter().collect::<Vec<_>>(),
                    not_applicable,
                    "{rows}"
                );
            }
        }
    }

    #[test]
    fn empty_dictionaries_give_no_findings() {
        let age: ArrayRef = Arc::new(Int64Array::from(Vec::<i64>::new()));
        let batch = RecordBatch::try_from_iter(vec![
            ("age", age),
            ("q", dict(&[], vec![])),
            ("f", dict(&[], vec![])),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(universe_findings(&schema(), &batch, &[]).is_empty());

        let age: ArrayRef = Arc::new(Int64Array::from(vec![12; 3]));
        let batch = RecordBatch::try_from_iter(vec![
            ("age", age),
            ("q", dict(&["yes"], vec![Some(0); 3])),
            ("f", dict(&[], vec![None; 3])),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(universe_findings(&schema(), &batch, &[1, 2, 3]).is_empty());
    }
}
