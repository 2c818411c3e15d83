//! Fuzzes the whole pipeline: any input must compile or fail cleanly, and any compiled rule
//! must evaluate or fail cleanly, without panicking, within small budgets.

#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_rules::{EvalContext, Rule, Value};

/// A few host variables of every type, so rules that read them get real values.
fn variables(name: &str) -> Option<Value> {
    Some(match name {
        "user_name" => Value::str("Fuzzy McFuzzface"),
        "user_editcount" => Value::Int(42),
        "user_age" => Value::Float(3600.5),
        "user_groups" => Value::array([Value::str("*"), Value::str("user")]),
        "added_lines" => Value::array([Value::str("foo bar"), Value::str("\u{e9}t\u{e9} 1234")]),
        "page_namespace" => Value::Int(0),
        "summary" => Value::str(""),
        "user_blocked" => Value::Bool(false),
        _ => return None,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rule) = Rule::compile(source) {
        let mut ctx = EvalContext::new()
            .with_step_limit(200_000)
            .with_condition_limit(1000);
        let _ = rule.evaluate(&variables, &mut ctx);
    }
});
