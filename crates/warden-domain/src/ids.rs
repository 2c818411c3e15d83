//! Identifiers: platform ids, subject kinds and references, case ids, user
//! names, and the parsed newtypes the enforcement planners take: taxonomy
//! codes, queue names, language tags, Warden's user, decision and action ids, and record
//! versions.

use std::fmt;
use std::str::FromStr;

use crate::limits::{LANGUAGE_TAG_BYTES_MAX, PLATFORM_ID_BYTES_MAX, USER_NAME_BYTES_MAX};
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

/// A taxonomy code — a category such as `spam` or a reason code such as
/// `spam.links` — checked once by [`parse_code`]'s rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaxonomyCode(String);

impl TaxonomyCode {
    /// Checks `value` and wraps it.
    pub fn parse(value: &str) -> Result<Self, String> {
        parse_code(value).map(Self)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaxonomyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of a queue, such as `general` or `child-safety`: checked once
/// by [`parse_code`]'s rules, the rules the router checks configured queue
/// names with, so a name that does not parse names no queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueName(String);

impl QueueName {
    /// Checks `value` and wraps it.
    pub fn parse(value: &str) -> Result<Self, String> {
        parse_code(value).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A BCP 47 language tag such as `en`, `de-AT` or `pt-BR`: a primary
/// language subtag of 2 to 8 ASCII letters, then subtags of 1 to 8 ASCII
/// letters or digits, joined by `-`, at most 35 bytes. Kept as written;
/// compared without regard to case, as BCP 47 says.
#[derive(Debug, Clone, Eq)]
pub struct LanguageTag(String);

impl LanguageTag {
    /// Checks `value` and wraps it.
    pub fn parse(value: &str) -> Result<Self, String> {
        let refuse = || format!("{value:?} is not a BCP 47 language tag such as en, de or pt-BR");
        if value.is_empty() || value.len() > LANGUAGE_TAG_BYTES_MAX {
            return Err(refuse());
        }
        let well_formed = value.split('-').enumerate().all(|(index, part)| {
            if index == 0 {
                (2..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphabetic())
            } else {
                (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
            }
        });
        if well_formed {
            Ok(Self(value.to_string()))
        } else {
            Err(refuse())
        }
    }

    /// The tag as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag in lower case: `pt` for `pt-BR`.
    pub fn primary(&self) -> String {
        self.0
            .split('-')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// English, the language of the built-in notice templates.
    pub fn english() -> Self {
        Self("en".into())
    }
}

impl PartialEq for LanguageTag {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a Warden-assigned numeric id: a row id the store hands out.
macro_rules! warden_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

warden_id!(
    /// Warden's id for a user (analyst, lead, ...).
    UserId
);
warden_id!(
    /// Warden's id for a decision.
    DecisionId
);
warden_id!(
    /// Warden's id for an action a decision ordered.
    ActionId
);

/// The version of a record that changes under optimistic concurrency (a
/// case): a change names the version it expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub i64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
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

    #[test]
    fn taxonomy_codes_at_their_limit() {
        let max = "a".repeat(crate::limits::CODE_BYTES_MAX);
        assert_eq!(TaxonomyCode::parse(&max).unwrap().as_str(), max);
        assert!(TaxonomyCode::parse(&format!("{max}a")).is_err());
        assert!(TaxonomyCode::parse("Spam").is_err());
        assert!(TaxonomyCode::parse("spam.links").is_ok());
    }

    #[test]
    fn queue_names_at_their_limit() {
        let max = "q".repeat(crate::limits::CODE_BYTES_MAX);
        assert_eq!(QueueName::parse(&max).unwrap().as_str(), max);
        assert!(QueueName::parse(&format!("{max}q")).is_err());
        assert!(QueueName::parse("child-safety").is_ok());
        assert!(QueueName::parse("gen\u{0}eral").is_err());
        assert!(QueueName::parse("").is_err());
    }

    #[test]
    fn language_tags() {
        for good in ["en", "de-AT", "pt-BR", "EN", "zh-Hant-TW", "sr-Latn-RS"] {
            assert!(LanguageTag::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "e",
            "en_GB",
            "en-",
            "-en",
            "12",
            "en--GB",
            "en-abcdefghi",
        ] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
        // 35 bytes is the most; 36 is refused.
        let max = format!("en{}-abcde", "-abcdefgh".repeat(3));
        assert_eq!(max.len(), LANGUAGE_TAG_BYTES_MAX);
        assert!(LanguageTag::parse(&max).is_ok());
        assert!(LanguageTag::parse(&format!("{max}x")).is_err());
        assert_eq!(LanguageTag::parse("PT-br").unwrap().primary(), "pt");
        assert_eq!(
            LanguageTag::parse("pt-BR").unwrap(),
            LanguageTag::parse("PT-br").unwrap()
        );
    }
}
