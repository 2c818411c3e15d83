//! Control signals between servers over core NATS (not JetStream):
//! `warden.control.taxonomy` when a taxonomy version is published,
//! `warden.control.rules` when rule files change. Each server subscribes and
//! reloads from PostgreSQL (the signal carries at most a version number,
//! never the content), so every server swaps within a second.
//!
//! Core NATS delivers at most once: a server disconnected while a signal
//! went out misses it. So a subscriber also yields [`ControlEvent::Resync`]
//! after every reconnection (and when its buffer overflowed), upon which the
//! server reloads as if signalled. A server should still reload on a slow
//! timer as a last resort.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::{HeaderMap, HeaderValue};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::watch;

use crate::cluster::ServerId;
use crate::connection::StreamConnection;
use crate::error::StreamError;
use crate::limits::{CONTROL_BUFFER_MAX, CONTROL_PAYLOAD_BYTES_MAX};
use crate::topology::Topology;

/// The header naming the server that sent a signal.
const ORIGIN_HEADER: &str = "Warden-Origin";

/// What a control signal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlTopic {
    /// A taxonomy version was published.
    TaxonomyPublished,
    /// Rule files or lists changed.
    RulesChanged,
}

impl ControlTopic {
    /// Every topic.
    pub const ALL: [ControlTopic; 2] =
        [ControlTopic::TaxonomyPublished, ControlTopic::RulesChanged];

    /// The subject token: `taxonomy`, `rules`.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlTopic::TaxonomyPublished => "taxonomy",
            ControlTopic::RulesChanged => "rules",
        }
    }
}

impl FromStr for ControlTopic {
    type Err = StreamError;

    fn from_str(value: &str) -> Result<Self, StreamError> {
        ControlTopic::ALL
            .into_iter()
            .find(|topic| topic.as_str() == value)
            .ok_or_else(|| {
                StreamError::invalid(
                    "topic",
                    format!("unknown topic {value:?}; expected taxonomy or rules"),
                )
            })
    }
}

impl fmt::Display for ControlTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signal received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlSignal {
    /// What it is about.
    pub topic: ControlTopic,
    /// The server that sent it, if it said.
    pub origin: Option<String>,
    /// What it carries (a version number, or nothing).
    pub payload: Bytes,
}

/// What a subscriber hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlEvent {
    /// A signal.
    Signal(ControlSignal),
    /// Signals may have been missed (the connection was re-established, or
    /// the buffer overflowed): reload everything the topics cover.
    Resync,
}

/// Sends and subscribes to control signals.
#[derive(Debug, Clone)]
pub struct ControlBroadcast {
    connection: StreamConnection,
    prefix: String,
    origin: ServerId,
}

impl ControlBroadcast {
    /// Signals of `topology`, sent as `origin`.
    pub fn new(connection: &StreamConnection, topology: &Topology, origin: ServerId) -> Self {
        ControlBroadcast {
            connection: connection.clone(),
            prefix: topology.control_subject_prefix(),
            origin,
        }
    }

    /// Sends a signal to every server (this one included) and waits until
    /// NATS has it (a flush, at most five seconds).
    pub async fn publish(&self, topic: ControlTopic, payload: Bytes) -> Result<(), StreamError> {
        if payload.len() > CONTROL_PAYLOAD_BYTES_MAX {
            return Err(StreamError::invalid(
                "payload",
                format!(
                    "a control signal carries at most {CONTROL_PAYLOAD_BYTES_MAX} bytes, got {}",
                    payload.len()
                ),
            ));
        }
        self.connection.require_connected()?;
        let mut headers = HeaderMap::new();
        // A server id has no line breaks.
        if let Ok(origin) = self.origin.as_str().parse::<HeaderValue>() {
            headers.insert(ORIGIN_HEADER, origin);
        }
        let client = self.connection.client();
        client
            .publish_with_headers(format!("{}.{topic}", self.prefix), headers, payload)
            .await
            .map_err(|error| {
                StreamError::unavailable(format!("sending a control signal: {error}"))
            })?;
        tokio::time::timeout(Duration::from_secs(5), client.flush())
            .await
            .map_err(|_| StreamError::unavailable("sending a control signal: flush timed out"))?
            .map_err(|error| StreamError::unavailable(format!("sending a control signal: {error}")))
    }

