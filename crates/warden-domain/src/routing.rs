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
use crate::case::Severity;
use crate::intake::ReportSource;
use crate::sla::SlaPolicy;

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
}
