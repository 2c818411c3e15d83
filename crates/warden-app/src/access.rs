//! The case gate: who may see which case, and who may change a held one.
//!
//! Every command and query that reads or changes a case comes through
//! here, whatever the transport:
//!
//! - **Visibility is admission.** A case is visible to an actor when its
//!   queue admits them (`QueueDefinition::admits`: role and team); a case
//!   in a queue that is no longer configured is visible to leads and
//!   auditors only. A case the actor may not see is answered exactly as a
//!   case that does not exist ([`case_not_found`]): not found, never
//!   forbidden, which would confirm it exists.
//! - **Lists and counts** are filtered by the store with the actor's scope
//!   ([`App::scope`]), so pages and counts stay right; lists the store
//!   cannot filter yet (approvals, notices) are read in full pages and
//!   filtered here ([`App::keep_visible_actions`],
//!   [`App::keep_visible_decisions`]).
//! - **Held cases** change only by their holder or a lead
//!   ([`App::changeable_case`], `Principal::may_change_held_case`). Notes
//!   are not changes: anyone who sees a case and may work cases adds notes
//!   to it, whoever holds it.
//! - **What a viewer may do** with a case ([`App::case_rights`]) is read
//!   from the same rules, so that no page re-derives them.

use std::collections::{BTreeMap, BTreeSet};

use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::ids::{ActionId, DecisionId, Version};
use warden_domain::routing::QueueScope;
use warden_domain::CaseId;
use warden_store::{ActionDetail, CaseDetail, CaseRecord, SubjectHistory};

use crate::{Actor, App, CommandError, CommandResult};

/// The answer for a case that does not exist, or that the actor may not
/// see: the same words for both.
pub fn case_not_found(id: CaseId) -> CommandError {
    CommandError::NotFound(format!("case {id} not found"))
}

/// The answer for an action that does not exist or is on a case the actor
/// may not see.
pub fn action_not_found(id: ActionId) -> CommandError {
    CommandError::NotFound(format!("action {id} not found"))
}

/// The answer for a decision that does not exist or is on a case the
/// actor may not see.
pub fn decision_not_found(id: DecisionId) -> CommandError {
    CommandError::NotFound(format!("decision {id} not found"))
}

/// The expected version of a change: the caller's, or else the one the
/// gate just checked, so that the case cannot move between the check and
/// the change.
pub fn expected_version(given: Option<Version>, checked: &CaseRecord) -> Option<i64> {
    Some(given.map_or(checked.version, |v| v.0))
}

/// What an actor may do with one case now, by the rules the commands apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseRights {
    /// Holds a live lease on an open case: decide, renew, release, hold, escalate.
    pub work: bool,
    /// May decide again on a resolved case (a lead's correction).
    pub correct: bool,
    /// May add notes.
    pub note: bool,
    /// May reassign and release others' cases.
    pub lead: bool,
    /// May reveal personal data.
    pub reveal: bool,
    /// May work cases, and the case waits in a queue that admits them.
    pub claim: bool,
}

impl App {
    /// The queues whose cases `actor` may see.
    pub fn scope(&self, actor: &Actor) -> QueueScope {
        actor.scope(self.policy().router())
    }

    /// Whether `actor` may see cases in `queue`.
    pub fn sees_queue(&self, actor: &Actor, queue: &str) -> bool {
        actor.sees(self.policy().router(), queue)
    }

    /// The case `id`, if `actor` may see it; else not found.
    pub async fn visible_case(&self, actor: &Actor, id: CaseId) -> CommandResult<CaseRecord> {
        match self.store().case(id).await? {
            Some(case) if self.sees_queue(actor, &case.queue) => Ok(case),
            _ => Err(case_not_found(id)),
        }
    }

    /// The case `id` with everything attached, if `actor` may see it.
    pub async fn visible_case_detail(
        &self,
        actor: &Actor,
        id: CaseId,
    ) -> CommandResult<CaseDetail> {
        match self.store().case_detail(id).await? {
            Some(mut detail) if self.sees_queue(actor, &detail.case.queue) => {
                if self.qa_blinds_case(actor, id).await? {
                    crate::quality::review::blind_detail(&mut detail);
                }
                Ok(detail)
            }
            _ => Err(case_not_found(id)),
        }
    }

    /// The case `id`, if `actor` may see it and change it now: nobody else
    /// holds it, or they are a lead. A case held by someone else is a
    /// conflict naming the holder.
    pub async fn changeable_case(&self, actor: &Actor, id: CaseId) -> CommandResult<CaseRecord> {
        let case = self.visible_case(actor, id).await?;
        let holder = case.assignee_id.filter(|_| case.lease_is_live(self.now()));
        if !actor.may_change_held_case(holder) {
            return Err(CommandError::Conflict(format!(
                "case {id} is held by {}; only they or a lead can change it",
                case.assignee.as_deref().unwrap_or("someone else")
            )));
        }
        Ok(case)
    }

    /// The action `id` with its case, if `actor` may see the case.
    pub async fn visible_action(&self, actor: &Actor, id: ActionId) -> CommandResult<ActionDetail> {
        let detail = self
            .store()
            .action_detail(id.0)
            .await?
            .ok_or_else(|| action_not_found(id))?;
        match self.visible_case(actor, detail.case_id).await {
            Ok(_) if self.qa_blinds_case(actor, detail.case_id).await? => Err(action_not_found(id)),
            Ok(_) => Ok(detail),
            Err(CommandError::NotFound(_)) => Err(action_not_found(id)),
            Err(other) => Err(other),
        }
    }

