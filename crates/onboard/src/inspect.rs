//! Reading a delivery folder for onboarding: which files it holds ([`Format::EXTENSIONS`]), how each is laid out
//! (CSV encoding via [`crate::sniff`], delimiter, header and label rows; `.xlsx` sheet via [`crate::layout`]), and a
//! profile of every variable (inferred type, variable and value labels, declared missing codes and ranges, date
//! layout, distinct values). Distinct values are kept only for code columns ([`lists_values`]: few distinct values,
//! every one short and code-like, and either labelled by the file or repeated across rows); values of likely direct
//! identifiers, free text, names, phone numbers, e-mail addresses, coordinates, high-cardinality columns and small
//! registers (values that do not repeat) are never kept in a profile, so they cannot reach the generated config file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dh_config::Delivery;
use dh_config::country::{Encoding, Format, LineEnding};
use dh_ingest::readers::xlsx::SheetSummary;
use dh_ingest::{ColumnSelection, IngestError, RawColumn, RawTable, readers};

pub use crate::dates::DateLayout;
use crate::dates::{date_layout, is_iso_date};
use crate::{OnboardError, layout, sniff};

/// At most this many distinct values are listed for a variable; a variable with more is described by its count.
pub const MAX_LISTED_VALUES: usize = 12;

/// Name words (lower case) that mark a likely direct identifier, in the languages of the deliveries so far
/// (English, Portuguese, Spanish, French, Indonesian/Malay).
const IDENTIFIER_WORDS: &[&str] = &[
    "name",
    "phone",
    "mobile",
    "tel",
    "email",
    "address",
    "gps",
    "lat",
    "lon",
    "latitude",
    "longitude",
    "notes",
    "note",
    "comment",
    "comments",
    "text",
    "remarks",
    "nome",
    "nombre",
    "nom",
    "prenom",
    "prénom",
    "apellido",
    "sobrenome",
    "nama",
    "telefone",
    "telefono",
    "teléfono",
    "telephone",
    "téléphone",
    "telepon",
    "celular",
    "movil",
    "móvil",
    "portable",
    "endereco",
    "endereço",
    "direccion",
    "dirección",
    "adresse",
    "alamat",
    "observacoes",
    "observações",
    "observaciones",
    "observations",
    "obs",
    "catatan",
    "lintang",
    "bujur",
    "telefon",
    "contact",
    "cell",
    "cellphone",
    "jina",
    "simu",
    "maelezo",
];

/// Endings of one name word written without separators (`RESPNAME`, `CGMOBILE`, `Cellphone`) that mark a likely
/// direct identifier, and the beginning `gps` (`GPSLAT`).
const IDENTIFIER_ENDINGS: &[&str] = &["name", "phone", "mobile", "contact"];

/// Two adjacent name words (joined, lower case) that mark a likely direct identifier (Vietnamese `ho_ten` name,
/// `dien_thoai` phone, `ghi_chu` notes, `vi_do`/`kinh_do` GPS).
const IDENTIFIER_PAIRS: &[&str] = &["hoten", "dienthoai", "ghichu", "vido", "kinhdo", "nohp"];

/// How to read one delivery file, as far as the file itself tells.
#[derive(Debug, Clone, PartialEq)]
pub struct FileLayout {
    pub format: Format,
    pub encoding: Encoding,
    /// False when [`FileLayout::encoding`] is only the best of several fitting code pages: the skeleton then writes a
    /// `# TODO encoding` line instead of the setting.
    pub encoding_decided: bool,
    /// Why the encoding was chosen or what to check (counts and encodings only, never the file's text).
    pub encoding_note: Option<String>,
    /// The note is a TODO (several code pages fit, or UTF-8 text encoded twice).
    pub encoding_check: bool,
    pub delimiter: String,
    pub line_ending: LineEnding,
    /// The worksheet read (`.xlsx`).
    pub sheet: Option<String>,
    /// 1-based row holding the variable names (`.xlsx` and CSV).
    pub header_row: u32,
    /// Label rows right under the header.
    pub skip_rows: u32,
    /// Non-empty rows above the header (titles, notes).
    pub rows_above: usize,
}

impl FileLayout {
    /// How a file of `format` reads when nothing else is known (the readers' defaults).
    pub fn new(format: Format) -> Self {
        FileLayout {
            format,
            encoding: Encoding::UTF8,
            encoding_decided: true,
            encoding_note: None,
            encoding_check: false,
            delimiter: ",".into(),
            line_ending: LineEnding::Lf,
            sheet: None,
            header_row: 1,
            skip_rows: 0,
            rows_above: 0,
        }
    }
}

