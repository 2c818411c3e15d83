//! Learning from analysts: decisions become labelled texts.
//!
//! An analyst's decision judges a case's **subject** (the post, message,
//! listing or account the reports and signals are about). The text the
//! label applies to is therefore the subject's own text; a subject without
//! text (an account) is labelled by the text of the newest event about it
//! before the decision (what detection scored), and one with neither is
//! skipped. Report texts are the reporters' words about the subject, not
//! what was judged, and are never used.
//!
//! For a category `C`, a decision is a **positive** when it found a
//! violation of `C`, and a **negative** when it found no violation, or a
//! violation of another category (the text was judged not to be `C`).
//!
//! [`examples_from_decisions`] chooses the examples, purely:
//! - a superseded decision (corrected since) and a reversed one (its label
//!   is in doubt) give nothing;
//! - the latest decision about a subject wins over older ones, so a subject
//!   gives one example, whatever the number of its cases;
//! - the same text judged on several subjects gives one example, the
//!   latest decision's label;
//! - texts are cut to [`TEXT_BYTES_MAX`] bytes on a character boundary;
//! - at most `max` examples (at most [`FEEDBACK_DECISIONS_MAX`]), the latest.
//!
//! An example's id is the subject's `kind/id`, so a subject stays on its side
//! of the held-out split ([`crate::split`]) whatever is decided later.

use std::collections::HashMap;

use crate::hashing::fnv1a_64;
use crate::limits::{FEEDBACK_DECISIONS_MAX, TEXT_BYTES_MAX};

/// One decision as the store reads it, with the texts it may apply to.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The decision's id: a later decision has a larger id.
    pub decision_id: i64,
    /// The subject judged, as `kind/id`.
    pub subject: String,
    /// Whether the decision found a violation.
    pub violation: bool,
    /// The category the decision was made in.
    pub category: String,
    /// Whether a later decision superseded it.
    pub superseded: bool,
    /// Whether it was reversed.
    pub reversed: bool,
    /// The subject's text.
    pub subject_text: Option<String>,
    /// The text of the newest event about the subject before the decision.
    pub event_text: Option<String>,
}

impl Judgement {
    /// The text the decision judged: the subject's, else the event's;
    /// `None` when both are missing or blank.
    pub fn judged_text(&self) -> Option<&str> {
        [&self.subject_text, &self.event_text]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|t| !t.trim().is_empty())
    }
}

/// A text labelled by a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledText {
    /// The subject, `kind/id`: the id the split hashes.
    pub id: String,
    /// The judged text, at most [`TEXT_BYTES_MAX`] bytes.
    pub text: String,
    /// Whether it is a violation of the category.
    pub positive: bool,
    /// The decision that labelled it.
    pub decision_id: i64,
}

/// The examples for `category` from `judgements` (in any order), as the
/// module documentation says; ordered by decision, oldest first.
pub fn examples_from_decisions(
    judgements: &[Judgement],
    category: &str,
    max: usize,
) -> Vec<LabelledText> {
    let max = max.min(FEEDBACK_DECISIONS_MAX);
    let mut latest_by_subject: HashMap<&str, &Judgement> = HashMap::new();
    for judgement in judgements {
        if judgement.superseded || judgement.reversed || judgement.judged_text().is_none() {
            continue;
        }
        let entry = latest_by_subject
            .entry(judgement.subject.as_str())
            .or_insert(judgement);
        if judgement.decision_id > entry.decision_id {
            *entry = judgement;
        }
    }
    let mut latest_by_text: HashMap<u64, &Judgement> = HashMap::new();
    for judgement in latest_by_subject.into_values() {
        let text = prefix(judgement.judged_text().unwrap_or_default(), TEXT_BYTES_MAX);
        let entry = latest_by_text
            .entry(fnv1a_64(text.as_bytes()))
            .or_insert(judgement);
        if judgement.decision_id > entry.decision_id {
            *entry = judgement;
        }
    }
    let mut chosen: Vec<&Judgement> = latest_by_text.into_values().collect();
    chosen.sort_by_key(|j| std::cmp::Reverse(j.decision_id));
    chosen.truncate(max);
    chosen.reverse();
    chosen
        .into_iter()
        .map(|j| LabelledText {
            id: j.subject.clone(),
            text: prefix(j.judged_text().unwrap_or_default(), TEXT_BYTES_MAX).to_string(),
            positive: j.violation && j.category == category,
            decision_id: j.decision_id,
        })
        .collect()
}

