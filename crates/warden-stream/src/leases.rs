//! Partition leases: which server holds which partition, in a JetStream KV
//! bucket (`WARDEN_PARTITIONS`, key `p<n>`, value the server id).
//!
//! - A server **claims** a free partition by creating its key; creation
//!   fails when the key exists, so two servers never both succeed.
//! - It **renews** each lease every third of the TTL by updating the key
//!   with the revision it last wrote (compare-and-set): if anyone else wrote
//!   in between, or the lease expired, the update fails and the partition is
//!   **lost** — the server stops its worker at once.
//! - A lease not renewed **expires**: the bucket's `max_age` is the TTL, so
//!   NATS itself removes the key a TTL after its last write. The clock that
//!   decides is the NATS server's alone; Warden servers' clocks never need
//!   to agree. Another server then creates the key: takeover.
//! - A server **releases** a partition (rebalancing, shutdown) by deleting
//!   the key with its revision, after its worker stopped.
//! - A server that cannot renew (NATS unreachable) stops its workers once
//!   its last successful renewal is older than the TTL less one renewal
//!   interval, before anyone else can hold the lease
//!   ([`PartitionLeases::renewal_overdue`]).
//!
//! Leases are the first fence; the second is the detection worker's cursor:
//! it stores each batch's hits and the partition's stream sequence in one
//! transaction and skips events at or below the stored sequence, so even a
//! paused server that wakes up after losing its lease cannot apply an event
//! twice.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_nats::jetstream::{kv, stream};
use bytes::Bytes;

use crate::cluster::ServerId;
use crate::connection::StreamConnection;
use crate::error::StreamError;
use crate::partition::{Partition, PartitionCount};
use crate::topology::Topology;

/// The leases one server holds, and the means to take, keep and give up more.
#[derive(Debug)]
pub struct PartitionLeases {
    bucket: kv::Store,
    server: ServerId,
    count: PartitionCount,
    ttl: Duration,
    held: BTreeMap<Partition, u64>,
    renewed_at: Option<Instant>,
}

/// Who holds a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionHolder {
    /// The partition.
    pub partition: Partition,
    /// The server holding its lease, if any.
    pub server: Option<String>,
}

impl PartitionLeases {
    /// Opens (creating if needed) the lease bucket with `ttl` as its entries'
    /// lifetime. Every server must use the same TTL.
    pub async fn open(
        connection: &StreamConnection,
        topology: &Topology,
        count: PartitionCount,
        ttl: Duration,
        server: ServerId,
    ) -> Result<Self, StreamError> {
        connection.require_connected()?;
        let bucket = open_bucket(connection, &topology.lease_bucket(), ttl).await?;
        Ok(PartitionLeases {
            bucket,
            server,
            count,
            ttl,
            held: BTreeMap::new(),
            renewed_at: None,
        })
    }

    /// The partitions held, in order.
    pub fn held(&self) -> Vec<Partition> {
        self.held.keys().copied().collect()
    }

    /// Whether `partition` is held.
    pub fn holds(&self, partition: Partition) -> bool {
        self.held.contains_key(&partition)
    }

    /// The partition count.
    pub fn count(&self) -> PartitionCount {
        self.count
    }

    /// This server's id.
    pub fn server(&self) -> &ServerId {
        &self.server
    }

