//! Recursive-descent parser from tokens to [`Expr`].
//!
//! Grammar (lowest precedence first; `and` binds tighter than `or`, `not` tighter than `and`, and a comparison
//! tighter than `not`, so `not a == "yes" and b == "no" or c` is `((not (a == "yes")) and b == "no") or c`):
//!
//! ```text
//! expr       := or_expr END
//! or_expr    := and_expr ("or" and_expr)*
//! and_expr   := not_expr ("and" not_expr)*
//! not_expr   := "not" not_expr | condition
//! condition  := "(" or_expr ")" | "true" | "false"
//!             | ("any" | "all") "(" or_expr ("," or_expr)* ","? ")"
//!             | "is_missing" "(" IDENT ")"
//!             | IDENT [ COMPARE literal | "in" list | "not" "in" list ]
//! list       := "[" literal ("," literal)* ","? "]"
//! literal    := NUMBER | STRING | "true" | "false"
//! ```

use crate::ast::{ColumnRef, CompareOp, Expr, Literal, LiteralAt};
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::{Spanned, Token, tokenize};

/// Deepest nesting of parentheses, `not` and function calls the parser accepts (guards the stack).
pub const MAX_DEPTH: usize = 64;

/// Parses an expression.
pub fn parse(source: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        source,
        tokens,
        pos: 0,
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Err(parser.expected("a condition (the expression is empty)"));
    }
    let expr = parser.or_expr()?;
    if parser.pos < parser.tokens.len() {
        return Err(parser.expected("`and`, `or` or the end of the expression"));
    }
    Ok(expr)
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Spanned>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|s| &s.token)
    }

    fn offset(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map(|s| s.offset)
            .unwrap_or(self.source.len())
    }

    fn advance(&mut self) -> Option<Spanned> {
        let t = self.tokens.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn expected(&self, expected: &str) -> ParseError {
        let found = self
            .peek()
            .map(Token::describe)
            .unwrap_or_else(|| "the end of the expression".to_string());
        ParseError::new(
            self.source,
            self.offset(),
            ParseErrorKind::Expected {
                expected: expected.to_string(),
                found,
            },
        )
    }

    fn expect(&mut self, token: Token) -> Result<(), ParseError> {
        if self.peek() == Some(&token) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(&token.describe()))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(
                self.source,
                self.offset(),
                ParseErrorKind::TooDeep(MAX_DEPTH),
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.and_expr()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.not_expr()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            items.push(self.not_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            self.enter()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, ParseError> {
        let Some(Spanned { token, offset }) = self.advance() else {
            return Err(self.expected("a condition"));
        };
        match token {
            Token::True => Ok(Expr::Const(true)),
            Token::False => Ok(Expr::Const(false)),
            Token::LParen => {
                self.enter()?;
                let inner = self.or_expr()?;
                self.expect(Token::RParen)?;
                self.depth -= 1;
                Ok(inner)
            }
            Token::Ident(name) if self.peek() == Some(&Token::LParen) => self.call(name, offset),
            Token::Ident(name) => self.column_condition(ColumnRef { name, offset }),
            _ => {
                self.pos -= 1;
                Err(self.expected("a condition: a column name, `not`, `(`, any(...), all(...), is_missing(...), true or false"))
            }
        }
    }

    fn call(&mut self, name: String, offset: usize) -> Result<Expr, ParseError> {
        self.pos += 1; // the `(`
        self.enter()?;
        let expr = match name.as_str() {
            "any" | "all" => {
                let mut items = Vec::new();
                while self.peek() != Some(&Token::RParen) {
                    items.push(self.or_expr()?);
                    if self.peek() == Some(&Token::Comma) {
                        self.pos += 1;
                    } else if self.peek() != Some(&Token::RParen) {
                        return Err(self.expected("`,` or `)`"));
                    }
                }
                if items.is_empty() {
                    return Err(ParseError::new(
                        self.source,
                        offset,
                        ParseErrorKind::Empty(format!("{name}(...)")),
                    ));
                }
                self.pos += 1; // the `)`
                match (name.as_str(), items.len()) {
                    (_, 1) => items.remove(0),
                    ("any", _) => Expr::Or(items),
                    _ => Expr::And(items),
                }
            }
            "is_missing" => {
                let column = match self.peek() {
                    Some(Token::Ident(col)) => ColumnRef {
                        name: col.clone(),
                        offset: self.offset(),
                    },
                    _ => return Err(self.expected("a column name inside is_missing(...)")),
                };
                self.pos += 1;
                self.expect(Token::RParen)?;
                Expr::IsMissing(column)
            }
            _ => {
                return Err(ParseError::new(
                    self.source,
                    offset,
                    ParseErrorKind::UnknownFunction(name),
                ));
            }
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn column_condition(&mut self, column: ColumnRef) -> Result<Expr, ParseError> {
        let op = match self.peek() {
            Some(Token::Eq) => CompareOp::Eq,
            Some(Token::Ne) => CompareOp::Ne,
            Some(Token::Lt) => CompareOp::Lt,
            Some(Token::Le) => CompareOp::Le,
            Some(Token::Gt) => CompareOp::Gt,
            Some(Token::Ge) => CompareOp::Ge,
            Some(Token::In) => {
                self.pos += 1;
                return Ok(Expr::InList {
                    column,
                    values: self.list()?,
                    negated: false,
                });
            }
            Some(Token::Not)
                if self.tokens.get(self.pos + 1).map(|s| &s.token) == Some(&Token::In) =>
            {
                self.pos += 2;
                return Ok(Expr::InList {
                    column,
                    values: self.list()?,
                    negated: true,
                });
            }
            _ => return Ok(Expr::Column(column)),
        };
        self.pos += 1;
        let value = self.literal()?;
        Ok(Expr::Compare { column, op, value })
    }

    fn literal(&mut self) -> Result<LiteralAt, ParseError> {
        let offset = self.offset();
        let value = match self.peek() {
            Some(Token::Number(n)) => Literal::Number(*n),
            Some(Token::Str(s)) => Literal::Label(s.clone()),
            Some(Token::True) => Literal::Bool(true),
            Some(Token::False) => Literal::Bool(false),
            _ => return Err(self.expected("a value: a number, a quoted label, true or false")),
        };
        self.pos += 1;
        Ok(LiteralAt { value, offset })
    }

    fn list(&mut self) -> Result<Vec<LiteralAt>, ParseError> {
        let open = self.offset();
        self.expect(Token::LBracket)?;
        let mut values = Vec::new();
        while self.peek() != Some(&Token::RBracket) {
            values.push(self.literal()?);
            if self.peek() == Some(&Token::Comma) {
                self.pos += 1;
            } else if self.peek() != Some(&Token::RBracket) {
                return Err(self.expected("`,` or `]`"));
            }
        }
        self.pos += 1;
        if values.is_empty() {
            return Err(ParseError::new(
                self.source,
                open,
                ParseErrorKind::Empty("the list".into()),
            ));
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(src: &str) -> String {
        match parse(src) {
            Ok(e) => e.to_string(),
            Err(e) => format!("ERROR {e}"),
        }
    }

    fn err(src: &str) -> (ParseErrorKind, usize) {
        match parse(src) {
            Ok(e) => panic!("`{src}` parsed as {e}"),
            Err(e) => (e.kind, e.offset),
        }
    }

    fn expected(src: &str) -> (String, String, usize) {
        match err(src) {
            (ParseErrorKind::Expected { expected, found }, offset) => (expected, found, offset),
            (other, _) => panic!("`{src}`: unexpected error kind {other:?}"),
        }
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        assert_eq!(
            canon("a == 1 or b == 2 and c == 3"),
            "(a == 1 or (b == 2 and c == 3))"
        );
        assert_eq!(
            canon("a == 1 and b == 2 or c == 3"),
            "((a == 1 and b == 2) or c == 3)"
        );
    }

    #[test]
    fn precedence_not_binds_tighter_than_and_looser_than_comparison() {
        assert_eq!(
            canon("not a == \"yes\" and b"),
            "(not (a == \"yes\") and b)"
        );
        assert_eq!(canon("not not x"), "not (not (x))");
        assert_eq!(canon("not (a or b)"), "not ((a or b))");
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(
            canon("(a == 1 or b == 2) and c == 3"),
            "((a == 1 or b == 2) and c == 3)"
        );
        assert_eq!(canon("((true))"), "true");
    }

    #[test]
    fn every_comparison_operator() {
        for op in ["==", "!=", "<", "<=", ">", ">="] {
            assert_eq!(canon(&format!("age {op} 15")), format!("age {op} 15"));
        }
        assert_eq!(canon("sex == 'female'"), "sex == \"female\"");
        assert_eq!(canon("flag != false"), "flag != false");
        assert_eq!(canon("x >= -1.5"), "x >= -1.5");
    }

    #[test]
    fn lists_functions_and_constants() {
        assert_eq!(
            canon("q in [\"yes\", \"dont_know\",]"),
            "q in [\"yes\", \"dont_know\"]"
        );
        assert_eq!(canon("q not in [1, 2]"), "q not in [1, 2]");
        assert_eq!(
            canon("any(a == \"yes\", b == \"yes\")"),
            "(a == \"yes\" or b == \"yes\")"
        );
        assert_eq!(
            canon("all(a == \"yes\", b or c,)"),
            "(a == \"yes\" and (b or c))"
        );
        assert_eq!(canon("any(a)"), "a");
        assert_eq!(canon("is_missing(q) or false"), "(is_missing(q) or false)");
        assert_eq!(canon("true"), "true");
    }

    #[test]
    fn error_empty_expression() {
        assert_eq!(
            expected("   "),
            (
                "a condition (the expression is empty)".into(),
                "the end of the expression".into(),
                3
            )
        );
    }

    #[test]
    fn error_missing_value_after_operator() {
        let (exp, found, offset) = expected("age >= ");
        assert_eq!(
            (exp.as_str(), found.as_str(), offset),
            (
                "a value: a number, a quoted label, true or false",
                "the end of the expression",
                7
            )
        );
        let (_, found, offset) = expected("age >= other");
        assert_eq!(
            (found.as_str(), offset),
            ("column or function name `other`", 7)
        );
    }

    #[test]
    fn error_trailing_input() {
        let (exp, found, offset) = expected("a == 1 b == 2");
        assert_eq!(exp, "`and`, `or` or the end of the expression");
        assert_eq!(found, "column or function name `b`");
        assert_eq!(offset, 7);
    }

    #[test]
    fn error_unclosed_parenthesis_and_stray_tokens() {
        let (exp, _, offset) = expected("(a == 1");
        assert_eq!((exp.as_str(), offset), ("`)`", 7));
        let (exp, found, offset) = expected(") a");
        assert!(exp.starts_with("a condition"));
        assert_eq!((found.as_str(), offset), ("`)`", 0));
        let (_, found, offset) = expected("a and or b");
        assert_eq!((found.as_str(), offset), ("`or`", 6));
        let (_, found, _) = expected("15 <= age");
        assert_eq!(found, "number `15`");
    }

    #[test]
    fn error_lists() {
        assert_eq!(
            err("q in []"),
            (ParseErrorKind::Empty("the list".into()), 5)
        );
        let (exp, _, offset) = expected("q in \"yes\"");
        assert_eq!((exp.as_str(), offset), ("`[`", 5));
        let (exp, _, offset) = expected("q in [\"a\" \"b\"]");
        assert_eq!((exp.as_str(), offset), ("`,` or `]`", 10));
        let (exp, _, _) = expected("q in [\"a\", b]");
        assert_eq!(exp, "a value: a number, a quoted label, true or false");
        let (exp, _, offset) = expected("q not [1]");
        assert_eq!(
            (exp.as_str(), offset),
            ("`and`, `or` or the end of the expression", 2)
        );
    }

    #[test]
    fn error_functions() {
        assert_eq!(
            err("some(a)"),
            (ParseErrorKind::UnknownFunction("some".into()), 0)
        );
        assert_eq!(
            err("x or any()"),
            (ParseErrorKind::Empty("any(...)".into()), 5)
        );
        let (exp, _, offset) = expected("any(a b)");
        assert_eq!((exp.as_str(), offset), ("`,` or `)`", 6));
        let (exp, found, offset) = expected("is_missing(\"q\")");
        assert_eq!(exp, "a column name inside is_missing(...)");
        assert_eq!((found.as_str(), offset), ("string \"q\"", 11));
        let (exp, _, offset) = expected("is_missing(q, r)");
        assert_eq!((exp.as_str(), offset), ("`)`", 12));
        let (_, found, _) = expected("is_missing(");
        assert_eq!(found, "the end of the expression");
    }

    #[test]
    fn error_too_deep() {
        let deep = format!(
            "{}true{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(err(&deep).0, ParseErrorKind::TooDeep(MAX_DEPTH));
        let nots = format!("{}true", "not ".repeat(MAX_DEPTH + 1));
        assert_eq!(err(&nots).0, ParseErrorKind::TooDeep(MAX_DEPTH));
        let ok = format!("{}true{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(canon(&ok), "true");
    }

    #[test]
    fn lexer_errors_surface_through_parse() {
        assert_eq!(err("a == \"x"), (ParseErrorKind::UnterminatedString, 5));
        assert_eq!(err("a && b"), (ParseErrorKind::UnexpectedChar('&'), 2));
    }

    #[test]
    fn columns_are_listed_once_in_order() {
        let e =
            parse("b == 1 or a in [\"x\"] or is_missing(b) or not c").unwrap_or(Expr::Const(false));
        assert_eq!(e.columns(), vec!["b", "a", "c"]);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;
    use crate::check::{ColumnKind, Columns, check};

    fn columns() -> Columns {
        Columns::new(["dont_know"])
            .with(
                "q",
                ColumnKind::Categorical {
                    labels: vec!["yes".into(), "no".into()],
                },
            )
            .with("age", ColumnKind::Number)
    }

    /// Parses and checks `src`; every error must point inside the text at a character boundary and render.
    fn exercise(src: &str) {
        match parse(src) {
            Ok(expr) => {
                if let Err(e) = check(&expr, &columns(), src) {
                    for err in &e.errors {
                        assert!(
                            err.offset <= src.len() && src.is_char_boundary(err.offset),
                            "{src:?}"
                        );
                    }
                    let _ = e.to_string();
                }
            }
            Err(e) => {
                assert!(
                    e.offset <= src.len() && src.is_char_boundary(e.offset),
                    "{src:?}: {e:?}"
                );
                let _ = e.to_string();
            }
        }
    }

    #[test]
    fn random_inputs_never_panic() {
        let alphabet: Vec<char> = "qage ()[],=!<>\"'\\-.0123456789eaynotrdlmisx_é€\n\t&|"
            .chars()
            .collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let len = (state >> 58) as usize;
            let mut s = String::new();
            for _ in 0..len {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                s.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            exercise(&s);
        }
    }

    #[test]
    fn every_prefix_and_deletion_of_valid_expressions_never_panics() {
        for valid in [
            "any(q == \"yes\", age >= 15) and not is_missing(q)",
            "q not in ['yes', \"dont_know\",] or (age < -1.5e2 and true)",
            "all(q != \"é\", age > 3)",
        ] {
            for (i, _) in valid.char_indices() {
                exercise(&valid[..i]);
                let mut deleted = valid.to_string();
                deleted.remove(i);
                exercise(&deleted);
            }
        }
    }
}
