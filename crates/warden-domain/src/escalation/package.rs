//! The escalation package: everything a specialist team needs to act on
//! an escalated case without opening ten pages, assembled from what the
//! store loads ([`PackageFacts`]) and checked for completeness before it
//! is sent.
//!
//! A package has a summary, a timeline, the evidence with its SHA-256
//! hashes (verified on this read), the subject ids, linked accounts, the
//! account's prior actions and strikes, notes, the case's decisions and
//! the recommended next steps. Its fields are plain data: the server
//! builds its JSON, [`super::markdown`] its printable Markdown.
//!
//! ## Required parts, per severity
//!
//! | part                     | Sev-1 | Sev-2 | Sev-3 | Sev-4 |
//! |--------------------------|:-----:|:-----:|:-----:|:-----:|
//! | `summary` (a reason)     |   ✓   |   ✓   |   ✓   |   ✓   |
//! | `subject_ids`            |   ✓   |   ✓   |   ✓   |   ✓   |
//! | `timeline`               |   ✓   |   ✓   |   ✓   |   ✓   |
//! | `evidence` (all verified)|   ✓   |   ✓   |   ✓   |   ✓   |
//! | `notes`                  |       |   ✓   |   ✓   |   ✓   |
//! | `recommended_next_steps` |       |   ✓   |   ✓   |   ✓   |
//!
//! Every package needs something the team can check (evidence, each item
//! still matching its hash: tampered or lost evidence is never sent) and
//! why it came (the reason). A Sev-1 pages the on-call at once, so it does
//! not wait for notes and next steps: the reason and the evidence are what
//! a responder needs in the first minutes, and the notes follow. Linked
//! accounts, prior actions and strikes are always included but never
//! required: an account may truthfully have none.

use std::fmt;

use crate::action::ActionStatus;
use crate::case::{CaseStatus, Severity};
use crate::decision::{ActionKind, Rationale};
use crate::evidence::{EvidenceContent, EvidenceItem, HashCheck};
use crate::ids::{ActionId, CaseId, DecisionId, SubjectRef};
use crate::intake::ReportSource;
use crate::limits::{
    PACKAGE_EXCERPT_CHARS_MAX, PACKAGE_ITEMS_PER_PART_MAX, PACKAGE_TIMELINE_EVENTS_MAX,
};
use crate::privacy::mask_text;
use crate::{FieldError, FieldErrors, Timestamp};

use super::{EscalationSeverity, SeverityDefinition};

/// One part of a package, as the completeness check names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PackagePart {
    /// Why it was escalated, with the case in a few sentences.
    Summary,
    /// What happened, in order.
    Timeline,
    /// Evidence items with their hashes.
    Evidence,
    /// The subjects concerned.
    SubjectIds,
    /// Accounts linked to the subject.
    LinkedAccounts,
    /// Actions taken before on the subject or account.
    PriorActions,
    /// Strikes on the account.
    Strikes,
    /// Analysts' notes.
    Notes,
    /// What the escalating analyst recommends.
    RecommendedNextSteps,
    /// Reports about the subject.
    Reports,
    /// Machine signals about the subject.
    Signals,
    /// The case's decisions.
    Decisions,
}

impl PackagePart {
    /// The name used in errors and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            PackagePart::Summary => "summary",
            PackagePart::Timeline => "timeline",
            PackagePart::Evidence => "evidence",
            PackagePart::SubjectIds => "subject_ids",
            PackagePart::LinkedAccounts => "linked_accounts",
            PackagePart::PriorActions => "prior_actions",
            PackagePart::Strikes => "strikes",
            PackagePart::Notes => "notes",
            PackagePart::RecommendedNextSteps => "recommended_next_steps",
            PackagePart::Reports => "reports",
            PackagePart::Signals => "signals",
            PackagePart::Decisions => "decisions",
        }
    }
}

