//! Signatures of webhooks and callbacks: HMAC-SHA256 with the shared secret
//! over `<timestamp>.<body>`, written `v1=<hex>`.
//!
//! The timestamp (Unix seconds) is part of what is signed, so a captured
//! request cannot be replayed later than the receiver's tolerance; the
//! receiver deduplicates by the idempotency key within it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header with the Unix time of signing.
pub const TIMESTAMP_HEADER: &str = "x-warden-timestamp";
/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "x-warden-signature";
/// The header with the idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// How far a signed timestamp may be from the receiver's clock, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // cannot fail: HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header's value for `body` signed at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a signature header (one or more comma-separated `v1=` values, so
/// that secrets can be rotated) and the timestamp's freshness against `now`.
pub fn verify(
    secret: &[u8],
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
) -> Result<(), String> {
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(format!(
            "the timestamp is more than {TOLERANCE_SECONDS} seconds from Warden's clock"
        ));
    }
    for candidate in header.split(',') {
        let Some(hex_value) = candidate.trim().strip_prefix("v1=") else {
            continue;
        };
        let Ok(bytes) = hex::decode(hex_value) else {
            continue;
        };
        // `verify_slice` compares in constant time.
        if mac(secret, timestamp, body).verify_slice(&bytes).is_ok() {
            return Ok(());
        }
    }
    Err("the signature does not match the body and timestamp".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_detect_changes() {
        let header = sign(b"secret", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("v1="));
        assert!(verify(
            b"secret",
            1_700_000_000,
            b"{\"a\":1}",
            &header,
            1_700_000_100
        )
        .is_ok());
        assert!(verify(
            b"secret",
            1_700_000_000,
            b"{\"a\":2}",
            &header,
            1_700_000_000
        )
        .is_err());
        assert!(verify(
            b"other",
            1_700_000_000,
            b"{\"a\":1}",
            &header,
            1_700_000_000
        )
        .is_err());
        assert!(verify(
            b"secret",
            1_700_000_000,
            b"{\"a\":1}",
            &header,
            1_700_001_000
        )
        .is_err());
        let rotated = format!("v1=00, {header}");
        assert!(verify(
            b"secret",
            1_700_000_000,
            b"{\"a\":1}",
            &rotated,
            1_700_000_000
        )
        .is_ok());
    }
}
