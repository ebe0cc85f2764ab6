//! Column and type check: does every column exist, does every quoted label belong to its column, and does every
//! comparison fit the column's kind?
//!
//! Rules: categorical and text columns take quoted labels with `==`, `!=`, `in`; numeric columns take numbers with
//! every comparison; boolean columns take `true`/`false` with `==`/`!=` or stand alone as a condition. A label is
//! valid for a categorical column when it is one of its categories or one of the table's labelled missing codes
//! (`dont_know`, `refused`, ...). `is_missing(col)` accepts any known column. All problems are reported, not only
//! the first.

use std::collections::BTreeMap;

use crate::ast::{ColumnRef, CompareOp, Expr, Literal, LiteralAt};
use crate::error::{CheckError, CheckErrorKind, CheckErrors};

/// What kind of values a column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnKind {
    /// Labelled categories (stored as Arrow dictionary strings); the labels in code order.
    Categorical {
        labels: Vec<String>,
    },
    /// Free text (compared by exact string).
    Text,
    /// Integers or decimals.
    Number,
    Boolean,
}

impl ColumnKind {
    fn describe(&self) -> &'static str {
        match self {
            ColumnKind::Categorical { .. } => "categorical",
            ColumnKind::Text => "text",
            ColumnKind::Number => "numeric",
            ColumnKind::Boolean => "boolean",
        }
    }
}

/// The columns an expression may use (one harmonised table) and the table's labelled missing codes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    columns: BTreeMap<String, ColumnKind>,
    missing_codes: Vec<String>,
}

impl Columns {
    /// A table with the given labelled missing codes (e.g. `dont_know`, `refused`, `not_applicable`).
    pub fn new(missing_codes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Columns {
            columns: BTreeMap::new(),
            missing_codes: missing_codes.into_iter().map(Into::into).collect(),
        }
    }

    /// Adds (or replaces) a column.
    pub fn with(mut self, name: impl Into<String>, kind: ColumnKind) -> Self {
        self.insert(name, kind);
        self
    }

    pub fn insert(&mut self, name: impl Into<String>, kind: ColumnKind) {
        self.columns.insert(name.into(), kind);
    }

    pub fn get(&self, name: &str) -> Option<&ColumnKind> {
        self.columns.get(name)
    }

    /// The table's labelled missing codes, in declaration order.
    pub fn missing_codes(&self) -> &[String] {
        &self.missing_codes
    }

    fn is_missing_code(&self, label: &str) -> bool {
        self.missing_codes.iter().any(|m| m == label)
    }

    /// The closest known column name, if one is close enough to be a likely typo.
    fn suggest(&self, name: &str) -> Option<String> {
        let limit = (name.chars().count() / 3).max(2);
        self.columns
            .keys()
            .map(|k| (edit_distance(name, k), k))
            .filter(|(d, _)| *d <= limit)
            .min()
            .map(|(_, k)| k.clone())
    }
}

/// Checks `expr` against `columns`; `source` is the expression text, kept for the error display.
pub fn check(expr: &Expr, columns: &Columns, source: &str) -> Result<(), CheckErrors> {
    let mut errors = Vec::new();
    check_into(expr, columns, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CheckErrors {
            errors,
            source_text: source.to_string(),
        })
    }
}

fn check_into(expr: &Expr, columns: &Columns, errors: &mut Vec<CheckError>) {
    match expr {
        Expr::Const(_) => {}
        Expr::Column(col) => {
            if let Some(kind) = lookup(col, columns, errors)
                && *kind != ColumnKind::Boolean
            {
                errors.push(CheckError {
                    kind: CheckErrorKind::NotACondition {
                        column: col.name.clone(),
                        kind: kind.describe().to_string(),
                    },
                    offset: col.offset,
                });
            }
        }
        Expr::IsMissing(col) => {
            lookup(col, columns, errors);
        }
        Expr::Compare { column, op, value } => {
            if let Some(kind) = lookup(column, columns, errors) {
                check_operand(column, kind, *op, value, columns, errors);
            }
        }
        Expr::InList { column, values, .. } => {
            if let Some(kind) = lookup(column, columns, errors) {
                for value in values {
                    check_operand(column, kind, CompareOp::Eq, value, columns, errors);
                }
            }
        }
        Expr::Not(inner) => check_into(inner, columns, errors),
        Expr::And(items) | Expr::Or(items) => {
            items.iter().for_each(|e| check_into(e, columns, errors))
        }
    }
}

fn lookup<'c>(
    col: &ColumnRef,
    columns: &'c Columns,
    errors: &mut Vec<CheckError>,
) -> Option<&'c ColumnKind> {
    let found = columns.get(&col.name);
    if found.is_none() {
        errors.push(CheckError {
            kind: CheckErrorKind::UnknownColumn {
                column: col.name.clone(),
                suggestion: columns.suggest(&col.name),
            },
            offset: col.offset,
        });
    }
    found
}

