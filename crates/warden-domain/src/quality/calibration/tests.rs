//! Tests of calibration sessions: the table, who runs a session, every
//! input error and limit, blind ratings, the report worked by hand, the
//! resolution, restoring, sampled cases, and properties (order of ratings,
//! blindness before close).

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn at(minute: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

const QA: Participant<'static> = Participant {
    name: "quinn",
    role: Role::Qa,
};

const LEAD: Participant<'static> = Participant {
    name: "lee",
    role: Role::Lead,
};

const OTHER_QA: Participant<'static> = Participant {
    name: "quentin",
    role: Role::Qa,
};

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| name.to_string()).collect()
}

fn input(case_ids: &[i64], raters: &[&str]) -> SessionInput {
    SessionInput {
        title: "Spam or scam?".into(),
        case_ids: case_ids.to_vec(),
        raters: names(raters),
    }
}

fn open_session(case_ids: &[i64], raters: &[&str]) -> CalibrationSession {
    let mut session = CalibrationSession::create(QA, &input(case_ids, raters), at(0)).unwrap();
    session.open(QA, at(1)).unwrap();
    session
}

fn invalid_fields(error: CalibrationError) -> Vec<String> {
    match error {
        CalibrationError::Invalid(errors) => errors.0.into_iter().map(|e| e.field).collect(),
        CalibrationError::Refused(refusal) => panic!("refused: {refusal}"),
    }
}

fn refusal(error: CalibrationError) -> CalibrationRefusal {
    match error {
        CalibrationError::Refused(refusal) => refusal,
        CalibrationError::Invalid(errors) => panic!("invalid: {errors}"),
    }
}

// ---------------------------------------------------------------- table and roles

#[test]
fn the_transition_table_is_exactly_this() {
    let allowed: Vec<(SessionStatus, SessionEvent, SessionStatus)> = SessionStatus::ALL
        .into_iter()
        .flat_map(|from| {
            SessionEvent::ALL
                .into_iter()
                .filter_map(move |event| from.after(event).map(|to| (from, event, to)))
        })
        .collect();
    use SessionEvent as E;
    use SessionStatus as S;
    assert_eq!(
        allowed,
        [
            (S::Draft, E::Open, S::Open),
            (S::Open, E::Close, S::Closed),
            (S::Closed, E::Resolve, S::Resolved),
        ]
    );
    for status in SessionStatus::ALL {
        assert_eq!(status.as_str().parse::<SessionStatus>(), Ok(status));
    }
    assert!("done"
        .parse::<SessionStatus>()
        .unwrap_err()
        .contains("resolved"));
}

#[test]
fn leads_and_qa_run_sessions() {
    let running: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|&role| may_run_calibration(role))
        .collect();
    assert_eq!(running, [Role::Lead, Role::Qa]);
    let analyst = Participant {
        name: "ann",
        role: Role::Analyst,
    };
    assert_eq!(
        refusal(CalibrationSession::create(analyst, &input(&[1], &["a", "b"]), at(0)).unwrap_err()),
        CalibrationRefusal::RoleMayNotRun {
            role: Role::Analyst
        }
    );
}

// ---------------------------------------------------------------- input

#[test]
fn every_input_error_is_named() {
    let error = CalibrationSession::create(
        QA,
        &SessionInput {
            title: "  ".into(),
            case_ids: vec![4, 0, 4, -2],
            raters: names(&["ann", "a b", "ann"]),
        },
        at(0),
    )
    .unwrap_err();
    assert_eq!(
        invalid_fields(error),
        [
            "title",
            "case_ids[1]",
            "case_ids[2]",
            "case_ids[3]",
            "raters[1]",
            "raters[2]"
        ]
    );
    let error = CalibrationSession::create(
        QA,
        &SessionInput {
            title: "x".into(),
            case_ids: vec![],
            raters: names(&["ann"]),
        },
        at(0),
    )
    .unwrap_err();
    assert_eq!(invalid_fields(error), ["case_ids", "raters"]);
}

