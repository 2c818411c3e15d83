//! Sampling plans (`[[qa.plans]]` in the configuration and the API) and
//! the sampling pass: decisions not yet read, in id order, each asked of
//! every plan ([`SamplingPlans::samples`]); the sampled ones go to the QA
//! queue and the cursor moves past them in one transaction.

use std::collections::BTreeMap;

use chrono::Duration;

use warden_domain::access::Permission;
use warden_domain::limits::{QA_VOLUME_STRATA_MAX, QA_WINDOW_DECISIONS_MAX};
use warden_domain::quality::sampling::{
    CombinedWeeklyLoad, PlanChoice, SampleReason, SamplingFacts, SamplingPlan, SamplingPlanInput,
    SamplingPlans, StratumVolume, VolumeByStratum, WeeklyLoad,
};
use warden_domain::FieldErrors;
use warden_store::{DecisionToSample, NewQaSample, QaPlanRecord, SamplePlanTag};

use crate::limits::{QA_LOAD_WEEKS, QA_SAMPLING_BATCH};
use crate::{Actor, App, CommandError, CommandResult};

/// A saved plan with what it means for a week.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanView {
    /// The plan as stored.
    pub record: QaPlanRecord,
    /// Its scope in words.
    pub scope: String,
    /// Its expected weekly load over the recent decision volume, with the
    /// arithmetic (the first line says what volume it counts).
    pub load: WeeklyLoad,
}

/// Every saved plan with its expected weekly load, and the load of all
/// of them together (a decision two plans sample is one review).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanLoads {
    /// The plans, by name.
    pub plans: Vec<PlanView>,
    /// All plans together, with the arithmetic.
    pub combined: CombinedWeeklyLoad,
    /// What volume the loads count, in words.
    pub basis: String,
}

/// Decisions a week per stratum over the last [`QA_LOAD_WEEKS`] weeks,
/// and how it was counted, in words.
struct RecentVolume {
    volume: VolumeByStratum,
    basis: String,
}

/// What a sampling pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SamplingRun {
    /// Decisions read.
    pub read: u32,
    /// Decisions put in the QA queue.
    pub sampled: u32,
    /// Decisions added by the window pass to meet the plans' minimums.
    pub topped_up: u32,
}

impl App {
    /// Saves a sampling plan (replacing one of the same name), checked
    /// against the queues configured and the taxonomy in force.
    pub async fn save_qa_plan(
        &self,
        actor: &Actor,
        input: SamplingPlanInput,
    ) -> CommandResult<PlanView> {
        actor.require(Permission::QaReview)?;
        let plan = self.check_plan(&input)?;
        let record = self
            .store()
            .save_qa_plan(&actor.audit(), &input, self.now())
            .await?;
        let recent = self.recent_volume().await?;
        Ok(plan_view(record, &plan, &recent))
    }

    /// Saves the configured plans at start (as the operator), so that a
    /// configuration change takes effect; plans saved through the API are
    /// left alone.
    pub async fn install_qa_plans(&self, plans: &[SamplingPlanInput]) -> CommandResult<()> {
        let parsed = SamplingPlans::parse(plans)?;
        self.check_names(&parsed)?;
        for input in plans {
            self.store()
                .save_qa_plan(&Actor::Operator.audit(), input, self.now())
                .await?;
        }
        Ok(())
    }

    /// Every saved plan, by name, with its expected weekly load.
    pub async fn qa_plans(&self, actor: &Actor) -> CommandResult<Vec<PlanView>> {
        Ok(self.qa_plan_loads(actor).await?.plans)
    }

    /// Every saved plan with its expected weekly load, and all of them
    /// together, over the decisions of the last [`QA_LOAD_WEEKS`] weeks.
    pub async fn qa_plan_loads(&self, actor: &Actor) -> CommandResult<PlanLoads> {
        actor.require(Permission::QaReview)?;
        let records = self.store().qa_plans().await?;
        let recent = self.recent_volume().await?;
        let mut plans = Vec::with_capacity(records.len());
        let mut inputs = Vec::with_capacity(records.len());
        for record in records {
            let plan = SamplingPlan::parse(&record.input).map_err(|errors| {
                CommandError::internal(format!("stored plan {}: {errors}", record.input.name))
            })?;
            inputs.push(record.input.clone());
            plans.push(plan_view(record, &plan, &recent));
        }
        let all = SamplingPlans::parse(&inputs)
            .map_err(|errors| CommandError::internal(format!("stored plans: {errors}")))?;
        let mut combined = all.expected_weekly_load(&recent.volume);
        combined.arithmetic.insert(0, recent.basis.clone());
        Ok(PlanLoads {
            plans,
            combined,
            basis: recent.basis,
        })
    }

