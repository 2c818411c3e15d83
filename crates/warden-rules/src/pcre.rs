//! Regular expressions: translating AbuseFilter's PCRE patterns for Rust's engines.
//!
//! AbuseFilter wraps patterns as `/pattern/u` for PHP's `preg_*` functions. PHP's `u` flag
//! turns on UTF-8 and Unicode properties, so `\w`, `\d`, `\s`, `\b` and case folding are
//! Unicode-aware, as in Rust's `regex` crate. The translation here rewrites the PCRE syntax
//! that `regex` spells differently or lacks:
//!
//! - `$` (outside multi-line mode) and `\Z` also match before a final newline, as in PCRE;
//! - `\h`, `\v`, `\R`, `\N`, `\e`, `\cX`, octal escapes, `\o{…}`, `\Q…\E` and escaped
//!   punctuation become equivalent Rust syntax;
//! - `(?'name'…)` becomes `(?P<name>…)` and `(?#…)` comments are dropped;
//! - a `{` that does not start a quantifier is a literal, as in PCRE;
//! - inside character classes, `[`, `&`, `~` and `-` next to a class escape are literals.
//!
//! Patterns with look-around, back-references, atomic groups or possessive quantifiers run
//! on the backtracking `fancy-regex` engine with a step limit; all others run on `regex`,
//! which matches in linear time. `\G`, `\K`, `\X`, `\C`, recursion, conditionals and branch
//! reset groups are not supported and fail with [`crate::ErrorKind::BadRegex`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::limits::{
    REGEX_BACKTRACK_LIMIT, REGEX_CACHE_CAPACITY, REGEX_DFA_SIZE_LIMIT, REGEX_NEST_LIMIT,
    REGEX_SIZE_LIMIT,
};

/// A compiled pattern.
#[derive(Debug)]
pub(crate) struct Pattern {
    engine: Engine,
}

#[derive(Debug)]
enum Engine {
    Linear(regex::Regex),
    Backtracking(fancy_regex::Regex),
}

/// The byte ranges of a match's groups; `None` for groups that did not take part.
pub(crate) type Groups = Vec<Option<(usize, usize)>>;

/// Why a match could not complete.
#[derive(Debug)]
pub(crate) enum MatchError {
    /// The backtracking engine ran out of steps.
    Budget(String),
    /// The caller's budget ran out while matches were being found (see [`Spend`]).
    Stopped,
}

/// Called once per match found while counting or replacing, with the bytes of output the
/// match produced; returns false to stop (the budget is spent).
pub(crate) type Spend<'a> = &'a mut dyn FnMut(usize) -> bool;

type MatchResult<T> = std::result::Result<T, MatchError>;

fn fancy_err(e: fancy_regex::Error) -> MatchError {
    MatchError::Budget(e.to_string())
}

impl Pattern {
    /// Compiles an AbuseFilter (PCRE) pattern; `insensitive` adds the `i` flag.
    pub(crate) fn compile(pcre: &str, insensitive: bool) -> Result<Pattern, String> {
        let t = translate(pcre)?;
        if !t.needs_backtracking {
            let linear = regex::RegexBuilder::new(&t.pattern)
                .case_insensitive(insensitive)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
                .nest_limit(REGEX_NEST_LIMIT)
                .build();
            match linear {
                Ok(re) => {
                    return Ok(Pattern {
                        engine: Engine::Linear(re),
                    })
                }
                Err(e) => return Err(last_line(&e.to_string())),
            }
        }
        let source = if insensitive {
            format!("(?i){}", t.pattern)
        } else {
            t.pattern
        };
        fancy_regex::RegexBuilder::new(&source)
            .backtrack_limit(REGEX_BACKTRACK_LIMIT)
            .delegate_size_limit(REGEX_SIZE_LIMIT)
            .delegate_dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
            .build()
            .map(|re| Pattern {
                engine: Engine::Backtracking(re),
            })
            .map_err(|e| last_line(&e.to_string()))
    }

    /// Compiles the pattern of the `like`/`matches` operator from a shell-style glob.
    pub(crate) fn compile_glob(glob: &str) -> Result<Pattern, String> {
        Pattern::compile(&glob_to_pcre(glob), false)
    }

    pub(crate) fn is_match(&self, hay: &str) -> MatchResult<bool> {
        match &self.engine {
            Engine::Linear(re) => Ok(re.is_match(hay)),
            Engine::Backtracking(re) => re.is_match(hay).map_err(fancy_err),
        }
    }

    /// Whether matching runs on the backtracking engine (costlier per byte).
    pub(crate) fn is_backtracking(&self) -> bool {
        matches!(self.engine, Engine::Backtracking(_))
    }

