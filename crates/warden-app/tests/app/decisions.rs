//! Decision modes: a first decision by the holder; on a resolved case a
//! correction, which only those who may correct make.

use warden_app::cases::ClaimCommand;
use warden_app::decisions::{ActionDraft, DecisionDraft};
use warden_app::CommandError;
use warden_domain::access::Role;
use warden_domain::decision::Rationale;
use warden_domain::enforcement::DecisionMode;
use warden_domain::ids::{QueueName, Version};
use warden_domain::CaseId;

use warden_store::prelude::*;

use crate::app_test;
use crate::support::TestApp;

fn draft(version: i64, violation: bool, actions: &[&str]) -> DecisionDraft {
    DecisionDraft {
        expected: Version(version),
        violation,
        category: "spam".into(),
        policy: None,
        actions: actions
            .iter()
            .map(|kind| ActionDraft {
                action_type: kind.to_string(),
                ..ActionDraft::default()
            })
            .collect(),
        rationale: Rationale {
            what_happened: "bulk links".into(),
            evidence: "ten posts in a minute".into(),
            policy: "spam".into(),
            action: "the standard removal".into(),
            next_steps: String::new(),
        },
        override_reason: None,
        reason_code: None,
    }
}

async fn version_of(t: &TestApp, case: CaseId) -> i64 {
    t.store.case(case).await.unwrap().unwrap().version
}

async fn first_decisions_and_corrections(t: &TestApp) {
    let case = t.report("rep_d", "post_d", "spam").await;
    let analyst = t.user("anna", Role::Analyst, &[]).await;
    let lead = t.user("lena", Role::Lead, &[]).await;
    let claimed = t
        .app
        .claim(
            &analyst,
            ClaimCommand {
                queue: QueueName::parse("general").unwrap(),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        t.app.decision_mode(&analyst, case).await.unwrap(),
        DecisionMode::First
    );
    // A correction is a lead's: the analyst is refused, whatever the case.
    let taxonomy = t.app.policy().taxonomy().clone();
    let as_correction = draft(claimed.version, false, &[])
        .into_command(case, DecisionMode::Correction, &taxonomy)
        .unwrap();
    let refused = t.app.decide(&analyst, as_correction).await.unwrap_err();
    assert!(matches!(refused, CommandError::Forbidden(_)), "{refused:?}");
    // The analyst decides first.
    let first = draft(claimed.version, true, &["remove_content"])
        .into_command(case, DecisionMode::First, &taxonomy)
        .unwrap();
    let decided = t.app.decide(&analyst, first).await.unwrap();
    assert!(decided.violation);

    // Resolved: deciding again as a first decision is a conflict for anyone.
    let version = version_of(t, case).await;
    assert_eq!(
        t.app.decision_mode(&analyst, case).await.unwrap(),
        DecisionMode::First
    );
    let again = draft(version, false, &[])
        .into_command(case, DecisionMode::First, &taxonomy)
        .unwrap();
    let conflict = t.app.decide(&analyst, again).await.unwrap_err();
    assert!(
        matches!(conflict, CommandError::Conflict(_)),
        "{conflict:?}"
    );

    // A lead corrects: the new decision supersedes the first.
    assert_eq!(
        t.app.decision_mode(&lead, case).await.unwrap(),
        DecisionMode::Correction
    );
    let correction = draft(version, false, &[])
        .into_command(case, DecisionMode::Correction, &taxonomy)
        .unwrap();
    let corrected = t.app.decide(&lead, correction).await.unwrap();
    assert_eq!(corrected.supersedes, Some(decided.id));
    assert!(!corrected.violation);

    // A stale version is a conflict, not a second correction.
    let stale = draft(version, true, &["remove_content"])
        .into_command(case, DecisionMode::Correction, &taxonomy)
        .unwrap();
    let stale = t.app.decide(&lead, stale).await.unwrap_err();
    assert!(matches!(stale, CommandError::Conflict(_)), "{stale:?}");
}
app_test!(modes, first_decisions_and_corrections);

async fn a_draft_reports_every_field_at_fault(t: &TestApp) {
    let taxonomy = t.app.policy().taxonomy().clone();
    let mut bad = draft(1, true, &["suspend", "vanish"]);
    bad.category = "nonsense".into();
    bad.reason_code = Some("Not A Code".into());
    bad.override_reason = Some("x".repeat(warden_domain::limits::OVERRIDE_REASON_CHARS_MAX + 1));
    let errors = bad
        .into_command(CaseId(1), DecisionMode::First, &taxonomy)
        .unwrap_err();
    let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
    for field in ["category", "reason_code", "override_reason"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    assert!(
        fields.iter().any(|f| f.starts_with("actions[0]")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("actions[1]")),
        "{fields:?}"
    );
}
app_test!(drafts, a_draft_reports_every_field_at_fault);