    /// The decisions of the last [`QA_LOAD_WEEKS`] weeks per stratum
    /// (queue, category, severity, decider and their start), as decisions
    /// a week: what the coming week is expected to bring.
    async fn recent_volume(&self) -> CommandResult<RecentVolume> {
        let now = self.now();
        let since = now - Duration::weeks(i64::from(QA_LOAD_WEEKS));
        // Up to and including now: a decision made this millisecond counts.
        let until = now + Duration::milliseconds(1);
        let counts = self
            .store()
            .decision_volume(since, until, QA_VOLUME_STRATA_MAX as u32)
            .await?;
        let weeks = f64::from(QA_LOAD_WEEKS);
        let total: u64 = counts.iter().map(|count| count.decisions).sum();
        let strata = counts
            .iter()
            .map(|count| StratumVolume {
                queue: count.queue.clone(),
                category: count.category.clone(),
                severity: count.severity,
                reviewer: count.decider.clone(),
                reviewer_started_at: count.decider_started_at,
                decisions: count.decisions as f64 / weeks,
            })
            .collect();
        let volume = VolumeByStratum::new(now, strata)
            .map_err(|errors| CommandError::internal(format!("decision volume: {errors}")))?;
        let basis = format!(
            "decisions a week: {total} decisions in the {QA_LOAD_WEEKS} weeks before {} UTC ÷ {QA_LOAD_WEEKS} = {:.1}, in {} strata of queue, category, severity and decider",
            now.format("%Y-%m-%d %H:%M"),
            total as f64 / weeks,
            counts.len()
        );
        Ok(RecentVolume { volume, basis })
    }

    /// A sampling pass asked for by a person (`qa.review`), audited as
    /// theirs.
    pub async fn run_qa_sampling(&self, actor: &Actor) -> CommandResult<SamplingRun> {
        actor.require(Permission::QaReview)?;
        let mut run = self.sample_decisions(actor).await?;
        run.topped_up = self.sample_last_week(actor).await?;
        Ok(run)
    }

    /// The window pass over the last complete week (Monday 00:00 UTC to
    /// Monday): every plan's [`SamplingPlans::sample_window`] over the
    /// week's decisions, which replays the decision-time sampler and tops
    /// up each reviewer and category to the plan's minimum; the picks not
    /// in the QA queue yet go in. The pass depends only on the plans and
    /// the week's decisions, so running it again adds nothing.
    pub async fn sample_last_week(&self, actor: &Actor) -> CommandResult<u32> {
        let plans = self.stored_plans().await?;
        if plans.plans().is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let until = super::results::week_of(now);
        let since = until - Duration::days(7);
        let decisions = self
            .store()
            .decisions_made_between(since, until, QA_WINDOW_DECISIONS_MAX as u32)
            .await?;
        let facts: Vec<SamplingFacts> = decisions.iter().map(facts_of).collect();
        let (picks, _) = plans
            .sample_window(&facts)
            .map_err(|errors| CommandError::internal(format!("window pass: {errors}")))?;
        let by_id: BTreeMap<i64, &DecisionToSample> =
            decisions.iter().map(|d| (d.decision_id, d)).collect();
        let samples = picks
            .into_iter()
            .filter_map(|pick| {
                let decision = by_id.get(&pick.decision_id)?;
                Some(NewQaSample {
                    decision: (*decision).clone(),
                    plans: pick.chosen_by.into_iter().map(tag).collect(),
                })
            })
            .collect();
        Ok(self
            .store()
            .add_qa_samples(&actor.audit(), samples, now)
            .await?)
    }

    async fn stored_plans(&self) -> CommandResult<SamplingPlans> {
        let records = self.store().qa_plans().await?;
        let inputs: Vec<SamplingPlanInput> = records.into_iter().map(|r| r.input).collect();
        SamplingPlans::parse(&inputs)
            .map_err(|errors| CommandError::internal(format!("stored plans: {errors}")))
    }

