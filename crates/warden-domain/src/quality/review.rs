//! The blinded QA review of a sampled decision: the assignment's states,
//! what of the original decision each state may show, the QA reviewer's
//! verdict, the rubric, the comparison, and the rework rule.
//!
//! # The assignment
//!
//! A sampled decision becomes a [`QaAssignment`] in the QA queue. Its
//! states and the events between them are one table
//! ([`QaStatus::after`]), as [`CaseStatus`] has for cases:
//!
//! | from               | event            | to                 |
//! |--------------------|------------------|--------------------|
//! | `sampled`          | `claim`          | `claimed`          |
//! | `claimed`          | `release`        | `sampled`          |
//! | `claimed`          | `expire_lease`   | `sampled`          |
//! | `claimed`          | `submit_verdict` | `verdict_submitted`|
//! | `verdict_submitted`| `score`          | `scored`           |
//! | `scored`           | `acknowledge`    | `closed`           |
//! | `scored`           | `close`          | `closed`           |
//!
//! A claim holds a lease like a case's; a lease that ran out lets another
//! reviewer claim (the assignment expires back to `sampled` first). Only QA
//! and lead roles review, never the decider of the decision. Once the
//! verdict is in, the reviewer has seen the original: the assignment stays
//! theirs without a lease, and nobody else scores it. A score with nothing
//! for the decider to read (every rubric answer right, no feedback) closes
//! at once; otherwise the decider acknowledges it.
//!
//! # Blindness
//!
//! [`BlindView`] is the one rule every surface asks: before the verdict no
//! part of the original decision is shown — its outcome and category, its
//! rationale, the decider, its actions, strikes, notices and statement,
//! the decider's notes, what happened on the case after the decision, and
//! why the decision was sampled (a reason such as "a new reviewer" names
//! the decider). The case as the decider saw it (subject, reports, signals
//! and history up to the decision) is always shown. From the verdict on,
//! everything is. [`BlindView::original`] hands out the original decision
//! only when it may be shown, so a surface that goes through it cannot
//! leak it.
//!
//! # Rubric and comparison
//!
//! The rubric ([`parse_score`]) answers `decision_correct`,
//! `category_correct`, `action_proportionate`, a `documentation` score from
//! 1 to 5 and free feedback; every field at fault is reported at once, and
//! feedback is required when an answer is "no". [`compare`] sets the QA
//! verdict beside the original: whether violation and category match, the
//! actions both chose and those only one chose, their overlap, and whether
//! the original went further or less far on the account's enforcement
//! ladder.
//!
//! # Rework and its counting
//!
//! [`plan_rework`]: a review that sends the decision back (by default when
//! `decision_correct` is false; the reviewer may decline, or send back a
//! decision whose category or actions were wrong) reopens a resolved case
//! for its decider, who corrects it through the normal correction path (a
//! new decision superseding the old); the feedback waits on the decider's
//! home page until acknowledged. A decision already superseded is not sent
//! back: it has been corrected.
//!
//! For the KPIs of `specs/kpis.md` ([`kpi_facts`]), attributed to the
//! decider's queue, category and name, never the QA reviewer's:
//!
//! - `qa_pass_rate`: a review counts when scored (`completed_at`), passing
//!   when `decision_correct`;
//! - `documentation_quality`: its `documentation` score;
//! - `rework_rate`: the reviewed decision is reworked at the time it was
//!   sent back (`qa_rework_at`), in the window of the decision's own time;
//!   a decision counts once however it is reworked (sent back, superseded,
//!   its case reopened); the correction is a new decision counted on its
//!   own;
//! - `false_negative_indicators`: a no-violation decision QA marks wrong
//!   was found to be a violation at the score's time
//!   (`violation_found_at`).

use std::fmt;
use std::str::FromStr;

use chrono::Duration;

use crate::access::Role;
use crate::case::{CaseStatus, Lease};
use crate::decision::{ActionKind, ActionSpec};
use crate::enforcement::Rung;
use crate::ids::CaseId;
use crate::limits::{DECISION_ACTIONS_MAX, LEASE_SECONDS_MAX, QA_FEEDBACK_CHARS_MAX};
use crate::taxonomy::Taxonomy;
use crate::text::check_free_text;
use crate::{FieldErrors, Timestamp};

// ---------------------------------------------------------------- states

/// Where a QA assignment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QaStatus {
    /// In the QA queue, waiting for a reviewer.
    Sampled,
    /// Claimed by a reviewer under a lease; blind.
    Claimed,
    /// The reviewer's own verdict is in; the original is revealed.
    VerdictSubmitted,
    /// The rubric is scored; waiting for the decider's acknowledgement.
    Scored,
    /// Done.
    Closed,
}

