//! Undoing enforcement: one action, or a whole decision (all its actions,
//! and its strikes are removed). The store plans the reversal with
//! `warden_domain::enforcement::plan_reversal` and writes it in one
//! transaction with its outbox rows and notices.

use warden_domain::access::Permission;
use warden_domain::ids::{ActionId, DecisionId};
use warden_store::{ActionDetail, DecisionRecord};

use crate::{Actor, App, CommandResult, Reason};

/// Reverse one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseActionCommand {
    /// The action.
    pub action: ActionId,
    /// Why.
    pub reason: Reason,
}

/// Reverse a whole decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseDecisionCommand {
    /// The decision.
    pub decision: DecisionId,
    /// Why.
    pub reason: Reason,
}

impl App {
    /// Reverses an action on a case the actor may see: the platform is told
    /// to undo it.
    pub async fn reverse_action(
        &self,
        actor: &Actor,
        command: ReverseActionCommand,
    ) -> CommandResult<ActionDetail> {
        actor.require(Permission::ActionReverse)?;
        self.visible_action(actor, command.action).await?;
        Ok(self
            .store()
            .reverse_action(
                &actor.audit(),
                command.action.0,
                command.reason.as_str(),
                self.now(),
            )
            .await?)
    }

    /// Reverses a decision on a case the actor may see.
    pub async fn reverse_decision(
        &self,
        actor: &Actor,
        command: ReverseDecisionCommand,
    ) -> CommandResult<DecisionRecord> {
        actor.require(Permission::ActionReverse)?;
        self.visible_decision_case(actor, command.decision).await?;
        Ok(self
            .store()
            .reverse_decision(
                &actor.audit(),
                command.decision.0,
                command.reason.as_str(),
                self.now(),
            )
            .await?)
    }
}
