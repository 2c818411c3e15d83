//! The SQL of [`DetectionStore`]: rule versions, the worker's reads of
//! events with their context, and applying hits: stored once per (rule,
//! version, event), live outcomes applied in the same transaction as the
//! cursor moves.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration as StdDuration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::decision::{action_target, check_action};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::ReportSource;
use warden_domain::routing::{CaseItem, CaseItemKind};
use warden_domain::{SubjectRef, Timestamp};

use super::intake::CaseContribution;
use super::wrappers::{DbSequencedEvent, DbSubject, Wrapped, EVENT_COLUMNS, SUBJECT_COLUMNS};
use super::{ms, AuditDraft, Backend, SqlStore};
use crate::{
    Actor, CasePolicy, DetectionEvent, DetectionStore, EventHits, EventPosition, EventRecord,
    HitRecord, RuleMode, StoreError, StoreResult, SubjectRecord,
};

use crate::limits::{DETECTION_BATCH_MAX, DETECTION_WAIT_MS_MAX};

/// How long a read waits between looks while older transactions finish:
/// the first pause, doubled up to the longest.
const HELD_BACK_PAUSE_FIRST: StdDuration = StdDuration::from_millis(2);
const HELD_BACK_PAUSE_LONGEST: StdDuration = StdDuration::from_millis(50);

/// Subjects looked up per statement when a batch's context is read (each
/// takes two placeholders).
const SUBJECTS_PER_LOOKUP: usize = 200;

use crate::limits::AUDIT_CASES_MAX;

/// The signal id of a live hit: stable, so that re-applying a batch after a
/// crash finds the same signal.
fn signal_id(rule_id: &str, version: i64, event_id: &str) -> String {
    let id = format!("rule:{rule_id}:{version}:{event_id}");
    if id.len() <= warden_domain::limits::PLATFORM_ID_BYTES_MAX {
        id
    } else {
        format!(
            "rule:{rule_id}:{version}:{}",
            hex::encode(Sha256::digest(event_id.as_bytes()))
        )
    }
}

fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A subject as a lookup key: its kind's stored name and its id.
type SubjectKey = (String, String);

fn key_of(reference: &SubjectRef) -> SubjectKey {
    (
        reference.kind.as_str().to_string(),
        reference.id.as_str().to_string(),
    )
}

/// What detection reads around the events of one batch.
#[derive(Default)]
struct BatchContext {
    subjects: BTreeMap<SubjectKey, SubjectRecord>,
    labels: BTreeMap<SubjectKey, Vec<String>>,
    report_counts: BTreeMap<SubjectKey, i64>,
    strike_weights: BTreeMap<String, i64>,
}

impl BatchContext {
    /// Reads the context of every subject in `keys`, a chunk at a time.
    async fn read(
        conn: &mut AnyConnection,
        keys: &[SubjectKey],
        now: Timestamp,
    ) -> StoreResult<Self> {
        let mut context = BatchContext::default();
        for chunk in keys.chunks(SUBJECTS_PER_LOOKUP) {
            context.read_subjects(conn, chunk).await?;
            context.read_labels(conn, chunk, now).await?;
            context.read_report_counts(conn, chunk).await?;
            context.read_strike_weights(conn, chunk, now).await?;
        }
        Ok(context)
    }

    /// `(kind = $1 AND platform_id = $2) OR ...` over a chunk, with the
    /// column names given.
    fn pairs(chunk: &[SubjectKey], kind: &str, id: &str) -> String {
        (0..chunk.len())
            .map(|i| format!("({kind} = ${} AND {id} = ${})", 2 * i + 1, 2 * i + 2))
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    async fn read_subjects(
        &mut self,
        conn: &mut AnyConnection,
        chunk: &[SubjectKey],
    ) -> StoreResult<()> {
        let sql = format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE {}",
            Self::pairs(chunk, "kind", "platform_id")
        );
        let mut query = sqlx::query_as::<_, DbSubject>(&sql);
        for (kind, id) in chunk {
            query = query.bind(kind.clone()).bind(id.clone());
        }
        for DbSubject(record) in query.fetch_all(&mut *conn).await? {
            self.subjects.insert(key_of(&record.subject), record);
        }
        Ok(())
    }

