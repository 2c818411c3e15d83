//! `[qa]` in `warden.toml`: sampling plans (`[[qa.plans]]`, the fields of
//! `POST /api/v1/qa/plans`) and how often the sampling worker reads new
//! decisions.
//!
//! ```toml
//! [[qa.plans]]
//! name = "weekly"
//! seed = 7
//! rate = 0.05
//! all_severities = ["critical"]
//! new_reviewer_days = 30
//! minimum_per_reviewer = 2
//!
//! [[qa.plans.rates]]
//! severity = "high"
//! rate = 0.2
//! ```

use serde::{Deserialize, Serialize};

use warden_domain::quality::sampling::{RateRuleInput, SamplingPlanInput};

/// `[qa]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QaSection {
    /// Sampling plans, saved at start (plans saved through the API with
    /// other names stay).
    pub plans: Vec<QaPlanSection>,
    /// Seconds between sampling passes; 0 turns the worker off.
    pub sample_every_seconds: u64,
}

impl Default for QaSection {
    fn default() -> Self {
        Self {
            plans: Vec::new(),
            sample_every_seconds: 30,
        }
    }
}

/// `[[qa.plans.rates]]`: a rate for part of a plan's scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QaRateSection {
    /// A queue.
    pub queue: Option<String>,
    /// A category.
    pub category: Option<String>,
    /// A severity.
    pub severity: Option<String>,
    /// A decider.
    pub reviewer: Option<String>,
    /// The rate in (0, 1].
    pub rate: f64,
}

/// `[[qa.plans]]`: one sampling plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QaPlanSection {
    /// The plan's name, a code.
    pub name: String,
    /// The seed.
    pub seed: u64,
    /// The rate in (0, 1].
    pub rate: f64,
    /// Queues covered; empty: all.
    pub queues: Vec<String>,
    /// Categories covered; empty: all.
    pub categories: Vec<String>,
    /// Severities covered; empty: all.
    pub severities: Vec<String>,
    /// Deciders covered; empty: all.
    pub reviewers: Vec<String>,
    /// Rates for parts of the scope.
    pub rates: Vec<QaRateSection>,
    /// Severities whose every decision is sampled.
    pub all_severities: Vec<String>,
    /// Every decision of a reviewer in their first N days is sampled.
    pub new_reviewer_days: Option<u32>,
    /// Decisions per reviewer a week, at least.
    pub minimum_per_reviewer: u32,
    /// Decisions per category a week, at least.
    pub minimum_per_category: u32,
    /// Decisions sampled by rate a week, at most.
    pub weekly_cap: Option<u32>,
}

impl QaSection {
    /// The plans as the app takes them.
    pub fn plan_inputs(&self) -> Vec<SamplingPlanInput> {
        self.plans
            .iter()
            .map(|plan| SamplingPlanInput {
                name: plan.name.clone(),
                seed: plan.seed,
                rate: plan.rate,
                queues: plan.queues.clone(),
                categories: plan.categories.clone(),
                severities: plan.severities.clone(),
                reviewers: plan.reviewers.clone(),
                rates: plan
                    .rates
                    .iter()
                    .map(|rule| RateRuleInput {
                        queue: rule.queue.clone(),
                        category: rule.category.clone(),
                        severity: rule.severity.clone(),
                        reviewer: rule.reviewer.clone(),
                        rate: rule.rate,
                    })
                    .collect(),
                all_severities: plan.all_severities.clone(),
                new_reviewer_days: plan.new_reviewer_days,
                minimum_per_reviewer: plan.minimum_per_reviewer,
                minimum_per_category: plan.minimum_per_category,
                weekly_cap: plan.weekly_cap,
            })
            .collect()
    }
}
