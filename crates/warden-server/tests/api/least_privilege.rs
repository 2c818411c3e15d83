//! Least privilege, one regression test per finding of the attacker's test:
//! restricted queues on every read, list, count and assignment; held cases
//! changed only by their holder or a lead; sign-in refusals that tell
//! nothing; tokens minted by their own user; no renewal after a lease ran
//! out; `Secure` cookies from a setting or a trusted proxy.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use warden_domain::access::{Role, Scope};
use warden_domain::routing::{QueueDefinition, Router};
use warden_server::auth::{new_token, secret_hash};
use warden_server::{Clock, ServerSettings};
use warden_store::prelude::*;
use warden_store::{Actor, CasePolicy};

use crate::support::{Answer, TestApp, PASSWORD};

fn rationale() -> Value {
    json!({"what_happened": "an image of abuse", "evidence": "hash match", "policy": "child safety 1",
           "action": "removed; the account banned", "next_steps": "report to the authorities"})
}

/// A child-safety queue for analysts and leads of the child-safety team.
fn restricted_policy() -> CasePolicy {
    let mut child_safety = QueueDefinition::catch_all("child-safety");
    child_safety.categories = vec!["child_safety".into()];
    child_safety.roles = vec![Role::Analyst, Role::Lead];
    child_safety.teams = vec!["child_safety".into()];
    CasePolicy {
        router: Router::new(vec![child_safety]).unwrap(),
        ..CasePolicy::default()
    }
}

/// A user with an admin-scoped token (and `password`, for sessions).
async fn user_with_token(app: &TestApp, name: &str, role: Role, teams: &[&str]) -> String {
    let now = app.clock.now();
    let hash = warden_server::auth::hash_password(PASSWORD).unwrap();
    let teams: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
    let user = app
        .store
        .create_user_with_teams(&Actor::system(), name, role, &hash, &teams, now)
        .await
        .unwrap();
    let token = new_token();
    app.store
        .create_token(
            &Actor::system(),
            user.id,
            name,
            Scope::Admin,
            &secret_hash(&token),
            now,
        )
        .await
        .unwrap();
    token
}

async fn set_teams(app: &TestApp, name: &str, teams: &[&str]) {
    let teams: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
    app.store
        .set_user_teams(&Actor::system(), name, &teams, app.clock.now())
        .await
        .unwrap();
}

