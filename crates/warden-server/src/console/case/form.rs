//! The case page's one form: what the analyst typed (decision, note,
//! reasons), turned into the application's commands
//! (`TryFrom<DecisionForm> for DecideCommand`, through the same
//! [`DecisionDraft`] the API's body becomes, so the same checks apply),
//! with errors mapped back to the form's fields.
//!
//! Every button on the case page sends the whole form, so whatever the
//! analyst pressed (renew, hold, add note), the page that comes back still
//! holds everything they typed.

use serde::Deserialize;

use warden_app::decisions::{ActionDraft, DecisionDraft};
use warden_domain::decision::{ActionKind, ActionSpec, Rationale};
use warden_domain::duration::parse_iso8601_duration;
use warden_domain::enforcement::{DecideCommand, DecisionMode};
use warden_domain::ids::Version;
use warden_domain::taxonomy::Taxonomy;
use warden_domain::{CaseId, FieldErrors};

/// The case page's form, as sent. Every field is text; empty means not given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CaseForm {
    /// The case version the page showed.
    pub version: String,
    /// `yes` (violation) or `no`.
    pub violation: String,
    /// Taxonomy code.
    pub category: String,
    /// Policy id or section.
    pub policy: String,
    /// `on` when the action is chosen.
    pub a_remove_content: String,
    /// Warn the account.
    pub a_warn: String,
    /// Restrict a feature.
    pub a_restrict: String,
    /// Suspend the account.
    pub a_suspend: String,
    /// Ban the account.
    pub a_ban: String,
    /// Hold the transaction.
    pub a_hold_transaction: String,
    /// Label the subject.
    pub a_label: String,
    /// The feature to restrict.
    pub restrict_feature: String,
    /// ISO 8601 duration of the restriction.
    pub restrict_duration: String,
    /// ISO 8601 duration of the suspension.
    pub suspend_duration: String,
    /// ISO 8601 duration of the transaction hold.
    pub hold_transaction_duration: String,
    /// The label.
    pub label_label: String,
    /// ISO 8601 duration of the label, if it expires.
    pub label_duration: String,
    /// Rationale: what happened.
    pub r_what_happened: String,
    /// Rationale: evidence.
    pub r_evidence: String,
    /// Rationale: policy.
    pub r_policy: String,
    /// Rationale: action.
    pub r_action: String,
    /// Rationale: next steps.
    pub r_next_steps: String,
    /// Why the chosen actions depart from the matrix's recommendation.
    pub override_reason: String,
    /// Note: what happened.
    pub n_what_happened: String,
    /// Note: evidence.
    pub n_evidence: String,
    /// Note: policy.
    pub n_policy: String,
    /// Note: action.
    pub n_action: String,
    /// Note: next steps.
    pub n_next_steps: String,
    /// Why the case is held.
    pub hold_reason: String,
    /// Why the case is escalated.
    pub escalate_reason: String,
    /// Where it is escalated to.
    pub escalate_queue: String,
    /// Why personal data must be seen.
    pub reveal_reason: String,
    /// `1`: after deciding, go on to the next case.
    pub next: String,
    /// The user a lead hands the case to.
    pub user: String,
    /// Where a lead's form goes back to: `lead` or the case.
    pub return_to: String,
}

/// The actions the form offers, in order: type, form field, label.
pub const ACTIONS: &[(&str, &str)] = &[
    ("remove_content", "Remove content"),
    ("warn", "Warn the account"),
    ("restrict", "Restrict a feature"),
    ("suspend", "Suspend the account"),
    ("ban", "Ban the account"),
    ("hold_transaction", "Hold the transaction"),
    ("label", "Label"),
];

