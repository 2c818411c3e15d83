//! Tidy checks: the invariants of `ARCHITECTURE.md` as plain scans of the
//! workspace's sources (as rust-analyzer's `tidy.rs` does). Each check is a
//! function over file texts, and each is shown to fail on a sample, so a
//! check that stopped looking would be noticed.
//!
//! What counts as production code: every `.rs` file under `crates/*/src`,
//! except files named `tests.rs` or `*_tests.rs`, files under a `tests`
//! directory, and the item that follows a `#[cfg(test)]` attribute. Comments
//! (`//` to the end of the line) are not code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file: its path relative to the workspace and its text.
struct Source {
    path: String,
    text: String,
}

impl Source {
    fn new(path: &str, text: &str) -> Self {
        Self {
            path: path.to_string(),
            text: text.to_string(),
        }
    }

    fn crate_name(&self) -> &str {
        self.path.split('/').nth(1).unwrap_or_default()
    }

    fn is_test_file(&self) -> bool {
        let name = self.path.rsplit('/').next().unwrap_or_default();
        name == "tests.rs" || name.ends_with("_tests.rs") || self.path.contains("/tests/")
    }

    /// `(line number, whole line, code before any comment)` of the
    /// production lines.
    fn code_lines(&self) -> Vec<(usize, &str, &str)> {
        if self.is_test_file() {
            return Vec::new();
        }
        let lines: Vec<&str> = self.text.lines().collect();
        let mut kept = Vec::new();
        let mut index = 0;
        while index < lines.len() {
            let line = lines[index];
            if line.trim_start().starts_with("#[cfg(test)]") {
                index = skip_item(&lines, index + 1);
                continue;
            }
            kept.push((index + 1, line, strip_comment(line)));
            index += 1;
        }
        kept
    }
}

/// The index after the item starting at `start` (a `mod x;`, or a braced item).
fn skip_item(lines: &[&str], start: usize) -> usize {
    let mut depth = 0i64;
    let mut opened = false;
    for (index, line) in lines.iter().enumerate().skip(start) {
        let code = strip_comment(line);
        for c in code.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        if (opened && depth <= 0) || (!opened && code.trim_end().ends_with(';')) {
            return index + 1;
        }
    }
    lines.len()
}

/// The code of a line, without a `//` comment (a `//` inside a string
/// literal such as a URL is kept).
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match c {
            '"' if previous != '\\' => in_string = !in_string,
            '/' if !in_string && previous == '/' => return &line[..at - 1],
            _ => {}
        }
        previous = c;
    }
    line
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every source file under `crates/*/src`.
fn sources() -> Vec<Source> {
    let root = workspace();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    crates.sort();
    let mut files = Vec::new();
    for krate in crates {
        rust_files(&krate.join("src"), &mut files);
    }
    files.sort();
    let sources: Vec<Source> = files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let relative = path.strip_prefix(&root).unwrap().to_string_lossy();
            Source::new(&relative.replace('\\', "/"), &text)
        })
        .collect();
    assert!(sources.len() > 100, "the workspace's sources are found");
    sources
}

fn report(problems: &[String]) {
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// The store holds no policy.

/// Functions of the domain that make policy: the enforcement matrix,
/// template choice, approval and strike rules, severities, routing. The store calls
/// only the planners (`plan_*`), which use them, and writes their plans.
const POLICY_IN_THE_DOMAIN: &[&str] = &[
    "assess(",
    "choose_template(",
    "needs_approval(",
    "strike_rule(",
    "decision_severity(",
    "recommended_account_action(",
    "check_template(",
    "enforcement::policy::",
    "enforcement::assess::",
    "enforcement::approval::",
    "case_severity(",
    ".route(&",
];

fn store_policy_problems(sources: &[Source]) -> Vec<String> {
    let mut problems = Vec::new();
    for source in sources.iter().filter(|s| s.crate_name() == "warden-store") {
        for (number, line, code) in source.code_lines() {
            if let Some(name) = POLICY_IN_THE_DOMAIN.iter().find(|n| code.contains(*n)) {
                problems.push(format!(
                    "{}:{number}: the store calls policy ({name}); call a planner: {}",
                    source.path,
                    line.trim()
                ));
            }
        }
    }
    problems
}

#[test]
fn the_store_holds_no_policy() {
    report(&store_policy_problems(&sources()));
}

#[test]
fn the_store_check_finds_policy() {
    let sample = [Source::new(
        "crates/warden-store/src/sql/decisions.rs",
        "fn f() {\n    let t = choose_template(&a); // picks\n}\n#[cfg(test)]\nmod tests {\n    fn g() { assess(x) }\n}\n",
    )];
    let problems = store_policy_problems(&sample);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("decisions.rs:2"));
}

