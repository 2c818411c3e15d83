//! Transparency: DSA statements of reasons as stored (their read is
//! audited: they describe decisions about people), checking a statement
//! against the Transparency Database's rules, and the report aggregates.

use serde_json::{json, Value};

use warden_domain::access::Permission;
use warden_domain::dsa::{self, Endpoint, Violations};
use warden_domain::transparency::{aggregate, TransparencyReport};
use warden_domain::Timestamp;
use warden_store::DsaStatementRecord;

use crate::{Actor, App, CommandError, CommandResult};

/// Statements written in `[since, until)`, by id, after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementWindow {
    /// From (inclusive).
    pub since: Timestamp,
    /// Until (exclusive); `None`: up to now.
    pub until: Option<Timestamp>,
    /// Statements after this id (paging).
    pub after: i64,
    /// Page size, checked by the caller against `PAGE_SIZE_MAX`.
    pub limit: u32,
}

/// A period `[from, to)`, `to` after `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    from: Timestamp,
    to: Timestamp,
}

impl Period {
    /// Checks that `to` comes after `from`.
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Self, CommandError> {
        if to <= from {
            return Err(CommandError::invalid("to", "must be after from"));
        }
        Ok(Self { from, to })
    }

    /// Its start.
    pub fn from(&self) -> Timestamp {
        self.from
    }

    /// Its end (excluded).
    pub fn to(&self) -> Timestamp {
        self.to
    }
}

impl App {
    /// Statements of reasons in a window; reading them is audited.
    pub async fn dsa_statements(
        &self,
        actor: &Actor,
        query: StatementWindow,
    ) -> CommandResult<Vec<DsaStatementRecord>> {
        actor.require(Permission::TransparencyRead)?;
        let until = query
            .until
            .unwrap_or_else(|| self.now() + chrono::Duration::seconds(1));
        let rows = self
            .store()
            .dsa_statements(query.since, until, query.after, query.limit)
            .await?;
        if !rows.is_empty() {
            self.store()
                .record_read(
                    &actor.audit(),
                    "dsa.read",
                    "dsa_statements",
                    &format!("{} statements", rows.len()),
                    json!({"ids": rows.iter().map(|r| r.id).collect::<Vec<_>>()}),
                    self.now(),
                )
                .await?;
        }
        Ok(rows)
    }

    /// What the Transparency Database would say of a statement.
    pub fn validate_statement(&self, statement: &Value, endpoint: Endpoint) -> Violations {
        dsa::validate(statement, endpoint)
    }

    /// Transparency-report aggregates of a period.
    pub async fn transparency_report(
        &self,
        actor: &Actor,
        period: Period,
    ) -> CommandResult<TransparencyReport> {
        actor.require(Permission::TransparencyRead)?;
        let facts = self
            .store()
            .transparency_facts(period.from, period.to)
            .await?;
        Ok(aggregate(
            &facts.actions,
            &facts.reversals,
            facts.appeals,
            facts.statements,
        ))
    }
}
