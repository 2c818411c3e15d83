//! The one pass over the facts, and every KPI's formula.
//!
//! [`compute`] checks the query, resolves its filters to indexes once, then
//! walks each list of facts once: a fact outside the window or the filters
//! is skipped; the others add to a [`Tally`] of counters for the totals and
//! to the tally of their group, found by arithmetic (days since `from`) or
//! by their dimension index — no hashing, no allocation per fact. Durations
//! for percentiles go to one vector per measure, tagged with their group,
//! and are ranked at the end (a counting sort by group, then a selection
//! per group). The formulas turn tallies into [`KpiValue`]s; they are
//! written out in `docs/metrics.md`, in the same order.

use chrono::{Datelike, Duration, NaiveDate};

use super::facts::{
    AppealOutcome, Attribution, CategoryIx, KpiFacts, NameIx, QueueIx, ReviewerIx, RuleIx, TeamIx,
};
use super::percentile::{nearest_rank, Percent, RankedValue};
use super::{Kpi, KpiSet, KpiValue};
use crate::case::Severity;
use crate::limits::{KPI_FACTS_PER_KIND_MAX, KPI_SEVERITY_WEIGHT_MAX, KPI_WINDOW_DAYS_MAX};
use crate::{FieldErrors, Timestamp};

/// How far after a no-violation decision a violation found on the same
/// subject and category counts as a false-negative indicator (the spec's
/// 30 days).
pub const FALSE_NEGATIVE_DAYS: i64 = 30;

/// The report's window `[from, to)`, checked: `from` before `to`, at most
/// [`KPI_WINDOW_DAYS_MAX`] days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KpiWindow {
    from: Timestamp,
    to: Timestamp,
}

impl KpiWindow {
    /// The window `[from, to)`, or errors naming `from` or `to`.
    pub fn new(from: Timestamp, to: Timestamp) -> Result<KpiWindow, FieldErrors> {
        let mut errors = FieldErrors::default();
        if from >= to {
            errors.push("to", "must be after `from`");
        } else if to - from > Duration::days(KPI_WINDOW_DAYS_MAX) {
            errors.push(
                "to",
                format!("the window is longer than {KPI_WINDOW_DAYS_MAX} days"),
            );
        }
        errors.finish(|| KpiWindow { from, to })
    }

    /// The first instant in the window.
    pub fn from(&self) -> Timestamp {
        self.from
    }

    /// The first instant after the window.
    pub fn to(&self) -> Timestamp {
        self.to
    }

    /// Whether `at` is in `[from, to)`.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }
}

/// Which facts count: by name, `None` for all. A name the fact set does
/// not know matches nothing (every KPI then measures nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KpiFilters {
    /// Only facts of this queue.
    pub queue: Option<String>,
    /// Only facts of this taxonomy category.
    pub category: Option<String>,
    /// Only facts attributed to this reviewer.
    pub reviewer: Option<String>,
    /// Only facts attributed to members of this team.
    pub team: Option<String>,
}

/// How a report's groups are formed, besides its totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// One group per UTC day of the window.
    Day,
    /// One group per ISO week (Monday to Sunday, UTC) of the window.
    Week,
    /// One group per reviewer with facts.
    Reviewer,
    /// One group per queue with facts.
    Queue,
    /// One group per category with facts.
    Category,
    /// One group per detection rule with hits (rule precision only).
    Rule,
}

impl GroupBy {
    /// Every grouping.
    pub const ALL: [GroupBy; 6] = [
        GroupBy::Day,
        GroupBy::Week,
        GroupBy::Reviewer,
        GroupBy::Queue,
        GroupBy::Category,
        GroupBy::Rule,
    ];

    /// The wire name (`by=`).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Reviewer => "reviewer",
            GroupBy::Queue => "queue",
            GroupBy::Category => "category",
            GroupBy::Rule => "rule",
        }
    }

    /// The grouping named `name`, or the reason it is refused.
    pub fn parse(name: &str) -> Result<GroupBy, String> {
        GroupBy::ALL
            .into_iter()
            .find(|by| by.as_str() == name)
            .ok_or_else(|| "must be one of day, week, reviewer, queue, category, rule".to_string())
    }
}

/// Everything a report asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiQuery {
    /// The window.
    pub window: KpiWindow,
    /// When the report is computed: later fates (corrections, reversals,
    /// QA rework, acknowledgements) count up to this instant, so that the
    /// same facts `as_of` the same instant always give the same report.
    pub as_of: Timestamp,
    /// Which facts count.
    pub filters: KpiFilters,
    /// The groups besides the totals, if any.
    pub group_by: Option<GroupBy>,
}

/// Points per resolved case by severity (`[kpi.weights]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeverityWeights {
    /// Indexed by `Severity::rank() - 1`.
    points: [u32; 4],
}

impl Default for SeverityWeights {
    /// The spec's defaults: low 1, medium 2, high 4, critical 8.
    fn default() -> Self {
        SeverityWeights {
            points: [1, 2, 4, 8],
        }
    }
}

