//! Health, readiness, metrics and the API document.

use axum::http::StatusCode;
use serde_json::json;

use warden_domain::access::Role;
use warden_server::routes::{Surface, ROUTES};

use crate::support::TestApp;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::new().await;
    assert_eq!(
        app.send("GET", "/healthz", None, None, Vec::new())
            .await
            .status,
        StatusCode::OK
    );
    let ready = app.send("GET", "/readyz", None, None, Vec::new()).await;
    assert_eq!(ready.body["backend"], "sqlite");
    app.report("rep_1", ("content", "p1"), "spam").await;
    app.clock.advance(chrono::Duration::days(8));
    let metrics = app.get("/metrics", app.token(Role::Admin)).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().unwrap();
    for expected in [
        "warden_queue_depth{queue=\"general\"} 1",
        "warden_sla_breaches{queue=\"general\",deadline=\"resolution\"} 1",
        "warden_oldest_case_age_seconds{queue=\"general\"}",
        "warden_intake_items_total{kind=\"reports\",outcome=\"created\"} 1",
        "warden_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(expected), "metrics lack {expected}:\n{text}");
    }
    let queues = app.get("/api/v1/queues", app.token(Role::Analyst)).await;
    assert_eq!(queues.body[0]["name"], "general");
    assert_eq!(queues.body[0]["resolution_breaches"], 1);
    assert_eq!(queues.body[0]["claimable"], true);
}

#[tokio::test]
async fn the_api_document_describes_every_route() {
    let app = TestApp::new().await;
    let document = app
        .send("GET", "/api/openapi.json", None, None, Vec::new())
        .await;
    assert_eq!(document.status, StatusCode::OK);
    assert!(document.body["openapi"].as_str().unwrap().starts_with("3."));
    for route in ROUTES {
        let operation = &document.body["paths"][route.path][route.method.as_str().to_lowercase()];
        if route.surface == Surface::Console {
            assert!(
                operation.is_null(),
                "the console's {} {} is not part of the API",
                route.method,
                route.path
            );
            continue;
        }
        assert!(
            operation.is_object(),
            "{} {} is missing from the document",
            route.method,
            route.path
        );
        if let Some(request) = route.request {
            assert!(
                document.body["components"]["schemas"][request].is_object(),
                "schema {request} is missing"
            );
        }
        if let Some(response) = route.response {
            assert!(
                document.body["components"]["schemas"][response].is_object(),
                "schema {response} is missing"
            );
        }
    }
    let report = &document.body["components"]["schemas"]["ReportBody"]["properties"];
    for field in [
        "id",
        "subject",
        "reason",
        "source",
        "reporter",
        "text",
        "language",
        "created_at",
    ] {
        assert!(report[field].is_object(), "ReportBody lacks {field}");
    }
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let app = TestApp::new().await;
    let answer = app
        .post("/api/v1/nothing", app.token(Role::Admin), json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body["status"], 404);
}
