//! The in-memory result of reading one delivery: [`RawTable`], its text columns ([`RawColumn`]), row-level read
//! problems ([`RowIssue`]), which source columns are kept ([`ColumnSelection`]) and the [`RawTableBuilder`] every
//! reader fills.
//!
//! Only the source columns the country config maps onto a harmonised column are kept; identifiers and unmapped
//! columns are skipped while reading and never stored (their *names* are listed in `dropped_columns`, never their
//! values). Cells are stored column by column as one text buffer plus end offsets, so reading allocates per column,
//! not per cell.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dh_config::Delivery;

use crate::error::IngestError;

/// One source column: all cells as text (exactly as delivered, not trimmed), in row order.
#[derive(Debug, Clone, PartialEq)]
pub struct RawColumn {
    /// Source column name as in the delivery header (surrounding whitespace removed).
    pub name: String,
    text: String,
    /// End offset of each cell in `text`.
    ends: Vec<u32>,
    /// Value labels and declared missing values the file carries for this column (SPSS, Stata); empty for CSV/Excel.
    pub labels: ColumnLabels,
}

/// What a self-describing delivery (SPSS `.sav`, Stata `.dta`) declares about one column's codes. Codes are the
/// canonical text the reader puts in the cells (`1`, not `1.0`; Stata extended missing as `.a`), so a config can
/// match them against its code maps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnLabels {
    /// The variable label (question text) the file gives the column, if any.
    pub variable_label: Option<String>,
    /// (code, label) in the file's order.
    pub value_labels: Vec<(String, String)>,
    /// Codes the file declares as missing (SPSS user-missing values, Stata extended missing `.a`-`.z`).
    pub missing_codes: Vec<String>,
    /// Closed ranges of numeric codes the file declares as missing (SPSS user-missing ranges), as (low, high); a
    /// cell is inside one when it reads as a number between them.
    pub missing_ranges: Vec<(f64, f64)>,
}

impl ColumnLabels {
    pub fn is_empty(&self) -> bool {
        self.variable_label.is_none()
            && self.value_labels.is_empty()
            && self.missing_codes.is_empty()
            && self.missing_ranges.is_empty()
    }

    /// The codes whose value label is `label` (exact match after trimming both), in file order.
    pub fn codes_labelled<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.value_labels
            .iter()
            .filter(move |(_, l)| l.trim() == label.trim())
            .map(|(c, _)| c.as_str())
    }

    /// The value label of `code`, if any.
    pub fn label_of(&self, code: &str) -> Option<&str> {
        self.value_labels
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| l.as_str())
    }

    /// Whether the file declares `code` as missing (a listed code, or a number inside a declared range).
    pub fn is_declared_missing(&self, code: &str) -> bool {
        if self.missing_codes.iter().any(|c| c == code) {
            return true;
        }
        let Ok(x) = code.parse::<f64>() else {
            return false;
        };
        self.missing_ranges
            .iter()
            .any(|&(lo, hi)| lo <= x && x <= hi)
    }
}

/// Most text bytes one column holds: cell ends are `u32` offsets.
const MAX_COLUMN_BYTES: usize = u32::MAX as usize;

impl RawColumn {
    fn new(name: String) -> Self {
        RawColumn {
            name,
            text: String::new(),
            ends: Vec::new(),
            labels: ColumnLabels::default(),
        }
    }

    /// Builds a column from cell values (tests and small readers).
    pub fn from_cells<S: AsRef<str>>(name: &str, cells: &[S]) -> Result<Self, IngestError> {
        let mut col = RawColumn::new(name.to_string());
        for cell in cells {
            col.push(cell.as_ref(), Path::new("<memory>"))?;
        }
        Ok(col)
    }

    /// A column of `rows` cells that all hold `cell` (a column's `constant` value: what a file says once for all
    /// its rows).
    pub fn repeated(name: &str, cell: &str, rows: usize) -> Result<Self, IngestError> {
        let mut col = RawColumn::new(name.to_string());
        col.text.reserve(cell.len().saturating_mul(rows));
        col.ends.reserve(rows);
        for _ in 0..rows {
            col.push(cell, Path::new("<constant>"))?;
        }
        Ok(col)
    }

    fn push(&mut self, cell: &str, file: &Path) -> Result<(), IngestError> {
        self.text.push_str(cell);
        let end = u32::try_from(self.text.len()).map_err(|_| IngestError::TooLarge {
            file: file.to_path_buf(),
            column: self.name.clone(),
        })?;
        self.ends.push(end);
        Ok(())
    }