    /// The number of non-overlapping matches, as `preg_match_all`; `spend` is called once
    /// per match.
    pub(crate) fn count(&self, hay: &str, spend: Spend<'_>) -> MatchResult<usize> {
        let mut n = 0;
        let mut stopped = false;
        self.for_each_match(hay, false, |_| {
            n += 1;
            stopped = !spend(0);
            !stopped
        })?;
        if stopped {
            return Err(MatchError::Stopped);
        }
        Ok(n)
    }

    /// The first match at or after byte `pos`; with `groups`, all groups, else only the
    /// whole match.
    fn find_from(&self, hay: &str, pos: usize, groups: bool) -> MatchResult<Option<Groups>> {
        let collect = |len: usize, get: &dyn Fn(usize) -> Option<(usize, usize)>| -> Groups {
            (0..len).map(get).collect()
        };
        match &self.engine {
            Engine::Linear(re) if !groups => Ok(re
                .find_at(hay, pos)
                .map(|m| vec![Some((m.start(), m.end()))])),
            Engine::Linear(re) => Ok(re
                .captures_at(hay, pos)
                .map(|c| collect(c.len(), &|i| c.get(i).map(|m| (m.start(), m.end()))))),
            Engine::Backtracking(re) => Ok(re
                .captures_from_pos(hay, pos)
                .map_err(fancy_err)?
                .map(|c| collect(c.len(), &|i| c.get(i).map(|m| (m.start(), m.end()))))),
        }
    }

    /// Calls `f` with each match in turn, as PCRE iterates in `preg_match_all` and
    /// `preg_replace`: after an empty match, the next match may not be empty at the same
    /// place, but an empty match right after a non-empty one is allowed. Stops early when
    /// `f` returns false.
    fn for_each_match(
        &self,
        hay: &str,
        groups: bool,
        mut f: impl FnMut(Groups) -> bool,
    ) -> MatchResult<()> {
        let mut pos = 0;
        let mut last_empty: Option<usize> = None;
        while pos <= hay.len() {
            let Some(found) = self.find_from(hay, pos, groups)? else {
                break;
            };
            let Some(Some((s, e))) = found.first().copied() else {
                break;
            };
            if s == e && last_empty == Some(s) {
                // Retry one character further on.
                pos = s + hay[s..].chars().next().map_or(1, char::len_utf8);
                last_empty = None;
                continue;
            }
            last_empty = (s == e).then_some(e);
            pos = e;
            if !f(found) {
                break;
            }
        }
        Ok(())
    }

    /// The number of capturing groups, plus one for the whole match.
    pub(crate) fn group_count(&self) -> usize {
        match &self.engine {
            Engine::Linear(re) => re.captures_len(),
            Engine::Backtracking(re) => re.captures_len(),
        }
    }

    /// The first match's groups as byte ranges (`None` for groups that did not take part),
    /// or `None` if there is no match.
    pub(crate) fn captures(&self, hay: &str) -> MatchResult<Option<Groups>> {
        match &self.engine {
            Engine::Linear(re) => Ok(re.captures(hay).map(|c| {
                (0..c.len())
                    .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                    .collect()
            })),
            Engine::Backtracking(re) => Ok(re.captures(hay).map_err(fancy_err)?.map(|c| {
                (0..c.len())
                    .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                    .collect()
            })),
        }
    }

