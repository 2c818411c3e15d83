//! The edge rule for text, decided once: what ids and names may hold, and
//! what free text keeps.
//!
//! **Ids and names** — platform ids, subject ids, user and token names, queue
//! names, event types, media types, device ids, policy ids, query parameters
//! and path segments that name something — are compared, indexed, listed and
//! logged. Two ids that look the same must be the same, so they refuse every
//! character a person cannot see:
//!
//! - control characters (Unicode general category `Cc`), tab and newline
//!   included: no id needs them, and NUL cannot be stored by PostgreSQL;
//! - format characters (`Cf`): zero-width spaces and joiners (U+200B–U+200D),
//!   directional marks, embeddings, overrides and isolates (U+200E, U+200F,
//!   U+202A–U+202E, U+2066–U+2069), the byte-order mark (U+FEFF), the soft
//!   hyphen, invisible operators, tags;
//! - the line and paragraph separators (`Zl`, `Zp`);
//! - characters that render as nothing although Unicode calls them letters or
//!   marks (the Hangul fillers, the combining grapheme joiner) and the
//!   noncharacters (U+FFFE, U+FFFF and their kin).
//!
//! A refusal names the character and where it is, so that the platform can
//! find it: `must not contain invisible or control characters; found U+202E
//! (right-to-left override) at character 4`.
//!
//! **Free text** — report and subject text, notes, rationale sections, hold
//! and other reasons — is evidence and is kept exactly as sent: tab, newline,
//! other control characters, bidirectional controls and NUL included. Only
//! its length is limited.
//!
//! **Warden's own documents** — notice templates, which Warden sends to the
//! platform's users — are written by staff, not quoted: they refuse control
//! characters other than tab, line feed and carriage return
//! ([`check_document`]), and keep every other character. The store keeps NUL through a reversible escape (see
//! `warden-store`'s `sql/rows.rs`), so free text round-trips byte for byte on
//! both backends.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Whether `c` is a character an id or a name must not hold (see the module
/// documentation for the classes).
pub fn is_hidden(c: char) -> bool {
    match c.general_category() {
        GeneralCategory::Control
        | GeneralCategory::Format
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator
        | GeneralCategory::Surrogate => true,
        _ => is_blank_lookalike(c) || is_noncharacter(c),
    }
}

/// Letters and marks that render as nothing: the Hangul fillers and the
/// combining grapheme joiner, favourites for invisible look-alike names.
fn is_blank_lookalike(c: char) -> bool {
    matches!(
        c,
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{034F}'
    )
}

/// The 66 noncharacters: U+FDD0–U+FDEF and the last two code points of every plane.
fn is_noncharacter(c: char) -> bool {
    let code = c as u32;
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// A character as an error message names it: `U+202E (right-to-left override)`.
pub fn describe(c: char) -> String {
    let name = match c {
        '\0' => Some("NUL"),
        '\t' => Some("tab"),
        '\n' => Some("line feed"),
        '\r' => Some("carriage return"),
        '\u{1B}' => Some("escape"),
        '\u{7F}' => Some("delete"),
        '\u{AD}' => Some("soft hyphen"),
        '\u{200B}' => Some("zero-width space"),
        '\u{200C}' => Some("zero-width non-joiner"),
        '\u{200D}' => Some("zero-width joiner"),
        '\u{200E}' => Some("left-to-right mark"),
        '\u{200F}' => Some("right-to-left mark"),
        '\u{202A}' => Some("left-to-right embedding"),
        '\u{202B}' => Some("right-to-left embedding"),
        '\u{202C}' => Some("pop directional formatting"),
        '\u{202D}' => Some("left-to-right override"),
        '\u{202E}' => Some("right-to-left override"),
        '\u{2028}' => Some("line separator"),
        '\u{2029}' => Some("paragraph separator"),
        '\u{2060}' => Some("word joiner"),
        '\u{2066}' => Some("left-to-right isolate"),
        '\u{2067}' => Some("right-to-left isolate"),
        '\u{2068}' => Some("first strong isolate"),
        '\u{2069}' => Some("pop directional isolate"),
        '\u{FEFF}' => Some("byte-order mark"),
        '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}' => Some("Hangul filler"),
        '\u{034F}' => Some("combining grapheme joiner"),
        _ => None,
    };
    match name {
        Some(name) => format!("U+{:04X} ({name})", c as u32),
        None => match c.general_category() {
            GeneralCategory::Control => format!("U+{:04X} (a control character)", c as u32),
            GeneralCategory::Format => {
                format!("U+{:04X} (an invisible format character)", c as u32)
            }
            _ => format!("U+{:04X}", c as u32),
        },
    }
}

/// Checks the characters of an id or a name: none of them may be hidden.
/// Says which character is refused and where (counting characters from 1).
pub fn check_visible(value: &str) -> Result<(), String> {
    match value.chars().enumerate().find(|(_, c)| is_hidden(*c)) {
        None => Ok(()),
        Some((index, c)) => Err(format!(
            "must not contain invisible or control characters; found {} at character {}",
            describe(c),
            index + 1
        )),
    }
}

/// Checks a name or short id: 1 to `bytes_max` bytes of visible characters.
pub fn check_name(value: &str, bytes_max: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.len() > bytes_max {
        return Err(format!(
            "must be at most {bytes_max} bytes, got {}",
            value.len()
        ));
    }
    check_visible(value)
}

/// Checks a document Warden sends out (a notice template): no control
/// characters but tab, line feed and carriage return.
pub fn check_document(value: &str) -> Result<(), String> {
    match value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        None => Ok(()),
        Some((index, c)) => Err(format!(
            "must not contain control characters other than tab and line breaks; found {} at character {}",
            describe(c),
            index + 1
        )),
    }
}

