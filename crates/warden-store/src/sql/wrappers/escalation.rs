//! Rows of `escalations` (with their pages from the outbox) and of
//! `evidence_items` (with their blob, hashed again on this read).

use sqlx::any::AnyRow;
use sqlx::FromRow;

use warden_domain::escalation::{EscalationSeverity, EscalationTimes};
use warden_domain::evidence::{
    check_content, ContentHash, EvidenceContent, EvidenceItem, EvidenceKind, FileName, MediaType,
};
use warden_domain::CaseId;

use super::{corrupt, get, known, text, text_opt, time, time_opt, Decoded};
use crate::{EscalationRecord, EvidenceContentRead};

/// Columns of `escalations` (`e`) with its case (`c`) and its pages
/// (outbox rows of the escalation), as [`DbEscalation`] reads them.
pub(crate) const ESCALATION_COLUMNS: &str = "e.id AS id, e.case_id AS case_id, e.team AS team, e.severity AS severity, e.reason AS reason, e.escalated_by AS escalated_by, e.detected_at AS detected_at, e.escalated_at AS escalated_at, e.acknowledge_by AS acknowledge_by, e.acknowledged_at AS acknowledged_at, e.acknowledged_by AS acknowledged_by, CASE WHEN e.resolved_at IS NOT NULL THEN e.resolved_at WHEN c.resolved_at >= e.escalated_at THEN c.resolved_at ELSE NULL END AS resolved_at, e.package AS package, (SELECT COUNT(*) FROM outbox o WHERE o.escalation_id = e.id AND o.status IN ('delivered', 'confirmed')) AS pages_sent, (SELECT MAX(o.delivered_at) FROM outbox o WHERE o.escalation_id = e.id) AS last_paged_at, (SELECT COUNT(*) FROM outbox o WHERE o.escalation_id = e.id AND o.status IN ('pending', 'sending')) AS pages_pending";

/// Columns of `evidence_items` (`i`) with its blob's bytes (`b`, left
/// joined), as [`DbEvidence`] reads them.
pub(crate) const EVIDENCE_COLUMNS: &str = "i.id AS id, i.case_id AS case_id, i.kind AS kind, i.content_hash AS content_hash, i.size_bytes AS size_bytes, i.media_type AS media_type, i.file_name AS file_name, i.caption AS caption, i.added_by AS added_by, i.added_at AS added_at, b.content AS content";

fn count(row: &AnyRow, column: &str) -> Decoded<u32> {
    Ok(u32::try_from(get::<i64>(row, column)?.max(0)).unwrap_or(u32::MAX))
}

/// A row of [`ESCALATION_COLUMNS`].
pub(crate) struct DbEscalation(pub(crate) EscalationRecord);

impl<'r> FromRow<'r, AnyRow> for DbEscalation {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        Ok(DbEscalation(EscalationRecord {
            id: get(row, "id")?,
            case_id: CaseId(get(row, "case_id")?),
            team: get(row, "team")?,
            severity: known::<EscalationSeverity>(row, "escalations", "severity")?,
            reason: text(row, "reason")?,
            escalated_by: get(row, "escalated_by")?,
            times: EscalationTimes {
                detected_at: time(row, "detected_at")?,
                escalated_at: time(row, "escalated_at")?,
                acknowledged_at: time_opt(row, "acknowledged_at")?,
                resolved_at: time_opt(row, "resolved_at")?,
            },
            acknowledge_by: time(row, "acknowledge_by")?,
            acknowledged_by: get(row, "acknowledged_by")?,
            pages_sent: count(row, "pages_sent")?,
            last_paged_at: time_opt(row, "last_paged_at")?,
            pages_pending: count(row, "pages_pending")?,
            package_markdown: text(row, "package")?,
        }))
    }
}

/// A row of [`EVIDENCE_COLUMNS`]: the item, checked against its hash.
pub(crate) struct DbEvidence(pub(crate) EvidenceContentRead);

impl<'r> FromRow<'r, AnyRow> for DbEvidence {
    fn from_row(row: &'r AnyRow) -> Decoded<Self> {
        let stored: String = get(row, "content_hash")?;
        let hash = ContentHash::parse(&stored)
            .map_err(|_| corrupt("evidence_items", "content_hash", &stored))?;
        let bytes: Option<Vec<u8>> = get(row, "content")?;
        let check = check_content(&hash, bytes.as_deref());
        let as_text = || {
            bytes
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let content = match known::<EvidenceKind>(row, "evidence_items", "kind")? {
            EvidenceKind::TextExcerpt => EvidenceContent::TextExcerpt { text: as_text() },
            EvidenceKind::Url => EvidenceContent::Url { url: as_text() },
            EvidenceKind::File => EvidenceContent::File {
                name: FileName::sanitise(
                    &get::<Option<String>>(row, "file_name")?.unwrap_or_default(),
                ),
                media_type: MediaType::sanitise(
                    get::<Option<String>>(row, "media_type")?.as_deref(),
                ),
            },
        };
        let size: i64 = get(row, "size_bytes")?;
        let item = EvidenceItem {
            id: get(row, "id")?,
            content,
            caption: text_opt(row, "caption")?.unwrap_or_default(),
            hash,
            size_bytes: u64::try_from(size)
                .map_err(|_| corrupt("evidence_items", "size_bytes", size))?,
            added_by: get(row, "added_by")?,
            added_at: time(row, "added_at")?,
            check,
        };
        Ok(DbEvidence(EvidenceContentRead {
            case_id: CaseId(get(row, "case_id")?),
            bytes: bytes.filter(|_| check.is_verified()),
            item,
        }))
    }
}
