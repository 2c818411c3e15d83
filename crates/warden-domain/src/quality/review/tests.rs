//! Tests of the QA review: the transition table, blindness in every state
//! (and along generated event sequences), verdict and rubric checks with
//! every error and their limits, the comparison, the assignment's rules,
//! rework and KPI counting.

#![allow(clippy::fn_params_excessive_bools)] // Test helpers build rubrics from yes/no answers.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn at(minute: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

const QA: QaReviewer<'static> = QaReviewer {
    name: "quinn",
    role: Role::Qa,
};

const LEAD: QaReviewer<'static> = QaReviewer {
    name: "lee",
    role: Role::Lead,
};

fn lease() -> Duration {
    Duration::minutes(10)
}

fn assignment() -> QaAssignment {
    QaAssignment::sampled(41, CaseId(7), "ann", vec!["weekly".into()], at(0))
}

fn action(kind: ActionKind, days: Option<i64>) -> ActionSpec {
    ActionSpec {
        kind,
        duration: days.map(Duration::days),
    }
}

fn original(violation: bool, category: &str, actions: Vec<ActionSpec>) -> OriginalDecision {
    OriginalDecision {
        decision_id: 41,
        case_id: CaseId(7),
        decider: "ann".into(),
        violation,
        category: category.into(),
        actions,
        decided_at: at(-60),
        case_status: CaseStatus::Resolved,
        superseded: false,
    }
}

fn verdict(violation: bool, category: &str, actions: Vec<ActionSpec>) -> QaVerdict {
    QaVerdict {
        violation,
        category: category.into(),
        actions,
    }
}

fn score_input(decision: bool, category: bool, action: bool, feedback: &str) -> ScoreInput {
    ScoreInput {
        decision_correct: Some(decision),
        category_correct: Some(category),
        action_proportionate: Some(action),
        documentation: Some(4),
        feedback: Some(feedback.into()),
        rework: None,
    }
}

fn rubric(decision: bool, category: bool, action: bool, feedback: &str) -> Rubric {
    parse_score(&score_input(decision, category, action, feedback)).unwrap()
}

fn fields(errors: &FieldErrors) -> Vec<&str> {
    errors.0.iter().map(|e| e.field.as_str()).collect()
}

// ---------------------------------------------------------------- table

#[test]
fn the_transition_table_is_exactly_this() {
    use QaEvent::*;
    use QaStatus::*;
    let allowed: Vec<(QaStatus, QaEvent, QaStatus)> = QaStatus::ALL
        .into_iter()
        .flat_map(|from| {
            QaEvent::ALL
                .into_iter()
                .filter_map(move |event| from.after(event).map(|to| (from, event, to)))
        })
        .collect();
    assert_eq!(
        allowed,
        [
            (Sampled, Claim, Claimed),
            (Claimed, Release, Sampled),
            (Claimed, ExpireLease, Sampled),
            (Claimed, SubmitVerdict, VerdictSubmitted),
            (VerdictSubmitted, Score, Scored),
            (Scored, Acknowledge, Closed),
            (Scored, Close, Closed),
        ]
    );
}

#[test]
fn statuses_round_trip_and_unknown_ones_are_named() {
    for status in QaStatus::ALL {
        assert_eq!(status.as_str().parse::<QaStatus>(), Ok(status));
    }
    assert!("done"
        .parse::<QaStatus>()
        .unwrap_err()
        .contains("verdict_submitted"));
    assert_eq!(QaEvent::SubmitVerdict.to_string(), "submit_verdict");
}

#[test]
fn only_qa_and_leads_review() {
    let reviewing: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|&role| may_review_quality(role))
        .collect();
    assert_eq!(reviewing, [Role::Lead, Role::Qa]);
}

// ---------------------------------------------------------------- blindness

#[test]
fn nothing_of_the_original_shows_before_the_verdict() {
    let decision = original(true, "spam", vec![]);
    for status in [QaStatus::Sampled, QaStatus::Claimed] {
        let view = blind_view(status);
        assert_eq!(
            view.hidden_parts(),
            [
                CasePart::Outcome,
                CasePart::Rationale,
                CasePart::Decider,
                CasePart::Actions,
                CasePart::Strikes,
                CasePart::NoticesAndStatement,
                CasePart::DeciderNotes,
                CasePart::AfterDecision,
                CasePart::SampleReasons,
            ],
            "{status}"
        );
        assert!(view.shows(CasePart::Subject));
        assert!(view.shows(CasePart::ItemsUntilDecision));
        assert!(view.shows(CasePart::HistoryUntilDecision));
        assert_eq!(view.original(&decision), None);
    }
    for status in [
        QaStatus::VerdictSubmitted,
        QaStatus::Scored,
        QaStatus::Closed,
    ] {
        let view = blind_view(status);
        assert!(view.hidden_parts().is_empty(), "{status}");
        assert_eq!(view.original(&decision), Some(&decision));
    }
}

