//! Universe expressions (`"true"`, `age >= 15`, `x == "yes" and y in ["online", "both"]`) parsed and compiled
//! against one table schema, then evaluated row by row on [`Cell`]s while a synthetic respondent is generated.
//!
//! The grammar is the subset of the indicator expression language that schemas use for universes:
//! comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`) of a column with a number or a quoted label, `col in [..]`,
//! `and`, `or`, `not`, parentheses, `any(..)`, `all(..)`, `is_missing(col)`, `true`, `false`.
//! Evaluation is two-valued: a comparison with a missing code is false (`!=` is true), `is_missing` is true for
//! any labelled missing code or blank. A universe may only name columns that come before its own column in the
//! schema, because answers are generated in schema order.

use dh_config::TableSchema;

use crate::cell::Cell;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Op(CmpOp),
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Num(f64),
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
        op: CmpOp,
        target: Target,
    },
    In {
        field: usize,
        targets: Vec<Target>,
    },
    IsMissing(usize),
}

/// A parse or compile problem at a byte offset of the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct UniverseError {
    pub offset: usize,
    pub message: String,
}

impl Universe {
    /// Parses `expr` and resolves its columns and labels against `table`; `own_index` is the index of the field
    /// whose universe this is (columns at or after it are rejected).
    pub fn compile(
        expr: &str,
        table: &TableSchema,
        own_index: usize,
    ) -> Result<Universe, UniverseError> {
        let tokens = lex(expr)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            table,
            own_index,
            len: expr.len(),
        };
        let u = p.or()?;
        if p.pos < p.tokens.len() {
            return Err(p.err("expected `and`, `or` or the end of the expression"));
        }
        Ok(u)
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
            Universe::Cmp { field, .. }
            | Universe::In { field, .. }
            | Universe::IsMissing(field) => f(*field),
        }
    }

    /// Evaluates on a row (cells in schema order; only earlier columns are read).
    pub fn eval(&self, row: &[Cell]) -> bool {
        match self {
            Universe::Const(b) => *b,
            Universe::Not(u) => !u.eval(row),
            Universe::And(us) => us.iter().all(|u| u.eval(row)),
            Universe::Or(us) => us.iter().any(|u| u.eval(row)),
            Universe::Cmp { field, op, target } => compare(row[*field], *op, *target),
            Universe::In { field, targets } => {
                targets.iter().any(|t| compare(row[*field], CmpOp::Eq, *t))
            }
            Universe::IsMissing(field) => matches!(row[*field], Cell::Missing(_) | Cell::Blank),
        }
    }
}

fn compare(cell: Cell, op: CmpOp, target: Target) -> bool {
    let equal = match (cell, target) {
        (Cell::Cat(a), Target::Cat(b)) => Some(a == b),
        (Cell::Missing(a), Target::Missing(b)) => Some(a == b),
        (Cell::Int(a), Target::Num(b)) => return numeric(f64::from(a), op, b),
        (Cell::Num(a), Target::Num(b)) => return numeric(f64::from(a), op, b),
        _ => None,
    };
    match op {
        CmpOp::Eq => equal == Some(true),
        CmpOp::Ne => equal != Some(true),
        _ => false,
    }
}

fn numeric(a: f64, op: CmpOp, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

fn lex(s: &str) -> Result<Vec<(usize, Token)>, UniverseError> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => (out.push((start, Token::LParen)), i += 1).1,
            b')' => (out.push((start, Token::RParen)), i += 1).1,
            b'[' => (out.push((start, Token::LBrack)), i += 1).1,
            b']' => (out.push((start, Token::RBrack)), i += 1).1,
            b',' => (out.push((start, Token::Comma)), i += 1).1,
            b'=' | b'!' | b'<' | b'>' => {
                let two = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, two) {
                    (b'=', true) => CmpOp::Eq,
                    (b'!', true) => CmpOp::Ne,
                    (b'<', true) => CmpOp::Le,
                    (b'>', true) => CmpOp::Ge,
                    (b'<', false) => CmpOp::Lt,
                    (b'>', false) => CmpOp::Gt,
                    _ => {
                        return Err(UniverseError {
                            offset: i,
                            message: "expected `==` or `!=`".into(),
                        });
                    }
                };
                i += if two { 2 } else { 1 };
                out.push((start, Token::Op(op)));
            }
            b'"' => {
                let end = s[i + 1..].find('"').ok_or_else(|| UniverseError {
                    offset: i,
                    message: "unterminated string".into(),
                })?;
                out.push((start, Token::Str(s[i + 1..i + 1 + end].to_string())));
                i += end + 2;
            }
            b'0'..=b'9' | b'-' | b'.' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let n: f64 = s[start..i].parse().map_err(|_| UniverseError {
                    offset: start,
                    message: format!("bad number `{}`", &s[start..i]),
                })?;
                out.push((start, Token::Num(n)));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((start, Token::Ident(s[start..i].to_string())));
            }
            _ => {
                return Err(UniverseError {
                    offset: i,
                    message: format!("unexpected character `{}`", c as char),
                });
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    table: &'a TableSchema,
    own_index: usize,
    len: usize,
}

