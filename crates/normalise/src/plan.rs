//! Planning one table: for every harmonised column of the schema, where its values come from (a source column, the
//! `not_collected` rule, or a derivation such as `age_band` from `age`), how cells are translated (code lookups built
//! once per column) and which checks apply. Configuration gaps are reported here, before any row is touched.

use std::collections::HashMap;
use std::path::PathBuf;

use dh_config::country::{ValueSource, label_key};
use dh_config::date_format::DateFormat;
use dh_config::schema::{FieldType, Role};
use dh_config::{ColumnMap, Delivery, Field, TableSchema};
use dh_ingest::{ColumnLabels, RawTable};

use crate::date::CellDateFormat;
use crate::error::NormaliseError;
use crate::key::{ColumnPseudonymiser, PseudonymKey};
use crate::lookup::CodeLookup;

/// The label every row of a column the country did not collect gets.
pub use dh_config::schema::NOT_COLLECTED;

/// What a translated code means for a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A dictionary index of the output column (a category or a permitted missing label).
    Key(i16),
    /// A labelled missing code of a numeric or text column: the output cell is null.
    Missing,
    /// A missing label the field does not permit (index into the table's missing labels).
    Disallowed(u16),
}

/// Where a column's values come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// Index of the source column in the [`RawTable`].
    Raw(usize),
    /// The country did not ask the question.
    NotCollected,
    /// The column's `constant`: every row holds this source value, translated like a delivered cell.
    Constant(String),
    /// Banded from another column (index into the plan's columns) through the category ranges.
    Banded {
        from: usize,
        bands: Vec<(f64, f64, i16)>,
    },
    /// A derived column no rule here computes (filled by a later stage); all null.
    Later,
}

/// How cells are typed.
#[derive(Clone)]
pub enum Kind {
    Categorical {
        labels: Vec<String>,
        codes: CodeLookup<Target>,
        not_collected: i16,
    },
    Integer {
        missing: CodeLookup<Target>,
    },
    Number {
        missing: CodeLookup<Target>,
    },
    Text {
        missing: CodeLookup<Target>,
        /// `value = "label"`: the delivered value label of each code is the value.
        value_labels: Option<ValueLabels>,
    },
    Boolean {
        missing: CodeLookup<Target>,
    },
    Date {
        missing: CodeLookup<Target>,
        /// The column's `date_format`; `None` reads ISO `YYYY-MM-DD`.
        format: Option<CellDateFormat>,
    },
    Pseudonym(ColumnPseudonymiser),
}

/// The value labels of a source column (`value = "label"`): code -> index into `labels`.
#[derive(Clone)]
pub struct ValueLabels {
    pub codes: CodeLookup<u32>,
    pub labels: Vec<String>,
}

impl ValueLabels {
    fn new(labels: &ColumnLabels) -> Self {
        ValueLabels {
            codes: CodeLookup::new(
                labels
                    .value_labels
                    .iter()
                    .enumerate()
                    .map(|(i, (code, _))| (code.clone(), i as u32)),
            ),
            labels: labels
                .value_labels
                .iter()
                .map(|(_, l)| l.trim().to_string())
                .collect(),
        }
    }

    /// The value label of a (trimmed) cell's code.
    pub fn label(&self, cell: &str) -> Option<&str> {
        self.labels
            .get(self.index(cell)? as usize)
            .map(String::as_str)
    }

    /// The index into `labels` of a (trimmed) cell's code's value label.
    pub fn index(&self, cell: &str) -> Option<u32> {
        self.codes
            .get(cell)
            .filter(|&i| (i as usize) < self.labels.len())
    }
}

pub struct ColumnPlan {
    pub field: Field,
    /// Source column name ("" when not read from the delivery).
    pub source: String,
    pub input: Input,
    pub kind: Kind,
    pub required: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    /// Longest text value in characters (`maxLength`, text columns only).
    pub max_length: Option<usize>,
    /// Keyed hash of a withheld quarantine value (the column's pseudonymiser: `HMAC(key, "<ISO3>:<column>:<value>")`).
    pub value_hash: ColumnPseudonymiser,
}

#[derive(Default)]
pub struct TablePlan {
    pub columns: Vec<ColumnPlan>,
    /// Labels of the table's missing codes, in schema order (for messages about disallowed labels).
    pub missing_labels: Vec<String>,
}

/// Context for error messages.
pub struct PlanContext<'a> {
    pub iso3: &'a str,
    pub config_file: PathBuf,
    pub table: &'a str,
}

