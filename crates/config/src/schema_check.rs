//! Validation of harmonised table schemas on load: names, missing codes, categories (and `ordered` only on them),
//! derived bands, constraints,
//! keys, and every field's universe, which must parse and check in the expression language (`dh-expr`) against the
//! table's own columns. All problems are collected; each names the schema file, the line of the field, and the key.

use std::collections::BTreeSet;
use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::schema::{ContentCheck, Field, FieldType, Role, SchemaSet, TableSchema};

/// Checks one table; `text` is the file's JSON, used to find line numbers.
pub fn check_table(path: &Path, text: &str, table: &TableSchema) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |needle: &str| line_of_text(text, needle);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if table.name != stem {
        out.push(Diagnostic::error(
            path,
            at("\"name\""),
            "name",
            format!(
                "schema name `{}` must equal the file name `{stem}`; rename one of them",
                table.name
            ),
        ));
    }
    let semver = table.version.split('.').count() == 3
        && table.version.split('.').all(|p| p.parse::<u32>().is_ok());
    if !semver {
        out.push(Diagnostic::error(
            path,
            at("\"version\""),
            "version",
            format!("version `{}` is not MAJOR.MINOR.PATCH", table.version),
        ));
    }
    let mut labels = BTreeSet::new();
    let mut values = BTreeSet::new();
    for m in &table.missing_values {
        if !labels.insert(m.label.as_str()) || !values.insert(m.value) {
            out.push(Diagnostic::error(
                path,
                at(&format!("\"label\": \"{}\"", m.label)),
                format!("missingValues.{}", m.label),
                format!(
                    "missing code `{}` = {} repeats a label or value; each must be unique",
                    m.label, m.value
                ),
            ));
        }
    }
    let mut names = BTreeSet::new();
    let columns = table.expr_columns();
    for field in &table.fields {
        let line = field_line(text, &field.name);
        let key = |k: &str| {
            if k.is_empty() {
                format!("fields.{}", field.name)
            } else {
                format!("fields.{}.{k}", field.name)
            }
        };
        let mut err = |k: &str, msg: String| out.push(Diagnostic::error(path, line, key(k), msg));
        if !names.insert(field.name.as_str()) {
            err(
                "",
                format!("field `{}` is declared twice; keep one", field.name),
            );
        }
        if !is_snake_case(&field.name) {
            err(
                "",
                format!(
                    "field name `{}` must be snake_case (a-z, 0-9, _), as indicator definitions use it verbatim",
                    field.name
                ),
            );
        }
        for m in &field.missing_values {
            if !labels.contains(m.as_str()) {
                err(
                    "missingValues",
                    format!("missing label `{m}` is not declared in the table's missingValues"),
                );
            }
        }
        check_categories(field, &values, &mut err);
        if field.ordered && field.categories.is_none() {
            err(
                "ordered",
                "`ordered` marks ordinal categories, but the field has no categories; remove `ordered` or add \
                 categories"
                    .into(),
            );
        }
        check_content(field, &mut err);
        check_derived(table, field, &mut err);
        let c = &field.constraints;
        if let (Some(lo), Some(hi)) = (c.minimum, c.maximum)
            && lo > hi
        {
            err("constraints", format!("minimum {lo} is above maximum {hi}"));
        }
        if let Some(n) = c.max_length {
            let text = field.field_type == FieldType::String
                && field.categories.is_none()
                && !field.pseudonymise;
            if n == 0 || !text {
                err(
                    "constraints",
                    format!(
                        "maxLength {n}: a text field without categories (not pseudonymised) may set a maxLength of at \
                         least 1 character; remove it or fix the field"
                    ),
                );
            }
        }
        if field.pseudonymise && field.field_type != FieldType::String {
            err(
                "pseudonymise",
                "only string fields can be pseudonymised".into(),
            );
        }
        if let Err(e) = dh_expr::compile(&field.universe, &columns) {
            err(
                "universe",
                format!(
                    "universe `{}` is invalid: {}",
                    field.universe,
                    one_line(&e.to_string())
                ),
            );
        }
    }
    let limits = &table.content_limits;
    let mut limit_err = |key: &str, msg: String| {
        out.push(Diagnostic::error(
            path,
            at(&format!("\"{key}\"")),
            format!("contentLimits.{key}"),
            msg,
        ))
    };
    if limits.min_rows == 0 {
        limit_err("minRows", "minRows must be at least 1".into());
    }
    let share = limits.max_distinct_share;
    if !(share.is_finite() && share > 0.0 && share <= 1.0) {
        limit_err(
            "maxDistinctShare",
            format!("maxDistinctShare {share} must be above 0 and at most 1"),
        );
    }
    let ratio = limits.max_weight_ratio;
    if !(ratio.is_finite() && ratio > 1.0) {
        limit_err(
            "maxWeightRatio",
            format!("maxWeightRatio {ratio} must be a finite number above 1"),
        );
    }
    for k in &table.primary_key {
        if table.field(k).is_none() {
            out.push(Diagnostic::error(
                path,
                at("\"primaryKey\""),
                "primaryKey",
                format!("primaryKey names unknown field `{k}`"),
            ));
        }
    }
    for fk in &table.foreign_keys {
        for f in &fk.fields {
            if table.field(f).is_none() {
                out.push(Diagnostic::error(
                    path,
                    at("\"foreignKeys\""),
                    "foreignKeys",
                    format!("foreign key names unknown field `{f}`"),
                ));
            }
        }
    }
    out
}

