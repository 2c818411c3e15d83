//! The connection to NATS: one client and its JetStream context, shared by
//! every part of this crate, and a count of reconnections so that
//! subscribers to core-NATS signals learn they may have missed some.

use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream;
use tokio::sync::watch;

use crate::error::StreamError;
use crate::limits::PUBLISH_ACKS_IN_FLIGHT_MAX;

/// How to reach NATS.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionConfig {
    /// `nats://host:4222` (credentials in the URL if any); several servers
    /// of one NATS cluster separated by commas.
    pub url: String,
    /// The name this client shows in NATS' monitoring (the server id).
    pub client_name: String,
    /// How long one connection attempt may take. Default 5 seconds.
    pub connect_timeout: Duration,
    /// How long a JetStream API request (stream info, consumer creation, a
    /// KV read) may take. Default 5 seconds.
    pub request_timeout: Duration,
    /// Keep trying in the background when NATS is down at start, rather than
    /// failing: Warden then starts and answers 503 until NATS is back.
    pub retry_on_initial_connect: bool,
}

impl ConnectionConfig {
    /// The defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectionConfig {
            url: url.into(),
            client_name: "warden".into(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            retry_on_initial_connect: false,
        }
    }
}

/// A live connection to NATS, cheap to clone.
#[derive(Clone, Debug)]
pub struct StreamConnection {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    connections: watch::Receiver<u64>,
}

/// Connects to NATS. Without `retry_on_initial_connect`, an unreachable NATS
/// is `Unavailable` at once.
pub async fn connect(config: &ConnectionConfig) -> Result<StreamConnection, StreamError> {
    if config.url.trim().is_empty() {
        return Err(StreamError::invalid("nats_url", "must not be empty"));
    }
    let (sender, connections) = watch::channel(0u64);
    let sender = Arc::new(sender);
    let mut options = async_nats::ConnectOptions::new()
        .name(&config.client_name)
        .connection_timeout(config.connect_timeout)
        .request_timeout(Some(config.request_timeout))
        .event_callback(move |event| {
            let sender = Arc::clone(&sender);
            async move {
                match event {
                    async_nats::Event::Connected => {
                        sender.send_modify(|count| *count += 1);
                        tracing::info!("NATS connected");
                    }
                    async_nats::Event::Disconnected => tracing::warn!("NATS disconnected"),
                    other => tracing::debug!(event = %other, "NATS event"),
                }
            }
        });
    if config.retry_on_initial_connect {
        options = options.retry_on_initial_connect();
    }
    let client = options
        .connect(config.url.as_str())
        .await
        .map_err(|error| StreamError::unavailable(format!("connecting to NATS: {error}")))?;
    // The first connection's event arrives a moment after `connect`
    // returns: count it before anyone watches, so that it is not taken for
    // a reconnection.
    let mut first = connections.clone();
    if client.connection_state() == State::Connected {
        let _ =
            tokio::time::timeout(config.connect_timeout, first.wait_for(|count| *count >= 1)).await;
    }
    let jetstream = jetstream::ContextBuilder::new()
        .timeout(config.request_timeout)
        .max_ack_inflight(PUBLISH_ACKS_IN_FLIGHT_MAX)
        .backpressure_on_inflight(true)
        .build(client.clone());
    Ok(StreamConnection {
        client,
        jetstream,
        connections,
    })
}

impl StreamConnection {
    /// The core NATS client.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The JetStream context.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// True while connected to a NATS server.
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == State::Connected
    }

    /// `Unavailable` unless connected: calls fail fast rather than wait for
    /// a timeout while the client reconnects.
    pub fn require_connected(&self) -> Result<(), StreamError> {
        if self.is_connected() {
            Ok(())
        } else {
            Err(StreamError::unavailable("not connected to NATS"))
        }
    }

    /// How many times the client has (re)connected, watched: a change means
    /// core-NATS messages may have been missed in between.
    pub fn connections(&self) -> watch::Receiver<u64> {
        self.connections.clone()
    }

    /// A JetStream context whose publishes wait at most `ack_timeout` for
    /// their ack.
    pub(crate) fn jetstream_with_ack_timeout(&self, ack_timeout: Duration) -> jetstream::Context {
        let mut context = self.jetstream.clone();
        context.set_timeout(ack_timeout);
        context
    }
}
