//! `warden.toml`: queues, SLA targets, taxonomy additions, limits and
//! storage. Every setting has a default, the file overrides it, and an
//! environment variable overrides both: `WARDEN_<SECTION>_<KEY>` for every
//! scalar key (for example `WARDEN_SERVER_LEASE_SECONDS=300`), plus the
//! short forms `WARDEN_LISTEN`, `WARDEN_DATA_DIR` and `WARDEN_DATABASE_URL`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::Duration;
use serde::{Deserialize, Serialize};

use warden_app::taxonomy::PolicyPollInterval;
use warden_domain::access::Role;
use warden_domain::case::Severity;
use warden_domain::duration::parse_iso8601_duration;
use warden_domain::intake::ReportSource;
use warden_domain::limits;
use warden_domain::routing::{QueueDefinition, Router};
use warden_domain::sla::{SlaPolicy, SlaTarget};
use warden_domain::taxonomy::{Category, Taxonomy};
use warden_server::ServerSettings;
use warden_store::{CasePolicy, DatabaseUrl};

/// The whole configuration file.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP settings.
    pub server: ServerSection,
    /// Where data lives.
    pub storage: StorageSection,
    /// Queues in routing order; the built-in set when empty.
    pub queues: Vec<QueueSection>,
    /// Categories added to (or changed in) the built-in taxonomy.
    pub taxonomy: Vec<CategorySection>,
    /// Detection rules.
    pub detection: DetectionSection,
    /// Delivery of actions and notices to the platform.
    pub delivery: crate::delivery_config::DeliverySection,
    /// Submission of DSA statements of reasons.
    pub dsa: crate::delivery_config::DsaSection,
    /// Signed checkpoints of the audit log.
    pub audit: AuditSection,
    /// Classifiers that learn from decisions; their weight in priority.
    pub classifier: crate::classifier_config::ClassifierSection,
    /// QA sampling plans (`[[qa.plans]]`) and the sampling worker.
    pub qa: crate::quality_config::QaSection,
    /// Appeals of decisions (DSA Art. 20).
    pub appeals: AppealsSection,
    /// KPI weights (`[kpi.weights]`).
    pub kpi: crate::kpi_config::KpiSection,
    /// Wellness: when to suggest a break.
    pub wellness: crate::kpi_config::WellnessSection,
    /// Escalations: severity definitions, specialist teams, the page webhook.
    pub escalation: crate::escalation_config::EscalationSection,
    /// Evidence: the largest file.
    pub evidence: crate::escalation_config::EvidenceSection,
}

/// `[appeals]`: how long decisions may be appealed, and where appeals go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppealsSection {
    /// Months after a decision it may be appealed (DSA Art. 20(1): at
    /// least six).
    pub window_months: u32,
    /// The queue appeal cases go to (built in: `appeals`, with its own SLA
    /// targets, added when no queue of that name is configured).
    pub queue: String,
}

impl Default for AppealsSection {
    fn default() -> Self {
        Self {
            window_months: warden_domain::limits::APPEAL_WINDOW_MONTHS_DEFAULT,
            queue: warden_domain::appeal::APPEALS_QUEUE.into(),
        }
    }
}

/// `[audit]`: signed checkpoints of the audit chain's head.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    /// The Ed25519 private key file that signs checkpoints (made by
    /// `warden audit keygen`); without one the server writes none.
    pub signing_key_file: String,
    /// The server signs a checkpoint once the log has grown by this many
    /// records since the last one ...
    pub checkpoint_every_records: u64,
    /// ... or this many seconds after the last one, when the log grew.
    pub checkpoint_every_seconds: u64,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self {
            signing_key_file: String::new(),
            checkpoint_every_records: 10_000,
            checkpoint_every_seconds: 300,
        }
    }
}

impl AuditSection {
    /// The signing key file, when one is configured.
    pub fn signing_key_file(&self) -> Option<PathBuf> {
        Some(PathBuf::from(&self.signing_key_file)).filter(|_| !self.signing_key_file.is_empty())
    }

