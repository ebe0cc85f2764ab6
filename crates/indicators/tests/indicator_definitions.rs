//! The repository's indicator definitions against what they mean and what the country reports publish (issue 11):
//! the missing-code rule of each indicator on hand-made rows (a refusal to "do you know where to get help" is not
//! knowing, a "don't know" to "told nobody" is not telling someone, ...), the per-type told-nobody and
//! told-the-police indicators, and the caregiver indicators' population.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, DictionaryArray, Int16Array, RecordBatch, StringArray};
use arrow::datatypes::Int16Type;
use dh_indicators::{Catalogue, Indicator, Prepared, load, prepare};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn catalogue() -> Catalogue {
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    load(&repo().join("pipelines"), &schemas)
        .unwrap_or_else(|e| panic!("{e}"))
        .1
}

const CLEAR: [&str; 4] = [
    "offered_money_images",
    "offered_money_meet",
    "threatened_sexual",
    "images_shared",
];
const OTHER: [&str; 4] = [
    "asked_talk_sex",
    "asked_images",
    "sexual_comments",
    "sent_sexual_images",
];

/// A dictionary column of labels (`None` = null).
fn labels(values: &[Option<&str>]) -> ArrayRef {
    let mut dict: Vec<&str> = Vec::new();
    let keys: Vec<Option<i16>> = values
        .iter()
        .map(|v| {
            v.map(|v| {
                let k = dict.iter().position(|d| *d == v).unwrap_or_else(|| {
                    dict.push(v);
                    dict.len() - 1
                });
                k as i16
            })
        })
        .collect();
    Arc::new(
        DictionaryArray::<Int16Type>::try_new(
            Int16Array::from(keys),
            Arc::new(StringArray::from(dict)),
        )
        .unwrap_or_else(|e| panic!("{e}")),
    )
}

/// Prepares `indicator` on `rows` rows: the given columns, every other column its expressions use filled with
/// "no" (experience items) or "not_applicable" (follow-ups), and the disaggregation columns.
fn run(indicator: &Indicator, given: &[(&str, Vec<&str>)]) -> Prepared {
    let rows = given.first().map(|(_, v)| v.len()).unwrap_or(1);
    let given: HashMap<&str, &Vec<&str>> = given.iter().map(|(c, v)| (*c, v)).collect();
    let mut names: Vec<&str> = indicator.universe.columns();
    if let Some(n) = &indicator.numerator {
        names.extend(n.columns());
    }
    for d in &indicator.disaggregations {
        names.push(&d.column);
    }
    let mut seen = Vec::new();
    let mut columns: Vec<(String, ArrayRef)> = Vec::new();
    for name in names {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let values: Vec<Option<&str>> = match given.get(name) {
            Some(v) => v.iter().map(|s| Some(*s)).collect(),
            None => {
                let fill = match name {
                    "sex" => "female",
                    "age_band" => "16-17",
                    "urban_rural" => "rural",
                    "caregiver_sex" => "female",
                    n if CLEAR.contains(&n) || OTHER.contains(&n) => "no",
                    _ => "not_applicable",
                };
                vec![Some(fill); rows]
            }
        };
        columns.push((name.to_string(), labels(&values)));
    }
    let batch = RecordBatch::try_from_iter(columns).unwrap_or_else(|e| panic!("{e}"));
    prepare(indicator, &batch).unwrap_or_else(|e| panic!("{}: {e}", indicator.id))
}

fn get<'c>(c: &'c Catalogue, id: &str) -> &'c Indicator {
    c.get(id)
        .unwrap_or_else(|| panic!("indicator `{id}` is missing"))
}

/// (in the denominator, counted in the numerator) per row.
fn outcome(p: &Prepared) -> Vec<(bool, bool)> {
    p.in_denominator
        .iter()
        .zip(&p.value)
        .map(|(d, v)| (*d, *v == 1.0))
        .collect()
}

const IN_YES: (bool, bool) = (true, true);
const IN_NO: (bool, bool) = (true, false);
const OUT: (bool, bool) = (false, false);

