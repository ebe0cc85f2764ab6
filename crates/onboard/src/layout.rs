//! Where the data sits in a CSV or Excel delivery: the rows of a sheet or file as text ([`Rows`], numbered as Excel
//! numbers rows or as CSV records), the row holding the variable names below any title or cover rows
//! (`header_row`), label rows right under it (`skip_rows`), and a score to pick the sheet that holds the data.
//! Nothing here keeps or reports a cell's content; only row numbers and counts leave this module.

use std::path::Path;

use calamine::{Reader, Xlsx, open_workbook};
use dh_ingest::IngestError;
use dh_ingest::readers::xlsx::cell_text;

/// Rows looked at to find the header.
pub const HEAD_ROWS: usize = 40;
/// At most this many label rows are skipped under the header.
const MAX_SKIP: usize = 3;

/// Rows of a sheet or CSV file: (1-based row number, cells as text).
pub type Rows = Vec<(u32, Vec<String>)>;

/// The proposed header row and label rows of one sheet or file, with what made the header row win.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderGuess {
    pub header_row: u32,
    pub skip_rows: u32,
    /// Non-empty rows above the header (titles, notes).
    pub rows_above: usize,
    /// Header cells that name a harmonised column (its name, title, a synonym or the defaults' source).
    pub matched: usize,
    /// Header cells that look like variable names (no blanks, letters, digits, `_` and `.`).
    pub name_like: usize,
    /// Non-empty header cells.
    pub width: usize,
}

impl HeaderGuess {
    /// Orders sheets: most harmonised columns matched, then most variable-like names, then widest.
    pub fn rank(&self) -> (usize, usize, usize) {
        (self.matched, self.name_like, self.width)
    }
}

fn filled(cells: &[String]) -> usize {
    cells.iter().filter(|c| !c.trim().is_empty()).count()
}

fn is_number(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s.parse::<f64>().is_ok_and(f64::is_finite)
}

