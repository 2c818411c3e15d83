//! HTTP edges: `HEAD` on every `GET` route, `405` with `Allow`, an error
//! body in the surface's language for every refusal (problem+json on the
//! API, a page on the console), and JSON objects that name a key twice.
//! The layers' own refusals (panic, time and concurrency limits) are unit
//! tests in `routes.rs`, on stand-in routes.

use std::time::Duration;

use axum::http::{header, Method, StatusCode};
use serde_json::json;

use warden_domain::access::Role;
use warden_server::routes::{Access, Surface, ROUTES};
use warden_server::ServerSettings;
use warden_store::CasePolicy;

use crate::support::{Answer, TestApp, PASSWORD};

fn concrete(path: &str) -> String {
    path.replace("{queue}", "general")
        .replace("{kind}", "content")
        .replace("{name}", "analyst")
        .replace("{id}", "1")
        .replace("{index}", "0")
        .replace("{eid}", "1")
}

fn content_type(answer: &Answer) -> &str {
    answer
        .headers
        .get(header::CONTENT_TYPE)
        .map_or("", |v| v.to_str().unwrap())
}

/// Checks an RFC 9457 problem answer with `status`, and returns its detail.
fn assert_problem(answer: &Answer, status: StatusCode) -> String {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(content_type(answer), "application/problem+json");
    assert_eq!(answer.body["status"], status.as_u16(), "{}", answer.body);
    assert!(
        answer.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://warden.dev/problems/")),
        "{}",
        answer.body
    );
    assert!(answer.body["title"].is_string(), "{}", answer.body);
    answer.body["detail"].as_str().unwrap().to_string()
}

/// Checks a console error page with `status`.
fn assert_page(answer: &Answer, status: StatusCode) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(
        content_type(answer).starts_with("text/html"),
        "{}",
        content_type(answer)
    );
    let html = answer.body.as_str().unwrap();
    assert!(html.to_lowercase().starts_with("<!doctype html>"), "{html}");
    assert!(answer.headers.contains_key(header::CONTENT_SECURITY_POLICY));
}

/// The methods the table has for `path`, with HEAD beside GET, as `Allow`
/// should list them.
fn allow_of(path: &str) -> String {
    let mut methods: Vec<&str> = Vec::new();
    for route in ROUTES.iter().filter(|r| r.path == path) {
        for method in [route.method.as_str()]
            .into_iter()
            .chain((route.method == Method::GET).then_some("HEAD"))
        {
            if !methods.contains(&method) {
                methods.push(method);
            }
        }
    }
    methods.join(", ")
}

