//! The facts rules read about one event: the event itself, its actor's
//! account, its subject, and what Warden already knows (strikes, labels,
//! reports). The host gathers them; this module turns them into rule
//! variables.

use std::sync::Arc;

use serde_json::Value as Json;
use warden_rules::{Value, Variables};

use warden_domain::Timestamp;

/// Variable names a rule can read, with what they hold.
pub const VARIABLES: &[(&str, &str)] = &[
    ("event_id", "the platform's id of the event"),
    (
        "event_type",
        "signup, login, post_created, message_sent, listing_created, payment, ...",
    ),
    (
        "timestamp",
        "when the event happened, seconds since the epoch",
    ),
    (
        "text",
        "the text of the event (data.text) or of its subject",
    ),
    ("urls", "URLs found in the text"),
    ("domains", "host names of those URLs, lowercase"),
    ("actor_id", "the acting account's id"),
    (
        "actor_age_days",
        "days since the acting account was created",
    ),
    (
        "actor_prior_strikes",
        "weight of the actor's strikes active now",
    ),
    ("actor_labels", "labels on the acting account now"),
    ("actor_country", "the actor's country attribute"),
    ("actor_language", "the actor's language attribute"),
    ("actor_followers", "the actor's follower_count attribute"),
    ("actor_verified", "the actor's verified attribute"),
    ("actor_tags", "the actor's tags attribute"),
    ("ip", "the IP address of the event"),
    ("device_id", "the device of the event"),
    ("subject_kind", "kind of the event's subject"),
    ("subject_id", "id of the event's subject"),
    ("subject_labels", "labels on the subject now"),
    ("subject_report_count", "reports received about the subject"),
    (
        "amount",
        "transaction amount (data.amount or the subject's amount attribute)",
    ),
    ("currency", "transaction currency"),
];

/// Everything about one event, gathered by the host.
#[derive(Debug, Clone, Default)]
pub struct EventFacts {
    /// The platform's event id.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// When it happened.
    pub occurred_at: Option<Timestamp>,
    /// Actor account id.
    pub actor_id: Option<String>,
    /// When the actor's account was created.
    pub actor_created_at: Option<Timestamp>,
    /// The actor account's attributes as the platform sent them.
    pub actor_attributes: Option<Json>,
    /// Weight of the actor's active strikes.
    pub actor_prior_strikes: i64,
    /// Labels on the actor.
    pub actor_labels: Vec<String>,
    /// IP address.
    pub ip: Option<String>,
    /// Device id.
    pub device_id: Option<String>,
    /// Subject kind.
    pub subject_kind: Option<String>,
    /// Subject id.
    pub subject_id: Option<String>,
    /// The subject's text.
    pub subject_text: Option<String>,
    /// The subject's attributes.
    pub subject_attributes: Option<Json>,
    /// Labels on the subject.
    pub subject_labels: Vec<String>,
    /// Reports about the subject.
    pub subject_report_count: i64,
    /// The event's data.
    pub data: Json,
}

impl EventFacts {
    /// The text rules look at: the event's `data.text`, else the subject's text.
    pub fn text(&self) -> Option<&str> {
        self.data
            .get("text")
            .and_then(Json::as_str)
            .or(self.subject_text.as_deref())
    }
}

/// What host functions see of the event being evaluated: its facts, its
/// time, and the velocity keys it has already counted (an event counts once
/// per key, however many rules ask).
pub struct EventScope {
    /// The facts.
    pub facts: Arc<EventFacts>,
    /// The event's time in seconds since the epoch (velocity windows use event time).
    pub at: i64,
    /// Velocity keys this event has been counted under.
    pub counted: std::cell::RefCell<Vec<String>>,
}

/// Facts turned into rule variables, computed once per event, and the pack's features,
/// computed at most once per event when first read.
pub struct EventVariables {
    scope: EventScope,
    now: Timestamp,
    event_type: Value,
    text: Option<Value>,
    urls: Value,
    domains: Value,
    pub(crate) features: std::cell::RefCell<crate::features::FeatureCache>,
}

fn string(text: &str) -> Value {
    Value::Str(Arc::from(text))
}

fn strings(items: &[String]) -> Value {
    Value::Array(Arc::new(items.iter().map(|s| string(s)).collect()))
}

/// A JSON value as a rule value (objects have no rule equivalent).
pub fn json_value(value: &Json) -> Option<Value> {
    Some(match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        },
        Json::String(s) => string(s),
        Json::Array(items) => Value::Array(Arc::new(items.iter().filter_map(json_value).collect())),
        Json::Object(_) => return None,
    })
}

