//! [`AccountStore`]: users, API tokens and console sessions. Secrets are
//! stored only as hashes.
//!
//! **Commits together.** Each change is one transaction with its audit
//! record: creating a user with their teams; disabling a user with the end
//! of their sessions and the release of the cases they hold; a new
//! password with the end of their sessions and their lockout; a sign-in
//! attempt with the failure count and any lockout. Sessions are not
//! audited (their sign-in is).
//!
//! **Conflict and NotFound.** A user name already taken, a token already
//! revoked: `Conflict`. A user or token that does not exist: `NotFound`.
//! Teams that are not codes, or too many: `Invalid` (`teams`). Nothing
//! changed in each case. A name holding NUL names nobody: `user_by_name`
//! answers `None`, `set_user_disabled` and `set_password` `NotFound`,
//! without asking the database.

use async_trait::async_trait;
use chrono::Duration;

use warden_domain::access::{Role, Scope};
use warden_domain::Timestamp;

use crate::{Actor, SessionRecord, StoreResult, TokenRecord, UserRecord};

/// Users, tokens and sessions.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates a user.
    async fn create_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Creates a user in `teams` (checked codes), in one transaction.
    async fn create_user_with_teams(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Sets a user's teams (checked codes), replacing the ones they had.
    async fn set_user_teams(
        &self,
        actor: &Actor,
        name: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Records in the audit log a sign-in refused without counting towards
    /// the lockout (unknown user, disabled, locked), with the real reason.
    async fn record_sign_in_refused(
        &self,
        name: &str,
        user_id: Option<i64>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// A user by name.
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRecord>>;

    /// A user by id.
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRecord>>;

    /// Every user, by name.
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;

    /// Disables or enables a user; disabling ends their sessions and leases.
    async fn set_user_disabled(
        &self,
        actor: &Actor,
        name: &str,
        disabled: bool,
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Sets a user's password hash, clears any lockout, and ends their sessions.
    async fn set_password(
        &self,
        actor: &Actor,
        name: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Records a sign-in attempt; after `failures_max` failures in a row the
    /// account is locked for `lockout`.
    async fn record_sign_in(
        &self,
        user_id: i64,
        success: bool,
        failures_max: u32,
        lockout: Duration,
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Stores a new API token (its hash only); the actor is recorded as
    /// the one who minted it (`system` when no user is acting).
    #[allow(clippy::too_many_arguments)]
    async fn create_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        scope: Scope,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<TokenRecord>;

    /// The live token with this hash, and its user.
    async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(TokenRecord, UserRecord)>>;

    /// Revokes a token.
    async fn revoke_token(
        &self,
        actor: &Actor,
        token_id: i64,
        now: Timestamp,
    ) -> StoreResult<TokenRecord>;

    /// Every token of a user, or of everyone.
    async fn list_tokens(&self, user_id: Option<i64>) -> StoreResult<Vec<TokenRecord>>;

    /// Starts a console session (and sweeps expired ones).
    async fn create_session(
        &self,
        user_id: i64,
        session_hash: &str,
        csrf_token: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// The live session with this hash, and its user.
    async fn session(
        &self,
        session_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionRecord, UserRecord)>>;

    /// Ends a session.
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()>;
}
