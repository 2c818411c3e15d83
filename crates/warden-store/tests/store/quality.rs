//! QA and calibration: plans saved and replaced, the sampling pass reading
//! decisions once under a cursor, assignments claimed, changed under their
//! version (a stale write is a conflict), reviewed with rework, listed by
//! reviewer and scope; calibration sessions with final ratings, their
//! report at close and resolution notes found by category; every change
//! audited.

use std::collections::BTreeSet;

use chrono::Duration;

use warden_domain::access::Role;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, Rationale};
use warden_domain::enforcement::DecideCommand;
use warden_domain::ids::{SubjectKind, Version};
use warden_domain::intake::ReportSource;
use warden_domain::quality::calibration::{
    CalibrationSession, Participant, ResolutionInput, SessionInput, SessionStatus,
};
use warden_domain::quality::review::{
    parse_score, plan_rework, QaReviewer, QaStatus, QaVerdict, ScoreInput,
};
use warden_domain::quality::sampling::{RateRuleInput, SamplingPlanInput};
use warden_domain::routing::QueueScope;
use warden_domain::taxonomy::Taxonomy;
use warden_store::prelude::*;
use warden_store::{
    Actor, CaseReopen, DecisionExtras, DecisionMode, NewQaSample, QaChange, QaReviewFilter,
    SamplePlanTag, SqlStore, StoreError,
};

use crate::store_test;
use crate::support::{at, content, policy, reference, report, t0, user, verify_audit};

/// A post with a spam report, claimed and decided by `actor`; answers the
/// decision id.
async fn decided(store: &SqlStore, post: &str, actor: &Actor, minute: i64) -> i64 {
    let system = Actor::system();
    store
        .ingest_subjects(&system, vec![content(post, "a1")], at(minute))
        .await
        .unwrap();
    let subject = reference(SubjectKind::Content, post);
    let reports = vec![report(
        &format!("r_{post}"),
        &subject,
        "spam",
        ReportSource::UserReport,
    )];
    store
        .ingest_reports(&system, reports, &policy(), at(minute))
        .await
        .unwrap();
    let case = store
        .claim_next(actor, "general", Duration::minutes(10), at(minute))
        .await
        .unwrap()
        .expect("a case to claim");
    let input = DecisionInput {
        violation: true,
        category: "spam".into(),
        policy: Some("spam-2.1".into()),
        actions: vec![ActionSpec {
            kind: ActionKind::RemoveContent,
            duration: None,
        }],
        rationale: Rationale {
            what_happened: "posted the same link forty times".into(),
            evidence: "posts".into(),
            policy: "spam 2.1".into(),
            action: "removed".into(),
            next_steps: String::new(),
        },
    };
    let command = DecideCommand::with_extras(
        case.id,
        Version(case.version),
        input,
        &DecisionExtras::default(),
        DecisionMode::First,
    )
    .unwrap();
    store
        .decide_with(actor, command, &policy(), at(minute + 1))
        .await
        .unwrap()
        .id
}

fn plan(name: &str) -> SamplingPlanInput {
    SamplingPlanInput {
        name: name.into(),
        seed: 42,
        rate: 0.05,
        queues: vec!["general".into()],
        rates: vec![RateRuleInput {
            severity: Some("high".into()),
            rate: 0.5,
            ..RateRuleInput::default()
        }],
        all_severities: vec!["critical".into()],
        new_reviewer_days: Some(30),
        minimum_per_reviewer: 2,
        weekly_cap: Some(100),
        ..SamplingPlanInput::default()
    }
}

/// A session's record with its ratings by case, then rater (the order
/// the store reads them in; the report does not depend on it).
fn sorted(
    session: &CalibrationSession,
) -> warden_domain::quality::calibration::CalibrationSessionRecord {
    let mut record = session.record().clone();
    record
        .ratings
        .sort_by(|x, y| (x.case_id, &x.rater).cmp(&(y.case_id, &y.rater)));
    record
}

