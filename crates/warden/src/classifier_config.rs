//! `[classifier]` in `warden.toml`: which models learn from which
//! category's decisions, how often `serve` retrains them, how long a new
//! version stays in shadow before it may go live on its own, and how much
//! a live score weighs in a new case's priority.
//!
//! ```toml
//! [classifier]
//! retrain_every = "PT6H"   # off when empty (the default)
//! shadow_period = "P1D"    # promote by hand only when empty
//! priority_weight = 20     # priority points a score of 1.0 adds; 0: none
//!
//! [[classifier.models]]
//! name = "spam"            # as rules read it: classifier_score("spam")
//! category = "spam"        # the taxonomy code whose violations are positive
//! ```

use anyhow::{bail, Result};
use chrono::Duration;
use serde::{Deserialize, Serialize};

use warden_domain::duration::parse_iso8601_duration;

use crate::limits::{
    CLASSIFIER_MODELS_MAX as MODELS_MAX, CLASSIFIER_PRIORITY_WEIGHT_MAX as PRIORITY_WEIGHT_MAX,
    RETRAIN_EVERY_MIN_SECONDS,
};

/// `[classifier]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierSection {
    /// How often `serve` retrains the models from decisions (ISO 8601);
    /// no scheduled retrain when empty.
    pub retrain_every: String,
    /// How long a new version stays in shadow before the scheduled work
    /// promotes it (when it does no worse than the live one on the
    /// decisions of that period); only `warden classifier promote` when
    /// empty.
    pub shadow_period: String,
    /// Priority points the live score (0 to 1) of a new case's text adds
    /// to its priority, for the model of the case's category.
    pub priority_weight: u32,
    /// The models that learn from decisions.
    pub models: Vec<ModelSection>,
}

/// One `[[classifier.models]]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// The model's name.
    pub name: String,
    /// The taxonomy code whose violations are its positive class.
    pub category: String,
}

/// The checked schedule of the retrain worker.
#[derive(Debug, Clone)]
pub struct RetrainSchedule {
    /// Time between retrains.
    pub every: Duration,
    /// Time in shadow before automatic promotion, if any.
    pub shadow_period: Option<Duration>,
    /// `(name, category)` pairs.
    pub models: Vec<(String, String)>,
}

fn duration(field: &str, text: &str) -> Result<Option<Duration>> {
    if text.is_empty() {
        return Ok(None);
    }
    parse_iso8601_duration(text)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("classifier.{field}: {e}"))
}

impl ClassifierSection {
    /// Checks the section.
    pub fn check(&self) -> Result<()> {
        if let Some(every) = duration("retrain_every", &self.retrain_every)? {
            if every.num_seconds() < RETRAIN_EVERY_MIN_SECONDS {
                bail!(
                    "classifier.retrain_every must be at least {RETRAIN_EVERY_MIN_SECONDS} seconds"
                );
            }
        }
        duration("shadow_period", &self.shadow_period)?;
        if self.priority_weight > PRIORITY_WEIGHT_MAX {
            bail!("classifier.priority_weight must be at most {PRIORITY_WEIGHT_MAX}");
        }
        if self.models.len() > MODELS_MAX {
            bail!("classifier.models names at most {MODELS_MAX} models");
        }
        for (i, model) in self.models.iter().enumerate() {
            warden_classifier::check_model_name(&model.name)
                .map_err(|e| anyhow::anyhow!("classifier.models[{i}].{e}"))?;
            warden_domain::ids::TaxonomyCode::parse(&model.category)
                .map_err(|e| anyhow::anyhow!("classifier.models[{i}].category {e}"))?;
            if self.models[..i]
                .iter()
                .any(|m| m.name == model.name || m.category == model.category)
            {
                bail!("classifier.models[{i}]: each model and each category is named once");
            }
        }
        Ok(())
    }

    /// How the application weighs live scores in case priority.
    pub fn priority(&self) -> warden_app::case_scores::ClassifierPriority {
        warden_app::case_scores::ClassifierPriority {
            weight: self.priority_weight,
            models: self
                .models
                .iter()
                .map(|m| (m.category.clone(), m.name.clone()))
                .collect(),
        }
    }

    /// The retrain worker's schedule, when `retrain_every` is set and
    /// models are named.
    pub fn schedule(&self) -> Result<Option<RetrainSchedule>> {
        let Some(every) = duration("retrain_every", &self.retrain_every)? else {
            return Ok(None);
        };
        if self.models.is_empty() {
            return Ok(None);
        }
        Ok(Some(RetrainSchedule {
            every,
            shadow_period: duration("shadow_period", &self.shadow_period)?,
            models: self
                .models
                .iter()
                .map(|m| (m.name.clone(), m.category.clone()))
                .collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(toml_text: &str) -> ClassifierSection {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn off_by_default_and_checked() {
        let default = ClassifierSection::default();
        default.check().unwrap();
        assert!(default.schedule().unwrap().is_none());

        let on = section(
            "retrain_every = \"PT1H\"\nshadow_period = \"P1D\"\npriority_weight = 20\n[[models]]\nname = \"spam\"\ncategory = \"spam\"\n",
        );
        on.check().unwrap();
        let schedule = on.schedule().unwrap().unwrap();
        assert_eq!(schedule.every, Duration::hours(1));
        assert_eq!(schedule.shadow_period, Some(Duration::days(1)));
        assert_eq!(schedule.models, [("spam".to_string(), "spam".to_string())]);

        for (bad, says) in [
            ("retrain_every = \"PT10S\"", "at least 60 seconds"),
            ("shadow_period = \"tomorrow\"", "classifier.shadow_period"),
            ("priority_weight = 5000", "at most 1000"),
            ("[[models]]\nname = \"Spam!\"\ncategory = \"spam\"", "classifier.models[0].name"),
            ("[[models]]\nname = \"a\"\ncategory = \"spam\"\n[[models]]\nname = \"b\"\ncategory = \"spam\"", "named once"),
        ] {
            let error = section(bad).check().unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
