//! The reference pack and corpus of `warden bench rules`: 200+ rules of the
//! kinds detection engineers write (keyword lists, regexes, velocity checks,
//! arithmetic, combinations) over a fixed, seeded corpus of events.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use crate::facts::EventFacts;

/// Keyword lists in the reference pack.
const KEYWORD_LISTS: usize = 10;

const WORDS: &[&str] = &[
    "free",
    "winner",
    "bitcoin",
    "followers",
    "crypto",
    "giveaway",
    "casino",
    "loan",
    "pills",
    "replica",
    "cheap",
    "offer",
    "urgent",
    "verify",
    "account",
    "password",
    "prince",
    "inheritance",
    "gift",
    "card",
    "bike",
    "ramen",
    "match",
    "books",
    "sunset",
    "tomatoes",
    "rust",
    "birthday",
    "cat",
    "novel",
];

/// The reference pack as rule files.
pub fn reference_pack() -> Vec<(String, String)> {
    let mut lists = String::new();
    for l in 0..KEYWORD_LISTS {
        let entries: Vec<String> = (0..50)
            .map(|k| {
                format!(
                    "\"{} {}{}\"",
                    WORDS[(l * 7 + k) % WORDS.len()],
                    WORDS[(k * 3 + l) % WORDS.len()],
                    k
                )
            })
            .collect();
        lists.push_str(&format!(
            "[[list]]\nname = \"kw_{l}\"\nkind = \"keywords\"\nentries = [{}]\n\n",
            entries.join(", ")
        ));
    }
    lists.push_str("[[list]]\nname = \"bad_domains\"\nkind = \"domains\"\nentries = [\"spam.example\", \"phish.example\", \"scam.example\"]\n");
    let mut rules = String::new();
    let mut add = |id: String, category: &str, mode: &str, expression: String| {
        rules.push_str(&format!(
            "[[rule]]\nid = \"{id}\"\nname = \"{id}\"\ncategory = \"{category}\"\nmode = \"{mode}\"\nexpression = '''{expression}'''\n[rule.outcome]\ncase = {{}}\n\n"
        ));
    };
    for i in 0..60 {
        add(
            format!("keywords-{i}"),
            "spam",
            "live",
            format!(
                "event_type == \"post_created\" & in_list(\"kw_{}\", text)",
                i % KEYWORD_LISTS
            ),
        );
    }
    for i in 0..50 {
        let a = WORDS[i % WORDS.len()];
        let b = WORDS[(i * 7 + 3) % WORDS.len()];
        let c = WORDS[(i * 11 + 5) % WORDS.len()];
        add(
            format!("regex-{i}"),
            "scam",
            "shadow",
            format!("text irlike \"\\\\b{a}\\\\s+{b}\\\\s+{c}\\\\b\""),
        );
    }
    for i in 0..40 {
        add(
            format!("velocity-{i}"),
            "spam",
            "live",
            format!(
                "event_type == \"login\" & velocity(\"ip:\" + ip, \"{}m\") > {}",
                5 + i,
                20 + i
            ),
        );
    }
    for i in 0..40 {
        add(
            format!("arithmetic-{i}"),
            "fraud",
            "shadow",
            format!(
                "actor_age_days < {} & actor_followers * 2 + length(text) > {}",
                3 + i,
                200 + 10 * i
            ),
        );
    }
    for i in 0..20 {
        add(format!("combo-{i}"), "phishing", "live", format!("count(domains) > 0 & in_list(\"bad_domains\", domains) & actor_prior_strikes >= {}", i % 3));
    }
    vec![("lists.toml".into(), lists), ("rules.toml".into(), rules)]
}

/// A fixed corpus of `n` events: posts, messages, logins and payments,
/// mostly ordinary, some spammy.
pub fn corpus(n: usize) -> Vec<Arc<EventFacts>> {
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let r = next();
            let event_type = [
                "post_created",
                "post_created",
                "message_sent",
                "login",
                "payment",
            ][(r % 5) as usize];
            let words: Vec<&str> = (0..(8 + r % 20))
                .map(|k| WORDS[((r >> (k % 50)) as usize + k as usize) % WORDS.len()])
                .collect();
            let mut text = words.join(" ");
            // About one event in twenty carries a listed phrase, one in
            // fifty a link to a listed domain: flagged traffic is the exception.
            if r % 20 == 0 {
                let l = (r % 10) as usize;
                let k = ((r >> 8) % 50) as usize;
                text.push_str(&format!(
                    " {} {}{}",
                    WORDS[(l * 7 + k) % WORDS.len()],
                    WORDS[(k * 3 + l) % WORDS.len()],
                    k
                ));
            }
            if r % 50 == 1 {
                text.push_str(" https://spam.example/offer");
            }
            Arc::new(EventFacts {
                event_id: format!("bench_{i}"),
                event_type: event_type.into(),
                occurred_at: Some(start + Duration::seconds(i as i64)),
                actor_id: Some(format!("acct_{}", r % 5000)),
                actor_created_at: Some(start - Duration::days((r % 900) as i64)),
                actor_attributes: Some(json!({"follower_count": r % 3000, "country": "DE"})),
                actor_prior_strikes: (r % 4) as i64,
                ip: Some(format!("203.0.113.{}", r % 200)),
                device_id: Some(format!("dev_{}", r % 3000)),
                data: json!({"text": text, "amount": format!("{}.00", r % 3000)}),
                ..EventFacts::default()
            })
        })
        .collect()
}