impl Parser<'_> {
    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map(|t| t.0).unwrap_or(self.len)
    }
    fn err(&self, message: impl Into<String>) -> UniverseError {
        UniverseError {
            offset: self.offset(),
            message: message.into(),
        }
    }
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|t| &t.1)
    }
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|t| t.1.clone());
        self.pos += 1;
        t
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(s)) if s == k)
    }
    fn expect(&mut self, t: Token, what: &str) -> Result<(), UniverseError> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected {what}")))
        }
    }

    fn or(&mut self) -> Result<Universe, UniverseError> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Universe::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Universe, UniverseError> {
        let mut parts = vec![self.not()?];
        while self.keyword("and") {
            self.pos += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Universe::And(parts)
        })
    }

    fn not(&mut self) -> Result<Universe, UniverseError> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Universe::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Universe, UniverseError> {
        match self.peek().cloned() {
            Some(Token::LParen) => {
                self.pos += 1;
                let u = self.or()?;
                self.expect(Token::RParen, "`)`")?;
                Ok(u)
            }
            Some(Token::Ident(name)) => match name.as_str() {
                "true" | "false" => {
                    self.pos += 1;
                    Ok(Universe::Const(name == "true"))
                }
                "any" | "all"
                    if self.tokens.get(self.pos + 1).map(|t| &t.1) == Some(&Token::LParen) =>
                {
                    self.pos += 2;
                    let mut parts = vec![self.or()?];
                    while self.peek() == Some(&Token::Comma) {
                        self.pos += 1;
                        parts.push(self.or()?);
                    }
                    self.expect(Token::RParen, "`,` or `)`")?;
                    Ok(if name == "any" {
                        Universe::Or(parts)
                    } else {
                        Universe::And(parts)
                    })
                }
                "is_missing"
                    if self.tokens.get(self.pos + 1).map(|t| &t.1) == Some(&Token::LParen) =>
                {
                    self.pos += 2;
                    let field = self.column()?;
                    self.expect(Token::RParen, "`)`")?;
                    Ok(Universe::IsMissing(field))
                }
                _ => self.comparison(),
            },
            _ => Err(self.err("expected a column, `(`, `not`, `true` or `false`")),
        }
    }

    fn column(&mut self) -> Result<usize, UniverseError> {
        let at = self.offset();
        match self.next() {
            Some(Token::Ident(name)) => {
                let idx = self
                    .table
                    .fields
                    .iter()
                    .position(|f| f.name == name)
                    .ok_or_else(|| UniverseError {
                        offset: at,
                        message: format!("unknown column `{name}` in table `{}`", self.table.name),
                    })?;
                if idx >= self.own_index {
                    return Err(UniverseError {
                        offset: at,
                        message: format!(
                            "column `{name}` comes at or after this column in the schema"
                        ),
                    });
                }
                Ok(idx)
            }
            _ => Err(UniverseError {
                offset: at,
                message: "expected a column name".into(),
            }),
        }
    }

    fn literal(&mut self, field: usize) -> Result<Target, UniverseError> {
        let at = self.offset();
        let lit = match self.next() {
            Some(Token::Str(s)) => Lit::Str(s),
            Some(Token::Num(n)) => Lit::Num(n),
            _ => {
                return Err(UniverseError {
                    offset: at,
                    message: "expected a quoted label or a number".into(),
                });
            }
        };
        resolve(self.table, field, lit).map_err(|message| UniverseError {
            offset: at,
            message,
        })
    }

    fn comparison(&mut self) -> Result<Universe, UniverseError> {
        let field = self.column()?;
        if self.keyword("in") {
            self.pos += 1;
            self.expect(Token::LBrack, "`[`")?;
            let mut targets = vec![self.literal(field)?];
            while self.peek() == Some(&Token::Comma) {
                self.pos += 1;
                targets.push(self.literal(field)?);
            }
            self.expect(Token::RBrack, "`,` or `]`")?;
            return Ok(Universe::In { field, targets });
        }
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            _ => {
                self.pos -= 1;
                return Err(self.err("expected a comparison operator or `in`"));
            }
        };
        let target = self.literal(field)?;
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) && !matches!(target, Target::Num(_)) {
            return Err(self.err("ordering comparisons need a number"));
        }
        Ok(Universe::Cmp { field, op, target })
    }
}

