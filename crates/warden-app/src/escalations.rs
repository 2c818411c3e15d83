//! Escalations to specialist teams and evidence: escalate (the package
//! assembled and checked for completeness by the domain's
//! `plan_escalation`), acknowledge, the package as JSON or Markdown, the
//! lead view's unacknowledged escalations, and evidence items (attach,
//! list, read — every read hashes the content again).
//!
//! The package's facts are read here from the case page's reads (the case
//! with its reports, signals, transitions, decisions and notes; the
//! account's history for prior actions and strikes); the store adds the
//! evidence in the escalation's transaction, where the case is locked.

use warden_domain::access::{Permission, Principal};
use warden_domain::decision::ActionKind;
use warden_domain::escalation::package::{
    PackageCase, PackageDecision, PackageNote, PackageReport, PackageSignal, PriorAction,
    PriorStrike, TimelineEvent,
};
use warden_domain::escalation::{
    assemble_package, stays_on_lead_view, EscalateCommand, EscalateInput, EscalationDetails,
    EscalationPackage, EscalationPolicy, PackageFacts,
};
use warden_domain::evidence::{
    parse_evidence, EvidenceContent, EvidenceInput, EvidenceItem, EvidenceLimits, FileUpload,
};
use warden_domain::ids::{ActionId, DecisionId, PlatformId, SubjectKind};
use warden_domain::limits::{PACKAGE_ITEMS_PER_PART_MAX, PAGE_SIZE_MAX};
use warden_domain::{CaseId, SubjectRef};
use warden_store::{
    CaseDetail, CaseRecord, EscalationRecord, EscalationRequest, EvidenceContentRead, Paging,
    SubjectHistory,
};

use crate::{Actor, App, CommandError, CommandResult};

/// Escalation settings: severity definitions and teams (`[escalation]`),
/// whether Sev-1 pages go out, and the evidence upload limit.
#[derive(Debug, Clone)]
pub struct EscalationSettings {
    /// Severity definitions and specialist teams in force.
    pub policy: EscalationPolicy,
    /// Whether a page webhook is configured.
    pub paging: Paging,
    /// The largest evidence file.
    pub evidence: EvidenceLimits,
}

impl Default for EscalationSettings {
    fn default() -> Self {
        Self {
            policy: EscalationPolicy::default(),
            paging: Paging::Off,
            evidence: EvidenceLimits::default(),
        }
    }
}

/// An uploaded file: what the transport hashed and the bytes.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// Its SHA-256 and size, from `EvidenceLimits::hasher`.
    pub upload: FileUpload,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An escalation on the lead view.
#[derive(Debug, Clone)]
pub struct LeadEscalation {
    /// The escalation.
    pub escalation: EscalationRecord,
    /// Its level's title (`Sev-1 — imminent harm`).
    pub title: String,
}

fn principal(actor: &Actor) -> CommandResult<&Principal> {
    actor.principal().ok_or_else(|| {
        CommandError::Forbidden("only a signed-in person can escalate or acknowledge".into())
    })
}

fn timeline(detail: &CaseDetail) -> Vec<TimelineEvent> {
    detail
        .transitions
        .iter()
        .map(|t| TimelineEvent {
            at: t.at,
            what: match (&t.from, &t.reason) {
                (Some(from), Some(reason)) => format!("{from} → {}: {reason}", t.to),
                (Some(from), None) => format!("{from} → {}", t.to),
                (None, _) => format!("opened as {}", t.to),
            },
            who: Some(t.actor.clone()),
        })
        .collect()
}

fn prior_actions(history: &SubjectHistory) -> Vec<PriorAction> {
    history
        .actions
        .iter()
        .filter_map(|a| {
            let kind =
                ActionKind::from_stored(&a.action_type, a.feature.as_deref(), a.label.as_deref())
                    .ok()?;
            Some(PriorAction {
                id: ActionId(a.id),
                decision: DecisionId(a.decision_id),
                kind,
                target: a.target.clone(),
                status: a.status,
                ordered_at: a.created_at,
                expires_at: a.expires_at,
            })
        })
        .collect()
}

fn prior_strikes(history: &SubjectHistory) -> Vec<PriorStrike> {
    history
        .strikes
        .iter()
        .filter_map(|s| {
            Some(PriorStrike {
                id: s.id,
                account: SubjectRef::new(
                    SubjectKind::Account,
                    PlatformId::parse(&s.account_id).ok()?,
                ),
                category: s.category.clone(),
                weight: s.weight,
                created_at: s.created_at,
                expires_at: s.expires_at,
                voided: s.voided_at.is_some(),
            })
        })
        .collect()
}