/// What happens to a QA assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QaEvent {
    /// A reviewer takes it under a lease.
    Claim,
    /// The reviewer gives it back.
    Release,
    /// The lease ran out.
    ExpireLease,
    /// The reviewer decides, blind.
    SubmitVerdict,
    /// The reviewer scores the rubric.
    Score,
    /// The decider acknowledges the feedback.
    Acknowledge,
    /// A score with nothing for the decider to read closes.
    Close,
}

impl QaStatus {
    /// Every status.
    pub const ALL: [QaStatus; 5] = [
        QaStatus::Sampled,
        QaStatus::Claimed,
        QaStatus::VerdictSubmitted,
        QaStatus::Scored,
        QaStatus::Closed,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            QaStatus::Sampled => "sampled",
            QaStatus::Claimed => "claimed",
            QaStatus::VerdictSubmitted => "verdict_submitted",
            QaStatus::Scored => "scored",
            QaStatus::Closed => "closed",
        }
    }

    /// The status after `event`, if the table allows the event here.
    pub fn after(self, event: QaEvent) -> Option<QaStatus> {
        use QaEvent::*;
        use QaStatus::*;
        match (self, event) {
            (Sampled, Claim) => Some(Claimed),
            (Claimed, Release | ExpireLease) => Some(Sampled),
            (Claimed, SubmitVerdict) => Some(VerdictSubmitted),
            (VerdictSubmitted, Score) => Some(Scored),
            (Scored, Acknowledge | Close) => Some(Closed),
            _ => None,
        }
    }

    /// Whether the original decision may be shown in this status.
    pub fn is_revealed(self) -> bool {
        match self {
            QaStatus::Sampled | QaStatus::Claimed => false,
            QaStatus::VerdictSubmitted | QaStatus::Scored | QaStatus::Closed => true,
        }
    }
}

impl QaEvent {
    /// Every event.
    pub const ALL: [QaEvent; 7] = [
        QaEvent::Claim,
        QaEvent::Release,
        QaEvent::ExpireLease,
        QaEvent::SubmitVerdict,
        QaEvent::Score,
        QaEvent::Acknowledge,
        QaEvent::Close,
    ];

    /// The name used in errors and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            QaEvent::Claim => "claim",
            QaEvent::Release => "release",
            QaEvent::ExpireLease => "expire_lease",
            QaEvent::SubmitVerdict => "submit_verdict",
            QaEvent::Score => "score",
            QaEvent::Acknowledge => "acknowledge",
            QaEvent::Close => "close",
        }
    }
}

impl FromStr for QaStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        QaStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unknown QA status {value:?}; expected sampled, claimed, verdict_submitted, scored or closed"
                )
            })
    }
}

impl fmt::Display for QaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for QaEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a role reviews decisions for QA: QA and leads.
pub fn may_review_quality(role: Role) -> bool {
    matches!(role, Role::Qa | Role::Lead)
}

// ---------------------------------------------------------------- blindness

/// A part of what a QA surface could show about a sampled decision's case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CasePart {
    /// The subject as the platform showed it.
    Subject,
    /// Reports and signals received up to the decision.
    ItemsUntilDecision,
    /// The case's history up to the decision.
    HistoryUntilDecision,
    /// Whether the decision found a violation, and its category.
    Outcome,
    /// The decision's rationale and policy.
    Rationale,
    /// Who decided.
    Decider,
    /// The actions ordered, their approvals and deliveries.
    Actions,
    /// Strikes the decision left.
    Strikes,
    /// Notices sent and the statement of reasons.
    NoticesAndStatement,
    /// Notes the decider wrote.
    DeciderNotes,
    /// Reports, signals and history after the decision (corrections,
    /// appeals, reversals).
    AfterDecision,
    /// Why the decision was sampled (a reason may name the decider).
    SampleReasons,
}

impl CasePart {
    /// Every part.
    pub const ALL: [CasePart; 12] = [
        CasePart::Subject,
        CasePart::ItemsUntilDecision,
        CasePart::HistoryUntilDecision,
        CasePart::Outcome,
        CasePart::Rationale,
        CasePart::Decider,
        CasePart::Actions,
        CasePart::Strikes,
        CasePart::NoticesAndStatement,
        CasePart::DeciderNotes,
        CasePart::AfterDecision,
        CasePart::SampleReasons,
    ];

    /// Whether the part is the case as the decider saw it, shown always.
    pub fn is_case_as_decided(self) -> bool {
        matches!(
            self,
            CasePart::Subject | CasePart::ItemsUntilDecision | CasePart::HistoryUntilDecision
        )
    }
}

/// What a QA surface may show in an assignment's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlindView {
    status: QaStatus,
}

