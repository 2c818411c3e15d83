//! `TestApp`: an application over a fresh SQLite store (or, with
//! [`TestApp::postgres`], a fresh schema on the PostgreSQL server named by
//! `WARDEN_TEST_DATABASE_URL`), with a user and an admin-scoped token for
//! every role, a movable clock, and request helpers.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Once, OnceLock};

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
    /// Which backend the store runs on: `sqlite` or `postgres`.
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<PostgresSchema>,
}

/// A schema made on the PostgreSQL server for one app, dropped with it.
struct PostgresSchema {
    admin_url: String,
    name: String,
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; the schema is dropped from a
        // thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .execute(&mut conn)
                        .await;
                }
            });
        });
        let _ = dropped.join();
    }
}

static SKIP_NOTICE: Once = Once::new();

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
        Self::build(store, settings, policy, "sqlite", Some(dir), None).await
    }

    /// The same application on PostgreSQL, in a schema of its own dropped
    /// with the app; `None` (said once) without `WARDEN_TEST_DATABASE_URL`.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with_settings(ServerSettings::default(), CasePolicy::default()).await
    }

    /// [`TestApp::postgres`] with settings and a policy.
    pub async fn postgres_with_settings(
        settings: ServerSettings,
        policy: CasePolicy,
    ) -> Option<Self> {
        let Ok(admin_url) = std::env::var("WARDEN_TEST_DATABASE_URL") else {
            SKIP_NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "warden-server: PostgreSQL runs of the router tests skipped: set WARDEN_TEST_DATABASE_URL=postgres://... to run them"
                );
            });
            return None;
        };
        use sqlx::Connection;
        let name = format!("warden_api_{:016x}", rand::random::<u64>());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to WARDEN_TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test schema");
        conn.close().await.ok();
        let schema = PostgresSchema {
            admin_url: admin_url.clone(),
            name: name.clone(),
        };
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{name}");
        let store = Arc::new(
            SqlStore::connect_postgres(&url, 8)
                .await
                .expect("connect the PostgreSQL store"),
        );
        Some(Self::build(store, settings, policy, "postgres", None, Some(schema)).await)
    }

    async fn build(
        store: Arc<SqlStore>,
        settings: ServerSettings,
        policy: CasePolicy,
        backend: &'static str,
        dir: Option<tempfile::TempDir>,
        schema: Option<PostgresSchema>,
    ) -> Self {
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
            backend,
            _dir: dir,
            _schema: schema,
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
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
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

    /// Sends a request with the headers given (a session cookie, say).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(header::HeaderName, String)],
        body: Vec<u8>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Signs `name` in through the API: the session cookie and its CSRF token.
    pub async fn sign_in(&self, name: &str, password: &str) -> (String, String) {
        let answer = self
            .post(
                "/api/v1/session",
                "",
                serde_json::json!({"name": name, "password": password}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let cookie = answer.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let csrf = answer.body["csrf_token"].as_str().unwrap().to_string();
        (cookie, csrf)
    }

    /// Sends a JSON request with a session cookie and its CSRF token.
    pub async fn send_session(
        &self,
        method: &str,
        path: &str,
        session: &(String, String),
        body: Value,
    ) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, &session.0)
            .header("x-csrf-token", &session.1)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
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
