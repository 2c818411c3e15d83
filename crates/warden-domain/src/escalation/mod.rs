//! Escalations: severity levels with written definitions, specialist teams
//! with their restricted queues, the escalate command, the escalation
//! package and its completeness check, Sev-1 paging and the times the KPIs
//! read.
//!
//! - [`EscalationSeverity`] `sev1`..`sev4`, each with a
//!   [`SeverityDefinition`] from config (the defaults say what each level
//!   means, how soon a team member must acknowledge it, and whether it
//!   pages the on-call).
//! - [`SpecialistTeam`]s (defaults: `child_safety`, `violent_extremism`,
//!   `self_harm`, `account_security`, `legal`, `fraud_ring`), each with a
//!   restricted queue that admits only its members; [`EscalationPolicy`]
//!   holds both and checks them against the configured queues.
//! - [`EscalateCommand::parse`] reads `{version, team, severity, reason}`;
//!   [`plan_escalation`] checks the case (version, status, who holds it)
//!   and the package, and plans the move to the team's queue and the first
//!   page.
//! - [`package`]: `assemble_package(&PackageFacts, now)` and the required
//!   parts per severity; [`markdown`]: the printable Markdown rendering.
//! - Paging ([`next_page`]): which severities page, when an unacknowledged
//!   escalation pages again, when it stops; [`EscalationTimes`]: detection
//!   → escalation → acknowledgement → resolution for the KPIs.

pub mod markdown;
pub mod package;

use std::fmt;
use std::str::FromStr;

use chrono::Duration;
use serde_json::{json, Value};

use crate::access::{Principal, Role};
use crate::case::{CaseStatus, Severity};
use crate::enforcement::{CaseFacts, PlanError};
use crate::ids::{parse_code, CaseId, UserId, Version};
use crate::limits::{
    ESCALATION_DEFINITION_CHARS_MAX, ESCALATION_PAGES_MAX, ESCALATION_REASON_CHARS_MAX,
    ESCALATION_REPAGE_MINUTES_MAX, ESCALATION_REPAGE_MINUTES_MIN, ESCALATION_RESPONSE_MINUTES_MAX,
    ESCALATION_TEAMS_MAX,
};
use crate::routing::{QueueDefinition, Router};
use crate::text::check_free_text;
use crate::{FieldErrors, Timestamp};

pub use markdown::to_markdown;
pub use package::{
    assemble_package, required_parts, EscalationDetails, EscalationPackage, MissingPart,
    MissingParts, PackageFacts, PackagePart,
};

// ---------------------------------------------------------------- severities

/// How urgent an escalation is: Sev-1 (imminent harm) to Sev-4 (advisory).
/// Ordered from most to least urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EscalationSeverity {
    /// Imminent harm to life or to a child.
    Sev1,
    /// Serious harm likely, not imminent.
    Sev2,
    /// Needs a specialist's judgement, not speed.
    Sev3,
    /// Advisory: nothing pending.
    Sev4,
}

impl EscalationSeverity {
    /// Every level, most urgent first.
    pub const ALL: [EscalationSeverity; 4] = [
        EscalationSeverity::Sev1,
        EscalationSeverity::Sev2,
        EscalationSeverity::Sev3,
        EscalationSeverity::Sev4,
    ];

    /// The wire and storage name: `sev1` .. `sev4`.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationSeverity::Sev1 => "sev1",
            EscalationSeverity::Sev2 => "sev2",
            EscalationSeverity::Sev3 => "sev3",
            EscalationSeverity::Sev4 => "sev4",
        }
    }

    /// The name people use: `Sev-1` .. `Sev-4`.
    pub fn label(self) -> &'static str {
        match self {
            EscalationSeverity::Sev1 => "Sev-1",
            EscalationSeverity::Sev2 => "Sev-2",
            EscalationSeverity::Sev3 => "Sev-3",
            EscalationSeverity::Sev4 => "Sev-4",
        }
    }

    /// 1 (Sev-1) to 4 (Sev-4).
    pub fn level(self) -> u8 {
        match self {
            EscalationSeverity::Sev1 => 1,
            EscalationSeverity::Sev2 => 2,
            EscalationSeverity::Sev3 => 3,
            EscalationSeverity::Sev4 => 4,
        }
    }

    /// The case severity that matches: Sev-1 is critical, Sev-4 low. An
    /// escalated case is at least this severe in its new queue.
    pub fn case_severity(self) -> Severity {
        match self {
            EscalationSeverity::Sev1 => Severity::Critical,
            EscalationSeverity::Sev2 => Severity::High,
            EscalationSeverity::Sev3 => Severity::Medium,
            EscalationSeverity::Sev4 => Severity::Low,
        }
    }
}

