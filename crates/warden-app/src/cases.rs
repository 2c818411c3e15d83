//! Case work: claiming, the lease and status moves, assignment, notes,
//! reading one case and listing many.
//!
//! Every command here that names a case passes the case gate
//! ([`crate::access`]) first: a case the actor may not see is not found,
//! and a case someone else holds changes only by them or a lead. Each
//! change names the version it expects — the caller's, or else the one the
//! gate checked — so the case cannot move between the check and the change.

use serde_json::json;

use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::decision::Rationale;
use warden_domain::ids::{QueueName, UserName, Version};
use warden_domain::limits::{CASE_ITEMS_SHOWN_MAX, PAGE_SIZE_MAX, RATIONALE_SECTION_CHARS_MAX};
use warden_domain::{CaseId, FieldErrors, SubjectRef};
use warden_store::{
    CaseDetail, CaseFilter, CaseRecord, NoteRecord, ReportRecord, SignalRecord, StatusChange,
};

use crate::access::expected_version;
use crate::limits::{CASE_LIST_ITEMS_PER_CASE, CASE_LIST_OFFSET_MAX};
use crate::{Actor, App, CommandError, CommandResult, Reason};

/// Claim the next case of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCommand {
    /// The queue.
    pub queue: QueueName,
}

/// A change of a case that needs nothing but the case (release, renew, resume).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseCommand {
    /// The case.
    pub case: CaseId,
    /// The version the caller saw; `None`: the one the gate checks.
    pub expected: Option<Version>,
}

/// A change of a case with a reason (hold, wait, reopen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonedCommand {
    /// The case.
    pub case: CaseId,
    /// The version the caller saw.
    pub expected: Option<Version>,
    /// Why.
    pub reason: Reason,
}

/// Escalate a case to a specialist queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalateCommand {
    /// The case.
    pub case: CaseId,
    /// The version the caller saw.
    pub expected: Option<Version>,
    /// Why.
    pub reason: Reason,
    /// Where to; the configured escalation queue when `None`.
    pub queue: Option<QueueName>,
}

/// Hand a case to another user (a lead's move).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignCommand {
    /// The case.
    pub case: CaseId,
    /// The version the caller saw.
    pub expected: Option<Version>,
    /// Who takes it.
    pub user: UserName,
}

/// A structured note: at least one section filled in, each within its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(Rationale);

impl Note {
    /// Checks the sections, reporting every one at fault.
    pub fn parse(sections: Rationale) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let named = [
            ("what_happened", &sections.what_happened),
            ("evidence", &sections.evidence),
            ("policy", &sections.policy),
            ("action", &sections.action),
            ("next_steps", &sections.next_steps),
        ];
        if named.iter().all(|(_, text)| text.trim().is_empty()) {
            errors.push(
                "what_happened",
                "a note needs at least one section filled in",
            );
        }
        for (field, text) in named {
            if text.chars().count() > RATIONALE_SECTION_CHARS_MAX {
                errors.push(
                    field,
                    format!("must be at most {RATIONALE_SECTION_CHARS_MAX} characters"),
                );
            }
        }
        errors.finish(|| Self(sections))
    }

    /// The sections.
    pub fn sections(&self) -> &Rationale {
        &self.0
    }
}

/// Add a note to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteCommand {
    /// The case.
    pub case: CaseId,
    /// The note.
    pub note: Note,
}

/// Read one case, perhaps with personal data revealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowCaseQuery {
    /// The case.
    pub case: CaseId,
    /// Why personal data must be seen unmasked, as given. Checked after the
    /// permission (`pii.reveal`), so that a caller without it learns nothing
    /// else from the answer.
    pub reveal_reason: Option<String>,
}

/// One case as read, and whether personal data may be shown unmasked.
#[derive(Debug, Clone)]
pub struct ShownCase {
    /// The case with everything attached.
    pub detail: CaseDetail,
    /// The reason personal data is revealed, when it is.
    pub revealed: Option<Reason>,
}

/// Whose cases to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// The actor's own.
    Me,
    /// A named user's.
    Named(UserName),
}

