//! Checks across rows: unique columns (respondent and household ids, the primary key) and links to another table
//! (a caregiver's household must exist in the child delivery).
//!
//! Duplicates: when several rows share a value of a unique column, *all* of them are quarantined with
//! `duplicate_id`, because nothing in the delivery tells which one is genuine; keeping the first would be an
//! arbitrary choice that depends on file order. Links: a row whose key is not found among the referenced table's
//! rows *as delivered* is quarantined with `missing_link`. The reference is the delivered table (not the rows
//! that survived validation), so one bad child row does not cascade into its caregiver's row. Ragged rows take
//! part in neither check: their cells are unreliable and they are quarantined anyway.
//!
//! Both checks work in two passes so that a table can be read in batches ([`crate::keys`]): the first pass sees
//! every batch and keeps hashes of the keys ([`TableKeyCollector`] -> [`TableKeys`] for the duplicates of a table,
//! [`ReferencedKeyCollector`] -> [`ReferencedKeys`] for the ids other tables link to); the second pass checks the
//! rows of each batch against them ([`duplicate_ids`], [`missing_links`]). A table read whole is one batch.

use std::borrow::Cow;
use std::collections::HashSet;

use dh_config::{Delivery, TableSchema};
use dh_ingest::RawTable;

use crate::error::NormaliseError;
use crate::keys::{Duplicates, KeyHasher, KeyOccurrences, LinkKeys};
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

/// The trimmed cells of `columns` in `row`, joined by U+001F (a `constant` column's value for every row); `None` if
/// any is empty or not read from the delivery.
fn row_key<'a>(
    raw: &'a RawTable,
    plan: &'a TablePlan,
    columns: &[usize],
    row: usize,
) -> Option<Cow<'a, str>> {
    let cell = |c: usize| -> Option<&'a str> {
        let v = match &plan.columns.get(c)?.input {
            Input::Raw(idx) => raw.columns.get(*idx)?.get(row)?.trim(),
            // every row of the file has the same value (the ids of several files may differ by it)
            Input::Constant(value) => value.trim(),
            _ => return None,
        };
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

/// Rows of `raw` that take part in the key checks: those the reader read cleanly.
fn clean_rows(raw: &RawTable) -> impl Iterator<Item = usize> + '_ {
    let issues: HashSet<usize> = raw.row_issues.iter().map(|i| i.row).collect();
    (0..raw.num_rows()).filter(move |r| !issues.contains(r))
}

/// First pass over a table's batches for its duplicate check: the key of every clean row of every unique column
/// set.
pub struct TableKeyCollector {
    hasher: KeyHasher,
    sets: Vec<Vec<usize>>,
    occurrences: Vec<KeyOccurrences>,
    /// The files of a table delivered as several files ([`TableKeyCollector::start_file`]); empty for one file.
    files: Vec<String>,
}

/// A row number of a table delivered as several files carries its file's index above this bit, so the rows of
/// one key stay in file order across files (a file has fewer than 2^40 rows).
const FILE_SHIFT: u32 = 40;

impl TableKeyCollector {
    pub fn new(schema: &TableSchema, plan: &TablePlan, hasher: KeyHasher) -> Self {
        let sets = unique_sets(schema, plan);
        let occurrences = sets.iter().map(|_| KeyOccurrences::default()).collect();
        TableKeyCollector {
            hasher,
            sets,
            occurrences,
            files: Vec::new(),
        }
    }

    /// For a table delivered as several files: the batches added from now on are of `file` (files in config
    /// order), so a duplicate's rows are named with their file. Not called for a one-file delivery.
    pub fn start_file(&mut self, file: &str) {
        self.files.push(file.to_string());
    }

    /// Adds one batch (batches in file order; `plan` is the plan of the batch's file).
    pub fn add_batch(&mut self, plan: &TablePlan, raw: &RawTable) {
        let file = (self.files.len().saturating_sub(1) as u64) << FILE_SHIFT;
        for (set, occurrences) in self.sets.iter().zip(&mut self.occurrences) {
            for row in clean_rows(raw) {
                if let Some(key) = row_key(raw, plan, set, row) {
                    let number = raw.row_numbers.get(row).copied().unwrap_or(0);
                    occurrences.push(self.hasher.hash(&key), file | number);
                }
            }
        }
    }

