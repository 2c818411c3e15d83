//! Least privilege in the store: users' teams, case lists and queue counts
//! kept to the queues a reader may see, leases that cannot be renewed once
//! they ran out, and who minted (and who used) an API token.

use std::collections::BTreeSet;

use chrono::Duration;

use warden_domain::access::{Role, Scope};
use warden_domain::case::CaseStatus;
use warden_domain::ids::SubjectKind;
use warden_domain::intake::ReportSource;
use warden_domain::routing::{QueueDefinition, QueueScope, Router};
use warden_domain::CaseId;
use warden_store::prelude::*;
use warden_store::{Actor, CaseFilter, CasePolicy, SqlStore, StoreError};

use crate::store_test;
use crate::support::{at, reference, report, t0, user, verify_audit};

fn teams(names: &[&str]) -> Vec<String> {
    names.iter().map(|t| t.to_string()).collect()
}

fn queues(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|q| q.to_string()).collect()
}

/// General queues and a child-safety queue restricted to a team.
fn restricted_policy() -> CasePolicy {
    let mut child_safety = QueueDefinition::catch_all("child-safety");
    child_safety.categories = vec!["child_safety".into()];
    child_safety.roles = vec![Role::Analyst, Role::Lead];
    child_safety.teams = teams(&["child_safety"]);
    CasePolicy {
        router: Router::new(vec![child_safety]).unwrap(),
        ..CasePolicy::default()
    }
}

