//! Accounts: signing in and out, who a request is, users and their teams,
//! API tokens.
//!
//! Signing in answers every failure alike: an unknown name, a wrong
//! password, a disabled user and a locked one are all
//! [`SignInFailure::Refused`], after the same Argon2 work, so that nobody
//! can learn which users exist or which are locked. The lockout is still
//! enforced, and the real reason is in the audit log
//! (`session.sign_in_failed`).
//!
//! API tokens are minted by their own user; an admin mints only `ingest`
//! tokens for others (`Principal::may_mint`); the operator at the machine
//! mints any. Each token records who minted it, and every change made with
//! it names it.

pub mod credentials;

use std::sync::LazyLock;

use warden_domain::access::{Permission, Principal, Role, Scope};
use warden_domain::ids::UserName;
use warden_domain::limits::{PASSWORD_BYTES_MAX, USER_NAME_BYTES_MAX};
use warden_domain::Timestamp;
use warden_store::{TokenRecord, UserRecord};

use self::credentials::{
    check_password, hash_off_thread, hash_password, new_secret, new_token, secret_hash,
    verify_password, NewPassword,
};
use crate::{Actor, App, CommandError, CommandResult};

/// A hash to check against when there is no real one to check (an
/// unknown user, an overlong password), so that every refusal costs the
/// same Argon2 work as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a real password").unwrap_or_default());

/// What every refused sign-in is told, whatever the reason.
pub const SIGN_IN_REFUSED: &str = "unknown user or wrong password, or this user cannot sign in now (after repeated failures a user is locked for a while); ask an admin if it persists";

/// A sign-in as typed. The name is not parsed: a name that cannot exist
/// fails like any failed sign-in.
#[derive(Clone)]
pub struct SignIn {
    /// The user name.
    pub name: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in did not open a session.
#[derive(Debug)]
pub enum SignInFailure {
    /// Unknown user, wrong password, disabled or locked: the four are
    /// answered alike; the audit log has the real reason.
    Refused,
    /// The right password, but one accepted in demo mode only.
    DemoPasswordOnly,
    /// Something failed on the way.
    Error(CommandError),
}

impl From<CommandError> for SignInFailure {
    fn from(error: CommandError) -> Self {
        SignInFailure::Error(error)
    }
}

impl From<warden_store::StoreError> for SignInFailure {
    fn from(error: warden_store::StoreError) -> Self {
        SignInFailure::Error(error.into())
    }
}

/// A session opened by a successful sign-in.
#[derive(Debug)]
pub struct OpenedSession {
    /// Who signed in.
    pub user: UserRecord,
    /// The session id, for the transport to hand over (a cookie); only its
    /// hash is stored.
    pub secret: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// Who a token or session says is calling.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who, with what rights.
    pub principal: Principal,
    /// The token used, if any.
    pub token_id: Option<i64>,
    /// The session's CSRF token and its id's hash, for a session.
    pub session: Option<SessionKeys>,
}

impl Authenticated {
    /// The actor the caller's commands run as.
    pub fn actor(&self) -> Actor {
        Actor::User {
            principal: self.principal.clone(),
            token_id: self.token_id,
        }
    }
}

/// What a transport keeps of a session.
#[derive(Debug, Clone)]
pub struct SessionKeys {
    /// The CSRF token changes must carry.
    pub csrf: String,
    /// The session id's hash, for signing out.
    pub hash: String,
}

/// A new user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddUserCommand {
    /// Login name.
    pub name: UserName,
    /// Role.
    pub role: Role,
    /// Teams, checked codes.
    pub teams: Vec<String>,
    /// Initial password.
    pub password: NewPassword,
}

/// A new API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintTokenCommand {
    /// Whose token.
    pub user: UserName,
    /// Its scope.
    pub scope: Scope,
    /// A name to tell tokens apart (checked); `<user>-<scope>` by default.
    pub name: Option<String>,
}

impl App {
    /// Refuses a sign-in, recording the real reason (audit log and server log).
    async fn refuse(&self, name: &str, user: Option<&UserRecord>, reason: &str) -> SignInFailure {
        tracing::info!(user = %name.chars().take(USER_NAME_BYTES_MAX).collect::<String>(), reason, "sign-in refused");
        match self
            .store()
            .record_sign_in_refused(name, user.map(|u| u.id), reason, self.now())
            .await
        {
            Ok(()) => SignInFailure::Refused,
            Err(error) => error.into(),
        }
    }

