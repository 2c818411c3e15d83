//! Calibration sessions: a set of cases each listed rater labels
//! independently and blind to the others, then the team looks at where it
//! disagreed and writes down what the policy means.
//!
//! # States
//!
//! | from     | event     | to         |
//! |----------|-----------|------------|
//! | `draft`  | `open`    | `open`     |
//! | `open`   | `close`   | `closed`   |
//! | `closed` | `resolve` | `resolved` |
//!
//! A lead or QA user creates a session ([`may_run_calibration`]) from cases
//! picked by hand or sampled ([`sample_cases`], reproducible by seed) and
//! the raters; its organizers (the creator and every lead) may change its
//! cases and raters while it is a draft, open, close and resolve it.
//!
//! # Ratings and blindness
//!
//! While open, each listed rater gives each case one label, a taxonomy
//! code; a rating is final (the same label again is a duplicate, another is
//! refused), so nobody revises after hearing the room. Until the session
//! closes a rater sees only their own ratings, and everyone only how many
//! each rater has given ([`CalibrationSession::view_for`]).
//!
//! # The report
//!
//! Closing computes a [`CalibrationReport`] with
//! [`agreement`](super::agreement): cases, raters and labels are numbered
//! in order (case id, name, code), so the report does not depend on the
//! order ratings came in. It has the statistics (percent agreement,
//! Fleiss', Cohen's kappa, Krippendorff's alpha), each case's label counts
//! and consensus (the plurality; a tie is no consensus and names the tied
//! labels), each rater's agreement with consensus and **deviation**: that
//! agreement minus the session's mean agreement, the mean taken over raters
//! whose agreement is defined (the per-reviewer `policy_alignment_variance`
//! of `specs/kpis.md`; the session's value is the mean absolute
//! deviation), and the most disputed cases. Resolving records a note linked
//! to taxonomy categories: the guidance the session settled.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::access::Role;
use crate::ids::UserName;
use crate::limits::{
    CALIBRATION_CANDIDATES_MAX, CALIBRATION_CASES_MAX, CALIBRATION_NOTE_CATEGORIES_MAX,
    CALIBRATION_NOTE_CHARS_MAX, CALIBRATION_RATERS_MAX, CALIBRATION_TITLE_CHARS_MAX,
};
use crate::quality::agreement::{
    measure, Consensus, ItemAgreement, RaterAgreement, Rating, RatingSet, Statistic, Undefined,
};
use crate::quality::sampling::DrawKey;
use crate::taxonomy::Taxonomy;
use crate::text::check_free_text;
use crate::{FieldErrors, Timestamp};

// ---------------------------------------------------------------- states

/// Where a calibration session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// Being prepared: cases and raters may change.
    Draft,
    /// Taking ratings.
    Open,
    /// Ratings in; the report is shown.
    Closed,
    /// The resolution note is written.
    Resolved,
}

/// What happens to a calibration session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionEvent {
    /// Start taking ratings.
    Open,
    /// Stop taking ratings and compute the report.
    Close,
    /// Record the resolution note.
    Resolve,
}

impl SessionStatus {
    /// Every status.
    pub const ALL: [SessionStatus; 4] = [
        SessionStatus::Draft,
        SessionStatus::Open,
        SessionStatus::Closed,
        SessionStatus::Resolved,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Draft => "draft",
            SessionStatus::Open => "open",
            SessionStatus::Closed => "closed",
            SessionStatus::Resolved => "resolved",
        }
    }

    /// The status after `event`, if the table allows it here.
    pub fn after(self, event: SessionEvent) -> Option<SessionStatus> {
        match (self, event) {
            (SessionStatus::Draft, SessionEvent::Open) => Some(SessionStatus::Open),
            (SessionStatus::Open, SessionEvent::Close) => Some(SessionStatus::Closed),
            (SessionStatus::Closed, SessionEvent::Resolve) => Some(SessionStatus::Resolved),
            _ => None,
        }
    }

    /// Whether ratings are shown to everyone.
    pub fn reveals_ratings(self) -> bool {
        matches!(self, SessionStatus::Closed | SessionStatus::Resolved)
    }
}

impl SessionEvent {
    /// Every event.
    pub const ALL: [SessionEvent; 3] = [
        SessionEvent::Open,
        SessionEvent::Close,
        SessionEvent::Resolve,
    ];

