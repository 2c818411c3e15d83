//! The case page's view model: the store's records turned into what the
//! template prints, with personal data masked unless revealed.

use askama::Template;
use serde_json::Value;

use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::decision::{action_target, ActionKind, Rationale};
use warden_domain::ids::SubjectKind;
use warden_domain::sla::{sla_state, SlaState};
use warden_domain::{SubjectRef, Timestamp};
use warden_store::{
    ActionRecord, CaseDetail, CaseRecord, DecisionRecord, EventRecord, NoteRecord, ReportRecord,
    SignalRecord, StrikeRecord, SubjectHistory, SubjectRecord, TransitionRecord, UserRecord,
};

use super::form::{CaseForm, ACTIONS};
use crate::console::text::{self, Attribute};
use crate::console::view::{Layout, Viewer};
use crate::AppState;
use warden_app::access::CaseRights;
use warden_app::case_scores::CaseExplanation;
use warden_app::PolicySnapshot;
use warden_domain::privacy::MASKED;

/// Items of each kind shown from a subject's history.
pub const HISTORY_SHOWN: u32 = 20;

/// Events of the account shown.
const EVENTS_SHOWN: usize = 6;

/// The case page.
#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub layout: Layout,
    pub head: CaseHead,
    pub lease: LeaseView,
    pub can: Can,
    pub subject: SubjectPanel,
    pub account: Option<AccountPanel>,
    pub reports: Vec<ReportItem>,
    pub signals: Vec<SignalItem>,
    pub history: HistoryPanel,
    pub related: Vec<RelatedCase>,
    pub transitions: Vec<TransitionItem>,
    pub decisions: Vec<DecisionItem>,
    pub notes: Vec<NoteItem>,
    pub form: CaseForm,
    pub errors: Vec<(String, String)>,
    pub options: FormOptions,
    pub conflict: Option<String>,
    pub revealed: bool,
    pub autoplay: bool,
    pub recommendation: Option<RecommendationPanel>,
    pub score: Option<ScorePanel>,
}

impl CasePage {
    /// The error for form field `field`, if any.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, reason)| reason.as_str())
    }

    /// Whether the option `value` of a select or radio group is the chosen one.
    pub fn is(&self, chosen: &str, value: &str) -> bool {
        chosen == value
    }

    /// Whether form error `field` is about the action of type `kind`.
    pub fn belongs(&self, field: &str, kind: &str) -> bool {
        field.strip_prefix("a_") == Some(kind)
            || field.strip_suffix("_duration") == Some(kind)
            || (kind == "restrict" && field == "restrict_feature")
            || (kind == "label" && field == "label_label")
    }

    /// A form field's name for the error summary.
    pub fn field_label(&self, field: &str) -> &'static str {
        match field {
            "violation" => "Outcome",
            "category" => "Category",
            "policy" => "Policy id",
            "actions" => "Actions",
            "r_what_happened" => "What happened",
            "r_evidence" => "Evidence",
            "r_policy" => "Policy that applies",
            "r_action" => "Action",
            "r_next_steps" => "Next steps",
            "override_reason" => "Why depart from the recommendation",
            "restrict_feature" => "Feature",
            "label_label" => "Label",
            "hold_reason" => "Hold reason",
            "escalate_reason" => "Escalation reason",
            "escalate_queue" => "Escalation queue",
            "reveal_reason" => "Reason to reveal",
            "user" => "User",
            "version" => "Version",
            f if f.starts_with("n_") => "Note",
            f if f.ends_with("_duration") => "Duration",
            f if f.starts_with("a_") => "Action",
            _ => "Form",
        }
    }

    /// Whether any personal data on the page is masked.
    pub fn any_masked(&self) -> bool {
        !self.revealed
            && (self.subject.text_masked
                || self.subject.attributes.iter().any(|a| a.masked)
                || self.reports.iter().any(|r| r.text_masked)
                || self.score.as_ref().is_some_and(|s| s.masked)
                || self
                    .account
                    .as_ref()
                    .is_some_and(|a| a.attributes.iter().any(|x| x.masked) || !a.events.is_empty()))
    }
}