    /// Bytes held so far (for the memory figures).
    pub fn heap_bytes(&self) -> usize {
        self.occurrences
            .iter()
            .map(KeyOccurrences::heap_bytes)
            .sum()
    }

    pub fn finish(self) -> TableKeys {
        TableKeys {
            hasher: self.hasher,
            files: self.files,
            duplicates: self
                .occurrences
                .into_iter()
                .map(KeyOccurrences::finish)
                .collect(),
        }
    }
}

/// What the duplicate check needs of a whole table: the duplicated keys of each unique column set.
pub struct TableKeys {
    hasher: KeyHasher,
    /// The files of a table delivered as several files; empty for one file.
    files: Vec<String>,
    /// One entry per set of `unique_sets`, in its order.
    duplicates: Vec<Duplicates>,
}

impl TableKeys {
    /// The keys of a table held whole.
    pub fn of_table(
        schema: &TableSchema,
        plan: &TablePlan,
        raw: &RawTable,
        hasher: KeyHasher,
    ) -> Self {
        let mut collector = TableKeyCollector::new(schema, plan, hasher);
        collector.add_batch(plan, raw);
        collector.finish()
    }

    /// The keys of a table held whole as several files (`files`: their names, with each file's plan and rows, in
    /// config order); one file is [`TableKeys::of_table`].
    pub fn of_files(
        schema: &TableSchema,
        files: &[(&str, &TablePlan, &RawTable)],
        hasher: KeyHasher,
    ) -> Self {
        let Some((_, first_plan, _)) = files.first() else {
            return TableKeyCollector::new(schema, &TablePlan::default(), hasher).finish();
        };
        let mut collector = TableKeyCollector::new(schema, first_plan, hasher);
        for (file, plan, raw) in files {
            if files.len() > 1 {
                collector.start_file(file);
            }
            collector.add_batch(plan, raw);
        }
        collector.finish()
    }

    /// A row as a duplicate's reason lists it: its number, with its file when the table has several.
    fn row_label(&self, row: u64) -> String {
        if self.files.is_empty() {
            return row.to_string();
        }
        let file = (row >> FILE_SHIFT) as usize;
        let number = row & ((1u64 << FILE_SHIFT) - 1);
        match self.files.get(file) {
            Some(name) => format!("{name} row {number}"),
            None => number.to_string(),
        }
    }

    /// How many keys are shared by several rows, over all unique column sets.
    pub fn duplicated_keys(&self) -> usize {
        self.duplicates.iter().map(Duplicates::len).sum()
    }
}

/// Quarantines every row of `raw` (a batch) whose key `keys` found on several rows of the whole table.
pub fn duplicate_ids(
    schema: &TableSchema,
    plan: &TablePlan,
    raw: &RawTable,
    skip: &[bool],
    keys: &TableKeys,
    problems: &mut Vec<Problem>,
) {
    for (set, duplicates) in unique_sets(schema, plan).iter().zip(&keys.duplicates) {
        if duplicates.is_empty() {
            continue;
        }
        let first = &plan.columns[set[0]];
        let names: Vec<&str> = set
            .iter()
            .map(|c| plan.columns[*c].field.name.as_str())
            .collect();
        for row in 0..raw.num_rows() {
            if skip.get(row).copied().unwrap_or(false) {
                continue;
            }
            let Some(key) = row_key(raw, plan, set, row) else {
                continue;
            };
            let Some(duplicate) = duplicates.get(keys.hasher.hash(&key)) else {
                continue;
            };
            let first_value = key.split('\u{1f}').next().unwrap_or_default();
            let numbers: Vec<String> = duplicate
                .first_rows
                .iter()
                .map(|r| keys.row_label(*r))
                .collect();
            let reason = format!(
                "`{}` value is shared by {} rows (rows {}{}); all are quarantined because none can be told to be the genuine one",
                names.join(", "),
                duplicate.count,
                numbers.join(", "),
                if duplicate.count > crate::keys::LISTED_ROWS as u64 {
                    ", ..."
                } else {
                    ""
                }
            );
            problems.push(Problem {
                row,
                field: Some(set[0]),
                code: ReasonCode::DuplicateId,
                source_column: first.source.clone(),
                raw_value: shown_key(first, first_value),
                reason,
                raw_id: Some(raw_id(&key)),
            });
        }
    }
}

