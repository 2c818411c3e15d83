//! Escalations and evidence on every backend: evidence stored once per
//! SHA-256 and checked on every read (a changed or lost blob shows), an
//! escalation moving the case to the team's restricted queue with its
//! package checked (a missing part is named) and its Sev-1 pages in the
//! outbox, acknowledgement by a team member only (once) cancelling the
//! pages not yet sent, and every change in the audit chain.

use warden_domain::access::{Principal, Role};
use warden_domain::case::CaseStatus;
use warden_domain::escalation::package::{PackageCase, PackageReport, TimelineEvent};
use warden_domain::escalation::{
    EscalateCommand, EscalateInput, EscalationDetails, EscalationPolicy, EscalationSeverity,
    PackageFacts, SeverityDefinition,
};
use warden_domain::evidence::{
    parse_evidence, ContentHasher, EvidenceDraft, EvidenceInput, EvidenceLimits, HashCheck,
};
use warden_domain::ids::SubjectKind;
use warden_domain::intake::ReportSource;
use warden_domain::CaseId;
use warden_store::prelude::*;
use warden_store::{
    Actor, CaseFilter, CaseRecord, EscalationRequest, Paging, SqlStore, StoreError,
};

use crate::store_test_raw;
use crate::support::{at, policy, reference, report, t0, user, verify_audit};

fn principal(user: &warden_store::UserRecord, teams: &[&str]) -> Principal {
    Principal {
        user_id: user.id,
        name: user.name.clone(),
        role: user.role,
        teams: teams.iter().map(|t| t.to_string()).collect(),
        scope: None,
    }
}

fn text_item(text: &str) -> (EvidenceDraft, Vec<u8>) {
    let input = EvidenceInput {
        kind: Some("text_excerpt".into()),
        text: Some(text.into()),
        caption: Some("the message".into()),
        ..EvidenceInput::default()
    };
    let draft = parse_evidence(&input, None, &EvidenceLimits::default()).unwrap();
    (draft, text.as_bytes().to_vec())
}

fn file_item(bytes: &[u8]) -> (EvidenceDraft, Vec<u8>) {
    let mut hasher = ContentHasher::new(1024);
    hasher.update(bytes).unwrap();
    let upload = hasher.finish();
    let input = EvidenceInput {
        kind: Some("file".into()),
        file_name: Some("../screenshot.png".into()),
        media_type: Some("image/png".into()),
        ..EvidenceInput::default()
    };
    let draft = parse_evidence(&input, Some(&upload), &EvidenceLimits::default()).unwrap();
    (draft, bytes.to_vec())
}

