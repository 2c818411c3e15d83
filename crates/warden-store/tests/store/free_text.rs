//! Hostile input in the store: free text keeps NUL (and the escape
//! character itself) through every free-text column on both backends; a
//! batch item the store cannot take is refused alone; names holding NUL
//! find nothing instead of failing.

use chrono::Duration;
use serde_json::json;

use warden_domain::access::Role;
use warden_domain::case::CaseStatus;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::ids::SubjectKind;
use warden_domain::intake::{IntakeOutcome, ReportSource};
use warden_domain::FieldError;
use warden_store::prelude::*;
use warden_store::{Actor, CaseFilter, SqlStore, StatusChange, StoreError};

use crate::store_test;
use crate::support::{at, content, policy, reference, report, t0, user, verify_audit};

/// Free text with NUL, the store's escape character (U+0001) alone and
/// followed by `0`, tabs, newlines and a right-to-left override.
const HOSTILE: &str = "a\u{0}b \u{1}0 \u{1}\u{1} \u{1} tab\tline\n\u{202E}end\u{0}";

store_test!(
    free_text_keeps_nul_in_every_column,
    |store: SqlStore| async move {
        let system = Actor::system();
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let mut post = content("p1", "a1");
        post.text = Some(HOSTILE.into());
        post.attributes = json!({"bio": HOSTILE, HOSTILE: [HOSTILE]});
        store
            .ingest_subjects(&system, vec![post], t0())
            .await
            .unwrap();
        let subject = reference(SubjectKind::Content, "p1");
        let mut item = report("r1", &subject, "spam", ReportSource::UserReport);
        item.text = Some(HOSTILE.into());
        store
            .ingest_reports(&system, vec![item], &policy(), t0())
            .await
            .unwrap();
        let case = store
            .claim_next(&anna, "general", Duration::minutes(10), at(1))
            .await
            .unwrap()
            .unwrap();
        let held = store
            .hold(&anna, case.id, Some(case.version), HOSTILE, at(2))
            .await
            .unwrap();
        assert_eq!(held.hold_reason.as_deref(), Some(HOSTILE));
        let note = Rationale {
            what_happened: HOSTILE.into(),
            ..Rationale::default()
        };
        store
            .add_note(&anna, case.id, note.clone(), at(4))
            .await
            .unwrap();
        let detail = store.case_detail(case.id).await.unwrap().unwrap();
        assert_eq!(detail.reports[0].text.as_deref(), Some(HOSTILE));
        let stored = detail.subject.unwrap();
        assert_eq!(stored.text.as_deref(), Some(HOSTILE));
        assert_eq!(stored.attributes["bio"], HOSTILE);
        assert_eq!(stored.attributes[HOSTILE][0], HOSTILE);
        assert_eq!(detail.notes[0].body, note);
        // Decided, reversed and reopened: reversal and transition reasons
        // are free text too.
        let decision = store
            .decide(
                &anna,
                case.id,
                held.version,
                DecisionInput {
                    violation: true,
                    category: "spam".into(),
                    policy: Some("spam-2.1".into()),
                    actions: vec![ActionSpec {
                        kind: ActionKind::RemoveContent,
                        duration: None,
                    }],
                    rationale: Rationale {
                        what_happened: HOSTILE.into(),
                        evidence: HOSTILE.into(),
                        policy: "spam".into(),
                        action: "removed".into(),
                        next_steps: String::new(),
                    },
                },
                &policy(),
                warden_store::DecisionMode::First,
                at(6),
            )
            .await
            .unwrap();
        assert_eq!(decision.rationale.what_happened, HOSTILE);
        let reversed = store
            .reverse_action(&lea, decision.actions[0].id, HOSTILE, at(7))
            .await
            .unwrap();
        assert_eq!(reversed.reversal.unwrap().reason, HOSTILE);
        let again = store
            .action_detail(decision.actions[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.reversal.unwrap().reason, HOSTILE);
        store
            .change_status(
                &lea,
                case.id,
                None,
                StatusChange {
                    to: CaseStatus::Reopened,
                    reason: HOSTILE.into(),
                    queue: None,
                    deadlines: None,
                },
                at(8),
            )
            .await
            .unwrap();
        let detail = store.case_detail(case.id).await.unwrap().unwrap();
        let reasons: Vec<Option<&str>> = detail
            .transitions
            .iter()
            .map(|t| t.reason.as_deref())
            .collect();
        assert!(reasons.contains(&Some(HOSTILE)), "{reasons:?}");
        assert_eq!(detail.decisions[0].rationale.evidence, HOSTILE);
        verify_audit(&store).await;
    }
);

store_test!(
    a_batch_with_nul_in_one_text_stores_all_51,
    |store: SqlStore| async move {
        let system = Actor::system();
        let items: Vec<_> = (0..51)
            .map(|i| {
                let subject = reference(SubjectKind::Content, &format!("p{i}"));
                let mut item = report(&format!("r{i}"), &subject, "spam", ReportSource::UserReport);
                if i == 37 {
                    item.text = Some("before\u{0}after".into());
                }
                item
            })
            .collect();
        let outcomes = store
            .ingest_reports(&system, items, &policy(), t0())
            .await
            .unwrap();
        assert_eq!(outcomes, vec![IntakeOutcome::Created; 51]);
        assert_eq!(store.intake_counts().await.unwrap().reports, 51);
        let history = store
            .subject_history(&reference(SubjectKind::Content, "p37"), 10, at(1))
            .await
            .unwrap();
        assert_eq!(history.reports[0].text.as_deref(), Some("before\u{0}after"));
    }
);

store_test!(
    an_item_the_store_cannot_take_is_refused_alone,
    |store: SqlStore| async move {
        let system = Actor::system();
        let batch = || -> Vec<_> {
            (0..51)
                .map(|i| {
                    let subject = reference(SubjectKind::Content, &format!("p{i}"));
                    // The taxonomy does not know this one: the store refuses it
                    // when it files the report in a case.
                    let reason = if i == 25 { "no_such_category" } else { "spam" };
                    report(&format!("r{i}"), &subject, reason, ReportSource::UserReport)
                })
                .collect()
        };
        let refused = IntakeOutcome::Refused(FieldError::new(
            "category",
            "unknown taxonomy code \"no_such_category\"",
        ));
        let first = store
            .ingest_reports(&system, batch(), &policy(), t0())
            .await
            .unwrap();
        assert_eq!(first.len(), 51);
        assert_eq!(first[25], refused);
        assert!(first
            .iter()
            .enumerate()
            .all(|(i, o)| i == 25 || *o == IntakeOutcome::Created));
        let counts = store.intake_counts().await.unwrap();
        assert_eq!((counts.reports, counts.cases), (50, 50));
        let again = store
            .ingest_reports(&system, batch(), &policy(), at(1))
            .await
            .unwrap();
        assert_eq!(again[25], refused);
        assert!(again
            .iter()
            .enumerate()
            .all(|(i, o)| i == 25 || *o == IntakeOutcome::Duplicate));
        assert_eq!(store.intake_counts().await.unwrap().reports, 50);
        // A batch of one answers the item's own error.
        let alone = store
            .ingest_reports(
                &system,
                batch().split_off(25).into_iter().take(1).collect(),
                &policy(),
                at(2),
            )
            .await;
        assert!(matches!(alone, Err(StoreError::Invalid { ref field, .. }) if field == "category"));
        assert_eq!(
            verify_audit(&store).await,
            1,
            "one audit record for the batch that stored something"
        );
    }
);

store_test!(
    names_holding_nul_find_nothing,
    |store: SqlStore| async move {
        let system = Actor::system();
        user(&store, "anna", Role::Analyst).await;
        assert!(store.user_by_name("an\u{0}na").await.unwrap().is_none());
        assert!(matches!(
            store
                .set_user_disabled(&system, "an\u{0}na", true, t0())
                .await,
            Err(StoreError::NotFound(_))
        ));
        let cases = store
            .list_cases(&CaseFilter {
                queue: Some("gen\u{0}eral".into()),
                category: Some("sp\u{0}am".into()),
                limit: 10,
                ..CaseFilter::default()
            })
            .await
            .unwrap();
        assert!(cases.is_empty());
        assert!(matches!(
            store
                .confirm_delivery("warden-action-1\u{0}-apply", true, None, t0())
                .await,
            Err(StoreError::NotFound(_))
        ));
    }
);
