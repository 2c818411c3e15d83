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
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use warden_domain::access::Permission;
use warden_domain::{FieldError, FieldErrors};

use crate::auth::{authenticate, check_csrf};
use crate::console;
use crate::console::view::{error_page, ConsoleError};
use crate::error::{allow_list, AppError, Problem, PROBLEM_JSON};
use crate::handlers::ops::ReadinessView;
use crate::handlers::{
    accounts, actions, appeals, approvals, calibration, cases, decisions, deliveries, escalations,
    incidents, intake, kpis, notices, ops, quality, rules, statements, subjects, taxonomy,
    transparency,
};
use crate::openapi::{
    answers_of, body, either, empty, object, object_or_text, ok, optional_body, text, Answer,
    RequestBody,
};
use crate::quality_wire::{
    CalibrationSessionView, QaPlanBody, QaReviewBody, QaWorkView, RatingBody, ResolutionBody,
    SessionBody,
};
use crate::wire::appeals::{AppealAnswer, AppealBody, DecisionAnswer, DecisionBody};
use crate::wire::escalations::{EscalationWire, EvidenceBody, EvidenceWire};
use crate::wire::incidents::{
    BulkActionBody, BulkActionView, IncidentBody, IncidentCasesBody, IncidentView,
};
use crate::wire::{
    AssignBody, BatchAnswer, CaseView, EscalateBody, EventBody, IntakeAnswer, NewTokenBody,
    NewUserBody, NoteView, RationaleBody, ReasonBody, ReportBody, SessionView, SignInBody,
    SignalBody, SubjectBody, TeamsBody, TokenView, UserView, VersionBody,
};
use crate::wire::{
    CallbackBody, DsaValidateBody, NoticeTemplateBody, NoticeTemplateView, RulingBody,
    TaxonomyBody, TaxonomyVersionView,
};
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
    /// The request body, if it takes one.
    pub request: Option<RequestBody>,
    /// The success answers, read from the handler's return type where it
    /// says them (`Json<T>`), else stated with the wire types in the table.
    pub answers: fn() -> Vec<Answer>,
    /// Refusals this route gives beyond those its shape implies
    /// (see [`RouteSpec::refusals`]).
    pub also_refuses: &'static [u16],
    /// The handler.
    pub handler: fn() -> MethodRouter<AppState>,
    /// API or console.
    pub surface: Surface,
}

impl RouteSpec {
    /// The names of the path's parameters, in order.
    pub fn parameters(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
    }

    /// The error statuses this route can answer, each as problem+json:
    /// - 400 for a path parameter that does not decode, a body that is
    ///   not JSON or names a key twice;
    /// - 401 and 403 unless it is public; 404 for what its path names;
    /// - 409 for a change that conflicts with the current state;
    /// - 413, 415 and 422 for a body; 422 for query parameters (API reads);
    /// - 500 and 503 (a failure, the time or concurrency limit) anywhere;
    /// - and those in [`also_refuses`](Self::also_refuses).
    pub fn refusals(&self) -> Vec<u16> {
        let has_parameters = self.parameters().next().is_some();
        let has_body = self.request.is_some();
        let reads_api = self.method == Method::GET && self.path.starts_with("/api/v1/");
        let mut statuses = Vec::new();
        let mut add = |status: u16, when: bool| {
            if when && !statuses.contains(&status) {
                statuses.push(status);
            }
        };
        add(400, has_parameters || has_body);
        add(401, self.access != Access::Public);
        add(403, self.access != Access::Public);
        add(404, has_parameters);
        add(
            409,
            self.method != Method::GET && self.access != Access::Public,
        );
        add(413, has_body);
        add(415, has_body);
        add(422, has_body || reads_api);
        add(500, true);
        add(503, true);
        for status in self.also_refuses {
            add(*status, true);
        }
        statuses.sort_unstable();
        statuses
    }
}

use Access::{Needs, Public, SignedIn};

macro_rules! route {
    // The answers are the handler's return type's (`Json<T>`).
    ($method:ident $path:literal, $access:expr, $tag:literal, $summary:literal, $request:expr, returns, || $verb:ident($handler:path) $(, also [$($also:literal),*])?) => {
        route!(@spec $method $path, $access, $tag, $summary, $request, || answers_of($handler), [$($($also),*)?], $verb($handler))
    };
    // The handler builds its answers: the table states them.
    ($method:ident $path:literal, $access:expr, $tag:literal, $summary:literal, $request:expr, [$($answer:expr),+ $(,)?], || $verb:ident($handler:path) $(, also [$($also:literal),*])?) => {
        route!(@spec $method $path, $access, $tag, $summary, $request, || vec![$($answer),+], [$($($also),*)?], $verb($handler))
    };
    (@spec $method:ident $path:literal, $access:expr, $tag:literal, $summary:literal, $request:expr, $answers:expr, [$($also:literal),*], $verb:ident($handler:path)) => {
        RouteSpec {
            method: Method::$method,
            path: $path,
            access: $access,
            summary: $summary,
            tag: $tag,
            request: $request,
            answers: $answers,
            also_refuses: &[$($also),*],
            handler: || $verb($handler),
            surface: Surface::Api,
        }
    };
}

/// A console route: an HTML page or form (tag `console`, no schemas).
macro_rules! console {
    ($method:ident $path:literal, $access:expr, $summary:literal, || $verb:ident($handler:path)) => {
        RouteSpec {
            method: Method::$method,
            path: $path,
            access: $access,
            summary: $summary,
            tag: "console",
            request: None,
            answers: Vec::new,
            also_refuses: &[],
            handler: || $verb($handler),
            surface: Surface::Console,
        }
    };
}

