//! Unit tests of the whole pipeline, written through one [`check`] helper.
//!
//! `check(source, expected)` compiles and evaluates `source` with no variables and compares
//! a type-tagged rendering of the outcome: `int(1)`, `float(0.5)`, `string("a")`,
//! `bool(true)`, `null`, `undefined`, `array[…]`, or `error <kind> at <byte>`.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::limits::{
    DEFAULT_CONDITION_LIMIT, MAX_ARRAY_DEPTH, MAX_ARRAY_LENGTH, MAX_AST_DEPTH, MAX_NESTING_DEPTH,
    MAX_RULE_LENGTH,
};
use crate::{ErrorKind, EvalContext, Extensions, NoVariables, Rule, Value, Variables};

/// Renders a value with its type, so that `1`, `1.0`, `"1"` and `true` differ.
fn describe(v: &Value) -> String {
    match v {
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => format!("bool({b})"),
        Value::Int(i) => format!("int({i})"),
        Value::Float(_) => format!("float({v})"),
        Value::Str(s) => format!("string({s:?})"),
        Value::Array(items) => format!(
            "array[{}]",
            items.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn outcome_with(
    source: &str,
    ext: &Extensions,
    vars: &dyn Variables,
    ctx: &mut EvalContext,
) -> String {
    match Rule::compile_with(source, ext).and_then(|r| r.evaluate(vars, ctx)) {
        Ok(v) => describe(&v),
        Err(e) => format!("error {} at {}", e.kind, e.position),
    }
}

fn outcome(source: &str) -> String {
    outcome_with(
        source,
        &Extensions::new(),
        &NoVariables,
        &mut EvalContext::new(),
    )
}

/// Compiles and evaluates `source` and compares the tagged rendering with `expected`.
#[track_caller]
fn check(source: &str, expected: &str) {
    let shown: String = source.chars().take(120).collect();
    assert_eq!(outcome(source), expected, "source: {shown}");
}

#[test]
fn arithmetic_type_juggling() {
    // Constant folding must not change results or hide run-time errors.
    check("-(2 ** 63)", "float(-9.2233720368548E+18)");
    check("x := 0; 1 / x", "error division_by_zero at 10");
    check("true | 1 / 0", "bool(true)");
    check("1 + 1", "int(2)");
    check("1 + 1.5", "float(2.5)");
    check("'1' + 1", "string(\"11\")");
    check("1 + '1'", "string(\"11\")");
    check("'5' * 2", "float(10)");
    check("'abc' * 2", "float(0)");
    check("'3' - '1'", "float(2)");
    check("true + true", "int(2)");
    check("null + 1", "int(1)");
    check("[1, 2] + 1", "float(3)");
    check("[1] + [2, 3]", "array[int(1), int(2), int(3)]");
    check("7 / 2", "float(3.5)");
    check("6 / 3", "int(2)");
    check("6.0 / 3", "float(2)");
    check("-7 % 3", "int(-1)");
    check("7.9 % 2", "int(1)");
    check("2 ** 62", "int(4611686018427387904)");
    check("2 ** 64", "float(1.844674407371E+19)");
    check("2 ** -1", "float(0.5)");
    check("2 ** 3 ** 2", "int(64)");
    check("9223372036854775807 + 1", "float(9.2233720368548E+18)");
    check("-9223372036854775807 - 2", "float(-9.2233720368548E+18)");
    check("9223372036854775807 * 2", "float(1.844674407371E+19)");
    check(
        "(-9223372036854775807 - 1) / -1",
        "float(9.2233720368548E+18)",
    );
    check("(-9223372036854775807 - 1) % -1", "int(0)");
    check("-(-9223372036854775807 - 1)", "float(9.2233720368548E+18)");
    check("0.1 + 0.2", "float(0.3)");
    check("-'5'", "string(\"-5\")");
    check("-true", "bool(true)");
    check("-null", "null");
    check("+'5'", "string(\"5\")");
    check("1 + 2 * 3 - 4 / 2", "int(5)");
}

#[test]
fn comparisons_and_equality() {
    check("1 == '1.0'", "bool(false)");
    check("1 == 1.0", "bool(true)");
    check("1 === 1.0", "bool(false)");
    check("0.1 + 0.2 === 0.3", "bool(true)");
    check("'abc' == 0", "bool(false)");
    check("null == false", "bool(true)");
    check("null === false", "bool(false)");
    check("[] == false", "bool(true)");
    check("[] == 0", "bool(false)");
    check("[] === []", "bool(true)");
    check("[1] == ['1']", "bool(true)");
    check("[1] === ['1']", "bool(false)");
    check("[[1]] != [[2]]", "bool(true)");
    check("'10' > '9'", "bool(true)");
    check("'10' > '9a'", "bool(false)");
    check("'abc' < 'abd'", "bool(true)");
    check("null < 1", "bool(true)");
    check("[1, 2] > 1", "bool(true)");
    check("' 5' == 5", "bool(false)");
    check("' 5' < 6", "bool(true)");
    check("1 < 2 == true", "bool(true)");
    check("1 < 2 < 3", "error unexpected_at_end at 6");
}

#[test]
fn booleans_and_short_circuit() {
    check("0 & 1/0", "int(0)");
    check("'a' | 1/0", "string(\"a\")");
    check("1 & 'x'", "bool(true)");
    check("1 ^ 1", "bool(false)");
    check("1 ^ 0", "bool(true)");
    check("!0", "bool(true)");
    check("!'0'", "bool(true)");
    check("!'0.0'", "bool(false)");
    check("!![1]", "error unexpected_token at 1");
    check("!(!1)", "bool(true)");
    check("true | false & false", "bool(false)");
    check("bool('0')", "bool(false)");
    check("bool(0.0)", "bool(false)");
    check("bool([])", "bool(false)");
    check("bool([0])", "bool(true)");
    check("if false then 1 end", "null");
    check("if 0 then 1 else 2 end", "int(2)");
    check("1 ? 0 ? 3 : 4 : 5", "int(4)");
}

#[test]
fn casts_and_strings() {
    check("string(1.0)", "string(\"1\")");
    check("string(0.5)", "string(\"0.5\")");
    check("string(true)", "string(\"1\")");
    check("string(false)", "string(\"\")");
    check("string(null)", "string(\"\")");
    check("string([1, [2, 3]])", "string(\"1\\n2\\n3\\n\\n\")");
    check("int('12abc')", "int(12)");
    check("int('1e3')", "int(1000)");
    check("int(-3.9)", "int(-3)");
    check("int('x')", "int(0)");
    check("float('1.5e3')", "float(1500)");
    check("float([1, 2])", "float(2)");
    check("'a' + [1, 2]", "string(\"a1\\n2\\n\")");
    check("'\\x41\\x{}\\q'", "string(\"A\\\\x{}\\\\q\")");
    check(
        "\"it's \" + 'say \"hi\"'",
        "string(\"it's say \\\"hi\\\"\")",
    );
    check("'\\xff'", "string(\"\u{fffd}\")");
    check("length('héllo')", "int(5)");
    check("length(['a', 'b'])", "int(2)");
    check("strlen(12345)", "int(5)");
    check("lcase('ÀÉÎ')", "string(\"àéî\")");
    check("ucase('straße')", "string(\"STRASSE\")");
    check("substr('héllo', 1, 3)", "string(\"éll\")");
    check("substr('héllo', -2)", "string(\"lo\")");
    check("substr('héllo', 1, -1)", "string(\"éll\")");
    check("strpos('héllo', 'l')", "int(2)");
    check("strpos('héllo', 'l', -2)", "int(3)");
    check("strpos('abc', '')", "int(-1)");
    check("str_replace('aaa', '', 'b')", "string(\"aaa\")");
    check("str_replace('aXbXc', 'X', '--')", "string(\"a--b--c\")");
    check("count('')", "int(1)");
    check("count('a', '')", "int(0)");
    check("rcount('a.', 'aXaYa')", "int(2)");
    check("rescape('a.b*c/')", "string(\"a\\\\.b\\\\*c/\")");
    check(
        "sanitize('&lt;b&gt; &amp;amp; &#x41;&#0;')",
        "string(\"<b> & A\u{fffd}\")",
    );
    check("ccnorm('&eacute;1')", "string(\"EI\")");
    check("norm('!! H3LL0 !!')", "string(\"HELO\")");
    check("specialratio('a!')", "float(0.5)");
    check("rmwhitespace(' a\\tb\\n')", "string(\"ab\")");
}

#[test]
fn keywords_and_regex() {
    check("'' contains ''", "bool(false)");
    check("'abc' in ['xabcx']", "bool(true)");
    check("'B' in 'abc'", "bool(false)");
    check("'a\\n' like 'a'", "bool(true)");
    check("'a[b' like 'a[b'", "bool(false)");
    check("'bbc' like '[a-c]bc'", "bool(false)");
    check("'-bc' like '[a-c]bc'", "bool(true)");
    check("'abc' matches 'a?c'", "bool(true)");
    check("'foo\\n' rlike 'foo$'", "bool(true)");
    check("'FOO' irlike 'f.o'", "bool(true)");
    check("'FOO' rlike 'f.o'", "bool(false)");
    check("'aXa' rlike '(a)X\\\\1'", "bool(true)");
    check("'ab' rlike '(?<=a)b'", "bool(true)");
    check("'ÉCOLE' irlike '^école$'", "bool(true)");
    check("'日本' rlike '^\\\\w+$'", "bool(true)");
    check("x := '('; 'a' rlike x", "error bad_regex at 14");
    check("'a' rlike '('", "error bad_regex at 4");
    check("'a' rlike '\\\\G'", "error bad_regex at 4");
    check(
        "get_matches('(a)|(b)', 'b')",
        "array[string(\"b\"), string(\"\"), string(\"b\")]",
    );
    check(
        "get_matches('(a)|(b)', 'a')",
        "array[string(\"a\"), string(\"a\"), bool(false)]",
    );
    check("get_matches('(a)', 'x')", "array[bool(false), bool(false)]");
    check(
        "str_replace_regexp('a1b22', '(\\\\d+)', '<$1>')",
        "string(\"a<1>b<22>\")",
    );
    check(
        "str_replace_regexp('abc', 'b', '\\\\\\\\')",
        "string(\"a\\\\c\")",
    );
}

#[test]
fn variables_and_assignment() {
    check("a := 1; a + 1", "int(2)");
    check("a := b := 'x'; a + b", "string(\"xx\")");
    check("set('Foo', 1); foo", "int(1)");
    check("set_var('x', 2) + x", "int(4)");
    check("a := [1]; a[] := 2; a[0] := 3; a", "array[int(3), int(2)]");
    check("a := [[1, 2]]; a[0][1]", "int(2)");
    check("a := [1]; b := a; b[0] := 9; a[0]", "int(1)");
    check("false & (x := 1); x", "undefined");
    check("false & (x := 1); x === null", "undefined");
    check("false & (x := 1); !x", "undefined");
    check("false & (x := 1); x | true", "bool(true)");
    check("false & (x := 1); lcase(x)", "undefined");
    check("false & (x := [1]); x[0] := 2; x", "undefined");
    check("false & (x := [1]); x := 2; x", "int(2)");
    check("if true then (x := 1) else (y := 2) end; y", "undefined");
    check("x; x := 1", "error unknown_variable at 0");
    check("x := x", "error unknown_variable at 5");
    check(
        "if 1 then (x := 1) else (x) end",
        "error unknown_variable at 25",
    );
    check("user_name", "undefined");
    check("article_text", "undefined");
    check("USER_NAME := 1", "error override_builtin at 10");
    check("lcase := 1", "error override_builtin at 6");
    check("set('if', 1)", "error override_builtin at 0");
    check("lcase = 1", "error reserved_identifier at 0");
    check("set(x, 1)", "error variable_variable at 0");
    check("a := 1; a[] := 2", "error not_an_array at 12");
    check("a := [1]; a[5] := 2", "error index_out_of_bounds at 15");
    check("a := [1]; a[-1] := 2", "error negative_index at 16");
}

#[test]
fn syntax_edges() {
    check("", "null");
    check(";;;", "null");
    check("1;", "int(1)");
    check("(1;2)", "int(2)");
    check("[1, 2, ]", "array[int(1), int(2)]");
    check("contains_any('abc', 'x', 'b', )", "bool(true)");
    check("count('a', 'b', )", "error unexpected_token at 16");
    check("()", "error unexpected_token at 0");
    check("(;)", "error unexpected_token at 2");
    check("IF TRUE THEN 'y' ELSE 'n' END", "string(\"y\")");
    check("LCASE('A')", "string(\"a\")");
    check("0xfoo := 1; 0XFOO", "int(1)");
    check("1e5 := 2; 1E5", "int(2)");
    check("0b102", "error unknown_variable at 0");
    check("/* a */ 1 /* b */", "int(1)");
    // As upstream, `*/` is searched from the `*` of `/*`, so `/*/` is a whole comment.
    check("1 /*/ 2", "error unexpected_at_end at 6");
    check("1 /*/", "int(1)");
}

#[test]
fn error_kinds_and_positions() {
    check("1 =? 1", "error unexpected_token at 3");
    check("'a' = 1 )", "error unexpected_at_end at 8");
    check("(1 = 1", "error expected_not_found at 6");
    check("if 1 then 2", "error expected_not_found at 11");
    check("\"abc", "error unclosed_string at 0");
    check("'abc\\", "error unclosed_string at 0");
    check("1 /* x", "error unclosed_comment at 2");
    check("1 @ 2", "error unrecognised_token at 2");
    check("5 = rlike", "error unrecognised_keyword at 4");
    check("foo(1)", "error unknown_function at 0");
    check("lcase()", "error too_few_arguments at 0");
    check("str_replace('a', 'b')", "error too_few_arguments at 0");
    check("lcase(1, 2)", "error too_many_arguments at 0");
    check("a = 5", "error unknown_variable at 0");
    check("1 / 0", "error division_by_zero at 2");
    check("1 % 0.5", "error division_by_zero at 2");
    check("a := [1]; a[1]", "error index_out_of_bounds at 11");
    check("[0][-1]", "error negative_index at 3");
    check("a := 1; a[0]", "error not_an_array at 9");
    check(
        "ip_in_range('1.1.1.1', 'lol')",
        "error invalid_ip_range at 0",
    );
    check("ip_in_range('1.1.1.1', '1.1.1.0/24')", "bool(true)");
    check("false & ip_in_range('1.1.1.1', 'lol')", "bool(false)");
}

/// Builds `1 == 1 & 1 == 1 & …` with `n` comparisons.
fn comparisons(n: usize) -> String {
    vec!["1 == 1"; n].join(" & ")
}

#[test]
fn condition_limit_at_max_and_above() {
    let at_max = comparisons(DEFAULT_CONDITION_LIMIT as usize);
    check(&at_max, "bool(true)");
    let above = comparisons(DEFAULT_CONDITION_LIMIT as usize + 1);
    let pos = above.len() - "1 == 1".len() + 2;
    check(&above, &format!("error condition_limit at {pos}"));
    // The counter accumulates across evaluations until the context is reset.
    let rule = Rule::compile(&comparisons(600)).unwrap();
    let mut ctx = EvalContext::new();
    assert!(rule.matches(&NoVariables, &mut ctx).unwrap());
    assert_eq!(ctx.conditions_used(), 600);
    let err = rule.evaluate(&NoVariables, &mut ctx).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConditionLimit);
    ctx.reset();
    assert!(rule.matches(&NoVariables, &mut ctx).unwrap());
}

#[test]
fn step_budget_and_deadline() {
    let rule = Rule::compile("a := 1; a + a + a").unwrap();
    // One step per node: the statements, the assignment and its value, the chain and its
    // three operands.
    let mut ctx = EvalContext::new().with_step_limit(7);
    assert_eq!(
        describe(&rule.evaluate(&NoVariables, &mut ctx).unwrap()),
        "int(3)"
    );
    let mut ctx = EvalContext::new().with_step_limit(6);
    let err = rule.evaluate(&NoVariables, &mut ctx).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TimeBudget);

    let calls = Arc::new(AtomicUsize::new(0));
    let expired = Arc::new(AtomicBool::new(false));
    let (seen, flag) = (calls.clone(), expired.clone());
    let mut ctx = EvalContext::new();
    ctx.set_deadline(move || {
        seen.fetch_add(1, Ordering::Relaxed);
        flag.load(Ordering::Relaxed)
    });
    let long = Rule::compile(&comparisons(900)).unwrap();
    assert!(long.matches(&NoVariables, &mut ctx).unwrap());
    assert!(calls.load(Ordering::Relaxed) >= 2);
    expired.store(true, Ordering::Relaxed);
    ctx.reset();
    let err = long.evaluate(&NoVariables, &mut ctx).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TimeBudget);
}

