//! Lexer: turns expression text into tokens, each with the byte offset where it starts.
//!
//! Tokens: identifiers, the keywords `and or not in true false`, numbers (`12`, `-1`, `0.5`), strings in double or
//! single quotes (escapes `\"`, `\'`, `\\`), the operators `== != < <= > >=` and the punctuation `( ) [ ] ,`.

use crate::error::{ParseError, ParseErrorKind};

/// One token of the expression language.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Ident(String),
    Number(f64),
    Str(String),
    And,
    Or,
    Not,
    In,
    True,
    False,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

impl Token {
    /// How the token is named in error messages.
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(name) => format!("column or function name `{name}`"),
            Token::Number(n) => format!("number `{n}`"),
            Token::Str(s) => format!("string \"{s}\""),
            Token::And => "`and`".into(),
            Token::Or => "`or`".into(),
            Token::Not => "`not`".into(),
            Token::In => "`in`".into(),
            Token::True => "`true`".into(),
            Token::False => "`false`".into(),
            Token::Eq => "`==`".into(),
            Token::Ne => "`!=`".into(),
            Token::Lt => "`<`".into(),
            Token::Le => "`<=`".into(),
            Token::Gt => "`>`".into(),
            Token::Ge => "`>=`".into(),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::Comma => "`,`".into(),
        }
    }
}

/// A token and the byte offset of its first character in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub token: Token,
    pub offset: usize,
}

