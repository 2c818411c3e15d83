//! Warden's HTTP layer.
//!
//! [`router`] builds the axum application from one table of routes
//! ([`routes::ROUTES`]), each with the permission it needs. A middleware
//! looks every request's route up in that table and refuses what is not
//! there: access is denied by default. Handlers turn wire types into domain
//! commands, call the [`Store`], and turn records back into wire types. Only
//! this crate knows HTTP and JSON shapes.
#![deny(missing_docs)]

pub mod auth;
pub mod case_access;
pub mod classifiers;
pub mod clock;
mod console;
pub mod detection;
pub mod enforcement;
pub mod enforcement_wire;
pub mod error;
mod handlers;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod settings;
pub mod wire;

use std::sync::Arc;

use warden_store::{CasePolicy, Store};

pub use clock::{Clock, ManualClock, SystemClock};
pub use routes::router;
pub use settings::ServerSettings;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Taxonomy and queues.
    pub policy: Arc<CasePolicy>,
    /// HTTP settings.
    pub settings: Arc<ServerSettings>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Prometheus metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// The detection worker, when rules run in this process.
    pub detection: Option<Arc<detection::DetectionService>>,
    /// Enforcement settings (the callback secret).
    pub enforcement: Arc<enforcement::EnforcementSettings>,
}

impl AppState {
    /// State over `store` with the system clock.
    pub fn new(store: Arc<dyn Store>, policy: CasePolicy, settings: ServerSettings) -> Self {
        Self {
            store,
            policy: Arc::new(policy),
            settings: Arc::new(settings),
            clock: Arc::new(SystemClock),
            metrics: Arc::new(metrics::Metrics::default()),
            detection: None,
            enforcement: Arc::new(enforcement::EnforcementSettings::default()),
        }
    }

    /// The same state with enforcement settings.
    pub fn with_enforcement(mut self, settings: enforcement::EnforcementSettings) -> Self {
        self.enforcement = Arc::new(settings);
        self
    }

    /// The same state with a detection worker, which intake wakes.
    pub fn with_detection(mut self, detection: Arc<detection::DetectionService>) -> Self {
        detection.attach_metrics(self.metrics.clone());
        self.detection = Some(detection);
        self
    }

    /// The same state reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// Serves `state` on `listener` until `shutdown` resolves, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address lets trusted proxies mark cookies `Secure`.
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