#[test]
fn a_refusal_is_never_knowing_where_to_get_help_or_how_to_report() {
    let c = catalogue();
    let answers = vec!["yes", "no", "dont_know", "refused"];
    // Not knowing where to get help: "don't know" is named in the numerator, a refusal leaves the denominator
    // (version 1.0.0 counted it as knowing).
    let p = run(
        get(&c, "no_help_knowledge"),
        &[("knows_where_help", answers.clone())],
    );
    assert_eq!(outcome(&p), vec![IN_NO, IN_YES, IN_YES, OUT]);
    for (id, column) in [
        ("knows_how_report", "knows_how_report"),
        ("received_safety_info", "received_safety_info"),
        (
            "caregiver_would_report_police",
            "caregiver_would_report_police",
        ),
        (
            "caregiver_received_safety_info",
            "caregiver_received_safety_info",
        ),
    ] {
        let p = run(get(&c, id), &[(column, answers.clone())]);
        assert_eq!(outcome(&p), vec![IN_YES, IN_NO, IN_NO, OUT], "{id}");
    }
}

#[test]
fn told_nobody_per_experience_exists_for_every_experience_and_needs_an_answer() {
    let c = catalogue();
    for x in CLEAR.iter().chain(&OTHER) {
        let id = format!("{x}_told_nobody");
        let ind = get(&c, &id);
        assert_eq!(ind.universe.source(), format!("{x} == \"yes\""), "{id}");
        assert!(ind.missing_rationale.contains("don't know"), "{id}");
        // A don't know or refusal to "told nobody" leaves the denominator (version 1.0.0: counted as having told
        // someone); children without the experience are outside the universe.
        let p = run(
            ind,
            &[
                (x, vec!["yes", "yes", "yes", "yes", "no"]),
                (
                    &format!("{x}_told_nobody"),
                    vec!["yes", "no", "dont_know", "refused", "not_applicable"],
                ),
            ],
        );
        assert_eq!(outcome(&p), vec![IN_YES, IN_NO, OUT, OUT, OUT], "{id}");
        assert_eq!(p.universe_rows, 4, "{id}");
    }
}

#[test]
fn told_nobody_composite_counts_only_the_experiences_the_child_reported() {
    let c = catalogue();
    let p = run(
        get(&c, "ocsea_told_nobody"),
        &[
            (
                "offered_money_images",
                vec!["yes", "yes", "yes", "yes", "yes", "no"],
            ),
            (
                "offered_money_images_told_nobody",
                vec!["yes", "yes", "dont_know", "yes", "no", "not_applicable"],
            ),
            (
                "threatened_sexual",
                vec!["no", "dont_know", "no", "yes", "yes", "no"],
            ),
            (
                "threatened_sexual_told_nobody",
                vec![
                    "not_applicable",
                    "not_applicable",
                    "not_applicable",
                    "no",
                    "dont_know",
                    "not_applicable",
                ],
            ),
        ],
    );
    assert_eq!(
        outcome(&p),
        vec![
            IN_YES, // told nobody about the one experience
            IN_YES, // a don't know to another experience decides nothing (1.0.0: counted as told someone)
            OUT,    // don't know whether they told anyone (1.0.0: counted as told someone)
            IN_NO,  // told someone about one of two experiences
            IN_NO,  // told someone about one; don't know about the other
            OUT,    // no experience: outside the universe
        ]
    );
}

