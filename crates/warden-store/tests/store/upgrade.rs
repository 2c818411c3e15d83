//! Upgrading a database of the previous release's schema (migrations 1–8)
//! to the current one, on each backend, without loss.
//!
//! The old database is made from the old migration files in this
//! repository (`SqlStore::migrate_url_through`), not by the previous
//! release's binary. Its rows are those the current store writes through a
//! whole story (users, tokens, a session, subjects, events, reports,
//! detection hits with their signal, label and automated action, cases and
//! their transitions, a note, a decision with actions, a strike, outbox
//! rows, notices and a statement of reasons, a classifier model, audit
//! records and a signed checkpoint), copied column by column into the
//! tables of schema 8 only. Opening the store then applies every later
//! migration. The test checks that every row of schema 8 is unchanged in
//! every column it had, that the current store reads the same records from
//! the upgraded database as from the one it wrote, that the audit chain and
//! the checkpoint still verify, and that the upgraded database takes new
//! intake, claims and decisions (new ids past the copied ones).

use chrono::Duration;
use serde_json::json;
use sqlx::{Connection, Row};

use warden_domain::access::{Role, Scope};
use warden_domain::audit::checkpoint::{AuditSigningKey, Checkpoint, SignedCheckpoint};
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::enforcement::{DecideCommand, DecisionExtras, DecisionMode};
use warden_domain::ids::{PlatformId, SubjectKind, Version};
use warden_domain::intake::{NewEvent, ReportSource};
use warden_domain::CaseId;
use warden_store::prelude::*;
use warden_store::{
    Actor, CaseFilter, DeliveryFilter, EventHits, EventPosition, HitRecord, ModelStatus,
    NewModelVersion, SqlStore, SqliteOptions,
};

use crate::support::{at, content, policy, reference, report, t0, user, verify_audit};

/// The previous release's schema: migrations 1 to 8.
const PREVIOUS_RELEASE: i64 = 8;

/// Two databases side by side: `current` written by the current store,
/// `previous` at schema 8, and how `previous` names `current`'s tables.
struct Pair {
    current_url: String,
    previous_url: String,
    /// `ATTACH` name (SQLite) or schema (PostgreSQL) of `current` as seen
    /// from a connection to `previous`.
    current_prefix: String,
    sqlite_path: Option<String>,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, Vec<String>)>,
}