    /// The name used in errors and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEvent::Open => "open",
            SessionEvent::Close => "close",
            SessionEvent::Resolve => "resolve",
        }
    }
}

impl FromStr for SessionStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        SessionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unknown session status {value:?}; expected draft, open, closed or resolved"
                )
            })
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a role creates and runs calibration sessions: leads and QA.
pub fn may_run_calibration(role: Role) -> bool {
    matches!(role, Role::Lead | Role::Qa)
}

// ---------------------------------------------------------------- input and errors

/// Someone acting on a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Participant<'a> {
    /// Their user name.
    pub name: &'a str,
    /// Their role.
    pub role: Role,
}

/// A new session as asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInput {
    /// A title: what is being calibrated.
    pub title: String,
    /// The cases to rate.
    pub case_ids: Vec<i64>,
    /// Who rates them (user names).
    pub raters: Vec<String>,
}

/// A resolution as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolutionInput {
    /// What the session settled: the guidance.
    pub note: String,
    /// The taxonomy categories it applies to.
    pub categories: Vec<String>,
}

/// Why a change to a session was refused; a refused change changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalibrationRefusal {
    /// The table does not allow the event, or the change, in this status.
    #[error("a {from} calibration session cannot {action}")]
    Status {
        /// The current status.
        from: SessionStatus,
        /// What was tried.
        action: &'static str,
    },
    /// Only leads and QA run sessions.
    #[error("the {role} role does not run calibration sessions")]
    RoleMayNotRun {
        /// The role.
        role: Role,
    },
    /// Only the creator and leads organize a session.
    #[error("only {creator}, who created the session, or a lead may do that")]
    NotOrganizer {
        /// The creator.
        creator: String,
    },
    /// The user is not a rater of this session.
    #[error("{rater} is not a rater of this session")]
    NotRater {
        /// Who tried to rate.
        rater: String,
    },
    /// The case is not in this session.
    #[error("case {case_id} is not in this session")]
    UnknownCase {
        /// The case.
        case_id: i64,
    },
    /// The rater has rated the case with another label.
    #[error("{rater} already rated case {case_id} as {label}; a rating is final")]
    AlreadyRated {
        /// The case.
        case_id: i64,
        /// The rater.
        rater: String,
        /// The label given first.
        label: String,
    },
}

/// A refusal or input at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalibrationError {
    /// Not allowed, for the session's state or the user.
    #[error(transparent)]
    Refused(#[from] CalibrationRefusal),
    /// Input at fault, every field named.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
}

// ---------------------------------------------------------------- the session

/// One rater's label for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalibrationRating {
    /// The case.
    pub case_id: i64,
    /// The rater.
    pub rater: String,
    /// The label, a taxonomy code.
    pub label: String,
    /// When it was given.
    pub rated_at: Timestamp,
}

/// What a rating did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingOutcome {
    /// Recorded.
    Recorded,
    /// The same rating was already there; nothing changed.
    Duplicate,
}

/// The guidance a session settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The note.
    pub note: String,
    /// The categories it applies to, as given.
    pub categories: Vec<String>,
    /// Who wrote it.
    pub resolved_by: String,
    /// When.
    pub resolved_at: Timestamp,
}

/// A session's state as stored, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalibrationSessionRecord {
    /// The title.
    pub title: String,
    /// The cases, in the order given.
    pub case_ids: Vec<i64>,
    /// The raters, in the order given.
    pub raters: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// The status.
    pub status: SessionStatus,
    /// The ratings, by case then rater.
    pub ratings: Vec<CalibrationRating>,
    /// When it opened.
    pub opened_at: Option<Timestamp>,
    /// When it closed.
    pub closed_at: Option<Timestamp>,
    /// The resolution, once resolved.
    pub resolution: Option<Resolution>,
}

/// A calibration session (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationSession {
    record: CalibrationSessionRecord,
    /// Computed at close from the ratings.
    report: Option<CalibrationReport>,
}

/// How far a rater has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaterProgress {
    /// The rater.
    pub rater: String,
    /// Cases rated.
    pub rated: u32,
    /// Cases in the session.
    pub cases: u32,
}

