//! The appeal decision planner: from the facts the store loads and the
//! reviewer's command, every row an appeal's outcome writes, through the
//! enforcement planners that decisions use.
//!
//! - **Upheld**: no action changes.
//! - **Overturned**: the original decision is reversed as a lead's
//!   reversal of a whole decision is ([`plan_reversal`]): what was never
//!   sent is cancelled, what may have reached the platform gets an
//!   `action.reverse` webhook, what waits for approval is rejected, its
//!   strikes are voided and the decision is marked reversed.
//! - **Modified**: a new decision on the original case supersedes the
//!   original, as a correction does ([`plan_decision`] in
//!   [`DecisionMode::Correction`]): the original's actions are reversed and
//!   its strikes voided, and the replacement goes through every rule of a
//!   decision — the matrix and its departures, approvals, notices, the
//!   statement of reasons and the strike.
//!
//! Every outcome resolves the appeal case, plans each appellant's notice
//! from the `appeal.<outcome>` template in their language, and, where the
//! original decision had a statement of reasons, its update. Retries are
//! safe: the store writes the plan in one transaction with the appeal
//! case's version, so a repeat is a conflict that changes nothing, and
//! every webhook carries an idempotency key.

use std::fmt;

use crate::case::CaseStatus;
use crate::decision::{ActionSpec, DecisionInput, OverrideReason, Rationale};
use crate::enforcement::{
    plan_decision, plan_reversal, CaseFacts, CaseTransition, DecideCommand, DecisionExtras,
    DecisionFacts, DecisionMode, DecisionPlan, PlanError, ReversalCommand, ReversalFacts,
    ReversalPlan, ReversalTarget, SupersededDecision,
};
use crate::ids::{CaseId, DecisionId, LanguageTag, PlatformId, SubjectRef, TaxonomyCode, Version};
use crate::limits::{POLICY_ID_BYTES_MAX, RATIONALE_SECTION_CHARS_MAX};
use crate::notice::{plan_appeal_notice, AppealNoticeDraft, NoticeTemplate, PlannedNotice};
use crate::{FieldErrors, Timestamp};

use super::independence::{may_review_appeal, AppealParty, Refusal};
use super::{AppealId, AppealOutcome};

// ---------------------------------------------------------------- the command

/// `POST /api/v1/cases/{id}/decision` on an appeal case, before checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppealDecideInput {
    /// The appeal case's version the reviewer saw.
    pub version: Option<i64>,
    /// `upheld`, `overturned` or `modified`.
    pub outcome: Option<String>,
    /// The replacement's actions (modified only), each already checked
    /// ([`crate::decision::check_action`]).
    pub actions: Vec<ActionSpec>,
    /// The reviewer's reasons; for modified, also the replacement's.
    pub rationale: Rationale,
    /// The replacement's category (modified only; the original's when
    /// absent).
    pub category: Option<String>,
    /// The replacement's policy id or section (modified only).
    pub policy: Option<String>,
    /// The replacement's reason code and override reason (modified only).
    pub extras: DecisionExtras,
}

/// What replaces a modified decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Replacement {
    /// Its category; the original's when `None`.
    pub category: Option<TaxonomyCode>,
    /// Its policy id or section.
    pub policy: Option<String>,
    /// Its actions (possibly none: a violation with a strike only).
    pub actions: Vec<ActionSpec>,
    /// A reason code of its category.
    pub reason_code: Option<TaxonomyCode>,
    /// Why its actions depart from the matrix.
    pub override_reason: Option<OverrideReason>,
}

/// The reviewer's verdict, with what a modification needs.
#[derive(Debug, Clone, PartialEq)]
pub enum AppealVerdict {
    /// The decision stands.
    Upheld,
    /// The decision is reversed.
    Overturned,
    /// The decision is replaced.
    Modified(Replacement),
}

impl AppealVerdict {
    /// Its outcome.
    pub fn outcome(&self) -> AppealOutcome {
        match self {
            AppealVerdict::Upheld => AppealOutcome::Upheld,
            AppealVerdict::Overturned => AppealOutcome::Overturned,
            AppealVerdict::Modified(_) => AppealOutcome::Modified,
        }
    }
}

