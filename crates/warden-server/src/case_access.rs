//! The case gate: who may see which case, and who may change a held one.
//!
//! Every route that reads or changes a case, and every page that shows
//! one, comes through here, API and console alike:
//!
//! - **Visibility is admission.** A case is visible to a principal when its
//!   queue admits them (`QueueDefinition::admits`: role and team); a case
//!   in a queue that is no longer configured is visible to leads and
//!   auditors only. A case the caller may not see is answered exactly as a
//!   case that does not exist ([`case_not_found`]): `404`, never `403`,
//!   which would confirm it exists.
//! - **Lists and counts** are filtered by the store with the caller's
//!   [`scope`], so pages and counts stay right; lists the store cannot
//!   filter yet (approvals, notices) are read in full pages and filtered
//!   here ([`keep_visible_actions`], [`keep_visible_decisions`]).
//! - **Held cases** change only by their holder or a lead
//!   ([`changeable_case`], `Principal::may_change_held_case`). Notes are
//!   not changes: anyone who sees a case and may work cases adds notes to
//!   it, whoever holds it.
//!
//! These functions take the application state and a principal and answer
//! with records or errors; none of them knows HTTP. They move as a whole
//! into the application crate (`warden-app`, `/work/shared/design/app-core.md`)
//! with the commands that call them.

use std::collections::{BTreeMap, BTreeSet};

use warden_domain::access::Principal;
use warden_domain::routing::QueueScope;
use warden_domain::CaseId;
use warden_store::{ActionDetail, CaseDetail, CaseRecord, SubjectHistory};

use crate::error::{AppError, AppResult};
use crate::AppState;

/// The queues whose cases `principal` may see.
pub fn scope(state: &AppState, principal: &Principal) -> QueueScope {
    state.policy.router.scope_for(principal)
}

/// Whether `principal` may see cases in `queue`.
pub fn sees_queue(state: &AppState, principal: &Principal, queue: &str) -> bool {
    state
        .policy
        .router
        .sees(principal.role, &principal.teams, queue)
}

/// The answer for a case that does not exist, or that the caller may not
/// see: the same words for both.
pub fn case_not_found(id: CaseId) -> AppError {
    AppError::NotFound(format!("case {id} not found"))
}

/// The answer for an action that does not exist or is on a case the caller
/// may not see.
pub fn action_not_found(id: i64) -> AppError {
    AppError::NotFound(format!("action {id} not found"))
}

/// The answer for a decision that does not exist or is on a case the
/// caller may not see.
pub fn decision_not_found(id: i64) -> AppError {
    AppError::NotFound(format!("decision {id} not found"))
}

/// The case `id`, if `principal` may see it; else not found.
pub async fn visible_case(
    state: &AppState,
    principal: &Principal,
    id: CaseId,
) -> AppResult<CaseRecord> {
    match state.store.case(id).await? {
        Some(case) if sees_queue(state, principal, &case.queue) => Ok(case),
        _ => Err(case_not_found(id)),
    }
}

/// The case `id` with everything attached, if `principal` may see it.
pub async fn visible_case_detail(
    state: &AppState,
    principal: &Principal,
    id: CaseId,
) -> AppResult<CaseDetail> {
    match state.store.case_detail(id).await? {
        Some(detail) if sees_queue(state, principal, &detail.case.queue) => Ok(detail),
        _ => Err(case_not_found(id)),
    }
}

/// The case `id`, if `principal` may see it and change it now: nobody else
/// holds it, or they are a lead. A case held by someone else is a `409`
/// naming the holder.
pub async fn changeable_case(
    state: &AppState,
    principal: &Principal,
    id: CaseId,
) -> AppResult<CaseRecord> {
    let case = visible_case(state, principal, id).await?;
    let now = state.clock.now();
    let holder = case.assignee_id.filter(|_| case.lease_is_live(now));
    if !principal.may_change_held_case(holder) {
        return Err(AppError::Conflict(format!(
            "case {id} is held by {}; only they or a lead can change it",
            case.assignee.as_deref().unwrap_or("someone else")
        )));
    }
    Ok(case)
}

/// The expected version of a change: the caller's, or else the one the
/// gate just checked, so that the case cannot move between the check and
/// the change.
pub fn expected_version(given: Option<i64>, checked: &CaseRecord) -> Option<i64> {
    Some(given.unwrap_or(checked.version))
}