    /// [`RawColumn::push`] of a cell that keeps the text within [`MAX_COLUMN_BYTES`] (the caller checked).
    #[inline]
    fn push_within_limit(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len() as u32);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The cell of row index `row` (0-based position in the table, not the source row number).
    pub fn get(&self, row: usize) -> Option<&str> {
        let end = *self.ends.get(row)? as usize;
        let start = if row == 0 {
            0
        } else {
            self.ends[row - 1] as usize
        };
        self.text.get(start..end)
    }

    /// Rows `start..end` as a new column (same name and labels). `start <= end <= len()`.
    fn slice(&self, start: usize, end: usize) -> RawColumn {
        let offset = |row: usize| -> usize {
            if row == 0 {
                0
            } else {
                self.ends[row - 1] as usize
            }
        };
        let (from, to) = (offset(start), offset(end));
        RawColumn {
            name: self.name.clone(),
            text: self.text[from..to].to_string(),
            ends: self.ends[start..end]
                .iter()
                .map(|&e| e - from as u32)
                .collect(),
            labels: self.labels.clone(),
        }
    }

    /// Appends the cells of `other` (a later batch of the same column).
    fn append(&mut self, other: &RawColumn, file: &Path) -> Result<(), IngestError> {
        let base = self.text.len();
        let too_large = || IngestError::TooLarge {
            file: file.to_path_buf(),
            column: self.name.clone(),
        };
        let base32 = u32::try_from(base).map_err(|_| too_large())?;
        u32::try_from(base + other.text.len()).map_err(|_| too_large())?;
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|&e| e + base32));
        Ok(())
    }

    /// Appends `ends.len()` cells held in `text` one after the other, `ends[i]` being the end of cell `i` in it
    /// (the layout of a reader's column buffer): one copy of the text, no per-cell work.
    fn append_cells(&mut self, text: &str, ends: &[usize], file: &Path) -> Result<(), IngestError> {
        let too_large = || IngestError::TooLarge {
            file: file.to_path_buf(),
            column: self.name.clone(),
        };
        let used = ends.last().copied().unwrap_or(0);
        let cells = text.get(..used).ok_or_else(too_large)?;
        let base = self.text.len();
        u32::try_from(base + used).map_err(|_| too_large())?;
        self.text.push_str(cells);
        self.ends.extend(ends.iter().map(|&e| (e + base) as u32));
        Ok(())
    }

    /// [`RawColumn::append_cells`] into an empty column, taking `text` (cut to the cells' end) instead of copying it.
    fn take_cells(
        &mut self,
        mut text: String,
        ends: &[usize],
        file: &Path,
    ) -> Result<(), IngestError> {
        let used = ends.last().copied().unwrap_or(0);
        let fits = text.is_char_boundary(used) && used <= text.len();
        if !fits || u32::try_from(used).is_err() {
            return self.append_cells(&text, ends, file);
        }
        text.truncate(used);
        self.text = text;
        self.ends.reserve(ends.len());
        self.ends.extend(ends.iter().map(|&e| e as u32));
        Ok(())
    }

    /// Adds `cells` empty cells.
    fn push_empty(&mut self, cells: usize) {
        let end = self.text.len() as u32;
        self.ends.extend(std::iter::repeat_n(end, cells));
    }

    /// An empty column of the same name and labels, with room for `bytes` of text and `cells` cells.
    fn empty_like(&self, bytes: usize, cells: usize) -> RawColumn {
        RawColumn {
            name: self.name.clone(),
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(cells),
            labels: self.labels.clone(),
        }
    }

    /// All cells in row order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0usize;
        self.ends.iter().map(move |&end| {
            let end = end as usize;
            let cell = self.text.get(start..end).unwrap_or_default();
            start = end;
            cell
        })
    }
}

/// A problem with a whole row found while reading (the row is still returned so that it can be quarantined and
/// counted; nothing is dropped silently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    /// 0-based row index in the table.
    pub row: usize,
    pub kind: RowIssueKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowIssueKind {
    /// The row has a different number of fields than the header. Missing cells were read as empty, extra cells ignored.
    Ragged { expected: usize, found: usize },
}

impl RowIssueKind {
    pub fn describe(&self) -> String {
        match self {
            RowIssueKind::Ragged { expected, found } => {
                format!(
                    "row has {found} fields but the header has {expected}; cells may be shifted"
                )
            }
        }
    }
}

