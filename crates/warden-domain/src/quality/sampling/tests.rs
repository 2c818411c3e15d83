//! Tests of sampling plans: parsing with every error, limits at max and
//! max + 1, the decision-time rules, the window pass, several plans, the
//! expected weekly load by hand, and properties (reproducibility, order
//! independence, observed rates over 100,000 decisions, `all` rules, the
//! first-N-days rule, minimums met).

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn at(day: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() + Duration::days(day)
}

fn input(name: &str, rate: f64) -> SamplingPlanInput {
    SamplingPlanInput {
        name: name.into(),
        seed: 7,
        rate,
        ..SamplingPlanInput::default()
    }
}

fn plan(input: SamplingPlanInput) -> SamplingPlan {
    SamplingPlan::parse(&input).unwrap()
}

fn facts(decision_id: i64, category: &str, severity: Severity, decider: &str) -> SamplingFacts {
    SamplingFacts {
        decision_id,
        queue: "general".into(),
        category: category.into(),
        severity,
        decider: decider.into(),
        decider_started_at: at(-400),
        decided_at: at(0) + Duration::minutes(decision_id.rem_euclid(10_000)),
    }
}

fn fields(errors: &FieldErrors) -> Vec<&str> {
    errors.0.iter().map(|e| e.field.as_str()).collect()
}

// ---------------------------------------------------------------- rates and draws

#[test]
fn rates_are_whole_parts_per_million() {
    assert_eq!(
        Rate::from_fraction(0.05).unwrap().parts_per_million(),
        50_000
    );
    assert_eq!(
        Rate::from_fraction(0.07).unwrap().parts_per_million(),
        70_000
    );
    assert_eq!(Rate::from_fraction(1.0).unwrap(), Rate::ALL);
    // The finest rate, and one finer.
    assert_eq!(
        Rate::from_fraction(0.000_001).unwrap().parts_per_million(),
        1
    );
    assert_eq!(
        Rate::from_fraction(0.123_456).unwrap().parts_per_million(),
        123_456
    );
    for refused in [0.000_000_5, 0.000_001_5, 0.123_456_7] {
        assert!(
            Rate::from_fraction(refused)
                .unwrap_err()
                .contains("parts per million"),
            "{refused}"
        );
    }
    for refused in [0.0, -0.05, 1.000_001, f64::NAN, f64::INFINITY] {
        assert!(
            Rate::from_fraction(refused)
                .unwrap_err()
                .contains("above 0"),
            "{refused}"
        );
    }
    assert_eq!(Rate::from_parts_per_million(0), None);
    assert_eq!(Rate::from_parts_per_million(QA_RATE_PARTS + 1), None);
    assert_eq!(Rate::from_parts_per_million(QA_RATE_PARTS), Some(Rate::ALL));
}

#[test]
fn rates_print_as_percentages() {
    let shown = |fraction: f64| Rate::from_fraction(fraction).unwrap().to_string();
    assert_eq!(shown(0.05), "5%");
    assert_eq!(shown(1.0), "100%");
    assert_eq!(shown(0.125), "12.5%");
    assert_eq!(shown(0.000_001), "0.0001%");
    assert_eq!(shown(0.010_01), "1.001%");
}

#[test]
fn draws_are_keyed_by_seed_plan_and_decision() {
    let draw = Draw::of(7, "weekly", 42);
    assert_eq!(draw, Draw::of(7, "weekly", 42));
    assert_ne!(draw, Draw::of(8, "weekly", 42));
    assert_ne!(draw, Draw::of(7, "weekly-2", 42));
    assert_ne!(draw, Draw::of(7, "weekly", 43));
    // The plan name and the id are separated, so they cannot run together.
    assert_ne!(Draw::of(7, "a", 1), Draw::of(7, "a\0", 1));
    let fraction = draw.as_fraction();
    assert!((0.0..1.0).contains(&fraction));
    assert_eq!(Draw(u64::MAX).as_fraction(), 1.0 - 2f64.powi(-53));
    assert_eq!(Draw(0).as_fraction(), 0.0);
}

#[test]
fn draws_compare_with_rates_exactly() {
    let rate = Rate::from_parts_per_million(500_000).unwrap();
    assert!(Draw(0).is_below(rate));
    assert!(Draw((1u64 << 63) - 1).is_below(rate));
    assert!(!Draw(1u64 << 63).is_below(rate));
    assert!(Draw(u64::MAX).is_below(Rate::ALL));
    let finest = Rate::from_parts_per_million(1).unwrap();
    // 2⁶⁴ / 10⁶ = 18,446,744,073,709.55…: draws up to its floor are below.
    assert!(Draw(18_446_744_073_709).is_below(finest));
    assert!(!Draw(18_446_744_073_710).is_below(finest));
}

#[test]
fn the_draw_function_is_fixed() {
    // A changed derivation would silently change every stored sample.
    // HMAC-SHA256(key = 7 as 8 bytes big-endian,
    //   "warden.qa.sample.v1\0" || "weekly" || "\0" || 42 as 8 bytes big-endian),
    // first 8 bytes. Computed independently with Python's hmac module.
    assert_eq!(Draw::of(7, "weekly", 42).bits(), EXPECTED_DRAW_7_WEEKLY_42);
}

