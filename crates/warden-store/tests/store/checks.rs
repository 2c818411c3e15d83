//! Status and kind columns hold only values Warden knows: the database
//! refuses an unknown one on the way in (migration 0008: CHECK
//! constraints on PostgreSQL, triggers on SQLite), and a value that got
//! in anyway (written with the check dropped) reads as
//! `StoreError::Corrupt`, never as a default.

use sqlx::AnyConnection;

use warden_domain::access::Role;
use warden_domain::case::CaseStatus;
use warden_domain::ids::SubjectKind;
use warden_domain::intake::ReportSource;
use warden_domain::CaseId;
use warden_store::prelude::*;
use warden_store::{Actor, Backend, CaseFilter, SqlStore, StoreError};

use crate::store_test_raw;
use crate::support::{policy, reference, report, t0, user, Raw};

/// A case with one report, and a user: rows in `cases`, `reports`,
/// `case_transitions` and `users`.
async fn seed(store: &SqlStore) -> CaseId {
    user(store, "anna", Role::Analyst).await;
    let subject = reference(SubjectKind::Content, "post-1");
    store
        .ingest_reports(
            &Actor::system(),
            vec![report("r1", &subject, "spam", ReportSource::UserReport)],
            &policy(),
            t0(),
        )
        .await
        .unwrap();
    store
        .list_cases(&CaseFilter {
            limit: 10,
            ..CaseFilter::default()
        })
        .await
        .unwrap()[0]
        .id
}

/// Runs `sql` with `id` bound (when it has `$1`), answering whether the
/// database took it.
async fn run(conn: &mut AnyConnection, sql: &str, id: i64) -> Result<u64, String> {
    let query = sqlx::query(sql);
    let query = if sql.contains("$1") {
        query.bind(id)
    } else {
        query
    };
    query
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
        .map_err(|e| e.to_string())
}

/// Drops the check of `table.column` on updates, as a hand-edited or
/// foreign database would lack it.
async fn drop_update_check(raw: &Raw, conn: &mut AnyConnection, table: &str, column: &str) {
    let sql = match raw.backend {
        Backend::Sqlite => format!("DROP TRIGGER {table}_{column}_known_update"),
        Backend::Postgres => format!("ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_known"),
    };
    sqlx::query(&sql).execute(conn).await.unwrap();
}

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, expected: (&str, &str, &str)) {
    match result {
        Err(StoreError::Corrupt {
            table,
            column,
            value,
        }) => assert_eq!((table.as_str(), column.as_str(), value.as_str()), expected),
        other => panic!("expected {expected:?} to read as corrupt, got {other:?}"),
    }
}

store_test_raw!(
    unknown_statuses_and_kinds_are_refused_by_the_database,
    |store: SqlStore, raw: Raw| async move {
        let case = seed(&store).await;
        let mut conn = raw.connect().await;
        let refused = [
            "UPDATE cases SET status = 'archived' WHERE id = $1",
            "UPDATE cases SET severity = 9 WHERE id = $1",
            "UPDATE cases SET subject_kind = 'planet' WHERE id = $1",
            "UPDATE reports SET source = 'rumour' WHERE case_id = $1",
            "UPDATE case_transitions SET to_status = 'limbo' WHERE case_id = $1",
            "UPDATE users SET role = 'overlord'",
            "INSERT INTO outbox (kind, endpoint_key, idempotency_key, body, status, attempts, replays, next_attempt_at, created_at, updated_at) VALUES ('action.smite', 'warn', 'k-1', '{}', 'pending', 0, 0, 0, 0, 0)",
            "INSERT INTO outbox (kind, endpoint_key, idempotency_key, body, status, attempts, replays, next_attempt_at, created_at, updated_at) VALUES ('action.apply', 'warn', 'k-2', '{}', 'lost', 0, 0, 0, 0, 0)",
        ];
        for sql in refused {
            let error = run(&mut conn, sql, case.0)
                .await
                .expect_err(&format!("the database took {sql}"));
            assert!(error.contains("_known"), "{sql}: {error}");
        }
        // Known values go in: the refusals were about the values.
        let taken = [
            "UPDATE cases SET status = 'escalated', severity = 4 WHERE id = $1",
            "INSERT INTO outbox (kind, endpoint_key, idempotency_key, body, status, attempts, replays, next_attempt_at, created_at, updated_at) VALUES ('action.apply', 'warn', 'k-3', '{}', 'dead', 0, 0, 0, 0, 0)",
        ];
        for sql in taken {
            assert_eq!(run(&mut conn, sql, case.0).await, Ok(1), "{sql}");
        }
        let stored = store.case(case).await.unwrap().unwrap();
        assert_eq!(stored.status, CaseStatus::Escalated);
        assert_eq!(stored.subject.kind, SubjectKind::Content);
        let user = store.user_by_name("anna").await.unwrap().unwrap();
        assert_eq!(user.role, Role::Analyst);
    }
);

store_test_raw!(
    an_unknown_stored_value_reads_as_corrupt_not_as_a_default,
    |store: SqlStore, raw: Raw| async move {
        let case = seed(&store).await;
        let mut conn = raw.connect().await;

        drop_update_check(&raw, &mut conn, "cases", "status").await;
        run(
            &mut conn,
            "UPDATE cases SET status = 'archived' WHERE id = $1",
            case.0,
        )
        .await
        .unwrap();
        assert_corrupt(store.case(case).await, ("cases", "status", "archived"));
        let all = CaseFilter {
            limit: 10,
            ..CaseFilter::default()
        };
        assert_corrupt(
            store.list_cases(&all).await,
            ("cases", "status", "archived"),
        );
        run(
            &mut conn,
            "UPDATE cases SET status = 'new' WHERE id = $1",
            case.0,
        )
        .await
        .unwrap();

        // Intake joining a case whose severity it cannot read fails
        // instead of taking its own (it used to fall back to it).
        drop_update_check(&raw, &mut conn, "cases", "severity").await;
        run(
            &mut conn,
            "UPDATE cases SET severity = 9 WHERE id = $1",
            case.0,
        )
        .await
        .unwrap();
        let subject = reference(SubjectKind::Content, "post-1");
        let joined = store
            .ingest_reports(
                &Actor::system(),
                vec![report("r2", &subject, "spam", ReportSource::LegalNotice)],
                &policy(),
                t0(),
            )
            .await;
        assert_corrupt(joined, ("cases", "severity", "9"));
        assert_corrupt(store.case(case).await, ("cases", "severity", "9"));
        run(
            &mut conn,
            "UPDATE cases SET severity = 1 WHERE id = $1",
            case.0,
        )
        .await
        .unwrap();

        drop_update_check(&raw, &mut conn, "reports", "source").await;
        run(
            &mut conn,
            "UPDATE reports SET source = 'rumour' WHERE case_id = $1",
            case.0,
        )
        .await
        .unwrap();
        assert_corrupt(
            store.case_items(&[case], 5).await,
            ("reports", "source", "rumour"),
        );
        assert_corrupt(
            store.case_detail(case).await,
            ("reports", "source", "rumour"),
        );

        drop_update_check(&raw, &mut conn, "users", "role").await;
        run(&mut conn, "UPDATE users SET role = 'overlord'", 0)
            .await
            .unwrap();
        assert_corrupt(
            store.user_by_name("anna").await,
            ("users", "role", "overlord"),
        );
        assert_corrupt(store.list_users().await, ("users", "role", "overlord"));
    }
);
