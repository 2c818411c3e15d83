//! Migrations, per backend, in order: each runs once, in a transaction,
//! recorded in `warden_migrations`. On PostgreSQL an advisory lock makes
//! servers starting together take turns.

use super::{Backend, SqlStore};
use crate::{StoreError, StoreResult};

/// Migrations, per backend, in order. Each runs once, in a transaction.
const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_core.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_claim_index.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_detection.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_enforcement.sql"),
    ),
    (5, include_str!("../../migrations/sqlite/0005_teams.sql")),
    (
        6,
        include_str!("../../migrations/sqlite/0006_classifier_models.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_core.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_claim_index.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_detection.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_enforcement.sql"),
    ),
    (5, include_str!("../../migrations/postgres/0005_teams.sql")),
    (
        6,
        include_str!("../../migrations/postgres/0006_classifier_models.sql"),
    ),
];

/// Advisory lock key that serialises migrations across servers starting together.
const MIGRATION_LOCK_KEY: i64 = 0x5741_5244_454e_0001;

impl SqlStore {
    /// Applies the migrations this database lacks.
    pub(super) async fn migrate(&self) -> StoreResult<()> {
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut tx = self.writer.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS warden_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM warden_migrations")
            .fetch_all(&mut *tx)
            .await?;
        for (version, sql) in migrations {
            if applied.contains(version) {
                continue;
            }
            for statement in split_statements(sql) {
                sqlx::query(&statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| {
                        StoreError::Database(format!("migration {version} failed: {error}"))
                    })?;
            }
            sqlx::query("INSERT INTO warden_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(chrono::Utc::now().timestamp_millis())
                .execute(&mut *tx)
                .await?;
            tracing::info!(
                backend = self.backend.as_str(),
                version,
                "applied migration"
            );
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Splits a migration into statements at semicolons that end a line, and
/// drops comment-only pieces. Migrations hold no semicolons inside literals.
fn split_statements(sql: &str) -> Vec<String> {
    sql.split(";\n")
        .map(|piece| {
            piece
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .map(|piece| piece.trim().trim_end_matches(';').to_string())
        .filter(|piece| !piece.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_registered() {
        for (backend, list) in [
            ("sqlite", SQLITE_MIGRATIONS),
            ("postgres", POSTGRES_MIGRATIONS),
        ] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend);
            let files = std::fs::read_dir(&dir)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "sql")
                })
                .count();
            assert_eq!(
                files,
                list.len(),
                "{backend}: a migration file is not registered"
            );
            for (index, (version, _)) in list.iter().enumerate() {
                assert_eq!(*version, index as i64 + 1);
            }
        }
    }

    #[test]
    fn migrations_split_into_statements() {
        let statements = split_statements(SQLITE_MIGRATIONS[0].1);
        assert!(statements.len() > 20);
        assert!(statements.iter().all(|s| !s.starts_with("--")));
        assert_eq!(
            statements.len(),
            split_statements(POSTGRES_MIGRATIONS[0].1).len()
        );
    }
}
