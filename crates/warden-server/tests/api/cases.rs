//! Case work through the API: claim, read, decide, conflicts, leases,
//! escalation, notes, history and the audit records they leave.

use axum::http::StatusCode;
use chrono::Duration;
use serde_json::json;

use warden_domain::access::Role;
use warden_domain::routing::{QueueDefinition, Router};
use warden_server::ServerSettings;
use warden_store::CasePolicy;

use crate::support::TestApp;

fn rationale() -> serde_json::Value {
    json!({"what_happened": "posted the same scam link 40 times", "evidence": "posts 1-40", "policy": "spam 2.1",
           "action": "removed and suspended for a week", "next_steps": "watch the device"})
}

#[tokio::test]
async fn claim_read_decide_and_see_it_in_the_history() {
    let app = TestApp::new().await;
    app.post_subject("post_1", "acct_9", "buy followers at spam.example")
        .await;
    let case_id = app.report("rep_1", ("content", "post_1"), "spam").await;
    let analyst = app.token(Role::Analyst).to_string();

    let claimed = app
        .post("/api/v1/queues/general/claim", &analyst, json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    for field in [
        "id",
        "queue",
        "status",
        "version",
        "subject",
        "reports",
        "signals",
        "lease_expires_at",
    ] {
        assert!(
            claimed.body.get(field).is_some(),
            "claim answer lacks {field}"
        );
    }
    assert_eq!(claimed.body["id"], case_id);
    assert_eq!(claimed.body["status"], "in_review");
    assert_eq!(claimed.body["assignee"], "analyst");
    assert_eq!(claimed.body["reports"][0]["id"], "rep_1");
    let version = claimed.body["version"].as_i64().unwrap();
    assert_eq!(
        app.post(
            "/api/v1/queues/general/claim",
            app.token(Role::Lead),
            json!({})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );

    let shown = app.get(&format!("/api/v1/cases/{case_id}"), &analyst).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(
        shown.body["subject_record"]["text"],
        "buy followers at spam.example"
    );
    assert_eq!(shown.body["transitions"].as_array().unwrap().len(), 2);

    let decision = json!({"version": version, "violation": true, "category": "spam",
        "actions": [{"type": "remove_content"}, {"type": "suspend", "duration": "P7D"}], "rationale": rationale()});
    let mut stale = decision.clone();
    stale["version"] = json!(version - 1);
    let conflict = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            stale,
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    let decided = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            decision.clone(),
        )
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    assert_eq!(decided.body["actions"][1]["type"], "suspend");
    assert_eq!(decided.body["actions"][1]["duration"], "P7D");
    assert_eq!(
        decided.body["actions"][1]["target"],
        json!({"kind": "account", "id": "acct_9"})
    );
    assert_eq!(decided.body["actions"][0]["status"], "pending");

    let twice = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            decision,
        )
        .await;
    assert_eq!(
        twice.status,
        StatusCode::CONFLICT,
        "an analyst cannot redo a decision"
    );

    let history = app
        .get("/api/v1/subjects/account/acct_9/history", &analyst)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert_eq!(history.body["strikes"].as_array().unwrap().len(), 1);
    assert_eq!(history.body["active_strike_weight"], 1);
    let post_history = app
        .get("/api/v1/subjects/content/post_1/history", &analyst)
        .await;
    assert_eq!(
        post_history.body["decisions"][0]["rationale"]["policy"],
        "spam 2.1"
    );
    assert_eq!(post_history.body["reports"][0]["id"], "rep_1");
    assert_eq!(post_history.body["cases"][0]["status"], "resolved");

    let actions = app.audit_actions().await;
    for expected in [
        "intake.reports",
        "case.claim",
        "case.read",
        "case.decide",
        "subject.read",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "no {expected} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn decisions_are_checked_field_by_field() {
    let app = TestApp::new().await;
    let case_id = app.report("rep_1", ("content", "post_1"), "spam").await;
    let analyst = app.token(Role::Analyst).to_string();
    let claimed = app
        .post("/api/v1/queues/general/claim", &analyst, json!({}))
        .await;
    let version = claimed.body["version"].as_i64().unwrap();
    let bad = app
        .post(
            &format!("/api/v1/cases/{case_id}/decision"),
            &analyst,
            json!({"version": version, "violation": true, "category": "gossip",
                   "actions": [{"type": "suspend"}, {"type": "restrict", "duration": "P1X"}, {"type": "nuke"}],
                   "rationale": {"what_happened": ""}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.fields(),
        [
            "category",
            "actions[0].duration",
            "actions[1].duration",
            "actions[2].type"
        ]
    );
    let no_owner = app
        .post(&format!("/api/v1/cases/{case_id}/decision"), &analyst,
              json!({"version": version, "violation": true, "category": "spam", "actions": [{"type": "ban"}], "rationale": rationale()}))
        .await;
    assert_eq!(no_owner.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_owner.fields(), ["actions[0].type"]);
    let no_rationale = app
        .post(&format!("/api/v1/cases/{case_id}/decision"), &analyst,
              json!({"version": version, "violation": false, "category": "spam", "rationale": {"what_happened": "looked fine"}}))
        .await;
    assert_eq!(no_rationale.fields(), ["rationale.policy"]);
}

#[tokio::test]
async fn leases_expire_holds_keep_and_leads_reassign() {
    let app = TestApp::new().await;
    let case_id = app.report("rep_1", ("content", "post_1"), "spam").await;
    let analyst = app.token(Role::Analyst).to_string();
    let associate = app.token(Role::Associate).to_string();
    let lead = app.token(Role::Lead).to_string();
    let claimed = app
        .post("/api/v1/queues/general/claim", &analyst, json!({}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(11));
    let taken = app
        .post("/api/v1/queues/general/claim", &associate, json!({}))
        .await;
    assert_eq!(
        taken.body["assignee"], "associate",
        "the expired lease went to the next claimer"
    );
    let renew = app
        .post(
            &format!("/api/v1/cases/{case_id}/renew"),
            &analyst,
            json!({}),
        )
        .await;
    assert_eq!(renew.status, StatusCode::CONFLICT);
    let held = app
        .post(
            &format!("/api/v1/cases/{case_id}/hold"),
            &associate,
            json!({"reason": "asked a lead"}),
        )
        .await;
    assert_eq!(held.body["held"], true);
    app.clock.advance(Duration::hours(2));
    assert_eq!(
        app.post("/api/v1/queues/general/claim", &analyst, json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let no_reason = app
        .post(
            &format!("/api/v1/cases/{case_id}/hold"),
            &associate,
            json!({"reason": "  "}),
        )
        .await;
    assert_eq!(no_reason.fields(), ["reason"]);
    let reassigned = app
        .post(
            &format!("/api/v1/cases/{case_id}/assign"),
            &lead,
            json!({"user": "analyst"}),
        )
        .await;
    assert_eq!(reassigned.status, StatusCode::OK, "{}", reassigned.body);
    assert_eq!(reassigned.body["assignee"], "analyst");
    assert_eq!(reassigned.body["held"], false);
    let not_yours = app
        .post(
            &format!("/api/v1/cases/{case_id}/release"),
            &associate,
            json!({}),
        )
        .await;
    assert_eq!(not_yours.status, StatusCode::CONFLICT);
    let released = app
        .post(
            &format!("/api/v1/cases/{case_id}/release"),
            &lead,
            json!({}),
        )
        .await;
    assert_eq!(released.status, StatusCode::OK);
    assert!(released.body["assignee"].is_null());
    let to_qa = app
        .post(
            &format!("/api/v1/cases/{case_id}/assign"),
            &lead,
            json!({"user": "qa"}),
        )
        .await;
    assert_eq!(to_qa.fields(), ["user"]);
}

#[tokio::test]
async fn escalation_wait_resume_reopen_and_notes() {
    let app = TestApp::new().await;
    app.post_subject("post_1", "acct_1", "I know where you live")
        .await;
    let case_id = app
        .report("rep_1", ("content", "post_1"), "harassment")
        .await;
    let analyst = app.token(Role::Analyst).to_string();
    let lead = app.token(Role::Lead).to_string();
    let claimed = app
        .post("/api/v1/queues/general/claim", &analyst, json!({}))
        .await;
    let note = app
        .post(
            &format!("/api/v1/cases/{case_id}/notes"),
            &analyst,
            json!({"what_happened": "threat", "evidence": "screenshot"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let empty_note = app
        .post(
            &format!("/api/v1/cases/{case_id}/notes"),
            &analyst,
            json!({}),
        )
        .await;
    assert_eq!(empty_note.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_queue = app
        .post(
            &format!("/api/v1/cases/{case_id}/escalate"),
            &analyst,
            json!({"reason": "credible threat", "queue": "nowhere"}),
        )
        .await;
    assert_eq!(no_queue.fields(), ["queue"]);
    let version = claimed.body["version"].as_i64().unwrap();
    let escalated = app
        .post(
            &format!("/api/v1/cases/{case_id}/escalate"),
            &analyst,
            json!({"reason": "credible threat", "queue": "general", "version": version}),
        )
        .await;
    assert_eq!(escalated.status, StatusCode::OK, "{}", escalated.body);
    assert_eq!(escalated.body["status"], "escalated");
    let picked = app
        .post("/api/v1/queues/general/claim", &lead, json!({}))
        .await;
    assert_eq!(picked.body["id"], case_id);
    let waiting = app
        .post(
            &format!("/api/v1/cases/{case_id}/wait"),
            &lead,
            json!({"reason": "asked the platform for IP logs"}),
        )
        .await;
    assert_eq!(waiting.body["status"], "waiting_for_information");
    assert_eq!(
        app.post("/api/v1/queues/general/claim", &lead, json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let resumed = app
        .post(&format!("/api/v1/cases/{case_id}/resume"), &lead, json!({}))
        .await;
    assert_eq!(resumed.body["status"], "in_review");
    let again = app
        .post("/api/v1/queues/general/claim", &lead, json!({}))
        .await;
    let decided = app
        .post(&format!("/api/v1/cases/{case_id}/decision"), &lead,
              json!({"version": again.body["version"], "violation": true, "category": "harassment", "actions": [{"type": "warn"}], "rationale": rationale()}))
        .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    let reopened = app
        .post(
            &format!("/api/v1/cases/{case_id}/reopen"),
            &lead,
            json!({"reason": "appeal with new context"}),
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
    assert_eq!(reopened.body["status"], "reopened");
    let by_analyst = app
        .post(
            &format!("/api/v1/cases/{case_id}/reopen"),
            &analyst,
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(by_analyst.status, StatusCode::FORBIDDEN);
    let shown = app.get(&format!("/api/v1/cases/{case_id}"), &lead).await;
    let path: Vec<&str> = shown.body["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        path,
        [
            "new",
            "in_review",
            "escalated",
            "in_review",
            "waiting_for_information",
            "in_review",
            "resolved",
            "reopened"
        ]
    );
    assert_eq!(shown.body["notes"][0]["body"]["evidence"], "screenshot");
}

#[tokio::test]
async fn restricted_queues_admit_only_their_roles() {
    let mut child_safety = QueueDefinition::catch_all("child-safety");
    child_safety.categories = vec!["child_safety".into()];
    child_safety.roles = vec![Role::Analyst, Role::Lead];
    let policy = CasePolicy {
        router: Router::new(vec![child_safety]).unwrap(),
        ..CasePolicy::default()
    };
    let app = TestApp::with_settings(ServerSettings::default(), policy).await;
    app.report("rep_1", ("content", "post_1"), "child_safety")
        .await;
    let associate = app
        .post(
            "/api/v1/queues/child-safety/claim",
            app.token(Role::Associate),
            json!({}),
        )
        .await;
    assert_eq!(associate.status, StatusCode::FORBIDDEN);
    let analyst = app
        .post(
            "/api/v1/queues/child-safety/claim",
            app.token(Role::Analyst),
            json!({}),
        )
        .await;
    assert_eq!(analyst.status, StatusCode::OK);
    assert_eq!(analyst.body["severity"], "critical");
    let missing = app
        .post(
            "/api/v1/queues/nowhere/claim",
            app.token(Role::Analyst),
            json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn personal_data_is_masked_unless_revealed_with_a_reason() {
    let app = TestApp::new().await;
    app.ingest("/api/v1/subjects", json!({"kind": "account", "id": "acct_1", "attributes": {"email_hash": "abc", "ips": ["203.0.113.9"], "country": "DE"}})).await;
    app.ingest("/api/v1/events", json!({"id": "e1", "type": "login", "occurred_at": "2026-11-20T09:00:00Z", "actor": {"kind": "account", "id": "acct_1"}, "ip": "203.0.113.9"})).await;
    let analyst = app.token(Role::Analyst).to_string();
    let masked = app
        .get("/api/v1/subjects/account/acct_1/history", &analyst)
        .await;
    assert_eq!(
        masked.body["subject"]["attributes"]["email_hash"],
        "[masked]"
    );
    assert_eq!(masked.body["subject"]["attributes"]["ips"][0], "[masked]");
    assert_eq!(masked.body["subject"]["attributes"]["country"], "DE");
    assert_eq!(masked.body["events"][0]["ip"], "[masked]");
    let revealed = app
        .get(
            "/api/v1/subjects/account/acct_1/history?reveal_reason=linked%20fraud%20ring",
            &analyst,
        )
        .await;
    assert_eq!(
        revealed.body["subject"]["attributes"]["ips"][0],
        "203.0.113.9"
    );
    assert_eq!(revealed.body["pii_revealed"], true);
    let associate = app
        .get(
            "/api/v1/subjects/account/acct_1/history?reveal_reason=curious",
            app.token(Role::Associate),
        )
        .await;
    assert_eq!(associate.status, StatusCode::FORBIDDEN);
    let audit = app
        .get("/api/v1/audit?limit=500", app.token(Role::Auditor))
        .await;
    let reveal = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "pii.reveal")
        .expect("the reveal is audited");
    assert_eq!(reveal["actor"], "analyst");
    assert_eq!(reveal["after"]["reason"], "linked fraud ring");
}

/// A live model trained on a few posts: spam words against everyday ones.
fn spam_model() -> Vec<u8> {
    use warden_classifier::{train, Example, Labels, TrainingOptions};
    let texts: Vec<(String, String, bool)> = (0..40)
        .map(|i| {
            let spam = i % 2 == 0;
            let text = if spam {
                format!("buy cheap followers now, free offer {i}")
            } else {
                format!("lunch with the family at the park {i}")
            };
            (format!("d{i}"), text, spam)
        })
        .collect();
    let examples: Vec<Example<'_>> = texts
        .iter()
        .map(|(id, text, positive)| Example {
            id,
            text,
            positive: *positive,
        })
        .collect();
    let options = TrainingOptions {
        validation_share: 0.0,
        ..TrainingOptions::default()
    };
    train(
        &examples,
        Labels::new("spam", "not-spam").unwrap(),
        &options,
        &mut |_| {},
    )
    .unwrap()
    .to_bytes()
}

#[tokio::test]
async fn the_case_view_explains_the_live_score_with_personal_data_masked() {
    use warden_store::prelude::*;
    let app = TestApp::new().await;
    app.post_subject(
        "post_s",
        "acct_s",
        "buy cheap followers now, free offer, write to rae.quill@example.com",
    )
    .await;
    let case_id = app.report("rep_s", ("content", "post_s"), "spam").await;
    let analyst = app.token(Role::Analyst).to_string();
    // No live model: no score in the view.
    let shown = app.get(&format!("/api/v1/cases/{case_id}"), &analyst).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(
        shown.body.get("classifier_score").is_none(),
        "{}",
        shown.body
    );

    app.store
        .save_model_version(
            &warden_store::Actor::system(),
            warden_store::NewModelVersion {
                name: "spam".into(),
                kind: "svm".into(),
                status: warden_store::ModelStatus::Live,
                metrics: json!({}),
                bytes: spam_model(),
                note: String::new(),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let shown = app.get(&format!("/api/v1/cases/{case_id}"), &analyst).await;
    assert_eq!(shown.status, StatusCode::OK);
    let score = &shown.body["classifier_score"];
    assert_eq!(score["model"], "spam", "{}", shown.body);
    assert_eq!(score["version"], 1);
    assert!(score["score"].as_f64().unwrap() > 0.5, "{score}");
    let features: Vec<&str> = score["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["features"].as_array().unwrap())
        .filter_map(|f| f.as_str())
        .collect();
    assert!(
        features
            .iter()
            .any(|f| ["cheap", "followers", "free", "offer", "now"].contains(f)),
        "{features:?}"
    );
    assert!(
        !features.iter().any(|f| f.contains("rae.quill@")),
        "{features:?}"
    );

    // A case the caller may not see is not found, score or not.
    let other = app.get("/api/v1/cases/999999", &analyst).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}