/// The view for an assignment in `status`.
pub fn blind_view(status: QaStatus) -> BlindView {
    BlindView { status }
}

impl BlindView {
    /// Whether `part` may be shown.
    pub fn shows(self, part: CasePart) -> bool {
        part.is_case_as_decided() || self.status.is_revealed()
    }

    /// The parts hidden now.
    pub fn hidden_parts(self) -> Vec<CasePart> {
        CasePart::ALL
            .into_iter()
            .filter(|&part| !self.shows(part))
            .collect()
    }

    /// The original decision, when it may be shown.
    pub fn original(self, original: &OriginalDecision) -> Option<&OriginalDecision> {
        self.status.is_revealed().then_some(original)
    }
}

// ---------------------------------------------------------------- verdict

/// The original decision as QA compares it.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginalDecision {
    /// The decision (its store id).
    pub decision_id: i64,
    /// Its case.
    pub case_id: CaseId,
    /// Who decided.
    pub decider: String,
    /// Whether it found a violation.
    pub violation: bool,
    /// Its category.
    pub category: String,
    /// The actions it ordered.
    pub actions: Vec<ActionSpec>,
    /// When it was made.
    pub decided_at: Timestamp,
    /// The case's status now.
    pub case_status: CaseStatus,
    /// Whether a correction has superseded it.
    pub superseded: bool,
}

/// A QA reviewer's verdict as submitted, before checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QaVerdictInput {
    /// Whether a policy was broken.
    pub violation: Option<bool>,
    /// The category (taxonomy code).
    pub category: Option<String>,
    /// The actions the reviewer would order, each already checked
    /// ([`crate::decision::check_action`]).
    pub actions: Vec<ActionSpec>,
}

/// A QA reviewer's own decision on the case, made blind.
#[derive(Debug, Clone, PartialEq)]
pub struct QaVerdict {
    /// Whether a policy was broken.
    pub violation: bool,
    /// The category.
    pub category: String,
    /// The actions the reviewer would order.
    pub actions: Vec<ActionSpec>,
}

/// Checks a verdict against the taxonomy in force: every field at fault
/// (`verdict.violation`, `verdict.category`, `verdict.actions`).
pub fn parse_verdict(
    input: &QaVerdictInput,
    taxonomy: &Taxonomy,
) -> Result<QaVerdict, FieldErrors> {
    let mut errors = FieldErrors::default();
    if input.violation.is_none() {
        errors.push("verdict.violation", "is required: true or false");
    }
    let category = match &input.category {
        None => {
            errors.push("verdict.category", "is required: a taxonomy code");
            None
        }
        Some(code) => errors.take("verdict.category", taxonomy.parse_code(code)),
    };
    if input.violation == Some(false) && !input.actions.is_empty() {
        errors.push(
            "verdict.actions",
            "must be empty when there is no violation",
        );
    }
    if input.actions.len() > DECISION_ACTIONS_MAX {
        errors.push(
            "verdict.actions",
            format!("at most {DECISION_ACTIONS_MAX} actions"),
        );
    }
    match (input.violation, category) {
        (Some(violation), Some(category)) if errors.is_empty() => Ok(QaVerdict {
            violation,
            category,
            actions: input.actions.clone(),
        }),
        _ => Err(errors),
    }
}

// ---------------------------------------------------------------- rubric

/// The rubric and feedback as submitted, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoreInput {
    /// Was the decision (violation or not) right?
    pub decision_correct: Option<bool>,
    /// Was the category right?
    pub category_correct: Option<bool>,
    /// Were the actions proportionate?
    pub action_proportionate: Option<bool>,
    /// Documentation, 1 to 5.
    pub documentation: Option<i64>,
    /// Feedback to the decider.
    pub feedback: Option<String>,
    /// Whether to send the decision back for rework; by default, when the
    /// decision was wrong.
    pub rework: Option<bool>,
}

/// A documentation score, 1 (unusable) to 5 (complete and clear).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentationScore(u8);

impl DocumentationScore {
    /// Checks a score.
    pub fn parse(value: i64) -> Result<DocumentationScore, String> {
        match u8::try_from(value) {
            Ok(score @ 1..=5) => Ok(DocumentationScore(score)),
            _ => Err(format!("must be 1 to 5, got {value}")),
        }
    }

    /// The score.
    pub fn value(self) -> u8 {
        self.0
    }
}

/// A checked rubric with its feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rubric {
    /// Was the decision right?
    pub decision_correct: bool,
    /// Was the category right?
    pub category_correct: bool,
    /// Were the actions proportionate?
    pub action_proportionate: bool,
    /// Documentation score.
    pub documentation: DocumentationScore,
    /// Feedback to the decider; may be empty when every answer is "yes".
    pub feedback: String,
    /// Whether the decision goes back for rework.
    pub rework: bool,
}

