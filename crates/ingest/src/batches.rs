//! Reading one delivery in batches of rows ([`DeliveryBatches`], [`open_delivery`]), so that a caller can process
//! a file of any size in bounded memory.
//!
//! Contract of every batch source:
//! * batches come in file order; each is a [`RawTable`] with the same `file`, columns (names and labels) and
//!   `dropped_columns` as the whole table would have;
//! * `row_numbers` are the source row numbers (as in [`RawTable::row_numbers`]), continuing from batch to batch;
//!   `row_issues[i].row` is an index *within its batch*;
//! * reader warnings (places, never contents) are attached to the batch in which they were found;
//! * concatenating every batch gives exactly what [`crate::read_delivery`] returns for the same file;
//! * an error ends the sequence (the caller discards what it built from earlier batches).
//!
//! Formats whose reader streams ([`BatchSource`] implemented by the reader) hold one batch in memory; the others
//! are read whole and handed out in slices ([`WholeTable`]).

use std::path::Path;

use dh_config::Delivery;

use crate::error::IngestError;
use crate::readers;
use crate::table::{ColumnSelection, RawTable};

/// The default number of rows in one batch: small enough that a batch of a 100-column survey stays near 100 MB
/// of text and offsets, large enough that a table of a normal programme round is one batch.
pub const DEFAULT_BATCH_ROWS: usize = 262_144;

/// A source of consecutive row batches of one delivery file.
pub trait BatchSource: Send {
    /// The next batch, or `None` after the last row.
    fn next_batch(&mut self) -> Result<Option<RawTable>, IngestError>;

    /// The SHA-256 (lower-case hex) of every byte this source read from the file, once it has read the last
    /// batch, when the reader reads the file once from start to end (CSV); `None` otherwise.
    fn sha256_of_bytes_read(&self) -> Option<String> {
        None
    }

    /// Makes the batches from the next one on hold at most `batch_rows` rows (at least 1) instead of the size the
    /// source was opened with; the rows and their order do not change, only where batches end. A source that
    /// cannot change its batch size keeps it (the default).
    fn set_batch_rows(&mut self, batch_rows: usize) {
        let _ = batch_rows;
    }
}

/// The row batches of one delivery, in file order (see the module documentation for the contract).
pub struct DeliveryBatches {
    source: Box<dyn BatchSource>,
    batches: usize,
}

impl DeliveryBatches {
    pub fn new(source: Box<dyn BatchSource>) -> Self {
        DeliveryBatches { source, batches: 0 }
    }

    /// The next batch, or `None` after the last row. The first call always returns a batch (possibly with no
    /// rows), so a caller learns the columns of an empty file.
    pub fn next_batch(&mut self) -> Result<Option<RawTable>, IngestError> {
        let next = self.source.next_batch()?;
        if next.is_some() {
            self.batches += 1;
        }
        Ok(next)
    }

    /// The SHA-256 (lower-case hex, as `sha256sum` prints it) of the bytes read from the file, after the last
    /// batch (`next_batch` gave `None`), for formats read once from start to end (CSV); `None` for the others and
    /// before the end. It is the hash of exactly the bytes the batches came from, so a caller that hashed the file
    /// before reading it can compare the two instead of reading the file a second time to see whether it changed.
    pub fn sha256_of_bytes_read(&self) -> Option<String> {
        self.source.sha256_of_bytes_read()
    }

    /// Batches from the next one on hold at most `batch_rows` rows (CSV, SPSS and the formats read whole can all
    /// change their batch size; a source that cannot keeps the size it was opened with).
    pub fn set_batch_rows(&mut self, batch_rows: usize) {
        self.source.set_batch_rows(batch_rows);
    }

    /// How many batches were handed out so far.
    pub fn batches_read(&self) -> usize {
        self.batches
    }
}

impl BatchSource for DeliveryBatches {
    fn next_batch(&mut self) -> Result<Option<RawTable>, IngestError> {
        DeliveryBatches::next_batch(self)
    }

    fn sha256_of_bytes_read(&self) -> Option<String> {
        DeliveryBatches::sha256_of_bytes_read(self)
    }

    fn set_batch_rows(&mut self, batch_rows: usize) {
        DeliveryBatches::set_batch_rows(self, batch_rows);
    }
}

/// Opens the delivery at `path` for reading in batches of at most `batch_rows` rows (at least 1). Checks and
/// column selection are those of [`crate::read_delivery`]; a panic inside a reader library (while opening or
/// reading any batch) becomes an [`IngestError::Format`] of the file, as there.
pub fn open_delivery(
    path: &Path,
    delivery: &Delivery,
    batch_rows: usize,
) -> Result<DeliveryBatches, IngestError> {
    crate::source::check_regular(path)?;
    let keep = ColumnSelection::for_delivery(delivery);
    let reader = readers::reader_for(delivery.format, path)?;
    let format = reader.format_label();
    let source = catch_panics(path, format, || {
        reader.batches(path, delivery, &keep, batch_rows)
    })?;
    Ok(DeliveryBatches::new(Box::new(CatchPanics {
        file: path.to_path_buf(),
        format,
        source: Some(source),
    })))
}