    /// Checks a name and password, counting failures towards the lockout,
    /// and opens a session.
    pub async fn open_session(&self, sign_in: SignIn) -> Result<OpenedSession, SignInFailure> {
        let user = self.check_sign_in(&sign_in).await?;
        let now = self.now();
        let settings = self.settings();
        self.store()
            .record_sign_in(
                user.id,
                true,
                settings.sign_in_failures_max,
                settings.sign_in_lockout,
                now,
            )
            .await?;
        let secret = new_secret("");
        let csrf = new_secret("");
        let expires_at = now + settings.session_lifetime;
        self.store()
            .create_session(user.id, &secret_hash(&secret), &csrf, expires_at, now)
            .await?;
        Ok(OpenedSession {
            user,
            secret,
            csrf,
            expires_at,
        })
    }

    /// The user whose name and password these are, if they may sign in
    /// now; every refusal alike, after the same Argon2 work.
    async fn check_sign_in(&self, sign_in: &SignIn) -> Result<UserRecord, SignInFailure> {
        let SignIn { name, password } = sign_in;
        let now = self.now();
        let overlong = password.len() > PASSWORD_BYTES_MAX;
        let user = if overlong || name.len() > USER_NAME_BYTES_MAX {
            None
        } else {
            self.store().user_by_name(name).await?
        };
        // The same Argon2 work whatever happens next: against the user's
        // hash, or a dummy one when there is none to check.
        let (checked, against) = match &user {
            Some(user) => (password.clone(), user.password_hash.clone()),
            None if overlong => (String::new(), DUMMY_HASH.clone()),
            None => (password.clone(), DUMMY_HASH.clone()),
        };
        let password_ok = tokio::task::spawn_blocking(move || verify_password(&checked, &against))
            .await
            .map_err(|e| CommandError::internal(format!("password check failed: {e}")))?;
        let Some(user) = user else {
            let reason = if overlong {
                "password too long"
            } else {
                "unknown user"
            };
            return Err(self.refuse(name, None, reason).await);
        };
        if user.disabled {
            return Err(self.refuse(name, Some(&user), "disabled").await);
        }
        if let Some(until) = user.locked_until.filter(|until| *until > now) {
            let reason = format!("locked until {}", until.to_rfc3339());
            return Err(self.refuse(name, Some(&user), &reason).await);
        }
        if !password_ok {
            // Counts towards the lockout; the audit record says so.
            let settings = self.settings();
            self.store()
                .record_sign_in(
                    user.id,
                    false,
                    settings.sign_in_failures_max,
                    settings.sign_in_lockout,
                    now,
                )
                .await?;
            tracing::info!(user = %user.name, reason = "wrong password", "sign-in refused");
            return Err(SignInFailure::Refused);
        }
        if check_password(password, self.settings().demo_mode).is_err() {
            return Err(SignInFailure::DemoPasswordOnly);
        }
        Ok(user)
    }

    /// Ends the session whose id hashes to `session_hash`.
    pub async fn close_session(&self, session_hash: &str) -> CommandResult<()> {
        Ok(self.store().delete_session(session_hash).await?)
    }

    /// Who an API token says is calling: its user, narrowed by its scope.
    pub async fn authenticate_token(&self, secret: &str) -> CommandResult<Authenticated> {
        let Some((token, user)) = self.store().token_by_hash(&secret_hash(secret)).await? else {
            return Err(CommandError::Unauthenticated(
                "the token is unknown or revoked".into(),
            ));
        };
        if user.disabled {
            return Err(CommandError::Unauthenticated(
                "the token's user is disabled".into(),
            ));
        }
        Ok(Authenticated {
            principal: Principal {
                user_id: user.id,
                name: user.name,
                role: user.role,
                teams: user.teams,
                scope: Some(token.scope),
            },
            token_id: Some(token.id),
            session: None,
        })
    }

    /// Who a session id says is calling, while the session lasts.
    pub async fn authenticate_session(&self, secret: &str) -> CommandResult<Authenticated> {
        let hash = secret_hash(secret);
        let Some((session, user)) = self.store().session(&hash, self.now()).await? else {
            return Err(CommandError::Unauthenticated(
                "the session has ended; sign in again".into(),
            ));
        };
        if user.disabled {
            return Err(CommandError::Unauthenticated("the user is disabled".into()));
        }
        Ok(Authenticated {
            principal: Principal {
                user_id: user.id,
                name: user.name,
                role: user.role,
                teams: user.teams,
                scope: None,
            },
            token_id: None,
            session: Some(SessionKeys {
                csrf: session.csrf_token,
                hash,
            }),
        })
    }