/// See [`the_draw_function_is_fixed`].
const EXPECTED_DRAW_7_WEEKLY_42: u64 = 0x4b20_cf3f_cdc6_1f59;

// ---------------------------------------------------------------- parsing

#[test]
fn a_full_plan_parses() {
    let plan = plan(SamplingPlanInput {
        name: "harassment-weekly".into(),
        seed: 20_260_101,
        rate: 0.05,
        queues: vec!["harassment".into()],
        categories: vec!["harassment".into(), "hate".into()],
        severities: vec![],
        reviewers: vec![],
        rates: vec![RateRuleInput {
            severity: Some("high".into()),
            rate: 0.2,
            ..RateRuleInput::default()
        }],
        all_severities: vec!["critical".into()],
        new_reviewer_days: Some(30),
        minimum_per_reviewer: 2,
        minimum_per_category: 3,
        weekly_cap: Some(500),
    });
    assert_eq!(plan.name(), "harassment-weekly");
    assert_eq!(plan.seed(), 20_260_101);
    assert_eq!(plan.rate().to_string(), "5%");
    assert_eq!(plan.rate_rules().len(), 1);
    assert_eq!(plan.rate_rules()[0].describe(), "severity high");
    assert_eq!(plan.all_severities(), &[Severity::Critical]);
    assert_eq!(plan.new_reviewer_days(), Some(30));
    assert_eq!(
        (plan.minimum_per_reviewer(), plan.minimum_per_category()),
        (2, 3)
    );
    assert_eq!(plan.weekly_cap(), Some(500));
    assert_eq!(
        plan.describe_scope(),
        "queue harassment, category harassment or hate"
    );
}

