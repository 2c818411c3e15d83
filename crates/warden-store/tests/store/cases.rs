//! Case work: leases, versions, holds, decisions, corrections and history.

use chrono::Duration;

use warden_domain::access::Role;
use warden_domain::case::CaseStatus;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::ids::SubjectKind;
use warden_domain::intake::ReportSource;
use warden_store::prelude::*;
use warden_store::{Actor, DecisionMode, SqlStore, StatusChange, StoreError};

use crate::store_test;
use crate::support::{at, content, policy, reference, report, t0, user, verify_audit};

fn lease() -> Duration {
    Duration::minutes(10)
}

fn rationale() -> Rationale {
    Rationale {
        what_happened: "posted the same link forty times".into(),
        evidence: "posts p1..p40, identical text".into(),
        policy: "spam 2.1".into(),
        action: "removed, 7-day suspension".into(),
        next_steps: "watch for new accounts on the same device".into(),
    }
}

fn spam_decision() -> DecisionInput {
    DecisionInput {
        violation: true,
        category: "spam".into(),
        policy: Some("spam-2.1".into()),
        actions: vec![
            ActionSpec {
                kind: ActionKind::RemoveContent,
                duration: None,
            },
            ActionSpec {
                kind: ActionKind::Suspend,
                duration: Some(Duration::days(7)),
            },
        ],
        rationale: rationale(),
    }
}

async fn one_case(store: &SqlStore) {
    let system = Actor::system();
    store
        .ingest_subjects(&system, vec![content("p1", "a1")], t0())
        .await
        .unwrap();
    let post = reference(SubjectKind::Content, "p1");
    store
        .ingest_reports(
            &system,
            vec![report("r1", &post, "spam", ReportSource::UserReport)],
            &policy(),
            t0(),
        )
        .await
        .unwrap();
}

store_test!(
    claims_are_exclusive_until_the_lease_ends,
    |store: SqlStore| async move {
        one_case(&store).await;
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, ben) = user(&store, "ben", Role::Analyst).await;
        let claimed = store
            .claim_next(&anna, "general", lease(), at(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.status, CaseStatus::InReview);
        assert_eq!(claimed.assignee.as_deref(), Some("anna"));
        assert_eq!(claimed.first_touched_at, Some(at(1)));
        assert_eq!(claimed.lease_expires_at, Some(at(11)));
        assert!(store
            .claim_next(&ben, "general", lease(), at(5))
            .await
            .unwrap()
            .is_none());
        // After the lease ends, the case goes to the next claimer.
        let taken = store
            .claim_next(&ben, "general", lease(), at(12))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(taken.id, claimed.id);
        assert_eq!(taken.assignee.as_deref(), Some("ben"));
        assert_eq!(taken.first_touched_at, Some(at(1)), "first touch is kept");
        // Anna's lease is gone: she can neither renew nor decide.
        let renew = store
            .renew_lease(&anna, claimed.id, None, lease(), at(13))
            .await;
        assert!(matches!(renew, Err(StoreError::Conflict(_))), "{renew:?}");
        let decide = store
            .decide(
                &anna,
                claimed.id,
                taken.version,
                spam_decision(),
                &policy(),
                DecisionMode::First,
                at(13),
            )
            .await;
        assert!(
            matches!(decide, Err(StoreError::Conflict(ref m)) if m.contains("held by ben")),
            "{decide:?}"
        );
    }
);

store_test!(
    holds_keep_a_case_past_its_lease,
    |store: SqlStore| async move {
        one_case(&store).await;
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, ben) = user(&store, "ben", Role::Analyst).await;
        let claimed = store
            .claim_next(&anna, "general", lease(), at(1))
            .await
            .unwrap()
            .unwrap();
        let held = store
            .hold(
                &anna,
                claimed.id,
                Some(claimed.version),
                "waiting for the fraud team's answer",
                at(2),
            )
            .await
            .unwrap();
        assert!(held.held);
        assert!(store
            .claim_next(&ben, "general", lease(), at(60))
            .await
            .unwrap()
            .is_none());
        let released = store
            .release(&anna, held.id, Some(held.version), false, at(61))
            .await
            .unwrap();
        assert!(released.assignee.is_none() && !released.held);
        assert_eq!(released.status, CaseStatus::InReview);
        let again = store
            .claim_next(&ben, "general", lease(), at(62))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.id, claimed.id);
    }
);

