//! Large deliveries for benchmarks and memory tests: `dh synth --tables T --rows N [--format csv|sav]` writes the
//! named tables with N rows (and, with `--format`, in that format instead of the configured one); every other
//! delivery is written as usual.
//!
//! Rows: the table is rendered as usual (at the run's scale, planted problems included), then repeated: row `i`
//! of the file is rendered row `i mod n` in copy `i div n`. Copy 0 is the rendered table unchanged, so
//! `injected.json` and the links of other tables (caregivers to children) hold for it. In copies 1, 2, ... every
//! column of a field the schema declares unique (respondent, household, case ids) gets the suffix `-<copy>`
//! (zero-padded to one width), so ids stay unique; problems planted in copy 0 repeat in every copy and are not
//! listed again in `injected.json`. Files are written while the rows are produced (CSV record by record, `.sav`
//! in chunks, [`crate::write::sav::SavChunks`]), so memory does not grow with N. Only CSV and `.sav` can be
//! resized (Excel sheets stop at 1,048,576 rows; `.dta` has no chunked writer).
//!
//! Format: the delivery's file name gets the format's extension (`THA_police_cases_2017_2019.csv`), and
//! `OUT/config/` gets `_defaults.toml` and the synthesised countries' files with that delivery's `file` and
//! `format` changed, for `dh run --config-dir OUT/config`.

use std::collections::BTreeSet;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use dh_config::country::Format;
use dh_config::{CountryConfig, Delivery, SchemaSet};

use crate::error::SynthError;
use crate::write::csv::CsvOut;
use crate::write::sav::SavChunks;
use crate::write::{PlainFiles, TableSink, TextColumn, TextTable};

/// Folder of the edited configuration, inside the output folder.
pub const CONFIG_DIR: &str = "config";

/// Rows of a `.sav` chunk (at least two copies of the rendered table, so the first chunk holds suffixed ids).
const SAV_CHUNK_ROWS: usize = 65_536;

/// Tables to write with another number of rows, and optionally in another format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resize {
    /// Harmonised table names (`police_cases`, `child_survey`).
    pub tables: Vec<String>,
    /// Data rows of each named table's file.
    pub rows: u64,
    /// Format of the named tables' files (CSV or `.sav`); `None`: as configured.
    pub format: Option<Format>,
}

impl Resize {
    fn error(message: impl Into<String>) -> SynthError {
        SynthError::Resize {
            message: message.into(),
        }
    }