/// Splits `source` into tokens, or reports the first character that cannot start or continue a token.
pub fn tokenize(source: &str) -> Result<Vec<Spanned>, ParseError> {
    let mut lexer = Lexer {
        source,
        bytes: source.as_bytes(),
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    source: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Spanned>,
}

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), ParseError> {
        while let Some(&b) = self.bytes.get(self.pos) {
            let start = self.pos;
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'(' => self.single(Token::LParen),
                b')' => self.single(Token::RParen),
                b'[' => self.single(Token::LBracket),
                b']' => self.single(Token::RBracket),
                b',' => self.single(Token::Comma),
                b'=' => self.two_char(b'=', Token::Eq, "`==` (a single `=` is not an operator)")?,
                b'!' => self.two_char(b'=', Token::Ne, "`!=` (use `not` for negation)")?,
                b'<' => self.maybe_eq(Token::Lt, Token::Le),
                b'>' => self.maybe_eq(Token::Gt, Token::Ge),
                b'"' | b'\'' => self.string(b)?,
                b'-' | b'.' | b'0'..=b'9' => self.number()?,
                b if b.is_ascii_alphabetic() || b == b'_' => self.word(),
                _ => {
                    let ch = self.source[start..].chars().next().unwrap_or('?');
                    return Err(self.error(start, ParseErrorKind::UnexpectedChar(ch)));
                }
            }
        }
        Ok(())
    }

    fn error(&self, offset: usize, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.source, offset, kind)
    }

    fn push(&mut self, token: Token, offset: usize) {
        self.tokens.push(Spanned { token, offset });
    }

    fn single(&mut self, token: Token) {
        self.push(token, self.pos);
        self.pos += 1;
    }

    fn two_char(&mut self, second: u8, token: Token, expected: &str) -> Result<(), ParseError> {
        let start = self.pos;
        if self.bytes.get(start + 1) == Some(&second) {
            self.push(token, start);
            self.pos += 2;
            Ok(())
        } else {
            Err(self.error(
                start,
                ParseErrorKind::Expected {
                    expected: expected.into(),
                    found: "a lone operator character".into(),
                },
            ))
        }
    }

    fn maybe_eq(&mut self, plain: Token, with_eq: Token) {
        let start = self.pos;
        if self.bytes.get(start + 1) == Some(&b'=') {
            self.push(with_eq, start);
            self.pos += 2;
        } else {
            self.push(plain, start);
            self.pos += 1;
        }
    }

    fn string(&mut self, quote: u8) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut chunk_start = self.pos;
        loop {
            match self.bytes.get(self.pos) {
                None => return Err(self.error(start, ParseErrorKind::UnterminatedString)),
                Some(&b) if b == quote => {
                    value.push_str(&self.source[chunk_start..self.pos]);
                    self.pos += 1;
                    break;
                }
                Some(&b'\\') => {
                    value.push_str(&self.source[chunk_start..self.pos]);
                    match self.bytes.get(self.pos + 1) {
                        Some(&e @ (b'"' | b'\'' | b'\\')) => value.push(e as char),
                        Some(_) => {
                            let ch = self.source[self.pos + 1..].chars().next().unwrap_or('?');
                            return Err(self.error(self.pos, ParseErrorKind::InvalidEscape(ch)));
                        }
                        None => return Err(self.error(start, ParseErrorKind::UnterminatedString)),
                    }
                    self.pos += 2;
                    chunk_start = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
        self.push(Token::Str(value), start);
        Ok(())
    }

    fn number(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        if self.bytes[start] == b'-' {
            self.pos += 1;
        }
        while let Some(&b) = self.bytes.get(self.pos) {
            let exponent_sign = (b == b'-' || b == b'+')
                && matches!(self.bytes.get(self.pos - 1), Some(b'e' | b'E'));
            if b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E' || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.source[start..self.pos];
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => {
                self.push(Token::Number(n), start);
                Ok(())
            }
            _ => Err(self.error(start, ParseErrorKind::InvalidNumber(text.to_string()))),
        }
    }

    fn word(&mut self) {
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            if b.is_ascii_alphanumeric() || b == b'_' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let token = match &self.source[start..self.pos] {
            "and" => Token::And,
            "or" => Token::Or,
            "not" => Token::Not,
            "in" => Token::In,
            "true" => Token::True,
            "false" => Token::False,
            word => Token::Ident(word.to_string()),
        };
        self.push(token, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Vec<Token> {
        tokenize(src)
            .map(|t| t.into_iter().map(|s| s.token).collect())
            .unwrap_or_default()
    }

    #[test]
    fn operators_and_punctuation() {
        assert_eq!(
            tokens("== != < <= > >= ( ) [ ] ,"),
            vec![
                Token::Eq,
                Token::Ne,
                Token::Lt,
                Token::Le,
                Token::Gt,
                Token::Ge,
                Token::LParen,
                Token::RParen,
                Token::LBracket,
                Token::RBracket,
                Token::Comma
            ]
        );
    }

    #[test]
    fn keywords_identifiers_numbers_strings() {
        assert_eq!(
            tokens("age>=15 and not x in ['a', \"b\\\"c\"] or true or false -1.5 2e3"),
            vec![
                Token::Ident("age".into()),
                Token::Ge,
                Token::Number(15.0),
                Token::And,
                Token::Not,
                Token::Ident("x".into()),
                Token::In,
                Token::LBracket,
                Token::Str("a".into()),
                Token::Comma,
                Token::Str("b\"c".into()),
                Token::RBracket,
                Token::Or,
                Token::True,
                Token::Or,
                Token::False,
                Token::Number(-1.5),
                Token::Number(2000.0),
            ]
        );
    }

    #[test]
    fn offsets_are_byte_offsets() {
        let spans = tokenize("ä == \"ö\"").err();
        // `ä` is not an identifier character: reported at offset 0.
        assert_eq!(spans.map(|e| e.offset), Some(0));
        let ok = tokenize("x  ==  \"ö\" , y").unwrap_or_default();
        let offsets: Vec<usize> = ok.iter().map(|s| s.offset).collect();
        assert_eq!(offsets, vec![0, 3, 7, 12, 14]);
    }

    #[test]
    fn lexical_errors() {
        let kind = |src: &str| tokenize(src).err().map(|e| e.kind);
        assert_eq!(
            kind("a = 1"),
            Some(ParseErrorKind::Expected {
                expected: "`==` (a single `=` is not an operator)".into(),
                found: "a lone operator character".into()
            })
        );
        assert!(matches!(kind("!a"), Some(ParseErrorKind::Expected { .. })));
        assert_eq!(kind("a == \"yes"), Some(ParseErrorKind::UnterminatedString));
        assert_eq!(
            kind("a == \"y\\nes\""),
            Some(ParseErrorKind::InvalidEscape('n'))
        );
        assert_eq!(
            kind("a == 1.2.3"),
            Some(ParseErrorKind::InvalidNumber("1.2.3".into()))
        );
        assert_eq!(
            kind("a == -"),
            Some(ParseErrorKind::InvalidNumber("-".into()))
        );
        assert_eq!(
            kind("a == 1e999"),
            Some(ParseErrorKind::InvalidNumber("1e999".into()))
        );
        assert_eq!(kind("a & b"), Some(ParseErrorKind::UnexpectedChar('&')));
    }
}
