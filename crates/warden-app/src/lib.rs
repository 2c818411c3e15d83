//! Warden's application layer: every command and query, whatever the transport.
//!
//! This crate is an **API boundary**. Whether Warden is driven over the
//! HTTP JSON API, the analyst console, the command line, a worker or (later)
//! NATS, [`App`] is the right API: the transports translate their input into
//! typed commands (`ClaimCommand`, `DecideCommand { mode: First |
//! Correction, .. }`, ...), call one function, and translate the record or
//! the [`CommandError`] back. No transport repeats a rule.
//!
//! It knows no HTTP, no HTML and no SQL: it depends on the domain (pure
//! rules and planners) and on the store's trait (`Arc<dyn Store>`). It holds
//! the policy in force as a [`PolicySnapshot`] that publishing swaps
//! ([`policy`]), the settings commands need (lease length, escalation queue,
//! sign-in lockout, ...), and a [`Clock`].
//!
//! Modules by concept: [`intake`], [`case_scores`] (a live classifier's
//! score in a new case's priority), [`cases`] (claims, leases, holds, status
//! moves, notes, reads and lists), [`access`] (the case gate: who sees which
//! case, who changes a held one), [`decisions`], [`approvals`],
//! [`reversals`], [`accounts`] (sign-in, users, teams, tokens, sessions),
//! [`classifiers`] (retraining from decisions, shadow review),
//! [`quality`] (QA sampling, blind reviews, rework, results; calibration),
//! [`taxonomy`], [`notices`], [`deliveries`], [`transparency`], [`queues`]
//! (the overview), [`subjects`], [`audit`], [`operations`] (readiness,
//! metrics, rules).
//!
//! Commands check the actor's permission and the rules of the change;
//! queries are filtered to what the actor may see (the transports' route
//! tables also say who may ask).
#![deny(missing_docs)]

pub mod access;
pub mod accounts;
mod actor;
pub mod appeals;
pub mod approvals;
pub mod audit;
pub mod case_scores;
pub mod cases;
pub mod classifiers;
pub mod clock;
pub mod decisions;
pub mod deliveries;
mod error;
pub mod escalations;
pub mod incidents;
pub mod intake;
pub mod kpis;
pub mod limits;
pub mod notices;
pub mod operations;
pub mod policy;
pub mod quality;
pub mod queues;
pub mod reason;
pub mod reversals;
pub mod subjects;
pub mod taxonomy;
pub mod transparency;

use std::sync::Arc;

use chrono::Duration;

use warden_domain::limits::LEASE_SECONDS_DEFAULT;
use warden_domain::Timestamp;
use warden_store::{CasePolicy, Store};

pub use actor::Actor;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{CommandError, CommandResult};
pub use policy::{PolicyCell, PolicySnapshot};
pub use reason::Reason;

/// What commands need to know from configuration; every field has a default.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// The lease on a claimed or assigned case.
    pub lease: Duration,
    /// The queue escalations go to when the analyst names none (a
    /// configured queue; the configuration checks it).
    pub escalation_queue: String,
    /// Failed sign-ins in a row before the account is locked.
    pub sign_in_failures_max: u32,
    /// How long a locked account stays locked.
    pub sign_in_lockout: Duration,
    /// How long a session lasts.
    pub session_lifetime: Duration,
    /// Demo mode: the demo users' weak passwords are accepted.
    pub demo_mode: bool,
    /// The appeal window and where appeal cases go.
    pub appeals: warden_store::AppealRules,
    /// KPI weights and targets; when to suggest a wellness break.
    pub kpis: kpis::KpiConfig,
    /// Severity definitions, specialist teams, paging, evidence limits.
    pub escalations: escalations::EscalationSettings,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            lease: Duration::seconds(LEASE_SECONDS_DEFAULT),
            escalation_queue: "escalations".into(),
            sign_in_failures_max: 5,
            sign_in_lockout: Duration::minutes(15),
            session_lifetime: Duration::hours(12),
            demo_mode: false,
            appeals: warden_store::AppealRules::default(),
            kpis: kpis::KpiConfig::default(),
            escalations: escalations::EscalationSettings::default(),
        }
    }
}

/// Something to tell when events were stored (the detection worker, which
/// then reads them without waiting for its next poll).
pub type EventListener = Arc<dyn Fn() + Send + Sync>;

/// The application: the store, the policy in force, settings and a clock.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    policy: Arc<PolicyCell>,
    settings: Arc<AppSettings>,
    clock: Arc<dyn Clock>,
    event_listener: Option<EventListener>,
    classifier_priority: Arc<case_scores::ClassifierPriority>,
    model_cache: Arc<case_scores::ModelCache>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("backend", &self.store.backend())
            .field("policy_version", &self.policy.current().version())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl App {
    /// An application over `store` with the configured `policy` (put in
    /// force until a published taxonomy version replaces it) and the
    /// system clock.
    pub fn new(store: Arc<dyn Store>, policy: CasePolicy, settings: AppSettings) -> Self {
        Self {
            store,
            policy: Arc::new(PolicyCell::new(PolicySnapshot::configured(policy))),
            settings: Arc::new(settings),
            clock: Arc::new(SystemClock),
            event_listener: None,
            classifier_priority: Arc::default(),
            model_cache: Arc::default(),
        }
    }

    /// The same application reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same application telling `listener` whenever events are stored.
    pub fn with_event_listener(mut self, listener: EventListener) -> Self {
        self.event_listener = Some(listener);
        self
    }

    /// The policy in force now. Hold it for one command: every rule of the
    /// command then reads the same version.
    pub fn policy(&self) -> Arc<PolicySnapshot> {
        self.policy.current()
    }

    /// The cell the policy is kept in (for workers that follow swaps).
    pub fn policy_cell(&self) -> &Arc<PolicyCell> {
        &self.policy
    }

    /// The settings commands run with.
    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    /// Now, by the application's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }
}
