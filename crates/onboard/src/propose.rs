//! Proposals for one delivery file: which harmonised table it holds (file name hints, then column matches), which
//! source variable feeds each harmonised column, and which `codes`/`missing` its values suggest. Anything not
//! recognised becomes a `# TODO` line. Only what differs from `_defaults.toml` is written.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use dh_config::country::{Format, LineEnding};
use dh_config::schema::Role;
use dh_config::{SchemaSet, TableSchema};

use crate::inspect::{InspectedFile, VariableProfile, normalise};

/// Common source names for harmonised columns (compared after [`normalise`]), used besides the column's own name
/// and title.
pub const SYNONYMS: &[(&str, &[&str])] = &[
    ("respondent_id", &["resp_id", "respid", "child_id", "id"]),
    ("household_id", &["hh_id", "hhid", "hh", "household"]),
    ("caregiver_id", &["cg_id", "cgid", "parent_id"]),
    ("psu", &["ea", "cluster", "enumeration_area", "psu_id"]),
    ("stratum", &["strata", "strat"]),
    ("base_weight", &["wt", "weight", "wgt", "design_weight"]),
    (
        "urban_rural",
        &["urbrur", "urban", "residence", "area_type"],
    ),
    ("sex", &["gender"]),
    ("caregiver_sex", &["cg_sex", "cg_gender"]),
    ("caregiver_age", &["cg_age"]),
];

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

/// Harmonised column -> (source variable, reason) for every column a variable of the file matches.
fn match_columns<'a>(
    file: &'a InspectedFile,
    schema: &TableSchema,
    defaults: &toml::Table,
) -> BTreeMap<String, (&'a VariableProfile, String)> {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let mut out = BTreeMap::new();
    for field in schema.fields.iter().filter(|f| f.role != Role::Derived) {
        let default_source =
            default_str(defaults, &[&schema.name, "columns", &field.name, "source"]);
        let mut candidates: Vec<(String, String)> = vec![
            (normalise(&field.name), "same name".into()),
            (normalise(&field.title), "same as the title".into()),
        ];
        if let Some(s) = &default_source {
            candidates.insert(0, (normalise(s), "the defaults' source name".into()));
        }
        for (target, syns) in SYNONYMS {
            if *target == field.name {
                candidates.extend(
                    syns.iter()
                        .map(|s| (normalise(s), format!("synonym `{s}`"))),
                );
            }
        }
        let found = candidates.iter().find_map(|(want, why)| {
            file.variables
                .iter()
                .find(|v| {
                    !v.likely_identifier
                        && !want.is_empty()
                        && !used.contains(v.name.as_str())
                        && normalise(&v.name) == *want
                })
                .map(|v| (v, why.clone()))
        });
        if let Some((v, why)) = found {
            used.insert(&v.name);
            out.insert(field.name.clone(), (v, why));
        }
    }
    out
}

