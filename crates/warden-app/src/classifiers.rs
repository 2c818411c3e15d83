//! Triage classifiers that learn from analysts' decisions.
//!
//! [`App::retrain_from_decisions`] (`warden classifier train
//! --from-decisions`, and the scheduled retrain in `serve`) reads the
//! decisions of a category with the texts they judged, chooses the
//! examples with `warden_classifier::examples_from_decisions` (the latest
//! decision about a subject wins; superseded and reversed ones give
//! nothing), trains on the examples outside the held-out slice (the split
//! by subject, `warden_classifier::split`) and measures on the slice. The
//! new version is saved **in shadow** only if it beats the live version
//! and the shadow version (whichever exist, with the same positive class)
//! on that slice — F1 first, then AUC (`Evaluation::beats`); the
//! comparison goes into the version's metrics (`compared_with`) and so
//! into the audit record of the save. A version that does not beat them
//! is not saved; its numbers are in an audit record of its own
//! (`classifier.retrain_refused`).
//!
//! A shadow version is scored next to the live one by the detection worker
//! (logged per event) and goes live by `warden classifier promote`, or by
//! [`App::promote_shadow_if_due`] once it has been in shadow for the
//! configured period and does no worse than the live version on the
//! decisions made during that period (texts neither model was trained
//! on), recorded in the audit log (`classifier.shadow_review`).

use serde_json::{json, Value};

use warden_classifier::limits::{FEEDBACK_CLASS_EXAMPLES_MIN, FEEDBACK_DECISIONS_MAX};
use warden_classifier::{
    check_model_name, examples_from_decisions, train, Evaluation, Example, Holdout, LabelledText,
    Labels, Model, TrainingOptions,
};
use warden_domain::access::Permission;
use warden_domain::ids::TaxonomyCode;
use warden_domain::Timestamp;
use warden_store::{ModelStatus, ModelVersionRecord, NewModelVersion, StoredModel};

use crate::{Actor, App, CommandError, CommandResult};

/// A model's name, as rules read it (`classifier_score("NAME")`), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName(String);

