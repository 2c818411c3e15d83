//! Publishing to the intake stream: acks, duplicates, batches, and errors
//! that tell "try later" from "never".

use std::time::Duration;

use bytes::Bytes;
use warden_domain::ids::{PlatformId, SubjectKind, SubjectRef};
use warden_domain::intake::Fingerprint;
use warden_stream::{
    connect, ConnectionConfig, IntakeItem, IntakeKind, IntakeStream, IntakeStreamConfig,
    StreamError, Topology,
};

use crate::support::{stream_messages, with_nats};

fn event(id: &str, body: &str) -> IntakeItem {
    IntakeItem::new(IntakeKind::Events, id, Bytes::from(body.to_string())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_is_acknowledged_once_stored_and_a_repeat_is_a_duplicate() {
    with_nats(|nats| async move {
        let intake = IntakeStream::ensure(
            &nats.connection,
            &nats.topology,
            &IntakeStreamConfig::default(),
        )
        .await
        .unwrap();
        // Ensuring again (another server starting) changes nothing.
        IntakeStream::ensure(
            &nats.connection,
            &nats.topology,
            &IntakeStreamConfig::default(),
        )
        .await
        .unwrap();

        let first = intake
            .publish_item(&event("evt_1", r#"{"id":"evt_1"}"#))
            .await
            .unwrap();
        assert!(!first.duplicate);
        let repeat = intake
            .publish_item(&event("evt_1", r#"{"id":"evt_1"}"#))
            .await
            .unwrap();
        assert!(repeat.duplicate);
        assert_eq!(repeat.sequence, first.sequence);
        // The same id with other content is stored once too; the original
        // tells the caller it was a conflict.
        let conflict = intake
            .publish_item(&event("evt_1", r#"{"id":"evt_1","x":1}"#))
            .await
            .unwrap();
        assert!(conflict.duplicate);
        let original = intake.original(conflict.sequence).await.unwrap().unwrap();
        assert_eq!(original.body, Bytes::from_static(br#"{"id":"evt_1"}"#));
        assert_eq!(original.message_id.as_deref(), Some("events:evt_1"));
        assert_eq!(
            original.subject,
            format!("{}.events", nats.topology.intake_subject_prefix())
        );
        assert!(intake
            .original(first.sequence + 1_000)
            .await
            .unwrap()
            .is_none());

        // Another kind with the same platform id is another item.
        let report =
            IntakeItem::new(IntakeKind::Reports, "evt_1", Bytes::from_static(b"{}")).unwrap();
        assert!(!intake.publish_item(&report).await.unwrap().duplicate);

        // A subject's update is not a duplicate; the same content again is.
        let subject = SubjectRef::new(SubjectKind::Account, PlatformId::parse("acct 1").unwrap());
        let version = |fingerprint: &str| {
            IntakeItem::subject(
                &subject,
                &Fingerprint(fingerprint.into()),
                Bytes::from_static(b"{}"),
            )
            .unwrap()
        };
        assert!(
            !intake
                .publish_item(&version("aa11"))
                .await
                .unwrap()
                .duplicate
        );
        assert!(
            !intake
                .publish_item(&version("bb22"))
                .await
                .unwrap()
                .duplicate
        );
        assert!(
            intake
                .publish_item(&version("bb22"))
                .await
                .unwrap()
                .duplicate
        );

        assert_eq!(
            stream_messages(&nats.connection, &nats.topology.intake_stream()).await,
            4
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_pipelined_and_answered_item_by_item() {
    with_nats(|nats| async move {
        let config = IntakeStreamConfig {
            item_bytes_max: 1_000,
            ..Default::default()
        };
        let intake = IntakeStream::ensure(&nats.connection, &nats.topology, &config)
            .await
            .unwrap();
        let mut items: Vec<IntakeItem> = (0..500).map(|i| event(&format!("e{i}"), "{}")).collect();
        items.push(event("e7", "{}"));
        items.push(event("big", &" ".repeat(1_001)));
        let results = intake.publish_batch(&items).await.unwrap();
        assert_eq!(results.len(), 502);
        assert!(results[..500]
            .iter()
            .all(|r| matches!(r, Ok(ack) if !ack.duplicate)));
        assert!(matches!(&results[500], Ok(ack) if ack.duplicate));
        assert!(matches!(
            &results[501],
            Err(StreamError::Invalid { field: "body", .. })
        ));
        let mut sequences: Vec<u64> = results[..500]
            .iter()
            .map(|r| r.as_ref().unwrap().sequence)
            .collect();
        sequences.dedup();
        assert_eq!(sequences.len(), 500);
        assert_eq!(
            stream_messages(&nats.connection, &nats.topology.intake_stream()).await,
            500
        );

        let too_many = vec![event("x", "{}"); warden_stream::limits::PUBLISH_BATCH_ITEMS_MAX + 1];
        assert!(matches!(
            intake.publish_batch(&too_many).await,
            Err(StreamError::Invalid { field: "items", .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_tell_try_later_from_never() {
    with_nats(|nats| async move {
        let config = IntakeStreamConfig {
            item_bytes_max: 1_000,
            ..Default::default()
        };
        let intake = IntakeStream::ensure(&nats.connection, &nats.topology, &config)
            .await
            .unwrap();

        // Another server set the stream's message size lower: JetStream
        // refuses the message itself.
        let jetstream = nats.connection.jetstream();
        let mut stream_config = jetstream
            .get_stream(nats.topology.intake_stream())
            .await
            .unwrap()
            .cached_info()
            .config
            .clone();
        stream_config.max_message_size = 500;
        jetstream.update_stream(stream_config).await.unwrap();
        let error = intake
            .publish_item(&event("e1", &" ".repeat(900)))
            .await
            .unwrap_err();
        assert!(matches!(error, StreamError::Rejected { .. }), "{error:?}");
        assert_eq!(error.retry_after(), None);

        // No stream takes the subject (JetStream not set up yet, or lost):
        // try later.
        let elsewhere = IntakeStream::ensure(
            &nats.connection,
            &Topology::new(
                &format!("{}.other", nats.topology.subject_root()),
                &format!("{}X", nats.topology.name_prefix()),
            )
            .unwrap(),
            &config,
        )
        .await
        .unwrap();
        let jetstream = nats.connection.jetstream();
        jetstream
            .delete_stream(format!("{}X_INTAKE", nats.topology.name_prefix()))
            .await
            .unwrap();
        jetstream
            .delete_stream(format!("{}X_DEAD", nats.topology.name_prefix()))
            .await
            .unwrap();
        let error = elsewhere
            .publish_item(&event("e2", "{}"))
            .await
            .unwrap_err();
        assert!(error.is_unavailable(), "{error:?}");
        assert!(error.retry_after().is_some());

        // NATS unreachable: at connection, and for a client still trying.
        let unreachable = ConnectionConfig {
            connect_timeout: Duration::from_millis(200),
            ..ConnectionConfig::new("nats://127.0.0.1:1")
        };
        assert!(connect(&unreachable).await.unwrap_err().is_unavailable());
        let retrying = connect(&ConnectionConfig {
            retry_on_initial_connect: true,
            ..unreachable
        })
        .await
        .unwrap();
        assert!(!retrying.is_connected());
        let error = IntakeStream::ensure(&retrying, &nats.topology, &config)
            .await
            .unwrap_err();
        assert!(error.is_unavailable(), "{error:?}");
    })
    .await;
}
