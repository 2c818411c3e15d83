//! The tokenizer, equivalent to AbuseFilter's `AbuseFilterTokenizer`.
//!
//! Tokens carry the byte offset where they start. The rules follow upstream closely:
//! whitespace is the six ASCII space characters, comments are `/* ... */`, identifiers are
//! `[0-9A-Za-z_]+` (so `0xfoo` is an identifier), numbers may be decimal, `0x` hexadecimal,
//! `0o` octal or `0b` binary, and strings use single or double quotes with the escapes
//! `\\`, `\"`/`\'`, `\n`, `\r`, `\t` and `\xHH`; any other escape is kept verbatim.
//! Keywords are matched case-insensitively.
//!
//! Warden adds one thing: identifiers joined by dots without spaces (`event.props.device.id`)
//! are one identifier, a property path (see [`crate::Extensions::declare_path_root`]).
//! AbuseFilter has no `.` token outside numbers, so no valid AbuseFilter rule changes
//! meaning; up to [`crate::limits::MAX_PATH_SEGMENTS`] segments are read as one
//! identifier.

use crate::error::{ErrorKind, Result, RuleError};

/// A keyword of the language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    In,
    Like,
    True,
    False,
    Null,
    Contains,
    Matches,
    Rlike,
    Irlike,
    Regex,
    If,
    Then,
    Else,
    End,
}

impl Keyword {
    fn from_ident(id: &str) -> Option<Keyword> {
        // Identifiers are ASCII, so an ASCII case-insensitive comparison is exact.
        const TABLE: [(&str, Keyword); 14] = [
            ("in", Keyword::In),
            ("like", Keyword::Like),
            ("true", Keyword::True),
            ("false", Keyword::False),
            ("null", Keyword::Null),
            ("contains", Keyword::Contains),
            ("matches", Keyword::Matches),
            ("rlike", Keyword::Rlike),
            ("irlike", Keyword::Irlike),
            ("regex", Keyword::Regex),
            ("if", Keyword::If),
            ("then", Keyword::Then),
            ("else", Keyword::Else),
            ("end", Keyword::End),
        ];
        TABLE
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(id))
            .map(|&(_, kw)| kw)
    }

    /// The lowercase spelling of the keyword.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::In => "in",
            Keyword::Like => "like",
            Keyword::True => "true",
            Keyword::False => "false",
            Keyword::Null => "null",
            Keyword::Contains => "contains",
            Keyword::Matches => "matches",
            Keyword::Rlike => "rlike",
            Keyword::Irlike => "irlike",
            Keyword::Regex => "regex",
            Keyword::If => "if",
            Keyword::Then => "then",
            Keyword::Else => "else",
            Keyword::End => "end",
        }
    }
}

/// The names that are keywords, which can never be variable names.
pub(crate) const KEYWORD_NAMES: [&str; 14] = [
    "in", "like", "true", "false", "null", "contains", "matches", "rlike", "irlike", "regex", "if",
    "then", "else", "end",
];

/// An operator token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    NotEqEq,
    NotEq,
    Not,
    Pow,
    Mul,
    Div,
    Plus,
    Minus,
    Mod,
    And,
    Or,
    Xor,
    Assign,
    Question,
    Colon,
    Le,
    Lt,
    Ge,
    Gt,
    EqEqEq,
    EqEq,
    Eq,
}

impl Op {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::NotEqEq => "!==",
            Op::NotEq => "!=",
            Op::Not => "!",
            Op::Pow => "**",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Plus => "+",
            Op::Minus => "-",
            Op::Mod => "%",
            Op::And => "&",
            Op::Or => "|",
            Op::Xor => "^",
            Op::Assign => ":=",
            Op::Question => "?",
            Op::Colon => ":",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::EqEqEq => "===",
            Op::EqEq => "==",
            Op::Eq => "=",
        }
    }
}

/// Operators in the order upstream tries them, so that the longest match wins.
const OPERATORS: [(&str, Op); 22] = [
    ("!==", Op::NotEqEq),
    ("!=", Op::NotEq),
    ("!", Op::Not),
    ("**", Op::Pow),
    ("*", Op::Mul),
    ("/", Op::Div),
    ("+", Op::Plus),
    ("-", Op::Minus),
    ("%", Op::Mod),
    ("&", Op::And),
    ("|", Op::Or),
    ("^", Op::Xor),
    (":=", Op::Assign),
    ("?", Op::Question),
    (":", Op::Colon),
    ("<=", Op::Le),
    ("<", Op::Lt),
    (">=", Op::Ge),
    (">", Op::Gt),
    ("===", Op::EqEqEq),
    ("==", Op::EqEq),
    ("=", Op::Eq),
];