impl SeverityWeights {
    /// Weights from configuration, each between 0 and
    /// [`KPI_SEVERITY_WEIGHT_MAX`]; errors name `kpi.weights.<severity>`.
    pub fn new(low: u32, medium: u32, high: u32, critical: u32) -> Result<Self, FieldErrors> {
        let points = [low, medium, high, critical];
        let mut errors = FieldErrors::default();
        for (severity, weight) in Severity::ALL.into_iter().zip(points) {
            if weight > KPI_SEVERITY_WEIGHT_MAX {
                errors.push(
                    format!("kpi.weights.{}", severity.as_str()),
                    format!("must be at most {KPI_SEVERITY_WEIGHT_MAX}"),
                );
            }
        }
        errors.finish(|| SeverityWeights { points })
    }

    /// The points of a case of `severity`.
    pub fn points(&self, severity: Severity) -> u32 {
        self.points[(severity.rank() - 1) as usize]
    }
}

/// Configuration of the formulas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KpiSettings {
    /// Weighted throughput's points per severity.
    pub weights: SeverityWeights,
}

/// The name of one group of a report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupKey {
    /// A UTC day.
    Day(NaiveDate),
    /// An ISO week, by its Monday.
    Week(NaiveDate),
    /// A reviewer's name.
    Reviewer(String),
    /// A queue's name.
    Queue(String),
    /// A category's code.
    Category(String),
    /// A rule's name.
    Rule(String),
}

impl GroupKey {
    /// The key as reports print it: `2026-12-01`, `2026-W49`, or the name.
    pub fn label(&self) -> String {
        match self {
            GroupKey::Day(day) => day.format("%Y-%m-%d").to_string(),
            GroupKey::Week(monday) => {
                let week = monday.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            GroupKey::Reviewer(name)
            | GroupKey::Queue(name)
            | GroupKey::Category(name)
            | GroupKey::Rule(name) => name.clone(),
        }
    }
}

/// One group of a report with its KPIs.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiGroup {
    /// Which group.
    pub key: GroupKey,
    /// Every KPI over the group's facts.
    pub kpis: KpiSet,
}

/// Facts left out because they contradict themselves; a store bug or
/// clock skew to look into when not zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkippedFacts {
    /// An end before its start (a decision before its claim, an
    /// acknowledgement before the escalation, ...): the duration is left
    /// out of its percentile or sum.
    pub times_out_of_order: u64,
    /// A value outside its range (a documentation score outside 1–5, an
    /// agreement outside 0–1 or not a number): the value is left out.
    pub values_out_of_range: u64,
}

/// A computed KPI report.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiReport {
    /// The window.
    pub window: KpiWindow,
    /// When it was computed (see [`KpiQuery::as_of`]).
    pub as_of: Timestamp,
    /// The filters it was computed with.
    pub filters: KpiFilters,
    /// The grouping, if any.
    pub group_by: Option<GroupBy>,
    /// Every KPI over all facts that passed the filters.
    pub totals: KpiSet,
    /// Every KPI per group: every day or week of the window in order, or
    /// every reviewer, queue, category or rule with facts, by name.
    pub groups: Vec<KpiGroup>,
    /// Facts left out as inconsistent.
    pub skipped: SkippedFacts,
}

/// Computes every KPI of `facts` for `query`, in one pass over each list.
///
/// Refuses (naming the field) a fact list longer than
/// [`KPI_FACTS_PER_KIND_MAX`]; the window was checked when it was made.
pub fn compute(
    facts: &KpiFacts,
    query: &KpiQuery,
    settings: &KpiSettings,
) -> Result<KpiReport, FieldErrors> {
    check_list_lengths(facts, KPI_FACTS_PER_KIND_MAX)?;
    let selector = Selector::new(facts, &query.filters);
    let grouper = Grouper::new(facts, query);
    let mut pass = Pass {
        window: query.window,
        as_of: query.as_of,
        selector: &selector,
        grouper: &grouper,
        totals: Tally::default(),
        groups: vec![Tally::default(); grouper.slots],
        samples: Samples::default(),
        skipped: SkippedFacts::default(),
    };
    pass.resolutions(facts, settings);
    pass.first_touches(facts);
    pass.decisions(facts);
    pass.appeals_and_actions(facts);
    pass.qa_reviews(facts);
    pass.calibrations(facts);
    pass.escalations(facts);
    pass.rule_hits(facts);
    pass.notes_exposures_and_breaks(facts);
    pass.open_cases(facts);
    Ok(pass.finish(facts, query))
}

/// Refuses, naming each, fact lists longer than `max`.
pub(crate) fn check_list_lengths(facts: &KpiFacts, max: usize) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    for (list, length) in facts.list_lengths() {
        if length > max {
            errors.push(
                format!("facts.{list}"),
                format!("more than {max} facts in one computation"),
            );
        }
    }
    errors.finish(|| ())
}

/// Dimensions a KPI can be filtered or grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dims(u8);

impl Dims {
    const QUEUE: Dims = Dims(1);
    const CATEGORY: Dims = Dims(2);
    const REVIEWER: Dims = Dims(4);
    const RULE: Dims = Dims(8);
    const TIME: Dims = Dims(16);
    const NONE: Dims = Dims(0);

    const fn with(self, other: Dims) -> Dims {
        Dims(self.0 | other.0)
    }

    fn covers(self, needed: Dims) -> bool {
        self.0 & needed.0 == needed.0
    }

