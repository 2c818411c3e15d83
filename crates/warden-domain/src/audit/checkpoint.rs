//! Signed checkpoints of the audit chain: an external anchor that makes the
//! removal of the newest records visible.
//!
//! The hash chain (`super`) shows an edited, replaced or deleted record
//! anywhere but at the end: cut the newest records off and what remains is a
//! shorter chain that is still intact. A checkpoint fixes the chain's head at
//! one moment — record `seq` had hash `hash` — signed with an Ed25519 key
//! (RFC 8032) that the database does not hold, so that whoever keeps a copy
//! (a file, a ticket, a transparency mailbox) can later show that the log
//! reached `seq` and what it was up to there. This is the signed tree head of
//! Certificate Transparency (RFC 6962 §3.5) for a hash chain instead of a
//! Merkle tree.
//!
//! # Text form
//!
//! A checkpoint is a signed note (the format of Go's checksum database,
//! `golang.org/x/mod/sumdb/note`): a body of one `name value` line per field
//! in this order, a blank line, and one signature line.
//!
//! ```text
//! warden-audit-checkpoint/v1
//! log 5f0c…(64 hex digits)
//! seq 1213
//! hash 9a7e…(64 hex digits)
//! time 2026-11-26T10:00:00.000Z
//! key 1a2b3c4d5e6f7a8b
//!
//! — 1a2b3c4d5e6f7a8b 8vJX…(base64 of the 64-byte signature)
//! ```
//!
//! - `log`: the chain hash of record 1, which names this log: a checkpoint
//!   of another Warden's log does not verify against this one.
//! - `seq`: the sequence number of the newest record the checkpoint covers.
//! - `hash`: that record's chain hash (which covers every record before it).
//! - `time`: when it was signed, RFC 3339 in UTC with milliseconds.
//! - `key`: the signing key's id, 16 hex digits: the first 8 bytes of
//!   SHA-256 over `warden-audit-key/v1\n` and the 32-byte public key.
//! - the signature line: an em dash (U+2014), a space, the key id, a space
//!   and the standard base64 (padded) of the Ed25519 signature over the body
//!   — every line above the blank line, each ending in `\n`.
//!
//! Lines end in `\n`; a `\r` before it is ignored (a file that went through
//! an editor that writes CRLF still verifies). Nothing may follow the
//! signature line.
//!
//! # Keys
//!
//! A private key file holds `warden-audit-signing-key/v1` on its first line
//! and the standard base64 of the 32-byte Ed25519 seed on its second. A
//! public key is written as the standard base64 of its 32 bytes.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::StoredAuditRecord;
use crate::limits::CHECKPOINT_TEXT_BYTES_MAX;
use crate::Timestamp;

/// The first line of every checkpoint: the format and its version.
pub const CHECKPOINT_HEADER: &str = "warden-audit-checkpoint/v1";

/// The first line of a private key file.
pub const SIGNING_KEY_HEADER: &str = "warden-audit-signing-key/v1";

/// What a key id is a hash of, before the public key's bytes.
const KEY_ID_CONTEXT: &[u8] = b"warden-audit-key/v1\n";

/// The dash that starts a signature line (U+2014), as in signed notes.
const SIGNATURE_DASH: char = '\u{2014}';

/// The fields of the body, in order.
const FIELDS: [&str; 5] = ["log", "seq", "hash", "time", "key"];

/// The private key that signs checkpoints. Its bytes are wiped when it is
/// dropped and never printed.
pub struct AuditSigningKey(SigningKey);

impl std::fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditSigningKey({})", self.public_key().key_id())
    }
}

/// The public key that checks checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPublicKey(VerifyingKey);

