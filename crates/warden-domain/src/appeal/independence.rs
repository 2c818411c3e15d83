//! The independence of an appeal's review: who may review whose decision.
//!
//! DSA Art. 20(6) asks that complaints are decided by qualified staff and
//! not solely by automated means; a fair review also needs someone other
//! than the person who decided. Two rules, in one function
//! ([`may_review_appeal`]) that claim, assign, decide and queue listing
//! all call:
//!
//! 1. The original decider never reviews their own decision: they do not
//!    see the appeal in a queue, cannot claim it, be assigned it or decide
//!    it.
//! 2. The reviewer's role is at least the original decider's, in the
//!    order of roles that decide cases:
//!
//!    **associate < analyst < lead**
//!
//!    An associate's decision may be reviewed by an associate (another
//!    one), an analyst or a lead; an analyst's by an analyst or a lead; a
//!    lead's by another lead only. Roles that do not decide cases (`qa`,
//!    `policy`, `admin`, `auditor`) have no place in the order: they
//!    review no appeal. A decision Warden made by itself (no decider) may
//!    be reviewed by any person who decides cases. A decider whose role
//!    has no place in the order (promoted to admin since, say) is treated
//!    as a lead: only a lead reviews their decision.
//!
//! The decider's role is the one the store recorded with the appeal when
//! it came in, so that a later promotion does not change who may review.

use std::fmt;

use crate::access::Role;
use crate::ids::UserId;

/// The roles that decide cases, lowest first.
pub const APPEAL_ROLE_ORDER: [Role; 3] = [Role::Associate, Role::Analyst, Role::Lead];

/// A role's place in [`APPEAL_ROLE_ORDER`]: 1 (associate) to 3 (lead);
/// `None` for roles that do not decide cases.
pub fn appeal_rank(role: Role) -> Option<u8> {
    APPEAL_ROLE_ORDER
        .iter()
        .position(|r| *r == role)
        .and_then(|index| u8::try_from(index + 1).ok())
}

/// The rank a decider's decision asks of its reviewer: their own, or a
/// lead's when their role no longer decides cases.
fn rank_required(decider: Role) -> u8 {
    appeal_rank(decider).unwrap_or(3)
}

/// A person in the independence rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppealParty {
    /// Their user id.
    pub user: UserId,
    /// Their role (the decider's as recorded with the appeal).
    pub role: Role,
}

/// Why someone may not review an appeal (the API answers `403` with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// They made the decision appealed.
    OriginalDecider,
    /// Their role is below the original decider's.
    RoleBelowDecider {
        /// The would-be reviewer's role.
        reviewer: Role,
        /// The original decider's.
        decider: Role,
    },
    /// Their role does not decide cases.
    RoleDoesNotDecide {
        /// The role.
        role: Role,
    },
}

impl Refusal {
    /// A stable code for logs and answers.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::OriginalDecider => "original_decider",
            Refusal::RoleBelowDecider { .. } => "role_below_decider",
            Refusal::RoleDoesNotDecide { .. } => "role_does_not_decide",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::OriginalDecider => f.write_str(
                "you made the decision under appeal; someone else must review it",
            ),
            Refusal::RoleBelowDecider { reviewer, decider } => write!(
                f,
                "the decision under appeal was made by a {decider}; a {reviewer} cannot review it (associate < analyst < lead)"
            ),
            Refusal::RoleDoesNotDecide { role } => {
                write!(f, "a {role} does not decide cases, so reviews no appeal")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// Whether `reviewer` may review an appeal of a decision made by
/// `original_decider` (`None`: Warden decided by itself). See the module
/// documentation for the rules.
pub fn may_review_appeal(
    reviewer: &AppealParty,
    original_decider: Option<&AppealParty>,
) -> Result<(), Refusal> {
    let Some(rank) = appeal_rank(reviewer.role) else {
        return Err(Refusal::RoleDoesNotDecide {
            role: reviewer.role,
        });
    };
    let Some(decider) = original_decider else {
        return Ok(());
    };
    if decider.user == reviewer.user {
        return Err(Refusal::OriginalDecider);
    }
    if rank < rank_required(decider.role) {
        return Err(Refusal::RoleBelowDecider {
            reviewer: reviewer.role,
            decider: decider.role,
        });
    }
    Ok(())
}

/// The independence rule as a store filters appeal cases by it: an appeal
/// case is listed to the reviewer when its original decider is not them
/// and the decider's recorded role is among `decider_roles` (or Warden
/// decided). A reviewer whose role decides no case gets no filter: no
/// appeal case is listed to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealListingFilter {
    /// Hide appeals of this user's decisions.
    pub not_decided_by: UserId,
    /// Show appeals of decisions made by these roles only.
    pub decider_roles: Vec<Role>,
    /// Show appeals of decisions Warden made by itself.
    pub automated: bool,
}

impl AppealListingFilter {
    /// The filter for `reviewer`, or `None` when they review no appeal.
    pub fn for_reviewer(reviewer: &AppealParty) -> Option<Self> {
        let rank = appeal_rank(reviewer.role)?;
        Some(Self {
            not_decided_by: reviewer.user,
            decider_roles: crate::access::Role::ALL
                .into_iter()
                .filter(|role| rank_required(*role) <= rank)
                .collect(),
            automated: true,
        })
    }

    /// Whether an appeal of a decision by `decider` passes the filter; it
    /// agrees with [`may_review_appeal`] for every reviewer and decider.
    pub fn admits(&self, decider: Option<&AppealParty>) -> bool {
        match decider {
            None => self.automated,
            Some(decider) => {
                decider.user != self.not_decided_by && self.decider_roles.contains(&decider.role)
            }
        }
    }
}
