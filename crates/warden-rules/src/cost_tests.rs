//! Tests of the cost model: every costly function charged in proportion to what it touches,
//! at the budget and beyond, the pathological rules of issue 8 stopped quickly, and (with
//! `WARDEN_COST_CALIBRATION=1`) the measured time per step of every function.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::limits::cost::{
    CHARS_PER_KIB, COPY_PER_KIB, NORMALIZE_PER_KIB, REGEX_MATCH_STEPS, REGEX_PER_KIB,
    SEARCH_PER_KIB, STR_MATCH_STEPS,
};
use crate::limits::{DEFAULT_STEP_LIMIT, MAX_ARRAY_LENGTH, MAX_STRING_LENGTH};
use crate::{ErrorKind, EvalContext, Extensions, Rule, Value};

const KIB: usize = 1024;

fn extensions() -> Extensions {
    let mut ext = Extensions::new();
    ext.declare_variable("s").unwrap();
    ext.declare_variable("t").unwrap();
    ext
}

/// Evaluates `source` with `s` bound to `text`, returning the outcome and the steps used.
fn run(source: &str, text: &str, limit: u64) -> (Result<Value, ErrorKind>, u64) {
    let rule = Rule::compile_with(source, &extensions()).unwrap();
    let mut vars: HashMap<String, Value> = HashMap::new();
    vars.insert("s".into(), Value::str(text));
    vars.insert("t".into(), Value::str("zq"));
    let mut ctx = EvalContext::new().with_step_limit(limit);
    let result = rule.evaluate(&vars, &mut ctx).map_err(|e| e.kind);
    (result, ctx.steps_used())
}

fn steps(source: &str, text: &str) -> u64 {
    let (result, steps) = run(source, text, u64::MAX);
    assert!(result.is_ok(), "{source}: {result:?}");
    steps
}

/// Steps charged for `source` on `bytes` bytes of input beyond those on an empty input.
fn marginal(source: &str, bytes: usize) -> u64 {
    let text = "ab".repeat(bytes / 2);
    steps(source, &text) - steps(source, "")
}

#[track_caller]
fn assert_about(actual: u64, expected: u64) {
    let low = expected - expected / 10;
    let high = expected + expected / 10;
    assert!(
        (low..=high).contains(&actual),
        "{actual} steps, expected about {expected}"
    );
}

#[test]
fn each_costly_function_is_charged_by_the_bytes_it_touches() {
    let mib = KIB * KIB;
    let per = |rate: u64| rate * (mib / KIB) as u64;
    // Input at the function's rate, and for string results the output copied.
    assert_about(
        marginal("lcase(s)", mib),
        per(CHARS_PER_KIB) + per(COPY_PER_KIB),
    );
    assert_about(marginal("length(s)", mib), per(SEARCH_PER_KIB));
    assert_about(
        marginal("ccnorm(s)", mib),
        per(2 * NORMALIZE_PER_KIB) + per(COPY_PER_KIB),
    );
    assert_about(
        marginal("norm(s)", mib),
        per(4 * NORMALIZE_PER_KIB) + per(COPY_PER_KIB),
    );
    assert_about(marginal("count('z', s)", mib), per(2 * SEARCH_PER_KIB));
    // Searches are charged once per needle.
    assert_about(
        marginal("contains_any(s, 'x', 'y', 'z')", mib),
        per(COPY_PER_KIB) + 3 * per(SEARCH_PER_KIB),
    );
    assert_about(marginal("s contains 'z'", mib), per(SEARCH_PER_KIB));
    // Regular expressions: the scan, and each match found.
    assert_about(marginal("s rlike 'z'", mib), per(REGEX_PER_KIB));
    let matches = (mib / 2) as u64;
    assert_about(
        marginal("rcount('a', s)", mib),
        per(REGEX_PER_KIB) + matches * REGEX_MATCH_STEPS,
    );
    // Replacing copies the output too.
    let replaced = marginal("str_replace_regexp(s, 'a', 'c')", mib);
    assert!(replaced > per(REGEX_PER_KIB) + matches * REGEX_MATCH_STEPS + per(COPY_PER_KIB));
    // The search twice (counting, then replacing), the output, and each match.
    assert_about(
        marginal("str_replace(s, 'a', 'cc')", mib),
        per(2 * SEARCH_PER_KIB) + per(COPY_PER_KIB) * 3 / 2 + matches * STR_MATCH_STEPS,
    );
    // Comparing and concatenating copy both sides.
    assert_about(marginal("s == s", mib), 2 * per(COPY_PER_KIB));
    assert_about(marginal("s + s", mib), 2 * per(COPY_PER_KIB));
    // Backtracking patterns cost more per byte than linear ones.
    assert!(marginal("s rlike '(?=z)'", mib) > 4 * marginal("s rlike 'z'", mib));
}

