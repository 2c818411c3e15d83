//! The authorization matrix: every route that names a case (API and
//! console), called by every role through a session and through a token
//! of every scope, by a member and a non-member of the restricted queue's
//! team, against an open case, a case held by someone else, a case in a
//! restricted queue and a resolved case. [`MATRIX`] is the one table of
//! what each call must get; the test fails when a case route is missing
//! from it.
//!
//! Changes are sent so that they cannot succeed once past the gate (a
//! stale version, an empty reason), so that one application serves every
//! row: a row that passes the gate shows it by failing only at that later
//! check. Notes, reads and reveals do succeed; they change no case. At the
//! end every case must be exactly as it was.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use warden_domain::access::{Permission, Principal, Role, Scope};
use warden_domain::decision::{DecisionInput, Rationale};
use warden_domain::routing::{QueueDefinition, Router};
use warden_domain::CaseId;
use warden_server::auth::{new_secret, new_token, secret_hash};
use warden_server::routes::{Access, Surface, ROUTES};
use warden_server::{Clock, ServerSettings};
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy};

use crate::support::TestApp;

/// A version no case has: changes sent with it fail after the gate.
const STALE: i64 = 999_999;

/// What one call must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Past the gate; the route then answers this status.
    Pass(u16),
    /// Past the gate, refused only for the stale version sent (409).
    Stale,
    /// Past the gate, refused because the caller holds no lease (409).
    NotYours,
    /// The gate refused to change a case someone else holds (409).
    Held,
    /// The caller may not see the case: exactly as if it did not exist (404).
    Hidden,
    /// The caller lacks the route's permission (403).
    Denied,
}

use Expect::{Held, NotYours, Pass, Stale};

