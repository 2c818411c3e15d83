//! Escalations and evidence over HTTP: evidence attached as JSON and as a
//! raw upload (413 past `[evidence] file_bytes_max`), read back with its
//! SHA-256 checked; escalation to a team (422 naming a missing package
//! part, 409 on a stale version), after which the case lives in the
//! team's restricted queue (404 and absent from lists for everyone else);
//! the package as JSON and Markdown; acknowledgement by a member, once.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use warden_app::escalations::EscalationSettings;
use warden_domain::access::Role;
use warden_domain::escalation::EscalationPolicy;
use warden_domain::evidence::EvidenceLimits;
use warden_domain::routing::{QueueDefinition, Router};
use warden_server::{Clock, ServerSettings};
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy, Paging};

use crate::support::TestApp;

const FILE_LIMIT: u64 = 64;

fn settings() -> (ServerSettings, CasePolicy) {
    let policy = EscalationPolicy::default();
    let mut queues: Vec<QueueDefinition> = policy
        .teams()
        .iter()
        .map(|t| t.queue_definition())
        .collect();
    queues.push(QueueDefinition::catch_all("general"));
    let settings = ServerSettings {
        escalations: EscalationSettings {
            policy,
            paging: Paging::Webhook,
            evidence: EvidenceLimits::new(FILE_LIMIT).unwrap(),
        },
        ..ServerSettings::default()
    };
    let case_policy = CasePolicy {
        router: Router::new(queues).unwrap(),
        ..CasePolicy::default()
    };
    (settings, case_policy)
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn claim(app: &TestApp, token: &str) -> Value {
    let claimed = app
        .post("/api/v1/queues/general/claim", token, json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    claimed.body
}

async fn story(app: TestApp) {
    let now = app.clock.now();
    let analyst = app.user_token("anna", Role::Analyst).await;
    let member = app.user_token("cleo", Role::Analyst).await;
    app.store
        .set_user_teams(&Actor::system(), "cleo", &["child_safety".to_string()], now)
        .await
        .unwrap();
    let lead = app.token(Role::Lead).to_string();
    let case = app.report("rep_1", ("content", "post_1"), "spam").await;
    let bare = app.report("rep_2", ("content", "post_2"), "spam").await;

    // Evidence: a text excerpt as JSON.
    let excerpt = "I know where your kids go to school";
    let text = app
        .post(
            &format!("/api/v1/cases/{case}/evidence"),
            &analyst,
            json!({"kind": "text_excerpt", "text": excerpt, "caption": "DM to the reporter"}),
        )
        .await;
    assert_eq!(text.status, StatusCode::CREATED, "{}", text.body);
    assert_eq!(text.body["sha256"], sha256(excerpt.as_bytes()));
    assert_eq!(text.body["check"], "verified");
    // Missing fields are named.
    let bad = app
        .post(
            &format!("/api/v1/cases/{case}/evidence"),
            &analyst,
            json!({"kind": "url"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.fields(), vec!["url"]);
    // A file, raw; past the limit it is refused with 413.
    let big = app
        .send(
            "POST",
            &format!("/api/v1/cases/{case}/evidence?file_name=shot.png"),
            Some(&analyst),
            Some("image/png"),
            vec![7; FILE_LIMIT as usize + 1],
        )
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", big.body);
    let png = b"\x89PNG a small screenshot".to_vec();
    let file = app
        .send(
            "POST",
            &format!("/api/v1/cases/{case}/evidence?file_name=..%2Fshot.png&caption=profile"),
            Some(&analyst),
            Some("image/png"),
            png.clone(),
        )
        .await;
    assert_eq!(file.status, StatusCode::CREATED, "{}", file.body);
    assert_eq!(file.body["file_name"], "shot.png");
    assert_eq!(file.body["media_type"], "image/png");
    assert_eq!(file.body["sha256"], sha256(&png));
    let list = app
        .get(&format!("/api/v1/cases/{case}/evidence"), &analyst)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    let eid = file.body["id"].as_i64().unwrap();
    let one = app
        .get(&format!("/api/v1/cases/{case}/evidence/{eid}"), &analyst)
        .await;
    assert_eq!(one.body["check"], "verified");
    let content = app
        .get(
            &format!("/api/v1/cases/{case}/evidence/{eid}/content"),
            &analyst,
        )
        .await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.headers["x-warden-sha256"], sha256(&png).as_str());
    let missing = app
        .get(&format!("/api/v1/cases/{bare}/evidence/{eid}"), &analyst)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Escalation: the analyst holds the case.
    let held = claim(&app, &analyst).await;
    assert_eq!(held["id"], case);
    let version = held["version"].as_i64().unwrap();
    let stale = app
        .post(
            &format!("/api/v1/cases/{case}/escalate"),
            &analyst,
            json!({"version": version + 5, "team": "child_safety", "severity": "sev1", "reason": "threat to a child"}),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let unknown = app
        .post(
            &format!("/api/v1/cases/{case}/escalate"),
            &analyst,
            json!({"version": version, "team": "nobody", "severity": "sev9", "reason": "x"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.fields(), vec!["team", "severity"]);
    // A case without evidence: the package is incomplete, the part named.
    let bare_case = app.get(&format!("/api/v1/cases/{bare}"), &lead).await;
    let incomplete = app
        .post(
            &format!("/api/v1/cases/{bare}/escalate"),
            &lead,
            json!({"version": bare_case.body["version"], "team": "child_safety", "severity": "sev1", "reason": "threat"}),
        )
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(incomplete.fields(), vec!["package.evidence"]);
    let escalated = app
        .post(
            &format!("/api/v1/cases/{case}/escalate"),
            &analyst,
            json!({"version": version, "team": "child_safety", "severity": "sev1", "reason": "threat to a child"}),
        )
        .await;
    assert_eq!(escalated.status, StatusCode::OK, "{}", escalated.body);
    assert_eq!(escalated.body["status"], "escalated");
    assert_eq!(escalated.body["queue"], "child-safety");
    assert_eq!(escalated.body["escalation"]["team"], "child_safety");
    assert_eq!(escalated.body["escalation"]["severity"], "sev1");
    assert!(
        escalated.body["escalation"]["pages_pending"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // Outside the team the case is gone: 404 everywhere, absent from lists.
    for path in [
        format!("/api/v1/cases/{case}"),
        format!("/api/v1/cases/{case}/package"),
        format!("/api/v1/cases/{case}/evidence"),
        format!("/api/v1/cases/{case}/evidence/{eid}"),
    ] {
        for token in [&analyst, &lead] {
            let hidden = app.get(&path, token).await;
            assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(hidden.body["detail"], format!("case {case} not found"));
        }
    }
    let refused = app
        .post(
            &format!("/api/v1/cases/{case}/acknowledge"),
            &lead,
            json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    for token in [&analyst, &lead] {
        let listed = app.get("/api/v1/cases?limit=100", token).await;
        assert!(listed.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != case));
    }

    // The team member sees it, with its package.
    let seen = app.get(&format!("/api/v1/cases/{case}"), &member).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.body["escalation"]["acknowledged_by"], Value::Null);
    let package = app
        .get(&format!("/api/v1/cases/{case}/package"), &member)
        .await;
    assert_eq!(package.status, StatusCode::OK, "{}", package.body);
    assert_eq!(package.body["escalation"]["team"], "child_safety");
    let hashes: Vec<&str> = package.body["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sha256"].as_str().unwrap())
        .collect();
    assert!(hashes.contains(&sha256(&png).as_str()));
    assert!(package.body["timeline"].as_array().unwrap().len() >= 2);
    let markdown = app
        .get(
            &format!("/api/v1/cases/{case}/package?format=markdown"),
            &member,
        )
        .await;
    assert_eq!(markdown.status, StatusCode::OK);
    assert!(markdown.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    assert!(markdown.body.as_str().unwrap().contains(&sha256(&png)));
    let format = app
        .get(&format!("/api/v1/cases/{case}/package?format=pdf"), &member)
        .await;
    assert_eq!(format.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(format.fields(), vec!["format"]);

    // A member acknowledges, once.
    let acknowledged = app
        .post(
            &format!("/api/v1/cases/{case}/acknowledge"),
            &member,
            json!({}),
        )
        .await;
    assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.body);
    assert_eq!(acknowledged.body["acknowledged_by"], "cleo");
    assert_eq!(acknowledged.body["pages_pending"], 0);
    assert_eq!(acknowledged.body["time_to_acknowledge_seconds"], 0);
    let again = app
        .post(
            &format!("/api/v1/cases/{case}/acknowledge"),
            &member,
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let none = app
        .post(
            &format!("/api/v1/cases/{bare}/acknowledge"),
            &member,
            json!({}),
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    let actions = app.audit_actions().await;
    for action in [
        "evidence.attach",
        "case.escalate",
        "escalation.create",
        "escalation.acknowledge",
        "escalation.package.read",
        "evidence.read",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action} not audited");
    }
}

#[tokio::test]
async fn escalations_and_evidence_end_to_end_on_sqlite() {
    let (settings, policy) = settings();
    story(TestApp::with_settings(settings, policy).await).await;
}

#[tokio::test]
async fn escalations_and_evidence_end_to_end_on_postgres() {
    let (settings, policy) = settings();
    if let Some(app) = TestApp::postgres_with_settings(settings, policy).await {
        story(app).await;
    }
}
