//! Deciding a case: a first decision by the analyst who holds it, or a
//! lead's correction of a resolved case; and the matrix's recommendation.
//!
//! A decision goes through the enforcement path: the store loads the facts
//! in one transaction, `warden_domain::enforcement::plan_decision` plans
//! everything it causes (actions, outbox rows, strikes, notices, the
//! statement of reasons) and the store writes the plan. The command says
//! whether it is a first decision or a correction ([`DecisionMode`]); the
//! transports ask [`App::decision_mode`] for the case as they read it, and
//! the command's expected version makes that read safe: a case that moved
//! on since is a conflict.

use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::decision::OverrideReason;
use warden_domain::decision::{check_action, check_decision, ActionSpec, DecisionInput, Rationale};
use warden_domain::duration::parse_iso8601_duration;
use warden_domain::enforcement::{DecideCommand, DecisionMode};
use warden_domain::ids::{TaxonomyCode, Version};
use warden_domain::limits::{DECISION_ACTIONS_MAX, POLICY_ID_BYTES_MAX};
use warden_domain::taxonomy::Taxonomy;
use warden_domain::text::check_name;
use warden_domain::{CaseId, FieldErrors};
use warden_store::{CaseRecord, DecisionRecord, RecommendationRecord};

use crate::{Actor, App, CommandError, CommandResult};

/// One action as typed: its type and parameters as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionDraft {
    /// remove_content, warn, restrict, suspend, ban, hold_transaction or label.
    pub action_type: String,
    /// An ISO 8601 duration, for the actions that take one.
    pub duration: Option<String>,
    /// The feature, for restrict.
    pub feature: Option<String>,
    /// The label, for label.
    pub label: Option<String>,
}

/// A decision as a transport received it (the API's body, the console's
/// form), before it is checked. [`DecisionDraft::into_command`] is the one
/// conversion into a [`DecideCommand`], so both check it alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionDraft {
    /// The case version the analyst saw.
    pub expected: Version,
    /// Whether a policy was broken.
    pub violation: bool,
    /// A taxonomy code.
    pub category: String,
    /// The policy id or section.
    pub policy: Option<String>,
    /// The actions, in order (`actions[i]` in errors).
    pub actions: Vec<ActionDraft>,
    /// Why.
    pub rationale: Rationale,
    /// Why the actions depart from the matrix (blank: none given).
    pub override_reason: Option<String>,
    /// A reason code of the category.
    pub reason_code: Option<String>,
}

impl DecisionDraft {
    /// The command deciding `case` as `mode`, the category checked against
    /// `taxonomy`; every field at fault is reported (the rationale's and
    /// the actions' consistency once the fields themselves are right).
    pub fn into_command(
        self,
        case: CaseId,
        mode: DecisionMode,
        taxonomy: &Taxonomy,
    ) -> Result<DecideCommand, FieldErrors> {
        let mut errors = FieldErrors::default();
        let category = errors.take("category", taxonomy.parse_code(&self.category));
        let actions = parse_actions(&mut errors, &self.actions);
        if let Some(policy) = &self.policy {
            errors.take("policy", check_name(policy, POLICY_ID_BYTES_MAX));
        }
        let reason_code = match self.reason_code.as_deref() {
            None => Some(None),
            Some(code) => errors
                .take("reason_code", TaxonomyCode::parse(code))
                .map(Some),
        };
        let override_reason = errors.take(
            "override_reason",
            OverrideReason::given(self.override_reason.as_deref()),
        );
        let (Some(category), Some(reason_code), Some(override_reason)) =
            (category, reason_code, override_reason)
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let decision = check_decision(DecisionInput {
            violation: self.violation,
            category,
            policy: self.policy,
            actions,
            rationale: self.rationale,
        })?;
        Ok(DecideCommand {
            case,
            expected: self.expected,
            decision,
            reason_code,
            override_reason,
            mode,
        })
    }
}

/// The actions that parse; the others' errors under `actions[i]`.
pub(crate) fn parse_actions(errors: &mut FieldErrors, drafts: &[ActionDraft]) -> Vec<ActionSpec> {
    if drafts.len() > DECISION_ACTIONS_MAX {
        errors.push(
            "actions",
            format!("at most {DECISION_ACTIONS_MAX} actions per decision"),
        );
        return Vec::new();
    }
    let mut actions = Vec::with_capacity(drafts.len());
    for (index, action) in drafts.iter().enumerate() {
        let prefix = format!("actions[{index}]");
        let duration = match &action.duration {
            Some(text) => match parse_iso8601_duration(text) {
                Ok(duration) => Some(duration),
                Err(reason) => {
                    errors.push(format!("{prefix}.duration"), reason);
                    continue;
                }
            },
            None => None,
        };
        match check_action(
            &action.action_type,
            duration,
            action.feature.as_deref(),
            action.label.as_deref(),
        ) {
            Ok(spec) => actions.push(spec),
            Err(found) => errors
                .0
                .extend(found.0.into_iter().map(|e| e.under(&prefix))),
        }
    }
    actions
}

impl App {
    /// How a decision on case `id` by `actor` is made now: a correction
    /// when the case is resolved and the actor may correct, else a first
    /// decision. Passes the case gate (not found; held by someone else).
    pub async fn decision_mode(&self, actor: &Actor, id: CaseId) -> CommandResult<DecisionMode> {
        let case = self.changeable_case(actor, id).await?;
        Ok(self.decision_mode_for(actor, &case))
    }

    /// How a decision on `case`, as read, by `actor` is made.
    pub fn decision_mode_for(&self, actor: &Actor, case: &CaseRecord) -> DecisionMode {
        if case.status == CaseStatus::Resolved && actor.may(Permission::CaseCorrect) {
            DecisionMode::Correction
        } else {
            DecisionMode::First
        }
    }

    /// Decides a case the actor may change, by the policy in force.
    pub async fn decide(
        &self,
        actor: &Actor,
        command: DecideCommand,
    ) -> CommandResult<DecisionRecord> {
        actor.require(Permission::CaseWork)?;
        if command.mode == DecisionMode::Correction {
            actor.require(Permission::CaseCorrect)?;
        }
        let case = self.changeable_case(actor, command.case).await?;
        if case.kind == warden_domain::appeal::CaseKind::Appeal {
            return Err(CommandError::invalid(
                "outcome",
                format!("case {} is an appeal case: decide it with an outcome (upheld, overturned or modified)", case.id),
            ));
        }
        let policy = self.policy();
        Ok(self
            .store()
            .decide_with(&actor.audit(), command, policy.case_policy(), self.now())
            .await?)
    }

    /// What the enforcement matrix recommends for a case the actor may see
    /// now, for `category` or else the case's own.
    pub async fn recommendation(
        &self,
        actor: &Actor,
        id: CaseId,
        category: Option<&TaxonomyCode>,
    ) -> CommandResult<RecommendationRecord> {
        self.visible_case(actor, id).await?;
        let policy = self.policy();
        Ok(self
            .store()
            .recommendation(
                id,
                category.map(TaxonomyCode::as_str),
                policy.case_policy(),
                self.now(),
            )
            .await?)
    }
}
