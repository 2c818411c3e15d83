//! The intake stream: every accepted item, stored by JetStream before the
//! platform hears "accepted", waiting for a server's intake consumer to apply
//! it to PostgreSQL.
//!
//! **Retention: work queue.** PostgreSQL is the record; the stream is a
//! buffer of items not applied yet. A message is removed when the consumer
//! acks it, which it does only after the store committed. So the stream's
//! size is the backlog (the number to watch), its disk use follows the
//! backlog rather than throughput, and nothing is kept twice. The price: an
//! applied item cannot be replayed from the stream (replay comes from the
//! store), and no second consumer may read the same subjects (a work-queue
//! stream allows one consumer per subject). When the stream is full it
//! refuses new items (discard new): the HTTP layer answers 503, and nothing
//! already acknowledged is dropped. `max_age` is a last resort, set long.
//!
//! **Deduplication.** Each message carries `Nats-Msg-Id`, and JetStream
//! stores a repeat within the duplicate window once, acknowledging it as a
//! duplicate with the sequence of the first ([`IntakeAck`]):
//!
//! - events, reports, signals and appeals: `<kind>:<platform id>` (for
//!   example `events:evt_55`). These never change once stored: a repeat is
//!   either the same item (duplicate) or another item under a used id
//!   (a conflict); neither changes anything. To tell them apart, compare with
//!   [`IntakeStream::original`] while it is still in the stream, else ask the
//!   store, whose answer is exact.
//! - subjects: `subjects:<subject kind>/<platform id>:<fingerprint>`. A
//!   subject may be updated, so only a repeat of the same content is a
//!   duplicate; new content is a new message.
//!
//! In message ids the platform id is percent-encoded where it holds `%`,
//! spaces or anything outside printable ASCII (NATS trims header values, and
//! ids differing only in spaces must not collide); ordinary ids read as
//! themselves.
//!
//! **Direct publishing.** A platform may publish to `warden.intake.<kind>`
//! itself: the body is one JSON object exactly as the HTTP body
//! (`POST /api/v1/<kind>`), one item per message (no NDJSON), with the
//! `Nats-Msg-Id` above if it wants the stream to drop repeats (the store
//! drops them anyway). JetStream's ack means stored; items that turn out bad
//! go to the dead letters (`warden.dead.intake.<kind>`).

use std::fmt;
use std::str::FromStr;

use async_nats::jetstream;
use async_nats::jetstream::stream::{DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::{HeaderMap, HeaderValue};
use bytes::Bytes;
use warden_domain::ids::{PlatformId, SubjectRef};
use warden_domain::intake::Fingerprint;

use crate::config::IntakeStreamConfig;
use crate::connection::StreamConnection;
use crate::error::{publish_error, StreamError};
use crate::limits::PUBLISH_BATCH_ITEMS_MAX;
use crate::topology::Topology;

/// What an intake item is, and the last token of its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntakeKind {
    /// `POST /api/v1/subjects`: create or update a subject.
    Subjects,
    /// `POST /api/v1/events`.
    Events,
    /// `POST /api/v1/reports`.
    Reports,
    /// `POST /api/v1/signals`.
    Signals,
    /// `POST /api/v1/appeals`.
    Appeals,
}

impl IntakeKind {
    /// Every kind, in a stable order.
    pub const ALL: [IntakeKind; 5] = [
        IntakeKind::Subjects,
        IntakeKind::Events,
        IntakeKind::Reports,
        IntakeKind::Signals,
        IntakeKind::Appeals,
    ];

    /// The subject token and message-id prefix: `subjects`, `events`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            IntakeKind::Subjects => "subjects",
            IntakeKind::Events => "events",
            IntakeKind::Reports => "reports",
            IntakeKind::Signals => "signals",
            IntakeKind::Appeals => "appeals",
        }
    }
}

impl FromStr for IntakeKind {
    type Err = StreamError;

    fn from_str(value: &str) -> Result<Self, StreamError> {
        IntakeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| {
                StreamError::invalid(
                    "kind",
                    format!("unknown kind {value:?}; expected one of subjects, events, reports, signals, appeals"),
                )
            })
    }
}

