//! `dh-ingest`: readers for raw deliveries behind one interface ([`readers::DeliveryReader`]), yielding a
//! [`RawTable`] of text cells with file and row numbers.
//!
//! Formats: CSV (any WHATWG encoding: UTF-8 with or without BOM, Latin-1, windows-1256, gb18030, UTF-16...; any
//! one-byte delimiter, LF/CRLF, quoted fields holding delimiters or newlines), SPSS `.sav` (with value labels and
//! user-missing values), Stata `.dta` (value labels, extended missing `.a`-`.z`) and Excel `.xlsx` (any sheet,
//! cover text and label rows around the header), one module each under [`readers`]. The delivery's `header_row` and
//! `skip_rows` place the header in CSV and `.xlsx` files (see [`readers::csv`] and [`readers::xlsx`]).
//! Only the source columns mapped by the country config are kept: identifiers and unmapped columns are skipped while
//! reading and never stored. Nothing here panics or exits on a bad file: every problem is an [`IngestError`] naming
//! the file (and line, column, value where known), and rows with a wrong number of fields are kept and flagged in
//! [`RawTable::row_issues`] so that normalisation can quarantine and count them.
//!
//! Other modules:
//!
//! - `batches`: Reading one delivery in batches of rows ([`DeliveryBatches`], [`open_delivery`]), so that a caller
//!   can process a file of any size in bounded memory
//! - `error`: Typed ingest errors
//! - `message`: Bounds on every message `dh` stores or prints about a delivery (manifest, run log, report, stderr,
//!   JSON log, `dh validate`): at most [`MAX_MESSAGE_CHARS`] characters, control characters shown as `\u{..}`
//!   escapes (a NUL-filled file must not produce megabytes of NULs on a terminal)
//! - `table`: The in-memory result of reading one delivery: [`RawTable`], its text columns ([`RawColumn`]),
//!   row-level read problems ([`RowIssue`]), which source columns are kept ([`ColumnSelection`]) and the
//!   [`RawTableBuilder`] every reader fills
//! - `text_stream`: Decoding a delivery's bytes to UTF-8 text piece by piece ([`TextStream`]), holding one chunk of
//!   input and its decoded text whatever the file's size

pub mod batches;
pub mod encoding;
pub mod error;
pub mod message;
pub mod readers;
pub mod source;
pub mod table;
pub mod text_stream;

use std::path::Path;

use dh_config::Delivery;

pub use batches::{BatchSource, DEFAULT_BATCH_ROWS, DeliveryBatches, open_delivery};
pub use error::IngestError;
pub use table::{
    ColumnLabels, ColumnSelection, RawColumn, RawTable, RawTableBuilder, RowIssue, RowIssueKind,
};

