//! QA sampling plans: which decisions a QA reviewer reads again, blind.
//!
//! # A plan
//!
//! A [`SamplingPlan`] is parsed from config-like input
//! ([`SamplingPlanInput`], from `[[qa.plans]]` or the API) with every field
//! error reported at once. It has
//!
//! - a **scope**: the queues, categories, severities and reviewers (deciders)
//!   it covers; an empty list covers all;
//! - a **rate** in (0, 1], counted in parts per million
//!   ([`QA_RATE_PARTS`]), and **rate rules** giving a queue, category,
//!   severity or reviewer inside the scope its own rate: the first rule
//!   whose every named field matches the decision wins, else the plan's
//!   rate;
//! - **`all` rules**: every decision of the listed severities, and every
//!   decision a reviewer makes in their first N days;
//! - a **seed**;
//! - **minimums** per reviewer and per category in a window (a week), so
//!   that each is represented;
//! - an optional **weekly cap** on decisions sampled by rate.
//!
//! # The decision-time sampler
//!
//! [`SamplingPlan::samples`] is a pure function with no state of its own.
//! A decision's [`Draw`] is HMAC-SHA256 keyed with the seed over the plan's
//! name and the decision id, its first eight bytes read as a number in
//! [0, 2⁶⁴), that is a point in [0, 1). Out of scope: not sampled. In
//! scope, in this order: an `all` rule samples it; else it is sampled when
//! its draw is below its stratum's rate (`draw × 10⁶ < rate in parts per
//! million`, exactly, in integers), unless the plan's weekly cap on
//! rate-sampled decisions is reached (the caller passes how many this plan
//! has sampled by rate in the current window, which is the one piece of
//! state, kept by the store). The same seed, plan and decisions give the
//! same sample; the rate's share of decisions is sampled, because the draws
//! are uniform and independent of everything the plan looks at. Plans with
//! different names draw independently even with one seed.
//!
//! # The window pass and stratified minimums
//!
//! When a window closes (a week), [`SamplingPlan::sample_window`] goes over
//! its decisions. It replays the decision-time sampler in decision order
//! (time, then id), so the cap falls where it fell live, and then **tops
//! up**: for each reviewer with fewer sampled decisions than
//! `minimum_per_reviewer`, it adds that reviewer's other in-scope decisions
//! with the lowest draws until the minimum is met or the reviewer has no
//! more; then the same per category, counting the reviewers' top-ups. A
//! stratum with fewer decisions than its minimum is sampled whole. Minimums
//! win over the cap: representation is what they are for. The result
//! depends only on the seed, the plan and the set of decisions, never on
//! their order in the input; within a stratum the top-up is the decisions
//! with the next-lowest draws, so the window's sample of a stratum is
//! every decision whose draw is below a threshold.
//!
//! # Several plans
//!
//! A decision is sampled once: [`SamplingPlans::samples`] asks every plan
//! and tags the sample with each plan that chose it (and why). Plans draw
//! independently, so a decision in two plans' scopes with rates p and q is
//! sampled with probability 1 − (1 − p)(1 − q).
//!
//! # Expected weekly load
//!
//! [`SamplingPlan::expected_weekly_load`] takes expected decisions a week
//! per stratum ([`VolumeByStratum`]) and returns the expected number of
//! decisions sampled with its arithmetic written out: `all` rules count
//! their volume whole (a reviewer's first-N-days share of the week is
//! counted as the share of the week they are new, decisions spread evenly);
//! rate rules count volume × rate; the cap limits the rate part; the
//! top-ups are estimated from the expected counts: a reviewer's top-up is
//! `max(0, min(minimum, volume) − expected sampled)`, spread over their
//! categories in proportion to the decisions not sampled there, and a
//! category's is what its minimum still needs after that. Counts vary
//! around their expectation, so real top-ups run somewhat higher than this
//! estimate.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::case::Severity;
use crate::ids::{parse_code, UserName};
use crate::limits::{
    QA_LOAD_LINES_MAX, QA_NEW_REVIEWER_DAYS_MAX, QA_PLANS_MAX, QA_PLAN_LIST_ENTRIES_MAX,
    QA_PLAN_RATE_RULES_MAX, QA_RATE_PARTS, QA_STRATUM_MINIMUM_MAX, QA_VOLUME_DECISIONS_MAX,
    QA_VOLUME_STRATA_MAX, QA_WEEKLY_CAP_MAX, QA_WINDOW_DECISIONS_MAX,
};
use crate::taxonomy::Taxonomy;
use crate::{FieldErrors, Timestamp};

// ---------------------------------------------------------------- rates and draws

/// A sampling rate in (0, 1], in parts per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    /// Every decision.
    pub const ALL: Rate = Rate(QA_RATE_PARTS);

    /// Checks a rate given as a fraction: finite, above 0, at most 1, and no
    /// finer than one part per million.
    pub fn from_fraction(value: f64) -> Result<Rate, String> {
        if !value.is_finite() || value <= 0.0 || value > 1.0 {
            return Err(format!(
                "must be above 0 and at most 1 (0.05 is 5 %), got {value}"
            ));
        }
        let parts = value * f64::from(QA_RATE_PARTS);
        let rounded = parts.round();
        // One part in a billion of slack absorbs the binary rounding of
        // decimal fractions such as 0.07 and nothing a person would type.
        if (parts - rounded).abs() > 1e-9 * parts.max(1.0) || rounded < 1.0 {
            return Err(format!(
                "must be a whole number of parts per million (at most six decimal places), got {value}"
            ));
        }
        // `rounded` is between 1 and QA_RATE_PARTS, checked above.
        Ok(Rate(rounded as u32))
    }

    /// A rate of `parts` per million; `None` outside 1 ..= 1,000,000.
    pub fn from_parts_per_million(parts: u32) -> Option<Rate> {
        (1..=QA_RATE_PARTS).contains(&parts).then_some(Rate(parts))
    }

    /// Parts per million.
    pub fn parts_per_million(self) -> u32 {
        self.0
    }

    /// The rate as a fraction.
    pub fn as_fraction(self) -> f64 {
        f64::from(self.0) / f64::from(QA_RATE_PARTS)
    }
}

impl fmt::Display for Rate {
    /// As a percentage with as many decimals as it has: `5%`, `0.0001%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 1 % is 10,000 parts per million.
        let whole = self.0 / 10_000;
        let fraction = self.0 % 10_000;
        if fraction == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{fraction:04}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

/// A decision's draw in a plan: a point in [0, 1) as a 64-bit fraction,
/// HMAC-SHA256 keyed with the plan's seed over its name and the decision id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Draw(u64);

impl Draw {
    /// The draw of `decision_id` in the plan named `plan` with `seed`.
    pub fn of(seed: u64, plan: &str, decision_id: i64) -> Draw {
        DrawKey::new(seed, plan).draw(decision_id)
    }