/// An appeal decision, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AppealDecideCommand {
    /// The appeal case.
    pub case: CaseId,
    /// Its version the reviewer saw.
    pub expected: Version,
    /// The verdict.
    pub verdict: AppealVerdict,
    /// Why.
    pub rationale: Rationale,
}

impl AppealDecideCommand {
    /// Checks every field: `version` and `outcome` are required; `actions`,
    /// `category`, `policy`, `reason_code` and `override_reason` belong to
    /// a modified outcome only; the rationale needs `what_happened` and
    /// `policy` (an appeal's answer must give its reasons) and each section
    /// is bounded. A modification's rationale is checked again as the
    /// replacement decision's.
    pub fn parse(case: CaseId, input: &AppealDecideInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let expected = match input.version {
            None => {
                errors.push("version", "is required: the case version you saw");
                None
            }
            Some(version) => Some(Version(version)),
        };
        let outcome = match input.outcome.as_deref() {
            None => {
                errors.push("outcome", "is required: upheld, overturned or modified");
                None
            }
            Some(outcome) => errors.take("outcome", outcome.parse::<AppealOutcome>()),
        };
        check_rationale(&mut errors, &input.rationale);
        let verdict = outcome.and_then(|outcome| verdict(&mut errors, outcome, input));
        match (expected, verdict) {
            (Some(expected), Some(verdict)) if errors.is_empty() => Ok(Self {
                case,
                expected,
                verdict,
                rationale: input.rationale.clone(),
            }),
            _ => Err(errors),
        }
    }
}

fn check_rationale(errors: &mut FieldErrors, rationale: &Rationale) {
    for (field, text, required) in [
        ("rationale.what_happened", &rationale.what_happened, true),
        ("rationale.evidence", &rationale.evidence, false),
        ("rationale.policy", &rationale.policy, true),
        ("rationale.action", &rationale.action, false),
        ("rationale.next_steps", &rationale.next_steps, false),
    ] {
        if required && text.trim().is_empty() {
            errors.push(
                field,
                "is required: the appellant is owed the reasons for the outcome",
            );
        }
        if text.chars().count() > RATIONALE_SECTION_CHARS_MAX {
            errors.push(
                field,
                format!("must be at most {RATIONALE_SECTION_CHARS_MAX} characters"),
            );
        }
    }
}

fn verdict(
    errors: &mut FieldErrors,
    outcome: AppealOutcome,
    input: &AppealDecideInput,
) -> Option<AppealVerdict> {
    if outcome != AppealOutcome::Modified {
        let only_modified = [
            ("actions", !input.actions.is_empty()),
            ("category", input.category.is_some()),
            ("policy", input.policy.is_some()),
            ("reason_code", input.extras.reason_code.is_some()),
            ("override_reason", input.extras.override_reason.is_some()),
        ];
        for (field, given) in only_modified {
            if given {
                errors.push(
                    field,
                    format!("only a modified outcome takes {field}: {outcome} changes no decision of its own"),
                );
            }
        }
        return Some(match outcome {
            AppealOutcome::Upheld => AppealVerdict::Upheld,
            _ => AppealVerdict::Overturned,
        });
    }
    let category = input
        .category
        .as_deref()
        .and_then(|code| errors.take("category", TaxonomyCode::parse(code)));
    if let Some(policy) = &input.policy {
        if policy.is_empty() || policy.len() > POLICY_ID_BYTES_MAX {
            errors.push(
                "policy",
                format!("must be 1 to {POLICY_ID_BYTES_MAX} bytes"),
            );
        }
    }
    let reason_code = input
        .extras
        .reason_code
        .as_deref()
        .and_then(|code| errors.take("reason_code", TaxonomyCode::parse(code)));
    let override_reason = errors
        .take(
            "override_reason",
            OverrideReason::given(input.extras.override_reason.as_deref()),
        )
        .flatten();
    Some(AppealVerdict::Modified(Replacement {
        category,
        policy: input.policy.clone(),
        actions: input.actions.clone(),
        reason_code,
        override_reason,
    }))
}

// ---------------------------------------------------------------- the facts

/// One appellant's appeal item (the first, or one that joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealItem {
    /// The platform's id of the item.
    pub id: PlatformId,
    /// Who appealed.
    pub appellant: SubjectRef,
    /// Their language.
    pub language: Option<LanguageTag>,
    /// When they appealed.
    pub appealed_at: Timestamp,
}

