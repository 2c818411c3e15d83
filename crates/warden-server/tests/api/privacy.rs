//! Personal data is masked on every surface for everyone who has not
//! revealed it: a case seeded with e-mail addresses, IP addresses, phone
//! and card numbers in every field (subject text, attributes at any depth
//! and in any spelling, media, event data, report text, signal details,
//! notes, hold reasons, the rationale) is walked through the API and the
//! console as an associate and as QA, and no answer holds any of it; a lead
//! who reveals with a reason sees it; statements of reasons never hold it.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};

use warden_domain::access::Role;

use crate::support::{TestApp, PASSWORD};

/// Everything personal the seed puts in, as it would be seen unmasked.
const SECRETS: &[&str] = &[
    "owner.one@example.com",
    "contact.two@example.net",
    "+44 20 7946 0958",
    "7946 0958",
    "203.0.113.9",
    "2001:db8::8a2e:370:7334",
    "+1 (415) 555-0100",
    "555-0100",
    "4111 1111 1111 1111",
    "198.51.100.23",
    "media.owner@example.org",
    "192.0.2.44",
    "dev-7f3a",
    "typed.three@example.org",
    "+49 151 23456789",
    "192.0.2.45",
    "victim.four@example.com",
    "0151 2345 6789",
    "five@example.com",
    "192.0.2.46",
    "5500 0000 0000 0004",
    "DE89 3704 0044 0532 0130 00",
    "note.seven@example.com",
    "203.0.113.77",
    "six@example.com",
];

/// Secrets the decided case's own answer holds when revealed (the
/// account's and the events' are in the account's history, the hold reason
/// and the note in the held case's).
const IN_THE_CASE: &[&str] = &[
    "+1 (415) 555-0100",
    "4111 1111 1111 1111",
    "198.51.100.23",
    "media.owner@example.org",
    "victim.four@example.com",
    "0151 2345 6789",
    "five@example.com",
    "192.0.2.46",
    "5500 0000 0000 0004",
    "DE89 3704 0044 0532 0130 00",
    "six@example.com",
];

fn ok(answer: crate::support::Answer) -> Value {
    assert!(answer.status.is_success(), "{}", answer.body);
    answer.body
}

