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
    (
        7,
        include_str!("../../migrations/sqlite/0007_audit_checkpoints.sql"),
    ),
    // 7 is taken by a migration on another branch (merged separately).
    (8, include_str!("../../migrations/sqlite/0008_checks.sql")),
    (
        9,
        include_str!("../../migrations/sqlite/0009_claim_order.sql"),
    ),
    (
        10,
        include_str!("../../migrations/sqlite/0010_case_classifier_priority.sql"),
    ),
    (11, include_str!("../../migrations/sqlite/0011_quality.sql")),
    (12, include_str!("../../migrations/sqlite/0012_appeals.sql")),
    // 13 is PostgreSQL's audit sealing; SQLite chains as it writes.
    (
        14,
        include_str!("../../migrations/sqlite/0014_escalations.sql"),
    ),
    (
        15,
        include_str!("../../migrations/sqlite/0015_incidents.sql"),
    ),
    (16, include_str!("../../migrations/sqlite/0016_kpis.sql")),
    (
        17,
        include_str!("../../migrations/sqlite/0017_decision_volume.sql"),
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
    (
        7,
        include_str!("../../migrations/postgres/0007_audit_checkpoints.sql"),
    ),
    // 7 is taken by a migration on another branch (merged separately).
    (8, include_str!("../../migrations/postgres/0008_checks.sql")),
    (
        9,
        include_str!("../../migrations/postgres/0009_claim_order.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_case_classifier_priority.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_quality.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_appeals.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_audit_sealing.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_escalations.sql"),
    ),
    (
        15,
        include_str!("../../migrations/postgres/0015_incidents.sql"),
    ),
    (16, include_str!("../../migrations/postgres/0016_kpis.sql")),
    (
        17,
        include_str!("../../migrations/postgres/0017_decision_volume.sql"),
    ),
    (
        18,
        include_str!("../../migrations/postgres/0018_detection_order.sql"),
    ),
];

/// Advisory lock key that serialises migrations across servers starting together.
const MIGRATION_LOCK_KEY: i64 = 0x5741_5244_454e_0001;

impl SqlStore {
    /// Applies the migrations this database lacks.
    pub(super) async fn migrate(&self) -> StoreResult<()> {
        self.migrate_through(i64::MAX).await
    }

    /// Brings the database a URL names (`sqlite://PATH` or
    /// `postgres://...`) up to migration `version` and no further, then
    /// closes it: a database of an earlier schema, for upgrade tests (the
    /// previous release's is 1–8). Opening a store applies the rest.
    pub async fn migrate_url_through(url: &str, version: i64) -> StoreResult<()> {
        sqlx::any::install_default_drivers();
        let (backend, url) = match url.strip_prefix("sqlite://") {
            Some(path) => (
                Backend::Sqlite,
                format!(
                    "sqlite://{}?mode=rwc",
                    path.split('?').next().unwrap_or(path)
                ),
            ),
            None => (Backend::Postgres, url.to_string()),
        };
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let store = Self {
            backend,
            writer: pool.clone(),
            reader: pool.clone(),
        };
        store.migrate_through(version).await?;
        pool.close().await;
        Ok(())
    }