impl Rubric {
    /// Whether any answer is "no".
    pub fn finds_fault(&self) -> bool {
        !(self.decision_correct && self.category_correct && self.action_proportionate)
    }

    /// Whether the decider has something to read and acknowledge.
    pub fn needs_acknowledgement(&self) -> bool {
        self.finds_fault() || !self.feedback.trim().is_empty()
    }
}

/// Checks a rubric, reporting every field at fault (`rubric.…`,
/// `feedback`, `rework`).
pub fn parse_score(input: &ScoreInput) -> Result<Rubric, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut answer = |field: &str, value: Option<bool>| {
        if value.is_none() {
            errors.push(format!("rubric.{field}"), "is required: true or false");
        }
        value
    };
    let decision_correct = answer("decision_correct", input.decision_correct);
    let category_correct = answer("category_correct", input.category_correct);
    let action_proportionate = answer("action_proportionate", input.action_proportionate);
    let documentation = match input.documentation {
        None => {
            errors.push("rubric.documentation", "is required: 1 to 5");
            None
        }
        Some(value) => errors.take("rubric.documentation", DocumentationScore::parse(value)),
    };
    let feedback = input.feedback.clone().unwrap_or_default();
    if let Err(reason) = check_free_text(&feedback, QA_FEEDBACK_CHARS_MAX) {
        errors.push("feedback", reason);
    }
    let answers = [decision_correct, category_correct, action_proportionate];
    let finds_fault = answers.contains(&Some(false));
    if finds_fault && feedback.trim().is_empty() {
        errors.push(
            "feedback",
            "is required when an answer is no: the decider needs to know what to correct",
        );
    }
    let rework = input.rework.unwrap_or(decision_correct == Some(false));
    if rework && !finds_fault && !answers.contains(&None) {
        errors.push(
            "rework",
            "only a review that finds the decision, its category or its actions wrong sends it back",
        );
    }
    match (
        decision_correct,
        category_correct,
        action_proportionate,
        documentation,
    ) {
        (
            Some(decision_correct),
            Some(category_correct),
            Some(action_proportionate),
            Some(documentation),
        ) if errors.is_empty() => Ok(Rubric {
            decision_correct,
            category_correct,
            action_proportionate,
            documentation,
            feedback,
            rework,
        }),
        _ => Err(errors),
    }
}

// ---------------------------------------------------------------- comparison

/// An action kind both the verdict and the original chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedAction {
    /// The kind.
    pub kind: ActionKind,
    /// Its duration in the verdict.
    pub verdict_duration: Option<Duration>,
    /// Its duration in the original.
    pub original_duration: Option<Duration>,
}

/// How far the original went against the QA verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proportionality {
    /// Neither ordered an action.
    NoActions,
    /// The same actions, the same lengths.
    Same,
    /// The original went further (a higher rung, a longer action, more
    /// actions).
    OriginalHarsher,
    /// The original went less far.
    OriginalLighter,
    /// Different actions with no common measure (removing content against
    /// a label).
    NotComparable,
}

impl Proportionality {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Proportionality::NoActions => "neither ordered an action",
            Proportionality::Same => "the same actions",
            Proportionality::OriginalHarsher => "the original went further than QA's verdict",
            Proportionality::OriginalLighter => "the original went less far than QA's verdict",
            Proportionality::NotComparable => "different actions with no common measure",
        }
    }
}

/// The QA verdict set beside the original decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Both found a violation, or both none.
    pub violation_matches: bool,
    /// The same category.
    pub category_matches: bool,
    /// The verdict agrees with the decision: the same violation finding
    /// and, for a violation, the same category.
    pub agrees: bool,
    /// Action kinds both chose.
    pub shared_actions: Vec<SharedAction>,
    /// Actions only the verdict chose.
    pub only_in_verdict: Vec<ActionSpec>,
    /// Actions only the original chose.
    pub only_in_original: Vec<ActionSpec>,
    /// Shared actions over all distinct actions (Jaccard); `None` when
    /// neither ordered any.
    pub action_overlap: Option<f64>,
    /// How far the original went.
    pub proportionality: Proportionality,
    /// The differences in sentences.
    pub notes: Vec<String>,
}

