//! Access control: roles, token scopes, teams and the permissions they grant.
//!
//! Every route declares one [`Permission`]. A session acts with its user's
//! role; an API token acts with its user's role narrowed by its [`Scope`].
//! Anything not granted here is denied.
//!
//! Permissions say what a principal may *do*; which cases they may *see* is
//! decided by the queues (`routing::QueueDefinition::admits`): a queue may
//! be restricted to roles and to [teams](parse_teams). The rules about held
//! cases ([`Principal::may_change_held_case`]) and about minting API tokens
//! ([`Principal::may_mint`]) live here too, so that every surface (API,
//! console, CLI) applies the same ones.

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
    /// Review sampled decisions blind for QA, see QA results, and run
    /// calibration sessions.
    QaReview,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 17] = [
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
        Permission::QaReview,
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
            Permission::QaReview => "qa.review",
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
                    | QaReview
            ),
            Role::Qa => matches!(permission, CaseRead | SubjectRead | QaReview),
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
                    CaseWork | CaseAssign | CaseCorrect | ActionApprove | ActionReverse | QaReview
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

/// Checks a user's teams: each a code (`child_safety`, `legal`), at most
/// [`TEAMS_PER_USER_MAX`](crate::limits::TEAMS_PER_USER_MAX) of them.
/// Returns them sorted, without repeats.
pub fn parse_teams<S: AsRef<str>>(teams: &[S]) -> Result<Vec<String>, String> {
    let mut parsed = Vec::with_capacity(teams.len());
    for team in teams {
        let team = team.as_ref().trim();
        let code =
            crate::ids::parse_code(team).map_err(|reason| format!("team {team:?} {reason}"))?;
        parsed.push(code);
    }
    parsed.sort();
    parsed.dedup();
    if parsed.len() > crate::limits::TEAMS_PER_USER_MAX {
        return Err(format!(
            "a user may be in at most {} teams",
            crate::limits::TEAMS_PER_USER_MAX
        ));
    }
    Ok(parsed)
}

/// Whether a user with `role` sees cases in queues that are no longer
/// configured (a queue removed from `warden.toml` while cases sat in it).
/// Nobody's team can be checked against a queue that does not exist, so
/// only leads (who move such cases on) and auditors (who read everything)
/// see them.
pub fn sees_unrouted_cases(role: Role) -> bool {
    role.grants(Permission::CaseAssign)
        || (role.grants(Permission::AuditRead) && role.grants(Permission::CaseRead))
}

/// Why a token may not be minted: the field at fault and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRefusal {
    /// `scope` or `user`.
    pub field: &'static str,
    /// The rule, in a sentence.
    pub reason: String,
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
    /// The user's teams (sorted); restricted queues admit by team.
    pub teams: Vec<String>,
    /// The token's scope; `None` for a console session.
    pub scope: Option<Scope>,
}

