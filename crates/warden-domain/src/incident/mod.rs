//! Incidents: cases grouped during a surge (a spam wave, an account
//! takeover campaign, a coordinated harassment raid), with a title, a
//! severity, an owner, a life of open → contained → resolved, a timeline
//! and impact counts; and bulk containment over their open cases.
//!
//! - This module: [`NewIncident`] parsed from `{title, severity,
//!   description}`, [`IncidentStatus`] and its transitions, timeline
//!   entries, and [`impact`] (cases, open cases, distinct accounts, the
//!   time window) from the cases' facts.
//! - [`query`]: [`CaseQuery`], the case list's filters as a domain type
//!   (the store's `CaseFilter` can be built from it), and membership by
//!   ids or by query, bounded by [`INCIDENT_CASES_MAX`].
//! - [`bulk`]: the bulk action planner — one decision per open case
//!   through [`crate::enforcement::plan_decision`]'s rules, skipped cases
//!   with reasons, one lead approval for the whole set, and idempotency
//!   keys per (bulk, case) so that a resumed run decides each case once.

pub mod bulk;
pub mod query;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::case::CaseStatus;
use crate::escalation::EscalationSeverity;
use crate::ids::{CaseId, SubjectRef, UserId};
use crate::limits::{
    INCIDENT_CASES_MAX, INCIDENT_DESCRIPTION_CHARS_MAX, INCIDENT_TIMELINE_ENTRIES_MAX,
    INCIDENT_TITLE_CHARS_MAX,
};
use crate::text::{check_free_text, check_visible};
use crate::{FieldErrors, Timestamp};

pub use bulk::{
    plan_bulk_action, plan_bulk_approval, plan_bulk_step, BulkApproval, BulkCaseFacts, BulkCommand,
    BulkContext, BulkId, BulkInput, BulkPlan, BulkRefusal, BulkStatus, BulkStep, BulkStepKey,
    BulkStepPlan, SkipReason, Skipped,
};
pub use query::{
    plan_membership, Assignee, CaseQuery, CaseQueryFacts, CaseQueryInput, Membership,
    MembershipFacts, MembershipInput, MembershipPlan,
};

/// Warden's id for an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IncidentId(pub i64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentStatus {
    /// The surge is on.
    Open,
    /// It has stopped growing: containment actions are in force.
    Contained,
    /// Over, with its cases decided or handed back to the queues.
    Resolved,
}

impl IncidentStatus {
    /// Every status.
    pub const ALL: [IncidentStatus; 3] = [
        IncidentStatus::Open,
        IncidentStatus::Contained,
        IncidentStatus::Resolved,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Contained => "contained",
            IncidentStatus::Resolved => "resolved",
        }
    }

    /// The table of allowed transitions: open → contained → resolved; a
    /// surge that starts again goes from contained back to open; a false
    /// alarm is resolved while open. A resolved incident stays resolved
    /// (a new surge is a new incident).
    pub fn can_become(self, to: IncidentStatus) -> bool {
        use IncidentStatus::*;
        matches!(
            (self, to),
            (Open, Contained) | (Open, Resolved) | (Contained, Open) | (Contained, Resolved)
        )
    }
}

