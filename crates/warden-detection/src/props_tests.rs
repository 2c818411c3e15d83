//! Tests of property paths and features: missing values, types, deep paths, evaluation
//! order and caching, cycles, and a property test of path reads over random documents.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value as Json};

use warden_domain::taxonomy::Taxonomy;
use warden_rules::{EvalContext, Value};

use crate::facts::property;
use crate::{parse_files, Detector, EventFacts, EventVariables};

fn now() -> warden_domain::Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn pack(extra: &str, rules: &[(&str, &str)]) -> (Detector, Vec<String>) {
    let mut text = extra.to_string();
    for (id, expression) in rules {
        text.push_str(&format!(
            "\n[[rule]]\nid = \"{id}\"\nname = \"{id}\"\ncategory = \"spam\"\nmode = \"shadow\"\nexpression = '''{expression}'''\n"
        ));
    }
    let parsed = parse_files(&[("p.toml".into(), text)], &Taxonomy::default());
    // Building keeps the parse errors and adds its own.
    let built = Detector::build(parsed, &mut |_| 1, Default::default(), None);
    let errors = built.errors.iter().map(ToString::to_string).collect();
    (built.detector, errors)
}

fn event(data: Json) -> EventFacts {
    EventFacts {
        event_id: "e1".into(),
        event_type: "payment".into(),
        occurred_at: Some(now()),
        actor_id: Some("acct_1".into()),
        actor_created_at: Some(now() - chrono::Duration::hours(3)),
        subject_attributes: Some(json!({"country": "DE", "amount": 12.5})),
        data,
        ..EventFacts::default()
    }
}

fn run(detector: &Detector, facts: EventFacts) -> (Vec<String>, crate::Evaluation, usize) {
    let vars = EventVariables::new(Arc::new(facts), now());
    let evaluation = detector.evaluate_variables(&vars, &mut EvalContext::new(), None);
    let hits = evaluation.hits.iter().map(|h| h.rule_id.clone()).collect();
    let runs = vars.feature_evaluations();
    (hits, evaluation, runs)
}

#[test]
fn properties_read_by_path_with_abusefilter_values() {
    let (detector, errors) = pack(
        "",
        &[
            ("device", "event.props.device.id == 'd-1'"),
            (
                "count",
                "event.props.messages.count > 10 & event.props.messages.count === 12",
            ),
            ("float", "event.props.payment.amount === 99.5"),
            (
                "list",
                "'vip' in event.props.tags & event.props.tags[1] == 'vip'",
            ),
            ("indexed", "event.props.items.1.sku == 'B'"),
            (
                "missing",
                "event.props.nothing.here === null & event.props.device.id.deeper === null",
            ),
            ("object", "event.props.device === null"),
            (
                "subject",
                "subject.props.country == 'DE' & subject.props.amount > 12",
            ),
            ("aliases", "event.type == 'payment' & event.id == 'e1'"),
            ("wrong-type", "event.props.device.id > 5"),
        ],
    );
    assert!(errors.is_empty(), "{errors:?}");
    let (hits, evaluation, _) = run(
        &detector,
        event(json!({
            "device": {"id": "d-1"},
            "messages": {"count": 12},
            "payment": {"amount": 99.5},
            "tags": ["new", "vip"],
            "items": [{"sku": "A"}, {"sku": "B"}],
        })),
    );
    assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
    // `wrong-type` compares text with a number as PHP 8 does (as strings); a pack that
    // declares the field's type gets that refused by `rules check` instead.
    assert_eq!(
        hits,
        [
            "device",
            "count",
            "float",
            "list",
            "indexed",
            "missing",
            "object",
            "subject",
            "aliases",
            "wrong-type"
        ]
    );
    // A hit shows the paths it read.
    let device = &evaluation.hits[0];
    assert_eq!(device.matched["event.props.device.id"], "d-1");
    // Missing data: every path is null; no error, no hit.
    let (hits, evaluation, _) = run(&detector, event(json!({})));
    assert!(evaluation.errors.is_empty());
    assert_eq!(hits, ["missing", "object", "subject", "aliases"]);
}

