//! Backlog forecast per queue: when it clears or breaches at current rates.
//!
//! Over a recent window (the last 24 hours, say), a queue took in
//! `intake` cases and resolved `resolved`; it has `open` cases now, the
//! oldest resolution deadline among them `oldest_due`. The rates are
//! `intake / hours` and `resolved / hours`; the net burn-down is their
//! difference. If the queue burns down, it clears in `open / burn` hours.
//! The outlook is:
//!
//! - **empty**: nothing open;
//! - **already in breach**: the oldest deadline has passed;
//! - **breaches**: the oldest deadline comes before the backlog clears (or
//!   it never clears) — the forecast names the deadline;
//! - **clears**: the backlog clears before any deadline, at the time given;
//! - **never clears**: no deadline to breach, and no burn-down (or one
//!   too slow to clear within ten years): the net change per day is given.
//!
//! It assumes the rates hold (no shift change, no flood) and says so by
//! printing its arithmetic with every forecast.

use chrono::Duration;

use crate::limits::FORECAST_QUEUES_MAX;
pub use crate::limits::FORECAST_WINDOW_HOURS_MAX;
use crate::{FieldErrors, Timestamp};

use crate::limits::HORIZON_HOURS_MAX;

/// One queue's recent flow, as the store counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFlow {
    /// The queue.
    pub queue: String,
    /// Cases open now.
    pub open: u64,
    /// Cases that entered the queue in the window.
    pub intake: u64,
    /// Case resolutions in the queue in the window.
    pub resolved: u64,
    /// The earliest resolution deadline among the open cases.
    pub oldest_due: Option<Timestamp>,
}

/// What a queue's backlog will do at current rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outlook {
    /// Nothing is open.
    Empty,
    /// The oldest deadline passed `since`; `clears_at` if it burns down.
    AlreadyInBreach {
        /// The oldest deadline.
        since: Timestamp,
        /// When the backlog clears, if it burns down.
        clears_at: Option<Timestamp>,
    },
    /// The oldest deadline `at` comes before the backlog clears.
    Breaches {
        /// The oldest deadline.
        at: Timestamp,
        /// When the backlog clears, if it burns down at all.
        clears_at: Option<Timestamp>,
    },
    /// The backlog clears `at`, before any deadline.
    Clears {
        /// When.
        at: Timestamp,
    },
    /// No deadline to breach and no clearing within ten years.
    NeverClears {
        /// Net change per day: positive grows, 0 is flat, negative shrinks
        /// too slowly to clear within ten years.
        net_per_day: f64,
    },
}

impl Outlook {
    /// The name used in reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outlook::Empty => "empty",
            Outlook::AlreadyInBreach { .. } => "already_in_breach",
            Outlook::Breaches { .. } => "breaches",
            Outlook::Clears { .. } => "clears",
            Outlook::NeverClears { .. } => "never_clears",
        }
    }
}

/// One queue's forecast with its arithmetic.
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogForecast {
    /// The queue.
    pub queue: String,
    /// Cases open now.
    pub open: u64,
    /// Cases in per hour.
    pub intake_per_hour: f64,
    /// Cases resolved per hour.
    pub resolved_per_hour: f64,
    /// `resolved_per_hour − intake_per_hour`.
    pub burn_per_hour: f64,
    /// What happens.
    pub outlook: Outlook,
    /// The arithmetic in words, for the page and the report.
    pub arithmetic: String,
}

/// Forecasts each queue from its flow over the `window_hours` hours before
/// `now`. At most [`FORECAST_QUEUES_MAX`] queues; the window is 1 to
/// [`FORECAST_WINDOW_HOURS_MAX`] hours.
pub fn forecast_backlogs(
    flows: &[QueueFlow],
    window_hours: i64,
    now: Timestamp,
) -> Result<Vec<BacklogForecast>, FieldErrors> {
    let mut errors = FieldErrors::default();
    if !(1..=FORECAST_WINDOW_HOURS_MAX).contains(&window_hours) {
        errors.push(
            "window_hours",
            format!("must be between 1 and {FORECAST_WINDOW_HOURS_MAX}"),
        );
    }
    if flows.len() > FORECAST_QUEUES_MAX {
        errors.push(
            "queues",
            format!("more than {FORECAST_QUEUES_MAX} queues in one forecast"),
        );
    }
    for (position, flow) in flows.iter().enumerate() {
        if flow.queue.is_empty() {
            errors.push(format!("queues[{position}].queue"), "must not be empty");
        }
    }
    errors.finish(|| ())?;
    Ok(flows
        .iter()
        .map(|flow| forecast(flow, window_hours, now))
        .collect())
}

