//! Enforcement: decision rights, the outbox (leases, order, retries, dead
//! letters, callbacks), expiry, reversals, notices, statements of reasons
//! and taxonomy versions.

use chrono::Duration;
use serde_json::json;

use warden_domain::access::Role;
use warden_domain::action::DeliveryStatus;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::dsa::{self, Endpoint};
use warden_domain::enforcement::DecideCommand;
use warden_domain::enforcement::{ApprovalReason, Departure, EnforcementPolicy};
use warden_domain::ids::SubjectKind;
use warden_domain::ids::Version;
use warden_domain::intake::{NewSubject, ReportSource};
use warden_domain::webhook::DeliveryKind;
use warden_domain::CaseId;
use warden_domain::Timestamp;
use warden_store::prelude::*;
use warden_store::{
    Actor, CasePolicy, DecisionExtras, DecisionMode, DecisionRecord, DeliveryFilter,
    DeliveryOutcome, DeliveryResult, DsaSubmission, NoticeTemplateInput, Ruling, SqlStore,
    StoreError, StoreResult,
};

use crate::store_test;
use crate::support::{at, content, policy, reference, report, t0, user, verify_audit};

fn rationale(action: &str) -> Rationale {
    Rationale {
        what_happened: "posted the same link forty times".into(),
        evidence: "posts p1..p40".into(),
        policy: "spam 2.1".into(),
        action: action.into(),
        next_steps: String::new(),
    }
}

/// Decides through the enforcement path with the wire's extras, parsed
/// into a command as the server does.
#[allow(clippy::too_many_arguments)]
async fn decide_with(
    store: &SqlStore,
    actor: &Actor,
    case: CaseId,
    version: i64,
    input: DecisionInput,
    extras: DecisionExtras,
    policy: &CasePolicy,
    mode: DecisionMode,
    now: Timestamp,
) -> StoreResult<DecisionRecord> {
    let command = DecideCommand::with_extras(case, Version(version), input, &extras, mode)
        .map_err(|errors| StoreError::Invalid {
            field: errors.0[0].field.clone(),
            reason: errors.0[0].reason.clone(),
        })?;
    store.decide_with(actor, command, policy, now).await
}

fn spec(kind: ActionKind, days: Option<i64>) -> ActionSpec {
    ActionSpec {
        kind,
        duration: days.map(Duration::days),
    }
}

fn spam(actions: Vec<ActionSpec>, action_reason: &str) -> DecisionInput {
    DecisionInput {
        violation: true,
        category: "spam".into(),
        policy: Some("spam-2.1".into()),
        actions,
        rationale: rationale(action_reason),
    }
}

/// A post `post` by `owner` with a spam report, claimed by `actor`.
async fn claimed_case(
    store: &SqlStore,
    post: &str,
    owner: &str,
    actor: &Actor,
    minute: i64,
) -> (CaseId, i64) {
    let system = Actor::system();
    store
        .ingest_subjects(&system, vec![content(post, owner)], at(minute))
        .await
        .unwrap();
    let subject = reference(SubjectKind::Content, post);
    store
        .ingest_reports(
            &system,
            vec![report(
                &format!("r_{post}"),
                &subject,
                "spam",
                ReportSource::UserReport,
            )],
            &policy(),
            at(minute),
        )
        .await
        .unwrap();
    let case = store
        .claim_next(actor, "general", Duration::minutes(10), at(minute))
        .await
        .unwrap()
        .expect("a case to claim");
    (case.id, case.version)
}

async fn outbox(store: &SqlStore) -> Vec<warden_store::DeliveryRecord> {
    store
        .list_deliveries(&DeliveryFilter {
            limit: 500,
            ..DeliveryFilter::default()
        })
        .await
        .unwrap()
}