/// Compares a QA verdict with the original decision.
pub fn compare(verdict: &QaVerdict, original: &OriginalDecision) -> Comparison {
    let violation_matches = verdict.violation == original.violation;
    let category_matches = verdict.category == original.category;
    let agrees = violation_matches && (!verdict.violation || category_matches);
    let (shared_actions, only_in_verdict, only_in_original) =
        match_actions(&verdict.actions, &original.actions);
    let distinct = shared_actions.len() + only_in_verdict.len() + only_in_original.len();
    let action_overlap = (distinct > 0).then(|| shared_actions.len() as f64 / distinct as f64);
    let proportionality = proportionality(&verdict.actions, &original.actions);
    let mut notes = Vec::new();
    if !violation_matches {
        notes.push(if original.violation {
            "the decision found a violation; QA found none".to_string()
        } else {
            "the decision found no violation; QA found one".to_string()
        });
    }
    if !category_matches {
        notes.push(format!(
            "category {} against QA's {}",
            original.category, verdict.category
        ));
    }
    for shared in &shared_actions {
        if shared.verdict_duration != shared.original_duration {
            notes.push(format!(
                "{} for {} against QA's {}",
                shared.kind,
                length(shared.original_duration),
                length(shared.verdict_duration)
            ));
        }
    }
    for (actions, whose) in [
        (&only_in_original, "only the decision"),
        (&only_in_verdict, "only QA"),
    ] {
        if !actions.is_empty() {
            let kinds: Vec<String> = actions.iter().map(|a| describe_kind(&a.kind)).collect();
            notes.push(format!("{whose} ordered {}", kinds.join(", ")));
        }
    }
    if !matches!(
        proportionality,
        Proportionality::Same | Proportionality::NoActions
    ) {
        notes.push(proportionality.describe().to_string());
    }
    Comparison {
        violation_matches,
        category_matches,
        agrees,
        shared_actions,
        only_in_verdict,
        only_in_original,
        action_overlap,
        proportionality,
        notes,
    }
}

/// Pairs actions of the same kind, each used once.
fn match_actions(
    verdict: &[ActionSpec],
    original: &[ActionSpec],
) -> (Vec<SharedAction>, Vec<ActionSpec>, Vec<ActionSpec>) {
    let mut unmatched: Vec<Option<&ActionSpec>> = original.iter().map(Some).collect();
    let mut shared = Vec::new();
    let mut only_in_verdict = Vec::new();
    for action in verdict {
        let partner = unmatched
            .iter_mut()
            .find(|slot| slot.is_some_and(|o| o.kind == action.kind))
            .and_then(Option::take);
        match partner {
            Some(partner) => shared.push(SharedAction {
                kind: action.kind.clone(),
                verdict_duration: action.duration,
                original_duration: partner.duration,
            }),
            None => only_in_verdict.push(action.clone()),
        }
    }
    let only_in_original = unmatched.into_iter().flatten().cloned().collect();
    (shared, only_in_verdict, only_in_original)
}

/// The highest rung on the account ladder and its length (`None`: lasting).
fn top_rung(actions: &[ActionSpec]) -> Option<(Rung, Option<Duration>)> {
    actions
        .iter()
        .filter_map(|action| Rung::of(&action.kind).map(|rung| (rung, action.duration)))
        .max_by(|x, y| x.0.cmp(&y.0).then(longer(x.1, y.1)))
}

/// Orders lengths, a lasting action (`None`) longest.
fn longer(x: Option<Duration>, y: Option<Duration>) -> std::cmp::Ordering {
    match (x, y) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

fn proportionality(verdict: &[ActionSpec], original: &[ActionSpec]) -> Proportionality {
    use std::cmp::Ordering::*;
    if verdict.is_empty() && original.is_empty() {
        return Proportionality::NoActions;
    }
    let rungs = match (top_rung(original), top_rung(verdict)) {
        (Some(o), Some(v)) => o.0.cmp(&v.0).then(longer(o.1, v.1)),
        (Some(_), None) => Greater,
        (None, Some(_)) => Less,
        (None, None) => Equal,
    };
    match rungs {
        Greater => return Proportionality::OriginalHarsher,
        Less => return Proportionality::OriginalLighter,
        Equal => {}
    }
    let (shared, only_verdict, only_original) = match_actions(verdict, original);
    let lengths_differ = shared
        .iter()
        .any(|s| s.verdict_duration != s.original_duration);
    match (only_verdict.is_empty(), only_original.is_empty()) {
        (true, true) if !lengths_differ => Proportionality::Same,
        (true, false) if !lengths_differ => Proportionality::OriginalHarsher,
        (false, true) if !lengths_differ => Proportionality::OriginalLighter,
        _ => Proportionality::NotComparable,
    }
}

fn describe_kind(kind: &ActionKind) -> String {
    match kind {
        ActionKind::Restrict { feature } => format!("restrict {feature}"),
        ActionKind::Label { label } => format!("label {label}"),
        other => other.type_name().to_string(),
    }
}

fn length(duration: Option<Duration>) -> String {
    match duration {
        None => "good".to_string(),
        Some(duration) if duration.num_hours() % 24 == 0 => {
            format!("{} days", duration.num_days())
        }
        Some(duration) => format!("{} hours", duration.num_hours()),
    }
}

// ---------------------------------------------------------------- the assignment

/// A scored review of one decision.
#[derive(Debug, Clone, PartialEq)]
pub struct QaReview {
    /// The QA reviewer.
    pub reviewer: String,
    /// Their blind verdict.
    pub verdict: QaVerdict,
    /// When the verdict came in.
    pub verdict_at: Timestamp,
    /// The rubric and feedback.
    pub rubric: Rubric,
    /// When it was scored: the review's completion.
    pub scored_at: Timestamp,
}

/// A QA reviewer acting on an assignment (the decider of the sampled
/// decision is its `decider`, never its reviewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QaReviewer<'a> {
    /// The user name.
    pub name: &'a str,
    /// Their role.
    pub role: Role,
}