#[test]
fn limits_at_max_and_max_plus_one() {
    let cases: Vec<i64> = (1..=CALIBRATION_CASES_MAX as i64).collect();
    let raters: Vec<String> = (0..CALIBRATION_RATERS_MAX)
        .map(|i| format!("r{i}"))
        .collect();
    let full = SessionInput {
        title: "t".repeat(CALIBRATION_TITLE_CHARS_MAX),
        case_ids: cases.clone(),
        raters: raters.clone(),
    };
    assert!(CalibrationSession::create(QA, &full, at(0)).is_ok());
    let mut over = full.clone();
    over.title = "t".repeat(CALIBRATION_TITLE_CHARS_MAX + 1);
    over.case_ids.push(CALIBRATION_CASES_MAX as i64 + 1);
    over.raters.push("one-more".into());
    assert_eq!(
        invalid_fields(CalibrationSession::create(QA, &over, at(0)).unwrap_err()),
        ["title", "case_ids", "raters"]
    );
}

#[test]
fn drafts_change_by_their_organizers_only() {
    let mut session =
        CalibrationSession::create(QA, &input(&[1, 2], &["ann", "bob"]), at(0)).unwrap();
    assert_eq!(
        refusal(session.replace_cases(OTHER_QA, &[3]).unwrap_err()),
        CalibrationRefusal::NotOrganizer {
            creator: "quinn".into()
        }
    );
    session.replace_cases(LEAD, &[3, 4]).unwrap();
    session.replace_raters(QA, &names(&["ann", "cid"])).unwrap();
    assert_eq!(
        invalid_fields(session.replace_raters(QA, &names(&["ann"])).unwrap_err()),
        ["raters"]
    );
    assert_eq!(session.record().case_ids, [3, 4]);
    assert_eq!(session.record().raters, ["ann", "cid"]);
    assert_eq!(
        session.open(OTHER_QA, at(1)),
        Err(CalibrationRefusal::NotOrganizer {
            creator: "quinn".into()
        })
    );
    session.open(QA, at(1)).unwrap();
    assert_eq!(
        refusal(session.replace_cases(QA, &[5]).unwrap_err()),
        CalibrationRefusal::Status {
            from: SessionStatus::Open,
            action: "change its cases"
        }
    );
    assert_eq!(
        session.open(QA, at(2)),
        Err(CalibrationRefusal::Status {
            from: SessionStatus::Open,
            action: "open"
        })
    );
}

// ---------------------------------------------------------------- ratings

#[test]
fn ratings_follow_the_rules() {
    let taxonomy = Taxonomy::default();
    let mut draft = CalibrationSession::create(QA, &input(&[1], &["ann", "bob"]), at(0)).unwrap();
    assert_eq!(
        refusal(draft.rate("ann", 1, "spam", &taxonomy, at(1)).unwrap_err()),
        CalibrationRefusal::Status {
            from: SessionStatus::Draft,
            action: "take ratings"
        }
    );
    let mut session = open_session(&[1, 2], &["ann", "bob"]);
    assert_eq!(
        session.rate("ann", 1, "spam", &taxonomy, at(2)),
        Ok(RatingOutcome::Recorded)
    );
    assert_eq!(
        session.rate("ann", 1, "spam", &taxonomy, at(3)),
        Ok(RatingOutcome::Duplicate)
    );
    assert_eq!(
        refusal(
            session
                .rate("ann", 1, "scam", &taxonomy, at(3))
                .unwrap_err()
        ),
        CalibrationRefusal::AlreadyRated {
            case_id: 1,
            rater: "ann".into(),
            label: "spam".into()
        }
    );
    assert_eq!(
        refusal(
            session
                .rate("quinn", 1, "spam", &taxonomy, at(3))
                .unwrap_err()
        ),
        CalibrationRefusal::NotRater {
            rater: "quinn".into()
        }
    );
    assert_eq!(
        refusal(
            session
                .rate("bob", 9, "spam", &taxonomy, at(3))
                .unwrap_err()
        ),
        CalibrationRefusal::UnknownCase { case_id: 9 }
    );
    assert_eq!(
        invalid_fields(
            session
                .rate("bob", 1, "spamm", &taxonomy, at(3))
                .unwrap_err()
        ),
        ["label"]
    );
    assert_eq!(session.record().ratings.len(), 1);
    assert_eq!(session.record().ratings[0].rated_at, at(2));
}

