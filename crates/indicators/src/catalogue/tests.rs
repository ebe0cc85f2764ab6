//! Tests of catalogue validation: a valid catalogue, and every kind of problem located at line and indicator.

use std::path::Path;

use dh_expr::MissingTreatment;

use super::*;
use crate::error::CatalogErrors;
use crate::test_support::{pipeline, schemas};

const HEAD: &str = r#"format_version = 1
[defaults]
disaggregations = ["sex"]

[missing_rules.strict]
description = "every missing code leaves the denominator"
null = "exclude"
dont_know = "exclude"
refused = "exclude"
not_collected = "exclude"

[missing_rules.dk_no]
description = "dont know counts as no"
null = "exclude"
dont_know = "no"
refused = "exclude"
not_collected = "exclude"

[missing_rules.caregiver]
description = "caregiver table and the joined child columns"
null = "exclude"
dont_know = "exclude"
refused = "exclude"
not_collected = "exclude"

[nonresponse.caregiver_survey]
description = "weighting classes by sex"
classes = ["sex", "region"]
min_respondents = 20
"#;

const GOOD: &str = r#"
[[indicator]]
id = "q_yes"
label = "Answered yes to q"
version = "1.0.0"
table = "child_survey"
universe = 'age >= 15'
universe_label = "Children aged 15-17"
numerator = 'q == "yes"'
missing_rule = "dk_no"
missing_rationale = "r"
statistic = "proportion"
comparability = "Same question everywhere."

[[indicator]]
id = "mean_age"
label = "Mean age"
version = "1.0.0"
table = "child_survey"
universe = 'true'
universe_label = "All children"
variable = "age"
missing_rule = "strict"
missing_rationale = "r"
statistic = "mean"
unit = "years of age"
comparability = "c"

[[indicator]]
id = "caregiver_report"
label = "Caregiver would report"
version = "2.1.0"
table = "caregiver_survey"
universe = 'true'
universe_label = "Caregivers"
numerator = 'would_report == "yes"'
missing_rule = "caregiver"
missing_rationale = "r"
statistic = "proportion"
ci_method = "korn_graubard"
disaggregations = ["sex"]
comparability = "c"
"#;

fn load(body: &str) -> Result<Catalogue, CatalogErrors> {
    let text = format!("{HEAD}{body}");
    parse_catalogue(
        Path::new("pipelines/indicators.toml"),
        &text,
        &pipeline(),
        &schemas(),
    )
}

/// The errors of a catalogue that must fail, as (line, indicator, key, message).
fn problems(body: &str) -> Vec<(usize, Option<String>, String, String)> {
    match load(body) {
        Ok(_) => panic!("catalogue was accepted"),
        Err(e) => {
            e.0.into_iter()
                .map(|e| (e.line, e.indicator, e.key, e.message))
                .collect()
        }
    }
}

fn head_lines() -> usize {
    HEAD.lines().count()
}

#[test]
fn valid_catalogue_loads() {
    let c = load(GOOD).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.indicators.len(), 3);
    let q = c.get("q_yes").unwrap_or_else(|| panic!("q_yes"));
    assert_eq!(q.statistic, Statistic::Proportion);
    assert_eq!(q.ci_method, CiMethod::Logit);
    assert_eq!(
        q.disaggregations,
        vec![Disaggregation {
            column: "sex".into(),
            levels: vec!["male".into(), "female".into()]
        }]
    );
    assert_eq!(
        q.missing_rule.treatment(Some("dont_know")),
        MissingTreatment::CountAsNo
    );
    assert_eq!(q.missing_rule.treatment(None), MissingTreatment::Exclude);
    assert_eq!(q.location.line, head_lines() + 3);
    let m = c.get("mean_age").unwrap_or_else(|| panic!("mean_age"));
    assert_eq!(
        (m.statistic, m.ci_method, m.variable.as_deref()),
        (Statistic::Mean, CiMethod::Wald, Some("age"))
    );
    let cg = c
        .get("caregiver_report")
        .unwrap_or_else(|| panic!("caregiver_report"));
    assert_eq!(cg.ci_method, CiMethod::KornGraubard);
    let shown = cg.to_string();
    assert!(shown.contains("ci method:       korn_graubard"), "{shown}");
    assert!(
        shown.contains("dont_know      excluded from the denominator"),
        "{shown}"
    );
}