/// One step of a generated history of an assignment.
#[derive(Debug, Clone)]
enum Step {
    Claim(usize),
    Renew(usize),
    Release(usize),
    Expire,
    Verdict(usize),
    Score(usize, bool),
    Acknowledge(usize),
    Wait(i64),
}

const PEOPLE: [QaReviewer<'static>; 4] = [
    QA,
    LEAD,
    QaReviewer {
        name: "ann",
        role: Role::Lead,
    },
    QaReviewer {
        name: "sam",
        role: Role::Associate,
    },
];

fn step() -> impl Strategy<Value = Step> {
    let who = 0..PEOPLE.len();
    prop_oneof![
        who.clone().prop_map(Step::Claim),
        who.clone().prop_map(Step::Renew),
        who.clone().prop_map(Step::Release),
        Just(Step::Expire),
        who.clone().prop_map(Step::Verdict),
        (who.clone(), any::<bool>()).prop_map(|(w, fault)| Step::Score(w, fault)),
        who.prop_map(Step::Acknowledge),
        (1..30i64).prop_map(Step::Wait),
    ]
}

proptest! {
    #[test]
    fn blindness_holds_along_any_history(steps in prop::collection::vec(step(), 0..40)) {
        let decision = original(true, "spam", vec![action(ActionKind::Warn, None)]);
        let mut assignment = assignment();
        let mut now = at(0);
        let mut verdict_seen = false;
        for step in steps {
            let before = assignment.clone();
            let result = match step {
                Step::Claim(who) => assignment.claim(PEOPLE[who], now, lease()),
                Step::Renew(who) => assignment.renew(PEOPLE[who].name, now, lease()),
                Step::Release(who) => assignment.release(PEOPLE[who].name),
                Step::Expire => assignment.expire(now),
                Step::Verdict(who) => assignment.submit_verdict(
                    PEOPLE[who].name,
                    verdict(false, "spam", vec![]),
                    now,
                ),
                Step::Score(who, fault) => assignment
                    .score(PEOPLE[who].name, rubric(!fault, true, true, if fault { "no" } else { "" }), now)
                    .map(|_| ()),
                Step::Acknowledge(who) => assignment.acknowledge(PEOPLE[who].name, now),
                Step::Wait(minutes) => {
                    now += Duration::minutes(minutes);
                    Ok(())
                }
            };
            if result.is_err() {
                prop_assert_eq!(&assignment, &before, "a refused change changed something");
            }
            // The decider never holds or reviews their own decision.
            if let Some(held) = &assignment.record().lease {
                prop_assert_ne!(held.assignee.as_str(), "ann");
                prop_assert_ne!(held.assignee.as_str(), "sam");
            }
            verdict_seen |= assignment.record().verdict.is_some();
            let view = assignment.blind_view();
            prop_assert_eq!(view.original(&decision).is_some(), verdict_seen);
            for part in CasePart::ALL {
                prop_assert_eq!(view.shows(part), part.is_case_as_decided() || verdict_seen);
            }
            prop_assert!(QaAssignment::restore(assignment.record().clone()).is_ok());
        }
    }
}

// ---------------------------------------------------------------- verdict

#[test]
fn verdicts_report_every_field() {
    let taxonomy = Taxonomy::default();
    let errors = parse_verdict(&QaVerdictInput::default(), &taxonomy).unwrap_err();
    assert_eq!(fields(&errors), ["verdict.violation", "verdict.category"]);
    let errors = parse_verdict(
        &QaVerdictInput {
            violation: Some(false),
            category: Some("nonsense".into()),
            actions: vec![action(ActionKind::Warn, None)],
        },
        &taxonomy,
    )
    .unwrap_err();
    assert_eq!(fields(&errors), ["verdict.category", "verdict.actions"]);
    assert!(errors.0[0].reason.contains("unknown taxonomy code"));
    let good = parse_verdict(
        &QaVerdictInput {
            violation: Some(true),
            category: Some("spam".into()),
            actions: vec![action(ActionKind::RemoveContent, None)],
        },
        &taxonomy,
    )
    .unwrap();
    assert_eq!(
        good,
        verdict(true, "spam", vec![action(ActionKind::RemoveContent, None)])
    );
}