#[test]
fn rule_length_at_max_and_above() {
    let mut at_max = String::from("1");
    at_max.push_str(&" ".repeat(MAX_RULE_LENGTH - 1));
    check(&at_max, "int(1)");
    at_max.push(' ');
    check(
        &at_max,
        &format!("error rule_too_long at {MAX_RULE_LENGTH}"),
    );
}

#[test]
fn nesting_at_max_and_above() {
    let nest = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    check(&nest(MAX_NESTING_DEPTH - 1), "int(1)");
    check(
        &nest(MAX_NESTING_DEPTH),
        &format!("error nesting_too_deep at {MAX_NESTING_DEPTH}"),
    );
    // Dense nesting of every construct must fit the stack at the maximum depth.
    let level = |inner: &str| format!("-(!(lcase([{inner}][0]) in 'x') ** 2 + 1 == 1 ? 1 : 2)");
    let mut src = String::from("1");
    for _ in 0..(MAX_NESTING_DEPTH / 4) {
        src = level(&src);
    }
    let result = outcome(&src);
    assert!(
        result.starts_with("int") || result.starts_with("error nesting_too_deep"),
        "{result}"
    );
    // The deepest tree the checker accepts must evaluate without exhausting the stack of a
    // test thread (2 MiB) in an unoptimised build: nine tree levels per source level.
    let level = |inner: &str| format!("1 == 1 + 1 * 1 ** !-[{inner}][0] in 1");
    let nest_levels = |n: usize| (0..n).fold(String::from("1"), |acc, _| level(&acc));
    check(&nest_levels(MAX_AST_DEPTH / 9 - 1), "bool(false)");
    let too_deep = outcome(&nest_levels(MAX_AST_DEPTH / 9 + 2));
    assert!(too_deep.starts_with("error nesting_too_deep"), "{too_deep}");
    let chain = vec!["1"; 10_000].join(" + ");
    check(&chain, "int(10000)");
    let chain = format!("a := [0]; a{}", "[0]".repeat(5_000));
    check(&chain, "error not_an_array at 14");
}

