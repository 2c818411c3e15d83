//! Partitions of the event stream: which partition an event goes to, and
//! how many partitions each server should hold. Pure functions.
//!
//! **The partition key is the event's actor** (the account that did it),
//! else its subject, else the event itself. Velocity rules count events per
//! key in a window, and the keys they use are mostly the actor
//! (`velocity("links:" + actor_id, "1h")`) or the subject; with one worker
//! per partition, every event of an actor reaches the same worker in stream
//! order, so its windows are exact whichever server took the events in.
//! Velocity keyed by something that spans actors (an IP address, a device)
//! is counted per partition, so it is exact only when all its events share
//! a partition: such rules need counters kept across partitions (JetStream
//! KV with compare-and-set), which this layer does not provide yet.
//!
//! The hash is SHA-256 of the key (`<kind>/<id>`), its first eight bytes
//! big-endian, modulo the partition count: stable across processes,
//! versions and languages. Changing the count moves keys between partitions;
//! drain the event stream first.

use std::fmt;

use sha2::{Digest, Sha256};
use warden_domain::ids::{PlatformId, SubjectRef};

use crate::error::StreamError;
use crate::limits::PARTITIONS_MAX;

/// One partition: a number below the partition count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition(u16);

impl Partition {
    /// The partition's number.
    pub fn number(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How many partitions there are: 1 to [`PARTITIONS_MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionCount(u16);

impl PartitionCount {
    /// Checks the count.
    pub fn new(count: u16) -> Result<Self, StreamError> {
        if count == 0 || count > PARTITIONS_MAX {
            return Err(StreamError::invalid(
                "partitions",
                format!("must be from 1 to {PARTITIONS_MAX}, got {count}"),
            ));
        }
        Ok(PartitionCount(count))
    }

    /// The count.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Every partition, in order.
    pub fn all(self) -> impl Iterator<Item = Partition> {
        (0..self.0).map(Partition)
    }

    /// The partition numbered `number`, if below the count.
    pub fn partition(self, number: u16) -> Option<Partition> {
        (number < self.0).then_some(Partition(number))
    }

    /// The partition of a key.
    pub fn of_key(self, key: &str) -> Partition {
        let digest = Sha256::digest(key.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let hash = u64::from_be_bytes(first);
        // The remainder is below the count, a u16.
        Partition((hash % u64::from(self.0)) as u16)
    }

    /// How many partitions one of `live_servers` servers should hold: the
    /// count divided among them, rounded up, so that together they hold
    /// every partition.
    pub fn fair_share(self, live_servers: usize) -> usize {
        usize::from(self.0).div_ceil(live_servers.max(1))
    }

    /// The order in which `server_id` prefers partitions (rendezvous
    /// hashing): each server has its own order, so servers starting together
    /// do not all race for partition 0, and a server that comes back tends
    /// to get its old partitions. It releases from the end of this order.
    pub fn preference(self, server_id: &str) -> Vec<Partition> {
        let mut ranked: Vec<(u64, Partition)> = self
            .all()
            .map(|partition| {
                let digest = Sha256::digest(format!("{server_id}:{partition}").as_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                (u64::from_be_bytes(first), partition)
            })
            .collect();
        ranked.sort_unstable();
        ranked.into_iter().map(|(_, partition)| partition).collect()
    }
}

/// The partition key of an event: `<kind>/<id>` of its actor, else of its
/// subject, else `event/<event id>`.
pub fn event_partition_key(
    actor: Option<&SubjectRef>,
    subject: Option<&SubjectRef>,
    event_id: &PlatformId,
) -> String {
    match actor.or(subject) {
        Some(reference) => format!("{}/{}", reference.kind, reference.id),
        None => format!("event/{event_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_domain::ids::SubjectKind;

    fn reference(kind: SubjectKind, id: &str) -> SubjectRef {
        SubjectRef::new(kind, PlatformId::parse(id).unwrap())
    }

    #[test]
    fn the_hash_is_the_documented_one() {
        // SHA-256("account/acct_17") starts with these eight bytes; the
        // value pins the function so that it can never change by accident.
        let count = PartitionCount::new(16).unwrap();
        let digest = Sha256::digest(b"account/acct_17");
        let expected = u64::from_be_bytes(digest[..8].try_into().unwrap()) % 16;
        assert_eq!(
            u64::from(count.of_key("account/acct_17").number()),
            expected
        );
        assert_eq!(
            count.of_key("account/acct_17"),
            count.of_key("account/acct_17")
        );
        assert_eq!(
            PartitionCount::new(1).unwrap().of_key("anything").number(),
            0
        );
    }

    #[test]
    fn keys_spread_over_every_partition() {
        let count = PartitionCount::new(16).unwrap();
        let mut seen = [0usize; 16];
        for i in 0..16_000 {
            seen[usize::from(count.of_key(&format!("account/a{i}")).number())] += 1;
        }
        for (partition, n) in seen.iter().enumerate() {
            assert!(
                (800..1_200).contains(n),
                "partition {partition} got {n} of 16,000 keys"
            );
        }
    }

    #[test]
    fn the_key_is_the_actor_then_the_subject_then_the_event() {
        let event = PlatformId::parse("evt_1").unwrap();
        let actor = reference(SubjectKind::Account, "acct_17");
        let subject = reference(SubjectKind::Message, "msg_3");
        assert_eq!(
            event_partition_key(Some(&actor), Some(&subject), &event),
            "account/acct_17"
        );
        assert_eq!(
            event_partition_key(None, Some(&subject), &event),
            "message/msg_3"
        );
        assert_eq!(event_partition_key(None, None, &event), "event/evt_1");
    }

    #[test]
    fn fair_shares_cover_every_partition() {
        let count = PartitionCount::new(16).unwrap();
        assert_eq!(count.fair_share(0), 16);
        assert_eq!(count.fair_share(1), 16);
        assert_eq!(count.fair_share(3), 6);
        assert_eq!(count.fair_share(4), 4);
        assert_eq!(count.fair_share(40), 1);
        for servers in 1..40 {
            assert!(count.fair_share(servers) * servers >= 16);
        }
    }

    #[test]
    fn preferences_are_permutations_and_differ_between_servers() {
        let count = PartitionCount::new(16).unwrap();
        let a = count.preference("server-a");
        let b = count.preference("server-b");
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, count.all().collect::<Vec<_>>());
        assert_ne!(a, b);
        assert_eq!(a, count.preference("server-a"));
    }

    #[test]
    fn counts_out_of_range_are_refused() {
        assert!(PartitionCount::new(0).is_err());
        assert!(PartitionCount::new(PARTITIONS_MAX + 1).is_err());
        assert!(PartitionCount::new(PARTITIONS_MAX).is_ok());
        let count = PartitionCount::new(4).unwrap();
        assert_eq!(count.partition(3).map(Partition::number), Some(3));
        assert_eq!(count.partition(4), None);
    }
}