impl fmt::Display for PackagePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parts a package of `severity` must have (see the module's table).
pub fn required_parts(severity: EscalationSeverity) -> &'static [PackagePart] {
    use PackagePart::*;
    match severity {
        EscalationSeverity::Sev1 => &[Summary, SubjectIds, Timeline, Evidence],
        EscalationSeverity::Sev2 | EscalationSeverity::Sev3 | EscalationSeverity::Sev4 => &[
            Summary,
            SubjectIds,
            Timeline,
            Evidence,
            Notes,
            RecommendedNextSteps,
        ],
    }
}

/// A required part that is missing or unusable, with what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPart {
    /// The part.
    pub part: PackagePart,
    /// Why it does not count, and what would fix it.
    pub reason: String,
}

/// Every required part a package lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingParts(pub Vec<MissingPart>);

impl MissingParts {
    /// The parts, by name.
    pub fn parts(&self) -> Vec<PackagePart> {
        self.0.iter().map(|m| m.part).collect()
    }

    /// One field error per part, named `package.<part>`.
    pub fn field_errors(&self) -> FieldErrors {
        FieldErrors(
            self.0
                .iter()
                .map(|m| FieldError::new(format!("package.{}", m.part), m.reason.clone()))
                .collect(),
        )
    }
}

impl fmt::Display for MissingParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|m| format!("{}: {}", m.part, m.reason))
            .collect();
        write!(
            f,
            "the escalation package is incomplete: {}",
            parts.join("; ")
        )
    }
}

impl std::error::Error for MissingParts {}

// ---------------------------------------------------------------- facts

/// The escalation a package is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationDetails {
    /// The team.
    pub team: String,
    /// The level, with its definition.
    pub severity: SeverityDefinition,
    /// Why, in the analyst's words.
    pub reason: String,
    /// Who escalated (user name).
    pub escalated_by: String,
    /// When.
    pub escalated_at: Timestamp,
}

/// The case, as the package tells of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageCase {
    /// Warden's id.
    pub id: CaseId,
    /// Its queue before the escalation.
    pub queue: String,
    /// Its category.
    pub category: String,
    /// Its severity.
    pub severity: Severity,
    /// Its status.
    pub status: CaseStatus,
    /// When it opened (when the harm was first seen).
    pub opened_at: Timestamp,
    /// What it is about.
    pub subject: SubjectRef,
    /// The subject's owner, if known.
    pub subject_owner: Option<SubjectRef>,
}

/// An account linked to the subject, with how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedAccount {
    /// The account.
    pub account: SubjectRef,
    /// How it is linked: `owner of the subject`, `shares device dev_a1`, ...
    pub link: String,
}

/// A report about the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageReport {
    /// The platform's id.
    pub id: String,
    /// Who reported, in kind.
    pub source: ReportSource,
    /// The taxonomy code the reporter chose.
    pub reason: String,
    /// The reporter's words (cut to an excerpt in a package).
    pub text: Option<String>,
    /// When.
    pub created_at: Timestamp,
}

/// A machine signal about the subject.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageSignal {
    /// What produced it: `rule`, `classifier`, `hash_match`, ...
    pub source: String,
    /// The rule's, model's or hash bank's name.
    pub name: String,
    /// Its score, 0 to 1.
    pub score: f64,
    /// When.
    pub created_at: Timestamp,
}

/// An action taken before on the subject or its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorAction {
    /// Warden's id.
    pub id: ActionId,
    /// The decision that ordered it.
    pub decision: DecisionId,
    /// What it did.
    pub kind: ActionKind,
    /// What it acted on.
    pub target: SubjectRef,
    /// Where it stands.
    pub status: ActionStatus,
    /// When it was ordered.
    pub ordered_at: Timestamp,
    /// When it ends by itself.
    pub expires_at: Option<Timestamp>,
}

/// A strike on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorStrike {
    /// Warden's id.
    pub id: i64,
    /// The account.
    pub account: SubjectRef,
    /// The category.
    pub category: String,
    /// Its weight.
    pub weight: i64,
    /// When it was given.
    pub created_at: Timestamp,
    /// When it stops counting.
    pub expires_at: Timestamp,
    /// Whether it was voided (reversed, superseded).
    pub voided: bool,
}

impl PriorStrike {
    /// Whether it counts at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        !self.voided && self.expires_at > now
    }
}

