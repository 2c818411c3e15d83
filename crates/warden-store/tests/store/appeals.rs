//! Appeals: intake (idempotent, joining, the window), appeal cases apart
//! from report cases, the independence rule in claims and decisions, and
//! the outcomes through the enforcement path.

use chrono::{Duration, Months};

use warden_domain::access::Role;
use warden_domain::appeal::{
    AppealDecideCommand, AppealDecideInput, AppealListingFilter, AppealOutcome, AppealParty,
    CaseKind, NewAppeal,
};
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::enforcement::DecideCommand;
use warden_domain::ids::{DecisionId, PlatformId, SubjectKind, UserId, Version};
use warden_domain::intake::ReportSource;
use warden_domain::notice::DEFAULT_APPEAL_TEMPLATES;
use warden_domain::{CaseId, Timestamp};
use warden_store::prelude::*;
use warden_store::{
    Actor, AppealFilter, AppealIntakeOutcome, AppealRules, AppealScope, AppealStatus, AppealView,
    DecisionMode, DecisionRecord, SqlStore, StoreError, UserRecord,
};

use crate::store_test;
use crate::support::{at, content, policy, reference, report, user, verify_audit};

fn rationale(text: &str) -> Rationale {
    Rationale {
        what_happened: text.into(),
        evidence: "posts p1..p40".into(),
        policy: "spam 2.1".into(),
        action: String::new(),
        next_steps: String::new(),
    }
}

/// A post by `owner`, reported, claimed and decided by `actor` with
/// remove and warn (what the matrix recommends for a first spam offence).
async fn decided(store: &SqlStore, post: &str, owner: &str, actor: &Actor) -> DecisionRecord {
    let system = Actor::system();
    store
        .ingest_subjects(&system, vec![content(post, owner)], at(0))
        .await
        .unwrap();
    let subject = reference(SubjectKind::Content, post);
    store
        .ingest_reports(
            &system,
            vec![report(
                &format!("r_{post}"),
                &subject,
                "spam",
                ReportSource::UserReport,
            )],
            &policy(),
            at(0),
        )
        .await
        .unwrap();
    let case = store
        .claim_next(actor, "general", Duration::minutes(10), at(0))
        .await
        .unwrap()
        .expect("a case to claim");
    let input = DecisionInput {
        violation: true,
        category: "spam".into(),
        policy: Some("spam-2.1".into()),
        actions: vec![
            ActionSpec {
                kind: ActionKind::RemoveContent,
                duration: None,
            },
            ActionSpec {
                kind: ActionKind::Warn,
                duration: None,
            },
        ],
        rationale: Rationale {
            action: "removed and warned, as the matrix recommends".into(),
            ..rationale("posted the same link forty times")
        },
    };
    let command = DecideCommand::new(case.id, Version(case.version), input, DecisionMode::First);
    store
        .decide_with(actor, command, &policy(), at(1))
        .await
        .unwrap()
}

fn appeal(id: &str, decision: i64, appellant: &str, statement: &str) -> NewAppeal {
    NewAppeal {
        id: PlatformId::parse(id).unwrap(),
        decision: DecisionId(decision),
        action: None,
        appellant: reference(SubjectKind::Account, appellant),
        statement: statement.into(),
        language: None,
        created_at: Some(at(10)),
    }
}

async fn submit(store: &SqlStore, appeal: &NewAppeal, now: Timestamp) -> AppealIntakeOutcome {
    store
        .submit_appeal(
            &Actor::system(),
            appeal,
            &AppealRules::default(),
            &policy(),
            now,
        )
        .await
        .unwrap()
}

fn opened(outcome: AppealIntakeOutcome) -> AppealView {
    match outcome {
        AppealIntakeOutcome::Opened(view) => view,
        other => panic!("expected a new appeal, got {other:?}"),
    }
}

fn party(user: &UserRecord) -> AppealParty {
    AppealParty {
        user: UserId(user.id),
        role: user.role,
    }
}

fn reviewer_scope(user: &UserRecord) -> AppealScope {
    AppealScope::Reviewer(AppealListingFilter::for_reviewer(&party(user)).unwrap())
}

fn command(case: CaseId, version: i64, outcome: &str) -> AppealDecideCommand {
    AppealDecideCommand::parse(
        case,
        &AppealDecideInput {
            version: Some(version),
            outcome: Some(outcome.into()),
            rationale: rationale("the post quoted the spam to report it"),
            ..AppealDecideInput::default()
        },
    )
    .unwrap()
}

