//! Detection and the decision feedback loop end to end: a pack reading
//! custom event properties and derived features fires on pushed events;
//! an analyst's decisions train a classifier (`warden classifier train
//! --from-decisions`) whose new version beats the live one and goes into
//! shadow, then live; the live score then raises new cases' priority
//! and is explained in the case view.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{client, run, temp_dir, text, Warden};

const RULES: &str = r#"
[fields]
"event.props.device.id" = "string"
"event.props.promo" = "bool"

[features]
text_l = 'lcase(text)'
promo_words = 'event.props.promo & text_l rlike "free|cash|winner|prize|bonus"'

[[rule]]
id = "promo-spam"
name = "Promotions with spam words from a bot device"
category = "spam"
mode = "live"
expression = 'event_type == "post_created" & promo_words & event.props.device.id == "dev-bot"'
[rule.outcome]
case = { priority = 10 }
"#;

const CONFIG: &str = r#"
[classifier]
priority_weight = 50

[[classifier.models]]
name = "spam"
category = "spam"
"#;

const SPAM: [&str; 8] = [
    "free", "cash", "winner", "prize", "click", "offer", "cheap", "bonus",
];
const HAM: [&str; 8] = [
    "meeting", "lunch", "photo", "family", "garden", "recipe", "weekend", "concert",
];

fn post_text(i: usize, spam: bool) -> String {
    let words = if spam { SPAM } else { HAM };
    format!(
        "{} {} and {} today {i}",
        words[i % 8],
        words[(i + 3) % 8],
        words[(i + 5) % 8]
    )
}

fn warden(args: &[&str], data: &Path) -> (bool, String) {
    let output = run(args, "", data);
    (
        output.status.success(),
        format!("{}{}", text(&output.stdout), text(&output.stderr)),
    )
}

async fn post(url: &str, token: &str, body: Value) {
    let answer = client()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{url}: {}",
        answer.text().await.unwrap()
    );
}

