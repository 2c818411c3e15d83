//! Incidents without a database: the body, the status table, impact,
//! membership by ids and by query at its limits, and the bulk planner —
//! its skips, its one approval, its limit (max and max+1) and the
//! property that a resumed run decides every case exactly once.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::access::{Principal, Role, Scope};
use crate::action::ActionStatus;
use crate::appeal::CaseKind;
use crate::case::Severity;
use crate::decision::{ActionKind, ActionSpec, Rationale};
use crate::dsa::StatementFacts;
use crate::enforcement::{AccountFacts, CaseFacts, EnforcementPolicy, PlanError, TaxonomyVersion};
use crate::ids::{DecisionId, LanguageTag, PlatformId, SubjectKind, Version};
use crate::intake::ReportSource;
use crate::limits::BULK_CASES_MAX;
use crate::notice::NoticeTemplate;
use crate::taxonomy::Taxonomy;
use crate::Timestamp;

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

// ------------------------------------------------------------- incidents

#[test]
fn incidents_are_parsed_with_every_field_error() {
    let input = IncidentInput {
        title: Some("  Crypto spam wave  ".into()),
        severity: Some("sev2".into()),
        description: Some("links to the same wallet\nsince 08:00".into()),
    };
    let incident = NewIncident::parse(&input).unwrap();
    assert_eq!(incident.title, "Crypto spam wave");
    assert_eq!(incident.severity, EscalationSeverity::Sev2);
    assert_eq!(
        fields(NewIncident::parse(&IncidentInput::default())),
        ["title", "severity"]
    );
    let title = |text: String| IncidentInput {
        title: Some(text),
        ..input.clone()
    };
    assert!(NewIncident::parse(&title("é".repeat(INCIDENT_TITLE_CHARS_MAX))).is_ok());
    assert_eq!(
        fields(NewIncident::parse(&title(
            "é".repeat(INCIDENT_TITLE_CHARS_MAX + 1)
        ))),
        ["title"]
    );
    assert_eq!(
        fields(NewIncident::parse(&title("wave\u{202E}".into()))),
        ["title"]
    );
    let long = IncidentInput {
        description: Some("d".repeat(INCIDENT_DESCRIPTION_CHARS_MAX + 1)),
        severity: Some("critical".into()),
        ..input
    };
    assert_eq!(
        fields(NewIncident::parse(&long)),
        ["severity", "description"]
    );
}

fn incident(status: IncidentStatus, entries: usize) -> Incident {
    Incident {
        id: IncidentId(3),
        title: "wave".into(),
        severity: EscalationSeverity::Sev2,
        description: String::new(),
        owner: LEA,
        status,
        opened_at: t0(),
        timeline_entries: entries,
    }
}

#[test]
fn incidents_go_open_contained_resolved() {
    use IncidentStatus::*;
    let allowed: Vec<(IncidentStatus, IncidentStatus)> = IncidentStatus::ALL
        .into_iter()
        .flat_map(|from| IncidentStatus::ALL.into_iter().map(move |to| (from, to)))
        .filter(|(from, to)| from.can_become(*to))
        .collect();
    assert_eq!(
        allowed,
        [
            (Open, Contained),
            (Open, Resolved),
            (Contained, Open),
            (Contained, Resolved)
        ]
    );
    let entry = plan_status_change(&incident(Open, 0), Contained, LEA, t0())
        .unwrap()
        .unwrap();
    assert_eq!(entry.event.describe(), "open → contained");
    assert!(plan_status_change(&incident(Resolved, 0), Open, LEA, t0())
        .unwrap_err()
        .contains("resolved to open"));
    let full = INCIDENT_TIMELINE_ENTRIES_MAX;
    assert!(timeline_entry(&incident(Open, full - 1), IncidentEvent::Opened, None, t0()).is_some());
    assert_eq!(
        timeline_entry(&incident(Open, full), IncidentEvent::Opened, None, t0()),
        None
    );
    for status in IncidentStatus::ALL {
        assert_eq!(status.as_str().parse(), Ok(status));
    }
}

