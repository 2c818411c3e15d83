//! Warden's detection: rule packs over events.
//!
//! A pack is a set of rule files ([`pack`]): rules in the AbuseFilter
//! language (compiled by `warden-rules`) with metadata and outcomes, and
//! named lists. A [`Detector`] holds a compiled pack, the lists, and the
//! velocity counters, and evaluates every live and shadow rule against an
//! event's [`EventFacts`]. It does no I/O: the host gathers facts, stores
//! hits and applies outcomes, and feeds it time.
//!
//! Rules read the variables in [`facts::VARIABLES`], the platform's JSON
//! properties by path (`event.props.device.id` in the event's data,
//! `subject.props.*` and `actor.props.*` in the attributes; missing is
//! `null`), which a pack may declare with their types (`[fields]`), and the
//! pack's features (`[features]`, see [`features`]). They may call, besides
//! AbuseFilter's library:
//! - `velocity(key, "10m")`: events counted under `key` in the window, this
//!   one included (an event counts once per key however many rules ask);
//! - `has_label("name")`: the actor or subject carries the label now;
//! - `in_list("list", value)` and `list_matches("list", value)`: keyword,
//!   domain and hash lists (one automaton per keyword list, shared by all
//!   rules);
//! - `classifier_score("model")`: a score the platform sent in the event's
//!   `data.scores`, or undefined;
//! - `extract_urls(text)`, `extract_domains(text)`.
//!
//! Rules run under time limits ([`health`]): a step budget, a deadline per
//! rule and one per event for the whole pack. A rule that passes them fails
//! for that event, and after repeated failures it is disabled until a new
//! version is loaded. `Detector::build` refuses rules whose estimated cost on
//! event-sized input is beyond [`warden_rules::limits::MAX_STATIC_COST`].
#![deny(missing_docs)]

pub mod bench;
pub mod facts;
pub mod features;
pub mod health;
pub mod limits;
pub mod lists;
pub mod pack;
pub mod urls;
pub mod velocity;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};
use warden_rules::{ErrorKind, EvalContext, Extensions, Rule, RuleError, Value, Variables};

use warden_domain::case::Severity;
use warden_domain::Timestamp;

pub use facts::{EventFacts, EventScope, EventVariables};
pub use features::{CompiledFeature, FeatureSet};
pub use health::{AutoDisabled, FailureKind, HealthBook, RuleHealth, RunLimits, Stopwatch};
pub use lists::{ListKind, Lists, NamedList};
pub use pack::{
    parse_files, FeatureDefinition, FieldDefinition, Mode, Outcome, PackError, ParsedPack,
    RuleDefinition,
};
pub use velocity::VelocityCounters;

/// A compiled rule with its version.
pub struct CompiledRule {
    /// The rule as written.
    pub definition: RuleDefinition,
    /// Its version (the host numbers versions as their hashes change).
    pub version: i64,
    rule: Rule,
    /// Set when the rule was disabled after repeated errors: it no longer runs.
    suspended: AtomicBool,
    /// The features it reads, directly or through other features (names).
    features: Vec<String>,
}

impl CompiledRule {
    fn new(
        definition: RuleDefinition,
        version: i64,
        rule: Rule,
        health: &HealthBook,
        features: &FeatureSet,
    ) -> Self {
        let suspended = health.is_disabled(&definition.id, version);
        let features = features
            .closure(rule.host_variables())
            .into_iter()
            .filter_map(|i| features.features().get(i))
            .map(|f| f.definition.name.clone())
            .collect();
        Self {
            definition,
            version,
            rule,
            suspended: AtomicBool::new(suspended),
            features,
        }
    }

    /// The features the rule reads, directly or through other features.
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// Whether the rule runs: false once it was disabled after repeated errors.
    pub fn is_running(&self) -> bool {
        !self.suspended.load(Ordering::Relaxed)
    }

    /// The rule's estimated cost on event-sized input.
    pub fn estimated_cost(&self) -> warden_rules::CostEstimate {
        self.rule.estimated_cost()
    }
}

impl std::fmt::Debug for CompiledRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledRule")
            .field("id", &self.definition.id)
            .field("version", &self.version)
            .finish()
    }
}

