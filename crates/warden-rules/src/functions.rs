//! The built-in function library and the keyword operators.
//!
//! Every function converts its arguments as AbuseFilter's `FilterEvaluator` does (usually
//! to strings), and string positions and lengths count characters, not bytes, as PHP's
//! `mb_*` functions do. Regular expression arguments that are string literals are compiled
//! once with the rule; others are compiled on first use and cached in the
//! [`crate::EvalContext`].

use std::sync::Arc;

use crate::error::{ErrorKind, Result, RuleError};
use crate::eval::{data_bytes, work_steps, EvalContext};
use crate::ip;
use crate::limits::cost::{
    BACKTRACK_PER_KIB, CHARS_PER_KIB, COPY_PER_KIB, NORMALIZE_PER_KIB, REGEX_COMPILE_STEPS,
    REGEX_MATCH_STEPS, REGEX_PER_KIB, SEARCH_PER_KIB, STR_MATCH_STEPS,
};
use crate::limits::MAX_STRING_LENGTH;
use crate::normalize;
use crate::parser::KwOp;
use crate::pcre::{preg_quote, Flavor, MatchError, Pattern, Replacement};
use crate::value::Value;

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Lcase,
    Ucase,
    Length,
    String,
    Int,
    Float,
    Bool,
    Norm,
    Ccnorm,
    CcnormContainsAny,
    CcnormContainsAll,
    Specialratio,
    Rmspecials,
    Rmdoubles,
    Rmwhitespace,
    Count,
    Rcount,
    GetMatches,
    IpInRange,
    IpInRanges,
    ContainsAny,
    ContainsAll,
    EqualsToAny,
    Substr,
    Strlen,
    Strpos,
    StrReplace,
    StrReplaceRegexp,
    Rescape,
    Set,
    Sanitize,
}

/// Built-in function names. `set_var` is another name for `set`.
const NAMES: [(&str, Builtin); 32] = [
    ("lcase", Builtin::Lcase),
    ("ucase", Builtin::Ucase),
    ("length", Builtin::Length),
    ("string", Builtin::String),
    ("int", Builtin::Int),
    ("float", Builtin::Float),
    ("bool", Builtin::Bool),
    ("norm", Builtin::Norm),
    ("ccnorm", Builtin::Ccnorm),
    ("ccnorm_contains_any", Builtin::CcnormContainsAny),
    ("ccnorm_contains_all", Builtin::CcnormContainsAll),
    ("specialratio", Builtin::Specialratio),
    ("rmspecials", Builtin::Rmspecials),
    ("rmdoubles", Builtin::Rmdoubles),
    ("rmwhitespace", Builtin::Rmwhitespace),
    ("count", Builtin::Count),
    ("rcount", Builtin::Rcount),
    ("get_matches", Builtin::GetMatches),
    ("ip_in_range", Builtin::IpInRange),
    ("ip_in_ranges", Builtin::IpInRanges),
    ("contains_any", Builtin::ContainsAny),
    ("contains_all", Builtin::ContainsAll),
    ("equals_to_any", Builtin::EqualsToAny),
    ("substr", Builtin::Substr),
    ("strlen", Builtin::Strlen),
    ("strpos", Builtin::Strpos),
    ("str_replace", Builtin::StrReplace),
    ("str_replace_regexp", Builtin::StrReplaceRegexp),
    ("rescape", Builtin::Rescape),
    ("set", Builtin::Set),
    ("set_var", Builtin::Set),
    ("sanitize", Builtin::Sanitize),
];

impl Builtin {
    /// The built-in function called `name` (lowercase), if any.
    pub(crate) fn lookup(name: &str) -> Option<Builtin> {
        NAMES.iter().find(|(n, _)| *n == name).map(|&(_, b)| b)
    }