    /// One sampling pass over at most [`QA_SAMPLING_BATCH`] decisions not
    /// yet read. The worker inside `serve` runs it; so may the command
    /// line. Another pass racing it makes this one a conflict that changed
    /// nothing.
    pub async fn sample_decisions(&self, actor: &Actor) -> CommandResult<SamplingRun> {
        let plans = self.stored_plans().await?;
        let cursor = self.store().qa_sampling_cursor().await?;
        let decisions = self
            .store()
            .decisions_to_sample(cursor, QA_SAMPLING_BATCH)
            .await?;
        let Some(last) = decisions.last().map(|d| d.decision_id) else {
            return Ok(SamplingRun::default());
        };
        let now = self.now();
        let window_start = now - Duration::days(7);
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for plan in plans.plans() {
            let count = self
                .store()
                .qa_rate_sampled_since(plan.name(), window_start)
                .await?;
            counts.insert(plan.name().to_string(), count);
        }
        let mut samples = Vec::new();
        for decision in &decisions {
            if let Some(sample) = sample_one(&plans, decision, &mut counts) {
                samples.push(sample);
            }
        }
        let sampled = self
            .store()
            .record_qa_samples(&actor.audit(), samples, (cursor, last), now)
            .await?;
        Ok(SamplingRun {
            read: decisions.len() as u32,
            sampled,
            topped_up: 0,
        })
    }

    fn check_plan(&self, input: &SamplingPlanInput) -> CommandResult<SamplingPlan> {
        let plan = SamplingPlan::parse(input)?;
        let plans = SamplingPlans::parse(std::slice::from_ref(input))?;
        self.check_names(&plans).map_err(|error| match error {
            CommandError::Invalid(errors) => CommandError::Invalid(unprefixed(errors)),
            other => other,
        })?;
        Ok(plan)
    }

    fn check_names(&self, plans: &SamplingPlans) -> CommandResult<()> {
        let policy = self.policy();
        let queues: Vec<&str> = policy
            .router()
            .queues()
            .iter()
            .map(|queue| queue.name.as_str())
            .collect();
        plans.check_names(policy.taxonomy(), &queues)?;
        Ok(())
    }
}

/// A plan as shown: its scope and expected weekly load, the volume it
/// counts in the arithmetic's first line.
fn plan_view(record: QaPlanRecord, plan: &SamplingPlan, recent: &RecentVolume) -> PlanView {
    let mut load = plan.expected_weekly_load(&recent.volume);
    load.arithmetic.insert(0, recent.basis.clone());
    PlanView {
        record,
        scope: plan.describe_scope(),
        load,
    }
}

/// One plan's errors are reported under its own fields, not `plans[0].`.
fn unprefixed(errors: FieldErrors) -> FieldErrors {
    FieldErrors(
        errors
            .0
            .into_iter()
            .map(|mut error| {
                if let Some(rest) = error.field.strip_prefix("plans[0].") {
                    error.field = rest.to_string();
                }
                error
            })
            .collect(),
    )
}

/// Asks every plan about one decision, counting rate samples toward the
/// plans' weekly caps as it goes.
fn sample_one(
    plans: &SamplingPlans,
    decision: &DecisionToSample,
    counts: &mut BTreeMap<String, u32>,
) -> Option<NewQaSample> {
    let facts = facts_of(decision);
    let verdict = plans.samples(&facts, |plan| counts.get(plan).copied().unwrap_or(0));
    if !verdict.sampled() {
        return None;
    }
    let plans = verdict
        .chosen_by
        .into_iter()
        .map(|choice| {
            let tag = tag(choice);
            if tag.by_rate {
                *counts.entry(tag.plan.clone()).or_default() += 1;
            }
            tag
        })
        .collect();
    Some(NewQaSample {
        decision: decision.clone(),
        plans,
    })
}

/// What the sampler looks at in a decision read from the store.
fn facts_of(decision: &DecisionToSample) -> SamplingFacts {
    SamplingFacts {
        decision_id: decision.decision_id,
        queue: decision.queue.clone(),
        category: decision.category.clone(),
        severity: decision.severity,
        decider: decision.decider.clone(),
        decider_started_at: decision.decider_started_at,
        decided_at: decision.decided_at,
    }
}

/// A plan's choice as stored: chosen by rate counts toward its cap.
fn tag(choice: PlanChoice) -> SamplePlanTag {
    SamplePlanTag {
        by_rate: matches!(choice.reason, SampleReason::Rate { .. }),
        reason: choice.reason.describe(),
        plan: choice.plan,
    }
}
