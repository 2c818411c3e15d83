//! The audit chain: each record carries the hash of the one before, so that
//! an edited or deleted record breaks the chain where it was changed.
//! [`checkpoint`] signs the chain's head, so that removing the newest
//! records, which leaves a shorter intact chain, shows too.

pub mod checkpoint;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The hash that the first record links to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record's content, as hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When, in milliseconds since the epoch (UTC).
    pub at_ms: i64,
    /// Who: a user name, or `system`.
    pub actor: String,
    /// What was done: `case.claim`, `case.read`, `intake.reports`, ...
    pub action: String,
    /// What it was done to: `case`, `subject`, `user`, `token`, ...
    pub target_kind: String,
    /// Which one.
    pub target_id: String,
    /// State before a change, if any.
    pub before: Value,
    /// State after a change, or details of a read.
    pub after: Value,
}

impl AuditEntry {
    /// The hash of this record chained to `previous_hash`.
    pub fn chain_hash(&self, previous_hash: &str) -> String {
        let canonical = json!({
            "seq": self.seq,
            "at_ms": self.at_ms,
            "actor": self.actor,
            "action": self.action,
            "target_kind": self.target_kind,
            "target_id": self.target_id,
            "before": self.before,
            "after": self.after,
        });
        let mut hasher = Sha256::new();
        hasher.update(previous_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(serde_json::to_vec(&canonical).unwrap_or_default());
        hex::encode(hasher.finalize())
    }
}

/// A stored record: its content, the hash it links to and its own hash.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAuditRecord {
    /// The content.
    pub entry: AuditEntry,
    /// The previous record's hash as stored with this one.
    pub previous_hash: String,
    /// This record's hash as stored.
    pub hash: String,
}

/// What is wrong with the chain, at the first bad record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// A record's content no longer matches its hash: it was edited.
    Edited {
        /// The record's sequence number.
        seq: i64,
    },
    /// A record does not link to the one stored before it.
    BrokenLink {
        /// The record's sequence number.
        seq: i64,
    },
    /// Sequence numbers skip: records were deleted.
    Missing {
        /// The first missing sequence number.
        expected_seq: i64,
        /// The sequence number found instead.
        found_seq: i64,
    },
}

impl std::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainFault::Edited { seq } => write!(f, "audit record {seq} was edited: its content does not match its hash"),
            ChainFault::BrokenLink { seq } => write!(f, "audit record {seq} does not link to the record before it (was a record replaced?)"),
            ChainFault::Missing { expected_seq, found_seq } => write!(f, "audit record {expected_seq} is missing (deleted?): the next record found is {found_seq}"),
        }
    }
}

/// Checks records in sequence order, continuing from `previous` (the last
/// good record's sequence number and hash).
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    previous_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            previous_hash: GENESIS_HASH.to_string(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    /// A verifier that continues after a record already checked: the next
    /// record must be `next_seq` and link to `previous_hash`.
    pub fn resume(next_seq: i64, previous_hash: &str) -> Self {
        Self {
            expected_seq: next_seq,
            previous_hash: previous_hash.to_string(),
            checked: 0,
        }
    }

    /// Checks the next record.
    pub fn check(&mut self, record: &StoredAuditRecord) -> Result<(), ChainFault> {
        let seq = record.entry.seq;
        if seq != self.expected_seq {
            return Err(ChainFault::Missing {
                expected_seq: self.expected_seq,
                found_seq: seq,
            });
        }
        if record.previous_hash != self.previous_hash {
            return Err(ChainFault::BrokenLink { seq });
        }
        if record.entry.chain_hash(&record.previous_hash) != record.hash {
            return Err(ChainFault::Edited { seq });
        }
        self.expected_seq += 1;
        self.previous_hash = record.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// How many records passed.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The next sequence number expected.
    pub fn next_seq(&self) -> i64 {
        self.expected_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn verify(records: &[StoredAuditRecord]) -> Result<u64, ChainFault> {
        let mut verifier = ChainVerifier::default();
        for record in records {
            verifier.check(record)?;
        }
        Ok(verifier.checked())
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
    }

    #[test]
    fn edits_and_deletions_are_found() {
        let mut edited = chain(5);
        edited[2].entry.actor = "mallory".into();
        assert_eq!(verify(&edited), Err(ChainFault::Edited { seq: 3 }));

        let mut deleted = chain(5);
        deleted.remove(3);
        assert_eq!(
            verify(&deleted),
            Err(ChainFault::Missing {
                expected_seq: 4,
                found_seq: 5
            })
        );

        let mut relinked = chain(5);
        let forged = relinked[1].entry.chain_hash(GENESIS_HASH);
        relinked[1].previous_hash = GENESIS_HASH.into();
        relinked[1].hash = forged;
        assert_eq!(verify(&relinked), Err(ChainFault::BrokenLink { seq: 2 }));
    }
}