/// A rule that matched an event.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit {
    /// The rule.
    pub rule_id: String,
    /// Its version.
    pub version: i64,
    /// Live or shadow.
    pub mode: Mode,
    /// Taxonomy code.
    pub category: String,
    /// Severity.
    pub severity: Severity,
    /// The values of the variables the rule read, for the analyst (features included).
    pub matched: Json,
    /// The values of the features the rule read, directly or through other features, as
    /// computed for this event (a feature never computed because a condition before it
    /// was false is left out).
    pub features: Json,
    /// Whether the outcome applies: live and past its throttle.
    pub acts: bool,
    /// The outcome.
    pub outcome: Outcome,
}

/// A rule that failed on an event: no hit for it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFailure {
    /// The rule.
    pub rule_id: String,
    /// Its version.
    pub version: i64,
    /// Why, for metrics and strikes.
    pub kind: FailureKind,
    /// The error, with its position in the rule.
    pub error: RuleError,
}

/// The result of evaluating a pack against one event.
#[derive(Debug, Default)]
pub struct Evaluation {
    /// Rules that matched.
    pub hits: Vec<RuleHit>,
    /// Rules that failed on this event (budget, deadline, bad runtime regex, ...), and
    /// rules skipped because the pack's deadline was spent.
    pub errors: Vec<RuleFailure>,
    /// Rules evaluated (started).
    pub evaluated: usize,
    /// Rules not started because the pack's deadline for the event was spent.
    pub skipped: usize,
    /// Rules this event's failures disabled.
    pub disabled: Vec<AutoDisabled>,
}

/// A compiled pack, its lists and velocity counters.
pub struct Detector {
    rules: Vec<CompiledRule>,
    lists: Arc<Lists>,
    velocity: Arc<Mutex<VelocityCounters>>,
    limits: RunLimits,
    stopwatch: Option<Arc<dyn Stopwatch>>,
    health: Arc<HealthBook>,
    features: Arc<FeatureSet>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

fn scope(vars: &dyn Variables) -> Result<&EventScope, String> {
    vars.host_context()
        .and_then(|c| c.downcast_ref::<EventScope>())
        .ok_or_else(|| "this function needs an event".to_string())
}

fn list<'a>(lists: &'a Lists, name: &Value) -> Result<&'a NamedList, String> {
    let name = name.to_str();
    lists
        .get(&name)
        .ok_or_else(|| format!("no list named {name:?}"))
}

fn each_string(value: &Value, mut f: impl FnMut(&str)) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| f(&item.to_str())),
        other => f(&other.to_str()),
    }
}

fn string_array(items: impl IntoIterator<Item = String>) -> Value {
    Value::Array(Arc::new(
        items
            .into_iter()
            .map(|s| Value::Str(Arc::from(s.as_str())))
            .collect(),
    ))
}

/// Declares the pack's typed fields; a path that is not a property path is an error.
fn declare_fields(fields: &[FieldDefinition], ext: &mut Extensions, errors: &mut Vec<PackError>) {
    for field in fields {
        if ext.declare_path(&field.path, Some(field.ty)).is_err() {
            errors.push(PackError {
                file: "fields".into(),
                item: Some(field.path.clone()),
                message: "is not a property path".into(),
            });
        }
    }
}

/// Compiles a rule's expression, refusing unknown lists and rules over the static cost limit.
fn compile_definition(
    definition: &RuleDefinition,
    lists: &Lists,
    ext: &Extensions,
) -> Result<Rule, String> {
    let missing: Vec<String> = referenced_lists(&definition.expression)
        .into_iter()
        .filter(|name| lists.get(name).is_none())
        .collect();
    if missing.is_empty() {
        Rule::compile_with(&definition.expression, ext)
            .map_err(|e| format!("does not compile ({e})"))
            .and_then(|rule| {
                rule.check_cost(warden_rules::limits::MAX_STATIC_COST)
                    .map(|()| rule)
                    .map_err(|e| format!("is too costly ({e})"))
            })
    } else {
        Err(format!(
            "does not compile (unknown list {})",
            missing.join(", ")
        ))
    }
}

