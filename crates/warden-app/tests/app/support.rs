//! The harness: an application over a fresh database per test, on each
//! backend, with one user per role, a restricted queue and a movable clock.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Once};

use chrono::{TimeZone, Utc};
use sqlx::Connection;

use warden_app::accounts::credentials::hash_password;
use warden_app::{Actor, App, AppSettings, ManualClock};
use warden_domain::access::{Principal, Role};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::{NewReport, ReportSource};
use warden_domain::routing::{QueueDefinition, Router};
use warden_domain::{CaseId, SubjectRef};
use warden_store::prelude::*;
use warden_store::{CasePolicy, SqlStore, SqliteOptions};

/// Where a test's database lives, so that a second server can open it.
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL with the test's schema on its search path.
    Postgres(String),
}

impl Database {
    /// Another connection to the same database: a second server.
    pub async fn open(&self) -> Arc<SqlStore> {
        Arc::new(match self {
            Database::Sqlite(path) => SqlStore::open_sqlite(path, SqliteOptions::default())
                .await
                .expect("open the SQLite store again"),
            Database::Postgres(url) => SqlStore::connect_postgres(url, 8)
                .await
                .expect("connect the PostgreSQL store again"),
        })
    }
}

/// An application for one test and what must be cleaned up after it.
pub struct TestApp {
    pub app: App,
    pub store: Arc<SqlStore>,
    pub clock: Arc<ManualClock>,
    pub database: Database,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

/// The queues of every test: a child-safety queue for analysts and leads
/// of the `child_safety` team, and the catch-all `general`.
pub fn policy() -> CasePolicy {
    let mut child_safety = QueueDefinition::catch_all("child-safety");
    child_safety.categories = vec!["child_safety".into()];
    child_safety.roles = vec![Role::Analyst, Role::Lead];
    child_safety.teams = vec!["child_safety".into()];
    CasePolicy {
        router: Router::new(vec![child_safety, QueueDefinition::catch_all("general")])
            .expect("a valid router"),
        ..CasePolicy::default()
    }
}

impl TestApp {
    async fn build(
        store: Arc<SqlStore>,
        database: Database,
        dir: Option<tempfile::TempDir>,
        postgres: Option<(String, String)>,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
        ));
        let app =
            App::new(store.clone(), policy(), AppSettings::default()).with_clock(clock.clone());
        Self {
            app,
            store,
            clock,
            database,
            _dir: dir,
            postgres,
        }
    }

    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("warden.db");
        let store = SqlStore::open_sqlite(&path, SqliteOptions::default())
            .await
            .expect("open the SQLite store");
        Self::build(Arc::new(store), Database::Sqlite(path), Some(dir), None).await
    }

    /// `None` (said once) without `WARDEN_TEST_DATABASE_URL`.
    pub async fn postgres() -> Option<Self> {
        static SKIP_NOTICE: Once = Once::new();
        let Ok(admin_url) = std::env::var("WARDEN_TEST_DATABASE_URL") else {
            SKIP_NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "warden-app: skipped PostgreSQL tests: set WARDEN_TEST_DATABASE_URL=postgres://... to run them"
                );
            });
            return None;
        };
        let schema = format!("warden_app_{:016x}", rand::random::<u64>());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to WARDEN_TEST_DATABASE_URL");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .expect("create the test schema");
        conn.close().await.ok();
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
        let store = SqlStore::connect_postgres(&url, 8)
            .await
            .expect("connect the PostgreSQL store");
        Some(
            Self::build(
                Arc::new(store),
                Database::Postgres(url),
                None,
                Some((admin_url, schema)),
            )
            .await,
        )
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

    /// A user with `role` and `teams`, acting through a session.
    pub async fn user(&self, name: &str, role: Role, teams: &[&str]) -> Actor {
        let teams: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
        let hash = hash_password("a long password").unwrap();
        let record = self
            .store
            .create_user_with_teams(
                &warden_store::Actor::system(),
                name,
                role,
                &hash,
                &teams,
                self.clock.now_for_tests(),
            )
            .await
            .expect("create a user");
        Actor::user(Principal {
            user_id: record.id,
            name: record.name,
            role,
            teams: record.teams,
            scope: None,
        })
    }

    /// A report about content `subject` for `reason`; the id of its case.
    pub async fn report(&self, id: &str, subject: &str, reason: &str) -> CaseId {
        let subject = content(subject);
        let outcomes = self
            .app
            .ingest_reports(&Actor::System, vec![report(id, &subject, reason)])
            .await
            .expect("ingest a report");
        assert_eq!(outcomes[0].as_str(), "created", "{outcomes:?}");
        let cases = self
            .store
            .subject_history(&subject, 10, self.clock.now_for_tests())
            .await
            .unwrap()
            .cases;
        cases[0].id
    }
}

/// `ManualClock::now` without importing the trait in every module.
pub trait Now {
    fn now_for_tests(&self) -> warden_domain::Timestamp;
}

impl Now for ManualClock {
    fn now_for_tests(&self) -> warden_domain::Timestamp {
        warden_app::Clock::now(self)
    }
}

pub fn content(id: &str) -> SubjectRef {
    SubjectRef::new(SubjectKind::Content, PlatformId::parse(id).unwrap())
}

pub fn report(id: &str, subject: &SubjectRef, reason: &str) -> NewReport {
    NewReport {
        id: PlatformId::parse(id).unwrap(),
        subject: subject.clone(),
        reason: reason.into(),
        source: ReportSource::UserReport,
        reporter: None,
        text: Some("please look".into()),
        language: Some("en".into()),
        created_at: None,
    }
}

/// Declares a test that runs on every backend.
#[macro_export]
macro_rules! app_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let test = $crate::support::TestApp::sqlite().await;
                ($body)(&test).await;
                test.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(test) = $crate::support::TestApp::postgres().await else {
                    return;
                };
                ($body)(&test).await;
                test.finish().await;
            }
        }
    };
}
