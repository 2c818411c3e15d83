//! [`DetectionStore`]: what the detection worker reads and writes — rule
//! versions, its cursor over the event log, events with their context, and
//! applying hits.
//!
//! **Commits together.** `apply_detection` stores a batch's hits, applies
//! their live outcomes (signals opening or joining cases, labels,
//! automated actions), moves the cursor and writes one audit record, in
//! one transaction. Hits are unique per (rule, version, event) and their
//! signals have stable ids, so a crash re-runs a batch without doubling
//! anything.
//!
//! **`false`.** `apply_detection` answers `false`, changing nothing, when
//! the cursor is no longer at `expected_cursor`: another worker (another
//! server on the same PostgreSQL) applied the batch first.

use async_trait::async_trait;

use warden_domain::Timestamp;

use crate::{Actor, CasePolicy, DetectionEvent, EventHits, EventPosition, StoreResult};

/// The detection worker's storage.
#[async_trait]
pub trait DetectionStore: Send + Sync {
    /// The version number of a rule's definition: the stored one when the
    /// hash is known, else the next one, recorded and audited.
    async fn record_rule_version(
        &self,
        actor: &Actor,
        rule_id: &str,
        source_hash: &str,
        source: &str,
        mode: &str,
        now: Timestamp,
    ) -> StoreResult<i64>;

    /// The detection worker's position in the event log: the last event
    /// it evaluated.
    async fn detection_cursor(&self) -> StoreResult<EventPosition>;

    /// Up to `limit` events after `after`, in [`EventPosition`] order, with
    /// their context; only events that occurred at or after `since` when
    /// given. Only events no later commit can precede: on PostgreSQL, those
    /// of transactions below the oldest one still running. Events committed
    /// before the call are in it, unless it is full: a short batch waits
    /// (up to `DETECTION_WAIT_MS_MAX`) for older transactions still running.
    async fn detection_events(
        &self,
        after: EventPosition,
        since: Option<Timestamp>,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<DetectionEvent>>;

    /// Stores hits and applies live outcomes (cases, labels, automated
    /// actions), then moves the cursor from `expected_cursor` to
    /// `new_cursor`, in one transaction. Returns false, changing nothing,
    /// when another worker moved the cursor first.
    async fn apply_detection(
        &self,
        results: Vec<EventHits>,
        expected_cursor: EventPosition,
        new_cursor: EventPosition,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<bool>;
}