fn forecast(flow: &QueueFlow, window_hours: i64, now: Timestamp) -> BacklogForecast {
    let hours = window_hours as f64;
    let intake_per_hour = flow.intake as f64 / hours;
    let resolved_per_hour = flow.resolved as f64 / hours;
    let burn_per_hour = resolved_per_hour - intake_per_hour;
    let mut lines = vec![rates_line(
        flow,
        window_hours,
        [intake_per_hour, resolved_per_hour, burn_per_hour],
    )];
    let clears_in_hours = (flow.open > 0 && burn_per_hour > 0.0)
        .then(|| flow.open as f64 / burn_per_hour)
        .filter(|hours| *hours <= HORIZON_HOURS_MAX);
    let clears_at = clears_in_hours.map(|hours| now + Duration::seconds((hours * 3600.0) as i64));
    if let (Some(hours), Some(at)) = (clears_in_hours, clears_at) {
        lines.push(format!(
            "{} ÷ {}/h = {:.1} h: clears at {}.",
            flow.open,
            rate(burn_per_hour),
            hours,
            when(at)
        ));
    } else if flow.open > 0 {
        lines.push("At these rates it does not clear.".to_string());
    }
    let outlook = match (flow.open, flow.oldest_due) {
        (0, _) => {
            lines.push("Nothing is open.".to_string());
            Outlook::Empty
        }
        (_, Some(due)) if due <= now => {
            lines.push(format!(
                "Oldest deadline {} has passed: in breach for {:.1} h.",
                when(due),
                hours_between(due, now)
            ));
            Outlook::AlreadyInBreach {
                since: due,
                clears_at,
            }
        }
        (_, Some(due)) if clears_at.is_none_or(|clears| clears > due) => {
            lines.push(format!(
                "Oldest deadline {} comes first: breach in {:.1} h.",
                when(due),
                hours_between(now, due)
            ));
            Outlook::Breaches { at: due, clears_at }
        }
        (_, _) => match clears_at {
            Some(at) => Outlook::Clears { at },
            None => never_clears(burn_per_hour, &mut lines),
        },
    };
    BacklogForecast {
        queue: flow.queue.clone(),
        open: flow.open,
        intake_per_hour,
        resolved_per_hour,
        burn_per_hour,
        outlook,
        arithmetic: lines.join(" "),
    }
}

/// The first arithmetic sentence: open count, intake, resolved and net burn-down rates.
fn rates_line(flow: &QueueFlow, window_hours: i64, [intake, resolved, burn]: [f64; 3]) -> String {
    format!(
        "{}: {} open. Intake {} in the last {window_hours} h = {}/h; resolved {} = {}/h; \
         net burn-down {} − {} = {}/h.",
        flow.queue,
        flow.open,
        flow.intake,
        rate(intake),
        flow.resolved,
        rate(resolved),
        rate(resolved),
        rate(intake),
        rate(burn),
    )
}

/// The outlook of a queue with no deadline to breach that does not clear within the horizon.
fn never_clears(burn_per_hour: f64, lines: &mut Vec<String>) -> Outlook {
    let net_per_day = -burn_per_hour * 24.0;
    lines.push(if net_per_day > 0.0 {
        format!("No deadline to breach; grows by {net_per_day:.1} a day.")
    } else if net_per_day == 0.0 {
        "No deadline to breach; stays as it is.".to_string()
    } else {
        format!(
            "No deadline to breach; shrinks by {:.3} a day, too slowly to clear \
             within ten years.",
            -net_per_day
        )
    });
    Outlook::NeverClears { net_per_day }
}

fn rate(per_hour: f64) -> String {
    format!("{per_hour:.2}")
}