/// An analyst's note on the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageNote {
    /// Who wrote it.
    pub author: String,
    /// When.
    pub created_at: Timestamp,
    /// Its five sections.
    pub body: Rationale,
}

/// A decision on the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDecision {
    /// Warden's id.
    pub id: DecisionId,
    /// When.
    pub decided_at: Timestamp,
    /// Who (user name); `None` when Warden decided by itself.
    pub author: Option<String>,
    /// Whether a policy was broken.
    pub violation: bool,
    /// The category.
    pub category: String,
    /// Its rationale.
    pub rationale: Rationale,
}

/// One line of a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEvent {
    /// When.
    pub at: Timestamp,
    /// What happened, in a phrase.
    pub what: String,
    /// Who did it, when a person did.
    pub who: Option<String>,
}

/// What the store loads for a package. Lists hold at most
/// [`PACKAGE_ITEMS_PER_PART_MAX`] + 1 items each (the package keeps the
/// newest [`PACKAGE_ITEMS_PER_PART_MAX`] and says more were left out), the
/// evidence with each item's hash checked on this read.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageFacts {
    /// The escalation.
    pub escalation: EscalationDetails,
    /// The case.
    pub case: PackageCase,
    /// Subjects concerned besides the case's own and its owner (the same
    /// owner's other subjects in open cases, a transaction's parties).
    pub subjects: Vec<SubjectRef>,
    /// Accounts linked to the subject.
    pub linked_accounts: Vec<LinkedAccount>,
    /// Reports about the subject in this case.
    pub reports: Vec<PackageReport>,
    /// Signals in this case.
    pub signals: Vec<PackageSignal>,
    /// Evidence attached to the case.
    pub evidence: Vec<EvidenceItem>,
    /// Actions taken before on the subject or its account.
    pub prior_actions: Vec<PriorAction>,
    /// Strikes on the account.
    pub strikes: Vec<PriorStrike>,
    /// Notes on the case.
    pub notes: Vec<PackageNote>,
    /// Decisions on the case.
    pub decisions: Vec<PackageDecision>,
    /// Other events of the case (claims, holds, status changes) from its
    /// audit records.
    pub events: Vec<TimelineEvent>,
}

// ---------------------------------------------------------------- the package

/// A strike as the package shows it: whether it counts now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageStrike {
    /// The strike.
    pub strike: PriorStrike,
    /// Whether it counts at assembly.
    pub active: bool,
}

/// An assembled package. Plain data, ready to print or serialise.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationPackage {
    /// The case.
    pub case: PackageCase,
    /// The escalation.
    pub escalation: EscalationDetails,
    /// When a team member must have acknowledged it.
    pub acknowledge_by: Timestamp,
    /// Why, and the case in a few sentences.
    pub summary: String,
    /// The subjects concerned: the case's, its owner's, others.
    pub subject_ids: Vec<SubjectRef>,
    /// Accounts linked to the subject.
    pub linked_accounts: Vec<LinkedAccount>,
    /// What happened, oldest first.
    pub timeline: Vec<TimelineEvent>,
    /// Evidence, with hashes and their check on this read (excerpts cut).
    pub evidence: Vec<EvidenceItem>,
    /// Reports (texts cut to an excerpt).
    pub reports: Vec<PackageReport>,
    /// Signals.
    pub signals: Vec<PackageSignal>,
    /// Prior actions.
    pub prior_actions: Vec<PriorAction>,
    /// Strikes, with whether each counts now.
    pub strikes: Vec<PackageStrike>,
    /// Notes (sections cut to an excerpt).
    pub notes: Vec<PackageNote>,
    /// Decisions on the case (sections cut to an excerpt).
    pub decisions: Vec<PackageDecision>,
    /// What should happen next, newest first: the notes' and decisions'
    /// next steps.
    pub recommended_next_steps: Vec<String>,
    /// Parts cut to their limit, with how many items were left out.
    pub omitted: Vec<(PackagePart, usize)>,
    /// When it was assembled.
    pub assembled_at: Timestamp,
}