impl FromStr for EscalationSeverity {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        EscalationSeverity::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| format!("unknown severity {value:?}; expected sev1, sev2, sev3 or sev4"))
    }
}

impl fmt::Display for EscalationSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one severity level means and what it asks of the team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityDefinition {
    /// The level.
    pub severity: EscalationSeverity,
    /// A short name (`imminent harm`).
    pub name: String,
    /// The written definition analysts choose the level by.
    pub definition: String,
    /// How soon a team member must acknowledge it.
    pub acknowledge_within: Duration,
    /// Whether it pages the on-call through the page webhook.
    pub pages: bool,
    /// How long after a page with no acknowledgement it pages again;
    /// `None`: one page only.
    pub repage_every: Option<Duration>,
}

impl SeverityDefinition {
    /// The built-in definition of `severity`.
    pub fn default_for(severity: EscalationSeverity) -> Self {
        let (name, definition, minutes, repage) = match severity {
            EscalationSeverity::Sev1 => (
                "imminent harm",
                "Imminent risk to someone's life or safety, or to a child: a credible threat of violence, self-harm in progress, child sexual exploitation, a legal order due within hours. Pages the on-call at once and again every 10 minutes until a team member acknowledges; acknowledge within 15 minutes.",
                15,
                Some(10),
            ),
            EscalationSeverity::Sev2 => (
                "serious harm, not imminent",
                "Serious harm likely within a day: coordinated abuse or extremist content spreading, a high-loss fraud ring, account takeovers at scale, a partner's or public figure's account. Acknowledge within an hour.",
                60,
                None,
            ),
            EscalationSeverity::Sev3 => (
                "specialist judgement",
                "Harm to individuals that needs a specialist's judgement rather than speed: legal and privacy questions, an ambiguous policy, an unusual pattern. Acknowledge within a working day (8 hours).",
                8 * 60,
                None,
            ),
            EscalationSeverity::Sev4 => (
                "advisory",
                "Nothing pending: a policy question, a trend to watch, feedback for a specialist team. Acknowledge within three days.",
                3 * 24 * 60,
                None,
            ),
        };
        Self {
            severity,
            name: name.into(),
            definition: definition.into(),
            acknowledge_within: Duration::minutes(minutes),
            pages: repage.is_some(),
            repage_every: repage.map(Duration::minutes),
        }
    }

    /// The level's heading: `Sev-1: imminent harm`.
    pub fn title(&self) -> String {
        format!("{}: {}", self.severity.label(), self.name)
    }