/// The top of the page.
pub struct CaseHead {
    pub id: i64,
    pub category: String,
    pub category_name: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub status_label: &'static str,
    pub queue: String,
    pub version: i64,
    pub opened_ago: String,
    pub opened_stamp: String,
    pub priority: i64,
    pub language: String,
    pub report_count: i64,
    pub signal_count: i64,
    pub subject_label: String,
    pub first_touch: SlaChip,
    pub resolution: SlaChip,
}

/// One SLA deadline.
pub struct SlaChip {
    /// `on_track`, `at_risk`, `breached` or `met`.
    pub state: &'static str,
    /// The state in words.
    pub label: &'static str,
    /// The deadline, for the countdown.
    pub due_iso: String,
    /// The deadline in words.
    pub due_text: String,
    /// The deadline as a time.
    pub due_stamp: String,
    /// Whether the clock has stopped (met or breached when done).
    pub done: bool,
}

/// Who holds the case.
pub struct LeaseView {
    pub holder: String,
    pub mine: bool,
    pub live: bool,
    pub held: bool,
    pub hold_reason: String,
    pub expires_iso: String,
    pub left_text: String,
}

/// What the viewer may do here.
pub struct Can {
    /// Holds a live lease: decide, renew, release, hold, escalate.
    pub work: bool,
    /// May decide again on a resolved case (a lead's correction).
    pub correct: bool,
    /// May add notes.
    pub note: bool,
    /// May reassign and release others' cases.
    pub lead: bool,
    /// May reveal personal data.
    pub reveal: bool,
    /// May work cases and the case is in a queue their role can claim from.
    pub claim: bool,
}

impl Can {
    /// Whether the decision form is shown.
    pub fn decide(&self) -> bool {
        self.work || self.correct
    }
}

/// One media item.
pub struct MediaView {
    pub index: usize,
    pub src: String,
    pub video: bool,
    pub mime: String,
    pub url: String,
    pub sha256: String,
}

/// The subject as the platform showed it.
pub struct SubjectPanel {
    pub kind: &'static str,
    pub id: String,
    pub present: bool,
    pub text: String,
    pub text_masked: bool,
    pub created: String,
    pub updated: String,
    pub owner: String,
    pub recipient: String,
    pub amount: String,
    pub payer: String,
    pub payee: String,
    pub attributes: Vec<Attribute>,
    pub media: Vec<MediaView>,
}

/// The account behind the subject (or the subject, when it is one).
pub struct AccountPanel {
    pub id: String,
    pub present: bool,
    pub display_name: String,
    pub created: String,
    pub attributes: Vec<Attribute>,
    pub active_weight: i64,
    pub strikes: Vec<StrikeItem>,
    pub actions: Vec<ActionItem>,
    pub events: Vec<EventItem>,
}

pub struct ReportItem {
    pub id: String,
    pub reason: String,
    pub source: &'static str,
    pub reporter: String,
    pub text: String,
    pub text_masked: bool,
    pub language: String,
    pub ago: String,
    pub stamp: String,
}

pub struct SignalItem {
    pub name: String,
    pub source: String,
    pub category: String,
    pub score: String,
    pub score_percent: u32,
    pub details: Vec<(String, String)>,
    pub ago: String,
}

pub struct HistoryPanel {
    pub decisions: Vec<DecisionItem>,
    pub actions: Vec<ActionItem>,
    pub reports_elsewhere: usize,
}

pub struct RelatedCase {
    pub id: i64,
    pub category: String,
    pub severity: &'static str,
    pub status: &'static str,
    pub opened_ago: String,
    pub why: &'static str,
}

pub struct TransitionItem {
    pub from: &'static str,
    pub to: &'static str,
    pub actor: String,
    pub ago: String,
    pub stamp: String,
    pub reason: String,
}

