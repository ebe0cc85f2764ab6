//! Tests of column-wise evaluation: every operator on dictionary, plain text, numeric and boolean columns, nulls,
//! labelled missing codes, Kleene logic, cause tracking and missing-code rules.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int8Array, Int16Array,
    Int64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use arrow::datatypes::{Int8Type, Int16Type};

use super::*;
use crate::parser::parse;

fn codes() -> Vec<String> {
    ["dont_know", "refused", "not_applicable", "not_collected"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// q (dictionary): yes, no, dont_know, null, refused, yes
/// t (plain text): same values
/// age (int64): 12, 15, 17, null, 16, 13
/// score (float64): 0.5, NaN, 2.0, 3.5, null, -1
/// flag (boolean): true, false, null, true, false, true
fn batch() -> RecordBatch {
    let labels = [
        Some("yes"),
        Some("no"),
        Some("dont_know"),
        None,
        Some("refused"),
        Some("yes"),
    ];
    let dict_values = Arc::new(StringArray::from(vec!["yes", "no", "dont_know", "refused"]));
    let keys = Int16Array::from(vec![Some(0), Some(1), Some(2), None, Some(3), Some(0)]);
    let q: ArrayRef = Arc::new(
        DictionaryArray::<Int16Type>::try_new(keys, dict_values).unwrap_or_else(|e| panic!("{e}")),
    );
    let t: ArrayRef = Arc::new(StringArray::from(labels.to_vec()));
    let age: ArrayRef = Arc::new(Int64Array::from(vec![
        Some(12),
        Some(15),
        Some(17),
        None,
        Some(16),
        Some(13),
    ]));
    let score: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(0.5),
        Some(f64::NAN),
        Some(2.0),
        Some(3.5),
        None,
        Some(-1.0),
    ]));
    let flag: ArrayRef = Arc::new(BooleanArray::from(vec![
        Some(true),
        Some(false),
        None,
        Some(true),
        Some(false),
        Some(true),
    ]));
    RecordBatch::try_from_iter(vec![
        ("q", q),
        ("t", t),
        ("age", age),
        ("score", score),
        ("flag", flag),
    ])
    .unwrap_or_else(|e| panic!("{e}"))
}

fn run(src: &str) -> Evaluation {
    let expr = parse(src).unwrap_or_else(|e| panic!("{e}"));
    evaluate(&expr, &batch(), &codes()).unwrap_or_else(|e| panic!("{e}"))
}

/// Results as a compact string: T, F, or ? for unknown.
fn tri(src: &str) -> String {
    run(src)
        .values()
        .iter()
        .map(|v| match v {
            Some(true) => 'T',
            Some(false) => 'F',
            None => '?',
        })
        .collect()
}

#[test]
fn dictionary_and_plain_text_agree() {
    for col in ["q", "t"] {
        assert_eq!(tri(&format!("{col} == \"yes\"")), "TF???T", "{col}");
        assert_eq!(tri(&format!("{col} != \"yes\"")), "FT???F", "{col}");
        assert_eq!(
            tri(&format!("{col} in [\"yes\", \"no\"]")),
            "TT???T",
            "{col}"
        );
        assert_eq!(tri(&format!("{col} not in [\"yes\"]")), "FT???F", "{col}");
        assert_eq!(tri(&format!("is_missing({col})")), "FFTTTF", "{col}");
    }
}

#[test]
fn comparisons_naming_a_missing_code_are_decided() {
    assert_eq!(tri("q == \"dont_know\""), "FFT?FF");
    assert_eq!(tri("q != \"dont_know\""), "TTF?TT");
    // `in` is the `or` of equalities: dont_know -> true, refused -> unknown (the `yes` test is unknown).
    assert_eq!(tri("q in [\"yes\", \"dont_know\"]"), "TFT??T");
    assert_eq!(tri("t in [\"refused\", \"dont_know\"]"), "FFT?TF");
}

#[test]
fn label_absent_from_dictionary_is_false_for_real_answers() {
    assert_eq!(tri("q == \"maybe\""), "FF???F");
}

#[test]
fn numeric_operators_with_nulls_and_nan() {
    assert_eq!(tri("age == 15"), "FTF?FF");
    assert_eq!(tri("age != 15"), "TFT?TT");
    assert_eq!(tri("age < 15"), "TFF?FT");
    assert_eq!(tri("age <= 15"), "TTF?FT");
    assert_eq!(tri("age > 15"), "FFT?TF");
    assert_eq!(tri("age >= 15"), "FTT?TF");
    assert_eq!(tri("age in [12, 17]"), "TFT?FF");
    assert_eq!(tri("score > 1"), "F?TT?F");
    assert_eq!(tri("is_missing(score)"), "FTFFTF");
}

