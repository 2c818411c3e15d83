//! Decisions, the actions they order and the strikes they leave.
//!
//! A decision is immutable once made; a correction is a new decision that
//! supersedes it. Actions start `pending`: delivering them to the platform
//! is the outbox's work.

use std::fmt;

use chrono::Duration;

use crate::case::Severity;
use crate::ids::{SubjectKind, SubjectRef};
use crate::limits::{DECISION_ACTIONS_MAX, OVERRIDE_REASON_CHARS_MAX, RATIONALE_SECTION_CHARS_MAX};
use crate::FieldErrors;

/// What an action does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    /// Take content, a message, a listing or media down.
    RemoveContent,
    /// Warn the account.
    Warn,
    /// Take one feature away from the account for a while.
    Restrict {
        /// The feature, a code such as `messaging` or `posting`.
        feature: String,
    },
    /// Suspend the account for a while.
    Suspend,
    /// Ban the account for good.
    Ban,
    /// Hold a transaction.
    HoldTransaction,
    /// Put a label on the subject.
    Label {
        /// The label, a code.
        label: String,
    },
}

impl ActionKind {
    /// The wire name of the action type.
    pub fn type_name(&self) -> &'static str {
        match self {
            ActionKind::RemoveContent => "remove_content",
            ActionKind::Warn => "warn",
            ActionKind::Restrict { .. } => "restrict",
            ActionKind::Suspend => "suspend",
            ActionKind::Ban => "ban",
            ActionKind::HoldTransaction => "hold_transaction",
            ActionKind::Label { .. } => "label",
        }
    }

    /// Reads a stored action's kind back: its type name with its feature
    /// (restrictions) or label (labels). An unknown type, or a missing
    /// feature or label, is an error, never a default.
    pub fn from_stored(
        type_name: &str,
        feature: Option<&str>,
        label: Option<&str>,
    ) -> Result<ActionKind, String> {
        let required = |value: Option<&str>, what: &str| {
            value
                .map(str::to_string)
                .ok_or_else(|| format!("a {type_name} action without its {what}"))
        };
        Ok(match type_name {
            "remove_content" => ActionKind::RemoveContent,
            "warn" => ActionKind::Warn,
            "restrict" => ActionKind::Restrict {
                feature: required(feature, "feature")?,
            },
            "suspend" => ActionKind::Suspend,
            "ban" => ActionKind::Ban,
            "hold_transaction" => ActionKind::HoldTransaction,
            "label" => ActionKind::Label {
                label: required(label, "label")?,
            },
            other => return Err(format!("unknown action type {other:?}")),
        })
    }

    /// Whether the action acts on the account behind a subject rather than the subject.
    pub fn targets_account(&self) -> bool {
        matches!(
            self,
            ActionKind::Warn | ActionKind::Restrict { .. } | ActionKind::Suspend | ActionKind::Ban
        )
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// An action as ordered in a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    /// What to do.
    pub kind: ActionKind,
    /// For how long; `None` for lasting actions.
    pub duration: Option<Duration>,
}

/// The five parts of a structured rationale.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rationale {
    /// What happened.
    pub what_happened: String,
    /// The evidence seen.
    pub evidence: String,
    /// The policy that applies.
    pub policy: String,
    /// The action taken and why it is proportionate.
    pub action: String,
    /// What should happen next.
    pub next_steps: String,
}

/// A decision as asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionInput {
    /// Whether a policy was broken.
    pub violation: bool,
    /// The taxonomy code.
    pub category: String,
    /// The policy id or section, if given.
    pub policy: Option<String>,
    /// Actions ordered.
    pub actions: Vec<ActionSpec>,
    /// Why.
    pub rationale: Rationale,
}

/// Why an analyst departs from the enforcement matrix's recommendation:
/// trimmed, 1 to [`OVERRIDE_REASON_CHARS_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideReason(String);

