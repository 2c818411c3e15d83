//! Queue routing: which queue a new case goes to, by category, source,
//! severity and language, and who may see and work each queue.
//!
//! Visibility is admission: a principal sees a queue's cases exactly when
//! the queue admits them ([`QueueDefinition::admits`]: its roles, if any,
//! include their role, and its teams, if any, share one of theirs). Their
//! permissions still decide what they may do there (an admitted auditor
//! reads, never claims). [`Router::scope_for`] turns that into the set of
//! queues whose cases someone may see, which the store applies to lists
//! and counts.

use std::collections::BTreeSet;

use crate::access::{sees_unrouted_cases, Principal, Role};
use crate::case::{add_priority, Severity};
use crate::intake::ReportSource;
use crate::sla::{SlaDeadlines, SlaPolicy};
use crate::taxonomy::Taxonomy;
use crate::{FieldError, Timestamp};

/// One queue and the cases it takes.
#[derive(Debug, Clone)]
pub struct QueueDefinition {
    /// The queue's name, a code.
    pub name: String,
    /// A sentence on what the queue is for.
    pub description: String,
    /// Categories it takes; empty means any.
    pub categories: Vec<String>,
    /// Sources it takes; empty means any.
    pub sources: Vec<ReportSource>,
    /// Least severity it takes.
    pub severity_min: Severity,
    /// Languages it takes (primary subtag, e.g. `de`); empty means any.
    pub languages: Vec<String>,
    /// Roles it admits; empty means every role. Admitted roles see its
    /// cases; those that can work cases claim them.
    pub roles: Vec<Role>,
    /// Teams it admits; empty means no team is needed. A user must be in
    /// one of them (besides having an admitted role) to see its cases.
    pub teams: Vec<String>,
    /// SLA targets for its cases.
    pub sla: SlaPolicy,
    /// Whether routing sends new cases here; escalation queues only receive
    /// cases moved to them.
    pub accepts_new: bool,
}

impl QueueDefinition {
    /// A queue that takes everything, with default SLAs.
    pub fn catch_all(name: &str) -> Self {
        Self {
            name: name.to_string(),
            description: "Everything no other queue takes.".into(),
            categories: Vec::new(),
            sources: Vec::new(),
            severity_min: Severity::Low,
            languages: Vec::new(),
            roles: Vec::new(),
            teams: Vec::new(),
            sla: SlaPolicy::default(),
            accepts_new: true,
        }
    }

    /// Whether a case with these traits belongs here.
    pub fn takes(&self, item: &RoutingInput<'_>) -> bool {
        self.accepts_new
            && (self.categories.is_empty() || self.categories.iter().any(|c| c == item.category))
            && (self.sources.is_empty() || self.sources.contains(&item.source))
            && item.severity >= self.severity_min
            && (self.languages.is_empty()
                || item.language.is_some_and(|language| {
                    let primary = language.split('-').next().unwrap_or(language);
                    self.languages.iter().any(|l| {
                        l.eq_ignore_ascii_case(primary) || l.eq_ignore_ascii_case(language)
                    })
                }))
    }

    /// Whether a user with `role` and `teams` is admitted: may see this
    /// queue's cases (and, with `case.work`, claim them). Both the roles and
    /// the teams must let them in; an empty list lets everyone in.
    pub fn admits(&self, role: Role, teams: &[String]) -> bool {
        (self.roles.is_empty() || self.roles.contains(&role))
            && (self.teams.is_empty() || self.teams.iter().any(|t| teams.contains(t)))
    }

    /// Whether `principal` is admitted.
    pub fn admits_principal(&self, principal: &Principal) -> bool {
        self.admits(principal.role, &principal.teams)
    }

    /// Who it is restricted to, in words (`analyst, lead; team child_safety`),
    /// or an empty string when it admits everyone.
    pub fn restriction(&self) -> String {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.as_str()).collect();
        match (roles.is_empty(), self.teams.is_empty()) {
            (true, true) => String::new(),
            (false, true) => roles.join(", "),
            (true, false) => format!("team {}", self.teams.join(", ")),
            (false, false) => format!("{}; team {}", roles.join(", "), self.teams.join(", ")),
        }
    }
}

/// The queues whose cases someone may see, as the store filters by them.
/// The default, [`QueueScope::Every`], is for Warden itself (metrics,
/// workers, the command line); a person's reads use [`Router::scope_for`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum QueueScope {
    /// Every queue.
    #[default]
    Every,
    /// Only cases in these queues.
    Only(BTreeSet<String>),
    /// Every case except those in these queues.
    AllBut(BTreeSet<String>),
}