// ---------------------------------------------------------------------------
// The domain is pure.

/// What a pure crate never names: files, sockets, databases, runtimes and
/// clocks (`now` is an argument).
const IO_AND_CLOCKS: &[&str] = &[
    "std::fs",
    "std::net::Tcp",
    "std::net::Udp",
    "std::process",
    "tokio",
    "sqlx",
    "reqwest",
    "Utc::now",
    "Local::now",
    "SystemTime::now",
    "Instant::now",
];

fn purity_problems(sources: &[Source], pure_crates: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for source in sources
        .iter()
        .filter(|s| pure_crates.contains(&s.crate_name()))
    {
        for (number, line, code) in source.code_lines() {
            if let Some(name) = IO_AND_CLOCKS.iter().find(|n| code.contains(*n)) {
                problems.push(format!(
                    "{}:{number}: a pure crate uses {name}: {}",
                    source.path,
                    line.trim()
                ));
            }
        }
    }
    problems
}

/// The domain does no I/O and reads no clock: `now` is an argument.
#[test]
fn the_domain_does_no_io_and_reads_no_clock() {
    report(&purity_problems(&sources(), &["warden-domain"]));
}

#[test]
fn the_purity_check_finds_a_clock_read() {
    let sample = [
        Source::new(
            "crates/warden-domain/src/sla.rs",
            "fn due() -> Timestamp {\n    Utc::now()\n}\n",
        ),
        Source::new(
            "crates/warden-store/src/sql/cases.rs",
            "let now = Utc::now();\n",
        ),
    ];
    let problems = purity_problems(&sample, &["warden-domain"]);
    assert_eq!(problems.len(), 1, "{problems:?}");
}

// ---------------------------------------------------------------------------
// The console and the handlers.

fn console_problems(sources: &[Source]) -> Vec<String> {
    let forbidden = ["crate::wire", "crate::handlers", "crate::api"];
    let mut problems = Vec::new();
    for source in sources
        .iter()
        .filter(|s| s.path.starts_with("crates/warden-server/src/console/"))
    {
        for (number, line, code) in source.code_lines() {
            if forbidden.iter().any(|f| code.contains(f)) {
                problems.push(format!(
                    "{}:{number}: the console uses the JSON API's types: {}",
                    source.path,
                    line.trim()
                ));
            }
        }
    }
    problems
}

/// The console builds the application's commands from its forms and shows
/// its records: it never reaches for the JSON API's wire types or handlers.
#[test]
fn the_console_imports_neither_wire_types_nor_handlers() {
    let sources = sources();
    assert!(
        sources
            .iter()
            .filter(|s| s.path.starts_with("crates/warden-server/src/console/"))
            .count()
            > 5,
        "the console's sources are where they were"
    );
    report(&console_problems(&sources));
}

#[test]
fn the_console_check_finds_wire_types() {
    let sample = [
        Source::new(
            "crates/warden-server/src/console/case/form.rs",
            "use crate::wire::DecisionBody; // wrong\n",
        ),
        Source::new(
            "crates/warden-server/src/handlers/cases.rs",
            "use crate::wire::X;\n",
        ),
    ];
    assert_eq!(console_problems(&sample).len(), 1);
}

fn store_access_problems(sources: &[Source]) -> Vec<String> {
    let mut problems = Vec::new();
    for source in sources.iter().filter(|s| {
        s.path.starts_with("crates/warden-server/src/console/")
            || s.path.starts_with("crates/warden-server/src/handlers/")
    }) {
        for (number, line, code) in source.code_lines() {
            if code.contains(".store.") || code.trim() == ".store" {
                problems.push(format!(
                    "{}:{number}: reach the store through the application: {}",
                    source.path,
                    line.trim()
                ));
            }
        }
    }
    problems
}

