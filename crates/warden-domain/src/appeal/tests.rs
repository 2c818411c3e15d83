//! Appeals without a database: the body at its limits, the window, intake
//! (duplicate, conflict, open, join), routing, the independence rule and
//! the outcome planner, with property tests of what must always hold.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::access::Role;
use crate::action::{ActionStatus, DeliveryStatus};
use crate::case::{CaseStatus, Severity};
use crate::decision::{ActionKind, ActionSpec, Rationale};
use crate::dsa::StatementFacts;
use crate::enforcement::{
    AccountFacts, ActionReversal, CaseFacts, DecisionContext, DecisionFacts, DeliveryFacts,
    EnforcementPolicy, OrderedAction, SupersededDecision, TaxonomyVersion,
};
use crate::escalation::EscalationPolicy;
use crate::ids::{
    ActionId, CaseId, DecisionId, LanguageTag, PlatformId, SubjectKind, SubjectRef, UserId, Version,
};
use crate::intake::ReportSource;
use crate::limits::{
    APPEAL_APPELLANTS_MAX, APPEAL_CLOCK_SKEW_SECONDS_MAX, APPEAL_STATEMENT_CHARS_MAX,
};
use crate::notice::{NoticeOutcome, NoticeTemplate, REVERSAL};
use crate::routing::{QueueDefinition, Router};
use crate::taxonomy::Taxonomy;
use crate::webhook::DeliveryKind;
use crate::{FieldErrors, Timestamp};

const ANNA: UserId = UserId(7);
const LEA: UserId = UserId(8);

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn reference(kind: SubjectKind, id: &str) -> SubjectRef {
    SubjectRef::new(kind, PlatformId::parse(id).unwrap())
}

fn fields<T: std::fmt::Debug>(result: Result<T, FieldErrors>) -> Vec<String> {
    result.unwrap_err().0.into_iter().map(|e| e.field).collect()
}

// ------------------------------------------------------------- the body

fn input() -> AppealInput {
    AppealInput {
        id: Some("apl_9".into()),
        decision_id: Some(20),
        action_id: Some(30),
        appellant: Some(AppellantInput {
            kind: Some("account".into()),
            id: Some("a1".into()),
        }),
        statement: Some("I was quoting the post to report it.".into()),
        language: Some("de".into()),
        created_at: Some("2026-03-03T10:00:00Z".into()),
    }
}

#[test]
fn the_body_is_parsed_with_every_field_error() {
    let appeal = NewAppeal::parse(&input()).unwrap();
    assert_eq!(appeal.decision, DecisionId(20));
    assert_eq!(appeal.action, Some(ActionId(30)));
    assert_eq!(appeal.appellant, reference(SubjectKind::Account, "a1"));
    assert_eq!(appeal.created_at, Some(t0() + Duration::hours(25)));
    assert_eq!(
        fields(NewAppeal::parse(&AppealInput::default())),
        ["id", "decision_id", "appellant", "statement"]
    );
    let bad = AppealInput {
        id: Some("apl\u{202E}9".into()),
        decision_id: Some(0),
        action_id: Some(-3),
        appellant: Some(AppellantInput {
            kind: Some("content".into()),
            id: None,
        }),
        statement: Some("  ".into()),
        language: Some("en_GB".into()),
        created_at: Some("yesterday".into()),
    };
    assert_eq!(
        fields(NewAppeal::parse(&bad)),
        [
            "id",
            "decision_id",
            "action_id",
            "appellant.kind",
            "appellant.id",
            "statement",
            "language",
            "created_at"
        ]
    );
    let statement = |n: usize| AppealInput {
        statement: Some("é".repeat(n)),
        ..input()
    };
    assert!(NewAppeal::parse(&statement(APPEAL_STATEMENT_CHARS_MAX)).is_ok());
    assert_eq!(
        fields(NewAppeal::parse(&statement(APPEAL_STATEMENT_CHARS_MAX + 1))),
        ["statement"]
    );
    let bare = AppealInput {
        action_id: None,
        language: None,
        created_at: None,
        ..input()
    };
    assert!(
        NewAppeal::parse(&bare).is_ok(),
        "only these may be left out"
    );
}

#[test]
fn fingerprints_tell_repeats_from_changes() {
    let appeal = NewAppeal::parse(&input()).unwrap();
    assert_eq!(
        appeal.fingerprint(),
        NewAppeal::parse(&input()).unwrap().fingerprint()
    );
    let mut other = appeal.clone();
    other.statement.push('!');
    assert_ne!(appeal.fingerprint(), other.fingerprint());
    let mut upper = input();
    upper.language = Some("DE".into());
    assert_eq!(
        NewAppeal::parse(&upper).unwrap().fingerprint(),
        appeal.fingerprint(),
        "language tags compare without case"
    );
}

