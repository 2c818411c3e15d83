//! `warden rules ...`: evaluate an expression, check and test rule files,
//! backtest rules against stored events and analysts' decisions.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use warden_detection::{parse_files, Detector, EventFacts, EventVariables, VelocityCounters};
use warden_domain::SubjectRef;
use warden_rules::limits::MAX_RULE_LENGTH;
use warden_rules::{EvalContext, NoVariables, Rule, Value};
use warden_store::prelude::*;
use warden_workers::detection::{facts_of, read_rule_file, read_rule_files, InstantStopwatch};

use super::open_store;
use crate::cli::RulesCommand;
use crate::config::Config;
use crate::progress;

use crate::limits::TEST_CASES_MAX;

use crate::limits::BACKTEST_DAYS_MAX;

/// Runs a rules command.
pub async fn run(config: &Config, command: RulesCommand) -> Result<ExitCode> {
    match command {
        RulesCommand::Eval { expression } => eval(expression),
        RulesCommand::Check { paths } => check(config, &paths),
        RulesCommand::Test { path, cases } => test(config, &path, &cases),
        RulesCommand::Backtest {
            since,
            rule,
            rules,
            json,
            store,
        } => {
            let dir = match rules {
                Some(path) => path,
                None => {
                    let data_dir = store
                        .data_dir
                        .clone()
                        .unwrap_or_else(|| config.storage.data_dir.clone());
                    config
                        .detection_settings(&data_dir)
                        .and_then(|s| s.rules_dir)
                        .context("detection is disabled in the configuration; name the rules with --rules")?
                }
            };
            let store = open_store(config, &store).await?;
            backtest(config, store.as_ref(), &dir, &since, rule.as_deref(), json).await
        }
    }
}

fn eval(expression: String) -> Result<ExitCode> {
    let source = if expression == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_RULE_LENGTH as u64 + 1)
            .read_to_string(&mut text)
            .context("cannot read the rule from standard input")?;
        text
    } else {
        expression
    };
    let result = Rule::compile(source.trim())
        .and_then(|rule| rule.evaluate(&NoVariables, &mut EvalContext::new()));
    match result {
        Ok(value) => {
            println!("{}", literal(&value));
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(2))
        }
    }
}

/// Rule files read from files and directories, and the ones that could not be read.
struct ReadFiles {
    files: Vec<(String, String)>,
    /// Each names the file (or directory) and says why it could not be read.
    problems: Vec<String>,
}

/// Reads rule files from files and directories. A file or directory that cannot be read
/// is named in the problems and the others are still read.
fn read_paths(paths: &[PathBuf]) -> ReadFiles {
    let mut read = ReadFiles {
        files: Vec::new(),
        problems: Vec::new(),
    };
    for path in paths {
        if path.is_dir() {
            match read_rule_files(path) {
                Ok(found) => {
                    read.files.extend(found.files);
                    read.problems.extend(found.problems);
                }
                Err(error) => read.problems.push(format!(
                    "{}: cannot read the directory: {error}",
                    path.display()
                )),
            }
        } else {
            match read_rule_file(path) {
                Ok(text) => read.files.push((path.display().to_string(), text)),
                Err(problem) => read.problems.push(problem),
            }
        }
    }
    read
}

/// Parses and compiles files, returning the detector and every problem. The detector
/// runs rules under the configured time limits.
fn compile(config: &Config, files: &[(String, String)]) -> Result<(Detector, Vec<String>)> {
    let policy = config.case_policy()?;
    let parsed = parse_files(files, &policy.taxonomy);
    let built = Detector::build(
        parsed,
        &mut |_| 0,
        Arc::new(Mutex::new(VelocityCounters::default())),
        None,
    );
    Ok((
        built
            .detector
            .with_limits(config.detection.run_limits())
            .with_stopwatch(Arc::new(InstantStopwatch::default())),
        built.errors.iter().map(ToString::to_string).collect(),
    ))
}