impl fmt::Display for IntakeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One item ready to publish: its kind, its message id, its JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeItem {
    kind: IntakeKind,
    message_id: String,
    body: Bytes,
}

impl IntakeItem {
    /// An event, report, signal or appeal, deduplicated by the platform's
    /// id (`<kind>:<platform id>`). Subjects change and take
    /// [`IntakeItem::subject`].
    pub fn new(kind: IntakeKind, platform_id: &str, body: Bytes) -> Result<Self, StreamError> {
        if kind == IntakeKind::Subjects {
            return Err(StreamError::invalid(
                "kind",
                "a subject may be updated: build it with IntakeItem::subject, which keys it by its content too",
            ));
        }
        let id = PlatformId::parse(platform_id)
            .map_err(|reason| StreamError::invalid("platform_id", reason))?;
        check_body(&body)?;
        Ok(IntakeItem {
            kind,
            message_id: format!("{kind}:{}", encode_id(id.as_str())),
            body,
        })
    }

    /// A subject, deduplicated by its reference and content
    /// (`subjects:<kind>/<id>:<fingerprint>`): a repeat of the same content
    /// is a duplicate, an update is not.
    pub fn subject(
        reference: &SubjectRef,
        fingerprint: &Fingerprint,
        body: Bytes,
    ) -> Result<Self, StreamError> {
        let fingerprint = fingerprint.0.as_str();
        if fingerprint.is_empty()
            || fingerprint.len() > 128
            || !fingerprint.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(StreamError::invalid(
                "fingerprint",
                "must be 1 to 128 ASCII letters and digits",
            ));
        }
        check_body(&body)?;
        Ok(IntakeItem {
            kind: IntakeKind::Subjects,
            message_id: format!(
                "subjects:{}/{}:{fingerprint}",
                reference.kind,
                encode_id(reference.id.as_str())
            ),
            body,
        })
    }

    /// The kind.
    pub fn kind(&self) -> IntakeKind {
        self.kind
    }

    /// The `Nats-Msg-Id` it is published with.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The JSON.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

/// JetStream's answer to a publish: stored, at this sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeAck {
    /// The stream sequence of the stored message; for a duplicate, that of
    /// the message first stored under its id.
    pub sequence: u64,
    /// True when a message with the same id was stored within the
    /// duplicate window: this publish stored nothing new.
    pub duplicate: bool,
}

/// A message still in the intake stream, read by sequence.
#[derive(Debug, Clone)]
pub struct StoredIntakeMessage {
    /// The subject it was published to.
    pub subject: String,
    /// Its JSON.
    pub body: Bytes,
    /// Its `Nats-Msg-Id`, if it had one.
    pub message_id: Option<String>,
}

/// The intake stream, set up, for publishing.
#[derive(Clone, Debug)]
pub struct IntakeStream {
    connection: StreamConnection,
    topology: Topology,
    config: IntakeStreamConfig,
    publisher: jetstream::Context,
}

impl IntakeStream {
    /// Creates the intake stream and the dead-letter stream, or updates
    /// their settings to `config`. Every server does this at start; it is
    /// idempotent.
    pub async fn ensure(
        connection: &StreamConnection,
        topology: &Topology,
        config: &IntakeStreamConfig,
    ) -> Result<Self, StreamError> {
        config.check()?;
        connection.require_connected()?;
        let prefix = topology.intake_subject_prefix();
        let stream = jetstream::stream::Config {
            name: topology.intake_stream(),
            description: Some("Warden intake: items accepted, not yet applied".into()),
            subjects: IntakeKind::ALL
                .iter()
                .map(|kind| format!("{prefix}.{kind}"))
                .collect(),
            retention: RetentionPolicy::WorkQueue,
            discard: DiscardPolicy::New,
            storage: StorageType::File,
            max_age: config.max_age,
            max_bytes: config.max_bytes,
            max_message_size: i32::try_from(
                config.item_bytes_max + crate::limits::HEADERS_BYTES_RESERVED,
            )
            .map_err(|_| StreamError::invalid("item_bytes_max", "too large"))?,
            duplicate_window: config.duplicate_window,
            num_replicas: config.replicas,
            ..Default::default()
        };
        create_or_update(connection, stream).await?;
        let dead = jetstream::stream::Config {
            name: topology.dead_stream(),
            description: Some(
                "Warden dead letters: items that could not be applied, with the error".into(),
            ),
            subjects: vec![format!("{}.>", topology.dead_subject_prefix())],
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            storage: StorageType::File,
            max_age: config.dead_letter_max_age,
            max_bytes: config.dead_letter_max_bytes,
            duplicate_window: config.duplicate_window,
            num_replicas: config.replicas,
            ..Default::default()
        };
        create_or_update(connection, dead).await?;
        Ok(IntakeStream {
            connection: connection.clone(),
            topology: topology.clone(),
            config: config.clone(),
            publisher: connection.jetstream_with_ack_timeout(config.publish_ack_timeout),
        })
    }