/// What a request carries.
#[derive(Debug, Clone, Copy)]
enum Payload {
    /// No body.
    Nothing,
    /// A JSON body (API).
    Json(fn() -> Value),
    /// A form (console); the CSRF field is added for sessions.
    Form(&'static [(&'static str, &'static str)]),
}

/// One route: how to call it and what an admitted caller with the route's
/// permission gets in each state. Callers without the permission get
/// `Denied`; callers the restricted queue does not admit get `Hidden` on
/// the restricted case.
struct Row {
    method: &'static str,
    path: &'static str,
    send: Payload,
    open: Expect,
    /// Held by someone else, for a caller who may not reassign (not a lead).
    held: Expect,
    /// Held by someone else, for a lead (`case.assign`).
    held_lead: Expect,
    restricted: Expect,
    resolved: Expect,
}

fn rationale() -> Value {
    json!({"what_happened": "matrix", "evidence": "matrix", "policy": "spam 1", "action": "none", "next_steps": ""})
}

fn decision() -> Value {
    json!({"version": STALE, "violation": false, "category": "spam", "actions": [], "rationale": rationale()})
}

fn stale() -> Value {
    json!({"version": STALE})
}

fn stale_with_reason() -> Value {
    json!({"version": STALE, "reason": "matrix"})
}

fn assign_to_member() -> Value {
    json!({"version": STALE, "user": "analyst"})
}

fn bad_evidence() -> Value {
    json!({"kind": "text_excerpt"})
}

fn note() -> Value {
    json!({"what_happened": "a second opinion"})
}

const DECISION_FORM: &[(&str, &str)] = &[
    ("version", "999999"),
    ("violation", "no"),
    ("category", "spam"),
    ("r_what_happened", "matrix"),
    ("r_evidence", "matrix"),
    ("r_policy", "spam 1"),
    ("r_action", "none"),
];

const fn row(
    method: &'static str,
    path: &'static str,
    send: Payload,
    [open, held, held_lead, restricted, resolved]: [Expect; 5],
) -> Row {
    Row {
        method,
        path,
        send,
        open,
        held,
        held_lead,
        restricted,
        resolved,
    }
}

use Payload::{Form, Json, Nothing};

/// The matrix. Columns: an open case; a case held by someone else (for a
/// caller who is not a lead, then for a lead); a case in the restricted
/// queue (for callers it admits); a resolved case.
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    // ---- API
    row("GET",  "/api/v1/cases/{id}",                Nothing,                 [Pass(200), Pass(200), Pass(200), Pass(200), Pass(200)]),
    row("POST", "/api/v1/cases/{id}/decision",       Json(decision),          [Stale,     Held,      Stale,     Stale,     Stale]),
    row("POST", "/api/v1/cases/{id}/release",        Json(stale),             [Stale,     Held,      Stale,     Stale,     Stale]),
    row("POST", "/api/v1/cases/{id}/hold",           Json(stale_with_reason), [Stale,     Held,      Stale,     Stale,     Stale]),
    row("POST", "/api/v1/cases/{id}/renew",          Json(stale),             [Stale,     Held,      Stale,     Stale,     Stale]),
    row("POST", "/api/v1/cases/{id}/escalate",       Json(stale_with_reason), [Stale,     Held,      Stale,     Stale,     Stale]),
    row("POST", "/api/v1/cases/{id}/wait",           Json(stale_with_reason), [Stale,     Held,      Stale,     Stale,     Stale]),
    row("POST", "/api/v1/cases/{id}/resume",         Json(stale),             [Stale,     Held,      Stale,     Stale,     Stale]),
    row("POST", "/api/v1/cases/{id}/reopen",         Json(stale_with_reason), [Stale,     Held,      Stale,     Stale,     Stale]),
    row("POST", "/api/v1/cases/{id}/assign",         Json(assign_to_member),  [Stale,     Stale,     Stale,     Stale,     Stale]),
    // Notes are additive: allowed on a case someone else holds.
    row("POST", "/api/v1/cases/{id}/notes",          Json(note),              [Pass(201), Pass(201), Pass(201), Pass(201), Pass(201)]),
    row("GET",  "/api/v1/cases/{id}/recommendation", Nothing,                 [Pass(200), Pass(200), Pass(200), Pass(200), Pass(200)]),
    // Escalations and evidence: none of these cases is escalated or has
    // the item asked for (404 past the gate); evidence sent without its
    // text is refused past the gate (422). Hidden cases stay 404 as if absent.
    row("GET",  "/api/v1/cases/{id}/package",        Nothing,                 [Pass(404), Pass(404), Pass(404), Pass(404), Pass(404)]),
    row("POST", "/api/v1/cases/{id}/acknowledge",    Nothing,                 [Pass(404), Pass(404), Pass(404), Pass(404), Pass(404)]),
    row("POST", "/api/v1/cases/{id}/evidence",       Json(bad_evidence),      [Pass(422), Pass(422), Pass(422), Pass(422), Pass(422)]),
    row("GET",  "/api/v1/cases/{id}/evidence",       Nothing,                 [Pass(200), Pass(200), Pass(200), Pass(200), Pass(200)]),
    row("GET",  "/api/v1/cases/{id}/evidence/{eid}", Nothing,                 [Pass(404), Pass(404), Pass(404), Pass(404), Pass(404)]),
    row("GET",  "/api/v1/cases/{id}/evidence/{eid}/content", Nothing,         [Pass(404), Pass(404), Pass(404), Pass(404), Pass(404)]),
    // ---- console
    row("GET",  "/console/cases/{id}",               Nothing,                 [Pass(200), Pass(200), Pass(200), Pass(200), Pass(200)]),
    row("GET",  "/console/cases/{id}/media/{index}", Nothing,                 [Pass(200), Pass(200), Pass(200), Pass(200), Pass(200)]),
    row("POST", "/console/cases/{id}/decision",      Form(DECISION_FORM),     [Stale,     Held,      Stale,     Stale,     Stale]),
    // An outcome is for appeal cases only: refused after the gate.
    row("POST", "/console/cases/{id}/appeal",        Form(&[("outcome", "upheld"), ("version", "999999"), ("r_what_happened", "x"), ("r_policy", "y")]),
                                                                              [Pass(422), Held,      Pass(422), Pass(422), Pass(422)]),
    row("POST", "/console/cases/{id}/notes",         Form(&[("n_what_happened", "a second opinion")]),
                                                                              [Pass(200), Pass(200), Pass(200), Pass(200), Pass(200)]),
    // Nobody here holds a lease of their own to renew.
    row("POST", "/console/cases/{id}/renew",         Form(&[]),               [NotYours,  Held,      NotYours,  NotYours,  NotYours]),
    // A lead's release from the team page: the stale version sends them back there.
    row("POST", "/console/cases/{id}/release",       Form(&[("return_to", "lead"), ("version", "999999")]),
                                                                              [Pass(303), Held,      Pass(303), Pass(303), Pass(303)]),
    // No reason: refused after the gate.
    row("POST", "/console/cases/{id}/hold",          Form(&[("hold_reason", "")]),
                                                                              [Pass(422), Held,      Pass(422), Pass(422), Pass(422)]),
    row("POST", "/console/cases/{id}/escalate",      Form(&[("escalate_reason", "")]),
                                                                              [Pass(422), Held,      Pass(422), Pass(422), Pass(422)]),
    // Escalation and evidence pages: none of these cases is escalated (404
    // past the gate); evidence without a kind and a stale escalation are
    // refused past it.
    row("GET",  "/console/cases/{id}/escalation",    Nothing,                 [Pass(200), Pass(200), Pass(200), Pass(200), Pass(200)]),
    row("POST", "/console/cases/{id}/evidence",      Form(&[("ev_kind", "")]),
                                                                              [Pass(422), Pass(422), Pass(422), Pass(422), Pass(422)]),
    row("POST", "/console/cases/{id}/escalate-team", Form(&[("version", "999999"), ("team", "child_safety"), ("severity", "sev2"), ("reason", "matrix")]),
                                                                              [Stale,     Stale,     Stale,     Stale,     Stale]),
    row("POST", "/console/cases/{id}/acknowledge",   Form(&[]),               [Pass(404), Pass(404), Pass(404), Pass(404), Pass(404)]),
    row("GET",  "/console/cases/{id}/package",       Nothing,                 [Pass(404), Pass(404), Pass(404), Pass(404), Pass(404)]),
    // Revealing is a read: allowed whoever holds the case.
    row("POST", "/console/cases/{id}/reveal",        Form(&[("reveal_reason", "the matrix needs it")]),
                                                                              [Pass(200), Pass(200), Pass(200), Pass(200), Pass(200)]),
    // Media exposure is recorded for whoever sees the case (wellness).
    row("POST", "/console/cases/{id}/exposure",      Form(&[("revealed_at", "1764547200000"), ("visible_ms", "1000")]),
                                                                              [Pass(204), Pass(204), Pass(204), Pass(204), Pass(204)]),
    row("POST", "/console/cases/{id}/assign",        Form(&[("user", "analyst"), ("version", "999999")]),
                                                                              [Stale,     Stale,     Stale,     Stale,     Stale]),
];

