//! Text normalisation: `ccnorm` (confusable characters), `rmspecials`, `rmdoubles`,
//! `rmwhitespace`, and HTML entity decoding for `sanitize`.
//!
//! AbuseFilter's `ccnorm` uses Wikimedia's Equivset table, which is GPL-licensed and not
//! copied here. Warden's `ccnorm` is built instead from three permissively licensed or
//! original sources, applied per character:
//!
//! 1. a small table written for Warden of digits and symbols commonly used as letters
//!    (`0`→`O`, `1`→`I`, `3`→`E`, `4`→`A`, `@`→`A`, `$`→`S`, …) and of Greek and Cyrillic
//!    look-alikes;
//! 2. Unicode compatibility decomposition with combining marks removed (`é`→`E`, `ｆ`→`F`);
//! 3. the Unicode confusables prototypes of UTS #39, from the `unicode-security` crate
//!    (`ɨ`→`I`, `ᑭ`→`P`);
//!
//! and the result is upper-cased, so `ccnorm("w1k1p3d14") == "WIKIPEDIA"`. Characters with
//! no mapping are kept, upper-cased. The output differs from Equivset for some rare
//! characters, but both sides of a `ccnorm_contains_*` comparison go through the same table.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// AbuseFilter's `ccnorm`: maps look-alike characters to one upper-case representative.
///
/// Hosts can use it to normalise list entries the same way rules normalise text.
pub fn ccnorm(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        map_char(c, &mut out, 0);
    }
    out
}

/// Maps one character, appending its representative to `out`.
fn map_char(c: char, out: &mut String, depth: u8) {
    if c.is_ascii() {
        out.push(ascii_map(c));
        return;
    }
    if let Some(m) = lookalike(c) {
        out.push_str(m);
        return;
    }
    if depth < 2 {
        // Compatibility decomposition without combining marks.
        let mut decomposed = String::new();
        decompose_compatible(c, |d| {
            if !is_combining_mark(d) {
                decomposed.push(d);
            }
        });
        if !decomposed.is_empty() && decomposed.chars().ne(std::iter::once(c)) {
            for d in decomposed.chars() {
                map_char(d, out, depth + 1);
            }
            return;
        }
        // Unicode confusable prototype without combining marks.
        let mut buf = [0u8; 4];
        let skeleton: String = unicode_security::skeleton(c.encode_utf8(&mut buf))
            .filter(|d| !is_combining_mark(*d))
            .collect();
        if !skeleton.is_empty() && skeleton.chars().ne(std::iter::once(c)) {
            for d in skeleton.chars() {
                map_char(d, out, depth + 1);
            }
            return;
        }
    }
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => out.push(u),
        _ => out.push(c),
    }
}

/// The ASCII part of the table: letters upper-cased, digits and symbols used as letters.
fn ascii_map(c: char) -> char {
    match c {
        '0' => 'O',
        '1' | '|' => 'I',
        '2' => 'Z',
        '3' => 'E',
        '4' | '@' => 'A',
        '5' | '$' => 'S',
        '6' | '9' => 'G',
        '7' => 'T',
        '8' => 'B',
        c => c.to_ascii_uppercase(),
    }
}