store_test!(
    stale_versions_change_nothing,
    |store: SqlStore| async move {
        one_case(&store).await;
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let claimed = store
            .claim_next(&anna, "general", lease(), at(1))
            .await
            .unwrap()
            .unwrap();
        let stale = claimed.version - 1;
        let result = store
            .decide(
                &anna,
                claimed.id,
                stale,
                spam_decision(),
                &policy(),
                DecisionMode::First,
                at(2),
            )
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(ref m)) if m.contains("version")),
            "{result:?}"
        );
        let hold = store.hold(&anna, claimed.id, Some(stale), "x", at(2)).await;
        assert!(matches!(hold, Err(StoreError::Conflict(_))));
        let unchanged = store.case(claimed.id).await.unwrap().unwrap();
        assert_eq!(unchanged, claimed);
        assert!(store
            .subject_history(&claimed.subject, 10, at(2))
            .await
            .unwrap()
            .decisions
            .is_empty());
    }
);

store_test!(
    decisions_resolve_order_actions_and_strike_the_owner,
    |store: SqlStore| async move {
        one_case(&store).await;
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let claimed = store
            .claim_next(&anna, "general", lease(), at(1))
            .await
            .unwrap()
            .unwrap();
        let decision = store
            .decide(
                &anna,
                claimed.id,
                claimed.version,
                spam_decision(),
                &policy(),
                DecisionMode::First,
                at(3),
            )
            .await
            .unwrap();
        assert_eq!(decision.actions.len(), 2);
        assert_eq!(
            decision.actions[0].target,
            reference(SubjectKind::Content, "p1")
        );
        assert_eq!(
            decision.actions[1].target,
            reference(SubjectKind::Account, "a1")
        );
        // A week's suspension for a first spam offence goes beyond the
        // enforcement matrix: it waits for a lead's approval, and its clock
        // starts when it is approved (see enforcement.rs).
        assert_eq!(decision.actions[1].expires_at, None);
        assert_eq!(decision.actions[0].status, "pending");
        assert_eq!(decision.actions[1].status, "pending_approval");
        let case = store.case(claimed.id).await.unwrap().unwrap();
        assert_eq!(case.status, CaseStatus::Resolved);
        assert_eq!(case.resolved_at, Some(at(3)));
        assert!(case.assignee.is_none());

        let account = store
            .subject_history(&reference(SubjectKind::Account, "a1"), 50, at(4))
            .await
            .unwrap();
        assert_eq!(account.strikes.len(), 1);
        assert_eq!(account.active_strike_weight, 1);
        assert_eq!(account.actions.len(), 1);

        // Deciding again without the right to correct is refused.
        let again = store
            .decide(
                &anna,
                case.id,
                case.version,
                spam_decision(),
                &policy(),
                DecisionMode::First,
                at(5),
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))));
        // A lead's correction supersedes the decision and voids its strike.
        let mut cleared = spam_decision();
        cleared.violation = false;
        cleared.actions.clear();
        cleared.rationale.action = String::new();
        let correction = store
            .decide(
                &lea,
                case.id,
                case.version,
                cleared,
                &policy(),
                DecisionMode::Correction,
                at(6),
            )
            .await
            .unwrap();
        assert_eq!(correction.supersedes, Some(decision.id));
        let detail = store.case_detail(case.id).await.unwrap().unwrap();
        assert_eq!(detail.decisions.len(), 2);
        assert_eq!(detail.decisions[0].superseded_by, Some(correction.id));
        assert_eq!(detail.case.resolved_at, Some(at(3)));
        let account = store
            .subject_history(&reference(SubjectKind::Account, "a1"), 50, at(7))
            .await
            .unwrap();
        assert_eq!(account.active_strike_weight, 0);
        assert_eq!(account.strikes[0].voided_at, Some(at(6)));
        assert!(verify_audit(&store).await >= 6);
    }
);