#[test]
fn verdict_actions_at_max_and_max_plus_one() {
    let taxonomy = Taxonomy::default();
    let mut input = QaVerdictInput {
        violation: Some(true),
        category: Some("spam".into()),
        actions: vec![action(ActionKind::Warn, None); DECISION_ACTIONS_MAX],
    };
    assert!(parse_verdict(&input, &taxonomy).is_ok());
    input.actions.push(action(ActionKind::Warn, None));
    assert_eq!(
        fields(&parse_verdict(&input, &taxonomy).unwrap_err()),
        ["verdict.actions"]
    );
}

// ---------------------------------------------------------------- rubric

#[test]
fn an_empty_rubric_names_every_field() {
    let errors = parse_score(&ScoreInput::default()).unwrap_err();
    assert_eq!(
        fields(&errors),
        [
            "rubric.decision_correct",
            "rubric.category_correct",
            "rubric.action_proportionate",
            "rubric.documentation",
        ]
    );
}

#[test]
fn documentation_is_one_to_five() {
    for (value, ok) in [
        (0, false),
        (1, true),
        (5, true),
        (6, false),
        (-1, false),
        (i64::MAX, false),
    ] {
        let mut input = score_input(true, true, true, "");
        input.documentation = Some(value);
        assert_eq!(parse_score(&input).is_ok(), ok, "{value}");
    }
    assert_eq!(DocumentationScore::parse(3).unwrap().value(), 3);
    assert_eq!(
        DocumentationScore::parse(9).unwrap_err(),
        "must be 1 to 5, got 9"
    );
}

#[test]
fn feedback_at_max_and_max_plus_one() {
    let mut input = score_input(false, true, true, &"é".repeat(QA_FEEDBACK_CHARS_MAX));
    assert!(parse_score(&input).is_ok());
    input.feedback = Some("é".repeat(QA_FEEDBACK_CHARS_MAX + 1));
    assert_eq!(fields(&parse_score(&input).unwrap_err()), ["feedback"]);
    // Free text keeps every character.
    input.feedback = Some("line\none\u{0}\u{202E}".into());
    assert_eq!(
        parse_score(&input).unwrap().feedback,
        "line\none\u{0}\u{202E}"
    );
}

#[test]
fn a_no_needs_feedback() {
    for (decision, category, action) in [
        (false, true, true),
        (true, false, true),
        (true, true, false),
    ] {
        let errors = parse_score(&score_input(decision, category, action, "  ")).unwrap_err();
        assert_eq!(fields(&errors), ["feedback"]);
        assert!(errors.0[0].reason.contains("what to correct"));
    }
    let all_yes = rubric(true, true, true, "");
    assert!(!all_yes.finds_fault() && !all_yes.needs_acknowledgement());
    assert!(rubric(true, true, true, "nice rationale").needs_acknowledgement());
}

#[test]
fn rework_defaults_to_a_wrong_decision_and_needs_a_fault() {
    assert!(rubric(false, true, true, "wrong").rework);
    assert!(!rubric(true, false, true, "category").rework);
    let mut declined = score_input(false, true, true, "wrong, corrected on appeal");
    declined.rework = Some(false);
    assert!(!parse_score(&declined).unwrap().rework);
    let mut category_only = score_input(true, false, true, "should be scam");
    category_only.rework = Some(true);
    assert!(parse_score(&category_only).unwrap().rework);
    let mut nothing_wrong = score_input(true, true, true, "");
    nothing_wrong.rework = Some(true);
    let errors = parse_score(&nothing_wrong).unwrap_err();
    assert_eq!(fields(&errors), ["rework"]);
}

// ---------------------------------------------------------------- comparison

#[test]
fn agreeing_verdicts() {
    let remove = action(ActionKind::RemoveContent, None);
    let comparison = compare(
        &verdict(true, "spam", vec![remove.clone()]),
        &original(true, "spam", vec![remove]),
    );
    assert!(comparison.agrees && comparison.violation_matches && comparison.category_matches);
    assert_eq!(comparison.proportionality, Proportionality::Same);
    assert_eq!(comparison.action_overlap, Some(1.0));
    assert!(comparison.notes.is_empty());
    // No violation on both sides agrees whatever the category.
    let comparison = compare(
        &verdict(false, "spam", vec![]),
        &original(false, "scam", vec![]),
    );
    assert!(comparison.agrees && !comparison.category_matches);
    assert_eq!(comparison.proportionality, Proportionality::NoActions);
    assert_eq!(comparison.action_overlap, None);
}

