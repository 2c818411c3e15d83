//! Settings of the streams, consumers and leases, with their defaults and
//! checks. Every setting has a default; `check` names the first field out of
//! range. The ceilings are in [`crate::limits`].

use std::time::Duration;

use crate::error::StreamError;
use crate::limits::{
    ACK_WAIT_MAX, DELIVERIES_MAX, DUPLICATE_WINDOW_MAX, INTAKE_IN_FLIGHT_MAX, ITEM_BYTES_MAX,
    LEASE_TTL_MAX, LEASE_TTL_MIN, PARTITIONS_DEFAULT, PARTITIONS_MAX, PARTITION_BATCH_MAX,
    STREAM_AGE_MAX,
};

/// The intake stream and its dead letters.
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeStreamConfig {
    /// How long JetStream remembers a message id: a publish repeated within
    /// it (a platform retrying after a timeout) is acknowledged as a
    /// duplicate and stored once. The store is idempotent by platform id
    /// anyway; the window only spares it the repeat. Default 10 minutes.
    pub duplicate_window: Duration,
    /// How long an item not yet applied may wait in the stream. The stream
    /// is a buffer in front of PostgreSQL, not a record: this is a last
    /// resort that should never be reached (alert on consumer lag long
    /// before). Default 7 days.
    pub max_age: Duration,
    /// Bytes the stream may hold. When full, publishes are refused (discard
    /// new), so the HTTP layer answers 503 rather than losing items already
    /// acknowledged. Default 8 GiB.
    pub max_bytes: i64,
    /// One item's JSON at most. Default [`ITEM_BYTES_MAX`].
    pub item_bytes_max: usize,
    /// Copies kept in a NATS cluster (1 on a single server; 3 in production
    /// clusters so that losing one NATS node loses nothing).
    pub replicas: usize,
    /// How long a publish waits for JetStream's ack before the caller gets
    /// `Unavailable`. Default 5 seconds.
    pub publish_ack_timeout: Duration,
    /// How long dead letters are kept. Default 30 days.
    pub dead_letter_max_age: Duration,
    /// Bytes of dead letters kept; past it the oldest go. Default 1 GiB.
    pub dead_letter_max_bytes: i64,
}

impl Default for IntakeStreamConfig {
    fn default() -> Self {
        IntakeStreamConfig {
            duplicate_window: Duration::from_secs(10 * 60),
            max_age: Duration::from_secs(7 * 24 * 3_600),
            max_bytes: 8 * 1024 * 1024 * 1024,
            item_bytes_max: ITEM_BYTES_MAX,
            replicas: 1,
            publish_ack_timeout: Duration::from_secs(5),
            dead_letter_max_age: Duration::from_secs(30 * 24 * 3_600),
            dead_letter_max_bytes: 1024 * 1024 * 1024,
        }
    }
}

impl IntakeStreamConfig {
    /// Names the first setting out of range.
    pub fn check(&self) -> Result<(), StreamError> {
        check_range(
            "duplicate_window",
            self.duplicate_window,
            Duration::from_secs(1),
            DUPLICATE_WINDOW_MAX.min(self.max_age),
        )?;
        check_range(
            "max_age",
            self.max_age,
            Duration::from_secs(60),
            STREAM_AGE_MAX,
        )?;
        check_positive("max_bytes", self.max_bytes)?;
        if self.item_bytes_max == 0 || self.item_bytes_max > ITEM_BYTES_MAX {
            return Err(StreamError::invalid(
                "item_bytes_max",
                format!(
                    "must be from 1 to {ITEM_BYTES_MAX}, got {}",
                    self.item_bytes_max
                ),
            ));
        }
        check_replicas(self.replicas)?;
        check_range(
            "publish_ack_timeout",
            self.publish_ack_timeout,
            Duration::from_millis(100),
            Duration::from_secs(60),
        )?;
        check_range(
            "dead_letter_max_age",
            self.dead_letter_max_age,
            Duration::from_secs(60),
            STREAM_AGE_MAX,
        )?;
        check_positive("dead_letter_max_bytes", self.dead_letter_max_bytes)
    }
}

/// The intake consumer every server runs.
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeConsumerConfig {
    /// How long JetStream waits for an ack before delivering a message
    /// again (to any server). A running apply extends it with progress acks,
    /// so this bounds only how long a crashed server's messages wait.
    /// Default 30 seconds.
    pub ack_wait: Duration,
    /// Deliveries of one message before it goes to the dead letters whatever
    /// the error (retriable errors that never stop, a message that crashes
    /// the server). Default 10.
    pub deliveries_max: u32,
    /// Messages this server applies at once. Default 64.
    pub in_flight_max: usize,
    /// How long one pull waits for messages; bounds how soon the loop sees
    /// a shutdown. Default 1 second.
    pub fetch_wait: Duration,
    /// The delay before the first redelivery after a retriable error;
    /// doubled each time. Default 1 second.
    pub retry_delay_base: Duration,
    /// The longest such delay. Default 60 seconds.
    pub retry_delay_max: Duration,
    /// How long a shutdown waits for applies in flight; those still running
    /// then are abandoned and redelivered after `ack_wait`. Default 30 s.
    pub drain_timeout: Duration,
}

