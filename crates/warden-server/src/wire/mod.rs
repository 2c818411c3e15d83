//! Wire types: request bodies as the contract names their fields, their
//! checked conversion into domain commands, and answer bodies built from
//! store records. Only this module knows the JSON shapes.

mod actions;
pub mod appeals;
mod decisions;
mod deliveries;
pub mod escalations;
pub mod incidents;
pub mod kpis;
mod notices;
mod statements;
mod taxonomy;
mod transparency;

pub use self::actions::*;
pub use self::decisions::*;
pub use self::deliveries::*;
pub use self::notices::*;
pub use self::statements::*;
pub use self::taxonomy::*;
pub use self::transparency::*;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use warden_app::accounts::credentials::NewPassword;
use warden_app::accounts::{check_token_name, AddUserCommand, MintTokenCommand};
use warden_app::cases::{
    AssignCommand, CaseCommand, EscalateCommand, Note, NoteCommand, ReasonedCommand,
};
use warden_app::decisions::ActionDraft;
use warden_app::queues::QueueOverview;
use warden_app::Reason;
use warden_domain::access::{parse_teams, Role, Scope};
use warden_domain::case::CaseStatus;
use warden_domain::decision::Rationale;
use warden_domain::duration::format_iso8601_duration;
use warden_domain::ids::{parse_code, PlatformId, QueueName, SubjectKind, UserName, Version};
use warden_domain::intake::{MediaItem, NewEvent, NewReport, NewSignal, NewSubject, ReportSource};
use warden_domain::limits::{
    ATTRIBUTES_BYTES_MAX, DEVICE_ID_BYTES_MAX, EVENT_TYPE_BYTES_MAX, IP_TEXT_BYTES_MAX,
    MEDIA_ITEMS_MAX, MIME_BYTES_MAX, REPORT_TEXT_CHARS_MAX, SUBJECT_TEXT_CHARS_MAX, URL_BYTES_MAX,
};
pub use warden_domain::privacy::MASKED;
use warden_domain::privacy::{mask_text, mask_text_opt, mask_value};
use warden_domain::sla::sla_state;
use warden_domain::taxonomy::Taxonomy;
use warden_domain::text::{check_free_text, check_name};
use warden_domain::{CaseId, FieldError, FieldErrors, SubjectRef, Timestamp};
use warden_store::{
    ActionRecord, CaseDetail, CaseRecord, DecisionRecord, EventRecord, NoteRecord, ReportRecord,
    SignalRecord, StrikeRecord, SubjectHistory, SubjectRecord, TokenRecord, TransitionRecord,
    UserRecord,
};

// ---------------------------------------------------------------- inputs

/// A subject reference: `{"kind": K, "id": ID}`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectRefBody {
    /// One of account, content, message, listing, transaction, media.
    pub kind: String,
    /// The platform's id, 1–256 bytes.
    pub id: String,
}

/// A media item of a subject.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaBody {
    /// Where the platform serves it.
    pub url: String,
    /// MIME type.
    pub mime: Option<String>,
    /// SHA-256, hex.
    pub sha256: Option<String>,
}

/// `POST /api/v1/subjects`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectBody {
    /// Subject kind.
    pub kind: String,
    /// The platform's id.
    pub id: String,
    /// When the platform created it (RFC 3339).
    pub created_at: Option<String>,
    /// The owning account.
    pub owner: Option<SubjectRefBody>,
    /// Text as the platform shows it.
    pub text: Option<String>,
    /// Attached media.
    pub media: Option<Vec<MediaBody>>,
    /// Anything else, a JSON object of at most 64 KiB.
    pub attributes: Option<Value>,
}

/// `POST /api/v1/events`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// The platform's id.
    pub id: String,
    /// What happened: signup, login, post_created, message_sent, ...
    #[serde(rename = "type")]
    pub event_type: String,
    /// When (RFC 3339).
    pub occurred_at: String,
    /// Who did it.
    pub actor: Option<SubjectRefBody>,
    /// What it concerned.
    pub subject: Option<SubjectRefBody>,
    /// The actor's IP address.
    pub ip: Option<String>,
    /// The actor's device.
    pub device_id: Option<String>,
    /// Anything else, a JSON object of at most 64 KiB.
    pub data: Option<Value>,
}

/// `POST /api/v1/reports`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// The platform's id.
    pub id: String,
    /// What is reported.
    pub subject: SubjectRefBody,
    /// A taxonomy code.
    pub reason: String,
    /// user_report, automated_flag, trusted_flagger, legal_notice or support_escalation.
    pub source: String,
    /// The reporting account.
    pub reporter: Option<SubjectRefBody>,
    /// The reporter's words, at most 10,000 characters.
    pub text: Option<String>,
    /// Language (BCP 47).
    pub language: Option<String>,
    /// When the report was made (RFC 3339).
    pub created_at: Option<String>,
}

/// `POST /api/v1/signals`: a machine finding (classifier score, hash match).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalBody {
    /// A unique id for the finding.
    pub id: String,
    /// What it is about.
    pub subject: SubjectRefBody,
    /// A taxonomy code.
    pub category: String,
    /// What produced it: classifier, hash_match, rule, ... (default classifier).
    pub source: Option<String>,
    /// The model, rule or bank's name.
    pub name: String,
    /// Confidence in 0..=1.
    pub score: f64,
    /// Whether it opens or joins a case (default true).
    pub opens_case: Option<bool>,
    /// What matched.
    pub details: Option<Value>,
    /// When it was found (RFC 3339).
    pub created_at: Option<String>,
}

