//! Tests of packs, outcomes and the T&S functions.

use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use warden_domain::taxonomy::Taxonomy;
use warden_rules::EvalContext;

use super::*;

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn starter() -> Detector {
    let files: Vec<(String, String)> = STARTER_PACK
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let parsed = parse_files(&files, &Taxonomy::default());
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let built = Detector::build(
        parsed,
        &mut |_| 1,
        Arc::new(Mutex::new(VelocityCounters::default())),
        None,
    );
    assert!(
        built.errors.is_empty(),
        "{:?}",
        built
            .errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    built.detector
}

fn post(text: &str, actor_age: Duration) -> EventFacts {
    EventFacts {
        event_id: "evt_1".into(),
        event_type: "post_created".into(),
        occurred_at: Some(now()),
        actor_id: Some("acct_1".into()),
        actor_created_at: Some(now() - actor_age),
        data: json!({"text": text}),
        ..EventFacts::default()
    }
}

fn hit_ids(detector: &Detector, facts: EventFacts) -> Vec<String> {
    let evaluation = detector.evaluate(Arc::new(facts), now(), &mut EvalContext::new());
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    evaluation.hits.into_iter().map(|h| h.rule_id).collect()
}

#[test]
fn the_starter_pack_catches_its_scripts() {
    let detector = starter();
    assert!(detector.rules().len() >= 10);
    assert_eq!(
        hit_ids(
            &detector,
            post(
                "GET 10K FOLLOWERS FAST at https://free-followers.example/now",
                Duration::days(1)
            )
        ),
        ["link-spam-known-domains", "spam-phrases"]
    );
    assert_eq!(
        hit_ids(
            &detector,
            post(
                "Bitcoin giveaway! Send 0.1 BTC to receive 1 BTC back",
                Duration::days(400)
            )
        ),
        ["crypto-giveaway-scam"]
    );
    assert_eq!(
        hit_ids(
            &detector,
            post(
                "I am a prince with an inheritance, kindly send your bank details",
                Duration::days(400)
            )
        ),
        ["advance-fee-scam"]
    );
    assert_eq!(
        hit_ids(
            &detector,
            post(
                "Your account will be suspended, go to https://secure-login-verify.example",
                Duration::days(400)
            )
        ),
        ["phishing-links"]
    );
    assert_eq!(
        hit_ids(
            &detector,
            post("nobody wants you here", Duration::days(400))
        ),
        ["harassment-terms"]
    );
    assert_eq!(
        hit_ids(
            &detector,
            post("I know where you live", Duration::days(400))
        ),
        ["threat-phrases"]
    );
    assert!(hit_ids(
        &detector,
        post(
            "Finally finished restoring the old bike",
            Duration::days(400)
        )
    )
    .is_empty());
}

#[test]
fn hits_carry_what_matched_and_whether_they_act() {
    let detector = starter();
    let evaluation = detector.evaluate(
        Arc::new(post(
            "see https://www.secure-login-verify.example/x",
            Duration::days(400),
        )),
        now(),
        &mut EvalContext::new(),
    );
    let hit = &evaluation.hits[0];
    assert_eq!(hit.rule_id, "phishing-links");
    assert!(hit.acts);
    assert_eq!(
        hit.matched["domains"],
        json!(["secure-login-verify.example"])
    );
    assert_eq!(
        hit.outcome.action.as_ref().unwrap().action_type,
        "remove_content"
    );
}

#[test]
fn velocity_counts_each_event_once_and_shadow_rules_do_not_act() {
    let detector = starter();
    let mut last = Vec::new();
    for n in 0..5 {
        let mut facts = post("new https://link.example/x", Duration::hours(5));
        facts.event_id = format!("evt_{n}");
        facts.occurred_at = Some(now() + Duration::minutes(n));
        last = detector
            .evaluate(Arc::new(facts), now(), &mut EvalContext::new())
            .hits;
    }
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(last[0].rule_id, "new-account-link-burst");
    assert_eq!(last[0].mode, Mode::Shadow);
    assert!(!last[0].acts);
}

#[test]
fn throttles_act_only_above_their_rate() {
    let text = r#"
        [[rule]]
        id = "burst"
        name = "Burst"
        category = "spam"
        mode = "live"
        expression = 'event_type == "login"'
        [rule.outcome]
        case = {}
        throttle = { hits = 3, window = "1h", key = "ip" }
    "#;
    let parsed = parse_files(&[("t.toml".into(), text.into())], &Taxonomy::default());
    let detector = Detector::build(parsed, &mut |_| 1, Default::default(), None).detector;
    let acts: Vec<bool> = (0..4)
        .map(|n| {
            let facts = EventFacts {
                event_type: "login".into(),
                ip: Some("203.0.113.9".into()),
                occurred_at: Some(now() + Duration::minutes(n)),
                ..EventFacts::default()
            };
            detector
                .evaluate(Arc::new(facts), now(), &mut EvalContext::new())
                .hits[0]
                .acts
        })
        .collect();
    assert_eq!(acts, [false, false, true, true]);
}

#[test]
fn bad_rules_are_reported_and_the_old_version_keeps_running() {
    let good = r#"
        [[rule]]
        id = "r1"
        name = "R1"
        category = "spam"
        mode = "live"
        expression = 'text contains "spam"'
        [rule.outcome]
        case = {}
    "#;
    let taxonomy = Taxonomy::default();
    let first = Detector::build(
        parse_files(&[("a.toml".into(), good.into())], &taxonomy),
        &mut |_| 1,
        Default::default(),
        None,
    )
    .detector;
    let broken = good.replace(r#"text contains "spam""#, r#"text contains ("#);
    let built = Detector::build(
        parse_files(&[("a.toml".into(), broken)], &taxonomy),
        &mut |_| 2,
        Default::default(),
        Some(&first),
    );
    assert_eq!(built.errors.len(), 1);
    assert!(
        built.errors[0].to_string().contains("r1"),
        "{}",
        built.errors[0]
    );
    assert_eq!(built.detector.rules().len(), 1);
    assert_eq!(
        built.detector.rules()[0].version,
        1,
        "the old version runs on"
    );
    let file_errors = parse_files(
        &[("b.toml".into(), "[[rule]]\nid = 'x'\nname = 'X'\ncategory = 'nonsense'\nmode = 'live'\nexpression = '1'\n".into()), ("c.toml".into(), "not toml [".into())],
        &taxonomy,
    );
    assert_eq!(file_errors.errors.len(), 2);
    assert!(file_errors.errors[0].message.contains("category"));
    let unknown_list = good.replace(r#"text contains "spam""#, r#"in_list("nope", text)"#);
    let built = Detector::build(
        parse_files(&[("d.toml".into(), unknown_list)], &taxonomy),
        &mut |_| 1,
        Default::default(),
        None,
    );
    assert!(built.errors[0].message.contains("unknown list nope"));
}

#[test]
fn classifier_scores_and_labels() {
    let text = r#"
        [[rule]]
        id = "toxic"
        name = "Toxic"
        category = "harassment"
        mode = "live"
        expression = 'classifier_score("toxicity") > 0.8 & !has_label("trusted")'
        [rule.outcome]
        case = {}
    "#;
    let detector = Detector::build(
        parse_files(&[("t.toml".into(), text.into())], &Taxonomy::default()),
        &mut |_| 1,
        Default::default(),
        None,
    )
    .detector;
    let mut facts = EventFacts {
        event_type: "post_created".into(),
        data: json!({"scores": {"toxicity": 0.93}}),
        ..EventFacts::default()
    };
    assert_eq!(
        detector
            .evaluate(Arc::new(facts.clone()), now(), &mut EvalContext::new())
            .hits
            .len(),
        1
    );
    facts.actor_labels = vec!["trusted".into()];
    assert!(detector
        .evaluate(Arc::new(facts.clone()), now(), &mut EvalContext::new())
        .hits
        .is_empty());
    facts.data = json!({});
    facts.actor_labels.clear();
    assert!(
        detector
            .evaluate(Arc::new(facts), now(), &mut EvalContext::new())
            .hits
            .is_empty(),
        "no score, no hit"
    );
}