store_test!(
    standard_actions_go_out_and_others_wait_for_a_lead,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let (case_id, version) = claimed_case(&store, "p1", "a1", &anna, 0).await;
        // Remove and warn is what the matrix recommends for a first spam
        // offence; a week's suspension goes beyond it.
        let decision = decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(ActionKind::Warn, None),
                    spec(ActionKind::Suspend, Some(7)),
                ],
                "removed, warned, suspended",
            ),
            DecisionExtras {
                override_reason: Some("a known spam ring".into()),
                reason_code: Some("spam.links".into()),
            },
            &policy(),
            DecisionMode::First,
            at(1),
        )
        .await
        .unwrap();
        let statuses: Vec<&str> = decision.actions.iter().map(|a| a.status.as_str()).collect();
        assert_eq!(statuses, ["pending", "pending", "pending_approval"]);
        let enforcement = decision.enforcement.clone().unwrap();
        assert_eq!(enforcement.departure, Some(Departure::Above));
        assert_eq!(
            enforcement.override_reason.as_deref(),
            Some("a known spam ring")
        );
        assert_eq!(enforcement.reason_code.as_deref(), Some("spam.links"));
        assert_eq!(enforcement.taxonomy_version, 1);
        assert_eq!(
            enforcement.approvals,
            [(decision.actions[2].id, vec![ApprovalReason::BeyondMatrix])]
        );
        assert_eq!(
            enforcement.statement_id, None,
            "no statement while an action waits"
        );
        // Two actions and their two notices are queued; nothing for the suspension.
        let rows = outbox(&store).await;
        let kinds: Vec<(DeliveryKind, Option<i64>)> =
            rows.iter().map(|r| (r.kind, r.action_id)).collect();
        assert_eq!(
            kinds,
            [
                (DeliveryKind::Apply, Some(decision.actions[0].id)),
                (DeliveryKind::Apply, Some(decision.actions[1].id)),
                (DeliveryKind::Notice, None),
                (DeliveryKind::Notice, None),
            ]
        );
        assert_eq!(
            rows[0].body["action"]["statement_of_reasons"],
            json!(format!("warden-sor-{}", decision.id))
        );
        let waiting = store.pending_approvals(50).await.unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].action.id, decision.actions[2].id);

        // The author cannot approve their own action, even as a lead.
        let suspend_id = decision.actions[2].id;
        let own = store
            .rule_on_action(&anna, suspend_id, Ruling::Approve, "mine", at(2))
            .await;
        assert!(matches!(own, Err(StoreError::Conflict(_))), "{own:?}");
        let approved = store
            .rule_on_action(&lea, suspend_id, Ruling::Approve, "ring confirmed", at(3))
            .await
            .unwrap();
        assert_eq!(approved.action.status, "pending");
        assert_eq!(approved.action.expires_at, Some(at(3) + Duration::days(7)));
        assert!(approved.approval.as_ref().unwrap().approved);
        // Approving delivers it now and lifts it when it ends.
        let events: Vec<(DeliveryKind, i64)> = approved
            .deliveries
            .iter()
            .map(|d| (d.kind, d.next_attempt_at.timestamp()))
            .collect();
        assert!(events.contains(&(DeliveryKind::Apply, at(3).timestamp())));
        assert!(events.contains(&(DeliveryKind::Lift, (at(3) + Duration::days(7)).timestamp())));
        // Now nothing waits: the statement of reasons is written, valid.
        let statements = store.dsa_statements(t0(), at(60), 0, 10).await.unwrap();
        assert_eq!(statements.len(), 1);
        let statement = &statements[0].statement;
        assert!(
            dsa::validate(statement, Endpoint::Batch).is_empty(),
            "{statement}"
        );
        assert!(
            dsa::validate(statement, Endpoint::Single).is_empty(),
            "{statement}"
        );
        assert_eq!(statement["decision_account"], "DECISION_ACCOUNT_SUSPENDED");
        assert_eq!(
            statement["end_date_account_restriction"],
            json!((at(3) + Duration::days(7)).format("%Y-%m-%d").to_string())
        );
        assert_eq!(
            statement["decision_visibility"],
            json!(["DECISION_VISIBILITY_CONTENT_REMOVED"])
        );
        assert_eq!(statement["category_specification_other"], "Spam");
        assert_eq!(statement["source_type"], "SOURCE_TYPE_OTHER_NOTIFICATION");
        // An approval cannot be given twice; a rejection of nothing waiting is refused.
        assert!(matches!(
            store
                .rule_on_action(&lea, suspend_id, Ruling::Reject, "again", at(4))
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(verify_audit(&store).await > 5);
    }
);