/// A property's JSON value as a rule value: numbers and strings as JSON gives them, arrays
/// element by element (nested at most [`crate::limits::PROPERTY_ARRAY_DEPTH_MAX`] deep),
/// objects and anything deeper as `null` (the rule language has no objects; a rule names a
/// field inside them instead).
pub fn property_value(value: &Json, depth: usize) -> Value {
    match value {
        Json::Null | Json::Object(_) => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => n.as_f64().map_or(Value::Null, Value::Float),
        },
        Json::String(s) => string(s),
        Json::Array(_) if depth >= crate::limits::PROPERTY_ARRAY_DEPTH_MAX => Value::Null,
        Json::Array(items) => Value::Array(Arc::new(
            items.iter().map(|v| property_value(v, depth + 1)).collect(),
        )),
    }
}

/// The value at `path` (dot-separated keys, or indices into arrays) in `root`; `null` when
/// anything along the way is missing.
pub fn property(root: Option<&Json>, path: &str) -> Value {
    let mut current = match root {
        Some(root) => root,
        None => return Value::Null,
    };
    for segment in path.split('.') {
        let next = match current {
            Json::Object(map) => map.get(segment),
            Json::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return Value::Null,
        }
    }
    property_value(current, 0)
}

fn amount(value: &Json) -> Option<Value> {
    match value {
        Json::String(text) => text.trim().parse::<f64>().ok().map(Value::Float),
        Json::Number(n) => n.as_f64().map(Value::Float),
        _ => None,
    }
}

impl EventVariables {
    /// Prepares the variables of `facts` as of `now`.
    pub fn new(facts: Arc<EventFacts>, now: Timestamp) -> Self {
        let text = facts.text();
        let urls = text.map(crate::urls::extract_urls).unwrap_or_default();
        let mut domains: Vec<String> = urls
            .iter()
            .filter_map(|u| crate::urls::domain_of(u))
            .collect();
        domains.dedup();
        let text = text.map(string);
        let at = facts.occurred_at.unwrap_or(now).timestamp();
        let event_type = string(&facts.event_type);
        Self {
            scope: EventScope {
                facts,
                at,
                counted: Default::default(),
            },
            now,
            event_type,
            text,
            urls: Value::Array(Arc::new(urls.iter().map(|u| string(u)).collect())),
            domains: Value::Array(Arc::new(domains.iter().map(|d| string(d)).collect())),
            features: Default::default(),
        }
    }

    /// A feature's value if it was computed for this event (it is not computed here).
    pub fn computed_feature(&self, name: &str) -> Option<Value> {
        crate::features::computed_value(&self.features, name)
    }

    /// How many feature expressions ran for this event so far.
    pub fn feature_evaluations(&self) -> usize {
        self.features.borrow().evaluations
    }

    /// The time these variables were prepared for (the strike window of rule health
    /// counts in it).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The facts these variables were made from.
    pub fn facts(&self) -> &EventFacts {
        &self.scope.facts
    }

    fn actor_attribute(&self, key: &str) -> Option<Value> {
        self.scope
            .facts
            .actor_attributes
            .as_ref()?
            .get(key)
            .and_then(json_value)
    }
}

/// Each variable's position in [`VARIABLES`], which is also its index in the rule language
/// ([`crate::extensions`] declares them first, in this order).
mod var {
    pub const EVENT_ID: usize = 0;
    pub const EVENT_TYPE: usize = 1;
    pub const TIMESTAMP: usize = 2;
    pub const TEXT: usize = 3;
    pub const URLS: usize = 4;
    pub const DOMAINS: usize = 5;
    pub const ACTOR_ID: usize = 6;
    pub const ACTOR_AGE_DAYS: usize = 7;
    pub const ACTOR_PRIOR_STRIKES: usize = 8;
    pub const ACTOR_LABELS: usize = 9;
    pub const ACTOR_COUNTRY: usize = 10;
    pub const ACTOR_LANGUAGE: usize = 11;
    pub const ACTOR_FOLLOWERS: usize = 12;
    pub const ACTOR_VERIFIED: usize = 13;
    pub const ACTOR_TAGS: usize = 14;
    pub const IP: usize = 15;
    pub const DEVICE_ID: usize = 16;
    pub const SUBJECT_KIND: usize = 17;
    pub const SUBJECT_ID: usize = 18;
    pub const SUBJECT_LABELS: usize = 19;
    pub const SUBJECT_REPORT_COUNT: usize = 20;
    pub const AMOUNT: usize = 21;
    pub const CURRENCY: usize = 22;
}