/// The action `id` with its case, if `principal` may see the case.
pub async fn visible_action(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> AppResult<ActionDetail> {
    let detail = state
        .store
        .action_detail(id)
        .await?
        .ok_or_else(|| action_not_found(id))?;
    match visible_case(state, principal, detail.case_id).await {
        Ok(_) => Ok(detail),
        Err(AppError::NotFound(_)) => Err(action_not_found(id)),
        Err(other) => Err(other),
    }
}

/// The case of decision `id`, if `principal` may see it.
pub async fn visible_decision_case(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> AppResult<CaseId> {
    match state.store.decision_cases(&[id]).await?.first() {
        Some((_, case, queue)) if sees_queue(state, principal, queue) => Ok(*case),
        _ => Err(decision_not_found(id)),
    }
}

/// The cases among `ids` that `principal` may see (ids that do not exist
/// are left out).
async fn visible_cases(
    state: &AppState,
    principal: &Principal,
    ids: impl IntoIterator<Item = CaseId>,
) -> AppResult<BTreeSet<CaseId>> {
    let ids: Vec<CaseId> = ids
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut visible = BTreeSet::new();
    // The store looks at a page of ids at a time.
    for chunk in ids.chunks(warden_domain::limits::PAGE_SIZE_MAX as usize) {
        for (id, queue) in state.store.case_queues(chunk).await? {
            if sees_queue(state, principal, &queue) {
                visible.insert(id);
            }
        }
    }
    Ok(visible)
}

/// Which of the decisions `ids` are on cases `principal` may see.
async fn visible_decisions(
    state: &AppState,
    principal: &Principal,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<BTreeMap<i64, CaseId>> {
    let ids: Vec<i64> = ids
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut visible = BTreeMap::new();
    for chunk in ids.chunks(warden_domain::limits::PAGE_SIZE_MAX as usize) {
        for (decision, case, queue) in state.store.decision_cases(chunk).await? {
            if sees_queue(state, principal, &queue) {
                visible.insert(decision, case);
            }
        }
    }
    Ok(visible)
}

/// The actions among `actions` whose cases `principal` may see, at most
/// `limit` of them, in order.
pub async fn keep_visible_actions(
    state: &AppState,
    principal: &Principal,
    actions: Vec<ActionDetail>,
    limit: usize,
) -> AppResult<Vec<ActionDetail>> {
    let visible = visible_cases(state, principal, actions.iter().map(|a| a.case_id)).await?;
    Ok(actions
        .into_iter()
        .filter(|a| visible.contains(&a.case_id))
        .take(limit)
        .collect())
}

/// The items among `items` whose decision (`decision_of`) is on a case
/// `principal` may see, at most `limit` of them, in order.
pub async fn keep_visible_decisions<T>(
    state: &AppState,
    principal: &Principal,
    items: Vec<T>,
    decision_of: impl Fn(&T) -> i64,
    limit: usize,
) -> AppResult<Vec<T>> {
    let visible = visible_decisions(state, principal, items.iter().map(&decision_of)).await?;
    Ok(items
        .into_iter()
        .filter(|item| visible.contains_key(&decision_of(item)))
        .take(limit)
        .collect())
}

/// A subject's history as `principal` may see it: reports, cases,
/// decisions, actions and strikes of cases they may not see are left out.
/// The subject itself, its events and the active strike weight (what the
/// enforcement matrix counts) stay.
pub async fn visible_history(
    state: &AppState,
    principal: &Principal,
    mut history: SubjectHistory,
) -> AppResult<SubjectHistory> {
    let cases = visible_cases(
        state,
        principal,
        history
            .cases
            .iter()
            .map(|c| c.id)
            .chain(history.reports.iter().filter_map(|r| r.case_id))
            .chain(history.decisions.iter().map(|d| d.case_id)),
    )
    .await?;
    let decisions = visible_decisions(
        state,
        principal,
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
    history.decisions.retain(|d| cases.contains(&d.case_id));
    history
        .actions
        .retain(|a| decisions.contains_key(&a.decision_id));
    history
        .strikes
        .retain(|s| decisions.contains_key(&s.decision_id));
    Ok(history)
}
