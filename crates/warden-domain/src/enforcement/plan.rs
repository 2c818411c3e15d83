//! The decision planner: from the facts the store loads and the command an
//! analyst gives, every row a decision writes.
//!
//! [`plan_decision`] checks the command against the case (version, who
//! holds it, first decision or correction), the taxonomy version in force
//! (category, reason code) and the matrix (a departure needs a reason),
//! applies the decision rights (which actions wait for a lead), and lists
//! what follows: actions with their status, their deliveries (apply now,
//! lift when a temporary action ends), the strike, on a correction the
//! reversal of what the superseded decision put in force and the voiding of
//! its strikes, the notices, the statement of reasons and the case's
//! transition. The store writes the plan in the decision's transaction.

use chrono::Duration;

use crate::action::ActionStatus;
use crate::case::{CaseStatus, Severity};
use crate::decision::{
    action_target, check_decision, ActionSpec, DecisionInput, OverrideReason, Rationale,
};
use crate::dsa::{self, Restriction, StatedDecision, StatementDraft, StatementFacts};
use crate::duration::format_iso8601_duration;
use crate::ids::{CaseId, DecisionId, SubjectRef, TaxonomyCode, UserId, Version};
use crate::limits::ACTION_DURATION_SECONDS_MAX;
use crate::notice::{plan_notice, NoticeDraft, NoticeTemplate, PlannedNotice};
use crate::webhook::DeliveryKind;
use crate::{FieldErrors, Timestamp};

use super::assess::{assess, ApprovalReason, Assessment, Departure, Situation};
use super::facts::{
    AccountFacts, CaseFacts, DecisionContext, OrderedAction, PlanError, PlannedDelivery,
    TaxonomyVersion,
};
use super::policy::{EnforcementPolicy, PolicyCategory};
use super::reversal::{reverse_actions, ReversalPlan, ReversalReason};

/// Whether a decision is the case's first or corrects the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionMode {
    /// A first decision on an open case, by the analyst who holds it.
    First,
    /// A correction of a resolved case (a lead's right): the new decision
    /// supersedes the last one, reverses what it put in force and voids its
    /// strikes.
    Correction,
}

/// A decision's extras as the wire gives them, before they are parsed into
/// a [`DecideCommand`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionExtras {
    /// Why the actions depart from the matrix's recommendation.
    pub override_reason: Option<String>,
    /// A reason code of the decided category.
    pub reason_code: Option<String>,
}

/// A decision to make, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct DecideCommand {
    /// The case decided.
    pub case: CaseId,
    /// The case version the analyst saw.
    pub expected: Version,
    /// The decision (checked by [`crate::decision::check_decision`]).
    pub decision: DecisionInput,
    /// A reason code of the decided category.
    pub reason_code: Option<TaxonomyCode>,
    /// Why the actions depart from the matrix.
    pub override_reason: Option<OverrideReason>,
    /// First decision or correction.
    pub mode: DecisionMode,
}

impl DecideCommand {
    /// A decision without extras.
    pub fn new(
        case: CaseId,
        expected: Version,
        decision: DecisionInput,
        mode: DecisionMode,
    ) -> Self {
        Self {
            case,
            expected,
            decision,
            reason_code: None,
            override_reason: None,
            mode,
        }
    }

    /// A decision with the extras the wire gave, parsed; every field at
    /// fault is reported.
    pub fn with_extras(
        case: CaseId,
        expected: Version,
        decision: DecisionInput,
        extras: &DecisionExtras,
        mode: DecisionMode,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let reason_code = match extras.reason_code.as_deref() {
            None => None,
            Some(code) => errors.take("reason_code", TaxonomyCode::parse(code)),
        };
        let override_reason = errors
            .take(
                "override_reason",
                OverrideReason::given(extras.override_reason.as_deref()),
            )
            .flatten();
        errors.finish(|| Self {
            case,
            expected,
            decision,
            reason_code,
            override_reason,
            mode,
        })
    }
}

