//! Classifier models: numbered versions, one live and one shadow per name,
//! promotion, bytes checked, bad input refused, every change audited.

use serde_json::json;

use warden_classifier::limits::{MODEL_BYTES_MAX, MODEL_NAME_BYTES_MAX, MODEL_NOTE_CHARS_MAX};
use warden_store::prelude::*;
use warden_store::{Actor, ModelStatus, NewModelVersion, SqlStore, StoreError};

use crate::store_test;
use crate::support::{at, t0};

fn version(name: &str, status: ModelStatus, bytes: &[u8], f1: f64) -> NewModelVersion {
    NewModelVersion {
        name: name.into(),
        kind: "svm".into(),
        status,
        metrics: json!({"f1": f1, "auc": 0.99, "n": 980}),
        bytes: bytes.to_vec(),
        note: format!("f1 {f1}"),
    }
}

fn field_of(error: StoreError) -> String {
    match error {
        StoreError::Invalid { field, .. } => field,
        other => panic!("expected an invalid-input error, got {other:?}"),
    }
}

store_test!(
    versions_are_numbered_per_name_with_one_live_and_one_shadow,
    |store: SqlStore| async move {
        let actor = Actor::system();
        let first = store
            .save_model_version(
                &actor,
                version("spam", ModelStatus::Shadow, b"one", 0.9),
                t0(),
            )
            .await
            .unwrap();
        assert_eq!((first.version, first.status), (1, ModelStatus::Shadow));
        assert_eq!(first.size_bytes, 3);
        assert_eq!(
            first.sha256,
            "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"
        );
        // Another name starts at 1 too.
        let other = store
            .save_model_version(
                &actor,
                version("toxicity", ModelStatus::Live, b"tox", 0.8),
                at(1),
            )
            .await
            .unwrap();
        assert_eq!((other.version, other.status), (1, ModelStatus::Live));
        assert!(store.live_model("spam").await.unwrap().is_none());

        // A second shadow retires the first.
        let second = store
            .save_model_version(
                &actor,
                version("spam", ModelStatus::Shadow, b"two", 0.92),
                at(2),
            )
            .await
            .unwrap();
        assert_eq!(second.version, 2);
        let shadow = store.shadow_model("spam").await.unwrap().unwrap();
        assert_eq!(
            (shadow.record.version, shadow.bytes.as_slice()),
            (2, &b"two"[..])
        );
        let old = store.model_version("spam", 1).await.unwrap().unwrap();
        assert_eq!(old.record.status, ModelStatus::Retired);
        assert_eq!(old.record.status_changed_at, at(2));
        assert_eq!(old.bytes, b"one");
        assert_eq!(
            old.record.metrics,
            json!({"f1": 0.9, "auc": 0.99, "n": 980})
        );

        // Promotion: shadow to live; then a live save retires it.
        let live = store.promote_model(&actor, "spam", 2, at(3)).await.unwrap();
        assert_eq!((live.version, live.status), (2, ModelStatus::Live));
        assert!(store.shadow_model("spam").await.unwrap().is_none());
        let again = store.promote_model(&actor, "spam", 2, at(4)).await.unwrap();
        assert_eq!(
            again.status_changed_at,
            at(3),
            "promoting the live version changes nothing"
        );
        let third = store
            .save_model_version(
                &actor,
                version("spam", ModelStatus::Live, b"three", 0.95),
                at(5),
            )
            .await
            .unwrap();
        assert_eq!((third.version, third.status), (3, ModelStatus::Live));
        let live = store.live_model("spam").await.unwrap().unwrap();
        assert_eq!(
            (live.record.version, live.bytes.as_slice()),
            (3, &b"three"[..])
        );
        assert_eq!(
            store
                .model_version("spam", 2)
                .await
                .unwrap()
                .unwrap()
                .record
                .status,
            ModelStatus::Retired
        );
        // A retired version can be promoted back (a rollback).
        store.promote_model(&actor, "spam", 1, at(6)).await.unwrap();
        assert_eq!(
            store
                .live_model("spam")
                .await
                .unwrap()
                .unwrap()
                .record
                .version,
            1
        );

        // Listings: one name newest first, or all by name.
        let listed: Vec<(String, i64, ModelStatus)> = store
            .model_versions(Some("spam"), 50)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.name, r.version, r.status))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("spam".into(), 3, ModelStatus::Retired),
                ("spam".into(), 2, ModelStatus::Retired),
                ("spam".into(), 1, ModelStatus::Live),
            ]
        );
        let all = store.model_versions(None, 2).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].name.as_str(), all[0].version), ("spam", 3));
        assert_eq!(store.model_versions(None, 50).await.unwrap().len(), 4);

        // The live version of each model, by name.
        let live: Vec<(String, i64)> = store
            .live_model_versions(50)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.name, r.version))
            .collect();
        assert_eq!(live, vec![("spam".into(), 1), ("toxicity".into(), 1)]);
        assert_eq!(store.live_model_versions(1).await.unwrap().len(), 1);

        // Unknown versions.
        assert!(store.model_version("spam", 9).await.unwrap().is_none());
        assert!(matches!(
            store.promote_model(&actor, "spam", 9, at(7)).await,
            Err(StoreError::NotFound(_))
        ));

        // Every save and promotion is in the audit chain.
        let page = store.audit_page(0, 100).await.unwrap();
        let actions: Vec<&str> = page
            .iter()
            .filter(|r| r.entry.target_kind == "classifier_model")
            .map(|r| r.entry.action.as_str())
            .collect();
        assert_eq!(
            actions,
            vec![
                "classifier.save",
                "classifier.save",
                "classifier.save",
                "classifier.promote",
                "classifier.save",
                "classifier.promote"
            ]
        );
        let second_save = page
            .iter()
            .find(|r| r.entry.target_id == "spam:2" && r.entry.action == "classifier.save")
            .unwrap();
        assert_eq!(second_save.entry.after["retired"], json!([1]));
        crate::support::verify_audit(&store).await;
    }
);

