//! Partition leases and the partition runner: one holder per partition,
//! takeover after a lease expires, fair shares, and every event processed
//! exactly once and in order per key across a server's crash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use warden_stream::cluster::{ServerId, ServerInfo, ServerRegistry, ServerRole};
use warden_stream::events::{EventDelivery, EventItem, EventStream};
use warden_stream::leases::{partition_holders, PartitionLeases};
use warden_stream::partition::{Partition, PartitionCount};
use warden_stream::workers::PartitionRunner;
use warden_stream::{shutdown_signal, EventStreamConfig, PartitionWorkerConfig, ShutdownTrigger};

use crate::support::{wait_until, with_nats, TestNats};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_has_one_holder_and_is_taken_over_once_it_expires() {
    with_nats(|nats| async move {
        let count = PartitionCount::new(4).unwrap();
        let ttl = Duration::from_secs(1);
        let open = |server: &str| {
            let connection = nats.connection.clone();
            let topology = nats.topology.clone();
            let server = ServerId::parse(server).unwrap();
            async move {
                PartitionLeases::open(&connection, &topology, count, ttl, server)
                    .await
                    .unwrap()
            }
        };
        let mut a = open("a").await;
        let mut b = open("b").await;
        let p0 = count.partition(0).unwrap();
        let p1 = count.partition(1).unwrap();
        assert!(a.claim(p0, Instant::now()).await.unwrap());
        assert!(!b.claim(p0, Instant::now()).await.unwrap());
        assert!(b.claim(p1, Instant::now()).await.unwrap());
        assert_eq!(
            a.renew(Instant::now()).await.unwrap(),
            Vec::<Partition>::new()
        );
        let holders = partition_holders(&nats.connection, &nats.topology, count)
            .await
            .unwrap();
        let named: Vec<Option<&str>> = holders.iter().map(|h| h.server.as_deref()).collect();
        assert_eq!(named, vec![Some("a"), Some("b"), None, None]);

        // A stops renewing, as a crashed server would; B keeps renewing.
        // NATS removes A's lease after the TTL and B can take it.
        let start = Instant::now();
        loop {
            assert!(b.renew(Instant::now()).await.unwrap().is_empty());
            if b.claim(p0, Instant::now()).await.unwrap() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "A's lease never expired"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            start.elapsed() >= Duration::from_millis(500),
            "taken over before the TTL"
        );
        // A learns it lost the lease at its next renewal, and cannot take it
        // back or release it from under B.
        assert_eq!(a.renew(Instant::now()).await.unwrap(), vec![p0]);
        assert!(a.held().is_empty());
        assert!(!a.claim(p0, Instant::now()).await.unwrap());
        a.release(p0).await.unwrap();
        b.release(p1).await.unwrap();
        let holders = partition_holders(&nats.connection, &nats.topology, count)
            .await
            .unwrap();
        let named: Vec<Option<&str>> = holders.iter().map(|h| h.server.as_deref()).collect();
        assert_eq!(named, vec![Some("b"), None, None, None]);
        // A released partition is free at once.
        assert!(a.claim(p1, Instant::now()).await.unwrap());
        // Renewal overdue: the holder must stop before its leases can expire.
        assert!(!a.renewal_overdue(Instant::now(), Duration::from_millis(300)));
        assert!(a.renewal_overdue(
            Instant::now() + Duration::from_millis(800),
            Duration::from_millis(300)
        ));
    })
    .await;
}

/// The detection worker's database, in memory: per partition the cursor
/// (the last stream sequence applied), per event how often its effects were
/// applied, per key the last counter seen (to check order).
#[derive(Default)]
struct Database {
    cursors: HashMap<Partition, u64>,
    applied: HashMap<String, u32>,
    last_counter: HashMap<String, u64>,
    out_of_order: u32,
    by_server: HashMap<&'static str, u32>,
    skipped: u32,
}

type SharedDatabase = Arc<Mutex<Database>>;

/// One batch, as the detection worker would: skip what the cursor covers,
/// apply the rest and move the cursor, all under one lock (one transaction).
fn process(
    database: &SharedDatabase,
    server: &'static str,
    partition: Partition,
    batch: &[EventDelivery],
) {
    let mut database = database.lock().unwrap();
    for delivery in batch {
        let cursor = database.cursors.get(&partition).copied().unwrap_or(0);
        if delivery.stream_sequence <= cursor {
            database.skipped += 1;
            continue;
        }
        let body = String::from_utf8(delivery.body.to_vec()).unwrap();
        let (key, counter) = body.split_once('#').unwrap();
        let counter: u64 = counter.parse().unwrap();
        let last = database.last_counter.get(key).copied().unwrap_or(0);
        if counter != last + 1 {
            database.out_of_order += 1;
        }
        database.last_counter.insert(key.to_string(), counter);
        *database.applied.entry(body).or_default() += 1;
        *database.by_server.entry(server).or_default() += 1;
        database.cursors.insert(partition, delivery.stream_sequence);
    }
}

/// A Warden server in its own runtime, so that dropping the runtime stops
/// everything it runs at once, connection included: a crash.
struct TestServer {
    runtime: Option<tokio::runtime::Runtime>,
    stop: ShutdownTrigger,
    stopped: tokio::sync::oneshot::Receiver<()>,
}