async fn open_case(store: &SqlStore, id: &str) -> CaseRecord {
    let subject = reference(SubjectKind::Content, id);
    store
        .ingest_reports(
            &Actor::system(),
            vec![report(
                &format!("r-{id}"),
                &subject,
                "spam",
                ReportSource::UserReport,
            )],
            &policy(),
            t0(),
        )
        .await
        .unwrap();
    store
        .list_cases(&CaseFilter {
            limit: 100,
            ..CaseFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.subject == subject)
        .unwrap()
}

/// What the app reads for a package, without evidence (the store adds it).
fn facts(case: &CaseRecord) -> PackageFacts {
    PackageFacts {
        escalation: EscalationDetails {
            team: String::new(),
            severity: SeverityDefinition::default_for(EscalationSeverity::Sev1),
            reason: String::new(),
            escalated_by: String::new(),
            escalated_at: t0(),
        },
        case: PackageCase {
            id: case.id,
            queue: case.queue.clone(),
            category: case.category.clone(),
            severity: case.severity,
            status: case.status,
            opened_at: case.opened_at,
            subject: case.subject.clone(),
            subject_owner: None,
        },
        subjects: Vec::new(),
        linked_accounts: Vec::new(),
        reports: vec![PackageReport {
            id: "r-1".into(),
            source: ReportSource::UserReport,
            reason: "spam".into(),
            text: Some("they threatened me".into()),
            created_at: t0(),
        }],
        signals: Vec::new(),
        evidence: Vec::new(),
        prior_actions: Vec::new(),
        strikes: Vec::new(),
        notes: Vec::new(),
        decisions: Vec::new(),
        events: vec![TimelineEvent {
            at: t0(),
            what: "opened".into(),
            who: None,
        }],
    }
}

fn command(case: &CaseRecord, version: i64, severity: &str) -> EscalateCommand {
    EscalateCommand::parse(
        case.id,
        &EscalateInput {
            version: Some(version),
            team: Some("child_safety".into()),
            severity: Some(severity.into()),
            reason: Some("credible threat against a child".into()),
        },
        &EscalationPolicy::default(),
    )
    .unwrap()
}

async fn outbox_pages(raw: &crate::support::Raw, escalation: i64) -> Vec<(String, String)> {
    let mut conn = raw.connect().await;
    sqlx::query_as::<_, (String, String)>(
        "SELECT idempotency_key, status FROM outbox WHERE escalation_id = $1 ORDER BY id",
    )
    .bind(escalation)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

store_test_raw!(
    evidence_is_stored_once_and_checked_on_every_read,
    |store: SqlStore, raw: crate::support::Raw| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let one = open_case(&store, "post-1").await;
        let two = open_case(&store, "post-2").await;
        let (draft, bytes) = text_item("I know where you live");
        let text = store
            .attach_evidence(&anna, one.id, draft.clone(), &bytes, at(1))
            .await
            .unwrap();
        assert_eq!(text.check, HashCheck::Verified);
        // The same content twice on one case is refused, naming evidence.
        match store
            .attach_evidence(&anna, one.id, draft.clone(), &bytes, at(2))
            .await
        {
            Err(StoreError::Invalid { field, reason }) => {
                assert_eq!(field, "evidence");
                assert!(reason.contains("already evidence item"), "{reason}");
            }
            other => panic!("expected the repeat refused, got {other:?}"),
        }
        // On another case it shares the blob.
        store
            .attach_evidence(&anna, two.id, draft.clone(), &bytes, at(2))
            .await
            .unwrap();
        // Bytes that do not hash to the draft are refused.
        assert!(matches!(
            store
                .attach_evidence(&anna, two.id, file_item(b"png").0, b"other", at(3))
                .await,
            Err(StoreError::Invalid { .. })
        ));
        let (file_draft, file_bytes) = file_item(b"\x89PNG fake screenshot");
        let file = store
            .attach_evidence(&anna, one.id, file_draft, &file_bytes, at(3))
            .await
            .unwrap();
        // An unknown case is not found.
        assert!(matches!(
            store
                .attach_evidence(&anna, CaseId(9_999), draft, &bytes, at(3))
                .await,
            Err(StoreError::NotFound(_))
        ));
        let items = store.case_evidence(one.id).await.unwrap();
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|i| i.check == HashCheck::Verified));
        let read = store
            .evidence_content(one.id, file.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.bytes.as_deref(), Some(&file_bytes[..]));
        // An item of another case is not read through this one.
        assert!(store
            .evidence_content(two.id, file.id)
            .await
            .unwrap()
            .is_none());
        let mut conn = raw.connect().await;
        let blobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence_blobs")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(blobs, 2, "the shared excerpt is stored once");
        // Someone edits the file's bytes behind Warden's back: every read shows it.
        sqlx::query("UPDATE evidence_blobs SET content = $1 WHERE hash = $2")
            .bind(b"tampered".to_vec())
            .bind(file.hash.to_hex())
            .execute(&mut conn)
            .await
            .unwrap();
        let items = store.case_evidence(one.id).await.unwrap();
        let changed = items.iter().find(|i| i.id == file.id).unwrap();
        assert!(matches!(changed.check, HashCheck::Mismatch(_)));
        let read = store
            .evidence_content(one.id, file.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.bytes, None, "changed bytes are never served");
        assert!(verify_audit(&store).await > 0);
    }
);

