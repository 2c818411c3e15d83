//! `warden bench agreement`: the calibration statistics over a million
//! ratings — 100,000 items, each rated by the same ten raters, six labels
//! with a skewed distribution — the scale of a large QA team's double
//! reviews over a year. Generating the ratings is not timed; checking and
//! grouping them and computing every statistic is.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use warden_domain::limits::AGREEMENT_RATINGS_MAX;
use warden_domain::quality::agreement::{self, Rating, RatingSet, Statistic};

/// Raters rating every item.
const RATERS: usize = 10;

/// Labels and how often the true answer is each: most reviewed items are
/// fine, spam is the commonest violation, the rest are rarer.
const LABELS: &[(&str, f64)] = &[
    ("not_violating", 0.50),
    ("spam", 0.20),
    ("harassment", 0.12),
    ("hate", 0.08),
    ("scam", 0.06),
    ("adult", 0.04),
];

/// Timed runs; the median is the result.
const RUNS: usize = 5;

/// Generates the ratings, computes the statistics `RUNS` times and prints
/// the median; the last line is `agreement: N ms`.
pub fn run(items: Option<usize>) -> Result<()> {
    let items = items.unwrap_or(100_000);
    ensure!(
        items >= 1
            && items
                .checked_mul(RATERS)
                .is_some_and(|ratings| ratings <= AGREEMENT_RATINGS_MAX),
        "--items must be between 1 and {} (ten ratings each, at most {AGREEMENT_RATINGS_MAX} ratings)",
        AGREEMENT_RATINGS_MAX / RATERS
    );
    let ratings = generate(items, 42);
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut grouping: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let set = RatingSet::new(items, RATERS, LABELS.len(), &ratings)?;
        grouping.push(started.elapsed());
        let report = agreement::measure(&set);
        times.push(started.elapsed());
        last = Some(report);
    }
    times.sort();
    grouping.sort();
    let median = times[RUNS / 2];
    if let Some(report) = last {
        let show = |statistic: Statistic| {
            statistic.map_or_else(|why| format!("undefined ({why})"), |v| format!("{v:.4}"))
        };
        println!(
            "{} ratings: {} items × {RATERS} raters, {} labels (seeded, skewed), shuffled",
            report.ratings, report.items, report.categories
        );
        println!(
            "percent agreement {}, Fleiss' kappa {}, Krippendorff's alpha {}; {} pairs, {} disputed items listed",
            show(report.percent_agreement),
            show(report.fleiss_kappa),
            show(report.krippendorff_alpha_nominal),
            report.pairs.len(),
            report.most_disputed.len()
        );
    }
    println!(
        "{RUNS} runs: min {} ms, median {} ms, max {} ms (checking and grouping: median {} ms)",
        times[0].as_millis(),
        median.as_millis(),
        times[RUNS - 1].as_millis(),
        grouping[RUNS / 2].as_millis()
    );
    println!("agreement: {} ms", median.as_millis());
    Ok(())
}

/// `items × RATERS` ratings in random order. Each item has a true label;
/// each rater finds it with their own accuracy (70–95 %) and otherwise
/// picks a label by the same distribution.
fn generate(items: usize, seed: u64) -> Vec<Rating> {
    let mut rng = StdRng::seed_from_u64(seed);
    let accuracy: Vec<f64> = (0..RATERS).map(|_| rng.gen_range(0.70..0.95)).collect();
    let draw = |rng: &mut StdRng| {
        let mut left: f64 = rng.gen();
        for (index, (_, share)) in LABELS.iter().enumerate() {
            left -= share;
            if left < 0.0 {
                return index as u32;
            }
        }
        LABELS.len() as u32 - 1
    };
    let mut ratings = Vec::with_capacity(items * RATERS);
    for item in 0..items {
        let truth = draw(&mut rng);
        for (rater, &skill) in accuracy.iter().enumerate() {
            let category = if rng.gen_bool(skill) {
                truth
            } else {
                draw(&mut rng)
            };
            ratings.push(Rating {
                item: item as u32,
                rater: rater as u32,
                category,
            });
        }
    }
    ratings.shuffle(&mut rng);
    ratings
}
