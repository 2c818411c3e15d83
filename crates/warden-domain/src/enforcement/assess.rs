//! The matrix's view of one decision and the decision rights: how the
//! chosen actions depart from the recommendation, and which of them wait
//! for a lead's approval (beyond the matrix, a ban on a first offence,
//! anything on a protected account).

use std::fmt;

use chrono::Duration;
use serde_json::Value;

use super::policy::spec;
use super::policy::{EnforcementPolicy, Rung};
use crate::case::Severity;
use crate::decision::{ActionKind, ActionSpec};
use crate::ids::SubjectKind;

/// Why an action waits for a lead's approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalReason {
    /// It goes further than the matrix recommends.
    BeyondMatrix,
    /// A ban on an account with no prior active strike.
    BanOnFirstOffence,
    /// The account carries a protected tag.
    ProtectedAccount(String),
}

impl ApprovalReason {
    /// A stable code.
    pub fn code(&self) -> String {
        match self {
            ApprovalReason::BeyondMatrix => "beyond_matrix".into(),
            ApprovalReason::BanOnFirstOffence => "ban_on_first_offence".into(),
            ApprovalReason::ProtectedAccount(tag) => format!("protected_account:{tag}"),
        }
    }

    /// Reads a code back.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "beyond_matrix" => Some(ApprovalReason::BeyondMatrix),
            "ban_on_first_offence" => Some(ApprovalReason::BanOnFirstOffence),
            other => other
                .strip_prefix("protected_account:")
                .map(|tag| ApprovalReason::ProtectedAccount(tag.to_string())),
        }
    }
}

impl fmt::Display for ApprovalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApprovalReason::BeyondMatrix => f.write_str("goes beyond the enforcement matrix"),
            ApprovalReason::BanOnFirstOffence => f.write_str("a ban on a first offence"),
            ApprovalReason::ProtectedAccount(tag) => {
                write!(f, "the account is tagged {tag}")
            }
        }
    }
}

/// How the chosen actions differ from the recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// Harsher than recommended.
    Above,
    /// Milder than recommended, or no account action where one was recommended.
    Below,
}

impl Departure {
    /// The name used in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Departure::Above => "above",
            Departure::Below => "below",
        }
    }

    /// Reads a name back.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "above" => Some(Departure::Above),
            "below" => Some(Departure::Below),
            _ => None,
        }
    }
}

/// What the facts of one decision are, for [`assess`].
#[derive(Debug, Clone)]
pub struct Situation<'a> {
    /// The decided category.
    pub category: &'a str,
    /// The decision's severity.
    pub severity: Severity,
    /// Sum of the weights of the account's active strikes before this decision.
    pub prior_strike_weight: i64,
    /// What kind of subject the case is about.
    pub subject_kind: SubjectKind,
    /// Whether an account can be acted on (the subject is one, or has an owner).
    pub has_account: bool,
    /// The account's tags.
    pub account_tags: &'a [String],
}

/// The matrix's view of one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The recommended actions (a content action and the account's rung).
    pub recommendation: Vec<ActionSpec>,
    /// How the chosen actions depart from it, if they do.
    pub departure: Option<Departure>,
    /// For each chosen action, why it needs approval (empty: standard).
    pub approvals: Vec<Vec<ApprovalReason>>,
}

impl Assessment {
    /// Whether any chosen action waits for approval.
    pub fn needs_approval(&self) -> bool {
        self.approvals.iter().any(|reasons| !reasons.is_empty())
    }
}

/// Orders durations with `None` (lasting) as the longest.
fn duration_rank(duration: Option<Duration>) -> i64 {
    duration.map_or(i64::MAX, |d| d.num_seconds())
}

/// The content action the matrix recommends for a subject of `kind`.
fn content_action(kind: SubjectKind) -> Option<ActionSpec> {
    match kind {
        SubjectKind::Content | SubjectKind::Message | SubjectKind::Listing | SubjectKind::Media => {
            Some(spec(ActionKind::RemoveContent, None))
        }
        SubjectKind::Transaction => Some(spec(ActionKind::HoldTransaction, None)),
        SubjectKind::Account => None,
    }
}

