//! QA and calibration over HTTP: plans, sampling, the blind claim, the
//! review that reveals the original, rework and acknowledgement, results
//! (JSON and CSV), restricted queues, and calibration sessions closing
//! with kappa and alpha. The blinding walk calls every API route a QA
//! reviewer can reach before their verdict and finds no field of the
//! original decision in any answer.

use axum::http::StatusCode;
use serde_json::{json, Value};

use warden_domain::access::Role;
use warden_server::routes::{Access, Surface, ROUTES};
use warden_server::Clock;
use warden_store::prelude::*;

use crate::support::TestApp;

/// Markers only the original decision holds: its decider's name, its
/// rationale and the decider's note.
const DECIDER: &str = "dana_decider";
const RATIONALE_MARK: &str = "zqx-rationale-mark";
const NOTE_MARK: &str = "zqx-note-mark";

fn rationale() -> Value {
    json!({"what_happened": format!("posted a scam link 40 times {RATIONALE_MARK}"), "evidence": "posts 1-40",
           "policy": "spam 2.1", "action": "removed", "next_steps": ""})
}

/// A spam report on `post`, claimed and decided by `token` (with a note);
/// answers (case id, decision id).
async fn decided(app: &TestApp, post: &str, token: &str) -> (i64, i64) {
    app.post_subject(
        post,
        &format!("acct_{post}"),
        "buy followers at spam.example",
    )
    .await;
    app.report(&format!("rep_{post}"), ("content", post), "spam")
        .await;
    let claimed = app
        .post("/api/v1/queues/general/claim", token, json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let case_id = claimed.body["id"].as_i64().unwrap();
    let version = claimed.body["version"].as_i64().unwrap();
    let note = app
        .post(
            &format!("/api/v1/cases/{case_id}/notes"),
            token,
            json!({"what_happened": format!("checked the link {NOTE_MARK}")}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    let decided = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            token,
            json!({"version": version, "violation": true, "category": "spam",
                   "actions": [{"type": "remove_content"}], "rationale": rationale()}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    (case_id, decided.body["id"].as_i64().unwrap())
}

fn plan(rate: f64) -> Value {
    json!({"name": "everything", "seed": 7, "rate": rate})
}

/// Sampling with a plan taking every decision.
async fn sampled(app: &TestApp) {
    let lead = app.token(Role::Lead);
    let saved = app.post("/api/v1/qa/plans", lead, plan(1.0)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let run = app.post("/api/v1/qa/sample", lead, json!({})).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
}

fn leaks(body: &Value) -> Vec<&'static str> {
    let text = body.to_string();
    [DECIDER, RATIONALE_MARK, NOTE_MARK]
        .into_iter()
        .filter(|mark| text.contains(mark))
        .collect()
}

/// The concrete path of an API route for the walk; a route with a
/// parameter the walk does not know fails the test, so that a new route
/// is walked too.
fn concrete(path: &str, case_id: i64, decision_id: i64, action_id: i64, post: &str) -> String {
    let filled = path
        .replace("/cases/{id}", &format!("/cases/{case_id}"))
        .replace("/qa/reviews/{id}", &format!("/qa/reviews/{decision_id}"))
        .replace("/actions/{id}", &format!("/actions/{action_id}"))
        .replace(
            "/subjects/{kind}/{id}",
            &format!("/subjects/content/{post}"),
        )
        .replace("/queues/{queue}", "/queues/general")
        .replace("/taxonomy/versions/{id}", "/taxonomy/versions/1")
        .replace("/calibration/sessions/{id}", "/calibration/sessions/1")
        .replace("/incidents/{id}", "/incidents/1")
        .replace("/bulk-actions/{bulk}", "/bulk-actions/1")
        .replace("/evidence/{eid}", "/evidence/1");
    assert!(
        !filled.contains('{'),
        "the blinding walk does not know how to fill {path}"
    );
    let query = match path {
        "/api/v1/notices" => format!("?decision_id={decision_id}"),
        "/api/v1/calibration/notes" => "?category=spam".to_string(),
        _ => String::new(),
    };
    format!("{filled}{query}")
}

#[tokio::test]
async fn the_blinding_walk_finds_nothing_of_the_original_before_the_verdict() {
    the_blinding_walk_finds_nothing_of_the_original_before_the_verdict_on(TestApp::new().await)
        .await;
    if let Some(app) = TestApp::postgres().await {
        the_blinding_walk_finds_nothing_of_the_original_before_the_verdict_on(app).await;
    }
}

async fn the_blinding_walk_finds_nothing_of_the_original_before_the_verdict_on(app: TestApp) {
    let dana = app.user_token(DECIDER, Role::Analyst).await;
    let (case_id, decision_id) = decided(&app, "p1", &dana).await;
    let action_id = app
        .store
        .case_detail(warden_domain::CaseId(case_id))
        .await
        .unwrap()
        .unwrap()
        .decisions[0]
        .actions[0]
        .id;
    sampled(&app).await;
    let qa = app.token(Role::Qa).to_string();
    // Before the claim and after it, every GET a QA user may make.
    let claimed = app.post("/api/v1/qa/claim", &qa, json!({})).await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(claimed.body["id"], decision_id);
    assert_eq!(claimed.body["status"], "claimed");
    assert!(claimed.body.get("revealed").is_none());
    assert!(leaks(&claimed.body).is_empty(), "{}", claimed.body);
    assert_eq!(
        claimed.body["case"]["reports"].as_array().unwrap().len(),
        1,
        "the case as decided"
    );
    let mut walked = 0;
    for route in ROUTES
        .iter()
        .filter(|r| r.surface == Surface::Api && r.method == "GET")
    {
        let allowed = match route.access {
            Access::Public | Access::SignedIn => true,
            Access::Needs(permission) => Role::Qa.grants(permission),
        };
        if !allowed {
            continue;
        }
        let path = concrete(route.path, case_id, decision_id, action_id, "p1");
        let answer = app.get(&path, &qa).await;
        assert!(
            answer.status.is_success() || answer.status == StatusCode::NOT_FOUND,
            "{path}: {} {}",
            answer.status,
            answer.body
        );
        assert_eq!(
            leaks(&answer.body),
            Vec::<&str>::new(),
            "{path} leaks: {}",
            answer.body
        );
        walked += 1;
    }
    assert!(walked >= 15, "walked only {walked} routes");
    // The case itself: no decisions, notes or holder.
    let case = app.get(&format!("/api/v1/cases/{case_id}"), &qa).await;
    assert_eq!(case.status, StatusCode::OK);
    assert_eq!(case.body["decisions"], json!([]));
    assert_eq!(case.body["notes"], json!([]));
    // Releasing and claiming again stay blind.
    let released = app
        .post(
            &format!("/api/v1/qa/reviews/{decision_id}/release"),
            &qa,
            json!({}),
        )
        .await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert!(leaks(&released.body).is_empty());
    let again = app.post("/api/v1/qa/claim", &qa, json!({})).await;
    assert!(leaks(&again.body).is_empty());

    // The verdict reveals the original and the agreement.
    let reviewed = app
        .post(
            &format!("/api/v1/qa/reviews/{decision_id}"),
            &qa,
            json!({"verdict": {"violation": true, "category": "spam", "actions": [{"type": "remove_content"}]},
                   "rubric": {"decision_correct": true, "category_correct": true,
                              "action_proportionate": true, "documentation": 4},
                   "feedback": ""}),
        )
        .await;
    assert_eq!(reviewed.status, StatusCode::OK, "{}", reviewed.body);
    assert_eq!(reviewed.body["revealed"]["original"]["decided_by"], DECIDER);
    assert_eq!(reviewed.body["revealed"]["agrees"], true);
    assert_eq!(
        reviewed.body["status"], "closed",
        "nothing for the decider to read"
    );
    let case = app.get(&format!("/api/v1/cases/{case_id}"), &qa).await;
    assert_eq!(
        case.body["decisions"].as_array().unwrap().len(),
        1,
        "revealed now"
    );
}

#[tokio::test]
async fn a_wrong_decision_goes_back_for_rework_and_the_decider_acknowledges() {
    a_wrong_decision_goes_back_for_rework_and_the_decider_acknowledges_on(TestApp::new().await)
        .await;
    if let Some(app) = TestApp::postgres().await {
        a_wrong_decision_goes_back_for_rework_and_the_decider_acknowledges_on(app).await;
    }
}

async fn a_wrong_decision_goes_back_for_rework_and_the_decider_acknowledges_on(app: TestApp) {
    let analyst = app.token(Role::Analyst).to_string();
    let (case_id, decision_id) = decided(&app, "p1", &analyst).await;
    sampled(&app).await;
    // The decider never reviews their own decision; nor may an analyst.
    let own = app.post("/api/v1/qa/claim", &analyst, json!({})).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);
    let qa = app.token(Role::Qa).to_string();
    let claimed = app.post("/api/v1/qa/claim", &qa, json!({})).await;
    assert_eq!(claimed.status, StatusCode::OK);
    // Nothing left for another reviewer.
    let empty = app
        .post("/api/v1/qa/claim", app.token(Role::Lead), json!({}))
        .await;
    assert_eq!(empty.status, StatusCode::NO_CONTENT);
    // Bad input: every field named.
    let bad = app
        .post(
            &format!("/api/v1/qa/reviews/{decision_id}"),
            &qa,
            json!({"verdict": {"violation": false, "category": "gossip", "actions": [{"type": "nuke"}]},
                   "rubric": {"decision_correct": false, "documentation": 9}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let fields = bad.fields();
    for field in [
        "verdict.category",
        "verdict.actions[0].type",
        "rubric.category_correct",
        "rubric.documentation",
        "feedback",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} not in {fields:?}"
        );
    }
    let reviewed = app
        .post(
            &format!("/api/v1/qa/reviews/{decision_id}"),
            &qa,
            json!({"verdict": {"violation": false, "category": "spam"},
                   "rubric": {"decision_correct": false, "category_correct": true,
                              "action_proportionate": false, "documentation": 2},
                   "feedback": "Quoting spam to report it is not spam."}),
        )
        .await;
    assert_eq!(reviewed.status, StatusCode::OK, "{}", reviewed.body);
    assert_eq!(reviewed.body["status"], "scored");
    assert_eq!(reviewed.body["rubric"]["rework"], true);
    assert_eq!(reviewed.body["revealed"]["violation_matches"], false);
    // The case is reopened for the decider's correction.
    let case = app.get(&format!("/api/v1/cases/{case_id}"), &analyst).await;
    assert_eq!(case.body["status"], "reopened", "{}", case.body);
    // The feedback waits on the decider's side until acknowledged.
    let feedback = app.get("/api/v1/qa/feedback", &analyst).await;
    assert_eq!(
        feedback.body["reviews"].as_array().unwrap().len(),
        1,
        "{}",
        feedback.body
    );
    assert_eq!(feedback.body["reviews"][0]["reworked"], true);
    let not_theirs = app
        .post(
            &format!("/api/v1/qa/reviews/{decision_id}/acknowledge"),
            app.token(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(
        not_theirs.status,
        StatusCode::FORBIDDEN,
        "{}",
        not_theirs.body
    );
    let acknowledged = app
        .post(
            &format!("/api/v1/qa/reviews/{decision_id}/acknowledge"),
            &analyst,
            json!({}),
        )
        .await;
    assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.body);
    assert_eq!(acknowledged.body["status"], "closed");
    assert!(
        app.get("/api/v1/qa/feedback", &analyst).await.body["reviews"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Listed, counted in the results, exported.
    let list = app.get("/api/v1/qa/reviews?reviewer=qa", &qa).await;
    assert_eq!(list.body["reviews"].as_array().unwrap().len(), 1);
    assert!(
        app.get("/api/v1/qa/reviews?reviewer=lead", &qa).await.body["reviews"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let results = app.get("/api/v1/qa/results?by=queue&weeks=4", &qa).await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.body);
    assert_eq!(results.body["rows"][0]["group"], "general");
    assert_eq!(results.body["rows"][0]["reworked"], 1);
    assert_eq!(results.body["rows"][0]["pass_rate"], 0.0);
    let csv = app
        .send(
            "GET",
            "/api/v1/qa/results.csv?by=reviewer",
            Some(&qa),
            None,
            Vec::new(),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[axum::http::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let audit = app.audit_actions().await;
    for action in [
        "qa.plan.create",
        "qa.sample",
        "qa.claim",
        "qa.submit_verdict",
        "qa.score",
        "qa.acknowledge",
    ] {
        assert!(
            audit.iter().any(|a| a == action),
            "{action} not audited: {audit:?}"
        );
    }
}

#[tokio::test]
async fn plans_are_checked_and_only_qa_and_leads_review() {
    plans_are_checked_and_only_qa_and_leads_review_on(TestApp::new().await).await;
    if let Some(app) = TestApp::postgres().await {
        plans_are_checked_and_only_qa_and_leads_review_on(app).await;
    }
}

async fn plans_are_checked_and_only_qa_and_leads_review_on(app: TestApp) {
    let bad = app
        .post(
            "/api/v1/qa/plans",
            app.token(Role::Qa),
            json!({"name": "Bad Name", "seed": 1, "rate": 1.5, "queues": ["nowhere"]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let fields = bad.fields();
    assert!(
        fields.contains(&"name".to_string()) && fields.contains(&"rate".to_string()),
        "{fields:?}"
    );
    for role in [
        Role::Analyst,
        Role::Associate,
        Role::Policy,
        Role::Admin,
        Role::Auditor,
    ] {
        let refused = app
            .post("/api/v1/qa/claim", app.token(role), json!({}))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role:?}");
    }
    let missing = app.get("/api/v1/qa/reviews/999", app.token(Role::Qa)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_queue_the_reviewer_may_not_see_keeps_its_sampled_decisions_from_them() {
    a_queue_the_reviewer_may_not_see_keeps_its_sampled_decisions_from_them_on(TestApp::new().await)
        .await;
    if let Some(app) = TestApp::postgres().await {
        a_queue_the_reviewer_may_not_see_keeps_its_sampled_decisions_from_them_on(app).await;
    }
}

async fn a_queue_the_reviewer_may_not_see_keeps_its_sampled_decisions_from_them_on(app: TestApp) {
    let analyst = app.token(Role::Analyst).to_string();
    let (_, decision_id) = decided(&app, "p1", &analyst).await;
    // The decision as sampled from a queue only leads and auditors see (no
    // longer configured): the store's own write of a sample.
    let mut decision = app
        .store
        .decisions_to_sample(0, 10)
        .await
        .unwrap()
        .remove(0);
    decision.queue = "legal-hold".into();
    let sample = warden_store::NewQaSample {
        decision,
        plans: vec![warden_store::SamplePlanTag {
            plan: "p".into(),
            reason: "test".into(),
            by_rate: true,
        }],
    };
    app.store
        .record_qa_samples(
            &warden_store::Actor::system(),
            vec![sample],
            (0, decision_id),
            app.clock.now(),
        )
        .await
        .unwrap();
    let qa = app.token(Role::Qa);
    assert_eq!(
        app.post("/api/v1/qa/claim", qa, json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/qa/reviews/{decision_id}"), qa)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A lead sees it and may claim it.
    let lead = app.token(Role::Lead);
    assert_eq!(
        app.post("/api/v1/qa/claim", lead, json!({})).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_calibration_session_with_three_raters_closes_with_kappa_and_alpha() {
    a_calibration_session_with_three_raters_closes_with_kappa_and_alpha_on(TestApp::new().await)
        .await;
    if let Some(app) = TestApp::postgres().await {
        a_calibration_session_with_three_raters_closes_with_kappa_and_alpha_on(app).await;
    }
}

async fn a_calibration_session_with_three_raters_closes_with_kappa_and_alpha_on(app: TestApp) {
    let mut cases = Vec::new();
    for post in ["c1", "c2", "c3"] {
        app.post_subject(post, "acct_c", "text").await;
        cases.push(
            app.report(&format!("rep_{post}"), ("content", post), "spam")
                .await,
        );
    }
    let ann = app.user_token("ann", Role::Analyst).await;
    let bo = app.user_token("bo", Role::Analyst).await;
    let cy = app.user_token("cy", Role::Analyst).await;
    let qa = app.token(Role::Qa).to_string();
    let created = app
        .post(
            "/api/v1/calibration/sessions",
            &qa,
            json!({"title": "Spam or not?", "case_ids": cases, "raters": ["ann", "bo", "cy"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["status"], "open");
    let labels = [
        (&ann, "ann", ["spam", "spam", "harassment"]),
        (&bo, "bo", ["spam", "spam", "spam"]),
        (&cy, "cy", ["spam", "harassment", "harassment"]),
    ];
    for (token, name, row) in labels {
        for (case, label) in cases.iter().zip(row) {
            let rated = app
                .post(
                    &format!("/api/v1/calibration/sessions/{id}/ratings"),
                    token,
                    json!({"case_id": case, "rater": name, "label": label}),
                )
                .await;
            assert_eq!(rated.status, StatusCode::CREATED, "{}", rated.body);
            // Blind: a rater sees only their own ratings while open.
            assert!(rated.body["ratings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["rater"] == name));
        }
    }
    // Final: another label is refused, the same one is a duplicate.
    let changed = app
        .post(
            &format!("/api/v1/calibration/sessions/{id}/ratings"),
            &ann,
            json!({"case_id": cases[0], "rater": "ann", "label": "harassment"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::CONFLICT, "{}", changed.body);
    let as_other = app
        .post(
            &format!("/api/v1/calibration/sessions/{id}/ratings"),
            &ann,
            json!({"case_id": cases[0], "rater": "bo", "label": "spam"}),
        )
        .await;
    assert_eq!(as_other.status, StatusCode::UNPROCESSABLE_ENTITY);
    let not_rater = app
        .post(
            &format!("/api/v1/calibration/sessions/{id}/ratings"),
            app.token(Role::Analyst),
            json!({"case_id": cases[0], "rater": "analyst", "label": "spam"}),
        )
        .await;
    assert_eq!(
        not_rater.status,
        StatusCode::NOT_FOUND,
        "not a rater, no QA rights: not found"
    );
    let qa_not_rater = app
        .post(
            &format!("/api/v1/calibration/sessions/{id}/ratings"),
            &qa,
            json!({"case_id": cases[0], "rater": "qa", "label": "spam"}),
        )
        .await;
    assert_eq!(
        qa_not_rater.status,
        StatusCode::FORBIDDEN,
        "{}",
        qa_not_rater.body
    );
    let open = app
        .get(&format!("/api/v1/calibration/sessions/{id}"), &qa)
        .await;
    assert!(open.body["report"].is_null());
    assert!(
        open.body["ratings"].as_array().unwrap().is_empty(),
        "nobody sees others' ratings while open"
    );
    let closed = app
        .post(
            &format!("/api/v1/calibration/sessions/{id}/close"),
            &qa,
            json!({}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let report = &closed.body["report"];
    assert_eq!(report["ratings"], 9);
    assert_eq!(closed.body["ratings"].as_array().unwrap().len(), 9);
    // Fleiss: P̄ = (1 + 1/3 + 1/3) / 3 = 5/9; p = (6/9, 3/9), P̄e = 5/9: kappa 0.
    let p_bar = report["percent_agreement"].as_f64().unwrap();
    assert!((p_bar - 5.0 / 9.0).abs() < 1e-9, "{report}");
    assert!(
        report["fleiss_kappa"].as_f64().unwrap().abs() < 1e-9,
        "{report}"
    );
    // Krippendorff: n = 9, o_cc: spam 4, harassment 1 (pairs weighted 1/(m−1)=1/2 ... )
    let alpha = report["krippendorff_alpha_nominal"].as_f64().unwrap();
    assert!((alpha - 1.0 / 9.0).abs() < 1e-9, "alpha {alpha}");
    assert!(report["cohen_kappa"].is_null(), "three raters");
    assert_eq!(report["cases"][0]["consensus"], "spam");
    assert_eq!(report["most_disputed"].as_array().unwrap().len(), 2);
    let resolved = app
        .post(
            &format!("/api/v1/calibration/sessions/{id}/resolution"),
            &qa,
            json!({"note": "Quoting spam to report it is not spam.", "categories": ["spam"]}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(resolved.body["status"], "resolved");
    let notes = app
        .get("/api/v1/calibration/notes?category=spam", &ann)
        .await;
    assert_eq!(notes.body.as_array().unwrap().len(), 1);
    let list = app.get("/api/v1/calibration/sessions", &ann).await;
    assert_eq!(list.body[0]["id"], id);
}

#[tokio::test]
async fn the_window_pass_tops_up_each_reviewer_to_the_plans_minimum() {
    the_window_pass_tops_up_each_reviewer_to_the_plans_minimum_on(TestApp::new().await).await;
    if let Some(app) = TestApp::postgres().await {
        the_window_pass_tops_up_each_reviewer_to_the_plans_minimum_on(app).await;
    }
}

async fn the_window_pass_tops_up_each_reviewer_to_the_plans_minimum_on(app: TestApp) {
    let analyst = app.token(Role::Analyst).to_string();
    let (_, decision_id) = decided(&app, "p1", &analyst).await;
    let lead = app.token(Role::Lead);
    let plan = json!({"name": "thin", "seed": 3, "rate": 0.000001, "minimum_per_reviewer": 1});
    assert_eq!(
        app.post("/api/v1/qa/plans", lead, plan).await.status,
        StatusCode::OK
    );
    let run = app.post("/api/v1/qa/sample", lead, json!({})).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(
        run.body,
        json!({"read": 1, "sampled": 0, "topped_up": 0}),
        "the week is not over"
    );
    // A week later the decision's week is complete: its reviewer has no
    // sampled decision, so the pass adds one.
    app.clock.advance(chrono::Duration::days(7));
    let run = app.post("/api/v1/qa/sample", lead, json!({})).await;
    assert_eq!(run.body, json!({"read": 0, "sampled": 0, "topped_up": 1}));
    let again = app.post("/api/v1/qa/sample", lead, json!({})).await;
    assert_eq!(again.body["topped_up"], 0, "the pass adds nothing twice");
    let stored = app.store.qa_assignment(decision_id).await.unwrap().unwrap();
    assert!(
        stored.plans[0]
            .reason
            .contains("minimum of reviewer analyst"),
        "{:?}",
        stored.plans
    );
    assert!(!stored.plans[0].by_rate);
}

#[tokio::test]
async fn plans_show_their_expected_weekly_load_from_recent_decisions() {
    plans_show_their_expected_weekly_load_from_recent_decisions_on(TestApp::new().await).await;
    if let Some(app) = TestApp::postgres().await {
        plans_show_their_expected_weekly_load_from_recent_decisions_on(app).await;
    }
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

async fn plans_show_their_expected_weekly_load_from_recent_decisions_on(app: TestApp) {
    let analyst = app.token(Role::Analyst).to_string();
    decided(&app, "p1", &analyst).await;
    decided(&app, "p2", &analyst).await;
    let lead = app.token(Role::Lead);
    // Two decisions in the last four weeks: half a decision a week. Half
    // of it is drawn (0.25); the analyst's minimum of one a week tops up
    // to all of their 0.5.
    let plan = json!({"name": "half", "seed": 1, "rate": 0.5, "minimum_per_reviewer": 1});
    let saved = app.post("/api/v1/qa/plans", lead, plan).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let load = &saved.body["expected_weekly_load"];
    assert!(close(&load["in_scope"], 0.5), "{load}");
    assert!(close(&load["by_rate"], 0.25), "{load}");
    assert!(close(&load["by_rate_capped"], 0.25), "{load}");
    assert!(close(&load["by_minimums"], 0.25), "{load}");
    assert!(close(&load["total"], 0.5), "{load}");
    let arithmetic: Vec<&str> = load["arithmetic"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap())
        .collect();
    assert!(
        arithmetic[0].contains("2 decisions in the 4 weeks before"),
        "{arithmetic:?}"
    );
    assert!(
        arithmetic
            .iter()
            .any(|l| l.contains("minimum 1 for reviewer analyst")),
        "{arithmetic:?}"
    );
    assert!(
        arithmetic
            .last()
            .unwrap()
            .starts_with("expected weekly load:"),
        "{arithmetic:?}"
    );
    let listed = app.get("/api/v1/qa/plans", lead).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body[0]["expected_weekly_load"], *load);
    // Five weeks on, the decisions are older than the weeks counted.
    app.clock.advance(chrono::Duration::weeks(5));
    let later = app.get("/api/v1/qa/plans", lead).await;
    assert!(
        close(&later.body[0]["expected_weekly_load"]["total"], 0.0),
        "{}",
        later.body
    );
}
