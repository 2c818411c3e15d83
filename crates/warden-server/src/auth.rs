//! Who is calling: bearer tokens and session cookies, passwords and secrets.
//!
//! Secrets (API tokens, session ids) are 32 random bytes; only their SHA-256
//! is stored, so a copy of the database grants nothing. Passwords are hashed
//! with Argon2id.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use warden_domain::access::Principal;

use crate::error::AppError;
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
                scope: Some(token.scope),
            },
            session_csrf: None,
            session_hash: None,
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
                scope: None,
            },
            session_csrf: Some(session.csrf_token),
            session_hash: Some(hash),
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
    fn secrets_are_random_and_hashed() {
        let a = new_token();
        assert!(a.starts_with("wdn_") && a.len() > 40);
        assert_ne!(a, new_token());
        assert_eq!(secret_hash(&a).len(), 64);
    }
}
