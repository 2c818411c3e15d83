//! Incidents and bulk actions: membership by ids and by query, the
//! timeline, impact facts, and a bulk action from its dry run through one
//! lead approval to a run in batches that, started again and again (as
//! after a crash), decides each case exactly once.

use chrono::Duration;

use warden_domain::access::{Principal, Role};
use warden_domain::decision::{ActionKind, ActionSpec, Rationale};
use warden_domain::ids::{SubjectKind, UserId};
use warden_domain::incident::{
    impact, BulkCommand, BulkId, BulkInput, BulkStatus, CaseQueryInput, IncidentId, IncidentInput,
    Membership, MembershipInput, NewIncident,
};
use warden_domain::intake::ReportSource;
use warden_domain::routing::QueueScope;
use warden_domain::CaseId;
use warden_store::prelude::*;
use warden_store::{Actor, BulkAuthor, BulkRun, CaseFilter, SqlStore, StoreError};

use crate::store_test_raw;
use crate::support::{at, content, policy, reference, report, user, verify_audit, Raw};

/// `count` posts by distinct accounts, each with a spam report: one open
/// case each, in case order.
async fn spam_cases(store: &SqlStore, count: usize) -> Vec<CaseId> {
    let system = Actor::system();
    let mut ids = Vec::new();
    for n in 0..count {
        let post = format!("post_{n}");
        store
            .ingest_subjects(
                &system,
                vec![content(&post, &format!("acct_{}", n % 3))],
                at(0),
            )
            .await
            .unwrap();
        let subject = reference(SubjectKind::Content, &post);
        store
            .ingest_reports(
                &system,
                vec![report(
                    &format!("r_{n}"),
                    &subject,
                    "spam",
                    ReportSource::UserReport,
                )],
                &policy(),
                at(0),
            )
            .await
            .unwrap();
    }
    let cases = store
        .list_cases(&CaseFilter {
            limit: 500,
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    ids.extend(cases.iter().map(|c| c.id));
    ids.sort();
    ids
}

fn incident_input() -> NewIncident {
    NewIncident::parse(&IncidentInput {
        title: Some("Follower spam wave".into()),
        severity: Some("sev2".into()),
        description: Some("link farm posts from fresh accounts".into()),
    })
    .unwrap()
}

fn principal(id: i64, name: &str, role: Role) -> Principal {
    Principal {
        user_id: id,
        name: name.into(),
        role,
        teams: Vec::new(),
        scope: None,
    }
}

fn bulk_command(incident: IncidentId, author: i64, dry_run: bool, label: &str) -> BulkCommand {
    BulkCommand::parse(
        BulkId(0),
        incident,
        UserId(author),
        &BulkInput {
            actions: vec![ActionSpec {
                kind: ActionKind::RemoveContent,
                duration: None,
            }],
            rationale: Rationale {
                what_happened: "the same follower-selling link posted by fresh accounts".into(),
                evidence: "incident cases".into(),
                policy: "spam 2.1".into(),
                action: label.into(),
                next_steps: String::new(),
            },
            dry_run: Some(dry_run),
            ..BulkInput::default()
        },
    )
    .unwrap()
}

async fn decisions_per_case(raw: &Raw) -> Vec<(i64, i64)> {
    let mut conn = raw.connect().await;
    sqlx::query_as::<_, (i64, i64)>(
        "SELECT case_id, COUNT(*) FROM decisions GROUP BY case_id ORDER BY case_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

store_test_raw!(
    cases_join_by_ids_and_by_query_with_a_timeline,
    |store: SqlStore, _raw: Raw| async move {
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let cases = spam_cases(&store, 5).await;
        let incident = store
            .create_incident(&lea, &incident_input(), at(1))
            .await
            .unwrap();
        assert_eq!(incident.owner, "lea");
        assert_eq!(incident.status.as_str(), "open");
        let every = CaseFilter::default();
        // Unknown ids are refused, naming the field; nothing joins.
        let refused = store
            .add_incident_cases(
                &lea,
                incident.id,
                &Membership::Ids(vec![cases[0], CaseId(9_999)]),
                &every,
                at(2),
            )
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Invalid { field, reason }) if field == "case_ids" && reason.contains("9999")),
            "{refused:?}"
        );
        let joined = store
            .add_incident_cases(
                &lea,
                incident.id,
                &Membership::Ids(cases[..2].to_vec()),
                &every,
                at(2),
            )
            .await
            .unwrap();
        assert_eq!((joined.plan.add.len(), joined.members), (2, 2));
        // By query: the case list's filters; members already in are counted, not added.
        let query = Membership::parse(&MembershipInput {
            case_ids: None,
            query: Some(CaseQueryInput {
                category: Some("spam".into()),
                ..CaseQueryInput::default()
            }),
        })
        .unwrap();
        let filter = CaseFilter {
            category: Some("spam".into()),
            ..CaseFilter::default()
        };
        let joined = store
            .add_incident_cases(&lea, incident.id, &query, &filter, at(3))
            .await
            .unwrap();
        assert_eq!(
            (
                joined.plan.add.len(),
                joined.plan.already_members,
                joined.members
            ),
            (3, 2, 5)
        );
        // A scope that admits no queue sees none of the cases.
        let hidden = QueueScope::Only(Default::default());
        assert!(store
            .incident_case_facts(incident.id, &hidden)
            .await
            .unwrap()
            .is_empty());
        let facts = store
            .incident_case_facts(incident.id, &QueueScope::Every)
            .await
            .unwrap();
        let counted = impact(&facts);
        assert_eq!(
            (counted.cases, counted.open_cases, counted.accounts),
            (5, 5, 3)
        );
        let listed = store
            .incident_cases(incident.id, &QueueScope::Every, 100, 0)
            .await
            .unwrap();
        assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), cases);
        let timeline = store.incident_timeline(incident.id, 100).await.unwrap();
        let events: Vec<&str> = timeline.iter().map(|t| t.event.as_str()).collect();
        assert_eq!(events, ["opened", "cases_joined", "cases_joined"]);
        assert_eq!(timeline[2].text, "3 cases joined by query");
        assert_eq!(store.list_incidents(10, 0).await.unwrap().len(), 1);
        assert!(store.incident(IncidentId(77)).await.unwrap().is_none());
        verify_audit(&store).await;
    }
);