    /// Whether the draw falls under `rate`: `draw × 10⁶ < parts`, in
    /// integers, so a rate of p samples a share p of draws exactly.
    pub fn is_below(self, rate: Rate) -> bool {
        ((u128::from(self.0) * u128::from(QA_RATE_PARTS)) >> 64) < u128::from(rate.0)
    }

    /// The draw as a fraction in [0, 1), for people.
    pub fn as_fraction(self) -> f64 {
        // The top 53 bits fill an f64's mantissa exactly.
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The draw as the 64-bit number it is.
    pub fn bits(self) -> u64 {
        self.0
    }
}

/// A plan's seed and name, absorbed into HMAC-SHA256 once, so that each
/// draw hashes only the decision id.
#[derive(Clone)]
pub struct DrawKey {
    seed: u64,
    plan: String,
    prepared: Hmac<Sha256>,
}

impl DrawKey {
    /// The key of the plan named `plan` with `seed`.
    pub fn new(seed: u64, plan: &str) -> DrawKey {
        let mut prepared = Hmac::<Sha256>::new_from_slice(&seed.to_be_bytes())
            // cannot fail: HMAC takes keys of any length.
            .expect("HMAC takes keys of any length");
        prepared.update(b"warden.qa.sample.v1\0");
        prepared.update(plan.as_bytes());
        prepared.update(b"\0");
        DrawKey {
            seed,
            plan: plan.to_string(),
            prepared,
        }
    }

    /// The draw of `decision_id`: the first eight bytes of HMAC-SHA256
    /// keyed with the seed (eight bytes, big-endian) over
    /// `warden.qa.sample.v1 NUL plan NUL id` (the id as eight bytes,
    /// big-endian).
    pub fn draw(&self, decision_id: i64) -> Draw {
        let mut mac = self.prepared.clone();
        mac.update(&decision_id.to_be_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&bytes[..8]);
        Draw(u64::from_be_bytes(first))
    }
}

impl PartialEq for DrawKey {
    fn eq(&self, other: &Self) -> bool {
        // The prepared state follows from these two.
        self.seed == other.seed && self.plan == other.plan
    }
}

impl fmt::Debug for DrawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DrawKey")
            .field("seed", &self.seed)
            .field("plan", &self.plan)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------- input

/// A sampling plan as configured or posted, before checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamplingPlanInput {
    /// The plan's name, a code (`harassment-weekly`).
    pub name: String,
    /// The seed: the same seed and decisions give the same sample.
    pub seed: u64,
    /// The rate in (0, 1] for decisions no rate rule names.
    pub rate: f64,
    /// Queues covered; empty: all.
    pub queues: Vec<String>,
    /// Categories (taxonomy codes) covered; empty: all.
    pub categories: Vec<String>,
    /// Severities covered; empty: all.
    pub severities: Vec<String>,
    /// Reviewers (deciders, by user name) covered; empty: all.
    pub reviewers: Vec<String>,
    /// Rates for parts of the scope, tried in order.
    pub rates: Vec<RateRuleInput>,
    /// Severities whose every decision is sampled.
    pub all_severities: Vec<String>,
    /// Every decision of a reviewer in their first N days is sampled.
    pub new_reviewer_days: Option<u32>,
    /// Decisions sampled per reviewer in a window, at least.
    pub minimum_per_reviewer: u32,
    /// Decisions sampled per category in a window, at least.
    pub minimum_per_category: u32,
    /// Decisions sampled by rate in a window, at most.
    pub weekly_cap: Option<u32>,
}

/// A rate for part of a plan's scope, before checking: the fields given
/// must all match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateRuleInput {
    /// A queue.
    pub queue: Option<String>,
    /// A category.
    pub category: Option<String>,
    /// A severity.
    pub severity: Option<String>,
    /// A reviewer.
    pub reviewer: Option<String>,
    /// The rate in (0, 1].
    pub rate: f64,
}

// ---------------------------------------------------------------- the plan

/// A checked sampling plan (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingPlan {
    name: String,
    seed: u64,
    key: DrawKey,
    rate: Rate,
    scope: Selector,
    rate_rules: Vec<RateRule>,
    all_severities: Vec<Severity>,
    new_reviewer_days: Option<u32>,
    minimum_per_reviewer: u32,
    minimum_per_category: u32,
    weekly_cap: Option<u32>,
}

/// Which decisions a plan or rule covers: each list empty (any) or naming
/// the values it takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Selector {
    queues: Vec<String>,
    categories: Vec<String>,
    severities: Vec<Severity>,
    reviewers: Vec<String>,
}

/// A rate for part of a plan's scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateRule {
    selector: Selector,
    rate: Rate,
}

impl RateRule {
    /// The rule's rate.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// What the rule names, in words: `queue harassment, severity high`.
    pub fn describe(&self) -> String {
        self.selector.describe()
    }
}

/// What the sampler knows of one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplingFacts {
    /// The decision (its store id).
    pub decision_id: i64,
    /// The queue its case was in.
    pub queue: String,
    /// The decision's category (taxonomy code).
    pub category: String,
    /// The case's severity.
    pub severity: Severity,
    /// The decider's user name.
    pub decider: String,
    /// When the decider began deciding cases (their account's start).
    pub decider_started_at: Timestamp,
    /// When the decision was made.
    pub decided_at: Timestamp,
}

/// The part of a decision a plan's scope and rules look at.
#[derive(Debug, Clone, Copy)]
struct StratumKey<'a> {
    queue: &'a str,
    category: &'a str,
    severity: Severity,
    reviewer: &'a str,
}

impl SamplingFacts {
    fn key(&self) -> StratumKey<'_> {
        StratumKey {
            queue: &self.queue,
            category: &self.category,
            severity: self.severity,
            reviewer: &self.decider,
        }
    }
}

/// Which of a plan's lists left a decision out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeFilter {
    /// Its queue is not among the plan's queues.
    Queue,
    /// Its category is not among the plan's categories.
    Category,
    /// Its severity is not among the plan's severities.
    Severity,
    /// Its decider is not among the plan's reviewers.
    Reviewer,
}

impl ScopeFilter {
    /// The plan's field.
    pub fn field(self) -> &'static str {
        match self {
            ScopeFilter::Queue => "queues",
            ScopeFilter::Category => "categories",
            ScopeFilter::Severity => "severities",
            ScopeFilter::Reviewer => "reviewers",
        }
    }
}

/// Where a decision's rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RateSource {
    /// The plan's own rate.
    Plan,
    /// The rate rule at this position in the plan's `rates`.
    Rule(usize),
}

/// A stratum whose minimum a window pass meets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stratum {
    /// The decisions of one reviewer.
    Reviewer(String),
    /// The decisions of one category.
    Category(String),
}

impl fmt::Display for Stratum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stratum::Reviewer(name) => write!(f, "reviewer {name}"),
            Stratum::Category(code) => write!(f, "category {code}"),
        }
    }
}