/// Comment lines listing every variable: type, value labels and a few distinct values.
pub fn variable_listing(file: &InspectedFile) -> String {
    let mut text = format!(
        "#   {} rows, {} variables\n",
        file.rows,
        file.variables.len()
    );
    for v in &file.variables {
        let mut line = format!("#   {:<28} {:<8}", v.name, v.kind);
        if v.likely_identifier {
            line.push_str(" likely direct identifier: values not listed");
        } else if v.values.is_empty() && v.distinct > 0 {
            let _ = write!(line, " {} distinct values", v.distinct);
        } else if !v.values.is_empty() {
            let _ = write!(line, " values: {}", v.values.join(", "));
        }
        if v.has_empty {
            line.push_str(" (and empty cells)");
        }
        if !v.value_labels.is_empty() {
            let labels: Vec<String> = v
                .value_labels
                .iter()
                .map(|(c, l)| format!("{c}={l}"))
                .collect();
            let _ = write!(line, "; labels: {}", labels.join(", "));
        }
        if !v.declared_missing.is_empty() {
            let _ = write!(
                line,
                "; declared missing: {}",
                v.declared_missing.join(", ")
            );
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn inline_map(map: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
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
    p.text.push_str(&variable_listing(file));
    let _ = writeln!(p.text, "\n[deliveries.{t}]");
    let layout = &file.layout;
    let d = |key: &str| default_str(defaults, &[t, key]);
    let settings: [(&str, String, String); 4] = [
        ("file", file.file_name.clone(), String::new()),
        ("format", format_name(layout.format).into(), "csv".into()),
        ("encoding", layout.encoding.name(), "utf-8".into()),
        ("delimiter", layout.delimiter.clone(), ",".into()),
    ];
    for (key, value, fallback) in settings {
        if key == "delimiter" && layout.format != Format::Csv {
            continue;
        }
        if d(key).unwrap_or(fallback) != value {
            let _ = writeln!(p.text, "{key} = {}", quote(&value));
        }
    }
    let line_ending = if layout.line_ending == LineEnding::Crlf {
        "crlf"
    } else {
        "lf"
    };
    if layout.format == Format::Csv && d("line_ending").unwrap_or("lf".into()) != line_ending {
        let _ = writeln!(p.text, "line_ending = {}", quote(line_ending));
    }
    match (&layout.sheet, d("sheet")) {
        (None, Some(s)) if layout.format == Format::Xlsx => {
            p.todo += 1;
            let _ = writeln!(
                p.text,
                "# TODO sheet = \"...\"  (the defaults' sheet {} is not in this file; its first sheet was read)",
                quote(&s)
            );
        }
        _ => {}
    }
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
        let list: Vec<String> = identifiers.iter().map(|s| quote(s)).collect();
        let _ = writeln!(
            p.text,
            "# proposed from the variable names; add every other direct identifier (names, phones, GPS, notes)\n\
             identifiers = [{}]",
            list.join(", ")
        );
    }
    let _ = writeln!(p.text, "\n[deliveries.{t}.columns]");
    let matches = match_columns(file, schema, defaults);
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
                if let Some(codes) = &codes {
                    extra.push_str(&format!(", codes = {}", inline_map(codes)));
                }
                extra.push_str(&propose_missing(v, field, defaults, t));
                if let Some(line) = codes_todo(v, field, &default_codes, codes.is_some()) {
                    p.todo += 1;
                    p.text.push_str(&line);
                }
                let unknown = unknown_values(v, codes.as_ref().unwrap_or(&default_codes));
                if !unknown.is_empty() {
                    p.todo += 1;
                    let _ = writeln!(
                        p.text,
                        "# TODO check {}: values {} are neither codes nor missing codes of {}",
                        field.name,
                        unknown.join(", "),
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
                    "{} = {{ source = {}{extra} }}  # proposed: {why}",
                    field.name,
                    quote(&v.name)
                );
            }
            None => {
                p.todo += 1;
                let _ = writeln!(
                    p.text,
                    "# TODO {} = {{ source = \"...\" }}  # {:?}{required}: {}",
                    field.name, field.field_type, field.title
                );
            }
        }
    }
    p.text.push('\n');
    p
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
/// punctuation-insensitive, or a [`CATEGORY_SYNONYMS`] word) and the result differs from the default codes.
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
            v.name,
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
    for (code, label) in [("98", "dont_know"), ("99", "refused")] {
        if v.values.iter().any(|x| x == code) && !category_codes.contains(code) && allowed(label) {
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

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Csv => "csv",
        Format::Sav => "sav",
        Format::Dta => "dta",
        Format::Xlsx => "xlsx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn repo() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
    }

    fn schemas() -> SchemaSet {
        dh_config::load_schemas(&repo().join("schemas")).expect("schemas")
    }

    fn defaults() -> toml::Table {
        let text =
            std::fs::read_to_string(repo().join("countries/_defaults.toml")).expect("defaults");
        toml::from_str(&text).expect("defaults parse")
    }

    fn variable(name: &str, values: &[&str], labels: &[(&str, &str)]) -> VariableProfile {
        VariableProfile {
            name: name.into(),
            kind: "integer",
            value_labels: labels
                .iter()
                .map(|(c, l)| (c.to_string(), l.to_string()))
                .collect(),
            declared_missing: Vec::new(),
            values: values.iter().map(|v| v.to_string()).collect(),
            distinct: values.len(),
            has_empty: true,
            likely_identifier: false,
        }
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