store_test!(a_departure_needs_a_reason, |store: SqlStore| async move {
    let (_, anna) = user(&store, "anna", Role::Analyst).await;
    let (case_id, version) = claimed_case(&store, "p1", "a1", &anna, 0).await;
    // A violation with no account action where the matrix recommends a
    // warning, and no reason anywhere: refused.
    let refused = decide_with(
        &store,
        &anna,
        case_id,
        version,
        spam(vec![], ""),
        DecisionExtras::default(),
        &policy(),
        DecisionMode::First,
        at(1),
    )
    .await;
    match refused {
        Err(StoreError::Invalid { field, reason }) => {
            assert_eq!(field, "override_reason");
            assert!(reason.contains("remove_content + warn"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let bad_code = decide_with(
        &store,
        &anna,
        case_id,
        version,
        spam(vec![spec(ActionKind::Warn, None)], "warned"),
        DecisionExtras {
            reason_code: Some("scam.romance".into()),
            ..DecisionExtras::default()
        },
        &policy(),
        DecisionMode::First,
        at(1),
    )
    .await;
    assert!(
        matches!(bad_code, Err(StoreError::Invalid { ref field, .. }) if field == "reason_code")
    );
    let with_reason = decide_with(
        &store,
        &anna,
        case_id,
        version,
        spam(vec![], ""),
        DecisionExtras {
            override_reason: Some("the account was already closed by the platform".into()),
            ..DecisionExtras::default()
        },
        &policy(),
        DecisionMode::First,
        at(1),
    )
    .await
    .unwrap();
    assert_eq!(
        with_reason.enforcement.unwrap().departure,
        Some(Departure::Below)
    );
});

store_test!(
    strikes_expire_and_the_matrix_follows,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        // Low-severity strikes weigh 1 and last 90 days; at 3 the matrix
        // recommends a restriction.
        for (n, minute) in [(1, 0), (2, 10), (3, 20)] {
            let (case_id, version) =
                claimed_case(&store, &format!("p{n}"), "a1", &anna, minute).await;
            decide_with(
                &store,
                &anna,
                case_id,
                version,
                spam(vec![spec(ActionKind::Warn, None)], "warned"),
                DecisionExtras::default(),
                &policy(),
                DecisionMode::First,
                at(minute + 1),
            )
            .await
            .unwrap();
        }
        let (case_id, _) = claimed_case(&store, "p4", "a1", &anna, 30).await;
        let now = store
            .recommendation(case_id, None, &policy(), at(31))
            .await
            .unwrap();
        assert_eq!(now.prior_strike_weight, 3);
        let types: Vec<String> = now
            .recommendation
            .iter()
            .map(|a| a.kind.to_string())
            .collect();
        assert_eq!(types, ["remove_content", "restrict"]);
        // 91 days later the strikes have expired: back to a warning.
        let later = store
            .recommendation(case_id, None, &policy(), at(31) + Duration::days(91))
            .await
            .unwrap();
        assert_eq!(later.prior_strike_weight, 0);
        let types: Vec<String> = later
            .recommendation
            .iter()
            .map(|a| a.kind.to_string())
            .collect();
        assert_eq!(types, ["remove_content", "warn"]);
        // A ban on a first offence would wait for approval.
        let ban = store
            .recommendation(
                case_id,
                Some("child_safety"),
                &policy(),
                at(31) + Duration::days(91),
            )
            .await
            .unwrap();
        assert_eq!(ban.recommendation[1].kind, ActionKind::Ban);
        assert_eq!(ban.approvals[1], [ApprovalReason::BanOnFirstOffence]);
    }
);

store_test!(
    protected_accounts_wait_for_approval,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let system = Actor::system();
        store
            .ingest_subjects(
                &system,
                vec![NewSubject {
                    subject: reference(SubjectKind::Account, "vip"),
                    created_at: Some(t0()),
                    owner: None,
                    text: None,
                    media: Vec::new(),
                    attributes: json!({"tags": ["high-visibility"]}),
                }],
                t0(),
            )
            .await
            .unwrap();
        let (case_id, version) = claimed_case(&store, "p1", "vip", &anna, 0).await;
        let decision = decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(ActionKind::Warn, None),
                ],
                "standard",
            ),
            DecisionExtras::default(),
            &policy(),
            DecisionMode::First,
            at(1),
        )
        .await
        .unwrap();
        assert!(decision
            .actions
            .iter()
            .all(|a| a.status == "pending_approval"));
        assert_eq!(
            decision.enforcement.unwrap().approvals[0].1,
            [ApprovalReason::ProtectedAccount("high_visibility".into())]
        );
        assert!(
            outbox(&store).await.is_empty(),
            "nothing leaves before approval"
        );
    }
);

