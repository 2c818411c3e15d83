//! The partition runner: holds this server's fair share of partition leases
//! ([`crate::leases`]) and runs one worker per partition held, each pulling
//! its partition's events in batches and handing them to the detection
//! worker's [`PartitionProcessor`].
//!
//! Every third of the lease TTL the runner renews its leases, stops the
//! workers of partitions it lost, counts the live servers that hold
//! partitions (their heartbeats, [`crate::cluster`]), and compares what it
//! holds with its fair share (the partitions divided among those servers,
//! rounded up): above it, it stops the workers of the partitions it likes
//! least ([`PartitionCount::preference`]) and releases them; below it, it
//! claims free partitions in its order of preference. A server that joins
//! thus gets partitions as the others give up their surplus; a server that
//! dies leaves leases that expire after the TTL and are claimed by the
//! others, whose fair share has grown once its heartbeat expired too.
//!
//! **Exactly once, end to end.** JetStream delivers each event at least
//! once: again after a crash before the ack, or after a lost ack. The
//! processor makes the second time a no-op: it writes a batch's effects (the
//! rule hits) and the partition's cursor (the batch's last stream sequence)
//! in one database transaction, and skips events whose sequence is at or
//! below the stored cursor. A batch is acked only after that transaction
//! committed. So an event's effects are committed exactly once: before the
//! commit nothing of the batch is visible and it is redelivered; after it,
//! the redelivery is skipped. Within a partition the consumer hands out one
//! batch at a time and redelivers an unacked batch before anything after it
//! ([`crate::events`]), so the cursor only moves forward and velocity
//! windows see each key's events in order. The lease keeps a second server
//! off the partition; should a paused server wake up after losing it, the
//! cursor (compared in the same transaction) still refuses its stale batch.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::AckKind;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cluster::{ServerId, ServerRegistry};
use crate::config::PartitionWorkerConfig;
use crate::error::StreamError;
use crate::events::{EventDelivery, EventStream};
use crate::leases::PartitionLeases;
use crate::partition::Partition;
use crate::shutdown::{shutdown_signal, Shutdown, ShutdownTrigger};

/// What a partition worker calls for each batch: the detection worker.
pub trait PartitionProcessor: Send + Sync + 'static {
    /// Processes one batch of one partition, in stream order, and returns
    /// only after its effects and the partition's cursor are committed
    /// together. Must skip events at or below the stored cursor. An `Err`
    /// (the database is down) has the batch delivered again after the
    /// retry delay.
    fn process(
        &self,
        partition: Partition,
        batch: Vec<EventDelivery>,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

impl<F, Fut> PartitionProcessor for F
where
    F: Fn(Partition, Vec<EventDelivery>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    fn process(
        &self,
        partition: Partition,
        batch: Vec<EventDelivery>,
    ) -> impl Future<Output = Result<(), String>> + Send {
        self(partition, batch)
    }
}

/// One server's partition runner.
#[derive(Debug)]
pub struct PartitionRunner {
    events: EventStream,
    registry: Arc<ServerRegistry>,
    leases: PartitionLeases,
    config: PartitionWorkerConfig,
    held: watch::Sender<Vec<Partition>>,
}

struct Worker {
    stop: ShutdownTrigger,
    task: JoinHandle<()>,
}

impl PartitionRunner {
    /// Opens the lease bucket for `server`.
    pub async fn new(
        events: &EventStream,
        registry: Arc<ServerRegistry>,
        server: ServerId,
        config: &PartitionWorkerConfig,
    ) -> Result<Self, StreamError> {
        config.check()?;
        let leases = PartitionLeases::open(
            events.connection(),
            events.topology(),
            events.partitions(),
            config.lease_ttl,
            server,
        )
        .await?;
        let (held, _) = watch::channel(Vec::new());
        Ok(PartitionRunner {
            events: events.clone(),
            registry,
            leases,
            config: config.clone(),
            held,
        })
    }

    /// The partitions held, watched (for the heartbeat and the status).
    pub fn held(&self) -> watch::Receiver<Vec<Partition>> {
        self.held.subscribe()
    }

    /// Holds leases and runs workers until `shutdown`; then stops every
    /// worker (each finishes its batch) and releases every lease, so the
    /// other servers take the partitions at once.
    pub async fn run<P: PartitionProcessor>(mut self, processor: Arc<P>, mut shutdown: Shutdown) {
        let tick = self.config.tick();
        let mut workers: BTreeMap<Partition, Worker> = BTreeMap::new();
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut partition_servers = 1;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.triggered() => break,
            }
            let now = Instant::now();
            match self.leases.renew(now).await {
                Ok(lost) => {
                    for partition in lost {
                        tracing::warn!(%partition, "partition lease lost; stopping its worker");
                        if let Some(worker) = workers.remove(&partition) {
                            worker.task.abort();
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "partition leases not renewed"),
            }
            if self.leases.renewal_overdue(now, tick) {
                // The leases may expire before the next renewal: stop work
                // now rather than risk two servers on one partition.
                for (_, worker) in std::mem::take(&mut workers) {
                    worker.task.abort();
                }
                continue;
            }
            match self.registry.partition_servers().await {
                Ok(count) => partition_servers = count.max(1),
                Err(error) => {
                    tracing::warn!(%error, "live servers not read; keeping the last count")
                }
            }
            self.rebalance(partition_servers, &mut workers, now).await;
            workers.retain(|_, worker| !worker.task.is_finished());
            for partition in self.leases.held() {
                workers
                    .entry(partition)
                    .or_insert_with(|| self.spawn_worker(partition, Arc::clone(&processor)));
            }
            self.held.send_replace(self.leases.held());
        }
        for (partition, worker) in std::mem::take(&mut workers) {
            self.stop_worker(partition, worker).await;
        }
        for partition in self.leases.held() {
            if let Err(error) = self.leases.release(partition).await {
                tracing::warn!(%error, %partition, "lease not released; it expires after the TTL");
            }
        }
        self.held.send_replace(Vec::new());
    }

    /// Gives up the surplus over the fair share, or claims up to it.
    async fn rebalance(
        &mut self,
        partition_servers: usize,
        workers: &mut BTreeMap<Partition, Worker>,
        now: Instant,
    ) {
        let count = self.leases.count();
        let target = count.fair_share(partition_servers);
        let preference = count.preference(self.leases.server().as_str());
        let held = self.leases.held().len();
        if held > target {
            let surplus: Vec<Partition> = preference
                .iter()
                .rev()
                .copied()
                .filter(|partition| self.leases.holds(*partition))
                .take(held - target)
                .collect();
            for partition in surplus {
                if let Some(worker) = workers.remove(&partition) {
                    self.stop_worker(partition, worker).await;
                }
                match self.leases.release(partition).await {
                    Ok(()) => tracing::info!(%partition, "partition released to rebalance"),
                    Err(error) => tracing::warn!(%error, %partition, "partition not released"),
                }
            }
        } else if held < target {
            let mut held = held;
            for partition in preference {
                if held >= target {
                    break;
                }
                if self.leases.holds(partition) {
                    continue;
                }
                match self.leases.claim(partition, now).await {
                    Ok(true) => {
                        tracing::info!(%partition, "partition claimed");
                        held += 1;
                    }
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%error, %partition, "partition not claimed");
                        break;
                    }
                }
            }
        }
    }

    fn spawn_worker<P: PartitionProcessor>(
        &self,
        partition: Partition,
        processor: Arc<P>,
    ) -> Worker {
        let (stop, signal) = shutdown_signal();
        let task = tokio::spawn(run_worker(
            self.events.clone(),
            partition,
            self.config.clone(),
            processor,
            signal,
        ));
        Worker { stop, task }
    }

    /// Asks a worker to stop after its batch and waits for it, at most the
    /// ack wait (after which its batch would be redelivered anyway).
    async fn stop_worker(&self, partition: Partition, mut worker: Worker) {
        worker.stop.trigger();
        if tokio::time::timeout(self.config.ack_wait, &mut worker.task)
            .await
            .is_err()
        {
            tracing::warn!(%partition, "worker did not stop in time; aborted");
            worker.task.abort();
        }
    }
}