/// The appeal as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRecord {
    /// Warden's id.
    pub id: AppealId,
    /// The decision contested.
    pub decision: DecisionId,
    /// Its items, oldest first.
    pub items: Vec<AppealItem>,
    /// Its outcome, once decided.
    pub outcome: Option<AppealOutcome>,
}

/// The decision appealed, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginalDecision {
    /// The decision, its actions with their deliveries and its strikes not
    /// yet voided.
    pub decision: SupersededDecision,
    /// Who made it and their role, as recorded with the appeal.
    pub decider: Option<AppealParty>,
    /// Whether a lead reversed it since.
    pub reversed: bool,
    /// The correction that superseded it since, if any.
    pub superseded_by: Option<DecisionId>,
    /// Its statement of reasons' puid, if it has one.
    pub statement_id: Option<String>,
}

/// What the store loads for an appeal decision, in its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct AppealFacts {
    /// The appeal.
    pub appeal: AppealRecord,
    /// The appeal case, locked.
    pub case: CaseFacts,
    /// Who decides, with their role.
    pub reviewer: AppealParty,
    /// The decision appealed.
    pub original: OriginalDecision,
    /// What a decision on the original case needs (its case, locked; its
    /// account; the taxonomy in force; the action and reversal templates;
    /// the statement facts). Its `author` and `superseded` are set by the
    /// planner (the reviewer; the original decision).
    pub original_case: DecisionFacts,
    /// The `appeal.*` notice templates.
    pub templates: Vec<NoticeTemplate>,
}

// ---------------------------------------------------------------- the plan

/// The appeal's resolution row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealResolution {
    /// The appeal.
    pub appeal: AppealId,
    /// Its outcome.
    pub outcome: AppealOutcome,
    /// Who decided it.
    pub reviewer: AppealParty,
    /// Why.
    pub rationale: Rationale,
    /// When.
    pub decided_at: Timestamp,
}

/// The update of the original decision's statement of reasons: Warden
/// records the appeal's outcome with the statement (and exports it), and a
/// modification's replacement has its own statement in its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementUpdate {
    /// The original statement's puid.
    pub statement_id: String,
    /// The appeal's outcome.
    pub outcome: AppealOutcome,
    /// When it was decided.
    pub decided_at: Timestamp,
    /// Whether the decision it told of is no longer in force (overturned,
    /// or replaced).
    pub withdrawn: bool,
    /// Whether the replacement has a statement of its own.
    pub replaced_by_statement: bool,
}

/// Every row an appeal decision writes.
#[derive(Debug, Clone, PartialEq)]
pub struct AppealPlan {
    /// The resolution.
    pub resolution: AppealResolution,
    /// The appeal case's transition: resolved.
    pub case: CaseTransition,
    /// Overturned: the reversal of the original decision.
    pub reversal: Option<ReversalPlan>,
    /// Modified: the replacement decision on the original case, with the
    /// reversal of the original in its `correction`.
    pub replacement: Option<Box<DecisionPlan>>,
    /// One notice per appellant, keyed by their appeal item's id.
    pub notices: Vec<PlannedNotice<PlatformId>>,
    /// The original statement's update, when it had one.
    pub statement_update: Option<StatementUpdate>,
    /// The decision appealed.
    pub original: DecisionId,
}

impl AppealPlan {
    /// Its outcome.
    pub fn outcome(&self) -> AppealOutcome {
        self.resolution.outcome
    }

    /// The decision the appellants' notices name once the plan is written:
    /// the replacement's id (`replacement`, given by the writer) for a
    /// modification, the original's otherwise. Pass it to
    /// [`PlannedNotice::render`].
    pub fn notice_decision(&self, replacement: Option<DecisionId>) -> DecisionId {
        match (&self.replacement, replacement) {
            (Some(_), Some(id)) => id,
            _ => self.original,
        }
    }
}

/// Why an appeal decision is refused. Nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppealError {
    /// The reviewer may not review this appeal (`403` naming the reason).
    Refused(Refusal),
    /// A stale version, a case held by someone else, an appeal decided
    /// already, a decision no longer in force (`409`).
    Conflict(String),
    /// The command is not acceptable: every field at fault (`422`).
    Invalid(FieldErrors),
}