#[test]
fn every_field_error_is_reported_at_once() {
    let errors = SamplingPlan::parse(&SamplingPlanInput {
        name: "Weekly Plan".into(),
        seed: 1,
        rate: 0.0,
        queues: vec!["ok".into(), "ok".into()],
        categories: vec!["Spam".into()],
        severities: vec!["low".into(), "urgent".into()],
        reviewers: vec!["a b".into()],
        rates: vec![
            RateRuleInput {
                rate: 0.5,
                ..RateRuleInput::default()
            },
            RateRuleInput {
                severity: Some("high".into()),
                queue: Some("other".into()),
                rate: 2.0,
                ..RateRuleInput::default()
            },
        ],
        all_severities: vec!["critical".into()],
        new_reviewer_days: Some(0),
        minimum_per_reviewer: QA_STRATUM_MINIMUM_MAX + 1,
        minimum_per_category: QA_STRATUM_MINIMUM_MAX + 1,
        weekly_cap: Some(0),
    })
    .unwrap_err();
    assert_eq!(
        fields(&errors),
        [
            "name",
            "rate",
            "queues[1]",
            "categories[0]",
            "severities[1]",
            "reviewers[0]",
            "rates[0]",
            "rates[1].rate",
            "rates[1].queue",
            "rates[1].severity",
            "all_severities[0]",
            "new_reviewer_days",
            "minimum_per_reviewer",
            "minimum_per_category",
            "weekly_cap",
        ],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(text.contains("queues[1]: \"ok\" is listed twice"), "{text}");
    assert!(text.contains("unknown severity \"urgent\""), "{text}");
    assert!(text.contains("rates[0]: names no queue"), "{text}");
    assert!(
        text.contains("rates[1].queue: is outside the plan's queue list"),
        "{text}"
    );
    assert!(
        text.contains("all_severities[0]: critical is outside"),
        "{text}"
    );
}

#[test]
fn list_limits_at_max_and_max_plus_one() {
    let names = |count: usize| (0..count).map(|i| format!("q{i}")).collect::<Vec<_>>();
    let mut at_max = input("p", 0.1);
    at_max.queues = names(QA_PLAN_LIST_ENTRIES_MAX);
    at_max.reviewers = names(QA_PLAN_LIST_ENTRIES_MAX);
    assert!(SamplingPlan::parse(&at_max).is_ok());
    let mut over = at_max.clone();
    over.queues = names(QA_PLAN_LIST_ENTRIES_MAX + 1);
    over.categories = names(QA_PLAN_LIST_ENTRIES_MAX + 1);
    let errors = SamplingPlan::parse(&over).unwrap_err();
    assert_eq!(fields(&errors), ["queues", "categories"]);
    assert!(errors.0[0].reason.contains("at most 256"));
}

#[test]
fn rate_rule_limits_at_max_and_max_plus_one() {
    let rules = |count: usize| {
        (0..count)
            .map(|i| RateRuleInput {
                reviewer: Some(format!("r{i}")),
                rate: 0.5,
                ..RateRuleInput::default()
            })
            .collect::<Vec<_>>()
    };
    let mut at_max = input("p", 0.1);
    at_max.rates = rules(QA_PLAN_RATE_RULES_MAX);
    assert_eq!(
        SamplingPlan::parse(&at_max).unwrap().rate_rules().len(),
        QA_PLAN_RATE_RULES_MAX
    );
    at_max.rates = rules(QA_PLAN_RATE_RULES_MAX + 1);
    assert_eq!(
        fields(&SamplingPlan::parse(&at_max).unwrap_err()),
        ["rates"]
    );
}

#[test]
fn number_limits_at_max_and_max_plus_one() {
    let mut good = input("p", 0.1);
    good.new_reviewer_days = Some(QA_NEW_REVIEWER_DAYS_MAX);
    good.minimum_per_reviewer = QA_STRATUM_MINIMUM_MAX;
    good.minimum_per_category = QA_STRATUM_MINIMUM_MAX;
    good.weekly_cap = Some(QA_WEEKLY_CAP_MAX);
    assert!(SamplingPlan::parse(&good).is_ok());
    let mut bad = good.clone();
    bad.new_reviewer_days = Some(QA_NEW_REVIEWER_DAYS_MAX + 1);
    bad.minimum_per_reviewer = QA_STRATUM_MINIMUM_MAX + 1;
    bad.weekly_cap = Some(QA_WEEKLY_CAP_MAX + 1);
    assert_eq!(
        fields(&SamplingPlan::parse(&bad).unwrap_err()),
        ["new_reviewer_days", "minimum_per_reviewer", "weekly_cap"]
    );
}

#[test]
fn plan_sets_at_max_and_max_plus_one() {
    let inputs: Vec<SamplingPlanInput> = (0..QA_PLANS_MAX)
        .map(|i| input(&format!("plan-{i}"), 0.01))
        .collect();
    assert_eq!(
        SamplingPlans::parse(&inputs).unwrap().plans().len(),
        QA_PLANS_MAX
    );
    let mut over = inputs;
    over.push(input("one-more", 0.01));
    assert_eq!(fields(&SamplingPlans::parse(&over).unwrap_err()), ["plans"]);
}

#[test]
fn plan_sets_name_the_plan_at_fault_and_refuse_repeated_names() {
    let errors = SamplingPlans::parse(&[
        input("weekly", 0.05),
        input("weekly", 0.1),
        input("bad", 7.0),
    ])
    .unwrap_err();
    assert_eq!(fields(&errors), ["plans[1].name", "plans[2].rate"]);
}

#[test]
fn plan_names_are_checked_against_queues_and_taxonomy() {
    let plans = SamplingPlans::parse(&[
        SamplingPlanInput {
            queues: vec!["general".into(), "harassment".into()],
            categories: vec!["spam".into(), "spamm".into()],
            rates: vec![RateRuleInput {
                queue: Some("general".into()),
                category: Some("spam".into()),
                rate: 0.5,
                ..RateRuleInput::default()
            }],
            ..input("a", 0.1)
        },
        SamplingPlanInput {
            rates: vec![RateRuleInput {
                queue: Some("nowhere".into()),
                category: Some("nope".into()),
                rate: 0.5,
                ..RateRuleInput::default()
            }],
            ..input("b", 0.1)
        },
    ])
    .unwrap();
    let taxonomy = crate::taxonomy::Taxonomy::default();
    let errors = plans
        .check_names(&taxonomy, &["general", "fraud"])
        .unwrap_err();
    assert_eq!(
        fields(&errors),
        [
            "plans[0].queues[1]",
            "plans[0].categories[1]",
            "plans[1].rates[0].queue",
            "plans[1].rates[0].category",
        ]
    );
    assert!(plans
        .check_names(&taxonomy, &["general", "harassment", "nowhere"])
        .is_err());
    let good = SamplingPlans::parse(&[input("c", 0.1)]).unwrap();
    assert!(good.check_names(&taxonomy, &[]).is_ok());
}

// ---------------------------------------------------------------- decision time

#[test]
fn out_of_scope_names_the_list() {
    let plan = plan(SamplingPlanInput {
        queues: vec!["general".into()],
        categories: vec!["spam".into()],
        severities: vec!["low".into()],
        reviewers: vec!["ann".into()],
        ..input("p", 1.0)
    });
    let base = facts(1, "spam", Severity::Low, "ann");
    assert!(plan.samples(&base, 0).sampled);
    let cases = [
        (
            SamplingFacts {
                queue: "fraud".into(),
                ..base.clone()
            },
            ScopeFilter::Queue,
        ),
        (
            facts(1, "hate", Severity::Low, "ann"),
            ScopeFilter::Category,
        ),
        (
            facts(1, "spam", Severity::High, "ann"),
            ScopeFilter::Severity,
        ),
        (
            facts(1, "spam", Severity::Low, "bob"),
            ScopeFilter::Reviewer,
        ),
    ];
    for (decision, filter) in cases {
        let verdict = plan.samples(&decision, 0);
        assert_eq!(verdict, not_sampled(SampleReason::OutOfScope { filter }));
        assert!(verdict.reason.describe().starts_with("outside the plan's"));
    }
}

#[test]
fn all_rules_come_before_the_rate() {
    let plan = plan(SamplingPlanInput {
        all_severities: vec!["critical".into()],
        new_reviewer_days: Some(30),
        ..input("p", 0.000_001)
    });
    let critical = facts(5, "child_safety", Severity::Critical, "ann");
    assert_eq!(
        plan.samples(&critical, 0),
        sampled(SampleReason::AllForSeverity {
            severity: Severity::Critical
        })
    );
    let mut new = facts(6, "spam", Severity::Low, "new");
    new.decider_started_at = new.decided_at - Duration::days(29);
    assert_eq!(
        plan.samples(&new, 0),
        sampled(SampleReason::AllForNewReviewer { days: 30 })
    );
    assert_eq!(
        plan.samples(&new, 0).reason.describe(),
        "every decision of a reviewer in their first 30 days is sampled"
    );
}

#[test]
fn the_first_days_end_exactly_after_n_days() {
    let plan = plan(SamplingPlanInput {
        new_reviewer_days: Some(30),
        ..input("p", 0.000_001)
    });
    let mut decision = facts(6, "spam", Severity::Low, "new");
    decision.decider_started_at =
        decision.decided_at - Duration::days(30) + Duration::milliseconds(1);
    assert!(matches!(
        plan.samples(&decision, 0).reason,
        SampleReason::AllForNewReviewer { .. }
    ));
    decision.decider_started_at = decision.decided_at - Duration::days(30);
    assert!(matches!(
        plan.samples(&decision, 0).reason,
        SampleReason::Rate { .. }
    ));
    // A decision dated before the reviewer's start counts as new.
    decision.decider_started_at = decision.decided_at + Duration::days(1);
    assert!(plan.samples(&decision, 0).sampled);
}

#[test]
fn the_first_matching_rate_rule_wins() {
    let plan = plan(SamplingPlanInput {
        rates: vec![
            RateRuleInput {
                category: Some("spam".into()),
                severity: Some("high".into()),
                rate: 1.0,
                ..RateRuleInput::default()
            },
            RateRuleInput {
                category: Some("spam".into()),
                rate: 0.000_001,
                ..RateRuleInput::default()
            },
        ],
        ..input("p", 0.5)
    });
    let rate_of = |decision: &SamplingFacts| match plan.samples(decision, 0).reason {
        SampleReason::Rate { rate, source, .. } => (rate.parts_per_million(), source),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        rate_of(&facts(1, "spam", Severity::High, "ann")),
        (1_000_000, RateSource::Rule(0))
    );
    assert_eq!(
        rate_of(&facts(1, "spam", Severity::Low, "ann")),
        (1, RateSource::Rule(1))
    );
    assert_eq!(
        rate_of(&facts(1, "hate", Severity::High, "ann")),
        (500_000, RateSource::Plan)
    );
}

#[test]
fn the_weekly_cap_stops_rate_sampling_only() {
    let plan = plan(SamplingPlanInput {
        weekly_cap: Some(3),
        all_severities: vec!["critical".into()],
        ..input("p", 1.0)
    });
    let low = facts(1, "spam", Severity::Low, "ann");
    assert!(plan.samples(&low, 2).sampled);
    let capped = plan.samples(&low, 3);
    assert_eq!(
        capped,
        not_sampled(SampleReason::WeeklyCapReached { cap: 3 })
    );
    assert!(capped.reason.describe().contains("weekly cap of 3"));
    assert!(
        plan.samples(&facts(2, "hate", Severity::Critical, "ann"), 3)
            .sampled
    );
    // Without a cap the count is ignored.
    let uncapped = super::SamplingPlan::parse(&input("q", 1.0)).unwrap();
    assert!(uncapped.samples(&low, u32::MAX).sampled);
}

#[test]
fn rate_reasons_say_where_the_draw_fell() {
    let plan = plan(input("p", 0.5));
    let verdicts: Vec<SampleVerdict> = (0..40)
        .map(|id| plan.samples(&facts(id, "spam", Severity::Low, "ann"), 0))
        .collect();
    let yes = verdicts.iter().find(|v| v.sampled).unwrap();
    let no = verdicts.iter().find(|v| !v.sampled).unwrap();
    assert!(yes
        .reason
        .describe()
        .contains(" is below 50% (the plan's rate)"));
    assert!(no
        .reason
        .describe()
        .contains(" is not below 50% (the plan's rate)"));
}

// ---------------------------------------------------------------- window pass

#[test]
fn window_top_ups_take_the_lowest_draws() {
    // A rate no decision here reaches, so the minimums do all the work.
    let plan = plan(SamplingPlanInput {
        minimum_per_reviewer: 2,
        minimum_per_category: 1,
        ..input("p", 0.000_001)
    });
    let mut decisions = Vec::new();
    for id in 0..10 {
        decisions.push(facts(id, "spam", Severity::Low, "ann"));
    }
    decisions.push(facts(10, "hate", Severity::Low, "bob"));
    decisions.push(facts(11, "scam", Severity::Low, "ann"));
    let window = plan.sample_window(&decisions).unwrap();
    // ann: the two lowest draws among her eleven decisions.
    let mut ann: Vec<(Draw, i64)> = decisions
        .iter()
        .filter(|d| d.decider == "ann")
        .map(|d| (plan.draw(d.decision_id), d.decision_id))
        .collect();
    ann.sort();
    let mut expected: Vec<i64> = ann[..2].iter().map(|(_, id)| *id).collect();
    // bob has one decision: sampled whole.
    expected.push(10);
    // Then each category without a sampled decision gets its lowest draw.
    for category in ["hate", "scam", "spam"] {
        let members = || decisions.iter().filter(|d| d.category == category);
        if !members().any(|d| expected.contains(&d.decision_id)) {
            let lowest = members()
                .map(|d| (plan.draw(d.decision_id), d.decision_id))
                .min()
                .unwrap();
            expected.push(lowest.1);
        }
    }
    expected.sort();
    let picked: Vec<i64> = window.picks.iter().map(|p| p.decision_id).collect();
    assert_eq!(picked, expected);
    assert!(window
        .picks
        .iter()
        .all(|p| matches!(p.reason, SampleReason::StratumMinimum { .. })));
    let strata: Vec<(String, u32, u32, u32)> = window
        .strata
        .iter()
        .map(|t| (t.stratum.to_string(), t.decisions, t.sampled, t.minimum))
        .collect();
    // ann's count includes a category's top-up when it fell to her.
    let ann_sampled = expected.iter().filter(|&&id| id != 10).count() as u32;
    assert!(ann_sampled >= 2);
    assert_eq!(strata[0], ("reviewer ann".into(), 11, ann_sampled, 2));
    assert_eq!(strata[1], ("reviewer bob".into(), 1, 1, 2));
    assert_eq!(strata[2].0, "category hate");
    assert_eq!(strata[3].0, "category scam");
    assert_eq!(strata[4].0, "category spam");
    assert!(window.strata.iter().all(StratumTally::is_met));
}

#[test]
fn the_window_replays_the_cap_in_decision_order() {
    let plan = plan(SamplingPlanInput {
        weekly_cap: Some(5),
        ..input("p", 1.0)
    });
    // Ids against time: the cap keeps the five earliest, not the lowest ids.
    let decisions: Vec<SamplingFacts> = (0..20)
        .map(|id| SamplingFacts {
            decided_at: at(0) + Duration::minutes(100 - id),
            ..facts(id, "spam", Severity::Low, "ann")
        })
        .collect();
    let window = plan.sample_window(&decisions).unwrap();
    let picked: Vec<i64> = window.picks.iter().map(|p| p.decision_id).collect();
    assert_eq!(picked, [15, 16, 17, 18, 19]);
}

#[test]
fn minimums_win_over_the_cap() {
    let plan = plan(SamplingPlanInput {
        weekly_cap: Some(1),
        minimum_per_reviewer: 3,
        ..input("p", 1.0)
    });
    let decisions: Vec<SamplingFacts> = (0..6)
        .map(|id| facts(id, "spam", Severity::Low, "ann"))
        .collect();
    let window = plan.sample_window(&decisions).unwrap();
    assert_eq!(window.picks.len(), 3);
    assert_eq!(
        window
            .picks
            .iter()
            .filter(|p| matches!(p.reason, SampleReason::Rate { .. }))
            .count(),
        1
    );
}

#[test]
fn windows_refuse_repeated_decisions() {
    let plan = plan(input("p", 0.5));
    let errors = plan
        .sample_window(&[
            facts(1, "spam", Severity::Low, "ann"),
            facts(2, "spam", Severity::Low, "ann"),
            facts(1, "hate", Severity::Low, "ann"),
            facts(1, "hate", Severity::Low, "ann"),
        ])
        .unwrap_err();
    assert_eq!(
        fields(&errors),
        ["decisions[2].decision_id", "decisions[3].decision_id"]
    );
    assert!(errors.0[1].reason.contains("first at decisions[0]"));
}

#[test]
fn window_limit_at_max_and_max_plus_one() {
    // Out of every decision's scope, so the pass does no drawing.
    let plan = plan(SamplingPlanInput {
        queues: vec!["elsewhere".into()],
        ..input("p", 0.5)
    });
    let one = facts(0, "spam", Severity::Low, "ann");
    let mut decisions: Vec<SamplingFacts> = (0..QA_WINDOW_DECISIONS_MAX as i64)
        .map(|decision_id| SamplingFacts {
            decision_id,
            ..one.clone()
        })
        .collect();
    let window = plan.sample_window(&decisions).unwrap();
    assert!(window.picks.is_empty() && window.strata.is_empty());
    decisions.push(SamplingFacts {
        decision_id: -1,
        ..one
    });
    assert_eq!(
        fields(&plan.sample_window(&decisions).unwrap_err()),
        ["decisions"]
    );
}

// ---------------------------------------------------------------- several plans

#[test]
fn a_decision_is_sampled_once_and_tagged_with_every_plan() {
    let plans = SamplingPlans::parse(&[
        SamplingPlanInput {
            all_severities: vec!["critical".into()],
            ..input("critical-all", 0.000_001)
        },
        input("everything", 1.0),
        SamplingPlanInput {
            queues: vec!["fraud".into()],
            ..input("fraud-only", 1.0)
        },
    ])
    .unwrap();
    let decision = facts(3, "child_safety", Severity::Critical, "ann");
    let verdict = plans.samples(&decision, |_| 0);
    assert!(verdict.sampled());
    let names: Vec<&str> = verdict.chosen_by.iter().map(|c| c.plan.as_str()).collect();
    assert_eq!(names, ["critical-all", "everything"]);
    // The cap count is asked per plan.
    let capped = SamplingPlans::parse(&[SamplingPlanInput {
        weekly_cap: Some(1),
        ..input("capped", 1.0)
    }])
    .unwrap();
    assert!(!capped
        .samples(&decision, |name| u32::from(name == "capped"))
        .sampled());
    assert!(plans.plan("everything").is_some() && plans.plan("nope").is_none());
}

#[test]
fn window_picks_of_several_plans_are_merged() {
    let plans = SamplingPlans::parse(&[
        input("all", 1.0),
        SamplingPlanInput {
            categories: vec!["hate".into()],
            ..input("hate", 1.0)
        },
    ])
    .unwrap();
    let decisions = [
        facts(2, "hate", Severity::Low, "ann"),
        facts(1, "spam", Severity::Low, "ann"),
    ];
    let (picks, samples) = plans.sample_window(&decisions).unwrap();
    assert_eq!(samples.len(), 2);
    let tags: Vec<(i64, Vec<&str>)> = picks
        .iter()
        .map(|p| {
            (
                p.decision_id,
                p.chosen_by.iter().map(|c| c.plan.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(tags, [(1, vec!["all"]), (2, vec!["all", "hate"])]);
}

// ---------------------------------------------------------------- expected load

fn volume(strata: Vec<StratumVolume>) -> VolumeByStratum {
    VolumeByStratum::new(at(0), strata).unwrap()
}

fn stratum(category: &str, severity: Severity, reviewer: &str, decisions: f64) -> StratumVolume {
    StratumVolume {
        queue: "general".into(),
        category: category.into(),
        severity,
        reviewer: reviewer.into(),
        reviewer_started_at: at(-400),
        decisions,
    }
}

#[test]
fn expected_load_by_hand() {
    let plan = plan(SamplingPlanInput {
        all_severities: vec!["critical".into()],
        new_reviewer_days: Some(7),
        rates: vec![RateRuleInput {
            category: Some("hate".into()),
            rate: 0.2,
            ..RateRuleInput::default()
        }],
        minimum_per_reviewer: 4,
        ..input("p", 0.05)
    });
    let mut new = stratum("spam", Severity::Low, "bob", 40.0);
    // Bob's first seven days end half-way through the week.
    new.reviewer_started_at = at(0) - Duration::hours(84);
    let load = plan.expected_weekly_load(&volume(vec![
        stratum("spam", Severity::Low, "ann", 1000.0),
        stratum("hate", Severity::Medium, "ann", 100.0),
        stratum("child_safety", Severity::Critical, "ann", 10.0),
        new,
        stratum("spam", Severity::Low, "cid", 20.0),
    ]));
    // all: 10 critical + half of bob's 40 = 30.
    assert!((load.by_all_rules - 30.0).abs() < 1e-9, "{load:?}");
    // rate: 5 % of (1000 + 20 + 20) = 52, 20 % of 100 = 20.
    assert!((load.by_rate - 72.0).abs() < 1e-9, "{load:?}");
    assert_eq!(load.by_rate_capped, load.by_rate);
    // cid expects 1 of 20 → +3; bob expects 20 + 1 = 21, ann plenty.
    assert!((load.by_minimums - 3.0).abs() < 1e-9, "{load:?}");
    assert!((load.total - 105.0).abs() < 1e-9);
    assert!((load.in_scope - 1170.0).abs() < 1e-9);
    assert_eq!(
        load.arithmetic,
        [
            "in scope (every decision): 1170.0 of 1170.0 decisions a week",
            "every decision by `all` rules: 30.0",
            "5% (the plan's rate) × 1040.0 decisions = 52.0",
            "20% (rates[0]: category hate) × 100.0 decisions = 20.0",
            "minimum 4 for reviewer cid: 1.0 expected of 20.0 decisions → +3.0",
            "top-ups to the minimums: 3.0",
            "expected weekly load: 30.0 + 72.0 + 3.0 = 105.0 decisions",
        ]
    );
}

#[test]
fn expected_load_with_a_cap_and_category_minimums() {
    let plan = plan(SamplingPlanInput {
        weekly_cap: Some(10),
        minimum_per_reviewer: 2,
        minimum_per_category: 5,
        ..input("p", 0.1)
    });
    let load = plan.expected_weekly_load(&volume(vec![
        stratum("spam", Severity::Low, "ann", 180.0),
        stratum("hate", Severity::Low, "ann", 20.0),
        stratum("hate", Severity::Low, "bob", 4.0),
    ]));
    // Drawn: 20.4; capped at 10, a scale of 10 / 20.4.
    assert!((load.by_rate - 20.4).abs() < 1e-9);
    assert_eq!(load.by_rate_capped, 10.0);
    let scale = 10.0 / 20.4;
    // bob: expects 0.4·scale of 4 → top-up 2 − 0.4·scale, all in hate.
    let bob = 2.0 - 0.4 * scale;
    // hate: expects 2.4·scale plus bob's top-up; minimum 5.
    let hate = 5.0 - 2.4 * scale - bob;
    assert!((load.by_minimums - (bob + hate)).abs() < 1e-9, "{load:?}");
    assert!(load.arithmetic[2].starts_with("weekly cap 10 on rate-sampled decisions: 20.4 → 10"));
    assert!(load
        .arithmetic
        .iter()
        .any(|line| line.starts_with("minimum 5 for category hate")));
}

#[test]
fn combined_load_counts_a_decision_once() {
    let plans = SamplingPlans::parse(&[input("a", 0.5), input("b", 0.5)]).unwrap();
    let load =
        plans.expected_weekly_load(&volume(vec![stratum("spam", Severity::Low, "ann", 100.0)]));
    // 1 − (1 − 0.5)(1 − 0.5) = 0.75.
    assert!((load.by_any_plan - 75.0).abs() < 1e-9);
    assert!((load.plans[0].1.total - 50.0).abs() < 1e-9);
    assert_eq!(load.total, load.by_any_plan);
    assert_eq!(
        load.arithmetic.last().unwrap(),
        "expected weekly load: 75.0 + 0.0 = 75.0 decisions"
    );
}

#[test]
fn volume_limits_at_max_and_max_plus_one() {
    let many = |count: usize| {
        (0..count)
            .map(|i| stratum("spam", Severity::Low, &format!("r{i}"), 1.0))
            .collect::<Vec<_>>()
    };
    assert!(VolumeByStratum::new(at(0), many(QA_VOLUME_STRATA_MAX)).is_ok());
    assert_eq!(
        fields(&VolumeByStratum::new(at(0), many(QA_VOLUME_STRATA_MAX + 1)).unwrap_err()),
        ["strata"]
    );
    let errors = VolumeByStratum::new(
        at(0),
        vec![
            stratum("spam", Severity::Low, "a", QA_VOLUME_DECISIONS_MAX),
            stratum("spam", Severity::Low, "b", QA_VOLUME_DECISIONS_MAX * 1.01),
            stratum("spam", Severity::Low, "c", -1.0),
            stratum("spam", Severity::Low, "d", f64::NAN),
            stratum("spam", Severity::Low, "a", 1.0),
        ],
    )
    .unwrap_err();
    assert_eq!(
        fields(&errors),
        [
            "strata[1].decisions",
            "strata[2].decisions",
            "strata[3].decisions",
            "strata[4]"
        ]
    );
}

#[test]
fn load_lines_are_bounded() {
    let plan = plan(SamplingPlanInput {
        minimum_per_reviewer: 1,
        ..input("p", 0.000_001)
    });
    let strata: Vec<StratumVolume> = (0..QA_LOAD_LINES_MAX + 10)
        .map(|i| stratum("spam", Severity::Low, &format!("r{i:03}"), 1.0))
        .collect();
    let load = plan.expected_weekly_load(&volume(strata));
    let reviewer_lines = load
        .arithmetic
        .iter()
        .filter(|line| line.starts_with("minimum 1 for reviewer"))
        .count();
    assert_eq!(reviewer_lines, QA_LOAD_LINES_MAX);
    assert!(load
        .arithmetic
        .iter()
        .any(|line| line.starts_with("other strata's minimums → +10.0")));
}

// ---------------------------------------------------------------- properties

const CATEGORIES: [&str; 4] = ["spam", "hate", "scam", "harassment"];
const REVIEWERS: [&str; 5] = ["ann", "bob", "cid", "dee", "eve"];

/// Decisions with unique ids drawn from a wide range, spread over a week.
fn decisions(count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<SamplingFacts>> {
    prop::collection::btree_set(any::<i64>(), count).prop_flat_map(|ids| {
        let ids: Vec<i64> = ids.into_iter().collect();
        let len = ids.len();
        (
            Just(ids),
            prop::collection::vec(
                (
                    0..CATEGORIES.len(),
                    0..4usize,
                    0..REVIEWERS.len(),
                    0..7 * 24 * 60i64,
                ),
                len,
            ),
        )
            .prop_map(|(ids, traits)| {
                ids.into_iter()
                    .zip(traits)
                    .map(
                        |(id, (category, severity, reviewer, minute))| SamplingFacts {
                            decision_id: id,
                            queue: "general".into(),
                            category: CATEGORIES[category].into(),
                            severity: Severity::ALL[severity],
                            decider: REVIEWERS[reviewer].into(),
                            decider_started_at: at(-400),
                            decided_at: at(0) + Duration::minutes(minute),
                        },
                    )
                    .collect()
            })
    })
}

fn plan_input() -> impl Strategy<Value = SamplingPlanInput> {
    (
        any::<u64>(),
        1..=QA_RATE_PARTS,
        0..4u32,
        0..4u32,
        prop::option::of(1..20u32),
        prop::option::of(0..4usize),
    )
        .prop_map(
            |(seed, parts, per_reviewer, per_category, cap, all)| SamplingPlanInput {
                name: "weekly".into(),
                seed,
                rate: f64::from(parts) / f64::from(QA_RATE_PARTS),
                all_severities: all
                    .map(|s| Severity::ALL[s].as_str().to_string())
                    .into_iter()
                    .collect(),
                minimum_per_reviewer: per_reviewer,
                minimum_per_category: per_category,
                weekly_cap: cap,
                ..SamplingPlanInput::default()
            },
        )
}

proptest! {
    #[test]
    fn same_seed_and_decisions_give_the_same_sample_in_any_order(
        (input, decisions, order) in (plan_input(), decisions(0..120)).prop_flat_map(|(input, decisions)| {
            let len = decisions.len();
            (Just(input), Just(decisions), Just((0..len).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let plan = SamplingPlan::parse(&input).unwrap();
        let shuffled: Vec<SamplingFacts> = order.iter().map(|&i| decisions[i].clone()).collect();
        let first = plan.sample_window(&decisions).unwrap();
        prop_assert_eq!(&first, &plan.sample_window(&shuffled).unwrap());
        // A plan parsed again from the same input samples the same.
        let again = SamplingPlan::parse(&input).unwrap();
        prop_assert_eq!(&first, &again.sample_window(&decisions).unwrap());
        for decision in &decisions {
            prop_assert_eq!(plan.samples(decision, 0), again.samples(decision, 0));
        }
    }

    #[test]
    fn every_minimum_is_met_and_the_live_sample_is_kept(
        input in plan_input(),
        decisions in decisions(0..150),
    ) {
        let plan = SamplingPlan::parse(&input).unwrap();
        let window = plan.sample_window(&decisions).unwrap();
        let picked: BTreeSet<i64> = window.picks.iter().map(|p| p.decision_id).collect();
        for tally in &window.strata {
            prop_assert!(tally.is_met(), "{:?}", tally);
            let (members, sampled) = decisions.iter().fold((0u32, 0u32), |(m, s), d| {
                let inside = match &tally.stratum {
                    Stratum::Reviewer(name) => &d.decider == name,
                    Stratum::Category(code) => &d.category == code,
                };
                (m + u32::from(inside), s + u32::from(inside && picked.contains(&d.decision_id)))
            });
            prop_assert_eq!((tally.decisions, tally.sampled), (members, sampled));
        }
        let reviewers: BTreeSet<&str> = decisions.iter().map(|d| d.decider.as_str()).collect();
        let categories: BTreeSet<&str> = decisions.iter().map(|d| d.category.as_str()).collect();
        prop_assert_eq!(window.strata.len(), reviewers.len() + categories.len());
        // Without a cap, everything the live sampler takes is in the window.
        if plan.weekly_cap().is_none() {
            for decision in &decisions {
                if plan.samples(decision, 0).sampled {
                    prop_assert!(picked.contains(&decision.decision_id));
                }
            }
        }
    }

    #[test]
    fn all_rules_always_sample(
        seed in any::<u64>(),
        parts in 1..=QA_RATE_PARTS,
        decisions in decisions(1..60),
        days in 1..=QA_NEW_REVIEWER_DAYS_MAX,
    ) {
        let plan = SamplingPlan::parse(&SamplingPlanInput {
            seed,
            rate: f64::from(parts) / f64::from(QA_RATE_PARTS),
            all_severities: vec!["high".into(), "critical".into()],
            new_reviewer_days: Some(days),
            weekly_cap: Some(1),
            ..input("p", 0.5)
        })
        .unwrap();
        for decision in &decisions {
            let severe = decision.severity >= Severity::High;
            let verdict = plan.samples(decision, u32::MAX);
            if severe {
                prop_assert_eq!(
                    verdict,
                    sampled(SampleReason::AllForSeverity { severity: decision.severity })
                );
            }
            let mut new = decision.clone();
            new.decider_started_at = new.decided_at - Duration::days(i64::from(days)) + Duration::seconds(1);
            prop_assert!(plan.samples(&new, u32::MAX).sampled);
            let mut old = decision.clone();
            old.decider_started_at = old.decided_at - Duration::days(i64::from(days));
            let verdict = plan.samples(&old, u32::MAX);
            prop_assert_eq!(verdict.sampled, severe);
        }
    }
}

proptest! {
    // Each case draws 300,000 times; a few cases cover seeds and rates.
    #![proptest_config(ProptestConfig::with_cases(4))]

    #[test]
    fn observed_rates_are_within_one_point_over_100000_decisions(
        seed in any::<u64>(),
        first_id in -1_000_000_000i64..1_000_000_000,
        rates in prop::array::uniform3(1..=QA_RATE_PARTS),
    ) {
        let fraction = |parts: u32| f64::from(parts) / f64::from(QA_RATE_PARTS);
        // Three strata, each with its own rate.
        let plan = SamplingPlan::parse(&SamplingPlanInput {
            seed,
            rate: fraction(rates[0]),
            rates: vec![
                RateRuleInput { severity: Some("medium".into()), rate: fraction(rates[1]), ..RateRuleInput::default() },
                RateRuleInput { reviewer: Some("bob".into()), rate: fraction(rates[2]), ..RateRuleInput::default() },
            ],
            ..input("rates", 0.5)
        })
        .unwrap();
        let strata = [
            (Severity::Low, "ann", rates[0]),
            (Severity::Medium, "ann", rates[1]),
            (Severity::Low, "bob", rates[2]),
        ];
        for (position, (severity, reviewer, parts)) in strata.into_iter().enumerate() {
            let offset = first_id + position as i64 * 100_000;
            let sampled = (offset..offset + 100_000)
                .filter(|&id| plan.samples(&facts(id, "spam", severity, reviewer), 0).sampled)
                .count();
            let observed = sampled as f64 / 100_000.0;
            prop_assert!(
                (observed - fraction(parts)).abs() <= 0.01,
                "stratum {position}: observed {observed}, configured {}", fraction(parts)
            );
        }
    }
}
