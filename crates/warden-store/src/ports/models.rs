//! [`ModelStore`]: classifier models, versioned — numbered versions per
//! name, at most one live and one shadow, promotion.
//!
//! **Commits together.** Saving a version as live or shadow retires the
//! version that held that status, in the same transaction, with its audit
//! record; promoting retires the live one the same way.
//!
//! **Conflict, Invalid, NotFound.** Two saves racing for one number: the
//! second gets `Conflict` and changes nothing. A bad name, kind, status,
//! metrics, note or size is `Invalid` naming the field. Promoting a
//! version that does not exist is `NotFound`. Versions are never deleted
//! or changed except in status; their bytes are checked against their
//! SHA-256 whenever they are read (a mismatch is a database error).
//!
//! **Training data.** `decision_judgements` reads analysts' decisions with
//! the texts they judged, for learning from decisions; it changes nothing.

use async_trait::async_trait;

use warden_classifier::Judgement;
use warden_domain::{SubjectRef, Timestamp};

use crate::{Actor, ModelVersionRecord, NewModelVersion, StoreResult, StoredModel};

/// Versioned classifier models.
#[async_trait]
pub trait ModelStore: Send + Sync {
    /// Saves the next version of a model as shadow or live, retiring the
    /// version that held that status, in one transaction with its audit
    /// record.
    async fn save_model_version(
        &self,
        actor: &Actor,
        model: NewModelVersion,
        now: Timestamp,
    ) -> StoreResult<ModelVersionRecord>;

    /// The live version of a model, with its bytes.
    async fn live_model(&self, name: &str) -> StoreResult<Option<StoredModel>>;

    /// The shadow version of a model, with its bytes.
    async fn shadow_model(&self, name: &str) -> StoreResult<Option<StoredModel>>;

    /// One version of a model, with its bytes.
    async fn model_version(&self, name: &str, version: i64) -> StoreResult<Option<StoredModel>>;

    /// Versions, newest first: of one model, or of all (by name) when
    /// `name` is `None`; at most `limit` (capped at the page size).
    async fn model_versions(
        &self,
        name: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ModelVersionRecord>>;

    /// The live version of each model (one per name, by name), at most
    /// `limit` (capped at the page size); without their bytes.
    async fn live_model_versions(&self, limit: u32) -> StoreResult<Vec<ModelVersionRecord>>;

    /// Decisions made in `category` or on cases of `category`, at or
    /// after `since`, newest first, at most `limit` (capped at
    /// `warden_classifier::limits::FEEDBACK_DECISIONS_MAX`), superseded and
    /// reversed ones included (and marked), each with its subject's text
    /// and the text of the newest event about the subject at or before
    /// the decision. `warden_classifier::examples_from_decisions` chooses
    /// the examples among them.
    async fn decision_judgements(
        &self,
        category: &str,
        since: Option<Timestamp>,
        limit: u32,
    ) -> StoreResult<Vec<Judgement>>;

    /// The text a classifier scores for `subject`: its own text, else the
    /// `text` of the newest event about it (as decisions are labelled, see
    /// `warden_classifier::feedback`); `None` when it has neither.
    async fn judged_text(&self, subject: &SubjectRef) -> StoreResult<Option<String>>;

    /// The shadow version of each model (one per name, by name), at most
    /// `limit` (capped at the page size); without their bytes.
    async fn shadow_model_versions(&self, limit: u32) -> StoreResult<Vec<ModelVersionRecord>>;

    /// Makes a version live, retiring the live one; a version already live
    /// is returned unchanged.
    async fn promote_model(
        &self,
        actor: &Actor,
        name: &str,
        version: i64,
        now: Timestamp,
    ) -> StoreResult<ModelVersionRecord>;
}