/// Warden's variables, property roots and aliases.
fn declare_names(ext: &mut Extensions) {
    for (name, _) in facts::VARIABLES {
        ext.declare_variable(name)
            // cannot fail: Warden's own variable names, checked by the tests.
            .expect("Warden's variable names are valid");
    }
    for (root, _) in pack::PROPERTY_ROOTS {
        ext.declare_path_root(root)
            // cannot fail: Warden's own property roots, checked by the tests.
            .expect("Warden's property roots are valid");
    }
    for (alias, name) in [
        ("event.id", "event_id"),
        ("event.type", "event_type"),
        ("event.text", "text"),
        ("event.ip", "ip"),
        ("event.device_id", "device_id"),
        ("actor.id", "actor_id"),
        ("subject.id", "subject_id"),
        ("subject.kind", "subject_kind"),
    ] {
        ext.declare_alias(alias, name)
            // cannot fail: Warden's own aliases, checked by the tests.
            .expect("Warden's aliases are valid");
    }
}

/// `velocity` and `has_label`, which read the event's scope.
fn register_event_functions(ext: &mut Extensions, velocity: Arc<Mutex<VelocityCounters>>) {
    let counters = velocity;
    ext.register_function("velocity", 2, Some(2), move |args, vars| {
        let scope = scope(vars)?;
        let key = args[0].to_str().to_string();
        let window = velocity::parse_window(&args[1].to_str())?;
        let first_time = !scope.counted.borrow().contains(&key);
        let count = counters
            .lock()
            .map_err(|_| "velocity counters are unavailable")?
            .observe(&key, scope.at, window, first_time);
        if first_time {
            scope.counted.borrow_mut().push(key);
        }
        Ok(Value::Int(count))
    })
    // cannot fail: a built-in function registered once, on a fresh context.
    .expect("velocity registers");
    ext.register_function("has_label", 1, Some(1), |args, vars| {
        let scope = scope(vars)?;
        let label = args[0].to_str();
        let facts = &scope.facts;
        Ok(Value::Bool(
            facts
                .actor_labels
                .iter()
                .chain(&facts.subject_labels)
                .any(|l| *l == *label),
        ))
    })
    // cannot fail: a built-in function registered once, on a fresh context.
    .expect("has_label registers");
}

/// `in_list` and `list_matches` over the pack's lists.
fn register_list_functions(ext: &mut Extensions, lists: Arc<Lists>) {
    let in_lists = lists.clone();
    ext.register_function("in_list", 2, Some(2), move |args, _| {
        let list = list(&in_lists, &args[0])?;
        let mut found = false;
        each_string(&args[1], |value| {
            found = found || !list.matches(value).is_empty()
        });
        Ok(Value::Bool(found))
    })
    // cannot fail: a built-in function registered once, on a fresh context.
    .expect("in_list registers");
    let match_lists = lists;
    ext.register_function("list_matches", 2, Some(2), move |args, _| {
        let list = list(&match_lists, &args[0])?;
        let mut found: Vec<String> = Vec::new();
        each_string(&args[1], |value| {
            found.extend(list.matches(value).into_iter().map(str::to_string))
        });
        found.dedup();
        Ok(string_array(found))
    })
    // cannot fail: a built-in function registered once, on a fresh context.
    .expect("list_matches registers");
}

/// The rule language extended with Warden's variables and functions.
pub fn extensions(lists: Arc<Lists>, velocity: Arc<Mutex<VelocityCounters>>) -> Extensions {
    let mut ext = Extensions::empty();
    declare_names(&mut ext);
    register_event_functions(&mut ext, velocity);
    register_list_functions(&mut ext, lists);
    ext.register_function("classifier_score", 1, Some(1), |args, vars| {
        let scope = scope(vars)?;
        let name = args[0].to_str();
        Ok(scope
            .facts
            .data
            .get("scores")
            .and_then(|scores| scores.get(&*name))
            .and_then(Json::as_f64)
            .map_or(Value::Undefined, Value::Float))
    })
    // cannot fail: a built-in function registered once, on a fresh context.
    .expect("classifier_score registers");
    ext.register_function("extract_urls", 1, Some(1), |args, _| {
        Ok(string_array(urls::extract_urls(&args[0].to_str())))
    })
    // cannot fail: a built-in function registered once, on a fresh context.
    .expect("extract_urls registers");
    ext.register_function("extract_domains", 1, Some(1), |args, _| {
        Ok(string_array(
            urls::extract_urls(&args[0].to_str())
                .iter()
                .filter_map(|u| urls::domain_of(u)),
        ))
    })
    // cannot fail: a built-in function registered once, on a fresh context.
    .expect("extract_domains registers");
    ext
}

