//! [`TaxonomyStore`]: the policy documents — versions of the taxonomy and
//! enforcement matrix, and the notice templates.
//!
//! **Commits together.** Publishing a version (or seeding version 1 from
//! the built-in defaults, or adding the categories the configuration
//! names) is one transaction with its audit record; so is saving or
//! deleting a template. Versions are numbered 1, 2, 3, ... and never
//! change: a decision names the version it was made under.
//!
//! **Conflict.** Two publishers racing for one number: the second gets
//! `Conflict` and changes nothing (on PostgreSQL publishers take turns
//! behind an advisory lock, so this is rare). Saving a template beyond the
//! most Warden keeps is a `Conflict`; a policy document too large is
//! `Invalid` (`document`); deleting a template that does not exist is
//! `NotFound`.

use async_trait::async_trait;

use warden_domain::enforcement::EnforcementPolicy;
use warden_domain::Timestamp;

use crate::{
    Actor, CasePolicy, NoticeTemplateInput, NoticeTemplateRecord, StoreResult,
    TaxonomyVersionRecord,
};

/// Taxonomy versions and notice templates.
#[async_trait]
pub trait TaxonomyStore: Send + Sync {
    /// The taxonomy version in force, if one was published.
    async fn taxonomy_current(&self) -> StoreResult<Option<TaxonomyVersionRecord>>;

    /// One taxonomy version.
    async fn taxonomy_version(&self, version: i64) -> StoreResult<Option<TaxonomyVersionRecord>>;

    /// The newest versions first, at most `limit`.
    async fn taxonomy_versions(&self, limit: u32) -> StoreResult<Vec<TaxonomyVersionRecord>>;

    /// Publishes a new version.
    async fn publish_taxonomy(
        &self,
        actor: &Actor,
        policy: &EnforcementPolicy,
        note: &str,
        now: Timestamp,
    ) -> StoreResult<TaxonomyVersionRecord>;

    /// Makes sure a version exists and holds every category of `policy`'s
    /// taxonomy: publishes version 1 from the built-in defaults, or a new
    /// version with the categories the configuration added.
    async fn ensure_taxonomy(
        &self,
        actor: &Actor,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<TaxonomyVersionRecord>;

    /// Every notice template.
    async fn notice_templates(&self) -> StoreResult<Vec<NoticeTemplateRecord>>;

    /// Saves a template (checked by the caller against the variables).
    async fn save_notice_template(
        &self,
        actor: &Actor,
        template: NoticeTemplateInput,
        now: Timestamp,
    ) -> StoreResult<NoticeTemplateRecord>;

    /// Deletes a template.
    async fn delete_notice_template(
        &self,
        actor: &Actor,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<()>;
}
