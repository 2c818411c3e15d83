//! Queue routing: which queue a new case goes to, by category, source,
//! severity and language, and who may work each queue.

use crate::access::Role;
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
    /// Roles that may claim from it; empty means every role that can work cases.
    pub roles: Vec<Role>,
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

    /// Whether `role` may claim cases here.
    pub fn admits(&self, role: Role) -> bool {
        self.roles.is_empty() || self.roles.contains(&role)
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