impl OverrideReason {
    /// Checks `value` and wraps it, trimmed.
    pub fn parse(value: &str) -> Result<Self, String> {
        let text = value.trim();
        if text.is_empty() {
            return Err("must not be empty: say why the actions depart from the matrix".into());
        }
        if text.chars().count() > OVERRIDE_REASON_CHARS_MAX {
            return Err(format!(
                "must be at most {OVERRIDE_REASON_CHARS_MAX} characters"
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// A reason as a form or body gives it: absent or blank is no reason.
    pub fn given(value: Option<&str>) -> Result<Option<Self>, String> {
        match value {
            Some(text) if !text.trim().is_empty() => Self::parse(text).map(Some),
            _ => Ok(None),
        }
    }

    /// The reason.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks an action's type against its duration and parameters.
pub fn check_action(
    type_name: &str,
    duration: Option<Duration>,
    feature: Option<&str>,
    label: Option<&str>,
) -> Result<ActionSpec, FieldErrors> {
    let mut errors = FieldErrors::default();
    let code = |errors: &mut FieldErrors, field: &str, value: Option<&str>| -> Option<String> {
        match value {
            None => {
                errors.push(field, format!("is required for a {type_name} action"));
                None
            }
            Some(v) => errors.take(field, crate::ids::parse_code(v)),
        }
    };
    let kind = match type_name {
        "remove_content" => Some(ActionKind::RemoveContent),
        "warn" => Some(ActionKind::Warn),
        "restrict" => {
            code(&mut errors, "feature", feature).map(|feature| ActionKind::Restrict { feature })
        }
        "suspend" => Some(ActionKind::Suspend),
        "ban" => Some(ActionKind::Ban),
        "hold_transaction" => Some(ActionKind::HoldTransaction),
        "label" => code(&mut errors, "label", label).map(|label| ActionKind::Label { label }),
        other => {
            errors.push(
                "type",
                format!("unknown action type {other:?}; expected remove_content, warn, restrict, suspend, ban, hold_transaction or label"),
            );
            None
        }
    };
    if let Some(kind) = &kind {
        let needs_duration = matches!(kind, ActionKind::Restrict { .. } | ActionKind::Suspend);
        let takes_duration = needs_duration
            || matches!(kind, ActionKind::HoldTransaction | ActionKind::Label { .. });
        if needs_duration && duration.is_none() {
            errors.push(
                "duration",
                format!("is required for a {type_name} action; a lasting one is a ban"),
            );
        }
        if !takes_duration && duration.is_some() {
            errors.push(
                "duration",
                format!("a {type_name} action takes no duration"),
            );
        }
        if feature.is_some() && !matches!(kind, ActionKind::Restrict { .. }) {
            errors.push("feature", "only a restrict action takes a feature");
        }
        if label.is_some() && !matches!(kind, ActionKind::Label { .. }) {
            errors.push("label", "only a label action takes a label");
        }
    }
    errors.finish(|| ActionSpec {
        // cannot fail: every branch that leaves kind unset records an error.
        kind: kind.expect("kind is set when there are no errors"),
        duration,
    })
}

/// Checks a whole decision: actions only with a violation, the rationale
/// sections a reviewer needs, and limits.
pub fn check_decision(input: DecisionInput) -> Result<DecisionInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    if !input.violation && !input.actions.is_empty() {
        errors.push("actions", "must be empty when there is no violation");
    }
    if input.actions.len() > DECISION_ACTIONS_MAX {
        errors.push(
            "actions",
            format!("at most {DECISION_ACTIONS_MAX} actions per decision"),
        );
    }
    let sections = [
        (
            "rationale.what_happened",
            &input.rationale.what_happened,
            true,
        ),
        (
            "rationale.evidence",
            &input.rationale.evidence,
            input.violation,
        ),
        ("rationale.policy", &input.rationale.policy, true),
        (
            "rationale.action",
            &input.rationale.action,
            !input.actions.is_empty(),
        ),
        ("rationale.next_steps", &input.rationale.next_steps, false),
    ];
    for (field, text, required) in sections {
        if required && text.trim().is_empty() {
            errors.push(
                field,
                "is required: a decision must be reproducible from its rationale",
            );
        }
        if text.chars().count() > RATIONALE_SECTION_CHARS_MAX {
            errors.push(
                field,
                format!("must be at most {RATIONALE_SECTION_CHARS_MAX} characters"),
            );
        }
    }
    if let Some(policy) = &input.policy {
        if policy.is_empty() || policy.len() > 256 {
            errors.push("policy", "must be 1 to 256 bytes");
        }
    }
    errors.finish(|| input)
}

/// Where an action lands: remove and hold act on the subject itself (which
/// must be of a fitting kind); account actions act on the account, which is
/// the subject or its owner.
pub fn action_target(
    kind: &ActionKind,
    subject: &SubjectRef,
    owner: Option<&SubjectRef>,
) -> Result<SubjectRef, String> {
    match kind {
        ActionKind::RemoveContent => match subject.kind {
            SubjectKind::Content
            | SubjectKind::Message
            | SubjectKind::Listing
            | SubjectKind::Media => Ok(subject.clone()),
            other => Err(format!(
                "remove_content cannot act on a subject of kind {other}"
            )),
        },
        ActionKind::HoldTransaction => match subject.kind {
            SubjectKind::Transaction => Ok(subject.clone()),
            other => Err(format!(
                "hold_transaction cannot act on a subject of kind {other}"
            )),
        },
        ActionKind::Label { .. } => Ok(subject.clone()),
        _ => {
            if subject.kind == SubjectKind::Account {
                Ok(subject.clone())
            } else {
                owner.cloned().ok_or_else(|| {
                    format!(
                        "{} acts on an account, and this {} has no known owner; send the subject with its owner first",
                        kind.type_name(),
                        subject.kind
                    )
                })
            }
        }
    }
}

/// The strike a violation leaves on an account: weight and lifetime by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrikeRule {
    /// How much the strike counts.
    pub weight: i64,
    /// How long it counts.
    pub lifetime: Duration,
}

/// Strike weight and lifetime for a violation of `severity`.
pub fn strike_rule(severity: Severity) -> StrikeRule {
    match severity {
        Severity::Low => StrikeRule {
            weight: 1,
            lifetime: Duration::days(90),
        },
        Severity::Medium => StrikeRule {
            weight: 2,
            lifetime: Duration::days(90),
        },
        Severity::High => StrikeRule {
            weight: 3,
            lifetime: Duration::days(180),
        },
        Severity::Critical => StrikeRule {
            weight: 5,
            lifetime: Duration::days(365),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PlatformId;

    fn reference(kind: SubjectKind, id: &str) -> SubjectRef {
        SubjectRef::new(kind, PlatformId::parse(id).unwrap())
    }

    #[test]
    fn actions_check_their_parameters() {
        assert!(check_action("suspend", Some(Duration::days(7)), None, None).is_ok());
        let errors = check_action("suspend", None, None, None).unwrap_err();
        assert_eq!(errors.0[0].field, "duration");
        assert_eq!(
            check_action("restrict", Some(Duration::days(1)), None, None)
                .unwrap_err()
                .0[0]
                .field,
            "feature"
        );
        assert!(check_action("ban", Some(Duration::days(1)), None, None).is_err());
        assert!(check_action("nuke", None, None, None).unwrap_err().0[0]
            .reason
            .contains("remove_content"));
        assert!(check_action("warn", None, Some("x"), None).is_err());
    }

    fn input(violation: bool, actions: Vec<ActionSpec>) -> DecisionInput {
        DecisionInput {
            violation,
            category: "spam".into(),
            policy: None,
            actions,
            rationale: Rationale {
                what_happened: "posted links".into(),
                evidence: "three identical posts".into(),
                policy: "spam 1.2".into(),
                action: "removed".into(),
                next_steps: String::new(),
            },
        }
    }

    #[test]
    fn no_violation_means_no_actions() {
        let remove = ActionSpec {
            kind: ActionKind::RemoveContent,
            duration: None,
        };
        assert!(check_decision(input(true, vec![remove.clone()])).is_ok());
        assert_eq!(
            check_decision(input(false, vec![remove])).unwrap_err().0[0].field,
            "actions"
        );
    }

    #[test]
    fn rationale_is_required() {
        let mut empty = input(true, vec![]);
        empty.rationale.what_happened = " ".into();
        assert_eq!(
            check_decision(empty).unwrap_err().0[0].field,
            "rationale.what_happened"
        );
    }

    #[test]
    fn targets() {
        let post = reference(SubjectKind::Content, "p1");
        let owner = reference(SubjectKind::Account, "a1");
        assert_eq!(
            action_target(&ActionKind::Suspend, &post, Some(&owner)).unwrap(),
            owner
        );
        assert!(action_target(&ActionKind::Suspend, &post, None).is_err());
        assert_eq!(
            action_target(&ActionKind::RemoveContent, &post, None).unwrap(),
            post
        );
        assert!(action_target(&ActionKind::RemoveContent, &owner, None).is_err());
        assert!(action_target(&ActionKind::HoldTransaction, &post, None).is_err());
    }

    #[test]
    fn stored_kinds_are_read_back_or_refused() {
        for kind in [
            ActionKind::RemoveContent,
            ActionKind::Warn,
            ActionKind::Restrict {
                feature: "posting".into(),
            },
            ActionKind::Suspend,
            ActionKind::Ban,
            ActionKind::HoldTransaction,
            ActionKind::Label {
                label: "satire".into(),
            },
        ] {
            let (feature, label) = match &kind {
                ActionKind::Restrict { feature } => (Some(feature.as_str()), None),
                ActionKind::Label { label } => (None, Some(label.as_str())),
                _ => (None, None),
            };
            assert_eq!(
                ActionKind::from_stored(kind.type_name(), feature, label),
                Ok(kind.clone())
            );
        }
        assert!(ActionKind::from_stored("nuke", None, None).is_err());
        assert!(ActionKind::from_stored("label", None, None).is_err());
    }

    #[test]
    fn override_reasons_at_their_limit() {
        let max = "é".repeat(OVERRIDE_REASON_CHARS_MAX);
        assert_eq!(OverrideReason::parse(&max).unwrap().as_str(), max);
        assert!(OverrideReason::parse(&format!("{max}é")).is_err());
        assert_eq!(
            OverrideReason::parse("  a known ring \n").unwrap().as_str(),
            "a known ring"
        );
        assert!(OverrideReason::parse(" ").is_err());
        assert_eq!(OverrideReason::given(Some("  ")), Ok(None));
        assert_eq!(OverrideReason::given(None), Ok(None));
        assert!(OverrideReason::given(Some(&format!("{max}x"))).is_err());
    }
}