#[tokio::test]
async fn head_answers_every_get_route_like_its_get_without_a_body() {
    let app = TestApp::new().await;
    app.report("rep_head", ("content", "head_1"), "spam").await;
    let mut checked = 0;
    for route in ROUTES.iter().filter(|r| r.method == Method::GET) {
        let path = concrete(route.path);
        for token in [
            None,
            Some(app.token(Role::Lead)),
            Some(app.token(Role::Admin)),
        ] {
            let get = app.send("GET", &path, token, None, Vec::new()).await;
            let head = app.send("HEAD", &path, token, None, Vec::new()).await;
            assert_eq!(
                head.status, get.status,
                "HEAD {path} ({token:?}) answers like GET: {}",
                get.body
            );
            assert_eq!(content_type(&head), content_type(&get), "HEAD {path}");
            assert_eq!(
                head.headers.get(header::LOCATION),
                get.headers.get(header::LOCATION),
                "HEAD {path}"
            );
            assert!(head.body.is_null(), "HEAD {path} has no body");
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked}");
    // Load balancers check health with HEAD and no credentials.
    for path in ["/healthz", "/readyz"] {
        let head = app.send("HEAD", path, None, None, Vec::new()).await;
        assert_eq!(head.status, StatusCode::OK, "HEAD {path}");
        assert_eq!(content_type(&head), "application/json");
        let get = app.send("GET", path, None, None, Vec::new()).await;
        assert_eq!(
            head.headers[header::CONTENT_LENGTH],
            get.headers[header::CONTENT_LENGTH]
        );
    }
    // HEAD needs what GET needs.
    let head = app
        .send("HEAD", "/api/v1/users", None, None, Vec::new())
        .await;
    assert_eq!(head.status, StatusCode::UNAUTHORIZED);
    let head = app
        .send(
            "HEAD",
            "/api/v1/users",
            Some(app.token(Role::Analyst)),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(head.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_method_the_table_lacks_is_405_with_allow_on_every_path() {
    let app = TestApp::new().await;
    let mut paths: Vec<&str> = ROUTES.iter().map(|r| r.path).collect();
    paths.dedup();
    for path in paths {
        let surface = ROUTES.iter().find(|r| r.path == path).unwrap().surface;
        let public = ROUTES
            .iter()
            .any(|r| r.path == path && r.access == Access::Public);
        let concrete = concrete(path);
        for method in ["PATCH", "PUT", "OPTIONS"] {
            let answer = app
                .send(
                    method,
                    &concrete,
                    Some(app.token(Role::Admin)),
                    Some("application/json"),
                    b"{}".to_vec(),
                )
                .await;
            match surface {
                Surface::Api => {
                    let detail = assert_problem(&answer, StatusCode::METHOD_NOT_ALLOWED);
                    assert!(detail.contains(&allow_of(path)), "{detail}");
                }
                Surface::Console => assert_page(&answer, StatusCode::METHOD_NOT_ALLOWED),
            }
            assert_eq!(
                answer.headers[header::ALLOW],
                allow_of(path).as_str(),
                "{method} {path}"
            );
            // Without credentials: 405 where the path has a public method,
            // else the 401 its own methods would give.
            let anonymous = app.send(method, &concrete, None, None, Vec::new()).await;
            let expected = if public {
                StatusCode::METHOD_NOT_ALLOWED
            } else {
                StatusCode::UNAUTHORIZED
            };
            match surface {
                Surface::Api => {
                    assert_problem(&anonymous, expected);
                }
                Surface::Console => assert_page(&anonymous, expected),
            }
            assert_eq!(
                anonymous.headers.contains_key(header::ALLOW),
                public,
                "{method} {path} anonymously"
            );
        }
    }
    let me = app
        .send(
            "DELETE",
            "/api/v1/me",
            Some(app.token(Role::Analyst)),
            None,
            Vec::new(),
        )
        .await;
    assert_problem(&me, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(me.headers[header::ALLOW], "GET, HEAD");
    let session = app
        .send("GET", "/api/v1/session", None, None, Vec::new())
        .await;
    assert_problem(&session, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(session.headers[header::ALLOW], "POST, DELETE");
    // Unknown paths stay 404, on both surfaces.
    assert_problem(
        &app.send("PATCH", "/api/v1/nothing", None, None, Vec::new())
            .await,
        StatusCode::NOT_FOUND,
    );
    assert_page(
        &app.send("GET", "/console/nothing", None, None, Vec::new())
            .await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn every_api_refusal_is_a_problem_naming_what_is_at_fault() {
    let settings = ServerSettings {
        body_bytes_max: 4096,
        ..ServerSettings::default()
    };
    let app = TestApp::with_settings(settings, CasePolicy::default()).await;
    let lead = app.token(Role::Lead).to_string();
    let admin = app.token(Role::Admin).to_string();

    // A path parameter that is not UTF-8 once percent-decoded: 400 naming it.
    let bad_path = app.get("/api/v1/cases/%FF%FE", &lead).await;
    assert_problem(&bad_path, StatusCode::BAD_REQUEST);
    assert_eq!(bad_path.fields(), ["id"]);
    let bad_user = app
        .post("/api/v1/users/%C3%28/disable", &admin, json!({}))
        .await;
    assert_problem(&bad_user, StatusCode::BAD_REQUEST);
    assert_eq!(bad_user.fields(), ["name"]);
    let public = app
        .send("GET", "/healthz/%FF", None, None, Vec::new())
        .await;
    assert_problem(&public, StatusCode::NOT_FOUND);
    // A query that does not decode: 422 naming the parameter.
    let query = app.get("/api/v1/cases?limit=many", &lead).await;
    let detail = assert_problem(&query, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(query.fields(), ["limit"], "{detail}");
    let query = app.get("/api/v1/audit?colour=red", &admin).await;
    assert_problem(&query, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(query.fields(), ["colour"]);
    // JSON that is not JSON: 400; JSON that does not fit: 422 naming the field.
    let not_json = app
        .send(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some("application/json"),
            b"{\"name\": ".to_vec(),
        )
        .await;
    assert_problem(&not_json, StatusCode::BAD_REQUEST);
    let wrong_type = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"name": 7, "role": "analyst", "password": PASSWORD}),
        )
        .await;
    assert_problem(&wrong_type, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_type.fields(), ["name"]);
    // Another content type: 415.
    let form = app
        .send(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some("application/x-www-form-urlencoded"),
            b"name=x".to_vec(),
        )
        .await;
    assert_problem(&form, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Past the body limit: 413, through our extractor and through a plain one.
    let big = json!({"name": "x".repeat(5000), "role": "analyst", "password": PASSWORD});
    assert_problem(
        &app.post("/api/v1/users", &admin, big.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
    let callback = app
        .send(
            "POST",
            "/api/v1/deliveries/callback",
            None,
            Some("application/json"),
            big.to_string().into_bytes(),
        )
        .await;
    assert_problem(&callback, StatusCode::PAYLOAD_TOO_LARGE);
    // A method the path does not take: 405; no such path: 404.
    assert_problem(
        &app.send("PUT", "/api/v1/users", Some(&admin), None, Vec::new())
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    assert_problem(
        &app.get("/api/v1/nothing", &admin).await,
        StatusCode::NOT_FOUND,
    );

    // The console answers the same refusals with pages.
    assert_page(
        &app.get("/console/cases/%FF%FE", &lead).await,
        StatusCode::BAD_REQUEST,
    );
    assert_page(
        &app.send("PUT", "/console", Some(&lead), None, Vec::new())
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
}

#[tokio::test]
async fn the_time_limit_is_a_problem_through_the_real_router() {
    // Signing in hashes with Argon2id off the async threads, which takes
    // far longer than a millisecond.
    let settings = ServerSettings {
        request_timeout: Duration::from_millis(1),
        ..ServerSettings::default()
    };
    let app = TestApp::with_settings(settings, CasePolicy::default()).await;
    let answer = app
        .send(
            "POST",
            "/api/v1/session",
            None,
            Some("application/json"),
            json!({"name": "analyst", "password": PASSWORD})
                .to_string()
                .into_bytes(),
        )
        .await;
    let detail = assert_problem(&answer, StatusCode::SERVICE_UNAVAILABLE);
    assert!(detail.contains("request_timeout"), "{detail}");
}

#[tokio::test]
async fn a_key_given_twice_is_a_400_naming_its_path() {
    let app = TestApp::new().await;
    let report = r#"{"id": "rep_dup", "subject": {"kind": "content", "id": "p1"}, "reason": "spam",
        "source": "user_report", "text": "harmless", "text": "abusive"}"#;
    let answer = app
        .send(
            "POST",
            "/api/v1/reports",
            Some(&app.ingest_token.clone()),
            Some("application/json"),
            report.as_bytes().to_vec(),
        )
        .await;
    let detail = assert_problem(&answer, StatusCode::BAD_REQUEST);
    assert_eq!(answer.fields(), ["text"], "{detail}");
    let nested = r#"{"id": "rep_dup", "subject": {"kind": "content", "id": "p1", "id": "p2"},
        "reason": "spam", "source": "user_report"}"#;
    let answer = app
        .send(
            "POST",
            "/api/v1/reports",
            Some(&app.ingest_token.clone()),
            Some("application/json"),
            nested.as_bytes().to_vec(),
        )
        .await;
    assert_problem(&answer, StatusCode::BAD_REQUEST);
    assert_eq!(answer.fields(), ["subject.id"]);
    // Nothing was stored.
    let cases = app
        .get(
            "/api/v1/cases?subject_kind=content&subject_id=p1",
            app.token(Role::Lead),
        )
        .await;
    assert_eq!(cases.body["cases"], json!([]));

    // In a batch, the line with the repeated key is refused alone.
    let lines = [
        r#"{"id": "rep_a", "subject": {"kind": "content", "id": "p3"}, "reason": "spam", "source": "user_report"}"#.to_string(),
        r#"{"id": "rep_b", "subject": {"kind": "content", "id": "p3"}, "reason": "spam", "reason": "fraud", "source": "user_report"}"#.to_string(),
    ];
    let batch = app.ndjson("/api/v1/reports", &lines).await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.body);
    assert_eq!(batch.body["created"], 1);
    assert_eq!(batch.body["errors"], 1);
    let refused = &batch.body["results"][1];
    assert_eq!(refused["status"], "error");
    assert_eq!(refused["error"]["status"], 400);
    assert_eq!(refused["error"]["errors"][0]["field"], "reason");

    // Every JSON-taking route reads bodies the same way.
    let answer = app
        .send(
            "POST",
            "/api/v1/users",
            Some(app.token(Role::Admin)),
            Some("application/json"),
            br#"{"name": "dup", "role": "analyst", "role": "admin", "password": "long enough password"}"#
                .to_vec(),
        )
        .await;
    assert_problem(&answer, StatusCode::BAD_REQUEST);
    assert_eq!(answer.fields(), ["role"]);
}
