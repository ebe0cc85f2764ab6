//! Universes of generated columns (`"true"`, `age >= 15`, `x == "yes" and y in ["online", "both"]`), read by the
//! pipeline's own expression language: [`dh_expr::compile`] parses the text and checks it against the table's
//! columns (same grammar, same errors as `dh validate`), and the checked tree is lowered onto the generator's row
//! of [`Cell`]s, where it is evaluated row by row while a synthetic respondent is generated.
//!
//! Evaluation follows `dh_expr::eval` exactly (three-valued Kleene logic): a comparison with a missing value is
//! *unknown* — a blank cell always, a labelled missing code unless the comparison names a missing code itself
//! (`x == "dont_know"` is true for `dont_know`, false for any other value or code); `in [..]` is the `or` of the
//! equalities; `is_missing` is true for blanks and labelled missing codes, never unknown. A child is in the
//! universe when the expression is true ([`Universe::eval`]), as `dh_expr::Evaluation::is_true` says for the
//! pipeline; false and unknown are outside (`not_applicable`). The test `agrees_with_dh_expr_on_random_rows`
//! compares every result with `dh_expr::evaluate` on the same rows. A universe may only name columns that come
//! before its own column in the schema, because answers are generated in schema order.

use dh_config::TableSchema;
use dh_expr::ast::LiteralAt;
use dh_expr::{ColumnRef, CompareOp, Expr, Literal};

use crate::cell::Cell;

/// A three-valued result: a row is in a universe only when it is [`Truth::True`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    False,
    True,
    /// Decided by a missing value (a blank cell or a labelled missing code).
    Unknown,
}

impl Truth {
    fn from_bool(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }

    fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::True => Truth::False,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// What a literal means for one column, resolved once at compile time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Cat(u16),
    Missing(u8),
    Num(f64),
}

/// A compiled universe, ready to evaluate on a row of cells of its table.
#[derive(Debug, Clone, PartialEq)]
pub enum Universe {
    Const(bool),
    Not(Box<Universe>),
    And(Vec<Universe>),
    Or(Vec<Universe>),
    Cmp {
        field: usize,
        op: CompareOp,
        target: Target,
    },
    IsMissing(usize),
}

/// A parse, check or compile problem at a byte offset of the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct UniverseError {
    pub offset: usize,
    pub message: String,
}

impl Universe {
    /// Compiles `expr` with [`dh_expr::compile`] against `table` and resolves its columns and labels; `own_index`
    /// is the index of the field whose universe this is (columns at or after it are rejected).
    pub fn compile(
        expr: &str,
        table: &TableSchema,
        own_index: usize,
    ) -> Result<Universe, UniverseError> {
        let compiled =
            dh_expr::compile(expr, &table.expr_columns()).map_err(|e| UniverseError {
                offset: e.offset(),
                message: first_message(&e),
            })?;
        Lower { table, own_index }.lower(compiled.expr())
    }

    /// True when the universe is the constant `true`.
    pub fn is_everyone(&self) -> bool {
        matches!(self, Universe::Const(true))
    }

    /// Calls `f` with the index of every column the universe reads.
    pub fn visit_fields(&self, f: &mut impl FnMut(usize)) {
        match self {
            Universe::Const(_) => {}
            Universe::Not(u) => u.visit_fields(f),
            Universe::And(us) | Universe::Or(us) => us.iter().for_each(|u| u.visit_fields(f)),
            Universe::Cmp { field, .. } | Universe::IsMissing(field) => f(*field),
        }
    }

    /// Whether the row is in the universe: the expression is true (not false, not unknown). Cells are in schema
    /// order; only earlier columns are read.
    pub fn eval(&self, row: &[Cell]) -> bool {
        self.truth(row) == Truth::True
    }

    /// The three-valued result on a row.
    pub fn truth(&self, row: &[Cell]) -> Truth {
        match self {
            Universe::Const(b) => Truth::from_bool(*b),
            Universe::Not(u) => u.truth(row).not(),
            Universe::And(us) => us.iter().fold(Truth::True, |acc, u| acc.and(u.truth(row))),
            Universe::Or(us) => us.iter().fold(Truth::False, |acc, u| acc.or(u.truth(row))),
            Universe::Cmp { field, op, target } => compare(row[*field], *op, *target),
            Universe::IsMissing(field) => {
                Truth::from_bool(matches!(row[*field], Cell::Missing(_) | Cell::Blank))
            }
        }
    }
}