/// The longest prefix of `text` of at most `max` bytes ending on a
/// character boundary.
pub fn prefix(text: &str, max: usize) -> &str {
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

    fn judged(id: i64, subject: &str, text: &str, violation: bool, category: &str) -> Judgement {
        Judgement {
            decision_id: id,
            subject: subject.into(),
            violation,
            category: category.into(),
            superseded: false,
            reversed: false,
            subject_text: Some(text.into()),
            event_text: None,
        }
    }

    #[test]
    fn violations_of_the_category_are_positive_and_the_rest_negative() {
        let examples = examples_from_decisions(
            &[
                judged(1, "content/a", "buy cheap pills", true, "spam"),
                judged(2, "content/b", "nice photo", false, "spam"),
                judged(3, "content/c", "you are an idiot", true, "harassment"),
            ],
            "spam",
            100,
        );
        let labels: Vec<(&str, bool)> = examples
            .iter()
            .map(|e| (e.id.as_str(), e.positive))
            .collect();
        assert_eq!(
            labels,
            [
                ("content/a", true),
                ("content/b", false),
                ("content/c", false)
            ]
        );
    }

    #[test]
    fn the_latest_decision_wins_and_superseded_or_reversed_ones_give_nothing() {
        let mut superseded = judged(5, "content/a", "buy pills", true, "spam");
        superseded.superseded = true;
        let mut reversed = judged(7, "content/b", "hello", true, "spam");
        reversed.reversed = true;
        let examples = examples_from_decisions(
            &[
                judged(9, "content/a", "buy pills", false, "spam"),
                superseded,
                judged(2, "content/a", "buy pills", true, "spam"),
                reversed,
            ],
            "spam",
            100,
        );
        assert_eq!(
            examples,
            [LabelledText {
                id: "content/a".into(),
                text: "buy pills".into(),
                positive: false,
                decision_id: 9,
            }]
        );
    }

    #[test]
    fn the_same_text_on_two_subjects_counts_once_with_the_latest_label() {
        let examples = examples_from_decisions(
            &[
                judged(1, "content/a", "free cash", false, "spam"),
                judged(4, "content/b", "free cash", true, "spam"),
            ],
            "spam",
            100,
        );
        assert_eq!(examples.len(), 1);
        assert_eq!(
            (examples[0].id.as_str(), examples[0].positive),
            ("content/b", true)
        );
    }

    #[test]
    fn the_event_text_stands_in_for_a_subject_without_text_and_blank_is_skipped() {
        let mut account = judged(1, "account/u1", "", true, "spam");
        account.subject_text = None;
        account.event_text = Some("dm: win a prize".into());
        let mut blank = judged(2, "account/u2", "  ", true, "spam");
        blank.event_text = None;
        let examples = examples_from_decisions(&[account, blank], "spam", 100);
        assert_eq!(examples.len(), 1);
        assert_eq!(examples[0].text, "dm: win a prize");
    }

    #[test]
    fn at_most_max_examples_the_latest_and_long_texts_cut_on_a_boundary() {
        let many: Vec<Judgement> = (0..50)
            .map(|i| {
                judged(
                    i,
                    &format!("content/{i}"),
                    &format!("text {i}"),
                    i % 2 == 0,
                    "spam",
                )
            })
            .collect();
        let examples = examples_from_decisions(&many, "spam", 10);
        let ids: Vec<i64> = examples.iter().map(|e| e.decision_id).collect();
        assert_eq!(ids, (40..50).collect::<Vec<_>>());

        let long = format!("{}é", "a".repeat(TEXT_BYTES_MAX - 1));
        let examples =
            examples_from_decisions(&[judged(1, "content/x", &long, true, "spam")], "spam", 10);
        assert_eq!(examples[0].text.len(), TEXT_BYTES_MAX - 1);
    }
}