store_test!(
    the_outbox_leases_orders_retries_and_dead_letters,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let (case_id, version) = claimed_case(&store, "p1", "a1", &anna, 0).await;
        let decision = decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(
                        ActionKind::Restrict {
                            feature: "posting".into(),
                        },
                        Some(1),
                    ),
                ],
                "restricted",
            ),
            DecisionExtras::default(),
            &policy(),
            DecisionMode::First,
            at(1),
        )
        .await
        .unwrap();
        let restrict = decision.actions[1].id;
        store
            .rule_on_action(&lea, restrict, Ruling::Approve, "ok", at(1))
            .await
            .unwrap();
        let lease = Duration::seconds(30);
        let first = store
            .claim_deliveries("w1", 100, lease, at(2))
            .await
            .unwrap();
        // Two applies and two notices are due; the lift is not.
        assert_eq!(first.len(), 4, "{first:?}");
        assert!(first.iter().all(|j| j.kind != DeliveryKind::Lift));
        // Leased rows are not handed out twice.
        assert!(store
            .claim_deliveries("w2", 100, lease, at(2))
            .await
            .unwrap()
            .is_empty());
        // A worker that dies loses its lease: the rows come back, same keys.
        let again = store
            .claim_deliveries("w2", 100, lease, at(2) + Duration::seconds(31))
            .await
            .unwrap();
        assert_eq!(
            again.iter().map(|j| &j.idempotency_key).collect::<Vec<_>>(),
            first.iter().map(|j| &j.idempotency_key).collect::<Vec<_>>()
        );
        let now = at(3);
        let apply_restrict = again
            .iter()
            .find(|j| j.kind == DeliveryKind::Apply && j.body.contains("\"restrict\""))
            .unwrap()
            .id;
        let outcomes: Vec<DeliveryOutcome> = again
            .iter()
            .map(|job| DeliveryOutcome {
                id: job.id,
                result: if job.id == apply_restrict {
                    DeliveryResult::Failed {
                        error: "HTTP 503".into(),
                        status_code: Some(503),
                        retry_at: Some(now + Duration::seconds(10)),
                    }
                } else {
                    DeliveryResult::Delivered { status_code: 200 }
                },
            })
            .collect();
        store.finish_deliveries(outcomes, now).await.unwrap();
        let remove = store
            .action_detail(decision.actions[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(remove.action.status, "delivered");
        // The lift falls due, but waits while its action's apply is pending.
        let day_later = at(3) + Duration::days(1) + Duration::minutes(1);
        let due = store
            .claim_deliveries("w1", 100, lease, day_later)
            .await
            .unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].kind, DeliveryKind::Apply);
        // It fails for good: a dead letter; the action failed.
        store
            .finish_deliveries(
                vec![DeliveryOutcome {
                    id: due[0].id,
                    result: DeliveryResult::Failed {
                        error: "connection refused".into(),
                        status_code: None,
                        retry_at: None,
                    },
                }],
                day_later,
            )
            .await
            .unwrap();
        let dead = store
            .list_deliveries(&DeliveryFilter {
                statuses: vec![DeliveryStatus::Dead],
                limit: 10,
                ..DeliveryFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].attempts, 2);
        let failed = store.action_detail(restrict).await.unwrap().unwrap();
        assert_eq!(failed.action.status, "failed");
        assert!(failed.status_detail.unwrap().contains("connection refused"));
        // Dead rows do not block: the lift goes out; replaying the dead
        // letter puts the action back to pending, with the same key.
        let lift = store
            .claim_deliveries("w1", 100, lease, day_later)
            .await
            .unwrap();
        assert_eq!(lift.len(), 1);
        assert_eq!(lift[0].kind, DeliveryKind::Lift);
        store
            .finish_deliveries(
                vec![DeliveryOutcome {
                    id: lift[0].id,
                    result: DeliveryResult::Delivered { status_code: 202 },
                }],
                day_later,
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .action_detail(restrict)
                .await
                .unwrap()
                .unwrap()
                .action
                .status,
            "expired"
        );
        let replayed = store
            .replay_delivery(&lea, dead[0].id, day_later)
            .await
            .unwrap();
        assert_eq!(replayed.status, "pending");
        assert_eq!(replayed.idempotency_key, dead[0].idempotency_key);
        // The platform's callbacks: applied for the removal, failed for a notice.
        let removal_key = format!("warden-action-{}-apply", decision.actions[0].id);
        let confirmed = store
            .confirm_delivery(&removal_key, true, Some("done"), day_later)
            .await
            .unwrap();
        assert_eq!(confirmed.status, "confirmed");
        assert_eq!(
            store
                .action_detail(decision.actions[0].id)
                .await
                .unwrap()
                .unwrap()
                .action
                .status,
            "applied"
        );
        let notice = outbox(&store)
            .await
            .into_iter()
            .find(|d| d.kind == DeliveryKind::Notice)
            .unwrap();
        let platform_failed = store
            .confirm_delivery(
                &notice.idempotency_key,
                false,
                Some("user has no inbox"),
                day_later,
            )
            .await
            .unwrap();
        assert_eq!(platform_failed.status, "failed");
        // A failed one is replayed under a new key.
        let retried = store
            .replay_delivery(&lea, platform_failed.id, day_later)
            .await
            .unwrap();
        assert_eq!(
            retried.idempotency_key,
            format!("{}-r1", notice.idempotency_key)
        );
        assert_eq!(
            retried.body["idempotency_key"],
            json!(retried.idempotency_key)
        );
        assert!(matches!(
            store
                .confirm_delivery("no-such-key", true, None, day_later)
                .await,
            Err(StoreError::NotFound(_))
        ));
        verify_audit(&store).await;
    }
);

