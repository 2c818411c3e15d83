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
//! warmed up at start by replaying the last day of events.
//!
//! Rules run under time limits (`[detection]` in `warden.toml`; see
//! `warden_detection::health`): a rule that passes its step budget or its
//! deadline on an event fails for that event, is counted in
//! `warden_rule_errors_total{rule,kind}` and shown with its error counts on
//! `GET /api/v1/rules`; after repeated failures it is disabled, and the
//! worker records that as a new version of the rule with mode `disabled`
//! (audited), so it stays disabled after a restart until its file changes.
//! Evaluation runs on a blocking thread, so a slow pack never stalls the
//! HTTP server. The live triage classifiers ([`crate::classifiers`]) score
//! each event's text first, for `classifier_score("name")`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use serde_json::Value;

use tokio::sync::watch;
use warden_detection::{
    parse_files, AutoDisabled, Detector, Evaluation, EventFacts, EventVariables, ParsedPack,
    RuleHit, RunLimits, Stopwatch, VelocityCounters,
};
use warden_domain::ids::SubjectKind;
use warden_rules::EvalContext;

use warden_app::{Clock, PolicyCell};
use warden_store::{
    Actor, CasePolicy, DetectionEvent, DetectionStore, EventHits, EventPosition, HitRecord,
    ModelStore, ReportStore, StoreError, StoreResult,
};

use crate::classifiers::LiveClassifiers;
use crate::limits::{EVENT_TIMES_KEPT, RULE_FILES_MAX, RULE_FILE_BYTES_MAX, WARMUP_EVENTS_MAX};
use crate::supervisor::{Pace, Supervisor, WorkerMetrics};

/// The ports the detection worker uses: its own (rule versions, the event
/// log and the cursor), the live classifier models, and the rules' stats.
pub trait DetectionPorts: DetectionStore + ModelStore + ReportStore {}

impl<T: DetectionStore + ModelStore + ReportStore + ?Sized> DetectionPorts for T {}

/// A [`Stopwatch`] on the process's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct InstantStopwatch {
    origin: Instant,
}