/// Why a change to an assignment was refused; a refused change changes
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QaRefusal {
    /// The table does not allow the event in the current status.
    #[error("a QA assignment that is {from} cannot {event}")]
    Transition {
        /// The current status.
        from: QaStatus,
        /// The event refused.
        event: QaEvent,
    },
    /// Only QA and lead roles review.
    #[error("the {role} role does not review decisions for QA")]
    RoleMayNotReview {
        /// The role.
        role: Role,
    },
    /// Nobody reviews their own decision.
    #[error("a decider cannot review their own decision")]
    OwnDecision,
    /// Another reviewer holds a live lease.
    #[error("{holder} holds this assignment until {until}")]
    HeldByOther {
        /// The holder.
        holder: String,
        /// When their lease ends.
        until: Timestamp,
    },
    /// Nobody holds the assignment under a lease.
    #[error("the QA assignment is {status}, not claimed under a lease")]
    NotClaimed {
        /// Its status.
        status: QaStatus,
    },
    /// Only the reviewer holding the assignment may do this.
    #[error("only {holder}, who holds this assignment, may do that")]
    NotHolder {
        /// The holder.
        holder: String,
    },
    /// The lease ran out before the change.
    #[error("the lease ran out at {expired_at}; claim the assignment again")]
    LeaseExpired {
        /// When it ran out.
        expired_at: Timestamp,
    },
    /// The lease has not run out.
    #[error("the lease runs until {until}")]
    LeaseLive {
        /// When it ends.
        until: Timestamp,
    },
    /// A lease length outside 1 second to the lease limit.
    #[error("a lease must be 1 to {LEASE_SECONDS_MAX} seconds")]
    LeaseLength,
    /// Only the decider acknowledges feedback.
    #[error("only {decider}, who made the decision, acknowledges its feedback")]
    NotDecider {
        /// The decider.
        decider: String,
    },
}

/// A QA assignment's state as stored, field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct QaAssignmentRecord {
    /// The sampled decision.
    pub decision_id: i64,
    /// Its case.
    pub case_id: CaseId,
    /// Who made the decision.
    pub decider: String,
    /// The plans that chose it.
    pub plans: Vec<String>,
    /// When it was sampled.
    pub sampled_at: Timestamp,
    /// The status.
    pub status: QaStatus,
    /// The live claim, while claimed.
    pub lease: Option<Lease>,
    /// The verdict and its time, from `verdict_submitted` on.
    pub verdict: Option<(String, QaVerdict, Timestamp)>,
    /// The rubric and its time, from `scored` on.
    pub rubric: Option<(Rubric, Timestamp)>,
    /// When it closed.
    pub closed_at: Option<Timestamp>,
}

/// A sampled decision on its way through QA (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct QaAssignment {
    record: QaAssignmentRecord,
}

impl QaAssignment {
    /// A new assignment for a sampled decision.
    pub fn sampled(
        decision_id: i64,
        case_id: CaseId,
        decider: &str,
        plans: Vec<String>,
        sampled_at: Timestamp,
    ) -> QaAssignment {
        QaAssignment {
            record: QaAssignmentRecord {
                decision_id,
                case_id,
                decider: decider.to_string(),
                plans,
                sampled_at,
                status: QaStatus::Sampled,
                lease: None,
                verdict: None,
                rubric: None,
                closed_at: None,
            },
        }
    }

    /// An assignment read back from storage, checked for consistency: each
    /// status has exactly the parts it should.
    pub fn restore(record: QaAssignmentRecord) -> Result<QaAssignment, String> {
        use QaStatus::*;
        let status = record.status;
        let expected = (
            status == Claimed,
            matches!(status, VerdictSubmitted | Scored | Closed),
            matches!(status, Scored | Closed),
        );
        let actual = (
            record.lease.is_some(),
            record.verdict.is_some(),
            record.rubric.is_some(),
        );
        if expected != actual || (status == Closed) != record.closed_at.is_some() {
            return Err(format!(
                "a {status} QA assignment of decision {} has the wrong parts (lease, verdict, rubric, closing time)",
                record.decision_id
            ));
        }
        Ok(QaAssignment { record })
    }