/// All kept cells of one delivery file.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTable {
    /// The path that was read.
    pub file: PathBuf,
    /// Kept source columns (those mapped by the config), in header order.
    pub columns: Vec<RawColumn>,
    /// Source row number of each row: the 1-based index of the data record in the file (the header, the rows above
    /// it and the `skip_rows` after it are not counted, blank lines are not records). For CSV this is the record
    /// index, not the physical line number (quoted fields may span lines); for `.xlsx` it is not the Excel row number
    /// (warnings about cells name those).
    pub row_numbers: Vec<u64>,
    /// Rows that could not be read cleanly; they are kept so that normalisation quarantines them.
    pub row_issues: Vec<RowIssue>,
    /// Names of header columns that were not kept (identifiers and unmapped columns). Names only, never values.
    pub dropped_columns: Vec<String>,
    /// Things the reader noticed that do not stop the read (a format library's warning, a formula without a cached
    /// value), each naming where (sheet and cell, variable) but never a cell's content.
    pub warnings: Vec<String>,
}

impl RawTable {
    pub fn num_rows(&self) -> usize {
        self.row_numbers.len()
    }

    pub fn column(&self, name: &str) -> Option<&RawColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// Rows `start..end` (0-based positions) as a table of their own: same file, columns and dropped columns;
    /// row issues rebased to the slice; the table's warnings only when `with_warnings`. Used to hand out a table
    /// read whole in batches ([`crate::batches`]). Out-of-range positions are clamped.
    pub fn slice(&self, start: usize, end: usize, with_warnings: bool) -> RawTable {
        // bounds are clamped (callers pass positions inside the table)
        let end = end.min(self.num_rows());
        let start = start.min(end);
        RawTable {
            file: self.file.clone(),
            columns: self.columns.iter().map(|c| c.slice(start, end)).collect(),
            row_numbers: self.row_numbers[start..end].to_vec(),
            row_issues: self
                .row_issues
                .iter()
                .filter(|i| (start..end).contains(&i.row))
                .map(|i| RowIssue {
                    row: i.row - start,
                    kind: i.kind.clone(),
                })
                .collect(),
            dropped_columns: self.dropped_columns.clone(),
            warnings: if with_warnings {
                self.warnings.clone()
            } else {
                Vec::new()
            },
        }
    }

    /// Appends `next`, the following batch of the same delivery (see [`crate::batches`]): cells, row numbers,
    /// row issues (moved past this table's rows) and warnings. Columns are matched by position; a batch with
    /// other columns is refused as a format error (a reader that broke the batch contract).
    pub fn append(&mut self, next: RawTable) -> Result<(), IngestError> {
        let same_columns = self.columns.len() == next.columns.len()
            && self
                .columns
                .iter()
                .zip(&next.columns)
                .all(|(a, b)| a.name == b.name);
        if !same_columns {
            return Err(IngestError::Format {
                file: self.file.clone(),
                format: "batch",
                message: "a batch of the file has other columns than the first".to_string(),
            });
        }
        let offset = self.num_rows();
        for (col, more) in self.columns.iter_mut().zip(&next.columns) {
            col.append(more, &self.file)?;
        }
        self.row_numbers.extend_from_slice(&next.row_numbers);
        self.row_issues
            .extend(next.row_issues.into_iter().map(|i| RowIssue {
                row: i.row + offset,
                kind: i.kind,
            }));
        self.warnings.extend(next.warnings);
        Ok(())
    }

    /// Builds a table from row-major cells (tests and small readers). Rows shorter or longer than the header are
    /// recorded as ragged, like a reader would.
    pub fn from_rows<S: AsRef<str>>(
        file: &Path,
        header: &[&str],
        rows: &[Vec<S>],
    ) -> Result<Self, IngestError> {
        let keep = ColumnSelection::all(header.iter().copied());
        let mut builder =
            RawTableBuilder::new(file, header.iter().map(|h| h.to_string()).collect(), &keep)?;
        for (i, row) in rows.iter().enumerate() {
            builder.push_row(i as u64 + 1, row.len(), |k| {
                row.get(k).map(|c| c.as_ref().as_bytes())
            })?;
        }
        Ok(builder.finish())
    }
}