impl ModelName {
    /// Checks `name` (`[a-z0-9_.-]`, at most 64 bytes).
    pub fn parse(name: &str) -> CommandResult<Self> {
        check_model_name(name)
            .map(|()| Self(name.to_string()))
            .map_err(|e| CommandError::invalid("name", e.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Train a new version of a model from the decisions of a category.
#[derive(Debug, Clone)]
pub struct RetrainCommand {
    /// The model.
    pub name: ModelName,
    /// The category whose violations are the positive class.
    pub category: TaxonomyCode,
    /// Only decisions made at or after this time.
    pub since: Option<Timestamp>,
    /// How to train.
    pub options: TrainingOptions,
    /// The held-out share.
    pub holdout: Holdout,
    /// Why this version exists.
    pub note: String,
}

/// How one model did on the held-out slice.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    /// The version it was compared with.
    pub version: i64,
    /// Its status.
    pub status: ModelStatus,
    /// Its numbers on the slice.
    pub evaluation: Evaluation,
}

/// What a retrain did.
#[derive(Debug, Clone)]
pub struct RetrainOutcome {
    /// The version saved in shadow, or `None` when it did not beat the
    /// current versions.
    pub saved: Option<ModelVersionRecord>,
    /// The examples it chose: (positives, negatives).
    pub examples: (usize, usize),
    /// The new model's numbers on the held-out slice.
    pub evaluation: Evaluation,
    /// The current versions' numbers on the same slice.
    pub compared: Vec<Compared>,
}

/// What a shadow review decided.
#[derive(Debug, Clone)]
pub struct ShadowReview {
    /// The shadow version reviewed.
    pub shadow: i64,
    /// Whether it went live.
    pub promoted: bool,
    /// Why, in words.
    pub reason: String,
}

/// Decisions examined per retrain (the newest).
const RETRAIN_DECISIONS: u32 = FEEDBACK_DECISIONS_MAX as u32;

impl App {
    /// Trains a version of `command.name` from the decisions of
    /// `command.category` and saves it in shadow if it beats the current
    /// versions on the held-out slice (see the module documentation).
    pub async fn retrain_from_decisions(
        &self,
        actor: &Actor,
        command: RetrainCommand,
    ) -> CommandResult<RetrainOutcome> {
        actor.require(Permission::PolicyWrite)?;
        let category = command.category.as_str();
        if self.policy().taxonomy().get(category).is_none() {
            return Err(CommandError::invalid(
                "category",
                format!("{category:?} is not a category of the taxonomy in force"),
            ));
        }
        command
            .options
            .validate()
            .map_err(|e| CommandError::invalid("options", e.to_string()))?;
        let examples = self.labelled_texts(category, command.since).await?;
        let counts = class_counts(&examples);
        let incumbents = self.incumbents(command.name.as_str()).await?;
        let trained = {
            let examples = examples.clone();
            let command = command.clone();
            tokio::task::spawn_blocking(move || train_and_compare(&command, &examples, &incumbents))
                .await
                .map_err(|e| CommandError::internal(format!("training stopped: {e}")))??
        };
        let metrics = retrain_metrics(&command, counts, &trained);
        if !trained.beats_all() {
            self.store()
                .record_read(
                    &actor.audit(),
                    "classifier.retrain_refused",
                    "classifier_model",
                    command.name.as_str(),
                    metrics,
                    self.now(),
                )
                .await?;
            return Ok(trained.outcome(None, counts));
        }
        let record = self
            .store()
            .save_model_version(
                &actor.audit(),
                NewModelVersion {
                    name: command.name.as_str().to_string(),
                    kind: trained.model.kind().as_str().into(),
                    status: ModelStatus::Shadow,
                    metrics,
                    bytes: trained.model.to_bytes(),
                    note: command.note.clone(),
                },
                self.now(),
            )
            .await?;
        Ok(trained.outcome(Some(record), counts))
    }

    /// Promotes the shadow version of `name` when it has been in shadow
    /// for `period` and does no worse than the live version on the
    /// decisions made since it was saved (see the module documentation);
    /// `None` when there is no shadow version or its period is not over.
    pub async fn promote_shadow_if_due(
        &self,
        actor: &Actor,
        name: &ModelName,
        period: chrono::Duration,
    ) -> CommandResult<Option<ShadowReview>> {
        actor.require(Permission::PolicyWrite)?;
        let Some(shadow) = self.store().shadow_model(name.as_str()).await? else {
            return Ok(None);
        };
        let now = self.now();
        if now - shadow.record.status_changed_at < period {
            return Ok(None);
        }
        let live = self.store().live_model(name.as_str()).await?;
        let review = self.review_shadow(&shadow, live.as_ref()).await?;
        if review.promoted {
            self.store()
                .promote_model(&actor.audit(), name.as_str(), shadow.record.version, now)
                .await?;
        }
        self.store()
            .record_read(
                &actor.audit(),
                "classifier.shadow_review",
                "classifier_model",
                &format!("{}:{}", name.as_str(), shadow.record.version),
                json!({"promoted": review.promoted, "reason": review.reason}),
                now,
            )
            .await?;
        Ok(Some(review))
    }

    /// Compares a shadow version with the live one on the decisions made
    /// since the shadow version was saved, in the category it was trained
    /// for.
    async fn review_shadow(
        &self,
        shadow: &StoredModel,
        live: Option<&StoredModel>,
    ) -> CommandResult<ShadowReview> {
        let version = shadow.record.version;
        let review = |promoted: bool, reason: String| ShadowReview {
            shadow: version,
            promoted,
            reason,
        };
        let Some(live) = live else {
            return Ok(review(true, "there is no live version".into()));
        };
        let Some(category) = shadow
            .record
            .metrics
            .get("category")
            .and_then(Value::as_str)
        else {
            return Ok(review(
                false,
                "it was not trained from decisions; promote it by hand".into(),
            ));
        };
        let examples = self
            .labelled_texts(category, Some(shadow.record.status_changed_at))
            .await?;
        let (positives, negatives) = class_counts(&examples);
        if positives.min(negatives) < FEEDBACK_CLASS_EXAMPLES_MIN {
            return Ok(review(false, format!(
                "too few decisions in its shadow period to compare ({positives} violations, {negatives} others); it stays in shadow"
            )));
        }
        let (theirs, ours) = (load(live)?, load(shadow)?);
        let (live_eval, shadow_eval) = tokio::task::spawn_blocking(move || {
            (evaluate(&theirs, &examples), evaluate(&ours, &examples))
        })
        .await
        .map_err(|e| CommandError::internal(format!("scoring stopped: {e}")))?;
        let (live_eval, shadow_eval) = (live_eval?, shadow_eval?);
        let promoted = !live_eval.beats(&shadow_eval);
        Ok(review(
            promoted,
            format!(
                "on {} decisions of its shadow period: F1 {:.4} against live version {}'s {:.4}{}",
                shadow_eval.n,
                shadow_eval.f1,
                live.record.version,
                live_eval.f1,
                if promoted {
                    ""
                } else {
                    "; a regression, so it stays in shadow"
                }
            ),
        ))
    }

    /// The labelled texts of `category` since `since`.
    async fn labelled_texts(
        &self,
        category: &str,
        since: Option<Timestamp>,
    ) -> CommandResult<Vec<LabelledText>> {
        let judgements = self
            .store()
            .decision_judgements(category, since, RETRAIN_DECISIONS)
            .await?;
        Ok(examples_from_decisions(
            &judgements,
            category,
            FEEDBACK_DECISIONS_MAX,
        ))
    }

    /// The live and shadow versions of `name` that read back.
    async fn incumbents(&self, name: &str) -> CommandResult<Vec<(ModelVersionRecord, Model)>> {
        let mut incumbents = Vec::new();
        for stored in [
            self.store().live_model(name).await?,
            self.store().shadow_model(name).await?,
        ]
        .into_iter()
        .flatten()
        {
            match Model::from_bytes(&stored.bytes) {
                Ok(model) => incumbents.push((stored.record, model)),
                Err(error) => tracing::warn!(
                    model = name,
                    version = stored.record.version,
                    %error,
                    "a stored version does not read; not compared"
                ),
            }
        }
        Ok(incumbents)
    }
}

/// A trained model with its numbers and the incumbents'.
struct Trained {
    model: Model,
    evaluation: Evaluation,
    compared: Vec<Compared>,
    /// Incumbents it could not be compared with (another positive class,
    /// or no held-out example).
    incomparable: Vec<i64>,
}

impl Trained {
    fn beats_all(&self) -> bool {
        self.incomparable.is_empty()
            && self
                .compared
                .iter()
                .all(|c| self.evaluation.beats(&c.evaluation))
    }

    fn outcome(
        self,
        saved: Option<ModelVersionRecord>,
        examples: (usize, usize),
    ) -> RetrainOutcome {
        RetrainOutcome {
            saved,
            examples,
            evaluation: self.evaluation,
            compared: self.compared,
        }
    }
}

/// (positives, negatives).
fn class_counts(examples: &[LabelledText]) -> (usize, usize) {
    let positives = examples.iter().filter(|e| e.positive).count();
    (positives, examples.len() - positives)
}

fn load(stored: &StoredModel) -> CommandResult<Model> {
    Model::from_bytes(&stored.bytes).map_err(|e| {
        CommandError::internal(format!(
            "model {} version {} does not read: {e}",
            stored.record.name, stored.record.version
        ))
    })
}

/// Trains on the examples outside the held-out slice, measures the model
/// and the incumbents on the slice.
fn train_and_compare(
    command: &RetrainCommand,
    examples: &[LabelledText],
    incumbents: &[(ModelVersionRecord, Model)],
) -> CommandResult<Trained> {
    let category = command.category.as_str();
    let (held_out, training): (Vec<&LabelledText>, Vec<&LabelledText>) = examples
        .iter()
        .partition(|e| command.holdout.holds_out(&e.id));
    let train_counts = (
        training.iter().filter(|e| e.positive).count(),
        training.iter().filter(|e| !e.positive).count(),
    );
    if train_counts.0.min(train_counts.1) < FEEDBACK_CLASS_EXAMPLES_MIN {
        return Err(CommandError::invalid(
            "category",
            format!(
                "training needs at least {FEEDBACK_CLASS_EXAMPLES_MIN} violations of {category} and {FEEDBACK_CLASS_EXAMPLES_MIN} other decisions outside the held-out slice; there are {} and {}",
                train_counts.0, train_counts.1
            ),
        ));
    }
    let labels = Labels::new(category, &format!("not-{category}"))
        .map_err(|e| CommandError::invalid("category", e.to_string()))?;
    let training: Vec<Example<'_>> = training
        .iter()
        .map(|e| Example {
            id: &e.id,
            text: &e.text,
            positive: e.positive,
        })
        .collect();
    let model = train(&training, labels, &command.options, &mut |_| {})
        .map_err(|e| CommandError::invalid("category", format!("cannot train: {e}")))?;
    let held_out: Vec<LabelledText> = held_out.into_iter().cloned().collect();
    let evaluation = evaluate(&model, &held_out)?;
    let mut compared = Vec::new();
    let mut incomparable = Vec::new();
    for (record, incumbent) in incumbents {
        if held_out.is_empty() || incumbent.labels().positive() != category {
            incomparable.push(record.version);
            continue;
        }
        compared.push(Compared {
            version: record.version,
            status: record.status,
            evaluation: evaluate(incumbent, &held_out)?,
        });
    }
    Ok(Trained {
        model,
        evaluation,
        compared,
        incomparable,
    })
}

/// A model's numbers on labelled texts, at the 0.5 threshold.
fn evaluate(model: &Model, examples: &[LabelledText]) -> CommandResult<Evaluation> {
    let mut scorer = model.scorer();
    let mut scores = Vec::with_capacity(examples.len());
    for example in examples {
        scores.push(
            scorer
                .score(&example.text)
                .map_err(|e| CommandError::internal(format!("cannot score {}: {e}", example.id)))?,
        );
    }
    let truth: Vec<bool> = examples.iter().map(|e| e.positive).collect();
    Ok(Evaluation::new(&scores, &truth, 0.5))
}

/// Rounded like every figure in the metrics: they go into the audit
/// record, whose hash must survive a JSON round trip.
fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

fn evaluation_json(e: &Evaluation) -> Value {
    json!({
        "n": e.n,
        "precision": round(e.precision),
        "recall": round(e.recall),
        "f1": round(e.f1),
        "auc": e.auc.map(round),
    })
}

/// The metrics stored with the version (and audited with a refusal).
fn retrain_metrics(command: &RetrainCommand, counts: (usize, usize), trained: &Trained) -> Value {
    let mut metrics = evaluation_json(&trained.evaluation);
    if let Value::Object(fields) = &mut metrics {
        fields.insert("source".into(), json!("decisions"));
        fields.insert("category".into(), json!(command.category.as_str()));
        fields.insert("since".into(), json!(command.since.map(|t| t.to_rfc3339())));
        fields.insert("positive".into(), json!(command.category.as_str()));
        fields.insert("violations".into(), json!(counts.0));
        fields.insert("others".into(), json!(counts.1));
        fields.insert("holdout".into(), json!(round(command.holdout.share())));
        fields.insert("threshold".into(), json!(0.5));
        fields.insert(
            "compared_with".into(),
            Value::Array(
                trained
                    .compared
                    .iter()
                    .map(|c| {
                        let mut e = evaluation_json(&c.evaluation);
                        e["version"] = json!(c.version);
                        e["status"] = json!(c.status.as_str());
                        e
                    })
                    .collect(),
            ),
        );
        fields.insert("incomparable".into(), json!(trained.incomparable));
        fields.insert("beats_current".into(), json!(trained.beats_all()));
    }
    metrics
}
