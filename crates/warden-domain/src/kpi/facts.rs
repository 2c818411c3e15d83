//! The facts KPIs are computed from, as the store loads them.
//!
//! Each fact is a small `Copy` record with no text in it: queues,
//! categories, reviewers, rules and teams are indexes into the fact set's
//! [`Dimensions`], which hold every name once. That keeps a million facts
//! compact, makes filters integer comparisons and lets [`compute`] group by
//! index into dense arrays instead of hashing names per fact.
//!
//! Times are UTC instants; what each time means is said on each field.
//! "Later" fates (a correction, a reversal, a QA rework) carry the time
//! they happened, so that a report computed `as_of` a past instant gives
//! the answer it gave then.
//!
//! [`compute`]: super::compute::compute

use std::collections::HashMap;
use std::marker::PhantomData;

use crate::case::Severity;
use crate::limits::{KPI_DIMENSION_NAMES_MAX, KPI_TEAMS_MAX};
use crate::Timestamp;

/// A dense index into one dictionary of names; `K` says which one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NameIx<K> {
    index: u32,
    kind: PhantomData<K>,
}

impl<K> NameIx<K> {
    /// The position of the name in its dictionary.
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// The index at position `index` of a dictionary; only called with
    /// positions below a dictionary's length, itself at most
    /// `KPI_DIMENSION_NAMES_MAX`, so the conversion never truncates.
    pub(crate) fn from_index(index: usize) -> Self {
        NameIx {
            index: index as u32,
            kind: PhantomData,
        }
    }
}

/// Marker of queue names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueueKind {}
/// Marker of taxonomy category codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CategoryKind {}
/// Marker of reviewer (user) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReviewerKind {}
/// Marker of detection rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {}
/// Marker of team names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TeamKind {}
/// Marker of calibration session ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SessionKind {}

/// A queue of the fact set.
pub type QueueIx = NameIx<QueueKind>;
/// A taxonomy category of the fact set.
pub type CategoryIx = NameIx<CategoryKind>;
/// A reviewer (the analyst a fact is attributed to).
pub type ReviewerIx = NameIx<ReviewerKind>;
/// A detection rule.
pub type RuleIx = NameIx<RuleKind>;
/// A team of reviewers.
pub type TeamIx = NameIx<TeamKind>;
/// A calibration session.
pub type SessionIx = NameIx<SessionKind>;

/// One dictionary of names, each given a dense index once.
#[derive(Debug, Clone)]
pub struct Names<K> {
    names: Vec<String>,
    index: HashMap<String, u32>,
    kind: PhantomData<K>,
}

impl<K> Default for Names<K> {
    fn default() -> Self {
        Names {
            names: Vec::new(),
            index: HashMap::new(),
            kind: PhantomData,
        }
    }
}

impl<K> Names<K> {
    /// The index of `name`, added if new; refused past
    /// [`KPI_DIMENSION_NAMES_MAX`] names.
    pub fn intern(&mut self, name: &str) -> Result<NameIx<K>, String> {
        if let Some(&index) = self.index.get(name) {
            return Ok(NameIx {
                index,
                kind: PhantomData,
            });
        }
        if self.names.len() >= KPI_DIMENSION_NAMES_MAX {
            return Err(format!(
                "more than {KPI_DIMENSION_NAMES_MAX} distinct names in one KPI fact set"
            ));
        }
        // Fits: the length is below KPI_DIMENSION_NAMES_MAX, far below u32::MAX.
        let index = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), index);
        Ok(NameIx {
            index,
            kind: PhantomData,
        })
    }

    /// The index of `name`, if the fact set knows it.
    pub fn find(&self, name: &str) -> Option<NameIx<K>> {
        self.index.get(name).map(|&index| NameIx {
            index,
            kind: PhantomData,
        })
    }

    /// The name at `ix`, if `ix` belongs to this dictionary.
    pub fn name(&self, ix: NameIx<K>) -> Option<&str> {
        self.names.get(ix.index()).map(String::as_str)
    }

    /// How many names there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every name, in index order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// The teams a reviewer belongs to, as a set of at most [`KPI_TEAMS_MAX`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TeamSet(u64);

impl TeamSet {
    /// Whether `team` is in the set.
    pub fn contains(self, team: TeamIx) -> bool {
        team.index() < KPI_TEAMS_MAX && self.0 & (1u64 << team.index()) != 0
    }

    fn insert(&mut self, team: TeamIx) {
        if team.index() < KPI_TEAMS_MAX {
            self.0 |= 1u64 << team.index();
        }
    }
}

