//! Who is calling: bearer tokens and session cookies, passwords and secrets.
//!
//! Secrets (API tokens, session ids) are 32 random bytes; only their SHA-256
//! is stored, so a copy of the database grants nothing. Passwords are hashed
//! with Argon2id.
//!
//! Cookies are `Secure` when `server.secure_cookies` says so, or when the
//! request came through a trusted proxy (`server.trusted_proxies`: the TCP
//! peer's address is in one of its ranges) that says the browser used
//! HTTPS (`X-Forwarded-Proto: https`). The header is ignored from anyone
//! else, since a client can send any header it likes.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::net::SocketAddr;

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use warden_domain::access::Principal;
use warden_store::Actor;

use crate::error::AppError;
use crate::settings::ServerSettings;
use crate::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "warden_session";

/// The header carrying the CSRF token of cookie-authenticated requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Prefix of API tokens, so that secret scanners can find leaked ones.
const TOKEN_PREFIX: &str = "wdn_";

/// A new random secret: an API token or a session id.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new API token.
pub fn new_token() -> String {
    new_secret(TOKEN_PREFIX)
}

/// What is stored of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password against its stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

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
    /// The caller as the audit log names them: their user, and the token
    /// they act through, if any.
    pub fn actor(&self) -> Actor {
        Actor::user(self.principal.user_id, &self.principal.name).via_token(self.token_id)
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
    let now = state.clock.now();
    if let Some(token) = bearer(headers)? {
        let found = state.store.token_by_hash(&secret_hash(token)).await?;
        let Some((token, user)) = found else {
            return Err(AppError::Unauthenticated(
                "the token is unknown or revoked".into(),
            ));
        };
        if user.disabled {
            return Err(AppError::Unauthenticated(
                "the token's user is disabled".into(),
            ));
        }
        return Ok(Some(Caller {
            principal: Principal {
                user_id: user.id,
                name: user.name,
                role: user.role,
                teams: user.teams,
                scope: Some(token.scope),
            },
            session_csrf: None,
            session_hash: None,
            token_id: Some(token.id),
        }));
    }
    if let Some(session) = session_cookie(headers) {
        let hash = secret_hash(&session);
        let Some((session, user)) = state.store.session(&hash, now).await? else {
            return Err(AppError::Unauthenticated(
                "the session has ended; sign in again".into(),
            ));
        };
        if user.disabled {
            return Err(AppError::Unauthenticated("the user is disabled".into()));
        }
        return Ok(Some(Caller {
            principal: Principal {
                user_id: user.id,
                name: user.name,
                role: user.role,
                teams: user.teams,
                scope: None,
            },
            session_csrf: Some(session.csrf_token),
            session_hash: Some(hash),
            token_id: None,
        }));
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
    fn passwords_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

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

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_token();
        assert!(a.starts_with("wdn_") && a.len() > 40);
        assert_ne!(a, new_token());
        assert_eq!(secret_hash(&a).len(), 64);
    }
}
