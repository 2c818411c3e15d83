//! KPIs: typed facts, one formula per KPI, filters and groups, targets.
//!
//! Every KPI of `specs/kpis.md` is computed here, purely, from facts the
//! store loads (`facts`): case resolutions, first touches, decisions with
//! their later fate, appeals, QA reviews, calibration ratings, escalations,
//! rule hits, trend notes, applied actions, wellness exposure and breaks,
//! and the open cases at the start and end of the window. [`compute`] makes
//! one pass over each kind of fact, filtered by queue, category, reviewer
//! and team, and adds each fact to the totals and to its dense group (day,
//! ISO week, reviewer, queue, category or rule). Each KPI answers
//! `{value, numerator, denominator, unit}`; a value is `None` when its
//! denominator is 0 — never 0 or 1. The formulas, with their caveats, are
//! written out in `docs/metrics.md`; the code follows it name by name.
//!
//! Code map: [`facts`] (the fact records and the name dictionaries),
//! [`compute`](mod@compute) (the one pass and the formulas), [`percentile`]
//! (nearest rank), [`targets`] (target bands: ok, watch, breach),
//! [`synthetic`] (a seeded fact set for benchmarks and tests).

pub mod compute;
pub mod facts;
pub mod percentile;
pub mod synthetic;
pub mod targets;

#[cfg(test)]
mod tests;

pub use compute::{
    compute, GroupBy, GroupKey, KpiFilters, KpiGroup, KpiQuery, KpiReport, KpiSettings, KpiWindow,
    SeverityWeights, SkippedFacts,
};
pub use facts::KpiFacts;
pub use targets::{Band, KpiTargets, Target, TargetDirection};

/// Every KPI Warden reports, in the order of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kpi {
    /// Case resolutions in the window.
    CasesResolved,
    /// Resolutions weighted by the case's severity.
    WeightedThroughput,
    /// Open cases at `to` minus open cases at `from`.
    BacklogNetChange,
    /// Share of first touches at or before their deadline.
    SlaFirstTouchAdherence,
    /// Share of resolutions at or before their resolution deadline.
    SlaClosureAdherence,
    /// Cases open at `to` whose resolution deadline passed.
    SlaOpenBreaches,
    /// Share of QA reviews that found the decision correct.
    QaPassRate,
    /// Mean documentation score of QA reviews.
    DocumentationQuality,
    /// Deviation of raters' agreement from the session mean.
    PolicyAlignmentVariance,
    /// Share of decisions later superseded, sent back by QA or reopened.
    ReworkRate,
    /// Share of violation decisions whose actions were later reversed.
    FalsePositiveRate,
    /// No-violation decisions later found to be violations within 30 days.
    FalseNegativeIndicators,
    /// Share of decided appeals overturned or modified.
    AppealOverturnRate,
    /// Share of decisions on repeat offenders at least as severe as the matrix.
    RepeatOffenderHandlingRate,
    /// Appeals received per action applied.
    ComplaintRatePostAction,
    /// Share of escalations complete on the first send.
    EscalationCompleteFirstSend,
    /// Median time from case opened to escalation.
    EscalationTimelinessP50,
    /// 90th percentile of the time from case opened to escalation.
    EscalationTimelinessP90,
    /// Median time from escalation to acknowledgement.
    EscalationAckP50,
    /// Share of decided rule hits whose case was a violation.
    RulePrecision,
    /// Trend notes filed.
    TrendContributions,
    /// Median time from claim to decision.
    HandleTimeP50,
    /// Seconds of media revealed.
    WellnessExposure,
    /// Share of suggested breaks taken.
    WellnessBreaksTaken,
}

impl Kpi {
    /// How many KPIs there are.
    pub const COUNT: usize = 24;

    /// Every KPI, in the order of the spec (and of reports).
    pub const ALL: [Kpi; Kpi::COUNT] = [
        Kpi::CasesResolved,
        Kpi::WeightedThroughput,
        Kpi::BacklogNetChange,
        Kpi::SlaFirstTouchAdherence,
        Kpi::SlaClosureAdherence,
        Kpi::SlaOpenBreaches,
        Kpi::QaPassRate,
        Kpi::DocumentationQuality,
        Kpi::PolicyAlignmentVariance,
        Kpi::ReworkRate,
        Kpi::FalsePositiveRate,
        Kpi::FalseNegativeIndicators,
        Kpi::AppealOverturnRate,
        Kpi::RepeatOffenderHandlingRate,
        Kpi::ComplaintRatePostAction,
        Kpi::EscalationCompleteFirstSend,
        Kpi::EscalationTimelinessP50,
        Kpi::EscalationTimelinessP90,
        Kpi::EscalationAckP50,
        Kpi::RulePrecision,
        Kpi::TrendContributions,
        Kpi::HandleTimeP50,
        Kpi::WellnessExposure,
        Kpi::WellnessBreaksTaken,
    ];