impl Default for InstantStopwatch {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Stopwatch for InstantStopwatch {
    fn nanos(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

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
    /// Time limits of rules and the auto-disable policy.
    pub limits: RunLimits,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        Self {
            rules_dir: None,
            batch_events: 500,
            idle_pause: StdDuration::from_millis(200),
            reload_every: StdDuration::from_secs(2),
            limits: RunLimits::default(),
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
    store: Arc<dyn DetectionPorts>,
    policy: Arc<PolicyCell>,
    clock: Arc<dyn Clock>,
    settings: DetectionSettings,
    detector: RwLock<Arc<Detector>>,
    velocity: Arc<Mutex<VelocityCounters>>,
    status: Mutex<PackStatus>,
    wake: tokio::sync::Notify,
    stopwatch: Arc<InstantStopwatch>,
    metrics: OnceLock<Arc<dyn WorkerMetrics>>,
    /// The latest per-event evaluation times, in nanoseconds.
    event_times: Mutex<VecDeque<u64>>,
    /// Each rule's latest hit seen by this worker: event, time, feature values.
    last_hits: Mutex<std::collections::BTreeMap<String, Value>>,
    /// The live triage classifiers, re-read with the rules.
    classifiers: RwLock<Arc<LiveClassifiers>>,
}

/// The rule files of a directory, and the files that could not be read.
#[derive(Debug, Default)]
pub struct RuleFiles {
    /// `(file name, text)`, sorted by name.
    pub files: Vec<(String, String)>,
    /// One message per file that could not be read, naming it and saying why.
    pub problems: Vec<String>,
}

/// Reads one rule file: at most [`RULE_FILE_BYTES_MAX`] bytes of UTF-8.
pub fn read_rule_file(path: &Path) -> Result<String, String> {
    let name = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{name}: cannot read: {e}"))?
        .len();
    if size > RULE_FILE_BYTES_MAX {
        return Err(format!(
            "{name}: is {size} bytes; a rule file may have at most {RULE_FILE_BYTES_MAX}"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        format!("{name}: is not UTF-8 text (invalid byte at offset {at}, line {line}); rule files must be UTF-8")
    })
}

/// Reads the `*.toml` files of a directory, sorted by name. A file that cannot be read
/// (not UTF-8, too large, unreadable) is named in [`RuleFiles::problems`] and the others
/// are still read; only a directory that cannot be listed is an error.
pub fn read_rule_files(dir: &Path) -> std::io::Result<RuleFiles> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut read = RuleFiles::default();
    if paths.len() > RULE_FILES_MAX {
        read.problems.push(format!(
            "{}: holds {} rule files; only the first {RULE_FILES_MAX} by name are read",
            dir.display(),
            paths.len()
        ));
        paths.truncate(RULE_FILES_MAX);
    }
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match read_rule_file(&path) {
            Ok(text) => read.files.push((name, text)),
            Err(problem) => read.problems.push(problem),
        }
    }
    Ok(read)
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
        features: hit.features.clone(),
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
    store: &(impl DetectionStore + ?Sized),
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

/// The reason recorded for a rule the store says was disabled after errors.
fn stored_disable_reason(version: i64) -> String {
    format!(
        "disabled automatically after repeated errors (recorded as version {version}; see the audit log); change its file to run it again"
    )
}

impl DetectionService {
    /// Loads the rules and warms the velocity counters; call [`Self::run`] to start working.
    pub async fn start(
        store: Arc<dyn DetectionPorts>,
        policy: Arc<PolicyCell>,
        clock: Arc<dyn Clock>,
        settings: DetectionSettings,
    ) -> StoreResult<Arc<Self>> {
        let velocity = Arc::new(Mutex::new(VelocityCounters::default()));
        let stopwatch = Arc::new(InstantStopwatch::default());
        let empty = Detector::build(ParsedPack::default(), &mut |_| 0, velocity.clone(), None)
            .detector
            .with_limits(settings.limits)
            .with_stopwatch(stopwatch.clone());
        let service = Arc::new(Self {
            store,
            policy,
            clock,
            settings,
            detector: RwLock::new(Arc::new(empty)),
            velocity,
            status: Mutex::new(PackStatus::default()),
            wake: tokio::sync::Notify::new(),
            stopwatch,
            metrics: OnceLock::new(),
            event_times: Mutex::new(VecDeque::with_capacity(EVENT_TIMES_KEPT)),
            last_hits: Mutex::new(std::collections::BTreeMap::new()),
            classifiers: RwLock::new(Arc::new(LiveClassifiers::default())),
        });
        service.reload().await?;
        service.warm_up().await?;
        Ok(service)
    }

    /// Counts rule errors in `metrics` from now on (the first call wins).
    pub fn attach_metrics(&self, metrics: Arc<dyn WorkerMetrics>) {
        let _ = self.metrics.set(metrics);
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
        if loaded.versions() != current.versions()
            || loaded.shadow_versions() != current.shadow_versions()
        {
            tracing::info!(models = ?loaded.versions(), shadow = ?loaded.shadow_versions(), "live classifiers");
            *self.classifiers.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(loaded);
        }
        Ok(())
    }

    /// Re-reads the live classifiers, then the rules directory and, when it
    /// changed, builds a new pack. While a rule file cannot be read the pack
    /// running now keeps running, and the file is named in the status.
    pub async fn reload(&self) -> StoreResult<bool> {
        self.reload_classifiers().await?;
        let Some(dir) = &self.settings.rules_dir else {
            return Ok(false);
        };
        let read = match read_rule_files(dir) {
            Ok(read) if read.problems.is_empty() => read,
            Ok(read) => {
                self.report_read_problems(
                    read.problems
                        .into_iter()
                        .map(|p| format!("{p}; the rules loaded before keep running"))
                        .collect(),
                );
                return Ok(false);
            }
            Err(error) => {
                let message = format!("cannot read the rules directory {}: {error}", dir.display());
                self.report_read_problems(vec![message]);
                return Ok(false);
            }
        };
        let files = read.files;
        // The taxonomy version is part of the fingerprint: rules name
        // categories, so a newly published version re-reads the pack.
        let policy = self.policy.current();
        let print = format!("{}@{}", fingerprint(&files), policy.version());
        if self.status().fingerprint == print {
            return Ok(false);
        }
        let previous = self.detector();
        let (detector, errors) = build_detector(
            self.store.as_ref(),
            &files,
            policy.case_policy(),
            self.velocity.clone(),
            Some(&previous),
            self.clock.now(),
        )
        .await?;
        let detector = detector
            .with_limits(self.settings.limits)
            .with_stopwatch(self.stopwatch.clone());
        self.apply_stored_disables(&detector).await?;
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

    fn report_read_problems(&self, problems: Vec<String>) {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        if status.errors != problems {
            for problem in &problems {
                tracing::warn!(%problem, "rule file not loaded");
            }
            status.errors = problems;
        }
    }

    /// Disables the rules whose latest stored version is a `disabled` one recorded after
    /// the version this pack runs (by this worker or another one), so an automatic
    /// disable survives restarts until the rule's file changes.
    async fn apply_stored_disables(&self, detector: &Detector) -> StoreResult<()> {
        let stats = self.store.rule_stats(self.clock.now()).await?;
        for rule in detector.rules() {
            let Some(latest) = stats.iter().find(|s| s.rule_id == rule.definition.id) else {
                continue;
            };
            if latest.latest_mode == "disabled" && latest.version > rule.version {
                detector.disable(AutoDisabled {
                    rule_id: rule.definition.id.clone(),
                    version: rule.version,
                    at: latest.latest_at,
                    reason: stored_disable_reason(latest.version),
                });
            }
        }
        Ok(())
    }

    /// Records a rule disabled after errors as a new version with mode `disabled`
    /// (audited), so that it stays disabled after a restart.
    async fn record_disable(&self, disabled: &AutoDisabled) -> StoreResult<()> {
        let detector = self.detector();
        let Some(rule) = detector
            .rules()
            .iter()
            .find(|r| r.definition.id == disabled.rule_id && r.version == disabled.version)
        else {
            return Ok(());
        };
        let latest = self
            .store
            .rule_stats(disabled.at)
            .await?
            .into_iter()
            .find(|s| s.rule_id == disabled.rule_id)
            .map_or(disabled.version, |s| s.version);
        let (source, hash) = rule.definition.auto_disabled(&disabled.reason, latest);
        let actor = Actor {
            user_id: None,
            name: "detection".into(),
            token_id: None,
        };
        let version = self
            .store
            .record_rule_version(
                &actor,
                &disabled.rule_id,
                &hash,
                &source,
                "disabled",
                disabled.at,
            )
            .await?;
        tracing::warn!(
            rule = %disabled.rule_id,
            running_version = disabled.version,
            recorded_version = version,
            reason = %disabled.reason,
            "rule disabled automatically"
        );
        Ok(())
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
        let mut after = EventPosition::default();
        let mut replayed = 0;
        while replayed < WARMUP_EVENTS_MAX {
            let batch = self
                .store
                .detection_events(after, Some(now - Duration::days(1)), 1_000, now)
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.position();
            let done: Vec<DetectionEvent> = batch
                .into_iter()
                .take_while(|e| e.position() <= cursor)
                .collect();
            replayed += done.len();
            // Failures here are counted again towards disabling a rule: a rule that fails
            // on yesterday's events would fail on today's.
            for (_, evaluation) in self.evaluate_batch(done, now, false).await? {
                for rule in &evaluation.disabled {
                    self.record_disable(rule).await?;
                }
            }
            if after >= cursor {
                break;
            }
        }
        tracing::info!(replayed, "velocity counters warmed up");
        Ok(())
    }

    /// Evaluates a batch on a blocking thread (rules may take up to the pack deadline per
    /// event); returns each event with its evaluation, and keeps the per-event times when
    /// `timed` (not for the warm-up replay).
    async fn evaluate_batch(
        &self,
        batch: Vec<DetectionEvent>,
        now: warden_domain::Timestamp,
        timed: bool,
    ) -> StoreResult<Vec<(DetectionEvent, Evaluation)>> {
        let detector = self.detector();
        let stopwatch = self.stopwatch.clone();
        let classifiers = self.classifiers();
        let (evaluated, times) = tokio::task::spawn_blocking(move || {
            let mut ctx = EvalContext::new();
            let mut evaluated = Vec::with_capacity(batch.len());
            let mut times = Vec::with_capacity(batch.len());
            for item in batch {
                let started = stopwatch.nanos();
                let evaluation = detector.evaluate_variables(
                    &EventVariables::new(Arc::new(Self::scored_facts(&item, &classifiers)), now),
                    &mut ctx,
                    None,
                );
                times.push(stopwatch.nanos().saturating_sub(started));
                evaluated.push((item, evaluation));
            }
            (evaluated, times)
        })
        .await
        .map_err(|e| StoreError::Database(format!("the rule evaluation task failed: {e}")))?;
        if !timed {
            return Ok(evaluated);
        }
        let mut kept = self.event_times.lock().unwrap_or_else(|p| p.into_inner());
        for time in times {
            if kept.len() == EVENT_TIMES_KEPT {
                kept.pop_front();
            }
            kept.push_back(time);
        }
        Ok(evaluated)
    }

    /// Quantiles of the latest per-event evaluation times, in milliseconds, with the number
    /// of events they cover; `None` before any event.
    pub fn event_times_ms(&self, quantiles: &[f64]) -> Option<(Vec<f64>, usize)> {
        let mut times: Vec<u64> = self
            .event_times
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect();
        if times.is_empty() {
            return None;
        }
        times.sort_unstable();
        let at = |q: f64| {
            let index = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
            times[index] as f64 / 1e6
        };
        Some((quantiles.iter().map(|q| at(*q)).collect(), times.len()))
    }

    /// Logs and counts the rules that failed on `item`.
    fn report_failures(&self, item: &DetectionEvent, evaluation: &Evaluation) {
        for failure in &evaluation.errors {
            tracing::warn!(
                rule = %failure.rule_id,
                kind = failure.kind.as_str(),
                event = %item.event.id,
                error = %failure.error,
                "rule failed on an event"
            );
            if let Some(metrics) = self.metrics.get() {
                metrics.rule_failed(&failure.rule_id, failure.kind.as_str());
            }
        }
    }

    /// Processes one batch; returns how many events it covered.
    pub async fn run_once(&self) -> StoreResult<usize> {
        let cursor = self.store.detection_cursor().await?;
        let now = self.clock.now();
        let batch = self
            .store
            .detection_events(cursor, None, self.settings.batch_events, now)
            .await?;
        let Some(last) = batch.last().map(DetectionEvent::position) else {
            return Ok(0);
        };
        let count = batch.len();
        let evaluated = self.evaluate_batch(batch, now, true).await?;
        let mut results = Vec::new();
        let mut disabled = Vec::new();
        for (item, evaluation) in &evaluated {
            self.report_failures(item, evaluation);
            disabled.extend(evaluation.disabled.iter().cloned());
            if !evaluation.hits.is_empty() {
                let mut last = self.last_hits.lock().unwrap_or_else(|p| p.into_inner());
                for hit in &evaluation.hits {
                    // One entry per rule of the pack, so the map stays bounded.
                    last.insert(
                        hit.rule_id.clone(),
                        serde_json::json!({
                            "event_id": item.event.id,
                            "occurred_at": item.event.occurred_at.to_rfc3339(),
                            "version": hit.version,
                            "features": hit.features,
                        }),
                    );
                }
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
        for rule in &disabled {
            self.record_disable(rule).await?;
        }
        if !self
            .store
            .apply_detection(
                results,
                cursor,
                last,
                self.policy.current().case_policy(),
                now,
            )
            .await?
        {
            tracing::info!("another worker moved the detection cursor; following it");
        }
        Ok(count)
    }

    /// Works until `shutdown` says true, each batch under `supervisor`:
    /// batches while there are events, otherwise a pause (cut short by
    /// [`Self::wake`]); reloads rules when their files or the taxonomy
    /// version in force change.
    pub async fn run(self: Arc<Self>, supervisor: Supervisor, shutdown: watch::Receiver<bool>) {
        let last_reload = Arc::new(Mutex::new(tokio::time::Instant::now()));
        let idle = shutdown.clone();
        supervisor
            .run(shutdown, move || {
                let service = self.clone();
                let last_reload = last_reload.clone();
                let mut idle = idle.clone();
                async move { service.batch(&last_reload, &mut idle).await }
            })
            .await;
    }

    /// One supervised round: a reload when one is due, one batch, and the
    /// idle pause when there was nothing to do.
    async fn batch(
        &self,
        last_reload: &Mutex<tokio::time::Instant>,
        stop: &mut watch::Receiver<bool>,
    ) -> StoreResult<Pace> {
        let reload_due = {
            let mut last = last_reload.lock().unwrap_or_else(|p| p.into_inner());
            let due = last.elapsed() >= self.settings.reload_every;
            if due {
                *last = tokio::time::Instant::now();
            }
            due
        };
        if reload_due {
            if let Err(error) = self.reload().await {
                tracing::warn!(%error, "reloading rules failed");
            }
        }
        if self.run_once().await? > 0 {
            return Ok(Pace::Busy);
        }
        tokio::select! {
            _ = tokio::time::timeout(self.settings.idle_pause, self.wake.notified()) => {}
            _ = stop.changed() => {}
        }
        Ok(Pace::Idle)
    }

    /// The pack's features, as JSON for the API.
    pub fn features_json(&self) -> Value {
        let detector = self.detector();
        Value::Array(
            detector
                .features()
                .features()
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "name": f.definition.name,
                        "expression": f.definition.expression,
                        "description": f.definition.description,
                        "type": f.ty.map(warden_rules::VarType::as_str),
                        "file": f.definition.file,
                    })
                })
                .collect(),
        )
    }

    /// The rules running, with their metadata and health, as JSON for the API.
    pub fn rules_json(&self) -> Value {
        let detector = self.detector();
        let health = detector.health(self.clock.now());
        let last_hits = self.last_hits.lock().map(|l| l.clone()).unwrap_or_default();
        Value::Array(
            detector
                .rules()
                .iter()
                .zip(health)
                .map(|(r, health)| {
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
                        "running": r.is_running(),
                        "estimated_cost": r.estimated_cost().steps,
                        "errors": health.errors,
                        "recent_strikes": health.recent_strikes,
                        "auto_disabled": health.disabled.map(|d| serde_json::json!({
                            "at": d.at.to_rfc3339(),
                            "reason": d.reason,
                        })),
                        "features": r.features(),
                        "last_hit": last_hits.get(&r.definition.id),
                    })
                })
                .collect(),
        )
    }

