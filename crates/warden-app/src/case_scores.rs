//! Queue priority that weighs a live classifier's score.
//!
//! With [`ClassifierPriority`] configured (`[classifier] priority_weight`
//! and a model per category), every report or case-opening signal that
//! intake stores is followed by a score of its case's text — the text a
//! decision judges: the subject's own, else the newest event's about it
//! (`ModelStore::judged_text`) — by the live version of its category's
//! model. `round(weight × score)` priority points then replace the points
//! an earlier score gave the open case (`IntakeStore::weigh_case_score`,
//! audited). Claim order is severity, then the resolution deadline, then
//! priority: a higher score puts a case of the same severity and deadline
//! first.
//!
//! Scoring runs after intake committed: a case is filed even when its
//! model cannot be read or the store fails here (logged, never an error of
//! the intake call). The live models are cached by version; each intake
//! call asks the store which versions are live (no bytes), and loads a
//! model's bytes only when its live version changed.

use std::collections::BTreeMap;
use std::sync::Mutex;

use warden_classifier::feedback::prefix;
use warden_classifier::limits::TEXT_BYTES_MAX;
use warden_classifier::Model;
use warden_domain::SubjectRef;
use warden_store::CaseScore;

use crate::limits::CASE_SCORE_MODELS_MAX;
use crate::{Actor, App};

/// How much a live score weighs in a new case's priority.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassifierPriority {
    /// Priority points a score of 1.0 adds; 0 turns scoring off.
    pub weight: u32,
    /// The model scoring each category's cases: category → model name.
    pub models: BTreeMap<String, String>,
}

/// Live models by name, with their versions.
#[derive(Debug, Default)]
pub(crate) struct ModelCache {
    models: Mutex<BTreeMap<String, (i64, Model)>>,
}

impl App {
    /// The same application weighing live classifier scores in the
    /// priority of the cases intake files.
    pub fn with_classifier_priority(mut self, priority: ClassifierPriority) -> Self {
        self.classifier_priority = std::sync::Arc::new(priority);
        self
    }

    /// Scores the cases about `filed` (subject, category) pairs and sets
    /// their classifier priority; see the module documentation.
    pub(crate) async fn weigh_scores(&self, actor: &Actor, filed: Vec<(SubjectRef, String)>) {
        let priority = self.classifier_priority.clone();
        if priority.weight == 0 || priority.models.is_empty() || filed.is_empty() {
            return;
        }
        let wanted = priority.models.values().cloned().collect();
        let live = match self.live_models(&wanted).await {
            Ok(live) => live,
            Err(error) => {
                tracing::warn!(%error, "cannot read the live classifiers; cases filed without a score");
                return;
            }
        };
        let mut seen = std::collections::BTreeSet::new();
        for (subject, category) in filed {
            if !seen.insert((subject.clone(), category.clone())) {
                continue;
            }
            let Some(name) = priority.models.get(&category) else {
                continue;
            };
            let Some((version, model)) = live.get(name) else {
                continue;
            };
            if let Err(error) = self
                .weigh_one(
                    actor,
                    (&subject, &category),
                    (name, *version, model),
                    priority.weight,
                )
                .await
            {
                tracing::warn!(%error, model = %name, "cannot weigh a case's score");
            }
        }
    }

    async fn weigh_one(
        &self,
        actor: &Actor,
        (subject, category): (&SubjectRef, &str),
        (name, version, model): (&str, i64, &Model),
        weight: u32,
    ) -> warden_store::StoreResult<()> {
        let Some(text) = self.store().judged_text(subject).await? else {
            return Ok(());
        };
        // Cut to TEXT_BYTES_MAX, the only way scoring fails.
        let Ok(score) = model.score(prefix(&text, TEXT_BYTES_MAX)) else {
            return Ok(());
        };
        let score = CaseScore {
            subject: subject.clone(),
            category: category.to_string(),
            model: name.to_string(),
            version,
            score,
            points: (f64::from(weight) * score).round() as i64,
        };
        self.store()
            .weigh_case_score(&actor.audit(), &score, self.now())
            .await?;
        Ok(())
    }

