//! Detection end to end: rule files checked and tested from the command
//! line, events flagged by the running server, hot reload with versions,
//! and a backtest against an analyst's decision.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{client, run, temp_dir, text, Warden};

const RULES: &str = r#"
[[list]]
name = "spam_domains"
kind = "domains"
entries = ["spam.example"]

[[rule]]
id = "link-spam"
name = "Links to spam domains"
category = "spam"
mode = "live"
expression = 'event_type == "post_created" & in_list("spam_domains", domains)'
[rule.outcome]
case = { priority = 20 }
label = { name = "link_spammer", expires = "P1D" }
"#;

async fn wait_for<F: Fn(&Value) -> bool>(url: &str, token: &str, check: F) -> Value {
    for _ in 0..100 {
        let body: Value = client()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if check(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never reached the expected state");
}

#[tokio::test]
async fn rules_flag_events_reload_and_backtest() {
    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap();
    let rules_dir = data.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    std::fs::write(rules_dir.join("spam.toml"), RULES).unwrap();

    let checked = run(&["rules", "check", rules_dir.to_str().unwrap()], "", &data);
    assert!(checked.status.success(), "{}", text(&checked.stdout));
    assert!(
        text(&checked.stdout).contains("1 rules compiled, 1 lists, 0 problems"),
        "{}",
        text(&checked.stdout)
    );
    let broken = data.join("broken.toml");
    std::fs::write(
        &broken,
        RULES.replace("event_type == \"post_created\"", "event_type == ("),
    )
    .unwrap();
    let refused = run(&["rules", "check", broken.to_str().unwrap()], "", &data);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stdout).contains("link-spam") && text(&refused.stdout).contains("at byte"),
        "{}",
        text(&refused.stdout)
    );

    let cases = data.join("cases.jsonl");
    std::fs::write(
        &cases,
        [
            json!({"name": "spam link", "event": {"type": "post_created", "text": "buy at https://spam.example/x"}, "expect": ["link-spam"]}),
            json!({"name": "clean post", "event": {"type": "post_created", "text": "hello"}, "expect": []}),
        ]
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n"),
    )
    .unwrap();
    let tested = run(
        &[
            "rules",
            "test",
            rules_dir.to_str().unwrap(),
            "--cases",
            cases.to_str().unwrap(),
        ],
        "",
        &data,
    );
    assert!(tested.status.success(), "{}", text(&tested.stdout));
    assert!(text(&tested.stdout).contains("2 passed, 0 failed"));
    std::fs::write(&cases, json!({"name": "wrong", "event": {"type": "post_created", "text": "hello"}, "expect": ["link-spam"]}).to_string()).unwrap();
    let failing = run(
        &[
            "rules",
            "test",
            rules_dir.to_str().unwrap(),
            "--cases",
            cases.to_str().unwrap(),
        ],
        "",
        &data,
    );
    assert!(!failing.status.success());
    assert!(
        text(&failing.stdout).contains("FAIL  wrong: missing [\"link-spam\"]"),
        "{}",
        text(&failing.stdout)
    );

    assert!(run(
        &[
            "user",
            "add",
            "ops",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            data_arg
        ],
        "a long password\n",
        &data
    )
    .status
    .success());
    assert!(run(
        &[
            "user",
            "add",
            "lea",
            "--role",
            "lead",
            "--password-stdin",
            "--data-dir",
            data_arg
        ],
        "a long password\n",
        &data
    )
    .status
    .success());
    let ingest = text(
        &run(
            &[
                "token",
                "create",
                "--user",
                "ops",
                "--scope",
                "ingest",
                "--data-dir",
                data_arg,
            ],
            "",
            &data,
        )
        .stdout,
    )
    .trim()
    .to_string();
    let lead = text(
        &run(
            &[
                "token",
                "create",
                "--user",
                "lea",
                "--scope",
                "review",
                "--data-dir",
                data_arg,
            ],
            "",
            &data,
        )
        .stdout,
    )
    .trim()
    .to_string();

    let warden = Warden::start(&["serve"], &data);
    let url = warden.url.clone();
    for (id, text) in [
        ("e1", "cheap followers https://spam.example/buy"),
        ("e2", "a normal post"),
    ] {
        let answer = client()
            .post(format!("{url}/api/v1/events"))
            .bearer_auth(&ingest)
            .json(&json!({"id": id, "type": "post_created", "occurred_at": chrono::Utc::now().to_rfc3339(),
                          "actor": {"kind": "account", "id": "acct_1"}, "subject": {"kind": "content", "id": format!("post_{id}")},
                          "data": {"text": text}}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }
    let rules = wait_for(&format!("{url}/api/v1/rules"), &lead, |body| {
        body["rules"][0]["hits_7d"] == 1
    })
    .await;
    assert_eq!(rules["rules"][0]["version"], 1);
    let cases: Value = client()
        .get(format!(
            "{url}/api/v1/cases?subject_kind=content&subject_id=post_e1"
        ))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = &cases["cases"][0];
    assert_eq!(case["category"], "spam");
    assert_eq!(case["signals"][0]["name"], "link-spam");
    assert_eq!(case["signals"][0]["source"], "rule");
    let none: Value = client()
        .get(format!(
            "{url}/api/v1/cases?subject_kind=content&subject_id=post_e2"
        ))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(none["cases"].as_array().unwrap().is_empty());

    // The lead confirms the spam; the backtest later scores the rule on it.
    let claimed: Value = client()
        .post(format!("{url}/api/v1/queues/spam/claim"))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let decided = client()
        .post(format!("{url}/api/v1/cases/{}/decision", claimed["id"]))
        .bearer_auth(&lead)
        .json(&json!({"version": claimed["version"], "violation": true, "category": "spam", "actions": [{"type": "remove_content"}],
                      "rationale": {"what_happened": "spam link", "evidence": "post_e1", "policy": "spam", "action": "removed", "next_steps": "none"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 201);

    // A changed rule is a new version without a restart; a broken one is refused and the old keeps running.
    std::fs::write(
        rules_dir.join("spam.toml"),
        RULES.replace("mode = \"live\"", "mode = \"shadow\""),
    )
    .unwrap();
    wait_for(&format!("{url}/api/v1/rules"), &lead, |body| {
        body["rules"][0]["version"] == 2 && body["rules"][0]["mode"] == "shadow"
    })
    .await;
    std::fs::write(
        rules_dir.join("spam.toml"),
        RULES.replace("event_type == \"post_created\"", "event_type == ("),
    )
    .unwrap();
    let refused = wait_for(&format!("{url}/api/v1/rules"), &lead, |body| {
        !body["errors"].as_array().unwrap().is_empty()
    })
    .await;
    assert_eq!(
        refused["rules"][0]["version"], 2,
        "the previous version keeps running"
    );
    warden.stop();

    std::fs::write(rules_dir.join("spam.toml"), RULES).unwrap();
    let backtest = run(
        &[
            "rules",
            "backtest",
            "--since",
            "1d",
            "--rules",
            rules_dir.to_str().unwrap(),
            "--json",
            "--data-dir",
            data_arg,
        ],
        "",
        &data,
    );
    assert!(backtest.status.success(), "{}", text(&backtest.stderr));
    let report: Value = serde_json::from_slice(&backtest.stdout).unwrap();
    assert_eq!(report["events"], 2);
    let rule = &report["rules"][0];
    assert_eq!(
        (
            rule["hits"].as_i64(),
            rule["true_positives"].as_i64(),
            rule["precision"].as_f64(),
            rule["recall"].as_f64()
        ),
        (Some(1), Some(1), Some(1.0), Some(1.0))
    );
    let verified = run(&["audit", "verify", "--data-dir", data_arg], "", &data);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
}

/// Issue 8, item 12: a non-UTF-8 file does not stop `rules check`; it is named with the
/// reason, the other files are checked, every problem is reported and the exit is non-zero.
#[test]
fn rules_check_names_unreadable_files_and_reports_every_problem() {
    let (_dir, data) = temp_dir();
    let rules_dir = data.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    std::fs::write(rules_dir.join("a_good.toml"), RULES).unwrap();
    let mut latin1 = b"# R\xe9gles anti-spam\n".to_vec();
    latin1.extend_from_slice(RULES.replace("link-spam", "other").as_bytes());
    std::fs::write(rules_dir.join("b_latin1.toml"), latin1).unwrap();
    std::fs::write(
        rules_dir.join("c_broken.toml"),
        RULES
            .replace("link-spam", "broken")
            .replace("spam_domains\"\nkind", "spam_domains_2\"\nkind")
            .replace("event_type == \"post_created\"", "event_type == ("),
    )
    .unwrap();
    let costly = (0..400).map(|_| "x := ccnorm(text); ").collect::<String>();
    std::fs::write(
        rules_dir.join("d_costly.toml"),
        format!("[[rule]]\nid = \"costly\"\nname = \"Costly\"\ncategory = \"spam\"\nmode = \"shadow\"\nexpression = '''{costly}x == \"\"'''\n"),
    )
    .unwrap();
    let checked = run(&["rules", "check", rules_dir.to_str().unwrap()], "", &data);
    let out = text(&checked.stdout);
    assert!(!checked.status.success(), "{out}");
    assert!(
        out.contains("b_latin1.toml: is not UTF-8 text (invalid byte at offset 3, line 1)"),
        "{out}"
    );
    assert!(out.contains("broken") && out.contains("at byte"), "{out}");
    assert!(
        out.contains("costly") && out.contains("is too costly (cost_too_high at byte"),
        "{out}"
    );
    assert!(
        out.contains("1 rules compiled, 2 lists, 3 problems in 4 files"),
        "{out}"
    );
    // A file named directly is read the same way.
    let single = run(
        &[
            "rules",
            "check",
            rules_dir.join("b_latin1.toml").to_str().unwrap(),
            rules_dir.join("a_good.toml").to_str().unwrap(),
        ],
        "",
        &data,
    );
    let out = text(&single.stdout);
    assert!(!single.status.success());
    assert!(out.contains("b_latin1.toml: is not UTF-8 text"), "{out}");
    assert!(
        out.contains("1 rules compiled, 1 lists, 1 problems in 2 files"),
        "{out}"
    );
}

const PROPS_RULES: &str = r#"
[[list]]
name = "payout_words"
kind = "keywords"
entries = ["wire transfer", "gift card"]

[fields]
"event.props.device.id" = "string"
event.props.payment = { amount = "number", method = "string" }
"event.props.client.version" = "string"

[features]
text_l = 'lcase(event.text)'
big_payment = 'event.props.payment.amount >= 500'
payout_talk = { expression = 'in_list("payout_words", text_l)', description = "asks to be paid off-platform" }
emulator = 'event.props.device.id rlike "^emu-" | event.props.client.version == "0.0.1"'

[[rule]]
id = "offplatform-payout"
name = "Large payments with off-platform payout talk"
category = "fraud"
mode = "live"
expression = 'big_payment & payout_talk & event.props.payment.method == "card"'
[rule.outcome]
case = { priority = 30 }

[[rule]]
id = "emulator-payments"
name = "Payments from emulators"
category = "fraud"
mode = "shadow"
expression = 'event_type == "payment" & emulator'
"#;

/// Issue 15: a pack reading the platform's own event properties and features fires on
/// pushed events; the hit's signal keeps the feature values, the rules API lists the
/// features, and a typo in a declared field is refused by `rules check`.
#[tokio::test]
async fn packs_read_event_properties_and_features() {
    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap();
    let rules_dir = data.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    std::fs::write(rules_dir.join("fraud.toml"), PROPS_RULES).unwrap();
    let checked = run(&["rules", "check", rules_dir.to_str().unwrap()], "", &data);
    assert!(checked.status.success(), "{}", text(&checked.stdout));
    let typo = data.join("typo.toml");
    std::fs::write(
        &typo,
        PROPS_RULES.replace(
            "event.props.payment.method ==",
            "event.props.payment.methd ==",
        ),
    )
    .unwrap();
    let refused = run(&["rules", "check", typo.to_str().unwrap()], "", &data);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stdout).contains("did you mean 'event.props.payment.method'"),
        "{}",
        text(&refused.stdout)
    );
    let cases = data.join("cases.jsonl");
    std::fs::write(
        &cases,
        [
            json!({"name": "payout talk", "event": {"type": "payment", "text": "a GIFT CARD please",
                   "data": {"payment": {"amount": 700, "method": "card"}, "device": {"id": "emu-1"}},
                   "subject_attributes": {"country": "DE"}},
                   "expect": ["offplatform-payout", "emulator-payments"]}),
            json!({"name": "small", "event": {"type": "payment", "text": "gift card",
                   "data": {"payment": {"amount": 7, "method": "card"}}}, "expect": []}),
        ]
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n"),
    )
    .unwrap();
    let tested = run(
        &[
            "rules",
            "test",
            rules_dir.to_str().unwrap(),
            "--cases",
            cases.to_str().unwrap(),
        ],
        "",
        &data,
    );
    assert!(tested.status.success(), "{}", text(&tested.stdout));

    for (user, role) in [("ops", "admin"), ("lea", "lead")] {
        assert!(run(
            &[
                "user",
                "add",
                user,
                "--role",
                role,
                "--password-stdin",
                "--data-dir",
                data_arg
            ],
            "a long password\n",
            &data
        )
        .status
        .success());
    }
    let token = |user: &str, scope: &str| {
        text(
            &run(
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
                "",
                &data,
            )
            .stdout,
        )
        .trim()
        .to_string()
    };
    let ingest = token("ops", "ingest");
    let lead = token("lea", "review");
    let warden = Warden::start(&["serve"], &data);
    let url = warden.url.clone();
    for (id, text, amount, device) in [
        ("p1", "Pay me by WIRE TRANSFER please", 900, "emu-7"),
        ("p2", "thanks for the bike", 900, "pixel-8"),
        ("p3", "gift card only", 20, "pixel-8"),
    ] {
        let answer = client()
            .post(format!("{url}/api/v1/events"))
            .bearer_auth(&ingest)
            .json(&json!({"id": id, "type": "payment", "occurred_at": chrono::Utc::now().to_rfc3339(),
                          "actor": {"kind": "account", "id": "acct_9"}, "subject": {"kind": "transaction", "id": format!("tx_{id}")},
                          "data": {"text": text, "payment": {"amount": amount, "method": "card"},
                                   "device": {"id": device}, "client": {"version": "4.2.0"}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    }
    let rules = wait_for(&format!("{url}/api/v1/rules"), &lead, |body| {
        body["rules"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["hits_7d"] == 1))
    })
    .await;
    let names: Vec<&str> = rules["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let payout = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "offplatform-payout")
        .unwrap();
    assert_eq!(payout["last_hit"]["event_id"], "p1");
    assert_eq!(payout["last_hit"]["features"]["payout_talk"], true);
    assert_eq!(
        payout["last_hit"]["features"]["text_l"],
        "pay me by wire transfer please"
    );
    let cases: Value = client()
        .get(format!(
            "{url}/api/v1/cases?subject_kind=transaction&subject_id=tx_p1"
        ))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signal = &cases["cases"][0]["signals"][0];
    assert_eq!(signal["name"], "offplatform-payout");
    assert_eq!(
        signal["details"]["features"]["big_payment"], true,
        "{signal}"
    );
    assert_eq!(
        signal["details"]["matched"]["event.props.payment.method"],
        "card"
    );
    warden.stop();

    let backtest = run(
        &[
            "rules",
            "backtest",
            "--since",
            "1d",
            "--rules",
            rules_dir.to_str().unwrap(),
            "--json",
            "--data-dir",
            data_arg,
        ],
        "",
        &data,
    );
    assert!(backtest.status.success(), "{}", text(&backtest.stderr));
    let report: Value = serde_json::from_slice(&backtest.stdout).unwrap();
    let emulator = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "emulator-payments")
        .unwrap();
    assert_eq!(emulator["hits"], 1);
    assert_eq!(emulator["sample_hits"][0]["event_id"], "p1");
    assert_eq!(emulator["sample_hits"][0]["features"]["emulator"], true);
}