#[test]
fn disagreements_are_written_out() {
    let comparison = compare(
        &verdict(false, "spam", vec![]),
        &original(true, "scam", vec![action(ActionKind::Suspend, Some(7))]),
    );
    assert!(!comparison.agrees);
    assert_eq!(
        comparison.notes,
        [
            "the decision found a violation; QA found none",
            "category scam against QA's spam",
            "only the decision ordered suspend",
            "the original went further than QA's verdict",
        ]
    );
    assert_eq!(comparison.action_overlap, Some(0.0));
}

#[test]
fn proportionality_follows_the_ladder_then_lengths_then_actions() {
    let warn = action(ActionKind::Warn, None);
    let suspend = |days| action(ActionKind::Suspend, Some(days));
    let ban = action(ActionKind::Ban, None);
    let remove = action(ActionKind::RemoveContent, None);
    let label = action(
        ActionKind::Label {
            label: "graphic".into(),
        },
        None,
    );
    let cases = [
        (
            vec![suspend(7)],
            vec![warn.clone()],
            Proportionality::OriginalHarsher,
        ),
        (
            vec![warn.clone()],
            vec![ban.clone()],
            Proportionality::OriginalLighter,
        ),
        (
            vec![suspend(30)],
            vec![suspend(7)],
            Proportionality::OriginalHarsher,
        ),
        (
            vec![suspend(7)],
            vec![suspend(30)],
            Proportionality::OriginalLighter,
        ),
        (vec![ban.clone()], vec![ban.clone()], Proportionality::Same),
        // On the same rung, more actions go further.
        (
            vec![ban.clone()],
            vec![ban.clone(), warn.clone()],
            Proportionality::OriginalLighter,
        ),
        (
            vec![remove.clone(), warn.clone()],
            vec![warn.clone()],
            Proportionality::OriginalHarsher,
        ),
        (
            vec![remove.clone()],
            vec![remove.clone(), label.clone()],
            Proportionality::OriginalLighter,
        ),
        (
            vec![remove.clone()],
            vec![label.clone()],
            Proportionality::NotComparable,
        ),
        (vec![warn.clone()], vec![], Proportionality::OriginalHarsher),
        (vec![], vec![remove], Proportionality::OriginalLighter),
    ];
    for (original_actions, verdict_actions, expected) in cases {
        let comparison = compare(
            &verdict(true, "spam", verdict_actions.clone()),
            &original(true, "spam", original_actions.clone()),
        );
        assert_eq!(
            comparison.proportionality, expected,
            "{original_actions:?} against {verdict_actions:?}"
        );
    }
}

#[test]
fn actions_pair_by_kind_and_note_lengths() {
    let comparison = compare(
        &verdict(
            true,
            "spam",
            vec![
                action(ActionKind::Suspend, Some(30)),
                action(
                    ActionKind::Restrict {
                        feature: "messaging".into(),
                    },
                    Some(7),
                ),
            ],
        ),
        &original(
            true,
            "spam",
            vec![
                action(ActionKind::Suspend, Some(7)),
                action(
                    ActionKind::Restrict {
                        feature: "posting".into(),
                    },
                    Some(7),
                ),
            ],
        ),
    );
    assert_eq!(comparison.shared_actions.len(), 1);
    assert_eq!(comparison.only_in_verdict.len(), 1);
    assert_eq!(comparison.only_in_original.len(), 1);
    assert_eq!(comparison.action_overlap, Some(1.0 / 3.0));
    assert_eq!(
        comparison.notes,
        [
            "suspend for 7 days against QA's 30 days",
            "only the decision ordered restrict posting",
            "only QA ordered restrict messaging",
            "the original went less far than QA's verdict",
        ]
    );
}

// ---------------------------------------------------------------- assignment

