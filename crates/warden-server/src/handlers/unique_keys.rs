//! JSON parsing that refuses an object naming a key twice.
//!
//! RFC 8259 leaves duplicate names undefined, and serde_json keeps the last
//! one silently, so `{"text": "harmless", "text": "abuse"}` would be read
//! differently by Warden and by whatever checked the body before it. This
//! parser builds the same [`Value`] as `serde_json::from_str` in the same
//! single pass, but checks each key against the ones its object already
//! has (the insert the map does anyway), and on a repeat stops with the
//! key's path, written as field errors are (`rationale.policy`,
//! `actions[1].type`).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use warden_domain::FieldError;

use crate::error::AppError;

/// Parses `text` as one JSON document whose objects name each key once.
pub fn parse(text: &str) -> Result<Value, AppError> {
    let repeated = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = UniqueValue {
        at: &At::Root,
        repeated: &repeated,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, repeated.into_inner()) {
        (_, Some(path)) => Err(AppError::MalformedFields(
            FieldError::new(
                path,
                "is given twice in one object; each key may appear once",
            )
            .into(),
        )),
        (Ok(value), None) => Ok(value),
        (Err(error), None) => Err(AppError::Malformed(format!(
            "the body is not valid JSON: {error}"
        ))),
    }
}

/// Where a value sits in the document: a linked list on the stack, turned
/// into text only when a key repeats.
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root => Ok(()),
            At::Key(At::Root, key) => f.write_str(key),
            At::Key(parent, key) => write!(f, "{parent}.{key}"),
            At::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// Builds a [`Value`] at `at`, recording the path of the first repeated key.
