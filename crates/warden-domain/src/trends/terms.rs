//! Emerging terms and URL domains between two windows of texts.
//!
//! Each text (a report's text, flagged content) is tokenised: URL domains
//! first (after `http://`, `https://` or `www.`, or a bare `name.tld/`),
//! lower-cased without a leading `www.`; then words, runs of letters and
//! digits lower-cased, two to forty characters, not all digits. A term
//! counts once per text (document frequency), so one text repeating a
//! word a thousand times weighs as one.
//!
//! A term of the current window is **emerging** against the previous
//! window when it appears in at least `count_min` texts, its share of
//! texts went up, its smoothed ratio `((a + α) / (N₁ + α)) / ((b + α) /
//! (N₂ + α))` is at least `ratio_min`, and Dunning's log-likelihood G²
//! is at least `g2_min` (10.83: p < 0.001 with one degree of freedom).
//! Here `a` and `b` are the texts with the term in each window and `N₁`,
//! `N₂` the texts in each window; G² is `2 Σ O ln(O / E)` over the 2 × 2
//! table (with, without) × (current, previous). G² says the change is
//! unlikely to be chance; the ratio says it is large enough to matter.
//!
//! Everything is bounded: texts per window, characters read per text,
//! distinct terms counted (new ones past the limit are dropped and
//! counted), terms returned and example ids per term.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::limits::{
    TREND_DISTINCT_TERMS_MAX, TREND_EXAMPLES_PER_TERM_MAX, TREND_TERMS_RETURNED_MAX,
    TREND_TEXTS_PER_WINDOW_MAX, TREND_TEXT_CHARS_MAX, TREND_TOKEN_CHARS_MAX,
};
use crate::FieldErrors;

use crate::limits::WORD_CHARS_MIN;

/// One text of a window, with the id examples are given by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextItem<'a> {
    /// The id to show as an example (a report's or content's id).
    pub id: &'a str,
    /// The text.
    pub text: &'a str,
}

/// What kind of term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TermKind {
    /// A word.
    Word,
    /// A URL's domain.
    Domain,
}

impl TermKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TermKind::Word => "word",
            TermKind::Domain => "domain",
        }
    }
}

/// The thresholds of emerging-term detection; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TermSettings {
    /// Fewest current-window texts with the term.
    pub count_min: u64,
    /// Least smoothed ratio of shares.
    pub ratio_min: f64,
    /// Least G².
    pub g2_min: f64,
    /// The smoothing α added to counts in the ratio.
    pub smoothing: f64,
    /// Terms returned at most.
    pub terms_max: usize,
    /// Example ids per term at most.
    pub examples_per_term: usize,
}

impl Default for TermSettings {
    fn default() -> Self {
        TermSettings {
            count_min: 5,
            ratio_min: 3.0,
            g2_min: 10.83,
            smoothing: 1.0,
            terms_max: 50,
            examples_per_term: 3,
        }
    }
}

impl TermSettings {
    /// Checks every setting, naming each one at fault.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.count_min == 0 {
            errors.push("count_min", "must be at least 1");
        }
        if !(self.ratio_min.is_finite() && self.ratio_min >= 1.0) {
            errors.push("ratio_min", "must be a finite number at least 1");
        }
        if !(self.g2_min.is_finite() && self.g2_min >= 0.0) {
            errors.push("g2_min", "must be a finite number at least 0");
        }
        if !(self.smoothing.is_finite() && self.smoothing > 0.0) {
            errors.push("smoothing", "must be a finite number above 0");
        }
        if !(1..=TREND_TERMS_RETURNED_MAX).contains(&self.terms_max) {
            errors.push(
                "terms_max",
                format!("must be between 1 and {TREND_TERMS_RETURNED_MAX}"),
            );
        }
        if self.examples_per_term > TREND_EXAMPLES_PER_TERM_MAX {
            errors.push(
                "examples_per_term",
                format!("must be at most {TREND_EXAMPLES_PER_TERM_MAX}"),
            );
        }
        errors.finish(|| ())
    }
}

/// One emerging term with its counts and examples.
#[derive(Debug, Clone, PartialEq)]
pub struct EmergingTerm {
    /// The term, lower-cased.
    pub term: String,
    /// Word or domain.
    pub kind: TermKind,
    /// Current-window texts with it (`a`).
    pub current: u64,
    /// Previous-window texts with it (`b`).
    pub previous: u64,
    /// Dunning's G².
    pub g2: f64,
    /// The smoothed ratio of shares.
    pub ratio: f64,
    /// Ids of current-window texts with it, in input order.
    pub examples: Vec<String>,
}

