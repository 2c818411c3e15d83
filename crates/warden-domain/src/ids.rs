//! Identifiers: platform ids, subject kinds and references, case ids, user names.

use std::fmt;
use std::str::FromStr;

use crate::limits::{PLATFORM_ID_BYTES_MAX, USER_NAME_BYTES_MAX};
use crate::text::check_name;

/// An id chosen by the platform: 1–256 bytes of visible characters (no
/// control, format or bidirectional characters; see [`crate::text`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlatformId(String);

impl PlatformId {
    /// Checks `value` and wraps it: the edge rule for ids
    /// ([`crate::text::check_name`]) with at most 256 bytes.
    pub fn parse(value: &str) -> Result<Self, String> {
        check_name(value, PLATFORM_ID_BYTES_MAX)?;
        Ok(Self(value.to_string()))
    }

    /// Wraps an id read back from storage. It was checked when it came in,
    /// perhaps under an older, looser rule; refusing it now would make the
    /// rows that hold it unreadable, so only emptiness is checked here.
    pub fn from_stored(value: String) -> Result<Self, String> {
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Self(value))
    }

    /// The id as the platform sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlatformId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of thing a subject is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKind {
    /// A user account.
    Account,
    /// A post, comment, profile text or other published content.
    Content,
    /// A private message.
    Message,
    /// A marketplace listing.
    Listing,
    /// A payment or transfer.
    Transaction,
    /// An image, video or audio item.
    Media,
}

impl SubjectKind {
    /// Every kind, in a stable order.
    pub const ALL: [SubjectKind; 6] = [
        SubjectKind::Account,
        SubjectKind::Content,
        SubjectKind::Message,
        SubjectKind::Listing,
        SubjectKind::Transaction,
        SubjectKind::Media,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Account => "account",
            SubjectKind::Content => "content",
            SubjectKind::Message => "message",
            SubjectKind::Listing => "listing",
            SubjectKind::Transaction => "transaction",
            SubjectKind::Media => "media",
        }
    }
}

impl FromStr for SubjectKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        SubjectKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unknown kind {value:?}; expected one of account, content, message, listing, transaction, media"
                )
            })
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to a subject: its kind and the platform's id for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectRef {
    /// What kind of subject.
    pub kind: SubjectKind,
    /// The platform's id.
    pub id: PlatformId,
}

impl SubjectRef {
    /// Builds a reference from checked parts.
    pub fn new(kind: SubjectKind, id: PlatformId) -> Self {
        Self { kind, id }
    }
}

impl fmt::Display for SubjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}

/// Warden's own id for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId(pub i64);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Warden user's login name: 1–64 bytes of letters, digits, `.`, `_`, `-`, `@`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserName(String);

impl UserName {
    /// Checks `value` and wraps it.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        if value.len() > USER_NAME_BYTES_MAX {
            return Err(format!("must be at most {USER_NAME_BYTES_MAX} bytes"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err("may contain only letters, digits, '.', '_', '-' and '@'".into());
        }
        Ok(Self(value.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a short code (taxonomy code, queue name, label, feature): 1–64
/// bytes of lowercase letters, digits, `_`, `-`, `.` and `:`.
pub fn parse_code(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.len() > crate::limits::CODE_BYTES_MAX {
        return Err(format!(
            "must be at most {} bytes",
            crate::limits::CODE_BYTES_MAX
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | ':'))
    {
        return Err("may contain only lowercase letters, digits, '_', '-', '.' and ':'".into());
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_id_edges() {
        assert!(PlatformId::parse("").is_err());
        assert!(PlatformId::parse(&"a".repeat(PLATFORM_ID_BYTES_MAX)).is_ok());
        assert!(PlatformId::parse(&"a".repeat(PLATFORM_ID_BYTES_MAX + 1)).is_err());
        assert!(PlatformId::parse("post\n1").is_err());
        assert!(PlatformId::parse("пост 1").is_ok());
        for hidden in [
            "a\u{0}b",
            "a\tb",
            "acct\u{202E}1",
            "acct\u{200B}",
            "\u{FEFF}a",
        ] {
            assert!(
                PlatformId::parse(hidden)
                    .unwrap_err()
                    .contains("invisible or control"),
                "{hidden:?}"
            );
        }
    }

    #[test]
    fn subject_kind_round_trips() {
        for kind in SubjectKind::ALL {
            assert_eq!(kind.as_str().parse::<SubjectKind>(), Ok(kind));
        }
        assert!("user"
            .parse::<SubjectKind>()
            .unwrap_err()
            .contains("account"));
    }

    #[test]
    fn user_names() {
        assert!(UserName::parse("lead.anna").is_ok());
        assert!(UserName::parse("a b").is_err());
        assert!(UserName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn codes() {
        assert!(parse_code("spam").is_ok());
        assert!(parse_code("Spam").is_err());
        assert!(parse_code(&"a".repeat(65)).is_err());
    }
}
