//! Supervision: every worker runs its batches through [`Supervisor::run`].
//!
//! A batch that returns an error or panics does not end the worker: the
//! panic is caught (`catch_unwind` around the batch's future), logged with
//! its message, counted in [`WorkerHealth`] and in the metrics sink
//! ([`WorkerMetrics`], `warden_worker_panics_total{worker}` and
//! `warden_worker_failures_total{worker}` on `/metrics`), and the batch is
//! tried again after a pause that doubles with each failure in a row, up to
//! a bound. A batch that succeeds resets the pause. Between batches the
//! supervisor looks at the shutdown switch; a batch in hand is finished,
//! never cut off, so a lease or a cursor is never left half-moved by a stop.
//!
//! What a batch is stays the worker's: the outbox worker leases and sends
//! one batch of rows, the detection worker evaluates one batch of events.
//! A panic inside a batch leaves the store as it was before the batch's
//! last commit: leases run out, the cursor did not move.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;

use crate::limits::{RETRY_PAUSE_FIRST, RETRY_PAUSE_MAX};

/// Where workers report what the metrics show (the server's registry).
pub trait WorkerMetrics: Send + Sync {
    /// A batch of `worker` panicked.
    fn worker_panicked(&self, worker: &str);
    /// A batch of `worker` returned an error.
    fn worker_failed(&self, worker: &str);
    /// A detection rule failed on an event (`kind`: steps, deadline, ...).
    fn rule_failed(&self, rule: &str, kind: &str);
}

/// Metrics that go nowhere (CLI runs, tests that do not look).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMetrics;

impl WorkerMetrics for NoMetrics {
    fn worker_panicked(&self, _worker: &str) {}
    fn worker_failed(&self, _worker: &str) {}
    fn rule_failed(&self, _rule: &str, _kind: &str) {}
}

/// Failures counted since start, per worker.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WorkerCounts {
    /// Batches completed.
    pub batches: u64,
    /// Batches that panicked.
    pub panics: u64,
    /// Batches that returned an error.
    pub failures: u64,
}

/// Counts of every supervised worker in the process, by worker name.
#[derive(Debug, Default)]
pub struct WorkerHealth {
    counts: Mutex<BTreeMap<&'static str, WorkerCounts>>,
}

impl WorkerHealth {
    /// The counts of `worker` (zero when it never ran).
    pub fn counts(&self, worker: &str) -> WorkerCounts {
        self.lock().get(worker).copied().unwrap_or_default()
    }

