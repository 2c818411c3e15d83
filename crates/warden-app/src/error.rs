//! One error type for every command and query.
//!
//! Each variant says what the caller should do about it, not how a
//! transport shows it: the HTTP API maps it to problem+json in one place
//! (`warden-server/src/error.rs`), the console to its pages, the command
//! line to a message and an exit code.

use warden_domain::{FieldError, FieldErrors};
use warden_store::StoreError;

/// Why a command or query did not do what was asked. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The thing named does not exist, or the actor may not see it (the
    /// two are answered alike, so that a refusal confirms nothing).
    #[error("{0}")]
    NotFound(String),
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// It conflicts with the current state: a stale version, a case someone
    /// else holds, an id reused with other content.
    #[error("{0}")]
    Conflict(String),
    /// The input is well-formed but invalid, with every field at fault.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// Who is acting could not be established (an unknown or revoked
    /// token, an ended session).
    #[error("{0}")]
    Unauthenticated(String),
    /// Something this needs is switched off or not answering.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or a failing database: the cause is for the log, not for the
    /// person who asked.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A command's or query's result.
pub type CommandResult<T> = Result<T, CommandError>;

impl CommandError {
    /// An invalid input at one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CommandError::Invalid(FieldError::new(field, reason).into())
    }

    /// An internal error with a cause in words.
    pub fn internal(cause: impl Into<String>) -> Self {
        CommandError::Internal(cause.into().into())
    }

    /// The cause of an internal error and its sources, one line, for logs.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

impl From<StoreError> for CommandError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => CommandError::NotFound(format!("{what} not found")),
            StoreError::Conflict(message) => CommandError::Conflict(message),
            StoreError::Forbidden(message) => CommandError::Forbidden(message),
            StoreError::Invalid { field, reason } => CommandError::invalid(field, reason),
            // A stored value Warden does not know is damage, not a request
            // error: the caller sees an opaque 500, the log the column.
            corrupt @ StoreError::Corrupt { .. } => CommandError::Internal(Box::new(corrupt)),
            database @ StoreError::Database(_) => CommandError::Internal(Box::new(database)),
        }
    }
}

impl From<FieldErrors> for CommandError {
    fn from(errors: FieldErrors) -> Self {
        CommandError::Invalid(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_keep_their_meaning() {
        let missing: CommandError = StoreError::NotFound("case 7".into()).into();
        assert_eq!(missing.to_string(), "case 7 not found");
        let invalid: CommandError = StoreError::Invalid {
            field: "queue".into(),
            reason: "unknown".into(),
        }
        .into();
        assert!(matches!(&invalid, CommandError::Invalid(errors) if errors.0[0].field == "queue"));
        let database: CommandError = StoreError::Database("disk full".into()).into();
        assert_eq!(database.to_string(), "internal error");
        assert_eq!(
            database.chain(),
            "internal error: database error: disk full"
        );
    }
}
