//! A seeded synthetic fact set, for `warden bench kpis` and for tests.
//!
//! [`facts`] makes N decisions spread over a window with the shapes of a
//! real team's month: a few queues and categories, a couple of hundred
//! reviewers in teams, most decisions first ones on their case, a few
//! corrections, appeals, QA reviews, escalations, rule hits, exposure and
//! breaks. The same seed gives the same facts on every machine and every
//! version: the generator is SplitMix64 (Steele, Lea and Flood, 2014),
//! written out here because a library's seeded generator may change its
//! stream between versions and the numbers would move with it.

use chrono::Duration;

use super::facts::{
    AppealFact, AppealOutcome, AppliedActionFact, Attribution, BreakFact, CalibrationFact,
    CategoryIx, DecisionFact, EscalationFact, ExposureFact, FirstTouchFact, KpiFacts, OpenCaseFact,
    QaReviewFact, QaRubric, QueueIx, ResolutionFact, ReviewerIx, RuleHitFact, RuleIx,
    TrendNoteFact,
};
use crate::case::Severity;
use crate::limits::KPI_FACTS_PER_KIND_MAX;
use crate::{FieldErrors, Timestamp};

/// SplitMix64: a small, fast generator with a fixed output stream.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, bound)` (`bound` ≥ 1), by multiply-shift.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A number in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A Poisson-distributed count with mean `mean` (≥ 0), by inversion in
    /// chunks of at most 500 so that `exp(-mean)` never underflows.
    pub fn poisson(&mut self, mean: f64) -> u64 {
        let mut remaining = mean.max(0.0);
        let mut total = 0;
        while remaining > 0.0 {
            let chunk = remaining.min(500.0);
            remaining -= chunk;
            let u = self.unit();
            let mut k = 0u64;
            let mut probability = (-chunk).exp();
            let mut cumulative = probability;
            // The tail beyond mean + 40 standard deviations is below 1e-300.
            let ceiling = (chunk + 40.0 * chunk.sqrt() + 40.0) as u64;
            while u >= cumulative && k < ceiling {
                k += 1;
                probability *= chunk / k as f64;
                cumulative += probability;
            }
            total += k;
        }
        total
    }
}

/// Shape of the synthetic team.
const QUEUES: usize = 12;
const CATEGORIES: usize = 20;
const REVIEWERS: usize = 200;
const TEAMS: usize = 8;
const RULES: usize = 150;
const RATERS_PER_SESSION: usize = 20;

/// `decisions` synthetic decisions over `days` days from `from`, with
/// every other kind of fact in proportion; refused past
/// [`KPI_FACTS_PER_KIND_MAX`] decisions or for zero days.
pub fn facts(
    decisions: usize,
    seed: u64,
    from: Timestamp,
    days: u32,
) -> Result<KpiFacts, FieldErrors> {
    check_size(decisions, days)?;
    let mut facts = KpiFacts::default();
    let names = Names::add(&mut facts)?;
    let mut random = SplitMix64::new(seed);
    let span_millis = i64::from(days) * 86_400_000;
    for index in 0..decisions {
        let decided_at = from + Duration::milliseconds(random.below(span_millis as u64) as i64);
        let attribution = Attribution {
            queue: Some(names.queues[random.below(QUEUES as u64) as usize]),
            category: Some(names.categories[random.below(CATEGORIES as u64) as usize]),
            reviewer: Some(names.reviewers[random.below(REVIEWERS as u64) as usize]),
        };
        let decision = decision_fact(&mut random, index as i64, attribution, decided_at);
        facts.decisions.push(decision);
        let severity = severity(&mut random);
        if random.chance(0.9) {
            resolution(&mut facts, &mut random, index as i64, severity, &decision);
        }
        if decision.violation {
            facts.applied_actions.push(AppliedActionFact {
                attribution,
                applied_at: decided_at,
            });
            if random.chance(0.03) {
                facts
                    .appeals
                    .push(appeal(&mut random, attribution, decided_at));
            }
        }
        sometimes_reviewed_or_escalated(&mut facts, &mut random, &decision);
        if random.chance(0.5) {
            let rule = names.rules[random.below(RULES as u64) as usize];
            facts.rule_hits.push(RuleHitFact {
                rule,
                attribution: Attribution {
                    reviewer: None,
                    ..attribution
                },
                event_at: decided_at - Duration::hours(random.below(48) as i64),
                case_violation: random.chance(0.9).then_some(decision.violation),
            });
        }
        if index % 2_000 == 0 {
            facts.trend_notes.push(TrendNoteFact {
                attribution: Attribution {
                    queue: None,
                    ..attribution
                },
                filed_at: decided_at,
            });
        }
        if index % 300 == 0 {
            facts.breaks.push(BreakFact {
                reviewer: attribution.reviewer.unwrap_or(names.reviewers[0]),
                suggested_at: decided_at,
                taken: random.chance(0.8),
            });
        }
        if index % 50 == 0 {
            open_case(&mut facts, &mut random, attribution, from);
        }
    }
    calibrations(&mut facts, &mut random, &names, from, days)?;
    Ok(facts)
}