    fn record(&self, worker: &'static str, update: impl FnOnce(&mut WorkerCounts)) {
        update(self.lock().entry(worker).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, WorkerCounts>> {
        // A panic never happens while the lock is held (plain counter
        // updates), so a poisoned lock still holds consistent counts.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How one batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// There may be more work: run the next batch at once.
    Busy,
    /// Nothing was due: the worker waited (its own idle pause) already.
    Idle,
}

/// Runs one worker's batches, catching panics and retrying with backoff.
#[derive(Clone)]
pub struct Supervisor {
    name: &'static str,
    health: Arc<WorkerHealth>,
    metrics: Arc<dyn WorkerMetrics>,
    pause_first: Duration,
    pause_max: Duration,
}

impl Supervisor {
    /// A supervisor for the worker called `name` (the metric's label).
    pub fn new(name: &'static str, health: Arc<WorkerHealth>) -> Self {
        Self {
            name,
            health,
            metrics: Arc::new(NoMetrics),
            pause_first: RETRY_PAUSE_FIRST,
            pause_max: RETRY_PAUSE_MAX,
        }
    }

    /// The same supervisor reporting to `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn WorkerMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The same supervisor with other retry pauses (tests use short ones);
    /// `max` is at least `first`.
    pub fn with_pauses(mut self, first: Duration, max: Duration) -> Self {
        self.pause_first = first;
        self.pause_max = max.max(first);
        self
    }

    /// Runs `batch` until `shutdown` says true. Errors and panics are
    /// logged, counted and retried after a pause that doubles up to the
    /// bound; they never end the loop.
    pub async fn run<F, Fut, E>(self, mut shutdown: watch::Receiver<bool>, mut batch: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Pace, E>>,
        E: std::fmt::Display,
    {
        let mut pause = self.pause_first;
        while !*shutdown.borrow() {
            match AssertUnwindSafe(batch()).catch_unwind().await {
                Ok(Ok(_)) => {
                    self.health.record(self.name, |c| c.batches += 1);
                    pause = self.pause_first;
                    continue;
                }
                Ok(Err(error)) => {
                    tracing::error!(worker = self.name, %error, retry_in = ?pause, "a batch failed; retrying");
                    self.health.record(self.name, |c| c.failures += 1);
                    self.metrics.worker_failed(self.name);
                }
                Err(panic) => {
                    let message = panic_message(panic.as_ref());
                    tracing::error!(worker = self.name, panic = %message, retry_in = ?pause, "a batch panicked; retrying");
                    self.health.record(self.name, |c| c.panics += 1);
                    self.metrics.worker_panicked(self.name);
                }
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
            pause = self.next_pause(pause);
        }
    }

    /// The pause after `pause`, when the batch failed again: twice as long,
    /// up to the bound.
    fn next_pause(&self, pause: Duration) -> Duration {
        (pause * 2).min(self.pause_max)
    }
}

/// The text a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// A running worker and the switch that stops it.
pub struct WorkerTask {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerTask {
    /// Spawns `run` with a fresh shutdown switch.
    pub fn spawn<Fut>(run: impl FnOnce(watch::Receiver<bool>) -> Fut) -> Self
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(stopped));
        Self { stop, task }
    }

    /// Asks the worker to stop and waits up to `grace` for the batch in hand.
    pub async fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    #[derive(Default)]
    struct Counted {
        panics: AtomicU64,
        failures: AtomicU64,
    }

    impl WorkerMetrics for Counted {
        fn worker_panicked(&self, worker: &str) {
            assert_eq!(worker, "flaky");
            self.panics.fetch_add(1, Ordering::Relaxed);
        }
        fn worker_failed(&self, _worker: &str) {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        fn rule_failed(&self, _rule: &str, _kind: &str) {}
    }

    #[tokio::test]
    async fn a_batch_that_panics_is_counted_and_the_worker_keeps_running() {
        let health = Arc::new(WorkerHealth::default());
        let metrics = Arc::new(Counted::default());
        let calls = Arc::new(AtomicU64::new(0));
        let seen = calls.clone();
        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        let supervisor = Supervisor::new("flaky", health.clone())
            .with_metrics(metrics.clone())
            .with_pauses(Duration::from_millis(1), Duration::from_millis(4));
        let worker = tokio::spawn(supervisor.run(stopped, move || {
            let call = seen.fetch_add(1, Ordering::Relaxed) + 1;
            let stop = stop.clone();
            async move {
                match call {
                    1 | 2 => panic!("batch {call} broke"),
                    3 => Err("the store is away"),
                    4 => Ok(Pace::Busy),
                    _ => {
                        let _ = stop.send(true);
                        Ok(Pace::Idle)
                    }
                }
            }
        }));
        tokio::time::timeout(Duration::from_secs(10), worker)
            .await
            .expect("the worker stops when asked")
            .expect("the worker itself never panics");
        assert_eq!(
            calls.load(Ordering::Relaxed),
            5,
            "every batch after a panic ran"
        );
        assert_eq!(
            health.counts("flaky"),
            WorkerCounts {
                batches: 2,
                panics: 2,
                failures: 1
            }
        );
        assert_eq!(metrics.panics.load(Ordering::Relaxed), 2);
        assert_eq!(metrics.failures.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn retry_pauses_double_up_to_the_bound() {
        let supervisor = Supervisor::new("failing", Arc::new(WorkerHealth::default()))
            .with_pauses(Duration::from_secs(1), Duration::from_secs(4));
        let mut pause = supervisor.pause_first;
        let mut pauses = vec![pause];
        for _ in 0..4 {
            pause = supervisor.next_pause(pause);
            pauses.push(pause);
        }
        assert_eq!(pauses, [1, 2, 4, 4, 4].map(Duration::from_secs));
    }

    #[tokio::test]
    async fn a_failing_batch_waits_before_each_retry() {
        let health = Arc::new(WorkerHealth::default());
        let started = std::time::Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let seen = times.clone();
        let (stop, stopped) = watch::channel(false);
        let supervisor = Supervisor::new("failing", health.clone())
            .with_pauses(Duration::from_millis(10), Duration::from_millis(40));
        supervisor
            .run(stopped, move || {
                let mut times = seen.lock().unwrap();
                times.push(started.elapsed());
                if times.len() == 6 {
                    let _ = stop.send(true);
                }
                async { Err::<Pace, _>("down") }
            })
            .await;
        let times = times.lock().unwrap();
        let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
        // At least the pauses 10, 20, 40, 40, 40 ms: bounded, never growing past the maximum.
        for (gap, pause) in gaps.iter().zip([10, 20, 40, 40, 40]) {
            assert!(*gap >= Duration::from_millis(pause), "{gaps:?}");
        }
        assert_eq!(health.counts("failing").failures, 6);
    }

    #[test]
    fn panic_messages_are_read_from_both_payloads() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&5_u8), "a panic without a message");
    }
}