fn tag(plan: &str, by_rate: bool) -> SamplePlanTag {
    SamplePlanTag {
        plan: plan.into(),
        reason: "every decision of a reviewer in their first 30 days is sampled".into(),
        by_rate,
    }
}

store_test!(
    plans_are_saved_replaced_and_read_back,
    |store: SqlStore| async move {
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let first = store
            .save_qa_plan(&lea, &plan("weekly"), t0())
            .await
            .unwrap();
        assert_eq!(first.created_at, t0());
        let mut changed = plan("weekly");
        changed.rate = 0.1;
        changed.weekly_cap = None;
        let second = store.save_qa_plan(&lea, &changed, at(5)).await.unwrap();
        assert_eq!((second.created_at, second.updated_at), (t0(), at(5)));
        store
            .save_qa_plan(&lea, &plan("another"), at(6))
            .await
            .unwrap();
        let plans = store.qa_plans().await.unwrap();
        let names: Vec<&str> = plans.iter().map(|p| p.input.name.as_str()).collect();
        assert_eq!(names, ["another", "weekly"]);
        assert_eq!(plans[1].input, changed, "the plan round-trips exactly");
        assert_eq!(plans[0].input, plan("another"));
        assert_eq!(verify_audit(&store).await, 4, "a user and three saves");
    }
);

store_test!(
    sampling_reads_each_decision_once_and_claims_take_turns,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, quinn) = user(&store, "quinn", Role::Qa).await;
        let first = decided(&store, "p1", &anna, 0).await;
        let second = decided(&store, "p2", &anna, 2).await;
        assert_eq!(store.qa_sampling_cursor().await.unwrap(), 0);
        let read = store.decisions_to_sample(0, 100).await.unwrap();
        let ids: Vec<i64> = read.iter().map(|d| d.decision_id).collect();
        assert_eq!(ids, [first, second]);
        assert_eq!(read[0].decider, "anna");
        assert_eq!(read[0].queue, "general");
        assert_eq!(read[0].decider_started_at, t0());
        let sample = NewQaSample {
            decision: read[0].clone(),
            plans: vec![tag("weekly", true), tag("new", false)],
        };
        let audited_before = verify_audit(&store).await;
        let added = store
            .record_qa_samples(&quinn, vec![sample.clone()], (0, second), at(10))
            .await
            .unwrap();
        assert_eq!(added, 1);
        assert_eq!(store.qa_sampling_cursor().await.unwrap(), second);
        // A pass that read the old cursor loses and changes nothing.
        let stale = store
            .record_qa_samples(&quinn, vec![sample.clone()], (0, second), at(11))
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        assert_eq!(store.decisions_to_sample(second, 100).await.unwrap(), []);
        assert_eq!(
            store.qa_rate_sampled_since("weekly", at(0)).await.unwrap(),
            1
        );
        assert_eq!(store.qa_rate_sampled_since("new", at(0)).await.unwrap(), 0);
        assert_eq!(
            store.qa_rate_sampled_since("weekly", at(11)).await.unwrap(),
            0
        );

        // The decider never gets their own decision; a QA reviewer does.
        let every = QueueScope::Every;
        assert!(store
            .next_qa_assignment(&every, "anna", at(12))
            .await
            .unwrap()
            .is_none());
        let only_other = QueueScope::Only(BTreeSet::from(["appeals".to_string()]));
        assert!(store
            .next_qa_assignment(&only_other, "quinn", at(12))
            .await
            .unwrap()
            .is_none());
        assert_eq!(store.qa_queue_depth(&every, at(12)).await.unwrap(), 1);
        assert_eq!(store.qa_queue_depth(&only_other, at(12)).await.unwrap(), 0);
        let next = store
            .next_qa_assignment(&every, "quinn", at(12))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.assignment.status(), QaStatus::Sampled);
        assert_eq!(next.plans.len(), 2);
        assert_eq!(next.assignment.record().plans, ["new", "weekly"]);

        let reviewer = QaReviewer {
            name: "quinn",
            role: Role::Qa,
        };
        let mut claimed = next.assignment.clone();
        claimed
            .claim(reviewer, at(12), Duration::minutes(10))
            .unwrap();
        let change = QaChange {
            assignment: &claimed,
            expected_version: next.version,
            event: "claim",
            rework: None,
            reopen: None,
        };
        let version = store
            .save_qa_assignment(&quinn, change.clone(), at(12))
            .await
            .unwrap();
        assert_eq!(version, next.version + 1);
        // A second write from the same read is refused.
        let again = store.save_qa_assignment(&quinn, change, at(12)).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        // Claimed under a live lease: nobody else gets it until it runs out.
        assert!(store
            .next_qa_assignment(&every, "lea", at(13))
            .await
            .unwrap()
            .is_none());
        let expired = store
            .next_qa_assignment(&every, "lea", at(23))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(expired.assignment.status(), QaStatus::Claimed);
        let stored = store.qa_assignment(first).await.unwrap().unwrap();
        assert_eq!(stored.assignment, claimed);
        assert!(store.qa_assignment(second).await.unwrap().is_none());
        assert_eq!(
            verify_audit(&store).await,
            audited_before + 2,
            "the sample and the claim; refused writes leave nothing"
        );
    }
);