/// One variable of a delivery file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VariableProfile {
    pub name: String,
    /// `integer`, `number`, `date`, `text` or `empty`.
    pub kind: &'static str,
    /// The question text the file gives the variable (SPSS/Stata variable label).
    pub variable_label: Option<String>,
    /// Code -> label, from SPSS/Stata value labels.
    pub value_labels: Vec<(String, String)>,
    /// Codes the file declares missing (SPSS user-missing, Stata extended missing).
    pub declared_missing: Vec<String>,
    /// Ranges of codes the file declares missing (SPSS `97 THRU 99`, `LO THRU 0`), -inf/+inf for LO/HI.
    pub missing_ranges: Vec<(f64, f64)>,
    /// Distinct non-empty values when there are at most [`MAX_LISTED_VALUES`] and the variable is neither a likely
    /// identifier nor free text; otherwise empty.
    pub values: Vec<String>,
    pub distinct: usize,
    pub has_empty: bool,
    pub likely_identifier: bool,
    /// Text answers in words (long values or an `other, specify` name): values never listed.
    pub free_text: bool,
    pub dates: DateLayout,
}

/// One delivery file with its variables.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectedFile {
    pub file_name: String,
    pub layout: FileLayout,
    /// Every worksheet with its size (`.xlsx`), in workbook order.
    pub sheets: Vec<SheetSummary>,
    pub rows: usize,
    pub variables: Vec<VariableProfile>,
}

/// Lower-case letters and digits only: `Q01_Net-Freq` -> `q01netfreq`.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The format a file name implies ([`Format::from_extension`]), or `None` for files that are not deliveries.
pub fn format_of(path: &Path) -> Option<Format> {
    Format::from_extension(path.extension()?.to_str()?)
}

/// Every delivery file of `dir` (extensions of [`Format::EXTENSIONS`], made from [`Format::ALL`]), sorted by name.
pub fn delivery_files(dir: &Path) -> Result<Vec<PathBuf>, OnboardError> {
    let io = |source| OnboardError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() && format_of(&path).is_some() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Delimiter and line ending of decoded CSV text: the delimiter whose count per line is most often the same
/// (non-zero) over the first lines, so title rows and commas inside text do not mislead.
pub fn sniff_delimiter(text: &str) -> (String, LineEnding) {
    let line_ending = match text.split_once('\n') {
        Some((first, _)) if first.ends_with('\r') => LineEnding::Crlf,
        _ => LineEnding::Lf,
    };
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    let mut best = (0usize, 0usize, ',');
    for d in [',', ';', '\t', '|'] {
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for l in &lines {
            let n = l.matches(d).count();
            if n > 0 {
                *counts.entry(n).or_default() += 1;
            }
        }
        if let Some((n, lines)) = counts.iter().max_by_key(|(n, l)| (**l, **n))
            && (*lines, *n) > (best.0, best.1)
        {
            best = (*lines, *n, d);
        }
    }
    (best.2.to_string(), line_ending)
}

/// Reads one delivery file (every column) and profiles its variables. For CSV the encoding, delimiter, header row
/// and label rows are sniffed; for `.xlsx` every sheet is sized and the one whose header names most harmonised
/// columns is read (`default_sheet`, the defaults' sheet, wins ties). `known` says whether a header cell names a
/// harmonised column. Files in the readers' default layout are read by the reader the run uses; others (header below
/// title rows, label rows) from their cells.
pub fn inspect_file(
    path: &Path,
    default_sheet: Option<&str>,
    known: &dyn Fn(&str) -> bool,
) -> Result<InspectedFile, OnboardError> {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| OnboardError::FileName {
            path: path.to_path_buf(),
        })?
        .to_string();
    let format = format_of(path).ok_or_else(|| OnboardError::FileName {
        path: path.to_path_buf(),
    })?;
    let mut layout = FileLayout::new(format);
    let mut sheets = Vec::new();
    let (table, labels) = match format {
        Format::Csv => inspect_csv(path, &mut layout, known)?,
        Format::Xlsx => {
            sheets = readers::xlsx::sheets(path)?;
            inspect_xlsx(path, &sheets, &mut layout, default_sheet, known)?
        }
        Format::Sav | Format::Dta => (read_with(path, &layout)?, Vec::new()),
    };
    Ok(InspectedFile {
        file_name,
        layout,
        sheets,
        rows: table.num_rows(),
        variables: table
            .columns
            .iter()
            .enumerate()
            .map(|(j, column)| {
                let mut p = profile(column);
                if p.variable_label.is_none() {
                    p.variable_label = labels
                        .get(j)
                        .map(|l| l.trim())
                        .filter(|l| !l.is_empty() && *l != column.name)
                        .map(str::to_string);
                }
                p
            })
            .collect(),
    })
}