/// The five sections of a rationale or note.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RationaleBody {
    /// What happened.
    #[serde(default)]
    pub what_happened: String,
    /// The evidence.
    #[serde(default)]
    pub evidence: String,
    /// The policy that applies.
    #[serde(default)]
    pub policy: String,
    /// The action and why it is proportionate.
    #[serde(default)]
    pub action: String,
    /// What should happen next.
    #[serde(default)]
    pub next_steps: String,
}

/// One action in a decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// remove_content, warn, restrict, suspend, ban, hold_transaction or label.
    #[serde(rename = "type")]
    pub action_type: String,
    /// ISO 8601 duration, for restrict, suspend, hold_transaction and label.
    pub duration: Option<String>,
    /// The feature, for restrict.
    pub feature: Option<String>,
    /// The label, for label.
    pub label: Option<String>,
}

/// `POST /api/v1/cases/{id}/decision`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The case version the analyst saw.
    pub version: i64,
    /// Whether a policy was broken.
    pub violation: bool,
    /// A taxonomy code.
    pub category: String,
    /// The policy id or section.
    pub policy: Option<String>,
    /// Actions, none when there is no violation.
    #[serde(default)]
    pub actions: Vec<ActionBody>,
    /// Why.
    pub rationale: RationaleBody,
}

/// Body of release, renew and resume: the version is optional.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    /// The case version the caller saw; a stale one gets 409.
    pub version: Option<i64>,
}

/// Body of hold, wait and reopen.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why, in a sentence.
    pub reason: String,
    /// The case version the caller saw.
    pub version: Option<i64>,
}

/// Body of escalate: to a specialist team at a severity (`team`,
/// `severity`: the package is assembled and checked, Sev-1 pages), or
/// without them to a queue (the configured escalation queue when absent).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    /// Why.
    pub reason: String,
    /// The specialist queue; the configured escalation queue when absent.
    /// Not with `team`.
    pub queue: Option<String>,
    /// The case version the caller saw.
    pub version: Option<i64>,
    /// A configured specialist team (`[escalation.teams]`).
    pub team: Option<String>,
    /// `sev1`, `sev2`, `sev3` or `sev4` (with `team`).
    pub severity: Option<String>,
}

/// Body of assign.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The user to hand the case to.
    pub user: String,
    /// The case version the caller saw.
    pub version: Option<i64>,
}

/// `POST /api/v1/session`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    /// User name.
    pub name: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for SignInBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInBody")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `POST /api/v1/users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// Login name.
    pub name: String,
    /// associate, analyst, lead, qa, policy, admin or auditor.
    pub role: String,
    /// Initial password, at least 8 characters.
    pub password: String,
    /// Teams (codes such as `child_safety`); restricted queues admit by team.
    #[serde(default)]
    pub teams: Vec<String>,
}

/// `POST /api/v1/users/{name}/teams`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamsBody {
    /// The user's teams from now on (replacing the ones they had; empty for none).
    pub teams: Vec<String>,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// Whose token.
    pub user: String,
    /// ingest, read, review or admin.
    pub scope: String,
    /// A name to tell tokens apart.
    pub name: Option<String>,
}

// ------------------------------------------------------------ conversion

fn parse_time(errors: &mut FieldErrors, field: &str, value: &Option<String>) -> Option<Timestamp> {
    let value = value.as_ref()?;
    errors.take(
        field,
        DateTime::parse_from_rfc3339(value)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("{value:?} is not an RFC 3339 time ({e})")),
    )
}

fn parse_id(errors: &mut FieldErrors, field: &str, value: &str) -> Option<PlatformId> {
    errors.take(field, PlatformId::parse(value))
}

fn parse_ref(errors: &mut FieldErrors, field: &str, value: &SubjectRefBody) -> Option<SubjectRef> {
    let kind = errors.take(&format!("{field}.kind"), value.kind.parse::<SubjectKind>());
    let id = parse_id(errors, &format!("{field}.id"), &value.id);
    Some(SubjectRef::new(kind?, id?))
}

fn parse_ref_opt(
    errors: &mut FieldErrors,
    field: &str,
    value: &Option<SubjectRefBody>,
) -> Option<Option<SubjectRef>> {
    match value {
        None => Some(None),
        Some(v) => parse_ref(errors, field, v).map(Some),
    }
}

/// Free text: every character kept (NUL included), the length bounded.
fn check_text(errors: &mut FieldErrors, field: &str, value: &Option<String>, chars_max: usize) {
    if let Some(text) = value {
        errors.take(field, check_free_text(text, chars_max));
    }
}

fn check_object(errors: &mut FieldErrors, field: &str, value: &Option<Value>) -> Value {
    match value {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(Value::Object(map)) => {
            let size = serde_json::to_vec(map)
                .map(|v| v.len())
                .unwrap_or(usize::MAX);
            if size > ATTRIBUTES_BYTES_MAX {
                errors.push(
                    field,
                    format!("must be at most {ATTRIBUTES_BYTES_MAX} bytes of JSON, got {size}"),
                );
            }
            Value::Object(map.clone())
        }
        Some(_) => {
            errors.push(field, "must be a JSON object");
            Value::Null
        }
    }
}

/// A short name or id: the edge rule for ids (no control, format or
/// bidirectional characters), 1 to `bytes_max` bytes.
fn check_short(errors: &mut FieldErrors, field: &str, value: &Option<String>, bytes_max: usize) {
    if let Some(v) = value {
        errors.take(field, check_name(v, bytes_max));
    }
}

