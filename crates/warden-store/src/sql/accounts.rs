//! The SQL of [`AccountStore`]: users, API tokens and console sessions.
//! Secrets are stored only as hashes.

use async_trait::async_trait;
use chrono::Duration;
use serde_json::{json, Value};
use sqlx::{Any, Transaction};

use warden_domain::access::{Role, Scope};
use warden_domain::Timestamp;

use super::wrappers::{
    records, DbSessionUser, DbToken, DbTokenUser, DbUser, Wrapped, SESSION_USER_COLUMNS,
    TOKEN_COLUMNS, TOKEN_USER_COLUMNS, USER_COLUMNS,
};
use super::{holds_nul, ms, AuditDraft, Backend, SqlStore};
use crate::{AccountStore, Actor, SessionRecord, StoreError, StoreResult, TokenRecord, UserRecord};

use crate::limits::USERS_LISTED_MAX;

fn user_state(user: &UserRecord) -> Value {
    json!({"name": user.name, "role": user.role.as_str(), "disabled": user.disabled, "teams": user.teams})
}

/// How a change names its user.
enum UserKey<'a> {
    Name(&'a str),
    Id(i64),
}

/// Locks and reads a user.
async fn locked_user(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    key: UserKey<'_>,
) -> StoreResult<Option<UserRecord>> {
    let lock = backend.for_update();
    let column = match key {
        UserKey::Name(_) => "name",
        UserKey::Id(_) => "id",
    };
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1{lock}");
    let query = sqlx::query_as::<_, DbUser>(&sql);
    let query = match key {
        UserKey::Name(name) => query.bind(name.to_string()),
        UserKey::Id(id) => query.bind(id),
    };
    Ok(query
        .fetch_optional(&mut **tx)
        .await?
        .map(Wrapped::into_record))
}

/// Teams as stored: a JSON array of codes.
fn teams_text(teams: &[String]) -> String {
    Value::from(teams.to_vec()).to_string()
}

/// Checks teams at the store's edge too: codes, sorted, bounded.
fn checked_teams(teams: &[String]) -> StoreResult<Vec<String>> {
    warden_domain::access::parse_teams(teams).map_err(|reason| StoreError::invalid("teams", reason))
}

