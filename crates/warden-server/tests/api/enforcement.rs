//! Enforcement through the API: the matrix's recommendation, decision
//! rights and approvals, reversals, signed callbacks, dead letters,
//! taxonomy versions, notice templates, DSA validation and transparency.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use warden_domain::access::{Role, Scope};
use warden_domain::signature::sign;
use warden_server::auth::{new_token, secret_hash};
use warden_server::callbacks::{CallbackSecret, EnforcementSettings};
use warden_server::{router, AppState, Clock, ServerSettings};
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy};

use crate::support::TestApp;

fn rationale(action: &str) -> Value {
    json!({"what_happened": "posted the same scam link 40 times", "evidence": "posts 1-40", "policy": "spam 2.1",
           "action": action, "next_steps": ""})
}

/// Claims the case of a fresh spam report on `post` (owned by `owner`) as `role`.
async fn claimed(app: &TestApp, post: &str, owner: &str, role: Role) -> (i64, i64) {
    app.post_subject(post, owner, "buy followers").await;
    let case_id = app
        .report(&format!("rep_{post}"), ("content", post), "spam")
        .await;
    let claimed = app
        .post("/api/v1/queues/general/claim", app.token(role), json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(claimed.body["id"], case_id);
    (case_id, claimed.body["version"].as_i64().unwrap())
}

/// A second lead with a token, to approve what the first ordered.
async fn second_lead(app: &TestApp) -> String {
    let now = app.clock.now();
    let user = app
        .store
        .create_user(&Actor::system(), "lead2", Role::Lead, "x", now)
        .await
        .unwrap();
    let token = new_token();
    app.store
        .create_token(
            &Actor::system(),
            user.id,
            "t",
            Scope::Review,
            &secret_hash(&token),
            now,
        )
        .await
        .unwrap();
    token
}

#[tokio::test]
async fn the_contract_example_decides_and_non_standard_actions_wait() {
    let app = TestApp::new().await;
    let analyst = app.token(Role::Analyst).to_string();
    let (case_id, version) = claimed(&app, "post_1", "acct_9", Role::Analyst).await;
    let recommended = app
        .get(&format!("/api/v1/cases/{case_id}/recommendation"), &analyst)
        .await;
    assert_eq!(recommended.status, StatusCode::OK, "{}", recommended.body);
    assert_eq!(
        recommended.body["recommendation"],
        json!([{"type": "remove_content"}, {"type": "warn"}])
    );
    // The public contract's example: remove, and a week's suspension.
    let decided = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            json!({"version": version, "violation": true, "category": "spam",
                   "actions": [{"type": "remove_content"}, {"type": "suspend", "duration": "P7D"}],
                   "rationale": rationale("removed and suspended for a week: a ring"), "reason_code": "spam.links"}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    assert_eq!(decided.body["actions"][0]["status"], "pending");
    assert_eq!(decided.body["actions"][1]["status"], "pending_approval");
    let enforcement = &decided.body["enforcement"];
    assert_eq!(enforcement["departs_from_recommendation"], "above");
    assert_eq!(
        enforcement["override_reason"],
        "removed and suspended for a week: a ring"
    );
    assert_eq!(
        enforcement["awaiting_approval"][0]["reasons"][0]["code"],
        "beyond_matrix"
    );
    let suspend = decided.body["actions"][1]["id"].as_i64().unwrap();

    // An analyst cannot approve at all; the lead's queue shows it.
    let by_analyst = app
        .post(
            &format!("/api/v1/actions/{suspend}/approve"),
            &analyst,
            json!({"reason": "mine"}),
        )
        .await;
    assert_eq!(by_analyst.status, StatusCode::FORBIDDEN);
    let lead = app.token(Role::Lead).to_string();
    let queue = app.get("/api/v1/approvals", &lead).await;
    assert_eq!(queue.body[0]["action"]["id"], suspend);
    assert_eq!(
        queue.body[0]["decision"]["recommendation"][1]["type"],
        "warn"
    );
    let no_reason = app
        .post(
            &format!("/api/v1/actions/{suspend}/approve"),
            &lead,
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(no_reason.fields(), ["reason"]);
    let approved = app
        .post(
            &format!("/api/v1/actions/{suspend}/approve"),
            &lead,
            json!({"reason": "ring confirmed"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.body["action"]["status"], "pending");
    assert_eq!(approved.body["approval"]["by"], "lead");
    let events: Vec<&str> = approved.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["action.apply", "action.lift", "notice"]);
    // The statement of reasons exists now that nothing waits.
    let auditor = app.token(Role::Auditor).to_string();
    let statements = app.get("/api/v1/dsa/statements", &auditor).await;
    assert_eq!(statements.status, StatusCode::OK, "{}", statements.body);
    assert_eq!(
        statements.body[0]["statement"]["decision_account"],
        "DECISION_ACCOUNT_SUSPENDED"
    );
    let audit = app.audit_actions().await;
    for expected in [
        "case.decide",
        "action.approve",
        "dsa.read",
        "taxonomy.publish",
    ] {
        assert!(
            audit.iter().any(|a| a == expected),
            "no {expected} in {audit:?}"
        );
    }
}

#[tokio::test]
async fn a_lead_cannot_approve_their_own_action() {
    let app = TestApp::new().await;
    let lead = app.token(Role::Lead).to_string();
    let (case_id, version) = claimed(&app, "post_1", "acct_1", Role::Lead).await;
    let decided = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &lead,
            json!({"version": version, "violation": true, "category": "spam",
                   "actions": [{"type": "ban"}], "rationale": rationale("banned: the account exists only to spam"),
                   "override_reason": "a bot account"}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    let ban = decided.body["actions"][0]["id"].as_i64().unwrap();
    let reasons: Vec<&str> = decided.body["enforcement"]["awaiting_approval"][0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["beyond_matrix", "ban_on_first_offence"]);
    let own = app
        .post(
            &format!("/api/v1/actions/{ban}/approve"),
            &lead,
            json!({"reason": "sure"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);
    assert!(own.body["detail"]
        .as_str()
        .unwrap()
        .contains("another lead"));
    let other = second_lead(&app).await;
    let rejected = app
        .post(
            &format!("/api/v1/actions/{ban}/reject"),
            &other,
            json!({"reason": "a first offence: warn first"}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);
    assert_eq!(rejected.body["action"]["status"], "rejected");
    assert_eq!(rejected.body["approval"]["approved"], false);
    assert!(rejected.body["deliveries"].as_array().unwrap().is_empty());
    let again = app
        .post(
            &format!("/api/v1/actions/{ban}/approve"),
            &other,
            json!({"reason": "changed my mind"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn departures_need_a_reason_and_reversals_undo() {
    let app = TestApp::new().await;
    let analyst = app.token(Role::Analyst).to_string();
    let (case_id, version) = claimed(&app, "post_1", "acct_1", Role::Analyst).await;
    let without = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            json!({"version": version, "violation": true, "category": "spam", "rationale": rationale("")}),
        )
        .await;
    assert_eq!(
        without.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        without.body
    );
    assert_eq!(without.fields(), ["override_reason"]);
    let decided = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            json!({"version": version, "violation": true, "category": "spam",
                   "actions": [{"type": "remove_content"}, {"type": "warn"}], "rationale": rationale("standard")}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    assert!(decided.body["enforcement"]["departs_from_recommendation"].is_null());
    let decision = decided.body["id"].as_i64().unwrap();
    let by_analyst = app
        .post(
            &format!("/api/v1/decisions/{decision}/reverse"),
            &analyst,
            json!({"reason": "oops"}),
        )
        .await;
    assert_eq!(by_analyst.status, StatusCode::FORBIDDEN);
    let lead = app.token(Role::Lead).to_string();
    let reversed = app
        .post(
            &format!("/api/v1/decisions/{decision}/reverse"),
            &lead,
            json!({"reason": "a satire account, not spam"}),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.body);
    assert_eq!(reversed.body["actions"][0]["status"], "reversed");
    assert_eq!(reversed.body["enforcement"]["reversal"]["by"], "lead");
    let history = app
        .get("/api/v1/subjects/account/acct_1/history", &lead)
        .await;
    assert_eq!(history.body["active_strike_weight"], 0);
}

async fn send_raw(
    router: &axum::Router,
    headers: &[(&str, String)],
    body: &str,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method("POST")
        .uri("/api/v1/deliveries/callback")
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn callbacks_are_authenticated_by_their_signature() {
    let app = TestApp::new().await;
    let analyst = app.token(Role::Analyst).to_string();
    let (case_id, version) = claimed(&app, "post_1", "acct_1", Role::Analyst).await;
    let decided = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            json!({"version": version, "violation": true, "category": "spam",
                   "actions": [{"type": "remove_content"}, {"type": "warn"}], "rationale": rationale("standard")}),
        )
        .await;
    let removal = decided.body["actions"][0]["id"].as_i64().unwrap();
    let state = AppState::new(
        app.store.clone(),
        CasePolicy::default(),
        ServerSettings::default(),
    )
    .with_clock(app.clock.clone())
    .with_enforcement(EnforcementSettings {
        callback_secret: Some(CallbackSecret::new("shared secret")),
    });
    let callbacks = router(state);
    let body = json!({"idempotency_key": format!("warden-action-{removal}-apply"), "status": "applied", "detail": "removed"}).to_string();
    let now = app.clock.now().timestamp();
    let signed = |secret: &[u8], at: i64| {
        vec![
            ("x-warden-timestamp", at.to_string()),
            ("x-warden-signature", sign(secret, at, body.as_bytes())),
        ]
    };
    let (status, _) = send_raw(&callbacks, &[], &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unsigned");
    let (status, _) = send_raw(&callbacks, &signed(b"wrong secret", now), &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send_raw(&callbacks, &signed(b"shared secret", now - 3600), &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "stale");
    let (status, answer) = send_raw(&callbacks, &signed(b"shared secret", now), &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "confirmed");
    let action = app
        .get(&format!("/api/v1/actions/{removal}"), &analyst)
        .await;
    assert_eq!(action.body["action"]["status"], "applied");
    // Without a configured secret, callbacks are off.
    let (status, _) = send_raw(&app.router, &signed(b"shared secret", now), &body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn dead_letters_are_listed_and_replayed_by_admins() {
    let app = TestApp::new().await;
    let admin = app.token(Role::Admin).to_string();
    let listed = app.get("/api/v1/deliveries", &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body, json!([]));
    let all = app.get("/api/v1/deliveries?status=all", &admin).await;
    assert_eq!(all.status, StatusCode::OK);
    let bad = app.get("/api/v1/deliveries?status=lost", &admin).await;
    assert_eq!(bad.fields(), ["status"]);
    let missing = app
        .post("/api/v1/deliveries/7/replay", &admin, json!({}))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let analyst = app.token(Role::Analyst).to_string();
    assert_eq!(
        app.get("/api/v1/deliveries", &analyst).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn policy_edits_the_taxonomy_and_templates() {
    let app = TestApp::new().await;
    let policy = app.token(Role::Policy).to_string();
    let current = app.get("/api/v1/taxonomy", app.token(Role::Analyst)).await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.body);
    assert_eq!(current.body["version"], 1);
    let mut document = current.body["document"].clone();
    let spam = document["categories"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["code"] == "spam")
        .unwrap();
    document["categories"][spam]["dsa"]["keywords"] = json!(["KEYWORD_DISINFORMATION"]);
    let refused = app
        .post(
            "/api/v1/taxonomy/versions",
            &policy,
            json!({"note": "try", "document": document}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.fields(),
        [format!("document.categories[{spam}].dsa.keywords")]
    );
    document["categories"][spam]["dsa"]["keywords"] = json!(["KEYWORD_OTHER"]);
    document["categories"][spam]["reason_codes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"code": "spam.dm", "name": "Direct-message spam"}));
    let published = app
        .post(
            "/api/v1/taxonomy/versions",
            &policy,
            json!({"note": "spam.dm reason code", "document": document}),
        )
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
    assert_eq!(published.body["version"], 2);
    assert_eq!(
        app.post(
            "/api/v1/taxonomy/versions",
            app.token(Role::Lead),
            json!({"note": "x", "document": {}})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let versions = app.get("/api/v1/taxonomy/versions", &policy).await;
    assert_eq!(versions.body.as_array().unwrap().len(), 2);

    let unknown = app
        .post(
            "/api/v1/notice-templates",
            &policy,
            json!({"action_type": "suspend", "subject": "Suspended", "body": "Hi {{name}}"}),
        )
        .await;
    assert_eq!(unknown.fields(), ["body"]);
    let preview = app
        .post(
            "/api/v1/notice-templates/preview",
            &policy,
            json!({"action_type": "ban", "subject": "Closed", "body": "Until {{end_date}}"}),
        )
        .await;
    assert_eq!(preview.body["sendable"], false);
    assert_eq!(preview.body["unfilled"], json!(["end_date"]));
    let saved = app
        .post("/api/v1/notice-templates", &policy, json!({"action_type": "suspend", "category": "spam", "language": "de", "subject": "Konto gesperrt", "body": "Bis {{end_date}}."}))
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let templates = app
        .get("/api/v1/notice-templates", app.token(Role::Analyst))
        .await;
    assert!(templates.body.as_array().unwrap().len() >= 9);
    let id = saved.body["id"].as_i64().unwrap();
    let deleted = app
        .send(
            "DELETE",
            &format!("/api/v1/notice-templates/{id}"),
            Some(&policy),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn statements_can_be_checked_and_aggregates_read() {
    let app = TestApp::new().await;
    let auditor = app.token(Role::Auditor).to_string();
    let good = json!({"puid": "p-1", "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT", "incompatible_content_ground": "ToS 4",
        "incompatible_content_explanation": "spam", "content_type": ["CONTENT_TYPE_TEXT"],
        "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "territorial_scope": ["DE"], "content_date": "2025-01-01",
        "application_date": "2025-01-02", "decision_facts": "facts", "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "No", "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED"});
    let checked = app
        .post("/api/v1/dsa/validate", &auditor, json!({"statement": good}))
        .await;
    assert_eq!(checked.body["valid"], true, "{}", checked.body);
    let mut bad = good.clone();
    bad["content_language"] = json!("en");
    let checked = app
        .post(
            "/api/v1/dsa/validate",
            &auditor,
            json!({"statement": bad, "endpoint": "single"}),
        )
        .await;
    assert_eq!(checked.body["valid"], false);
    assert_eq!(
        checked.body["errors"]["content_language"],
        json!(["The selected content language is invalid."])
    );

    let analyst = app.token(Role::Analyst).to_string();
    let (case_id, version) = claimed(&app, "post_1", "acct_1", Role::Analyst).await;
    let decided = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            json!({"version": version, "violation": true, "category": "spam",
                   "actions": [{"type": "remove_content"}, {"type": "warn"}], "rationale": rationale("standard")}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED);
    let report = app
        .get(
            "/api/v1/transparency?from=2026-01-01&to=2027-01-01",
            &auditor,
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.body["actions_total"], 2);
    assert_eq!(report.body["actions_by_category"]["spam"]["warn"], 1);
    assert_eq!(report.body["statements_total"], 1);
    let missing = app.get("/api/v1/transparency", &auditor).await;
    assert_eq!(missing.fields(), ["from"]);
    let notices = app.get("/api/v1/notices", &analyst).await;
    assert_eq!(notices.body.as_array().unwrap().len(), 2);
    assert_eq!(notices.body[0]["status"], "queued");
}