/// The name dictionaries of one fact set, and who is in which team.
///
/// Team membership belongs to the reviewer (the store gives the current
/// membership): filtering by team selects the facts attributed to its
/// members. A fact with no reviewer (an automated decision, a rule hit) is
/// in no team.
#[derive(Debug, Clone, Default)]
pub struct Dimensions {
    /// Queue names.
    pub queues: Names<QueueKind>,
    /// Taxonomy category codes.
    pub categories: Names<CategoryKind>,
    /// Reviewer (user) names.
    pub reviewers: Names<ReviewerKind>,
    /// Detection rule names.
    pub rules: Names<RuleKind>,
    /// Calibration session ids.
    pub sessions: Names<SessionKind>,
    teams: Names<TeamKind>,
    reviewer_teams: Vec<TeamSet>,
}

impl Dimensions {
    /// The index of queue `name`, added if new.
    pub fn queue(&mut self, name: &str) -> Result<QueueIx, String> {
        self.queues.intern(name)
    }

    /// The index of category `code`, added if new.
    pub fn category(&mut self, code: &str) -> Result<CategoryIx, String> {
        self.categories.intern(code)
    }

    /// The index of reviewer `name`, added if new.
    pub fn reviewer(&mut self, name: &str) -> Result<ReviewerIx, String> {
        self.reviewers.intern(name)
    }

    /// The index of rule `name`, added if new.
    pub fn rule(&mut self, name: &str) -> Result<RuleIx, String> {
        self.rules.intern(name)
    }

    /// The index of calibration session `id`, added if new.
    pub fn session(&mut self, id: &str) -> Result<SessionIx, String> {
        self.sessions.intern(id)
    }

    /// Puts `reviewer` in `team` (added if new; at most [`KPI_TEAMS_MAX`] teams).
    pub fn join_team(&mut self, reviewer: ReviewerIx, team: &str) -> Result<TeamIx, String> {
        if reviewer.index() >= self.reviewers.len() {
            return Err("the reviewer is not in this fact set".into());
        }
        let team = match self.teams.find(team) {
            Some(team) => team,
            None if self.teams.len() >= KPI_TEAMS_MAX => {
                return Err(format!(
                    "more than {KPI_TEAMS_MAX} teams in one KPI fact set"
                ))
            }
            None => self.teams.intern(team)?,
        };
        if self.reviewer_teams.len() <= reviewer.index() {
            self.reviewer_teams
                .resize(reviewer.index() + 1, TeamSet::default());
        }
        self.reviewer_teams[reviewer.index()].insert(team);
        Ok(team)
    }

    /// The team named `name`, if any reviewer is in it.
    pub fn find_team(&self, name: &str) -> Option<TeamIx> {
        self.teams.find(name)
    }

    /// The teams of `reviewer` (empty for a reviewer in none).
    pub fn teams_of(&self, reviewer: ReviewerIx) -> TeamSet {
        self.reviewer_teams
            .get(reviewer.index())
            .copied()
            .unwrap_or_default()
    }
}

/// Where a fact belongs: the queue and category of its case and the
/// reviewer it is attributed to. `None` where the fact has no such thing
/// (a calibration rating has no queue; an automated decision no reviewer):
/// a filter or group on that dimension leaves the fact out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attribution {
    /// The case's queue.
    pub queue: Option<QueueIx>,
    /// The case's (or decision's) taxonomy category.
    pub category: Option<CategoryIx>,
    /// The analyst the fact is attributed to (see each fact).
    pub reviewer: Option<ReviewerIx>,
}

/// A case resolution: the first decision recorded on a case since it was
/// opened or reopened. Its reviewer is the decider.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolutionFact {
    /// The case (its store id).
    pub case_id: i64,
    /// Queue, category and decider.
    pub attribution: Attribution,
    /// The case's severity when decided (weighted throughput).
    pub severity: Severity,
    /// When the case was opened (or reopened, for a later resolution).
    pub opened_at: Timestamp,
    /// Start of the claim under which the decision was made; `None` when
    /// decided without a claim (left out of handle time).
    pub claimed_at: Option<Timestamp>,
    /// The decision's time: the resolution's time in the window.
    pub decided_at: Timestamp,
    /// The case's resolution deadline; `None` for a queue without one
    /// (left out of closure adherence).
    pub resolution_due: Option<Timestamp>,
}

/// A case's first touch: its first claim or, without a claim, its first
/// decision. Once per case. Its reviewer is whoever touched it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirstTouchFact {
    /// The case.
    pub case_id: i64,
    /// Queue, category and the analyst who touched it.
    pub attribution: Attribution,
    /// When the case was opened.
    pub opened_at: Timestamp,
    /// When it was first touched: its time in the window.
    pub touched_at: Timestamp,
    /// Its first-touch deadline; `None` for a queue without one.
    pub first_touch_due: Option<Timestamp>,
}