    fn check(&self) -> Result<(), String> {
        let at = self.severity.as_str();
        for (field, text) in [("name", &self.name), ("definition", &self.definition)] {
            if text.trim().is_empty() {
                return Err(format!(
                    "escalation.severities.{at}.{field} must not be empty"
                ));
            }
            check_free_text(text, ESCALATION_DEFINITION_CHARS_MAX)
                .map_err(|e| format!("escalation.severities.{at}.{field} {e}"))?;
        }
        let minutes = self.acknowledge_within.num_minutes();
        if !(1..=i64::from(ESCALATION_RESPONSE_MINUTES_MAX)).contains(&minutes) {
            return Err(format!(
                "escalation.severities.{at}.acknowledge_minutes must be 1 to {ESCALATION_RESPONSE_MINUTES_MAX}"
            ));
        }
        if let Some(every) = self.repage_every {
            let range =
                i64::from(ESCALATION_REPAGE_MINUTES_MIN)..=i64::from(ESCALATION_REPAGE_MINUTES_MAX);
            if !range.contains(&every.num_minutes()) {
                return Err(format!(
                    "escalation.severities.{at}.repage_minutes must be {ESCALATION_REPAGE_MINUTES_MIN} to {ESCALATION_REPAGE_MINUTES_MAX}"
                ));
            }
            if !self.pages {
                return Err(format!(
                    "escalation.severities.{at}.repage_minutes is set but the level does not page"
                ));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- teams

/// A specialist team that takes escalations, with its restricted queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialistTeam {
    /// The team's name, a code (`child_safety`); users are granted it.
    pub name: String,
    /// What the team handles.
    pub description: String,
    /// Its queue, which admits only the team's members.
    pub queue: String,
}

impl SpecialistTeam {
    /// The built-in teams of the contract.
    pub fn defaults() -> Vec<SpecialistTeam> {
        let team = |name: &str, queue: &str, description: &str| SpecialistTeam {
            name: name.into(),
            description: description.into(),
            queue: queue.into(),
        };
        vec![
            team("child_safety", "child-safety", "Child sexual exploitation and grooming; reports to the authorities as the law requires."),
            team("violent_extremism", "violent-extremism", "Terrorist and violent extremist content, credible threats of mass violence."),
            team("self_harm", "self-harm", "Suicide and self-harm: people at risk, outreach and emergency referral."),
            team("account_security", "account-security", "Account takeovers, credential stuffing and compromised accounts."),
            team("legal", "legal", "Court orders, regulators, law-enforcement requests and trusted flaggers."),
            team("fraud_ring", "fraud-ring", "Coordinated fraud and scam rings, high-loss payment fraud."),
        ]
    }

    /// A queue for the team when the configuration has none: restricted to
    /// analysts and leads of the team, taking only escalated cases.
    pub fn queue_definition(&self) -> QueueDefinition {
        QueueDefinition {
            description: format!(
                "Escalations to the {} team: {}",
                self.name, self.description
            ),
            roles: vec![Role::Analyst, Role::Lead],
            teams: vec![self.name.clone()],
            accepts_new: false,
            ..QueueDefinition::catch_all(&self.queue)
        }
    }
}

/// The severity definitions and specialist teams in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPolicy {
    severities: [SeverityDefinition; 4],
    teams: Vec<SpecialistTeam>,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        Self {
            severities: EscalationSeverity::ALL.map(SeverityDefinition::default_for),
            teams: SpecialistTeam::defaults(),
        }
    }
}

impl EscalationPolicy {
    /// A policy from configuration: one definition per level (any order),
    /// at least one team, names and queues codes, no team twice, texts and
    /// times within their limits. Says what is wrong, by config key.
    pub fn new(
        definitions: Vec<SeverityDefinition>,
        teams: Vec<SpecialistTeam>,
    ) -> Result<Self, String> {
        let mut severities = EscalationSeverity::ALL.map(SeverityDefinition::default_for);
        let mut seen = Vec::new();
        for definition in definitions {
            if seen.contains(&definition.severity) {
                return Err(format!(
                    "escalation.severities.{} is defined twice",
                    definition.severity
                ));
            }
            definition.check()?;
            seen.push(definition.severity);
            let index = usize::from(definition.severity.level() - 1);
            severities[index] = definition;
        }
        if teams.is_empty() {
            return Err("escalation.teams must name at least one team".into());
        }
        if teams.len() > ESCALATION_TEAMS_MAX {
            return Err(format!(
                "escalation.teams names more than {ESCALATION_TEAMS_MAX} teams"
            ));
        }
        for (index, team) in teams.iter().enumerate() {
            parse_code(&team.name)
                .map_err(|e| format!("escalation.teams: team {:?} {e}", team.name))?;
            parse_code(&team.queue)
                .map_err(|e| format!("escalation.teams.{}.queue {e}", team.name))?;
            check_free_text(&team.description, ESCALATION_DEFINITION_CHARS_MAX)
                .map_err(|e| format!("escalation.teams.{}.description {e}", team.name))?;
            if teams[..index].iter().any(|t| t.name == team.name) {
                return Err(format!(
                    "escalation.teams: team {:?} is defined twice",
                    team.name
                ));
            }
        }
        Ok(Self { severities, teams })
    }