    /// The subject an item of `kind` is published to.
    pub fn subject(&self, kind: IntakeKind) -> String {
        format!("{}.{kind}", self.topology.intake_subject_prefix())
    }

    /// Publishes one item and waits for JetStream's ack: `Ok` means stored
    /// (or a duplicate of something stored). `Unavailable` means nothing
    /// was acknowledged and the platform should retry; a retry of a publish
    /// that was stored after all is then acknowledged as a duplicate.
    pub async fn publish_item(&self, item: &IntakeItem) -> Result<IntakeAck, StreamError> {
        self.check_size(item)?;
        self.connection.require_connected()?;
        let pending = self.send(item).await?;
        await_ack(pending).await
    }

    /// Publishes items pipelined (all sent, then all acks awaited) and
    /// answers one result per item, in order. The whole call fails only for
    /// too many items or a lost connection; otherwise each item succeeds or
    /// fails alone.
    pub async fn publish_batch(
        &self,
        items: &[IntakeItem],
    ) -> Result<Vec<Result<IntakeAck, StreamError>>, StreamError> {
        if items.len() > PUBLISH_BATCH_ITEMS_MAX {
            return Err(StreamError::invalid(
                "items",
                format!(
                    "at most {PUBLISH_BATCH_ITEMS_MAX} items in one batch, got {}",
                    items.len()
                ),
            ));
        }
        self.connection.require_connected()?;
        let mut pending = Vec::with_capacity(items.len());
        for item in items {
            let sent = match self.check_size(item) {
                Ok(()) => self.send(item).await,
                Err(error) => Err(error),
            };
            pending.push(sent);
        }
        let acks = pending.into_iter().map(|sent| async move {
            match sent {
                Ok(pending) => await_ack(pending).await,
                Err(error) => Err(error),
            }
        });
        Ok(futures_util::future::join_all(acks).await)
    }

    /// The message stored at `sequence`, if it is still in the stream
    /// (not applied yet): after a duplicate ack, the first item published
    /// under that id, to tell a duplicate from a conflict.
    pub async fn original(
        &self,
        sequence: u64,
    ) -> Result<Option<StoredIntakeMessage>, StreamError> {
        self.connection.require_connected()?;
        let stream = self
            .connection
            .jetstream()
            .get_stream_no_info(self.topology.intake_stream())
            .await
            .map_err(|error| StreamError::from_nats("the intake stream", &error))?;
        match stream.get_raw_message(sequence).await {
            Ok(message) => Ok(Some(StoredIntakeMessage {
                subject: message.subject.to_string(),
                message_id: message
                    .headers
                    .get(async_nats::header::NATS_MESSAGE_ID)
                    .map(|value| value.as_str().to_string()),
                body: message.payload,
            })),
            Err(error) => match error.kind() {
                jetstream::stream::LastRawMessageErrorKind::NoMessageFound => Ok(None),
                _ => Err(StreamError::from_nats("reading the intake stream", &error)),
            },
        }
    }

    fn check_size(&self, item: &IntakeItem) -> Result<(), StreamError> {
        if item.body.len() > self.config.item_bytes_max {
            return Err(StreamError::invalid(
                "body",
                format!(
                    "an item is at most {} bytes, got {}",
                    self.config.item_bytes_max,
                    item.body.len()
                ),
            ));
        }
        Ok(())
    }

