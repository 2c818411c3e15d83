//! Notices and notice templates.

use crate::wire::SubjectRefView;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warden_app::notices::TemplateDraft;
use warden_store::{NoticeRecord, NoticeTemplateRecord};

/// A notice template to save or preview.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeTemplateBody {
    /// An action type or `reversal`.
    pub action_type: String,
    /// A category code, or `*` for any (the default).
    pub category: Option<String>,
    /// A language tag such as `en` or `de-AT` (default `en`).
    pub language: Option<String>,
    /// Subject line, with `{{variables}}`.
    pub subject: String,
    /// Markdown body, with `{{variables}}`.
    pub body: String,
}

impl From<NoticeTemplateBody> for TemplateDraft {
    fn from(body: NoticeTemplateBody) -> Self {
        TemplateDraft {
            action_type: body.action_type,
            category: body.category,
            language: body.language,
            subject: body.subject,
            body: body.body,
        }
    }
}

/// A notice template.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeTemplateView {
    /// Warden's id.
    pub id: i64,
    /// Action type or `reversal`.
    pub action_type: String,
    /// Category or `*`.
    pub category: String,
    /// Language.
    pub language: String,
    /// Subject template.
    pub subject: String,
    /// Body template.
    pub body: String,
    /// Who saved it.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl From<&NoticeTemplateRecord> for NoticeTemplateView {
    fn from(t: &NoticeTemplateRecord) -> Self {
        Self {
            id: t.id,
            action_type: t.action_type.clone(),
            category: t.category.clone(),
            language: t.language.clone(),
            subject: t.subject.clone(),
            body: t.body.clone(),
            updated_by: t.updated_by.clone(),
            updated_at: t.updated_at,
        }
    }
}

/// A template rendered with sample values.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticePreviewView {
    /// Whether a notice from it would be sent (no variable unfilled).
    pub sendable: bool,
    /// Variables an action of this type may leave unfilled.
    pub unfilled: Vec<String>,
    /// The rendered subject, when sendable.
    pub subject: Option<String>,
    /// The rendered body, when sendable.
    pub body: Option<String>,
}

/// A notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    /// Warden's id.
    pub id: i64,
    /// Its decision.
    pub decision_id: i64,
    /// Its action.
    pub action_id: Option<i64>,
    /// Who gets it.
    pub recipient: SubjectRefView,
    /// Language.
    pub language: String,
    /// `queued`, `refused` or `no_template`.
    pub status: String,
    /// Variables left unfilled, when refused.
    pub unfilled: Vec<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Markdown body.
    pub body: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<&NoticeRecord> for NoticeView {
    fn from(n: &NoticeRecord) -> Self {
        Self {
            id: n.id,
            decision_id: n.decision_id,
            action_id: n.action_id,
            recipient: (&n.recipient).into(),
            language: n.language.clone(),
            status: n.status.clone(),
            unfilled: n.refusal.clone(),
            subject: n.subject.clone(),
            body: n.body.clone(),
            created_at: n.created_at,
        }
    }
}
