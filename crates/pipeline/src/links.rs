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
/// `raw` holds the delivered tables as read (one raw table per file of `Delivery::files`), `tables` their
/// normalised result (written rows in delivery order, file after file).
pub fn lost_links(
    config: &CountryConfig,
    schemas: &SchemaSet,
    raw: &BTreeMap<String, Vec<RawTable>>,
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
            let (here_raw, there_raw) = (Files::new(here, here_raw), Files::new(there, there_raw));
            let (here_raw, there_raw) = (&here_raw, &there_raw);
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
            let link = Side::new(here_raw, &fk.fields);
            let own_id = Side::new(here_raw, &schema.primary_key);
            let target_schema_pk = schemas
                .get(target)
                .map(|s| s.primary_key.clone())
                .unwrap_or_default();
            let target_link = Side::new(there_raw, &fk.reference.fields);
            let target_id = Side::new(there_raw, &target_schema_pk);
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
                let (file, row) = here_raw.row_number(i);
                let (target_file, target_row) = there_raw.row_number(j);
                problems.push(Problem {
                    country: iso3.to_string(),
                    kind: ProblemKind::Row,
                    file: file.to_string(),
                    line: row,
                    column: link.sources(i),
                    value: link.shown(i),
                    code: LINKED_ROW_QUARANTINED.to_string(),
                    message: format!(
                        "{table} {own} points to {target} row {target_row} of {target_file} ({target_own}), \
                         which is quarantined (see that row's problem): this row is written but left out of \
                         {consequence}; fix that row or this row's {fields}",
                        consequence = if dh_config::design_table(schemas).is_ok_and(|d| d == target) {
                            format!(
                                "the `{}` indicators, which take their design and weight from `{target}`",
                                t.table
                            )
                        } else {
                            format!("the indicators that combine `{}` with `{target}`", t.table)
                        },
                        table = t.table,
                        own = own_id.described(i),
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

/// A delivered table as read: each file's effective delivery and rows, in config order. A row is addressed by its
/// position over all files (the order of the normalised rows).
struct Files<'a> {
    files: Vec<(Delivery, &'a RawTable)>,
}

impl<'a> Files<'a> {
    fn new(delivery: &Delivery, raw: &'a [RawTable]) -> Self {
        Files {
            files: delivery.files().into_iter().zip(raw).collect(),
        }
    }

    fn num_rows(&self) -> usize {
        self.files.iter().map(|(_, r)| r.num_rows()).sum()
    }

    /// The file index and the row index in it of row `i`.
    fn locate(&self, mut i: usize) -> Option<(usize, usize)> {
        for (f, (_, raw)) in self.files.iter().enumerate() {
            if i < raw.num_rows() {
                return Some((f, i));
            }
            i -= raw.num_rows();
        }
        None
    }

    /// The file name and source row number of row `i`.
    fn row_number(&self, i: usize) -> (&str, u64) {
        match self.locate(i) {
            Some((f, row)) => {
                let (delivery, raw) = &self.files[f];
                let number = raw.row_numbers.get(row).copied().unwrap_or(row as u64 + 1);
                (delivery.file.as_str(), number)
            }
            None => ("", i as u64 + 1),
        }
    }
}

/// A source column of one file: (harmonised field, its source, the column as read).
type SideColumn<'a> = (&'a str, Option<&'a str>, Option<&'a dh_ingest::RawColumn>);

/// Some harmonised columns of one delivered table, read from its raw cells through each file's column mapping.
struct Side<'a> {
    files: &'a Files<'a>,
    /// Per file, per field.
    fields: Vec<Vec<SideColumn<'a>>>,
}

impl<'a> Side<'a> {
    fn new(files: &'a Files<'a>, fields: &'a [String]) -> Self {
        Side {
            files,
            fields: files
                .files
                .iter()
                .map(|(delivery, raw)| {
                    fields
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
                        .collect()
                })
                .collect(),
        }
    }

    /// The columns of the file of row `i`, with the row's index in that file.
    fn columns(&self, i: usize) -> Option<(&[SideColumn<'a>], usize)> {
        let (f, row) = self.files.locate(i)?;
        Some((self.fields.get(f)?.as_slice(), row))
    }

    fn width(&self) -> usize {
        self.fields.first().map_or(0, Vec::len)
    }

    fn cell(&self, k: usize, i: usize) -> Option<&'a str> {
        let (columns, row) = self.columns(i)?;
        columns.get(k)?.2.and_then(|c| c.get(row)).map(str::trim)
    }
    /// The delivered key of `row` (trimmed cells, joined), `None` when a cell is empty or the column is absent.
    fn key(&self, row: usize) -> Option<String> {
        let cells: Option<Vec<&str>> = (0..self.width())
            .map(|k| self.cell(k, row).filter(|c| !c.is_empty()))
            .collect();
        cells.map(|c| c.join("\u{1f}"))
    }

    /// Source column names of the file of row `i`, comma-separated.
    fn sources(&self, i: usize) -> String {
        self.columns(i)
            .map(|(c, _)| c)
            .unwrap_or_default()
            .iter()
            .map(|(f, s, _)| s.unwrap_or(f))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The delivered values of `row`, comma-separated.
    fn shown(&self, row: usize) -> String {
        (0..self.width())
            .map(|k| self.cell(k, row).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `` `caregiver_id` (CG_ID) `CG0042` `` for each field (the raw id as delivered, for `dh validate` only).
    fn described(&self, row: usize) -> String {
        let Some((columns, _)) = self.columns(row).filter(|(c, _)| !c.is_empty()) else {
            return "row".to_string();
        };
        columns
            .iter()
            .enumerate()
            .map(|(k, &(field, source, _))| {
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

/// Indices (over all files) of the raw rows that were written (not quarantined), in order: the rows of the
/// normalised batch. A quarantine line names its row by file and row number.
fn written_indices(files: &Files<'_>, quarantine: &[RecordBatch]) -> Result<Vec<usize>, String> {
    let mut rejected: HashSet<(String, u64)> = HashSet::new();
    for batch in quarantine {
        let rows = batch
            .column_by_name("row_number")
            .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
            .ok_or_else(|| "quarantine batch has no UInt64 column `row_number`".to_string())?;
        let names = batch
            .column_by_name("source_file")
            .map(|c| cast(c, &DataType::Utf8))
            .transpose()
            .map_err(|e| format!("quarantine column `source_file`: {e}"))?
            .ok_or_else(|| "quarantine batch has no column `source_file`".to_string())?;
        let names = names.as_string::<i32>();
        for (i, row) in rows.values().iter().enumerate() {
            rejected.insert((names.value(i).to_string(), *row));
        }
    }
    Ok((0..files.num_rows())
        .filter(|&i| {
            let (file, row) = files.row_number(i);
            !rejected.contains(&(file.to_string(), row))
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
        let q = quarantine_batch("cg.csv", &raw.row_numbers, std::slice::from_ref(&problem))
            .unwrap_or_else(|e| panic!("{e}"));
        let raws = [raw.clone()];
        let one = Files::new(&Delivery::new("cg.csv", Format::Csv), &raws);
        assert_eq!(
            written_indices(&one, std::slice::from_ref(&q)),
            Ok(vec![0, 2])
        );
        assert_eq!(written_indices(&one, &[]), Ok(vec![0, 1, 2]));
        // two files: row 2 of the second file is another row than row 2 of the first
        let mut d = Delivery::new("", Format::Csv);
        for file in ["cg.csv", "cg2.csv"] {
            d.parts.push(dh_config::country::DeliveryPart {
                file: file.into(),
                ..Default::default()
            });
        }
        let raws = [raw.clone(), raw];
        let two = Files::new(&d, &raws);
        assert_eq!(written_indices(&two, &[q]), Ok(vec![0, 2, 3, 4, 5]));
        assert_eq!(two.row_number(4), ("cg2.csv", 2));
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
        let raw = [raw()];
        let files = Files::new(&d, &raw);
        let own = ["caregiver_id".to_string()];
        let link = ["household_id".to_string()];
        let own = Side::new(&files, &own);
        let link = Side::new(&files, &link);
        assert_eq!(own.described(0), "`caregiver_id` (CG_ID) `c1`");
        assert_eq!(link.key(1), Some("h2".to_string()));
        assert_eq!(link.key(2), None, "an empty key links nowhere");
        assert_eq!(
            (link.sources(1), link.shown(1)),
            ("HH_ID".into(), "h2".into())
        );
        assert_eq!(Side::new(&files, &[]).described(0), "row");
    }
}