store_test!(
    actions_need_a_fitting_target,
    |store: SqlStore| async move {
        let system = Actor::system();
        let post = reference(SubjectKind::Content, "orphan");
        store
            .ingest_reports(
                &system,
                vec![report("r1", &post, "spam", ReportSource::UserReport)],
                &policy(),
                t0(),
            )
            .await
            .unwrap();
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let claimed = store
            .claim_next(&anna, "general", lease(), at(1))
            .await
            .unwrap()
            .unwrap();
        let result = store
            .decide(
                &anna,
                claimed.id,
                claimed.version,
                spam_decision(),
                &policy(),
                DecisionMode::First,
                at(2),
            )
            .await;
        match result {
            Err(StoreError::Invalid { field, reason }) => {
                assert_eq!(field, "actions[1].type");
                assert!(reason.contains("no known owner"), "{reason}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            store.case(claimed.id).await.unwrap().unwrap().status,
            CaseStatus::InReview
        );
    }
);

store_test!(
    status_changes_follow_the_table,
    |store: SqlStore| async move {
        one_case(&store).await;
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let claimed = store
            .claim_next(&anna, "general", lease(), at(1))
            .await
            .unwrap()
            .unwrap();
        let escalated = store
            .change_status(
                &anna,
                claimed.id,
                Some(claimed.version),
                StatusChange {
                    to: CaseStatus::Escalated,
                    reason: "credible threat".into(),
                    queue: Some("escalations".into()),
                    deadlines: None,
                },
                at(2),
            )
            .await
            .unwrap();
        assert_eq!(escalated.status, CaseStatus::Escalated);
        assert_eq!(escalated.queue, "escalations");
        assert!(escalated.assignee.is_none());
        let specialist = store
            .claim_next(&lea, "escalations", lease(), at(3))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(specialist.status, CaseStatus::InReview);
        let decided = store
            .decide(
                &lea,
                specialist.id,
                specialist.version,
                spam_decision(),
                &policy(),
                DecisionMode::First,
                at(4),
            )
            .await
            .unwrap();
        let resolved = store.case(decided.case_id).await.unwrap().unwrap();
        let bad = store
            .change_status(
                &lea,
                resolved.id,
                None,
                StatusChange {
                    to: CaseStatus::Escalated,
                    reason: "x".into(),
                    queue: None,
                    deadlines: None,
                },
                at(5),
            )
            .await;
        assert!(
            matches!(bad, Err(StoreError::Conflict(ref m)) if m.contains("resolved to escalated")),
            "{bad:?}"
        );
        // A new report after resolution opens a new case; reopening the old one is refused.
        let post = reference(SubjectKind::Content, "p1");
        store
            .ingest_reports(
                &Actor::system(),
                vec![report("r9", &post, "spam", ReportSource::UserReport)],
                &policy(),
                at(6),
            )
            .await
            .unwrap();
        let reopen = store
            .change_status(
                &lea,
                resolved.id,
                None,
                StatusChange {
                    to: CaseStatus::Reopened,
                    reason: "appeal".into(),
                    queue: None,
                    deadlines: None,
                },
                at(7),
            )
            .await;
        assert!(
            matches!(reopen, Err(StoreError::Conflict(ref m)) if m.contains("already open")),
            "{reopen:?}"
        );
        let detail = store.case_detail(resolved.id).await.unwrap().unwrap();
        let path: Vec<&str> = detail.transitions.iter().map(|t| t.to.as_str()).collect();
        assert_eq!(
            path,
            ["new", "in_review", "escalated", "in_review", "resolved"]
        );
        assert_eq!(
            detail.transitions[2].reason.as_deref(),
            Some("credible threat")
        );
    }
);

store_test!(users_tokens_and_sessions, |store: SqlStore| async move {
    let (anna_record, _) = user(&store, "anna", Role::Analyst).await;
    let duplicate = store
        .create_user(&Actor::system(), "anna", Role::Lead, "h", t0())
        .await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(_))));
    let token = store
        .create_token(
            &Actor::system(),
            anna_record.id,
            "ci",
            warden_domain::access::Scope::Read,
            "hash-1",
            t0(),
        )
        .await
        .unwrap();
    let (found, owner) = store.token_by_hash("hash-1").await.unwrap().unwrap();
    assert_eq!(found.id, token.id);
    assert_eq!(owner.name, "anna");
    store
        .revoke_token(&Actor::system(), token.id, at(1))
        .await
        .unwrap();
    assert!(store.token_by_hash("hash-1").await.unwrap().is_none());

    store
        .create_session(anna_record.id, "session-1", "csrf-1", at(60), t0())
        .await
        .unwrap();
    assert_eq!(
        store
            .session("session-1", at(1))
            .await
            .unwrap()
            .unwrap()
            .0
            .csrf_token,
        "csrf-1"
    );
    assert!(
        store.session("session-1", at(61)).await.unwrap().is_none(),
        "expired"
    );

    // Three failures lock the account.
    let mut record = anna_record.clone();
    for _ in 0..3 {
        record = store
            .record_sign_in(anna_record.id, false, 3, Duration::minutes(15), at(2))
            .await
            .unwrap();
    }
    assert_eq!(record.locked_until, Some(at(17)));
    let disabled = store
        .set_user_disabled(&Actor::system(), "anna", true, at(3))
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert!(
        store.session("session-1", at(4)).await.unwrap().is_none(),
        "sessions end on disable"
    );
    assert!(verify_audit(&store).await >= 6);
});
