//! `dh-expr`: the indicator expression language. Universes and numerators of indicators (and the universes of
//! harmonised schema fields) are written in it, over harmonised column names:
//!
//! ```text
//! age >= 15 and sex == "female"
//! any(offered_money_images == "yes", threatened_sexual == "yes")
//! told_nobody in ["yes", "dont_know"] or not is_missing(told_police)
//! ```
//!
//! * [`parse`] reads the text (hand-written [`lexer`] + recursive-descent [`parser`]); errors give the byte
//!   offset, what was expected and a caret line.
//! * [`check`] tests the expression against the table's [`Columns`] (unknown columns, unknown labels, type
//!   mismatches — all reported at once).
//! * [`evaluate`] runs it column-wise on an Arrow `RecordBatch` with three-valued logic; see [`eval`] for the
//!   missing-value rule and [`Evaluation::resolve`] for applying an indicator's missing-code rule.
//!
//! [`compile`] does parse + check and returns a [`Compiled`] expression ready to evaluate.
//!
//! Other modules:
//!
//! - `ast`: Syntax tree of the expression language, with byte offsets kept for error messages
//! - `error`: Error types of the expression language: parse errors, column/type check errors and evaluation errors

pub mod ast;
pub mod check;
pub mod error;
pub mod eval;
pub mod lexer;
pub mod parser;

pub use ast::{ColumnRef, CompareOp, Expr, Literal};
pub use check::{ColumnKind, Columns, check};
pub use error::{
    CheckError, CheckErrorKind, CheckErrors, EvalError, ExprError, ParseError, ParseErrorKind,
};
pub use eval::{Evaluation, MissingTreatment, Resolved, evaluate};
pub use parser::parse;

use arrow::array::RecordBatch;

/// A parsed and checked expression, with the table's missing codes it will be evaluated against.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    source: String,
    expr: Expr,
    missing_codes: Vec<String>,
}

/// Parses `source` and checks it against `columns`.
pub fn compile(source: &str, columns: &Columns) -> Result<Compiled, ExprError> {
    let expr = parse(source)?;
    check(&expr, columns, source)?;
    Ok(Compiled {
        source: source.to_string(),
        expr,
        missing_codes: columns.missing_codes().to_vec(),
    })
}

impl Compiled {
    /// The expression text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Columns the expression reads.
    pub fn columns(&self) -> Vec<&str> {
        self.expr.columns()
    }

    /// Evaluates the expression on every row of `batch`.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Evaluation, EvalError> {
        evaluate(&self.expr, batch, &self.missing_codes)
    }
}