    fn check(&self) -> Result<()> {
        if self.checkpoint_every_records < limits::CHECKPOINT_EVERY_RECORDS_MIN {
            bail!(
                "audit.checkpoint_every_records must be at least {}",
                limits::CHECKPOINT_EVERY_RECORDS_MIN
            );
        }
        if !(limits::CHECKPOINT_EVERY_SECONDS_MIN..=limits::CHECKPOINT_EVERY_SECONDS_MAX)
            .contains(&self.checkpoint_every_seconds)
        {
            bail!(
                "audit.checkpoint_every_seconds must be from {} to {}",
                limits::CHECKPOINT_EVERY_SECONDS_MIN,
                limits::CHECKPOINT_EVERY_SECONDS_MAX
            );
        }
        Ok(())
    }
}

/// `[detection]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectionSection {
    /// Run the detection worker in `serve` and `demo`.
    pub enabled: bool,
    /// Directory of rule files; `rules` under the data directory when empty.
    pub rules_dir: String,
    /// Events per detection batch.
    pub batch_events: u32,
    /// Pause when idle, in milliseconds.
    pub idle_milliseconds: u64,
    /// How often rule files are checked for changes, in seconds.
    pub reload_seconds: u64,
    /// How long one rule may run on one event, in milliseconds.
    pub rule_deadline_milliseconds: u64,
    /// How long all rules together may run on one event, in milliseconds; the rules not
    /// run by then are skipped for that event.
    pub pack_deadline_milliseconds: u64,
    /// Work one rule may do on one event, in steps of the rule language's cost model.
    pub rule_steps: u64,
    /// Errors (budget, deadline, condition limit) within the window after which a rule is
    /// disabled until its file changes.
    pub auto_disable_errors: u32,
    /// The window of `auto_disable_errors`, in seconds.
    pub auto_disable_window_seconds: i64,
}

impl Default for DetectionSection {
    fn default() -> Self {
        use warden_detection::limits as detection;
        Self {
            enabled: true,
            rules_dir: String::new(),
            batch_events: 500,
            idle_milliseconds: 200,
            reload_seconds: 2,
            rule_deadline_milliseconds: detection::RULE_DEADLINE_MS_DEFAULT,
            pack_deadline_milliseconds: detection::PACK_DEADLINE_MS_DEFAULT,
            rule_steps: warden_rules::limits::DEFAULT_STEP_LIMIT,
            auto_disable_errors: detection::STRIKES_DEFAULT,
            auto_disable_window_seconds: detection::STRIKE_WINDOW_SECONDS_DEFAULT,
        }
    }
}

impl DetectionSection {
    /// Checks the time limits, naming the setting at fault.
    fn check(&self) -> Result<()> {
        use warden_detection::limits as detection;
        let deadlines = detection::DEADLINE_MS_MIN..=detection::DEADLINE_MS_MAX;
        for (key, value) in [
            (
                "rule_deadline_milliseconds",
                self.rule_deadline_milliseconds,
            ),
            (
                "pack_deadline_milliseconds",
                self.pack_deadline_milliseconds,
            ),
        ] {
            if !deadlines.contains(&value) {
                bail!(
                    "detection.{key} must be from {} to {}",
                    deadlines.start(),
                    deadlines.end()
                );
            }
        }
        if self.pack_deadline_milliseconds < self.rule_deadline_milliseconds {
            bail!("detection.pack_deadline_milliseconds must be at least detection.rule_deadline_milliseconds");
        }
        if !(RULE_STEPS_MIN..=RULE_STEPS_MAX).contains(&self.rule_steps) {
            bail!("detection.rule_steps must be from {RULE_STEPS_MIN} to {RULE_STEPS_MAX}");
        }
        if !(1..=detection::STRIKES_MAX).contains(&self.auto_disable_errors) {
            bail!(
                "detection.auto_disable_errors must be from 1 to {}",
                detection::STRIKES_MAX
            );
        }
        if !(1..=detection::STRIKE_WINDOW_SECONDS_MAX).contains(&self.auto_disable_window_seconds) {
            bail!(
                "detection.auto_disable_window_seconds must be from 1 to {}",
                detection::STRIKE_WINDOW_SECONDS_MAX
            );
        }
        Ok(())
    }

    /// The time limits rules run under.
    pub fn run_limits(&self) -> warden_detection::RunLimits {
        warden_detection::RunLimits {
            step_limit: self.rule_steps,
            rule_deadline: std::time::Duration::from_millis(self.rule_deadline_milliseconds),
            pack_deadline: std::time::Duration::from_millis(self.pack_deadline_milliseconds),
            strikes: self.auto_disable_errors,
            strike_window_seconds: self.auto_disable_window_seconds,
        }
    }
}

use crate::limits::RULE_STEPS_MIN;

