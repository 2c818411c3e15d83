//! The blind QA review of a sampled decision: claim under a lease, the
//! case as the decider saw it, the reviewer's own verdict, then the
//! original and the comparison, the rubric, rework, and the decider's
//! acknowledgement. What may be shown is the domain's
//! [`BlindView`](warden_domain::quality::review::BlindView): this module
//! hands out the original decision only through it.

use std::collections::BTreeSet;

use chrono::Duration;

use warden_domain::access::{Permission, Role};
use warden_domain::case::{CaseStatus, Severity};
use warden_domain::decision::{ActionKind, ActionSpec};
use warden_domain::ids::{DecisionId, UserName};
use warden_domain::quality::review::{
    compare, parse_score, parse_verdict, plan_rework, Comparison, OriginalDecision, QaAssignment,
    QaRefusal, QaReview, QaReviewer, QaVerdict, QaVerdictInput, ScoreInput,
};
use warden_domain::{CaseId, FieldErrors, Timestamp};
use warden_store::{
    CaseReopen, DecisionRecord, QaChange, QaReviewFilter, ReportRecord, ReworkRecord,
    SamplePlanTag, SignalRecord, StoredQaAssignment, SubjectRecord,
};

use crate::decisions::{parse_actions, ActionDraft};
use crate::limits::QA_CLAIM_ATTEMPTS;
use crate::{Actor, App, CommandError, CommandResult};

/// A QA verdict as a transport received it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerdictDraft {
    /// Whether a policy was broken.
    pub violation: Option<bool>,
    /// The category.
    pub category: Option<String>,
    /// The actions the reviewer would order.
    pub actions: Vec<ActionDraft>,
}

/// Submit a blind verdict on a claimed assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitVerdictCommand {
    /// The sampled decision.
    pub decision: DecisionId,
    /// The verdict.
    pub verdict: VerdictDraft,
}

/// Score the rubric of a review whose verdict is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreReviewCommand {
    /// The sampled decision.
    pub decision: DecisionId,
    /// The rubric and feedback.
    pub rubric: ScoreInput,
}

/// Verdict and rubric at once (the API's `POST /api/v1/qa/reviews/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCommand {
    /// The sampled decision.
    pub decision: DecisionId,
    /// The verdict.
    pub verdict: VerdictDraft,
    /// The rubric and feedback.
    pub rubric: ScoreInput,
}

/// Which reviews to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QaReviewsQuery {
    /// Reviews by this QA reviewer.
    pub reviewer: Option<UserName>,
    /// Verdicts at or after.
    pub since: Option<Timestamp>,
    /// At most this many.
    pub limit: u32,
}

/// The case as the decider saw it: nothing of the decision.
#[derive(Debug, Clone, PartialEq)]
pub struct BlindCase {
    /// The case.
    pub case_id: CaseId,
    /// Its queue.
    pub queue: String,
    /// The category reported (the case's, not the decision's).
    pub category: String,
    /// Its severity.
    pub severity: Severity,
    /// When it opened.
    pub opened_at: Timestamp,
    /// The subject as the platform sent it.
    pub subject: Option<SubjectRecord>,
    /// Reports received up to the decision.
    pub reports: Vec<ReportRecord>,
    /// Signals received up to the decision.
    pub signals: Vec<SignalRecord>,
    /// Status changes before the decision, without who made them.
    pub history: Vec<(Option<CaseStatus>, CaseStatus, Timestamp)>,
}

/// What the review reveals once the verdict is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Revealed {
    /// The original decision as QA compares it.
    pub original: OriginalDecision,
    /// The decision record, with its rationale and actions.
    pub decision: DecisionRecord,
    /// The reviewer's verdict beside it.
    pub comparison: Option<Comparison>,
    /// Why it was sampled.
    pub sample_reasons: Vec<SamplePlanTag>,
}

/// An assignment as a QA surface shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct QaWork {
    /// The assignment's state (status, lease, verdict and rubric).
    pub assignment: QaAssignment,
    /// The case, blind.
    pub case: BlindCase,
    /// The original and the comparison, from the verdict on; `None` before.
    pub revealed: Option<Revealed>,
    /// The scored review, from `scored` on.
    pub review: Option<QaReview>,
    /// The rework it sent back.
    pub rework: Option<ReworkRecord>,
}

