//! A `.sav` written chunk by chunk, for files too large to hold in memory (`dh synth --rows` of large
//! deliveries): the dictionary of the first chunk, then each chunk's data records bytecode-compressed as they come
//! (the same bytecode, bias 100, as SPSS and [`crate::sav::encode`]), and the case count written into the header
//! last. Every chunk is laid out with the first chunk's dictionary (column kinds, string widths, formats, labels),
//! so the first chunk must hold the widest cells of every text column.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ambers::{Compression, SpssMetadata};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::StatfileError;
use crate::model::LabelledTable;
use crate::sav::{batch_and_metadata, write_batch};

const FORMAT: &str = "SPSS .sav";

/// Offset of the case count (`ncases`, i32) in the file header record.
const NCASES_OFFSET: u64 = 80;

/// The open file and the layout of its first chunk.
pub struct SavChunks {
    path: PathBuf,
    out: BufWriter<File>,
    meta: SpssMetadata,
    schema: SchemaRef,
    /// Length of the dictionary of an uncompressed file (where its data records start).
    plain_header: usize,
    encoder: Bytecode,
    rows: u64,
}

impl SavChunks {
    /// Creates `path` and writes the dictionary of `first` (whose rows are not written: pass it to [`Self::push`]).
    pub fn create(path: &Path, first: &LabelledTable) -> Result<Self, StatfileError> {
        let (batch, meta) = batch_and_metadata(first)?;
        let empty = batch.slice(0, 0);
        let mut header = write_batch(&empty, &meta, Compression::Bytecode)?;
        // An empty bytecode file ends with one control block holding only the end-of-file code.
        if header.len() < 8 || header[header.len() - 8..] != [252, 0, 0, 0, 0, 0, 0, 0] {
            return Err(StatfileError::invalid(
                FORMAT,
                "unexpected end of an empty bytecode file",
            ));
        }
        header.truncate(header.len() - 8);
        let plain_header = write_batch(&empty, &meta, Compression::None)?.len();
        let io = |e| StatfileError::io(path, e);
        let file = File::create(path).map_err(io)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&header).map_err(io)?;
        Ok(SavChunks {
            path: path.to_path_buf(),
            out,
            meta,
            schema: batch.schema(),
            plain_header,
            encoder: Bytecode::default(),
            rows: 0,
        })
    }

    /// Appends the rows of `chunk` (same columns and layout as the first chunk).
    pub fn push(&mut self, chunk: &LabelledTable) -> Result<(), StatfileError> {
        let rows = chunk.rows();
        if rows == 0 {
            return Ok(());
        }
        let (batch, _) = batch_and_metadata(chunk)?;
        self.push_batch(&batch, rows)
    }

    fn push_batch(&mut self, batch: &RecordBatch, rows: usize) -> Result<(), StatfileError> {
        if batch.schema() != self.schema {
            return Err(StatfileError::invalid(
                FORMAT,
                "a chunk's columns differ from the first chunk's",
            ));
        }
        let bytes = write_batch(batch, &self.meta, Compression::None)?;
        let data = bytes.get(self.plain_header..).unwrap_or_default();
        if data.is_empty() || data.len() % (8 * rows) != 0 {
            return Err(StatfileError::invalid(
                FORMAT,
                format!(
                    "{} data bytes for {rows} rows: not whole 8-byte slots",
                    data.len()
                ),
            ));
        }
        for slot in data.chunks_exact(8) {
            self.encoder
                .slot(slot, &mut self.out)
                .map_err(|e| StatfileError::io(&self.path, e))?;
        }
        self.rows += rows as u64;
        Ok(())
    }

    /// Ends the data, writes the case count into the header and closes the file. Returns the rows written.
    pub fn finish(mut self) -> Result<u64, StatfileError> {
        let path = self.path.clone();
        let io = |e: std::io::Error| StatfileError::io(&path, e);
        let cases = i32::try_from(self.rows).map_err(|_| {
            StatfileError::invalid(
                FORMAT,
                format!("{} rows: more than a .sav header can count", self.rows),
            )
        })?;
        self.encoder.end(&mut self.out).map_err(io)?;
        let mut file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(NCASES_OFFSET)).map_err(io)?;
        file.write_all(&cases.to_le_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(self.rows)
    }
}

