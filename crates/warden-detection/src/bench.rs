//! The reference pack and corpus of `warden bench rules`: 200+ rules of the
//! kinds detection engineers write (keyword lists, regexes, velocity checks,
//! arithmetic, combinations) over a fixed, seeded corpus of events.
//!
//! [`reference_pack_with_features`] is the same pack rewritten with
//! features: the parts many rules share (the event type tests, each keyword
//! list's match, the velocity key, the reach sum, the bad-domain test) are
//! declared once and read by name. It hits exactly the same events (a test
//! checks it on the corpus); `warden bench rules --features` compares the two.

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
    build_pack(false)
}

/// The reference pack with the parts rules share declared once as features.
pub fn reference_pack_with_features() -> Vec<(String, String)> {
    build_pack(true)
}

/// The keyword lists `kw_0`… and the `bad_domains` list.
fn reference_lists() -> String {
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
    lists
}

/// The `[features]` section the rules use with features on.
fn reference_features() -> String {
    let mut rules = String::from("[features]\n");
    rules.push_str("is_post = 'event_type == \"post_created\"'\n");
    rules.push_str("is_login = 'event_type == \"login\"'\n");
    for l in 0..KEYWORD_LISTS {
        rules.push_str(&format!("kw_{l} = 'in_list(\"kw_{l}\", text)'\n"));
    }
    rules.push_str("ip_key = '\"ip:\" + ip'\n");
    rules.push_str("reach = 'actor_followers * 2 + length(text)'\n");
    rules.push_str("bad_domain = 'count(domains) > 0 & in_list(\"bad_domains\", domains)'\n\n");
    rules
}

fn build_pack(features: bool) -> Vec<(String, String)> {
    let lists = reference_lists();
    let mut rules = if features {
        reference_features()
    } else {
        String::new()
    };
    let mut add = |id: String, category: &str, mode: &str, expression: String| {
        rules.push_str(&format!(
            "[[rule]]\nid = \"{id}\"\nname = \"{id}\"\ncategory = \"{category}\"\nmode = \"{mode}\"\nexpression = '''{expression}'''\n[rule.outcome]\ncase = {{}}\n\n"
        ));
    };
    for i in 0..60 {
        let expression = if features {
            format!("is_post & kw_{}", i % KEYWORD_LISTS)
        } else {
            format!(
                "event_type == \"post_created\" & in_list(\"kw_{}\", text)",
                i % KEYWORD_LISTS
            )
        };
        add(format!("keywords-{i}"), "spam", "live", expression);
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
        let (window, above) = (5 + i, 20 + i);
        let expression = if features {
            format!("is_login & velocity(ip_key, \"{window}m\") > {above}")
        } else {
            format!("event_type == \"login\" & velocity(\"ip:\" + ip, \"{window}m\") > {above}")
        };
        add(format!("velocity-{i}"), "spam", "live", expression);
    }
    for i in 0..40 {
        let (days, above) = (3 + i, 200 + 10 * i);
        let expression = if features {
            format!("actor_age_days < {days} & reach > {above}")
        } else {
            format!("actor_age_days < {days} & actor_followers * 2 + length(text) > {above}")
        };
        add(format!("arithmetic-{i}"), "fraud", "shadow", expression);
    }
    for i in 0..20 {
        let expression = if features {
            format!("bad_domain & actor_prior_strikes >= {}", i % 3)
        } else {
            format!("count(domains) > 0 & in_list(\"bad_domains\", domains) & actor_prior_strikes >= {}", i % 3)
        };
        add(format!("combo-{i}"), "phishing", "live", expression);
    }
    vec![("lists.toml".into(), lists), ("rules.toml".into(), rules)]
}

/// A fixed corpus of `n` events: posts, messages, logins and payments,
/// mostly ordinary, some spammy.
pub fn corpus(n: usize) -> Vec<Arc<EventFacts>> {
    // cannot fail: a literal, valid UTC date.
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use chrono::Utc;
    use warden_domain::taxonomy::Taxonomy;
    use warden_rules::EvalContext;

    use super::*;
    use crate::{parse_files, Detector, EventVariables, VelocityCounters};

    fn detector(files: &[(String, String)]) -> Detector {
        let parsed = parse_files(files, &Taxonomy::default());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let built = Detector::build(
            parsed,
            &mut |_| 1,
            Arc::new(Mutex::new(VelocityCounters::default())),
            None,
        );
        assert!(built.errors.is_empty(), "{:?}", built.errors);
        built.detector
    }

    /// Hits per event, as (event, rule) pairs.
    fn hits(detector: &Detector, events: &[Arc<EventFacts>]) -> Vec<(String, String)> {
        let now = Utc::now();
        let mut ctx = EvalContext::new();
        let mut out = Vec::new();
        for facts in events {
            let evaluation = detector.evaluate_variables(
                &EventVariables::new(facts.clone(), now),
                &mut ctx,
                None,
            );
            assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
            out.extend(
                evaluation
                    .hits
                    .into_iter()
                    .map(|h| (facts.event_id.clone(), h.rule_id)),
            );
        }
        out
    }

    #[test]
    fn the_pack_with_features_hits_exactly_what_the_pack_without_them_hits() {
        let plain = detector(&reference_pack());
        let featured = detector(&reference_pack_with_features());
        assert_eq!(plain.rules().len(), 210);
        assert_eq!(featured.rules().len(), 210);
        assert!(featured.features().features().len() >= 10);
        let mut events = corpus(4_000);
        // The corpus spreads logins over many addresses; a burst from one makes the
        // velocity rules fire too.
        let login = events
            .iter()
            .find(|e| e.event_type == "login")
            .cloned()
            .unwrap();
        for n in 0..80 {
            let mut burst = (*login).clone();
            burst.event_id = format!("burst_{n}");
            burst.ip = Some("198.51.100.7".into());
            burst.occurred_at = events
                .last()
                .and_then(|e| e.occurred_at)
                .map(|t| t + chrono::Duration::seconds(n));
            events.push(Arc::new(burst));
        }
        let expected = hits(&plain, &events);
        let by_kind = |prefix: &str| {
            expected
                .iter()
                .filter(|(_, r)| r.starts_with(prefix))
                .count()
        };
        // The corpus exercises every kind of rule, so the comparison means something.
        for kind in ["keywords-", "regex-", "velocity-", "arithmetic-", "combo-"] {
            assert!(by_kind(kind) > 0, "no {kind} hits");
        }
        assert_eq!(hits(&featured, &events), expected);
    }
}