/// Assembles the package and checks it has every part its severity
/// requires ([`required_parts`]); a package missing parts is refused,
/// naming each one.
pub fn assemble_package(
    facts: &PackageFacts,
    now: Timestamp,
) -> Result<EscalationPackage, MissingParts> {
    let mut cut = Cut::default();
    let notes: Vec<PackageNote> = cut
        .newest(&facts.notes, |n| n.created_at, PackagePart::Notes)
        .into_iter()
        .map(|mut n| {
            n.body = excerpt_rationale(&n.body);
            n
        })
        .collect();
    let decisions: Vec<PackageDecision> = cut
        .newest(&facts.decisions, |d| d.decided_at, PackagePart::Decisions)
        .into_iter()
        .map(|mut d| {
            d.rationale = excerpt_rationale(&d.rationale);
            d
        })
        .collect();
    let mut package = EscalationPackage {
        case: facts.case.clone(),
        escalation: facts.escalation.clone(),
        acknowledge_by: facts.escalation.escalated_at
            + facts.escalation.severity.acknowledge_within,
        summary: String::new(),
        subject_ids: cut.first(subject_ids(facts), PackagePart::SubjectIds),
        linked_accounts: cut.first(facts.linked_accounts.clone(), PackagePart::LinkedAccounts),
        timeline: cut.timeline(timeline(facts)),
        evidence: evidence_excerpts(cut.newest(
            &facts.evidence,
            |e| e.added_at,
            PackagePart::Evidence,
        )),
        reports: report_excerpts(cut.newest(
            &facts.reports,
            |r| r.created_at,
            PackagePart::Reports,
        )),
        signals: cut.newest(&facts.signals, |s| s.created_at, PackagePart::Signals),
        prior_actions: cut.newest(
            &facts.prior_actions,
            |a| a.ordered_at,
            PackagePart::PriorActions,
        ),
        strikes: cut
            .newest(&facts.strikes, |s| s.created_at, PackagePart::Strikes)
            .into_iter()
            .map(|strike| PackageStrike {
                active: strike.is_active(now),
                strike,
            })
            .collect(),
        recommended_next_steps: next_steps(&notes, &decisions),
        notes,
        decisions,
        omitted: Vec::new(),
        assembled_at: now,
    };
    package.omitted = cut.omitted;
    package.summary = summary(&package);
    let missing = check_completeness(&package);
    if missing.is_empty() {
        Ok(package)
    } else {
        Err(MissingParts(missing))
    }
}

/// Parts cut to their limits, remembering how much each lost.
#[derive(Default)]
struct Cut {
    omitted: Vec<(PackagePart, usize)>,
}

impl Cut {
    fn note(&mut self, part: PackagePart, len: usize, max: usize) -> usize {
        let left_out = len.saturating_sub(max);
        if left_out > 0 {
            self.omitted.push((part, left_out));
        }
        left_out
    }

    /// The newest [`PACKAGE_ITEMS_PER_PART_MAX`] items, oldest first.
    fn newest<T: Clone>(
        &mut self,
        items: &[T],
        at: impl Fn(&T) -> Timestamp,
        part: PackagePart,
    ) -> Vec<T> {
        let mut sorted: Vec<T> = items.to_vec();
        sorted.sort_by_key(|item| at(item));
        let left_out = self.note(part, sorted.len(), PACKAGE_ITEMS_PER_PART_MAX);
        sorted.split_off(left_out)
    }

    /// The first [`PACKAGE_ITEMS_PER_PART_MAX`] items, in their order.
    fn first<T>(&mut self, mut items: Vec<T>, part: PackagePart) -> Vec<T> {
        self.note(part, items.len(), PACKAGE_ITEMS_PER_PART_MAX);
        items.truncate(PACKAGE_ITEMS_PER_PART_MAX);
        items
    }

    /// The newest [`PACKAGE_TIMELINE_EVENTS_MAX`] events, oldest first.
    fn timeline(&mut self, events: Vec<TimelineEvent>) -> Vec<TimelineEvent> {
        let left_out = self.note(
            PackagePart::Timeline,
            events.len(),
            PACKAGE_TIMELINE_EVENTS_MAX,
        );
        events.into_iter().skip(left_out).collect()
    }
}