store_test!(
    reviews_with_rework_are_listed_and_acknowledged,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, quinn) = user(&store, "quinn", Role::Qa).await;
        let decision = decided(&store, "p1", &anna, 0).await;
        let read = store.decisions_to_sample(0, 10).await.unwrap();
        let sample = NewQaSample {
            decision: read[0].clone(),
            plans: vec![tag("weekly", true)],
        };
        store
            .record_qa_samples(&quinn, vec![sample], (0, decision), at(5))
            .await
            .unwrap();
        let stored = store.qa_assignment(decision).await.unwrap().unwrap();
        let mut assignment = stored.assignment.clone();
        let reviewer = QaReviewer {
            name: "quinn",
            role: Role::Qa,
        };
        assignment
            .claim(reviewer, at(6), Duration::minutes(10))
            .unwrap();
        let verdict = QaVerdict {
            violation: false,
            category: "spam".into(),
            actions: vec![],
        };
        assignment
            .submit_verdict("quinn", verdict.clone(), at(7))
            .unwrap();
        let version = store
            .save_qa_assignment(
                &quinn,
                QaChange {
                    assignment: &assignment,
                    expected_version: stored.version,
                    event: "submit_verdict",
                    rework: None,
                    reopen: None,
                },
                at(7),
            )
            .await
            .unwrap();
        let rubric = parse_score(&ScoreInput {
            decision_correct: Some(false),
            category_correct: Some(true),
            action_proportionate: Some(false),
            documentation: Some(2),
            feedback: Some("Quoting spam to report it is not spam.\0".into()),
            rework: None,
        })
        .unwrap();
        let review = assignment.score("quinn", rubric, at(8)).unwrap();
        let original = warden_domain::quality::review::OriginalDecision {
            decision_id: decision,
            case_id: stored.assignment.record().case_id,
            decider: "anna".into(),
            violation: true,
            category: "spam".into(),
            actions: vec![],
            decided_at: at(1),
            case_status: warden_domain::case::CaseStatus::Resolved,
            superseded: false,
        };
        let rework = plan_rework(&review, &original).expect("a wrong decision goes back");
        let rework_record = warden_store::ReworkRecord {
            decision_id: rework.decision_id,
            case_id: rework.case_id,
            decider: rework.decider.clone(),
            feedback: rework.feedback.clone(),
            suggestion: rework.suggestion.clone(),
            reopen_case: rework.reopen_case,
            sent_back_at: rework.sent_back_at,
        };
        let version = store
            .save_qa_assignment(
                &quinn,
                QaChange {
                    assignment: &assignment,
                    expected_version: version,
                    event: "score",
                    rework: Some(rework_record.clone()),
                    reopen: None,
                },
                at(8),
            )
            .await
            .unwrap();
        let by_quinn = QaReviewFilter {
            reviewer: Some("quinn".into()),
            limit: 10,
            ..QaReviewFilter::default()
        };
        let reviews = store.qa_reviews(&by_quinn).await.unwrap();
        assert_eq!(reviews.len(), 1);
        assert_eq!(reviews[0].assignment, assignment);
        assert_eq!(
            reviews[0].rework.as_ref(),
            Some(&rework_record),
            "feedback keeps its NUL"
        );
        let waiting = QaReviewFilter {
            decider: Some("anna".into()),
            awaiting_acknowledgement: true,
            limit: 10,
            ..QaReviewFilter::default()
        };
        assert_eq!(store.qa_reviews(&waiting).await.unwrap().len(), 1);
        let others = QaReviewFilter {
            reviewer: Some("lea".into()),
            limit: 10,
            ..QaReviewFilter::default()
        };
        assert!(store.qa_reviews(&others).await.unwrap().is_empty());
        let later = QaReviewFilter {
            since: Some(at(9)),
            limit: 10,
            ..QaReviewFilter::default()
        };
        assert!(store.qa_reviews(&later).await.unwrap().is_empty());
        let out_of_scope = QaReviewFilter {
            scope: QueueScope::Only(BTreeSet::new()),
            limit: 10,
            ..QaReviewFilter::default()
        };
        assert!(store.qa_reviews(&out_of_scope).await.unwrap().is_empty());

        assignment.acknowledge("anna", at(20)).unwrap();
        store
            .save_qa_assignment(
                &anna,
                QaChange {
                    assignment: &assignment,
                    expected_version: version,
                    event: "acknowledge",
                    rework: None,
                    reopen: None,
                },
                at(20),
            )
            .await
            .unwrap();
        assert!(store.qa_reviews(&waiting).await.unwrap().is_empty());
        let closed = store.qa_assignment(decision).await.unwrap().unwrap();
        assert_eq!(closed.assignment.status(), QaStatus::Closed);
        verify_audit(&store).await;
    }
);