    /// The canonical name.
    pub(crate) fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, b)| *b == self)
            .map_or("?", |(n, _)| n)
    }

    /// The fewest and most arguments; `None` means any number.
    pub(crate) fn arity(self) -> (usize, Option<usize>) {
        use Builtin::*;
        match self {
            Lcase | Ucase | Length | String | Int | Float | Bool | Norm | Ccnorm | Specialratio
            | Rmspecials | Rmdoubles | Rmwhitespace | Strlen | Rescape | Sanitize => (1, Some(1)),
            Count | Rcount => (1, Some(2)),
            GetMatches | IpInRange | Set => (2, Some(2)),
            CcnormContainsAny | CcnormContainsAll | IpInRanges | ContainsAny | ContainsAll
            | EqualsToAny => (2, None),
            Substr | Strpos => (2, Some(3)),
            StrReplace | StrReplaceRegexp => (3, Some(3)),
        }
    }

    /// Which argument is a regular expression, given the number of arguments.
    pub(crate) fn pattern_arg(self, argc: usize) -> Option<usize> {
        match self {
            Builtin::GetMatches => Some(0),
            Builtin::Rcount if argc == 2 => Some(0),
            Builtin::StrReplaceRegexp => Some(1),
            _ => None,
        }
    }

    /// The rate, in steps per KiB, at which the function's arguments are charged before it
    /// runs (see [`crate::limits::cost`]). Searches per needle, regular expression matches
    /// and output are charged on top as they happen.
    pub(crate) fn input_rate(self) -> u64 {
        use Builtin::*;
        match self {
            Lcase | Ucase | Substr | Strpos | Rescape => CHARS_PER_KIB,
            // Counting characters is a fast scan.
            Length | Strlen => SEARCH_PER_KIB,
            String | Int | Float | Bool | IpInRange | IpInRanges | Set | ContainsAny
            | ContainsAll | EqualsToAny => COPY_PER_KIB,
            Norm => 4 * NORMALIZE_PER_KIB,
            Ccnorm | Sanitize => 2 * NORMALIZE_PER_KIB,
            CcnormContainsAny | CcnormContainsAll => 2 * NORMALIZE_PER_KIB,
            Specialratio | Rmspecials | Rmdoubles | Rmwhitespace => NORMALIZE_PER_KIB,
            Count | StrReplace => 2 * SEARCH_PER_KIB,
            Rcount | GetMatches | StrReplaceRegexp => REGEX_PER_KIB,
        }
    }

    /// How many bytes of output the function produces per byte of its first argument, at
    /// most, for the static estimate; `None` when the result is a number or a boolean.
    pub(crate) fn output_ratio(self) -> Option<usize> {
        use Builtin::*;
        match self {
            Length | Strlen | Int | Float | Bool | Specialratio | Count | Rcount | IpInRange
            | IpInRanges | ContainsAny | ContainsAll | CcnormContainsAny | CcnormContainsAll
            | EqualsToAny | Strpos => None,
            // Upper-casing can triple a character (`ΐ`); escaping can double it.
            Lcase | Ucase | Norm | Ccnorm => Some(3),
            Rescape => Some(2),
            String | Rmspecials | Rmdoubles | Rmwhitespace | Substr | Sanitize | GetMatches
            | Set | StrReplace | StrReplaceRegexp => Some(1),
        }
    }
}

/// Checks the length of a string result and charges copying it.
fn string_result(s: String, ctx: &mut EvalContext, pos: usize) -> Result<Value> {
    if s.len() > MAX_STRING_LENGTH {
        return Err(RuleError::new(
            ErrorKind::StringTooLong,
            pos,
            format!("result is longer than {MAX_STRING_LENGTH} bytes"),
        ));
    }
    ctx.charge_work(s.len(), COPY_PER_KIB, pos)?;
    Ok(Value::from(s))
}

fn regex_error(pos: usize, pattern: &str, msg: &str) -> RuleError {
    RuleError::new(
        ErrorKind::BadRegex,
        pos,
        format!("invalid regular expression {pattern:?}: {msg}"),
    )
}

/// Turns a failed match into the rule error: the budget error recorded by the spending
/// callback when it stopped the match, else the engine's own budget error.
fn match_error(pos: usize, e: MatchError, stopped: Option<RuleError>) -> RuleError {
    match (e, stopped) {
        (MatchError::Stopped, Some(error)) => error,
        (MatchError::Stopped, None) => RuleError::new(
            ErrorKind::TimeBudget,
            pos,
            "regular expression stopped: the evaluation budget is spent",
        ),
        (MatchError::Budget(msg), _) => RuleError::new(
            ErrorKind::TimeBudget,
            pos,
            format!("regular expression gave up: {msg}"),
        ),
    }
}

