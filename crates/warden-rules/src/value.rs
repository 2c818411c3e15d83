//! The dynamically typed [`Value`] and AbuseFilter's type juggling (`AFPData`).
//!
//! Conversions follow PHP as AbuseFilter uses it: strings convert to numbers by their
//! leading numeric prefix, floats print with 14 significant digits, arrays print as their
//! elements each followed by a newline, and loose equality compares the string forms.
//! Strings and arrays are reference counted, so copying a value never copies its contents.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::sync::Arc;

/// A value of the rule language.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// AbuseFilter's `DUNDEFINED`: the value of a variable that the rule assigns only in a
    /// branch that was not taken, or of a declared host variable the host did not provide.
    /// Any operation on it yields `Undefined` again, and it counts as false, so a rule never
    /// matches because of missing data.
    Undefined,
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit integer; arithmetic that overflows turns into [`Value::Float`], as in PHP.
    Int(i64),
    /// A double-precision float.
    Float(f64),
    /// A UTF-8 string.
    Str(Arc<str>),
    /// An array of values, indexed from 0.
    Array(Arc<Vec<Value>>),
}

impl Value {
    /// Builds a string value.
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::Str(Arc::from(s.as_ref()))
    }

    /// Builds an array value.
    pub fn array(items: impl IntoIterator<Item = Value>) -> Value {
        Value::Array(Arc::new(items.into_iter().collect()))
    }

    /// The AbuseFilter type name: `undefined`, `null`, `bool`, `int`, `float`, `string` or
    /// `array`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Undefined => "undefined",
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
        }
    }

    /// Whether this is [`Value::Undefined`].
    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    /// Whether this is [`Value::Undefined`] or an array that contains one, at any depth.
    pub fn has_undefined(&self) -> bool {
        match self {
            Value::Undefined => true,
            Value::Array(items) => items.iter().any(Value::has_undefined),
            _ => false,
        }
    }

    /// The nesting depth of arrays in this value (0 for a scalar), counting at most up to
    /// `limit + 1` so that the walk stays short.
    pub(crate) fn array_depth(&self, limit: usize) -> usize {
        match self {
            Value::Array(items) => {
                if limit == 0 {
                    return 1;
                }
                let mut deepest = 0;
                for item in items.iter() {
                    if let Value::Array(_) = item {
                        deepest = deepest.max(item.array_depth(limit - 1));
                        if deepest >= limit {
                            break;
                        }
                    }
                }
                1 + deepest
            }
            _ => 0,
        }
    }

    /// The number of elements of this array and of the arrays nested in it, each counted
    /// every time it appears, or `None` as soon as the count passes `cap` (so the walk
    /// visits at most `cap` elements). Scalars count 0.
    pub(crate) fn nested_len(&self, cap: usize) -> Option<usize> {
        fn walk(v: &Value, left: &mut usize) -> bool {
            let Value::Array(items) = v else {
                return true;
            };
            if items.len() > *left {
                return false;
            }
            *left -= items.len();
            items
                .iter()
                .all(|item| !matches!(item, Value::Array(_)) || walk(item, left))
        }
        let mut left = cap;
        walk(self, &mut left).then(|| cap - left)
    }

    /// A copy where every [`Value::Undefined`] is replaced by [`Value::Null`].
    pub(crate) fn undefined_to_null(&self) -> Value {
        match self {
            Value::Undefined => Value::Null,
            Value::Array(items) if items.iter().any(Value::has_undefined) => {
                Value::array(items.iter().map(Value::undefined_to_null))
            }
            other => other.clone(),
        }
    }

    /// The truth value, as PHP's `(bool)`: `""`, `"0"`, `0`, `0.0`, `null`, empty arrays and
    /// `Undefined` are false; everything else is true.
    pub fn to_bool(&self) -> bool {
        match self {
            Value::Undefined | Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !(s.is_empty() || &**s == "0"),
            Value::Array(items) => !items.is_empty(),
        }
    }

    /// The integer value, as PHP's `(int)`; an array gives its length.
    pub fn to_int(&self) -> i64 {
        match self {
            Value::Undefined | Value::Null => 0,
            Value::Bool(b) => i64::from(*b),
            Value::Int(i) => *i,
            Value::Float(f) => float_to_int(*f),
            Value::Str(s) => str_to_int(s),
            Value::Array(items) => items.len() as i64,
        }
    }

    /// The float value, as PHP's `(float)`; an array gives its length.
    pub fn to_float(&self) -> f64 {
        match self {
            Value::Undefined | Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Str(s) => str_to_float(s),
            Value::Array(items) => items.len() as f64,
        }
    }

    /// The string form, borrowed when the value already is a string.
    pub fn to_str(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s),
            Value::Undefined | Value::Null | Value::Bool(false) => Cow::Borrowed(""),
            Value::Bool(true) => Cow::Borrowed("1"),
            Value::Int(i) => Cow::Owned(i.to_string()),
            Value::Float(f) => Cow::Owned(float_to_string(*f)),
            Value::Array(_) => {
                let mut out = String::with_capacity(self.str_len_hint());
                self.append_to(&mut out);
                Cow::Owned(out)
            }
        }
    }

    /// Appends the string form to `out`.
    fn append_to(&self, out: &mut String) {
        match self {
            Value::Str(s) => out.push_str(s),
            Value::Array(items) => {
                for item in items.iter() {
                    item.append_to(out);
                    out.push('\n');
                }
            }
            other => out.push_str(&other.to_str()),
        }
    }

    /// Whether the string form contains `needle`, without building the string form of an
    /// array when the needle cannot span two elements (it has no newline).
    pub(crate) fn str_contains(&self, needle: &str) -> bool {
        match self {
            Value::Array(items) if !needle.contains('\n') => {
                items.iter().any(|item| item.str_contains(needle))
            }
            other => other.to_str().contains(needle),
        }
    }

    /// Whether the string form is empty.
    pub(crate) fn str_is_empty(&self) -> bool {
        match self {
            Value::Array(items) => items.is_empty(),
            Value::Str(s) => s.is_empty(),
            Value::Undefined | Value::Null | Value::Bool(false) => true,
            _ => false,
        }
    }

    /// The length in bytes of the string form, computed without building it.
    pub(crate) fn str_len_hint(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::Array(items) => items.iter().map(|v| v.str_len_hint() + 1).sum(),
            Value::Int(_) | Value::Float(_) => 20,
            _ => 1,
        }
    }

    /// AFPData's `toNumber`: integers for `int`, `bool` and `null`, floats otherwise.
    pub(crate) fn to_number(&self) -> Num {
        match self {
            Value::Int(i) => Num::Int(*i),
            Value::Bool(b) => Num::Int(i64::from(*b)),
            Value::Null | Value::Undefined => Num::Int(0),
            other => Num::Float(other.to_float()),
        }
    }

    /// Loose equality (`==`): arrays compare element-wise, an empty array equals `false` and
    /// `null`, and any other pair compares by string form.
    pub fn loose_eq(&self, other: &Value) -> bool {
        self.equals(other, false)
    }

    /// Strict equality (`===`): like [`Value::loose_eq`] but the types must match as well.
    pub fn strict_eq(&self, other: &Value) -> bool {
        self.equals(other, true)
    }

    fn equals(&self, other: &Value, strict: bool) -> bool {
        match (self, other) {
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(y, strict))
            }
            (Value::Array(a), b) | (b, Value::Array(a)) => {
                !strict
                    && a.is_empty()
                    && matches!(b, Value::Bool(false) | Value::Null | Value::Undefined)
            }
            (a, b) => {
                if strict && std::mem::discriminant(a) != std::mem::discriminant(b) {
                    return false;
                }
                match (a, b) {
                    (Value::Int(x), Value::Int(y)) => x == y,
                    (Value::Str(x), Value::Str(y)) => x == y,
                    (Value::Bool(x), Value::Bool(y)) => x == y,
                    _ => {
                        if let Some(ordering) = clearly_ordered(a, b) {
                            return ordering == Ordering::Equal;
                        }
                        a.to_str() == b.to_str()
                    }
                }
            }
        }
    }

    /// Ordering for `<`, `<=`, `>` and `>=`: both sides are converted to strings and compared
    /// as PHP 8 compares strings (numerically when both are numeric, else byte-wise).
    pub(crate) fn php_cmp(&self, other: &Value) -> Ordering {
        if let (Value::Int(a), Value::Int(b)) = (self, other) {
            return a.cmp(b);
        }
        if let Some(ordering) = clearly_ordered(self, other) {
            return ordering;
        }
        compare_php_strings(&self.to_str(), &other.to_str())
    }

    /// The value as an exact `f64` when it is a finite float or an integer small enough to
    /// convert exactly.
    fn exact_number(&self) -> Option<f64> {
        const EXACT: i64 = 1 << 53;
        match *self {
            Value::Int(i) if (-EXACT..=EXACT).contains(&i) => Some(i as f64),
            Value::Float(f) if f.is_finite() => Some(f),
            _ => None,
        }
    }
}

