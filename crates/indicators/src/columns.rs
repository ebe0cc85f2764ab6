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

/// The columns of `table` that [`crate::country_indicators`] reads when `table` is the design table or a table
/// estimated on it through a join (caregivers), or `None` when it may read any column (a table of the other data
/// families, or one that is neither): the design columns, the weighting margins' variables (`margin_variables`),
/// the non-response classes, the joins' keys and columns, and every survey indicator's universe, numerator,
/// variable and disaggregations. One set serves the design table and its joined tables alike, since a joined
/// table's rows are laid over the design table's and its indicators may read either's columns. Lets a large
/// table be read back from its file with these columns only.
pub fn survey_stage_columns(
    catalogue: &crate::Catalogue,
    pipeline: &PipelineConfig,
    margin_variables: &[String],
    table: &str,
) -> Option<std::collections::BTreeSet<String>> {
    use crate::families::catalogue::{REGISTER_TABLE, SEGMENTS_TABLE};
    let design = pipeline.design_table.as_str();
    let joined = pipeline.joins.get(table).is_some_and(|j| j.table == design);
    let family = table == REGISTER_TABLE
        || table == SEGMENTS_TABLE
        || catalogue
            .families
            .indicators
            .iter()
            .any(|i| i.table == table);
    if (table != design && !joined) || family {
        return None;
    }
    let mut out = crate::design_columns::resident_columns(catalogue, margin_variables);
    for join in pipeline.joins.values() {
        out.insert(join.on.clone());
        out.extend(join.columns.iter().cloned());
    }
    for indicator in &catalogue.indicators {
        out.extend(crate::design_columns::indicator_columns(indicator));
    }
    Some(out)
}