#[test]
fn boolean_columns() {
    assert_eq!(tri("flag"), "TF?TFT");
    assert_eq!(tri("flag == false"), "FT?FTF");
    assert_eq!(tri("flag != false"), "TF?TFT");
    assert_eq!(tri("is_missing(flag)"), "FFTFFF");
}

#[test]
fn constants() {
    assert_eq!(tri("true"), "TTTTTT");
    assert_eq!(tri("false"), "FFFFFF");
}

#[test]
fn kleene_logic() {
    // q: T F ? ? ? T ; flag: T F ? T F T
    assert_eq!(tri("q == \"yes\" and flag"), "TF??FT");
    assert_eq!(tri("q == \"yes\" or flag"), "TF?T?T");
    assert_eq!(tri("not q == \"yes\""), "FT???F");
    assert_eq!(tri("all(q == \"yes\", age >= 13)"), "FF???T");
    assert_eq!(tri("any(q == \"yes\", age >= 16)"), "TFT?TT");
    assert_eq!(tri("false and q == \"yes\""), "FFFFFF");
    assert_eq!(tri("true or q == \"yes\""), "TTTTTT");
}

#[test]
fn causes_are_tracked_and_combined() {
    let e = run("q == \"yes\" or age > 20");
    assert_eq!(e.causes(0), Vec::<Option<&str>>::new());
    assert_eq!(e.causes(2), vec![Some("dont_know")]);
    assert_eq!(e.causes(3), vec![None]);
    assert_eq!(e.causes(4), vec![Some("refused")]);
    assert_eq!(e.causes(99), Vec::<Option<&str>>::new());
    let both = run("any(q == \"yes\", t == \"no\", age == 1)");
    // row 3 is null in q, t and age.
    assert_eq!(both.causes(3), vec![None]);
    let mixed = run("q == \"yes\" or flag == true");
    // row 2: q dont_know, flag null.
    assert_eq!(mixed.causes(2), vec![None, Some("dont_know")]);
    assert_eq!(
        mixed.unknown_because(Some("dont_know")),
        BooleanArray::from(vec![false, false, true, false, false, false])
    );
    assert_eq!(
        mixed.unknown_because(None),
        BooleanArray::from(vec![false, false, true, false, false, false])
    );
    assert_eq!(
        mixed.unknown_because(Some("no_such_code")),
        BooleanArray::from(vec![false; 6])
    );
    assert_eq!(
        mixed.is_unknown(),
        BooleanArray::from(vec![false, false, true, false, true, false])
    );
    assert_eq!(
        mixed.is_true(),
        BooleanArray::from(vec![true, false, false, true, false, true])
    );
}

#[test]
fn resolve_applies_rule_per_code() {
    let e = run("q == \"yes\"");
    // dont_know counted as no; refused and null excluded.
    let r = e.resolve(|cause| match cause {
        Some("dont_know") => MissingTreatment::CountAsNo,
        _ => MissingTreatment::Exclude,
    });
    assert_eq!(
        r.value,
        BooleanArray::from(vec![true, false, false, false, false, true])
    );
    assert_eq!(
        r.counted,
        BooleanArray::from(vec![true, true, true, false, false, true])
    );
    assert_eq!(r.value.null_count() + r.counted.null_count(), 0);
    // Everything excluded.
    let all_out = e.resolve(|_| MissingTreatment::Exclude);
    assert_eq!(
        all_out.counted,
        BooleanArray::from(vec![true, true, false, false, false, true])
    );
    // Everything counted as no.
    let all_no = e.resolve(|_| MissingTreatment::CountAsNo);
    assert_eq!(all_no.counted, BooleanArray::from(vec![true; 6]));
}

#[test]
fn resolve_excludes_when_any_cause_is_excluded() {
    // Row 2: unknown because of dont_know (q) and null (flag).
    let e = run("q == \"yes\" or flag");
    let r = e.resolve(|cause| {
        if cause.is_none() {
            MissingTreatment::Exclude
        } else {
            MissingTreatment::CountAsNo
        }
    });
    assert!(!r.counted.value(2));
    let r = e.resolve(|_| MissingTreatment::CountAsNo);
    assert!(r.counted.value(2));
}

