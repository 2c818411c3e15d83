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
//!
//! The rules live in [`warden_app::accounts`]; these handlers read bodies
//! and set cookies.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_app::accounts::{AddUserCommand, MintTokenCommand, SignIn};
use warden_app::limits::AUDIT_PAGE_DEFAULT;
use warden_domain::access::{parse_teams, Permission};

use super::JsonBody;
use crate::auth::{session_cookie_for, session_principal, Caller, SecureCookies, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::wire::{
    AuditView, NewTokenBody, NewUserBody, SessionView, SignInBody, TeamsBody, TokenView, UserView,
};
use crate::AppState;

fn permissions(caller: &Caller) -> Vec<String> {
    Permission::ALL
        .iter()
        .filter(|p| caller.principal.may(**p))
        .map(|p| p.as_str().to_string())
        .collect()
}

/// `POST /api/v1/session`.
pub async fn sign_in(
    State(state): State<AppState>,
    SecureCookies(secure): SecureCookies,
    JsonBody(body): JsonBody<SignInBody>,
) -> AppResult<Response> {
    let opened = state
        .app
        .open_session(SignIn {
            name: body.name,
            password: body.password,
        })
        .await?;
    let cookie = session_cookie_for(&opened, state.settings.session_lifetime, secure)?;
    let caller = Caller {
        principal: session_principal(&opened.user),
        session_csrf: Some(opened.csrf.clone()),
        session_hash: None,
        token_id: None,
    };
    let view = SessionView {
        name: opened.user.name.clone(),
        role: opened.user.role.as_str().into(),
        permissions: permissions(&caller),
        csrf_token: Some(opened.csrf),
    };
    let mut response = Json(view).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `DELETE /api/v1/session`.
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Response> {
    if let Some(hash) = &caller.session_hash {
        state.app.close_session(hash).await?;
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
        state.app.users().await?.iter().map(Into::into).collect(),
    ))
}

/// `POST /api/v1/users/{name}/teams`.
pub async fn set_user_teams(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<TeamsBody>,
) -> AppResult<Json<UserView>> {
    let teams = parse_teams(&body.teams).map_err(|reason| AppError::invalid("teams", reason))?;
    let user = paths::user_name(&name)?;
    let user = state.app.set_teams(&caller.actor(), &user, &teams).await?;
    Ok(Json(UserView::from(&user)))
}

/// `POST /api/v1/users`.
pub async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewUserBody>,
) -> AppResult<Response> {
    let command = AddUserCommand::try_from(body)?;
    let user = state.app.add_user(&caller.actor(), command).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))).into_response())
}

/// `POST /api/v1/users/{name}/disable`.
pub async fn disable_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> AppResult<Json<UserView>> {
    let user = paths::user_name(&name)?;
    let user = state.app.disable_user(&caller.actor(), &user).await?;
    Ok(Json(UserView::from(&user)))
}

/// `POST /api/v1/users/{name}/enable`.
pub async fn enable_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> AppResult<Json<UserView>> {
    let user = paths::user_name(&name)?;
    let user = state.app.enable_user(&caller.actor(), &user).await?;
    Ok(Json(UserView::from(&user)))
}

/// `GET /api/v1/tokens`: every token, with who minted it (never a secret).
pub async fn list_tokens(State(state): State<AppState>) -> AppResult<Json<Vec<TokenView>>> {
    Ok(Json(
        state.app.tokens().await?.iter().map(Into::into).collect(),
    ))
}

/// `POST /api/v1/tokens`: the answer holds the secret, never shown again.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> AppResult<Response> {
    let command = MintTokenCommand::try_from(body)?;
    let (record, secret) = state.app.mint_token(&caller.actor(), command).await?;
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
    let record = state.app.revoke_token(&caller.actor(), id).await?;
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
    Extension(caller): Extension<Caller>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<Vec<AuditView>>> {
    let Query(query) = query.map_err(super::query_rejection)?;
    let records = state
        .app
        .audit_log(
            &caller.actor(),
            query.after.unwrap_or(0),
            query.limit.unwrap_or(AUDIT_PAGE_DEFAULT),
        )
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
