//! The planners without a database: decisions, approvals and reversals
//! from hand-built facts, at the limits they check (max and max+1), and
//! property tests of the decision rights.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::action::{ActionStatus, DeliveryStatus};
use crate::case::{CaseStatus, Severity};
use crate::decision::{ActionKind, ActionSpec, DecisionInput, OverrideReason, Rationale};
use crate::dsa::StatementFacts;
use crate::ids::{
    ActionId, CaseId, DecisionId, LanguageTag, PlatformId, SubjectKind, SubjectRef, TaxonomyCode,
    UserId, Version,
};
use crate::intake::ReportSource;
use crate::limits::{
    ACTION_DURATION_SECONDS_MAX, CODE_BYTES_MAX, DECISION_ACTIONS_MAX, OVERRIDE_REASON_CHARS_MAX,
    RATIONALE_SECTION_CHARS_MAX,
};
use crate::notice::{NoticeOutcome, NoticeTemplate, REVERSAL};
use crate::taxonomy::Taxonomy;
use crate::webhook::DeliveryKind;
use crate::Timestamp;

const ANNA: UserId = UserId(7);
const LEA: UserId = UserId(8);

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn reference(kind: SubjectKind, id: &str) -> SubjectRef {
    SubjectRef::new(kind, PlatformId::parse(id).unwrap())
}

fn spec(kind: ActionKind, days: Option<i64>) -> ActionSpec {
    ActionSpec {
        kind,
        duration: days.map(Duration::days),
    }
}

fn remove() -> ActionSpec {
    spec(ActionKind::RemoveContent, None)
}

fn warn() -> ActionSpec {
    spec(ActionKind::Warn, None)
}

fn template(id: i64, kind: &str, language: &str, body: &str) -> NoticeTemplate {
    NoticeTemplate {
        id,
        action_type: kind.into(),
        category: "*".into(),
        language: language.into(),
        subject: format!("About your {kind}"),
        body: body.into(),
    }
}

fn templates() -> Vec<NoticeTemplate> {
    vec![
        template(
            1,
            "remove_content",
            "en",
            "We removed {{subject_kind}} {{subject_id}} ({{category_name}}).",
        ),
        template(
            2,
            "warn",
            "en",
            "A warning under {{category_name}}; see {{statement_id}}.",
        ),
        template(3, "suspend", "en", "Suspended until {{end_date}}."),
        template(
            4,
            REVERSAL,
            "en",
            "We reversed {{action_name}} (decision {{decision_id}}).",
        ),
    ]
}

/// A spam report about post p1 of account a1, held by Anna.
fn facts() -> DecisionFacts {
    DecisionFacts {
        case: CaseFacts {
            id: CaseId(1),
            version: Version(3),
            subject: reference(SubjectKind::Content, "p1"),
            category: "spam".into(),
            severity: Severity::Low,
            status: CaseStatus::InReview,
            assignee: Some("anna".into()),
            assignee_id: Some(ANNA),
            lease_expires_at: Some(t0() + Duration::minutes(10)),
            held: false,
            resolved_at: None,
            language: None,
            opened_at: t0() - Duration::hours(1),
            signal_count: 0,
        },
        subject_owner: Some(reference(SubjectKind::Account, "a1")),
        account: Some(AccountFacts {
            reference: reference(SubjectKind::Account, "a1"),
            tags: Vec::new(),
            account_type: None,
            active_strike_weight: 0,
        }),
        author: Some(ANNA),
        taxonomy: TaxonomyVersion {
            version: 1,
            policy: EnforcementPolicy::default_for(&Taxonomy::default()),
        },
        templates: templates(),
        statement: StatementFacts {
            subject_kind: SubjectKind::Content,
            media_types: Vec::new(),
            account_type: None,
            language: None,
            content_date: (t0() - Duration::days(1)).date_naive(),
            sources: vec![ReportSource::UserReport],
            signal_count: 0,
        },
        superseded: None,
    }
}

