//! The names of everything Warden keeps in NATS, derived from two prefixes so
//! that several installations (and every test) can share one NATS server.
//!
//! With the defaults (subject root `warden`, name prefix `WARDEN`):
//!
//! | what | name |
//! | --- | --- |
//! | intake stream | `WARDEN_INTAKE`, subjects `warden.intake.{subjects,events,reports,signals,appeals}` |
//! | intake consumer | `WARDEN_INTAKE_APPLY` (durable, shared by every server) |
//! | dead letters | `WARDEN_DEAD`, subjects `warden.dead.>` (`warden.dead.intake.<kind>`) |
//! | event stream | `WARDEN_EVENTS`, subjects `warden.events.<partition>` |
//! | partition consumers | `WARDEN_DETECT_P<partition>` (durable, one per partition) |
//! | partition leases | KV bucket `WARDEN_PARTITIONS`, key `p<partition>` → server id |
//! | server heartbeats | KV bucket `WARDEN_SERVERS`, key = server id |
//! | control signals | core NATS `warden.control.<topic>` |

use crate::error::StreamError;
use crate::limits::NAME_BYTES_MAX;

/// The two prefixes every name is derived from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    subject_root: String,
    name_prefix: String,
}

impl Default for Topology {
    fn default() -> Self {
        Topology {
            subject_root: "warden".into(),
            name_prefix: "WARDEN".into(),
        }
    }
}

impl Topology {
    /// Checks both prefixes: the subject root is dot-separated tokens of
    /// ASCII letters, digits, `_` and `-`; the name prefix is ASCII letters,
    /// digits, `_` and `-` (it starts stream, consumer and bucket names).
    pub fn new(subject_root: &str, name_prefix: &str) -> Result<Self, StreamError> {
        check_subject_root(subject_root)?;
        check_name_prefix(name_prefix)?;
        Ok(Topology {
            subject_root: subject_root.into(),
            name_prefix: name_prefix.into(),
        })
    }

    /// The subject root (`warden`).
    pub fn subject_root(&self) -> &str {
        &self.subject_root
    }

    /// The name prefix (`WARDEN`).
    pub fn name_prefix(&self) -> &str {
        &self.name_prefix
    }

    /// `WARDEN_INTAKE`.
    pub fn intake_stream(&self) -> String {
        format!("{}_INTAKE", self.name_prefix)
    }

    /// `warden.intake` (followed by `.<kind>`).
    pub fn intake_subject_prefix(&self) -> String {
        format!("{}.intake", self.subject_root)
    }

    /// `WARDEN_INTAKE_APPLY`: the durable consumer every server shares.
    pub fn intake_consumer(&self) -> String {
        format!("{}_INTAKE_APPLY", self.name_prefix)
    }

    /// `WARDEN_DEAD`.
    pub fn dead_stream(&self) -> String {
        format!("{}_DEAD", self.name_prefix)
    }

    /// `warden.dead` (followed by `.intake.<kind>`).
    pub fn dead_subject_prefix(&self) -> String {
        format!("{}.dead", self.subject_root)
    }

    /// `WARDEN_EVENTS`.
    pub fn events_stream(&self) -> String {
        format!("{}_EVENTS", self.name_prefix)
    }

    /// `warden.events` (followed by `.<partition>`).
    pub fn events_subject_prefix(&self) -> String {
        format!("{}.events", self.subject_root)
    }

    /// `WARDEN_DETECT_P<n>`: the durable consumer of one partition.
    pub fn partition_consumer(&self, partition: u16) -> String {
        format!("{}_DETECT_P{partition}", self.name_prefix)
    }

    /// `WARDEN_PARTITIONS`: the KV bucket of partition leases.
    pub fn lease_bucket(&self) -> String {
        format!("{}_PARTITIONS", self.name_prefix)
    }

    /// `WARDEN_SERVERS`: the KV bucket of server heartbeats.
    pub fn server_bucket(&self) -> String {
        format!("{}_SERVERS", self.name_prefix)
    }

    /// `warden.control` (followed by `.<topic>`).
    pub fn control_subject_prefix(&self) -> String {
        format!("{}.control", self.subject_root)
    }
}

fn check_subject_root(value: &str) -> Result<(), StreamError> {
    check_length("subject_root", value)?;
    for token in value.split('.') {
        if token.is_empty() {
            return Err(StreamError::invalid(
                "subject_root",
                format!("{value:?} has an empty token"),
            ));
        }
        if let Some(c) = token.chars().find(|c| !is_name_char(*c)) {
            return Err(StreamError::invalid(
                "subject_root",
                format!("{value:?} holds {c:?}; use ASCII letters, digits, '_', '-' and '.' between tokens"),
            ));
        }
    }
    Ok(())
}

fn check_name_prefix(value: &str) -> Result<(), StreamError> {
    check_length("name_prefix", value)?;
    if let Some(c) = value.chars().find(|c| !is_name_char(*c)) {
        return Err(StreamError::invalid(
            "name_prefix",
            format!("{value:?} holds {c:?}; use ASCII letters, digits, '_' and '-'"),
        ));
    }
    Ok(())
}

fn check_length(field: &'static str, value: &str) -> Result<(), StreamError> {
    if value.is_empty() {
        return Err(StreamError::invalid(field, "must not be empty"));
    }
    if value.len() > NAME_BYTES_MAX {
        return Err(StreamError::invalid(
            field,
            format!(
                "must be at most {NAME_BYTES_MAX} bytes, got {}",
                value.len()
            ),
        ));
    }
    Ok(())
}

pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_the_documented_table() {
        let topology = Topology::default();
        assert_eq!(topology.intake_stream(), "WARDEN_INTAKE");
        assert_eq!(topology.intake_subject_prefix(), "warden.intake");
        assert_eq!(topology.intake_consumer(), "WARDEN_INTAKE_APPLY");
        assert_eq!(topology.dead_subject_prefix(), "warden.dead");
        assert_eq!(topology.events_subject_prefix(), "warden.events");
        assert_eq!(topology.partition_consumer(7), "WARDEN_DETECT_P7");
        assert_eq!(topology.lease_bucket(), "WARDEN_PARTITIONS");
        assert_eq!(topology.server_bucket(), "WARDEN_SERVERS");
        assert_eq!(topology.control_subject_prefix(), "warden.control");
    }

    #[test]
    fn prefixes_refuse_wildcards_spaces_and_empty_tokens() {
        assert!(Topology::new("test.warden-1", "T_1").is_ok());
        for root in ["", "a..b", "a.*", "a.>", "a b", ".a", "ä"] {
            let error = Topology::new(root, "W").unwrap_err();
            assert!(
                matches!(
                    error,
                    StreamError::Invalid {
                        field: "subject_root",
                        ..
                    }
                ),
                "{root:?}"
            );
        }
        for prefix in ["", "A.B", "A*", "A B"] {
            let error = Topology::new("w", prefix).unwrap_err();
            assert!(
                matches!(
                    error,
                    StreamError::Invalid {
                        field: "name_prefix",
                        ..
                    }
                ),
                "{prefix:?}"
            );
        }
        let long = "a".repeat(NAME_BYTES_MAX + 1);
        assert!(Topology::new(&long, "W").is_err());
        assert!(Topology::new(&long[..NAME_BYTES_MAX], "W").is_ok());
    }
}
