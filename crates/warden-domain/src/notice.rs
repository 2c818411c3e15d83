//! Notices to users: templates in Markdown with `{{ variable }}`
//! placeholders, chosen per action type, category and language.
//!
//! A template may only name the variables in [`VARIABLES`]; that is checked
//! when it is saved. Whether a variable has a value depends on the action
//! (a ban has no end date), so rendering can still leave one unfilled: such
//! a notice is refused, never sent with a hole in it.
//!
//! [`plan_notice`] chooses the template of a notice (by type, category and
//! language, falling back to the primary language and then English) and
//! fills its variables; the enforcement planners call it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;

use crate::decision::ActionKind;
use crate::duration::format_iso8601_duration;
use crate::enforcement::policy::EnforcementPolicy;
use crate::ids::{DecisionId, LanguageTag, SubjectKind, SubjectRef};
use crate::limits::{NOTICE_BODY_CHARS_MAX, NOTICE_SUBJECT_CHARS_MAX};
use crate::{FieldErrors, Timestamp};

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

/// The template of the notice an appellant gets when their appeal is upheld.
pub const APPEAL_UPHELD: &str = "appeal.upheld";

/// The template of the notice an appellant gets when their appeal is
/// overturned (the decision is reversed).
pub const APPEAL_OVERTURNED: &str = "appeal.overturned";

/// The template of the notice an appellant gets when the decision they
/// appealed is replaced by another.
pub const APPEAL_MODIFIED: &str = "appeal.modified";

/// Every appeal template type.
pub const APPEAL_KINDS: [&str; 3] = [APPEAL_UPHELD, APPEAL_OVERTURNED, APPEAL_MODIFIED];

/// Variables only appeal notices have, with what they hold.
pub const APPEAL_VARIABLES: &[(&str, &str)] = &[
    ("appeal_id", "the platform's id of the appeal"),
    ("outcome", "upheld, overturned or modified"),
    (
        "original_decision_id",
        "Warden's id of the decision appealed",
    ),
    ("appeal_date", "the day the appeal was made, YYYY-MM-DD UTC"),
];

/// The variables of [`VARIABLES`] an appeal notice fills: an appeal is
/// about a decision, not one action, so the action's own variables
/// (type, duration, end, feature, label) have no value there.
pub const APPEAL_DECISION_VARIABLES: &[&str] = &[
    "category",
    "category_name",
    "reason_code",
    "reason_name",
    "policy",
    "subject_kind",
    "subject_id",
    "account_id",
    "decision_id",
    "statement_id",
    "date",
];

/// The built-in English appeal templates (type, subject, body), for the
/// store to seed beside the action templates; every one passes
/// [`check_template_for`].
pub const DEFAULT_APPEAL_TEMPLATES: [(&str, &str, &str); 3] = [
    (
        APPEAL_UPHELD,
        "Your appeal was reviewed: the decision stands",
        "We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} ({{category_name}}). Someone who did not take the decision looked at it again, and it stands.\n\nYou may have other options, such as an out-of-court dispute settlement body or the courts.",
    ),
    (
        APPEAL_OVERTURNED,
        "Your appeal was successful",
        "We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} ({{category_name}}) and reversed the decision. Anything it restricted is restored, and it no longer counts against your account.",
    ),
    (
        APPEAL_MODIFIED,
        "Your appeal was reviewed: the decision was changed",
        "We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} and replaced it with decision {{decision_id}} ({{category_name}}). You will receive a separate notice of what now applies.",
    ),
];

/// Whether `name` is an appeal template type.
pub fn is_appeal_kind(name: &str) -> bool {
    APPEAL_KINDS.contains(&name)
}

/// Whether `name` is a type a template can be for.
pub fn is_template_action(name: &str) -> bool {
    name == REVERSAL
        || is_appeal_kind(name)
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
    let known: BTreeSet<&str> = VARIABLES.iter().map(|(name, _)| *name).collect();
    check_template_with(subject, body, &known)
}

/// Checks a template for notices of type `kind`: an appeal template
/// ([`APPEAL_KINDS`]) may use [`APPEAL_VARIABLES`] and the decision's
/// variables of [`APPEAL_DECISION_VARIABLES`]; any other type the
/// [`VARIABLES`] of actions. A variable that would never be filled is
/// refused when the template is saved, not when a notice is sent.
pub fn check_template_for(kind: &str, subject: &str, body: &str) -> Result<(), FieldErrors> {
    if is_appeal_kind(kind) {
        let known: BTreeSet<&str> = APPEAL_VARIABLES
            .iter()
            .map(|(name, _)| *name)
            .chain(APPEAL_DECISION_VARIABLES.iter().copied())
            .collect();
        check_template_with(subject, body, &known)
    } else {
        check_template(subject, body)
    }
}