/// What one user may see of a session now.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView<'a> {
    /// The ratings shown: the viewer's own until the session closes, then
    /// all.
    pub ratings: Vec<&'a CalibrationRating>,
    /// Every rater's progress.
    pub progress: Vec<RaterProgress>,
    /// The report, once closed.
    pub report: Option<&'a CalibrationReport>,
}

impl CalibrationSession {
    /// A draft session created by `by`.
    pub fn create(
        by: Participant<'_>,
        input: &SessionInput,
        now: Timestamp,
    ) -> Result<CalibrationSession, CalibrationError> {
        if !may_run_calibration(by.role) {
            return Err(CalibrationRefusal::RoleMayNotRun { role: by.role }.into());
        }
        let mut errors = FieldErrors::default();
        let title = input.title.trim();
        if title.is_empty() {
            errors.push("title", "is required: what is being calibrated");
        } else if let Err(reason) = check_free_text(title, CALIBRATION_TITLE_CHARS_MAX) {
            errors.push("title", reason);
        }
        check_cases(&mut errors, &input.case_ids);
        check_raters(&mut errors, &input.raters);
        errors
            .finish(|| CalibrationSession {
                record: CalibrationSessionRecord {
                    title: title.to_string(),
                    case_ids: input.case_ids.clone(),
                    raters: input.raters.clone(),
                    created_by: by.name.to_string(),
                    created_at: now,
                    status: SessionStatus::Draft,
                    ratings: Vec::new(),
                    opened_at: None,
                    closed_at: None,
                    resolution: None,
                },
                report: None,
            })
            .map_err(CalibrationError::from)
    }

    /// A session read back from storage, checked (limits, unique cases and
    /// raters, ratings of listed raters and cases, one per pair, parts that
    /// fit the status), its report computed again when closed.
    pub fn restore(record: CalibrationSessionRecord) -> Result<CalibrationSession, String> {
        let mut errors = FieldErrors::default();
        check_cases(&mut errors, &record.case_ids);
        check_raters(&mut errors, &record.raters);
        let mut pairs = BTreeSet::new();
        for (index, rating) in record.ratings.iter().enumerate() {
            if !record.case_ids.contains(&rating.case_id) || !record.raters.contains(&rating.rater)
            {
                errors.push(
                    format!("ratings[{index}]"),
                    "names a case or rater not in the session",
                );
            }
            if !pairs.insert((rating.case_id, rating.rater.as_str())) {
                errors.push(format!("ratings[{index}]"), "repeats a (case, rater) pair");
            }
        }
        let status = record.status;
        let parts = (
            record.opened_at.is_some(),
            record.closed_at.is_some(),
            record.resolution.is_some(),
        );
        let expected = (
            status != SessionStatus::Draft,
            status.reveals_ratings(),
            status == SessionStatus::Resolved,
        );
        if parts != expected || (status == SessionStatus::Draft && !record.ratings.is_empty()) {
            errors.push("status", format!("a {status} session has the wrong parts"));
        }
        if !errors.is_empty() {
            return Err(format!("calibration session {:?}: {errors}", record.title));
        }
        drop(pairs);
        let report = status
            .reveals_ratings()
            .then(|| CalibrationReport::compute(&record));
        Ok(CalibrationSession { record, report })
    }

    /// The state, for storage.
    pub fn record(&self) -> &CalibrationSessionRecord {
        &self.record
    }

    /// The status.
    pub fn status(&self) -> SessionStatus {
        self.record.status
    }

    /// The report, once closed.
    pub fn report(&self) -> Option<&CalibrationReport> {
        self.report.as_ref()
    }

    /// Replaces the cases of a draft.
    pub fn replace_cases(
        &mut self,
        by: Participant<'_>,
        case_ids: &[i64],
    ) -> Result<(), CalibrationError> {
        self.check_draft_change(by, "change its cases")?;
        let mut errors = FieldErrors::default();
        check_cases(&mut errors, case_ids);
        errors.finish(|| ())?;
        self.record.case_ids = case_ids.to_vec();
        Ok(())
    }

