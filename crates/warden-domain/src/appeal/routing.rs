//! Where appeal cases go: the `appeals` queue, with its own SLA targets,
//! or — when a lead routes a category to a specialist team — that team's
//! restricted queue.

use chrono::Duration;

use crate::access::Role;
use crate::case::Severity;
use crate::escalation::EscalationPolicy;
use crate::ids::parse_code;
use crate::limits::APPEAL_ROUTES_MAX;
use crate::routing::{QueueDefinition, Router};
use crate::sla::{SlaPolicy, SlaTarget};

/// The queue appeals go to unless a route says otherwise.
pub const APPEALS_QUEUE: &str = "appeals";

/// The `appeals` queue as a new installation has it: it takes no report
/// cases (appeal cases are put there, never routed), admits the roles that
/// decide cases, and has its own SLA targets, tighter where the decision
/// was more severe (a ban contested is answered before a label).
pub fn appeals_queue_definition() -> QueueDefinition {
    let mut sla = SlaPolicy::default();
    let targets = [
        (Severity::Low, 48, 7 * 24),
        (Severity::Medium, 24, 5 * 24),
        (Severity::High, 8, 48),
        (Severity::Critical, 1, 24),
    ];
    for (severity, first_touch_hours, resolution_hours) in targets {
        let target = SlaTarget {
            first_touch: Duration::hours(first_touch_hours),
            resolution: Duration::hours(resolution_hours),
        };
        // The targets above are positive and ordered; set_target refuses
        // nothing else.
        let _ = sla.set_target(severity, target);
    }
    QueueDefinition {
        description: "Appeals of decisions (DSA Art. 20): reviewed by someone other than the original decider, with at least their role.".into(),
        roles: vec![Role::Associate, Role::Analyst, Role::Lead],
        sla,
        accepts_new: false,
        ..QueueDefinition::catch_all(APPEALS_QUEUE)
    }
}

/// A lead's route: appeals of decisions in `category` go to `team`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRoute {
    /// A taxonomy code.
    pub category: String,
    /// A specialist team (see [`EscalationPolicy`]).
    pub team: String,
}

/// The appeal routing in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealRouting {
    queue: String,
    /// (category, team, the team's queue).
    routes: Vec<(String, String, String)>,
}

impl Default for AppealRouting {
    fn default() -> Self {
        Self {
            queue: APPEALS_QUEUE.into(),
            routes: Vec::new(),
        }
    }
}

impl AppealRouting {
    /// Routing to `queue` by default and by `routes` for their categories.
    /// Refuses a queue that is not configured, a category routed twice, a
    /// team that does not exist, and more than [`APPEAL_ROUTES_MAX`] routes.
    pub fn new(
        queue: &str,
        routes: &[AppealRoute],
        teams: &EscalationPolicy,
        router: &Router,
    ) -> Result<Self, String> {
        if router.queue(queue).is_none() {
            return Err(format!(
                "appeals.queue names {queue:?}, which is not a queue"
            ));
        }
        if routes.len() > APPEAL_ROUTES_MAX {
            return Err(format!(
                "appeals.routes has more than {APPEAL_ROUTES_MAX} routes"
            ));
        }
        let mut resolved: Vec<(String, String, String)> = Vec::with_capacity(routes.len());
        for route in routes {
            parse_code(&route.category)
                .map_err(|e| format!("appeals.routes: category {:?} {e}", route.category))?;
            if resolved.iter().any(|(c, _, _)| *c == route.category) {
                return Err(format!(
                    "appeals.routes: category {:?} is routed twice",
                    route.category
                ));
            }
            let team = teams.team(&route.team).ok_or_else(|| {
                format!(
                    "appeals.routes.{}: no specialist team named {:?}",
                    route.category, route.team
                )
            })?;
            if router.queue(&team.queue).is_none() {
                return Err(format!(
                    "appeals.routes.{}: team {:?} has no queue {:?}",
                    route.category, team.name, team.queue
                ));
            }
            resolved.push((
                route.category.clone(),
                team.name.clone(),
                team.queue.clone(),
            ));
        }
        Ok(Self {
            queue: queue.to_string(),
            routes: resolved,
        })
    }

    /// The queue an appeal of a decision in `category` goes to.
    pub fn route(&self, category: &str) -> &str {
        self.routes
            .iter()
            .find(|(c, _, _)| c == category)
            .map_or(self.queue.as_str(), |(_, _, queue)| queue.as_str())
    }

    /// The team a category is routed to, if any.
    pub fn team_for(&self, category: &str) -> Option<&str> {
        self.routes
            .iter()
            .find(|(c, _, _)| c == category)
            .map(|(_, team, _)| team.as_str())
    }

    /// The default queue.
    pub fn queue(&self) -> &str {
        &self.queue
    }
}