// ------------------------------------------------------------- the window

#[test]
fn the_window_is_six_months_by_default_and_at_least_six() {
    let window = AppealWindow::default();
    assert_eq!(window.months(), 6);
    assert!(AppealWindow::new(5).is_err());
    assert!(AppealWindow::new(6).is_ok());
    assert!(AppealWindow::new(60).is_ok());
    assert!(AppealWindow::new(61).is_err());
    let decided = Utc.with_ymd_and_hms(2026, 8, 31, 12, 0, 0).unwrap();
    assert_eq!(
        window.closes_at(decided),
        Utc.with_ymd_and_hms(2027, 2, 28, 12, 0, 0).unwrap(),
        "the last day of a shorter month"
    );
    let closes = window.closes_at(t0());
    let now = closes + Duration::days(1);
    assert_eq!(window.check(t0(), closes, now), Ok(()));
    let late = window
        .check(t0(), closes + Duration::seconds(1), now)
        .unwrap_err();
    assert!(late.contains("closed on 2026-09-02T09:00:00Z"), "{late}");
    assert!(window
        .check(t0(), t0() - Duration::seconds(1), now)
        .unwrap_err()
        .contains("before"));
    let skew = Duration::seconds(APPEAL_CLOCK_SKEW_SECONDS_MAX);
    assert_eq!(window.check(t0(), t0() + skew, t0()), Ok(()));
    assert!(window
        .check(t0(), t0() + skew + Duration::seconds(1), t0())
        .unwrap_err()
        .contains("future"));
}

// ------------------------------------------------------------- intake

fn router() -> Router {
    let mut queues = EscalationPolicy::default().missing_queues(&Router::new(Vec::new()).unwrap());
    queues.push(appeals_queue_definition());
    Router::new(queues).unwrap()
}

fn appealed() -> AppealedDecision {
    AppealedDecision {
        id: DecisionId(20),
        case: CaseId(1),
        category: "spam".into(),
        severity: Severity::High,
        decided_at: t0(),
        actions: vec![ActionId(30), ActionId(31), ActionId(32)],
        decider: Some(AppealParty {
            user: ANNA,
            role: Role::Analyst,
        }),
        subject: reference(SubjectKind::Content, "p1"),
        reversed: false,
        superseded_by: None,
    }
}

fn intake_facts() -> AppealIntakeFacts {
    AppealIntakeFacts {
        same_id: None,
        decision: Some(appealed()),
        open_appeal: None,
    }
}

fn intake(facts: &AppealIntakeFacts, appeal: &NewAppeal) -> Result<AppealIntakePlan, FieldErrors> {
    plan_appeal_intake(
        facts,
        appeal,
        &AppealWindow::default(),
        &AppealRouting::default(),
        &router(),
        t0() + Duration::days(2),
    )
}

#[test]
fn an_appeal_opens_a_case_in_the_appeals_queue() {
    let appeal = NewAppeal::parse(&input()).unwrap();
    let AppealIntakePlan::Open(open) = intake(&intake_facts(), &appeal).unwrap() else {
        panic!("expected a new appeal");
    };
    assert_eq!(open.queue, "appeals");
    assert_eq!(open.kind, CaseKind::Appeal);
    assert_eq!(open.original_case, CaseId(1));
    assert_eq!(open.appealed_at, t0() + Duration::hours(25));
    assert_eq!(open.decider.map(|d| d.user), Some(ANNA));
    assert_eq!(
        open.deadlines.resolve_due_at,
        t0() + Duration::days(2) + Duration::hours(48),
        "the appeals queue's own target for a high-severity case"
    );
    let received = NewAppeal {
        created_at: None,
        ..appeal
    };
    let AppealIntakePlan::Open(open) = intake(&intake_facts(), &received).unwrap() else {
        panic!("expected a new appeal");
    };
    assert_eq!(
        open.appealed_at,
        t0() + Duration::days(2),
        "the time of receipt"
    );
}

#[test]
fn intake_is_idempotent_and_joins_the_open_appeal() {
    let appeal = NewAppeal::parse(&input()).unwrap();
    let mut stored = intake_facts();
    stored.same_id = Some(appeal.fingerprint());
    stored.decision = None;
    assert_eq!(intake(&stored, &appeal), Ok(AppealIntakePlan::Duplicate));
    let mut changed = appeal.clone();
    changed.statement = "other words".into();
    assert_eq!(intake(&stored, &changed), Ok(AppealIntakePlan::Conflict));

    let mut open = intake_facts();
    open.open_appeal = Some(OpenAppeal {
        id: AppealId(5),
        case: CaseId(50),
        appellants: APPEAL_APPELLANTS_MAX - 1,
    });
    assert!(matches!(
        intake(&open, &appeal),
        Ok(AppealIntakePlan::Join {
            appeal: AppealId(5),
            case: CaseId(50),
            ..
        })
    ));
    open.open_appeal = Some(OpenAppeal {
        appellants: APPEAL_APPELLANTS_MAX,
        ..open.open_appeal.unwrap()
    });
    assert_eq!(fields(intake(&open, &appeal)), ["decision_id"]);
}

