//! Notice templates (per action type, category and language) and the
//! notices decisions wrote.

use std::collections::BTreeMap;

use warden_domain::access::Permission;
use warden_domain::ids::{DecisionId, LanguageTag};
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_domain::notice;
use warden_domain::taxonomy::Taxonomy;
use warden_domain::FieldErrors;
use warden_store::{NoticeRecord, NoticeTemplateInput, NoticeTemplateRecord};

use crate::{Actor, App, CommandResult};

/// A template as typed, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDraft {
    /// An action type, or `reversal`.
    pub action_type: String,
    /// A category of the taxonomy in force, or `*` (the default) for any.
    pub category: Option<String>,
    /// A language tag; `en` by default.
    pub language: Option<String>,
    /// The subject line template.
    pub subject: String,
    /// The Markdown body template.
    pub body: String,
}

/// A template checked against the variables, the taxonomy and the rules
/// of language tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTemplate(NoticeTemplateInput);

impl NoticeTemplate {
    /// Checks a draft, naming every field at fault.
    pub fn parse(draft: TemplateDraft, taxonomy: &Taxonomy) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        if !notice::is_template_action(&draft.action_type) {
            errors.push(
                "action_type",
                "must be an action type (remove_content, warn, restrict, suspend, ban, hold_transaction, label) or reversal",
            );
        }
        let category = draft.category.unwrap_or_else(|| "*".into());
        if category != "*" {
            errors.take("category", taxonomy.parse_code(&category));
        }
        let language = errors.take(
            "language",
            LanguageTag::parse(draft.language.as_deref().unwrap_or("en")),
        );
        if let Err(found) = notice::check_template(&draft.subject, &draft.body) {
            errors.0.extend(found.0);
        }
        match language {
            Some(language) if errors.is_empty() => Ok(Self(NoticeTemplateInput {
                action_type: draft.action_type,
                category,
                language: language.as_str().to_string(),
                subject: draft.subject,
                body: draft.body,
            })),
            _ => Err(errors),
        }
    }

    /// The template as the store saves it.
    pub fn input(&self) -> &NoticeTemplateInput {
        &self.0
    }
}

/// A template rendered with sample values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePreview {
    /// Whether a notice of this type would always be sent.
    pub sendable: bool,
    /// The variables some decisions leave unfilled (the notice would be refused).
    pub unfilled: Vec<String>,
    /// The rendered subject line, when sendable.
    pub subject: Option<String>,
    /// The rendered body, when sendable.
    pub body: Option<String>,
}

impl App {
    /// Checks a template draft against the taxonomy in force.
    pub fn check_template(&self, draft: TemplateDraft) -> Result<NoticeTemplate, FieldErrors> {
        NoticeTemplate::parse(draft, self.policy().taxonomy())
    }

    /// Every template.
    pub async fn notice_templates(&self) -> CommandResult<Vec<NoticeTemplateRecord>> {
        Ok(self.store().notice_templates().await?)
    }

    /// Saves a template, replacing the one with the same action type,
    /// category and language.
    pub async fn save_notice_template(
        &self,
        actor: &Actor,
        template: NoticeTemplate,
    ) -> CommandResult<NoticeTemplateRecord> {
        actor.require(Permission::PolicyWrite)?;
        Ok(self
            .store()
            .save_notice_template(&actor.audit(), template.0, self.now())
            .await?)
    }

    /// Deletes a template.
    pub async fn delete_notice_template(&self, actor: &Actor, id: i64) -> CommandResult<()> {
        actor.require(Permission::PolicyWrite)?;
        Ok(self
            .store()
            .delete_notice_template(&actor.audit(), id, self.now())
            .await?)
    }

    /// Renders a template as an action of its type would, with sample
    /// values; variables only some decisions fill are left out, so a
    /// template using them shows as possibly refused.
    pub fn preview_notice_template(&self, template: &NoticeTemplate) -> NoticePreview {
        let template = &template.0;
        let values = sample_values(&template.action_type, &template.category);
        match notice::render(&template.subject, &template.body, &values) {
            Ok(rendered) => NoticePreview {
                sendable: true,
                unfilled: Vec::new(),
                subject: Some(rendered.subject),
                body: Some(rendered.body),
            },
            Err(unfilled) => NoticePreview {
                sendable: false,
                unfilled,
                subject: None,
                body: None,
            },
        }
    }

    /// Notices of decisions on cases the actor may see, newest first, at
    /// most `limit` (a decision on a case they may not see is not found).
    pub async fn notices(
        &self,
        actor: &Actor,
        decision: Option<DecisionId>,
        limit: u32,
    ) -> CommandResult<Vec<NoticeRecord>> {
        if let Some(decision) = decision {
            self.visible_decision_case(actor, decision).await?;
        }
        // The store does not filter notices by queue: read a full page and
        // leave out those of decisions the actor may not see.
        let rows = self
            .store()
            .notices(decision.map(|d| d.0), PAGE_SIZE_MAX)
            .await?;
        self.keep_visible_decisions(actor, rows, |n| n.decision_id, limit as usize)
            .await
    }
}

/// The values a decision of `kind` about `category` would fill.
fn sample_values(kind: &str, category: &str) -> BTreeMap<String, String> {
    let temporary = matches!(kind, "restrict" | "suspend");
    let mut values = BTreeMap::new();
    for (name, _) in notice::VARIABLES {
        let value = match *name {
            "action" => Some(kind.to_string()),
            "action_name" => Some(notice::action_name(kind).to_string()),
            "category" => Some(if category == "*" {
                "spam".into()
            } else {
                category.to_string()
            }),
            "category_name" => Some("Spam".into()),
            "duration" => temporary.then(|| "P7D".into()),
            "end_date" => temporary.then(|| "2030-01-08".into()),
            "feature" => (kind == "restrict").then(|| "posting".into()),
            "label" => (kind == "label").then(|| "misleading".into()),
            "subject_kind" => Some("content".into()),
            "subject_id" => Some("post_123".into()),
            "account_id" => Some("account_9".into()),
            "decision_id" => Some("42".into()),
            "date" => Some("2030-01-01".into()),
            // Only some decisions name these: a template using them may be refused.
            _ => None,
        };
        if let Some(value) = value {
            values.insert(name.to_string(), value);
        }
    }
    values
}
