//! The reader interface ([`DeliveryReader`]) and the registry of readers by format. Adding a format (SPSS, Stata,
//! Excel) means adding one module here that implements [`DeliveryReader`] with a [`crate::RawTableBuilder`], and
//! one arm in [`reader_for`].

pub mod csv;

use std::path::Path;

use dh_config::Delivery;
use dh_config::country::Format;

use crate::error::IngestError;
use crate::table::{ColumnSelection, RawTable};

/// Reads one delivery file of a given format into a [`RawTable`], keeping only the selected source columns.
pub trait DeliveryReader: Sync {
    fn read(
        &self,
        path: &Path,
        delivery: &Delivery,
        keep: &ColumnSelection,
    ) -> Result<RawTable, IngestError>;
}

/// The reader for a format, or a typed error naming the file when the format has no reader yet.
pub fn reader_for(format: Format, path: &Path) -> Result<&'static dyn DeliveryReader, IngestError> {
    match format {
        Format::Csv => Ok(&csv::CsvReader),
        other => Err(IngestError::UnsupportedFormat {
            file: path.to_path_buf(),
            format: format!("{other:?}").to_lowercase(),
        }),
    }
}
