//! Records of taxonomy versions ([`crate::TaxonomyStore`]).

use warden_domain::enforcement::EnforcementPolicy;
use warden_domain::Timestamp;

/// One stored version of the enforcement policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxonomyVersionRecord {
    /// The version number, from 1.
    pub version: i64,
    /// The policy.
    pub policy: EnforcementPolicy,
    /// What changed, as its author wrote.
    pub note: String,
    /// Who published it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}