/// Why a plan did or did not sample a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SampleReason {
    /// Outside the plan's scope.
    OutOfScope {
        /// The list that left it out.
        filter: ScopeFilter,
    },
    /// Every decision of this severity is sampled.
    AllForSeverity {
        /// The severity.
        severity: Severity,
    },
    /// Every decision of a reviewer in their first days is sampled.
    AllForNewReviewer {
        /// The plan's number of days.
        days: u32,
    },
    /// Compared with its stratum's rate: sampled when the draw is below.
    Rate {
        /// The rate.
        rate: Rate,
        /// Where the rate came from.
        source: RateSource,
        /// The decision's draw.
        draw: Draw,
    },
    /// Drawn under the rate, but the plan's weekly cap was reached.
    WeeklyCapReached {
        /// The cap.
        cap: u32,
    },
    /// Added by a window pass to meet a stratum's minimum.
    StratumMinimum {
        /// The stratum.
        stratum: Stratum,
        /// The decision's draw: the lowest not yet sampled.
        draw: Draw,
    },
}

impl SampleReason {
    /// The reason in words, for the QA queue and the audit log.
    pub fn describe(&self) -> String {
        match self {
            SampleReason::OutOfScope { filter } => {
                format!("outside the plan's {}", filter.field())
            }
            SampleReason::AllForSeverity { severity } => {
                format!("every {severity} decision is sampled")
            }
            SampleReason::AllForNewReviewer { days } => {
                format!("every decision of a reviewer in their first {days} days is sampled")
            }
            SampleReason::Rate { rate, source, draw } => {
                let relation = if draw.is_below(*rate) {
                    "below"
                } else {
                    "not below"
                };
                let source = match source {
                    RateSource::Plan => "the plan's rate".to_string(),
                    RateSource::Rule(index) => format!("rates[{index}]"),
                };
                format!(
                    "draw {:.6} is {relation} {rate} ({source})",
                    draw.as_fraction()
                )
            }
            SampleReason::WeeklyCapReached { cap } => {
                format!("drawn, but the plan's weekly cap of {cap} decisions is reached")
            }
            SampleReason::StratumMinimum { stratum, draw } => format!(
                "added to meet the minimum of {stratum} (draw {:.6}, the lowest left)",
                draw.as_fraction()
            ),
        }
    }
}

/// One plan's answer for one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleVerdict {
    /// Whether the plan samples the decision.
    pub sampled: bool,
    /// Why.
    pub reason: SampleReason,
}

impl SamplingPlan {
    /// Checks `input`, reporting every field at fault (field names as in the
    /// input: `rate`, `rates[1].severity`, `all_severities[0]`, ...).
    pub fn parse(input: &SamplingPlanInput) -> Result<SamplingPlan, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take("name", parse_code(&input.name));
        let rate = errors.take("rate", Rate::from_fraction(input.rate));
        let scope = Selector {
            queues: parse_list(&mut errors, "queues", &input.queues, parse_code),
            categories: parse_list(&mut errors, "categories", &input.categories, parse_code),
            severities: parse_list(&mut errors, "severities", &input.severities, parse_severity),
            reviewers: parse_list(&mut errors, "reviewers", &input.reviewers, parse_reviewer),
        };
        let rate_rules = parse_rate_rules(&mut errors, &input.rates, &scope);
        let all_severities = parse_list(
            &mut errors,
            "all_severities",
            &input.all_severities,
            parse_severity,
        );
        for (index, severity) in all_severities.iter().enumerate() {
            if !scope.severities.is_empty() && !scope.severities.contains(severity) {
                errors.push(
                    format!("all_severities[{index}]"),
                    format!("{severity} is outside the plan's severities"),
                );
            }
        }
        if let Some(days) = input.new_reviewer_days {
            if !(1..=QA_NEW_REVIEWER_DAYS_MAX).contains(&days) {
                errors.push(
                    "new_reviewer_days",
                    format!("must be 1 to {QA_NEW_REVIEWER_DAYS_MAX} days, got {days}"),
                );
            }
        }
        for (field, minimum) in [
            ("minimum_per_reviewer", input.minimum_per_reviewer),
            ("minimum_per_category", input.minimum_per_category),
        ] {
            if minimum > QA_STRATUM_MINIMUM_MAX {
                errors.push(
                    field,
                    format!("must be at most {QA_STRATUM_MINIMUM_MAX}, got {minimum}"),
                );
            }
        }
        if let Some(cap) = input.weekly_cap {
            if !(1..=QA_WEEKLY_CAP_MAX).contains(&cap) {
                errors.push(
                    "weekly_cap",
                    format!("must be 1 to {QA_WEEKLY_CAP_MAX}, got {cap}; leave it out for no cap"),
                );
            }
        }
        match (name, rate) {
            (Some(name), Some(rate)) if errors.is_empty() => Ok(SamplingPlan {
                key: DrawKey::new(input.seed, &name),
                name,
                seed: input.seed,
                rate,
                scope,
                rate_rules,
                all_severities,
                new_reviewer_days: input.new_reviewer_days,
                minimum_per_reviewer: input.minimum_per_reviewer,
                minimum_per_category: input.minimum_per_category,
                weekly_cap: input.weekly_cap,
            }),
            _ => Err(errors),
        }
    }

    /// The plan's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The rate for decisions no rule names.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// The rate rules, in the order they are tried.
    pub fn rate_rules(&self) -> &[RateRule] {
        &self.rate_rules
    }

    /// Severities whose every decision is sampled.
    pub fn all_severities(&self) -> &[Severity] {
        &self.all_severities
    }

    /// Every decision of a reviewer in their first this many days is sampled.
    pub fn new_reviewer_days(&self) -> Option<u32> {
        self.new_reviewer_days
    }

    /// Decisions sampled per reviewer in a window, at least.
    pub fn minimum_per_reviewer(&self) -> u32 {
        self.minimum_per_reviewer
    }

    /// Decisions sampled per category in a window, at least.
    pub fn minimum_per_category(&self) -> u32 {
        self.minimum_per_category
    }

    /// Decisions sampled by rate in a window, at most.
    pub fn weekly_cap(&self) -> Option<u32> {
        self.weekly_cap
    }

    /// The plan's scope in words.
    pub fn describe_scope(&self) -> String {
        self.scope.describe()
    }

    /// Whether the plan covers `facts`, and if not which list left it out.
    pub fn covers(&self, facts: &SamplingFacts) -> Result<(), ScopeFilter> {
        self.scope.admits(&facts.key())
    }

    /// The decision-time verdict for `facts`, given how many decisions this
    /// plan has sampled by rate in the current window so far (`0` for a
    /// plan without a cap). Pure: the same arguments give the same answer.
    pub fn samples(&self, facts: &SamplingFacts, rate_sampled_in_window: u32) -> SampleVerdict {
        if let Err(filter) = self.covers(facts) {
            return not_sampled(SampleReason::OutOfScope { filter });
        }
        if self.all_severities.contains(&facts.severity) {
            return sampled(SampleReason::AllForSeverity {
                severity: facts.severity,
            });
        }
        if let Some(days) = self.new_reviewer_days {
            if is_new_reviewer(facts.decider_started_at, facts.decided_at, days) {
                return sampled(SampleReason::AllForNewReviewer { days });
            }
        }
        let (rate, source) = self.rate_for(&facts.key());
        let draw = self.draw(facts.decision_id);
        if !draw.is_below(rate) {
            return not_sampled(SampleReason::Rate { rate, source, draw });
        }
        match self.weekly_cap {
            Some(cap) if rate_sampled_in_window >= cap => {
                not_sampled(SampleReason::WeeklyCapReached { cap })
            }
            _ => sampled(SampleReason::Rate { rate, source, draw }),
        }
    }

    /// The decision's draw in this plan.
    pub fn draw(&self, decision_id: i64) -> Draw {
        self.key.draw(decision_id)
    }

    fn rate_for(&self, key: &StratumKey<'_>) -> (Rate, RateSource) {
        self.rate_rules
            .iter()
            .position(|rule| rule.selector.admits(key).is_ok())
            .map_or((self.rate, RateSource::Plan), |index| {
                (self.rate_rules[index].rate, RateSource::Rule(index))
            })
    }
}

