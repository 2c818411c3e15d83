//! Many analysts working one queue at once: every case goes to exactly one
//! of them, and none is lost.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Duration;

use warden_domain::access::Role;
use warden_domain::case::CaseStatus;
use warden_domain::decision::{DecisionInput, Rationale};
use warden_domain::ids::SubjectKind;
use warden_domain::intake::ReportSource;
use warden_store::prelude::*;
use warden_store::{Actor, CaseFilter, DecisionMode, SqlStore};

use crate::store_test;
use crate::support::{policy, reference, report, t0, user, verify_audit};

const CASES: usize = 1_000;
const CLAIMERS: usize = 32;

fn no_violation() -> DecisionInput {
    DecisionInput {
        violation: false,
        category: "spam".into(),
        policy: None,
        actions: Vec::new(),
        rationale: Rationale {
            what_happened: "reported as spam".into(),
            policy: "spam 1.0: not met".into(),
            ..Rationale::default()
        },
    }
}

store_test!(
    thirty_two_claimers_over_a_thousand_cases,
    |store: SqlStore| async move {
        let reports: Vec<_> = (0..CASES)
            .map(|i| {
                report(
                    &format!("r{i}"),
                    &reference(SubjectKind::Content, &format!("p{i}")),
                    "spam",
                    ReportSource::UserReport,
                )
            })
            .collect();
        store
            .ingest_reports(&Actor::system(), reports, &policy(), t0())
            .await
            .unwrap();
        let store = Arc::new(store);
        let mut actors = Vec::new();
        for n in 0..CLAIMERS {
            actors.push(user(&store, &format!("analyst{n}"), Role::Analyst).await.1);
        }
        let tasks: Vec<_> = actors
            .into_iter()
            .map(|actor| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut worked = Vec::new();
                    while let Some(case) = store
                        .claim_next(&actor, "general", Duration::minutes(10), t0())
                        .await
                        .expect("claim")
                    {
                        assert_eq!(case.assignee.as_deref(), Some(actor.name.as_str()));
                        store
                            .decide(
                                &actor,
                                case.id,
                                case.version,
                                no_violation(),
                                &policy(),
                                DecisionMode::First,
                                t0(),
                            )
                            .await
                            .expect("decide a case I hold");
                        worked.push(case.id);
                    }
                    worked
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        let distinct: HashSet<_> = all.iter().copied().collect();
        assert_eq!(all.len(), CASES, "every case was claimed once");
        assert_eq!(distinct.len(), CASES, "no case was claimed twice");
        let mut resolved = 0;
        let mut offset = 0;
        loop {
            let page = store
                .list_cases(&CaseFilter {
                    limit: 500,
                    offset,
                    ..CaseFilter::default()
                })
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            offset += page.len() as u32;
            resolved += page
                .iter()
                .filter(|c| c.status == CaseStatus::Resolved)
                .count();
        }
        assert_eq!(resolved, CASES, "none lost, all decided");
        verify_audit(&store).await;
    }
);