#[test]
fn work_at_the_budget_runs_and_beyond_it_stops() {
    let text = "ab".repeat(64 * KIB);
    for source in [
        "lcase(s)",
        "ccnorm(s)",
        "norm(s)",
        "count('a', s)",
        "rcount('a', s)",
        "s rlike 'zz'",
        "s irlike '(?=zz)'",
        "str_replace(s, 'a', 'bb')",
        "str_replace_regexp(s, 'a', 'b')",
        "contains_any(s, 'x', 'y')",
        "ccnorm_contains_all(s, 'x', 'y')",
        "sanitize(s)",
        "rmspecials(s)",
        "specialratio(s)",
        "s == s + ''",
        "get_matches('(a)(b)', s)",
        "substr(s, 5)",
        "equals_to_any(s, s + '', 'x')",
    ] {
        let needed = steps(source, &text);
        assert!(needed > 1000, "{source}: {needed}");
        let (at, used) = run(source, &text, needed);
        assert!(at.is_ok(), "{source} at its cost {needed}: {at:?}");
        assert_eq!(used, needed);
        let (beyond, _) = run(source, &text, needed - 1);
        assert_eq!(beyond, Err(ErrorKind::TimeBudget), "{source}");
    }
}

#[test]
fn an_eight_mib_string_with_999_replacements_stops_quickly() {
    // Issue 8, item 5: built in the rule (23 doublings reach 8 MiB), then 999 replacements.
    let mut source = String::from("s := 'a';");
    for _ in 0..23 {
        source.push_str(" s := s + s;");
    }
    for _ in 0..999 {
        source.push_str(r#" s := str_replace_regexp(s, "a", "b");"#);
    }
    let rule = Rule::compile(&source).unwrap();
    let started = Instant::now();
    let error = rule
        .evaluate(&crate::NoVariables, &mut EvalContext::new())
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.kind, ErrorKind::TimeBudget, "{error}");
    // Before the cost model this ran for minutes; now the budget stops it within the first
    // replacement, after a few thousand matches. Loose bound: an unoptimised build, a busy
    // machine.
    assert!(took < Duration::from_secs(1), "took {took:?}");
    eprintln!("8 MiB and 999 replacements stopped after {took:?}");
}

#[test]
fn large_inputs_to_each_costly_function_stop_quickly() {
    let text = "a".repeat(MAX_STRING_LENGTH);
    for source in [
        "ccnorm(s)",
        "count('a', s) + count('a', s) + count('a', s) + count('a', s) + count('a', s)",
        "rcount('a', s)",
        "s rlike 'b' | s rlike 'c' | s rlike 'd' | s rlike 'e' | s rlike 'f'",
        "s irlike '(?=b)'",
        "str_replace(s, 'a', 'b') + str_replace(s, 'a', 'b') + str_replace(s, 'a', 'b')",
        "contains_any(s, 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j')",
    ] {
        let started = Instant::now();
        let (result, _) = run(source, &text, DEFAULT_STEP_LIMIT);
        let took = started.elapsed();
        assert_eq!(result, Err(ErrorKind::TimeBudget), "{source}");
        // Each ran for minutes before the cost model. The bound is loose: an unoptimised
        // build on a shared machine, and copying the 8 MiB input is timed too.
        assert!(took < Duration::from_secs(3), "{source} took {took:?}");
    }
}

#[test]
fn shared_nested_arrays_cannot_grow_exponentially() {
    let mut source = String::from("a := ['xxxxxxxxxxxxxxxx'];");
    for _ in 0..40 {
        source.push_str(" a := [a, a];");
    }
    source.push_str(" string(a) == ''");
    let started = Instant::now();
    let (result, _) = run(&source, "", DEFAULT_STEP_LIMIT);
    assert_eq!(result, Err(ErrorKind::ArrayTooLong));
    assert!(started.elapsed() < Duration::from_secs(1));
    // Up to the limit, nesting works as before.
    let mut source = String::from("a := [1];");
    for _ in 0..15 {
        source.push_str(" a := [a, a];");
    }
    source.push_str(" length(a)");
    assert_eq!(run(&source, "", DEFAULT_STEP_LIMIT).0, Ok(Value::Int(2)));
    const { assert!(MAX_ARRAY_LENGTH >= 3 * (1 << 15)) };
}