/// The first problem of a failed compile, without the caret picture (the offset is kept separately).
fn first_message(e: &dh_expr::ExprError) -> String {
    match e {
        dh_expr::ExprError::Parse(p) => p.kind.to_string(),
        dh_expr::ExprError::Check(c) => c
            .errors
            .iter()
            .map(|e| e.kind.to_string())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// One leaf comparison, by `dh_expr::eval`'s rules for a labelled or numeric column.
fn compare(cell: Cell, op: CompareOp, target: Target) -> Truth {
    match (cell, target) {
        (Cell::Blank | Cell::Frame, _) => Truth::Unknown,
        // A comparison naming a missing code is decided for every value that is there.
        (Cell::Missing(a), Target::Missing(b)) => equality(op, a == b),
        (_, Target::Missing(_)) => equality(op, false),
        (Cell::Missing(_), _) => Truth::Unknown,
        (Cell::Cat(a), Target::Cat(b)) => equality(op, a == b),
        (Cell::Int(a), Target::Num(b)) => Truth::from_bool(op.apply(&f64::from(a), &b)),
        (Cell::Num(a), Target::Num(b)) => Truth::from_bool(op.apply(&f64::from(a), &b)),
        // A category against a number or a number against a label: the check rejects both.
        _ => equality(op, false),
    }
}

fn equality(op: CompareOp, equal: bool) -> Truth {
    match op {
        CompareOp::Ne => Truth::from_bool(!equal),
        _ => Truth::from_bool(equal),
    }
}

/// Lowers a checked `dh_expr` tree onto the schema's field and label indexes.
struct Lower<'a> {
    table: &'a TableSchema,
    own_index: usize,
}

impl Lower<'_> {
    fn lower(&self, expr: &Expr) -> Result<Universe, UniverseError> {
        Ok(match expr {
            Expr::Const(b) => Universe::Const(*b),
            Expr::Column(column) => {
                return Err(UniverseError {
                    offset: column.offset,
                    message: format!(
                        "a bare column (`{}`) is not supported in the universe of a generated column",
                        column.name
                    ),
                });
            }
            Expr::Compare { column, op, value } => {
                let field = self.column(column)?;
                Universe::Cmp {
                    field,
                    op: *op,
                    target: self.literal(field, value)?,
                }
            }
            Expr::InList {
                column,
                values,
                negated,
            } => {
                let field = self.column(column)?;
                let any = Universe::Or(
                    values
                        .iter()
                        .map(|v| {
                            Ok(Universe::Cmp {
                                field,
                                op: CompareOp::Eq,
                                target: self.literal(field, v)?,
                            })
                        })
                        .collect::<Result<_, UniverseError>>()?,
                );
                if *negated {
                    Universe::Not(Box::new(any))
                } else {
                    any
                }
            }
            Expr::IsMissing(column) => Universe::IsMissing(self.column(column)?),
            Expr::Not(inner) => Universe::Not(Box::new(self.lower(inner)?)),
            Expr::And(items) => Universe::And(self.lower_all(items)?),
            Expr::Or(items) => Universe::Or(self.lower_all(items)?),
        })
    }

    fn lower_all(&self, items: &[Expr]) -> Result<Vec<Universe>, UniverseError> {
        items.iter().map(|e| self.lower(e)).collect()
    }

    fn column(&self, column: &ColumnRef) -> Result<usize, UniverseError> {
        let err = |message: String| UniverseError {
            offset: column.offset,
            message,
        };
        let name = &column.name;
        let index = self
            .table
            .fields
            .iter()
            .position(|f| f.name == *name)
            .ok_or_else(|| {
                err(format!(
                    "unknown column `{name}` in table `{}`",
                    self.table.name
                ))
            })?;
        if index >= self.own_index {
            return Err(err(format!(
                "column `{name}` comes at or after this column in the schema"
            )));
        }
        Ok(index)
    }

    fn literal(&self, field: usize, literal: &LiteralAt) -> Result<Target, UniverseError> {
        let f = &self.table.fields[field];
        let err = |message: String| UniverseError {
            offset: literal.offset,
            message,
        };
        match &literal.value {
            Literal::Number(n) => Ok(Target::Num(*n)),
            Literal::Bool(_) => Err(err(format!(
                "a boolean comparison (`{}`) is not supported in the universe of a generated column",
                f.name
            ))),
            Literal::Label(label) => {
                if let Some(i) = f
                    .categories
                    .as_ref()
                    .and_then(|c| c.iter().position(|c| c.label == *label))
                    .and_then(|i| u16::try_from(i).ok())
                {
                    return Ok(Target::Cat(i));
                }
                self.table
                    .missing_values
                    .iter()
                    .position(|m| m.label == *label)
                    .and_then(|i| u8::try_from(i).ok())
                    .map(Target::Missing)
                    .ok_or_else(|| err(format!("`{label}` is not a label of column `{}`", f.name)))
            }
        }
    }
}

#[cfg(test)]
mod tests;