    /// The definition of `severity`.
    pub fn definition(&self, severity: EscalationSeverity) -> &SeverityDefinition {
        &self.severities[usize::from(severity.level() - 1)]
    }

    /// Every definition, Sev-1 first.
    pub fn definitions(&self) -> &[SeverityDefinition; 4] {
        &self.severities
    }

    /// The teams, in configured order.
    pub fn teams(&self) -> &[SpecialistTeam] {
        &self.teams
    }

    /// The team named `name`.
    pub fn team(&self, name: &str) -> Option<&SpecialistTeam> {
        self.teams.iter().find(|t| t.name == name)
    }

    /// Checks the teams against the configured queues: each team's queue
    /// must exist and admit only members of that team (it names teams, and
    /// the team among them). Queues missing from `router` can be added
    /// with [`SpecialistTeam::queue_definition`] first.
    pub fn check_queues(&self, router: &Router) -> Result<(), String> {
        for team in &self.teams {
            let queue = router.queue(&team.queue).ok_or_else(|| {
                format!(
                    "escalation team {:?} names queue {:?}, which is not a queue",
                    team.name, team.queue
                )
            })?;
            if !queue.teams.contains(&team.name) {
                return Err(format!(
                    "queue {:?} of escalation team {:?} must be restricted to that team (teams = [{:?}])",
                    queue.name, team.name, team.name
                ));
            }
        }
        Ok(())
    }

    /// The teams whose queues `router` lacks, as queue definitions to add.
    pub fn missing_queues(&self, router: &Router) -> Vec<QueueDefinition> {
        self.teams
            .iter()
            .filter(|t| router.queue(&t.queue).is_none())
            .map(SpecialistTeam::queue_definition)
            .collect()
    }
}

// ---------------------------------------------------------------- the command

/// `POST /api/v1/cases/{id}/escalate` as sent, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalateInput {
    /// The case version the analyst saw.
    pub version: Option<i64>,
    /// The specialist team.
    pub team: Option<String>,
    /// `sev1` .. `sev4`.
    pub severity: Option<String>,
    /// Why, in the analyst's words.
    pub reason: Option<String>,
}

/// An escalation, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalateCommand {
    /// The case.
    pub case: CaseId,
    /// The version the analyst saw.
    pub expected: Version,
    /// A configured team.
    pub team: String,
    /// The level.
    pub severity: EscalationSeverity,
    /// Why, trimmed, 1 to [`ESCALATION_REASON_CHARS_MAX`] characters.
    pub reason: String,
}

