//! What every page shares: the layout (who is signed in, the navigation,
//! the viewing preferences), rendering with the security headers, the
//! [`Viewer`] extractor, and error pages.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use warden_app::{Actor, CommandError};
use warden_domain::access::Permission;

use super::assets;
use super::preferences::Prefs;
use crate::auth::Caller;
use crate::error::AppError;

/// The Content-Security-Policy of every console page: scripts, styles,
/// images and forms from Warden only; no inline script or style; no frames.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// One link of the navigation bar.
pub struct NavLink {
    /// What it says.
    pub label: &'static str,
    /// Where it goes.
    pub href: &'static str,
    /// Whether it is the page shown.
    pub current: bool,
}

/// A message at the top of a page.
pub struct Notice {
    /// `ok`, `warn` or `error`: the colour and the ARIA role.
    pub kind: &'static str,
    /// What it says.
    pub text: String,
}

impl Notice {
    /// A success message.
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            kind: "ok",
            text: text.into(),
        }
    }

    /// A warning.
    pub fn warn(text: impl Into<String>) -> Self {
        Self {
            kind: "warn",
            text: text.into(),
        }
    }

    /// An error.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            kind: "error",
            text: text.into(),
        }
    }
}

/// What the layout template needs.
pub struct Layout {
    /// The page title.
    pub title: String,
    /// Who is signed in: name and role.
    pub user: Option<(String, String)>,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: String,
    /// The navigation bar.
    pub nav: Vec<NavLink>,
    /// Classes on `<body>` carrying the viewing preferences.
    pub body_class: String,
    /// Cache-busting version of the stylesheet and script.
    pub asset_version: &'static str,
    /// A message at the top.
    pub notice: Option<Notice>,
    /// Which page this is, for the script (`case`, `queue`, ...).
    pub page: &'static str,
}

/// The nav link to the KPI dashboard: the team's with `metrics.read`,
/// else one's own.
fn dashboard_link(viewer: &Viewer, page: &str) -> NavLink {
    NavLink {
        label: "Dashboard",
        href: if viewer.may(Permission::MetricsRead) {
            "/console/dashboard"
        } else {
            "/console/dashboard/me"
        },
        current: page == "dashboard",
    }
}

/// A navigation link shown to those with a permission: (permission,
/// label, `href`, page name).
type GuardedLink = (Permission, &'static str, &'static str, &'static str);

/// The links between Team and Dashboard, in the order shown.
const WORK_LINKS: &[GuardedLink] = &[
    (
        Permission::ActionApprove,
        "Approvals",
        "/console/approvals",
        "approvals",
    ),
    (Permission::QaReview, "QA", "/console/qa", "qa"),
    (
        Permission::UserAdmin,
        "Users",
        "/console/admin/users",
        "users",
    ),
    (
        Permission::TokenAdmin,
        "API tokens",
        "/console/admin/tokens",
        "tokens",
    ),
];

/// The links after Dashboard, in the order shown.
const ADMIN_LINKS: &[GuardedLink] = &[
    (
        Permission::MetricsRead,
        "Queues & SLAs",
        "/console/admin/queues",
        "queues",
    ),
    (
        Permission::DeliveryAdmin,
        "Dead letters",
        "/console/admin/deliveries",
        "deliveries",
    ),
];

/// The links of `links` the viewer may follow.
fn guarded<'a>(
    viewer: &'a Viewer,
    page: &'static str,
    links: &'a [GuardedLink],
) -> impl Iterator<Item = NavLink> + 'a {
    links
        .iter()
        .filter(|(permission, ..)| viewer.caller.principal.may(*permission))
        .map(move |&(_, label, href, name)| NavLink {
            label,
            href,
            current: page == name,
        })
}

/// The navigation of a signed-in viewer, `page` marked as shown.
fn navigation(viewer: &Viewer, page: &'static str) -> Vec<NavLink> {
    let mut nav = vec![NavLink {
        label: "Home",
        href: "/console",
        current: page == "home",
    }];
    if viewer.caller.principal.may(Permission::CaseAssign) {
        nav.push(NavLink {
            label: "Team",
            href: "/console/lead",
            current: page == "lead",
        });
    }
    nav.extend(incidents_link(viewer, page));
    nav.extend(guarded(viewer, page, WORK_LINKS));
    nav.push(dashboard_link(viewer, page));
    nav.extend(guarded(viewer, page, ADMIN_LINKS));
    nav
}

impl Layout {
    /// The layout for a signed-in caller; `current` is the navigation
    /// link's `href` to mark as the page shown.
    pub fn new(viewer: &Viewer, title: impl Into<String>, page: &'static str) -> Self {
        let caller = &viewer.caller;
        let nav = navigation(viewer, page);
        Self {
            title: title.into(),
            user: Some((
                caller.principal.name.clone(),
                caller.principal.role.as_str().to_string(),
            )),
            csrf: caller.session_csrf.clone().unwrap_or_default(),
            nav,
            body_class: viewer.prefs.body_class(),
            asset_version: assets::version(),
            notice: None,
            page,
        }
    }

