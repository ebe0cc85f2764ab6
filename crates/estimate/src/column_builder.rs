//! Accumulates one CSV column while records are parsed: numeric while every non-missing field is a
//! number, dictionary-encoded text otherwise; builders of consecutive blocks merge in order.

use std::collections::HashMap;

use crate::table::{Categorical, Column, MISSING_CODE};

/// A text field that is not valid UTF-8 (the caller names the file, line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

/// One column being read.
#[derive(Debug)]
pub enum ColumnBuilder {
    /// Every non-missing field so far was a number (`NaN` = missing); `any` says whether there was one, so a
    /// literal `NaN` counts as a value, not as missing, when text turns up later.
    Numeric { values: Vec<f64>, any: bool },
    /// Dictionary-encoded text in first-seen order.
    Text {
        index: HashMap<Box<[u8]>, u32>,
        labels: Vec<String>,
        codes: Vec<u32>,
    },
    /// Numbers were seen before a text field: the column must be read again as text.
    NeedsText,
}

impl ColumnBuilder {
    pub fn numeric() -> Self {
        Self::Numeric {
            values: Vec::new(),
            any: false,
        }
    }

    pub fn text() -> Self {
        Self::Text {
            index: HashMap::new(),
            labels: Vec::new(),
            codes: Vec::new(),
        }
    }

    /// Adds the field of row `row` (rows counted from 0 in this builder).
    pub fn push(&mut self, field: &[u8], row: usize) -> Result<(), NotUtf8> {
        let field = field.trim_ascii();
        let missing = field.is_empty() || field == b"NA";
        match self {
            Self::Numeric { values, any } => {
                if missing {
                    values.push(f64::NAN);
                } else if let Some(x) = parse_number(field) {
                    values.push(x);
                    *any = true;
                } else if !*any {
                    *self = Self::Text {
                        index: HashMap::new(),
                        labels: Vec::new(),
                        codes: vec![MISSING_CODE; row],
                    };
                    return self.push(field, row);
                } else {
                    *self = Self::NeedsText;
                }
            }
            Self::Text {
                index,
                labels,
                codes,
            } => {
                if missing {
                    codes.push(MISSING_CODE);
                } else if let Some(&code) = index.get(field) {
                    codes.push(code);
                } else {
                    let label = std::str::from_utf8(field).map_err(|_| NotUtf8)?;
                    let code = labels.len() as u32;
                    labels.push(label.to_string());
                    index.insert(field.into(), code);
                    codes.push(code);
                }
            }
            Self::NeedsText => {}
        }
        Ok(())
    }

    /// Appends the builder of the next block (`rows_before` rows are already in `self`).
    pub fn append(&mut self, next: ColumnBuilder, rows_before: usize) {
        let current = std::mem::replace(self, Self::NeedsText);
        *self = match (current, next) {
            (
                Self::Numeric {
                    values: mut a,
                    any: any_a,
                },
                Self::Numeric {
                    values: b,
                    any: any_b,
                },
            ) => {
                a.extend_from_slice(&b);
                Self::Numeric {
                    values: a,
                    any: any_a || any_b,
                }
            }
            (
                Self::Text {
                    mut index,
                    mut labels,
                    mut codes,
                },
                Self::Text {
                    labels: next_labels,
                    codes: next_codes,
                    ..
                },
            ) => {
                let remap: Vec<u32> = next_labels
                    .into_iter()
                    .map(|label| {
                        let key: Box<[u8]> = label.as_bytes().into();
                        *index.entry(key).or_insert_with(|| {
                            labels.push(label);
                            labels.len() as u32 - 1
                        })
                    })
                    .collect();
                codes.extend(next_codes.iter().map(|&c| {
                    if c == MISSING_CODE {
                        MISSING_CODE
                    } else {
                        remap[c as usize]
                    }
                }));
                Self::Text {
                    index,
                    labels,
                    codes,
                }
            }
            (Self::Numeric { any: false, .. }, text @ Self::Text { .. }) => {
                let mut merged = Self::Text {
                    index: HashMap::new(),
                    labels: Vec::new(),
                    codes: vec![MISSING_CODE; rows_before],
                };
                merged.append(text, rows_before);
                merged
            }
            (
                Self::Text {
                    index,
                    labels,
                    mut codes,
                },
                Self::Numeric {
                    values: b,
                    any: false,
                },
            ) => {
                codes.extend(std::iter::repeat_n(MISSING_CODE, b.len()));
                Self::Text {
                    index,
                    labels,
                    codes,
                }
            }
            _ => Self::NeedsText,
        };
    }

