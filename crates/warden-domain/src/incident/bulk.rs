//! Bulk containment: one decision per open case of an incident, with one
//! lead approval for the whole set, planned dry first, applied through
//! the enforcement path case by case, idempotent and resumable.
//!
//! **Each case is decided as an analyst would decide it.**
//! [`plan_bulk_step`] builds the decision the bulk's actions and rationale
//! make on that case and runs [`plan_decision`] on it: the matrix and its
//! departures, targets, notices, the statement of reasons and the strike
//! are the decision rules', not the bulk's. The step claims the case for
//! the bulk's author in the same transaction (so the holder rule holds);
//! a case someone else holds is skipped, never taken from them.
//!
//! **What is skipped, and why** ([`SkipReason`]): resolved cases, cases
//! held by someone else, cases in a queue the author is not admitted to
//! (restricted), appeal cases (decided under the independence rule, one
//! by one), accounts with a protected tag (their actions need their own
//! approval, never a blanket one), and cases the decision rules refuse or
//! that conflict (named with the rule's words).
//!
//! **One approval.** A bulk's non-standard actions (beyond the matrix, a
//! ban on a first offence) would each wait for a lead; the bulk asks one
//! lead, other than its author, once for the whole set
//! ([`plan_bulk_approval`]). Each step lists the actions that approval
//! covers ([`BulkStepPlan::approved_actions`]); the writer applies them
//! as approved by that lead ([`crate::enforcement::plan_approval`] with
//! the bulk's approver), in the step's transaction.
//!
//! **Exactly once.** Every step has an idempotency key, (bulk, case)
//! ([`BulkStepKey`]), written with its decision in one transaction. A run
//! that crashes resumes by planning again: cases whose key is written are
//! counted as applied, never decided twice; the others are planned again
//! from their facts as they are now.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::access::{Permission, Principal};
use crate::action::ActionStatus;
use crate::appeal::CaseKind;
use crate::case::CaseStatus;
use crate::decision::OverrideReason;
use crate::decision::{check_decision, ActionSpec, DecisionInput, Rationale};
use crate::dsa::StatementFacts;
use crate::enforcement::{
    plan_decision, AccountFacts, ApprovalReason, CaseFacts, DecideCommand, DecisionExtras,
    DecisionFacts, DecisionMode, DecisionPlan, PlanError, TaxonomyVersion,
};
use crate::ids::{CaseId, DecisionId, SubjectRef, TaxonomyCode, UserId};
use crate::intake::Fingerprint;
use crate::limits::{BULK_CASES_MAX, BULK_STEPS_PER_BATCH, LEASE_SECONDS_DEFAULT};
use crate::notice::NoticeTemplate;
use crate::{FieldErrors, Timestamp};

use super::IncidentId;

/// Warden's id for a bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BulkId(pub i64);

impl fmt::Display for BulkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The idempotency key of one step: (bulk, case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BulkStepKey {
    /// The bulk action.
    pub bulk: BulkId,
    /// The case.
    pub case: CaseId,
}

impl fmt::Display for BulkStepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warden-bulk-{}-case-{}", self.bulk, self.case)
    }
}

// ---------------------------------------------------------------- the command

/// `POST /api/v1/incidents/{id}/bulk-actions` as sent, before checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkInput {
    /// The actions, each already checked ([`crate::decision::check_action`]).
    pub actions: Vec<ActionSpec>,
    /// The rationale every decision carries.
    pub rationale: Rationale,
    /// Plan only.
    pub dry_run: Option<bool>,
    /// The category every decision is made in; each case's own when absent.
    pub category: Option<String>,
    /// The policy id or section.
    pub policy: Option<String>,
    /// A reason code and why the actions depart from the matrix.
    pub extras: DecisionExtras,
}

/// A bulk action, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkCommand {
    /// The bulk action.
    pub bulk: BulkId,
    /// Its incident.
    pub incident: IncidentId,
    /// Who asked for it.
    pub author: UserId,
    /// The category of every decision; each case's own when `None`.
    pub category: Option<TaxonomyCode>,
    /// The policy id or section.
    pub policy: Option<String>,
    /// The actions of every decision (at least one).
    pub actions: Vec<ActionSpec>,
    /// The rationale of every decision.
    pub rationale: Rationale,
    /// A reason code of the category.
    pub reason_code: Option<TaxonomyCode>,
    /// Why the actions depart from the matrix.
    pub override_reason: Option<OverrideReason>,
    /// Plan only.
    pub dry_run: bool,
}