/// Handlers and the console reach the store only through the application.
#[test]
fn only_the_application_touches_the_store() {
    report(&store_access_problems(&sources()));
}

#[test]
fn the_store_access_check_finds_a_handler_using_the_store() {
    let sample = [Source::new(
        "crates/warden-server/src/handlers/cases.rs",
        "async fn h(state: AppState) {\n    state.app\n        .store\n        .case(1);\n}\n",
    )];
    assert_eq!(store_access_problems(&sample).len(), 1);
}

// ---------------------------------------------------------------------------
// Limits.

/// Whether `code` defines a bound: a constant named `*_MAX` or `*_MIN`.
fn defines_a_bound(code: &str) -> bool {
    let Some(at) = code.find("const ") else {
        return false;
    };
    let name: String = code[at + 6..]
        .chars()
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
        .collect();
    name.ends_with("_MAX") || name.ends_with("_MIN")
}

fn limit_problems(sources: &[Source]) -> Vec<String> {
    let mut problems = Vec::new();
    for source in sources {
        if source.path.ends_with("/limits.rs") || source.path.contains("/limits/") {
            continue;
        }
        for (number, line, code) in source.code_lines() {
            if defines_a_bound(code) {
                problems.push(format!(
                    "{}:{number}: a limit outside limits.rs: {}",
                    source.path,
                    line.trim()
                ));
            }
        }
    }
    problems
}

/// Every bound on input, lists and loops is in a `limits.rs`, where it can
/// be read and reviewed in one place.
#[test]
fn every_limit_constant_lives_in_a_limits_file() {
    report(&limit_problems(&sources()));
}

#[test]
fn the_limits_check_finds_a_stray_limit() {
    let sample = [
        Source::new(
            "crates/warden-store/src/sql/cases.rs",
            "const NOTES_MAX: usize = 100;\nconst NAME: &str = \"x\";\n",
        ),
        Source::new(
            "crates/warden-store/src/limits.rs",
            "pub const NOTES_MAX: usize = 100;\n",
        ),
        Source::new(
            "crates/warden-store/src/sql/tests.rs",
            "const NOTES_MAX: usize = 100;\n",
        ),
    ];
    let problems = limit_problems(&sample);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("cases.rs:1"));
}

// ---------------------------------------------------------------------------
// unwrap and expect.

/// What a comment says for an `unwrap` or `expect` that cannot fail.
const WHY_MARKER: &str = "cannot fail";

fn unwrap_problems(sources: &[Source]) -> Vec<String> {
    let mut problems = Vec::new();
    for source in sources {
        let mut previous = "";
        for (number, line, code) in source.code_lines() {
            let unwraps = code.contains(".unwrap()") || code.contains(".expect(");
            if unwraps && !line.contains(WHY_MARKER) && !previous.contains(WHY_MARKER) {
                problems.push(format!(
                    "{}:{number}: say why it cannot fail (`// {WHY_MARKER}: ...`): {}",
                    source.path,
                    line.trim()
                ));
            }
            previous = line;
        }
    }
    problems
}

/// No `unwrap` or `expect` in production code without a comment, on its
/// line or the line above, saying why it cannot fail.
#[test]
fn unwrap_and_expect_say_why_they_cannot_fail() {
    report(&unwrap_problems(&sources()));
}

#[test]
fn the_unwrap_check_finds_an_unexplained_unwrap() {
    let sample = [Source::new(
        "crates/warden-domain/src/case.rs",
        "let a = x.unwrap();\n// cannot fail: checked above\nlet b = y.expect(\"checked\");\nlet c = z.expect(\"id\"); // cannot fail: a literal\nlet d = w.unwrap_or(1);\n#[cfg(test)]\nmod tests {\n    fn t() { x.unwrap(); }\n}\n",
    )];
    let problems = unwrap_problems(&sample);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("case.rs:1"));
}

