//! Escalations without a database: severities and teams from config, the
//! command at its limits, the package's completeness per severity and its
//! limits (max and max+1), paging, the KPI times, and the Markdown
//! renderer against arbitrary platform text.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::markdown::{code_span, escape_inline, quote_block};
use super::package::{
    LinkedAccount, PackageCase, PackageDecision, PackageNote, PackageReport, PackageSignal,
    PriorAction, PriorStrike, TimelineEvent,
};
use super::*;
use crate::access::Scope;
use crate::action::ActionStatus;
use crate::decision::{ActionKind, Rationale};
use crate::evidence::{
    check_content, ContentHash, EvidenceContent, EvidenceItem, FileName, HashCheck, MediaType,
};
use crate::ids::{ActionId, DecisionId, PlatformId, SubjectKind, SubjectRef};
use crate::intake::ReportSource;
use crate::limits::{PACKAGE_EXCERPT_CHARS_MAX, PACKAGE_ITEMS_PER_PART_MAX};

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn reference(kind: SubjectKind, id: &str) -> SubjectRef {
    SubjectRef::new(kind, PlatformId::parse(id).unwrap())
}

fn principal(id: i64, role: Role, teams: &[&str]) -> Principal {
    Principal {
        user_id: id,
        name: format!("user{id}"),
        role,
        teams: teams.iter().map(|t| t.to_string()).collect(),
        scope: None,
    }
}

fn case_facts() -> CaseFacts {
    CaseFacts {
        id: CaseId(12),
        version: Version(4),
        subject: reference(SubjectKind::Message, "msg_3"),
        category: "violent_threat".into(),
        severity: Severity::High,
        status: CaseStatus::InReview,
        assignee: Some("user7".into()),
        assignee_id: Some(UserId(7)),
        lease_expires_at: Some(t0() + Duration::minutes(5)),
        held: false,
        resolved_at: None,
        language: None,
        opened_at: t0() - Duration::hours(2),
        signal_count: 1,
    }
}

fn note(minutes: i64, next_steps: &str) -> PackageNote {
    PackageNote {
        author: "user7".into(),
        created_at: t0() - Duration::minutes(minutes),
        body: Rationale {
            what_happened: "threatened to hurt a classmate tomorrow".into(),
            evidence: "messages msg_3 and msg_4".into(),
            policy: "violent threats 1.1".into(),
            action: String::new(),
            next_steps: next_steps.into(),
        },
    }
}

fn evidence(id: i64, text: &str, check: HashCheck) -> EvidenceItem {
    EvidenceItem {
        id,
        content: EvidenceContent::TextExcerpt { text: text.into() },
        caption: "the message".into(),
        hash: ContentHash::of(text.as_bytes()),
        size_bytes: text.len() as u64,
        added_by: "user7".into(),
        added_at: t0() - Duration::minutes(30),
        check,
    }
}

fn details(severity: EscalationSeverity) -> EscalationDetails {
    EscalationDetails {
        team: "violent_extremism".into(),
        severity: SeverityDefinition::default_for(severity),
        reason: "credible threat against a school".into(),
        escalated_by: "user7".into(),
        escalated_at: t0(),
    }
}