impl BulkCommand {
    /// Checks the body: at least one action (a bulk action contains; it
    /// does not dismiss), the rationale a violation needs, the extras.
    /// Every field at fault is reported.
    pub fn parse(
        bulk: BulkId,
        incident: IncidentId,
        author: UserId,
        input: &BulkInput,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        if input.actions.is_empty() {
            errors.push(
                "actions",
                "at least one action: a bulk action contains a surge; cases without a violation are decided one by one",
            );
        }
        let category = input
            .category
            .as_deref()
            .and_then(|c| errors.take("category", TaxonomyCode::parse(c)));
        // The decision's own checks, with a stand-in category (each case's
        // is checked against the taxonomy when its step is planned).
        if let Err(found) = check_decision(DecisionInput {
            violation: true,
            category: category.as_ref().map_or("bulk", |c| c.as_str()).into(),
            policy: input.policy.clone(),
            actions: input.actions.clone(),
            rationale: input.rationale.clone(),
        }) {
            for error in found.0 {
                if !(error.field == "actions" && input.actions.is_empty()) {
                    errors.0.push(error);
                }
            }
        }
        let reason_code = input
            .extras
            .reason_code
            .as_deref()
            .and_then(|c| errors.take("reason_code", TaxonomyCode::parse(c)));
        let override_reason = errors
            .take(
                "override_reason",
                OverrideReason::given(input.extras.override_reason.as_deref()),
            )
            .flatten();
        errors.finish(|| Self {
            bulk,
            incident,
            author,
            category,
            policy: input.policy.clone(),
            actions: input.actions.clone(),
            rationale: input.rationale.clone(),
            reason_code,
            override_reason,
            dry_run: input.dry_run.unwrap_or(false),
        })
    }

    /// The fingerprint of what the bulk does (not of its dry-run flag): a
    /// submission must match the dry run a lead will approve.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut hasher = Sha256::new();
        let mut field = |text: &str| {
            hasher.update((text.len() as u64).to_be_bytes());
            hasher.update(text.as_bytes());
        };
        field(&self.incident.to_string());
        field(self.category.as_ref().map_or("", |c| c.as_str()));
        field(self.policy.as_deref().unwrap_or(""));
        for action in &self.actions {
            field(&action.kind.to_string());
            field(&format!("{:?}", action.kind));
            field(&action.duration.map_or(-1, |d| d.num_seconds()).to_string());
        }
        let r = &self.rationale;
        for section in [
            &r.what_happened,
            &r.evidence,
            &r.policy,
            &r.action,
            &r.next_steps,
        ] {
            field(section);
        }
        field(self.reason_code.as_ref().map_or("", |c| c.as_str()));
        field(self.override_reason.as_ref().map_or("", |o| o.as_str()));
        Fingerprint(hex::encode(hasher.finalize()))
    }
}

// ---------------------------------------------------------------- facts

/// What the store loads for each case of a bulk action.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkCaseFacts {
    /// The case (locked, when a step is applied).
    pub case: CaseFacts,
    /// Report or appeal.
    pub kind: CaseKind,
    /// Whether the case's queue admits the bulk's author.
    pub admitted: bool,
    /// The owner of the case's subject.
    pub subject_owner: Option<SubjectRef>,
    /// The account acted on, if known.
    pub account: Option<AccountFacts>,
    /// What a statement of reasons tells of the case.
    pub statement: StatementFacts,
    /// The decision this bulk's step made on the case, when its key is
    /// written already.
    pub applied: Option<DecisionId>,
}

/// What every case of a bulk action shares, loaded once.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkContext {
    /// The taxonomy version in force.
    pub taxonomy: TaxonomyVersion,
    /// The notice templates of the actions (and of reversals).
    pub templates: Vec<NoticeTemplate>,
}