#[test]
fn string_length_at_max_and_above() {
    // 23 doublings of one byte give exactly MAX_STRING_LENGTH bytes.
    let mut src = String::from("a := 'x';");
    for _ in 0..23 {
        src.push_str(" a := a + a;");
    }
    check(&format!("{src} length(a)"), "int(8388608)");
    let tail = " a := a + 'y'";
    let pos = src.len() + tail.find('+').unwrap_or(0);
    check(
        &format!("{src}{tail}"),
        &format!("error string_too_long at {pos}"),
    );
}

#[test]
fn array_length_at_max_and_above() {
    let mut vars: HashMap<String, Value> = HashMap::new();
    vars.insert(
        "big".into(),
        Value::array((0..MAX_ARRAY_LENGTH - 1).map(|i| Value::Int(i as i64))),
    );
    let mut ext = Extensions::empty();
    ext.declare_variable("big").unwrap();
    let mut ctx = EvalContext::new();
    assert_eq!(
        outcome_with("length(big + [1])", &ext, &vars, &mut ctx),
        format!("int({MAX_ARRAY_LENGTH})")
    );
    assert_eq!(
        outcome_with("big + [1, 2]", &ext, &vars, &mut ctx),
        "error array_too_long at 4"
    );
    assert_eq!(
        outcome_with("a := big; a[] := 1; a[] := 2", &ext, &vars, &mut ctx),
        "error array_too_long at 24"
    );
}