impl Default for IntakeConsumerConfig {
    fn default() -> Self {
        IntakeConsumerConfig {
            ack_wait: Duration::from_secs(30),
            deliveries_max: 10,
            in_flight_max: 64,
            fetch_wait: Duration::from_secs(1),
            retry_delay_base: Duration::from_secs(1),
            retry_delay_max: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

impl IntakeConsumerConfig {
    /// Names the first setting out of range.
    pub fn check(&self) -> Result<(), StreamError> {
        check_range(
            "ack_wait",
            self.ack_wait,
            Duration::from_secs(1),
            ACK_WAIT_MAX,
        )?;
        if self.deliveries_max == 0 || self.deliveries_max > DELIVERIES_MAX {
            return Err(StreamError::invalid(
                "deliveries_max",
                format!(
                    "must be from 1 to {DELIVERIES_MAX}, got {}",
                    self.deliveries_max
                ),
            ));
        }
        if self.in_flight_max == 0 || self.in_flight_max > INTAKE_IN_FLIGHT_MAX {
            return Err(StreamError::invalid(
                "in_flight_max",
                format!(
                    "must be from 1 to {INTAKE_IN_FLIGHT_MAX}, got {}",
                    self.in_flight_max
                ),
            ));
        }
        check_range(
            "fetch_wait",
            self.fetch_wait,
            Duration::from_millis(10),
            Duration::from_secs(30),
        )?;
        check_range(
            "retry_delay_base",
            self.retry_delay_base,
            Duration::from_millis(1),
            self.retry_delay_max,
        )?;
        check_range(
            "retry_delay_max",
            self.retry_delay_max,
            self.retry_delay_base,
            ACK_WAIT_MAX,
        )?;
        check_range(
            "drain_timeout",
            self.drain_timeout,
            Duration::ZERO,
            Duration::from_secs(600),
        )
    }

    /// The delay before delivery `delivered + 1` after a retriable error on
    /// delivery `delivered` (1 for the first): base × 2^(delivered − 1),
    /// at most `retry_delay_max`.
    pub fn retry_delay(&self, delivered: u64) -> Duration {
        let doublings = delivered.saturating_sub(1).min(32) as u32;
        self.retry_delay_base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.retry_delay_max)
    }
}

/// The partitioned event stream.
#[derive(Debug, Clone, PartialEq)]
pub struct EventStreamConfig {
    /// Partitions; a key always lands in the same one. Changing it moves
    /// keys between partitions: drain the stream first. Default 16.
    pub partitions: u16,
    /// As for intake: a re-published event (an intake message applied again
    /// after a crash) within it is stored once. Default 10 minutes.
    pub duplicate_window: Duration,
    /// How long an event not yet processed may wait. Default 7 days.
    pub max_age: Duration,
    /// Bytes the stream may hold; when full, publishes are refused (the
    /// intake consumer retries), never old events dropped. Default 8 GiB.
    pub max_bytes: i64,
    /// Copies kept in a NATS cluster.
    pub replicas: usize,
    /// How long a publish waits for JetStream's ack. Default 5 seconds.
    pub publish_ack_timeout: Duration,
}

impl Default for EventStreamConfig {
    fn default() -> Self {
        EventStreamConfig {
            partitions: PARTITIONS_DEFAULT,
            duplicate_window: Duration::from_secs(10 * 60),
            max_age: Duration::from_secs(7 * 24 * 3_600),
            max_bytes: 8 * 1024 * 1024 * 1024,
            replicas: 1,
            publish_ack_timeout: Duration::from_secs(5),
        }
    }
}

impl EventStreamConfig {
    /// Names the first setting out of range.
    pub fn check(&self) -> Result<(), StreamError> {
        if self.partitions == 0 || self.partitions > PARTITIONS_MAX {
            return Err(StreamError::invalid(
                "partitions",
                format!(
                    "must be from 1 to {PARTITIONS_MAX}, got {}",
                    self.partitions
                ),
            ));
        }
        check_range(
            "duplicate_window",
            self.duplicate_window,
            Duration::from_secs(1),
            DUPLICATE_WINDOW_MAX.min(self.max_age),
        )?;
        check_range(
            "max_age",
            self.max_age,
            Duration::from_secs(60),
            STREAM_AGE_MAX,
        )?;
        check_positive("max_bytes", self.max_bytes)?;
        check_replicas(self.replicas)?;
        check_range(
            "publish_ack_timeout",
            self.publish_ack_timeout,
            Duration::from_millis(100),
            Duration::from_secs(60),
        )
    }
}

/// Partition leases and the workers that hold them.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionWorkerConfig {
    /// How long a lease lasts without renewal: a crashed server's
    /// partitions are taken over after at most this. Renewed every third of
    /// it. Default 15 seconds.
    pub lease_ttl: Duration,
    /// How long JetStream waits for a partition batch's acks before
    /// delivering it again (to the partition's next owner). Default 30 s.
    pub ack_wait: Duration,
    /// Events in one batch (one transaction of the detection worker).
    /// Default 256.
    pub batch_max: usize,
    /// How long one pull waits for events. Default 1 second.
    pub fetch_wait: Duration,
    /// The delay before a failed batch is delivered again. Default 1 s.
    pub retry_delay: Duration,
}

impl Default for PartitionWorkerConfig {
    fn default() -> Self {
        PartitionWorkerConfig {
            lease_ttl: Duration::from_secs(15),
            ack_wait: Duration::from_secs(30),
            batch_max: 256,
            fetch_wait: Duration::from_secs(1),
            retry_delay: Duration::from_secs(1),
        }
    }
}

impl PartitionWorkerConfig {
    /// Names the first setting out of range.
    pub fn check(&self) -> Result<(), StreamError> {
        check_range("lease_ttl", self.lease_ttl, LEASE_TTL_MIN, LEASE_TTL_MAX)?;
        check_range(
            "ack_wait",
            self.ack_wait,
            Duration::from_secs(1),
            ACK_WAIT_MAX,
        )?;
        if self.batch_max == 0 || self.batch_max > PARTITION_BATCH_MAX {
            return Err(StreamError::invalid(
                "batch_max",
                format!(
                    "must be from 1 to {PARTITION_BATCH_MAX}, got {}",
                    self.batch_max
                ),
            ));
        }
        check_range(
            "fetch_wait",
            self.fetch_wait,
            Duration::from_millis(10),
            self.lease_ttl / 3,
        )?;
        check_range(
            "retry_delay",
            self.retry_delay,
            Duration::from_millis(1),
            Duration::from_secs(600),
        )
    }