fn package_facts(severity: EscalationSeverity) -> PackageFacts {
    PackageFacts {
        escalation: details(severity),
        case: PackageCase {
            id: CaseId(12),
            queue: "threats".into(),
            category: "violent_threat".into(),
            severity: Severity::High,
            status: CaseStatus::InReview,
            opened_at: t0() - Duration::hours(2),
            subject: reference(SubjectKind::Message, "msg_3"),
            subject_owner: Some(reference(SubjectKind::Account, "acct_9")),
        },
        subjects: vec![reference(SubjectKind::Message, "msg_4")],
        linked_accounts: vec![LinkedAccount {
            account: reference(SubjectKind::Account, "acct_10"),
            link: "shares device dev_1".into(),
        }],
        reports: vec![PackageReport {
            id: "rep_1".into(),
            source: ReportSource::UserReport,
            reason: "violent_threat".into(),
            text: Some("he says he will bring a knife".into()),
            created_at: t0() - Duration::minutes(110),
        }],
        signals: vec![PackageSignal {
            source: "classifier".into(),
            name: "threats".into(),
            score: 0.97,
            created_at: t0() - Duration::minutes(115),
        }],
        evidence: vec![evidence(
            3,
            "I will bring a knife tomorrow",
            HashCheck::Verified,
        )],
        prior_actions: vec![PriorAction {
            id: ActionId(30),
            decision: DecisionId(20),
            kind: ActionKind::Warn,
            target: reference(SubjectKind::Account, "acct_9"),
            status: ActionStatus::Applied,
            ordered_at: t0() - Duration::days(40),
            expires_at: None,
        }],
        strikes: vec![
            PriorStrike {
                id: 40,
                account: reference(SubjectKind::Account, "acct_9"),
                category: "harassment".into(),
                weight: 2,
                created_at: t0() - Duration::days(40),
                expires_at: t0() + Duration::days(50),
                voided: false,
            },
            PriorStrike {
                id: 41,
                account: reference(SubjectKind::Account, "acct_9"),
                category: "spam".into(),
                weight: 1,
                created_at: t0() - Duration::days(200),
                expires_at: t0() - Duration::days(110),
                voided: false,
            },
        ],
        notes: vec![
            note(60, "call the school's safety line"),
            note(20, "notify law enforcement"),
        ],
        decisions: Vec::new(),
        events: vec![TimelineEvent {
            at: t0() - Duration::minutes(100),
            what: "claimed".into(),
            who: Some("user7".into()),
        }],
    }
}

// ------------------------------------------------------------- severities and teams

#[test]
fn severities_have_written_definitions_and_only_sev1_pages() {
    for severity in EscalationSeverity::ALL {
        assert_eq!(severity.as_str().parse(), Ok(severity));
        let definition = SeverityDefinition::default_for(severity);
        assert!(
            definition.definition.len() > 60,
            "{severity}: a real definition"
        );
        assert_eq!(definition.pages, severity == EscalationSeverity::Sev1);
        assert_eq!(definition.check(), Ok(()));
    }
    let sev1 = SeverityDefinition::default_for(EscalationSeverity::Sev1);
    assert!(sev1.definition.contains("child"));
    assert_eq!(sev1.acknowledge_within, Duration::minutes(15));
    assert_eq!(sev1.title(), "Sev-1: imminent harm");
    assert!("sev5"
        .parse::<EscalationSeverity>()
        .unwrap_err()
        .contains("sev4"));
    assert!(
        EscalationSeverity::Sev1 < EscalationSeverity::Sev4,
        "most urgent first"
    );
    assert_eq!(EscalationSeverity::Sev1.case_severity(), Severity::Critical);
}

#[test]
fn the_default_teams_are_the_contracts() {
    let policy = EscalationPolicy::default();
    let names: Vec<&str> = policy.teams().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "child_safety",
            "violent_extremism",
            "self_harm",
            "account_security",
            "legal",
            "fraud_ring"
        ]
    );
    let queue = policy.team("self_harm").unwrap().queue_definition();
    assert_eq!(queue.name, "self-harm");
    assert!(!queue.accepts_new);
    assert!(queue.admits(Role::Analyst, &["self_harm".into()]));
    assert!(!queue.admits(Role::Analyst, &["legal".into()]));
    assert!(!queue.admits(Role::Lead, &[]), "a lead needs the team too");
}

