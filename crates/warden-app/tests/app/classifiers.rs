//! Classifiers that learn from decisions: a retrain saves a shadow version
//! only when it beats the current ones on the held-out slice; a shadow
//! version goes live after its period when it does no worse on the
//! decisions of that period; a live score weighs in a new case's priority.

use std::collections::BTreeMap;

use chrono::Duration;
use serde_json::json;

use warden_app::case_scores::ClassifierPriority;
use warden_app::cases::ClaimCommand;
use warden_app::classifiers::{ModelName, RetrainCommand};
use warden_app::decisions::{ActionDraft, DecisionDraft};
use warden_app::{Actor, CommandError};
use warden_classifier::{train, Example, Holdout, Labels, ModelKind, TrainingOptions};
use warden_domain::access::Role;
use warden_domain::decision::Rationale;
use warden_domain::enforcement::DecisionMode;
use warden_domain::ids::TaxonomyCode;
use warden_domain::ids::{QueueName, Version};
use warden_domain::intake::NewSubject;
use warden_store::prelude::*;
use warden_store::{ModelStatus, NewModelVersion};

use crate::app_test;
use crate::support::{content, report, TestApp};

const SPAM_WORDS: [&str; 8] = [
    "free", "cash", "winner", "prize", "click", "offer", "cheap", "pills",
];
const HAM_WORDS: [&str; 8] = [
    "meeting", "lunch", "photo", "family", "garden", "recipe", "weekend", "concert",
];

/// A distinct text of `i`, spam or not.
fn text(i: usize, spam: bool) -> String {
    let words = if spam { SPAM_WORDS } else { HAM_WORDS };
    format!(
        "{} {} {} number {i}",
        words[i % 8],
        words[(i + 3) % 8],
        words[(i + 5) % 8]
    )
}

fn draft(version: i64, violation: bool) -> DecisionDraft {
    DecisionDraft {
        expected: Version(version),
        violation,
        category: "spam".into(),
        policy: None,
        actions: if violation {
            vec![ActionDraft {
                action_type: "remove_content".into(),
                ..ActionDraft::default()
            }]
        } else {
            Vec::new()
        },
        rationale: Rationale {
            what_happened: "looked at the post".into(),
            evidence: "its text".into(),
            policy: "spam".into(),
            action: if violation {
                "removed".into()
            } else {
                String::new()
            },
            next_steps: String::new(),
        },
        override_reason: None,
        reason_code: None,
    }
}

/// Posts `count` texts from `first` (spam when `i` is even), reports each
/// as spam, and has an analyst decide each truthfully.
async fn decide_posts(t: &TestApp, analyst: &Actor, first: usize, count: usize) {
    let subjects: Vec<NewSubject> = (first..first + count)
        .map(|i| NewSubject {
            subject: content(&format!("post_{i}")),
            created_at: None,
            owner: None,
            text: Some(text(i, i.is_multiple_of(2))),
            media: Vec::new(),
            attributes: json!({}),
        })
        .collect();
    t.app
        .ingest_subjects(&Actor::System, subjects)
        .await
        .unwrap();
    let reports = (first..first + count)
        .map(|i| report(&format!("rep_{i}"), &content(&format!("post_{i}")), "spam"))
        .collect();
    t.app.ingest_reports(&Actor::System, reports).await.unwrap();
    let taxonomy = t.app.policy().taxonomy().clone();
    for _ in 0..count {
        let claimed = t
            .app
            .claim(
                analyst,
                ClaimCommand {
                    queue: QueueName::parse("general").unwrap(),
                },
            )
            .await
            .unwrap()
            .expect("a case to claim");
        let i: usize = claimed.subject.id.as_str()["post_".len()..]
            .parse()
            .unwrap();
        let command = draft(claimed.version, i.is_multiple_of(2))
            .into_command(claimed.id, DecisionMode::First, &taxonomy)
            .unwrap();
        t.app.decide(analyst, command).await.unwrap();
    }
}

