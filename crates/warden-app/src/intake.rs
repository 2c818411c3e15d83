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
//! stored; a live classifier's score of their case's text then weighs in
//! its priority when configured ([`crate::case_scores`]).

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

/// The (subject, category) of the items stored now (a blank category:
/// filed in no case), in order.
fn created(
    items: Vec<(warden_domain::SubjectRef, String)>,
    outcomes: &[IntakeOutcome],
) -> Vec<(warden_domain::SubjectRef, String)> {
    items
        .into_iter()
        .zip(outcomes)
        .filter(|((_, category), outcome)| {
            !category.is_empty() && matches!(outcome, IntakeOutcome::Created)
        })
        .map(|(item, _)| item)
        .collect()
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
        let filed: Vec<_> = items
            .iter()
            .map(|r| (r.subject.clone(), r.reason.clone()))
            .collect();
        let outcomes = self
            .store()
            .ingest_reports(&actor.audit(), items, policy.case_policy(), self.now())
            .await?;
        self.weigh_scores(actor, created(filed, &outcomes)).await;
        Ok(outcomes)
    }

    /// Stores signals and opens or joins cases for those that open cases.
    pub async fn ingest_signals(
        &self,
        actor: &Actor,
        items: Vec<NewSignal>,
    ) -> CommandResult<Vec<IntakeOutcome>> {
        check_count(actor, items.len())?;
        let policy = self.policy();
        let filed: Vec<_> = items
            .iter()
            .map(|s| (s.subject.clone(), s.category.clone(), s.opens_case))
            .collect();
        let outcomes = self
            .store()
            .ingest_signals(&actor.audit(), items, policy.case_policy(), self.now())
            .await?;
        let filed = filed
            .into_iter()
            .map(|(subject, category, opens)| {
                (subject, if opens { category } else { String::new() })
            })
            .collect();
        self.weigh_scores(actor, created(filed, &outcomes)).await;
        Ok(outcomes)
    }
}