/// The experiences whose follow-up in `schemas/child_survey.json` has a column `<experience>_<suffix>`.
fn experiences_with(suffix: &str) -> Vec<String> {
    let schemas =
        dh_config::load_schemas(&repo().join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    let child = schemas.get("child_survey").expect("child_survey schema");
    child
        .fields
        .iter()
        .filter_map(|f| f.name.strip_suffix(suffix).map(str::to_string))
        .collect()
}

/// Every experience the schema asks "told nobody" or "told the police" about has its per-type indicator (the
/// country reports publish both per experience type), with the experience as its universe.
#[test]
fn every_told_nobody_and_told_police_item_of_the_schema_has_its_per_type_indicator() {
    let c = catalogue();
    for suffix in ["_told_nobody", "_told_police"] {
        let experiences = experiences_with(suffix);
        assert!(experiences.len() >= 4, "{suffix}: {experiences:?}");
        for x in experiences {
            let id = format!("{x}{suffix}");
            let ind = get(&c, &id);
            assert_eq!(ind.universe.source(), format!("{x} == \"yes\""), "{id}");
            assert_eq!(ind.missing_rule.name, "item_nonresponse_excluded", "{id}");
        }
    }
}

#[test]
fn told_police_per_type_and_composite() {
    let c = catalogue();
    for x in CLEAR.into_iter().chain(["asked_talk_sex"]) {
        let ind = get(&c, &format!("{x}_told_police"));
        assert_eq!(ind.universe.source(), format!("{x} == \"yes\""));
        assert_eq!(ind.ci_method.name(), "korn_graubard");
        assert!(
            ind.comparability.contains("as the country reports publish")
                || ind
                    .comparability
                    .contains("The figure the country reports publish"),
            "{x}"
        );
        let p = run(
            ind,
            &[
                (x, vec!["yes", "yes", "yes", "yes", "yes", "no"]),
                (
                    &format!("{x}_told_nobody"),
                    vec!["yes", "no", "no", "no", "dont_know", "not_applicable"],
                ),
                (
                    &format!("{x}_told_police"),
                    vec![
                        "not_applicable",
                        "yes",
                        "no",
                        "refused",
                        "not_applicable",
                        "not_applicable",
                    ],
                ),
            ],
        );
        // Told nobody: not the police. No answer about the police or about telling anyone: out.
        assert_eq!(
            outcome(&p),
            vec![IN_NO, IN_YES, IN_NO, OUT, OUT, OUT],
            "{x}"
        );
    }
    let composite = get(&c, "ocsea_told_police");
    assert!(
        composite
            .comparability
            .contains("compare those figures with the per-type indicators"),
        "{}",
        composite.comparability
    );
    let p = run(
        composite,
        &[
            ("offered_money_images", vec!["yes"; 6]),
            (
                "offered_money_images_told_nobody",
                vec!["yes", "no", "no", "no", "dont_know", "no"],
            ),
            (
                "offered_money_images_told_police",
                vec![
                    "not_applicable",
                    "yes",
                    "no",
                    "dont_know",
                    "not_applicable",
                    "dont_know",
                ],
            ),
            (
                "images_shared",
                vec!["no", "no", "refused", "no", "no", "yes"],
            ),
            (
                "images_shared_told_nobody",
                vec![
                    "not_applicable",
                    "not_applicable",
                    "not_applicable",
                    "not_applicable",
                    "not_applicable",
                    "no",
                ],
            ),
            (
                "images_shared_told_police",
                vec![
                    "not_applicable",
                    "not_applicable",
                    "not_applicable",
                    "not_applicable",
                    "not_applicable",
                    "yes",
                ],
            ),
        ],
    );
    assert_eq!(
        outcome(&p),
        vec![
            IN_NO,  // told nobody
            IN_YES, // told the police
            IN_NO,  // told someone, not the police; a refusal to another experience decides nothing
            OUT,    // does not know whether they told the police (1.0.0: counted as not)
            OUT,    // does not know whether they told anyone
            IN_YES, // unknown for one experience, told the police about the other
        ]
    );
}

#[test]
fn every_indicator_states_its_missing_rationale_and_caregiver_rows_count_children() {
    let c = catalogue();
    for ind in &c.indicators {
        assert!(!ind.missing_rationale.trim().is_empty(), "{}", ind.id);
        assert!(ind.to_string().contains("  rationale:     "), "{}", ind.id);
        if ind.table == "caregiver_survey" {
            let rule = ind
                .nonresponse
                .as_ref()
                .unwrap_or_else(|| panic!("{}: no non-response adjustment", ind.id));
            assert_eq!(rule.classes, vec!["urban_rural", "age_band"]);
            assert!(
                ind.universe_label
                    .starts_with("Internet-using children aged 12-17"),
                "{}: {}",
                ind.id,
                ind.universe_label
            );
            assert!(
                ind.label.starts_with("Children whose caregiver"),
                "{}",
                ind.id
            );
            assert!(
                ind.comparability
                    .contains("population_estimate is a number of children")
            );
        } else {
            assert!(ind.nonresponse.is_none(), "{}", ind.id);
        }
    }
    // Changed definitions carry a new version; new indicators start at 1.0.0.
    for id in [
        "ocsea_told_nobody",
        "offered_money_images_told_nobody",
        "ocsea_told_police",
        "ocsea_told_helpline",
        "no_help_knowledge",
        "caregiver_would_report_police",
    ] {
        assert_eq!(get(&c, id).version, "1.1.0", "{id}");
    }
    assert_eq!(get(&c, "asked_images_told_nobody").version, "1.0.0");
    assert_eq!(get(&c, "ocsea_clear_any").version, "1.0.0");
}
