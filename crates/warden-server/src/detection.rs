//! The detection worker: runs every stored event through the live and
//! shadow rules, in order, and stores the hits.
//!
//! Events are committed by intake first (a 2xx never waits for rules); the
//! worker follows the event log with a cursor kept in the store, and applies
//! a batch's hits and moves the cursor in one transaction, so a crash
//! re-runs at most one batch and hits are stored once. Rule files are read
//! from a directory and reloaded when they change: each changed rule gets a
//! new version (audited), a rule that does not compile is refused and its
//! previous version keeps running. Velocity counters live in memory and are
//! warmed up at start by replaying the last day of events. The live triage
//! classifiers ([`crate::classifiers`]) score each event's text first, for
//! `classifier_score("name")`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration as StdDuration;

use chrono::Duration;
use serde_json::Value;

use warden_detection::{
    parse_files, Detector, EventFacts, EventVariables, ParsedPack, RuleHit, VelocityCounters,
};
use warden_domain::ids::SubjectKind;
use warden_rules::EvalContext;
use warden_store::{Actor, CasePolicy, DetectionEvent, EventHits, HitRecord, Store, StoreResult};

use crate::classifiers::LiveClassifiers;
use crate::Clock;

/// Rule files read from a directory at most.
const RULE_FILES_MAX: usize = 1_000;

/// Bytes of one rule file at most.
const RULE_FILE_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// Events replayed to warm the velocity counters at start, at most.
const WARMUP_EVENTS_MAX: usize = 200_000;

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct DetectionSettings {
    /// Directory of rule files (`*.toml`); no rules when `None`.
    pub rules_dir: Option<PathBuf>,
    /// Events per batch.
    pub batch_events: u32,
    /// Pause when there is nothing to do.
    pub idle_pause: StdDuration,
    /// How often the rules directory is checked for changes.
    pub reload_every: StdDuration,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        Self {
            rules_dir: None,
            batch_events: 500,
            idle_pause: StdDuration::from_millis(200),
            reload_every: StdDuration::from_secs(2),
        }
    }
}

/// The outcome of the last rules load.
#[derive(Debug, Clone, Default)]
pub struct PackStatus {
    /// Rules running.
    pub rules: usize,
    /// Problems in the files (rules left out, with where and why).
    pub errors: Vec<String>,
    /// Fingerprint of the files last read.
    fingerprint: String,
}

/// The detection worker and the pack it runs.
pub struct DetectionService {
    store: Arc<dyn Store>,
    policy: Arc<CasePolicy>,
    clock: Arc<dyn Clock>,
    settings: DetectionSettings,
    detector: RwLock<Arc<Detector>>,
    velocity: Arc<Mutex<VelocityCounters>>,
    status: Mutex<PackStatus>,
    wake: tokio::sync::Notify,
    /// The live triage classifiers, re-read with the rules.
    classifiers: RwLock<Arc<LiveClassifiers>>,
}

/// Reads `*.toml` files of a directory, sorted by name.
pub fn read_rule_files(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.truncate(RULE_FILES_MAX);
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        if std::fs::metadata(&path)?.len() > RULE_FILE_BYTES_MAX {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is larger than {RULE_FILE_BYTES_MAX} bytes",
                    path.display()
                ),
            ));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push((name, std::fs::read_to_string(&path)?));
    }
    Ok(files)
}