    /// Replaces the raters of a draft.
    pub fn replace_raters(
        &mut self,
        by: Participant<'_>,
        raters: &[String],
    ) -> Result<(), CalibrationError> {
        self.check_draft_change(by, "change its raters")?;
        let mut errors = FieldErrors::default();
        check_raters(&mut errors, raters);
        errors.finish(|| ())?;
        self.record.raters = raters.to_vec();
        Ok(())
    }

    /// Starts taking ratings.
    pub fn open(&mut self, by: Participant<'_>, now: Timestamp) -> Result<(), CalibrationRefusal> {
        let status = self.step(SessionEvent::Open)?;
        self.check_organizer(by)?;
        self.record.status = status;
        self.record.opened_at = Some(now);
        Ok(())
    }

    /// `rater` labels `case_id` with `label`, a code of `taxonomy`.
    pub fn rate(
        &mut self,
        rater: &str,
        case_id: i64,
        label: &str,
        taxonomy: &Taxonomy,
        now: Timestamp,
    ) -> Result<RatingOutcome, CalibrationError> {
        if self.record.status != SessionStatus::Open {
            return Err(CalibrationRefusal::Status {
                from: self.record.status,
                action: "take ratings",
            }
            .into());
        }
        if !self.record.raters.iter().any(|listed| listed == rater) {
            return Err(CalibrationRefusal::NotRater {
                rater: rater.to_string(),
            }
            .into());
        }
        if !self.record.case_ids.contains(&case_id) {
            return Err(CalibrationRefusal::UnknownCase { case_id }.into());
        }
        let label = taxonomy
            .parse_code(label)
            .map_err(|reason| FieldErrors::from(crate::FieldError::new("label", reason)))?;
        let existing = self
            .record
            .ratings
            .iter()
            .find(|rating| rating.case_id == case_id && rating.rater == rater);
        match existing {
            Some(rating) if rating.label == label => Ok(RatingOutcome::Duplicate),
            Some(rating) => Err(CalibrationRefusal::AlreadyRated {
                case_id,
                rater: rater.to_string(),
                label: rating.label.clone(),
            }
            .into()),
            None => {
                self.record.ratings.push(CalibrationRating {
                    case_id,
                    rater: rater.to_string(),
                    label,
                    rated_at: now,
                });
                Ok(RatingOutcome::Recorded)
            }
        }
    }

    /// What `viewer` may see now: their own ratings until the session
    /// closes, then every rating and the report; everyone sees progress.
    pub fn view_for(&self, viewer: &str) -> SessionView<'_> {
        let revealed = self.record.status.reveals_ratings();
        let mut ratings: Vec<&CalibrationRating> = self
            .record
            .ratings
            .iter()
            .filter(|rating| revealed || rating.rater == viewer)
            .collect();
        ratings.sort_by(|x, y| (x.case_id, &x.rater).cmp(&(y.case_id, &y.rater)));
        let progress = self
            .record
            .raters
            .iter()
            .map(|rater| RaterProgress {
                rater: rater.clone(),
                // Both are at most CALIBRATION_CASES_MAX.
                rated: self
                    .record
                    .ratings
                    .iter()
                    .filter(|r| &r.rater == rater)
                    .count() as u32,
                cases: self.record.case_ids.len() as u32,
            })
            .collect();
        SessionView {
            ratings,
            progress,
            report: self.report.as_ref(),
        }
    }

    /// Stops taking ratings and computes the report.
    pub fn close(
        &mut self,
        by: Participant<'_>,
        now: Timestamp,
    ) -> Result<&CalibrationReport, CalibrationRefusal> {
        let status = self.step(SessionEvent::Close)?;
        self.check_organizer(by)?;
        self.record.status = status;
        self.record.closed_at = Some(now);
        Ok(self.report.insert(CalibrationReport::compute(&self.record)))
    }

    /// Records the guidance the session settled.
    pub fn resolve(
        &mut self,
        by: Participant<'_>,
        input: &ResolutionInput,
        taxonomy: &Taxonomy,
        now: Timestamp,
    ) -> Result<(), CalibrationError> {
        let status = self.step(SessionEvent::Resolve)?;
        self.check_organizer(by)?;
        let mut errors = FieldErrors::default();
        if input.note.trim().is_empty() {
            errors.push("note", "is required: the guidance the session settled");
        } else if let Err(reason) = check_free_text(&input.note, CALIBRATION_NOTE_CHARS_MAX) {
            errors.push("note", reason);
        }
        if input.categories.is_empty() {
            errors.push(
                "categories",
                "name at least one taxonomy category the note applies to",
            );
        } else if input.categories.len() > CALIBRATION_NOTE_CATEGORIES_MAX {
            errors.push(
                "categories",
                format!(
                    "has {} entries; at most {CALIBRATION_NOTE_CATEGORIES_MAX} are allowed",
                    input.categories.len()
                ),
            );
        } else {
            for (index, code) in input.categories.iter().enumerate() {
                let field = format!("categories[{index}]");
                if input.categories[..index].contains(code) {
                    errors.push(field, format!("{code:?} is listed twice"));
                } else if let Err(reason) = taxonomy.parse_code(code) {
                    errors.push(field, reason);
                }
            }
        }
        errors.finish(|| ())?;
        self.record.status = status;
        self.record.resolution = Some(Resolution {
            note: input.note.clone(),
            categories: input.categories.clone(),
            resolved_by: by.name.to_string(),
            resolved_at: now,
        });
        Ok(())
    }

    fn step(&self, event: SessionEvent) -> Result<SessionStatus, CalibrationRefusal> {
        self.record
            .status
            .after(event)
            .ok_or(CalibrationRefusal::Status {
                from: self.record.status,
                action: event.as_str(),
            })
    }

    fn check_organizer(&self, by: Participant<'_>) -> Result<(), CalibrationRefusal> {
        if by.name == self.record.created_by || by.role == Role::Lead {
            Ok(())
        } else {
            Err(CalibrationRefusal::NotOrganizer {
                creator: self.record.created_by.clone(),
            })
        }
    }

    fn check_draft_change(
        &self,
        by: Participant<'_>,
        action: &'static str,
    ) -> Result<(), CalibrationRefusal> {
        if self.record.status != SessionStatus::Draft {
            return Err(CalibrationRefusal::Status {
                from: self.record.status,
                action,
            });
        }
        self.check_organizer(by)
    }
}

