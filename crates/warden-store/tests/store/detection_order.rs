//! The detection cursor under concurrent intake: on PostgreSQL intake
//! transactions commit out of `seq` order, and a cursor over `seq` alone
//! would pass an event whose transaction had not committed yet, which would
//! then never be evaluated. Detection reads in (transaction, `seq`) order
//! below the oldest running transaction instead: every event is evaluated
//! exactly once, however the commits interleave.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use serde_json::json;
use sqlx::Connection;

use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::NewEvent;
use warden_store::prelude::*;
use warden_store::{Actor, EventPosition, SqlStore};

use crate::store_test;
use crate::support::{at, policy, reference};

const WRITERS: usize = 8;
const BATCHES_EACH: usize = 25;
const EVENTS_PER_BATCH: usize = 20;

fn event(id: &str) -> NewEvent {
    NewEvent {
        id: PlatformId::parse(id).unwrap(),
        event_type: "post_created".into(),
        occurred_at: at(0),
        actor: Some(reference(SubjectKind::Account, "a1")),
        subject: None,
        ip: None,
        device_id: None,
        data: json!({"text": id}),
    }
}

/// One round of a detection worker that finds nothing: reads a batch after
/// the cursor, counts each event in `seen`, and moves the cursor past it.
/// Answers how many events it read.
async fn detect_once(store: &SqlStore, seen: &mut BTreeMap<String, usize>) -> usize {
    let cursor = store.detection_cursor().await.unwrap();
    let batch = store
        .detection_events(cursor, None, 50, at(1))
        .await
        .unwrap();
    let Some(last) = batch.last().map(|e| e.position()) else {
        return 0;
    };
    assert!(last > cursor, "the cursor only moves forward");
    for item in &batch {
        *seen.entry(item.event.id.as_str().to_string()).or_default() += 1;
    }
    assert!(store
        .apply_detection(Vec::new(), cursor, last, &policy(), at(1))
        .await
        .unwrap());
    batch.len()
}

/// Runs detection until it finds nothing more.
async fn detect_all(store: &SqlStore, seen: &mut BTreeMap<String, usize>) {
    while detect_once(store, seen).await > 0 {}
}

/// Runs detection until it has seen `count` events, or a minute passed:
/// other tests' transactions on the same server may hold reads back for a
/// while (the horizon is the whole server's).
async fn detect_until(store: &SqlStore, seen: &mut BTreeMap<String, usize>, count: usize) {
    let deadline = std::time::Instant::now() + StdDuration::from_secs(60);
    while seen.len() < count && std::time::Instant::now() < deadline {
        if detect_once(store, seen).await == 0 {
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
    }
    // Then nothing more than that.
    detect_all(store, seen).await;
}

store_test!(
    every_event_is_evaluated_once_while_intake_commits_concurrently,
    |store: SqlStore| async move {
        let _reading = crate::support::horizon().read().await;
        let total = WRITERS * BATCHES_EACH * EVENTS_PER_BATCH;
        let store = Arc::new(store);
        let done = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let store = store.clone();
                tokio::spawn(async move {
                    for batch in 0..BATCHES_EACH {
                        let events = (0..EVENTS_PER_BATCH)
                            .map(|n| event(&format!("e_{writer}_{batch}_{n}")))
                            .collect();
                        store
                            .ingest_events(&Actor::system(), events, at(0))
                            .await
                            .expect("store a batch of events");
                    }
                })
            })
            .collect();
        // The worker follows the log while the writers commit.
        let worker = {
            let (store, done) = (store.clone(), done.clone());
            tokio::spawn(async move {
                let mut seen = BTreeMap::new();
                while !done.load(Ordering::SeqCst) {
                    if detect_once(&store, &mut seen).await == 0 {
                        tokio::time::sleep(StdDuration::from_millis(1)).await;
                    }
                }
                detect_until(&store, &mut seen, total).await;
                seen
            })
        };
        for writer in writers {
            writer.await.unwrap();
        }
        done.store(true, Ordering::SeqCst);
        let seen = worker.await.unwrap();
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "evaluated more than once: {twice:?}");
        assert_eq!(
            seen.len(),
            total,
            "every event evaluated: {} missing",
            total - seen.len()
        );
    }
);

/// Inserts one event past the store, in `tx`, as a concurrent intake
/// transaction would.
async fn insert_event(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str) {
    sqlx::query("INSERT INTO events (platform_id, event_type, occurred_at, data, fingerprint, received_at) VALUES ($1, 'post_created', 0, '{}', $1, 0)")
        .bind(id)
        .execute(&mut **tx)
        .await
        .unwrap();
}

/// Two transactions hold events while later ones commit: one took its
/// transaction id before the committed writers (a lower `seq` committing
/// after a higher one), the other took its id after a committed writer but
/// its `seq` before it. Nothing passes either while they run, and each of
/// their events is read once they commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lower_seq_committing_late_is_still_evaluated_on_postgres() {
    let Some(test) = crate::support::postgres().await else {
        return;
    };
    let _holding = crate::support::horizon().write().await;
    let store = test.store.clone();
    let system = Actor::system();
    let mut seen = BTreeMap::new();
    store
        .ingest_events(&system, vec![event("before")], at(0))
        .await
        .unwrap();
    detect_until(&store, &mut seen, 1).await;

    // An older transaction: its id and its event's seq come first.
    let mut older = sqlx::AnyConnection::connect(&test.raw_url()).await.unwrap();
    let mut older_tx = older.begin().await.unwrap();
    insert_event(&mut older_tx, "older").await;
    // A transaction that takes its id now but its event's seq last.
    let mut slow = sqlx::AnyConnection::connect(&test.raw_url()).await.unwrap();
    let mut slow_tx = slow.begin().await.unwrap();
    sqlx::query("SELECT txid_current()")
        .execute(&mut *slow_tx)
        .await
        .unwrap();
    store
        .ingest_events(&system, vec![event("after_1"), event("after_2")], at(0))
        .await
        .unwrap();
    insert_event(&mut slow_tx, "slow").await;
    store
        .ingest_events(&system, vec![event("after_3")], at(0))
        .await
        .unwrap();
    let seqs: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT platform_id, seq FROM events WHERE platform_id IN ('after_1', 'after_3')",
    )
    .fetch_all(&mut *slow_tx)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert!(seqs["after_1"] < seqs["after_3"]);

    // Both are still running: the committed events after them wait.
    detect_all(&store, &mut seen).await;
    assert_eq!(seen.keys().collect::<Vec<_>>(), ["before"]);

    // The older commits: its event is read; the writers that took their
    // ids after the slow one still wait for it, whatever their seq.
    older_tx.commit().await.unwrap();
    detect_until(&store, &mut seen, 2).await;
    assert_eq!(seen.keys().collect::<Vec<_>>(), ["before", "older"]);

    slow_tx.commit().await.unwrap();
    detect_until(&store, &mut seen, 6).await;
    let expected = ["after_1", "after_2", "after_3", "before", "older", "slow"];
    assert_eq!(
        seen.keys().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
    assert!(seen.values().all(|n| *n == 1), "each once: {seen:?}");
    // The cursor's position is the last event read, and nothing is left.
    let cursor = store.detection_cursor().await.unwrap();
    assert!(cursor > EventPosition::default());
    assert!(store
        .detection_events(cursor, None, 10, at(1))
        .await
        .unwrap()
        .is_empty());
    test.finish().await;
}