#[test]
fn other_key_and_string_layouts() {
    let values = Arc::new(LargeStringArray::from(vec!["no", "yes"]));
    let small =
        DictionaryArray::<Int8Type>::try_new(Int8Array::from(vec![Some(1), None, Some(0)]), values)
            .unwrap_or_else(|e| panic!("{e}"));
    let view = StringViewArray::from(vec![Some("yes"), Some("refused"), None]);
    let batch = RecordBatch::try_from_iter(vec![
        ("d", Arc::new(small) as ArrayRef),
        ("v", Arc::new(view) as ArrayRef),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let eval = |src: &str| {
        let e = evaluate(
            &parse(src).unwrap_or_else(|e| panic!("{e}")),
            &batch,
            &codes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        e.values().iter().collect::<Vec<_>>()
    };
    assert_eq!(eval("d == \"yes\""), vec![Some(true), None, Some(false)]);
    assert_eq!(eval("v == \"yes\""), vec![Some(true), None, None]);
}

#[test]
fn evaluation_errors() {
    let b = batch();
    let err =
        |src: &str| evaluate(&parse(src).unwrap_or_else(|e| panic!("{e}")), &b, &codes()).err();
    assert_eq!(
        err("nope == 1"),
        Some(EvalError::MissingColumn {
            column: "nope".into()
        })
    );
    assert!(matches!(
        err("age == \"x\""),
        Some(EvalError::UnsupportedType { .. })
    ));
    assert!(matches!(
        err("q == 1"),
        Some(EvalError::UnsupportedType { .. })
    ));
    assert!(matches!(
        err("q < \"yes\""),
        Some(EvalError::UnsupportedType { .. })
    ));
    assert!(matches!(err("q"), Some(EvalError::UnsupportedType { .. })));
    assert!(matches!(
        err("age"),
        Some(EvalError::UnsupportedType { .. })
    ));
    assert!(matches!(
        err("flag < true"),
        Some(EvalError::UnsupportedType { .. })
    ));
    assert!(matches!(
        err("flag == 1"),
        Some(EvalError::UnsupportedType { .. })
    ));
    let too_many: Vec<String> = (0..32).map(|i| format!("m{i}")).collect();
    let e = evaluate(
        &parse("true").unwrap_or_else(|e| panic!("{e}")),
        &b,
        &too_many,
    )
    .err();
    assert_eq!(
        e,
        Some(EvalError::TooManyMissingCodes {
            limit: MAX_MISSING_CODES
        })
    );
}

#[test]
fn empty_batch() {
    let empty = batch().slice(0, 0);
    let e = evaluate(
        &parse("q == \"yes\" and age > 1").unwrap_or_else(|e| panic!("{e}")),
        &empty,
        &codes(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(e.is_empty());
    assert_eq!(e.values().len(), 0);
}

#[test]
fn sliced_dictionary_column() {
    let b = batch().slice(2, 3);
    let e = evaluate(
        &parse("q == \"yes\" or q == \"no\"").unwrap_or_else(|e| panic!("{e}")),
        &b,
        &codes(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.causes(0), vec![Some("dont_know")]);
    assert_eq!(e.causes(1), vec![None]);
    assert_eq!(e.causes(2), vec![Some("refused")]);
}

/// A table with no rows gives categorical columns an empty dictionary; arrow's `normalized_keys` asserts on it.
#[test]
fn empty_dictionary_column() {
    let empty_values = Arc::new(StringArray::from(Vec::<&str>::new()));
    let keys = Int16Array::from(Vec::<Option<i16>>::new());
    let q: ArrayRef = Arc::new(
        DictionaryArray::<Int16Type>::try_new(keys, empty_values).unwrap_or_else(|e| panic!("{e}")),
    );
    let b = RecordBatch::try_from_iter(vec![("q", q)]).unwrap_or_else(|e| panic!("{e}"));
    for src in [
        "q == \"yes\"",
        "q in [\"yes\", \"no\"]",
        "is_missing(q)",
        "not q != \"no\"",
    ] {
        let e = evaluate(&parse(src).unwrap_or_else(|e| panic!("{e}")), &b, &codes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(e.is_empty(), "{src}");
    }
}

/// A column with rows but no value in any of them: an empty dictionary with null keys.
#[test]
fn all_null_dictionary_column() {
    let empty_values = Arc::new(StringArray::from(Vec::<&str>::new()));
    let keys = Int16Array::from(vec![None, None, None]);
    let q: ArrayRef = Arc::new(
        DictionaryArray::<Int16Type>::try_new(keys, empty_values).unwrap_or_else(|e| panic!("{e}")),
    );
    let b = RecordBatch::try_from_iter(vec![("q", q)]).unwrap_or_else(|e| panic!("{e}"));
    let e = evaluate(
        &parse("q == \"yes\"").unwrap_or_else(|e| panic!("{e}")),
        &b,
        &codes(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.len(), 3);
    assert_eq!(e.causes(0), vec![None]);
    let m = evaluate(
        &parse("is_missing(q)").unwrap_or_else(|e| panic!("{e}")),
        &b,
        &codes(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.is_true().true_count(), 3);
}
