//! The intake consumer: every server pulls from one durable consumer
//! (`WARDEN_INTAKE_APPLY`), so the servers split the items between them
//! (work-queue semantics), and hands each item to the application's intake
//! command, the same one HTTP intake calls.
//!
//! For each message:
//!
//! - `apply` returned `Ok` (committed): ack. The ack removes it from the
//!   stream. If the ack is lost the message comes again and `apply`, which
//!   is idempotent by platform id, answers "duplicate": still `Ok`.
//! - [`ApplyError::Retriable`] (the database is down, a deadlock): nak with
//!   a delay that doubles per delivery, so it comes again later, to this or
//!   another server.
//! - [`ApplyError::Permanent`] (a bad item): publish it to the dead letters
//!   (`warden.dead.intake.<kind>`, the original body and headers plus
//!   `Warden-Dead-Reason`, `-Subject`, `-Stream`, `-Sequence`,
//!   `-Deliveries`), wait for that to be stored, then ack. A bad item never
//!   blocks the stream. If the dead letter cannot be stored, nak instead.
//! - Retriable errors past `deliveries_max`, and a message delivered more
//!   than `deliveries_max` times without an outcome (the servers handling it
//!   crashed), go to the dead letters too. The server's own `max_deliver`
//!   is unlimited, because a message it gave up on would stay in the work
//!   queue unseen.
//!
//! A panic in `apply` counts as a retriable error. While `apply` runs the
//! message's ack deadline is extended (progress acks every half `ack_wait`),
//! so `ack_wait` only bounds how long a crashed server's messages wait.
//! In flight at once: at most `in_flight_max` per server. Shutdown: no new
//! pulls, the applies in flight finish (up to `drain_timeout`).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::AckKind;
use async_nats::{HeaderMap, HeaderValue};
use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::config::IntakeConsumerConfig;
use crate::connection::StreamConnection;
use crate::error::{publish_error, StreamError};
use crate::intake::IntakeKind;
use crate::limits::{DEAD_REASON_BYTES_MAX, INTAKE_ACK_PENDING_MAX};
use crate::shutdown::Shutdown;
use crate::topology::Topology;

/// Why an item was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// Trying again later may work (the database is unreachable, a
    /// serialisation failure): the item is delivered again after a delay.
    Retriable(String),
    /// The item itself is bad (not JSON, a field refused, a conflict with a
    /// stored item): it goes to the dead letters with this reason.
    Permanent(String),
}

/// One intake item as delivered to `apply`.
#[derive(Debug, Clone)]
pub struct IntakeDelivery {
    /// What it is (from its subject).
    pub kind: IntakeKind,
    /// Its JSON, as published.
    pub body: Bytes,
    /// Its `Nats-Msg-Id`, if the publisher set one.
    pub message_id: Option<String>,
    /// Its sequence in the intake stream.
    pub stream_sequence: u64,
    /// Which delivery this is (1 for the first).
    pub delivered: u64,
}

/// What the intake consumer calls for each item: the application's intake
/// command. It must be idempotent by the item's platform id (a message may
/// be delivered again after its apply committed) and return only after the
/// item is committed.
pub trait IntakeApplier: Send + Sync + 'static {
    /// Applies one item.
    fn apply(
        &self,
        delivery: IntakeDelivery,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send;
}

impl<F, Fut> IntakeApplier for F
where
    F: Fn(IntakeDelivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ApplyError>> + Send,
{
    fn apply(
        &self,
        delivery: IntakeDelivery,
    ) -> impl Future<Output = Result<(), ApplyError>> + Send {
        self(delivery)
    }
}

/// The intake consumer's counters, read by the server's `/metrics`.
#[derive(Debug, Default)]
pub struct IntakeCounters {
    delivered: AtomicU64,
    redelivered: AtomicU64,
    applied: AtomicU64,
    retried: AtomicU64,
    dead: AtomicU64,
    in_flight: AtomicU64,
}

/// A reading of [`IntakeCounters`]: plain numbers since the server started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntakeCounts {
    /// Messages received (each delivery counts).
    pub delivered: u64,
    /// Of those, deliveries after the first (after a retry, a crash, a lost ack).
    pub redelivered: u64,
    /// Items applied and acked.
    pub applied: u64,
    /// Retriable failures, naked for a later delivery.
    pub retried: u64,
    /// Items sent to the dead letters.
    pub dead: u64,
    /// Applies running now.
    pub in_flight: u64,
}