fn check_language(errors: &mut FieldErrors, field: &str, value: &Option<String>) {
    if let Some(v) = value {
        errors.take(field, warden_domain::ids::LanguageTag::parse(v));
    }
}

impl SubjectBody {
    /// Checks every field and builds the domain command.
    pub fn into_domain(self) -> Result<NewSubject, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = errors.take("kind", self.kind.parse::<SubjectKind>());
        let id = parse_id(&mut errors, "id", &self.id);
        let created_at = parse_time(&mut errors, "created_at", &self.created_at);
        let owner = parse_ref_opt(&mut errors, "owner", &self.owner);
        if let Some(Some(owner)) = &owner {
            if owner.kind != SubjectKind::Account {
                errors.push("owner.kind", "an owner must be an account");
            }
        }
        check_text(&mut errors, "text", &self.text, SUBJECT_TEXT_CHARS_MAX);
        let media = self.media.unwrap_or_default();
        if media.len() > MEDIA_ITEMS_MAX {
            errors.push("media", format!("at most {MEDIA_ITEMS_MAX} items"));
        }
        for (index, item) in media.iter().enumerate() {
            errors.take(
                &format!("media[{index}].url"),
                check_name(&item.url, URL_BYTES_MAX),
            );
            check_short(
                &mut errors,
                &format!("media[{index}].mime"),
                &item.mime,
                MIME_BYTES_MAX,
            );
            if let Some(sha) = &item.sha256 {
                if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
                    errors.push(
                        format!("media[{index}].sha256"),
                        "must be 64 hexadecimal digits",
                    );
                }
            }
        }
        let attributes = check_object(&mut errors, "attributes", &self.attributes);
        match (kind, id, owner) {
            (Some(kind), Some(id), Some(owner)) if errors.is_empty() => Ok(NewSubject {
                subject: SubjectRef::new(kind, id),
                created_at,
                owner,
                text: self.text,
                media: media
                    .into_iter()
                    .map(|m| MediaItem {
                        url: m.url,
                        mime: m.mime,
                        sha256: m.sha256.map(|s| s.to_ascii_lowercase()),
                    })
                    .collect(),
                attributes,
            }),
            _ => Err(errors),
        }
    }
}

impl EventBody {
    /// Checks every field and builds the domain command.
    pub fn into_domain(self) -> Result<NewEvent, FieldErrors> {
        let mut errors = FieldErrors::default();
        let id = parse_id(&mut errors, "id", &self.id);
        errors.take("type", check_name(&self.event_type, EVENT_TYPE_BYTES_MAX));
        let occurred_at = parse_time(&mut errors, "occurred_at", &Some(self.occurred_at.clone()));
        let actor = parse_ref_opt(&mut errors, "actor", &self.actor);
        let subject = parse_ref_opt(&mut errors, "subject", &self.subject);
        if let Some(ip) = &self.ip {
            if ip.len() > IP_TEXT_BYTES_MAX || ip.parse::<IpAddr>().is_err() {
                errors.push("ip", "is not an IPv4 or IPv6 address");
            }
        }
        check_short(
            &mut errors,
            "device_id",
            &self.device_id,
            DEVICE_ID_BYTES_MAX,
        );
        let data = check_object(&mut errors, "data", &self.data);
        match (id, occurred_at, actor, subject) {
            (Some(id), Some(occurred_at), Some(actor), Some(subject)) if errors.is_empty() => {
                Ok(NewEvent {
                    id,
                    event_type: self.event_type,
                    occurred_at,
                    actor,
                    subject,
                    ip: self.ip,
                    device_id: self.device_id,
                    data,
                })
            }
            _ => Err(errors),
        }
    }
}

impl ReportBody {
    /// Checks every field (the reason against the taxonomy) and builds the domain command.
    pub fn into_domain(self, taxonomy: &Taxonomy) -> Result<NewReport, FieldErrors> {
        let mut errors = FieldErrors::default();
        let id = parse_id(&mut errors, "id", &self.id);
        let subject = parse_ref(&mut errors, "subject", &self.subject);
        let reason = errors.take("reason", taxonomy.parse_code(&self.reason));
        let source = errors.take("source", self.source.parse::<ReportSource>());
        let reporter = parse_ref_opt(&mut errors, "reporter", &self.reporter);
        check_text(&mut errors, "text", &self.text, REPORT_TEXT_CHARS_MAX);
        check_language(&mut errors, "language", &self.language);
        let created_at = parse_time(&mut errors, "created_at", &self.created_at);
        match (id, subject, reason, source, reporter) {
            (Some(id), Some(subject), Some(reason), Some(source), Some(reporter))
                if errors.is_empty() =>
            {
                Ok(NewReport {
                    id,
                    subject,
                    reason,
                    source,
                    reporter,
                    text: self.text,
                    language: self.language,
                    created_at,
                })
            }
            _ => Err(errors),
        }
    }
}