pub struct DecisionItem {
    pub id: i64,
    pub case_id: i64,
    pub violation: bool,
    pub category: String,
    pub policy: String,
    pub decided_by: String,
    pub ago: String,
    pub stamp: String,
    pub actions: Vec<String>,
    pub sections: Vec<(&'static str, String)>,
    pub superseded: bool,
}

pub struct NoteItem {
    pub author: String,
    pub ago: String,
    pub stamp: String,
    pub sections: Vec<(&'static str, String)>,
}

pub struct ActionItem {
    pub label: String,
    pub target: String,
    pub status: String,
    pub ago: String,
    pub expires: String,
}

pub struct StrikeItem {
    pub category: String,
    pub weight: i64,
    pub active: bool,
    pub ago: String,
    pub expires: String,
}

pub struct EventItem {
    pub event_type: String,
    pub ago: String,
    pub ip: String,
    pub device: String,
}

/// Choices of the form.
pub struct FormOptions {
    /// Taxonomy: code, name.
    pub categories: Vec<(String, String)>,
    /// Actions that fit this subject: type, label.
    pub actions: Vec<(&'static str, &'static str)>,
    /// Why the other actions are not offered.
    pub actions_missing: Vec<String>,
    /// Queues to escalate to: name, description.
    pub escalation_queues: Vec<(String, String)>,
    /// Users a lead can hand the case to.
    pub assignees: Vec<String>,
    /// Suggested durations: ISO 8601, words.
    pub durations: Vec<(&'static str, &'static str)>,
}

/// Sections of a rationale with their headings, empty ones left out,
/// personal data masked unless `reveal` (analysts quote what they judge).
pub fn sections(r: &Rationale, reveal: bool) -> Vec<(&'static str, String)> {
    [
        ("What happened", &r.what_happened),
        ("Evidence", &r.evidence),
        ("Policy", &r.policy),
        ("Action", &r.action),
        ("Next steps", &r.next_steps),
    ]
    .into_iter()
    .filter(|(_, text)| !text.trim().is_empty())
    .map(|(heading, text)| (heading, text::shown(text, reveal).0))
    .collect()
}

/// A status in words.
pub fn status_label(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::New => "New",
        CaseStatus::InReview => "In review",
        CaseStatus::WaitingForInformation => "Waiting for information",
        CaseStatus::Escalated => "Escalated",
        CaseStatus::Resolved => "Resolved",
        CaseStatus::Reopened => "Reopened",
    }
}

/// An SLA state in words.
pub fn sla_label(state: SlaState) -> &'static str {
    match state {
        SlaState::OnTrack => "on track",
        SlaState::AtRisk => "at risk",
        SlaState::Breached => "breached",
        SlaState::Met => "met",
    }
}

/// The two SLA chips of a case.
pub fn sla_chips(case: &CaseRecord, now: Timestamp) -> (SlaChip, SlaChip) {
    let chip = |due: Timestamp, done: Option<Timestamp>| {
        let state = sla_state(case.opened_at, due, done, now);
        SlaChip {
            state: state.as_str(),
            label: sla_label(state),
            due_iso: text::iso(due),
            due_text: match done {
                Some(at) => format!("done {}", text::ago(now, at)),
                None => text::until(now, due),
            },
            due_stamp: text::stamp(due),
            done: done.is_some(),
        }
    };
    let resolved = case
        .resolved_at
        .filter(|_| case.status == CaseStatus::Resolved);
    (
        chip(case.first_touch_due_at, case.first_touched_at),
        chip(case.resolve_due_at, resolved),
    )
}

fn action_label(a: &ActionRecord) -> String {
    let mut label = a.action_type.replace('_', " ");
    if let Some(feature) = &a.feature {
        label.push_str(&format!(" ({feature})"));
    }
    if let Some(l) = &a.label {
        label.push_str(&format!(" “{l}”"));
    }
    if let Some(seconds) = a.duration_seconds {
        label.push_str(&format!(" for {}", text::duration_words(seconds)));
    }
    label
}

fn action_item(a: &ActionRecord, now: Timestamp) -> ActionItem {
    ActionItem {
        label: action_label(a),
        target: a.target.to_string(),
        status: a.status.to_string(),
        ago: text::ago(now, a.created_at),
        expires: a
            .expires_at
            .map(|t| {
                if t > now {
                    format!("ends {}", text::until(now, t))
                } else {
                    "ended".into()
                }
            })
            .unwrap_or_default(),
    }
}