use crate::limits::RULE_STEPS_MAX;

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address to listen on.
    pub listen: String,
    /// Largest request body in bytes.
    pub body_bytes_max: usize,
    /// Most items in one NDJSON batch.
    pub batch_items_max: usize,
    /// Lease on a claimed case, in seconds.
    pub lease_seconds: i64,
    /// Longest a request may run, in seconds.
    pub request_timeout_seconds: u64,
    /// Requests handled at once.
    pub concurrency_max: usize,
    /// Failed sign-ins before a lockout.
    pub sign_in_failures_max: u32,
    /// Lockout length in minutes.
    pub sign_in_lockout_minutes: i64,
    /// Session length in hours.
    pub session_hours: i64,
    /// Mark cookies Secure always (serve behind TLS).
    pub secure_cookies: bool,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-Proto: https`
    /// makes cookies Secure; the header is ignored from anyone else.
    pub trusted_proxies: Vec<String>,
    /// Queue that escalations go to by default.
    pub escalation_queue: String,
    /// How often, in milliseconds, `serve` looks for a taxonomy version
    /// another server published on the same database (1,000 to 3,600,000).
    pub policy_poll_milliseconds: u64,
    /// Log format: `text` or `json`.
    pub log_format: String,
}

impl Default for ServerSection {
    fn default() -> Self {
        let defaults = ServerSettings::default();
        Self {
            listen: "127.0.0.1:8080".into(),
            body_bytes_max: defaults.body_bytes_max,
            batch_items_max: defaults.batch_items_max,
            lease_seconds: defaults.lease_default.num_seconds(),
            request_timeout_seconds: defaults.request_timeout.as_secs(),
            concurrency_max: defaults.concurrency_max,
            sign_in_failures_max: defaults.sign_in_failures_max,
            sign_in_lockout_minutes: defaults.sign_in_lockout.num_minutes(),
            session_hours: defaults.session_lifetime.num_hours(),
            secure_cookies: defaults.secure_cookies,
            trusted_proxies: Vec::new(),
            escalation_queue: defaults.escalation_queue,
            policy_poll_milliseconds: warden_app::limits::POLICY_POLL_MILLIS_DEFAULT,
            log_format: "text".into(),
        }
    }
}

/// `[storage]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSection {
    /// Directory of the SQLite database.
    pub data_dir: PathBuf,
    /// A `postgres://` URL; SQLite under `data_dir` when empty. Its
    /// password never shows in `Debug`, logs or errors.
    pub database_url: DatabaseUrl,
    /// PostgreSQL pool size.
    pub postgres_connections: u32,
}

impl Default for StorageSection {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("warden-data"),
            database_url: DatabaseUrl::default(),
            postgres_connections: 16,
        }
    }
}

/// One `[[queues]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct QueueSection {
    /// Name (a code).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Categories it takes (any when empty).
    pub categories: Vec<String>,
    /// Sources it takes (any when empty).
    pub sources: Vec<String>,
    /// Least severity it takes.
    pub severity_min: Option<String>,
    /// Languages it takes (any when empty).
    pub languages: Vec<String>,
    /// Roles it admits (all when empty): they see its cases, and claim
    /// them when they may work cases.
    pub roles: Vec<String>,
    /// Teams it admits (no team needed when empty): a user must be in one
    /// of them to see its cases.
    pub teams: Vec<String>,
    /// Whether routing sends new cases here (default true).
    pub accepts_new: Option<bool>,
    /// SLA targets by severity: `{ first_touch = "PT1H", resolution = "PT4H" }`.
    pub sla: std::collections::BTreeMap<String, SlaSection>,
}

/// SLA targets for one severity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSection {
    /// ISO 8601 duration to first touch.
    pub first_touch: String,
    /// ISO 8601 duration to resolution.
    pub resolution: String,
}

/// One `[[taxonomy]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorySection {
    /// Code.
    pub code: String,
    /// Human name.
    pub name: String,
    /// Default severity.
    pub severity: String,
}