impl SignalBody {
    /// Checks every field and builds the domain command.
    pub fn into_domain(self, taxonomy: &Taxonomy) -> Result<NewSignal, FieldErrors> {
        let mut errors = FieldErrors::default();
        let id = parse_id(&mut errors, "id", &self.id);
        let subject = parse_ref(&mut errors, "subject", &self.subject);
        let category = errors.take("category", taxonomy.parse_code(&self.category));
        let source = self.source.unwrap_or_else(|| "classifier".into());
        let source = errors.take("source", parse_code(&source));
        let name = errors.take("name", parse_code(&self.name));
        if !self.score.is_finite() || !(0.0..=1.0).contains(&self.score) {
            errors.push("score", "must be a number from 0 to 1");
        }
        let details = check_object(&mut errors, "details", &self.details);
        let created_at = parse_time(&mut errors, "created_at", &self.created_at);
        match (id, subject, category, source, name) {
            (Some(id), Some(subject), Some(category), Some(source), Some(name))
                if errors.is_empty() =>
            {
                Ok(NewSignal {
                    id,
                    subject,
                    category,
                    source,
                    name,
                    score: self.score,
                    opens_case: self.opens_case.unwrap_or(true),
                    details,
                    created_at,
                })
            }
            _ => Err(errors),
        }
    }
}

impl RationaleBody {
    /// The command adding this note to `case`, its sections checked.
    pub fn note(self, case: CaseId) -> Result<NoteCommand, FieldErrors> {
        Ok(NoteCommand {
            case,
            note: Note::parse(self.into_domain())?,
        })
    }

    /// The domain rationale.
    pub fn into_domain(self) -> Rationale {
        Rationale {
            what_happened: self.what_happened,
            evidence: self.evidence,
            policy: self.policy,
            action: self.action,
            next_steps: self.next_steps,
        }
    }

    /// The sections as answers show them, masked unless `reveal`: analysts
    /// quote the content they judge.
    fn from_domain(rationale: &Rationale, reveal: bool) -> Self {
        let shown = |text: &str| shown_text(Some(text), reveal).unwrap_or_default();
        Self {
            what_happened: shown(&rationale.what_happened),
            evidence: shown(&rationale.evidence),
            policy: shown(&rationale.policy),
            action: shown(&rationale.action),
            next_steps: shown(&rationale.next_steps),
        }
    }
}

impl From<ActionBody> for ActionDraft {
    fn from(action: ActionBody) -> Self {
        ActionDraft {
            action_type: action.action_type,
            duration: action.duration,
            feature: action.feature,
            label: action.label,
        }
    }
}

impl VersionBody {
    /// The command for `case`.
    pub fn command(self, case: CaseId) -> CaseCommand {
        CaseCommand {
            case,
            expected: self.version.map(Version),
        }
    }
}

impl ReasonBody {
    /// The command for `case`, the reason checked.
    pub fn command(self, case: CaseId) -> Result<ReasonedCommand, FieldErrors> {
        let reason = Reason::parse(&self.reason).map_err(|e| FieldError::new("reason", e))?;
        Ok(ReasonedCommand {
            case,
            expected: self.version.map(Version),
            reason,
        })
    }
}

impl EscalateBody {
    /// The command for `case`; every field at fault is reported.
    pub fn command(self, case: CaseId) -> Result<EscalateCommand, FieldErrors> {
        let mut errors = FieldErrors::default();
        let reason = errors.take("reason", Reason::parse(&self.reason));
        let queue = match &self.queue {
            None => Some(None),
            Some(name) => errors
                .take(
                    "queue",
                    QueueName::parse(name).map_err(|_| format!("no queue named {name:?}")),
                )
                .map(Some),
        };
        match (reason, queue) {
            (Some(reason), Some(queue)) if errors.is_empty() => Ok(EscalateCommand {
                case,
                expected: self.version.map(Version),
                reason,
                queue,
            }),
            _ => Err(errors),
        }
    }
}

impl AssignBody {
    /// The command for `case`.
    pub fn command(self, case: CaseId) -> Result<AssignCommand, FieldErrors> {
        let user = UserName::parse(&self.user)
            .map_err(|_| FieldError::new("user", format!("no user named {:?}", self.user)))?;
        Ok(AssignCommand {
            case,
            expected: self.version.map(Version),
            user,
        })
    }
}

impl TryFrom<NewUserBody> for AddUserCommand {
    type Error = FieldErrors;

    /// Checks the name, role, teams and password, reporting every one at fault.
    fn try_from(body: NewUserBody) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take("name", UserName::parse(&body.name));
        let role = errors.take("role", body.role.parse::<Role>());
        let teams = errors.take("teams", parse_teams(&body.teams));
        let password = errors.take("password", NewPassword::parse(body.password));
        match (name, role, teams, password) {
            (Some(name), Some(role), Some(teams), Some(password)) if errors.is_empty() => {
                Ok(AddUserCommand {
                    name,
                    role,
                    teams,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

impl TryFrom<NewTokenBody> for MintTokenCommand {
    type Error = FieldErrors;

    /// Checks the user's name, the scope and the token's name, reporting
    /// every one at fault.
    fn try_from(body: NewTokenBody) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let user = errors.take(
            "user",
            UserName::parse(&body.user).map_err(|_| format!("no user named {:?}", body.user)),
        );
        let scope = errors.take("scope", body.scope.parse::<Scope>());
        let name = match &body.name {
            None => Some(None),
            Some(name) => errors.take("name", check_token_name(name)).map(Some),
        };
        match (user, scope, name) {
            (Some(user), Some(scope), Some(name)) if errors.is_empty() => {
                Ok(MintTokenCommand { user, scope, name })
            }
            _ => Err(errors),
        }
    }
}

// ---------------------------------------------------------------- outputs

/// Answer to one intake item.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeAnswer {
    /// The item's id.
    pub id: String,
    /// created, updated or duplicate.
    pub status: String,
}

/// One item's result in a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// The item's line, from 0.
    pub index: usize,
    /// The item's id, when it could be read.
    pub id: Option<String>,
    /// created, updated, duplicate or error.
    pub status: String,
    /// What was wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::error::Problem>,
}

/// Answer to a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    /// Items stored now.
    pub created: usize,
    /// Subjects whose stored version changed.
    pub updated: usize,
    /// Items already stored with the same content.
    pub duplicates: usize,
    /// Items refused.
    pub errors: usize,
    /// One result per item, in order.
    pub results: Vec<BatchItemResult>,
}

/// A subject reference in answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectRefView {
    /// Kind.
    pub kind: String,
    /// The platform's id.
    pub id: String,
}