fn sampled(reason: SampleReason) -> SampleVerdict {
    SampleVerdict {
        sampled: true,
        reason,
    }
}

fn not_sampled(reason: SampleReason) -> SampleVerdict {
    SampleVerdict {
        sampled: false,
        reason,
    }
}

/// Whether a decision at `decided_at` falls in the first `days` days of a
/// reviewer who started at `started_at` (a decision dated before the start
/// counts as new).
fn is_new_reviewer(started_at: Timestamp, decided_at: Timestamp, days: u32) -> bool {
    decided_at < started_at + Duration::days(i64::from(days))
}

impl Selector {
    fn admits(&self, key: &StratumKey<'_>) -> Result<(), ScopeFilter> {
        fn takes<T: PartialEq<U>, U: ?Sized>(list: &[T], value: &U) -> bool {
            list.is_empty() || list.iter().any(|entry| entry == value)
        }
        if !takes(&self.queues, key.queue) {
            return Err(ScopeFilter::Queue);
        }
        if !takes(&self.categories, key.category) {
            return Err(ScopeFilter::Category);
        }
        if !takes(&self.severities, &key.severity) {
            return Err(ScopeFilter::Severity);
        }
        if !takes(&self.reviewers, key.reviewer) {
            return Err(ScopeFilter::Reviewer);
        }
        Ok(())
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (field, values) in [
            ("queue", self.queues.clone()),
            ("category", self.categories.clone()),
            (
                "severity",
                self.severities.iter().map(|s| s.to_string()).collect(),
            ),
            ("reviewer", self.reviewers.clone()),
        ] {
            if !values.is_empty() {
                parts.push(format!("{field} {}", values.join(" or ")));
            }
        }
        if parts.is_empty() {
            "every decision".to_string()
        } else {
            parts.join(", ")
        }
    }
}

fn parse_severity(value: &str) -> Result<Severity, String> {
    value.parse()
}

fn parse_reviewer(value: &str) -> Result<String, String> {
    UserName::parse(value).map(|name| name.as_str().to_string())
}

/// Checks a list: at most [`QA_PLAN_LIST_ENTRIES_MAX`] entries, each valid
/// and none twice.
fn parse_list<T: PartialEq>(
    errors: &mut FieldErrors,
    field: &str,
    values: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    if values.len() > QA_PLAN_LIST_ENTRIES_MAX {
        errors.push(
            field,
            format!(
                "has {} entries; at most {QA_PLAN_LIST_ENTRIES_MAX} are allowed",
                values.len()
            ),
        );
        return Vec::new();
    }
    let mut parsed: Vec<T> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        match parse(value) {
            Ok(item) if parsed.contains(&item) => errors.push(
                format!("{field}[{index}]"),
                format!("{value:?} is listed twice"),
            ),
            Ok(item) => parsed.push(item),
            Err(reason) => errors.push(format!("{field}[{index}]"), reason),
        }
    }
    parsed
}

fn parse_rate_rules(
    errors: &mut FieldErrors,
    inputs: &[RateRuleInput],
    scope: &Selector,
) -> Vec<RateRule> {
    if inputs.len() > QA_PLAN_RATE_RULES_MAX {
        errors.push(
            "rates",
            format!(
                "has {} rules; at most {QA_PLAN_RATE_RULES_MAX} are allowed",
                inputs.len()
            ),
        );
        return Vec::new();
    }
    inputs
        .iter()
        .enumerate()
        .filter_map(|(index, input)| parse_rate_rule(errors, index, input, scope))
        .collect()
}

/// Checks `rates[index]`: its named fields, its rate, that it names
/// something, and that what it names is inside the plan's scope.
fn parse_rate_rule(
    errors: &mut FieldErrors,
    index: usize,
    input: &RateRuleInput,
    scope: &Selector,
) -> Option<RateRule> {
    let field = |name: &str| format!("rates[{index}].{name}");
    let mut one =
        |name: &str, value: &Option<String>, parse: fn(&str) -> Result<String, String>| {
            value
                .as_deref()
                .and_then(|value| errors.take(&field(name), parse(value)))
        };
    let queue = one("queue", &input.queue, parse_code);
    let category = one("category", &input.category, parse_code);
    let reviewer = one("reviewer", &input.reviewer, parse_reviewer);
    let severity = input
        .severity
        .as_deref()
        .and_then(|value| errors.take(&field("severity"), parse_severity(value)));
    let rate = errors.take(&field("rate"), Rate::from_fraction(input.rate));
    let named = [
        &input.queue,
        &input.category,
        &input.severity,
        &input.reviewer,
    ];
    if named.iter().all(|value| value.is_none()) {
        errors.push(
            format!("rates[{index}]"),
            "names no queue, category, severity or reviewer; set the plan's rate instead",
        );
    }
    let selector = Selector {
        queues: queue.into_iter().collect(),
        categories: category.into_iter().collect(),
        severities: severity.into_iter().collect(),
        reviewers: reviewer.into_iter().collect(),
    };
    let outside = [
        ("queue", all_within(&selector.queues, &scope.queues)),
        (
            "category",
            all_within(&selector.categories, &scope.categories),
        ),
        (
            "severity",
            all_within(&selector.severities, &scope.severities),
        ),
        (
            "reviewer",
            all_within(&selector.reviewers, &scope.reviewers),
        ),
    ];
    for (name, within) in outside {
        if !within {
            errors.push(
                field(name),
                format!("is outside the plan's {name} list, so the rule would never apply"),
            );
        }
    }
    rate.map(|rate| RateRule { selector, rate })
}

