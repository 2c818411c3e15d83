//! Notices to users: templates in Markdown with `{{ variable }}`
//! placeholders, chosen per action type, category and language.
//!
//! A template may only name the variables in [`VARIABLES`]; that is checked
//! when it is saved. Whether a variable has a value depends on the action
//! (a ban has no end date), so rendering can still leave one unfilled: such
//! a notice is refused, never sent with a hole in it.

use std::collections::{BTreeMap, BTreeSet};

use crate::limits::{NOTICE_BODY_CHARS_MAX, NOTICE_SUBJECT_CHARS_MAX};
use crate::FieldErrors;

/// The variables a template may use, with what they hold.
pub const VARIABLES: &[(&str, &str)] = &[
    ("action", "the action's type, e.g. suspend"),
    (
        "action_name",
        "the action in words, e.g. \"suspension of your account\"",
    ),
    ("category", "the taxonomy code, e.g. spam"),
    ("category_name", "the category's name, e.g. Spam"),
    (
        "reason_code",
        "the reason code, when the decision names one",
    ),
    ("reason_name", "the reason code's name"),
    (
        "policy",
        "the policy id or section, when the decision names one",
    ),
    (
        "duration",
        "how long, as ISO 8601 (restrictions, suspensions)",
    ),
    (
        "end_date",
        "the day it ends, YYYY-MM-DD UTC (temporary actions)",
    ),
    ("feature", "the restricted feature (restrictions)"),
    ("label", "the label (labels)"),
    ("subject_kind", "what was acted on: account, content, ..."),
    ("subject_id", "the platform's id of what was acted on"),
    ("account_id", "the platform's id of the account notified"),
    ("decision_id", "Warden's id of the decision"),
    (
        "statement_id",
        "the statement of reasons' puid, when there is one",
    ),
    ("date", "the day the notice was written, YYYY-MM-DD UTC"),
];

/// What a template can be for besides the action types: a reversal.
pub const REVERSAL: &str = "reversal";

/// Whether `name` is a type a template can be for.
pub fn is_template_action(name: &str) -> bool {
    name == REVERSAL
        || matches!(
            name,
            "remove_content"
                | "warn"
                | "restrict"
                | "suspend"
                | "ban"
                | "hold_transaction"
                | "label"
        )
}

/// The placeholders of `text`, in order, or why it cannot be read.
pub fn placeholders(text: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "a \"{{\" is never closed with \"}}\"".to_string())?;
        let name = after[..end].trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!(
                "{{{{{name}}}}} is not a variable: use lowercase letters, digits and _"
            ));
        }
        names.push(name.to_string());
        rest = &after[end + 2..];
    }
    Ok(names)
}

/// Checks a template's subject and body: sizes, syntax, known variables.
pub fn check_template(subject: &str, body: &str) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    let known: BTreeSet<&str> = VARIABLES.iter().map(|(name, _)| *name).collect();
    for (field, text, max) in [
        ("subject", subject, NOTICE_SUBJECT_CHARS_MAX),
        ("body", body, NOTICE_BODY_CHARS_MAX),
    ] {
        if text.trim().is_empty() {
            errors.push(field, "must not be empty");
            continue;
        }
        if text.chars().count() > max {
            errors.push(field, format!("must be at most {max} characters"));
            continue;
        }
        if let Err(reason) = crate::text::check_document(text) {
            errors.push(field, reason);
            continue;
        }
        match placeholders(text) {
            Err(reason) => errors.push(field, reason),
            Ok(names) => {
                let unknown: Vec<&String> = names
                    .iter()
                    .filter(|n| !known.contains(n.as_str()))
                    .collect();
                if !unknown.is_empty() {
                    errors.push(
                        field,
                        format!(
                            "unknown variables {}; known: {}",
                            unknown
                                .iter()
                                .map(|n| format!("{{{{{n}}}}}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            known.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }
    }
    errors.finish(|| ())
}

/// A notice ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The Markdown body.
    pub body: String,
}

fn fill(text: &str, values: &BTreeMap<String, String>, missing: &mut BTreeSet<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        match values.get(name).filter(|v| !v.trim().is_empty()) {
            Some(value) => out.push_str(value),
            None => {
                missing.insert(name.to_string());
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Fills a template. Every placeholder must have a non-empty value;
/// otherwise the notice is refused with the names left unfilled.
pub fn render(
    subject: &str,
    body: &str,
    values: &BTreeMap<String, String>,
) -> Result<Rendered, Vec<String>> {
    let mut missing = BTreeSet::new();
    let subject = fill(subject, values, &mut missing);
    let body = fill(body, values, &mut missing);
    if missing.is_empty() {
        Ok(Rendered { subject, body })
    } else {
        Err(missing.into_iter().collect())
    }
}

/// The action in words, for `{{action_name}}`.
pub fn action_name(action_type: &str) -> &'static str {
    match action_type {
        "remove_content" => "removal of your content",
        "warn" => "a warning",
        "restrict" => "a restriction of a feature of your account",
        "suspend" => "a suspension of your account",
        "ban" => "the termination of your account",
        "hold_transaction" => "a hold on your transaction",
        "label" => "a label on your content",
        REVERSAL => "the reversal of an earlier action",
        _ => "an action",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn templates_name_only_known_variables() {
        assert!(check_template("Your account", "Suspended until {{ end_date }}.").is_ok());
        let errors = check_template("Hi {{name}}", "{{end_date").unwrap_err();
        assert_eq!(errors.0[0].field, "subject");
        assert!(errors.0[0].reason.contains("{{name}}"), "{errors}");
        assert_eq!(errors.0[1].field, "body");
        assert!(check_template(" ", "x").is_err());
        assert!(check_template("x", &"y".repeat(NOTICE_BODY_CHARS_MAX + 1)).is_err());
    }

    #[test]
    fn a_notice_with_an_unfilled_variable_is_refused() {
        let ok = render(
            "{{action_name}}",
            "Until {{end_date}} ({{category_name}}).",
            &values(&[
                ("action_name", "a suspension"),
                ("end_date", "2026-12-01"),
                ("category_name", "Spam"),
            ]),
        )
        .unwrap();
        assert_eq!(ok.body, "Until 2026-12-01 (Spam).");
        let refused = render(
            "Banned",
            "Until {{end_date}}, for {{ category_name }} under {{policy}}.",
            &values(&[("category_name", "Spam"), ("policy", " ")]),
        )
        .unwrap_err();
        assert_eq!(refused, ["end_date", "policy"]);
    }
}
