//! `TestApp`: an application over a fresh SQLite store, with a user and an
//! admin-scoped token for every role, a movable clock, and request helpers.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::TimeZone;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use warden_domain::access::{Role, Scope};
use warden_server::auth::{hash_password, new_token, secret_hash};
use warden_server::{router, AppState, ManualClock, ServerSettings};
use warden_store::{Actor, CasePolicy, SqlStore, SqliteOptions, Store};

/// The password of every test user.
pub const PASSWORD: &str = "correct horse battery";

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD).unwrap())
}

pub struct TestApp {
    pub router: Router,
    pub store: Arc<SqlStore>,
    pub clock: Arc<ManualClock>,
    tokens: HashMap<Role, String>,
    pub ingest_token: String,
    _dir: tempfile::TempDir,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `errors[i].field` values of a problem document.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(ServerSettings::default(), CasePolicy::default()).await
    }

    pub async fn with_settings(settings: ServerSettings, policy: CasePolicy) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqlStore::open_sqlite(&dir.path().join("warden.db"), SqliteOptions::default())
                .await
                .unwrap(),
        );
        let clock = Arc::new(ManualClock::new(
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
                .unwrap(),
        ));
        let state = AppState::new(store.clone(), policy, settings).with_clock(clock.clone());
        let now = state.clock.now();
        let mut tokens = HashMap::new();
        let system = Actor::system();
        for role in Role::ALL {
            let user = store
                .create_user(&system, role.as_str(), role, password_hash(), now)
                .await
                .unwrap();
            let token = new_token();
            store
                .create_token(
                    &system,
                    user.id,
                    "test",
                    Scope::Admin,
                    &secret_hash(&token),
                    now,
                )
                .await
                .unwrap();
            tokens.insert(role, token);
        }
        let admin = store.user_by_name("admin").await.unwrap().unwrap();
        let ingest_token = new_token();
        store
            .create_token(
                &system,
                admin.id,
                "ingest",
                Scope::Ingest,
                &secret_hash(&ingest_token),
                now,
            )
            .await
            .unwrap();
        Self {
            router: router(state),
            store,
            clock,
            tokens,
            ingest_token,
            _dir: dir,
        }
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// Sends a request; `body` is sent as JSON unless `content_type` says otherwise.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        self.request(request.body(Body::from(body)).unwrap()).await
    }

    /// Sends a request built by the caller (for headers `send` does not set).
    pub async fn request(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send("GET", path, Some(token), None, Vec::new()).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(
            "POST",
            path,
            Some(token),
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
    }

    pub async fn ingest(&self, path: &str, body: Value) -> Answer {
        self.post(path, &self.ingest_token.clone(), body).await
    }

    pub async fn ndjson(&self, path: &str, lines: &[String]) -> Answer {
        let body = lines.join("\n").into_bytes();
        self.send(
            "POST",
            path,
            Some(&self.ingest_token.clone()),
            Some("application/x-ndjson"),
            body,
        )
        .await
    }

    /// Sends a report and returns the id of the case it opened or joined.
    pub async fn report(&self, id: &str, subject: (&str, &str), reason: &str) -> i64 {
        let answer = self
            .ingest("/api/v1/reports", serde_json::json!({"id": id, "subject": {"kind": subject.0, "id": subject.1}, "reason": reason, "source": "user_report", "text": "please look"}))
            .await;
        assert!(answer.status.is_success(), "{}", answer.body);
        let list = self
            .get(
                &format!(
                    "/api/v1/cases?subject_kind={}&subject_id={}",
                    subject.0, subject.1
                ),
                self.token(Role::Lead),
            )
            .await;
        list.body["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["category"] == reason && c["status"] != "resolved")
            .map(|c| c["id"].as_i64().unwrap())
            .expect("an open case")
    }

    /// A content subject with an owner, so that account actions have a target.
    pub async fn post_subject(&self, id: &str, owner: &str, text: &str) {
        let answer = self
            .ingest("/api/v1/subjects", serde_json::json!({"kind": "content", "id": id, "owner": {"kind": "account", "id": owner}, "text": text}))
            .await;
        assert!(answer.status.is_success(), "{}", answer.body);
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        let mut actions = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store.audit_page(after, 1000).await.unwrap();
            if page.is_empty() {
                return actions;
            }
            for record in page {
                after = record.entry.seq;
                actions.push(record.entry.action);
            }
        }
    }
}