/// Which cases to list, checked at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseListQuery {
    /// Only this queue (a filter: a name no queue has matches no case).
    pub queue: Option<String>,
    /// Only these statuses; empty: every status.
    pub statuses: Vec<CaseStatus>,
    /// Only cases held by this user.
    pub assignee: Option<AssigneeFilter>,
    /// Only cases about this subject.
    pub subject: Option<SubjectRef>,
    /// Page size, 1 to `PAGE_SIZE_MAX`.
    pub limit: u32,
    /// Rows to skip, at most [`CASE_LIST_OFFSET_MAX`].
    pub offset: u32,
}

impl CaseListQuery {
    /// Checks the page size and offset; every field at fault is reported.
    pub fn page(limit: u32, offset: u32) -> Result<(u32, u32), FieldErrors> {
        let mut errors = FieldErrors::default();
        if !(1..=PAGE_SIZE_MAX).contains(&limit) {
            errors.push("limit", format!("must be from 1 to {PAGE_SIZE_MAX}"));
        }
        if offset > CASE_LIST_OFFSET_MAX {
            errors.push(
                "offset",
                format!("must be at most {CASE_LIST_OFFSET_MAX}; narrow the filter instead"),
            );
        }
        errors.finish(|| (limit, offset))
    }
}

/// A page of cases with their first reports and signals.
#[derive(Debug, Clone)]
pub struct CasePage {
    /// The cases, in queue order.
    pub cases: Vec<CaseRecord>,
    /// Their first reports (up to [`CASE_LIST_ITEMS_PER_CASE`] each).
    pub reports: Vec<ReportRecord>,
    /// Their first signals.
    pub signals: Vec<SignalRecord>,
}

impl App {
    /// Claims the next case of a queue for the actor, if the queue admits
    /// them (role and team); `None` when the queue has nothing to claim.
    pub async fn claim(
        &self,
        actor: &Actor,
        command: ClaimCommand,
    ) -> CommandResult<Option<CaseRecord>> {
        actor.require(Permission::CaseWork)?;
        let policy = self.policy();
        let queue = command.queue.as_str();
        let definition = policy
            .router()
            .queue(queue)
            .ok_or_else(|| CommandError::NotFound(format!("queue {queue:?} not found")))?;
        if let Some(principal) = actor.principal() {
            if !definition.admits_principal(principal) {
                return Err(CommandError::Forbidden(format!(
                    "queue {queue:?} is restricted to {}",
                    definition.restriction()
                )));
            }
        }
        Ok(self
            .store()
            .claim_next_within(
                &actor.audit(),
                queue,
                &self.appeal_scope(actor),
                self.settings().lease,
                self.now(),
            )
            .await?)
    }