fn refused(refusal: QaRefusal) -> CommandError {
    match refusal {
        QaRefusal::RoleMayNotReview { .. }
        | QaRefusal::OwnDecision
        | QaRefusal::NotDecider { .. } => CommandError::Forbidden(refusal.to_string()),
        QaRefusal::LeaseLength => CommandError::invalid("lease", refusal.to_string()),
        _ => CommandError::Conflict(refusal.to_string()),
    }
}

fn not_found(id: i64) -> CommandError {
    CommandError::NotFound(format!("QA review of decision {id} not found"))
}

/// Checks a verdict draft against the taxonomy in force, fields under
/// `verdict.`.
pub fn parse_verdict_draft(
    draft: &VerdictDraft,
    taxonomy: &warden_domain::taxonomy::Taxonomy,
) -> Result<QaVerdict, FieldErrors> {
    let mut action_errors = FieldErrors::default();
    let actions = parse_actions(&mut action_errors, &draft.actions);
    let input = QaVerdictInput {
        violation: draft.violation,
        category: draft.category.clone(),
        actions,
    };
    let mut errors = FieldErrors(
        action_errors
            .0
            .into_iter()
            .map(|mut error| {
                error.field = format!("verdict.{}", error.field);
                error
            })
            .collect(),
    );
    match parse_verdict(&input, taxonomy) {
        Ok(verdict) if errors.is_empty() => Ok(verdict),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.0.extend(more.0);
            Err(errors)
        }
    }
}

fn reviewer_of(actor: &Actor) -> CommandResult<(String, Role)> {
    match actor.principal() {
        Some(principal) => Ok((principal.name.clone(), principal.role)),
        None => Err(CommandError::Forbidden(
            "QA reviews are made by a person".into(),
        )),
    }
}

fn action_spec(action: &warden_store::ActionRecord) -> Option<ActionSpec> {
    let kind = ActionKind::from_stored(
        &action.action_type,
        action.feature.as_deref(),
        action.label.as_deref(),
    )
    .ok()?;
    Some(ActionSpec {
        kind,
        duration: action.duration_seconds.map(Duration::seconds),
    })
}

impl App {
    /// The QA assignment of `decision`, if the actor may see its queue.
    async fn visible_assignment(
        &self,
        actor: &Actor,
        decision: DecisionId,
    ) -> CommandResult<StoredQaAssignment> {
        match self.store().qa_assignment(decision.0).await? {
            Some(stored) if self.sees_queue(actor, &stored.queue) => Ok(stored),
            _ => Err(not_found(decision.0)),
        }
    }

    /// The case and, when the assignment may show it, the original.
    async fn qa_work(&self, stored: StoredQaAssignment) -> CommandResult<QaWork> {
        let record = stored.assignment.record();
        let detail = self
            .store()
            .case_detail(record.case_id)
            .await?
            .ok_or_else(|| CommandError::internal("a sampled decision's case is gone"))?;
        let decided_at = stored.decided_at;
        let case = BlindCase {
            case_id: detail.case.id,
            queue: detail.case.queue.clone(),
            category: detail.case.category.clone(),
            severity: detail.case.severity,
            opened_at: detail.case.opened_at,
            subject: detail.subject.clone(),
            reports: detail
                .reports
                .iter()
                .filter(|r| r.received_at <= decided_at)
                .cloned()
                .collect(),
            signals: detail
                .signals
                .iter()
                .filter(|s| s.created_at <= decided_at)
                .cloned()
                .collect(),
            history: detail
                .transitions
                .iter()
                .filter(|t| t.at < decided_at)
                .map(|t| (t.from, t.to, t.at))
                .collect(),
        };
        let view = stored.assignment.blind_view();
        let decision = detail
            .decisions
            .iter()
            .find(|d| d.id == record.decision_id)
            .cloned()
            .ok_or_else(|| CommandError::internal("a sampled decision is gone"))?;
        let original = OriginalDecision {
            decision_id: decision.id,
            case_id: decision.case_id,
            decider: decision.decided_by.clone(),
            violation: decision.violation,
            category: decision.category.clone(),
            actions: decision.actions.iter().filter_map(action_spec).collect(),
            decided_at: decision.decided_at,
            case_status: detail.case.status,
            superseded: decision.superseded_by.is_some(),
        };
        let revealed = view.original(&original).map(|original| Revealed {
            comparison: record
                .verdict
                .as_ref()
                .map(|(_, verdict, _)| compare(verdict, original)),
            original: original.clone(),
            decision,
            sample_reasons: stored.plans.clone(),
        });
        Ok(QaWork {
            review: stored.assignment.review(),
            rework: stored.rework.clone(),
            assignment: stored.assignment,
            case,
            revealed,
        })
    }