    /// The name in reports (JSON keys, CSV rows), as the spec spells it.
    pub fn name(self) -> &'static str {
        match self {
            Kpi::CasesResolved => "cases_resolved",
            Kpi::WeightedThroughput => "weighted_throughput",
            Kpi::BacklogNetChange => "backlog_net_change",
            Kpi::SlaFirstTouchAdherence => "sla_first_touch_adherence",
            Kpi::SlaClosureAdherence => "sla_closure_adherence",
            Kpi::SlaOpenBreaches => "sla_open_breaches",
            Kpi::QaPassRate => "qa_pass_rate",
            Kpi::DocumentationQuality => "documentation_quality",
            Kpi::PolicyAlignmentVariance => "policy_alignment_variance",
            Kpi::ReworkRate => "rework_rate",
            Kpi::FalsePositiveRate => "false_positive_rate",
            Kpi::FalseNegativeIndicators => "false_negative_indicators",
            Kpi::AppealOverturnRate => "appeal_overturn_rate",
            Kpi::RepeatOffenderHandlingRate => "repeat_offender_handling_rate",
            Kpi::ComplaintRatePostAction => "complaint_rate_post_action",
            Kpi::EscalationCompleteFirstSend => "escalation_complete_first_send",
            Kpi::EscalationTimelinessP50 => "escalation_timeliness_p50",
            Kpi::EscalationTimelinessP90 => "escalation_timeliness_p90",
            Kpi::EscalationAckP50 => "escalation_ack_p50",
            Kpi::RulePrecision => "rule_precision",
            Kpi::TrendContributions => "trend_contributions",
            Kpi::HandleTimeP50 => "handle_time_p50",
            Kpi::WellnessExposure => "wellness_exposure",
            Kpi::WellnessBreaksTaken => "wellness_breaks_taken",
        }
    }

    /// The KPI with this report name.
    pub fn from_name(name: &str) -> Option<Kpi> {
        Kpi::ALL.into_iter().find(|kpi| kpi.name() == name)
    }

    /// The unit of its value.
    pub fn unit(self) -> KpiUnit {
        match self {
            Kpi::CasesResolved
            | Kpi::BacklogNetChange
            | Kpi::SlaOpenBreaches
            | Kpi::FalseNegativeIndicators
            | Kpi::TrendContributions => KpiUnit::Count,
            Kpi::WeightedThroughput => KpiUnit::Points,
            Kpi::DocumentationQuality => KpiUnit::Score,
            Kpi::EscalationTimelinessP50
            | Kpi::EscalationTimelinessP90
            | Kpi::EscalationAckP50
            | Kpi::HandleTimeP50
            | Kpi::WellnessExposure => KpiUnit::Seconds,
            Kpi::SlaFirstTouchAdherence
            | Kpi::SlaClosureAdherence
            | Kpi::QaPassRate
            | Kpi::PolicyAlignmentVariance
            | Kpi::ReworkRate
            | Kpi::FalsePositiveRate
            | Kpi::AppealOverturnRate
            | Kpi::RepeatOffenderHandlingRate
            | Kpi::ComplaintRatePostAction
            | Kpi::EscalationCompleteFirstSend
            | Kpi::RulePrecision
            | Kpi::WellnessBreaksTaken => KpiUnit::Ratio,
        }
    }

    /// Its position in [`Kpi::ALL`] and in a [`KpiSet`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The unit of a KPI's value, as the spec names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KpiUnit {
    /// A share between 0 and 1 (a ratio of counts).
    Ratio,
    /// A number of things.
    Count,
    /// Severity-weighted resolutions.
    Points,
    /// A duration in seconds.
    Seconds,
    /// A rubric score (1–5).
    Score,
}

impl KpiUnit {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KpiUnit::Ratio => "ratio",
            KpiUnit::Count => "count",
            KpiUnit::Points => "points",
            KpiUnit::Seconds => "seconds",
            KpiUnit::Score => "score",
        }
    }
}