#[test]
fn raters_see_only_their_own_ratings_until_close() {
    let taxonomy = Taxonomy::default();
    let mut session = open_session(&[1, 2], &["ann", "bob"]);
    session.rate("ann", 1, "spam", &taxonomy, at(2)).unwrap();
    session.rate("bob", 1, "scam", &taxonomy, at(2)).unwrap();
    session.rate("bob", 2, "scam", &taxonomy, at(2)).unwrap();
    let view = session.view_for("ann");
    assert_eq!(view.ratings.len(), 1);
    assert_eq!(view.ratings[0].rater, "ann");
    assert!(view.report.is_none());
    assert_eq!(
        view.progress,
        [
            RaterProgress {
                rater: "ann".into(),
                rated: 1,
                cases: 2
            },
            RaterProgress {
                rater: "bob".into(),
                rated: 2,
                cases: 2
            },
        ]
    );
    // The organizer, who does not rate, sees progress only.
    assert!(session.view_for("quinn").ratings.is_empty());
    assert_eq!(
        session.close(OTHER_QA, at(5)).unwrap_err(),
        CalibrationRefusal::NotOrganizer {
            creator: "quinn".into()
        }
    );
    session.close(LEAD, at(5)).unwrap();
    let view = session.view_for("ann");
    assert_eq!(view.ratings.len(), 3);
    assert!(view.report.is_some());
    assert_eq!(
        refusal(
            session
                .rate("ann", 2, "spam", &taxonomy, at(6))
                .unwrap_err()
        ),
        CalibrationRefusal::Status {
            from: SessionStatus::Closed,
            action: "take ratings"
        }
    );
}

// ---------------------------------------------------------------- report

/// Three cases rated by ann, bob and cid; case 4 unrated; dee never rates.
fn worked_example() -> CalibrationSession {
    let taxonomy = Taxonomy::default();
    let mut session = open_session(&[3, 1, 2, 4], &["dee", "cid", "bob", "ann"]);
    for (case_id, labels) in [
        (2, ["spam", "scam", "scam"]),
        (1, ["spam", "spam", "spam"]),
        (3, ["hate", "spam", "scam"]),
    ] {
        for (rater, label) in ["ann", "bob", "cid"].into_iter().zip(labels) {
            session
                .rate(rater, case_id, label, &taxonomy, at(2))
                .unwrap();
        }
    }
    session.close(QA, at(10)).unwrap();
    session
}

fn close_to(value: Statistic, expected: f64) -> bool {
    value.is_ok_and(|v| (v - expected).abs() < 1e-12)
}

