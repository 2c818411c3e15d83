//! Taxonomy versions: reading them, publishing one — which puts it in
//! force at once on this server — and following the versions other servers
//! on the same database publish.
//!
//! There is one taxonomy, the [`PolicySnapshot`](crate::PolicySnapshot) in
//! force: intake checks report reasons and signal categories against it,
//! routing places cases by it, and decisions are planned by the version the
//! store reads in their transaction (the same version, or a newer one that
//! this server has not seen yet).

use std::time::Duration as StdDuration;

use tokio::task::JoinHandle;

use warden_domain::access::Permission;
use warden_domain::enforcement::EnforcementPolicy;
use warden_domain::limits::POLICY_DOCUMENT_BYTES_MAX;
use warden_domain::FieldErrors;
use warden_store::TaxonomyVersionRecord;

use crate::limits::{POLICY_POLL_MILLIS_MAX, POLICY_POLL_MILLIS_MIN};
use crate::{Actor, App, CommandError, CommandResult, Reason};

/// Publish a new taxonomy version.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishTaxonomyCommand {
    /// The document, checked.
    pub policy: EnforcementPolicy,
    /// What changed and why.
    pub note: Reason,
}

impl PublishTaxonomyCommand {
    /// Checks a document and a note, naming every field at fault (the
    /// document's under `document`).
    pub fn parse(document: &serde_json::Value, note: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let note = errors.take(
            "note",
            Reason::parse(note).map_err(|_| "is required: say what changed and why".to_string()),
        );
        let policy = if document.to_string().len() > POLICY_DOCUMENT_BYTES_MAX {
            errors.push(
                "document",
                format!("must be at most {POLICY_DOCUMENT_BYTES_MAX} bytes"),
            );
            None
        } else {
            match EnforcementPolicy::from_json(document) {
                Ok(policy) => Some(policy),
                Err(found) => {
                    errors
                        .0
                        .extend(found.0.into_iter().map(|e| e.under("document")));
                    None
                }
            }
        };
        match (policy, note) {
            (Some(policy), Some(note)) if errors.is_empty() => Ok(Self { policy, note }),
            _ => Err(errors),
        }
    }
}

/// How often a server looks for a version published elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyPollInterval(StdDuration);

impl PolicyPollInterval {
    /// Checks an interval in milliseconds against its limits.
    pub fn from_millis(millis: u64) -> Result<Self, String> {
        if !(POLICY_POLL_MILLIS_MIN..=POLICY_POLL_MILLIS_MAX).contains(&millis) {
            return Err(format!(
                "must be from {POLICY_POLL_MILLIS_MIN} to {POLICY_POLL_MILLIS_MAX} milliseconds"
            ));
        }
        Ok(Self(StdDuration::from_millis(millis)))
    }

    /// The interval.
    pub fn get(self) -> StdDuration {
        self.0
    }
}

impl App {
    /// The version in force in the database; version 1 is published from
    /// the built-in defaults over the configured taxonomy when none is yet.
    /// The snapshot follows.
    pub async fn taxonomy_in_force(&self) -> CommandResult<TaxonomyVersionRecord> {
        let current = match self.store().taxonomy_current().await? {
            Some(version) => version,
            None => {
                let policy = self.policy();
                self.store()
                    .ensure_taxonomy(&Actor::System.audit(), policy.case_policy(), self.now())
                    .await?
            }
        };
        self.policy_cell().offer(&current);
        Ok(current)
    }

    /// Makes sure a published version holds every category the
    /// configuration names (publishing one when needed), and puts the
    /// newest version in force. `serve` calls it at start.
    pub async fn publish_configured_categories(&self) -> CommandResult<TaxonomyVersionRecord> {
        let policy = self.policy();
        let version = self
            .store()
            .ensure_taxonomy(&Actor::System.audit(), policy.case_policy(), self.now())
            .await?;
        self.policy_cell().offer(&version);
        Ok(version)
    }

    /// Versions, newest first, at most `limit`.
    pub async fn taxonomy_versions(&self, limit: u32) -> CommandResult<Vec<TaxonomyVersionRecord>> {
        Ok(self.store().taxonomy_versions(limit).await?)
    }

    /// One version.
    pub async fn taxonomy_version(&self, version: i64) -> CommandResult<TaxonomyVersionRecord> {
        self.store()
            .taxonomy_version(version)
            .await?
            .ok_or_else(|| CommandError::NotFound(format!("taxonomy version {version} not found")))
    }

    /// Publishes a new version and puts it in force here at once; other
    /// servers on the database follow within their poll interval.
    pub async fn publish_taxonomy(
        &self,
        actor: &Actor,
        command: PublishTaxonomyCommand,
    ) -> CommandResult<TaxonomyVersionRecord> {
        actor.require(Permission::PolicyWrite)?;
        let record = self
            .store()
            .publish_taxonomy(
                &actor.audit(),
                &command.policy,
                command.note.as_str(),
                self.now(),
            )
            .await?;
        if self.policy_cell().offer(&record) {
            tracing::info!(
                version = record.version,
                "taxonomy version published and in force"
            );
        }
        Ok(record)
    }

    /// Reads the newest published version and puts it in force when it is
    /// newer than the one held; returns whether it did.
    pub async fn refresh_policy(&self) -> CommandResult<bool> {
        match self.store().taxonomy_current().await? {
            Some(version) => {
                let swapped = self.policy_cell().offer(&version);
                if swapped {
                    tracing::info!(version = version.version, "taxonomy version in force");
                }
                Ok(swapped)
            }
            None => Ok(false),
        }
    }

    /// Starts a task that looks for a newer published version every
    /// `interval`, so that a version published by another server on the
    /// same database is in force here within one interval. It runs until
    /// aborted; a failed look is logged and the next one tried.
    pub fn follow_published_policy(&self, interval: PolicyPollInterval) -> JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval.get());
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = app.refresh_policy().await {
                    tracing::warn!(error = %error.chain(), "cannot read the newest taxonomy version; trying again");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publication_reports_every_field() {
        let refused =
            PublishTaxonomyCommand::parse(&serde_json::json!({"categories": 5}), " ").unwrap_err();
        assert_eq!(refused.0[0].field, "note");
        assert!(refused.0[1..]
            .iter()
            .all(|e| e.field.starts_with("document")));
        assert!(refused.0.len() >= 2);
    }

    #[test]
    fn poll_intervals_are_bounded() {
        assert!(PolicyPollInterval::from_millis(POLICY_POLL_MILLIS_MIN).is_ok());
        assert!(PolicyPollInterval::from_millis(POLICY_POLL_MILLIS_MIN - 1).is_err());
        assert!(PolicyPollInterval::from_millis(POLICY_POLL_MILLIS_MAX).is_ok());
        assert!(PolicyPollInterval::from_millis(POLICY_POLL_MILLIS_MAX + 1).is_err());
    }
}