impl QueueScope {
    /// Whether cases in `queue` are in scope.
    pub fn contains(&self, queue: &str) -> bool {
        match self {
            QueueScope::Every => true,
            QueueScope::Only(queues) => queues.contains(queue),
            QueueScope::AllBut(queues) => !queues.contains(queue),
        }
    }
}

/// The traits of a new case that routing looks at.
#[derive(Debug, Clone, Copy)]
pub struct RoutingInput<'a> {
    /// Taxonomy code.
    pub category: &'a str,
    /// Source of the report that opens the case.
    pub source: ReportSource,
    /// The case's severity.
    pub severity: Severity,
    /// Language, if known.
    pub language: Option<&'a str>,
}

/// Queues in the order they are tried; the first that takes a case gets it.
#[derive(Debug, Clone)]
pub struct Router {
    queues: Vec<QueueDefinition>,
}

impl Router {
    /// Builds a router. A catch-all queue named `general` is appended when no
    /// queue takes everything, so that every case lands somewhere.
    pub fn new(mut queues: Vec<QueueDefinition>) -> Result<Self, String> {
        let mut names = std::collections::BTreeSet::new();
        for queue in &queues {
            crate::ids::parse_code(&queue.name)
                .map_err(|reason| format!("queue name {:?} {reason}", queue.name))?;
            if !names.insert(queue.name.clone()) {
                return Err(format!("queue {:?} is defined twice", queue.name));
            }
            if queue.teams.len() > crate::limits::TEAMS_PER_QUEUE_MAX {
                return Err(format!(
                    "queue {:?} names more than {} teams",
                    queue.name,
                    crate::limits::TEAMS_PER_QUEUE_MAX
                ));
            }
            for team in &queue.teams {
                crate::ids::parse_code(team)
                    .map_err(|reason| format!("queue {:?}: team {team:?} {reason}", queue.name))?;
            }
        }
        let has_catch_all = queues.iter().any(|q| {
            q.accepts_new
                && q.categories.is_empty()
                && q.sources.is_empty()
                && q.severity_min == Severity::Low
                && q.languages.is_empty()
        });
        if !has_catch_all {
            if names.contains("general") {
                return Err("no queue takes every case, and `general` is taken by a narrower queue; add a catch-all queue".into());
            }
            queues.push(QueueDefinition::catch_all("general"));
        }
        Ok(Self { queues })
    }

    /// The queue a new case goes to.
    pub fn route(&self, item: &RoutingInput<'_>) -> &QueueDefinition {
        self.queues
            .iter()
            .find(|queue| queue.takes(item))
            .or_else(|| self.queues.iter().rev().find(|queue| queue.accepts_new))
            // cannot fail: Router::new always adds a catch-all queue that accepts new cases.
            .expect("a router always has a catch-all queue that accepts new cases")
    }

    /// The queue named `name`.
    pub fn queue(&self, name: &str) -> Option<&QueueDefinition> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// Every queue, in routing order.
    pub fn queues(&self) -> &[QueueDefinition] {
        &self.queues
    }

    /// Whether a user with `role` and `teams` may see cases in `queue`. A
    /// queue that is not configured (any more) admits only those who see
    /// unrouted cases (leads and auditors).
    pub fn sees(&self, role: Role, teams: &[String], queue: &str) -> bool {
        match self.queue(queue) {
            Some(definition) => definition.admits(role, teams),
            None => sees_unrouted_cases(role),
        }
    }

    /// The queues whose cases `principal` may see.
    pub fn scope_for(&self, principal: &Principal) -> QueueScope {
        let (admitted, refused): (Vec<&QueueDefinition>, Vec<&QueueDefinition>) = self
            .queues
            .iter()
            .partition(|q| q.admits_principal(principal));
        if sees_unrouted_cases(principal.role) {
            QueueScope::AllBut(refused.into_iter().map(|q| q.name.clone()).collect())
        } else {
            QueueScope::Only(admitted.into_iter().map(|q| q.name.clone()).collect())
        }
    }
}

/// The severity of a new case: the category's, raised to at least high for
/// legal notices, which carry deadlines of their own.
pub fn case_severity(category_severity: Severity, source: ReportSource) -> Severity {
    match source {
        ReportSource::LegalNotice => category_severity.max(Severity::High),
        _ => category_severity,
    }
}

/// What a case-opening item counts as on its case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseItemKind {
    /// A report: counted in the case's reports.
    Report,
    /// A case-opening signal (a classifier's or a rule's): counted in its
    /// signals.
    Signal,
}