fn fingerprint(files: &[(String, String)]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (name, text) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// The facts of a stored event, for the rules.
pub fn facts_of(item: &DetectionEvent) -> EventFacts {
    let event = &item.event;
    let actor = item.actor.as_ref();
    EventFacts {
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        occurred_at: Some(event.occurred_at),
        actor_id: event
            .actor
            .as_ref()
            .filter(|a| a.kind == SubjectKind::Account)
            .map(|a| a.id.to_string()),
        actor_created_at: actor.and_then(|a| a.created_at),
        actor_attributes: actor.map(|a| a.attributes.clone()),
        actor_prior_strikes: item.actor_strike_weight,
        actor_labels: item.actor_labels.clone(),
        ip: event.ip.clone(),
        device_id: event.device_id.clone(),
        subject_kind: event.subject.as_ref().map(|s| s.kind.as_str().to_string()),
        subject_id: event.subject.as_ref().map(|s| s.id.to_string()),
        subject_text: item.subject.as_ref().and_then(|s| s.text.clone()),
        subject_attributes: item.subject.as_ref().map(|s| s.attributes.clone()),
        subject_labels: item.subject_labels.clone(),
        subject_report_count: item.subject_report_count,
        data: event.data.clone(),
    }
}

/// A hit as the store keeps it.
pub fn hit_record(hit: &RuleHit) -> HitRecord {
    HitRecord {
        rule_id: hit.rule_id.clone(),
        rule_version: hit.version,
        mode: hit.mode.as_str().to_string(),
        category: hit.category.clone(),
        severity: hit.severity,
        matched: hit.matched.clone(),
        acts: hit.acts,
        case: hit
            .outcome
            .case
            .as_ref()
            .map(|c| (c.queue.clone(), c.priority)),
        label: hit
            .outcome
            .label
            .as_ref()
            .map(|l| (l.name.clone(), l.expires_seconds)),
        action: hit
            .outcome
            .action
            .as_ref()
            .map(|a| (a.action_type.clone(), a.duration_seconds)),
    }
}

/// Builds a detector from rule files, numbering versions in the store.
pub async fn build_detector(
    store: &dyn Store,
    files: &[(String, String)],
    policy: &CasePolicy,
    velocity: Arc<Mutex<VelocityCounters>>,
    previous: Option<&Detector>,
    now: warden_domain::Timestamp,
) -> StoreResult<(Detector, Vec<String>)> {
    let parsed: ParsedPack = parse_files(files, &policy.taxonomy);
    let actor = Actor {
        user_id: None,
        name: "rules".into(),
        token_id: None,
    };
    let mut versions = std::collections::BTreeMap::new();
    for rule in &parsed.rules {
        let version = store
            .record_rule_version(
                &actor,
                &rule.id,
                &rule.source_hash,
                &rule.source,
                rule.mode.as_str(),
                now,
            )
            .await?;
        versions.insert(rule.id.clone(), version);
    }
    let built = Detector::build(
        parsed,
        &mut |rule| versions.get(&rule.id).copied().unwrap_or(0),
        velocity,
        previous,
    );
    let errors = built.errors.iter().map(ToString::to_string).collect();
    Ok((built.detector, errors))
}

impl DetectionService {
    /// Loads the rules and warms the velocity counters; call [`Self::run`] to start working.
    pub async fn start(
        store: Arc<dyn Store>,
        policy: Arc<CasePolicy>,
        clock: Arc<dyn Clock>,
        settings: DetectionSettings,
    ) -> StoreResult<Arc<Self>> {
        let velocity = Arc::new(Mutex::new(VelocityCounters::default()));
        let empty =
            Detector::build(ParsedPack::default(), &mut |_| 0, velocity.clone(), None).detector;
        let service = Arc::new(Self {
            store,
            policy,
            clock,
            settings,
            detector: RwLock::new(Arc::new(empty)),
            velocity,
            status: Mutex::new(PackStatus::default()),
            wake: tokio::sync::Notify::new(),
            classifiers: RwLock::new(Arc::new(LiveClassifiers::default())),
        });
        service.reload().await?;
        service.warm_up().await?;
        Ok(service)
    }

    /// The pack now running.
    pub fn detector(&self) -> Arc<Detector> {
        self.detector
            .read()
            .map(|d| d.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// The last load's outcome.
    pub fn status(&self) -> PackStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Asks the worker to look for new events now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The live classifiers now scoring events.
    pub fn classifiers(&self) -> Arc<LiveClassifiers> {
        self.classifiers
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// An event's facts with the live classifiers' scores in `data.scores`.
    fn scored_facts(item: &DetectionEvent, classifiers: &LiveClassifiers) -> EventFacts {
        let mut facts = facts_of(item);
        classifiers.add_scores(&mut facts);
        facts
    }

    /// Re-reads which classifier versions are live, loading changed ones.
    async fn reload_classifiers(&self) -> StoreResult<()> {
        let current = self.classifiers();
        let loaded = LiveClassifiers::load(self.store.as_ref(), &current).await?;
        if loaded.versions() != current.versions() {
            tracing::info!(models = ?loaded.versions(), "live classifiers");
            *self.classifiers.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(loaded);
        }
        Ok(())
    }

    /// Re-reads the live classifiers, then the rules directory and, when it
    /// changed, builds a new pack.
    pub async fn reload(&self) -> StoreResult<bool> {
        self.reload_classifiers().await?;
        let Some(dir) = &self.settings.rules_dir else {
            return Ok(false);
        };
        let files = match read_rule_files(dir) {
            Ok(files) => files,
            Err(error) => {
                let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
                let message = format!("cannot read the rules directory {}: {error}", dir.display());
                if status.errors.first() != Some(&message) {
                    tracing::warn!(%message);
                    status.errors = vec![message];
                }
                return Ok(false);
            }
        };
        let print = fingerprint(&files);
        if self.status().fingerprint == print {
            return Ok(false);
        }
        let previous = self.detector();
        let (detector, errors) = build_detector(
            self.store.as_ref(),
            &files,
            &self.policy,
            self.velocity.clone(),
            Some(&previous),
            self.clock.now(),
        )
        .await?;
        for error in &errors {
            tracing::warn!(%error, "rule refused");
        }
        tracing::info!(
            rules = detector.rules().len(),
            files = files.len(),
            "rules loaded"
        );
        let rules = detector.rules().len();
        *self.detector.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(detector);
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = PackStatus {
            rules,
            errors,
            fingerprint: print,
        };
        Ok(true)
    }

    /// Replays the last day of already-processed events so velocity windows
    /// are right after a restart. Hits found here were stored before.
    async fn warm_up(&self) -> StoreResult<()> {
        let cursor = self.store.detection_cursor().await?;
        let now = self.clock.now();
        let detector = self.detector();
        if detector.rules().is_empty() {
            return Ok(());
        }
        let mut after = 0;
        let mut replayed = 0;
        let mut ctx = EvalContext::new();
        let classifiers = self.classifiers();
        while replayed < WARMUP_EVENTS_MAX {
            let batch = self
                .store
                .detection_events(after, Some(now - Duration::days(1)), 1_000, now)
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for item in batch.iter().take_while(|e| e.seq <= cursor) {
                detector.evaluate_variables(
                    &EventVariables::new(Arc::new(Self::scored_facts(item, &classifiers)), now),
                    &mut ctx,
                    None,
                );
                replayed += 1;
            }
            if after >= cursor {
                break;
            }
        }
        tracing::info!(replayed, "velocity counters warmed up");
        Ok(())
    }

    /// Processes one batch; returns how many events it covered.
    pub async fn run_once(&self) -> StoreResult<usize> {
        let cursor = self.store.detection_cursor().await?;
        let now = self.clock.now();
        let batch = self
            .store
            .detection_events(cursor, None, self.settings.batch_events, now)
            .await?;
        let Some(last) = batch.last().map(|e| e.seq) else {
            return Ok(0);
        };
        let detector = self.detector();
        let mut ctx = EvalContext::new();
        let mut results = Vec::new();
        let classifiers = self.classifiers();
        for item in &batch {
            let evaluation = detector.evaluate_variables(
                &EventVariables::new(Arc::new(Self::scored_facts(item, &classifiers)), now),
                &mut ctx,
                None,
            );
            for (rule, error) in &evaluation.errors {
                tracing::warn!(rule, event = %item.event.id, %error, "rule failed on an event");
            }
            if !evaluation.hits.is_empty() {
                results.push(EventHits {
                    seq: item.seq,
                    event_id: item.event.id.clone(),
                    occurred_at: item.event.occurred_at,
                    actor: item.event.actor.clone(),
                    subject: item.event.subject.clone(),
                    hits: evaluation.hits.iter().map(hit_record).collect(),
                });
            }
        }
        if !self
            .store
            .apply_detection(results, cursor, last, &self.policy, now)
            .await?
        {
            tracing::info!("another worker moved the detection cursor; following it");
        }
        Ok(batch.len())
    }

    /// Works until the task is dropped: batches while there are events,
    /// otherwise a pause (cut short by [`Self::wake`]); reloads rules when
    /// their files change.
    pub async fn run(self: Arc<Self>) {
        let mut last_reload = tokio::time::Instant::now();
        loop {
            if last_reload.elapsed() >= self.settings.reload_every {
                last_reload = tokio::time::Instant::now();
                if let Err(error) = self.reload().await {
                    tracing::warn!(%error, "reloading rules failed");
                }
            }
            match self.run_once().await {
                Ok(0) => {
                    let _ =
                        tokio::time::timeout(self.settings.idle_pause, self.wake.notified()).await;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "detection batch failed; retrying");
                    tokio::time::sleep(self.settings.idle_pause * 5).await;
                }
            }
        }
    }

    /// The rules running, with their metadata, as JSON for the API.
    pub fn rules_json(&self) -> Value {
        let detector = self.detector();
        Value::Array(
            detector
                .rules()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.definition.id,
                        "name": r.definition.name,
                        "description": r.definition.description,
                        "owner": r.definition.owner,
                        "category": r.definition.category,
                        "severity": r.definition.severity.as_str(),
                        "mode": r.definition.mode.as_str(),
                        "version": r.version,
                        "expression": r.definition.expression,
                    })
                })
                .collect(),
        )
    }
}