    async fn send(
        &self,
        item: &IntakeItem,
    ) -> Result<jetstream::context::PublishAckFuture, StreamError> {
        let mut headers = HeaderMap::new();
        let message_id = item
            .message_id
            .parse::<HeaderValue>()
            .map_err(|_| StreamError::invalid("platform_id", "cannot be a message id"))?;
        headers.insert(async_nats::header::NATS_MESSAGE_ID, message_id);
        self.publisher
            .publish_with_headers(self.subject(item.kind), headers, item.body.clone())
            .await
            .map_err(|error| publish_error(&error))
    }
}

async fn await_ack(
    pending: jetstream::context::PublishAckFuture,
) -> Result<IntakeAck, StreamError> {
    let ack = pending.await.map_err(|error| publish_error(&error))?;
    Ok(IntakeAck {
        sequence: ack.sequence,
        duplicate: ack.duplicate,
    })
}

fn check_body(body: &Bytes) -> Result<(), StreamError> {
    if body.is_empty() {
        return Err(StreamError::invalid("body", "must not be empty"));
    }
    Ok(())
}

/// Creates a stream, or updates an existing one to `config`.
pub(crate) async fn create_or_update(
    connection: &StreamConnection,
    config: jetstream::stream::Config,
) -> Result<(), StreamError> {
    let name = format!("stream {}", config.name);
    connection
        .jetstream()
        .create_or_update_stream(config)
        .await
        .map(|_| ())
        .map_err(|error| StreamError::from_nats(name, &error))
}

/// A platform id as it appears in a message id: `%`, space and every byte
/// outside printable ASCII percent-encoded.
pub fn encode_id(id: &str) -> String {
    let mut encoded = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_graphic() && byte != b'%' {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_domain::ids::SubjectKind;

    #[test]
    fn message_ids_keep_ordinary_ids_and_encode_the_rest() {
        assert_eq!(encode_id("evt_55"), "evt_55");
        assert_eq!(encode_id("a b"), "a%20b");
        assert_eq!(encode_id(" a"), "%20a");
        assert_eq!(encode_id("100%"), "100%25");
        assert_eq!(encode_id("é"), "%C3%A9");
        assert_ne!(encode_id("x"), encode_id(" x"));
    }

    #[test]
    fn items_are_keyed_by_kind_and_id_and_subjects_by_content_too() {
        let item =
            IntakeItem::new(IntakeKind::Events, "evt_55", Bytes::from_static(b"{}")).unwrap();
        assert_eq!(item.message_id(), "events:evt_55");
        let reference = SubjectRef::new(SubjectKind::Content, PlatformId::parse("post 1").unwrap());
        let item = IntakeItem::subject(
            &reference,
            &Fingerprint("ab12".into()),
            Bytes::from_static(b"{}"),
        )
        .unwrap();
        assert_eq!(item.message_id(), "subjects:content/post%201:ab12");
    }

    #[test]
    fn bad_items_name_their_field() {
        let field = |result: Result<IntakeItem, StreamError>| match result {
            Err(StreamError::Invalid { field, .. }) => field,
            other => panic!("expected invalid, got {other:?}"),
        };
        let body = Bytes::from_static(b"{}");
        assert_eq!(
            field(IntakeItem::new(IntakeKind::Subjects, "s", body.clone())),
            "kind"
        );
        assert_eq!(
            field(IntakeItem::new(IntakeKind::Events, "", body.clone())),
            "platform_id"
        );
        assert_eq!(
            field(IntakeItem::new(IntakeKind::Events, "a\nb", body.clone())),
            "platform_id"
        );
        assert_eq!(
            field(IntakeItem::new(
                IntakeKind::Events,
                &"x".repeat(257),
                body.clone()
            )),
            "platform_id"
        );
        assert_eq!(
            field(IntakeItem::new(IntakeKind::Events, "e", Bytes::new())),
            "body"
        );
        let reference = SubjectRef::new(SubjectKind::Account, PlatformId::parse("a").unwrap());
        assert_eq!(
            field(IntakeItem::subject(
                &reference,
                &Fingerprint("a b".into()),
                body
            )),
            "fingerprint"
        );
        assert_eq!(
            "subjects".parse::<IntakeKind>().unwrap(),
            IntakeKind::Subjects
        );
        assert!(matches!(
            "users".parse::<IntakeKind>(),
            Err(StreamError::Invalid { field: "kind", .. })
        ));
    }
}
