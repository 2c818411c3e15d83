//! Detection: rule versions, the worker's reads of events with their
//! context, and applying hits: stored once per (rule, version, event), live
//! outcomes applied in the same transaction as the cursor moves.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use warden_domain::decision::{action_target, check_action};
use warden_domain::ids::{PlatformId, SubjectKind};
use warden_domain::intake::ReportSource;
use warden_domain::{SubjectRef, Timestamp};

use super::intake::CaseContribution;
use super::rows::{self, get, EVENT_COLUMNS, SUBJECT_COLUMNS};
use super::{ms, AuditDraft, SqlStore};
use crate::{
    Actor, CasePolicy, DetectionEvent, EventHits, RuleStats, StoreError, StoreResult,
    SubjectRecord, SubjectVerdict,
};

/// Events read per detection batch at most.
const DETECTION_BATCH_MAX: u32 = 2_000;

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

impl SqlStore {
    pub(crate) async fn record_rule_version_impl(
        &self,
        actor: &Actor,
        rule_id: &str,
        source_hash: &str,
        source: &str,
        mode: &str,
        now: Timestamp,
    ) -> StoreResult<i64> {
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
            .bind(mode)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        let draft = AuditDraft::new(
            actor,
            "rule.version",
            "rule",
            rule_id,
            json!({"version": latest}),
            json!({"version": version, "mode": mode, "source": source}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(version)
    }

    pub(crate) async fn detection_cursor_impl(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT last_seq FROM detection_cursor WHERE id = 1")
                .fetch_optional(&self.reader)
                .await?
                .unwrap_or(0),
        )
    }

    pub(crate) async fn detection_events_impl(
        &self,
        after_seq: i64,
        since: Option<Timestamp>,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<DetectionEvent>> {
        let limit = i64::from(limit.clamp(1, DETECTION_BATCH_MAX));
        let rows = sqlx::query(&format!(
            "SELECT seq, {EVENT_COLUMNS} FROM events WHERE seq > $1 AND occurred_at >= $2 ORDER BY seq LIMIT $3"
        ))
        .bind(after_seq)
        .bind(since.map_or(i64::MIN, ms))
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            events.push((get::<i64>(row, "seq")?, rows::event(row)?));
        }
        // Every subject the batch touches, fetched once.
        let mut refs: BTreeSet<(String, String)> = BTreeSet::new();
        for (_, event) in &events {
            for reference in [&event.actor, &event.subject].into_iter().flatten() {
                refs.insert((
                    reference.kind.as_str().to_string(),
                    reference.id.as_str().to_string(),
                ));
            }
        }
        let mut subjects: BTreeMap<(String, String), SubjectRecord> = BTreeMap::new();
        let mut labels: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut report_counts: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut strike_weights: BTreeMap<String, i64> = BTreeMap::new();
        let refs: Vec<(String, String)> = refs.into_iter().collect();
        for chunk in refs.chunks(200) {
            let pairs = chunk
                .iter()
                .enumerate()
                .map(|(i, _)| format!("(kind = ${} AND platform_id = ${})", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(" OR ");
            let sql = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE {pairs}");
            let mut query = sqlx::query(&sql);
            for (kind, id) in chunk {
                query = query.bind(kind.clone()).bind(id.clone());
            }
            for row in query.fetch_all(&self.reader).await? {
                let record = rows::subject(&row)?;
                subjects.insert(
                    (
                        record.subject.kind.as_str().to_string(),
                        record.subject.id.as_str().to_string(),
                    ),
                    record,
                );
            }
            let label_pairs = pairs
                .replace("kind =", "subject_kind =")
                .replace("platform_id =", "subject_id =");
            let sql = format!(
                "SELECT subject_kind, subject_id, label FROM labels WHERE (expires_at IS NULL OR expires_at > ${}) AND ({label_pairs})",
                2 * chunk.len() + 1
            );
            let mut query = sqlx::query(&sql);
            for (kind, id) in chunk {
                query = query.bind(kind.clone()).bind(id.clone());
            }
            for row in query.bind(ms(now)).fetch_all(&self.reader).await? {
                labels
                    .entry((get(&row, "subject_kind")?, get(&row, "subject_id")?))
                    .or_default()
                    .push(get(&row, "label")?);
            }
            let sql = format!("SELECT subject_kind, subject_id, COUNT(*) AS reports FROM reports WHERE {label_pairs} GROUP BY subject_kind, subject_id");
            let mut query = sqlx::query(&sql);
            for (kind, id) in chunk {
                query = query.bind(kind.clone()).bind(id.clone());
            }
            for row in query.fetch_all(&self.reader).await? {
                report_counts.insert(
                    (get(&row, "subject_kind")?, get(&row, "subject_id")?),
                    get(&row, "reports")?,
                );
            }
            let accounts: Vec<&String> = chunk
                .iter()
                .filter(|(kind, _)| kind == "account")
                .map(|(_, id)| id)
                .collect();
            if !accounts.is_empty() {
                let sql = format!(
                    "SELECT account_id, CAST(SUM(weight) AS BIGINT) AS weight FROM strikes WHERE voided_at IS NULL AND expires_at > $1 AND account_id IN ({}) GROUP BY account_id",
                    placeholders(2, accounts.len())
                );
                let mut query = sqlx::query(&sql).bind(ms(now));
                for id in &accounts {
                    query = query.bind((*id).clone());
                }
                for row in query.fetch_all(&self.reader).await? {
                    strike_weights.insert(get(&row, "account_id")?, get(&row, "weight")?);
                }
            }
        }
        let key = |reference: &Option<SubjectRef>| {
            reference
                .as_ref()
                .map(|r| (r.kind.as_str().to_string(), r.id.as_str().to_string()))
        };
        Ok(events
            .into_iter()
            .map(|(seq, event)| {
                let actor_key = key(&event.actor);
                let subject_key = key(&event.subject);
                DetectionEvent {
                    seq,
                    actor: actor_key.as_ref().and_then(|k| subjects.get(k).cloned()),
                    actor_strike_weight: event
                        .actor
                        .as_ref()
                        .filter(|a| a.kind == SubjectKind::Account)
                        .and_then(|a| strike_weights.get(a.id.as_str()).copied())
                        .unwrap_or(0),
                    actor_labels: actor_key
                        .as_ref()
                        .and_then(|k| labels.get(k).cloned())
                        .unwrap_or_default(),
                    subject: subject_key.as_ref().and_then(|k| subjects.get(k).cloned()),
                    subject_labels: subject_key
                        .as_ref()
                        .and_then(|k| labels.get(k).cloned())
                        .unwrap_or_default(),
                    subject_report_count: subject_key
                        .as_ref()
                        .and_then(|k| report_counts.get(k).copied())
                        .unwrap_or(0),
                    event,
                }
            })
            .collect())
    }

    pub(crate) async fn apply_detection_impl(
        &self,
        results: Vec<EventHits>,
        expected_cursor: i64,
        new_cursor: i64,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await?;
        let moved =
            sqlx::query("UPDATE detection_cursor SET last_seq = $1 WHERE id = 1 AND last_seq = $2")
                .bind(new_cursor)
                .bind(expected_cursor)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let system = Actor {
            user_id: None,
            name: "detection".into(),
            token_id: None,
        };
        let (mut stored, mut cases, mut labelled, mut acted) =
            (0usize, BTreeSet::new(), 0usize, 0usize);
        for event in &results {
            for hit in &event.hits {
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
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 || !hit.acts {
                    stored += inserted as usize;
                    continue;
                }
                stored += 1;
                // The case is about the event's subject, or its actor.
                let Some(target) = event.subject.as_ref().or(event.actor.as_ref()) else {
                    continue;
                };
                if let Some((queue, priority)) = &hit.case {
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
                    .execute(&mut *tx)
                    .await?;
                    let contribution = CaseContribution {
                        subject: target,
                        category: &hit.category,
                        source: ReportSource::AutomatedFlag,
                        language: None,
                        weight: *priority,
                        is_report: false,
                        queue: queue.as_deref(),
                        severity: Some(hit.severity),
                    };
                    let (case_id, _) = self
                        .file_in_case(
                            &mut tx,
                            &system,
                            "signals",
                            signal.as_str(),
                            &contribution,
                            policy,
                            now,
                        )
                        .await?;
                    cases.insert(case_id.0);
                }
                if let Some((label, lifetime)) = &hit.label {
                    let holder = event.actor.as_ref().unwrap_or(target);
                    upsert_label(
                        &mut tx,
                        holder,
                        label,
                        lifetime.map(|s| ms(now) + s * 1000),
                        &hit.rule_id,
                        now,
                    )
                    .await?;
                    labelled += 1;
                }
                if let Some((action_type, duration)) = &hit.action {
                    let duration = duration.map(chrono::Duration::seconds);
                    let feature = (action_type == "restrict").then_some("automated");
                    let label = (action_type == "label").then_some("automated");
                    if let Ok(spec) = check_action(action_type, duration, feature, label) {
                        if let Ok(on) = action_target(&spec.kind, target, event.actor.as_ref()) {
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
                            .execute(&mut *tx)
                            .await?;
                            acted += 1;
                        }
                    }
                }
            }
        }
        if stored > 0 {
            let draft = AuditDraft::new(
                &system,
                "detection.batch",
                "events",
                format!("{}..{}", expected_cursor + 1, new_cursor),
                Value::Null,
                json!({"hits": stored, "cases": cases.iter().take(100).collect::<Vec<_>>(), "labels": labelled, "automated_actions": acted}),
            );
            self.append_audit(&mut tx, vec![draft], now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn rule_stats_impl(&self, since: Timestamp) -> StoreResult<Vec<RuleStats>> {
        let rows = sqlx::query(
            "SELECT v.rule_id, v.version, v.mode, v.created_at, (SELECT COUNT(*) FROM rule_hits h WHERE h.rule_id = v.rule_id AND h.occurred_at >= $1) AS hits, (SELECT COUNT(*) FROM rule_hits h WHERE h.rule_id = v.rule_id AND h.occurred_at >= $1 AND h.acted = 1) AS acted FROM rule_versions v WHERE v.version = (SELECT MAX(l.version) FROM rule_versions l WHERE l.rule_id = v.rule_id) ORDER BY v.rule_id",
        )
        .bind(ms(since))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RuleStats {
                    rule_id: get(row, "rule_id")?,
                    version: get(row, "version")?,
                    hits: get(row, "hits")?,
                    acted: get(row, "acted")?,
                    latest_mode: get(row, "mode")?,
                    latest_at: rows::time(row, "created_at")?,
                })
            })
            .collect()
    }

    pub(crate) async fn subject_verdicts_impl(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<SubjectVerdict>> {
        let rows = sqlx::query(
            "SELECT subject_kind, subject_id, violation, category FROM decisions d WHERE superseded_by IS NULL AND decided_at >= $1 AND id = (SELECT MAX(id) FROM decisions l WHERE l.subject_kind = d.subject_kind AND l.subject_id = d.subject_id AND l.superseded_by IS NULL) LIMIT 1000000",
        )
        .bind(ms(since))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SubjectVerdict {
                    subject: rows::reference(row, "subject_kind", "subject_id")?,
                    violation: rows::flag(row, "violation")?,
                    category: get(row, "category")?,
                })
            })
            .collect()
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