#[test]
fn expression_errors_point_at_line_and_column() {
    let body = GOOD.replace("numerator = 'q == \"yes\"'", "numerator = 'q == \"yse\"'");
    let errs = load(&body).err().unwrap_or_else(|| panic!("accepted")).0;
    assert_eq!(errs.len(), 1);
    let e = &errs[0];
    assert_eq!(
        (e.indicator.as_deref(), e.key.as_str()),
        (Some("q_yes"), "numerator")
    );
    assert_eq!(e.line, head_lines() + 9);
    // `numerator = '` is 13 characters; the label starts 5 bytes into the expression.
    assert_eq!(e.column, 13 + 5 + 1);
    assert!(
        e.message.contains("column `q` has no label \"yse\""),
        "{}",
        e.message
    );
    assert!(e.message.contains("^"), "{}", e.message);

    let body = GOOD.replace("universe = 'age >= 15'", "universe = 'age >= '");
    let p = problems(&body);
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].0, p[0].2.as_str()), (head_lines() + 7, "universe"));
    assert!(p[0].3.contains("expected a value"), "{}", p[0].3);

    let p = problems(&GOOD.replace("'age >= 15'", "'agee >= 15'"));
    assert!(
        p[0].3
            .contains("unknown column `agee` (did you mean `age`?)"),
        "{}",
        p[0].3
    );
}

#[test]
fn missing_rule_must_cover_every_code() {
    let body = HEAD.replace(
        "refused = \"exclude\"\nnot_collected = \"exclude\"\n\n[missing_rules.dk_no]",
        "not_collected = \"exclude\"\n\n[missing_rules.dk_no]",
    );
    let text = format!("{body}{GOOD}");
    let e = parse_catalogue(Path::new("i.toml"), &text, &pipeline(), &schemas())
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(
        e.0.iter()
            .any(|e| e.indicator.as_deref() == Some("mean_age")
                && e.message.contains("does not say how refused are treated")),
        "{e}"
    );
}

#[test]
fn missing_rule_with_undeclared_code_is_rejected() {
    // The caregiver table (plus joined child table) declares dont_know, refused, not_collected; `maybe` is extra.
    let head = HEAD.replace(
        "not_collected = \"exclude\"\n\n[nonresponse",
        "not_collected = \"exclude\"\nmaybe = \"no\"\n\n[nonresponse",
    );
    assert_ne!(head, HEAD);
    let text = format!("{head}{GOOD}");
    let e = parse_catalogue(Path::new("i.toml"), &text, &pipeline(), &schemas())
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(
        e.0.iter().any(|e| e
            .message
            .contains("names maybe, which the table does not declare")),
        "{e}"
    );
}

#[test]
fn not_collected_can_never_count_as_no() {
    let text = format!(
        "{}{GOOD}",
        HEAD.replacen("not_collected = \"exclude\"", "not_collected = \"no\"", 1)
    );
    let e = parse_catalogue(Path::new("i.toml"), &text, &pipeline(), &schemas())
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(
        e.0.iter()
            .any(|e| e.key == "missing_rules.strict.not_collected" && e.line == 10),
        "{e}"
    );
}

#[test]
fn bad_treatment_word_and_unknown_rule() {
    let text = format!(
        "{}{GOOD}",
        HEAD.replacen("dont_know = \"no\"", "dont_know = \"zero\"", 1)
    );
    let e = parse_catalogue(Path::new("i.toml"), &text, &pipeline(), &schemas())
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(
        e.to_string().contains("is \"zero\": expected \"exclude\""),
        "{e}"
    );
    let p = problems(&GOOD.replace("missing_rule = \"dk_no\"", "missing_rule = \"lenient\""));
    assert_eq!(
        (p[0].1.as_deref(), p[0].2.as_str()),
        (Some("q_yes"), "missing_rule")
    );
    assert!(p[0].3.contains("no [missing_rules.lenient]"), "{}", p[0].3);
}

#[test]
fn statistic_and_ci_method_combinations() {
    let p = problems(&GOOD.replace("statistic = \"mean\"", "statistic = \"median\""));
    assert!(
        p[0].3
            .contains("expected \"proportion\", \"mean\" or \"count\"")
    );
    let p = problems(&GOOD.replace("ci_method = \"korn_graubard\"", "ci_method = \"wald\""));
    assert!(
        p[0].3
            .contains("a proportion takes \"logit\" or \"korn_graubard\""),
        "{}",
        p[0].3
    );
    let p = problems(&GOOD.replace("variable = \"age\"", "variable = \"sex\""));
    assert!(
        p[0].3.contains("`sex` is not a numeric column"),
        "{}",
        p[0].3
    );
    let p = problems(&GOOD.replace("variable = \"age\"", "numerator = 'true'"));
    assert!(
        p.iter()
            .any(|x| x.3.contains("a mean needs a numeric `variable`"))
    );
    assert!(p.iter().any(|x| x.3.contains("a mean has no `numerator`")));
    let p = problems(&GOOD.replace("numerator = 'q == \"yes\"'", ""));
    assert!(p[0].3.contains("a proportion needs a `numerator`"));
}