impl PlanContext<'_> {
    fn bad(&self, column: &str, message: String) -> NormaliseError {
        NormaliseError::BadMapping {
            country: self.iso3.to_string(),
            config: self.config_file.clone(),
            table: self.table.to_string(),
            column: column.to_string(),
            message,
        }
    }
}

pub fn plan_table(
    ctx: &PlanContext<'_>,
    schema: &TableSchema,
    delivery: &Delivery,
    raw: &RawTable,
    key: &PseudonymKey,
) -> Result<TablePlan, NormaliseError> {
    for column in delivery.columns.keys() {
        if schema.field(column).is_none() {
            return Err(NormaliseError::UnknownColumn {
                country: ctx.iso3.to_string(),
                config: ctx.config_file.clone(),
                table: ctx.table.to_string(),
                column: column.clone(),
            });
        }
    }
    let missing_labels: Vec<String> = schema
        .missing_values
        .iter()
        .map(|m| m.label.clone())
        .collect();
    let position: HashMap<&str, usize> = schema
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    let mut columns = Vec::with_capacity(schema.fields.len());
    for field in &schema.fields {
        let map = delivery.columns.get(&field.name);
        let (input, source) = column_input(ctx, field, map, raw, &position)?;
        if matches!(input, Input::Raw(_))
            && !field.pseudonymise
            && delivery.identifiers.iter().any(|i| i.trim() == source)
        {
            return Err(ctx.bad(
                &field.name,
                format!(
                    "source `{source}` is declared an identifier of this delivery; identifiers never reach an output, \
                     so map another column (only pseudonymised key columns may read an identifier)"
                ),
            ));
        }
        let no_labels = ColumnLabels::default();
        let labels = match input {
            Input::Raw(i) => raw.columns.get(i).map_or(&no_labels, |c| &c.labels),
            _ => &no_labels,
        };
        let kind = column_kind(ctx, schema, field, map, delivery, key, labels)?;
        if let Kind::Categorical { labels, .. } = &kind
            && labels.len() > i16::MAX as usize
        {
            return Err(ctx.bad(
                &field.name,
                format!(
                    "{} categories exceed the limit of {}",
                    labels.len(),
                    i16::MAX
                ),
            ));
        }
        columns.push(ColumnPlan {
            value_hash: key.for_column(ctx.iso3, &field.name),
            required: field.constraints.required,
            minimum: field.constraints.minimum,
            maximum: field.constraints.maximum,
            max_length: field.constraints.max_length.map(|m| m as usize),
            field: field.clone(),
            source,
            input,
            kind,
        });
    }
    Ok(TablePlan {
        columns,
        missing_labels,
    })
}

fn column_input(
    ctx: &PlanContext<'_>,
    field: &Field,
    map: Option<&ColumnMap>,
    raw: &RawTable,
    position: &HashMap<&str, usize>,
) -> Result<(Input, String), NormaliseError> {
    match map {
        Some(m) if m.not_collected => Ok((Input::NotCollected, String::new())),
        Some(ColumnMap {
            constant: Some(value),
            ..
        }) => Ok((Input::Constant(value.clone()), String::new())),
        Some(ColumnMap {
            source: Some(source),
            ..
        }) => {
            let source = source.trim();
            let index = raw
                .columns
                .iter()
                .position(|c| c.name == source)
                .ok_or_else(|| NormaliseError::MissingSourceColumn {
                    country: ctx.iso3.to_string(),
                    file: raw.file.display().to_string(),
                    table: ctx.table.to_string(),
                    column: field.name.clone(),
                    source_column: source.to_string(),
                })?;
            Ok((Input::Raw(index), source.to_string()))
        }
        _ if field.role == Role::Derived => {
            let from = field
                .derived_from
                .as_deref()
                .and_then(|f| position.get(f).copied());
            let bands: Vec<(f64, f64, i16)> = field
                .categories
                .iter()
                .flatten()
                .enumerate()
                .filter_map(|(i, c)| c.range.map(|[lo, hi]| (lo, hi, i as i16)))
                .collect();
            match from {
                Some(from) if !bands.is_empty() => {
                    Ok((Input::Banded { from, bands }, String::new()))
                }
                _ => Ok((Input::Later, String::new())),
            }
        }
        _ => Err(NormaliseError::MissingMapping {
            country: ctx.iso3.to_string(),
            config: ctx.config_file.clone(),
            table: ctx.table.to_string(),
            column: field.name.clone(),
        }),
    }
}

