//! Demo data for the KPI dashboards: the demo analyst's media exposure on
//! some of the cases over the past week (the wellness tile and series),
//! and a suggested break, taken. Decisions, QA reviews and appeals come
//! from the rest of the demo, spread over the past days.

use anyhow::Result;
use chrono::Duration;

use warden_domain::{CaseId, Timestamp};
use warden_store::prelude::*;
use warden_store::{Actor, NewExposure, SqlStore, StoreError};

/// Exposure intervals recorded.
const EXPOSURES: i64 = 40;

/// Records the demo analyst's exposure over the past week.
pub async fn seed(store: &SqlStore, now: Timestamp) -> Result<()> {
    let Some(analyst) = store.user_by_name("analyst").await? else {
        return Ok(());
    };
    let actor = Actor::user(analyst.id, &analyst.name);
    for n in 0..EXPOSURES {
        let at = now - Duration::hours(4 * n + 1);
        let exposure = NewExposure {
            case_id: CaseId(n % 25 + 1),
            revealed_at: at,
            visible_ms: 20_000 + 7_000 * (n % 9),
        };
        match store.record_exposure(&actor, &exposure, at).await {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(error) => return Err(error.into()),
        }
        if n == 12 {
            store.suggest_break(&actor, at).await?;
            store.take_break(&actor, at + Duration::minutes(2)).await?;
        }
    }
    Ok(())
}