impl CaseItemKind {
    /// The (reports, signals) the item adds to its case's counts.
    pub fn counts(self) -> (i64, i64) {
        match self {
            Self::Report => (1, 0),
            Self::Signal => (0, 1),
        }
    }

    /// Why a case it opens was opened, as the case's first transition says.
    pub fn opening_reason(self) -> &'static str {
        match self {
            Self::Report => "report received",
            Self::Signal => "signal received",
        }
    }
}

/// A report or signal that opens a case or joins the open one about the
/// same subject and category: the facts routing needs.
#[derive(Debug, Clone, Copy)]
pub struct CaseItem<'a> {
    /// Taxonomy code.
    pub category: &'a str,
    /// Where the item came from.
    pub source: ReportSource,
    /// Language, if known.
    pub language: Option<&'a str>,
    /// The priority weight it adds to its case.
    pub weight: i64,
    /// Report or signal.
    pub kind: CaseItemKind,
    /// A queue named by the item (a rule's outcome) instead of routing's;
    /// a name no queue has is ignored.
    pub queue: Option<&'a str>,
    /// A severity set by the item (a rule's) instead of the category's.
    pub severity: Option<Severity>,
}

/// The open case an item joins, as the store loads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenCaseFacts {
    /// Its priority now.
    pub priority: i64,
    /// Its severity now.
    pub severity: Severity,
}

/// Where a case-opening item goes: the case it opens when there is no open
/// case about its subject and category ([`CasePlan::queue`] and the rest),
/// or, when there is one, what joining it changes ([`CasePlan::join`]).
#[derive(Debug, Clone, Copy)]
pub struct CasePlan<'p> {
    /// The queue a new case goes to.
    pub queue: &'p QueueDefinition,
    /// The item's severity: the new case's, and the least the open case
    /// it joins ends with.
    pub severity: Severity,
    /// A new case's priority (the item's weight, within the bounds).
    pub priority: i64,
    /// A new case's SLA deadlines, from its queue's targets.
    pub deadlines: SlaDeadlines,
    /// What the item counts as.
    pub kind: CaseItemKind,
    weight: i64,
}

/// What joining the open case changes on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinPlan {
    /// Its new priority: the old one plus the item's weight, within bounds.
    pub priority: i64,
    /// Its new severity: a more severe item (a legal notice on a spam case)
    /// raises it, a milder one leaves it; deadlines already running stay.
    pub severity: Severity,
}

/// Plans where `item` goes at `now`: its severity is its own (a rule's) or
/// its category's, raised for legal notices; its queue the one it names, or
/// the first that takes it. A category the taxonomy does not know is
/// refused, naming the field.
pub fn plan_case<'p>(
    taxonomy: &Taxonomy,
    router: &'p Router,
    item: &CaseItem<'_>,
    now: Timestamp,
) -> Result<CasePlan<'p>, FieldError> {
    let category_severity = taxonomy
        .get(item.category)
        .map(|c| c.severity)
        .ok_or_else(|| {
            FieldError::new(
                "category",
                format!("unknown taxonomy code {:?}", item.category),
            )
        })?;
    let severity = case_severity(item.severity.unwrap_or(category_severity), item.source);
    let routed = RoutingInput {
        category: item.category,
        source: item.source,
        severity,
        language: item.language,
    };
    let queue = item
        .queue
        .and_then(|name| router.queue(name))
        .unwrap_or_else(|| router.route(&routed));
    Ok(CasePlan {
        queue,
        severity,
        priority: add_priority(0, item.weight),
        deadlines: queue.sla.deadlines(severity, now),
        kind: item.kind,
        weight: item.weight,
    })
}