/// Every route Warden serves.
pub static ROUTES: &[RouteSpec] = &[
    route!(GET "/healthz", Public, "operations", "Liveness: the process answers.", None, returns, || get(ops::healthz)),
    route!(GET "/readyz", Public, "operations", "Readiness: the database answers.", None, [ok::<ReadinessView>(200)], || get(ops::readyz)),
    route!(GET "/metrics", Needs(Permission::MetricsRead), "operations", "Prometheus metrics.", None, [text(200, &["text/plain", "application/openmetrics-text"])], || get(ops::metrics)),
    route!(GET "/api/openapi.json", Public, "operations", "This document.", None, [object(200)], || get(ops::openapi)),
    route!(POST "/api/v1/subjects", Needs(Permission::IntakeWrite), "intake", "Create or update a subject (JSON) or many (NDJSON).", body::<SubjectBody>(), [ok::<IntakeAnswer>(201), either::<IntakeAnswer, BatchAnswer>(200)], || post(intake::subjects)),
    route!(POST "/api/v1/events", Needs(Permission::IntakeWrite), "intake", "Record an event (JSON) or many (NDJSON).", body::<EventBody>(), [ok::<IntakeAnswer>(201), either::<IntakeAnswer, BatchAnswer>(200)], || post(intake::events)),
    route!(POST "/api/v1/reports", Needs(Permission::IntakeWrite), "intake", "Record a report (JSON) or many (NDJSON); opens or joins a case.", body::<ReportBody>(), [ok::<IntakeAnswer>(201), either::<IntakeAnswer, BatchAnswer>(200)], || post(intake::reports)),
    route!(POST "/api/v1/signals", Needs(Permission::IntakeWrite), "intake", "Record a machine signal (JSON) or many (NDJSON); opens or joins a case.", body::<SignalBody>(), [ok::<IntakeAnswer>(201), either::<IntakeAnswer, BatchAnswer>(200)], || post(intake::signals)),
    route!(POST "/api/v1/appeals", Needs(Permission::IntakeWrite), "appeals", "Appeal a decision or one of its actions (DSA Art. 20), as JSON or a batch as NDJSON; opens an appeal case or joins the open appeal of the decision.", body::<AppealBody>(), [ok::<AppealAnswer>(201), either::<AppealAnswer, BatchAnswer>(200)], || post(appeals::submit)),
    route!(GET "/api/v1/appeals", Needs(Permission::CaseRead), "appeals", "Appeals with their outcome and times (?status=open|decided&since=).", None, returns, || get(appeals::list)),
    route!(GET "/api/v1/queues", Needs(Permission::CaseRead), "cases", "Queues with depth, oldest case and SLA breaches.", None, returns, || get(cases::queues)),
    route!(POST "/api/v1/queues/{queue}/claim", Needs(Permission::CaseWork), "cases", "Claim the next case in a queue, with a lease; 204 when empty.", None, [ok::<CaseView>(200), empty(204)], || post(cases::claim)),
    route!(GET "/api/v1/cases", Needs(Permission::CaseRead), "cases", "List cases by queue, status, assignee or subject.", None, returns, || get(cases::list)),
    route!(GET "/api/v1/cases/{id}", Needs(Permission::CaseRead), "cases", "One case with everything attached (the read is audited).", None, returns, || get(cases::show)),
    route!(POST "/api/v1/cases/{id}/decision", Needs(Permission::CaseWork), "cases", "Decide a case you hold; on a resolved case a lead's correction.", body::<DecisionBody>(), [ok::<DecisionAnswer>(201)], || post(cases::decide)),
    route!(POST "/api/v1/cases/{id}/release", Needs(Permission::CaseWork), "cases", "Give a case back to its queue (leads: any case).", optional_body::<VersionBody>(), returns, || post(cases::release)),
    route!(POST "/api/v1/cases/{id}/hold", Needs(Permission::CaseWork), "cases", "Keep a case you hold past its lease, with a reason.", body::<ReasonBody>(), returns, || post(cases::hold)),
    route!(POST "/api/v1/cases/{id}/renew", Needs(Permission::CaseWork), "cases", "Renew the lease on a case you hold.", optional_body::<VersionBody>(), returns, || post(cases::renew)),
    route!(POST "/api/v1/cases/{id}/escalate", Needs(Permission::CaseWork), "cases", "Escalate a case you hold: to a specialist team at a severity (the package is checked, 422 naming missing parts; Sev-1 pages), or to a queue.", body::<EscalateBody>(), returns, || post(cases::escalate)),
    // Escalations and evidence (handlers/escalations.rs).
    route!(GET "/api/v1/cases/{id}/package", Needs(Permission::CaseRead), "escalations", "The escalation package of the case's latest escalation (?format=json|markdown), evidence hashed again; 422 naming a part now missing.", None, [object_or_text(200, &["text/markdown"])], || get(escalations::package)),
    route!(POST "/api/v1/cases/{id}/acknowledge", Needs(Permission::CaseWork), "escalations", "A member of the team takes the case's escalation; pages not yet sent are cancelled.", None, [ok::<EscalationWire>(200)], || post(escalations::acknowledge)),
    route!(POST "/api/v1/cases/{id}/evidence", Needs(Permission::CaseWork), "escalations", "Attach evidence: JSON for a text excerpt or URL, a raw body (its content type kept) with ?file_name=&caption= for a file up to [evidence] file_bytes_max.", body::<EvidenceBody>(), [ok::<EvidenceWire>(201)], || post(escalations::attach)),
    route!(GET "/api/v1/cases/{id}/evidence", Needs(Permission::CaseRead), "escalations", "A case's evidence, each item's SHA-256 checked on this read.", None, returns, || get(escalations::list)),
    route!(GET "/api/v1/cases/{id}/evidence/{eid}", Needs(Permission::CaseRead), "escalations", "One evidence item, its SHA-256 checked on this read (the read is audited).", None, [ok::<EvidenceWire>(200)], || get(escalations::show)),
    route!(GET "/api/v1/cases/{id}/evidence/{eid}/content", Needs(Permission::CaseRead), "escalations", "An evidence item's bytes as an attachment, only while they match their SHA-256 (409 otherwise; the read is audited).", None, [text(200, &["application/octet-stream"])], || get(escalations::content), also [409]),
    route!(POST "/api/v1/cases/{id}/wait", Needs(Permission::CaseWork), "cases", "Park a case you hold while waiting for information.", body::<ReasonBody>(), returns, || post(cases::wait)),
    route!(POST "/api/v1/cases/{id}/resume", Needs(Permission::CaseWork), "cases", "Put a waiting case back in review.", optional_body::<VersionBody>(), returns, || post(cases::resume)),
    route!(POST "/api/v1/cases/{id}/reopen", Needs(Permission::CaseCorrect), "cases", "Reopen a resolved case.", body::<ReasonBody>(), returns, || post(cases::reopen)),
    route!(POST "/api/v1/cases/{id}/assign", Needs(Permission::CaseAssign), "cases", "Hand a case to another user.", body::<AssignBody>(), returns, || post(cases::assign)),
    route!(POST "/api/v1/cases/{id}/notes", Needs(Permission::CaseWork), "cases", "Add a structured note to a case.", body::<RationaleBody>(), [ok::<NoteView>(201)], || post(cases::add_note)),
    route!(GET "/api/v1/subjects/{kind}/{id}/history", Needs(Permission::SubjectRead), "subjects", "Reports, cases, decisions, actions, strikes and events of a subject (the read is audited).", None, returns, || get(subjects::history)),
    route!(POST "/api/v1/session", Public, "access", "Sign in; sets the session cookie and returns the CSRF token.", body::<SignInBody>(), [ok::<SessionView>(200)], || post(accounts::sign_in), also [401, 429]),
    route!(DELETE "/api/v1/session", SignedIn, "access", "Sign out.", None, [empty(204)], || delete(accounts::sign_out)),
    route!(GET "/api/v1/me", SignedIn, "access", "Who you are and what you may do.", None, returns, || get(accounts::me)),
    route!(GET "/api/v1/users", Needs(Permission::UserAdmin), "access", "List users.", None, returns, || get(accounts::list_users)),
    route!(POST "/api/v1/users", Needs(Permission::UserAdmin), "access", "Create a user.", body::<NewUserBody>(), [ok::<UserView>(201)], || post(accounts::create_user)),
    route!(POST "/api/v1/users/{name}/disable", Needs(Permission::UserAdmin), "access", "Disable a user: ends their sessions and leases.", None, returns, || post(accounts::disable_user)),
    route!(POST "/api/v1/users/{name}/enable", Needs(Permission::UserAdmin), "access", "Enable a user again.", None, returns, || post(accounts::enable_user)),
    route!(POST "/api/v1/users/{name}/teams", Needs(Permission::UserAdmin), "access", "Set a user's teams (restricted queues admit by team).", body::<TeamsBody>(), returns, || post(accounts::set_user_teams)),
    route!(GET "/api/v1/tokens", Needs(Permission::TokenAdmin), "access", "List API tokens (never their secrets).", None, returns, || get(accounts::list_tokens)),
    // Anyone mints tokens for themselves; token.admin mints ingest tokens for others (checked in the handler).
    route!(POST "/api/v1/tokens", SignedIn, "access", "Create an API token for yourself (any scope within your role), or as an admin an ingest token for another user; the secret is shown once.", body::<NewTokenBody>(), [ok::<TokenView>(201)], || post(accounts::create_token)),
    route!(DELETE "/api/v1/tokens/{id}", Needs(Permission::TokenAdmin), "access", "Revoke an API token.", None, returns, || delete(accounts::revoke_token)),
    route!(GET "/api/v1/rules", Needs(Permission::CaseRead), "detection", "Detection rules running, with versions, modes, hits in the last 7 days and load errors.", None, returns, || get(rules::list)),
    // Enforcement (handlers/{decisions, approvals, actions, deliveries, taxonomy, notices, statements, transparency}.rs).
    route!(GET "/api/v1/cases/{id}/recommendation", Needs(Permission::CaseRead), "enforcement", "What the enforcement matrix recommends for a case now (?category= for another category).", None, returns, || get(decisions::recommendation)),
    route!(GET "/api/v1/approvals", Needs(Permission::ActionApprove), "enforcement", "Actions waiting for a lead's approval, oldest first.", None, returns, || get(approvals::approvals)),
    route!(GET "/api/v1/actions/{id}", Needs(Permission::CaseRead), "enforcement", "One action with its approval, reversal and deliveries.", None, returns, || get(actions::action)),
    route!(POST "/api/v1/actions/{id}/approve", Needs(Permission::ActionApprove), "enforcement", "Approve an action that waits; it is delivered. Not your own.", body::<RulingBody>(), returns, || post(approvals::approve)),
    route!(POST "/api/v1/actions/{id}/reject", Needs(Permission::ActionApprove), "enforcement", "Reject an action that waits; it is never delivered. Not your own.", body::<RulingBody>(), returns, || post(approvals::reject)),
    route!(POST "/api/v1/actions/{id}/reverse", Needs(Permission::ActionReverse), "enforcement", "Reverse an action: the platform is told to undo it.", body::<RulingBody>(), returns, || post(actions::reverse_action)),
    route!(POST "/api/v1/decisions/{id}/reverse", Needs(Permission::ActionReverse), "enforcement", "Reverse a decision: all its actions, and its strikes are removed.", body::<RulingBody>(), returns, || post(decisions::reverse_decision)),
    route!(GET "/api/v1/deliveries", Needs(Permission::DeliveryAdmin), "enforcement", "The outbox; by default its dead letters (?status=dead,failed|all).", None, returns, || get(deliveries::deliveries)),
    route!(POST "/api/v1/deliveries/{id}/replay", Needs(Permission::DeliveryAdmin), "enforcement", "Send a dead or failed delivery again.", None, returns, || post(deliveries::replay)),
    route!(POST "/api/v1/deliveries/callback", Public, "enforcement", "The platform confirms or fails a delivery; authenticated by its HMAC signature (x-warden-timestamp, x-warden-signature).", body::<CallbackBody>(), returns, || post(deliveries::callback), also [401, 404, 409]),
    route!(GET "/api/v1/taxonomy", Needs(Permission::CaseRead), "enforcement", "The taxonomy version in force: categories, reason codes, DSA mapping, strikes and enforcement matrix.", None, returns, || get(taxonomy::taxonomy)),
    route!(GET "/api/v1/taxonomy/versions", Needs(Permission::CaseRead), "enforcement", "Taxonomy versions, newest first.", None, returns, || get(taxonomy::taxonomy_versions)),
    route!(GET "/api/v1/taxonomy/versions/{id}", Needs(Permission::CaseRead), "enforcement", "One taxonomy version.", None, returns, || get(taxonomy::taxonomy_version)),
    route!(POST "/api/v1/taxonomy/versions", Needs(Permission::PolicyWrite), "enforcement", "Publish a new taxonomy version; decisions made before keep theirs.", body::<TaxonomyBody>(), [ok::<TaxonomyVersionView>(201)], || post(taxonomy::publish_taxonomy)),
    route!(GET "/api/v1/notice-templates", Needs(Permission::CaseRead), "enforcement", "Notice templates.", None, returns, || get(notices::notice_templates)),
    route!(POST "/api/v1/notice-templates", Needs(Permission::PolicyWrite), "enforcement", "Save a notice template (per action type, category and language).", body::<NoticeTemplateBody>(), [ok::<NoticeTemplateView>(201)], || post(notices::save_notice_template)),
    route!(POST "/api/v1/notice-templates/preview", Needs(Permission::PolicyWrite), "enforcement", "Render a template with sample values; shows what it may leave unfilled.", body::<NoticeTemplateBody>(), returns, || post(notices::preview_notice_template)),
    route!(DELETE "/api/v1/notice-templates/{id}", Needs(Permission::PolicyWrite), "enforcement", "Delete a notice template.", None, [empty(204)], || delete(notices::delete_notice_template)),
    route!(GET "/api/v1/notices", Needs(Permission::CaseRead), "enforcement", "Notices, newest first (?decision_id=).", None, returns, || get(notices::notices), also [404]),
    route!(GET "/api/v1/dsa/statements", Needs(Permission::TransparencyRead), "transparency", "DSA statements of reasons (?since=&until=), in the Transparency Database format (the read is audited).", None, returns, || get(statements::dsa_statements)),
    route!(POST "/api/v1/dsa/validate", Needs(Permission::TransparencyRead), "transparency", "Check a statement of reasons against the Transparency Database's rules.", body::<DsaValidateBody>(), returns, || post(statements::dsa_validate)),
    route!(GET "/api/v1/transparency", Needs(Permission::TransparencyRead), "transparency", "Transparency-report aggregates of [from, to).", None, returns, || get(transparency::transparency)),
    route!(GET "/api/v1/kpis", Needs(Permission::MetricsRead), "metrics", "Every KPI of specs/kpis.md over [from, to) (?from=&to=&queue=&category=&reviewer=&team=&by=day|week|reviewer|queue|category|rule).", None, returns, || get(kpis::kpis)),
    route!(GET "/api/v1/audit", Needs(Permission::AuditRead), "audit", "Read the audit log in order.", None, returns, || get(accounts::audit_log)),
    // Incidents and bulk actions (`specs/appeals-qa-api.md`; handlers/incidents.rs).
    route!(POST "/api/v1/incidents", Needs(Permission::CaseAssign), "incidents", "Open an incident (a surge): title, severity sev1-sev4, description; you own it.", body::<IncidentBody>(), [ok::<IncidentView>(201)], || post(incidents::create)),
    route!(GET "/api/v1/incidents", Needs(Permission::CaseRead), "incidents", "Incidents, newest first (?limit=&offset=).", None, returns, || get(incidents::list)),
    route!(GET "/api/v1/incidents/{id}", Needs(Permission::CaseRead), "incidents", "An incident: impact counts, timeline, the cases you may see, its bulk actions.", None, returns, || get(incidents::show)),
    route!(POST "/api/v1/incidents/{id}/cases", Needs(Permission::CaseAssign), "incidents", "Add cases by case_ids or by query (the filters of GET /api/v1/cases); up to 100,000 per incident.", body::<IncidentCasesBody>(), returns, || post(incidents::add_cases)),
    route!(POST "/api/v1/incidents/{id}/bulk-actions", Needs(Permission::CaseAssign), "incidents", "A bulk action over the incident's open cases, one decision per case: dry_run true plans it (201, with what it skips and why); the same body with dry_run false submits it for one lead's approval (200).", body::<BulkActionBody>(), [ok::<BulkActionView>(201), ok::<BulkActionView>(200)], || post(incidents::plan_bulk)),
    route!(GET "/api/v1/incidents/{id}/bulk-actions/{bulk}", Needs(Permission::CaseRead), "incidents", "A bulk action's progress: {planned, applied, skipped: [{case_id, reason}]}.", None, returns, || get(incidents::progress)),
    route!(POST "/api/v1/incidents/{id}/bulk-actions/{bulk}/approve", Needs(Permission::ActionApprove), "incidents", "The one lead approval of a submitted bulk action (not by its author); the bulk runner then applies it in batches, resumably.", None, returns, || post(incidents::approve)),
    // QA sampling and reviews, calibration (`specs/appeals-qa-api.md`).
    route!(POST "/api/v1/qa/plans", Needs(Permission::QaReview), "quality", "Save a sampling plan (replaces one of the same name).", body::<QaPlanBody>(), returns, || post(quality::save_plan)),
    route!(POST "/api/v1/qa/sample", Needs(Permission::QaReview), "quality", "Run one sampling pass over decisions not yet read (the server also runs it every [qa] sample_every_seconds).", None, returns, || post(quality::sample)),
    route!(GET "/api/v1/qa/plans", Needs(Permission::QaReview), "quality", "Sampling plans, by name.", None, returns, || get(quality::plans)),
    route!(POST "/api/v1/qa/claim", Needs(Permission::QaReview), "quality", "Claim the next sampled decision, blind (no decision, decider, actions or notes), with a lease; 204 when empty.", None, [ok::<QaWorkView>(200), empty(204)], || post(quality::claim)),
    route!(GET "/api/v1/qa/reviews", Needs(Permission::QaReview), "quality", "Reviews whose verdict is in, newest first (?reviewer=&since=).", None, returns, || get(quality::list)),
    route!(GET "/api/v1/qa/reviews/{id}", Needs(Permission::QaReview), "quality", "One sampled decision, blind until its verdict is in.", None, returns, || get(quality::show)),
    route!(POST "/api/v1/qa/reviews/{id}", Needs(Permission::QaReview), "quality", "Review a claimed decision: verdict, rubric, feedback; reveals the original and the agreement, and sends a wrong decision back for rework.", body::<QaReviewBody>(), returns, || post(quality::review)),
    route!(POST "/api/v1/qa/reviews/{id}/release", Needs(Permission::QaReview), "quality", "Give a claimed decision back to the QA queue.", None, returns, || post(quality::release)),
    route!(POST "/api/v1/qa/reviews/{id}/acknowledge", Needs(Permission::CaseRead), "quality", "The decider acknowledges QA's feedback on their decision.", None, returns, || post(quality::acknowledge)),
    route!(GET "/api/v1/qa/feedback", Needs(Permission::CaseRead), "quality", "QA feedback on your own decisions waiting for your acknowledgement.", None, returns, || get(quality::feedback)),
    route!(GET "/api/v1/qa/results", Needs(Permission::QaReview), "quality", "QA results per week by the decider, queue or category (?by=reviewer|queue|category&weeks=).", None, returns, || get(quality::results)),
    route!(GET "/api/v1/qa/results.csv", Needs(Permission::QaReview), "quality", "The QA results as CSV (the same query).", None, [text(200, &["text/csv"])], || get(quality::results_csv)),
    route!(POST "/api/v1/calibration/sessions", Needs(Permission::QaReview), "quality", "Create a calibration session (picked or sampled cases), open for ratings.", body::<SessionBody>(), [ok::<CalibrationSessionView>(201)], || post(calibration::create)),
    route!(GET "/api/v1/calibration/sessions", Needs(Permission::CaseRead), "quality", "Calibration sessions, newest first.", None, returns, || get(calibration::list)),
    route!(GET "/api/v1/calibration/sessions/{id}", Needs(Permission::CaseRead), "quality", "A calibration session: your own ratings until it closes, then every rating, the consensus and the agreement statistics.", None, returns, || get(calibration::show)),
    route!(POST "/api/v1/calibration/sessions/{id}/ratings", Needs(Permission::CaseRead), "quality", "A rater labels a case, blind to the others; a rating is final.", body::<RatingBody>(), [ok::<CalibrationSessionView>(201), ok::<CalibrationSessionView>(200)], || post(calibration::rate)),
    route!(POST "/api/v1/calibration/sessions/{id}/close", Needs(Permission::QaReview), "quality", "Close a session: the report (kappa, alpha, consensus, deviations, most disputed).", None, returns, || post(calibration::close)),
    route!(POST "/api/v1/calibration/sessions/{id}/resolution", Needs(Permission::QaReview), "quality", "Record the guidance a closed session settled, linked to taxonomy categories.", body::<ResolutionBody>(), returns, || post(calibration::resolve)),
    route!(GET "/api/v1/calibration/notes", Needs(Permission::CaseRead), "quality", "Calibration guidance for a category (?category=), newest first.", None, returns, || get(calibration::notes)),
    // The analyst console (`console/`): pages and forms, not in the API document.
    console!(GET "/", Public, "The console's front door.", || get(console::front_door)),
    console!(GET "/console/static/console.css", Public, "Console stylesheet.", || get(console::assets::stylesheet)),
    console!(GET "/console/static/console.js", Public, "Console script (progressive enhancement).", || get(console::assets::script)),
    console!(GET "/console/static/favicon.svg", Public, "Console icon.", || get(console::assets::icon)),
    console!(GET "/console/sign-in", Public, "Sign-in page.", || get(console::session::page)),
    console!(POST "/console/sign-in", Public, "Sign in (form).", || post(console::session::sign_in)),
    console!(POST "/console/sign-out", SignedIn, "Sign out (form).", || post(console::session::sign_out)),
    console!(GET "/console", SignedIn, "Home: my queues, cases at risk, my work today.", || get(console::home::page)),
    console!(GET "/console/dashboard", Needs(Permission::MetricsRead), "Team KPI dashboard: tiles with target bands, charts, backlog forecast.", || get(console::dashboard::team)),
    console!(GET "/console/dashboard/me", SignedIn, "My own KPI dashboard.", || get(console::dashboard::own)),
    console!(GET "/console/dashboard/queues/{queue}", Needs(Permission::MetricsRead), "One queue's KPI dashboard and backlog forecast.", || get(console::dashboard::queue)),
    console!(GET "/console/dashboard/export.csv", SignedIn, "A dashboard table as CSV (?table=kpis or a chart's id; your own unless metrics.read).", || get(console::dashboard::export)),
    console!(GET "/console/preferences", SignedIn, "Viewing preferences: media blur, greyscale, autoplay, theme.", || get(console::preferences::page)),
    console!(POST "/console/preferences", SignedIn, "Save viewing preferences (form).", || post(console::preferences::save)),
    console!(GET "/console/incidents", Needs(Permission::CaseRead), "Incidents, newest first.", || get(console::incidents::list)),
    console!(GET "/console/incidents/{id}", Needs(Permission::CaseRead), "An incident: impact, timeline, cases, bulk actions with progress.", || get(console::incidents::page)),
    console!(POST "/console/incidents/{id}/bulk-actions", Needs(Permission::CaseAssign), "A bulk action's dry run (form).", || post(console::incidents::dry_run)),
    console!(POST "/console/incidents/{id}/bulk-actions/{bulk}/submit", Needs(Permission::CaseAssign), "Submit a dry run for a lead's approval (form).", || post(console::incidents::submit)),
    console!(POST "/console/incidents/{id}/bulk-actions/{bulk}/approve", Needs(Permission::ActionApprove), "Approve a bulk action, not your own (form).", || post(console::incidents::approve)),
    console!(GET "/console/queues/{queue}", Needs(Permission::CaseRead), "A queue's cases with filters and counts.", || get(console::queue::page)),
    console!(POST "/console/queues/{queue}/start", Needs(Permission::CaseWork), "Start reviewing: resume or claim the next case.", || post(console::queue::start)),
    console!(GET "/console/cases/{id}", Needs(Permission::CaseRead), "Case review page (the read is audited).", || get(console::case::page)),
    console!(GET "/console/cases/{id}/media/{index}", Needs(Permission::CaseRead), "A same-origin stand-in for a subject's media item.", || get(console::case::media)),
    console!(POST "/console/cases/{id}/decision", Needs(Permission::CaseWork), "Decide (form); optionally go to the next case.", || post(console::case::decide)),
    console!(POST "/console/cases/{id}/appeal", Needs(Permission::CaseWork), "Decide an appeal case: upheld, overturned or modified (form).", || post(console::appeal::decide)),
    console!(POST "/console/cases/{id}/notes", Needs(Permission::CaseWork), "Add a structured note (form).", || post(console::case::add_note)),
    console!(POST "/console/cases/{id}/exposure", Needs(Permission::CaseRead), "Record media visible time (the case page's script; Page Visibility API).", || post(console::wellness::exposure)),
    console!(POST "/console/wellness/break", SignedIn, "Take the suggested wellness break (form).", || post(console::wellness::take_break)),
    console!(POST "/console/cases/{id}/renew", Needs(Permission::CaseWork), "Renew the lease (form).", || post(console::case::renew)),
    console!(POST "/console/cases/{id}/release", Needs(Permission::CaseWork), "Release the case to its queue (form).", || post(console::case::release)),
    console!(POST "/console/cases/{id}/hold", Needs(Permission::CaseWork), "Hold the case past its lease, with a reason (form).", || post(console::case::hold)),
    console!(POST "/console/cases/{id}/escalate", Needs(Permission::CaseWork), "Escalate the case (form).", || post(console::case::escalate)),
    console!(GET "/console/cases/{id}/escalation", Needs(Permission::CaseRead), "A case's evidence and escalation: attach, escalate to a team, acknowledge.", || get(console::escalation::page)),
    console!(POST "/console/cases/{id}/evidence", Needs(Permission::CaseWork), "Attach a text excerpt or URL (form).", || post(console::escalation::attach)),
    console!(POST "/console/cases/{id}/escalate-team", Needs(Permission::CaseWork), "Escalate to a specialist team at a severity (form).", || post(console::escalation::escalate)),
    console!(POST "/console/cases/{id}/acknowledge", Needs(Permission::CaseWork), "A team member takes the escalation (form).", || post(console::escalation::acknowledge)),
    console!(GET "/console/cases/{id}/package", Needs(Permission::CaseRead), "The escalation package, printable.", || get(console::escalation::package)),
    console!(POST "/console/cases/{id}/reveal", Needs(Permission::PiiReveal), "Show the case with personal data, with a reason (audited).", || post(console::case::reveal)),
    console!(POST "/console/cases/{id}/assign", Needs(Permission::CaseAssign), "Reassign the case (lead, form).", || post(console::case::assign)),
    console!(GET "/console/qa", Needs(Permission::QaReview), "QA: the QA queue, recent reviews, results over time, calibration sessions.", || get(console::quality::page)),
    console!(POST "/console/qa/claim", Needs(Permission::QaReview), "Claim the next sampled decision, blind (form).", || post(console::quality::claim)),
    console!(GET "/console/qa/reviews/{id}", Needs(Permission::QaReview), "The blind review of a sampled decision; the comparison and rubric after the verdict.", || get(console::quality::review)),
    console!(POST "/console/qa/reviews/{id}/verdict", Needs(Permission::QaReview), "Submit the blind verdict (form).", || post(console::quality::verdict)),
    console!(POST "/console/qa/reviews/{id}/score", Needs(Permission::QaReview), "Score the rubric (form).", || post(console::quality::score)),
    console!(POST "/console/qa/reviews/{id}/acknowledge", Needs(Permission::CaseRead), "The decider acknowledges QA feedback (form).", || post(console::quality::acknowledge)),
    console!(GET "/console/calibration/new", Needs(Permission::QaReview), "The form creating a calibration session: cases picked by id or sampled from a queue and category, raters ticked.", || get(console::calibration::new_session)),
    console!(POST "/console/calibration", Needs(Permission::QaReview), "Create and open a calibration session (form); errors shown per field.", || post(console::calibration::create)),
    console!(GET "/console/calibration/{id}", Needs(Permission::CaseRead), "A calibration session: rate blind, close, the report and the resolution note.", || get(console::calibration::page)),
    console!(POST "/console/calibration/{id}/ratings", Needs(Permission::CaseRead), "Rate a case (form).", || post(console::calibration::rate)),
    console!(POST "/console/calibration/{id}/close", Needs(Permission::QaReview), "Close the session (form).", || post(console::calibration::close)),
    console!(POST "/console/calibration/{id}/resolution", Needs(Permission::QaReview), "Record the resolution note (form).", || post(console::calibration::resolve)),
    console!(GET "/console/lead", Needs(Permission::CaseAssign), "Team overview: backlog, oldest case, breaches, who holds what.", || get(console::lead::page)),
    console!(GET "/console/admin/users", Needs(Permission::UserAdmin), "Users and roles.", || get(console::admin::users)),
    console!(POST "/console/admin/users", Needs(Permission::UserAdmin), "Create a user (form).", || post(console::admin::create_user)),
    console!(POST "/console/admin/users/{name}/disable", Needs(Permission::UserAdmin), "Disable a user (form).", || post(console::admin::disable_user)),
    console!(POST "/console/admin/users/{name}/enable", Needs(Permission::UserAdmin), "Enable a user (form).", || post(console::admin::enable_user)),
    console!(POST "/console/admin/users/{name}/teams", Needs(Permission::UserAdmin), "Set a user's teams (form).", || post(console::admin::set_teams)),
    console!(GET "/console/admin/tokens", Needs(Permission::TokenAdmin), "API tokens.", || get(console::admin::tokens)),
    console!(POST "/console/admin/tokens", Needs(Permission::TokenAdmin), "Create an API token, shown once (form).", || post(console::admin::create_token)),
    console!(POST "/console/admin/tokens/{id}/revoke", Needs(Permission::TokenAdmin), "Revoke an API token (form).", || post(console::admin::revoke_token)),
    console!(GET "/console/approvals", Needs(Permission::ActionApprove), "Actions waiting for a lead's approval.", || get(console::approvals::approvals)),
    console!(POST "/console/approvals/{id}/approve", Needs(Permission::ActionApprove), "Approve a waiting action, with a reason (form).", || post(console::approvals::approve)),
    console!(POST "/console/approvals/{id}/reject", Needs(Permission::ActionApprove), "Reject a waiting action, with a reason (form).", || post(console::approvals::reject)),
    console!(GET "/console/admin/deliveries", Needs(Permission::DeliveryAdmin), "Dead letters of the outbox.", || get(console::deliveries::deliveries)),
    console!(POST "/console/admin/deliveries/{id}/replay", Needs(Permission::DeliveryAdmin), "Send a dead or failed delivery again (form).", || post(console::deliveries::replay)),
    console!(GET "/console/admin/queues", Needs(Permission::MetricsRead), "Queues, routing and SLA targets.", || get(console::admin::queues)),
];

