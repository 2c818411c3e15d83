//! Prometheus metrics: intake, decisions, request latency, and queue gauges
//! computed from stored facts at each scrape.
//!
//! The registry encodes OpenMetrics 1.0 text, which a scraper gets when its
//! `Accept` names `application/openmetrics-text`. Everyone else (an older
//! Prometheus, `promtool check metrics`, `curl`) gets the Prometheus text
//! exposition format 0.0.4, translated from it by [`to_prometheus_text`]:
//! the two differ in how a counter's family is named (`x` with samples
//! `x_total` in OpenMetrics, `x_total` in Prometheus text, where HELP and
//! TYPE must name the samples), in `_created` samples, `# UNIT`, exemplars,
//! timestamps (seconds against milliseconds) and the closing `# EOF`.

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
struct WorkerLabels {
    worker: String,
}

/// The supervised workers' counters.
struct WorkerCounters {
    panics: Family<WorkerLabels, Counter>,
    failures: Family<WorkerLabels, Counter>,
}

impl WorkerCounters {
    fn register(registry: &mut Registry) -> Self {
        Self {
            panics: registered(
                registry,
                "worker_panics",
                "Worker batches that panicked (caught, logged and retried), by worker",
                Family::default(),
            ),
            failures: registered(
                registry,
                "worker_failures",
                "Worker batches that failed with an error (logged and retried), by worker",
                Family::default(),
            ),
        }
    }
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
    workers: WorkerCounters,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    status: String,
}

/// Registers `metric` under `name` and hands it back, to keep a handle.
fn registered<M: prometheus_client::registry::Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl Default for Metrics {
    fn default() -> Self {
        let mut r = Registry::with_prefix("warden");
        let requests = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        Self {
            intake_items: registered(&mut r, "intake_items", "Intake items by kind and outcome (created, updated, duplicate, conflict, error)", Family::default()),
            decisions: registered(&mut r, "decisions", "Decisions made, by whether a violation was found", Family::default()),
            requests: registered(&mut r, "http_request_duration_seconds", "HTTP request latency by method, route and status", requests),
            queue_depth: registered(&mut r, "queue_depth", "Open cases per queue", Family::default()),
            queue_unassigned: registered(&mut r, "queue_unassigned", "Open cases nobody holds, per queue", Family::default()),
            oldest_case_age: registered(&mut r, "oldest_case_age_seconds", "Age of the oldest open case per queue", Family::default()),
            sla_breaches: registered(&mut r, "sla_breaches", "Open cases past an SLA deadline, per queue and deadline (first_touch, resolution)", Family::default()),
            outbox_rows: registered(&mut r, "outbox_deliveries", "Outbox rows (action and notice deliveries) by status: pending, sending, delivered, confirmed, failed, dead, cancelled", Family::default()),
            outbox_lag: registered(&mut r, "outbox_lag_seconds", "How long the oldest due delivery has waited past its due time (0 when none)", Gauge::default()),
            rule_errors: registered(&mut r, "rule_errors", "Detection rules that failed on an event, by rule and kind (step_budget, rule_deadline, pack_deadline, condition_limit, runtime)", Family::default()),
            workers: WorkerCounters::register(&mut r),
            registry: r,
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

    /// The registry in `format`.
    pub fn encode_as(&self, format: Exposition) -> Result<String, String> {
        let open_metrics = self.encode()?;
        Ok(match format {
            Exposition::OpenMetrics => open_metrics,
            Exposition::Prometheus => to_prometheus_text(&open_metrics),
        })
    }
}

/// The text formats `/metrics` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// OpenMetrics 1.0 text, what the registry encodes.
    OpenMetrics,
    /// The Prometheus text exposition format 0.0.4.
    Prometheus,
}

impl Exposition {
    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Exposition::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
        }
    }

    /// The format for a scraper's `Accept` header: OpenMetrics when it names
    /// `application/openmetrics-text` (version 1.0.0, or 0.0.1 which is the
    /// same text) with a quality at least that of any `text/plain` it
    /// names; otherwise, wildcards and no header included, Prometheus text.
    pub fn negotiate(accept: Option<&str>) -> Exposition {
        let Some(accept) = accept else {
            return Exposition::Prometheus;
        };
        let mut open_metrics: f32 = 0.0;
        let mut plain: f32 = 0.0;
        for range in accept.split(',').take(ACCEPT_RANGES_MAX) {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let mut quality: f32 = 1.0;
            let mut version_ok = true;
            for parameter in parts {
                let Some((name, value)) = parameter.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match name.trim().to_ascii_lowercase().as_str() {
                    "q" => quality = value.parse().unwrap_or(0.0),
                    "version" => version_ok = matches!(value, "1.0.0" | "0.0.1"),
                    _ => {}
                }
            }
            match media.as_str() {
                "application/openmetrics-text" if version_ok => {
                    open_metrics = open_metrics.max(quality)
                }
                "text/plain" => plain = plain.max(quality),
                _ => {}
            }
        }
        if open_metrics > 0.0 && open_metrics >= plain {
            Exposition::OpenMetrics
        } else {
            Exposition::Prometheus
        }
    }
}

