//! Intake: idempotency by platform id, and reports joining open cases.

use serde_json::json;

use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{IntakeOutcome, NewEvent, NewSignal, ReportSource};
use warden_store::prelude::*;
use warden_store::{Actor, CaseFilter, SqlStore};

use crate::store_test;
use crate::support::{at, content, policy, reference, report, t0, verify_audit};

store_test!(
    subjects_are_created_repeated_and_updated,
    |store: SqlStore| async move {
        let system = Actor::system();
        let first = store
            .ingest_subjects(&system, vec![content("p1", "a1")], t0())
            .await
            .unwrap();
        assert_eq!(first, vec![IntakeOutcome::Created]);
        let again = store
            .ingest_subjects(&system, vec![content("p1", "a1")], at(1))
            .await
            .unwrap();
        assert_eq!(again, vec![IntakeOutcome::Duplicate]);
        let mut changed = content("p1", "a1");
        changed.text = Some("edited".into());
        let updated = store
            .ingest_subjects(&system, vec![changed], at(2))
            .await
            .unwrap();
        assert_eq!(updated, vec![IntakeOutcome::Updated]);
        let history = store
            .subject_history(&reference(SubjectKind::Content, "p1"), 50, at(3))
            .await
            .unwrap();
        let subject = history.subject.unwrap();
        assert_eq!(subject.text.as_deref(), Some("edited"));
        assert_eq!(subject.owner, Some(reference(SubjectKind::Account, "a1")));
        assert_eq!(subject.first_seen_at, t0());
        assert_eq!(subject.updated_at, at(2));
        assert_eq!(
            verify_audit(&store).await,
            2,
            "a duplicate writes no audit record"
        );
    }
);

store_test!(events_repeat_or_conflict, |store: SqlStore| async move {
    let event = |text: &str| NewEvent {
        id: PlatformId::parse("evt_1").unwrap(),
        event_type: "message_sent".into(),
        occurred_at: t0(),
        actor: Some(reference(SubjectKind::Account, "a1")),
        subject: Some(reference(SubjectKind::Message, "m1")),
        ip: Some("203.0.113.9".into()),
        device_id: Some("dev_1".into()),
        data: json!({"text": text}),
    };
    let system = Actor::system();
    let outcomes = store
        .ingest_events(
            &system,
            vec![event("hi"), event("hi"), event("other")],
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        vec![
            IntakeOutcome::Created,
            IntakeOutcome::Duplicate,
            IntakeOutcome::Conflict
        ]
    );
    let history = store
        .subject_history(&reference(SubjectKind::Account, "a1"), 50, t0())
        .await
        .unwrap();
    assert_eq!(history.events.len(), 1);
    assert_eq!(history.events[0].data, json!({"text": "hi"}));
    assert_eq!(store.intake_counts().await.unwrap().events, 1);
});