    /// The dimensions each KPI's facts have (see `docs/metrics.md`).
    fn of(kpi: Kpi) -> Dims {
        const WORK: Dims = Dims::QUEUE
            .with(Dims::CATEGORY)
            .with(Dims::REVIEWER)
            .with(Dims::TIME);
        match kpi {
            Kpi::BacklogNetChange | Kpi::SlaOpenBreaches => Dims::QUEUE.with(Dims::CATEGORY),
            Kpi::PolicyAlignmentVariance | Kpi::WellnessBreaksTaken => {
                Dims::REVIEWER.with(Dims::TIME)
            }
            Kpi::TrendContributions => Dims::CATEGORY.with(Dims::REVIEWER).with(Dims::TIME),
            Kpi::RulePrecision => Dims::QUEUE
                .with(Dims::CATEGORY)
                .with(Dims::RULE)
                .with(Dims::TIME),
            _ => WORK,
        }
    }

    /// The dimensions the filters use.
    fn of_filters(filters: &KpiFilters) -> Dims {
        let mut needed = Dims::NONE;
        if filters.queue.is_some() {
            needed = needed.with(Dims::QUEUE);
        }
        if filters.category.is_some() {
            needed = needed.with(Dims::CATEGORY);
        }
        if filters.reviewer.is_some() || filters.team.is_some() {
            needed = needed.with(Dims::REVIEWER);
        }
        needed
    }

    /// The dimension a grouping uses.
    fn of_group(group_by: GroupBy) -> Dims {
        match group_by {
            GroupBy::Day | GroupBy::Week => Dims::TIME,
            GroupBy::Reviewer => Dims::REVIEWER,
            GroupBy::Queue => Dims::QUEUE,
            GroupBy::Category => Dims::CATEGORY,
            GroupBy::Rule => Dims::RULE,
        }
    }
}

/// One filter resolved against the fact set's names.
#[derive(Debug, Clone, Copy)]
enum Only<T> {
    Any,
    This(T),
    Nothing,
}

impl<K: Copy> Only<NameIx<K>> {
    fn resolve(name: Option<&String>, find: impl Fn(&str) -> Option<NameIx<K>>) -> Self {
        match name {
            None => Only::Any,
            Some(name) => find(name).map_or(Only::Nothing, Only::This),
        }
    }

    fn admits(&self, value: Option<NameIx<K>>) -> bool {
        match self {
            Only::Any => true,
            Only::This(wanted) => value.map(NameIx::index) == Some(wanted.index()),
            Only::Nothing => false,
        }
    }
}

/// The filters, as index comparisons.
struct Selector {
    queue: Only<QueueIx>,
    category: Only<CategoryIx>,
    reviewer: Only<ReviewerIx>,
    team: Only<TeamIx>,
    /// For a team filter: whether each reviewer is in the team.
    team_members: Vec<bool>,
}

impl Selector {
    fn new(facts: &KpiFacts, filters: &KpiFilters) -> Selector {
        let dimensions = &facts.dimensions;
        let team = Only::resolve(filters.team.as_ref(), |name| dimensions.find_team(name));
        let team_members = match team {
            Only::This(team) => (0..dimensions.reviewers.len())
                .map(|index| {
                    let reviewer = ReviewerIx::from_index(index);
                    dimensions.teams_of(reviewer).contains(team)
                })
                .collect(),
            _ => Vec::new(),
        };
        Selector {
            queue: Only::resolve(filters.queue.as_ref(), |name| dimensions.queues.find(name)),
            category: Only::resolve(filters.category.as_ref(), |name| {
                dimensions.categories.find(name)
            }),
            reviewer: Only::resolve(filters.reviewer.as_ref(), |name| {
                dimensions.reviewers.find(name)
            }),
            team,
            team_members,
        }
    }

    fn admits_reviewer(&self, reviewer: Option<ReviewerIx>) -> bool {
        if !self.reviewer.admits(reviewer) {
            return false;
        }
        match self.team {
            Only::Any => true,
            Only::Nothing => false,
            Only::This(_) => reviewer.is_some_and(|reviewer| {
                self.team_members
                    .get(reviewer.index())
                    .copied()
                    .unwrap_or(false)
            }),
        }
    }

    fn admits(&self, attribution: &Attribution) -> bool {
        self.queue.admits(attribution.queue)
            && self.category.admits(attribution.category)
            && self.admits_reviewer(attribution.reviewer)
    }
}

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Finds a fact's group by arithmetic or by index.
struct Grouper {
    by: Option<GroupBy>,
    /// Days since the epoch of `from`'s UTC day.
    first_day: i64,
    /// Weeks since the epoch's Monday (1969-12-29) of `from`'s ISO week.
    first_week: i64,
    slots: usize,
}

/// Days since 1970-01-01 of `at`'s UTC day.
fn epoch_day(at: Timestamp) -> i64 {
    at.timestamp_millis().div_euclid(MILLIS_PER_DAY)
}