#[test]
fn intake_refuses_what_cannot_be_appealed() {
    let appeal = NewAppeal::parse(&input()).unwrap();
    let unknown = AppealIntakeFacts {
        decision: None,
        ..intake_facts()
    };
    assert_eq!(fields(intake(&unknown, &appeal)), ["decision_id"]);
    let mut superseded = intake_facts();
    superseded.decision.as_mut().unwrap().superseded_by = Some(DecisionId(21));
    let errors = intake(&superseded, &appeal).unwrap_err();
    assert!(errors.0[0].reason.contains("decision 21"), "{errors}");
    let mut reversed = intake_facts();
    reversed.decision.as_mut().unwrap().reversed = true;
    assert_eq!(fields(intake(&reversed, &appeal)), ["decision_id"]);
    let other_action = NewAppeal {
        action: Some(ActionId(99)),
        ..appeal.clone()
    };
    assert_eq!(
        fields(intake(&intake_facts(), &other_action)),
        ["action_id"]
    );
    let late = NewAppeal {
        created_at: Some(t0() + Duration::days(200)),
        ..appeal
    };
    let facts = intake_facts();
    let refused = plan_appeal_intake(
        &facts,
        &late,
        &AppealWindow::default(),
        &AppealRouting::default(),
        &router(),
        t0() + Duration::days(201),
    );
    assert_eq!(fields(refused), ["created_at"]);
}

// ------------------------------------------------------------- routing

#[test]
fn leads_route_categories_to_specialist_teams() {
    let teams = EscalationPolicy::default();
    let route = |category: &str, team: &str| AppealRoute {
        category: category.into(),
        team: team.into(),
    };
    let routing = AppealRouting::new(
        "appeals",
        &[
            route("child_safety", "child_safety"),
            route("scam", "fraud_ring"),
        ],
        &teams,
        &router(),
    )
    .unwrap();
    assert_eq!(routing.route("child_safety"), "child-safety");
    assert_eq!(routing.route("scam"), "fraud-ring");
    assert_eq!(routing.team_for("scam"), Some("fraud_ring"));
    assert_eq!(routing.route("spam"), "appeals");
    let refused = |queue: &str, routes: &[AppealRoute]| {
        AppealRouting::new(queue, routes, &teams, &router()).unwrap_err()
    };
    assert!(refused("nowhere", &[]).contains("not a queue"));
    assert!(refused("appeals", &[route("spam", "marketing")]).contains("no specialist team"));
    assert!(
        refused("appeals", &[route("spam", "legal"), route("spam", "legal")]).contains("twice")
    );
    assert!(refused("appeals", &[route("Spam", "legal")]).contains("category"));
    let queue = appeals_queue_definition();
    assert!(!queue.accepts_new);
    assert!(!queue.admits(Role::Qa, &[]));
    assert_eq!(
        queue.sla.target(Severity::Critical).first_touch,
        Duration::hours(1)
    );
}

// ------------------------------------------------------------- independence

fn party(user: i64, role: Role) -> AppealParty {
    AppealParty {
        user: UserId(user),
        role,
    }
}

#[test]
fn the_reviewer_is_never_the_decider_and_holds_at_least_their_role() {
    use Role::*;
    let lead = party(7, Lead);
    assert_eq!(
        may_review_appeal(&lead, Some(&lead)),
        Err(Refusal::OriginalDecider)
    );
    for (reviewer, decider, allowed) in [
        (Associate, Associate, true),
        (Analyst, Associate, true),
        (Lead, Associate, true),
        (Associate, Analyst, false),
        (Analyst, Analyst, true),
        (Lead, Analyst, true),
        (Associate, Lead, false),
        (Analyst, Lead, false),
        (Lead, Lead, true),
        (Analyst, Admin, false),
        (Lead, Admin, true),
    ] {
        assert_eq!(
            may_review_appeal(&party(1, reviewer), Some(&party(2, decider))).is_ok(),
            allowed,
            "{reviewer} reviewing a {decider}'s decision"
        );
    }
    assert_eq!(may_review_appeal(&party(1, Associate), None), Ok(()));
    for role in [Qa, Policy, Admin, Auditor] {
        assert_eq!(
            may_review_appeal(&party(1, role), None),
            Err(Refusal::RoleDoesNotDecide { role })
        );
        assert_eq!(AppealListingFilter::for_reviewer(&party(1, role)), None);
    }
    let refusal = may_review_appeal(&party(1, Analyst), Some(&party(2, Lead))).unwrap_err();
    assert_eq!(refusal.code(), "role_below_decider");
    assert!(refusal.to_string().contains("associate < analyst < lead"));
    assert_eq!(
        APPEAL_ROLE_ORDER.map(|r| appeal_rank(r).unwrap()),
        [1, 2, 3]
    );
}

