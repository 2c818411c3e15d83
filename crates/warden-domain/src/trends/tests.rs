//! Spike detection on synthetic seasonal series with known injected
//! spikes, and property tests of the trend statistics.

use std::collections::BTreeSet;

use chrono::{Datelike, TimeZone, Utc};
use proptest::prelude::*;

use super::poisson::log10_upper_tail;
use super::spikes::*;
use super::terms::{log_likelihood_g2, smoothed_ratio};
use crate::kpi::synthetic::SplitMix64;
use crate::Timestamp;

/// Monday 2026-10-05 00:00 UTC: the series start on a week's first hour.
fn monday() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 10, 5, 0, 0, 0).unwrap()
}

/// A series of `weeks` weeks around `base` reports an hour: a daily rhythm
/// (quiet at night, busiest mid-afternoon, 0.25× to 1×), weekends 1.35×
/// busier, each day drifting by up to ±8 %, Poisson noise on top. Returns
/// the counts and the mean of each hour.
fn seasonal(base: f64, weeks: usize, random: &mut SplitMix64) -> (Vec<u64>, Vec<f64>) {
    let days = weeks * 7;
    let drift: Vec<f64> = (0..days)
        .map(|_| 1.0 + 0.08 * (2.0 * random.unit() - 1.0))
        .collect();
    let mut counts = Vec::with_capacity(days * 24);
    let mut means = Vec::with_capacity(days * 24);
    for hour in 0..days * 24 {
        let (day, hour_of_day) = (hour / 24, hour % 24);
        let phase = (hour_of_day as f64 - 9.0) / 24.0 * std::f64::consts::TAU;
        let daily = 0.25 + 0.75 * (1.0 + phase.sin()) / 2.0;
        let weekly = if day % 7 >= 5 { 1.35 } else { 1.0 };
        let mean = base * daily * weekly * drift[day];
        means.push(mean);
        counts.push(random.poisson(mean));
    }
    (counts, means)
}

const BASES: [f64; 6] = [3.0, 10.0, 40.0, 150.0, 600.0, 3_000.0];
const WEEKS: usize = 7;

#[test]
fn the_series_start_on_a_monday() {
    assert_eq!(monday().weekday(), chrono::Weekday::Mon);
}