    /// Replaces every match as `preg_replace` does with a PHP replacement string.
    pub(crate) fn replace_all(
        &self,
        hay: &str,
        replacement: &Replacement,
        max_len: usize,
        spend: Spend<'_>,
    ) -> MatchResult<Option<String>> {
        let mut out = String::with_capacity(hay.len());
        let mut last = 0;
        let push_match = |out: &mut String, groups: &[Option<(usize, usize)>]| {
            for part in &replacement.parts {
                match part {
                    ReplacementPart::Literal(s) => out.push_str(s),
                    ReplacementPart::Group(g) => {
                        if let Some(Some((s, e))) = groups.get(*g) {
                            out.push_str(&hay[*s..*e]);
                        }
                    }
                }
            }
        };
        let mut too_long = false;
        let mut stopped = false;
        // Only numbered groups need the capturing engine; `$0` is the whole match.
        let needs_groups = replacement
            .parts
            .iter()
            .any(|p| matches!(p, ReplacementPart::Group(g) if *g > 0));
        self.for_each_match(hay, needs_groups, |groups| {
            let Some(Some((s, e))) = groups.first().copied() else {
                return true;
            };
            let before = out.len();
            out.push_str(&hay[last..s]);
            push_match(&mut out, &groups);
            last = e;
            too_long = out.len() > max_len;
            stopped = !too_long && !spend(out.len() - before);
            !too_long && !stopped
        })?;
        if stopped {
            return Err(MatchError::Stopped);
        }
        if too_long {
            return Ok(None);
        }
        out.push_str(&hay[last..]);
        if out.len() > max_len {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

fn last_line(msg: &str) -> String {
    msg.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(msg)
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}

/// A parsed PHP `preg_replace` replacement string.
#[derive(Debug, Clone)]
pub(crate) struct Replacement {
    parts: Vec<ReplacementPart>,
}

#[derive(Debug, Clone)]
enum ReplacementPart {
    Literal(String),
    Group(usize),
}

impl Replacement {
    /// Parses `$n`, `${n}` and `\n` (n up to 99) as group references; `\\` and `\$` are
    /// escapes; anything else is literal, as PHP does.
    pub(crate) fn parse(s: &str) -> Replacement {
        let b = s.as_bytes();
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'\\' || c == b'$' {
                if c == b'\\' && i + 1 < b.len() && (b[i + 1] == b'\\' || b[i + 1] == b'$') {
                    lit.push(b[i + 1] as char);
                    i += 2;
                    continue;
                }
                if let Some((group, len)) = parse_backref(&b[i..]) {
                    if !lit.is_empty() {
                        parts.push(ReplacementPart::Literal(std::mem::take(&mut lit)));
                    }
                    parts.push(ReplacementPart::Group(group));
                    i += len;
                    continue;
                }
            }
            let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
            lit.push_str(&s[i..i + ch_len]);
            i += ch_len;
        }
        if !lit.is_empty() {
            parts.push(ReplacementPart::Literal(lit));
        }
        Replacement { parts }
    }
}

/// Parses `\N`, `$N` or `${N}` with one or two digits at the start of `b`.
fn parse_backref(b: &[u8]) -> Option<(usize, usize)> {
    let mut i = 1;
    let braced = b[0] == b'$' && b.get(1) == Some(&b'{');
    if braced {
        i = 2;
    }
    let start = i;
    while i < b.len() && i - start < 2 && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return None;
    }
    let n: usize = std::str::from_utf8(&b[start..i]).ok()?.parse().ok()?;
    if braced {
        if b.get(i) != Some(&b'}') {
            return None;
        }
        i += 1;
    }
    Some((n, i))
}

/// Builds the PCRE pattern AbuseFilter uses for `like`: `preg_quote` of the glob with
/// `*`, `?`, `[`, `[!` and `]` turned back into wildcards, anchored at both ends.
pub(crate) fn glob_to_pcre(glob: &str) -> String {
    const QUOTED: &str = ".\\+*?[^]$(){}=!<>|:-#";
    let mut out = String::with_capacity(glob.len() * 2 + 2);
    out.push('^');
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                if chars.peek() == Some(&'!') {
                    chars.next();
                    out.push_str("[^");
                } else {
                    out.push('[');
                }
            }
            ']' => out.push(']'),
            // preg_quote turns `\` into `\\`, which the wildcard map doubles again.
            '\\' => out.push_str("\\\\\\\\"),
            '\0' => out.push_str("\\000"),
            c if QUOTED.contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('$');
    out
}

/// PHP's `preg_quote` without a delimiter.
pub(crate) fn preg_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\0' => out.push_str("\\000"),
            '.' | '\\' | '+' | '*' | '?' | '[' | '^' | ']' | '$' | '(' | ')' | '{' | '}' | '='
            | '!' | '<' | '>' | '|' | ':' | '-' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A per-context cache of patterns computed at run time.
#[derive(Debug, Default)]
pub(crate) struct RegexCache {
    map: HashMap<(Box<str>, u8), Result<Arc<Pattern>, String>>,
}

/// Which compiler a cached pattern went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Regex = 0,
    RegexInsensitive = 1,
    Glob = 2,
}

impl RegexCache {
    /// Whether `pattern` is compiled (or known not to compile) already.
    pub(crate) fn contains(&self, pattern: &str, flavor: Flavor) -> bool {
        self.map.contains_key(&(Box::from(pattern), flavor as u8))
    }

    pub(crate) fn get(&mut self, pattern: &str, flavor: Flavor) -> Result<Arc<Pattern>, String> {
        if let Some(r) = self.map.get(&(Box::from(pattern), flavor as u8)) {
            return r.clone();
        }
        if self.map.len() >= REGEX_CACHE_CAPACITY {
            self.map.clear();
        }
        let compiled = match flavor {
            Flavor::Regex => Pattern::compile(pattern, false),
            Flavor::RegexInsensitive => Pattern::compile(pattern, true),
            Flavor::Glob => Pattern::compile_glob(pattern),
        }
        .map(Arc::new);
        self.map
            .insert((Box::from(pattern), flavor as u8), compiled.clone());
        compiled
    }
}