#[test]
fn array_depth_at_max_and_above() {
    // Each statement wraps the array once more; the literal `[1]` is depth 1.
    let wrap = |n: usize| format!("a := [1];{} length(a)", " a := [a];".repeat(n));
    check(&wrap(MAX_ARRAY_DEPTH - 1), "int(1)");
    let src = wrap(MAX_ARRAY_DEPTH);
    let pos = src.rfind('[').unwrap_or(0);
    check(&src, &format!("error array_too_deep at {pos}"));
    check(
        &format!(
            "a := [1];{} a[] := a",
            " a := [a];".repeat(MAX_ARRAY_DEPTH - 1)
        ),
        &format!(
            "error array_too_deep at {}",
            9 + 10 * (MAX_ARRAY_DEPTH - 1) + 5
        ),
    );
}

#[test]
fn host_extensions() {
    let mut ext = Extensions::empty();
    ext.declare_variable("user_name").unwrap();
    ext.declare_alias("username", "user_name").unwrap();
    ext.register_function("velocity", 2, Some(2), |args, vars| {
        let who = vars.get("user_name").unwrap_or_default();
        Ok(Value::Int(
            (args[0].to_str().len() + who.to_str().len()) as i64,
        ))
    })
    .unwrap();
    ext.register_function("fails", 0, None, |_, _| Err("storage down".into()))
        .unwrap();
    assert!(ext
        .register_function("lcase", 1, Some(1), |_, _| Ok(Value::Null))
        .is_err());
    assert!(ext
        .register_function("velocity", 1, Some(1), |_, _| Ok(Value::Null))
        .is_err());
    assert!(ext
        .register_function("bad name", 1, Some(1), |_, _| Ok(Value::Null))
        .is_err());
    assert!(ext
        .register_function("odd", 2, Some(1), |_, _| Ok(Value::Null))
        .is_err());

    let vars = |name: &str| (name == "user_name").then(|| Value::str("bob"));
    let run = |src: &str| outcome_with(src, &ext, &vars, &mut EvalContext::new());
    assert_eq!(run("velocity('ab', '10m')"), "int(5)");
    assert_eq!(run("VELOCITY('ab', '10m') + length(username)"), "int(8)");
    assert_eq!(run("velocity('ab')"), "error too_few_arguments at 0");
    assert_eq!(run("fails()"), "error extension at 0");
    assert_eq!(run("false & (x := 1); velocity(x, 1)"), "undefined");
    assert_eq!(run("added_lines"), "error unknown_variable at 0");
    assert_eq!(run("user_name := 1"), "error override_builtin at 10");
    assert_eq!(run("velocity := 1"), "error override_builtin at 9");

    let rule = Rule::compile_with("username + x", &ext);
    assert_eq!(rule.unwrap_err().kind, ErrorKind::UnknownVariable);
    ext.allow_unknown_variables(true);
    let rule = Rule::compile_with("username + other", &ext).unwrap();
    let mut names: Vec<&str> = rule.host_variables().collect();
    names.sort_unstable();
    assert_eq!(names, ["other", "user_name"]);
    let vars2: HashMap<String, Value> = [("other".to_string(), Value::str("!"))].into();
    assert_eq!(
        describe(&rule.evaluate(&vars2, &mut EvalContext::new()).unwrap()),
        "undefined"
    );
}

