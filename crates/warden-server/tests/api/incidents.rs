//! Incidents and bulk actions over the API: opening, membership by ids and
//! by query, the bulk action's dry run, submission, one lead approval
//! (never the author's, never a non-lead's, never twice), the run by the
//! bulk runner, and progress; with every refusal the contract names.

use serde_json::{json, Value};

use warden_app::{App, AppSettings};
use warden_domain::access::Role;
use warden_store::CasePolicy;
use warden_workers::bulk::BulkRunner;

use crate::support::TestApp;

fn bulk_body(dry_run: bool, action: &str) -> Value {
    json!({
        "actions": [{"type": "remove_content"}],
        "rationale": {"what_happened": "follower-selling link posted by fresh accounts", "evidence": "incident cases", "policy": "spam 2.1", "action": action},
        "dry_run": dry_run,
    })
}

/// Four spam cases on posts of two accounts.
async fn spam_cases(app: &TestApp) -> Vec<i64> {
    let mut cases = Vec::new();
    for n in 0..4 {
        let post = format!("wave_{n}");
        app.post_subject(&post, &format!("acct_{}", n % 2), "cheap followers")
            .await;
        cases.push(
            app.report(&format!("r_wave_{n}"), ("content", &post), "spam")
                .await,
        );
    }
    cases
}