/// The states a case is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Held,
    Restricted,
    Resolved,
}

/// How a caller authenticates.
enum Credential {
    Token(String),
    Session { cookie: String, csrf: String },
}

/// One caller: who they are (for the expected outcome) and how they call.
struct Caller {
    label: String,
    principal: Principal,
    credential: Credential,
}

/// The restricted queue: analysts, leads and auditors of the child-safety team.
fn policy() -> CasePolicy {
    let mut child_safety = QueueDefinition::catch_all("child-safety");
    child_safety.categories = vec!["child_safety".into()];
    child_safety.roles = vec![Role::Analyst, Role::Lead, Role::Auditor];
    child_safety.teams = vec!["child_safety".into()];
    let mut escalations = QueueDefinition::catch_all("escalations");
    escalations.accepts_new = false;
    CasePolicy {
        router: Router::new(vec![child_safety, escalations]).unwrap(),
        ..CasePolicy::default()
    }
}

async fn report(app: &TestApp, post: &str, reason: &str) {
    let subject = app
        .ingest(
            "/api/v1/subjects",
            json!({"kind": "content", "id": post, "owner": {"kind": "account", "id": format!("{post}_owner")},
                   "text": "matrix", "media": [{"url": "https://cdn.example/1.jpg", "mime": "image/jpeg"}]}),
        )
        .await;
    assert!(subject.status.is_success(), "{}", subject.body);
    let answer = app
        .ingest(
            "/api/v1/reports",
            json!({"id": format!("r_{post}"), "subject": {"kind": "content", "id": post}, "reason": reason, "source": "user_report"}),
        )
        .await;
    assert!(answer.status.is_success(), "{}", answer.body);
}

async fn case_of(app: &TestApp, post: &str) -> CaseId {
    let cases = app
        .store
        .list_cases(&warden_store::CaseFilter {
            subject: Some(warden_domain::SubjectRef::new(
                warden_domain::SubjectKind::Content,
                warden_domain::PlatformId::parse(post).unwrap(),
            )),
            limit: 5,
            ..warden_store::CaseFilter::default()
        })
        .await
        .unwrap();
    cases[0].id
}