    async fn read_labels(
        &mut self,
        conn: &mut AnyConnection,
        chunk: &[SubjectKey],
        now: Timestamp,
    ) -> StoreResult<()> {
        let sql = format!(
            "SELECT subject_kind, subject_id, label FROM labels WHERE (expires_at IS NULL OR expires_at > ${}) AND ({})",
            2 * chunk.len() + 1,
            Self::pairs(chunk, "subject_kind", "subject_id")
        );
        let mut query = sqlx::query_as::<_, (String, String, String)>(&sql);
        for (kind, id) in chunk {
            query = query.bind(kind.clone()).bind(id.clone());
        }
        for (kind, id, label) in query.bind(ms(now)).fetch_all(&mut *conn).await? {
            self.labels.entry((kind, id)).or_default().push(label);
        }
        Ok(())
    }

    async fn read_report_counts(
        &mut self,
        conn: &mut AnyConnection,
        chunk: &[SubjectKey],
    ) -> StoreResult<()> {
        let sql = format!(
            "SELECT subject_kind, subject_id, COUNT(*) AS reports FROM reports WHERE {} GROUP BY subject_kind, subject_id",
            Self::pairs(chunk, "subject_kind", "subject_id")
        );
        let mut query = sqlx::query_as::<_, (String, String, i64)>(&sql);
        for (kind, id) in chunk {
            query = query.bind(kind.clone()).bind(id.clone());
        }
        for (kind, id, reports) in query.fetch_all(&mut *conn).await? {
            self.report_counts.insert((kind, id), reports);
        }
        Ok(())
    }

    async fn read_strike_weights(
        &mut self,
        conn: &mut AnyConnection,
        chunk: &[SubjectKey],
        now: Timestamp,
    ) -> StoreResult<()> {
        let accounts: Vec<&String> = chunk
            .iter()
            .filter(|(kind, _)| kind == SubjectKind::Account.as_str())
            .map(|(_, id)| id)
            .collect();
        if accounts.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT account_id, CAST(SUM(weight) AS BIGINT) AS weight FROM strikes WHERE voided_at IS NULL AND expires_at > $1 AND account_id IN ({}) GROUP BY account_id",
            placeholders(2, accounts.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql).bind(ms(now));
        for id in &accounts {
            query = query.bind((*id).clone());
        }
        for (account, weight) in query.fetch_all(&mut *conn).await? {
            self.strike_weights.insert(account, weight);
        }
        Ok(())
    }

    /// One event with what the context knows around it.
    fn event(&self, position: EventPosition, event: EventRecord) -> DetectionEvent {
        let actor_key = event.actor.as_ref().map(key_of);
        let subject_key = event.subject.as_ref().map(key_of);
        let lookup = |key: &Option<SubjectKey>| key.as_ref().and_then(|k| self.subjects.get(k));
        let labels = |key: &Option<SubjectKey>| {
            key.as_ref()
                .and_then(|k| self.labels.get(k).cloned())
                .unwrap_or_default()
        };
        DetectionEvent {
            seq: position.seq,
            txid: position.txid,
            actor: lookup(&actor_key).cloned(),
            actor_strike_weight: event
                .actor
                .as_ref()
                .filter(|a| a.kind == SubjectKind::Account)
                .and_then(|a| self.strike_weights.get(a.id.as_str()).copied())
                .unwrap_or(0),
            actor_labels: labels(&actor_key),
            subject: lookup(&subject_key).cloned(),
            subject_labels: labels(&subject_key),
            subject_report_count: subject_key
                .as_ref()
                .and_then(|k| self.report_counts.get(k).copied())
                .unwrap_or(0),
            event,
        }
    }
}

/// What applying a batch did, for its audit record.
#[derive(Default)]
struct Applied {
    stored: usize,
    cases: BTreeSet<i64>,
    labelled: usize,
    acted: usize,
}

/// The actor of everything the detection worker does.
fn detection_actor() -> Actor {
    Actor {
        user_id: None,
        name: "detection".into(),
        token_id: None,
    }
}

/// Stores one hit, once per (rule, version, event). Returns whether it
/// was new.
async fn insert_hit(
    tx: &mut Transaction<'static, Any>,
    event: &EventHits,
    hit: &HitRecord,
    now: Timestamp,
) -> StoreResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO rule_hits (rule_id, rule_version, mode, event_id, event_seq, subject_kind, subject_id, actor_id, category, matched, acted, occurred_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (rule_id, rule_version, event_id) DO NOTHING",
    )
    .bind(&hit.rule_id)
    .bind(hit.rule_version)
    .bind(&hit.mode)
    .bind(&event.event_id)
    .bind(event.seq)
    .bind(event.subject.as_ref().map(|s| s.kind.as_str()))
    .bind(event.subject.as_ref().map(|s| s.id.as_str().to_string()))
    .bind(event.actor.as_ref().map(|a| a.id.as_str().to_string()))
    .bind(&hit.category)
    .bind(hit.matched.to_string())
    .bind(i64::from(hit.acts))
    .bind(ms(event.occurred_at))
    .bind(ms(now))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Records a hit's automated action, when its type, duration and target
