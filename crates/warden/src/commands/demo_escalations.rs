//! The demo's escalations: two open cases with evidence (a text excerpt
//! and a URL, each stored under its SHA-256) escalated to specialist
//! teams — a Sev-1 to `child_safety`, left unacknowledged so that it stays
//! on the lead view, and a Sev-2 to `fraud_ring`, acknowledged by the
//! demo lead. Made through the application, as the console would.

use std::sync::Arc;

use anyhow::Result;

use warden_app::cases::{Note, NoteCommand};
use warden_app::{Actor as AppActor, App, AppSettings};
use warden_domain::access::Principal;
use warden_domain::appeal::CaseKind;
use warden_domain::case::CaseStatus;
use warden_domain::decision::Rationale;
use warden_domain::escalation::EscalateInput;
use warden_domain::evidence::EvidenceInput;
use warden_store::prelude::*;
use warden_store::{CaseFilter, CasePolicy, SqlStore};

/// The demo user `name` as the application's actor.
async fn demo_actor(store: &SqlStore, name: &str) -> Result<AppActor> {
    let user = store
        .user_by_name(name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo {name} is missing"))?;
    Ok(AppActor::user(Principal {
        user_id: user.id,
        name: user.name,
        role: user.role,
        teams: user.teams,
        scope: None,
    }))
}

/// Attaches evidence and a note to `case` and escalates it as the analyst.
async fn escalate_one(
    store: &SqlStore,
    app: &App,
    analyst: &AppActor,
    case: &warden_store::CaseRecord,
    (team, severity, reason): (&str, &str, &str),
) -> Result<()> {
    let excerpt = EvidenceInput {
        kind: Some("text_excerpt".into()),
        text: Some(reason.to_string()),
        caption: Some("what the reporter saw, quoted".into()),
        ..EvidenceInput::default()
    };
    let link = EvidenceInput {
        kind: Some("url".into()),
        url: Some(format!("https://platform.example/reports/{}", case.id)),
        caption: Some("the platform's own view of it".into()),
        ..EvidenceInput::default()
    };
    for item in [excerpt, link] {
        app.attach_evidence(analyst, case.id, &item, None).await?;
    }
    // Below Sev-1 a package needs notes and next steps.
    let note = Note::parse(Rationale {
        what_happened: reason.to_string(),
        next_steps: "Preserve the account's data; decide on referral to the authorities.".into(),
        ..Rationale::default()
    })
    .map_err(|e| anyhow::anyhow!("the demo note: {e}"))?;
    app.add_note(
        analyst,
        NoteCommand {
            case: case.id,
            note,
        },
    )
    .await?;
    let version = store
        .case(case.id)
        .await?
        .map_or(case.version, |c| c.version);
    let input = EscalateInput {
        version: Some(version),
        team: Some(team.into()),
        severity: Some(severity.into()),
        reason: Some(reason.into()),
    };
    app.escalate_to_team(analyst, case.id, &input).await?;
    Ok(())
}

/// Escalates two open cases once (the first load).
pub async fn seed(store: &SqlStore, policy: &CasePolicy) -> Result<()> {
    if !store.unacknowledged_escalations(1).await?.is_empty() {
        return Ok(());
    }
    let app = App::new(
        Arc::new(store.clone()),
        policy.clone(),
        AppSettings::default(),
    );
    let analyst = demo_actor(store, "analyst").await?;
    let lead = demo_actor(store, "lead").await?;
    let cases: Vec<_> = store
        .list_cases(&CaseFilter {
            statuses: vec![CaseStatus::New],
            limit: 50,
            ..CaseFilter::default()
        })
        .await?
        .into_iter()
        .filter(|c| c.kind == CaseKind::Report && c.assignee.is_none())
        .take(2)
        .collect();
    let plans = [
        ("child_safety", "sev1", "An adult asks a child to move to a private app and send photos; the child says they are 12."),
        ("fraud_ring", "sev2", "Same payout account behind forty new sellers this week; buyers report paying and receiving nothing."),
    ];
    for (index, (case, (team, severity, reason))) in cases.iter().zip(plans).enumerate() {
        escalate_one(store, &app, &analyst, case, (team, severity, reason)).await?;
        if index == 1 {
            app.acknowledge_escalation(&lead, case.id).await?;
        }
    }
    Ok(())
}
