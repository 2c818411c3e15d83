//! Secrets and passwords.
//!
//! Secrets (API tokens, session ids, CSRF tokens) are 32 random bytes; only
//! their SHA-256 is stored, so a copy of the database grants nothing.
//! Passwords are hashed with Argon2id and a random salt.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use warden_domain::limits::{PASSWORD_BYTES_MAX, PASSWORD_CHARS_MIN};

use crate::CommandError;

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
pub fn hash_password(password: &str) -> Result<String, CommandError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| CommandError::internal(format!("password hashing failed: {e}")))
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

/// Checks a password: long enough outside demo mode, not absurdly long.
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

/// A new password, checked: at least `PASSWORD_CHARS_MIN` characters, at
/// most `PASSWORD_BYTES_MAX` bytes. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    /// Checks `password` and wraps it.
    pub fn parse(password: String) -> Result<Self, String> {
        check_password(&password, false)?;
        Ok(Self(password))
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(redacted)")
    }
}

/// Hashes a new password off the async threads: Argon2 is slow on purpose.
pub(crate) async fn hash_off_thread(password: &NewPassword) -> Result<String, CommandError> {
    let password = password.0.clone();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| CommandError::internal(format!("password hashing failed: {e}")))?
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

    #[test]
    fn new_passwords_at_their_limits() {
        let short = "a".repeat(PASSWORD_CHARS_MIN - 1);
        assert!(NewPassword::parse(short.clone()).is_err());
        assert!(
            check_password(&short, true).is_ok(),
            "demo mode takes short ones"
        );
        assert!(NewPassword::parse("a".repeat(PASSWORD_CHARS_MIN)).is_ok());
        assert!(NewPassword::parse("a".repeat(PASSWORD_BYTES_MAX)).is_ok());
        assert!(NewPassword::parse("a".repeat(PASSWORD_BYTES_MAX + 1)).is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("secret words".into()).unwrap()),
            "NewPassword(redacted)"
        );
    }
}
