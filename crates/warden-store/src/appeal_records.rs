//! What the appeal port reads and writes: appeals with their items, the
//! outcome of an incoming appeal, list filters, the rules intake needs and
//! whose listing the independence rule filters.

use warden_domain::access::Role;
use warden_domain::appeal::{AppealListingFilter, AppealOutcome, AppealRouting, AppealWindow};
use warden_domain::decision::Rationale;
use warden_domain::{CaseId, SubjectRef, Timestamp};

/// One appellant's item of an appeal, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AppealItemRecord {
    /// The platform's id of the item.
    pub platform_id: String,
    /// The action it narrows the appeal to.
    pub action_id: Option<i64>,
    /// Who appealed.
    pub appellant: SubjectRef,
    /// Their words.
    pub statement: String,
    /// Their language.
    pub language: Option<String>,
    /// When they appealed.
    pub appealed_at: Timestamp,
    /// When Warden received it.
    pub received_at: Timestamp,
}

/// An appeal, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AppealView {
    /// Warden's id.
    pub id: i64,
    /// The appeal case.
    pub case_id: CaseId,
    /// The decision contested.
    pub decision_id: i64,
    /// The case it decided.
    pub original_case_id: CaseId,
    /// Who decided it (`None`: Warden by itself).
    pub decider_id: Option<i64>,
    /// Their role when the appeal came in.
    pub decider_role: Option<Role>,
    /// The outcome, once decided.
    pub outcome: Option<AppealOutcome>,
    /// Who decided the appeal.
    pub reviewer: Option<String>,
    /// Their reasons.
    pub rationale: Option<Rationale>,
    /// The decision that replaced the original (modified).
    pub replacement_decision_id: Option<i64>,
    /// When the appeal was opened.
    pub opened_at: Timestamp,
    /// When it was decided.
    pub decided_at: Option<Timestamp>,
    /// Its items, oldest first.
    pub items: Vec<AppealItemRecord>,
}

impl AppealView {
    /// `open` until decided, then `decided`.
    pub fn status(&self) -> AppealStatus {
        if self.outcome.is_some() {
            AppealStatus::Decided
        } else {
            AppealStatus::Open
        }
    }
}

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealStatus {
    /// Waiting for its review.
    Open,
    /// Decided.
    Decided,
}

impl AppealStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AppealStatus::Open => "open",
            AppealStatus::Decided => "decided",
        }
    }
}

impl std::str::FromStr for AppealStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "open" => Ok(AppealStatus::Open),
            "decided" => Ok(AppealStatus::Decided),
            other => Err(format!(
                "unknown appeal status {other:?}; expected open or decided"
            )),
        }
    }
}

/// What an incoming appeal did.
#[derive(Debug, Clone, PartialEq)]
pub enum AppealIntakeOutcome {
    /// A new appeal case was opened.
    Opened(AppealView),
    /// The appeal joined the open appeal of the same decision.
    Joined(AppealView),
    /// The same appeal came before; nothing changed.
    Duplicate,
    /// The same id came before with other content; nothing changed.
    Conflict,
}

/// The rules appeal intake follows.
#[derive(Debug, Clone, Default)]
pub struct AppealRules {
    /// How long after a decision it may be appealed.
    pub window: AppealWindow,
    /// Where appeal cases go.
    pub routing: AppealRouting,
}

/// Which appeals to list.
#[derive(Debug, Clone, Default)]
pub struct AppealFilter {
    /// Only open or only decided appeals.
    pub status: Option<AppealStatus>,
    /// Only appeals opened at or after this time.
    pub since: Option<Timestamp>,
    /// Page size, capped at `PAGE_SIZE_MAX`.
    pub limit: u32,
}

/// Which appeal cases a case list or claim shows its reader, by the
/// independence rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AppealScope {
    /// Every case (Warden itself, leads reading for oversight).
    #[default]
    Every,
    /// Report cases, and appeal cases the filter admits.
    Reviewer(AppealListingFilter),
    /// Report cases only: the reader reviews no appeal.
    Hidden,
}