    /// Applies the migrations this database lacks, up to `last`.
    async fn migrate_through(&self, last: i64) -> StoreResult<()> {
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
        for (version, sql) in migrations.iter().filter(|(v, _)| *v <= last) {
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
    #![allow(clippy::too_many_lines)] // Tests read as whole stories.
    use super::*;

    /// The migration files of a backend, as (number, text), by number.
    fn migration_files(backend: &str) -> Vec<(i64, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut files: Vec<(i64, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|x| x == "sql"))
            .map(|path| {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                let number = name[..4]
                    .parse()
                    .expect("migration files start with 4 digits");
                (number, std::fs::read_to_string(&path).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn every_migration_file_is_registered() {
        for (backend, list) in [
            ("sqlite", SQLITE_MIGRATIONS),
            ("postgres", POSTGRES_MIGRATIONS),
        ] {
            let files = migration_files(backend);
            assert_eq!(
                files.len(),
                list.len(),
                "{backend}: a migration file is not registered"
            );
            for ((number, text), (version, sql)) in files.iter().zip(list) {
                assert_eq!(number, version, "{backend}: registered out of order");
                assert_eq!(text, sql, "{backend}: {version} is not its file");
            }
            assert!(list.windows(2).all(|pair| pair[0].0 < pair[1].0));
            assert_eq!(list[0].0, 1);
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

    /// Each `(table, column)` of migration 0008 and the values it admits,
    /// from the domain's enums.
    fn checked_columns() -> Vec<(&'static str, &'static str, Vec<String>)> {
        use crate::{ModelStatus, NoticeStatus, RuleMode, SubmissionStatus};
        use warden_domain::access::{Role, Scope};
        use warden_domain::action::{ActionStatus, DeliveryStatus};
        use warden_domain::case::{CaseStatus, Severity};
        use warden_domain::ids::SubjectKind;
        use warden_domain::intake::ReportSource;
        use warden_domain::notice::REVERSAL;
        use warden_domain::webhook::DeliveryKind;

        let quoted = |values: Vec<&str>| values.iter().map(|v| format!("'{v}'")).collect();
        let kinds: Vec<String> = quoted(SubjectKind::ALL.iter().map(|k| k.as_str()).collect());
        let statuses: Vec<String> = quoted(CaseStatus::ALL.iter().map(|s| s.as_str()).collect());
        let action_types: Vec<String> = quoted(ACTION_TYPES.to_vec());
        let action_statuses: Vec<String> =
            quoted(ActionStatus::ALL.iter().map(|s| s.as_str()).collect());
        let modes: Vec<String> = quoted(RuleMode::ALL.iter().map(|m| m.as_str()).collect());
        let mut template_types = action_types.clone();
        template_types.push(format!("'{REVERSAL}'"));
        vec![
            ("subjects", "kind", kinds.clone()),
            ("subjects", "owner_kind", kinds.clone()),
            ("events", "actor_kind", kinds.clone()),
            ("events", "subject_kind", kinds.clone()),
            ("cases", "subject_kind", kinds.clone()),
            (
                "cases",
                "severity",
                Severity::ALL.iter().map(|s| s.rank().to_string()).collect(),
            ),
            ("cases", "status", statuses.clone()),
            ("reports", "subject_kind", kinds.clone()),
            (
                "reports",
                "source",
                quoted(ReportSource::ALL.iter().map(|s| s.as_str()).collect()),
            ),
            ("reports", "reporter_kind", kinds.clone()),
            ("signals", "subject_kind", kinds.clone()),
            ("case_transitions", "from_status", statuses.clone()),
            ("case_transitions", "to_status", statuses),
            ("decisions", "subject_kind", kinds.clone()),
            ("actions", "target_kind", kinds.clone()),
            ("actions", "action_type", action_types.clone()),
            ("actions", "status", action_statuses.clone()),
            (
                "users",
                "role",
                quoted(Role::ALL.iter().map(|r| r.as_str()).collect()),
            ),
            (
                "api_tokens",
                "scope",
                quoted(Scope::ALL.iter().map(|s| s.as_str()).collect()),
            ),
            ("rule_versions", "mode", modes.clone()),
            ("rule_hits", "mode", modes),
            ("rule_hits", "subject_kind", kinds.clone()),
            ("labels", "subject_kind", kinds.clone()),
            ("rule_actions", "target_kind", kinds.clone()),
            ("rule_actions", "action_type", action_types),
            ("rule_actions", "status", action_statuses),
            (
                "outbox",
                "kind",
                // `escalation.page` is admitted since 0014 (checked below).
                quoted(
                    DeliveryKind::ALL
                        .iter()
                        .filter(|k| **k != DeliveryKind::Page)
                        .map(|k| k.as_str())
                        .collect(),
                ),
            ),
            (
                "outbox",
                "status",
                quoted(DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect()),
            ),
            ("notice_templates", "action_type", template_types),
            ("notices", "recipient_kind", kinds),
            (
                "notices",
                "status",
                quoted(NoticeStatus::ALL.iter().map(|s| s.as_str()).collect()),
            ),
            (
                "dsa_statements",
                "submission_status",
                quoted(SubmissionStatus::ALL.iter().map(|s| s.as_str()).collect()),
            ),
            (
                "classifier_models",
                "status",
                quoted(ModelStatus::ALL.iter().map(|s| s.as_str()).collect()),
            ),
        ]
    }

    /// The action types Warden stores (`ActionKind::type_name`).
    const ACTION_TYPES: [&str; 7] = [
        "remove_content",
        "warn",
        "restrict",
        "suspend",
        "ban",
        "hold_transaction",
        "label",
    ];

    #[test]
    fn the_action_types_listed_are_the_domains() {
        for name in ACTION_TYPES {
            let kind = warden_domain::decision::ActionKind::from_stored(name, Some("f"), Some("l"))
                .unwrap();
            assert_eq!(kind.type_name(), name);
        }
    }

    /// Migration 0014 admits every delivery kind, pages included, and
    /// checks the new enum columns, on both backends.
    #[test]
    fn escalations_admit_every_delivery_kind_and_check_their_enums() {
        use warden_domain::webhook::DeliveryKind;
        let all: Vec<String> = DeliveryKind::ALL
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        let list = format!("({})", all.join(", "));
        let sqlite = SQLITE_MIGRATIONS.iter().find(|(v, _)| *v == 14).unwrap().1;
        let postgres = POSTGRES_MIGRATIONS
            .iter()
            .find(|(v, _)| *v == 14)
            .unwrap()
            .1;
        assert!(postgres.contains(&format!(
            "CONSTRAINT outbox_kind_known CHECK (kind IN {list});"
        )));
        for op in ["insert", "update"] {
            assert!(sqlite.contains(&format!("outbox_kind_known_{op} ")));
            for name in ["escalations_severity_known", "evidence_items_kind_known"] {
                assert!(sqlite.contains(&format!("CREATE TRIGGER {name}_{op} ")));
                assert!(postgres.contains(&format!("CONSTRAINT {name} ")));
            }
        }
        assert!(sqlite.contains(&format!("WHEN NEW.kind NOT IN {list} ")));
    }

    /// Every status and kind column is checked on both backends, with
    /// exactly the values of its domain enum.
    #[test]
    fn checks_admit_exactly_the_domains_values() {
        let sqlite = SQLITE_MIGRATIONS.iter().find(|(v, _)| *v == 8).unwrap().1;
        let postgres = POSTGRES_MIGRATIONS.iter().find(|(v, _)| *v == 8).unwrap().1;
        let classifier_models = SQLITE_MIGRATIONS[5].1;
        for (table, column, values) in checked_columns() {
            let list = format!("({})", values.join(", "));
            if table == "classifier_models" {
                // Checked since its table was made (0006).
                assert!(classifier_models.contains(&format!("{column} IN {list}")));
                continue;
            }
            let name = format!("{table}_{column}_known");
            let pg_line = postgres
                .lines()
                .find(|l| l.contains(&format!("CONSTRAINT {name} ")))
                .unwrap_or_else(|| panic!("postgres: no check on {table}.{column}"));
            assert!(
                pg_line.ends_with(&format!("CHECK ({column} IN {list});")),
                "{pg_line}"
            );
            for op in ["insert", "update"] {
                let line = sqlite
                    .lines()
                    .find(|l| l.starts_with(&format!("CREATE TRIGGER {name}_{op} ")))
                    .unwrap_or_else(|| panic!("sqlite: no {op} trigger on {table}.{column}"));
                assert!(
                    line.contains(&format!("WHEN NEW.{column} NOT IN {list} ")),
                    "{line}"
                );
                assert!(line.contains(&format!(" ON {table} ")), "{line}");
            }
        }
        let checks = postgres
            .lines()
            .filter(|l| l.starts_with("ALTER TABLE"))
            .count();
        let triggers = sqlite
            .lines()
            .filter(|l| l.starts_with("CREATE TRIGGER"))
            .count();
        assert_eq!(checks, checked_columns().len() - 1);
        assert_eq!(triggers, 2 * checks);
        // Each trigger stays one statement when the migration is split.
        assert_eq!(split_statements(sqlite).len(), triggers);
    }
}
