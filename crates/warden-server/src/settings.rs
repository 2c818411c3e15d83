//! What the HTTP layer needs to know from configuration. The binary fills it
//! from `warden.toml` and the environment; every field has a default.

use std::time::Duration as StdDuration;

use chrono::Duration;

use warden_domain::limits;

pub use ipnet::IpNet;

/// Reads one entry of `server.trusted_proxies`: a CIDR range
/// (`10.0.0.0/8`) or an address alone (a range of one).
pub fn parse_trusted_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("{text:?} is neither an IP address nor a CIDR range such as 10.0.0.0/8")
        })
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Largest request body, in bytes.
    pub body_bytes_max: usize,
    /// Most items in one NDJSON batch.
    pub batch_items_max: usize,
    /// Lease on a claimed case.
    pub lease_default: Duration,
    /// A request running longer is answered 503 and dropped.
    pub request_timeout: StdDuration,
    /// Requests handled at once; more are refused with 503 rather than queued without bound.
    pub concurrency_max: usize,
    /// Failed sign-ins in a row before the account is locked.
    pub sign_in_failures_max: u32,
    /// How long a locked account stays locked.
    pub sign_in_lockout: Duration,
    /// How long a console session lasts.
    pub session_lifetime: Duration,
    /// Mark cookies `Secure` always (set when serving over TLS or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-Proto: https` makes cookies `Secure`; the
    /// header is ignored from every other peer.
    pub trusted_proxies: Vec<IpNet>,
    /// Demo mode: the demo users' weak passwords are accepted.
    pub demo_mode: bool,
    /// The queue escalations go to when the analyst names none.
    pub escalation_queue: String,
    /// The appeal window and where appeal cases go.
    pub appeals: warden_store::AppealRules,
    /// KPI weights and targets; when to suggest a wellness break.
    pub kpis: warden_app::kpis::KpiConfig,
    /// Severity definitions, specialist teams, paging, evidence limits.
    pub escalations: warden_app::escalations::EscalationSettings,
}

impl ServerSettings {
    /// What the application's commands need of these settings.
    pub fn app_settings(&self) -> warden_app::AppSettings {
        warden_app::AppSettings {
            lease: self.lease_default,
            escalation_queue: self.escalation_queue.clone(),
            sign_in_failures_max: self.sign_in_failures_max,
            sign_in_lockout: self.sign_in_lockout,
            session_lifetime: self.session_lifetime,
            demo_mode: self.demo_mode,
            appeals: self.appeals.clone(),
            kpis: self.kpis.clone(),
            escalations: self.escalations.clone(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            body_bytes_max: limits::BODY_BYTES_DEFAULT,
            batch_items_max: limits::BATCH_ITEMS_DEFAULT,
            lease_default: Duration::seconds(limits::LEASE_SECONDS_DEFAULT),
            request_timeout: StdDuration::from_secs(60),
            concurrency_max: 512,
            sign_in_failures_max: 5,
            sign_in_lockout: Duration::minutes(15),
            session_lifetime: Duration::hours(12),
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            demo_mode: false,
            escalation_queue: "escalations".into(),
            appeals: warden_store::AppealRules::default(),
            kpis: warden_app::kpis::KpiConfig::default(),
            escalations: warden_app::escalations::EscalationSettings::default(),
        }
    }
}