/// The decision a correction supersedes, with what it put in force.
#[derive(Debug, Clone, PartialEq)]
pub struct SupersededDecision {
    /// The decision.
    pub context: DecisionContext,
    /// Its actions, with their deliveries.
    pub actions: Vec<OrderedAction>,
    /// Its strikes not yet voided, by id.
    pub active_strikes: Vec<i64>,
}

/// Everything the store loads for a decision, in its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionFacts {
    /// The case, locked.
    pub case: CaseFacts,
    /// The owner of the case's subject, if known.
    pub subject_owner: Option<SubjectRef>,
    /// The account acted on (the subject, or its owner), if known.
    pub account: Option<AccountFacts>,
    /// Who decides; `None` when Warden decides by itself.
    pub author: Option<UserId>,
    /// The taxonomy version in force.
    pub taxonomy: TaxonomyVersion,
    /// The notice templates of the action types ordered (and of reversals).
    pub templates: Vec<NoticeTemplate>,
    /// What a statement of reasons tells of the case.
    pub statement: StatementFacts,
    /// On a resolved case, its latest decision.
    pub superseded: Option<SupersededDecision>,
}

/// The decision row.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedDecision {
    /// The case.
    pub case: CaseId,
    /// What the case is about.
    pub subject: SubjectRef,
    /// Whether a policy was broken.
    pub violation: bool,
    /// The category.
    pub category: String,
    /// The policy id or section.
    pub policy: Option<String>,
    /// Why.
    pub rationale: Rationale,
    /// Who decided.
    pub author: Option<UserId>,
    /// When.
    pub decided_at: Timestamp,
    /// The decision it supersedes.
    pub supersedes: Option<DecisionId>,
}

/// The decision's enforcement facts (its `enforcement` record, less the
/// action ids and statement the writer adds).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEnforcement {
    /// The taxonomy version in force.
    pub taxonomy_version: i64,
    /// The decision's severity.
    pub severity: Severity,
    /// The reason code named.
    pub reason_code: Option<String>,
    /// The account's active strike weight before the decision.
    pub prior_strike_weight: i64,
    /// The account acted on.
    pub account: Option<SubjectRef>,
    /// What the matrix recommended.
    pub recommendation: Vec<ActionSpec>,
    /// How the actions depart from it.
    pub departure: Option<Departure>,
    /// Why (the override reason, else the rationale's action section).
    pub override_reason: Option<String>,
}

/// An action row.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedAction {
    /// What to do, for how long.
    pub spec: ActionSpec,
    /// What it acts on.
    pub target: SubjectRef,
    /// `pending` (standard) or `pending_approval`.
    pub status: ActionStatus,
    /// Why it waits (empty when standard).
    pub approval_reasons: Vec<ApprovalReason>,
    /// How long, in seconds.
    pub duration_seconds: Option<i64>,
    /// When it ends; a waiting action's clock starts at its approval.
    pub expires_at: Option<Timestamp>,
}

/// A strike row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStrike {
    /// The account struck.
    pub account: SubjectRef,
    /// The category.
    pub category: String,
    /// Its weight.
    pub weight: i64,
    /// When it stops counting.
    pub expires_at: Timestamp,
}

/// What a correction does to the decision it supersedes.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    /// The superseded decision.
    pub superseded: DecisionId,
    /// Its strikes to void.
    pub strikes_voided: Vec<i64>,
    /// The reversal of its actions.
    pub reversal: ReversalPlan,
}

/// The case's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTransition {
    /// The new status: resolved, and the lease released.
    pub status: CaseStatus,
    /// When it counts as resolved (a correction keeps the first time).
    pub resolved_at: Timestamp,
    /// The audit action: `case.decide` or `case.correct`.
    pub audit_action: &'static str,
    /// The transition's reason.
    pub reason: &'static str,
}

/// Every row a decision writes.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionPlan {
    /// The decision.
    pub decision: PlannedDecision,
    /// Its enforcement record.
    pub enforcement: PlannedEnforcement,
    /// Its actions, in the order given.
    pub actions: Vec<PlannedAction>,
    /// The strike it leaves.
    pub strike: Option<PlannedStrike>,
    /// On a correction, what happens to the superseded decision.
    pub correction: Option<Correction>,
    /// Deliveries of the standard actions, by index into `actions`.
    pub deliveries: Vec<PlannedDelivery<usize>>,
    /// The statement of reasons, when something restricting is in force
    /// and nothing waits.
    pub statement: Option<StatementDraft>,
    /// Notices of the standard actions, by index into `actions`.
    pub notices: Vec<PlannedNotice<usize>>,
    /// The case's transition.
    pub case: CaseTransition,
}