#[test]
fn impact_counts_cases_accounts_and_the_window() {
    let case = |id: i64, account: Option<&str>, hours: i64, status| IncidentCaseFacts {
        case: CaseId(id),
        account: account.map(|a| reference(SubjectKind::Account, a)),
        opened_at: t0() + Duration::hours(hours),
        status,
    };
    let impact = impact(&[
        case(1, Some("a1"), 0, CaseStatus::New),
        case(2, Some("a1"), 3, CaseStatus::Resolved),
        case(3, Some("a2"), -2, CaseStatus::InReview),
        case(4, None, 1, CaseStatus::New),
    ]);
    assert_eq!(
        impact,
        Impact {
            cases: 4,
            open_cases: 3,
            accounts: 2,
            window: Some((t0() - Duration::hours(2), t0() + Duration::hours(3))),
        }
    );
    assert_eq!(super::impact(&[]).window, None);
}

// ------------------------------------------------------------- membership

#[test]
fn queries_use_the_case_lists_filters() {
    let input = CaseQueryInput {
        queue: Some("spam".into()),
        status: Some("new,in_review,new".into()),
        language: Some("de".into()),
        ..CaseQueryInput::default()
    };
    let query = CaseQuery::parse(&input, "query").unwrap();
    assert_eq!(query.statuses, [CaseStatus::New, CaseStatus::InReview]);
    let case = |language: Option<&str>, status| CaseQueryFacts {
        queue: "spam".into(),
        status,
        assignee: None,
        subject: reference(SubjectKind::Content, "p1"),
        category: "spam".into(),
        severity: Severity::Low,
        language: language.map(|l| LanguageTag::parse(l).unwrap()),
    };
    assert!(query.matches(&case(Some("de-AT"), CaseStatus::New), None));
    assert!(query.matches(&case(Some("DE"), CaseStatus::InReview), None));
    assert!(!query.matches(&case(Some("den"), CaseStatus::New), None));
    assert!(!query.matches(&case(None, CaseStatus::New), None));
    assert!(!query.matches(&case(Some("de"), CaseStatus::Resolved), None));
    let mine = CaseQuery::parse(
        &CaseQueryInput {
            assignee: Some("me".into()),
            ..CaseQueryInput::default()
        },
        "query",
    )
    .unwrap();
    let mut held = case(None, CaseStatus::InReview);
    held.assignee = Some(LEA);
    assert!(mine.matches(&held, Some(LEA)));
    assert!(!mine.matches(&held, Some(UserId(9))));
    assert!(!mine.matches(&case(None, CaseStatus::New), Some(LEA)));

    assert_eq!(
        fields(CaseQuery::parse(&CaseQueryInput::default(), "query")),
        ["query"]
    );
    let bad = CaseQueryInput {
        queue: Some("Spam Queue".into()),
        status: Some("new,closed".into()),
        assignee: Some("a b".into()),
        subject_kind: Some("post".into()),
        subject_id: Some("p1".into()),
        category: Some("Spam".into()),
        severity: Some("urgent".into()),
        language: Some("de_AT".into()),
    };
    assert_eq!(
        fields(CaseQuery::parse(&bad, "query")),
        [
            "query.queue",
            "query.status",
            "query.assignee",
            "query.subject_kind",
            "query.category",
            "query.severity",
            "query.language"
        ]
    );
    let half = CaseQueryInput {
        subject_id: Some("p1".into()),
        ..CaseQueryInput::default()
    };
    assert_eq!(
        fields(CaseQuery::parse(&half, "query")),
        ["query.subject_kind"]
    );
}

