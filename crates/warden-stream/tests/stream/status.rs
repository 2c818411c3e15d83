//! Cluster status: heartbeats, consumer lag, partition holders.

use std::time::{Duration, Instant};

use bytes::Bytes;
use warden_stream::cluster::{cluster_status, ServerId, ServerInfo, ServerRegistry, ServerRole};
use warden_stream::consumer::IntakeConsumer;
use warden_stream::events::EventStream;
use warden_stream::leases::PartitionLeases;
use warden_stream::partition::PartitionCount;
use warden_stream::{
    EventStreamConfig, IntakeConsumerConfig, IntakeItem, IntakeKind, IntakeStream,
    IntakeStreamConfig,
};

use crate::support::with_nats;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_shows_servers_lag_and_partition_holders() {
    with_nats(|nats| async move {
        let intake = IntakeStream::ensure(
            &nats.connection,
            &nats.topology,
            &IntakeStreamConfig::default(),
        )
        .await
        .unwrap();
        IntakeConsumer::ensure(
            &nats.connection,
            &nats.topology,
            &IntakeConsumerConfig::default(),
        )
        .await
        .unwrap();
        let events_config = EventStreamConfig {
            partitions: 4,
            ..Default::default()
        };
        EventStream::ensure(&nats.connection, &nats.topology, &events_config)
            .await
            .unwrap();
        for i in 0..5 {
            let item = IntakeItem::new(
                IntakeKind::Signals,
                &format!("s{i}"),
                Bytes::from_static(b"{}"),
            )
            .unwrap();
            intake.publish_item(&item).await.unwrap();
        }

        let count = PartitionCount::new(4).unwrap();
        let registry =
            ServerRegistry::open(&nats.connection, &nats.topology, Duration::from_secs(30))
                .await
                .unwrap();
        let web = ServerInfo {
            server_id: ServerId::parse("web-1").unwrap(),
            role: ServerRole::Full,
            version: "0.1.0".into(),
            started_at_ms: 1_700_000_000_000,
        };
        let intake_only = ServerInfo {
            server_id: ServerId::parse("web-2").unwrap(),
            role: ServerRole::Intake,
            version: "0.1.0".into(),
            started_at_ms: 1_700_000_000_001,
        };
        let mut leases = PartitionLeases::open(
            &nats.connection,
            &nats.topology,
            count,
            Duration::from_secs(30),
            web.server_id.clone(),
        )
        .await
        .unwrap();
        let p2 = count.partition(2).unwrap();
        assert!(leases.claim(p2, Instant::now()).await.unwrap());
        registry.beat(&web, &leases.held()).await.unwrap();
        registry.beat(&intake_only, &[]).await.unwrap();

        let status = cluster_status(&nats.connection, &nats.topology, &registry, count)
            .await
            .unwrap();
        let servers: Vec<(&str, &str, Vec<u16>)> = status
            .servers
            .iter()
            .map(|s| (s.server_id.as_str(), s.role.as_str(), s.partitions.clone()))
            .collect();
        assert_eq!(
            servers,
            vec![("web-1", "full", vec![2]), ("web-2", "intake", vec![])]
        );
        assert_eq!(status.servers[0].started_at_ms, 1_700_000_000_000);
        assert!(status.servers[0].last_seen_ms > 1_700_000_000_000);
        assert_eq!(registry.partition_servers().await.unwrap(), 1);
        let intake_lag = status
            .consumers
            .iter()
            .find(|lag| lag.consumer == nats.topology.intake_consumer())
            .expect("the intake consumer's lag");
        assert_eq!(intake_lag.stream, nats.topology.intake_stream());
        assert_eq!(
            (
                intake_lag.pending,
                intake_lag.ack_pending,
                intake_lag.redelivered
            ),
            (5, 0, 0)
        );
        let holders: Vec<Option<&str>> = status
            .partitions
            .iter()
            .map(|h| h.server.as_deref())
            .collect();
        assert_eq!(holders, vec![None, None, Some("web-1"), None]);

        // A server that leaves is gone from the status at once.
        registry.leave(&intake_only.server_id).await.unwrap();
        let status = cluster_status(&nats.connection, &nats.topology, &registry, count)
            .await
            .unwrap();
        assert_eq!(status.servers.len(), 1);
    })
    .await;
}