store_test!(
    calibration_sessions_keep_final_ratings_and_their_notes,
    |store: SqlStore| async move {
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let taxonomy = Taxonomy::default();
        let by = Participant {
            name: "lea",
            role: Role::Lead,
        };
        let input = SessionInput {
            title: "Spam or not?".into(),
            case_ids: vec![11, 12, 13],
            raters: vec!["ann".into(), "bo".into(), "cy".into()],
        };
        let mut session = CalibrationSession::create(by, &input, t0()).unwrap();
        session.open(by, t0()).unwrap();
        let id = store
            .create_calibration_session(&lea, session.record(), t0())
            .await
            .unwrap();
        let stored = store.calibration_session(id).await.unwrap().unwrap();
        assert_eq!(sorted(&stored.session), sorted(&session));
        let labels = [
            ("ann", ["spam", "spam", "harassment"]),
            ("bo", ["spam", "spam", "spam"]),
            ("cy", ["spam", "harassment", "harassment"]),
        ];
        let mut version = stored.version;
        for (rater, row) in labels {
            for (case, label) in [11, 12, 13].into_iter().zip(row) {
                session.rate(rater, case, label, &taxonomy, at(1)).unwrap();
            }
            version = store
                .save_calibration_session(&lea, (id, version), session.record(), "rate", at(1))
                .await
                .unwrap();
        }
        let stale = store
            .save_calibration_session(&lea, (id, version - 1), session.record(), "rate", at(1))
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        let missing = store
            .save_calibration_session(&lea, (id + 100, 1), session.record(), "rate", at(1))
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound(_))),
            "{missing:?}"
        );
        session.close(by, at(2)).unwrap();
        version = store
            .save_calibration_session(&lea, (id, version), session.record(), "close", at(2))
            .await
            .unwrap();
        let closed = store.calibration_session(id).await.unwrap().unwrap();
        assert_eq!(closed.session.status(), SessionStatus::Closed);
        let report = closed
            .session
            .report()
            .expect("a closed session has its report");
        assert_eq!(report.ratings, 9);
        assert_eq!(report, session.report().unwrap());
        let resolution = ResolutionInput {
            note: "Quoting spam to report it is not spam.".into(),
            categories: vec!["spam".into()],
        };
        session.resolve(by, &resolution, &taxonomy, at(3)).unwrap();
        store
            .save_calibration_session(&lea, (id, version), session.record(), "resolve", at(3))
            .await
            .unwrap();
        let resolved = store
            .calibration_session(id)
            .await
            .unwrap()
            .unwrap()
            .session;
        assert_eq!(sorted(&resolved), sorted(&session));
        assert_eq!(resolved.report(), session.report());
        let notes = store.resolution_notes("spam", 10).await.unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(
            (notes[0].session_id, notes[0].title.as_str()),
            (id, "Spam or not?")
        );
        assert!(store
            .resolution_notes("harassment", 10)
            .await
            .unwrap()
            .is_empty());
        let list = store.calibration_sessions(10).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].status, SessionStatus::Resolved);
        assert!(store.calibration_session(id + 1).await.unwrap().is_none());
        verify_audit(&store).await;
    }
);

