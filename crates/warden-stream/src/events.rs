//! The event stream for detection: events split into partitions
//! (`warden.events.<partition>`) by their partition key
//! ([`crate::partition`]), each partition read by one durable consumer
//! (`WARDEN_DETECT_P<n>`) that only the partition's lease holder uses
//! ([`crate::workers`]).
//!
//! **Retention: work queue**, like intake and for the same reasons: the
//! store is the record, the stream holds only events not processed yet;
//! consumers are one per partition with disjoint filters, which a
//! work-queue stream allows. Full means refused (discard new): the intake
//! consumer that publishes the event after committing it retries, so an
//! event is never dropped unprocessed. Velocity windows are warmed up from
//! the store's events, not from the stream.
//!
//! **Order.** A partition's consumer hands out at most one batch at a time
//! (`max_ack_pending` = the batch size): nothing after a batch is delivered
//! until the batch is acked, and a batch that was not acked (its worker
//! crashed) comes back first, in order. So each partition is processed in
//! stream order, and velocity windows see events in the order they came.
//!
//! **Deduplication**: `Nats-Msg-Id = event:<platform id>` (percent-encoded
//! as for intake), so an event published again by an intake message applied
//! twice is stored once within the duplicate window.

use async_nats::jetstream;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::stream::{DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::{HeaderMap, HeaderValue};
use bytes::Bytes;
use warden_domain::ids::PlatformId;

use crate::config::{EventStreamConfig, PartitionWorkerConfig};
use crate::connection::StreamConnection;
use crate::consumer::create_or_update_consumer;
use crate::error::{publish_error, StreamError};
use crate::intake::{create_or_update, encode_id};
use crate::limits::{EVENT_BYTES_MAX, HEADERS_BYTES_RESERVED, PUBLISH_BATCH_ITEMS_MAX};
use crate::partition::{Partition, PartitionCount};
use crate::topology::Topology;

/// One event ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventItem {
    partition_key: String,
    message_id: String,
    body: Bytes,
}

impl EventItem {
    /// An event with its partition key ([`crate::partition::event_partition_key`]),
    /// the platform's id for it, and its body (the detection worker's format).
    pub fn new(partition_key: &str, event_id: &str, body: Bytes) -> Result<Self, StreamError> {
        if partition_key.is_empty() {
            return Err(StreamError::invalid("partition_key", "must not be empty"));
        }
        let id = PlatformId::parse(event_id)
            .map_err(|reason| StreamError::invalid("event_id", reason))?;
        if body.is_empty() || body.len() > EVENT_BYTES_MAX {
            return Err(StreamError::invalid(
                "body",
                format!("must be 1 to {EVENT_BYTES_MAX} bytes, got {}", body.len()),
            ));
        }
        Ok(EventItem {
            partition_key: partition_key.to_string(),
            message_id: format!("event:{}", encode_id(id.as_str())),
            body,
        })
    }

    /// The `Nats-Msg-Id` it is published with.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }
}

/// JetStream's answer to an event publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventAck {
    /// The partition it went to.
    pub partition: Partition,
    /// Its stream sequence (that of the first, for a duplicate).
    pub sequence: u64,
    /// True when the same event was stored within the duplicate window.
    pub duplicate: bool,
}

/// One event as delivered to a partition worker.
#[derive(Debug, Clone)]
pub struct EventDelivery {
    /// Its partition.
    pub partition: Partition,
    /// Its stream sequence: increasing within a partition, the cursor the
    /// detection worker stores with the batch's hits.
    pub stream_sequence: u64,
    /// Its `Nats-Msg-Id` (`event:<platform id>`), if it had one.
    pub message_id: Option<String>,
    /// Its body.
    pub body: Bytes,
    /// Which delivery this is (1 for the first).
    pub delivered: u64,
}

/// The event stream, set up.
#[derive(Clone, Debug)]
pub struct EventStream {
    connection: StreamConnection,
    topology: Topology,
    count: PartitionCount,
    publisher: jetstream::Context,
}

impl EventStream {
    /// Creates the event stream or updates its settings; idempotent.
    pub async fn ensure(
        connection: &StreamConnection,
        topology: &Topology,
        config: &EventStreamConfig,
    ) -> Result<Self, StreamError> {
        config.check()?;
        let count = PartitionCount::new(config.partitions)?;
        connection.require_connected()?;
        let stream = jetstream::stream::Config {
            name: topology.events_stream(),
            description: Some("Warden events for detection, by partition".into()),
            subjects: vec![format!("{}.*", topology.events_subject_prefix())],
            retention: RetentionPolicy::WorkQueue,
            discard: DiscardPolicy::New,
            storage: StorageType::File,
            max_age: config.max_age,
            max_bytes: config.max_bytes,
            // EVENT_BYTES_MAX plus headers is about 1 MiB: it fits an i32.
            max_message_size: (EVENT_BYTES_MAX + HEADERS_BYTES_RESERVED) as i32,
            duplicate_window: config.duplicate_window,
            num_replicas: config.replicas,
            ..Default::default()
        };
        create_or_update(connection, stream).await?;
        Ok(EventStream {
            connection: connection.clone(),
            topology: topology.clone(),
            count,
            publisher: connection.jetstream_with_ack_timeout(config.publish_ack_timeout),
        })
    }