fn evidence_excerpts(items: Vec<EvidenceItem>) -> Vec<EvidenceItem> {
    items
        .into_iter()
        .map(|mut item| {
            if let EvidenceContent::TextExcerpt { text } = &mut item.content {
                *text = excerpt(text);
            }
            item
        })
        .collect()
}

fn report_excerpts(reports: Vec<PackageReport>) -> Vec<PackageReport> {
    reports
        .into_iter()
        .map(|mut r| {
            r.text = r.text.map(|t| excerpt(&t));
            r
        })
        .collect()
}

/// Text cut to [`PACKAGE_EXCERPT_CHARS_MAX`] characters, with a mark.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(PACKAGE_EXCERPT_CHARS_MAX) {
        None => text.to_string(),
        Some((end, _)) => format!("{} […]", &text[..end]),
    }
}

fn excerpt_rationale(body: &Rationale) -> Rationale {
    Rationale {
        what_happened: excerpt(&body.what_happened),
        evidence: excerpt(&body.evidence),
        policy: excerpt(&body.policy),
        action: excerpt(&body.action),
        next_steps: excerpt(&body.next_steps),
    }
}

/// The case's subject, its owner and the other subjects, each once.
fn subject_ids(facts: &PackageFacts) -> Vec<SubjectRef> {
    let mut ids: Vec<SubjectRef> = Vec::new();
    let case = &facts.case;
    for subject in std::iter::once(&case.subject)
        .chain(case.subject_owner.as_ref())
        .chain(&facts.subjects)
    {
        if !ids.contains(subject) {
            ids.push(subject.clone());
        }
    }
    ids
}

/// Every event of the case, oldest first (ties in the order listed).
fn timeline(facts: &PackageFacts) -> Vec<TimelineEvent> {
    let event = |at, what: String, who: Option<&str>| TimelineEvent {
        at,
        what,
        who: who.map(str::to_string),
    };
    let mut events = vec![event(facts.case.opened_at, "case opened".into(), None)];
    events.extend(facts.reports.iter().map(|r| {
        event(
            r.created_at,
            format!("report {} ({}, {})", r.id, r.source, r.reason),
            None,
        )
    }));
    events.extend(facts.signals.iter().map(|s| {
        event(
            s.created_at,
            format!("signal {} {} scored {:.2}", s.source, s.name, s.score),
            None,
        )
    }));
    events.extend(facts.evidence.iter().map(|e| {
        event(
            e.added_at,
            format!("evidence {} attached ({})", e.id, e.content.kind()),
            Some(&e.added_by),
        )
    }));
    events.extend(
        facts
            .notes
            .iter()
            .map(|n| event(n.created_at, "note added".into(), Some(&n.author))),
    );
    events.extend(facts.decisions.iter().map(|d| {
        event(
            d.decided_at,
            format!(
                "decision {}: {} ({})",
                d.id,
                if d.violation {
                    "violation"
                } else {
                    "no violation"
                },
                d.category
            ),
            d.author.as_deref(),
        )
    }));
    events.extend(facts.events.iter().cloned());
    let escalation = &facts.escalation;
    events.push(event(
        escalation.escalated_at,
        format!(
            "escalated to {} as {}",
            escalation.team,
            escalation.severity.title()
        ),
        Some(&escalation.escalated_by),
    ));
    events.sort_by_key(|e| e.at);
    events
}

/// The next steps written in notes and decisions, newest first, each once.
fn next_steps(notes: &[PackageNote], decisions: &[PackageDecision]) -> Vec<String> {
    let mut written: Vec<(Timestamp, &str)> = notes
        .iter()
        .map(|n| (n.created_at, n.body.next_steps.trim()))
        .chain(
            decisions
                .iter()
                .map(|d| (d.decided_at, d.rationale.next_steps.trim())),
        )
        .filter(|(_, text)| !text.is_empty())
        .collect();
    written.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let mut steps: Vec<String> = Vec::new();
    for (_, text) in written {
        if !steps.iter().any(|s| s == text) {
            steps.push(text.to_string());
        }
    }
    steps
}