/// SPSS bytecode compression of 8-byte slots: control blocks of eight codes, each followed by the raw slots of
/// its code-253 entries. 255: system-missing; 254: eight spaces; 1-251: an integer value minus the bias 100;
/// 253: raw slot follows; 252: end of data; 0: padding.
#[derive(Default)]
struct Bytecode {
    codes: [u8; 8],
    used: usize,
    raw: Vec<u8>,
}

const BIAS: f64 = 100.0;
const SYSMIS: u64 = 0xFFEF_FFFF_FFFF_FFFF;

impl Bytecode {
    fn slot(&mut self, slot: &[u8], out: &mut impl Write) -> std::io::Result<()> {
        let bytes: [u8; 8] = slot.try_into().unwrap_or([0; 8]);
        let code = Self::code(bytes);
        if code == 253 {
            self.raw.extend_from_slice(&bytes);
        }
        self.codes[self.used] = code;
        self.used += 1;
        if self.used == 8 {
            self.flush(out)?;
        }
        Ok(())
    }

    fn code(bytes: [u8; 8]) -> u8 {
        if u64::from_le_bytes(bytes) == SYSMIS {
            return 255;
        }
        if bytes == [b' '; 8] {
            return 254;
        }
        let value = f64::from_le_bytes(bytes);
        if value.is_finite() && value == value.floor() {
            let biased = value + BIAS;
            if (1.0..=251.0).contains(&biased) {
                let code = biased as u8;
                // Only when the slot comes back bit for bit (not -0.0, not a string that happens to parse).
                if (f64::from(code) - BIAS).to_le_bytes() == bytes {
                    return code;
                }
            }
        }
        253
    }

    fn flush(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&self.codes)?;
        out.write_all(&self.raw)?;
        self.raw.clear();
        self.codes = [0; 8];
        self.used = 0;
        Ok(())
    }

    fn end(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        self.codes[self.used] = 252;
        self.used += 1;
        self.flush(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, Num, Storage, Values};

    fn table(codes: &[Option<f64>], names: &[&str]) -> LabelledTable {
        let cells = codes
            .iter()
            .map(|c| c.map_or(Num::System, Num::Value))
            .collect();
        LabelledTable {
            label: "chunks".into(),
            columns: vec![
                Column::new(
                    "code",
                    Values::Numeric {
                        storage: Storage::Double,
                        cells,
                    },
                ),
                Column::new(
                    "name",
                    Values::Text(names.iter().map(|s| s.to_string()).collect()),
                ),
            ],
            missing: Vec::new(),
        }
    }

    /// Written in two chunks, the file has the bytes of the whole table encoded at once.
    #[test]
    fn chunks_give_the_bytes_of_the_whole_table() {
        let codes = [
            Some(1.0),
            None,
            Some(-3.0),
            Some(2.5),
            Some(1e9),
            Some(0.0),
            Some(151.0),
            Some(7.0),
            Some(-99.0),
        ];
        let names = ["wide name", "a", "", "bb", "c", "d", "e", "f", "g"];
        let whole =
            crate::sav::encode(&table(&codes, &names), crate::SavCompression::Bytecode).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chunks.sav");
        let mut out = SavChunks::create(&path, &table(&codes[..4], &names[..4])).unwrap();
        out.push(&table(&codes[..4], &names[..4])).unwrap();
        out.push(&table(&codes[4..], &names[4..])).unwrap();
        assert_eq!(out.finish().unwrap(), 9);
        assert_eq!(std::fs::read(&path).unwrap(), whole);
    }

    #[test]
    fn bytecode_codes() {
        assert_eq!(Bytecode::code(1.0f64.to_le_bytes()), 101);
        assert_eq!(Bytecode::code((-99.0f64).to_le_bytes()), 1);
        assert_eq!(Bytecode::code(151.0f64.to_le_bytes()), 251);
        assert_eq!(Bytecode::code(152.0f64.to_le_bytes()), 253);
        assert_eq!(Bytecode::code((-0.0f64).to_le_bytes()), 253);
        assert_eq!(Bytecode::code(2.5f64.to_le_bytes()), 253);
        assert_eq!(Bytecode::code(*b"        "), 254);
        assert_eq!(Bytecode::code(SYSMIS.to_le_bytes()), 255);
    }
}