#[test]
fn policies_from_config_are_checked() {
    let teams = SpecialistTeam::defaults;
    assert!(EscalationPolicy::new(Vec::new(), teams()).is_ok());
    let mut twice = teams();
    twice.push(twice[0].clone());
    assert!(EscalationPolicy::new(Vec::new(), twice)
        .unwrap_err()
        .contains("twice"));
    assert!(EscalationPolicy::new(Vec::new(), Vec::new()).is_err());
    let team = |i: usize| SpecialistTeam {
        name: format!("team{i}"),
        description: String::new(),
        queue: format!("queue{i}"),
    };
    let max: Vec<SpecialistTeam> = (0..ESCALATION_TEAMS_MAX).map(team).collect();
    assert!(EscalationPolicy::new(Vec::new(), max).is_ok());
    let over: Vec<SpecialistTeam> = (0..=ESCALATION_TEAMS_MAX).map(team).collect();
    assert!(EscalationPolicy::new(Vec::new(), over).is_err());
    let mut bad = teams();
    bad[0].queue = "Child Safety".into();
    assert!(EscalationPolicy::new(Vec::new(), bad)
        .unwrap_err()
        .contains("queue"));

    let mut sev2 = SeverityDefinition::default_for(EscalationSeverity::Sev2);
    sev2.acknowledge_within = Duration::minutes(i64::from(ESCALATION_RESPONSE_MINUTES_MAX));
    sev2.definition = "d".repeat(ESCALATION_DEFINITION_CHARS_MAX);
    let policy = EscalationPolicy::new(vec![sev2.clone()], teams()).unwrap();
    assert_eq!(policy.definition(EscalationSeverity::Sev2), &sev2);
    let mut long = sev2.clone();
    long.definition.push('d');
    assert!(EscalationPolicy::new(vec![long], teams()).is_err());
    let mut slow = sev2.clone();
    slow.acknowledge_within += Duration::minutes(1);
    assert!(EscalationPolicy::new(vec![slow], teams()).is_err());
    let mut repage = SeverityDefinition::default_for(EscalationSeverity::Sev1);
    repage.repage_every = Some(Duration::minutes(i64::from(ESCALATION_REPAGE_MINUTES_MIN)));
    assert!(EscalationPolicy::new(vec![repage.clone()], teams()).is_ok());
    repage.repage_every = Some(Duration::seconds(30));
    assert!(EscalationPolicy::new(vec![repage.clone()], teams()).is_err());
    repage.repage_every = Some(Duration::minutes(
        i64::from(ESCALATION_REPAGE_MINUTES_MAX) + 1,
    ));
    assert!(EscalationPolicy::new(vec![repage], teams()).is_err());
    let quiet = SeverityDefinition {
        pages: false,
        ..SeverityDefinition::default_for(EscalationSeverity::Sev1)
    };
    assert!(EscalationPolicy::new(vec![quiet], teams())
        .unwrap_err()
        .contains("does not page"));
    let sev3 = SeverityDefinition::default_for(EscalationSeverity::Sev3);
    assert!(EscalationPolicy::new(vec![sev3.clone(), sev3], teams()).is_err());
}

#[test]
fn team_queues_must_exist_and_admit_only_the_team() {
    let policy = EscalationPolicy::default();
    let bare = Router::new(Vec::new()).unwrap();
    assert!(policy
        .check_queues(&bare)
        .unwrap_err()
        .contains("child-safety"));
    let missing = policy.missing_queues(&bare);
    assert_eq!(missing.len(), 6);
    let router = Router::new(missing).unwrap();
    assert_eq!(policy.check_queues(&router), Ok(()));
    assert!(policy.missing_queues(&router).is_empty());
    let open = Router::new(vec![QueueDefinition::catch_all("legal")]).unwrap();
    let one =
        EscalationPolicy::new(Vec::new(), vec![policy.team("legal").unwrap().clone()]).unwrap();
    assert!(one.check_queues(&open).unwrap_err().contains("restricted"));
}

// ------------------------------------------------------------- the command

fn input() -> EscalateInput {
    EscalateInput {
        version: Some(4),
        team: Some("violent_extremism".into()),
        severity: Some("sev1".into()),
        reason: Some("  credible threat against a school ".into()),
    }
}