/// What is wrong with a key's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key file does not start with [`SIGNING_KEY_HEADER`].
    #[error("the key file does not start with {SIGNING_KEY_HEADER:?}: is it a Warden audit signing key (made by `warden audit keygen`)?")]
    NotASigningKey,
    /// The key is not base64.
    #[error("the key is not valid base64")]
    NotBase64,
    /// The key has the wrong length.
    #[error("the key is {found} bytes long; an Ed25519 key is 32")]
    Length {
        /// The length found.
        found: usize,
    },
    /// The key file has lines after the key.
    #[error("the key file has more than two lines")]
    TrailingLines,
    /// The bytes are not a point on the curve.
    #[error("the public key is not a valid Ed25519 point")]
    NotAPoint,
}

impl AuditSigningKey {
    /// The key with this 32-byte seed (from the operating system's random
    /// source when generating).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// Reads a private key file's text.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
        if lines.next() != Some(SIGNING_KEY_HEADER) {
            return Err(KeyError::NotASigningKey);
        }
        let seed = decode_32(lines.next().unwrap_or("").trim())?;
        if lines.any(|l| !l.trim().is_empty()) {
            return Err(KeyError::TrailingLines);
        }
        Ok(Self::from_seed(seed))
    }

    /// The text of a private key file.
    pub fn to_file_text(&self) -> String {
        format!(
            "{SIGNING_KEY_HEADER}\n{}\n",
            BASE64.encode(self.0.to_bytes())
        )
    }

    /// The matching public key.
    pub fn public_key(&self) -> AuditPublicKey {
        AuditPublicKey(self.0.verifying_key())
    }

    /// Signs `checkpoint`. Its `key_id` is set to this key's.
    pub fn sign(&self, mut checkpoint: Checkpoint) -> SignedCheckpoint {
        checkpoint.key_id = self.public_key().key_id();
        let signature = self.0.sign(checkpoint.body().as_bytes());
        SignedCheckpoint {
            checkpoint,
            signature: signature.to_bytes(),
        }
    }
}

impl AuditPublicKey {
    /// Reads a public key: the base64 of its 32 bytes.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let bytes = decode_32(text.trim())?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| KeyError::NotAPoint)
    }

    /// The key as text: the base64 of its 32 bytes.
    pub fn to_text(&self) -> String {
        BASE64.encode(self.0.as_bytes())
    }

    /// The key's id: 16 hex digits.
    pub fn key_id(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(KEY_ID_CONTEXT);
        hasher.update(self.0.as_bytes());
        hex::encode(&hasher.finalize()[..8])
    }
}

fn decode_32(text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = BASE64.decode(text).map_err(|_| KeyError::NotBase64)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::Length { found: bytes.len() })
}

/// What a checkpoint says: record `seq` of log `log_id` had chain hash
/// `hash` when key `key_id` signed it at `signed_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The chain hash of record 1: which log this is.
    pub log_id: String,
    /// The newest record covered.
    pub seq: i64,
    /// That record's chain hash.
    pub hash: String,
    /// When it was signed (kept to the millisecond).
    pub signed_at: Timestamp,
    /// The signing key's id.
    pub key_id: String,
}

impl Checkpoint {
    /// A checkpoint of the chain whose first record is `first` and newest
    /// is `head`, to be signed at `now`.
    pub fn of_head(
        first: &StoredAuditRecord,
        head: &StoredAuditRecord,
        now: Timestamp,
    ) -> Checkpoint {
        Checkpoint {
            log_id: first.hash.clone(),
            seq: head.entry.seq,
            hash: head.hash.clone(),
            signed_at: truncate_to_ms(now),
            key_id: String::new(),
        }
    }

    /// The signed text: every body line with its `\n`.
    pub fn body(&self) -> String {
        format!(
            "{CHECKPOINT_HEADER}\nlog {}\nseq {}\nhash {}\ntime {}\nkey {}\n",
            self.log_id,
            self.seq,
            self.hash,
            format_time(self.signed_at),
            self.key_id
        )
    }
}

fn truncate_to_ms(time: Timestamp) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(time.timestamp_millis()).unwrap_or(time)
}

