//! Detection storage: versions, event context, hits applied once.

use serde_json::json;

use warden_domain::case::Severity;
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{NewEvent, ReportSource};
use warden_store::prelude::*;
use warden_store::{Actor, CaseFilter, EventHits, EventPosition, HitRecord, SqlStore};

use crate::store_test;
use crate::support::{at, content, policy, reference, report, t0};

fn hit(rule_id: &str, acts: bool) -> HitRecord {
    HitRecord {
        rule_id: rule_id.into(),
        rule_version: 1,
        mode: if acts { "live".into() } else { "shadow".into() },
        category: "spam".into(),
        severity: Severity::Medium,
        matched: json!({"domains": ["spam.example"]}),
        features: json!({"has_spam_domain": true}),
        acts,
        case: Some((Some("spam".into()), 20)),
        label: Some(("link_spammer".into(), Some(3600))),
        action: Some(("remove_content".into(), None)),
    }
}

store_test!(
    rule_versions_follow_their_hash,
    |store: SqlStore| async move {
        let actor = Actor::system();
        assert_eq!(
            store
                .record_rule_version(&actor, "r1", "h1", "src1", "live", t0())
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .record_rule_version(&actor, "r1", "h1", "src1", "live", at(1))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .record_rule_version(&actor, "r1", "h2", "src2", "shadow", at(2))
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .record_rule_version(&actor, "r2", "h1", "src", "live", at(2))
                .await
                .unwrap(),
            1
        );
        crate::support::verify_audit(&store).await;
    }
);

store_test!(
    events_come_with_context_and_hits_apply_once,
    |store: SqlStore| async move {
        let _reading = crate::support::horizon().read().await;
        let system = Actor::system();
        store
            .ingest_subjects(&system, vec![content("p1", "a1")], t0())
            .await
            .unwrap();
        let post = reference(SubjectKind::Content, "p1");
        store
            .ingest_reports(
                &system,
                vec![report("r1", &post, "harassment", ReportSource::UserReport)],
                &policy(),
                t0(),
            )
            .await
            .unwrap();
        let event = NewEvent {
            id: PlatformId::parse("e1").unwrap(),
            event_type: "post_created".into(),
            occurred_at: t0(),
            actor: Some(reference(SubjectKind::Account, "a1")),
            subject: Some(post.clone()),
            ip: None,
            device_id: None,
            data: json!({"text": "https://spam.example"}),
        };
        store
            .ingest_events(&system, vec![event], t0())
            .await
            .unwrap();
        let cursor = store.detection_cursor().await.unwrap();
        let start = cursor;
        assert_eq!(cursor, EventPosition::default());
        let batch = store
            .detection_events(cursor, None, 100, at(1))
            .await
            .unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(
            batch[0].subject.as_ref().unwrap().text.as_deref(),
            Some("buy cheap followers at example.test")
        );
        assert_eq!(batch[0].subject_report_count, 1);
        assert!(batch[0].actor.is_none(), "the account was never sent");
        let results = vec![EventHits {
            seq: batch[0].seq,
            event_id: "e1".into(),
            occurred_at: t0(),
            actor: Some(reference(SubjectKind::Account, "a1")),
            subject: Some(post.clone()),
            hits: vec![hit("link-spam", true), hit("shadowy", false)],
        }];
        let queues =
            warden_domain::routing::Router::new(vec![warden_domain::routing::QueueDefinition {
                categories: vec!["spam".into()],
                ..warden_domain::routing::QueueDefinition::catch_all("spam")
            }])
            .unwrap();
        let policy = warden_store::CasePolicy {
            router: queues,
            ..policy()
        };
        assert!(store
            .apply_detection(results.clone(), start, batch[0].position(), &policy, at(1))
            .await
            .unwrap());
        assert!(
            !store
                .apply_detection(results.clone(), start, batch[0].position(), &policy, at(1))
                .await
                .unwrap(),
            "a stale cursor changes nothing"
        );
        assert!(
            store
                .apply_detection(
                    results,
                    batch[0].position(),
                    batch[0].position(),
                    &policy,
                    at(2)
                )
                .await
                .unwrap(),
            "re-applying is idempotent"
        );
        assert_eq!(store.detection_cursor().await.unwrap(), batch[0].position());
        let cases = store
            .list_cases(&CaseFilter {
                subject: Some(post.clone()),
                limit: 10,
                ..CaseFilter::default()
            })
            .await
            .unwrap();
        let spam = cases
            .iter()
            .find(|c| c.category == "spam")
            .expect("the live hit opened a spam case");
        assert_eq!(spam.queue, "spam");
        assert_eq!(spam.signal_count, 1, "applied once");
        assert_eq!(spam.severity, Severity::Medium);
        let detail = store.case_detail(spam.id).await.unwrap().unwrap();
        assert_eq!(detail.signals[0].name, "link-spam");
        assert_eq!(
            detail.signals[0].details["matched"]["domains"][0],
            "spam.example"
        );
        assert_eq!(
            detail.signals[0].details["features"]["has_spam_domain"], true,
            "feature values are kept for the case page"
        );
        // The label is on the actor now, and detection sees it.
        let again = store
            .detection_events(start, None, 100, at(3))
            .await
            .unwrap();
        assert_eq!(
            again[0].actor_labels,
            ["link_spammer"],
            "labels are kept by reference, even before the account is sent"
        );
        let stats = store.rule_stats(t0()).await.unwrap();
        assert!(stats.is_empty(), "stats list rules with recorded versions");
        store
            .record_rule_version(&Actor::system(), "link-spam", "h", "s", "live", t0())
            .await
            .unwrap();
        store
            .record_rule_version(&Actor::system(), "shadowy", "h", "s", "shadow", t0())
            .await
            .unwrap();
        let stats = store.rule_stats(t0()).await.unwrap();
        assert_eq!(
            stats
                .iter()
                .map(|s| (s.rule_id.as_str(), s.hits, s.acted))
                .collect::<Vec<_>>(),
            [("link-spam", 1, 1), ("shadowy", 1, 0)]
        );
        crate::support::verify_audit(&store).await;
    }
);

