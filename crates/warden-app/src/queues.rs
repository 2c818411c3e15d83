//! The queue overview: each queue the actor may see, with its depth, the
//! age of its oldest case, its SLA breaches and whether the actor may claim
//! from it. Queues whose cases the actor may not see are not shown at all.

use warden_domain::access::Permission;
use warden_store::QueueStats;

use crate::{Actor, App, CommandResult};

/// One queue as the overview shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOverview {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Open cases.
    pub depth: i64,
    /// Open cases nobody holds.
    pub unassigned: i64,
    /// Age of its oldest open case, in seconds.
    pub oldest_age_seconds: Option<i64>,
    /// Open cases past their resolution deadline.
    pub resolution_breaches: i64,
    /// Untouched cases past their first-touch deadline.
    pub first_touch_breaches: i64,
    /// Whether the actor may claim from it.
    pub claimable: bool,
}

impl App {
    /// The queues the actor may see, in routing order, with their counts.
    pub async fn queue_overview(&self, actor: &Actor) -> CommandResult<Vec<QueueOverview>> {
        let now = self.now();
        let policy = self.policy();
        let scope = self.scope(actor);
        let stats = self.store().queue_stats(&scope, now).await?;
        Ok(policy
            .router()
            .queues()
            .iter()
            .filter(|queue| scope.contains(&queue.name))
            .map(|queue| {
                let stat = stats.iter().find(|s| s.queue == queue.name);
                let admitted = actor
                    .principal()
                    .is_none_or(|principal| queue.admits_principal(principal));
                QueueOverview {
                    name: queue.name.clone(),
                    description: queue.description.clone(),
                    depth: stat.map_or(0, |s| s.depth),
                    unassigned: stat.map_or(0, |s| s.unassigned),
                    oldest_age_seconds: stat
                        .and_then(|s| s.oldest_opened_at)
                        .map(|t| (now - t).num_seconds()),
                    resolution_breaches: stat.map_or(0, |s| s.resolution_breaches),
                    first_touch_breaches: stat.map_or(0, |s| s.first_touch_breaches),
                    claimable: actor.may(Permission::CaseWork) && admitted,
                }
            })
            .collect())
    }

    /// The counts of every queue with open cases that the actor may see.
    pub async fn queue_stats(&self, actor: &Actor) -> CommandResult<Vec<QueueStats>> {
        Ok(self
            .store()
            .queue_stats(&self.scope(actor), self.now())
            .await?)
    }
}
