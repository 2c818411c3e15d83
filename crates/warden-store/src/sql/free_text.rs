//! Free text as the database holds it.
//!
//! Free text keeps every character, NUL included (see
//! `warden_domain::text`), but PostgreSQL's `text` cannot hold U+0000.
//! So free-text columns (subject and report text, hold and transition
//! reasons, reversal reasons, approval notes, platform details, the notes
//! of taxonomy versions) are written through [`stored_text`] and read
//! (in `wrappers.rs`) through [`unstored_text`]: NUL is stored as U+0001
//! followed by `0`, and U+0001 itself as U+0001 U+0001. The escape is the
//! same on both backends, so both hold the same bytes and give the same
//! answers; text without either character is stored unchanged. JSON
//! columns need nothing: serialised JSON writes NUL as the six characters
//! `\u0000`. Ids and names never reach the store with NUL: the edge rule
//! refuses them.

use std::borrow::Cow;

/// The character that starts an escape in stored free text.
const TEXT_ESCAPE: char = '\u{1}';

/// Free text as it is stored: NUL as U+0001 `0`, U+0001 as U+0001 U+0001
/// (see the module documentation). Text without either is not copied.
pub(crate) fn stored_text(text: &str) -> Cow<'_, str> {
    if !text.contains(['\0', TEXT_ESCAPE]) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\0' => {
                out.push(TEXT_ESCAPE);
                out.push('0');
            }
            TEXT_ESCAPE => {
                out.push(TEXT_ESCAPE);
                out.push(TEXT_ESCAPE);
            }
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

/// Optional free text as it is stored.
pub(crate) fn stored_text_opt(text: Option<&str>) -> Option<String> {
    text.map(|t| stored_text(t).into_owned())
}

/// Free text as it was given, from its stored form. An escape character not
/// followed by `0` or another escape (text stored before the escape existed)
/// is kept as it is.
pub(crate) fn unstored_text(stored: String) -> String {
    if !stored.contains(TEXT_ESCAPE) {
        return stored;
    }
    let mut out = String::with_capacity(stored.len());
    let mut chars = stored.chars().peekable();
    while let Some(c) = chars.next() {
        if c == TEXT_ESCAPE {
            match chars.peek() {
                Some('0') => {
                    chars.next();
                    out.push('\0');
                }
                Some(&TEXT_ESCAPE) => {
                    chars.next();
                    out.push(TEXT_ESCAPE);
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_round_trips_through_its_stored_form() {
        for text in [
            "",
            "plain text",
            "a\u{0}b",
            "\u{0}",
            "\u{0}\u{0}0",
            "\u{1}",
            "\u{1}0",
            "\u{1}\u{1}",
            "\u{1}\u{0}\u{1}",
            "tab\tline\nright-to-left \u{202E} zero\u{200B}width",
        ] {
            let stored = stored_text(text);
            assert!(!stored.contains('\0'), "{text:?}");
            assert_eq!(unstored_text(stored.into_owned()), text, "{text:?}");
        }
        assert!(matches!(stored_text("plain"), Cow::Borrowed(_)));
        assert_eq!(stored_text("a\u{0}b"), "a\u{1}0b");
    }

    #[test]
    fn a_lone_escape_from_older_rows_is_kept() {
        assert_eq!(unstored_text("a\u{1}b".into()), "a\u{1}b");
        assert_eq!(unstored_text("a\u{1}".into()), "a\u{1}");
    }
}
