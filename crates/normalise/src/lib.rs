//! `dh-normalise`: maps the raw tables of one country through its config onto the harmonised schemas.
//!
//! For every harmonised column it takes the configured source column, translates source codes to harmonised labels
//! and source missing codes to harmonised missing labels (`dont_know`, `refused`, `not_applicable`), gives every
//! row `not_collected` where the country did not ask the question, derives banded columns (`age_band` from `age`
//! via the schema's category ranges), pseudonymises key columns ([`key`]), and validates type, range, code list,
//! required cells, unique ids and links between tables ([`checks`]). A row with any problem is quarantined as a
//! whole ([`quarantine`]); nothing is dropped silently, so `rows_read == rows_written + rows_quarantined` for every
//! table. Identifiers and unmapped source columns never get here (ingest does not keep them) and nothing from them
//! reaches an output.
//!
//! Policies, in one place:
//! * quarantine table: one line per problem; the ledger counts distinct rows (see [`quarantine`]);
//! * duplicate ids: every row sharing the id is quarantined (`duplicate_id`), none is kept (see [`checks`]);
//! * links: checked against the referenced table as delivered, so a bad child row does not cascade to its caregiver;
//! * ragged rows: quarantined once (`ragged_row`) with no cell values shown, since shifted cells may hold identifiers;
//! * content checks ([`content`]): a mapped column whose values look like identifiers (near-unique design or
//!   geography values, phone numbers, e-mail addresses, coordinates, personal names) or implausible base weights
//!   fails its country before any row is built; the error names file, column and check, never a value;
//! * free text: a stratum, PSU or region cell longer than 80 characters or 8 words is quarantined (`free_text`),
//!   and no cell that long is ever copied into the quarantine table (its value is withheld);
//! * a labelled missing code in a numeric or text column becomes null; a blank cell in an optional column is null;
//!   a code mapped to a missing label the field does not permit is `unknown_code` (blank + required:
//!   `required_missing`);
//! * a source column declared an identifier may only feed a pseudonymised key column (else a configuration error);
//! * output bytes do not depend on the thread count (columns are built in parallel, problems are sorted);
//! * answers outside a column's universe, and `not_applicable` inside it, are kept as delivered and reported
//!   ([`consistency`]), not quarantined;
//! * dates are ISO `YYYY-MM-DD`, or follow the column's `date_format` ([`date`]); a cell that does not match is
//!   `invalid_value` with a reason naming the format (the cell only in `raw_value`, as for every cell check);
//! * `value = "label"` on a text column takes the value label the file gives each code; a code without a label is
//!   `unknown_code` naming the code (category codes are not personal data); missing codes map through `missing`;
//! * key problems (duplicate ids, missing links) show the pseudonym in the quarantine table; the id as delivered is
//!   kept beside the line ([`TableOutput::raw_ids`], [`RawId`]) for `dh validate` only and never written.
//! * a table delivered as several files ([`parts`]) is planned file by file with each file's effective delivery;
//!   ids must be unique across its files (a duplicate's reason names `<file> row <n>`), its rows are joined in config
//!   order, and each file keeps its own ledger ([`FileLedger`]);
//! * a column's `constant` gives every row of the file that source value, translated by the column's codes and
//!   missing codes like a delivered cell (a constant that is no code is `unknown_code` in every row).
//!
//! Modules: [`plan`] (config -> per-column plan), [`lookup`] (interned code lookups), [`date`] (date cells),
//! [`column`](mod@column) (Arrow arrays),
//! [`checks`] (cross-row checks), [`keys`] (hashed key sets of those checks), [`content`] (content checks of whole
//! columns), [`quarantine`] (reasons and the quarantine table), [`key`] (pseudonyms), [`parts`] (tables of several
//! files), [`error`].
//!
//! Batches: a table too large to hold may be normalised batch by batch ([`normalise_batch`]). A first pass over
//! its batches collects what the whole-table checks need ([`checks::TableKeyCollector`] for duplicate ids,
//! [`checks::ReferencedKeyCollector`] for the ids other tables link to); the second pass normalises each batch with
//! them. The content checks ([`content`]) run on the first batch only (the default batch holds 262,144 rows, far
//! more than a column needs to show what its values look like); routing findings are summed over batches
//! ([`merge_universe_findings`]). A table read whole is one batch: [`normalise_table`] and [`normalise_country`]
//! run the same two passes over it.