/// Reads a delivery with the reader the run uses, every column kept, in `layout` (sheet, header row and label rows
/// included, so onboarding sees exactly the table a run would read).
fn read_with(path: &Path, layout: &FileLayout) -> Result<RawTable, IngestError> {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let delivery = Delivery {
        encoding: layout.encoding,
        delimiter: layout.delimiter.clone(),
        line_ending: layout.line_ending,
        sheet: layout.sheet.clone(),
        header_row: layout.header_row,
        skip_rows: layout.skip_rows,
        ..Delivery::new(file_name, layout.format)
    };
    readers::reader_for(layout.format, path)?.read(
        path,
        &delivery,
        &ColumnSelection::every_column(),
    )
}

/// The first label row under the header (`skip_rows` > 0), cell by cell: the question texts an export without
/// variable labels carries, used as the columns' variable labels.
fn label_row(head: &[(u32, Vec<String>)], layout: &FileLayout) -> Vec<String> {
    if layout.skip_rows == 0 {
        return Vec::new();
    }
    head.iter()
        .find(|(n, _)| *n == layout.header_row.saturating_add(1))
        .map(|(_, cells)| cells.clone())
        .unwrap_or_default()
}

/// A CSV file: encoding, delimiter and line ending sniffed, header and label rows found, then read.
fn inspect_csv(
    path: &Path,
    layout: &mut FileLayout,
    known: &dyn Fn(&str) -> bool,
) -> Result<(RawTable, Vec<String>), OnboardError> {
    let bytes = std::fs::read(path).map_err(|source| OnboardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let guess = sniff::sniff_encoding(&bytes);
    layout.encoding = guess.encoding;
    layout.encoding_decided = guess.decided;
    layout.encoding_note = guess.note;
    layout.encoding_check = guess.check;
    let text = dh_ingest::encoding::decode(path, &bytes, layout.encoding)?;
    (layout.delimiter, layout.line_ending) = sniff_delimiter(&text);
    let delimiter = layout.delimiter.as_bytes().first().copied().unwrap_or(b',');
    let head = layout::csv_rows(&text, delimiter, layout::HEAD_ROWS);
    if let Some(g) = layout::guess_header(&head, known) {
        (layout.header_row, layout.skip_rows, layout.rows_above) =
            (g.header_row, g.skip_rows, g.rows_above);
    }
    Ok((read_with(path, layout)?, label_row(&head, layout)))
}

/// A workbook: the sheet whose header row names most harmonised columns (`default_sheet` wins ties), its header
/// and label rows, then read.
fn inspect_xlsx(
    path: &Path,
    sheets: &[SheetSummary],
    layout: &mut FileLayout,
    default_sheet: Option<&str>,
    known: &dyn Fn(&str) -> bool,
) -> Result<(RawTable, Vec<String>), OnboardError> {
    let filled: Vec<&str> = sheets
        .iter()
        .filter(|s| s.rows > 0)
        .map(|s| s.name.as_str())
        .collect();
    let heads = layout::xlsx_heads(path, &filled)?;
    let mut best: Option<(&str, layout::HeaderGuess, &layout::Rows)> = None;
    for (name, head) in filled.iter().zip(&heads) {
        let Some(g) = layout::guess_header(head, known) else {
            continue;
        };
        let better = best.as_ref().is_none_or(|(_, b, _)| {
            g.rank() > b.rank() || (g.rank() == b.rank() && default_sheet == Some(*name))
        });
        if better {
            best = Some((name, g, head));
        }
    }
    let Some((sheet, g, head)) = best else {
        return Ok((read_with(path, layout)?, Vec::new()));
    };
    layout.sheet = Some(sheet.to_string());
    (layout.header_row, layout.skip_rows, layout.rows_above) =
        (g.header_row, g.skip_rows, g.rows_above);
    Ok((read_with(path, layout)?, label_row(head, layout)))
}

/// True when a variable name looks like a direct identifier (name, phone, GPS, free-text notes).
pub fn looks_like_identifier(name: &str) -> bool {
    let words: Vec<String> = words(name).collect();
    words.iter().any(|w| {
        IDENTIFIER_WORDS.contains(&w.as_str())
            || w.starts_with("gps")
            || IDENTIFIER_ENDINGS
                .iter()
                .any(|e| w.len() > e.len() && w.ends_with(e))
    }) || words
        .windows(2)
        .any(|p| IDENTIFIER_PAIRS.contains(&format!("{}{}", p[0], p[1]).as_str()))
}

/// The words of a variable name, lower case: `RESP_NAME` -> `resp`, `name`; `victimName` -> `victim`, `name`.
fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            out.push(std::mem::take(&mut current));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase();
        current.extend(c.to_lowercase());
    }
    out.push(current);
    out.into_iter().filter(|w| !w.is_empty())
}