    /// The state, for storage.
    pub fn record(&self) -> &QaAssignmentRecord {
        &self.record
    }

    /// The status.
    pub fn status(&self) -> QaStatus {
        self.record.status
    }

    /// What QA surfaces may show now.
    pub fn blind_view(&self) -> BlindView {
        blind_view(self.record.status)
    }

    /// The scored review, from `scored` on.
    pub fn review(&self) -> Option<QaReview> {
        let (reviewer, verdict, verdict_at) = self.record.verdict.clone()?;
        let (rubric, scored_at) = self.record.rubric.clone()?;
        Some(QaReview {
            reviewer,
            verdict,
            verdict_at,
            rubric,
            scored_at,
        })
    }

    /// The reviewer takes the assignment under a lease of `lease`. A lease
    /// that ran out by `now` is expired first; the holder claiming again
    /// renews.
    pub fn claim(
        &mut self,
        reviewer: QaReviewer<'_>,
        now: Timestamp,
        lease: Duration,
    ) -> Result<(), QaRefusal> {
        if !may_review_quality(reviewer.role) {
            return Err(QaRefusal::RoleMayNotReview {
                role: reviewer.role,
            });
        }
        if reviewer.name == self.record.decider {
            return Err(QaRefusal::OwnDecision);
        }
        check_lease_length(lease)?;
        let mut status = self.record.status;
        if let Some(held) = &self.record.lease {
            if held.is_active(now) && held.assignee == reviewer.name {
                // Claiming again what one holds renews the lease.
                return self.renew(reviewer.name, now, lease);
            }
            if held.is_active(now) {
                return Err(QaRefusal::HeldByOther {
                    holder: held.assignee.clone(),
                    until: held.expires_at,
                });
            }
            status = self.step(status, QaEvent::ExpireLease)?;
        }
        self.record.status = self.step(status, QaEvent::Claim)?;
        self.record.lease = Some(Lease {
            assignee: reviewer.name.to_string(),
            expires_at: now + lease,
            held: false,
        });
        Ok(())
    }