    /// How often leases are renewed and the partitions rebalanced.
    pub fn tick(&self) -> Duration {
        self.lease_ttl / 3
    }
}

fn check_range(
    field: &'static str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), StreamError> {
    if value < min || value > max {
        return Err(StreamError::invalid(
            field,
            format!("must be from {min:?} to {max:?}, got {value:?}"),
        ));
    }
    Ok(())
}

fn check_positive(field: &'static str, value: i64) -> Result<(), StreamError> {
    if value <= 0 {
        return Err(StreamError::invalid(
            field,
            format!("must be positive, got {value}"),
        ));
    }
    Ok(())
}

fn check_replicas(replicas: usize) -> Result<(), StreamError> {
    // JetStream allows at most 5 replicas.
    if !(1..=5).contains(&replicas) {
        return Err(StreamError::invalid(
            "replicas",
            format!("must be from 1 to 5, got {replicas}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_their_checks() {
        IntakeStreamConfig::default().check().unwrap();
        IntakeConsumerConfig::default().check().unwrap();
        EventStreamConfig::default().check().unwrap();
        PartitionWorkerConfig::default().check().unwrap();
    }

    #[test]
    fn checks_name_the_field_out_of_range() {
        let field_of = |result: Result<(), StreamError>| match result {
            Err(StreamError::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        };
        let intake = IntakeStreamConfig {
            item_bytes_max: ITEM_BYTES_MAX + 1,
            ..Default::default()
        };
        assert_eq!(field_of(intake.check()), "item_bytes_max");
        let intake = IntakeStreamConfig {
            duplicate_window: Duration::from_secs(3_600),
            max_age: Duration::from_secs(600),
            ..Default::default()
        };
        assert_eq!(field_of(intake.check()), "duplicate_window");
        let consumer = IntakeConsumerConfig {
            in_flight_max: 0,
            ..Default::default()
        };
        assert_eq!(field_of(consumer.check()), "in_flight_max");
        let consumer = IntakeConsumerConfig {
            deliveries_max: DELIVERIES_MAX + 1,
            ..Default::default()
        };
        assert_eq!(field_of(consumer.check()), "deliveries_max");
        let events = EventStreamConfig {
            partitions: PARTITIONS_MAX + 1,
            ..Default::default()
        };
        assert_eq!(field_of(events.check()), "partitions");
        let events = EventStreamConfig {
            partitions: PARTITIONS_MAX,
            ..Default::default()
        };
        events.check().unwrap();
        let workers = PartitionWorkerConfig {
            lease_ttl: Duration::from_millis(999),
            ..Default::default()
        };
        assert_eq!(field_of(workers.check()), "lease_ttl");
        let workers = PartitionWorkerConfig {
            batch_max: PARTITION_BATCH_MAX + 1,
            ..Default::default()
        };
        assert_eq!(field_of(workers.check()), "batch_max");
    }

    #[test]
    fn retry_delays_double_up_to_the_ceiling() {
        let config = IntakeConsumerConfig::default();
        assert_eq!(config.retry_delay(1), Duration::from_secs(1));
        assert_eq!(config.retry_delay(2), Duration::from_secs(2));
        assert_eq!(config.retry_delay(4), Duration::from_secs(8));
        assert_eq!(config.retry_delay(7), Duration::from_secs(60));
        assert_eq!(config.retry_delay(u64::MAX), Duration::from_secs(60));
    }
}
