//! The CSV deliveries DuckDB converts in `dh bench run`, read as the country configuration says (through
//! `dh-config`: file, delimiter, encoding, header row, rows to skip), and how DuckDB's `read_csv` is told the
//! same: UTF-8 files as they are; Latin-1 and windows-1252 files with `encoding='latin-1'` (DuckDB decodes them
//! itself, as dh does; the two differ only in bytes 0x80-0x9F, which decode to other characters at the same
//! cost); any other encoding, and a file with `skip_rows`, which `read_csv` cannot express, is first transcoded
//! to a UTF-8 copy without those rows, outside the timed part (and listed as such).

use std::path::{Path, PathBuf};

use dh_config::CountryConfig;
use dh_config::country::{Encoding, Format};

use crate::error::BenchError;

/// One CSV delivery as DuckDB reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvInput {
    pub iso3: String,
    pub table: String,
    /// The file DuckDB reads (the delivery, or its UTF-8 copy).
    pub path: PathBuf,
    pub delimiter: char,
    /// `read_csv` encoding option (`utf-8` or `latin-1`).
    pub encoding: &'static str,
    /// Lines before the header (`header_row - 1`).
    pub skip: u32,
    /// Transcoded to UTF-8 before timing (from this encoding).
    pub transcoded_from: Option<String>,
}

/// How DuckDB is told a delivery's encoding.
fn duckdb_encoding(encoding: Encoding) -> Option<&'static str> {
    if encoding.is_utf8() {
        Some("utf-8")
    } else if encoding == Encoding::LATIN1 || encoding == Encoding::WINDOWS_1252 {
        Some("latin-1")
    } else {
        None
    }
}

/// Every delivered CSV table of `configs` under `raw/<ISO3>/`, in country and table order; files that need a
/// UTF-8 copy get it in `prepared/`.
pub fn csv_inputs(
    configs: &[CountryConfig],
    raw: &Path,
    prepared: &Path,
) -> Result<Vec<CsvInput>, BenchError> {
    let mut out = Vec::new();
    for config in configs {
        let iso3 = &config.country.iso3;
        for (table, delivery) in &config.deliveries {
            if !delivery.delivered || delivery.format != Format::Csv {
                continue;
            }
            let delimiter = delivery.delimiter.chars().next().unwrap_or(',');
            let path = raw.join(iso3).join(&delivery.file);
            let skip = delivery.header_row.saturating_sub(1);
            let input = match duckdb_encoding(delivery.encoding) {
                Some(encoding) if delivery.skip_rows == 0 => CsvInput {
                    iso3: iso3.clone(),
                    table: table.clone(),
                    path,
                    delimiter,
                    encoding,
                    skip,
                    transcoded_from: None,
                },
                _ => {
                    std::fs::create_dir_all(prepared).map_err(|e| BenchError::io(prepared, e))?;
                    let copy = prepared.join(format!("{iso3}_{table}.csv"));
                    transcode(
                        &path,
                        &copy,
                        delivery.encoding,
                        delivery.header_row,
                        delivery.skip_rows,
                    )?;
                    CsvInput {
                        iso3: iso3.clone(),
                        table: table.clone(),
                        path: copy,
                        delimiter,
                        encoding: "utf-8",
                        skip: 0,
                        transcoded_from: Some(delivery.encoding.name()),
                    }
                }
            };
            out.push(input);
        }
    }
    Ok(out)
}

/// A UTF-8 copy of `from`: the header line (line `header_row`) and the data after `skip_rows` further lines.
/// Lines are split at line feeds (the synthetic deliveries quote no line breaks).
fn transcode(
    from: &Path,
    to: &Path,
    encoding: Encoding,
    header_row: u32,
    skip_rows: u32,
) -> Result<(), BenchError> {
    let bytes = std::fs::read(from).map_err(|e| BenchError::io(from, e))?;
    let (text, _, _) = encoding.codec().decode(&bytes);
    let header = header_row.max(1) as usize - 1;
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i < header || (i > header && i <= header + skip_rows as usize) {
            continue;
        }
        out.push_str(line);
    }
    std::fs::write(to, out).map_err(|e| BenchError::io(to, e))
}

/// SQL string literal.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl CsvInput {
    /// The `read_csv(...)` call of this file.
    pub fn read_csv(&self) -> String {
        format!(
            "read_csv({}, delim={}, header=true, skip={}, encoding={})",
            quote(&self.path.to_string_lossy()),
            quote(&self.delimiter.to_string()),
            self.skip,
            quote(self.encoding)
        )
    }

    /// `COPY (SELECT * FROM read_csv(...)) TO '<dir>/<ISO3>_<table>.parquet' (FORMAT parquet)`.
    pub fn copy_statement(&self, dir: &Path) -> String {
        let target = dir.join(format!("{}_{}.parquet", self.iso3, self.table));
        format!(
            "COPY (SELECT * FROM {}) TO {} (FORMAT parquet)",
            self.read_csv(),
            quote(&target.to_string_lossy())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_quote_paths_and_name_the_options() {
        let input = CsvInput {
            iso3: "MOZ".into(),
            table: "child_survey".into(),
            path: PathBuf::from("/w/raw/MOZ/it's.csv"),
            delimiter: ';',
            encoding: "latin-1",
            skip: 0,
            transcoded_from: None,
        };
        assert_eq!(
            input.copy_statement(Path::new("/w/duckdb")),
            "COPY (SELECT * FROM read_csv('/w/raw/MOZ/it''s.csv', delim=';', header=true, skip=0, \
             encoding='latin-1')) TO '/w/duckdb/MOZ_child_survey.parquet' (FORMAT parquet)"
        );
    }

    #[test]
    fn encodings_duckdb_reads_itself_and_the_others() {
        assert_eq!(duckdb_encoding(Encoding::UTF8_BOM), Some("utf-8"));
        assert_eq!(duckdb_encoding(Encoding::WINDOWS_1252), Some("latin-1"));
        assert_eq!(
            duckdb_encoding(Encoding::from_label("windows-1256").unwrap()),
            None
        );
    }

    #[test]
    fn a_transcoded_copy_is_utf8_without_the_rows_before_and_after_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("in.csv");
        let to = dir.path().join("out.csv");
        // windows-1256: 0xC7 is Arabic alef.
        std::fs::write(&from, b"title\r\nid;name\r\nlabels\r\n1;\xC7\r\n").unwrap();
        let enc = Encoding::from_label("windows-1256").unwrap();
        transcode(&from, &to, enc, 2, 1).unwrap();
        assert_eq!(
            std::fs::read_to_string(&to).unwrap(),
            "id;name\r\n1;\u{627}\r\n"
        );
    }
}
