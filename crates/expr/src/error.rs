//! Error types of the expression language: parse errors, column/type check errors and evaluation errors.
//!
//! Parse and check errors carry the byte offset of the problem and render the expression with a caret line under
//! it, so a message printed for an analyst shows where the problem is and what was expected.

use std::fmt;

/// What went wrong while reading the expression text.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseErrorKind {
    /// A character that cannot start a token (e.g. `&`, `ä`).
    UnexpectedChar(char),
    /// A quoted string without its closing quote.
    UnterminatedString,
    /// A backslash escape other than `\"`, `\'` or `\\`.
    InvalidEscape(char),
    /// Text that looks like a number but is not a finite number.
    InvalidNumber(String),
    /// A token other than the ones the grammar allows here.
    Expected { expected: String, found: String },
    /// A function name other than `any`, `all`, `is_missing`.
    UnknownFunction(String),
    /// A list `[...]` or `any(...)`/`all(...)` with nothing inside.
    Empty(String),
    /// Parentheses or `not` nested deeper than the parser allows.
    TooDeep(usize),
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::UnexpectedChar(c) => write!(f, "unexpected character `{c}`"),
            ParseErrorKind::UnterminatedString => {
                write!(f, "string is not closed: expected a closing quote")
            }
            ParseErrorKind::InvalidEscape(c) => {
                write!(
                    f,
                    "invalid escape `\\{c}` in string: expected one of \\\" \\' \\\\"
                )
            }
            ParseErrorKind::InvalidNumber(t) => write!(f, "`{t}` is not a valid number"),
            ParseErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            ParseErrorKind::UnknownFunction(name) => {
                write!(
                    f,
                    "unknown function `{name}`: expected one of any, all, is_missing"
                )
            }
            ParseErrorKind::Empty(what) => {
                write!(f, "{what} is empty: expected at least one element")
            }
            ParseErrorKind::TooDeep(limit) => {
                write!(f, "expression is nested deeper than {limit} levels")
            }
        }
    }
}

/// A syntax error with the position (byte offset) where it was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind} at byte {offset}\n{}", caret(source_text, *offset))]
pub struct ParseError {
    pub kind: ParseErrorKind,
    /// Byte offset into the expression text.
    pub offset: usize,
    /// The expression text, kept so the error can show where it points.
    pub source_text: String,
}

impl ParseError {
    pub fn new(source: &str, offset: usize, kind: ParseErrorKind) -> Self {
        ParseError {
            kind,
            offset,
            source_text: source.to_string(),
        }
    }
}

/// What the column/type check found wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckErrorKind {
    /// A column that the table does not have.
    UnknownColumn {
        column: String,
        suggestion: Option<String>,
    },
    /// A quoted label that is neither a category nor a missing code of the column.
    UnknownLabel {
        column: String,
        label: String,
        allowed: Vec<String>,
    },
    /// A comparison whose operand does not fit the column's kind (e.g. a number against a categorical column).
    TypeMismatch { column: String, message: String },
    /// A bare column used as a condition that is not a boolean column.
    NotACondition { column: String, kind: String },
}

impl fmt::Display for CheckErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckErrorKind::UnknownColumn { column, suggestion } => {
                write!(f, "unknown column `{column}`")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean `{s}`?)")?;
                }
                Ok(())
            }
            CheckErrorKind::UnknownLabel {
                column,
                label,
                allowed,
            } => write!(
                f,
                "column `{column}` has no label \"{label}\": expected one of {}",
                allowed
                    .iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            CheckErrorKind::TypeMismatch { column, message } => {
                write!(f, "column `{column}`: {message}")
            }
            CheckErrorKind::NotACondition { column, kind } => write!(
                f,
                "column `{column}` is {kind}, not a condition: expected a comparison such as `{column} == \"yes\"`"
            ),
        }
    }
}

/// One problem found by the column/type check, with the byte offset it points at.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckError {
    pub kind: CheckErrorKind,
    pub offset: usize,
}

/// Every problem the column/type check found in one expression (never empty).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct CheckErrors {
    pub errors: Vec<CheckError>,
    pub source_text: String,
}

impl fmt::Display for CheckErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{} at byte {}\n{}",
                e.kind,
                e.offset,
                caret(&self.source_text, e.offset)
            )?;
        }
        Ok(())
    }
}

/// A parse or check failure of one expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Check(#[from] CheckErrors),
}

impl ExprError {
    /// Byte offset of the (first) problem inside the expression text.
    pub fn offset(&self) -> usize {
        match self {
            ExprError::Parse(e) => e.offset,
            ExprError::Check(e) => e.errors.first().map(|e| e.offset).unwrap_or(0),
        }
    }
}

/// A failure while evaluating a checked expression on a record batch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("column `{column}` is not in the record batch")]
    MissingColumn { column: String },
    #[error("column `{column}` has Arrow type {data_type}, which {expected}")]
    UnsupportedType {
        column: String,
        data_type: String,
        expected: String,
    },
    #[error(
        "more than {limit} distinct missing codes are declared; the evaluator tracks at most {limit}"
    )]
    TooManyMissingCodes { limit: usize },
}

/// The expression on one line and a caret under the byte `offset` (counted in characters for display).
pub fn caret(source: &str, offset: usize) -> String {
    let offset = offset.min(source.len());
    let line_start = source[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = source[offset..]
        .find('\n')
        .map(|i| offset + i)
        .unwrap_or(source.len());
    let line = &source[line_start..line_end];
    let column = source
        .get(line_start..offset)
        .map(|s| s.chars().count())
        .unwrap_or(0);
    format!("  {line}\n  {}^", " ".repeat(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_offset() {
        assert_eq!(caret("a == b", 5), "  a == b\n       ^");
        assert_eq!(caret("a == b", 6), "  a == b\n        ^");
        assert_eq!(caret("x\nyy == 1", 5), "  yy == 1\n     ^");
        assert_eq!(caret("é == 1", 3), "  é == 1\n    ^");
    }

    #[test]
    fn parse_error_display_shows_position_and_caret() {
        let e = ParseError::new(
            "a == ",
            5,
            ParseErrorKind::Expected {
                expected: "a value".into(),
                found: "end".into(),
            },
        );
        assert_eq!(
            e.to_string(),
            "expected a value, found end at byte 5\n  a == \n       ^"
        );
    }
}
