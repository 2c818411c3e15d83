//! Appeal intake: the contract's body parsed into a [`NewAppeal`], the
//! appeal window, and what an incoming appeal does — nothing (a
//! duplicate), a conflict (the same id with other content), a new appeal
//! case, or joining the open appeal of the same decision.
//!
//! Intake is idempotent by the platform's id, as for every intake item:
//! the same id with the same [`Fingerprint`] is a duplicate and changes
//! nothing, whatever happened since (the window may have closed); the same
//! id with another fingerprint is a conflict.

use chrono::{DateTime, Duration, Months, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::case::Severity;
use crate::ids::{ActionId, CaseId, DecisionId, LanguageTag, PlatformId, SubjectKind, SubjectRef};
use crate::intake::Fingerprint;
use crate::limits::{
    APPEAL_APPELLANTS_MAX, APPEAL_CLOCK_SKEW_SECONDS_MAX, APPEAL_STATEMENT_CHARS_MAX,
    APPEAL_WINDOW_MONTHS_DEFAULT, APPEAL_WINDOW_MONTHS_MAX, APPEAL_WINDOW_MONTHS_MIN,
};
use crate::routing::Router;
use crate::sla::{SlaDeadlines, SlaPolicy};
use crate::text::check_free_text;
use crate::{FieldError, FieldErrors, Timestamp};

use super::independence::AppealParty;
use super::routing::AppealRouting;
use super::{AppealId, CaseKind};

/// The appellant as sent: a subject reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppellantInput {
    /// `account`.
    pub kind: Option<String>,
    /// The platform's id of the account.
    pub id: Option<String>,
}

/// `POST /api/v1/appeals` as sent, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppealInput {
    /// The platform's id of the appeal.
    pub id: Option<String>,
    /// Warden's id of the decision contested.
    pub decision_id: Option<i64>,
    /// Warden's id of one action of it, narrowing the appeal.
    pub action_id: Option<i64>,
    /// Who contests.
    pub appellant: Option<AppellantInput>,
    /// Their words.
    pub statement: Option<String>,
    /// Their language, BCP 47.
    pub language: Option<String>,
    /// When they appealed, RFC 3339; the time of receipt when absent.
    pub created_at: Option<String>,
}

/// An appeal, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAppeal {
    /// The platform's id.
    pub id: PlatformId,
    /// The decision contested.
    pub decision: DecisionId,
    /// The action contested, when one is named.
    pub action: Option<ActionId>,
    /// Who contests: an account.
    pub appellant: SubjectRef,
    /// Their words, kept exactly.
    pub statement: String,
    /// Their language.
    pub language: Option<LanguageTag>,
    /// When they appealed; `None`: when Warden received it.
    pub created_at: Option<Timestamp>,
}

impl NewAppeal {
    /// Checks every field of the body; reports them all (`id`,
    /// `decision_id`, `action_id`, `appellant.kind`, `appellant.id`,
    /// `statement`, `language`, `created_at`).
    pub fn parse(input: &AppealInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let id = match input.id.as_deref() {
            None => {
                errors.push("id", "is required: the platform's id of the appeal");
                None
            }
            Some(id) => errors.take("id", PlatformId::parse(id)),
        };
        let decision = match input.decision_id {
            None => {
                errors.push("decision_id", "is required: the decision contested");
                None
            }
            Some(id) => errors.take("decision_id", positive(id).map(DecisionId)),
        };
        let action = input
            .action_id
            .and_then(|id| errors.take("action_id", positive(id).map(ActionId)));
        let appellant = appellant(&mut errors, input.appellant.as_ref());
        let statement = input.statement.as_deref().unwrap_or_default();
        if statement.trim().is_empty() {
            errors.push(
                "statement",
                "is required: the appellant's reasons, in their words",
            );
        } else {
            errors.take(
                "statement",
                check_free_text(statement, APPEAL_STATEMENT_CHARS_MAX),
            );
        }
        let language = input
            .language
            .as_deref()
            .and_then(|tag| errors.take("language", LanguageTag::parse(tag)));
        let created_at = input.created_at.as_deref().and_then(|text| {
            errors.take(
                "created_at",
                DateTime::parse_from_rfc3339(text)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| format!("{text:?} is not an RFC 3339 time ({e})")),
            )
        });
        match (id, decision, appellant) {
            (Some(id), Some(decision), Some(appellant)) if errors.is_empty() => Ok(Self {
                id,
                decision,
                action,
                appellant,
                statement: statement.to_string(),
                language,
                created_at,
            }),
            _ => Err(errors),
        }
    }

    /// The fingerprint of the appeal's content: a repeat has the same one.
    pub fn fingerprint(&self) -> Fingerprint {
        let value = json!({
            "id": self.id.as_str(),
            "decision_id": self.decision.0,
            "action_id": self.action.map(|a| a.0),
            "appellant": {"kind": self.appellant.kind.as_str(), "id": self.appellant.id.as_str()},
            "statement": self.statement,
            "language": self.language.as_ref().map(|l| l.as_str().to_ascii_lowercase()),
            "created_at": self.created_at.map(|t| t.timestamp_millis().to_string()),
        });
        // serde_json's map keeps keys sorted, so this serialisation is canonical.
        let bytes = serde_json::to_vec(&value).unwrap_or_default();
        Fingerprint(hex::encode(Sha256::digest(&bytes)))
    }
}