/// Three spam cases in `general` and two child-safety cases in `child-safety`.
async fn cases_in_two_queues(store: &SqlStore) -> (Vec<CaseId>, Vec<CaseId>) {
    let policy = restricted_policy();
    let mut reports = Vec::new();
    for i in 0..3 {
        let post = reference(SubjectKind::Content, &format!("spam_{i}"));
        reports.push(report(
            &format!("rs{i}"),
            &post,
            "spam",
            ReportSource::UserReport,
        ));
    }
    for i in 0..2 {
        let post = reference(SubjectKind::Content, &format!("cs_{i}"));
        reports.push(report(
            &format!("rc{i}"),
            &post,
            "child_safety",
            ReportSource::UserReport,
        ));
    }
    store
        .ingest_reports(&Actor::system(), reports, &policy, t0())
        .await
        .unwrap();
    let all = store
        .list_cases(&CaseFilter {
            limit: 50,
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    let in_queue = |queue: &str| {
        all.iter()
            .filter(|c| c.queue == queue)
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    (in_queue("general"), in_queue("child-safety"))
}

store_test!(
    teams_are_stored_checked_and_replaced,
    |store: SqlStore| async move {
        let created = store
            .create_user_with_teams(
                &Actor::system(),
                "cara",
                Role::Analyst,
                "$argon2id$test",
                &teams(&["legal", "child_safety", "legal"]),
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(
            created.teams,
            teams(&["child_safety", "legal"]),
            "sorted, no repeats"
        );
        let read = store.user_by_name("cara").await.unwrap().unwrap();
        assert_eq!(read.teams, created.teams);
        let (plain, _) = user(&store, "dan", Role::Analyst).await;
        assert!(plain.teams.is_empty(), "no teams unless given");

        let changed = store
            .set_user_teams(&Actor::system(), "cara", &teams(&["fraud_ring"]), at(1))
            .await
            .unwrap();
        assert_eq!(changed.teams, teams(&["fraud_ring"]));
        assert_eq!(
            store.user_by_id(created.id).await.unwrap().unwrap().teams,
            teams(&["fraud_ring"])
        );
        let cleared = store
            .set_user_teams(&Actor::system(), "cara", &[], at(2))
            .await
            .unwrap();
        assert!(cleared.teams.is_empty());

        // Bad teams change nothing and name the field.
        let bad = store
            .set_user_teams(&Actor::system(), "cara", &teams(&["Child Safety"]), at(3))
            .await;
        assert!(
            matches!(bad, Err(StoreError::Invalid { ref field, .. }) if field == "teams"),
            "{bad:?}"
        );
        let too_many: Vec<String> = (0..=warden_domain::limits::TEAMS_PER_USER_MAX)
            .map(|i| format!("t{i}"))
            .collect();
        assert!(store
            .set_user_teams(&Actor::system(), "cara", &too_many, at(3))
            .await
            .is_err());
        let missing = store
            .set_user_teams(&Actor::system(), "nobody", &[], at(3))
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound(_))),
            "{missing:?}"
        );
        assert!(store
            .user_by_name("cara")
            .await
            .unwrap()
            .unwrap()
            .teams
            .is_empty());

        // Sessions and tokens carry the user's teams.
        store
            .set_user_teams(&Actor::system(), "cara", &teams(&["legal"]), at(4))
            .await
            .unwrap();
        store
            .create_session(created.id, "session-hash", "csrf", at(60), at(4))
            .await
            .unwrap();
        let (_, session_user) = store.session("session-hash", at(5)).await.unwrap().unwrap();
        assert_eq!(session_user.teams, teams(&["legal"]));
        store
            .create_token(
                &Actor::user(created.id, "cara"),
                created.id,
                "mine",
                Scope::Review,
                "token-hash",
                at(5),
            )
            .await
            .unwrap();
        let (_, token_user) = store.token_by_hash("token-hash").await.unwrap().unwrap();
        assert_eq!(token_user.teams, teams(&["legal"]));

        let audit = store.audit_page(0, 100).await.unwrap();
        let change = audit
            .iter()
            .find(|r| {
                r.entry.action == "user.teams"
                    && r.entry.after["teams"] == serde_json::json!(["fraud_ring"])
            })
            .expect("team changes are audited");
        assert_eq!(
            change.entry.before["teams"],
            serde_json::json!(["child_safety", "legal"])
        );
        verify_audit(&store).await;
    }
);

store_test!(
    lists_and_counts_keep_to_the_visible_queues,
    |store: SqlStore| async move {
        let (general, restricted) = cases_in_two_queues(&store).await;
        assert_eq!((general.len(), restricted.len()), (3, 2));
        let list = |scope: QueueScope, limit: u32, offset: u32| {
            let store = store.clone();
            async move {
                store
                    .list_cases(&CaseFilter {
                        scope,
                        limit,
                        offset,
                        ..CaseFilter::default()
                    })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|c| c.id)
                    .collect::<BTreeSet<_>>()
            }
        };
        let outsider = QueueScope::Only(queues(&["general"]));
        assert_eq!(
            list(outsider.clone(), 50, 0).await,
            general.iter().copied().collect()
        );
        // Pages are taken after the filter: two pages of two hold the three
        // visible cases, and nothing restricted.
        let mut paged = list(outsider.clone(), 2, 0).await;
        assert_eq!(paged.len(), 2);
        paged.extend(list(outsider.clone(), 2, 2).await);
        assert_eq!(paged, general.iter().copied().collect());
        assert_eq!(
            list(QueueScope::AllBut(queues(&["child-safety"])), 50, 0).await,
            general.iter().copied().collect(),
            "a lead outside the team: everything but the restricted queue"
        );
        assert_eq!(list(QueueScope::Every, 50, 0).await.len(), 5);
        assert_eq!(
            list(QueueScope::AllBut(BTreeSet::new()), 50, 0).await.len(),
            5
        );
        assert!(
            list(QueueScope::Only(BTreeSet::new()), 50, 0)
                .await
                .is_empty(),
            "admitted nowhere: nothing"
        );
        // Other filters combine with the scope.
        let by_subject = store
            .list_cases(&CaseFilter {
                subject: Some(reference(SubjectKind::Content, "cs_0")),
                scope: outsider.clone(),
                limit: 50,
                ..CaseFilter::default()
            })
            .await
            .unwrap();
        assert!(
            by_subject.is_empty(),
            "a restricted subject's cases are not found"
        );

        let stats = store.queue_stats(&outsider, at(1)).await.unwrap();
        assert_eq!(
            stats
                .iter()
                .map(|s| (s.queue.as_str(), s.depth))
                .collect::<Vec<_>>(),
            [("general", 3)]
        );
        let member = QueueScope::Only(queues(&["general", "child-safety"]));
        let stats = store.queue_stats(&member, at(1)).await.unwrap();
        assert_eq!(
            stats
                .iter()
                .map(|s| (s.queue.as_str(), s.depth))
                .collect::<Vec<_>>(),
            [("child-safety", 2), ("general", 3)]
        );
        let stats = store
            .queue_stats(&QueueScope::AllBut(queues(&["general"])), at(1))
            .await
            .unwrap();
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0].queue, "child-safety");
        assert!(store
            .queue_stats(&QueueScope::Only(BTreeSet::new()), at(1))
            .await
            .unwrap()
            .is_empty());

        // The gate's look-ups: a case's queue, a decision's case and queue.
        let mut ids = general.clone();
        ids.push(restricted[0]);
        ids.push(CaseId(999_999));
        let found = store.case_queues(&ids).await.unwrap();
        assert_eq!(found.len(), 4, "unknown ids are left out");
        assert!(found.contains(&(restricted[0], "child-safety".to_string())));
        assert!(store.decision_cases(&[1, 2]).await.unwrap().is_empty());
    }
);

