//! Harmonised table schemas: `schemas/<table>.json`, one file per harmonised table.
//!
//! The format follows Frictionless Table Schema (`fields`, `primaryKey`, `missingValues`, field `categories`,
//! `constraints`) with a few documented extensions (`role`, `universe`, `pseudonymise`, `derivedFrom`, `ordered`,
//! and the content checks: a field's `contentChecks`/`skipContentChecks`, a table's `contentLimits`, see
//! [`ContentCheck`]). Categorical fields carry numeric harmonised codes with labels; in Parquet they are stored as
//! the labels (Arrow dictionary strings whose dictionary is [`Field::dictionary_labels`], ordered for `ordered`
//! fields). Labelled missing codes (`dont_know`, `refused`, `not_applicable`, ...) are declared
//! once per table in `missingValues` and are kept distinct from real answers and from each other. A field's own
//! `missingValues` lists the labels an answer may take; `not_collected` is the exception: it is never answered but
//! set for every row when the country config says `not_collected = true`, which is allowed for any non-required field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::error::ConfigError;

/// The label every row of a column the country did not collect gets; it ends every categorical dictionary.
pub const NOT_COLLECTED: &str = "not_collected";

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
    /// Thresholds of the content checks of this table's columns ([`ContentLimits`]); defaults when absent.
    #[serde(default, skip_serializing_if = "ContentLimits::is_default")]
    pub content_limits: ContentLimits,
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
    /// The categories are ordinal and listed in their order (age bands, frequencies, scales, stages); written as an
    /// ordered Arrow dictionary and shown as "categorical, ordered" in the codebook. Only on categorical fields.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordered: bool,
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
    /// Content checks run on this field besides its defaults ([`Field::content_checks`]), e.g. `["base_weight"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_checks: Vec<ContentCheck>,
    /// Default content checks that do not run on this field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_content_checks: Vec<ContentCheck>,
}

fn default_universe() -> String {
    "true".to_string()
}

impl Field {
    /// The content checks that run on this field's delivered values: none for pseudonymised fields (their values
    /// never reach an output); otherwise the defaults of [`ContentCheck::applies_by_default`], plus the field's
    /// `contentChecks`, minus its `skipContentChecks`. Sorted, each once.
    pub fn content_checks(&self) -> Vec<ContentCheck> {
        if self.pseudonymise {
            return Vec::new();
        }
        let checks: Vec<ContentCheck> = ContentCheck::ALL
            .into_iter()
            .filter(|c| c.applies_by_default(self) || self.content_checks.contains(c))
            .filter(|c| !self.skip_content_checks.contains(c))
            .collect();
        checks
    }

    pub fn is_categorical(&self) -> bool {
        self.categories.is_some()
    }

    /// The values of a categorical field's output dictionary, in codebook order: its categories' labels, then the
    /// table's labelled missing codes, then `not_collected` when the table does not declare it. The same list for
    /// every country, whatever the data hold; `None` for a field without categories.
    pub fn dictionary_labels(&self, table_missing: &[MissingCode]) -> Option<Vec<String>> {
        let categories = self.categories.as_ref()?;
        let mut labels: Vec<String> = categories.iter().map(|c| c.label.clone()).collect();
        labels.extend(table_missing.iter().map(|m| m.label.clone()));
        if !labels.iter().any(|l| l == NOT_COLLECTED) {
            labels.push(NOT_COLLECTED.to_string());
        }
        Some(labels)
    }

    /// The table's labelled missing codes this field may take (its `missingValues`, and `not_collected` when the
    /// field is not required), in the table's order, as `value=label` pairs joined by `, ` (the style of the field
    /// metadata `codes`); empty when it may take none.
    pub fn missing_codes_text(&self, table_missing: &[MissingCode]) -> String {
        table_missing
            .iter()
            .filter(|m| {
                self.missing_values.contains(&m.label)
                    || (m.label == NOT_COLLECTED && !self.constraints.required)
            })
            .map(|m| format!("{}={}", m.value, m.label))
            .collect::<Vec<_>>()
            .join(", ")
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
    /// What the category stands for in words, where the label alone does not say it (e.g. a checklist item's
    /// wording in `legal_provisions.provision`); shown in the codebook and the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
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
    /// Longest value, in characters, of a text field (a short reference such as a law's citation): a longer
    /// delivered value is a row problem, never truncated into an output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// A check of what a column's delivered values look like, run on every delivery before any row is written
/// (`dh-normalise`'s `content` module): a column that trips one fails its country, because the mapping or the
/// header is then most likely wrong (swapped header cells, an identifier under a design column's name). Names are
/// snake_case in the schemas (`"contentChecks": ["base_weight"]`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ContentCheck {
    /// Design and geography columns (stratum, PSU, region) repeat their values; near-unique values per row are
    /// names or ids. Default for text fields without categories with role `design` or `demographic`.
    NearUnique,
    /// Values shaped like phone numbers that do not repeat the way codes do. Default for every field.
    Phone,
    /// Values shaped like e-mail addresses. Default for every field.
    Email,
    /// Values shaped like GPS coordinates that do not repeat the way codes do. Default for every field but
    /// `number` fields (whose decimals cannot be told from coordinates).
    Coordinates,
    /// Values shaped like personal names ("Given Family") that do not repeat the way region names do. Default
    /// for every field.
    PersonalName,
    /// Base weights: every value finite and positive, and the largest at most `maxWeightRatio` times the median.
    /// Only where the schema asks for it, on `number` or `integer` fields.
    BaseWeight,
}

impl ContentCheck {
    pub const ALL: [ContentCheck; 6] = [
        ContentCheck::NearUnique,
        ContentCheck::Phone,
        ContentCheck::Email,
        ContentCheck::Coordinates,
        ContentCheck::PersonalName,
        ContentCheck::BaseWeight,
    ];

