//! Spike detection over hourly counts against a seasonal baseline.
//!
//! For each hour, the baseline is the counts of the same hour of the week
//! in the previous weeks (four by default), each with its neighbouring
//! hours (one on each side by default, so twelve values): the daily and
//! weekly rhythm of reports is compared with itself, and the neighbours
//! steady a median of few weeks. The **expected** count is the baseline's
//! median, at least a floor (1) so that a quiet hour is not infinitely
//! surprising. An hour is a spike when all of these hold:
//!
//! - **volume**: at least `count_min` (10) — three reports where one is
//!   usual is not an incident;
//! - **ratio**: at least `ratio_min` (2) times the expected count;
//! - **Poisson tail**: `P(X ≥ observed)` for `X ~ Poisson(expected)` is at
//!   most `p_value_max` (10⁻⁷) — the chance of a count this high if
//!   nothing changed, for a count that varies as counts of independent
//!   reports do;
//! - **robust z-score**: `(observed − expected) / σ` at least
//!   `robust_z_min` (3), where `σ = max(1.4826 × MAD, √expected)` (the
//!   median absolute deviation of the baseline, scaled to a standard
//!   deviation, and never below Poisson noise) — this guards against
//!   series noisier than Poisson, where the tail alone over-alerts.
//!
//! Hours with fewer than `baseline_weeks_min` (3) weeks of history are not
//! scored. The defaults were chosen on simulated series with daily and
//! weekly rhythm, Poisson noise and ±8 % day-to-day drift: no alert in
//! 360,000 hours without spikes, every spike of three times the usual
//! count (at least +40) found; the tests run the same kind of series.

use chrono::{Duration, Timelike};

use super::poisson::log10_upper_tail;
use crate::limits::{TREND_BASELINE_WEEKS_MAX, TREND_SERIES_HOURS_MAX};
pub use crate::limits::{
    TREND_KEYED_SERIES_MAX as KEYED_SERIES_MAX, TREND_NEIGHBOUR_HOURS_MAX as NEIGHBOUR_HOURS_MAX,
};
use crate::{FieldErrors, Timestamp};

/// Hours in a week: the seasonal period.
pub const HOURS_PER_WEEK: usize = 7 * 24;

/// Counts per hour from an hour-aligned start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlySeries {
    start: Timestamp,
    counts: Vec<u64>,
}

impl HourlySeries {
    /// A series of `counts` from `start`, which must be on the hour; at most
    /// [`TREND_SERIES_HOURS_MAX`] hours.
    pub fn new(start: Timestamp, counts: Vec<u64>) -> Result<HourlySeries, FieldErrors> {
        let mut errors = FieldErrors::default();
        if start.minute() != 0 || start.second() != 0 || start.nanosecond() != 0 {
            errors.push("start", "must be on the hour (UTC)");
        }
        if counts.len() > TREND_SERIES_HOURS_MAX {
            errors.push(
                "counts",
                format!("more than {TREND_SERIES_HOURS_MAX} hours in one series"),
            );
        }
        errors.finish(|| HourlySeries { start, counts })
    }

    /// Counts `times` into `hours` hours from `start`; times outside are
    /// left out.
    pub fn from_times(
        start: Timestamp,
        hours: usize,
        times: impl IntoIterator<Item = Timestamp>,
    ) -> Result<HourlySeries, FieldErrors> {
        let mut series = HourlySeries::new(start, Vec::new())?;
        if hours > TREND_SERIES_HOURS_MAX {
            return Err(FieldErrors(vec![crate::FieldError::new(
                "hours",
                format!("must be at most {TREND_SERIES_HOURS_MAX}"),
            )]));
        }
        series.counts = vec![0; hours];
        for at in times {
            let Ok(hour) = usize::try_from((at - start).num_hours()) else {
                continue;
            };
            if at >= start {
                if let Some(count) = series.counts.get_mut(hour) {
                    *count += 1;
                }
            }
        }
        Ok(series)
    }