fn check_cases(errors: &mut FieldErrors, case_ids: &[i64]) {
    if case_ids.is_empty() || case_ids.len() > CALIBRATION_CASES_MAX {
        errors.push(
            "case_ids",
            format!(
                "has {} cases; a session has 1 to {CALIBRATION_CASES_MAX}",
                case_ids.len()
            ),
        );
        return;
    }
    for (index, &case_id) in case_ids.iter().enumerate() {
        let field = format!("case_ids[{index}]");
        if case_id <= 0 {
            errors.push(field, format!("{case_id} is not a case id"));
        } else if case_ids[..index].contains(&case_id) {
            errors.push(field, format!("case {case_id} is listed twice"));
        }
    }
}

fn check_raters(errors: &mut FieldErrors, raters: &[String]) {
    if raters.len() < 2 || raters.len() > CALIBRATION_RATERS_MAX {
        errors.push(
            "raters",
            format!(
                "has {} raters; a session has 2 to {CALIBRATION_RATERS_MAX}, since agreement needs two",
                raters.len()
            ),
        );
        return;
    }
    for (index, rater) in raters.iter().enumerate() {
        let field = format!("raters[{index}]");
        if let Err(reason) = UserName::parse(rater) {
            errors.push(field, reason);
        } else if raters[..index].contains(rater) {
            errors.push(field, format!("{rater:?} is listed twice"));
        }
    }
}

/// `count` of `candidates` chosen by seed: the ones with the lowest draws
/// (the sampling plans' keyed hash, under the name `calibration`), by case
/// id. The same seed and candidates give the same cases, in any order.
pub fn sample_cases(seed: u64, candidates: &[i64], count: usize) -> Result<Vec<i64>, FieldErrors> {
    let mut errors = FieldErrors::default();
    if candidates.len() > CALIBRATION_CANDIDATES_MAX {
        errors.push(
            "candidates",
            format!(
                "has {} cases; at most {CALIBRATION_CANDIDATES_MAX} are allowed",
                candidates.len()
            ),
        );
    }
    if !(1..=CALIBRATION_CASES_MAX).contains(&count) {
        errors.push(
            "count",
            format!("must be 1 to {CALIBRATION_CASES_MAX}, got {count}"),
        );
    }
    let distinct: BTreeSet<i64> = candidates.iter().copied().collect();
    if distinct.len() != candidates.len() {
        errors.push("candidates", "lists a case twice");
    }
    errors.finish(|| ())?;
    let key = DrawKey::new(seed, "calibration");
    let mut drawn: Vec<(u64, i64)> = distinct
        .into_iter()
        .map(|case_id| (key.draw(case_id).bits(), case_id))
        .collect();
    drawn.sort_unstable();
    let mut chosen: Vec<i64> = drawn.into_iter().take(count).map(|(_, id)| id).collect();
    chosen.sort_unstable();
    Ok(chosen)
}

