//! Proposals for one delivery file: which harmonised table it holds (file name hints, then column matches), and for
//! each harmonised column the source variable ([`crate::matching`]) with the `codes`, `missing`, `value = "label"`
//! and `date_format` its values and labels suggest, plus the delivery's `sheet`, `header_row`, `skip_rows`,
//! `encoding` and `identifiers`. Anything not recognised becomes a `# TODO` line. Only what differs from
//! `_defaults.toml` is written. Every delivered text goes through [`crate::toml_text`]; keys are only harmonised
//! names from the schemas.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use dh_config::country::{Format, LineEnding};
use dh_config::schema::{FieldType, Role};
use dh_config::{SchemaSet, TableSchema};

use crate::inspect::{DateLayout, InspectedFile, VariableProfile, normalise};
use crate::listing::{shown_value, variable_listing};
use crate::matching::{key_variables, match_columns};
use crate::toml_text::{comment, string};

/// File name fragments (normalised) that name a table; checked in this order ("caregiver" before "child").
const FILE_HINTS: &[(&str, &str)] = &[
    ("caregiver", "caregiver_survey"),
    ("parent", "caregiver_survey"),
    ("frontline", "frontline_survey"),
    ("segment", "interview_segments"),
    ("register", "interview_register"),
    ("cybertipline", "cybertipline_reports"),
    ("police", "police_cases"),
    ("icse", "icse_connection"),
    // Before `child`: a child helpline's file is not the child survey.
    ("helpline", "service_contacts"),
    ("hotline", "service_contacts"),
    ("legal", "legal_provisions"),
    ("checklist", "legal_provisions"),
    ("child", "child_survey"),
];

/// Missing labels recognised in value labels (normalised label -> harmonised missing label).
const MISSING_LABELS: &[(&str, &str)] = &[
    ("dontknow", "dont_know"),
    ("donotknow", "dont_know"),
    ("refused", "refused"),
    ("noanswer", "refused"),
    ("notapplicable", "not_applicable"),
];

/// Value-label words that name a harmonised category under another name (normalised label -> category label).
const CATEGORY_SYNONYMS: &[(&str, &str)] = &[
    ("boy", "male"),
    ("man", "male"),
    ("girl", "female"),
    ("woman", "female"),
];

/// The skeleton lines for one delivery file and its counts.
#[derive(Debug, Clone, Default)]
pub struct TableProposal {
    pub text: String,
    pub proposed: usize,
    pub todo: usize,
}

/// A string value of the defaults at `deliveries.<path...>`.
pub fn default_str(defaults: &toml::Table, path: &[&str]) -> Option<String> {
    let mut v = defaults.get("deliveries")?;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().map(str::to_string)
}

fn default_value<'a>(defaults: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let mut v = defaults.get("deliveries")?;
    for key in path {
        v = v.get(key)?;
    }
    Some(v)
}

/// The table a file name names, if any hint matches and the schema exists.
pub fn guess_table_by_name(file_name: &str, schemas: &SchemaSet) -> Option<String> {
    let n = normalise(file_name);
    let by_table_name = schemas
        .tables
        .keys()
        .find(|t| n.contains(&normalise(t)))
        .cloned();
    by_table_name.or_else(|| {
        FILE_HINTS
            .iter()
            .find(|(hint, table)| n.contains(hint) && schemas.get(table).is_some())
            .map(|(_, t)| t.to_string())
    })
}

/// The table a file most likely holds and why: a file name hint, else the table with most columns matched.
pub fn guess_table(
    file: &InspectedFile,
    schemas: &SchemaSet,
    defaults: &toml::Table,
) -> Option<(String, String)> {
    if let Some(t) = guess_table_by_name(&file.file_name, schemas) {
        return Some((t, "guessed from the file name".into()));
    }
    let mut best: Option<(usize, &str)> = None;
    for (name, schema) in &schemas.tables {
        let score = match_columns(file, schema, defaults).len();
        if score > 0 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, name));
        }
    }
    best.map(|(score, t)| {
        (
            t.to_string(),
            format!("guessed from {score} matching column names"),
        )
    })
}

