//! The intake consumer: ack after apply, retries, dead letters, work split
//! between servers, redelivery after a server stopped mid-apply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use warden_stream::cluster::consumer_lag;
use warden_stream::consumer::{ApplyError, IntakeConsumer, IntakeDelivery};
use warden_stream::{
    shutdown_signal, IntakeConsumerConfig, IntakeItem, IntakeKind, IntakeStream, IntakeStreamConfig,
};

use crate::support::{stream_messages, wait_until, with_nats};

fn fast_consumer() -> IntakeConsumerConfig {
    IntakeConsumerConfig {
        ack_wait: Duration::from_secs(1),
        deliveries_max: 3,
        in_flight_max: 8,
        fetch_wait: Duration::from_millis(200),
        retry_delay_base: Duration::from_millis(50),
        retry_delay_max: Duration::from_millis(200),
        drain_timeout: Duration::from_millis(300),
    }
}

/// What each body was seen with: the deliveries, in order.
type Seen = Arc<Mutex<HashMap<String, Vec<u64>>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_are_acked_after_apply_retried_when_retriable_and_dead_lettered_when_bad() {
    with_nats(|nats| async move {
        let intake = IntakeStream::ensure(
            &nats.connection,
            &nats.topology,
            &IntakeStreamConfig::default(),
        )
        .await
        .unwrap();
        let consumer = IntakeConsumer::ensure(&nats.connection, &nats.topology, &fast_consumer())
            .await
            .unwrap();
        for (id, body) in [
            ("good", "good"),
            ("flaky", "flaky"),
            ("bad", "bad"),
            ("stuck", "stuck"),
        ] {
            let item = IntakeItem::new(IntakeKind::Reports, id, Bytes::from(body)).unwrap();
            intake.publish_item(&item).await.unwrap();
        }
        // A platform publishing to the stream itself, without a message id.
        nats.connection
            .jetstream()
            .publish(
                intake.subject(IntakeKind::Reports),
                Bytes::from_static(b"direct"),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        let seen: Seen = Arc::default();
        let applier = {
            let seen = Arc::clone(&seen);
            move |delivery: IntakeDelivery| {
                let seen = Arc::clone(&seen);
                async move {
                    let body = String::from_utf8(delivery.body.to_vec()).unwrap();
                    seen.lock()
                        .unwrap()
                        .entry(body.clone())
                        .or_default()
                        .push(delivery.delivered);
                    assert_eq!(delivery.kind, IntakeKind::Reports);
                    match body.as_str() {
                        "good" => Ok(()),
                        "direct" if delivery.message_id.is_none() => Ok(()),
                        "flaky" if delivery.delivered < 3 => {
                            Err(ApplyError::Retriable("database busy".into()))
                        }
                        "flaky" => Ok(()),
                        "bad" => Err(ApplyError::Permanent(
                            "reason: unknown code \"spam\"\nsecond line".into(),
                        )),
                        _ => Err(ApplyError::Retriable("database down".into())),
                    }
                }
            }
        };
        let (trigger, shutdown) = shutdown_signal();
        let counters = consumer.counters();
        let running = tokio::spawn(async move { consumer.run(Arc::new(applier), shutdown).await });
        wait_until(
            "three applied and two dead",
            Duration::from_secs(15),
            || {
                let counts = counters.snapshot();
                counts.applied == 3 && counts.dead == 2
            },
        )
        .await;
        trigger.trigger();
        running.await.unwrap();

        let counts = counters.snapshot();
        assert_eq!(counts.delivered, 1 + 3 + 1 + 3 + 1, "{counts:?}");
        assert_eq!(counts.redelivered, 4, "{counts:?}");
        assert_eq!(counts.retried, 4, "{counts:?}");
        assert_eq!(counts.in_flight, 0);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen["good"], vec![1]);
        assert_eq!(seen["direct"], vec![1]);
        assert_eq!(seen["flaky"], vec![1, 2, 3]);
        assert_eq!(seen["bad"], vec![1]);
        assert_eq!(seen["stuck"], vec![1, 2, 3]);

        // Everything acked: the work queue is empty, nothing pending.
        assert_eq!(
            stream_messages(&nats.connection, &nats.topology.intake_stream()).await,
            0
        );
        let lag = consumer_lag(
            &nats.connection,
            &nats.topology.intake_stream(),
            &nats.topology.intake_consumer(),
        )
        .await
        .unwrap();
        assert_eq!((lag.pending, lag.ack_pending), (0, 0), "{lag:?}");

        // The dead letters hold the original bodies with the reasons.
        let dead = nats
            .connection
            .jetstream()
            .get_stream(nats.topology.dead_stream())
            .await
            .unwrap();
        assert_eq!(dead.cached_info().state.messages, 2);
        let mut letters = HashMap::new();
        for sequence in 1..=2 {
            let message = dead.get_raw_message(sequence).await.unwrap();
            assert_eq!(
                message.subject.as_str(),
                format!("{}.intake.reports", nats.topology.dead_subject_prefix())
            );
            let header = |name: &str| {
                message
                    .headers
                    .get(name)
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default()
            };
            assert_eq!(header("Warden-Dead-Stream"), nats.topology.intake_stream());
            assert!(header("Warden-Dead-Sequence").parse::<u64>().unwrap() >= 1);
            assert_eq!(
                header("Warden-Dead-Message-Id"),
                format!("reports:{}", String::from_utf8_lossy(&message.payload))
            );
            letters.insert(
                String::from_utf8(message.payload.to_vec()).unwrap(),
                (
                    header("Warden-Dead-Reason"),
                    header("Warden-Dead-Deliveries"),
                ),
            );
        }
        assert_eq!(
            letters["bad"],
            (
                "reason: unknown code \"spam\" second line".to_string(),
                "1".to_string()
            )
        );
        assert_eq!(
            letters["stuck"],
            (
                "gave up after 3 deliveries: database down".to_string(),
                "3".to_string()
            )
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_split_the_work_and_an_apply_cut_short_is_delivered_again() {
    with_nats(|nats| async move {
        let intake = IntakeStream::ensure(
            &nats.connection,
            &nats.topology,
            &IntakeStreamConfig::default(),
        )
        .await
        .unwrap();
        // "slow" first, so that server A, starting alone, takes it.
        let items: Vec<IntakeItem> =
            [IntakeItem::new(IntakeKind::Events, "slow", Bytes::from_static(b"slow")).unwrap()]
                .into_iter()
                .chain((0..200).map(|i| {
                    IntakeItem::new(
                        IntakeKind::Events,
                        &format!("e{i}"),
                        Bytes::from(format!("e{i}")),
                    )
                    .unwrap()
                }))
                .collect();
        for result in intake.publish_batch(&items).await.unwrap() {
            result.unwrap();
        }

        // Server A hangs on "slow" (its apply never commits) and is stopped
        // with a short drain: the item must come again, to server B.
        let applied_by: Arc<Mutex<HashMap<String, Vec<&'static str>>>> = Arc::default();
        let applier = |server: &'static str| {
            let applied_by = Arc::clone(&applied_by);
            move |delivery: IntakeDelivery| {
                let applied_by = Arc::clone(&applied_by);
                async move {
                    let body = String::from_utf8(delivery.body.to_vec()).unwrap();
                    if body == "slow" && server == "a" {
                        std::future::pending::<()>().await;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    applied_by
                        .lock()
                        .unwrap()
                        .entry(body)
                        .or_default()
                        .push(server);
                    Ok(())
                }
            }
        };
        let config = fast_consumer();
        let server_a = IntakeConsumer::ensure(&nats.connection, &nats.topology, &config)
            .await
            .unwrap();
        let connection_b = nats.connect_again().await;
        let server_b = IntakeConsumer::ensure(&connection_b, &nats.topology, &config)
            .await
            .unwrap();
        let (stop_a, shutdown_a) = shutdown_signal();
        let (stop_b, shutdown_b) = shutdown_signal();
        let counters_a = server_a.counters();
        let running_a = tokio::spawn({
            let applier = applier("a");
            async move { server_a.run(Arc::new(applier), shutdown_a).await }
        });
        // B starts once A holds "slow", so that A is the one that hangs.
        wait_until(
            "server A to take the slow item",
            Duration::from_secs(10),
            || counters_a.snapshot().in_flight > 0 && applied_by.lock().unwrap().len() >= 20,
        )
        .await;
        let running_b = tokio::spawn({
            let applier = applier("b");
            async move { server_b.run(Arc::new(applier), shutdown_b).await }
        });
        wait_until("the 200 quick items", Duration::from_secs(15), || {
            applied_by.lock().unwrap().len() >= 200
        })
        .await;
        // A's apply runs past several ack waits; progress acks keep the
        // item from going to B meanwhile.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert!(
            !applied_by.lock().unwrap().contains_key("slow"),
            "redelivered while being applied"
        );
        stop_a.trigger();
        running_a.await.unwrap();
        wait_until(
            "the slow item, redelivered to B",
            Duration::from_secs(15),
            || applied_by.lock().unwrap().contains_key("slow"),
        )
        .await;
        stop_b.trigger();
        running_b.await.unwrap();

        let applied_by = applied_by.lock().unwrap().clone();
        assert_eq!(applied_by.len(), 201);
        assert_eq!(applied_by["slow"], vec!["b"]);
        let by_b = applied_by
            .values()
            .filter(|servers| servers.contains(&"b"))
            .count();
        let by_a = applied_by
            .values()
            .filter(|servers| servers.contains(&"a"))
            .count();
        assert!(
            by_a > 0 && by_b > 0,
            "both servers took items: a {by_a}, b {by_b}"
        );
        assert_eq!(
            stream_messages(&nats.connection, &nats.topology.intake_stream()).await,
            0
        );
    })
    .await;
}
