//! The fuzz targets: one function per parser that takes arbitrary bytes, feeds them to the real code path (the
//! delivery readers read a file, so the bytes are written to a scratch file first) and returns a short signature
//! of the outcome (`ok`, or the error's kind) that the mutation loop uses to keep inputs reaching new outcomes.
//! A target never judges the outcome: any `Err` is fine; a panic, an allocation above the cap or a hang is a
//! finding (see [`crate::runner`]).

use std::path::{Path, PathBuf};

use dh_config::country::Format;
use dh_config::{Delivery, SchemaSet};
use dh_ingest::ColumnSelection;

/// The parsers under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Csv,
    Sav,
    Dta,
    Xlsx,
    CountryToml,
    SchemaJson,
    Expr,
}

impl Target {
    /// In the order `run all` runs them: the Stata reader last, because a resource finding (its value-label
    /// lengths are not yet bounded by the file size) aborts the process and would skip the targets after it.
    pub const ALL: [Target; 7] = [
        Target::Csv,
        Target::Sav,
        Target::Xlsx,
        Target::CountryToml,
        Target::SchemaJson,
        Target::Expr,
        Target::Dta,
    ];

    /// Name on the command line and of the corpus folder (`fuzz/corpus/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Csv => "csv",
            Target::Sav => "sav",
            Target::Dta => "dta",
            Target::Xlsx => "xlsx",
            Target::CountryToml => "country_toml",
            Target::SchemaJson => "schema_json",
            Target::Expr => "expr",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Largest input the mutation loop builds for this target.
    pub fn max_len(self) -> usize {
        match self {
            Target::Sav | Target::Dta | Target::Xlsx => 256 << 10,
            Target::Csv | Target::CountryToml | Target::SchemaJson => 64 << 10,
            Target::Expr => 4 << 10,
        }
    }

    /// Tokens the mutator inserts (format keywords, delimiters, magic numbers).
    pub fn dictionary(self) -> &'static [&'static [u8]] {
        match self {
            Target::Csv => &[
                b",",
                b";",
                b"\t",
                b"\"",
                b"\"\"",
                b"\r\n",
                b"\n",
                b"\r",
                b"\xef\xbb\xbf",
                b"\xff\xfe",
                b"\x00",
            ],
            Target::Sav => &[
                b"$FL2",
                b"$FL3",
                b"\x02\x00\x00\x00",
                b"\x03\x00\x00\x00",
                b"\x04\x00\x00\x00",
                b"\x07\x00\x00\x00",
                b"\xe7\x03\x00\x00",
                b"\xff\xff\xff\x7f",
                b"\xff\xff\xff\xff",
                b"\x00\x00\x00\x80",
            ],
            Target::Dta => &[
                b"<stata_dta>",
                b"<header>",
                b"<release>118</release>",
                b"<map>",
                b"<variable_types>",
                b"<value_labels>",
                b"<lbl>",
                b"</lbl>",
                b"<data>",
                b"<strls>",
                b"GSO",
                b"\xff\xff\xff\x7f",
                b"\xff\xff\xff\xff\xff\xff\xff\x7f",
            ],
            Target::Xlsx => &[
                b"PK\x03\x04",
                b"PK\x01\x02",
                b"PK\x05\x06",
                b"<row r=\"",
                b"<c r=\"XFD1048576\"",
                b"<v>",
                b"</v>",
                b"t=\"s\"",
                b"<dimension ref=\"A1:XFD1048576\"/>",
                b"\xff\xff\xff\xff",
            ],
            Target::CountryToml => &[
                b"[deliveries.child_survey]",
                b"[deliveries.child_survey.columns]",
                b"codes = {",
                b"missing = {",
                b"source = \"",
                b"not_collected = true",
                b"\"\"\"",
                b"'''",
                b"\\u",
                b"[[",
                b"]]",
                b" = ",
                b"\n",
                b"label:",
            ],
            Target::SchemaJson => &[
                b"{",
                b"}",
                b"[",
                b"]",
                b"\"fields\": [",
                b"\"categories\": [",
                b"\"missingValues\": [",
                b"\"universe\": \"",
                b"\"constraints\": {",
                b"\"range\": [",
                b"\\u0000",
                b"1e999",
                b"-1",
            ],
            Target::Expr => &[
                b" and ",
                b" or ",
                b"not ",
                b"(",
                b")",
                b"[",
                b"]",
                b"==",
                b"!=",
                b">=",
                b"<",
                b" in ",
                b"is_missing(",
                b"any(",
                b"all(",
                b"\"",
                b"true",
                b"1e308",
                b"age",
                b"sex",
            ],
        }
    }
}