/// Every decision (first ones and corrections) with what became of it.
/// Its reviewer is the decider; `None` for an automated decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecisionFact {
    /// The decision (its store id).
    pub decision_id: i64,
    /// Queue and category of the case, and the decider.
    pub attribution: Attribution,
    /// When it was made: its time in the window.
    pub decided_at: Timestamp,
    /// Whether it found a violation.
    pub violation: bool,
    /// When a correction superseded it.
    pub superseded_at: Option<Timestamp>,
    /// When QA sent its case back for rework.
    pub qa_rework_at: Option<Timestamp>,
    /// When its case was next reopened.
    pub reopened_at: Option<Timestamp>,
    /// When its actions were first reversed (appeal overturned or
    /// modified, or a lead's reversal).
    pub reversed_at: Option<Timestamp>,
    /// For a no-violation decision: when a QA review or a later decision
    /// on the same subject and category first found a violation.
    pub violation_found_at: Option<Timestamp>,
    /// Active strikes on the account before this decision.
    pub prior_active_strikes: u32,
    /// Whether its actions are at least as severe as the enforcement
    /// matrix's recommendation; `None` when the matrix recommended nothing.
    pub meets_recommendation: Option<bool>,
}

/// What an appeal came to: one definition, the appeals module's.
pub use crate::appeal::AppealOutcome;

/// An appeal of a decision. Queue, category and reviewer are the original
/// decision's (the reviewer is its decider, not the appeal's reviewer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AppealFact {
    /// Queue, category and decider of the appealed decision.
    pub attribution: Attribution,
    /// When the appeal arrived (complaint rate).
    pub received_at: Timestamp,
    /// When it was decided, with its outcome (overturn rate).
    pub decided: Option<(Timestamp, AppealOutcome)>,
}

/// A QA review of a decision. The reviewer is the decider whose decision
/// was reviewed, not the QA reviewer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QaReviewFact {
    /// Queue, category and decider of the reviewed decision.
    pub attribution: Attribution,
    /// When the review was completed: its time in the window.
    pub completed_at: Timestamp,
    /// The QA reviewer's rubric.
    pub rubric: QaRubric,
}

/// A QA review's rubric, as `specs/appeals-qa-api.md` defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QaRubric {
    /// Whether the decision (violation or not) was right: `qa_pass_rate`.
    pub decision_correct: bool,
    /// Whether the taxonomy category was right.
    pub category_correct: bool,
    /// Whether the actions were proportionate.
    pub action_proportionate: bool,
    /// Documentation score, 1 to 5: `documentation_quality`.
    pub documentation: u8,
}

/// One rater's agreement with consensus in a closed calibration session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationFact {
    /// The session.
    pub session: SessionIx,
    /// When the session was closed: its time in the window.
    pub closed_at: Timestamp,
    /// The rater.
    pub rater: ReviewerIx,
    /// Share of the session's cases where the rater's label was the
    /// consensus, 0 to 1.
    pub agreement: f64,
}

/// An escalation of a case to a specialist team. The reviewer is the
/// analyst who escalated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EscalationFact {
    /// Queue, category and escalating analyst.
    pub attribution: Attribution,
    /// When the escalated case was opened.
    pub case_opened_at: Timestamp,
    /// When it was escalated: its time in the window.
    pub escalated_at: Timestamp,
    /// When a team member acknowledged it.
    pub acknowledged_at: Option<Timestamp>,
    /// Whether its package passed the completeness check on the first attempt.
    pub complete_first_send: bool,
}

/// A rule hit on an event, with the verdict of the case it reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleHitFact {
    /// The rule.
    pub rule: RuleIx,
    /// Queue and category of the case it reached (no reviewer).
    pub attribution: Attribution,
    /// When the event occurred: its time in the window.
    pub event_at: Timestamp,
    /// Whether its case was decided a violation; `None` while undecided or
    /// when the hit opened no case.
    pub case_violation: Option<bool>,
}

/// A trend note filed by an analyst. Category when the note names one;
/// no queue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendNoteFact {
    /// Category and author.
    pub attribution: Attribution,
    /// When it was filed.
    pub filed_at: Timestamp,
}

/// An enforcement action applied (the complaint rate's denominator).
/// Queue, category and reviewer are its decision's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AppliedActionFact {
    /// Queue, category and decider of its decision.
    pub attribution: Attribution,
    /// When it was applied.
    pub applied_at: Timestamp,
}

