//! Which case "claim next" takes: the first open case of a queue, in claim
//! order (severity, resolution due, priority, age, id), that nobody holds
//! or whose lease has lapsed.
//!
//! Two partial indexes (migration 0009) hold exactly those candidates in
//! claim order: `cases_unclaimed` the open cases nobody holds,
//! `cases_leased` the open cases under a running or lapsed lease (at most
//! `CLAIMS_PER_USER_MAX` per analyst). Each query below repeats its index's
//! predicate word for word and orders by its columns, so reading the first
//! row of the index answers it: no sort, and no claimed or resolved case
//! read on the way. On PostgreSQL the claim transaction also turns off
//! sequential scans, bitmap scans and sorts for itself, so that the planner
//! walks those indexes even right after a bulk load, before any statistics
//! exist (a stale plan used to sort the whole queue on disk for every
//! claim). The better of the two candidates is the claim.

use std::cmp::Reverse;

use sqlx::{Any, Transaction};

use warden_domain::Timestamp;

use super::cases::{appeal_scope_sql, bind_all, Params};
use super::wrappers::{DbCase, CASE_COLUMNS};
use super::{ms, Backend, SqlStore};
use crate::{AppealScope, CaseRecord, StoreResult};

/// Statuses "claim next" hands out, as SQL (the predicate of both indexes).
const CLAIMABLE_STATUSES: &str = "('new', 'in_review', 'reopened', 'escalated')";

/// The claim order: the order of both claim indexes after `queue`.
const CLAIM_ORDER: &str = "severity DESC, resolve_due_at, priority DESC, opened_at, id";

/// Planner settings of a claim transaction on PostgreSQL, for it alone.
const INDEX_ONLY_PLANS: &str = "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)";

/// The first open case of queue `$1` nobody holds, in claim order, that
/// also meets `extra` (the appeal independence rule; empty or ` AND ...`).
fn next_unclaimed_sql(lock: &str, extra: &str) -> String {
    format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE queue = $1 AND status IN {CLAIMABLE_STATUSES} AND assignee_id IS NULL{extra} ORDER BY {CLAIM_ORDER} LIMIT 1{lock}"
    )
}

/// The first open case of queue `$1` whose lease ended by `$2`, in claim
/// order, that also meets `extra`.
fn next_lapsed_sql(lock: &str, extra: &str) -> String {
    format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE queue = $1 AND status IN {CLAIMABLE_STATUSES} AND assignee_id IS NOT NULL AND held = 0 AND lease_expires_at <= $2{extra} ORDER BY {CLAIM_ORDER} LIMIT 1{lock}"
    )
}

/// The appeal scope's condition as ` AND ...` (or nothing), its values
/// pushed to `params` after the query's own.
fn appeal_condition(appeals: &AppealScope, params: &mut Params) -> String {
    appeal_scope_sql(appeals, params)
        .map(|c| format!(" AND {c}"))
        .unwrap_or_default()
}

/// Where a case stands in the claim order: smaller claims first.
fn claim_key(case: &CaseRecord) -> (Reverse<i64>, i64, Reverse<i64>, i64, i64) {
    (
        Reverse(case.severity.rank()),
        ms(case.resolve_due_at),
        Reverse(case.priority),
        ms(case.opened_at),
        case.id.0,
    )
}

impl SqlStore {
    /// Makes the planner of this transaction use the claim indexes whatever
    /// its statistics say (PostgreSQL; SQLite keeps no statistics unless
    /// asked, and plans these queries from the indexes alone).
    pub(super) async fn plan_from_indexes(
        &self,
        tx: &mut Transaction<'static, Any>,
    ) -> StoreResult<()> {
        if self.backend == Backend::Postgres {
            sqlx::query(INDEX_ONLY_PLANS).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The case a claim on `queue` at `now` takes, locked on PostgreSQL
    /// (rows other claimers hold are passed over).
    pub(super) async fn next_claimable(
        &self,
        tx: &mut Transaction<'static, Any>,
        queue: &str,
        appeals: &AppealScope,
        now: Timestamp,
    ) -> StoreResult<Option<CaseRecord>> {
        let lock = self.backend.skip_locked();
        let mut params = Params::default();
        params.text(queue);
        let extra = appeal_condition(appeals, &mut params);
        let unclaimed = bind_all(
            sqlx::query_as::<_, DbCase>(&next_unclaimed_sql(lock, &extra)),
            params,
        )
        .fetch_optional(&mut **tx)
        .await?;
        let mut params = Params::default();
        params.text(queue);
        params.int(ms(now));
        let extra = appeal_condition(appeals, &mut params);
        let lapsed = bind_all(
            sqlx::query_as::<_, DbCase>(&next_lapsed_sql(lock, &extra)),
            params,
        )
        .fetch_optional(&mut **tx)
        .await?;
        Ok(match (unclaimed, lapsed) {
            (Some(DbCase(free)), Some(DbCase(lapsed))) => {
                Some(if claim_key(&lapsed) < claim_key(&free) {
                    lapsed
                } else {
                    free
                })
            }
            (free, lapsed) => free.or(lapsed).map(|DbCase(case)| case),
        })
    }

    /// The plans of the two claim queries for `queue` as the database
    /// reports them (`EXPLAIN` on PostgreSQL, `EXPLAIN QUERY PLAN` on
    /// SQLite), one line per row, under the claim's own planner settings.
    /// For tests and operators checking that claims read only the indexes.
    pub async fn claim_plan(&self, queue: &str) -> StoreResult<Vec<String>> {
        let mut tx = self.writer.begin().await?;
        self.plan_from_indexes(&mut tx).await?;
        let lock = self.backend.skip_locked();
        let explain = match self.backend {
            Backend::Postgres => "EXPLAIN",
            Backend::Sqlite => "EXPLAIN QUERY PLAN",
        };
        let unclaimed = sqlx::query(&format!("{explain} {}", next_unclaimed_sql(lock, "")))
            .bind(queue)
            .fetch_all(&mut *tx)
            .await?;
        let lapsed = sqlx::query(&format!("{explain} {}", next_lapsed_sql(lock, "")))
            .bind(queue)
            .bind(0_i64)
            .fetch_all(&mut *tx)
            .await?;
        tx.rollback().await?;
        unclaimed.iter().chain(&lapsed).map(plan_line).collect()
    }
}

/// One row of a plan as text: PostgreSQL answers one text column, SQLite
/// (id, parent, notused, detail).
fn plan_line(row: &sqlx::any::AnyRow) -> StoreResult<String> {
    use sqlx::Row;
    let last = row.len().saturating_sub(1);
    Ok(row.try_get::<String, _>(last)?)
}