impl DecisionPlan {
    /// The actions that wait for approval, by index, with why.
    pub fn approvals(&self) -> impl Iterator<Item = (usize, &[ApprovalReason])> {
        self.actions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.status == ActionStatus::PendingApproval)
            .map(|(index, a)| (index, a.approval_reasons.as_slice()))
    }
}

/// Plans a decision. Refuses, changing nothing, a stale version, a case
/// the author does not hold, a first decision on a resolved case or a
/// correction of an open one (conflicts); actions without a fitting
/// target, a category or reason code the taxonomy version lacks, a
/// departure from the matrix without a reason, a statement of reasons the
/// Transparency Database would refuse (invalid).
pub fn plan_decision(
    facts: &DecisionFacts,
    command: &DecideCommand,
    now: Timestamp,
) -> Result<DecisionPlan, PlanError> {
    check_limits(&command.decision)?;
    check_case(facts, command, now)?;
    let input = &command.decision;
    let policy = &facts.taxonomy.policy;
    let (targets, category) = check_parts(facts, command)?;
    let severity = decision_severity(&facts.case, &input.category, category.severity);
    let account = facts.account.as_ref();
    let assessment = input.violation.then(|| {
        assess(
            policy,
            &situation(facts, &input.category, severity),
            &input.actions,
        )
    });
    let override_reason = override_reason(command, assessment.as_ref())?;
    let actions = plan_actions(input, targets, assessment.as_ref(), now);
    let statement = plan_statement(facts, input, &actions, now)?;
    let correction = plan_correction(facts, command, now);
    let strike = input.violation.then_some(account).flatten().map(|account| {
        let rule = policy.strike_rule(severity);
        PlannedStrike {
            account: account.reference.clone(),
            category: input.category.clone(),
            weight: rule.weight,
            expires_at: now + rule.lifetime,
        }
    });
    let notices = plan_notices(facts, command, &actions, statement.is_some(), now);
    Ok(DecisionPlan {
        decision: PlannedDecision {
            case: facts.case.id,
            subject: facts.case.subject.clone(),
            violation: input.violation,
            category: input.category.clone(),
            policy: input.policy.clone(),
            rationale: input.rationale.clone(),
            author: facts.author,
            decided_at: now,
            supersedes: correction.as_ref().map(|c| c.superseded),
        },
        enforcement: PlannedEnforcement {
            taxonomy_version: facts.taxonomy.version,
            severity,
            reason_code: command.reason_code.as_ref().map(|c| c.as_str().to_string()),
            prior_strike_weight: account.map_or(0, |a| a.active_strike_weight),
            account: account.map(|a| a.reference.clone()),
            recommendation: assessment
                .as_ref()
                .map(|a| a.recommendation.clone())
                .unwrap_or_default(),
            departure: assessment.as_ref().and_then(|a| a.departure),
            override_reason,
        },
        deliveries: plan_deliveries(&actions, now),
        actions,
        strike,
        correction,
        statement,
        notices,
        case: case_transition(&facts.case, command.mode, now),
    })
}

/// On a correction: the superseded decision's strikes to void and the
/// reversal of what it put in force.
fn plan_correction(
    facts: &DecisionFacts,
    command: &DecideCommand,
    now: Timestamp,
) -> Option<Correction> {
    let old = facts
        .superseded
        .as_ref()
        .filter(|_| command.mode == DecisionMode::Correction)?;
    Some(Correction {
        superseded: old.context.id,
        strikes_voided: old.active_strikes.clone(),
        reversal: ReversalPlan {
            decision: old.context.id,
            reason: ReversalReason::Superseded,
            actions: reverse_actions(&old.context, &old.actions, &facts.templates, now),
            strikes_voided: Vec::new(),
            marks_decision: false,
        },
    })
}

