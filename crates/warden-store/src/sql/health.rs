//! The SQL of [`HealthCheck`].

use async_trait::async_trait;

use super::{Backend, SqlStore};
use crate::{HealthCheck, StoreResult};

#[async_trait]
impl HealthCheck for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
}