store_test!(
    a_window_reads_decisions_by_time_and_adds_samples_once,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, lea) = user(&store, "lea", Role::Lead).await;
        let first = decided(&store, "p1", &anna, 0).await;
        let second = decided(&store, "p2", &anna, 30).await;
        // Decided at minutes 1 and 31: [0, 10) holds the first only.
        let window = store
            .decisions_made_between(at(0), at(10), 100)
            .await
            .unwrap();
        assert_eq!(
            window.iter().map(|d| d.decision_id).collect::<Vec<_>>(),
            [first]
        );
        let both = store
            .decisions_made_between(at(0), at(60), 100)
            .await
            .unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(
            store
                .decisions_made_between(at(0), at(60), 1)
                .await
                .unwrap()
                .len(),
            1
        );
        let samples: Vec<NewQaSample> = both
            .into_iter()
            .map(|decision| NewQaSample {
                decision,
                plans: vec![tag("weekly", false)],
            })
            .collect();
        assert_eq!(
            store
                .add_qa_samples(&lea, samples.clone(), at(70))
                .await
                .unwrap(),
            2
        );
        let audited = verify_audit(&store).await;
        assert_eq!(
            store.add_qa_samples(&lea, samples, at(71)).await.unwrap(),
            0,
            "once"
        );
        assert_eq!(
            verify_audit(&store).await,
            audited,
            "nothing added, nothing audited"
        );
        // The cursor is not the window pass's.
        assert_eq!(store.qa_sampling_cursor().await.unwrap(), 0);
        assert!(store.qa_assignment(second).await.unwrap().is_some());
        let empty = NewQaSample {
            decision: store.decisions_to_sample(0, 1).await.unwrap().remove(0),
            plans: vec![],
        };
        let refused = store.add_qa_samples(&lea, vec![empty], at(72)).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid { .. })),
            "{refused:?}"
        );
    }
);

