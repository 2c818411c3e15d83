//! The outbox as people see it: its rows (by default the dead letters),
//! replaying one, and the platform's callbacks that confirm or refuse a
//! delivery. Sending is the outbox worker's (`warden-workers`).

use warden_domain::access::Permission;
use warden_store::{DeliveryCounts, DeliveryFilter, DeliveryRecord};

use crate::{Actor, App, CommandResult};

/// What the platform says it did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformOutcome {
    /// It applied the action (or took the notice).
    Applied,
    /// It could not.
    Failed,
}

impl PlatformOutcome {
    /// Reads `applied` or `failed`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "applied" => Ok(Self::Applied),
            "failed" => Ok(Self::Failed),
            other => Err(format!("{other:?}: expected applied or failed")),
        }
    }
}

/// The platform's word on one delivery, from an authenticated callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfirmation {
    /// The delivery's idempotency key.
    pub idempotency_key: String,
    /// Applied or failed.
    pub outcome: PlatformOutcome,
    /// What the platform added.
    pub detail: Option<String>,
}

impl App {
    /// Outbox rows, by id.
    pub async fn deliveries(
        &self,
        actor: &Actor,
        filter: &DeliveryFilter,
    ) -> CommandResult<Vec<DeliveryRecord>> {
        actor.require(Permission::DeliveryAdmin)?;
        Ok(self.store().list_deliveries(filter).await?)
    }

    /// Sends a dead or failed delivery again.
    pub async fn replay_delivery(&self, actor: &Actor, id: i64) -> CommandResult<DeliveryRecord> {
        actor.require(Permission::DeliveryAdmin)?;
        Ok(self
            .store()
            .replay_delivery(&actor.audit(), id, self.now())
            .await?)
    }

    /// Records the platform's word on a delivery. The transport has
    /// authenticated the callback (its signature) and bounded its size
    /// before; the store keeps the first `DELIVERY_DETAIL_CHARS_MAX`
    /// characters of the detail.
    pub async fn confirm_delivery(
        &self,
        confirmation: DeliveryConfirmation,
    ) -> CommandResult<DeliveryRecord> {
        Ok(self
            .store()
            .confirm_delivery(
                &confirmation.idempotency_key,
                confirmation.outcome == PlatformOutcome::Applied,
                confirmation.detail.as_deref(),
                self.now(),
            )
            .await?)
    }

    /// Outbox rows by status, for metrics.
    pub async fn delivery_counts(&self) -> CommandResult<DeliveryCounts> {
        Ok(self.store().delivery_counts().await?)
    }
}