/// Refuses more than [`KPI_FACTS_PER_KIND_MAX`] decisions or zero days.
fn check_size(decisions: usize, days: u32) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    if decisions > KPI_FACTS_PER_KIND_MAX {
        errors.push(
            "decisions",
            format!("must be at most {KPI_FACTS_PER_KIND_MAX}"),
        );
    }
    if days == 0 {
        errors.push("days", "must be at least 1");
    }
    errors.finish(|| ())
}

/// A case open at the start or at the end of the period.
fn open_case(
    facts: &mut KpiFacts,
    random: &mut SplitMix64,
    attribution: Attribution,
    from: Timestamp,
) {
    let open = OpenCaseFact {
        attribution: Attribution {
            reviewer: None,
            ..attribution
        },
        resolution_due: Some(from + Duration::hours(random.below(24 * 40) as i64)),
    };
    if random.chance(0.5) {
        facts.open_at_from.push(open);
    } else {
        facts.open_at_to.push(open);
    }
}

/// The interned names of the synthetic team.
struct Names {
    queues: Vec<QueueIx>,
    categories: Vec<CategoryIx>,
    reviewers: Vec<ReviewerIx>,
    rules: Vec<RuleIx>,
}

impl Names {
    fn add(facts: &mut KpiFacts) -> Result<Names, FieldErrors> {
        let mut errors = FieldErrors::default();
        let dimensions = &mut facts.dimensions;
        let mut names = Names {
            queues: Vec::new(),
            categories: Vec::new(),
            reviewers: Vec::new(),
            rules: Vec::new(),
        };
        for n in 0..QUEUES {
            if let Some(ix) = errors.take("queues", dimensions.queue(&format!("queue_{n}"))) {
                names.queues.push(ix);
            }
        }
        for n in 0..CATEGORIES {
            if let Some(ix) = errors.take("categories", dimensions.category(&format!("cat_{n}"))) {
                names.categories.push(ix);
            }
        }
        for n in 0..REVIEWERS {
            if let Some(ix) = errors.take("reviewers", dimensions.reviewer(&format!("analyst{n}")))
            {
                names.reviewers.push(ix);
                let team = format!("team_{}", n % TEAMS);
                errors.take("teams", dimensions.join_team(ix, &team));
            }
        }
        for n in 0..RULES {
            if let Some(ix) = errors.take("rules", dimensions.rule(&format!("rule_{n}"))) {
                names.rules.push(ix);
            }
        }
        errors.finish(|| names)
    }
}

fn severity(random: &mut SplitMix64) -> Severity {
    match random.below(100) {
        0..=49 => Severity::Low,
        50..=79 => Severity::Medium,
        80..=94 => Severity::High,
        _ => Severity::Critical,
    }
}

fn later(random: &mut SplitMix64, at: Timestamp, p: f64, days: u64) -> Option<Timestamp> {
    random
        .chance(p)
        .then(|| at + Duration::minutes(1 + random.below(days * 24 * 60) as i64))
}

fn decision_fact(
    random: &mut SplitMix64,
    decision_id: i64,
    attribution: Attribution,
    decided_at: Timestamp,
) -> DecisionFact {
    let violation = random.chance(0.6);
    DecisionFact {
        decision_id,
        attribution,
        decided_at,
        violation,
        superseded_at: later(random, decided_at, 0.01, 10),
        qa_rework_at: later(random, decided_at, 0.01, 10),
        reopened_at: later(random, decided_at, 0.01, 20),
        reversed_at: if violation {
            later(random, decided_at, 0.03, 30)
        } else {
            None
        },
        violation_found_at: if violation {
            None
        } else {
            later(random, decided_at, 0.02, 40)
        },
        prior_active_strikes: random.below(4) as u32,
        meets_recommendation: match random.below(20) {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        },
    }
}

fn resolution(
    facts: &mut KpiFacts,
    random: &mut SplitMix64,
    case_id: i64,
    severity: Severity,
    decision: &DecisionFact,
) {
    let claimed_at = decision.decided_at - Duration::seconds(1 + random.below(3_600) as i64);
    let opened_at = claimed_at - Duration::minutes(random.below(3 * 24 * 60) as i64);
    let (first_touch_hours, resolution_hours) = match severity {
        Severity::Low => (48, 168),
        Severity::Medium => (24, 72),
        Severity::High => (4, 24),
        Severity::Critical => (1, 4),
    };
    facts.resolutions.push(ResolutionFact {
        case_id,
        attribution: decision.attribution,
        severity,
        opened_at,
        claimed_at: Some(claimed_at),
        decided_at: decision.decided_at,
        resolution_due: Some(opened_at + Duration::hours(resolution_hours)),
    });
    facts.first_touches.push(FirstTouchFact {
        case_id,
        attribution: decision.attribution,
        opened_at,
        touched_at: claimed_at,
        first_touch_due: Some(opened_at + Duration::hours(first_touch_hours)),
    });
    if random.chance(0.2) {
        facts.exposures.push(ExposureFact {
            attribution: decision.attribution,
            revealed_at: claimed_at,
            concealed_at: claimed_at + Duration::seconds(5 + random.below(115) as i64),
        });
    }
}

