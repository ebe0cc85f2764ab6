//! Unit tests of [`super::Universe`]: the forms schemas use, errors with their offsets, and agreement with
//! `dh_expr::evaluate` (the pipeline's evaluator) on random rows.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use rand::Rng;

use super::*;

fn table() -> TableSchema {
    serde_json::from_value(serde_json::json!({
        "name": "t", "title": "t", "version": "1",
        "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -2, "label": "refused"},
                          {"value": -3, "label": "not_applicable"}],
        "fields": [
            {"name": "age", "type": "integer", "description": ""},
            {"name": "x", "type": "string", "description": "",
             "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}]},
            {"name": "w", "type": "string", "description": "",
             "categories": [{"value": 1, "label": "online"}, {"value": 2, "label": "in_person"},
                            {"value": 3, "label": "both"}]},
            {"name": "z", "type": "string", "description": ""}
        ]
    }))
    .expect("test schema")
}

fn eval(expr: &str, row: &[Cell]) -> bool {
    Universe::compile(expr, &table(), 3)
        .expect("compiles")
        .eval(row)
}

#[test]
fn evaluates_the_forms_schemas_use() {
    let row = [Cell::Int(15), Cell::Cat(0), Cell::Cat(2), Cell::Blank];
    assert!(eval("true", &row));
    assert!(!eval("false", &row));
    assert!(eval("age >= 15", &row));
    assert!(!eval("age > 15", &row));
    assert!(eval("x == \"yes\" and w in [\"online\", \"both\"]", &row));
    assert!(!eval("x == \"no\" or w == \"online\"", &row));
    assert!(eval("not (x == \"no\")", &row));
    assert!(eval("any(x == \"no\", age < 16)", &row));
    assert!(!eval("all(x == \"no\", age < 16)", &row));
    assert!(eval("x not in [\"no\"]", &row));
    let missing = [Cell::Int(13), Cell::Missing(0), Cell::Cat(0), Cell::Blank];
    assert!(eval("is_missing(x)", &missing));
    assert!(!eval("x == \"yes\"", &missing));
    assert!(eval("x == \"dont_know\"", &missing));
    assert!(!eval("x == \"refused\"", &missing));
    assert!(eval("x != \"refused\"", &missing));
}

#[test]
fn a_missing_answer_leaves_the_universe_undecided() {
    // Two-valued logic said `x != "yes"` holds for a `dont_know`; dh-expr (and so the pipeline) says unknown,
    // which is outside the universe.
    let missing = [Cell::Int(13), Cell::Missing(0), Cell::Cat(0), Cell::Blank];
    let u = |e: &str| Universe::compile(e, &table(), 3).expect("compiles");
    assert_eq!(u("x != \"yes\"").truth(&missing), Truth::Unknown);
    assert!(!u("x != \"yes\"").eval(&missing));
    assert_eq!(u("not (x == \"yes\")").truth(&missing), Truth::Unknown);
    // Kleene: false and unknown is false, true or unknown is true.
    assert_eq!(
        u("x == \"yes\" and w == \"in_person\"").truth(&missing),
        Truth::False
    );
    assert_eq!(
        u("x == \"yes\" or w == \"online\"").truth(&missing),
        Truth::True
    );
    let blank = [Cell::Blank, Cell::Blank, Cell::Cat(0), Cell::Blank];
    assert_eq!(u("age >= 15").truth(&blank), Truth::Unknown);
    assert_eq!(u("x == \"dont_know\"").truth(&blank), Truth::Unknown);
    assert_eq!(u("is_missing(age)").truth(&blank), Truth::True);
}