impl From<&SubjectRef> for SubjectRefView {
    fn from(r: &SubjectRef) -> Self {
        Self {
            kind: r.kind.as_str().into(),
            id: r.id.as_str().into(),
        }
    }
}

/// SLA states of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaView {
    /// on_track, at_risk, breached or met.
    pub first_touch: String,
    /// on_track, at_risk, breached or met.
    pub resolution: String,
}

/// A report in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    /// The platform's id.
    pub id: String,
    /// What is reported.
    pub subject: SubjectRefView,
    /// Taxonomy code.
    pub reason: String,
    /// Source.
    pub source: String,
    /// Reporter.
    pub reporter: Option<SubjectRefView>,
    /// Reporter's words.
    pub text: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// When made.
    pub created_at: DateTime<Utc>,
    /// When received.
    pub received_at: DateTime<Utc>,
    /// The case it joined.
    pub case_id: Option<i64>,
}

impl ReportView {
    /// The view of a report, its text masked unless `reveal`.
    pub fn new(r: &ReportRecord, reveal: bool) -> Self {
        Self {
            id: r.id.clone(),
            subject: (&r.subject).into(),
            reason: r.reason.clone(),
            source: r.source.as_str().into(),
            reporter: r.reporter.as_ref().map(Into::into),
            text: shown_text(r.text.as_deref(), reveal),
            language: r.language.clone(),
            created_at: r.created_at,
            received_at: r.received_at,
            case_id: r.case_id.map(|c| c.0),
        }
    }
}

/// A signal in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignalView {
    /// Its id.
    pub id: String,
    /// Taxonomy code.
    pub category: String,
    /// What produced it.
    pub source: String,
    /// Rule or model.
    pub name: String,
    /// Confidence.
    pub score: f64,
    /// Whether it opened or joined a case.
    pub opens_case: bool,
    /// What matched.
    pub details: Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl SignalView {
    /// The view of a signal, its details masked unless `reveal`.
    pub fn new(s: &SignalRecord, reveal: bool) -> Self {
        Self {
            id: s.id.clone(),
            category: s.category.clone(),
            source: s.source.clone(),
            name: s.name.clone(),
            score: s.score,
            opens_case: s.opens_case,
            details: shown_value(&s.details, reveal),
            created_at: s.created_at,
        }
    }
}

/// A status change in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    /// From (absent when opened).
    pub from: Option<String>,
    /// To.
    pub to: String,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
}

impl TransitionView {
    /// The view of a status change, its reason masked unless `reveal`.
    pub fn new(t: &TransitionRecord, reveal: bool) -> Self {
        Self {
            from: t.from.map(|s| s.as_str().into()),
            to: t.to.as_str().into(),
            actor: t.actor.clone(),
            at: t.at,
            reason: shown_text(t.reason.as_deref(), reveal),
        }
    }
}

/// An action in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    /// Warden's id.
    pub id: i64,
    /// The decision that ordered it.
    pub decision_id: i64,
    /// What it acts on.
    pub target: SubjectRefView,
    /// Action type.
    #[serde(rename = "type")]
    pub action_type: String,
    /// Feature, for restrictions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// Label, for labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// ISO 8601 duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// When it ends by itself.
    pub expires_at: Option<DateTime<Utc>>,
    /// pending until delivered.
    pub status: String,
    /// When ordered.
    pub created_at: DateTime<Utc>,
}

impl From<&ActionRecord> for ActionView {
    fn from(a: &ActionRecord) -> Self {
        Self {
            id: a.id,
            decision_id: a.decision_id,
            target: (&a.target).into(),
            action_type: a.action_type.clone(),
            feature: a.feature.clone(),
            label: a.label.clone(),
            duration: a
                .duration_seconds
                .map(|s| format_iso8601_duration(chrono::Duration::seconds(s))),
            expires_at: a.expires_at,
            status: a.status.to_string(),
            created_at: a.created_at,
        }
    }
}

/// A decision in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// Warden's id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// The subject.
    pub subject: SubjectRefView,
    /// Whether a policy was broken.
    pub violation: bool,
    /// Taxonomy code.
    pub category: String,
    /// Policy.
    pub policy: Option<String>,
    /// Why.
    pub rationale: RationaleBody,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// The decision this one corrects.
    pub supersedes: Option<i64>,
    /// The decision that corrected this one.
    pub superseded_by: Option<i64>,
    /// Actions ordered.
    pub actions: Vec<ActionView>,
    /// The enforcement matrix's recommendation, any departure and its
    /// reason, actions awaiting approval, the statement of reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcement: Option<DecisionEnforcementView>,
}

