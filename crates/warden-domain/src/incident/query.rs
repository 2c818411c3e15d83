//! Which cases join an incident: by id, or by a query with the same
//! filters as the case list (`GET /api/v1/cases`).
//!
//! The case list's filter type (`CaseFilter`) lives in the store, so the
//! domain defines [`CaseQuery`]: the filters parsed and checked, with
//! [`CaseQuery::matches`] saying exactly what they mean. The store builds
//! its `CaseFilter` from it (plus the reader's queue scope) and selects at
//! most [`INCIDENT_CASES_MAX`] + 1 cases, so that a query matching more
//! is refused, not cut silently.

use std::collections::BTreeSet;

use crate::case::{CaseStatus, Severity};
use crate::ids::{
    parse_code, CaseId, LanguageTag, PlatformId, SubjectKind, SubjectRef, TaxonomyCode, UserId,
    UserName,
};
use crate::limits::INCIDENT_CASES_MAX;
use crate::{FieldError, FieldErrors};

use crate::limits::BAD_IDS_NAMED_MAX;

/// The filters as sent (the case list's query parameters), before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseQueryInput {
    /// A queue.
    pub queue: Option<String>,
    /// One status or several, comma-separated.
    pub status: Option<String>,
    /// A user name, or `me`.
    pub assignee: Option<String>,
    /// The subject's kind (with `subject_id`).
    pub subject_kind: Option<String>,
    /// The subject's id (with `subject_kind`).
    pub subject_id: Option<String>,
    /// A taxonomy code.
    pub category: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: Option<String>,
    /// A language; `de` takes `de-AT`.
    pub language: Option<String>,
}

/// Whose cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The caller's.
    Me,
    /// A named user's.
    Named(UserName),
}

/// The case list's filters, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseQuery {
    /// Only this queue.
    pub queue: Option<String>,
    /// Only these statuses; empty: any.
    pub statuses: Vec<CaseStatus>,
    /// Only cases held by this user.
    pub assignee: Option<Assignee>,
    /// Only cases about this subject.
    pub subject: Option<SubjectRef>,
    /// Only this category.
    pub category: Option<TaxonomyCode>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only this language or its subtags.
    pub language: Option<LanguageTag>,
}

/// A case as a query looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseQueryFacts {
    /// Its queue.
    pub queue: String,
    /// Its status.
    pub status: CaseStatus,
    /// Who holds it.
    pub assignee: Option<UserId>,
    /// What it is about.
    pub subject: SubjectRef,
    /// Its category.
    pub category: String,
    /// Its severity.
    pub severity: Severity,
    /// Its language.
    pub language: Option<LanguageTag>,
}

impl CaseQuery {
    /// Checks every filter; errors are named `<prefix>.<filter>` (the
    /// incident route uses `query`). A query must name at least one
    /// filter: an incident never takes every case.
    pub fn parse(input: &CaseQueryInput, prefix: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let field = |name: &str| format!("{prefix}.{name}");
        let queue = input
            .queue
            .as_deref()
            .and_then(|q| errors.take(&field("queue"), parse_code(q)));
        let mut statuses = Vec::new();
        for status in input.status.iter().flat_map(|s| s.split(',')) {
            let status = status.trim();
            if status.is_empty() {
                continue;
            }
            if let Some(status) = errors.take(&field("status"), status.parse::<CaseStatus>()) {
                if !statuses.contains(&status) {
                    statuses.push(status);
                }
            }
        }
        let assignee = input.assignee.as_deref().and_then(|name| match name {
            "me" => Some(Assignee::Me),
            name => errors
                .take(&field("assignee"), UserName::parse(name))
                .map(Assignee::Named),
        });
        let subject = match (&input.subject_kind, &input.subject_id) {
            (None, None) => None,
            (Some(kind), Some(id)) => {
                let kind = errors.take(&field("subject_kind"), kind.parse::<SubjectKind>());
                let id = errors.take(&field("subject_id"), PlatformId::parse(id));
                kind.zip(id).map(|(kind, id)| SubjectRef::new(kind, id))
            }
            _ => {
                errors.push(
                    field("subject_kind"),
                    "subject_kind and subject_id go together",
                );
                None
            }
        };
        let category = input
            .category
            .as_deref()
            .and_then(|c| errors.take(&field("category"), TaxonomyCode::parse(c)));
        let severity = input
            .severity
            .as_deref()
            .and_then(|s| errors.take(&field("severity"), s.parse::<Severity>()));
        let language = input
            .language
            .as_deref()
            .and_then(|l| errors.take(&field("language"), LanguageTag::parse(l)));
        let query = CaseQuery {
            queue,
            statuses,
            assignee,
            subject,
            category,
            severity,
            language,
        };
        if errors.is_empty() && query == CaseQuery::default() {
            errors.push(
                prefix,
                "name at least one filter (queue, status, assignee, subject, category, severity or language)",
            );
        }
        errors.finish(|| query)
    }