/// Name words (lower case) that mark a free-text answer when the values are text.
const FREE_TEXT_WORDS: &[&str] = &[
    "specify", "other", "oth", "verbatim", "explain", "describe", "open", "why",
];

/// A text value that reads as words, not a code: more than three words or more than 40 characters.
fn is_wordy(v: &str) -> bool {
    v.split_whitespace().count() > 3 || v.chars().count() > 40
}

fn profile(column: &RawColumn) -> VariableProfile {
    let likely_identifier = looks_like_identifier(&column.name);
    let mut distinct: BTreeSet<&str> = BTreeSet::new();
    let mut has_empty = false;
    let mut cells = 0usize;
    for v in column.iter() {
        if v.is_empty() {
            has_empty = true;
        } else {
            cells += 1;
            distinct.insert(v);
        }
    }
    let kind = infer_kind(distinct.iter().copied());
    let dates = date_layout(distinct.iter().copied());
    let kind = if matches!(dates, DateLayout::Format(f) if f != "%Y%m%d")
        || matches!(dates, DateLayout::Ambiguous(..))
    {
        "date"
    } else {
        kind
    };
    let free_text = kind == "text"
        && (distinct.iter().any(|v| is_wordy(v))
            || words(&column.name).any(|w| FREE_TEXT_WORDS.contains(&w.as_str())));
    let labelled = !column.labels.value_labels.is_empty();
    let values = if likely_identifier || free_text || !lists_values(&distinct, cells, labelled) {
        Vec::new()
    } else {
        let mut v: Vec<String> = distinct.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| numeric_order(a, b));
        v
    };
    VariableProfile {
        name: column.name.clone(),
        kind,
        variable_label: column.labels.variable_label.clone(),
        value_labels: column.labels.value_labels.clone(),
        declared_missing: column.labels.missing_codes.clone(),
        missing_ranges: column.labels.missing_ranges.clone(),
        values,
        distinct: distinct.len(),
        has_empty,
        likely_identifier,
        free_text,
        dates,
    }
}

/// Whether a variable's distinct values may be listed as examples: at most [`MAX_LISTED_VALUES`] of them, every one
/// short and code-like (`dh_config::content::looks_like_code`: not shaped like a name, phone number, e-mail address
/// or coordinates), and either the file labels the codes or they repeat (on average at least twice per value: a
/// register of a few participants lists names, which repeat nowhere).
fn lists_values(distinct: &BTreeSet<&str>, cells: usize, labelled: bool) -> bool {
    distinct.len() <= MAX_LISTED_VALUES
        && distinct
            .iter()
            .all(|v| dh_config::content::looks_like_code(v.trim()))
        && (labelled || cells >= 2 * distinct.len())
}

/// Orders numbers numerically and puts them before text.
fn numeric_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