store_test!(
    model_bytes_survive_the_round_trip_exactly,
    |store: SqlStore| async move {
        // Every byte value, and a model-sized blob.
        let mut bytes: Vec<u8> = (0..=255u8).collect();
        bytes.extend((0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        store
            .save_model_version(
                &Actor::system(),
                version("big", ModelStatus::Live, &bytes, 0.5),
                t0(),
            )
            .await
            .unwrap();
        let read = store.live_model("big").await.unwrap().unwrap();
        assert_eq!(read.bytes, bytes);
        assert_eq!(read.record.size_bytes, bytes.len() as i64);
    }
);

store_test!(
    bad_versions_are_refused_and_change_nothing,
    |store: SqlStore| async move {
        let actor = Actor::system();
        let long_name = "a".repeat(MODEL_NAME_BYTES_MAX + 1);
        let cases: Vec<(NewModelVersion, &str)> = vec![
            (version("", ModelStatus::Shadow, b"x", 0.1), "name"),
            (version("Spam", ModelStatus::Shadow, b"x", 0.1), "name"),
            (
                version("spam model", ModelStatus::Shadow, b"x", 0.1),
                "name",
            ),
            (version(&long_name, ModelStatus::Shadow, b"x", 0.1), "name"),
            (version("spam", ModelStatus::Retired, b"x", 0.1), "status"),
            (version("spam", ModelStatus::Shadow, b"", 0.1), "bytes"),
            (
                NewModelVersion {
                    kind: "s v m".into(),
                    ..version("spam", ModelStatus::Shadow, b"x", 0.1)
                },
                "kind",
            ),
            (
                NewModelVersion {
                    metrics: json!([1, 2]),
                    ..version("spam", ModelStatus::Shadow, b"x", 0.1)
                },
                "metrics",
            ),
            (
                NewModelVersion {
                    note: "n".repeat(MODEL_NOTE_CHARS_MAX + 1),
                    ..version("spam", ModelStatus::Shadow, b"x", 0.1)
                },
                "note",
            ),
            (
                version(
                    "spam",
                    ModelStatus::Shadow,
                    &vec![7u8; MODEL_BYTES_MAX + 1],
                    0.1,
                ),
                "bytes",
            ),
        ];
        for (bad, field) in cases {
            let error = store
                .save_model_version(&actor, bad, t0())
                .await
                .unwrap_err();
            assert_eq!(field_of(error), field);
        }
        assert!(store.model_versions(None, 50).await.unwrap().is_empty());
        assert_eq!(crate::support::verify_audit(&store).await, 0);

        // At the limits: accepted.
        let at_limits = NewModelVersion {
            name: "a".repeat(MODEL_NAME_BYTES_MAX),
            note: "n".repeat(MODEL_NOTE_CHARS_MAX),
            ..version("x", ModelStatus::Shadow, &vec![7u8; MODEL_BYTES_MAX], 0.1)
        };
        let saved = store
            .save_model_version(&actor, at_limits, t0())
            .await
            .unwrap();
        assert_eq!(saved.size_bytes, MODEL_BYTES_MAX as i64);
    }
);

mod from_decisions {
    use chrono::Duration;
    use serde_json::json;

    use warden_classifier::examples_from_decisions;
    use warden_domain::access::Role;
    use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
    use warden_domain::ids::{PlatformId, SubjectKind};
    use warden_domain::intake::{NewEvent, NewSubject, ReportSource};
    use warden_store::prelude::*;
    use warden_store::{Actor, DecisionMode, SqlStore};

    use crate::store_test;
    use crate::support::{at, content, policy, reference, report, t0, user};

    fn decision(violation: bool) -> DecisionInput {
        DecisionInput {
            violation,
            category: "spam".into(),
            policy: None,
            actions: if violation {
                vec![ActionSpec {
                    kind: ActionKind::RemoveContent,
                    duration: None,
                }]
            } else {
                Vec::new()
            },
            rationale: Rationale {
                what_happened: "looked at it".into(),
                evidence: "the text".into(),
                policy: "spam 2.1".into(),
                action: if violation {
                    "removed".into()
                } else {
                    String::new()
                },
                next_steps: "none".into(),
            },
        }
    }

    /// Files a spam report on `subject`, claims and decides it; returns
    /// the decision's id.
    async fn decided(
        store: &SqlStore,
        actor: &Actor,
        subject: &str,
        kind: SubjectKind,
        violation: bool,
        minute: i64,
    ) -> i64 {
        let target = reference(kind, subject);
        store
            .ingest_reports(
                &Actor::system(),
                vec![report(
                    &format!("r-{subject}"),
                    &target,
                    "spam",
                    ReportSource::UserReport,
                )],
                &policy(),
                at(minute),
            )
            .await
            .unwrap();
        let claimed = store
            .claim_next(actor, "general", Duration::minutes(10), at(minute))
            .await
            .unwrap()
            .unwrap();
        store
            .decide(
                actor,
                claimed.id,
                claimed.version,
                decision(violation),
                &policy(),
                DecisionMode::First,
                at(minute + 1),
            )
            .await
            .unwrap()
            .id
    }

    store_test!(
        decisions_come_with_the_text_they_judged,
        |store: SqlStore| async move {
            let system = Actor::system();
            let (_, anna) = user(&store, "anna", Role::Analyst).await;
            let (_, lea) = user(&store, "lea", Role::Lead).await;
            let account = NewSubject {
                subject: reference(SubjectKind::Account, "u1"),
                created_at: Some(t0()),
                owner: None,
                text: None,
                media: Vec::new(),
                attributes: json!({}),
            };
            store
                .ingest_subjects(&system, vec![content("p1", "a1"), account], t0())
                .await
                .unwrap();
            let dm = |id: &str, minute: i64, text: &str| NewEvent {
                id: PlatformId::parse(id).unwrap(),
                event_type: "message_sent".into(),
                occurred_at: at(minute),
                actor: None,
                subject: Some(reference(SubjectKind::Account, "u1")),
                ip: None,
                device_id: None,
                data: json!({ "text": text }),
            };
            store
                .ingest_events(
                    &system,
                    vec![
                        dm("e1", 1, "win a free prize"),
                        dm("e2", 30, "after the decision"),
                    ],
                    t0(),
                )
                .await
                .unwrap();

            let first = decided(&store, &anna, "p1", SubjectKind::Content, true, 2).await;
            let second = decided(&store, &anna, "u1", SubjectKind::Account, false, 4).await;
            // A lead corrects the first: no violation after all.
            let case = store.case_detail_by_decision(first).await;
            let correction = store
                .decide(
                    &lea,
                    case.0,
                    case.1,
                    decision(false),
                    &policy(),
                    DecisionMode::Correction,
                    at(8),
                )
                .await
                .unwrap()
                .id;

            let judged = store.decision_judgements("spam", None, 100).await.unwrap();
            let seen: Vec<(i64, &str, bool, bool)> = judged
                .iter()
                .map(|j| (j.decision_id, j.subject.as_str(), j.violation, j.superseded))
                .collect();
            assert_eq!(
                seen,
                [
                    (correction, "content/p1", false, false),
                    (second, "account/u1", false, false),
                    (first, "content/p1", true, true),
                ]
            );
            assert_eq!(
                judged[0].judged_text(),
                Some("buy cheap followers at example.test")
            );
            // The account has no text: the newest event before the decision stands in.
            assert_eq!(judged[1].subject_text, None);
            assert_eq!(judged[1].judged_text(), Some("win a free prize"));

            // Another category, a later start and a limit narrow the list.
            assert!(store
                .decision_judgements("harassment", None, 100)
                .await
                .unwrap()
                .is_empty());
            let since = store
                .decision_judgements("spam", Some(at(6)), 100)
                .await
                .unwrap();
            assert_eq!(since.len(), 1);
            assert_eq!(
                store
                    .decision_judgements("spam", None, 2)
                    .await
                    .unwrap()
                    .len(),
                2
            );

            // The latest decision about each subject labels it.
            let examples = examples_from_decisions(&judged, "spam", 100);
            let labels: Vec<(&str, bool)> = examples
                .iter()
                .map(|e| (e.id.as_str(), e.positive))
                .collect();
            assert_eq!(labels, [("account/u1", false), ("content/p1", false)]);
        }
    );

    /// The case and version of the case a decision was made on.
    trait CaseOfDecision {
        async fn case_detail_by_decision(&self, decision: i64) -> (warden_domain::CaseId, i64);
    }

    impl CaseOfDecision for SqlStore {
        async fn case_detail_by_decision(&self, decision: i64) -> (warden_domain::CaseId, i64) {
            let (_, case, _) = self.decision_cases(&[decision]).await.unwrap()[0].clone();
            let case = self.case(case).await.unwrap().unwrap();
            (case.id, case.version)
        }
    }
}