#[test]
fn ids_versions_tables_and_disaggregations() {
    let p = problems(&GOOD.replace("id = \"mean_age\"", "id = \"q_yes\""));
    assert!(p.iter().any(|x| x.2 == "id" && x.3.contains("unique")));
    let p = problems(&GOOD.replace("id = \"mean_age\"", "id = \"Mean-Age\""));
    assert!(p[0].3.contains("lowercase"));
    let p = problems(&GOOD.replace("version = \"2.1.0\"", "version = \"2.1\""));
    assert_eq!(
        (p[0].1.as_deref(), p[0].2.as_str()),
        (Some("caregiver_report"), "version")
    );
    let p = problems(&GOOD.replace("table = \"caregiver_survey\"", "table = \"caregivers\""));
    assert!(
        p[0].3
            .contains("no harmonised schema defines table `caregivers`")
    );
    let p = problems(&GOOD.replace(
        "disaggregations = [\"sex\"]",
        "disaggregations = [\"would_report\", \"would_report\"]",
    ));
    assert!(p.iter().any(|x| x.3.contains("listed twice")));
    assert!(p.iter().any(|x| x.3.contains("must include `sex`")));
    let p = problems(&GOOD.replace(
        "disaggregations = [\"sex\"]",
        "disaggregations = [\"sex\", \"age\"]",
    ));
    assert!(p[0].3.contains("`age` is not a categorical column"));
    let p = problems(&GOOD.replace(
        "comparability = \"c\"\n\n[[indicator]]\nid = \"caregiver_report\"",
        "comparability = \" \"\n\n[[indicator]]\nid = \"caregiver_report\"",
    ));
    assert!(p[0].3.contains("must not be empty"));
}

#[test]
fn joined_columns_are_usable_in_the_caregiver_table() {
    let body = GOOD.replace(
        "numerator = 'would_report == \"yes\"'",
        "numerator = 'would_report == \"yes\" and age >= 15'",
    );
    assert!(load(&body).is_ok());
    let body = GOOD.replace(
        "numerator = 'would_report == \"yes\"'",
        "numerator = 'would_report == \"yes\" and region == \"x\"'",
    );
    let p = problems(&body);
    assert!(p[0].3.contains("unknown column `region`"), "{}", p[0].3);
}

#[test]
fn toml_shape_errors_are_located() {
    let p = problems(&GOOD.replacen(
        "label = \"Mean age\"",
        "label = \"Mean age\"\ncolour = \"red\"",
        1,
    ));
    assert!(p[0].3.contains("colour"), "{}", p[0].3);
    assert!(p[0].0 > head_lines());
    let p = problems("[[indicator]]\nid = \"x\"\n");
    assert!(p[0].3.contains("missing field"), "{}", p[0].3);
}

#[test]
fn empty_catalogue_is_rejected() {
    let p = problems("");
    assert!(p[0].3.contains("defines no [[indicator]]"));
}

#[test]
fn all_problems_are_reported_together() {
    let body = GOOD
        .replace("'age >= 15'", "'age >= \"x\"'")
        .replace("version = \"2.1.0\"", "version = \"x\"")
        .replace("missing_rule = \"strict\"", "missing_rule = \"none\"");
    assert_eq!(problems(&body).len(), 3);
}

#[test]
fn each_check_error_of_an_expression_is_located_separately() {
    let body = GOOD.replace(
        "numerator = 'q == \"yes\"'",
        "numerator = '''\nq == \"yse\" or\n  agee > 1'''",
    );
    let errs = load(&body).err().unwrap_or_else(|| panic!("accepted")).0;
    let at: Vec<(usize, usize)> = errs.iter().map(|e| (e.line, e.column)).collect();
    let numerator_line = head_lines() + 9;
    assert_eq!(at, vec![(numerator_line + 1, 6), (numerator_line + 2, 3)]);
}

#[test]
fn missing_rationale_is_required_and_shown() {
    let c = load(GOOD).unwrap_or_else(|e| panic!("{e}"));
    let shown = c.get("q_yes").map(|i| i.to_string()).unwrap_or_default();
    assert!(shown.contains("  rationale:     r\n"), "{shown}");
    // Absent: a TOML shape error naming the field, at the indicator.
    let p = problems(&GOOD.replacen("missing_rationale = \"r\"\n", "", 1));
    assert!(p[0].3.contains("missing_rationale"), "{:?}", p[0]);
    assert!(p[0].0 > head_lines());
    // Blank: located at the indicator.
    let p = problems(&GOOD.replacen("missing_rationale = \"r\"", "missing_rationale = \"  \"", 1));
    assert_eq!(
        (p[0].0, p[0].1.as_deref(), p[0].2.as_str()),
        (head_lines() + 3, Some("q_yes"), "missing_rationale")
    );
    assert!(p[0].3.contains("must not be empty"));
}