fn check_template_with(
    subject: &str,
    body: &str,
    known: &BTreeSet<&str>,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
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

/// A notice template as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeTemplate {
    /// Warden's id.
    pub id: i64,
    /// Action type, or [`REVERSAL`].
    pub action_type: String,
    /// Category code, or `*` for any.
    pub category: String,
    /// Language tag.
    pub language: String,
    /// Subject line template.
    pub subject: String,
    /// Markdown body template.
    pub body: String,
}

/// The template a notice of type `kind` about `category` uses: in the
/// case's language, else its primary language, else English; a template
/// of the category beats one for any category (`*`).
pub fn choose_template<'a>(
    templates: &'a [NoticeTemplate],
    kind: &str,
    category: &str,
    language: &LanguageTag,
) -> Option<&'a NoticeTemplate> {
    let mut languages = vec![
        language.as_str().to_string(),
        language.primary(),
        "en".into(),
    ];
    languages.dedup();
    languages.iter().find_map(|lang| {
        templates
            .iter()
            .filter(|t| t.action_type == kind && (t.category == category || t.category == "*"))
            .filter(|t| t.language.eq_ignore_ascii_case(lang))
            .max_by_key(|t| (t.category != "*", std::cmp::Reverse(t.id)))
    })
}

/// What became of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeOutcome {
    /// Rendered and queued in the outbox.
    Queued,
    /// Not sent: these variables had no value.
    Refused(Vec<String>),
    /// Not sent: no template fits.
    NoTemplate,
}

impl NoticeOutcome {
    /// The stored status: `queued`, `refused` or `no_template`.
    pub fn as_str(&self) -> &'static str {
        match self {
            NoticeOutcome::Queued => "queued",
            NoticeOutcome::Refused(_) => "refused",
            NoticeOutcome::NoTemplate => "no_template",
        }
    }
}

/// What a notice tells of: an action, as ordered or reversed.
#[derive(Debug, Clone)]
pub struct NoticeDraft<'a> {
    /// The template type: the action's type, or [`REVERSAL`].
    pub kind: &'a str,
    /// The action.
    pub action: &'a ActionKind,
    /// What it acts on.
    pub target: &'a SubjectRef,
    /// The owner of the case's subject (who hears of actions on content).
    pub subject_owner: Option<&'a SubjectRef>,
    /// How long, in seconds.
    pub duration_seconds: Option<i64>,
    /// When it ends.
    pub expires_at: Option<Timestamp>,
    /// The decision's category.
    pub category: &'a str,
    /// The decision's reason code.
    pub reason_code: Option<&'a str>,
    /// The decision's policy id or section.
    pub policy_id: Option<&'a str>,
    /// The policy the decision was made under (for names).
    pub policy: &'a EnforcementPolicy,
    /// The case's language.
    pub language: Option<&'a LanguageTag>,
    /// Whether the decision has a statement of reasons to name.
    pub statement: bool,
    /// When the notice is written.
    pub now: Timestamp,
}

/// A notice a plan writes (`A` names the action it tells of).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedNotice<A> {
    /// The action it tells of.
    pub action: A,
    /// Who gets it: the account acted on, or the owner of what was acted on.
    pub recipient: SubjectRef,
    /// Its language (the template's, else the case's).
    pub language: String,
    /// The template chosen, if any.
    pub template: Option<NoticeTemplate>,
    /// The variables known when planning; `decision_id` and `statement_id`
    /// are filled in by [`PlannedNotice::render`].
    pub values: BTreeMap<String, String>,
    /// Whether `statement_id` has a value.
    pub statement: bool,
    /// Queued, refused or without a template.
    pub outcome: NoticeOutcome,
}

impl<A> PlannedNotice<A> {
    /// The notice's text for the decision with id `decision`, when it is
    /// queued. The outcome was decided when planning: ids are never empty.
    pub fn render(&self, decision: DecisionId) -> Option<Rendered> {
        if self.outcome != NoticeOutcome::Queued {
            return None;
        }
        let template = self.template.as_ref()?;
        render(
            &template.subject,
            &template.body,
            &self.values_for(Some(decision)),
        )
        .ok()
    }