impl FromStr for IncidentStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        IncidentStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                format!("unknown incident status {value:?}; expected open, contained or resolved")
            })
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /api/v1/incidents` as sent, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentInput {
    /// A line naming the surge.
    pub title: Option<String>,
    /// `sev1` .. `sev4`.
    pub severity: Option<String>,
    /// What is known.
    pub description: Option<String>,
}

/// An incident to open, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncident {
    /// Its title: visible characters, 1 to [`INCIDENT_TITLE_CHARS_MAX`].
    pub title: String,
    /// Its severity, on the escalation scale.
    pub severity: EscalationSeverity,
    /// Its description (may be empty).
    pub description: String,
}

impl NewIncident {
    /// Checks every field (`title`, `severity`, `description`).
    pub fn parse(input: &IncidentInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = input.title.as_deref().map(str::trim).unwrap_or_default();
        if title.is_empty() {
            errors.push("title", "is required: name the surge in a line");
        } else if title.chars().count() > INCIDENT_TITLE_CHARS_MAX {
            errors.push(
                "title",
                format!("must be at most {INCIDENT_TITLE_CHARS_MAX} characters"),
            );
        } else {
            errors.take("title", check_visible(title));
        }
        let severity = match input.severity.as_deref() {
            None => {
                errors.push("severity", "is required: sev1, sev2, sev3 or sev4");
                None
            }
            Some(severity) => errors.take("severity", severity.parse()),
        };
        let description = input.description.clone().unwrap_or_default();
        errors.take(
            "description",
            check_free_text(&description, INCIDENT_DESCRIPTION_CHARS_MAX),
        );
        match severity {
            Some(severity) if errors.is_empty() => Ok(Self {
                title: title.to_string(),
                severity,
                description,
            }),
            _ => Err(errors),
        }
    }
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// Warden's id.
    pub id: IncidentId,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: EscalationSeverity,
    /// Its description.
    pub description: String,
    /// Who owns it (the lead who opened it, or whom it was handed to).
    pub owner: UserId,
    /// Where it stands.
    pub status: IncidentStatus,
    /// When it opened.
    pub opened_at: Timestamp,
    /// Entries on its timeline so far.
    pub timeline_entries: usize,
}

/// What happened in an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentEvent {
    /// It was opened.
    Opened,
    /// Cases joined it.
    CasesJoined {
        /// How many were added.
        added: usize,
        /// By ids or by a query.
        by_query: bool,
    },
    /// Its status changed.
    StatusChanged {
        /// Before.
        from: IncidentStatus,
        /// After.
        to: IncidentStatus,
    },
    /// Its owner changed.
    OwnerChanged {
        /// The new owner.
        to: UserId,
    },
    /// A bulk action was planned (a dry run).
    BulkPlanned {
        /// The bulk action.
        bulk: bulk::BulkId,
        /// Cases it would decide.
        planned: usize,
        /// Cases it would skip.
        skipped: usize,
    },
    /// A lead approved a bulk action.
    BulkApproved {
        /// The bulk action.
        bulk: bulk::BulkId,
    },
    /// A bulk action finished.
    BulkCompleted {
        /// The bulk action.
        bulk: bulk::BulkId,
        /// Cases it decided.
        applied: usize,
        /// Cases it skipped.
        skipped: usize,
    },
}

impl IncidentEvent {
    /// The event in a phrase, for the timeline.
    pub fn describe(&self) -> String {
        match self {
            IncidentEvent::Opened => "incident opened".into(),
            IncidentEvent::CasesJoined { added, by_query } => format!(
                "{added} cases joined {}",
                if *by_query { "by query" } else { "by id" }
            ),
            IncidentEvent::StatusChanged { from, to } => format!("{from} → {to}"),
            IncidentEvent::OwnerChanged { to } => format!("owner changed to user {to}"),
            IncidentEvent::BulkPlanned {
                bulk,
                planned,
                skipped,
            } => format!("bulk action {bulk} dry run: {planned} planned, {skipped} skipped"),
            IncidentEvent::BulkApproved { bulk } => format!("bulk action {bulk} approved"),
            IncidentEvent::BulkCompleted {
                bulk,
                applied,
                skipped,
            } => format!("bulk action {bulk} completed: {applied} decided, {skipped} skipped"),
        }
    }
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// When.
    pub at: Timestamp,
    /// Who (`None`: Warden).
    pub by: Option<UserId>,
    /// What.
    pub event: IncidentEvent,
}

/// The timeline entry for `event`, when the incident has room for one
/// more; past [`INCIDENT_TIMELINE_ENTRIES_MAX`] the entry is not written
/// (the audit log still has every change).
pub fn timeline_entry(
    incident: &Incident,
    event: IncidentEvent,
    by: Option<UserId>,
    now: Timestamp,
) -> Option<TimelineEntry> {
    (incident.timeline_entries < INCIDENT_TIMELINE_ENTRIES_MAX).then_some(TimelineEntry {
        at: now,
        by,
        event,
    })
}

/// Plans a status change: refused (a conflict, in words) when the table
/// does not allow it; the timeline entry that records it otherwise.
pub fn plan_status_change(
    incident: &Incident,
    to: IncidentStatus,
    by: UserId,
    now: Timestamp,
) -> Result<Option<TimelineEntry>, String> {
    if !incident.status.can_become(to) {
        return Err(format!(
            "incident {} cannot go from {} to {}",
            incident.id, incident.status, to
        ));
    }
    Ok(timeline_entry(
        incident,
        IncidentEvent::StatusChanged {
            from: incident.status,
            to,
        },
        Some(by),
        now,
    ))
}

/// A case of an incident, as the impact counts need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentCaseFacts {
    /// The case.
    pub case: CaseId,
    /// The account behind it (the subject, or its owner), if known.
    pub account: Option<SubjectRef>,
    /// When it opened.
    pub opened_at: Timestamp,
    /// Its status.
    pub status: CaseStatus,
}

/// An incident's impact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    /// Cases in it.
    pub cases: usize,
    /// Of which still open.
    pub open_cases: usize,
    /// Distinct accounts behind them.
    pub accounts: usize,
    /// When the first and the last of them opened.
    pub window: Option<(Timestamp, Timestamp)>,
}

/// The impact counts of an incident's cases.
pub fn impact(cases: &[IncidentCaseFacts]) -> Impact {
    let accounts: BTreeSet<&SubjectRef> = cases.iter().filter_map(|c| c.account.as_ref()).collect();
    let first = cases.iter().map(|c| c.opened_at).min();
    let last = cases.iter().map(|c| c.opened_at).max();
    Impact {
        cases: cases.len(),
        open_cases: cases.iter().filter(|c| c.status.is_open()).count(),
        accounts: accounts.len(),
        window: first.zip(last),
    }
}

const _: () = assert!(INCIDENT_CASES_MAX >= crate::limits::BULK_CASES_MAX);