fn retrain(since: Option<warden_domain::Timestamp>) -> RetrainCommand {
    RetrainCommand {
        name: ModelName::parse("spam").unwrap(),
        category: TaxonomyCode::parse("spam").unwrap(),
        since,
        options: TrainingOptions::for_kind(ModelKind::LogisticRegression),
        holdout: Holdout::new(0.3).unwrap(),
        note: "from decisions".into(),
    }
}

/// A model that learnt the labels backwards.
fn backwards_model() -> Vec<u8> {
    let texts: Vec<(String, String, bool)> = (0..40)
        .map(|i| {
            (
                format!("b{i}"),
                text(i, i.is_multiple_of(2)),
                !i.is_multiple_of(2),
            )
        })
        .collect();
    let examples: Vec<Example<'_>> = texts
        .iter()
        .map(|(id, text, positive)| Example {
            id,
            text,
            positive: *positive,
        })
        .collect();
    let options = TrainingOptions {
        validation_share: 0.0,
        ..TrainingOptions::for_kind(ModelKind::LogisticRegression)
    };
    train(
        &examples,
        Labels::new("spam", "not-spam").unwrap(),
        &options,
        &mut |_| {},
    )
    .unwrap()
    .to_bytes()
}

async fn audit_actions(t: &TestApp) -> Vec<String> {
    t.store
        .audit_page(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .collect()
}

async fn retrains_go_to_shadow_only_when_better_then_live_after_the_period(t: &TestApp) {
    let analyst = t.user("anna", Role::Analyst, &[]).await;
    decide_posts(t, &analyst, 0, 60).await;
    t.clock.advance(Duration::minutes(1));
    // A live version that learnt backwards, as if from bad data.
    t.store
        .save_model_version(
            &warden_store::Actor::system(),
            NewModelVersion {
                name: "spam".into(),
                kind: "lr".into(),
                status: ModelStatus::Live,
                metrics: json!({}),
                bytes: backwards_model(),
                note: "backwards".into(),
            },
            t.app.now(),
        )
        .await
        .unwrap();

    let outcome = t
        .app
        .retrain_from_decisions(&Actor::Operator, retrain(None))
        .await
        .unwrap();
    assert_eq!(outcome.examples, (30, 30));
    let saved = outcome.saved.expect("it beats the backwards live version");
    assert_eq!((saved.version, saved.status), (2, ModelStatus::Shadow));
    assert_eq!(outcome.compared.len(), 1);
    assert!(outcome.evaluation.f1 > outcome.compared[0].evaluation.f1);
    assert_eq!(saved.metrics["category"], json!("spam"));
    assert_eq!(saved.metrics["compared_with"][0]["version"], json!(1));
    assert_eq!(
        t.store
            .live_model("spam")
            .await
            .unwrap()
            .unwrap()
            .record
            .version,
        1
    );

    // The same decisions again train the same model: not better than the
    // shadow version, so nothing is saved; the refusal is audited.
    let again = t
        .app
        .retrain_from_decisions(&Actor::Operator, retrain(None))
        .await
        .unwrap();
    assert!(again.saved.is_none());
    assert_eq!(again.compared.len(), 2);
    assert_eq!(
        t.store
            .model_versions(Some("spam"), 10)
            .await
            .unwrap()
            .len(),
        2
    );
    let actions = audit_actions(t).await;
    assert!(actions.iter().any(|a| a == "classifier.save"));
    assert!(actions.iter().any(|a| a == "classifier.retrain_refused"));

    // In shadow until its period is over ...
    let name = ModelName::parse("spam").unwrap();
    let period = Duration::days(1);
    assert!(t
        .app
        .promote_shadow_if_due(&Actor::System, &name, period)
        .await
        .unwrap()
        .is_none());
    t.clock.advance(Duration::days(2));
    // ... and then only with enough decisions of the period to compare.
    let review = t
        .app
        .promote_shadow_if_due(&Actor::System, &name, period)
        .await
        .unwrap()
        .unwrap();
    assert!(!review.promoted, "{}", review.reason);
    assert!(
        review.reason.contains("too few decisions"),
        "{}",
        review.reason
    );
    decide_posts(t, &analyst, 100, 20).await;
    let review = t
        .app
        .promote_shadow_if_due(&Actor::System, &name, period)
        .await
        .unwrap()
        .unwrap();
    assert!(review.promoted, "{}", review.reason);
    assert_eq!(
        t.store
            .live_model("spam")
            .await
            .unwrap()
            .unwrap()
            .record
            .version,
        2
    );
    assert!(t.store.shadow_model("spam").await.unwrap().is_none());
    let actions = audit_actions(t).await;
    assert!(actions.iter().any(|a| a == "classifier.promote"));
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "classifier.shadow_review")
            .count(),
        2
    );
}
app_test!(
    shadow_first,
    retrains_go_to_shadow_only_when_better_then_live_after_the_period
);

