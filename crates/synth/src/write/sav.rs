//! SPSS `.sav` deliveries: the [`TextTable`] as a [`dh_statfile::LabelledTable`], written by the workspace's one
//! `.sav` writer ([`dh_statfile::sav`], bytecode-compressed, UTF-8, as current SPSS versions save by default).
//!
//! Numeric columns (every cell a plain decimal number) become numeric variables (`F<w>.<d>`, empty cells
//! system-missing); other columns string variables `A<w>` (w = longest cell in bytes). Numeric coded columns carry
//! their value labels and declare the missing codes of the mapping as user-missing: up to three discrete values,
//! or, when there are more, one range over them if no category code falls inside it (plus no discrete value),
//! else the three smallest.

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

/// A `.sav` written chunk by chunk, for files too large to hold in memory ([`crate::resize`]): each chunk as a
/// labelled table with the column kinds of the first, written by the workspace's chunked `.sav` writer
/// ([`dh_statfile::sav_chunks`]). The first chunk must hold the widest cells of every text column.
pub struct SavChunks {
    path: PathBuf,
    numeric: Vec<bool>,
    inner: dh_statfile::sav_chunks::SavChunks,
}

impl SavChunks {
    /// Creates `path` and writes the dictionary of `first` (which is not written yet: pass it to [`Self::push`]).
    pub fn create(path: &Path, first: &TextTable) -> Result<Self, SynthError> {
        let numeric: Vec<bool> = first.columns.iter().map(TextColumn::is_numeric).collect();
        let inner = dh_statfile::sav_chunks::SavChunks::create(path, &model_with(first, &numeric))
            .map_err(|e| statfile_error(path, e))?;
        Ok(SavChunks {
            path: path.to_path_buf(),
            numeric,
            inner,
        })
    }

    /// Appends the rows of `chunk` (same columns as the first chunk).
    pub fn push(&mut self, chunk: &TextTable) -> Result<(), SynthError> {
        self.inner
            .push(&model_with(chunk, &self.numeric))
            .map_err(|e| statfile_error(&self.path, e))
    }

    /// Ends the data, writes the case count into the header and closes the file.
    pub fn finish(self) -> Result<u64, SynthError> {
        let path = self.path;
        self.inner.finish().map_err(|e| statfile_error(&path, e))
    }
}

fn statfile_error(path: &Path, e: dh_statfile::StatfileError) -> SynthError {
    match e {
        dh_statfile::StatfileError::Io { path, source } => SynthError::io(path, source),
        other => SynthError::Format {
            path: path.to_path_buf(),
            format: FORMAT,
            message: other.to_string(),
        },
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