/// An interval during which a reviewer had media revealed (unblurred).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExposureFact {
    /// Queue and category of the case, and the reviewer.
    pub attribution: Attribution,
    /// When the media was revealed.
    pub revealed_at: Timestamp,
    /// When it was blurred again or the page left.
    pub concealed_at: Timestamp,
}

/// A wellness break suggested to a reviewer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakFact {
    /// The reviewer (no queue or category).
    pub reviewer: ReviewerIx,
    /// When the break was suggested: its time in the window.
    pub suggested_at: Timestamp,
    /// Whether the reviewer recorded taking it.
    pub taken: bool,
}

/// A case open at a snapshot instant (`from` or `to` of the window).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenCaseFact {
    /// Queue and category (no reviewer).
    pub attribution: Attribution,
    /// Its resolution deadline.
    pub resolution_due: Option<Timestamp>,
}

/// Everything one KPI report is computed from.
#[derive(Debug, Clone, Default)]
pub struct KpiFacts {
    /// The names the facts' indexes refer to.
    pub dimensions: Dimensions,
    /// Case resolutions.
    pub resolutions: Vec<ResolutionFact>,
    /// First touches.
    pub first_touches: Vec<FirstTouchFact>,
    /// Decisions with their fate.
    pub decisions: Vec<DecisionFact>,
    /// Appeals.
    pub appeals: Vec<AppealFact>,
    /// QA reviews.
    pub qa_reviews: Vec<QaReviewFact>,
    /// Calibration ratings (one per rater per session).
    pub calibrations: Vec<CalibrationFact>,
    /// Escalations.
    pub escalations: Vec<EscalationFact>,
    /// Rule hits.
    pub rule_hits: Vec<RuleHitFact>,
    /// Trend notes.
    pub trend_notes: Vec<TrendNoteFact>,
    /// Actions applied.
    pub applied_actions: Vec<AppliedActionFact>,
    /// Media exposure intervals.
    pub exposures: Vec<ExposureFact>,
    /// Suggested wellness breaks.
    pub breaks: Vec<BreakFact>,
    /// Cases open at the window's `from`.
    pub open_at_from: Vec<OpenCaseFact>,
    /// Cases open at the window's `to`.
    pub open_at_to: Vec<OpenCaseFact>,
}

impl KpiFacts {
    /// Each list's name with its length, for the limit check.
    pub fn list_lengths(&self) -> [(&'static str, usize); 14] {
        [
            ("resolutions", self.resolutions.len()),
            ("first_touches", self.first_touches.len()),
            ("decisions", self.decisions.len()),
            ("appeals", self.appeals.len()),
            ("qa_reviews", self.qa_reviews.len()),
            ("calibrations", self.calibrations.len()),
            ("escalations", self.escalations.len()),
            ("rule_hits", self.rule_hits.len()),
            ("trend_notes", self.trend_notes.len()),
            ("applied_actions", self.applied_actions.len()),
            ("exposures", self.exposures.len()),
            ("breaks", self.breaks.len()),
            ("open_at_from", self.open_at_from.len()),
            ("open_at_to", self.open_at_to.len()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_interned_once_and_found_again() {
        let mut dimensions = Dimensions::default();
        let spam = dimensions.queue("spam").unwrap();
        let fraud = dimensions.queue("fraud").unwrap();
        assert_eq!(dimensions.queue("spam").unwrap(), spam);
        assert_ne!(spam, fraud);
        assert_eq!(dimensions.queues.find("fraud"), Some(fraud));
        assert_eq!(dimensions.queues.name(fraud), Some("fraud"));
        assert_eq!(dimensions.queues.find("nope"), None);
    }

    #[test]
    fn team_membership_is_per_reviewer_and_bounded() {
        let mut dimensions = Dimensions::default();
        let anna = dimensions.reviewer("anna").unwrap();
        let ben = dimensions.reviewer("ben").unwrap();
        let emea = dimensions.join_team(anna, "emea").unwrap();
        assert!(dimensions.teams_of(anna).contains(emea));
        assert!(!dimensions.teams_of(ben).contains(emea));
        for n in 1..KPI_TEAMS_MAX {
            dimensions.join_team(ben, &format!("team{n}")).unwrap();
        }
        let refused = dimensions.join_team(ben, "one-too-many").unwrap_err();
        assert!(refused.contains("teams"), "{refused}");
        // Joining a known team still works at the limit.
        dimensions.join_team(ben, "emea").unwrap();
        assert!(dimensions.teams_of(ben).contains(emea));
    }
}
