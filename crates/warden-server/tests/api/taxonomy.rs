//! One taxonomy, hot: a version published through the API is the policy
//! intake and decisions use at once, without a restart.

use axum::http::StatusCode;
use serde_json::{json, Value};

use warden_domain::access::Role;

use crate::support::TestApp;

/// The document in force with one more category, `crypto_scam`.
async fn document_with_crypto_scam(app: &TestApp) -> Value {
    let current = app.get("/api/v1/taxonomy", app.token(Role::Policy)).await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.body);
    let mut document = current.body["document"].clone();
    let mut category = document["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "scam")
        .unwrap()
        .clone();
    category["code"] = json!("crypto_scam");
    category["name"] = json!("Crypto scams");
    category["severity"] = json!("critical");
    category["reason_codes"] = json!([]);
    document["categories"]
        .as_array_mut()
        .unwrap()
        .push(category);
    document
}

async fn a_published_category_is_taken_at_once(app: TestApp) {
    let report = json!({"id": "rep_crypto", "subject": {"kind": "content", "id": "post_c"},
        "reason": "crypto_scam", "source": "user_report"});
    let before = app.ingest("/api/v1/reports", report.clone()).await;
    assert_eq!(
        before.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        before.body
    );
    assert_eq!(before.fields(), ["reason"]);

    let document = document_with_crypto_scam(&app).await;
    let published = app
        .post(
            "/api/v1/taxonomy/versions",
            app.token(Role::Policy),
            json!({"note": "crypto scams get their own category", "document": document}),
        )
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);

    // No restart: the next report with the new category opens a case, at
    // the new category's severity, and analysts can decide under it.
    let after = app.ingest("/api/v1/reports", report).await;
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.body);
    let analyst = app.token(Role::Analyst).to_string();
    let cases = app
        .get(
            "/api/v1/cases?subject_kind=content&subject_id=post_c",
            &analyst,
        )
        .await;
    assert_eq!(cases.body["cases"][0]["category"], "crypto_scam");
    assert_eq!(cases.body["cases"][0]["severity"], "critical");
    let queue = cases.body["cases"][0]["queue"]
        .as_str()
        .unwrap()
        .to_string();
    let claimed = app
        .post(
            &format!("/api/v1/queues/{queue}/claim"),
            &analyst,
            json!({}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let case = claimed.body["id"].as_i64().unwrap();
    let decided = app
        .post(
            &format!("/api/v1/cases/{case}/decision"),
            &analyst,
            json!({"version": claimed.body["version"], "violation": false, "category": "crypto_scam",
                "rationale": {"what_happened": "a giveaway post", "evidence": "no wallet asked for",
                "policy": "crypto scams", "action": "none"}}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    assert_eq!(
        decided.body["enforcement"]["taxonomy_version"],
        published.body["version"]
    );
}

#[tokio::test]
async fn a_published_category_is_taken_at_once_on_sqlite() {
    a_published_category_is_taken_at_once(TestApp::new().await).await;
}

#[tokio::test]
async fn a_published_category_is_taken_at_once_on_postgres() {
    if let Some(app) = TestApp::postgres().await {
        a_published_category_is_taken_at_once(app).await;
    }
}