store_test!(
    reversals_cancel_what_was_not_sent_and_undo_what_was,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let (case_id, version) = claimed_case(&store, "p1", "a1", &anna, 0).await;
        let decision = decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(ActionKind::Warn, None),
                ],
                "standard",
            ),
            DecisionExtras::default(),
            &policy(),
            DecisionMode::First,
            at(1),
        )
        .await
        .unwrap();
        // Send only the removal.
        let jobs = store
            .claim_deliveries("w", 100, Duration::minutes(1), at(2))
            .await
            .unwrap();
        let removal = jobs
            .iter()
            .find(|j| {
                j.idempotency_key
                    .ends_with(&format!("{}-apply", decision.actions[0].id))
            })
            .unwrap();
        store
            .finish_deliveries(
                vec![DeliveryOutcome {
                    id: removal.id,
                    result: DeliveryResult::Delivered { status_code: 200 },
                }],
                at(2),
            )
            .await
            .unwrap();
        let others: Vec<DeliveryOutcome> = jobs
            .iter()
            .filter(|j| j.id != removal.id)
            .map(|j| DeliveryOutcome {
                id: j.id,
                result: DeliveryResult::Failed {
                    error: "x".into(),
                    status_code: Some(500),
                    retry_at: Some(at(60)),
                },
            })
            .collect();
        store.finish_deliveries(others, at(2)).await.unwrap();
        // The warning was attempted once: it may have arrived, so it is undone too.
        let reversed = store
            .reverse_decision(&lea, decision.id, "the posts were a quote, not spam", at(3))
            .await
            .unwrap();
        assert!(reversed.actions.iter().all(|a| a.status == "reversed"));
        assert_eq!(
            reversed.enforcement.unwrap().reversal.unwrap().reason,
            "the posts were a quote, not spam"
        );
        let rows = outbox(&store).await;
        let reverses = rows
            .iter()
            .filter(|r| r.kind == DeliveryKind::Reverse)
            .count();
        assert_eq!(reverses, 2);
        let history = store
            .subject_history(&reference(SubjectKind::Account, "a1"), 50, at(4))
            .await
            .unwrap();
        assert_eq!(
            history.active_strike_weight, 0,
            "strikes of a reversed decision are removed"
        );
        assert!(matches!(
            store
                .reverse_decision(&lea, decision.id, "again", at(5))
                .await,
            Err(StoreError::Conflict(_))
        ));

        // An action reversed before it was ever sent is simply cancelled.
        let (case_id, version) = claimed_case(&store, "p2", "a2", &anna, 10).await;
        let second = decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(ActionKind::Warn, None),
                ],
                "standard",
            ),
            DecisionExtras::default(),
            &policy(),
            DecisionMode::First,
            at(11),
        )
        .await
        .unwrap();
        let undone = store
            .reverse_action(&lea, second.actions[0].id, "wrong post", at(12))
            .await
            .unwrap();
        assert_eq!(undone.action.status, "reversed");
        let statuses: Vec<(DeliveryKind, &str)> = undone
            .deliveries
            .iter()
            .map(|d| (d.kind, d.status.as_str()))
            .collect();
        assert_eq!(
            statuses,
            [
                (DeliveryKind::Apply, "cancelled"),
                (DeliveryKind::Notice, "cancelled")
            ]
        );
        assert!(matches!(
            store
                .reverse_action(&lea, second.actions[0].id, "twice", at(13))
                .await,
            Err(StoreError::Conflict(_))
        ));
        verify_audit(&store).await;
    }
);

