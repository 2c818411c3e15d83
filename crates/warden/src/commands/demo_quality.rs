//! The demo's QA and calibration: a sampling plan (the sampling worker
//! inside `serve` fills the QA queue from the demo's decisions) and a
//! closed calibration session of three raters over six resolved cases, so
//! that the report with kappa and alpha is there to look at.

use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use warden_domain::access::Role;
use warden_domain::case::CaseStatus;
use warden_domain::quality::calibration::{CalibrationSession, Participant, SessionInput};
use warden_domain::quality::sampling::{RateRuleInput, SamplingPlanInput};
use warden_domain::Timestamp;
use warden_store::prelude::*;
use warden_store::{Actor, CaseFilter, CasePolicy, SqlStore};

/// The demo's sampling plan: a fifth of decisions, half of high-severity
/// ones, every critical one, every decision of a reviewer in their first
/// 30 days (the demo's analyst is new: the QA queue has their decisions).
pub fn demo_plan() -> SamplingPlanInput {
    SamplingPlanInput {
        name: "demo-weekly".into(),
        seed: 7,
        rate: 0.2,
        rates: vec![RateRuleInput {
            severity: Some("high".into()),
            rate: 0.5,
            ..RateRuleInput::default()
        }],
        all_severities: vec!["critical".into()],
        new_reviewer_days: Some(30),
        minimum_per_reviewer: 2,
        weekly_cap: Some(500),
        ..SamplingPlanInput::default()
    }
}

/// Saves the plan and the closed session once (the first load).
pub async fn seed(store: &SqlStore, policy: &CasePolicy, now: Timestamp) -> Result<()> {
    let system = Actor::system();
    if store.qa_plans().await?.is_empty() {
        store.save_qa_plan(&system, &demo_plan(), now).await?;
    }
    if !store.calibration_sessions(1).await?.is_empty() {
        return Ok(());
    }
    let cases = store
        .list_cases(&CaseFilter {
            statuses: vec![CaseStatus::Resolved],
            limit: 6,
            ..CaseFilter::default()
        })
        .await?;
    if cases.len() < 2 {
        return Ok(());
    }
    let lead = Participant {
        name: "lead",
        role: Role::Lead,
    };
    let input = SessionInput {
        title: "Demo calibration: where does spam end?".into(),
        case_ids: cases.iter().map(|c| c.id.0).collect(),
        raters: vec!["analyst".into(), "lead".into(), "qa".into()],
    };
    let mut session = CalibrationSession::create(lead, &input, now)
        .map_err(|e| anyhow::anyhow!("demo calibration session: {e}"))?;
    session
        .open(lead, now)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = store
        .create_calibration_session(&system, session.record(), now)
        .await?;
    let mut rng = StdRng::seed_from_u64(11);
    let others = ["spam", "harassment", "scam"];
    for rater in ["analyst", "lead", "qa"] {
        for case in &cases {
            // Mostly the case's own category; now and then another.
            let label = if rng.gen_bool(0.75) {
                case.category.as_str()
            } else {
                others[rng.gen_range(0..others.len())]
            };
            session
                .rate(rater, case.id.0, label, &policy.taxonomy, now)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    session
        .close(lead, now)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The ratings and the closing, written as one change.
    store
        .save_calibration_session(&system, (id, 1), session.record(), "close", now)
        .await?;
    Ok(())
}
