//! Rows that pass every check but lose their link because the row they point to was quarantined: a caregiver
//! whose child's row was rejected cannot take the child's design and weight, so `dh run` leaves it out of the
//! caregiver indicators and only counts it (manifest weighting `unweighted_rows`). `dh validate` lists each such
//! row ([`lost_links`]) with its file, row, its own id and the id it points to, as delivered, so the agency can fix
//! the link or the rejected row.
//!
//! Raw ids appear only here, in `dh validate`'s problem list for the data manager; nothing of this reaches `OUT`.

use std::collections::{BTreeMap, HashMap, HashSet};

use arrow::array::{Array, AsArray, RecordBatch, UInt64Array};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use dh_config::{CountryConfig, Delivery, SchemaSet};
use dh_ingest::RawTable;

use crate::country::NormalisedTable;
use crate::validate::{Problem, ProblemKind};

/// Reason code of a row whose linked row was quarantined.
pub const LINKED_ROW_QUARANTINED: &str = "linked_row_quarantined";

/// Every written row of a linking table (e.g. `caregiver_survey`) whose key matches no written row of the
/// referenced table (`child_survey`) although the referenced delivery has it: the referenced row was quarantined.
/// `raw` holds the delivered tables as read, `tables` their normalised result (written rows in delivery order).
pub fn lost_links(
    config: &CountryConfig,
    schemas: &SchemaSet,
    raw: &BTreeMap<String, RawTable>,
    tables: &[NormalisedTable],
) -> Result<Vec<Problem>, String> {
    let iso3 = config.country.iso3.as_str();
    let by_name: HashMap<&str, &NormalisedTable> =
        tables.iter().map(|t| (t.table.as_str(), t)).collect();
    let mut problems = Vec::new();
    for t in tables {
        let Some(schema) = schemas.get(&t.table) else {
            continue;
        };
        for fk in &schema.foreign_keys {
            let target = fk.reference.resource.as_str();
            let (Some(target_table), Some(here_raw), Some(there_raw)) =
                (by_name.get(target), raw.get(&t.table), raw.get(target))
            else {
                continue;
            };
            let (Some(here), Some(there)) = (
                config.deliveries.get(&t.table),
                config.deliveries.get(target),
            ) else {
                continue;
            };
            let known: HashSet<String> = batch_keys(&target_table.batches, &fk.reference.fields)?
                .into_iter()
                .flatten()
                .collect();
            let keys = batch_keys(&t.batches, &fk.fields)?;
            let written = written_indices(here_raw, &t.quarantine)?;
            if written.len() != keys.len() {
                return Err(format!(
                    "`{}`: {} written rows but {} rows left after quarantine",
                    t.table,
                    keys.len(),
                    written.len()
                ));
            }
            let link = Side::new(here, here_raw, &fk.fields);
            let own_id = Side::new(here, here_raw, &schema.primary_key);
            let target_schema_pk = schemas
                .get(target)
                .map(|s| s.primary_key.clone())
                .unwrap_or_default();
            let target_link = Side::new(there, there_raw, &fk.reference.fields);
            let target_id = Side::new(there, there_raw, &target_schema_pk);
            let target_written: HashSet<usize> =
                written_indices(there_raw, &target_table.quarantine)?
                    .into_iter()
                    .collect();
            // Referenced rows by their delivered key (trimmed), quarantined ones only.
            let mut rejected: HashMap<String, usize> = HashMap::new();
            for i in (0..there_raw.num_rows()).filter(|i| !target_written.contains(i)) {
                if let Some(k) = target_link.key(i) {
                    rejected.entry(k).or_insert(i);
                }
            }
            for (key, &i) in keys.iter().zip(&written) {
                if key.as_ref().is_some_and(|k| known.contains(k)) {
                    continue;
                }
                let Some(raw_key) = link.key(i) else {
                    continue;
                };
                let Some(&j) = rejected.get(&raw_key) else {
                    continue;
                };
                let row = here_raw.row_numbers.get(i).copied().unwrap_or(i as u64 + 1);
                let target_row = there_raw
                    .row_numbers
                    .get(j)
                    .copied()
                    .unwrap_or(j as u64 + 1);
                problems.push(Problem {
                    country: iso3.to_string(),
                    kind: ProblemKind::Row,
                    file: here.file.clone(),
                    line: row,
                    column: link.sources(),
                    value: link.shown(i),
                    code: LINKED_ROW_QUARANTINED.to_string(),
                    message: format!(
                        "{table} {own} points to {target} row {target_row} of {target_file} ({target_own}), \
                         which is quarantined (see that row's problem): this row is written but left out of \
                         {consequence}; fix that row or this row's {fields}",
                        consequence = if target == dh_indicators::stage::DESIGN_TABLE {
                            format!(
                                "the `{}` indicators, which take their design and weight from `{target}`",
                                t.table
                            )
                        } else {
                            format!("the indicators that combine `{}` with `{target}`", t.table)
                        },
                        table = t.table,
                        own = own_id.described(i),
                        target_file = there.file,
                        target_own = target_id.described(j),
                        fields = fk.fields.join(", "),
                    ),
                    rows: 1,
                });
            }
        }
    }
    Ok(problems)
}

/// Some harmonised columns of one delivered table, read from its raw cells through the column mapping.
struct Side<'a> {
    fields: Vec<(&'a str, Option<&'a str>, Option<&'a dh_ingest::RawColumn>)>,
}