store_test!(
    notices_with_an_unfilled_variable_are_refused,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, paula) = user(&store, "paula", Role::Policy).await;
        store
            .save_notice_template(
                &paula,
                NoticeTemplateInput {
                    action_type: "warn".into(),
                    category: "spam".into(),
                    language: "en".into(),
                    subject: "A warning".into(),
                    body: "Warned until {{end_date}} under {{policy}}.".into(),
                },
                t0(),
            )
            .await
            .unwrap();
        let (case_id, version) = claimed_case(&store, "p1", "a1", &anna, 0).await;
        let decision = decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(ActionKind::Warn, None),
                ],
                "standard",
            ),
            DecisionExtras::default(),
            &policy(),
            DecisionMode::First,
            at(1),
        )
        .await
        .unwrap();
        let notices = store.notices(Some(decision.id), 10).await.unwrap();
        let warn = notices
            .iter()
            .find(|n| n.action_id == Some(decision.actions[1].id))
            .unwrap();
        assert_eq!(warn.status, "refused");
        assert_eq!(warn.refusal, ["end_date"]);
        assert!(warn.body.is_none());
        let removal = notices
            .iter()
            .find(|n| n.action_id == Some(decision.actions[0].id))
            .unwrap();
        assert_eq!(removal.status, "queued");
        assert!(
            removal.body.as_deref().unwrap().contains("content p1"),
            "{removal:?}"
        );
        // Only the sendable notice is in the outbox.
        let rows = outbox(&store).await;
        assert_eq!(
            rows.iter()
                .filter(|r| r.kind == DeliveryKind::Notice)
                .count(),
            1
        );
    }
);