/// Non-ASCII look-alikes that decomposition and the Unicode prototypes do not reduce to a
/// Latin letter. Written for Warden.
fn lookalike(c: char) -> Option<&'static str> {
    Some(match c {
        // Greek.
        'α' | 'Α' | 'λ' | 'Λ' | 'Δ' | 'δ' => "A",
        'β' | 'Β' => "B",
        'γ' | 'Υ' | 'ψ' | 'Ψ' => "Y",
        'ε' | 'Ε' | 'ξ' | 'Ξ' | 'Σ' => "E",
        'ζ' | 'Ζ' => "Z",
        'η' | 'Ν' | 'π' | 'Π' => "N",
        'Η' => "H",
        'θ' | 'Θ' | 'ο' | 'Ο' | 'σ' | 'φ' | 'Φ' | 'Ω' => "O",
        'ι' | 'Ι' => "I",
        'κ' | 'Κ' => "K",
        'μ' | 'Μ' => "M",
        'ν' => "V",
        'ρ' | 'Ρ' => "P",
        'ς' => "S",
        'τ' | 'Τ' => "T",
        'υ' => "U",
        'χ' | 'Χ' => "X",
        'ω' => "W",
        'Γ' => "G",
        // Cyrillic.
        'а' | 'А' => "A",
        'б' | 'Б' | 'в' | 'В' | 'ъ' | 'Ъ' | 'ь' | 'Ь' => "B",
        'г' | 'Г' | 'я' | 'Я' => "R",
        'д' | 'Д' => "D",
        'е' | 'Е' | 'ё' | 'Ё' | 'є' | 'Є' | 'э' | 'Э' | 'з' | 'З' => "E",
        'ж' | 'Ж' | 'х' | 'Х' => "X",
        'и' | 'И' | 'й' | 'Й' | 'п' | 'П' | 'л' | 'Л' => "N",
        'і' | 'І' | 'ї' | 'Ї' | 'Ӏ' | 'ӏ' => "I",
        'ј' | 'Ј' => "J",
        'к' | 'К' => "K",
        'м' | 'М' => "M",
        'н' | 'Н' => "H",
        'о' | 'О' => "O",
        'р' | 'Р' => "P",
        'с' | 'С' => "C",
        'т' | 'Т' => "T",
        'у' | 'У' | 'ў' | 'Ў' | 'ч' | 'Ч' => "Y",
        'ф' | 'Ф' => "F",
        'ц' | 'Ц' => "U",
        'ш' | 'Ш' | 'щ' | 'Щ' => "W",
        'ѕ' | 'Ѕ' => "S",
        // Latin letters with strokes and other shapes that do not decompose.
        'ɛ' | 'Ɛ' | '€' => "E",
        'Ŀ' | 'ŀ' | 'Ł' | 'ł' | '£' | '₤' => "L",
        'Ø' | 'ø' => "O",
        'Đ' | 'đ' | 'Ð' | 'ð' => "D",
        'Ħ' | 'ħ' => "H",
        'Ŧ' | 'ŧ' => "T",
        'ƀ' | 'ß' => "B",
        'ı' | 'Ɨ' | 'ɨ' => "I",
        'ĸ' => "K",
        'Þ' | 'þ' => "P",
        'Æ' | 'æ' => "AE",
        'Œ' | 'œ' => "OE",
        '¢' | '©' => "C",
        '®' => "R",
        '¥' => "Y",
        _ => return None,
    })
}

/// The characters `rmspecials` keeps, `[\p{L}\p{N}\s]` as in AbuseFilter's pattern, as
/// sorted ranges of the Unicode tables the regex engine uses.
static KEPT: LazyLock<Vec<(char, char)>> = LazyLock::new(|| {
    use regex_syntax::hir::{Class, HirKind};
    match regex_syntax::parse(r"[\p{L}\p{N}\s]").map(|hir| hir.into_kind()) {
        Ok(HirKind::Class(Class::Unicode(class))) => class
            .ranges()
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect(),
        _ => unreachable!("a constant Unicode class"),
    }
});

fn is_kept(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c.is_ascii_whitespace() || c == '\x0B';
    }
    KEPT.binary_search_by(|&(start, end)| {
        if end < c {
            std::cmp::Ordering::Less
        } else if start > c {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    })
    .is_ok()
}

/// Removes every character that is not a letter, a number or whitespace (AbuseFilter's
/// `[^\p{L}\p{N}\s]`), in one pass over the characters.
pub fn rmspecials(s: &str) -> String {
    s.chars().filter(|c| is_kept(*c)).collect()
}

