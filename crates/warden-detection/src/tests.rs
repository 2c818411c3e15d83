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

/// A stopwatch that moves on by `step` nanoseconds every time it is read.
struct TickingStopwatch {
    now: std::sync::atomic::AtomicU64,
    step: u64,
}

impl health::Stopwatch for TickingStopwatch {
    fn nanos(&self) -> u64 {
        self.now
            .fetch_add(self.step, std::sync::atomic::Ordering::Relaxed)
    }
}

fn ticking(step: std::time::Duration) -> Arc<TickingStopwatch> {
    Arc::new(TickingStopwatch {
        now: std::sync::atomic::AtomicU64::new(1),
        step: step.as_nanos() as u64,
    })
}

fn pack_of(rules: &[(&str, &str)]) -> Detector {
    let text: String = rules
        .iter()
        .map(|(id, expression)| {
            format!(
                "[[rule]]\nid = \"{id}\"\nname = \"{id}\"\ncategory = \"spam\"\nmode = \"live\"\nexpression = '''{expression}'''\n[rule.outcome]\ncase = {{}}\n\n"
            )
        })
        .collect();
    let parsed = parse_files(&[("p.toml".into(), text)], &Taxonomy::default());
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let built = Detector::build(parsed, &mut |_| 1, Default::default(), None);
    assert!(built.errors.is_empty(), "{:?}", built.errors);
    built.detector
}

fn at_minute(text: &str, minute: i64) -> EventFacts {
    let mut facts = post(text, Duration::days(400));
    facts.occurred_at = Some(now() + Duration::minutes(minute));
    facts
}

fn run_at(detector: &Detector, facts: EventFacts, minute: i64) -> Evaluation {
    let vars = EventVariables::new(Arc::new(facts), now() + Duration::minutes(minute));
    detector.evaluate_variables(&vars, &mut EvalContext::new(), None)
}

