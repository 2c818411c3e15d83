//! What operators and monitoring read: whether the database answers, the
//! counts metrics export, and how the detection rules are doing.

use chrono::Duration;

use warden_domain::routing::QueueScope;
use warden_store::{Backend, QueueStats, RuleStats};

use crate::{App, CommandError, CommandResult};

impl App {
    /// The store's backend when the database answers; unavailable when not.
    pub async fn readiness(&self) -> CommandResult<Backend> {
        match self.store().ping().await {
            Ok(()) => Ok(self.store().backend()),
            Err(error) => {
                tracing::warn!(%error, "readiness check failed");
                Err(CommandError::Unavailable(
                    "the database does not answer".into(),
                ))
            }
        }
    }

    /// Every queue's counts (for metrics: no scope applies).
    pub async fn all_queue_stats(&self) -> CommandResult<Vec<QueueStats>> {
        Ok(self
            .store()
            .queue_stats(&QueueScope::Every, self.now())
            .await?)
    }

    /// Hits per detection rule over the last `days` days, and the detection
    /// worker's position in the event log (the `seq` of the last event it
    /// evaluated).
    pub async fn rule_activity(&self, days: i64) -> CommandResult<(Vec<RuleStats>, i64)> {
        let since = self.now() - Duration::days(days);
        let stats = self.store().rule_stats(since).await?;
        let cursor = self.store().detection_cursor().await?;
        Ok((stats, cursor.seq))
    }
}
