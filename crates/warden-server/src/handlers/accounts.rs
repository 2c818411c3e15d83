//! Sessions, users, API tokens and the audit log.
//!
//! Signing in answers every failure alike: an unknown name, a wrong
//! password, a disabled user and a locked one all get `401` with the same
//! words, after the same Argon2 work, so that nobody can learn which users
//! exist or which are locked. The lockout is still enforced, and the real
//! reason is in the audit log (`session.sign_in_failed`).
//!
//! API tokens are minted by their own user; an admin mints only `ingest`
//! tokens for others ([`Principal::may_mint`](warden_domain::access::Principal::may_mint)).
//! Each token records who minted it, and every change made with it names it.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_domain::access::{parse_teams, Permission, Role, Scope};
use warden_domain::ids::UserName;
use warden_domain::limits::{
    AUDIT_VERIFY_PAGE, PASSWORD_BYTES_MAX, PASSWORD_CHARS_MIN, USER_NAME_BYTES_MAX,
};
use warden_store::{Actor, TokenRecord, UserRecord};

use super::JsonBody;
use crate::auth::{
    hash_password, new_secret, new_token, secret_hash, verify_password, Caller, SecureCookies,
    SESSION_COOKIE,
};
use crate::error::{AppError, AppResult};
use crate::wire::{
    AuditView, NewTokenBody, NewUserBody, SessionView, SignInBody, TeamsBody, TokenView, UserView,
};
use crate::AppState;

fn actor(caller: &Caller) -> Actor {
    caller.actor()
}

fn permissions(caller: &Caller) -> Vec<String> {
    Permission::ALL
        .iter()
        .filter(|p| caller.principal.may(**p))
        .map(|p| p.as_str().to_string())
        .collect()
}

/// Checks a new password: long enough outside demo mode, not absurdly long.
pub fn check_password(password: &str, demo_mode: bool) -> Result<(), String> {
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(format!("must be at most {PASSWORD_BYTES_MAX} bytes"));
    }
    if !demo_mode && password.chars().count() < PASSWORD_CHARS_MIN {
        return Err(format!("must be at least {PASSWORD_CHARS_MIN} characters"));
    }
    if password.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(())
}

/// Runs a password check off the async threads: Argon2 is slow on purpose.
async fn verify_off_thread(password: String, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| AppError::Internal(format!("password check failed: {e}")))
}

/// A hash to check against when there is no real one to check (an
/// unknown user, an overlong password), so that every refusal costs the
/// same Argon2 work as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("not a real password").unwrap_or_default());

/// What every refused sign-in is told, whatever the reason.
pub const SIGN_IN_REFUSED: &str = "unknown user or wrong password, or this user cannot sign in now (after repeated failures a user is locked for a while); ask an admin if it persists";

/// Why a sign-in did not open a session.
#[derive(Debug)]
pub enum SignInFailure {
    /// Unknown user, wrong password, disabled or locked: the four are
    /// answered alike; the audit log has the real reason.
    Refused,
    /// The right password, but one accepted in demo mode only.
    DemoPasswordOnly,
    /// Something failed on the way.
    Error(AppError),
}

impl From<AppError> for SignInFailure {
    fn from(error: AppError) -> Self {
        SignInFailure::Error(error)
    }
}

impl From<warden_store::StoreError> for SignInFailure {
    fn from(error: warden_store::StoreError) -> Self {
        SignInFailure::Error(error.into())
    }
}

impl From<SignInFailure> for AppError {
    fn from(failure: SignInFailure) -> Self {
        match failure {
            SignInFailure::Refused => AppError::Unauthenticated(SIGN_IN_REFUSED.into()),
            SignInFailure::DemoPasswordOnly => AppError::Unauthenticated(
                "this password is accepted in demo mode only; set a real one with `warden user passwd`"
                    .into(),
            ),
            SignInFailure::Error(error) => error,
        }
    }
}

/// A session opened by a successful sign-in.
pub struct OpenedSession {
    /// Who signed in.
    pub user: UserRecord,
    /// The session's CSRF token.
    pub csrf: String,
    /// The `Set-Cookie` value carrying the session id.
    pub cookie: HeaderValue,
}

/// Refuses a sign-in, recording the real reason (audit log and server log).
async fn refuse(
    state: &AppState,
    name: &str,
    user: Option<&UserRecord>,
    reason: &str,
) -> Result<OpenedSession, SignInFailure> {
    tracing::info!(user = %name.chars().take(USER_NAME_BYTES_MAX).collect::<String>(), reason, "sign-in refused");
    state
        .store
        .record_sign_in_refused(name, user.map(|u| u.id), reason, state.clock.now())
        .await?;
    Err(SignInFailure::Refused)
}