/// Compares the chosen actions of a violation with the matrix and applies
/// the decision rights. Content actions are always standard; account
/// actions are compared by rung, then by duration.
pub fn assess(
    policy: &EnforcementPolicy,
    situation: &Situation<'_>,
    chosen: &[ActionSpec],
) -> Assessment {
    let account_action = if situation.has_account {
        policy.recommended_account_action(
            situation.category,
            situation.severity,
            situation.prior_strike_weight,
        )
    } else {
        None
    };
    let mut recommendation = Vec::new();
    recommendation.extend(content_action(situation.subject_kind));
    recommendation.extend(account_action.clone());
    let recommended_rank = account_action
        .as_ref()
        .and_then(|a| Rung::of(&a.kind).map(|r| (r, duration_rank(a.duration))));
    let chosen_rank = chosen
        .iter()
        .filter_map(|a| Rung::of(&a.kind).map(|r| (r, duration_rank(a.duration))))
        .max();
    let departure = match (chosen_rank, recommended_rank) {
        (Some(chosen), Some(recommended)) if chosen > recommended => Some(Departure::Above),
        (Some(chosen), Some(recommended)) if chosen < recommended => Some(Departure::Below),
        (Some(_), None) => Some(Departure::Above),
        (None, Some(_)) => Some(Departure::Below),
        _ => None,
    };
    let protected: Vec<&String> = situation
        .account_tags
        .iter()
        .filter(|tag| policy.protected_tags.contains(tag))
        .collect();
    let approvals = chosen
        .iter()
        .map(|action| {
            let mut reasons = Vec::new();
            if let Some(rung) = Rung::of(&action.kind) {
                let rank = (rung, duration_rank(action.duration));
                if recommended_rank.is_none_or(|recommended| rank > recommended) {
                    reasons.push(ApprovalReason::BeyondMatrix);
                }
                if rung == Rung::Ban && situation.prior_strike_weight <= 0 {
                    reasons.push(ApprovalReason::BanOnFirstOffence);
                }
            }
            for tag in &protected {
                reasons.push(ApprovalReason::ProtectedAccount((*tag).clone()));
            }
            reasons
        })
        .collect();
    Assessment {
        recommendation,
        departure,
        approvals,
    }
}