#[test]
fn the_command_names_every_field_at_fault() {
    let policy = EscalationPolicy::default();
    let command = EscalateCommand::parse(CaseId(12), &input(), &policy).unwrap();
    assert_eq!(command.reason, "credible threat against a school");
    assert_eq!(command.severity, EscalationSeverity::Sev1);
    let errors =
        EscalateCommand::parse(CaseId(12), &EscalateInput::default(), &policy).unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["version", "team", "severity", "reason"]);
    let wrong = EscalateInput {
        team: Some("marketing".into()),
        severity: Some("SEV1".into()),
        ..input()
    };
    let errors = EscalateCommand::parse(CaseId(12), &wrong, &policy).unwrap_err();
    assert!(errors.0[0].reason.contains("fraud_ring"), "{errors}");
    assert_eq!(errors.0[1].field, "severity");
    let at = |n: usize| EscalateInput {
        reason: Some("r".repeat(n)),
        ..input()
    };
    assert!(EscalateCommand::parse(CaseId(12), &at(ESCALATION_REASON_CHARS_MAX), &policy).is_ok());
    assert_eq!(
        EscalateCommand::parse(CaseId(12), &at(ESCALATION_REASON_CHARS_MAX + 1), &policy)
            .unwrap_err()
            .0[0]
            .field,
        "reason"
    );
}

fn command(severity: EscalationSeverity) -> EscalateCommand {
    EscalateCommand {
        case: CaseId(12),
        expected: Version(4),
        team: "violent_extremism".into(),
        severity,
        reason: "credible threat against a school".into(),
    }
}

fn facts(severity: EscalationSeverity) -> EscalationFacts {
    EscalationFacts {
        case: case_facts(),
        package: package_facts(severity),
    }
}

#[test]
fn an_escalation_moves_the_case_to_the_teams_queue_and_pages_for_sev1() {
    let policy = EscalationPolicy::default();
    let holder = principal(7, Role::Analyst, &[]);
    let plan = plan_escalation(
        &facts(EscalationSeverity::Sev1),
        &command(EscalationSeverity::Sev1),
        &holder,
        &policy,
        t0(),
    )
    .unwrap();
    assert_eq!(plan.queue, "violent-extremism");
    assert_eq!(plan.status, CaseStatus::Escalated);
    assert_eq!(plan.case_severity, Severity::Critical);
    assert_eq!(
        plan.page,
        Some(PageDue {
            attempt: 1,
            due: t0()
        })
    );
    assert_eq!(plan.escalation.acknowledge_by, t0() + Duration::minutes(15));
    assert_eq!(
        plan.escalation.times.time_to_escalate(),
        Some(Duration::hours(2))
    );
    assert_eq!(plan.package.escalation.escalated_by, "user7");
    let sev3 = plan_escalation(
        &facts(EscalationSeverity::Sev3),
        &command(EscalationSeverity::Sev3),
        &holder,
        &policy,
        t0(),
    )
    .unwrap();
    assert_eq!(sev3.page, None);
    assert_eq!(sev3.case_severity, Severity::High, "never lowered");
}