#[test]
fn declared_fields_catch_typos_and_type_mismatches_in_check() {
    let fields = r#"
[fields]
"event.props.device.id" = "string"
event.props.payment = { amount = "number", method = "string" }
"#;
    let (_, errors) = pack(
        fields,
        &[
            ("typo", "event.props.devise.id == 'x'"),
            ("mismatch", "event.props.payment.amount == 'lots'"),
            (
                "fine",
                "event.props.payment.method == 'card' & event.props.payment.amount > 5",
            ),
            ("open-root", "subject.props.whatever == 1"),
        ],
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("typo")
            && errors[0].contains("unknown_variable at byte 0")
            && errors[0].contains("did you mean 'event.props.device.id'"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("mismatch") && errors[1].contains("type_mismatch at byte 27"),
        "{errors:?}"
    );
    let (_, errors) = pack(
        "[fields]\n\"event.props.x\" = \"colour\"\n\"other.y\" = \"string\"\n",
        &[],
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("colour")));
    assert!(errors
        .iter()
        .any(|e| e.contains("must start with one of event.props")));
}

#[test]
fn deep_paths_at_the_limit() {
    let limit = warden_rules::limits::MAX_PATH_SEGMENTS;
    // event.props + (limit - 2) keys.
    let keys: Vec<String> = (0..limit - 2).map(|i| format!("k{i}")).collect();
    let mut data = json!("deep");
    for key in keys.iter().rev() {
        data = json!({ key.clone(): data });
    }
    let path = format!("event.props.{}", keys.join("."));
    let (detector, errors) = pack("", &[("deep", &format!("{path} == 'deep'"))]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(run(&detector, event(data)).0, ["deep"]);
    let (_, errors) = pack("", &[("deeper", &format!("{path}.more == 'deep'"))]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    // Arrays nested past the limit read as null.
    let mut nested = json!(1);
    for _ in 0..crate::limits::PROPERTY_ARRAY_DEPTH_MAX + 1 {
        nested = json!([nested]);
    }
    let value = property(Some(&json!({ "n": nested })), "n");
    let mut depth = 0;
    let mut current = &value;
    while let Value::Array(items) = current {
        depth += 1;
        current = &items[0];
    }
    assert_eq!(depth, crate::limits::PROPERTY_ARRAY_DEPTH_MAX);
    assert!(matches!(current, Value::Null));
}

const FEATURES: &str = r#"
[[list]]
name = "spam_words"
kind = "keywords"
entries = ["free money", "click here"]

[features]
text_l = 'lcase(event.text)'
is_new = 'actor_age_days < 1'
spam_words = { expression = 'in_list("spam_words", text_l)', description = "known spam phrases" }
risky = 'is_new & spam_words'
"#;

#[test]
fn features_run_once_per_event_however_many_rules_read_them() {
    let rules: Vec<(String, String)> = (0..25)
        .map(|i| (format!("r{i}"), format!("risky & length(text_l) > {i}")))
        .collect();
    let rules: Vec<(&str, &str)> = rules
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (detector, errors) = pack(FEATURES, &rules);
    assert!(errors.is_empty(), "{errors:?}");
    let mut facts = event(json!({"text": "FREE MONEY, click here"}));
    facts.event_type = "post_created".into();
    let (hits, evaluation, runs) = run(&detector, facts.clone());
    assert_eq!(hits.len(), 22, "texts of 22 characters: rules 0 to 21");
    // Four features, each computed once for 25 rules.
    assert_eq!(runs, 4);
    // Hits carry the feature values, also those read through other features.
    let hit = &evaluation.hits[0];
    assert_eq!(hit.features["text_l"], "free money, click here");
    assert_eq!(hit.features["is_new"], true);
    assert_eq!(hit.features["spam_words"], true);
    assert_eq!(hit.features["risky"], true);
    assert_eq!(hit.matched["risky"], true);
    // Lazily: when is_new is false, spam_words (and text_l) are never computed.
    facts.actor_created_at = Some(now() - chrono::Duration::days(30));
    let (hits, evaluation, runs) = run(&detector, facts);
    assert!(hits.is_empty());
    assert_eq!(runs, 2, "risky and is_new only");
    assert!(evaluation.errors.is_empty());
}

#[test]
fn features_are_evaluated_in_dependency_order_with_types() {
    let (detector, errors) = pack(FEATURES, &[]);
    assert!(errors.is_empty(), "{errors:?}");
    let order: Vec<&str> = detector
        .features()
        .features()
        .iter()
        .map(|f| f.definition.name.as_str())
        .collect();
    let at = |name: &str| order.iter().position(|n| *n == name).unwrap();
    assert!(at("text_l") < at("spam_words"));
    assert!(at("is_new") < at("risky") && at("spam_words") < at("risky"));
    let ty = |name: &str| detector.features().features()[at(name)].ty;
    assert_eq!(ty("text_l"), Some(warden_rules::VarType::String));
    assert_eq!(ty("is_new"), Some(warden_rules::VarType::Bool));
    assert_eq!(ty("risky"), Some(warden_rules::VarType::Bool));
    assert_eq!(
        ty("spam_words"),
        None,
        "host functions do not declare a type"
    );
    // A rule comparing a boolean feature with text is refused when checked.
    let (_, errors) = pack(FEATURES, &[("odd", "risky == 'yes'")]);
    assert!(errors[0].contains("type_mismatch"), "{errors:?}");
}

#[test]
fn feature_cycles_are_refused_with_their_position() {
    let (detector, errors) = pack(
        "[features]\na = 'b + 1'\nb = 'c * 2'\nc = '1 + a'\nd = 'length(text)'\ne = 'f'\nf = 'e'\n",
        &[("uses-d", "d > 1"), ("uses-a", "a > 1")],
    );
    let cycles: Vec<&String> = errors.iter().filter(|e| e.contains("cycle")).collect();
    assert_eq!(cycles.len(), 2, "{errors:?}");
    assert!(
        cycles[0].contains("a → b → c → a") && cycles[0].contains("at byte 0 of a"),
        "{cycles:?}"
    );
    assert!(cycles[1].contains("e → f → e"), "{cycles:?}");
    // The features outside cycles and the rules reading them work; a rule reading a
    // refused feature does not compile.
    assert_eq!(detector.features().features().len(), 1);
    let ids: Vec<&str> = detector
        .rules()
        .iter()
        .map(|r| r.definition.id.as_str())
        .collect();
    assert_eq!(ids, ["uses-d"]);
    assert!(errors
        .iter()
        .any(|e| e.contains("uses-a") && e.contains("unknown variable 'a'")));
    // A feature reading itself is a cycle too; a feature may not shadow a variable.
    let (_, errors) = pack("[features]\nx = 'x + 1'\ntext = '1'\n", &[]);
    assert!(errors.iter().any(|e| e.contains("x → x")), "{errors:?}");
    assert!(errors
        .iter()
        .any(|e| e.contains("feature text") && e.contains("already a variable")));
}

#[test]
fn a_failing_feature_reads_as_undefined_and_is_reported() {
    let (detector, errors) = pack(
        "[features]\nratio = '10 / event.props.n'\n",
        &[
            ("high", "ratio > 1"),
            ("low", "!(ratio > 1)"),
            ("plain", "1 == 1"),
        ],
    );
    assert!(errors.is_empty(), "{errors:?}");
    let (hits, evaluation, runs) = run(&detector, event(json!({"n": 0})));
    assert_eq!(
        hits,
        ["plain"],
        "undefined never matches, not even through !"
    );
    assert_eq!(runs, 1);
    assert_eq!(evaluation.errors.len(), 1);
    assert_eq!(evaluation.errors[0].rule_id, "feature:ratio");
    assert_eq!(
        evaluation.errors[0].error.kind,
        warden_rules::ErrorKind::DivisionByZero
    );
}

/// A tiny deterministic generator, so the property test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_json(rng: &mut Rng, depth: usize) -> Json {
    match rng.below(if depth > 4 { 5 } else { 7 }) {
        0 => Json::Null,
        1 => json!(rng.below(2) == 1),
        2 => json!(rng.below(1000) as i64 - 500),
        3 => json!(rng.below(1000) as f64 / 8.0),
        4 => json!(format!("s{}", rng.below(50))),
        5 => Json::Array(
            (0..rng.below(4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => Json::Object(
            (0..rng.below(4))
                .map(|i| (format!("k{i}"), random_json(rng, depth + 1)))
                .collect(),
        ),
    }
}

/// Every path into a random document: reading it through a rule gives what walking the
/// JSON gives, converted as documented, and a path one step past a leaf is null.
#[test]
fn property_reads_agree_with_the_json_over_random_documents() {
    let mut rng = Rng(0x5EED_F00D_1234_5678);
    for _ in 0..300 {
        let document = random_json(&mut rng, 0);
        let Json::Object(_) = document else { continue };
        let mut paths = Vec::new();
        collect_paths(&document, String::new(), &mut paths);
        for (path, json) in paths.iter().take(8) {
            let direct = property(Some(&document), path);
            let expected = match json {
                Json::Object(_) | Json::Null => Value::Null,
                other => crate::facts::property_value(other, 0),
            };
            assert!(direct.strict_eq(&expected), "{path}: {direct:?} vs {json}");
            assert!(property(Some(&document), &format!("{path}.zz")).strict_eq(&Value::Null));
            // Through a rule: the value is stable under `===` with itself, and its type
            // is the JSON type's.
            let (detector, errors) = pack(
                "",
                &[(
                    "typed",
                    &format!(
                        "t := event.props.{path}; (t === null) + (t === true | t === false) * 2 + (string(t) === t) * 4"
                    ),
                )],
            );
            assert!(errors.is_empty(), "{errors:?}");
            let vars = EventVariables::new(Arc::new(event(document.clone())), now());
            let read = vars_get(&vars, &format!("event.props.{path}"));
            assert!(read.strict_eq(&direct), "{path}");
            let _ = detector;
        }
    }
}

fn vars_get(vars: &EventVariables, name: &str) -> Value {
    warden_rules::Variables::get(vars, name).unwrap_or(Value::Undefined)
}

fn collect_paths(value: &Json, prefix: String, out: &mut Vec<(String, Json)>) {
    match value {
        Json::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.push((path.clone(), inner.clone()));
                collect_paths(inner, path, out);
            }
        }
        Json::Array(items) if !prefix.is_empty() => {
            for (i, inner) in items.iter().enumerate() {
                let path = format!("{prefix}.{i}");
                out.push((path.clone(), inner.clone()));
                collect_paths(inner, path, out);
            }
        }
        _ => {}
    }
}

#[test]
fn a_changed_feature_gives_the_rules_reading_it_a_new_version() {
    let hashes = |features: &str| {
        let text = format!(
            "{features}\n[[rule]]\nid = \"reads\"\nname = \"r\"\ncategory = \"spam\"\nmode = \"shadow\"\nexpression = 'risky & \"is_new\" != \"\"'\n\n[[rule]]\nid = \"plain\"\nname = \"p\"\ncategory = \"spam\"\nmode = \"shadow\"\nexpression = 'text contains \"risky\"'\n"
        );
        let parsed = parse_files(&[("p.toml".into(), text)], &Taxonomy::default());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let rules = parsed.rules;
        (rules[0].clone(), rules[1].source_hash.clone())
    };
    let (before, plain_before) = hashes(FEATURES);
    let (after, plain_after) =
        hashes(&FEATURES.replace("actor_age_days < 1", "actor_age_days < 2"));
    assert_ne!(before.source_hash, after.source_hash, "risky reads is_new");
    assert!(
        after.source.contains("actor_age_days < 2"),
        "{}",
        after.source
    );
    // Names inside strings are not reads; a rule reading no feature keeps its version.
    assert_eq!(plain_before, plain_after);
    let (same, _) = hashes(&FEATURES.replace("free money", "free cash"));
    assert_eq!(
        same.source_hash, before.source_hash,
        "lists are not features"
    );
}