/// The compiled pattern for `source`, from the rule if it was a literal, else the cache
/// (charging the compilation on a miss).
fn pattern_for(
    pre: Option<&Arc<Pattern>>,
    source: &str,
    flavor: Flavor,
    ctx: &mut EvalContext,
    pos: usize,
) -> Result<Arc<Pattern>> {
    if let Some(p) = pre {
        return Ok(p.clone());
    }
    if !ctx.regex_cache.contains(source, flavor) {
        ctx.charge_steps(
            REGEX_COMPILE_STEPS + work_steps(source.len(), COPY_PER_KIB),
            pos,
        )?;
    }
    ctx.regex_cache
        .get(source, flavor)
        .map_err(|msg| regex_error(pos, source, &msg))
}

/// Charges a regular expression scan of `hay_bytes` beyond what the input rate already
/// charged: the backtracking engine costs more per byte than the linear one.
fn charge_engine(p: &Pattern, hay_bytes: usize, ctx: &mut EvalContext, pos: usize) -> Result<()> {
    if p.is_backtracking() {
        ctx.charge_work(hay_bytes, BACKTRACK_PER_KIB - REGEX_PER_KIB, pos)?;
    }
    Ok(())
}

/// Counts the comma-separated parts of a string, as `count(explode(',', s))`.
fn explode_count(s: &str) -> i64 {
    s.bytes().filter(|&b| b == b',').count() as i64 + 1
}

/// AbuseFilter's `contains`: whether `haystack` contains any (or all) of `needles`, after
/// `ccnorm` on both sides when `normalize`. Empty needles are skipped. Each search is
/// charged as it starts, so many needles over a long haystack stop when the budget does.
#[expect(
    clippy::fn_params_excessive_bools,
    reason = "predates the flag lint; to become an enum or two functions"
)]
fn contains(
    haystack: &Value,
    needles: &[Value],
    any: bool,
    normalize: bool,
    ctx: &mut EvalContext,
    pos: usize,
) -> Result<bool> {
    if !normalize {
        if haystack.str_is_empty() {
            return Ok(false);
        }
        let hay_bytes = data_bytes(haystack);
        for needle in needles {
            let n = needle.to_str();
            if n.is_empty() {
                continue;
            }
            ctx.charge_work(hay_bytes, SEARCH_PER_KIB, pos)?;
            let found = haystack.str_contains(&n);
            if found == any {
                return Ok(found);
            }
        }
        return Ok(!any);
    }
    let hay = haystack.to_str();
    if hay.is_empty() {
        return Ok(false);
    }
    let hay = normalize::ccnorm(&hay);
    for needle in needles {
        let n = normalize::ccnorm(&needle.to_str());
        if n.is_empty() {
            continue;
        }
        ctx.charge_work(hay.len(), SEARCH_PER_KIB, pos)?;
        let found = hay.contains(&*n);
        if found == any {
            return Ok(found);
        }
    }
    Ok(!any)
}

/// The byte offset of character `n` of `s` (or `s.len()` past the end).
fn char_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// PHP's `mb_substr`.
fn mb_substr(s: &str, start: i64, length: Option<i64>) -> &str {
    let len = s.chars().count() as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    if start >= len {
        return "";
    }
    let end = match length {
        None => len,
        Some(l) if l < 0 => len + l,
        Some(l) => start.saturating_add(l).min(len),
    };
    if end <= start {
        return "";
    }
    let a = char_offset(s, start as usize);
    let b = a + char_offset(&s[a..], (end - start) as usize);
    &s[a..b]
}

/// PHP's `mb_strpos`, with AbuseFilter's -1 for "not found".
fn mb_strpos(hay: &str, needle: &str, offset: i64) -> i64 {
    if needle.is_empty() {
        return -1;
    }
    let len = hay.chars().count() as i64;
    if offset > len {
        return -1;
    }
    let start = if offset < 0 { len + offset } else { offset };
    if start < 0 {
        return -1;
    }
    let from = char_offset(hay, start as usize);
    match hay[from..].find(needle) {
        Some(byte) => start + hay[from..from + byte].chars().count() as i64,
        None => -1,
    }
}

