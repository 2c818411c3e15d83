//! Who is in the cluster and how far behind its consumers are, for
//! `warden status` and `/api/v1/cluster`.
//!
//! Every server writes a heartbeat to the KV bucket `WARDEN_SERVERS` (key:
//! its id) every third of the heartbeat TTL; the bucket's `max_age` is the
//! TTL, so a server that stops beating disappears after it, decided by the
//! NATS server's clock. The partition runner counts the live servers that
//! hold partitions to compute each one's fair share.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::connection::StreamConnection;
use crate::error::StreamError;
use crate::leases::{open_bucket, partition_holders, PartitionHolder};
use crate::limits::{CONSUMERS_PER_STREAM_MAX, LABEL_BYTES_MAX, SERVERS_MAX, SERVER_ID_BYTES_MAX};
use crate::partition::{Partition, PartitionCount};
use crate::shutdown::Shutdown;
use crate::topology::{is_name_char, Topology};

/// A server's id: 1 to 64 ASCII letters, digits, `_` and `-` (it is a KV key
/// and part of log lines). Unique per running process: a restarted server
/// may reuse its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(String);

impl ServerId {
    /// Checks the id.
    pub fn parse(value: &str) -> Result<Self, StreamError> {
        if value.is_empty() || value.len() > SERVER_ID_BYTES_MAX {
            return Err(StreamError::invalid(
                "server_id",
                format!(
                    "must be 1 to {SERVER_ID_BYTES_MAX} bytes, got {}",
                    value.len()
                ),
            ));
        }
        if let Some(c) = value.chars().find(|c| !is_name_char(*c)) {
            return Err(StreamError::invalid(
                "server_id",
                format!("{value:?} holds {c:?}; use ASCII letters, digits, '_' and '-'"),
            ));
        }
        Ok(ServerId(value.to_string()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ServerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a server does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerRole {
    /// HTTP, intake consumer and detection partitions.
    Full,
    /// HTTP and the intake consumer; holds no partitions.
    Intake,
    /// Detection partitions only.
    Detection,
}

impl ServerRole {
    /// The name shown in the status.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerRole::Full => "full",
            ServerRole::Intake => "intake",
            ServerRole::Detection => "detection",
        }
    }

    /// Whether servers of this role take partitions.
    pub fn holds_partitions(self) -> bool {
        matches!(self, ServerRole::Full | ServerRole::Detection)
    }
}

/// What a server says about itself in its heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Its id.
    pub server_id: ServerId,
    /// Its role.
    pub role: ServerRole,
    /// Warden's version (at most 64 bytes; longer is cut).
    pub version: String,
    /// When it started, milliseconds since the epoch (the caller's clock).
    pub started_at_ms: i64,
}

/// A live server as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatus {
    /// Its id.
    pub server_id: String,
    /// Its role as it wrote it (`full`, `intake`, `detection`).
    pub role: String,
    /// Its version.
    pub version: String,
    /// When it started, milliseconds since the epoch.
    pub started_at_ms: i64,
    /// The partitions it held at its last heartbeat.
    pub partitions: Vec<u16>,
    /// When NATS stored its last heartbeat, milliseconds since the epoch.
    pub last_seen_ms: i64,
}

impl ServerStatus {
    /// Whether it takes partitions.
    pub fn holds_partitions(&self) -> bool {
        self.role == ServerRole::Full.as_str() || self.role == ServerRole::Detection.as_str()
    }
}

#[derive(Serialize, Deserialize)]
struct HeartbeatRecord {
    server_id: String,
    role: String,
    version: String,
    started_at_ms: i64,
    partitions: Vec<u16>,
}

/// The heartbeat bucket, seen by one server.
#[derive(Debug, Clone)]
pub struct ServerRegistry {
    bucket: kv::Store,
    ttl: Duration,
}

impl ServerRegistry {
    /// Opens (creating if needed) the heartbeat bucket; a heartbeat lives
    /// `ttl` after it was written. Every server must use the same TTL.
    pub async fn open(
        connection: &StreamConnection,
        topology: &Topology,
        ttl: Duration,
    ) -> Result<Self, StreamError> {
        connection.require_connected()?;
        let bucket = open_bucket(connection, &topology.server_bucket(), ttl).await?;
        Ok(ServerRegistry { bucket, ttl })
    }