    /// Renews every lease held. Answers the partitions lost (someone else
    /// holds them, or they expired); those are no longer held. `Unavailable`
    /// when NATS did not answer: nothing changes, and the caller watches
    /// [`PartitionLeases::renewal_overdue`].
    pub async fn renew(&mut self, now: Instant) -> Result<Vec<Partition>, StreamError> {
        let mut lost = Vec::new();
        let mut unavailable = None;
        let held: Vec<(Partition, u64)> = self.held.iter().map(|(p, r)| (*p, *r)).collect();
        for (partition, revision) in held {
            match self
                .bucket
                .update(lease_key(partition), self.value(), revision)
                .await
            {
                Ok(revision) => {
                    self.held.insert(partition, revision);
                }
                Err(error) if error.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                    self.held.remove(&partition);
                    lost.push(partition);
                }
                Err(error) => {
                    unavailable = Some(StreamError::from_nats(
                        format!("renewing the lease of partition {partition}"),
                        &error,
                    ));
                }
            }
        }
        match unavailable {
            Some(error) => Err(error),
            None => {
                self.renewed_at = Some(now);
                Ok(lost)
            }
        }
    }

    /// True when the last complete renewal is so old that the leases may
    /// expire before the next one: the holder must stop its workers now.
    pub fn renewal_overdue(&self, now: Instant, tick: Duration) -> bool {
        match self.renewed_at {
            Some(renewed_at) => now.duration_since(renewed_at) + tick >= self.ttl,
            None => !self.held.is_empty(),
        }
    }

    /// Tries to take `partition`: `true` when it was free and is now held.
    pub async fn claim(&mut self, partition: Partition, now: Instant) -> Result<bool, StreamError> {
        if self.holds(partition) {
            return Ok(true);
        }
        match self.bucket.create(lease_key(partition), self.value()).await {
            Ok(revision) => {
                self.held.insert(partition, revision);
                if self.held.len() == 1 {
                    self.renewed_at = Some(now);
                }
                Ok(true)
            }
            Err(error) if error.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(StreamError::from_nats(
                format!("claiming partition {partition}"),
                &error,
            )),
        }
    }

    /// Gives up `partition` (its worker must have stopped): deletes the key
    /// if it still holds this server's last revision.
    pub async fn release(&mut self, partition: Partition) -> Result<(), StreamError> {
        let Some(revision) = self.held.remove(&partition) else {
            return Ok(());
        };
        match self
            .bucket
            .delete_expect_revision(lease_key(partition), Some(revision))
            .await
        {
            Ok(()) => Ok(()),
            // Someone else holds it already (or it expired): nothing to give up.
            Err(error) if error.kind() == kv::DeleteErrorKind::WrongLastRevision => Ok(()),
            Err(error) => Err(StreamError::from_nats(
                format!("releasing partition {partition}"),
                &error,
            )),
        }
    }

    /// Who holds each partition now.
    pub async fn holders(&self) -> Result<Vec<PartitionHolder>, StreamError> {
        holders(&self.bucket, self.count).await
    }

    fn value(&self) -> Bytes {
        Bytes::from(self.server.as_str().to_string())
    }
}

/// Who holds each partition, read from the lease bucket of `topology`.
pub async fn partition_holders(
    connection: &StreamConnection,
    topology: &Topology,
    count: PartitionCount,
) -> Result<Vec<PartitionHolder>, StreamError> {
    connection.require_connected()?;
    let bucket = connection
        .jetstream()
        .get_key_value(topology.lease_bucket())
        .await
        .map_err(|error| StreamError::from_nats("the partition lease bucket", &error))?;
    holders(&bucket, count).await
}

async fn holders(
    bucket: &kv::Store,
    count: PartitionCount,
) -> Result<Vec<PartitionHolder>, StreamError> {
    let mut holders = Vec::with_capacity(usize::from(count.get()));
    for partition in count.all() {
        let entry = bucket
            .entry(lease_key(partition))
            .await
            .map_err(|error| StreamError::from_nats("reading partition leases", &error))?;
        let server = entry
            .filter(|entry| entry.operation == kv::Operation::Put)
            .map(|entry| String::from_utf8_lossy(&entry.value).into_owned());
        holders.push(PartitionHolder { partition, server });
    }
    Ok(holders)
}

/// Opens a KV bucket whose entries live `ttl` after their last write,
/// creating it if needed. An existing bucket keeps its TTL (every server
/// must be configured alike; the first one made the bucket).
///
/// The bucket's stream is made here with the KV conventions (what
/// async-nats' `create_key_value` makes) because that call first asks for
/// the account's JetStream info, whose answer NATS 2.9 gives in a form
/// async-nats 0.51 cannot read.
pub(crate) async fn open_bucket(
    connection: &StreamConnection,
    name: &str,
    ttl: Duration,
) -> Result<kv::Store, StreamError> {
    let jetstream = connection.jetstream();
    if let Ok(bucket) = jetstream.get_key_value(name).await {
        return Ok(bucket);
    }
    let stream = stream::Config {
        name: format!("KV_{name}"),
        description: Some("Warden: entries live until renewed".into()),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age: ttl,
        // Values are a server id or a heartbeat: small.
        max_message_size: 4 * 1024,
        storage: stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        deny_purge: false,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    };
    // Two servers starting together may both create it: the same
    // configuration twice is accepted.
    jetstream
        .create_stream(stream)
        .await
        .map_err(|error| StreamError::from_nats(format!("KV bucket {name}"), &error))?;
    jetstream
        .get_key_value(name)
        .await
        .map_err(|error| StreamError::from_nats(format!("KV bucket {name}"), &error))
}

fn lease_key(partition: Partition) -> String {
    format!("p{partition}")
}