/// Calls a built-in function with evaluated arguments.
#[expect(
    clippy::too_many_lines,
    reason = "predates the 70-line lint; to be split"
)]
pub(crate) fn call(
    f: Builtin,
    args: &[Value],
    pattern: Option<&Arc<Pattern>>,
    ctx: &mut EvalContext,
    pos: usize,
) -> Result<Value> {
    let input: usize = args.iter().map(data_bytes).sum();
    ctx.charge_work(input, f.input_rate(), pos)?;
    let null = Value::Null;
    let arg = |i: usize| args.get(i).unwrap_or(&null);
    let s0 = || arg(0).to_str();
    Ok(match f {
        Builtin::Lcase => string_result(s0().to_lowercase(), ctx, pos)?,
        Builtin::Ucase => string_result(s0().to_uppercase(), ctx, pos)?,
        Builtin::Length | Builtin::Strlen => match args.first() {
            Some(Value::Array(items)) => Value::Int(items.len() as i64),
            Some(v) => Value::Int(v.to_str().chars().count() as i64),
            None => Value::Int(0),
        },
        Builtin::String => match arg(0) {
            v @ Value::Str(_) => v.clone(),
            v => string_result(v.to_string(), ctx, pos)?,
        },
        Builtin::Int => Value::Int(arg(0).to_int()),
        Builtin::Float => Value::Float(arg(0).to_float()),
        Builtin::Bool => Value::Bool(arg(0).to_bool()),
        Builtin::Norm => {
            let s = normalize::ccnorm(&s0());
            let s = normalize::rmdoubles(&s);
            let s = normalize::rmspecials(&s);
            string_result(normalize::rmwhitespace(&s), ctx, pos)?
        }
        Builtin::Ccnorm => {
            let decoded = normalize::decode_entities(&s0(), false);
            string_result(normalize::ccnorm(&decoded), ctx, pos)?
        }
        Builtin::CcnormContainsAny => {
            Value::Bool(contains(arg(0), &args[1..], true, true, ctx, pos)?)
        }
        Builtin::CcnormContainsAll => {
            Value::Bool(contains(arg(0), &args[1..], false, true, ctx, pos)?)
        }
        Builtin::ContainsAny => Value::Bool(contains(arg(0), &args[1..], true, false, ctx, pos)?),
        Builtin::ContainsAll => Value::Bool(contains(arg(0), &args[1..], false, false, ctx, pos)?),
        Builtin::Specialratio => {
            let s = s0();
            if s.is_empty() {
                Value::Float(0.0)
            } else {
                let kept = normalize::rmspecials(&s).chars().count() as f64;
                Value::Float(1.0 - kept / s.chars().count() as f64)
            }
        }
        Builtin::Rmspecials => string_result(normalize::rmspecials(&s0()), ctx, pos)?,
        Builtin::Rmdoubles => string_result(normalize::rmdoubles(&s0()), ctx, pos)?,
        Builtin::Rmwhitespace => string_result(normalize::rmwhitespace(&s0()), ctx, pos)?,
        Builtin::Count => {
            if args.len() == 1 {
                match &args[0] {
                    Value::Array(items) => Value::Int(items.len() as i64),
                    v => Value::Int(explode_count(&v.to_str())),
                }
            } else {
                let needle = arg(0).to_str().into_owned();
                if needle.is_empty() {
                    Value::Int(0)
                } else {
                    let hay = arg(1).to_str();
                    Value::Int(
                        memchr::memmem::find_iter(hay.as_bytes(), needle.as_bytes()).count() as i64,
                    )
                }
            }
        }
        Builtin::Rcount => {
            if args.len() == 1 {
                Value::Int(explode_count(&arg(0).to_str()))
            } else {
                let source = s0();
                let p = pattern_for(pattern, &source, Flavor::Regex, ctx, pos)?;
                let hay = arg(1).to_str();
                charge_engine(&p, hay.len(), ctx, pos)?;
                let mut stopped = None;
                let n = p
                    .count(&hay, &mut |_| spend_match(ctx, 0, pos, &mut stopped))
                    .map_err(|e| match_error(pos, e, stopped.take()))?;
                Value::Int(n as i64)
            }
        }
        Builtin::GetMatches => {
            let source = s0();
            let p = pattern_for(pattern, &source, Flavor::Regex, ctx, pos)?;
            let hay = arg(1).to_str().into_owned();
            charge_engine(&p, hay.len(), ctx, pos)?;
            let groups = p.group_count();
            let found = p.captures(&hay).map_err(|e| match_error(pos, e, None))?;
            let mut out = Vec::with_capacity(groups);
            if let Some(caps) = found {
                // preg_match lists groups up to the last one that took part; earlier groups
                // that did not take part are empty strings, later ones are false.
                let last = caps.iter().rposition(Option::is_some).unwrap_or(0);
                for c in caps.iter().take(last + 1) {
                    out.push(match c {
                        Some((s, e)) => {
                            ctx.charge_work(e - s, COPY_PER_KIB, pos)?;
                            Value::str(&hay[*s..*e])
                        }
                        None => Value::str(""),
                    });
                }
            }
            while out.len() < groups {
                out.push(Value::Bool(false));
            }
            Value::from(out)
        }
        Builtin::IpInRange => {
            let range = arg(1).to_str().into_owned();
            if !ip::is_valid_range(&range) {
                return Err(RuleError::new(
                    ErrorKind::InvalidIpRange,
                    pos,
                    format!("invalid IP range {range:?}"),
                ));
            }
            Value::Bool(ip::in_range(&s0(), &range))
        }
        Builtin::IpInRanges => {
            let ip = s0();
            let mut found = false;
            for r in &args[1..] {
                let range = r.to_str();
                if !ip::is_valid_range(&range) {
                    return Err(RuleError::new(
                        ErrorKind::InvalidIpRange,
                        pos,
                        format!("invalid IP range {range:?}"),
                    ));
                }
                found = found || ip::in_range(&ip, &range);
            }
            Value::Bool(found)
        }
        Builtin::EqualsToAny => {
            let first = arg(0);
            let first_bytes = data_bytes(first);
            let mut found = false;
            for v in &args[1..] {
                // Each comparison may read the first argument in full.
                ctx.charge_work(first_bytes.min(data_bytes(v)), COPY_PER_KIB, pos)?;
                if first.strict_eq(v) {
                    found = true;
                    break;
                }
            }
            Value::Bool(found)
        }
        Builtin::Substr => {
            let s = s0();
            let length = args.get(2).map(Value::to_int);
            let part = mb_substr(&s, arg(1).to_int(), length);
            ctx.charge_work(part.len(), COPY_PER_KIB, pos)?;
            Value::str(part)
        }
        Builtin::Strpos => {
            let offset = args.get(2).map_or(0, Value::to_int);
            let hay = s0();
            ctx.charge_work(hay.len(), SEARCH_PER_KIB, pos)?;
            Value::Int(mb_strpos(&hay, &arg(1).to_str(), offset))
        }
        Builtin::StrReplace => {
            let subject = s0();
            let search = arg(1).to_str().into_owned();
            if search.is_empty() {
                Value::from(subject.into_owned())
            } else {
                let replace = arg(2).to_str().into_owned();
                let finder = memchr::memmem::Finder::new(search.as_bytes());
                let n = finder.find_iter(subject.as_bytes()).count();
                let new_len = (subject.len() - n * search.len()).saturating_add(n * replace.len());
                if new_len > MAX_STRING_LENGTH {
                    return Err(RuleError::new(
                        ErrorKind::StringTooLong,
                        pos,
                        format!("result is longer than {MAX_STRING_LENGTH} bytes"),
                    ));
                }
                // The output and the matches are charged before the output is built.
                ctx.charge_steps(
                    work_steps(new_len, COPY_PER_KIB) + n as u64 * STR_MATCH_STEPS,
                    pos,
                )?;
                let mut out = String::with_capacity(new_len);
                let mut last = 0;
                for at in finder.find_iter(subject.as_bytes()) {
                    out.push_str(&subject[last..at]);
                    out.push_str(&replace);
                    last = at + search.len();
                }
                out.push_str(&subject[last..]);
                Value::from(out)
            }
        }
        Builtin::StrReplaceRegexp => {
            let subject = s0();
            let source = arg(1).to_str().into_owned();
            let p = pattern_for(pattern, &source, Flavor::Regex, ctx, pos)?;
            charge_engine(&p, subject.len(), ctx, pos)?;
            let replacement = Replacement::parse(&arg(2).to_str());
            let mut stopped = None;
            let replaced = p
                .replace_all(&subject, &replacement, MAX_STRING_LENGTH, &mut |bytes| {
                    spend_match(ctx, bytes, pos, &mut stopped)
                })
                .map_err(|e| match_error(pos, e, stopped.take()))?;
            match replaced {
                Some(s) => {
                    // The text after the last match, copied at the end.
                    ctx.charge_work(subject.len(), COPY_PER_KIB, pos)?;
                    Value::from(s)
                }
                None => {
                    return Err(RuleError::new(
                        ErrorKind::StringTooLong,
                        pos,
                        format!("result is longer than {MAX_STRING_LENGTH} bytes"),
                    ))
                }
            }
        }
        Builtin::Rescape => string_result(preg_quote(&s0()), ctx, pos)?,
        Builtin::Sanitize => {
            let once = normalize::decode_entities(&s0(), false);
            string_result(normalize::decode_entities(&once, true), ctx, pos)?
        }
        // `set` is compiled to an assignment; this arm is only a safe fallback.
        Builtin::Set => arg(1).clone(),
    })
}

