//! The AbuseFilter rule language, as Warden's detection rules use it.
//!
//! This crate implements Wikimedia's AbuseFilter filter language: a tokenizer, a parser
//! producing a syntax tree, static checks, and an evaluator with AbuseFilter's type juggling
//! and function library. It does no I/O: the host supplies variables through the
//! [`Variables`] trait and extra functions through an [`Extensions`] registry.
//!
//! # Compile once, evaluate many times
//!
//! Compiling tokenizes, parses, checks variables and function arities, and compiles every
//! literal regular expression. A [`Rule`] is immutable, `Send` and `Sync`, so one compiled
//! rule pack can be shared by all worker threads. Each worker keeps one [`EvalContext`],
//! which holds the budgets and reusable scratch space, and calls [`EvalContext::reset`] at
//! the start of each event:
//!
//! ```
//! use std::collections::HashMap;
//! use warden_rules::{EvalContext, Rule, Value};
//!
//! let rule = Rule::compile(r#"user_editcount < 10 & added_lines irlike "casino|viagra""#)?;
//! let mut ctx = EvalContext::new();
//!
//! let mut event: HashMap<String, Value> = HashMap::new();
//! event.insert("user_editcount".into(), Value::Int(3));
//! event.insert("added_lines".into(), Value::array([Value::str("Buy VIAGRA now")]));
//!
//! ctx.reset();
//! assert!(rule.matches(&event, &mut ctx)?);
//! # Ok::<(), warden_rules::RuleError>(())
//! ```
//!
//! For throughput, avoid rebuilding variables per rule: build one [`Variables`] per event
//! (strings as `Arc<str>` inside [`Value`], so lookups only bump a reference count) and
//! evaluate the whole pack against it. Each rule reads each variable at most once per
//! evaluation.
//!
//! # Host extensions
//!
//! Warden's trust-and-safety functions (`velocity(key, "10m")`, `has_label(x)`,
//! `in_list("name", x)`, `classifier_score("name")`, …) are registered by the host with a
//! name, an arity and a callback; rules are checked against them when compiled. The rule
//! engine never knows how the host computes the result: a callback captures whatever
//! storage handle it needs, and reads per-event data through the [`Variables`] it receives
//! (see [`Variables::host_context`] for the host's own event type).
//!
//! ```
//! use std::collections::HashSet;
//! use std::sync::Arc;
//! use warden_rules::{EvalContext, Extensions, Rule, Value};
//!
//! let blocklist: Arc<HashSet<String>> = Arc::new(["spammer".to_string()].into());
//! let mut ext = Extensions::empty();
//! ext.declare_variable("user_name").unwrap();
//! ext.register_function("in_list", 2, Some(2), move |args, _vars| {
//!     let member = args[0].to_str() == "blocked" && blocklist.contains(&*args[1].to_str());
//!     Ok(Value::Bool(member))
//! })
//! .unwrap();
//!
//! let rule = Rule::compile_with(r#"in_list("blocked", user_name)"#, &ext)?;
//! let event = |name: &str| (name == "user_name").then(|| Value::str("spammer"));
//! assert!(rule.matches(&event, &mut EvalContext::new())?);
//! # Ok::<(), warden_rules::RuleError>(())
//! ```
//!
//! # Missing data
//!
//! A declared host variable that the host does not provide for an event, and a rule variable
//! assigned only in a branch that was not taken, read as [`Value::Undefined`] (AbuseFilter's
//! `DUNDEFINED`). Every operation on it yields `Undefined` again, which counts as false, so
//! missing data never makes a rule match, not even through `!`.
//!
//! # Differences from AbuseFilter
//!
//! - `ccnorm` uses Warden's own confusables table and Unicode's (see the [`normalize`]
//!   module documentation) instead of the GPL-licensed Equivset, so rare characters may
//!   normalise differently.
//! - Regular expressions run on Rust engines. Unsupported PCRE features fail with
//!   [`ErrorKind::BadRegex`]: `\G`, `\K`, `\X`, `\C`, recursion (`(?R)`, `(?1)`,
//!   `(?&name)`, `(?P>name)`), conditionals `(?(…)…)`, branch reset `(?|…)`, relative
//!   back-references (`\g{-1}`), backtracking verbs (`(*FAIL)`) and the `J`, `n`, `X`
//!   flags. `{,n}` is a literal, as in PCRE2 before 10.43. Patterns with look-around,
//!   back-references, atomic groups or possessive quantifiers use a backtracking engine
//!   with a step limit ([`limits::REGEX_BACKTRACK_LIMIT`]).
//! - Function results are not memoised, so a repeated identical call consumes a condition
//!   each time (upstream counts it once).
//! - Skipped branches do not reset arrays to `Undefined` (the "hoisting" of older
//!   AbuseFilter versions); as in current AbuseFilter, only never-assigned variables read as
//!   `Undefined`.
//! - `lcase` and `ucase` use Unicode's default case mappings, not MediaWiki's
//!   language-specific ones; `sanitize` and `ccnorm` decode HTML 4 named entities (plus
//!   `&apos;`) and numeric references, not the whole HTML 5 list.
//! - Unary minus keeps `null` and booleans unchanged (upstream stores a negated float inside
//!   them, which only shows when they are printed).
//! - `\xHH` escapes that do not form valid UTF-8 become U+FFFD.
//! - Keywords and function names are case-insensitive.
//! - Error positions are the byte offset of the offending token, and runtime errors in
//!   branches that are never taken are not reported at compile time (upstream's save-time
//!   check evaluates every branch).
//! - Limits on rule size, nesting, string and array sizes and work are Warden's own (see
//!   [`limits`]).