store_test!(
    decision_volume_counts_each_stratum_in_the_period,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, bo) = user(&store, "bo", Role::Analyst).await;
        decided(&store, "p1", &anna, 0).await;
        decided(&store, "p2", &anna, 2).await;
        decided(&store, "p3", &bo, 4).await;
        // Decided at minutes 1, 3 and 5; [0, 60) holds them all.
        let volume = store.decision_volume(at(0), at(60), 100).await.unwrap();
        let counted: Vec<(&str, &str, &str, u64)> = volume
            .iter()
            .map(|s| {
                (
                    s.decider.as_str(),
                    s.queue.as_str(),
                    s.category.as_str(),
                    s.decisions,
                )
            })
            .collect();
        assert_eq!(
            counted,
            [("anna", "general", "spam", 2), ("bo", "general", "spam", 1)],
            "the busiest stratum first"
        );
        assert_eq!(volume[0].decider_started_at, t0());
        assert_eq!(volume[0].severity, volume[1].severity);
        // The period bounds it: [2, 60) leaves anna's first decision out.
        let later = store.decision_volume(at(2), at(60), 100).await.unwrap();
        let later: Vec<u64> = later.iter().map(|s| s.decisions).collect();
        assert_eq!(later, [1, 1]);
        // So does the limit: the busiest strata only.
        let one = store.decision_volume(at(0), at(60), 1).await.unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].decider, "anna");
        assert!(store
            .decision_volume(at(60), at(120), 100)
            .await
            .unwrap()
            .is_empty());
    }
);

/// Puts `decision` in the QA queue and records quinn's verdict on it;
/// answers the assignment, its version and the review marking it wrong.
async fn judged(
    store: &SqlStore,
    quinn: &Actor,
    decision: i64,
) -> (
    warden_domain::quality::review::QaAssignment,
    i64,
    warden_domain::quality::review::QaReview,
) {
    let cursor = store.qa_sampling_cursor().await.unwrap();
    let read = store.decisions_to_sample(cursor, 10).await.unwrap();
    let sample = NewQaSample {
        decision: read
            .into_iter()
            .find(|d| d.decision_id == decision)
            .unwrap(),
        plans: vec![tag("weekly", true)],
    };
    store
        .add_qa_samples(quinn, vec![sample], at(50))
        .await
        .unwrap();
    let stored = store.qa_assignment(decision).await.unwrap().unwrap();
    let mut assignment = stored.assignment.clone();
    let reviewer = QaReviewer {
        name: "quinn",
        role: Role::Qa,
    };
    assignment
        .claim(reviewer, at(51), Duration::minutes(10))
        .unwrap();
    let verdict = QaVerdict {
        violation: false,
        category: "spam".into(),
        actions: vec![],
    };
    assignment.submit_verdict("quinn", verdict, at(52)).unwrap();
    let version = store
        .save_qa_assignment(
            quinn,
            QaChange {
                assignment: &assignment,
                expected_version: stored.version,
                event: "submit_verdict",
                rework: None,
                reopen: None,
            },
            at(52),
        )
        .await
        .unwrap();
    let rubric = parse_score(&ScoreInput {
        decision_correct: Some(false),
        category_correct: Some(true),
        action_proportionate: Some(false),
        documentation: Some(2),
        feedback: Some("Quoting spam to report it is not spam.".into()),
        rework: None,
    })
    .unwrap();
    let review = assignment.score("quinn", rubric, at(53)).unwrap();
    (assignment, version, review)
}

fn rework_of(
    review: &warden_domain::quality::review::QaReview,
    decision: i64,
    case_id: warden_domain::CaseId,
) -> warden_store::ReworkRecord {
    let original = warden_domain::quality::review::OriginalDecision {
        decision_id: decision,
        case_id,
        decider: "anna".into(),
        violation: true,
        category: "spam".into(),
        actions: vec![],
        decided_at: at(1),
        case_status: warden_domain::case::CaseStatus::Resolved,
        superseded: false,
    };
    let rework = plan_rework(review, &original).expect("a wrong decision goes back");
    assert!(rework.reopen_case, "a resolved case reopens");
    warden_store::ReworkRecord {
        decision_id: rework.decision_id,
        case_id: rework.case_id,
        decider: rework.decider,
        feedback: rework.feedback,
        suggestion: rework.suggestion,
        reopen_case: rework.reopen_case,
        sent_back_at: rework.sent_back_at,
    }
}