/// Checks free text: any characters (NUL, tab, newline and bidirectional
/// controls included), at most `chars_max` of them.
pub fn check_free_text(value: &str, chars_max: usize) -> Result<(), String> {
    let count = value.chars().count();
    if count > chars_max {
        return Err(format!(
            "must be at most {chars_max} characters, got {count}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_every_hidden_class() {
        for (text, code) in [
            ("a\u{0}b", "U+0000 (NUL)"),
            ("a\tb", "U+0009 (tab)"),
            ("a\nb", "U+000A (line feed)"),
            ("a\u{7F}", "U+007F"),
            ("a\u{85}", "U+0085"),
            ("a\u{9F}", "U+009F"),
            ("a\u{AD}b", "soft hyphen"),
            ("a\u{200B}b", "zero-width space"),
            ("a\u{200D}b", "zero-width joiner"),
            ("a\u{200F}b", "right-to-left mark"),
            ("acct\u{202E}1", "U+202E (right-to-left override)"),
            ("a\u{2066}b", "left-to-right isolate"),
            ("a\u{2069}b", "pop directional isolate"),
            ("\u{FEFF}a", "byte-order mark"),
            ("a\u{2028}b", "line separator"),
            ("a\u{2029}b", "paragraph separator"),
            ("a\u{E0041}b", "U+E0041"),
            ("\u{3164}", "Hangul filler"),
            ("a\u{34F}b", "combining grapheme joiner"),
            ("a\u{FFFF}", "U+FFFF"),
            ("a\u{FDD0}", "U+FDD0"),
            ("a\u{1FFFE}", "U+1FFFE"),
        ] {
            let error = check_visible(text).unwrap_err();
            assert!(error.contains(code), "{text:?}: {error}");
        }
        assert_eq!(
            check_visible("acct\u{202E}1").unwrap_err(),
            "must not contain invisible or control characters; found U+202E (right-to-left override) at character 5"
        );
    }

    #[test]
    fn ids_keep_every_visible_script() {
        for text in [
            "post_981",
            "пост 1",
            "مستخدم_٧",
            "ユーザー",
            "a b",
            "emoji 🙂",
            "flag 🇩🇪",
            "x\u{FE0F}",
            "https://example.test/a?b=c#d",
        ] {
            assert_eq!(check_visible(text), Ok(()), "{text}");
        }
        // Zero-width joiners build emoji sequences, but no id needs one.
        assert!(check_visible("family 👨\u{200D}👩").is_err());
    }

    #[test]
    fn names_are_bounded() {
        assert!(check_name("", 10).is_err());
        assert!(check_name(&"a".repeat(10), 10).is_ok());
        assert!(check_name(&"a".repeat(11), 10)
            .unwrap_err()
            .contains("at most 10 bytes"));
        assert!(check_name("sp\u{0}am", 10).unwrap_err().contains("NUL"));
    }

    #[test]
    fn documents_keep_line_breaks_and_refuse_other_controls() {
        assert_eq!(
            check_document("Hello {{name}},\r\n\tline\n\u{202E}"),
            Ok(())
        );
        assert!(check_document("a\u{0}")
            .unwrap_err()
            .contains("U+0000 (NUL) at character 2"));
        assert!(check_document("\u{1B}[31m").unwrap_err().contains("escape"));
    }

    #[test]
    fn free_text_keeps_everything_but_is_bounded() {
        for text in [
            "a\u{0}b",
            "line\nline\ttab",
            "\u{202E}reversed",
            "zero\u{200B}width",
            "\u{7}\u{1B}[31m",
        ] {
            assert_eq!(check_free_text(text, 100), Ok(()), "{text:?}");
        }
        assert!(check_free_text("ééé", 3).is_ok());
        assert!(check_free_text("éééé", 3)
            .unwrap_err()
            .contains("at most 3"));
    }
}