#[test]
fn escalations_refuse_stale_held_and_resolved_cases() {
    let policy = EscalationPolicy::default();
    let command = command(EscalationSeverity::Sev2);
    let conflict = |facts: &EscalationFacts, who: &Principal| match plan_escalation(
        facts,
        &command,
        who,
        &policy,
        t0(),
    ) {
        Err(PlanError::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    };
    let mut stale = facts(EscalationSeverity::Sev2);
    stale.case.version = Version(5);
    assert!(conflict(&stale, &principal(7, Role::Analyst, &[])).contains("version 5"));
    let other = principal(8, Role::Analyst, &[]);
    assert!(conflict(&facts(EscalationSeverity::Sev2), &other).contains("held by user7"));
    assert!(plan_escalation(
        &facts(EscalationSeverity::Sev2),
        &command,
        &principal(9, Role::Lead, &[]),
        &policy,
        t0()
    )
    .is_ok());
    let reader = Principal {
        scope: Some(Scope::Read),
        ..principal(9, Role::Lead, &[])
    };
    assert!(conflict(&facts(EscalationSeverity::Sev2), &reader).contains("held"));
    let mut resolved = facts(EscalationSeverity::Sev2);
    resolved.case.status = CaseStatus::Resolved;
    assert!(conflict(&resolved, &principal(7, Role::Analyst, &[])).contains("resolved"));
}

#[test]
fn missing_parts_are_named_per_severity() {
    let policy = EscalationPolicy::default();
    let holder = principal(7, Role::Analyst, &[]);
    let fields = |severity| {
        let mut facts = facts(severity);
        facts.package.evidence.clear();
        facts.package.notes.clear();
        match plan_escalation(&facts, &command(severity), &holder, &policy, t0()) {
            Err(PlanError::Invalid(errors)) => {
                errors.0.into_iter().map(|e| e.field).collect::<Vec<_>>()
            }
            other => panic!("expected refusal, got {other:?}"),
        }
    };
    assert_eq!(fields(EscalationSeverity::Sev1), ["package.evidence"]);
    for severity in [
        EscalationSeverity::Sev2,
        EscalationSeverity::Sev3,
        EscalationSeverity::Sev4,
    ] {
        assert_eq!(
            fields(severity),
            [
                "package.evidence",
                "package.notes",
                "package.recommended_next_steps"
            ]
        );
    }
    assert_eq!(
        required_parts(EscalationSeverity::Sev1),
        [
            PackagePart::Summary,
            PackagePart::SubjectIds,
            PackagePart::Timeline,
            PackagePart::Evidence
        ]
    );
}

#[test]
fn evidence_that_fails_its_hash_is_never_sent() {
    let mut facts = package_facts(EscalationSeverity::Sev1);
    let tampered = check_content(&ContentHash::of(b"original"), Some(b"edited"));
    facts.evidence.push(evidence(4, "edited", tampered));
    facts.evidence.push(evidence(5, "gone", HashCheck::Missing));
    let missing = assemble_package(&facts, t0()).unwrap_err();
    assert_eq!(missing.parts(), [PackagePart::Evidence]);
    let reason = &missing.0[0].reason;
    assert!(
        reason.contains("item 4: the content no longer matches"),
        "{reason}"
    );
    assert!(reason.contains("item 5: no content"), "{reason}");
    assert!(missing.to_string().contains("incomplete"));
}

// ------------------------------------------------------------- the package

#[test]
fn a_package_has_every_part() {
    let package = assemble_package(&package_facts(EscalationSeverity::Sev2), t0()).unwrap();
    assert_eq!(
        package.subject_ids,
        [
            reference(SubjectKind::Message, "msg_3"),
            reference(SubjectKind::Account, "acct_9"),
            reference(SubjectKind::Message, "msg_4"),
        ]
    );
    assert_eq!(
        package.recommended_next_steps,
        ["notify law enforcement", "call the school's safety line"],
        "newest first"
    );
    let whats: Vec<&str> = package.timeline.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "case opened",
            "signal classifier threats scored 0.97",
            "report rep_1 (user_report, violent_threat)",
            "claimed",
            "note added",
            "evidence 3 attached (text_excerpt)",
            "note added",
            "escalated to violent_extremism as Sev-2: serious harm, not imminent",
        ]
    );
    assert_eq!(
        package.strikes.iter().map(|s| s.active).collect::<Vec<_>>(),
        [false, true]
    );
    assert!(
        package.summary.contains("1 active strikes"),
        "{}",
        package.summary
    );
    assert!(package.summary.contains("Latest note (user7)"));
    assert_eq!(package.acknowledge_by, t0() + Duration::hours(1));
    assert!(package.omitted.is_empty());
}

#[test]
fn parts_at_their_limits() {
    let report = |i: i64| PackageReport {
        id: format!("rep_{i}"),
        source: ReportSource::UserReport,
        reason: "spam".into(),
        text: None,
        created_at: t0() - Duration::minutes(1_000 - i),
    };
    let mut facts = package_facts(EscalationSeverity::Sev2);
    facts.reports = (0..PACKAGE_ITEMS_PER_PART_MAX as i64).map(report).collect();
    let package = assemble_package(&facts, t0()).unwrap();
    assert_eq!(package.reports.len(), PACKAGE_ITEMS_PER_PART_MAX);
    assert!(package.omitted.is_empty());
    facts
        .reports
        .push(report(PACKAGE_ITEMS_PER_PART_MAX as i64));
    let package = assemble_package(&facts, t0()).unwrap();
    assert_eq!(package.reports.len(), PACKAGE_ITEMS_PER_PART_MAX);
    assert_eq!(package.omitted, [(PackagePart::Reports, 1)]);
    assert_eq!(package.reports[0].id, "rep_1", "the oldest is left out");

    facts.reports[0].text = Some("é".repeat(PACKAGE_EXCERPT_CHARS_MAX));
    facts.reports[1].text = Some("é".repeat(PACKAGE_EXCERPT_CHARS_MAX + 1));
    facts.reports.truncate(2);
    let package = assemble_package(&facts, t0()).unwrap();
    assert_eq!(package.reports[0].text, facts.reports[0].text);
    let cut = package.reports[1].text.as_deref().unwrap();
    assert!(cut.ends_with(" […]"));
    assert_eq!(cut.chars().count(), PACKAGE_EXCERPT_CHARS_MAX + 4);
}