// ---------------------------------------------------------------- report

/// A closed session's report (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationReport {
    /// Cases with at least one rating.
    pub rated_cases: usize,
    /// Raters with at least one rating.
    pub active_raters: usize,
    /// Ratings.
    pub ratings: usize,
    /// Labels used.
    pub labels_used: usize,
    /// Fleiss' mean per-item agreement P̄.
    pub percent_agreement: Statistic,
    /// Fleiss' kappa (every case rated by the same number of raters).
    pub fleiss_kappa: Statistic,
    /// Cohen's kappa, with exactly two active raters.
    pub cohen_kappa: Statistic,
    /// Krippendorff's alpha, nominal.
    pub krippendorff_alpha_nominal: Statistic,
    /// Every case of the session, by case id.
    pub cases: Vec<CaseLabels>,
    /// Every listed rater, by name.
    pub raters: Vec<RaterDeviation>,
    /// The mean of the raters' agreement with consensus.
    pub mean_agreement: Statistic,
    /// The mean absolute deviation from that mean: the session's policy
    /// alignment variance.
    pub alignment_variance: Statistic,
    /// The least agreed-on cases, most disputed first.
    pub most_disputed: Vec<DisputedCase>,
}

/// One case's labels.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLabels {
    /// The case.
    pub case_id: i64,
    /// (label, ratings), most chosen first, then by label.
    pub labels: Vec<(String, u32)>,
    /// Its consensus.
    pub consensus: CaseConsensus,
    /// The share of agreeing pairs of its ratings; `None` below two.
    pub agreement: Option<f64>,
}

/// What most of a case's raters chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseConsensus {
    /// Nobody rated it.
    Unrated,
    /// One label has more ratings than any other.
    Label(String),
    /// These labels tie for the most ratings: no consensus.
    Tie(Vec<String>),
}

/// One rater against the consensus.
#[derive(Debug, Clone, PartialEq)]
pub struct RaterDeviation {
    /// The rater.
    pub rater: String,
    /// Their ratings.
    pub ratings: u32,
    /// Of those, compared with a consensus.
    pub compared: u32,
    /// Their share of compared ratings equal to the consensus.
    pub agreement: Statistic,
    /// Their agreement minus the session's mean agreement.
    pub deviation: Statistic,
}

/// A case the raters disagreed on.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputedCase {
    /// The case.
    pub case_id: i64,
    /// The share of agreeing pairs of its ratings, below 1.
    pub agreement: f64,
    /// (label, ratings), most chosen first.
    pub labels: Vec<(String, u32)>,
}