fn ids(list: &Answer) -> Vec<i64> {
    list.body["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

fn html(answer: &Answer) -> &str {
    answer.body.as_str().unwrap_or_default()
}

#[tokio::test]
async fn restricted_cases_are_found_listed_counted_and_assigned_only_inside_the_team() {
    let app = TestApp::with_settings(ServerSettings::default(), restricted_policy()).await;
    set_teams(&app, "analyst", &["child_safety"]).await;
    set_teams(&app, "lead", &["child_safety"]).await;
    let outsider = user_with_token(&app, "outsider", Role::Analyst, &[]).await;
    let lead2 = user_with_token(&app, "lead2", Role::Lead, &[]).await;
    app.post_subject("cs_1", "acct_cs", "an image").await;
    let restricted = app
        .report("rep_cs", ("content", "cs_1"), "child_safety")
        .await;
    let open = app.report("rep_spam", ("content", "spam_1"), "spam").await;
    let associate = app.token(Role::Associate).to_string();
    let analyst = app.token(Role::Analyst).to_string();
    let lead = app.token(Role::Lead).to_string();
    let missing = 424_242;

    // Reads: 404, word for word what a case that does not exist gets.
    let nothing = app
        .get(&format!("/api/v1/cases/{missing}"), &associate)
        .await;
    for token in [&associate, &outsider, &lead2, app.token(Role::Qa)] {
        let hidden = app.get(&format!("/api/v1/cases/{restricted}"), token).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
        assert_eq!(
            hidden.body["detail"],
            nothing.body["detail"]
                .as_str()
                .unwrap()
                .replace(&missing.to_string(), &restricted.to_string())
        );
        assert_eq!(hidden.body["title"], nothing.body["title"]);
        assert_eq!(hidden.body["type"], nothing.body["type"]);
        let page = app
            .get(&format!("/console/cases/{restricted}"), token)
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(html(&page).contains(&format!("There is no case {restricted}.")));
        let recommendation = app
            .get(&format!("/api/v1/cases/{restricted}/recommendation"), token)
            .await;
        assert_eq!(recommendation.status, StatusCode::NOT_FOUND);
    }
    let member = app
        .get(&format!("/api/v1/cases/{restricted}"), &analyst)
        .await;
    assert_eq!(member.status, StatusCode::OK, "{}", member.body);
    assert_eq!(
        app.get(&format!("/console/cases/{restricted}"), &analyst)
            .await
            .status,
        StatusCode::OK
    );

    // Lists, search by subject, counts and the console's pages.
    let listed = app.get("/api/v1/cases?limit=500", &associate).await;
    assert_eq!(ids(&listed), [open]);
    assert_eq!(
        ids(&app.get("/api/v1/cases?limit=500", &analyst).await).len(),
        2
    );
    let by_subject = app
        .get(
            "/api/v1/cases?subject_kind=content&subject_id=cs_1",
            &outsider,
        )
        .await;
    assert!(ids(&by_subject).is_empty());
    let queues = app.get("/api/v1/queues", &associate).await;
    let names: Vec<&str> = queues
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["general"],
        "the restricted queue is not even listed"
    );
    let counted = app.get("/api/v1/queues", &analyst).await;
    let child_safety = counted
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "child-safety")
        .unwrap();
    assert_eq!(child_safety["depth"], 1);
    let home = app.get("/console", &associate).await;
    assert!(!html(&home).contains("child-safety"), "{}", html(&home));
    assert!(html(&app.get("/console", &analyst).await).contains("child-safety"));
    let queue_page = app.get("/console/queues/child-safety", &outsider).await;
    assert_eq!(queue_page.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/console/queues/child-safety", &analyst)
            .await
            .status,
        StatusCode::OK
    );
    let history = app
        .get("/api/v1/subjects/content/cs_1/history", &associate)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert_eq!(history.body["cases"], json!([]));
    assert_eq!(history.body["reports"], json!([]));
    let member_history = app
        .get("/api/v1/subjects/content/cs_1/history", &analyst)
        .await;
    assert_eq!(member_history.body["cases"][0]["id"], restricted);

    // Assignment: only to someone the queue admits.
    for user in ["associate", "outsider"] {
        let refused = app
            .post(
                &format!("/api/v1/cases/{restricted}/assign"),
                &lead,
                json!({"user": user}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{user}");
        assert_eq!(refused.fields(), ["user"]);
    }
    let outside_lead = app
        .post(
            &format!("/api/v1/cases/{restricted}/assign"),
            &lead2,
            json!({"user": "analyst"}),
        )
        .await;
    assert_eq!(outside_lead.status, StatusCode::NOT_FOUND);
    let assigned = app
        .post(
            &format!("/api/v1/cases/{restricted}/assign"),
            &lead,
            json!({"user": "analyst"}),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);

    // Notes on a case someone else holds: allowed inside the queue, not found outside.
    let second_opinion = app
        .post(
            &format!("/api/v1/cases/{restricted}/notes"),
            &lead,
            json!({"what_happened": "a second opinion"}),
        )
        .await;
    assert_eq!(second_opinion.status, StatusCode::CREATED);
    let stranger_note = app
        .post(
            &format!("/api/v1/cases/{restricted}/notes"),
            &outsider,
            json!({"what_happened": "let me in"}),
        )
        .await;
    assert_eq!(stranger_note.status, StatusCode::NOT_FOUND);

    // Decided with a ban that waits for a lead: the approval, the action,
    // its notices and the decision are not found outside the team either.
    let version = assigned.body["version"].as_i64().unwrap();
    let decided = app
        .post(
            &format!("/api/v1/cases/{restricted}/decision"),
            &analyst,
            json!({"version": version, "violation": true, "category": "child_safety",
                   "actions": [{"type": "remove_content"}, {"type": "ban"}], "rationale": rationale()}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    let decision = decided.body["id"].as_i64().unwrap();
    let ban = decided.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "ban")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let waiting = |answer: &Answer| {
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"]["id"] == ban || a["id"] == ban)
    };
    assert!(waiting(&app.get("/api/v1/approvals", &lead).await));
    assert!(!waiting(&app.get("/api/v1/approvals", &lead2).await));
    let approvals_page = app.get("/console/approvals", &lead2).await;
    assert!(!html(&approvals_page).contains(&format!("/console/cases/{restricted}")));
    assert!(html(&app.get("/console/approvals", &lead).await)
        .contains(&format!("/console/cases/{restricted}")));
    let hidden_action = app.get(&format!("/api/v1/actions/{ban}"), &lead2).await;
    assert_eq!(hidden_action.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden_action.body["detail"],
        format!("action {ban} not found")
    );
    assert_eq!(
        app.get(&format!("/api/v1/actions/{ban}"), &lead)
            .await
            .status,
        StatusCode::OK
    );
    for path in [
        format!("/api/v1/actions/{ban}/approve"),
        format!("/api/v1/actions/{ban}/reject"),
        format!("/api/v1/actions/{ban}/reverse"),
        format!("/api/v1/decisions/{decision}/reverse"),
    ] {
        let refused = app.post(&path, &lead2, json!({"reason": "mine now"})).await;
        assert_eq!(
            refused.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            refused.body
        );
    }
    let notices = app
        .get(&format!("/api/v1/notices?decision_id={decision}"), &lead2)
        .await;
    assert_eq!(notices.status, StatusCode::NOT_FOUND);
    let all_notices = app.get("/api/v1/notices", &lead2).await;
    assert!(all_notices
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["decision_id"] != decision));
    assert_eq!(
        app.get(&format!("/api/v1/notices?decision_id={decision}"), &lead)
            .await
            .status,
        StatusCode::OK
    );
    let account = app
        .get("/api/v1/subjects/account/acct_cs/history", &lead2)
        .await;
    assert_eq!(account.body["actions"], json!([]));
    assert_eq!(account.body["strikes"], json!([]));
    let seen = app
        .get("/api/v1/subjects/account/acct_cs/history", &lead)
        .await;
    assert_ne!(seen.body["actions"], json!([]));
    // The lead page shows no restricted case to a lead outside the team.
    let lead_page = app.get("/console/lead", &lead2).await;
    assert!(!html(&lead_page).contains("child-safety"));
}

#[tokio::test]
async fn held_cases_change_only_by_their_holder_or_a_lead() {
    let app = TestApp::new().await;
    let other = user_with_token(&app, "ana2", Role::Analyst, &[]).await;
    let lead = app.token(Role::Lead).to_string();
    let associate = app.token(Role::Associate).to_string();
    let case = app.report("rep_1", ("content", "post_1"), "spam").await;
    let assigned = app
        .post(
            &format!("/api/v1/cases/{case}/assign"),
            &lead,
            json!({"user": "analyst"}),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
    let version = assigned.body["version"].as_i64().unwrap();
    // The finding: another analyst resumed the case and it lost its holder.
    for token in [&other, &associate] {
        let resumed = app
            .post(&format!("/api/v1/cases/{case}/resume"), token, json!({}))
            .await;
        assert_eq!(resumed.status, StatusCode::CONFLICT, "{}", resumed.body);
        assert!(resumed.body["detail"]
            .as_str()
            .unwrap()
            .contains("held by analyst"));
    }
    // Every other move of the case is refused too.
    let moves = [
        ("release", json!({})),
        ("hold", json!({"reason": "mine"})),
        ("renew", json!({})),
        ("escalate", json!({"reason": "mine"})),
        ("wait", json!({"reason": "mine"})),
        (
            "decision",
            json!({"version": version, "violation": false, "category": "spam", "actions": [],
                   "rationale": {"what_happened": "x", "evidence": "x", "policy": "x", "action": "none", "next_steps": ""}}),
        ),
    ];
    for (action, body) in &moves {
        let refused = app
            .post(
                &format!("/api/v1/cases/{case}/{action}"),
                &other,
                body.clone(),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            refused.body
        );
    }
    let unchanged = app
        .get(&format!("/api/v1/cases/{case}"), app.token(Role::Analyst))
        .await;
    assert_eq!(unchanged.body["assignee"], "analyst");
    assert_eq!(unchanged.body["version"], version);
    // Notes are the documented exception: additive, by their author.
    let note = app
        .post(
            &format!("/api/v1/cases/{case}/notes"),
            &other,
            json!({"evidence": "the same link is on three more accounts"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    assert_eq!(note.body["author"], "ana2");
    // The holder and a lead may.
    let parked = app
        .post(
            &format!("/api/v1/cases/{case}/wait"),
            app.token(Role::Analyst),
            json!({"reason": "asked the reporter for the original message"}),
        )
        .await;
    assert_eq!(parked.status, StatusCode::OK, "{}", parked.body);
    // Nobody holds a waiting case: any analyst may resume it.
    let resumed = app
        .post(&format!("/api/v1/cases/{case}/resume"), &other, json!({}))
        .await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.body);
    let again = app
        .post(
            &format!("/api/v1/cases/{case}/assign"),
            &lead,
            json!({"user": "analyst"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let by_lead = app
        .post(&format!("/api/v1/cases/{case}/release"), &lead, json!({}))
        .await;
    assert_eq!(by_lead.status, StatusCode::OK, "{}", by_lead.body);
    assert_eq!(by_lead.body["assignee"], Value::Null);
}

/// Signs in through the API; the answer and how long it took.
async fn timed_sign_in(app: &TestApp, name: &str, password: &str) -> (Answer, Duration) {
    let started = Instant::now();
    let answer = app
        .post(
            "/api/v1/session",
            "",
            json!({"name": name, "password": password}),
        )
        .await;
    (answer, started.elapsed())
}

/// Signs in through the console's form; the page's status and text.
async fn console_sign_in(app: &TestApp, name: &str, password: &str) -> (StatusCode, String) {
    let page = app
        .router
        .clone()
        .oneshot(
            Request::get("/console/sign-in")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let cookie = page.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = cookie.split_once('=').unwrap().1.to_string();
    let form = serde_urlencoded::to_string([
        ("name", name),
        ("password", password),
        ("csrf_token", token.as_str()),
        ("next", "/console"),
    ])
    .unwrap();
    let answer = app
        .router
        .clone()
        .oneshot(
            Request::post("/console/sign-in")
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = answer.status();
    let bytes = answer.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // The page repeats the name typed; the rest must be the same for everyone.
    (status, text.replace(name, "NAME"))
}

#[tokio::test]
async fn every_sign_in_refusal_reads_the_same_and_costs_the_same() {
    // Enough failures allowed that `analyst`'s five wrong passwords below
    // do not lock them (a locked user is a case of its own).
    let settings = ServerSettings {
        sign_in_failures_max: 6,
        ..ServerSettings::default()
    };
    let app = TestApp::with_settings(settings, CasePolicy::default()).await;
    let admin = app.token(Role::Admin).to_string();
    // `qa` gets locked; `policy` gets disabled.
    for _ in 0..6 {
        let (wrong, _) = timed_sign_in(&app, "qa", "wrong password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let disabled = app
        .post("/api/v1/users/policy/disable", &admin, json!({}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK);
    // Warm the dummy hash up, as a running server has.
    timed_sign_in(&app, "nobody", "x").await;

    let cases = [
        ("nobody", "a guess"),           // unknown user
        ("analyst", "a wrong password"), // wrong password
        ("policy", PASSWORD),            // disabled, right password
        ("qa", PASSWORD),                // locked, right password
    ];
    let mut bodies = Vec::new();
    // The fastest of several tries of each, taken in turns: other work on
    // the machine only ever makes a try slower.
    let mut fastest = [Duration::MAX; 4];
    for _ in 0..5 {
        for (kind, (name, password)) in cases.iter().enumerate() {
            let (answer, elapsed) = timed_sign_in(&app, name, password).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{name}: {}",
                answer.body
            );
            assert!(answer.headers.get(header::SET_COOKIE).is_none());
            bodies.push(answer.body);
            fastest[kind] = fastest[kind].min(elapsed);
        }
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "every refusal has the same body: {bodies:?}"
    );
    // The same Argon2 work for every refusal: none is much faster than a
    // wrong password (before the fix, locked and disabled answered in ~1 ms
    // against ~30 ms).
    let wrong_password = fastest[1];
    for ((name, _), time) in cases.iter().zip(fastest) {
        assert!(
            time * 2 >= wrong_password,
            "{name} answered in {time:?}, a wrong password in {wrong_password:?}: {fastest:?}"
        );
    }
    // The console's form says the same to everyone too.
    let pages: Vec<(StatusCode, String)> = {
        let mut pages = Vec::new();
        for (name, password) in cases {
            pages.push(console_sign_in(&app, name, password).await);
        }
        pages
    };
    for (status, _) in &pages {
        assert_eq!(*status, StatusCode::UNAUTHORIZED);
    }
    let without_token = |page: &str| {
        regex::Regex::new(r#"value="[A-Za-z0-9_-]{40,}""#)
            .unwrap()
            .replace_all(page, "value=\"TOKEN\"")
            .into_owned()
    };
    let first = without_token(&pages[0].1);
    for (_, page) in &pages {
        assert_eq!(without_token(page), first);
    }
    // The lockout still holds, and the audit log has the real reasons.
    app.clock.advance(chrono::Duration::minutes(16));
    let (later, _) = timed_sign_in(&app, "qa", PASSWORD).await;
    assert_eq!(later.status, StatusCode::OK);
    let audit = app.store.audit_page(0, 1000).await.unwrap();
    let reasons: Vec<String> = audit
        .iter()
        .filter(|r| r.entry.action == "session.sign_in_failed")
        .map(|r| {
            r.entry.after["reason"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for reason in ["unknown user", "wrong password", "disabled", "locked until"] {
        assert!(
            reasons.iter().any(|r| r.starts_with(reason)),
            "{reason} in {reasons:?}"
        );
    }
}

#[tokio::test]
async fn tokens_are_minted_by_their_user_and_name_who_used_them() {
    let app = TestApp::new().await;
    let admin = app.token(Role::Admin).to_string();
    // The finding: an admin minted a token for a lead and approved with it.
    for (user, scope, field) in [
        ("lead", "review", "scope"),
        ("lead", "admin", "scope"),
        ("lead", "read", "scope"),
        ("lead", "ingest", "user"),
    ] {
        let refused = app
            .post(
                "/api/v1/tokens",
                &admin,
                json!({"user": user, "scope": scope}),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{scope}: {}",
            refused.body
        );
        assert_eq!(refused.fields(), [field]);
    }
    let platform = user_with_token(&app, "platform", Role::Admin, &[]).await;
    drop(platform);
    let ingest = app
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"user": "platform", "scope": "ingest"}),
        )
        .await;
    assert_eq!(ingest.status, StatusCode::CREATED, "{}", ingest.body);
    assert_eq!(ingest.body["minted_by"], "admin");
    // Others than admins mint only for themselves.
    let for_someone = app
        .post(
            "/api/v1/tokens",
            app.token(Role::Lead),
            json!({"user": "analyst", "scope": "review"}),
        )
        .await;
    assert_eq!(for_someone.fields(), ["user"]);
    let lead_session = app.sign_in("lead", PASSWORD).await;
    let minted = app
        .send_session(
            "POST",
            "/api/v1/tokens",
            &lead_session,
            json!({"user": "lead", "scope": "review", "name": "lead-cli"}),
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.body);
    assert_eq!(minted.body["minted_by"], "lead");
    let lead_token = minted.body["token"].as_str().unwrap().to_string();
    let lead_token_id = minted.body["id"].as_i64().unwrap();
    // A narrow token cannot mint a wider one.
    let now = app.clock.now();
    let lead_user = app.store.user_by_name("lead").await.unwrap().unwrap();
    let reader = new_token();
    app.store
        .create_token(
            &Actor::user(lead_user.id, "lead"),
            lead_user.id,
            "reader",
            Scope::Read,
            &secret_hash(&reader),
            now,
        )
        .await
        .unwrap();
    let wider = app
        .post(
            "/api/v1/tokens",
            &reader,
            json!({"user": "lead", "scope": "review"}),
        )
        .await;
    assert_eq!(wider.fields(), ["scope"]);
    let same = app
        .post(
            "/api/v1/tokens",
            &reader,
            json!({"user": "lead", "scope": "read"}),
        )
        .await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.body);
    let listed = app.get("/api/v1/tokens", &admin).await;
    let lead_cli = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "lead-cli")
        .unwrap();
    assert_eq!(lead_cli["minted_by"], "lead");
    assert!(lead_cli.get("token").is_none());

    // The lead approves an analyst's ban with their own token: the audit
    // says who minted the token and that this approval used it.
    app.post_subject("post_1", "acct_1", "buy followers").await;
    let case = app.report("rep_1", ("content", "post_1"), "spam").await;
    let claimed = app
        .post(
            "/api/v1/queues/general/claim",
            app.token(Role::Analyst),
            json!({}),
        )
        .await;
    assert_eq!(claimed.body["id"], case);
    let decided = app
        .post(
            &format!("/api/v1/cases/{case}/decision"),
            app.token(Role::Analyst),
            json!({"version": claimed.body["version"], "violation": true, "category": "spam",
                   "actions": [{"type": "ban"}], "override_reason": "a bot account",
                   "rationale": {"what_happened": "spam", "evidence": "40 posts", "policy": "spam 2", "action": "ban", "next_steps": ""}}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    let ban = decided.body["actions"][0]["id"].as_i64().unwrap();
    let approved = app
        .post(
            &format!("/api/v1/actions/{ban}/approve"),
            &lead_token,
            json!({"reason": "the account only spams"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let audit = app.store.audit_page(0, 1000).await.unwrap();
    let minting = audit
        .iter()
        .find(|r| {
            r.entry.action == "token.create" && r.entry.target_id == lead_token_id.to_string()
        })
        .unwrap();
    assert_eq!(minting.entry.actor, "lead");
    assert_eq!(minting.entry.after["minted_by"], "lead");
    let approval = audit
        .iter()
        .find(|r| r.entry.action == "action.approve")
        .unwrap();
    assert_eq!(approval.entry.actor, "lead");
    assert_eq!(approval.entry.after["via_token"], lead_token_id);
    // A change through a session names no token.
    let decision = audit
        .iter()
        .find(|r| r.entry.action == "case.decide")
        .unwrap();
    assert!(
        decision.entry.after.get("via_token").is_some(),
        "the analyst used a token"
    );
    let signed_in = audit
        .iter()
        .find(|r| r.entry.action == "session.sign_in")
        .unwrap();
    assert!(signed_in.entry.after.get("via_token").is_none());
}

#[tokio::test]
async fn a_lease_that_ran_out_cannot_be_renewed() {
    let app = TestApp::new().await;
    let analyst = app.token(Role::Analyst).to_string();
    let case = app.report("rep_1", ("content", "post_1"), "spam").await;
    let claimed = app
        .post("/api/v1/queues/general/claim", &analyst, json!({}))
        .await;
    assert_eq!(claimed.body["id"], case);
    app.clock.advance(chrono::Duration::minutes(5));
    let renewed = app
        .post(&format!("/api/v1/cases/{case}/renew"), &analyst, json!({}))
        .await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    app.clock.advance(chrono::Duration::minutes(11));
    let late = app
        .post(&format!("/api/v1/cases/{case}/renew"), &analyst, json!({}))
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert!(late.body["detail"]
        .as_str()
        .unwrap()
        .contains("ran out; claim the case again"));
    let unchanged = app.get(&format!("/api/v1/cases/{case}"), &analyst).await;
    assert_eq!(unchanged.body["version"], renewed.body["version"]);
}

/// The `Set-Cookie` of a sign-in from `peer` (none: the in-memory router),
/// saying the browser used `proto`.
async fn session_cookie(app: &TestApp, peer: Option<&str>, proto: Option<&str>) -> String {
    let mut request =
        Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json");
    if let Some(proto) = proto {
        request = request.header("x-forwarded-proto", proto);
    }
    let mut request = request
        .body(Body::from(
            json!({"name": "analyst", "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    if let Some(peer) = peer {
        request
            .extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    }
    let answer = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    answer.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn cookies_are_secure_by_setting_or_from_a_trusted_proxy_only() {
    let settings = ServerSettings {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..ServerSettings::default()
    };
    let app = TestApp::with_settings(settings, CasePolicy::default()).await;
    let secure = |cookie: &str| cookie.split(';').any(|part| part.trim() == "Secure");
    assert!(secure(
        &session_cookie(&app, Some("10.2.3.4:5000"), Some("https")).await
    ));
    assert!(
        !secure(&session_cookie(&app, Some("203.0.113.7:5000"), Some("https")).await),
        "the header from a peer that is not a trusted proxy is ignored"
    );
    assert!(!secure(
        &session_cookie(&app, Some("10.2.3.4:5000"), Some("http")).await
    ));
    assert!(!secure(
        &session_cookie(&app, Some("10.2.3.4:5000"), None).await
    ));
    assert!(!secure(&session_cookie(&app, None, Some("https")).await));
    // The console's sign-in cookie follows the same rule.
    let mut page = Request::get("/console/sign-in")
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    page.extensions_mut()
        .insert(ConnectInfo("10.9.9.9:443".parse::<SocketAddr>().unwrap()));
    let page = app.router.clone().oneshot(page).await.unwrap();
    assert!(secure(page.headers()[header::SET_COOKIE].to_str().unwrap()));
    // The setting makes every cookie Secure.
    let always = TestApp::with_settings(
        ServerSettings {
            secure_cookies: true,
            ..ServerSettings::default()
        },
        CasePolicy::default(),
    )
    .await;
    assert!(secure(&session_cookie(&always, None, None).await));
}

#[tokio::test]
async fn cases_in_a_queue_no_longer_configured_are_seen_by_leads_and_auditors_only() {
    let app = TestApp::new().await;
    let case = app.report("rep_1", ("content", "post_1"), "spam").await;
    // The case moves to a queue that the configuration no longer has.
    let analyst = app.store.user_by_name("analyst").await.unwrap().unwrap();
    let actor = Actor::user(analyst.id, "analyst");
    let now = app.clock.now();
    app.store
        .claim_next(&actor, "general", chrono::Duration::minutes(10), now)
        .await
        .unwrap()
        .unwrap();
    app.store
        .change_status(
            &actor,
            warden_domain::CaseId(case),
            None,
            warden_store::StatusChange {
                to: warden_domain::case::CaseStatus::Escalated,
                reason: "to the retired queue".into(),
                queue: Some("retired".into()),
                deadlines: None,
            },
            now,
        )
        .await
        .unwrap();
    for role in Role::ALL {
        let answer = app
            .get(&format!("/api/v1/cases/{case}"), app.token(role))
            .await;
        let expected = match role {
            Role::Lead | Role::Auditor => StatusCode::OK,
            Role::Admin => StatusCode::FORBIDDEN,
            _ => StatusCode::NOT_FOUND,
        };
        assert_eq!(answer.status, expected, "{role}: {}", answer.body);
        let listed = app.get("/api/v1/cases", app.token(role)).await;
        if expected == StatusCode::OK {
            assert_eq!(ids(&listed), [case]);
        } else if listed.status == StatusCode::OK {
            assert!(ids(&listed).is_empty(), "{role}");
        }
    }
}

#[tokio::test]
async fn admins_set_teams_in_the_api_and_the_console() {
    let app = TestApp::with_settings(ServerSettings::default(), restricted_policy()).await;
    let admin = app.token(Role::Admin).to_string();
    let created = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"name": "cara", "role": "analyst", "password": "long enough pass", "teams": ["legal", "child_safety"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["teams"], json!(["child_safety", "legal"]));
    let bad_new = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"name": "dan", "role": "analyst", "password": "long enough pass", "teams": ["Child Safety"]}),
        )
        .await;
    assert_eq!(bad_new.fields(), ["teams"]);
    assert!(app.store.user_by_name("dan").await.unwrap().is_none());
    let set = app
        .post(
            "/api/v1/users/cara/teams",
            &admin,
            json!({"teams": ["fraud_ring"]}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["teams"], json!(["fraud_ring"]));
    let bad = app
        .post(
            "/api/v1/users/cara/teams",
            &admin,
            json!({"teams": ["no spaces allowed"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.fields(), ["teams"]);
    let nobody = app
        .post("/api/v1/users/nobody/teams", &admin, json!({"teams": []}))
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    let lead = app
        .post(
            "/api/v1/users/cara/teams",
            app.token(Role::Lead),
            json!({"teams": ["child_safety"]}),
        )
        .await;
    assert_eq!(lead.status, StatusCode::FORBIDDEN);
    let listed = app.get("/api/v1/users", &admin).await;
    let cara = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "cara")
        .unwrap();
    assert_eq!(cara["teams"], json!(["fraud_ring"]));

    // The console's users page shows and edits them.
    let page = app.get("/console/admin/users", &admin).await;
    assert!(
        html(&page).contains(r#"value="fraud_ring""#),
        "{}",
        html(&page)
    );
    let form = |teams: &str| {
        let body = serde_urlencoded::to_string([("teams", teams)]).unwrap();
        Request::post("/console/admin/users/cara/teams")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let saved = app
        .router
        .clone()
        .oneshot(form("child_safety, legal"))
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let text = String::from_utf8_lossy(&saved.into_body().collect().await.unwrap().to_bytes())
        .into_owned();
    assert!(
        text.contains("cara is in child_safety, legal now."),
        "{text}"
    );
    assert_eq!(
        app.store.user_by_name("cara").await.unwrap().unwrap().teams,
        ["child_safety", "legal"]
    );
    let refused = app.router.clone().oneshot(form("Bad Team")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.store.user_by_name("cara").await.unwrap().unwrap().teams,
        ["child_safety", "legal"],
        "a refused change changes nothing"
    );
    // Now in the team, cara sees the restricted queue.
    let cara = app.sign_in("cara", "long enough pass").await;
    let queues = app
        .send_session("GET", "/api/v1/queues", &cara, json!(null))
        .await;
    assert!(queues
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["name"] == "child-safety"));
    let audit = app.store.audit_page(0, 1000).await.unwrap();
    assert!(audit
        .iter()
        .any(|r| r.entry.action == "user.teams" && r.entry.actor == "admin"));
}
