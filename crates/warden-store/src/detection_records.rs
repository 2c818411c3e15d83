//! Records of detection: what the worker reads about events, and the hits
//! and outcomes it writes back.

use std::str::FromStr;

use serde_json::Value;

use warden_domain::case::Severity;
use warden_domain::{SubjectRef, Timestamp};

use crate::{EventRecord, SubjectRecord};

/// A place in the order detection reads events: the inserting
/// transaction's id, then `seq`.
///
/// On PostgreSQL concurrent intake transactions commit out of `seq` order,
/// so a cursor over `seq` alone could pass an event not yet visible. Events
/// are instead read in (transaction id, `seq`) order and only below the
/// oldest running transaction (`txid_snapshot_xmin`): every transaction
/// below it has ended, and every event committed later belongs to a
/// transaction at or above it, so it sorts after everything read. SQLite
/// has one writer, so commit order is `seq` order and `txid` is always 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventPosition {
    /// The inserting transaction (`txid_current()`); 0 on SQLite and for
    /// events stored before migration 0018.
    pub txid: i64,
    /// The event's number in the log.
    pub seq: i64,
}

/// One event with what detection needs to know around it.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionEvent {
    /// Number in the event log.
    pub seq: i64,
    /// The inserting transaction's id (see [`EventPosition`]).
    pub txid: i64,
    /// The event.
    pub event: EventRecord,
    /// The acting account, if the platform sent it.
    pub actor: Option<SubjectRecord>,
    /// Weight of the actor's active strikes.
    pub actor_strike_weight: i64,
    /// The actor's labels now.
    pub actor_labels: Vec<String>,
    /// The event's subject, if the platform sent it.
    pub subject: Option<SubjectRecord>,
    /// The subject's labels now.
    pub subject_labels: Vec<String>,
    /// Reports received about the subject.
    pub subject_report_count: i64,
}

impl DetectionEvent {
    /// The event's place in the detection order.
    pub fn position(&self) -> EventPosition {
        EventPosition {
            txid: self.txid,
            seq: self.seq,
        }
    }
}

/// A rule that matched one event, and what it does.
#[derive(Debug, Clone, PartialEq)]
pub struct HitRecord {
    /// The rule.
    pub rule_id: String,
    /// Its version.
    pub rule_version: i64,
    /// `live` or `shadow`.
    pub mode: String,
    /// Taxonomy code.
    pub category: String,
    /// Severity of the hit.
    pub severity: Severity,
    /// What matched: the values of the variables the rule read.
    pub matched: Value,
    /// The values of the pack's features the rule read for this event (directly or through
    /// other features), kept in the signal's details for the case page.
    pub features: Value,
    /// Whether the outcome applies (live, past its throttle).
    pub acts: bool,
    /// Open or join a case: queue override and priority.
    pub case: Option<(Option<String>, i64)>,
    /// Label: name and lifetime in seconds.
    pub label: Option<(String, Option<i64>)>,
    /// Automated action: type and duration in seconds.
    pub action: Option<(String, Option<i64>)>,
}

/// The hits of one event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventHits {
    /// The event's position.
    pub seq: i64,
    /// The event's id.
    pub event_id: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Who did it.
    pub actor: Option<SubjectRef>,
    /// What it concerned.
    pub subject: Option<SubjectRef>,
    /// The hits.
    pub hits: Vec<HitRecord>,
}

/// How a rule has been doing.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleStats {
    /// The rule.
    pub rule_id: String,
    /// Its latest version.
    pub version: i64,
    /// Hits since the time asked.
    pub hits: i64,
    /// Hits whose outcome applied.
    pub acted: i64,
    /// The mode recorded with its latest version (`disabled` when the detection worker
    /// disabled the rule after repeated errors; see `warden-server`'s detection worker).
    pub latest_mode: String,
    /// When its latest version was recorded.
    pub latest_at: Timestamp,
}

/// The latest (not superseded) decision about a subject.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectVerdict {
    /// The subject.
    pub subject: SubjectRef,
    /// Whether the analyst found a violation.
    pub violation: bool,
    /// Its category.
    pub category: String,
}

/// How a rule version runs (the `mode` of `rule_versions` and `rule_hits`,
/// as rule files name it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleMode {
    /// Hits act.
    Live,
    /// Hits are stored and counted, nothing else.
    Shadow,
    /// Not evaluated.
    Disabled,
}

impl RuleMode {
    /// Every mode.
    pub const ALL: [RuleMode; 3] = [RuleMode::Live, RuleMode::Shadow, RuleMode::Disabled];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleMode::Live => "live",
            RuleMode::Shadow => "shadow",
            RuleMode::Disabled => "disabled",
        }
    }
}

impl FromStr for RuleMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RuleMode::ALL
            .into_iter()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| format!("unknown rule mode {text:?}; expected live, shadow or disabled"))
    }
}