fn resolve(table: &TableSchema, field: usize, lit: Lit) -> Result<Target, String> {
    let f = &table.fields[field];
    match lit {
        Lit::Num(n) => Ok(Target::Num(n)),
        Lit::Str(label) => {
            if let Some(i) = f
                .categories
                .as_ref()
                .and_then(|c| c.iter().position(|c| c.label == label))
            {
                return Ok(Target::Cat(i as u16));
            }
            if let Some(i) = table.missing_values.iter().position(|m| m.label == label) {
                return Ok(Target::Missing(i as u8));
            }
            Err(format!("`{label}` is not a label of column `{}`", f.name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn table() -> TableSchema {
        serde_json::from_value(serde_json::json!({
            "name": "t", "title": "t", "version": "1",
            "missingValues": [{"value": -1, "label": "dont_know"}, {"value": -3, "label": "not_applicable"}],
            "fields": [
                {"name": "age", "type": "integer", "description": ""},
                {"name": "x", "type": "string", "description": "",
                 "categories": [{"value": 1, "label": "yes"}, {"value": 2, "label": "no"}]},
                {"name": "w", "type": "string", "description": "",
                 "categories": [{"value": 1, "label": "online"}, {"value": 2, "label": "in_person"},
                                {"value": 3, "label": "both"}]},
                {"name": "z", "type": "string", "description": ""}
            ]
        }))
        .expect("test schema")
    }

    fn eval(expr: &str, row: &[Cell]) -> bool {
        Universe::compile(expr, &table(), 3)
            .expect("compiles")
            .eval(row)
    }

    #[test]
    fn evaluates_the_forms_schemas_use() {
        let row = [Cell::Int(15), Cell::Cat(0), Cell::Cat(2), Cell::Blank];
        assert!(eval("true", &row));
        assert!(!eval("false", &row));
        assert!(eval("age >= 15", &row));
        assert!(!eval("age > 15", &row));
        assert!(eval("x == \"yes\" and w in [\"online\", \"both\"]", &row));
        assert!(!eval("x == \"no\" or w == \"online\"", &row));
        assert!(eval("not (x == \"no\")", &row));
        assert!(eval("any(x == \"no\", age < 16)", &row));
        assert!(!eval("all(x == \"no\", age < 16)", &row));
        let missing = [Cell::Int(13), Cell::Missing(0), Cell::Cat(0), Cell::Blank];
        assert!(eval("is_missing(x)", &missing));
        assert!(!eval("x == \"yes\"", &missing));
        assert!(eval("x != \"yes\"", &missing));
        assert!(eval("x == \"dont_know\"", &missing));
    }

    #[test]
    fn reports_positions_of_errors() {
        let t = table();
        let e = Universe::compile("x == \"maybe\"", &t, 3).expect_err("unknown label");
        assert_eq!(e.offset, 5);
        let e = Universe::compile("nope == \"yes\"", &t, 3).expect_err("unknown column");
        assert!(e.message.contains("unknown column"));
        let e = Universe::compile("w == \"both\"", &t, 2).expect_err("later column");
        assert!(e.message.contains("after"));
        let e = Universe::compile("x == \"yes\" and", &t, 3).expect_err("dangling");
        assert_eq!(e.offset, 14);
        assert!(Universe::compile("x = 1", &t, 3).is_err());
        assert!(Universe::compile("(x == \"yes\"", &t, 3).is_err());
        assert!(Universe::compile("age < \"yes\"", &t, 3).is_err());
    }
}