    /// The first hour.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The counts, one per hour.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The start of hour `index`.
    pub fn hour(&self, index: usize) -> Timestamp {
        // Bounded by TREND_SERIES_HOURS_MAX, far inside i64.
        self.start + Duration::hours(index as i64)
    }
}

/// The thresholds of spike detection; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeSettings {
    /// Past weeks in the baseline.
    pub baseline_weeks: usize,
    /// Fewest past weeks for an hour to be scored.
    pub baseline_weeks_min: usize,
    /// Neighbouring hours on each side added to the baseline.
    pub neighbour_hours: usize,
    /// Least expected count.
    pub expected_floor: f64,
    /// Least observed count.
    pub count_min: u64,
    /// Least ratio of observed to expected.
    pub ratio_min: f64,
    /// Largest Poisson upper-tail probability.
    pub p_value_max: f64,
    /// Least robust z-score.
    pub robust_z_min: f64,
}

impl Default for SpikeSettings {
    fn default() -> Self {
        SpikeSettings {
            baseline_weeks: 4,
            baseline_weeks_min: 3,
            neighbour_hours: 1,
            expected_floor: 1.0,
            count_min: 10,
            ratio_min: 2.0,
            p_value_max: 1e-7,
            robust_z_min: 3.0,
        }
    }
}

impl SpikeSettings {
    /// Checks every setting, naming each one at fault.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        if !(1..=TREND_BASELINE_WEEKS_MAX).contains(&self.baseline_weeks) {
            errors.push(
                "baseline_weeks",
                format!("must be between 1 and {TREND_BASELINE_WEEKS_MAX}"),
            );
        }
        if self.baseline_weeks_min == 0 || self.baseline_weeks_min > self.baseline_weeks {
            errors.push("baseline_weeks_min", "must be between 1 and baseline_weeks");
        }
        if self.neighbour_hours > NEIGHBOUR_HOURS_MAX {
            errors.push(
                "neighbour_hours",
                format!("must be at most {NEIGHBOUR_HOURS_MAX}"),
            );
        }
        if !(self.expected_floor.is_finite() && self.expected_floor > 0.0) {
            errors.push("expected_floor", "must be a finite number above 0");
        }
        if self.count_min == 0 {
            errors.push("count_min", "must be at least 1");
        }
        if !(self.ratio_min.is_finite() && self.ratio_min >= 1.0) {
            errors.push("ratio_min", "must be a finite number at least 1");
        }
        if !(self.p_value_max > 0.0 && self.p_value_max <= 1.0) {
            errors.push("p_value_max", "must be above 0 and at most 1");
        }
        if !self.robust_z_min.is_finite() {
            errors.push("robust_z_min", "must be a finite number");
        }
        errors.finish(|| ())
    }
}

/// One flagged hour, with the numbers that flagged it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spike {
    /// Position of the hour in the series.
    pub index: usize,
    /// Start of the hour.
    pub hour: Timestamp,
    /// Its count.
    pub observed: u64,
    /// The baseline's median, at least the floor.
    pub expected: f64,
    /// The baseline's median absolute deviation.
    pub baseline_mad: f64,
    /// Past weeks in the baseline.
    pub baseline_weeks: usize,
    /// `observed / expected`.
    pub ratio: f64,
    /// `log10 P(X ≥ observed)` for `X ~ Poisson(expected)`.
    pub log10_p_value: f64,
    /// `(observed − expected) / max(1.4826 × MAD, √expected)`.
    pub robust_z: f64,
}

impl Spike {
    /// The surprise as a score: `−log10` of the tail probability (7 means
    /// one in ten million).
    pub fn score(&self) -> f64 {
        -self.log10_p_value
    }

    /// The Poisson tail probability (0 when below `f64`'s range).
    pub fn p_value(&self) -> f64 {
        10f64.powf(self.log10_p_value)
    }
}