// ---------------------------------------------------------------- the plan

/// Why a case is left out of a bulk action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// It is decided already.
    Resolved,
    /// Someone else holds it.
    HeldBy(String),
    /// Its queue does not admit the bulk's author.
    Restricted,
    /// An appeal case: decided one by one under the independence rule.
    AppealCase,
    /// The account carries a protected tag: its actions need their own
    /// decision and approval.
    ProtectedAccount(String),
    /// The decision rules refuse the bulk's decision on this case.
    Refused(String),
    /// The case does not fit the decision now (a version moved on).
    Conflict(String),
}

impl SkipReason {
    /// A stable code for answers and counts.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::Resolved => "resolved",
            SkipReason::HeldBy(_) => "held",
            SkipReason::Restricted => "restricted",
            SkipReason::AppealCase => "appeal",
            SkipReason::ProtectedAccount(_) => "protected_account",
            SkipReason::Refused(_) => "refused",
            SkipReason::Conflict(_) => "conflict",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Resolved => f.write_str("already decided"),
            SkipReason::HeldBy(holder) => write!(f, "held by {holder}"),
            SkipReason::Restricted => {
                f.write_str("in a restricted queue that does not admit the bulk's author")
            }
            SkipReason::AppealCase => {
                f.write_str("an appeal case: decided on its own, under the independence rule")
            }
            SkipReason::ProtectedAccount(tag) => write!(
                f,
                "the account is tagged {tag}: it needs its own decision and approval"
            ),
            SkipReason::Refused(why) => write!(f, "the decision rules refuse it: {why}"),
            SkipReason::Conflict(why) => f.write_str(why),
        }
    }
}

/// A case left out, with why (`{"case_id", "reason"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The case.
    pub case: CaseId,
    /// Why.
    pub reason: SkipReason,
}

/// One case to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkStep {
    /// Its idempotency key.
    pub key: BulkStepKey,
}

/// What a bulk action does: planned (dry run) or the steps still to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPlan {
    /// The bulk action.
    pub bulk: BulkId,
    /// Whether this is a dry run.
    pub dry_run: bool,
    /// Cases to decide, one step each, in case order.
    pub steps: Vec<BulkStep>,
    /// Cases this bulk decided already, with their decisions.
    pub applied: Vec<(CaseId, DecisionId)>,
    /// Cases left out, with why.
    pub skipped: Vec<Skipped>,
}

impl BulkPlan {
    /// Cases planned (still to decide).
    pub fn planned(&self) -> usize {
        self.steps.len()
    }

    /// The steps in batches of [`BULK_STEPS_PER_BATCH`], for progress.
    pub fn batches(&self) -> impl Iterator<Item = &[BulkStep]> {
        self.steps.chunks(BULK_STEPS_PER_BATCH)
    }

    /// Progress in per cent: applied out of applied and planned.
    pub fn percent_done(&self) -> u8 {
        let total = self.applied.len() + self.steps.len();
        if total == 0 {
            return 100;
        }
        u8::try_from(self.applied.len() * 100 / total).unwrap_or(100)
    }
}

/// Plans a bulk action over an incident's cases: one step per case that
/// can be decided, the cases this bulk decided already, and the cases
/// left out with why. A dry run and a resumed run are the same planning.
/// Refuses (invalid, naming `cases`) more than [`BULK_CASES_MAX`] cases.
pub fn plan_bulk_action(
    cases: &[BulkCaseFacts],
    context: &BulkContext,
    command: &BulkCommand,
    now: Timestamp,
) -> Result<BulkPlan, PlanError> {
    if cases.len() > BULK_CASES_MAX {
        return Err(PlanError::invalid(
            "cases",
            format!(
                "the incident has {} cases to act on; a bulk action takes at most {BULK_CASES_MAX}: split the incident",
                cases.len()
            ),
        ));
    }
    let mut scratch: Option<DecisionFacts> = None;
    let mut plan = BulkPlan {
        bulk: command.bulk,
        dry_run: command.dry_run,
        steps: Vec::new(),
        applied: Vec::new(),
        skipped: Vec::new(),
    };
    for facts in cases {
        let key = BulkStepKey {
            bulk: command.bulk,
            case: facts.case.id,
        };
        let scratch = scratch.get_or_insert_with(|| scratch_facts(context, command.author, facts));
        match plan_case(scratch, facts, command, now) {
            Ok(Outcome::Applied(decision)) => plan.applied.push((facts.case.id, decision)),
            Ok(Outcome::Decide(_)) => plan.steps.push(BulkStep { key }),
            Err(reason) => plan.skipped.push(Skipped {
                case: facts.case.id,
                reason,
            }),
        }
    }
    Ok(plan)
}

