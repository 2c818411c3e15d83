//! Calibration sessions: a lead or QA user picks cases (or samples them by
//! seed) and raters; each rater labels each case blind to the others;
//! closing computes the report (kappa, alpha, consensus, deviations, most
//! disputed cases); the resolution note links the guidance to taxonomy
//! categories. The rules are the domain's
//! (`warden_domain::quality::calibration`).

use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_domain::quality::calibration::{
    sample_cases, CalibrationError, CalibrationRefusal, CalibrationSession, Participant,
    RatingOutcome, ResolutionInput, SessionInput,
};
use warden_domain::{CaseId, FieldError, FieldErrors};
use warden_store::{CalibrationSessionSummary, ResolutionNoteRecord, StoredCalibrationSession};

use crate::cases::CaseListQuery;
use crate::limits::CALIBRATION_SESSIONS_LISTED;
use crate::{Actor, App, CommandError, CommandResult};

/// Which cases a new session rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCases {
    /// These cases.
    Picked(Vec<i64>),
    /// `count` of these candidates, chosen by seed.
    Sampled {
        /// The seed.
        seed: u64,
        /// The candidates.
        candidates: Vec<i64>,
        /// How many.
        count: usize,
    },
    /// `count` of the decided cases of a queue and category, chosen by
    /// seed.
    FromQueue(QueueSample),
}

/// Decided cases to sample a session from: the resolved cases of a queue
/// (the first `PAGE_SIZE_MAX` in queue order the creator may see), of one
/// category or every one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSample {
    /// The queue; `None`: every queue the creator may see.
    pub queue: Option<String>,
    /// The category; `None`: every category.
    pub category: Option<String>,
    /// The seed.
    pub seed: u64,
    /// How many.
    pub count: usize,
}

/// Create (and open) a calibration session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSessionCommand {
    /// What is being calibrated.
    pub title: String,
    /// The cases.
    pub cases: SessionCases,
    /// The raters (user names).
    pub raters: Vec<String>,
}

/// One rater's label for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCommand {
    /// The session.
    pub session: i64,
    /// The case.
    pub case_id: i64,
    /// The rater: must be the actor.
    pub rater: String,
    /// The label, a taxonomy code.
    pub label: String,
}

/// The guidance a closed session settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveCommand {
    /// The session.
    pub session: i64,
    /// The note and its categories.
    pub resolution: ResolutionInput,
}

fn refused(error: CalibrationError) -> CommandError {
    match error {
        CalibrationError::Invalid(errors) => CommandError::Invalid(errors),
        CalibrationError::Refused(refusal) => match refusal {
            CalibrationRefusal::RoleMayNotRun { .. }
            | CalibrationRefusal::NotOrganizer { .. }
            | CalibrationRefusal::NotRater { .. } => CommandError::Forbidden(refusal.to_string()),
            CalibrationRefusal::UnknownCase { .. } => {
                CommandError::invalid("case_id", refusal.to_string())
            }
            _ => CommandError::Conflict(refusal.to_string()),
        },
    }
}

fn participant(actor: &Actor) -> CommandResult<Participant<'_>> {
    actor
        .principal()
        .map(|p| Participant {
            name: &p.name,
            role: p.role,
        })
        .ok_or_else(|| CommandError::Forbidden("calibration is done by people".into()))
}

fn session_not_found(id: i64) -> CommandError {
    CommandError::NotFound(format!("calibration session {id} not found"))
}

