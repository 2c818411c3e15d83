//! The wire types of escalations and evidence (`specs/appeals-qa-api.md`,
//! Escalations): an escalation in answers, an evidence item in answers and
//! as sent, and the package's JSON (personal data masked, as the domain's
//! `EscalationPackage::masked` does).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use warden_domain::decision::Rationale;
use warden_domain::escalation::{EscalationPackage, EscalationTimes};
use warden_domain::evidence::{EvidenceContent, EvidenceInput, EvidenceItem};
use warden_domain::privacy::mask_text;
use warden_store::EscalationRecord;

use crate::wire::SubjectRefView;

/// An escalation to a specialist team, with the times the KPIs read.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationWire {
    /// Warden's id.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// The specialist team.
    pub team: String,
    /// `sev1` .. `sev4`.
    pub severity: String,
    /// Why (personal data masked).
    pub reason: String,
    /// Who escalated.
    pub escalated_by: String,
    /// When the harm was first seen (the case opened).
    pub detected_at: DateTime<Utc>,
    /// When it was escalated.
    pub escalated_at: DateTime<Utc>,
    /// When a team member must have acknowledged it.
    pub acknowledge_by: DateTime<Utc>,
    /// When a team member acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who.
    pub acknowledged_by: Option<String>,
    /// When the case was resolved after it.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Seconds from detection to escalation.
    pub time_to_escalate_seconds: Option<i64>,
    /// Seconds from escalation to acknowledgement.
    pub time_to_acknowledge_seconds: Option<i64>,
    /// Seconds from escalation to resolution.
    pub time_to_resolve_seconds: Option<i64>,
    /// Pages delivered to the on-call.
    pub pages_sent: u32,
    /// Pages waiting in the outbox.
    pub pages_pending: u32,
}

fn seconds(times: &EscalationTimes) -> [Option<i64>; 3] {
    [
        times.time_to_escalate(),
        times.time_to_acknowledge(),
        times.time_to_resolve(),
    ]
    .map(|d| d.map(|d| d.num_seconds()))
}

impl From<&EscalationRecord> for EscalationWire {
    fn from(e: &EscalationRecord) -> Self {
        let [escalate, acknowledge, resolve] = seconds(&e.times);
        Self {
            id: e.id,
            case_id: e.case_id.0,
            team: e.team.clone(),
            severity: e.severity.as_str().into(),
            reason: mask_text(&e.reason).value,
            escalated_by: e.escalated_by.clone(),
            detected_at: e.times.detected_at,
            escalated_at: e.times.escalated_at,
            acknowledge_by: e.acknowledge_by,
            acknowledged_at: e.times.acknowledged_at,
            acknowledged_by: e.acknowledged_by.clone(),
            resolved_at: e.times.resolved_at,
            time_to_escalate_seconds: escalate,
            time_to_acknowledge_seconds: acknowledge,
            time_to_resolve_seconds: resolve,
            pages_sent: e.pages_sent,
            pages_pending: e.pages_pending,
        }
    }
}

/// `POST /api/v1/cases/{id}/evidence` as JSON: a text excerpt or a URL.
/// A file is sent as the raw body (any non-JSON content type, which is
/// kept as its media type) with `?file_name=&caption=`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// `text_excerpt` or `url` (`file` as a raw upload).
    pub kind: Option<String>,
    /// The excerpt (text_excerpt).
    pub text: Option<String>,
    /// The URL (url).
    pub url: Option<String>,
    /// What it shows.
    pub caption: Option<String>,
}

impl From<EvidenceBody> for EvidenceInput {
    fn from(body: EvidenceBody) -> Self {
        EvidenceInput {
            kind: body.kind,
            text: body.text,
            url: body.url,
            file_name: None,
            media_type: None,
            caption: body.caption,
        }
    }
}

/// An evidence item with its SHA-256 and the check of this read.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceWire {
    /// Warden's id.
    pub id: i64,
    /// `text_excerpt`, `url` or `file`.
    pub kind: String,
    /// The excerpt (personal data masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The file's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The file's media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// What it shows (personal data masked).
    pub caption: String,
    /// The SHA-256 recorded when attached, 64 hex digits.
    pub sha256: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Who attached it.
    pub added_by: String,
    /// When.
    pub added_at: DateTime<Utc>,
    /// `verified`, `mismatch` or `missing`: the content hashed on this read.
    pub check: String,
    /// The check in words.
    pub check_detail: String,
}