impl Principal {
    /// Whether this principal may use `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.role.grants(permission) && self.scope.is_none_or(|scope| scope.allows(permission))
    }

    /// Whether this principal may change a case whose live lease is held by
    /// `holder` (`None`: nobody holds it). Only the holder, or a lead (who
    /// may reassign and release anyone's case), may release, hold, renew,
    /// escalate, park, resume or decide a held case. Notes are not changes
    /// of the case and are not covered by this rule.
    pub fn may_change_held_case(&self, holder: Option<i64>) -> bool {
        holder.is_none_or(|holder| holder == self.user_id) || self.may(Permission::CaseAssign)
    }

    /// Whether this principal may mint a token with `scope` for a user
    /// with `owner_role` (`for_self`: the principal's own user).
    ///
    /// A user mints tokens for themselves, with any scope that gives their
    /// role something and does not widen the scope they are acting with. An
    /// admin (`token.admin`) mints tokens for others only with the `ingest`
    /// scope, which can neither read nor act on cases, and only for users
    /// whose role may ingest: a token that acts on cases is always minted
    /// by the person whose name its actions will carry.
    pub fn may_mint(
        &self,
        for_self: bool,
        owner_role: Role,
        scope: Scope,
    ) -> Result<(), MintRefusal> {
        let refuse = |field, reason: String| Err(MintRefusal { field, reason });
        if !for_self {
            if !self.may(Permission::TokenAdmin) {
                return refuse(
                    "user",
                    "you may mint tokens only for yourself; only an admin mints ingest tokens for others".into(),
                );
            }
            if scope != Scope::Ingest {
                return refuse(
                    "scope",
                    format!("an admin may mint only ingest tokens for other users; a {scope} token can read or act on cases, so its user mints it for themselves"),
                );
            }
            if !owner_role.grants(Permission::IntakeWrite) {
                return refuse(
                    "user",
                    format!(
                        "an ingest token would give a {owner_role} nothing: the role lacks {}",
                        Permission::IntakeWrite
                    ),
                );
            }
            return Ok(());
        }
        let gives = |p: &Permission| owner_role.grants(*p) && scope.allows(*p);
        if !Permission::ALL.iter().any(gives) {
            return refuse(
                "scope",
                format!("a {scope} token would give a {owner_role} nothing; pick a scope within the role"),
            );
        }
        if let Some(current) = self.scope {
            if let Some(wider) = Permission::ALL
                .iter()
                .filter(|p| gives(p))
                .find(|p| !current.allows(**p))
            {
                return refuse(
                    "scope",
                    format!("a {current} token cannot mint a {scope} token, which would add {wider}; sign in, or use a token with a wider scope"),
                );
            }
        }
        Ok(())
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
            teams: Vec::new(),
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

    fn principal(role: Role, scope: Option<Scope>) -> Principal {
        Principal {
            user_id: 7,
            name: "p".into(),
            role,
            teams: Vec::new(),
            scope,
        }
    }

    #[test]
    fn teams_are_codes_sorted_and_bounded() {
        assert_eq!(
            parse_teams(&["legal", "child_safety", "legal"]),
            Ok(vec!["child_safety".to_string(), "legal".to_string()])
        );
        assert!(parse_teams(&["Child Safety"]).unwrap_err().contains("team"));
        assert!(parse_teams(&[""]).is_err());
        let max: Vec<String> = (0..crate::limits::TEAMS_PER_USER_MAX)
            .map(|i| format!("t{i}"))
            .collect();
        assert!(parse_teams(&max).is_ok());
        let over: Vec<String> = (0..=crate::limits::TEAMS_PER_USER_MAX)
            .map(|i| format!("t{i}"))
            .collect();
        assert!(parse_teams(&over).is_err());
    }

    #[test]
    fn held_cases_change_only_by_their_holder_or_a_lead() {
        let analyst = principal(Role::Analyst, None);
        assert!(analyst.may_change_held_case(None));
        assert!(analyst.may_change_held_case(Some(7)));
        assert!(!analyst.may_change_held_case(Some(8)));
        assert!(principal(Role::Lead, None).may_change_held_case(Some(8)));
        assert!(
            !principal(Role::Lead, Some(Scope::Read)).may_change_held_case(Some(8)),
            "a read token cannot act as a lead"
        );
    }

    #[test]
    fn only_leads_and_auditors_see_unrouted_cases() {
        let seeing: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| sees_unrouted_cases(*r))
            .collect();
        assert_eq!(seeing, [Role::Lead, Role::Auditor]);
    }

    #[test]
    fn tokens_are_minted_by_their_user_or_are_ingest_tokens() {
        let admin = principal(Role::Admin, None);
        assert_eq!(
            admin
                .may_mint(false, Role::Lead, Scope::Review)
                .unwrap_err()
                .field,
            "scope"
        );
        assert_eq!(
            admin
                .may_mint(false, Role::Lead, Scope::Ingest)
                .unwrap_err()
                .field,
            "user"
        );
        assert!(admin.may_mint(false, Role::Admin, Scope::Ingest).is_ok());
        assert!(admin.may_mint(true, Role::Admin, Scope::Admin).is_ok());
        let lead = principal(Role::Lead, None);
        assert!(lead.may_mint(true, Role::Lead, Scope::Review).is_ok());
        assert_eq!(
            lead.may_mint(true, Role::Lead, Scope::Ingest)
                .unwrap_err()
                .field,
            "scope",
            "gives a lead nothing"
        );
        assert_eq!(
            lead.may_mint(false, Role::Analyst, Scope::Read)
                .unwrap_err()
                .field,
            "user"
        );
        let reader = principal(Role::Lead, Some(Scope::Read));
        assert!(reader.may_mint(true, Role::Lead, Scope::Read).is_ok());
        assert_eq!(
            reader
                .may_mint(true, Role::Lead, Scope::Review)
                .unwrap_err()
                .field,
            "scope",
            "no widening"
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