/// make a valid action; returns whether it did.
async fn insert_rule_action(
    tx: &mut Transaction<'static, Any>,
    event: &EventHits,
    hit: &HitRecord,
    target: &SubjectRef,
    now: Timestamp,
) -> StoreResult<bool> {
    let Some((action_type, duration)) = &hit.action else {
        return Ok(false);
    };
    let duration = duration.map(chrono::Duration::seconds);
    let feature = (action_type == "restrict").then_some("automated");
    let label = (action_type == "label").then_some("automated");
    let Ok(spec) = check_action(action_type, duration, feature, label) else {
        return Ok(false);
    };
    let Ok(on) = action_target(&spec.kind, target, event.actor.as_ref()) else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO rule_actions (rule_id, rule_version, event_id, target_kind, target_id, action_type, duration_seconds, expires_at, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) ON CONFLICT (rule_id, event_id, action_type) DO NOTHING",
    )
    .bind(&hit.rule_id)
    .bind(hit.rule_version)
    .bind(&event.event_id)
    .bind(on.kind.as_str())
    .bind(on.id.as_str())
    .bind(action_type)
    .bind(duration.map(|d| d.num_seconds()))
    .bind(duration.map(|d| ms(now + d)))
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

impl SqlStore {
    /// Applies one new live hit's outcomes: its case, label and action.
    async fn apply_hit(
        &self,
        tx: &mut Transaction<'static, Any>,
        event: &EventHits,
        hit: &HitRecord,
        policy: &CasePolicy,
        applied: &mut Applied,
        now: Timestamp,
    ) -> StoreResult<()> {
        // The case is about the event's subject, or its actor.
        let Some(target) = event.subject.as_ref().or(event.actor.as_ref()) else {
            return Ok(());
        };
        if let Some((queue, priority)) = &hit.case {
            let case = self
                .file_hit_in_case(
                    tx,
                    event,
                    hit,
                    target,
                    (queue.as_deref(), *priority),
                    policy,
                    now,
                )
                .await?;
            applied.cases.insert(case);
        }
        if let Some((label, lifetime)) = &hit.label {
            let holder = event.actor.as_ref().unwrap_or(target);
            let expires_at = lifetime.map(|s| ms(now) + s * 1000);
            upsert_label(tx, holder, label, expires_at, &hit.rule_id, now).await?;
            applied.labelled += 1;
        }
        if insert_rule_action(tx, event, hit, target, now).await? {
            applied.acted += 1;
        }
        Ok(())
    }

    /// Stores a hit's signal (a stable id) and opens or joins its case.
    #[allow(clippy::too_many_arguments)]
    async fn file_hit_in_case(
        &self,
        tx: &mut Transaction<'static, Any>,
        event: &EventHits,
        hit: &HitRecord,
        target: &SubjectRef,
        (queue, priority): (Option<&str>, i64),
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let id = signal_id(&hit.rule_id, hit.rule_version, &event.event_id);
        // Made of stored ids, which were checked when they came in.
        let signal = PlatformId::from_stored(id.clone())
            .map_err(|e| StoreError::Database(format!("signal id: {e}")))?;
        sqlx::query(
            "INSERT INTO signals (platform_id, subject_kind, subject_id, category, source, name, score, opens_case, details, created_at, received_at, fingerprint) VALUES ($1, $2, $3, $4, 'rule', $5, 1.0, 1, $6, $7, $8, $9) ON CONFLICT (platform_id) DO NOTHING",
        )
        .bind(signal.as_str())
        .bind(target.kind.as_str())
        .bind(target.id.as_str())
        .bind(&hit.category)
        .bind(&hit.rule_id)
        .bind(json!({"rule": hit.rule_id, "version": hit.rule_version, "event_id": event.event_id, "matched": hit.matched, "features": hit.features}).to_string())
        .bind(ms(event.occurred_at))
        .bind(ms(now))
        .bind(&id)
        .execute(&mut **tx)
        .await?;
        let contribution = CaseContribution {
            subject: target,
            item: CaseItem {
                category: &hit.category,
                source: ReportSource::AutomatedFlag,
                language: None,
                weight: priority,
                kind: CaseItemKind::Signal,
                queue,
                severity: Some(hit.severity),
            },
        };
        let (case_id, _) = self
            .file_in_case(
                tx,
                &detection_actor(),
                "signals",
                signal.as_str(),
                &contribution,
                policy,
                now,
            )
            .await?;
        Ok(case_id.0)
    }
}