impl From<&EvidenceItem> for EvidenceWire {
    fn from(item: &EvidenceItem) -> Self {
        let (text, url, file_name, media_type) = match &item.content {
            EvidenceContent::TextExcerpt { text } => {
                (Some(mask_text(text).value), None, None, None)
            }
            EvidenceContent::Url { url } => (None, Some(url.clone()), None, None),
            EvidenceContent::File { name, media_type } => (
                None,
                None,
                Some(name.as_str().to_string()),
                Some(media_type.as_str().to_string()),
            ),
        };
        Self {
            id: item.id,
            kind: item.content.kind().as_str().into(),
            text,
            url,
            file_name,
            media_type,
            caption: mask_text(&item.caption).value,
            sha256: item.hash.to_hex(),
            size_bytes: item.size_bytes,
            added_by: item.added_by.clone(),
            added_at: item.added_at,
            check: item.check.as_str().into(),
            check_detail: item.check.to_string(),
        }
    }
}

fn rationale(r: &Rationale) -> Value {
    json!({
        "what_happened": r.what_happened,
        "evidence": r.evidence,
        "policy": r.policy,
        "action": r.action,
        "next_steps": r.next_steps,
    })
}

/// The package as JSON, personal data masked.
pub fn package_json(package: &EscalationPackage) -> Value {
    let p = package.masked();
    let subject = |s: &warden_domain::SubjectRef| json!(SubjectRefView::from(s));
    json!({
        "case": {
            "id": p.case.id.0,
            "queue": p.case.queue,
            "category": p.case.category,
            "severity": p.case.severity.as_str(),
            "status": p.case.status.as_str(),
            "opened_at": p.case.opened_at,
            "subject": subject(&p.case.subject),
            "subject_owner": p.case.subject_owner.as_ref().map(subject),
        },
        "escalation": {
            "team": p.escalation.team,
            "severity": p.escalation.severity.severity.as_str(),
            "severity_title": p.escalation.severity.title(),
            "definition": p.escalation.severity.definition,
            "reason": p.escalation.reason,
            "escalated_by": p.escalation.escalated_by,
            "escalated_at": p.escalation.escalated_at,
            "acknowledge_by": p.acknowledge_by,
        },
        "summary": p.summary,
        "subject_ids": p.subject_ids.iter().map(subject).collect::<Vec<_>>(),
        "linked_accounts": p.linked_accounts.iter().map(|l| json!({"account": subject(&l.account), "link": l.link})).collect::<Vec<_>>(),
        "timeline": p.timeline.iter().map(|t| json!({"at": t.at, "what": t.what, "who": t.who})).collect::<Vec<_>>(),
        "evidence": p.evidence.iter().map(|e| json!(EvidenceWire::from(e))).collect::<Vec<_>>(),
        "reports": p.reports.iter().map(|r| json!({"id": r.id, "source": r.source.as_str(), "reason": r.reason, "text": r.text, "created_at": r.created_at})).collect::<Vec<_>>(),
        "signals": p.signals.iter().map(|s| json!({"source": s.source, "name": s.name, "score": s.score, "created_at": s.created_at})).collect::<Vec<_>>(),
        "prior_actions": p.prior_actions.iter().map(|a| json!({"id": a.id.0, "decision_id": a.decision.0, "type": a.kind.type_name(), "target": subject(&a.target), "status": a.status.as_str(), "ordered_at": a.ordered_at, "expires_at": a.expires_at})).collect::<Vec<_>>(),
        "strikes": p.strikes.iter().map(|s| json!({"id": s.strike.id, "account": subject(&s.strike.account), "category": s.strike.category, "weight": s.strike.weight, "created_at": s.strike.created_at, "expires_at": s.strike.expires_at, "voided": s.strike.voided, "active": s.active})).collect::<Vec<_>>(),
        "notes": p.notes.iter().map(|n| json!({"author": n.author, "created_at": n.created_at, "body": rationale(&n.body)})).collect::<Vec<_>>(),
        "decisions": p.decisions.iter().map(|d| json!({"id": d.id.0, "decided_at": d.decided_at, "author": d.author, "violation": d.violation, "category": d.category, "rationale": rationale(&d.rationale)})).collect::<Vec<_>>(),
        "recommended_next_steps": p.recommended_next_steps,
        "omitted": p.omitted.iter().map(|(part, n)| json!({"part": part.as_str(), "left_out": n})).collect::<Vec<_>>(),
        "assembled_at": p.assembled_at,
    })
}