    /// Checks the request against the countries: every named table is a delivered table of each, and the
    /// format written is CSV or `.sav`.
    pub fn check(&self, configs: &[CountryConfig]) -> Result<(), SynthError> {
        if self.tables.is_empty() {
            return Err(Self::error("--rows needs --tables (the tables to resize)"));
        }
        if self.rows == 0 {
            return Err(Self::error("--rows must be at least 1"));
        }
        for config in configs {
            for table in &self.tables {
                let delivery = config
                    .deliveries
                    .get(table)
                    .filter(|d| d.delivered)
                    .ok_or_else(|| {
                        Self::error(format!(
                            "{} delivers no table `{table}`",
                            config.country.iso3
                        ))
                    })?;
                if !delivery.parts.is_empty() {
                    return Err(Self::error(format!(
                        "{}: `{table}` is delivered as {} files (`parts`); only a one-file delivery can be resized",
                        config.country.iso3,
                        delivery.parts.len()
                    )));
                }
                let format = self.format.unwrap_or(delivery.format);
                if !format.has_value_labels()
                    && let Some(key) = first_label_key(config, delivery)
                {
                    return Err(Self::error(format!(
                        "{}: `{table}` maps codes by value label ({key}), which a {} file has no room for; \
                         write it as .sav (--format sav)",
                        config.country.iso3,
                        format.name()
                    )));
                }
                if !matches!(format, Format::Csv | Format::Sav) {
                    return Err(Self::error(format!(
                        "{}: `{table}` is delivered as {}; only CSV and .sav files can be resized \
                         (add --format csv or --format sav)",
                        config.country.iso3,
                        format.name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The configuration with the named tables' file names and formats changed (unchanged without a format).
    pub fn apply(&self, config: &CountryConfig) -> CountryConfig {
        let mut config = config.clone();
        if let Some(format) = self.format {
            for table in &self.tables {
                if let Some(delivery) = config.deliveries.get_mut(table) {
                    delivery.file = with_extension(&delivery.file, format);
                    delivery.format = format;
                }
            }
        }
        config
    }

    /// With a format: writes `out/config/` (see the module documentation) and returns its path.
    pub fn write_config(
        &self,
        config_dir: &Path,
        configs: &[CountryConfig],
        out: &Path,
    ) -> Result<Option<PathBuf>, SynthError> {
        let Some(format) = self.format else {
            return Ok(None);
        };
        let dir = out.join(CONFIG_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| SynthError::io(&dir, e))?;
        let defaults = config_dir.join("_defaults.toml");
        let target = dir.join("_defaults.toml");
        std::fs::copy(&defaults, &target).map_err(|e| SynthError::io(&defaults, e))?;
        for config in configs {
            let iso3 = &config.country.iso3;
            let source = config_dir.join(format!("{iso3}.toml"));
            let text = std::fs::read_to_string(&source).map_err(|e| SynthError::io(&source, e))?;
            let edited = self
                .edit_country_toml(&text, config, format)
                .map_err(|m| Self::error(format!("{}: cannot edit: {m}", source.display())))?;
            let target = dir.join(format!("{iso3}.toml"));
            std::fs::write(&target, edited).map_err(|e| SynthError::io(&target, e))?;
        }
        Ok(Some(dir))
    }

    /// A country file with `[deliveries.<table>]` `file` and `format` set for every named table (comments are
    /// not kept: the file is generated).
    fn edit_country_toml(
        &self,
        text: &str,
        config: &CountryConfig,
        format: Format,
    ) -> Result<String, String> {
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        for table in &self.tables {
            let Some(delivery) = config.deliveries.get(table) else {
                continue;
            };
            let deliveries = doc
                .entry("deliveries")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or("`deliveries` is not a table")?;
            let entry = deliveries
                .entry(table.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| format!("`deliveries.{table}` is not a table"))?;
            entry.insert(
                "file".into(),
                toml::Value::String(with_extension(&delivery.file, format)),
            );
            entry.insert("format".into(), toml::Value::String(format.name().into()));
        }
        toml::to_string(&doc).map_err(|e| e.to_string())
    }
}

/// `file` with the extension of `format` (`cases.xlsx` -> `cases.csv`).
pub fn with_extension(file: &str, format: Format) -> String {
    Path::new(file)
        .with_extension(format.name())
        .to_string_lossy()
        .into_owned()
}

/// The [`TableSink`] of a resized synthesis: the named tables repeated to [`Resize::rows`], the others as usual.
pub struct Resized<'a> {
    pub resize: &'a Resize,
    pub schemas: &'a SchemaSet,
}

impl TableSink for Resized<'_> {
    fn write(
        &self,
        table: &str,
        path: &Path,
        delivery: &Delivery,
        text: &TextTable,
    ) -> Result<(), SynthError> {
        if !self.resize.tables.iter().any(|t| t == table) {
            return PlainFiles.write(table, path, delivery, text);
        }
        let repeat = Repeat::new(
            text,
            self.unique_columns(table, delivery, text),
            self.resize.rows,
        )
        .ok_or_else(|| Resize::error(format!("`{table}` has no rows to repeat")))?;
        match delivery.format {
            Format::Csv => write_csv(path, delivery, &repeat),
            Format::Sav => write_sav(path, &repeat),
            other => Err(Resize::error(format!(
                "`{table}`: {} files cannot be resized",
                other.name()
            ))),
        }
    }
}

impl Resized<'_> {
    /// Columns of `text` holding a field the schema declares unique.
    fn unique_columns(&self, table: &str, delivery: &Delivery, text: &TextTable) -> Vec<usize> {
        let Some(schema) = self.schemas.get(table) else {
            return Vec::new();
        };
        let sources: BTreeSet<&str> = schema
            .fields
            .iter()
            .filter(|f| f.constraints.unique)
            .filter_map(|f| delivery.columns.get(&f.name))
            .filter_map(|m| m.source.as_deref())
            .collect();
        text.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| sources.contains(c.name.as_str()))
            .map(|(i, _)| i)
            .collect()
    }
}

/// The rendered table repeated to `rows` rows, ids suffixed in copies after the first.
struct Repeat<'a> {
    base: &'a TextTable,
    ids: Vec<bool>,
    rows: u64,
    /// Digits of the largest copy number.
    width: usize,
}

impl<'a> Repeat<'a> {
    fn new(base: &'a TextTable, id_columns: Vec<usize>, rows: u64) -> Option<Self> {
        let n = base.rows() as u64;
        if n == 0 {
            return None;
        }
        let copies = rows.div_ceil(n).max(1);
        let mut ids = vec![false; base.columns.len()];
        for c in id_columns {
            if let Some(id) = ids.get_mut(c) {
                *id = true;
            }
        }
        Some(Repeat {
            base,
            ids,
            rows,
            width: (copies - 1).max(1).to_string().len(),
        })
    }

    /// Cell `c` of file row `i` (0-based data row).
    fn cell(&self, i: u64, c: usize, buf: &mut String) {
        let n = self.base.rows() as u64;
        let (copy, row) = (i / n, (i % n) as usize);
        let text = self.base.columns[c].get(row);
        buf.clear();
        buf.push_str(text);
        if copy > 0 && self.ids[c] && !text.is_empty() {
            buf.push('-');
            buf.push_str(&format!("{copy:0width$}", width = self.width));
        }
    }

    /// Rows `start..start + len` as a table (column names and labels of the base).
    fn chunk(&self, start: u64, len: usize) -> TextTable {
        let mut table = TextTable {
            columns: self
                .base
                .columns
                .iter()
                .map(|c| {
                    let mut out = TextColumn::new(c.name.clone());
                    out.value_labels = c.value_labels.clone();
                    out.missing_codes = c.missing_codes.clone();
                    out.variable_label = c.variable_label.clone();
                    out
                })
                .collect(),
        };
        let mut buf = String::new();
        for i in start..start + len as u64 {
            for (c, column) in table.columns.iter_mut().enumerate() {
                self.cell(i, c, &mut buf);
                column.push(&buf);
            }
        }
        table
    }
}

fn write_csv(path: &Path, delivery: &Delivery, repeat: &Repeat) -> Result<(), SynthError> {
    let file = std::fs::File::create(path).map_err(|e| SynthError::io(path, e))?;
    let mut out = CsvOut::new(path, delivery, BufWriter::with_capacity(1 << 20, file))?;
    out.header(repeat.base.columns.iter().map(|c| c.name.as_str()))?;
    let columns = repeat.base.columns.len();
    let mut cells = vec![String::new(); columns];
    for i in 0..repeat.rows {
        for (c, cell) in cells.iter_mut().enumerate() {
            repeat.cell(i, c, cell);
        }
        out.row(cells.iter().map(String::as_str))?;
    }
    let writer = out.finish()?;
    writer
        .into_inner()
        .map_err(|e| SynthError::io(path, e.into_error()))?;
    Ok(())
}

fn write_sav(path: &Path, repeat: &Repeat) -> Result<(), SynthError> {
    let n = repeat.base.rows();
    let chunk_rows = n * SAV_CHUNK_ROWS.div_ceil(n).max(2);
    let mut start = 0u64;
    let mut out: Option<SavChunks> = None;
    while start < repeat.rows {
        let len = (repeat.rows - start).min(chunk_rows as u64) as usize;
        let chunk = repeat.chunk(start, len);
        let writer = match &mut out {
            Some(w) => w,
            None => out.insert(SavChunks::create(path, &chunk)?),
        };
        writer.push(&chunk)?;
        start += len as u64;
    }
    match out {
        Some(w) => w.finish().map(|_| ()),
        None => Err(Resize::error("no rows to write")),
    }
}

/// The first `label:<value label>` key (where it is, for a message) among the codes and missing codes `delivery`
/// maps by (its own, its columns', inline or through a code scheme of `config`): such a mapping needs a file that
/// carries value labels.
fn first_label_key(config: &CountryConfig, delivery: &Delivery) -> Option<String> {
    type Codes = std::collections::BTreeMap<String, String>;
    let labelled = |codes: &Codes| {
        codes
            .keys()
            .find(|k| dh_config::country::label_key(k).is_some())
            .map(|k| format!("`{k}`"))
    };
    if let Some(key) = labelled(&delivery.missing) {
        return Some(format!("missing {key}"));
    }
    delivery.columns.iter().find_map(|(column, map)| {
        if let Some(key) = labelled(&map.codes).or_else(|| labelled(&map.missing)) {
            return Some(format!("column `{column}`: {key}"));
        }
        let name = map.scheme.as_deref()?;
        let scheme = config.code_schemes.get(name)?;
        let key = labelled(&scheme.codes).or_else(|| labelled(&scheme.missing))?;
        Some(format!("code scheme `{name}`: {key}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> TextTable {
        let mut t = TextTable::new(["id".to_string(), "x".to_string()]);
        t.push_row(&["A1", "1"]);
        t.push_row(&["", "2"]);
        t.push_row(&["A3", "3"]);
        t
    }

    #[test]
    fn copies_after_the_first_get_suffixed_ids() {
        let b = base();
        let r = Repeat::new(&b, vec![0], 25).unwrap();
        assert_eq!(r.width, 1);
        let t = r.chunk(0, 25);
        let ids: Vec<&str> = t.columns[0].iter().collect();
        assert_eq!(&ids[..6], &["A1", "", "A3", "A1-1", "", "A3-1"]);
        assert_eq!(ids[24], "A1-8");
        let xs: Vec<&str> = t.columns[1].iter().collect();
        assert_eq!(&xs[..4], &["1", "2", "3", "1"]);
        let distinct: BTreeSet<&str> = ids.iter().copied().filter(|s| !s.is_empty()).collect();
        assert_eq!(distinct.len(), ids.iter().filter(|s| !s.is_empty()).count());
        // more copies: one width for all of them
        let r = Repeat::new(&b, vec![0], 3 * 11).unwrap();
        assert_eq!(r.width, 2);
        assert_eq!(r.chunk(3, 1).columns[0].get(0), "A1-01");
        assert!(Repeat::new(&TextTable::new(["id".to_string()]), vec![0], 5).is_none());
    }

    #[test]
    fn a_delivery_in_parts_cannot_be_resized() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../countries");
        let configs = dh_config::load_countries(&root, &["THA".to_string()]).unwrap();
        let resize = |table: &str| Resize {
            tables: vec![table.to_string()],
            rows: 10,
            format: Some(Format::Csv),
        };
        let e = resize("service_contacts").check(&configs).unwrap_err();
        assert!(
            e.to_string().contains("delivered as 2 files (`parts`)"),
            "{e}"
        );
        assert!(resize("legal_provisions").check(&configs).is_ok());
    }

    /// Kenya's child survey maps codes by value label: a CSV copy could not be read with that mapping, so it is
    /// refused naming the key, and a `.sav` copy is fine.
    #[test]
    fn a_delivery_mapped_by_value_label_is_not_written_as_csv() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../countries");
        let configs = dh_config::load_countries(&root, &["KEN".to_string()]).unwrap();
        let resize = |format: Format| Resize {
            tables: vec!["child_survey".to_string()],
            rows: 10,
            format: Some(format),
        };
        let e = resize(Format::Csv).check(&configs).unwrap_err().to_string();
        assert!(
            e.contains("KEN: `child_survey` maps codes by value label")
                && e.contains("`label:")
                && e.contains("--format sav"),
            "{e}"
        );
        assert!(resize(Format::Sav).check(&configs).is_ok());
    }

    #[test]
    fn file_names_take_the_formats_extension() {
        assert_eq!(
            with_extension("THA_police_cases_2017_2019.xlsx", Format::Csv),
            "THA_police_cases_2017_2019.csv"
        );
        assert_eq!(
            with_extension("sub/child.csv", Format::Sav),
            "sub/child.sav"
        );
    }
}
