//! Harmonised table schemas: `schemas/<table>.json`, one file per harmonised table.
//!
//! The format follows Frictionless Table Schema (`fields`, `primaryKey`, `missingValues`, field `categories`,
//! `constraints`) with a few documented extensions (`role`, `universe`, `pseudonymise`, `derivedFrom`).
//! Categorical fields carry numeric harmonised codes with labels; in Parquet they are stored as the labels
//! (Arrow dictionary strings). Labelled missing codes (`dont_know`, `refused`, `not_applicable`, ...) are declared
//! once per table in `missingValues` and are kept distinct from real answers and from each other. A field's own
//! `missingValues` lists the labels an answer may take; `not_collected` is the exception: it is never answered but
//! set for every row when the country config says `not_collected = true`, which is allowed for any non-required field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::error::ConfigError;

/// All harmonised schemas, by table name.
#[derive(Debug, Clone, Default)]
pub struct SchemaSet {
    pub tables: BTreeMap<String, TableSchema>,
    /// Files the schemas were loaded from, for provenance (table name -> path).
    pub files: BTreeMap<String, PathBuf>,
}

impl SchemaSet {
    pub fn get(&self, table: &str) -> Option<&TableSchema> {
        self.tables.get(table)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableSchema {
    /// Table name; equals the file stem (`child_survey`).
    pub name: String,
    pub title: String,
    /// Schema version (semver), written into Parquet metadata.
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// Columns that identify a row (after pseudonymisation), e.g. `["respondent_id"]`.
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// Links to other tables, e.g. a caregiver row must point at an existing child household.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    /// Labelled missing codes that fields of this table may use.
    #[serde(default)]
    pub missing_values: Vec<MissingCode>,
    pub fields: Vec<Field>,
}

impl TableSchema {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The table's columns as the expression language sees them (for universes, indicators).
    pub fn expr_columns(&self) -> dh_expr::Columns {
        let mut columns =
            dh_expr::Columns::new(self.missing_values.iter().map(|m| m.label.clone()));
        for f in &self.fields {
            let kind = match (&f.categories, f.field_type) {
                (Some(c), _) => dh_expr::ColumnKind::Categorical {
                    labels: c.iter().map(|c| c.label.clone()).collect(),
                },
                (None, FieldType::Integer | FieldType::Number) => dh_expr::ColumnKind::Number,
                (None, FieldType::Boolean) => dh_expr::ColumnKind::Boolean,
                (None, FieldType::String | FieldType::Date) => dh_expr::ColumnKind::Text,
            };
            columns.insert(f.name.clone(), kind);
        }
        columns
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForeignKey {
    pub fields: Vec<String>,
    pub reference: ForeignKeyReference,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForeignKeyReference {
    pub resource: String,
    pub fields: Vec<String>,
}

/// A labelled missing code, e.g. `{ "value": 98, "label": "dont_know" }`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MissingCode {
    pub value: i64,
    pub label: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
}

/// What a column is for; drives privacy and weighting decisions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Design columns: stratum, PSU, household id, base weight.
    Design,
    /// Respondent or household keys; always pseudonymised.
    Key,
    Demographic,
    #[default]
    Item,
    /// Computed by the pipeline (e.g. `age_band` from `age`, `final_weight`).
    Derived,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub role: Role,
    /// Labelled codes for categorical fields, e.g. `[{ "value": 1, "label": "yes" }]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<Category>>,
    /// Which of the table's labelled missing codes this field may take (by label).
    #[serde(default)]
    pub missing_values: Vec<String>,
    #[serde(default)]
    pub constraints: Constraints,
    /// Who was asked: an expression over other harmonised columns (`"true"` for everybody).
    #[serde(default = "default_universe")]
    pub universe: String,
    /// Values are replaced by keyed pseudonyms (HMAC-SHA256) during normalisation.
    #[serde(default)]
    pub pseudonymise: bool,
    /// Name of the field this one is computed from (for `role = derived`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    /// Several source codes may map to one category (a country's finer list harmonised onto fewer categories, e.g.
    /// local offence labels or codebook paths); otherwise such a mapping is rejected as ambiguous.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub many_to_one: bool,
}

fn default_universe() -> String {
    "true".to_string()
}

impl Field {
    pub fn is_categorical(&self) -> bool {
        self.categories.is_some()
    }
    pub fn category_by_label(&self, label: &str) -> Option<&Category> {
        self.categories.as_ref()?.iter().find(|c| c.label == label)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub value: i64,
    pub label: String,
    /// For derived banded categories: inclusive numeric range of the source field, e.g. `[12, 13]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Constraints {
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
}

/// Loads every `*.json` file in `dir` as a table schema and validates it; fails with every problem found in any
/// file ([`ConfigError::Diagnostics`]).
pub fn load_schemas(dir: &Path) -> Result<SchemaSet, ConfigError> {
    let mut set = SchemaSet::default();
    let entries = std::fs::read_dir(dir).map_err(|source| ConfigError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut problems = Vec::new();
    let mut texts = Vec::new();
    for path in paths {
        let text = match crate::limits::read_bounded(&path, crate::limits::MAX_SCHEMA_BYTES) {
            Ok(text) => text,
            Err(crate::limits::LimitError::Io(source)) => {
                return Err(ConfigError::Io { path, source });
            }
            Err(e) => {
                problems.push(Diagnostic::error(&path, e.line(), "", e.to_string()));
                continue;
            }
        };
        match serde_json::from_str::<TableSchema>(&text) {
            Err(e) => problems.push(Diagnostic::error(
                &path,
                e.line(),
                "",
                format!(
                    "{e}; fix the JSON (field keys are camelCase, see the codebook for the layout)"
                ),
            )),
            Ok(table) => {
                problems.extend(crate::schema_check::check_table(&path, &text, &table));
                if let Some(previous) = set.files.get(&table.name) {
                    problems.push(Diagnostic::error(
                        &path,
                        0,
                        "name",
                        format!(
                            "table `{}` is also defined in {}; keep one",
                            table.name,
                            previous.display()
                        ),
                    ));
                }
                set.files.insert(table.name.clone(), path.clone());
                set.tables.insert(table.name.clone(), table);
            }
        }
        texts.push((path, text));
    }
    problems.extend(crate::schema_check::check_set(&set, &texts));
    if problems.is_empty() {
        Ok(set)
    } else {
        Err(ConfigError::Diagnostics(problems))
    }
}
