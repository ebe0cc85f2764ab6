//! CSV deliveries: the delivery's delimiter, encoding (UTF-8, UTF-8 with BOM, Latin-1, Windows-1252) and line
//! ending; minimal quoting (fields holding the delimiter, a quote or a line break are quoted), as most survey
//! software writes it.

use std::path::Path;

use dh_config::Delivery;
use dh_config::country::{Encoding, LineEnding};

use super::FormatWriter;
use super::table::TextTable;
use crate::error::SynthError;

pub struct CsvWriter;

impl FormatWriter for CsvWriter {
    fn write(&self, path: &Path, delivery: &Delivery, table: &TextTable) -> Result<(), SynthError> {
        let bytes = render(path, delivery, table)?;
        std::fs::write(path, bytes).map_err(|e| SynthError::io(path, e))
    }
}

fn render(path: &Path, delivery: &Delivery, table: &TextTable) -> Result<Vec<u8>, SynthError> {
    let ferr = |message: String| SynthError::Format {
        path: path.to_path_buf(),
        format: "CSV",
        message,
    };
    let delimiter = match delivery.delimiter.as_bytes() {
        [d] => *d,
        _ => {
            return Err(ferr(format!(
                "delimiter `{}` is not one byte",
                delivery.delimiter
            )));
        }
    };
    let terminator = match delivery.line_ending {
        LineEnding::Crlf => ::csv::Terminator::CRLF,
        LineEnding::Lf => ::csv::Terminator::Any(b'\n'),
    };
    let rows = table.rows();
    let mut body = Vec::with_capacity(rows * table.columns.len() * 3);
    if delivery.encoding == Encoding::UTF8_BOM {
        body.extend_from_slice(b"\xEF\xBB\xBF");
    }
    {
        let mut w = ::csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(terminator)
            .from_writer(&mut body);
        let encode = |row: u64, column: &str, value: &str| -> Result<Vec<u8>, SynthError> {
            encode(delivery.encoding, value).ok_or_else(|| SynthError::Encoding {
                path: path.to_path_buf(),
                row,
                column: column.to_string(),
                value: value.to_string(),
                encoding: delivery.encoding.name(),
            })
        };
        let header: Vec<Vec<u8>> = table
            .columns
            .iter()
            .map(|c| encode(1, &c.name, &c.name))
            .collect::<Result<_, _>>()?;
        w.write_record(&header).map_err(|e| ferr(e.to_string()))?;
        let utf8 = delivery.encoding.is_utf8();
        let mut record: Vec<Vec<u8>> = vec![Vec::new(); table.columns.len()];
        for row in 0..rows {
            if utf8 {
                let cells = table.columns.iter().map(|c| c.get(row));
                w.write_record(cells).map_err(|e| ferr(e.to_string()))?;
                continue;
            }
            for (out, column) in record.iter_mut().zip(&table.columns) {
                *out = encode(row as u64 + 2, &column.name, column.get(row))?;
            }
            w.write_record(&record).map_err(|e| ferr(e.to_string()))?;
        }
        w.flush().map_err(|e| SynthError::io(path, e))?;
    }
    Ok(body)
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