/// Seeds a decided case and a held one and returns their ids.
async fn seed(app: &TestApp) -> (i64, i64) {
    ok(app
        .ingest(
            "/api/v1/subjects",
            json!({
                "kind": "account", "id": "acct_pii", "text": "bio: write to owner.one@example.com",
                "attributes": {
                    "Email": "owner.one@example.com",
                    "contact": {"e_mail": "contact.two@example.net", "Phone": "+44 20 7946 0958"},
                    "ips": ["203.0.113.9", "2001:db8::8a2e:370:7334"],
                    "profile": {"links": [{"note": "call me on +1 (415) 555-0100"}]},
                    "display_name": "Sam", "country": "DE"
                }
            }),
        )
        .await);
    ok(app.ingest("/api/v1/subjects", json!({
        "kind": "content", "id": "post_pii", "owner": {"kind": "account", "id": "acct_pii"},
        "text": "my card 4111 1111 1111 1111 from 198.51.100.23, or call +1 (415) 555-0100",
        "media": [{"url": "https://cdn.example/u/media.owner@example.org/1.jpg", "mime": "image/jpeg"}],
        "attributes": {"language": "en", "posted_from": {"IP_Address": "198.51.100.23"}}
    })).await);
    ok(app.ingest("/api/v1/events", json!({
        "id": "evt_pii", "type": "login", "occurred_at": "2026-11-20T09:00:00Z",
        "actor": {"kind": "account", "id": "acct_pii"}, "ip": "192.0.2.44", "device_id": "dev-7f3a",
        "data": {"email_typed": "typed.three@example.org", "nested": {"deep": [{"phone": "+49 151 23456789"}]},
                 "note": "from 192.0.2.45", "ua": "Mozilla/5.0"}
    })).await);
    ok(app.ingest("/api/v1/reports", json!({
        "id": "rep_pii", "subject": {"kind": "content", "id": "post_pii"}, "reason": "spam",
        "source": "user_report", "text": "they doxxed me: victim.four@example.com, 0151 2345 6789", "language": "en"
    })).await);
    ok(app.ingest("/api/v1/signals", json!({
        "id": "sig_pii", "subject": {"kind": "content", "id": "post_pii"}, "category": "spam",
        "name": "doxxing_model", "score": 0.9,
        "details": {"matched": "contact five@example.com", "client_ip": "192.0.2.46",
                    "deep": {"list": ["card 5500 0000 0000 0004", {"iban": "DE89 3704 0044 0532 0130 00"}]}}
    })).await);
    let analyst = app.token(Role::Analyst).to_string();
    let claimed = ok(app
        .post("/api/v1/queues/general/claim", &analyst, json!({}))
        .await);
    let case = claimed["id"].as_i64().unwrap();
    let version = claimed["version"].as_i64().unwrap();
    let decided = app
        .post(
            &format!("/api/v1/cases/{case}/decision"),
            &analyst,
            json!({
                "version": version, "violation": true, "category": "spam",
                "actions": [{"type": "remove_content"}],
                "rationale": {"what_happened": "the post lists six@example.com and a card number",
                              "evidence": "reporter six@example.com", "policy": "spam 2.1",
                              "action": "removed", "next_steps": "none"}
            }),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    ok(app
        .ingest(
            "/api/v1/reports",
            json!({"id": "rep_held", "subject": {"kind": "content", "id": "post_pii"}, "reason": "scam",
                   "source": "user_report", "text": "same post", "language": "en"}),
        )
        .await);
    let claimed = ok(app
        .post("/api/v1/queues/general/claim", &analyst, json!({}))
        .await);
    let held = claimed["id"].as_i64().unwrap();
    assert_ne!(held, case);
    ok(app
        .post(
            &format!("/api/v1/cases/{held}/notes"),
            &analyst,
            json!({"what_happened": "follow up with note.seven@example.com"}),
        )
        .await);
    ok(app
        .post(
            &format!("/api/v1/cases/{held}/hold"),
            &analyst,
            json!({"reason": "waiting on the owner of 203.0.113.77"}),
        )
        .await);
    (case, held)
}

/// Signs `role` in and returns the session cookie.
async fn session(app: &TestApp, role: Role) -> String {
    let answer = app
        .send(
            "POST",
            "/api/v1/session",
            None,
            Some("application/json"),
            json!({"name": role.as_str(), "password": PASSWORD})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

/// Every answer an unrevealing `role` gets about the cases, as text.
async fn walk(app: &TestApp, role: Role, (case, held): (i64, i64)) -> Vec<(String, String)> {
    let token = app.token(role).to_string();
    let decision = app.get(&format!("/api/v1/cases/{case}"), &token).await;
    let action = decision.body["decisions"][0]["actions"][0]["id"]
        .as_i64()
        .unwrap_or(0);
    let mut answers = Vec::new();
    for path in [
        "/api/v1/cases".to_string(),
        "/api/v1/cases?status=resolved".to_string(),
        "/api/v1/cases?subject_kind=content&subject_id=post_pii".to_string(),
        format!("/api/v1/cases/{case}"),
        format!("/api/v1/cases/{held}"),
        "/api/v1/subjects/content/post_pii/history".to_string(),
        "/api/v1/subjects/account/acct_pii/history".to_string(),
        "/api/v1/queues".to_string(),
        format!(
            "/api/v1/notices?decision_id={}",
            decision.body["decisions"][0]["id"]
        ),
        format!("/api/v1/actions/{action}"),
        format!("/api/v1/cases/{case}/recommendation"),
    ] {
        let answer = app.get(&path, &token).await;
        assert!(answer.status.is_success(), "{path}: {}", answer.body);
        answers.push((path, answer.body.to_string()));
    }
    let cookie = session(app, role).await;
    for path in [
        "/console".to_string(),
        "/console/queues/general?status=resolved".to_string(),
        "/console/queues/general".to_string(),
        format!("/console/cases/{case}"),
        format!("/console/cases/{held}"),
    ] {
        let answer = app
            .request_with_headers(
                "GET",
                &path,
                &[(header::COOKIE, cookie.clone())],
                Vec::new(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        answers.push((path, answer.body.as_str().unwrap_or_default().to_string()));
    }
    answers
}

#[tokio::test]
async fn no_personal_data_reaches_associates_or_qa_and_a_revealing_lead_sees_it() {
    let mut apps = vec![TestApp::new().await];
    apps.extend(TestApp::postgres().await);
    for app in &apps {
        let (case, held) = seed(app).await;
        for role in [Role::Associate, Role::Qa] {
            for (path, body) in walk(app, role, (case, held)).await {
                for secret in SECRETS {
                    assert!(
                        !body.contains(secret),
                        "{} sees {secret:?} in {path} on {}: {body}",
                        role.as_str(),
                        app.backend
                    );
                }
            }
        }
        let lead = app.token(Role::Lead).to_string();
        let revealed = app
            .get(
                &format!("/api/v1/cases/{case}?reveal_reason=checking%20the%20doxxing%20claim"),
                &lead,
            )
            .await;
        assert_eq!(revealed.status, StatusCode::OK);
        let revealed = revealed.body.to_string();
        let account = app
            .get(
                "/api/v1/subjects/account/acct_pii/history?reveal_reason=checking%20the%20doxxing%20claim",
                &lead,
            )
            .await
            .body
            .to_string();
        let held_revealed = app
            .get(
                &format!("/api/v1/cases/{held}?reveal_reason=checking%20the%20doxxing%20claim"),
                &lead,
            )
            .await
            .body
            .to_string();
        assert!(held_revealed.contains("203.0.113.77"), "{held_revealed}");
        assert!(held_revealed.contains("note.seven@example.com"));
        let shown = format!("{revealed}{account}{held_revealed}");
        for secret in SECRETS {
            assert!(
                shown.contains(secret),
                "the revealing lead misses {secret:?} on {}",
                app.backend
            );
        }
        for secret in IN_THE_CASE {
            assert!(
                revealed.contains(secret),
                "the revealed case misses {secret:?}"
            );
        }
        // Statements of reasons are published: masked even for the auditor,
        // who may reveal.
        let statements = app
            .get("/api/v1/dsa/statements", app.token(Role::Auditor))
            .await;
        assert_eq!(statements.status, StatusCode::OK, "{}", statements.body);
        let statements = statements.body.to_string();
        assert!(statements.contains("[email masked]"), "{statements}");
        assert!(!statements.contains("six@example.com"), "{statements}");
    }
}
