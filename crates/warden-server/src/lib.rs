//! Warden's HTTP layer.
//!
//! [`router`] builds the axum application from one table of routes
//! ([`routes::ROUTES`]), each with the permission it needs. A middleware
//! looks every request's route up in that table and refuses what is not
//! there: access is denied by default. Handlers turn wire types into the
//! application's commands, call [`warden_app::App`], and turn records back
//! into wire types; the console does the same with its forms and pages.
//! Only this crate knows HTTP, HTML and JSON shapes.
#![deny(missing_docs)]

pub mod auth;
pub mod callbacks;
mod console;
pub mod error;
mod handlers;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod paths;
pub mod quality_wire;
pub mod routes;
pub mod settings;
pub mod wire;

use std::sync::Arc;

use warden_app::App;
use warden_store::{CasePolicy, Store};
use warden_workers::detection::DetectionService;

pub use routes::router;
pub use settings::ServerSettings;
pub use warden_app::{clock, Clock, ManualClock, SystemClock};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The application: every command and query, the policy in force, the clock.
    pub app: App,
    /// HTTP settings.
    pub settings: Arc<ServerSettings>,
    /// Prometheus metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// The detection worker, when rules run in this process.
    pub detection: Option<Arc<DetectionService>>,
    /// Enforcement settings (the callback secret).
    pub enforcement: Arc<callbacks::EnforcementSettings>,
}

impl AppState {
    /// State over `store` with the configured `policy` and the system clock.
    pub fn new(store: Arc<dyn Store>, policy: CasePolicy, settings: ServerSettings) -> Self {
        let app = App::new(store, policy, settings.app_settings());
        Self::with_app(app, settings)
    }

    /// State around an application built elsewhere (the binary's `serve`).
    pub fn with_app(app: App, settings: ServerSettings) -> Self {
        Self {
            app,
            settings: Arc::new(settings),
            metrics: Arc::new(metrics::Metrics::default()),
            detection: None,
            enforcement: Arc::new(callbacks::EnforcementSettings::default()),
        }
    }

    /// The same state with enforcement settings.
    pub fn with_enforcement(mut self, settings: callbacks::EnforcementSettings) -> Self {
        self.enforcement = Arc::new(settings);
        self
    }

    /// The same state with a detection worker, which intake of events wakes.
    pub fn with_detection(mut self, detection: Arc<DetectionService>) -> Self {
        detection.attach_metrics(self.metrics.clone());
        let woken = detection.clone();
        self.app = self.app.with_event_listener(Arc::new(move || woken.wake()));
        self.detection = Some(detection);
        self
    }

    /// The same state reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.app = self.app.with_clock(clock);
        self
    }

    /// Now, by the application's clock.
    pub fn now(&self) -> warden_domain::Timestamp {
        self.app.now()
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
