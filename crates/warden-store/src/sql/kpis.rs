//! The SQL of [`KpiFactsStore`]: each kind of KPI fact read by an indexed
//! range on the time that places it in the window (migration 0016), in
//! pages keyed by (time, id), inside one read transaction; names are
//! interned into the fact set's dimensions as rows arrive.

use async_trait::async_trait;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

use warden_domain::kpi::facts::{
    AppealFact, AppliedActionFact, Attribution, BreakFact, DecisionFact, Dimensions, ExposureFact,
    FirstTouchFact, OpenCaseFact, QaReviewFact, QaRubric, ResolutionFact,
};
use warden_domain::kpi::KpiFacts;
use warden_domain::Timestamp;

use super::wrappers::{
    time_from_ms, DbKpiAction, DbKpiAppeal, DbKpiBreak, DbKpiDecision, DbKpiExposure,
    DbKpiFirstTouch, DbKpiOpenCase, DbKpiQaReview,
};
use super::{ms, AuditDraft, SqlStore};
use crate::limits::{KPI_FACTS_PAGE, USERS_LISTED_MAX};
use crate::{
    Actor, ExposureSinceBreak, KpiFactsStore, KpiFactsWindow, NewExposure, StoreError, StoreResult,
};

/// Decisions in the window with their case and later fates.
const DECISIONS_SQL: &str = "SELECT d.id, d.case_id, c.queue, d.category, d.decided_by, d.decided_by_id, d.violation, d.supersedes, c.kind, c.severity, c.opened_at, c.first_touched_at, c.resolve_due_at, d.decided_at, d.reversed_at, (SELECT s.decided_at FROM decisions s WHERE s.id = d.superseded_by) AS superseded_at, (SELECT q.sent_back_at FROM qa_rework q WHERE q.decision_id = d.id) AS qa_rework_at, (SELECT MIN(t.at) FROM case_transitions t WHERE t.case_id = d.case_id AND t.to_status = 'reopened' AND t.at > d.decided_at) AS reopened_at, (SELECT MIN(a.reversed_at) FROM actions a WHERE a.decision_id = d.id) AS action_reversed_at, (SELECT MIN(p.decided_at) FROM appeals p WHERE p.decision_id = d.id AND p.outcome IN ('overturned', 'modified')) AS appeal_reversed_at, CASE WHEN d.violation = 0 THEN (SELECT MIN(v.decided_at) FROM decisions v WHERE v.subject_kind = d.subject_kind AND v.subject_id = d.subject_id AND v.category = d.category AND v.violation = 1 AND v.decided_at > d.decided_at) END AS violation_found_at FROM decisions d JOIN cases c ON c.id = d.case_id WHERE (d.decided_at, d.id) > ($1, $2) AND d.decided_at < $3 ORDER BY d.decided_at, d.id LIMIT $4";

/// Cases first touched in the window; the toucher is the first person to
/// decide it, else its assignee.
const FIRST_TOUCHES_SQL: &str = "SELECT c.id, c.queue, c.category, c.opened_at, c.first_touched_at, c.first_touch_due_at, COALESCE((SELECT d.decided_by FROM decisions d WHERE d.case_id = c.id AND d.decided_by_id IS NOT NULL ORDER BY d.id LIMIT 1), c.assignee) AS toucher FROM cases c WHERE c.first_touched_at IS NOT NULL AND (c.first_touched_at, c.id) > ($1, $2) AND c.first_touched_at < $3 ORDER BY c.first_touched_at, c.id LIMIT $4";

/// Appeals received or decided in the window (paged by id).
const APPEALS_SQL: &str = "SELECT p.id, c.queue, d.category, d.decided_by, d.decided_by_id, p.opened_at AS received_at, p.outcome, p.decided_at AS appeal_decided_at FROM appeals p JOIN decisions d ON d.id = p.decision_id JOIN cases c ON c.id = p.original_case_id WHERE p.id > $1 AND ((p.opened_at >= $2 AND p.opened_at < $3) OR (p.decided_at >= $2 AND p.decided_at < $3)) ORDER BY p.id LIMIT $4";