impl App {
    /// Creates a session and opens it for ratings. Every case must be one
    /// the creator may see, and every rater a user.
    pub async fn create_calibration_session(
        &self,
        actor: &Actor,
        command: CreateSessionCommand,
    ) -> CommandResult<StoredCalibrationSession> {
        actor.require(Permission::QaReview)?;
        let by = participant(actor)?;
        let case_ids = match command.cases {
            SessionCases::Picked(ids) => ids,
            SessionCases::Sampled {
                seed,
                candidates,
                count,
            } => sample_cases(seed, &candidates, count)?,
            SessionCases::FromQueue(sample) => {
                let candidates = self.decided_cases(actor, &sample).await?;
                sample_cases(sample.seed, &candidates, sample.count)?
            }
        };
        let input = SessionInput {
            title: command.title,
            case_ids,
            raters: command.raters,
        };
        let now = self.now();
        let mut session = CalibrationSession::create(by, &input, now).map_err(refused)?;
        self.check_session_members(actor, &input).await?;
        session.open(by, now).map_err(|r| refused(r.into()))?;
        let id = self
            .store()
            .create_calibration_session(&actor.audit(), session.record(), now)
            .await?;
        self.calibration_session_record(id).await
    }

    /// The resolved cases a queue sample draws from; an unknown queue or
    /// category, or none to draw from, is an error on its field.
    async fn decided_cases(&self, actor: &Actor, sample: &QueueSample) -> CommandResult<Vec<i64>> {
        let policy = self.policy();
        let mut errors = FieldErrors::default();
        if let Some(queue) = &sample.queue {
            if !policy.router().queues().iter().any(|q| &q.name == queue) {
                errors.push("queue", format!("no queue is named {queue:?}"));
            }
        }
        if let Some(category) = &sample.category {
            if !policy.taxonomy().codes().any(|code| code == category) {
                errors.push(
                    "category",
                    format!("{category:?} is not a taxonomy category"),
                );
            }
        }
        errors.finish(|| ()).map_err(CommandError::from)?;
        let query = CaseListQuery {
            queue: sample.queue.clone(),
            statuses: vec![CaseStatus::Resolved],
            assignee: None,
            subject: None,
            limit: PAGE_SIZE_MAX,
            offset: 0,
        };
        let page = self.list_cases(actor, query).await?;
        let candidates: Vec<i64> = page
            .cases
            .iter()
            .filter(|case| sample.category.as_ref().is_none_or(|c| &case.category == c))
            .map(|case| case.id.0)
            .collect();
        if candidates.is_empty() {
            return Err(CommandError::invalid(
                "count",
                "no decided case of that queue and category to sample from",
            ));
        }
        Ok(candidates)
    }

    /// Who may rate in a session: every user who may sign in, by name.
    pub async fn calibration_rater_names(&self, actor: &Actor) -> CommandResult<Vec<String>> {
        actor.require(Permission::QaReview)?;
        let users = self.store().list_users().await?;
        Ok(users
            .into_iter()
            .filter(|user| !user.disabled)
            .map(|user| user.name)
            .collect())
    }

    async fn check_session_members(
        &self,
        actor: &Actor,
        input: &SessionInput,
    ) -> CommandResult<()> {
        let mut errors = FieldErrors::default();
        for (index, &case_id) in input.case_ids.iter().enumerate() {
            if self.visible_case(actor, CaseId(case_id)).await.is_err() {
                errors.push(
                    format!("case_ids[{index}]"),
                    format!("case {case_id} not found"),
                );
            }
        }
        for (index, rater) in input.raters.iter().enumerate() {
            if self.store().user_by_name(rater).await?.is_none() {
                errors.push(
                    format!("raters[{index}]"),
                    format!("no user is named {rater:?}"),
                );
            }
        }
        errors.finish(|| ()).map_err(CommandError::from)
    }

    async fn calibration_session_record(&self, id: i64) -> CommandResult<StoredCalibrationSession> {
        self.store()
            .calibration_session(id)
            .await?
            .ok_or_else(|| session_not_found(id))
    }

    /// A session, if the actor organizes it or rates in it (everyone with
    /// `qa.review` may see any).
    async fn visible_session(
        &self,
        actor: &Actor,
        id: i64,
    ) -> CommandResult<StoredCalibrationSession> {
        let stored = self.calibration_session_record(id).await?;
        let record = stored.session.record();
        let name = actor.principal().map(|p| p.name.as_str());
        let rater = name.is_some_and(|name| record.raters.iter().any(|r| r == name));
        if rater || actor.may(Permission::QaReview) {
            Ok(stored)
        } else {
            Err(session_not_found(id))
        }
    }