/// Removes all whitespace (the Unicode `White_Space` characters, which `\s` matches).
pub fn rmwhitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Collapses runs of the same character into one.
pub fn rmdoubles(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = None;
    for c in s.chars() {
        if prev != Some(c) {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// The named character references of HTML 4.01, plus `apos`.
static ENTITIES: LazyLock<HashMap<&'static str, char>> = LazyLock::new(|| {
    const LATIN1: [&str; 96] = [
        "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
        "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
        "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
        "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave",
        "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve",
        "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc",
        "Uuml", "Yacute", "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring",
        "aelig", "ccedil", "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc",
        "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash",
        "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
    ];
    const GREEK_UPPER: [&str; 17] = [
        "Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa",
        "Lambda", "Mu", "Nu", "Xi", "Omicron", "Pi", "Rho",
    ];
    const GREEK_UPPER2: [&str; 7] = ["Sigma", "Tau", "Upsilon", "Phi", "Chi", "Psi", "Omega"];
    const GREEK_LOWER: [&str; 25] = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigmaf", "sigma", "tau", "upsilon",
        "phi", "chi", "psi", "omega",
    ];
    const OTHERS: [(&str, u32); 98] = [
        ("quot", 34),
        ("amp", 38),
        ("apos", 39),
        ("lt", 60),
        ("gt", 62),
        ("OElig", 338),
        ("oelig", 339),
        ("Scaron", 352),
        ("scaron", 353),
        ("Yuml", 376),
        ("fnof", 402),
        ("circ", 710),
        ("tilde", 732),
        ("thetasym", 977),
        ("upsih", 978),
        ("piv", 982),
        ("ensp", 8194),
        ("emsp", 8195),
        ("thinsp", 8201),
        ("zwnj", 8204),
        ("zwj", 8205),
        ("lrm", 8206),
        ("rlm", 8207),
        ("ndash", 8211),
        ("mdash", 8212),
        ("lsquo", 8216),
        ("rsquo", 8217),
        ("sbquo", 8218),
        ("ldquo", 8220),
        ("rdquo", 8221),
        ("bdquo", 8222),
        ("dagger", 8224),
        ("Dagger", 8225),
        ("bull", 8226),
        ("hellip", 8230),
        ("permil", 8240),
        ("prime", 8242),
        ("Prime", 8243),
        ("lsaquo", 8249),
        ("rsaquo", 8250),
        ("oline", 8254),
        ("frasl", 8260),
        ("euro", 8364),
        ("image", 8465),
        ("weierp", 8472),
        ("real", 8476),
        ("trade", 8482),
        ("alefsym", 8501),
        ("larr", 8592),
        ("uarr", 8593),
        ("rarr", 8594),
        ("darr", 8595),
        ("harr", 8596),
        ("crarr", 8629),
        ("lArr", 8656),
        ("uArr", 8657),
        ("rArr", 8658),
        ("dArr", 8659),
        ("hArr", 8660),
        ("forall", 8704),
        ("part", 8706),
        ("exist", 8707),
        ("empty", 8709),
        ("nabla", 8711),
        ("isin", 8712),
        ("notin", 8713),
        ("ni", 8715),
        ("prod", 8719),
        ("sum", 8721),
        ("minus", 8722),
        ("lowast", 8727),
        ("radic", 8730),
        ("prop", 8733),
        ("infin", 8734),
        ("ang", 8736),
        ("and", 8743),
        ("or", 8744),
        ("cap", 8745),
        ("cup", 8746),
        ("int", 8747),
        ("there4", 8756),
        ("sim", 8764),
        ("cong", 8773),
        ("asymp", 8776),
        ("ne", 8800),
        ("equiv", 8801),
        ("le", 8804),
        ("ge", 8805),
        ("sub", 8834),
        ("sup", 8835),
        ("nsub", 8836),
        ("sube", 8838),
        ("supe", 8839),
        ("oplus", 8853),
        ("otimes", 8855),
        ("perp", 8869),
        ("sdot", 8901),
        ("lceil", 8968),
    ];
    const MORE: [(&str, u32); 11] = [
        ("rceil", 8969),
        ("lfloor", 8970),
        ("rfloor", 8971),
        ("lang", 9001),
        ("rang", 9002),
        ("loz", 9674),
        ("spades", 9824),
        ("clubs", 9827),
        ("hearts", 9829),
        ("diams", 9830),
        ("nbsp", 160),
    ];
    let mut map = HashMap::new();
    let mut add = |name: &'static str, code: u32| {
        if let Some(c) = char::from_u32(code) {
            map.insert(name, c);
        }
    };
    for (i, name) in LATIN1.iter().enumerate() {
        add(name, 160 + i as u32);
    }
    for (i, name) in GREEK_UPPER.iter().enumerate() {
        add(name, 913 + i as u32);
    }
    for (i, name) in GREEK_UPPER2.iter().enumerate() {
        add(name, 931 + i as u32);
    }
    for (i, name) in GREEK_LOWER.iter().enumerate() {
        add(name, 945 + i as u32);
    }
    for (name, code) in OTHERS.iter().chain(MORE.iter()) {
        add(name, *code);
    }
    map
});