fn inline_map(map: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{} = {}", string(k), string(v)))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

/// `[deliveries.<table>]` with its columns for one file.
pub fn propose_table(
    file: &InspectedFile,
    schema: &TableSchema,
    defaults: &toml::Table,
) -> TableProposal {
    let t = schema.name.as_str();
    let mut p = TableProposal::default();
    let matches = match_columns(file, schema, defaults);
    let mut withheld = key_variables(file, std::iter::once(schema), defaults);
    for field in schema
        .fields
        .iter()
        .filter(|f| f.pseudonymise || f.role == Role::Key)
    {
        if let Some((v, _)) = matches.get(&field.name) {
            withheld.insert(v.name.as_str());
        }
    }
    p.text.push_str(&variable_listing(file, &withheld));
    let _ = writeln!(p.text, "\n[deliveries.{t}]");
    let layout = &file.layout;
    let d = |key: &str| default_str(defaults, &[t, key]);
    let mut settings: Vec<(&str, String, String)> = vec![
        ("file", file.file_name.clone(), String::new()),
        (
            "format",
            layout.format.name().into(),
            Format::default().name().into(),
        ),
    ];
    if layout.encoding_decided {
        settings.push(("encoding", layout.encoding.name(), "utf-8".into()));
    }
    if layout.format == Format::Csv {
        settings.push(("delimiter", layout.delimiter.clone(), ",".into()));
        let line_ending = if layout.line_ending == LineEnding::Crlf {
            "crlf"
        } else {
            "lf"
        };
        settings.push(("line_ending", line_ending.into(), "lf".into()));
    }
    for (key, value, fallback) in settings {
        if d(key).unwrap_or(fallback) != value {
            let _ = writeln!(p.text, "{key} = {}", string(&value));
        }
    }
    match (&layout.encoding_note, layout.encoding_decided) {
        (Some(note), true) if layout.encoding_check => {
            p.todo += 1;
            let _ = writeln!(p.text, "# TODO encoding: {}", comment(note));
        }
        (Some(note), true) => {
            let _ = writeln!(p.text, "# encoding: {}", comment(note));
        }
        (note, false) => {
            p.todo += 1;
            let _ = writeln!(
                p.text,
                "# TODO encoding = \"...\"  ({}; the listing above was read as {})",
                comment(note.as_deref().unwrap_or("not decided")),
                layout.encoding
            );
        }
        _ => {}
    }
    propose_sheet_and_rows(file, defaults, t, &mut p);
    let identifiers: Vec<&str> = file
        .variables
        .iter()
        .filter(|v| v.likely_identifier)
        .map(|v| v.name.as_str())
        .collect();
    let default_ids: Vec<&str> = default_value(defaults, &[t, "identifiers"])
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    if identifiers != default_ids {
        let list: Vec<String> = identifiers.iter().map(|s| string(s)).collect();
        let _ = writeln!(
            p.text,
            "# proposed from the variable names; add every other direct identifier (names, phones, GPS, notes)\n\
             identifiers = [{}]",
            list.join(", ")
        );
    }
    let _ = writeln!(p.text, "\n[deliveries.{t}.columns]");
    for field in schema.fields.iter().filter(|f| f.role != Role::Derived) {
        let default_source = default_str(defaults, &[t, "columns", &field.name, "source"]);
        let required = if field.constraints.required {
            ", required"
        } else {
            ""
        };
        match matches.get(&field.name) {
            Some((v, why)) => {
                let default_codes = default_codes(defaults, t, &field.name);
                let codes = propose_codes(v, field, &default_codes);
                let mut extra = String::new();
                let mut why = why.clone();
                if let Some(codes) = &codes {
                    extra.push_str(&format!(", codes = {}", inline_map(codes)));
                }
                extra.push_str(&propose_missing(v, field, defaults, t));
                if takes_labels(v, field, layout.format) {
                    extra.push_str(", value = \"label\"");
                    why.push_str("; value = \"label\": the file labels its codes");
                }
                if field.field_type == FieldType::Date {
                    match v.dates {
                        DateLayout::Format(f) => {
                            extra.push_str(&format!(", date_format = {}", string(f)));
                            why.push_str("; date_format from its values");
                        }
                        DateLayout::Ambiguous(a, b) => {
                            p.todo += 1;
                            let _ = writeln!(
                                p.text,
                                "# TODO {}: the dates of {} fit both {} and {} (no day above 12); add \
                                 date_format = the right one",
                                field.name,
                                comment(&v.name),
                                string(a),
                                string(b)
                            );
                        }
                        DateLayout::Iso | DateLayout::None => {}
                    }
                }
                if let Some(line) = codes_todo(v, field, &default_codes, codes.is_some()) {
                    p.todo += 1;
                    p.text.push_str(&line);
                }
                let unknown = unknown_values(v, codes.as_ref().unwrap_or(&default_codes));
                if !unknown.is_empty() {
                    p.todo += 1;
                    let shown: Vec<String> = unknown.iter().map(|x| shown_value(x)).collect();
                    let _ = writeln!(
                        p.text,
                        "# TODO check {}: values {} are neither codes nor missing codes of {}",
                        field.name,
                        shown.join(", "),
                        if codes.is_some() {
                            "the proposal"
                        } else {
                            "the default scheme"
                        }
                    );
                }
                if default_source.as_deref() == Some(v.name.as_str()) && extra.is_empty() {
                    continue;
                }
                p.proposed += 1;
                let _ = writeln!(
                    p.text,
                    "{} = {{ source = {}{extra} }}  # proposed: {}",
                    field.name,
                    string(&v.name),
                    comment(&why)
                );
            }
            None => {
                p.todo += 1;
                let _ = writeln!(
                    p.text,
                    "# TODO {} = {{ source = \"...\" }}  # {:?}{required}: {}",
                    field.name,
                    field.field_type,
                    comment(&field.title)
                );
            }
        }
    }
    p.text.push('\n');
    p
}

/// Whether a column should take the delivered value label instead of the code: a text column without categories
/// (e.g. `region`), not a key, fed by an SPSS/Stata variable with value labels (`11 = Amman`).
fn takes_labels(v: &VariableProfile, field: &dh_config::Field, format: Format) -> bool {
    format.has_value_labels()
        && field.categories.is_none()
        && field.field_type == FieldType::String
        && field.role != Role::Key
        && !field.pseudonymise
        && !v.value_labels.is_empty()
}

/// `sheet`, `header_row` and `skip_rows` lines when the file's layout differs from what the defaults read.
fn propose_sheet_and_rows(
    file: &InspectedFile,
    defaults: &toml::Table,
    t: &str,
    p: &mut TableProposal,
) {
    let layout = &file.layout;
    let int = |key: &str, fallback: i64| {
        default_value(defaults, &[t, key])
            .and_then(|v| v.as_integer())
            .unwrap_or(fallback)
    };
    if layout.format == Format::Xlsx {
        let default_sheet = default_str(defaults, &[t, "sheet"]);
        let effective = default_sheet
            .clone()
            .or_else(|| file.sheets.first().map(|s| s.name.clone()));
        match &layout.sheet {
            Some(s) if effective.as_deref() != Some(s.as_str()) => {
                let why = match &default_sheet {
                    Some(d) if !file.sheets.iter().any(|x| x.name == *d) => format!(
                        "the defaults' sheet {} is not in this file; this one's header names most harmonised columns",
                        string(d)
                    ),
                    _ => "its header row names most harmonised columns".to_string(),
                };
                let _ = writeln!(
                    p.text,
                    "sheet = {}  # proposed: {}",
                    string(s),
                    comment(&why)
                );
            }
            Some(_) => {}
            None => {
                p.todo += 1;
                let _ = writeln!(
                    p.text,
                    "# TODO sheet = \"...\"  (no sheet has a header row; the first sheet was read)"
                );
            }
        }
    }
    if matches!(layout.format, Format::Xlsx | Format::Csv) {
        if i64::from(layout.header_row) != int("header_row", 1) {
            let above = match layout.rows_above {
                0 => "the rows above are empty".to_string(),
                n => format!("{n} non-empty row(s) above: title or notes"),
            };
            let _ = writeln!(
                p.text,
                "header_row = {}  # proposed: the variable names are on this row ({above})",
                layout.header_row
            );
        }
        if i64::from(layout.skip_rows) != int("skip_rows", 0) {
            let _ = writeln!(
                p.text,
                "skip_rows = {}  # proposed: the row(s) right under the header hold labels, not data",
                layout.skip_rows
            );
        }
    }
}

/// Source code -> label of the column's default codes (its own `codes`, else its default scheme's).
fn default_codes(defaults: &toml::Table, table: &str, column: &str) -> BTreeMap<String, String> {
    let as_map = |v: Option<&toml::Value>| -> BTreeMap<String, String> {
        v.and_then(|m| m.as_table())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let own = as_map(default_value(
        defaults,
        &[table, "columns", column, "codes"],
    ));
    if !own.is_empty() {
        return own;
    }
    let scheme = default_str(defaults, &[table, "columns", column, "scheme"]);
    as_map(
        scheme
            .and_then(|s| defaults.get("code_schemes")?.get(s.as_str())?.get("codes"))
            .and_then(|c| Some(c).filter(|c| c.is_table())),
    )
}

/// Codes from the variable's value labels when every category of the column is named by a label (case- and
/// punctuation-insensitive, or a word such as `boy` for `male`) and the result differs from the default codes.
pub fn propose_codes(
    v: &VariableProfile,
    field: &dh_config::Field,
    default_codes: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    let categories = field.categories.as_ref()?;
    let mut codes = BTreeMap::new();
    for (code, label) in &v.value_labels {
        let n = normalise(label);
        let n = CATEGORY_SYNONYMS
            .iter()
            .find(|(word, _)| *word == n)
            .map(|(_, c)| c.to_string())
            .unwrap_or(n);
        if let Some(c) = categories.iter().find(|c| normalise(&c.label) == n) {
            codes.insert(code.clone(), c.label.clone());
        }
    }
    let covered: BTreeSet<&String> = codes.values().collect();
    let complete = categories.iter().all(|c| covered.contains(&c.label));
    (complete && codes != *default_codes).then_some(codes)
}

/// A `# TODO` line when a categorical column has no codes to read its values with (no default codes, no proposal)
/// and its listed values are not the harmonised labels themselves.
fn codes_todo(
    v: &VariableProfile,
    field: &dh_config::Field,
    default_codes: &BTreeMap<String, String>,
    proposed: bool,
) -> Option<String> {
    let categories = field.categories.as_ref()?;
    let labels: Vec<&str> = categories.iter().map(|c| c.label.as_str()).collect();
    let needs_codes = default_codes.is_empty()
        && !proposed
        && v.values.iter().any(|x| !labels.contains(&x.as_str()));
    needs_codes.then(|| {
        format!(
            "# TODO {}: add codes = {{ \"<value of {}>\" = \"<category>\", ... }}; categories: {}\n",
            field.name,
            comment(&v.name),
            labels.join(", ")
        )
    })
}

/// Listed values of a coded variable that are neither in `codes` nor missing codes (8, 9, 98, 99, -1 ... or declared
/// missing); empty when the column has no codes to compare with.
fn unknown_values(v: &VariableProfile, codes: &BTreeMap<String, String>) -> Vec<String> {
    if codes.is_empty() {
        return Vec::new();
    }
    let usual_missing = ["8", "9", "98", "99", "-1", "-8", "-9"];
    v.values
        .iter()
        .filter(|x| {
            !codes.contains_key(*x)
                && !usual_missing.contains(&x.as_str())
                && !v.declared_missing.contains(x)
                && !x
                    .parse::<f64>()
                    .is_ok_and(|n| v.missing_ranges.iter().any(|(lo, hi)| *lo <= n && n <= *hi))
        })
        .cloned()
        .collect()
}

/// `, missing = { ... }` when the variable's values or labels show missing codes the defaults would not catch.
fn propose_missing(
    v: &VariableProfile,
    field: &dh_config::Field,
    defaults: &toml::Table,
    table: &str,
) -> String {
    let Some(categories) = &field.categories else {
        return String::new();
    };
    let allowed = |label: &str| field.missing_values.iter().any(|m| m == label);
    let mut missing = BTreeMap::new();
    for (code, label) in &v.value_labels {
        let n = normalise(label);
        if let Some((_, m)) = MISSING_LABELS.iter().find(|(k, _)| n == *k)
            && allowed(m)
        {
            missing.insert(code.clone(), m.to_string());
        }
    }
    let category_codes: BTreeSet<String> = categories.iter().map(|c| c.value.to_string()).collect();
    // Bare 98/99 read as don't know/refused (the common convention) only when 97 is not also used: agencies with
    // 97/98/99 schemes differ on which is which, so those are left to the `# TODO check` line.
    let uses_97 = v.values.iter().any(|x| x == "97") && !category_codes.contains("97");
    for (code, label) in [("98", "dont_know"), ("99", "refused")] {
        if !uses_97
            && v.values.iter().any(|x| x == code)
            && !category_codes.contains(code)
            && allowed(label)
        {
            missing.entry(code.to_string()).or_insert(label.to_string());
        }
    }
    if missing.is_empty() {
        return String::new();
    }
    if v.has_empty && allowed("not_applicable") {
        missing.insert(String::new(), "not_applicable".into());
    }
    let default_missing: BTreeMap<String, String> = default_value(defaults, &[table, "missing"])
        .and_then(|m| m.as_table())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let column_missing = default_value(defaults, &[table, "columns", &field.name, "missing"])
        .and_then(|m| m.as_table());
    let inherited = |code: &String, label: &String| match column_missing {
        Some(own) => own.get(code).and_then(|v| v.as_str()) == Some(label.as_str()),
        None => default_missing.get(code) == Some(label),
    };
    // Nothing to write when the defaults already read every proposed code the same way.
    if missing.iter().all(|(code, label)| inherited(code, label)) {
        return String::new();
    }
    format!(", missing = {}", inline_map(&missing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{defaults, schemas, variable};

    #[test]
    fn bare_98_is_not_guessed_when_the_file_also_uses_97() {
        let s = schemas();
        let field = s
            .get("caregiver_survey")
            .and_then(|t| t.field("caregiver_uses_internet"))
            .expect("field");
        let mut v = variable("P01", &["0", "1", "97", "98"], &[]);
        assert_eq!(
            propose_missing(&v, field, &defaults(), "caregiver_survey"),
            ""
        );
        v = variable("P01", &["1", "2", "98", "99"], &[]);
        assert!(
            propose_missing(&v, field, &defaults(), "caregiver_survey")
                .contains("\"98\" = \"dont_know\""),
        );
    }

    #[test]
    fn tables_from_file_names() {
        let s = schemas();
        let t = |n| guess_table_by_name(n, &s);
        assert_eq!(
            t("TH_DH_caregiver_final.csv").as_deref(),
            Some("caregiver_survey")
        );
        assert_eq!(t("TH_DH_child_final.sav").as_deref(), Some("child_survey"));
        assert_eq!(t("police_cases_2019.xlsx").as_deref(), Some("police_cases"));
        assert_eq!(
            t("KE_child_helpline_2019.xlsx").as_deref(),
            Some("service_contacts")
        );
        assert_eq!(
            t("THA_legal_checklist.xlsx").as_deref(),
            Some("legal_provisions")
        );
        assert_eq!(t("export.csv"), None);
    }

    #[test]
    fn codes_from_value_labels_only_when_complete_and_different() {
        let s = schemas();
        let field = s
            .get("child_survey")
            .and_then(|t| t.field("offered_money_images"))
            .expect("field");
        let d = default_codes(&defaults(), "child_survey", "offered_money_images");
        assert_eq!(d.get("1").map(String::as_str), Some("yes"));
        let v = variable(
            "Q2",
            &["0", "1", "9"],
            &[("0", "No"), ("1", "YES"), ("9", "Refused")],
        );
        let codes = propose_codes(&v, field, &d).expect("proposal");
        assert_eq!(codes.get("0").map(String::as_str), Some("no"));
        assert_eq!(codes.get("1").map(String::as_str), Some("yes"));
        assert_eq!(codes.len(), 2);
        let same = variable("Q2", &["1", "2"], &[("1", "Yes"), ("2", "No")]);
        assert_eq!(propose_codes(&same, field, &d), None);
        let partial = variable("Q2", &["1"], &[("1", "Yes")]);
        assert_eq!(propose_codes(&partial, field, &d), None);
        let sex = s
            .get("child_survey")
            .and_then(|t| t.field("sex"))
            .expect("sex");
        let boys = variable("G", &["1", "2"], &[("1", "Girl"), ("2", "Boy")]);
        let codes = propose_codes(&boys, sex, &BTreeMap::new()).expect("sex codes");
        assert_eq!(codes.get("1").map(String::as_str), Some("female"));
        assert_eq!(
            unknown_values(&variable("Q", &["1", "2", "7", "9"], &[]), &d),
            vec!["7"]
        );
    }

    #[test]
    fn missing_98_99_proposed_only_when_not_default() {
        let s = schemas();
        let child = s.get("child_survey").expect("child_survey");
        let follow_up = child
            .field("offered_money_images_told_nobody")
            .expect("field");
        let v = variable("Q7", &["1", "2", "98", "99"], &[]);
        let m = propose_missing(&v, follow_up, &defaults(), "child_survey");
        assert_eq!(
            m,
            ", missing = { \"\" = \"not_applicable\", \"98\" = \"dont_know\", \"99\" = \"refused\" }"
        );
        // Asked of everybody: an empty cell is not `not_applicable`.
        let screener = child.field("offered_money_images").expect("field");
        let m = propose_missing(&v, screener, &defaults(), "child_survey");
        assert_eq!(
            m,
            ", missing = { \"98\" = \"dont_know\", \"99\" = \"refused\" }"
        );
        let default_like = variable("Q7", &["1", "2", "8", "9"], &[]);
        let labelled_like_defaults = variable("Q7", &["1", "9"], &[("9", "Refused")]);
        assert_eq!(
            propose_missing(
                &labelled_like_defaults,
                follow_up,
                &defaults(),
                "child_survey"
            ),
            ""
        );
        assert_eq!(
            propose_missing(&default_like, follow_up, &defaults(), "child_survey"),
            ""
        );
        let labelled = variable("Q7", &["1", "2", "7"], &[("7", "Don't know")]);
        let m = propose_missing(&labelled, follow_up, &defaults(), "child_survey");
        assert!(m.contains("\"7\" = \"dont_know\""), "{m}");
    }
}
