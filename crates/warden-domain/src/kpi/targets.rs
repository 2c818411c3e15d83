//! KPI targets and their bands: ok, watch, breach.
//!
//! A target is a direction and a threshold (`≥ 95 %`, `≤ 3 %`, `< 15 %`)
//! with a watch margin. A value that misses the target is in **breach**; a
//! value that meets it by less than the margin is on **watch** (close to
//! the line: look before it tips); a value that meets it with room to
//! spare is **ok**. No value (a `None` KPI) has no band.
//!
//! The defaults are the seed's example targets: first-touch SLA ≥ 95 %,
//! closure ≥ 90 %, QA pass ≥ 95 %, rework ≤ 3 %, appeal overturn < 15 %.
//! They are examples to tune per queue, as the seed says.

use super::{Kpi, KpiUnit};
use crate::FieldErrors;

/// Which side of the threshold meets the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetDirection {
    /// The value must be at or above the threshold.
    AtLeast,
    /// The value must be at or below the threshold.
    AtMost,
    /// The value must be strictly below the threshold.
    Below,
}

impl TargetDirection {
    /// The sign as a tile prints it.
    pub fn symbol(self) -> &'static str {
        match self {
            TargetDirection::AtLeast => "≥",
            TargetDirection::AtMost => "≤",
            TargetDirection::Below => "<",
        }
    }
}

/// Where a value stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// Meets the target with more than the watch margin to spare.
    Ok,
    /// Meets the target, by less than the watch margin.
    Watch,
    /// Misses the target.
    Breach,
    /// No value to judge.
    NoData,
}

impl Band {
    /// The name used in reports and as a stylesheet class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Ok => "ok",
            Band::Watch => "watch",
            Band::Breach => "breach",
            Band::NoData => "no_data",
        }
    }
}

/// One KPI's target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    direction: TargetDirection,
    threshold: f64,
    watch_margin: f64,
}

impl Target {
    /// A target; the threshold must be a finite number and the margin a
    /// finite number ≥ 0 (errors name `threshold` or `watch_margin`).
    pub fn new(
        direction: TargetDirection,
        threshold: f64,
        watch_margin: f64,
    ) -> Result<Target, FieldErrors> {
        let mut errors = FieldErrors::default();
        if !threshold.is_finite() {
            errors.push("threshold", "must be a finite number");
        }
        if !watch_margin.is_finite() || watch_margin < 0.0 {
            errors.push("watch_margin", "must be a finite number at least 0");
        }
        errors.finish(|| Target {
            direction,
            threshold,
            watch_margin,
        })
    }

    /// Which side meets the target.
    pub fn direction(&self) -> TargetDirection {
        self.direction
    }

    /// The line.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// How close to the line a value is on watch.
    pub fn watch_margin(&self) -> f64 {
        self.watch_margin
    }

    /// The band of `value`.
    pub fn band(&self, value: Option<f64>) -> Band {
        let Some(value) = value.filter(|value| value.is_finite()) else {
            return Band::NoData;
        };
        let (threshold, margin) = (self.threshold, self.watch_margin);
        match self.direction {
            TargetDirection::AtLeast if value < threshold => Band::Breach,
            TargetDirection::AtLeast if value < threshold + margin => Band::Watch,
            TargetDirection::AtMost if value > threshold => Band::Breach,
            TargetDirection::AtMost if value > threshold - margin => Band::Watch,
            TargetDirection::Below if value >= threshold => Band::Breach,
            TargetDirection::Below if value >= threshold - margin => Band::Watch,
            _ => Band::Ok,
        }
    }

    /// The y ranges of each band between `low` and `high` (for shading a
    /// chart), in increasing order, empty ranges left out.
    pub fn band_ranges(&self, low: f64, high: f64) -> Vec<(f64, f64, Band)> {
        let (threshold, margin) = (self.threshold, self.watch_margin);
        let ranges = match self.direction {
            TargetDirection::AtLeast => [
                (low, threshold, Band::Breach),
                (threshold, threshold + margin, Band::Watch),
                (threshold + margin, high, Band::Ok),
            ],
            TargetDirection::AtMost | TargetDirection::Below => [
                (low, threshold - margin, Band::Ok),
                (threshold - margin, threshold, Band::Watch),
                (threshold, high, Band::Breach),
            ],
        };
        ranges
            .into_iter()
            .map(|(from, to, band)| (from.clamp(low, high), to.clamp(low, high), band))
            .filter(|(from, to, _)| from < to)
            .collect()
    }

    /// The target in words, e.g. `≥ 95 %` or `≤ 3 %` for ratios.
    pub fn describe(&self, unit: KpiUnit) -> String {
        let threshold = match unit {
            KpiUnit::Ratio => format!("{} %", trim(self.threshold * 100.0)),
            KpiUnit::Seconds => format!("{} s", trim(self.threshold)),
            KpiUnit::Count | KpiUnit::Points | KpiUnit::Score => trim(self.threshold),
        };
        format!("{} {threshold}", self.direction.symbol())
    }
}

/// A number with at most two decimals and no trailing zeros.
fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

/// The targets of every KPI that has one.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiTargets {
    targets: [Option<Target>; Kpi::COUNT],
}