/// The ordering of two numbers when comparing their string forms (as [`Value::php_cmp`]
/// and loose equality do) cannot differ from comparing them directly: formatting a float
/// rounds it to 14 significant digits, which moves it by at most 5·10⁻¹⁴ of its size and
/// keeps the order of values further apart than that. `None` when they are too close (or
/// not plain numbers), and the caller compares the strings; this only saves formatting
/// and parsing floats.
fn clearly_ordered(a: &Value, b: &Value) -> Option<Ordering> {
    let (x, y) = (a.exact_number()?, b.exact_number()?);
    if (x - y).abs() > 1e-12 * x.abs().max(y.abs()) {
        x.partial_cmp(&y)
    } else {
        None
    }
}

/// A number as produced by AFPData's `toNumber`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    pub(crate) fn as_i64(self) -> i64 {
        match self {
            Num::Int(i) => i,
            Num::Float(f) => float_to_int(f),
        }
    }

    pub(crate) fn into_value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::Float(f) => Value::Float(f),
        }
    }
}

impl fmt::Display for Value {
    /// Formats the value as AbuseFilter's `toString`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Undefined | Value::Null | Value::Bool(false) => Ok(()),
            Value::Bool(true) => f.write_str("1"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&float_to_string(*x)),
            Value::Str(s) => f.write_str(s),
            Value::Array(items) => {
                for item in items.iter() {
                    fmt::Display::fmt(item, f)?;
                    f.write_char('\n')?;
                }
                Ok(())
            }
        }
    }
}