impl Config {
    /// Loads the file at `path` (when given, or `warden.toml` when present),
    /// then applies environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let default_path = Path::new("warden.toml");
        let file = match path {
            Some(path) => Some(std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the configuration file {}", path.display())
            })?),
            None if default_path.exists() => {
                Some(std::fs::read_to_string(default_path).context("cannot read warden.toml")?)
            }
            None => None,
        };
        let mut value =
            toml::Value::try_from(Config::default()).context("default configuration")?;
        if let Some(text) = file {
            let overlay: toml::Value = text
                .parse()
                .context("the configuration file is not valid TOML")?;
            merge(&mut value, overlay);
        }
        apply_env(&mut value, std::env::vars())?;
        let config: Config = value.try_into().context("the configuration is invalid")?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        if self.server.batch_items_max == 0
            || self.server.batch_items_max > limits::BATCH_ITEMS_CEILING
        {
            bail!(
                "server.batch_items_max must be from 1 to {}",
                limits::BATCH_ITEMS_CEILING
            );
        }
        if self.server.body_bytes_max < 1024 {
            bail!("server.body_bytes_max must be at least 1024");
        }
        warden_domain::case::parse_lease_seconds(self.server.lease_seconds)
            .map_err(|e| anyhow::anyhow!("server.lease_seconds {e}"))?;
        if !matches!(self.server.log_format.as_str(), "text" | "json") {
            bail!("server.log_format must be text or json");
        }
        self.trusted_proxies()?;
        self.policy_poll_interval()?;
        self.case_policy()?;
        self.detection.check()?;
        self.delivery.check()?;
        self.dsa.check()?;
        self.audit.check()?;
        self.classifier.check()?;
        crate::kpi_config::kpi_config(&self.kpi, &self.wellness)?;
        self.appeal_rules()?;
        self.escalation.check()?;
        self.evidence.limits()?;
        Ok(())
    }

    /// How often `serve` looks for a newer published taxonomy version.
    pub fn policy_poll_interval(&self) -> Result<PolicyPollInterval> {
        PolicyPollInterval::from_millis(self.server.policy_poll_milliseconds)
            .map_err(|e| anyhow::anyhow!("server.policy_poll_milliseconds {e}"))
    }

    /// Settings of the detection worker, or `None` when it is off. The rules
    /// directory defaults to `rules` under `data_dir`.
    pub fn detection_settings(
        &self,
        data_dir: &std::path::Path,
    ) -> Option<warden_workers::detection::DetectionSettings> {
        if !self.detection.enabled {
            return None;
        }
        let rules_dir = if self.detection.rules_dir.is_empty() {
            data_dir.join("rules")
        } else {
            PathBuf::from(&self.detection.rules_dir)
        };
        Some(warden_workers::detection::DetectionSettings {
            rules_dir: Some(rules_dir),
            batch_events: self.detection.batch_events.clamp(1, 2_000),
            idle_pause: std::time::Duration::from_millis(
                self.detection.idle_milliseconds.clamp(10, 60_000),
            ),
            reload_every: std::time::Duration::from_secs(
                self.detection.reload_seconds.clamp(1, 3_600),
            ),
            limits: self.detection.run_limits(),
        })
    }

    /// `server.trusted_proxies` as ranges: an address alone is a range of one.
    pub fn trusted_proxies(&self) -> Result<Vec<warden_server::settings::IpNet>> {
        if self.server.trusted_proxies.len() > limits::TRUSTED_PROXIES_MAX {
            bail!(
                "server.trusted_proxies lists more than {} ranges",
                limits::TRUSTED_PROXIES_MAX
            );
        }
        self.server
            .trusted_proxies
            .iter()
            .map(|text| {
                warden_server::settings::parse_trusted_proxy(text)
                    .map_err(|e| anyhow::anyhow!("server.trusted_proxies: {e}"))
            })
            .collect()
    }

    /// Settings for the HTTP layer.
    pub fn server_settings(&self, demo_mode: bool) -> ServerSettings {
        ServerSettings {
            body_bytes_max: self.server.body_bytes_max,
            batch_items_max: self.server.batch_items_max,
            lease_default: Duration::seconds(self.server.lease_seconds),
            request_timeout: std::time::Duration::from_secs(
                self.server.request_timeout_seconds.max(1),
            ),
            concurrency_max: self.server.concurrency_max.max(1),
            sign_in_failures_max: self.server.sign_in_failures_max.max(1),
            sign_in_lockout: Duration::minutes(self.server.sign_in_lockout_minutes.max(1)),
            session_lifetime: Duration::hours(self.server.session_hours.max(1)),
            secure_cookies: self.server.secure_cookies,
            // Checked by `check` when the configuration was loaded.
            trusted_proxies: self.trusted_proxies().unwrap_or_default(),
            demo_mode,
            escalation_queue: self.server.escalation_queue.clone(),
            // Checked by `check` when the configuration was loaded.
            appeals: self.appeal_rules().unwrap_or_default(),
            // Checked by `check` when the configuration was loaded.
            kpis: crate::kpi_config::kpi_config(&self.kpi, &self.wellness).unwrap_or_default(),
            escalations: self.escalation_settings(),
        }
    }

    /// The appeal window and routing, checked against the queues.
    pub fn appeal_rules(&self) -> Result<warden_store::AppealRules> {
        let window = warden_domain::appeal::AppealWindow::new(self.appeals.window_months)
            .map_err(|e| anyhow::anyhow!(e))?;
        let policy = self.case_policy()?;
        let routing = warden_domain::appeal::AppealRouting::new(
            &self.appeals.queue,
            &[],
            &warden_domain::escalation::EscalationPolicy::default(),
            &policy.router,
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        Ok(warden_store::AppealRules { window, routing })
    }

    /// Severity definitions, teams, paging and evidence limits (checked
    /// by `check` when the configuration was loaded).
    pub fn escalation_settings(&self) -> warden_app::escalations::EscalationSettings {
        warden_app::escalations::EscalationSettings {
            policy: self.escalation.policy().unwrap_or_default(),
            paging: self.escalation.paging(),
            evidence: self.evidence.limits().unwrap_or_default(),
        }
    }

    /// Taxonomy and queues.
    pub fn case_policy(&self) -> Result<CasePolicy> {
        let mut taxonomy = Taxonomy::default();
        for entry in &self.taxonomy {
            let code = warden_domain::ids::parse_code(&entry.code)
                .map_err(|e| anyhow::anyhow!("taxonomy code {:?} {e}", entry.code))?;
            let severity: Severity = entry
                .severity
                .parse()
                .map_err(|e: String| anyhow::anyhow!("taxonomy {code}: {e}"))?;
            taxonomy.insert(Category {
                code,
                name: entry.name.clone(),
                severity,
            });
        }
        let sections = if self.queues.is_empty() {
            default_queues()
        } else {
            self.queues.clone()
        };
        let mut queues = Vec::with_capacity(sections.len() + 1);
        for section in &sections {
            queues.push(
                queue_definition(section, &taxonomy)
                    .with_context(|| format!("queue {:?}", section.name))?,
            );
        }
        // Appeal cases need a queue of their own; the built-in one unless
        // the configuration names the appeal queue itself.
        if !queues.iter().any(|q| q.name == self.appeals.queue) {
            let mut appeals = warden_domain::appeal::appeals_queue_definition();
            appeals.name = self.appeals.queue.clone();
            queues.push(appeals);
        }
        // Each specialist team has its restricted queue; the built-in one
        // unless the configuration names it.
        let escalation = self.escalation.policy()?;
        for team in escalation.teams() {
            if !queues.iter().any(|q| q.name == team.queue) {
                queues.push(team.queue_definition());
            }
        }
        let router = Router::new(queues).map_err(|e| anyhow::anyhow!(e))?;
        escalation
            .check_queues(&router)
            .map_err(|e| anyhow::anyhow!(e))?;
        if router.queue(&self.server.escalation_queue).is_none() {
            bail!(
                "server.escalation_queue names {:?}, which is not a queue",
                self.server.escalation_queue
            );
        }
        Ok(CasePolicy { taxonomy, router })
    }
}

