//! Checks across rows: unique columns (respondent and household ids, the primary key) and links to another table
//! (a caregiver's household must exist in the child delivery).
//!
//! Duplicates: when several rows share a value of a unique column, *all* of them are quarantined with
//! `duplicate_id`, because nothing in the delivery tells which one is genuine; keeping the first would be an
//! arbitrary choice that depends on file order. Links: a row whose key is not found among the referenced table's
//! rows *as delivered* is quarantined with `missing_link`. The reference is the delivered table (not the rows
//! that survived validation), so one bad child row does not cascade into its caregiver's row. Ragged rows take
//! part in neither check: their cells are unreliable and they are quarantined anyway.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use dh_config::{Delivery, TableSchema};
use dh_ingest::RawTable;

use crate::error::NormaliseError;
use crate::plan::{ColumnPlan, Input, Kind, TablePlan};
use crate::quarantine::{Problem, RawId, ReasonCode, shown_value};

/// Sets of plan column indexes whose combined value must be unique.
fn unique_sets(schema: &TableSchema, plan: &TablePlan) -> Vec<Vec<usize>> {
    let index = |name: &str| plan.columns.iter().position(|c| c.field.name == name);
    let mut sets: Vec<Vec<usize>> = plan
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.field.constraints.unique)
        .map(|(i, _)| vec![i])
        .collect();
    let pk: Option<Vec<usize>> = schema.primary_key.iter().map(|k| index(k)).collect();
    if let Some(pk) = pk
        && !pk.is_empty()
        && !sets.contains(&pk)
    {
        sets.push(pk);
    }
    sets
}

/// The trimmed cells of `columns` in `row`, joined by U+001F; `None` if any is empty or not read from the delivery.
fn row_key<'a>(
    raw: &'a RawTable,
    plan: &TablePlan,
    columns: &[usize],
    row: usize,
) -> Option<Cow<'a, str>> {
    let cell = |c: usize| -> Option<&'a str> {
        let Input::Raw(idx) = plan.columns.get(c)?.input else {
            return None;
        };
        let v = raw.columns.get(idx)?.get(row)?.trim();
        (!v.is_empty()).then_some(v)
    };
    match columns {
        [only] => cell(*only).map(Cow::Borrowed),
        _ => {
            let parts: Option<Vec<&str>> = columns.iter().map(|c| cell(*c)).collect();
            parts.map(|p| Cow::Owned(p.join("\u{1f}")))
        }
    }
}

/// The trimmed cells of `columns` in `row` joined by U+001F; `None` if any is empty.
fn joined_key<'a>(columns: &[&'a dh_ingest::RawColumn], row: usize) -> Option<Cow<'a, str>> {
    let cell = |c: &&'a dh_ingest::RawColumn| -> Option<&'a str> {
        let v = c.get(row)?.trim();
        (!v.is_empty()).then_some(v)
    };
    match columns {
        [only] => cell(only).map(Cow::Borrowed),
        many => many
            .iter()
            .map(cell)
            .collect::<Option<Vec<_>>>()
            .map(|p| Cow::Owned(p.join("\u{1f}"))),
    }
}

/// The value shown in the quarantine table for a key column: its pseudonym, never the raw id (that goes to the
/// problem's [`RawId`], for `dh validate` only).
fn shown_key(column: &ColumnPlan, value: &str) -> String {
    match &column.kind {
        Kind::Pseudonym(p) => {
            let mut out = String::with_capacity(64);
            p.write(value, &mut out);
            out
        }
        _ => shown_value(value, &column.value_hash),
    }
}

/// A row key as delivered, for `dh validate` ([`RawId`]): its cells joined by ` / `.
fn raw_id(key: &str) -> RawId {
    RawId::new(&key.replace('\u{1f}', " / "))
}