fn format_time(time: Timestamp) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A checkpoint with its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// What was signed.
    pub checkpoint: Checkpoint,
    /// The Ed25519 signature over [`Checkpoint::body`].
    pub signature: [u8; 64],
}

/// What is wrong with a checkpoint's text or signature. Line numbers count
/// from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Longer than any checkpoint.
    #[error("the checkpoint is {bytes} bytes long; a checkpoint is at most {max}")]
    TooLong {
        /// Its length.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The first line is not [`CHECKPOINT_HEADER`].
    #[error("line 1 must be {CHECKPOINT_HEADER:?}: this is not a Warden audit checkpoint (or a newer version of one)")]
    Header,
    /// A field line is missing.
    #[error("line {line}: the field `{field}` is missing (the body has log, seq, hash, time and key, in that order)")]
    MissingField {
        /// Where it should be.
        line: usize,
        /// Which field.
        field: &'static str,
    },
    /// A line names another field than the one expected there.
    #[error("line {line}: expected the field `{expected}`, found {found:?}")]
    UnexpectedField {
        /// Where.
        line: usize,
        /// The field due there.
        expected: &'static str,
        /// What the line starts with.
        found: String,
    },
    /// A field's value is malformed.
    #[error("line {line}: `{field}` {reason}")]
    BadValue {
        /// Where.
        line: usize,
        /// Which field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// No blank line and signature after the body.
    #[error("line {line}: expected a blank line and then the signature line")]
    NoSignature {
        /// Where.
        line: usize,
    },
    /// The signature line is malformed.
    #[error("line {line}: the signature line must be \"— KEY-ID BASE64-SIGNATURE\" ({reason})")]
    BadSignatureLine {
        /// Where.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The signature line names another key than the body.
    #[error("the signature line names key {signature_key}, the body key {body_key}")]
    KeyMismatch {
        /// In the body.
        body_key: String,
        /// On the signature line.
        signature_key: String,
    },
    /// Text after the signature line.
    #[error("line {line}: nothing may follow the signature line")]
    TrailingText {
        /// Where.
        line: usize,
    },
    /// Signed by another key than the one given.
    #[error("the checkpoint was signed by key {signed_by}, not by the key given ({expected}); check --public-key")]
    OtherKey {
        /// The checkpoint's key id.
        signed_by: String,
        /// The given key's id.
        expected: String,
    },
    /// The signature does not match the body: the checkpoint was altered
    /// or forged.
    #[error(
        "the signature of key {key_id} does not match the checkpoint: it was altered or forged"
    )]
    BadSignature {
        /// The key id.
        key_id: String,
    },
}