/// One partition's loop: pull a batch, process it, ack it (or nak it for a
/// retry), until stopped.
async fn run_worker<P: PartitionProcessor>(
    events: EventStream,
    partition: Partition,
    config: PartitionWorkerConfig,
    processor: Arc<P>,
    mut stop: Shutdown,
) {
    let consumer = loop {
        match events.partition_consumer(partition, &config).await {
            Ok(consumer) => break consumer,
            Err(error) => {
                tracing::warn!(%error, %partition, "partition consumer not ready; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(config.retry_delay) => {}
                    _ = stop.triggered() => return,
                }
            }
        }
    };
    while !stop.is_triggered() {
        let messages = pull_batch(&consumer, &config, partition).await;
        if messages.is_empty() {
            continue;
        }
        let mut batch: Vec<EventDelivery> = messages
            .iter()
            .map(|message| delivery_of(partition, message))
            .collect();
        batch.sort_by_key(|delivery| delivery.stream_sequence);
        let outcome = AssertUnwindSafe(processor.process(partition, batch))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err("the processor panicked".into()));
        match outcome {
            Ok(()) => {
                for message in &messages {
                    if let Err(error) = message.ack().await {
                        tracing::warn!(%error, %partition, "ack lost; the event comes again and is skipped by the cursor");
                    }
                }
            }
            Err(reason) => {
                tracing::warn!(%partition, %reason, "batch failed; it comes again");
                for message in &messages {
                    let _ = message
                        .ack_with(AckKind::Nak(Some(config.retry_delay)))
                        .await;
                }
                tokio::select! {
                    _ = tokio::time::sleep(config.retry_delay) => {}
                    _ = stop.triggered() => {}
                }
            }
        }
    }
}

async fn pull_batch(
    consumer: &PullConsumer,
    config: &PartitionWorkerConfig,
    partition: Partition,
) -> Vec<jetstream::Message> {
    let mut messages = Vec::new();
    let batch = consumer
        .batch()
        .max_messages(config.batch_max)
        .expires(config.fetch_wait)
        .messages()
        .await;
    let mut batch = match batch {
        Ok(batch) => batch,
        Err(error) => {
            tracing::warn!(%error, %partition, "pull failed");
            tokio::time::sleep(config.fetch_wait.min(Duration::from_secs(1))).await;
            return messages;
        }
    };
    while let Some(message) = batch.next().await {
        match message {
            Ok(message) => messages.push(message),
            Err(error) => {
                tracing::warn!(%error, %partition, "pull interrupted");
                break;
            }
        }
    }
    messages
}

fn delivery_of(partition: Partition, message: &jetstream::Message) -> EventDelivery {
    let (stream_sequence, delivered) = match message.info() {
        Ok(info) => (
            info.stream_sequence,
            u64::try_from(info.delivered).unwrap_or(1),
        ),
        // A pulled message always has JetStream's reply subject.
        Err(_) => (0, 1),
    };
    EventDelivery {
        partition,
        stream_sequence,
        message_id: message
            .headers
            .as_ref()
            .and_then(|headers| headers.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|value| value.as_str().to_string()),
        body: message.payload.clone(),
        delivered,
    }
}