impl EventVariables {
    /// The value of the variable at `index` in [`VARIABLES`].
    fn builtin(&self, index: usize) -> Option<Value> {
        let facts = &*self.scope.facts;
        match index {
            var::EVENT_ID => Some(string(&facts.event_id)),
            var::EVENT_TYPE => Some(self.event_type.clone()),
            var::TIMESTAMP => facts.occurred_at.map(|t| Value::Int(t.timestamp())),
            var::TEXT => self.text.clone(),
            var::URLS => Some(self.urls.clone()),
            var::DOMAINS => Some(self.domains.clone()),
            var::ACTOR_ID => facts.actor_id.as_deref().map(string),
            // Age when the event happened, so that replays see what the
            // rules saw live.
            var::ACTOR_AGE_DAYS => facts.actor_created_at.map(|created| {
                let at = facts.occurred_at.unwrap_or(self.now);
                Value::Float((at - created).num_seconds() as f64 / 86_400.0)
            }),
            var::ACTOR_PRIOR_STRIKES => Some(Value::Int(facts.actor_prior_strikes)),
            var::ACTOR_LABELS => Some(strings(&facts.actor_labels)),
            var::ACTOR_COUNTRY => self.actor_attribute("country"),
            var::ACTOR_LANGUAGE => self.actor_attribute("language"),
            var::ACTOR_FOLLOWERS => self.actor_attribute("follower_count"),
            var::ACTOR_VERIFIED => self.actor_attribute("verified"),
            var::ACTOR_TAGS => self.actor_attribute("tags"),
            var::IP => facts.ip.as_deref().map(string),
            var::DEVICE_ID => facts.device_id.as_deref().map(string),
            var::SUBJECT_KIND => facts.subject_kind.as_deref().map(string),
            var::SUBJECT_ID => facts.subject_id.as_deref().map(string),
            var::SUBJECT_LABELS => Some(strings(&facts.subject_labels)),
            var::SUBJECT_REPORT_COUNT => Some(Value::Int(facts.subject_report_count)),
            var::AMOUNT => facts.data.get("amount").and_then(amount).or_else(|| {
                facts
                    .subject_attributes
                    .as_ref()?
                    .get("amount")
                    .and_then(amount)
            }),
            var::CURRENCY => facts
                .data
                .get("currency")
                .or_else(|| facts.subject_attributes.as_ref()?.get("currency"))
                .and_then(Json::as_str)
                .map(string),
            _ => None,
        }
    }
}

impl Variables for EventVariables {
    fn get(&self, name: &str) -> Option<Value> {
        if let Some(index) = VARIABLES.iter().position(|(n, _)| *n == name) {
            return self.builtin(index);
        }
        let facts = &*self.scope.facts;
        if let Some(path) = name.strip_prefix("event.props.") {
            return Some(property(Some(&facts.data), path));
        }
        if let Some(path) = name.strip_prefix("subject.props.") {
            return Some(property(facts.subject_attributes.as_ref(), path));
        }
        if let Some(path) = name.strip_prefix("actor.props.") {
            return Some(property(facts.actor_attributes.as_ref(), path));
        }
        crate::features::feature_value(&self.features, name, self)
    }

    fn get_declared(&self, index: u32, name: &str) -> Option<Value> {
        let index = index as usize;
        if index < VARIABLES.len() {
            return self.builtin(index);
        }
        crate::features::feature_by_index(&self.features, index, name, self)
    }

    fn host_context(&self) -> Option<&dyn std::any::Any> {
        Some(&self.scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_positions_match_their_names() {
        let positions = [
            (var::EVENT_ID, "event_id"),
            (var::EVENT_TYPE, "event_type"),
            (var::TIMESTAMP, "timestamp"),
            (var::TEXT, "text"),
            (var::URLS, "urls"),
            (var::DOMAINS, "domains"),
            (var::ACTOR_ID, "actor_id"),
            (var::ACTOR_AGE_DAYS, "actor_age_days"),
            (var::ACTOR_PRIOR_STRIKES, "actor_prior_strikes"),
            (var::ACTOR_LABELS, "actor_labels"),
            (var::ACTOR_COUNTRY, "actor_country"),
            (var::ACTOR_LANGUAGE, "actor_language"),
            (var::ACTOR_FOLLOWERS, "actor_followers"),
            (var::ACTOR_VERIFIED, "actor_verified"),
            (var::ACTOR_TAGS, "actor_tags"),
            (var::IP, "ip"),
            (var::DEVICE_ID, "device_id"),
            (var::SUBJECT_KIND, "subject_kind"),
            (var::SUBJECT_ID, "subject_id"),
            (var::SUBJECT_LABELS, "subject_labels"),
            (var::SUBJECT_REPORT_COUNT, "subject_report_count"),
            (var::AMOUNT, "amount"),
            (var::CURRENCY, "currency"),
        ];
        assert_eq!(positions.len(), VARIABLES.len());
        for (index, name) in positions {
            assert_eq!(VARIABLES[index].0, name);
        }
        // And the rule language numbers them the same way.
        let ext = crate::extensions(Default::default(), Default::default());
        for (index, (name, _)) in VARIABLES.iter().enumerate() {
            assert_eq!(ext.variable_index(name), Some(index as u32), "{name}");
        }
    }
}
