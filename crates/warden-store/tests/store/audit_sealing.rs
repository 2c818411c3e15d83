//! The audit chain under concurrent writers: on PostgreSQL writers append
//! unsealed records without waiting for each other and the sealer chains
//! them; on SQLite writes go one at a time. Either way the chain verifies,
//! and a record committed late by an older transaction still takes its
//! place below everything sealed after it.

use std::sync::Arc;

use serde_json::json;
use sqlx::Connection;

use warden_store::prelude::*;
use warden_store::{Actor, SqlStore};

use crate::store_test;
use crate::support::{at, verify_audit};

const WRITERS: usize = 16;
const RECORDS_EACH: usize = 40;

store_test!(
    concurrent_writers_make_one_verifiable_chain,
    |store: SqlStore| async move {
        let before = verify_audit(&store).await;
        let store = Arc::new(store);
        let tasks: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let store = store.clone();
                tokio::spawn(async move {
                    for n in 0..RECORDS_EACH {
                        store
                            .record_read(
                                &Actor::system(),
                                "case.read",
                                "case",
                                &format!("{writer}-{n}"),
                                json!({ "writer": writer, "n": n }),
                                at(1),
                            )
                            .await
                            .expect("append an audit record");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let after = verify_audit(&store).await;
        assert_eq!(after - before, (WRITERS * RECORDS_EACH) as u64);
        // Every writer's records are in the chain once, in its own order.
        let page = store.audit_page(before as i64, 5_000).await.unwrap();
        for writer in 0..WRITERS {
            let mine: Vec<_> = page
                .iter()
                .filter(|r| r.entry.after["writer"] == json!(writer))
                .map(|r| r.entry.after["n"].as_i64().unwrap())
                .collect();
            assert_eq!(mine, (0..RECORDS_EACH as i64).collect::<Vec<_>>());
        }
    }
);

/// A transaction that appended before later writers but commits after
/// them holds the sealer back, and its record comes first once it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_older_transaction_committing_late_keeps_its_place_on_postgres() {
    let Some(test) = crate::support::postgres().await else {
        return;
    };
    let _holding = crate::support::horizon().write().await;
    let store = test.store.clone();
    let system = Actor::system();
    store
        .record_read(&system, "case.read", "case", "first", json!({}), at(1))
        .await
        .unwrap();
    let sealed_before = verify_audit(&store).await;

    let mut late = sqlx::AnyConnection::connect(&test.raw_url()).await.unwrap();
    let mut late_tx = late.begin().await.unwrap();
    sqlx::query("INSERT INTO audit_log (at, actor, action, target_kind, target_id, before_state, after_state) VALUES (1, 'late', 'case.read', 'case', 'late', 'null', '{}')")
        .execute(&mut *late_tx)
        .await
        .unwrap();
    for n in 0..3 {
        store
            .record_read(
                &system,
                "case.read",
                "case",
                &format!("after-{n}"),
                json!({}),
                at(2),
            )
            .await
            .unwrap();
    }
    // The late transaction is older and still running: nothing after it
    // may be sealed yet, whatever was committed since.
    assert_eq!(store.seal_audit().await.unwrap(), 0);
    let head = store.audit_head().await.unwrap().unwrap();
    assert_eq!(
        head.entry.seq as u64, sealed_before,
        "nothing sealed past the late record"
    );

    late_tx.commit().await.unwrap();
    assert_eq!(store.seal_audit().await.unwrap(), 4);
    assert_eq!(verify_audit(&store).await, sealed_before + 4);
    let tail = store.audit_page(sealed_before as i64, 10).await.unwrap();
    let targets: Vec<_> = tail.iter().map(|r| r.entry.target_id.as_str()).collect();
    assert_eq!(targets, ["late", "after-0", "after-1", "after-2"]);
    test.finish().await;
}
