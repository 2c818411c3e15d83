//! Records of notices and their templates ([`crate::TaxonomyStore`],
//! [`crate::ReportStore`]).

use std::str::FromStr;

use warden_domain::{SubjectRef, Timestamp};

/// A notice template as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTemplateRecord {
    /// Warden's id.
    pub id: i64,
    /// Action type, or `reversal`.
    pub action_type: String,
    /// Category code, or `*` for any.
    pub category: String,
    /// Language tag.
    pub language: String,
    /// Subject line template.
    pub subject: String,
    /// Markdown body template.
    pub body: String,
    /// Who saved it.
    pub updated_by: String,
    /// When.
    pub updated_at: Timestamp,
}

/// A template to save (replacing the one with the same type, category and language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTemplateInput {
    /// Action type, or `reversal`.
    pub action_type: String,
    /// Category code, or `*`.
    pub category: String,
    /// Language tag.
    pub language: String,
    /// Subject line template.
    pub subject: String,
    /// Markdown body template.
    pub body: String,
}

/// Where a stored notice stands (the `status` of [`NoticeRecord`], as
/// `warden_domain::notice::NoticeOutcome` names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeStatus {
    /// Rendered and queued in the outbox.
    Queued,
    /// Not sent: a variable had no value.
    Refused,
    /// Not sent: no template fits.
    NoTemplate,
}

impl NoticeStatus {
    /// Every status.
    pub const ALL: [NoticeStatus; 3] = [
        NoticeStatus::Queued,
        NoticeStatus::Refused,
        NoticeStatus::NoTemplate,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Queued => "queued",
            NoticeStatus::Refused => "refused",
            NoticeStatus::NoTemplate => "no_template",
        }
    }
}

impl FromStr for NoticeStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        NoticeStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown notice status {text:?}"))
    }
}

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Warden's id.
    pub id: i64,
    /// The decision it tells of.
    pub decision_id: i64,
    /// The action it tells of.
    pub action_id: Option<i64>,
    /// The template used.
    pub template_id: Option<i64>,
    /// Who gets it.
    pub recipient: SubjectRef,
    /// Its language.
    pub language: String,
    /// Rendered subject (none when refused).
    pub subject: Option<String>,
    /// Rendered body (none when refused).
    pub body: Option<String>,
    /// `queued` (in the outbox), `refused` (a variable was unfilled) or `no_template`.
    pub status: String,
    /// The variables left unfilled, when refused.
    pub refusal: Vec<String>,
    /// When.
    pub created_at: Timestamp,
}
