//! What platforms send in: subjects, events, reports and signals.
//!
//! Each item carries the platform's own id. Sending the same item again is
//! acknowledged and changes nothing; the [`Fingerprint`] of an item's content
//! tells a repeat (same content) from a conflict (same id, other content).

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::ids::{PlatformId, SubjectRef};
use crate::Timestamp;

/// Where a report comes from. Its source weighs on priority and routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportSource {
    /// A user of the platform pressed "report".
    UserReport,
    /// A platform system flagged it.
    AutomatedFlag,
    /// A flagger with an agreement (DSA article 22 and the like).
    TrustedFlagger,
    /// A court, regulator or lawyer.
    LegalNotice,
    /// Customer support handed it over.
    SupportEscalation,
}

impl ReportSource {
    /// Every source.
    pub const ALL: [ReportSource; 5] = [
        ReportSource::UserReport,
        ReportSource::AutomatedFlag,
        ReportSource::TrustedFlagger,
        ReportSource::LegalNotice,
        ReportSource::SupportEscalation,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportSource::UserReport => "user_report",
            ReportSource::AutomatedFlag => "automated_flag",
            ReportSource::TrustedFlagger => "trusted_flagger",
            ReportSource::LegalNotice => "legal_notice",
            ReportSource::SupportEscalation => "support_escalation",
        }
    }
}

impl FromStr for ReportSource {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        ReportSource::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unknown source {value:?}; expected user_report, automated_flag, trusted_flagger, legal_notice or support_escalation"
                )
            })
    }
}

impl fmt::Display for ReportSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SHA-256 over an item's canonical content, hex-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(pub String);

fn fingerprint_of(value: &Value) -> Fingerprint {
    // serde_json's map keeps keys sorted, so this serialisation is canonical.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Fingerprint(hex::encode(Sha256::digest(&bytes)))
}

fn reference_json(reference: &Option<SubjectRef>) -> Value {
    match reference {
        Some(r) => json!({"kind": r.kind.as_str(), "id": r.id.as_str()}),
        None => Value::Null,
    }
}

fn time_json(time: &Option<Timestamp>) -> Value {
    match time {
        Some(t) => Value::String(t.timestamp_millis().to_string()),
        None => Value::Null,
    }
}

/// A media item attached to a subject.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaItem {
    /// Where the platform serves it.
    pub url: String,
    /// Its MIME type, if known.
    pub mime: Option<String>,
    /// Its SHA-256, hex, if known.
    pub sha256: Option<String>,
}

/// Create or update a subject.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubject {
    /// Which subject.
    pub subject: SubjectRef,
    /// When the platform created it.
    pub created_at: Option<Timestamp>,
    /// The account that owns it, for content, messages, listings and media.
    pub owner: Option<SubjectRef>,
    /// Its text as the platform shows it.
    pub text: Option<String>,
    /// Attached media.
    pub media: Vec<MediaItem>,
    /// Anything else the platform knows (at most 64 KiB of JSON).
    pub attributes: Value,
}

impl NewSubject {
    /// The fingerprint of this version of the subject.
    pub fn fingerprint(&self) -> Fingerprint {
        let media: Vec<Value> = self
            .media
            .iter()
            .map(|m| json!({"url": m.url, "mime": m.mime, "sha256": m.sha256}))
            .collect();
        fingerprint_of(&json!({
            "kind": self.subject.kind.as_str(),
            "id": self.subject.id.as_str(),
            "created_at": time_json(&self.created_at),
            "owner": reference_json(&self.owner),
            "text": self.text,
            "media": media,
            "attributes": self.attributes,
        }))
    }
}

/// Something that happened on the platform.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The platform's id for the event.
    pub id: PlatformId,
    /// Free text: `signup`, `login`, `post_created`, `message_sent`, ...
    pub event_type: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Who did it.
    pub actor: Option<SubjectRef>,
    /// What it was done to or produced.
    pub subject: Option<SubjectRef>,
    /// The actor's IP address, as text.
    pub ip: Option<String>,
    /// The actor's device id.
    pub device_id: Option<String>,
    /// Anything else (at most 64 KiB of JSON).
    pub data: Value,
}

