//! Intake: subjects, events, reports and signals in, one outcome per item
//! out. The HTTP handler calls it for one JSON item or an NDJSON batch; a
//! NATS consumer will call it the same way.
//!
//! Items arrive checked (the transport parsed them at its edge, reports'
//! reasons and signals' categories against [`App::policy`]'s taxonomy).
//! A call is one transaction with one audit record; an item the store
//! cannot take (a category the taxonomy in force does not know, a
//! database error on that item) is refused alone and the others commit.
//! Reports and signals are placed by the policy in force when they are
//! stored.

use warden_domain::access::Permission;
use warden_domain::intake::{IntakeOutcome, NewEvent, NewReport, NewSignal, NewSubject};

use crate::limits::INTAKE_ITEMS_PER_CALL_MAX;
use crate::{Actor, App, CommandError, CommandResult};

fn check_count(actor: &Actor, count: usize) -> CommandResult<()> {
    actor.require(Permission::IntakeWrite)?;
    if count > INTAKE_ITEMS_PER_CALL_MAX {
        return Err(CommandError::invalid(
            "items",
            format!("at most {INTAKE_ITEMS_PER_CALL_MAX} items are taken at once, got {count}"),
        ));
    }
    Ok(())
}

impl App {
    /// Creates or updates subjects.
    pub async fn ingest_subjects(
        &self,
        actor: &Actor,
        items: Vec<NewSubject>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        check_count(actor, items.len())?;
        Ok(self
            .store()
            .ingest_subjects(&actor.audit(), items, self.now())
            .await?)
    }

    /// Stores events, then tells the event listener (the detection worker).
    pub async fn ingest_events(
        &self,
        actor: &Actor,
        items: Vec<NewEvent>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        check_count(actor, items.len())?;
        let outcomes = self
            .store()
            .ingest_events(&actor.audit(), items, self.now())
            .await?;
        if let Some(listener) = &self.event_listener {
            listener();
        }
        Ok(outcomes)
    }

    /// Stores reports and opens or joins their cases, by the policy in force.
    pub async fn ingest_reports(
        &self,
        actor: &Actor,
        items: Vec<NewReport>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        check_count(actor, items.len())?;
        let policy = self.policy();
        Ok(self
            .store()
            .ingest_reports(&actor.audit(), items, policy.case_policy(), self.now())
            .await?)
    }

    /// Stores signals and opens or joins cases for those that open cases.
    pub async fn ingest_signals(
        &self,
        actor: &Actor,
        items: Vec<NewSignal>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        check_count(actor, items.len())?;
        let policy = self.policy();
        Ok(self
            .store()
            .ingest_signals(&actor.audit(), items, policy.case_policy(), self.now())
            .await?)
    }
}
