//! The route table, the permission check, and the layers around them.
//!
//! [`ROUTES`] is the one list of what Warden serves: method, path, the
//! permission it needs, and what the OpenAPI document says about it. The
//! router is built from it, the permission middleware reads it, the OpenAPI
//! document is generated from it, and a test walks it with every role. A
//! route missing from the table cannot be reached.

use std::time::Instant;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use warden_domain::access::Permission;

use crate::auth::{authenticate, check_csrf};
use crate::console;
use crate::error::AppError;
use crate::handlers::{accounts, cases, enforcement, intake, ops, rules, subjects};
use crate::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (health checks, sign-in, the API document).
    Public,
    /// Any signed-in user or token.
    SignedIn,
    /// Callers with this permission.
    Needs(Permission),
}

/// Which face of Warden a route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The JSON API: problem+json errors, CSRF by header for cookie
    /// sessions, described in the OpenAPI document.
    Api,
    /// The analyst console: HTML pages and forms. Signed-out visitors are
    /// sent to the sign-in page, refusals are pages, and forms carry their
    /// CSRF token in a `csrf_token` field that the middleware checks
    /// (see `console::guard`). Not in the API document.
    Console,
}

/// One route: what it is, who may call it, and how the API document describes it.
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path pattern, axum syntax (`/api/v1/cases/{id}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// One line for the API document.
    pub summary: &'static str,
    /// OpenAPI tag.
    pub tag: &'static str,
    /// Name of the request body schema, if it takes one.
    pub request: Option<&'static str>,
    /// Name of the success answer's schema, if it has a JSON body.
    pub response: Option<&'static str>,
    /// The success status.
    pub success: u16,
    /// The handler.
    pub handler: fn() -> MethodRouter<AppState>,
    /// API or console.
    pub surface: Surface,
}

use Access::{Needs, Public, SignedIn};

macro_rules! route {
    ($method:ident $path:literal, $access:expr, $tag:literal, $summary:literal, $request:expr, $response:expr, $success:literal, $handler:expr) => {
        RouteSpec {
            method: Method::$method,
            path: $path,
            access: $access,
            summary: $summary,
            tag: $tag,
            request: $request,
            response: $response,
            success: $success,
            handler: $handler,
            surface: Surface::Api,
        }
    };
}

/// A console route: an HTML page or form (tag `console`, no schemas).
macro_rules! console {
    ($method:ident $path:literal, $access:expr, $summary:literal, $handler:expr) => {
        RouteSpec {
            method: Method::$method,
            path: $path,
            access: $access,
            summary: $summary,
            tag: "console",
            request: None,
            response: None,
            success: 200,
            handler: $handler,
            surface: Surface::Console,
        }
    };
}

/// Every route Warden serves.
pub static ROUTES: &[RouteSpec] = &[
    route!(GET "/healthz", Public, "operations", "Liveness: the process answers.", None, None, 200, || get(ops::healthz)),
    route!(GET "/readyz", Public, "operations", "Readiness: the database answers.", None, None, 200, || get(ops::readyz)),
    route!(GET "/metrics", Needs(Permission::MetricsRead), "operations", "Prometheus metrics.", None, None, 200, || get(ops::metrics)),
    route!(GET "/api/openapi.json", Public, "operations", "This document.", None, None, 200, || get(ops::openapi)),
    route!(POST "/api/v1/subjects", Needs(Permission::IntakeWrite), "intake", "Create or update a subject (JSON) or many (NDJSON).", Some("SubjectBody"), Some("IntakeAnswer"), 201, || post(intake::subjects)),
    route!(POST "/api/v1/events", Needs(Permission::IntakeWrite), "intake", "Record an event (JSON) or many (NDJSON).", Some("EventBody"), Some("IntakeAnswer"), 201, || post(intake::events)),
    route!(POST "/api/v1/reports", Needs(Permission::IntakeWrite), "intake", "Record a report (JSON) or many (NDJSON); opens or joins a case.", Some("ReportBody"), Some("IntakeAnswer"), 201, || post(intake::reports)),
    route!(POST "/api/v1/signals", Needs(Permission::IntakeWrite), "intake", "Record a machine signal (JSON) or many (NDJSON); opens or joins a case.", Some("SignalBody"), Some("IntakeAnswer"), 201, || post(intake::signals)),
    route!(GET "/api/v1/queues", Needs(Permission::CaseRead), "cases", "Queues with depth, oldest case and SLA breaches.", None, Some("QueueView"), 200, || get(cases::queues)),
    route!(POST "/api/v1/queues/{queue}/claim", Needs(Permission::CaseWork), "cases", "Claim the next case in a queue, with a lease; 204 when empty.", None, Some("CaseView"), 200, || post(cases::claim)),
    route!(GET "/api/v1/cases", Needs(Permission::CaseRead), "cases", "List cases by queue, status, assignee or subject.", None, Some("CaseList"), 200, || get(cases::list)),
    route!(GET "/api/v1/cases/{id}", Needs(Permission::CaseRead), "cases", "One case with everything attached (the read is audited).", None, Some("CaseView"), 200, || get(cases::show)),
    route!(POST "/api/v1/cases/{id}/decision", Needs(Permission::CaseWork), "cases", "Decide a case you hold; on a resolved case a lead's correction.", Some("DecisionRequest"), Some("DecisionView"), 201, || post(cases::decide)),
    route!(POST "/api/v1/cases/{id}/release", Needs(Permission::CaseWork), "cases", "Give a case back to its queue (leads: any case).", Some("VersionBody"), Some("CaseView"), 200, || post(cases::release)),
    route!(POST "/api/v1/cases/{id}/hold", Needs(Permission::CaseWork), "cases", "Keep a case you hold past its lease, with a reason.", Some("ReasonBody"), Some("CaseView"), 200, || post(cases::hold)),
    route!(POST "/api/v1/cases/{id}/renew", Needs(Permission::CaseWork), "cases", "Renew the lease on a case you hold.", Some("VersionBody"), Some("CaseView"), 200, || post(cases::renew)),
    route!(POST "/api/v1/cases/{id}/escalate", Needs(Permission::CaseWork), "cases", "Escalate a case you hold to a specialist queue.", Some("EscalateBody"), Some("CaseView"), 200, || post(cases::escalate)),
    route!(POST "/api/v1/cases/{id}/wait", Needs(Permission::CaseWork), "cases", "Park a case you hold while waiting for information.", Some("ReasonBody"), Some("CaseView"), 200, || post(cases::wait)),
    route!(POST "/api/v1/cases/{id}/resume", Needs(Permission::CaseWork), "cases", "Put a waiting case back in review.", Some("VersionBody"), Some("CaseView"), 200, || post(cases::resume)),
    route!(POST "/api/v1/cases/{id}/reopen", Needs(Permission::CaseCorrect), "cases", "Reopen a resolved case.", Some("ReasonBody"), Some("CaseView"), 200, || post(cases::reopen)),
    route!(POST "/api/v1/cases/{id}/assign", Needs(Permission::CaseAssign), "cases", "Hand a case to another user.", Some("AssignBody"), Some("CaseView"), 200, || post(cases::assign)),
    route!(POST "/api/v1/cases/{id}/notes", Needs(Permission::CaseWork), "cases", "Add a structured note to a case.", Some("RationaleBody"), Some("NoteView"), 201, || post(cases::add_note)),
    route!(GET "/api/v1/subjects/{kind}/{id}/history", Needs(Permission::SubjectRead), "subjects", "Reports, cases, decisions, actions, strikes and events of a subject (the read is audited).", None, Some("HistoryView"), 200, || get(subjects::history)),
    route!(POST "/api/v1/session", Public, "access", "Sign in; sets the session cookie and returns the CSRF token.", Some("SignInBody"), Some("SessionView"), 200, || post(accounts::sign_in)),
    route!(DELETE "/api/v1/session", SignedIn, "access", "Sign out.", None, None, 204, || delete(accounts::sign_out)),
    route!(GET "/api/v1/me", SignedIn, "access", "Who you are and what you may do.", None, Some("SessionView"), 200, || get(accounts::me)),
    route!(GET "/api/v1/users", Needs(Permission::UserAdmin), "access", "List users.", None, Some("UserView"), 200, || get(accounts::list_users)),
    route!(POST "/api/v1/users", Needs(Permission::UserAdmin), "access", "Create a user.", Some("NewUserBody"), Some("UserView"), 201, || post(accounts::create_user)),
    route!(POST "/api/v1/users/{name}/disable", Needs(Permission::UserAdmin), "access", "Disable a user: ends their sessions and leases.", None, Some("UserView"), 200, || post(accounts::disable_user)),
    route!(POST "/api/v1/users/{name}/enable", Needs(Permission::UserAdmin), "access", "Enable a user again.", None, Some("UserView"), 200, || post(accounts::enable_user)),
    route!(POST "/api/v1/users/{name}/teams", Needs(Permission::UserAdmin), "access", "Set a user's teams (restricted queues admit by team).", Some("TeamsBody"), Some("UserView"), 200, || post(accounts::set_user_teams)),
    route!(GET "/api/v1/tokens", Needs(Permission::TokenAdmin), "access", "List API tokens (never their secrets).", None, Some("TokenView"), 200, || get(accounts::list_tokens)),
    // Anyone mints tokens for themselves; token.admin mints ingest tokens for others (checked in the handler).
    route!(POST "/api/v1/tokens", SignedIn, "access", "Create an API token for yourself (any scope within your role), or as an admin an ingest token for another user; the secret is shown once.", Some("NewTokenBody"), Some("TokenView"), 201, || post(accounts::create_token)),
    route!(DELETE "/api/v1/tokens/{id}", Needs(Permission::TokenAdmin), "access", "Revoke an API token.", None, Some("TokenView"), 200, || delete(accounts::revoke_token)),
    route!(GET "/api/v1/rules", Needs(Permission::CaseRead), "detection", "Detection rules running, with versions, modes, hits in the last 7 days and load errors.", None, None, 200, || get(rules::list)),
    // Enforcement (handlers/enforcement.rs).
    route!(GET "/api/v1/cases/{id}/recommendation", Needs(Permission::CaseRead), "enforcement", "What the enforcement matrix recommends for a case now (?category= for another category).", None, Some("RecommendationView"), 200, || get(enforcement::recommendation)),
    route!(GET "/api/v1/approvals", Needs(Permission::ActionApprove), "enforcement", "Actions waiting for a lead's approval, oldest first.", None, Some("ActionDetailView"), 200, || get(enforcement::approvals)),
    route!(GET "/api/v1/actions/{id}", Needs(Permission::CaseRead), "enforcement", "One action with its approval, reversal and deliveries.", None, Some("ActionDetailView"), 200, || get(enforcement::action)),
    route!(POST "/api/v1/actions/{id}/approve", Needs(Permission::ActionApprove), "enforcement", "Approve an action that waits; it is delivered. Not your own.", Some("RulingBody"), Some("ActionDetailView"), 200, || post(enforcement::approve)),
    route!(POST "/api/v1/actions/{id}/reject", Needs(Permission::ActionApprove), "enforcement", "Reject an action that waits; it is never delivered. Not your own.", Some("RulingBody"), Some("ActionDetailView"), 200, || post(enforcement::reject)),
    route!(POST "/api/v1/actions/{id}/reverse", Needs(Permission::ActionReverse), "enforcement", "Reverse an action: the platform is told to undo it.", Some("RulingBody"), Some("ActionDetailView"), 200, || post(enforcement::reverse_action)),
    route!(POST "/api/v1/decisions/{id}/reverse", Needs(Permission::ActionReverse), "enforcement", "Reverse a decision: all its actions, and its strikes are removed.", Some("RulingBody"), Some("DecisionView"), 200, || post(enforcement::reverse_decision)),
    route!(GET "/api/v1/deliveries", Needs(Permission::DeliveryAdmin), "enforcement", "The outbox; by default its dead letters (?status=dead,failed|all).", None, Some("DeliveryView"), 200, || get(enforcement::deliveries)),
    route!(POST "/api/v1/deliveries/{id}/replay", Needs(Permission::DeliveryAdmin), "enforcement", "Send a dead or failed delivery again.", None, Some("DeliveryView"), 200, || post(enforcement::replay)),
    route!(POST "/api/v1/deliveries/callback", Public, "enforcement", "The platform confirms or fails a delivery; authenticated by its HMAC signature (x-warden-timestamp, x-warden-signature).", Some("CallbackBody"), Some("DeliveryView"), 200, || post(enforcement::callback)),
    route!(GET "/api/v1/taxonomy", Needs(Permission::CaseRead), "enforcement", "The taxonomy version in force: categories, reason codes, DSA mapping, strikes and enforcement matrix.", None, Some("TaxonomyVersionView"), 200, || get(enforcement::taxonomy)),
    route!(GET "/api/v1/taxonomy/versions", Needs(Permission::CaseRead), "enforcement", "Taxonomy versions, newest first.", None, Some("TaxonomyVersionView"), 200, || get(enforcement::taxonomy_versions)),
    route!(GET "/api/v1/taxonomy/versions/{id}", Needs(Permission::CaseRead), "enforcement", "One taxonomy version.", None, Some("TaxonomyVersionView"), 200, || get(enforcement::taxonomy_version)),
    route!(POST "/api/v1/taxonomy/versions", Needs(Permission::PolicyWrite), "enforcement", "Publish a new taxonomy version; decisions made before keep theirs.", Some("TaxonomyBody"), Some("TaxonomyVersionView"), 201, || post(enforcement::publish_taxonomy)),
    route!(GET "/api/v1/notice-templates", Needs(Permission::CaseRead), "enforcement", "Notice templates.", None, Some("NoticeTemplateView"), 200, || get(enforcement::notice_templates)),
    route!(POST "/api/v1/notice-templates", Needs(Permission::PolicyWrite), "enforcement", "Save a notice template (per action type, category and language).", Some("NoticeTemplateBody"), Some("NoticeTemplateView"), 201, || post(enforcement::save_notice_template)),
    route!(POST "/api/v1/notice-templates/preview", Needs(Permission::PolicyWrite), "enforcement", "Render a template with sample values; shows what it may leave unfilled.", Some("NoticeTemplateBody"), Some("NoticePreviewView"), 200, || post(enforcement::preview_notice_template)),
    route!(DELETE "/api/v1/notice-templates/{id}", Needs(Permission::PolicyWrite), "enforcement", "Delete a notice template.", None, None, 204, || delete(enforcement::delete_notice_template)),
    route!(GET "/api/v1/notices", Needs(Permission::CaseRead), "enforcement", "Notices, newest first (?decision_id=).", None, Some("NoticeView"), 200, || get(enforcement::notices)),
    route!(GET "/api/v1/dsa/statements", Needs(Permission::TransparencyRead), "transparency", "DSA statements of reasons (?since=&until=), in the Transparency Database format (the read is audited).", None, Some("DsaStatementView"), 200, || get(enforcement::dsa_statements)),
    route!(POST "/api/v1/dsa/validate", Needs(Permission::TransparencyRead), "transparency", "Check a statement of reasons against the Transparency Database's rules.", Some("DsaValidateBody"), Some("DsaValidationView"), 200, || post(enforcement::dsa_validate)),
    route!(GET "/api/v1/transparency", Needs(Permission::TransparencyRead), "transparency", "Transparency-report aggregates of [from, to).", None, Some("TransparencyView"), 200, || get(enforcement::transparency)),
    route!(GET "/api/v1/audit", Needs(Permission::AuditRead), "audit", "Read the audit log in order.", None, Some("AuditView"), 200, || get(accounts::audit_log)),
    // The analyst console (`console/`): pages and forms, not in the API document.
    console!(GET "/", Public, "The console's front door.", || get(console::front_door)),
    console!(GET "/console/static/console.css", Public, "Console stylesheet.", || get(console::assets::stylesheet)),
    console!(GET "/console/static/console.js", Public, "Console script (progressive enhancement).", || get(console::assets::script)),
    console!(GET "/console/static/favicon.svg", Public, "Console icon.", || get(console::assets::icon)),
    console!(GET "/console/sign-in", Public, "Sign-in page.", || get(console::session::page)),
    console!(POST "/console/sign-in", Public, "Sign in (form).", || post(console::session::sign_in)),
    console!(POST "/console/sign-out", SignedIn, "Sign out (form).", || post(console::session::sign_out)),
    console!(GET "/console", SignedIn, "Home: my queues, cases at risk, my work today.", || get(console::home::page)),
    console!(GET "/console/preferences", SignedIn, "Viewing preferences: media blur, greyscale, autoplay, theme.", || get(console::preferences::page)),
    console!(POST "/console/preferences", SignedIn, "Save viewing preferences (form).", || post(console::preferences::save)),
    console!(GET "/console/queues/{queue}", Needs(Permission::CaseRead), "A queue's cases with filters and counts.", || get(console::queue::page)),
    console!(POST "/console/queues/{queue}/start", Needs(Permission::CaseWork), "Start reviewing: resume or claim the next case.", || post(console::queue::start)),
    console!(GET "/console/cases/{id}", Needs(Permission::CaseRead), "Case review page (the read is audited).", || get(console::case::page)),
    console!(GET "/console/cases/{id}/media/{index}", Needs(Permission::CaseRead), "A same-origin stand-in for a subject's media item.", || get(console::case::media)),
    console!(POST "/console/cases/{id}/decision", Needs(Permission::CaseWork), "Decide (form); optionally go to the next case.", || post(console::case::decide)),
    console!(POST "/console/cases/{id}/notes", Needs(Permission::CaseWork), "Add a structured note (form).", || post(console::case::add_note)),
    console!(POST "/console/cases/{id}/renew", Needs(Permission::CaseWork), "Renew the lease (form).", || post(console::case::renew)),
    console!(POST "/console/cases/{id}/release", Needs(Permission::CaseWork), "Release the case to its queue (form).", || post(console::case::release)),
    console!(POST "/console/cases/{id}/hold", Needs(Permission::CaseWork), "Hold the case past its lease, with a reason (form).", || post(console::case::hold)),
    console!(POST "/console/cases/{id}/escalate", Needs(Permission::CaseWork), "Escalate the case (form).", || post(console::case::escalate)),
    console!(POST "/console/cases/{id}/reveal", Needs(Permission::PiiReveal), "Show the case with personal data, with a reason (audited).", || post(console::case::reveal)),
    console!(POST "/console/cases/{id}/assign", Needs(Permission::CaseAssign), "Reassign the case (lead, form).", || post(console::case::assign)),
    console!(GET "/console/lead", Needs(Permission::CaseAssign), "Team overview: backlog, oldest case, breaches, who holds what.", || get(console::lead::page)),
    console!(GET "/console/admin/users", Needs(Permission::UserAdmin), "Users and roles.", || get(console::admin::users)),
    console!(POST "/console/admin/users", Needs(Permission::UserAdmin), "Create a user (form).", || post(console::admin::create_user)),
    console!(POST "/console/admin/users/{name}/disable", Needs(Permission::UserAdmin), "Disable a user (form).", || post(console::admin::disable_user)),
    console!(POST "/console/admin/users/{name}/enable", Needs(Permission::UserAdmin), "Enable a user (form).", || post(console::admin::enable_user)),
    console!(POST "/console/admin/users/{name}/teams", Needs(Permission::UserAdmin), "Set a user's teams (form).", || post(console::admin::set_teams)),
    console!(GET "/console/admin/tokens", Needs(Permission::TokenAdmin), "API tokens.", || get(console::admin::tokens)),
    console!(POST "/console/admin/tokens", Needs(Permission::TokenAdmin), "Create an API token, shown once (form).", || post(console::admin::create_token)),
    console!(POST "/console/admin/tokens/{id}/revoke", Needs(Permission::TokenAdmin), "Revoke an API token (form).", || post(console::admin::revoke_token)),
    console!(GET "/console/approvals", Needs(Permission::ActionApprove), "Actions waiting for a lead's approval.", || get(console::enforcement::approvals)),
    console!(POST "/console/approvals/{id}/approve", Needs(Permission::ActionApprove), "Approve a waiting action, with a reason (form).", || post(console::enforcement::approve)),
    console!(POST "/console/approvals/{id}/reject", Needs(Permission::ActionApprove), "Reject a waiting action, with a reason (form).", || post(console::enforcement::reject)),
    console!(GET "/console/admin/deliveries", Needs(Permission::DeliveryAdmin), "Dead letters of the outbox.", || get(console::enforcement::deliveries)),
    console!(POST "/console/admin/deliveries/{id}/replay", Needs(Permission::DeliveryAdmin), "Send a dead or failed delivery again (form).", || post(console::enforcement::replay)),
    console!(GET "/console/admin/queues", Needs(Permission::MetricsRead), "Queues, routing and SLA targets.", || get(console::admin::queues)),
];

/// The route a request matched, from the table.
fn route_spec(method: &Method, path: &str) -> Option<&'static RouteSpec> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// Builds the application: routes from the table, the permission check on
/// every one, and the protective layers around all.
pub fn router(state: AppState) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for spec in ROUTES {
        let handler = (spec.handler)();
        match by_path.iter_mut().find(|(path, _)| *path == spec.path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => by_path.push((spec.path, handler)),
        }
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    let settings = state.settings.clone();
    router
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(settings.body_bytes_max))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http())
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(HandleErrorLayer::new(overloaded))
                .layer(tower::load_shed::LoadShedLayer::new())
                .layer(tower::limit::ConcurrencyLimitLayer::new(
                    settings.concurrency_max,
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    settings.request_timeout,
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                )),
        )
        .with_state(state)
}

/// Answers requests refused because the server is at its concurrency
/// limit: refusing at once beats queueing without bound.
async fn overloaded(_: tower::BoxError) -> AppError {
    AppError::Unavailable("Warden is at its concurrency limit; retry shortly".into())
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    AppError::Internal("handler panicked".into()).into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if console::is_console_path(uri.path()) {
        return console::not_found_page();
    }
    AppError::NotFound("no such route; the API is described at /api/openapi.json".into())
        .into_response()
}

/// Authenticates the caller and checks the route's permission.
async fn authorize(
    State(state): State<AppState>,
    matched: MatchedPath,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(spec) = route_spec(request.method(), matched.as_str()) else {
        return AppError::Forbidden(
            "this route declares no permission, so nobody may call it".into(),
        )
        .into_response();
    };
    if spec.surface == Surface::Console {
        return console::guard::authorize(state, spec, request, next).await;
    }
    if spec.access == Access::Public {
        return next.run(request).await;
    }
    let caller = match authenticate(&state, request.headers()).await {
        Ok(Some(caller)) => caller,
        Ok(None) => {
            return AppError::Unauthenticated(
                "send `Authorization: Bearer <token>` or sign in at POST /api/v1/session".into(),
            )
            .into_response()
        }
        Err(error) => return error.into_response(),
    };
    if let Access::Needs(permission) = spec.access {
        if !caller.principal.may(permission) {
            let why = if caller.principal.role.grants(permission) {
                format!("this token's scope does not include {permission}")
            } else {
                format!(
                    "the {} role does not have {permission}",
                    caller.principal.role
                )
            };
            return AppError::Forbidden(format!("{why}; ask an admin if you need it"))
                .into_response();
        }
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        if let Err(error) = check_csrf(&caller, request.headers()) {
            return error.into_response();
        }
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Counts requests and their latency per route.
async fn observe(State(state): State<AppState>, request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state.metrics.observe_request(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