impl IntakeCounters {
    /// The numbers now.
    pub fn snapshot(&self) -> IntakeCounts {
        IntakeCounts {
            delivered: self.delivered.load(Ordering::Relaxed),
            redelivered: self.redelivered.load(Ordering::Relaxed),
            applied: self.applied.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            dead: self.dead.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }
}

/// The intake consumer of one server.
#[derive(Debug)]
pub struct IntakeConsumer {
    consumer: PullConsumer,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: IntakeConsumerConfig,
    intake_prefix: String,
    dead_prefix: String,
    stream_name: String,
    dead_letters: jetstream::Context,
    counters: Arc<IntakeCounters>,
}

impl IntakeConsumer {
    /// Creates the shared durable consumer on the intake stream, or updates
    /// it to `config`. The intake stream must exist
    /// ([`crate::IntakeStream::ensure`]).
    pub async fn ensure(
        connection: &StreamConnection,
        topology: &Topology,
        config: &IntakeConsumerConfig,
    ) -> Result<Self, StreamError> {
        config.check()?;
        connection.require_connected()?;
        let name = topology.intake_consumer();
        let consumer_config = pull::Config {
            durable_name: Some(name.clone()),
            description: Some("Warden: applies intake items to the store".into()),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: config.ack_wait,
            // Unlimited: this crate dead-letters after `deliveries_max`
            // (JetStream refuses a backoff list with an unlimited
            // `max_deliver`, so redeliveries after a crash come every
            // `ack_wait`, at most `deliveries_max` times).
            max_deliver: -1,
            max_ack_pending: INTAKE_ACK_PENDING_MAX as i64,
            ..Default::default()
        };
        let stream = connection
            .jetstream()
            .get_stream_no_info(topology.intake_stream())
            .await
            .map_err(|error| StreamError::from_nats("the intake stream", &error))?;
        let consumer = create_or_update_consumer(&stream, &name, consumer_config).await?;
        let dead_letters = connection.jetstream_with_ack_timeout(Duration::from_secs(5));
        Ok(IntakeConsumer {
            consumer,
            shared: Arc::new(Shared {
                config: config.clone(),
                intake_prefix: format!("{}.", topology.intake_subject_prefix()),
                dead_prefix: format!("{}.intake", topology.dead_subject_prefix()),
                stream_name: topology.intake_stream(),
                dead_letters,
                counters: Arc::default(),
            }),
        })
    }

    /// The counters, to export.
    pub fn counters(&self) -> Arc<IntakeCounters> {
        Arc::clone(&self.shared.counters)
    }

    /// Pulls and applies items until `shutdown`, then lets the applies in
    /// flight finish. Pull errors (NATS down) are logged and retried; this
    /// returns only at shutdown.
    pub async fn run<A: IntakeApplier>(&self, applier: Arc<A>, mut shutdown: Shutdown) {
        let permits = Arc::new(Semaphore::new(self.shared.config.in_flight_max));
        let mut tasks = JoinSet::new();
        while !shutdown.is_triggered() {
            while let Some(result) = tasks.try_join_next() {
                report_task(result);
            }
            let free = permits.available_permits();
            if free == 0 {
                tokio::select! {
                    Some(result) = tasks.join_next() => report_task(result),
                    _ = shutdown.triggered() => {}
                }
                continue;
            }
            let batch = self
                .consumer
                .batch()
                .max_messages(free)
                .expires(self.shared.config.fetch_wait)
                .messages()
                .await;
            let mut batch = match batch {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(%error, "intake: pull failed; trying again");
                    pause(self.shared.config.fetch_wait, &mut shutdown).await;
                    continue;
                }
            };
            while let Some(message) = batch.next().await {
                let message = match message {
                    Ok(message) => message,
                    Err(error) => {
                        tracing::warn!(%error, "intake: pull interrupted");
                        break;
                    }
                };
                // At most `free` messages were asked for, so a permit is
                // there; if not, the message goes back at once.
                match Arc::clone(&permits).try_acquire_owned() {
                    Ok(permit) => {
                        tasks.spawn(handle(
                            Arc::clone(&self.shared),
                            Arc::clone(&applier),
                            message,
                            permit,
                        ));
                    }
                    Err(_) => {
                        let _ = message.ack_with(AckKind::Nak(None)).await;
                    }
                }
            }
        }
        let drain = async {
            while let Some(result) = tasks.join_next().await {
                report_task(result);
            }
        };
        if tokio::time::timeout(self.shared.config.drain_timeout, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                abandoned = tasks.len(),
                "intake: applies still running at the end of the drain; their items come again after the ack wait"
            );
            tasks.abort_all();
        }
    }
}