/// Whether MediaWiki accepts `code` as a character reference.
fn valid_codepoint(code: u32) -> bool {
    matches!(code, 0x09 | 0x0a | 0x0d | 0x20..=0xd7ff | 0xe000..=0xfffd | 0x10000..=0x10ffff)
}

/// Decodes HTML character references (`&amp;`, `&#1740;`, `&#x6B;`), as PHP's
/// `html_entity_decode` followed by MediaWiki's `Sanitizer::decodeCharReferences`.
/// References to invalid code points become U+FFFD when `replace_invalid` is set and are
/// kept verbatim otherwise; unknown names are kept verbatim.
pub(crate) fn decode_entities(s: &str, replace_invalid: bool) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i] != b'&' {
            i += 1;
            continue;
        }
        let rest = &s[i + 1..];
        // A reference is at most 32 bytes long: look no further for its `;`, so that a
        // text of many `&` is not read to its end once per `&`.
        let Some(semi) = rest
            .bytes()
            .take(33)
            .position(|c| c == b';')
            .filter(|&n| n > 0 && n <= 32)
        else {
            i += 1;
            continue;
        };
        let body = &rest[..semi];
        let decoded = if let Some(num) = body.strip_prefix('#') {
            let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
                (!hex.is_empty() && hex.bytes().all(|c| c.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(hex, 16).unwrap_or(u32::MAX))
            } else {
                (!num.is_empty() && num.bytes().all(|c| c.is_ascii_digit()))
                    .then(|| num.parse::<u32>().unwrap_or(u32::MAX))
            };
            match code {
                Some(code) if valid_codepoint(code) => char::from_u32(code),
                Some(_) if replace_invalid => Some('\u{FFFD}'),
                _ => None,
            }
        } else if body.bytes().all(|c| c.is_ascii_alphanumeric()) {
            ENTITIES.get(body).copied()
        } else {
            None
        };
        match decoded {
            Some(c) => {
                out.push_str(&s[copied..i]);
                out.push(c);
                i += 1 + semi + 1;
                copied = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&s[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ccnorm_examples() {
        assert_eq!(ccnorm("w1k1p3d14"), "WIKIPEDIA");
        assert_eq!(ccnorm("ωɨƙɩᑭƐƉ1α"), "WIKIPEDIA");
        assert_eq!(ccnorm("ìíîïĩїį!ľ₤ĺľḷĿ"), "IIIIIII!LLLLLL");
        assert_eq!(ccnorm("aany0ne"), "AANYONE");
        assert_eq!(ccnorm("ｆｕｌｌ"), "FULL");
        assert_eq!(ccnorm("日本"), "日本");
    }

    #[test]
    fn removals() {
        assert_eq!(rmspecials("foo; bar!"), "foo bar");
        assert_eq!(rmwhitespace("a \t b\u{3000}c"), "abc");
        assert_eq!(rmdoubles("foobarééqq"), "fobaréq");
    }

    #[test]
    fn the_character_loops_match_the_regular_expressions() {
        use regex::Regex;
        let specials = Regex::new(r"[^\p{L}\p{N}\s]").unwrap();
        let whitespace = Regex::new(r"\s+").unwrap();
        // Every character class boundary near the start of each plane that matters, and
        // the usual suspects: combining marks, circled letters, Roman numerals, CJK.
        let sample: String = (0u32..0x3400)
            .chain(0x1F100..0x1F200)
            .filter_map(char::from_u32)
            .chain("Ⓐⅻ\u{345}\u{93f}日本\u{85}\u{a0}\u{2028}\u{feff}".chars())
            .collect();
        assert_eq!(rmspecials(&sample), specials.replace_all(&sample, ""));
        assert_eq!(rmwhitespace(&sample), whitespace.replace_all(&sample, ""));
    }

    #[test]
    fn entities() {
        assert_eq!(decode_entities("&#1740;&#1705;", true), "یک");
        assert_eq!(
            decode_entities("a &amp; b &lt;&eacute;&#x41;", true),
            "a & b <éA"
        );
        assert_eq!(decode_entities("&bogus; &#0; &", false), "&bogus; &#0; &");
        assert_eq!(decode_entities("&#0;", true), "\u{FFFD}");
    }
}