#[test]
fn masked_packages_hide_personal_data_in_free_text() {
    let mut facts = package_facts(EscalationSeverity::Sev2);
    facts.reports[0].text = Some("write me at jo@example.com".into());
    facts.notes[1].body.next_steps = "call +44 20 7946 0958".into();
    let package = assemble_package(&facts, t0()).unwrap().masked();
    assert_eq!(
        package.reports[0].text.as_deref(),
        Some("write me at [email masked]")
    );
    assert_eq!(package.recommended_next_steps[0], "call [phone masked]");
    assert_eq!(package.subject_ids[0].id.as_str(), "msg_3", "ids stay");
}

// ------------------------------------------------------------- paging and times

fn state(pages_sent: u32, last_paged: Option<i64>) -> EscalationState {
    EscalationState {
        id: 5,
        case: CaseId(12),
        team: "child_safety".into(),
        severity: EscalationSeverity::Sev1,
        times: EscalationTimes {
            detected_at: t0() - Duration::hours(1),
            escalated_at: t0(),
            acknowledged_at: None,
            resolved_at: None,
        },
        acknowledged_by: None,
        pages_sent,
        last_paged_at: last_paged.map(|m| t0() + Duration::minutes(m)),
    }
}

#[test]
fn sev1_pages_until_acknowledged_and_stops_at_the_limit() {
    let sev1 = SeverityDefinition::default_for(EscalationSeverity::Sev1);
    assert_eq!(
        next_page(&state(0, None), &sev1),
        Some(PageDue {
            attempt: 1,
            due: t0()
        })
    );
    assert_eq!(
        next_page(&state(1, Some(0)), &sev1),
        Some(PageDue {
            attempt: 2,
            due: t0() + Duration::minutes(10)
        })
    );
    assert_eq!(
        next_page(&state(ESCALATION_PAGES_MAX - 1, Some(100)), &sev1).map(|p| p.attempt),
        Some(ESCALATION_PAGES_MAX)
    );
    assert_eq!(
        next_page(&state(ESCALATION_PAGES_MAX, Some(110)), &sev1),
        None
    );
    let mut acknowledged = state(1, Some(0));
    acknowledged.acknowledged_by = Some("anna".into());
    acknowledged.times.acknowledged_at = Some(t0() + Duration::minutes(3));
    assert_eq!(next_page(&acknowledged, &sev1), None);
    let once = SeverityDefinition {
        repage_every: None,
        ..sev1.clone()
    };
    assert!(next_page(&state(0, None), &once).is_some());
    assert_eq!(next_page(&state(1, Some(0)), &once), None);
    let sev2 = SeverityDefinition::default_for(EscalationSeverity::Sev2);
    assert_eq!(next_page(&state(0, None), &sev2), None);

    assert!(stays_on_lead_view(
        &state(3, Some(20)),
        &sev1,
        t0() + Duration::days(2)
    ));
    assert!(!stays_on_lead_view(&acknowledged, &sev1, t0()));
    assert!(!stays_on_lead_view(
        &state(0, None),
        &sev2,
        t0() + Duration::minutes(60)
    ));
    assert!(stays_on_lead_view(
        &state(0, None),
        &sev2,
        t0() + Duration::minutes(61)
    ));

    let body = page_body(&state(0, None), &sev1, 1);
    assert_eq!(body["idempotency_key"], "warden-page-5-1");
    assert_eq!(body["escalation"]["severity"], "sev1");
    assert_eq!(
        body["escalation"]["acknowledge_by"],
        "2026-03-02T09:15:00.000Z"
    );
}