/// Handles one message to its end: apply, then ack, nak or dead-letter.
async fn handle<A: IntakeApplier>(
    shared: Arc<Shared>,
    applier: Arc<A>,
    message: jetstream::Message,
    _permit: OwnedSemaphorePermit,
) {
    let counters = &shared.counters;
    counters.in_flight.fetch_add(1, Ordering::Relaxed);
    let (stream_sequence, delivered) = match message.info() {
        Ok(info) => (
            info.stream_sequence,
            u64::try_from(info.delivered).unwrap_or(1),
        ),
        // A pulled message always has JetStream's reply subject.
        Err(_) => (0, 1),
    };
    counters.delivered.fetch_add(1, Ordering::Relaxed);
    if delivered > 1 {
        counters.redelivered.fetch_add(1, Ordering::Relaxed);
    }
    let kind = message
        .subject
        .as_str()
        .strip_prefix(shared.intake_prefix.as_str())
        .and_then(|token| token.parse::<IntakeKind>().ok());
    let deliveries_max = u64::from(shared.config.deliveries_max);
    let outcome = match kind {
        _ if delivered > deliveries_max => Err(ApplyError::Permanent(format!(
            "delivered {delivered} times without an outcome (the servers handling it stopped or timed out)"
        ))),
        None => Err(ApplyError::Permanent(format!(
            "subject {} names no intake kind",
            message.subject
        ))),
        Some(kind) => {
            let delivery = IntakeDelivery {
                kind,
                body: message.payload.clone(),
                message_id: message
                    .headers
                    .as_ref()
                    .and_then(|headers| headers.get(async_nats::header::NATS_MESSAGE_ID))
                    .map(|value| value.as_str().to_string()),
                stream_sequence,
                delivered,
            };
            apply_with_progress(applier.as_ref(), delivery, &message, shared.config.ack_wait).await
        }
    };
    match outcome {
        Ok(()) => {
            if let Err(error) = message.double_ack().await {
                tracing::warn!(%error, stream_sequence, "intake: ack lost; the item comes again and applies as a duplicate");
            }
            counters.applied.fetch_add(1, Ordering::Relaxed);
        }
        Err(ApplyError::Retriable(reason)) if delivered < deliveries_max => {
            let delay = shared.config.retry_delay(delivered);
            tracing::info!(stream_sequence, delivered, %reason, ?delay, "intake: apply failed; retrying later");
            let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
            counters.retried.fetch_add(1, Ordering::Relaxed);
        }
        Err(ApplyError::Retriable(reason)) => {
            let reason = format!("gave up after {delivered} deliveries: {reason}");
            dead_letter(&shared, &message, kind, stream_sequence, delivered, &reason).await;
        }
        Err(ApplyError::Permanent(reason)) => {
            dead_letter(&shared, &message, kind, stream_sequence, delivered, &reason).await;
        }
    }
    counters.in_flight.fetch_sub(1, Ordering::Relaxed);
}

/// Runs `apply`, telling JetStream every half ack wait that work goes on.
async fn apply_with_progress<A: IntakeApplier>(
    applier: &A,
    delivery: IntakeDelivery,
    message: &jetstream::Message,
    ack_wait: Duration,
) -> Result<(), ApplyError> {
    let apply = AssertUnwindSafe(applier.apply(delivery)).catch_unwind();
    tokio::pin!(apply);
    let mut progress = tokio::time::interval(ack_wait / 2);
    progress.tick().await;
    loop {
        tokio::select! {
            result = &mut apply => {
                return result.unwrap_or_else(|_| Err(ApplyError::Retriable("the apply panicked".into())));
            }
            _ = progress.tick() => {
                let _ = message.ack_with(AckKind::Progress).await;
            }
        }
    }
}

