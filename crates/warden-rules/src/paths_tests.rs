//! Tests of property paths (`event.props.device.id`) and declared types.

use std::collections::HashMap;

use crate::limits::MAX_PATH_SEGMENTS;
use crate::{ErrorKind, EvalContext, Extensions, Rule, Value, VarType};

fn ext() -> Extensions {
    let mut ext = Extensions::empty();
    ext.declare_path_root("event.props").unwrap();
    ext.declare_path_root("subject.props").unwrap();
    ext.declare_variable("text").unwrap();
    ext
}

fn eval(source: &str, ext: &Extensions, vars: &HashMap<String, Value>) -> Result<Value, ErrorKind> {
    Rule::compile_with(source, ext)
        .and_then(|r| r.evaluate(vars, &mut EvalContext::new()))
        .map_err(|e| e.kind)
}

#[test]
fn paths_are_host_variables_with_their_case_kept() {
    let rule = Rule::compile_with(
        "EVENT.Props.deviceId == 'd1' & subject.props.country == 'DE'",
        &ext(),
    )
    .unwrap();
    let mut read: Vec<&str> = rule.host_variables().collect();
    read.sort_unstable();
    assert_eq!(read, ["event.props.deviceId", "subject.props.country"]);
    let mut vars = HashMap::new();
    vars.insert("event.props.deviceId".to_string(), Value::str("d1"));
    vars.insert("subject.props.country".to_string(), Value::str("DE"));
    assert_eq!(
        eval(
            "event.props.deviceId == 'd1' & subject.props.country == 'DE'",
            &ext(),
            &vars
        ),
        Ok(Value::Bool(true))
    );
    // A path is read once per evaluation, however often the rule names it.
    assert_eq!(
        eval("event.props.deviceId + event.props.deviceId", &ext(), &vars),
        Ok(Value::str("d1d1"))
    );
}

#[test]
fn paths_outside_roots_and_assignments_to_paths_are_refused() {
    let unknown = Rule::compile_with("other.props.x == 1", &ext()).unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::UnknownVariable);
    let assigned = Rule::compile_with("event.props.x := 1", &ext()).unwrap_err();
    assert_eq!(assigned.kind, ErrorKind::OverrideBuiltin);
    // Without any root, a dotted name is an unknown variable, as before it was an error.
    assert_eq!(
        Rule::compile("a.b").unwrap_err().kind,
        ErrorKind::UnknownVariable
    );
}

#[test]
fn deep_paths_at_the_limit_and_beyond() {
    let segments = |n: usize| {
        std::iter::once("event.props".to_string())
            .chain((0..n - 2).map(|i| format!("s{i}")))
            .collect::<Vec<_>>()
            .join(".")
    };
    let at_limit = segments(MAX_PATH_SEGMENTS);
    let rule = Rule::compile_with(&format!("{at_limit} == 1"), &ext()).unwrap();
    assert_eq!(
        rule.host_variables().collect::<Vec<_>>(),
        [at_limit.as_str()]
    );
    let beyond = segments(MAX_PATH_SEGMENTS + 1);
    assert!(Rule::compile_with(&format!("{beyond} == 1"), &ext()).is_err());
}

#[test]
fn declared_paths_catch_typos_with_a_suggestion_and_position() {
    let mut ext = ext();
    ext.declare_path("event.props.device.id", Some(VarType::String))
        .unwrap();
    ext.declare_path("event.props.amount", Some(VarType::Number))
        .unwrap();
    let source = "event.props.amount > 5 & event.props.devise.id == 'x'";
    let error = Rule::compile_with(source, &ext).unwrap_err();
    assert_eq!(error.kind, ErrorKind::UnknownVariable);
    assert_eq!(error.position, source.find("event.props.devise").unwrap());
    assert!(
        error
            .detail
            .contains("did you mean 'event.props.device.id'"),
        "{error}"
    );
    // Other roots stay open.
    assert!(Rule::compile_with("subject.props.anything == 1", &ext).is_ok());
}

#[test]
fn declared_types_catch_mismatches_with_their_position() {
    let mut ext = ext();
    ext.declare_path("event.props.amount", Some(VarType::Number))
        .unwrap();
    ext.declare_path("event.props.country", Some(VarType::String))
        .unwrap();
    ext.declare_path("event.props.verified", Some(VarType::Bool))
        .unwrap();
    ext.declare_path("event.props.tags", Some(VarType::Array))
        .unwrap();
    for (source, at) in [
        ("event.props.amount == 'lots'", "=="),
        ("event.props.country > 5", ">"),
        ("1 + 1 == 2 & event.props.verified == 'yes'", "== 'yes'"),
        ("event.props.amount rlike '^1'", "rlike"),
        ("lcase(event.props.verified) == 'x'", "lcase"),
        ("event.props.country * 2 > 1", "event.props.country"),
        ("event.props.tags < 3", "<"),
    ] {
        let error = Rule::compile_with(source, &ext).unwrap_err();
        assert_eq!(error.kind, ErrorKind::TypeMismatch, "{source}");
        assert_eq!(
            error.position,
            source.find(at).unwrap(),
            "{source}: {error}"
        );
    }
    for fine in [
        "event.props.amount > 10.5 & event.props.amount == '12'",
        "event.props.country == 'DE' & lcase(event.props.country) in 'de,fr'",
        "event.props.verified == 1 | event.props.verified === true",
        "'vip' in event.props.tags & count(event.props.tags) > 1",
        "event.props.amount * 2 + 1 > 3 & event.props.country + '!' == 'DE!'",
    ] {
        assert!(Rule::compile_with(fine, &ext).is_ok(), "{fine}");
    }
}

#[test]
fn result_types_are_known_from_the_text() {
    let ext = ext();
    let ty = |source: &str| Rule::compile_with(source, &ext).unwrap().result_type(&ext);
    assert_eq!(ty("lcase(text)"), Some(VarType::String));
    assert_eq!(ty("length(text) * 2"), Some(VarType::Number));
    assert_eq!(ty("text contains 'x' & 1 == 1"), Some(VarType::Bool));
    assert_eq!(ty("event.props.x"), None);
}