/// What a target needs across executions: a scratch folder and the shipped schemas.
pub struct Harness {
    scratch: tempfile::TempDir,
    schemas: SchemaSet,
    defaults: String,
}

/// Why the harness could not start (not a finding).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("cannot create a scratch folder: {0}")]
    Scratch(#[source] std::io::Error),
    #[error("cannot load the shipped schemas from {dir}: {message}")]
    Schemas { dir: PathBuf, message: String },
    #[error("cannot read {file}: {source}")]
    Defaults {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The workspace's `schemas/` and `countries/` folders (the targets validate against the shipped configuration).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Harness {
    pub fn new() -> Result<Harness, HarnessError> {
        let root = workspace_dir();
        let dir = root.join("schemas");
        let schemas = dh_config::load_schemas(&dir).map_err(|e| HarnessError::Schemas {
            dir: dir.clone(),
            message: e.to_string(),
        })?;
        let file = root.join("countries").join("_defaults.toml");
        let defaults = std::fs::read_to_string(&file)
            .map_err(|source| HarnessError::Defaults { file, source })?;
        Ok(Harness {
            scratch: tempfile::tempdir().map_err(HarnessError::Scratch)?,
            schemas,
            defaults,
        })
    }

    /// Runs `target` on `data`; returns the outcome's signature. Panics (the findings) propagate.
    pub fn run(&self, target: Target, data: &[u8]) -> String {
        match target {
            Target::Csv => self.read_delivery(data, "d.csv", Format::Csv),
            Target::Sav => self.read_delivery(data, "d.sav", Format::Sav),
            Target::Dta => self.read_delivery(data, "d.dta", Format::Dta),
            Target::Xlsx => self.read_delivery(data, "d.xlsx", Format::Xlsx),
            Target::CountryToml => self.country_toml(data),
            Target::SchemaJson => self.schema_json(data),
            Target::Expr => self.expr(data),
        }
    }

    fn write(&self, name: &str, data: &[u8]) -> Option<PathBuf> {
        let path = self.scratch.path().join(name);
        std::fs::write(&path, data).ok().map(|()| path)
    }

    /// Reads `data` as a delivery of `format`, keeping every column (the CSV reader with its defaults: UTF-8,
    /// comma, header on row 1; the first byte of the input picks another delimiter and header row sometimes).
    fn read_delivery(&self, data: &[u8], name: &str, format: Format) -> String {
        // A workbook is a zip archive whose checksums almost every mutation breaks: an input that is not a zip
        // (no `PK` signature) is the XML of the first worksheet, packed into a valid workbook here.
        let packed;
        let data = if format == Format::Xlsx && !data.starts_with(b"PK") {
            match workbook(data) {
                Some(bytes) => {
                    packed = bytes;
                    &packed[..]
                }
                None => return "zip".into(),
            }
        } else {
            data
        };
        let Some(path) = self.write(name, data) else {
            return "scratch".into();
        };
        let mut delivery = Delivery::new(name, format);
        if format == Format::Csv
            && let Some(first) = data.first()
        {
            delivery.delimiter = match first % 4 {
                0 => ";".into(),
                1 => "\t".into(),
                _ => ",".into(),
            };
            delivery.header_row = u32::from(first / 64) + 1;
        }
        let keep = ColumnSelection::every_column();
        let result = dh_ingest::readers::reader_for(format, &path)
            .and_then(|reader| reader.read(&path, &delivery, &keep));
        match result {
            Ok(table) => format!(
                "ok:{}:{}",
                table.columns.len().min(8),
                table.num_rows().min(4)
            ),
            Err(e) => signature(&e.to_string()),
        }
    }

    /// Loads `data` as a country file merged over the shipped defaults, then validates it against the shipped
    /// schemas.
    fn country_toml(&self, data: &[u8]) -> String {
        let dir = self.scratch.path().join("countries");
        if std::fs::create_dir_all(&dir).is_err()
            || std::fs::write(dir.join("_defaults.toml"), &self.defaults).is_err()
            || std::fs::write(dir.join("XXX.toml"), data).is_err()
        {
            return "scratch".into();
        }
        match dh_config::load_country(&dir, "XXX") {
            Ok(config) => {
                let problems = dh_config::validate_country(&config, &self.schemas);
                format!("ok:{}", problems.len().min(8))
            }
            Err(e) => signature(&e.to_string()),
        }
    }

    /// Loads `data` as one schema file among the shipped ones, then renders the codebook of the set.
    fn schema_json(&self, data: &[u8]) -> String {
        let dir = self.scratch.path().join("schemas");
        if std::fs::create_dir_all(&dir).is_err()
            || std::fs::write(dir.join("fuzzed.json"), data).is_err()
        {
            return "scratch".into();
        }
        match dh_config::load_schemas(&dir) {
            Ok(set) => match dh_config::render_codebook(&set, None) {
                Ok(text) => format!("ok:{}", text.len().min(1) + set.tables.len()),
                Err(e) => signature(&e.to_string()),
            },
            Err(e) => signature(&e.to_string()),
        }
    }

    /// Parses `data` as an expression, checks it against the shipped child survey's columns and evaluates it
    /// on a batch with no rows.
    fn expr(&self, data: &[u8]) -> String {
        let Ok(text) = std::str::from_utf8(data) else {
            return "utf8".into();
        };
        let expr = match dh_expr::parse(text) {
            Ok(expr) => expr,
            Err(e) => return signature(&e.to_string()),
        };
        let Some(child) = self.schemas.get("child_survey") else {
            return "parsed".into();
        };
        let columns = child.expr_columns();
        match dh_expr::check(&expr, &columns, text) {
            Ok(()) => format!("ok:{}", expr.columns().len().min(4)),
            Err(e) => signature(&e.to_string()),
        }
    }
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const SHARED_STRINGS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>ID</t></si><si><t>SEX</t></si><si><t>AGE</t></si></sst>"#;

/// A minimal workbook (stored, not compressed) whose only worksheet is `sheet`.
pub fn workbook(sheet: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let parts: [(&str, &[u8]); 6] = [
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", ROOT_RELS.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
        ("xl/sharedStrings.xml", SHARED_STRINGS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    for (name, body) in parts {
        zip.start_file(name, options).ok()?;
        zip.write_all(body).ok()?;
    }
    zip.finish().ok().map(|cursor| cursor.into_inner())
}

/// An error message reduced to its shape: first line only, digits and quoted parts removed, at most 48 characters, so that one
/// kind of error is one signature whatever the offsets and values.
pub fn signature(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.lines().next().unwrap_or_default().chars() {
        match c {
            '`' | '"' | '\'' => quoted = !quoted,
            _ if quoted || c.is_ascii_digit() => {}
            _ => out.push(c),
        }
        if out.len() >= 48 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worksheet_is_packed_into_a_readable_workbook() {
        let h = Harness::new().unwrap_or_else(|e| panic!("{e}"));
        let sheet = br#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2"><v>7</v></c><c r="B2"><v>2</v></c></row></sheetData></worksheet>"#;
        assert_eq!(h.run(Target::Xlsx, sheet), "ok:2:1");
    }

    #[test]
    fn names_round_trip() {
        for t in Target::ALL {
            assert_eq!(Target::from_name(t.name()), Some(t));
        }
        assert_eq!(Target::from_name("nope"), None);
    }

    #[test]
    fn signatures_drop_numbers_and_values() {
        assert_eq!(
            signature("line 12: unknown column `RESP_NAME`"),
            signature("line 7: unknown column `GPS`")
        );
    }

    #[test]
    fn every_target_runs_on_garbage_without_panicking() {
        let h = Harness::new().unwrap_or_else(|e| panic!("{e}"));
        for t in Target::ALL {
            for data in [
                &b""[..],
                b"\x00",
                b"a,b\n1,2\n",
                b"[x]\n= 1",
                b"{\"name\": 1}",
                b"age >",
            ] {
                let _ = h.run(t, data);
            }
        }
    }
}