#[derive(Clone, Copy)]
struct UniqueValue<'a> {
    at: &'a At<'a>,
    repeated: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for UniqueValue<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so every parsed float is finite.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let at = At::Index(self.at, items.len());
            let seed = UniqueValue {
                at: &at,
                repeated: self.repeated,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = At::Key(self.at, &key);
            if object.contains_key(&key) {
                *self.repeated.borrow_mut() = Some(at.to_string());
                return Err(de::Error::custom(format_args!("duplicate key `{at}`")));
            }
            let value = map.next_value_seed(UniqueValue {
                at: &at,
                repeated: self.repeated,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::too_many_lines)] // Tests read as whole stories.
    use super::*;

    fn repeated(text: &str) -> Option<String> {
        match parse(text) {
            Err(AppError::MalformedFields(errors)) => Some(errors.0[0].field.clone()),
            Err(other) => panic!("{text}: {other:?}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn a_repeated_key_is_named_by_its_path() {
        assert_eq!(
            repeated(r#"{"text": "a", "text": "b"}"#).as_deref(),
            Some("text")
        );
        assert_eq!(
            repeated(r#"{"rationale": {"policy": "a", "facts": "f", "policy": "b"}}"#).as_deref(),
            Some("rationale.policy")
        );
        assert_eq!(
            repeated(r#"{"actions": [{"type": "warn"}, {"type": "ban", "type": "warn"}]}"#)
                .as_deref(),
            Some("actions[1].type")
        );
        assert_eq!(
            repeated(r#"[[{"a": 1, "a": 1}]]"#).as_deref(),
            Some("[0][0].a")
        );
    }

    #[test]
    fn the_same_key_in_different_objects_is_fine() {
        let text = r#"{"a": {"id": 1}, "b": {"id": 2}, "list": [{"id": 3}, {"id": 4}], "id": 5}"#;
        assert_eq!(repeated(text), None);
        assert_eq!(
            parse(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn values_are_what_serde_json_reads() {
        let text = r#"{"s": "é\n\u0000", "i": -3, "u": 18446744073709551615, "f": 1.5e3,
            "t": true, "n": null, "e": [], "o": {}}"#;
        assert_eq!(
            parse(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn syntax_errors_stay_malformed_bodies() {
        for text in ["", "{", r#"{"a": 1} x"#, r#"{"a" 1}"#, "[1,]"] {
            assert!(
                matches!(parse(text), Err(AppError::Malformed(_))),
                "{text:?}"
            );
        }
    }

    /// What the check costs a 1,000-line NDJSON batch of reports through
    /// the router (SQLite, `synchronous = FULL`): the batch's time against
    /// the difference between reading its lines with and without the check.
    /// Runs with `WARDEN_BENCH_TESTS=1`; numbers mean something in release
    /// mode (`cargo test --release -p warden-server --lib batch_pays`).
    #[tokio::test]
    async fn a_batch_pays_little_for_the_check() {
        use std::hint::black_box;
        use std::sync::Arc;
        use std::time::{Duration, Instant};

        use axum::body::Body;
        use axum::http::Request;
        use tower::ServiceExt;
        use warden_domain::access::{Role, Scope};
        use warden_store::prelude::*;
        use warden_store::{Actor, CasePolicy, SqlStore, SqliteOptions};

        use crate::auth::{new_token, secret_hash};
        use crate::wire::ReportBody;
        use crate::{router, AppState, ServerSettings};

        if std::env::var("WARDEN_BENCH_TESTS").as_deref() != Ok("1") {
            eprintln!("benchmark skipped: set WARDEN_BENCH_TESTS=1");
            return;
        }
        const LINES: usize = 1_000;
        const BATCHES: usize = 10;
        let batch = |round: usize| -> Vec<String> {
            (0..LINES)
                .map(|i| {
                    serde_json::json!({"id": format!("rep_{round}_{i}"),
                        "subject": {"kind": "content", "id": format!("post_{}", i % 200)},
                        "reason": "spam", "source": "user_report",
                        "reporter": {"kind": "account", "id": format!("acct_{i}")},
                        "text": "buy followers at the link in my profile, cheap and fast",
                        "language": "en", "created_at": "2026-11-20T10:02:00Z"})
                    .to_string()
                })
                .collect()
        };

        // Reading the lines, with the check and without (what serde_json did).
        let lines = batch(0);
        let read = |check: bool| {
            let started = Instant::now();
            for _ in 0..20 {
                for line in &lines {
                    let value = if check {
                        parse(line).unwrap()
                    } else {
                        serde_json::from_str::<Value>(line).unwrap()
                    };
                    let body: ReportBody = serde_path_to_error::deserialize(value).unwrap();
                    black_box(body);
                }
            }
            started.elapsed() / 20
        };
        read(true);
        let mut with = Duration::MAX;
        let mut without = Duration::MAX;
        for _ in 0..5 {
            without = without.min(read(false));
            with = with.min(read(true));
        }

        // The batch through the router, store included.
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqlStore::open_sqlite(&dir.path().join("w.db"), SqliteOptions::default())
                .await
                .unwrap(),
        );
        let now = chrono::Utc::now();
        let user = store
            .create_user(&Actor::system(), "platform", Role::Admin, "x", now)
            .await
            .unwrap();
        let token = new_token();
        store
            .create_token(
                &Actor::system(),
                user.id,
                "ingest",
                Scope::Ingest,
                &secret_hash(&token),
                now,
            )
            .await
            .unwrap();
        let app = router(AppState::new(
            store,
            CasePolicy::default(),
            ServerSettings::default(),
        ));
        let mut batches = Vec::new();
        for round in 1..=BATCHES {
            let body = batch(round).join("\n");
            let request = Request::post("/api/v1/reports")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/x-ndjson")
                .body(Body::from(body))
                .unwrap();
            let started = Instant::now();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            batches.push(started.elapsed());
        }
        batches.sort();
        let median = batches[BATCHES / 2];
        let cost = with.saturating_sub(without);
        let share = cost.as_secs_f64() / median.as_secs_f64();
        eprintln!(
            "{LINES} lines read: {without:?} without the check, {with:?} with it; \
             a {LINES}-line batch through the router: median {median:?} of {BATCHES} \
             (fastest {:?}); the check costs {:.2}% of a batch",
            batches[0],
            share * 100.0
        );
        assert!(
            share < 0.05,
            "the check costs {:.2}% of a batch",
            share * 100.0
        );
    }
}
