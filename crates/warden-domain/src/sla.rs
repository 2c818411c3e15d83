//! SLA arithmetic: deadlines for first touch and resolution, and whether a
//! case is on track, at risk or in breach.

use chrono::Duration;

use crate::case::Severity;
use crate::Timestamp;

/// How long a case may wait for first touch and for resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTarget {
    /// From opening to the first analyst touching it.
    pub first_touch: Duration,
    /// From opening to a decision.
    pub resolution: Duration,
}

/// SLA targets by severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    /// Targets indexed by `Severity::rank() - 1`.
    targets: [SlaTarget; 4],
}

impl Default for SlaPolicy {
    /// Defaults a T&S team starts from: critical within the hour, spam within days.
    fn default() -> Self {
        let target = |first_touch_minutes: i64, resolution_minutes: i64| SlaTarget {
            first_touch: Duration::minutes(first_touch_minutes),
            resolution: Duration::minutes(resolution_minutes),
        };
        Self {
            targets: [
                target(48 * 60, 7 * 24 * 60),
                target(24 * 60, 72 * 60),
                target(4 * 60, 24 * 60),
                target(30, 4 * 60),
            ],
        }
    }
}

impl SlaPolicy {
    /// The target for `severity`.
    pub fn target(&self, severity: Severity) -> SlaTarget {
        self.targets[(severity.rank() - 1) as usize]
    }

    /// Replaces the target for `severity`; a resolution target shorter than
    /// the first-touch target is refused.
    pub fn set_target(&mut self, severity: Severity, target: SlaTarget) -> Result<(), String> {
        if target.first_touch <= Duration::zero() || target.resolution <= Duration::zero() {
            return Err("SLA targets must be positive".into());
        }
        if target.resolution < target.first_touch {
            return Err(
                "the resolution target must not be shorter than the first-touch target".into(),
            );
        }
        self.targets[(severity.rank() - 1) as usize] = target;
        Ok(())
    }

    /// The deadlines of a case of `severity` opened at `opened_at`.
    pub fn deadlines(&self, severity: Severity, opened_at: Timestamp) -> SlaDeadlines {
        let target = self.target(severity);
        SlaDeadlines {
            first_touch_due_at: opened_at + target.first_touch,
            resolve_due_at: opened_at + target.resolution,
        }
    }
}

/// When a case is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaDeadlines {
    /// First touch due.
    pub first_touch_due_at: Timestamp,
    /// Resolution due.
    pub resolve_due_at: Timestamp,
}

/// Where a case stands against its SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaState {
    /// More than a fifth of the time is left.
    OnTrack,
    /// Less than a fifth of the time is left.
    AtRisk,
    /// The deadline has passed without the work done.
    Breached,
    /// The work was done in time.
    Met,
}

impl SlaState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::OnTrack => "on_track",
            SlaState::AtRisk => "at_risk",
            SlaState::Breached => "breached",
            SlaState::Met => "met",
        }
    }
}

/// The state of one deadline: `opened_at` to `due_at`, done at `done_at` if done.
pub fn sla_state(
    opened_at: Timestamp,
    due_at: Timestamp,
    done_at: Option<Timestamp>,
    now: Timestamp,
) -> SlaState {
    match done_at {
        Some(done) if done <= due_at => SlaState::Met,
        Some(_) => SlaState::Breached,
        None if now > due_at => SlaState::Breached,
        None => {
            let total = (due_at - opened_at).num_milliseconds().max(1);
            let left = (due_at - now).num_milliseconds();
            if left * 5 < total {
                SlaState::AtRisk
            } else {
                SlaState::OnTrack
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, hour, 0, 0)
            .unwrap()
    }

    #[test]
    fn deadlines_follow_severity() {
        let policy = SlaPolicy::default();
        let d = policy.deadlines(Severity::Critical, at(10));
        assert_eq!(d.first_touch_due_at, at(10) + Duration::minutes(30));
        assert_eq!(d.resolve_due_at, at(14));
    }

    #[test]
    fn states() {
        assert_eq!(sla_state(at(0), at(10), None, at(1)), SlaState::OnTrack);
        assert_eq!(sla_state(at(0), at(10), None, at(9)), SlaState::AtRisk);
        assert_eq!(sla_state(at(0), at(10), None, at(11)), SlaState::Breached);
        assert_eq!(
            sla_state(at(0), at(10), Some(at(10)), at(11)),
            SlaState::Met
        );
        assert_eq!(
            sla_state(at(0), at(10), Some(at(11)), at(12)),
            SlaState::Breached
        );
    }

    #[test]
    fn targets_are_checked() {
        let mut policy = SlaPolicy::default();
        let bad = SlaTarget {
            first_touch: Duration::hours(2),
            resolution: Duration::hours(1),
        };
        assert!(policy.set_target(Severity::Low, bad).is_err());
    }
}
