//! [`OutboxStore`]: the transactional outbox of deliveries — leasing due
//! rows to workers, recording what happened to them and what follows for
//! their actions, the platform's callbacks, dead letters and replays.
//!
//! **Commits together.** Leasing a batch marks every row of it `sending`
//! to one worker. Finishing a batch records every row's outcome, moves
//! their actions on (applied ones `delivered`, lifted ones `expired`,
//! dead applies `failed`) and writes one audit record. A callback or a
//! replay changes its row, its action and writes its audit record.
//!
//! **Order and leases.** Rows of one action go out in the order they were
//! written (apply before lift or reverse). A leased row is leased to one
//! worker at a time; a lease that runs out (a crashed worker) makes the
//! row due again, to be resent with the same idempotency key. An outcome
//! for a row no longer leased (cancelled, already finished) changes
//! nothing.
//!
//! **Conflict and NotFound.** A callback for an unknown key is
//! `NotFound`; one for a cancelled (never sent) delivery, or a replay of
//! a delivery that is neither dead nor failed, is `Conflict`; nothing
//! changed.

use async_trait::async_trait;
use chrono::Duration;

use warden_domain::Timestamp;

use crate::{
    Actor, DeliveryCounts, DeliveryFilter, DeliveryJob, DeliveryOutcome, DeliveryRecord,
    StoreResult,
};

/// The outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Leases up to `limit` due outbox rows to `worker` for `lease`.
    async fn claim_deliveries(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<DeliveryJob>>;

    /// Records what happened to leased rows, and what follows for their actions.
    async fn finish_deliveries(
        &self,
        outcomes: Vec<DeliveryOutcome>,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// The platform's callback: it applied (or failed to apply) a delivery.
    async fn confirm_delivery(
        &self,
        idempotency_key: &str,
        applied: bool,
        detail: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<DeliveryRecord>;

    /// Outbox rows, by id.
    async fn list_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Vec<DeliveryRecord>>;

    /// Sends a dead or failed delivery again.
    async fn replay_delivery(
        &self,
        actor: &Actor,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<DeliveryRecord>;

    /// Rows by status.
    async fn delivery_counts(&self) -> StoreResult<DeliveryCounts>;
}