fn appeal(random: &mut SplitMix64, attribution: Attribution, decided_at: Timestamp) -> AppealFact {
    let received_at = decided_at + Duration::hours(1 + random.below(5 * 24) as i64);
    let outcome = match random.below(10) {
        0 => AppealOutcome::Overturned,
        1 => AppealOutcome::Modified,
        _ => AppealOutcome::Upheld,
    };
    AppealFact {
        attribution,
        received_at,
        decided: random.chance(0.8).then(|| {
            (
                received_at + Duration::hours(random.below(72) as i64),
                outcome,
            )
        }),
    }
}

fn sometimes_reviewed_or_escalated(
    facts: &mut KpiFacts,
    random: &mut SplitMix64,
    decision: &DecisionFact,
) {
    if random.chance(0.05) {
        facts.qa_reviews.push(QaReviewFact {
            attribution: decision.attribution,
            completed_at: decision.decided_at + Duration::hours(random.below(72) as i64),
            rubric: QaRubric {
                decision_correct: random.chance(0.95),
                category_correct: random.chance(0.97),
                action_proportionate: random.chance(0.96),
                documentation: 1 + random.below(5) as u8,
            },
        });
    }
    if random.chance(0.01) {
        let escalated_at = decision.decided_at;
        facts.escalations.push(EscalationFact {
            attribution: decision.attribution,
            case_opened_at: escalated_at - Duration::minutes(random.below(180) as i64),
            escalated_at,
            acknowledged_at: random
                .chance(0.9)
                .then(|| escalated_at + Duration::minutes(random.below(120) as i64)),
            complete_first_send: random.chance(0.9),
        });
    }
}

fn calibrations(
    facts: &mut KpiFacts,
    random: &mut SplitMix64,
    names: &Names,
    from: Timestamp,
    days: u32,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    for week in 0..days.div_ceil(7) {
        let Some(session) = errors.take(
            "sessions",
            facts.dimensions.session(&format!("calibration_{week}")),
        ) else {
            continue;
        };
        let closed_at = from + Duration::days(i64::from(week) * 7 + 4);
        for rater in 0..RATERS_PER_SESSION {
            facts.calibrations.push(CalibrationFact {
                session,
                closed_at,
                rater: names.reviewers[(week as usize * 7 + rater) % REVIEWERS],
                agreement: 0.6 + 0.4 * random.unit(),
            });
        }
    }
    errors.finish(|| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn splitmix64_gives_its_reference_stream() {
        // The reference values of SplitMix64 seeded with 1234567.
        let mut random = SplitMix64::new(1_234_567);
        assert_eq!(random.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(random.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(random.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn poisson_draws_have_the_right_mean_and_variance() {
        let mut random = SplitMix64::new(7);
        for mean in [0.5, 4.0, 60.0, 1_200.0] {
            let draws: Vec<f64> = (0..20_000).map(|_| random.poisson(mean) as f64).collect();
            let average = draws.iter().sum::<f64>() / draws.len() as f64;
            let variance =
                draws.iter().map(|x| (x - average).powi(2)).sum::<f64>() / draws.len() as f64;
            assert!(
                (average - mean).abs() < 0.05 * mean + 0.05,
                "{mean}: {average}"
            );
            assert!(
                (variance - mean).abs() < 0.1 * mean + 0.1,
                "{mean}: {variance}"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_facts_and_limits_hold() {
        let from = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let one = facts(5_000, 42, from, 30).unwrap();
        let two = facts(5_000, 42, from, 30).unwrap();
        assert_eq!(one.decisions, two.decisions);
        assert_eq!(one.appeals, two.appeals);
        assert_eq!(one.decisions.len(), 5_000);
        assert!(one.resolutions.len() > 4_000);
        assert!(!one.qa_reviews.is_empty() && !one.escalations.is_empty());
        assert!(!one.calibrations.is_empty() && !one.rule_hits.is_empty());
        let other = facts(5_000, 43, from, 30).unwrap();
        assert_ne!(one.decisions, other.decisions);
        let refused = facts(KPI_FACTS_PER_KIND_MAX + 1, 1, from, 0).unwrap_err();
        assert_eq!(refused.0.len(), 2);
    }
}