fn summary(package: &EscalationPackage) -> String {
    let case = &package.case;
    let escalation = &package.escalation;
    let owner = case
        .subject_owner
        .as_ref()
        .map(|o| format!(", owned by {o}"))
        .unwrap_or_default();
    let active_strikes = package.strikes.iter().filter(|s| s.active).count();
    let mut text = format!(
        "{} escalation of case {} to the {} team by {}: {}\n\nThe case ({}, {} severity, {}) is about {}{}. It has {} reports, {} signals and {} evidence items; the subject and its account have {} prior actions and {} active strikes.",
        escalation.severity.title(),
        case.id,
        escalation.team,
        escalation.escalated_by,
        escalation.reason.trim(),
        case.category,
        case.severity,
        case.status,
        case.subject,
        owner,
        package.reports.len(),
        package.signals.len(),
        package.evidence.len(),
        package.prior_actions.len(),
        active_strikes,
    );
    if let Some(note) = package
        .notes
        .iter()
        .rev()
        .find(|n| !n.body.what_happened.trim().is_empty())
    {
        text.push_str(&format!(
            "\n\nLatest note ({}): {}",
            note.author,
            note.body.what_happened.trim()
        ));
    }
    text
}

/// The required parts the package lacks, in the order of the table.
fn check_completeness(package: &EscalationPackage) -> Vec<MissingPart> {
    let mut missing = Vec::new();
    for part in required_parts(package.escalation.severity.severity) {
        let reason = match part {
            PackagePart::Summary if package.escalation.reason.trim().is_empty() => {
                Some("no reason is given: say why the case is escalated".to_string())
            }
            PackagePart::SubjectIds if package.subject_ids.is_empty() => {
                Some("no subject is named".to_string())
            }
            PackagePart::Timeline if package.timeline.is_empty() => {
                Some("the case has no events".to_string())
            }
            PackagePart::Evidence => evidence_problem(&package.evidence),
            PackagePart::Notes if package.notes.is_empty() => {
                Some("the case has no note: write what happened and what you found".to_string())
            }
            PackagePart::RecommendedNextSteps if package.recommended_next_steps.is_empty() => {
                Some("no note says what should happen next: add a note with next steps".to_string())
            }
            _ => None,
        };
        if let Some(reason) = reason {
            missing.push(MissingPart {
                part: *part,
                reason,
            });
        }
    }
    missing
}

fn evidence_problem(evidence: &[EvidenceItem]) -> Option<String> {
    if evidence.is_empty() {
        return Some(
            "no evidence is attached: attach the messages, screenshots or links the team needs"
                .into(),
        );
    }
    let bad: Vec<String> = evidence
        .iter()
        .filter(|e| e.check != HashCheck::Verified)
        .map(|e| format!("item {}: {}", e.id, e.check))
        .collect();
    (!bad.is_empty()).then(|| bad.join("; "))
}

impl EscalationPackage {
    /// The package with personal data masked in every free text (the
    /// summary, the reason, report texts, notes, rationales, excerpts,
    /// captions and next steps), as every surface shows it unless revealed.
    /// Ids are the platform's keys and stay.
    pub fn masked(&self) -> EscalationPackage {
        let mask = |text: &str| mask_text(text).value;
        let mask_rationale = |r: &Rationale| Rationale {
            what_happened: mask(&r.what_happened),
            evidence: mask(&r.evidence),
            policy: mask(&r.policy),
            action: mask(&r.action),
            next_steps: mask(&r.next_steps),
        };
        let mut package = self.clone();
        package.summary = mask(&package.summary);
        package.escalation.reason = mask(&package.escalation.reason);
        for report in &mut package.reports {
            report.text = report.text.as_deref().map(mask);
        }
        for note in &mut package.notes {
            note.body = mask_rationale(&note.body);
        }
        for decision in &mut package.decisions {
            decision.rationale = mask_rationale(&decision.rationale);
        }
        for item in &mut package.evidence {
            item.caption = mask(&item.caption);
            if let EvidenceContent::TextExcerpt { text } = &mut item.content {
                *text = mask(text);
            }
        }
        for step in &mut package.recommended_next_steps {
            *step = mask(step);
        }
        package
    }
}