#[test]
fn a_pathological_rule_is_stopped_others_hit_and_repeated_errors_disable_it() {
    let detector = pack_of(&[
        ("spam-word", r#"text contains "casino""#),
        // Cheap on ordinary text, ruinous on a huge one: one match per byte.
        ("per-byte-matches", r#"rcount("a", text) > 1000000"#),
        ("long-text", "length(text) > 100"),
    ])
    .with_limits(RunLimits {
        strikes: 3,
        strike_window_seconds: 600,
        ..RunLimits::default()
    });
    let huge = format!("casino {}", "a".repeat(4 << 20));
    for minute in 0..3 {
        let started = std::time::Instant::now();
        let evaluation = run_at(&detector, at_minute(&huge, minute), minute);
        let took = started.elapsed();
        let hits: Vec<&str> = evaluation.hits.iter().map(|h| h.rule_id.as_str()).collect();
        assert_eq!(hits, ["spam-word", "long-text"], "the others still hit");
        assert_eq!(evaluation.errors.len(), 1);
        let failure = &evaluation.errors[0];
        assert_eq!(failure.rule_id, "per-byte-matches");
        assert_eq!(failure.kind, FailureKind::StepBudget);
        assert_eq!(failure.error.kind, ErrorKind::TimeBudget);
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
        if minute < 2 {
            assert!(evaluation.disabled.is_empty());
        } else {
            assert_eq!(evaluation.disabled.len(), 1, "the third strike disables it");
            assert_eq!(evaluation.disabled[0].rule_id, "per-byte-matches");
            assert!(evaluation.disabled[0].reason.contains("3 errors"));
        }
    }
    // Disabled: it no longer runs, even on ordinary text; the others do.
    let evaluation = run_at(&detector, at_minute("casino aaaa", 4), 4);
    assert_eq!(evaluation.evaluated, 2);
    assert!(evaluation.errors.is_empty());
    assert_eq!(evaluation.hits.len(), 1);
    let health = detector.health(now() + Duration::minutes(4));
    let sick = health
        .iter()
        .find(|h| h.rule_id == "per-byte-matches")
        .unwrap();
    assert_eq!(sick.errors.get("step_budget"), Some(&3));
    assert!(sick.disabled.is_some());
    assert!(!detector.rules()[1].is_running());
    // A reload of the same version keeps it disabled; a new version runs again.
    let files = |expression: &str| {
        vec![(
            "p.toml".to_string(),
            format!("[[rule]]\nid = \"per-byte-matches\"\nname = \"x\"\ncategory = \"spam\"\nmode = \"live\"\nexpression = '''{expression}'''\n[rule.outcome]\ncase = {{}}\n"),
        )]
    };
    let same = Detector::build(
        parse_files(
            &files(r#"rcount("a", text) > 1000000"#),
            &Taxonomy::default(),
        ),
        &mut |_| 1,
        Default::default(),
        Some(&detector),
    )
    .detector;
    assert!(!same.rules()[0].is_running());
    let fixed = Detector::build(
        parse_files(&files(r#"rcount("a", text) > 10"#), &Taxonomy::default()),
        &mut |_| 2,
        Default::default(),
        Some(&detector),
    )
    .detector;
    assert!(fixed.rules()[0].is_running());
}

#[test]
fn strikes_outside_the_window_do_not_add_up() {
    let detector =
        pack_of(&[("per-byte-matches", r#"rcount("a", text) > 1000000"#)]).with_limits(RunLimits {
            strikes: 2,
            strike_window_seconds: 600,
            ..RunLimits::default()
        });
    let huge = "a".repeat(2 << 20);
    assert!(run_at(&detector, at_minute(&huge, 0), 0)
        .disabled
        .is_empty());
    // Eleven minutes later the first strike has left the window.
    assert!(run_at(&detector, at_minute(&huge, 11), 11)
        .disabled
        .is_empty());
    assert_eq!(
        run_at(&detector, at_minute(&huge, 12), 12).disabled.len(),
        1
    );
}

#[test]
fn rule_and_pack_deadlines_stop_rules_and_skip_the_rest() {
    // Every reading of this stopwatch is a millisecond later: a rule is checked every 1024
    // steps, so a rule doing a few hundred thousand steps of work passes a 20 ms deadline.
    let busy = vec![r#"lcase(text) != """#; 40].join(" & ");
    let busy = busy.as_str();
    let detector = pack_of(&[
        ("first", r#"text contains "casino""#),
        ("busy", busy),
        ("last", r#"text contains "casino""#),
    ])
    .with_limits(RunLimits {
        rule_deadline: std::time::Duration::from_millis(20),
        pack_deadline: std::time::Duration::from_secs(10),
        ..RunLimits::default()
    })
    .with_stopwatch(ticking(std::time::Duration::from_millis(1)));
    let text = format!("casino {}", "x".repeat(8 << 10));
    let evaluation = run_at(&detector, at_minute(&text, 0), 0);
    let hits: Vec<&str> = evaluation.hits.iter().map(|h| h.rule_id.as_str()).collect();
    assert_eq!(hits, ["first", "last"]);
    assert_eq!(evaluation.errors.len(), 1);
    assert_eq!(evaluation.errors[0].kind, FailureKind::RuleDeadline);
    assert!(evaluation.errors[0].error.to_string().contains("deadline"));

    // With a pack deadline shorter than the busy rule, it stops that rule and the rules
    // after it are skipped and recorded, without strikes.
    let detector = pack_of(&[
        ("first", r#"text contains "casino""#),
        ("busy", busy),
        ("last", r#"text contains "casino""#),
    ])
    .with_limits(RunLimits {
        rule_deadline: std::time::Duration::from_secs(10),
        pack_deadline: std::time::Duration::from_millis(20),
        strikes: 1,
        ..RunLimits::default()
    })
    .with_stopwatch(ticking(std::time::Duration::from_millis(1)));
    let evaluation = run_at(&detector, at_minute(&text, 0), 0);
    let kinds: Vec<(&str, FailureKind)> = evaluation
        .errors
        .iter()
        .map(|f| (f.rule_id.as_str(), f.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("busy", FailureKind::PackDeadline),
            ("last", FailureKind::PackDeadline)
        ]
    );
    assert_eq!(evaluation.skipped, 1);
    assert_eq!(evaluation.hits.len(), 1);
    assert!(
        evaluation.disabled.is_empty(),
        "the pack deadline is no strike"
    );
    // The next event starts with a fresh pack deadline, and on short text every rule
    // finishes in time and hits.
    let evaluation = run_at(&detector, at_minute("casino", 1), 1);
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    assert_eq!(evaluation.hits.len(), 3);
}

#[test]
fn costly_rules_are_refused_at_build_with_their_position() {
    let calls = (0..400)
        .map(|_| r#"x := ccnorm(text); "#)
        .collect::<String>();
    let text = format!(
        "[[rule]]\nid = \"costly\"\nname = \"c\"\ncategory = \"spam\"\nmode = \"live\"\nexpression = '''{calls}x == \"\"'''\n[rule.outcome]\ncase = {{}}\n"
    );
    let built = Detector::build(
        parse_files(&[("c.toml".into(), text)], &Taxonomy::default()),
        &mut |_| 1,
        Default::default(),
        None,
    );
    assert!(built.detector.rules().is_empty());
    assert_eq!(built.errors.len(), 1);
    let message = built.errors[0].to_string();
    assert!(
        message.contains("costly") && message.contains("cost_too_high at byte"),
        "{message}"
    );
    assert!(message.contains("ccnorm"), "{message}");
}