fn check_operand(
    column: &ColumnRef,
    kind: &ColumnKind,
    op: CompareOp,
    value: &LiteralAt,
    columns: &Columns,
    errors: &mut Vec<CheckError>,
) {
    let mismatch = |message: String| CheckError {
        kind: CheckErrorKind::TypeMismatch {
            column: column.name.clone(),
            message,
        },
        offset: value.offset,
    };
    let expected_literal = match kind {
        ColumnKind::Categorical { .. } | ColumnKind::Text => "a quoted label",
        ColumnKind::Number => "a number",
        ColumnKind::Boolean => "a boolean",
    };
    if value.value.kind_name() != expected_literal {
        errors.push(mismatch(format!(
            "a {} column is compared with {}, found {}",
            kind.describe(),
            expected_literal,
            value.value.kind_name()
        )));
        return;
    }
    if op.is_ordering() && !matches!(kind, ColumnKind::Number) {
        errors.push(CheckError {
            kind: CheckErrorKind::TypeMismatch {
                column: column.name.clone(),
                message: format!(
                    "`{}` needs a numeric column, but this column is {}: use `==`, `!=` or `in [...]`",
                    op.symbol(),
                    kind.describe()
                ),
            },
            offset: column.offset,
        });
        return;
    }
    if let (ColumnKind::Categorical { labels }, Literal::Label(label)) = (kind, &value.value)
        && !labels.contains(label)
        && !columns.is_missing_code(label)
    {
        let allowed = labels
            .iter()
            .chain(columns.missing_codes.iter())
            .cloned()
            .collect();
        errors.push(CheckError {
            kind: CheckErrorKind::UnknownLabel {
                column: column.name.clone(),
                label: label.clone(),
                allowed,
            },
            offset: value.offset,
        });
    }
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn columns() -> Columns {
        let yes_no = ColumnKind::Categorical {
            labels: vec!["yes".into(), "no".into()],
        };
        Columns::new(["dont_know", "refused"])
            .with("offered_money_images", yes_no.clone())
            .with("told_nobody", yes_no)
            .with("age", ColumnKind::Number)
            .with("region_name", ColumnKind::Text)
            .with("is_urban", ColumnKind::Boolean)
    }

    fn errors(src: &str) -> Vec<(CheckErrorKind, usize)> {
        let expr = match parse(src) {
            Ok(e) => e,
            Err(e) => panic!("parse failed: {e}"),
        };
        match check(&expr, &columns(), src) {
            Ok(()) => Vec::new(),
            Err(e) => e.errors.into_iter().map(|e| (e.kind, e.offset)).collect(),
        }
    }

    #[test]
    fn valid_expressions_pass() {
        for src in [
            "offered_money_images == \"yes\"",
            "told_nobody in [\"yes\", \"dont_know\"] and age >= 15",
            "region_name != \"North\" or is_urban or is_urban == false",
            "is_missing(told_nobody) or not is_missing(age)",
            "offered_money_images == \"refused\"",
            "true",
        ] {
            assert_eq!(errors(src), vec![], "{src}");
        }
    }

    #[test]
    fn unknown_column_with_suggestion() {
        assert_eq!(
            errors("offered_money_image == \"yes\""),
            vec![(
                CheckErrorKind::UnknownColumn {
                    column: "offered_money_image".into(),
                    suggestion: Some("offered_money_images".into())
                },
                0
            )]
        );
        assert_eq!(
            errors("true and zzz > 1"),
            vec![(
                CheckErrorKind::UnknownColumn {
                    column: "zzz".into(),
                    suggestion: None
                },
                9
            )]
        );
        assert_eq!(errors("is_missing(agee)").len(), 1);
    }

    #[test]
    fn unknown_label_lists_allowed_labels() {
        let errs = errors("age > 1 and told_nobody in [\"yes\", \"Yes\"]");
        assert_eq!(
            errs,
            vec![(
                CheckErrorKind::UnknownLabel {
                    column: "told_nobody".into(),
                    label: "Yes".into(),
                    allowed: vec![
                        "yes".into(),
                        "no".into(),
                        "dont_know".into(),
                        "refused".into()
                    ]
                },
                35
            )]
        );
    }

    #[test]
    fn type_mismatches() {
        let kinds = |src: &str| {
            errors(src)
                .into_iter()
                .map(|(k, o)| (matches!(k, CheckErrorKind::TypeMismatch { .. }), o))
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds("told_nobody == 1"), vec![(true, 15)]);
        assert_eq!(kinds("age == \"15\""), vec![(true, 7)]);
        assert_eq!(kinds("is_urban == \"yes\""), vec![(true, 12)]);
        assert_eq!(kinds("region_name == true"), vec![(true, 15)]);
        // Ordering on a categorical column points at the column.
        assert_eq!(kinds("told_nobody < \"yes\""), vec![(true, 0)]);
        assert_eq!(kinds("age in [1, \"x\"]"), vec![(true, 11)]);
    }

    #[test]
    fn bare_non_boolean_column_is_not_a_condition() {
        assert_eq!(
            errors("age"),
            vec![(
                CheckErrorKind::NotACondition {
                    column: "age".into(),
                    kind: "numeric".into()
                },
                0
            )]
        );
    }

    #[test]
    fn all_errors_are_reported() {
        assert_eq!(errors("a == 1 or b == 2 or told_nobody == \"x\"").len(), 3);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }
}