/// QA reviews scored in the window.
const QA_SQL: &str = "SELECT decision_id, queue, category, decider, scored_at, rubric FROM qa_assignments WHERE scored_at IS NOT NULL AND rubric IS NOT NULL AND (scored_at, decision_id) > ($1, $2) AND scored_at < $3 ORDER BY scored_at, decision_id LIMIT $4";

/// Actions applied (ordered, not waiting or refused) in the window.
const ACTIONS_SQL: &str = "SELECT a.id, c.queue, d.category, d.decided_by, d.decided_by_id, a.created_at FROM actions a JOIN decisions d ON d.id = a.decision_id JOIN cases c ON c.id = a.case_id WHERE a.status NOT IN ('pending_approval', 'rejected') AND (a.created_at, a.id) > ($1, $2) AND a.created_at < $3 ORDER BY a.created_at, a.id LIMIT $4";

/// Exposure intervals revealed in the window.
const EXPOSURES_SQL: &str = "SELECT w.id, w.reviewer, c.queue, c.category, w.revealed_at, w.visible_ms FROM wellness_exposures w JOIN cases c ON c.id = w.case_id WHERE (w.revealed_at, w.id) > ($1, $2) AND w.revealed_at < $3 ORDER BY w.revealed_at, w.id LIMIT $4";

/// Breaks suggested in the window.
const BREAKS_SQL: &str = "SELECT id, reviewer, suggested_at, taken_at FROM wellness_breaks WHERE (suggested_at, id) > ($1, $2) AND suggested_at < $3 ORDER BY suggested_at, id LIMIT $4";

/// Cases not resolved now, opened before `$3` (open at `$3`).
const OPEN_NOW_SQL: &str = "SELECT id, queue, category, resolve_due_at, opened_at AS key_at FROM cases WHERE status <> 'resolved' AND (opened_at, id) > ($1, $2) AND opened_at < $3 ORDER BY opened_at, id LIMIT $4";

/// Resolved cases resolved after the instant (`$1` starts there), opened
/// before it (`{at}`, formatted in): open at that instant.
const RESOLVED_LATER_SQL: &str = "SELECT id, queue, category, resolve_due_at, resolved_at AS key_at FROM cases WHERE status = 'resolved' AND (resolved_at, id) > ($1, $2) AND resolved_at < $3 AND opened_at < {at} ORDER BY resolved_at, id LIMIT $4";

/// A page's rows, or the position to read the next page from.
trait Keyed {
    /// The (time in ms, id) this row's query pages by.
    fn key(&self) -> (i64, i64);
}

impl Keyed for DbKpiDecision {
    fn key(&self) -> (i64, i64) {
        (ms(self.decided_at), self.id)
    }
}
impl Keyed for DbKpiFirstTouch {
    fn key(&self) -> (i64, i64) {
        (ms(self.touched_at), self.id)
    }
}
impl Keyed for DbKpiQaReview {
    fn key(&self) -> (i64, i64) {
        (ms(self.scored_at), self.decision_id)
    }
}
impl Keyed for DbKpiAction {
    fn key(&self) -> (i64, i64) {
        (ms(self.created_at), self.id)
    }
}
impl Keyed for DbKpiExposure {
    fn key(&self) -> (i64, i64) {
        (ms(self.revealed_at), self.id)
    }
}
impl Keyed for DbKpiBreak {
    fn key(&self) -> (i64, i64) {
        (ms(self.suggested_at), self.id)
    }
}
impl Keyed for DbKpiOpenCase {
    fn key(&self) -> (i64, i64) {
        (self.key_at, self.id)
    }
}

