//! Periodic workers: a pass every so often, under the [`Supervisor`].
//!
//! The classifier retrain, the QA sampling pass and the submission of DSA
//! statements are not fed by a queue: each runs a pass when it is due. A
//! [`Periodic`] worker waits until the next pass is due (cut short by the
//! shutdown switch), runs it, and schedules the next one a period later. A
//! pass that fails or panics is counted and retried by the supervisor after
//! its doubling pause; the next pass stays due until one succeeds.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::supervisor::{Pace, Supervisor};

/// When the first pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPass {
    /// As soon as the worker starts.
    AtStart,
    /// One period after it starts.
    AfterOnePeriod,
}

/// A pass run every `every`.
#[derive(Debug, Clone, Copy)]
pub struct Periodic {
    every: Duration,
    first: FirstPass,
}

impl Periodic {
    /// A pass every `every` (at least a millisecond), the first as `first` says.
    pub fn new(every: Duration, first: FirstPass) -> Self {
        Self {
            every: every.max(Duration::from_millis(1)),
            first,
        }
    }

    /// Runs `pass` when due until `shutdown` says true, each pass one
    /// supervised batch.
    pub async fn run<F, Fut, E>(
        self,
        supervisor: Supervisor,
        shutdown: watch::Receiver<bool>,
        pass: F,
    ) where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send,
        E: std::fmt::Display,
    {
        let start = Instant::now();
        let due = Arc::new(Mutex::new(match self.first {
            FirstPass::AtStart => start,
            FirstPass::AfterOnePeriod => start + self.every,
        }));
        let pass = Arc::new(pass);
        let idle = shutdown.clone();
        supervisor
            .run(shutdown, move || {
                let (due, pass, mut stop) = (due.clone(), pass.clone(), idle.clone());
                async move { self.batch(&due, pass.as_ref(), &mut stop).await }
            })
            .await;
    }

    /// Waits for the pass to be due, runs it, and schedules the next.
    async fn batch<F, Fut, E>(
        self,
        due: &Mutex<Instant>,
        pass: &F,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Pace, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let at = *lock(due);
        tokio::select! {
            () = tokio::time::sleep_until(at) => {}
            _ = stop.changed() => return Ok(Pace::Idle),
        }
        pass().await?;
        *lock(due) = Instant::now() + self.every;
        Ok(Pace::Idle)
    }
}

fn lock(due: &Mutex<Instant>) -> std::sync::MutexGuard<'_, Instant> {
    // Only plain reads and writes happen under the lock, so a poisoned one
    // still holds a consistent instant.
    due.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::supervisor::{WorkerCounts, WorkerHealth};

    #[tokio::test]
    async fn a_panicking_pass_is_counted_and_retried_until_one_succeeds() {
        let health = Arc::new(WorkerHealth::default());
        let supervisor = Supervisor::new("periodic", health.clone())
            .with_pauses(Duration::from_millis(1), Duration::from_millis(4));
        let calls = Arc::new(AtomicU64::new(0));
        let seen = calls.clone();
        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        let periodic = Periodic::new(Duration::from_millis(5), FirstPass::AtStart);
        let worker = tokio::spawn(periodic.run(supervisor, stopped, move || {
            let call = seen.fetch_add(1, Ordering::Relaxed) + 1;
            let stop = stop.clone();
            async move {
                match call {
                    1 => panic!("pass {call} broke"),
                    2 => Err("the store is away"),
                    3 => Ok(()),
                    _ => {
                        let _ = stop.send(true);
                        Ok(())
                    }
                }
            }
        }));
        tokio::time::timeout(Duration::from_secs(10), worker)
            .await
            .expect("the worker stops when asked")
            .expect("the worker itself never panics");
        assert_eq!(calls.load(Ordering::Relaxed), 4);
        assert_eq!(
            health.counts("periodic"),
            WorkerCounts {
                batches: 2,
                panics: 1,
                failures: 1
            }
        );
    }

    async fn until(calls: &AtomicU64, at_least: u64) {
        let waited = tokio::time::timeout(Duration::from_secs(10), async {
            while calls.load(Ordering::Relaxed) < at_least {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        waited.await.expect("the pass runs");
    }

    fn counting(calls: &Arc<AtomicU64>) -> impl Fn() -> std::future::Ready<Result<(), String>> {
        let seen = calls.clone();
        move || {
            seen.fetch_add(1, Ordering::Relaxed);
            std::future::ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn the_first_pass_waits_a_period_when_asked() {
        let calls = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = watch::channel(false);
        let periodic = Periodic::new(Duration::from_millis(300), FirstPass::AfterOnePeriod);
        let supervisor = Supervisor::new("later", Arc::new(WorkerHealth::default()));
        let worker = tokio::spawn(periodic.run(supervisor, stopped, counting(&calls)));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(calls.load(Ordering::Relaxed), 0, "not before one period");
        until(&calls, 1).await;
        let _ = stop.send(true);
        worker.await.expect("the worker itself never panics");
    }

    #[tokio::test]
    async fn a_stop_cuts_the_wait_for_the_next_pass_short() {
        let calls = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = watch::channel(false);
        let periodic = Periodic::new(Duration::from_secs(3600), FirstPass::AtStart);
        let supervisor = Supervisor::new("hourly", Arc::new(WorkerHealth::default()));
        let worker = tokio::spawn(periodic.run(supervisor, stopped, counting(&calls)));
        until(&calls, 1).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            calls.load(Ordering::Relaxed),
            1,
            "the next pass is an hour away"
        );
        let _ = stop.send(true);
        tokio::time::timeout(Duration::from_secs(5), worker)
            .await
            .expect("a stop cuts the hour short")
            .expect("the worker itself never panics");
    }
}