    /// Gives the actor the next sampled decision in the queues they may
    /// see, blind, under a lease; `None` when the QA queue is empty.
    pub async fn claim_qa(&self, actor: &Actor) -> CommandResult<Option<QaWork>> {
        actor.require(Permission::QaReview)?;
        let (name, role) = reviewer_of(actor)?;
        let scope = self.scope(actor);
        for _ in 0..QA_CLAIM_ATTEMPTS {
            let now = self.now();
            let Some(stored) = self.store().next_qa_assignment(&scope, &name, now).await? else {
                return Ok(None);
            };
            let mut assignment = stored.assignment.clone();
            let reviewer = QaReviewer { name: &name, role };
            assignment
                .claim(reviewer, now, self.settings().lease)
                .map_err(refused)?;
            let change = QaChange {
                assignment: &assignment,
                expected_version: stored.version,
                event: "claim",
                rework: None,
                reopen: None,
            };
            match self
                .store()
                .save_qa_assignment(&actor.audit(), change, now)
                .await
            {
                Ok(version) => {
                    let claimed = StoredQaAssignment {
                        assignment,
                        version,
                        ..stored
                    };
                    return self.qa_work(claimed).await.map(Some);
                }
                // Another reviewer took it first: try the next one.
                Err(warden_store::StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(CommandError::Conflict(
            "other reviewers are claiming the same decisions; try again".into(),
        ))
    }

    /// One assignment as QA sees it: blind until its verdict is in.
    pub async fn show_qa(&self, actor: &Actor, decision: DecisionId) -> CommandResult<QaWork> {
        actor.require(Permission::QaReview)?;
        let stored = self.visible_assignment(actor, decision).await?;
        self.qa_work(stored).await
    }

    /// The holder gives the assignment back to the QA queue.
    pub async fn release_qa(&self, actor: &Actor, decision: DecisionId) -> CommandResult<QaWork> {
        actor.require(Permission::QaReview)?;
        let (name, _) = reviewer_of(actor)?;
        let stored = self.visible_assignment(actor, decision).await?;
        let mut assignment = stored.assignment.clone();
        assignment.release(&name).map_err(refused)?;
        self.save_qa(actor, stored, assignment, "release", (None, None))
            .await
    }

    /// The holder's blind verdict; the answer reveals the original and the
    /// comparison.
    pub async fn submit_qa_verdict(
        &self,
        actor: &Actor,
        command: SubmitVerdictCommand,
    ) -> CommandResult<QaWork> {
        actor.require(Permission::QaReview)?;
        let (name, _) = reviewer_of(actor)?;
        let verdict = parse_verdict_draft(&command.verdict, self.policy().taxonomy())?;
        let stored = self.visible_assignment(actor, command.decision).await?;
        let mut assignment = stored.assignment.clone();
        assignment
            .submit_verdict(&name, verdict, self.now())
            .map_err(refused)?;
        self.save_qa(actor, stored, assignment, "submit_verdict", (None, None))
            .await
    }

    /// The rubric of a review whose verdict is in; a review that marks the
    /// decision wrong sends it back (rework) and reopens its case.
    pub async fn score_qa_review(
        &self,
        actor: &Actor,
        command: ScoreReviewCommand,
    ) -> CommandResult<QaWork> {
        actor.require(Permission::QaReview)?;
        let rubric = parse_score(&command.rubric)?;
        let stored = self.visible_assignment(actor, command.decision).await?;
        self.score(actor, stored, rubric).await
    }

    /// Verdict and rubric at once: the verdict is recorded first, so the
    /// rubric is scored seeing the original.
    pub async fn review_decision(
        &self,
        actor: &Actor,
        command: ReviewCommand,
    ) -> CommandResult<QaWork> {
        actor.require(Permission::QaReview)?;
        let verdict = parse_verdict_draft(&command.verdict, self.policy().taxonomy());
        let rubric = parse_score(&command.rubric);
        let (verdict, rubric) = match (verdict, rubric) {
            (Ok(verdict), Ok(rubric)) => (verdict, rubric),
            (verdict, rubric) => {
                let mut errors = verdict.err().unwrap_or_default();
                errors.0.extend(rubric.err().unwrap_or_default().0);
                return Err(errors.into());
            }
        };
        let submitted = self
            .submit_qa_verdict_parsed(actor, command.decision, verdict)
            .await?;
        self.score(actor, submitted, rubric).await
    }

    async fn submit_qa_verdict_parsed(
        &self,
        actor: &Actor,
        decision: DecisionId,
        verdict: QaVerdict,
    ) -> CommandResult<StoredQaAssignment> {
        let (name, _) = reviewer_of(actor)?;
        let stored = self.visible_assignment(actor, decision).await?;
        let mut assignment = stored.assignment.clone();
        assignment
            .submit_verdict(&name, verdict, self.now())
            .map_err(refused)?;
        let change = QaChange {
            assignment: &assignment,
            expected_version: stored.version,
            event: "submit_verdict",
            rework: None,
            reopen: None,
        };
        let version = self
            .store()
            .save_qa_assignment(&actor.audit(), change, self.now())
            .await?;
        Ok(StoredQaAssignment {
            assignment,
            version,
            ..stored
        })
    }

    async fn score(
        &self,
        actor: &Actor,
        stored: StoredQaAssignment,
        rubric: warden_domain::quality::review::Rubric,
    ) -> CommandResult<QaWork> {
        let (name, _) = reviewer_of(actor)?;
        let now = self.now();
        let mut assignment = stored.assignment.clone();
        let review = assignment.score(&name, rubric, now).map_err(refused)?;
        let work = self.qa_work(stored.clone()).await?;
        let original = work
            .revealed
            .as_ref()
            .map(|revealed| revealed.original.clone())
            .ok_or_else(|| CommandError::internal("a scored review is revealed"))?;
        let rework = plan_rework(&review, &original).map(|rework| ReworkRecord {
            decision_id: rework.decision_id,
            case_id: rework.case_id,
            decider: rework.decider,
            feedback: rework.feedback,
            suggestion: rework.suggestion,
            reopen_case: rework.reopen_case,
            sent_back_at: rework.sent_back_at,
        });
        // The normal reopening (new SLA deadlines, audited as the QA
        // reviewer's) in the review's transaction; the decider corrects
        // through the correction path.
        let policy = self.policy();
        let reopen = rework
            .as_ref()
            .filter(|r| r.reopen_case)
            .map(|_| CaseReopen {
                reason: format!("QA sent decision {} back for rework", original.decision_id),
                policy: policy.case_policy(),
            });
        self.save_qa(actor, stored, assignment, "score", (rework, reopen))
            .await
    }

    async fn save_qa(
        &self,
        actor: &Actor,
        stored: StoredQaAssignment,
        assignment: QaAssignment,
        event: &'static str,
        (rework, reopen): (Option<ReworkRecord>, Option<CaseReopen<'_>>),
    ) -> CommandResult<QaWork> {
        let change = QaChange {
            assignment: &assignment,
            expected_version: stored.version,
            event,
            rework: rework.clone(),
            reopen,
        };
        let version = self
            .store()
            .save_qa_assignment(&actor.audit(), change, self.now())
            .await?;
        self.qa_work(StoredQaAssignment {
            assignment,
            version,
            rework: rework.or(stored.rework.clone()),
            ..stored
        })
        .await
    }

    /// The decider acknowledges the feedback on their decision.
    pub async fn acknowledge_qa_feedback(
        &self,
        actor: &Actor,
        decision: DecisionId,
    ) -> CommandResult<QaWork> {
        let (name, _) = reviewer_of(actor)?;
        let stored = self.visible_assignment(actor, decision).await?;
        let mut assignment = stored.assignment.clone();
        assignment.acknowledge(&name, self.now()).map_err(refused)?;
        self.save_qa(actor, stored, assignment, "acknowledge", (None, None))
            .await
    }

    /// Reviews whose verdict is in, newest first, in the actor's queues.
    pub async fn qa_reviews(
        &self,
        actor: &Actor,
        query: QaReviewsQuery,
    ) -> CommandResult<Vec<StoredQaAssignment>> {
        actor.require(Permission::QaReview)?;
        let filter = QaReviewFilter {
            reviewer: query.reviewer.map(|name| name.as_str().to_string()),
            since: query.since,
            scope: self.scope(actor),
            limit: query.limit,
            ..QaReviewFilter::default()
        };
        Ok(self.store().qa_reviews(&filter).await?)
    }

    /// Feedback on the actor's own decisions waiting for their
    /// acknowledgement (their home page).
    pub async fn my_qa_feedback(&self, actor: &Actor) -> CommandResult<Vec<StoredQaAssignment>> {
        let Some(principal) = actor.principal() else {
            return Ok(Vec::new());
        };
        let filter = QaReviewFilter {
            decider: Some(principal.name.clone()),
            awaiting_acknowledgement: true,
            scope: self.scope(actor),
            limit: warden_domain::limits::PAGE_SIZE_MAX,
            ..QaReviewFilter::default()
        };
        Ok(self.store().qa_reviews(&filter).await?)
    }

    /// How many sampled decisions wait in the actor's QA queue.
    pub async fn qa_queue_depth(&self, actor: &Actor) -> CommandResult<u64> {
        actor.require(Permission::QaReview)?;
        Ok(self
            .store()
            .qa_queue_depth(&self.scope(actor), self.now())
            .await?)
    }

    /// Whether a general case read must hide the decisions of `case` from
    /// `actor`: a QA user, or whoever holds its QA claim, while a sampled
    /// decision of the case waits for their blind verdict.
    pub async fn qa_blinds_case(&self, actor: &Actor, case: CaseId) -> CommandResult<bool> {
        let Some(principal) = actor.principal() else {
            return Ok(false);
        };
        if !actor.may(Permission::QaReview) {
            return Ok(false);
        }
        let pending = self.store().qa_pending_for_case(case).await?;
        Ok(pending.iter().any(|stored| {
            let record = stored.assignment.record();
            let holds = record
                .lease
                .as_ref()
                .is_some_and(|lease| lease.assignee == principal.name);
            !record.status.is_revealed() && (principal.role == Role::Qa || holds)
        }))
    }
}

impl App {
    /// The cases among `cases` whose decisions [`App::qa_blinds_case`]
    /// hides from `actor`.
    pub(crate) async fn qa_blinded_cases(
        &self,
        actor: &Actor,
        cases: impl IntoIterator<Item = CaseId>,
    ) -> CommandResult<BTreeSet<CaseId>> {
        let mut blinded = BTreeSet::new();
        if !actor.may(Permission::QaReview) || actor.principal().is_none() {
            return Ok(blinded);
        }
        for case in cases.into_iter().collect::<BTreeSet<_>>() {
            if self.qa_blinds_case(actor, case).await? {
                blinded.insert(case);
            }
        }
        Ok(blinded)
    }
}

/// A case read with the parts of its decisions hidden: decisions, notes,
/// who holds or held it, and what came after the first decision (reports,
/// signals, history) — the domain's hidden parts before a verdict.
pub fn blind_detail(detail: &mut warden_store::CaseDetail) {
    let first = detail.decisions.iter().map(|d| d.decided_at).min();
    detail.decisions.clear();
    detail.notes.clear();
    detail.case.assignee = None;
    detail.case.assignee_id = None;
    if let Some(first) = first {
        detail.reports.retain(|r| r.received_at <= first);
        detail.signals.retain(|s| s.created_at <= first);
        detail.transitions.retain(|t| t.at < first);
    }
    for transition in &mut detail.transitions {
        transition.actor = String::new();
    }
}