pub mod cells;
pub mod checks;
pub mod column;
pub mod consistency;
pub mod content;
pub mod date;
pub mod error;
pub mod key;
pub mod keys;
pub mod lookup;
pub mod parts;
pub mod plan;
pub mod quarantine;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{Field as ArrowField, Schema};
use dh_config::schema::Role;
use dh_config::{CountryConfig, Delivery, SchemaSet, TableSchema};
use dh_ingest::RawTable;
use rayon::prelude::*;

pub use checks::{Referenced, ReferencedKeys, TableKeys};
pub use error::NormaliseError;
pub use key::{MIN_KEY_BYTES, PseudonymKey};
pub use keys::KeyHasher;
pub use parts::TableParts;
pub use quarantine::{Problem, RawId, ReasonCode, quarantine_schema};

use crate::column::{BandSource, BuiltColumn, CellContext, build_raw, build_unread};
use crate::plan::{ColumnPlan, Input, Kind, PlanContext, TablePlan, plan_table};

/// Schema-level metadata keys of the harmonised batches.
pub const META_TABLE: &str = "dh.table";
pub const META_SCHEMA_VERSION: &str = "dh.schema_version";
pub const META_COUNTRY: &str = "dh.country";

/// The normalised tables of one country.
#[derive(Debug, Clone)]
pub struct CountryOutput {
    pub iso3: String,
    /// By harmonised table name.
    pub tables: BTreeMap<String, TableOutput>,
}

/// One harmonised table of one country.
#[derive(Debug, Clone)]
pub struct TableOutput {
    pub table: String,
    /// Delivery file name as configured (relative to the country's raw folder); the files of a table delivered as
    /// several files, joined by `, `.
    pub source_file: String,
    /// Harmonised columns only, in schema order; quarantined rows removed.
    pub batch: RecordBatch,
    /// One line per problem: source_file, row_number, column, raw_value, reason_code, reason.
    pub quarantine: RecordBatch,
    pub rows_read: u64,
    pub rows_written: u64,
    /// Distinct rows with at least one problem.
    pub rows_quarantined: u64,
    /// Number of quarantine lines per reason code.
    pub problems_by_reason: BTreeMap<ReasonCode, u64>,
    /// One entry per line of `quarantine`: the id as delivered behind a key problem (duplicate id, missing link), for
    /// `dh validate` to show the data manager. Never written anywhere by `dh run` (see [`RawId`]).
    pub raw_ids: Vec<Option<RawId>>,
    /// Routing findings on the written rows (answers outside a column's universe, skips inside it); the rows
    /// are kept as delivered ([`consistency`]).
    pub universe_findings: Vec<consistency::UniverseFinding>,
    /// The ledger of each delivered file, in config order (one entry for a one-file delivery).
    pub files: Vec<FileLedger>,
}

/// The rows of one delivered file: read, written and quarantined (`rows_read == rows_written + rows_quarantined`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileLedger {
    /// File name as configured (relative to the country's raw folder).
    pub file: String,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
}

/// Normalises every delivery of a country. `raw` must hold exactly the tables the config delivers (read with
/// `dh_ingest::read_delivery`; a table delivered as several files is one [`RawTable`] per file of
/// `Delivery::files`, see [`parts`]). Returns an error for configuration gaps; data problems are quarantined instead.
pub fn normalise_country<T: TableParts>(
    config: &CountryConfig,
    schemas: &SchemaSet,
    raw: &BTreeMap<String, T>,
    key: &PseudonymKey,
) -> Result<CountryOutput, NormaliseError> {
    let iso3 = config.country.iso3.as_str();
    if let Some(extra) = raw.keys().find(|t| !config.deliveries.contains_key(*t)) {
        return Err(NormaliseError::UnexpectedRawTable {
            country: iso3.to_string(),
            table: extra.clone(),
        });
    }
    if let Some((table, delivery)) = config
        .deliveries
        .iter()
        .find(|(t, _)| !raw.contains_key(*t))
    {
        return Err(NormaliseError::MissingRawTable {
            country: iso3.to_string(),
            table: table.clone(),
            file: delivery.file_names().join(", "),
        });
    }
    let hasher = KeyHasher::new(key);
    // the keys that links of this country's tables point to, per referenced table as delivered
    let referenced: BTreeMap<String, ReferencedKeys> = config
        .deliveries
        .iter()
        .filter_map(|(table, delivery)| {
            let sources = link_sources(config, schemas, table)?;
            Some((
                table.clone(),
                referenced_keys(delivery, raw.get(table)?.parts(), sources, hasher),
            ))
        })
        .collect();
    normalise_tables(config, schemas, raw, key, &referenced)
}