// ---------------------------------------------------------------------------
// Import circles between files.

/// The module path of a file within its crate (`sql/cases.rs` -> `sql::cases`).
fn module_of(path: &str) -> Option<String> {
    let (_, inner) = path.split_once("/src/")?;
    let inner = inner.strip_suffix(".rs")?;
    let inner = inner.strip_suffix("/mod").unwrap_or(inner);
    let inner = if inner == "lib" || inner == "main" {
        ""
    } else {
        inner
    };
    Some(inner.replace('/', "::"))
}

/// The files of each crate and the files each one imports with `use crate::`.
fn import_graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let modules: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| Some(format!("{}/{}", s.crate_name(), module_of(&s.path)?)))
        .collect();
    for source in sources {
        let Some(module) = module_of(&source.path) else {
            continue;
        };
        let from = format!("{}/{module}", source.crate_name());
        let targets = graph.entry(from.clone()).or_default();
        for (_, _, code) in source.code_lines() {
            let Some(at) = code.find("crate::") else {
                continue;
            };
            let path: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            // The longest prefix of the path that is a file of the crate.
            let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            for take in (1..=segments.len()).rev() {
                let target = format!("{}/{}", source.crate_name(), segments[..take].join("::"));
                if modules.contains(&target) {
                    if target != from && !from.starts_with(&format!("{target}::")) {
                        targets.insert(target);
                    }
                    break;
                }
            }
        }
    }
    graph
}

/// The files reachable from `start` by imports.
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start.to_string()];
    while let Some(node) = todo.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

/// The import circles of `graph`: each set of two or more files that all
/// reach each other (a strongly connected component), as `a, b, c`.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let reach: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|n| (n, reachable(graph, n))).collect();
    let mut found = BTreeSet::new();
    for (node, from_node) in &reach {
        let component: Vec<&str> = reach
            .iter()
            .filter(|(other, from_other)| {
                from_node.contains(other.as_str()) && from_other.contains(node.as_str())
            })
            .map(|(other, _)| other.as_str())
            .collect();
        if component.len() > 1 {
            found.insert(component.join(", "));
        }
    }
    found
}

/// Circles that were there when this check came, to be cut: the rule
/// language's compiler, evaluator, function library, parser and variables
/// share types both ways; the route table, the OpenAPI document built from
/// it and the handler that serves the document; the stream's cluster
/// status and partition leases. The check fails when a new circle appears
/// and when one of these is gone (take it off the list).
const KNOWN_CIRCLES: &[&str] = &[
    "warden-rules/compile, warden-rules/eval, warden-rules/functions, warden-rules/parser, warden-rules/vars",
    "warden-server/handlers::ops, warden-server/openapi, warden-server/routes",
    "warden-stream/cluster, warden-stream/leases",
];

/// Files import each other in one direction only: a circle between files
/// (`a` uses `b`, `b` uses `a`) is a module boundary in the wrong place. A
/// module's own children using it (`crate::` a parent) do not count.
#[test]
fn no_import_circles_between_files() {
    let found = circles(&import_graph(&sources()));
    let known: BTreeSet<String> = KNOWN_CIRCLES.iter().map(ToString::to_string).collect();
    let mut problems: Vec<String> = found
        .difference(&known)
        .map(|c| format!("an import circle: {c}"))
        .collect();
    problems.extend(
        known
            .difference(&found)
            .map(|c| format!("no longer a circle, take it off KNOWN_CIRCLES: {c}")),
    );
    report(&problems);
}

#[test]
fn the_circle_check_finds_a_circle() {
    let sample = [
        Source::new("crates/warden-app/src/a.rs", "use crate::b::B;\n"),
        Source::new("crates/warden-app/src/b.rs", "use crate::c::C;\n"),
        Source::new("crates/warden-app/src/c.rs", "use crate::a::A;\n"),
        Source::new("crates/warden-app/src/d/mod.rs", "use crate::a::A;\n"),
        Source::new("crates/warden-app/src/d/e.rs", "use crate::d::D;\n"),
    ];
    let found = circles(&import_graph(&sample));
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["warden-app/a, warden-app/b, warden-app/c"]
    );
}