/// Which source columns to keep, with the harmonised column each one feeds (for error messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnSelection {
    /// Source column name -> harmonised column name(s) it is mapped to.
    wanted: BTreeMap<String, Vec<String>>,
    /// Keep every column of the file whatever its name (inspection and tests; never used for a pipeline run,
    /// since it would keep identifiers).
    every: bool,
}

impl ColumnSelection {
    /// The source columns a delivery maps (columns marked `not_collected`, and columns given as a `constant`, have
    /// no source and are not read).
    pub fn for_delivery(delivery: &Delivery) -> Self {
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (harmonised, map) in &delivery.columns {
            if map.not_collected || map.constant.is_some() {
                continue;
            }
            if let Some(source) = &map.source {
                wanted
                    .entry(source.trim().to_string())
                    .or_default()
                    .push(harmonised.clone());
            }
        }
        ColumnSelection {
            wanted,
            every: false,
        }
    }

    /// Keep every column of the file, identifiers included: for inspecting a delivery (tests, tools), never for a
    /// pipeline run.
    pub fn every_column() -> Self {
        ColumnSelection {
            wanted: BTreeMap::new(),
            every: true,
        }
    }

    /// Keep every named column (tests).
    pub fn all<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        ColumnSelection {
            wanted: names
                .map(|n| (n.trim().to_string(), vec![n.trim().to_string()]))
                .collect(),
            every: false,
        }
    }

    pub fn contains(&self, source: &str) -> bool {
        self.every || self.wanted.contains_key(source)
    }

    pub fn sources(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.wanted.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

/// Fills a [`RawTable`] row by row. Readers of every format use it, so column selection, ragged-row handling and
/// header checks behave the same whatever the format.
pub struct RawTableBuilder {
    file: PathBuf,
    header_len: usize,
    /// (field index in the row, output column index).
    kept: Vec<usize>,
    table: RawTable,
}

impl RawTableBuilder {
    /// Checks the header against the selection: every wanted column must appear exactly once.
    pub fn new(
        file: &Path,
        header: Vec<String>,
        keep: &ColumnSelection,
    ) -> Result<Self, IngestError> {
        let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
        for (source, harmonised) in keep.sources() {
            let count = header.iter().filter(|h| h.as_str() == source).count();
            if count == 0 {
                return Err(IngestError::MissingColumn {
                    file: file.to_path_buf(),
                    column: source.to_string(),
                    harmonised: harmonised.join(", "),
                    header_len: header.len(),
                    hint: missing_column_hint(&header, keep, source),
                });
            }
            if count > 1 {
                return Err(IngestError::DuplicateColumn {
                    file: file.to_path_buf(),
                    column: source.to_string(),
                    count,
                });
            }
        }
        let mut kept = Vec::new();
        let mut columns = Vec::new();
        let mut dropped_columns = Vec::new();
        for (i, name) in header.iter().enumerate() {
            if keep.contains(name) {
                kept.push(i);
                columns.push(RawColumn::new(name.clone()));
            } else {
                dropped_columns.push(name.clone());
            }
        }
        Ok(RawTableBuilder {
            file: file.to_path_buf(),
            header_len: header.len(),
            kept,
            table: RawTable {
                file: file.to_path_buf(),
                columns,
                row_numbers: Vec::new(),
                row_issues: Vec::new(),
                dropped_columns,
                warnings: Vec::new(),
            },
        })
    }

    /// Adds one row of `field_count` fields; `field(i)` returns the raw bytes of field `i` (UTF-8 expected).
    /// Only kept fields are looked at.
    pub fn push_row<'a>(
        &mut self,
        row_number: u64,
        field_count: usize,
        field: impl Fn(usize) -> Option<&'a [u8]>,
    ) -> Result<(), IngestError> {
        let row = self.table.row_numbers.len();
        if field_count != self.header_len {
            self.table.row_issues.push(RowIssue {
                row,
                kind: RowIssueKind::Ragged {
                    expected: self.header_len,
                    found: field_count,
                },
            });
        }
        for (col, &idx) in self.table.columns.iter_mut().zip(&self.kept) {
            let bytes = if idx < field_count {
                field(idx).unwrap_or_default()
            } else {
                &[]
            };
            let text = std::str::from_utf8(bytes).map_err(|e| IngestError::Encoding {
                file: self.file.clone(),
                line: row_number,
                byte_offset: e.valid_up_to() as u64,
                expected: "UTF-8 text in a field",
                bytes: hex_bytes(&bytes[e.valid_up_to()..]),
            })?;
            col.push(text, &self.file)?;
        }
        self.table.row_numbers.push(row_number);
        Ok(())
    }

    /// Adds `rows` whole rows column by column, numbered from `first_row_number`: `column(i)` gives the cells of
    /// field `i` of the header as a text buffer and the end of each cell in it (`rows` ends; missing ones read as
    /// empty cells), or `None` for a field the reader did not collect (empty cells). Every row has the header's
    /// width (binary formats have no ragged rows). The same table as [`RawTableBuilder::push_row`] row by row, without the per-cell work.
    pub fn push_columns<'a>(
        &mut self,
        first_row_number: u64,
        rows: usize,
        column: impl Fn(usize) -> Option<(&'a str, &'a [usize])>,
    ) -> Result<(), IngestError> {
        for (col, &idx) in self.table.columns.iter_mut().zip(&self.kept) {
            // a buffer shorter than `rows` reads as empty cells after its end, as `push_row` would read it
            let (text, ends) = column(idx).unwrap_or(("", &[]));
            let ends = ends.get(..rows).unwrap_or(ends);
            col.append_cells(text, ends, &self.file)?;
            col.push_empty(rows - ends.len());
        }
        self.number_rows(first_row_number, rows);
        Ok(())
    }

    /// Row numbers of `rows` rows pushed column by column, from `first_row_number`.
    fn number_rows(&mut self, first_row_number: u64, rows: usize) {
        self.table
            .row_numbers
            .extend((0..rows as u64).map(|r| first_row_number + r));
    }

    /// [`RawTableBuilder::push_columns`] taking the buffers: a kept column still empty takes its buffer's text as
    /// it is (no copy of the text; the ends become `u32`); others append as `push_columns` does. The same table.
    pub fn push_owned_columns(
        &mut self,
        first_row_number: u64,
        rows: usize,
        mut column: impl FnMut(usize) -> Option<(String, Vec<usize>)>,
    ) -> Result<(), IngestError> {
        for (col, &idx) in self.table.columns.iter_mut().zip(&self.kept) {
            let (text, ends) = column(idx).unwrap_or_default();
            let ends = ends.get(..rows).unwrap_or(&ends);
            if col.is_empty() && col.text.is_empty() {
                col.take_cells(text, ends, &self.file)?;
            } else {
                col.append_cells(&text, ends, &self.file)?;
            }
            col.push_empty(rows - ends.len());
        }
        self.number_rows(first_row_number, rows);
        Ok(())
    }

    /// Adds one record parsed from UTF-8 text: `content` holds its fields one after the other and `ends[i]` is
    /// the end of field `i` in it (as a CSV parser writes them). The text is validated once per record, not once
    /// per cell.
    pub fn push_record(
        &mut self,
        row_number: u64,
        content: &[u8],
        ends: &[usize],
    ) -> Result<(), IngestError> {
        let text = std::str::from_utf8(content).map_err(|e| IngestError::Encoding {
            file: self.file.clone(),
            line: row_number,
            byte_offset: e.valid_up_to() as u64,
            expected: "UTF-8 text in a field",
            bytes: hex_bytes(&content[e.valid_up_to()..]),
        })?;
        let row = self.table.row_numbers.len();
        if ends.len() != self.header_len {
            self.table.row_issues.push(RowIssue {
                row,
                kind: RowIssueKind::Ragged {
                    expected: self.header_len,
                    found: ends.len(),
                },
            });
        }
        for (col, &idx) in self.table.columns.iter_mut().zip(&self.kept) {
            let cell = match ends.get(idx) {
                Some(&end) => {
                    let start = if idx == 0 { 0 } else { ends[idx - 1] };
                    text.get(start..end).unwrap_or_default()
                }
                None => "",
            };
            // A cell no longer than the record cannot take the column past `u32` offsets when the record fits
            // after the column's text: then the offset is not checked cell by cell.
            if col.text.len() + content.len() <= MAX_COLUMN_BYTES {
                col.push_within_limit(cell);
            } else {
                col.push(cell, &self.file)?;
            }
        }
        self.table.row_numbers.push(row_number);
        Ok(())
    }

    /// Reserves room for `more` rows after the rows added so far, each column's text sized at its mean cell so
    /// far (so that a large batch does not grow by repeated doubling and copying).
    pub fn reserve_rows(&mut self, more: usize) {
        let rows = self.table.row_numbers.len().max(1);
        for col in &mut self.table.columns {
            col.text.reserve(col.text.len() / rows * more + more);
            col.ends.reserve(more);
        }
        self.table.row_numbers.reserve(more);
    }

    /// Rows added so far (since the last [`RawTableBuilder::take_batch`]).
    pub fn rows(&self) -> usize {
        self.table.row_numbers.len()
    }

    /// Rows the builder has room for without growing (tests of the readers' reservations).
    #[cfg(test)]
    pub(crate) fn reserved_rows(&self) -> usize {
        self.table.row_numbers.capacity()
    }

    /// The rows and warnings added since the last call, as a table; the builder goes on with the same columns
    /// (names, labels) and no rows. Room for the next batch is reserved as the size of this one.
    pub fn take_batch(&mut self) -> RawTable {
        self.take_reserving(true)
    }

    /// The rows and warnings added since the last call, as a table, like [`RawTableBuilder::take_batch`] but
    /// without reserving room for the next batch (a reader that reserves when the next batch begins).
    pub fn take_rows(&mut self) -> RawTable {
        self.take_reserving(false)
    }

    fn take_reserving(&mut self, reserve: bool) -> RawTable {
        let room = |n: usize| if reserve { n } else { 0 };
        let next = RawTable {
            file: self.table.file.clone(),
            columns: self
                .table
                .columns
                .iter()
                .map(|c| c.empty_like(room(c.text.len()), room(c.ends.len())))
                .collect(),
            row_numbers: Vec::with_capacity(room(self.table.row_numbers.len())),
            row_issues: Vec::new(),
            dropped_columns: self.table.dropped_columns.clone(),
            warnings: Vec::new(),
        };
        std::mem::replace(&mut self.table, next)
    }

    /// Attaches the value labels and declared missing values of a kept source column (ignored for dropped columns,
    /// so nothing about identifiers is stored).
    pub fn set_labels(&mut self, source: &str, labels: ColumnLabels) {
        if let Some(col) = self
            .table
            .columns
            .iter_mut()
            .find(|c| c.name == source.trim())
        {
            col.labels = labels;
        }
    }

    /// Records a warning (see [`RawTable::warnings`]); it must name places, never cell contents. Capped like every
    /// message ([`crate::message::cap`]): warnings go to the manifest and the report.
    pub fn warn(&mut self, message: impl Into<String>) {
        self.table.warnings.push(crate::message::cap(message));
    }

    /// Whether the source column is kept (readers skip decoding columns that are not).
    pub fn keeps(&self, field_index: usize) -> bool {
        self.kept.contains(&field_index)
    }

    pub fn finish(self) -> RawTable {
        self.table
    }
}