fn any_role() -> impl Strategy<Value = Role> {
    proptest::sample::select(Role::ALL.to_vec())
}

proptest! {
    #[test]
    fn the_original_decider_is_never_accepted(user in 1..5i64, role in any_role(), decider_role in any_role()) {
        let reviewer = party(user, role);
        let decider = party(user, decider_role);
        prop_assert!(may_review_appeal(&reviewer, Some(&decider)).is_err());
        if let Some(filter) = AppealListingFilter::for_reviewer(&reviewer) {
            prop_assert!(!filter.admits(Some(&decider)));
        }
    }

    #[test]
    fn the_listing_filter_is_the_rule(
        reviewer in (1..4i64, any_role()),
        decider in proptest::option::of((1..4i64, any_role())),
    ) {
        let reviewer = party(reviewer.0, reviewer.1);
        let decider = decider.map(|(user, role)| party(user, role));
        let rule = may_review_appeal(&reviewer, decider.as_ref()).is_ok();
        let listed = AppealListingFilter::for_reviewer(&reviewer)
            .is_some_and(|filter| filter.admits(decider.as_ref()));
        prop_assert_eq!(listed, rule);
    }
}

// ------------------------------------------------------------- the command

fn rationale() -> Rationale {
    Rationale {
        what_happened: "the post quoted spam to warn others".into(),
        evidence: "the post's first line says so".into(),
        policy: "spam 2.1 excludes quotation for reporting".into(),
        action: "a warning instead of removal".into(),
        next_steps: String::new(),
    }
}

fn decide_input(outcome: &str) -> AppealDecideInput {
    AppealDecideInput {
        version: Some(2),
        outcome: Some(outcome.into()),
        rationale: rationale(),
        ..AppealDecideInput::default()
    }
}

#[test]
fn the_decision_command_names_every_field_at_fault() {
    let upheld = AppealDecideCommand::parse(CaseId(50), &decide_input("upheld")).unwrap();
    assert_eq!(upheld.verdict, AppealVerdict::Upheld);
    assert_eq!(
        fields(AppealDecideCommand::parse(
            CaseId(50),
            &AppealDecideInput::default()
        )),
        [
            "version",
            "outcome",
            "rationale.what_happened",
            "rationale.policy"
        ]
    );
    let mut overturned = decide_input("overturned");
    overturned.actions = vec![warn()];
    overturned.category = Some("spam".into());
    assert_eq!(
        fields(AppealDecideCommand::parse(CaseId(50), &overturned)),
        ["actions", "category"]
    );
    let mut modified = decide_input("modified");
    modified.actions = vec![warn()];
    modified.category = Some("Spam".into());
    modified.extras.override_reason = Some(" ".into());
    assert_eq!(
        fields(AppealDecideCommand::parse(CaseId(50), &modified)),
        ["category"]
    );
    modified.category = None;
    let command = AppealDecideCommand::parse(CaseId(50), &modified).unwrap();
    let AppealVerdict::Modified(replacement) = command.verdict else {
        panic!("expected a modification");
    };
    assert_eq!(replacement.actions, [warn()]);
    assert_eq!(replacement.override_reason, None, "blank is no reason");
    assert_eq!(
        fields(AppealDecideCommand::parse(
            CaseId(50),
            &decide_input("reversed")
        )),
        ["outcome"]
    );
}

// ------------------------------------------------------------- the planner

fn spec(kind: ActionKind) -> ActionSpec {
    ActionSpec {
        kind,
        duration: None,
    }
}

