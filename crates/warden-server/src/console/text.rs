//! Text as the console shows it: times and durations in words, JSON values
//! in a line, attributes with personal data masked. The masking itself is
//! the domain's ([`warden_domain::privacy`]), the same for every surface;
//! this module only presents it.
//!
//! Platform content is adversarial; none of this produces HTML. The
//! templates escape everything they print.

use chrono::Duration;
use serde_json::Value;

use warden_domain::privacy::{is_personal_key, mask_text, mask_value, MASKED};
use warden_domain::Timestamp;

/// A duration in words: `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`.
pub fn span(duration: Duration) -> String {
    let seconds = duration.num_seconds().abs();
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    if seconds < 60 {
        format!("{seconds} s")
    } else if seconds < 3600 {
        format!("{minutes} min")
    } else if seconds < 86_400 {
        if minutes == 0 {
            format!("{hours} h")
        } else {
            format!("{hours} h {minutes} min")
        }
    } else if hours == 0 {
        format!("{days} d")
    } else {
        format!("{days} d {hours} h")
    }
}

/// How long ago `at` was: `12 min ago`, `just now`.
pub fn ago(now: Timestamp, at: Timestamp) -> String {
    let elapsed = now - at;
    if elapsed < Duration::seconds(30) {
        "just now".into()
    } else {
        format!("{} ago", span(elapsed))
    }
}

/// How long until `at`: `in 3 h 20 min`, or `12 min overdue`.
pub fn until(now: Timestamp, at: Timestamp) -> String {
    let left = at - now;
    if left >= Duration::zero() {
        format!("in {}", span(left))
    } else {
        format!("{} overdue", span(left))
    }
}

/// A time for people: `2026-11-20 10:04 UTC`.
pub fn stamp(at: Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A time for machines (`<time datetime>` and the countdown script).
pub fn iso(at: Timestamp) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An ISO 8601 duration in words, for action durations: `P7D` is `7 d`.
pub fn duration_words(seconds: i64) -> String {
    span(Duration::seconds(seconds))
}

/// A JSON value in one line: strings as they are, lists joined, subject
/// references as `kind id`, anything else as compact JSON.
pub fn value_line(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "none".into(),
        Value::Array(items) => items.iter().map(value_line).collect::<Vec<_>>().join(", "),
        Value::Object(map) => match (map.get("kind"), map.get("id")) {
            (Some(Value::String(kind)), Some(Value::String(id))) if map.len() == 2 => {
                format!("{kind} {id}")
            }
            _ => value.to_string(),
        },
    }
}

/// One attribute of a subject as the console shows it.
pub struct Attribute {
    /// The key.
    pub key: String,
    /// The value in a line, masked when it is personal data not revealed.
    pub value: String,
    /// Whether the value is masked.
    pub masked: bool,
}

/// A subject's attributes in order, personal data masked unless `reveal`:
/// a value under a personal key shows as `[masked]` (`[masked] ×3` for a
/// list of three), anything else masked by key and pattern at any depth.
pub fn attributes(attributes: &Value, reveal: bool) -> Vec<Attribute> {
    let Value::Object(map) = attributes else {
        return Vec::new();
    };
    map.iter()
        .map(|(key, value)| {
            if reveal {
                return Attribute {
                    key: key.clone(),
                    value: value_line(value),
                    masked: false,
                };
            }
            let (key_shown, key_masked) = shown(key, false);
            if is_personal_key(key) && !value.is_null() && !value.is_boolean() {
                let count = value.as_array().map_or(1, Vec::len);
                return Attribute {
                    key: key_shown,
                    value: if count > 1 {
                        format!("{MASKED} ×{count}")
                    } else {
                        MASKED.to_string()
                    },
                    masked: true,
                };
            }
            let masked_value = mask_value(value);
            Attribute {
                key: key_shown,
                masked: key_masked || masked_value != *value,
                value: value_line(&masked_value),
            }
        })
        .collect()
}

/// Free text as the page shows it: personal data masked unless `reveal`;
/// says whether anything was masked. The masking is the domain's, the same
/// as the API's ([`warden_domain::privacy::mask_text`]).
pub fn shown(text: &str, reveal: bool) -> (String, bool) {
    if reveal {
        (text.to_string(), false)
    } else {
        let found = mask_text(text);
        (found.value, found.masked)
    }
}

/// Text cut to `chars_max` characters, with an ellipsis when cut.
pub fn snippet(text: &str, chars_max: usize) -> String {
    let mut out: String = text.chars().take(chars_max).collect();
    if text.chars().count() > chars_max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn spans_read_like_words() {
        assert_eq!(span(Duration::seconds(45)), "45 s");
        assert_eq!(span(Duration::seconds(12 * 60 + 5)), "12 min");
        assert_eq!(span(Duration::minutes(200)), "3 h 20 min");
        assert_eq!(span(Duration::hours(52)), "2 d 4 h");
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
            .unwrap();
        assert_eq!(until(now, now + Duration::minutes(5)), "in 5 min");
        assert_eq!(until(now, now - Duration::minutes(5)), "5 min overdue");
        assert_eq!(ago(now, now - Duration::hours(1)), "1 h ago");
        assert_eq!(stamp(now), "2026-11-20 10:00 UTC");
    }

    #[test]
    fn text_is_shown_masked_unless_revealed() {
        assert_eq!(
            shown("mail jane@example.org", false),
            ("mail [email masked]".to_string(), true)
        );
        assert_eq!(
            shown("mail jane@example.org", true),
            ("mail jane@example.org".to_string(), false)
        );
        assert_eq!(
            shown("nothing here", false),
            ("nothing here".to_string(), false)
        );
    }

    #[test]
    fn attributes_mask_personal_keys() {
        let shown = attributes(
            &serde_json::json!({"email": "a@b.example", "ips": ["1.2.3.4", "5.6.7.8"], "country": "DE", "payer": {"kind": "account", "id": "acct_1"}}),
            false,
        );
        let by_key = |k: &str| shown.iter().find(|a| a.key == k).unwrap();
        assert_eq!(by_key("email").value, "[masked]");
        assert_eq!(by_key("ips").value, "[masked] ×2");
        assert_eq!(by_key("country").value, "DE");
        assert_eq!(by_key("payer").value, "account acct_1");
        let nested = attributes(
            &serde_json::json!({"Contact": {"E_Mail": "x@example.org", "city": "Berlin"}, "bio": "call +44 20 7946 0958"}),
            false,
        );
        assert_eq!(nested[0].value, r#"{"E_Mail":"[masked]","city":"Berlin"}"#);
        assert!(nested[0].masked);
        assert_eq!(nested[1].value, "call [phone masked]");
        let revealed = attributes(&serde_json::json!({"email": "a@b.example"}), true);
        assert_eq!(revealed[0].value, "a@b.example");
    }
}