    /// The case of decision `id`, if `actor` may see it.
    pub async fn visible_decision_case(
        &self,
        actor: &Actor,
        id: DecisionId,
    ) -> CommandResult<CaseId> {
        match self.store().decision_cases(&[id.0]).await?.first() {
            Some((_, case, queue))
                if self.sees_queue(actor, queue) && !self.qa_blinds_case(actor, *case).await? =>
            {
                Ok(*case)
            }
            _ => Err(decision_not_found(id)),
        }
    }

    /// What `actor` may do with `case` now.
    pub fn case_rights(&self, actor: &Actor, case: &CaseRecord) -> CaseRights {
        let now = self.now();
        let policy = self.policy();
        let may = |permission| actor.may(permission);
        let holds = actor.user_id().is_some_and(|me| case.is_held_by(me, now));
        let admitted = match (actor.principal(), policy.router().queue(&case.queue)) {
            (Some(principal), Some(queue)) => queue.admits_principal(principal),
            (None, Some(_)) => true,
            (_, None) => false,
        };
        CaseRights {
            work: may(Permission::CaseWork) && holds && case.status.is_open(),
            correct: may(Permission::CaseCorrect) && case.status == CaseStatus::Resolved,
            note: may(Permission::CaseWork),
            lead: may(Permission::CaseAssign),
            reveal: may(Permission::PiiReveal),
            claim: may(Permission::CaseWork)
                && case.status.is_claimable()
                && !case.lease_is_live(now)
                && admitted,
        }
    }

    /// The cases among `ids` that `actor` may see (ids that do not exist
    /// are left out).
    async fn visible_cases(
        &self,
        actor: &Actor,
        ids: impl IntoIterator<Item = CaseId>,
    ) -> CommandResult<BTreeSet<CaseId>> {
        let ids: Vec<CaseId> = ids
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut visible = BTreeSet::new();
        // The store looks at a page of ids at a time.
        for chunk in ids.chunks(warden_domain::limits::PAGE_SIZE_MAX as usize) {
            for (id, queue) in self.store().case_queues(chunk).await? {
                if self.sees_queue(actor, &queue) {
                    visible.insert(id);
                }
            }
        }
        Ok(visible)
    }

    /// Which of the decisions `ids` are on cases `actor` may see.
    async fn visible_decisions(
        &self,
        actor: &Actor,
        ids: impl IntoIterator<Item = i64>,
    ) -> CommandResult<BTreeMap<i64, CaseId>> {
        let ids: Vec<i64> = ids
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut visible = BTreeMap::new();
        for chunk in ids.chunks(warden_domain::limits::PAGE_SIZE_MAX as usize) {
            for (decision, case, queue) in self.store().decision_cases(chunk).await? {
                if self.sees_queue(actor, &queue) {
                    visible.insert(decision, case);
                }
            }
        }
        // A decision waiting for the actor's blind QA verdict is not shown.
        let blinded = self
            .qa_blinded_cases(actor, visible.values().copied())
            .await?;
        visible.retain(|_, case| !blinded.contains(case));
        Ok(visible)
    }

    /// The actions among `actions` whose cases `actor` may see, at most
    /// `limit` of them, in order.
    pub async fn keep_visible_actions(
        &self,
        actor: &Actor,
        actions: Vec<ActionDetail>,
        limit: usize,
    ) -> CommandResult<Vec<ActionDetail>> {
        let visible = self
            .visible_cases(actor, actions.iter().map(|a| a.case_id))
            .await?;
        Ok(actions
            .into_iter()
            .filter(|a| visible.contains(&a.case_id))
            .take(limit)
            .collect())
    }

    /// The items among `items` whose decision (`decision_of`) is on a case
    /// `actor` may see, at most `limit` of them, in order.
    pub async fn keep_visible_decisions<T>(
        &self,
        actor: &Actor,
        items: Vec<T>,
        decision_of: impl Fn(&T) -> i64,
        limit: usize,
    ) -> CommandResult<Vec<T>> {
        let visible = self
            .visible_decisions(actor, items.iter().map(&decision_of))
            .await?;
        Ok(items
            .into_iter()
            .filter(|item| visible.contains_key(&decision_of(item)))
            .take(limit)
            .collect())
    }

    /// A subject's history as `actor` may see it: reports, cases,
    /// decisions, actions and strikes of cases they may not see are left
    /// out. The subject itself, its events and the active strike weight
    /// (what the enforcement matrix counts) stay.
    pub async fn visible_history(
        &self,
        actor: &Actor,
        mut history: SubjectHistory,
    ) -> CommandResult<SubjectHistory> {
        let cases = self
            .visible_cases(
                actor,
                history
                    .cases
                    .iter()
                    .map(|c| c.id)
                    .chain(history.reports.iter().filter_map(|r| r.case_id))
                    .chain(history.decisions.iter().map(|d| d.case_id)),
            )
            .await?;
        let decisions = self
            .visible_decisions(
                actor,
                history
                    .actions
                    .iter()
                    .map(|a| a.decision_id)
                    .chain(history.strikes.iter().map(|s| s.decision_id)),
            )
            .await?;
        history.cases.retain(|c| cases.contains(&c.id));
        history
            .reports
            .retain(|r| r.case_id.is_none_or(|id| cases.contains(&id)));
        let blinded = self.qa_blinded_cases(actor, cases.iter().copied()).await?;
        history
            .decisions
            .retain(|d| cases.contains(&d.case_id) && !blinded.contains(&d.case_id));
        for case in history.cases.iter_mut().filter(|c| blinded.contains(&c.id)) {
            case.assignee = None;
            case.assignee_id = None;
        }
        history
            .actions
            .retain(|a| decisions.contains_key(&a.decision_id));
        history
            .strikes
            .retain(|s| decisions.contains_key(&s.decision_id));
        Ok(history)
    }
}