/// A decided case is resolved and nobody's. A correction keeps the time
/// the case was first resolved: that is when the platform's users got an
/// outcome.
fn case_transition(case: &CaseFacts, mode: DecisionMode, now: Timestamp) -> CaseTransition {
    match mode {
        DecisionMode::First => CaseTransition {
            status: CaseStatus::Resolved,
            resolved_at: now,
            audit_action: "case.decide",
            reason: "decided",
        },
        DecisionMode::Correction => CaseTransition {
            status: CaseStatus::Resolved,
            resolved_at: case.resolved_at.unwrap_or(now),
            audit_action: "case.correct",
            reason: "decision corrected",
        },
    }
}

/// The decision's own limits, checked again where it is planned, because
/// callers other than the wire (the demo, benchmarks, a future NATS
/// consumer) build commands too: actions, rationale sections, the policy
/// id and action durations.
fn check_limits(input: &DecisionInput) -> Result<(), PlanError> {
    let mut errors = check_decision(input.clone()).err().unwrap_or_default();
    for (index, action) in input.actions.iter().enumerate() {
        let Some(duration) = action.duration else {
            continue;
        };
        if !(1..=ACTION_DURATION_SECONDS_MAX).contains(&duration.num_seconds()) {
            errors.push(
                format!("actions[{index}].duration"),
                format!(
                    "must be at least a second and at most {} days",
                    ACTION_DURATION_SECONDS_MAX / 86_400
                ),
            );
        }
    }
    errors.finish(|| ()).map_err(PlanError::Invalid)
}

/// The version, the mode and the lease: who may decide this case now.
fn check_case(
    facts: &DecisionFacts,
    command: &DecideCommand,
    now: Timestamp,
) -> Result<(), PlanError> {
    let case = &facts.case;
    if case.version != command.expected {
        return Err(PlanError::Conflict(format!(
            "case {} is at version {}, not {}: someone changed it; reload it and try again",
            case.id, case.version, command.expected
        )));
    }
    let resolved = case.status == CaseStatus::Resolved;
    match (command.mode, resolved) {
        (DecisionMode::First, true) => Err(PlanError::Conflict(format!(
            "case {} is already decided; correcting a decision needs a lead",
            case.id
        ))),
        (DecisionMode::Correction, false) => Err(PlanError::Conflict(format!(
            "case {} is not decided yet: there is no decision to correct",
            case.id
        ))),
        (DecisionMode::Correction, true) => Ok(()),
        (DecisionMode::First, false) if case.is_held_by(facts.author, now) => Ok(()),
        (DecisionMode::First, false) => Err(PlanError::Conflict(
            match (&case.assignee, case.lease_is_live(now)) {
                (Some(holder), true) => {
                    format!(
                        "case {} is held by {holder}; only they can decide it",
                        case.id
                    )
                }
                (Some(_), false) if facts.author.is_some() && case.assignee_id == facts.author => {
                    format!(
                        "your lease on case {} has expired; claim it again to decide it",
                        case.id
                    )
                }
                _ => format!(
                    "case {} is not claimed by you; claim it before you decide it",
                    case.id
                ),
            },
        )),
    }
}

