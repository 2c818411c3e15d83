//! The live triage classifiers, for the detection worker: the live version
//! of every model in the store, scored on each event's text and handed to
//! rules as `classifier_score("name")`; shadow versions are scored beside
//! them and logged, acting on nothing.
//!
//! Scores go into the event facts' `data.scores`, where
//! `classifier_score` reads them; a score the platform sent under the same
//! name is kept (the platform's data is never overwritten). The worker
//! re-reads the list of live versions when it reloads its rules and loads
//! a model's bytes only when its live version changed. A version that does
//! not read back is skipped with a warning, so one bad model never stops
//! detection.

use std::collections::BTreeMap;

use serde_json::Value;

use warden_classifier::limits::TEXT_BYTES_MAX;
use warden_classifier::Model;
use warden_detection::EventFacts;
use warden_store::{ModelStore, StoreResult};

use crate::limits::LIVE_CLASSIFIERS_MAX;

/// The live models, by name, and the shadow ones.
#[derive(Debug, Default)]
pub struct LiveClassifiers {
    models: BTreeMap<String, (i64, Model)>,
    shadow: BTreeMap<String, (i64, Model)>,
}

/// A name's version and model.
type Loaded = BTreeMap<String, (i64, Model)>;

impl LiveClassifiers {
    /// Live models from `(name, version, model)` triples.
    pub fn new(models: impl IntoIterator<Item = (String, i64, Model)>) -> Self {
        Self {
            models: models
                .into_iter()
                .take(LIVE_CLASSIFIERS_MAX)
                .map(|(name, version, model)| (name, (version, model)))
                .collect(),
            shadow: BTreeMap::new(),
        }
    }

    /// The same with shadow models from `(name, version, model)` triples.
    pub fn with_shadow(mut self, models: impl IntoIterator<Item = (String, i64, Model)>) -> Self {
        self.shadow = models
            .into_iter()
            .take(LIVE_CLASSIFIERS_MAX)
            .map(|(name, version, model)| (name, (version, model)))
            .collect();
        self
    }

    /// The live version of each model, by name.
    pub fn versions(&self) -> BTreeMap<String, i64> {
        self.models
            .iter()
            .map(|(name, (version, _))| (name.clone(), *version))
            .collect()
    }

    /// The shadow version of each model, by name.
    pub fn shadow_versions(&self) -> BTreeMap<String, i64> {
        self.shadow
            .iter()
            .map(|(name, (version, _))| (name.clone(), *version))
            .collect()
    }

    /// Whether there is no live model.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The live model of `name`, if any.
    pub fn live(&self, name: &str) -> Option<(i64, &Model)> {
        self.models
            .get(name)
            .map(|(version, model)| (*version, model))
    }

    /// The live and shadow versions the store holds now, reusing the
    /// models of `current` whose version did not change.
    pub async fn load(
        store: &(impl ModelStore + ?Sized),
        current: &LiveClassifiers,
    ) -> StoreResult<Self> {
        let live = store
            .live_model_versions(LIVE_CLASSIFIERS_MAX as u32)
            .await?;
        let shadow = store
            .shadow_model_versions(LIVE_CLASSIFIERS_MAX as u32)
            .await?;
        Ok(Self {
            models: load_versions(store, live, &current.models).await?,
            shadow: load_versions(store, shadow, &current.shadow).await?,
        })
    }

    /// Scores the event's text (its `data.text`, else its subject's text;
    /// the first [`TEXT_BYTES_MAX`] bytes) with every live model into
    /// `data.scores`, keeping scores the platform sent. Shadow models are
    /// scored too and their scores logged next to the live ones (at debug
    /// level, target `warden::classifier::shadow`); they act on nothing.
    pub fn add_scores(&self, facts: &mut EventFacts) {
        if self.models.is_empty() && self.shadow.is_empty() {
            return;
        }
        let Some(text) = facts.text().map(|t| prefix(t, TEXT_BYTES_MAX).to_string()) else {
            return;
        };
        self.log_shadow_scores(&facts.event_id, &text);
        let Some(data) = facts.data.as_object_mut() else {
            return;
        };
        if self.models.is_empty() {
            return;
        }
        let scores = data
            .entry("scores")
            .or_insert_with(|| Value::Object(Default::default()));
        let Some(scores) = scores.as_object_mut() else {
            return;
        };
        for (name, (_, model)) in &self.models {
            if scores.contains_key(name) {
                continue;
            }
            // The text is within TEXT_BYTES_MAX, the only way scoring fails.
            if let Ok(score) = model.score(&text) {
                scores.insert(name.clone(), Value::from(score));
            }
        }
    }