/// The source columns of `resource` (delivered as `target`) that the links of `referencing` tables point to: one
/// list per distinct link; `None` when no link points to `resource`. A link whose columns are not mapped is left
/// out (checking it reports the gap).
pub fn link_sources<'s>(
    resource: &str,
    target: &Delivery,
    referencing: impl IntoIterator<Item = &'s TableSchema>,
) -> Option<Vec<Vec<String>>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut linked = false;
    for schema in referencing {
        for fk in schema
            .foreign_keys
            .iter()
            .filter(|fk| fk.reference.resource == resource)
        {
            linked = true;
            let sources: Option<Vec<String>> = fk
                .reference
                .fields
                .iter()
                .map(|f| {
                    target
                        .columns
                        .get(f)
                        .filter(|m| !m.not_collected)
                        .and_then(|m| m.source.as_deref())
                        .map(|s| s.trim().to_string())
                })
                .collect();
            if let Some(sources) = sources
                && !out.contains(&sources)
            {
                out.push(sources);
            }
        }
    }
    linked.then_some(out)
}

/// First pass over a referenced table's batches: the keys its linking tables look up.
pub struct ReferencedKeyCollector {
    hasher: KeyHasher,
    file: String,
    columns: Option<Vec<String>>,
    sets: Vec<(Vec<String>, LinkKeys)>,
}

impl ReferencedKeyCollector {
    /// `sources`: [`link_sources`] of the table.
    pub fn new(sources: Vec<Vec<String>>, hasher: KeyHasher) -> Self {
        ReferencedKeyCollector {
            hasher,
            file: String::new(),
            columns: None,
            sets: sources
                .into_iter()
                .map(|s| (s, LinkKeys::default()))
                .collect(),
        }
    }

    /// Adds one batch of the referenced table.
    pub fn add_batch(&mut self, raw: &RawTable) {
        if self.columns.is_none() {
            self.file = raw.file.display().to_string();
            self.columns = Some(raw.column_names().map(str::to_string).collect());
        }
        for (sources, keys) in &mut self.sets {
            let columns: Option<Vec<&dh_ingest::RawColumn>> =
                sources.iter().map(|s| raw.column(s)).collect();
            // a column the delivery lacks: checking the link reports it
            let Some(columns) = columns else { continue };
            for row in clean_rows(raw) {
                if let Some(key) = joined_key(&columns, row) {
                    keys.insert(self.hasher.hash(&key));
                }
            }
        }
    }

    /// Adds one batch of a file of a table delivered as several files: `part` is that file's effective delivery
    /// and `delivery` the table's, whose source names [`link_sources`] gave; a part that maps a linked column from
    /// another source is read from that source.
    pub fn add_part_batch(&mut self, raw: &RawTable, delivery: &Delivery, part: &Delivery) {
        if self.columns.is_none() {
            self.file = raw.file.display().to_string();
            self.columns = Some(raw.column_names().map(str::to_string).collect());
        }
        for (sources, keys) in &mut self.sets {
            let columns: Option<Vec<&dh_ingest::RawColumn>> = sources
                .iter()
                .map(|s| raw.column(&part_source(delivery, part, s)?))
                .collect();
            let Some(columns) = columns else { continue };
            for row in clean_rows(raw) {
                if let Some(key) = joined_key(&columns, row) {
                    keys.insert(self.hasher.hash(&key));
                }
            }
        }
    }