fn queue_definition(section: &QueueSection, taxonomy: &Taxonomy) -> Result<QueueDefinition> {
    let mut queue = QueueDefinition::catch_all(&section.name);
    queue.description = section.description.clone();
    for category in &section.categories {
        taxonomy
            .parse_code(category)
            .map_err(|e| anyhow::anyhow!("categories: {e}"))?;
        queue.categories.push(category.clone());
    }
    for source in &section.sources {
        queue.sources.push(
            source
                .parse::<ReportSource>()
                .map_err(|e| anyhow::anyhow!("sources: {e}"))?,
        );
    }
    if let Some(severity) = &section.severity_min {
        queue.severity_min = severity
            .parse()
            .map_err(|e: String| anyhow::anyhow!("severity_min: {e}"))?;
    }
    queue.languages = section.languages.clone();
    for role in &section.roles {
        queue.roles.push(
            role.parse::<Role>()
                .map_err(|e| anyhow::anyhow!("roles: {e}"))?,
        );
    }
    if section.teams.len() > limits::TEAMS_PER_QUEUE_MAX {
        bail!("teams: at most {} per queue", limits::TEAMS_PER_QUEUE_MAX);
    }
    for team in &section.teams {
        queue.teams.push(
            warden_domain::ids::parse_code(team)
                .map_err(|e| anyhow::anyhow!("teams: team {team:?} {e}"))?,
        );
    }
    queue.accepts_new = section.accepts_new.unwrap_or(true);
    let mut sla = SlaPolicy::default();
    for (severity, target) in &section.sla {
        let severity: Severity = severity
            .parse()
            .map_err(|e: String| anyhow::anyhow!("sla: {e}"))?;
        let target = SlaTarget {
            first_touch: parse_iso8601_duration(&target.first_touch)
                .map_err(|e| anyhow::anyhow!("sla.{severity}.first_touch: {e}"))?,
            resolution: parse_iso8601_duration(&target.resolution)
                .map_err(|e| anyhow::anyhow!("sla.{severity}.resolution: {e}"))?,
        };
        sla.set_target(severity, target)
            .map_err(|e| anyhow::anyhow!("sla.{severity}: {e}"))?;
    }
    queue.sla = sla;
    Ok(queue)
}