/// Reads the delivery file at `path` (the country's raw folder joined with `delivery.file`) with the reader for its
/// format, keeping only the source columns the delivery maps onto harmonised columns. Anything but a regular file
/// (a FIFO, a device such as `/dev/zero` behind a link, a directory) is refused before it is opened
/// ([`source::check_regular`]).
///
/// A panic inside a reader (the SPSS, Stata and Excel readers parse with third-party libraries, which can panic
/// on a malformed file, e.g. an arithmetic overflow found by fuzzing) becomes an [`IngestError::Format`] of this
/// file, so a bad delivery fails its country instead of the whole run. The table is the delivery's batches
/// ([`open_delivery`]) in one: for the formats that stream, one batch holding every row.
pub fn read_delivery(path: &Path, delivery: &Delivery) -> Result<RawTable, IngestError> {
    let mut batches = open_delivery(path, delivery, usize::MAX)?;
    batches::concat(&mut batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dh_config::ColumnMap;
    use dh_config::country::{Encoding, Format};
    use rand::{Rng, SeedableRng};

    fn delivery(
        encoding: Encoding,
        delimiter: &str,
        mapped: &[(&str, &str)],
        identifiers: &[&str],
    ) -> Delivery {
        Delivery {
            encoding,
            delimiter: delimiter.into(),
            identifiers: identifiers.iter().map(|s| s.to_string()).collect(),
            columns: mapped
                .iter()
                .map(|(h, s)| {
                    (
                        h.to_string(),
                        ColumnMap {
                            source: Some(s.to_string()),
                            ..Default::default()
                        },
                    )
                })
                .collect(),
            ..Delivery::new("child.csv", Format::Csv)
        }
    }

    /// .sav files found by fuzzing on which the SPSS library panics (`fuzz_overflow.sav`: an addition overflows in
    /// debug builds; `fuzz_empty_slice.sav`, `dh-fuzz run sav` 2026-12-06: a slice range ending at `usize::MAX` in
    /// `ambers` `variable.rs`, since fixed in `vendor/ambers`: a negative variable-label length is now the library's
    /// own error): the delivery fails with a format error naming the file instead of panicking, read whole or in
    /// batches.
    #[test]
    fn a_panic_inside_a_reader_library_is_a_format_error() {
        for name in ["fuzz_overflow.sav", "fuzz_empty_slice.sav"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name);
            let d = Delivery::new(name, Format::Sav);
            match read_delivery(&path, &d) {
                Err(IngestError::Format { file, message, .. }) => {
                    assert_eq!(file, path, "{name}");
                    if name == "fuzz_empty_slice.sav" {
                        assert!(message.contains("label length of -"), "{message}");
                    }
                }
                other => panic!("{name}: expected a format error, got {other:?}"),
            }
            let batches = open_delivery(&path, &d, 2).and_then(|mut b| {
                while b.next_batch()?.is_some() {}
                Ok(())
            });
            assert!(
                matches!(batches, Err(IngestError::Format { .. })),
                "{name} in batches: {batches:?}"
            );
        }
    }

    #[test]
    fn latin1_delivery_drops_identifiers_and_unmapped_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("child.csv");
        std::fs::write(
            &path,
            b"ID;NOMBRE;TEL;REGION;EXTRA\r\n7;Jos\xE9 P\xE9rez;+66 81 555 0101;Nord-\xC9st;x\r\n",
        )
        .unwrap();
        let d = delivery(
            Encoding::LATIN1,
            ";",
            &[("respondent_id", "ID"), ("region", "REGION")],
            &["NOMBRE", "TEL"],
        );
        let t = read_delivery(&path, &d).unwrap();
        assert_eq!(t.column_names().collect::<Vec<_>>(), vec!["ID", "REGION"]);
        assert_eq!(t.column("REGION").unwrap().get(0), Some("Nord-Ést"));
        assert_eq!(t.dropped_columns, vec!["NOMBRE", "TEL", "EXTRA"]);
        let all: String = t.columns.iter().flat_map(|c| c.iter()).collect();
        assert!(
            !all.contains("Pérez") && !all.contains("555"),
            "identifier value leaked: {all}"
        );
    }

    #[test]
    fn utf8_bom_delivery_reads_first_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("child.csv");
        std::fs::write(&path, "\u{FEFF}ID,AGE\n1,13\n".as_bytes()).unwrap();
        let t = read_delivery(
            &path,
            &delivery(Encoding::UTF8_BOM, ",", &[("respondent_id", "ID")], &[]),
        )
        .unwrap();
        assert_eq!(t.column("ID").unwrap().get(0), Some("1"));
    }

    #[test]
    fn missing_file_and_missing_column_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.csv");
        let d = delivery(Encoding::UTF8, ",", &[("age", "AGE")], &[]);
        let err = read_delivery(&path, &d).unwrap_err();
        assert!(matches!(err, IngestError::NotFound { .. }), "{err}");
        std::fs::write(&path, "ID,Q1\n1,2\n").unwrap();
        let err = read_delivery(&path, &d).unwrap_err();
        assert!(
            err.to_string().contains("`AGE`") && err.to_string().contains("`age`"),
            "{err}"
        );
    }

    #[test]
    fn binary_formats_report_missing_files_as_not_found() {
        for format in [Format::Sav, Format::Dta, Format::Xlsx] {
            let mut d = delivery(Encoding::UTF8, ",", &[], &[]);
            d.format = format;
            let err = read_delivery(Path::new("no/such/x.bin"), &d).unwrap_err();
            assert!(matches!(err, IngestError::NotFound { .. }), "{err}");
        }
    }

    /// Fuzz-style: random bytes, random CSV-ish fragments, every encoding and several delimiters never panic, and
    /// when they parse, every column has one cell per row.
    #[test]
    fn garbage_input_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.csv");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let alphabet: &[u8] = b"ab1,;\"\r\n\t \xE9\xEF\xBB\xBF\xFF\x00";
        for case in 0..600 {
            let len = rng.random_range(0..200);
            let bytes: Vec<u8> = if case % 2 == 0 {
                (0..len).map(|_| rng.random()).collect()
            } else {
                (0..len)
                    .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                    .collect()
            };
            std::fs::write(&path, &bytes).unwrap();
            let encoding = [
                Encoding::UTF8,
                Encoding::UTF8_BOM,
                Encoding::LATIN1,
                Encoding::WINDOWS_1252,
                Encoding::from_label("gb18030").unwrap(),
                Encoding::from_label("shift_jis").unwrap(),
                Encoding::from_label("utf-16le").unwrap(),
                Encoding::from_label("utf-16be").unwrap(),
                Encoding::from_label("windows-1256").unwrap(),
            ][case % 9];
            let delim = [",", ";", "\t", "|"][case % 3];
            let mut d = delivery(encoding, delim, &[("a", "a"), ("b", "b")], &[]);
            d.header_row = (case % 3) as u32;
            d.skip_rows = (case % 2) as u32;
            if let Ok(t) = read_delivery(&path, &d) {
                assert!(t.columns.iter().all(|c| c.len() == t.num_rows()));
            }
            let all = ColumnSelection::default();
            if let Ok(t) = readers::csv::parse(&path, &bytes, b',', &all) {
                assert!(t.columns.is_empty());
            }
        }
    }
}