/// The result of translating a PCRE pattern.
pub(crate) struct Translated {
    pub pattern: String,
    pub needs_backtracking: bool,
}

const H_SPACE: &str = r"\t\x20\xA0\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}";
const V_SPACE: &str = r"\x0A-\x0D\x{85}\x{2028}\x{2029}";

/// Translates a PCRE pattern into the common syntax of `regex` and `fancy-regex`.
pub(crate) fn translate(p: &str) -> Result<Translated, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut t = Translator {
        c: &chars,
        i: 0,
        out: String::with_capacity(p.len() + 16),
        needs_backtracking: false,
        multiline: false,
        extended: false,
        groups: Vec::new(),
        captures: 0,
    };
    t.run()?;
    Ok(Translated {
        pattern: t.out,
        needs_backtracking: t.needs_backtracking,
    })
}

struct Translator<'a> {
    c: &'a [char],
    i: usize,
    out: String,
    needs_backtracking: bool,
    multiline: bool,
    extended: bool,
    /// The `(multiline, extended)` flags to restore when each open group closes.
    groups: Vec<(bool, bool)>,
    /// The number of capturing groups opened so far.
    captures: usize,
}

/// How a class item may take part in a range.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClassItem {
    /// A single character, which can start or end a range.
    Char,
    /// A class such as `\d`, or the end of a range, which cannot.
    Other,
    /// Nothing yet in this class.
    Start,
}

fn push_char_escaped(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || (!c.is_ascii() && !c.is_whitespace()) {
        out.push(c);
    } else {
        let _ = write!(out, "\\x{{{:X}}}", c as u32);
    }
}

