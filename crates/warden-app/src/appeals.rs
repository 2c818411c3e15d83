//! Appeals (DSA Art. 20): intake, the appeal of a case, the independence
//! rule on claim, assignment and decision, the decision through the
//! enforcement path, and the list.
//!
//! The independence rule is the domain's (`may_review_appeal` and its
//! listing form `AppealListingFilter`); this module applies it to the
//! person acting: case lists and claims leave out appeals they may not
//! review, and claiming, being assigned or deciding one is refused (`403`
//! naming the reason).

use warden_domain::access::{Permission, Principal};
use warden_domain::appeal::{
    may_review_appeal, AppealDecideCommand, AppealDecideInput, AppealListingFilter, AppealParty,
    CaseKind, NewAppeal,
};
use warden_domain::decision::Rationale;
use warden_domain::enforcement::DecisionExtras;
use warden_domain::ids::UserId;
use warden_domain::intake::IntakeOutcome;
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_domain::{CaseId, Timestamp};
use warden_domain::{FieldError, FieldErrors};
use warden_store::{
    AppealFilter, AppealIntakeOutcome, AppealScope, AppealStatus, AppealView, CaseRecord,
    DecisionRecord,
};

use crate::access::case_not_found;
use crate::decisions::{parse_actions, ActionDraft};
use crate::{Actor, App, CommandError, CommandResult};

/// `GET /api/v1/appeals?status=&since=`, checked.
#[derive(Debug, Clone, Default)]
pub struct AppealListQuery {
    /// Only open or only decided appeals.
    pub status: Option<AppealStatus>,
    /// Only appeals opened at or after this time.
    pub since: Option<Timestamp>,
    /// Page size.
    pub limit: u32,
}

/// An appeal's decision as a transport received it, before it is
/// checked: the one conversion of the API's body and the console's form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppealDecisionDraft {
    /// The appeal case's version the reviewer saw.
    pub version: Option<i64>,
    /// `upheld`, `overturned` or `modified`.
    pub outcome: Option<String>,
    /// The replacement's actions (modified only).
    pub actions: Vec<ActionDraft>,
    /// Why.
    pub rationale: Rationale,
    /// The replacement's category (modified only).
    pub category: Option<String>,
    /// The replacement's policy id or section (modified only).
    pub policy: Option<String>,
    /// The replacement's reason code (modified only).
    pub reason_code: Option<String>,
    /// Why the replacement departs from the matrix (modified only).
    pub override_reason: Option<String>,
}

impl AppealDecisionDraft {
    /// The command deciding the appeal of `case`; every field at fault.
    pub fn into_command(self, case: CaseId) -> Result<AppealDecideCommand, FieldErrors> {
        let mut errors = FieldErrors::default();
        let actions = parse_actions(&mut errors, &self.actions);
        let input = AppealDecideInput {
            version: self.version,
            outcome: self.outcome,
            actions,
            rationale: self.rationale,
            category: self.category,
            policy: self.policy,
            extras: DecisionExtras {
                reason_code: self.reason_code,
                override_reason: self.override_reason,
            },
        };
        match AppealDecideCommand::parse(case, &input) {
            Ok(command) if errors.is_empty() => Ok(command),
            Ok(_) => Err(errors),
            Err(found) => {
                errors.0.extend(found.0);
                Err(errors)
            }
        }
    }
}

/// An appeal with the decision it contests, as a case view shows it.
#[derive(Debug, Clone)]
pub struct AppealDetail {
    /// The appeal.
    pub appeal: AppealView,
    /// The decision appealed, as stored now.
    pub original: Option<DecisionRecord>,
}

/// The person acting, as the independence rule sees them.
fn party(principal: &Principal) -> AppealParty {
    AppealParty {
        user: UserId(principal.user_id),
        role: principal.role,
    }
}

/// The original decider of an appeal, as recorded with it.
fn decider(appeal: &AppealView) -> Option<AppealParty> {
    appeal.decider_id.map(|id| AppealParty {
        user: UserId(id),
        // Recorded with every appeal that has a decider; a lead otherwise
        // (the strictest reading).
        role: appeal
            .decider_role
            .unwrap_or(warden_domain::access::Role::Lead),
    })
}

impl App {
    /// Takes in an appeal (`ingest`): idempotent by the platform's id;
    /// opens an appeal case or joins the open appeal of the decision.
    pub async fn submit_appeal(
        &self,
        actor: &Actor,
        appeal: &NewAppeal,
    ) -> CommandResult<AppealIntakeOutcome> {
        actor.require(Permission::IntakeWrite)?;
        let policy = self.policy();
        Ok(self
            .store()
            .submit_appeal(
                &actor.audit(),
                appeal,
                &self.settings().appeals,
                policy.case_policy(),
                self.now(),
            )
            .await?)
    }

