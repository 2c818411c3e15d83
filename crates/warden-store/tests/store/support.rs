//! The harness: one store per test, on each backend.

use std::io::Write;
use std::sync::Once;

use chrono::{Duration, TimeZone, Utc};
use sqlx::Connection;

use warden_domain::access::Role;
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{NewReport, NewSubject, ReportSource};
use warden_domain::{SubjectRef, Timestamp};
use warden_store::prelude::*;
use warden_store::{Actor, Backend, CasePolicy, SqlStore, SqliteOptions, UserRecord};

/// A store for one test and what must be cleaned up after it.
pub struct TestStore {
    pub store: SqlStore,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
    /// The URL of the same database, for a connection of the test's own.
    raw_url: String,
}

/// A connection of the test's own to the store's database, past the store
/// (to break what the store never would).
pub struct Raw {
    url: String,
    pub backend: Backend,
}

impl Raw {
    pub async fn connect(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl TestStore {
    /// The URL of the store's database, for a connection of the test's own.
    pub fn raw_url(&self) -> String {
        self.raw_url.clone()
    }

    pub fn raw(&self) -> Raw {
        Raw {
            url: self.raw_url.clone(),
            backend: self.store.backend(),
        }
    }

    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, schema)) = self.postgres {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("warden.db");
    let store = SqlStore::open_sqlite(&path, SqliteOptions::default())
        .await
        .expect("open SQLite store");
    TestStore {
        store,
        raw_url: format!("sqlite://{}", path.display()),
        _dir: Some(dir),
        postgres: None,
    }
}

static SKIP_NOTICE: Once = Once::new();

/// A store in a fresh schema on the PostgreSQL server named by
/// `WARDEN_TEST_DATABASE_URL`, or `None` (said once, uncaptured) without it.
pub async fn postgres() -> Option<TestStore> {
    let Ok(admin_url) = std::env::var("WARDEN_TEST_DATABASE_URL") else {
        SKIP_NOTICE.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "warden-store: skipped PostgreSQL tests: set WARDEN_TEST_DATABASE_URL=postgres://... to run them"
            );
        });
        return None;
    };
    let schema = format!("warden_test_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to WARDEN_TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create test schema");
    conn.close().await.ok();
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
    let store = SqlStore::connect_postgres(&url, 16)
        .await
        .expect("connect PostgreSQL store");
    Some(TestStore {
        store,
        raw_url: url,
        _dir: None,
        postgres: Some((admin_url, schema)),
    })
}

/// Declares a test that runs on every backend.
#[macro_export]
macro_rules! store_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let test = $crate::support::sqlite().await;
                ($body)(test.store.clone()).await;
                test.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(test) = $crate::support::postgres().await else {
                    return;
                };
                ($body)(test.store.clone()).await;
                test.finish().await;
            }
        }
    };
}

/// Declares a test that runs on every backend and also gets a [`Raw`]
/// connection to the store's database.
#[macro_export]
macro_rules! store_test_raw {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let test = $crate::support::sqlite().await;
                ($body)(test.store.clone(), test.raw()).await;
                test.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(test) = $crate::support::postgres().await else {
                    return;
                };
                ($body)(test.store.clone(), test.raw()).await;
                test.finish().await;
            }
        }
    };
}

pub fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap()
}

pub fn at(minutes: i64) -> Timestamp {
    t0() + Duration::minutes(minutes)
}

pub fn reference(kind: SubjectKind, id: &str) -> SubjectRef {
    SubjectRef::new(kind, PlatformId::parse(id).unwrap())
}

pub fn report(id: &str, subject: &SubjectRef, reason: &str, source: ReportSource) -> NewReport {
    NewReport {
        id: PlatformId::parse(id).unwrap(),
        subject: subject.clone(),
        reason: reason.into(),
        source,
        reporter: Some(reference(SubjectKind::Account, "reporter_1")),
        text: Some("this is spam".into()),
        language: Some("en".into()),
        created_at: Some(t0()),
    }
}

pub fn content(id: &str, owner: &str) -> NewSubject {
    NewSubject {
        subject: reference(SubjectKind::Content, id),
        created_at: Some(t0()),
        owner: Some(reference(SubjectKind::Account, owner)),
        text: Some("buy cheap followers at example.test".into()),
        media: Vec::new(),
        attributes: serde_json::json!({"language": "en"}),
    }
}

pub async fn user(store: &SqlStore, name: &str, role: Role) -> (UserRecord, Actor) {
    let user = store
        .create_user(&Actor::system(), name, role, "$argon2id$test", t0())
        .await
        .unwrap();
    let actor = Actor::user(user.id, &user.name);
    (user, actor)
}

pub fn policy() -> CasePolicy {
    CasePolicy::default()
}

/// Checks the whole audit chain and returns how many records it has.
pub async fn verify_audit(store: &SqlStore) -> u64 {
    let mut verifier = warden_domain::audit::ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, 1000).await.unwrap();
        if page.is_empty() {
            return verifier.checked();
        }
        for record in &page {
            verifier
                .check(record)
                .unwrap_or_else(|fault| panic!("{fault}"));
            after = record.entry.seq;
        }
    }
}

/// Tests that hold a transaction open on purpose hold back every reader of
/// the event log (and the audit sealer) on the same PostgreSQL server: the
/// horizon is the server's oldest running transaction. They take this lock
/// exclusively; tests that read events just written take it shared.
pub fn horizon() -> &'static tokio::sync::RwLock<()> {
    static HORIZON: std::sync::OnceLock<tokio::sync::RwLock<()>> = std::sync::OnceLock::new();
    HORIZON.get_or_init(|| tokio::sync::RwLock::new(()))
}