    /// The time limits and the latest per-event times, as JSON for the API.
    pub fn limits_json(&self) -> Value {
        let limits = self.settings.limits;
        let times = self.event_times_ms(&[0.5, 0.99, 1.0]);
        serde_json::json!({
            "step_limit": limits.step_limit,
            "rule_deadline_ms": limits.rule_deadline.as_millis() as u64,
            "pack_deadline_ms": limits.pack_deadline.as_millis() as u64,
            "strikes": limits.strikes,
            "strike_window_seconds": limits.strike_window_seconds,
            "event_time_ms": times.map(|(q, events)| serde_json::json!({
                "p50": q[0], "p99": q[1], "max": q[2], "events": events,
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;
    use warden_domain::ids::PlatformId;
    use warden_domain::intake::NewEvent;
    use warden_domain::SubjectRef;
    use warden_store::prelude::*;
    use warden_store::{SqlStore, SqliteOptions};

    use super::*;
    use crate::supervisor::WorkerMetrics;
    use warden_app::{ManualClock, PolicySnapshot};

    /// Dense matches: each call finds one match per byte of an all-`a` text, sixteen times
    /// what the static estimate assumes, so the rule passes `rules check` (14 calls stay
    /// under the limit on event-sized input) but costs most of a second per event of
    /// 60 KiB in an unoptimised build when unbounded.
    fn pathological() -> String {
        vec![r#"rcount("a", text) > 0"#; 14].join(" & ")
    }

    fn pack(pathological: &str) -> String {
        format!(
            r#"
[[rule]]
id = "dense-matches"
name = "Dense matches"
category = "spam"
mode = "live"
expression = '''{pathological}'''
[rule.outcome]
case = {{}}

[[rule]]
id = "long-post"
name = "Long posts"
category = "spam"
mode = "shadow"
expression = 'event_type == "post_created" & length(text) > 1000'

[[rule]]
id = "short-post"
name = "Short posts"
category = "spam"
mode = "shadow"
expression = 'event_type == "post_created" & length(text) < 1000'
"#
        )
    }

    struct World {
        _dir: tempfile::TempDir,
        rules_dir: PathBuf,
        store: Arc<SqlStore>,
        clock: Arc<ManualClock>,
        events: usize,
    }

    impl World {
        async fn new(rules: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let rules_dir = dir.path().join("rules");
            std::fs::create_dir_all(&rules_dir).unwrap();
            std::fs::write(rules_dir.join("pack.toml"), rules).unwrap();
            let store = Arc::new(
                SqlStore::open_sqlite(&dir.path().join("warden.db"), SqliteOptions::default())
                    .await
                    .unwrap(),
            );
            let clock = Arc::new(ManualClock::new(
                chrono::Utc
                    .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
                    .unwrap(),
            ));
            Self {
                _dir: dir,
                rules_dir,
                store,
                clock,
                events: 0,
            }
        }

        async fn service(&self, limits: RunLimits) -> Arc<DetectionService> {
            let settings = DetectionSettings {
                rules_dir: Some(self.rules_dir.clone()),
                batch_events: 100,
                limits,
                ..DetectionSettings::default()
            };
            let policy = Arc::new(PolicyCell::new(PolicySnapshot::configured(
                CasePolicy::default(),
            )));
            DetectionService::start(self.store.clone(), policy, self.clock.clone(), settings)
                .await
                .unwrap()
        }

        async fn post(&mut self, count: usize, text: &str) {
            let now = self.clock.now();
            let events = (0..count)
                .map(|_| {
                    self.events += 1;
                    NewEvent {
                        id: PlatformId::parse(&format!("evt_{}", self.events)).unwrap(),
                        event_type: "post_created".into(),
                        occurred_at: now,
                        actor: Some(SubjectRef::new(
                            SubjectKind::Account,
                            PlatformId::parse("acct_1").unwrap(),
                        )),
                        subject: None,
                        ip: None,
                        device_id: None,
                        data: json!({ "text": text }),
                    }
                })
                .collect();
            self.store
                .ingest_events(&Actor::system(), events, now)
                .await
                .unwrap();
        }
    }

    /// Rule errors as the metrics would count them, by rule.
    #[derive(Default)]
    struct RuleErrors(Mutex<std::collections::BTreeMap<String, u64>>);

    impl WorkerMetrics for RuleErrors {
        fn worker_panicked(&self, _worker: &str) {}
        fn worker_failed(&self, _worker: &str) {}
        fn rule_failed(&self, rule: &str, _kind: &str) {
            *self.0.lock().unwrap().entry(rule.to_string()).or_default() += 1;
        }
    }

    fn limits(rule_ms: u64, pack_ms: u64, strikes: u32) -> RunLimits {
        RunLimits {
            rule_deadline: StdDuration::from_millis(rule_ms),
            pack_deadline: StdDuration::from_millis(pack_ms),
            strikes,
            ..RunLimits::default()
        }
    }

    #[tokio::test]
    async fn a_pathological_rule_keeps_the_p99_per_event_under_the_deadline() {
        let mut world = World::new(&pack(&pathological())).await;
        let text = "a".repeat(60 * 1024);
        // Unbounded, the rule is slow: a few events show it.
        let unbounded = world
            .service(RunLimits {
                step_limit: u64::MAX,
                ..limits(10_000, 10_000, 1_000)
            })
            .await;
        world.post(3, &text).await;
        assert_eq!(unbounded.run_once().await.unwrap(), 3);
        let (slow, _) = unbounded.event_times_ms(&[1.0]).unwrap();
        // Under the limits (checked by `rules check` and loaded as usual), with deadlines
        // well below what the rule takes unbounded on this machine and build.
        let pack_deadline_ms = ((slow[0] / 3.0) as u64).max(30);
        let service = world
            .service(limits(pack_deadline_ms / 5, pack_deadline_ms, 1_000))
            .await;
        let metrics = Arc::new(RuleErrors::default());
        service.attach_metrics(metrics.clone());
        world.post(40, &text).await;
        world.post(10, "short text").await;
        while service.run_once().await.unwrap() > 0 {}
        let (bounded, events) = service.event_times_ms(&[0.5, 0.99]).unwrap();
        assert_eq!(events, 50);
        eprintln!(
            "per event: unbounded {:.1} ms; bounded p50 {:.1} ms, p99 {:.1} ms",
            slow[0], bounded[0], bounded[1]
        );
        assert!(
            slow[0] > 2.0 * pack_deadline_ms as f64,
            "the rule is not pathological enough to test anything: {slow:?} ms unbounded"
        );
        assert!(
            bounded[1] < pack_deadline_ms as f64,
            "p99 {} ms is over the pack deadline",
            bounded[1]
        );
        // The rule failed on every long event (no hit; its 3 hits are the unbounded run's),
        // the others hit.
        let stats = world
            .store
            .rule_stats(world.clock.now() - Duration::days(1))
            .await
            .unwrap();
        let hits = |id: &str| stats.iter().find(|s| s.rule_id == id).map_or(0, |s| s.hits);
        assert_eq!(hits("dense-matches"), 3);
        assert_eq!(hits("long-post"), 3 + 40);
        assert_eq!(hits("short-post"), 10);
        let counted = metrics.0.lock().unwrap().get("dense-matches").copied();
        assert_eq!(counted, Some(40));
        let rules = service.rules_json();
        let dense = rules
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "dense-matches")
            .unwrap();
        let errors: u64 = dense["errors"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_u64)
            .sum();
        // The 3 events replayed at start to warm the velocity counters count too.
        assert_eq!(errors, 3 + 40);
        assert_eq!(dense["running"], true, "1,000 strikes are needed here");
    }

    #[tokio::test]
    async fn repeated_errors_disable_a_rule_until_its_file_changes() {
        let mut world = World::new(&pack(&pathological())).await;
        let service = world.service(limits(20, 150, 3)).await;
        let text = "a".repeat(60 * 1024);
        world.post(5, &text).await;
        while service.run_once().await.unwrap() > 0 {}
        let rules = service.rules_json();
        let dense = &rules.as_array().unwrap()[0];
        assert_eq!(dense["id"], "dense-matches");
        assert_eq!(dense["running"], false);
        assert!(dense["auto_disabled"]["reason"]
            .as_str()
            .unwrap()
            .contains("3 errors"));
        let errors: u64 = dense["errors"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_u64)
            .sum();
        assert_eq!(errors, 3, "after the third it no longer ran");
        // Recorded as a new version with mode "disabled", audited.
        let stats = world.store.rule_stats(world.clock.now()).await.unwrap();
        let latest = stats.iter().find(|s| s.rule_id == "dense-matches").unwrap();
        assert_eq!(
            (latest.version, latest.latest_mode.as_str()),
            (2, "disabled")
        );
        let audit = world.store.audit_page(0, 1_000).await.unwrap();
        assert!(audit.iter().any(|r| r.entry.action == "rule.version"
            && r.entry.after["mode"] == "disabled"
            && r.entry.after["source"]
                .as_str()
                .is_some_and(|s| s.contains("disabled automatically"))
            && r.entry.actor.contains("detection")));

        // After a restart it stays disabled, at the file's version.
        let restarted = world.service(limits(20, 150, 3)).await;
        let detector = restarted.detector();
        let rule = &detector.rules()[0];
        assert_eq!((rule.version, rule.is_running()), (1, false));
        world.post(1, "short").await;
        while restarted.run_once().await.unwrap() > 0 {}
        assert!(restarted.rules_json()[0]["errors"]
            .as_object()
            .unwrap()
            .is_empty());

        // A changed file is a new version, and it runs.
        std::fs::write(world.rules_dir.join("pack.toml"), pack("length(text) > 10")).unwrap();
        assert!(restarted.reload().await.unwrap());
        let detector = restarted.detector();
        let rule = &detector.rules()[0];
        assert_eq!((rule.version, rule.is_running()), (3, true));
        // The same after another restart.
        let again = world.service(limits(20, 150, 3)).await;
        assert!(again.detector().rules()[0].is_running());
    }

    #[tokio::test]
    async fn a_published_taxonomy_version_reaches_the_rules_without_a_restart() {
        use warden_domain::enforcement::EnforcementPolicy;
        use warden_domain::taxonomy::Taxonomy;
        let world = World::new(
            r#"
[[rule]]
id = "crypto"
name = "Crypto scams"
category = "crypto_scam"
mode = "live"
expression = 'event_type == "post_created"'
[rule.outcome]
case = {}
"#,
        )
        .await;
        let cell = Arc::new(PolicyCell::new(PolicySnapshot::configured(
            CasePolicy::default(),
        )));
        let settings = DetectionSettings {
            rules_dir: Some(world.rules_dir.clone()),
            ..DetectionSettings::default()
        };
        let service = DetectionService::start(
            world.store.clone(),
            cell.clone(),
            world.clock.clone(),
            settings,
        )
        .await
        .unwrap();
        // The category is not in the taxonomy in force: the rule is refused.
        assert!(service.detector().rules().is_empty());
        assert!(
            service.status().errors[0].contains("crypto_scam"),
            "{:?}",
            service.status()
        );

        // Another server publishes a version with it; this one's cell follows.
        let mut document = EnforcementPolicy::default_for(&Taxonomy::default()).to_json();
        let mut category = document["categories"][0].clone();
        category["code"] = serde_json::json!("crypto_scam");
        document["categories"]
            .as_array_mut()
            .unwrap()
            .push(category);
        let version = warden_store::TaxonomyVersionRecord {
            version: 1,
            policy: EnforcementPolicy::from_json(&document).unwrap(),
            note: "crypto scams".into(),
            created_by: "paula".into(),
            created_at: world.clock.now(),
        };
        assert!(cell.offer(&version));

        // The rule files did not change, yet the next reload runs the rule.
        assert!(service.reload().await.unwrap());
        let detector = service.detector();
        assert_eq!(detector.rules().len(), 1);
        assert_eq!(detector.rules()[0].definition.category, "crypto_scam");
        assert!(service.status().errors.is_empty());
    }

    #[test]
    fn unreadable_rule_files_are_named_and_the_others_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "# fine\n").unwrap();
        std::fs::write(dir.path().join("b.toml"), b"x = 1\n\xff\xfe\n").unwrap();
        std::fs::write(dir.path().join("c.toml"), "# fine too\n").unwrap();
        let read = read_rule_files(dir.path()).unwrap();
        let names: Vec<&str> = read.files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a.toml", "c.toml"]);
        assert_eq!(read.problems.len(), 1);
        assert!(
            read.problems[0].contains("b.toml")
                && read.problems[0].contains("not UTF-8")
                && read.problems[0].contains("line 2"),
            "{:?}",
            read.problems
        );
    }
}