/// The keys that links point to in a table read whole (one [`RawTable`] per file of `Delivery::files`).
pub fn referenced_keys(
    delivery: &Delivery,
    parts: &[RawTable],
    sources: Vec<Vec<String>>,
    hasher: KeyHasher,
) -> ReferencedKeys {
    let files = delivery.files();
    let pairs: Vec<(&Delivery, &RawTable)> = files.iter().zip(parts).collect();
    ReferencedKeys::of_files(delivery, &pairs, sources, hasher)
}

/// The config file named in messages about `config`: the last file it was merged from.
pub fn config_file(config: &CountryConfig) -> PathBuf {
    config
        .source_files
        .last()
        .cloned()
        .unwrap_or_else(|| PathBuf::from(format!("{}.toml", config.country.iso3)))
}

/// The source columns of `table` that links of the country's tables point to ([`checks::link_sources`]);
/// `None` when no link points to it.
pub fn link_sources(
    config: &CountryConfig,
    schemas: &SchemaSet,
    table: &str,
) -> Option<Vec<Vec<String>>> {
    checks::link_sources(
        table,
        config.deliveries.get(table)?,
        config.deliveries.keys().filter_map(|t| schemas.get(t)),
    )
}

/// The harmonised schema of a delivered table, or the error naming the tables the schemas define.
pub fn table_schema<'s>(
    config: &CountryConfig,
    schemas: &'s SchemaSet,
    table: &str,
) -> Result<&'s TableSchema, NormaliseError> {
    schemas
        .get(table)
        .ok_or_else(|| NormaliseError::UnknownTable {
            country: config.country.iso3.clone(),
            config: config_file(config),
            table: table.to_string(),
            known: schemas
                .tables
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Normalises the deliveries of `config` that `raw` holds, each read whole (the caller may normalise the others
/// in batches); `referenced` holds the keys of every table that a link points to ([`link_sources`]), read whole
/// or in batches.
pub fn normalise_tables<T: TableParts>(
    config: &CountryConfig,
    schemas: &SchemaSet,
    raw: &BTreeMap<String, T>,
    key: &PseudonymKey,
    referenced: &BTreeMap<String, ReferencedKeys>,
) -> Result<CountryOutput, NormaliseError> {
    let iso3 = config.country.iso3.as_str();
    let config_file = config_file(config);
    let mut tables = BTreeMap::new();
    for (table, delivery) in &config.deliveries {
        let Some(table_raw) = raw.get(table) else {
            continue;
        };
        let schema = table_schema(config, schemas, table)?;
        let ctx = PlanContext {
            iso3,
            config_file: config_file.clone(),
            table,
        };
        let referenced = |resource: &str| {
            Some(checks::Referenced {
                keys: referenced.get(resource)?,
                delivery: config.deliveries.get(resource)?,
            })
        };
        let output = normalise_table(&ctx, schema, delivery, table_raw.parts(), key, referenced)?;
        tables.insert(table.clone(), output);
    }
    Ok(CountryOutput {
        iso3: iso3.to_string(),
        tables,
    })
}

/// Normalises one table held whole (`parts`: one [`RawTable`] per file of `delivery.files()`, in that order); each
/// file is planned with its own effective delivery, the duplicate check spans every file, and the files' rows form
/// one table ([`parts::join_outputs`]). `referenced` gives the keys of the delivered tables that links point to.
pub fn normalise_table<'a>(
    ctx: &PlanContext<'_>,
    schema: &TableSchema,
    delivery: &Delivery,
    parts: &[RawTable],
    key: &PseudonymKey,
    referenced: impl Fn(&str) -> Option<checks::Referenced<'a>>,
) -> Result<TableOutput, NormaliseError> {
    let files = delivery.files();
    if files.len() != parts.len() {
        return Err(NormaliseError::MissingRawTable {
            country: ctx.iso3.to_string(),
            table: ctx.table.to_string(),
            file: delivery.file_names().join(", "),
        });
    }
    let plans = files
        .iter()
        .zip(parts)
        .map(|(file, raw)| plan_table(ctx, schema, file, raw, key))
        .collect::<Result<Vec<_>, _>>()?;
    if parts.iter().all(|raw| raw.num_rows() == 0) {
        return Err(NormaliseError::NoRows {
            country: ctx.iso3.to_string(),
            table: ctx.table.to_string(),
            file: delivery.file_names().join(", "),
        });
    }
    let keyed: Vec<(&str, &TablePlan, &RawTable)> = files
        .iter()
        .zip(&plans)
        .zip(parts)
        .map(|((file, plan), raw)| (file.file.as_str(), plan, raw))
        .collect();
    let keys = TableKeys::of_files(schema, &keyed, KeyHasher::new(key));
    let mut outputs = Vec::with_capacity(parts.len());
    for ((file, plan), raw) in files.iter().zip(&plans).zip(parts) {
        let batch = BatchContext {
            plan,
            keys: &keys,
            content_checks: true,
        };
        outputs.push(normalise_batch(
            ctx,
            schema,
            file,
            raw,
            &batch,
            &referenced,
        )?);
    }
    parts::join_outputs(schema, outputs).map_err(|e| NormaliseError::Arrow {
        country: ctx.iso3.to_string(),
        table: ctx.table.to_string(),
        message: e.to_string(),
    })
}

/// What [`normalise_batch`] needs besides the batch: the table's plan (from its first batch, [`plan::plan_table`]),
/// the keys of its first pass, and whether this batch is the one the content checks look at.
pub struct BatchContext<'a> {
    pub plan: &'a TablePlan,
    pub keys: &'a TableKeys,
    pub content_checks: bool,
}

/// Normalises one batch of a table (see the module documentation): `rows_read`, `rows_written`,
/// `rows_quarantined`, the problem counts and the routing findings of the result are those of the batch.
pub fn normalise_batch<'a>(
    ctx: &PlanContext<'_>,
    schema: &TableSchema,
    delivery: &Delivery,
    raw: &RawTable,
    batch_context: &BatchContext<'_>,
    referenced: impl Fn(&str) -> Option<checks::Referenced<'a>>,
) -> Result<TableOutput, NormaliseError> {
    let arrow_error = |e: arrow::error::ArrowError| NormaliseError::Arrow {
        country: ctx.iso3.to_string(),
        table: ctx.table.to_string(),
        message: e.to_string(),
    };
    let plan = batch_context.plan;
    let rows = raw.num_rows();
    let mut skip = vec![false; rows];
    let mut problems = Vec::new();
    for issue in &raw.row_issues {
        if let Some(s) = skip.get_mut(issue.row) {
            *s = true;
        }
        problems.push(Problem {
            row: issue.row,
            field: None,
            code: ReasonCode::RaggedRow,
            source_column: String::new(),
            raw_value: String::new(),
            reason: issue.kind.describe(),
            raw_id: None,
        });
    }

    let findings = if batch_context.content_checks {
        content::check_table(&schema.content_limits, plan, raw, &skip)
    } else {
        Vec::new()
    };
    if !findings.is_empty() {
        return Err(NormaliseError::ContentCheck {
            country: ctx.iso3.to_string(),
            file: delivery.file.clone(),
            table: ctx.table.to_string(),
            findings: content::describe(&findings),
        });
    }
    let arrays = build_columns(plan, raw, &skip, &mut problems).map_err(|(column, message)| {
        NormaliseError::Constant {
            country: ctx.iso3.to_string(),
            file: delivery.file.clone(),
            table: ctx.table.to_string(),
            column,
            message,
        }
    })?;
    checks::duplicate_ids(schema, plan, raw, &skip, batch_context.keys, &mut problems);
    checks::missing_links(
        ctx.iso3,
        ctx.table,
        schema,
        plan,
        raw,
        &skip,
        referenced,
        &mut problems,
    )?;
    problems.sort_by_key(|p| (p.row, p.field.map_or(0, |f| f + 1), p.code));

    let mut bad = vec![false; rows];
    for p in &problems {
        if let Some(b) = bad.get_mut(p.row) {
            *b = true;
        }
    }
    let rows_quarantined = bad.iter().filter(|b| **b).count() as u64;
    let arrow_schema = Arc::new(output_schema(ctx.iso3, schema, plan, &arrays));
    let full = RecordBatch::try_new_with_options(
        arrow_schema,
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(arrow_error)?;
    let keep = BooleanArray::from(bad.iter().map(|b| !b).collect::<Vec<bool>>());
    let batch = filter_record_batch(&full, &keep).map_err(arrow_error)?;
    let mut problems_by_reason = BTreeMap::new();
    for p in &problems {
        *problems_by_reason.entry(p.code).or_insert(0u64) += 1;
    }
    let quarantine = quarantine::quarantine_batch(&delivery.file, &raw.row_numbers, &problems)
        .map_err(arrow_error)?;
    let raw_ids = problems.into_iter().map(|p| p.raw_id).collect();
    let written_rows: Vec<u64> = (0..rows)
        .filter(|&i| !bad[i])
        .map(|i| raw.row_numbers.get(i).copied().unwrap_or(i as u64 + 1))
        .collect();
    let universe_findings = consistency::universe_findings(schema, &batch, &written_rows);
    let files = vec![FileLedger {
        file: delivery.file.clone(),
        rows_read: rows as u64,
        rows_written: batch.num_rows() as u64,
        rows_quarantined,
    }];
    Ok(TableOutput {
        table: ctx.table.to_string(),
        source_file: delivery.file.clone(),
        rows_read: rows as u64,
        rows_written: batch.num_rows() as u64,
        rows_quarantined,
        files,
        batch,
        quarantine,
        problems_by_reason,
        raw_ids,
        universe_findings,
    })
}

/// Adds the routing findings of one more batch to those of the batches before it (rows summed, the first row kept
/// from the earliest batch), ordered as [`consistency::universe_findings`] orders them: by column position, then kind.
pub fn merge_universe_findings(
    schema: &TableSchema,
    into: &mut Vec<consistency::UniverseFinding>,
    batch: Vec<consistency::UniverseFinding>,
) {
    for finding in batch {
        match into
            .iter_mut()
            .find(|f| f.column == finding.column && f.issue == finding.issue)
        {
            Some(f) => f.rows += finding.rows,
            None => into.push(finding),
        }
    }
    let position = |name: &str| schema.fields.iter().position(|f| f.name == name);
    into.sort_by_key(|f| (position(&f.column), f.issue));
}

/// Builds every column: first those read from the delivery (and those given as a `constant`, whose cells go
/// through the same translation as delivered cells), then those derived from them. The error names the column
/// whose constant could not be repeated over the rows.
fn build_columns(
    plan: &TablePlan,
    raw: &RawTable,
    skip: &[bool],
    problems: &mut Vec<Problem>,
) -> Result<Vec<ArrayRef>, (String, String)> {
    let rows = raw.num_rows();
    // Columns are independent: build them in parallel, then merge their problems in column order (the final sort
    // in `normalise_table` makes the order independent of scheduling anyway).
    type Built = Result<(Option<BuiltColumn>, Vec<Problem>), (String, String)>;
    let results: Vec<Built> = plan
        .columns
        .par_iter()
        .enumerate()
        .map(|(field_index, column)| {
            let constant = match &column.input {
                Input::Constant(value) => Some(
                    dh_ingest::RawColumn::repeated(&column.field.name, value, rows)
                        .map_err(|e| (column.field.name.clone(), e.to_string()))?,
                ),
                _ => None,
            };
            let raw_column = match column.input {
                Input::Raw(idx) => raw.columns.get(idx),
                _ => constant.as_ref(),
            };
            let mut column_problems = Vec::new();
            let built = raw_column.map(|rc| {
                let mut ctx = CellContext {
                    plan: column,
                    field_index,
                    skip,
                    missing_labels: &plan.missing_labels,
                    problems: &mut column_problems,
                    labels: &rc.labels,
                };
                build_raw(&mut ctx, rc)
            });
            Ok((built, column_problems))
        })
        .collect();
    let mut built: Vec<Option<BuiltColumn>> = Vec::with_capacity(results.len());
    for result in results {
        let (column, column_problems) = result?;
        built.push(column);
        problems.extend(column_problems);
    }
    Ok(plan
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| match &built[i] {
            Some(b) => b.array.clone(),
            None => build_unread(column, rows, band_source(plan, &built, column)),
        })
        .collect())
}