#[test]
fn only_a_team_member_acknowledges_once() {
    let open = state(1, Some(0));
    let member = principal(3, Role::Analyst, &["child_safety"]);
    assert_eq!(plan_acknowledgement(&open, &member, t0()), Ok(t0()));
    assert_eq!(
        plan_acknowledgement(&open, &principal(4, Role::Lead, &["legal"]), t0()),
        Err(AcknowledgeRefusal::NotATeamMember {
            team: "child_safety".into()
        })
    );
    let mut taken = open.clone();
    taken.acknowledged_by = Some("anna".into());
    assert!(plan_acknowledgement(&taken, &member, t0())
        .unwrap_err()
        .to_string()
        .contains("anna"));
    let mut resolved = open;
    resolved.times.resolved_at = Some(t0());
    assert_eq!(
        plan_acknowledgement(&resolved, &member, t0()),
        Err(AcknowledgeRefusal::Resolved)
    );
}

#[test]
fn kpi_times_are_never_negative() {
    let sev1 = SeverityDefinition::default_for(EscalationSeverity::Sev1);
    let times = EscalationTimes {
        detected_at: t0() - Duration::minutes(30),
        escalated_at: t0(),
        acknowledged_at: Some(t0() + Duration::minutes(15)),
        resolved_at: Some(t0() + Duration::hours(2)),
    };
    assert_eq!(times.time_to_escalate(), Some(Duration::minutes(30)));
    assert_eq!(times.time_to_acknowledge(), Some(Duration::minutes(15)));
    assert_eq!(times.time_to_resolve(), Some(Duration::minutes(105)));
    assert_eq!(
        times.detection_to_resolution(),
        Some(Duration::minutes(150))
    );
    assert_eq!(times.acknowledged_in_time(&sev1), Some(true));
    let skewed = EscalationTimes {
        acknowledged_at: Some(t0() - Duration::minutes(1)),
        resolved_at: None,
        ..times
    };
    assert_eq!(skewed.time_to_acknowledge(), None);
    assert_eq!(skewed.time_to_resolve(), None);
    assert_eq!(skewed.acknowledged_in_time(&sev1), None);
}

// ------------------------------------------------------------- Markdown

#[test]
fn platform_text_is_escaped() {
    assert_eq!(escape_inline("# Title\n- item"), "\\# Title \\- item");
    assert_eq!(
        escape_inline("<script>x</script>"),
        "\\<script\\>x\\</script\\>"
    );
    assert_eq!(escape_inline("a\u{202E}b"), "a⟨U+202E⟩b");
    assert_eq!(
        escape_inline("[link](http://x)"),
        "\\[link\\]\\(http\\://x\\)"
    );
    assert_eq!(
        quote_block("one\r\n\r\n---\n> two"),
        "> one\n>\n> \\-\\-\\-\n> \\> two\n"
    );
    assert_eq!(quote_block(""), ">\n");
    assert_eq!(code_span("acct_1"), "` acct_1 `");
    assert_eq!(code_span("a``b`"), "``` a``b` ```");
}

#[test]
fn the_markdown_package_reads_in_order() {
    let package = assemble_package(&package_facts(EscalationSeverity::Sev1), t0()).unwrap();
    let markdown = to_markdown(&package);
    let headings: Vec<&str> = markdown.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headings,
        [
            "# Escalation package: case 12",
            "## Summary",
            "## Escalation",
            "## Subjects",
            "## Linked accounts",
            "## Timeline",
            "## Evidence",
            "### Evidence 3 (text_excerpt)",
            "## Reports",
            "### Report ` rep_1 `",
            "## Signals",
            "## Prior actions",
            "## Strikes",
            "## Notes",
            "### Note by user7, 2026-03-02 08:00:00 UTC",
            "### Note by user7, 2026-03-02 08:40:00 UTC",
            "## Decisions",
            "## Recommended next steps",
        ]
    );
    assert!(markdown.contains(&format!(
        "- SHA-256: ` {} `",
        ContentHash::of(b"I will bring a knife tomorrow")
    )));
    assert!(markdown.contains("- Check: SHA\\-256 verified"));
    assert!(markdown.contains("> I will bring a knife tomorrow"));
}

