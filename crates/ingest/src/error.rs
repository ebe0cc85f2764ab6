//! Typed ingest errors. Each variant names the file and, where known, the line, column and value, and says what to
//! do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(
        "{file}: file not found; check `file` in the country's [deliveries.<table>] section and the raw directory"
    )]
    NotFound { file: PathBuf },

    #[error(
        "{file}: is a {kind}, not a regular file; dh reads only regular files: put the delivery itself in the raw \
         folder"
    )]
    NotRegular { file: PathBuf, kind: &'static str },

    #[error(
        "{file}: is a symbolic link whose target lies outside the raw folder; copy the delivery into the raw folder \
         (or set DH_ALLOW_LINKS_OUTSIDE_RAW=1 to follow such links)"
    )]
    OutsideRaw { file: PathBuf },

    #[error("{file}: cannot read: {source}")]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{file}: the file is empty (no header row); ask the data provider for a complete delivery"
    )]
    Empty { file: PathBuf },

    #[error(
        "{file}:{line}: not valid {expected} (first invalid byte {bytes} at byte offset {byte_offset}); set `encoding` in the \
         delivery config to the file's real encoding (a WHATWG label: utf-8, utf-8-bom, latin-1, windows-1252, windows-1256, \
         windows-1251, windows-874, iso-8859-6, gb18030, shift_jis, utf-16le, utf-16be, ...) or re-save the file as UTF-8"
    )]
    Encoding {
        file: PathBuf,
        /// 1-based line number of the first invalid byte.
        line: u64,
        byte_offset: u64,
        expected: &'static str,
        /// The offending bytes in hex, e.g. `e9 20`.
        bytes: String,
    },

    #[error(
        "{file}: {message}; set `encoding` in the delivery config or re-save the file as UTF-8"
    )]
    WrongEncoding { file: PathBuf, message: String },

    #[error(
        "{file}: delimiter `{delimiter}` must be exactly one byte (e.g. \",\", \";\", \"\\t\", \"|\")"
    )]
    BadDelimiter { file: PathBuf, delimiter: String },

    #[error(
        "{file}: format `{format}` is not supported yet; deliver CSV or add a reader module for it"
    )]
    UnsupportedFormat { file: PathBuf, format: String },

    #[error(
        "{file}: the delivery config says `format = \"{configured}\"` but the file's extension is that of {found} \
         files; set `format` in the country's [deliveries.<table>] section to the file's real format"
    )]
    FormatMismatch {
        file: PathBuf,
        configured: &'static str,
        found: &'static str,
    },

    #[error(
        "{file}: source column `{column}` (mapped to harmonised column `{harmonised}`) is not in the header (header \
         columns: {header_len}; {hint}); check the spelling in the country config or ask for the column"
    )]
    MissingColumn {
        file: PathBuf,
        column: String,
        harmonised: String,
        header_len: usize,
        /// Where to look, by position and count only: header cells of a file without a header row are data.
        hint: String,
    },

    #[error(
        "{file}: source column `{column}` appears {count} times in the header, so its mapping is ambiguous; rename one"
    )]
    DuplicateColumn {
        file: PathBuf,
        column: String,
        count: usize,
    },

    #[error("{file}:{line}: cannot parse CSV: {message}")]
    Csv {
        file: PathBuf,
        line: u64,
        message: String,
    },

    #[error(
        "{file}: not a readable {format} file: {message}; check `format` in the delivery config or ask the data \
         provider to re-export the file"
    )]
    Format {
        file: PathBuf,
        format: &'static str,
        message: String,
    },

    /// A problem with one cell; the message names the position, never the cell's content (`value` is kept for
    /// callers that need it, e.g. a code of a mapped column, and is not part of the message).
    #[error("{file}: row {row}, column `{column}`: {message}")]
    Cell {
        file: PathBuf,
        /// 1-based data row (the header is not counted).
        row: u64,
        column: String,
        value: String,
        message: String,
    },

    #[error(
        "{file}: worksheet `{sheet}` not found (sheets: {available}); set `sheet` in the delivery config"
    )]
    NoSheet {
        file: PathBuf,
        sheet: String,
        available: String,
    },

    #[error("{file}: column `{column}` holds more than 4 GiB of text; split the delivery")]
    TooLarge { file: PathBuf, column: String },

    #[error(
        "{file}: worksheet `{sheet}`, cell {cell}: {problem}; correct the cell in Excel and save the file, or ask the \
         data provider to re-export it"
    )]
    UnreadableCell {
        file: PathBuf,
        sheet: String,
        /// The cell as Excel names it, e.g. `C7`.
        cell: String,
        /// What is wrong, never the cell's content.
        problem: String,
    },

    #[error(
        "{file}: header_row = {header_row}: {problem}; set `header_row` in the delivery config to the row holding the \
         variable names (1-based: the Excel row number in a workbook, the record number in a CSV file)"
    )]
    HeaderRow {
        file: PathBuf,
        header_row: u32,
        problem: String,
    },
}