    /// Whether `case` matches; `assignee` is the user the assignee filter
    /// names, resolved by the caller (`me`, or the named user's id).
    pub fn matches(&self, case: &CaseQueryFacts, assignee: Option<UserId>) -> bool {
        let language = |wanted: &LanguageTag| {
            case.language.as_ref().is_some_and(|have| {
                let (have, wanted) = (have.as_str(), wanted.as_str());
                have.eq_ignore_ascii_case(wanted)
                    || (have.len() > wanted.len()
                        && have.is_char_boundary(wanted.len())
                        && have[..wanted.len()].eq_ignore_ascii_case(wanted)
                        && have.as_bytes()[wanted.len()] == b'-')
            })
        };
        self.queue.as_ref().is_none_or(|q| *q == case.queue)
            && (self.statuses.is_empty() || self.statuses.contains(&case.status))
            && self
                .assignee
                .as_ref()
                .is_none_or(|_| assignee.is_some() && case.assignee == assignee)
            && self.subject.as_ref().is_none_or(|s| *s == case.subject)
            && self
                .category
                .as_ref()
                .is_none_or(|c| c.as_str() == case.category)
            && self.severity.is_none_or(|s| s == case.severity)
            && self.language.as_ref().is_none_or(language)
    }
}

/// `POST /api/v1/incidents/{id}/cases` as sent: ids or a query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipInput {
    /// Case ids.
    pub case_ids: Option<Vec<i64>>,
    /// A query.
    pub query: Option<CaseQueryInput>,
}

/// Which cases join, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// These cases (each once).
    Ids(Vec<CaseId>),
    /// The cases matching.
    Query(CaseQuery),
}

impl Membership {
    /// Checks the body: exactly one of `case_ids` (1 to
    /// [`INCIDENT_CASES_MAX`] positive ids) and `query`.
    pub fn parse(input: &MembershipInput) -> Result<Self, FieldErrors> {
        match (&input.case_ids, &input.query) {
            (Some(_), Some(_)) | (None, None) => Err(FieldError::new(
                "case_ids",
                "give either case_ids or query, not both or neither",
            )
            .into()),
            (None, Some(query)) => CaseQuery::parse(query, "query").map(Membership::Query),
            (Some(ids), None) => {
                if ids.is_empty() {
                    return Err(FieldError::new("case_ids", "must not be empty").into());
                }
                if ids.len() > INCIDENT_CASES_MAX {
                    return Err(FieldError::new(
                        "case_ids",
                        format!("at most {INCIDENT_CASES_MAX} cases, got {}", ids.len()),
                    )
                    .into());
                }
                let bad: Vec<i64> = ids.iter().copied().filter(|id| *id <= 0).collect();
                if !bad.is_empty() {
                    return Err(FieldError::new(
                        "case_ids",
                        format!("case ids are positive; refused: {}", name_ids(&bad)),
                    )
                    .into());
                }
                let mut seen = BTreeSet::new();
                Ok(Membership::Ids(
                    ids.iter()
                        .copied()
                        .filter(|id| seen.insert(*id))
                        .map(CaseId)
                        .collect(),
                ))
            }
        }
    }

    /// The field a refusal names: `case_ids` or `query`.
    fn field(&self) -> &'static str {
        match self {
            Membership::Ids(_) => "case_ids",
            Membership::Query(_) => "query",
        }
    }
}

fn name_ids(ids: &[i64]) -> String {
    let named: Vec<String> = ids
        .iter()
        .take(BAD_IDS_NAMED_MAX)
        .map(i64::to_string)
        .collect();
    match ids.len().saturating_sub(BAD_IDS_NAMED_MAX) {
        0 => named.join(", "),
        more => format!("{} and {more} more", named.join(", ")),
    }
}

/// What the store finds for a membership, in its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipFacts {
    /// Cases in the incident now.
    pub members: usize,
    /// The cases found that the caller may see: for ids, those of the ids
    /// that exist; for a query, at most [`INCIDENT_CASES_MAX`] + 1 matches.
    pub found: Vec<CaseId>,
    /// Of those, the ones already in the incident.
    pub already_members: Vec<CaseId>,
}

/// The cases to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipPlan {
    /// Cases that join.
    pub add: Vec<CaseId>,
    /// Cases that were members already (nothing changes for them).
    pub already_members: usize,
}

/// Plans a membership. Refuses ids that are unknown or not visible (named
/// alike: an invisible case is not confirmed), a query matching more than
/// [`INCIDENT_CASES_MAX`] cases, and an incident that would pass
/// [`INCIDENT_CASES_MAX`] cases.
pub fn plan_membership(
    membership: &Membership,
    facts: &MembershipFacts,
) -> Result<MembershipPlan, FieldErrors> {
    let field = membership.field();
    match membership {
        Membership::Ids(ids) => {
            let found: BTreeSet<CaseId> = facts.found.iter().copied().collect();
            let unknown: Vec<i64> = ids
                .iter()
                .filter(|id| !found.contains(id))
                .map(|id| id.0)
                .collect();
            if !unknown.is_empty() {
                return Err(FieldError::new(
                    field,
                    format!("no case {} is known to you", name_ids(&unknown)),
                )
                .into());
            }
        }
        Membership::Query(_) => {
            if facts.found.len() > INCIDENT_CASES_MAX {
                return Err(FieldError::new(
                    field,
                    format!("matches more than {INCIDENT_CASES_MAX} cases; narrow it"),
                )
                .into());
            }
        }
    }
    let already: BTreeSet<CaseId> = facts.already_members.iter().copied().collect();
    let add: Vec<CaseId> = facts
        .found
        .iter()
        .copied()
        .filter(|id| !already.contains(id))
        .collect();
    if facts.members + add.len() > INCIDENT_CASES_MAX {
        return Err(FieldError::new(
            field,
            format!(
                "the incident has {} cases; {} more would pass the {INCIDENT_CASES_MAX} an incident holds",
                facts.members,
                add.len()
            ),
        )
        .into());
    }
    Ok(MembershipPlan {
        already_members: facts.found.len() - add.len(),
        add,
    })
}