impl From<PlanError> for AppealError {
    fn from(error: PlanError) -> Self {
        match error {
            PlanError::Conflict(message) => AppealError::Conflict(message),
            PlanError::Invalid(errors) => AppealError::Invalid(errors),
        }
    }
}

impl fmt::Display for AppealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppealError::Refused(refusal) => write!(f, "{refusal}"),
            AppealError::Conflict(message) => f.write_str(message),
            AppealError::Invalid(errors) => write!(f, "{errors}"),
        }
    }
}

impl std::error::Error for AppealError {}

/// Plans an appeal's outcome. Refuses a reviewer the independence rule
/// excludes ([`may_review_appeal`]); a stale version, an appeal case the
/// reviewer does not hold or that is resolved, an appeal decided already,
/// an original decision superseded since, reversed since (for upheld and
/// modified) or whose case was reopened (for modified) (conflicts); and a
/// replacement the decision rules refuse (invalid, fields as in a
/// decision).
pub fn plan_appeal_decision(
    facts: &AppealFacts,
    command: &AppealDecideCommand,
    now: Timestamp,
) -> Result<AppealPlan, AppealError> {
    may_review_appeal(&facts.reviewer, facts.original.decider.as_ref())
        .map_err(AppealError::Refused)?;
    check_appeal_case(facts, command, now)?;
    let original = &facts.original;
    let original_id = original.decision.context.id;
    let outcome = command.verdict.outcome();
    if let Some(later) = original.superseded_by {
        return Err(AppealError::Conflict(format!(
            "decision {original_id} was superseded by decision {later} after the appeal was made; the appeal is about a decision no longer in force"
        )));
    }
    if original.reversed && outcome != AppealOutcome::Overturned {
        return Err(AppealError::Conflict(format!(
            "a lead reversed decision {original_id} after the appeal was made; it can only be overturned"
        )));
    }
    let (reversal, replacement) = match &command.verdict {
        AppealVerdict::Upheld => (None, None),
        AppealVerdict::Overturned => (plan_overturn(facts, now)?, None),
        AppealVerdict::Modified(replacement) => (
            None,
            Some(Box::new(plan_replacement(
                facts,
                command,
                replacement,
                now,
            )?)),
        ),
    };
    let statement_update = original
        .statement_id
        .as_ref()
        .map(|statement_id| StatementUpdate {
            statement_id: statement_id.clone(),
            outcome,
            decided_at: now,
            withdrawn: outcome != AppealOutcome::Upheld,
            replaced_by_statement: replacement
                .as_ref()
                .is_some_and(|plan| plan.statement.is_some()),
        });
    let notices = plan_notices(facts, outcome, replacement.as_deref(), now);
    Ok(AppealPlan {
        resolution: AppealResolution {
            appeal: facts.appeal.id,
            outcome,
            reviewer: facts.reviewer,
            rationale: command.rationale.clone(),
            decided_at: now,
        },
        case: CaseTransition {
            status: CaseStatus::Resolved,
            resolved_at: now,
            audit_action: "appeal.decide",
            reason: match outcome {
                AppealOutcome::Upheld => "appeal upheld",
                AppealOutcome::Overturned => "appeal overturned",
                AppealOutcome::Modified => "appeal modified",
            },
        },
        reversal,
        replacement,
        notices,
        statement_update,
        original: original_id,
    })
}

/// The appeal case: its version, open, held by the reviewer, undecided.
fn check_appeal_case(
    facts: &AppealFacts,
    command: &AppealDecideCommand,
    now: Timestamp,
) -> Result<(), AppealError> {
    let case = &facts.case;
    if case.id != command.case {
        return Err(AppealError::Conflict(format!(
            "case {} is not the case of appeal {}",
            command.case, facts.appeal.id
        )));
    }
    if case.version != command.expected {
        return Err(AppealError::Conflict(format!(
            "case {} is at version {}, not {}: someone changed it; reload it and try again",
            case.id, case.version, command.expected
        )));
    }
    if let Some(outcome) = facts.appeal.outcome {
        return Err(AppealError::Conflict(format!(
            "appeal {} was decided already: {outcome}",
            facts.appeal.id
        )));
    }
    if case.status == CaseStatus::Resolved {
        return Err(AppealError::Conflict(format!(
            "case {} is resolved already",
            case.id
        )));
    }
    if !case.is_held_by(Some(facts.reviewer.user), now) {
        return Err(AppealError::Conflict(
            match (&case.assignee, case.lease_is_live(now)) {
                (Some(holder), true) => {
                    format!(
                        "case {} is held by {holder}; only they can decide it",
                        case.id
                    )
                }
                _ => format!(
                    "case {} is not claimed by you; claim it before you decide it",
                    case.id
                ),
            },
        ));
    }
    Ok(())
}