impl CasePlan<'_> {
    /// What joining `open` instead of opening a case changes on it.
    pub fn join(&self, open: OpenCaseFacts) -> JoinPlan {
        JoinPlan {
            priority: add_priority(open.priority, self.weight),
            severity: open.severity.max(self.severity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(name: &str, categories: &[&str]) -> QueueDefinition {
        QueueDefinition {
            categories: categories.iter().map(|c| c.to_string()).collect(),
            ..QueueDefinition::catch_all(name)
        }
    }

    fn input(category: &str) -> RoutingInput<'_> {
        RoutingInput {
            category,
            source: ReportSource::UserReport,
            severity: Severity::Low,
            language: Some("de-AT"),
        }
    }

    #[test]
    fn first_matching_queue_wins_and_catch_all_is_added() {
        let router = Router::new(vec![queue("spam", &["spam"])]).unwrap();
        assert_eq!(router.route(&input("spam")).name, "spam");
        assert_eq!(router.route(&input("hate")).name, "general");
    }

    #[test]
    fn languages_match_primary_subtag() {
        let mut german = queue("german", &[]);
        german.languages = vec!["de".into()];
        let router = Router::new(vec![german]).unwrap();
        assert_eq!(router.route(&input("spam")).name, "german");
        let mut english = input("spam");
        english.language = Some("en");
        assert_eq!(router.route(&english).name, "general");
    }

    #[test]
    fn escalation_queues_take_no_new_cases() {
        let mut escalations = queue("escalations", &[]);
        escalations.accepts_new = false;
        let router = Router::new(vec![escalations]).unwrap();
        assert_eq!(router.route(&input("spam")).name, "general");
        assert!(router.queue("escalations").is_some());
    }

    fn principal(role: Role, teams: &[&str]) -> Principal {
        Principal {
            user_id: 1,
            name: "p".into(),
            role,
            teams: teams.iter().map(|t| t.to_string()).collect(),
            scope: None,
        }
    }

    #[test]
    fn admission_needs_the_role_and_a_team() {
        let mut restricted = queue("child-safety", &["child_safety"]);
        restricted.roles = vec![Role::Analyst, Role::Lead];
        restricted.teams = vec!["child_safety".into()];
        let team = ["child_safety".to_string()];
        assert!(restricted.admits(Role::Analyst, &team));
        assert!(!restricted.admits(Role::Analyst, &[]), "no team");
        assert!(
            !restricted.admits(Role::Associate, &team),
            "role not admitted"
        );
        assert!(!restricted.admits(Role::Analyst, &["legal".to_string()]));
        assert_eq!(restricted.restriction(), "analyst, lead; team child_safety");
        let open = queue("spam", &["spam"]);
        assert!(open.admits(Role::Qa, &[]));
        assert_eq!(open.restriction(), "");
    }

    #[test]
    fn scopes_list_what_a_principal_sees() {
        let mut restricted = queue("child-safety", &["child_safety"]);
        restricted.roles = vec![Role::Analyst, Role::Lead, Role::Auditor];
        restricted.teams = vec!["child_safety".into()];
        let router = Router::new(vec![restricted]).unwrap();
        let outsider = router.scope_for(&principal(Role::Analyst, &[]));
        assert!(outsider.contains("general"));
        assert!(!outsider.contains("child-safety"));
        assert!(
            !outsider.contains("removed-queue"),
            "unrouted cases: leads and auditors only"
        );
        let member = router.scope_for(&principal(Role::Analyst, &["child_safety"]));
        assert!(member.contains("child-safety"));
        let lead = router.scope_for(&principal(Role::Lead, &[]));
        assert!(!lead.contains("child-safety"), "a lead needs the team too");
        assert!(lead.contains("removed-queue"));
        assert!(router.sees(Role::Auditor, &["child_safety".into()], "child-safety"));
        assert!(!router.sees(Role::Qa, &["child_safety".into()], "child-safety"));
        assert!(QueueScope::Every.contains("anything"));
    }

    #[test]
    fn duplicate_queue_names_are_refused() {
        assert!(Router::new(vec![queue("a", &[]), queue("a", &[])]).is_err());
    }

    #[test]
    fn legal_notices_are_at_least_high() {
        assert_eq!(
            case_severity(Severity::Low, ReportSource::LegalNotice),
            Severity::High
        );
        assert_eq!(
            case_severity(Severity::Low, ReportSource::UserReport),
            Severity::Low
        );
    }
    fn report(category: &str, weight: i64) -> CaseItem<'_> {
        CaseItem {
            category,
            source: ReportSource::UserReport,
            language: Some("de-AT"),
            weight,
            kind: CaseItemKind::Report,
            queue: None,
            severity: None,
        }
    }

    fn now() -> Timestamp {
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 20, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_case_plan_routes_by_category_severity_and_queue_targets() {
        let mut spam = queue("spam", &["spam"]);
        spam.sla
            .set_target(
                Severity::Low,
                crate::sla::SlaTarget {
                    first_touch: chrono::Duration::hours(2),
                    resolution: chrono::Duration::hours(48),
                },
            )
            .unwrap();
        let router = Router::new(vec![spam]).unwrap();
        let taxonomy = Taxonomy::default();
        let plan = plan_case(&taxonomy, &router, &report("spam", 10), now()).unwrap();
        assert_eq!(plan.queue.name, "spam");
        assert_eq!(plan.severity, Severity::Low);
        assert_eq!(plan.priority, 10);
        assert_eq!(
            plan.deadlines.first_touch_due_at,
            now() + chrono::Duration::hours(2)
        );
        assert_eq!(
            plan.deadlines.resolve_due_at,
            now() + chrono::Duration::hours(48)
        );
        assert_eq!(plan.kind.counts(), (1, 0));
        assert_eq!(plan.kind.opening_reason(), "report received");
        // A category's own severity, and a legal notice raised to high.
        let scam = plan_case(&taxonomy, &router, &report("scam", 1), now()).unwrap();
        assert_eq!(
            (scam.queue.name.as_str(), scam.severity),
            ("general", Severity::High)
        );
        let mut notice = report("spam", 1);
        notice.source = ReportSource::LegalNotice;
        assert_eq!(
            plan_case(&taxonomy, &router, &notice, now())
                .unwrap()
                .severity,
            Severity::High
        );
    }

    #[test]
    fn a_case_plan_follows_the_items_queue_and_severity_when_named() {
        let mut escalations = queue("escalations", &[]);
        escalations.accepts_new = false;
        let router = Router::new(vec![queue("spam", &["spam"]), escalations]).unwrap();
        let taxonomy = Taxonomy::default();
        let mut ruled = report("spam", 1);
        ruled.kind = CaseItemKind::Signal;
        ruled.queue = Some("escalations");
        ruled.severity = Some(Severity::Critical);
        let plan = plan_case(&taxonomy, &router, &ruled, now()).unwrap();
        assert_eq!(
            plan.queue.name, "escalations",
            "a named queue takes it even if closed to routing"
        );
        assert_eq!(plan.severity, Severity::Critical);
        assert_eq!(plan.kind.counts(), (0, 1));
        assert_eq!(plan.kind.opening_reason(), "signal received");
        ruled.queue = Some("no_such_queue");
        assert_eq!(
            plan_case(&taxonomy, &router, &ruled, now())
                .unwrap()
                .queue
                .name,
            "spam"
        );
    }

    #[test]
    fn an_unknown_category_is_refused_by_field() {
        let router = Router::new(Vec::new()).unwrap();
        let error =
            plan_case(&Taxonomy::default(), &router, &report("nope", 1), now()).unwrap_err();
        assert_eq!(error.field, "category");
        assert!(error.reason.contains("\"nope\""), "{}", error.reason);
    }

    #[test]
    fn priorities_stay_within_bounds_at_the_limit() {
        use crate::limits::CASE_PRIORITY_MAX;
        let router = Router::new(Vec::new()).unwrap();
        let taxonomy = Taxonomy::default();
        let plan = |weight| plan_case(&taxonomy, &router, &report("spam", weight), now()).unwrap();
        assert_eq!(plan(CASE_PRIORITY_MAX).priority, CASE_PRIORITY_MAX);
        assert_eq!(plan(CASE_PRIORITY_MAX + 1).priority, CASE_PRIORITY_MAX);
        assert_eq!(plan(i64::MAX).priority, CASE_PRIORITY_MAX);
        assert_eq!(plan(-1).priority, 0);
        let open = |priority| OpenCaseFacts {
            priority,
            severity: Severity::Low,
        };
        assert_eq!(
            plan(1).join(open(CASE_PRIORITY_MAX - 1)).priority,
            CASE_PRIORITY_MAX
        );
        assert_eq!(
            plan(1).join(open(CASE_PRIORITY_MAX)).priority,
            CASE_PRIORITY_MAX
        );
        assert_eq!(
            plan(i64::MAX).join(open(CASE_PRIORITY_MAX)).priority,
            CASE_PRIORITY_MAX
        );
    }

    #[test]
    fn joining_raises_severity_and_never_lowers_it() {
        let router = Router::new(Vec::new()).unwrap();
        let taxonomy = Taxonomy::default();
        let mut notice = report("spam", 5);
        notice.source = ReportSource::LegalNotice;
        let plan = plan_case(&taxonomy, &router, &notice, now()).unwrap();
        let joined = plan.join(OpenCaseFacts {
            priority: 7,
            severity: Severity::Low,
        });
        assert_eq!(
            joined,
            JoinPlan {
                priority: 12,
                severity: Severity::High
            }
        );
        let critical = OpenCaseFacts {
            priority: 0,
            severity: Severity::Critical,
        };
        assert_eq!(plan.join(critical).severity, Severity::Critical);
    }
}