use crate::limits::ACCEPT_RANGES_MAX;

/// What a metric family is, as its `# TYPE` line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FamilyType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl FamilyType {
    fn parse(text: &str) -> FamilyType {
        match text {
            "counter" => FamilyType::Counter,
            "gauge" => FamilyType::Gauge,
            "histogram" => FamilyType::Histogram,
            "gaugehistogram" => FamilyType::GaugeHistogram,
            "summary" => FamilyType::Summary,
            "info" => FamilyType::Info,
            "stateset" => FamilyType::StateSet,
            _ => FamilyType::Unknown,
        }
    }

    /// The family's name and type in Prometheus text: a counter family is
    /// named like its `_total` samples, an info family like its `_info`
    /// samples; types Prometheus text lacks become their nearest kin.
    fn prometheus(self, name: &str) -> (String, &'static str) {
        match self {
            FamilyType::Counter => (format!("{name}_total"), "counter"),
            FamilyType::Gauge => (name.to_string(), "gauge"),
            FamilyType::Histogram | FamilyType::GaugeHistogram => (name.to_string(), "histogram"),
            FamilyType::Summary => (name.to_string(), "summary"),
            FamilyType::Info => (format!("{name}_info"), "gauge"),
            FamilyType::StateSet => (name.to_string(), "gauge"),
            FamilyType::Unknown => (name.to_string(), "untyped"),
        }
    }
}

/// Translates OpenMetrics text into the Prometheus text exposition format
/// 0.0.4 (see the module's documentation for what differs).
pub fn to_prometheus_text(open_metrics: &str) -> String {
    let mut out = String::with_capacity(open_metrics.len());
    // The family being read: its OpenMetrics name and type.
    let mut family: Option<(String, FamilyType)> = None;
    let mut pending_help: Option<(String, String)> = None;
    let flush_help = |out: &mut String, help: &mut Option<(String, String)>| {
        if let Some((name, text)) = help.take() {
            out.push_str(&format!("# HELP {name} {}\n", prometheus_help(&text)));
        }
    };
    for line in open_metrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            flush_help(&mut out, &mut pending_help);
            let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
            pending_help = Some((name.to_string(), text.to_string()));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let kind = FamilyType::parse(kind.trim());
            let (prometheus_name, prometheus_type) = kind.prometheus(name);
            match pending_help.take() {
                Some((help_name, text)) if help_name == name => out.push_str(&format!(
                    "# HELP {prometheus_name} {}\n",
                    prometheus_help(&text)
                )),
                mut other => flush_help(&mut out, &mut other),
            }
            out.push_str(&format!("# TYPE {prometheus_name} {prometheus_type}\n"));
            family = Some((name.to_string(), kind));
        } else if line.starts_with("# UNIT ") || line == "# EOF" {
            // Prometheus text has no units, and ends where the text ends.
        } else if line.starts_with('#') {
            flush_help(&mut out, &mut pending_help);
            out.push_str(line);
            out.push('\n');
        } else if !line.trim().is_empty() {
            flush_help(&mut out, &mut pending_help);
            if let Some(sample) = prometheus_sample(line, family.as_ref()) {
                out.push_str(&sample);
                out.push('\n');
            }
        }
    }
    flush_help(&mut out, &mut pending_help);
    out
}

/// HELP text in Prometheus text escapes only `\\` and line feeds; an
/// OpenMetrics `\"` is a plain quote there.
fn prometheus_help(text: &str) -> String {
    text.replace("\\\"", "\"")
}

/// One sample line in Prometheus text, or `None` for a sample that format
/// does not have (`_created`).
fn prometheus_sample(line: &str, family: Option<&(String, FamilyType)>) -> Option<String> {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..name_end];
    let labels_end = if line[name_end..].starts_with('{') {
        name_end + labels_length(&line[name_end..])
    } else {
        name_end
    };
    let (labels, rest) = line.split_at(labels_end);
    let labels = &labels[name_end..];
    let mut name = name.to_string();
    if let Some((family_name, kind)) = family {
        if let Some(suffix) = name.strip_prefix(family_name.as_str()) {
            match (kind, suffix) {
                (
                    FamilyType::Counter
                    | FamilyType::Histogram
                    | FamilyType::GaugeHistogram
                    | FamilyType::Summary,
                    "_created",
                ) => return None,
                (FamilyType::GaugeHistogram, "_gcount") => name = format!("{family_name}_count"),
                (FamilyType::GaugeHistogram, "_gsum") => name = format!("{family_name}_sum"),
                _ => {}
            }
        }
    }
    // Value, then an optional timestamp, then an optional exemplar
    // (` # {...} value`), which Prometheus text does not have.
    let rest = rest.split(" # ").next().unwrap_or_default();
    let mut fields = rest.split_whitespace();
    let value = fields.next().unwrap_or_default();
    let mut sample = format!("{name}{labels} {value}");
    if let Some(seconds) = fields.next().and_then(|t| t.parse::<f64>().ok()) {
        // OpenMetrics timestamps are seconds; Prometheus text wants milliseconds.
        sample.push_str(&format!(" {}", (seconds * 1000.0).round() as i64));
    }
    Some(sample)
}