fn band_source<'b>(
    plan: &TablePlan,
    built: &'b [Option<BuiltColumn>],
    column: &ColumnPlan,
) -> BandSource<'b> {
    let Input::Banded { from, .. } = column.input else {
        return BandSource::Unavailable;
    };
    match (
        built
            .get(from)
            .and_then(|b| b.as_ref())
            .and_then(|b| b.numbers.as_deref()),
        plan.columns.get(from),
    ) {
        (Some(numbers), _) => BandSource::Numbers(numbers),
        (None, Some(source)) if matches!(source.input, Input::NotCollected) => {
            BandSource::NotCollected
        }
        _ => BandSource::Unavailable,
    }
}

/// Arrow schema with the schema version and country, and per-field description, title, role, universe, codes,
/// allowed missing codes and schema version; ordinal categorical fields are ordered dictionaries.
fn output_schema(
    iso3: &str,
    schema: &TableSchema,
    plan: &TablePlan,
    arrays: &[ArrayRef],
) -> Schema {
    let fields: Vec<ArrowField> = plan
        .columns
        .iter()
        .zip(arrays)
        .map(|(column, array)| {
            let f = &column.field;
            ArrowField::new(&f.name, array.data_type().clone(), true)
                .with_dict_is_ordered(f.ordered)
                .with_metadata(field_metadata(schema, column))
        })
        .collect();
    let mut meta = HashMap::new();
    meta.insert(META_TABLE.to_string(), schema.name.clone());
    meta.insert(META_SCHEMA_VERSION.to_string(), schema.version.clone());
    meta.insert(META_COUNTRY.to_string(), iso3.to_string());
    Schema::new_with_metadata(fields, meta)
}