    /// Bytes held so far.
    pub fn heap_bytes(&self) -> usize {
        self.sets.iter().map(|(_, k)| k.heap_bytes()).sum()
    }

    pub fn finish(self) -> ReferencedKeys {
        ReferencedKeys {
            hasher: self.hasher,
            file: self.file,
            columns: self.columns.unwrap_or_default(),
            sets: self
                .sets
                .into_iter()
                .map(|(s, mut k)| {
                    k.finish();
                    (s, k)
                })
                .collect(),
        }
    }
}

/// The source column of `part` (a file's effective delivery) that holds what `delivery` reads from `source`: the
/// same harmonised column's source in the part.
fn part_source(delivery: &Delivery, part: &Delivery, source: &str) -> Option<String> {
    let field = delivery.columns.iter().find_map(|(name, m)| {
        (!m.not_collected && m.source.as_deref().map(str::trim) == Some(source)).then_some(name)
    })?;
    let m = part.columns.get(field).filter(|m| !m.not_collected)?;
    m.source.as_deref().map(|s| s.trim().to_string())
}

/// The keys of a referenced table as delivered (rows the reader read cleanly), for each link pointing to it.
pub struct ReferencedKeys {
    hasher: KeyHasher,
    /// The delivery file read (for messages).
    file: String,
    /// Its kept source columns.
    columns: Vec<String>,
    sets: Vec<(Vec<String>, LinkKeys)>,
}

impl ReferencedKeys {
    /// The keys of a table held whole.
    pub fn of_table(raw: &RawTable, sources: Vec<Vec<String>>, hasher: KeyHasher) -> Self {
        let mut collector = ReferencedKeyCollector::new(sources, hasher);
        collector.add_batch(raw);
        collector.finish()
    }

    /// The keys of a table held whole as several files (`files`: each file's effective delivery and rows, in config
    /// order; `delivery` is the table's).
    pub fn of_files(
        delivery: &Delivery,
        files: &[(&Delivery, &RawTable)],
        sources: Vec<Vec<String>>,
        hasher: KeyHasher,
    ) -> Self {
        let mut collector = ReferencedKeyCollector::new(sources, hasher);
        for (part, raw) in files {
            if files.len() == 1 {
                collector.add_batch(raw);
            } else {
                collector.add_part_batch(raw, delivery, part);
            }
        }
        collector.finish()
    }

    /// Distinct keys over all links (for the memory figures).
    pub fn distinct_keys(&self) -> usize {
        self.sets.iter().map(|(_, k)| k.len()).sum()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.sets.iter().map(|(_, k)| k.heap_bytes()).sum()
    }
}

/// The referenced table of a link: its keys as delivered, and its delivery config.
pub struct Referenced<'a> {
    pub keys: &'a ReferencedKeys,
    pub delivery: &'a Delivery,
}

/// Quarantines every row of `raw` (a batch) whose link key is not among the referenced table's keys.
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
        let mut sources = Vec::new();
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
            if !target.keys.columns.iter().any(|c| c == source) {
                return Err(NormaliseError::MissingSourceColumn {
                    country: iso3.to_string(),
                    file: target.keys.file.clone(),
                    table: fk.reference.resource.clone(),
                    column: f.clone(),
                    source_column: source.to_string(),
                });
            }
            sources.push(source.to_string());
        }
        let Some((_, known)) = target.keys.sets.iter().find(|(s, _)| *s == sources) else {
            return Err(NormaliseError::LinkKeysNotCollected {
                country: iso3.to_string(),
                table: table.to_string(),
                fields,
                resource: fk.reference.resource.clone(),
            });
        };
        let first = &plan.columns[local[0]];
        for row in 0..raw.num_rows() {
            if skip.get(row).copied().unwrap_or(false) {
                continue;
            }
            let Some(key) = row_key(raw, plan, &local, row) else {
                continue;
            };
            if !known.contains(target.keys.hasher.hash(&key)) {
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