/// One step, planned on the case's facts as they are when it is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkStepPlan {
    /// This bulk decided the case already: nothing to write.
    Applied(DecisionId),
    /// The decision to write, with the step's key.
    Decide {
        /// The key, written with the decision.
        key: BulkStepKey,
        /// The decision, through the decision rules.
        decision: Box<DecisionPlan>,
        /// Actions (by index) that wait only for what the bulk's approval
        /// covers: the writer approves them as the bulk's approver.
        approved_actions: Vec<usize>,
    },
    /// The case is left out now (it changed since the dry run).
    Skip(SkipReason),
}

/// Plans one step in its own transaction, from the case's facts now.
pub fn plan_bulk_step(
    facts: &BulkCaseFacts,
    context: &BulkContext,
    command: &BulkCommand,
    now: Timestamp,
) -> BulkStepPlan {
    let mut scratch = scratch_facts(context, command.author, facts);
    match plan_case(&mut scratch, facts, command, now) {
        Ok(Outcome::Applied(decision)) => BulkStepPlan::Applied(decision),
        Ok(Outcome::Decide(decided)) => BulkStepPlan::Decide {
            key: BulkStepKey {
                bulk: command.bulk,
                case: facts.case.id,
            },
            approved_actions: decided.approved_actions,
            decision: decided.plan,
        },
        Err(reason) => BulkStepPlan::Skip(reason),
    }
}

struct Decided {
    plan: Box<DecisionPlan>,
    approved_actions: Vec<usize>,
}

enum Outcome {
    Applied(DecisionId),
    Decide(Decided),
}

/// Decision facts whose shared parts are set once, from the first case;
/// each case then fills in its own (so the taxonomy and templates are not
/// copied a hundred thousand times).
fn scratch_facts(context: &BulkContext, author: UserId, first: &BulkCaseFacts) -> DecisionFacts {
    DecisionFacts {
        case: first.case.clone(),
        subject_owner: None,
        account: None,
        author: Some(author),
        taxonomy: context.taxonomy.clone(),
        templates: context.templates.clone(),
        statement: first.statement.clone(),
        superseded: None,
    }
}

/// The skip checks, then the decision rules on this case.
fn plan_case(
    scratch: &mut DecisionFacts,
    facts: &BulkCaseFacts,
    command: &BulkCommand,
    now: Timestamp,
) -> Result<Outcome, SkipReason> {
    if let Some(decision) = facts.applied {
        return Ok(Outcome::Applied(decision));
    }
    let case = &facts.case;
    if facts.kind == CaseKind::Appeal {
        return Err(SkipReason::AppealCase);
    }
    if case.status == CaseStatus::Resolved {
        return Err(SkipReason::Resolved);
    }
    if !facts.admitted {
        return Err(SkipReason::Restricted);
    }
    if case.lease_is_live(now) && case.assignee_id != Some(command.author) {
        return Err(SkipReason::HeldBy(
            case.assignee
                .clone()
                .unwrap_or_else(|| "someone else".into()),
        ));
    }
    // The step claims the case for the bulk's author in its transaction.
    let mut claimed = case.clone();
    claimed.assignee_id = Some(command.author);
    claimed.lease_expires_at = Some(now + chrono::Duration::seconds(LEASE_SECONDS_DEFAULT));
    scratch.case = claimed;
    scratch.subject_owner = facts.subject_owner.clone();
    scratch.account = facts.account.clone();
    scratch.statement = facts.statement.clone();
    let decide = DecideCommand {
        case: case.id,
        expected: case.version,
        decision: DecisionInput {
            violation: true,
            category: command
                .category
                .as_ref()
                .map_or_else(|| case.category.clone(), |c| c.as_str().to_string()),
            policy: command.policy.clone(),
            actions: command.actions.clone(),
            rationale: command.rationale.clone(),
        },
        reason_code: command.reason_code.clone(),
        override_reason: command.override_reason.clone(),
        mode: DecisionMode::First,
    };
    let plan = match plan_decision(scratch, &decide, now) {
        Ok(plan) => plan,
        Err(PlanError::Conflict(why)) => return Err(SkipReason::Conflict(why)),
        Err(PlanError::Invalid(errors)) => return Err(SkipReason::Refused(errors.to_string())),
    };
    let mut approved_actions = Vec::new();
    for (index, action) in plan.actions.iter().enumerate() {
        if action.status != ActionStatus::PendingApproval {
            continue;
        }
        if let Some(tag) = action.approval_reasons.iter().find_map(|r| match r {
            ApprovalReason::ProtectedAccount(tag) => Some(tag.clone()),
            _ => None,
        }) {
            return Err(SkipReason::ProtectedAccount(tag));
        }
        approved_actions.push(index);
    }
    Ok(Outcome::Decide(Decided {
        plan: Box::new(plan),
        approved_actions,
    }))
}

