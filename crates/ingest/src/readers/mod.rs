//! The reader interface ([`DeliveryReader`]) and the registry of readers by format: CSV ([`csv`]), SPSS ([`sav`]),
//! Stata ([`dta`]), Excel ([`xlsx`]). The formats themselves are listed once, in [`Format::ALL`]. Adding a format
//! means adding one module here that implements [`DeliveryReader`] with a [`crate::RawTableBuilder`] (and
//! [`DeliveryReader::batches`] when its library can read part of a file at a time), and one arm in [`reader_for`]
//! (an exhaustive `match`, so the compiler asks for it). [`cells`] holds what the binary formats share (canonical
//! number and date text, column buffers).

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

/// The reader for a delivery of `format` at `path`. Fails with [`IngestError::FormatMismatch`] when the file's
/// extension is one that [`Format::from_extension`] gives to another format (a `.sav` file configured as `csv`
/// would otherwise be parsed as text); unknown extensions are read as configured.
pub fn reader_for(format: Format, path: &Path) -> Result<&'static dyn DeliveryReader, IngestError> {
    if let Some(found) = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_extension)
        .filter(|found| *found != format)
    {
        return Err(IngestError::FormatMismatch {
            file: path.to_path_buf(),
            configured: format.name(),
            found: found.description(),
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_a_reader_named_like_the_format() {
        for format in Format::ALL {
            for ext in format.extensions() {
                let path = std::path::PathBuf::from(format!("delivery.{ext}"));
                let reader = reader_for(format, &path).map_err(|e| e.to_string());
                assert_eq!(
                    reader.map(|r| r.format_label()),
                    Ok(format.description()),
                    "{ext}"
                );
            }
            // Unknown extensions and none at all are read as configured.
            for name in ["delivery.dat", "delivery"] {
                assert!(reader_for(format, Path::new(name)).is_ok(), "{name}");
            }
        }
    }

    #[test]
    fn an_extension_of_another_format_is_refused() {
        let err = reader_for(Format::Csv, Path::new("raw/THA/child.SAV")).err();
        assert!(
            matches!(
                &err,
                Some(IngestError::FormatMismatch { configured: "csv", found: "SPSS .sav", file })
                    if file == Path::new("raw/THA/child.SAV")
            ),
            "{err:?}"
        );
        assert!(matches!(
            reader_for(Format::Xlsx, Path::new("cases.csv")),
            Err(IngestError::FormatMismatch { .. })
        ));
    }
}