fn positive(id: i64) -> Result<i64, String> {
    if id > 0 {
        Ok(id)
    } else {
        Err(format!("must be a positive id, got {id}"))
    }
}

fn appellant(errors: &mut FieldErrors, input: Option<&AppellantInput>) -> Option<SubjectRef> {
    let Some(input) = input else {
        errors.push(
            "appellant",
            "is required: {\"kind\": \"account\", \"id\": ...}",
        );
        return None;
    };
    let kind = match input.kind.as_deref() {
        None => {
            errors.push("appellant.kind", "is required: account");
            None
        }
        Some(kind) => match kind.parse::<SubjectKind>() {
            Ok(SubjectKind::Account) => Some(SubjectKind::Account),
            Ok(other) => {
                errors.push(
                    "appellant.kind",
                    format!("an appellant is an account on the platform, not a {other}"),
                );
                None
            }
            Err(e) => {
                errors.push("appellant.kind", e);
                None
            }
        },
    };
    let id = match input.id.as_deref() {
        None => {
            errors.push("appellant.id", "is required: the account's id");
            None
        }
        Some(id) => errors.take("appellant.id", PlatformId::parse(id)),
    };
    Some(SubjectRef::new(kind?, id?))
}

/// How long after a decision it may be appealed: a whole number of months,
/// [`APPEAL_WINDOW_MONTHS_MIN`] (DSA Art. 20(1): at least six) to
/// [`APPEAL_WINDOW_MONTHS_MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppealWindow {
    months: u32,
}

impl Default for AppealWindow {
    fn default() -> Self {
        Self {
            months: APPEAL_WINDOW_MONTHS_DEFAULT,
        }
    }
}

impl AppealWindow {
    /// A window of `months` months, within the limits.
    pub fn new(months: u32) -> Result<Self, String> {
        if !(APPEAL_WINDOW_MONTHS_MIN..=APPEAL_WINDOW_MONTHS_MAX).contains(&months) {
            return Err(format!(
                "appeals.window_months must be {APPEAL_WINDOW_MONTHS_MIN} to {APPEAL_WINDOW_MONTHS_MAX}: DSA Art. 20(1) gives at least six months"
            ));
        }
        Ok(Self { months })
    }

    /// Its length in months.
    pub fn months(&self) -> u32 {
        self.months
    }