/// List names a rule's expression refers to as literals in `in_list` and `list_matches`.
fn referenced_lists(expression: &str) -> Vec<String> {
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i)(?:in_list|list_matches)\s*\(\s*["']([^"']+)["']"#)
            // cannot fail: a literal pattern, compiled by the tests.
            .expect("valid pattern")
    });
    PATTERN
        .captures_iter(expression)
        .map(|c| c[1].to_string())
        .collect()
}

/// The outcome of building a detector: the detector and the rules left out.
pub struct Built {
    /// The detector.
    pub detector: Detector,
    /// Problems: files, rules and lists left out (a rule left out keeps its
    /// previous version when there was one).
    pub errors: Vec<PackError>,
}

impl Detector {
    /// Compiles a parsed pack. `version_of` numbers each rule's version;
    /// a rule that does not compile is left out and reported, and its
    /// version in `previous` (if any) keeps running.
    pub fn build(
        parsed: ParsedPack,
        version_of: &mut dyn FnMut(&RuleDefinition) -> i64,
        velocity: Arc<Mutex<VelocityCounters>>,
        previous: Option<&Detector>,
    ) -> Built {
        let mut lists = Lists::default();
        for definition in parsed.lists {
            lists.insert(&definition.name, definition.list);
        }
        let lists = Arc::new(lists);
        let mut ext = extensions(lists.clone(), velocity.clone());
        let health = previous.map_or_else(Arc::default, |p| p.health.clone());
        let mut errors = parsed.errors;
        declare_fields(&parsed.fields, &mut ext, &mut errors);
        let features = Arc::new(FeatureSet::build(parsed.features, &mut ext, &mut errors));
        let mut rules = Vec::with_capacity(parsed.rules.len());
        let mut compiled_ids = std::collections::BTreeSet::new();
        for definition in parsed.rules {
            let compiled = compile_definition(&definition, &lists, &ext);
            match compiled {
                Ok(rule) => {
                    compiled_ids.insert(definition.id.clone());
                    if definition.mode != Mode::Disabled {
                        let version = version_of(&definition);
                        rules.push(CompiledRule::new(
                            definition, version, rule, &health, &features,
                        ));
                    }
                }
                Err(message) => errors.push(PackError {
                    file: "expression".into(),
                    item: Some(definition.id.clone()),
                    message: format!("{message}; the previous version, if any, keeps running"),
                }),
            }
        }
        if let Some(previous) = previous {
            for errored in errors.iter().filter_map(|e| e.item.as_ref()) {
                if compiled_ids.contains(errored) {
                    continue;
                }
                if let Some(old) = previous.rules.iter().find(|r| &r.definition.id == errored) {
                    // Recompile the old source against the new lists; if it no
                    // longer compiles either, it stays out.
                    if let Ok(rule) = Rule::compile_with(&old.definition.expression, &ext) {
                        compiled_ids.insert(errored.clone());
                        rules.push(CompiledRule::new(
                            old.definition.clone(),
                            old.version,
                            rule,
                            &health,
                            &features,
                        ));
                    }
                }
            }
        }
        Built {
            detector: Detector {
                rules,
                lists,
                velocity,
                limits: previous.map_or_else(RunLimits::default, |p| p.limits),
                stopwatch: previous.and_then(|p| p.stopwatch.clone()),
                health,
                features,
            },
            errors,
        }
    }

    /// The pack's features.
    pub fn features(&self) -> &FeatureSet {
        &self.features
    }