impl SignedCheckpoint {
    /// The text form (see the module documentation).
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{SIGNATURE_DASH} {} {}\n",
            self.checkpoint.body(),
            self.checkpoint.key_id,
            BASE64.encode(self.signature)
        )
    }

    /// Reads the text form, checking every field's form (not the signature:
    /// see [`Self::verify`]).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        if text.len() > CHECKPOINT_TEXT_BYTES_MAX {
            return Err(CheckpointError::TooLong {
                bytes: text.len(),
                max: CHECKPOINT_TEXT_BYTES_MAX,
            });
        }
        let lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let line = |n: usize| lines.get(n - 1).copied();
        if line(1) != Some(CHECKPOINT_HEADER) {
            return Err(CheckpointError::Header);
        }
        let values = header_fields(&lines)?;
        let [log, seq, hash, time, key] = values;
        let bad =
            |line: usize, field: &'static str, reason: &'static str| CheckpointError::BadValue {
                line,
                field,
                reason,
            };
        if !is_hex(log, 64) {
            return Err(bad(2, "log", "must be 64 lowercase hex digits"));
        }
        let seq = parse_seq(seq).ok_or_else(|| {
            bad(
                3,
                "seq",
                "must be a whole number from 1, without sign or leading zeros",
            )
        })?;
        if !is_hex(hash, 64) {
            return Err(bad(4, "hash", "must be 64 lowercase hex digits"));
        }
        let signed_at = parse_signed_at(time)?;
        if !is_hex(key, 16) {
            return Err(bad(6, "key", "must be 16 lowercase hex digits"));
        }
        if line(7) != Some("") || line(8).is_none_or(str::is_empty) {
            return Err(CheckpointError::NoSignature { line: 7 });
        }
        let (signature_key, signature) = signature_line(line(8).unwrap_or_default())?;
        if signature_key != key {
            return Err(CheckpointError::KeyMismatch {
                body_key: key.to_string(),
                signature_key: signature_key.to_string(),
            });
        }
        // The text may end after the signature line or with its newline.
        match lines.get(8..) {
            None | Some([]) | Some([""]) => {}
            Some(_) => return Err(CheckpointError::TrailingText { line: 9 }),
        }
        Ok(SignedCheckpoint {
            checkpoint: Checkpoint {
                log_id: log.to_string(),
                seq,
                hash: hash.to_string(),
                signed_at,
                key_id: key.to_string(),
            },
            signature,
        })
    }

    /// Checks that `key` signed exactly this checkpoint.
    pub fn verify(&self, key: &AuditPublicKey) -> Result<(), CheckpointError> {
        let expected = key.key_id();
        if self.checkpoint.key_id != expected {
            return Err(CheckpointError::OtherKey {
                signed_by: self.checkpoint.key_id.clone(),
                expected,
            });
        }
        key.0
            .verify_strict(
                self.checkpoint.body().as_bytes(),
                &Signature::from_bytes(&self.signature),
            )
            .map_err(|_| CheckpointError::BadSignature { key_id: expected })
    }
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn parse_seq(text: &str) -> Option<i64> {
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A checkpoint as stored in the database, its text unread: a row an
/// attacker changed may not parse, and saying so is part of verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The row's id, which names the checkpoint in messages.
    pub id: i64,
    /// The text form.
    pub text: String,
}

/// A checkpoint to hold the log against, and what to call it in messages
/// ("checkpoint 5", "the checkpoint in head.txt").
#[derive(Debug, Clone)]
pub struct Anchor {
    /// Its name in messages.
    pub label: String,
    /// What it says.
    pub checkpoint: Checkpoint,
}

/// Where the log and a checkpoint disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorFault {
    /// The checkpoint is of another log.
    OtherLog {
        /// The checkpoint's name.
        label: String,
    },
    /// The log ends before the record the checkpoint signed: the newest
    /// records were removed.
    RecordsMissing {
        /// The checkpoint's name.
        label: String,
        /// The newest record in the log (0: none).
        log_end: i64,
        /// The record the checkpoint signed.
        signed_seq: i64,
    },
    /// The record the checkpoint signed has another hash now: the log was
    /// rewritten at or before it.
    HashDiffers {
        /// The checkpoint's name.
        label: String,
        /// The record.
        seq: i64,
    },
}

impl std::fmt::Display for AnchorFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnchorFault::OtherLog { label } => write!(
                f,
                "{label} is of another audit log: its log id is not the hash of this log's first record"
            ),
            AnchorFault::RecordsMissing {
                label,
                log_end,
                signed_seq,
            } => {
                let missing = signed_seq - log_end;
                let (noun, verb) = if missing == 1 {
                    ("record", "is")
                } else {
                    ("records", "are")
                };
                write!(
                    f,
                    "the log ends at {} but {label} signed {}: {} {noun} {verb} missing (the newest records were removed)",
                    group_thousands(*log_end),
                    group_thousands(*signed_seq),
                    group_thousands(missing)
                )
            }
            AnchorFault::HashDiffers { label, seq } => write!(
                f,
                "audit record {} is not the record {label} signed: its hash differs, so the log was rewritten at or before it",
                group_thousands(*seq)
            ),
        }
    }
}