/// Cross-table checks: every foreign key points at an existing table and fields.
pub fn check_set(set: &SchemaSet, texts: &[(std::path::PathBuf, String)]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (name, table) in &set.tables {
        let Some(path) = set.files.get(name) else {
            continue;
        };
        let text = texts
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
            .unwrap_or_default();
        for fk in &table.foreign_keys {
            let r = &fk.reference;
            let line = line_of_text(text, "\"foreignKeys\"");
            match set.get(&r.resource) {
                None => out.push(Diagnostic::error(
                    path,
                    line,
                    "foreignKeys",
                    format!(
                        "foreign key references unknown table `{}`; add its schema or fix the name",
                        r.resource
                    ),
                )),
                Some(other) => {
                    for f in &r.fields {
                        if other.field(f).is_none() {
                            out.push(Diagnostic::error(
                                path,
                                line,
                                "foreignKeys",
                                format!("`{}` has no field `{f}`", r.resource),
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

fn check_categories(
    field: &Field,
    missing_values: &BTreeSet<i64>,
    err: &mut impl FnMut(&str, String),
) {
    let Some(categories) = &field.categories else {
        return;
    };
    if categories.is_empty() {
        err(
            "categories",
            "categories are empty; list them or remove the key".into(),
        );
    }
    let mut values = BTreeSet::new();
    let mut labels = BTreeSet::new();
    for c in categories {
        if !values.insert(c.value) {
            err("categories", format!("code {} is used twice", c.value));
        }
        if c.label.trim().is_empty() || !labels.insert(c.label.as_str()) {
            err(
                "categories",
                format!("label `{}` is empty or used twice", c.label),
            );
        }
        if missing_values.contains(&c.value) {
            err(
                "categories",
                format!(
                    "code {} of `{}` is also a missing code; use another code",
                    c.value, c.label
                ),
            );
        }
    }
}

/// `contentChecks` / `skipContentChecks`: none on pseudonymised fields, `base_weight` only on numeric fields, and a
/// skipped check must be one that runs on the field by default.
fn check_content(field: &Field, err: &mut impl FnMut(&str, String)) {
    if field.pseudonymise && !field.content_checks.is_empty() {
        err(
            "contentChecks",
            "a pseudonymised field's values never reach an output and are not checked; remove contentChecks".into(),
        );
    }
    if field.content_checks.contains(&ContentCheck::BaseWeight)
        && !matches!(field.field_type, FieldType::Number | FieldType::Integer)
    {
        err(
            "contentChecks",
            "base_weight checks numbers; the field is not a number or integer".into(),
        );
    }
    for c in &field.skip_content_checks {
        if !c.applies_by_default(field) || field.pseudonymise {
            err(
                "skipContentChecks",
                format!(
                    "`{c}` does not run on this field by default; remove it from skipContentChecks"
                ),
            );
        }
    }
}

fn check_derived(table: &TableSchema, field: &Field, err: &mut impl FnMut(&str, String)) {
    let ranged = field
        .categories
        .iter()
        .flatten()
        .filter(|c| c.range.is_some())
        .count();
    if field.role != Role::Derived {
        if field.derived_from.is_some() || ranged > 0 {
            err(
                "role",
                "`derivedFrom` and category ranges need `\"role\": \"derived\"`".into(),
            );
        }
        return;
    }
    let Some(from) = &field.derived_from else {
        err(
            "derivedFrom",
            "a derived field needs `derivedFrom` naming its source field".into(),
        );
        return;
    };
    match table.field(from) {
        None => err(
            "derivedFrom",
            format!("`{from}` is not a field of this table"),
        ),
        Some(src)
            if ranged > 0 && !matches!(src.field_type, FieldType::Integer | FieldType::Number) =>
        {
            err(
                "derivedFrom",
                format!("banded categories need a numeric source, but `{from}` is not numeric"),
            )
        }
        Some(_) => {}
    }
    let Some(categories) = &field.categories else {
        return;
    };
    if ranged != 0 && ranged != categories.len() {
        err(
            "categories",
            "either every category of a banded field has a `range` or none".into(),
        );
    }
    let mut ranges: Vec<[f64; 2]> = categories.iter().filter_map(|c| c.range).collect();
    ranges.sort_by(|a, b| a[0].total_cmp(&b[0]));
    for r in &ranges {
        if r[0] > r[1] {
            err(
                "categories",
                format!("range [{}, {}] is reversed", r[0], r[1]),
            );
        }
    }
    for w in ranges.windows(2) {
        if w[1][0] <= w[0][1] {
            err(
                "categories",
                format!(
                    "ranges [{}, {}] and [{}, {}] overlap",
                    w[0][0], w[0][1], w[1][0], w[1][1]
                ),
            );
        }
    }
}

fn is_snake_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn one_line(s: &str) -> String {
    s.lines().map(str::trim_end).collect::<Vec<_>>().join(" | ")
}

/// Line of the field's `"name": "<field>"` entry, or 0.
fn field_line(text: &str, field: &str) -> usize {
    line_of_text(text, &format!("\"name\": \"{field}\""))
}

/// 1-based line of the first line containing `needle`, or 0.
fn line_of_text(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Diagnostic;
    use crate::schema::load_schemas;

    const BASE: &str = r#"{
  "name": "t",
  "title": "T",
  "version": "1.0.0",
  "primaryKey": ["id"],
  "missingValues": [
    { "value": -1, "label": "dont_know" },
    { "value": -3, "label": "not_applicable" }
  ],
  "fields": [
    { "name": "id", "type": "string", "description": "id", "role": "key", "pseudonymise": true },
    { "name": "age", "type": "integer", "description": "age", "constraints": { "minimum": 12, "maximum": 17 } },
    { "name": "age_band", "type": "string", "description": "band", "role": "derived", "derivedFrom": "age",
      "categories": [ { "value": 1, "label": "12-14", "range": [12, 14] }, { "value": 2, "label": "15-17", "range": [15, 17] } ] },
    { "name": "q", "type": "string", "description": "q", "categories": [ { "value": 1, "label": "yes" }, { "value": 2, "label": "no" } ],
      "missingValues": ["dont_know"] },
    { "name": "q_follow", "type": "string", "description": "f", "categories": [ { "value": 1, "label": "yes" }, { "value": 2, "label": "no" } ],
      "missingValues": ["not_applicable"], "universe": "q == \"yes\" and age >= 15" }
  ]
}
"#;

    fn load(text: &str) -> Vec<Diagnostic> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.json"), text).unwrap();
        match load_schemas(dir.path()) {
            Ok(_) => vec![],
            Err(e) => e.diagnostics(),
        }
    }

    fn line(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    fn expect(diags: &[Diagnostic], line: usize, key: &str, needle: &str) {
        assert!(
            diags
                .iter()
                .any(|d| d.line == line && d.key == key && d.message.contains(needle)),
            "no diagnostic at line {line} key {key} containing `{needle}`:\n{diags:#?}"
        );
    }

    #[test]
    fn valid_schema_loads() {
        assert_eq!(load(BASE), vec![]);
    }

    #[test]
    fn max_length_only_on_text_fields() {
        let on_integer = BASE.replace(
            r#""minimum": 12, "maximum": 17"#,
            r#""minimum": 12, "maximum": 17, "maxLength": 3"#,
        );
        let diags = load(&on_integer);
        expect(
            &diags,
            line(&on_integer, "\"name\": \"age\""),
            "fields.age.constraints",
            "maxLength 3",
        );
        let on_text = BASE.replace(
            r#""description": "id", "role": "key", "pseudonymise": true }"#,
            r#""description": "id", "role": "key", "pseudonymise": true },
    { "name": "cite", "type": "string", "description": "c", "constraints": { "maxLength": 120 } }"#,
        );
        assert_eq!(load(&on_text), vec![]);
        let zero = on_text.replace(r#""maxLength": 120"#, r#""maxLength": 0"#);
        expect(
            &load(&zero),
            line(&zero, "\"name\": \"cite\""),
            "fields.cite.constraints",
            "maxLength 0",
        );
    }

    #[test]
    fn universe_errors_name_the_field_line() {
        let text = BASE.replace(
            r#"q == \"yes\" and age >= 15"#,
            r#"qq == \"yes\" and q == \"maybe\" and age >= "#,
        );
        let diags = load(&text);
        expect(
            &diags,
            line(&text, "\"name\": \"q_follow\""),
            "fields.q_follow.universe",
            "invalid",
        );
        let text = BASE.replace(
            r#"q == \"yes\" and age >= 15"#,
            r#"qq == \"yes\" or q == \"maybe\""#,
        );
        let diags = load(&text);
        let l = line(&text, "\"name\": \"q_follow\"");
        expect(&diags, l, "fields.q_follow.universe", "unknown column `qq`");
        expect(&diags, l, "fields.q_follow.universe", "maybe");
    }

    #[test]
    fn undeclared_missing_label_and_duplicate_field() {
        let text = BASE
            .replace(
                r#""missingValues": ["dont_know"]"#,
                r#""missingValues": ["refused"]"#,
            )
            .replace(
                r#"{ "name": "age", "type": "integer", "description": "age","#,
                r#"{ "name": "id", "type": "string", "description": "again" },
    { "name": "age", "type": "integer", "description": "age","#,
            );
        let diags = load(&text);
        expect(
            &diags,
            line(&text, "\"name\": \"q\""),
            "fields.q.missingValues",
            "`refused` is not declared",
        );
        expect(
            &diags,
            line(&text, "\"name\": \"id\""),
            "fields.id",
            "declared twice",
        );
    }

    #[test]
    fn category_and_band_problems() {
        let text = BASE
            .replace(
                r#"{ "value": 2, "label": "no" } ],
      "missingValues": ["dont_know"]"#,
                r#"{ "value": -1, "label": "no" } ],
      "missingValues": ["dont_know"]"#,
            )
            .replace("[15, 17]", "[14, 17]");
        let diags = load(&text);
        expect(
            &diags,
            line(&text, "\"name\": \"q\""),
            "fields.q.categories",
            "also a missing code",
        );
        expect(
            &diags,
            line(&text, "\"name\": \"age_band\""),
            "fields.age_band.categories",
            "overlap",
        );
    }

    #[test]
    fn name_must_match_file_and_foreign_keys_must_resolve() {
        let text = BASE.replace(r#""name": "t","#, r#""name": "u","#).replace(
            r#""primaryKey": ["id"],"#,
            r#""primaryKey": ["id"],
  "foreignKeys": [ { "fields": ["id"], "reference": { "resource": "child", "fields": ["id"] } } ],"#,
        );
        let diags = load(&text);
        expect(&diags, 2, "name", "must equal the file name `t`");
        expect(
            &diags,
            line(&text, "\"foreignKeys\""),
            "foreignKeys",
            "unknown table `child`",
        );
    }

    #[test]
    fn content_checks_and_limits_are_validated() {
        let text = BASE
            .replace(
                r#""primaryKey": ["id"],"#,
                r#""primaryKey": ["id"],
  "contentLimits": { "maxDistinctShare": 1.5, "maxWeightRatio": 1 },"#,
            )
            .replace(
                r#"{ "name": "age", "type": "integer", "description": "age","#,
                r#"{ "name": "age", "type": "integer", "description": "age", "skipContentChecks": ["near_unique"],"#,
            )
            .replace(
                r#"{ "name": "q", "type": "string", "description": "q","#,
                r#"{ "name": "q", "type": "string", "description": "q", "contentChecks": ["base_weight"],"#,
            );
        let diags = load(&text);
        let limits = line(&text, "\"contentLimits\"");
        expect(
            &diags,
            limits,
            "contentLimits.maxDistinctShare",
            "at most 1",
        );
        expect(&diags, limits, "contentLimits.maxWeightRatio", "above 1");
        expect(
            &diags,
            line(&text, "\"name\": \"age\""),
            "fields.age.skipContentChecks",
            "`near_unique` does not run",
        );
        expect(
            &diags,
            line(&text, "\"name\": \"q\""),
            "fields.q.contentChecks",
            "not a number",
        );
        let unknown = BASE.replace(
            r#"{ "name": "q", "type": "string", "description": "q","#,
            r#"{ "name": "q", "type": "string", "description": "q", "contentChecks": ["phones"],"#,
        );
        let diags = load(&unknown);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].line, line(&unknown, "\"phones\""));
        assert!(diags[0].message.contains("unknown variant"), "{diags:#?}");
    }

    #[test]
    fn ordered_is_accepted_on_categories_and_refused_elsewhere() {
        let ordered = BASE.replace(
            r#""role": "derived", "derivedFrom": "age","#,
            r#""role": "derived", "derivedFrom": "age", "ordered": true,"#,
        );
        assert_eq!(load(&ordered), vec![]);
        let table: crate::schema::TableSchema = serde_json::from_str(&ordered).unwrap();
        assert!(table.field("age_band").unwrap().ordered);
        assert!(!table.field("q").unwrap().ordered);
        let text = BASE.replace(
            r#""description": "age", "constraints""#,
            r#""description": "age", "ordered": true, "constraints""#,
        );
        let diags = load(&text);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        expect(
            &diags,
            line(&text, "\"name\": \"age\""),
            "fields.age.ordered",
            "has no categories",
        );
    }

    #[test]
    fn default_content_checks_follow_type_and_role() {
        use crate::schema::{ContentCheck as C, TableSchema};
        let table: TableSchema = serde_json::from_str(BASE).unwrap();
        let checks = |name: &str| table.field(name).unwrap().content_checks();
        assert_eq!(checks("id"), vec![]);
        assert_eq!(
            checks("age"),
            vec![C::Phone, C::Email, C::Coordinates, C::PersonalName]
        );
        let text = BASE.replace(
            r#"{ "name": "q", "type": "string", "description": "q","#,
            r#"{ "name": "region", "type": "string", "description": "r", "role": "demographic", "skipContentChecks": ["personal_name"] },
    { "name": "w", "type": "number", "description": "w", "contentChecks": ["base_weight"] },
    { "name": "q", "type": "string", "description": "q","#,
        );
        assert_eq!(load(&text), vec![]);
        let table: TableSchema = serde_json::from_str(&text).unwrap();
        let checks = |name: &str| table.field(name).unwrap().content_checks();
        assert_eq!(
            checks("region"),
            vec![C::NearUnique, C::Phone, C::Email, C::Coordinates]
        );
        assert_eq!(
            checks("w"),
            vec![C::Phone, C::Email, C::PersonalName, C::BaseWeight]
        );
    }

    #[test]
    fn invalid_json_reports_line() {
        let text = BASE.replace(r#""title": "T","#, r#""title": "T""#);
        let diags = load(&text);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 4);
    }
}
