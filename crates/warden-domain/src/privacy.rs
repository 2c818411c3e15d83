//! Personal data in platform content, masked for everyone who has not
//! revealed it. One masking, used by every surface that shows content: the
//! API's answers, the console's pages, exports and statements of reasons.
//!
//! Two functions:
//!
//! - [`mask_text`] masks personal data found **by pattern** in free text:
//!   e-mail addresses (also written `name [at] host [dot] tld`), payment card
//!   numbers (13–19 digits passing the Luhn check), IBANs (passing the
//!   ISO 7064 mod-97 check), IPv4 and IPv6 addresses, and phone numbers (a
//!   leading `+` and at least 8 digits, or at least 9 digits in groups; dates
//!   and numbers of more than 15 digits are not phone numbers).
//! - [`mask_value`] masks a JSON value at any depth: a value under a
//!   **personal key** ([`is_personal_key`]) is replaced whole, and every other
//!   string (object keys included) goes through [`mask_text`].
//!
//! A key is personal when, lowercased and split into words at `_`, `-`, `.`,
//! spaces and camelCase humps, one of its words is a personal word (`email`,
//! `emails`, `phone`, `phones`, `mobile`, `telephone`, `msisdn`, `ip`, `ips`,
//! `ipv4`, `ipv6`, `address`, `addresses`, `iban`, `ssn`, `passport`, `dob`,
//! `latitude`, `longitude`) or one, two or three neighbouring words written
//! together are a personal term (`email`, `mail`, `deviceid`, `deviceids`,
//! `realname`, `fullname`, `legalname`, `firstname`, `lastname`, `surname`,
//! `birthdate`, `dateofbirth`, `nationalid`, `cardnumber`, `cardlast4`,
//! `paymentfingerprint`, `geolocation`, `postcode`, `postalcode`, `zipcode`,
//! `taxid`). So `Email`, `e_mail`, `E-Mail`, `contactEmail`, `email_hash`,
//! `ip_address`, `last_login_ip`, `device_ids` and `card_last4` are personal;
//! `zip`, `ship_to_country`, `device_type` and `display_name` are not.
//! Display names and user handles are what the platform shows publicly, so
//! they stay visible.
//!
//! Under a personal key, `null` and booleans stay (they identify no one),
//! an array keeps its length with every item masked (so an analyst still
//! sees "three IP addresses"), and anything else becomes [`MASKED`]. Numbers
//! elsewhere are not masked by pattern: ids, amounts and epoch times are
//! numbers too. A value nested deeper than [`MASK_DEPTH_MAX`] is masked whole.
//!
//! Revealing is not here: it needs the `pii.reveal` permission, a reason and
//! an audit record, checked where the request arrives.

use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::limits::MASK_DEPTH_MAX;

/// What replaces a value under a personal key.
pub const MASKED: &str = "[masked]";

/// A value after masking, and whether anything in it was masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked<T> {
    /// The value with personal data replaced.
    pub value: T,
    /// Whether anything was replaced.
    pub masked: bool,
}

/// The kinds of personal data found by pattern, in the order they are masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Email,
    Iban,
    Card,
    Ipv4,
    Ipv6,
    Phone,
}

impl Found {
    /// What the text shows instead.
    fn label(self) -> &'static str {
        match self {
            Found::Email => "[email masked]",
            Found::Iban => "[IBAN masked]",
            Found::Card => "[card masked]",
            Found::Ipv4 | Found::Ipv6 => "[IP masked]",
            Found::Phone => "[phone masked]",
        }
    }

    /// Whether a match of the pattern really is personal data.
    fn confirms(self, found: &str) -> bool {
        let digits: Vec<u32> = found.chars().filter_map(|c| c.to_digit(10)).collect();
        match self {
            Found::Email | Found::Ipv4 => true,
            Found::Iban => iban_checks(found),
            Found::Card => luhn(&digits),
            Found::Ipv6 => {
                found.parse::<Ipv6Addr>().is_ok()
                    && found.split(':').filter(|group| !group.is_empty()).count() >= 3
            }
            Found::Phone => {
                (found.starts_with('+') && digits.len() >= 8 || digits.len() >= 9)
                    && digits.len() <= 15
                    && !looks_like_date(found)
            }
        }
    }
}

