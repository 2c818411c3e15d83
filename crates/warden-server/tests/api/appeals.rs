//! Appeals through the API: intake (created, duplicate, conflict, the
//! fields at fault, the window), the independence rule (the decider never
//! gets the appeal from a queue, is refused assignment and decision with
//! `403`), a stale version, the outcome, the case view and the list.

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{json, Value};

use warden_domain::access::Role;
use warden_domain::appeal::appeals_queue_definition;
use warden_domain::routing::Router;
use warden_server::{Clock, ServerSettings};
use warden_store::CasePolicy;

use crate::support::TestApp;

fn rationale() -> Value {
    json!({"what_happened": "posted the same link 40 times", "evidence": "posts 1-40",
           "policy": "spam 2.1", "action": "removed and warned", "next_steps": ""})
}

/// The default queues and the built-in `appeals` queue.
fn policy() -> CasePolicy {
    CasePolicy {
        router: Router::new(vec![appeals_queue_definition()]).unwrap(),
        ..CasePolicy::default()
    }
}

/// A post by `owner`, reported, claimed and decided by the analyst with
/// remove and warn; returns the decision's id.
async fn decided(app: &TestApp, post: &str, owner: &str) -> i64 {
    app.post_subject(post, owner, "buy followers").await;
    app.report(&format!("rep_{post}"), ("content", post), "spam")
        .await;
    let analyst = app.token(Role::Analyst);
    let claimed = app
        .post("/api/v1/queues/general/claim", analyst, json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let case = claimed.body["id"].as_i64().unwrap();
    let decision = app
        .post(
            &format!("/api/v1/cases/{case}/decision"),
            analyst,
            json!({"version": claimed.body["version"], "violation": true, "category": "spam",
                   "actions": [{"type": "remove_content"}, {"type": "warn"}],
                   "rationale": rationale()}),
        )
        .await;
    assert_eq!(decision.status, StatusCode::CREATED, "{}", decision.body);
    assert_eq!(decision.body["violation"], true);
    decision.body["id"].as_i64().unwrap()
}

fn appeal(id: &str, decision: i64, statement: &str) -> Value {
    json!({"id": id, "decision_id": decision,
           "appellant": {"kind": "account", "id": "acct_77"},
           "statement": statement, "language": "en",
           "created_at": "2026-11-20T10:30:00Z"})
}

async fn intake_story(app: TestApp) {
    let decision = decided(&app, "p1", "acct_77").await;
    app.clock.advance(Duration::hours(1));
    let first = app
        .ingest(
            "/api/v1/appeals",
            appeal("apl_9", decision, "I was quoting it."),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["status"], "created");
    assert_eq!(first.body["joined"], false);
    let case = first.body["case_id"].as_i64().unwrap();

    let again = app
        .ingest(
            "/api/v1/appeals",
            appeal("apl_9", decision, "I was quoting it."),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["status"], "duplicate");
    let other = app
        .ingest("/api/v1/appeals", appeal("apl_9", decision, "Other words."))
        .await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.body);

    let joined = app
        .ingest("/api/v1/appeals", appeal("apl_10", decision, "Me too."))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    assert_eq!(joined.body["joined"], true);
    assert_eq!(joined.body["case_id"], case);

    let unknown = app
        .ingest("/api/v1/appeals", appeal("apl_11", decision + 50, "?"))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.fields(), ["decision_id"]);
    let missing = app
        .ingest(
            "/api/v1/appeals",
            json!({"id": "apl_12", "appellant": {"kind": "account", "id": "a"}, "statement": "x"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.fields(), ["decision_id"]);

    // A batch answers an outcome per item: the repeat, a join, a refusal.
    let batch = app
        .ndjson(
            "/api/v1/appeals",
            &[
                appeal("apl_9", decision, "I was quoting it.").to_string(),
                appeal("apl_14", decision, "Me three.").to_string(),
                appeal("apl_15", decision + 50, "?").to_string(),
            ],
        )
        .await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.body);
    assert_eq!(
        (
            &batch.body["created"],
            &batch.body["duplicates"],
            &batch.body["errors"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{}",
        batch.body
    );
    assert_eq!(
        batch.body["results"][2]["error"]["errors"][0]["field"],
        "decision_id"
    );

    // Seven months later the window (six months) has closed.
    app.clock.advance(Duration::days(7 * 31));
    let mut late = appeal("apl_13", decision, "Late.");
    late["created_at"] = json!((app.clock.now()).to_rfc3339());
    let expired = app.ingest("/api/v1/appeals", late).await;
    assert_eq!(
        expired.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        expired.body
    );
    assert_eq!(expired.fields(), ["created_at"]);
    assert!(
        expired.body.to_string().contains("appeal window"),
        "{}",
        expired.body
    );
}

async fn review_story(app: TestApp) {
    let decision = decided(&app, "p1", "acct_77").await;
    app.clock.advance(Duration::hours(1));
    let submitted = app
        .ingest(
            "/api/v1/appeals",
            appeal("apl_9", decision, "I was quoting it."),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.body);
    let case = submitted.body["case_id"].as_i64().unwrap();
    let (analyst, lead) = (app.token(Role::Analyst), app.token(Role::Lead));

    // The decider never gets it from the queue, nor in the case list.
    let none = app
        .post("/api/v1/queues/appeals/claim", analyst, json!({}))
        .await;
    assert_eq!(none.status, StatusCode::NO_CONTENT, "{}", none.body);
    let listed = app.get("/api/v1/cases?queue=appeals", analyst).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["cases"], json!([]));
    // Deciding it, or being assigned it, is refused with the reason.
    let view = app.get(&format!("/api/v1/cases/{case}"), lead).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    assert_eq!(view.body["kind"], "appeal");
    assert_eq!(view.body["appeal"]["decision_id"], decision);
    assert_eq!(view.body["appeal"]["original"]["id"], decision);
    let version = view.body["version"].clone();
    let refused = app
        .post(
            &format!("/api/v1/cases/{case}/decision"),
            analyst,
            json!({"version": version, "outcome": "overturned", "rationale": rationale()}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("original_decider"),
        "{}",
        refused.body
    );
    let assign = app
        .post(
            &format!("/api/v1/cases/{case}/assign"),
            lead,
            json!({"version": version, "user": "analyst"}),
        )
        .await;
    assert_eq!(assign.status, StatusCode::FORBIDDEN, "{}", assign.body);

    // The lead takes it; a stale version is a conflict.
    let claimed = app
        .post("/api/v1/queues/appeals/claim", lead, json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(claimed.body["id"], case);
    assert_eq!(claimed.body["kind"], "appeal");
    let version = claimed.body["version"].as_i64().unwrap();
    let stale = app
        .post(
            &format!("/api/v1/cases/{case}/decision"),
            lead,
            json!({"version": version - 1, "outcome": "overturned", "rationale": rationale()}),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let bad = app
        .post(
            &format!("/api/v1/cases/{case}/decision"),
            lead,
            json!({"version": version, "outcome": "maybe", "rationale": rationale()}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(bad.fields(), ["outcome"]);
    let done = app
        .post(
            &format!("/api/v1/cases/{case}/decision"),
            lead,
            json!({"version": version, "outcome": "overturned", "rationale": rationale()}),
        )
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert_eq!(done.body["outcome"], "overturned");
    assert_eq!(done.body["reviewer"], "lead");

    let list = app.get("/api/v1/appeals?status=decided", lead).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["appeals"][0]["id"], submitted.body["appeal_id"]);
    assert_eq!(list.body["appeals"][0]["outcome"], "overturned");
    let open = app.get("/api/v1/appeals?status=open", lead).await;
    assert_eq!(open.body["appeals"], json!([]));
    let bad_query = app.get("/api/v1/appeals?status=closed", lead).await;
    assert_eq!(bad_query.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_query.fields(), ["status"]);

    // The original decision is reversed: its strike no longer counts.
    let history = app
        .get("/api/v1/subjects/account/acct_77/history", lead)
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert_eq!(history.body["active_strike_weight"], 0, "{}", history.body);
}

#[tokio::test]
async fn appeals_are_taken_in_once_and_refused_by_field() {
    intake_story(TestApp::with_settings(ServerSettings::default(), policy()).await).await;
}

#[tokio::test]
async fn appeals_are_taken_in_once_and_refused_by_field_on_postgresql() {
    if let Some(app) = TestApp::postgres_with_settings(ServerSettings::default(), policy()).await {
        intake_story(app).await;
    }
}

#[tokio::test]
async fn only_someone_else_reviews_and_the_outcome_goes_through() {
    review_story(TestApp::with_settings(ServerSettings::default(), policy()).await).await;
}

#[tokio::test]
async fn only_someone_else_reviews_and_the_outcome_goes_through_on_postgresql() {
    if let Some(app) = TestApp::postgres_with_settings(ServerSettings::default(), policy()).await {
        review_story(app).await;
    }
}