store_test!(
    old_decisions_keep_their_taxonomy_version,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, paula) = user(&store, "paula", Role::Policy).await;
        let (case_id, version) = claimed_case(&store, "p1", "a1", &anna, 0).await;
        let first = decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(ActionKind::Warn, None),
                ],
                "standard",
            ),
            DecisionExtras::default(),
            &policy(),
            DecisionMode::First,
            at(1),
        )
        .await
        .unwrap();
        assert_eq!(first.enforcement.as_ref().unwrap().taxonomy_version, 1);
        // Policy makes spam a straight restriction.
        let mut document = store
            .taxonomy_current()
            .await
            .unwrap()
            .unwrap()
            .policy
            .to_json();
        document["matrix"].as_array_mut().unwrap().push(json!({"category": "spam", "severity": "*", "strikes_min": 0, "action": {"type": "restrict", "feature": "links", "duration": "P1D"}}));
        let edited = EnforcementPolicy::from_json(&document).unwrap();
        let v2 = store
            .publish_taxonomy(&paula, &edited, "spam: restrict links at once", at(2))
            .await
            .unwrap();
        assert_eq!(v2.version, 2);
        let (case_id, version) = claimed_case(&store, "p2", "a2", &anna, 3).await;
        let second = decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(ActionKind::Warn, None),
                ],
                "lenient: first post",
            ),
            DecisionExtras::default(),
            &policy(),
            DecisionMode::First,
            at(4),
        )
        .await
        .unwrap();
        let enforcement = second.enforcement.unwrap();
        assert_eq!(enforcement.taxonomy_version, 2);
        assert_eq!(enforcement.departure, Some(Departure::Below));
        let detail = store.case_detail(first.case_id).await.unwrap().unwrap();
        assert_eq!(
            detail.decisions[0]
                .enforcement
                .as_ref()
                .unwrap()
                .taxonomy_version,
            1
        );
        let versions = store.taxonomy_versions(10).await.unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            [2, 1]
        );
        // A configuration that adds a category gets a new version at start.
        let mut configured = policy();
        configured
            .taxonomy
            .insert(warden_domain::taxonomy::Category {
                code: "gambling".into(),
                name: "Unlicensed gambling".into(),
                severity: warden_domain::case::Severity::Medium,
            });
        let v3 = store
            .ensure_taxonomy(&Actor::system(), &configured, at(5))
            .await
            .unwrap();
        assert_eq!(v3.version, 3);
        assert!(v3.policy.category("gambling").is_some());
        assert!(v3.policy.category("spam").is_some());
        assert_eq!(
            store
                .ensure_taxonomy(&Actor::system(), &configured, at(6))
                .await
                .unwrap()
                .version,
            3
        );
    }
);

store_test!(
    statements_are_submitted_once,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (case_id, version) = claimed_case(&store, "p1", "a1", &anna, 0).await;
        decide_with(
            &store,
            &anna,
            case_id,
            version,
            spam(
                vec![
                    spec(ActionKind::RemoveContent, None),
                    spec(ActionKind::Warn, None),
                ],
                "standard",
            ),
            DecisionExtras::default(),
            &policy(),
            DecisionMode::First,
            at(1),
        )
        .await
        .unwrap();
        let pending = store.dsa_unsubmitted(10).await.unwrap();
        assert_eq!(pending.len(), 1);
        let puid = pending[0].puid.clone();
        store
            .record_dsa_submissions(
                &Actor::system(),
                vec![(puid.clone(), DsaSubmission::Attempted)],
                at(2),
            )
            .await
            .unwrap();
        assert_eq!(
            store.dsa_unsubmitted(10).await.unwrap()[0].submission_status,
            "attempted"
        );
        store
            .record_dsa_submissions(
                &Actor::system(),
                vec![(
                    puid.clone(),
                    DsaSubmission::Accepted {
                        uuid: Some("u-1".into()),
                        permalink: None,
                    },
                )],
                at(3),
            )
            .await
            .unwrap();
        assert!(store.dsa_unsubmitted(10).await.unwrap().is_empty());
        let facts = store.transparency_facts(t0(), at(60)).await.unwrap();
        assert_eq!(facts.actions.len(), 2);
        assert_eq!(facts.statements, 1);
        assert_eq!(facts.actions[0].source, "user_report");
    }
);

store_test!(
    workers_never_lease_the_same_row,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        for n in 0..12 {
            let (case_id, version) =
                claimed_case(&store, &format!("p{n}"), &format!("a{n}"), &anna, n).await;
            decide_with(
                &store,
                &anna,
                case_id,
                version,
                spam(
                    vec![
                        spec(ActionKind::RemoveContent, None),
                        spec(ActionKind::Warn, None),
                    ],
                    "standard",
                ),
                DecisionExtras::default(),
                &policy(),
                DecisionMode::First,
                at(n),
            )
            .await
            .unwrap();
        }
        let rows = outbox(&store).await.len();
        assert_eq!(rows, 48);
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut leased = Vec::new();
                    loop {
                        let jobs = store
                            .claim_deliveries(&format!("w{w}"), 5, Duration::minutes(5), at(60))
                            .await
                            .unwrap();
                        if jobs.is_empty() {
                            return leased;
                        }
                        leased.extend(jobs.into_iter().map(|j| j.id));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        let distinct: std::collections::HashSet<i64> = all.iter().copied().collect();
        assert_eq!(all.len(), rows, "every row leased");
        assert_eq!(distinct.len(), rows, "no row leased twice");
    }
);