store_test!(
    a_rework_reopens_its_case_in_the_reviews_transaction_or_leaves_neither,
    |store: SqlStore| async move {
        let (_, anna) = user(&store, "anna", Role::Analyst).await;
        let (_, quinn) = user(&store, "quinn", Role::Qa).await;
        let case_policy = policy();
        let blocked = decided(&store, "p1", &anna, 0).await;
        let reopened = decided(&store, "p2", &anna, 2).await;

        // A new report on p1 opens another case for the subject and
        // category: p1's resolved case can no longer reopen.
        let subject = reference(SubjectKind::Content, "p1");
        let again = vec![report(
            "r_p1_again",
            &subject,
            "spam",
            ReportSource::UserReport,
        )];
        store
            .ingest_reports(&Actor::system(), again, &case_policy, at(40))
            .await
            .unwrap();
        let (assignment, version, review) = judged(&store, &quinn, blocked).await;
        let case_id = assignment.record().case_id;
        let audited = verify_audit(&store).await;
        let failed = store
            .save_qa_assignment(
                &quinn,
                QaChange {
                    assignment: &assignment,
                    expected_version: version,
                    event: "score",
                    rework: Some(rework_of(&review, blocked, case_id)),
                    reopen: Some(CaseReopen {
                        reason: "QA sent the decision back for rework".into(),
                        policy: &case_policy,
                    }),
                },
                at(53),
            )
            .await;
        assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
        let left = store.qa_assignment(blocked).await.unwrap().unwrap();
        assert_eq!(left.version, version, "the review is not scored");
        assert_eq!(left.assignment.status(), QaStatus::VerdictSubmitted);
        assert!(left.rework.is_none(), "no rework without the reopening");
        let case = store.case(case_id).await.unwrap().unwrap();
        assert_eq!(case.status, warden_domain::case::CaseStatus::Resolved);
        assert_eq!(verify_audit(&store).await, audited, "nothing audited");
        let waiting = QaReviewFilter {
            decider: Some("anna".into()),
            awaiting_acknowledgement: true,
            limit: 10,
            ..QaReviewFilter::default()
        };
        assert!(store.qa_reviews(&waiting).await.unwrap().is_empty());

        // A reopening with no rework is refused before anything is written.
        let lone = store
            .save_qa_assignment(
                &quinn,
                QaChange {
                    assignment: &assignment,
                    expected_version: version,
                    event: "score",
                    rework: None,
                    reopen: Some(CaseReopen {
                        reason: "no".into(),
                        policy: &case_policy,
                    }),
                },
                at(53),
            )
            .await;
        assert!(matches!(lone, Err(StoreError::Invalid { .. })), "{lone:?}");

        // Without the obstacle, the score, the rework and the reopening
        // commit together, each audited.
        let (assignment, version, review) = judged(&store, &quinn, reopened).await;
        let case_id = assignment.record().case_id;
        let audited = verify_audit(&store).await;
        store
            .save_qa_assignment(
                &quinn,
                QaChange {
                    assignment: &assignment,
                    expected_version: version,
                    event: "score",
                    rework: Some(rework_of(&review, reopened, case_id)),
                    reopen: Some(CaseReopen {
                        reason: "QA sent the decision back for rework".into(),
                        policy: &case_policy,
                    }),
                },
                at(53),
            )
            .await
            .unwrap();
        let scored = store.qa_assignment(reopened).await.unwrap().unwrap();
        assert_eq!(scored.assignment.status(), QaStatus::Scored);
        assert!(scored.rework.is_some());
        let case = store.case(case_id).await.unwrap().unwrap();
        assert_eq!(case.status, warden_domain::case::CaseStatus::Reopened);
        assert!(case.resolve_due_at > at(53), "new SLA deadlines");
        assert_eq!(
            verify_audit(&store).await,
            audited + 2,
            "the score and the reopening"
        );
        assert_eq!(store.qa_reviews(&waiting).await.unwrap().len(), 1);
    }
);