impl From<&DecisionRecord> for DecisionView {
    /// The view with personal data masked (answers to changes never reveal).
    fn from(d: &DecisionRecord) -> Self {
        Self::new(d, false)
    }
}

impl DecisionView {
    /// The view of a decision, its rationale masked unless `reveal`.
    pub fn new(d: &DecisionRecord, reveal: bool) -> Self {
        Self {
            id: d.id,
            case_id: d.case_id.0,
            subject: (&d.subject).into(),
            violation: d.violation,
            category: d.category.clone(),
            policy: d.policy.clone(),
            rationale: RationaleBody::from_domain(&d.rationale, reveal),
            decided_by: d.decided_by.clone(),
            decided_at: d.decided_at,
            supersedes: d.supersedes,
            superseded_by: d.superseded_by,
            actions: d.actions.iter().map(Into::into).collect(),
            enforcement: d.enforcement.as_ref().map(Into::into),
        }
    }
}

/// A note in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    /// Warden's id.
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// The sections.
    pub body: RationaleBody,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<&NoteRecord> for NoteView {
    /// The view with personal data masked (answers to changes never reveal).
    fn from(n: &NoteRecord) -> Self {
        Self::new(n, false)
    }
}

impl NoteView {
    /// The view of a note, its sections masked unless `reveal`.
    pub fn new(n: &NoteRecord, reveal: bool) -> Self {
        Self {
            id: n.id,
            author: n.author.clone(),
            body: RationaleBody::from_domain(&n.body, reveal),
            created_at: n.created_at,
        }
    }
}

/// A strike in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct StrikeView {
    /// Warden's id.
    pub id: i64,
    /// The account.
    pub account_id: String,
    /// The decision.
    pub decision_id: i64,
    /// Taxonomy code.
    pub category: String,
    /// Weight.
    pub weight: i64,
    /// When given.
    pub created_at: DateTime<Utc>,
    /// When it stops counting.
    pub expires_at: DateTime<Utc>,
    /// When voided by a correction.
    pub voided_at: Option<DateTime<Utc>>,
    /// Whether it counts now.
    pub active: bool,
}

impl StrikeView {
    fn new(s: &StrikeRecord, now: Timestamp) -> Self {
        Self {
            id: s.id,
            account_id: s.account_id.clone(),
            decision_id: s.decision_id,
            category: s.category.clone(),
            weight: s.weight,
            created_at: s.created_at,
            expires_at: s.expires_at,
            voided_at: s.voided_at,
            active: s.is_active(now),
        }
    }
}

/// Free text as answers show it: personal data masked unless `reveal`
/// (see [`warden_domain::privacy`]).
pub fn shown_text(text: Option<&str>, reveal: bool) -> Option<String> {
    if reveal {
        text.map(str::to_string)
    } else {
        mask_text_opt(text)
    }
}

/// A JSON value as answers show it: personal data masked at any depth,
/// by key and by pattern, unless `reveal`.
pub fn shown_value(value: &Value, reveal: bool) -> Value {
    if reveal {
        value.clone()
    } else {
        mask_value(value)
    }
}

/// A subject in answers, with personal data masked unless revealed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectView {
    /// Kind.
    pub kind: String,
    /// The platform's id.
    pub id: String,
    /// Owner.
    pub owner: Option<SubjectRefView>,
    /// Text.
    pub text: Option<String>,
    /// Media.
    pub media: Value,
    /// Attributes (personal data masked unless revealed).
    pub attributes: Value,
    /// When the platform created it.
    pub created_at: Option<DateTime<Utc>>,
    /// When Warden first heard of it.
    pub first_seen_at: DateTime<Utc>,
    /// When last updated.
    pub updated_at: DateTime<Utc>,
}

impl SubjectView {
    /// Builds the view, masking personal data unless `reveal`.
    pub fn new(s: &SubjectRecord, reveal: bool) -> Self {
        Self {
            kind: s.subject.kind.as_str().into(),
            id: s.subject.id.as_str().into(),
            owner: s.owner.as_ref().map(Into::into),
            text: shown_text(s.text.as_deref(), reveal),
            media: shown_value(&s.media, reveal),
            attributes: shown_value(&s.attributes, reveal),
            created_at: s.created_at,
            first_seen_at: s.first_seen_at,
            updated_at: s.updated_at,
        }
    }
}

/// An event in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// The platform's id.
    pub id: String,
    /// Type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who.
    pub actor: Option<SubjectRefView>,
    /// What.
    pub subject: Option<SubjectRefView>,
    /// IP (masked unless revealed).
    pub ip: Option<String>,
    /// Device (masked unless revealed).
    pub device_id: Option<String>,
    /// Data.
    pub data: Value,
}

impl EventView {
    /// The view of an event: its IP address and device masked, and its
    /// data masked by key and pattern, unless `reveal`.
    pub fn new(e: &EventRecord, reveal: bool) -> Self {
        let hide = |v: &Option<String>| {
            v.as_ref()
                .map(|v| if reveal { v.clone() } else { MASKED.into() })
        };
        Self {
            id: e.id.clone(),
            event_type: if reveal {
                e.event_type.clone()
            } else {
                mask_text(&e.event_type).value
            },
            occurred_at: e.occurred_at,
            actor: e.actor.as_ref().map(Into::into),
            subject: e.subject.as_ref().map(Into::into),
            ip: hide(&e.ip),
            device_id: hide(&e.device_id),
            data: shown_value(&e.data, reveal),
        }
    }
}