fn sla(first_touch: &str, resolution: &str) -> SlaSection {
    SlaSection {
        first_touch: first_touch.into(),
        resolution: resolution.into(),
    }
}

/// The queues a new installation starts with.
pub fn default_queues() -> Vec<QueueSection> {
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        QueueSection {
            name: "child-safety".into(),
            description: "Child safety: the child-safety team only; report to the authorities as the law requires.".into(),
            categories: strings(&["child_safety"]),
            roles: strings(&["analyst", "lead"]),
            teams: strings(&["child_safety"]),
            sla: [("critical".to_string(), sla("PT15M", "PT2H"))].into(),
            ..QueueSection::default()
        },
        QueueSection {
            name: "legal".into(),
            description: "Legal notices and trusted flaggers, with their own deadlines: the legal team.".into(),
            sources: strings(&["legal_notice", "trusted_flagger"]),
            roles: strings(&["analyst", "lead"]),
            teams: strings(&["legal"]),
            ..QueueSection::default()
        },
        QueueSection {
            name: "threats".into(),
            description: "Violent threats, self-harm and extremism: risk to life first.".into(),
            categories: strings(&["violent_threat", "self_harm", "extremism"]),
            ..QueueSection::default()
        },
        QueueSection {
            name: "fraud".into(),
            description: "Scams, payment fraud, phishing and account compromise.".into(),
            categories: strings(&["scam", "fraud", "phishing", "account_compromise", "counterfeit"]),
            ..QueueSection::default()
        },
        QueueSection {
            name: "harassment".into(),
            description: "Harassment, hate and privacy violations.".into(),
            categories: strings(&["harassment", "hate", "privacy", "impersonation"]),
            ..QueueSection::default()
        },
        QueueSection {
            name: "spam".into(),
            description: "Spam and coordinated inauthentic behaviour.".into(),
            categories: strings(&["spam", "coordinated_inauthentic_behaviour"]),
            ..QueueSection::default()
        },
        QueueSection {
            name: "general".into(),
            description: "Everything no other queue takes.".into(),
            ..QueueSection::default()
        },
        QueueSection {
            name: "escalations".into(),
            description: "Cases escalated by analysts to leads and specialists.".into(),
            roles: strings(&["analyst", "lead"]),
            accepts_new: Some(false),
            ..QueueSection::default()
        },
    ]
}

