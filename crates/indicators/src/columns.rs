//! What an indicator's expressions may refer to: the columns of its source table (from `schemas/`) plus the
//! columns the table borrows through a join declared in `pipeline.toml`, with their kinds and the table's
//! labelled missing codes.

use dh_config::{Field, FieldType, SchemaSet};
use dh_expr::{ColumnKind, Columns};

use crate::pipeline_config::PipelineConfig;

/// The expression columns of `table`, or `None` if no schema defines it. A join that names an unknown table or
/// column contributes nothing; [`join_problems`] reports those.
pub fn table_columns(
    schemas: &SchemaSet,
    pipeline: &PipelineConfig,
    table: &str,
) -> Option<Columns> {
    let schema = schemas.get(table)?;
    let mut missing: Vec<String> = schema
        .missing_values
        .iter()
        .map(|m| m.label.clone())
        .collect();
    let join = pipeline.joins.get(table);
    let joined = join.and_then(|j| schemas.get(&j.table));
    if let Some(other) = joined {
        for m in &other.missing_values {
            if !missing.contains(&m.label) {
                missing.push(m.label.clone());
            }
        }
    }
    let mut columns = Columns::new(missing);
    if let (Some(join), Some(other)) = (join, joined) {
        for name in &join.columns {
            if let Some(field) = other.field(name) {
                columns.insert(name.clone(), kind_of(field));
            }
        }
    }
    for field in &schema.fields {
        columns.insert(field.name.clone(), kind_of(field));
    }
    Some(columns)
}

/// Joins in `pipeline` that point at a table or column the schemas do not define.
pub fn join_problems(schemas: &SchemaSet, pipeline: &PipelineConfig) -> Vec<String> {
    let mut out = Vec::new();
    for (table, join) in &pipeline.joins {
        let Some(here) = schemas.get(table) else {
            out.push(format!("tables.{table}: no schema defines table `{table}`"));
            continue;
        };
        let Some(other) = schemas.get(&join.table) else {
            out.push(format!(
                "tables.{table}.join: no schema defines table `{}`",
                join.table
            ));
            continue;
        };
        if here.field(&join.on).is_none() || other.field(&join.on).is_none() {
            out.push(format!(
                "tables.{table}.join: key `{}` must be a column of both `{table}` and `{}`",
                join.on, join.table
            ));
        }
        for c in &join.columns {
            if other.field(c).is_none() {
                out.push(format!(
                    "tables.{table}.join: `{}` has no column `{c}`",
                    join.table
                ));
            } else if here.field(c).is_some() {
                out.push(format!(
                    "tables.{table}.join: `{c}` already exists in `{table}`"
                ));
            }
        }
    }
    out
}

fn kind_of(field: &Field) -> ColumnKind {
    match (&field.categories, field.field_type) {
        (Some(categories), _) => ColumnKind::Categorical {
            labels: categories.iter().map(|c| c.label.clone()).collect(),
        },
        (None, FieldType::Integer | FieldType::Number) => ColumnKind::Number,
        (None, FieldType::Boolean) => ColumnKind::Boolean,
        (None, FieldType::String | FieldType::Date) => ColumnKind::Text,
    }
}