impl Translator<'_> {
    fn peek(&self, n: usize) -> Option<char> {
        self.c.get(self.i + n).copied()
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            match c {
                '\\' => {
                    self.escape(false)?;
                }
                '[' => self.class()?,
                '(' => self.group()?,
                ')' => {
                    let (m, x) = self.groups.pop().ok_or("unmatched closing parenthesis")?;
                    self.multiline = m;
                    self.extended = x;
                    self.out.push(')');
                    self.i += 1;
                }
                '$' => {
                    if self.multiline {
                        self.out.push('$');
                    } else {
                        self.out.push_str(r"(?:\n?\z)");
                    }
                    self.i += 1;
                }
                '{' => {
                    if let Some(len) = self.quantifier_len() {
                        let q: String = self.c[self.i..self.i + len].iter().collect();
                        self.out.push_str(&q);
                        self.i += len;
                        self.after_quantifier();
                    } else {
                        self.out.push_str(r"\{");
                        self.i += 1;
                    }
                }
                '}' | ']' => {
                    self.out.push('\\');
                    self.out.push(c);
                    self.i += 1;
                }
                '*' | '+' | '?' => {
                    self.out.push(c);
                    self.i += 1;
                    self.after_quantifier();
                }
                '#' if self.extended => {
                    while let Some(c) = self.peek(0) {
                        self.i += 1;
                        if c == '\n' {
                            break;
                        }
                    }
                }
                c if self.extended && c.is_whitespace() => self.i += 1,
                c => {
                    if c.is_whitespace() || c == '#' {
                        push_char_escaped(&mut self.out, c);
                    } else {
                        self.out.push(c);
                    }
                    self.i += 1;
                }
            }
        }
        if !self.groups.is_empty() {
            return Err("missing closing parenthesis".to_owned());
        }
        Ok(())
    }

    /// After a quantifier: a `?` makes it lazy, a `+` possessive (backtracking engine).
    fn after_quantifier(&mut self) {
        match self.peek(0) {
            Some('?') => {
                self.out.push('?');
                self.i += 1;
            }
            Some('+') => {
                self.out.push('+');
                self.i += 1;
                self.needs_backtracking = true;
            }
            _ => {}
        }
    }

    /// The length of a `{n}`, `{n,}` or `{n,m}` quantifier at the cursor, if there is one.
    fn quantifier_len(&self) -> Option<usize> {
        let mut j = self.i + 1;
        let digits = |j: &mut usize| {
            let s = *j;
            while self.c.get(*j).is_some_and(char::is_ascii_digit) {
                *j += 1;
            }
            *j - s
        };
        if digits(&mut j) == 0 {
            return None;
        }
        if self.c.get(j) == Some(&',') {
            j += 1;
            digits(&mut j);
        }
        if self.c.get(j) == Some(&'}') {
            Some(j + 1 - self.i)
        } else {
            None
        }
    }

    fn group(&mut self) -> Result<(), String> {
        self.groups.push((self.multiline, self.extended));
        if self.peek(1) != Some('?') {
            self.out.push('(');
            self.i += 1;
            self.captures += 1;
            return Ok(());
        }
        let rest: String = self.c[self.i + 2..].iter().take(3).collect();
        if rest.starts_with('#') {
            self.groups.pop();
            while let Some(c) = self.peek(0) {
                self.i += 1;
                if c == ')' {
                    return Ok(());
                }
            }
            return Err("missing ) after comment".to_owned());
        }
        if rest.starts_with('\'') {
            let name_end = self.c[self.i + 3..]
                .iter()
                .position(|&c| c == '\'')
                .ok_or("unterminated group name")?;
            let name: String = self.c[self.i + 3..self.i + 3 + name_end].iter().collect();
            let _ = write!(self.out, "(?P<{name}>");
            self.i += 3 + name_end + 1;
            self.captures += 1;
            return Ok(());
        }
        if rest.starts_with("P<")
            || (rest.starts_with('<') && !rest.starts_with("<=") && !rest.starts_with("<!"))
        {
            self.out.push_str("(?");
            self.i += 2;
            self.captures += 1;
            return Ok(());
        }
        if rest.starts_with("P=") {
            let end = self.c[self.i..]
                .iter()
                .position(|&c| c == ')')
                .ok_or("unterminated back-reference")?;
            self.groups.pop();
            let text: String = self.c[self.i..=self.i + end].iter().collect();
            self.out.push_str(&text);
            self.i += end + 1;
            self.needs_backtracking = true;
            return Ok(());
        }
        if rest.starts_with('=')
            || rest.starts_with('!')
            || rest.starts_with("<=")
            || rest.starts_with("<!")
            || rest.starts_with('>')
        {
            self.needs_backtracking = true;
            self.out.push_str("(?");
            self.i += 2;
            return Ok(());
        }
        self.inline_flags(&rest)
    }

    /// Inline flags at the cursor: `(?imsxU-imsxU)` or `(?imsxU-imsxU: ...)`;
    /// `rest` is the text after `(?` for the error message.
    fn inline_flags(&mut self, rest: &str) -> Result<(), String> {
        let mut j = self.i + 2;
        let mut on = true;
        let mut flags = String::from("(?");
        let (mut m, mut x) = (self.multiline, self.extended);
        loop {
            match self.c.get(j) {
                Some(&f @ ('i' | 'm' | 's' | 'x' | 'U')) => {
                    if f == 'm' {
                        m = on;
                    }
                    if f == 'x' {
                        x = on;
                    }
                    flags.push(f);
                }
                Some('-') => {
                    on = false;
                    flags.push('-');
                }
                Some(')') => {
                    // Flags for the rest of the enclosing group.
                    self.groups.pop();
                    flags.push(')');
                    self.multiline = m;
                    self.extended = x;
                    if flags != "(?)" {
                        self.out.push_str(&flags);
                    }
                    self.i = j + 1;
                    return Ok(());
                }
                Some(':') => {
                    flags.push(':');
                    self.multiline = m;
                    self.extended = x;
                    self.out.push_str(&flags);
                    self.i = j + 1;
                    return Ok(());
                }
                _ => return Err("unsupported group syntax (?".to_owned() + rest + ")"),
            }
            j += 1;
        }
    }

    /// Translates the escape at the cursor, inside a class when `in_class`. Returns whether
    /// it denotes a single character (which can be a range endpoint).
    fn escape(&mut self, in_class: bool) -> Result<bool, String> {
        let Some(c) = self.peek(1) else {
            return Err("pattern ends with a backslash".to_owned());
        };
        self.i += 2;
        if let Some(single) = self.shorthand(c, in_class) {
            return Ok(single);
        }
        match c {
            'a' => self.single(7),
            'e' => self.single(0x1b),
            'b' if in_class => self.single(8),
            'p' | 'P' => self.property(c),
            'x' => {
                let code = if self.peek(0) == Some('{') {
                    let hex = self.braced("unterminated \\x{")?;
                    u32::from_str_radix(hex.trim(), 16).map_err(|_| "invalid \\x{} escape")?
                } else {
                    self.digits(16, 2, 0)
                };
                self.single(code)
            }
            'o' if self.peek(0) == Some('{') => {
                let oct = self.braced("unterminated \\o{")?;
                let code =
                    u32::from_str_radix(oct.trim(), 8).map_err(|_| "invalid \\o{} escape")?;
                self.single(code)
            }
            'c' => {
                let ch = self.peek(0).ok_or("incomplete \\c")?;
                self.i += 1;
                if !ch.is_ascii() {
                    return Err("\\c must be followed by an ASCII character".to_owned());
                }
                self.single(u32::from(ch.to_ascii_uppercase() as u8 ^ 0x40))
            }
            '0' => {
                let code = self.digits(8, 2, 0);
                self.single(code)
            }
            '1'..='9' if in_class => {
                // Inside a class, digits after a backslash are octal.
                let first = c.to_digit(8).ok_or("invalid octal escape")?;
                let code = self.digits(8, 2, first);
                self.single(code)
            }
            '1'..='9' => self.back_reference_or_octal(c),
            'g' | 'k' if !in_class => self.group_reference(c),
            'Q' => Ok(self.quoted()),
            'E' => Ok(false),
            c if c.is_ascii_alphanumeric() => Err(format!("unsupported escape \\{c}")),
            c => {
                push_char_escaped(&mut self.out, c);
                Ok(true)
            }
        }
    }

    /// Class shorthands, anchors and control escapes that translate as they
    /// are; whether each is a single character, or `None` for other escapes.
    fn shorthand(&mut self, c: char, in_class: bool) -> Option<bool> {
        match c {
            'b' if in_class => None,
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                self.out.push('\\');
                self.out.push(c);
                Some(false)
            }
            'n' | 'r' | 't' | 'f' => {
                self.out.push('\\');
                self.out.push(c);
                Some(true)
            }
            'b' | 'B' | 'A' | 'z' => {
                self.out.push('\\');
                self.out.push(c);
                Some(false)
            }
            'Z' if !in_class => {
                self.out.push_str(r"(?:\n?\z)");
                Some(false)
            }
            'h' | 'v' => {
                let set = if c == 'h' { H_SPACE } else { V_SPACE };
                if in_class {
                    self.out.push_str(set);
                } else {
                    let _ = write!(self.out, "[{set}]");
                }
                Some(false)
            }
            'H' | 'V' if !in_class => {
                let set = if c == 'H' { H_SPACE } else { V_SPACE };
                let _ = write!(self.out, "[^{set}]");
                Some(false)
            }
            'R' if !in_class => {
                let _ = write!(self.out, r"(?:\r\n|[{V_SPACE}])");
                Some(false)
            }
            'N' if !in_class => {
                self.out.push_str(r"[^\n]");
                Some(false)
            }
            _ => None,
        }
    }

    /// `\Q…\E`: the text between, literally.
    fn quoted(&mut self) -> bool {
        while let Some(ch) = self.peek(0) {
            if ch == '\\' && self.peek(1) == Some('E') {
                self.i += 2;
                break;
            }
            push_char_escaped(&mut self.out, ch);
            self.i += 1;
        }
        true
    }

    /// Writes the character with code point `code`; it is a single character.
    fn single(&mut self, code: u32) -> Result<bool, String> {
        let ch = char::from_u32(code).ok_or("invalid character code")?;
        let _ = write!(self.out, "\\x{{{:X}}}", ch as u32);
        Ok(true)
    }

    /// Reads up to `max` digits in `radix` after `code` (the digits read so far).
    fn digits(&mut self, radix: u32, max: usize, mut code: u32) -> u32 {
        for _ in 0..max {
            match self.peek(0).and_then(|c| c.to_digit(radix)) {
                Some(d) => {
                    code = code * radix + d;
                    self.i += 1;
                }
                None => break,
            }
        }
        code
    }

    /// The text of `{...}` at the cursor, which moves past the `}`.
    fn braced(&mut self, unterminated: &'static str) -> Result<String, String> {
        let end = self.c[self.i..]
            .iter()
            .position(|&c| c == '}')
            .ok_or(unterminated)?;
        let text: String = self.c[self.i + 1..self.i + end].iter().collect();
        self.i += end + 1;
        Ok(text)
    }

    /// `\p{...}` or `\P{...}` (or a one-letter property): a Unicode property.
    fn property(&mut self, c: char) -> Result<bool, String> {
        let mut negated = c == 'P';
        let name: String = if self.peek(0) == Some('{') {
            self.braced("unterminated \\p{")?
        } else {
            let ch = self.peek(0).ok_or("incomplete \\p")?;
            self.i += 1;
            ch.to_string()
        };
        let mut name = name.trim().to_owned();
        if let Some(rest) = name.strip_prefix('^') {
            negated = !negated;
            name = rest.to_owned();
        }
        if name == "L&" {
            name = "LC".to_owned();
        }
        let _ = write!(
            self.out,
            "\\{}{{{}}}",
            if negated { 'P' } else { 'p' },
            name
        );
        Ok(false)
    }

    /// `\1`…: a back-reference when a single digit or not above the groups
    /// opened so far (PCRE), else up to three octal digits.
    fn back_reference_or_octal(&mut self, c: char) -> Result<bool, String> {
        // PCRE: a single digit, or a number not above the groups opened so far, is
        // a back-reference; otherwise up to three octal digits give a character.
        let start = self.i - 1;
        let mut n = c.to_string();
        while let Some(d) = self.peek(0).filter(char::is_ascii_digit) {
            n.push(d);
            self.i += 1;
        }
        let value: usize = n.parse().unwrap_or(usize::MAX);
        if n.len() == 1 || value <= self.captures {
            self.needs_backtracking = true;
            let _ = write!(self.out, "\\{n}");
            return Ok(false);
        }
        self.i = start;
        let code = self.digits(8, 3, 0);
        if self.i == start {
            return Err(format!("invalid escape \\{n}"));
        }
        self.single(code)
    }

    /// `\g` and `\k` references to a group by number or name.
    fn group_reference(&mut self, c: char) -> Result<bool, String> {
        let (open, close) = match self.peek(0) {
            Some('{') => ('{', '}'),
            Some('<') => ('<', '>'),
            Some('\'') => ('\'', '\''),
            Some(d) if c == 'g' && d.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(d) = self.peek(0).filter(char::is_ascii_digit) {
                    n.push(d);
                    self.i += 1;
                }
                self.needs_backtracking = true;
                let _ = write!(self.out, "\\{n}");
                return Ok(false);
            }
            _ => return Err(format!("unsupported escape \\{c}")),
        };
        let _ = open;
        let end = self.c[self.i + 1..]
            .iter()
            .position(|&ch| ch == close)
            .ok_or("unterminated group reference")?;
        let name: String = self.c[self.i + 1..self.i + 1 + end].iter().collect();
        self.i += end + 2;
        self.needs_backtracking = true;
        if name.chars().all(|c| c.is_ascii_digit()) && !name.is_empty() {
            let _ = write!(self.out, "\\{name}");
        } else if name.starts_with('-') || name.starts_with('+') {
            return Err("relative back-references are not supported".to_owned());
        } else {
            let _ = write!(self.out, "(?P={name})");
        }
        Ok(false)
    }

    /// Translates a character class starting at the cursor.
    fn class(&mut self) -> Result<(), String> {
        self.out.push('[');
        self.i += 1;
        if self.peek(0) == Some('^') {
            self.out.push('^');
            self.i += 1;
        }
        if self.peek(0) == Some(']') {
            self.out.push_str(r"\]");
            self.i += 1;
        }
        let mut prev = ClassItem::Start;
        let mut in_range = false;
        loop {
            let Some(c) = self.peek(0) else {
                return Err("missing terminating ] for character class".to_owned());
            };
            match c {
                ']' => {
                    self.out.push(']');
                    self.i += 1;
                    return Ok(());
                }
                '\\' => {
                    let single = self.escape(true)?;
                    prev = self.class_item(single, &mut in_range);
                }
                '[' => prev = self.class_bracket(&mut in_range),
                '-' => {
                    let next_is_single = self.hyphen_precedes_single();
                    self.i += 1;
                    if prev == ClassItem::Char && next_is_single && !in_range {
                        self.out.push('-');
                        in_range = true;
                    } else {
                        self.out.push_str(r"\-");
                        prev = self.class_item(true, &mut in_range);
                    }
                }
                '&' | '~' | '^' => {
                    let _ = write!(self.out, "\\{c}");
                    self.i += 1;
                    prev = self.class_item(true, &mut in_range);
                }
                c => {
                    if c.is_whitespace() || c == '#' {
                        push_char_escaped(&mut self.out, c);
                    } else {
                        self.out.push(c);
                    }
                    self.i += 1;
                    prev = self.class_item(true, &mut in_range);
                }
            }
        }
    }

    /// Whether the character after a `-` in a class (at `self.i`) is a
    /// single character that could end a range.
    fn hyphen_precedes_single(&self) -> bool {
        let next = self.peek(1);
        match next {
            None | Some(']') => false,
            Some('\\') => !matches!(
                self.peek(2),
                Some('d' | 'D' | 'w' | 'W' | 's' | 'S' | 'h' | 'v' | 'p' | 'P' | 'H' | 'V')
            ),
            Some('[') => self.peek(2) != Some(':'),
            Some(_) => true,
        }
    }

    /// A `[` in a class: a POSIX class such as `[:alpha:]`, else a literal `[`.
    fn class_bracket(&mut self, in_range: &mut bool) -> ClassItem {
        if self.peek(1) == Some(':') {
            let rest = &self.c[self.i + 2..];
            if let Some(end) = rest.windows(2).position(|w| w == [':', ']']) {
                let name: String = rest[..end].iter().collect();
                let _ = write!(self.out, "[:{name}:]");
                self.i += 2 + end + 2;
                return self.class_item(false, in_range);
            }
        }
        self.out.push_str(r"\[");
        self.i += 1;
        self.class_item(true, in_range)
    }

    /// Records a class item; a character completing a range makes the range a non-endpoint.
    fn class_item(&mut self, single: bool, in_range: &mut bool) -> ClassItem {
        if *in_range {
            *in_range = false;
            ClassItem::Other
        } else if single {
            ClassItem::Char
        } else {
            ClassItem::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Pattern::compile(p, false).unwrap().is_match(s).unwrap()
    }

    #[test]
    fn dollar_matches_before_final_newline() {
        assert!(m("foo$", "foo\n"));
        assert!(!m("foo$", "foo\nbar"));
        assert!(m("(?m)foo$", "foo\nbar"));
        assert!(m(r"foo\Z", "foo\n"));
    }

    #[test]
    fn pcre_escapes_translate() {
        assert!(m(r"a\/b", "a/b"));
        assert!(m(r"[\x{61}-\x{7a}]", "q"));
        assert!(m(r"\h", "\u{a0}"));
        assert!(m(r"a{foo}", "a{foo}"));
        assert!(m(r"[a-\d]", "-"));
        assert!(m(r"[[]", "["));
        assert!(m(r"[a&&b]", "&"));
        assert!(m(r"\Qa.b\E", "a.b"));
        assert!(!m(r"\Qa.b\E", "axb"));
        assert!(m(r"(?'n'x)", "x"));
        assert!(m(r"(a)\1", "aa"));
        assert!(!m(r"(a)\1", "ab"));
        assert!(m(r"(?<=a)b", "ab"));
        assert!(!m(r"a++a", "aaa"));
        assert!(m(r"\101", "A"));
        assert!(m(r"\cA", "\u{1}"));
        assert!(m("a#b", "a#b"));
        assert!(m(r"(?x) a b # comment", "ab"));
    }

    #[test]
    fn bad_patterns_fail_cleanly() {
        for p in ["(", "[a", "a\\", r"\G", r"(?R)", r"\i", "a)", "(?|a)"] {
            assert!(Pattern::compile(p, false).is_err(), "{p}");
        }
    }

    #[test]
    fn globs() {
        let g = |p: &str, s: &str| Pattern::compile_glob(p).unwrap().is_match(s).unwrap();
        assert!(g("f+oo-b?r", "f+oo-bér"));
        assert!(g("qu*x", "quux"));
        assert!(g("12?4", "1234"));
        assert!(!g("12?4", "12345"));
        assert!(g("[!a]b", "cb"));
        assert!(!g("[a-c]", "b"));
        assert!(g("[a-c]", "-"));
    }

    #[test]
    fn replacements() {
        let r = Replacement::parse("$1baz");
        let p = Pattern::compile("(bar)", false).unwrap();
        assert_eq!(
            p.replace_all("foobarbaz", &r, 1 << 20, &mut |_| true)
                .unwrap()
                .unwrap(),
            "foobarbazbaz"
        );
        let r = Replacement::parse(r"[\1|${1}|\\1|\$1|$9]");
        assert_eq!(
            p.replace_all("bar", &r, 1 << 20, &mut |_| true)
                .unwrap()
                .unwrap(),
            r"[bar|bar|\1|$1|]"
        );
        // PCRE's iteration: an empty match may follow a non-empty one at the same place.
        let star = Pattern::compile("a*", false).unwrap();
        let x = Replacement::parse("X");
        assert_eq!(
            star.replace_all("aaa", &x, 1 << 20, &mut |_| true)
                .unwrap()
                .unwrap(),
            "XX"
        );
        assert_eq!(
            star.replace_all("baaac", &x, 1 << 20, &mut |_| true)
                .unwrap()
                .unwrap(),
            "XbXXcX"
        );
        assert_eq!(star.count("baaac", &mut |_| true).unwrap(), 4);
        assert_eq!(
            Pattern::compile("", false)
                .unwrap()
                .count("abc", &mut |_| true)
                .unwrap(),
            4
        );
        assert_eq!(
            Pattern::compile("é?", false)
                .unwrap()
                .count("éé", &mut |_| true)
                .unwrap(),
            3
        );
    }
}