#[test]
fn a_review_from_claim_to_acknowledgement() {
    let mut qa = assignment();
    qa.claim(QA, at(0), lease()).unwrap();
    assert_eq!(qa.status(), QaStatus::Claimed);
    assert!(!qa.blind_view().shows(CasePart::Decider));
    qa.submit_verdict("quinn", verdict(false, "spam", vec![]), at(5))
        .unwrap();
    assert_eq!(qa.status(), QaStatus::VerdictSubmitted);
    assert!(qa.blind_view().shows(CasePart::Decider));
    assert_eq!(qa.record().lease, None);
    let review = qa
        .score(
            "quinn",
            rubric(false, true, true, "no link in the post"),
            at(8),
        )
        .unwrap();
    assert_eq!(qa.status(), QaStatus::Scored);
    assert_eq!((review.verdict_at, review.scored_at), (at(5), at(8)));
    assert_eq!(qa.review(), Some(review));
    assert_eq!(
        qa.acknowledge("quinn", at(9)),
        Err(QaRefusal::NotDecider {
            decider: "ann".into()
        })
    );
    qa.acknowledge("ann", at(60)).unwrap();
    assert_eq!(qa.status(), QaStatus::Closed);
    assert_eq!(qa.record().closed_at, Some(at(60)));
}

#[test]
fn a_clean_score_closes_at_once() {
    let mut qa = assignment();
    qa.claim(LEAD, at(0), lease()).unwrap();
    qa.submit_verdict("lee", verdict(true, "spam", vec![]), at(1))
        .unwrap();
    qa.score("lee", rubric(true, true, true, ""), at(2))
        .unwrap();
    assert_eq!(qa.status(), QaStatus::Closed);
    assert_eq!(qa.record().closed_at, Some(at(2)));
}

#[test]
fn who_may_claim() {
    let mut qa = assignment();
    let associate = QaReviewer {
        name: "sam",
        role: Role::Associate,
    };
    assert_eq!(
        qa.claim(associate, at(0), lease()),
        Err(QaRefusal::RoleMayNotReview {
            role: Role::Associate
        })
    );
    let decider = QaReviewer {
        name: "ann",
        role: Role::Lead,
    };
    assert_eq!(
        qa.claim(decider, at(0), lease()),
        Err(QaRefusal::OwnDecision)
    );
    assert_eq!(
        qa.claim(QA, at(0), Duration::zero()),
        Err(QaRefusal::LeaseLength)
    );
    assert_eq!(
        qa.claim(QA, at(0), Duration::seconds(LEASE_SECONDS_MAX + 1)),
        Err(QaRefusal::LeaseLength)
    );
    qa.claim(QA, at(0), Duration::seconds(LEASE_SECONDS_MAX))
        .unwrap();
    assert_eq!(
        qa.claim(LEAD, at(1), lease()),
        Err(QaRefusal::HeldByOther {
            holder: "quinn".into(),
            until: at(60)
        })
    );
    // The holder claiming again renews.
    qa.claim(QA, at(30), lease()).unwrap();
    assert_eq!(qa.record().lease.as_ref().unwrap().expires_at, at(40));
}

#[test]
fn leases_run_out() {
    let mut qa = assignment();
    qa.claim(QA, at(0), lease()).unwrap();
    assert_eq!(
        qa.expire(at(9)),
        Err(QaRefusal::LeaseLive { until: at(10) })
    );
    assert_eq!(
        qa.submit_verdict("quinn", verdict(false, "spam", vec![]), at(10)),
        Err(QaRefusal::LeaseExpired { expired_at: at(10) })
    );
    assert_eq!(
        qa.renew("quinn", at(11), lease()),
        Err(QaRefusal::LeaseExpired { expired_at: at(10) })
    );
    // Another reviewer may take it once it ran out.
    qa.claim(LEAD, at(11), lease()).unwrap();
    assert_eq!(qa.record().lease.as_ref().unwrap().assignee, "lee");
    assert_eq!(
        qa.submit_verdict("quinn", verdict(false, "spam", vec![]), at(12)),
        Err(QaRefusal::NotHolder {
            holder: "lee".into()
        })
    );
    qa.expire(at(21)).unwrap();
    assert_eq!(qa.status(), QaStatus::Sampled);
    assert_eq!(
        qa.expire(at(22)),
        Err(QaRefusal::Transition {
            from: QaStatus::Sampled,
            event: QaEvent::ExpireLease
        })
    );
}

#[test]
fn release_and_renew_are_the_holders() {
    let mut qa = assignment();
    qa.claim(QA, at(0), lease()).unwrap();
    assert_eq!(
        qa.release("lee"),
        Err(QaRefusal::NotHolder {
            holder: "quinn".into()
        })
    );
    qa.renew("quinn", at(5), lease()).unwrap();
    assert_eq!(qa.record().lease.as_ref().unwrap().expires_at, at(15));
    qa.release("quinn").unwrap();
    assert_eq!(qa.status(), QaStatus::Sampled);
    assert_eq!(qa.record().lease, None);
    assert_eq!(
        qa.renew("quinn", at(6), lease()),
        Err(QaRefusal::NotClaimed {
            status: QaStatus::Sampled
        })
    );
    assert_eq!(
        qa.renew("quinn", at(6), lease()).unwrap_err().to_string(),
        "the QA assignment is sampled, not claimed under a lease"
    );
}