fn decision_item(d: &DecisionRecord, now: Timestamp, reveal: bool) -> DecisionItem {
    DecisionItem {
        id: d.id,
        case_id: d.case_id.0,
        violation: d.violation,
        category: d.category.clone(),
        policy: text::shown(d.policy.as_deref().unwrap_or_default(), reveal).0,
        decided_by: d.decided_by.clone(),
        ago: text::ago(now, d.decided_at),
        stamp: text::stamp(d.decided_at),
        actions: d.actions.iter().map(action_label).collect(),
        sections: sections(&d.rationale, reveal),
        superseded: d.superseded_by.is_some(),
    }
}

fn strike_item(s: &StrikeRecord, now: Timestamp) -> StrikeItem {
    StrikeItem {
        category: s.category.clone(),
        weight: s.weight,
        active: s.is_active(now),
        ago: text::ago(now, s.created_at),
        expires: if s.voided_at.is_some() {
            "voided".into()
        } else if s.expires_at > now {
            format!(
                "counts {}",
                text::until(now, s.expires_at).replace("in ", "for ")
            )
        } else {
            "expired".into()
        },
    }
}

fn event_item(e: &EventRecord, now: Timestamp, reveal: bool) -> EventItem {
    let hide = |v: &Option<String>| match v {
        None => String::new(),
        Some(_) if !reveal => MASKED.to_string(),
        Some(v) => v.clone(),
    };
    EventItem {
        event_type: text::shown(&e.event_type, reveal).0.replace('_', " "),
        ago: text::ago(now, e.occurred_at),
        ip: hide(&e.ip),
        device: hide(&e.device_id),
    }
}

fn reference_line(value: Option<&Value>) -> String {
    value.map(text::value_line).unwrap_or_default()
}

fn masked(text: &str, reveal: bool) -> (String, bool) {
    text::shown(text, reveal)
}