impl Pair {
    fn sqlite() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let current = dir.path().join("current.db").display().to_string();
        let previous = dir.path().join("previous.db").display().to_string();
        Pair {
            current_url: format!("sqlite://{current}"),
            previous_url: format!("sqlite://{previous}"),
            current_prefix: "current".into(),
            sqlite_path: Some(current),
            _dir: Some(dir),
            postgres: None,
        }
    }

    async fn postgres() -> Option<Pair> {
        let admin = std::env::var("WARDEN_TEST_DATABASE_URL").ok()?;
        let stem = format!("warden_test_{:016x}", rand::random::<u64>());
        let schemas = vec![format!("{stem}_current"), format!("{stem}_previous")];
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        for schema in &schemas {
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let separator = if admin.contains('?') { '&' } else { '?' };
        let url = |schema: &str| format!("{admin}{separator}options=-c%20search_path%3D{schema}");
        Some(Pair {
            current_url: url(&schemas[0]),
            previous_url: url(&schemas[1]),
            current_prefix: schemas[0].clone(),
            sqlite_path: None,
            _dir: None,
            postgres: Some((admin, schemas)),
        })
    }

    async fn open(&self, url: &str) -> SqlStore {
        match url.strip_prefix("sqlite://") {
            Some(path) => SqlStore::open_sqlite(path.as_ref(), SqliteOptions::default())
                .await
                .unwrap(),
            None => SqlStore::connect_postgres(url, 8).await.unwrap(),
        }
    }

    async fn connect_previous(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&self.previous_url)
            .await
            .unwrap()
    }

    async fn finish(self) {
        if let Some((admin, schemas)) = &self.postgres {
            let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
            for schema in schemas {
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

fn rationale(action: &str) -> Rationale {
    Rationale {
        what_happened: "posted the same link forty times".into(),
        evidence: "posts p1..p40".into(),
        policy: "spam 2.1".into(),
        action: action.into(),
        next_steps: String::new(),
    }
}

/// Claims the next case of `general` and decides it: removal and a
/// warning, what the matrix recommends for a first spam offence.
async fn claim_and_decide(store: &SqlStore, actor: &Actor, minute: i64) -> CaseId {
    let case = store
        .claim_next(actor, "general", Duration::minutes(10), at(minute))
        .await
        .unwrap()
        .expect("a case to claim");
    let input = DecisionInput {
        violation: true,
        category: "spam".into(),
        policy: Some("spam-2.1".into()),
        actions: vec![
            ActionSpec {
                kind: ActionKind::RemoveContent,
                duration: None,
            },
            ActionSpec {
                kind: ActionKind::Warn,
                duration: None,
            },
        ],
        rationale: rationale("removed and warned"),
    };
    let command = DecideCommand::with_extras(
        case.id,
        Version(case.version),
        input,
        &DecisionExtras::default(),
        DecisionMode::First,
    )
    .unwrap();
    let decision = store
        .decide_with(actor, command, &policy(), at(minute))
        .await
        .unwrap();
    assert!(decision
        .actions
        .iter()
        .all(|a| a.status.as_str() == "pending"));
    case.id
}

/// The whole story, written by the current store.
async fn write_story(store: &SqlStore, key: &AuditSigningKey) {
    let system = Actor::system();
    store
        .ensure_taxonomy(&system, &policy(), t0())
        .await
        .unwrap();
    let (anna_user, anna) = user(store, "anna", Role::Analyst).await;
    user(store, "lea", Role::Lead).await;
    store
        .create_token(&system, anna_user.id, "ci", Scope::Read, "tokenhash1", t0())
        .await
        .unwrap();
    store
        .create_session(anna_user.id, "sessionhash1", "csrf1", at(600), t0())
        .await
        .unwrap();
    store
        .ingest_subjects(
            &system,
            vec![content("p1", "a1"), content("p2", "a2")],
            t0(),
        )
        .await
        .unwrap();
    let event = NewEvent {
        id: PlatformId::parse("e1").unwrap(),
        event_type: "post_created".into(),
        occurred_at: t0(),
        actor: Some(reference(SubjectKind::Account, "a1")),
        subject: Some(reference(SubjectKind::Content, "p1")),
        ip: Some("203.0.113.9".into()),
        device_id: None,
        data: json!({"text": "https://spam.example"}),
    };
    store
        .ingest_events(&system, vec![event], t0())
        .await
        .unwrap();
    for post in ["p1", "p2"] {
        let subject = reference(SubjectKind::Content, post);
        store
            .ingest_reports(
                &system,
                vec![report(
                    &format!("r_{post}"),
                    &subject,
                    "spam",
                    ReportSource::UserReport,
                )],
                &policy(),
                t0(),
            )
            .await
            .unwrap();
    }
    detect(store).await;
    let first = claim_and_decide(store, &anna, 2).await;
    store
        .add_note(&anna, first, rationale("noted"), at(3))
        .await
        .unwrap();
    store
        .save_model_version(
            &system,
            NewModelVersion {
                name: "spam".into(),
                kind: "svm".into(),
                status: ModelStatus::Live,
                metrics: json!({"f1": 0.98}),
                bytes: b"model bytes".to_vec(),
                note: "first".into(),
            },
            at(4),
        )
        .await
        .unwrap();
    let first_record = store.audit_page(0, 1).await.unwrap();
    let head = store.audit_head().await.unwrap().unwrap();
    let signed = key.sign(Checkpoint::of_head(&first_record[0], &head, at(5)));
    store.save_audit_checkpoint(&signed).await.unwrap();
}

/// Runs detection once with a live hit on the one event: a rule version,
/// a hit, a signal (joining the report's case), a label, an automated
/// action, and the cursor moved.
async fn detect(store: &SqlStore) {
    let version = store
        .record_rule_version(&Actor::system(), "link-spam", "h1", "src", "live", t0())
        .await
        .unwrap();
    let batch = store
        .detection_events(EventPosition::default(), None, 10, at(1))
        .await
        .unwrap();
    let event = &batch[0];
    let hits = vec![EventHits {
        seq: event.seq,
        event_id: event.event.id.as_str().to_string(),
        occurred_at: event.event.occurred_at,
        actor: event.event.actor.clone(),
        subject: event.event.subject.clone(),
        hits: vec![HitRecord {
            rule_id: "link-spam".into(),
            rule_version: version,
            mode: "live".into(),
            category: "spam".into(),
            severity: warden_domain::case::Severity::Medium,
            matched: json!({"domains": ["spam.example"]}),
            features: json!({"has_spam_domain": true}),
            acts: true,
            case: Some((None, 20)),
            label: Some(("link_spammer".into(), Some(3600))),
            action: Some(("remove_content".into(), None)),
        }],
    }];
    assert!(store
        .apply_detection(
            hits,
            EventPosition::default(),
            event.position(),
            &policy(),
            at(1)
        )
        .await
        .unwrap());
}

/// What the current store reads back, as text to compare.
async fn records(store: &SqlStore) -> Vec<String> {
    let cases = store
        .list_cases(&CaseFilter {
            limit: 100,
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    let mut seen = vec![format!("{cases:?}")];
    for case in &cases {
        seen.push(format!("{:?}", store.case_detail(case.id).await.unwrap()));
    }
    let deliveries = store
        .list_deliveries(&DeliveryFilter {
            limit: 100,
            ..DeliveryFilter::default()
        })
        .await
        .unwrap();
    seen.push(format!("{deliveries:?}"));
    seen.push(format!("{:?}", store.list_users().await.unwrap()));
    seen.push(format!("{:?}", store.list_tokens(None).await.unwrap()));
    seen.push(format!(
        "{:?}",
        store.token_by_hash("tokenhash1").await.unwrap()
    ));
    seen.push(format!(
        "{:?}",
        store.session("sessionhash1", at(10)).await.unwrap()
    ));
    seen.push(format!("{:?}", store.taxonomy_versions(10).await.unwrap()));
    seen.push(format!("{:?}", store.notice_templates().await.unwrap()));
    seen.push(format!(
        "{:?}",
        store.model_versions(None, 10).await.unwrap()
    ));
    seen.push(format!(
        "{:?}",
        store
            .dsa_statements(t0() - Duration::days(1), at(60), 0, 100)
            .await
            .unwrap()
    ));
    seen.push(format!("{:?}", store.rule_stats(t0()).await.unwrap()));
    // Events stored before migration 18 have no transaction id: the
    // cursor's place is its `seq`.
    seen.push(format!("{:?}", store.detection_cursor().await.unwrap().seq));
    seen.push(format!("{:?}", store.audit_page(0, 10_000).await.unwrap()));
    seen.push(format!("{:?}", store.audit_checkpoints(10).await.unwrap()));
    seen
}

/// Names of the tables a connection's database has (migrations' own
/// bookkeeping aside), by name.
async fn tables(conn: &mut sqlx::AnyConnection, sqlite: bool) -> Vec<String> {
    let sql = if sqlite {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'warden_migrations' ORDER BY name"
    } else {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'warden_migrations' ORDER BY 1"
    };
    sqlx::query_scalar(sql).fetch_all(conn).await.unwrap()
}

/// A table's columns, in order.
async fn columns(conn: &mut sqlx::AnyConnection, sqlite: bool, table: &str) -> Vec<String> {
    let sql = if sqlite {
        format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
    } else {
        format!("SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position")
    };
    sqlx::query_scalar(&sql).fetch_all(conn).await.unwrap()
}

/// Every row of `table` in `cols`, each value as text, in a stable order.
async fn rows(conn: &mut sqlx::AnyConnection, table: &str, cols: &[String]) -> Vec<Vec<String>> {
    let select: Vec<String> = cols
        .iter()
        .map(|c| format!("COALESCE(CAST({c} AS TEXT), 'NULL')"))
        .collect();
    let order: Vec<String> = (1..=cols.len()).map(|n| n.to_string()).collect();
    let sql = format!(
        "SELECT {} FROM {table} ORDER BY {}",
        select.join(", "),
        order.join(", ")
    );
    sqlx::query(&sql)
        .fetch_all(conn)
        .await
        .unwrap()
        .iter()
        .map(|row| (0..cols.len()).map(|i| row.get::<String, _>(i)).collect())
        .collect()
}

/// The condition that leaves out rows a later migration added and schema 8
/// refuses: the appeal notice templates (migration 12 seeds them again).
fn only_what_schema_8_admits(table: &str) -> &'static str {
    match table {
        "notice_templates" => "WHERE action_type NOT LIKE 'appeal.%'",
        _ => "",
    }
}

/// Copies every row of `current` into `previous`'s tables of schema 8,
/// in the columns schema 8 has; answers those tables with their columns
/// and rows as copied.
async fn copy_into_previous(pair: &Pair) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let sqlite = pair.sqlite_path.is_some();
    let mut conn = pair.connect_previous().await;
    if let Some(path) = &pair.sqlite_path {
        sqlx::query(&format!("ATTACH DATABASE '{path}' AS current"))
            .execute(&mut conn)
            .await
            .unwrap();
        // Rows go in table by table, not in foreign-key order.
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        // Rows go in table by table, not in foreign-key order.
        sqlx::query("SET session_replication_role = replica")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let mut copied = Vec::new();
    for table in tables(&mut conn, sqlite).await {
        let cols = columns(&mut conn, sqlite, &table).await;
        let list = cols.join(", ");
        // Rows the old migrations seeded (the cursor, the templates) are
        // in `current` too.
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(&format!(
            "INSERT INTO {table} ({list}) SELECT {list} FROM {}.{table} {}",
            pair.current_prefix,
            only_what_schema_8_admits(&table)
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        if !sqlite {
            // As the previous release's own inserts would have left them.
            for col in &cols {
                let serial: Option<String> = sqlx::query_scalar(&format!(
                    "SELECT CAST(pg_get_serial_sequence('{table}', '{col}') AS TEXT)"
                ))
                .fetch_one(&mut conn)
                .await
                .unwrap();
                if let Some(sequence) = serial {
                    sqlx::query(&format!(
                        "SELECT setval('{sequence}', (SELECT MAX({col}) FROM {table}))"
                    ))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                }
            }
        }
        let kept = rows(&mut conn, &table, &cols).await;
        copied.push((table, cols, kept));
    }
    copied
}

async fn upgrade_story(pair: Pair) {
    let _reading = crate::support::horizon().read().await;
    let key = AuditSigningKey::from_seed([7; 32]);
    let current = pair.open(&pair.current_url).await;
    write_story(&current, &key).await;
    let expected = records(&current).await;
    let audited = verify_audit(&current).await;
    current.close().await;

    SqlStore::migrate_url_through(&pair.previous_url, PREVIOUS_RELEASE)
        .await
        .unwrap();
    let copied = copy_into_previous(&pair).await;
    let empty: Vec<&str> = copied
        .iter()
        .filter(|(_, _, rows)| rows.is_empty())
        .map(|(table, _, _)| table.as_str())
        .collect();
    assert!(empty.is_empty(), "every table has rows; empty: {empty:?}");
    assert_eq!(copied.len(), 26, "the tables of schema 8");

    // Every later migration, as a server starting on it applies them.
    let upgraded = pair.open(&pair.previous_url).await;
    let mut conn = pair.connect_previous().await;
    for (table, cols, before) in &copied {
        let after = rows(&mut conn, table, cols).await;
        let lost: Vec<_> = before.iter().filter(|row| !after.contains(row)).collect();
        assert!(
            lost.is_empty(),
            "{table}: every row kept in every column it had; lost or changed: {lost:?}"
        );
        let added: Vec<_> = after.iter().filter(|row| !before.contains(row)).collect();
        if table == "notice_templates" {
            // Migration 12 seeds the appeal templates.
            assert!(added.iter().all(|row| row[1].starts_with("appeal.")));
        } else {
            assert!(added.is_empty(), "{table}: rows appeared: {added:?}");
        }
    }
    assert_eq!(verify_audit(&upgraded).await, audited);
    assert_eq!(
        records(&upgraded).await,
        expected,
        "the current store reads the same records from the upgraded database"
    );
    let stored = upgraded.audit_checkpoints(10).await.unwrap();
    let signed = SignedCheckpoint::parse(&stored[0].text).unwrap();
    signed.verify(&key.public_key()).unwrap();
    let at_checkpoint = upgraded
        .audit_page(signed.checkpoint.seq - 1, 1)
        .await
        .unwrap();
    assert_eq!(at_checkpoint[0].hash, signed.checkpoint.hash);

    // The upgraded database works: new intake, a claim and a decision.
    let system = Actor::system();
    upgraded
        .ingest_subjects(&system, vec![content("p3", "a3")], at(20))
        .await
        .unwrap();
    let subject = reference(SubjectKind::Content, "p3");
    upgraded
        .ingest_reports(
            &system,
            vec![report("r_p3", &subject, "spam", ReportSource::UserReport)],
            &policy(),
            at(20),
        )
        .await
        .unwrap();
    let anna = upgraded.user_by_name("anna").await.unwrap().unwrap();
    let anna = Actor::user(anna.id, &anna.name);
    let second = claim_and_decide(&upgraded, &anna, 21).await;
    let third = claim_and_decide(&upgraded, &anna, 22).await;
    assert_ne!(second, third);
    assert!(upgraded
        .claim_next(&anna, "general", Duration::minutes(10), at(23))
        .await
        .unwrap()
        .is_none());
    assert!(verify_audit(&upgraded).await > audited);
    upgraded.close().await;
    pair.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_of_the_previous_release_upgrades_without_loss_on_sqlite() {
    upgrade_story(Pair::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_of_the_previous_release_upgrades_without_loss_on_postgres() {
    let Some(pair) = Pair::postgres().await else {
        return;
    };
    upgrade_story(pair).await;
}