    /// The finished column, or `None` when it must be read again as text.
    pub fn finish(self) -> Option<Column> {
        match self {
            Self::Numeric { values, .. } => Some(Column::Numeric(values)),
            Self::Text { labels, codes, .. } => Some(Column::Categorical(
                Categorical::from_dictionary(codes, labels),
            )),
            Self::NeedsText => None,
        }
    }
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Plain decimals (`-123.4567`, at most 15 digits): the digits as an exact integer divided by an
/// exact power of ten, one correctly rounded operation (Clinger's fast path), so the result equals
/// a full parser's.
fn parse_plain_decimal(field: &[u8]) -> Option<f64> {
    let (negative, digits) = match field.first()? {
        b'-' => (true, &field[1..]),
        b'+' => (false, &field[1..]),
        _ => (false, field),
    };
    let mut mantissa: u64 = 0;
    let mut n_digits = 0usize;
    let mut decimals: Option<usize> = None;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + (b - b'0') as u64;
                n_digits += 1;
                if let Some(d) = decimals.as_mut() {
                    *d += 1;
                }
            }
            b'.' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
        if n_digits > 15 {
            return None;
        }
    }
    if n_digits == 0 {
        return None;
    }
    let value = mantissa as f64 / POW10[decimals.unwrap_or(0)];
    Some(if negative { -value } else { value })
}

/// Parses a number as R's `read.csv` would, except that codes with a leading zero stay text. Of the
/// not-a-number spellings only R's `NaN` is a number (`nan`, `Nan` are text, e.g. a place name).
pub fn parse_number(field: &[u8]) -> Option<f64> {
    let digits = match field.first() {
        Some(b'+' | b'-') => &field[1..],
        _ => field,
    };
    if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
        return None;
    }
    parse_plain_decimal(field)
        .or_else(|| fast_float2::parse::<f64, _>(field).ok())
        .filter(|x| !x.is_nan() || field == b"NaN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_equal_a_full_parser() {
        for text in [
            "0",
            "1",
            "-1",
            "134.365481",
            "44.2099990844727",
            "0.1",
            "0.30000000000000004",
            "999999999999999",
            "-0.000001",
            "123456789.012345",
            "7.",
            ".5",
        ] {
            let expected: f64 = text.parse().unwrap();
            assert_eq!(parse_number(text.as_bytes()), Some(expected), "{text}");
        }
        assert_eq!(parse_number(b"1e3"), Some(1000.0));
        assert_eq!(
            parse_number(b"1234567890123456789"),
            Some(1234567890123456789.0)
        );
        assert_eq!(parse_number(b"007"), None);
        assert_eq!(parse_number(b"."), None);
        assert_eq!(parse_number(b"1.2.3"), None);
        assert_eq!(parse_number(b"abc"), None);
    }

    fn filled(kind: ColumnBuilder, fields: &[&str]) -> ColumnBuilder {
        let mut b = kind;
        for (row, f) in fields.iter().enumerate() {
            b.push(f.as_bytes(), row).unwrap();
        }
        b
    }

    #[test]
    fn blocks_merge_like_one_pass() {
        let whole = filled(
            ColumnBuilder::numeric(),
            &["NA", "", "b", "a", "b", "NA", "c"],
        );
        let mut first = filled(ColumnBuilder::numeric(), &["NA", ""]);
        first.append(filled(ColumnBuilder::numeric(), &["b", "a"]), 2);
        first.append(filled(ColumnBuilder::numeric(), &["b", "NA"]), 4);
        first.append(filled(ColumnBuilder::numeric(), &["c"]), 6);
        assert_eq!(first.finish(), whole.finish());

        let mut numbers = filled(ColumnBuilder::numeric(), &["1", "2"]);
        numbers.append(filled(ColumnBuilder::numeric(), &["NA", "3.5"]), 2);
        assert_eq!(
            numbers.finish().map(|c| c.len()),
            Some(4),
            "numeric blocks concatenate"
        );

        let mut mixed = filled(ColumnBuilder::numeric(), &["1", "2"]);
        mixed.append(filled(ColumnBuilder::numeric(), &["x"]), 2);
        assert!(
            mixed.finish().is_none(),
            "numbers then text must be re-read as text"
        );
    }

    #[test]
    fn nan_spellings_other_than_rs_are_text() {
        // A place called `Nan` is a level, not a missing value, wherever the blocks split.
        let whole = filled(ColumnBuilder::numeric(), &["Nan", "Phrae", "NA"]);
        let mut split = filled(ColumnBuilder::numeric(), &["Nan"]);
        split.append(filled(ColumnBuilder::numeric(), &["Phrae", "NA"]), 1);
        for column in [whole.finish(), split.finish()] {
            match column {
                Some(Column::Categorical(c)) => {
                    assert_eq!(c.levels, ["Nan", "Phrae"]);
                    assert_eq!(c.label(0), Some("Nan"));
                }
                other => panic!("{other:?}"),
            }
        }
        // R's `NaN` is a number; followed by text the column is read again as text (where it is a level).
        let mut nan_then_text = filled(ColumnBuilder::numeric(), &["NaN"]);
        nan_then_text.append(filled(ColumnBuilder::numeric(), &["x"]), 1);
        assert!(nan_then_text.finish().is_none());
        assert!(parse_number(b"NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_number(b"nan"), None);
    }
}