fn given(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

impl CaseForm {
    /// Whether the action of type `kind` is ticked.
    pub fn action_checked(&self, kind: &str) -> bool {
        let value = match kind {
            "remove_content" => &self.a_remove_content,
            "warn" => &self.a_warn,
            "restrict" => &self.a_restrict,
            "suspend" => &self.a_suspend,
            "ban" => &self.a_ban,
            "hold_transaction" => &self.a_hold_transaction,
            "label" => &self.a_label,
            _ => return false,
        };
        value == "on"
    }

    /// The note sections as typed.
    pub fn note(&self) -> Rationale {
        Rationale {
            what_happened: self.n_what_happened.clone(),
            evidence: self.n_evidence.clone(),
            policy: self.n_policy.clone(),
            action: self.n_action.clone(),
            next_steps: self.n_next_steps.clone(),
        }
    }

    /// Empties the note sections (after the note was saved).
    pub fn clear_note(&mut self) {
        for field in [
            &mut self.n_what_happened,
            &mut self.n_evidence,
            &mut self.n_policy,
            &mut self.n_action,
            &mut self.n_next_steps,
        ] {
            field.clear();
        }
    }

    /// Whether the analyst typed anything into the decision.
    pub fn has_decision_text(&self) -> bool {
        [
            &self.r_what_happened,
            &self.r_evidence,
            &self.r_policy,
            &self.r_action,
            &self.r_next_steps,
            &self.override_reason,
        ]
        .iter()
        .any(|t| !t.trim().is_empty())
    }

    /// The ticked actions as the matrix compares them, when every one can
    /// be read (a duration that does not parse or is missing where one is
    /// needed makes them undeterminable: `None`).
    pub fn chosen_specs(&self) -> Option<Vec<(&'static str, ActionSpec)>> {
        let mut specs = Vec::new();
        for (kind, words) in ACTIONS {
            if !self.action_checked(kind) {
                continue;
            }
            let (action, duration, needs_duration) = match *kind {
                "remove_content" => (ActionKind::RemoveContent, "", false),
                "warn" => (ActionKind::Warn, "", false),
                "restrict" => (
                    ActionKind::Restrict {
                        feature: self.restrict_feature.trim().to_string(),
                    },
                    self.restrict_duration.as_str(),
                    true,
                ),
                "suspend" => (ActionKind::Suspend, self.suspend_duration.as_str(), true),
                "ban" => (ActionKind::Ban, "", false),
                "hold_transaction" => (
                    ActionKind::HoldTransaction,
                    self.hold_transaction_duration.as_str(),
                    true,
                ),
                "label" => (
                    ActionKind::Label {
                        label: self.label_label.trim().to_string(),
                    },
                    self.label_duration.as_str(),
                    false,
                ),
                _ => continue,
            };
            let duration = match given(duration) {
                Some(text) => Some(parse_iso8601_duration(&text).ok()?),
                None if needs_duration => return None,
                None => None,
            };
            specs.push((
                *words,
                ActionSpec {
                    kind: action,
                    duration,
                },
            ));
        }
        Some(specs)
    }

    /// The decision as typed, and the action types in the order of
    /// `actions[i]` (to map errors back to the form). The version and the
    /// choice of violation are the form's own fields.
    pub fn decision(&self) -> Result<(DecisionDraft, Vec<&'static str>), FieldErrors> {
        let mut errors = FieldErrors::default();
        let violation = match self.violation.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                errors.push("violation", "choose violation or no violation");
                None
            }
        };
        let version = self.version.trim().parse::<i64>().ok();
        if version.is_none() {
            errors.push("version", "the page is missing the case version; reload it");
        }
        let mut actions = Vec::new();
        let mut kinds = Vec::new();
        for (kind, _) in ACTIONS {
            if !self.action_checked(kind) {
                continue;
            }
            let (duration, feature, label) = match *kind {
                "restrict" => (
                    given(&self.restrict_duration),
                    Some(self.restrict_feature.trim().to_string()),
                    None,
                ),
                "suspend" => (given(&self.suspend_duration), None, None),
                "hold_transaction" => (given(&self.hold_transaction_duration), None, None),
                "label" => (
                    given(&self.label_duration),
                    None,
                    Some(self.label_label.trim().to_string()),
                ),
                _ => (None, None, None),
            };
            actions.push(ActionDraft {
                action_type: kind.to_string(),
                duration,
                feature,
                label,
            });
            kinds.push(*kind);
        }
        let (Some(version), Some(violation)) = (version, violation) else {
            return Err(errors);
        };
        Ok((
            DecisionDraft {
                expected: Version(version),
                violation,
                category: self.category.trim().to_string(),
                policy: given(&self.policy),
                actions,
                rationale: Rationale {
                    what_happened: self.r_what_happened.clone(),
                    evidence: self.r_evidence.clone(),
                    policy: self.r_policy.clone(),
                    action: self.r_action.clone(),
                    next_steps: self.r_next_steps.clone(),
                },
                // A departure from the matrix is explained by the override
                // reason, else by the rationale's action section.
                override_reason: given(&self.override_reason),
                reason_code: None,
            },
            kinds,
        ))
    }
}

/// The case form with what a decision needs besides it: the case (from the
/// path), first decision or correction (from the case as the application
/// reads it), and the taxonomy in force (to check the category).
pub struct DecisionForm<'a> {
    /// The case decided.
    pub case: CaseId,
    /// First decision or correction.
    pub mode: DecisionMode,
    /// The taxonomy in force.
    pub taxonomy: &'a Taxonomy,
    /// What the analyst typed.
    pub form: &'a CaseForm,
}