async fn retrains_are_refused_clearly(t: &TestApp) {
    let analyst = t.user("anna", Role::Analyst, &[]).await;
    let refused = t
        .app
        .retrain_from_decisions(&analyst, retrain(None))
        .await
        .unwrap_err();
    assert!(matches!(refused, CommandError::Forbidden(_)), "{refused:?}");
    let mut unknown = retrain(None);
    unknown.category = TaxonomyCode::parse("no_such_category").unwrap();
    let refused = t
        .app
        .retrain_from_decisions(&Actor::Operator, unknown)
        .await
        .unwrap_err();
    assert!(refused.chain().contains("category"), "{refused:?}");
    decide_posts(t, &analyst, 0, 6).await;
    let refused = t
        .app
        .retrain_from_decisions(&Actor::Operator, retrain(None))
        .await
        .unwrap_err();
    assert!(
        refused.chain().contains("at least 5 violations"),
        "{refused:?}"
    );
    assert!(ModelName::parse("Not A Name").is_err());
}
app_test!(refusals, retrains_are_refused_clearly);

async fn a_higher_score_is_claimed_first(t: &TestApp) {
    let analyst = t.user("anna", Role::Analyst, &[]).await;
    decide_posts(t, &analyst, 0, 40).await;
    t.app
        .retrain_from_decisions(&Actor::Operator, retrain(None))
        .await
        .unwrap();
    t.store
        .promote_model(&warden_store::Actor::system(), "spam", 1, t.app.now())
        .await
        .unwrap();
    let app = t.app.clone().with_classifier_priority(ClassifierPriority {
        weight: 100,
        models: BTreeMap::from([("spam".to_string(), "spam".to_string())]),
    });
    // Same severity, same moment, same deadlines: the ham post is filed
    // first, so without the score it would be claimed first.
    for (id, spam) in [("ham_post", false), ("spam_post", true)] {
        app.ingest_subjects(
            &Actor::System,
            vec![NewSubject {
                subject: content(id),
                created_at: None,
                owner: None,
                text: Some(text(7, spam)),
                media: Vec::new(),
                attributes: json!({}),
            }],
        )
        .await
        .unwrap();
        app.ingest_reports(
            &Actor::System,
            vec![report(&format!("r_{id}"), &content(id), "spam")],
        )
        .await
        .unwrap();
    }
    let claimed = app
        .claim(
            &analyst,
            ClaimCommand {
                queue: QueueName::parse("general").unwrap(),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.subject.id.as_str(), "spam_post");
    let ham = t
        .store
        .subject_history(&content("ham_post"), 10, t.app.now())
        .await
        .unwrap()
        .cases[0]
        .priority;
    assert!(claimed.priority > ham, "{} against {ham}", claimed.priority);
    assert!(audit_actions(t)
        .await
        .iter()
        .any(|a| a == "case.classifier_priority"));
}
app_test!(priority, a_higher_score_is_claimed_first);