impl SqlStore {
    /// PostgreSQL: the first transaction id not yet given out (every
    /// transaction that began before now is below it); `None` on SQLite,
    /// whose reads see every commit made before them.
    async fn write_horizon(&self, conn: &mut AnyConnection) -> StoreResult<Option<i64>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let horizon = sqlx::query_scalar("SELECT txid_snapshot_xmax(txid_current_snapshot())")
            .fetch_one(&mut *conn)
            .await?;
        Ok(Some(horizon))
    }

    /// Up to `limit` events after `after`, in [`EventPosition`] order, that
    /// no later commit can precede.
    async fn read_events(
        &self,
        conn: &mut AnyConnection,
        after: EventPosition,
        since: i64,
        limit: i64,
    ) -> StoreResult<Vec<DbSequencedEvent>> {
        let sql = match self.backend {
            // One writer: commit order is `seq` order.
            Backend::Sqlite => format!(
                "SELECT seq, 0 AS txid, {EVENT_COLUMNS} FROM events WHERE seq > $1 AND occurred_at >= $2 ORDER BY seq LIMIT $3"
            ),
            // Only transactions that have ended; the statement's own
            // snapshot shows all of them (see `EventPosition`).
            Backend::Postgres => format!(
                "SELECT seq, txid, {EVENT_COLUMNS} FROM events WHERE (txid, seq) > ($1, $2) AND txid < txid_snapshot_xmin(txid_current_snapshot()) AND occurred_at >= $3 ORDER BY txid, seq LIMIT $4"
            ),
        };
        let query = sqlx::query_as::<_, DbSequencedEvent>(&sql);
        let query = match self.backend {
            Backend::Sqlite => query.bind(after.seq),
            Backend::Postgres => query.bind(after.txid).bind(after.seq),
        };
        Ok(query.bind(since).bind(limit).fetch_all(&mut *conn).await?)
    }
}

/// PostgreSQL: waits, up to [`DETECTION_WAIT_MS_MAX`], while an event
/// after `after` of a transaction below `horizon` is committed but held
/// back by an older transaction still running; answers whether there was
/// any.
async fn wait_for_older_writers(
    conn: &mut AnyConnection,
    after: EventPosition,
    horizon: i64,
) -> StoreResult<bool> {
    let deadline = Instant::now() + StdDuration::from_millis(DETECTION_WAIT_MS_MAX);
    let mut pause = HELD_BACK_PAUSE_FIRST;
    let mut waited = false;
    while held_back(conn, after, horizon).await? {
        if Instant::now() >= deadline {
            tracing::warn!(
                wait_ms = DETECTION_WAIT_MS_MAX,
                "events wait for an older transaction still running; reading without them"
            );
            break;
        }
        waited = true;
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(HELD_BACK_PAUSE_LONGEST);
    }
    Ok(waited)
}

/// PostgreSQL: whether an event after `after`, of a transaction below
/// `horizon`, is committed but held back by an older transaction still
/// running.
async fn held_back(
    conn: &mut AnyConnection,
    after: EventPosition,
    horizon: i64,
) -> StoreResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events WHERE (txid, seq) > ($1, $2) AND txid >= txid_snapshot_xmin(txid_current_snapshot()) AND txid < $3)",
    )
    .bind(after.txid)
    .bind(after.seq)
    .bind(horizon)
    .fetch_one(&mut *conn)
    .await?)
}

#[async_trait]
impl DetectionStore for SqlStore {
    async fn record_rule_version(
        &self,
        actor: &Actor,
        rule_id: &str,
        source_hash: &str,
        source: &str,
        mode: &str,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mode = mode
            .parse::<RuleMode>()
            .map_err(|reason| StoreError::invalid("mode", reason))?;
        let mut tx = self.writer.begin().await?;
        let known: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM rule_versions WHERE rule_id = $1 AND source_hash = $2",
        )
        .bind(rule_id)
        .bind(source_hash)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(version) = known {
            tx.rollback().await?;
            return Ok(version);
        }
        let latest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM rule_versions WHERE rule_id = $1")
                .bind(rule_id)
                .fetch_one(&mut *tx)
                .await?;
        let version = latest.unwrap_or(0) + 1;
        sqlx::query("INSERT INTO rule_versions (rule_id, version, source_hash, source, mode, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(rule_id)
            .bind(version)
            .bind(source_hash)
            .bind(source)
            .bind(mode.as_str())
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        let draft = AuditDraft::new(
            actor,
            "rule.version",
            "rule",
            rule_id,
            json!({"version": latest}),
            json!({"version": version, "mode": mode.as_str(), "source": source}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(version)
    }

    async fn detection_cursor(&self) -> StoreResult<EventPosition> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT 0 AS last_txid, last_seq FROM detection_cursor WHERE id = 1",
            Backend::Postgres => "SELECT last_txid, last_seq FROM detection_cursor WHERE id = 1",
        };
        Ok(sqlx::query_as::<_, (i64, i64)>(sql)
            .fetch_optional(&self.reader)
            .await?
            .map(|(txid, seq)| EventPosition { txid, seq })
            .unwrap_or_default())
    }