    /// The live models named in `wanted`, from the cache when their
    /// version did not change.
    async fn live_models(
        &self,
        wanted: &std::collections::BTreeSet<String>,
    ) -> warden_store::StoreResult<BTreeMap<String, (i64, Model)>> {
        let records = self
            .store()
            .live_model_versions(CASE_SCORE_MODELS_MAX as u32)
            .await?;
        let cached = self.model_cache.snapshot();
        let mut live = BTreeMap::new();
        for record in records.into_iter().filter(|r| wanted.contains(&r.name)) {
            if let Some((version, model)) = cached.get(&record.name) {
                if *version == record.version {
                    live.insert(record.name, (*version, model.clone()));
                    continue;
                }
            }
            let Some(stored) = self
                .store()
                .model_version(&record.name, record.version)
                .await?
            else {
                continue;
            };
            match Model::from_bytes(&stored.bytes) {
                Ok(model) => {
                    live.insert(record.name, (record.version, model));
                }
                Err(error) => {
                    tracing::warn!(model = %record.name, version = record.version, %error, "a live classifier does not read; it scores no case")
                }
            }
        }
        self.model_cache.keep(&live);
        Ok(live)
    }
}

impl ModelCache {
    fn snapshot(&self) -> BTreeMap<String, (i64, Model)> {
        self.models
            .lock()
            .map(|m| m.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Remembers `models`, keeping the other names cached (at most
    /// [`CASE_SCORE_MODELS_MAX`] names: the oldest names go first).
    fn keep(&self, models: &BTreeMap<String, (i64, Model)>) {
        let mut cache = self.models.lock().unwrap_or_else(|p| p.into_inner());
        for (name, entry) in models {
            cache.insert(name.clone(), entry.clone());
        }
        while cache.len() > CASE_SCORE_MODELS_MAX {
            let Some(first) = cache.keys().next().cloned() else {
                break;
            };
            cache.remove(&first);
        }
    }
}

/// Why a live classifier scored a case's text as it did, for the case page.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseExplanation {
    /// The model.
    pub model: String,
    /// Its live version.
    pub version: i64,
    /// The score of the case's text, 0 to 1.
    pub score: f64,
    /// The words and n-grams that moved the score most, strongest first:
    /// the features of the text in that hash bucket (lowercased, as they
    /// are in the text, so personal data must be masked where shown) and
    /// their push towards the positive class.
    pub drivers: Vec<(Vec<String>, f64)>,
}

impl App {
    /// The explanation of the live classifier's score of a case's text
    /// (the model of the case's category, see [`ClassifierPriority`], else
    /// a live model named like the category), when the actor may see the
    /// case and there is a model and a text; at most `top` drivers (at most
    /// `EXPLAIN_FEATURES_MAX`).
    pub async fn explain_case_score(
        &self,
        actor: &Actor,
        case: warden_domain::CaseId,
        top: usize,
    ) -> crate::CommandResult<Option<CaseExplanation>> {
        let case = self.visible_case(actor, case).await?;
        let name = self
            .classifier_priority
            .models
            .get(&case.category)
            .cloned()
            .unwrap_or_else(|| case.category.clone());
        let live = self.live_models(&[name.clone()].into()).await?;
        let Some((version, model)) = live.get(&name) else {
            return Ok(None);
        };
        let Some(text) = self.store().judged_text(&case.subject).await? else {
            return Ok(None);
        };
        let top = top.min(warden_classifier::limits::EXPLAIN_FEATURES_MAX);
        let Ok(explanation) = model.explain(prefix(&text, TEXT_BYTES_MAX), top) else {
            return Ok(None);
        };
        Ok(Some(CaseExplanation {
            model: name,
            version: *version,
            score: explanation.score,
            drivers: explanation
                .contributions
                .into_iter()
                .map(|c| {
                    (
                        c.features.into_iter().map(|f| f.name).collect(),
                        c.contribution,
                    )
                })
                .collect(),
        }))
    }
}