/// The flagged hours of `series`, in time order.
pub fn detect_spikes(
    series: &HourlySeries,
    settings: &SpikeSettings,
) -> Result<Vec<Spike>, FieldErrors> {
    settings.check()?;
    let counts = &series.counts;
    let log10_p_max = settings.p_value_max.log10();
    let first = settings.baseline_weeks_min * HOURS_PER_WEEK;
    let mut baseline = Vec::with_capacity(settings.baseline_weeks * (2 * NEIGHBOUR_HOURS_MAX + 1));
    let mut deviations = Vec::with_capacity(baseline.capacity());
    let mut spikes = Vec::new();
    for (index, &observed) in counts.iter().enumerate().skip(first) {
        if observed < settings.count_min {
            continue;
        }
        let weeks = settings.baseline_weeks.min(index / HOURS_PER_WEEK);
        baseline.clear();
        for week in 1..=weeks {
            let center = index - week * HOURS_PER_WEEK;
            let low = center.saturating_sub(settings.neighbour_hours);
            let high = (center + settings.neighbour_hours).min(index - 1);
            baseline.extend_from_slice(&counts[low..=high]);
        }
        let median = median_of(&mut baseline);
        let expected = median.max(settings.expected_floor);
        let observed_f = observed as f64;
        if observed_f < settings.ratio_min * expected {
            continue;
        }
        deviations.clear();
        deviations.extend(baseline.iter().map(|&value| (value as f64 - median).abs()));
        let mad = median_of_floats(&mut deviations);
        let sigma = (1.4826 * mad).max(expected.sqrt());
        let robust_z = (observed_f - expected) / sigma;
        if robust_z < settings.robust_z_min {
            continue;
        }
        let log10_p_value = log10_upper_tail(observed, expected);
        if log10_p_value > log10_p_max {
            continue;
        }
        spikes.push(Spike {
            index,
            hour: series.hour(index),
            observed,
            expected,
            baseline_mad: mad,
            baseline_weeks: weeks,
            ratio: observed_f / expected,
            log10_p_value,
            robust_z,
        });
    }
    Ok(spikes)
}

/// The median of counts (the mean of the middle two for an even number);
/// reorders them.
fn median_of(values: &mut [u64]) -> f64 {
    values.sort_unstable();
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2] as f64,
        n => (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0,
    }
}

fn median_of_floats(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// What a series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpikeDimension {
    /// Reports or cases of a taxonomy category.
    Category,
    /// Hits of a detection rule.
    Rule,
    /// Cases entering a queue.
    Queue,
    /// Texts mentioning a watched term or domain.
    Term,
}

impl SpikeDimension {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SpikeDimension::Category => "category",
            SpikeDimension::Rule => "rule",
            SpikeDimension::Queue => "queue",
            SpikeDimension::Term => "term",
        }
    }
}

/// A series with what it counts.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedSeries {
    /// What kind of thing it counts.
    pub dimension: SpikeDimension,
    /// Which one (the category code, rule name, queue name or term).
    pub key: String,
    /// The counts.
    pub series: HourlySeries,
}

/// A spike in one keyed series.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedSpike {
    /// What kind of thing spiked.
    pub dimension: SpikeDimension,
    /// Which one.
    pub key: String,
    /// The flagged hour.
    pub spike: Spike,
}

/// The spikes of every series, most surprising first (smallest tail
/// probability); at most [`KEYED_SERIES_MAX`] series.
pub fn detect_spikes_by_key(
    series: &[KeyedSeries],
    settings: &SpikeSettings,
) -> Result<Vec<KeyedSpike>, FieldErrors> {
    if series.len() > KEYED_SERIES_MAX {
        return Err(FieldErrors(vec![crate::FieldError::new(
            "series",
            format!("more than {KEYED_SERIES_MAX} series in one call"),
        )]));
    }
    let mut spikes = Vec::new();
    for keyed in series {
        for spike in detect_spikes(&keyed.series, settings)? {
            spikes.push(KeyedSpike {
                dimension: keyed.dimension,
                key: keyed.key.clone(),
                spike,
            });
        }
    }
    spikes.sort_by(|a, b| {
        a.spike
            .log10_p_value
            .total_cmp(&b.spike.log10_p_value)
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.spike.index.cmp(&b.spike.index))
    });
    Ok(spikes)
}