#[test]
fn host_variables_are_read_once_per_evaluation() {
    let reads = AtomicUsize::new(0);
    let vars = |name: &str| {
        reads.fetch_add(1, Ordering::Relaxed);
        (name == "user_editcount").then_some(Value::Int(5))
    };
    let rule =
        Rule::compile("user_editcount > 1 & user_editcount < 10 & user_editcount != 7").unwrap();
    let mut ctx = EvalContext::new();
    assert!(rule.matches(&vars, &mut ctx).unwrap());
    assert_eq!(reads.load(Ordering::Relaxed), 1);
    assert!(rule.matches(&vars, &mut ctx).unwrap());
    assert_eq!(reads.load(Ordering::Relaxed), 2);
}

#[test]
fn rules_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Rule>();
    assert_send_sync::<Extensions>();
    fn assert_send<T: Send>() {}
    assert_send::<EvalContext>();
}

#[test]
fn error_display_names_kind_and_position() {
    let err = Rule::compile("1 +").unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnexpectedToken);
    assert_eq!(err.position, 3);
    assert_eq!(
        err.to_string(),
        "unexpected_token at byte 3: unexpected end of input"
    );
    assert!(err.kind.is_compile_time());
}

/// A tiny deterministic PRNG (xorshift64*), so the fuzz loop needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Compiles and evaluates arbitrary input under small budgets; only a panic fails.
fn run_garbage(src: &str) {
    if let Ok(rule) = Rule::compile(src) {
        let mut ctx = EvalContext::new()
            .with_step_limit(100_000)
            .with_condition_limit(1000);
        let _ = rule.evaluate(&NoVariables, &mut ctx);
    }
}