/// The length of the label set at the start of `text` (`{...}`), quotes
/// and escapes inside label values included.
fn labels_length(text: &str) -> usize {
    let mut quoted = false;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '}' if !quoted => return at + 1,
            _ => {}
        }
    }
    text.len()
}

impl warden_workers::WorkerMetrics for Metrics {
    fn worker_panicked(&self, worker: &str) {
        self.workers
            .panics
            .get_or_create(&WorkerLabels {
                worker: worker.into(),
            })
            .inc();
    }

    fn worker_failed(&self, worker: &str) {
        self.workers
            .failures
            .get_or_create(&WorkerLabels {
                worker: worker.into(),
            })
            .inc();
    }

    fn rule_failed(&self, rule: &str, kind: &str) {
        self.count_rule_error(rule, kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_panics_failures_and_rule_errors_are_exposed() {
        use warden_workers::WorkerMetrics;
        let metrics = Metrics::default();
        metrics.worker_panicked("outbox");
        metrics.worker_panicked("outbox");
        metrics.worker_failed("detection");
        metrics.rule_failed("dense", "rule_deadline");
        let text = metrics.encode().unwrap();
        for line in [
            "warden_worker_panics_total{worker=\"outbox\"} 2",
            "warden_worker_failures_total{worker=\"detection\"} 1",
            "warden_rule_errors_total{rule=\"dense\",kind=\"rule_deadline\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }

    #[test]
    fn scrapers_get_the_format_they_ask_for() {
        use Exposition::{OpenMetrics, Prometheus};
        for (accept, expected) in [
            (None, Prometheus),
            (Some("*/*"), Prometheus),
            (Some("text/plain;version=0.0.4"), Prometheus),
            (Some("text/plain; version=0.0.4; charset=utf-8"), Prometheus),
            (Some("application/json"), Prometheus),
            (Some("application/openmetrics-text"), OpenMetrics),
            (Some("application/openmetrics-text; version=1.0.0"), OpenMetrics),
            (Some("Application/OpenMetrics-Text;version=0.0.1"), OpenMetrics),
            // What Prometheus 2 and 3 send by default.
            (
                Some("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                OpenMetrics,
            ),
            (
                Some("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"),
                Prometheus,
            ),
            (Some("application/openmetrics-text;q=0"), Prometheus),
            (Some("application/openmetrics-text;version=2.0.0"), Prometheus),
        ] {
            assert_eq!(Exposition::negotiate(accept), expected, "{accept:?}");
        }
    }

    #[test]
    fn open_metrics_text_becomes_prometheus_text() {
        let open_metrics = "\
# HELP jobs Jobs done.
# TYPE jobs counter
jobs_total{queue=\"a b # {c}\"} 3 # {trace_id=\"x\"} 1.0 1.5
jobs_created{queue=\"a b # {c}\"} 1700000000.5
# HELP latency_seconds How long \"it\" took.
# TYPE latency_seconds histogram
# UNIT latency_seconds seconds
latency_seconds_bucket{le=\"+Inf\"} 2
latency_seconds_sum 0.5
latency_seconds_count 2
latency_seconds_created 1700000000.0
# HELP build Build.
# TYPE build info
build_info{version=\"1\"} 1
# HELP depth Depth.
# TYPE depth gauge
depth 4 1700000000.25
# EOF
";
        assert_eq!(
            to_prometheus_text(open_metrics),
            "\
# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{queue=\"a b # {c}\"} 3
# HELP latency_seconds How long \"it\" took.
# TYPE latency_seconds histogram
latency_seconds_bucket{le=\"+Inf\"} 2
latency_seconds_sum 0.5
latency_seconds_count 2
# HELP build_info Build.
# TYPE build_info gauge
build_info{version=\"1\"} 1
# HELP depth Depth.
# TYPE depth gauge
depth 4 1700000000250
"
        );
    }

    #[test]
    fn every_family_of_the_registry_has_help_and_type_in_both_formats() {
        let metrics = Metrics::default();
        metrics.count_intake("reports", "created", 2);
        metrics.count_decision(true);
        metrics.observe_request("GET", "/healthz", 200, Duration::from_millis(3));
        let open_metrics = metrics.encode_as(Exposition::OpenMetrics).unwrap();
        let prometheus = metrics.encode_as(Exposition::Prometheus).unwrap();
        assert!(open_metrics.ends_with("# EOF\n"));
        assert!(!prometheus.contains("# EOF"));
        for (text, counter) in [
            (&open_metrics, "warden_intake_items"),
            (&prometheus, "warden_intake_items_total"),
        ] {
            assert!(text.contains(&format!("# HELP {counter} ")), "{text}");
            assert!(
                text.contains(&format!("# TYPE {counter} counter")),
                "{text}"
            );
            assert!(
                text.contains("warden_intake_items_total{kind=\"reports\",outcome=\"created\"} 2")
            );
        }
    }
}
