//! The demo's incident: a follower-spam wave of a few open spam cases,
//! contained by one bulk action that the demo's lead asked for (dry run,
//! then submission) and a second lead (`lead2`, the demo password)
//! approved; the bulk runner has applied it, so the incident page shows
//! the timeline, the impact counts and a finished bulk action.

use std::sync::Arc;

use anyhow::Result;

use warden_app::{App, AppSettings};
use warden_domain::access::Role;
use warden_domain::case::CaseStatus;
use warden_domain::incident::{IncidentInput, MembershipInput};
use warden_domain::Timestamp;
use warden_server::auth::hash_password;
use warden_store::prelude::*;
use warden_store::{Actor, CaseFilter, CasePolicy, SqlStore};
use warden_workers::bulk::BulkRunner;

use super::bench::bulk::{lead, removal};

/// Cases the demo's incident takes.
const DEMO_INCIDENT_CASES: u32 = 6;

/// Opens the demo's incident and runs its bulk action, once (the first load).
pub async fn seed(
    store: &SqlStore,
    policy: &CasePolicy,
    password: &str,
    now: Timestamp,
) -> Result<()> {
    if !store.list_incidents(1, 0).await?.is_empty() {
        return Ok(());
    }
    if store.user_by_name("lead2").await?.is_none() {
        let hash = hash_password(password).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        store
            .create_user(&Actor::system(), "lead2", Role::Lead, &hash, now)
            .await?;
    }
    let cases = store
        .list_cases(&CaseFilter {
            category: Some("spam".into()),
            statuses: vec![CaseStatus::New],
            limit: DEMO_INCIDENT_CASES,
            ..CaseFilter::default()
        })
        .await?;
    if cases.is_empty() {
        return Ok(());
    }
    // A store's clone shares its pools.
    let app = App::new(
        Arc::new(store.clone()),
        policy.clone(),
        AppSettings::default(),
    );
    let (author, approver) = (lead(store, "lead").await?, lead(store, "lead2").await?);
    let incident = app
        .create_incident(
            &author,
            &IncidentInput {
                title: Some("Follower-selling spam wave".into()),
                severity: Some("sev3".into()),
                description: Some("Fresh accounts posting the same follower-selling link.".into()),
            },
        )
        .await?;
    let membership = MembershipInput {
        case_ids: Some(cases.iter().map(|c| c.id.0).collect()),
        query: None,
    };
    app.add_incident_cases(&author, incident.id, &membership)
        .await?;
    let mut draft = removal("fresh accounts posting the same follower-selling link");
    app.plan_bulk_action(&author, incident.id, &draft).await?;
    draft.dry_run = Some(false);
    let submitted = app.plan_bulk_action(&author, incident.id, &draft).await?;
    app.approve_bulk_action(&approver, incident.id, submitted.record.id)
        .await?;
    BulkRunner::new(app)
        .run_until_idle()
        .await
        .map_err(anyhow::Error::msg)?;
    Ok(())
}
