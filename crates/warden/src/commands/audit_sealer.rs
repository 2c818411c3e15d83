//! The server's audit sealer on PostgreSQL: writers append audit records
//! unsealed, and this task chains them every [`SEAL_EVERY`]
//! (`SqlStore::seal_audit`, which seals only below the oldest running
//! transaction). Reading the log, `audit verify`, `audit checkpoint` and
//! closing the store seal too, so nothing waits for this task to be read;
//! it keeps the unsealed tail short. SQLite chains records as it writes
//! them and runs no sealer.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use warden_store::prelude::*;
use warden_store::{Backend, SqlStore};

/// How often the server seals.
const SEAL_EVERY: StdDuration = StdDuration::from_millis(200);

/// The server's sealer and the switch that stops it.
pub struct SealerTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SealerTask {
    /// Stops the task after a last round of sealing.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(StdDuration::from_secs(30), self.task).await;
    }
}

/// Starts the sealer on PostgreSQL; SQLite needs none.
pub fn start_sealer(store: Arc<SqlStore>) -> Option<SealerTask> {
    if store.backend() != Backend::Postgres {
        return None;
    }
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(seal_loop(store, stopped));
    Some(SealerTask { stop, task })
}

async fn seal_loop(store: Arc<SqlStore>, mut stopped: watch::Receiver<bool>) {
    loop {
        let stopping = tokio::select! {
            () = tokio::time::sleep(SEAL_EVERY) => false,
            _ = stopped.changed() => true,
        };
        match store.seal_audit().await {
            Ok(0) => {}
            Ok(sealed) => tracing::debug!(sealed, "sealed audit records"),
            Err(error) => tracing::warn!(%error, "cannot seal audit records"),
        }
        if stopping {
            return;
        }
    }
}