/// The package's facts from the case page's reads (evidence left empty:
/// the store or the caller adds it).
fn package_facts(
    detail: &CaseDetail,
    history: Option<&SubjectHistory>,
    escalation: EscalationDetails,
) -> PackageFacts {
    let case = &detail.case;
    PackageFacts {
        escalation,
        case: PackageCase {
            id: case.id,
            queue: case.queue.clone(),
            category: case.category.clone(),
            severity: case.severity,
            status: case.status,
            opened_at: case.opened_at,
            subject: case.subject.clone(),
            subject_owner: detail.subject.as_ref().and_then(|s| s.owner.clone()),
        },
        subjects: Vec::new(),
        linked_accounts: Vec::new(),
        reports: detail
            .reports
            .iter()
            .map(|r| PackageReport {
                id: r.id.clone(),
                source: r.source,
                reason: r.reason.clone(),
                text: r.text.clone(),
                created_at: r.created_at,
            })
            .collect(),
        signals: detail
            .signals
            .iter()
            .map(|s| PackageSignal {
                source: s.source.clone(),
                name: s.name.clone(),
                score: s.score,
                created_at: s.created_at,
            })
            .collect(),
        evidence: Vec::new(),
        prior_actions: history.map(prior_actions).unwrap_or_default(),
        strikes: history.map(prior_strikes).unwrap_or_default(),
        notes: detail
            .notes
            .iter()
            .map(|n| PackageNote {
                author: n.author.clone(),
                created_at: n.created_at,
                body: n.body.clone(),
            })
            .collect(),
        decisions: detail
            .decisions
            .iter()
            .map(|d| PackageDecision {
                id: DecisionId(d.id),
                decided_at: d.decided_at,
                author: Some(d.decided_by.clone()),
                violation: d.violation,
                category: d.category.clone(),
                rationale: d.rationale.clone(),
            })
            .collect(),
        events: timeline(detail),
    }
}

/// The content an item's hash is over: the excerpt's or URL's UTF-8
/// bytes, or the file's.
fn content_bytes(content: &EvidenceContent, file: Option<UploadedFile>) -> Vec<u8> {
    match content {
        EvidenceContent::TextExcerpt { text } => text.as_bytes().to_vec(),
        EvidenceContent::Url { url } => url.as_bytes().to_vec(),
        EvidenceContent::File { .. } => file.map(|f| f.bytes).unwrap_or_default(),
    }
}

impl App {
    /// Escalation settings in force.
    pub fn escalation_settings(&self) -> &EscalationSettings {
        &self.settings().escalations
    }