/// The four cases, with someone holding the held one.
async fn cases(app: &TestApp) -> Vec<(State, CaseId)> {
    let now = app.clock.now();
    let holder = app
        .store
        .create_user(
            &Actor::system(),
            "holder",
            Role::Analyst,
            "$argon2id$unused",
            now,
        )
        .await
        .unwrap();
    let holder = Actor::user(holder.id, "holder");
    let lease = chrono::Duration::minutes(10);
    // Claimed one at a time, so that each claim takes the case just made.
    report(app, "resolved_post", "spam").await;
    let resolved = app
        .store
        .claim_next(&holder, "general", lease, now)
        .await
        .unwrap()
        .unwrap();
    app.store
        .decide(
            &holder,
            resolved.id,
            resolved.version,
            DecisionInput {
                violation: false,
                category: "spam".into(),
                policy: None,
                actions: Vec::new(),
                rationale: Rationale {
                    what_happened: "matrix".into(),
                    evidence: "matrix".into(),
                    policy: "spam 1".into(),
                    action: "none".into(),
                    next_steps: String::new(),
                },
            },
            &policy(),
            warden_store::DecisionMode::First,
            now,
        )
        .await
        .unwrap();
    report(app, "held_post", "spam").await;
    let held = app
        .store
        .claim_next(&holder, "general", lease, now)
        .await
        .unwrap()
        .unwrap();
    report(app, "open_post", "spam").await;
    report(app, "restricted_post", "child_safety").await;
    let open = case_of(app, "open_post").await;
    let restricted = case_of(app, "restricted_post").await;
    assert_eq!(
        app.store.case(restricted).await.unwrap().unwrap().queue,
        "child-safety"
    );
    vec![
        (State::Open, open),
        (State::Held, held.id),
        (State::Restricted, restricted),
        (State::Resolved, resolved.id),
    ]
}

/// Every role through a session and a token of every scope, and an
/// analyst outside the team.
async fn callers(app: &TestApp) -> Vec<Caller> {
    let now = app.clock.now();
    let system = Actor::system();
    let team = vec!["child_safety".to_string()];
    // The team member is `analyst`; `lead` and `auditor` are in the team too.
    for name in ["analyst", "lead", "auditor"] {
        app.store
            .set_user_teams(&system, name, &team, now)
            .await
            .unwrap();
    }
    app.store
        .create_user(&system, "outsider", Role::Analyst, "$argon2id$unused", now)
        .await
        .unwrap();
    let mut callers = Vec::new();
    let mut names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    names.push("outsider");
    for name in names {
        let user = app.store.user_by_name(name).await.unwrap().unwrap();
        let principal = |scope| Principal {
            user_id: user.id,
            name: user.name.clone(),
            role: user.role,
            teams: user.teams.clone(),
            scope,
        };
        let session = new_secret("");
        let csrf = new_secret("");
        app.store
            .create_session(
                user.id,
                &secret_hash(&session),
                &csrf,
                now + chrono::Duration::hours(1),
                now,
            )
            .await
            .unwrap();
        callers.push(Caller {
            label: format!("{name} (session)"),
            principal: principal(None),
            credential: Credential::Session {
                cookie: format!("warden_session={session}"),
                csrf,
            },
        });
        for scope in Scope::ALL {
            let token = new_token();
            app.store
                .create_token(
                    &system,
                    user.id,
                    &format!("{name}-{scope}"),
                    scope,
                    &secret_hash(&token),
                    now,
                )
                .await
                .unwrap();
            callers.push(Caller {
                label: format!("{name} ({scope} token)"),
                principal: principal(Some(scope)),
                credential: Credential::Token(token),
            });
        }
    }
    callers
}

/// What `caller` must get from `row` on a case in `state`.
fn expected(
    row: &Row,
    needs: Permission,
    caller: &Caller,
    state: State,
    policy: &CasePolicy,
) -> Expect {
    let who = &caller.principal;
    if !who.may(needs) {
        return Expect::Denied;
    }
    match state {
        State::Open => row.open,
        State::Held if who.may(Permission::CaseAssign) => row.held_lead,
        State::Held => row.held,
        State::Restricted => {
            let queue = policy.router.queue("child-safety").unwrap();
            if queue.admits(who.role, &who.teams) {
                row.restricted
            } else {
                Expect::Hidden
            }
        }
        State::Resolved => row.resolved,
    }
}