    fn values_for(&self, decision: Option<DecisionId>) -> BTreeMap<String, String> {
        let mut values = self.values.clone();
        // Before the decision is written its id is unknown but certain to
        // exist; any non-empty stand-in decides the outcome the same way.
        let id = decision.map_or_else(|| "0".to_string(), |d| d.to_string());
        if self.statement {
            values.insert(
                "statement_id".into(),
                crate::dsa::puid(decision.unwrap_or(DecisionId(0))),
            );
        }
        values.insert("decision_id".into(), id);
        values
    }
}

/// Plans the notice of an action: its recipient (none, no notice), the
/// template, the variables and whether it can be sent.
pub fn plan_notice<A>(
    action: A,
    draft: &NoticeDraft<'_>,
    templates: &[NoticeTemplate],
) -> Option<PlannedNotice<A>> {
    let recipient = if draft.target.kind == SubjectKind::Account {
        draft.target.clone()
    } else {
        draft.subject_owner?.clone()
    };
    let language = draft.language.cloned().unwrap_or_else(LanguageTag::english);
    let chosen = choose_template(templates, draft.kind, draft.category, &language);
    let mut notice = PlannedNotice {
        action,
        language: chosen.map_or_else(|| language.to_string(), |t| t.language.clone()),
        template: chosen.cloned(),
        values: notice_values(draft, &recipient),
        recipient,
        statement: draft.statement,
        outcome: NoticeOutcome::NoTemplate,
    };
    if let Some(template) = chosen {
        notice.outcome = match render(&template.subject, &template.body, &notice.values_for(None)) {
            Ok(_) => NoticeOutcome::Queued,
            Err(missing) => NoticeOutcome::Refused(missing),
        };
    }
    Some(notice)
}

fn notice_values(draft: &NoticeDraft<'_>, recipient: &SubjectRef) -> BTreeMap<String, String> {
    let category = draft.policy.category(draft.category);
    let mut values = BTreeMap::new();
    let mut set = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            values.insert(name.to_string(), value);
        }
    };
    let (feature, label) = match draft.action {
        ActionKind::Restrict { feature } => (Some(feature.clone()), None),
        ActionKind::Label { label } => (None, Some(label.clone())),
        _ => (None, None),
    };
    set("action", Some(draft.action.type_name().into()));
    set(
        "action_name",
        Some(action_name(draft.action.type_name()).into()),
    );
    set("category", Some(draft.category.into()));
    set(
        "category_name",
        Some(category.map_or_else(|| draft.category.to_string(), |c| c.name.clone())),
    );
    set("reason_code", draft.reason_code.map(str::to_string));
    set(
        "reason_name",
        draft.reason_code.and_then(|code| {
            category?
                .reason_codes
                .iter()
                .find(|r| r.code == code)
                .map(|r| r.name.clone())
        }),
    );
    set("policy", draft.policy_id.map(str::to_string));
    set(
        "duration",
        draft
            .duration_seconds
            .map(|s| format_iso8601_duration(Duration::seconds(s))),
    );
    set(
        "end_date",
        draft.expires_at.map(|t| t.format("%Y-%m-%d").to_string()),
    );
    set("feature", feature);
    set("label", label);
    set("subject_kind", Some(draft.target.kind.as_str().into()));
    set("subject_id", Some(draft.target.id.as_str().into()));
    set("account_id", Some(recipient.id.as_str().into()));
    set("date", Some(draft.now.format("%Y-%m-%d").to_string()));
    values
}

/// What an appellant's notice tells of: the outcome of their appeal.
#[derive(Debug, Clone)]
pub struct AppealNoticeDraft<'a> {
    /// The template type: one of [`APPEAL_KINDS`].
    pub kind: &'a str,
    /// `upheld`, `overturned` or `modified`.
    pub outcome: &'a str,
    /// The platform's id of the appellant's appeal.
    pub appeal_id: &'a str,
    /// When the appeal was made.
    pub appealed_at: Timestamp,
    /// Who appealed: they get the notice.
    pub appellant: &'a SubjectRef,
    /// Their language, else the case's.
    pub language: Option<&'a LanguageTag>,
    /// The decision appealed.
    pub original_decision: DecisionId,
    /// What the decision was about.
    pub subject: &'a SubjectRef,
    /// The category of the decision in force afterwards.
    pub category: &'a str,
    /// Its reason code.
    pub reason_code: Option<&'a str>,
    /// Its policy id or section.
    pub policy_id: Option<&'a str>,
    /// The policy it was made under (for names).
    pub policy: &'a EnforcementPolicy,
    /// Whether the decision in force afterwards has a statement of reasons.
    pub statement: bool,
    /// When the notice is written.
    pub now: Timestamp,
}

