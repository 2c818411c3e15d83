//! [`HealthCheck`]: which database this is and whether it answers.
//!
//! Nothing here writes or commits. `ping` failing means the database does
//! not answer now (readiness reports it); it changes nothing.

use async_trait::async_trait;

use crate::{Backend, StoreResult};

/// Which backend a store talks to, and whether it answers.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
}