async fn call(app: &TestApp, row: &Row, caller: &Caller, id: CaseId) -> (u16, String) {
    let path = row
        .path
        .replace("{id}", &id.to_string())
        .replace("{index}", "0")
        .replace("{eid}", "999999");
    let mut request = Request::builder().method(row.method).uri(path);
    let body = match row.send {
        Payload::Nothing => String::new(),
        Payload::Json(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            body().to_string()
        }
        Form(fields) => {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            let mut fields: Vec<(&str, &str)> = fields.to_vec();
            if let Credential::Session { csrf, .. } = &caller.credential {
                fields.push(("csrf_token", csrf));
            }
            serde_urlencoded::to_string(&fields).unwrap()
        }
    };
    match &caller.credential {
        Credential::Token(token) => {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        Credential::Session { cookie, csrf } => {
            request = request
                .header(header::COOKIE, cookie)
                .header("x-csrf-token", csrf);
        }
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn matches(expect: Expect, status: u16, body: &str, id: CaseId, console: bool) -> bool {
    let conflict = |words: &str| status == 409 && body.contains(words);
    match expect {
        Expect::Pass(wanted) => status == wanted,
        Expect::Stale => conflict("version"),
        Expect::NotYours => conflict("not claimed"),
        Expect::Held => conflict("held by holder"),
        // Word for word what a case that does not exist gets.
        Expect::Hidden if console => {
            status == 404 && body.contains(&format!("There is no case {id}."))
        }
        Expect::Hidden => {
            status == 404
                && serde_json::from_str::<Value>(body)
                    .is_ok_and(|problem| problem["detail"] == format!("case {id} not found"))
        }
        Expect::Denied => status == 403,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_route_with_every_caller_in_every_state_follows_the_matrix() {
    let policy = policy();
    let app = TestApp::with_settings(ServerSettings::default(), policy.clone()).await;
    let cases = cases(&app).await;
    let callers = callers(&app).await;

    // The table covers every route that names a case, and nothing else.
    let case_routes: BTreeSet<(String, &str)> = ROUTES
        .iter()
        .filter(|r| r.path.contains("/cases/{id}"))
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let in_table: BTreeSet<(String, &str)> = MATRIX
        .iter()
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let missing: Vec<_> = case_routes.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "case routes missing from the matrix: {missing:?}"
    );
    let unknown: Vec<_> = in_table.difference(&case_routes).collect();
    assert!(
        unknown.is_empty(),
        "matrix rows that are not routes: {unknown:?}"
    );

    let before: Vec<_> = {
        let mut states = Vec::new();
        for (_, id) in &cases {
            states.push(app.store.case(*id).await.unwrap().unwrap());
        }
        states
    };
    // Witnesses that the matrix reaches every outcome it names.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut failures = Vec::new();
    let mut calls = 0;
    for row in MATRIX {
        let spec = ROUTES
            .iter()
            .find(|r| r.method.as_str() == row.method && r.path == row.path)
            .unwrap();
        let Access::Needs(needs) = spec.access else {
            panic!("{} {} should need a permission", row.method, row.path);
        };
        let console = spec.surface == Surface::Console;
        for caller in &callers {
            for (state, id) in &cases {
                let expect = expected(row, needs, caller, *state, &policy);
                let (status, body) = call(&app, row, caller, *id).await;
                calls += 1;
                seen.insert(format!("{expect:?}"));
                if !matches(expect, status, &body, *id, console) {
                    let excerpt: String = body.chars().take(300).collect();
                    failures.push(format!(
                        "{} {} by {} on the {state:?} case {id}: expected {expect:?}, got {status}: {excerpt}",
                        row.method, row.path, caller.label
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls did not follow the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(calls, MATRIX.len() * callers.len() * cases.len());
    for outcome in ["Stale", "NotYours", "Held", "Hidden", "Denied"] {
        assert!(
            seen.contains(outcome),
            "no call was expected to be {outcome}"
        );
    }
    // Nothing any caller sent changed a case (notes and reads change none).
    for (case, (_, id)) in before.iter().zip(&cases) {
        let after = app.store.case(*id).await.unwrap().unwrap();
        assert_eq!(&after, case, "case {id} changed");
    }
}
