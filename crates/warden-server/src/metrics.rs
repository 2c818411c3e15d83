//! Prometheus metrics: intake, decisions, request latency, and queue gauges
//! computed from stored facts at each scrape.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use warden_domain::Timestamp;
use warden_store::QueueStats;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IntakeLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BreachLabels {
    queue: String,
    deadline: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleErrorLabels {
    rule: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    violation: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// Warden's metrics registry and the handles that update it.
pub struct Metrics {
    registry: Registry,
    intake_items: Family<IntakeLabels, Counter>,
    decisions: Family<DecisionLabels, Counter>,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    queue_depth: Family<QueueLabels, Gauge>,
    queue_unassigned: Family<QueueLabels, Gauge>,
    oldest_case_age: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    sla_breaches: Family<BreachLabels, Gauge>,
    outbox_rows: Family<OutboxLabels, Gauge>,
    outbox_lag: Gauge<f64, AtomicU64>,
    rule_errors: Family<RuleErrorLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    status: String,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("warden");
        let intake_items = Family::<IntakeLabels, Counter>::default();
        registry.register(
            "intake_items",
            "Intake items by kind and outcome (created, updated, duplicate, conflict, error)",
            intake_items.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "decisions",
            "Decisions made, by whether a violation was found",
            decisions.clone(),
        );
        let requests = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, route and status",
            requests.clone(),
        );
        let queue_depth = Family::<QueueLabels, Gauge>::default();
        registry.register("queue_depth", "Open cases per queue", queue_depth.clone());
        let queue_unassigned = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "queue_unassigned",
            "Open cases nobody holds, per queue",
            queue_unassigned.clone(),
        );
        let oldest_case_age = Family::<QueueLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "oldest_case_age_seconds",
            "Age of the oldest open case per queue",
            oldest_case_age.clone(),
        );
        let sla_breaches = Family::<BreachLabels, Gauge>::default();
        registry.register(
            "sla_breaches",
            "Open cases past an SLA deadline, per queue and deadline (first_touch, resolution)",
            sla_breaches.clone(),
        );
        let outbox_rows = Family::<OutboxLabels, Gauge>::default();
        registry.register(
            "outbox_deliveries",
            "Outbox rows (action and notice deliveries) by status: pending, sending, delivered, confirmed, failed, dead, cancelled",
            outbox_rows.clone(),
        );
        let outbox_lag = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "outbox_lag_seconds",
            "How long the oldest due delivery has waited past its due time (0 when none)",
            outbox_lag.clone(),
        );
        let rule_errors = Family::<RuleErrorLabels, Counter>::default();
        registry.register(
            "rule_errors",
            "Detection rules that failed on an event, by rule and kind (step_budget, rule_deadline, pack_deadline, condition_limit, runtime)",
            rule_errors.clone(),
        );
        Self {
            registry,
            rule_errors,
            outbox_rows,
            outbox_lag,
            intake_items,
            decisions,
            requests,
            queue_depth,
            queue_unassigned,
            oldest_case_age,
            sla_breaches,
        }
    }
}

impl Metrics {
    /// Counts intake items.
    pub fn count_intake(&self, kind: &str, outcome: &str, n: u64) {
        self.intake_items
            .get_or_create(&IntakeLabels {
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .inc_by(n);
    }

    /// Counts a decision.
    pub fn count_decision(&self, violation: bool) {
        self.decisions
            .get_or_create(&DecisionLabels {
                violation: violation.to_string(),
            })
            .inc();
    }

    /// Counts a detection rule failing on an event.
    pub fn count_rule_error(&self, rule: &str, kind: &str) {
        self.rule_errors
            .get_or_create(&RuleErrorLabels {
                rule: rule.into(),
                kind: kind.into(),
            })
            .inc();
    }

    /// Records one request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.into(),
                route: route.into(),
                status: status.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the queue gauges from stored facts.
    pub fn set_queue_stats(&self, stats: &[QueueStats], now: Timestamp) {
        self.queue_depth.clear();
        self.queue_unassigned.clear();
        self.oldest_case_age.clear();
        self.sla_breaches.clear();
        for stat in stats {
            let queue = QueueLabels {
                queue: stat.queue.clone(),
            };
            self.queue_depth.get_or_create(&queue).set(stat.depth);
            self.queue_unassigned
                .get_or_create(&queue)
                .set(stat.unassigned);
            if let Some(oldest) = stat.oldest_opened_at {
                let age = (now - oldest).num_milliseconds() as f64 / 1000.0;
                self.oldest_case_age.get_or_create(&queue).set(age.max(0.0));
            }
            for (deadline, count) in [
                ("first_touch", stat.first_touch_breaches),
                ("resolution", stat.resolution_breaches),
            ] {
                self.sla_breaches
                    .get_or_create(&BreachLabels {
                        queue: stat.queue.clone(),
                        deadline: deadline.into(),
                    })
                    .set(count);
            }
        }
    }

    /// Sets the outbox gauges from stored facts.
    pub fn set_outbox(&self, counts: &warden_store::DeliveryCounts, now: Timestamp) {
        self.outbox_rows.clear();
        for (status, rows) in &counts.by_status {
            self.outbox_rows
                .get_or_create(&OutboxLabels {
                    status: status.clone(),
                })
                .set(*rows);
        }
        let lag = counts
            .oldest_due_at
            .map_or(0.0, |due| (now - due).num_milliseconds() as f64 / 1000.0);
        self.outbox_lag.set(lag.max(0.0));
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, String> {
        let mut text = String::new();
        encode(&mut text, &self.registry).map_err(|e| e.to_string())?;
        Ok(text)
    }
}