impl<'a> Side<'a> {
    fn new(delivery: &'a Delivery, raw: &'a RawTable, fields: &'a [String]) -> Self {
        Side {
            fields: fields
                .iter()
                .map(|f| {
                    let source = delivery
                        .columns
                        .get(f)
                        .filter(|m| !m.not_collected)
                        .and_then(|m| m.source.as_deref())
                        .map(str::trim);
                    (f.as_str(), source, source.and_then(|s| raw.column(s)))
                })
                .collect(),
        }
    }

    fn cell(&self, k: usize, row: usize) -> Option<&'a str> {
        self.fields[k].2.and_then(|c| c.get(row)).map(str::trim)
    }

    /// The delivered key of `row` (trimmed cells, joined), `None` when a cell is empty or the column is absent.
    fn key(&self, row: usize) -> Option<String> {
        let cells: Option<Vec<&str>> = (0..self.fields.len())
            .map(|k| self.cell(k, row).filter(|c| !c.is_empty()))
            .collect();
        cells.map(|c| c.join("\u{1f}"))
    }

    /// Source column names, comma-separated.
    fn sources(&self) -> String {
        self.fields
            .iter()
            .map(|(f, s, _)| s.unwrap_or(f))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The delivered values of `row`, comma-separated.
    fn shown(&self, row: usize) -> String {
        (0..self.fields.len())
            .map(|k| self.cell(k, row).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `` `caregiver_id` (CG_ID) `CG0042` `` for each field (the raw id as delivered, for `dh validate` only).
    fn described(&self, row: usize) -> String {
        if self.fields.is_empty() {
            return "row".to_string();
        }
        (0..self.fields.len())
            .map(|k| {
                let (field, source, _) = self.fields[k];
                let via = match source {
                    Some(s) if s != field => format!(" ({s})"),
                    _ => String::new(),
                };
                format!("`{field}`{via} `{}`", self.cell(k, row).unwrap_or(""))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Per row of the concatenated batches: the values of `fields` as text, joined; `None` when one is null.
fn batch_keys(batches: &[RecordBatch], fields: &[String]) -> Result<Vec<Option<String>>, String> {
    let mut out = Vec::new();
    for batch in batches {
        let columns = fields
            .iter()
            .map(|f| {
                let c = batch
                    .column_by_name(f)
                    .ok_or_else(|| format!("normalised table has no column `{f}`"))?;
                cast(c, &DataType::Utf8).map_err(|e| format!("column `{f}`: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let cells: Option<Vec<&str>> = columns
                .iter()
                .map(|c| {
                    let c = c.as_string::<i32>();
                    (!c.is_null(row)).then(|| c.value(row))
                })
                .collect();
            out.push(cells.map(|c| c.join("\u{1f}")));
        }
    }
    Ok(out)
}

/// Indices of the raw rows that were written (not quarantined), in order: the rows of the normalised batch.
fn written_indices(raw: &RawTable, quarantine: &[RecordBatch]) -> Result<Vec<usize>, String> {
    let mut rejected: HashSet<u64> = HashSet::new();
    for batch in quarantine {
        let rows = batch
            .column_by_name("row_number")
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
            .ok_or_else(|| "quarantine batch has no UInt64 column `row_number`".to_string())?;
        rejected.extend(rows.values().iter().copied());
    }
    Ok((0..raw.num_rows())
        .filter(|&i| {
            let row = raw.row_numbers.get(i).copied().unwrap_or(i as u64 + 1);
            !rejected.contains(&row)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use dh_config::ColumnMap;
    use dh_config::country::Format;
    use dh_normalise::ReasonCode;
    use dh_normalise::quarantine::{Problem as QProblem, quarantine_batch};

    use super::*;

    fn raw() -> RawTable {
        RawTable::from_rows(
            Path::new("cg.csv"),
            &["CG_ID", "HH_ID"],
            &[vec!["c1", "h1"], vec!["c2", " h2 "], vec!["c3", ""]],
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn written_rows_are_the_rows_not_quarantined() {
        let raw = raw();
        let problem = QProblem {
            row: 1,
            field: None,
            code: ReasonCode::RaggedRow,
            source_column: String::new(),
            raw_value: String::new(),
            reason: "ragged".into(),
            raw_id: None,
        };
        let q = quarantine_batch("cg.csv", &raw.row_numbers, &[problem])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(written_indices(&raw, &[q]), Ok(vec![0, 2]));
        assert_eq!(written_indices(&raw, &[]), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn ids_are_read_through_the_mapping_as_delivered_and_trimmed() {
        let mut d = Delivery::new("cg.csv", Format::Csv);
        for (field, source) in [("caregiver_id", "CG_ID"), ("household_id", " HH_ID ")] {
            d.columns.insert(
                field.to_string(),
                ColumnMap {
                    source: Some(source.to_string()),
                    ..ColumnMap::default()
                },
            );
        }
        let raw = raw();
        let own = ["caregiver_id".to_string()];
        let link = ["household_id".to_string()];
        let own = Side::new(&d, &raw, &own);
        let link = Side::new(&d, &raw, &link);
        assert_eq!(own.described(0), "`caregiver_id` (CG_ID) `c1`");
        assert_eq!(link.key(1), Some("h2".to_string()));
        assert_eq!(link.key(2), None, "an empty key links nowhere");
        assert_eq!(
            (link.sources(), link.shown(1)),
            ("HH_ID".into(), "h2".into())
        );
        assert_eq!(Side::new(&d, &raw, &[]).described(0), "row");
    }
}
