//! Intake: single items, batches, idempotency, and every kind of bad input.

use axum::http::{header, StatusCode};
use serde_json::json;

use warden_domain::access::Role;
use warden_server::ServerSettings;
use warden_store::prelude::*;
use warden_store::CasePolicy;

use crate::support::TestApp;

fn report(id: &str) -> serde_json::Value {
    json!({"id": id, "subject": {"kind": "content", "id": "post_981"}, "reason": "spam", "source": "user_report",
           "reporter": {"kind": "account", "id": "acct_2"}, "text": "buy followers", "language": "en",
           "created_at": "2026-11-20T10:02:00Z"})
}

#[tokio::test]
async fn one_report_is_created_then_a_duplicate_then_a_conflict() {
    let app = TestApp::new().await;
    let created = app.ingest("/api/v1/reports", report("rep_7")).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body, json!({"id": "rep_7", "status": "created"}));
    let again = app.ingest("/api/v1/reports", report("rep_7")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["status"], "duplicate");
    let mut changed = report("rep_7");
    changed["text"] = json!("other words");
    let conflict = app.ingest("/api/v1/reports", changed).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(
        conflict.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(app.store.intake_counts().await.unwrap().reports, 1);
}

#[tokio::test]
async fn subjects_and_events_follow_the_contract() {
    let app = TestApp::new().await;
    let subject = json!({"kind": "content", "id": "post_981", "created_at": "2026-11-20T10:00:00Z",
        "owner": {"kind": "account", "id": "acct_17"}, "text": "hello",
        "media": [{"url": "https://cdn.example/x.jpg", "mime": "image/jpeg", "sha256": "a".repeat(64)}],
        "attributes": {"language": "en"}});
    assert_eq!(
        app.ingest("/api/v1/subjects", subject.clone()).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.ingest("/api/v1/subjects", subject.clone()).await.body["status"],
        "duplicate"
    );
    let mut edited = subject;
    edited["text"] = json!("edited");
    let updated = app.ingest("/api/v1/subjects", edited).await;
    assert_eq!(
        (updated.status, updated.body["status"].as_str()),
        (StatusCode::OK, Some("updated"))
    );
    let event = json!({"id": "evt_55", "type": "message_sent", "occurred_at": "2026-11-20T10:00:01Z",
        "actor": {"kind": "account", "id": "acct_17"}, "subject": {"kind": "message", "id": "msg_3"},
        "ip": "203.0.113.9", "device_id": "dev_a1", "data": {"text": "hi"}});
    assert_eq!(
        app.ingest("/api/v1/events", event.clone()).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.ingest("/api/v1/events", event).await.body["status"],
        "duplicate"
    );
}

#[tokio::test]
async fn invalid_items_name_every_field_at_fault_and_store_nothing() {
    let app = TestApp::new().await;
    let cases = [
        (
            json!({"id": "r", "subject": {"kind": "user", "id": "x"}, "reason": "spam", "source": "user_report"}),
            vec!["subject.kind"],
        ),
        (
            json!({"id": "", "subject": {"kind": "content", "id": "x"}, "reason": "nonsense", "source": "gossip"}),
            vec!["id", "reason", "source"],
        ),
        (
            json!({"id": "r", "subject": {"kind": "content", "id": "x"}, "reason": "spam", "source": "user_report", "text": "x".repeat(10_001)}),
            vec!["text"],
        ),
        (
            json!({"id": "r", "subject": {"kind": "content", "id": "x"}, "reason": "spam", "source": "user_report", "created_at": "yesterday"}),
            vec!["created_at"],
        ),
        (
            json!({"id": "r", "subject": {"kind": "content", "id": "x"}, "reason": "spam"}),
            vec!["source"],
        ),
        (
            json!({"id": "r", "subject": {"kind": "content"}, "reason": "spam", "source": "user_report"}),
            vec!["subject.id"],
        ),
        (
            json!({"id": "r", "subject": {"kind": "content", "id": "x"}, "reason": "spam", "source": "user_report", "colour": "red"}),
            vec!["colour"],
        ),
        (
            json!({"id": 7, "subject": {"kind": "content", "id": "x"}, "reason": "spam", "source": "user_report"}),
            vec!["id"],
        ),
        (
            json!({"id": "r", "subject": {"kind": "content", "id": "x".repeat(257)}, "reason": "spam", "source": "user_report"}),
            vec!["subject.id"],
        ),
    ];
    for (body, fields) in cases {
        let answer = app.ingest("/api/v1/reports", body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            answer.body
        );
        assert_eq!(answer.fields(), fields, "{body}");
        assert_eq!(answer.body["status"], 422);
        assert!(answer.body["type"]
            .as_str()
            .unwrap()
            .starts_with("https://"));
    }
    let bad_event = app.ingest("/api/v1/events", json!({"id": "e", "type": "login", "occurred_at": "2026-11-20T10:00:00Z", "ip": "999.1.1.1", "data": [1]})).await;
    assert_eq!(bad_event.fields(), ["ip", "data"]);
    let bad_subject = app.ingest("/api/v1/subjects", json!({"kind": "content", "id": "p", "owner": {"kind": "content", "id": "q"}, "attributes": {"blob": "x".repeat(70_000)}})).await;
    assert_eq!(bad_subject.fields(), ["owner.kind", "attributes"]);
    let counts = app.store.intake_counts().await.unwrap();
    assert_eq!((counts.reports, counts.events, counts.subjects), (0, 0, 0));
}

