//! Control signals: every subscriber gets them, with their origin, and a
//! reconnection shows as a resync.

use std::time::Duration;

use bytes::Bytes;
use warden_stream::broadcast::{ControlBroadcast, ControlEvent, ControlSignal, ControlTopic};
use warden_stream::cluster::ServerId;
use warden_stream::limits::CONTROL_PAYLOAD_BYTES_MAX;
use warden_stream::StreamError;

use crate::support::with_nats;

/// The next event. Signals arrive in milliseconds; the wait is generous
/// because CI runs every test binary at once on two cores, and this test
/// checks that signals arrive, not how fast (a loaded machine once took
/// more than a second to schedule the subscriber's task).
async fn next(subscriber: &mut warden_stream::broadcast::ControlSubscriber) -> ControlEvent {
    tokio::time::timeout(Duration::from_secs(10), subscriber.next())
        .await
        .expect("a control event within ten seconds")
        .expect("subscription open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_reach_every_server() {
    with_nats(|nats| async move {
        let connection_b = nats.connect_again().await;
        let a = ControlBroadcast::new(
            &nats.connection,
            &nats.topology,
            ServerId::parse("a").unwrap(),
        );
        let b = ControlBroadcast::new(&connection_b, &nats.topology, ServerId::parse("b").unwrap());
        let mut on_a = a.subscribe(&ControlTopic::ALL).await.unwrap();
        let mut on_b = b.subscribe(&ControlTopic::ALL).await.unwrap();
        let mut rules_only = b.subscribe(&[ControlTopic::RulesChanged]).await.unwrap();

        a.publish(ControlTopic::TaxonomyPublished, Bytes::from_static(b"7"))
            .await
            .unwrap();
        let expected = ControlEvent::Signal(ControlSignal {
            topic: ControlTopic::TaxonomyPublished,
            origin: Some("a".into()),
            payload: Bytes::from_static(b"7"),
        });
        assert_eq!(next(&mut on_a).await, expected);
        assert_eq!(next(&mut on_b).await, expected);

        b.publish(ControlTopic::RulesChanged, Bytes::new())
            .await
            .unwrap();
        let expected = ControlEvent::Signal(ControlSignal {
            topic: ControlTopic::RulesChanged,
            origin: Some("b".into()),
            payload: Bytes::new(),
        });
        assert_eq!(next(&mut on_a).await, expected);
        assert_eq!(next(&mut on_b).await, expected);
        // The taxonomy signal never reached the rules-only subscriber.
        assert_eq!(next(&mut rules_only).await, expected);

        // After a reconnection signals may have been missed: resync.
        connection_b.client().force_reconnect().await.unwrap();
        assert_eq!(next(&mut on_b).await, ControlEvent::Resync);

        let too_big = Bytes::from(vec![b'x'; CONTROL_PAYLOAD_BYTES_MAX + 1]);
        assert!(matches!(
            a.publish(ControlTopic::RulesChanged, too_big).await,
            Err(StreamError::Invalid {
                field: "payload",
                ..
            })
        ));
        assert!(matches!(
            a.subscribe(&[]).await,
            Err(StreamError::Invalid {
                field: "topics",
                ..
            })
        ));
    })
    .await;
}
