//! How rules are doing at run time: their time limits, the errors they had on events, and
//! their automatic disabling after repeated errors.
//!
//! Every rule runs under a step budget (the cost model of `warden-rules`), a per-rule
//! deadline and the per-event deadline of the whole pack. A rule that passes its budget or
//! deadline, or AbuseFilter's condition limit, on an event fails for that event (no hit)
//! and earns a strike; after [`RunLimits::strikes`] strikes within
//! [`RunLimits::strike_window_seconds`] it is disabled until the host loads a new version
//! of it. Rules skipped because the pack deadline was spent, and runtime errors such as a
//! division by zero, are recorded and counted but earn no strike: the first are not the
//! skipped rule's fault, the second depend on the event's data and cost nothing.
//!
//! The detector does no I/O and reads no clock: the host gives it a [`Stopwatch`] for the
//! deadlines and the event's `now` for the strike window.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use warden_domain::Timestamp;

use crate::limits::{
    PACK_DEADLINE_MS_DEFAULT, RULE_DEADLINE_MS_DEFAULT, STRIKES_DEFAULT,
    STRIKE_WINDOW_SECONDS_DEFAULT,
};

/// A monotonic clock in nanoseconds from an arbitrary origin, supplied by the host.
pub trait Stopwatch: Send + Sync + 'static {
    /// Nanoseconds since the stopwatch's origin; never decreases.
    fn nanos(&self) -> u64;
}

/// The time limits and the auto-disable policy a detector runs rules under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Steps one rule may use on one event (see `warden_rules::limits::cost`).
    pub step_limit: u64,
    /// How long one rule may run on one event.
    pub rule_deadline: Duration,
    /// How long all rules together may run on one event.
    pub pack_deadline: Duration,
    /// Strikes within the window that disable a rule.
    pub strikes: u32,
    /// The window in which strikes count, in seconds.
    pub strike_window_seconds: i64,
}

impl Default for RunLimits {
    fn default() -> Self {
        Self {
            step_limit: warden_rules::limits::DEFAULT_STEP_LIMIT,
            rule_deadline: Duration::from_millis(RULE_DEADLINE_MS_DEFAULT),
            pack_deadline: Duration::from_millis(PACK_DEADLINE_MS_DEFAULT),
            strikes: STRIKES_DEFAULT,
            strike_window_seconds: STRIKE_WINDOW_SECONDS_DEFAULT,
        }
    }
}

/// Why a rule failed on an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureKind {
    /// It used more steps than its budget.
    StepBudget,
    /// It ran past the per-rule deadline.
    RuleDeadline,
    /// The pack's deadline for the event passed while it ran, or before its turn (skipped).
    PackDeadline,
    /// It used more conditions than AbuseFilter's limit.
    ConditionLimit,
    /// Another runtime error (division by zero, a bad pattern built at run time, ...).
    Runtime,
}

impl FailureKind {
    /// The name in metrics and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::StepBudget => "step_budget",
            FailureKind::RuleDeadline => "rule_deadline",
            FailureKind::PackDeadline => "pack_deadline",
            FailureKind::ConditionLimit => "condition_limit",
            FailureKind::Runtime => "runtime",
        }
    }

    /// Whether the failure counts towards disabling the rule.
    pub fn is_strike(self) -> bool {
        matches!(
            self,
            FailureKind::StepBudget | FailureKind::RuleDeadline | FailureKind::ConditionLimit
        )
    }
}

/// Why an evaluation failed: the deadline that fired, else the error's kind.
pub(crate) fn classify(fired: Option<FailureKind>, error: &warden_rules::RuleError) -> FailureKind {
    use warden_rules::ErrorKind;
    match (fired, error.kind) {
        (Some(kind), ErrorKind::TimeBudget) => kind,
        (_, ErrorKind::TimeBudget) => FailureKind::StepBudget,
        (_, ErrorKind::ConditionLimit) => FailureKind::ConditionLimit,
        _ => FailureKind::Runtime,
    }
}

/// A rule disabled after repeated errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoDisabled {
    /// The rule.
    pub rule_id: String,
    /// The version that was disabled.
    pub version: i64,
    /// When.
    pub at: Timestamp,
    /// Why, in words.
    pub reason: String,
}

/// What the API shows about one rule's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleHealth {
    /// The rule.
    pub rule_id: String,
    /// The version these counts are about.
    pub version: i64,
    /// Failures since the version was loaded, by kind name.
    pub errors: BTreeMap<&'static str, u64>,
    /// Strikes within the current window.
    pub recent_strikes: usize,
    /// Set when the rule was disabled automatically.
    pub disabled: Option<AutoDisabled>,
}

#[derive(Debug, Default)]
struct Record {
    version: i64,
    errors: BTreeMap<FailureKind, u64>,
    /// Times (seconds) of the strikes within the window, oldest first.
    strikes: VecDeque<i64>,
    disabled: Option<AutoDisabled>,
}

/// The health of every rule, shared by the successive detectors of one host (so reloading
/// the pack keeps the counts of the rules whose version did not change).
#[derive(Debug, Default)]
pub struct HealthBook {
    records: Mutex<BTreeMap<String, Record>>,
}