fn when(at: Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn hours_between(from: Timestamp, to: Timestamp) -> f64 {
    (to - from).num_seconds() as f64 / 3600.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn flow(open: u64, intake: u64, resolved: u64, due_in_hours: Option<i64>) -> QueueFlow {
        QueueFlow {
            queue: "spam".into(),
            open,
            intake,
            resolved,
            oldest_due: due_in_hours.map(|hours| now() + Duration::hours(hours)),
        }
    }

    fn one(flow: QueueFlow) -> BacklogForecast {
        forecast_backlogs(&[flow], 24, now()).unwrap().remove(0)
    }

    #[test]
    fn a_burning_backlog_clears_before_its_deadline_with_the_arithmetic_shown() {
        // Intake 30/24 h = 1.25/h, resolved 54/24 h = 2.25/h, burn 1/h:
        // 120 open clear in 120 h, before a deadline in 200 h.
        let forecast = one(flow(120, 30, 54, Some(200)));
        assert_eq!(forecast.intake_per_hour, 1.25);
        assert_eq!(forecast.resolved_per_hour, 2.25);
        assert_eq!(forecast.burn_per_hour, 1.0);
        assert_eq!(
            forecast.outlook,
            Outlook::Clears {
                at: now() + Duration::hours(120)
            }
        );
        assert_eq!(
            forecast.arithmetic,
            "spam: 120 open. Intake 30 in the last 24 h = 1.25/h; resolved 54 = 2.25/h; \
             net burn-down 2.25 − 1.25 = 1.00/h. 120 ÷ 1.00/h = 120.0 h: clears at \
             2026-12-06 12:00 UTC."
        );
    }

    #[test]
    fn a_deadline_before_clearing_is_a_breach_and_a_past_one_is_already_one() {
        let forecast = one(flow(120, 30, 54, Some(69)));
        assert_eq!(
            forecast.outlook,
            Outlook::Breaches {
                at: now() + Duration::hours(69),
                clears_at: Some(now() + Duration::hours(120)),
            }
        );
        assert!(forecast
            .arithmetic
            .ends_with("Oldest deadline 2026-12-04 09:00 UTC comes first: breach in 69.0 h."));
        let growing = one(flow(10, 48, 24, Some(5)));
        assert_eq!(growing.burn_per_hour, -1.0);
        assert!(matches!(
            growing.outlook,
            Outlook::Breaches {
                clears_at: None,
                ..
            }
        ));
        assert!(growing.arithmetic.contains("does not clear"));
        let late = one(flow(10, 0, 24, Some(-3)));
        assert!(matches!(
            late.outlook,
            Outlook::AlreadyInBreach {
                clears_at: Some(_),
                ..
            }
        ));
        assert!(late.arithmetic.contains("in breach for 3.0 h"));
    }

    #[test]
    fn empty_flat_and_growing_queues_without_deadlines() {
        assert_eq!(one(flow(0, 5, 5, Some(-10))).outlook, Outlook::Empty);
        let flat = one(flow(7, 24, 24, None));
        assert_eq!(flat.outlook, Outlook::NeverClears { net_per_day: 0.0 });
        assert!(flat.arithmetic.ends_with("stays as it is."));
        let growing = one(flow(7, 48, 24, None));
        assert_eq!(growing.outlook, Outlook::NeverClears { net_per_day: 24.0 });
        assert!(growing.arithmetic.ends_with("grows by 24.0 a day."));
        // A trickle of burn-down that needs more than ten years is "never".
        let glacial = forecast_backlogs(&[flow(1_000_000, 0, 1, None)], 744, now()).unwrap();
        assert_eq!(glacial[0].outlook.as_str(), "never_clears");
        assert!(glacial[0].arithmetic.contains("too slowly"));
    }

    #[test]
    fn bad_input_is_refused_by_field() {
        let refused = forecast_backlogs(&[flow(1, 1, 1, None)], 0, now()).unwrap_err();
        assert_eq!(refused.0[0].field, "window_hours");
        let mut nameless = flow(1, 1, 1, None);
        nameless.queue.clear();
        let refused = forecast_backlogs(&[nameless], 24, now()).unwrap_err();
        assert_eq!(refused.0[0].field, "queues[0].queue");
        let many = vec![flow(1, 1, 1, None); FORECAST_QUEUES_MAX + 1];
        assert_eq!(
            forecast_backlogs(&many, 24, now()).unwrap_err().0[0].field,
            "queues"
        );
    }
}