/// The route a request matched, from the table. A `HEAD` is its path's
/// `GET` without the body, under the same permission (load balancers
/// check `/healthz` and `/readyz` that way).
fn route_spec(method: &Method, path: &str) -> Option<&'static RouteSpec> {
    let method = if *method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

/// The methods the table has for `path`, with `HEAD` wherever `GET` is,
/// in the order of the table: what a `405`'s `Allow` header lists.
pub fn allowed_methods(path: &str) -> Vec<Method> {
    let mut methods: Vec<Method> = Vec::new();
    for route in ROUTES.iter().filter(|r| r.path == path) {
        let with_head: &[Method] = if route.method == Method::GET {
            &[Method::GET, Method::HEAD]
        } else {
            std::slice::from_ref(&route.method)
        };
        for method in with_head {
            if !methods.contains(method) {
                methods.push(method.clone());
            }
        }
    }
    methods
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
    protect(
        router.route_layer(middleware::from_fn_with_state(state.clone(), authorize)),
        state,
    )
}

/// The layers around the routes. Per route: metrics and the body limit.
/// Around the whole application, once (so that the limits count every
/// request together and the last word on an answer is theirs): request ids
/// and tracing, security headers, error bodies, panic catching, load
/// shedding, the concurrency and time limits.
fn protect(routes: Router<AppState>, state: AppState) -> Router {
    let settings = state.settings.clone();
    let timeout = settings.request_timeout;
    let application = routes
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(DefaultBodyLimit::max(settings.body_bytes_max))
        .with_state(state);
    // Outermost first. The security headers wrap everything, so that
    // refusals made by the layers below carry them too.
    let protected = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
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
        ))
        .layer(middleware::from_fn(error_bodies))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(HandleErrorLayer::new(
            move |uri: Uri, error: tower::BoxError| refused(uri, error, timeout),
        ))
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::ConcurrencyLimitLayer::new(
            settings.concurrency_max,
        ))
        .layer(tower::timeout::TimeoutLayer::new(timeout))
        .service(application);
    Router::new().fallback_service(protected)
}

