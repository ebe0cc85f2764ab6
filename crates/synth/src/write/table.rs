//! [`TextTable`]: one delivery's cells as text, column by column, with what a self-describing format can declare
//! about each column (value labels, missing codes). Every format writer ([`super::FormatWriter`]) takes one, so
//! the inverse mapping and the planted problems are computed once, whatever the file format.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use dh_config::{ColumnMap, ValueSource};

/// One column of a delivery.
#[derive(Debug, Clone, Default)]
pub struct TextColumn {
    pub name: String,
    text: String,
    ends: Vec<usize>,
    /// (source code, human label), for formats with value labels.
    pub value_labels: Vec<(String, String)>,
    /// Source codes that mean "missing" (declared as user-missing in `.sav`).
    pub missing_codes: Vec<String>,
    /// Question text (the harmonised column's title), for formats with variable labels and label rows.
    pub variable_label: Option<String>,
}

impl TextColumn {
    pub fn new(name: impl Into<String>) -> Self {
        TextColumn {
            name: name.into(),
            ..Default::default()
        }
    }

    pub fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, row: usize) -> &str {
        let end = self.ends.get(row).copied().unwrap_or(0);
        let start = match row {
            0 => 0,
            _ => self.ends.get(row - 1).copied().unwrap_or(0),
        };
        self.text.get(start..end).unwrap_or_default()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|r| self.get(r))
    }

    /// Replaces every cell with `f(cell)` (`None` keeps the cell).
    fn rewrite(&mut self, mut f: impl FnMut(&str) -> Option<String>) {
        let mut out = TextColumn {
            text: String::with_capacity(self.text.len()),
            ends: Vec::with_capacity(self.ends.len()),
            ..TextColumn::new(std::mem::take(&mut self.name))
        };
        for cell in self.iter() {
            match f(cell) {
                Some(new) => out.push(&new),
                None => out.push(cell),
            }
        }
        self.name = out.name;
        self.text = out.text;
        self.ends = out.ends;
    }

    /// Writes the column the way a delivery mapped with `map` holds it: with `value = "label"`, each distinct text
    /// (other than empty cells and missing codes) becomes a numeric code (11, 12, ... in sorted order, as agencies
    /// number regions) labelled with the text; with `date_format`, ISO dates are written in that layout.
    pub fn apply_mapping(&mut self, map: &ColumnMap) -> Result<(), String> {
        if map.value == ValueSource::Label {
            let texts: BTreeSet<String> = self
                .iter()
                .filter(|c| !c.is_empty() && !self.missing_codes.iter().any(|m| m == c))
                .map(str::to_string)
                .collect();
            let codes: BTreeMap<String, String> = texts
                .into_iter()
                .enumerate()
                .map(|(i, t)| (t, (11 + i).to_string()))
                .collect();
            self.rewrite(|c| codes.get(c).cloned());
            self.value_labels = codes.into_iter().map(|(t, c)| (c, t)).collect();
            self.value_labels
                .sort_by_key(|(c, _)| c.parse::<u64>().unwrap_or(u64::MAX));
        }
        if let Some(format) = &map.date_format {
            let mut bad = None;
            self.rewrite(|c| {
                let date = chrono::NaiveDate::parse_from_str(c, "%Y-%m-%d").ok()?;
                let mut out = String::new();
                if write!(out, "{}", date.format(format)).is_err() {
                    bad = Some(format.clone());
                    return None;
                }
                Some(out)
            });
            if let Some(format) = bad {
                return Err(format!("`{format}` is not a date format chrono can write"));
            }
        }
        Ok(())
    }

    /// Whether every non-empty cell is a plain decimal number a statistics package would store as numeric
    /// (no leading zeros such as `007`, no `+`, exponent, `inf` or `NaN`), and at least one cell is non-empty.
    pub fn is_numeric(&self) -> bool {
        let mut any = false;
        for cell in self.iter() {
            if cell.is_empty() {
                continue;
            }
            if !plain_number(cell) {
                return false;
            }
            any = true;
        }
        any
    }
}

/// A plain decimal number: optional `-`, digits without a leading zero (except `0` itself), optional fraction.
pub fn plain_number(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int)
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(digits)
        && int.len() <= 15
}

/// The cells of one delivery.
#[derive(Debug, Clone, Default)]
pub struct TextTable {
    pub columns: Vec<TextColumn>,
}

impl TextTable {
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        TextTable {
            columns: names.into_iter().map(TextColumn::new).collect(),
        }
    }

    /// Appends one row (one cell per column; missing cells are written empty).
    pub fn push_row<S: AsRef<str>>(&mut self, cells: &[S]) {
        for (c, column) in self.columns.iter_mut().enumerate() {
            column.push(cells.get(c).map_or("", |s| s.as_ref()));
        }
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, TextColumn::len)
    }
}

/// A human label for a harmonised label: `dont_know` -> `Don't know`, `social_media` -> `Social media`.
pub fn human_label(label: &str) -> String {
    let spaced = match label {
        "dont_know" => "don't know".to_string(),
        other => other.replace('_', " "),
    };
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_columns_are_plain_numbers_only() {
        let col = |cells: &[&str]| {
            let mut c = TextColumn::new("x");
            cells.iter().for_each(|s| c.push(s));
            c.is_numeric()
        };
        assert!(col(&["1", "", "-3", "12.3400", "0.5"]));
        assert!(!col(&["1", "007"]));
        assert!(!col(&["1", "+2"]));
        assert!(!col(&["1e3"]));
        assert!(!col(&["", ""]));
        assert!(!col(&["Bangkok"]));
        assert!(!col(&["1234567890123456"]));
    }

    #[test]
    fn mapping_forms_write_labels_as_codes_and_local_dates() {
        let mut region = TextColumn::new("GOV");
        ["Irbid", "Amman", "", "Irbid", "99"]
            .iter()
            .for_each(|c| region.push(c));
        region.missing_codes = vec!["99".into()];
        let map = ColumnMap {
            value: ValueSource::Label,
            ..Default::default()
        };
        region.apply_mapping(&map).unwrap();
        assert_eq!(
            region.iter().collect::<Vec<_>>(),
            vec!["12", "11", "", "12", "99"]
        );
        assert_eq!(
            region.value_labels,
            vec![("11".into(), "Amman".into()), ("12".into(), "Irbid".into())]
        );
        let mut date = TextColumn::new("INT_DATE");
        ["2022-03-04", "", "not a date"]
            .iter()
            .for_each(|c| date.push(c));
        let map = ColumnMap {
            date_format: Some("%d/%m/%Y".into()),
            ..Default::default()
        };
        date.apply_mapping(&map).unwrap();
        assert_eq!(
            date.iter().collect::<Vec<_>>(),
            vec!["04/03/2022", "", "not a date"]
        );
        let bad = ColumnMap {
            date_format: Some("%Q".into()),
            ..Default::default()
        };
        assert!(date.apply_mapping(&ColumnMap::default()).is_ok());
        let mut d2 = TextColumn::new("D");
        d2.push("2022-03-04");
        assert!(d2.apply_mapping(&bad).is_err());
    }

    #[test]
    fn human_labels() {
        assert_eq!(human_label("dont_know"), "Don't know");
        assert_eq!(human_label("social_media"), "Social media");
        assert_eq!(human_label("yes"), "Yes");
    }
}