#[test]
fn the_report_by_hand() {
    let session = worked_example();
    let report = session.report().unwrap();
    assert_eq!(
        (
            report.rated_cases,
            report.active_raters,
            report.ratings,
            report.labels_used
        ),
        (3, 3, 9, 3)
    );
    // P̄ = (1 + 1/3 + 0) / 3.
    assert!(close_to(report.percent_agreement, 4.0 / 9.0));
    // p = 5/9, 3/9, 1/9; P̄e = 35/81; κ = (36/81 − 35/81) / (46/81).
    assert!(close_to(report.fleiss_kappa, 1.0 / 46.0));
    assert_eq!(report.cohen_kappa, Err(Undefined::NotTwoRaters));
    let cases: Vec<(i64, CaseConsensus, Option<f64>)> = report
        .cases
        .iter()
        .map(|c| (c.case_id, c.consensus.clone(), c.agreement))
        .collect();
    assert_eq!(
        cases,
        [
            (1, CaseConsensus::Label("spam".into()), Some(1.0)),
            (2, CaseConsensus::Label("scam".into()), Some(1.0 / 3.0)),
            (
                3,
                CaseConsensus::Tie(names(&["hate", "scam", "spam"])),
                Some(0.0)
            ),
            (4, CaseConsensus::Unrated, None),
        ]
    );
    assert_eq!(
        report.cases[1].labels,
        [("scam".to_string(), 2), ("spam".to_string(), 1)]
    );
    // Agreement with consensus over cases 1 and 2: ann 1/2, bob 1, cid 1.
    let mean = 2.5 / 3.0;
    assert!(close_to(report.mean_agreement, mean));
    let raters: Vec<(&str, u32, u32)> = report
        .raters
        .iter()
        .map(|r| (r.rater.as_str(), r.ratings, r.compared))
        .collect();
    assert_eq!(
        raters,
        [("ann", 3, 2), ("bob", 3, 2), ("cid", 3, 2), ("dee", 0, 0)]
    );
    assert!(close_to(report.raters[0].deviation, 0.5 - mean));
    assert!(close_to(report.raters[1].deviation, 1.0 - mean));
    assert_eq!(report.raters[3].agreement, Err(Undefined::NoConsensusItems));
    assert_eq!(report.raters[3].deviation, Err(Undefined::NoConsensusItems));
    let variance = ((0.5 - mean).abs() + 2.0 * (1.0 - mean)) / 3.0;
    assert!(close_to(report.alignment_variance, variance));
    let disputed: Vec<(i64, f64)> = report
        .most_disputed
        .iter()
        .map(|d| (d.case_id, d.agreement))
        .collect();
    assert_eq!(disputed, [(3, 0.0), (2, 1.0 / 3.0)]);
    assert_eq!(report.most_disputed[0].labels.len(), 3);
}

#[test]
fn an_empty_session_closes_with_undefined_statistics() {
    let mut session = open_session(&[1], &["ann", "bob"]);
    let report = session.close(QA, at(2)).unwrap();
    assert_eq!(report.percent_agreement, Err(Undefined::TooFewRatings));
    assert_eq!(report.mean_agreement, Err(Undefined::NoConsensusItems));
    assert_eq!(report.alignment_variance, Err(Undefined::NoConsensusItems));
    assert_eq!(report.cases[0].consensus, CaseConsensus::Unrated);
}

// ---------------------------------------------------------------- resolution

#[test]
fn resolution_notes_are_checked_and_linked_to_categories() {
    let taxonomy = Taxonomy::default();
    let mut session = worked_example();
    let error = session
        .resolve(
            QA,
            &ResolutionInput {
                note: " ".into(),
                categories: names(&["spam", "nope", "spam"]),
            },
            &taxonomy,
            at(20),
        )
        .unwrap_err();
    assert_eq!(
        invalid_fields(error),
        ["note", "categories[1]", "categories[2]"]
    );
    let error = session
        .resolve(QA, &ResolutionInput::default(), &taxonomy, at(20))
        .unwrap_err();
    assert_eq!(invalid_fields(error), ["note", "categories"]);
    assert_eq!(
        refusal(
            session
                .resolve(OTHER_QA, &ResolutionInput::default(), &taxonomy, at(20))
                .unwrap_err()
        ),
        CalibrationRefusal::NotOrganizer {
            creator: "quinn".into()
        }
    );
    assert_eq!(session.status(), SessionStatus::Closed);
    let note = ResolutionInput {
        note: "A link to a fake shop is scam, not spam.".into(),
        categories: names(&["scam", "spam"]),
    };
    session.resolve(LEAD, &note, &taxonomy, at(30)).unwrap();
    assert_eq!(session.status(), SessionStatus::Resolved);
    let resolution = session.record().resolution.as_ref().unwrap();
    assert_eq!(resolution.categories, ["scam", "spam"]);
    assert_eq!(
        (resolution.resolved_by.as_str(), resolution.resolved_at),
        ("lee", at(30))
    );
    assert!(session.report().is_some());
}

