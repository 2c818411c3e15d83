//! Access control: every route with every role, sessions, CSRF and lockout.

use axum::http::{header, StatusCode};
use serde_json::json;

use warden_domain::access::Role;
use warden_server::routes::{Access, Surface, ROUTES};
use warden_server::ServerSettings;
use warden_store::prelude::*;
use warden_store::CasePolicy;

use crate::support::{TestApp, PASSWORD};

fn concrete(path: &str) -> String {
    path.replace("{queue}", "general")
        .replace("{kind}", "content")
        .replace("{name}", "nobody")
        .replace("{id}", "999999")
        .replace("{index}", "0")
        .replace("{eid}", "1")
}

#[tokio::test]
async fn every_route_with_every_role_follows_the_table() {
    let app = TestApp::new().await;
    let mut checked = 0;
    for route in ROUTES {
        let path = concrete(route.path);
        let anonymous = app
            .send(
                route.method.as_str(),
                &path,
                None,
                Some("application/json"),
                b"{}".to_vec(),
            )
            .await;
        if route.access == Access::Public {
            assert_ne!(
                anonymous.status,
                StatusCode::UNAUTHORIZED,
                "{} {}",
                route.method,
                route.path
            );
        } else if route.surface == Surface::Console {
            // The console sends signed-out visitors to its sign-in page.
            assert_eq!(
                anonymous.status,
                StatusCode::SEE_OTHER,
                "{} {} without credentials",
                route.method,
                route.path
            );
            assert!(anonymous.headers[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/console/sign-in?next="));
        } else {
            assert_eq!(
                anonymous.status,
                StatusCode::UNAUTHORIZED,
                "{} {} without credentials",
                route.method,
                route.path
            );
            assert_eq!(
                anonymous.headers[header::CONTENT_TYPE],
                "application/problem+json"
            );
        }
        for role in Role::ALL {
            let answer = app
                .send(
                    route.method.as_str(),
                    &path,
                    Some(app.token(role)),
                    Some("application/json"),
                    b"{}".to_vec(),
                )
                .await;
            let allowed = match route.access {
                Access::Public | Access::SignedIn => true,
                Access::Needs(permission) => role.grants(permission),
            };
            if allowed {
                assert!(
                    !matches!(
                        answer.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ),
                    "{role} should reach {} {}, got {} {}",
                    route.method,
                    route.path,
                    answer.status,
                    answer.body
                );
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "{role} must not reach {} {}: {}",
                    route.method,
                    route.path,
                    answer.body
                );
            }
            assert_ne!(
                answer.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{role} {} {}: {}",
                route.method,
                route.path,
                answer.body
            );
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * Role::ALL.len());
}

#[tokio::test]
async fn token_scopes_narrow_the_role() {
    let app = TestApp::new().await;
    // The admin's ingest token may ingest and nothing else.
    let users = app.get("/api/v1/users", &app.ingest_token).await;
    assert_eq!(users.status, StatusCode::FORBIDDEN);
    assert!(
        users.body["detail"].as_str().unwrap().contains("scope"),
        "{}",
        users.body
    );
    let report = app
        .ingest("/api/v1/reports", json!({"id": "r1", "subject": {"kind": "content", "id": "p1"}, "reason": "spam", "source": "user_report"}))
        .await;
    assert_eq!(report.status, StatusCode::CREATED);
    let unknown = app.get("/api/v1/me", "wdn_not-a-token").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_need_csrf_for_changes_and_lock_after_failures() {
    let settings = ServerSettings {
        sign_in_failures_max: 3,
        ..ServerSettings::default()
    };
    let app = TestApp::with_settings(settings, CasePolicy::default()).await;
    let signed_in = app
        .post(
            "/api/v1/session",
            "",
            json!({"name": "lead", "password": PASSWORD}),
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    let cookie = signed_in.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let csrf = signed_in.body["csrf_token"].as_str().unwrap().to_string();

    let request = |method: &str, path: &str, csrf: Option<&str>| {
        let mut builder = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, session.clone())
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(csrf) = csrf {
            builder = builder.header("x-csrf-token", csrf);
        }
        builder
            .body(axum::body::Body::from("{\"reason\": \"x\"}"))
            .unwrap()
    };
    use tower::ServiceExt;
    let me = app
        .router
        .clone()
        .oneshot(request("GET", "/api/v1/me", None))
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let without = app
        .router
        .clone()
        .oneshot(request("POST", "/api/v1/cases/1/hold", None))
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let with = app
        .router
        .clone()
        .oneshot(request("POST", "/api/v1/cases/1/hold", Some(&csrf)))
        .await
        .unwrap();
    assert_eq!(
        with.status(),
        StatusCode::NOT_FOUND,
        "past CSRF, the case does not exist"
    );
    let out = app
        .router
        .clone()
        .oneshot(request("DELETE", "/api/v1/session", Some(&csrf)))
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = app
        .router
        .clone()
        .oneshot(request("GET", "/api/v1/me", None))
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);

    for _ in 0..2 {
        let wrong = app
            .post(
                "/api/v1/session",
                "",
                json!({"name": "qa", "password": "wrong"}),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    // The failure that locks the user, and the refusals while locked, read
    // exactly like a wrong password: nobody learns that qa exists or is locked.
    let locked = app
        .post(
            "/api/v1/session",
            "",
            json!({"name": "qa", "password": "wrong"}),
        )
        .await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED, "{}", locked.body);
    let still = app
        .post(
            "/api/v1/session",
            "",
            json!({"name": "qa", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        still.status,
        StatusCode::UNAUTHORIZED,
        "the right password does not lift a lockout"
    );
    assert_eq!(still.body, locked.body);
    app.clock.advance(chrono::Duration::minutes(16));
    let later = app
        .post(
            "/api/v1/session",
            "",
            json!({"name": "qa", "password": PASSWORD}),
        )
        .await;
    assert_eq!(later.status, StatusCode::OK);
    let nobody = app
        .post(
            "/api/v1/session",
            "",
            json!({"name": "nobody", "password": PASSWORD}),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"session.sign_in_failed".to_string()));
}

#[tokio::test]
async fn demo_passwords_work_in_demo_mode_only() {
    let app = TestApp::new().await;
    let hash = warden_server::auth::hash_password("demo").unwrap();
    app.store
        .create_user(
            &warden_store::Actor::system(),
            "weak",
            Role::Analyst,
            &hash,
            warden_server::Clock::now(app.clock.as_ref()),
        )
        .await
        .unwrap();
    let refused = app
        .post(
            "/api/v1/session",
            "",
            json!({"name": "weak", "password": "demo"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body["detail"]
        .as_str()
        .unwrap()
        .contains("demo mode"));
    let demo = TestApp::with_settings(
        ServerSettings {
            demo_mode: true,
            ..ServerSettings::default()
        },
        CasePolicy::default(),
    )
    .await;
    demo.store
        .create_user(
            &warden_store::Actor::system(),
            "weak",
            Role::Analyst,
            &hash,
            warden_server::Clock::now(demo.clock.as_ref()),
        )
        .await
        .unwrap();
    let accepted = demo
        .post(
            "/api/v1/session",
            "",
            json!({"name": "weak", "password": "demo"}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK);
}

#[tokio::test]
async fn admins_manage_users_and_tokens() {
    let app = TestApp::new().await;
    let admin = app.token(Role::Admin).to_string();
    let short = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"name": "dana", "role": "analyst", "password": "short"}),
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.fields(), ["password"]);
    let bad = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"name": "da na", "role": "wizard", "password": "long enough pass"}),
        )
        .await;
    assert_eq!(bad.fields(), ["name", "role"]);
    let created = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"name": "dana", "role": "analyst", "password": "long enough pass"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let again = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"name": "dana", "role": "analyst", "password": "long enough pass"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // An admin does not mint tokens that read or act on cases for others:
    // dana mints her own.
    let for_dana = app
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"user": "dana", "scope": "read"}),
        )
        .await;
    assert_eq!(for_dana.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(for_dana.fields(), ["scope"]);
    let dana = app.sign_in("dana", "long enough pass").await;
    let token = app
        .send_session(
            "POST",
            "/api/v1/tokens",
            &dana,
            json!({"user": "dana", "scope": "read"}),
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.body);
    assert_eq!(token.body["minted_by"], "dana");
    let secret = token.body["token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/me", &secret).await.body["name"], "dana");
    let listed = app.get("/api/v1/tokens", &admin).await;
    assert!(
        listed
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none()),
        "secrets are never listed"
    );
    let id = token.body["id"].as_i64().unwrap();
    let revoked = app
        .send(
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            Some(&admin),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    let disabled = app
        .post("/api/v1/users/dana/disable", &admin, json!({}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert_eq!(disabled.body["disabled"], true);
    let myself = app
        .post("/api/v1/users/admin/disable", &admin, json!({}))
        .await;
    assert_eq!(myself.status, StatusCode::CONFLICT);
}