store_test!(
    reports_about_one_subject_and_category_join_one_case,
    |store: SqlStore| async move {
        let post = reference(SubjectKind::Content, "p1");
        let system = Actor::system();
        let outcomes = store
            .ingest_reports(
                &system,
                vec![
                    report("r1", &post, "spam", ReportSource::UserReport),
                    report("r2", &post, "spam", ReportSource::TrustedFlagger),
                    report("r3", &post, "harassment", ReportSource::UserReport),
                    report("r1", &post, "spam", ReportSource::UserReport),
                ],
                &policy(),
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(
            outcomes,
            vec![
                IntakeOutcome::Created,
                IntakeOutcome::Created,
                IntakeOutcome::Created,
                IntakeOutcome::Duplicate
            ]
        );
        let mut conflicting = report("r1", &post, "spam", ReportSource::UserReport);
        conflicting.text = Some("different words".into());
        let outcome = store
            .ingest_reports(&system, vec![conflicting], &policy(), at(1))
            .await
            .unwrap();
        assert_eq!(outcome, vec![IntakeOutcome::Conflict]);

        let cases = store
            .list_cases(&CaseFilter {
                subject: Some(post.clone()),
                limit: 10,
                ..CaseFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(cases.len(), 2, "one case per category");
        let spam = cases.iter().find(|c| c.category == "spam").unwrap();
        assert_eq!(spam.report_count, 2);
        assert_eq!(
            spam.priority,
            10 + 50,
            "user report and trusted flagger weights add up"
        );
        assert_eq!(spam.queue, "general");
        let detail = store.case_detail(spam.id).await.unwrap().unwrap();
        assert_eq!(detail.reports.len(), 2);
        assert_eq!(detail.transitions.len(), 1);
        assert_eq!(verify_audit(&store).await, 1);
    }
);

store_test!(
    signals_open_cases_unless_shadowed,
    |store: SqlStore| async move {
        let post = reference(SubjectKind::Content, "p9");
        let signal = |id: &str, opens_case: bool| NewSignal {
            id: PlatformId::parse(id).unwrap(),
            subject: post.clone(),
            category: "scam".into(),
            source: "rule".into(),
            name: "crypto_giveaway".into(),
            score: 0.9,
            opens_case,
            details: json!({"matched": ["double your bitcoin"]}),
            created_at: None,
        };
        let outcomes = store
            .ingest_signals(
                &Actor::system(),
                vec![signal("s1", false), signal("s2", true)],
                &policy(),
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(
            outcomes,
            vec![IntakeOutcome::Created, IntakeOutcome::Created]
        );
        let cases = store
            .list_cases(&CaseFilter {
                subject: Some(post),
                limit: 10,
                ..CaseFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].signal_count, 1);
        assert_eq!(cases[0].severity.as_str(), "high");
        let detail = store.case_detail(cases[0].id).await.unwrap().unwrap();
        assert_eq!(detail.signals.len(), 1);
        assert_eq!(detail.signals[0].id, "s2");
    }
);

store_test!(
    lists_filter_by_category_severity_and_language,
    |store: SqlStore| async move {
        let system = Actor::system();
        let mut german = report(
            "r1",
            &reference(SubjectKind::Content, "p1"),
            "spam",
            ReportSource::UserReport,
        );
        german.language = Some("de-AT".into());
        let mut english = report(
            "r2",
            &reference(SubjectKind::Content, "p2"),
            "hate",
            ReportSource::UserReport,
        );
        english.language = Some("en".into());
        let mut deutsch = report(
            "r3",
            &reference(SubjectKind::Content, "p3"),
            "spam",
            ReportSource::UserReport,
        );
        deutsch.language = Some("de".into());
        store
            .ingest_reports(&system, vec![german, english, deutsch], &policy(), t0())
            .await
            .unwrap();
        let ids = |cases: Vec<warden_store::CaseRecord>| {
            cases
                .iter()
                .map(|c| c.subject.id.to_string())
                .collect::<Vec<_>>()
        };
        let filter = |f: CaseFilter| CaseFilter { limit: 50, ..f };
        let spam = store
            .list_cases(&filter(CaseFilter {
                category: Some("spam".into()),
                ..CaseFilter::default()
            }))
            .await
            .unwrap();
        assert_eq!(ids(spam).len(), 2);
        let high = store
            .list_cases(&filter(CaseFilter {
                severity: Some(warden_domain::case::Severity::High),
                ..CaseFilter::default()
            }))
            .await
            .unwrap();
        assert_eq!(ids(high), ["p2"], "hate is high by default, spam low");
        let mut de = ids(store
            .list_cases(&filter(CaseFilter {
                language: Some("de".into()),
                ..CaseFilter::default()
            }))
            .await
            .unwrap());
        de.sort();
        assert_eq!(de, ["p1", "p3"], "de takes de-AT too");
        let none = store
            .list_cases(&filter(CaseFilter {
                language: Some("d%".into()),
                ..CaseFilter::default()
            }))
            .await
            .unwrap();
        assert!(none.is_empty(), "no wildcard gets through");
    }
);