/// Personal data that can sit in free text.
static PATTERNS: LazyLock<Vec<(Regex, Found)>> = LazyLock::new(|| {
    [
        (
            r"(?i)[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}",
            Found::Email,
        ),
        (
            r"(?i)[\p{L}\p{N}._%+-]+\s*(?:\[at\]|\(at\)|\{at\})\s*[\p{L}\p{N}-]+(?:\s*(?:\.|\[dot\]|\(dot\)|\{dot\})\s*[\p{L}\p{N}-]+)+",
            Found::Email,
        ),
        (
            r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
            Found::Iban,
        ),
        (r"\b\d(?:[ -]?\d){12,18}\b", Found::Card),
        (
            r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b",
            Found::Ipv4,
        ),
        (
            r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}",
            Found::Ipv6,
        ),
        (
            r"(?:\+\d[\d ().-]{6,}\d|\b\d[\d ().-]{7,}\d\b)",
            Found::Phone,
        ),
    ]
    .into_iter()
    .map(|(pattern, found)| {
        // The patterns are constants, compiled and exercised by the tests.
        // cannot fail: literal patterns, compiled by the tests.
        let regex = Regex::new(pattern).expect("the masking patterns compile");
        (regex, found)
    })
    .collect()
});

/// Masks e-mail addresses, IBANs, card numbers, IP addresses and phone
/// numbers in free text; says whether anything was masked.
pub fn mask_text(text: &str) -> Masked<String> {
    let mut out = text.to_string();
    let mut masked = false;
    for (pattern, found) in PATTERNS.iter() {
        if !pattern.is_match(&out) {
            continue;
        }
        let replaced = pattern.replace_all(&out, |caps: &regex::Captures<'_>| {
            let candidate = &caps[0];
            if found.confirms(candidate) {
                masked = true;
                found.label().to_string()
            } else {
                candidate.to_string()
            }
        });
        out = replaced.into_owned();
    }
    Masked { value: out, masked }
}

/// Masks optional free text.
pub fn mask_text_opt(text: Option<&str>) -> Option<String> {
    text.map(|t| mask_text(t).value)
}

/// Personal words: a key with one of these among its words is personal.
const PERSONAL_WORDS: &[&str] = &[
    "email",
    "emails",
    "phone",
    "phones",
    "mobile",
    "telephone",
    "msisdn",
    "ip",
    "ips",
    "ipv4",
    "ipv6",
    "address",
    "addresses",
    "iban",
    "ssn",
    "passport",
    "dob",
    "latitude",
    "longitude",
];

/// Personal terms: a key with one, two or three neighbouring words that
/// written together are one of these is personal.
const PERSONAL_TERMS: &[&str] = &[
    "email",
    "mail",
    "deviceid",
    "deviceids",
    "realname",
    "fullname",
    "legalname",
    "firstname",
    "lastname",
    "surname",
    "birthdate",
    "dateofbirth",
    "nationalid",
    "cardnumber",
    "cardlast4",
    "paymentfingerprint",
    "geolocation",
    "postcode",
    "postalcode",
    "zipcode",
    "taxid",
];

/// A key's words: split at anything but letters and digits and at camelCase
/// humps, lowercased.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether values under `key` are personal data (see the module documentation).
pub fn is_personal_key(key: &str) -> bool {
    let words = key_words(key);
    if words.iter().any(|w| PERSONAL_WORDS.contains(&w.as_str())) {
        return true;
    }
    (1..=3).any(|n| {
        words
            .windows(n)
            .any(|window| PERSONAL_TERMS.contains(&window.concat().as_str()))
    })
}

/// Masks personal data in a JSON value at any depth: by key, and by pattern
/// in every string.
pub fn mask_value(value: &Value) -> Value {
    mask_at(value, 0)
}

