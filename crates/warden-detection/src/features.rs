//! Derived features: named expressions declared once in a pack (`[features]`), read by
//! rules and other features as variables, computed lazily at most once per event.
//!
//! A feature is compiled like a rule, against the same variables and functions plus the
//! features before it in dependency order (so its type, when its text shows one, is known
//! to the rules that compare it). Cycles are refused when the pack is built, naming the
//! cycle and the position of the reference that closes it. At run time the event's
//! variables ([`crate::EventVariables`]) keep each feature's value once computed; a
//! feature that fails (budget, deadline, runtime error) reads as undefined for the rest of
//! the event, so rules reading it do not match, and the failure is reported with the
//! event's evaluation.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use warden_rules::{EvalContext, Extensions, Rule, RuleError, Value, VarType};

use crate::health::{Deadlines, FailureKind, RunLimits};
use crate::pack::{FeatureDefinition, PackError};

/// A compiled feature.
#[derive(Debug)]
pub struct CompiledFeature {
    /// The feature as written.
    pub definition: FeatureDefinition,
    /// Its type, when its text shows one.
    pub ty: Option<VarType>,
    /// Its variable index in the rule language (see `Extensions::variable_index`).
    index: u32,
    rule: Rule,
    /// Features it reads directly (indices in the set).
    reads: Vec<usize>,
}

/// The compiled features of a pack.
#[derive(Debug, Default)]
pub struct FeatureSet {
    features: Vec<CompiledFeature>,
    index: HashMap<String, usize>,
    /// The variable index of the first feature: features are declared one after another,
    /// so a feature's position is its variable index minus this.
    first_index: u32,
}

impl FeatureSet {
    /// The features, in dependency order (a feature comes after those it reads).
    pub fn features(&self) -> &[CompiledFeature] {
        &self.features
    }

    /// The index of the feature called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Whether there are no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The features `names` read, and those they read in turn, by index.
    pub fn closure<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = names.into_iter().filter_map(|n| self.index_of(n)).collect();
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                if let Some(f) = self.features.get(i) {
                    stack.extend(&f.reads);
                }
            }
        }
        seen.into_iter().collect()
    }

    /// Compiles features against `ext`, adding each good one to `ext` as a variable (with
    /// its type). Features that do not compile, are too costly, read a refused feature or
    /// take part in a cycle are left out and reported.
    pub(crate) fn build(
        definitions: Vec<FeatureDefinition>,
        ext: &mut Extensions,
        errors: &mut Vec<PackError>,
    ) -> FeatureSet {
        let mut refusals = Refusals {
            errors,
            refused: BTreeSet::new(),
        };
        let reads = read_graph(&definitions, ext, &mut refusals);
        let order = dependency_order(&reads, &definitions, &mut refusals);
        // Second pass, in dependency order, against the features compiled so far.
        let mut set = FeatureSet::default();
        for name in order {
            let Some(d) = definitions.iter().find(|d| d.name == name) else {
                continue;
            };
            let (read, _) = &reads[&name];
            if let Some(bad) = read
                .iter()
                .find(|r| refusals.refused.contains(*r) || set.index_of(r).is_none())
            {
                refusals.refuse(d, format!("reads feature {bad}, which is refused"));
                continue;
            }
            let rule = match compile_feature(d, ext) {
                Ok(rule) => rule,
                Err(message) => {
                    refusals.refuse(d, message);
                    continue;
                }
            };
            let ty = rule.result_type(ext);
            // The name was checked in the first pass.
            if ext.declare_variable(&name).is_err() {
                refusals.report(d, "the name cannot be a variable".into());
                continue;
            }
            let Some(index) = ext.variable_index(&name) else {
                refusals.report(d, "the name cannot be a variable".into());
                continue;
            };
            if set.features.is_empty() {
                set.first_index = index;
            }
            if let Some(ty) = ty {
                ext.declare_type(&name, ty);
            }
            let reads = read.iter().filter_map(|r| set.index_of(r)).collect();
            set.index.insert(name.clone(), set.features.len());
            set.features.push(CompiledFeature {
                definition: d.clone(),
                ty,
                index,
                rule,
                reads,
            });
        }
        set
    }
}

/// What each feature reads (of the other features), and the byte position of its first
/// such read.
type ReadGraph = BTreeMap<String, (Vec<String>, Option<usize>)>;

/// The features refused so far, and where they are reported.
struct Refusals<'e> {
    errors: &'e mut Vec<PackError>,
    refused: BTreeSet<String>,
}

impl Refusals<'_> {
    /// Reports a problem with feature `d`.
    fn report(&mut self, d: &FeatureDefinition, message: String) {
        self.errors.push(PackError {
            file: d.file.clone(),
            item: Some(format!("feature {}", d.name)),
            message,
        });
    }

    /// Reports a problem with feature `d` and leaves it out.
    fn refuse(&mut self, d: &FeatureDefinition, message: String) {
        self.report(d, message);
        self.refused.insert(d.name.clone());
    }
}

