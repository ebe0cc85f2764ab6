//! Syntax tree of the expression language, with byte offsets kept for error messages.
//!
//! `any(...)` is stored as [`Expr::Or`] and `all(...)` as [`Expr::And`]: they mean the same thing. `Display`
//! prints a canonical, fully parenthesised form, used by `dh indicators show` and by the precedence tests.

use std::fmt;

/// A column reference and where it appears in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRef {
    pub name: String,
    pub offset: usize,
}

/// A literal operand of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    /// A quoted label, e.g. `"yes"`.
    Label(String),
    Bool(bool),
}

impl Literal {
    /// How the literal's kind is named in error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Literal::Number(_) => "a number",
            Literal::Label(_) => "a quoted label",
            Literal::Bool(_) => "a boolean",
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Label(s) => write!(f, "\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A literal and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct LiteralAt {
    pub value: Literal,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// True for `<`, `<=`, `>`, `>=`.
    pub fn is_ordering(self) -> bool {
        !matches!(self, CompareOp::Eq | CompareOp::Ne)
    }

    /// Applies the operator to two ordered values.
    pub fn apply<T: PartialOrd + ?Sized>(self, left: &T, right: &T) -> bool {
        match self {
            CompareOp::Eq => left == right,
            CompareOp::Ne => left != right,
            CompareOp::Lt => left < right,
            CompareOp::Le => left <= right,
            CompareOp::Gt => left > right,
            CompareOp::Ge => left >= right,
        }
    }
}

/// An expression: a condition that is true, false or unknown for each row.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `true` or `false`.
    Const(bool),
    /// A bare boolean column used as a condition.
    Column(ColumnRef),
    /// `column op literal`.
    Compare {
        column: ColumnRef,
        op: CompareOp,
        value: LiteralAt,
    },
    /// `column in [..]` (or `column not in [..]` when `negated`).
    InList {
        column: ColumnRef,
        values: Vec<LiteralAt>,
        negated: bool,
    },
    /// `is_missing(column)`.
    IsMissing(ColumnRef),
    Not(Box<Expr>),
    /// `a and b and ...` or `all(a, b, ...)`.
    And(Vec<Expr>),
    /// `a or b or ...` or `any(a, b, ...)`.
    Or(Vec<Expr>),
}

impl Expr {
    /// Every column the expression reads, in order of first appearance, without duplicates.
    pub fn columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.visit_columns(&mut |c| {
            if !out.contains(&c.name.as_str()) {
                out.push(c.name.as_str());
            }
        });
        out
    }

    fn visit_columns<'a>(&'a self, f: &mut dyn FnMut(&'a ColumnRef)) {
        match self {
            Expr::Const(_) => {}
            Expr::Column(c) | Expr::IsMissing(c) => f(c),
            Expr::Compare { column, .. } | Expr::InList { column, .. } => f(column),
            Expr::Not(inner) => inner.visit_columns(f),
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| e.visit_columns(f)),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Const(b) => write!(f, "{b}"),
            Expr::Column(c) => write!(f, "{}", c.name),
            Expr::Compare { column, op, value } => {
                write!(f, "{} {} {}", column.name, op.symbol(), value.value)
            }
            Expr::InList {
                column,
                values,
                negated,
            } => {
                let list: Vec<String> = values.iter().map(|v| v.value.to_string()).collect();
                let not = if *negated { "not " } else { "" };
                write!(f, "{} {not}in [{}]", column.name, list.join(", "))
            }
            Expr::IsMissing(c) => write!(f, "is_missing({})", c.name),
            Expr::Not(inner) => write!(f, "not ({inner})"),
            Expr::And(items) => write_joined(f, items, " and "),
            Expr::Or(items) => write_joined(f, items, " or "),
        }
    }
}

fn write_joined(f: &mut fmt::Formatter<'_>, items: &[Expr], sep: &str) -> fmt::Result {
    write!(f, "(")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            write!(f, "{sep}")?;
        }
        write!(f, "{item}")?;
    }
    write!(f, ")")
}