/// Weeks since Monday 1969-12-29 of `at`'s ISO week (1970-01-01 was a Thursday).
fn epoch_week(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

impl Grouper {
    fn new(facts: &KpiFacts, query: &KpiQuery) -> Grouper {
        let first_day = epoch_day(query.window.from);
        let last_day = epoch_day(query.window.to - Duration::milliseconds(1));
        let first_week = epoch_week(first_day);
        let dimensions = &facts.dimensions;
        // Day and week counts are bounded by the window's checked length.
        let slots = match query.group_by {
            None => 0,
            Some(GroupBy::Day) => (last_day - first_day + 1) as usize,
            Some(GroupBy::Week) => (epoch_week(last_day) - first_week + 1) as usize,
            Some(GroupBy::Reviewer) => dimensions.reviewers.len(),
            Some(GroupBy::Queue) => dimensions.queues.len(),
            Some(GroupBy::Category) => dimensions.categories.len(),
            Some(GroupBy::Rule) => dimensions.rules.len(),
        };
        Grouper {
            by: query.group_by,
            first_day,
            first_week,
            slots,
        }
    }

    /// The group of a fact at `at` (inside the window) with `attribution`
    /// and, for a rule hit, `rule`; `None` when the grouping does not
    /// apply to it.
    fn slot(
        &self,
        at: Option<Timestamp>,
        attribution: &Attribution,
        rule: Option<RuleIx>,
    ) -> Option<usize> {
        let slot = match self.by? {
            GroupBy::Day => usize::try_from(epoch_day(at?) - self.first_day).ok()?,
            GroupBy::Week => usize::try_from(epoch_week(epoch_day(at?)) - self.first_week).ok()?,
            GroupBy::Reviewer => attribution.reviewer?.index(),
            GroupBy::Queue => attribution.queue?.index(),
            GroupBy::Category => attribution.category?.index(),
            GroupBy::Rule => rule?.index(),
        };
        (slot < self.slots).then_some(slot)
    }

    /// The key of group `slot`.
    fn key(&self, facts: &KpiFacts, slot: usize) -> Option<GroupKey> {
        let dimensions = &facts.dimensions;
        let day = |days: i64| {
            NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|epoch| epoch.checked_add_signed(Duration::days(days)))
        };
        let name = |name: Option<&str>| name.map(str::to_string);
        match self.by? {
            GroupBy::Day => day(self.first_day + slot as i64).map(GroupKey::Day),
            GroupBy::Week => day((self.first_week + slot as i64) * 7 - 3).map(GroupKey::Week),
            GroupBy::Reviewer => name(dimensions.reviewers.name(ReviewerIx::from_index(slot)))
                .map(GroupKey::Reviewer),
            GroupBy::Queue => {
                name(dimensions.queues.name(QueueIx::from_index(slot))).map(GroupKey::Queue)
            }
            GroupBy::Category => name(dimensions.categories.name(CategoryIx::from_index(slot)))
                .map(GroupKey::Category),
            GroupBy::Rule => {
                name(dimensions.rules.name(RuleIx::from_index(slot))).map(GroupKey::Rule)
            }
        }
    }
}

/// The counters behind every KPI, for the totals or one group.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    /// Whether any fact landed here (groups by name list only those).
    touched: bool,
    resolved: u64,
    weighted_points: u64,
    first_touches: u64,
    first_touches_on_time: u64,
    closures: u64,
    closures_on_time: u64,
    open_at_from: u64,
    open_at_to: u64,
    open_breaches: u64,
    qa_reviews: u64,
    qa_passes: u64,
    documentation_scores: u64,
    documentation_sum: u64,
    alignment_ratings: u64,
    alignment_abs_sum: f64,
    alignment_signed_sum: f64,
    decisions: u64,
    reworked: u64,
    violation_decisions: u64,
    reversed: u64,
    false_negatives: u64,
    appeals_decided: u64,
    appeals_overturned: u64,
    repeat_decisions: u64,
    repeat_handled: u64,
    appeals_received: u64,
    actions_applied: u64,
    escalations: u64,
    escalations_complete: u64,
    rule_hits_decided: u64,
    rule_hits_violation: u64,
    trend_notes: u64,
    exposure_millis: u64,
    breaks_suggested: u64,
    breaks_taken: u64,
}

/// Durations in milliseconds, each with its group (`u32::MAX` for none).
#[derive(Debug, Default)]
struct Samples {
    escalation_timeliness: Vec<(u32, i64)>,
    escalation_ack: Vec<(u32, i64)>,
    handle_time: Vec<(u32, i64)>,
}

const NO_GROUP: u32 = u32::MAX;

fn tag(slot: Option<usize>) -> u32 {
    // Slots are below a dictionary's length or the window's days, far
    // below u32::MAX.
    slot.map_or(NO_GROUP, |slot| slot as u32)
}

/// Whether a later fate at `at` had happened by `as_of`.
fn by(at: Option<Timestamp>, as_of: Timestamp) -> bool {
    at.is_some_and(|at| at <= as_of)
}

/// The state of one computation.
struct Pass<'a> {
    window: KpiWindow,
    as_of: Timestamp,
    selector: &'a Selector,
    grouper: &'a Grouper,
    totals: Tally,
    groups: Vec<Tally>,
    samples: Samples,
    skipped: SkippedFacts,
}