fn check(config: &Config, paths: &[PathBuf]) -> Result<ExitCode> {
    let read = read_paths(paths);
    let (detector, compile_errors) = compile(config, &read.files)?;
    let errors: Vec<&String> = read.problems.iter().chain(&compile_errors).collect();
    let mut out = std::io::stdout().lock();
    for error in &errors {
        writeln!(out, "error: {error}")?;
    }
    writeln!(
        out,
        "{} rules compiled, {} lists, {} problems in {} files",
        detector.rules().len(),
        detector.lists().names().count(),
        errors.len(),
        read.files.len() + read.problems.len()
    )?;
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One sample event of a `rules test` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestCase {
    #[serde(default)]
    name: String,
    event: TestEvent,
    expect: Vec<String>,
}

/// A sample event, with the context detection would gather.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TestEvent {
    id: Option<String>,
    #[serde(rename = "type")]
    event_type: String,
    occurred_at: Option<DateTime<Utc>>,
    text: Option<String>,
    actor_id: Option<String>,
    actor_age_days: Option<f64>,
    actor_attributes: Option<Json>,
    actor_prior_strikes: i64,
    actor_labels: Vec<String>,
    ip: Option<String>,
    device_id: Option<String>,
    subject_kind: Option<String>,
    subject_id: Option<String>,
    subject_labels: Vec<String>,
    subject_report_count: i64,
    /// The subject's attributes, which rules read as `subject.props.*`.
    subject_attributes: Option<Json>,
    data: Option<Json>,
}