/// Whether every entry of `narrow` is admitted by `wide` (empty: any).
fn all_within<T: PartialEq>(narrow: &[T], wide: &[T]) -> bool {
    wide.is_empty() || narrow.iter().all(|entry| wide.contains(entry))
}

// ---------------------------------------------------------------- window pass

/// One decision a window pass samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowPick {
    /// The decision.
    pub decision_id: i64,
    /// Why it was sampled.
    pub reason: SampleReason,
}

/// How one stratum of a window fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratumTally {
    /// The stratum.
    pub stratum: Stratum,
    /// Its decisions in the plan's scope.
    pub decisions: u32,
    /// Of those, sampled (top-ups included).
    pub sampled: u32,
    /// The plan's minimum for it.
    pub minimum: u32,
}

impl StratumTally {
    /// Whether the minimum is met: that many sampled, or every decision
    /// when the stratum has fewer.
    pub fn is_met(&self) -> bool {
        self.sampled >= self.minimum.min(self.decisions)
    }
}

/// A window's sample under one plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSample {
    /// Sampled decisions, by decision id.
    pub picks: Vec<WindowPick>,
    /// Every reviewer's and category's tally in the plan's scope, reviewers
    /// first, each by name.
    pub strata: Vec<StratumTally>,
}

impl SamplingPlan {
    /// The sample of a closed window's decisions: the decision-time verdicts
    /// replayed in decision order (time, then id) with the cap counted, then
    /// top-ups to each reviewer's and category's minimum by lowest draw (see
    /// the module documentation). Independent of the order of `decisions`.
    /// A decision id given twice, or more than [`QA_WINDOW_DECISIONS_MAX`]
    /// decisions, is refused.
    pub fn sample_window(&self, decisions: &[SamplingFacts]) -> Result<WindowSample, FieldErrors> {
        check_window(decisions)?;
        let mut order: Vec<usize> = (0..decisions.len())
            .filter(|&index| self.covers(&decisions[index]).is_ok())
            .collect();
        order.sort_unstable_by_key(|&index| {
            (decisions[index].decided_at, decisions[index].decision_id)
        });
        let mut picked: BTreeMap<usize, SampleReason> = BTreeMap::new();
        let mut rate_sampled = 0u32;
        for &index in &order {
            let verdict = self.samples(&decisions[index], rate_sampled);
            if verdict.sampled {
                if matches!(verdict.reason, SampleReason::Rate { .. }) {
                    rate_sampled += 1;
                }
                picked.insert(index, verdict.reason);
            }
        }
        let by_reviewer = group(&order, |index| {
            Stratum::Reviewer(decisions[index].decider.clone())
        });
        let by_category = group(&order, |index| {
            Stratum::Category(decisions[index].category.clone())
        });
        let minimums = [
            (&by_reviewer, self.minimum_per_reviewer),
            (&by_category, self.minimum_per_category),
        ];
        for (groups, minimum) in minimums {
            for (stratum, members) in groups {
                self.top_up(decisions, stratum, members, minimum, &mut picked);
            }
        }
        // Tallied after every top-up: a category's top-up may add to a
        // reviewer's count.
        let strata = minimums
            .into_iter()
            .flat_map(|(groups, minimum)| {
                groups
                    .iter()
                    .map(move |(stratum, members)| (stratum, members, minimum))
            })
            .map(|(stratum, members, minimum)| StratumTally {
                stratum: stratum.clone(),
                // Both counts are at most QA_WINDOW_DECISIONS_MAX, below u32::MAX.
                decisions: members.len() as u32,
                sampled: members
                    .iter()
                    .filter(|index| picked.contains_key(index))
                    .count() as u32,
                minimum,
            })
            .collect();
        let mut picks: Vec<WindowPick> = picked
            .into_iter()
            .map(|(index, reason)| WindowPick {
                decision_id: decisions[index].decision_id,
                reason,
            })
            .collect();
        picks.sort_unstable_by_key(|pick| pick.decision_id);
        Ok(WindowSample { picks, strata })
    }

    /// Adds the stratum's unsampled decisions with the lowest draws until
    /// `minimum` of its decisions are sampled.
    fn top_up(
        &self,
        decisions: &[SamplingFacts],
        stratum: &Stratum,
        members: &[usize],
        minimum: u32,
        picked: &mut BTreeMap<usize, SampleReason>,
    ) {
        let sampled = members
            .iter()
            .filter(|index| picked.contains_key(index))
            .count();
        let wanted = minimum as usize;
        if sampled >= wanted {
            return;
        }
        let mut rest: Vec<(Draw, i64, usize)> = members
            .iter()
            .filter(|index| !picked.contains_key(index))
            .map(|&index| {
                let id = decisions[index].decision_id;
                (self.draw(id), id, index)
            })
            .collect();
        rest.sort_unstable();
        for (draw, _, index) in rest.into_iter().take(wanted - sampled) {
            let stratum = stratum.clone();
            picked.insert(index, SampleReason::StratumMinimum { stratum, draw });
        }
    }
}

fn check_window(decisions: &[SamplingFacts]) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    if decisions.len() > QA_WINDOW_DECISIONS_MAX {
        errors.push(
            "decisions",
            format!(
                "has {} decisions; at most {QA_WINDOW_DECISIONS_MAX} are allowed in one window",
                decisions.len()
            ),
        );
        return Err(errors);
    }
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    for (index, facts) in decisions.iter().enumerate() {
        if let Some(first) = seen.insert(facts.decision_id, index) {
            errors.push(
                format!("decisions[{index}].decision_id"),
                format!(
                    "decision {} is given twice (first at decisions[{first}])",
                    facts.decision_id
                ),
            );
            // Keep the first position for later repeats.
            seen.insert(facts.decision_id, first);
        }
    }
    errors.finish(|| ())
}

/// Positions grouped by stratum, strata by name.
fn group(order: &[usize], stratum: impl Fn(usize) -> Stratum) -> BTreeMap<Stratum, Vec<usize>> {
    let mut groups: BTreeMap<Stratum, Vec<usize>> = BTreeMap::new();
    for &index in order {
        groups.entry(stratum(index)).or_default().push(index);
    }
    groups
}

// ---------------------------------------------------------------- several plans

/// Every plan in force, with unique names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamplingPlans {
    plans: Vec<SamplingPlan>,
}

/// A plan that chose a decision, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanChoice {
    /// The plan's name.
    pub plan: String,
    /// Why it chose the decision.
    pub reason: SampleReason,
}

/// Every plan's answer for one decision: sampled once, tagged with each
/// plan that chose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CombinedVerdict {
    /// The plans that chose it, in plan order; empty: not sampled.
    pub chosen_by: Vec<PlanChoice>,
}

impl CombinedVerdict {
    /// Whether any plan chose the decision.
    pub fn sampled(&self) -> bool {
        !self.chosen_by.is_empty()
    }
}

/// A decision sampled in a window by one or more plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CombinedPick {
    /// The decision.
    pub decision_id: i64,
    /// Every plan that chose it, in plan order.
    pub chosen_by: Vec<PlanChoice>,
}

