//! What can go wrong talking to NATS, sorted by what the caller should do
//! about it.
//!
//! - [`StreamError::Unavailable`]: NATS cannot be reached, did not answer in
//!   time, has no stream for the subject yet, or has no room now. Nothing was
//!   acknowledged; the same call may work later. The HTTP layer answers `503`
//!   with `Retry-After` ([`StreamError::retry_after`]).
//! - [`StreamError::Rejected`]: JetStream refused this message for what it
//!   is (too large, headers too large). Sending it again fails again.
//! - [`StreamError::Invalid`]: refused before anything was sent; names the
//!   field and the reason.
//! - [`StreamError::Setup`]: a stream, consumer or bucket could not be made
//!   as configured (an existing one with a setting that cannot change).

use std::time::Duration;

use async_nats::jetstream::ErrorCode;

/// How long a caller should wait before trying an unavailable NATS again.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// An error of the stream layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// NATS is unreachable, timed out, has no stream for the subject, or has
    /// no room now. Nothing was acknowledged; retry later.
    #[error("NATS is unavailable: {reason}")]
    Unavailable {
        /// What happened, for the log.
        reason: String,
    },
    /// JetStream refused the message itself; retrying it will fail again.
    #[error("JetStream rejected the message: {reason}")]
    Rejected {
        /// The server's words.
        reason: String,
    },
    /// Refused before sending: the field at fault and why.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A stream, consumer or bucket could not be set up as configured.
    #[error("setting up {what} failed: {reason}")]
    Setup {
        /// Which stream, consumer or bucket.
        what: String,
        /// The server's words.
        reason: String,
    },
}

impl StreamError {
    /// An invalid field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        StreamError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// True when trying again later may succeed (NATS unavailable).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StreamError::Unavailable { .. })
    }

    /// How long to wait before trying again, when that may help.
    pub fn retry_after(&self) -> Option<Duration> {
        self.is_unavailable().then_some(RETRY_AFTER)
    }

    pub(crate) fn unavailable(reason: impl Into<String>) -> Self {
        StreamError::Unavailable {
            reason: reason.into(),
        }
    }

    /// Sorts a failed request about `what` (creating a stream, reading
    /// consumer info, a KV read or write): timeouts, missing responders and
    /// an unavailable JetStream are `Unavailable`, anything else `Setup`.
    pub(crate) fn from_nats(what: impl Into<String>, error: &dyn std::error::Error) -> Self {
        if looks_unavailable(error) {
            return StreamError::unavailable(format!("{}: {}", what.into(), error));
        }
        StreamError::Setup {
            what: what.into(),
            reason: error.to_string(),
        }
    }
}

/// Sorts a failed publish: the message's own faults are `Rejected`, all else
/// (timeouts, no stream, a full stream, a broken connection) `Unavailable`.
pub(crate) fn publish_error(error: &async_nats::jetstream::context::PublishError) -> StreamError {
    use async_nats::jetstream::context::PublishErrorKind;
    match error.kind() {
        PublishErrorKind::MaxPayloadExceeded => StreamError::Rejected {
            reason: error.to_string(),
        },
        PublishErrorKind::Other => match jetstream_code(error) {
            Some(ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM)
            | Some(ErrorCode::STREAM_HEADER_EXCEEDS_MAXIMUM) => StreamError::Rejected {
                reason: error.to_string(),
            },
            // A full stream (discard new), lack of storage, a leader
            // election, or anything the server may get over.
            _ => StreamError::unavailable(error.to_string()),
        },
        PublishErrorKind::StreamNotFound => {
            StreamError::unavailable(format!("no stream takes this subject ({error})"))
        }
        _ => StreamError::unavailable(error.to_string()),
    }
}

/// The JetStream error code somewhere in `error`'s chain of sources.
pub(crate) fn jetstream_code(error: &(dyn std::error::Error + 'static)) -> Option<ErrorCode> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = current {
        if let Some(jetstream) = error.downcast_ref::<async_nats::jetstream::Error>() {
            return Some(jetstream.error_code());
        }
        current = error.source();
    }
    None
}

/// Whether an error from async-nats means "NATS is not there or too slow".
/// async-nats has one error kind type per call; their texts share these
/// words, which is the one thing they have in common.
fn looks_unavailable(error: &dyn std::error::Error) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    [
        "timed out",
        "no responders",
        "broken pipe",
        "unavailable",
        "disconnected",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailable_errors_ask_for_a_retry() {
        assert_eq!(
            StreamError::unavailable("down").retry_after(),
            Some(RETRY_AFTER)
        );
        assert_eq!(
            StreamError::Rejected {
                reason: "too big".into()
            }
            .retry_after(),
            None
        );
        assert_eq!(StreamError::invalid("kind", "unknown").retry_after(), None);
    }

    #[test]
    fn invalid_names_its_field() {
        assert_eq!(
            StreamError::invalid("platform_id", "must not be empty").to_string(),
            "platform_id: must not be empty"
        );
    }
}