fn test(config: &Config, path: &Path, cases: &Path) -> Result<ExitCode> {
    let read = read_paths(&[path.to_path_buf()]);
    let (detector, mut errors) = compile(config, &read.files)?;
    errors.extend(read.problems);
    if !errors.is_empty() {
        for error in &errors {
            eprintln!("error: {error}");
        }
        bail!("the rules do not compile; fix them first (see `warden rules check`)");
    }
    let reader = std::io::BufReader::new(
        std::fs::File::open(cases).with_context(|| format!("cannot open {}", cases.display()))?,
    );
    let now = Utc::now();
    let mut ctx = EvalContext::new();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut out = std::io::stdout().lock();
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read line {}", index + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        if index >= TEST_CASES_MAX {
            bail!("at most {TEST_CASES_MAX} cases per file");
        }
        let case: TestCase = serde_json::from_str(&line)
            .with_context(|| format!("line {}: not a test case", index + 1))?;
        let (facts, occurred_at) = case_facts(case.event, index, now);
        let evaluation = detector.evaluate_variables(
            &EventVariables::new(Arc::new(facts), occurred_at),
            &mut ctx,
            None,
        );
        let hit: BTreeSet<String> = evaluation.hits.iter().map(|h| h.rule_id.clone()).collect();
        let expected: BTreeSet<String> = case.expect.into_iter().collect();
        let name = if case.name.is_empty() {
            format!("line {}", index + 1)
        } else {
            case.name
        };
        if hit == expected && evaluation.errors.is_empty() {
            passed += 1;
            writeln!(out, "ok    {name}")?;
        } else {
            failed += 1;
            let missing: Vec<&String> = expected.difference(&hit).collect();
            let unexpected: Vec<&String> = hit.difference(&expected).collect();
            writeln!(
                out,
                "FAIL  {name}: missing {missing:?}, unexpected {unexpected:?}"
            )?;
            for failure in &evaluation.errors {
                writeln!(
                    out,
                    "      {}: {}: {}",
                    failure.rule_id,
                    failure.kind.as_str(),
                    failure.error
                )?;
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The facts of the sample event on line `index` (from 0), and when it
/// occurred (`now` unless it says).
fn case_facts(event: TestEvent, index: usize, now: DateTime<Utc>) -> (EventFacts, DateTime<Utc>) {
    let occurred_at = event.occurred_at.unwrap_or(now);
    let mut data = event.data.unwrap_or_else(|| json!({}));
    if let (Some(text), Some(map)) = (&event.text, data.as_object_mut()) {
        map.insert("text".into(), json!(text));
    }
    let facts = EventFacts {
        event_id: event.id.unwrap_or_else(|| format!("case_{}", index + 1)),
        event_type: event.event_type,
        occurred_at: Some(occurred_at),
        actor_id: event.actor_id,
        actor_created_at: event
            .actor_age_days
            .map(|days| occurred_at - Duration::seconds((days * 86_400.0) as i64)),
        actor_attributes: event.actor_attributes,
        actor_prior_strikes: event.actor_prior_strikes,
        actor_labels: event.actor_labels,
        ip: event.ip,
        device_id: event.device_id,
        subject_kind: event.subject_kind,
        subject_id: event.subject_id,
        subject_text: None,
        subject_attributes: event.subject_attributes,
        subject_labels: event.subject_labels,
        subject_report_count: event.subject_report_count,
        data,
    };
    (facts, occurred_at)
}

/// Hits of one rule shown with their feature values in a backtest, at most.
const BACKTEST_SAMPLE_HITS: usize = 5;

/// Per-rule results of a backtest.
#[derive(Debug, Default)]
struct RuleScore {
    hits: usize,
    /// The first hits: event id and the values of the features the rule read.
    sample: Vec<(String, Json)>,
    /// Failures by kind (budget, deadline, ...): events on which the rule gave no answer.
    errors: BTreeMap<&'static str, usize>,
    subjects: BTreeSet<SubjectRef>,
    true_positives: usize,
    false_positives: usize,
}

async fn backtest(
    config: &Config,
    store: &dyn Store,
    dir: &Path,
    since: &str,
    only: Option<&str>,
    as_json: bool,
) -> Result<ExitCode> {
    let window = backtest_window(since)?;
    let detector = backtest_detector(config, dir, only)?;
    let now = Utc::now();
    let from = now - Duration::seconds(window);
    let verdicts: BTreeMap<SubjectRef, (bool, String)> = store
        .subject_verdicts(from - Duration::days(30))
        .await?
        .into_iter()
        .map(|v| (v.subject, (v.violation, v.category)))
        .collect();
    let mut scores: BTreeMap<String, RuleScore> = detector
        .rules()
        .iter()
        .filter(|r| only.is_none_or(|id| id == r.definition.id))
        .map(|r| (r.definition.id.clone(), RuleScore::default()))
        .collect();
    let mut seen_subjects: BTreeSet<SubjectRef> = BTreeSet::new();
    let mut ctx = EvalContext::new();
    let mut after = warden_store::EventPosition::default();
    let mut events = 0usize;
    let bar = progress::bar(0, "events");
    loop {
        let batch = store
            .detection_events(after, Some(from), 1_000, now)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.position();
        for item in &batch {
            events += 1;
            let about = item
                .event
                .subject
                .clone()
                .or_else(|| item.event.actor.clone());
            if let Some(subject) = &about {
                seen_subjects.insert(subject.clone());
            }
            let evaluation = detector.evaluate_variables(
                &EventVariables::new(Arc::new(facts_of(item)), item.event.occurred_at),
                &mut ctx,
                only,
            );
            score_evaluation(&mut scores, evaluation, &item.event.id, about.as_ref());
        }
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    let mut rows = Vec::new();
    for compiled in detector.rules() {
        let Some(score) = scores.get_mut(&compiled.definition.id) else {
            continue;
        };
        rows.push(rule_row(compiled, score, &verdicts, &seen_subjects));
    }
    let mut out = std::io::stdout().lock();
    if as_json {
        writeln!(
            out,
            "{}",
            json!({"since": from.to_rfc3339(), "events": events, "rules": rows})
        )?;
    } else {
        write_backtest_table(&mut out, &rows, events, from)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The rules in `dir`, compiled (problems are warnings); `only`, if
/// given, must be one of them.
fn backtest_detector(config: &Config, dir: &Path, only: Option<&str>) -> Result<Detector> {
    let read = read_paths(&[dir.to_path_buf()]);
    let (detector, errors) = compile(config, &read.files)?;
    for error in read.problems.iter().chain(&errors) {
        eprintln!("warning: {error}");
    }
    if let Some(rule) = only {
        if !detector.rules().iter().any(|r| r.definition.id == rule) {
            bail!("no rule {rule:?} in {}", dir.display());
        }
    }
    Ok(detector)
}

/// The `--since` window in seconds: like `30m`, `12h` or up to
/// [`BACKTEST_DAYS_MAX`] days.
fn backtest_window(since: &str) -> Result<i64> {
    warden_detection::velocity::parse_window(since)
        .or_else(|_| {
            since
                .strip_suffix('d')
                .and_then(|d| d.parse::<i64>().ok())
                .filter(|d| (1..=BACKTEST_DAYS_MAX).contains(d))
                .map(|d| d * 86_400)
                .ok_or(())
        })
        .map_err(|_| {
            anyhow::anyhow!(
                "--since {since:?} must be like 30m, 12h or 7d (at most {BACKTEST_DAYS_MAX}d)"
            )
        })
}

/// Adds one event's evaluation to the rules' scores.
fn score_evaluation(
    scores: &mut BTreeMap<String, RuleScore>,
    evaluation: warden_detection::Evaluation,
    event_id: &str,
    about: Option<&SubjectRef>,
) {
    for failure in &evaluation.errors {
        if let Some(score) = scores.get_mut(&failure.rule_id) {
            *score.errors.entry(failure.kind.as_str()).or_default() += 1;
        }
    }
    for hit in evaluation.hits {
        let Some(score) = scores.get_mut(&hit.rule_id) else {
            continue;
        };
        score.hits += 1;
        if score.sample.len() < BACKTEST_SAMPLE_HITS {
            score
                .sample
                .push((event_id.to_string(), hit.features.clone()));
        }
        if let Some(subject) = about {
            score.subjects.insert(subject.clone());
        }
    }
}

/// One rule's backtest row: hits, precision against decided subjects, and
/// recall within its category.
fn rule_row(
    compiled: &warden_detection::CompiledRule,
    score: &mut RuleScore,
    verdicts: &BTreeMap<SubjectRef, (bool, String)>,
    seen_subjects: &BTreeSet<SubjectRef>,
) -> Json {
    for subject in &score.subjects {
        match verdicts.get(subject) {
            Some((true, _)) => score.true_positives += 1,
            Some((false, _)) => score.false_positives += 1,
            None => {}
        }
    }
    let category = &compiled.definition.category;
    let violations_in_category = verdicts
        .iter()
        .filter(|(subject, (violation, c))| {
            *violation && c == category && seen_subjects.contains(*subject)
        })
        .count();
    let caught_in_category = score
        .subjects
        .iter()
        .filter(|s| verdicts.get(*s).is_some_and(|(v, c)| *v && c == category))
        .count();
    let decided = score.true_positives + score.false_positives;
    let precision = (decided > 0).then(|| score.true_positives as f64 / decided as f64);
    let recall = (violations_in_category > 0)
        .then(|| caught_in_category as f64 / violations_in_category as f64);
    json!({
        "rule": compiled.definition.id,
        "mode": compiled.definition.mode.as_str(),
        "category": category,
        "hits": score.hits,
        "subjects": score.subjects.len(),
        "decided": decided,
        "true_positives": score.true_positives,
        "false_positives": score.false_positives,
        "precision": precision,
        "recall": recall,
        "errors": score.errors,
        "running": compiled.is_running(),
        "features": compiled.features(),
        "sample_hits": score.sample.iter().map(|(event, features)| json!({"event_id": event, "features": features})).collect::<Vec<_>>(),
    })
}

/// The backtest as a table.
fn write_backtest_table(
    out: &mut impl Write,
    rows: &[Json],
    events: usize,
    from: DateTime<Utc>,
) -> Result<()> {
    writeln!(
        out,
        "Backtest over {events} events since {} ({} rules)",
        from.format("%Y-%m-%d %H:%M UTC"),
        rows.len()
    )?;
    writeln!(
        out,
        "{:<32} {:<8} {:>7} {:>8} {:>7} {:>9} {:>7} {:>7}",
        "rule", "mode", "hits", "subjects", "decided", "precision", "recall", "errors"
    )?;
    let percent = |v: &Json| {
        v.as_f64()
            .map_or("-".to_string(), |v| format!("{:.0}%", v * 100.0))
    };
    for row in rows {
        let errors: u64 = row["errors"]
            .as_object()
            .map_or(0, |kinds| kinds.values().filter_map(Json::as_u64).sum());
        writeln!(
            out,
            "{:<32} {:<8} {:>7} {:>8} {:>7} {:>9} {:>7} {:>7}",
            row["rule"].as_str().unwrap_or_default(),
            row["mode"].as_str().unwrap_or_default(),
            row["hits"],
            row["subjects"],
            row["decided"],
            percent(&row["precision"]),
            percent(&row["recall"]),
            errors,
        )?;
        if let Some(first) = row["sample_hits"].get(0) {
            if first["features"].as_object().is_some_and(|f| !f.is_empty()) {
                writeln!(
                    out,
                    "  first hit {}: {}",
                    first["event_id"].as_str().unwrap_or_default(),
                    first["features"]
                )?;
            }
        }
        if row["running"] == false {
            writeln!(
                out,
                "  {} was disabled during the backtest after repeated errors: {}",
                row["rule"].as_str().unwrap_or_default(),
                row["errors"]
            )?;
        }
    }
    writeln!(out, "precision: decided subjects hit that were violations; recall: violations of the rule's category among replayed subjects that it hit")?;
    Ok(())
}

/// A value written as a rule literal would write it: `true`, `7`, `"text"`, `[1, "a"]`.
fn literal(value: &Value) -> String {
    match value {
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(_) | Value::Float(_) => value.to_string(),
        Value::Str(text) => format!("{:?}", &**text),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_literals() {
        let eval = |source: &str| {
            literal(
                &Rule::compile(source)
                    .unwrap()
                    .evaluate(&NoVariables, &mut EvalContext::new())
                    .unwrap(),
            )
        };
        assert_eq!(eval("1 + 2 * 3"), "7");
        assert_eq!(eval("'a' in 'cat'"), "true");
        assert_eq!(eval("[1, 'b', null]"), "[1, \"b\", null]");
        assert_eq!(eval("lcase('ABC')"), "\"abc\"");
    }
}
