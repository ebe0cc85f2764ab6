//! Tests of per-row preparation: universe, missing rules, not_collected detection, means and domain codes.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, DictionaryArray, Int16Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::Int16Type;

use super::*;
use crate::catalogue::{Catalogue, parse_catalogue};
use crate::test_support::{pipeline, schemas};

const CATALOGUE: &str = r#"format_version = 1
[defaults]
disaggregations = ["sex"]
[missing_rules.dk_no]
description = "dont know counts as no"
null = "exclude"
dont_know = "no"
refused = "exclude"
not_collected = "exclude"
[missing_rules.strict]
description = "all excluded"
null = "exclude"
dont_know = "exclude"
refused = "exclude"
not_collected = "exclude"

[[indicator]]
id = "q_yes"
label = "l"
version = "1.0.0"
table = "child_survey"
universe = 'age >= 15'
universe_label = "15-17"
numerator = 'q == "yes"'
missing_rule = "dk_no"
missing_rationale = "r"
statistic = "proportion"
comparability = "c"

[[indicator]]
id = "q_yes_strict"
label = "l"
version = "1.0.0"
table = "child_survey"
universe = 'true'
universe_label = "all"
numerator = 'q == "yes"'
missing_rule = "strict"
missing_rationale = "r"
statistic = "count"
comparability = "c"

[[indicator]]
id = "mean_age"
label = "l"
version = "1.0.0"
table = "child_survey"
universe = 'q == "yes"'
universe_label = "yes"
variable = "age"
missing_rule = "strict"
missing_rationale = "r"
statistic = "mean"
unit = "years of age"
comparability = "c"
"#;

