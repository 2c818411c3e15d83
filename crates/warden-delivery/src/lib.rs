//! Delivering enforcement to the platform.
//!
//! [`Worker`] drains the store's transactional outbox: it leases due rows,
//! POSTs each to the endpoint configured for its action type, signed with
//! HMAC-SHA256 over `<timestamp>.<body>` and carrying an idempotency key,
//! and records the outcome. Failures are retried with exponential backoff
//! and jitter; after `attempts_max` failures a row becomes a dead letter
//! that an operator replays. A worker that dies mid-send loses nothing: its
//! lease runs out and the row is sent again with the same key, so the
//! platform, which deduplicates by key, applies it once.
//!
//! [`transparency`] submits DSA statements of reasons in batches.
#![deny(missing_docs)]

pub mod transparency;
mod worker;

pub use worker::{DeliverySettings, Endpoints, Secret, Worker, WorkerStats};