/// Stores the message in the dead letters with the reason, then acks it;
/// if the dead letter cannot be stored, naks it for a later try.
async fn dead_letter(
    shared: &Shared,
    message: &jetstream::Message,
    kind: Option<IntakeKind>,
    stream_sequence: u64,
    delivered: u64,
    reason: &str,
) {
    let subject = format!(
        "{}.{}",
        shared.dead_prefix,
        kind.map_or("unknown", IntakeKind::as_str)
    );
    let headers = dead_letter_headers(
        message.headers.as_ref(),
        &message.subject,
        &shared.stream_name,
        stream_sequence,
        delivered,
        reason,
    );
    let stored = match shared
        .dead_letters
        .publish_with_headers(subject, headers, message.payload.clone())
        .await
    {
        Ok(pending) => pending
            .await
            .map(|_| ())
            .map_err(|error| publish_error(&error)),
        Err(error) => Err(publish_error(&error)),
    };
    match stored {
        Ok(()) => {
            tracing::warn!(stream_sequence, delivered, %reason, "intake: item sent to the dead letters");
            if let Err(error) = message.double_ack().await {
                tracing::warn!(%error, stream_sequence, "intake: ack of a dead-lettered item lost; it comes again and is dead-lettered once more (deduplicated)");
            }
            shared.counters.dead.fetch_add(1, Ordering::Relaxed);
        }
        Err(error) => {
            let delay = shared.config.retry_delay(delivered);
            tracing::error!(%error, stream_sequence, "intake: dead letter not stored; the item comes again");
            let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
            shared.counters.retried.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The original headers (but JetStream's own `Nats-*`), plus the reason and
/// where the item came from. Its message id makes a repeated dead letter of
/// the same message (after a lost ack) a duplicate.
fn dead_letter_headers(
    original: Option<&HeaderMap>,
    subject: &str,
    stream: &str,
    stream_sequence: u64,
    delivered: u64,
    reason: &str,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(original) = original {
        for (name, values) in original.iter() {
            let name: &str = name.as_ref();
            if name.to_ascii_lowercase().starts_with("nats-") {
                continue;
            }
            for value in values {
                headers.append(name, value.clone());
            }
        }
        if let Some(id) = original.get(async_nats::header::NATS_MESSAGE_ID) {
            headers.insert("Warden-Dead-Message-Id", id.clone());
        }
    }
    let texts = [
        ("Nats-Msg-Id", format!("dead:{stream}:{stream_sequence}")),
        ("Warden-Dead-Reason", header_text(reason)),
        ("Warden-Dead-Subject", header_text(subject)),
        ("Warden-Dead-Stream", header_text(stream)),
        ("Warden-Dead-Sequence", stream_sequence.to_string()),
        ("Warden-Dead-Deliveries", delivered.to_string()),
    ];
    for (name, text) in texts {
        // `header_text` left no line breaks, so this cannot fail.
        if let Ok(value) = text.parse::<HeaderValue>() {
            headers.insert(name, value);
        }
    }
    headers
}

/// Text fit for a header value: control characters as spaces, at most
/// [`DEAD_REASON_BYTES_MAX`] bytes (cut at a character boundary).
fn header_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(DEAD_REASON_BYTES_MAX));
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > DEAD_REASON_BYTES_MAX {
            break;
        }
        out.push(c);
    }
    out.trim().to_string()
}

/// Creates a durable consumer, or updates it when it exists with other
/// settings (JetStream updates a durable on creation with a new
/// configuration, and refuses the changes it cannot make, such as the
/// filter of a work-queue consumer).
pub(crate) async fn create_or_update_consumer(
    stream: &jetstream::stream::Stream<()>,
    name: &str,
    config: pull::Config,
) -> Result<PullConsumer, StreamError> {
    stream
        .create_consumer(config)
        .await
        .map_err(|error| StreamError::from_nats(format!("consumer {name}"), &error))
}

async fn pause(duration: Duration, shutdown: &mut Shutdown) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.triggered() => {}
    }
}

fn report_task(result: Result<(), tokio::task::JoinError>) {
    if let Err(error) = result {
        if error.is_panic() {
            tracing::error!(%error, "intake: a message handler panicked; its item comes again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_removes_line_breaks_and_cuts_at_a_character() {
        assert_eq!(header_text("bad\r\nitem\t"), "bad  item");
        let long = "é".repeat(DEAD_REASON_BYTES_MAX);
        let cut = header_text(&long);
        assert!(cut.len() <= DEAD_REASON_BYTES_MAX);
        assert_eq!(cut.len() % 2, 0);
    }

    #[test]
    fn dead_letter_headers_keep_the_original_but_jetstream_headers() {
        let mut original = HeaderMap::new();
        original.insert("Nats-Msg-Id", "events:e1");
        original.insert("Nats-Expected-Stream", "X");
        original.insert("Trace-Id", "abc");
        let headers = dead_letter_headers(
            Some(&original),
            "warden.intake.events",
            "WARDEN_INTAKE",
            42,
            3,
            "field type:\nmust not be empty",
        );
        assert_eq!(headers.get("Trace-Id").unwrap().as_str(), "abc");
        assert!(headers.get("Nats-Expected-Stream").is_none());
        assert_eq!(
            headers.get("Nats-Msg-Id").unwrap().as_str(),
            "dead:WARDEN_INTAKE:42"
        );
        assert_eq!(
            headers.get("Warden-Dead-Message-Id").unwrap().as_str(),
            "events:e1"
        );
        assert_eq!(
            headers.get("Warden-Dead-Reason").unwrap().as_str(),
            "field type: must not be empty"
        );
        assert_eq!(headers.get("Warden-Dead-Deliveries").unwrap().as_str(), "3");
    }
}