/// First pass: every name declared, to find what each feature reads; a
/// name that clashes with the language's or an expression that does not
/// compile is refused.
fn read_graph(
    definitions: &[FeatureDefinition],
    ext: &Extensions,
    refusals: &mut Refusals<'_>,
) -> ReadGraph {
    let names: BTreeSet<String> = definitions.iter().map(|d| d.name.clone()).collect();
    let mut probe = ext.clone();
    let mut clashes = BTreeSet::new();
    for name in &names {
        if ext.is_variable(name)
            || ext.function(name).is_some()
            || probe.declare_variable(name).is_err()
        {
            clashes.insert(name.clone());
        }
    }
    let mut reads = ReadGraph::new();
    for d in definitions {
        if clashes.contains(&d.name) {
            refusals.refuse(
                d,
                "the name is already a variable or function of the rule language".into(),
            );
            continue;
        }
        match Rule::compile_with(&d.expression, &probe) {
            Ok(rule) => {
                let read: Vec<String> = rule
                    .host_variables()
                    .filter(|v| names.contains(*v))
                    .map(str::to_string)
                    .collect();
                let position = read
                    .first()
                    .and_then(|name| find_identifier(&d.expression, name));
                reads.insert(d.name.clone(), (read, position));
            }
            Err(e) => refusals.refuse(d, format!("does not compile ({e})")),
        }
    }
    reads
}

/// The features in dependency order; cycles are refused, reported once each
/// with the position of the reference closing them.
fn dependency_order(
    reads: &ReadGraph,
    definitions: &[FeatureDefinition],
    refusals: &mut Refusals<'_>,
) -> Vec<String> {
    let cycles = match topological_order(reads) {
        Ok(order) => return order,
        Err(cycles) => cycles,
    };
    for cycle in cycles {
        let first = &cycle[0];
        let next = &cycle[1 % cycle.len()];
        if let Some(d) = definitions.iter().find(|d| &d.name == first) {
            let position = find_identifier(&d.expression, next).unwrap_or(0);
            refusals.report(
                d,
                format!(
                    "features read each other in a cycle: {} (at byte {position} of {first})",
                    cycle
                        .iter()
                        .chain(std::iter::once(first))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" → ")
                ),
            );
        }
        refusals.refused.extend(cycle);
    }
    topological_order(
        &reads
            .iter()
            .filter(|(name, _)| !refusals.refused.contains(*name))
            .map(|(n, r)| (n.clone(), r.clone()))
            .collect(),
    )
    .unwrap_or_default()
}

/// Compiles a feature's expression against the features so far, refusing one over the
/// static cost limit.
fn compile_feature(d: &FeatureDefinition, ext: &Extensions) -> Result<Rule, String> {
    Rule::compile_with(&d.expression, ext)
        .map_err(|e| format!("does not compile ({e})"))
        .and_then(|rule| {
            rule.check_cost(warden_rules::limits::MAX_STATIC_COST)
                .map(|()| rule)
                .map_err(|e| format!("is too costly ({e})"))
        })
}

/// The byte offset of `name` as an identifier in `expression`, outside strings.
fn find_identifier(expression: &str, name: &str) -> Option<usize> {
    let bytes = expression.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    let mut quote = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == b'\\' => {
                i += 2;
                let _ = q;
                continue;
            }
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None => {
                let starts = i == 0 || !is_word(bytes[i - 1]);
                let end = i + name.len();
                if starts
                    && expression[i..].to_ascii_lowercase().starts_with(name)
                    && bytes.get(end).is_none_or(|b| !is_word(*b))
                {
                    return Some(i);
                }
            }
        }
        i += 1;
    }
    None
}

/// Features ordered so that each comes after those it reads, or the cycles found.
fn topological_order(
    reads: &BTreeMap<String, (Vec<String>, Option<usize>)>,
) -> Result<Vec<String>, Vec<Vec<String>>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = reads.keys().map(|k| (k.as_str(), Mark::New)).collect();
    let mut order = Vec::new();
    let mut cycles: Vec<Vec<String>> = Vec::new();
    // Iterative depth-first search: features are few, but their chains should not recurse.
    for start in reads.keys() {
        if marks[start.as_str()] != Mark::New {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        marks.insert(start, Mark::Active);
        while let Some((node, next)) = stack.last().copied() {
            let edges = reads
                .get(node)
                .map(|(r, _)| r.as_slice())
                .unwrap_or_default();
            if let Some(target) = edges.get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match marks.get(target.as_str()).copied() {
                    Some(Mark::New) => {
                        marks.insert(target, Mark::Active);
                        stack.push((target, 0));
                    }
                    Some(Mark::Active) => {
                        let from = stack.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let cycle: Vec<String> =
                            stack[from..].iter().map(|(n, _)| n.to_string()).collect();
                        if !cycles
                            .iter()
                            .any(|c| c.iter().collect::<BTreeSet<_>>() == cycle.iter().collect())
                        {
                            cycles.push(cycle);
                        }
                    }
                    _ => {}
                }
            } else {
                marks.insert(node, Mark::Done);
                order.push(node.to_string());
                stack.pop();
            }
        }
    }
    if cycles.is_empty() {
        Ok(order)
    } else {
        Err(cycles)
    }
}

