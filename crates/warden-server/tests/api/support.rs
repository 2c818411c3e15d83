//! `TestApp`: an application over a fresh SQLite store (or, with
//! [`TestApp::postgres`], a fresh schema on the PostgreSQL server named by
//! `WARDEN_TEST_DATABASE_URL`), with a user and an admin-scoped token for
//! every role, a movable clock, and request helpers.
//!
//! Every answer a test gets is checked against the OpenAPI document
//! ([`conform`]): its status must be one the document gives for the route
//! and method, its content type one it lists for that status, and its body
//! must match the schema there (a small validator of the JSON Schema subset
//! the document uses, [`validate`]). Every router test checks the document.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Once, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::TimeZone;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use warden_domain::access::{Role, Scope};
use warden_server::auth::{hash_password, new_token, secret_hash};
use warden_server::{router, AppState, Clock, ManualClock, ServerSettings};
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy, SqlStore, SqliteOptions};

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
        let now = state.now();
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

    /// A new user named `name` with `role`, and an admin-scoped token of
    /// theirs.
    pub async fn user_token(&self, name: &str, role: Role) -> String {
        let system = Actor::system();
        let now = self.clock.now();
        let user = self
            .store
            .create_user(&system, name, role, password_hash(), now)
            .await
            .unwrap();
        let token = new_token();
        self.store
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
        token
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
    /// Every answer is checked against the API document (see [`conform`]).
    pub async fn request(&self, request: Request<Body>) -> Answer {
        let method = request.method().to_string();
        let path = request.uri().path().to_string();
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
        let answer = Answer {
            status,
            headers,
            body,
        };
        conform(&method, &path, &answer);
        answer
    }

    /// Sends a request with the headers given (a session cookie, say).
    pub async fn request_with_headers(
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
        self.request(request.body(Body::from(body)).unwrap()).await
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
        self.request(request).await
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

/// The API document as JSON, built once.
fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::to_value(warden_server::openapi::document()).unwrap())
}

/// The document's path template that `path` matches, preferring literal
/// segments over parameters as the router does (`/notice-templates/preview`
/// over `/notice-templates/{id}`).
fn template_of(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    document()["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    continue;
                }
                if part != segment {
                    return None;
                }
                literal += 1;
            }
            Some((literal, template.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, template)| template)
}

fn is_console(path: &str) -> bool {
    path == "/" || path == "/console" || path.starts_with("/console/")
}

/// The media type of an answer, without parameters.
fn essence(answer: &Answer) -> String {
    answer
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Checks `answer` to `method path` against the API document, panicking
/// with what does not match. Console pages are not in the document.
pub fn conform(method: &str, path: &str, answer: &Answer) {
    if is_console(path) {
        return;
    }
    let status = answer.status.as_u16();
    let problem = json!({"$ref": "#/components/schemas/Problem"});
    let Some(template) = template_of(path) else {
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {path} is in no path of the API document"
        );
        return check_body(method, path, answer, "application/problem+json", &problem);
    };
    let documented = if method == "HEAD" {
        "get"
    } else {
        &method.to_ascii_lowercase()
    };
    let operation = &document()["paths"][template][documented];
    if operation.is_null() {
        // A method the path does not take: 405, or 401 before it.
        assert!(
            matches!(status, 401 | 405),
            "{method} {path}: the document has no {method} {template}, yet it answered {status}"
        );
        return check_body(method, path, answer, "application/problem+json", &problem);
    }
    let Some(response) = operation["responses"].get(status.to_string()) else {
        panic!(
            "the API document does not say {method} {template} can answer {status}; it answered {}",
            answer.body
        );
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(
            answer.body.is_null(),
            "{method} {template} {status} has no body in the document, yet answered {}",
            answer.body
        );
        return;
    };
    let media = essence(answer);
    let Some(schema) = content.get(&media).map(|c| &c["schema"]) else {
        panic!(
            "{method} {template} {status}: the document lists {:?}, the answer is {media:?}",
            content.keys().collect::<Vec<_>>()
        );
    };
    check_body(method, path, answer, &media, schema);
}

fn check_body(method: &str, path: &str, answer: &Answer, media: &str, schema: &Value) {
    assert_eq!(
        essence(answer),
        media,
        "{method} {path} {}: content type",
        answer.status
    );
    if method == "HEAD" {
        assert!(answer.body.is_null(), "HEAD {path} has a body");
        return;
    }
    let mut errors = Vec::new();
    validate(schema, &answer.body, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {path} {} does not match the API document:\n  {}\nbody: {}",
        answer.status,
        errors.join("\n  "),
        answer.body
    );
}