/// A case in answers. Every view has id, queue, status, version, subject,
/// reports and signals; the single-case view adds the rest.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    /// Warden's id.
    pub id: i64,
    /// Queue.
    pub queue: String,
    /// Status.
    pub status: String,
    /// Version; name it when changing the case.
    pub version: i64,
    /// What the case is about.
    pub subject: SubjectRefView,
    /// Taxonomy code.
    pub category: String,
    /// low, medium, high or critical.
    pub severity: String,
    /// Priority.
    pub priority: i64,
    /// Who holds it.
    pub assignee: Option<String>,
    /// When their lease ends.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Held past the lease.
    pub held: bool,
    /// Why held.
    pub hold_reason: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// First touch due.
    pub first_touch_due_at: DateTime<Utc>,
    /// Resolution due.
    pub resolve_due_at: DateTime<Utc>,
    /// First touched.
    pub first_touched_at: Option<DateTime<Utc>>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// SLA states now.
    pub sla: SlaView,
    /// Reports joined.
    pub report_count: i64,
    /// Signals joined.
    pub signal_count: i64,
    /// Reports (the first ones in lists).
    pub reports: Vec<ReportView>,
    /// Signals (the first ones in lists).
    pub signals: Vec<SignalView>,
    /// The subject as the platform sent it (single-case view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_record: Option<SubjectView>,
    /// Status changes (single-case view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transitions: Option<Vec<TransitionView>>,
    /// Decisions (single-case view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisions: Option<Vec<DecisionView>>,
    /// Notes (single-case view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<NoteView>>,
    /// report or appeal.
    pub kind: String,
    /// For an appeal case: the appeal and the decision it contests
    /// (single-case views).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appeal: Option<appeals::AppealWire>,
    /// The live classifier's score of the case's text with what drove it
    /// (single-case view, when a live model scores the case's category).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier_score: Option<ClassifierScoreView>,
    /// The case's latest escalation to a specialist team (single-case
    /// views and the escalate answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation: Option<escalations::EscalationWire>,
}

/// A live classifier's score of a case's text, explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassifierScoreView {
    /// The model.
    pub model: String,
    /// Its live version.
    pub version: i64,
    /// The score, 0 to 1.
    pub score: f64,
    /// The words and n-grams that moved the score most, strongest first;
    /// personal data masked unless revealed.
    pub drivers: Vec<ScoreDriverView>,
}

/// One driver of a classifier score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreDriverView {
    /// The features of the text in one hash bucket (usually one).
    pub features: Vec<String>,
    /// Its push towards the positive class (negative: away from it).
    pub contribution: f64,
}

impl ClassifierScoreView {
    /// The view, with personal data in the features masked unless `reveal`.
    pub fn new(explanation: warden_app::case_scores::CaseExplanation, reveal: bool) -> Self {
        Self {
            model: explanation.model,
            version: explanation.version,
            score: explanation.score,
            drivers: explanation
                .drivers
                .into_iter()
                .map(|(features, contribution)| ScoreDriverView {
                    features: features
                        .iter()
                        .map(|f| {
                            if reveal {
                                f.clone()
                            } else {
                                mask_text(f).value
                            }
                        })
                        .collect(),
                    contribution,
                })
                .collect(),
        }
    }
}

impl CaseView {
    /// The view of a case with the reports and signals given, personal data
    /// masked (lists and answers to changes never reveal).
    pub fn new(
        case: &CaseRecord,
        reports: &[ReportRecord],
        signals: &[SignalRecord],
        now: Timestamp,
    ) -> Self {
        Self::build(case, reports, signals, false, now)
    }

    fn build(
        case: &CaseRecord,
        reports: &[ReportRecord],
        signals: &[SignalRecord],
        reveal: bool,
        now: Timestamp,
    ) -> Self {
        let resolved = case
            .resolved_at
            .filter(|_| case.status == CaseStatus::Resolved);
        Self {
            id: case.id.0,
            queue: case.queue.clone(),
            status: case.status.as_str().into(),
            version: case.version,
            subject: (&case.subject).into(),
            category: case.category.clone(),
            severity: case.severity.as_str().into(),
            priority: case.priority,
            assignee: case.assignee.clone(),
            lease_expires_at: case.lease_expires_at,
            held: case.held,
            hold_reason: shown_text(case.hold_reason.as_deref(), reveal),
            language: case.language.clone(),
            opened_at: case.opened_at,
            updated_at: case.updated_at,
            first_touch_due_at: case.first_touch_due_at,
            resolve_due_at: case.resolve_due_at,
            first_touched_at: case.first_touched_at,
            resolved_at: case.resolved_at,
            sla: SlaView {
                first_touch: sla_state(
                    case.opened_at,
                    case.first_touch_due_at,
                    case.first_touched_at,
                    now,
                )
                .as_str()
                .into(),
                resolution: sla_state(case.opened_at, case.resolve_due_at, resolved, now)
                    .as_str()
                    .into(),
            },
            report_count: case.report_count,
            signal_count: case.signal_count,
            reports: reports.iter().map(|r| ReportView::new(r, reveal)).collect(),
            signals: signals.iter().map(|s| SignalView::new(s, reveal)).collect(),
            subject_record: None,
            transitions: None,
            decisions: None,
            notes: None,
            kind: case.kind.as_str().into(),
            appeal: None,
            classifier_score: None,
            escalation: None,
        }
    }