#[test]
fn membership_by_ids_or_query_at_its_limits() {
    let ids = |ids: Vec<i64>| MembershipInput {
        case_ids: Some(ids),
        query: None,
    };
    assert_eq!(
        Membership::parse(&ids(vec![3, 1, 3])).unwrap(),
        Membership::Ids(vec![CaseId(3), CaseId(1)])
    );
    assert_eq!(
        fields(Membership::parse(&MembershipInput::default())),
        ["case_ids"]
    );
    assert_eq!(fields(Membership::parse(&ids(Vec::new()))), ["case_ids"]);
    let errors = Membership::parse(&ids((-12..=0).collect())).unwrap_err();
    assert!(errors.0[0].reason.contains("-12, -11"), "{errors}");
    assert!(errors.0[0].reason.contains("and 3 more"), "{errors}");
    assert!(Membership::parse(&ids((1..=INCIDENT_CASES_MAX as i64).collect())).is_ok());
    assert_eq!(
        fields(Membership::parse(&ids(
            (1..=INCIDENT_CASES_MAX as i64 + 1).collect()
        ))),
        ["case_ids"]
    );
    let query = Membership::parse(&MembershipInput {
        case_ids: None,
        query: Some(CaseQueryInput {
            category: Some("spam".into()),
            ..CaseQueryInput::default()
        }),
    })
    .unwrap();

    let found = |n: i64| (1..=n).map(CaseId).collect::<Vec<_>>();
    let facts = |members, found, already| MembershipFacts {
        members,
        found,
        already_members: already,
    };
    let plan = plan_membership(
        &Membership::Ids(vec![CaseId(1), CaseId(2)]),
        &facts(5, found(2), vec![CaseId(2)]),
    )
    .unwrap();
    assert_eq!(
        plan,
        MembershipPlan {
            add: vec![CaseId(1)],
            already_members: 1
        }
    );
    let unknown = plan_membership(
        &Membership::Ids(vec![CaseId(1), CaseId(9)]),
        &facts(0, found(1), Vec::new()),
    )
    .unwrap_err();
    assert!(unknown.0[0].reason.contains("no case 9"), "{unknown}");
    let max = INCIDENT_CASES_MAX as i64;
    assert_eq!(
        plan_membership(&query, &facts(0, found(max), Vec::new()))
            .unwrap()
            .add
            .len(),
        INCIDENT_CASES_MAX
    );
    assert_eq!(
        fields(plan_membership(
            &query,
            &facts(0, found(max + 1), Vec::new())
        )),
        ["query"]
    );
    assert!(plan_membership(&query, &facts(INCIDENT_CASES_MAX - 1, found(1), Vec::new())).is_ok());
    assert_eq!(
        fields(plan_membership(
            &query,
            &facts(INCIDENT_CASES_MAX, found(1), Vec::new())
        )),
        ["query"]
    );
    assert!(
        plan_membership(
            &query,
            &facts(INCIDENT_CASES_MAX, found(1), vec![CaseId(1)])
        )
        .is_ok(),
        "members already change nothing"
    );
}

// ------------------------------------------------------------- bulk actions

fn context() -> BulkContext {
    let template = |id, kind: &str, body: &str| NoticeTemplate {
        id,
        action_type: kind.into(),
        category: "*".into(),
        language: "en".into(),
        subject: "About your content".into(),
        body: body.into(),
    };
    BulkContext {
        taxonomy: TaxonomyVersion {
            version: 1,
            policy: EnforcementPolicy::default_for(&Taxonomy::default()),
        },
        templates: vec![
            template(1, "remove_content", "We removed {{subject_id}}."),
            template(2, "warn", "A warning under {{category_name}}."),
        ],
    }
}

fn rationale() -> Rationale {
    Rationale {
        what_happened: "the same wallet link posted by new accounts".into(),
        evidence: "incident 3: 4,000 posts in an hour".into(),
        policy: "spam 2.1".into(),
        action: "removal and a warning, as the matrix recommends".into(),
        next_steps: String::new(),
    }
}

fn spec(kind: ActionKind) -> ActionSpec {
    ActionSpec {
        kind,
        duration: None,
    }
}

fn bulk_input(actions: Vec<ActionSpec>) -> BulkInput {
    BulkInput {
        actions,
        rationale: rationale(),
        dry_run: Some(true),
        ..BulkInput::default()
    }
}

fn command(actions: Vec<ActionSpec>) -> BulkCommand {
    BulkCommand::parse(BulkId(11), IncidentId(3), LEA, &bulk_input(actions)).unwrap()
}

fn standard() -> Vec<ActionSpec> {
    vec![spec(ActionKind::RemoveContent), spec(ActionKind::Warn)]
}