impl Pass<'_> {
    /// Adds to the totals and to the tally of `slot`.
    #[inline]
    fn add(&mut self, slot: Option<usize>, add: impl Fn(&mut Tally)) {
        self.totals.touched = true;
        add(&mut self.totals);
        if let Some(tally) = slot.and_then(|slot| self.groups.get_mut(slot)) {
            tally.touched = true;
            add(tally);
        }
    }

    /// The group of an admitted fact at `at`, or `None` when the fact is
    /// outside the window or the filters.
    #[inline]
    fn admit(&self, at: Timestamp, attribution: &Attribution) -> Option<Option<usize>> {
        (self.window.contains(at) && self.selector.admits(attribution))
            .then(|| self.grouper.slot(Some(at), attribution, None))
    }

    fn resolutions(&mut self, facts: &KpiFacts, settings: &KpiSettings) {
        for fact in &facts.resolutions {
            let Some(slot) = self.admit(fact.decided_at, &fact.attribution) else {
                continue;
            };
            let points = u64::from(settings.weights.points(fact.severity));
            let closure = fact.resolution_due.map(|due| fact.decided_at <= due);
            self.add(slot, |tally| {
                tally.resolved += 1;
                tally.weighted_points += points;
                if let Some(on_time) = closure {
                    tally.closures += 1;
                    tally.closures_on_time += u64::from(on_time);
                }
            });
            if let Some(claimed_at) = fact.claimed_at {
                if claimed_at <= fact.decided_at {
                    let millis = (fact.decided_at - claimed_at).num_milliseconds();
                    self.samples.handle_time.push((tag(slot), millis));
                } else {
                    self.skipped.times_out_of_order += 1;
                }
            }
        }
    }

    fn first_touches(&mut self, facts: &KpiFacts) {
        for fact in &facts.first_touches {
            let Some(slot) = self.admit(fact.touched_at, &fact.attribution) else {
                continue;
            };
            let Some(due) = fact.first_touch_due else {
                continue;
            };
            let on_time = u64::from(fact.touched_at <= due);
            self.add(slot, |tally| {
                tally.first_touches += 1;
                tally.first_touches_on_time += on_time;
            });
        }
    }

    fn decisions(&mut self, facts: &KpiFacts) {
        let as_of = self.as_of;
        let lookahead = Duration::days(FALSE_NEGATIVE_DAYS);
        for fact in &facts.decisions {
            let Some(slot) = self.admit(fact.decided_at, &fact.attribution) else {
                continue;
            };
            let reworked = by(fact.superseded_at, as_of)
                || by(fact.qa_rework_at, as_of)
                || by(fact.reopened_at, as_of);
            let reversed = fact.violation && by(fact.reversed_at, as_of);
            let false_negative = !fact.violation
                && fact.violation_found_at.is_some_and(|found| {
                    found >= fact.decided_at
                        && found - fact.decided_at <= lookahead
                        && found <= as_of
                });
            let repeat = (fact.violation && fact.prior_active_strikes >= 1)
                .then_some(fact.meets_recommendation)
                .flatten();
            let violation = fact.violation;
            self.add(slot, |tally| {
                tally.decisions += 1;
                tally.reworked += u64::from(reworked);
                tally.violation_decisions += u64::from(violation);
                tally.reversed += u64::from(reversed);
                tally.false_negatives += u64::from(false_negative);
                if let Some(handled) = repeat {
                    tally.repeat_decisions += 1;
                    tally.repeat_handled += u64::from(handled);
                }
            });
        }
    }

    fn appeals_and_actions(&mut self, facts: &KpiFacts) {
        for fact in &facts.appeals {
            if let Some(slot) = self.admit(fact.received_at, &fact.attribution) {
                self.add(slot, |tally| tally.appeals_received += 1);
            }
            let Some((decided_at, outcome)) = fact.decided else {
                continue;
            };
            if let Some(slot) = self.admit(decided_at, &fact.attribution) {
                let overturned = u64::from(matches!(
                    outcome,
                    AppealOutcome::Overturned | AppealOutcome::Modified
                ));
                self.add(slot, |tally| {
                    tally.appeals_decided += 1;
                    tally.appeals_overturned += overturned;
                });
            }
        }
        for fact in &facts.applied_actions {
            if let Some(slot) = self.admit(fact.applied_at, &fact.attribution) {
                self.add(slot, |tally| tally.actions_applied += 1);
            }
        }
    }

    fn qa_reviews(&mut self, facts: &KpiFacts) {
        for fact in &facts.qa_reviews {
            let Some(slot) = self.admit(fact.completed_at, &fact.attribution) else {
                continue;
            };
            let pass = u64::from(fact.rubric.decision_correct);
            let documentation = fact.rubric.documentation;
            let score = (1..=5)
                .contains(&documentation)
                .then_some(u64::from(documentation));
            if score.is_none() {
                self.skipped.values_out_of_range += 1;
            }
            self.add(slot, |tally| {
                tally.qa_reviews += 1;
                tally.qa_passes += pass;
                if let Some(score) = score {
                    tally.documentation_scores += 1;
                    tally.documentation_sum += score;
                }
            });
        }
    }

    /// Policy alignment: each session's mean agreement over all its raters
    /// (whatever the filters), then each admitted rating's deviation.
    fn calibrations(&mut self, facts: &KpiFacts) {
        let sessions = facts.dimensions.sessions.len();
        let mut session_sums = vec![(0.0f64, 0u64); sessions];
        let valid = |agreement: f64| (0.0..=1.0).contains(&agreement);
        for fact in &facts.calibrations {
            if !self.window.contains(fact.closed_at) {
                continue;
            }
            if !valid(fact.agreement) {
                self.skipped.values_out_of_range += 1;
                continue;
            }
            if let Some(sum) = session_sums.get_mut(fact.session.index()) {
                sum.0 += fact.agreement;
                sum.1 += 1;
            }
        }
        for fact in &facts.calibrations {
            let attribution = Attribution {
                reviewer: Some(fact.rater),
                ..Attribution::default()
            };
            if !valid(fact.agreement) {
                continue;
            }
            let Some(slot) = self.admit(fact.closed_at, &attribution) else {
                continue;
            };
            let Some(&(sum, raters)) = session_sums.get(fact.session.index()) else {
                continue;
            };
            // At least this fact's own rating is in the session's sum.
            let deviation = fact.agreement - sum / raters as f64;
            self.add(slot, |tally| {
                tally.alignment_ratings += 1;
                tally.alignment_abs_sum += deviation.abs();
                tally.alignment_signed_sum += deviation;
            });
        }
    }

    fn escalations(&mut self, facts: &KpiFacts) {
        for fact in &facts.escalations {
            let Some(slot) = self.admit(fact.escalated_at, &fact.attribution) else {
                continue;
            };
            let complete = u64::from(fact.complete_first_send);
            self.add(slot, |tally| {
                tally.escalations += 1;
                tally.escalations_complete += complete;
            });
            if fact.case_opened_at <= fact.escalated_at {
                let millis = (fact.escalated_at - fact.case_opened_at).num_milliseconds();
                self.samples.escalation_timeliness.push((tag(slot), millis));
            } else {
                self.skipped.times_out_of_order += 1;
            }
            if let Some(acknowledged_at) = fact.acknowledged_at.filter(|&at| at <= self.as_of) {
                if fact.escalated_at <= acknowledged_at {
                    let millis = (acknowledged_at - fact.escalated_at).num_milliseconds();
                    self.samples.escalation_ack.push((tag(slot), millis));
                } else {
                    self.skipped.times_out_of_order += 1;
                }
            }
        }
    }

    fn rule_hits(&mut self, facts: &KpiFacts) {
        for fact in &facts.rule_hits {
            if !self.window.contains(fact.event_at) || !self.selector.admits(&fact.attribution) {
                continue;
            }
            let Some(violation) = fact.case_violation else {
                continue;
            };
            let slot = self
                .grouper
                .slot(Some(fact.event_at), &fact.attribution, Some(fact.rule));
            self.add(slot, |tally| {
                tally.rule_hits_decided += 1;
                tally.rule_hits_violation += u64::from(violation);
            });
        }
    }

    fn notes_exposures_and_breaks(&mut self, facts: &KpiFacts) {
        for fact in &facts.trend_notes {
            if let Some(slot) = self.admit(fact.filed_at, &fact.attribution) {
                self.add(slot, |tally| tally.trend_notes += 1);
            }
        }
        for fact in &facts.exposures {
            if fact.concealed_at < fact.revealed_at {
                self.skipped.times_out_of_order += 1;
                continue;
            }
            // The part of the interval inside the window, placed at its start.
            let start = fact.revealed_at.max(self.window.from);
            let end = fact.concealed_at.min(self.window.to);
            if end <= start {
                continue;
            }
            let Some(slot) = self.admit(start, &fact.attribution) else {
                continue;
            };
            // Positive: end > start.
            let millis = (end - start).num_milliseconds() as u64;
            self.add(slot, |tally| tally.exposure_millis += millis);
        }
        for fact in &facts.breaks {
            let attribution = Attribution {
                reviewer: Some(fact.reviewer),
                ..Attribution::default()
            };
            if let Some(slot) = self.admit(fact.suggested_at, &attribution) {
                let taken = u64::from(fact.taken);
                self.add(slot, |tally| {
                    tally.breaks_suggested += 1;
                    tally.breaks_taken += taken;
                });
            }
        }
    }

    /// Snapshots have no time in the window: they count for the totals and
    /// for groups by queue or category only.
    fn open_cases(&mut self, facts: &KpiFacts) {
        let to = self.window.to;
        for fact in &facts.open_at_from {
            if self.selector.admits(&fact.attribution) {
                let slot = self.grouper.slot(None, &fact.attribution, None);
                self.add(slot, |tally| tally.open_at_from += 1);
            }
        }
        for fact in &facts.open_at_to {
            if self.selector.admits(&fact.attribution) {
                let slot = self.grouper.slot(None, &fact.attribution, None);
                let breached = u64::from(fact.resolution_due.is_some_and(|due| due < to));
                self.add(slot, |tally| {
                    tally.open_at_to += 1;
                    tally.open_breaches += breached;
                });
            }
        }
    }

    fn finish(mut self, facts: &KpiFacts, query: &KpiQuery) -> KpiReport {
        let filters_need = Dims::of_filters(&query.filters);
        let group_need = query.group_by.map_or(Dims::NONE, Dims::of_group);
        let totals_percentiles = Percentiles::of_all(&mut self.samples);
        let group_percentiles = Percentiles::per_group(&mut self.samples, self.grouper.slots);
        // Policy alignment is signed when the facts are one reviewer's.
        let one_reviewer = query.filters.reviewer.is_some();
        let totals = formulas(
            &self.totals,
            &totals_percentiles,
            one_reviewer,
            filters_need,
        );
        let mut groups = Vec::new();
        let by_time = matches!(query.group_by, Some(GroupBy::Day | GroupBy::Week));
        for (slot, tally) in self.groups.iter().enumerate() {
            if !(by_time || tally.touched) {
                continue;
            }
            let Some(key) = self.grouper.key(facts, slot) else {
                continue;
            };
            let percentiles = group_percentiles.get(slot).copied().unwrap_or_default();
            let kpis = formulas(
                tally,
                &percentiles,
                one_reviewer || query.group_by == Some(GroupBy::Reviewer),
                filters_need.with(group_need),
            );
            groups.push(KpiGroup { key, kpis });
        }
        if !by_time {
            groups.sort_by(|a, b| a.key.cmp(&b.key));
        }
        KpiReport {
            window: query.window,
            as_of: query.as_of,
            filters: query.filters.clone(),
            group_by: query.group_by,
            totals,
            groups,
            skipped: self.skipped,
        }
    }
}

