//! Tokens of ISC `dhcpd.conf`: words, quoted strings and the punctuation `{ } ; ,`, each with
//! the line it starts on. `#` starts a comment that runs to the end of the line.

/// One token and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// 1-based line number.
    pub line: usize,
}

/// The kinds of token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A bare word: a keyword, a number, an address, a MAC address.
    Word(String),
    /// A double-quoted string, escapes resolved.
    Str(String),
    /// `{`
    Open,
    /// `}`
    Close,
    /// `;`
    Semi,
    /// `,`
    Comma,
}

impl TokenKind {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Word(w) => format!("`{w}`"),
            TokenKind::Str(s) => format!("string {s:?}"),
            TokenKind::Open => "`{`".into(),
            TokenKind::Close => "`}`".into(),
            TokenKind::Semi => "`;`".into(),
            TokenKind::Comma => "`,`".into(),
        }
    }
}

/// A lexing failure: the line and what is wrong.
pub(crate) type LexError = (usize, String);

/// Splits `text` into tokens.
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut line = 1usize;
    while let Some(&(_, c)) = chars.peek() {
        match c {
            '\n' => {
                line += 1;
                chars.next();
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => {
                while let Some(&(_, c)) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '{' | '}' | ';' | ',' => {
                chars.next();
                let kind = match c {
                    '{' => TokenKind::Open,
                    '}' => TokenKind::Close,
                    ';' => TokenKind::Semi,
                    _ => TokenKind::Comma,
                };
                tokens.push(Token { kind, line });
            }
            '"' => {
                let start = line;
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None | Some((_, '\n')) => {
                            return Err((start, "unterminated string".into()));
                        }
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => s.push('\n'),
                            Some((_, 't')) => s.push('\t'),
                            Some((_, c)) if c != '\n' => s.push(c),
                            _ => return Err((start, "unterminated string".into())),
                        },
                        Some((_, c)) => s.push(c),
                    }
                }
                tokens.push(Token {
                    kind: TokenKind::Str(s),
                    line: start,
                });
            }
            _ => {
                let mut w = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '{' | '}' | ';' | ',' | '"' | '#') {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                tokens.push(Token {
                    kind: TokenKind::Word(w),
                    line,
                });
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn words_punctuation_comments_and_lines() {
        let toks = tokenize("a b; # c d\n{ \"x y\" , }\n").unwrap();
        let lines: Vec<usize> = toks.iter().map(|t| t.line).collect();
        assert_eq!(lines, vec![1, 1, 1, 2, 2, 2, 2]);
        assert_eq!(
            kinds("range 10.0.0.1 10.0.0.9;"),
            vec![
                TokenKind::Word("range".into()),
                TokenKind::Word("10.0.0.1".into()),
                TokenKind::Word("10.0.0.9".into()),
                TokenKind::Semi
            ]
        );
    }

    #[test]
    fn string_escapes_and_unterminated() {
        assert_eq!(
            kinds(r#""a\"b\\c""#),
            vec![TokenKind::Str("a\"b\\c".into())]
        );
        assert_eq!(tokenize("\n\"abc\n\"").unwrap_err().0, 2);
        assert!(tokenize("\"abc\\").is_err());
    }
}