impl EscalateCommand {
    /// Checks every field (`version`, `team`, `severity`, `reason`) against
    /// the policy in force; reports them all.
    pub fn parse(
        case: CaseId,
        input: &EscalateInput,
        policy: &EscalationPolicy,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let expected = match input.version {
            None => {
                errors.push("version", "is required: the case version you saw");
                None
            }
            Some(version) => Some(Version(version)),
        };
        let team = match input.team.as_deref() {
            None => {
                errors.push("team", "is required: the specialist team to escalate to");
                None
            }
            Some(team) if policy.team(team).is_some() => Some(team.to_string()),
            Some(team) => {
                errors.push(
                    "team",
                    format!(
                        "unknown team {team:?}; known: {}",
                        policy
                            .teams()
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        };
        let severity = match input.severity.as_deref() {
            None => {
                errors.push("severity", "is required: sev1, sev2, sev3 or sev4");
                None
            }
            Some(severity) => errors.take("severity", severity.parse()),
        };
        let reason = input.reason.as_deref().map(str::trim).unwrap_or_default();
        if reason.is_empty() {
            errors.push("reason", "is required: say why, in a sentence");
        } else if let Err(e) = check_free_text(reason, ESCALATION_REASON_CHARS_MAX) {
            errors.push("reason", e);
        }
        match (expected, team, severity) {
            (Some(expected), Some(team), Some(severity)) if errors.is_empty() => Ok(Self {
                case,
                expected,
                team,
                severity,
                reason: reason.to_string(),
            }),
            _ => Err(errors),
        }
    }
}

/// What the store loads for an escalation, in its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationFacts {
    /// The case, locked.
    pub case: CaseFacts,
    /// What its package is assembled from, with the escalation being made
    /// as its `escalation` ([`EscalationDetails::for_command`]).
    pub package: PackageFacts,
}

impl EscalationDetails {
    /// The details of the escalation `command` makes, by `escalator` at
    /// `now`; `None` when its team is not in `policy`.
    pub fn for_command(
        command: &EscalateCommand,
        policy: &EscalationPolicy,
        escalator: &Principal,
        now: Timestamp,
    ) -> Option<Self> {
        let team = policy.team(&command.team)?;
        Some(Self {
            team: team.name.clone(),
            severity: policy.definition(command.severity).clone(),
            reason: command.reason.clone(),
            escalated_by: escalator.name.clone(),
            escalated_at: now,
        })
    }
}

/// The escalation row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEscalation {
    /// The case.
    pub case: CaseId,
    /// The team.
    pub team: String,
    /// The level.
    pub severity: EscalationSeverity,
    /// Why.
    pub reason: String,
    /// Who escalated.
    pub escalated_by: UserId,
    /// The times the KPIs read: detected (the case opened) and escalated.
    pub times: EscalationTimes,
    /// When a team member must have acknowledged it.
    pub acknowledge_by: Timestamp,
}

/// Every row an escalation writes.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationPlan {
    /// The escalation.
    pub escalation: NewEscalation,
    /// The case's new queue: the team's.
    pub queue: String,
    /// Its new status: escalated, its lease released.
    pub status: CaseStatus,
    /// Its severity afterwards: at least the level's ([`EscalationSeverity::case_severity`]).
    pub case_severity: Severity,
    /// The package as sent, complete.
    pub package: EscalationPackage,
    /// The first page, for a level that pages.
    pub page: Option<PageDue>,
}

/// Plans an escalation. Refuses (conflicts) a stale version, a case that
/// cannot become escalated (resolved, already escalated) and a case held
/// by someone else when the escalator is not a lead; refuses (invalid) a
/// package missing a part its level requires, one error per part, named
/// `package.<part>`.
pub fn plan_escalation(
    facts: &EscalationFacts,
    command: &EscalateCommand,
    escalator: &Principal,
    policy: &EscalationPolicy,
    now: Timestamp,
) -> Result<EscalationPlan, PlanError> {
    let case = &facts.case;
    if case.version != command.expected {
        return Err(PlanError::Conflict(format!(
            "case {} is at version {}, not {}: someone changed it; reload it and try again",
            case.id, case.version, command.expected
        )));
    }
    case.status
        .check_transition(CaseStatus::Escalated)
        .map_err(|e| PlanError::Conflict(format!("case {}: {e}", case.id)))?;
    let holder = case
        .lease_is_live(now)
        .then_some(case.assignee_id)
        .flatten();
    if !escalator.may_change_held_case(holder.map(|u| u.0)) {
        return Err(PlanError::Conflict(format!(
            "case {} is held by {}; only they or a lead can escalate it",
            case.id,
            case.assignee.as_deref().unwrap_or("someone else")
        )));
    }
    let team = policy
        .team(&command.team)
        .ok_or_else(|| PlanError::invalid("team", format!("unknown team {:?}", command.team)))?;
    let definition = policy.definition(command.severity);
    // The package tells of this escalation, whatever the facts said of it.
    let mut package = facts.package.clone();
    package.escalation = EscalationDetails::for_command(command, policy, escalator, now)
        .ok_or_else(|| PlanError::invalid("team", format!("unknown team {:?}", command.team)))?;
    let package = assemble_package(&package, now)
        .map_err(|missing| PlanError::Invalid(missing.field_errors()))?;
    let times = EscalationTimes {
        detected_at: case.opened_at,
        escalated_at: now,
        acknowledged_at: None,
        resolved_at: None,
    };
    Ok(EscalationPlan {
        escalation: NewEscalation {
            case: case.id,
            team: team.name.clone(),
            severity: command.severity,
            reason: command.reason.clone(),
            escalated_by: UserId(escalator.user_id),
            acknowledge_by: now + definition.acknowledge_within,
            times,
        },
        queue: team.queue.clone(),
        status: CaseStatus::Escalated,
        case_severity: case.severity.max(command.severity.case_severity()),
        package,
        page: definition.pages.then_some(PageDue {
            attempt: 1,
            due: now,
        }),
    })
}