async fn get(url: &str, token: &str) -> Value {
    client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn token(data: &Path, user: &str, scope: &str) -> String {
    let data_arg = data.to_str().unwrap();
    let (ok, out) = warden(
        &[
            "token",
            "create",
            "--user",
            user,
            "--scope",
            scope,
            "--data-dir",
            data_arg,
        ],
        data,
    );
    assert!(ok, "{out}");
    out.trim().to_string()
}

/// Posts content `id` with its text, and either an event from the bot
/// device (spam: the rule opens the case) or a report (ham).
async fn push_post(url: &str, ingest: &str, id: &str, text: &str, spam: bool) {
    post(
        &format!("{url}/api/v1/subjects"),
        ingest,
        json!({"kind": "content", "id": id, "text": text}),
    )
    .await;
    if spam {
        post(&format!("{url}/api/v1/events"), ingest, json!({
            "id": format!("ev_{id}"), "type": "post_created", "occurred_at": chrono::Utc::now().to_rfc3339(),
            "actor": {"kind": "account", "id": "acct_bot"}, "subject": {"kind": "content", "id": id},
            "data": {"text": text, "promo": true, "device": {"id": "dev-bot"}}})).await;
    } else {
        post(&format!("{url}/api/v1/reports"), ingest, json!({
            "id": format!("rep_{id}"), "subject": {"kind": "content", "id": id}, "reason": "spam", "source": "user_report"})).await;
    }
}

/// The lead decides every case in the spam queue, truthfully.
async fn decide_all(url: &str, lead: &str) -> usize {
    let mut decided = 0;
    loop {
        let answer = client()
            .post(format!("{url}/api/v1/queues/spam/claim"))
            .bearer_auth(lead)
            .send()
            .await
            .unwrap();
        if answer.status() == 204 {
            return decided;
        }
        let claimed: Value = answer.json().await.unwrap();
        if claimed.is_null() || claimed["id"].is_null() {
            return decided;
        }
        let violation = claimed["subject"]["id"]
            .as_str()
            .unwrap()
            .starts_with("spam_");
        let body = if violation {
            json!({"version": claimed["version"], "violation": true, "category": "spam", "actions": [{"type": "remove_content"}],
                   "rationale": {"what_happened": "spam", "evidence": "the post", "policy": "spam", "action": "removed", "next_steps": "none"}})
        } else {
            json!({"version": claimed["version"], "violation": false, "category": "spam", "actions": [],
                   "rationale": {"what_happened": "an ordinary post", "evidence": "the post", "policy": "spam", "action": "", "next_steps": "none"}})
        };
        let answer = client()
            .post(format!("{url}/api/v1/cases/{}/decision", claimed["id"]))
            .bearer_auth(lead)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
        decided += 1;
    }
}

/// A corpus labelled backwards: what a bad live model learnt from.
fn backwards_corpus() -> String {
    (0usize..200)
        .map(|i| {
            let spam = i.is_multiple_of(2);
            json!({"id": format!("b{i}"), "text": post_text(i + 1000, spam), "label": if spam { "ham" } else { "spam" }}).to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn rules_read_properties_and_features_and_decisions_retrain_the_classifier() {
    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap();
    std::fs::create_dir_all(data.join("rules")).unwrap();
    std::fs::write(data.join("rules").join("promo.toml"), RULES).unwrap();
    let (ok, out) = warden(
        &["rules", "check", data.join("rules").to_str().unwrap()],
        &data,
    );
    assert!(ok && out.contains("0 problems"), "{out}");
    for (user, role) in [("ops", "admin"), ("lea", "lead")] {
        let added = run(
            &[
                "user",
                "add",
                user,
                "--role",
                role,
                "--password-stdin",
                "--data-dir",
                data_arg,
            ],
            "a long password\n",
            &data,
        );
        assert!(added.status.success(), "{}", text(&added.stderr));
    }
    let ingest = token(&data, "ops", "ingest");
    let lead = token(&data, "lea", "review");

    // 1. Detection: the pack reads the event's properties and features.
    let server = Warden::start(&["serve"], &data);
    let url = server.url.clone();
    for i in 0usize..60 {
        let spam = i.is_multiple_of(2);
        let id = format!("{}_{i}", if spam { "spam" } else { "ham" });
        push_post(&url, &ingest, &id, &post_text(i, spam), spam).await;
    }
    // A promotion from another device, and one without spam words: no hit.
    post(&format!("{url}/api/v1/events"), &ingest, json!({"id": "ev_other", "type": "post_created", "occurred_at": chrono::Utc::now().to_rfc3339(),
        "subject": {"kind": "content", "id": "other"}, "data": {"text": "free cash", "promo": true, "device": {"id": "dev-phone"}}})).await;
    post(&format!("{url}/api/v1/events"), &ingest, json!({"id": "ev_plain", "type": "post_created", "occurred_at": chrono::Utc::now().to_rfc3339(),
        "subject": {"kind": "content", "id": "plain"}, "data": {"text": "see you at lunch", "promo": true, "device": {"id": "dev-bot"}}})).await;
    let mut hits = Value::Null;
    for _ in 0..200 {
        hits = get(&format!("{url}/api/v1/rules"), &lead).await["rules"][0]["hits_7d"].clone();
        if hits == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hits, 30, "every bot promotion and nothing else");
    let cases = get(
        &format!("{url}/api/v1/cases?subject_kind=content&subject_id=spam_0"),
        &lead,
    )
    .await;
    let details = &cases["cases"][0]["signals"][0]["details"];
    assert_eq!(details["features"]["promo_words"], true, "{details}");
    assert_eq!(
        details["features"]["text_l"],
        json!(post_text(0, true)),
        "{details}"
    );

    // 2. The lead decides every case: 30 violations, 30 ordinary posts.
    assert_eq!(decide_all(&url, &lead).await, 60);
    server.stop();

    // 3. A live version that learnt backwards; decisions train a better one,
    //    saved in shadow, then promoted.
    std::fs::write(data.join("backwards.jsonl"), backwards_corpus()).unwrap();
    let (ok, out) = warden(
        &[
            "classifier",
            "train",
            "--name",
            "spam",
            "--data",
            "backwards.jsonl",
            "--live",
            "--data-dir",
            data_arg,
        ],
        &data,
    );
    assert!(ok && out.contains("version 1 (live"), "{out}");
    let (ok, out) = warden(
        &[
            "classifier",
            "train",
            "--from-decisions",
            "--name",
            "spam",
            "--category",
            "spam",
            "--data-dir",
            data_arg,
        ],
        &data,
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("learnt from 30 violations and 30 other decisions"),
        "{out}"
    );
    assert!(out.contains("saved spam version 2 in shadow"), "{out}");
    let (ok, out) = warden(
        &[
            "classifier",
            "list",
            "--name",
            "spam",
            "--format",
            "json",
            "--data-dir",
            data_arg,
        ],
        &data,
    );
    assert!(ok, "{out}");
    let versions: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(versions[0]["status"], "shadow");
    assert_eq!(versions[0]["metrics"]["source"], "decisions");
    assert_eq!(versions[0]["metrics"]["compared_with"][0]["version"], 1);
    assert_eq!(versions[1]["status"], "live");
    // The same decisions again: no better than the shadow version, not saved.
    let (ok, out) = warden(
        &[
            "classifier",
            "train",
            "--from-decisions",
            "--name",
            "spam",
            "--category",
            "spam",
            "--data-dir",
            data_arg,
        ],
        &data,
    );
    assert!(ok && out.contains("not saved"), "{out}");
    let (ok, out) = warden(
        &[
            "classifier",
            "promote",
            "--name",
            "spam",
            "--version",
            "2",
            "--data-dir",
            data_arg,
        ],
        &data,
    );
    assert!(ok && out.contains("version 2 is live"), "{out}");
    let (ok, out) = warden(&["audit", "verify", "--data-dir", data_arg], &data);
    assert!(ok, "{out}");

    // 4. The live score weighs in priority and is explained in the case view.
    std::fs::write(data.join("warden.toml"), CONFIG).unwrap();
    let server = Warden::start(&["serve"], &data);
    let url = server.url.clone();
    push_post(&url, &ingest, "ham_new", &post_text(500, false), false).await;
    post(
        &format!("{url}/api/v1/subjects"),
        &ingest,
        json!({"kind": "content", "id": "spam_new", "text": post_text(501, true)}),
    )
    .await;
    post(&format!("{url}/api/v1/reports"), &ingest, json!({"id": "rep_spam_new", "subject": {"kind": "content", "id": "spam_new"}, "reason": "spam", "source": "user_report"})).await;
    // Claim order is severity, deadline, then priority: these two have
    // different deadlines (filed a moment apart), so compare priorities;
    // the application tests check the claim order at equal deadlines.
    let case_of = |id: &'static str| {
        let (url, lead) = (url.clone(), lead.clone());
        async move {
            get(
                &format!("{url}/api/v1/cases?subject_kind=content&subject_id={id}"),
                &lead,
            )
            .await["cases"][0]
                .clone()
        }
    };
    let (spam_case, ham_case) = (case_of("spam_new").await, case_of("ham_new").await);
    let (spam_priority, ham_priority) = (
        spam_case["priority"].as_i64().unwrap(),
        ham_case["priority"].as_i64().unwrap(),
    );
    assert!(
        spam_priority > ham_priority + 20,
        "{spam_priority} against {ham_priority}"
    );
    let shown = get(&format!("{url}/api/v1/cases/{}", spam_case["id"]), &lead).await;
    let score = &shown["classifier_score"];
    assert_eq!(score["model"], "spam", "{shown}");
    assert_eq!(score["version"], 2);
    assert!(score["score"].as_f64().unwrap() > 0.5, "{score}");
    let drivers = score["drivers"].as_array().unwrap();
    assert!(!drivers.is_empty());
    let words: Vec<&str> = drivers
        .iter()
        .flat_map(|d| d["features"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert!(SPAM.iter().any(|w| words.contains(w)), "{words:?}");
    server.stop();
}