    /// Gives back a case the actor holds.
    pub async fn release(&self, actor: &Actor, command: CaseCommand) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseWork)?;
        self.release_case(actor, command, false).await
    }

    /// Gives back a case whoever holds it (a lead's move).
    pub async fn release_as_lead(
        &self,
        actor: &Actor,
        command: CaseCommand,
    ) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseAssign)?;
        self.release_case(actor, command, true).await
    }

    async fn release_case(
        &self,
        actor: &Actor,
        command: CaseCommand,
        as_lead: bool,
    ) -> CommandResult<CaseRecord> {
        let checked = self.changeable_case(actor, command.case).await?;
        Ok(self
            .store()
            .release(
                &actor.audit(),
                command.case,
                expected_version(command.expected, &checked),
                as_lead,
                self.now(),
            )
            .await?)
    }

    /// Keeps a case the actor holds past its lease, with a reason.
    pub async fn hold(&self, actor: &Actor, command: ReasonedCommand) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseWork)?;
        let checked = self.changeable_case(actor, command.case).await?;
        Ok(self
            .store()
            .hold(
                &actor.audit(),
                command.case,
                expected_version(command.expected, &checked),
                command.reason.as_str(),
                self.now(),
            )
            .await?)
    }

    /// Renews the lease on a case the actor holds (a lease that ran out is
    /// not renewed: the store checks it in its transaction).
    pub async fn renew(&self, actor: &Actor, command: CaseCommand) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseWork)?;
        let checked = self.changeable_case(actor, command.case).await?;
        Ok(self
            .store()
            .renew_lease(
                &actor.audit(),
                command.case,
                expected_version(command.expected, &checked),
                self.settings().lease,
                self.now(),
            )
            .await?)
    }

    /// Escalates a case the actor holds to a queue (the configured
    /// escalation queue when none is named), with a reason.
    pub async fn escalate(
        &self,
        actor: &Actor,
        command: EscalateCommand,
    ) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseWork)?;
        let checked = self.changeable_case(actor, command.case).await?;
        let queue = command.queue.map_or_else(
            || self.settings().escalation_queue.clone(),
            |q| q.as_str().to_string(),
        );
        if self.policy().router().queue(&queue).is_none() {
            return Err(CommandError::invalid(
                "queue",
                format!("no queue named {queue:?}"),
            ));
        }
        let change = StatusChange {
            to: CaseStatus::Escalated,
            reason: command.reason.as_str().to_string(),
            queue: Some(queue),
            deadlines: None,
        };
        self.change_status(actor, &checked, command.expected, change)
            .await
    }

    /// Parks a case the actor holds while waiting for information.
    pub async fn wait(&self, actor: &Actor, command: ReasonedCommand) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseWork)?;
        let checked = self.changeable_case(actor, command.case).await?;
        let change = StatusChange {
            to: CaseStatus::WaitingForInformation,
            reason: command.reason.as_str().to_string(),
            queue: None,
            deadlines: None,
        };
        self.change_status(actor, &checked, command.expected, change)
            .await
    }

    /// Puts a waiting case back in review. Resuming takes the case out of
    /// its holder's hands: only they or a lead may.
    pub async fn resume(&self, actor: &Actor, command: CaseCommand) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseWork)?;
        let checked = self.changeable_case(actor, command.case).await?;
        let change = StatusChange {
            to: CaseStatus::InReview,
            reason: "information received".into(),
            queue: None,
            deadlines: None,
        };
        self.change_status(actor, &checked, command.expected, change)
            .await
    }

    /// Reopens a resolved case, with a reason. It starts a new SLA clock in
    /// its queue, computed in the reopening's transaction from the case as
    /// it is there.
    pub async fn reopen(
        &self,
        actor: &Actor,
        command: ReasonedCommand,
    ) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseCorrect)?;
        let checked = self.changeable_case(actor, command.case).await?;
        let policy = self.policy();
        Ok(self
            .store()
            .reopen(
                &actor.audit(),
                command.case,
                expected_version(command.expected, &checked),
                command.reason.as_str(),
                policy.case_policy(),
                self.now(),
            )
            .await?)
    }

    async fn change_status(
        &self,
        actor: &Actor,
        checked: &CaseRecord,
        expected: Option<Version>,
        change: StatusChange,
    ) -> CommandResult<CaseRecord> {
        Ok(self
            .store()
            .change_status(
                &actor.audit(),
                checked.id,
                expected_version(expected, checked),
                change,
                self.now(),
            )
            .await?)
    }

    /// Hands a case to another user who can work cases and whom the case's
    /// queue admits (a lead's move).
    pub async fn assign(&self, actor: &Actor, command: AssignCommand) -> CommandResult<CaseRecord> {
        actor.require(Permission::CaseAssign)?;
        let checked = self.visible_case(actor, command.case).await?;
        let user = command.user.as_str();
        let assignee = self
            .store()
            .user_by_name(user)
            .await?
            .ok_or_else(|| CommandError::invalid("user", format!("no user named {user:?}")))?;
        if assignee.disabled || !assignee.role.grants(Permission::CaseWork) {
            return Err(CommandError::invalid(
                "user",
                format!("{} cannot work cases", assignee.name),
            ));
        }
        self.check_appeal_reviewer(
            &checked,
            warden_domain::appeal::AppealParty {
                user: warden_domain::ids::UserId(assignee.id),
                role: assignee.role,
            },
        )
        .await?;
        let policy = self.policy();
        let router = policy.router();
        if !router.sees(assignee.role, &assignee.teams, &checked.queue) {
            let restriction = router
                .queue(&checked.queue)
                .map(|q| q.restriction())
                .unwrap_or_else(|| "leads (the queue is no longer configured)".into());
            return Err(CommandError::invalid(
                "user",
                format!(
                    "queue {} does not admit {}: it is restricted to {restriction}",
                    checked.queue, assignee.name
                ),
            ));
        }
        Ok(self
            .store()
            .assign(
                &actor.audit(),
                command.case,
                expected_version(command.expected, &checked),
                &assignee,
                self.settings().lease,
                self.now(),
            )
            .await?)
    }

    /// Adds a note to a case the actor may see. Notes are allowed on a case
    /// someone else holds: they change nothing about the case, name their
    /// author, and second opinions are part of the work.
    pub async fn add_note(&self, actor: &Actor, command: NoteCommand) -> CommandResult<NoteRecord> {
        actor.require(Permission::CaseWork)?;
        self.visible_case(actor, command.case).await?;
        Ok(self
            .store()
            .add_note(&actor.audit(), command.case, command.note.0, self.now())
            .await?)
    }

    /// Checks a request to reveal personal data: the permission first, then
    /// the reason (`reveal_reason`).
    pub fn check_reveal(
        &self,
        actor: &Actor,
        reason: Option<&str>,
    ) -> CommandResult<Option<Reason>> {
        let Some(reason) = reason else {
            return Ok(None);
        };
        if let Some(principal) = actor.principal() {
            if !principal.may(Permission::PiiReveal) {
                return Err(CommandError::Forbidden(format!(
                    "revealing personal data needs {}; the {} role does not have it",
                    Permission::PiiReveal,
                    principal.role
                )));
            }
        }
        Reason::parse(reason).map(Some).map_err(|_| {
            CommandError::invalid("reveal_reason", "say why you need to see personal data")
        })
    }

    /// One case with everything attached, if the actor may see it. The read
    /// is audited (`case.read`, or `pii.reveal` with the reason).
    pub async fn show_case(&self, actor: &Actor, query: ShowCaseQuery) -> CommandResult<ShownCase> {
        let detail = self.visible_case_detail(actor, query.case).await?;
        let revealed = self.check_reveal(actor, query.reveal_reason.as_deref())?;
        let action = if revealed.is_some() {
            "pii.reveal"
        } else {
            "case.read"
        };
        self.store()
            .record_read(
                &actor.audit(),
                action,
                "case",
                &query.case.to_string(),
                json!({"reason": revealed.as_ref().map(Reason::as_str)}),
                self.now(),
            )
            .await?;
        Ok(ShownCase { detail, revealed })
    }

    /// The first reports and signals of a case, as answers to changes show it.
    pub async fn case_items(
        &self,
        case: &CaseRecord,
    ) -> CommandResult<(Vec<ReportRecord>, Vec<SignalRecord>)> {
        Ok(self
            .store()
            .case_items(&[case.id], CASE_ITEMS_SHOWN_MAX)
            .await?)
    }

    /// Cases in the queues the actor may see, by filter. A list shows cases'
    /// reports, so it is audited as a read of each case listed.
    pub async fn list_cases(&self, actor: &Actor, query: CaseListQuery) -> CommandResult<CasePage> {
        let assignee_id = match &query.assignee {
            None => None,
            // Warden itself and the operator hold no cases: an id no user
            // has (ids start at 1) lists none.
            Some(AssigneeFilter::Me) => Some(actor.user_id().unwrap_or(0)),
            Some(AssigneeFilter::Named(name)) => Some(
                self.store()
                    .user_by_name(name.as_str())
                    .await?
                    .ok_or_else(|| {
                        CommandError::invalid(
                            "assignee",
                            format!("no user named {:?}", name.as_str()),
                        )
                    })?
                    .id,
            ),
        };
        let filter = CaseFilter {
            queue: query.queue,
            statuses: query.statuses,
            assignee_id,
            subject: query.subject,
            scope: self.scope(actor),
            appeals: self.appeal_scope(actor),
            limit: query.limit,
            offset: query.offset,
            ..CaseFilter::default()
        };
        let mut cases = self.store().list_cases(&filter).await?;
        let ids: Vec<CaseId> = cases.iter().map(|c| c.id).collect();
        // Who decided a case waiting for the actor's blind QA verdict is
        // not shown.
        let blinded = self.qa_blinded_cases(actor, ids.iter().copied()).await?;
        for case in cases.iter_mut().filter(|c| blinded.contains(&c.id)) {
            case.assignee = None;
            case.assignee_id = None;
        }
        let (reports, signals) = self
            .store()
            .case_items(&ids, CASE_LIST_ITEMS_PER_CASE)
            .await?;
        if !ids.is_empty() {
            self.store()
                .record_read(
                    &actor.audit(),
                    "case.list",
                    "cases",
                    &format!("{} cases", ids.len()),
                    json!({"ids": ids.iter().map(|id| id.0).collect::<Vec<_>>()}),
                    self.now(),
                )
                .await?;
        }
        Ok(CasePage {
            cases,
            reports,
            signals,
        })
    }

    /// Cases matching `filter` within the actor's scope (the filter's own
    /// scope is replaced), without an audit record: for pages that show
    /// cases' metadata only (the console's queue, lead and home pages).
    pub async fn case_metadata(
        &self,
        actor: &Actor,
        mut filter: CaseFilter,
    ) -> CommandResult<Vec<CaseRecord>> {
        filter.scope = self.scope(actor);
        filter.appeals = self.appeal_scope(actor);
        filter.limit = filter.limit.clamp(1, PAGE_SIZE_MAX);
        Ok(self.store().list_cases(&filter).await?)
    }

    /// The first `per_case` reports and signals of each case in `ids`, for
    /// pages that show cases the actor may see (`ids` from [`Self::case_metadata`]).
    pub async fn items_of_cases(
        &self,
        ids: &[CaseId],
        per_case: u32,
    ) -> CommandResult<(Vec<ReportRecord>, Vec<SignalRecord>)> {
        Ok(self.store().case_items(ids, per_case).await?)
    }

    /// Records that the actor read a case (`case.read`, or `pii.reveal`
    /// with `details` saying why), for a transport that shows a case it
    /// assembled itself (the console's review page).
    pub async fn record_case_read(
        &self,
        actor: &Actor,
        case: CaseId,
        revealed: bool,
        details: serde_json::Value,
    ) -> CommandResult<()> {
        let action = if revealed { "pii.reveal" } else { "case.read" };
        Ok(self
            .store()
            .record_read(
                &actor.audit(),
                action,
                "case",
                &case.to_string(),
                details,
                self.now(),
            )
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(what: &str, evidence: &str) -> Rationale {
        Rationale {
            what_happened: what.into(),
            evidence: evidence.into(),
            policy: String::new(),
            action: String::new(),
            next_steps: String::new(),
        }
    }

    #[test]
    fn notes_need_a_section_within_its_limit() {
        let empty = Note::parse(sections(" ", "")).unwrap_err();
        assert_eq!(empty.0[0].field, "what_happened");
        let max = "a".repeat(RATIONALE_SECTION_CHARS_MAX);
        assert!(Note::parse(sections(&max, "")).is_ok());
        let over = format!("{max}a");
        let refused = Note::parse(sections(&over, &over)).unwrap_err();
        let fields: Vec<_> = refused.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["what_happened", "evidence"],
            "every section at fault"
        );
    }

    #[test]
    fn pages_are_bounded() {
        assert!(CaseListQuery::page(PAGE_SIZE_MAX, CASE_LIST_OFFSET_MAX).is_ok());
        let refused = CaseListQuery::page(PAGE_SIZE_MAX + 1, CASE_LIST_OFFSET_MAX + 1).unwrap_err();
        let fields: Vec<_> = refused.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "offset"]);
        assert!(CaseListQuery::page(0, 0).is_err());
    }
}