fn subject_panel(
    case_id: i64,
    reference: &SubjectRef,
    record: Option<&SubjectRecord>,
    reveal: bool,
    now: Timestamp,
) -> SubjectPanel {
    let empty = Value::Null;
    let attributes = record.map_or(&empty, |r| &r.attributes);
    let reference_line = |value: Option<&Value>| text::shown(&reference_line(value), reveal).0;
    let (text, text_masked) = masked(
        record.and_then(|r| r.text.as_deref()).unwrap_or_default(),
        reveal,
    );
    let media = record
        .and_then(|r| r.media.as_array())
        .map(|items| {
            items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let mime = item["mime"].as_str().unwrap_or_default().to_string();
                    MediaView {
                        index,
                        src: format!("/console/cases/{case_id}/media/{index}"),
                        video: mime.starts_with("video/"),
                        mime,
                        url: text::shown(item["url"].as_str().unwrap_or_default(), reveal).0,
                        sha256: item["sha256"].as_str().unwrap_or_default().to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let amount = match (attributes.get("amount"), attributes.get("price")) {
        (Some(amount), _) | (None, Some(amount)) => format!(
            "{} {}",
            text::value_line(amount),
            reference_line(attributes.get("currency"))
        )
        .trim()
        .to_string(),
        (None, None) => String::new(),
    };
    let shown_elsewhere = ["amount", "price", "currency", "payer", "payee", "recipient"];
    SubjectPanel {
        kind: reference.kind.as_str(),
        id: reference.id.as_str().to_string(),
        present: record.is_some(),
        text,
        text_masked,
        created: record
            .and_then(|r| r.created_at)
            .map(|t| format!("{} ({})", text::stamp(t), text::ago(now, t)))
            .unwrap_or_default(),
        updated: record
            .map(|r| text::ago(now, r.updated_at))
            .unwrap_or_default(),
        owner: record
            .and_then(|r| r.owner.as_ref())
            .map(|o| o.id.as_str().to_string())
            .unwrap_or_default(),
        recipient: reference_line(attributes.get("recipient")),
        amount,
        payer: reference_line(attributes.get("payer")),
        payee: reference_line(attributes.get("payee")),
        attributes: text::attributes(attributes, reveal)
            .into_iter()
            .filter(|a| !shown_elsewhere.contains(&a.key.as_str()))
            .collect(),
        media,
    }
}

fn account_panel(
    account: &SubjectRef,
    history: &SubjectHistory,
    reveal: bool,
    now: Timestamp,
) -> AccountPanel {
    let record = history.subject.as_ref();
    let empty = Value::Null;
    let attributes = record.map_or(&empty, |r| &r.attributes);
    AccountPanel {
        id: account.id.as_str().to_string(),
        present: record.is_some(),
        display_name: text::shown(
            &attributes
                .get("display_name")
                .map(text::value_line)
                .unwrap_or_default(),
            reveal,
        )
        .0,
        created: record
            .and_then(|r| r.created_at)
            .map(|t| format!("{} ({})", text::stamp(t), text::ago(now, t)))
            .unwrap_or_default(),
        attributes: text::attributes(attributes, reveal)
            .into_iter()
            .filter(|a| a.key != "display_name")
            .collect(),
        active_weight: history.active_strike_weight,
        strikes: history
            .strikes
            .iter()
            .map(|s| strike_item(s, now))
            .collect(),
        actions: history
            .actions
            .iter()
            .map(|a| action_item(a, now))
            .collect(),
        events: history
            .events
            .iter()
            .take(EVENTS_SHOWN)
            .map(|e| event_item(e, now, reveal))
            .collect(),
    }
}

/// Everything the page needs, read from the store by the handler.
pub struct Loaded {
    pub detail: CaseDetail,
    pub history: SubjectHistory,
    pub account: Option<(SubjectRef, SubjectHistory)>,
    pub assignees: Vec<UserRecord>,
    /// The matrix's recommendation, for those who decide.
    pub recommendation: Option<RecommendationPanel>,
    /// The live classifier's score of the case's text, explained.
    pub score: Option<CaseExplanation>,
}

/// The enforcement matrix's recommendation, shown in the decision form.
pub struct RecommendationPanel {
    /// The category it is for.
    pub category: String,
    /// The severity it assumes.
    pub severity: &'static str,
    /// The taxonomy version in force (0: the configured one).
    pub taxonomy_version: i64,
    /// The recommended actions, in words.
    pub actions: Vec<String>,
    /// The account's active strike weight before this decision.
    pub prior_strike_weight: i64,
    /// The account acted on, if any.
    pub account: String,
    /// Recommended actions that would still wait for a lead: action, why.
    pub recommended_approvals: Vec<(String, String)>,
    /// The ticked actions and why each would wait for a lead (empty: it
    /// would not); `None` when nothing is ticked or it cannot be told yet.
    pub chosen: Option<Vec<(String, String)>>,
}

/// Builds the page.
#[allow(clippy::too_many_arguments)]
pub fn case_page(
    state: &AppState,
    viewer: &Viewer,
    loaded: Loaded,
    mut form: CaseForm,
    errors: Vec<(String, String)>,
    conflict: Option<String>,
    revealed: bool,
    layout: Layout,
) -> CasePage {
    let now = state.now();
    let Loaded {
        detail,
        history,
        account,
        assignees,
        recommendation,
        score,
    } = loaded;
    let case = &detail.case;
    let policy = state.app.policy();
    // What the viewer may do: the application's rules, not the page's.
    let can = Can::from(state.app.case_rights(&viewer.actor(), case));
    let owner = detail.subject.as_ref().and_then(|s| s.owner.clone());
    fill_form_defaults(&mut form, case, state);
    CasePage {
        layout,
        head: case_head(case, &policy, now),
        lease: lease_view(case, viewer.caller.principal.user_id, revealed, now),
        can,
        subject: subject_panel(
            case.id.0,
            &case.subject,
            detail.subject.as_ref(),
            revealed,
            now,
        ),
        account: account_view(case, &history, account.as_ref(), revealed, now),
        reports: detail
            .reports
            .iter()
            .map(|r| report_item(r, revealed, now))
            .collect(),
        signals: detail
            .signals
            .iter()
            .map(|s| signal_item(s, revealed, now))
            .collect(),
        history: history_panel(case, &history, revealed, now),
        related: related_cases(case, &history, account.as_ref().map(|(_, h)| h), now),
        transitions: detail
            .transitions
            .iter()
            .map(|t| transition_item(t, revealed, now))
            .collect(),
        decisions: detail
            .decisions
            .iter()
            .rev()
            .map(|d| decision_item(d, now, revealed))
            .collect(),
        notes: detail
            .notes
            .iter()
            .rev()
            .map(|n| note_item(n, revealed, now))
            .collect(),
        form,
        errors,
        options: form_options(&policy, case, owner.as_ref(), &assignees),
        conflict,
        revealed,
        autoplay: viewer.prefs.autoplay,
        recommendation,
        score: score.map(|e| score_panel(e, revealed)),
    }
}

impl From<CaseRights> for Can {
    fn from(rights: CaseRights) -> Self {
        Can {
            work: rights.work,
            correct: rights.correct,
            note: rights.note,
            lead: rights.lead,
            reveal: rights.reveal,
            claim: rights.claim,
        }
    }
}

/// The account panel: of the subject's owner when it has one, else of the
/// subject itself when it is an account.
fn account_view(
    case: &CaseRecord,
    history: &SubjectHistory,
    account: Option<&(SubjectRef, SubjectHistory)>,
    revealed: bool,
    now: Timestamp,
) -> Option<AccountPanel> {
    account
        .map(|(reference, h)| account_panel(reference, h, revealed, now))
        .or_else(|| {
            (case.subject.kind == SubjectKind::Account)
                .then(|| account_panel(&case.subject, history, revealed, now))
        })
}

/// The form's defaults from the case: its category, the configured
/// escalation queue, and always the case's current version.
fn fill_form_defaults(form: &mut CaseForm, case: &CaseRecord, state: &AppState) {
    if form.category.is_empty() {
        form.category = case.category.clone();
    }
    if form.escalate_queue.is_empty() {
        form.escalate_queue = state.settings.escalation_queue.clone();
    }
    form.version = case.version.to_string();
}

/// The page's heading: what the case is, where it stands, its deadlines.
fn case_head(case: &CaseRecord, policy: &PolicySnapshot, now: Timestamp) -> CaseHead {
    let (first_touch, resolution) = sla_chips(case, now);
    let category_name = policy
        .taxonomy()
        .get(&case.category)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| case.category.clone());
    CaseHead {
        id: case.id.0,
        category: case.category.clone(),
        category_name,
        severity: case.severity.as_str(),
        status: case.status.as_str(),
        status_label: status_label(case.status),
        queue: case.queue.clone(),
        version: case.version,
        opened_ago: text::ago(now, case.opened_at),
        opened_stamp: text::stamp(case.opened_at),
        priority: case.priority,
        language: case.language.clone().unwrap_or_default(),
        report_count: case.report_count,
        signal_count: case.signal_count,
        subject_label: format!("{} {}", case.subject.kind, case.subject.id),
        first_touch,
        resolution,
    }
}

/// Who holds the case and until when, the hold reason masked unless
/// revealed.
fn lease_view(case: &CaseRecord, me: i64, revealed: bool, now: Timestamp) -> LeaseView {
    LeaseView {
        holder: case.assignee.clone().unwrap_or_default(),
        mine: case.assignee_id == Some(me),
        live: case.lease_is_live(now),
        held: case.held,
        hold_reason: text::shown(case.hold_reason.as_deref().unwrap_or_default(), revealed).0,
        expires_iso: case.lease_expires_at.map(text::iso).unwrap_or_default(),
        left_text: case
            .lease_expires_at
            .map(|t| text::until(now, t))
            .unwrap_or_default(),
    }
}

/// A report on the case, its text masked unless revealed.
fn report_item(r: &ReportRecord, revealed: bool, now: Timestamp) -> ReportItem {
    let (text, text_masked) = masked(r.text.as_deref().unwrap_or_default(), revealed);
    ReportItem {
        id: r.id.clone(),
        reason: r.reason.clone(),
        source: r.source.as_str(),
        reporter: r
            .reporter
            .as_ref()
            .map(|s| s.id.as_str().to_string())
            .unwrap_or_default(),
        text,
        text_masked,
        language: r.language.clone().unwrap_or_default(),
        ago: text::ago(now, r.created_at),
        stamp: text::stamp(r.created_at),
    }
}

/// A signal on the case, its details masked unless revealed.
fn signal_item(s: &SignalRecord, revealed: bool, now: Timestamp) -> SignalItem {
    SignalItem {
        name: s.name.clone(),
        source: s.source.clone(),
        category: s.category.clone(),
        score: format!("{:.2}", s.score),
        score_percent: (s.score.clamp(0.0, 1.0) * 100.0).round() as u32,
        details: text::attributes(&s.details, revealed)
            .into_iter()
            .map(|a| (a.key, a.value))
            .collect(),
        ago: text::ago(now, s.created_at),
    }
}

/// The subject's history outside this case (its actions are on the account
/// panel when the subject is an account).
fn history_panel(
    case: &CaseRecord,
    history: &SubjectHistory,
    revealed: bool,
    now: Timestamp,
) -> HistoryPanel {
    HistoryPanel {
        decisions: history
            .decisions
            .iter()
            .filter(|d| d.case_id != case.id)
            .map(|d| decision_item(d, now, revealed))
            .collect(),
        actions: if case.subject.kind == SubjectKind::Account {
            Vec::new()
        } else {
            history
                .actions
                .iter()
                .map(|a| action_item(a, now))
                .collect()
        },
        reports_elsewhere: history
            .reports
            .iter()
            .filter(|r| r.case_id != Some(case.id))
            .count(),
    }
}

/// Other cases about the same subject, then about its account.
fn related_cases(
    case: &CaseRecord,
    history: &SubjectHistory,
    account_history: Option<&SubjectHistory>,
    now: Timestamp,
) -> Vec<RelatedCase> {
    let mut related: Vec<RelatedCase> = history
        .cases
        .iter()
        .filter(|c| c.id != case.id)
        .map(|c| related_case(c, "same subject", now))
        .collect();
    if let Some(account_history) = account_history {
        related.extend(
            account_history
                .cases
                .iter()
                .filter(|c| c.id != case.id)
                .map(|c| related_case(c, "about the account", now)),
        );
    }
    related
}

/// One related case, with why it is shown.
fn related_case(c: &CaseRecord, why: &'static str, now: Timestamp) -> RelatedCase {
    RelatedCase {
        id: c.id.0,
        category: c.category.clone(),
        severity: c.severity.as_str(),
        status: status_label(c.status),
        opened_ago: text::ago(now, c.opened_at),
        why,
    }
}

/// A status change, its reason masked unless revealed.
fn transition_item(t: &TransitionRecord, revealed: bool, now: Timestamp) -> TransitionItem {
    TransitionItem {
        from: t.from.map(status_label).unwrap_or("opened"),
        to: status_label(t.to),
        actor: t.actor.clone(),
        ago: text::ago(now, t.at),
        stamp: text::stamp(t.at),
        reason: text::shown(t.reason.as_deref().unwrap_or_default(), revealed).0,
    }
}

/// A note, its sections masked unless revealed.
fn note_item(n: &NoteRecord, revealed: bool, now: Timestamp) -> NoteItem {
    NoteItem {
        author: n.author.clone(),
        ago: text::ago(now, n.created_at),
        stamp: text::stamp(n.created_at),
        sections: sections(&n.body, revealed),
    }
}

/// Suggested durations of time-limited actions: ISO 8601, words.
const DURATIONS: [(&str, &str); 7] = [
    ("PT1H", "1 hour"),
    ("P1D", "1 day"),
    ("P3D", "3 days"),
    ("P7D", "7 days"),
    ("P30D", "30 days"),
    ("P90D", "90 days"),
    ("P365D", "1 year"),
];

/// The choices the forms offer for this case under the policy in force.
fn form_options(
    policy: &PolicySnapshot,
    case: &CaseRecord,
    owner: Option<&SubjectRef>,
    assignees: &[UserRecord],
) -> FormOptions {
    let (actions, actions_missing) = fitting_actions(case, owner);
    FormOptions {
        categories: policy
            .taxonomy()
            .categories()
            .map(|c| (c.code.clone(), c.name.clone()))
            .collect(),
        actions,
        actions_missing: dedup(actions_missing),
        escalation_queues: policy
            .router()
            .queues()
            .iter()
            .filter(|q| q.name != case.queue)
            .map(|q| (q.name.clone(), q.description.clone()))
            .collect(),
        assignees: assignees
            .iter()
            .filter(|u| !u.disabled && u.role.grants(Permission::CaseWork))
            // Only people the case's queue admits (role and team) can take it.
            .filter(|u| policy.router().sees(u.role, &u.teams, &case.queue))
            .map(|u| u.name.clone())
            .collect(),
        durations: DURATIONS.to_vec(),
    }
}

/// The actions that can land on the case's subject (type, label), and why
/// each of the others cannot.
fn fitting_actions(
    case: &CaseRecord,
    owner: Option<&SubjectRef>,
) -> (Vec<(&'static str, &'static str)>, Vec<String>) {
    let actions = ACTIONS
        .iter()
        .copied()
        .filter(|(kind, _)| {
            action_kind(kind).is_some_and(|k| action_target(&k, &case.subject, owner).is_ok())
        })
        .collect();
    let missing = ACTIONS
        .iter()
        .filter_map(|(kind, _)| {
            action_kind(kind).and_then(|k| action_target(&k, &case.subject, owner).err())
        })
        .collect();
    (actions, missing)
}

fn dedup(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items.dedup();
    items
}

/// The domain kind of an action type, with placeholder parameters (enough
/// to ask where it would land).
fn action_kind(kind: &str) -> Option<ActionKind> {
    Some(match kind {
        "remove_content" => ActionKind::RemoveContent,
        "warn" => ActionKind::Warn,
        "restrict" => ActionKind::Restrict {
            feature: String::new(),
        },
        "suspend" => ActionKind::Suspend,
        "ban" => ActionKind::Ban,
        "hold_transaction" => ActionKind::HoldTransaction,
        "label" => ActionKind::Label {
            label: String::new(),
        },
        _ => return None,
    })
}

/// Drivers of a classifier score shown on the case page.
pub const SCORE_DRIVERS_SHOWN: usize = 12;

/// The live classifier's score of the case's text, with what drove it.
pub struct ScorePanel {
    pub model: String,
    pub version: i64,
    /// Two decimals.
    pub score: String,
    /// 0 to 100, for the meter.
    pub score_percent: i64,
    pub drivers: Vec<ScoreDriver>,
    /// Whether personal data in a driver was masked.
    pub masked: bool,
}

/// One word or n-gram that moved the score.
pub struct ScoreDriver {
    /// The features in its bucket, masked unless revealed.
    pub names: String,
    /// Signed, three decimals: positive pushes towards the category.
    pub weight: String,
    pub towards: bool,
}

/// The score panel, personal data in the drivers masked unless revealed
/// (they are pieces of the platform's text).
fn score_panel(explanation: CaseExplanation, revealed: bool) -> ScorePanel {
    let mut any_masked = false;
    let drivers = explanation
        .drivers
        .into_iter()
        .take(SCORE_DRIVERS_SHOWN)
        .map(|(names, weight)| {
            let (names, was_masked) = masked(&names.join(" · "), revealed);
            any_masked |= was_masked;
            ScoreDriver {
                names,
                weight: format!("{weight:+.3}"),
                towards: weight > 0.0,
            }
        })
        .collect();
    ScorePanel {
        model: explanation.model,
        version: explanation.version,
        score: format!("{:.2}", explanation.score),
        score_percent: (explanation.score * 100.0).round() as i64,
        drivers,
        masked: any_masked,
    }
}