// ---------------------------------------------------------------- acknowledgement

/// Why an acknowledgement is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcknowledgeRefusal {
    /// Only members of the escalation's team acknowledge it.
    NotATeamMember {
        /// The team.
        team: String,
    },
    /// Someone acknowledged it already.
    AlreadyAcknowledged {
        /// Who.
        by: String,
    },
    /// The case was resolved; there is nothing to take.
    Resolved,
}

impl fmt::Display for AcknowledgeRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcknowledgeRefusal::NotATeamMember { team } => {
                write!(
                    f,
                    "only members of the {team} team can acknowledge this escalation"
                )
            }
            AcknowledgeRefusal::AlreadyAcknowledged { by } => {
                write!(f, "{by} acknowledged this escalation already")
            }
            AcknowledgeRefusal::Resolved => f.write_str("the escalated case is resolved"),
        }
    }
}

/// An escalation as stored, for acknowledging and paging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationState {
    /// Warden's id.
    pub id: i64,
    /// The case.
    pub case: CaseId,
    /// The team.
    pub team: String,
    /// The level.
    pub severity: EscalationSeverity,
    /// Its times so far.
    pub times: EscalationTimes,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// Pages sent so far.
    pub pages_sent: u32,
    /// When the last page was sent.
    pub last_paged_at: Option<Timestamp>,
}

/// Plans an acknowledgement by `member`: returns the acknowledgement time
/// to record. Refuses anyone outside the team, a second acknowledgement
/// and a resolved case.
pub fn plan_acknowledgement(
    state: &EscalationState,
    member: &Principal,
    now: Timestamp,
) -> Result<Timestamp, AcknowledgeRefusal> {
    if !member.teams.contains(&state.team) {
        return Err(AcknowledgeRefusal::NotATeamMember {
            team: state.team.clone(),
        });
    }
    if let Some(by) = &state.acknowledged_by {
        return Err(AcknowledgeRefusal::AlreadyAcknowledged { by: by.clone() });
    }
    if state.times.resolved_at.is_some() {
        return Err(AcknowledgeRefusal::Resolved);
    }
    Ok(now)
}

// ---------------------------------------------------------------- paging

/// A page that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageDue {
    /// 1 for the first page, 2 for the first repeat, ...
    pub attempt: u32,
    /// When it is due.
    pub due: Timestamp,
}

/// The next page of an escalation, if any: none once acknowledged or
/// resolved, none for a level that does not page, none after
/// [`ESCALATION_PAGES_MAX`] pages (it stays on the lead view), the first at
/// the escalation, then every `repage_every` after the last page (none
/// when the level pages once).
pub fn next_page(state: &EscalationState, definition: &SeverityDefinition) -> Option<PageDue> {
    if !definition.pages
        || state.times.acknowledged_at.is_some()
        || state.acknowledged_by.is_some()
        || state.times.resolved_at.is_some()
        || state.pages_sent >= ESCALATION_PAGES_MAX
    {
        return None;
    }
    let attempt = state.pages_sent + 1;
    match (state.pages_sent, state.last_paged_at) {
        (0, _) => Some(PageDue {
            attempt,
            due: state.times.escalated_at,
        }),
        (_, last) => Some(PageDue {
            attempt,
            due: last.unwrap_or(state.times.escalated_at) + definition.repage_every?,
        }),
    }
}