impl SamplingPlans {
    /// Checks every plan (errors under `plans[i].`), at most
    /// [`QA_PLANS_MAX`], names unique.
    pub fn parse(inputs: &[SamplingPlanInput]) -> Result<SamplingPlans, FieldErrors> {
        let mut errors = FieldErrors::default();
        if inputs.len() > QA_PLANS_MAX {
            errors.push(
                "plans",
                format!(
                    "has {} plans; at most {QA_PLANS_MAX} are allowed",
                    inputs.len()
                ),
            );
            return Err(errors);
        }
        let mut plans = Vec::with_capacity(inputs.len());
        let mut names = BTreeSet::new();
        for (index, input) in inputs.iter().enumerate() {
            match SamplingPlan::parse(input) {
                Ok(plan) => {
                    if !names.insert(plan.name.clone()) {
                        errors.push(
                            format!("plans[{index}].name"),
                            format!("plan {:?} is defined twice", plan.name),
                        );
                    }
                    plans.push(plan);
                }
                Err(plan_errors) => {
                    for error in plan_errors.0 {
                        errors.0.push(error.under(&format!("plans[{index}]")));
                    }
                }
            }
        }
        errors.finish(|| SamplingPlans { plans })
    }

    /// Checks that every queue and category the plans name exists: the
    /// queues configured and the taxonomy in force (errors under
    /// `plans[i].`). Reviewers are users, checked where users are.
    pub fn check_names(&self, taxonomy: &Taxonomy, queues: &[&str]) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        for (index, plan) in self.plans.iter().enumerate() {
            let selectors = std::iter::once((String::new(), &plan.scope)).chain(
                plan.rate_rules
                    .iter()
                    .enumerate()
                    .map(|(rule, r)| (format!("rates[{rule}]."), &r.selector)),
            );
            for (prefix, selector) in selectors {
                let plural = prefix.is_empty();
                for (position, queue) in selector.queues.iter().enumerate() {
                    if !queues.contains(&queue.as_str()) {
                        let field = if plural {
                            format!("queues[{position}]")
                        } else {
                            format!("{prefix}queue")
                        };
                        errors.push(
                            format!("plans[{index}].{field}"),
                            format!("no queue is named {queue:?}"),
                        );
                    }
                }
                for (position, code) in selector.categories.iter().enumerate() {
                    if let Err(reason) = taxonomy.parse_code(code) {
                        let field = if plural {
                            format!("categories[{position}]")
                        } else {
                            format!("{prefix}category")
                        };
                        errors.push(format!("plans[{index}].{field}"), reason);
                    }
                }
            }
        }
        errors.finish(|| ())
    }

    /// The plans, in the order given.
    pub fn plans(&self) -> &[SamplingPlan] {
        &self.plans
    }

    /// The plan named `name`.
    pub fn plan(&self, name: &str) -> Option<&SamplingPlan> {
        self.plans.iter().find(|plan| plan.name == name)
    }

    /// Asks every plan; `rate_sampled_in_window` gives, for a plan's name,
    /// how many decisions it has sampled by rate in the current window.
    pub fn samples(
        &self,
        facts: &SamplingFacts,
        rate_sampled_in_window: impl Fn(&str) -> u32,
    ) -> CombinedVerdict {
        let chosen_by = self
            .plans
            .iter()
            .filter_map(|plan| {
                let verdict = plan.samples(facts, rate_sampled_in_window(&plan.name));
                verdict.sampled.then(|| PlanChoice {
                    plan: plan.name.clone(),
                    reason: verdict.reason,
                })
            })
            .collect();
        CombinedVerdict { chosen_by }
    }

    /// Every plan's window pass, merged: each sampled decision once, by
    /// decision id, tagged with every plan that chose it.
    pub fn sample_window(
        &self,
        decisions: &[SamplingFacts],
    ) -> Result<(Vec<CombinedPick>, Vec<WindowSample>), FieldErrors> {
        check_window(decisions)?;
        let mut merged: BTreeMap<i64, Vec<PlanChoice>> = BTreeMap::new();
        let mut samples = Vec::with_capacity(self.plans.len());
        for plan in &self.plans {
            let sample = plan.sample_window(decisions)?;
            for pick in &sample.picks {
                merged
                    .entry(pick.decision_id)
                    .or_default()
                    .push(PlanChoice {
                        plan: plan.name.clone(),
                        reason: pick.reason.clone(),
                    });
            }
            samples.push(sample);
        }
        let picks = merged
            .into_iter()
            .map(|(decision_id, chosen_by)| CombinedPick {
                decision_id,
                chosen_by,
            })
            .collect();
        Ok((picks, samples))
    }
}

// ---------------------------------------------------------------- expected load

/// Expected decisions a week in one stratum, before checking.
#[derive(Debug, Clone, PartialEq)]
pub struct StratumVolume {
    /// The queue.
    pub queue: String,
    /// The category.
    pub category: String,
    /// The severity.
    pub severity: Severity,
    /// The reviewer (decider).
    pub reviewer: String,
    /// When the reviewer began deciding cases.
    pub reviewer_started_at: Timestamp,
    /// Decisions expected in the week.
    pub decisions: f64,
}

/// Expected decisions per stratum in the week starting at `week_starts_at`
/// (checked: at most [`QA_VOLUME_STRATA_MAX`] strata, each once, volumes
/// finite and between 0 and [`QA_VOLUME_DECISIONS_MAX`]).
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeByStratum {
    week_starts_at: Timestamp,
    strata: Vec<StratumVolume>,
}

impl VolumeByStratum {
    /// Checks the estimate.
    pub fn new(
        week_starts_at: Timestamp,
        strata: Vec<StratumVolume>,
    ) -> Result<VolumeByStratum, FieldErrors> {
        let mut errors = FieldErrors::default();
        if strata.len() > QA_VOLUME_STRATA_MAX {
            errors.push(
                "strata",
                format!(
                    "has {} strata; at most {QA_VOLUME_STRATA_MAX} are allowed",
                    strata.len()
                ),
            );
            return Err(errors);
        }
        let mut seen = BTreeMap::new();
        for (index, stratum) in strata.iter().enumerate() {
            let decisions = stratum.decisions;
            if !decisions.is_finite() || !(0.0..=QA_VOLUME_DECISIONS_MAX).contains(&decisions) {
                errors.push(
                    format!("strata[{index}].decisions"),
                    format!("must be between 0 and {QA_VOLUME_DECISIONS_MAX}, got {decisions}"),
                );
            }
            let key = (
                stratum.queue.as_str(),
                stratum.category.as_str(),
                stratum.severity,
                stratum.reviewer.as_str(),
            );
            if let Some(first) = seen.insert(key, index) {
                errors.push(
                    format!("strata[{index}]"),
                    format!("repeats the stratum of strata[{first}]"),
                );
            }
        }
        drop(seen);
        errors.finish(|| VolumeByStratum {
            week_starts_at,
            strata,
        })
    }