/// The length of the identifier at the start of `bytes`: a run of `[0-9A-Za-z_]`, and
/// further runs joined to it by single dots (a property path such as `event.props.id`).
fn identifier_length(bytes: &[u8]) -> usize {
    let word = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count()
    };
    let mut len = word(0);
    let mut segments = 1;
    while len > 0 && segments < crate::limits::MAX_PATH_SEGMENTS && bytes.get(len) == Some(&b'.') {
        let next = word(len + 1);
        if next == 0 {
            break;
        }
        len += 1 + next;
        segments += 1;
    }
    len
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An identifier, as written.
    Id(String),
    Kw(Keyword),
    Str(String),
    Int(i64),
    Float(f64),
    Op(Op),
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Semicolon,
    Eof,
}

impl Tok {
    /// A short description for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Id(s) => format!("identifier '{s}'"),
            Tok::Kw(k) => format!("keyword '{}'", k.as_str()),
            Tok::Str(_) => "string".to_owned(),
            Tok::Int(i) => format!("number {i}"),
            Tok::Float(f) => format!("number {f}"),
            Tok::Op(op) => format!("operator '{}'", op.as_str()),
            Tok::Comma => "','".to_owned(),
            Tok::LParen => "'('".to_owned(),
            Tok::RParen => "')'".to_owned(),
            Tok::LBracket => "'['".to_owned(),
            Tok::RBracket => "']'".to_owned(),
            Tok::Semicolon => "';'".to_owned(),
            Tok::Eof => "end of input".to_owned(),
        }
    }
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>> {
    let mut lexer = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::with_capacity(src.len() / 3 + 1);
    loop {
        let token = lexer.next_token()?;
        let done = token.tok == Tok::Eof;
        out.push(token);
        if done {
            return Ok(out);
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Lexer<'_> {
    fn skip_space(&mut self) {
        while self.pos < self.bytes.len() && is_space(self.bytes[self.pos]) {
            self.pos += 1;
        }
    }

    /// Skips whitespace and comments, possibly several, each possibly
    /// preceded by whitespace.
    #[inline]
    fn skip_space_and_comments(&mut self) -> Result<()> {
        loop {
            self.skip_space();
            if self.bytes[self.pos..].starts_with(b"/*") {
                let start = self.pos;
                // Upstream searches for `*/` from the comment start, so `/*/` is closed.
                match find(&self.bytes[start + 1..], b"*/") {
                    Some(off) => self.pos = start + 1 + off + 2,
                    None => {
                        return Err(RuleError::new(
                            ErrorKind::UnclosedComment,
                            start,
                            "comment is not closed with */",
                        ))
                    }
                }
            } else {
                break;
            }
        }
        Ok(())
    }

    fn next_token(&mut self) -> Result<Token> {
        self.skip_space_and_comments()?;
        let start = self.pos;
        let Some(&b) = self.bytes.get(start) else {
            return Ok(Token {
                tok: Tok::Eof,
                pos: start,
            });
        };
        let simple = match b {
            b',' => Some(Tok::Comma),
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'[' => Some(Tok::LBracket),
            b']' => Some(Tok::RBracket),
            b';' => Some(Tok::Semicolon),
            _ => None,
        };
        if let Some(tok) = simple {
            self.pos += 1;
            return Ok(Token { tok, pos: start });
        }
        if b == b'"' || b == b'\'' {
            let s = self.read_string(b)?;
            return Ok(Token {
                tok: Tok::Str(s),
                pos: start,
            });
        }
        for (text, op) in OPERATORS {
            if self.bytes[start..].starts_with(text.as_bytes()) {
                self.pos += text.len();
                return Ok(Token {
                    tok: Tok::Op(op),
                    pos: start,
                });
            }
        }
        if let Some((tok, len)) = self.read_number(start) {
            self.pos += len;
            return Ok(Token { tok, pos: start });
        }
        let id_len = identifier_length(&self.bytes[start..]);
        if id_len > 0 {
            self.pos += id_len;
            let text = &self.src[start..start + id_len];
            let tok = match Keyword::from_ident(text) {
                Some(kw) => Tok::Kw(kw),
                None => Tok::Id(text.to_owned()),
            };
            return Ok(Token { tok, pos: start });
        }
        let ch = self.src[start..].chars().next().unwrap_or('?');
        Err(RuleError::new(
            ErrorKind::UnrecognisedToken,
            start,
            format!("unrecognised character {ch:?}"),
        ))
    }

    /// Reads a string literal whose opening quote is at `self.pos`.
    fn read_string(&mut self, quote: u8) -> Result<String> {
        let start = self.pos;
        self.pos += 1;
        let mut buf: Vec<u8> = Vec::new();
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if b == quote {
                self.pos += 1;
                return Ok(match String::from_utf8(buf) {
                    Ok(s) => s,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                });
            }
            if b != b'\\' {
                let run = self.bytes[self.pos..]
                    .iter()
                    .take_while(|&&c| c != quote && c != b'\\')
                    .count();
                buf.extend_from_slice(&self.bytes[self.pos..self.pos + run]);
                self.pos += run;
                continue;
            }
            let Some(&next) = self.bytes.get(self.pos + 1) else {
                return Err(RuleError::new(
                    ErrorKind::UnclosedString,
                    start,
                    "string ends with an unfinished escape",
                ));
            };
            match next {
                b'\\' => buf.push(b'\\'),
                b'n' => buf.push(b'\n'),
                b'r' => buf.push(b'\r'),
                b't' => buf.push(b'\t'),
                b'x' => {
                    let hex = self.bytes.get(self.pos + 2..self.pos + 4);
                    match hex.and_then(|h| {
                        std::str::from_utf8(h)
                            .ok()
                            .filter(|s| s.bytes().all(|c| c.is_ascii_hexdigit()))
                            .and_then(|s| u8::from_str_radix(s, 16).ok())
                    }) {
                        Some(byte) => {
                            buf.push(byte);
                            self.pos += 2;
                        }
                        None => buf.extend_from_slice(b"\\x"),
                    }
                }
                c if c == quote => buf.push(quote),
                _ => {
                    // Unknown escapes keep the backslash and the next character, whole.
                    buf.push(b'\\');
                    let ch_len = self.src[self.pos + 1..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                    buf.extend_from_slice(&self.bytes[self.pos + 1..self.pos + 1 + ch_len]);
                    self.pos += ch_len - 1;
                }
            }
            self.pos += 2;
        }
        Err(RuleError::new(
            ErrorKind::UnclosedString,
            start,
            "string is not closed",
        ))
    }

    /// Tries upstream's number pattern at `start`:
    /// `(?:0(?<base>[xbo]))?(?<input>[0-9A-Fa-f]+(?:\.\d*)?|\.\d+)(?!\w)`, then checks that
    /// the digits suit the base. Returns the token and its byte length.
    fn read_number(&self, start: usize) -> Option<(Tok, usize)> {
        let s = &self.bytes[start..];
        let mut matched: Option<(Option<u8>, usize, usize)> = None;
        if s.len() > 2 && s[0] == b'0' && matches!(s[1], b'x' | b'b' | b'o') {
            if let Some(len) = self.match_input(start + 2) {
                matched = Some((Some(s[1]), 2, len));
            }
        }
        if matched.is_none() {
            if let Some(len) = self.match_input(start) {
                matched = Some((None, 0, len));
            }
        }
        let (base_char, prefix, len) = matched?;
        let input = &self.src[start + prefix..start + prefix + len];
        let radix = match base_char {
            Some(b'x') => 16,
            Some(b'o') => 8,
            Some(b'b') => 2,
            _ => 10,
        };
        let valid = match radix {
            2 => input.bytes().all(|c| c == b'0' || c == b'1'),
            8 => input.bytes().all(|c| (b'0'..=b'7').contains(&c)),
            16 => input.bytes().all(|c| c.is_ascii_hexdigit()),
            _ => input.bytes().all(|c| c.is_ascii_digit() || c == b'.'),
        };
        if !valid {
            return None;
        }
        let tok = if input.contains('.') {
            Tok::Float(input.parse::<f64>().unwrap_or(0.0))
        } else if radix == 10 {
            // PHP's intval saturates on overflow.
            Tok::Int(input.parse::<i64>().unwrap_or(i64::MAX))
        } else {
            Tok::Int(parse_radix_saturating(input, radix))
        };
        Some((tok, prefix + len))
    }

    /// Matches `[0-9A-Fa-f]+(?:\.\d*)?|\.\d+` followed by a non-word character at `at`, trying
    /// alternatives in the order a backtracking regex engine would. Returns the length.
    fn match_input(&self, at: usize) -> Option<usize> {
        let s = &self.bytes[at..];
        let not_word_at = |i: usize| -> bool {
            match self.src.get(at + i..).and_then(|rest| rest.chars().next()) {
                Some(c) => !is_word_char(c),
                None => true,
            }
        };
        let hex_run = s.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        for h in (1..=hex_run).rev() {
            if s.get(h) == Some(&b'.') {
                let digits = s[h + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                for d in (0..=digits).rev() {
                    if not_word_at(h + 1 + d) {
                        return Some(h + 1 + d);
                    }
                }
            }
            if not_word_at(h) {
                return Some(h);
            }
        }
        if s.first() == Some(&b'.') {
            let digits = s[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            for d in (1..=digits).rev() {
                if not_word_at(1 + d) {
                    return Some(1 + d);
                }
            }
        }
        None
    }
}

/// Parses digits in `radix`, saturating at `i64::MAX` like PHP's `intval(base_convert(...))`.
fn parse_radix_saturating(digits: &str, radix: u32) -> i64 {
    let mut acc: i64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            return acc;
        };
        acc = match acc
            .checked_mul(i64::from(radix))
            .and_then(|v| v.checked_add(i64::from(d)))
        {
            Some(v) => v,
            None => return i64::MAX,
        };
    }
    acc
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_and_identifiers() {
        assert_eq!(toks("0x1A"), vec![Tok::Int(26), Tok::Eof]);
        assert_eq!(toks("0xfoo"), vec![Tok::Id("0xfoo".into()), Tok::Eof]);
        assert_eq!(toks("0b10bar"), vec![Tok::Id("0b10bar".into()), Tok::Eof]);
        assert_eq!(toks("0o17"), vec![Tok::Int(15), Tok::Eof]);
        assert_eq!(toks("5."), vec![Tok::Float(5.0), Tok::Eof]);
        assert_eq!(toks(".5"), vec![Tok::Float(0.5), Tok::Eof]);
        assert_eq!(toks("1e5"), vec![Tok::Id("1e5".into()), Tok::Eof]);
        assert_eq!(
            toks("1.5.3"),
            vec![Tok::Float(1.5), Tok::Float(0.3), Tok::Eof]
        );
        assert_eq!(
            toks("99999999999999999999"),
            vec![Tok::Int(i64::MAX), Tok::Eof]
        );
    }

    #[test]
    fn dotted_identifiers_are_paths() {
        assert_eq!(
            toks("event.props.device_id"),
            vec![Tok::Id("event.props.device_id".into()), Tok::Eof]
        );
        // A dot must join two words, with no space around it.
        assert_eq!(tokenize("a.b .c").unwrap_err().position, 4);
        assert_eq!(tokenize("a. b").unwrap_err().position, 1);
        assert_eq!(
            toks("x.1 == 1.5"),
            vec![
                Tok::Id("x.1".into()),
                Tok::Op(Op::EqEq),
                Tok::Float(1.5),
                Tok::Eof
            ]
        );
        let first = ["s"; crate::limits::MAX_PATH_SEGMENTS].join(".");
        assert_eq!(toks(&first), vec![Tok::Id(first.clone()), Tok::Eof]);
        let long = format!("{first}.s");
        assert_eq!(tokenize(&long).unwrap_err().position, first.len());
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            toks(r#""a\tb\x41\q""#),
            vec![Tok::Str("a\tbA\\q".into()), Tok::Eof]
        );
        assert_eq!(toks(r"'\x{}'"), vec![Tok::Str("\\x{}".into()), Tok::Eof]);
        assert_eq!(toks(r#"'a\"b'"#), vec![Tok::Str("a\\\"b".into()), Tok::Eof]);
        assert_eq!(toks(r#""\xc3\xa9""#), vec![Tok::Str("é".into()), Tok::Eof]);
        assert_eq!(toks("'\\é'"), vec![Tok::Str("\\é".into()), Tok::Eof]);
    }

    #[test]
    fn comments_and_operators() {
        assert_eq!(
            toks("1 /* x */ !== /*/ 2"),
            vec![Tok::Int(1), Tok::Op(Op::NotEqEq), Tok::Int(2), Tok::Eof]
        );
        assert_eq!(toks("IF"), vec![Tok::Kw(Keyword::If), Tok::Eof]);
        let err = tokenize("1 /* open").unwrap_err();
        assert_eq!((err.kind, err.position), (ErrorKind::UnclosedComment, 2));
        let err = tokenize("'abc").unwrap_err();
        assert_eq!((err.kind, err.position), (ErrorKind::UnclosedString, 0));
        let err = tokenize("a @ b").unwrap_err();
        assert_eq!((err.kind, err.position), (ErrorKind::UnrecognisedToken, 2));
    }
}
