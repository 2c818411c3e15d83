//! Records of escalations and evidence, as the [`crate::EscalationStore`]
//! and [`crate::EvidenceStore`] ports read them.

use warden_domain::access::Principal;
use warden_domain::escalation::{
    EscalateCommand, EscalationPolicy, EscalationSeverity, EscalationState, EscalationTimes,
};
use warden_domain::evidence::EvidenceItem;
use warden_domain::{CaseId, Timestamp};

/// The delivery endpoint key of Sev-1 pages: `[escalation] page_webhook`
/// is configured as the endpoint of this key.
pub const PAGE_ENDPOINT_KEY: &str = "escalation.page";

/// An escalation as stored, with its pages so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationRecord {
    /// Warden's id.
    pub id: i64,
    /// The case.
    pub case_id: CaseId,
    /// The specialist team.
    pub team: String,
    /// The level.
    pub severity: EscalationSeverity,
    /// Why, in the escalator's words.
    pub reason: String,
    /// Who escalated.
    pub escalated_by: String,
    /// Detection → escalation → acknowledgement → resolution (the case's
    /// first resolution after the escalation).
    pub times: EscalationTimes,
    /// When a team member must have acknowledged it.
    pub acknowledge_by: Timestamp,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// Pages delivered to the on-call.
    pub pages_sent: u32,
    /// When the last one was delivered.
    pub last_paged_at: Option<Timestamp>,
    /// Pages waiting in the outbox (cancelled on acknowledgement).
    pub pages_pending: u32,
    /// The package as sent, in Markdown.
    pub package_markdown: String,
}

impl EscalationRecord {
    /// The state the domain's paging and acknowledgement rules read.
    pub fn state(&self) -> EscalationState {
        EscalationState {
            id: self.id,
            case: self.case_id,
            team: self.team.clone(),
            severity: self.severity,
            times: self.times,
            acknowledged_by: self.acknowledged_by.clone(),
            pages_sent: self.pages_sent,
            last_paged_at: self.last_paged_at,
        }
    }
}

/// Whether an escalation pages the on-call (a page webhook is configured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Levels that page write their pages to the outbox.
    Webhook,
    /// No page webhook: nothing is paged (the lead view still shows it).
    Off,
}

/// An evidence item of a case, with its content as read (only when it
/// still hashes to the recorded SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceContentRead {
    /// The case.
    pub case_id: CaseId,
    /// The item, with the check of this read.
    pub item: EvidenceItem,
    /// Its bytes, when verified; `None` when missing or changed.
    pub bytes: Option<Vec<u8>>,
}

/// An escalation to make: who, what, under which policy, paging or not.
#[derive(Debug, Clone, Copy)]
pub struct EscalationRequest<'a> {
    /// The escalator, with role and teams.
    pub escalator: &'a Principal,
    /// The checked command.
    pub command: &'a EscalateCommand,
    /// Severity definitions and teams in force.
    pub policy: &'a EscalationPolicy,
    /// Whether levels that page write pages.
    pub paging: Paging,
}