/// Holds the log, read in order, against checkpoints: each signed record
/// must be there with the signed hash, in the log the checkpoint names.
/// Feed it every record [`super::ChainVerifier`] accepted, then call
/// [`AnchorCheck::finish`] with the newest sequence number.
#[derive(Debug)]
pub struct AnchorCheck {
    /// Sorted by the signed sequence number.
    anchors: Vec<Anchor>,
    /// The first anchor not yet reached.
    next: usize,
    faults: Vec<AnchorFault>,
}

impl AnchorCheck {
    /// A check against `anchors` (in any order).
    pub fn new(mut anchors: Vec<Anchor>) -> Self {
        anchors.sort_by_key(|a| a.checkpoint.seq);
        Self {
            anchors,
            next: 0,
            faults: Vec::new(),
        }
    }

    /// Looks at the next record of the log.
    pub fn observe(&mut self, record: &StoredAuditRecord) {
        let seq = record.entry.seq;
        if seq == 1 {
            for anchor in &self.anchors {
                if anchor.checkpoint.log_id != record.hash {
                    self.faults.push(AnchorFault::OtherLog {
                        label: anchor.label.clone(),
                    });
                }
            }
        }
        while let Some(anchor) = self.anchors.get(self.next) {
            if anchor.checkpoint.seq > seq {
                break;
            }
            if anchor.checkpoint.seq == seq && anchor.checkpoint.hash != record.hash {
                self.faults.push(AnchorFault::HashDiffers {
                    label: anchor.label.clone(),
                    seq,
                });
            }
            self.next += 1;
        }
    }

    /// Every disagreement found, given the newest sequence number in the
    /// log (0 when it is empty). Checkpoints beyond it name the gap.
    pub fn finish(mut self, log_end: i64) -> Vec<AnchorFault> {
        for anchor in self.anchors.drain(self.next..) {
            if anchor.checkpoint.seq > log_end {
                self.faults.push(AnchorFault::RecordsMissing {
                    label: anchor.label,
                    log_end,
                    signed_seq: anchor.checkpoint.seq,
                });
            }
        }
        self.faults
    }
}

/// `1203` as `1,203`, as messages write numbers.
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    // The first group takes what is left over; every later one three digits.
    let first = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    out.push_str(&digits[..first]);
    for group in digits.as_bytes()[first..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).unwrap_or_default());
    }
    out
}

/// The values of the five header fields on lines 2 to 6, each checked to
/// be present under its expected name.
fn header_fields<'a>(lines: &[&'a str]) -> Result<[&'a str; 5], CheckpointError> {
    let mut values = [""; 5];
    for (i, field) in FIELDS.iter().enumerate() {
        let n = i + 2;
        let Some(text) = lines.get(n - 1).copied().filter(|t| !t.is_empty()) else {
            return Err(CheckpointError::MissingField { line: n, field });
        };
        let (name, value) = text.split_once(' ').unwrap_or((text, ""));
        if name != *field {
            return Err(CheckpointError::UnexpectedField {
                line: n,
                expected: field,
                found: name.chars().take(32).collect(),
            });
        }
        values[i] = value;
    }
    Ok(values)
}

/// The `time` field (line 5): RFC 3339 in UTC with milliseconds, exactly
/// as [`format_time`] writes it.
fn parse_signed_at(time: &str) -> Result<Timestamp, CheckpointError> {
    chrono::DateTime::parse_from_rfc3339(time)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
        .filter(|t| format_time(*t) == time)
        .ok_or(CheckpointError::BadValue {
            line: 5,
            field: "time",
            reason: "must be RFC 3339 in UTC with milliseconds, like 2026-11-26T10:00:00.000Z",
        })
}