    /// Expected decisions in the week, over every stratum.
    pub fn total(&self) -> f64 {
        // A fold from +0.0: an empty `sum` of floats is -0.0, which the
        // arithmetic would print.
        self.strata.iter().fold(0.0, |total, s| total + s.decisions)
    }
}

impl StratumVolume {
    fn key(&self) -> StratumKey<'_> {
        StratumKey {
            queue: &self.queue,
            category: &self.category,
            severity: self.severity,
            reviewer: &self.reviewer,
        }
    }
}

/// A plan's expected load in a week, in parts, with the arithmetic.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyLoad {
    /// Expected decisions in the plan's scope.
    pub in_scope: f64,
    /// Sampled by `all` rules.
    pub by_all_rules: f64,
    /// Drawn under a rate, before the cap.
    pub by_rate: f64,
    /// Sampled by rate, after the cap.
    pub by_rate_capped: f64,
    /// Top-ups to the per-reviewer and per-category minimums (estimate).
    pub by_minimums: f64,
    /// `by_all_rules + by_rate_capped + by_minimums`.
    pub total: f64,
    /// The arithmetic, a line per step.
    pub arithmetic: Vec<String>,
}

/// Expected sampling of one volume entry under one plan.
struct EntryLoad {
    /// Share of the entry's decisions an `all` rule takes.
    all_share: f64,
    /// The rate for the rest, if the entry is in scope.
    rate: Option<(Rate, RateSource)>,
}

impl SamplingPlan {
    /// The expected decisions sampled in the estimate's week, with the
    /// arithmetic written out (see the module documentation).
    pub fn expected_weekly_load(&self, volume: &VolumeByStratum) -> WeeklyLoad {
        let entries: Vec<Option<EntryLoad>> = volume
            .strata
            .iter()
            .map(|stratum| self.entry_load(stratum, volume.week_starts_at))
            .collect();
        let mut lines = LoadLines::default();
        let mut in_scope = 0.0;
        let mut by_all_rules = 0.0;
        let mut by_rate_source: BTreeMap<RateSource, (Rate, f64)> = BTreeMap::new();
        for (stratum, entry) in volume.strata.iter().zip(&entries) {
            let Some(entry) = entry else { continue };
            in_scope += stratum.decisions;
            by_all_rules += stratum.decisions * entry.all_share;
            if let Some((rate, source)) = entry.rate {
                by_rate_source.entry(source).or_insert((rate, 0.0)).1 +=
                    stratum.decisions * (1.0 - entry.all_share);
            }
        }
        lines.step(format!(
            "in scope ({}): {} of {} decisions a week",
            self.describe_scope(),
            number(in_scope),
            number(volume.total())
        ));
        if by_all_rules > 0.0 {
            lines.step(format!(
                "every decision by `all` rules: {}",
                number(by_all_rules)
            ));
        }
        let by_rate = self.expected_by_rate(&by_rate_source, &mut lines);
        let by_rate_capped = self.capped(by_rate, &mut lines);
        let rate_scale = if by_rate > 0.0 {
            by_rate_capped / by_rate
        } else {
            1.0
        };
        let cells = Cells::of(volume, &entries, rate_scale);
        let by_minimums = self.expected_top_ups(&cells, &mut lines);
        let total = by_all_rules + by_rate_capped + by_minimums;
        lines.step(format!(
            "expected weekly load: {} + {} + {} = {} decisions",
            number(by_all_rules),
            number(by_rate_capped),
            number(by_minimums),
            number(total)
        ));
        WeeklyLoad {
            in_scope,
            by_all_rules,
            by_rate,
            by_rate_capped,
            by_minimums,
            total,
            arithmetic: lines.lines,
        }
    }

    /// Decisions drawn under each rate, a line per rate.
    fn expected_by_rate(
        &self,
        by_rate_source: &BTreeMap<RateSource, (Rate, f64)>,
        lines: &mut LoadLines,
    ) -> f64 {
        let mut by_rate = 0.0;
        for (source, (rate, decisions)) in by_rate_source {
            let expected = decisions * rate.as_fraction();
            by_rate += expected;
            let source = match source {
                RateSource::Plan => "the plan's rate".to_string(),
                RateSource::Rule(index) => {
                    format!("rates[{index}]: {}", self.rate_rules[*index].describe())
                }
            };
            lines.step(format!(
                "{rate} ({source}) × {} decisions = {}",
                number(*decisions),
                number(expected)
            ));
        }
        by_rate
    }

    /// The rate-sampled decisions under the weekly cap.
    fn capped(&self, by_rate: f64, lines: &mut LoadLines) -> f64 {
        match self.weekly_cap {
            Some(cap) if by_rate > f64::from(cap) => {
                lines.step(format!(
                    "weekly cap {cap} on rate-sampled decisions: {} → {cap}",
                    number(by_rate)
                ));
                f64::from(cap)
            }
            Some(cap) => {
                lines.step(format!("under the weekly cap of {cap}"));
                by_rate
            }
            None => by_rate,
        }
    }

    /// How the plan samples one volume entry; `None` out of scope.
    fn entry_load(&self, stratum: &StratumVolume, week_starts_at: Timestamp) -> Option<EntryLoad> {
        self.scope.admits(&stratum.key()).ok()?;
        if self.all_severities.contains(&stratum.severity) {
            return Some(EntryLoad {
                all_share: 1.0,
                rate: None,
            });
        }
        let all_share = self.new_reviewer_days.map_or(0.0, |days| {
            let new_until = stratum.reviewer_started_at + Duration::days(i64::from(days));
            let week = Duration::days(7).num_milliseconds() as f64;
            let new_part = (new_until - week_starts_at).num_milliseconds() as f64;
            (new_part / week).clamp(0.0, 1.0)
        });
        Some(EntryLoad {
            all_share,
            rate: Some(self.rate_for(&stratum.key())),
        })
    }

    /// Expected top-ups to the minimums: reviewers first, their top-ups
    /// spread over their categories by decisions not sampled there, then
    /// categories.
    fn expected_top_ups(&self, cells: &Cells<'_>, lines: &mut LoadLines) -> f64 {
        if self.minimum_per_reviewer == 0 && self.minimum_per_category == 0 {
            return 0.0;
        }
        let no_extra = BTreeMap::new();
        let (by_reviewers, added_by_category) = cells.top_ups(
            StratumKind::Reviewer,
            self.minimum_per_reviewer,
            &no_extra,
            lines,
        );
        let (by_categories, _) = cells.top_ups(
            StratumKind::Category,
            self.minimum_per_category,
            &added_by_category,
            lines,
        );
        let total = by_reviewers + by_categories;
        lines.close_details();
        lines.step(format!("top-ups to the minimums: {}", number(total)));
        total
    }
}