    async fn detection_events(
        &self,
        after: EventPosition,
        since: Option<Timestamp>,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<DetectionEvent>> {
        let limit = i64::from(limit.clamp(1, DETECTION_BATCH_MAX));
        let since = since.map_or(i64::MIN, ms);
        let mut conn = self.reader.acquire().await?;
        let horizon = self.write_horizon(&mut conn).await?;
        let mut events = self.read_events(&mut conn, after, since, limit).await?;
        if let Some(horizon) = horizon.filter(|_| (events.len() as i64) < limit) {
            if wait_for_older_writers(&mut conn, after, horizon).await? {
                events = self.read_events(&mut conn, after, since, limit).await?;
            }
        }
        // Every subject the batch touches, fetched once.
        let keys: BTreeSet<SubjectKey> = events
            .iter()
            .flat_map(|DbSequencedEvent((_, event))| [&event.actor, &event.subject])
            .flatten()
            .map(key_of)
            .collect();
        let keys: Vec<SubjectKey> = keys.into_iter().collect();
        let context = BatchContext::read(&mut conn, &keys, now).await?;
        Ok(events
            .into_iter()
            .map(Wrapped::into_record)
            .map(|(position, event)| context.event(position, event))
            .collect())
    }

    async fn apply_detection(
        &self,
        results: Vec<EventHits>,
        expected_cursor: EventPosition,
        new_cursor: EventPosition,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let moved = match self.backend {
            Backend::Sqlite => sqlx::query(
                "UPDATE detection_cursor SET last_seq = $1 WHERE id = 1 AND last_seq = $2",
            )
            .bind(new_cursor.seq)
            .bind(expected_cursor.seq),
            Backend::Postgres => sqlx::query(
                "UPDATE detection_cursor SET last_txid = $1, last_seq = $2 WHERE id = 1 AND last_txid = $3 AND last_seq = $4",
            )
            .bind(new_cursor.txid)
            .bind(new_cursor.seq)
            .bind(expected_cursor.txid)
            .bind(expected_cursor.seq),
        }
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let mut applied = Applied::default();
        for event in &results {
            for hit in &event.hits {
                let new = insert_hit(&mut tx, event, hit, now).await?;
                applied.stored += usize::from(new);
                if new && hit.acts {
                    self.apply_hit(&mut tx, event, hit, policy, &mut applied, now)
                        .await?;
                }
            }
        }
        if applied.stored > 0 {
            let draft = AuditDraft::new(
                &detection_actor(),
                "detection.batch",
                "events",
                batch_span(expected_cursor, new_cursor),
                Value::Null,
                json!({"hits": applied.stored, "cases": applied.cases.iter().take(AUDIT_CASES_MAX).collect::<Vec<_>>(), "labels": applied.labelled, "automated_actions": applied.acted}),
            );
            self.append_audit(&mut tx, vec![draft], now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// What a batch's audit record names: the events after `from` up to `to`,
/// by `seq` (SQLite), or by (transaction id, `seq`) where order is by both.
fn batch_span(from: EventPosition, to: EventPosition) -> String {
    if from.txid == 0 && to.txid == 0 {
        format!("{}..{}", from.seq + 1, to.seq)
    } else {
        format!("after {}:{} to {}:{}", from.txid, from.seq, to.txid, to.seq)
    }
}

async fn upsert_label(
    tx: &mut Transaction<'static, Any>,
    holder: &SubjectRef,
    label: &str,
    expires_at: Option<i64>,
    source: &str,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO labels (subject_kind, subject_id, label, expires_at, source, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject_kind, subject_id, label) DO UPDATE SET expires_at = CASE WHEN labels.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL WHEN excluded.expires_at > labels.expires_at THEN excluded.expires_at ELSE labels.expires_at END, source = excluded.source",
    )
    .bind(holder.kind.as_str())
    .bind(holder.id.as_str())
    .bind(label)
    .bind(expires_at)
    .bind(format!("rule:{source}"))
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