fn infer_kind<'a>(values: impl Iterator<Item = &'a str>) -> &'static str {
    let mut kind = "empty";
    for v in values {
        let this = if v.parse::<i64>().is_ok() {
            "integer"
        } else if v.parse::<f64>().is_ok() {
            "number"
        } else if is_iso_date(v) {
            "date"
        } else {
            return "text";
        };
        kind = match (kind, this) {
            ("empty", t) => t,
            (k, t) if k == t => k,
            ("integer", "number") | ("number", "integer") => "number",
            _ => return "text",
        };
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiter_past_title_rows_and_line_endings() {
        assert_eq!(
            sniff_delimiter("ID;NOM\r\n1;José\r\n"),
            (";".to_string(), LineEnding::Crlf)
        );
        assert_eq!(
            sniff_delimiter("Survey, Jordan, 2025\nA|B|C\n1|2|3\n4|5,6|7\n"),
            ("|".to_string(), LineEnding::Lf)
        );
        assert_eq!(sniff_delimiter("A\tB\n1\t2\n").0, "\t");
    }

    #[test]
    fn free_text_values_are_withheld() {
        let col = RawColumn::from_cells("Q9", &["I do not use it at school", "no", "yes"]).unwrap();
        let p = profile(&col);
        assert!(p.free_text && p.values.is_empty(), "{p:?}");
        let col = RawColumn::from_cells("Q9_OTHER_SPECIFY", &["Tiktok", "x"]).unwrap();
        assert!(profile(&col).values.is_empty());
        let col = RawColumn::from_cells("REGION", &["North", "South", "South", "North"]).unwrap();
        assert_eq!(profile(&col).values, vec!["North", "South"]);
        let col = RawColumn::from_cells("DOB", &["31/12/2010", "01/02/2011"]).unwrap();
        let p = profile(&col);
        assert_eq!((p.kind, p.dates), ("date", DateLayout::Format("%d/%m/%Y")));
    }

    #[test]
    fn kinds_and_identifiers() {
        assert_eq!(infer_kind(["1", "2"].into_iter()), "integer");
        assert_eq!(infer_kind(["1", "2.5"].into_iter()), "number");
        assert_eq!(infer_kind(["2021-01-02"].into_iter()), "date");
        assert_eq!(infer_kind(["1", "x"].into_iter()), "text");
        assert!(looks_like_identifier("RESP_NAME"));
        assert!(looks_like_identifier("GPS_LAT"));
        assert!(looks_like_identifier("Victim name"));
        assert!(!looks_like_identifier("Q02_OFFER_IMG"));
        assert!(!looks_like_identifier("REGION"));
        assert!(!looks_like_identifier("Q05_OFFER_IMG_PLAT"));
        assert!(looks_like_identifier("victimName"));
        assert!(looks_like_identifier("coded_text"));
        for name in [
            "nome",
            "telefone_cuidador",
            "Nome da vítima",
            "ho_ten_ncs",
            "dien_thoai",
            "ghi_chu",
            "vi_do",
            "observacoes",
            "NAMA_ANAK",
            "no_hp_pengasuh",
            "RESPNAME",
            "CGMOBILE",
            "GPSLAT",
            "CaregiverCell",
            "Cellphone",
            "contact_number",
            "jina_mlezi",
            "simu",
            "lintang",
        ] {
            assert!(looks_like_identifier(name), "{name}");
        }
        for name in ["nomor", "ten_years", "vi", "do_q1", "obstacle"] {
            assert!(!looks_like_identifier(name), "{name}");
        }
    }

    #[test]
    fn profile_withholds_identifier_values() {
        let col = RawColumn::from_cells("RESP_PHONE", &["0812", "0813", ""]).unwrap();
        let p = profile(&col);
        assert!(p.likely_identifier && p.values.is_empty() && p.has_empty);
        assert_eq!(p.distinct, 2);
        let col = RawColumn::from_cells("Q1", &["2", "10", "1", "2", "1", "10"]).unwrap();
        assert_eq!(profile(&col).values, vec!["1", "2", "10"]);
    }

    #[test]
    fn small_registers_and_name_or_phone_shaped_values_are_not_listed() {
        // A register of a few participants under a harmless column name: every value once.
        let names = [
            "Somchai Jaidee",
            "Baré Pakiso",
            "Mene Réneré",
            "Doki Ñarémü",
        ];
        let col = RawColumn::from_cells("PARTICIPANT", &names).unwrap();
        let p = profile(&col);
        assert!(p.values.is_empty() && p.distinct == 4, "{p:?}");
        // Single first names: code-like one by one, but they do not repeat.
        let col = RawColumn::from_cells("WHO", &["Somchai", "Baré", "Mene"]).unwrap();
        assert!(profile(&col).values.is_empty());
        // Names repeated (a small team of interviewers): still name-shaped.
        let col = RawColumn::from_cells(
            "INTERVIEWER",
            &[
                "Somchai Jaidee",
                "Somchai Jaidee",
                "Baré Pakiso",
                "Baré Pakiso",
            ],
        )
        .unwrap();
        assert!(profile(&col).values.is_empty());
        let col = RawColumn::from_cells(
            "CONTACT",
            &["0899990001", "0899990001", "0812345678", "0812345678"],
        )
        .unwrap();
        assert!(profile(&col).values.is_empty());
        let col = RawColumn::from_cells("MAIL", &["a@b.org", "a@b.org"]).unwrap();
        assert!(profile(&col).values.is_empty());
        // Codes that repeat are listed; a labelled variable's codes are listed even when each occurs once.
        let col = RawColumn::from_cells("ZONE", &["North", "South", "North", "South"]).unwrap();
        assert_eq!(profile(&col).values, vec!["North", "South"]);
        let mut col = RawColumn::from_cells("Q7", &["1", "2", "3"]).unwrap();
        col.labels.value_labels = vec![("1".into(), "Yes".into()), ("2".into(), "No".into())];
        assert_eq!(profile(&col).values, vec!["1", "2", "3"]);
    }
}