#[tokio::test]
async fn malformed_bodies_get_400_413_415_never_500() {
    let settings = ServerSettings {
        body_bytes_max: 4096,
        batch_items_max: 3,
        ..ServerSettings::default()
    };
    let app = TestApp::with_settings(settings, CasePolicy::default()).await;
    let token = app.ingest_token.clone();
    let send = |content_type: Option<&'static str>, body: Vec<u8>| {
        let token = token.clone();
        let app = &app;
        async move {
            app.send("POST", "/api/v1/reports", Some(&token), content_type, body)
                .await
        }
    };
    assert_eq!(
        send(Some("application/json"), b"{not json".to_vec())
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(Some("application/json"), vec![0xff, 0xfe, b'{', b'}'])
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(Some("application/json"), Vec::new()).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(Some("text/plain"), b"{}".to_vec()).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        send(None, b"{}".to_vec()).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        send(Some("application/json"), vec![b' '; 5000])
            .await
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let four = (0..4)
        .map(|i| report(&format!("r{i}")).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        send(Some("application/x-ndjson"), four.into_bytes())
            .await
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        send(Some("application/json"), b"[]".to_vec()).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        send(Some("application/json"), b"null".to_vec())
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Noise never panics the server nor gets a 500.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for n in 0..200 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 300) as usize;
        let mut body: Vec<u8> = (0..len)
            .map(|i| (seed.rotate_left(i as u32 % 64) & 0xff) as u8)
            .collect();
        if n % 2 == 0 {
            body = format!(
                "{{\"id\": \"{}\", \"subject\": {}}}",
                String::from_utf8_lossy(&body).replace('"', ""),
                n
            )
            .into_bytes();
        }
        let content_type = if n % 3 == 0 {
            "application/x-ndjson"
        } else {
            "application/json"
        };
        let answer = send(Some(content_type), body).await;
        let refused_batch = answer.status == StatusCode::OK
            && answer.body["created"] == 0
            && answer.body["errors"].as_u64() > Some(0);
        assert!(
            answer.status.is_client_error() || refused_batch,
            "noise #{n} got {}: {}",
            answer.status,
            answer.body
        );
    }
    assert_eq!(app.store.intake_counts().await.unwrap().reports, 0);
}

#[tokio::test]
async fn batches_keep_good_items_and_report_bad_ones_by_index() {
    let app = TestApp::new().await;
    let lines = vec![
        report("b1").to_string(),
        "{broken".to_string(),
        json!({"id": "b3", "subject": {"kind": "planet", "id": "x"}, "reason": "spam", "source": "user_report"}).to_string(),
        report("b1").to_string(),
        String::new(),
        report("b4").to_string(),
    ];
    let answer = app.ndjson("/api/v1/reports", &lines).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["created"], 2);
    assert_eq!(answer.body["duplicates"], 1);
    assert_eq!(answer.body["errors"], 2);
    let results = answer.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["status"], "created");
    assert_eq!(results[1]["status"], "error");
    assert_eq!(results[1]["error"]["status"], 400);
    assert_eq!(results[2]["id"], "b3");
    assert_eq!(results[2]["error"]["errors"][0]["field"], "subject.kind");
    assert_eq!(results[3]["status"], "duplicate");
    assert_eq!(results[4]["index"], 4);
    assert_eq!(results[4]["id"], "b4");
    // Both good reports joined one case about post_981.
    let cases = app
        .get(
            "/api/v1/cases?subject_kind=content&subject_id=post_981",
            app.token(Role::Lead),
        )
        .await;
    assert_eq!(cases.body["cases"].as_array().unwrap().len(), 1);
    assert_eq!(cases.body["cases"][0]["report_count"], 2);
    let conflict = app.ndjson("/api/v1/reports", &[json!({"id": "b1", "subject": {"kind": "content", "id": "other"}, "reason": "spam", "source": "user_report"}).to_string()]).await;
    assert_eq!(conflict.body["results"][0]["error"]["status"], 409);
}

#[tokio::test]
async fn signals_open_cases_and_shadow_signals_do_not() {
    let app = TestApp::new().await;
    let signal = |id: &str, opens_case: bool| json!({"id": id, "subject": {"kind": "message", "id": "m1"}, "category": "scam", "name": "scam_text_v3", "score": 0.93, "opens_case": opens_case, "details": {"terms": ["bitcoin"]}});
    assert_eq!(
        app.ingest("/api/v1/signals", signal("s1", false))
            .await
            .status,
        StatusCode::CREATED
    );
    let none = app
        .get(
            "/api/v1/cases?subject_kind=message&subject_id=m1",
            app.token(Role::Lead),
        )
        .await;
    assert!(none.body["cases"].as_array().unwrap().is_empty());
    assert_eq!(
        app.ingest("/api/v1/signals", signal("s2", true))
            .await
            .status,
        StatusCode::CREATED
    );
    let one = app
        .get(
            "/api/v1/cases?subject_kind=message&subject_id=m1",
            app.token(Role::Lead),
        )
        .await;
    assert_eq!(one.body["cases"][0]["queue"], "general");
    assert_eq!(one.body["cases"][0]["signals"][0]["name"], "scam_text_v3");
    let bad = app.ingest("/api/v1/signals", json!({"id": "s3", "subject": {"kind": "message", "id": "m1"}, "category": "scam", "name": "x", "score": 1.5})).await;
    assert_eq!(bad.fields(), ["score"]);
}
