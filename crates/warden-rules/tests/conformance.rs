//! Runs AbuseFilter's own parser tests against this implementation.
//!
//! The test files are GPL-licensed data from Wikimedia's AbuseFilter extension. They are not
//! part of this project: they are read at test time from `shared/conformance/abusefilter`
//! beside the workspace. Each file holds one rule whose trimmed text must evaluate to true
//! with no variables set, as upstream's `ParserTest` does.

use std::fs;
use std::path::{Path, PathBuf};

use warden_rules::{EvalContext, NoVariables, Rule};

/// The number of `parserTestsEquivset` files known to pass; the test fails if fewer do.
const EQUIVSET_MIN_PASSING: usize = 5;

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/abusefilter")
}

/// Evaluates every `.t` file in `sub`; returns the number of files and the failures.
fn run_dir(sub: &str) -> (usize, Vec<String>) {
    let dir = conformance_dir().join(sub);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "conformance data missing: cannot read {} ({e}). The AbuseFilter parser tests must \
             be present in shared/conformance/abusefilter beside the workspace.",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "t"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let source = match fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: unreadable: {e}"));
                continue;
            }
        };
        let outcome = Rule::compile(source.trim()).and_then(|rule| {
            let mut ctx = EvalContext::new();
            rule.evaluate(&NoVariables, &mut ctx)
        });
        match outcome {
            Ok(v) if v.to_bool() => {}
            Ok(v) => failures.push(format!("{name}: evaluated to {v:?}")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    (files.len(), failures)
}

fn report(sub: &str, total: usize, failures: &[String]) {
    println!("{sub}: {}/{total} pass", total - failures.len());
    for f in failures {
        println!("  FAIL {f}");
    }
}

#[test]
fn parser_tests_all_pass() {
    let (total, failures) = run_dir("parserTests");
    report("parserTests", total, &failures);
    assert!(
        total >= 71,
        "expected at least 71 parser tests, found {total}"
    );
    assert!(
        failures.is_empty(),
        "{} parser tests failed",
        failures.len()
    );
}

#[test]
fn parser_tests_equivset() {
    let (total, failures) = run_dir("parserTestsEquivset");
    report("parserTestsEquivset", total, &failures);
    let passing = total - failures.len();
    assert!(
        passing >= EQUIVSET_MIN_PASSING,
        "only {passing}/{total} equivset tests pass; at least {EQUIVSET_MIN_PASSING} did before"
    );
}