    /// Subscribes to `topics`; every signal sent after this returns is
    /// received.
    pub async fn subscribe(
        &self,
        topics: &[ControlTopic],
    ) -> Result<ControlSubscriber, StreamError> {
        if topics.is_empty() {
            return Err(StreamError::invalid("topics", "name at least one topic"));
        }
        self.connection.require_connected()?;
        let mut subscriptions = Vec::with_capacity(topics.len());
        for topic in topics {
            let subscription = self
                .connection
                .client()
                .subscribe(format!("{}.{topic}", self.prefix))
                .await
                .map_err(|error| {
                    StreamError::unavailable(format!("subscribing to {topic}: {error}"))
                })?;
            subscriptions.push(subscription);
        }
        // A flush is a round trip: once it returns, NATS has the
        // subscriptions, so no signal sent after `subscribe` returns is missed.
        tokio::time::timeout(Duration::from_secs(5), self.connection.client().flush())
            .await
            .map_err(|_| StreamError::unavailable("subscribing: flush timed out"))?
            .map_err(|error| StreamError::unavailable(format!("subscribing: {error}")))?;
        let (sender, receiver) = tokio::sync::mpsc::channel(CONTROL_BUFFER_MAX);
        let prefix = format!("{}.", self.prefix);
        let mut merged = futures_util::stream::select_all(subscriptions);
        let overflowed = Arc::new(AtomicBool::new(false));
        let overflow = Arc::clone(&overflowed);
        let forward = tokio::spawn(async move {
            while let Some(message) = merged.next().await {
                let Some(topic) = message
                    .subject
                    .as_str()
                    .strip_prefix(prefix.as_str())
                    .and_then(|token| token.parse::<ControlTopic>().ok())
                else {
                    continue;
                };
                let signal = ControlSignal {
                    topic,
                    origin: message
                        .headers
                        .as_ref()
                        .and_then(|headers| headers.get(ORIGIN_HEADER))
                        .map(|value| value.as_str().to_string()),
                    payload: message.payload,
                };
                match sender.try_send(signal) {
                    Ok(()) => {}
                    Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                        if !overflow.swap(true, Ordering::Relaxed) {
                            tracing::warn!(
                                "control signals overflowed the buffer; the subscriber resyncs"
                            );
                        }
                    }
                    Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => break,
                }
            }
        });
        let mut connections = self.connection.connections();
        connections.mark_unchanged();
        Ok(ControlSubscriber {
            signals: receiver,
            overflowed,
            connections,
            forward,
        })
    }
}

/// Signals as they come, and resyncs when some may have been missed.
#[derive(Debug)]
pub struct ControlSubscriber {
    signals: tokio::sync::mpsc::Receiver<ControlSignal>,
    overflowed: Arc<AtomicBool>,
    connections: watch::Receiver<u64>,
    forward: tokio::task::JoinHandle<()>,
}

impl ControlSubscriber {
    /// The next signal or resync; `None` once the connection is closed for
    /// good.
    pub async fn next(&mut self) -> Option<ControlEvent> {
        if self.overflowed.swap(false, Ordering::Relaxed) {
            // Some signals were dropped: what is buffered is covered by the
            // resync too.
            while self.signals.try_recv().is_ok() {}
            return Some(ControlEvent::Resync);
        }
        tokio::select! {
            biased;
            changed = self.connections.changed() => match changed {
                Ok(()) => Some(ControlEvent::Resync),
                // The connection is gone: only what is buffered is left.
                Err(_) => self.signals.recv().await.map(ControlEvent::Signal),
            },
            signal = self.signals.recv() => signal.map(ControlEvent::Signal),
        }
    }
}

impl Drop for ControlSubscriber {
    fn drop(&mut self) {
        self.forward.abort();
    }
}