#[test]
fn resolution_limits_at_max_and_max_plus_one() {
    let mut taxonomy = Taxonomy::default();
    for i in 0..=CALIBRATION_NOTE_CATEGORIES_MAX {
        taxonomy.insert(crate::taxonomy::Category {
            code: format!("c{i}"),
            name: format!("C{i}"),
            severity: crate::case::Severity::Low,
        });
    }
    let codes = |count: usize| (0..count).map(|i| format!("c{i}")).collect::<Vec<_>>();
    let mut session = worked_example();
    let over = ResolutionInput {
        note: "n".repeat(CALIBRATION_NOTE_CHARS_MAX + 1),
        categories: codes(CALIBRATION_NOTE_CATEGORIES_MAX + 1),
    };
    assert_eq!(
        invalid_fields(session.resolve(QA, &over, &taxonomy, at(20)).unwrap_err()),
        ["note", "categories"]
    );
    let at_max = ResolutionInput {
        note: "n".repeat(CALIBRATION_NOTE_CHARS_MAX),
        categories: codes(CALIBRATION_NOTE_CATEGORIES_MAX),
    };
    session.resolve(QA, &at_max, &taxonomy, at(20)).unwrap();
}

#[test]
fn resolving_needs_a_closed_session() {
    let taxonomy = Taxonomy::default();
    let mut session = open_session(&[1], &["ann", "bob"]);
    let note = ResolutionInput {
        note: "n".into(),
        categories: names(&["spam"]),
    };
    assert_eq!(
        refusal(session.resolve(QA, &note, &taxonomy, at(3)).unwrap_err()),
        CalibrationRefusal::Status {
            from: SessionStatus::Open,
            action: "resolve"
        }
    );
}

// ---------------------------------------------------------------- storage

#[test]
fn sessions_restore_with_their_report() {
    let session = worked_example();
    let restored = CalibrationSession::restore(session.record().clone()).unwrap();
    assert_eq!(restored, session);
    let mut record = session.record().clone();
    record.closed_at = None;
    assert!(CalibrationSession::restore(record)
        .unwrap_err()
        .contains("a closed session has the wrong parts"));
    let mut record = session.record().clone();
    record.ratings[0].rater = "zed".into();
    assert!(CalibrationSession::restore(record)
        .unwrap_err()
        .contains("names a case or rater not in the session"));
    let mut record = session.record().clone();
    let repeat = record.ratings[0].clone();
    record.ratings.push(repeat);
    assert!(CalibrationSession::restore(record)
        .unwrap_err()
        .contains("repeats a (case, rater) pair"));
}

// ---------------------------------------------------------------- sampled cases

#[test]
fn sampled_cases_are_reproducible() {
    let candidates: Vec<i64> = (1..=500).collect();
    let first = sample_cases(9, &candidates, 20).unwrap();
    assert_eq!(first.len(), 20);
    assert!(first.windows(2).all(|pair| pair[0] < pair[1]));
    let mut reversed = candidates.clone();
    reversed.reverse();
    assert_eq!(sample_cases(9, &reversed, 20).unwrap(), first);
    assert_ne!(sample_cases(10, &candidates, 20).unwrap(), first);
    // Asking for more than there are gives them all.
    assert_eq!(sample_cases(9, &[5, 3], 10).unwrap(), [3, 5]);
}