    /// Every user, by name.
    pub async fn users(&self) -> CommandResult<Vec<UserRecord>> {
        Ok(self.store().list_users().await?)
    }

    /// A user by name.
    pub async fn user(&self, name: &UserName) -> CommandResult<UserRecord> {
        self.store()
            .user_by_name(name.as_str())
            .await?
            .ok_or_else(|| CommandError::NotFound(format!("user {:?} not found", name.as_str())))
    }

    /// Creates a user.
    pub async fn add_user(
        &self,
        actor: &Actor,
        command: AddUserCommand,
    ) -> CommandResult<UserRecord> {
        actor.require(Permission::UserAdmin)?;
        let hash = hash_off_thread(&command.password).await?;
        Ok(self
            .store()
            .create_user_with_teams(
                &actor.audit(),
                command.name.as_str(),
                command.role,
                &hash,
                &command.teams,
                self.now(),
            )
            .await?)
    }

    /// Sets a user's teams (checked codes), replacing the ones they had.
    pub async fn set_teams(
        &self,
        actor: &Actor,
        user: &UserName,
        teams: &[String],
    ) -> CommandResult<UserRecord> {
        actor.require(Permission::UserAdmin)?;
        Ok(self
            .store()
            .set_user_teams(&actor.audit(), user.as_str(), teams, self.now())
            .await?)
    }

    /// Disables a user: their sessions end and their cases go back to their
    /// queues. Nobody disables themselves.
    pub async fn disable_user(&self, actor: &Actor, user: &UserName) -> CommandResult<UserRecord> {
        actor.require(Permission::UserAdmin)?;
        if actor.principal().is_some_and(|p| p.name == user.as_str()) {
            return Err(CommandError::Conflict(
                "you cannot disable yourself; ask another admin".into(),
            ));
        }
        Ok(self
            .store()
            .set_user_disabled(&actor.audit(), user.as_str(), true, self.now())
            .await?)
    }

    /// Enables a user again.
    pub async fn enable_user(&self, actor: &Actor, user: &UserName) -> CommandResult<UserRecord> {
        actor.require(Permission::UserAdmin)?;
        Ok(self
            .store()
            .set_user_disabled(&actor.audit(), user.as_str(), false, self.now())
            .await?)
    }

    /// Sets a user's password: any lockout is cleared and their sessions end.
    pub async fn set_password(
        &self,
        actor: &Actor,
        user: &UserName,
        password: &NewPassword,
    ) -> CommandResult<UserRecord> {
        actor.require(Permission::UserAdmin)?;
        let hash = hash_off_thread(password).await?;
        Ok(self
            .store()
            .set_password(&actor.audit(), user.as_str(), &hash, self.now())
            .await?)
    }

    /// Every token, with who minted it (never a secret).
    pub async fn tokens(&self) -> CommandResult<Vec<TokenRecord>> {
        Ok(self.store().list_tokens(None).await?)
    }

    /// Mints a token — by its own user, or an admin minting an ingest token
    /// for a user who may ingest, or the operator — and returns it with its
    /// secret, which is never stored and never shown again.
    pub async fn mint_token(
        &self,
        actor: &Actor,
        command: MintTokenCommand,
    ) -> CommandResult<(TokenRecord, String)> {
        let user = command.user.as_str();
        let owner = self
            .store()
            .user_by_name(user)
            .await?
            .ok_or_else(|| CommandError::invalid("user", format!("no user named {user:?}")))?;
        if let Some(principal) = actor.principal() {
            principal
                .may_mint(owner.id == principal.user_id, owner.role, command.scope)
                .map_err(|refusal| CommandError::invalid(refusal.field, refusal.reason))?;
        }
        let name = command
            .name
            .unwrap_or_else(|| format!("{user}-{}", command.scope));
        let secret = new_token();
        let record = self
            .store()
            .create_token(
                &actor.audit(),
                owner.id,
                &name,
                command.scope,
                &secret_hash(&secret),
                self.now(),
            )
            .await?;
        Ok((record, secret))
    }

    /// Revokes a token.
    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> CommandResult<TokenRecord> {
        actor.require(Permission::TokenAdmin)?;
        Ok(self
            .store()
            .revoke_token(&actor.audit(), id, self.now())
            .await?)
    }
}

/// Checks a token's name: the edge rule for names, at most
/// `TOKEN_NAME_BYTES_MAX` bytes.
pub fn check_token_name(name: &str) -> Result<String, String> {
    warden_domain::text::check_name(name, warden_domain::limits::TOKEN_NAME_BYTES_MAX)?;
    Ok(name.to_string())
}