    /// Takes in a batch of appeals (NDJSON), each in its own transaction:
    /// an outcome per item, as intake answers them (`created` for a new
    /// appeal or one that joined, `duplicate`, a conflict, or refused
    /// naming the field). A failure of Warden's fails that item alone.
    pub async fn submit_appeals(
        &self,
        actor: &Actor,
        appeals: &[NewAppeal],
    ) -> CommandResult<Vec<IntakeOutcome>> {
        actor.require(Permission::IntakeWrite)?;
        let mut outcomes = Vec::with_capacity(appeals.len());
        for appeal in appeals {
            outcomes.push(match self.submit_appeal(actor, appeal).await {
                Ok(AppealIntakeOutcome::Opened(_) | AppealIntakeOutcome::Joined(_)) => {
                    IntakeOutcome::Created
                }
                Ok(AppealIntakeOutcome::Duplicate) => IntakeOutcome::Duplicate,
                Ok(AppealIntakeOutcome::Conflict) => IntakeOutcome::Conflict,
                Err(CommandError::Invalid(errors)) => IntakeOutcome::Refused(
                    errors
                        .0
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| FieldError::new("", "refused")),
                ),
                Err(CommandError::Internal(cause)) => {
                    tracing::error!(%cause, appeal = appeal.id.as_str(), "an appeal could not be stored");
                    IntakeOutcome::Failed
                }
                Err(other) => return Err(other),
            });
        }
        Ok(outcomes)
    }

    /// Which appeal cases lists and claims show `actor`: people see the
    /// appeals they may review; Warden and the operator see every case.
    pub fn appeal_scope(&self, actor: &Actor) -> AppealScope {
        match actor.principal() {
            None => AppealScope::Every,
            Some(principal) => match AppealListingFilter::for_reviewer(&party(principal)) {
                Some(filter) => AppealScope::Reviewer(filter),
                // Roles that decide no case review no appeal; they still
                // read appeal cases their queues admit (auditors, admins).
                None => AppealScope::Every,
            },
        }
    }

    /// `Ok` when `reviewer` may review the appeal of `case` (any case that
    /// is no appeal passes); else `403` naming the reason.
    pub async fn check_appeal_reviewer(
        &self,
        case: &CaseRecord,
        reviewer: AppealParty,
    ) -> CommandResult<()> {
        if case.kind != CaseKind::Appeal {
            return Ok(());
        }
        let appeal = self
            .store()
            .appeal_of_case(case.id)
            .await?
            .ok_or_else(|| case_not_found(case.id))?;
        may_review_appeal(&reviewer, decider(&appeal).as_ref())
            .map_err(|refusal| CommandError::Forbidden(format!("{refusal} ({})", refusal.code())))
    }

    /// The appeal of a case the actor may see, with the decision it
    /// contests; `None` for a report case.
    pub async fn appeal_of_case(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> CommandResult<Option<AppealDetail>> {
        actor.require(Permission::CaseRead)?;
        self.visible_case(actor, case).await?;
        let Some(appeal) = self.store().appeal_of_case(case).await? else {
            return Ok(None);
        };
        let original = self
            .store()
            .case_detail(appeal.original_case_id)
            .await?
            .and_then(|detail| {
                detail
                    .decisions
                    .into_iter()
                    .find(|d| d.id == appeal.decision_id)
            });
        Ok(Some(AppealDetail { appeal, original }))
    }

    /// Decides an appeal case the actor holds: upheld, overturned or
    /// modified, through the enforcement path. The original decider, and
    /// anyone whose role is below theirs, is refused (`403`).
    pub async fn decide_appeal(
        &self,
        actor: &Actor,
        command: &AppealDecideCommand,
    ) -> CommandResult<AppealView> {
        actor.require(Permission::CaseWork)?;
        let principal = actor.principal().ok_or_else(|| {
            CommandError::Forbidden("an appeal is reviewed by a person, not by Warden".into())
        })?;
        let case = self.changeable_case(actor, command.case).await?;
        if case.kind != CaseKind::Appeal {
            return Err(CommandError::invalid(
                "outcome",
                format!("case {} is not an appeal case", case.id),
            ));
        }
        let reviewer = party(principal);
        self.check_appeal_reviewer(&case, reviewer).await?;
        let policy = self.policy();
        Ok(self
            .store()
            .decide_appeal(
                &actor.audit(),
                reviewer,
                command,
                policy.case_policy(),
                self.now(),
            )
            .await?)
    }

    /// Appeals whose cases the actor may see, newest first.
    pub async fn list_appeals(
        &self,
        actor: &Actor,
        query: &AppealListQuery,
    ) -> CommandResult<Vec<AppealView>> {
        actor.require(Permission::CaseRead)?;
        let appeals = self
            .store()
            .list_appeals(&AppealFilter {
                status: query.status,
                since: query.since,
                limit: query.limit.clamp(1, PAGE_SIZE_MAX),
            })
            .await?;
        let ids: Vec<CaseId> = appeals.iter().map(|a| a.case_id).collect();
        let queues = self.store().case_queues(&ids).await?;
        Ok(appeals
            .into_iter()
            .filter(|appeal| {
                queues
                    .iter()
                    .any(|(id, queue)| *id == appeal.case_id && self.sees_queue(actor, queue))
            })
            .collect())
    }
}