    /// The name used in schemas and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentCheck::NearUnique => "near_unique",
            ContentCheck::Phone => "phone",
            ContentCheck::Email => "email",
            ContentCheck::Coordinates => "coordinates",
            ContentCheck::PersonalName => "personal_name",
            ContentCheck::BaseWeight => "base_weight",
        }
    }

    /// Whether the check runs on a (non-pseudonymised) field without being asked for.
    pub fn applies_by_default(self, field: &Field) -> bool {
        match self {
            ContentCheck::NearUnique => {
                field.field_type == FieldType::String
                    && field.categories.is_none()
                    && matches!(field.role, Role::Design | Role::Demographic)
            }
            ContentCheck::Phone | ContentCheck::Email | ContentCheck::PersonalName => true,
            ContentCheck::Coordinates => field.field_type != FieldType::Number,
            ContentCheck::BaseWeight => false,
        }
    }
}

impl std::fmt::Display for ContentCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Thresholds of the content checks of one table (`"contentLimits"` in a schema; every key optional).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContentLimits {
    /// `near_unique` and `personal_name` judge a column only from this many non-blank cells (resp. name-shaped
    /// distinct values) on; smaller tables cannot tell a register of names from a list of regions.
    #[serde(default = "ContentLimits::default_min_rows")]
    pub min_rows: usize,
    /// Largest share of distinct values among non-blank cells a repeating column may have (`near_unique`), and
    /// among the cells shaped like phones, coordinates or names (`phone`, `coordinates`, `personal_name`).
    #[serde(default = "ContentLimits::default_max_distinct_share")]
    pub max_distinct_share: f64,
    /// Largest ratio of the largest base weight to the median (`base_weight`).
    #[serde(default = "ContentLimits::default_max_weight_ratio")]
    pub max_weight_ratio: f64,
}

impl ContentLimits {
    pub const DEFAULT_MIN_ROWS: usize = 10;
    pub const DEFAULT_MAX_DISTINCT_SHARE: f64 = 0.5;
    pub const DEFAULT_MAX_WEIGHT_RATIO: f64 = 100.0;

    fn default_min_rows() -> usize {
        Self::DEFAULT_MIN_ROWS
    }
    fn default_max_distinct_share() -> f64 {
        Self::DEFAULT_MAX_DISTINCT_SHARE
    }
    fn default_max_weight_ratio() -> f64 {
        Self::DEFAULT_MAX_WEIGHT_RATIO
    }
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for ContentLimits {
    fn default() -> Self {
        ContentLimits {
            min_rows: Self::DEFAULT_MIN_ROWS,
            max_distinct_share: Self::DEFAULT_MAX_DISTINCT_SHARE,
            max_weight_ratio: Self::DEFAULT_MAX_WEIGHT_RATIO,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableSchema {
        serde_json::from_value(serde_json::json!({
            "name": "t", "title": "T", "version": "1.2.0",
            "missingValues": [
                {"value": -1, "label": "dont_know"}, {"value": -2, "label": "refused"},
                {"value": -3, "label": "not_applicable"}
            ],
            "fields": [
                {"name": "band", "type": "string", "description": "b", "ordered": true,
                 "categories": [{"value": 2, "label": "older"}, {"value": 1, "label": "younger"}],
                 "missingValues": ["not_applicable", "dont_know"]},
                {"name": "age", "type": "integer", "description": "a"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn dictionary_labels_follow_the_codebook() {
        let t = table();
        let band = t.field("band").unwrap();
        assert_eq!(
            band.dictionary_labels(&t.missing_values).unwrap(),
            [
                "older",
                "younger",
                "dont_know",
                "refused",
                "not_applicable",
                NOT_COLLECTED
            ]
        );
        assert_eq!(
            t.field("age").unwrap().dictionary_labels(&t.missing_values),
            None
        );
        // a table that declares `not_collected` itself keeps it at its place
        let mut declared = t.missing_values.clone();
        declared.insert(
            0,
            MissingCode {
                value: -9,
                label: NOT_COLLECTED.into(),
                description: String::new(),
            },
        );
        assert_eq!(
            band.dictionary_labels(&declared).unwrap(),
            [
                "older",
                "younger",
                NOT_COLLECTED,
                "dont_know",
                "refused",
                "not_applicable"
            ]
        );
    }

    #[test]
    fn missing_codes_text_lists_the_allowed_codes_in_table_order() {
        let t = table();
        assert_eq!(
            t.field("band")
                .unwrap()
                .missing_codes_text(&t.missing_values),
            "-1=dont_know, -3=not_applicable"
        );
        assert_eq!(
            t.field("age")
                .unwrap()
                .missing_codes_text(&t.missing_values),
            ""
        );
        let mut declared = t.missing_values.clone();
        declared.push(MissingCode {
            value: -4,
            label: NOT_COLLECTED.into(),
            description: String::new(),
        });
        assert_eq!(
            t.field("band").unwrap().missing_codes_text(&declared),
            "-1=dont_know, -3=not_applicable, -4=not_collected"
        );
        let mut required = t.field("band").unwrap().clone();
        required.constraints.required = true;
        assert_eq!(
            required.missing_codes_text(&declared),
            "-1=dont_know, -3=not_applicable"
        );
    }

    #[test]
    fn ordered_defaults_to_false_and_is_not_serialised_when_false() {
        let t = table();
        assert!(t.field("band").unwrap().ordered && !t.field("age").unwrap().ordered);
        let json = serde_json::to_string(t.field("age").unwrap()).unwrap();
        assert!(!json.contains("ordered"), "{json}");
    }
}
