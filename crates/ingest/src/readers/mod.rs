//! The reader interface ([`DeliveryReader`]) and the registry of readers by format: CSV ([`csv`]), SPSS ([`sav`]),
//! Stata ([`dta`]), Excel ([`xlsx`]). Adding a format means adding one module here that implements
//! [`DeliveryReader`] with a [`crate::RawTableBuilder`] (and [`DeliveryReader::batches`] when its library can read
//! part of a file at a time), and one arm in [`reader_for`]. [`cells`] holds what the
//! binary formats share (canonical number and date text, column buffers).

pub mod cells;
pub mod csv;
pub mod dta;
pub mod sav;
pub mod xlsx;

use std::path::Path;

use dh_config::Delivery;
use dh_config::country::Format;

use crate::batches::{BatchSource, WholeTable};
use crate::error::IngestError;
use crate::table::{ColumnSelection, RawTable};

/// Reads one delivery file of a given format into a [`RawTable`], keeping only the selected source columns.
pub trait DeliveryReader: Sync {
    /// The format's name in messages (`CSV`, `SPSS .sav`, ...).
    fn format_label(&self) -> &'static str;

    fn read(
        &self,
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
    ) -> Result<RawTable, IngestError>;

    /// The file in batches of at most `batch_rows` rows ([`crate::batches`] states the contract). Readers that
    /// stream (CSV, SPSS) implement it and make [`DeliveryReader::read`] the concatenation of its batches; the
    /// default reads the whole table and hands it out in slices.
    fn batches(
        &self,
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
        batch_rows: usize,
    ) -> Result<Box<dyn BatchSource>, IngestError> {
        let table = self.read(path, delivery, keep)?;
        Ok(Box::new(WholeTable::new(table, batch_rows)))
    }
}

/// The reader for a format. (Every configurable format has one; the `Result` leaves room for formats that a build
/// may leave out.)
pub fn reader_for(format: Format, path: &Path) -> Result<&'static dyn DeliveryReader, IngestError> {
    let _ = path;
    Ok(match format {
        Format::Csv => &csv::CsvReader,
        Format::Sav => &sav::SavReader,
        Format::Dta => &dta::DtaFileReader,
        Format::Xlsx => &xlsx::XlsxReader,
    })
}

/// [`IngestError::NotFound`] unless `path` exists, [`IngestError::NotRegular`] unless it is a regular file (the
/// binary-format readers check first, so a missing file is named as such rather than as whatever their library
/// makes of it, and a FIFO or device is never handed to a library that would block on it or read it forever).
pub(crate) fn ensure_exists(path: &Path) -> Result<(), IngestError> {
    crate::source::check_regular(path).map(|_| ())
}
