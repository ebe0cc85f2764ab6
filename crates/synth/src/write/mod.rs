//! The generic writer layer: a [`TextTable`] (a delivery's cells, with value labels and missing codes per column)
//! -> one file of a [`Format`]: CSV with its delimiter, encoding and line ending ([`csv`]), SPSS `.sav` with value
//! labels and user-missing values ([`sav`]), Stata `.dta` with value labels ([`dta`]), Excel `.xlsx` ([`xlsx`]).
//! Each format is one [`FormatWriter`], found by [`writer_for`] (an exhaustive `match` over the formats of
//! [`Format::ALL`]); a [`TableSink`] decides where a rendered table goes. [`codes`] holds the inverse of a column
//! mapping that every generator uses to write source codes. This layer knows no harmonised table: the household
//! survey's deliveries are rendered by [`crate::deliveries`], the other families' by [`crate::families`].

pub mod codes;
pub mod csv;
pub mod dta;
pub mod sav;
pub mod table;
pub mod xlsx;

use std::path::Path;

use dh_config::Delivery;
use dh_config::country::Format;

pub(crate) use codes::{SourceCodes, inverse};
pub use table::{TextColumn, TextTable};
pub use xlsx::write_xlsx;

use crate::error::SynthError;

/// Writes one delivery file in one format.
pub trait FormatWriter: Sync {
    fn write(&self, path: &Path, delivery: &Delivery, table: &TextTable) -> Result<(), SynthError>;
}

/// The writer for a format.
pub fn writer_for(format: Format) -> &'static dyn FormatWriter {
    match format {
        Format::Csv => &csv::CsvWriter,
        Format::Sav => &sav::SavWriter,
        Format::Dta => &dta::DtaWriter,
        Format::Xlsx => &xlsx::XlsxWriter,
    }
}

/// Where a rendered delivery goes. [`PlainFiles`] writes each file as configured; [`crate::resize::Resized`]
/// writes chosen tables with another number of rows.
pub trait TableSink: Sync {
    /// Writes the delivery of harmonised table `table` (rendered as `text`) to `path`.
    fn write(
        &self,
        table: &str,
        path: &Path,
        delivery: &Delivery,
        text: &TextTable,
    ) -> Result<(), SynthError>;
}

/// Every delivery in its configured format, as rendered.
pub struct PlainFiles;

impl TableSink for PlainFiles {
    fn write(
        &self,
        _table: &str,
        path: &Path,
        delivery: &Delivery,
        text: &TextTable,
    ) -> Result<(), SynthError> {
        writer_for(delivery.format).write(path, delivery, text)
    }
}

#[cfg(test)]
mod tests {
    /// The generic layer knows no generator: no code line of `write/` names the survey or family modules (doc
    /// comments may point at them).
    #[test]
    fn the_writer_layer_imports_no_generator() {
        let files = [
            ("mod.rs", include_str!("mod.rs")),
            ("codes.rs", include_str!("codes.rs")),
            ("csv.rs", include_str!("csv.rs")),
            ("dta.rs", include_str!("dta.rs")),
            ("sav.rs", include_str!("sav.rs")),
            ("table.rs", include_str!("table.rs")),
            ("xlsx.rs", include_str!("xlsx.rs")),
        ];
        let generators = [
            "families",
            "deliveries",
            "sample",
            "population",
            "items",
            "messy",
        ];
        for (file, text) in files {
            let code = text
                .lines()
                .take_while(|l| !l.starts_with("#[cfg(test)]"))
                .filter(|l| !l.trim_start().starts_with("//"));
            for line in code {
                for g in generators {
                    assert!(
                        !line.contains(&format!("crate::{g}")),
                        "write/{file} names crate::{g}: {line}"
                    );
                }
            }
        }
    }
}