store_test!(
    labels_expire_and_strikes_count,
    |store: SqlStore| async move {
        let _reading = crate::support::horizon().read().await;
        let system = Actor::system();
        let account = reference(SubjectKind::Account, "a1");
        store
            .ingest_subjects(
                &system,
                vec![warden_domain::intake::NewSubject {
                    subject: account.clone(),
                    created_at: Some(t0()),
                    owner: None,
                    text: None,
                    media: vec![],
                    attributes: json!({"country": "DE"}),
                }],
                t0(),
            )
            .await
            .unwrap();
        let login = |id: &str, minutes: i64| NewEvent {
            id: PlatformId::parse(id).unwrap(),
            event_type: "login".into(),
            occurred_at: at(minutes),
            actor: Some(account.clone()),
            subject: None,
            ip: Some("203.0.113.9".into()),
            device_id: None,
            data: json!({}),
        };
        store
            .ingest_events(&system, vec![login("l1", 0), login("l2", 1)], at(1))
            .await
            .unwrap();
        let start = EventPosition::default();
        let batch = store.detection_events(start, None, 1, at(1)).await.unwrap();
        let mut labelled = hit("device-farm", true);
        labelled.case = None;
        labelled.action = None;
        let results = vec![EventHits {
            seq: batch[0].seq,
            event_id: "l1".into(),
            occurred_at: at(0),
            actor: Some(account.clone()),
            subject: None,
            hits: vec![labelled],
        }];
        assert!(store
            .apply_detection(results, start, batch[0].position(), &policy(), at(1))
            .await
            .unwrap());
        let next = store
            .detection_events(batch[0].position(), None, 10, at(2))
            .await
            .unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].actor_labels, ["link_spammer"]);
        assert_eq!(next[0].actor.as_ref().unwrap().attributes["country"], "DE");
        let expired = store
            .detection_events(batch[0].position(), None, 10, at(2 + 60))
            .await
            .unwrap();
        assert!(
            expired[0].actor_labels.is_empty(),
            "the label lasted an hour"
        );
        let since = store
            .detection_events(start, Some(at(1)), 10, at(2))
            .await
            .unwrap();
        assert_eq!(since.len(), 1, "only events from the time asked");
    }
);

store_test!(
    rule_stats_show_the_latest_version_and_its_mode,
    |store: SqlStore| async move {
        let actor = Actor::system();
        for (hash, mode, minute) in [("h1", "live", 1), ("h1-disabled", "disabled", 5)] {
            store
                .record_rule_version(&actor, "r1", hash, "src", mode, at(minute))
                .await
                .unwrap();
        }
        store
            .record_rule_version(&actor, "r2", "h", "src", "shadow", at(2))
            .await
            .unwrap();
        let stats = store.rule_stats(t0()).await.unwrap();
        let latest: Vec<(&str, i64, &str, i64)> = stats
            .iter()
            .map(|s| {
                (
                    s.rule_id.as_str(),
                    s.version,
                    s.latest_mode.as_str(),
                    (s.latest_at - t0()).num_minutes(),
                )
            })
            .collect();
        assert_eq!(latest, [("r1", 2, "disabled", 5), ("r2", 1, "shadow", 2)]);
    }
);