/// The JSON type names a value has (`integer` is also a `number`).
fn json_types(value: &Value) -> &'static [&'static str] {
    match value {
        Value::Null => &["null"],
        Value::Bool(_) => &["boolean"],
        Value::Number(n) if n.is_i64() || n.is_u64() => &["integer", "number"],
        Value::Number(_) => &["number"],
        Value::String(_) => &["string"],
        Value::Array(_) => &["array"],
        Value::Object(_) => &["object"],
    }
}

/// Validates `value` against `schema`, a JSON Schema in the subset the
/// API document uses, adding what does not match to `errors`. A keyword
/// the validator does not know is an error too, so that nothing the
/// document says goes unchecked.
pub fn validate(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(keywords) = schema.as_object() else {
        errors.push(format!("{at}: the schema is not an object: {schema}"));
        return;
    };
    for (keyword, argument) in keywords {
        match keyword.as_str() {
            "description" | "title" | "default" | "example" | "examples" => {}
            "$ref" => {
                let name = argument
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .unwrap_or_else(|| panic!("{at}: unexpected reference {argument}"));
                let target = &document()["components"]["schemas"][name];
                assert!(
                    target.is_object(),
                    "{at}: reference to missing schema {name}"
                );
                validate(target, value, at, errors);
            }
            "type" => {
                let allowed: Vec<&str> = match argument {
                    Value::String(one) => vec![one.as_str()],
                    Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("{at}: bad type {argument}"),
                };
                if !json_types(value).iter().any(|t| allowed.contains(t)) {
                    errors.push(format!("{at}: {value} is not of type {argument}"));
                }
            }
            "format" => match (argument.as_str(), value) {
                (Some("date-time"), Value::String(text))
                    if chrono::DateTime::parse_from_rfc3339(text).is_err() =>
                {
                    errors.push(format!("{at}: {text:?} is not an RFC 3339 date-time"))
                }
                // utoipa writes u32 as int32 with minimum 0: 32 bits either way.
                (Some("int32"), Value::Number(n))
                    if n.as_i64()
                        .is_none_or(|n| i32::try_from(n).is_err() && u32::try_from(n).is_err()) =>
                {
                    errors.push(format!("{at}: {n} is not a 32-bit integer"))
                }
                (Some("int64"), Value::Number(n)) if n.as_i64().is_none() => {
                    errors.push(format!("{at}: {n} is not an int64"))
                }
                _ => {}
            },
            "minimum" => {
                if let (Some(minimum), Some(n)) = (argument.as_f64(), value.as_f64()) {
                    if n < minimum {
                        errors.push(format!("{at}: {n} is below the minimum {minimum}"));
                    }
                }
            }
            "enum" => {
                if !argument.as_array().unwrap().contains(value) {
                    errors.push(format!("{at}: {value} is not one of {argument}"));
                }
            }
            "required" => {
                if let Value::Object(object) = value {
                    for name in argument
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(Value::as_str)
                    {
                        if !object.contains_key(name) {
                            errors.push(format!("{at}: lacks the required {name:?}"));
                        }
                    }
                }
            }
            "properties" => {
                if let Value::Object(object) = value {
                    for (name, property) in argument.as_object().unwrap() {
                        if let Some(field) = object.get(name) {
                            validate(property, field, &format!("{at}.{name}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Value::Object(object) = value {
                    let known = keywords.get("properties").and_then(Value::as_object);
                    for (name, field) in object {
                        if known.is_some_and(|k| k.contains_key(name)) {
                            continue;
                        }
                        match argument {
                            Value::Bool(true) => {}
                            Value::Bool(false) => {
                                errors.push(format!("{at}: {name:?} is not in the schema"))
                            }
                            schema => validate(schema, field, &format!("{at}.{name}"), errors),
                        }
                    }
                }
            }
            "propertyNames" => {
                if let Value::Object(object) = value {
                    for name in object.keys() {
                        let key = Value::String(name.clone());
                        validate(argument, &key, &format!("{at}.{name} (name)"), errors);
                    }
                }
            }
            "items" => {
                if let Value::Array(items) = value {
                    for (index, item) in items.iter().enumerate() {
                        validate(argument, item, &format!("{at}[{index}]"), errors);
                    }
                }
            }
            "oneOf" | "anyOf" => {
                let matching = argument
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|option| {
                        let mut option_errors = Vec::new();
                        validate(option, value, at, &mut option_errors);
                        option_errors.is_empty()
                    })
                    .count();
                let fits = if keyword == "oneOf" {
                    matching == 1
                } else {
                    matching >= 1
                };
                if !fits {
                    errors.push(format!(
                        "{at}: {value} matches {matching} of the {keyword} schemas {argument}"
                    ));
                }
            }
            "allOf" => {
                for option in argument.as_array().unwrap() {
                    validate(option, value, at, errors);
                }
            }
            other => errors.push(format!(
                "{at}: the validator does not know the keyword {other:?}"
            )),
        }
    }
}