fn rationale(action: &str) -> Rationale {
    Rationale {
        what_happened: "posted the same link forty times".into(),
        evidence: "posts p1..p40".into(),
        policy: "spam 2.1".into(),
        action: action.into(),
        next_steps: String::new(),
    }
}

fn input(actions: Vec<ActionSpec>, action_reason: &str) -> DecisionInput {
    DecisionInput {
        violation: true,
        category: "spam".into(),
        policy: Some("spam-2.1".into()),
        actions,
        rationale: rationale(action_reason),
    }
}

fn command(actions: Vec<ActionSpec>) -> DecideCommand {
    DecideCommand::new(
        CaseId(1),
        Version(3),
        input(actions, "standard"),
        DecisionMode::First,
    )
}

fn conflict(result: Result<DecisionPlan, PlanError>) -> String {
    match result {
        Err(PlanError::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn invalid_fields(result: Result<DecisionPlan, PlanError>) -> Vec<String> {
    match result {
        Err(PlanError::Invalid(errors)) => errors.0.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_standard_decision_goes_out_with_its_notices_statement_and_strike() {
    let plan = plan_decision(&facts(), &command(vec![remove(), warn()]), t0()).unwrap();
    assert!(plan
        .actions
        .iter()
        .all(|a| a.status == ActionStatus::Pending));
    assert_eq!(
        plan.actions[0].target,
        reference(SubjectKind::Content, "p1")
    );
    assert_eq!(
        plan.actions[1].target,
        reference(SubjectKind::Account, "a1")
    );
    let deliveries: Vec<(usize, DeliveryKind, bool)> = plan
        .deliveries
        .iter()
        .map(|d| (d.action, d.kind, d.names_statement))
        .collect();
    assert_eq!(
        deliveries,
        [
            (0, DeliveryKind::Apply, true),
            (1, DeliveryKind::Apply, false)
        ]
    );
    let statement = plan
        .statement
        .as_ref()
        .expect("a removal needs a statement");
    let built = statement.build(DecisionId(41));
    assert_eq!(built["puid"], "warden-sor-41");
    assert_eq!(
        built["decision_visibility"],
        serde_json::json!(["DECISION_VISIBILITY_CONTENT_REMOVED"])
    );
    assert_eq!(plan.notices.len(), 2);
    assert!(plan
        .notices
        .iter()
        .all(|n| n.outcome == NoticeOutcome::Queued));
    let warning = plan.notices[1].render(DecisionId(41)).unwrap();
    assert_eq!(warning.body, "A warning under Spam; see warden-sor-41.");
    let strike = plan.strike.as_ref().unwrap();
    assert_eq!(
        (strike.weight, strike.expires_at),
        (1, t0() + Duration::days(90))
    );
    assert_eq!(plan.enforcement.departure, None);
    assert_eq!(plan.case.status, CaseStatus::Resolved);
    assert_eq!(plan.case.resolved_at, t0());
    assert_eq!(plan.case.audit_action, "case.decide");
    assert_eq!(plan.decision.author, Some(ANNA));
}

#[test]
fn a_non_standard_action_waits_with_no_delivery_and_no_statement() {
    let mut command = command(vec![remove(), warn(), spec(ActionKind::Suspend, Some(7))]);
    command.override_reason = Some(OverrideReason::parse("a known spam ring").unwrap());
    let plan = plan_decision(&facts(), &command, t0()).unwrap();
    let statuses: Vec<ActionStatus> = plan.actions.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            ActionStatus::Pending,
            ActionStatus::Pending,
            ActionStatus::PendingApproval
        ]
    );
    assert_eq!(
        plan.actions[2].expires_at, None,
        "its clock starts when approved"
    );
    assert_eq!(plan.actions[2].duration_seconds, Some(7 * 86_400));
    assert!(plan.deliveries.iter().all(|d| d.action != 2));
    assert!(plan.notices.iter().all(|n| n.action != 2));
    assert!(
        plan.statement.is_none(),
        "no statement while an action waits"
    );
    assert_eq!(
        plan.approvals().collect::<Vec<_>>(),
        [(2, &[ApprovalReason::BeyondMatrix][..])]
    );
    assert_eq!(plan.enforcement.departure, Some(Departure::Above));
    assert_eq!(
        plan.enforcement.override_reason.as_deref(),
        Some("a known spam ring")
    );
}

#[test]
fn a_temporary_action_is_lifted_when_it_ends() {
    let mut facts = facts();
    facts.account.as_mut().unwrap().active_strike_weight = 6;
    let plan = plan_decision(
        &facts,
        &command(vec![remove(), spec(ActionKind::Suspend, Some(7))]),
        t0(),
    )
    .unwrap();
    let end = t0() + Duration::days(7);
    assert_eq!(plan.actions[1].expires_at, Some(end));
    assert!(plan
        .deliveries
        .iter()
        .any(|d| d.action == 1 && d.kind == DeliveryKind::Lift && d.due == end));
    let suspended = plan.notices[1].render(DecisionId(1)).unwrap();
    assert_eq!(
        suspended.body,
        format!("Suspended until {}.", end.format("%Y-%m-%d"))
    );
}

#[test]
fn who_may_decide() {
    let facts = facts();
    let mut stale = command(vec![]);
    stale.decision.violation = false;
    stale.decision.rationale.evidence.clear();
    stale.expected = Version(2);
    assert!(conflict(plan_decision(&facts, &stale, t0())).contains("version 3, not 2"));

    let mut ben = facts.clone();
    ben.author = Some(UserId(9));
    let message = conflict(plan_decision(&ben, &command(vec![remove(), warn()]), t0()));
    assert!(message.contains("held by anna"), "{message}");

    let late = t0() + Duration::minutes(11);
    let message = conflict(plan_decision(
        &facts,
        &command(vec![remove(), warn()]),
        late,
    ));
    assert!(message.contains("your lease"), "{message}");

    let mut resolved = facts.clone();
    resolved.case.status = CaseStatus::Resolved;
    resolved.case.assignee = None;
    resolved.case.assignee_id = None;
    let message = conflict(plan_decision(
        &resolved,
        &command(vec![remove(), warn()]),
        t0(),
    ));
    assert!(message.contains("needs a lead"), "{message}");

    let mut correction = command(vec![remove(), warn()]);
    correction.mode = DecisionMode::Correction;
    let message = conflict(plan_decision(&facts, &correction, t0()));
    assert!(message.contains("no decision to correct"), "{message}");
}

#[test]
fn targets_categories_and_reason_codes_are_checked_together() {
    let mut facts = facts();
    facts.subject_owner = None;
    facts.account = None;
    let mut command = command(vec![remove(), warn()]);
    command.decision.category = "no_such_category".into();
    assert_eq!(
        invalid_fields(plan_decision(&facts, &command, t0())),
        ["actions[1].type", "category"]
    );
    let mut command = self::command(vec![remove()]);
    command.reason_code = Some(TaxonomyCode::parse("scam.romance").unwrap());
    assert_eq!(
        invalid_fields(plan_decision(&self::facts(), &command, t0())),
        ["reason_code"]
    );
    command.reason_code = Some(TaxonomyCode::parse("spam.links").unwrap());
    command.decision.actions.push(warn());
    let plan = plan_decision(&self::facts(), &command, t0()).unwrap();
    assert_eq!(plan.enforcement.reason_code.as_deref(), Some("spam.links"));
}

#[test]
fn a_departure_needs_a_reason() {
    let mut command = command(vec![]);
    command.decision.rationale.action.clear();
    match plan_decision(&facts(), &command, t0()) {
        Err(PlanError::Invalid(errors)) => {
            assert_eq!(errors.0[0].field, "override_reason");
            assert!(
                errors.0[0].reason.contains("remove_content + warn"),
                "{errors}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The rationale's action section serves as the reason.
    command.decision.rationale.action = "the platform closed the account already".into();
    let plan = plan_decision(&facts(), &command, t0()).unwrap();
    assert_eq!(plan.enforcement.departure, Some(Departure::Below));
    assert_eq!(
        plan.enforcement.override_reason.as_deref(),
        Some("the platform closed the account already")
    );
}

// ------------------------------------------------------------------ limits

#[test]
fn actions_at_their_limit() {
    let labels = |n: usize| -> Vec<ActionSpec> {
        (0..n)
            .map(|i| {
                spec(
                    ActionKind::Label {
                        label: format!("l{i}"),
                    },
                    None,
                )
            })
            .collect()
    };
    let mut facts = facts();
    facts.account = None;
    let mut at_max = command(labels(DECISION_ACTIONS_MAX));
    at_max.override_reason = Some(OverrideReason::parse("labels only").unwrap());
    assert_eq!(
        plan_decision(&facts, &at_max, t0()).unwrap().actions.len(),
        DECISION_ACTIONS_MAX
    );
    let mut over = command(labels(DECISION_ACTIONS_MAX + 1));
    over.override_reason = at_max.override_reason.clone();
    assert_eq!(
        invalid_fields(plan_decision(&facts, &over, t0())),
        ["actions"]
    );
}

#[test]
fn rationale_sections_at_their_limit() {
    let mut at_max = command(vec![remove(), warn()]);
    at_max.decision.rationale.what_happened = "é".repeat(RATIONALE_SECTION_CHARS_MAX);
    assert!(plan_decision(&facts(), &at_max, t0()).is_ok());
    let mut over = at_max.clone();
    over.decision.rationale.what_happened.push('é');
    assert_eq!(
        invalid_fields(plan_decision(&facts(), &over, t0())),
        ["rationale.what_happened"]
    );
}

#[test]
fn policy_ids_at_their_limit() {
    let mut at_max = command(vec![remove(), warn()]);
    at_max.decision.policy = Some("p".repeat(256));
    assert!(plan_decision(&facts(), &at_max, t0()).is_ok());
    at_max.decision.policy = Some("p".repeat(257));
    assert_eq!(
        invalid_fields(plan_decision(&facts(), &at_max, t0())),
        ["policy"]
    );
}

#[test]
fn durations_at_their_limit() {
    let mut facts = facts();
    facts.account.as_mut().unwrap().active_strike_weight = 50;
    let suspend = |seconds: i64| ActionSpec {
        kind: ActionKind::Suspend,
        duration: Some(Duration::seconds(seconds)),
    };
    let mut at_max = command(vec![remove(), suspend(ACTION_DURATION_SECONDS_MAX)]);
    at_max.override_reason = Some(OverrideReason::parse("a long one").unwrap());
    let plan = plan_decision(&facts, &at_max, t0()).unwrap();
    assert_eq!(
        plan.actions[1].duration_seconds,
        Some(ACTION_DURATION_SECONDS_MAX)
    );
    let mut over = at_max.clone();
    over.decision.actions[1] = suspend(ACTION_DURATION_SECONDS_MAX + 1);
    assert_eq!(
        invalid_fields(plan_decision(&facts, &over, t0())),
        ["actions[1].duration"]
    );
    over.decision.actions[1] = suspend(0);
    assert_eq!(
        invalid_fields(plan_decision(&facts, &over, t0())),
        ["actions[1].duration"]
    );
}

#[test]
fn extras_at_their_limits() {
    let extras = |reason: String, code: String| DecisionExtras {
        override_reason: Some(reason),
        reason_code: Some(code),
    };
    let at_max = DecideCommand::with_extras(
        CaseId(1),
        Version(3),
        input(vec![], ""),
        &extras(
            "é".repeat(OVERRIDE_REASON_CHARS_MAX),
            "s".repeat(CODE_BYTES_MAX),
        ),
        DecisionMode::First,
    )
    .unwrap();
    assert_eq!(
        at_max
            .override_reason
            .as_ref()
            .unwrap()
            .as_str()
            .chars()
            .count(),
        OVERRIDE_REASON_CHARS_MAX
    );
    let over = DecideCommand::with_extras(
        CaseId(1),
        Version(3),
        input(vec![], ""),
        &extras(
            "é".repeat(OVERRIDE_REASON_CHARS_MAX + 1),
            "s".repeat(CODE_BYTES_MAX + 1),
        ),
        DecisionMode::First,
    )
    .unwrap_err();
    let fields: Vec<&str> = over.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["reason_code", "override_reason"],
        "every error reported"
    );
    // A planned override reason is kept as given, up to its limit.
    let plan = plan_decision(&facts(), &at_max, t0());
    assert_eq!(
        invalid_fields(plan),
        ["reason_code"],
        "ssss... is no reason code of spam"
    );
}

// ------------------------------------------------------------- notices

#[test]
fn notices_fall_back_by_language_and_refuse_unfilled_variables() {
    let mut facts = facts();
    facts.case.language = Some(LanguageTag::parse("de-AT").unwrap());
    facts.templates.push(NoticeTemplate {
        category: "spam".into(),
        ..template(10, "remove_content", "de", "Entfernt: {{subject_id}}.")
    });
    facts
        .templates
        .push(template(11, "warn", "de-at", "Bis {{end_date}}."));
    let plan = plan_decision(&facts, &command(vec![remove(), warn()]), t0()).unwrap();
    assert_eq!(plan.notices[0].language, "de");
    assert_eq!(
        plan.notices[0].render(DecisionId(1)).unwrap().body,
        "Entfernt: p1."
    );
    assert_eq!(plan.notices[1].language, "de-at");
    assert_eq!(
        plan.notices[1].outcome,
        NoticeOutcome::Refused(vec!["end_date".into()])
    );
    assert!(plan.notices[1].render(DecisionId(1)).is_none());
    // No template at all: nothing to send.
    facts.templates.clear();
    let plan = plan_decision(&facts, &command(vec![remove(), warn()]), t0()).unwrap();
    assert!(plan
        .notices
        .iter()
        .all(|n| n.outcome == NoticeOutcome::NoTemplate && n.language == "de-AT"));
}

// ---------------------------------------------------------- corrections

fn delivery(id: i64, kind: DeliveryKind, status: DeliveryStatus, attempts: i64) -> DeliveryFacts {
    DeliveryFacts {
        id,
        kind,
        status,
        attempts,
    }
}

fn superseded() -> SupersededDecision {
    let facts = facts();
    SupersededDecision {
        context: DecisionContext {
            id: DecisionId(20),
            case: CaseId(1),
            category: "spam".into(),
            reason_code: None,
            policy_id: None,
            rationale: rationale("standard"),
            author: Some(ANNA),
            language: None,
            subject_owner: facts.subject_owner.clone(),
            policy: facts.taxonomy.policy.clone(),
        },
        actions: vec![
            // Delivered: it may have reached the platform.
            OrderedAction {
                id: ActionId(30),
                kind: ActionKind::RemoveContent,
                target: reference(SubjectKind::Content, "p1"),
                duration_seconds: None,
                expires_at: None,
                status: ActionStatus::Delivered,
                deliveries: vec![
                    delivery(100, DeliveryKind::Apply, DeliveryStatus::Delivered, 1),
                    delivery(101, DeliveryKind::Notice, DeliveryStatus::Pending, 0),
                ],
            },
            // Never sent: cancelled, no undo, no notice.
            OrderedAction {
                id: ActionId(31),
                kind: ActionKind::Warn,
                target: reference(SubjectKind::Account, "a1"),
                duration_seconds: None,
                expires_at: None,
                status: ActionStatus::Pending,
                deliveries: vec![
                    delivery(102, DeliveryKind::Apply, DeliveryStatus::Pending, 0),
                    delivery(103, DeliveryKind::Notice, DeliveryStatus::Pending, 0),
                ],
            },
            // Waiting: rejected.
            OrderedAction {
                id: ActionId(32),
                kind: ActionKind::Suspend,
                target: reference(SubjectKind::Account, "a1"),
                duration_seconds: Some(86_400),
                expires_at: None,
                status: ActionStatus::PendingApproval,
                deliveries: Vec::new(),
            },
        ],
        active_strikes: vec![40],
    }
}

fn correction_facts() -> DecisionFacts {
    let mut facts = facts();
    facts.case.status = CaseStatus::Resolved;
    facts.case.resolved_at = Some(t0() - Duration::minutes(30));
    facts.case.assignee = None;
    facts.case.assignee_id = None;
    facts.author = Some(LEA);
    facts.superseded = Some(superseded());
    facts
}

#[test]
fn a_correction_supersedes_reverses_and_voids() {
    let mut command = command(vec![]);
    command.mode = DecisionMode::Correction;
    command.decision.violation = false;
    command.decision.rationale.evidence.clear();
    let plan = plan_decision(&correction_facts(), &command, t0()).unwrap();
    assert_eq!(plan.decision.supersedes, Some(DecisionId(20)));
    assert_eq!(plan.case.audit_action, "case.correct");
    assert_eq!(
        plan.case.resolved_at,
        t0() - Duration::minutes(30),
        "first resolution kept"
    );
    assert!(plan.strike.is_none());
    let correction = plan.correction.as_ref().unwrap();
    assert_eq!(correction.strikes_voided, [40]);
    assert_eq!(
        correction.reversal.reason.text(Some(DecisionId(21))),
        "superseded by decision 21"
    );
    assert!(!correction.reversal.marks_decision);
    let [ActionReversal::Undo(delivered), ActionReversal::Undo(unsent), ActionReversal::Reject { action, .. }] =
        correction.reversal.actions.as_slice()
    else {
        panic!("{:?}", correction.reversal.actions);
    };
    assert_eq!(*action, ActionId(32));
    assert_eq!(delivered.cancelled, [101], "its unsent notice");
    assert!(delivered.undo.is_some());
    let notice = delivered.notice.as_ref().unwrap();
    assert_eq!(
        notice.render(DecisionId(20)).unwrap().body,
        "We reversed removal of your content (decision 20)."
    );
    assert_eq!(unsent.cancelled, [102, 103]);
    assert_eq!(unsent.unsent_notices_cancelled, 1);
    assert!(unsent.undo.is_none() && unsent.notice.is_none());
}

// ------------------------------------------------------------- approvals

fn approval_facts() -> ApprovalFacts {
    let old = superseded();
    ApprovalFacts {
        decision: old.context,
        actions: old.actions,
        approver: Some(LEA),
        statement_id: None,
        statement: facts().statement,
        templates: templates(),
    }
}

fn ruling(action: i64, ruling: Ruling) -> ApprovalCommand {
    ApprovalCommand {
        action: ActionId(action),
        ruling,
        note: "ring confirmed".into(),
    }
}

#[test]
fn approvals_start_the_clock_and_write_the_statement() {
    let plan = plan_approval(&approval_facts(), &ruling(32, Ruling::Approve), t0()).unwrap();
    assert_eq!(plan.status, ActionStatus::Pending);
    assert_eq!(plan.expires_at, Some(t0() + Duration::days(1)));
    let kinds: Vec<(DeliveryKind, Timestamp)> =
        plan.deliveries.iter().map(|d| (d.kind, d.due)).collect();
    assert_eq!(
        kinds,
        [
            (DeliveryKind::Apply, t0()),
            (DeliveryKind::Lift, t0() + Duration::days(1))
        ]
    );
    assert_eq!(plan.statement_id.as_deref(), Some("warden-sor-20"));
    let statement = plan.statement.as_ref().unwrap().build(DecisionId(20));
    assert_eq!(statement["decision_account"], "DECISION_ACCOUNT_SUSPENDED");
    assert!(plan.notice.is_some());

    let rejected = plan_approval(&approval_facts(), &ruling(32, Ruling::Reject), t0()).unwrap();
    assert_eq!(rejected.status, ActionStatus::Rejected);
    assert!(rejected.deliveries.is_empty() && rejected.notice.is_none());
    // The removal in force still needs its statement once nothing waits.
    assert!(rejected.statement.is_some());

    let mut written = approval_facts();
    written.statement_id = Some("warden-sor-20".into());
    let again = plan_approval(&written, &ruling(32, Ruling::Approve), t0()).unwrap();
    assert!(again.statement.is_none(), "a statement is written once");
    assert_eq!(again.statement_id.as_deref(), Some("warden-sor-20"));
}

#[test]
fn only_waiting_actions_are_ruled_on_and_never_by_their_author() {
    let mut own = approval_facts();
    own.approver = Some(ANNA);
    let message = match plan_approval(&own, &ruling(32, Ruling::Approve), t0()) {
        Err(PlanError::Conflict(message)) => message,
        other => panic!("{other:?}"),
    };
    assert!(message.contains("another lead"), "{message}");
    assert!(matches!(
        plan_approval(&approval_facts(), &ruling(30, Ruling::Reject), t0()),
        Err(PlanError::Conflict(_))
    ));
}

// ------------------------------------------------------------- reversals

fn reversal_facts() -> ReversalFacts {
    let old = superseded();
    ReversalFacts {
        decision: old.context,
        actions: old.actions,
        active_strikes: old.active_strikes,
        reversed: false,
        superseded_by: None,
        templates: templates(),
    }
}

#[test]
fn reversals_of_actions_and_decisions() {
    let lead = |target| ReversalCommand {
        target,
        reason: "a quote, not spam".into(),
    };
    let one = plan_reversal(
        &reversal_facts(),
        &lead(ReversalTarget::Action(ActionId(30))),
        t0(),
    )
    .unwrap();
    assert_eq!(one.actions.len(), 1);
    assert!(one.strikes_voided.is_empty() && !one.marks_decision);
    let waiting = plan_reversal(
        &reversal_facts(),
        &lead(ReversalTarget::Action(ActionId(32))),
        t0(),
    );
    assert!(matches!(waiting, Err(PlanError::Conflict(ref m)) if m.contains("reject it instead")));

    let whole = plan_reversal(&reversal_facts(), &lead(ReversalTarget::Decision), t0()).unwrap();
    assert_eq!(whole.actions.len(), 3);
    assert_eq!(whole.strikes_voided, [40]);
    assert!(whole.marks_decision);
    assert_eq!(whole.reason.text(None), "a quote, not spam");

    let mut reversed = reversal_facts();
    reversed.reversed = true;
    assert!(plan_reversal(&reversed, &lead(ReversalTarget::Decision), t0()).is_err());
    let mut superseded = reversal_facts();
    superseded.superseded_by = Some(DecisionId(21));
    assert!(matches!(
        plan_reversal(&superseded, &lead(ReversalTarget::Decision), t0()),
        Err(PlanError::Conflict(ref m)) if m.contains("superseded")
    ));
}

// ------------------------------------------------------------ properties

fn any_action() -> impl Strategy<Value = ActionSpec> {
    prop_oneof![
        Just(remove()),
        Just(warn()),
        (1..60i64).prop_map(|days| spec(
            ActionKind::Restrict {
                feature: "posting".into()
            },
            Some(days)
        )),
        (1..60i64).prop_map(|days| spec(ActionKind::Suspend, Some(days))),
        Just(spec(ActionKind::Ban, None)),
        Just(spec(
            ActionKind::Label {
                label: "satire".into()
            },
            None
        )),
    ]
}

fn any_tags() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        prop_oneof![
            Just("partner".to_string()),
            Just("high_visibility".to_string()),
            Just("verified".to_string()),
            Just("new".to_string()),
        ],
        0..3,
    )
}

fn any_status() -> impl Strategy<Value = ActionStatus> {
    proptest::sample::select(ActionStatus::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whoever made a decision never rules on its actions; anyone else may
    /// rule on an action that waits.
    #[test]
    fn a_plan_never_approves_its_own_authors_action(
        author in proptest::option::of(1..5i64),
        approver in proptest::option::of(1..5i64),
        approve in any::<bool>(),
        status in any_status(),
    ) {
        let mut facts = approval_facts();
        facts.decision.author = author.map(UserId);
        facts.approver = approver.map(UserId);
        facts.actions[2].status = status;
        let ruling = if approve { Ruling::Approve } else { Ruling::Reject };
        let result = plan_approval(&facts, &self::ruling(32, ruling), t0());
        let own = author.is_some() && author == approver;
        if own || status != ActionStatus::PendingApproval {
            prop_assert!(matches!(result, Err(PlanError::Conflict(_))), "{result:?}");
        } else {
            let plan = result.unwrap();
            prop_assert_eq!(plan.status, if approve { ActionStatus::Pending } else { ActionStatus::Rejected });
        }
    }

    /// On an account with a protected tag, every action of a decision waits
    /// for a lead, and nothing leaves before.
    #[test]
    fn a_decision_on_a_protected_account_always_waits(
        actions in proptest::collection::vec(any_action(), 0..6),
        tags in any_tags(),
        strikes in 0..20i64,
        subject_is_account in any::<bool>(),
    ) {
        let mut facts = facts();
        if subject_is_account {
            facts.case.subject = reference(SubjectKind::Account, "a1");
            facts.statement.subject_kind = SubjectKind::Account;
        }
        let account = facts.account.as_mut().unwrap();
        account.tags = tags.clone();
        account.active_strike_weight = strikes;
        let protected = tags.iter().any(|t| facts.taxonomy.policy.protected_tags.contains(t));
        let mut command = command(actions);
        command.override_reason = Some(OverrideReason::parse("property test").unwrap());
        // Some generated actions do not fit the subject: those are refused.
        if let Ok(plan) = plan_decision(&facts, &command, t0()) {
            if protected {
                prop_assert!(plan.actions.iter().all(|a| a.status == ActionStatus::PendingApproval));
                prop_assert!(plan.deliveries.is_empty());
                prop_assert!(plan.notices.is_empty());
                prop_assert!(plan.statement.is_none());
            }
            for action in &plan.actions {
                prop_assert_eq!(
                    action.status == ActionStatus::PendingApproval,
                    !action.approval_reasons.is_empty()
                );
            }
        }
    }

    /// A correction voids every active strike of the decision it
    /// supersedes, and reverses or rejects everything it put in force.
    #[test]
    fn a_correction_never_leaves_a_superseded_strike_active(
        strikes in proptest::collection::vec(1..1_000i64, 0..5),
        statuses in proptest::collection::vec(any_status(), 3),
        violation in any::<bool>(),
        author in proptest::option::of(1..5i64),
    ) {
        let mut facts = correction_facts();
        facts.author = author.map(UserId);
        let old = facts.superseded.as_mut().unwrap();
        old.active_strikes = strikes.clone();
        for (action, status) in old.actions.iter_mut().zip(&statuses) {
            action.status = *status;
        }
        let mut command = command(if violation { vec![remove(), warn()] } else { vec![] });
        command.mode = DecisionMode::Correction;
        command.decision.violation = violation;
        if !violation {
            command.decision.rationale.evidence.clear();
        }
        let plan = plan_decision(&facts, &command, t0()).unwrap();
        let correction = plan.correction.unwrap();
        let mut voided = correction.strikes_voided.clone();
        voided.sort_unstable();
        let mut expected = strikes;
        expected.sort_unstable();
        prop_assert_eq!(voided, expected);
        let touched: Vec<ActionId> = correction
            .reversal
            .actions
            .iter()
            .map(|r| match r {
                ActionReversal::Reject { action, .. } => *action,
                ActionReversal::Undo(undo) => undo.action,
            })
            .collect();
        for (action, status) in superseded().actions.iter().zip(&statuses) {
            let must = status.is_in_force() || *status == ActionStatus::PendingApproval;
            prop_assert_eq!(touched.contains(&action.id), must, "{:?}", status);
        }
    }
}