/// The result of one comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct EmergingTerms {
    /// Emerging terms, highest G² first.
    pub terms: Vec<EmergingTerm>,
    /// Texts in the current window (`N₁`).
    pub current_texts: u64,
    /// Texts in the previous window (`N₂`).
    pub previous_texts: u64,
    /// Texts longer than the characters read of each.
    pub texts_truncated: u64,
    /// Term occurrences not counted because the distinct-term limit was reached.
    pub terms_dropped: u64,
}

/// Dunning's G² of a term in `a` of `n1` current texts and `b` of `n2`
/// previous texts: `2 Σ O ln(O / E)` over the 2 × 2 table, `0 ln 0 = 0`.
/// Zero for an empty window or counts beyond their totals.
pub fn log_likelihood_g2(a: u64, b: u64, n1: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 || a > n1 || b > n2 {
        return 0.0;
    }
    let (a, b, n1, n2) = (a as f64, b as f64, n1 as f64, n2 as f64);
    let total = n1 + n2;
    let with = a + b;
    let without = total - with;
    let cells = [
        (a, with * n1 / total),
        (b, with * n2 / total),
        (n1 - a, without * n1 / total),
        (n2 - b, without * n2 / total),
    ];
    let sum: f64 = cells
        .iter()
        .filter(|(observed, _)| *observed > 0.0)
        .map(|(observed, expected)| observed * (observed / expected).ln())
        .sum();
    (2.0 * sum).max(0.0)
}

/// The smoothed ratio of shares `((a + α) / (n1 + α)) / ((b + α) / (n2 + α))`.
pub fn smoothed_ratio(a: u64, b: u64, n1: u64, n2: u64, smoothing: f64) -> f64 {
    let (a, b, n1, n2) = (a as f64, b as f64, n1 as f64, n2 as f64);
    ((a + smoothing) / (n1 + smoothing)) / ((b + smoothing) / (n2 + smoothing))
}

/// Per-term counts while counting.
struct TermCount {
    kind: TermKind,
    term: String,
    current: u64,
    previous: u64,
    examples: Vec<u32>,
}

/// The emerging terms of `current` against `previous`.
pub fn emerging_terms(
    current: &[TextItem<'_>],
    previous: &[TextItem<'_>],
    settings: &TermSettings,
) -> Result<EmergingTerms, FieldErrors> {
    let mut errors = FieldErrors::default();
    if let Err(setting_errors) = settings.check() {
        errors.0.extend(setting_errors.0);
    }
    for (field, texts) in [("current", current), ("previous", previous)] {
        if texts.len() > TREND_TEXTS_PER_WINDOW_MAX {
            errors.push(
                field,
                format!("more than {TREND_TEXTS_PER_WINDOW_MAX} texts in one window"),
            );
        }
    }
    errors.finish(|| ())?;
    let mut counter = Counter::default();
    for (position, item) in current.iter().enumerate() {
        // Fits: at most TREND_TEXTS_PER_WINDOW_MAX texts.
        counter.count(item.text, Window::Current(position as u32), settings);
    }
    for item in previous {
        counter.count(item.text, Window::Previous, settings);
    }
    let (n1, n2) = (current.len() as u64, previous.len() as u64);
    let mut terms: Vec<EmergingTerm> = counter
        .terms
        .into_iter()
        .filter_map(|count| {
            let rising =
                (count.current as f64) * (n2 as f64) > (count.previous as f64) * (n1 as f64);
            if count.current < settings.count_min || !rising {
                return None;
            }
            let ratio = smoothed_ratio(count.current, count.previous, n1, n2, settings.smoothing);
            let g2 = log_likelihood_g2(count.current, count.previous, n1, n2);
            (ratio >= settings.ratio_min && g2 >= settings.g2_min).then(|| EmergingTerm {
                examples: count
                    .examples
                    .iter()
                    .filter_map(|&position| current.get(position as usize))
                    .map(|item| item.id.to_string())
                    .collect(),
                term: count.term,
                kind: count.kind,
                current: count.current,
                previous: count.previous,
                g2,
                ratio,
            })
        })
        .collect();
    terms.sort_by(|a, b| {
        b.g2.total_cmp(&a.g2)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.term.cmp(&b.term))
    });
    terms.truncate(settings.terms_max);
    Ok(EmergingTerms {
        terms,
        current_texts: n1,
        previous_texts: n2,
        texts_truncated: counter.texts_truncated,
        terms_dropped: counter.terms_dropped,
    })
}

#[derive(Debug, Clone, Copy)]
enum Window {
    /// The current window, with the text's position (for examples).
    Current(u32),
    Previous,
}

#[derive(Default)]
struct Counter {
    words: HashMap<String, u32>,
    domains: HashMap<String, u32>,
    terms: Vec<TermCount>,
    seen_in_text: HashSet<u32>,
    texts_truncated: u64,
    terms_dropped: u64,
}

static URL_DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    // After a scheme or `www.`, the host up to a delimiter; or a bare
    // `name.tld` followed by a path. The rest of the URL is matched too,
    // so that its path is not read as words.
    Regex::new(concat!(
        r"(?i)(?:https?://|\bwww\.)([^\s/?#:@<>()\[\]{}'\x22,;]+)[^\s<>'\x22]*",
        r"|\b((?:[a-z0-9-]+\.)+[a-z]{2,24})/[^\s<>'\x22]*",
    ))
    // A fixed pattern, checked by the tests.
    // cannot fail: a literal pattern, compiled by the tests.
    .expect("the URL domain pattern compiles")
});