/// Checks a name and password, counting failures towards the lockout, and
/// opens a session whose cookie is `Secure` when `secure`. The API's
/// `POST /api/v1/session` and the console's sign-in form both come here.
pub async fn open_session(
    state: &AppState,
    name: &str,
    password: String,
    secure: bool,
) -> Result<OpenedSession, SignInFailure> {
    let now = state.clock.now();
    let overlong = password.len() > PASSWORD_BYTES_MAX;
    let user = if overlong || name.len() > USER_NAME_BYTES_MAX {
        None
    } else {
        state.store.user_by_name(name).await?
    };
    // The same Argon2 work whatever happens next: against the user's hash,
    // or a dummy one when there is none to check.
    let (checked, against) = match &user {
        Some(user) => (password.clone(), user.password_hash.clone()),
        None if overlong => (String::new(), DUMMY_HASH.clone()),
        None => (password.clone(), DUMMY_HASH.clone()),
    };
    let password_ok = verify_off_thread(checked, against).await?;
    let Some(user) = user else {
        let reason = if overlong {
            "password too long"
        } else {
            "unknown user"
        };
        return refuse(state, name, None, reason).await;
    };
    if user.disabled {
        return refuse(state, name, Some(&user), "disabled").await;
    }
    if let Some(until) = user.locked_until.filter(|until| *until > now) {
        let reason = format!("locked until {}", until.to_rfc3339());
        return refuse(state, name, Some(&user), &reason).await;
    }
    if !password_ok {
        // Counts towards the lockout; the audit record says so.
        state
            .store
            .record_sign_in(
                user.id,
                false,
                state.settings.sign_in_failures_max,
                state.settings.sign_in_lockout,
                now,
            )
            .await?;
        tracing::info!(user = %user.name, reason = "wrong password", "sign-in refused");
        return Err(SignInFailure::Refused);
    }
    if check_password(&password, state.settings.demo_mode).is_err() {
        return Err(SignInFailure::DemoPasswordOnly);
    }
    state
        .store
        .record_sign_in(
            user.id,
            true,
            state.settings.sign_in_failures_max,
            state.settings.sign_in_lockout,
            now,
        )
        .await?;
    let session = new_secret("");
    let csrf = new_secret("");
    let expires_at = now + state.settings.session_lifetime;
    state
        .store
        .create_session(user.id, &secret_hash(&session), &csrf, expires_at, now)
        .await?;
    let cookie = cookie::Cookie::build((SESSION_COOKIE, session))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(
            state.settings.session_lifetime.num_seconds(),
        ))
        .build();
    let cookie = HeaderValue::from_str(&cookie.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(OpenedSession { user, csrf, cookie })
}

/// `POST /api/v1/session`.
pub async fn sign_in(
    State(state): State<AppState>,
    SecureCookies(secure): SecureCookies,
    JsonBody(body): JsonBody<SignInBody>,
) -> AppResult<Response> {
    let opened = open_session(&state, &body.name, body.password, secure).await?;
    let user = opened.user;
    let caller = Caller {
        principal: warden_domain::access::Principal {
            user_id: user.id,
            name: user.name.clone(),
            role: user.role,
            teams: user.teams.clone(),
            scope: None,
        },
        session_csrf: Some(opened.csrf.clone()),
        session_hash: None,
        token_id: None,
    };
    let view = SessionView {
        name: user.name,
        role: user.role.as_str().into(),
        permissions: permissions(&caller),
        csrf_token: Some(opened.csrf),
    };
    let mut response = Json(view).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, opened.cookie);
    Ok(response)
}