store_test!(
    decisions_name_their_case_and_queue,
    |store: SqlStore| async move {
        let (_, restricted) = cases_in_two_queues(&store).await;
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let claimed = store
            .claim_next(&anna, "child-safety", Duration::minutes(10), at(1))
            .await
            .unwrap()
            .unwrap();
        assert!(restricted.contains(&claimed.id));
        let decision = store
            .decide(
                &anna,
                claimed.id,
                claimed.version,
                warden_domain::decision::DecisionInput {
                    violation: false,
                    category: "child_safety".into(),
                    policy: None,
                    actions: Vec::new(),
                    rationale: warden_domain::decision::Rationale {
                        what_happened: "a family photo".into(),
                        evidence: "nothing sexual, nobody harmed".into(),
                        policy: "child safety 1.1".into(),
                        action: "none".into(),
                        next_steps: String::new(),
                    },
                },
                &restricted_policy(),
                warden_store::DecisionMode::First,
                at(2),
            )
            .await
            .unwrap();
        assert_eq!(
            store.decision_cases(&[decision.id, 424_242]).await.unwrap(),
            [(decision.id, claimed.id, "child-safety".to_string())]
        );
    }
);

store_test!(
    a_lease_that_ran_out_cannot_be_renewed,
    |store: SqlStore| async move {
        cases_in_two_queues(&store).await;
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let lease = Duration::minutes(10);
        let claimed = store
            .claim_next(&anna, "general", lease, at(1))
            .await
            .unwrap()
            .unwrap();
        // Within the lease: renewed from now.
        let renewed = store
            .renew_lease(&anna, claimed.id, None, lease, at(5))
            .await
            .unwrap();
        assert_eq!(renewed.lease_expires_at, Some(at(15)));
        // After it ran out nobody else claimed the case, but another analyst
        // could have: the renewal is refused and changes nothing.
        let late = store
            .renew_lease(&anna, claimed.id, None, lease, at(16))
            .await;
        assert!(
            matches!(late, Err(StoreError::Conflict(ref m)) if m.contains("ran out")),
            "{late:?}"
        );
        let unchanged = store.case(claimed.id).await.unwrap().unwrap();
        assert_eq!(unchanged.version, renewed.version);
        assert_eq!(unchanged.lease_expires_at, Some(at(15)));
        // Exactly at the end the lease is over too.
        let at_end = store
            .renew_lease(&anna, claimed.id, None, lease, at(15))
            .await;
        assert!(matches!(at_end, Err(StoreError::Conflict(_))), "{at_end:?}");
        // Claiming again works, and so does renewing the new lease.
        let again = store
            .claim_next(&anna, "general", lease, at(16))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.id, claimed.id);
        store
            .renew_lease(&anna, claimed.id, None, lease, at(20))
            .await
            .unwrap();
        // A held case keeps its semantics: no running lease, renewable by its holder.
        let held = store
            .hold(
                &anna,
                claimed.id,
                None,
                "waiting for the legal team",
                at(21),
            )
            .await
            .unwrap();
        assert!(held.held);
        let renewed_held = store
            .renew_lease(&anna, claimed.id, None, lease, at(200))
            .await
            .unwrap();
        assert_eq!(renewed_held.assignee.as_deref(), Some("anna"));
        assert_eq!(renewed_held.status, CaseStatus::InReview);
        verify_audit(&store).await;
    }
);