store_test_raw!(
    escalations_move_the_case_page_and_are_acknowledged_once,
    |store: SqlStore, raw: crate::support::Raw| async move {
        let (anna_user, anna) = user(&store, "anna", Role::Analyst).await;
        let (cleo_user, cleo) = user(&store, "cleo", Role::Analyst).await;
        let policy = EscalationPolicy::default();
        let case = open_case(&store, "post-1").await;
        let bare = open_case(&store, "post-2").await;
        let escalator = principal(&anna_user, &[]);
        let request = |command| EscalationRequest {
            escalator: &escalator,
            command,
            policy: &policy,
            paging: Paging::Webhook,
        };
        // Without evidence the package is refused, naming the part.
        let sev1 = command(&bare, bare.version, "sev1");
        match store
            .escalate_to_team(&anna, &request(&sev1), facts(&bare), at(5))
            .await
        {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "package.evidence"),
            other => panic!("expected a missing part, got {other:?}"),
        }
        let (draft, bytes) = text_item("I know where you live");
        store
            .attach_evidence(&anna, case.id, draft, &bytes, at(1))
            .await
            .unwrap();
        // A stale version changes nothing.
        let stale = command(&case, case.version + 7, "sev1");
        assert!(matches!(
            store
                .escalate_to_team(&anna, &request(&stale), facts(&case), at(5))
                .await,
            Err(StoreError::Conflict(_))
        ));
        let sev1 = command(&case, case.version, "sev1");
        let (moved, escalation) = store
            .escalate_to_team(&anna, &request(&sev1), facts(&case), at(5))
            .await
            .unwrap();
        assert_eq!(moved.status, CaseStatus::Escalated);
        assert_eq!(moved.queue, "child-safety");
        assert_eq!(moved.version, case.version + 1);
        assert_eq!(escalation.team, "child_safety");
        assert_eq!(escalation.times.escalated_at, at(5));
        assert_eq!(escalation.times.detected_at, case.opened_at);
        assert_eq!(escalation.acknowledge_by, at(5 + 15));
        assert!(escalation.package_markdown.contains("credible threat"));
        // Sev-1 pages at once, then every 10 minutes, until acknowledged.
        let pages = outbox_pages(&raw, escalation.id).await;
        assert_eq!(pages[0].0, format!("warden-page-{}-1", escalation.id));
        assert!(pages.len() > 1 && pages.iter().all(|(_, s)| s == "pending"));
        assert_eq!(escalation.pages_pending as usize, pages.len());
        // Escalating it again is a conflict.
        let again = command(&moved, moved.version, "sev2");
        assert!(matches!(
            store
                .escalate_to_team(&anna, &request(&again), facts(&moved), at(6))
                .await,
            Err(StoreError::Conflict(_))
        ));
        // Only a member of the team acknowledges, once.
        assert!(matches!(
            store
                .acknowledge_escalation(&anna, &principal(&anna_user, &[]), case.id, at(7))
                .await,
            Err(StoreError::Forbidden(_))
        ));
        let member = principal(&cleo_user, &["child_safety"]);
        let acknowledged = store
            .acknowledge_escalation(&cleo, &member, case.id, at(8))
            .await
            .unwrap();
        assert_eq!(acknowledged.acknowledged_by.as_deref(), Some("cleo"));
        assert_eq!(acknowledged.times.acknowledged_at, Some(at(8)));
        assert_eq!(acknowledged.pages_pending, 0);
        assert!(outbox_pages(&raw, escalation.id)
            .await
            .iter()
            .all(|(_, s)| s == "cancelled"));
        assert!(matches!(
            store
                .acknowledge_escalation(&cleo, &member, case.id, at(9))
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .acknowledge_escalation(&cleo, &member, bare.id, at(9))
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            store.latest_escalation(case.id).await.unwrap().unwrap().id,
            escalation.id
        );
        assert!(store
            .unacknowledged_escalations(10)
            .await
            .unwrap()
            .is_empty());
        assert!(verify_audit(&store).await > 0);
    }
);
