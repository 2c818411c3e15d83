//! The reason a person gives for a change: a hold, an escalation, a
//! reopening, a ruling on an action, a reversal, a taxonomy version.

use std::fmt;

use crate::limits::REASON_CHARS_MAX;

/// Why, in a sentence: trimmed, not empty, at most [`REASON_CHARS_MAX`]
/// characters. Every character is kept (NUL included): a reason is free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// Checks `text` and wraps it, trimmed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is required: say why, in a sentence".into());
        }
        if text.chars().count() > REASON_CHARS_MAX {
            return Err(format!("must be at most {REASON_CHARS_MAX} characters"));
        }
        Ok(Self(text.to_string()))
    }

    /// The reason.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_at_their_limit() {
        let max = "é".repeat(REASON_CHARS_MAX);
        assert_eq!(Reason::parse(&max).unwrap().as_str(), max);
        assert!(Reason::parse(&format!("{max}x")).is_err());
        assert_eq!(
            Reason::parse("  spam ring \n").unwrap().as_str(),
            "spam ring"
        );
        assert!(Reason::parse(" \t").is_err());
        assert_eq!(Reason::parse("a\u{0}b").unwrap().as_str(), "a\u{0}b");
    }
}
