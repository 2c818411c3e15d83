//! `warden incident bulk-status ID`: a bulk action's progress
//! `{"planned", "applied", "skipped"}`. On a terminal a bar follows the
//! run until the bulk action is no longer being applied; piped, one JSON
//! object and nothing else.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Result};
use serde_json::json;

use warden_domain::incident::{BulkId, BulkStatus};
use warden_store::prelude::*;
use warden_store::{BulkActionRecord, SqlStore};

use super::open_store;
use crate::cli::IncidentCommand;
use crate::config::Config;
use crate::limits::BULK_STATUS_POLL_MILLIS;
use crate::progress;

/// Skipped cases printed at most.
const SKIPPED_SHOWN: u32 = 1_000;

/// Runs `warden incident ...`.
pub async fn run(config: &Config, command: IncidentCommand) -> Result<ExitCode> {
    match command {
        IncidentCommand::BulkStatus { id, once, store } => {
            let store = open_store(config, &store).await?;
            bulk_status(&store, BulkId(id), once).await
        }
    }
}

async fn read(store: &SqlStore, id: BulkId) -> Result<BulkActionRecord> {
    store
        .bulk_action(id)
        .await?
        .ok_or_else(|| anyhow!("no bulk action {id}"))
}

async fn bulk_status(store: &SqlStore, id: BulkId, once: bool) -> Result<ExitCode> {
    let mut record = read(store, id).await?;
    let follow = !once && std::io::stdout().is_terminal();
    if follow && record.status == BulkStatus::Applying {
        let total = u64::try_from(record.planned.max(1)).unwrap_or(1);
        let bar = progress::bar(total, "applying");
        while record.status == BulkStatus::Applying {
            let done = record.applied + record.skipped;
            bar.set_position(u64::try_from(done).unwrap_or(0).min(total));
            tokio::time::sleep(Duration::from_millis(BULK_STATUS_POLL_MILLIS)).await;
            record = read(store, id).await?;
        }
        bar.finish_and_clear();
    }
    let skipped = store.bulk_skips(id, SKIPPED_SHOWN).await?;
    if follow {
        println!(
            "bulk action {id} (incident {}): {}; planned {}, applied {}, skipped {}",
            record.incident, record.status, record.planned, record.applied, record.skipped
        );
        for skip in &skipped {
            println!("  case {}: {}", skip.case_id, skip.reason);
        }
    } else {
        let skipped: Vec<_> = skipped
            .iter()
            .map(|s| json!({"case_id": s.case_id.0, "reason": s.reason, "code": s.code}))
            .collect();
        println!(
            "{}",
            json!({"id": id.0, "incident_id": record.incident.0, "status": record.status.as_str(),
                "planned": record.planned, "applied": record.applied, "skipped": skipped,
                "skipped_count": record.skipped})
        );
    }
    Ok(ExitCode::SUCCESS)
}
