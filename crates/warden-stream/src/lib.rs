//! Warden's NATS JetStream layer for running several Warden servers on one
//! PostgreSQL: a library the server wires in (`warden serve --nats-url`).
//!
//! - [`intake`]: the intake stream. HTTP intake publishes each accepted item
//!   and answers 2xx only after JetStream acknowledged it; platforms may
//!   publish to it directly. Deduplicated by the platform's id.
//! - [`consumer`]: the intake consumer every server runs: a durable pull
//!   consumer shared by all (work-queue semantics), handing each item to the
//!   application's intake command, acking only after it committed, retrying
//!   what may work later and dead-lettering bad items.
//! - [`events`] and [`partition`]: the event stream for detection, split into
//!   partitions by a stable hash of the event's account (or subject), so one
//!   worker sees every event of a key and velocity windows are exact.
//! - [`leases`] and [`workers`]: partition ownership (exactly one live server
//!   holds a partition, leases in a KV bucket renewed by heartbeat, taken
//!   over when they expire, rebalanced when servers join) and the
//!   per-partition worker loop.
//! - [`broadcast`]: core-NATS control signals (`taxonomy published`, `rules
//!   changed`) so every server swaps them within a second.
//! - [`cluster`]: server heartbeats and consumer lag, for `warden status`.
//!
//! Claims, leases of cases and the outbox stay in PostgreSQL (`SKIP
//! LOCKED`); nothing here replaces them. `docs/scale-out.md` describes the
//! topology, failure modes and what to monitor.
//!
//! The crate knows NATS and nothing of HTTP or SQL; item bodies are bytes it
//! does not parse. It needs a NATS server with JetStream, 2.9 or later.

pub mod broadcast;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod consumer;
pub mod error;
pub mod events;
pub mod intake;
pub mod leases;
pub mod limits;
pub mod partition;
pub mod shutdown;
pub mod topology;
pub mod workers;

pub use config::{
    EventStreamConfig, IntakeConsumerConfig, IntakeStreamConfig, PartitionWorkerConfig,
};
pub use connection::{connect, ConnectionConfig, StreamConnection};
pub use error::StreamError;
pub use intake::{IntakeAck, IntakeItem, IntakeKind, IntakeStream};
pub use shutdown::{shutdown_signal, Shutdown, ShutdownTrigger};
pub use topology::Topology;
