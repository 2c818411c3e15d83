//! Every limit of the stream layer, with the reason for it.
//!
//! Durations and sizes that an operator may tune live in the configuration
//! structs ([`crate::config`]) with their defaults; the ceilings here are
//! what configuration cannot pass.

use std::time::Duration;

/// One intake item (one JSON object) on the intake stream. NATS' default
/// `max_payload` is 1 MiB and the headers (message id, dead-letter reasons)
/// count towards it, so 8 KiB of that is left to them. The contract's
/// largest item (100,000 characters of subject text, 64 KiB of attributes,
/// 64 media items) fits.
pub const ITEM_BYTES_MAX: usize = 1024 * 1024 - HEADERS_BYTES_RESERVED;

/// What headers may take of a message: the message id (a 256-byte platform
/// id, percent-encoded, plus a fingerprint) and the dead-letter headers.
pub const HEADERS_BYTES_RESERVED: usize = 8 * 1024;

/// One event on the partitioned event stream: the same bound as an item.
pub const EVENT_BYTES_MAX: usize = ITEM_BYTES_MAX;

/// Items in one pipelined batch publish: the contract's NDJSON batch
/// (10,000 by default, 50,000 at most, `warden_domain::limits`).
pub const PUBLISH_BATCH_ITEMS_MAX: usize = warden_domain::limits::BATCH_ITEMS_CEILING;

/// Publishes awaiting their JetStream ack at once on one connection: enough
/// to keep a batch flowing, few enough that a stalled server does not pile
/// up memory.
pub const PUBLISH_ACKS_IN_FLIGHT_MAX: usize = 5_000;

/// Intake messages one server applies at once: the store's pool and the
/// ack-wait clock bound useful concurrency long before this.
pub const INTAKE_IN_FLIGHT_MAX: usize = 1_024;

/// Events one partition worker takes in one batch (one database transaction
/// in the detection worker).
pub const PARTITION_BATCH_MAX: usize = 1_000;

/// Partitions of the event stream. Each has a durable consumer and a lease;
/// 1,024 is far beyond the servers a single PostgreSQL can serve.
pub const PARTITIONS_MAX: u16 = 1_024;

/// Partitions by default: room for up to 16 detection servers, each holding
/// at least one, with consumers cheap enough to keep 16 of.
pub const PARTITIONS_DEFAULT: u16 = 16;

/// Deliveries of one intake message before it goes to the dead letters
/// whatever the error: a message that keeps failing must not circle forever.
pub const DELIVERIES_MAX: u32 = 100;

/// A dead letter's reason header: the error's first line, cut to this.
pub const DEAD_REASON_BYTES_MAX: usize = 1_024;

/// A server id: short enough for a KV key, a consumer name and a log line.
pub const SERVER_ID_BYTES_MAX: usize = 64;

/// A server's role or version string in its heartbeat.
pub const LABEL_BYTES_MAX: usize = 64;

/// Servers listed by the cluster status (heartbeats read): far more than one
/// PostgreSQL serves.
pub const SERVERS_MAX: usize = 256;

/// Consumers listed per stream by the cluster status: the intake consumer
/// and one per partition.
pub const CONSUMERS_PER_STREAM_MAX: usize = PARTITIONS_MAX as usize + 16;

/// A control signal's payload: a version number or a short note, never the
/// taxonomy or rules themselves (those live in PostgreSQL).
pub const CONTROL_PAYLOAD_BYTES_MAX: usize = 4 * 1024;

/// Control signals buffered per subscriber before the oldest are dropped
/// (a dropped signal shows as a resync).
pub const CONTROL_BUFFER_MAX: usize = 1_024;

/// Subject roots and stream name prefixes: a few tokens.
pub const NAME_BYTES_MAX: usize = 64;

/// The shortest lease a partition may have: a heartbeat every third of it
/// must be possible over a slow network.
pub const LEASE_TTL_MIN: Duration = Duration::from_secs(1);

/// The longest lease: a crashed server's partitions wait this long.
pub const LEASE_TTL_MAX: Duration = Duration::from_secs(300);

/// The longest ack wait: a crashed consumer's messages wait this long.
pub const ACK_WAIT_MAX: Duration = Duration::from_secs(3_600);

/// The longest a stream keeps an unconsumed message (the streams are
/// buffers, PostgreSQL is the record): 30 days.
pub const STREAM_AGE_MAX: Duration = Duration::from_secs(30 * 24 * 3_600);

/// The longest duplicate window: the server keeps every message id of the
/// window in memory.
pub const DUPLICATE_WINDOW_MAX: Duration = Duration::from_secs(24 * 3_600);

const _: () = assert!(EVENT_BYTES_MAX <= ITEM_BYTES_MAX);
const _: () = assert!(PARTITIONS_DEFAULT <= PARTITIONS_MAX);
const _: () = assert!(PUBLISH_BATCH_ITEMS_MAX >= warden_domain::limits::BATCH_ITEMS_DEFAULT);

/// Intake messages delivered and not yet acked, across every server: the
/// JetStream consumer's `max_ack_pending`. Each server takes at most its
/// `in_flight_max`; this leaves room for 16 servers at the ceiling.
pub const INTAKE_ACK_PENDING_MAX: usize = 16 * INTAKE_IN_FLIGHT_MAX;