fn name_like(s: &str) -> bool {
    let s = s.trim();
    s.len() <= 40
        && s.chars().next().is_some_and(char::is_alphabetic)
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

/// The header row among the first [`HEAD_ROWS`] rows and the label rows under it. `known` says whether a header
/// cell names a harmonised column. `None` when every row is empty.
pub fn guess_header(
    rows: &[(u32, Vec<String>)],
    known: &dyn Fn(&str) -> bool,
) -> Option<HeaderGuess> {
    let head: Vec<&(u32, Vec<String>)> = rows
        .iter()
        .filter(|(_, cells)| filled(cells) > 0)
        .take(HEAD_ROWS)
        .collect();
    let widest = head.iter().map(|(_, c)| filled(c)).max()?;
    let mut best: Option<(usize, HeaderGuess)> = None;
    for (i, (number, cells)) in head.iter().enumerate() {
        let width = filled(cells);
        let numbers = cells.iter().filter(|c| is_number(c)).count();
        if width * 2 < widest || (widest > 1 && width < 2) || numbers * 10 > width * 3 {
            continue;
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut matched = 0;
        for c in cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            if !seen.contains(&c) {
                seen.push(c);
                matched += usize::from(known(c));
            }
        }
        let guess = HeaderGuess {
            header_row: *number,
            skip_rows: 0,
            rows_above: i,
            matched,
            name_like: cells.iter().filter(|c| name_like(c)).count(),
            width,
        };
        // The first wide row is the header unless a later one names harmonised columns and scores higher (names
        // under a row of labels); a data row of short codes never wins on name-like cells alone.
        let score = guess.matched * 3 + guess.name_like;
        if best
            .as_ref()
            .is_none_or(|(s, _)| guess.matched > 0 && score > *s)
        {
            best = Some((score, guess));
        }
    }
    let (_, mut guess) = best.or_else(|| {
        let (number, cells) = head.first()?;
        Some((
            0,
            HeaderGuess {
                header_row: *number,
                skip_rows: 0,
                rows_above: 0,
                matched: 0,
                name_like: cells.iter().filter(|c| name_like(c)).count(),
                width: filled(cells),
            },
        ))
    })?;
    // Agency exports put a row of question labels under the variable names; labels copied from the questionnaire
    // can name more harmonised columns (by title) than the names do. A phrase row right under an as-wide row of
    // variable names is that label row, not the header.
    if let Some(i) = head.iter().position(|(n, _)| *n == guess.header_row)
        && i > 0
    {
        let (above_number, above) = head[i - 1];
        let above_width = filled(above);
        let above_names = above.iter().filter(|c| name_like(c)).count();
        if *above_number + 1 == guess.header_row
            && above_width * 5 >= guess.width * 4
            && above_names * 5 >= above_width * 4
            && guess.name_like * 2 < guess.width
        {
            guess = HeaderGuess {
                header_row: *above_number,
                skip_rows: 0,
                rows_above: i - 1,
                matched: above
                    .iter()
                    .map(|c| c.trim())
                    .filter(|c| !c.is_empty() && known(c))
                    .count(),
                name_like: above_names,
                width: above_width,
            };
        }
    }
    guess.skip_rows = label_rows(rows, guess.header_row);
    Some(guess)
}

/// How many rows right under the header hold labels: text in columns whose data below is numeric.
fn label_rows(rows: &[(u32, Vec<String>)], header_row: u32) -> u32 {
    let after: Vec<&(u32, Vec<String>)> = rows
        .iter()
        .filter(|(n, cells)| *n > header_row && filled(cells) > 0)
        .collect();
    // Data rows to compare with: past the rows that may be labels, keeping at least one in small files.
    let data: Vec<&Vec<String>> = after
        .iter()
        .skip(MAX_SKIP.min(after.len().saturating_sub(1)))
        .take(HEAD_ROWS)
        .map(|(_, c)| c)
        .collect();
    let columns = data.iter().map(|c| c.len()).max().unwrap_or(0);
    let numeric: Vec<usize> = (0..columns)
        .filter(|&j| {
            let cells: Vec<&str> = data
                .iter()
                .filter_map(|r| r.get(j).map(|c| c.trim()))
                .filter(|c| !c.is_empty())
                .collect();
            !cells.is_empty()
                && cells.iter().filter(|c| is_number(c)).count() * 5 >= cells.len() * 4
        })
        .collect();
    if numeric.is_empty() {
        return 0;
    }
    let mut skip = 0;
    for (number, cells) in after.iter().take(MAX_SKIP) {
        if *number != header_row.saturating_add(skip + 1) {
            break;
        }
        let texts = numeric
            .iter()
            .filter(|&&j| {
                cells
                    .get(j)
                    .is_some_and(|c| !c.trim().is_empty() && !is_number(c))
            })
            .count();
        if texts == 0 || texts * 5 < numeric.len() * 3 {
            break;
        }
        skip += 1;
    }
    skip
}

/// The 1-based number of the `i`-th row after `first` rows (saturating: a damaged file cannot overflow it).
fn row_number(first: u32, i: usize) -> u32 {
    first
        .saturating_add(u32::try_from(i).unwrap_or(u32::MAX))
        .saturating_add(1)
}

type Workbook = Xlsx<std::io::BufReader<std::fs::File>>;

fn xlsx_error(path: &Path, message: String) -> IngestError {
    IngestError::Format {
        file: path.to_path_buf(),
        format: "Excel .xlsx",
        message,
    }
}

fn open_xlsx(path: &Path) -> Result<Workbook, IngestError> {
    open_workbook(path).map_err(|e: calamine::XlsxError| xlsx_error(path, e.to_string()))
}

fn worksheet(
    workbook: &mut Workbook,
    path: &Path,
    sheet: &str,
) -> Result<calamine::Range<calamine::Data>, IngestError> {
    dh_ingest::readers::xlsx::check_dense(path, sheet)?;
    workbook
        .worksheet_range(sheet)
        .map_err(|e| xlsx_error(path, format!("worksheet `{sheet}`: {e}")))
}

/// The first [`HEAD_ROWS`] rows of each named worksheet's used range, numbered as Excel numbers them; the workbook
/// is opened once.
pub fn xlsx_heads(path: &Path, sheets: &[&str]) -> Result<Vec<Rows>, IngestError> {
    let mut workbook = open_xlsx(path)?;
    let mut out = Vec::with_capacity(sheets.len());
    for sheet in sheets {
        let range = worksheet(&mut workbook, path, sheet)?;
        let first = range.start().map_or(0, |(r, _)| r);
        out.push(
            range
                .rows()
                .take(HEAD_ROWS)
                .enumerate()
                .map(|(i, row)| (row_number(first, i), row.iter().map(cell_text).collect()))
                .collect(),
        );
    }
    Ok(out)
}

/// The records of decoded CSV text, numbered from 1, one at a time. Stops at the first record the CSV parser refuses
/// (the reader reports it when the file is read).
fn csv_records(text: &str, delimiter: u8) -> impl Iterator<Item = (u32, Vec<String>)> + '_ {
    ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
        .map_while(Result::ok)
        .enumerate()
        .map(|(i, r)| (row_number(0, i), r.iter().map(str::to_string).collect()))
}