/// Overturned: the original decision reversed as a whole, unless a lead
/// reversed it already (then nothing is left in force).
fn plan_overturn(facts: &AppealFacts, now: Timestamp) -> Result<Option<ReversalPlan>, AppealError> {
    let original = &facts.original;
    if original.reversed {
        return Ok(None);
    }
    let reversal_facts = ReversalFacts {
        decision: original.decision.context.clone(),
        actions: original.decision.actions.clone(),
        active_strikes: original.decision.active_strikes.clone(),
        reversed: original.reversed,
        superseded_by: original.superseded_by,
        templates: facts.original_case.templates.clone(),
    };
    let command = ReversalCommand {
        target: ReversalTarget::Decision,
        reason: format!("appeal {} overturned the decision", facts.appeal.id),
    };
    Ok(Some(plan_reversal(&reversal_facts, &command, now)?))
}

/// Modified: the replacement as a correction of the original case by the
/// reviewer, superseding the original decision.
fn plan_replacement(
    facts: &AppealFacts,
    command: &AppealDecideCommand,
    replacement: &Replacement,
    now: Timestamp,
) -> Result<DecisionPlan, AppealError> {
    let original = &facts.original.decision;
    let mut decision_facts = facts.original_case.clone();
    if decision_facts.case.id != original.context.case {
        return Err(AppealError::Conflict(format!(
            "case {} is not the case of decision {}",
            decision_facts.case.id, original.context.id
        )));
    }
    if decision_facts.case.status != CaseStatus::Resolved {
        return Err(AppealError::Conflict(format!(
            "case {} of decision {} was reopened since; decide it there, then decide the appeal",
            decision_facts.case.id, original.context.id
        )));
    }
    decision_facts.author = Some(facts.reviewer.user);
    decision_facts.superseded = Some(original.clone());
    let decide = DecideCommand {
        case: decision_facts.case.id,
        expected: decision_facts.case.version,
        decision: DecisionInput {
            violation: true,
            category: replacement.category.as_ref().map_or_else(
                || original.context.category.clone(),
                |c| c.as_str().to_string(),
            ),
            policy: replacement.policy.clone(),
            actions: replacement.actions.clone(),
            rationale: command.rationale.clone(),
        },
        reason_code: replacement.reason_code.clone(),
        override_reason: replacement.override_reason.clone(),
        mode: DecisionMode::Correction,
    };
    Ok(plan_decision(&decision_facts, &decide, now)?)
}

/// One notice per appellant, from the outcome's template in their language.
fn plan_notices(
    facts: &AppealFacts,
    outcome: AppealOutcome,
    replacement: Option<&DecisionPlan>,
    now: Timestamp,
) -> Vec<PlannedNotice<PlatformId>> {
    let context = &facts.original.decision.context;
    let (category, policy_id, reason_code, statement) = match replacement {
        Some(plan) => (
            plan.decision.category.as_str(),
            plan.decision.policy.as_deref(),
            plan.enforcement.reason_code.as_deref(),
            plan.statement.is_some(),
        ),
        None => (
            context.category.as_str(),
            context.policy_id.as_deref(),
            context.reason_code.as_deref(),
            facts.original.statement_id.is_some(),
        ),
    };
    let policy = replacement.map_or(&context.policy, |_| &facts.original_case.taxonomy.policy);
    facts
        .appeal
        .items
        .iter()
        .map(|item| {
            let draft = AppealNoticeDraft {
                kind: outcome.template_kind(),
                outcome: outcome.as_str(),
                appeal_id: item.id.as_str(),
                appealed_at: item.appealed_at,
                appellant: &item.appellant,
                language: item.language.as_ref().or(context.language.as_ref()),
                original_decision: context.id,
                subject: &facts.original_case.case.subject,
                category,
                reason_code,
                policy_id,
                policy,
                statement,
                now,
            };
            plan_appeal_notice(item.id.clone(), &draft, &facts.templates)
        })
        .collect()
}