/// Plans an appellant's notice: the `appeal.*` template of the outcome in
/// the appellant's language (falling back as [`choose_template`] does),
/// its variables, and whether it can be sent. `decision_id` and
/// `statement_id` are those of the decision in force afterwards, given to
/// [`PlannedNotice::render`] (the original for upheld and overturned, the
/// replacement for modified).
pub fn plan_appeal_notice<A>(
    key: A,
    draft: &AppealNoticeDraft<'_>,
    templates: &[NoticeTemplate],
) -> PlannedNotice<A> {
    let language = draft.language.cloned().unwrap_or_else(LanguageTag::english);
    let chosen = choose_template(templates, draft.kind, draft.category, &language);
    let category = draft.policy.category(draft.category);
    let mut values = BTreeMap::new();
    let mut set = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            values.insert(name.to_string(), value);
        }
    };
    set("appeal_id", Some(draft.appeal_id.into()));
    set("outcome", Some(draft.outcome.into()));
    set(
        "original_decision_id",
        Some(draft.original_decision.to_string()),
    );
    set(
        "appeal_date",
        Some(draft.appealed_at.format("%Y-%m-%d").to_string()),
    );
    set("category", Some(draft.category.into()));
    set(
        "category_name",
        Some(category.map_or_else(|| draft.category.to_string(), |c| c.name.clone())),
    );
    set("reason_code", draft.reason_code.map(str::to_string));
    set(
        "reason_name",
        draft.reason_code.and_then(|code| {
            category?
                .reason_codes
                .iter()
                .find(|r| r.code == code)
                .map(|r| r.name.clone())
        }),
    );
    set("policy", draft.policy_id.map(str::to_string));
    set("subject_kind", Some(draft.subject.kind.as_str().into()));
    set("subject_id", Some(draft.subject.id.as_str().into()));
    set("account_id", Some(draft.appellant.id.as_str().into()));
    set("date", Some(draft.now.format("%Y-%m-%d").to_string()));
    let mut notice = PlannedNotice {
        action: key,
        recipient: draft.appellant.clone(),
        language: chosen.map_or_else(|| language.to_string(), |t| t.language.clone()),
        template: chosen.cloned(),
        values,
        statement: draft.statement,
        outcome: NoticeOutcome::NoTemplate,
    };
    if let Some(template) = chosen {
        notice.outcome = match render(&template.subject, &template.body, &notice.values_for(None)) {
            Ok(_) => NoticeOutcome::Queued,
            Err(missing) => NoticeOutcome::Refused(missing),
        };
    }
    notice
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
    fn subjects_and_bodies_at_their_limits() {
        let subject = "é".repeat(NOTICE_SUBJECT_CHARS_MAX);
        let body = "é".repeat(NOTICE_BODY_CHARS_MAX);
        assert!(check_template(&subject, &body).is_ok());
        let long_subject = check_template(&format!("{subject}é"), &body).unwrap_err();
        assert_eq!(long_subject.0.len(), 1);
        assert_eq!(long_subject.0[0].field, "subject");
        let long_body = check_template(&subject, &format!("{body}é")).unwrap_err();
        assert_eq!(long_body.0.len(), 1);
        assert_eq!(long_body.0[0].field, "body");
    }

    #[test]
    fn appeal_templates_have_their_own_variables() {
        for kind in APPEAL_KINDS {
            assert!(is_template_action(kind));
            assert!(check_template_for(
                kind,
                "Your appeal {{appeal_id}}",
                "Decision {{original_decision_id}} is {{outcome}} ({{category_name}}, {{statement_id}})."
            )
            .is_ok());
            let errors =
                check_template_for(kind, "Appeal", "It ends on {{end_date}}.").unwrap_err();
            assert!(errors.0[0].reason.contains("{{end_date}}"), "{errors}");
        }
        for (kind, subject, body) in DEFAULT_APPEAL_TEMPLATES {
            assert_eq!(check_template_for(kind, subject, body), Ok(()), "{kind}");
        }
        assert!(check_template_for("warn", "x", "{{appeal_id}}").is_err());
        assert!(check_template_for("warn", "x", "{{end_date}}").is_ok());
        assert!(!is_template_action("appeal.maybe"));
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
