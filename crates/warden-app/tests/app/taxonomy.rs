//! One taxonomy, hot: publishing a version puts it in force at once on the
//! server that published it, and within the poll interval on another
//! server over the same database.

use std::time::{Duration, Instant};

use warden_app::taxonomy::{PolicyPollInterval, PublishTaxonomyCommand};
use warden_app::{Actor, App, AppSettings, CommandError, Reason};
use warden_domain::access::Role;
use warden_domain::case::Severity;
use warden_domain::intake::IntakeOutcome;
use warden_domain::taxonomy::{Category, Taxonomy};

use warden_store::prelude::*;

use crate::app_test;
use crate::support::{content, policy, report, TestApp};

/// How often the second server looks, in these tests.
const POLL_MILLIS: u64 = 1_000;

fn with_crypto_scam() -> PublishTaxonomyCommand {
    let mut taxonomy = Taxonomy::default();
    taxonomy.insert(Category {
        code: "crypto_scam".into(),
        name: "Crypto scams".into(),
        severity: Severity::Critical,
    });
    PublishTaxonomyCommand {
        policy: warden_domain::enforcement::EnforcementPolicy::default_for(&taxonomy),
        note: Reason::parse("crypto scams get their own category").unwrap(),
    }
}

/// What storing a report of `crypto_scam` gives: created, or refused
/// (by the call, or as its one item) while the category is unknown.
async fn ingest(app: &App, id: &str) -> Result<IntakeOutcome, CommandError> {
    let subject = content(&format!("post_{id}"));
    app.ingest_reports(&Actor::System, vec![report(id, &subject, "crypto_scam")])
        .await
        .map(|mut outcomes| outcomes.remove(0))
}

async fn a_published_version_is_in_force_everywhere(t: &TestApp) {
    // A second server over the same database, following publications.
    let other = App::new(t.database.open().await, policy(), AppSettings::default());
    let refused_there = ingest(&other, "rep_before_there").await;
    assert!(refused_there.is_err() || matches!(refused_there, Ok(IntakeOutcome::Refused(_))));
    let follower =
        other.follow_published_policy(PolicyPollInterval::from_millis(POLL_MILLIS).unwrap());
    let before = ingest(&t.app, "rep_before").await;
    assert!(
        matches!(
            before,
            Err(CommandError::Invalid(_)) | Ok(IntakeOutcome::Refused(_))
        ),
        "{before:?}"
    );

    let policy_author = t.user("paula", Role::Policy, &[]).await;
    let published = t
        .app
        .publish_taxonomy(&policy_author, with_crypto_scam())
        .await
        .unwrap();
    let published_at = Instant::now();

    // At once here: the report is taken, at the new category's severity.
    assert_eq!(t.app.policy().version(), published.version);
    assert_eq!(
        ingest(&t.app, "rep_here").await.unwrap(),
        IntakeOutcome::Created
    );
    let case = t
        .store
        .subject_history(&content("post_rep_here"), 5, chrono::Utc::now())
        .await
        .unwrap()
        .cases
        .remove(0);
    assert_eq!(case.category, "crypto_scam");
    assert_eq!(case.severity, Severity::Critical);

    // Within the poll interval there.
    let deadline = Duration::from_millis(POLL_MILLIS * 3);
    while other.policy().version() < published.version {
        assert!(
            published_at.elapsed() < deadline,
            "the other server did not pick up version {} within {deadline:?}",
            published.version
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(published_at.elapsed() <= Duration::from_millis(POLL_MILLIS + 500));
    assert_eq!(
        ingest(&other, "rep_there").await.unwrap(),
        IntakeOutcome::Created
    );
    follower.abort();
}
app_test!(hot, a_published_version_is_in_force_everywhere);

async fn an_older_version_never_comes_back(t: &TestApp) {
    let policy_author = t.user("paula", Role::Policy, &[]).await;
    let first = t.app.taxonomy_in_force().await.unwrap();
    let published = t
        .app
        .publish_taxonomy(&policy_author, with_crypto_scam())
        .await
        .unwrap();
    assert!(published.version > first.version);
    // Reading the version in force again, or refreshing, keeps the newest.
    t.app.taxonomy_in_force().await.unwrap();
    assert!(!t.app.refresh_policy().await.unwrap());
    assert_eq!(t.app.policy().version(), published.version);
    assert!(t.app.policy().taxonomy().get("crypto_scam").is_some());
    // Publishing needs the policy right.
    let analyst = t.user("anna", Role::Analyst, &[]).await;
    let refused = t
        .app
        .publish_taxonomy(&analyst, with_crypto_scam())
        .await
        .unwrap_err();
    assert!(
        matches!(refused, warden_app::CommandError::Forbidden(_)),
        "{refused:?}"
    );
}
app_test!(versions, an_older_version_never_comes_back);