store_test!(
    appeals_open_a_case_of_their_own_join_and_repeat_safely,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let decision = decided(&store, "p1", "a1", &anna).await;
        let first = appeal("apl_1", decision.id, "a1", "I was quoting it.");
        let view = opened(submit(&store, &first, at(20)).await);
        assert_eq!(view.decision_id, decision.id);
        assert_eq!(view.decider_id, anna.user_id);
        assert_eq!(view.decider_role, Some(Role::Analyst));
        assert_eq!(view.status(), AppealStatus::Open);
        let case = store.case(view.case_id).await.unwrap().unwrap();
        assert_eq!(case.kind, CaseKind::Appeal);
        assert_eq!(case.queue, "appeals");
        assert_eq!(case.category, "spam");
        assert_eq!(case.subject, decision.subject);
        let original = store.case(decision.case_id).await.unwrap().unwrap();
        assert_eq!(original.kind, CaseKind::Report);

        // The same appeal again changes nothing; the same id with other words conflicts.
        assert_eq!(
            submit(&store, &first, at(21)).await,
            AppealIntakeOutcome::Duplicate
        );
        let changed = appeal("apl_1", decision.id, "a1", "Other words.");
        assert_eq!(
            submit(&store, &changed, at(21)).await,
            AppealIntakeOutcome::Conflict
        );
        // A second appellant joins the open appeal.
        let second = appeal("apl_2", decision.id, "a2", "Me too.");
        let AppealIntakeOutcome::Joined(joined) = submit(&store, &second, at(22)).await else {
            panic!("the second appeal joins the first");
        };
        assert_eq!(joined.id, view.id);
        assert_eq!(joined.case_id, view.case_id);
        assert_eq!(joined.items.len(), 2);

        // Refusals name the field.
        let unknown = appeal("apl_3", decision.id + 100, "a1", "?");
        let refused = store
            .submit_appeal(
                &Actor::system(),
                &unknown,
                &AppealRules::default(),
                &policy(),
                at(23),
            )
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Invalid { field, .. }) if field == "decision_id"),
            "{refused:?}"
        );
        let mut late = appeal("apl_4", decision.id, "a1", "Late.");
        let seven_months = at(1).checked_add_months(Months::new(7)).unwrap();
        late.created_at = Some(seven_months);
        let refused = store
            .submit_appeal(
                &Actor::system(),
                &late,
                &AppealRules::default(),
                &policy(),
                seven_months,
            )
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Invalid { field, .. }) if field == "created_at"),
            "{refused:?}"
        );

        // A new report about the same subject opens a report case, not the appeal's.
        let subject = reference(SubjectKind::Content, "p1");
        store
            .ingest_reports(
                &Actor::system(),
                vec![report(
                    "r_again",
                    &subject,
                    "spam",
                    ReportSource::UserReport,
                )],
                &policy(),
                at(30),
            )
            .await
            .unwrap();
        let history = store.subject_history(&subject, 50, at(31)).await.unwrap();
        let kinds: Vec<CaseKind> = history.cases.iter().map(|c| c.kind).collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        assert_eq!(kinds.iter().filter(|k| **k == CaseKind::Appeal).count(), 1);
        let listed = store
            .list_appeals(&AppealFilter {
                status: Some(AppealStatus::Open),
                since: Some(at(20)),
                limit: 10,
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert!(store
            .list_appeals(&AppealFilter {
                status: Some(AppealStatus::Decided),
                ..AppealFilter::default()
            })
            .await
            .unwrap()
            .is_empty());
        verify_audit(&store).await;
    }
);