#[test]
fn no_panic_on_random_bytes() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for _ in 0..3000 {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        run_garbage(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn no_panic_on_random_token_soup() {
    const PIECES: &[&str] = &[
        "1",
        "0",
        "-1",
        "2.5",
        "0x1f",
        "'a'",
        "\"b\\x41\"",
        "'é'",
        "[",
        "]",
        "(",
        ")",
        ",",
        ";",
        "+",
        "-",
        "*",
        "/",
        "%",
        "**",
        "&",
        "|",
        "^",
        "!",
        "==",
        "===",
        "!=",
        "<",
        ">=",
        ":=",
        "?",
        ":",
        "if",
        "then",
        "else",
        "end",
        "true",
        "null",
        "in",
        "contains",
        "like",
        "rlike",
        "irlike",
        "x",
        "y",
        "x[]",
        "x[0]",
        "user_name",
        "lcase(",
        "substr(",
        "get_matches(",
        "str_replace_regexp(",
        "ip_in_range(",
        "count(",
        "set('x',",
        "ccnorm(",
        "norm(",
        "'(a)'",
        "'[a-'",
        "'\\\\1'",
        "9223372036854775807",
        "/*",
        "*/",
        " ",
    ];
    let mut rng = Rng(0xC0FF_EE00_DEAD_BEEF);
    for _ in 0..4000 {
        let n = 1 + rng.below(16);
        let src: String = (0..n)
            .map(|_| PIECES[rng.below(PIECES.len())])
            .collect::<Vec<_>>()
            .join(" ");
        run_garbage(&src);
        let src = format!("x := [1, 'a']; {src}");
        run_garbage(&src);
    }
}

/// Upstream's `DUNDEFINED` cases: built-in variables the host did not provide. None may
/// match and none may fail.
#[test]
fn missing_variables_never_match() {
    let cases = [
        "5 / length( new_wikitext ) !== 3 ** edit_delta & \
         float( timestamp / (user_age + 0.000001) ) !== 0.0",
        "amount := float( timestamp / user_age); amount !== 0.0 & \
         64 / ( amount - 0.1 ) !== -640.0",
        "36 / ( length( user_rights ) + 0.00001 ) !== 0",
        "!('something' in added_lines)",
        "!(user_groups rlike 'foo')",
        "rcount('x', rescape(page_title) ) !== 0",
        "norm(user_name) !== rmspecials('')",
        "-user_editcount !== 1234567890",
        "added_lines",
        "removed_lines[0] !== 123456",
        "-new_size",
        "new_wikitext !== null",
        "true & user_editcount",
        "var:= 5; added_lines contains var",
        "false & (var := [ 1,2,3 ]); var === [ 1,2,3 ]",
        "page_age - user_editcount !== 1234567 - page_namespace",
        "added_lines contains 'foo' ? 'foo' : false",
        "false & (var := [ 1,2,3 ]); var[0] := true; var[0] === true",
        "false & (var := [ 1,2,3 ]); var[] := 'baz'; 'baz' in var",
        "false & (var := [ 1,2,3 ]); var := [4,5,6]; var !== [4,5,6]",
        "x := [5]; false & (1 == 1; y := 'b'; x[1] := 'x'; 3 < 4); y != 'b' & x[1] != 'x'",
        "false & (set('myvar', 1)); myvar contains 1",
        "false & ( var := 'foo'); var[0][123] !== 123456",
        "false & ( var := 'foo'; added_lines irlike var )",
        "if ( 1 === 1 ) then ( 0 ) else ( var := 1 ) end; var !== 'foo'",
    ];
    for src in cases {
        let rule = Rule::compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let matched = rule
            .matches(&NoVariables, &mut EvalContext::new())
            .unwrap_or_else(|e| panic!("{src}: {e}"));
        assert!(!matched, "{src} matched");
    }
}