/// Charges one regular expression match and the output it produced; on failure keeps the
/// error in `stopped` and returns false so that the engine stops.
fn spend_match(
    ctx: &mut EvalContext,
    output_bytes: usize,
    pos: usize,
    stopped: &mut Option<RuleError>,
) -> bool {
    let steps = REGEX_MATCH_STEPS + work_steps(output_bytes, COPY_PER_KIB);
    match ctx.charge_steps(steps, pos) {
        Ok(()) => true,
        Err(error) => {
            *stopped = Some(error);
            false
        }
    }
}

/// Evaluates a keyword operator on evaluated operands.
pub(crate) fn keyword(
    op: KwOp,
    lhs: &Value,
    rhs: &Value,
    pattern: Option<&Arc<Pattern>>,
    ctx: &mut EvalContext,
    pos: usize,
) -> Result<Value> {
    let (hay, needle) = match op {
        KwOp::In => (rhs, lhs),
        KwOp::Contains => (lhs, rhs),
        KwOp::Like => {
            ctx.charge_work(data_bytes(lhs) + data_bytes(rhs), REGEX_PER_KIB, pos)?;
            let p = match pattern {
                Some(p) => Some(p.clone()),
                None => {
                    let glob = rhs.to_str();
                    if !ctx.regex_cache.contains(&glob, Flavor::Glob) {
                        ctx.charge_steps(
                            REGEX_COMPILE_STEPS + work_steps(glob.len(), COPY_PER_KIB),
                            pos,
                        )?;
                    }
                    ctx.regex_cache.get(&glob, Flavor::Glob).ok()
                }
            };
            // A glob that does not compile never matches, as upstream.
            return Ok(Value::Bool(match p {
                Some(p) => {
                    charge_engine(&p, data_bytes(lhs), ctx, pos)?;
                    p.is_match(&lhs.to_str())
                        .map_err(|e| match_error(pos, e, None))?
                }
                None => false,
            }));
        }
        KwOp::Rlike | KwOp::Irlike => {
            ctx.charge_work(data_bytes(lhs) + data_bytes(rhs), REGEX_PER_KIB, pos)?;
            let flavor = if op == KwOp::Irlike {
                Flavor::RegexInsensitive
            } else {
                Flavor::Regex
            };
            let source = rhs.to_str();
            let p = pattern_for(pattern, &source, flavor, ctx, pos)?;
            charge_engine(&p, data_bytes(lhs), ctx, pos)?;
            return Ok(Value::Bool(
                p.is_match(&lhs.to_str())
                    .map_err(|e| match_error(pos, e, None))?,
            ));
        }
    };
    ctx.charge_work(data_bytes(hay) + data_bytes(needle), SEARCH_PER_KIB, pos)?;
    let needle = needle.to_str();
    Ok(Value::Bool(
        !needle.is_empty() && !hay.str_is_empty() && hay.str_contains(&needle),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_and_strpos_are_char_based() {
        assert_eq!(mb_substr("héllo", 1, Some(3)), "éll");
        assert_eq!(mb_substr("héllo", -2, None), "lo");
        assert_eq!(mb_substr("héllo", 1, Some(-1)), "éll");
        assert_eq!(mb_substr("héllo", 9, None), "");
        assert_eq!(mb_substr("héllo", 0, Some(i64::MAX)), "héllo");
        assert_eq!(mb_substr("héllo", i64::MIN, Some(2)), "hé");
        assert_eq!(mb_strpos("héllo", "l", 0), 2);
        assert_eq!(mb_strpos("héllo", "l", -2), 3);
        assert_eq!(mb_strpos("héllo", "x", 0), -1);
        assert_eq!(mb_strpos("héllo", "l", i64::MIN), -1);
    }
}