    /// The account whose history a package shows: the subject's owner,
    /// or the subject when it is an account.
    async fn package_history(
        &self,
        actor: &Actor,
        detail: &CaseDetail,
    ) -> CommandResult<Option<SubjectHistory>> {
        let account = detail
            .subject
            .as_ref()
            .and_then(|s| s.owner.clone())
            .or_else(|| {
                (detail.case.subject.kind == SubjectKind::Account)
                    .then(|| detail.case.subject.clone())
            });
        match account {
            Some(account) => Ok(Some(
                self.visible_subject_history(actor, &account, PACKAGE_ITEMS_PER_PART_MAX as u32)
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// `POST /api/v1/cases/{id}/escalate` with a team: moves the case to
    /// the team's restricted queue at a severity, with its package checked
    /// for completeness (`422` naming `package.<part>`), and pages Sev-1.
    pub async fn escalate_to_team(
        &self,
        actor: &Actor,
        case: CaseId,
        input: &EscalateInput,
    ) -> CommandResult<(CaseRecord, EscalationRecord)> {
        actor.require(Permission::CaseWork)?;
        let escalator = principal(actor)?;
        let settings = self.escalation_settings();
        let command = EscalateCommand::parse(case, input, &settings.policy)?;
        let detail = self.visible_case_detail(actor, case).await?;
        let queue = settings
            .policy
            .team(&command.team)
            .map(|t| t.queue.clone())
            .unwrap_or_default();
        if self.policy().router().queue(&queue).is_none() {
            return Err(CommandError::invalid(
                "team",
                format!(
                    "the {} team's queue {queue:?} is not configured",
                    command.team
                ),
            ));
        }
        let history = self.package_history(actor, &detail).await?;
        let details =
            EscalationDetails::for_command(&command, &settings.policy, escalator, self.now())
                .ok_or_else(|| CommandError::invalid("team", "is not a configured team"))?;
        let facts = package_facts(&detail, history.as_ref(), details);
        let request = EscalationRequest {
            escalator,
            command: &command,
            policy: &settings.policy,
            paging: settings.paging,
        };
        Ok(self
            .store()
            .escalate_to_team(&actor.audit(), &request, facts, self.now())
            .await?)
    }

    /// `POST /api/v1/cases/{id}/acknowledge`: a member of the team takes
    /// the case's latest escalation; its pending pages are cancelled.
    pub async fn acknowledge_escalation(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> CommandResult<EscalationRecord> {
        actor.require(Permission::CaseWork)?;
        let member = principal(actor)?;
        self.visible_case(actor, case).await?;
        Ok(self
            .store()
            .acknowledge_escalation(&actor.audit(), member, case, self.now())
            .await?)
    }

    /// The latest escalation of a case the actor may see.
    pub async fn case_escalation(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> CommandResult<Option<EscalationRecord>> {
        actor.require(Permission::CaseRead)?;
        self.visible_case(actor, case).await?;
        Ok(self.store().latest_escalation(case).await?)
    }

    /// `GET /api/v1/cases/{id}/package`: the package of the case's latest
    /// escalation, assembled now (evidence hashed again); `404` without
    /// an escalation, `422` naming the parts when one is now missing.
    pub async fn escalation_package(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> CommandResult<EscalationPackage> {
        actor.require(Permission::CaseRead)?;
        let detail = self.visible_case_detail(actor, case).await?;
        let Some(escalation) = self.store().latest_escalation(case).await? else {
            return Err(CommandError::NotFound(format!(
                "case {case} has no escalation, so no package"
            )));
        };
        let history = self.package_history(actor, &detail).await?;
        let policy = &self.escalation_settings().policy;
        let details = EscalationDetails {
            team: escalation.team.clone(),
            severity: policy.definition(escalation.severity).clone(),
            reason: escalation.reason.clone(),
            escalated_by: escalation.escalated_by.clone(),
            escalated_at: escalation.times.escalated_at,
        };
        let mut facts = package_facts(&detail, history.as_ref(), details);
        facts.evidence = self.store().case_evidence(case).await?;
        self.store()
            .record_read(
                &actor.audit(),
                "escalation.package.read",
                "case",
                &case.to_string(),
                serde_json::json!({"escalation": escalation.id}),
                self.now(),
            )
            .await?;
        assemble_package(&facts, self.now())
            .map_err(|missing| CommandError::Invalid(missing.field_errors()))
    }

    /// Unacknowledged escalations that stay on the lead view (levels that
    /// page, or past their acknowledgement target), of cases the actor may see.
    pub async fn lead_escalations(&self, actor: &Actor) -> CommandResult<Vec<LeadEscalation>> {
        actor.require(Permission::CaseRead)?;
        let now = self.now();
        let policy = &self.escalation_settings().policy;
        let open = self
            .store()
            .unacknowledged_escalations(PAGE_SIZE_MAX)
            .await?;
        let cases: Vec<CaseId> = open.iter().map(|e| e.case_id).collect();
        let queues = self.store().case_queues(&cases).await?;
        Ok(open
            .into_iter()
            .filter(|e| {
                queues
                    .iter()
                    .any(|(id, queue)| *id == e.case_id && self.sees_queue(actor, queue))
            })
            .filter(|e| stays_on_lead_view(&e.state(), policy.definition(e.severity), now))
            .map(|escalation| LeadEscalation {
                title: policy.definition(escalation.severity).title(),
                escalation,
            })
            .collect())
    }

    /// `POST /api/v1/cases/{id}/evidence`: attaches an item to a case the
    /// actor may see and work on.
    pub async fn attach_evidence(
        &self,
        actor: &Actor,
        case: CaseId,
        input: &EvidenceInput,
        file: Option<UploadedFile>,
    ) -> CommandResult<EvidenceItem> {
        actor.require(Permission::CaseWork)?;
        self.visible_case(actor, case).await?;
        let limits = self.escalation_settings().evidence;
        let draft = parse_evidence(input, file.as_ref().map(|f| &f.upload), &limits)?;
        let bytes = content_bytes(&draft.content, file);
        Ok(self
            .store()
            .attach_evidence(&actor.audit(), case, draft, &bytes, self.now())
            .await?)
    }

    /// `GET /api/v1/cases/{id}/evidence`: the items, each hashed again.
    pub async fn case_evidence(
        &self,
        actor: &Actor,
        case: CaseId,
    ) -> CommandResult<Vec<EvidenceItem>> {
        actor.require(Permission::CaseRead)?;
        self.visible_case(actor, case).await?;
        if self.qa_blinds_case(actor, case).await? {
            return Ok(Vec::new());
        }
        Ok(self.store().case_evidence(case).await?)
    }

    /// `GET /api/v1/cases/{id}/evidence/{eid}`: one item with its bytes
    /// (when they still match their hash); the read is audited.
    pub async fn evidence_content(
        &self,
        actor: &Actor,
        case: CaseId,
        item: i64,
    ) -> CommandResult<EvidenceContentRead> {
        actor.require(Permission::CaseRead)?;
        self.visible_case(actor, case).await?;
        let read = self
            .store()
            .evidence_content(case, item)
            .await?
            .ok_or_else(|| {
                CommandError::NotFound(format!("evidence item {item} of case {case} not found"))
            })?;
        self.store()
            .record_read(
                &actor.audit(),
                "evidence.read",
                "evidence",
                &item.to_string(),
                serde_json::json!({"case_id": case.0, "check": read.item.check.as_str()}),
                self.now(),
            )
            .await?;
        Ok(read)
    }
}
