//! Who is calling: bearer tokens and session cookies, and the CSRF check.
//!
//! The application checks tokens and sessions
//! ([`warden_app::App::authenticate_token`]) and owns the secrets and
//! password hashing ([`warden_app::accounts::credentials`], re-exported
//! here); this module reads them from HTTP headers and sets cookies.
//!
//! Cookies are `Secure` when `server.secure_cookies` says so, or when the
//! request came through a trusted proxy (`server.trusted_proxies`: the TCP
//! peer's address is in one of its ranges) that says the browser used
//! HTTPS (`X-Forwarded-Proto: https`). The header is ignored from anyone
//! else, since a client can send any header it likes.

use std::net::SocketAddr;

use axum::http::{header, HeaderMap, HeaderValue};

use warden_app::accounts::{Authenticated, OpenedSession};
use warden_app::Actor;
use warden_domain::access::Principal;

pub use warden_app::accounts::credentials::{
    hash_password, new_secret, new_token, secret_hash, verify_password,
};

use crate::error::AppError;
use crate::settings::ServerSettings;
use crate::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "warden_session";

/// The header carrying the CSRF token of cookie-authenticated requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a request was authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who, with what rights.
    pub principal: Principal,
    /// The CSRF token, for cookie sessions (which need it on changes).
    pub session_csrf: Option<String>,
    /// The session id's hash, for sign-out.
    pub session_hash: Option<String>,
    /// The API token's id, when the caller uses one.
    pub token_id: Option<i64>,
}

impl Caller {
    /// The caller as the application's commands run them: their user, and
    /// the token they act through, if any.
    pub fn actor(&self) -> Actor {
        Actor::User {
            principal: self.principal.clone(),
            token_id: self.token_id,
        }
    }
}

impl From<Authenticated> for Caller {
    fn from(authenticated: Authenticated) -> Self {
        let (session_csrf, session_hash) = match authenticated.session {
            Some(keys) => (Some(keys.csrf), Some(keys.hash)),
            None => (None, None),
        };
        Caller {
            principal: authenticated.principal,
            session_csrf,
            session_hash,
            token_id: authenticated.token_id,
        }
    }
}

/// The `Set-Cookie` value of a session just opened: HTTP only, same-site
/// strict, `Secure` when `secure`, lasting as long as the session.
pub fn session_cookie_for(
    opened: &OpenedSession,
    lifetime: chrono::Duration,
    secure: bool,
) -> Result<HeaderValue, AppError> {
    let cookie = cookie::Cookie::build((SESSION_COOKIE, opened.secret.clone()))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(lifetime.num_seconds()))
        .build();
    HeaderValue::from_str(&cookie.to_string()).map_err(|e| AppError::Internal(e.to_string()))
}

/// The principal of a user who just signed in with a session.
pub fn session_principal(user: &warden_store::UserRecord) -> Principal {
    Principal {
        user_id: user.id,
        name: user.name.clone(),
        role: user.role,
        teams: user.teams.clone(),
        scope: None,
    }
}

/// Whether the cookies of an answer are `Secure`, as [`cookies_secure`]
/// decides for the request: an extractor for handlers that set cookies.
#[derive(Debug, Clone, Copy)]
pub struct SecureCookies(pub bool);

impl axum::extract::FromRequestParts<AppState> for SecureCookies {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0);
        Ok(SecureCookies(cookies_secure(
            &state.settings,
            &parts.headers,
            peer,
        )))
    }
}

/// Whether cookies set in answer to this request are `Secure`: always when
/// `server.secure_cookies` is on; otherwise only when the TCP peer is a
/// trusted proxy that forwarded an HTTPS request (`X-Forwarded-Proto:
/// https`). `peer` is `None` when the connection's address is unknown (the
/// in-memory router of the tests), and then the header is never trusted.
pub fn cookies_secure(
    settings: &ServerSettings,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> bool {
    if settings.secure_cookies {
        return true;
    }
    let Some(peer) = peer else { return false };
    // An IPv4 peer on an IPv6 socket arrives as ::ffff:a.b.c.d.
    let address = match peer.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        v4 => v4,
    };
    if !settings
        .trusted_proxies
        .iter()
        .any(|range| range.contains(&address))
    {
        return false;
    }
    // Several proxies may each append a value; the first is what the
    // browser used.
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| {
        AppError::Unauthenticated("the Authorization header is not readable text".into())
    })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| {
            AppError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    Ok(Some(token.trim()))
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_string())
}

/// Establishes who is calling, from a bearer token or a session cookie.
/// `Ok(None)` means no credentials were offered.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Caller>, AppError> {
    if let Some(token) = bearer(headers)? {
        let authenticated = state.app.authenticate_token(token).await?;
        return Ok(Some(authenticated.into()));
    }
    if let Some(session) = session_cookie(headers) {
        let authenticated = state.app.authenticate_session(&session).await?;
        return Ok(Some(authenticated.into()));
    }
    Ok(None)
}

/// Checks the CSRF header of a cookie-authenticated change.
pub fn check_csrf(caller: &Caller, headers: &HeaderMap) -> Result<(), AppError> {
    let Some(expected) = &caller.session_csrf else {
        return Ok(());
    };
    let given = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Constant-time comparison: the token is a secret.
    let same = given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "a change made with a session cookie needs the {CSRF_HEADER} header from sign-in"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_come_from_the_setting_or_a_trusted_proxy() {
        let mut settings = ServerSettings {
            trusted_proxies: vec![
                "10.0.0.0/8".parse().unwrap(),
                "127.0.0.1/32".parse().unwrap(),
            ],
            ..ServerSettings::default()
        };
        let mut https = HeaderMap::new();
        https.insert("x-forwarded-proto", "https".parse().unwrap());
        let proxy: SocketAddr = "10.1.2.3:5555".parse().unwrap();
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5555".parse().unwrap();
        let stranger: SocketAddr = "203.0.113.9:5555".parse().unwrap();
        assert!(cookies_secure(&settings, &https, Some(proxy)));
        assert!(cookies_secure(&settings, &https, Some(mapped)));
        assert!(
            !cookies_secure(&settings, &https, Some(stranger)),
            "the header from anyone else is ignored"
        );
        assert!(!cookies_secure(&settings, &https, None));
        assert!(!cookies_secure(&settings, &HeaderMap::new(), Some(proxy)));
        let mut http = HeaderMap::new();
        http.insert("x-forwarded-proto", "http, https".parse().unwrap());
        assert!(
            !cookies_secure(&settings, &http, Some(proxy)),
            "the first value counts"
        );
        settings.secure_cookies = true;
        assert!(cookies_secure(&settings, &HeaderMap::new(), None));
    }
}