impl HealthBook {
    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Record>) -> T) -> T {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut records)
    }

    fn record<'a>(
        records: &'a mut BTreeMap<String, Record>,
        rule_id: &str,
        version: i64,
    ) -> &'a mut Record {
        let record = records.entry(rule_id.to_string()).or_default();
        if record.version != version {
            *record = Record {
                version,
                ..Record::default()
            };
        }
        record
    }

    /// Records a failure; returns the auto-disable it caused, if any.
    pub(crate) fn failed(
        &self,
        rule_id: &str,
        version: i64,
        kind: FailureKind,
        at: Timestamp,
        limits: &RunLimits,
    ) -> Option<AutoDisabled> {
        self.with(|records| {
            let record = Self::record(records, rule_id, version);
            *record.errors.entry(kind).or_default() += 1;
            if !kind.is_strike() || record.disabled.is_some() {
                return None;
            }
            let now = at.timestamp();
            record.strikes.push_back(now);
            while record
                .strikes
                .front()
                .is_some_and(|t| *t <= now - limits.strike_window_seconds)
            {
                record.strikes.pop_front();
            }
            // The queue never holds more than the strikes that disable.
            while record.strikes.len() > limits.strikes as usize {
                record.strikes.pop_front();
            }
            if record.strikes.len() < limits.strikes as usize {
                return None;
            }
            let minutes = limits.strike_window_seconds as f64 / 60.0;
            let disabled = AutoDisabled {
                rule_id: rule_id.to_string(),
                version,
                at,
                reason: format!(
                    "disabled automatically: {} errors (budget, deadline or condition limit) within {minutes} minutes, the last {}",
                    limits.strikes,
                    kind.as_str()
                ),
            };
            record.disabled = Some(disabled.clone());
            Some(disabled)
        })
    }

    /// Marks a rule version disabled (at load, for one the store says was disabled).
    pub(crate) fn disable(&self, disabled: AutoDisabled) {
        self.with(|records| {
            let (rule_id, version) = (disabled.rule_id.clone(), disabled.version);
            Self::record(records, &rule_id, version).disabled = Some(disabled);
        });
    }

    /// Whether this version of the rule is disabled.
    pub(crate) fn is_disabled(&self, rule_id: &str, version: i64) -> bool {
        self.with(|records| {
            records
                .get(rule_id)
                .is_some_and(|r| r.version == version && r.disabled.is_some())
        })
    }

    /// The health of a rule version.
    pub(crate) fn report(
        &self,
        rule_id: &str,
        version: i64,
        now: Timestamp,
        window: i64,
    ) -> RuleHealth {
        self.with(|records| {
            let record = records.get(rule_id).filter(|r| r.version == version);
            RuleHealth {
                rule_id: rule_id.to_string(),
                version,
                errors: record
                    .map(|r| r.errors.iter().map(|(k, n)| (k.as_str(), *n)).collect())
                    .unwrap_or_default(),
                recent_strikes: record.map_or(0, |r| {
                    r.strikes
                        .iter()
                        .filter(|t| **t > now.timestamp() - window)
                        .count()
                }),
                disabled: record.and_then(|r| r.disabled.clone()),
            }
        })
    }
}

/// Which deadline stopped a rule, as the deadline check saw it.
const FIRED_NONE: u8 = 0;
const FIRED_RULE: u8 = 1;
const FIRED_PACK: u8 = 2;

/// The deadlines of the event being evaluated, shared with the rule engine's deadline
/// check. The rule's start is read lazily, at the first check (after
/// [`warden_rules::limits::DEADLINE_CHECK_INTERVAL`] steps), so that the many rules that
/// finish sooner cost no clock reading at all.
pub(crate) struct Deadlines {
    stopwatch: Arc<dyn Stopwatch>,
    /// When the pack's time is up, in stopwatch nanoseconds.
    pack_at: AtomicU64,
    /// When the running rule was first checked; 0 when not yet.
    rule_started: AtomicU64,
    rule_budget: u64,
    fired: AtomicU8,
}

impl Deadlines {
    pub(crate) fn new(stopwatch: Arc<dyn Stopwatch>, limits: &RunLimits) -> Arc<Self> {
        let now = stopwatch.nanos();
        Arc::new(Self {
            pack_at: AtomicU64::new(now.saturating_add(limits.pack_deadline.as_nanos() as u64)),
            stopwatch,
            rule_started: AtomicU64::new(0),
            rule_budget: limits.rule_deadline.as_nanos() as u64,
            fired: AtomicU8::new(FIRED_NONE),
        })
    }

    /// A new rule starts.
    pub(crate) fn rule_starts(&self) {
        self.rule_started.store(0, Ordering::Relaxed);
        self.fired.store(FIRED_NONE, Ordering::Relaxed);
    }

    /// The rule engine's check: true when a deadline passed.
    pub(crate) fn expired(&self) -> bool {
        let now = self.stopwatch.nanos();
        if now > self.pack_at.load(Ordering::Relaxed) {
            self.fired.store(FIRED_PACK, Ordering::Relaxed);
            return true;
        }
        let started = self.rule_started.load(Ordering::Relaxed);
        if started == 0 {
            self.rule_started.store(now.max(1), Ordering::Relaxed);
            return false;
        }
        if now.saturating_sub(started) > self.rule_budget {
            self.fired.store(FIRED_RULE, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Whether the pack's deadline passed (reads the stopwatch).
    pub(crate) fn pack_spent(&self) -> bool {
        self.stopwatch.nanos() > self.pack_at.load(Ordering::Relaxed)
    }

    /// What stopped the last rule, if a deadline did.
    pub(crate) fn fired(&self) -> Option<FailureKind> {
        match self.fired.load(Ordering::Relaxed) {
            FIRED_RULE => Some(FailureKind::RuleDeadline),
            FIRED_PACK => Some(FailureKind::PackDeadline),
            _ => None,
        }
    }
}