/// The first `limit` records of decoded CSV text (see [`csv_records`]).
pub fn csv_rows(text: &str, delimiter: u8, limit: usize) -> Rows {
    csv_records(text, delimiter).take(limit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[&[&str]]) -> Rows {
        lines
            .iter()
            .enumerate()
            .map(|(i, cells)| (i as u32 + 1, cells.iter().map(|c| c.to_string()).collect()))
            .collect()
    }

    fn known(c: &str) -> bool {
        ["HHID", "SEX", "AGE", "Sex of child"].contains(&c)
    }

    #[test]
    fn header_below_title_rows_and_a_label_row_under_it() {
        let r = rows(&[
            &["Caregiver survey, Jordan 2025", "", "", ""],
            &["Agency export of 3 March", "", "", ""],
            &["", "", "", ""],
            &["HHID", "SEX", "AGE", "Q1"],
            &[
                "Household id",
                "Sex of child",
                "Age in years",
                "Uses internet",
            ],
            &["101", "1", "13", "1"],
            &["102", "2", "15", "2"],
            &["103", "2", "", "1"],
        ]);
        let g = guess_header(&r, &known).expect("guess");
        assert_eq!(
            (g.header_row, g.skip_rows, g.rows_above, g.matched),
            (4, 1, 2, 3)
        );
    }

    #[test]
    fn plain_files_keep_the_defaults_and_labels_above_names_are_not_the_header() {
        let plain = rows(&[&["HHID", "SEX"], &["1", "2"], &["2", "1"]]);
        let g = guess_header(&plain, &known).expect("guess");
        assert_eq!((g.header_row, g.skip_rows), (1, 0));
        let labels_first = rows(&[
            &["Household id", "Sex of child", "Age in years"],
            &["HHID", "SEX", "AGE"],
            &["1", "2", "14"],
        ]);
        let g = guess_header(&labels_first, &known).expect("guess");
        assert_eq!((g.header_row, g.skip_rows), (2, 0));
        let small = rows(&[
            &["HHID", "AGE"],
            &["Household", "Age in years"],
            &["1", "14"],
        ]);
        assert_eq!(guess_header(&small, &known).map(|g| g.skip_rows), Some(1));
        let text_data = rows(&[&["NAME", "REGION"], &["Region label", "x"], &["a", "b"]]);
        assert_eq!(
            guess_header(&text_data, &known).map(|g| g.skip_rows),
            Some(0)
        );
        assert_eq!(guess_header(&rows(&[&["", ""]]), &known), None);
        // Unknown names with spaces over rows of short text codes: the first row stays the header.
        let codes = rows(&[
            &["Case No", "Offence", "ICT involved"],
            &["C001", "Theft", "Yes"],
            &["C002", "Fraud", "No"],
        ]);
        assert_eq!(guess_header(&codes, &known).map(|g| g.header_row), Some(1));
    }

    #[test]
    fn a_label_row_naming_more_columns_than_the_names_above_it_is_not_the_header() {
        // Jordan's caregiver export: three title rows, the agency's variable names (one a synonym), then the
        // questionnaire's labels, which are the harmonised titles.
        let known = |c: &str| ["HHID", "Household id", "Sex of child", "Age in years"].contains(&c);
        let r = rows(&[
            &["Data export", "", "", ""],
            &["Prepared by the agency", "", "", ""],
            &["Do not circulate", "", "", ""],
            &["HHID", "CG_SEX", "CG_AGE", "P01"],
            &[
                "Household id",
                "Sex of child",
                "Age in years",
                "Uses internet",
            ],
            &["101", "1", "33", "1"],
            &["102", "2", "41", "0"],
        ]);
        let g = guess_header(&r, &known).expect("guess");
        assert_eq!((g.header_row, g.skip_rows, g.rows_above), (4, 1, 3));
    }

    #[test]
    fn csv_records_are_numbered_and_quoted_newlines_kept() {
        let r = csv_rows("Title\nA;\"B\nC\"\n1;2\n", b';', 10);
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], (2, vec!["A".to_string(), "B\nC".to_string()]));
    }
}