// ---------------------------------------------------------------- approval

/// Where a bulk action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkStatus {
    /// Dry-run planned; not yet submitted.
    DryRun,
    /// Submitted (matching its dry run), waiting for a lead.
    AwaitingApproval,
    /// A lead approved it; its steps are being applied.
    Applying,
    /// Every step is applied or skipped.
    Completed,
    /// A lead refused it; nothing was applied.
    Rejected,
}

impl BulkStatus {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkStatus::DryRun => "dry_run",
            BulkStatus::AwaitingApproval => "awaiting_approval",
            BulkStatus::Applying => "applying",
            BulkStatus::Completed => "completed",
            BulkStatus::Rejected => "rejected",
        }
    }

    /// The table of allowed transitions: a dry run is submitted, a
    /// submission approved (applying) or rejected, an application completes.
    pub fn can_become(self, to: BulkStatus) -> bool {
        use BulkStatus::*;
        matches!(
            (self, to),
            (DryRun, AwaitingApproval)
                | (AwaitingApproval, Applying)
                | (AwaitingApproval, Rejected)
                | (Applying, Completed)
        )
    }
}

impl fmt::Display for BulkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a ruling on a bulk action is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkRefusal {
    /// The bulk's author never approves their own bulk action.
    OwnBulk,
    /// Only a lead (`action.approve`) approves bulk actions.
    NotALead,
    /// It does not wait for approval.
    NotAwaiting(BulkStatus),
}

impl fmt::Display for BulkRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BulkRefusal::OwnBulk => {
                f.write_str("you asked for this bulk action; another lead must approve it")
            }
            BulkRefusal::NotALead => {
                f.write_str("only a lead (action.approve) approves bulk actions")
            }
            BulkRefusal::NotAwaiting(status) => {
                write!(f, "the bulk action is {status}, not awaiting approval")
            }
        }
    }
}

/// The one approval of a bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkApproval {
    /// Who approved.
    pub approver: UserId,
    /// When.
    pub at: Timestamp,
    /// The status afterwards: applying.
    pub status: BulkStatus,
}

/// Plans a lead's approval of a bulk action: never by its author, only by
/// someone who may approve actions, only while it awaits approval.
pub fn plan_bulk_approval(
    author: UserId,
    status: BulkStatus,
    approver: &Principal,
    now: Timestamp,
) -> Result<BulkApproval, BulkRefusal> {
    if UserId(approver.user_id) == author {
        return Err(BulkRefusal::OwnBulk);
    }
    if !approver.may(Permission::ActionApprove) {
        return Err(BulkRefusal::NotALead);
    }
    if !status.can_become(BulkStatus::Applying) {
        return Err(BulkRefusal::NotAwaiting(status));
    }
    Ok(BulkApproval {
        approver: UserId(approver.user_id),
        at: now,
        status: BulkStatus::Applying,
    })
}