fn column_kind(
    ctx: &PlanContext<'_>,
    schema: &TableSchema,
    field: &Field,
    map: Option<&ColumnMap>,
    delivery: &Delivery,
    key: &PseudonymKey,
    labels: &ColumnLabels,
) -> Result<Kind, NormaliseError> {
    let source = map.and_then(|m| m.source.as_deref()).unwrap_or("");
    let codes_of = |key: &str| source_codes(ctx, &field.name, source, key, labels);
    if field.pseudonymise {
        return Ok(Kind::Pseudonym(key.for_column(ctx.iso3, &field.name)));
    }
    let empty = ColumnMap::default();
    let map = map.unwrap_or(&empty);
    let value_labels = value_labels(ctx, field, map, source, labels)?;
    let date_format = date_format(ctx, field, map)?;
    if let Some(categories) = &field.categories {
        // The output dictionary in codebook order, the same for every country (one registry: dh-config).
        let labels = field
            .dictionary_labels(&schema.missing_values)
            .unwrap_or_default();
        let index_of = |label: &str| labels.iter().position(|l| l == label).map(|i| i as i16);
        let mut entries: Vec<(String, Target)> = Vec::new();
        if map.codes.is_empty() {
            // No translation table: the delivery uses the harmonised codes themselves.
            for c in categories {
                entries.push((
                    c.value.to_string(),
                    Target::Key(index_of(&c.label).unwrap_or(0)),
                ));
            }
        } else {
            for (code, label) in &map.codes {
                let target = categories
                    .iter()
                    .position(|c| &c.label == label)
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            categories.iter().map(|c| c.label.as_str()).collect();
                        ctx.bad(
                            &field.name,
                            format!(
                                "code `{code}` maps to `{label}`, which is not a category ({})",
                                known.join(", ")
                            ),
                        )
                    })?;
                for source_code in codes_of(code)? {
                    entries.push((source_code, Target::Key(target as i16)));
                }
            }
        }
        for (code, label) in effective_missing(map, delivery) {
            let target = missing_target(ctx, schema, field, code, label, |l| index_of(l))?;
            for source_code in codes_of(code)? {
                entries.push((source_code, target));
            }
        }
        let not_collected = index_of(NOT_COLLECTED).unwrap_or(0);
        return Ok(Kind::Categorical {
            codes: CodeLookup::new(entries),
            labels,
            not_collected,
        });
    }
    let mut entries = Vec::new();
    for (code, label) in &map.missing {
        let target = missing_target(ctx, schema, field, code, label, |_| None)?;
        for source_code in codes_of(code)? {
            entries.push((source_code, target));
        }
    }
    let missing = CodeLookup::new(entries);
    Ok(match field.field_type {
        FieldType::Integer => Kind::Integer { missing },
        FieldType::Number => Kind::Number { missing },
        FieldType::String => Kind::Text {
            missing,
            value_labels,
        },
        FieldType::Boolean => Kind::Boolean { missing },
        FieldType::Date => Kind::Date {
            missing,
            format: date_format,
        },
    })
}

/// The labels of `value = "label"`, for a text column without categories whose source carries value labels (config
/// validation reports the other cases with their line; this guards configs built without it, and files whose column
/// has no labels at all, which only reading can tell).
fn value_labels(
    ctx: &PlanContext<'_>,
    field: &Field,
    map: &ColumnMap,
    source: &str,
    labels: &ColumnLabels,
) -> Result<Option<ValueLabels>, NormaliseError> {
    if map.value != ValueSource::Label || map.not_collected {
        return Ok(None);
    }
    if field.categories.is_some() || field.field_type != FieldType::String || field.pseudonymise {
        return Err(ctx.bad(
            &field.name,
            "value = \"label\" works for text columns without categories only (coded columns map labels with \
             \"label:<value label>\" keys in `codes`); remove it"
                .to_string(),
        ));
    }
    if labels.value_labels.is_empty() {
        return Err(ctx.bad(
            &field.name,
            format!(
                "value = \"label\", but source variable `{source}` has no value labels in the delivery file; remove \
                 value = \"label\" to take the codes, or check that the file is the labelled .sav/.dta export"
            ),
        ));
    }
    Ok(Some(ValueLabels::new(labels)))
}