/// An open spam case about post p<id> of account a<id>, held by nobody.
fn case(id: i64) -> BulkCaseFacts {
    BulkCaseFacts {
        case: CaseFacts {
            id: CaseId(id),
            version: Version(1),
            subject: reference(SubjectKind::Content, &format!("p{id}")),
            category: "spam".into(),
            severity: Severity::Low,
            status: CaseStatus::New,
            assignee: None,
            assignee_id: None,
            lease_expires_at: None,
            held: false,
            resolved_at: None,
            language: None,
            opened_at: t0() - Duration::hours(1),
            signal_count: 0,
        },
        kind: CaseKind::Report,
        admitted: true,
        subject_owner: Some(reference(SubjectKind::Account, &format!("a{id}"))),
        account: Some(AccountFacts {
            reference: reference(SubjectKind::Account, &format!("a{id}")),
            tags: Vec::new(),
            account_type: None,
            active_strike_weight: 0,
        }),
        statement: StatementFacts {
            subject_kind: SubjectKind::Content,
            media_types: Vec::new(),
            account_type: None,
            language: None,
            content_date: (t0() - Duration::days(1)).date_naive(),
            sources: vec![ReportSource::UserReport],
            signal_count: 0,
        },
        applied: None,
    }
}

fn held(id: i64, by: UserId) -> BulkCaseFacts {
    let mut facts = case(id);
    facts.case.assignee = Some(format!("user{}", by.0));
    facts.case.assignee_id = Some(by);
    facts.case.lease_expires_at = Some(t0() + Duration::minutes(5));
    facts.case.status = CaseStatus::InReview;
    facts
}

#[test]
fn the_bulk_command_is_checked() {
    assert!(command(standard()).dry_run);
    assert_eq!(
        fields(BulkCommand::parse(
            BulkId(1),
            IncidentId(3),
            LEA,
            &BulkInput::default()
        )),
        [
            "actions",
            "rationale.what_happened",
            "rationale.evidence",
            "rationale.policy"
        ]
    );
    let mut input = bulk_input(standard());
    input.rationale.action.clear();
    input.category = Some("Spam".into());
    input.extras.override_reason = Some("x".repeat(crate::limits::OVERRIDE_REASON_CHARS_MAX + 1));
    assert_eq!(
        fields(BulkCommand::parse(BulkId(1), IncidentId(3), LEA, &input)),
        ["category", "rationale.action", "override_reason"]
    );
    let dry = command(standard());
    let mut real = bulk_input(standard());
    real.dry_run = Some(false);
    let real = BulkCommand::parse(BulkId(11), IncidentId(3), LEA, &real).unwrap();
    assert_eq!(
        dry.fingerprint(),
        real.fingerprint(),
        "the dry run is what is submitted"
    );
    assert_ne!(
        dry.fingerprint(),
        command(vec![spec(ActionKind::RemoveContent)]).fingerprint()
    );
}

#[test]
fn a_dry_run_plans_open_cases_and_says_why_others_are_skipped() {
    let mut appeal = case(4);
    appeal.kind = CaseKind::Appeal;
    let mut resolved = case(5);
    resolved.case.status = CaseStatus::Resolved;
    let mut restricted = case(6);
    restricted.admitted = false;
    let mut partner = case(7);
    partner.account.as_mut().unwrap().tags = vec!["partner".into()];
    let mut account_subject = case(8);
    account_subject.case.subject = reference(SubjectKind::Account, "a8");
    let mut applied = case(9);
    applied.applied = Some(DecisionId(90));
    applied.case.status = CaseStatus::Resolved;
    let cases = vec![
        case(1),
        held(2, UserId(3)),
        held(3, LEA),
        appeal,
        resolved,
        restricted,
        partner,
        account_subject,
        applied,
    ];
    let plan = plan_bulk_action(&cases, &context(), &command(standard()), t0()).unwrap();
    let planned: Vec<i64> = plan.steps.iter().map(|s| s.key.case.0).collect();
    assert_eq!(planned, [1, 3], "including the case the author holds");
    assert_eq!(plan.steps[0].key.to_string(), "warden-bulk-11-case-1");
    assert_eq!(plan.applied, [(CaseId(9), DecisionId(90))]);
    let skipped: Vec<(i64, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.case.0, s.reason.code()))
        .collect();
    assert_eq!(
        skipped,
        [
            (2, "held"),
            (4, "appeal"),
            (5, "resolved"),
            (6, "restricted"),
            (7, "protected_account"),
            (8, "refused"),
        ]
    );
    assert_eq!(plan.skipped[0].reason.to_string(), "held by user3");
    assert!(plan.skipped[4]
        .reason
        .to_string()
        .contains("tagged partner"));
    assert!(
        plan.skipped[5]
            .reason
            .to_string()
            .contains("remove_content cannot act"),
        "{}",
        plan.skipped[5].reason
    );
    assert_eq!(plan.planned(), 2);
    assert_eq!(plan.percent_done(), 33);
}