    /// A session as the actor may see it (use
    /// [`CalibrationSession::view_for`] on the answer: a rater sees only
    /// their own ratings until it closes).
    pub async fn calibration_session(
        &self,
        actor: &Actor,
        id: i64,
    ) -> CommandResult<StoredCalibrationSession> {
        actor.require(Permission::CaseRead)?;
        self.visible_session(actor, id).await
    }

    /// A rater labels a case; the same label again is a duplicate.
    pub async fn rate_calibration_case(
        &self,
        actor: &Actor,
        command: RateCommand,
    ) -> CommandResult<(StoredCalibrationSession, RatingOutcome)> {
        actor.require(Permission::CaseRead)?;
        let by = participant(actor)?;
        if command.rater != by.name {
            return Err(CommandError::Invalid(
                FieldError::new("rater", "a rater rates for themselves: name yourself").into(),
            ));
        }
        let stored = self.visible_session(actor, command.session).await?;
        // The rater must see the case; one they may not see is not found.
        self.visible_case(actor, CaseId(command.case_id)).await?;
        let mut session = stored.session.clone();
        let outcome = session
            .rate(
                by.name,
                command.case_id,
                &command.label,
                self.policy().taxonomy(),
                self.now(),
            )
            .map_err(refused)?;
        if outcome == RatingOutcome::Duplicate {
            return Ok((stored, outcome));
        }
        let version = self
            .store()
            .save_calibration_session(
                &actor.audit(),
                (stored.id, stored.version),
                session.record(),
                "rate",
                self.now(),
            )
            .await?;
        Ok((
            StoredCalibrationSession {
                session,
                version,
                ..stored
            },
            outcome,
        ))
    }

    /// Closes a session: the report is computed and shown to everyone.
    pub async fn close_calibration_session(
        &self,
        actor: &Actor,
        id: i64,
    ) -> CommandResult<StoredCalibrationSession> {
        actor.require(Permission::QaReview)?;
        let by = participant(actor)?;
        let stored = self.visible_session(actor, id).await?;
        let mut session = stored.session.clone();
        session
            .close(by, self.now())
            .map_err(|r| refused(r.into()))?;
        let version = self
            .store()
            .save_calibration_session(
                &actor.audit(),
                (stored.id, stored.version),
                session.record(),
                "close",
                self.now(),
            )
            .await?;
        Ok(StoredCalibrationSession {
            session,
            version,
            ..stored
        })
    }

    /// Records the resolution note of a closed session.
    pub async fn resolve_calibration_session(
        &self,
        actor: &Actor,
        command: ResolveCommand,
    ) -> CommandResult<StoredCalibrationSession> {
        actor.require(Permission::QaReview)?;
        let by = participant(actor)?;
        let stored = self.visible_session(actor, command.session).await?;
        let mut session = stored.session.clone();
        session
            .resolve(
                by,
                &command.resolution,
                self.policy().taxonomy(),
                self.now(),
            )
            .map_err(refused)?;
        let version = self
            .store()
            .save_calibration_session(
                &actor.audit(),
                (stored.id, stored.version),
                session.record(),
                "resolve",
                self.now(),
            )
            .await?;
        Ok(StoredCalibrationSession {
            session,
            version,
            ..stored
        })
    }

    /// Sessions, newest first.
    pub async fn calibration_sessions(
        &self,
        actor: &Actor,
    ) -> CommandResult<Vec<CalibrationSessionSummary>> {
        actor.require(Permission::CaseRead)?;
        Ok(self
            .store()
            .calibration_sessions(CALIBRATION_SESSIONS_LISTED)
            .await?)
    }

    /// The guidance calibration settled for a category, newest first.
    pub async fn calibration_notes(
        &self,
        actor: &Actor,
        category: &str,
    ) -> CommandResult<Vec<ResolutionNoteRecord>> {
        actor.require(Permission::CaseRead)?;
        Ok(self
            .store()
            .resolution_notes(category, CALIBRATION_SESSIONS_LISTED)
            .await?)
    }
}
