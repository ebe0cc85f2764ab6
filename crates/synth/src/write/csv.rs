//! CSV deliveries: the delivery's delimiter, encoding (UTF-8, UTF-8 with BOM, Latin-1, Windows-1252) and line
//! ending; minimal quoting (fields holding the delimiter, a quote or a line break are quoted), as most survey
//! software writes it.

use std::io::Write;
use std::path::Path;

use dh_config::Delivery;
use dh_config::country::{Encoding, LineEnding};

use super::FormatWriter;
use super::table::TextTable;
use crate::error::SynthError;

pub struct CsvWriter;

impl FormatWriter for CsvWriter {
    fn write(&self, path: &Path, delivery: &Delivery, table: &TextTable) -> Result<(), SynthError> {
        let mut body = Vec::with_capacity(table.rows() * table.columns.len() * 3);
        let mut out = CsvOut::new(path, delivery, &mut body)?;
        out.header(table.columns.iter().map(|c| c.name.as_str()))?;
        for row in 0..table.rows() {
            out.row(table.columns.iter().map(|c| c.get(row)))?;
        }
        out.finish()?;
        std::fs::write(path, body).map_err(|e| SynthError::io(path, e))
    }
}

/// A CSV delivery written record by record in the delivery's delimiter, encoding and line ending (the BOM first
/// for `utf-8-bom`): the one CSV writer, used whole ([`CsvWriter`]) and streamed for large files
/// ([`crate::resize`]).
pub(crate) struct CsvOut<'p, W: Write> {
    path: &'p Path,
    encoding: Encoding,
    names: Vec<String>,
    /// Row number in the file of the next record (the header is row 1).
    next_row: u64,
    record: Vec<Vec<u8>>,
    w: ::csv::Writer<W>,
}

impl<'p, W: Write> CsvOut<'p, W> {
    pub(crate) fn new(path: &'p Path, delivery: &Delivery, mut out: W) -> Result<Self, SynthError> {
        let delimiter = match delivery.delimiter.as_bytes() {
            [d] => *d,
            _ => {
                return Err(format_error(
                    path,
                    format!("delimiter `{}` is not one byte", delivery.delimiter),
                ));
            }
        };
        let terminator = match delivery.line_ending {
            LineEnding::Crlf => ::csv::Terminator::CRLF,
            LineEnding::Lf => ::csv::Terminator::Any(b'\n'),
        };
        if delivery.encoding == Encoding::UTF8_BOM {
            out.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| SynthError::io(path, e))?;
        }
        let w = ::csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(terminator)
            .from_writer(out);
        Ok(CsvOut {
            path,
            encoding: delivery.encoding,
            names: Vec::new(),
            next_row: 1,
            record: Vec::new(),
            w,
        })
    }

    /// The header record (the column names, also used to name a column in an encoding error).
    pub(crate) fn header<'a>(
        &mut self,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<(), SynthError> {
        self.names = names.map(str::to_string).collect();
        self.record = vec![Vec::new(); self.names.len()];
        let header: Vec<Vec<u8>> = self
            .names
            .iter()
            .map(|n| self.encode(1, n, n))
            .collect::<Result<_, _>>()?;
        self.next_row = 2;
        self.w
            .write_record(&header)
            .map_err(|e| format_error(self.path, e.to_string()))
    }

    /// One data record, a cell per column of the header.
    pub(crate) fn row<'a>(
        &mut self,
        cells: impl Iterator<Item = &'a str>,
    ) -> Result<(), SynthError> {
        let row = self.next_row;
        self.next_row += 1;
        if self.encoding.is_utf8() {
            return self
                .w
                .write_record(cells)
                .map_err(|e| format_error(self.path, e.to_string()));
        }
        let mut record = std::mem::take(&mut self.record);
        for ((out, cell), name) in record.iter_mut().zip(cells).zip(&self.names) {
            *out = self.encode(row, name, cell)?;
        }
        let written = self
            .w
            .write_record(&record)
            .map_err(|e| format_error(self.path, e.to_string()));
        self.record = record;
        written
    }

    /// Flushes the records and returns the writer.
    pub(crate) fn finish(self) -> Result<W, SynthError> {
        let path = self.path;
        self.w
            .into_inner()
            .map_err(|e| SynthError::io(path, e.into_error()))
    }

    fn encode(&self, row: u64, column: &str, value: &str) -> Result<Vec<u8>, SynthError> {
        encode(self.encoding, value).ok_or_else(|| SynthError::Encoding {
            path: self.path.to_path_buf(),
            row,
            column: column.to_string(),
            value: value.to_string(),
            encoding: self.encoding.name(),
        })
    }
}

fn format_error(path: &Path, message: String) -> SynthError {
    SynthError::Format {
        path: path.to_path_buf(),
        format: "CSV",
        message,
    }
}

/// Encodes `value` for a single-byte encoding (UTF-8 passes through); `None` when a character has no byte.
pub(crate) fn encode(encoding: Encoding, value: &str) -> Option<Vec<u8>> {
    if value.is_ascii() {
        return Some(value.as_bytes().to_vec());
    }
    encode_text(encoding, value)
}

/// Encodes `value` in `encoding` (UTF-16 included); `None` when a character has no representation. Latin-1 is
/// strict: only U+0000-U+00FF.
pub(crate) fn encode_text(encoding: Encoding, value: &str) -> Option<Vec<u8>> {
    let codec = encoding.codec();
    if encoding == Encoding::LATIN1 {
        return value
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect();
    }
    if codec == encoding_rs::UTF_16LE || codec == encoding_rs::UTF_16BE {
        let le = codec == encoding_rs::UTF_16LE;
        return Some(
            value
                .encode_utf16()
                .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
                .collect(),
        );
    }
    let (bytes, _, had_errors) = codec.encode(value);
    (!had_errors).then(|| bytes.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_latin1_and_rejects_what_it_cannot_hold() {
        assert_eq!(encode(Encoding::LATIN1, "Ré"), Some(vec![b'R', 0xE9]));
        assert_eq!(encode(Encoding::LATIN1, "Việt"), None);
        assert_eq!(encode(Encoding::WINDOWS_1252, "€"), Some(vec![0x80]));
        assert_eq!(encode(Encoding::UTF8, "é"), Some("é".as_bytes().to_vec()));
    }
}