fn catalogue() -> Catalogue {
    parse_catalogue(Path::new("t.toml"), CATALOGUE, &pipeline(), &schemas())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn dict(values: &[&str], keys: Vec<Option<i16>>) -> ArrayRef {
    let values = Arc::new(StringArray::from(values.to_vec()));
    Arc::new(
        DictionaryArray::<Int16Type>::try_new(Int16Array::from(keys), values)
            .unwrap_or_else(|e| panic!("{e}")),
    )
}

/// sex: male female female male null female male female
/// age: 15 16 12 17 15 null 16 14
/// q:   yes no yes dont_know refused yes null no
fn batch(q: ArrayRef) -> RecordBatch {
    // The dictionary lists `female` first: levels must still follow the schema order (male, female).
    let sex = dict(
        &["female", "male"],
        vec![
            Some(1),
            Some(0),
            Some(0),
            Some(1),
            None,
            Some(0),
            Some(1),
            Some(0),
        ],
    );
    let age: ArrayRef = Arc::new(Int64Array::from(vec![
        Some(15),
        Some(16),
        Some(12),
        Some(17),
        Some(15),
        None,
        Some(16),
        Some(14),
    ]));
    RecordBatch::try_from_iter(vec![("sex", sex), ("age", age), ("q", q)])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn q_default() -> ArrayRef {
    dict(
        &["yes", "no", "dont_know", "refused"],
        vec![
            Some(0),
            Some(1),
            Some(0),
            Some(2),
            Some(3),
            Some(0),
            None,
            Some(1),
        ],
    )
}

fn run(id: &str, b: &RecordBatch) -> Prepared {
    let c = catalogue();
    let ind = c.get(id).unwrap_or_else(|| panic!("{id}"));
    prepare(ind, b).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn proportion_with_dont_know_counted_as_no() {
    let p = run("q_yes", &batch(q_default()));
    assert_eq!(
        p.in_denominator,
        vec![true, true, false, true, false, false, false, false]
    );
    assert_eq!(p.value, vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(
        (
            p.universe_rows,
            p.universe_unknown,
            p.excluded_by_missing_rule
        ),
        (5, 1, 2)
    );
    assert!(!p.not_collected);
    assert_eq!(
        p.domains[0].levels,
        vec!["male".to_string(), "female".to_string()]
    );
    assert_eq!(
        p.domains[0].levels_of_rows(),
        vec![
            Some(0),
            Some(1),
            Some(1),
            Some(0),
            None,
            Some(1),
            Some(0),
            Some(1)
        ]
    );
}

#[test]
fn rows_that_are_not_present_are_outside_every_universe() {
    // As q_yes above, with rows 0, 4 and 5 not units of the table (a child without a caregiver).
    let c = catalogue();
    let ind = c.get("q_yes").unwrap_or_else(|| panic!("q_yes"));
    let present = [false, true, true, true, false, false, true, true];
    let p =
        prepare_present(ind, &batch(q_default()), Some(&present)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.in_denominator,
        vec![false, true, false, true, false, false, false, false]
    );
    assert_eq!(p.value, vec![0.0; 8]);
    // universe: rows 1, 3, 6 (age >= 15); the unknown age (row 5) is not present
    assert_eq!(
        (
            p.universe_rows,
            p.universe_unknown,
            p.excluded_by_missing_rule
        ),
        (3, 0, 1)
    );
    let everything = [true; 8];
    let all = prepare_present(ind, &batch(q_default()), Some(&everything))
        .unwrap_or_else(|e| panic!("{e}"));
    let plain = run("q_yes", &batch(q_default()));
    assert_eq!(all.in_denominator, plain.in_denominator);
    assert_eq!(all.universe_unknown, plain.universe_unknown);
}

#[test]
fn strict_rule_excludes_every_missing_code() {
    let p = run("q_yes_strict", &batch(q_default()));
    assert_eq!(
        p.in_denominator,
        vec![true, true, true, false, false, true, false, true]
    );
    assert_eq!(p.value, vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    assert_eq!(p.excluded_by_missing_rule, 3);
}

#[test]
fn mean_excludes_null_variable_and_unknown_universe() {
    let p = run("mean_age", &batch(q_default()));
    assert_eq!(
        p.in_denominator,
        vec![true, false, true, false, false, false, false, false]
    );
    assert_eq!(p.value[0], 15.0);
    assert_eq!(p.value[2], 12.0);
    assert_eq!((p.universe_rows, p.universe_unknown), (3, 3));
}

#[test]
fn not_collected_question_is_detected_in_numerator_and_universe() {
    let q = dict(&["not_collected"], vec![Some(0); 8]);
    let b = batch(q);
    let p = run("q_yes", &b);
    assert!(p.not_collected);
    assert!(p.in_denominator.iter().all(|x| !x));
    // As a universe (mean_age's universe is q == "yes").
    assert!(run("mean_age", &b).not_collected);
}

#[test]
fn plain_text_columns_work_too() {
    let q: ArrayRef = Arc::new(StringArray::from(vec![
        Some("yes"),
        Some("no"),
        Some("yes"),
        Some("dont_know"),
        Some("refused"),
        Some("yes"),
        None,
        Some("no"),
    ]));
    let sex: ArrayRef = Arc::new(StringArray::from(vec![
        Some("male"),
        Some("female"),
        Some("female"),
        Some("male"),
        None,
        Some("female"),
        Some("male"),
        Some("other"),
    ]));
    let age: ArrayRef = Arc::new(Int64Array::from(vec![
        Some(15),
        Some(16),
        Some(12),
        Some(17),
        Some(15),
        None,
        Some(16),
        Some(14),
    ]));
    let b = RecordBatch::try_from_iter(vec![("sex", sex), ("age", age), ("q", q)])
        .unwrap_or_else(|e| panic!("{e}"));
    let p = run("q_yes", &b);
    assert_eq!(
        p.in_denominator,
        vec![true, true, false, true, false, false, false, false]
    );
    assert_eq!(
        p.domains[0].levels_of_rows(),
        vec![
            Some(0),
            Some(1),
            Some(1),
            Some(0),
            None,
            Some(1),
            Some(0),
            None
        ]
    );
}

#[test]
fn missing_or_mistyped_columns_are_errors() {
    let age: ArrayRef = Arc::new(Int64Array::from(vec![15]));
    let b = RecordBatch::try_from_iter(vec![("age", age)]).unwrap_or_else(|e| panic!("{e}"));
    let c = catalogue();
    let e = prepare(c.get("q_yes").unwrap_or_else(|| panic!()), &b).err();
    assert!(matches!(e, Some(PrepareError::Eval { .. })), "{e:?}");
    let sex: ArrayRef = Arc::new(Int64Array::from(vec![1]));
    let q = dict(&["yes"], vec![Some(0)]);
    let age: ArrayRef = Arc::new(Int64Array::from(vec![15]));
    let b = RecordBatch::try_from_iter(vec![("sex", sex), ("age", age), ("q", q)])
        .unwrap_or_else(|e| panic!("{e}"));
    let e = prepare(c.get("q_yes").unwrap_or_else(|| panic!()), &b).err();
    assert!(matches!(e, Some(PrepareError::ColumnType { .. })), "{e:?}");
}

/// A table with no rows (and a column with no value in any row) has empty dictionaries, on which arrow's
/// `normalized_keys` asserts; preparation gives no rows and no levels instead of panicking.
#[test]
fn empty_dictionaries_prepare_without_panicking() {
    let empty = batch(q_default()).slice(0, 0);
    let empty_dicts = RecordBatch::try_from_iter(vec![
        ("sex", dict(&[], vec![])),
        ("age", empty.column(1).clone()),
        ("q", dict(&[], vec![])),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let p = run("q_yes", &empty_dicts);
    assert!(p.in_denominator.is_empty());
    assert!(p.domains[0].codes.is_empty());

    // Rows whose sex and q are all null: an empty dictionary with null keys.
    let all_null = batch(dict(&[], vec![None; 8]));
    let all_null = RecordBatch::try_from_iter(vec![
        ("sex", dict(&[], vec![None; 8])),
        ("age", all_null.column(1).clone()),
        ("q", all_null.column(2).clone()),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let p = run("q_yes", &all_null);
    assert_eq!(p.domains[0].levels_of_rows(), vec![None; 8]);
    assert_eq!(p.value, vec![0.0; 8]);
}

#[test]
fn survey_stage_columns_are_those_the_indicators_and_the_design_read() {
    let margins = vec!["urban_rural".to_string()];
    let columns =
        crate::columns::survey_stage_columns(&catalogue(), &pipeline(), &margins, "child_survey")
            .unwrap_or_else(|| panic!("the design table has a column set"));
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    // universe and variable (age), numerator (q), disaggregation (sex), join key and columns (household_id, sex,
    // age), design and margins; `region` is read by nothing
    assert_eq!(
        names,
        [
            "age",
            "base_weight",
            "final_weight",
            "household_id",
            "psu",
            "q",
            "sex",
            "stratum",
            "urban_rural"
        ]
    );
    let joined = crate::columns::survey_stage_columns(
        &catalogue(),
        &pipeline(),
        &margins,
        "caregiver_survey",
    );
    assert_eq!(joined, Some(columns));
    assert_eq!(
        crate::columns::survey_stage_columns(&catalogue(), &pipeline(), &margins, "police_cases"),
        None
    );
}

#[test]
fn int16_int32_and_int64_dictionary_keys_give_the_same_levels() {
    // keys: a level, an unknown label, null, the other level (arrow refuses keys outside the dictionary)
    let values = Arc::new(StringArray::from(vec!["female", "other", "male"]));
    let keys16 = vec![Some(2i16), Some(1), None, Some(0)];
    let keys32: Vec<Option<i32>> = keys16.iter().map(|k| k.map(i32::from)).collect();
    let as16: ArrayRef = Arc::new(
        DictionaryArray::<Int16Type>::try_new(Int16Array::from(keys16), values.clone())
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let as32: ArrayRef = Arc::new(
        DictionaryArray::<arrow::datatypes::Int32Type>::try_new(
            arrow::array::Int32Array::from(keys32),
            values,
        )
        .unwrap_or_else(|e| panic!("{e}")),
    );
    let cat = catalogue();
    let indicator = &cat.indicators[0];
    let levels = vec!["male".to_string(), "female".to_string()];
    let codes = |a: ArrayRef| {
        let b = RecordBatch::try_from_iter(vec![("sex", a)]).unwrap_or_else(|e| panic!("{e}"));
        domain_codes(indicator, &b, "sex", &levels)
            .unwrap_or_else(|e| panic!("{e}"))
            .levels_of_rows()
    };
    // Int64 keys take arrow's `normalized_keys`
    let as64: ArrayRef = Arc::new(
        DictionaryArray::<arrow::datatypes::Int64Type>::try_new(
            Int64Array::from(vec![Some(2i64), Some(1), None, Some(0)]),
            Arc::new(StringArray::from(vec!["female", "other", "male"])),
        )
        .unwrap_or_else(|e| panic!("{e}")),
    );
    let expected = vec![Some(0), None, None, Some(1)];
    assert_eq!(codes(as16), expected);
    assert_eq!(codes(as32), expected);
    assert_eq!(codes(as64), expected);
}
