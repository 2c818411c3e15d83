//! `GET /api/v1/kpis`: every KPI of the spec in the answer (null when
//! there is nothing to measure), filters and groups, bad parameters
//! refused naming the field (422, as every API read refuses a bad query),
//! and `metrics.read` required.

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{json, Value};

use warden_domain::access::Role;
use warden_domain::kpi::Kpi;
use warden_server::Clock;

use crate::support::TestApp;

/// A spam report on `post`, claimed and decided a violation by `token`.
async fn decided(app: &TestApp, post: &str, token: &str) {
    app.post_subject(post, &format!("acct_{post}"), "buy followers")
        .await;
    app.report(&format!("rep_{post}"), ("content", post), "spam")
        .await;
    let claimed = app
        .post("/api/v1/queues/general/claim", token, json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let case_id = claimed.body["id"].as_i64().unwrap();
    let version = claimed.body["version"].as_i64().unwrap();
    let rationale = json!({"what_happened": "spam links", "evidence": "posts 1-4",
                           "policy": "spam 2.1", "action": "removed", "next_steps": ""});
    let decided = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            token,
            json!({"version": version, "violation": true, "category": "spam",
                   "actions": [{"type": "remove_content"}], "rationale": rationale}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
}

/// `?from=&to=` around now, plus `rest`.
fn window(app: &TestApp, rest: &str) -> String {
    let now = app.clock.now();
    let from = (now - Duration::days(1)).format("%Y-%m-%d");
    let to = (now + Duration::days(1)).format("%Y-%m-%d");
    format!("/api/v1/kpis?from={from}&to={to}{rest}")
}

#[tokio::test]
async fn kpis_answer_every_kpi_with_filters_and_groups() {
    let app = TestApp::new().await;
    let analyst = app.user_token("anna", Role::Analyst).await;
    decided(&app, "p1", &analyst).await;
    decided(&app, "p2", &analyst).await;
    let lead = app.token(Role::Lead).to_string();

    let all = app.get(&window(&app, ""), &lead).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    for kpi in Kpi::ALL {
        let answer = &all.body["kpis"][kpi.name()];
        assert!(
            answer.is_object(),
            "{} is missing: {}",
            kpi.name(),
            all.body
        );
        assert_eq!(answer["unit"], kpi.unit().as_str(), "{}", kpi.name());
    }
    assert_eq!(all.body["kpis"]["cases_resolved"]["value"], 2.0);
    assert_eq!(all.body["kpis"]["weighted_throughput"]["denominator"], 1.0);
    // Nothing reviewed by QA: null, never 0.
    assert_eq!(all.body["kpis"]["qa_pass_rate"]["value"], Value::Null);
    assert_eq!(all.body["kpis"]["qa_pass_rate"]["denominator"], 0.0);
    assert_eq!(all.body["groups"], json!([]));
    assert_eq!(all.body["filters"]["queue"], Value::Null);

    let by_reviewer = app.get(&window(&app, "&by=reviewer"), &lead).await;
    assert_eq!(by_reviewer.status, StatusCode::OK, "{}", by_reviewer.body);
    assert_eq!(by_reviewer.body["by"], "reviewer");
    assert_eq!(by_reviewer.body["groups"][0]["key"], "anna");
    assert_eq!(
        by_reviewer.body["groups"][0]["kpis"]["cases_resolved"]["value"],
        2.0
    );
    let by_day = app.get(&window(&app, "&by=day"), &lead).await;
    assert_eq!(by_day.body["groups"].as_array().unwrap().len(), 2);

    let general = app
        .get(&window(&app, "&queue=general&category=spam"), &lead)
        .await;
    assert_eq!(general.body["kpis"]["cases_resolved"]["value"], 2.0);
    assert_eq!(general.body["filters"]["queue"], "general");
    let elsewhere = app.get(&window(&app, "&queue=fraud"), &lead).await;
    assert_eq!(elsewhere.body["kpis"]["cases_resolved"]["value"], 0.0);
    let someone_else = app.get(&window(&app, "&reviewer=ben"), &lead).await;
    assert_eq!(someone_else.body["kpis"]["cases_resolved"]["value"], 0.0);
    // Admins hold metrics.read too.
    let admin = app.get(&window(&app, ""), app.token(Role::Admin)).await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.body);
}

#[tokio::test]
async fn bad_parameters_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let lead = app.token(Role::Lead).to_string();
    for (query, field) in [
        ("from=yesterday&to=2026-12-02", "from"),
        ("from=2026-12-01&to=2026-13-40", "to"),
        ("from=2026-12-02&to=2026-12-01", "to"),
        ("from=2020-01-01&to=2026-12-01", "to"),
        ("from=2026-11-01&to=2026-12-01&by=month", "by"),
    ] {
        let answer = app.get(&format!("/api/v1/kpis?{query}"), &lead).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            answer.body
        );
        assert!(
            answer.fields().contains(&field.to_string()),
            "{query}: {}",
            answer.body
        );
    }
    let long = "q".repeat(201);
    let answer = app.get(&format!("/api/v1/kpis?queue={long}"), &lead).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.fields(), ["queue"]);
    let unknown = app.get("/api/v1/kpis?colour=red", &lead).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    assert_eq!(unknown.fields(), ["colour"], "{}", unknown.body);
}

#[tokio::test]
async fn kpis_need_metrics_read() {
    let app = TestApp::new().await;
    for role in [
        Role::Analyst,
        Role::Associate,
        Role::Qa,
        Role::Policy,
        Role::Auditor,
    ] {
        let answer = app.get("/api/v1/kpis", app.token(role)).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{role}: {}",
            answer.body
        );
    }
    let anonymous = app
        .send("GET", "/api/v1/kpis", None, None, Vec::new())
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let lead = app.get("/api/v1/kpis", app.token(Role::Lead)).await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
}
