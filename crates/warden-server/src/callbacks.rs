//! What the HTTP layer needs for enforcement: the shared secret that
//! authenticates the platform's delivery callbacks.
//!
//! Callbacks come from the platform, not from a Warden user, so their route
//! is public in the route table and the handler authenticates each request
//! itself: `x-warden-timestamp` (Unix seconds, within five minutes of
//! Warden's clock) and `x-warden-signature: v1=<hex HMAC-SHA256 of
//! "<timestamp>.<body>">` with the same secret that signs Warden's webhooks.
//! A request without the headers is malformed (400), one with a wrong
//! signature or a stale timestamp is refused (401).

use std::fmt;

/// The shared webhook secret; never printed.
#[derive(Clone, Default)]
pub struct CallbackSecret(String);

impl CallbackSecret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Its bytes, for verifying.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for CallbackSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackSecret(redacted)")
    }
}

/// Enforcement settings of the HTTP layer.
#[derive(Debug, Clone, Default)]
pub struct EnforcementSettings {
    /// The secret callbacks are signed with; callbacks are refused (503)
    /// while it is unset.
    pub callback_secret: Option<CallbackSecret>,
}