pub fn duplicate_ids(
    schema: &TableSchema,
    plan: &TablePlan,
    raw: &RawTable,
    skip: &[bool],
    problems: &mut Vec<Problem>,
) {
    for set in unique_sets(schema, plan) {
        let mut rows_by_key: HashMap<Cow<'_, str>, Vec<usize>> = HashMap::new();
        for row in 0..raw.num_rows() {
            if skip.get(row).copied().unwrap_or(false) {
                continue;
            }
            if let Some(key) = row_key(raw, plan, &set, row) {
                rows_by_key.entry(key).or_default().push(row);
            }
        }
        let first = &plan.columns[set[0]];
        let names: Vec<&str> = set
            .iter()
            .map(|c| plan.columns[*c].field.name.as_str())
            .collect();
        for (key, rows) in rows_by_key.into_iter().filter(|(_, rows)| rows.len() > 1) {
            let first_value = key.split('\u{1f}').next().unwrap_or_default();
            let numbers: Vec<String> = rows
                .iter()
                .take(10)
                .map(|r| raw.row_numbers.get(*r).copied().unwrap_or(0).to_string())
                .collect();
            let reason = format!(
                "`{}` value is shared by {} rows (rows {}{}); all are quarantined because none can be told to be the genuine one",
                names.join(", "),
                rows.len(),
                numbers.join(", "),
                if rows.len() > 10 { ", ..." } else { "" }
            );
            for row in rows {
                problems.push(Problem {
                    row,
                    field: Some(set[0]),
                    code: ReasonCode::DuplicateId,
                    source_column: first.source.clone(),
                    raw_value: shown_key(first, first_value),
                    reason: reason.clone(),
                    raw_id: Some(raw_id(&key)),
                });
            }
        }
    }
}

/// The referenced table of a link, as delivered.
pub struct Referenced<'a> {
    pub raw: &'a RawTable,
    pub delivery: &'a Delivery,
}

#[allow(clippy::too_many_arguments)]
pub fn missing_links<'a>(
    iso3: &str,
    table: &str,
    schema: &TableSchema,
    plan: &TablePlan,
    raw: &RawTable,
    skip: &[bool],
    referenced: impl Fn(&str) -> Option<Referenced<'a>>,
    problems: &mut Vec<Problem>,
) -> Result<(), NormaliseError> {
    for fk in &schema.foreign_keys {
        let fields = fk.fields.join(", ");
        let Some(target) = referenced(&fk.reference.resource) else {
            return Err(NormaliseError::MissingReferencedTable {
                country: iso3.to_string(),
                table: table.to_string(),
                fields,
                resource: fk.reference.resource.clone(),
            });
        };
        let local: Option<Vec<usize>> = fk
            .fields
            .iter()
            .map(|f| plan.columns.iter().position(|c| &c.field.name == f))
            .collect();
        let Some(local) = local.filter(|l| !l.is_empty()) else {
            continue;
        };
        let mut target_columns = Vec::new();
        for f in &fk.reference.fields {
            let source = target
                .delivery
                .columns
                .get(f)
                .filter(|m| !m.not_collected)
                .and_then(|m| m.source.as_deref());
            let Some(source) = source.map(str::trim) else {
                return Err(NormaliseError::UncheckableLink {
                    country: iso3.to_string(),
                    table: table.to_string(),
                    fields: fields.clone(),
                    resource: fk.reference.resource.clone(),
                    column: f.clone(),
                });
            };
            match target.raw.column(source) {
                Some(col) => target_columns.push(col),
                None => {
                    return Err(NormaliseError::MissingSourceColumn {
                        country: iso3.to_string(),
                        file: target.raw.file.display().to_string(),
                        table: fk.reference.resource.clone(),
                        column: f.clone(),
                        source_column: source.to_string(),
                    });
                }
            }
        }
        let target_issue_rows: HashSet<usize> =
            target.raw.row_issues.iter().map(|i| i.row).collect();
        let mut known: HashSet<Cow<'_, str>> = HashSet::with_capacity(target.raw.num_rows());
        for row in (0..target.raw.num_rows()).filter(|r| !target_issue_rows.contains(r)) {
            let Some(key) = joined_key(&target_columns, row) else {
                continue;
            };
            known.insert(key);
        }
        let first = &plan.columns[local[0]];
        for row in 0..raw.num_rows() {
            if skip.get(row).copied().unwrap_or(false) {
                continue;
            }
            let Some(key) = row_key(raw, plan, &local, row) else {
                continue;
            };
            if !known.contains(key.as_ref()) {
                let first_value = key.split('\u{1f}').next().unwrap_or_default();
                problems.push(Problem {
                    row,
                    field: Some(local[0]),
                    code: ReasonCode::MissingLink,
                    source_column: first.source.clone(),
                    raw_value: shown_key(first, first_value),
                    reason: format!(
                        "`{fields}` has no matching `{}` row in `{}`",
                        fk.reference.fields.join(", "),
                        fk.reference.resource
                    ),
                    raw_id: Some(raw_id(&key)),
                });
            }
        }
    }
    Ok(())
}
