//! A shutdown signal the loops of this crate watch: once triggered, they
//! stop taking new work, finish what is in flight and return.

use tokio::sync::watch;

/// The side that asks for the shutdown.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// The side a loop watches; cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// A new trigger and the signal it controls.
pub fn shutdown_signal() -> (ShutdownTrigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    (ShutdownTrigger(sender), Shutdown(receiver))
}

impl ShutdownTrigger {
    /// Asks every loop watching this signal to stop.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// A new signal controlled by this trigger.
    pub fn signal(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    /// True once the shutdown was asked for (or its trigger was dropped).
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Waits until the shutdown is asked for (or its trigger is dropped).
    pub async fn triggered(&mut self) {
        // `wait_for` fails only when the trigger is gone: a shutdown too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_trigger_reaches_every_clone_and_a_dropped_trigger_counts() {
        let (trigger, shutdown) = shutdown_signal();
        let mut other = shutdown.clone();
        assert!(!shutdown.is_triggered());
        trigger.trigger();
        assert!(shutdown.is_triggered());
        other.triggered().await;

        let (trigger, mut shutdown) = shutdown_signal();
        drop(trigger);
        assert!(shutdown.is_triggered());
        shutdown.triggered().await;
    }
}