    /// The last instant an appeal of a decision made at `decided_at` may be
    /// made: the same time of day, `months` calendar months later (the last
    /// day of a shorter month when the day does not exist).
    pub fn closes_at(&self, decided_at: Timestamp) -> Timestamp {
        decided_at
            .checked_add_months(Months::new(self.months))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Checks when an appeal was made against when the decision was:
    /// neither before the decision, nor after the window closed, nor later
    /// than `now` (with a little clock skew). The reason names the time.
    pub fn check(
        &self,
        decided_at: Timestamp,
        appealed_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), String> {
        if appealed_at > now + Duration::seconds(APPEAL_CLOCK_SKEW_SECONDS_MAX) {
            return Err(format!(
                "{} is in the future",
                appealed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        if appealed_at < decided_at {
            return Err(format!(
                "is before the decision it contests ({})",
                decided_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        let closes_at = self.closes_at(decided_at);
        if appealed_at > closes_at {
            return Err(format!(
                "the appeal window of {} months closed on {}; the decision was made on {}",
                self.months,
                closes_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                decided_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        Ok(())
    }
}

/// The decision an appeal names, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealedDecision {
    /// Warden's id.
    pub id: DecisionId,
    /// The case it decided.
    pub case: CaseId,
    /// Its category.
    pub category: String,
    /// That case's severity (the appeal case's, and its SLA).
    pub severity: Severity,
    /// When it was made.
    pub decided_at: Timestamp,
    /// Its actions.
    pub actions: Vec<ActionId>,
    /// Who made it, with their role now (recorded with the appeal); `None`
    /// when Warden decided by itself.
    pub decider: Option<AppealParty>,
    /// What the case is about.
    pub subject: SubjectRef,
    /// Whether a lead reversed it.
    pub reversed: bool,
    /// The correction that superseded it, if any.
    pub superseded_by: Option<DecisionId>,
}

/// An appeal of the same decision that is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenAppeal {
    /// Warden's id.
    pub id: AppealId,
    /// Its case.
    pub case: CaseId,
    /// Appellants it gathers already.
    pub appellants: usize,
}

/// What the store loads for an incoming appeal, in its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealIntakeFacts {
    /// The fingerprint of an appeal stored with the same platform id.
    pub same_id: Option<Fingerprint>,
    /// The decision named, if it exists.
    pub decision: Option<AppealedDecision>,
    /// The open appeal of that decision, if any.
    pub open_appeal: Option<OpenAppeal>,
}

/// A new appeal and its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAppealPlan {
    /// The appeal item.
    pub item: NewAppeal,
    /// When the appellant appealed (given, or received).
    pub appealed_at: Timestamp,
    /// The decision contested.
    pub decision: DecisionId,
    /// Its case.
    pub original_case: CaseId,
    /// The decider and their role, recorded for the independence rule.
    pub decider: Option<AppealParty>,
    /// The appeal case's kind: appeal.
    pub kind: CaseKind,
    /// Its queue.
    pub queue: String,
    /// Its category: the decision's.
    pub category: String,
    /// Its subject: the decision's.
    pub subject: SubjectRef,
    /// Its severity: the original case's.
    pub severity: Severity,
    /// Its SLA deadlines, by the queue's targets.
    pub deadlines: SlaDeadlines,
}

/// What an incoming appeal does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppealIntakePlan {
    /// The same appeal was stored before; nothing changes.
    Duplicate,
    /// The same id was stored with other content; nothing changes.
    Conflict,
    /// A new appeal case is opened.
    Open(Box<OpenAppealPlan>),
    /// The appeal joins the open appeal of the same decision.
    Join {
        /// The open appeal.
        appeal: AppealId,
        /// Its case.
        case: CaseId,
        /// The appeal item added to it.
        item: NewAppeal,
        /// When the appellant appealed.
        appealed_at: Timestamp,
    },
}

/// Plans an incoming appeal. Refuses, changing nothing: an unknown
/// decision (`decision_id`), one superseded or reversed (`decision_id`:
/// the appeal names the decision in force), an action of another decision
/// (`action_id`), a time before the decision, in the future or past the
/// window (`created_at`), and an open appeal already gathering
/// [`APPEAL_APPELLANTS_MAX`] appellants (`decision_id`).
pub fn plan_appeal_intake(
    facts: &AppealIntakeFacts,
    appeal: &NewAppeal,
    window: &AppealWindow,
    routing: &AppealRouting,
    queues: &Router,
    now: Timestamp,
) -> Result<AppealIntakePlan, FieldErrors> {
    if let Some(stored) = &facts.same_id {
        return Ok(if *stored == appeal.fingerprint() {
            AppealIntakePlan::Duplicate
        } else {
            AppealIntakePlan::Conflict
        });
    }
    let decision = appealable(facts.decision.as_ref(), appeal)?;
    let appealed_at = appeal.created_at.unwrap_or(now);
    window
        .check(decision.decided_at, appealed_at, now)
        .map_err(|reason| FieldError::new("created_at", reason))?;
    if let Some(open) = facts.open_appeal {
        if open.appellants >= APPEAL_APPELLANTS_MAX {
            return Err(FieldError::new(
                "decision_id",
                format!(
                    "appeal {} of decision {} gathers {} appellants, the most one appeal takes",
                    open.id, decision.id, open.appellants
                ),
            )
            .into());
        }
        return Ok(AppealIntakePlan::Join {
            appeal: open.id,
            case: open.case,
            item: appeal.clone(),
            appealed_at,
        });
    }
    let queue = routing.route(&decision.category);
    let sla = queues
        .queue(queue)
        .map_or_else(SlaPolicy::default, |q| q.sla.clone());
    Ok(AppealIntakePlan::Open(Box::new(OpenAppealPlan {
        item: appeal.clone(),
        appealed_at,
        decision: decision.id,
        original_case: decision.case,
        decider: decision.decider,
        kind: CaseKind::Appeal,
        queue: queue.to_string(),
        category: decision.category.clone(),
        subject: decision.subject.clone(),
        severity: decision.severity,
        deadlines: sla.deadlines(decision.severity, now),
    })))
}

/// The decision named, when it can be appealed: known, in force, and
/// owning the action named.
fn appealable<'f>(
    decision: Option<&'f AppealedDecision>,
    appeal: &NewAppeal,
) -> Result<&'f AppealedDecision, FieldError> {
    let refuse = |field: &str, reason: String| Err(FieldError::new(field, reason));
    let Some(decision) = decision.filter(|d| d.id == appeal.decision) else {
        return refuse(
            "decision_id",
            format!("no decision {} is known", appeal.decision),
        );
    };
    if let Some(later) = decision.superseded_by {
        return refuse(
            "decision_id",
            format!(
                "decision {} was superseded by decision {later}; appeal the decision in force",
                decision.id
            ),
        );
    }
    if decision.reversed {
        return refuse(
            "decision_id",
            format!(
                "decision {} was reversed; there is nothing left to appeal",
                decision.id
            ),
        );
    }
    match appeal.action {
        Some(action) if !decision.actions.contains(&action) => refuse(
            "action_id",
            format!(
                "action {action} is not an action of decision {}",
                decision.id
            ),
        ),
        _ => Ok(decision),
    }
}