    /// Writes one heartbeat.
    pub async fn beat(
        &self,
        info: &ServerInfo,
        partitions: &[Partition],
    ) -> Result<(), StreamError> {
        let record = HeartbeatRecord {
            server_id: info.server_id.as_str().to_string(),
            role: info.role.as_str().to_string(),
            version: cut(&info.version, LABEL_BYTES_MAX),
            started_at_ms: info.started_at_ms,
            partitions: partitions.iter().map(|p| p.number()).collect(),
        };
        let value = serde_json::to_vec(&record)
            .map_err(|error| StreamError::invalid("heartbeat", error.to_string()))?;
        self.bucket
            .put(info.server_id.as_str(), Bytes::from(value))
            .await
            .map(|_| ())
            .map_err(|error| StreamError::from_nats("writing the heartbeat", &error))
    }

    /// Removes this server's heartbeat (at shutdown), so the others rebalance
    /// at once rather than after the TTL.
    pub async fn leave(&self, server_id: &ServerId) -> Result<(), StreamError> {
        self.bucket
            .delete(server_id.as_str())
            .await
            .map_err(|error| StreamError::from_nats("removing the heartbeat", &error))
    }

    /// The live servers (at most [`SERVERS_MAX`]), by id.
    pub async fn servers(&self) -> Result<Vec<ServerStatus>, StreamError> {
        let mut keys = self
            .bucket
            .keys()
            .await
            .map_err(|error| StreamError::from_nats("listing heartbeats", &error))?;
        let mut ids = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|error| StreamError::from_nats("listing heartbeats", &error))?;
            ids.push(key);
            if ids.len() >= SERVERS_MAX {
                break;
            }
        }
        let mut servers = Vec::with_capacity(ids.len());
        for id in ids {
            let entry = self
                .bucket
                .entry(id.as_str())
                .await
                .map_err(|error| StreamError::from_nats("reading a heartbeat", &error))?;
            let Some(entry) = entry.filter(|entry| entry.operation == kv::Operation::Put) else {
                continue;
            };
            // A heartbeat Warden cannot read is shown with what is known.
            let record: Option<HeartbeatRecord> = serde_json::from_slice(&entry.value).ok();
            let last_seen_ms =
                i64::try_from(entry.created.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
            servers.push(match record {
                Some(record) => ServerStatus {
                    server_id: record.server_id,
                    role: record.role,
                    version: record.version,
                    started_at_ms: record.started_at_ms,
                    partitions: record.partitions,
                    last_seen_ms,
                },
                None => ServerStatus {
                    server_id: id,
                    role: "unknown".into(),
                    version: String::new(),
                    started_at_ms: 0,
                    partitions: Vec::new(),
                    last_seen_ms,
                },
            });
        }
        servers.sort_by(|a, b| a.server_id.cmp(&b.server_id));
        Ok(servers)
    }

    /// How many live servers take partitions.
    pub async fn partition_servers(&self) -> Result<usize, StreamError> {
        Ok(self
            .servers()
            .await?
            .iter()
            .filter(|server| server.holds_partitions())
            .count())
    }

    /// Beats every third of the TTL with the partitions `held` says, until
    /// `shutdown`; then removes the heartbeat. Failures are logged and
    /// retried at the next beat.
    pub async fn run(
        self: Arc<Self>,
        info: ServerInfo,
        held: watch::Receiver<Vec<Partition>>,
        mut shutdown: Shutdown,
    ) {
        let mut ticker = tokio::time::interval(self.ttl / 3);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.triggered() => break,
            }
            let partitions = held.borrow().clone();
            if let Err(error) = self.beat(&info, &partitions).await {
                tracing::warn!(%error, "heartbeat not written");
            }
        }
        if let Err(error) = self.leave(&info.server_id).await {
            tracing::warn!(%error, "heartbeat not removed at shutdown; it expires after the TTL");
        }
    }
}

/// How far behind a consumer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerLag {
    /// The stream.
    pub stream: String,
    /// The consumer.
    pub consumer: String,
    /// Messages not delivered yet (the backlog).
    pub pending: u64,
    /// Messages delivered and not acked yet (being processed).
    pub ack_pending: u64,
    /// Messages delivered more than once and not acked yet.
    pub redelivered: u64,
    /// Pull requests waiting.
    pub waiting: u64,
    /// The last stream sequence delivered.
    pub delivered_stream_sequence: u64,
    /// The stream sequence below which every message is acked.
    pub ack_floor_stream_sequence: u64,
}