/// The key id and the signature of the signature line (line 8).
fn signature_line(text: &str) -> Result<(&str, [u8; 64]), CheckpointError> {
    let bad_line = |reason| CheckpointError::BadSignatureLine { line: 8, reason };
    let rest = text
        .strip_prefix(SIGNATURE_DASH)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| bad_line("it must start with an em dash and a space"))?;
    let (signature_key, encoded) = rest
        .split_once(' ')
        .ok_or_else(|| bad_line("the key id and the signature are separated by a space"))?;
    if !is_hex(signature_key, 16) {
        return Err(bad_line("the key id must be 16 lowercase hex digits"));
    }
    let signature = BASE64
        .decode(encoded)
        .map_err(|_| bad_line("the signature is not valid base64"))?;
    let signature = <[u8; 64]>::try_from(signature.as_slice())
        .map_err(|_| bad_line("an Ed25519 signature is 64 bytes"))?;
    Ok((signature_key, signature))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::too_many_lines)] // Tests read as whole stories.
    use super::super::{AuditEntry, GENESIS_HASH};
    use super::*;
    use serde_json::{json, Value};

    fn key(n: u8) -> AuditSigningKey {
        AuditSigningKey::from_seed([n; 32])
    }

    fn chain(n: i64) -> Vec<StoredAuditRecord> {
        let mut previous = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry {
                    seq,
                    at_ms: seq * 1000,
                    actor: "lead".into(),
                    action: "case.claim".into(),
                    target_kind: "case".into(),
                    target_id: seq.to_string(),
                    before: Value::Null,
                    after: json!({"status": "in_review"}),
                };
                let hash = entry.chain_hash(&previous);
                let record = StoredAuditRecord {
                    entry,
                    previous_hash: previous.clone(),
                    hash: hash.clone(),
                };
                previous = hash;
                record
            })
            .collect()
    }

    fn now() -> Timestamp {
        chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    fn signed(records: &[StoredAuditRecord], at: usize) -> SignedCheckpoint {
        key(7).sign(Checkpoint::of_head(&records[0], &records[at - 1], now()))
    }

    #[test]
    fn a_checkpoint_round_trips_through_text_and_verifies() {
        let records = chain(12);
        let checkpoint = signed(&records, 12);
        let text = checkpoint.to_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], CHECKPOINT_HEADER);
        assert_eq!(lines[2], "seq 12");
        assert_eq!(lines[4], "time 2026-11-26T10:00:00.123Z");
        assert_eq!(lines[6], "");
        assert!(lines[7].starts_with(&format!("— {} ", key(7).public_key().key_id())));
        let parsed = SignedCheckpoint::parse(&text).unwrap();
        assert_eq!(parsed, checkpoint);
        parsed.verify(&key(7).public_key()).unwrap();
        // CRLF line ends and a missing final newline still read the same.
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(SignedCheckpoint::parse(&crlf).unwrap(), checkpoint);
        assert_eq!(
            SignedCheckpoint::parse(text.trim_end()).unwrap(),
            checkpoint
        );
    }

    #[test]
    fn another_key_and_any_altered_field_fail_the_signature() {
        let records = chain(3);
        let checkpoint = signed(&records, 3);
        assert_eq!(
            checkpoint.verify(&key(8).public_key()),
            Err(CheckpointError::OtherKey {
                signed_by: key(7).public_key().key_id(),
                expected: key(8).public_key().key_id()
            })
        );
        let text = checkpoint.to_text();
        for (from, to) in [
            ("seq 3", "seq 4"),
            (
                "time 2026-11-26T10:00:00.123Z",
                "time 2026-11-26T10:00:00.124Z",
            ),
        ] {
            let altered = SignedCheckpoint::parse(&text.replace(from, to)).unwrap();
            assert_eq!(
                altered.verify(&key(7).public_key()),
                Err(CheckpointError::BadSignature {
                    key_id: key(7).public_key().key_id()
                }),
                "{from} -> {to}"
            );
        }
        let hash = &checkpoint.checkpoint.hash;
        let other_hash = format!(
            "{}{}",
            &hash[..63],
            if hash.ends_with('0') { '1' } else { '0' }
        );
        let altered = SignedCheckpoint::parse(&text.replace(hash.as_str(), &other_hash)).unwrap();
        assert!(altered.verify(&key(7).public_key()).is_err());
    }

    #[test]
    fn every_malformed_part_is_named() {
        let records = chain(3);
        let text = signed(&records, 3).to_text();
        let lines: Vec<String> = text.lines().map(String::from).collect();
        let with = |n: usize, replacement: &str| {
            let mut changed = lines.clone();
            changed[n] = replacement.to_string();
            changed.join("\n") + "\n"
        };
        let error = |text: &str| SignedCheckpoint::parse(text).unwrap_err();
        assert_eq!(error(""), CheckpointError::Header);
        assert_eq!(
            error(&with(0, "warden-audit-checkpoint/v2")),
            CheckpointError::Header
        );
        assert_eq!(
            error(&"x".repeat(CHECKPOINT_TEXT_BYTES_MAX + 1)),
            CheckpointError::TooLong {
                bytes: CHECKPOINT_TEXT_BYTES_MAX + 1,
                max: CHECKPOINT_TEXT_BYTES_MAX
            }
        );
        assert_eq!(
            error(&format!("{CHECKPOINT_HEADER}\n{}\n", lines[1])),
            CheckpointError::MissingField {
                line: 3,
                field: "seq"
            }
        );
        assert_eq!(
            error(&with(2, "sequence 3")),
            CheckpointError::UnexpectedField {
                line: 3,
                expected: "seq",
                found: "sequence".into()
            }
        );
        for (n, value, field) in [
            (1, "log 123", "log"),
            (1, &*format!("log {}", "A".repeat(64)), "log"),
            (2, "seq 0", "seq"),
            (2, "seq 012", "seq"),
            (2, "seq -3", "seq"),
            (2, "seq 99999999999999999999", "seq"),
            (3, "hash zz", "hash"),
            (4, "time yesterday", "time"),
            (4, "time 2026-11-26T11:00:00.123+01:00", "time"),
            (4, "time 2026-11-26T10:00:00Z", "time"),
            (5, "key 1234", "key"),
        ] {
            match error(&with(n, value)) {
                CheckpointError::BadValue { line, field: f, .. } => {
                    assert_eq!((line, f), (n + 1, field), "{value}")
                }
                other => panic!("{value}: {other:?}"),
            }
        }
        let body_only = lines[..6].join("\n") + "\n";
        assert_eq!(error(&body_only), CheckpointError::NoSignature { line: 7 });
        let signature = &lines[7];
        let key_id = key(7).public_key().key_id();
        for (line, reason_part) in [
            (signature.replacen('—', "-", 1), "em dash"),
            (format!("— {key_id}"), "separated"),
            (format!("— {key_id} ***"), "base64"),
            (format!("— {key_id} AAAA"), "64 bytes"),
            (signature.replacen(&key_id, "XYZ", 1), "16 lowercase hex"),
        ] {
            match error(&with(7, &line)) {
                CheckpointError::BadSignatureLine { line: 8, reason } => {
                    assert!(reason.contains(reason_part), "{line}: {reason}")
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        let other_key = key(9).public_key().key_id();
        assert_eq!(
            error(&with(7, &signature.replacen(&key_id, &other_key, 1))),
            CheckpointError::KeyMismatch {
                body_key: key_id.clone(),
                signature_key: other_key
            }
        );
        assert_eq!(
            error(&(text.clone() + "more\n")),
            CheckpointError::TrailingText { line: 9 }
        );
        // Every error reads as a sentence naming where.
        assert!(error(&with(2, "seq 0"))
            .to_string()
            .starts_with("line 3: `seq`"));
    }

    #[test]
    fn keys_round_trip_and_bad_keys_are_named() {
        let signing = key(3);
        let again = AuditSigningKey::parse(&signing.to_file_text()).unwrap();
        assert_eq!(again.public_key(), signing.public_key());
        let public = AuditPublicKey::parse(&signing.public_key().to_text()).unwrap();
        assert_eq!(public, signing.public_key());
        assert_eq!(public.key_id().len(), 16);
        assert_ne!(public.key_id(), key(4).public_key().key_id());
        assert!(!format!("{signing:?}").contains(&BASE64.encode([3u8; 32])));
        assert_eq!(
            AuditSigningKey::parse("hello").unwrap_err(),
            KeyError::NotASigningKey
        );
        assert_eq!(
            AuditSigningKey::parse(&format!("{SIGNING_KEY_HEADER}\n!!\n")).unwrap_err(),
            KeyError::NotBase64
        );
        assert_eq!(
            AuditSigningKey::parse(&format!("{SIGNING_KEY_HEADER}\nAAAA\n")).unwrap_err(),
            KeyError::Length { found: 3 }
        );
        assert_eq!(
            AuditSigningKey::parse(&(signing.to_file_text() + "extra\n")).unwrap_err(),
            KeyError::TrailingLines
        );
        assert_eq!(
            AuditPublicKey::parse("AAAA").unwrap_err(),
            KeyError::Length { found: 3 }
        );
    }

    #[test]
    fn removed_newest_records_and_rewrites_are_named() {
        let records = chain(20);
        let anchor = |at: usize, label: &str| Anchor {
            label: label.into(),
            checkpoint: signed(&records, at).checkpoint,
        };
        let check = |records: &[StoredAuditRecord], anchors: Vec<Anchor>| {
            let mut check = AnchorCheck::new(anchors);
            for record in records {
                check.observe(record);
            }
            check.finish(records.last().map_or(0, |r| r.entry.seq))
        };
        // The whole log: nothing to say.
        assert_eq!(
            check(
                &records,
                vec![anchor(20, "checkpoint 2"), anchor(5, "checkpoint 1")]
            ),
            vec![]
        );
        // The newest 10 records removed.
        let cut = &records[..10];
        let faults = check(
            cut,
            vec![anchor(5, "checkpoint 1"), anchor(20, "checkpoint 2")],
        );
        assert_eq!(
            faults,
            vec![AnchorFault::RecordsMissing {
                label: "checkpoint 2".into(),
                log_end: 10,
                signed_seq: 20
            }]
        );
        assert_eq!(
            faults[0].to_string(),
            "the log ends at 10 but checkpoint 2 signed 20: 10 records are missing (the newest records were removed)"
        );
        assert!(check(&[], vec![anchor(1, "c")])[0]
            .to_string()
            .contains("ends at 0 but c signed 1: 1 record is missing"));
        // A rewritten chain: intact as a chain, but not the one signed.
        let mut rewritten = chain(20);
        rewritten[6].entry.actor = "mallory".into();
        let mut previous = rewritten[5].hash.clone();
        for record in &mut rewritten[6..] {
            record.previous_hash = previous.clone();
            record.hash = record.entry.chain_hash(&previous);
            previous = record.hash.clone();
        }
        let mut verifier = super::super::ChainVerifier::default();
        assert!(rewritten.iter().all(|r| verifier.check(r).is_ok()));
        assert_eq!(
            check(
                &rewritten,
                vec![anchor(5, "checkpoint 1"), anchor(12, "checkpoint 2")]
            ),
            vec![AnchorFault::HashDiffers {
                label: "checkpoint 2".into(),
                seq: 12
            }]
        );
        // Another log.
        let other = chain(3)
            .into_iter()
            .map(|mut r| {
                r.hash = r.hash.replace('a', "b");
                r
            })
            .collect::<Vec<_>>();
        assert!(matches!(
            check(&other, vec![anchor(2, "c")])[0],
            AnchorFault::OtherLog { .. }
        ));
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_203), "1,203");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(-12_345), "-12,345");
    }
}