#[test]
fn sampled_case_limits() {
    let fields = |result: Result<Vec<i64>, FieldErrors>| -> Vec<String> {
        result.unwrap_err().0.into_iter().map(|e| e.field).collect()
    };
    let many: Vec<i64> = (0..CALIBRATION_CANDIDATES_MAX as i64).collect();
    assert_eq!(
        sample_cases(1, &many, CALIBRATION_CASES_MAX).unwrap().len(),
        CALIBRATION_CASES_MAX
    );
    let mut too_many = many;
    too_many.push(-1);
    assert_eq!(fields(sample_cases(1, &too_many, 1)), ["candidates"]);
    assert_eq!(fields(sample_cases(1, &[1], 0)), ["count"]);
    assert_eq!(
        fields(sample_cases(1, &[1, 1], CALIBRATION_CASES_MAX + 1)),
        ["count", "candidates"]
    );
}

// ---------------------------------------------------------------- properties

const RATERS: [&str; 4] = ["ann", "bob", "cid", "dee"];
const LABELS: [&str; 4] = ["spam", "scam", "hate", "other"];

/// For each (case, rater) of 6 cases × 4 raters: a label or none.
fn rating_grid() -> impl Strategy<Value = Vec<Option<usize>>> {
    prop::collection::vec(prop::option::of(0..LABELS.len()), 24)
}

fn ratings_of(grid: &[Option<usize>]) -> Vec<(i64, &'static str, &'static str)> {
    grid.iter()
        .enumerate()
        .filter_map(|(cell, label)| {
            label.map(|label| ((cell / 4) as i64 + 1, RATERS[cell % 4], LABELS[label]))
        })
        .collect()
}

proptest! {
    #[test]
    fn the_report_does_not_depend_on_the_order_of_ratings(
        (grid, order) in rating_grid().prop_flat_map(|grid| {
            let count = grid.iter().flatten().count();
            (Just(grid), Just((0..count).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let taxonomy = Taxonomy::default();
        let ratings = ratings_of(&grid);
        let mut first = open_session(&[1, 2, 3, 4, 5, 6], &RATERS);
        let mut second = open_session(&[6, 5, 4, 3, 2, 1], &["dee", "cid", "bob", "ann"]);
        for &(case_id, rater, label) in &ratings {
            first.rate(rater, case_id, label, &taxonomy, at(2)).unwrap();
        }
        for &index in &order {
            let (case_id, rater, label) = ratings[index];
            second.rate(rater, case_id, label, &taxonomy, at(2)).unwrap();
        }
        let first = first.close(QA, at(3)).unwrap().clone();
        let second = second.close(QA, at(3)).unwrap().clone();
        prop_assert_eq!(first, second);
    }

    #[test]
    fn nobody_sees_anothers_rating_before_close(grid in rating_grid(), viewer in 0..5usize) {
        let taxonomy = Taxonomy::default();
        let mut session = open_session(&[1, 2, 3, 4, 5, 6], &RATERS);
        for (case_id, rater, label) in ratings_of(&grid) {
            session.rate(rater, case_id, label, &taxonomy, at(2)).unwrap();
        }
        let viewer = RATERS.get(viewer).copied().unwrap_or("quinn");
        let view = session.view_for(viewer);
        prop_assert!(view.report.is_none());
        prop_assert!(view.ratings.iter().all(|rating| rating.rater == viewer));
        let own = ratings_of(&grid).iter().filter(|r| r.1 == viewer).count();
        prop_assert_eq!(view.ratings.len(), own);
        let total: u32 = view.progress.iter().map(|p| p.rated).sum();
        prop_assert_eq!(total as usize, ratings_of(&grid).len());
        // The report's mean deviation is zero: deviations are from the mean.
        session.close(QA, at(3)).unwrap();
        let report = session.report().unwrap();
        let deviations: Vec<f64> = report.raters.iter().filter_map(|r| r.deviation.ok()).collect();
        prop_assert!(deviations.iter().sum::<f64>().abs() < 1e-9);
        prop_assert_eq!(session.view_for(viewer).ratings.len(), ratings_of(&grid).len());
    }
}
