//! Cases: severity, statuses and the allowed transitions between them,
//! priority, and the lease rules of claiming.

use std::fmt;
use std::str::FromStr;

use chrono::Duration;

use crate::intake::ReportSource;
use crate::limits::{CASE_PRIORITY_MAX, LEASE_SECONDS_MAX};
use crate::Timestamp;

/// How much harm a case may involve. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Nuisance: spam, low-harm policy breaches.
    Low,
    /// Harm to individuals that is not imminent.
    Medium,
    /// Serious harm or money at stake.
    High,
    /// Risk to life or children, legal urgency: handled first, always.
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// A number that sorts with severity: 1 (low) to 4 (critical).
    pub fn rank(self) -> i64 {
        match self {
            Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        }
    }

    /// The severity with `rank`, if any.
    pub fn from_rank(rank: i64) -> Option<Self> {
        Severity::ALL.into_iter().find(|s| s.rank() == rank)
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                format!("unknown severity {value:?}; expected low, medium, high or critical")
            })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a case stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    /// Opened, nobody has looked at it yet.
    New,
    /// An analyst has touched it.
    InReview,
    /// Waiting for information from the reporter, the platform or another team.
    WaitingForInformation,
    /// Handed to a specialist queue or a lead.
    Escalated,
    /// Decided.
    Resolved,
    /// Decided once, opened again (new evidence, a correction, an appeal).
    Reopened,
}

impl CaseStatus {
    /// Every status.
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::New,
        CaseStatus::InReview,
        CaseStatus::WaitingForInformation,
        CaseStatus::Escalated,
        CaseStatus::Resolved,
        CaseStatus::Reopened,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::InReview => "in_review",
            CaseStatus::WaitingForInformation => "waiting_for_information",
            CaseStatus::Escalated => "escalated",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Reopened => "reopened",
        }
    }

    /// Open cases are every status but resolved; reports join open cases.
    pub fn is_open(self) -> bool {
        self != CaseStatus::Resolved
    }

    /// Statuses from which "claim next" may hand out a case.
    pub fn is_claimable(self) -> bool {
        matches!(
            self,
            CaseStatus::New | CaseStatus::InReview | CaseStatus::Reopened | CaseStatus::Escalated
        )
    }

    /// Whether the table of allowed transitions lets a case go from `self` to `to`.
    pub fn can_become(self, to: CaseStatus) -> bool {
        use CaseStatus::*;
        matches!(
            (self, to),
            (New, InReview | WaitingForInformation | Escalated | Resolved)
                | (
                    Reopened,
                    InReview | WaitingForInformation | Escalated | Resolved
                )
                | (InReview, WaitingForInformation | Escalated | Resolved)
                | (WaitingForInformation, InReview | Escalated | Resolved)
                | (Escalated, InReview | WaitingForInformation | Resolved)
                | (Resolved, Reopened)
        )
    }

    /// Checks a transition, naming both ends when it is refused.
    pub fn check_transition(self, to: CaseStatus) -> Result<(), String> {
        if self.can_become(to) {
            Ok(())
        } else {
            Err(format!(
                "a case cannot go from {} to {}",
                self.as_str(),
                to.as_str()
            ))
        }
    }
}

impl FromStr for CaseStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        CaseStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unknown status {value:?}; expected new, in_review, waiting_for_information, escalated, resolved or reopened"
                )
            })
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much one report or signal adds to its case's priority.
///
/// Sources that are more often right, or carry legal weight, count for more.
/// A case's priority is the capped sum over its reports and signals.
pub fn priority_weight(source: ReportSource) -> i64 {
    match source {
        ReportSource::UserReport => 10,
        ReportSource::AutomatedFlag => 15,
        ReportSource::SupportEscalation => 25,
        ReportSource::TrustedFlagger => 50,
        ReportSource::LegalNotice => 100,
    }
}

/// Weight of a machine signal with a score in 0..=1.
pub fn signal_priority_weight(score: f64) -> i64 {
    let score = if score.is_finite() {
        score.clamp(0.0, 1.0)
    } else {
        0.0
    };
    5 + (score * 20.0).round() as i64
}

/// Adds `weight` to `priority` without passing the cap.
pub fn add_priority(priority: i64, weight: i64) -> i64 {
    priority.saturating_add(weight).clamp(0, CASE_PRIORITY_MAX)
}

/// Checks a requested lease length in seconds.
pub fn parse_lease_seconds(seconds: i64) -> Result<Duration, String> {
    if !(1..=LEASE_SECONDS_MAX).contains(&seconds) {
        return Err(format!(
            "must be between 1 and {LEASE_SECONDS_MAX} seconds; use hold to keep a case longer"
        ));
    }
    Ok(Duration::seconds(seconds))
}

/// Who holds a case and until when, as far as claiming is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The user holding the case.
    pub assignee: String,
    /// When the lease ends unless renewed.
    pub expires_at: Timestamp,
    /// A hold keeps the case past `expires_at`.
    pub held: bool,
}

impl Lease {
    /// Whether this lease still keeps others away at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.held || self.expires_at > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_table() {
        use CaseStatus::*;
        assert!(New.can_become(InReview));
        assert!(InReview.can_become(Resolved));
        assert!(Resolved.can_become(Reopened));
        assert!(!Resolved.can_become(InReview));
        assert!(!New.can_become(Reopened));
        assert!(!InReview.can_become(New));
        for status in CaseStatus::ALL {
            assert!(!status.can_become(status), "{status} to itself");
        }
        assert_eq!(
            Resolved.check_transition(New).unwrap_err(),
            "a case cannot go from resolved to new"
        );
    }

    #[test]
    fn statuses_round_trip() {
        for status in CaseStatus::ALL {
            assert_eq!(status.as_str().parse::<CaseStatus>(), Ok(status));
        }
        for severity in Severity::ALL {
            assert_eq!(severity.as_str().parse::<Severity>(), Ok(severity));
            assert_eq!(Severity::from_rank(severity.rank()), Some(severity));
        }
    }

    #[test]
    fn priority_is_capped() {
        assert_eq!(add_priority(CASE_PRIORITY_MAX - 1, 100), CASE_PRIORITY_MAX);
        assert_eq!(
            add_priority(0, priority_weight(ReportSource::LegalNotice)),
            100
        );
        assert_eq!(signal_priority_weight(f64::NAN), 5);
        assert_eq!(signal_priority_weight(2.0), 25);
    }

    #[test]
    fn lease_limits() {
        assert!(parse_lease_seconds(0).is_err());
        assert!(parse_lease_seconds(LEASE_SECONDS_MAX).is_ok());
        assert!(parse_lease_seconds(LEASE_SECONDS_MAX + 1).is_err());
    }
}