store_test_raw!(
    a_bulk_action_is_dry_run_approved_once_and_decides_each_case_once,
    |store: SqlStore, raw: Raw| async move {
        let (lea_user, lea) = user(&store, "lea", Role::Lead).await;
        let (lou_user, lou) = user(&store, "lou", Role::Lead).await;
        let (anna_user, anna) = user(&store, "anna", Role::Analyst).await;
        let cases = spam_cases(&store, 7).await;
        // Anna holds one case: the bulk skips it rather than take it from her.
        let held = store
            .claim_next(&anna, "general", Duration::minutes(30), at(1))
            .await
            .unwrap()
            .unwrap();
        let incident = store
            .create_incident(&lea, &incident_input(), at(1))
            .await
            .unwrap();
        store
            .add_incident_cases(
                &lea,
                incident.id,
                &Membership::Ids(cases.clone()),
                &CaseFilter::default(),
                at(2),
            )
            .await
            .unwrap();
        let author = BulkAuthor {
            actor: lea.clone(),
            scope: QueueScope::Every,
        };
        let dry = bulk_command(incident.id, lea_user.id, true, "remove the posts");
        let stored = serde_json::json!({"note": "stored form"});
        let planned = store
            .plan_bulk(&author, &dry, &stored, &policy(), at(3))
            .await
            .unwrap();
        assert_eq!(planned.record.status, BulkStatus::DryRun);
        assert_eq!((planned.record.planned, planned.record.skipped), (6, 1));
        assert_eq!(planned.skipped[0].case_id, held.id);
        assert_eq!(planned.skipped[0].code, "held");
        assert!(
            decisions_per_case(&raw).await.is_empty(),
            "a dry run decides nothing"
        );
        // A submission that does not match a dry run is refused.
        let other = bulk_command(incident.id, lea_user.id, false, "something else");
        let refused = store
            .plan_bulk(&author, &other, &stored, &policy(), at(4))
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        let submit = bulk_command(incident.id, lea_user.id, false, "remove the posts");
        let submitted = store
            .plan_bulk(&author, &submit, &stored, &policy(), at(4))
            .await
            .unwrap();
        assert_eq!(submitted.record.id, planned.record.id);
        assert_eq!(submitted.record.status, BulkStatus::AwaitingApproval);
        let bulk = submitted.record.id;
        // Four eyes: not the author, not an analyst; then one lead, once.
        let own = store
            .approve_bulk(
                &lea,
                &principal(lea_user.id, "lea", Role::Lead),
                bulk,
                at(5),
            )
            .await;
        assert!(matches!(own, Err(StoreError::Forbidden(_))), "{own:?}");
        let analyst = store
            .approve_bulk(
                &anna,
                &principal(anna_user.id, "anna", Role::Analyst),
                bulk,
                at(5),
            )
            .await;
        assert!(
            matches!(analyst, Err(StoreError::Forbidden(_))),
            "{analyst:?}"
        );
        let approved = store
            .approve_bulk(
                &lou,
                &principal(lou_user.id, "lou", Role::Lead),
                bulk,
                at(5),
            )
            .await
            .unwrap();
        assert_eq!(approved.status, BulkStatus::Applying);
        assert_eq!(approved.approver.as_deref(), Some("lou"));
        let again = store
            .approve_bulk(
                &lou,
                &principal(lou_user.id, "lou", Role::Lead),
                bulk,
                at(5),
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(store.applying_bulk_actions().await.unwrap().len(), 1);
        // The run, two steps a batch; each batch is a run started afresh.
        let mut command = bulk_command(incident.id, lea_user.id, false, "remove the posts");
        command.bulk = bulk;
        let run = BulkRun {
            command,
            author,
            approver: lou.clone(),
            batch: 2,
        };
        let mut batches = 0;
        loop {
            let done = store.run_bulk_batch(&run, &policy(), at(6)).await.unwrap();
            batches += 1;
            if done.completed {
                break;
            }
            assert!(batches < 10, "the run ends");
        }
        assert_eq!(batches, 4);
        let record = store.bulk_action(bulk).await.unwrap().unwrap();
        assert_eq!(record.status, BulkStatus::Completed);
        assert_eq!((record.applied, record.skipped), (6, 1));
        let skips = store.bulk_skips(bulk, 10).await.unwrap();
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].case_id, held.id);
        // Once more after completion: nothing changes.
        let after = store.run_bulk_batch(&run, &policy(), at(7)).await.unwrap();
        assert!(after.completed && after.applied == 0);
        let decided = decisions_per_case(&raw).await;
        assert_eq!(decided.len(), 6);
        assert!(decided.iter().all(|(_, n)| *n == 1), "{decided:?}");
        assert!(decided.iter().all(|(case, _)| *case != held.id.0));
        let case = store
            .case(cases[if held.id == cases[0] { 1 } else { 0 }])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.status.as_str(), "resolved");
        let events: Vec<String> = store
            .incident_timeline(incident.id, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.event)
            .collect();
        assert_eq!(
            events,
            [
                "opened",
                "cases_joined",
                "bulk_planned",
                "bulk_approved",
                "bulk_completed"
            ]
        );
        verify_audit(&store).await;
    }
);