impl Counter {
    fn count(&mut self, text: &str, window: Window, settings: &TermSettings) {
        let text = match text.char_indices().nth(TREND_TEXT_CHARS_MAX) {
            Some((end, _)) => {
                self.texts_truncated += 1;
                &text[..end]
            }
            None => text,
        };
        self.seen_in_text.clear();
        let mut rest_start = 0;
        for found in URL_DOMAIN.captures_iter(text) {
            let Some(whole) = found.get(0) else {
                continue;
            };
            if let Some(host) = found.get(1).or_else(|| found.get(2)) {
                if let Some(domain) = normalise_domain(host.as_str()) {
                    self.add(TermKind::Domain, &domain, window, settings);
                }
            }
            self.words(&text[rest_start..whole.start()], window, settings);
            rest_start = whole.end();
        }
        self.words(&text[rest_start..], window, settings);
    }

    fn words(&mut self, text: &str, window: Window, settings: &TermSettings) {
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            let chars = word.chars().count();
            if !(WORD_CHARS_MIN..=TREND_TOKEN_CHARS_MAX).contains(&chars)
                || word.chars().all(|c| c.is_ascii_digit())
            {
                continue;
            }
            if word.chars().any(char::is_uppercase) {
                self.add(TermKind::Word, &word.to_lowercase(), window, settings);
            } else {
                self.add(TermKind::Word, word, window, settings);
            }
        }
    }

    fn add(&mut self, kind: TermKind, term: &str, window: Window, settings: &TermSettings) {
        let index = match kind {
            TermKind::Word => &mut self.words,
            TermKind::Domain => &mut self.domains,
        };
        let id = match index.get(term) {
            Some(&id) => id,
            None if self.terms.len() >= TREND_DISTINCT_TERMS_MAX => {
                self.terms_dropped += 1;
                return;
            }
            None => {
                // Fits: below TREND_DISTINCT_TERMS_MAX.
                let id = self.terms.len() as u32;
                index.insert(term.to_string(), id);
                self.terms.push(TermCount {
                    kind,
                    term: term.to_string(),
                    current: 0,
                    previous: 0,
                    examples: Vec::new(),
                });
                id
            }
        };
        if !self.seen_in_text.insert(id) {
            return;
        }
        let Some(count) = self.terms.get_mut(id as usize) else {
            return;
        };
        match window {
            Window::Current(position) => {
                count.current += 1;
                if count.examples.len() < settings.examples_per_term {
                    count.examples.push(position);
                }
            }
            Window::Previous => count.previous += 1,
        }
    }
}