    /// The partition count.
    pub fn partitions(&self) -> PartitionCount {
        self.count
    }

    /// The topology it was set up with.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The connection it uses.
    pub fn connection(&self) -> &StreamConnection {
        &self.connection
    }

    /// The subject of a partition.
    pub fn subject(&self, partition: Partition) -> String {
        format!("{}.{partition}", self.topology.events_subject_prefix())
    }

    /// Publishes one event to its key's partition and waits for the ack.
    pub async fn publish_event(&self, event: &EventItem) -> Result<EventAck, StreamError> {
        self.connection.require_connected()?;
        let (partition, pending) = self.send(event).await?;
        await_event_ack(partition, pending).await
    }

    /// Publishes events pipelined; one result per event, in order.
    pub async fn publish_events(
        &self,
        events: &[EventItem],
    ) -> Result<Vec<Result<EventAck, StreamError>>, StreamError> {
        if events.len() > PUBLISH_BATCH_ITEMS_MAX {
            return Err(StreamError::invalid(
                "events",
                format!(
                    "at most {PUBLISH_BATCH_ITEMS_MAX} events in one batch, got {}",
                    events.len()
                ),
            ));
        }
        self.connection.require_connected()?;
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            pending.push(self.send(event).await);
        }
        let acks = pending.into_iter().map(|sent| async move {
            let (partition, pending) = sent?;
            await_event_ack(partition, pending).await
        });
        Ok(futures_util::future::join_all(acks).await)
    }

    /// The durable consumer of `partition`, created or updated to `config`.
    pub(crate) async fn partition_consumer(
        &self,
        partition: Partition,
        config: &PartitionWorkerConfig,
    ) -> Result<PullConsumer, StreamError> {
        let name = self.topology.partition_consumer(partition.number());
        let consumer_config = pull::Config {
            durable_name: Some(name.clone()),
            description: Some(format!("Warden detection, partition {partition}")),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: config.ack_wait,
            max_deliver: -1,
            // One batch at a time keeps the partition in stream order.
            max_ack_pending: config.batch_max as i64,
            filter_subject: self.subject(partition),
            ..Default::default()
        };
        let stream = self
            .connection
            .jetstream()
            .get_stream_no_info(self.topology.events_stream())
            .await
            .map_err(|error| StreamError::from_nats("the event stream", &error))?;
        create_or_update_consumer(&stream, &name, consumer_config).await
    }

    async fn send(
        &self,
        event: &EventItem,
    ) -> Result<(Partition, jetstream::context::PublishAckFuture), StreamError> {
        let partition = self.count.of_key(&event.partition_key);
        let mut headers = HeaderMap::new();
        let message_id = event
            .message_id
            .parse::<HeaderValue>()
            .map_err(|_| StreamError::invalid("event_id", "cannot be a message id"))?;
        headers.insert(async_nats::header::NATS_MESSAGE_ID, message_id);
        let pending = self
            .publisher
            .publish_with_headers(self.subject(partition), headers, event.body.clone())
            .await
            .map_err(|error| publish_error(&error))?;
        Ok((partition, pending))
    }
}

async fn await_event_ack(
    partition: Partition,
    pending: jetstream::context::PublishAckFuture,
) -> Result<EventAck, StreamError> {
    let ack = pending.await.map_err(|error| publish_error(&error))?;
    Ok(EventAck {
        partition,
        sequence: ack.sequence,
        duplicate: ack.duplicate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_checked_and_keyed_by_their_id() {
        let event = EventItem::new("account/a", "evt 1", Bytes::from_static(b"{}")).unwrap();
        assert_eq!(event.message_id(), "event:evt%201");
        let field = |result: Result<EventItem, StreamError>| match result {
            Err(StreamError::Invalid { field, .. }) => field,
            other => panic!("expected invalid, got {other:?}"),
        };
        assert_eq!(
            field(EventItem::new("", "e", Bytes::from_static(b"{}"))),
            "partition_key"
        );
        assert_eq!(
            field(EventItem::new("k", "", Bytes::from_static(b"{}"))),
            "event_id"
        );
        assert_eq!(field(EventItem::new("k", "e", Bytes::new())), "body");
        let big = Bytes::from(vec![b' '; EVENT_BYTES_MAX + 1]);
        assert_eq!(field(EventItem::new("k", "e", big)), "body");
    }
}