/// Every batch of `batches` in one table (what [`crate::read_delivery`] returns; see [`RawTable::append`]).
pub fn concat(batches: &mut dyn BatchSource) -> Result<RawTable, IngestError> {
    let Some(mut table) = batches.next_batch()? else {
        return Err(IngestError::Format {
            file: std::path::PathBuf::new(),
            format: "batch",
            message: "a batch source gave no first batch".to_string(),
        });
    };
    while let Some(next) = batches.next_batch()? {
        table.append(next)?;
    }
    Ok(table)
}

/// Runs `f`, turning a panic inside it (a reader library's) into a format error of `file`.
fn catch_panics<T>(
    file: &Path,
    format: &'static str,
    f: impl FnOnce() -> Result<T, IngestError>,
) -> Result<T, IngestError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(IngestError::Format {
            file: file.to_path_buf(),
            format,
            message: "the reader stopped on malformed content".to_string(),
        })
    })
}

/// A batch source whose panics become format errors; after an error or a panic it gives no more batches.
struct CatchPanics {
    file: std::path::PathBuf,
    format: &'static str,
    source: Option<Box<dyn BatchSource>>,
}

impl BatchSource for CatchPanics {
    fn next_batch(&mut self) -> Result<Option<RawTable>, IngestError> {
        let Some(source) = self.source.as_mut() else {
            return Ok(None);
        };
        let next = catch_panics(&self.file, self.format, || source.next_batch());
        if next.is_err() {
            self.source = None;
        }
        next
    }

    fn sha256_of_bytes_read(&self) -> Option<String> {
        self.source.as_ref()?.sha256_of_bytes_read()
    }

    fn set_batch_rows(&mut self, batch_rows: usize) {
        if let Some(source) = self.source.as_mut() {
            source.set_batch_rows(batch_rows);
        }
    }
}

/// A table read whole, handed out in slices of `batch_rows` rows (formats whose reader cannot stream: the
/// `.xlsx` and `.dta` libraries read the whole file).
pub struct WholeTable {
    table: Option<RawTable>,
    batch_rows: usize,
    next_row: usize,
    started: bool,
}

impl WholeTable {
    pub fn new(table: RawTable, batch_rows: usize) -> Self {
        WholeTable {
            table: Some(table),
            batch_rows: batch_rows.max(1),
            next_row: 0,
            started: false,
        }
    }
}

impl BatchSource for WholeTable {
    fn next_batch(&mut self) -> Result<Option<RawTable>, IngestError> {
        let Some(table) = self.table.as_ref() else {
            return Ok(None);
        };
        let rows = table.num_rows();
        // a table that fits in one batch is handed over as it is (no copy)
        if !self.started && rows <= self.batch_rows {
            self.started = true;
            return Ok(self.table.take());
        }
        self.started = true;
        if self.next_row >= rows {
            self.table = None;
            return Ok(None);
        }
        let end = (self.next_row + self.batch_rows).min(rows);
        let batch = table.slice(self.next_row, end, self.next_row == 0);
        self.next_row = end;
        Ok(Some(batch))
    }

    fn set_batch_rows(&mut self, batch_rows: usize) {
        self.batch_rows = batch_rows.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: usize) -> RawTable {
        let cells: Vec<Vec<String>> = (0..rows)
            .map(|i| {
                vec![
                    format!("{i}"),
                    if i % 3 == 0 { "x,y".into() } else { "z".into() },
                ]
            })
            .collect();
        let mut t = RawTable::from_rows(Path::new("t.csv"), &["id", "v"], &cells).unwrap();
        t.warnings.push("cell B3 has a formula".into());
        t
    }

    fn collect(mut b: WholeTable) -> Vec<RawTable> {
        let mut out = Vec::new();
        while let Some(t) = b.next_batch().unwrap() {
            out.push(t);
        }
        out
    }

    #[test]
    fn a_small_table_is_one_batch_unchanged() {
        let t = table(5);
        let batches = collect(WholeTable::new(t.clone(), 10));
        assert_eq!(batches, vec![t]);
    }

    #[test]
    fn slices_concatenate_to_the_whole_table() {
        let t = table(10);
        let batches = collect(WholeTable::new(t.clone(), 4));
        assert_eq!(
            batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        let numbers: Vec<u64> = batches.iter().flat_map(|b| b.row_numbers.clone()).collect();
        assert_eq!(numbers, t.row_numbers);
        let ids: Vec<String> = batches
            .iter()
            .flat_map(|b| {
                b.column("id")
                    .unwrap()
                    .iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        let whole: Vec<String> = t.column("id").unwrap().iter().map(str::to_string).collect();
        assert_eq!(ids, whole);
        assert_eq!(batches[0].warnings, t.warnings);
        assert!(batches[1].warnings.is_empty());
    }

    #[test]
    fn a_new_batch_size_applies_from_the_next_batch() {
        let t = table(10);
        let mut b = WholeTable::new(t.clone(), 4);
        let mut sizes = vec![b.next_batch().unwrap().unwrap().num_rows()];
        b.set_batch_rows(3);
        while let Some(batch) = b.next_batch().unwrap() {
            sizes.push(batch.num_rows());
        }
        assert_eq!(sizes, vec![4, 3, 3]);
    }

    #[test]
    fn an_empty_table_is_one_empty_batch() {
        let batches = collect(WholeTable::new(table(0), 4));
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].num_rows(), 0);
        assert_eq!(batches[0].column_names().count(), 2);
    }
}
