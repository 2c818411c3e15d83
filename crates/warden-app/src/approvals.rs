//! A lead's ruling on an action that waits for approval: approve (it is
//! delivered) or reject (it never is). Whoever ordered an action may not
//! rule on it.

use warden_domain::access::Permission;
use warden_domain::ids::ActionId;
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_store::{ActionDetail, Ruling};

use crate::{Actor, App, CommandError, CommandResult, Reason};

/// A ruling on one action, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulingCommand {
    /// The action that waits.
    pub action: ActionId,
    /// Why.
    pub reason: Reason,
}

impl App {
    /// Actions waiting for a lead that the actor may see, oldest first, at
    /// most `limit`. The store lists approvals without a queue filter, so
    /// a full page is read and the invisible ones are left out.
    pub async fn pending_approvals(
        &self,
        actor: &Actor,
        limit: u32,
    ) -> CommandResult<Vec<ActionDetail>> {
        let pending = self.store().pending_approvals(PAGE_SIZE_MAX).await?;
        self.keep_visible_actions(actor, pending, limit as usize)
            .await
    }

    /// One action with its story, if the actor may see its case.
    pub async fn action(&self, actor: &Actor, id: ActionId) -> CommandResult<ActionDetail> {
        self.visible_action(actor, id).await
    }

    /// Approves an action that waits: it is delivered.
    pub async fn approve_action(
        &self,
        actor: &Actor,
        command: RulingCommand,
    ) -> CommandResult<ActionDetail> {
        self.rule_on_action(actor, command, Ruling::Approve).await
    }

    /// Rejects an action that waits: it is never delivered.
    pub async fn reject_action(
        &self,
        actor: &Actor,
        command: RulingCommand,
    ) -> CommandResult<ActionDetail> {
        self.rule_on_action(actor, command, Ruling::Reject).await
    }

    async fn rule_on_action(
        &self,
        actor: &Actor,
        command: RulingCommand,
        ruling: Ruling,
    ) -> CommandResult<ActionDetail> {
        actor.require(Permission::ActionApprove)?;
        let id = command.action;
        let detail = self.visible_action(actor, id).await?;
        // Four eyes: whoever ordered an action cannot approve or reject it.
        // (The planner refuses it too; saying so here names the rule.)
        if actor.user_id().is_some() && detail.decided_by_id == actor.user_id() {
            return Err(CommandError::Forbidden(format!(
                "you ordered action {id}; another lead must {} it",
                match ruling {
                    Ruling::Approve => "approve",
                    Ruling::Reject => "reject",
                }
            )));
        }
        Ok(self
            .store()
            .rule_on_action(
                &actor.audit(),
                id.0,
                ruling,
                command.reason.as_str(),
                self.now(),
            )
            .await?)
    }
}