impl PartialEq for Value {
    /// Strict equality, as the rule language's `===`.
    fn eq(&self, other: &Value) -> bool {
        self.strict_eq(other)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Arc::from(s))
    }
}

impl From<Arc<str>> for Value {
    fn from(s: Arc<str>) -> Value {
        Value::Str(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::Array(Arc::new(v))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// PHP's conversion of a float to an integer: truncation, with out-of-range values wrapped
/// modulo 2^64 and non-finite values giving 0 (PHP 8 on 64-bit platforms).
pub(crate) fn float_to_int(f: f64) -> i64 {
    if !f.is_finite() {
        return 0;
    }
    // 2^63 and 2^64 are exact in binary floating point.
    let two63 = 2f64.powi(63);
    let two64 = 2f64.powi(64);
    if (-two63..two63).contains(&f) {
        return f as i64;
    }
    let mut m = f.trunc() % two64;
    if m < 0.0 {
        m += two64;
    }
    if m >= two63 {
        m -= two64;
    }
    m as i64
}

/// PHP's string form of a float with `precision = 14`, as `(string)$float` prints it.
pub fn float_to_string(f: f64) -> String {
    if f.is_nan() {
        return "NAN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "INF" } else { "-INF" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Round to 14 significant digits; the exponent form gives digits and exponent directly.
    let sci = format!("{:.13e}", f.abs());
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let mut out = String::with_capacity(24);
    if f < 0.0 {
        out.push('-');
    }
    if !(-4..14).contains(&exp) {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push(if exp < 0 { '-' } else { '+' });
        let _ = write!(out, "{}", exp.unsigned_abs());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// The shape of the leading numeric prefix of a string, as PHP's `strtol`/`strtod` read it.
struct NumericPrefix {
    /// The byte length of the prefix, after leading whitespace; 0 if there is none.
    end: usize,
    /// Whether the prefix has a fraction or an exponent.
    is_float: bool,
}

fn is_php_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Scans `[ws][+-](digits[.digits]|.digits)([eE][+-]digits)` from the start of `s`.
fn numeric_prefix(s: &[u8]) -> (usize, NumericPrefix) {
    let mut i = 0;
    while i < s.len() && is_php_space(s[i]) {
        i += 1;
    }
    let start = i;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    let mut is_float = false;
    if i < s.len() && s[i] == b'.' {
        let mut j = i + 1;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        frac_digits = j - i - 1;
        if int_digits > 0 || frac_digits > 0 {
            i = j;
            is_float = true;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return (
            start,
            NumericPrefix {
                end: 0,
                is_float: false,
            },
        );
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
            is_float = true;
        }
    }
    (
        start,
        NumericPrefix {
            end: i - start,
            is_float,
        },
    )
}

/// PHP's `(float)$string`: the leading numeric prefix, or 0.
pub(crate) fn str_to_float(s: &str) -> f64 {
    let (start, p) = numeric_prefix(s.as_bytes());
    if p.end == 0 {
        return 0.0;
    }
    s[start..start + p.end].parse::<f64>().unwrap_or(0.0)
}

/// PHP's `(int)$string`: the leading numeric prefix truncated, saturating on overflow.
pub(crate) fn str_to_int(s: &str) -> i64 {
    let (start, p) = numeric_prefix(s.as_bytes());
    if p.end == 0 {
        return 0;
    }
    let text = &s[start..start + p.end];
    if !p.is_float {
        if let Ok(i) = text.parse::<i64>() {
            return i;
        }
    }
    let f = text.parse::<f64>().unwrap_or(0.0);
    if f.is_nan() {
        0
    } else {
        // Rust's float-to-int cast saturates, as PHP does for numeric strings.
        f as i64
    }
}

/// Whether the whole string is numeric in PHP 8's sense (surrounding whitespace allowed).
fn php_numeric(s: &str) -> Option<Num> {
    let bytes = s.as_bytes();
    let (start, p) = numeric_prefix(bytes);
    if p.end == 0 {
        return None;
    }
    let mut end = start + p.end;
    while end < bytes.len() && is_php_space(bytes[end]) {
        end += 1;
    }
    if end != bytes.len() {
        return None;
    }
    let text = &s[start..start + p.end];
    if !p.is_float {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Num::Int(i));
        }
    }
    text.parse::<f64>().ok().map(Num::Float)
}

/// Whether the whole string is numeric in PHP 8's sense.
pub(crate) fn str_is_numeric(s: &str) -> bool {
    php_numeric(s).is_some()
}

/// Compares two strings as PHP 8's `<=>` does: numerically when both are numeric strings,
/// byte-wise otherwise.
pub(crate) fn compare_php_strings(a: &str, b: &str) -> Ordering {
    if let (Some(x), Some(y)) = (php_numeric(a), php_numeric(b)) {
        return match (x, y) {
            (Num::Int(x), Num::Int(y)) => x.cmp(&y),
            (x, y) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Less),
        };
    }
    a.as_bytes().cmp(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_strings_match_php() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (-0.0, "-0"),
            (0.1 + 0.2, "0.3"),
            (1e14, "1.0E+14"),
            (1e13, "10000000000000"),
            (123456.789, "123456.789"),
            (0.0001, "0.0001"),
            (0.00001, "1.0E-5"),
            (1.5e-7, "1.5E-7"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "INF"),
            (1.0 / 3.0, "0.33333333333333"),
            (1e100, "1.0E+100"),
        ];
        for (f, want) in cases {
            assert_eq!(float_to_string(f), want, "{f}");
        }
    }

    #[test]
    fn string_to_number_prefixes() {
        assert_eq!(str_to_int("12abc"), 12);
        assert_eq!(str_to_int("  -7"), -7);
        assert_eq!(str_to_int("1e3"), 1000);
        assert_eq!(str_to_int("1.9"), 1);
        assert_eq!(str_to_int("abc"), 0);
        assert_eq!(str_to_int("99999999999999999999"), i64::MAX);
        assert_eq!(str_to_float(".5x"), 0.5);
        assert_eq!(str_to_float("1e"), 1.0);
        assert_eq!(str_to_float("-"), 0.0);
    }

    #[test]
    fn php_string_comparison() {
        assert_eq!(compare_php_strings("10", "9"), Ordering::Greater);
        assert_eq!(compare_php_strings("abc", "abd"), Ordering::Less);
        assert_eq!(compare_php_strings("-0.01", "0.01"), Ordering::Less);
        assert_eq!(compare_php_strings("1e3", "999"), Ordering::Greater);
        assert_eq!(compare_php_strings("10", "9a"), Ordering::Less);
    }

    #[test]
    fn float_to_int_wraps_like_php() {
        assert_eq!(float_to_int(1e19), -8_446_744_073_709_551_616);
        assert_eq!(float_to_int(f64::NAN), 0);
        assert_eq!(float_to_int(-3.9), -3);
    }
}

#[cfg(test)]
mod ordering_tests {
    use super::*;

    /// The shortcut agrees with comparing the string forms on numbers far apart, close
    /// together, equal after rounding, huge, tiny and negative.
    #[test]
    fn numeric_shortcut_agrees_with_the_string_comparison() {
        let floats = [
            0.0,
            -0.0,
            0.1 + 0.2,
            0.3,
            1.0 / 3.0,
            0.333_333_333_333_33,
            2.5,
            3.0,
            -7.25,
            1e13,
            1e14,
            1e-5,
            1e-300,
            123_456.789,
            9_007_199_254_740_992.0,
            1e20,
        ];
        let ints = [
            0,
            1,
            2,
            3,
            -7,
            10_000_000_000_000,
            9_007_199_254_740_993,
            i64::MIN,
        ];
        let values: Vec<Value> = floats
            .iter()
            .map(|f| Value::Float(*f))
            .chain(ints.iter().map(|i| Value::Int(*i)))
            .collect();
        for a in &values {
            for b in &values {
                let slow = compare_php_strings(&a.to_str(), &b.to_str());
                assert_eq!(a.php_cmp(b), slow, "{a:?} vs {b:?}");
                assert_eq!(a.loose_eq(b), a.to_str() == b.to_str(), "{a:?} == {b:?}");
            }
        }
    }
}
