//! The test harness: a connection and a topology of one's own, cleaned up
//! after the test whether it passed or not.

use std::future::Future;
use std::io::Write;
use std::sync::Once;
use std::time::{Duration, Instant};

use warden_stream::{connect, ConnectionConfig, StreamConnection, Topology};

static SKIP_NOTICE: Once = Once::new();

/// A connection to the test NATS and names no other test uses.
#[derive(Clone)]
pub struct TestNats {
    pub url: String,
    pub connection: StreamConnection,
    pub topology: Topology,
}

impl TestNats {
    /// Another connection to the same NATS (another "server").
    pub async fn connect_again(&self) -> StreamConnection {
        connect(&ConnectionConfig::new(self.url.clone()))
            .await
            .expect("connect to WARDEN_TEST_NATS_URL")
    }

    async fn clean_up(&self) {
        let jetstream = self.connection.jetstream();
        for stream in [
            self.topology.intake_stream(),
            self.topology.dead_stream(),
            self.topology.events_stream(),
        ] {
            let _ = jetstream.delete_stream(&stream).await;
        }
        for bucket in [self.topology.lease_bucket(), self.topology.server_bucket()] {
            let _ = jetstream.delete_key_value(&bucket).await;
        }
    }
}

/// The URL of the test NATS, or `None` (said once) without one.
pub fn nats_url() -> Option<String> {
    match std::env::var("WARDEN_TEST_NATS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            SKIP_NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "warden-stream: skipped NATS tests: set WARDEN_TEST_NATS_URL=nats://127.0.0.1:4222 to run them"
                );
            });
            None
        }
    }
}

/// Held by each test while it uses NATS (see [`with_nats`]).
static NATS_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `body` with a fresh topology on the test NATS, then deletes its
/// streams and buckets, also when `body` panicked (the panic goes on).
pub async fn with_nats<F, Fut>(body: F)
where
    F: FnOnce(TestNats) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = nats_url() else {
        return;
    };
    // One NATS test at a time: run side by side, a reconnection or a
    // takeover in one test slowed another's signals past its wait (the
    // broadcast test failed about one run in four that way, never alone).
    let _one_at_a_time = NATS_TESTS.lock().await;
    let connection = connect(&ConnectionConfig::new(url.clone()))
        .await
        .expect("connect to WARDEN_TEST_NATS_URL");
    let suffix = format!("{:08x}", rand::random::<u32>());
    let topology = Topology::new(&format!("wt{suffix}.warden"), &format!("WT{suffix}"))
        .expect("test topology");
    let nats = TestNats {
        url,
        connection,
        topology,
    };
    let result = tokio::spawn(body(nats.clone())).await;
    nats.clean_up().await;
    if let Err(error) = result {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Waits until `done` holds, checking every 20 ms, at most `timeout`;
/// panics naming `what` after that.
pub async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Messages in a stream now.
pub async fn stream_messages(connection: &StreamConnection, stream: &str) -> u64 {
    connection
        .jetstream()
        .get_stream(stream)
        .await
        .expect("stream info")
        .cached_info()
        .state
        .messages
}