    /// The same detector under other time limits.
    pub fn with_limits(mut self, limits: RunLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The same detector timing rules with `stopwatch`: without one, only the step budget
    /// limits rules (no deadlines).
    pub fn with_stopwatch(mut self, stopwatch: Arc<dyn Stopwatch>) -> Self {
        self.stopwatch = Some(stopwatch);
        self
    }

    /// The time limits rules run under.
    pub fn limits(&self) -> RunLimits {
        self.limits
    }

    /// Disables a rule version, as if it had been disabled after errors here (the host
    /// calls this at load for rules its store says were disabled). Returns false when the
    /// detector does not run that version.
    pub fn disable(&self, disabled: AutoDisabled) -> bool {
        let Some(compiled) = self
            .rules
            .iter()
            .find(|r| r.definition.id == disabled.rule_id && r.version == disabled.version)
        else {
            return false;
        };
        compiled.suspended.store(true, Ordering::Relaxed);
        self.health.disable(disabled);
        true
    }

    /// The health of every rule: failures by kind, recent strikes, whether disabled.
    pub fn health(&self, now: Timestamp) -> Vec<RuleHealth> {
        self.rules
            .iter()
            .map(|r| {
                self.health.report(
                    &r.definition.id,
                    r.version,
                    now,
                    self.limits.strike_window_seconds,
                )
            })
            .collect()
    }

    /// Rules that run (live and shadow).
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// The lists.
    pub fn lists(&self) -> &Lists {
        &self.lists
    }

    /// Evaluates every rule against one event.
    pub fn evaluate(
        &self,
        facts: Arc<EventFacts>,
        now: Timestamp,
        ctx: &mut EvalContext,
    ) -> Evaluation {
        let vars = EventVariables::new(facts, now);
        self.evaluate_variables(&vars, ctx, None)
    }

    /// Evaluates every running rule (or only `only`) against prepared variables, under the
    /// detector's time limits (see [`health`]).
    pub fn evaluate_variables(
        &self,
        vars: &EventVariables,
        ctx: &mut EvalContext,
        only: Option<&str>,
    ) -> Evaluation {
        let mut evaluation = Evaluation::default();
        ctx.set_step_limit(self.limits.step_limit);
        let deadlines = self.arm_deadlines(vars, ctx);
        let now = vars.now();
        let mut steps_since_clock = 0;
        let mut pack_spent = false;
        for compiled in &self.rules {
            if only.is_some_and(|id| id != compiled.definition.id) || !compiled.is_running() {
                continue;
            }
            if pack_spent {
                self.skip_spent(&mut evaluation, compiled, now);
                continue;
            }
            ctx.reset();
            if let Some(d) = &deadlines {
                d.rule_starts();
            }
            evaluation.evaluated += 1;
            match compiled.rule.matches(vars, ctx) {
                Ok(true) => evaluation.hits.push(self.hit(compiled, vars)),
                Ok(false) => {}
                Err(error) => {
                    let fired = deadlines.as_ref().and_then(|d| d.fired());
                    let kind = health::classify(fired, &error);
                    pack_spent |= kind == FailureKind::PackDeadline;
                    self.fail(&mut evaluation, compiled, kind, error, now);
                }
            }
            if let Some(d) = &deadlines {
                steps_since_clock += ctx.steps_used();
                if !pack_spent && steps_since_clock >= limits::PACK_CLOCK_INTERVAL_STEPS {
                    steps_since_clock = 0;
                    pack_spent = d.pack_spent();
                }
            }
        }
        if deadlines.is_some() {
            ctx.clear_deadline();
        }
        let failures = std::mem::take(&mut vars.features.borrow_mut().failures);
        for failure in failures {
            // A feature failure shows under the feature's name; it earns no strike (the
            // rules reading it simply do not match).
            evaluation.errors.push(RuleFailure {
                rule_id: format!("feature:{}", failure.name),
                version: 0,
                kind: failure.kind,
                error: failure.error,
            });
        }
        evaluation
    }

    /// The event's deadlines when the detector has a stopwatch, set on `ctx`
    /// (cleared otherwise) and on the features of `vars`.
    fn arm_deadlines(
        &self,
        vars: &EventVariables,
        ctx: &mut EvalContext,
    ) -> Option<Arc<health::Deadlines>> {
        let deadlines = self
            .stopwatch
            .as_ref()
            .map(|s| health::Deadlines::new(s.clone(), &self.limits));
        match &deadlines {
            Some(d) => {
                let check = d.clone();
                ctx.set_deadline(move || check.expired());
            }
            None => ctx.clear_deadline(),
        }
        if !self.features.is_empty() {
            vars.features
                .borrow_mut()
                .attach(&self.features, self.limits, deadlines.clone());
        }
        deadlines
    }

    /// Records a rule not run because the pack's deadline for the event was spent.
    fn skip_spent(&self, evaluation: &mut Evaluation, compiled: &CompiledRule, now: Timestamp) {
        evaluation.skipped += 1;
        let error = RuleError::new(
            ErrorKind::TimeBudget,
            0,
            "not run: the pack's deadline for this event was spent",
        );
        self.fail(evaluation, compiled, FailureKind::PackDeadline, error, now);
    }

    fn fail(
        &self,
        evaluation: &mut Evaluation,
        compiled: &CompiledRule,
        kind: FailureKind,
        error: RuleError,
        now: Timestamp,
    ) {
        let id = &compiled.definition.id;
        if let Some(disabled) = self
            .health
            .failed(id, compiled.version, kind, now, &self.limits)
        {
            compiled.suspended.store(true, Ordering::Relaxed);
            evaluation.disabled.push(disabled);
        }
        evaluation.errors.push(RuleFailure {
            rule_id: id.clone(),
            version: compiled.version,
            kind,
            error,
        });
    }

    fn hit(&self, compiled: &CompiledRule, vars: &EventVariables) -> RuleHit {
        let definition = &compiled.definition;
        let mut matched = BTreeMap::new();
        let mut features = BTreeMap::new();
        for name in &compiled.features {
            if let Some(value) = vars.computed_feature(name) {
                features.insert(name.clone(), to_json(&value));
            }
        }
        for name in compiled.rule.host_variables() {
            if let Some(value) = features.get(name) {
                matched.insert(name.to_string(), value.clone());
            } else if self.features.index_of(name).is_some() {
                // A feature the rule did not need to compute for this event.
                continue;
            } else if let Some(value) = vars.get(name) {
                matched.insert(name.to_string(), to_json(&value));
            }
        }
        let mut acts = definition.mode == Mode::Live;
        if let (true, Some(throttle)) = (acts, definition.outcome.throttle) {
            let facts = vars.facts();
            let key_value = match throttle.key {
                pack::ThrottleKey::Actor => facts.actor_id.clone(),
                pack::ThrottleKey::Ip => facts.ip.clone(),
                pack::ThrottleKey::Device => facts.device_id.clone(),
                pack::ThrottleKey::Subject => facts.subject_id.clone(),
            };
            acts = match key_value {
                Some(value) => {
                    let key = format!("throttle:{}:{value}", definition.id);
                    let at = facts.occurred_at.map_or(0, |t| t.timestamp());
                    let count = self
                        .velocity
                        .lock()
                        .map(|mut v| v.observe(&key, at, throttle.window_seconds, true))
                        .unwrap_or(0);
                    count >= throttle.hits
                }
                None => false,
            };
        }
        RuleHit {
            rule_id: definition.id.clone(),
            version: compiled.version,
            mode: definition.mode,
            category: definition.category.clone(),
            severity: definition.severity,
            matched: Json::Object(matched.into_iter().collect()),
            features: Json::Object(features.into_iter().collect()),
            acts,
            outcome: definition.outcome.clone(),
        }
    }
}

/// A rule value as JSON.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Undefined | Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Str(s) => json!(&**s),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
    }
}

#[cfg(test)]
mod props_tests;
#[cfg(test)]
mod tests;

/// The starter pack: link spam, crypto-giveaway and advance-fee scams,
/// phishing, harassment and threats, device farms, new-account bursts.
pub const STARTER_PACK: &[(&str, &str)] = &[
    ("lists.toml", include_str!("../packs/starter/lists.toml")),
    ("spam.toml", include_str!("../packs/starter/spam.toml")),
    ("fraud.toml", include_str!("../packs/starter/fraud.toml")),
    (
        "harassment.toml",
        include_str!("../packs/starter/harassment.toml"),
    ),
];