#[test]
fn only_the_verdicts_author_scores() {
    let mut qa = assignment();
    qa.claim(QA, at(0), lease()).unwrap();
    qa.submit_verdict("quinn", verdict(false, "spam", vec![]), at(1))
        .unwrap();
    // Nobody else can claim it now: the verdict is in.
    assert_eq!(
        qa.claim(LEAD, at(30), lease()),
        Err(QaRefusal::Transition {
            from: QaStatus::VerdictSubmitted,
            event: QaEvent::Claim
        })
    );
    assert_eq!(
        qa.score("lee", rubric(true, true, true, ""), at(2)),
        Err(QaRefusal::NotHolder {
            holder: "quinn".into()
        })
    );
    let message = QaRefusal::Transition {
        from: QaStatus::Closed,
        event: QaEvent::Score,
    }
    .to_string();
    assert_eq!(message, "a QA assignment that is closed cannot score");
}

#[test]
fn restore_checks_the_parts_of_each_status() {
    let mut qa = assignment();
    assert!(QaAssignment::restore(qa.record().clone()).is_ok());
    qa.claim(QA, at(0), lease()).unwrap();
    let mut record = qa.record().clone();
    assert!(QaAssignment::restore(record.clone()).is_ok());
    record.lease = None;
    assert!(QaAssignment::restore(record.clone())
        .unwrap_err()
        .contains("a claimed QA assignment of decision 41 has the wrong parts"));
    record.status = QaStatus::Closed;
    assert!(QaAssignment::restore(record).is_err());
}

// ---------------------------------------------------------------- rework

fn scored_review(rubric: Rubric) -> QaReview {
    QaReview {
        reviewer: "quinn".into(),
        verdict: verdict(true, "spam", vec![action(ActionKind::RemoveContent, None)]),
        verdict_at: at(5),
        rubric,
        scored_at: at(8),
    }
}

#[test]
fn a_wrong_decision_goes_back_to_its_decider() {
    let decision = original(false, "spam", vec![]);
    let review = scored_review(rubric(false, true, true, "the post links to a scam"));
    let rework = plan_rework(&review, &decision).unwrap();
    assert_eq!(
        rework,
        Rework {
            decision_id: 41,
            case_id: CaseId(7),
            decider: "ann".into(),
            feedback: "the post links to a scam".into(),
            suggestion: review.verdict.clone(),
            reopen_case: true,
            sent_back_at: at(8),
        }
    );
    let facts = kpi_facts(&review, &decision, Some(&rework));
    assert_eq!(
        facts,
        QaKpiFacts {
            decision_id: 41,
            completed_at: at(8),
            decision_correct: false,
            documentation: 4,
            qa_rework_at: Some(at(8)),
            violation_found_at: Some(at(8)),
        }
    );
}

#[test]
fn an_open_case_is_corrected_where_it_is() {
    let mut decision = original(true, "spam", vec![]);
    decision.case_status = CaseStatus::Reopened;
    let review = scored_review(rubric(false, true, true, "not spam"));
    assert!(!plan_rework(&review, &decision).unwrap().reopen_case);
}

#[test]
fn no_rework_when_declined_right_or_already_corrected() {
    let decision = original(true, "spam", vec![]);
    let right = scored_review(rubric(true, true, true, ""));
    assert_eq!(plan_rework(&right, &decision), None);
    let facts = kpi_facts(&right, &decision, None);
    assert!(facts.decision_correct && facts.qa_rework_at.is_none());
    assert_eq!(facts.violation_found_at, None);
    let mut declined = score_input(false, true, true, "wrong");
    declined.rework = Some(false);
    let declined = scored_review(parse_score(&declined).unwrap());
    assert_eq!(plan_rework(&declined, &decision), None);
    // A wrong violation decision is no false negative.
    assert_eq!(
        kpi_facts(&declined, &decision, None).violation_found_at,
        None
    );
    let mut superseded = decision.clone();
    superseded.superseded = true;
    let wrong = scored_review(rubric(false, true, true, "wrong"));
    assert_eq!(plan_rework(&wrong, &superseded), None);
}
