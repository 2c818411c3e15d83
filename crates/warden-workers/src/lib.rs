//! Warden's background workers, each supervised.
//!
//! - [`outbox::Worker`] drains the store's transactional outbox: it leases
//!   due rows, POSTs each to the endpoint configured for its action type,
//!   signed with HMAC-SHA256 over `<timestamp>.<body>` and carrying an
//!   idempotency key, and records the outcome. Failures are retried with
//!   exponential backoff and jitter; after `attempts_max` failures a row
//!   becomes a dead letter that an operator replays. A worker that dies
//!   mid-send loses nothing: its lease runs out and the row is sent again
//!   with the same key, so the platform, which deduplicates by key, applies
//!   it once. Scheduled lifts are outbox rows due at the action's end, so
//!   expiry is this worker's too. It takes only the [`warden_store::OutboxStore`] port.
//! - [`detection::DetectionService`] runs every stored event through the
//!   rules and the live classifiers ([`classifiers`]), following the policy
//!   snapshot in force (a published taxonomy version reaches it without a
//!   restart). It takes the [`detection::DetectionPorts`].
//! - [`transparency`] submits DSA statements of reasons in batches (the
//!   `warden submit dsa` command runs it once; `serve` runs
//!   [`transparency::StatementSubmitter`] every `[dsa] submit_every_seconds`);
//!   it takes the statement port.
//! - [`periodic::Periodic`] runs a pass when it is due (the DSA submission,
//!   and in `serve` the classifier retrain and the QA sampling pass).
//!
//! [`supervisor::Supervisor`] runs every batch: a panic is caught, logged,
//! counted (`warden_worker_panics_total{worker}`) and the batch retried with
//! a bounded backoff, never ending the worker or the server silently.
#![deny(missing_docs)]

pub mod bulk;
pub mod classifiers;
pub mod detection;
pub mod limits;
pub mod outbox;
pub mod periodic;
pub mod supervisor;
pub mod transparency;

pub use outbox::{DeliverySettings, Endpoints, Secret, Worker, WorkerStats};
pub use periodic::{FirstPass, Periodic};
pub use supervisor::{NoMetrics, Pace, Supervisor, WorkerHealth, WorkerMetrics, WorkerTask};