/// The metadata of one harmonised column as `plan` fills it: description, title, role, universe, codes, allowed
/// missing codes, schema version, and how its values came (pseudonymised, not collected, filled later).
pub fn field_metadata(schema: &TableSchema, column: &ColumnPlan) -> HashMap<String, String> {
    let f = &column.field;
    let mut meta = HashMap::new();
    meta.insert("description".to_string(), f.description.clone());
    if !f.title.is_empty() {
        meta.insert("title".to_string(), f.title.clone());
    }
    meta.insert("role".to_string(), role_name(f.role).to_string());
    meta.insert("universe".to_string(), f.universe.clone());
    if let Some(categories) = &f.categories {
        let codes: Vec<String> = categories
            .iter()
            .map(|c| format!("{}={}", c.value, c.label))
            .collect();
        meta.insert("codes".to_string(), codes.join(", "));
    }
    let missing_codes = f.missing_codes_text(&schema.missing_values);
    if !missing_codes.is_empty() {
        meta.insert("missing_codes".to_string(), missing_codes);
    }
    meta.insert("schema_version".to_string(), schema.version.clone());
    if matches!(column.kind, Kind::Pseudonym(_)) {
        meta.insert("pseudonymised".to_string(), "hmac-sha256".to_string());
    }
    match column.input {
        Input::NotCollected => {
            meta.insert("not_collected".to_string(), "true".to_string());
        }
        Input::Later => {
            meta.insert(
                "filled_by".to_string(),
                "a later pipeline stage".to_string(),
            );
        }
        _ => {}
    }
    meta
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Design => "design",
        Role::Key => "key",
        Role::Demographic => "demographic",
        Role::Item => "item",
        Role::Derived => "derived",
    }
}

#[cfg(test)]
mod tests;
