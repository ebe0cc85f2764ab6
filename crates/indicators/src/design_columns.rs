//! Columns of the design table read when an indicator needs them: a design table too large to hold whole (a child
//! survey of millions of rows, written batch by batch) is given to [`crate::stage`] with only the columns every
//! indicator uses (design, weighting margins, non-response classes: [`resident_columns`]) and a
//! [`DesignColumns`] source of its other columns, which each indicator reads for itself and drops after its
//! estimate. A table held whole has every column at hand ([`AllResident`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use crate::catalogue::Indicator;
use crate::stage::{BASE_WEIGHT, FINAL_WEIGHT, PSU, STRATUM};

/// The design table's columns that are not in the batch given to the stage, read on request.
pub trait DesignColumns: Sync {
    /// Whether the design table has the column `name` outside the batch given to the stage.
    fn has(&self, name: &str) -> bool;
    /// Every row of those of `names` the table has outside the batch (in the table's column order); `None`
    /// when it has none of them.
    fn read(&self, names: &BTreeSet<String>) -> Result<Option<RecordBatch>, String>;
    /// Whether the indicators may be estimated in parallel. A source that reads each indicator's columns from a
    /// large table says no: estimated one at a time, only one indicator's columns and buffers are held, which is
    /// what bounds the memory of a delivery too large to hold (the default: yes).
    fn in_parallel(&self) -> bool {
        true
    }
    /// The Arrow type of the column `name` the table has outside the batch (`None` when it has none such). By
    /// default read from [`DesignColumns::read`].
    fn data_type(&self, name: &str) -> Result<Option<DataType>, String> {
        if !self.has(name) {
            return Ok(None);
        }
        let read = self.read(&BTreeSet::from([name.to_string()]))?;
        Ok(read.and_then(|b| b.column_by_name(name).map(|c| c.data_type().clone())))
    }
    /// Calls `f` with the column `name` the table has outside the batch in pieces of consecutive rows, in row
    /// order, so that a caller that needs each value once (a join key) never holds the whole column. By default
    /// the whole column at once, from [`DesignColumns::read`].
    fn for_each_piece(&self, name: &str, f: &mut dyn FnMut(&ArrayRef)) -> Result<(), String> {
        if let Some(batch) = self.read(&BTreeSet::from([name.to_string()]))?
            && let Some(column) = batch.column_by_name(name)
        {
            f(column);
        }
        Ok(())
    }
}

/// A design table given whole: no column outside the batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllResident;

impl DesignColumns for AllResident {
    fn has(&self, _name: &str) -> bool {
        false
    }

    fn read(&self, _names: &BTreeSet<String>) -> Result<Option<RecordBatch>, String> {
        Ok(None)
    }
}

/// The design table's columns the stage uses for every indicator: the design (strata, PSUs, weights), the
/// weighting margins' variables (`margin_variables`) and the non-response classes of the catalogue.
pub fn resident_columns(
    catalogue: &crate::Catalogue,
    margin_variables: &[String],
) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = [STRATUM, PSU, BASE_WEIGHT, FINAL_WEIGHT]
        .into_iter()
        .map(str::to_string)
        .collect();
    out.extend(margin_variables.iter().cloned());
    for rule in catalogue.nonresponse.values() {
        out.extend(rule.classes.iter().cloned());
    }
    out
}

/// The columns an indicator's expressions, variable and disaggregations refer to.
pub fn indicator_columns(indicator: &Indicator) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = indicator
        .universe
        .columns()
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Some(numerator) = &indicator.numerator {
        out.extend(numerator.columns().into_iter().map(str::to_string));
    }
    out.extend(indicator.variable.iter().cloned());
    out.extend(indicator.disaggregations.iter().map(|d| d.column.clone()));
    out
}

/// `batch` (rows of the design table, or laid over them) with those of `names` it lacks and `source` has
/// appended; `batch` itself when there are none.
pub fn with_design_columns(
    batch: &RecordBatch,
    names: &BTreeSet<String>,
    source: &dyn DesignColumns,
) -> Result<RecordBatch, String> {
    let wanted: BTreeSet<String> = names
        .iter()
        .filter(|n| batch.column_by_name(n).is_none() && source.has(n))
        .cloned()
        .collect();
    if wanted.is_empty() {
        return Ok(batch.clone());
    }
    let Some(extra) = source.read(&wanted)? else {
        return Ok(batch.clone());
    };
    if extra.num_rows() != batch.num_rows() {
        return Err(format!(
            "{} rows read back for columns {:?}, but the design table has {}",
            extra.num_rows(),
            wanted,
            batch.num_rows()
        ));
    }
    let schema = batch.schema();
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for (field, column) in extra.schema().fields().iter().zip(extra.columns()) {
        if batch.column_by_name(field.name()).is_none() {
            fields.push(field.clone());
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())),
        columns,
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use arrow::array::{Float64Array, StringArray};

    use super::*;

    fn batch(names: &[&str], rows: usize) -> RecordBatch {
        let columns: Vec<(&str, ArrayRef)> = names
            .iter()
            .map(|n| {
                let values: Vec<String> = (0..rows).map(|i| format!("{n}{i}")).collect();
                (*n, Arc::new(StringArray::from(values)) as ArrayRef)
            })
            .collect();
        RecordBatch::try_from_iter(columns).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A table of columns `a`..`d` of which the stage holds `a`; counts what it is asked for.
    struct Outside {
        table: RecordBatch,
        asked: Mutex<Vec<BTreeSet<String>>>,
    }

    impl DesignColumns for Outside {
        fn has(&self, name: &str) -> bool {
            name != "a" && self.table.column_by_name(name).is_some()
        }

        fn read(&self, names: &BTreeSet<String>) -> Result<Option<RecordBatch>, String> {
            self.asked.lock().unwrap().push(names.clone());
            let indices: Vec<usize> = (0..self.table.num_columns())
                .filter(|&i| names.contains(self.table.schema().field(i).name()))
                .collect();
            if indices.is_empty() {
                return Ok(None);
            }
            self.table
                .project(&indices)
                .map(Some)
                .map_err(|e| e.to_string())
        }
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn appends_only_the_missing_columns_the_source_has() {
        let source = Outside {
            table: batch(&["a", "b", "c", "d"], 3),
            asked: Mutex::new(Vec::new()),
        };
        let held = batch(&["a"], 3);
        let weight: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
        let held = RecordBatch::try_from_iter(vec![("a", held.column(0).clone()), ("w", weight)])
            .unwrap_or_else(|e| panic!("{e}"));
        let got = with_design_columns(&held, &set(&["a", "c", "b", "zz", "w"]), &source)
            .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = got
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["a", "w", "b", "c"]);
        assert_eq!(got.column(3), source.table.column(2));
        assert_eq!(*source.asked.lock().unwrap(), vec![set(&["b", "c"])]);
        // nothing to read: the batch as it is, and the source is not asked
        let same = with_design_columns(&held, &set(&["a", "w", "zz"]), &source)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(same, held);
        assert_eq!(source.asked.lock().unwrap().len(), 1);
        let whole = with_design_columns(&held, &set(&["b"]), &AllResident)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(whole, held);
    }

    #[test]
    fn rows_read_back_must_be_the_design_rows() {
        let source = Outside {
            table: batch(&["a", "b"], 4),
            asked: Mutex::new(Vec::new()),
        };
        let e = with_design_columns(&batch(&["a"], 3), &set(&["b"]), &source).err();
        assert!(e.is_some_and(|e| e.contains("4 rows")));
    }
}
