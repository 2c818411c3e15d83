//! The analyst console: the web pages T&S analysts, leads and admins work in.
//!
//! Server-rendered HTML from compile-time-checked askama templates
//! (`templates/`), one stylesheet and one small script (`static/`), embedded
//! in the binary. Every page works without the script; the script adds
//! keyboard shortcuts, countdowns and dialogs. Nothing is fetched from
//! anywhere but Warden itself, and the Content-Security-Policy says so.
//!
//! The console calls the same application functions as the JSON API
//! ([`warden_app::App`]), building their commands from its forms; it adds no
//! rules of its own, and it imports neither the API's wire types nor its
//! handlers (`tests/api/tidy.rs` checks this). Its routes are in
//! [`crate::routes::ROUTES`] like every other, marked
//! [`Surface::Console`](crate::routes::Surface): [`guard`] sends signed-out
//! visitors to the sign-in page, answers refusals with a page, and checks
//! the CSRF token that every form carries in a hidden field.
//!
//! Code map: [`view`] (layout, rendering, errors), [`text`] (times and
//! masking of personal data in text), [`preferences`] (the per-user viewing
//! preferences, kept in a cookie), [`session`] (sign in and out), [`home`],
//! [`queue`], [`case`] (the review page and its forms), [`lead`], [`admin`],
//! [`approvals`], [`deliveries`] (dead letters),
//! [`assets`] (stylesheet, script, icon, media stand-ins).

pub mod admin;
pub mod appeal;
pub mod approvals;
pub mod assets;
pub mod calibration;
pub mod case;
pub mod charts;
pub mod dashboard;
pub mod deliveries;
pub mod escalation;
pub mod guard;
pub mod home;
pub mod incidents;
pub mod lead;
pub mod preferences;
pub mod quality;
pub mod queue;
pub mod session;
pub mod text;
pub mod view;
pub mod wellness;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

pub use view::not_found_page;

/// Whether `path` is one of the console's (so that errors there are pages).
pub fn is_console_path(path: &str) -> bool {
    path == "/" || path == "/console" || path.starts_with("/console/")
}

/// `GET /`: the console is the front door; the API lives under `/api`.
pub async fn front_door() -> Response {
    redirect("/console")
}

/// A `303 See Other` to `location`, the answer to a form that worked.
pub fn redirect(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}