    /// The holder extends a live lease to `now + lease`.
    pub fn renew(
        &mut self,
        reviewer: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<(), QaRefusal> {
        check_lease_length(lease)?;
        self.live_lease_of(reviewer, now)?;
        if let Some(held) = &mut self.record.lease {
            held.expires_at = now + lease;
        }
        Ok(())
    }

    /// The holder gives the assignment back to the queue.
    pub fn release(&mut self, reviewer: &str) -> Result<(), QaRefusal> {
        let status = self.step(self.record.status, QaEvent::Release)?;
        self.holder_is(reviewer)?;
        self.record.status = status;
        self.record.lease = None;
        Ok(())
    }

    /// A lease that ran out by `now` puts the assignment back in the queue.
    pub fn expire(&mut self, now: Timestamp) -> Result<(), QaRefusal> {
        let status = self.step(self.record.status, QaEvent::ExpireLease)?;
        if let Some(held) = &self.record.lease {
            if held.is_active(now) {
                return Err(QaRefusal::LeaseLive {
                    until: held.expires_at,
                });
            }
        }
        self.record.status = status;
        self.record.lease = None;
        Ok(())
    }

    /// The holder submits their blind verdict under a live lease; the
    /// original is revealed to them.
    pub fn submit_verdict(
        &mut self,
        reviewer: &str,
        verdict: QaVerdict,
        now: Timestamp,
    ) -> Result<(), QaRefusal> {
        let status = self.step(self.record.status, QaEvent::SubmitVerdict)?;
        self.live_lease_of(reviewer, now)?;
        self.record.status = status;
        self.record.lease = None;
        self.record.verdict = Some((reviewer.to_string(), verdict, now));
        Ok(())
    }

    /// The reviewer who gave the verdict scores the rubric. A score with
    /// nothing for the decider to read closes the assignment.
    pub fn score(
        &mut self,
        reviewer: &str,
        rubric: Rubric,
        now: Timestamp,
    ) -> Result<QaReview, QaRefusal> {
        let status = self.step(self.record.status, QaEvent::Score)?;
        // A submitted verdict is present from `verdict_submitted` on.
        let Some((holder, verdict, verdict_at)) = self.record.verdict.clone() else {
            return Err(QaRefusal::Transition {
                from: self.record.status,
                event: QaEvent::Score,
            });
        };
        if holder != reviewer {
            return Err(QaRefusal::NotHolder { holder });
        }
        self.record.status = status;
        if !rubric.needs_acknowledgement() {
            self.record.status = self.step(status, QaEvent::Close)?;
            self.record.closed_at = Some(now);
        }
        self.record.rubric = Some((rubric.clone(), now));
        Ok(QaReview {
            reviewer: holder,
            verdict,
            verdict_at,
            rubric,
            scored_at: now,
        })
    }

    /// The decider acknowledges the feedback.
    pub fn acknowledge(&mut self, decider: &str, now: Timestamp) -> Result<(), QaRefusal> {
        let status = self.step(self.record.status, QaEvent::Acknowledge)?;
        if decider != self.record.decider {
            return Err(QaRefusal::NotDecider {
                decider: self.record.decider.clone(),
            });
        }
        self.record.status = status;
        self.record.closed_at = Some(now);
        Ok(())
    }

    fn step(&self, from: QaStatus, event: QaEvent) -> Result<QaStatus, QaRefusal> {
        from.after(event)
            .ok_or(QaRefusal::Transition { from, event })
    }

    fn holder_is(&self, reviewer: &str) -> Result<&Lease, QaRefusal> {
        match &self.record.lease {
            Some(held) if held.assignee == reviewer => Ok(held),
            Some(held) => Err(QaRefusal::NotHolder {
                holder: held.assignee.clone(),
            }),
            None => Err(QaRefusal::NotClaimed {
                status: self.record.status,
            }),
        }
    }

    fn live_lease_of(&self, reviewer: &str, now: Timestamp) -> Result<(), QaRefusal> {
        let held = self.holder_is(reviewer)?;
        if held.is_active(now) {
            Ok(())
        } else {
            Err(QaRefusal::LeaseExpired {
                expired_at: held.expires_at,
            })
        }
    }
}

fn check_lease_length(lease: Duration) -> Result<(), QaRefusal> {
    if lease <= Duration::zero() || lease > Duration::seconds(LEASE_SECONDS_MAX) {
        return Err(QaRefusal::LeaseLength);
    }
    Ok(())
}

// ---------------------------------------------------------------- rework

/// A decision sent back to its decider.
#[derive(Debug, Clone, PartialEq)]
pub struct Rework {
    /// The decision to correct.
    pub decision_id: i64,
    /// Its case.
    pub case_id: CaseId,
    /// Who corrects it (the decider) and acknowledges the feedback.
    pub decider: String,
    /// The QA reviewer's feedback.
    pub feedback: String,
    /// QA's verdict, shown beside the feedback.
    pub suggestion: QaVerdict,
    /// Whether the resolved case reopens for the correction; `false` when
    /// the case is open already (reopened for an appeal, say), where the
    /// correction is made on the open case.
    pub reopen_case: bool,
    /// When it was sent back.
    pub sent_back_at: Timestamp,
}

/// The rework a scored review calls for, if any (see the module
/// documentation).
pub fn plan_rework(review: &QaReview, original: &OriginalDecision) -> Option<Rework> {
    if !review.rubric.rework || original.superseded {
        return None;
    }
    Some(Rework {
        decision_id: original.decision_id,
        case_id: original.case_id,
        decider: original.decider.clone(),
        feedback: review.rubric.feedback.clone(),
        suggestion: review.verdict.clone(),
        reopen_case: original.case_status.can_become(CaseStatus::Reopened),
        sent_back_at: review.scored_at,
    })
}

/// What a review adds to the KPIs, for the reviewed decision (attributed
/// to its decider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QaKpiFacts {
    /// The reviewed decision.
    pub decision_id: i64,
    /// The review's completion: its time in `qa_pass_rate` and
    /// `documentation_quality`.
    pub completed_at: Timestamp,
    /// Whether it passed.
    pub decision_correct: bool,
    /// The documentation score, 1 to 5.
    pub documentation: u8,
    /// When QA sent the decision back (`rework_rate`).
    pub qa_rework_at: Option<Timestamp>,
    /// When QA found a violation the decision missed
    /// (`false_negative_indicators`).
    pub violation_found_at: Option<Timestamp>,
}

/// The KPI facts of a scored review and the rework it caused.
pub fn kpi_facts(
    review: &QaReview,
    original: &OriginalDecision,
    rework: Option<&Rework>,
) -> QaKpiFacts {
    QaKpiFacts {
        decision_id: original.decision_id,
        completed_at: review.scored_at,
        decision_correct: review.rubric.decision_correct,
        documentation: review.rubric.documentation.value(),
        qa_rework_at: rework.map(|rework| rework.sent_back_at),
        violation_found_at: (!original.violation && !review.rubric.decision_correct)
            .then_some(review.scored_at),
    }
}

#[cfg(test)]
mod tests;