#[tokio::test]
async fn an_incident_contains_a_surge_with_one_approved_bulk_action() {
    let app = TestApp::new().await;
    let lead = app.token(Role::Lead).to_string();
    let analyst = app.token(Role::Analyst).to_string();
    let lou = app.user_token("lou", Role::Lead).await;
    let cases = spam_cases(&app).await;

    // Opening: leads only; every field checked.
    let body =
        json!({"title": "Follower spam wave", "severity": "sev2", "description": "link farm"});
    assert_eq!(
        app.post("/api/v1/incidents", &analyst, body.clone())
            .await
            .status,
        403
    );
    let bad = app
        .post("/api/v1/incidents", &lead, json!({"severity": "sev9"}))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.fields(), ["title", "severity"]);
    let created = app.post("/api/v1/incidents", &lead, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["owner"], "lead");
    assert_eq!(created.body["status"], "open");
    let listed = app.get("/api/v1/incidents", &analyst).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/incidents/999", &lead).await.status, 404);
    assert_eq!(app.get("/api/v1/incidents/x", &lead).await.status, 404);

    // Membership: ids or a query, never both; bounded; unknown ids named.
    let path = format!("/api/v1/incidents/{id}/cases");
    let both = app
        .post(
            &path,
            &lead,
            json!({"case_ids": [cases[0]], "query": {"category": "spam"}}),
        )
        .await;
    assert_eq!(
        (both.status.as_u16(), both.fields()),
        (422, vec!["case_ids".to_string()])
    );
    let too_many: Vec<i64> = (1..=100_001).collect();
    let over = app.post(&path, &lead, json!({"case_ids": too_many})).await;
    assert_eq!(over.status, 422, "{}", over.body);
    assert_eq!(over.fields(), ["case_ids"]);
    assert!(over.body["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("100000"));
    let unknown = app
        .post(&path, &lead, json!({"case_ids": [cases[0], 987_654]}))
        .await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.fields()),
        (422, vec!["case_ids".to_string()])
    );
    let empty_query = app.post(&path, &lead, json!({"query": {}})).await;
    assert_eq!(
        (empty_query.status.as_u16(), empty_query.fields()),
        (422, vec!["query".to_string()])
    );
    let joined = app
        .post(
            &path,
            &lead,
            json!({"query": {"category": "spam", "status": "new"}}),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(
        joined.body,
        json!({"added": 4, "already_members": 0, "cases": 4})
    );
    assert_eq!(
        app.post(
            "/api/v1/incidents/999/cases",
            &lead,
            json!({"case_ids": [cases[0]]})
        )
        .await
        .status,
        404
    );

    // The bulk action: a dry run first; a submission must match it.
    let bulk_path = format!("/api/v1/incidents/{id}/bulk-actions");
    let no_actions = app
        .post(
            &bulk_path,
            &lead,
            json!({"rationale": {"what_happened": "x"}, "dry_run": true}),
        )
        .await;
    assert_eq!(no_actions.status, 422, "{}", no_actions.body);
    assert!(no_actions.fields().contains(&"actions".to_string()));
    assert_eq!(
        app.post(&bulk_path, &analyst, bulk_body(true, "remove"))
            .await
            .status,
        403
    );
    let unmatched = app
        .post(&bulk_path, &lead, bulk_body(false, "remove the posts"))
        .await;
    assert_eq!(unmatched.status, 409, "{}", unmatched.body);
    let dry = app
        .post(&bulk_path, &lead, bulk_body(true, "remove the posts"))
        .await;
    assert_eq!(dry.status, 201, "{}", dry.body);
    assert_eq!(
        (dry.body["status"].as_str(), dry.body["planned"].as_i64()),
        (Some("dry_run"), Some(4))
    );
    assert_eq!(dry.body["skipped"], json!([]));
    let bulk = dry.body["id"].as_i64().unwrap();
    let submitted = app
        .post(&bulk_path, &lead, bulk_body(false, "remove the posts"))
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    assert_eq!(submitted.body["id"].as_i64(), Some(bulk));
    assert_eq!(submitted.body["status"], "awaiting_approval");

    // One approval: not the author, not a non-lead, not twice.
    let approve = format!("/api/v1/incidents/{id}/bulk-actions/{bulk}/approve");
    let own = app.post(&approve, &lead, json!(null)).await;
    assert_eq!(own.status, 403, "{}", own.body);
    assert_eq!(app.post(&approve, &analyst, json!(null)).await.status, 403);
    let wrong_incident = app
        .post(
            &format!("/api/v1/incidents/999/bulk-actions/{bulk}/approve"),
            &lou,
            json!(null),
        )
        .await;
    assert_eq!(wrong_incident.status, 404);
    let approved = app.post(&approve, &lou, json!(null)).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(
        (
            approved.body["status"].as_str(),
            approved.body["approver"].as_str()
        ),
        (Some("applying"), Some("lou"))
    );
    let stale = app.post(&approve, &lou, json!(null)).await;
    assert_eq!(stale.status, 409, "{}", stale.body);

    // The bulk runner applies it: one decision per case, through the enforcement path.
    let runner_app = App::new(
        app.store.clone(),
        CasePolicy::default(),
        AppSettings::default(),
    )
    .with_clock(app.clock.clone());
    let dealt = BulkRunner::new(runner_app).run_until_idle().await.unwrap();
    assert_eq!(dealt, 4);
    let progress = app
        .get(
            &format!("/api/v1/incidents/{id}/bulk-actions/{bulk}"),
            &analyst,
        )
        .await;
    assert_eq!(progress.status, 200, "{}", progress.body);
    assert_eq!(
        (
            progress.body["status"].as_str(),
            progress.body["planned"].as_i64(),
            progress.body["applied"].as_i64()
        ),
        (Some("completed"), Some(4), Some(4))
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/incidents/999/bulk-actions/{bulk}"),
            &analyst
        )
        .await
        .status,
        404
    );
    for case in &cases {
        let shown = app.get(&format!("/api/v1/cases/{case}"), &lead).await;
        assert_eq!(shown.body["status"], "resolved", "{}", shown.body);
        assert_eq!(shown.body["decisions"].as_array().unwrap().len(), 1);
    }
    let incident = app.get(&format!("/api/v1/incidents/{id}"), &analyst).await;
    assert_eq!(incident.body["impact"]["cases"], 4);
    assert_eq!(incident.body["impact"]["open_cases"], 0);
    assert_eq!(incident.body["impact"]["accounts"], 2);
    let events: Vec<&str> = incident.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event"].as_str().unwrap())
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
    let audit = app.audit_actions().await;
    for action in [
        "incident.open",
        "incident.cases_add",
        "bulk.dry_run",
        "bulk.submit",
        "bulk.approve",
        "bulk.complete",
    ] {
        assert!(audit.iter().any(|a| a == action), "{action} in {audit:?}");
    }
}
