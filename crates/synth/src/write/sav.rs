//! SPSS `.sav` deliveries: the [`TextTable`] as a [`dh_statfile::LabelledTable`], written by the workspace's one
//! `.sav` writer ([`dh_statfile::sav`], bytecode-compressed, UTF-8, as current SPSS versions save by default).
//!
//! Numeric columns (every cell a plain decimal number) become numeric variables (`F<w>.<d>`, empty cells
//! system-missing); other columns string variables `A<w>` (w = longest cell in bytes). Numeric coded columns carry
//! their value labels and declare the missing codes of the mapping as user-missing: up to three discrete values,
//! or, when there are more, one range over them if no category code falls inside it (plus no discrete value),
//! else the three smallest.

use std::fs::File;
use std::io::{BufWriter, Cursor, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use dh_config::Delivery;
use dh_statfile::{
    Column, LabelledTable, Num, SavCompression, Storage, UserMissing, ValueKey, Values,
};

use super::FormatWriter;
use super::table::{TextColumn, TextTable};
use crate::error::SynthError;

pub struct SavWriter;

const FORMAT: &str = "SPSS .sav";

impl FormatWriter for SavWriter {
    fn write(
        &self,
        path: &Path,
        _delivery: &Delivery,
        table: &TextTable,
    ) -> Result<(), SynthError> {
        let ferr = |message: String| SynthError::Format {
            path: path.to_path_buf(),
            format: FORMAT,
            message,
        };
        let bytes = dh_statfile::sav::encode(&model(table), SavCompression::Bytecode)
            .map_err(|e| ferr(e.to_string()))?;
        std::fs::write(path, bytes).map_err(|e| SynthError::io(path, e))
    }
}

/// The delivery as a labelled table.
pub fn model(table: &TextTable) -> LabelledTable {
    let numeric: Vec<bool> = table.columns.iter().map(TextColumn::is_numeric).collect();
    model_with(table, &numeric)
}

/// The delivery as a labelled table, with the kind of each column given (`true`: numeric).
fn model_with(table: &TextTable, numeric: &[bool]) -> LabelledTable {
    LabelledTable {
        label: "Disrupting Harm synthetic delivery".to_string(),
        columns: table
            .columns
            .iter()
            .zip(numeric)
            .map(|(c, n)| column(c, *n))
            .collect(),
        missing: Vec::new(),
    }
}

fn column(text: &TextColumn, numeric: bool) -> Column {
    if !numeric {
        let mut column = Column::new(
            text.name.clone(),
            Values::Text(text.iter().map(str::to_string).collect()),
        );
        column.label = text.variable_label.clone();
        return column;
    }
    let cells = text
        .iter()
        .map(|c| match c.parse::<f64>() {
            Ok(v) if !c.is_empty() => Num::Value(v),
            _ => Num::System,
        })
        .collect();
    let mut column = Column::new(
        text.name.clone(),
        Values::Numeric {
            storage: Storage::Double,
            cells,
        },
    );
    column.label = text.variable_label.clone();
    let decimals = text
        .iter()
        .filter_map(|c| c.split_once('.').map(|(_, f)| f.len()))
        .max()
        .unwrap_or(0)
        .min(16);
    let int_width = text.iter().map(str::len).max().unwrap_or(1).max(1);
    let width = (int_width + 1).clamp(decimals + 2, 40);
    column.spss_format = Some(format!("F{width}.{decimals}"));
    column.spss_display_width = Some(width as u32);
    column.value_labels = text
        .value_labels
        .iter()
        .filter_map(|(code, label)| {
            code.parse::<f64>()
                .ok()
                .map(|x| (ValueKey::Code(x), label.clone()))
        })
        .collect();
    if !column.value_labels.is_empty() {
        column.user_missing = user_missing(text);
    }
    column
}

/// A `.sav` written chunk by chunk, for files too large to hold in memory ([`crate::resize`]). Every chunk is
/// laid out with the dictionary of the first (column kinds, string widths, formats and labels), so the first
/// chunk must hold the widest cells of every text column. The dictionary is the one [`SavWriter`] writes; the
/// data records are taken from the uncompressed layout of each chunk and bytecode-compressed here as they come
/// (the same bytecode, bias 100, as SPSS and [`SavWriter`]), and the case count is written into the header last.
pub struct SavChunks {
    path: PathBuf,
    out: BufWriter<File>,
    numeric: Vec<bool>,
    meta: ambers::SpssMetadata,
    schema: arrow::datatypes::SchemaRef,
    /// Length of the dictionary of an uncompressed file (where its data records start).
    plain_header: usize,
    encoder: Bytecode,
    rows: u64,
}

/// Offset of the case count (`ncases`, i32) in the file header record.
const NCASES_OFFSET: u64 = 80;

impl SavChunks {
    /// Creates `path` and writes the dictionary of `first` (which is not written yet: pass it to [`Self::push`]).
    pub fn create(path: &Path, first: &TextTable) -> Result<Self, SynthError> {
        let ferr = |message: String| SynthError::Format {
            path: path.to_path_buf(),
            format: FORMAT,
            message,
        };
        let numeric: Vec<bool> = first.columns.iter().map(TextColumn::is_numeric).collect();
        let (batch, meta) = dh_statfile::sav::batch_and_metadata(&model_with(first, &numeric))
            .map_err(|e| ferr(e.to_string()))?;
        let empty = batch.slice(0, 0);
        let mut header = sav_bytes(&empty, &meta, ambers::Compression::Bytecode).map_err(&ferr)?;
        // An empty bytecode file ends with one control block holding only the end-of-file code.
        if header.len() < 8 || header[header.len() - 8..] != [252, 0, 0, 0, 0, 0, 0, 0] {
            return Err(ferr("unexpected end of an empty bytecode file".into()));
        }
        header.truncate(header.len() - 8);
        let plain_header = sav_bytes(&empty, &meta, ambers::Compression::None)
            .map_err(&ferr)?
            .len();
        let file = File::create(path).map_err(|e| SynthError::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&header)
            .map_err(|e| SynthError::io(path, e))?;
        Ok(SavChunks {
            path: path.to_path_buf(),
            out,
            numeric,
            meta,
            schema: batch.schema(),
            plain_header,
            encoder: Bytecode::default(),
            rows: 0,
        })
    }

    /// Appends the rows of `chunk` (same columns as the first chunk).
    pub fn push(&mut self, chunk: &TextTable) -> Result<(), SynthError> {
        let rows = chunk.rows();
        if rows == 0 {
            return Ok(());
        }
        let path = self.path.clone();
        let ferr = |message: String| SynthError::Format {
            path: path.clone(),
            format: FORMAT,
            message,
        };
        let (batch, _) = dh_statfile::sav::batch_and_metadata(&model_with(chunk, &self.numeric))
            .map_err(|e| ferr(e.to_string()))?;
        if batch.schema() != self.schema {
            return Err(ferr(
                "a chunk's columns differ from the first chunk's".into(),
            ));
        }
        let bytes = sav_bytes(&batch, &self.meta, ambers::Compression::None).map_err(&ferr)?;
        let data = bytes.get(self.plain_header..).unwrap_or_default();
        if data.is_empty() || data.len() % (8 * rows) != 0 {
            return Err(ferr(format!(
                "{} data bytes for {rows} rows: not whole 8-byte slots",
                data.len()
            )));
        }
        for slot in data.chunks_exact(8) {
            self.encoder
                .slot(slot, &mut self.out)
                .map_err(|e| SynthError::io(&path, e))?;
        }
        self.rows += rows as u64;
        Ok(())
    }

    /// Ends the data, writes the case count into the header and closes the file.
    pub fn finish(mut self) -> Result<u64, SynthError> {
        let path = self.path.clone();
        let io = |e: std::io::Error| SynthError::io(&path, e);
        let cases = i32::try_from(self.rows).map_err(|_| SynthError::Format {
            path: path.clone(),
            format: FORMAT,
            message: format!("{} rows: more than a .sav header can count", self.rows),
        })?;
        self.encoder.end(&mut self.out).map_err(io)?;
        let mut file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(NCASES_OFFSET)).map_err(io)?;
        file.write_all(&cases.to_le_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(self.rows)
    }
}

fn sav_bytes(
    batch: &arrow::record_batch::RecordBatch,
    meta: &ambers::SpssMetadata,
    compression: ambers::Compression,
) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    ambers::write_sav_to_writer(&mut out, batch, meta, compression, None)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
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

/// User-missing declaration for a column's missing codes (see the module documentation).
fn user_missing(column: &TextColumn) -> UserMissing {
    let mut codes: Vec<f64> = column
        .missing_codes
        .iter()
        .filter_map(|c| c.parse::<f64>().ok())
        .collect();
    codes.sort_by(f64::total_cmp);
    codes.dedup();
    if codes.is_empty() {
        return UserMissing::None;
    }
    if codes.len() <= 3 {
        return UserMissing::Discrete(codes);
    }
    let (lo, hi) = (codes[0], codes[codes.len() - 1]);
    let category_inside = column.value_labels.iter().any(|(code, _)| {
        code.parse::<f64>()
            .is_ok_and(|x| lo <= x && x <= hi && !codes.contains(&x))
    });
    if category_inside {
        codes.truncate(3);
        UserMissing::Discrete(codes)
    } else {
        UserMissing::Range { lo, hi }
    }
}