/// `DELETE /api/v1/session`.
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Response> {
    if let Some(hash) = &caller.session_hash {
        state.store.delete_session(hash).await?;
    }
    let expired = cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    let mut response = StatusCode::NO_CONTENT.into_response();
    let value = HeaderValue::from_str(&expired.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

/// `GET /api/v1/me`.
pub async fn me(Extension(caller): Extension<Caller>) -> Json<SessionView> {
    Json(SessionView {
        name: caller.principal.name.clone(),
        role: caller.principal.role.as_str().into(),
        permissions: permissions(&caller),
        csrf_token: caller.session_csrf.clone(),
    })
}

/// `GET /api/v1/users`.
pub async fn list_users(State(state): State<AppState>) -> AppResult<Json<Vec<UserView>>> {
    Ok(Json(
        state
            .store
            .list_users()
            .await?
            .iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Checks a new user's name, role, teams and password and creates the
/// user. The API and the console's admin page both come here.
pub async fn add_user(
    state: &AppState,
    caller: &Caller,
    name: &str,
    role: &str,
    teams: &[String],
    password: String,
) -> AppResult<UserRecord> {
    let mut errors = warden_domain::FieldErrors::default();
    let name = errors.take("name", UserName::parse(name));
    let role = errors.take("role", role.parse::<Role>());
    let teams = errors.take("teams", parse_teams(teams));
    errors.take("password", check_password(&password, false));
    let (Some(name), Some(role), Some(teams)) = (name, role, teams) else {
        return Err(errors.into());
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    Ok(state
        .store
        .create_user_with_teams(
            &actor(caller),
            name.as_str(),
            role,
            &hash,
            &teams,
            state.clock.now(),
        )
        .await?)
}

/// Checks and sets a user's teams (an admin's move). The API and the
/// console's admin page both come here.
pub async fn set_teams(
    state: &AppState,
    caller: &Caller,
    name: &str,
    teams: &[String],
) -> AppResult<UserRecord> {
    let teams = parse_teams(teams).map_err(|reason| AppError::invalid("teams", reason))?;
    Ok(state
        .store
        .set_user_teams(&actor(caller), name, &teams, state.clock.now())
        .await?)
}

/// `POST /api/v1/users/{name}/teams`.
pub async fn set_user_teams(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<TeamsBody>,
) -> AppResult<Json<UserView>> {
    let user = set_teams(&state, &caller, &name, &body.teams).await?;
    Ok(Json(UserView::from(&user)))
}

/// `POST /api/v1/users`.
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewUserBody>,
) -> AppResult<Response> {
    let user = add_user(
        &state,
        &caller,
        &body.name,
        &body.role,
        &body.teams,
        body.password,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))).into_response())
}

/// Disables or enables a user; nobody disables themselves.
pub async fn set_disabled(
    state: &AppState,
    caller: &Caller,
    name: &str,
    disabled: bool,
) -> AppResult<UserRecord> {
    if disabled && name == caller.principal.name {
        return Err(AppError::Conflict(
            "you cannot disable yourself; ask another admin".into(),
        ));
    }
    Ok(state
        .store
        .set_user_disabled(&actor(caller), name, disabled, state.clock.now())
        .await?)
}

/// `POST /api/v1/users/{name}/disable`.
pub async fn disable_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> AppResult<Json<UserView>> {
    let user = set_disabled(&state, &caller, &name, true).await?;
    Ok(Json(UserView::from(&user)))
}

/// `POST /api/v1/users/{name}/enable`.
pub async fn enable_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> AppResult<Json<UserView>> {
    let user = set_disabled(&state, &caller, &name, false).await?;
    Ok(Json(UserView::from(&user)))
}

/// `GET /api/v1/tokens`: every token, with who minted it (never a secret).
pub async fn list_tokens(State(state): State<AppState>) -> AppResult<Json<Vec<TokenView>>> {
    Ok(Json(
        state
            .store
            .list_tokens(None)
            .await?
            .iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Checks a new token's user, scope and name, and who may mint it (their
/// own user, or an admin minting an ingest token), creates it, and returns
/// it with its secret, which is never stored and never shown again.
pub async fn add_token(
    state: &AppState,
    caller: &Caller,
    user: &str,
    scope: &str,
    name: Option<String>,
) -> AppResult<(TokenRecord, String)> {
    let mut errors = warden_domain::FieldErrors::default();
    let parsed_scope = errors.take("scope", scope.parse::<Scope>());
    if let Some(name) = &name {
        errors.take(
            "name",
            warden_domain::text::check_name(name, warden_domain::limits::TOKEN_NAME_BYTES_MAX),
        );
    }
    let name = name.unwrap_or_else(|| format!("{user}-{scope}"));
    let found = state.store.user_by_name(user).await?;
    if found.is_none() {
        errors.push("user", format!("no user named {user:?}"));
    }
    let (Some(found), Some(scope)) = (found, parsed_scope) else {
        return Err(errors.into());
    };
    if let Err(refusal) =
        caller
            .principal
            .may_mint(found.id == caller.principal.user_id, found.role, scope)
    {
        errors.push(refusal.field, refusal.reason);
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let secret = new_token();
    let record = state
        .store
        .create_token(
            &actor(caller),
            found.id,
            &name,
            scope,
            &secret_hash(&secret),
            state.clock.now(),
        )
        .await?;
    Ok((record, secret))
}

/// `POST /api/v1/tokens`.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> AppResult<Response> {
    let (record, secret) = add_token(&state, &caller, &body.user, &body.scope, body.name).await?;
    let mut view = TokenView::from(&record);
    view.token = Some(secret);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `DELETE /api/v1/tokens/{id}`.
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> AppResult<Json<TokenView>> {
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::NotFound(format!("token {id:?} not found")))?;
    let record = state
        .store
        .revoke_token(&actor(&caller), id, state.clock.now())
        .await?;
    Ok(Json(TokenView::from(&record)))
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Records after this sequence number.
    after: Option<i64>,
    /// Page size.
    limit: Option<u32>,
}

/// `GET /api/v1/audit`.
pub async fn audit_log(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<AuditView>>> {
    let Query(query) = query.map_err(super::query_rejection)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=AUDIT_VERIFY_PAGE).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be from 1 to {AUDIT_VERIFY_PAGE}"),
        ));
    }
    let records = state
        .store
        .audit_page(query.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(
        records
            .into_iter()
            .map(|r| AuditView {
                seq: r.entry.seq,
                at: chrono::DateTime::from_timestamp_millis(r.entry.at_ms).unwrap_or_default(),
                actor: r.entry.actor,
                action: r.entry.action,
                target_kind: r.entry.target_kind,
                target_id: r.entry.target_id,
                before: r.entry.before,
                after: r.entry.after,
                hash: r.hash,
            })
            .collect(),
    ))
}