store_test!(
    the_decider_never_reviews_and_an_overturn_reverses,
    |store: SqlStore| async move {
        let (anna_user, anna) = user(&store, "anna", Role::Analyst).await;
        let (ben_user, ben) = user(&store, "ben", Role::Analyst).await;
        let (cleo_user, _) = user(&store, "cleo", Role::Associate).await;
        let decision = decided(&store, "p1", "a1", &anna).await;
        let view = opened(
            submit(
                &store,
                &appeal("apl_1", decision.id, "a1", "Quote."),
                at(20),
            )
            .await,
        );
        let lease = Duration::minutes(10);

        // The decider is never handed the appeal; an associate neither.
        for user in [&anna_user, &cleo_user] {
            let actor = Actor::user(user.id, &user.name);
            let claimed = store
                .claim_next_within(&actor, "appeals", &reviewer_scope(user), lease, at(21))
                .await
                .unwrap();
            assert!(claimed.is_none(), "{} claimed {claimed:?}", user.name);
        }
        let mut listing = warden_store::CaseFilter {
            queue: Some("appeals".into()),
            appeals: reviewer_scope(&anna_user),
            limit: 10,
            ..warden_store::CaseFilter::default()
        };
        assert!(store.list_cases(&listing).await.unwrap().is_empty());
        listing.appeals = reviewer_scope(&ben_user);
        assert_eq!(store.list_cases(&listing).await.unwrap().len(), 1);
        let claimed = store
            .claim_next_within(&ben, "appeals", &reviewer_scope(&ben_user), lease, at(21))
            .await
            .unwrap()
            .expect("ben may review the appeal");
        assert_eq!(claimed.id, view.case_id);

        // The store refuses the decider even if asked directly.
        let refused = store
            .decide_appeal(
                &anna,
                party(&anna_user),
                &command(claimed.id, claimed.version, "overturned"),
                &policy(),
                at(22),
            )
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Forbidden(m)) if m.contains("original_decider")),
            "{refused:?}"
        );
        // A stale version changes nothing.
        let stale = store
            .decide_appeal(
                &ben,
                party(&ben_user),
                &command(claimed.id, claimed.version - 1, "overturned"),
                &policy(),
                at(22),
            )
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");

        let decided = store
            .decide_appeal(
                &ben,
                party(&ben_user),
                &command(claimed.id, claimed.version, "overturned"),
                &policy(),
                at(23),
            )
            .await
            .unwrap();
        assert_eq!(decided.outcome, Some(AppealOutcome::Overturned));
        assert_eq!(decided.reviewer.as_deref(), Some("ben"));
        let case = store.case(claimed.id).await.unwrap().unwrap();
        assert_eq!(case.status.as_str(), "resolved");
        // The original decision is reversed and its strike voided.
        let history = store
            .subject_history(&reference(SubjectKind::Content, "p1"), 50, at(24))
            .await
            .unwrap();
        let original = history
            .decisions
            .iter()
            .find(|d| d.id == decision.id)
            .unwrap();
        assert!(original
            .enforcement
            .as_ref()
            .and_then(|e| e.reversal.as_ref())
            .is_some());
        let account = store
            .subject_history(&reference(SubjectKind::Account, "a1"), 50, at(24))
            .await
            .unwrap();
        assert_eq!(account.strikes.len(), 1, "the decision left one strike");
        assert!(account.strikes[0].voided_at.is_some());
        assert_eq!(account.active_strike_weight, 0);
        // The appellant's history shows the appeal.
        assert_eq!(account.appeals.len(), 1);
        assert_eq!(account.appeals[0].outcome, Some(AppealOutcome::Overturned));
        // The appellant's notice is queued, from the seeded template.
        let notices = store.notices(Some(decision.id), 50).await.unwrap();
        let appellant = notices
            .iter()
            .find(|n| n.action_id.is_none())
            .expect("the appellant's notice");
        assert_eq!(appellant.status, "queued");
        assert_eq!(appellant.recipient.id.as_str(), "a1");
        assert_eq!(
            appellant.subject.as_deref(),
            Some(DEFAULT_APPEAL_TEMPLATES[1].1)
        );
        // Deciding again is a conflict.
        let again = store
            .decide_appeal(
                &ben,
                party(&ben_user),
                &command(claimed.id, case.version, "upheld"),
                &policy(),
                at(25),
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        verify_audit(&store).await;
    }
);

store_test!(
    a_modification_replaces_the_decision_on_its_case,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (lea_user, lea) = user(&store, "lea", Role::Lead).await;
        let decision = decided(&store, "p1", "a1", &anna).await;
        let view = opened(
            submit(
                &store,
                &appeal("apl_1", decision.id, "a1", "Quote."),
                at(20),
            )
            .await,
        );
        let claimed = store
            .claim_next_within(
                &lea,
                "appeals",
                &reviewer_scope(&lea_user),
                Duration::minutes(10),
                at(21),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, view.case_id);
        let modified = AppealDecideCommand::parse(
            claimed.id,
            &AppealDecideInput {
                version: Some(claimed.version),
                outcome: Some("modified".into()),
                actions: vec![ActionSpec {
                    kind: ActionKind::Warn,
                    duration: None,
                }],
                rationale: Rationale {
                    action: "a warning is enough for a first quote".into(),
                    ..rationale("the post quoted spam; removal went too far")
                },
                ..AppealDecideInput::default()
            },
        )
        .unwrap();
        let decided = store
            .decide_appeal(&lea, party(&lea_user), &modified, &policy(), at(22))
            .await
            .unwrap();
        assert_eq!(decided.outcome, Some(AppealOutcome::Modified));
        let replacement = decided.replacement_decision_id.expect("a replacement");
        let detail = store.case_detail(decision.case_id).await.unwrap().unwrap();
        let old = detail
            .decisions
            .iter()
            .find(|d| d.id == decision.id)
            .unwrap();
        assert_eq!(old.superseded_by, Some(replacement));
        let new = detail
            .decisions
            .iter()
            .find(|d| d.id == replacement)
            .unwrap();
        assert_eq!(new.decided_by, "lea");
        assert_eq!(new.actions.len(), 1);
        assert_eq!(new.actions[0].action_type, "warn");
        verify_audit(&store).await;
    }
);