impl TestServer {
    fn start(
        nats: &TestNats,
        name: &'static str,
        config: PartitionWorkerConfig,
        database: SharedDatabase,
    ) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (stop, shutdown) = shutdown_signal();
        let (done, stopped) = tokio::sync::oneshot::channel();
        let nats = nats.clone();
        runtime.spawn(async move {
            let connection = nats.connect_again().await;
            let events = EventStream::ensure(&connection, &nats.topology, &events_config())
                .await
                .unwrap();
            let registry = Arc::new(
                ServerRegistry::open(&connection, &nats.topology, config.lease_ttl)
                    .await
                    .unwrap(),
            );
            let server_id = ServerId::parse(name).unwrap();
            let runner =
                PartitionRunner::new(&events, Arc::clone(&registry), server_id.clone(), &config)
                    .await
                    .unwrap();
            let info = ServerInfo {
                server_id,
                role: ServerRole::Full,
                version: "test".into(),
                started_at_ms: 0,
            };
            let heartbeat = tokio::spawn(registry.run(info, runner.held(), shutdown.clone()));
            let processor = move |partition: Partition, batch: Vec<EventDelivery>| {
                let database = Arc::clone(&database);
                async move {
                    // Some work per batch, so that a crash finds batches in flight.
                    tokio::time::sleep(Duration::from_millis(15)).await;
                    process(&database, name, partition, &batch);
                    Ok(())
                }
            };
            runner.run(Arc::new(processor), shutdown).await;
            heartbeat.await.unwrap();
            let _ = done.send(());
        });
        TestServer {
            runtime: Some(runtime),
            stop,
            stopped,
        }
    }

    /// Everything stops at once: no lease released, no heartbeat removed,
    /// batches in flight neither acked nor committed.
    fn crash(self) {
        drop(self);
    }

    async fn stop(mut self) {
        self.stop.trigger();
        tokio::time::timeout(Duration::from_secs(10), &mut self.stopped)
            .await
            .expect("server stopped in time")
            .expect("server finished");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn events_config() -> EventStreamConfig {
    EventStreamConfig {
        partitions: 6,
        ..Default::default()
    }
}

/// How many partitions each server holds ("" for none); empty until the
/// first server made the lease bucket.
async fn holders_by_server(nats: &TestNats) -> HashMap<String, usize> {
    let count = PartitionCount::new(events_config().partitions).unwrap();
    let mut by_server = HashMap::new();
    let Ok(holders) = partition_holders(&nats.connection, &nats.topology, count).await else {
        return by_server;
    };
    for holder in holders {
        *by_server
            .entry(holder.server.unwrap_or_default())
            .or_default() += 1;
    }
    by_server
}

async fn wait_for_holders(nats: &TestNats, what: &str, expected: &[(&str, usize)]) {
    let start = Instant::now();
    let expected: HashMap<String, usize> =
        expected.iter().map(|(s, n)| (s.to_string(), *n)).collect();
    loop {
        let holders = holders_by_server(nats).await;
        if holders == expected {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{what}: holders {holders:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn publish(events: &EventStream, keys: usize, from: u64, to: u64) {
    let mut items = Vec::new();
    for counter in from..=to {
        for key in 0..keys {
            let body = format!("account/k{key}#{counter}");
            items.push(
                EventItem::new(
                    &format!("account/k{key}"),
                    &format!("k{key}-{counter}"),
                    Bytes::from(body),
                )
                .unwrap(),
            );
        }
    }
    for result in events.publish_events(&items).await.unwrap() {
        result.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_is_processed_once_in_order_across_a_crash_and_a_takeover() {
    with_nats(|nats| async move {
        let config = PartitionWorkerConfig {
            lease_ttl: Duration::from_secs(2),
            ack_wait: Duration::from_secs(2),
            batch_max: 20,
            fetch_wait: Duration::from_millis(200),
            retry_delay: Duration::from_millis(100),
        };
        let events = EventStream::ensure(&nats.connection, &nats.topology, &events_config())
            .await
            .unwrap();
        let database: SharedDatabase = Arc::default();
        let a = TestServer::start(&nats, "a", config.clone(), Arc::clone(&database));
        let b = TestServer::start(&nats, "b", config.clone(), Arc::clone(&database));
        let c = TestServer::start(&nats, "c", config.clone(), Arc::clone(&database));
        wait_for_holders(
            &nats,
            "three servers share six partitions",
            &[("a", 2), ("b", 2), ("c", 2)],
        )
        .await;

        // 60 keys × 40 events; C crashes in the middle of the first half.
        let keys = 60;
        publish(&events, keys, 1, 20).await;
        wait_until("a third of the first half", Duration::from_secs(15), || {
            database.lock().unwrap().applied.len() >= 400
        })
        .await;
        c.crash();
        publish(&events, keys, 21, 40).await;
        // C's leases expire and A and B take them over (three each once C's
        // heartbeat expired too); C's unacked batches come again to them.
        wait_for_holders(&nats, "two servers after the crash", &[("a", 3), ("b", 3)]).await;
        wait_until("every event", Duration::from_secs(20), || {
            database.lock().unwrap().applied.len() == keys * 40
        })
        .await;
        // Nothing more arrives later (no redelivery applies twice).
        tokio::time::sleep(config.ack_wait + Duration::from_millis(500)).await;

        a.stop().await;
        b.stop().await;
        // Stopped servers release their leases at once.
        wait_for_holders(&nats, "none after a clean stop", &[("", 6)]).await;

        let database = database.lock().unwrap();
        assert_eq!(database.applied.len(), keys * 40);
        let twice: Vec<_> = database.applied.iter().filter(|(_, n)| **n != 1).collect();
        assert!(twice.is_empty(), "applied more than once: {twice:?}");
        assert_eq!(
            database.out_of_order, 0,
            "events of a key applied out of order"
        );
        for server in ["a", "b", "c"] {
            assert!(
                database.by_server.get(server).copied().unwrap_or(0) > 0,
                "{server} processed nothing"
            );
        }
        eprintln!(
            "partitions: applied by server {:?}, redeliveries skipped by the cursor {}",
            database.by_server, database.skipped
        );
    })
    .await;
}