fn mask_at(value: &Value, depth: usize) -> Value {
    if depth >= MASK_DEPTH_MAX {
        return Value::String(MASKED.into());
    }
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        Value::String(text) => Value::String(mask_text(text).value),
        Value::Array(items) => Value::Array(items.iter().map(|v| mask_at(v, depth + 1)).collect()),
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, item) in map {
                let shown = if is_personal_key(key) {
                    mask_whole(item, depth + 1)
                } else {
                    mask_at(item, depth + 1)
                };
                let mut name = mask_text(key).value;
                // Two keys masked to one name stay two entries.
                let mut n = 2;
                while out.contains_key(&name) {
                    name = format!("{} #{n}", mask_text(key).value);
                    n += 1;
                }
                out.insert(name, shown);
            }
            Value::Object(out)
        }
    }
}

/// A value under a personal key: replaced whole, lists item by item.
fn mask_whole(value: &Value, depth: usize) -> Value {
    match value {
        Value::Null | Value::Bool(_) => value.clone(),
        Value::Array(items) if depth < MASK_DEPTH_MAX => {
            Value::Array(items.iter().map(|v| mask_whole(v, depth + 1)).collect())
        }
        _ => Value::String(MASKED.into()),
    }
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

/// The ISO 13616 check: the country and check digits moved to the end,
/// letters as numbers (A = 10), the whole number mod 97 is 1.
fn iban_checks(text: &str) -> bool {
    let compact: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let mut remainder: u32 = 0;
    for c in compact[4..].iter().chain(compact[..4].iter()) {
        let Some(value) = c.to_digit(36) else {
            return false;
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

fn looks_like_date(text: &str) -> bool {
    static DATE: LazyLock<Regex> = LazyLock::new(|| {
        // A constant pattern, exercised by the tests.
        // cannot fail: a literal pattern, compiled by the tests.
        Regex::new(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}").expect("the date pattern compiles")
    });
    DATE.is_match(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn masked(text: &str) -> String {
        mask_text(text).value
    }

    #[test]
    fn personal_data_in_text_is_masked() {
        let found = mask_text(
            "mail me at jane.doe@example.com or call +44 20 7946 0958, card 4111 1111 1111 1111, from 203.0.113.7",
        );
        assert!(found.masked);
        assert_eq!(
            found.value,
            "mail me at [email masked] or call [phone masked], card [card masked], from [IP masked]"
        );
    }

    #[test]
    fn every_pattern_is_masked() {
        for (text, label) in [
            ("JANE@EXAMPLE.ORG", "[email masked]"),
            ("jöhn.müller@exämple.de", "[email masked]"),
            ("jane [at] example [dot] org", "[email masked]"),
            ("jane(at)example.org", "[email masked]"),
            ("4111-1111-1111-1111", "[card masked]"),
            ("5500 0000 0000 0004", "[card masked]"),
            ("378282246310005", "[card masked]"),
            ("DE89 3704 0044 0532 0130 00", "[IBAN masked]"),
            ("GB82WEST12345698765432", "[IBAN masked]"),
            ("192.168.0.1", "[IP masked]"),
            ("2001:db8::8a2e:370:7334", "[IP masked]"),
            ("fe80::1ff:fe23:4567:890a", "[IP masked]"),
            ("2001:0db8:0000:0000:0000:ff00:0042:8329", "[IP masked]"),
            ("+1 (415) 555-0100", "[phone masked]"),
            ("+4915123456789", "[phone masked]"),
            ("030 1234 5678", "[phone masked]"),
        ] {
            let found = mask_text(&format!("x {text} y"));
            assert!(found.masked, "{text}");
            assert_eq!(found.value, format!("x {label} y"), "{text}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for ordinary in [
            "Make $500/day from home",
            "Send 0.1 BTC to receive 1 BTC back",
            "Vintage road bike, 56cm frame",
            "posted on 2026-11-20 at 10:04",
            "order 12345",
            "at 12:30:45 today",
            "use std::fs::read in Rust",
            "card 4111 1111 1111 1112 fails Luhn",
            "DE00 3704 0044 0532 0130 00 fails mod 97",
            "version 1.2.3",
            "ratio 16:9",
            "@handle on the platform",
            "a@b",
            "",
        ] {
            assert_eq!(
                mask_text(ordinary),
                Masked {
                    value: ordinary.to_string(),
                    masked: false
                },
                "{ordinary}"
            );
        }
    }

    #[test]
    fn text_with_control_characters_is_masked_around_them() {
        assert_eq!(
            masked("a\u{0}jane@example.org\u{0}b\u{202E}"),
            "a\u{0}[email masked]\u{0}b\u{202E}"
        );
    }

    #[test]
    fn personal_keys_in_any_spelling() {
        for key in [
            "email",
            "Email",
            "EMAIL",
            "e_mail",
            "E-Mail",
            "e.mail",
            "mail",
            "contact.email",
            "contactEmail",
            "email_hash",
            "emailAddress",
            "phone",
            "phone_hash",
            "mobile_number",
            "ip",
            "IP",
            "ips",
            "ip_address",
            "ipAddress",
            "last_login_ip",
            "device_id",
            "device_ids",
            "deviceId",
            "address",
            "billing address",
            "real_name",
            "FirstName",
            "date_of_birth",
            "user-date-of-birth",
            "card_last4",
            "cardNumber",
            "payment_fingerprint",
            "iban",
            "postal_code",
        ] {
            assert!(is_personal_key(key), "{key}");
        }
        for key in [
            "zip",
            "ship_to_country",
            "membership",
            "tip",
            "device_type",
            "display_name",
            "name",
            "country",
            "language",
            "follower_count",
            "verified",
            "tags",
            "amount",
            "currency",
            "payer",
            "description",
            "text",
        ] {
            assert!(!is_personal_key(key), "{key}");
        }
    }

    #[test]
    fn values_are_masked_by_key_and_by_pattern_at_any_depth() {
        let value = json!({
            "Email": "jane@example.org",
            "ips": ["203.0.113.9", "198.51.100.2"],
            "email_verified": true,
            "phone": 4155550100u64,
            "address": {"street": "1 Main St", "city": "Springfield"},
            "country": "DE",
            "follower_count": 12,
            "contact": {"email": "x@example.org", "note": "or +44 20 7946 0958", "E_Mail": null},
            "history": [{"ip_address": "10.0.0.1"}, {"text": "mail me: a.b@example.com"}],
            "bio": "card 4111 1111 1111 1111",
            "jane@example.org": "a key that is an address",
            "payer": {"kind": "account", "id": "acct_1"},
        });
        assert_eq!(
            mask_value(&value),
            json!({
                "Email": "[masked]",
                "ips": ["[masked]", "[masked]"],
                "email_verified": true,
                "phone": "[masked]",
                "address": "[masked]",
                "country": "DE",
                "follower_count": 12,
                "contact": {"email": "[masked]", "note": "or [phone masked]", "E_Mail": null},
                "history": [{"ip_address": "[masked]"}, {"text": "mail me: [email masked]"}],
                "bio": "card [card masked]",
                "[email masked]": "a key that is an address",
                "payer": {"kind": "account", "id": "acct_1"},
            })
        );
        let nothing = json!({"a": [1, 2.5, "plain", {"b": null}], "c": false});
        assert_eq!(mask_value(&nothing), nothing);
    }

    #[test]
    fn keys_masked_to_one_name_stay_apart() {
        let value = json!({"a@example.org": 1, "b@example.org": 2});
        let shown = mask_value(&value);
        let map = shown.as_object().unwrap();
        assert_eq!(map.len(), 2);
        assert!(map.keys().all(|k| k.starts_with("[email masked]")));
    }

    #[test]
    fn depth_is_bounded() {
        let mut deep = json!("jane@example.org");
        for _ in 0..(MASK_DEPTH_MAX + 10) {
            deep = json!([deep]);
        }
        let shown = mask_value(&deep).to_string();
        assert!(!shown.contains("jane"));
        assert!(shown.contains(MASKED));
    }
}