/// The arithmetic of a load: every step, and at most
/// [`QA_LOAD_LINES_MAX`] lines of detail per stratum, the rest summed.
#[derive(Default)]
struct LoadLines {
    lines: Vec<String>,
    details: usize,
    unwritten: f64,
}

impl LoadLines {
    fn step(&mut self, line: String) {
        self.lines.push(line);
    }

    fn detail(&mut self, line: String, amount: f64) {
        if self.details < QA_LOAD_LINES_MAX {
            self.lines.push(line);
            self.details += 1;
        } else {
            self.unwritten += amount;
        }
    }

    fn close_details(&mut self) {
        if self.unwritten > 0.0 {
            let line = format!("other strata's minimums → +{}", number(self.unwritten));
            self.lines.push(line);
            self.unwritten = 0.0;
        }
    }
}

/// Reviewers or categories.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StratumKind {
    Reviewer,
    Category,
}

impl StratumKind {
    fn stratum(self, name: &str) -> Stratum {
        match self {
            StratumKind::Reviewer => Stratum::Reviewer(name.to_string()),
            StratumKind::Category => Stratum::Category(name.to_string()),
        }
    }
}

/// Expected decisions and expected sampled per (reviewer, category).
struct Cells<'a> {
    cells: BTreeMap<(&'a str, &'a str), (f64, f64)>,
}

impl<'a> Cells<'a> {
    fn of(volume: &'a VolumeByStratum, entries: &[Option<EntryLoad>], rate_scale: f64) -> Self {
        let mut cells: BTreeMap<(&str, &str), (f64, f64)> = BTreeMap::new();
        for (stratum, entry) in volume.strata.iter().zip(entries) {
            let Some(entry) = entry else { continue };
            let rate = entry
                .rate
                .map_or(0.0, |(rate, _)| rate.as_fraction() * rate_scale);
            let sampled = stratum.decisions * (entry.all_share + (1.0 - entry.all_share) * rate);
            let cell = cells
                .entry((stratum.reviewer.as_str(), stratum.category.as_str()))
                .or_insert((0.0, 0.0));
            cell.0 += stratum.decisions;
            cell.1 += sampled;
        }
        Cells { cells }
    }

    /// Top-ups of the strata `kind` makes (reviewers or categories) to
    /// `minimum`, counting `extra` already added to each; returns their sum
    /// and, for reviewer top-ups, how much of them falls in each category.
    fn top_ups(
        &self,
        kind: StratumKind,
        minimum: u32,
        extra: &BTreeMap<&'a str, f64>,
        lines: &mut LoadLines,
    ) -> (f64, BTreeMap<&'a str, f64>) {
        let by_reviewer = kind == StratumKind::Reviewer;
        let name = |key: &(&'a str, &'a str)| if by_reviewer { key.0 } else { key.1 };
        let mut sums: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for (key, &(decisions, sampled)) in &self.cells {
            let sum = sums.entry(name(key)).or_insert((0.0, 0.0));
            sum.0 += decisions;
            sum.1 += sampled;
        }
        let mut total = 0.0;
        let mut spread: BTreeMap<&str, f64> = BTreeMap::new();
        for (&stratum, &(decisions, sampled)) in &sums {
            let expected = sampled + extra.get(stratum).copied().unwrap_or(0.0);
            let top_up = (f64::from(minimum).min(decisions) - expected).max(0.0);
            if top_up <= 0.0 {
                continue;
            }
            total += top_up;
            lines.detail(
                format!(
                    "minimum {minimum} for {}: {} expected of {} decisions → +{}",
                    kind.stratum(stratum),
                    number(expected),
                    number(decisions),
                    number(top_up)
                ),
                top_up,
            );
            if by_reviewer {
                let unsampled = decisions - sampled;
                let cells = self.cells.range((stratum, "")..);
                for (&(_, category), &(cell_decisions, cell_sampled)) in
                    cells.take_while(|((reviewer, _), _)| *reviewer == stratum)
                {
                    *spread.entry(category).or_default() +=
                        top_up * (cell_decisions - cell_sampled) / unsampled;
                }
            }
        }
        (total, spread)
    }
}

/// The expected load of several plans: a decision sampled by two plans is
/// one review.
#[derive(Debug, Clone, PartialEq)]
pub struct CombinedWeeklyLoad {
    /// Each plan's load alone, in plan order.
    pub plans: Vec<(String, WeeklyLoad)>,
    /// Decisions sampled by any plan's `all` rule or rate, counting each once.
    pub by_any_plan: f64,
    /// Every plan's top-ups, summed (an overlap between plans' top-ups is
    /// not subtracted, so this errs high).
    pub by_minimums: f64,
    /// `by_any_plan + by_minimums`.
    pub total: f64,
    /// The arithmetic.
    pub arithmetic: Vec<String>,
}

impl SamplingPlans {
    /// The expected load of every plan together. Plans draw independently,
    /// so a stratum's decisions are sampled with probability
    /// 1 − Π(1 − pᵢ) over the plans covering it, pᵢ being 1 for an `all`
    /// rule and the rate (scaled down by the plan's cap) otherwise.
    pub fn expected_weekly_load(&self, volume: &VolumeByStratum) -> CombinedWeeklyLoad {
        let loads: Vec<(String, WeeklyLoad)> = self
            .plans
            .iter()
            .map(|plan| (plan.name.clone(), plan.expected_weekly_load(volume)))
            .collect();
        let mut by_any_plan = 0.0;
        for stratum in &volume.strata {
            let mut missed = 1.0;
            for (plan, (_, load)) in self.plans.iter().zip(&loads) {
                let Some(entry) = plan.entry_load(stratum, volume.week_starts_at) else {
                    continue;
                };
                let scale = if load.by_rate > 0.0 {
                    load.by_rate_capped / load.by_rate
                } else {
                    1.0
                };
                let rate = entry
                    .rate
                    .map_or(0.0, |(rate, _)| rate.as_fraction() * scale);
                missed *= 1.0 - (entry.all_share + (1.0 - entry.all_share) * rate);
            }
            by_any_plan += stratum.decisions * (1.0 - missed);
        }
        let by_minimums: f64 = loads.iter().map(|(_, load)| load.by_minimums).sum();
        let mut arithmetic: Vec<String> = loads
            .iter()
            .map(|(name, load)| format!("plan {name}: {} decisions alone", number(load.total)))
            .collect();
        arithmetic.push(format!(
            "sampled by any plan's `all` rules and rates, each decision once: {}",
            number(by_any_plan)
        ));
        arithmetic.push(format!("top-ups of every plan: {}", number(by_minimums)));
        let total = by_any_plan + by_minimums;
        arithmetic.push(format!(
            "expected weekly load: {} + {} = {} decisions",
            number(by_any_plan),
            number(by_minimums),
            number(total)
        ));
        CombinedWeeklyLoad {
            plans: loads,
            by_any_plan,
            by_minimums,
            total,
            arithmetic,
        }
    }
}

/// A count of decisions as the arithmetic shows it: one decimal.
fn number(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests;