impl TryFrom<DecisionForm<'_>> for DecideCommand {
    type Error = FieldErrors;

    /// Every field at fault, under the API's names (see [`form_errors`]).
    fn try_from(decision: DecisionForm<'_>) -> Result<Self, FieldErrors> {
        let (draft, _) = decision.form.decision()?;
        draft.into_command(decision.case, decision.mode, decision.taxonomy)
    }
}

/// The form field an API field name stands for: `rationale.evidence` is
/// `r_evidence`, `actions[1].duration` is the duration of the second
/// ticked action, and so on.
pub fn form_field(field: &str, kinds: &[&str]) -> String {
    if let Some(section) = field.strip_prefix("rationale.") {
        return format!("r_{section}");
    }
    if let Some(rest) = field.strip_prefix("actions[") {
        let (index, part) = rest.split_once(']').unwrap_or((rest, ""));
        let kind = index
            .parse::<usize>()
            .ok()
            .and_then(|i| kinds.get(i))
            .copied()
            .unwrap_or("actions");
        return match part.trim_start_matches('.') {
            "duration" => format!("{kind}_duration"),
            "feature" => "restrict_feature".into(),
            "label" => "label_label".into(),
            _ => format!("a_{kind}"),
        };
    }
    field.to_string()
}

/// Errors for the form: (form field, reason).
pub fn form_errors(errors: &FieldErrors, kinds: &[&str]) -> Vec<(String, String)> {
    errors
        .0
        .iter()
        .map(|e| (form_field(&e.field, kinds), e.reason.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_map_back() {
        let kinds = ["remove_content", "suspend"];
        assert_eq!(form_field("rationale.evidence", &kinds), "r_evidence");
        assert_eq!(
            form_field("actions[1].duration", &kinds),
            "suspend_duration"
        );
        assert_eq!(form_field("actions[0].type", &kinds), "a_remove_content");
        assert_eq!(form_field("actions", &kinds), "actions");
        assert_eq!(form_field("category", &kinds), "category");
    }

    #[test]
    fn the_form_becomes_a_decision() {
        let form = CaseForm {
            version: "3".into(),
            violation: "yes".into(),
            category: "spam".into(),
            a_remove_content: "on".into(),
            a_suspend: "on".into(),
            suspend_duration: "P7D".into(),
            r_what_happened: "spam link".into(),
            ..CaseForm::default()
        };
        let (body, kinds) = form.decision().unwrap();
        assert_eq!(kinds, ["remove_content", "suspend"]);
        assert_eq!(body.expected, Version(3));
        assert_eq!(body.actions[1].duration.as_deref(), Some("P7D"));
        let missing = CaseForm::default().decision().unwrap_err();
        let fields: Vec<_> = missing.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["violation", "version"]);
    }

    #[test]
    fn the_form_becomes_a_command_with_the_apis_checks() {
        let taxonomy = Taxonomy::default();
        let form = CaseForm {
            version: "3".into(),
            violation: "yes".into(),
            category: "spam".into(),
            a_remove_content: "on".into(),
            r_what_happened: "spam link".into(),
            r_evidence: "the link".into(),
            r_policy: "spam".into(),
            r_action: "removal".into(),
            override_reason: "  ".into(),
            ..CaseForm::default()
        };
        let command = DecideCommand::try_from(DecisionForm {
            case: CaseId(7),
            mode: DecisionMode::Correction,
            taxonomy: &taxonomy,
            form: &form,
        })
        .unwrap();
        assert_eq!(command.case, CaseId(7));
        assert_eq!(command.expected, Version(3));
        assert_eq!(command.mode, DecisionMode::Correction);
        assert_eq!(command.override_reason, None, "a blank reason is none");
        assert_eq!(command.decision.actions.len(), 1);
        let bad = CaseForm {
            category: "nonsense".into(),
            a_suspend: "on".into(),
            suspend_duration: "soon".into(),
            ..form
        };
        let refused = DecideCommand::try_from(DecisionForm {
            case: CaseId(7),
            mode: DecisionMode::First,
            taxonomy: &taxonomy,
            form: &bad,
        })
        .unwrap_err();
        let (_, kinds) = bad.decision().unwrap();
        let fields: Vec<_> = form_errors(&refused, &kinds)
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        assert_eq!(fields, ["category", "suspend_duration"]);
    }
}
