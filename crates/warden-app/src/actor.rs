//! Who is acting: a signed-in person (through a session or an API token),
//! the operator at the machine (the command line), or Warden itself.

use warden_domain::access::{Permission, Principal};
use warden_domain::routing::{QueueScope, Router};

use crate::error::CommandError;

/// Who is acting. Every command takes one; the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, as a session or an API token establishes them.
    User {
        /// Who, with what rights (a token's scope narrows their role).
        principal: Principal,
        /// The API token they act through, if any: every audit record of
        /// their changes names it.
        token_id: Option<i64>,
    },
    /// The operator at the machine (`warden user`, `warden token`): whoever
    /// can run the binary against the database already has every right.
    /// The audit log names them `cli`; tokens they mint record `system`.
    Operator,
    /// Warden itself, for work no person started (demo loading, expiry).
    System,
}

impl Actor {
    /// A person signed in with a session.
    pub fn user(principal: Principal) -> Self {
        Actor::User {
            principal,
            token_id: None,
        }
    }

    /// A person acting through API token `token_id`.
    pub fn via_token(principal: Principal, token_id: i64) -> Self {
        Actor::User {
            principal,
            token_id: Some(token_id),
        }
    }

    /// The person acting, if a person is.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Actor::User { principal, .. } => Some(principal),
            Actor::Operator | Actor::System => None,
        }
    }

    /// The acting person's user id, if a person is acting.
    pub fn user_id(&self) -> Option<i64> {
        self.principal().map(|p| p.user_id)
    }

    /// Whether the actor may use `permission`: a person by their role and
    /// token scope; the operator and Warden itself always.
    pub fn may(&self, permission: Permission) -> bool {
        self.principal().is_none_or(|p| p.may(permission))
    }

    /// `Ok` when the actor may use `permission`, else a refusal that names it.
    pub fn require(&self, permission: Permission) -> Result<(), CommandError> {
        match self.principal() {
            Some(principal) if !principal.may(permission) => Err(CommandError::Forbidden(format!(
                "this needs {permission}; the {} role{} does not have it",
                principal.role,
                principal
                    .scope
                    .map(|s| format!(" with a {s} token"))
                    .unwrap_or_default()
            ))),
            _ => Ok(()),
        }
    }

    /// The queues whose cases the actor may see.
    pub fn scope(&self, router: &Router) -> QueueScope {
        match self.principal() {
            Some(principal) => router.scope_for(principal),
            None => QueueScope::Every,
        }
    }

    /// Whether the actor may see cases in `queue`.
    pub fn sees(&self, router: &Router, queue: &str) -> bool {
        self.principal()
            .is_none_or(|p| router.sees(p.role, &p.teams, queue))
    }

    /// Whether the actor may change a case whose live lease `holder` holds
    /// (see `Principal::may_change_held_case`).
    pub fn may_change_held_case(&self, holder: Option<i64>) -> bool {
        self.principal()
            .is_none_or(|p| p.may_change_held_case(holder))
    }

    /// The actor as the audit log records it.
    pub fn audit(&self) -> warden_store::Actor {
        match self {
            Actor::User {
                principal,
                token_id,
            } => warden_store::Actor::user(principal.user_id, &principal.name).via_token(*token_id),
            Actor::Operator => warden_store::Actor {
                user_id: None,
                name: "cli".into(),
                token_id: None,
            },
            Actor::System => warden_store::Actor::system(),
        }
    }
}