#[test]
fn no_alert_on_seasonal_series_without_spikes() {
    let settings = SpikeSettings::default();
    for seed in 1..=8u64 {
        for base in BASES {
            let mut random = SplitMix64::new(seed * 1_000 + base as u64);
            let (counts, _) = seasonal(base, WEEKS, &mut random);
            let series = HourlySeries::new(monday(), counts).unwrap();
            let spikes = detect_spikes(&series, &settings).unwrap();
            assert!(
                spikes.is_empty(),
                "seed {seed}, base {base}: false alerts {:?}",
                spikes
                    .iter()
                    .map(|spike| (spike.index, spike.observed, spike.expected))
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn every_injected_spike_is_found_and_nothing_else() {
    let settings = SpikeSettings::default();
    let scored_from = settings.baseline_weeks_min * HOURS_PER_WEEK;
    for seed in 1..=8u64 {
        for base in BASES {
            let mut random = SplitMix64::new(seed * 1_000 + base as u64);
            let (mut counts, means) = seasonal(base, WEEKS, &mut random);
            // Eight hours in the scored weeks get three times their usual
            // count (at least +40): a flood, a raid, a scam wave.
            let mut injected = BTreeSet::new();
            while injected.len() < 8 {
                let hour = scored_from + random.below((counts.len() - scored_from) as u64) as usize;
                injected.insert(hour);
            }
            for &hour in &injected {
                counts[hour] += (2.0 * means[hour]).max(40.0).round() as u64;
            }
            let series = HourlySeries::new(monday(), counts).unwrap();
            let spikes = detect_spikes(&series, &settings).unwrap();
            let found: BTreeSet<usize> = spikes.iter().map(|spike| spike.index).collect();
            assert_eq!(found, injected, "seed {seed}, base {base}");
            for spike in &spikes {
                assert!(spike.ratio >= 2.0 && spike.robust_z >= 3.0);
                assert!(spike.log10_p_value <= -7.0);
                assert_eq!(spike.hour, series.hour(spike.index));
                assert_eq!(spike.baseline_weeks, 4.min(spike.index / HOURS_PER_WEEK));
            }
        }
    }
}

#[test]
fn keyed_series_are_ranked_by_surprise() {
    let mut random = SplitMix64::new(5);
    let mut keyed = Vec::new();
    for (key, extra) in [("spam", 80u64), ("scam", 400u64)] {
        let (mut counts, _) = seasonal(20.0, 5, &mut random);
        let hour = counts.len() - 10;
        counts[hour] += extra;
        keyed.push(KeyedSeries {
            dimension: SpikeDimension::Category,
            key: key.into(),
            series: HourlySeries::new(monday(), counts).unwrap(),
        });
    }
    let spikes = detect_spikes_by_key(&keyed, &SpikeSettings::default()).unwrap();
    let keys: Vec<&str> = spikes.iter().map(|spike| spike.key.as_str()).collect();
    assert_eq!(keys, ["scam", "spam"]);
    assert_eq!(spikes[0].dimension.as_str(), "category");
}

#[test]
fn hours_without_enough_history_are_not_scored() {
    // Two weeks of quiet, then a flood: with three weeks required, nothing.
    let mut counts = vec![1u64; 2 * HOURS_PER_WEEK + 10];
    counts[2 * HOURS_PER_WEEK + 5] = 10_000;
    let series = HourlySeries::new(monday(), counts.clone()).unwrap();
    assert!(detect_spikes(&series, &SpikeSettings::default())
        .unwrap()
        .is_empty());
    let eager = SpikeSettings {
        baseline_weeks_min: 2,
        ..SpikeSettings::default()
    };
    let spikes = detect_spikes(&series, &eager).unwrap();
    assert_eq!(spikes.len(), 1);
    // Expected 1 (the floor), observed 10,000: far below f64's range.
    assert!(spikes[0].log10_p_value < -30_000.0);
    assert!(spikes[0].score() > 30_000.0);
    assert_eq!(spikes[0].p_value(), 0.0);
}

#[test]
fn series_and_settings_are_checked_by_field() {
    let off_hour = monday() + chrono::Duration::minutes(30);
    assert_eq!(
        HourlySeries::new(off_hour, vec![]).unwrap_err().0[0].field,
        "start"
    );
    let too_long = vec![0; crate::limits::TREND_SERIES_HOURS_MAX + 1];
    assert_eq!(
        HourlySeries::new(monday(), too_long).unwrap_err().0[0].field,
        "counts"
    );
    let settings = SpikeSettings {
        baseline_weeks: 0,
        baseline_weeks_min: 0,
        neighbour_hours: NEIGHBOUR_HOURS_MAX + 1,
        expected_floor: 0.0,
        count_min: 0,
        ratio_min: f64::NAN,
        p_value_max: 0.0,
        robust_z_min: f64::INFINITY,
    };
    let refused =
        detect_spikes(&HourlySeries::new(monday(), vec![]).unwrap(), &settings).unwrap_err();
    let fields: Vec<&str> = refused.0.iter().map(|error| error.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "baseline_weeks",
            "baseline_weeks_min",
            "neighbour_hours",
            "expected_floor",
            "count_min",
            "ratio_min",
            "p_value_max",
            "robust_z_min"
        ]
    );
}

#[test]
fn counts_are_bucketed_by_hour_and_times_outside_left_out() {
    let start = monday();
    let times = [
        start - chrono::Duration::minutes(30),
        start,
        start + chrono::Duration::minutes(59),
        start + chrono::Duration::minutes(60),
        start + chrono::Duration::hours(3),
    ];
    let series = HourlySeries::from_times(start, 3, times).unwrap();
    assert_eq!(series.counts(), [2, 1, 0]);
}

/// A weekly template repeated for `weeks` weeks with small noise and one
/// raised hour in the last week.
fn templated(template: &[u64], noise: &[u64], weeks: usize, raised: usize, extra: u64) -> Vec<u64> {
    let mut counts: Vec<u64> = (0..weeks * HOURS_PER_WEEK)
        .map(|hour| template[hour % HOURS_PER_WEEK] + noise[hour % noise.len()])
        .collect();
    let last_week = (weeks - 1) * HOURS_PER_WEEK;
    counts[last_week + raised % HOURS_PER_WEEK] += extra;
    counts
}

fn flagged(counts: &[u64]) -> BTreeSet<usize> {
    let series = HourlySeries::new(monday(), counts.to_vec()).unwrap();
    detect_spikes(&series, &SpikeSettings::default())
        .unwrap()
        .into_iter()
        .map(|spike| spike.index)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The tail shrinks as the count rises and grows with the mean.
    #[test]
    fn the_poisson_tail_is_monotone(k in 0u64..3_000, lambda in 0.01f64..2_000.0, more in 0.0f64..500.0) {
        let here = log10_upper_tail(k, lambda);
        prop_assert!(here <= 0.0 && here.is_finite());
        prop_assert!(log10_upper_tail(k + 1, lambda) <= here + 1e-9);
        prop_assert!(log10_upper_tail(k, lambda + more) >= here - 1e-9);
    }

    /// Multiplying a whole series by an integer keeps every spike: the
    /// ratio and the robust z-score do not fall, and the Poisson tail of a
    /// count twice its expectation or more only gets thinner.
    #[test]
    fn scaling_a_series_up_keeps_its_spikes(
        template in prop::collection::vec(0u64..60, HOURS_PER_WEEK),
        noise in prop::collection::vec(0u64..6, 1..40),
        raised in 0usize..HOURS_PER_WEEK,
        extra in 40u64..400,
        factor in 2u64..5,
    ) {
        let counts = templated(&template, &noise, 5, raised, extra);
        let scaled: Vec<u64> = counts.iter().map(|count| count * factor).collect();
        let before = flagged(&counts);
        prop_assume!(!before.is_empty());
        let after = flagged(&scaled);
        prop_assert!(before.is_subset(&after), "{before:?} not in {after:?}");
    }

    /// Raising a flagged hour further keeps it flagged.
    #[test]
    fn a_bigger_spike_is_still_a_spike(
        template in prop::collection::vec(0u64..60, HOURS_PER_WEEK),
        noise in prop::collection::vec(0u64..6, 1..40),
        raised in 0usize..HOURS_PER_WEEK,
        extra in 50u64..400,
        more in 0u64..1_000,
    ) {
        let counts = templated(&template, &noise, 5, raised, extra);
        let spikes = flagged(&counts);
        prop_assume!(!spikes.is_empty());
        for hour in spikes {
            let mut higher = counts.clone();
            higher[hour] += more;
            prop_assert!(flagged(&higher).contains(&hour));
        }
    }

    /// G² scales linearly with the counts, is never negative and does not
    /// depend on which window is called current.
    #[test]
    fn g2_scales_linearly_and_is_symmetric(
        a in 0u64..500, n1_extra in 0u64..5_000, b in 0u64..500, n2_extra in 0u64..5_000,
        factor in 1u64..20,
    ) {
        let (n1, n2) = (a + n1_extra + 1, b + n2_extra + 1);
        let g2 = log_likelihood_g2(a, b, n1, n2);
        prop_assert!(g2 >= 0.0 && g2.is_finite());
        let scaled = log_likelihood_g2(a * factor, b * factor, n1 * factor, n2 * factor);
        prop_assert!((scaled - g2 * factor as f64).abs() <= 1e-9 * scaled.max(1.0));
        let swapped = log_likelihood_g2(b, a, n2, n1);
        prop_assert!((swapped - g2).abs() <= 1e-9 * g2.max(1.0));
    }

    /// More current texts with a term never lowers its smoothed ratio.
    #[test]
    fn the_smoothed_ratio_rises_with_the_current_count(
        a in 0u64..500, b in 0u64..500, n1 in 500u64..5_000, n2 in 500u64..5_000,
    ) {
        prop_assert!(smoothed_ratio(a + 1, b, n1, n2, 1.0) > smoothed_ratio(a, b, n1, n2, 1.0));
        prop_assert!(smoothed_ratio(a, b + 1, n1, n2, 1.0) < smoothed_ratio(a, b, n1, n2, 1.0));
    }
}