#![deny(missing_docs)]

mod compile;
mod cost;
mod error;
mod eval;
mod functions;
mod ip;
mod lexer;
pub mod limits;
pub mod normalize;
mod parser;
mod pcre;
mod value;
mod vars;

pub use cost::CostEstimate;
pub use error::{ErrorKind, RuleError};
pub use eval::EvalContext;
pub use value::{float_to_string, Value};
pub use vars::{
    Extensions, HostFn, HostFunction, NoVariables, RegistrationError, VarType, Variables,
    ABUSEFILTER_DEPRECATED_VARIABLES, ABUSEFILTER_VARIABLES,
};

use compile::SlotInfo;
use parser::{Node, Slots};

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    root: Option<Node>,
    slots: Box<[SlotInfo]>,
}

impl Rule {
    /// Compiles `source` against AbuseFilter's standard variables and no host functions
    /// (see [`Extensions::new`]).
    ///
    /// Syntax errors, unknown functions and variables, wrong argument counts and invalid
    /// literal regular expressions are reported here.
    pub fn compile(source: &str) -> Result<Rule, RuleError> {
        Rule::compile_with(source, Extensions::default_ref())
    }

    /// Compiles `source` against the host's extensions.
    pub fn compile_with(source: &str, ext: &Extensions) -> Result<Rule, RuleError> {
        if source.len() > limits::MAX_RULE_LENGTH {
            return Err(RuleError::new(
                ErrorKind::RuleTooLong,
                limits::MAX_RULE_LENGTH,
                format!(
                    "the rule is {} bytes long; the limit is {}",
                    source.len(),
                    limits::MAX_RULE_LENGTH
                ),
            ));
        }
        let tokens = lexer::tokenize(source)?;
        let mut slots = Slots::default();
        let mut root = parser::parse(&tokens, ext, &mut slots)?;
        let infos = compile::check(root.as_mut(), &slots, ext)?;
        Ok(Rule {
            root,
            slots: infos.into_boxed_slice(),
        })
    }

    /// Evaluates the rule and returns the value of its last statement.
    ///
    /// The budgets in `ctx` are not reset; see [`EvalContext::reset`].
    pub fn evaluate(
        &self,
        vars: &dyn Variables,
        ctx: &mut EvalContext,
    ) -> Result<Value, RuleError> {
        eval::evaluate(self.root.as_ref(), &self.slots, vars, ctx)
    }

    /// Evaluates the rule and converts the result to a boolean, as AbuseFilter decides
    /// whether a filter matches ([`Value::Undefined`] counts as false).
    pub fn matches(&self, vars: &dyn Variables, ctx: &mut EvalContext) -> Result<bool, RuleError> {
        Ok(self.evaluate(vars, ctx)?.to_bool())
    }

    /// The estimated cost of one evaluation on event-sized input, in steps (see
    /// [`limits::cost`] for the model).
    pub fn estimated_cost(&self) -> CostEstimate {
        cost::estimate(self.root.as_ref(), &self.slots)
    }

    /// Fails with [`ErrorKind::CostTooHigh`], at the costliest operation, when the
    /// estimated cost is above `limit` steps (a pack uses [`limits::MAX_STATIC_COST`]).
    pub fn check_cost(&self, limit: u64) -> Result<(), RuleError> {
        let estimate = self.estimated_cost();
        if estimate.steps <= limit {
            return Ok(());
        }
        Err(RuleError::new(
            ErrorKind::CostTooHigh,
            estimate.costliest_position,
            format!(
                "on event-sized input ({} KiB per host value) the rule would take about {} steps; the limit is {}; the costliest part is {} ({} steps, not counting its arguments)",
                limits::cost::ASSUMED_HOST_VALUE_BYTES / 1024,
                estimate.steps,
                limit,
                estimate.costliest,
                estimate.costliest_steps
            ),
        ))
    }

    /// The type of the rule's value when it is known from its text (a comparison is a
    /// boolean, `lcase(x)` text, `length(x)` a number), else `None`.
    pub fn result_type(&self, ext: &Extensions) -> Option<VarType> {
        compile::result_type(self.root.as_ref()?, &self.slots, ext)
    }

    /// The host variables the rule may read, so a host can compute only those.
    pub fn host_variables(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().filter(|s| s.from_host).map(|s| &*s.name)
    }
}

#[cfg(test)]
mod cost_tests;
#[cfg(test)]
mod paths_tests;
#[cfg(test)]
mod tests;