#[test]
fn nonresponse_section_is_read_validated_and_shown() {
    let c = load(GOOD).unwrap_or_else(|e| panic!("{e}"));
    let rule = &c.nonresponse["caregiver_survey"];
    assert_eq!(
        (rule.classes.clone(), rule.min_respondents),
        (vec!["sex".to_string(), "region".to_string()], 20)
    );
    let cg = c.get("caregiver_report").unwrap_or_else(|| panic!("cg"));
    assert_eq!(cg.nonresponse.as_ref(), Some(rule));
    assert!(c.get("q_yes").is_some_and(|i| i.nonresponse.is_none()));
    let shown = cg.to_string();
    assert!(
        shown.contains(
            "adjusted for missing `caregiver_survey` rows within classes of sex x region"
        ),
        "{shown}"
    );
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap_or(0)
    };
    // A table with caregiver indicators and no section: error at the indicator's `table`.
    let head = HEAD.replace("[nonresponse.caregiver_survey]", "[nonresponse.unused]");
    let text = format!("{head}{GOOD}");
    let e = parse_catalogue(Path::new("i.toml"), &text, &pipeline(), &schemas())
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(
        e.0.iter().any(|e| e.key == "nonresponse.unused"
            && e.message
                .contains("not a table estimated on the `child_survey` design")),
        "{e}"
    );
    assert!(
        e.0.iter()
            .any(|e| e.indicator.as_deref() == Some("caregiver_report")
                && e.key == "table"
                && e.line == line_of(&text, "table = \"caregiver_survey\"")
                && e.message
                    .contains("add a [nonresponse.caregiver_survey] section")),
        "{e}"
    );
    // Bad classes and bound, each located on its line.
    let head = HEAD
        .replace(
            "classes = [\"sex\", \"region\"]",
            "classes = [\"sex\", \"age\", \"sex\", \"nope\"]",
        )
        .replace("min_respondents = 20", "min_respondents = 0");
    let text = format!("{head}{GOOD}");
    let e = parse_catalogue(Path::new("i.toml"), &text, &pipeline(), &schemas())
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    let classes_line = line_of(&text, "classes = [");
    for needle in [
        "`age` is not a categorical or text column of `child_survey`",
        "`sex` is listed twice",
        "`nope` is not a categorical or text column",
    ] {
        assert!(
            e.0.iter()
                .any(|e| e.key == "nonresponse.caregiver_survey.classes"
                    && e.line == classes_line
                    && e.message.contains(needle)),
            "{needle}: {e}"
        );
    }
    assert!(
        e.0.iter()
            .any(|e| e.key == "nonresponse.caregiver_survey.min_respondents"
                && e.line == line_of(&text, "min_respondents = 0")
                && e.message.contains("at least 1 respondent")),
        "{e}"
    );
    // The invalid section does not also report every caregiver indicator as lacking one.
    assert!(!e.0.iter().any(|e| e.key == "table"), "{e}");
}

#[test]
fn units_are_derived_or_declared_and_checked() {
    let c = load(GOOD).unwrap_or_else(|e| panic!("{e}"));
    let unit = |id: &str| c.get(id).map(|i| i.unit.clone()).unwrap_or_default();
    assert_eq!(unit("q_yes"), "proportion");
    assert_eq!(unit("mean_age"), "years of age");
    assert!(
        c.get("mean_age")
            .map(|i| i.to_string())
            .unwrap_or_default()
            .contains("unit:            years of age")
    );
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|l| l == needle)
            .map(|i| i + 1)
            .unwrap_or_default()
    };
    // A mean must say what it measures.
    let p = problems(&GOOD.replace("unit = \"years of age\"\n", ""));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].1.as_deref(), Some("mean_age"));
    assert_eq!(p[0].2, "unit");
    assert!(p[0].3.contains("needs `unit`"), "{}", p[0].3);
    // A proportion's unit follows from the statistic: another one is refused, at its line.
    let bad = GOOD.replace(
        "statistic = \"proportion\"\ncomparability = \"Same",
        "statistic = \"proportion\"\nunit = \"children\"\ncomparability = \"Same",
    );
    let p = problems(&bad);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].0, p[0].2.as_str()),
        (line_of(&bad, "unit = \"children\"") + head_lines(), "unit")
    );
    assert!(p[0].3.contains("remove `unit`"), "{}", p[0].3);
    let p = problems(&GOOD.replace("unit = \"years of age\"", "unit = \"\""));
    assert!(p[0].3.contains("must not be empty"), "{p:?}");
}