    /// The full view of one case.
    pub fn detail(detail: &CaseDetail, reveal: bool, now: Timestamp) -> Self {
        let mut view = Self::build(&detail.case, &detail.reports, &detail.signals, reveal, now);
        view.subject_record = detail.subject.as_ref().map(|s| SubjectView::new(s, reveal));
        view.transitions = Some(
            detail
                .transitions
                .iter()
                .map(|t| TransitionView::new(t, reveal))
                .collect(),
        );
        view.decisions = Some(
            detail
                .decisions
                .iter()
                .map(|d| DecisionView::new(d, reveal))
                .collect(),
        );
        view.notes = Some(
            detail
                .notes
                .iter()
                .map(|n| NoteView::new(n, reveal))
                .collect(),
        );
        view
    }
}

/// A page of cases.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// The cases.
    pub cases: Vec<CaseView>,
    /// Page size used.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u32,
}

/// `GET /api/v1/subjects/{kind}/{id}/history`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    /// The subject reference asked about.
    pub reference: SubjectRefView,
    /// The subject as the platform sent it.
    pub subject: Option<SubjectView>,
    /// Reports, newest first.
    pub reports: Vec<ReportView>,
    /// Cases, newest first (without their reports).
    pub cases: Vec<CaseView>,
    /// Decisions, newest first.
    pub decisions: Vec<DecisionView>,
    /// Actions on it, newest first.
    pub actions: Vec<ActionView>,
    /// Strikes, newest first.
    pub strikes: Vec<StrikeView>,
    /// Weight of strikes active now.
    pub active_strike_weight: i64,
    /// Events, newest first.
    pub events: Vec<EventView>,
    /// Appeals of decisions about it, and its own appeals, newest first.
    pub appeals: Vec<appeals::AppealWire>,
    /// Whether personal data is shown unmasked.
    pub pii_revealed: bool,
}

impl HistoryView {
    /// Builds the view.
    pub fn new(
        reference: &SubjectRef,
        history: &SubjectHistory,
        reveal: bool,
        now: Timestamp,
    ) -> Self {
        Self {
            reference: reference.into(),
            subject: history
                .subject
                .as_ref()
                .map(|s| SubjectView::new(s, reveal)),
            reports: history
                .reports
                .iter()
                .map(|r| ReportView::new(r, reveal))
                .collect(),
            cases: history
                .cases
                .iter()
                .map(|c| CaseView::build(c, &[], &[], reveal, now))
                .collect(),
            decisions: history
                .decisions
                .iter()
                .map(|d| DecisionView::new(d, reveal))
                .collect(),
            actions: history.actions.iter().map(Into::into).collect(),
            strikes: history
                .strikes
                .iter()
                .map(|s| StrikeView::new(s, now))
                .collect(),
            active_strike_weight: history.active_strike_weight,
            events: history
                .events
                .iter()
                .map(|e| EventView::new(e, reveal))
                .collect(),
            appeals: history
                .appeals
                .iter()
                .map(|a| appeals::AppealWire::new(a, reveal))
                .collect(),
            pii_revealed: reveal,
        }
    }
}

/// A user in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Warden's id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Disabled.
    pub disabled: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Locked after failed sign-ins, until.
    pub locked_until: Option<DateTime<Utc>>,
    /// Teams.
    pub teams: Vec<String>,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        Self {
            id: u.id,
            name: u.name.clone(),
            role: u.role.as_str().into(),
            disabled: u.disabled,
            created_at: u.created_at,
            locked_until: u.locked_until,
            teams: u.teams.clone(),
        }
    }
}

/// A token in answers (never its secret, except once at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Warden's id.
    pub id: i64,
    /// Its user's id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Scope.
    pub scope: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who minted it: a user's name, or `system` (command line, demo);
    /// null for tokens from before this was recorded.
    pub minted_by: Option<String>,
    /// The secret: present only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<&TokenRecord> for TokenView {
    fn from(t: &TokenRecord) -> Self {
        Self {
            id: t.id,
            user_id: t.user_id,
            name: t.name.clone(),
            scope: t.scope.as_str().into(),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
            minted_by: t.minted_by.clone(),
            token: None,
        }
    }
}

/// Answer to sign-in and `GET /api/v1/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// User name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Permissions this caller has.
    pub permissions: Vec<String>,
    /// The CSRF token to send as `x-csrf-token` with changes (sessions only).
    pub csrf_token: Option<String>,
}

/// An audit record in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Position in the chain.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Target kind.
    pub target_kind: String,
    /// Target id.
    pub target_id: String,
    /// State before.
    pub before: Value,
    /// State after, or details.
    pub after: Value,
    /// This record's hash.
    pub hash: String,
}

/// A queue in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Open cases.
    pub depth: i64,
    /// Open cases nobody holds.
    pub unassigned: i64,
    /// Age of the oldest open case, in seconds.
    pub oldest_age_seconds: Option<i64>,
    /// Open cases past their resolution deadline.
    pub resolution_breaches: i64,
    /// Untouched cases past their first-touch deadline.
    pub first_touch_breaches: i64,
    /// Whether the caller may claim from it.
    pub claimable: bool,
}

impl From<QueueOverview> for QueueView {
    fn from(queue: QueueOverview) -> Self {
        Self {
            name: queue.name,
            description: queue.description,
            depth: queue.depth,
            unassigned: queue.unassigned,
            oldest_age_seconds: queue.oldest_age_seconds,
            resolution_breaches: queue.resolution_breaches,
            first_touch_breaches: queue.first_touch_breaches,
            claimable: queue.claimable,
        }
    }
}