#[test]
fn runtime_patterns_charge_their_compilation_once() {
    let text = "ab".repeat(16);
    let once = steps("s rlike ('a' + t)", &text);
    let twice = steps("s rlike ('a' + t) & s rlike ('a' + t) | 1", &text);
    let literal = steps("s rlike 'azq'", &text);
    assert!(once > literal + 10_000, "{once} vs {literal}");
    // The second use hits the context's cache.
    assert!(twice < 2 * once - 10_000, "{twice} vs {once}");
}

/// Measures the time per step of each function on several kinds of input; run with
/// `WARDEN_COST_CALIBRATION=1 cargo test --release -p warden-rules calibration --
/// --nocapture`. In an optimised build it fails if any function takes more than
/// `MAX_NS_PER_STEP` per step, which would mean the budget no longer bounds wall time.
#[test]
fn calibration() {
    const MAX_NS_PER_STEP: f64 = 8.0;
    if std::env::var_os("WARDEN_COST_CALIBRATION").is_none() {
        return;
    }
    let inputs = [
        (
            "ascii",
            "the quick brown fox jumps over the lazy dog 0123456789 ",
        ),
        ("a", "a"),
        ("unicode", "Ωméga ßtraße ΐ文字 ёж "),
        ("specials", "!@#$%^&*()[]{}<>?~ "),
        ("entities", "&amp;&lt;&#233;&eacute;x"),
        ("confusables", "w1k1p3d14 ＦＵＬＬ ɨᑭ "),
    ];
    let functions = [
        "lcase(s)",
        "ucase(s)",
        "length(s)",
        "substr(s, 10, 100000)",
        "strpos(s, 'zzq')",
        "rescape(s)",
        "string(s)",
        "int(s)",
        "ccnorm(s)",
        "norm(s)",
        "sanitize(s)",
        "rmspecials(s)",
        "rmdoubles(s)",
        "rmwhitespace(s)",
        "specialratio(s)",
        "count('zzq', s)",
        "count(s)",
        "str_replace(s, 'a', 'bb')",
        "str_replace(s, ' ', '')",
        "str_replace_regexp(s, 'a', 'b')",
        "str_replace_regexp(s, '[aeiou ]', '$0$0')",
        "str_replace_regexp(s, '(\\w)(\\w)', '$2$1')",
        "rcount('a', s)",
        "rcount('\\w+', s)",
        "rcount('.', s)",
        "get_matches('(z)(q)', s)",
        "s rlike 'zq'",
        "s irlike 'z\\w+q'",
        "s irlike 'casino|viagra|bitcoin|giveaway|followers|winner'",
        "s rlike '(?=zq)'",
        "s rlike '(\\w+)\\s\\1'",
        "s like '*zq*'",
        "contains_any(s, 'zq', 'qz', 'xy')",
        "ccnorm_contains_any(s, 'zq')",
        "equals_to_any(s, s + '', 'x')",
        "s contains 'zq'",
        "'zq' in s",
        "s == s + ''",
        "s < s + ''",
        "s + s",
    ];
    let size = 256 * KIB;
    let mut worst: (f64, String) = (0.0, String::new());
    for (kind, unit) in inputs {
        let text = unit.repeat(size / unit.len());
        for f in functions {
            let rule = Rule::compile_with(f, &extensions()).unwrap();
            let mut vars: HashMap<String, Value> = HashMap::new();
            vars.insert("s".into(), Value::str(&text));
            let mut ctx = EvalContext::new().with_step_limit(u64::MAX);
            let mut best = Duration::MAX;
            let mut used = 0;
            let mut failed = None;
            for _ in 0..5 {
                ctx.reset();
                let started = Instant::now();
                let result = rule.evaluate(&vars, &mut ctx);
                best = best.min(started.elapsed());
                used = ctx.steps_used();
                failed = result.err();
            }
            if let Some(error) = failed {
                // The backtracking engine's own limit stops some patterns on some input:
                // the time until then still counts, per step charged.
                eprintln!("{kind:<12} {f:<60} stopped: {error}");
            }
            let ns = best.as_nanos() as f64 / used.max(1) as f64;
            let ns_per_byte = best.as_nanos() as f64 / text.len() as f64;
            eprintln!(
                "{kind:<12} {f:<60} {used:>10} steps {ns:>7.2} ns/step {ns_per_byte:>7.2} ns/byte"
            );
            if ns > worst.0 {
                worst = (ns, format!("{f} on {kind}"));
            }
        }
    }
    eprintln!("worst: {:.2} ns/step ({})", worst.0, worst.1);
    if !cfg!(debug_assertions) {
        assert!(worst.0 <= MAX_NS_PER_STEP, "{worst:?}");
    }
}