/// The lag of one consumer.
pub async fn consumer_lag(
    connection: &StreamConnection,
    stream: &str,
    consumer: &str,
) -> Result<ConsumerLag, StreamError> {
    connection.require_connected()?;
    let handle = connection
        .jetstream()
        .get_stream_no_info(stream)
        .await
        .map_err(|error| StreamError::from_nats(format!("stream {stream}"), &error))?;
    let info = handle
        .consumer_info(consumer)
        .await
        .map_err(|error| StreamError::from_nats(format!("consumer {consumer}"), &error))?;
    Ok(lag_of(stream, &info))
}

/// The lag of every consumer of `stream` (at most
/// [`CONSUMERS_PER_STREAM_MAX`]), by name.
pub async fn stream_lags(
    connection: &StreamConnection,
    stream: &str,
) -> Result<Vec<ConsumerLag>, StreamError> {
    connection.require_connected()?;
    let handle = connection
        .jetstream()
        .get_stream_no_info(stream)
        .await
        .map_err(|error| StreamError::from_nats(format!("stream {stream}"), &error))?;
    let mut consumers = handle.consumers();
    let mut lags = Vec::new();
    while let Some(info) = consumers.next().await {
        let info =
            info.map_err(|error| StreamError::from_nats(format!("consumers of {stream}"), &error))?;
        lags.push(lag_of(stream, &info));
        if lags.len() >= CONSUMERS_PER_STREAM_MAX {
            break;
        }
    }
    lags.sort_by(|a, b| a.consumer.cmp(&b.consumer));
    Ok(lags)
}

fn lag_of(stream: &str, info: &async_nats::jetstream::consumer::Info) -> ConsumerLag {
    ConsumerLag {
        stream: stream.to_string(),
        consumer: info.name.clone(),
        pending: info.num_pending,
        ack_pending: info.num_ack_pending as u64,
        redelivered: info.num_redelivered as u64,
        waiting: info.num_waiting as u64,
        delivered_stream_sequence: info.delivered.stream_sequence,
        ack_floor_stream_sequence: info.ack_floor.stream_sequence,
    }
}

/// Everything `warden status` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterStatus {
    /// The live servers.
    pub servers: Vec<ServerStatus>,
    /// The consumers of the intake and event streams, with their lag.
    pub consumers: Vec<ConsumerLag>,
    /// Each partition and the server holding it.
    pub partitions: Vec<PartitionHolder>,
}

/// Reads the cluster's status: heartbeats, consumer lag on the intake and
/// event streams, partition holders.
pub async fn cluster_status(
    connection: &StreamConnection,
    topology: &Topology,
    registry: &ServerRegistry,
    count: PartitionCount,
) -> Result<ClusterStatus, StreamError> {
    let servers = registry.servers().await?;
    let mut consumers = stream_lags(connection, &topology.intake_stream()).await?;
    consumers.extend(stream_lags(connection, &topology.events_stream()).await?);
    let partitions = partition_holders(connection, topology, count).await?;
    Ok(ClusterStatus {
        servers,
        consumers,
        partitions,
    })
}

fn cut(text: &str, bytes_max: usize) -> String {
    let mut end = text.len().min(bytes_max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_are_short_plain_names() {
        assert_eq!(ServerId::parse("web-1_a").unwrap().as_str(), "web-1_a");
        for bad in ["", "a.b", "a b", "a/b", "ä"] {
            assert!(
                matches!(
                    ServerId::parse(bad),
                    Err(StreamError::Invalid {
                        field: "server_id",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        assert!(ServerId::parse(&"a".repeat(SERVER_ID_BYTES_MAX)).is_ok());
        assert!(ServerId::parse(&"a".repeat(SERVER_ID_BYTES_MAX + 1)).is_err());
    }

    #[test]
    fn roles_that_hold_partitions() {
        assert!(ServerRole::Full.holds_partitions());
        assert!(ServerRole::Detection.holds_partitions());
        assert!(!ServerRole::Intake.holds_partitions());
    }

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("ééé", 3), "é");
        assert_eq!(cut("abc", 64), "abc");
    }
}