impl Default for KpiTargets {
    /// The seed's example targets.
    fn default() -> Self {
        let mut targets = KpiTargets {
            targets: [None; Kpi::COUNT],
        };
        let target = |direction, threshold, watch_margin| Target {
            direction,
            threshold,
            watch_margin,
        };
        use TargetDirection::{AtLeast, AtMost, Below};
        targets.set(
            Kpi::SlaFirstTouchAdherence,
            Some(target(AtLeast, 0.95, 0.02)),
        );
        targets.set(Kpi::SlaClosureAdherence, Some(target(AtLeast, 0.90, 0.03)));
        targets.set(Kpi::QaPassRate, Some(target(AtLeast, 0.95, 0.02)));
        targets.set(Kpi::ReworkRate, Some(target(AtMost, 0.03, 0.01)));
        targets.set(Kpi::AppealOverturnRate, Some(target(Below, 0.15, 0.03)));
        targets
    }
}

impl KpiTargets {
    /// No targets at all.
    pub fn none() -> Self {
        KpiTargets {
            targets: [None; Kpi::COUNT],
        }
    }

    /// Sets (or, with `None`, removes) the target of `kpi`.
    pub fn set(&mut self, kpi: Kpi, target: Option<Target>) {
        self.targets[kpi.index()] = target;
    }

    /// The target of `kpi`, if it has one.
    pub fn get(&self, kpi: Kpi) -> Option<&Target> {
        self.targets[kpi.index()].as_ref()
    }

    /// The band of `value` for `kpi`; `NoData` without a target or a value.
    pub fn band(&self, kpi: Kpi, value: Option<f64>) -> Band {
        self.get(kpi)
            .map_or(Band::NoData, |target| target.band(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_defaults_band_values_around_their_lines() {
        let targets = KpiTargets::default();
        let band = |kpi, value| targets.band(kpi, Some(value));
        // First touch ≥ 95 %, watch within 2 points.
        assert_eq!(band(Kpi::SlaFirstTouchAdherence, 0.99), Band::Ok);
        assert_eq!(band(Kpi::SlaFirstTouchAdherence, 0.97), Band::Ok);
        assert_eq!(band(Kpi::SlaFirstTouchAdherence, 0.96), Band::Watch);
        assert_eq!(band(Kpi::SlaFirstTouchAdherence, 0.95), Band::Watch);
        assert_eq!(band(Kpi::SlaFirstTouchAdherence, 0.949), Band::Breach);
        // Closure ≥ 90 %.
        assert_eq!(band(Kpi::SlaClosureAdherence, 0.89), Band::Breach);
        assert_eq!(band(Kpi::SlaClosureAdherence, 0.91), Band::Watch);
        assert_eq!(band(Kpi::SlaClosureAdherence, 0.94), Band::Ok);
        // QA pass ≥ 95 %.
        assert_eq!(band(Kpi::QaPassRate, 0.94), Band::Breach);
        // Rework ≤ 3 %: 3 % itself meets it.
        assert_eq!(band(Kpi::ReworkRate, 0.01), Band::Ok);
        assert_eq!(band(Kpi::ReworkRate, 0.025), Band::Watch);
        assert_eq!(band(Kpi::ReworkRate, 0.03), Band::Watch);
        assert_eq!(band(Kpi::ReworkRate, 0.031), Band::Breach);
        // Overturn < 15 %: 15 % itself misses it.
        assert_eq!(band(Kpi::AppealOverturnRate, 0.15), Band::Breach);
        assert_eq!(band(Kpi::AppealOverturnRate, 0.13), Band::Watch);
        assert_eq!(band(Kpi::AppealOverturnRate, 0.05), Band::Ok);
        // No value, no target: no band.
        assert_eq!(targets.band(Kpi::QaPassRate, None), Band::NoData);
        assert_eq!(targets.band(Kpi::QaPassRate, Some(f64::NAN)), Band::NoData);
        assert_eq!(band(Kpi::CasesResolved, 10.0), Band::NoData);
    }

    #[test]
    fn targets_are_checked_and_described() {
        let refused = Target::new(TargetDirection::AtLeast, f64::NAN, -1.0).unwrap_err();
        let fields: Vec<&str> = refused.0.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["threshold", "watch_margin"]);
        let target = Target::new(TargetDirection::AtLeast, 0.95, 0.0).unwrap();
        assert_eq!(target.band(Some(0.95)), Band::Ok);
        assert_eq!(target.describe(KpiUnit::Ratio), "≥ 95 %");
        let target = Target::new(TargetDirection::Below, 3600.0, 600.0).unwrap();
        assert_eq!(target.describe(KpiUnit::Seconds), "< 3600 s");
        assert_eq!(
            KpiTargets::default()
                .get(Kpi::ReworkRate)
                .unwrap()
                .describe(KpiUnit::Ratio),
            "≤ 3 %"
        );
        let mut targets = KpiTargets::none();
        assert!(targets.get(Kpi::QaPassRate).is_none());
        targets.set(Kpi::QaPassRate, Some(target));
        assert!(targets.get(Kpi::QaPassRate).is_some());
    }

    #[test]
    fn band_ranges_cover_the_chart_in_order() {
        let target = Target::new(TargetDirection::AtLeast, 0.95, 0.02).unwrap();
        let ranges = target.band_ranges(0.0, 1.0);
        assert_eq!(ranges.len(), 3);
        assert_eq!(ranges[0], (0.0, 0.95, Band::Breach));
        assert_eq!(ranges[1].2, Band::Watch);
        assert_eq!(ranges[2].1, 1.0);
        // A chart that shows only values above the line has no breach band.
        let ranges = target.band_ranges(0.96, 1.0);
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[0].2, Band::Watch);
        let target = Target::new(TargetDirection::AtMost, 0.03, 0.01).unwrap();
        let ranges = target.band_ranges(0.0, 0.1);
        assert_eq!(ranges[0].2, Band::Ok);
        assert_eq!(ranges[2], (0.03, 0.1, Band::Breach));
    }
}