/// The actions' targets and the decided category, or every field at fault.
fn check_parts<'f>(
    facts: &'f DecisionFacts,
    command: &DecideCommand,
) -> Result<(Vec<SubjectRef>, &'f PolicyCategory), PlanError> {
    let mut errors = FieldErrors::default();
    let input = &command.decision;
    let targets: Vec<SubjectRef> = input
        .actions
        .iter()
        .enumerate()
        .filter_map(|(index, action)| {
            errors.take(
                &format!("actions[{index}].type"),
                action_target(
                    &action.kind,
                    &facts.case.subject,
                    facts.subject_owner.as_ref(),
                ),
            )
        })
        .collect();
    let taxonomy = &facts.taxonomy;
    let category = taxonomy.policy.category(&input.category);
    if category.is_none() {
        errors.push(
            "category",
            format!(
                "unknown taxonomy code {:?} in taxonomy version {}",
                input.category, taxonomy.version
            ),
        );
    }
    if let (Some(category), Some(code)) = (category, &command.reason_code) {
        if !category
            .reason_codes
            .iter()
            .any(|r| r.code == code.as_str())
        {
            errors.push(
                "reason_code",
                format!(
                    "{:?} is not a reason code of {}; known: {}",
                    code.as_str(),
                    category.code,
                    category
                        .reason_codes
                        .iter()
                        .map(|r| r.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    match category {
        Some(category) if errors.is_empty() => Ok((targets, category)),
        _ => Err(PlanError::Invalid(errors)),
    }
}

/// A decision's severity: the case's when the category stands (signals
/// may have raised it), else the decided category's own.
pub fn decision_severity(case: &CaseFacts, category: &str, default: Severity) -> Severity {
    if case.category == category {
        case.severity.max(default)
    } else {
        default
    }
}

/// The matrix's recommendation for a case now, outside a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// The severity a decision in `category` would have.
    pub severity: Severity,
    /// What the matrix recommends.
    pub actions: Vec<ActionSpec>,
    /// Which recommended actions would still wait for a lead, and why.
    pub approvals: Vec<Vec<ApprovalReason>>,
}

/// What the matrix recommends for `case` if decided in `category`, and
/// which of it would still need approval (a ban on a first offence, a
/// protected account).
pub fn recommend(
    policy: &EnforcementPolicy,
    case: &CaseFacts,
    account: Option<&AccountFacts>,
    category: &PolicyCategory,
) -> Recommendation {
    let severity = decision_severity(case, &category.code, category.severity);
    let situation = Situation {
        category: &category.code,
        severity,
        prior_strike_weight: account.map_or(0, |a| a.active_strike_weight),
        subject_kind: case.subject.kind,
        has_account: account.is_some(),
        account_tags: account.map_or(&[], |a| a.tags.as_slice()),
    };
    let actions = assess(policy, &situation, &[]).recommendation;
    let approvals = assess(policy, &situation, &actions).approvals;
    Recommendation {
        severity,
        actions,
        approvals,
    }
}

fn situation<'f>(facts: &'f DecisionFacts, category: &'f str, severity: Severity) -> Situation<'f> {
    Situation {
        category,
        severity,
        prior_strike_weight: facts.account.as_ref().map_or(0, |a| a.active_strike_weight),
        subject_kind: facts.case.subject.kind,
        has_account: facts.account.is_some(),
        account_tags: facts.account.as_ref().map_or(&[], |a| a.tags.as_slice()),
    }
}

/// The reason for a departure: the one given, else the rationale's action
/// section (where the contract asks why the action is proportionate).
fn override_reason(
    command: &DecideCommand,
    assessment: Option<&Assessment>,
) -> Result<Option<String>, PlanError> {
    if let Some(given) = &command.override_reason {
        return Ok(Some(given.as_str().to_string()));
    }
    let Some((assessment, departure)) =
        assessment.and_then(|a| a.departure.map(|departure| (a, departure)))
    else {
        return Ok(None);
    };
    let fallback = command.decision.rationale.action.trim();
    if !fallback.is_empty() {
        return Ok(Some(fallback.to_string()));
    }
    Err(PlanError::invalid(
        "override_reason",
        format!(
            "the actions ({}) are {} the enforcement matrix's recommendation ({}): say why in override_reason",
            describe(&command.decision.actions),
            departure.as_str(),
            describe(&assessment.recommendation)
        ),
    ))
}

fn describe(actions: &[ActionSpec]) -> String {
    if actions.is_empty() {
        return "no action".into();
    }
    actions
        .iter()
        .map(|a| match a.duration {
            Some(d) => format!("{} {}", a.kind, format_iso8601_duration(d)),
            None => a.kind.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn plan_actions(
    input: &DecisionInput,
    targets: Vec<SubjectRef>,
    assessment: Option<&Assessment>,
    now: Timestamp,
) -> Vec<PlannedAction> {
    input
        .actions
        .iter()
        .zip(targets)
        .enumerate()
        .map(|(index, (spec, target))| {
            let approval_reasons = assessment
                .and_then(|a| a.approvals.get(index))
                .cloned()
                .unwrap_or_default();
            let waits = !approval_reasons.is_empty();
            PlannedAction {
                spec: spec.clone(),
                target,
                status: if waits {
                    ActionStatus::PendingApproval
                } else {
                    ActionStatus::Pending
                },
                approval_reasons,
                duration_seconds: spec.duration.map(|d| d.num_seconds()),
                expires_at: spec.duration.filter(|_| !waits).map(|d| now + d),
            }
        })
        .collect()
}

/// Apply each standard action now and, for a temporary one, lift it when
/// it ends (written now, so that expiry survives restarts).
fn plan_deliveries(actions: &[PlannedAction], now: Timestamp) -> Vec<PlannedDelivery<usize>> {
    let mut deliveries = Vec::new();
    for (index, action) in actions.iter().enumerate() {
        if action.status != ActionStatus::Pending {
            continue;
        }
        let names_statement = dsa::restricts(&action.spec.kind);
        deliveries.push(PlannedDelivery {
            action: index,
            kind: DeliveryKind::Apply,
            due: now,
            names_statement,
        });
        if let Some(expires_at) = action.expires_at {
            deliveries.push(PlannedDelivery {
                action: index,
                kind: DeliveryKind::Lift,
                due: expires_at,
                names_statement,
            });
        }
    }
    deliveries
}

/// The restrictions a statement of reasons tells of, when one is due: none
/// while an action waits, none when nothing in force restricts.
pub(crate) fn restrictions_due<'a>(
    actions: impl Iterator<
        Item = (
            &'a crate::decision::ActionKind,
            ActionStatus,
            Option<Timestamp>,
        ),
    >,
) -> Option<Vec<Restriction>> {
    let mut restrictions = Vec::new();
    for (kind, status, expires_at) in actions {
        if status == ActionStatus::PendingApproval {
            return None;
        }
        if status.is_effective() && dsa::restricts(kind) {
            restrictions.push(Restriction {
                kind: kind.clone(),
                ends_on: expires_at.map(|t| t.date_naive()),
            });
        }
    }
    (!restrictions.is_empty()).then_some(restrictions)
}

fn plan_statement(
    facts: &DecisionFacts,
    input: &DecisionInput,
    actions: &[PlannedAction],
    now: Timestamp,
) -> Result<Option<StatementDraft>, PlanError> {
    let Some(restrictions) = restrictions_due(
        actions
            .iter()
            .map(|a| (&a.spec.kind, a.status, a.expires_at)),
    ) else {
        return Ok(None);
    };
    let decision = StatedDecision {
        category: &input.category,
        policy_id: input.policy.as_deref(),
        rationale: &input.rationale,
        automated: facts.author.is_none(),
    };
    StatementDraft::assemble(
        decision,
        restrictions,
        &facts.taxonomy.policy,
        &facts.statement,
        now.date_naive(),
    )
    .map(Some)
    .map_err(PlanError::Invalid)
}

fn plan_notices(
    facts: &DecisionFacts,
    command: &DecideCommand,
    actions: &[PlannedAction],
    statement: bool,
    now: Timestamp,
) -> Vec<PlannedNotice<usize>> {
    let policy: &EnforcementPolicy = &facts.taxonomy.policy;
    actions
        .iter()
        .enumerate()
        .filter(|(_, action)| action.status == ActionStatus::Pending)
        .filter_map(|(index, action)| {
            let draft = NoticeDraft {
                kind: action.spec.kind.type_name(),
                action: &action.spec.kind,
                target: &action.target,
                subject_owner: facts.subject_owner.as_ref(),
                duration_seconds: action.duration_seconds,
                expires_at: action.expires_at,
                category: &command.decision.category,
                reason_code: command.reason_code.as_ref().map(|c| c.as_str()),
                policy_id: command.decision.policy.as_deref(),
                policy,
                language: facts.case.language.as_ref(),
                statement,
                now,
            };
            plan_notice(index, &draft, &facts.templates)
        })
        .collect()
}

/// How long an action lasts, for lifts and notices: its duration from `now`.
pub(crate) fn ends_at(duration_seconds: Option<i64>, now: Timestamp) -> Option<Timestamp> {
    duration_seconds.map(|s| now + Duration::seconds(s))
}