/// The column's `date_format`, compiled (only date columns may have one).
fn date_format(
    ctx: &PlanContext<'_>,
    field: &Field,
    map: &ColumnMap,
) -> Result<Option<CellDateFormat>, NormaliseError> {
    let Some(text) = &map.date_format else {
        return Ok(None);
    };
    if field.field_type != FieldType::Date {
        return Err(ctx.bad(
            &field.name,
            "date_format is set, but the column is not a date; remove it".to_string(),
        ));
    }
    let format = DateFormat::compile(text).map_err(|message| ctx.bad(&field.name, message))?;
    Ok(Some(CellDateFormat::new(format)))
}

/// The source codes a config key stands for: the key itself, or for `label:<value label>` every code the delivery
/// file labels so (SPSS/Stata value labels). A label the file does not have is a mapping error naming the labels it
/// has.
fn source_codes(
    ctx: &PlanContext<'_>,
    column: &str,
    source: &str,
    key: &str,
    labels: &ColumnLabels,
) -> Result<Vec<String>, NormaliseError> {
    let Some(label) = label_key(key) else {
        return Ok(vec![key.to_string()]);
    };
    let codes: Vec<String> = labels.codes_labelled(label).map(str::to_string).collect();
    if codes.is_empty() {
        return Err(ctx.bad(
            column,
            format!(
                "`{key}`: source variable `{source}` has no value label `{label}` in the delivery file (its labels: {})",
                listed_labels(labels)
            ),
        ));
    }
    Ok(codes)
}

/// Most value labels a mapping error lists, and the longest shown (characters).
const MAX_LISTED_LABELS: usize = 12;
const MAX_LABEL_CHARS: usize = 40;

/// The delivered value labels of a source column for a mapping error: at most [`MAX_LISTED_LABELS`], each cut to
/// [`MAX_LABEL_CHARS`] characters with control characters dropped (delivered text, so the message stays bounded).
fn listed_labels(labels: &ColumnLabels) -> String {
    if labels.value_labels.is_empty() {
        return "none".to_string();
    }
    let mut shown: Vec<String> = labels
        .value_labels
        .iter()
        .take(MAX_LISTED_LABELS)
        .map(|(_, l)| {
            let clean: String = l.chars().filter(|c| !c.is_control()).collect();
            match clean.char_indices().nth(MAX_LABEL_CHARS) {
                Some((cut, _)) => format!("{}...", &clean[..cut]),
                None => clean,
            }
        })
        .collect();
    if labels.value_labels.len() > MAX_LISTED_LABELS {
        shown.push(format!(
            "and {} more",
            labels.value_labels.len() - MAX_LISTED_LABELS
        ));
    }
    shown.join(", ")
}

/// The missing codes of a coded column: its own (already resolved by the config loader), else, for configs built
/// without the loader, the delivery's.
fn effective_missing<'a>(
    map: &'a ColumnMap,
    delivery: &'a Delivery,
) -> impl Iterator<Item = (&'a String, &'a String)> {
    let own = &map.missing;
    if own.is_empty() {
        delivery.missing.iter()
    } else {
        own.iter()
    }
}

fn missing_target(
    ctx: &PlanContext<'_>,
    schema: &TableSchema,
    field: &Field,
    code: &str,
    label: &str,
    key_of: impl Fn(&str) -> Option<i16>,
) -> Result<Target, NormaliseError> {
    let table_index = schema
        .missing_values
        .iter()
        .position(|m| m.label == label)
        .ok_or_else(|| {
            let known: Vec<&str> = schema
                .missing_values
                .iter()
                .map(|m| m.label.as_str())
                .collect();
            ctx.bad(
                &field.name,
                format!(
                    "missing code `{code}` maps to `{label}`, which is not a missing label ({})",
                    known.join(", ")
                ),
            )
        })?;
    let permitted = field.missing_values.iter().any(|m| m == label);
    Ok(match key_of(label) {
        Some(k) if permitted => Target::Key(k),
        None if permitted => Target::Missing,
        _ => Target::Disallowed(table_index as u16),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_labels_are_bounded() {
        let mut labels = ColumnLabels::default();
        assert_eq!(listed_labels(&labels), "none");
        labels.value_labels = (0..30)
            .map(|i| (i.to_string(), format!("label {i}\n{}", "x".repeat(100))))
            .collect();
        let text = listed_labels(&labels);
        assert!(text.ends_with("and 18 more"), "{text}");
        assert!(
            !text.contains('\n') && !text.contains(&"x".repeat(40)),
            "{text}"
        );
        assert_eq!(text.matches("...").count(), 12, "{text}");
    }
}