fn warn() -> ActionSpec {
    spec(ActionKind::Warn)
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

fn action_templates() -> Vec<NoticeTemplate> {
    vec![
        template(1, "remove_content", "en", "We removed {{subject_id}}."),
        template(2, "warn", "en", "A warning under {{category_name}}."),
        template(4, REVERSAL, "en", "We reversed {{action_name}}."),
    ]
}

fn appeal_templates() -> Vec<NoticeTemplate> {
    vec![
        template(10, "appeal.upheld", "en", "Appeal {{appeal_id}}: decision {{decision_id}} stands."),
        template(11, "appeal.upheld", "de", "Einspruch {{appeal_id}}: Entscheidung {{decision_id}} bleibt."),
        template(12, "appeal.overturned", "en", "Appeal {{appeal_id}}: we reversed decision {{original_decision_id}}; see {{statement_id}}."),
        template(13, "appeal.modified", "en", "Appeal {{appeal_id}}: decision {{decision_id}} replaces {{original_decision_id}} ({{statement_id}})."),
    ]
}

fn delivery(id: i64, kind: DeliveryKind, status: DeliveryStatus, attempts: i64) -> DeliveryFacts {
    DeliveryFacts {
        id,
        kind,
        status,
        attempts,
    }
}

fn policy() -> EnforcementPolicy {
    EnforcementPolicy::default_for(&Taxonomy::default())
}

fn original_actions() -> Vec<OrderedAction> {
    let action =
        |id: i64, kind: ActionKind, target: SubjectRef, status, deliveries| OrderedAction {
            id: ActionId(id),
            kind,
            target,
            duration_seconds: None,
            expires_at: None,
            status,
            deliveries,
        };
    vec![
        action(
            30,
            ActionKind::RemoveContent,
            reference(SubjectKind::Content, "p1"),
            ActionStatus::Applied,
            vec![delivery(
                100,
                DeliveryKind::Apply,
                DeliveryStatus::Confirmed,
                1,
            )],
        ),
        action(
            31,
            ActionKind::Warn,
            reference(SubjectKind::Account, "a1"),
            ActionStatus::Pending,
            vec![delivery(
                102,
                DeliveryKind::Apply,
                DeliveryStatus::Pending,
                0,
            )],
        ),
        action(
            32,
            ActionKind::Suspend,
            reference(SubjectKind::Account, "a1"),
            ActionStatus::PendingApproval,
            Vec::new(),
        ),
    ]
}

fn original() -> OriginalDecision {
    OriginalDecision {
        decision: SupersededDecision {
            context: DecisionContext {
                id: DecisionId(20),
                case: CaseId(1),
                category: "spam".into(),
                reason_code: None,
                policy_id: Some("spam-2.1".into()),
                rationale: rationale(),
                author: Some(ANNA),
                language: None,
                subject_owner: Some(reference(SubjectKind::Account, "a1")),
                policy: policy(),
            },
            actions: original_actions(),
            active_strikes: vec![40],
        },
        decider: Some(party(ANNA.0, Role::Analyst)),
        reversed: false,
        superseded_by: None,
        statement_id: Some("warden-sor-20".into()),
    }
}

fn case(id: i64, status: CaseStatus, holder: Option<UserId>) -> CaseFacts {
    CaseFacts {
        id: CaseId(id),
        version: Version(2),
        subject: reference(SubjectKind::Content, "p1"),
        category: "spam".into(),
        severity: Severity::Low,
        status,
        assignee: holder.map(|u| format!("user{}", u.0)),
        assignee_id: holder,
        lease_expires_at: holder.map(|_| t0() + Duration::minutes(10)),
        held: false,
        resolved_at: (status == CaseStatus::Resolved).then(|| t0() - Duration::days(1)),
        language: None,
        opened_at: t0() - Duration::days(2),
        signal_count: 0,
    }
}

fn item(id: &str, account: &str, language: Option<&str>) -> AppealItem {
    AppealItem {
        id: PlatformId::parse(id).unwrap(),
        appellant: reference(SubjectKind::Account, account),
        language: language.map(|l| LanguageTag::parse(l).unwrap()),
        appealed_at: t0() - Duration::hours(20),
    }
}

fn facts() -> AppealFacts {
    AppealFacts {
        appeal: AppealRecord {
            id: AppealId(5),
            decision: DecisionId(20),
            items: vec![
                item("apl_9", "a1", Some("de-AT")),
                item("apl_10", "a2", None),
            ],
            outcome: None,
        },
        case: case(50, CaseStatus::InReview, Some(LEA)),
        reviewer: party(LEA.0, Role::Lead),
        original: original(),
        original_case: DecisionFacts {
            case: case(1, CaseStatus::Resolved, None),
            subject_owner: Some(reference(SubjectKind::Account, "a1")),
            account: Some(AccountFacts {
                reference: reference(SubjectKind::Account, "a1"),
                tags: Vec::new(),
                account_type: None,
                active_strike_weight: 0,
            }),
            author: None,
            taxonomy: TaxonomyVersion {
                version: 2,
                policy: policy(),
            },
            templates: action_templates(),
            statement: StatementFacts {
                subject_kind: SubjectKind::Content,
                media_types: Vec::new(),
                account_type: None,
                language: None,
                content_date: (t0() - Duration::days(3)).date_naive(),
                sources: vec![ReportSource::UserReport],
                signal_count: 0,
            },
            superseded: None,
        },
        templates: appeal_templates(),
    }
}

fn command(verdict: AppealVerdict) -> AppealDecideCommand {
    AppealDecideCommand {
        case: CaseId(50),
        expected: Version(2),
        verdict,
        rationale: rationale(),
    }
}

fn modified(actions: Vec<ActionSpec>) -> AppealVerdict {
    AppealVerdict::Modified(Replacement {
        category: None,
        policy: None,
        actions,
        reason_code: None,
        override_reason: None,
    })
}

fn conflict(result: Result<AppealPlan, AppealError>) -> String {
    match result {
        Err(AppealError::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn upheld_changes_no_action_and_tells_each_appellant() {
    let plan = plan_appeal_decision(&facts(), &command(AppealVerdict::Upheld), t0()).unwrap();
    assert_eq!(plan.outcome(), AppealOutcome::Upheld);
    assert!(plan.reversal.is_none() && plan.replacement.is_none());
    assert_eq!(plan.case.status, CaseStatus::Resolved);
    assert_eq!(plan.case.audit_action, "appeal.decide");
    assert_eq!(plan.resolution.reviewer.user, LEA);
    let bodies: Vec<String> = plan
        .notices
        .iter()
        .map(|n| n.render(plan.notice_decision(None)).unwrap().body)
        .collect();
    assert_eq!(
        bodies,
        [
            "Einspruch apl_9: Entscheidung 20 bleibt.",
            "Appeal apl_10: decision 20 stands."
        ],
        "by language, falling back to English"
    );
    assert_eq!(
        plan.notices[0].recipient,
        reference(SubjectKind::Account, "a1")
    );
    assert_eq!(
        plan.notices[1].recipient,
        reference(SubjectKind::Account, "a2")
    );
    let update = plan.statement_update.unwrap();
    assert_eq!(update.statement_id, "warden-sor-20");
    assert!(!update.withdrawn);
}

#[test]
fn overturned_reverses_the_decision_and_voids_its_strikes() {
    let plan = plan_appeal_decision(&facts(), &command(AppealVerdict::Overturned), t0()).unwrap();
    let reversal = plan.reversal.as_ref().unwrap();
    assert!(reversal.marks_decision);
    assert_eq!(reversal.strikes_voided, [40]);
    assert_eq!(
        reversal.reason.text(None),
        "appeal 5 overturned the decision"
    );
    let [ActionReversal::Undo(applied), ActionReversal::Undo(unsent), ActionReversal::Reject { action, .. }] =
        reversal.actions.as_slice()
    else {
        panic!("{:?}", reversal.actions);
    };
    assert_eq!(
        applied.undo.as_ref().map(|d| d.kind),
        Some(DeliveryKind::Reverse)
    );
    assert!(applied.notice.is_some(), "the user heard of the removal");
    assert_eq!(unsent.cancelled, [102]);
    assert!(unsent.undo.is_none());
    assert_eq!(*action, ActionId(32));
    let notice = plan.notices[1].render(plan.notice_decision(None)).unwrap();
    assert_eq!(
        notice.body,
        "Appeal apl_10: we reversed decision 20; see warden-sor-20."
    );
    assert_eq!(
        plan.notices[0].outcome,
        NoticeOutcome::Queued,
        "de-AT falls back to English when no German template exists"
    );
    let update = plan.statement_update.unwrap();
    assert!(update.withdrawn && !update.replaced_by_statement);
}

#[test]
fn modified_replaces_the_decision_through_the_decision_rules() {
    let plan = plan_appeal_decision(&facts(), &command(modified(vec![warn()])), t0()).unwrap();
    let replacement = plan.replacement.as_ref().unwrap();
    assert_eq!(replacement.decision.case, CaseId(1), "on the original case");
    assert_eq!(replacement.decision.supersedes, Some(DecisionId(20)));
    assert_eq!(replacement.decision.author, Some(LEA));
    assert_eq!(replacement.decision.category, "spam");
    assert_eq!(replacement.case.audit_action, "case.correct");
    assert_eq!(replacement.actions.len(), 1);
    assert_eq!(replacement.actions[0].status, ActionStatus::Pending);
    let correction = replacement.correction.as_ref().unwrap();
    assert_eq!(correction.strikes_voided, [40]);
    assert_eq!(correction.reversal.actions.len(), 3);
    assert!(
        replacement.strike.is_some(),
        "a violation still leaves a strike"
    );
    assert!(
        replacement.statement.is_none(),
        "a warning restricts nothing"
    );
    // The template names a statement the replacement does not have: the
    // notice is refused at planning, never sent with a hole.
    assert_eq!(
        plan.notices[1].outcome,
        NoticeOutcome::Refused(vec!["statement_id".into()])
    );
    assert_eq!(plan.notices[1].render(DecisionId(21)), None);
    let update = plan.statement_update.unwrap();
    assert!(update.withdrawn && !update.replaced_by_statement);

    let removal = plan_appeal_decision(
        &facts(),
        &command(modified(vec![spec(ActionKind::RemoveContent)])),
        t0(),
    )
    .unwrap();
    assert!(removal.replacement.as_ref().unwrap().statement.is_some());
    assert_eq!(removal.notices[1].outcome, NoticeOutcome::Queued);
    assert_eq!(
        removal.notices[1]
            .render(removal.notice_decision(Some(DecisionId(21))))
            .unwrap()
            .body,
        "Appeal apl_10: decision 21 replaces 20 (warden-sor-21)."
    );
    assert!(removal.statement_update.unwrap().replaced_by_statement);
}

#[test]
fn a_replacement_the_decision_rules_refuse_is_refused() {
    let mut unknown = Replacement {
        category: Some(crate::ids::TaxonomyCode::parse("nonsense").unwrap()),
        policy: None,
        actions: vec![warn()],
        reason_code: None,
        override_reason: None,
    };
    match plan_appeal_decision(
        &facts(),
        &command(AppealVerdict::Modified(unknown.clone())),
        t0(),
    ) {
        Err(AppealError::Invalid(errors)) => assert_eq!(errors.0[0].field, "category"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    unknown.category = None;
    unknown.actions = vec![spec(ActionKind::HoldTransaction)];
    match plan_appeal_decision(&facts(), &command(AppealVerdict::Modified(unknown)), t0()) {
        Err(AppealError::Invalid(errors)) => assert_eq!(errors.0[0].field, "actions[0].type"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn appeal_decisions_refuse_whom_and_what_they_must() {
    let upheld = command(AppealVerdict::Upheld);
    let mut own = facts();
    own.reviewer = party(ANNA.0, Role::Lead);
    own.case = case(50, CaseStatus::InReview, Some(ANNA));
    assert_eq!(
        plan_appeal_decision(&own, &upheld, t0()),
        Err(AppealError::Refused(Refusal::OriginalDecider))
    );
    let mut junior = facts();
    junior.reviewer = party(9, Role::Associate);
    junior.case = case(50, CaseStatus::InReview, Some(UserId(9)));
    assert!(matches!(
        plan_appeal_decision(&junior, &upheld, t0()),
        Err(AppealError::Refused(Refusal::RoleBelowDecider { .. }))
    ));
    let mut unheld = facts();
    unheld.case = case(50, CaseStatus::InReview, Some(UserId(9)));
    assert!(conflict(plan_appeal_decision(&unheld, &upheld, t0())).contains("held by user9"));
    let mut stale = command(AppealVerdict::Upheld);
    stale.expected = Version(1);
    assert!(conflict(plan_appeal_decision(&facts(), &stale, t0())).contains("version 2"));
    let mut decided = facts();
    decided.appeal.outcome = Some(AppealOutcome::Upheld);
    assert!(conflict(plan_appeal_decision(&decided, &upheld, t0())).contains("decided already"));
    let mut superseded = facts();
    superseded.original.superseded_by = Some(DecisionId(22));
    assert!(conflict(plan_appeal_decision(&superseded, &upheld, t0())).contains("decision 22"));
    let mut reversed = facts();
    reversed.original.reversed = true;
    assert!(conflict(plan_appeal_decision(&reversed, &upheld, t0())).contains("only be overturned"));
    let overturned =
        plan_appeal_decision(&reversed, &command(AppealVerdict::Overturned), t0()).unwrap();
    assert!(overturned.reversal.is_none(), "nothing left in force");
    assert_eq!(overturned.notices.len(), 2);
    let mut reopened = facts();
    reopened.original_case.case.status = CaseStatus::Reopened;
    assert!(conflict(plan_appeal_decision(
        &reopened,
        &command(modified(vec![])),
        t0()
    ))
    .contains("reopened"));
}

// ------------------------------------------------------------- properties

fn any_status() -> impl Strategy<Value = ActionStatus> {
    proptest::sample::select(ActionStatus::ALL.to_vec())
}

fn with_statuses(statuses: &[ActionStatus], strikes: &[i64]) -> AppealFacts {
    let mut facts = facts();
    let actions = &mut facts.original.decision.actions;
    let template = actions[0].clone();
    actions.clear();
    for (index, status) in statuses.iter().enumerate() {
        let id = 30 + index as i64;
        actions.push(OrderedAction {
            id: ActionId(id),
            status: *status,
            deliveries: vec![delivery(
                100 + id,
                DeliveryKind::Apply,
                DeliveryStatus::Delivered,
                1,
            )],
            ..template.clone()
        });
    }
    facts.original.decision.active_strikes = strikes.to_vec();
    facts
}

/// Each original action the plan touches, with how often.
fn touched(actions: &[ActionReversal]) -> Vec<ActionId> {
    actions
        .iter()
        .map(|a| match a {
            ActionReversal::Reject { action, .. } => *action,
            ActionReversal::Undo(undo) => undo.action,
        })
        .collect()
}

fn must_reverse(status: ActionStatus) -> bool {
    status == ActionStatus::PendingApproval || status.can_become(ActionStatus::Reversed)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn an_overturned_plan_reverses_every_action_once_and_voids_every_strike(
        statuses in proptest::collection::vec(any_status(), 0..8),
        strikes in proptest::collection::btree_set(1..1_000i64, 0..5),
    ) {
        let strikes: Vec<i64> = strikes.into_iter().collect();
        let facts = with_statuses(&statuses, &strikes);
        let plan = plan_appeal_decision(&facts, &command(AppealVerdict::Overturned), t0()).unwrap();
        let reversal = plan.reversal.unwrap();
        prop_assert_eq!(&reversal.strikes_voided, &strikes, "no strike of the original stays active");
        let touched = touched(&reversal.actions);
        for (index, status) in statuses.iter().enumerate() {
            let id = ActionId(30 + index as i64);
            let times = touched.iter().filter(|t| **t == id).count();
            prop_assert_eq!(times, usize::from(must_reverse(*status)), "{:?}", status);
        }
        prop_assert!(plan.replacement.is_none());
    }

    #[test]
    fn a_modified_plan_reverses_every_action_once_too(
        statuses in proptest::collection::vec(any_status(), 0..8),
        strikes in proptest::collection::btree_set(1..1_000i64, 0..5),
    ) {
        let strikes: Vec<i64> = strikes.into_iter().collect();
        let facts = with_statuses(&statuses, &strikes);
        let plan = plan_appeal_decision(&facts, &command(modified(vec![warn()])), t0()).unwrap();
        let correction = plan.replacement.unwrap().correction.unwrap();
        prop_assert_eq!(&correction.strikes_voided, &strikes);
        let touched = touched(&correction.reversal.actions);
        for (index, status) in statuses.iter().enumerate() {
            let id = ActionId(30 + index as i64);
            prop_assert_eq!(
                touched.iter().filter(|t| **t == id).count(),
                usize::from(must_reverse(*status))
            );
        }
    }

    #[test]
    fn upheld_changes_no_action(
        statuses in proptest::collection::vec(any_status(), 0..8),
        strikes in proptest::collection::btree_set(1..1_000i64, 0..5),
    ) {
        let strikes: Vec<i64> = strikes.into_iter().collect();
        let facts = with_statuses(&statuses, &strikes);
        let plan = plan_appeal_decision(&facts, &command(AppealVerdict::Upheld), t0()).unwrap();
        prop_assert!(plan.reversal.is_none());
        prop_assert!(plan.replacement.is_none());
        prop_assert!(plan.statement_update.is_some_and(|u| !u.withdrawn));
    }

    #[test]
    fn the_original_decider_never_decides_the_appeal(
        role in any_role(),
        verdict in proptest::sample::select(vec![0u8, 1, 2]),
    ) {
        let mut facts = facts();
        facts.reviewer = party(ANNA.0, role);
        facts.case = case(50, CaseStatus::InReview, Some(ANNA));
        let verdict = match verdict {
            0 => AppealVerdict::Upheld,
            1 => AppealVerdict::Overturned,
            _ => modified(vec![warn()]),
        };
        let result = plan_appeal_decision(&facts, &command(verdict), t0());
        prop_assert!(matches!(result, Err(AppealError::Refused(_))), "{:?}", result);
    }
}

#[test]
fn outcomes_and_kinds_round_trip() {
    for outcome in AppealOutcome::ALL {
        assert_eq!(outcome.as_str().parse(), Ok(outcome));
        assert!(crate::notice::is_appeal_kind(outcome.template_kind()));
    }
    for kind in [CaseKind::Report, CaseKind::Appeal] {
        assert_eq!(kind.as_str().parse(), Ok(kind));
    }
    assert!("reopened".parse::<AppealOutcome>().is_err());
    let _ = QueueDefinition::catch_all("x");
}