/// What a missing-column error says about the header, by position and count only (never a header cell: in a file
/// without a header row they are a respondent's data, and unmapped columns may be identifiers).
fn missing_column_hint(header: &[String], keep: &ColumnSelection, source: &str) -> String {
    let wanted = keep.sources().count();
    let found = keep
        .sources()
        .filter(|(s, _)| header.iter().any(|h| h == s))
        .count();
    let folded = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let near: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| folded(h) == folded(source))
        .map(|(i, _)| (i + 1).to_string())
        .take(3)
        .collect();
    if !near.is_empty() {
        format!(
            "header position {} holds the name in other case or spacing",
            near.join(", ")
        )
    } else if found == 0 {
        format!(
            "none of the {wanted} mapped source columns is in it: the file may have no header row, or \
             `header_row` points at another row"
        )
    } else {
        format!("{found} of the {wanted} mapped source columns were found")
    }
}

/// The first byte that cannot be decoded, in hex, for error messages: enough to tell a code page (`e9` is Latin-1
/// `é`), never a run of a cell's bytes that could spell part of a name.
pub(crate) fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .first()
        .map(|b| format!("{b:02x}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_get_and_iter_agree() {
        let col = RawColumn::from_cells("q", &["1", "", "héllo", "22"]).unwrap();
        assert_eq!(col.len(), 4);
        assert_eq!(col.get(0), Some("1"));
        assert_eq!(col.get(1), Some(""));
        assert_eq!(col.get(2), Some("héllo"));
        assert_eq!(col.get(4), None);
        assert_eq!(col.iter().collect::<Vec<_>>(), vec!["1", "", "héllo", "22"]);
    }

    #[test]
    fn a_repeated_column_holds_its_cell_in_every_row_and_constants_are_not_read() {
        let col = RawColumn::repeated("org", "Childline", 3).unwrap();
        assert_eq!(col.iter().collect::<Vec<_>>(), vec!["Childline"; 3]);
        assert!(RawColumn::repeated("org", "x", 0).unwrap().is_empty());
        let mut d = Delivery::new("f.csv", dh_config::country::Format::Csv);
        for (name, map) in [
            (
                "a",
                dh_config::ColumnMap {
                    source: Some("A".into()),
                    ..Default::default()
                },
            ),
            (
                "b",
                dh_config::ColumnMap {
                    constant: Some("B".into()),
                    ..Default::default()
                },
            ),
        ] {
            d.columns.insert(name.into(), map);
        }
        let keep = ColumnSelection::for_delivery(&d);
        assert!(keep.contains("A") && !keep.contains("B"));
    }

    #[test]
    fn columns_pushed_whole_give_the_table_of_rows_pushed_one_by_one() {
        let keep = ColumnSelection::all(["id", "age", "sex", "note"].into_iter());
        let header: Vec<String> = ["id", "name", "age", "sex", "note"]
            .map(String::from)
            .into();
        // column buffers as a reader keeps them: text and cell ends; `note` is short by one cell, `sex` absent
        let id = ("1023", vec![1, 2, 4]);
        let age = ("1314é15", vec![2, 4, 8]);
        let note = ("x", vec![1]);
        let columns = |i: usize| -> Option<(&str, &[usize])> {
            match i {
                0 => Some((id.0, &id.1)),
                2 => Some((age.0, &age.1)),
                4 => Some((note.0, &note.1)),
                _ => None,
            }
        };
        let file = Path::new("f.sav");
        let mut whole = RawTableBuilder::new(file, header.clone(), &keep).unwrap();
        whole.push_columns(5, 3, columns).unwrap();
        whole.push_columns(8, 3, columns).unwrap();
        let mut by_row = RawTableBuilder::new(file, header, &keep).unwrap();
        for first in [5, 8] {
            for row in 0..3usize {
                by_row
                    .push_row(first + row as u64, 5, |i| {
                        let (text, ends) = columns(i)?;
                        let end = ends.get(row).copied().unwrap_or(0);
                        let start = if row == 0 {
                            0
                        } else {
                            ends.get(row - 1).copied().unwrap_or(0)
                        };
                        Some(text.get(start..end).unwrap_or_default().as_bytes())
                    })
                    .unwrap();
            }
        }
        let (whole, by_row) = (whole.finish(), by_row.finish());
        assert_eq!(whole, by_row);
        assert_eq!(
            whole.column("age").unwrap().iter().collect::<Vec<_>>(),
            vec!["13", "14", "é15", "13", "14", "é15"]
        );
        assert_eq!(
            whole.column("note").unwrap().iter().collect::<Vec<_>>(),
            vec!["x", "", "", "x", "", ""]
        );
        assert_eq!(whole.row_numbers, vec![5, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn owned_buffers_give_the_table_of_borrowed_ones() {
        let keep = ColumnSelection::all(["id", "age", "sex", "note"].into_iter());
        let header: Vec<String> = ["id", "name", "age", "sex", "note"]
            .map(String::from)
            .into();
        // `age` holds one cell more than the rows pushed, `note` one fewer, `sex` is absent
        let buffers = || -> Vec<Option<(String, Vec<usize>)>> {
            vec![
                Some(("1023".into(), vec![1, 2, 4])),
                None,
                Some(("1314é15x".into(), vec![2, 4, 7, 8])),
                None,
                Some(("ab".into(), vec![2, 2])),
            ]
        };
        let file = Path::new("f.dta");
        let mut borrowed = RawTableBuilder::new(file, header.clone(), &keep).unwrap();
        let mut owned = RawTableBuilder::new(file, header, &keep).unwrap();
        for first in [1, 4] {
            let held = buffers();
            borrowed
                .push_columns(first, 3, |i| {
                    held[i].as_ref().map(|(t, e)| (t.as_str(), e.as_slice()))
                })
                .unwrap();
            let mut held = buffers();
            owned
                .push_owned_columns(first, 3, |i| held[i].take())
                .unwrap();
        }
        let (borrowed, owned) = (borrowed.finish(), owned.finish());
        assert_eq!(owned, borrowed);
        assert_eq!(
            owned.column("age").unwrap().iter().collect::<Vec<_>>(),
            vec!["13", "14", "é1", "13", "14", "é1"]
        );
        assert_eq!(
            owned.column("note").unwrap().iter().collect::<Vec<_>>(),
            vec!["ab", "", "", "ab", "", ""]
        );
        assert_eq!(owned.column("age").unwrap().text, "1314é11314é1");
    }

    #[test]
    fn records_give_the_table_of_rows_pushed_field_by_field() {
        let keep = ColumnSelection::all(["id", "age", "note"].into_iter());
        let header: Vec<String> = ["id", "name", "age", "note"].map(String::from).into();
        let rows: Vec<Vec<&str>> = vec![
            vec!["1", "Ann", "13", "é x"],
            vec!["2", "Bo"],
            vec!["", "", "", "", "extra"],
            vec!["40", "Cy", " 15 ", ""],
        ];
        let file = Path::new("f.csv");
        let mut by_record = RawTableBuilder::new(file, header.clone(), &keep).unwrap();
        let mut by_field = RawTableBuilder::new(file, header, &keep).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let content: String = row.concat();
            let ends: Vec<usize> = row
                .iter()
                .scan(0, |end, cell| {
                    *end += cell.len();
                    Some(*end)
                })
                .collect();
            by_record
                .push_record(i as u64 + 2, content.as_bytes(), &ends)
                .unwrap();
            by_field
                .push_row(i as u64 + 2, row.len(), |k| {
                    row.get(k).map(|c| c.as_bytes())
                })
                .unwrap();
        }
        let (a, b) = (by_record.finish(), by_field.finish());
        assert_eq!(a, b);
        assert_eq!(
            a.column("note").unwrap().iter().collect::<Vec<_>>(),
            vec!["é x", "", "", ""]
        );
    }

    #[test]
    fn builder_keeps_only_selected_columns_and_records_ragged_rows() {
        let keep = ColumnSelection::all(["id", "age"].into_iter());
        let header = vec!["id".to_string(), " name ".to_string(), "age".to_string()];
        let mut b = RawTableBuilder::new(Path::new("f.csv"), header, &keep).unwrap();
        let rows: Vec<Vec<&[u8]>> = vec![vec![b"1", b"Ann", b"13"], vec![b"2", b"Bo"]];
        for (i, r) in rows.iter().enumerate() {
            b.push_row(i as u64 + 1, r.len(), |k| r.get(k).copied())
                .unwrap();
        }
        let t = b.finish();
        assert_eq!(t.column_names().collect::<Vec<_>>(), vec!["id", "age"]);
        assert_eq!(t.dropped_columns, vec!["name"]);
        assert_eq!(
            t.column("age").unwrap().iter().collect::<Vec<_>>(),
            vec!["13", ""]
        );
        assert_eq!(
            t.row_issues,
            vec![RowIssue {
                row: 1,
                kind: RowIssueKind::Ragged {
                    expected: 3,
                    found: 2
                }
            }]
        );
        assert_eq!(t.row_numbers, vec![1, 2]);
    }

    #[test]
    fn warnings_are_capped() {
        let keep = ColumnSelection::all(["id"].into_iter());
        let mut b = RawTableBuilder::new(Path::new("f.csv"), vec!["id".into()], &keep).unwrap();
        b.warn("x".repeat(1_000_000));
        let t = b.finish();
        assert!(t.warnings[0].len() < crate::message::MAX_MESSAGE_CHARS + 60);
    }

    #[test]
    fn builder_rejects_missing_and_duplicate_columns() {
        let keep = ColumnSelection::all(["id"].into_iter());
        let err = RawTableBuilder::new(Path::new("f.csv"), vec!["x".into()], &keep)
            .err()
            .unwrap();
        assert!(
            matches!(err, IngestError::MissingColumn { ref column, .. } if column == "id"),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains("none of the 1 mapped"), "{text}");
        let keep2 = ColumnSelection::all(["id", "age"].into_iter());
        let err = RawTableBuilder::new(
            Path::new("f.csv"),
            vec![
                "Jo Smith".into(),
                "0812345678".into(),
                " A ge ".into(),
                "id".into(),
            ],
            &keep2,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("header columns: 4; header position 3 holds the name")
                && !err.contains("Smith")
                && !err.contains("0812"),
            "{err}"
        );
        let err = RawTableBuilder::new(Path::new("f.csv"), vec!["id".into(), "id".into()], &keep)
            .err()
            .unwrap();
        assert!(
            matches!(err, IngestError::DuplicateColumn { count: 2, .. }),
            "{err}"
        );
    }
}