store_test!(
    tokens_record_who_minted_and_who_used_them,
    |store: SqlStore| async move {
        let (lead, lead_actor) = user(&store, "lea", Role::Lead).await;
        let (admin, admin_actor) = user(&store, "ada", Role::Admin).await;
        let own = store
            .create_token(
                &lead_actor,
                lead.id,
                "lea-review",
                Scope::Review,
                "h1",
                at(1),
            )
            .await
            .unwrap();
        assert_eq!(own.minted_by.as_deref(), Some("lea"));
        let for_platform = store
            .create_token(
                &admin_actor,
                admin.id,
                "platform",
                Scope::Ingest,
                "h2",
                at(2),
            )
            .await
            .unwrap();
        assert_eq!(for_platform.minted_by.as_deref(), Some("ada"));
        let operator = Actor {
            user_id: None,
            name: "cli".into(),
            token_id: None,
        };
        let from_cli = store
            .create_token(&operator, lead.id, "cli-made", Scope::Read, "h3", at(3))
            .await
            .unwrap();
        assert_eq!(from_cli.minted_by.as_deref(), Some("system"));

        let listed = store.list_tokens(None).await.unwrap();
        let minted: Vec<(&str, Option<&str>)> = listed
            .iter()
            .map(|t| (t.name.as_str(), t.minted_by.as_deref()))
            .collect();
        assert_eq!(
            minted,
            [
                ("lea-review", Some("lea")),
                ("platform", Some("ada")),
                ("cli-made", Some("system"))
            ]
        );
        let (by_hash, _) = store.token_by_hash("h1").await.unwrap().unwrap();
        assert_eq!(by_hash.minted_by.as_deref(), Some("lea"));
        let revoked = store
            .revoke_token(&admin_actor, from_cli.id, at(4))
            .await
            .unwrap();
        assert_eq!(revoked.minted_by.as_deref(), Some("system"));

        // The audit names who minted each token, and every change made through
        // a token names the token.
        store
            .record_read(
                &lead_actor.clone().via_token(Some(own.id)),
                "case.list",
                "cases",
                "0 cases",
                serde_json::Value::Null,
                at(5),
            )
            .await
            .unwrap();
        store
            .set_user_teams(
                &admin_actor.clone().via_token(Some(for_platform.id)),
                "lea",
                &teams(&["legal"]),
                at(6),
            )
            .await
            .unwrap();
        let audit = store.audit_page(0, 100).await.unwrap();
        let created = audit
            .iter()
            .find(|r| r.entry.action == "token.create" && r.entry.target_id == own.id.to_string())
            .unwrap();
        assert_eq!(created.entry.actor, "lea");
        assert_eq!(created.entry.after["minted_by"], "lea");
        let read = audit
            .iter()
            .find(|r| r.entry.action == "case.list")
            .unwrap();
        assert_eq!(read.entry.actor, "lea");
        assert_eq!(read.entry.after["via_token"], own.id);
        let teams_set = audit
            .iter()
            .find(|r| r.entry.action == "user.teams")
            .unwrap();
        assert_eq!(teams_set.entry.actor, "ada");
        assert_eq!(teams_set.entry.after["via_token"], for_platform.id);
        assert_eq!(teams_set.entry.after["teams"], serde_json::json!(["legal"]));
        let without = audit
            .iter()
            .find(|r| r.entry.action == "token.revoke")
            .unwrap();
        assert!(without.entry.after.get("via_token").is_none());
        verify_audit(&store).await;
    }
);

store_test!(
    refused_sign_ins_are_audited_with_the_reason,
    |store: SqlStore| async move {
        let (cara, _) = user(&store, "cara", Role::Analyst).await;
        store
            .record_sign_in_refused("cara", Some(cara.id), "locked", at(1))
            .await
            .unwrap();
        let long_name = "x".repeat(5_000);
        store
            .record_sign_in_refused(&long_name, None, "unknown user", at(2))
            .await
            .unwrap();
        let audit = store.audit_page(0, 100).await.unwrap();
        let refused: Vec<_> = audit
            .iter()
            .filter(|r| r.entry.action == "session.sign_in_failed")
            .collect();
        assert_eq!(refused.len(), 2);
        assert_eq!(refused[0].entry.actor, "cara");
        assert_eq!(refused[0].entry.after["reason"], "locked");
        assert_eq!(refused[1].entry.actor, "anonymous");
        assert_eq!(refused[1].entry.after["reason"], "unknown user");
        assert_eq!(
            refused[1].entry.target_id.len(),
            warden_domain::limits::USER_NAME_BYTES_MAX,
            "a stranger's name is cut to a real name's length"
        );
        // A refusal does not count towards the lockout.
        let after = store.user_by_name("cara").await.unwrap().unwrap();
        assert_eq!(after.failed_sign_ins, 0);
        assert!(after.locked_until.is_none());
        verify_audit(&store).await;
    }
);