/// Answers requests the layers refused: at the concurrency limit (refusing
/// at once beats queueing without bound) or past the time limit.
async fn refused(uri: Uri, error: tower::BoxError, timeout: std::time::Duration) -> Response {
    let error = if error.is::<tower::timeout::error::Elapsed>() {
        AppError::Unavailable(format!(
            "the request took longer than {} ms (request_timeout) and was stopped; retry, or send less at once",
            timeout.as_millis()
        ))
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        AppError::Unavailable("Warden is at its concurrency limit; retry shortly".into())
    } else {
        AppError::Internal(format!("a layer failed: {error}"))
    };
    if console::is_console_path(uri.path()) {
        return ConsoleError::from(error).into_response();
    }
    error.into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    AppError::Internal("handler panicked".into()).into_response()
}

async fn not_found(uri: Uri) -> Response {
    if console::is_console_path(uri.path()) {
        return console::not_found_page();
    }
    AppError::NotFound("no such route; the API is described at /api/openapi.json".into())
        .into_response()
}

use crate::limits::ERROR_DETAIL_BYTES_MAX;

/// Makes every error answer speak its surface's language, whatever made
/// it: `application/problem+json` on the API, an HTML page on the
/// console; only a `405` says which methods a path takes. Handlers and the layers above already answer so; this catches
/// what they do not control (framework rejections such as a path or form
/// that does not decode, a body past the limit read by a plain extractor),
/// keeping their one-line text as the detail, and the answer's headers.
async fn error_bodies(request: Request, next: Next) -> Response {
    let console = console::is_console_path(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if status != StatusCode::METHOD_NOT_ALLOWED {
        // The router adds `Allow` to whatever answers a method a path does
        // not take; for the 401 an anonymous caller gets, that would tell
        // what the path takes.
        response.headers_mut().remove(header::ALLOW);
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let fits = if console {
        essence.eq_ignore_ascii_case("text/html")
    } else {
        essence.eq_ignore_ascii_case(PROBLEM_JSON)
    };
    if fits {
        return response;
    }
    let plain = essence.eq_ignore_ascii_case("text/plain");
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, ERROR_DETAIL_BYTES_MAX)
        .await
        .ok()
        .filter(|_| plain)
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .filter(|text| !text.is_empty() && !text.chars().any(char::is_control));
    let detail = text.unwrap_or_else(|| {
        format!(
            "Warden answered {status} ({})",
            status.canonical_reason().unwrap_or("error")
        )
    });
    let mut answer = if console {
        let problem = Problem::for_status(status, detail);
        error_page(status, &problem.title, &problem.detail, None)
    } else {
        Problem::for_status(status, detail).into_response_with(status)
    };
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
}

/// Answers a method the table does not have for a path it has: `405` with
/// `Allow`. Learning which methods a path takes needs no permission (the
/// API document lists them), but on a path with no public method it needs
/// a signed-in caller: anonymous callers get the `401` they would get for
/// the path's methods.
async fn method_not_allowed(state: &AppState, path: &str, headers: &HeaderMap) -> Response {
    let console = ROUTES
        .iter()
        .any(|r| r.path == path && r.surface == Surface::Console);
    let public = ROUTES
        .iter()
        .any(|r| r.path == path && r.access == Access::Public);
    if !public {
        match authenticate(state, headers).await {
            Ok(Some(_)) => {}
            Ok(None) | Err(AppError::Unauthenticated(_)) if console => {
                return error_page(
                    StatusCode::UNAUTHORIZED,
                    "Sign in first",
                    "This page needs a signed-in user; sign in at /console/sign-in.",
                    None,
                )
            }
            Ok(None) => return unauthenticated().into_response(),
            Err(error) if console => return ConsoleError::from(error).into_response(),
            Err(error) => return error.into_response(),
        }
    }
    let allowed = allowed_methods(path);
    if !console {
        return AppError::MethodNotAllowed(allowed).into_response();
    }
    let mut page = error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "This page does not take that method",
        &format!("It answers {}.", allow_list(&allowed)),
        None,
    );
    if let Ok(value) = HeaderValue::from_str(&allow_list(&allowed)) {
        page.headers_mut().insert(header::ALLOW, value);
    }
    page
}