/// A host lower-cased, without `www.` and a trailing dot; `None` unless it
/// has a dot between non-empty labels and fits a token.
fn normalise_domain(host: &str) -> Option<String> {
    let lower = host.to_lowercase();
    let trimmed = lower.trim_end_matches('.');
    let domain = trimmed.strip_prefix("www.").unwrap_or(trimmed);
    let valid = domain.contains('.')
        && domain.chars().count() <= TREND_TOKEN_CHARS_MAX * 2
        && domain.split('.').all(|label| !label.is_empty());
    valid.then(|| domain.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g2_matches_hand_computed_values() {
        // a = 10 of 100, b = 0 of 100: expected 5, 5, 95, 95;
        // 2 (10 ln 2 + 90 ln(90/95) + 100 ln(100/95)) = 14.3895026600...
        assert!((log_likelihood_g2(10, 0, 100, 100) - 14.389_502_660_059_355).abs() < 1e-9);
        // Equal shares: no evidence of change.
        assert_eq!(log_likelihood_g2(5, 5, 100, 100), 0.0);
        // Reference values computed independently.
        assert!((log_likelihood_g2(30, 10, 1_000, 2_000) - 29.462_729_300_977_68).abs() < 1e-9);
        assert!((log_likelihood_g2(1, 99, 100, 100) - 254.858_258_482_039_2).abs() < 1e-9);
        assert!((log_likelihood_g2(100, 50, 10_000, 20_000) - 69.691_919_319_328_05).abs() < 1e-9);
        // Degenerate tables.
        assert_eq!(log_likelihood_g2(1, 1, 0, 5), 0.0);
        assert_eq!(log_likelihood_g2(6, 1, 5, 5), 0.0);
    }

    #[test]
    fn the_smoothed_ratio_never_divides_by_zero() {
        // (10 + 1) / (100 + 1) over (0 + 1) / (100 + 1) = 11.
        assert!((smoothed_ratio(10, 0, 100, 100, 1.0) - 11.0).abs() < 1e-12);
        assert!(smoothed_ratio(0, 0, 0, 0, 1.0).is_finite());
    }

    fn items<'a>(texts: &'a [(String, String)]) -> Vec<TextItem<'a>> {
        texts
            .iter()
            .map(|(id, text)| TextItem { id, text })
            .collect()
    }

    #[test]
    fn a_new_scam_phrase_and_domain_emerge_with_examples_and_common_words_do_not() {
        let mut previous = Vec::new();
        let mut current = Vec::new();
        for n in 0..200 {
            previous.push((
                format!("p{n}"),
                format!("this post is spam about shoes {n}"),
            ));
            current.push((
                format!("c{n}"),
                format!("this post is spam about shoes {n}"),
            ));
        }
        for n in 0..15 {
            current.push((
                format!("scam{n}"),
                format!("Claim your FREE giftcard now at https://www.Free-Gifts.example/claim?id={n} giftcard giftcard"),
            ));
        }
        // Two mentions before: still rising, still emerging.
        previous.push(("old1".into(), "giftcard".into()));
        previous.push(("old2".into(), "see bit.example/x".into()));
        let (previous, current) = (items(&previous), items(&current));
        let result = emerging_terms(&current, &previous, &TermSettings::default()).unwrap();
        assert_eq!((result.current_texts, result.previous_texts), (215, 202));
        let found = |kind, term: &str| {
            result
                .terms
                .iter()
                .find(|t| t.kind == kind && t.term == term)
        };
        let giftcard = found(TermKind::Word, "giftcard").expect("giftcard emerges");
        // Counted once per text, not three times.
        assert_eq!((giftcard.current, giftcard.previous), (15, 1));
        assert_eq!(giftcard.examples, ["scam0", "scam1", "scam2"]);
        let domain = found(TermKind::Domain, "free-gifts.example").expect("the domain emerges");
        assert_eq!(domain.current, 15);
        // The URL's path is not split into words.
        assert!(found(TermKind::Word, "claim").is_some());
        assert!(found(TermKind::Word, "id").is_none());
        for common in ["this", "post", "spam", "shoes"] {
            assert!(found(TermKind::Word, common).is_none(), "{common}");
        }
        // Sorted by G², highest first.
        assert!(result.terms.windows(2).all(|pair| pair[0].g2 >= pair[1].g2));
    }

    #[test]
    fn bare_domains_with_a_path_are_found_and_sentences_with_dots_are_not() {
        let mut counter = Counter::default();
        let settings = TermSettings::default();
        counter.count(
            "see bit.ly/abc and WWW.Example.COM. End.Of sentence, also http://127.0.0.1:8080/x",
            Window::Previous,
            &settings,
        );
        let domains: Vec<&str> = counter
            .terms
            .iter()
            .filter(|term| term.kind == TermKind::Domain)
            .map(|term| term.term.as_str())
            .collect();
        assert_eq!(domains, ["bit.ly", "example.com", "127.0.0.1"]);
    }

    #[test]
    fn limits_are_enforced_and_named() {
        let settings = TermSettings {
            terms_max: 0,
            examples_per_term: TREND_EXAMPLES_PER_TERM_MAX + 1,
            ratio_min: 0.5,
            ..TermSettings::default()
        };
        let refused = emerging_terms(&[], &[], &settings).unwrap_err();
        let fields: Vec<&str> = refused.0.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["ratio_min", "terms_max", "examples_per_term"]);
        let long = "word ".repeat(TREND_TEXT_CHARS_MAX);
        let texts = [TextItem {
            id: "long",
            text: &long,
        }];
        let result = emerging_terms(&texts, &texts, &TermSettings::default()).unwrap();
        assert_eq!(result.texts_truncated, 2);
        assert!(result.terms.is_empty());
    }

    #[test]
    fn distinct_terms_past_the_limit_are_dropped_and_counted() {
        let mut counter = Counter::default();
        let settings = TermSettings::default();
        for n in 0..TREND_DISTINCT_TERMS_MAX {
            counter.terms.push(TermCount {
                kind: TermKind::Word,
                term: format!("t{n}"),
                current: 0,
                previous: 0,
                examples: Vec::new(),
            });
        }
        counter.count("brand new words", Window::Previous, &settings);
        assert_eq!(counter.terms_dropped, 3);
        assert_eq!(counter.terms.len(), TREND_DISTINCT_TERMS_MAX);
    }
}