    fn log_shadow_scores(&self, event: &str, text: &str) {
        if !tracing::enabled!(target: "warden::classifier::shadow", tracing::Level::DEBUG) {
            return;
        }
        for (name, (version, model)) in &self.shadow {
            let live = self.models.get(name).and_then(|(_, m)| m.score(text).ok());
            if let Ok(score) = model.score(text) {
                tracing::debug!(target: "warden::classifier::shadow", model = %name, version, event, shadow_score = score, live_score = ?live, "shadow score");
            }
        }
    }
}

/// The models of `records`, reusing those of `current` whose version did
/// not change; a version whose bytes do not read is skipped with a warning.
async fn load_versions(
    store: &(impl ModelStore + ?Sized),
    records: Vec<warden_store::ModelVersionRecord>,
    current: &Loaded,
) -> StoreResult<Loaded> {
    let mut models = BTreeMap::new();
    for record in records {
        let (name, version) = (record.name, record.version);
        if let Some((kept, model)) = current.get(&name) {
            if *kept == version {
                models.insert(name, (version, model.clone()));
                continue;
            }
        }
        let Some(stored) = store.model_version(&name, version).await? else {
            continue;
        };
        match Model::from_bytes(&stored.bytes) {
            Ok(model) => {
                tracing::info!(model = %name, version, status = record.status.as_str(), "classifier loaded");
                models.insert(name, (version, model));
            }
            Err(error) => {
                tracing::warn!(model = %name, version, %error, "classifier skipped: its bytes do not read");
            }
        }
    }
    Ok(models)
}

/// The longest prefix of `text` of at most `max` bytes ending on a
/// character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use warden_classifier::{train, Example, Labels, TrainingOptions};

    fn model() -> Model {
        let texts = [
            ("s1", "win free cash now", true),
            ("s2", "claim your free prize", true),
            ("s3", "urgent cash offer win", true),
            ("h1", "lunch tomorrow at noon", false),
            ("h2", "see you at the meeting", false),
            ("h3", "thanks for the report", false),
        ];
        let examples: Vec<Example<'_>> = texts
            .iter()
            .map(|(id, text, positive)| Example {
                id,
                text,
                positive: *positive,
            })
            .collect();
        let options = TrainingOptions {
            validation_share: 0.0,
            ..TrainingOptions::default()
        };
        train(
            &examples,
            Labels::new("spam", "ham").unwrap(),
            &options,
            &mut |_| {},
        )
        .unwrap()
    }

    fn facts(data: Value) -> EventFacts {
        EventFacts {
            event_id: "e1".into(),
            event_type: "post_created".into(),
            occurred_at: None,
            actor_id: None,
            actor_created_at: None,
            actor_attributes: None,
            actor_prior_strikes: 0,
            actor_labels: Vec::new(),
            ip: None,
            device_id: None,
            subject_kind: None,
            subject_id: None,
            subject_text: None,
            subject_attributes: None,
            subject_labels: Vec::new(),
            subject_report_count: 0,
            data,
        }
    }

    #[test]
    fn live_models_score_the_text_and_keep_the_platforms_scores() {
        let live = LiveClassifiers::new([
            ("spam".to_string(), 3, model()),
            ("toxicity".to_string(), 1, model()),
        ]);
        assert_eq!(
            live.versions(),
            BTreeMap::from([("spam".into(), 3), ("toxicity".into(), 1)])
        );
        let mut spam = facts(json!({"text": "win free cash", "scores": {"toxicity": 0.25}}));
        live.add_scores(&mut spam);
        let score = spam.data["scores"]["spam"].as_f64().unwrap();
        assert!(score > 0.5, "{score}");
        assert_eq!(spam.data["scores"]["toxicity"], json!(0.25));

        let mut ham = facts(json!({"text": "see you at lunch"}));
        live.add_scores(&mut ham);
        assert!(ham.data["scores"]["spam"].as_f64().unwrap() < 0.5);

        // No text, or data that is not an object: nothing to score.
        let mut silent = facts(json!({"amount": 5}));
        live.add_scores(&mut silent);
        assert!(silent.data.get("scores").is_none());
        let mut odd = facts(json!("text"));
        live.add_scores(&mut odd);
        assert_eq!(odd.data, json!("text"));
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let text = format!("{}é", "a".repeat(TEXT_BYTES_MAX - 1));
        assert_eq!(prefix(&text, TEXT_BYTES_MAX).len(), TEXT_BYTES_MAX - 1);
        assert_eq!(prefix("short", TEXT_BYTES_MAX), "short");
        let live = LiveClassifiers::new([("spam".to_string(), 1, model())]);
        let mut long = facts(json!({ "text": text }));
        live.add_scores(&mut long);
        assert!(long.data["scores"]["spam"].is_number());
    }

    #[test]
    fn at_most_the_limit_of_models_are_kept() {
        let m = model();
        let many = (0..LIVE_CLASSIFIERS_MAX + 5).map(|i| (format!("m{i:02}"), 1, m.clone()));
        assert_eq!(
            LiveClassifiers::new(many).versions().len(),
            LIVE_CLASSIFIERS_MAX
        );
    }
}