impl CalibrationReport {
    fn compute(record: &CalibrationSessionRecord) -> CalibrationReport {
        let mut cases = record.case_ids.clone();
        cases.sort_unstable();
        let mut raters = record.raters.clone();
        raters.sort_unstable();
        let labels: Vec<&str> = record
            .ratings
            .iter()
            .map(|rating| rating.label.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index = |list: &[i64], value: i64| list.binary_search(&value).unwrap_or(0) as u32;
        let ratings: Vec<Rating> = record
            .ratings
            .iter()
            .map(|rating| Rating {
                item: index(&cases, rating.case_id),
                rater: raters.binary_search(&rating.rater).unwrap_or(0) as u32,
                category: labels.binary_search(&rating.label.as_str()).unwrap_or(0) as u32,
            })
            .collect();
        // Sessions are checked on creation and restore: cases, raters and
        // labels within the agreement limits, one rating per (case, rater),
        // every rating naming a listed case and rater.
        let set = RatingSet::new(cases.len(), raters.len(), labels.len(), &ratings)
            // cannot fail: the session was checked before, so its ratings make a valid set.
            .expect("a checked session makes a valid rating set");
        let agreement = measure(&set);
        let case_labels: Vec<CaseLabels> = cases
            .iter()
            .enumerate()
            .map(|(item, &case_id)| {
                let summary = &agreement.item_agreement[item];
                case_labels(&set, item as u32, case_id, summary, &labels)
            })
            .collect();
        let (rater_deviations, mean_agreement, alignment_variance) =
            deviations(&raters, &agreement.raters_vs_consensus);
        let most_disputed = agreement
            .most_disputed
            .iter()
            .map(|disputed| DisputedCase {
                case_id: cases[disputed.item as usize],
                agreement: disputed.agreement,
                labels: named(&disputed.labels, &labels),
            })
            .collect();
        CalibrationReport {
            rated_cases: agreement.items,
            active_raters: agreement.raters,
            ratings: agreement.ratings,
            labels_used: agreement.categories,
            percent_agreement: agreement.percent_agreement,
            fleiss_kappa: agreement.fleiss_kappa,
            cohen_kappa: agreement.cohen_kappa,
            krippendorff_alpha_nominal: agreement.krippendorff_alpha_nominal,
            cases: case_labels,
            raters: rater_deviations,
            mean_agreement,
            alignment_variance,
            most_disputed,
        }
    }
}

/// Label names for (category, ratings) pairs.
fn named(counts: &[(u32, u32)], labels: &[&str]) -> Vec<(String, u32)> {
    counts
        .iter()
        .map(|&(category, votes)| (labels[category as usize].to_string(), votes))
        .collect()
}

/// One case's labels and consensus, with a tie's labels named.
fn case_labels(
    set: &RatingSet,
    item: u32,
    case_id: i64,
    summary: &ItemAgreement,
    labels: &[&str],
) -> CaseLabels {
    let counts = label_counts(set, item);
    let consensus = match summary.consensus {
        Consensus::Unrated => CaseConsensus::Unrated,
        Consensus::Label { category, .. } => {
            CaseConsensus::Label(labels[category as usize].to_string())
        }
        Consensus::Tie { votes } => CaseConsensus::Tie(
            counts
                .iter()
                .filter(|&&(_, count)| count == votes)
                .map(|&(category, _)| labels[category as usize].to_string())
                .collect(),
        ),
    };
    CaseLabels {
        case_id,
        labels: named(&counts, labels),
        consensus,
        agreement: summary.agreement,
    }
}

/// (category, ratings) of one item, most chosen first, then by category.
fn label_counts(set: &RatingSet, item: u32) -> Vec<(u32, u32)> {
    let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
    for rating in set.item_ratings(item) {
        *counts.entry(rating.category).or_default() += 1;
    }
    let mut counts: Vec<(u32, u32)> = counts.into_iter().collect();
    counts.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    counts
}

/// Every listed rater's agreement and deviation, the mean agreement and the
/// mean absolute deviation.
fn deviations(
    raters: &[String],
    measured: &[RaterAgreement],
) -> (Vec<RaterDeviation>, Statistic, Statistic) {
    let defined: Vec<f64> = measured.iter().filter_map(|r| r.agreement.ok()).collect();
    let mean = if defined.is_empty() {
        Err(Undefined::NoConsensusItems)
    } else {
        Ok(defined.iter().sum::<f64>() / defined.len() as f64)
    };
    let variance = mean.map(|mean| {
        defined
            .iter()
            .map(|value| (value - mean).abs())
            .sum::<f64>()
            / defined.len() as f64
    });
    let list = raters
        .iter()
        .enumerate()
        .map(|(index, rater)| {
            let found = measured.iter().find(|r| r.rater as usize == index);
            let agreement = found.map_or(Err(Undefined::NoConsensusItems), |r| r.agreement);
            RaterDeviation {
                rater: rater.clone(),
                ratings: found.map_or(0, |r| r.ratings),
                compared: found.map_or(0, |r| r.compared),
                agreement,
                deviation: agreement.and_then(|value| mean.map(|mean| value - mean)),
            }
        })
        .collect();
    (list, mean, variance)
}

#[cfg(test)]
mod tests;
