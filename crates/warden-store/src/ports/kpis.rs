//! [`KpiFactsStore`]: the facts KPIs are computed from, and the wellness
//! exposure records.
//!
//! Loading facts reads only, in one read transaction per call, and commits
//! nothing: every list is read by an indexed query on the time that places
//! its facts in the window (migration 0016), in pages. Recording an
//! exposure interval, suggesting a break or taking one commits the row and
//! its audit record together.

use async_trait::async_trait;

use warden_domain::kpi::KpiFacts;
use warden_domain::{CaseId, Timestamp};

use crate::{Actor, StoreResult};

/// Which facts to load: those placed in `[from, to)`, with their later
/// fates up to `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KpiFactsWindow {
    /// The first instant of the window.
    pub from: Timestamp,
    /// The first instant after it.
    pub to: Timestamp,
    /// Later fates (corrections, reversals, reopenings) count up to here.
    pub as_of: Timestamp,
}

/// One interval during which a reviewer had a case's media revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewExposure {
    /// The case whose media was shown.
    pub case_id: CaseId,
    /// When it was revealed.
    pub revealed_at: Timestamp,
    /// How long it was visible (the page in view), in milliseconds.
    pub visible_ms: i64,
}

/// A reviewer's exposure recorded since the last break suggested to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExposureSinceBreak {
    /// Milliseconds of media visible in exposures recorded after the last
    /// suggestion (or ever).
    pub visible_ms: i64,
    /// When the last break was suggested, if any.
    pub last_suggested_at: Option<Timestamp>,
    /// Whether a suggested break is waiting to be taken.
    pub break_pending: bool,
}

/// KPI facts for a window, and the wellness records behind
/// `wellness_exposure` and `wellness_breaks_taken`.
#[async_trait]
pub trait KpiFactsStore: Send + Sync {
    /// Every KPI fact placed in the window, with the names they refer to
    /// and each reviewer's current teams.
    async fn kpi_facts(&self, window: &KpiFactsWindow) -> StoreResult<KpiFacts>;

    /// Records an exposure interval of `actor` (who must be a user).
    async fn record_exposure(
        &self,
        actor: &Actor,
        exposure: &NewExposure,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// `reviewer`'s exposure since their last break.
    async fn exposure_since_break(&self, reviewer: &str) -> StoreResult<ExposureSinceBreak>;

    /// Records a break suggested to `actor` now.
    async fn suggest_break(&self, actor: &Actor, now: Timestamp) -> StoreResult<()>;

    /// Marks `actor`'s pending suggested break taken; `false` when none waits.
    async fn take_break(&self, actor: &Actor, now: Timestamp) -> StoreResult<bool>;
}