#[test]
fn reports_positions_of_errors() {
    let t = table();
    let e = Universe::compile("x == \"maybe\"", &t, 3).expect_err("unknown label");
    assert_eq!(e.offset, 5);
    assert!(e.message.contains("no label \"maybe\""), "{}", e.message);
    let e = Universe::compile("nope == \"yes\"", &t, 3).expect_err("unknown column");
    assert!(e.message.contains("unknown column `nope`"), "{}", e.message);
    let e = Universe::compile("w == \"both\"", &t, 2).expect_err("later column");
    assert!(e.message.contains("after"), "{}", e.message);
    assert_eq!(e.offset, 0);
    let e = Universe::compile("x == \"yes\" and", &t, 3).expect_err("dangling");
    assert_eq!(e.offset, 14);
    let e = Universe::compile("x = 1", &t, 3).expect_err("single =");
    assert_eq!(e.offset, 2);
    assert!(Universe::compile("(x == \"yes\"", &t, 3).is_err());
    let e = Universe::compile("age < \"yes\"", &t, 3).expect_err("label against a number");
    assert_eq!(e.offset, 6);
    assert!(e.message.contains("age"), "{}", e.message);
}

/// Expressions over every form the language has: negations, `!=`, `not in`, missing codes named or not.
const EXPRESSIONS: [&str; 20] = [
    "true",
    "false",
    "x == \"yes\"",
    "x != \"yes\"",
    "x == \"dont_know\"",
    "x != \"refused\"",
    "x in [\"yes\", \"dont_know\"]",
    "x not in [\"no\"]",
    "not (x == \"no\")",
    "is_missing(x)",
    "not is_missing(w)",
    "age >= 15",
    "age != 13",
    "age < 14 or x == \"yes\"",
    "x == \"yes\" and w in [\"online\", \"both\"]",
    "any(x == \"no\", age < 16)",
    "all(x == \"no\", w != \"both\")",
    "x == \"refused\" or w == \"not_applicable\"",
    "not (x == \"yes\" and age > 13)",
    "not any(w == \"both\", is_missing(age)) or x == \"no\"",
];

fn random_cell(rng: &mut impl Rng, categories: u16, numeric: bool) -> Cell {
    match rng.random_range(0..10) {
        0 => Cell::Blank,
        1 | 2 => Cell::Missing(rng.random_range(0..3)),
        _ if numeric => Cell::Int(rng.random_range(12..18)),
        _ => Cell::Cat(rng.random_range(0..categories)),
    }
}

/// The rows as the pipeline holds them: labels (missing codes by label) for coded columns, numbers for numeric
/// ones (a missing code is null there, as normalisation makes it), nulls for blanks.
fn batch(schema: &TableSchema, rows: &[[Cell; 4]]) -> RecordBatch {
    let label = |field: usize, cell: Cell| -> Option<String> {
        match cell {
            Cell::Cat(k) => schema.fields[field]
                .categories
                .as_ref()
                .map(|c| c[k as usize].label.clone()),
            Cell::Missing(m) => Some(schema.missing_values[m as usize].label.clone()),
            _ => None,
        }
    };
    let age: Float64Array = rows
        .iter()
        .map(|r| match r[0] {
            Cell::Int(v) => Some(f64::from(v)),
            _ => None,
        })
        .collect();
    let text = |field: usize| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter()
                .map(|r| label(field, r[field]))
                .collect::<Vec<_>>(),
        ))
    };
    RecordBatch::try_from_iter([
        ("age", Arc::new(age) as ArrayRef),
        ("x", text(1)),
        ("w", text(2)),
    ])
    .expect("batch")
}

#[test]
fn agrees_with_dh_expr_on_random_rows() {
    let schema = table();
    let mut rng = crate::rng::stream(7, "universe-test");
    let rows: Vec<[Cell; 4]> = (0..400)
        .map(|_| {
            [
                random_cell(&mut rng, 0, true),
                random_cell(&mut rng, 2, false),
                random_cell(&mut rng, 3, false),
                Cell::Blank,
            ]
        })
        .collect();
    let batch = batch(&schema, &rows);
    for expr in EXPRESSIONS {
        let universe = Universe::compile(expr, &schema, 3).expect("compiles");
        let pipeline = dh_expr::compile(expr, &schema.expr_columns())
            .expect("compiles")
            .evaluate(&batch)
            .expect("evaluates")
            .values();
        for (i, row) in rows.iter().enumerate() {
            let expected = match (pipeline.is_null(i), pipeline.value(i)) {
                (true, _) => Truth::Unknown,
                (false, b) => Truth::from_bool(b),
            };
            assert_eq!(universe.truth(row), expected, "`{expr}` on {row:?}");
        }
    }
}