impl SqlStore {
    /// Creates a user in `teams`, with its audit record.
    async fn insert_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        let teams = checked_teams(teams)?;
        let mut tx = self.writer.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (name, role, password_hash, disabled, created_at, failed_sign_ins, teams) VALUES ($1, $2, $3, 0, $4, 0, $5) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(ms(now))
        .bind(teams_text(&teams))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Err(StoreError::Conflict(format!(
                "a user named {name:?} already exists"
            )));
        };
        let user = UserRecord {
            id,
            name: name.to_string(),
            role,
            password_hash: password_hash.to_string(),
            disabled: false,
            created_at: now,
            failed_sign_ins: 0,
            locked_until: None,
            teams,
        };
        let draft = AuditDraft::new(
            actor,
            "user.create",
            "user",
            name,
            Value::Null,
            user_state(&user),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(user)
    }
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn create_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        self.insert_user(actor, name, role, password_hash, &[], now)
            .await
    }

    async fn create_user_with_teams(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        self.insert_user(actor, name, role, password_hash, teams, now)
            .await
    }

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        if holds_nul(name) {
            // No user is named so; asking PostgreSQL would fail, not answer.
            return Ok(None);
        }
        Ok(sqlx::query_as::<_, DbUser>(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.reader)
        .await?
        .map(Wrapped::into_record))
    }

    async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRecord>> {
        Ok(
            sqlx::query_as::<_, DbUser>(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.reader)
                .await?
                .map(Wrapped::into_record),
        )
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query_as::<_, DbUser>(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY name LIMIT $1"
        ))
        .bind(USERS_LISTED_MAX)
        .fetch_all(&self.reader)
        .await?;
        Ok(records(rows))
    }

    async fn set_user_disabled(
        &self,
        actor: &Actor,
        name: &str,
        disabled: bool,
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        if holds_nul(name) {
            return Err(StoreError::NotFound(format!("user {name:?}")));
        }
        let mut tx = self.writer.begin().await?;
        let before = locked_user(&mut tx, self.backend, UserKey::Name(name))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {name:?}")))?;
        sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        if disabled {
            // A disabled user's sessions end and the cases they hold go back
            // to their queues at once.
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(before.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE cases SET assignee = NULL, assignee_id = NULL, lease_expires_at = NULL, held = 0, hold_reason = NULL, version = version + 1, updated_at = $2 WHERE assignee_id = $1")
                .bind(before.id)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        let after = UserRecord {
            disabled,
            ..before.clone()
        };
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        let draft = AuditDraft::new(
            actor,
            action,
            "user",
            name,
            user_state(&before),
            user_state(&after),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn set_user_teams(
        &self,
        actor: &Actor,
        name: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        let teams = checked_teams(teams)?;
        let mut tx = self.writer.begin().await?;
        let before = locked_user(&mut tx, self.backend, UserKey::Name(name))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {name:?}")))?;
        sqlx::query("UPDATE users SET teams = $1 WHERE id = $2")
            .bind(teams_text(&teams))
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        let after = UserRecord {
            teams,
            ..before.clone()
        };
        let draft = AuditDraft::new(
            actor,
            "user.teams",
            "user",
            name,
            user_state(&before),
            user_state(&after),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn record_sign_in_refused(
        &self,
        name: &str,
        user_id: Option<i64>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        // The name is what a stranger typed: cut to a real name's length.
        let mut cut = name.len().min(warden_domain::limits::USER_NAME_BYTES_MAX);
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        // Control characters (NUL above all, which PostgreSQL cannot store)
        // become U+FFFD: the record keeps what was tried, readably, on both
        // backends alike.
        let name: String = name[..cut]
            .chars()
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect();
        let name = name.as_str();
        let actor = match user_id {
            Some(id) => Actor::user(id, name),
            None => Actor {
                user_id: None,
                name: "anonymous".into(),
                token_id: None,
            },
        };
        let mut tx = self.writer.begin().await?;
        let draft = AuditDraft::new(
            &actor,
            "session.sign_in_failed",
            "user",
            name,
            Value::Null,
            json!({"reason": reason}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_password(
        &self,
        actor: &Actor,
        name: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        if holds_nul(name) {
            return Err(StoreError::NotFound(format!("user {name:?}")));
        }
        let mut tx = self.writer.begin().await?;
        let mut user = locked_user(&mut tx, self.backend, UserKey::Name(name))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {name:?}")))?;
        sqlx::query("UPDATE users SET password_hash = $1, failed_sign_ins = 0, locked_until = NULL WHERE id = $2")
            .bind(password_hash)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        user.password_hash = password_hash.to_string();
        user.failed_sign_ins = 0;
        user.locked_until = None;
        // The hash itself never goes into the audit log.
        let draft = AuditDraft::new(
            actor,
            "user.password",
            "user",
            name,
            Value::Null,
            json!({"sessions_ended": true}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn record_sign_in(
        &self,
        user_id: i64,
        success: bool,
        failures_max: u32,
        lockout: Duration,
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        let mut tx = self.writer.begin().await?;
        let mut user = locked_user(&mut tx, self.backend, UserKey::Id(user_id))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))?;
        let actor = Actor::user(user.id, &user.name);
        let draft = if success {
            user.failed_sign_ins = 0;
            user.locked_until = None;
            AuditDraft::new(
                &actor,
                "session.sign_in",
                "user",
                &user.name,
                Value::Null,
                json!({"result": "success"}),
            )
        } else {
            user.failed_sign_ins += 1;
            if user.failed_sign_ins >= i64::from(failures_max) {
                user.locked_until = Some(now + lockout);
                user.failed_sign_ins = 0;
            }
            AuditDraft::new(
                &actor,
                "session.sign_in_failed",
                "user",
                &user.name,
                Value::Null,
                json!({"reason": "wrong password", "locked_until": user.locked_until.map(|t| t.to_rfc3339())}),
            )
        };
        sqlx::query("UPDATE users SET failed_sign_ins = $1, locked_until = $2 WHERE id = $3")
            .bind(user.failed_sign_ins)
            .bind(user.locked_until.map(ms))
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn create_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        scope: Scope,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<TokenRecord> {
        let mut tx = self.writer.begin().await?;
        let owner: Option<String> = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        let owner = owner.ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))?;
        let minted_by = actor.minter().to_string();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, scope, token_hash, created_at, minted_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(scope.as_str())
        .bind(token_hash)
        .bind(ms(now))
        .bind(&minted_by)
        .fetch_one(&mut *tx)
        .await?;
        let draft = AuditDraft::new(
            actor,
            "token.create",
            "token",
            id,
            Value::Null,
            json!({"user": owner, "name": name, "scope": scope.as_str(), "minted_by": minted_by}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(TokenRecord {
            id,
            user_id,
            name: name.to_string(),
            scope,
            created_at: now,
            revoked_at: None,
            minted_by: Some(minted_by),
        })
    }

    async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
        Ok(sqlx::query_as::<_, DbTokenUser>(&format!(
            "SELECT {TOKEN_USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await?
        .map(Wrapped::into_record))
    }

    async fn revoke_token(
        &self,
        actor: &Actor,
        token_id: i64,
        now: Timestamp,
    ) -> StoreResult<TokenRecord> {
        let mut tx = self.writer.begin().await?;
        let DbToken(mut record) = sqlx::query_as::<_, DbToken>(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1{}",
            self.backend.for_update()
        ))
        .bind(token_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("token {token_id}")))?;
        if record.revoked_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "token {token_id} is already revoked"
            )));
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(ms(now))
            .bind(token_id)
            .execute(&mut *tx)
            .await?;
        record.revoked_at = Some(now);
        let draft = AuditDraft::new(
            actor,
            "token.revoke",
            "token",
            token_id,
            json!({"revoked": false}),
            json!({"revoked": true, "name": record.name}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn list_tokens(&self, user_id: Option<i64>) -> StoreResult<Vec<TokenRecord>> {
        let rows = match user_id {
            Some(user_id) => {
                sqlx::query_as::<_, DbToken>(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id LIMIT $2"
            ))
                .bind(user_id)
                .bind(USERS_LISTED_MAX)
                .fetch_all(&self.reader)
                .await?
            }
            None => {
                sqlx::query_as::<_, DbToken>(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id LIMIT $1"
                ))
                .bind(USERS_LISTED_MAX)
                .fetch_all(&self.reader)
                .await?
            }
        };
        Ok(records(rows))
    }

    async fn create_session(
        &self,
        user_id: i64,
        session_hash: &str,
        csrf_token: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        // Expired sessions are swept as new ones start, so the table stays small.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sessions (session_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(session_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(ms(now))
            .bind(ms(expires_at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(
        &self,
        session_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
        Ok(sqlx::query_as::<_, DbSessionUser>(&format!(
            "SELECT {SESSION_USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_hash = $1 AND s.expires_at > $2"
        ))
        .bind(session_hash)
        .bind(ms(now))
        .fetch_optional(&self.reader)
        .await?
        .map(Wrapped::into_record))
    }

    async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE session_hash = $1")
            .bind(session_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
