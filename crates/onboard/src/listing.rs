//! The comment lines that describe a delivery file in the skeleton: its sheets with their sizes and every variable
//! with its type, variable label, a few distinct values, value labels, declared missing codes and ranges and date
//! layout. Delivered text is escaped with [`crate::toml_text`]; values of identifiers, keys and free text are never
//! listed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::inspect::{DateLayout, InspectedFile};
use crate::toml_text::{comment, string};

/// Longest variable label shown in a listing (characters).
pub const MAX_LABEL_CHARS: usize = 80;
/// At most this many value labels are listed per variable (each cut to [`MAX_VALUE_LABEL_CHARS`]).
pub const MAX_LISTED_LABELS: usize = 20;
/// Longest value label shown in a listing (characters).
pub const MAX_VALUE_LABEL_CHARS: usize = 40;

/// A code as the listing shows it: numbers as they are, `LO`/`HI` for infinite range ends.
fn range_end(x: f64) -> String {
    if x == f64::NEG_INFINITY {
        "LO".into()
    } else if x == f64::INFINITY {
        "HI".into()
    } else {
        dh_ingest::readers::cells::number_text(x)
    }
}

/// A listed value: numbers bare, anything else as a quoted string (so commas and blanks stay unambiguous).
pub(crate) fn shown_value(v: &str) -> String {
    if !v.is_empty() && v.parse::<f64>().is_ok() && v.trim() == v {
        v.to_string()
    } else {
        string(v)
    }
}

/// Comment lines listing the sheets (`.xlsx`) and every variable: type, variable label, a few distinct values, value
/// labels and declared missing codes and ranges. Values are never listed for likely identifiers, free text or the
/// variables in `withheld` (those mapped to keys); value labels of likely identifiers are counted, not listed.
pub fn variable_listing(file: &InspectedFile, withheld: &BTreeSet<&str>) -> String {
    let mut text = String::new();
    if !file.sheets.is_empty() {
        let list: Vec<String> = file
            .sheets
            .iter()
            .map(|s| {
                let read = if file.layout.sheet.as_deref() == Some(s.name.as_str()) {
                    " <- read"
                } else {
                    ""
                };
                format!(
                    "{} ({} rows x {} columns){read}",
                    string(&s.name),
                    s.rows,
                    s.columns
                )
            })
            .collect();
        let _ = writeln!(text, "#   sheets: {}", list.join(", "));
    }
    let _ = writeln!(
        text,
        "#   {} rows, {} variables",
        file.rows,
        file.variables.len()
    );
    for v in &file.variables {
        let mut line = format!("#   {:<28} {:<8}", comment(&v.name), v.kind);
        if let Some(label) = v.variable_label.as_deref().filter(|l| !l.trim().is_empty()) {
            let _ = write!(
                line,
                " label {}",
                string(&crate::toml_text::truncate(label, MAX_LABEL_CHARS))
            );
        }
        if v.likely_identifier {
            line.push_str(" likely direct identifier: values not listed");
        } else if v.free_text {
            let _ = write!(
                line,
                " free text: {} distinct values, not listed",
                v.distinct
            );
        } else if withheld.contains(v.name.as_str()) {
            let _ = write!(
                line,
                " identifier: {} distinct values, not listed",
                v.distinct
            );
        } else if v.values.is_empty() && v.distinct > 0 {
            let _ = write!(line, " {} distinct values", v.distinct);
        } else if !v.values.is_empty() {
            let shown: Vec<String> = v.values.iter().map(|x| shown_value(x)).collect();
            let _ = write!(line, " values: {}", shown.join(", "));
        }
        if v.has_empty {
            line.push_str(" (and empty cells)");
        }
        match v.dates {
            DateLayout::Format(f) => {
                let _ = write!(line, "; dates {}", string(f));
            }
            DateLayout::Ambiguous(a, b) => {
                let _ = write!(line, "; dates {} or {}", string(a), string(b));
            }
            _ => {}
        }
        if !v.value_labels.is_empty() {
            if v.likely_identifier || v.free_text || withheld.contains(v.name.as_str()) {
                let _ = write!(line, "; {} value labels, not listed", v.value_labels.len());
            } else {
                let labels: Vec<String> = v
                    .value_labels
                    .iter()
                    .take(MAX_LISTED_LABELS)
                    .map(|(c, l)| {
                        let l = crate::toml_text::truncate(l, MAX_VALUE_LABEL_CHARS);
                        format!("{}={}", comment(c), string(&l))
                    })
                    .collect();
                let more = v.value_labels.len().saturating_sub(MAX_LISTED_LABELS);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                let _ = write!(line, "; labels: {}{more}", labels.join(", "));
            }
        }
        if !v.declared_missing.is_empty() {
            let codes: Vec<String> = v.declared_missing.iter().map(|c| comment(c)).collect();
            let _ = write!(line, "; declared missing: {}", codes.join(", "));
        }
        if !v.missing_ranges.is_empty() {
            let ranges: Vec<String> = v
                .missing_ranges
                .iter()
                .map(|(lo, hi)| format!("{} THRU {}", range_end(*lo), range_end(*hi)))
                .collect();
            let _ = write!(line, "; declared missing ranges: {}", ranges.join(", "));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sav_file, variable};

    #[test]
    fn long_value_label_lists_are_cut() {
        let labels: Vec<(String, String)> = (0..30)
            .map(|i| (i.to_string(), format!("Village {i} {}", "y".repeat(60))))
            .collect();
        let mut v = variable("VILLAGE", &[], &[]);
        v.value_labels = labels;
        let file = sav_file("x.sav", vec![v]);
        let text = variable_listing(&file, &BTreeSet::new());
        assert!(text.contains("19=\"Village 19 yyy"), "{text}");
        assert!(
            !text.contains("20=") && text.contains(" and 10 more"),
            "{text}"
        );
        assert!(!text.contains(&"y".repeat(40)), "{text}");
    }
}
