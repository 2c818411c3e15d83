//! The policy in force: one taxonomy version and the configured queues,
//! held as a snapshot that intake, routing and decisions all read, and
//! swapped whole when a new version is published.
//!
//! There is one taxonomy. Before any version is published it is the
//! built-in one with the configuration's categories (what the store would
//! publish as version 1); afterwards it is the newest published version.
//! Publishing through this server swaps the snapshot at once
//! ([`crate::App::publish_taxonomy`]); a version another server published
//! on the same database is picked up by [`crate::App::follow_published_policy`],
//! which looks for a newer version every few seconds. A snapshot is only
//! ever replaced by one of a higher version, so a slow look never puts an
//! older version back.

use std::sync::Arc;

use tokio::sync::watch;

use warden_domain::enforcement::EnforcementPolicy;
use warden_domain::routing::Router;
use warden_domain::taxonomy::Taxonomy;
use warden_store::{CasePolicy, TaxonomyVersionRecord};

/// The policy in force at one moment: never changed, only replaced.
#[derive(Debug, Clone)]
pub struct PolicySnapshot {
    version: i64,
    enforcement: EnforcementPolicy,
    cases: CasePolicy,
}

impl PolicySnapshot {
    /// The policy before any version is published: the built-in enforcement
    /// defaults over the configured taxonomy (version 0).
    pub fn configured(policy: CasePolicy) -> Self {
        Self {
            version: 0,
            enforcement: EnforcementPolicy::default_for(&policy.taxonomy),
            cases: policy,
        }
    }

    /// A published version with the configured queues.
    pub fn published(version: &TaxonomyVersionRecord, router: Router) -> Self {
        Self {
            version: version.version,
            cases: CasePolicy {
                taxonomy: version.policy.taxonomy(),
                router,
            },
            enforcement: version.policy.clone(),
        }
    }

    /// The taxonomy version number; 0 before any is published.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The version's document: categories, reason codes, the matrix.
    pub fn enforcement(&self) -> &EnforcementPolicy {
        &self.enforcement
    }

    /// The taxonomy and the queues, as the store places cases by them.
    pub fn case_policy(&self) -> &CasePolicy {
        &self.cases
    }

    /// Categories: what intake accepts and decisions name.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.cases.taxonomy
    }

    /// Queues and routing.
    pub fn router(&self) -> &Router {
        &self.cases.router
    }
}

/// Where the snapshot in force is kept: read by every command, replaced by
/// publishing and by following the database.
#[derive(Debug)]
pub struct PolicyCell {
    current: watch::Sender<Arc<PolicySnapshot>>,
}

impl PolicyCell {
    /// A cell holding `snapshot`.
    pub fn new(snapshot: PolicySnapshot) -> Self {
        let (current, _) = watch::channel(Arc::new(snapshot));
        Self { current }
    }

    /// The snapshot in force now.
    pub fn current(&self) -> Arc<PolicySnapshot> {
        self.current.borrow().clone()
    }

    /// Puts `version` in force when it is newer than the snapshot held;
    /// returns whether it did. The queues stay as configured.
    pub fn offer(&self, version: &TaxonomyVersionRecord) -> bool {
        self.current.send_if_modified(|held| {
            if version.version <= held.version {
                return false;
            }
            let router = held.router().clone();
            *held = Arc::new(PolicySnapshot::published(version, router));
            true
        })
    }

    /// A receiver that sees every swap (for workers that cache what they
    /// derive from the policy).
    pub fn subscribe(&self) -> watch::Receiver<Arc<PolicySnapshot>> {
        self.current.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_domain::taxonomy::Category;

    fn version(number: i64, extra: Option<&str>) -> TaxonomyVersionRecord {
        let mut taxonomy = Taxonomy::default();
        if let Some(code) = extra {
            taxonomy.insert(Category {
                code: code.into(),
                name: code.into(),
                severity: warden_domain::case::Severity::High,
            });
        }
        TaxonomyVersionRecord {
            version: number,
            policy: EnforcementPolicy::default_for(&taxonomy),
            note: "test".into(),
            created_by: "system".into(),
            created_at: chrono::DateTime::default(),
        }
    }

    #[test]
    fn only_newer_versions_are_put_in_force() {
        let cell = PolicyCell::new(PolicySnapshot::configured(CasePolicy::default()));
        assert_eq!(cell.current().version(), 0);
        assert!(cell.current().taxonomy().get("crypto_scam").is_none());
        assert!(cell.offer(&version(2, Some("crypto_scam"))));
        assert_eq!(cell.current().version(), 2);
        assert!(cell.current().taxonomy().get("crypto_scam").is_some());
        assert!(
            !cell.offer(&version(1, None)),
            "an older version never returns"
        );
        assert!(!cell.offer(&version(2, None)), "nor the same one again");
        assert!(cell.current().taxonomy().get("crypto_scam").is_some());
    }

    #[test]
    fn the_configured_policy_is_what_version_one_would_be() {
        let snapshot = PolicySnapshot::configured(CasePolicy::default());
        let codes: Vec<_> = snapshot.taxonomy().codes().collect();
        let published: Vec<_> = snapshot
            .enforcement()
            .categories()
            .map(|c| c.code.as_str())
            .collect();
        assert_eq!(codes, published);
    }
}