    /// The layout for a visitor who is not signed in.
    pub fn anonymous(title: impl Into<String>, prefs: &Prefs, page: &'static str) -> Self {
        Self {
            title: title.into(),
            user: None,
            csrf: String::new(),
            nav: Vec::new(),
            body_class: prefs.body_class(),
            asset_version: assets::version(),
            notice: None,
            page,
        }
    }

    /// The same layout with a message at the top.
    pub fn with_notice(mut self, notice: Option<Notice>) -> Self {
        self.notice = notice;
        self
    }
}

/// The signed-in caller of a console page, with their viewing preferences.
pub struct Viewer {
    /// Who, as the guard established.
    pub caller: Caller,
    /// Blur, greyscale, autoplay, theme.
    pub prefs: Prefs,
}

impl Viewer {
    /// Whether the caller has `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.caller.principal.may(permission)
    }

    /// The viewer as the application's commands run them.
    pub fn actor(&self) -> Actor {
        self.caller.actor()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let caller = parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ConsoleError::from(AppError::Internal(
                "a console page ran without the guard".into(),
            ))
        })?;
        Ok(Self {
            caller,
            prefs: Prefs::from_headers(&parts.headers),
        })
    }
}

/// A form body (`application/x-www-form-urlencoded`); a bad one is a 400 page.
pub struct ConsoleForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ConsoleForm<T> {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(request, state)
            .await
            .map(|axum::Form(value)| ConsoleForm(value))
            .map_err(|rejection| ConsoleError {
                status: rejection.status(),
                title: "The form could not be read".into(),
                detail: format!(
                    "{}. Go back, reload the page and try again.",
                    rejection.body_text()
                ),
            })
    }
}

/// Renders `page` with `status` and the console's security headers.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => html_response(status, html),
        Err(error) => {
            tracing::error!(%error, "a console template failed to render");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Warden</title><p>This page failed to render; the cause is in Warden's log.</p>".into(),
            )
        }
    }
}

/// An HTML answer with the headers every console page carries.
pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(headers);
    response
}

/// Headers of every console answer: CSP, referrer and permissions policies.
pub fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}

/// A failure carried across a redirect as a code, never as text: a link
/// cannot make the console say what its author wants.
pub fn problem_code(error: &AppError) -> &'static str {
    match error {
        AppError::Conflict(_) => "conflict",
        AppError::Invalid(_) => "invalid",
        AppError::Forbidden(_) => "forbidden",
        AppError::NotFound(_) => "not-found",
        _ => "failed",
    }
}

/// What a problem code says on the page it lands on.
pub fn problem_notice(code: &str) -> Option<Notice> {
    let text = match code {
        "conflict" => "That did not happen: the case changed since the page was loaded, or someone else holds it. Nothing was changed; look again.",
        "invalid" => "That did not happen: the request was not acceptable (for example, the user cannot work cases). Nothing was changed.",
        "forbidden" => "That did not happen: your role or this queue does not allow it. Nothing was changed.",
        "not-found" => "That did not happen: the case or user no longer exists.",
        "failed" => "That did not happen: Warden failed; the cause is in its log. Nothing was changed.",
        _ => return None,
    };
    Some(Notice::error(text))
}

/// The incidents link, for those who read cases.
fn incidents_link(viewer: &Viewer, page: &str) -> Option<NavLink> {
    viewer.may(Permission::CaseRead).then_some(NavLink {
        label: "Incidents",
        href: "/console/incidents",
        current: page == "incidents",
    })
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The layout.
    pub layout: Layout,
    /// The HTTP status, shown small.
    pub status: u16,
    /// One line.
    pub heading: String,
    /// What happened and what to do.
    pub detail: String,
}

/// A failure on a console page, answered as a page.
#[derive(Debug)]
pub struct ConsoleError {
    /// The HTTP status.
    pub status: StatusCode,
    /// One line.
    pub title: String,
    /// What happened and what to do.
    pub detail: String,
}

impl ConsoleError {
    /// A 404 page.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            title: "Not found".into(),
            detail: detail.into(),
        }
    }
}

impl From<AppError> for ConsoleError {
    fn from(error: AppError) -> Self {
        if let AppError::Internal(cause) = &error {
            tracing::error!(%cause, "a console request failed");
        }
        let problem = error.problem();
        let mut detail = problem.detail;
        if let Some(first) = detail.get(..1) {
            detail = first.to_uppercase() + &detail[1..];
        }
        Self {
            status: error.status(),
            title: problem.title,
            detail,
        }
    }
}

impl From<CommandError> for ConsoleError {
    fn from(error: CommandError) -> Self {
        AppError::from(error).into()
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        error_page(self.status, &self.title, &self.detail, None)
    }
}

/// An error page, with the signed-in layout when the viewer is known.
pub fn error_page(
    status: StatusCode,
    heading: &str,
    detail: &str,
    viewer: Option<&Viewer>,
) -> Response {
    let layout = match viewer {
        Some(viewer) => Layout::new(viewer, heading, "error"),
        None => Layout::anonymous(heading, &Prefs::default(), "error"),
    };
    render(
        status,
        &ErrorPage {
            layout,
            status: status.as_u16(),
            heading: heading.to_string(),
            detail: detail.to_string(),
        },
    )
}

/// The console's 404 page.
pub fn not_found_page() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page. The console starts at /console.",
        None,
    )
}