/// Every page of a new escalation, in order, if each goes out when due:
/// [`next_page`] applied page after page (the first at the escalation,
/// then every `repage_every`, at most [`ESCALATION_PAGES_MAX`]). The store
/// writes them as outbox rows due at their times; an acknowledgement
/// cancels those not yet sent.
pub fn page_schedule(state: &EscalationState, definition: &SeverityDefinition) -> Vec<PageDue> {
    let mut state = state.clone();
    let mut pages = Vec::new();
    while let Some(page) = next_page(&state, definition) {
        pages.push(page);
        state.pages_sent = page.attempt;
        state.last_paged_at = Some(page.due);
    }
    pages
}

/// Whether an escalation stays on the lead view now: unacknowledged and
/// unresolved, and either of a level that pages or past its acknowledgement
/// target.
pub fn stays_on_lead_view(
    state: &EscalationState,
    definition: &SeverityDefinition,
    now: Timestamp,
) -> bool {
    state.acknowledged_by.is_none()
        && state.times.acknowledged_at.is_none()
        && state.times.resolved_at.is_none()
        && (definition.pages || now > state.times.escalated_at + definition.acknowledge_within)
}

/// The idempotency key of a page: stable across retries and restarts,
/// one per attempt.
pub fn page_idempotency_key(escalation: i64, attempt: u32) -> String {
    format!("warden-page-{escalation}-{attempt}")
}

/// The body of a page webhook (`x-warden-event: escalation.page`), signed
/// like action webhooks. It names the case and the escalation, never the
/// platform's content: pagers are not a place for evidence.
pub fn page_body(state: &EscalationState, definition: &SeverityDefinition, attempt: u32) -> Value {
    let key = page_idempotency_key(state.id, attempt);
    let time = |t: Timestamp| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "event": "escalation.page",
        "idempotency_key": key,
        "escalation": {
            "id": state.id,
            "case_id": state.case.0,
            "team": state.team,
            "severity": state.severity.as_str(),
            "severity_title": definition.title(),
            "escalated_at": time(state.times.escalated_at),
            "acknowledge_by": time(state.times.escalated_at + definition.acknowledge_within),
            "attempt": attempt,
        }
    })
}

// ---------------------------------------------------------------- times

/// Detection → escalation → acknowledgement → resolution, for the KPIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationTimes {
    /// When the harm was first seen: the case's opening (its first report
    /// or signal).
    pub detected_at: Timestamp,
    /// When it was escalated.
    pub escalated_at: Timestamp,
    /// When a team member acknowledged it.
    pub acknowledged_at: Option<Timestamp>,
    /// When the escalated case was resolved.
    pub resolved_at: Option<Timestamp>,
}

/// The span from `from` to `to`, or `None` when they are out of order
/// (clock skew, a backfilled record): never a negative duration.
fn span(from: Timestamp, to: Timestamp) -> Option<Duration> {
    (to >= from).then(|| to - from)
}

impl EscalationTimes {
    /// Detection to escalation.
    pub fn time_to_escalate(&self) -> Option<Duration> {
        span(self.detected_at, self.escalated_at)
    }

    /// Escalation to acknowledgement.
    pub fn time_to_acknowledge(&self) -> Option<Duration> {
        span(self.escalated_at, self.acknowledged_at?)
    }

    /// Acknowledgement to resolution.
    pub fn time_to_resolve(&self) -> Option<Duration> {
        span(self.acknowledged_at?, self.resolved_at?)
    }

    /// Detection to resolution, the whole path.
    pub fn detection_to_resolution(&self) -> Option<Duration> {
        span(self.detected_at, self.resolved_at?)
    }

    /// Whether it was acknowledged within the level's target (`None`
    /// while unacknowledged).
    pub fn acknowledged_in_time(&self, definition: &SeverityDefinition) -> Option<bool> {
        self.time_to_acknowledge()
            .map(|d| d <= definition.acknowledge_within)
    }
}

#[cfg(test)]
mod tests;
