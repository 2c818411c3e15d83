//! Access control: roles, token scopes and the permissions they grant.
//!
//! Every route declares one [`Permission`]. A session acts with its user's
//! role; an API token acts with its user's role narrowed by its [`Scope`].
//! Anything not granted here is denied.

use std::fmt;
use std::str::FromStr;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Push subjects, events, reports and signals in.
    IntakeWrite,
    /// Read cases, queues and their contents.
    CaseRead,
    /// Claim, renew, release, hold, note, escalate and decide cases.
    CaseWork,
    /// Reassign or release cases held by others.
    CaseAssign,
    /// Decide again on a resolved case, superseding its decision.
    CaseCorrect,
    /// Read a subject and its history.
    SubjectRead,
    /// See PII unmasked, with a reason.
    PiiReveal,
    /// Read the audit log.
    AuditRead,
    /// Manage users.
    UserAdmin,
    /// Create and revoke API tokens for any user.
    TokenAdmin,
    /// Read operational metrics.
    MetricsRead,
    /// Approve or reject actions that wait for a lead's approval.
    ActionApprove,
    /// Reverse actions and decisions.
    ActionReverse,
    /// Publish taxonomy versions and edit notice templates.
    PolicyWrite,
    /// See the outbox and dead letters, and replay deliveries.
    DeliveryAdmin,
    /// Read DSA statements of reasons and transparency aggregates.
    TransparencyRead,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 16] = [
        Permission::IntakeWrite,
        Permission::CaseRead,
        Permission::CaseWork,
        Permission::CaseAssign,
        Permission::CaseCorrect,
        Permission::SubjectRead,
        Permission::PiiReveal,
        Permission::AuditRead,
        Permission::UserAdmin,
        Permission::TokenAdmin,
        Permission::MetricsRead,
        Permission::ActionApprove,
        Permission::ActionReverse,
        Permission::PolicyWrite,
        Permission::DeliveryAdmin,
        Permission::TransparencyRead,
    ];

    /// The name used in documents and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::IntakeWrite => "intake.write",
            Permission::CaseRead => "case.read",
            Permission::CaseWork => "case.work",
            Permission::CaseAssign => "case.assign",
            Permission::CaseCorrect => "case.correct",
            Permission::SubjectRead => "subject.read",
            Permission::PiiReveal => "pii.reveal",
            Permission::AuditRead => "audit.read",
            Permission::UserAdmin => "user.admin",
            Permission::TokenAdmin => "token.admin",
            Permission::MetricsRead => "metrics.read",
            Permission::ActionApprove => "action.approve",
            Permission::ActionReverse => "action.reverse",
            Permission::PolicyWrite => "policy.write",
            Permission::DeliveryAdmin => "delivery.admin",
            Permission::TransparencyRead => "transparency.read",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's job, which fixes what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Entry-level analyst: works general queues.
    Associate,
    /// Analyst: works queues, including restricted ones their queue admits.
    Analyst,
    /// Lead: watches queues, reassigns, corrects decisions.
    Lead,
    /// Quality assurance: reads decisions to score them.
    Qa,
    /// Policy: reads cases to shape the taxonomy and matrix.
    Policy,
    /// Administrator: users, tokens, integration.
    Admin,
    /// Auditor or legal: reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::Associate,
        Role::Analyst,
        Role::Lead,
        Role::Qa,
        Role::Policy,
        Role::Admin,
        Role::Auditor,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Associate => "associate",
            Role::Analyst => "analyst",
            Role::Lead => "lead",
            Role::Qa => "qa",
            Role::Policy => "policy",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    /// Whether this role has `permission`.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Associate => matches!(permission, CaseRead | CaseWork | SubjectRead),
            Role::Analyst => matches!(permission, CaseRead | CaseWork | SubjectRead | PiiReveal),
            Role::Lead => matches!(
                permission,
                CaseRead
                    | CaseWork
                    | CaseAssign
                    | CaseCorrect
                    | SubjectRead
                    | PiiReveal
                    | MetricsRead
                    | ActionApprove
                    | ActionReverse
                    | DeliveryAdmin
                    | TransparencyRead
            ),
            Role::Qa => matches!(permission, CaseRead | SubjectRead),
            Role::Policy => matches!(
                permission,
                CaseRead | SubjectRead | PolicyWrite | TransparencyRead
            ),
            Role::Admin => matches!(
                permission,
                IntakeWrite | UserAdmin | TokenAdmin | MetricsRead | AuditRead | DeliveryAdmin
            ),
            Role::Auditor => matches!(
                permission,
                CaseRead | SubjectRead | AuditRead | PiiReveal | TransparencyRead
            ),
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unknown role {value:?}; expected associate, analyst, lead, qa, policy, admin or auditor"
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an API token may be used for, within its user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Push data in.
    Ingest,
    /// Read cases, subjects, metrics and audit.
    Read,
    /// Read and work cases.
    Review,
    /// Everything the role allows.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [Scope::Ingest, Scope::Read, Scope::Review, Scope::Admin];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Review => "review",
            Scope::Admin => "admin",
        }
    }

    /// Whether this scope lets a token use `permission` (the role must grant it too).
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        let read = matches!(
            permission,
            CaseRead | SubjectRead | AuditRead | MetricsRead | TransparencyRead
        );
        match self {
            Scope::Ingest => permission == IntakeWrite,
            Scope::Read => read,
            Scope::Review => {
                read || matches!(
                    permission,
                    CaseWork | CaseAssign | CaseCorrect | ActionApprove | ActionReverse
                )
            }
            Scope::Admin => true,
        }
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                format!("unknown scope {value:?}; expected ingest, read, review or admin")
            })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is acting, as established by a session or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id in the store.
    pub user_id: i64,
    /// The user's name, as written in audit records.
    pub name: String,
    /// The user's role.
    pub role: Role,
    /// The token's scope; `None` for a console session.
    pub scope: Option<Scope>,
}

impl Principal {
    /// Whether this principal may use `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.role.grants(permission) && self.scope.is_none_or(|scope| scope.allows(permission))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_privilege() {
        assert!(!Role::Admin.grants(Permission::CaseWork));
        assert!(!Role::Auditor.grants(Permission::CaseWork));
        assert!(!Role::Associate.grants(Permission::CaseAssign));
        assert!(Role::Lead.grants(Permission::CaseAssign));
        assert!(!Role::Qa.grants(Permission::IntakeWrite));
    }

    #[test]
    fn scopes_narrow_roles() {
        let admin = Principal {
            user_id: 1,
            name: "a".into(),
            role: Role::Admin,
            scope: Some(Scope::Ingest),
        };
        assert!(admin.may(Permission::IntakeWrite));
        assert!(!admin.may(Permission::UserAdmin));
        let lead = Principal {
            role: Role::Lead,
            scope: Some(Scope::Ingest),
            ..admin
        };
        assert!(
            !lead.may(Permission::IntakeWrite),
            "scope cannot widen a role"
        );
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
    }
}