impl NewEvent {
    /// The fingerprint of the event's content.
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint_of(&json!({
            "id": self.id.as_str(),
            "type": self.event_type,
            "occurred_at": self.occurred_at.timestamp_millis().to_string(),
            "actor": reference_json(&self.actor),
            "subject": reference_json(&self.subject),
            "ip": self.ip,
            "device_id": self.device_id,
            "data": self.data,
        }))
    }
}

/// A claim that a subject breaks a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    /// The platform's id for the report.
    pub id: PlatformId,
    /// What is reported.
    pub subject: SubjectRef,
    /// The taxonomy code the reporter chose.
    pub reason: String,
    /// Who is reporting, in kind.
    pub source: ReportSource,
    /// The reporting account, if any.
    pub reporter: Option<SubjectRef>,
    /// The reporter's words.
    pub text: Option<String>,
    /// Language of the reported material or the report, BCP 47.
    pub language: Option<String>,
    /// When the report was made; the time of receipt when absent.
    pub created_at: Option<Timestamp>,
}

impl NewReport {
    /// The fingerprint of the report's content.
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint_of(&json!({
            "id": self.id.as_str(),
            "subject": reference_json(&Some(self.subject.clone())),
            "reason": self.reason,
            "source": self.source.as_str(),
            "reporter": reference_json(&self.reporter),
            "text": self.text,
            "language": self.language,
            "created_at": time_json(&self.created_at),
        }))
    }
}

/// A machine finding about a subject: a rule hit, a classifier score, a hash match.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSignal {
    /// An id unique per finding (the platform's, or derived by a rule).
    pub id: PlatformId,
    /// What it is about.
    pub subject: SubjectRef,
    /// The taxonomy code it points to.
    pub category: String,
    /// What produced it: `rule`, `classifier`, `hash_match`, ...
    pub source: String,
    /// The rule, model or hash bank's name.
    pub name: String,
    /// Confidence in 0..=1.
    pub score: f64,
    /// Whether it should open or join a case (false for shadow-mode findings).
    pub opens_case: bool,
    /// What matched, for the analyst.
    pub details: Value,
    /// When it was found.
    pub created_at: Option<Timestamp>,
}

impl NewSignal {
    /// The fingerprint of the signal's content.
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint_of(&json!({
            "id": self.id.as_str(),
            "subject": reference_json(&Some(self.subject.clone())),
            "category": self.category,
            "source": self.source,
            "name": self.name,
            "score": self.score,
            "opens_case": self.opens_case,
            "details": self.details,
            "created_at": time_json(&self.created_at),
        }))
    }
}

/// What happened to one intake item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// Stored for the first time.
    Created,
    /// A subject that existed got new content.
    Updated,
    /// The same item with the same content was already stored; nothing changed.
    Duplicate,
    /// The same id was stored with other content; nothing changed.
    Conflict,
    /// Refused alone, the other items of its batch kept: the field at fault
    /// and why (an item the store could not take, such as a category the
    /// taxonomy does not know). Nothing of it was stored.
    Refused(crate::FieldError),
    /// The store failed on this item alone (a fault on Warden's side, in its
    /// log); the other items of its batch were kept. Sending it again may work.
    Failed,
}

impl IntakeOutcome {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            IntakeOutcome::Created => "created",
            IntakeOutcome::Updated => "updated",
            IntakeOutcome::Duplicate => "duplicate",
            IntakeOutcome::Conflict => "conflict",
            IntakeOutcome::Refused(_) | IntakeOutcome::Failed => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SubjectKind;

    fn report(text: &str) -> NewReport {
        NewReport {
            id: PlatformId::parse("rep_1").unwrap(),
            subject: SubjectRef::new(SubjectKind::Content, PlatformId::parse("p").unwrap()),
            reason: "spam".into(),
            source: ReportSource::UserReport,
            reporter: None,
            text: Some(text.into()),
            language: None,
            created_at: None,
        }
    }

    #[test]
    fn fingerprints_tell_repeats_from_changes() {
        assert_eq!(report("a").fingerprint(), report("a").fingerprint());
        assert_ne!(report("a").fingerprint(), report("b").fingerprint());
    }

    #[test]
    fn sources_round_trip() {
        for source in ReportSource::ALL {
            assert_eq!(source.as_str().parse::<ReportSource>(), Ok(source));
        }
    }
}