/// The percentiles of one set of facts.
#[derive(Debug, Clone, Copy, Default)]
struct Percentiles {
    escalation_timeliness_p50: Option<RankedValue>,
    escalation_timeliness_p90: Option<RankedValue>,
    escalation_ack_p50: Option<RankedValue>,
    handle_time_p50: Option<RankedValue>,
}

impl Percentiles {
    fn of_all(samples: &mut Samples) -> Percentiles {
        let values = |tagged: &[(u32, i64)]| tagged.iter().map(|&(_, millis)| millis).collect();
        let mut timeliness: Vec<i64> = values(&samples.escalation_timeliness);
        let mut ack: Vec<i64> = values(&samples.escalation_ack);
        let mut handle: Vec<i64> = values(&samples.handle_time);
        Percentiles {
            escalation_timeliness_p50: nearest_rank(&mut timeliness, Percent::P50),
            escalation_timeliness_p90: nearest_rank(&mut timeliness, Percent::P90),
            escalation_ack_p50: nearest_rank(&mut ack, Percent::P50),
            handle_time_p50: nearest_rank(&mut handle, Percent::P50),
        }
    }

    fn per_group(samples: &mut Samples, slots: usize) -> Vec<Percentiles> {
        let mut result = vec![Percentiles::default(); slots];
        if slots == 0 {
            return result;
        }
        for (slot, ranked) in ranked_per_group(&samples.escalation_timeliness, slots, Percent::P50)
        {
            result[slot].escalation_timeliness_p50 = Some(ranked);
        }
        for (slot, ranked) in ranked_per_group(&samples.escalation_timeliness, slots, Percent::P90)
        {
            result[slot].escalation_timeliness_p90 = Some(ranked);
        }
        for (slot, ranked) in ranked_per_group(&samples.escalation_ack, slots, Percent::P50) {
            result[slot].escalation_ack_p50 = Some(ranked);
        }
        for (slot, ranked) in ranked_per_group(&samples.handle_time, slots, Percent::P50) {
            result[slot].handle_time_p50 = Some(ranked);
        }
        result
    }
}

