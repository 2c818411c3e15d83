//! A subject's history, as far as the actor may see it.

use serde_json::json;

use warden_domain::limits::HISTORY_ITEMS_MAX;
use warden_domain::SubjectRef;
use warden_store::SubjectHistory;

use crate::{Actor, App, CommandResult, Reason};

/// Read a subject's history, perhaps with personal data revealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectHistoryQuery {
    /// The subject.
    pub subject: SubjectRef,
    /// Why personal data must be seen unmasked, as given (checked after the
    /// permission, as for a case).
    pub reveal_reason: Option<String>,
}

impl App {
    /// A subject's reports, cases, decisions, actions, strikes and events,
    /// leaving out what concerns cases the actor may not see. The read is
    /// audited (`subject.read`, or `pii.reveal` with the reason).
    pub async fn subject_history(
        &self,
        actor: &Actor,
        query: SubjectHistoryQuery,
    ) -> CommandResult<(SubjectHistory, Option<Reason>)> {
        let revealed = self.check_reveal(actor, query.reveal_reason.as_deref())?;
        let history = self
            .visible_subject_history(actor, &query.subject, HISTORY_ITEMS_MAX)
            .await?;
        let action = if revealed.is_some() {
            "pii.reveal"
        } else {
            "subject.read"
        };
        self.store()
            .record_read(
                &actor.audit(),
                action,
                "subject",
                &query.subject.to_string(),
                json!({"reason": revealed.as_ref().map(Reason::as_str)}),
                self.now(),
            )
            .await?;
        Ok((history, revealed))
    }

    /// The history of `subject` (at most `limit` items of each kind) as the
    /// actor may see it, without an audit record: for a page that shows it
    /// within a read it audits itself (the console's case page).
    pub async fn visible_subject_history(
        &self,
        actor: &Actor,
        subject: &SubjectRef,
        limit: u32,
    ) -> CommandResult<SubjectHistory> {
        let history = self
            .store()
            .subject_history(subject, limit.min(HISTORY_ITEMS_MAX), self.now())
            .await?;
        self.visible_history(actor, history).await
    }
}