/// Reads an account's tags from its attributes: a `tags` list, or `true`
/// flags named like a tag (`{"partner": true}`). Tags are compared in
/// lower case with `-` read as `_`.
pub fn account_tags(attributes: &Value) -> Vec<String> {
    let normalise = |tag: &str| tag.trim().to_lowercase().replace('-', "_");
    let mut tags: Vec<String> = Vec::new();
    if let Some(list) = attributes.get("tags").and_then(Value::as_array) {
        tags.extend(list.iter().filter_map(Value::as_str).map(normalise));
    }
    if let Some(map) = attributes.as_object() {
        for (key, value) in map {
            if value == &Value::Bool(true) {
                tags.push(normalise(key));
            }
        }
    }
    tags.sort();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::format_iso8601_duration;
    use crate::taxonomy::Taxonomy;
    use serde_json::json;

    fn policy() -> EnforcementPolicy {
        EnforcementPolicy::default_for(&Taxonomy::default())
    }

    fn situation<'a>(category: &'a str, severity: Severity, strikes: i64) -> Situation<'a> {
        Situation {
            category,
            severity,
            prior_strike_weight: strikes,
            subject_kind: SubjectKind::Content,
            has_account: true,
            account_tags: &[],
        }
    }

    fn types(actions: &[ActionSpec]) -> Vec<String> {
        actions
            .iter()
            .map(|a| match a.duration {
                Some(d) => format!("{}:{}", a.kind, format_iso8601_duration(d)),
                None => a.kind.to_string(),
            })
            .collect()
    }

    #[test]
    fn the_matrix_climbs_with_prior_strikes() {
        let policy = policy();
        let rec = |severity, strikes| {
            types(&assess(&policy, &situation("spam", severity, strikes), &[]).recommendation)
        };
        assert_eq!(rec(Severity::Low, 0), ["remove_content", "warn"]);
        assert_eq!(rec(Severity::Low, 2), ["remove_content", "warn"]);
        assert_eq!(rec(Severity::Low, 3), ["remove_content", "restrict:P3D"]);
        assert_eq!(rec(Severity::Low, 6), ["remove_content", "suspend:P7D"]);
        assert_eq!(rec(Severity::Low, 50), ["remove_content", "ban"]);
        assert_eq!(rec(Severity::High, 0), ["remove_content", "suspend:P3D"]);
        assert_eq!(rec(Severity::Critical, 0), ["remove_content", "ban"]);
        // A category row beats the severity rows.
        assert_eq!(
            types(
                &assess(
                    &policy,
                    &situation("account_compromise", Severity::High, 0),
                    &[]
                )
                .recommendation
            ),
            ["remove_content", "suspend:P1D"]
        );
    }

    #[test]
    fn departures_and_decision_rights() {
        let policy = policy();
        let warn = spec(ActionKind::Warn, None);
        let suspend = spec(ActionKind::Suspend, Some(7));
        let ban = spec(ActionKind::Ban, None);
        let remove = spec(ActionKind::RemoveContent, None);
        let standard = assess(
            &policy,
            &situation("spam", Severity::Low, 0),
            &[remove.clone(), warn.clone()],
        );
        assert_eq!(standard.departure, None);
        assert!(!standard.needs_approval());

        let harsher = assess(
            &policy,
            &situation("spam", Severity::Low, 0),
            &[remove.clone(), suspend.clone()],
        );
        assert_eq!(harsher.departure, Some(Departure::Above));
        assert_eq!(harsher.approvals[0], []);
        assert_eq!(harsher.approvals[1], [ApprovalReason::BeyondMatrix]);

        let milder = assess(
            &policy,
            &situation("spam", Severity::Low, 6),
            &[remove.clone(), warn.clone()],
        );
        assert_eq!(milder.departure, Some(Departure::Below));
        assert!(!milder.needs_approval());
        let nothing = assess(&policy, &situation("spam", Severity::Low, 0), &[]);
        assert_eq!(nothing.departure, Some(Departure::Below));

        // A ban on a first offence waits even where the matrix recommends it.
        let critical = assess(
            &policy,
            &situation("child_safety", Severity::Critical, 0),
            std::slice::from_ref(&ban),
        );
        assert_eq!(critical.departure, None);
        assert_eq!(critical.approvals[0], [ApprovalReason::BanOnFirstOffence]);
        let repeat = assess(
            &policy,
            &situation("child_safety", Severity::Critical, 5),
            std::slice::from_ref(&ban),
        );
        assert!(!repeat.needs_approval());

        // A longer suspension than recommended is beyond the matrix.
        let longer = assess(
            &policy,
            &situation("scam", Severity::High, 0),
            &[spec(ActionKind::Suspend, Some(30))],
        );
        assert_eq!(longer.approvals[0], [ApprovalReason::BeyondMatrix]);

        // Anything on a protected account waits.
        let tags = vec!["partner".to_string()];
        let mut protected = situation("spam", Severity::Low, 0);
        protected.account_tags = &tags;
        let on_partner = assess(&policy, &protected, &[remove, warn]);
        assert_eq!(
            on_partner.approvals[0],
            [ApprovalReason::ProtectedAccount("partner".into())]
        );
        assert_eq!(on_partner.approvals[1].len(), 1);
    }

    #[test]
    fn tags_come_from_attributes() {
        assert_eq!(
            account_tags(&json!({"tags": ["High-Visibility"], "partner": true, "verified": false})),
            ["high_visibility", "partner"]
        );
        assert!(account_tags(&Value::Null).is_empty());
    }
}