/// The `percent` of each group's values: a counting sort by group into one
/// vector, then a selection within each group's range.
fn ranked_per_group(
    tagged: &[(u32, i64)],
    slots: usize,
    percent: Percent,
) -> Vec<(usize, RankedValue)> {
    let mut starts = vec![0usize; slots + 1];
    for &(slot, _) in tagged {
        if let Some(count) = starts.get_mut(slot as usize + 1) {
            *count += 1;
        }
    }
    for slot in 0..slots {
        starts[slot + 1] += starts[slot];
    }
    let mut next = starts.clone();
    let mut values = vec![0i64; starts[slots]];
    for &(slot, millis) in tagged {
        if let Some(position) = next.get_mut(slot as usize) {
            if (slot as usize) < slots {
                values[*position] = millis;
                *position += 1;
            }
        }
    }
    let mut ranked = Vec::new();
    for slot in 0..slots {
        if let Some(value) = nearest_rank(&mut values[starts[slot]..starts[slot + 1]], percent) {
            ranked.push((slot, value));
        }
    }
    ranked
}

/// The formulas: every KPI of one tally. `signed_alignment` makes policy
/// alignment the signed mean deviation (one reviewer's facts) instead of
/// the mean absolute deviation. A KPI whose facts lack a dimension in
/// `needed` does not apply.
fn formulas(
    tally: &Tally,
    percentiles: &Percentiles,
    signed_alignment: bool,
    needed: Dims,
) -> KpiSet {
    let mut set = KpiSet::empty();
    let n = |count: u64| count as f64;
    for kpi in Kpi::ALL {
        if !Dims::of(kpi).covers(needed) {
            continue;
        }
        let unit = kpi.unit();
        let ratio =
            |numerator: u64, denominator: u64| KpiValue::ratio(n(numerator), n(denominator), unit);
        let count = |count: u64| KpiValue::count(n(count), unit);
        let seconds = |ranked: Option<RankedValue>| match ranked {
            Some(ranked) => KpiValue {
                value: Some(ranked.value as f64 / 1000.0),
                numerator: ranked.rank as f64,
                denominator: ranked.count as f64,
                unit,
            },
            None => KpiValue::not_applicable(unit),
        };
        let value = match kpi {
            Kpi::CasesResolved => count(tally.resolved),
            Kpi::WeightedThroughput => count(tally.weighted_points),
            Kpi::BacklogNetChange => {
                KpiValue::count(n(tally.open_at_to) - n(tally.open_at_from), unit)
            }
            Kpi::SlaFirstTouchAdherence => ratio(tally.first_touches_on_time, tally.first_touches),
            Kpi::SlaClosureAdherence => ratio(tally.closures_on_time, tally.closures),
            Kpi::SlaOpenBreaches => count(tally.open_breaches),
            Kpi::QaPassRate => ratio(tally.qa_passes, tally.qa_reviews),
            Kpi::DocumentationQuality => ratio(tally.documentation_sum, tally.documentation_scores),
            Kpi::PolicyAlignmentVariance => {
                let sum = if signed_alignment {
                    tally.alignment_signed_sum
                } else {
                    tally.alignment_abs_sum
                };
                KpiValue::ratio(sum, n(tally.alignment_ratings), unit)
            }
            Kpi::ReworkRate => ratio(tally.reworked, tally.decisions),
            Kpi::FalsePositiveRate => ratio(tally.reversed, tally.violation_decisions),
            Kpi::FalseNegativeIndicators => count(tally.false_negatives),
            Kpi::AppealOverturnRate => ratio(tally.appeals_overturned, tally.appeals_decided),
            Kpi::RepeatOffenderHandlingRate => ratio(tally.repeat_handled, tally.repeat_decisions),
            Kpi::ComplaintRatePostAction => ratio(tally.appeals_received, tally.actions_applied),
            Kpi::EscalationCompleteFirstSend => {
                ratio(tally.escalations_complete, tally.escalations)
            }
            Kpi::EscalationTimelinessP50 => seconds(percentiles.escalation_timeliness_p50),
            Kpi::EscalationTimelinessP90 => seconds(percentiles.escalation_timeliness_p90),
            Kpi::EscalationAckP50 => seconds(percentiles.escalation_ack_p50),
            Kpi::RulePrecision => ratio(tally.rule_hits_violation, tally.rule_hits_decided),
            Kpi::TrendContributions => count(tally.trend_notes),
            Kpi::HandleTimeP50 => seconds(percentiles.handle_time_p50),
            Kpi::WellnessExposure => KpiValue::count(tally.exposure_millis as f64 / 1000.0, unit),
            Kpi::WellnessBreaksTaken => ratio(tally.breaks_taken, tally.breaks_suggested),
        };
        set.set(kpi, value);
    }
    set
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn the_window_is_checked() {
        let from = at(2026, 12, 1, 0);
        assert!(KpiWindow::new(from, from).is_err());
        assert!(KpiWindow::new(from, from - Duration::hours(1)).is_err());
        let too_long = KpiWindow::new(from, from + Duration::days(KPI_WINDOW_DAYS_MAX + 1));
        assert_eq!(too_long.unwrap_err().0[0].field, "to");
        assert!(KpiWindow::new(from, from + Duration::days(KPI_WINDOW_DAYS_MAX)).is_ok());
        let window = KpiWindow::new(from, at(2026, 12, 2, 0)).unwrap();
        assert!(window.contains(from));
        assert!(!window.contains(at(2026, 12, 2, 0)));
    }

    #[test]
    fn severity_weights_are_bounded_and_named() {
        let refused = SeverityWeights::new(1, 2, KPI_SEVERITY_WEIGHT_MAX + 1, 8).unwrap_err();
        assert_eq!(refused.0[0].field, "kpi.weights.high");
        let weights = SeverityWeights::new(0, 1, 2, KPI_SEVERITY_WEIGHT_MAX).unwrap();
        assert_eq!(weights.points(Severity::Critical), KPI_SEVERITY_WEIGHT_MAX);
        assert_eq!(SeverityWeights::default().points(Severity::High), 4);
    }

    #[test]
    fn group_by_names_round_trip_and_unknown_ones_are_refused() {
        for by in GroupBy::ALL {
            assert_eq!(GroupBy::parse(by.as_str()), Ok(by));
        }
        assert!(GroupBy::parse("month").is_err());
    }

    #[test]
    fn iso_weeks_start_on_monday_utc() {
        // 1970-01-01 was a Thursday: its ISO week began on Monday 1969-12-29.
        assert_eq!(epoch_week(0), 0);
        assert_eq!(epoch_week(-3), 0);
        assert_eq!(epoch_week(-4), -1);
        assert_eq!(epoch_week(4), 1);
        // 2026-12-31 (Thursday) is in 2026-W53; 2027-01-04 starts 2027-W01.
        let key = GroupKey::Week(NaiveDate::from_ymd_opt(2026, 12, 28).unwrap());
        assert_eq!(key.label(), "2026-W53");
        let key = GroupKey::Week(NaiveDate::from_ymd_opt(2027, 1, 4).unwrap());
        assert_eq!(key.label(), "2027-W01");
    }
}