fn merge(base: &mut toml::Value, overlay: toml::Value) {
    match (base, overlay) {
        (toml::Value::Table(base), toml::Value::Table(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_table() && value.is_table() => {
                        merge(existing, value)
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Applies `WARDEN_<SECTION>_<KEY>` variables to scalar settings, keeping each setting's type.
fn apply_env(value: &mut toml::Value, vars: impl Iterator<Item = (String, String)>) -> Result<()> {
    let aliases = [
        ("WARDEN_LISTEN", "server", "listen"),
        ("WARDEN_DATA_DIR", "storage", "data_dir"),
        ("WARDEN_DATABASE_URL", "storage", "database_url"),
    ];
    for (name, text) in vars {
        let Some(rest) = name.strip_prefix("WARDEN_") else {
            continue;
        };
        let target = aliases
            .iter()
            .find(|(alias, _, _)| *alias == name)
            .map(|(_, section, key)| (section.to_string(), key.to_string()))
            .or_else(|| {
                ["server", "storage", "detection", "delivery", "dsa", "audit"]
                    .iter()
                    .find_map(|section| {
                        let prefix = format!("{}_", section.to_uppercase());
                        rest.strip_prefix(&prefix)
                            .map(|key| (section.to_string(), key.to_lowercase()))
                    })
            });
        let Some((section, key)) = target else {
            continue;
        };
        let Some(table) = value.get_mut(&section).and_then(toml::Value::as_table_mut) else {
            continue;
        };
        let Some(current) = table.get(&key) else {
            if name.starts_with(&format!("WARDEN_{}_", section.to_uppercase())) {
                bail!("{name} names no setting: [{section}] has no key {key:?}");
            }
            continue;
        };
        let parsed = match current {
            toml::Value::String(_) => toml::Value::String(text.clone()),
            toml::Value::Integer(_) => toml::Value::Integer(
                text.parse()
                    .with_context(|| format!("{name} must be a whole number"))?,
            ),
            toml::Value::Boolean(_) => toml::Value::Boolean(
                text.parse()
                    .with_context(|| format!("{name} must be true or false"))?,
            ),
            toml::Value::Float(_) => toml::Value::Float(
                text.parse()
                    .with_context(|| format!("{name} must be a number"))?,
            ),
            _ => continue,
        };
        table.insert(key, parsed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config: Config = toml::Value::try_from(Config::default())
            .unwrap()
            .try_into()
            .unwrap();
        config.check().unwrap();
        let policy = config.case_policy().unwrap();
        assert!(policy.router.queue("escalations").is_some());
    }

    #[test]
    fn the_example_file_is_valid_and_all_defaults() {
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        merge(
            &mut value,
            include_str!("../../../warden.example.toml")
                .parse()
                .unwrap(),
        );
        let config: Config = value.try_into().unwrap();
        config.check().unwrap();
        let defaults = Config::default();
        assert_eq!(config.server.lease_seconds, defaults.server.lease_seconds);
        assert_eq!(config.server.body_bytes_max, defaults.server.body_bytes_max);
        assert_eq!(config.storage.data_dir, defaults.storage.data_dir);
    }

    #[test]
    fn qa_plans_are_read_from_the_file() {
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        let file = r#"
            [qa]
            sample_every_seconds = 0
            [[qa.plans]]
            name = "weekly"
            seed = 7
            rate = 0.05
            all_severities = ["critical"]
            new_reviewer_days = 30
            [[qa.plans.rates]]
            severity = "high"
            rate = 0.2
        "#;
        merge(&mut value, file.parse().unwrap());
        let config: Config = value.try_into().unwrap();
        let plans = config.qa.plan_inputs();
        assert_eq!(config.qa.sample_every_seconds, 0);
        assert_eq!(plans.len(), 1);
        assert_eq!(
            (plans[0].name.as_str(), plans[0].seed, plans[0].rate),
            ("weekly", 7, 0.05)
        );
        assert_eq!(plans[0].rates[0].severity.as_deref(), Some("high"));
        warden_domain::quality::sampling::SamplingPlans::parse(&plans).unwrap();
        let unknown = "[[qa.plans]]\nname = \"x\"\nsede = 1\n";
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        merge(&mut value, unknown.parse().unwrap());
        assert!(
            value.try_into::<Config>().is_err(),
            "a misspelt key is refused"
        );
    }

    #[test]
    fn restricted_queues_name_teams_and_proxies_are_ranges() {
        let policy = Config::default().case_policy().unwrap();
        let child_safety = policy.router.queue("child-safety").unwrap();
        assert_eq!(child_safety.teams, ["child_safety"]);
        assert!(!child_safety.admits(Role::Analyst, &[]));
        assert!(child_safety.admits(Role::Analyst, &["child_safety".to_string()]));
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        let overlay: toml::Value = r#"
            [server]
            trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]
            [[queues]]
            name = "fraud-ring"
            teams = ["fraud_ring"]
            [[queues]]
            name = "general"
            [[queues]]
            name = "escalations"
            accepts_new = false
        "#
        .parse()
        .unwrap();
        merge(&mut value, overlay);
        let config: Config = value.try_into().unwrap();
        config.check().unwrap();
        let proxies = config.trusted_proxies().unwrap();
        assert_eq!(proxies.len(), 3);
        assert!(proxies[0].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert_eq!(
            config.server_settings(false).trusted_proxies.len(),
            3,
            "the settings carry them"
        );
        let queue = config.case_policy().unwrap();
        assert_eq!(
            queue.router.queue("fraud-ring").unwrap().teams,
            ["fraud_ring"]
        );
        let mut bad = config.clone();
        bad.server.trusted_proxies = vec!["proxy.example".into()];
        assert!(format!("{:#}", bad.check().unwrap_err()).contains("trusted_proxies"));
        let mut bad = config;
        bad.queues[0].teams = vec!["Fraud Ring".into()];
        let error = format!("{:#}", bad.check().unwrap_err());
        assert!(
            error.contains("fraud-ring") && error.contains("teams"),
            "{error}"
        );
    }

    #[test]
    fn env_overrides_keep_types() {
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        let vars = vec![
            ("WARDEN_SERVER_LEASE_SECONDS".to_string(), "300".to_string()),
            (
                "WARDEN_DATABASE_URL".to_string(),
                "postgres://x".to_string(),
            ),
            ("HOME".to_string(), "/root".to_string()),
        ];
        apply_env(&mut value, vars.into_iter()).unwrap();
        let config: Config = value.try_into().unwrap();
        assert_eq!(config.server.lease_seconds, 300);
        assert_eq!(config.storage.database_url, "postgres://x");
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        let bad = vec![(
            "WARDEN_SERVER_LEASE_SECONDS".to_string(),
            "soon".to_string(),
        )];
        assert!(apply_env(&mut value, bad.into_iter()).is_err());
        let unknown = vec![("WARDEN_SERVER_COLOUR".to_string(), "blue".to_string())];
        assert!(apply_env(&mut value, unknown.into_iter()).is_err());
    }

    #[test]
    fn the_audit_section_reads_the_environment_and_refuses_bad_intervals() {
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        let vars = vec![
            (
                "WARDEN_AUDIT_SIGNING_KEY_FILE".to_string(),
                "/etc/warden/audit.key".to_string(),
            ),
            (
                "WARDEN_AUDIT_CHECKPOINT_EVERY_SECONDS".to_string(),
                "60".to_string(),
            ),
        ];
        apply_env(&mut value, vars.into_iter()).unwrap();
        let config: Config = value.try_into().unwrap();
        config.check().unwrap();
        assert_eq!(
            config.audit.signing_key_file(),
            Some(PathBuf::from("/etc/warden/audit.key"))
        );
        assert_eq!(config.audit.checkpoint_every_seconds, 60);
        assert_eq!(Config::default().audit.signing_key_file(), None);
        let mut bad = config.clone();
        bad.audit.checkpoint_every_records = 0;
        assert!(format!("{:#}", bad.check().unwrap_err()).contains("checkpoint_every_records"));
        let mut bad = config;
        bad.audit.checkpoint_every_seconds = 0;
        assert!(format!("{:#}", bad.check().unwrap_err()).contains("checkpoint_every_seconds"));
    }

    #[test]
    fn the_database_password_never_shows_in_debug() {
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        let url = "postgres://warden:s3cret@db.example:5432/warden";
        let vars = vec![("WARDEN_DATABASE_URL".to_string(), url.to_string())];
        apply_env(&mut value, vars.into_iter()).unwrap();
        let config: Config = value.try_into().unwrap();
        assert_eq!(config.storage.database_url.expose(), url);
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://warden:***@db.example:5432/warden"),
            "{shown}"
        );
        // Written back (as `warden config` or a merge does), the URL is whole.
        let written = toml::Value::try_from(&config).unwrap();
        assert_eq!(written["storage"]["database_url"].as_str(), Some(url));
    }

    #[test]
    fn file_overrides_and_queue_errors_name_the_queue() {
        let mut value = toml::Value::try_from(Config::default()).unwrap();
        let overlay: toml::Value = r#"
            [[queues]]
            name = "general"
            categories = ["nonsense"]
            [[queues]]
            name = "escalations"
            accepts_new = false
        "#
        .parse()
        .unwrap();
        merge(&mut value, overlay);
        let config: Config = value.try_into().unwrap();
        let error = format!("{:#}", config.check().unwrap_err());
        assert!(
            error.contains("queue \"general\"") && error.contains("nonsense"),
            "{error}"
        );
    }
}