/// Reads every row of `sql` with a time in `(after, before)`, in pages
/// keyed by (time, id), handing each to `each`.
async fn read_keyed<W, F>(
    conn: &mut AnyConnection,
    sql: &str,
    after: i64,
    before: i64,
    mut each: F,
) -> StoreResult<()>
where
    W: for<'r> FromRow<'r, AnyRow> + Keyed + Send + Unpin,
    F: FnMut(W) -> Result<(), String>,
{
    let mut key = (after, i64::MAX);
    loop {
        let page = sqlx::query_as::<_, W>(sql)
            .bind(key.0)
            .bind(key.1)
            .bind(before)
            .bind(KPI_FACTS_PAGE)
            .fetch_all(&mut *conn)
            .await?;
        let full = page.len() as i64 == KPI_FACTS_PAGE;
        for row in page {
            key = row.key();
            each(row).map_err(|reason| StoreError::invalid("kpi_facts", reason))?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// Queue, category and reviewer names as dimension indexes.
fn attribution(
    dimensions: &mut Dimensions,
    queue: &str,
    category: &str,
    reviewer: Option<&str>,
) -> Result<Attribution, String> {
    Ok(Attribution {
        queue: Some(dimensions.queue(queue)?),
        category: Some(dimensions.category(category)?),
        reviewer: reviewer.map(|name| dimensions.reviewer(name)).transpose()?,
    })
}

/// A decision row as a decision fact and, when it resolves its case, a
/// resolution fact.
fn add_decision(facts: &mut KpiFacts, row: DbKpiDecision) -> Result<(), String> {
    let at = attribution(
        &mut facts.dimensions,
        &row.queue,
        &row.category,
        row.decider.as_deref(),
    )?;
    if row.resolution {
        facts.resolutions.push(ResolutionFact {
            case_id: row.case_id,
            attribution: at,
            severity: row.severity,
            opened_at: row.opened_at,
            claimed_at: row.first_touched_at.filter(|t| *t <= row.decided_at),
            decided_at: row.decided_at,
            resolution_due: Some(row.resolve_due_at),
        });
    }
    facts.decisions.push(DecisionFact {
        decision_id: row.id,
        attribution: at,
        decided_at: row.decided_at,
        violation: row.violation,
        superseded_at: row.superseded_at,
        qa_rework_at: row.qa_rework_at,
        reopened_at: row.reopened_at,
        reversed_at: row.reversed_at,
        violation_found_at: row.violation_found_at,
        prior_active_strikes: 0,
        meets_recommendation: None,
    });
    Ok(())
}

impl SqlStore {
    /// Decisions, resolutions and first touches of the window.
    async fn load_decisions(
        conn: &mut AnyConnection,
        from: i64,
        to: i64,
        facts: &mut KpiFacts,
    ) -> StoreResult<()> {
        read_keyed(conn, DECISIONS_SQL, from - 1, to, |row: DbKpiDecision| {
            add_decision(facts, row)
        })
        .await?;
        read_keyed(
            conn,
            FIRST_TOUCHES_SQL,
            from - 1,
            to,
            |row: DbKpiFirstTouch| {
                let at = attribution(
                    &mut facts.dimensions,
                    &row.queue,
                    &row.category,
                    row.toucher.as_deref(),
                )?;
                facts.first_touches.push(FirstTouchFact {
                    case_id: row.id,
                    attribution: at,
                    opened_at: row.opened_at,
                    touched_at: row.touched_at,
                    first_touch_due: Some(row.first_touch_due_at),
                });
                Ok(())
            },
        )
        .await
    }

    /// Appeals, QA reviews and applied actions of the window.
    async fn load_reviews(
        conn: &mut AnyConnection,
        from: i64,
        to: i64,
        facts: &mut KpiFacts,
    ) -> StoreResult<()> {
        let mut after = 0_i64;
        loop {
            let page = sqlx::query_as::<_, DbKpiAppeal>(APPEALS_SQL)
                .bind(after)
                .bind(from)
                .bind(to)
                .bind(KPI_FACTS_PAGE)
                .fetch_all(&mut *conn)
                .await?;
            let full = page.len() as i64 == KPI_FACTS_PAGE;
            for row in page {
                after = row.id;
                let at = attribution(
                    &mut facts.dimensions,
                    &row.queue,
                    &row.category,
                    row.decider.as_deref(),
                )
                .map_err(|reason| StoreError::invalid("kpi_facts", reason))?;
                facts.appeals.push(AppealFact {
                    attribution: at,
                    received_at: row.received_at,
                    decided: row.decided,
                });
            }
            if !full {
                break;
            }
        }
        read_keyed(conn, QA_SQL, from - 1, to, |row: DbKpiQaReview| {
            let at = attribution(
                &mut facts.dimensions,
                &row.queue,
                &row.category,
                Some(&row.decider),
            )?;
            facts.qa_reviews.push(QaReviewFact {
                attribution: at,
                completed_at: row.scored_at,
                rubric: QaRubric {
                    decision_correct: row.decision_correct,
                    category_correct: row.category_correct,
                    action_proportionate: row.action_proportionate,
                    documentation: row.documentation,
                },
            });
            Ok(())
        })
        .await?;
        read_keyed(conn, ACTIONS_SQL, from - 1, to, |row: DbKpiAction| {
            let at = attribution(
                &mut facts.dimensions,
                &row.queue,
                &row.category,
                row.decider.as_deref(),
            )?;
            facts.applied_actions.push(AppliedActionFact {
                attribution: at,
                applied_at: row.created_at,
            });
            Ok(())
        })
        .await
    }

    /// Exposure intervals and breaks of the window.
    async fn load_wellness(
        conn: &mut AnyConnection,
        from: i64,
        to: i64,
        facts: &mut KpiFacts,
    ) -> StoreResult<()> {
        read_keyed(conn, EXPOSURES_SQL, from - 1, to, |row: DbKpiExposure| {
            let at = attribution(
                &mut facts.dimensions,
                &row.queue,
                &row.category,
                Some(&row.reviewer),
            )?;
            facts.exposures.push(ExposureFact {
                attribution: at,
                revealed_at: row.revealed_at,
                concealed_at: row.revealed_at + chrono::Duration::milliseconds(row.visible_ms),
            });
            Ok(())
        })
        .await?;
        read_keyed(conn, BREAKS_SQL, from - 1, to, |row: DbKpiBreak| {
            let reviewer = facts.dimensions.reviewer(&row.reviewer)?;
            facts.breaks.push(BreakFact {
                reviewer,
                suggested_at: row.suggested_at,
                taken: row.taken_at.is_some(),
            });
            Ok(())
        })
        .await
    }

    /// The cases open at `at`: not resolved now and opened before it, or
    /// resolved after it and opened before it.
    async fn load_open_at(
        conn: &mut AnyConnection,
        at: i64,
        dimensions: &mut Dimensions,
    ) -> StoreResult<Vec<OpenCaseFact>> {
        let mut open = Vec::new();
        let mut add = |row: DbKpiOpenCase| {
            let attribution = attribution(dimensions, &row.queue, &row.category, None)?;
            open.push(OpenCaseFact {
                attribution,
                resolution_due: Some(row.resolve_due_at),
            });
            Ok(())
        };
        read_keyed(conn, OPEN_NOW_SQL, i64::MIN, at, &mut add).await?;
        let resolved_later = RESOLVED_LATER_SQL.replace("{at}", &at.to_string());
        read_keyed(conn, &resolved_later, at, i64::MAX, &mut add).await?;
        Ok(open)
    }

    /// Puts every reviewer of the fact set in their current teams.
    async fn load_teams(conn: &mut AnyConnection, dimensions: &mut Dimensions) -> StoreResult<()> {
        let users: Vec<(String, String)> = sqlx::query_as("SELECT name, teams FROM users LIMIT $1")
            .bind(USERS_LISTED_MAX)
            .fetch_all(&mut *conn)
            .await?;
        for (name, teams) in users {
            let Some(reviewer) = dimensions.reviewers.find(&name) else {
                continue;
            };
            let teams: Vec<String> =
                serde_json::from_str(&teams).map_err(|_| StoreError::Corrupt {
                    table: "users".into(),
                    column: "teams".into(),
                    value: teams.clone(),
                })?;
            for team in teams {
                dimensions
                    .join_team(reviewer, &team)
                    .map_err(|reason| StoreError::invalid("team", reason))?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl KpiFactsStore for SqlStore {
    async fn kpi_facts(&self, window: &KpiFactsWindow) -> StoreResult<KpiFacts> {
        let (from, to) = (ms(window.from), ms(window.to));
        let mut tx = self.reader.begin().await?;
        let mut facts = KpiFacts::default();
        Self::load_decisions(&mut tx, from, to, &mut facts).await?;
        Self::load_reviews(&mut tx, from, to, &mut facts).await?;
        Self::load_wellness(&mut tx, from, to, &mut facts).await?;
        facts.open_at_from = Self::load_open_at(&mut tx, from, &mut facts.dimensions).await?;
        facts.open_at_to = Self::load_open_at(&mut tx, to, &mut facts.dimensions).await?;
        Self::load_teams(&mut tx, &mut facts.dimensions).await?;
        tx.commit().await?;
        Ok(facts)
    }

    async fn record_exposure(
        &self,
        actor: &Actor,
        exposure: &NewExposure,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM cases WHERE id = $1")
            .bind(exposure.case_id.0)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound(format!("case {}", exposure.case_id)));
        }
        sqlx::query("INSERT INTO wellness_exposures (reviewer, case_id, revealed_at, visible_ms, recorded_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&actor.name)
            .bind(exposure.case_id.0)
            .bind(ms(exposure.revealed_at))
            .bind(exposure.visible_ms)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        let draft = AuditDraft::new(
            actor,
            "wellness.exposure",
            "case",
            exposure.case_id,
            serde_json::Value::Null,
            json!({"revealed_at": exposure.revealed_at, "visible_ms": exposure.visible_ms}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn exposure_since_break(&self, reviewer: &str) -> StoreResult<ExposureSinceBreak> {
        let mut conn = self.reader.acquire().await?;
        let (last, pending): (Option<i64>, i64) = sqlx::query_as("SELECT MAX(suggested_at), CAST(COUNT(*) - COUNT(taken_at) AS BIGINT) FROM wellness_breaks WHERE reviewer = $1")
            .bind(reviewer)
            .fetch_one(&mut *conn)
            .await?;
        let visible_ms: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(visible_ms), 0) AS BIGINT) FROM wellness_exposures WHERE reviewer = $1 AND recorded_at > $2")
            .bind(reviewer)
            .bind(last.unwrap_or(i64::MIN))
            .fetch_one(&mut *conn)
            .await?;
        Ok(ExposureSinceBreak {
            visible_ms,
            last_suggested_at: last.map(|t| time_from_ms(t, "suggested_at")).transpose()?,
            break_pending: pending > 0,
        })
    }

    async fn suggest_break(&self, actor: &Actor, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("INSERT INTO wellness_breaks (reviewer, suggested_at) VALUES ($1, $2)")
            .bind(&actor.name)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        let draft = AuditDraft::new(
            actor,
            "wellness.break_suggested",
            "user",
            &actor.name,
            serde_json::Value::Null,
            json!({"suggested_at": now}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_break(&self, actor: &Actor, now: Timestamp) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let pending: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(id) FROM wellness_breaks WHERE reviewer = $1 AND taken_at IS NULL",
        )
        .bind(&actor.name)
        .fetch_one(&mut *tx)
        .await?;
        let Some(id) = pending else {
            return Ok(false);
        };
        sqlx::query("UPDATE wellness_breaks SET taken_at = $1 WHERE id = $2")
            .bind(ms(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let draft = AuditDraft::new(
            actor,
            "wellness.break_taken",
            "user",
            &actor.name,
            json!({"taken": false}),
            json!({"taken": true, "break": id}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
