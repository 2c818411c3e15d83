//! Text as the console shows it: times and durations in words, JSON values
//! in a line, and personal data masked in free text.
//!
//! Platform content is adversarial; none of this produces HTML. The
//! templates escape everything they print.

use std::sync::LazyLock;

use chrono::Duration;
use regex::Regex;
use serde_json::Value;

use warden_domain::Timestamp;

use crate::wire::{MASKED, PII_ATTRIBUTES};

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

/// A subject's attributes in order, personal data masked unless `reveal`.
pub fn attributes(attributes: &Value, reveal: bool) -> Vec<Attribute> {
    let Value::Object(map) = attributes else {
        return Vec::new();
    };
    map.iter()
        .map(|(key, value)| {
            let personal = PII_ATTRIBUTES.contains(&key.as_str());
            if personal && !reveal && !value.is_null() {
                let count = value.as_array().map_or(1, Vec::len);
                Attribute {
                    key: key.clone(),
                    value: if count > 1 {
                        format!("{MASKED} ×{count}")
                    } else {
                        MASKED.to_string()
                    },
                    masked: true,
                }
            } else {
                let line = value_line(value);
                let (value, masked) = if reveal {
                    (line, false)
                } else {
                    mask_text(&line)
                };
                Attribute {
                    key: key.clone(),
                    value,
                    masked,
                }
            }
        })
        .collect()
}

/// Personal data that can sit in free text, in the order it is masked.
static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b",
            "[email masked]",
        ),
        // Card numbers: 13 to 19 digits, maybe grouped; checked with Luhn below.
        (r"\b\d(?:[ -]?\d){12,18}\b", "[card masked]"),
        (
            r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b",
            "[IP masked]",
        ),
        // IPv6 candidates; checked with the standard parser below.
        (r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}", "[IPv6 masked]"),
        // Phone numbers: a leading + or at least nine digits in groups.
        (
            r"(?:\+\d[\d ().-]{6,}\d|\b\d[\d ().-]{7,}\d\b)",
            "[phone masked]",
        ),
    ]
    .into_iter()
    .map(|(pattern, label)| {
        (
            Regex::new(pattern).expect("masking patterns compile"),
            label,
        )
    })
    .collect()
});

/// Masks e-mail addresses, card numbers, IP addresses and phone numbers in
/// free text; says whether anything was masked.
pub fn mask_text(text: &str) -> (String, bool) {
    let mut out = text.to_string();
    let mut masked = false;
    for (pattern, label) in PATTERNS.iter() {
        let replaced = pattern.replace_all(&out, |caps: &regex::Captures<'_>| {
            let found = &caps[0];
            let digits: Vec<u32> = found.chars().filter_map(|c| c.to_digit(10)).collect();
            let keep = match *label {
                "[card masked]" => !luhn(&digits),
                "[IPv6 masked]" => found.parse::<std::net::Ipv6Addr>().is_err(),
                "[phone masked]" => {
                    !(found.starts_with('+') && digits.len() >= 8 || digits.len() >= 9)
                        || digits.len() > 15
                        || looks_like_date(found)
                }
                _ => false,
            };
            if keep {
                found.to_string()
            } else {
                masked = true;
                label.replace("IPv6", "IP")
            }
        });
        out = replaced.into_owned();
    }
    (out, masked)
}

// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#[allow(clippy::manual_is_multiple_of)]
fn luhn(digits: &[u32]) -> bool {
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                *d
            }
        })
        .sum();
    sum % 10 == 0
}

fn looks_like_date(text: &str) -> bool {
    static DATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}").expect("the date pattern compiles")
    });
    DATE.is_match(text.trim())
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
    fn personal_data_in_text_is_masked() {
        let (text, masked) = mask_text(
            "mail me at jane.doe@example.com or call +44 20 7946 0958, card 4111 1111 1111 1111, from 203.0.113.7",
        );
        assert!(masked);
        assert_eq!(
            text,
            "mail me at [email masked] or call [phone masked], card [card masked], from [IP masked]"
        );
        for ordinary in [
            "Make $500/day from home",
            "Send 0.1 BTC to receive 1 BTC back",
            "Vintage road bike, 56cm frame",
            "posted on 2026-11-20 at 10:04",
            "order 12345",
        ] {
            assert_eq!(
                mask_text(ordinary),
                (ordinary.to_string(), false),
                "{ordinary}"
            );
        }
        assert_eq!(
            mask_text("from fe80::1ff:fe23:4567:890a").0,
            "from [IP masked]"
        );
        assert_eq!(mask_text("at 12:30:45 today").0, "at 12:30:45 today");
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
        let revealed = attributes(&serde_json::json!({"email": "a@b.example"}), true);
        assert_eq!(revealed[0].value, "a@b.example");
    }
}