/// One KPI's answer: its value and the arithmetic behind it.
///
/// For a ratio or a mean, `value = numerator / denominator`. For a count,
/// `numerator` is the count and `denominator` is 1. For a percentile,
/// `numerator` is the 1-based rank of the observation chosen (nearest
/// rank) and `denominator` the number of observations. `value` is `None`
/// exactly when `denominator` is 0: nothing to measure, or a KPI that does
/// not apply under the report's filters or groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiValue {
    /// The KPI's value, `None` when its denominator is 0.
    pub value: Option<f64>,
    /// What was counted or summed.
    pub numerator: f64,
    /// What it was counted against.
    pub denominator: f64,
    /// The unit of `value`.
    pub unit: KpiUnit,
}

impl KpiValue {
    /// `numerator / denominator`, `None` for a zero denominator.
    pub fn ratio(numerator: f64, denominator: f64, unit: KpiUnit) -> KpiValue {
        let value = if denominator == 0.0 {
            None
        } else {
            Some(numerator / denominator)
        };
        KpiValue {
            value,
            numerator,
            denominator,
            unit,
        }
    }

    /// A count (never `None`: zero things is an answer).
    pub fn count(count: f64, unit: KpiUnit) -> KpiValue {
        KpiValue {
            value: Some(count),
            numerator: count,
            denominator: 1.0,
            unit,
        }
    }

    /// A KPI that does not apply under the report's filters or groups: a
    /// zero denominator, so `None`.
    pub fn not_applicable(unit: KpiUnit) -> KpiValue {
        KpiValue {
            value: None,
            numerator: 0.0,
            denominator: 0.0,
            unit,
        }
    }
}

/// A value for every KPI, indexed by [`Kpi`].
#[derive(Debug, Clone, PartialEq)]
pub struct KpiSet {
    values: [KpiValue; Kpi::COUNT],
}

impl KpiSet {
    /// Every KPI not applicable: the starting point of a set being filled.
    pub fn empty() -> KpiSet {
        KpiSet {
            values: Kpi::ALL.map(|kpi| KpiValue::not_applicable(kpi.unit())),
        }
    }

    /// The value of `kpi`.
    pub fn get(&self, kpi: Kpi) -> &KpiValue {
        &self.values[kpi.index()]
    }

    /// Sets the value of `kpi`.
    pub fn set(&mut self, kpi: Kpi, value: KpiValue) {
        self.values[kpi.index()] = value;
    }

    /// Every KPI with its value, in the order of the spec.
    pub fn iter(&self) -> impl Iterator<Item = (Kpi, &KpiValue)> {
        Kpi::ALL.into_iter().zip(self.values.iter())
    }
}

#[cfg(test)]
mod naming_tests {
    use super::*;

    #[test]
    fn every_kpi_is_listed_once_in_order_with_a_unique_name() {
        for (position, kpi) in Kpi::ALL.into_iter().enumerate() {
            assert_eq!(kpi.index(), position, "{kpi:?}");
            assert_eq!(Kpi::from_name(kpi.name()), Some(kpi));
        }
        let mut names: Vec<&str> = Kpi::ALL.iter().map(|kpi| kpi.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kpi::COUNT);
    }

    #[test]
    fn every_kpi_of_the_spec_is_named() {
        let spec = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs/kpis.md"),
        )
        .expect("shared/specs/kpis.md beside the repository");
        for kpi in Kpi::ALL {
            assert!(
                spec.contains(&format!("`{}`", kpi.name())),
                "{} is not in the spec",
                kpi.name()
            );
        }
        for quoted in spec.split('`').skip(1).step_by(2) {
            let looks_like_kpi = quoted.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && (quoted.contains("_rate")
                    || quoted.starts_with("sla_")
                    || quoted.starts_with("escalation_")
                    || quoted.starts_with("wellness_"));
            if looks_like_kpi {
                assert!(Kpi::from_name(quoted).is_some(), "{quoted} is not computed");
            }
        }
    }

    #[test]
    fn a_zero_denominator_is_none_never_zero_or_one() {
        let value = KpiValue::ratio(0.0, 0.0, KpiUnit::Ratio);
        assert_eq!(value.value, None);
        let value = KpiValue::ratio(3.0, 4.0, KpiUnit::Ratio);
        assert_eq!(value.value, Some(0.75));
        assert_eq!(KpiValue::count(0.0, KpiUnit::Count).value, Some(0.0));
    }
}