#[test]
fn each_step_is_a_decision_and_the_bulk_approval_covers_non_standard_actions() {
    let ban = command(vec![spec(ActionKind::RemoveContent), spec(ActionKind::Ban)]);
    let BulkStepPlan::Decide {
        key,
        decision,
        approved_actions,
    } = plan_bulk_step(&case(1), &context(), &ban, t0())
    else {
        panic!("expected a decision");
    };
    assert_eq!(
        key,
        BulkStepKey {
            bulk: BulkId(11),
            case: CaseId(1)
        }
    );
    assert_eq!(decision.decision.author, Some(LEA));
    assert_eq!(decision.case.audit_action, "case.decide");
    assert_eq!(decision.actions[0].status, ActionStatus::Pending);
    assert_eq!(decision.actions[1].status, ActionStatus::PendingApproval);
    assert_eq!(
        approved_actions,
        [1],
        "the ban waits only for what one approval covers"
    );
    assert!(decision.strike.is_some());
    let BulkStepPlan::Decide {
        approved_actions, ..
    } = plan_bulk_step(&case(1), &context(), &command(standard()), t0())
    else {
        panic!("expected a decision");
    };
    assert!(approved_actions.is_empty());
    let mut taken = case(1);
    taken.case.assignee = Some("user3".into());
    taken.case.assignee_id = Some(UserId(3));
    taken.case.held = true;
    assert_eq!(
        plan_bulk_step(&taken, &context(), &ban, t0()),
        BulkStepPlan::Skip(SkipReason::HeldBy("user3".into()))
    );
}