/// A feature that failed on an event.
#[derive(Debug, Clone)]
pub(crate) struct FeatureFailure {
    pub name: String,
    pub kind: FailureKind,
    pub error: RuleError,
}

/// The features of one event: values computed so far, failures, and the evaluation
/// contexts they run in (one per level of features reading features).
#[derive(Default)]
pub(crate) struct FeatureCache {
    set: Option<Arc<FeatureSet>>,
    values: Vec<Option<Value>>,
    in_progress: Vec<bool>,
    contexts: Vec<EvalContext>,
    limits: Option<RunLimits>,
    deadlines: Option<Arc<Deadlines>>,
    pub failures: Vec<FeatureFailure>,
    /// How many feature expressions ran for this event.
    pub evaluations: usize,
}

impl FeatureCache {
    /// Uses `set` for this event (clearing values computed for another set).
    pub fn attach(
        &mut self,
        set: &Arc<FeatureSet>,
        limits: RunLimits,
        deadlines: Option<Arc<Deadlines>>,
    ) {
        let same = self.set.as_ref().is_some_and(|s| Arc::ptr_eq(s, set));
        if !same {
            self.set = Some(set.clone());
            self.values = vec![None; set.features.len()];
            self.in_progress = vec![false; set.features.len()];
        }
        self.limits = Some(limits);
        self.deadlines = deadlines;
        self.contexts.clear();
    }
}

/// Reads a feature's value through `cache`, computing it (once per event) when needed.
/// `vars` are the event's variables, which the feature's expression reads.
pub(crate) fn feature_value(
    cache: &RefCell<FeatureCache>,
    name: &str,
    vars: &dyn warden_rules::Variables,
) -> Option<Value> {
    let (set, index, mut ctx) = {
        let mut c = cache.borrow_mut();
        let set = c.set.clone()?;
        let index = set.index_of(name)?;
        if let Some(value) = c.values.get(index).cloned().flatten() {
            return Some(value);
        }
        if c.in_progress.get(index).copied().unwrap_or(true) {
            // Cycles are refused when the pack is built; this is only a guard.
            return Some(Value::Undefined);
        }
        c.in_progress[index] = true;
        let ctx = match c.contexts.pop() {
            Some(ctx) => ctx,
            None => {
                let mut ctx = EvalContext::new();
                if let Some(limits) = c.limits {
                    ctx.set_step_limit(limits.step_limit);
                }
                if let Some(d) = c.deadlines.clone() {
                    ctx.set_deadline(move || d.expired());
                }
                ctx
            }
        };
        (set, index, ctx)
    };
    ctx.reset();
    let feature = &set.features[index];
    let result = feature.rule.evaluate(vars, &mut ctx);
    let mut c = cache.borrow_mut();
    c.contexts.push(ctx);
    c.in_progress[index] = false;
    c.evaluations += 1;
    let value = match result {
        Ok(value) => value,
        Err(error) => {
            let fired = c.deadlines.as_ref().and_then(|d| d.fired());
            let kind = crate::health::classify(fired, &error);
            c.failures.push(FeatureFailure {
                name: name.to_string(),
                kind,
                error,
            });
            Value::Undefined
        }
    };
    c.values[index] = Some(value.clone());
    Some(value)
}

/// Reads the feature with variable index `index` (called `name`): the computed value
/// without any lookup by name when there is one.
pub(crate) fn feature_by_index(
    cache: &RefCell<FeatureCache>,
    index: usize,
    name: &str,
    vars: &dyn warden_rules::Variables,
) -> Option<Value> {
    {
        let c = cache.borrow();
        let set = c.set.as_ref()?;
        let slot = index.checked_sub(set.first_index as usize)?;
        if set
            .features
            .get(slot)
            .is_some_and(|f| f.index as usize == index)
        {
            if let Some(Some(value)) = c.values.get(slot) {
                return Some(value.clone());
            }
        }
    }
    feature_value(cache, name, vars)
}

/// A feature's value if it was computed for this event, without computing it.
pub(crate) fn computed_value(cache: &RefCell<FeatureCache>, name: &str) -> Option<Value> {
    let c = cache.borrow();
    let index = c.set.as_ref()?.index_of(name)?;
    c.values.get(index).cloned().flatten()
}