/// A line's role in the document's structure.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Heading(usize),
    Item,
    Quote,
    Blank,
    Paragraph,
}

/// The document's structure: each line's role, runs of quote lines as one.
fn skeleton(markdown: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for line in markdown.lines() {
        let kind = if line.is_empty() {
            Line::Blank
        } else if line.starts_with('#') {
            Line::Heading(line.chars().take_while(|c| *c == '#').count())
        } else if line.starts_with("- ") {
            Line::Item
        } else if line.starts_with('>') {
            Line::Quote
        } else {
            Line::Paragraph
        };
        if !(kind == Line::Quote && lines.last() == Some(&Line::Quote)) {
            lines.push(kind);
        }
    }
    lines
}

/// Every free text of a package replaced by `text(...)`.
fn with_texts(facts: &PackageFacts, text: &dyn Fn(usize) -> String) -> PackageFacts {
    let mut facts = facts.clone();
    facts.escalation.reason = text(0);
    facts.escalation.escalated_by = text(1);
    facts.linked_accounts[0].link = text(2);
    facts.reports[0].text = Some(text(3));
    facts.events[0].what = text(4);
    facts.events[0].who = Some(text(5));
    facts.evidence[0].caption = text(6);
    facts.evidence[0].content = EvidenceContent::TextExcerpt { text: text(7) };
    facts.evidence.push(EvidenceItem {
        id: 9,
        content: EvidenceContent::File {
            name: FileName::sanitise(&text(8)),
            media_type: MediaType::sanitise(Some(&text(9))),
        },
        ..facts.evidence[0].clone()
    });
    for (i, note) in facts.notes.iter_mut().enumerate() {
        note.author = text(10 + i);
        note.body = Rationale {
            what_happened: text(12 + i),
            evidence: text(14 + i),
            policy: text(16 + i),
            action: text(18 + i),
            next_steps: text(20 + i),
        };
    }
    facts.decisions.push(PackageDecision {
        id: DecisionId(21),
        decided_at: t0() - Duration::minutes(1),
        author: Some(text(22)),
        violation: true,
        category: "violent_threat".into(),
        rationale: Rationale {
            what_happened: text(23),
            evidence: text(24),
            policy: text(25),
            action: text(26),
            next_steps: text(27),
        },
    });
    facts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the platform and analysts wrote, the document has the
    /// structure the same package has with plain words: the same headings,
    /// list items and quotes in the same places.
    #[test]
    fn platform_text_never_changes_the_documents_structure(
        texts in proptest::collection::vec(any::<String>(), 28),
        specials in proptest::collection::vec(
            proptest::sample::select(vec![
                "# h", "\n---\n", "```", "\n\n- x", "<div>", "> q", "1. x", "\r\n===", "|a|b|",
                "\u{202E}", "* * *", "    code", "\\", "[x]: http://y", "~~~", "\t",
            ]),
            28,
        ),
    ) {
        // Each text ends with its index, so no two are equal (next steps
        // are listed once each) and none is blank.
        let wild = |i: usize| format!("{}{}#{i}", specials[i], texts[i]);
        let plain = |i: usize| format!("x{i}");
        let base = package_facts(EscalationSeverity::Sev4);
        let wild_package = assemble_package(&with_texts(&base, &wild), t0()).unwrap();
        let plain_package = assemble_package(&with_texts(&base, &plain), t0()).unwrap();
        let wild_markdown = to_markdown(&wild_package);
        prop_assert_eq!(skeleton(&wild_markdown), skeleton(&to_markdown(&plain_package)), "{}", wild_markdown);
    }

    #[test]
    fn code_spans_hold_any_id(id in any::<String>()) {
        let span = code_span(&id);
        prop_assert!(!span.contains('\n'));
        let fence = span.chars().take_while(|c| *c == '`').count();
        let inner = &span[fence..span.len() - fence];
        prop_assert!(inner.starts_with(' ') && inner.ends_with(' '));
        prop_assert!(!inner.contains(&"`".repeat(fence)), "the fence never appears inside");
    }
}