#[test]
fn bulk_actions_at_their_limit() {
    let mut resolved = case(1);
    resolved.case.status = CaseStatus::Resolved;
    let cases: Vec<BulkCaseFacts> = (0..BULK_CASES_MAX)
        .map(|i| {
            let mut facts = resolved.clone();
            facts.case.id = CaseId(i as i64 + 1);
            facts
        })
        .collect();
    let plan = plan_bulk_action(&cases, &context(), &command(standard()), t0()).unwrap();
    assert_eq!(plan.skipped.len(), BULK_CASES_MAX);
    let mut over = cases;
    over.push(case(BULK_CASES_MAX as i64 + 1));
    match plan_bulk_action(&over, &context(), &command(standard()), t0()) {
        Err(PlanError::Invalid(errors)) => {
            assert_eq!(errors.0[0].field, "cases");
            assert!(errors.0[0].reason.contains("at most 100000"), "{errors}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|p| p.planned())),
    }
}

fn principal(id: i64, role: Role, scope: Option<Scope>) -> Principal {
    Principal {
        user_id: id,
        name: format!("user{id}"),
        role,
        teams: Vec::new(),
        scope,
    }
}

#[test]
fn one_lead_other_than_the_author_approves_the_whole_set() {
    let waiting = BulkStatus::AwaitingApproval;
    assert_eq!(
        plan_bulk_approval(LEA, waiting, &principal(LEA.0, Role::Lead, None), t0()),
        Err(BulkRefusal::OwnBulk)
    );
    assert_eq!(
        plan_bulk_approval(LEA, waiting, &principal(2, Role::Analyst, None), t0()),
        Err(BulkRefusal::NotALead)
    );
    assert_eq!(
        plan_bulk_approval(
            LEA,
            waiting,
            &principal(2, Role::Lead, Some(Scope::Read)),
            t0()
        ),
        Err(BulkRefusal::NotALead)
    );
    assert_eq!(
        plan_bulk_approval(
            LEA,
            BulkStatus::DryRun,
            &principal(2, Role::Lead, None),
            t0()
        ),
        Err(BulkRefusal::NotAwaiting(BulkStatus::DryRun))
    );
    let approval = plan_bulk_approval(LEA, waiting, &principal(2, Role::Lead, None), t0()).unwrap();
    assert_eq!(approval.approver, UserId(2));
    assert_eq!(approval.status, BulkStatus::Applying);
    assert!(BulkStatus::DryRun.can_become(BulkStatus::AwaitingApproval));
    assert!(
        !BulkStatus::DryRun.can_become(BulkStatus::Applying),
        "never applied without approval"
    );
    assert!(!BulkStatus::Completed.can_become(BulkStatus::Applying));
}

// ------------------------------------------------------------- exactly once

/// The store's side of a run: the key table, written with each decision.
struct Store {
    cases: Vec<BulkCaseFacts>,
    keys: BTreeMap<BulkStepKey, DecisionId>,
    decisions: BTreeMap<CaseId, usize>,
}

impl Store {
    /// Applies one step in its transaction: load (with the key), plan,
    /// write (the decision, its key, the case resolved).
    fn apply(&mut self, step: &BulkStep, command: &BulkCommand) {
        let Some(facts) = self.cases.iter_mut().find(|c| c.case.id == step.key.case) else {
            return;
        };
        facts.applied = self.keys.get(&step.key).copied();
        if let BulkStepPlan::Decide { key, .. } = plan_bulk_step(facts, &context(), command, t0()) {
            let id = DecisionId(1_000 + self.keys.len() as i64);
            self.keys.insert(key, id);
            *self.decisions.entry(key.case).or_default() += 1;
            facts.case.status = CaseStatus::Resolved;
            facts.case.version = Version(facts.case.version.0 + 1);
            facts.applied = Some(id);
        }
    }

    /// What a restarted run loads: each case with its key, if written.
    fn reload(&mut self, bulk: BulkId) {
        for facts in &mut self.cases {
            facts.applied = self
                .keys
                .get(&BulkStepKey {
                    bulk,
                    case: facts.case.id,
                })
                .copied();
        }
    }
}

fn any_case(id: i64) -> impl Strategy<Value = BulkCaseFacts> {
    (0..6u8).prop_map(move |kind| match kind {
        0..=2 => case(id),
        3 => held(id, UserId(3)),
        4 => {
            let mut facts = case(id);
            facts.case.status = CaseStatus::Resolved;
            facts
        }
        _ => {
            let mut facts = case(id);
            facts.account.as_mut().unwrap().tags = vec!["high_visibility".into()];
            facts
        }
    })
}

fn any_cases() -> impl Strategy<Value = Vec<BulkCaseFacts>> {
    (1..24usize).prop_flat_map(|n| (1..=n as i64).map(any_case).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A run that crashes after any prefix of its steps, with the last
    /// steps perhaps retried, then resumes by planning again, decides
    /// every planned case exactly once and no other case.
    #[test]
    fn a_resumed_bulk_decides_every_case_once(
        cases in any_cases(),
        crash_after in 0..30usize,
        retried in 0..3usize,
    ) {
        let command = command(standard());
        let first = plan_bulk_action(&cases, &context(), &command, t0()).unwrap();
        let planned: BTreeSet<CaseId> = first.steps.iter().map(|s| s.key.case).collect();
        let mut store = Store { cases, keys: BTreeMap::new(), decisions: BTreeMap::new() };
        let done = crash_after.min(first.steps.len());
        for step in &first.steps[..done] {
            store.apply(step, &command);
        }
        for step in &first.steps[done.saturating_sub(retried)..done] {
            store.apply(step, &command);
        }
        store.reload(command.bulk);
        let resumed = plan_bulk_action(&store.cases, &context(), &command, t0()).unwrap();
        prop_assert_eq!(resumed.applied.len(), done);
        prop_assert_eq!(resumed.skipped.len(), first.skipped.len());
        for step in &resumed.steps {
            store.apply(step, &command);
        }
        let decided: BTreeSet<CaseId> = store.decisions.keys().copied().collect();
        prop_assert_eq!(&decided, &planned);
        prop_assert!(store.decisions.values().all(|n| *n == 1), "{:?}", store.decisions);
        store.reload(command.bulk);
        let last = plan_bulk_action(&store.cases, &context(), &command, t0()).unwrap();
        prop_assert!(last.steps.is_empty());
        prop_assert_eq!(last.applied.len(), planned.len());
        prop_assert_eq!(last.percent_done(), 100);
    }
}