fn unauthenticated() -> AppError {
    AppError::Unauthenticated(
        "send `Authorization: Bearer <token>` or sign in at POST /api/v1/session".into(),
    )
}

/// Checks that every path parameter of `template` in `path` decodes to
/// UTF-8 (the handlers' `Path` extractor would refuse it in plain text),
/// naming the parameter at fault.
fn check_path_parameters(template: &str, path: &str) -> Result<(), AppError> {
    let mut errors = Vec::new();
    for (pattern, segment) in template.split('/').zip(path.split('/')) {
        let Some(name) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            continue;
        };
        if percent_encoding::percent_decode_str(segment)
            .decode_utf8()
            .is_err()
        {
            errors.push(FieldError::new(
                name,
                "is not valid UTF-8 once percent-decoded",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::MalformedFields(FieldErrors(errors)))
    }
}

/// Authenticates the caller and checks the route's permission.
async fn authorize(
    State(state): State<AppState>,
    matched: MatchedPath,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(spec) = route_spec(request.method(), matched.as_str()) else {
        // The router matched the path, so the table has it with another
        // method; a path not in the table never gets here (404).
        return method_not_allowed(&state, matched.as_str(), request.headers()).await;
    };
    if spec.surface == Surface::Console {
        return console::guard::authorize(state, spec, request, next).await;
    }
    if spec.access == Access::Public {
        if let Err(error) = check_path_parameters(spec.path, request.uri().path()) {
            return error.into_response();
        }
        return next.run(request).await;
    }
    let caller = match authenticate(&state, request.headers()).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return unauthenticated().into_response(),
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
    if let Err(error) = check_path_parameters(spec.path, request.uri().path()) {
        return error.into_response();
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

#[cfg(test)]
mod tests {
    //! The layers' own refusals (a panic, the time limit, the concurrency
    //! limit) on stand-in routes, since no real route panics or stalls on
    //! purpose. The other error answers are in `tests/api/http.rs`.

    use std::sync::Arc;
    use std::time::Duration;

    use axum::http::Request as HttpRequest;
    use tower::ServiceExt;

    use warden_store::{CasePolicy, SqlStore, SqliteOptions};

    use super::*;
    use crate::ServerSettings;

    async fn boom() -> &'static str {
        panic!("a bug in a handler")
    }

    async fn stall() -> &'static str {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "late"
    }

    async fn app(settings: ServerSettings) -> (Router, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open_sqlite(&dir.path().join("w.db"), SqliteOptions::default())
            .await
            .unwrap();
        let state = AppState::new(Arc::new(store), CasePolicy::default(), settings);
        let routes = Router::new()
            .route("/api/v1/boom", get(boom))
            .route("/console/boom", get(boom))
            .route("/api/v1/stall", get(stall))
            .route("/console/stall", get(stall));
        (protect(routes, state), dir)
    }

    async fn call(app: &Router, path: &str) -> (StatusCode, String, String) {
        let response = app
            .clone()
            .oneshot(HttpRequest::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    fn assert_problem(answer: &(StatusCode, String, String), status: StatusCode, says: &str) {
        assert_eq!(answer.0, status, "{}", answer.2);
        assert_eq!(answer.1, PROBLEM_JSON);
        let problem: serde_json::Value = serde_json::from_str(&answer.2).unwrap();
        assert_eq!(problem["status"], status.as_u16());
        assert!(problem["type"].as_str().unwrap().starts_with("https://"));
        assert!(problem["title"].is_string());
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{detail}");
    }

    fn assert_page(answer: &(StatusCode, String, String), status: StatusCode) {
        assert_eq!(answer.0, status, "{}", answer.2);
        assert!(answer.1.starts_with("text/html"), "{}", answer.1);
        assert!(answer.2.contains("<!doctype html>") || answer.2.contains("<!DOCTYPE html>"));
    }

    #[tokio::test]
    async fn a_panic_is_a_500_problem_on_the_api_and_a_page_on_the_console() {
        let (app, _dir) = app(ServerSettings::default()).await;
        let api = call(&app, "/api/v1/boom").await;
        assert_problem(&api, StatusCode::INTERNAL_SERVER_ERROR, "log");
        assert!(
            !api.2.contains("a bug in a handler"),
            "the cause stays in the log"
        );
        assert_page(
            &call(&app, "/console/boom").await,
            StatusCode::INTERNAL_SERVER_ERROR,
        );
    }

    #[tokio::test]
    async fn the_time_limit_is_a_503_problem_naming_it() {
        let settings = ServerSettings {
            request_timeout: Duration::from_millis(50),
            ..ServerSettings::default()
        };
        let (app, _dir) = app(settings).await;
        assert_problem(
            &call(&app, "/api/v1/stall").await,
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
        );
        assert_page(
            &call(&app, "/console/stall").await,
            StatusCode::SERVICE_UNAVAILABLE,
        );
    }

    #[tokio::test]
    async fn the_concurrency_limit_is_a_503_problem_naming_it() {
        let settings = ServerSettings {
            concurrency_max: 1,
            ..ServerSettings::default()
        };
        let (app, _dir) = app(settings).await;
        let holder = {
            let app = app.clone();
            tokio::spawn(async move { call(&app, "/api/v1/stall").await })
        };
        // Wait until the first request holds the only permit.
        let mut refused = None;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let answer = call(&app, "/api/v1/stall").await;
            if answer.0 == StatusCode::SERVICE_UNAVAILABLE {
                refused = Some(answer);
                break;
            }
        }
        holder.abort();
        assert_problem(
            &refused.expect("a second request is refused"),
            StatusCode::SERVICE_UNAVAILABLE,
            "concurrency limit",
        );
    }
}
