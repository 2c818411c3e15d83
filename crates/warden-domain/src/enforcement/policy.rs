//! One version of the enforcement policy: the taxonomy document that the
//! policy team owns — categories, reason codes and their DSA mapping,
//! strike rules, the enforcement matrix and the protected account tags —
//! with its JSON form and the built-in defaults.
//!
//! An [`EnforcementPolicy`] is stored as a JSON document (its own contract,
//! read and written by [`EnforcementPolicy::from_json`] and
//! [`EnforcementPolicy::to_json`]); a decision records the version it was
//! made under, so later edits never change the meaning of old decisions.
//!
//! The matrix maps category × severity × prior active strike weight to a
//! recommended action on the account's ladder (warning → feature
//! restriction → temporary suspension → ban); [`super::assess`] compares a
//! decision with it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use serde_json::{json, Value};

use crate::case::Severity;
use crate::decision::{ActionKind, ActionSpec, StrikeRule};
use crate::dsa;
use crate::duration::{format_iso8601_duration, parse_iso8601_duration};
use crate::ids::parse_code;
use crate::limits::{MATRIX_ROWS_MAX, POLICY_CATEGORIES_MAX, REASON_CODES_MAX};
use crate::taxonomy::{Category, Taxonomy};
use crate::FieldErrors;

/// A step on an account's enforcement ladder, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rung {
    /// A warning.
    Warning,
    /// One feature taken away for a while.
    Restriction,
    /// The account suspended for a while.
    Suspension,
    /// The account banned for good.
    Ban,
}

impl Rung {
    /// The rung an action stands on; `None` for actions on content,
    /// transactions or labels, which are not on the account ladder.
    pub fn of(kind: &ActionKind) -> Option<Rung> {
        match kind {
            ActionKind::Warn => Some(Rung::Warning),
            ActionKind::Restrict { .. } => Some(Rung::Restriction),
            ActionKind::Suspend => Some(Rung::Suspension),
            ActionKind::Ban => Some(Rung::Ban),
            _ => None,
        }
    }

    /// The name used in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Rung::Warning => "warning",
            Rung::Restriction => "restriction",
            Rung::Suspension => "suspension",
            Rung::Ban => "ban",
        }
    }
}

/// Which legal basis a statement of reasons names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsaGround {
    /// The content breaks the platform's terms and conditions.
    IncompatibleContent,
    /// The content is illegal.
    IllegalContent,
}

impl DsaGround {
    /// The document's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            DsaGround::IncompatibleContent => "incompatible_content",
            DsaGround::IllegalContent => "illegal_content",
        }
    }
}

/// How a category appears in a DSA statement of reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsaMapping {
    /// A `STATEMENT_CATEGORY_*` key.
    pub category: String,
    /// `KEYWORD_*` keys refining it.
    pub keywords: Vec<String>,
    /// What `KEYWORD_OTHER` means here, if it is used.
    pub keyword_other: Option<String>,
    /// Terms-and-conditions or illegal content.
    pub ground: DsaGround,
    /// For illegal content: the law broken.
    pub legal_ground: Option<String>,
}

/// A reason code under a category, e.g. `spam.bulk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCode {
    /// The code.
    pub code: String,
    /// A short human name.
    pub name: String,
}

/// One category of the versioned taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCategory {
    /// The taxonomy code.
    pub code: String,
    /// A short human name.
    pub name: String,
    /// Default severity of its cases and decisions.
    pub severity: Severity,
    /// Reason codes a decision may name.
    pub reason_codes: Vec<ReasonCode>,
    /// The DSA mapping.
    pub dsa: DsaMapping,
    /// Where the rule is published (the statement's reference URL), if anywhere.
    pub reference_url: Option<String>,
}

/// One row of the enforcement matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRow {
    /// The category it applies to; `None` for any.
    pub category: Option<String>,
    /// The severity it applies to; `None` for any.
    pub severity: Option<Severity>,
    /// The least prior active strike weight at which it applies.
    pub strikes_min: i64,
    /// The recommended account action.
    pub action: ActionSpec,
}

/// One version of the enforcement policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnforcementPolicy {
    categories: BTreeMap<String, PolicyCategory>,
    strike_rules: BTreeMap<Severity, StrikeRule>,
    matrix: Vec<MatrixRow>,
    /// Account tags whose accounts need a lead's approval for any action.
    pub protected_tags: Vec<String>,
    /// Countries of the platform's service, for statements of reasons.
    pub territorial_scope: Vec<String>,
    /// Where the terms and conditions are published, if anywhere.
    pub reference_url: Option<String>,
}

impl EnforcementPolicy {
    /// The category with `code`.
    pub fn category(&self, code: &str) -> Option<&PolicyCategory> {
        self.categories.get(code)
    }

    /// Every category, by code.
    pub fn categories(&self) -> impl Iterator<Item = &PolicyCategory> {
        self.categories.values()
    }

    /// The strike a violation of `severity` leaves.
    pub fn strike_rule(&self, severity: Severity) -> StrikeRule {
        self.strike_rules
            .get(&severity)
            .copied()
            .unwrap_or_else(|| crate::decision::strike_rule(severity))
    }

    /// The matrix rows, in the order given.
    pub fn matrix(&self) -> &[MatrixRow] {
        &self.matrix
    }

    /// The taxonomy of codes, names and severities, as intake and routing use it.
    pub fn taxonomy(&self) -> Taxonomy {
        let mut taxonomy = Taxonomy::default();
        for category in self.categories.values() {
            taxonomy.insert(Category {
                code: category.code.clone(),
                name: category.name.clone(),
                severity: category.severity,
            });
        }
        taxonomy
    }

    /// Adds the categories of `taxonomy` this version lacks, with default
    /// mappings; returns the codes added.
    pub fn add_missing(&mut self, taxonomy: &Taxonomy) -> Vec<String> {
        let mut added = Vec::new();
        for category in taxonomy.categories() {
            if !self.categories.contains_key(&category.code) {
                self.categories
                    .insert(category.code.clone(), default_category(category));
                added.push(category.code.clone());
            }
        }
        added
    }

    /// The recommended account action for a situation, by the most specific
    /// matching rows (category and severity named beat wildcards) and the
    /// highest threshold reached.
    pub fn recommended_account_action(
        &self,
        category: &str,
        severity: Severity,
        prior_strike_weight: i64,
    ) -> Option<ActionSpec> {
        let specificity = |row: &MatrixRow| -> Option<u8> {
            let category_score = match &row.category {
                Some(code) if code == category => 2,
                Some(_) => return None,
                None => 0,
            };
            let severity_score = match row.severity {
                Some(s) if s == severity => 1,
                Some(_) => return None,
                None => 0,
            };
            Some(category_score + severity_score)
        };
        // The most specific level that has a row for this many strikes wins.
        (0..=3u8).rev().find_map(|level| {
            self.matrix
                .iter()
                .filter(|row| specificity(row) == Some(level))
                .filter(|row| row.strikes_min <= prior_strike_weight.max(0))
                .max_by_key(|row| row.strikes_min)
                .map(|row| row.action.clone())
        })
    }

    /// Parses and checks a policy document, naming every field at fault.
    pub fn from_json(document: &Value) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(object) = document.as_object() else {
            return Err(FieldErrors(vec![crate::FieldError::new(
                "",
                "must be a JSON object with categories, strikes and matrix",
            )]));
        };
        for key in object.keys() {
            if !matches!(
                key.as_str(),
                "categories" | "strikes" | "matrix" | "protected_tags" | "dsa"
            ) {
                errors.push(
                    key.as_str(),
                    "unknown field; expected categories, strikes, matrix, protected_tags or dsa",
                );
            }
        }
        let categories = parse_categories(object, &mut errors);
        let strike_rules = parse_strikes(object, &mut errors);
        let matrix = parse_matrix(object, &categories, &mut errors);
        let protected_tags = match object.get("protected_tags") {
            None | Some(Value::Null) => vec!["high_visibility".into(), "partner".into()],
            Some(value) => errors
                .take("protected_tags", string_list(value, 32, parse_code))
                .unwrap_or_default(),
        };
        let dsa_block = object.get("dsa").cloned().unwrap_or(Value::Null);
        let territorial_scope = match dsa_block.get("territorial_scope") {
            None | Some(Value::Null) => dsa::EEA_COUNTRIES.iter().map(|c| c.to_string()).collect(),
            Some(value) => errors
                .take(
                    "dsa.territorial_scope",
                    string_list(value, 30, |code| {
                        if dsa::COUNTRIES.contains(&code) {
                            Ok(code.to_string())
                        } else {
                            Err(format!(
                                "{code:?} is not an EU or EEA country code (Greece is GR)"
                            ))
                        }
                    }),
                )
                .unwrap_or_default(),
        };
        let reference_url = match dsa_block.get("reference_url") {
            None | Some(Value::Null) => None,
            Some(value) => errors.take("dsa.reference_url", reference_url(value)),
        };
        errors.finish(|| EnforcementPolicy {
            categories,
            strike_rules,
            matrix,
            protected_tags,
            territorial_scope,
            reference_url,
        })
    }

    /// The document, in the shape [`EnforcementPolicy::from_json`] reads.
    pub fn to_json(&self) -> Value {
        let categories: Vec<Value> = self
            .categories
            .values()
            .map(|c| {
                let mut dsa = json!({
                    "category": c.dsa.category,
                    "keywords": c.dsa.keywords,
                    "ground": c.dsa.ground.as_str(),
                });
                if let Some(other) = &c.dsa.keyword_other {
                    dsa["keyword_other"] = json!(other);
                }
                if let Some(legal) = &c.dsa.legal_ground {
                    dsa["legal_ground"] = json!(legal);
                }
                let mut category = json!({
                    "code": c.code,
                    "name": c.name,
                    "severity": c.severity.as_str(),
                    "reason_codes": c.reason_codes.iter().map(|r| json!({"code": r.code, "name": r.name})).collect::<Vec<_>>(),
                    "dsa": dsa,
                });
                if let Some(url) = &c.reference_url {
                    category["reference_url"] = json!(url);
                }
                category
            })
            .collect();
        let strikes: serde_json::Map<String, Value> = Severity::ALL
            .iter()
            .map(|s| {
                let rule = self.strike_rule(*s);
                (
                    s.as_str().to_string(),
                    json!({"weight": rule.weight, "expiry": format_iso8601_duration(rule.lifetime)}),
                )
            })
            .collect();
        let matrix: Vec<Value> = self
            .matrix
            .iter()
            .map(|row| {
                json!({
                    "category": row.category.clone().unwrap_or_else(|| "*".into()),
                    "severity": row.severity.map_or("*", |s| s.as_str()),
                    "strikes_min": row.strikes_min,
                    "action": action_json(&row.action),
                })
            })
            .collect();
        let mut dsa = json!({"territorial_scope": self.territorial_scope});
        if let Some(url) = &self.reference_url {
            dsa["reference_url"] = json!(url);
        }
        json!({
            "categories": categories,
            "strikes": strikes,
            "matrix": matrix,
            "protected_tags": self.protected_tags,
            "dsa": dsa,
        })
    }

    /// The built-in policy over `taxonomy`: every category with its DSA
    /// mapping and reason codes, the default strike rules and matrix.
    pub fn default_for(taxonomy: &Taxonomy) -> Self {
        let categories = taxonomy
            .categories()
            .map(|c| (c.code.clone(), default_category(c)))
            .collect();
        let strike_rules = Severity::ALL
            .iter()
            .map(|s| (*s, crate::decision::strike_rule(*s)))
            .collect();
        let any = |severity: Severity, strikes_min: i64, action: ActionSpec| MatrixRow {
            category: None,
            severity: Some(severity),
            strikes_min,
            action,
        };
        let matrix = vec![
            any(Severity::Low, 0, spec(ActionKind::Warn, None)),
            any(Severity::Low, 3, restrict("posting", 3)),
            any(Severity::Low, 6, spec(ActionKind::Suspend, Some(7))),
            any(Severity::Low, 10, spec(ActionKind::Ban, None)),
            any(Severity::Medium, 0, spec(ActionKind::Warn, None)),
            any(Severity::Medium, 2, restrict("posting", 7)),
            any(Severity::Medium, 4, spec(ActionKind::Suspend, Some(7))),
            any(Severity::Medium, 8, spec(ActionKind::Suspend, Some(30))),
            any(Severity::Medium, 12, spec(ActionKind::Ban, None)),
            any(Severity::High, 0, spec(ActionKind::Suspend, Some(3))),
            any(Severity::High, 3, spec(ActionKind::Suspend, Some(30))),
            any(Severity::High, 6, spec(ActionKind::Ban, None)),
            any(Severity::Critical, 0, spec(ActionKind::Ban, None)),
            // A compromised account's owner is a victim: lock it while they
            // recover it, whatever the severity.
            MatrixRow {
                category: Some("account_compromise".into()),
                severity: None,
                strikes_min: 0,
                action: spec(ActionKind::Suspend, Some(1)),
            },
        ]
        .into_iter()
        .filter(|row| {
            row.category
                .as_ref()
                .is_none_or(|code| taxonomy.get(code).is_some())
        })
        .collect();
        EnforcementPolicy {
            categories,
            strike_rules,
            matrix,
            protected_tags: vec!["high_visibility".into(), "partner".into()],
            territorial_scope: dsa::EEA_COUNTRIES.iter().map(|c| c.to_string()).collect(),
            reference_url: None,
        }
    }
}

pub(super) fn spec(kind: ActionKind, days: Option<i64>) -> ActionSpec {
    ActionSpec {
        kind,
        duration: days.map(Duration::days),
    }
}

fn restrict(feature: &str, days: i64) -> ActionSpec {
    spec(
        ActionKind::Restrict {
            feature: feature.into(),
        },
        Some(days),
    )
}

/// An action as the policy document and answers write it.
pub fn action_json(action: &ActionSpec) -> Value {
    let mut value = json!({"type": action.kind.type_name()});
    if let Some(duration) = action.duration {
        value["duration"] = json!(format_iso8601_duration(duration));
    }
    match &action.kind {
        ActionKind::Restrict { feature } => value["feature"] = json!(feature),
        ActionKind::Label { label } => value["label"] = json!(label),
        _ => {}
    }
    value
}

/// Reads an action written by [`action_json`].
pub fn action_from_json(value: &Value) -> Result<ActionSpec, FieldErrors> {
    let mut errors = FieldErrors::default();
    let Some(type_name) = value.get("type").and_then(Value::as_str) else {
        return Err(crate::FieldError::new("type", "is required").into());
    };
    let duration = match value.get("duration") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => errors.take("duration", parse_iso8601_duration(text)),
        Some(_) => {
            errors.push("duration", "must be an ISO 8601 duration");
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    crate::decision::check_action(
        type_name,
        duration,
        value.get("feature").and_then(Value::as_str),
        value.get("label").and_then(Value::as_str),
    )
}

fn string_list(
    value: &Value,
    max: usize,
    check: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, String> {
    let items = value.as_array().ok_or("must be a list of strings")?;
    if items.len() > max {
        return Err(format!("at most {max} entries"));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let text = item.as_str().ok_or("must be a list of strings")?;
        let checked = check(text)?;
        if !out.contains(&checked) {
            out.push(checked);
        }
    }
    Ok(out)
}

fn bounded_text(value: &Value, max: usize) -> Result<String, String> {
    let text = value.as_str().ok_or("must be a string")?.trim();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(text.to_string())
}

fn reference_url(value: &Value) -> Result<String, String> {
    let text = bounded_text(value, 500)?;
    if dsa::is_valid_url(&text) {
        Ok(text)
    } else {
        Err("must be a URL the Transparency Database accepts (scheme://host/path)".into())
    }
}

fn parse_category(value: &Value) -> Result<PolicyCategory, FieldErrors> {
    let mut errors = FieldErrors::default();
    let code = match value.get("code") {
        Some(Value::String(code)) => errors.take("code", parse_code(code)),
        _ => {
            errors.push("code", "is required");
            None
        }
    };
    let name = match value.get("name") {
        Some(v) => errors.take("name", bounded_text(v, 200)),
        None => {
            errors.push("name", "is required");
            None
        }
    };
    let severity = match value.get("severity").and_then(Value::as_str) {
        Some(text) => errors.take("severity", text.parse::<Severity>()),
        None => {
            errors.push("severity", "is required: low, medium, high or critical");
            None
        }
    };
    let reason_codes = parse_reason_codes(value, &mut errors);
    let dsa_value = value.get("dsa").cloned().unwrap_or(Value::Null);
    let dsa_category = parse_dsa_category(&dsa_value, &mut errors);
    let (keywords, keyword_other) = parse_keywords(&dsa_value, &mut errors);
    let (ground, legal_ground) = parse_ground(&dsa_value, &mut errors);
    let reference = match value.get("reference_url") {
        None | Some(Value::Null) => None,
        Some(v) => errors.take("reference_url", reference_url(v)),
    };
    for key in value.as_object().map(|o| o.keys()).into_iter().flatten() {
        if !matches!(
            key.as_str(),
            "code" | "name" | "severity" | "reason_codes" | "dsa" | "reference_url"
        ) {
            errors.push(key.as_str(), "unknown field");
        }
    }
    match (code, name, severity, dsa_category) {
        (Some(code), Some(name), Some(severity), Some(dsa_category)) if errors.is_empty() => {
            Ok(PolicyCategory {
                code,
                name,
                severity,
                reason_codes,
                dsa: DsaMapping {
                    category: dsa_category,
                    keywords,
                    keyword_other,
                    ground,
                    legal_ground,
                },
                reference_url: reference,
            })
        }
        _ => Err(errors),
    }
}

/// A category's optional `reason_codes`: at most [`REASON_CODES_MAX`], each code once.
fn parse_reason_codes(value: &Value, errors: &mut FieldErrors) -> Vec<ReasonCode> {
    let mut reason_codes = Vec::new();
    match value.get("reason_codes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) if list.len() <= REASON_CODES_MAX => {
            let mut seen = BTreeSet::new();
            for (index, item) in list.iter().enumerate() {
                let field = format!("reason_codes[{index}]");
                let code = item
                    .get("code")
                    .and_then(Value::as_str)
                    .map(parse_code)
                    .unwrap_or_else(|| Err("needs a code".into()));
                let rname = item
                    .get("name")
                    .map(|v| bounded_text(v, 200))
                    .unwrap_or_else(|| Err("needs a name".into()));
                match (code, rname) {
                    (Ok(code), Ok(name)) => {
                        if !seen.insert(code.clone()) {
                            errors.push(format!("{field}.code"), "appears twice");
                        }
                        reason_codes.push(ReasonCode { code, name });
                    }
                    (Err(reason), _) => errors.push(format!("{field}.code"), reason),
                    (_, Err(reason)) => errors.push(format!("{field}.name"), reason),
                }
            }
        }
        Some(_) => errors.push(
            "reason_codes",
            format!("must be a list of at most {REASON_CODES_MAX} {{code, name}} objects"),
        ),
    }
    reason_codes
}

/// A category's `dsa.category`: a `STATEMENT_CATEGORY_*` key.
fn parse_dsa_category(dsa_value: &Value, errors: &mut FieldErrors) -> Option<String> {
    match dsa_value.get("category").and_then(Value::as_str) {
        Some(key) if dsa::CATEGORIES.contains(&key) => Some(key.to_string()),
        Some(key) => {
            errors.push(
                "dsa.category",
                format!("{key:?} is not a STATEMENT_CATEGORY_* key of the Transparency Database"),
            );
            None
        }
        None => {
            errors.push("dsa.category", "is required: a STATEMENT_CATEGORY_* key");
            None
        }
    }
}

/// A category's `dsa.keywords` and `dsa.keyword_other` (required with `KEYWORD_OTHER`).
fn parse_keywords(dsa_value: &Value, errors: &mut FieldErrors) -> (Vec<String>, Option<String>) {
    let keywords = match dsa_value.get("keywords") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => errors
            .take(
                "dsa.keywords",
                string_list(v, 69, |key| {
                    if dsa::KEYWORDS.contains(&key) {
                        Ok(key.to_string())
                    } else {
                        Err(format!(
                            "{key:?} is not a KEYWORD_* key of the Transparency Database"
                        ))
                    }
                }),
            )
            .unwrap_or_default(),
    };
    let keyword_other = match dsa_value.get("keyword_other") {
        None | Some(Value::Null) => None,
        Some(v) => errors.take("dsa.keyword_other", bounded_text(v, 500)),
    };
    if keywords.iter().any(|k| k == "KEYWORD_OTHER") && keyword_other.is_none() {
        errors.push(
            "dsa.keyword_other",
            "is required with KEYWORD_OTHER: say what the keyword means",
        );
    }
    (keywords, keyword_other)
}

/// A category's `dsa.ground` and `dsa.legal_ground` (required for illegal content).
fn parse_ground(dsa_value: &Value, errors: &mut FieldErrors) -> (DsaGround, Option<String>) {
    let ground = match dsa_value.get("ground").and_then(Value::as_str) {
        None | Some("incompatible_content") => DsaGround::IncompatibleContent,
        Some("illegal_content") => DsaGround::IllegalContent,
        Some(other) => {
            errors.push(
                "dsa.ground",
                format!("{other:?}: expected incompatible_content or illegal_content"),
            );
            DsaGround::IncompatibleContent
        }
    };
    let legal_ground = match dsa_value.get("legal_ground") {
        None | Some(Value::Null) => None,
        Some(v) => errors.take("dsa.legal_ground", bounded_text(v, 500)),
    };
    if ground == DsaGround::IllegalContent && legal_ground.is_none() {
        errors.push(
            "dsa.legal_ground",
            "is required for illegal content: name the law",
        );
    }
    (ground, legal_ground)
}

/// The `categories` list: 1 to [`POLICY_CATEGORIES_MAX`] categories, each code once.
fn parse_categories(
    object: &serde_json::Map<String, Value>,
    errors: &mut FieldErrors,
) -> BTreeMap<String, PolicyCategory> {
    let mut categories = BTreeMap::new();
    match object.get("categories").and_then(Value::as_array) {
        None => errors.push("categories", "is required: a list of categories"),
        Some(list) if list.is_empty() => errors.push("categories", "must not be empty"),
        Some(list) if list.len() > POLICY_CATEGORIES_MAX => errors.push(
            "categories",
            format!("at most {POLICY_CATEGORIES_MAX} categories"),
        ),
        Some(list) => {
            for (index, item) in list.iter().enumerate() {
                let prefix = format!("categories[{index}]");
                match parse_category(item) {
                    Ok(category) => {
                        if categories.contains_key(&category.code) {
                            errors.push(
                                format!("{prefix}.code"),
                                format!("{:?} appears twice", category.code),
                            );
                        } else {
                            categories.insert(category.code.clone(), category);
                        }
                    }
                    Err(found) => errors
                        .0
                        .extend(found.0.into_iter().map(|e| e.under(&prefix))),
                }
            }
        }
    }
    categories
}

/// The optional `strikes` object: a weight and an expiry per severity.
fn parse_strikes(
    object: &serde_json::Map<String, Value>,
    errors: &mut FieldErrors,
) -> BTreeMap<Severity, StrikeRule> {
    let mut strike_rules = BTreeMap::new();
    match object.get("strikes") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, rule) in map {
                let field = format!("strikes.{name}");
                let severity = errors.take(&field, name.parse::<Severity>());
                let weight = rule.get("weight").and_then(Value::as_i64);
                let expiry = rule
                    .get("expiry")
                    .and_then(Value::as_str)
                    .map(parse_iso8601_duration);
                match (severity, weight, expiry) {
                    (Some(severity), Some(weight), Some(Ok(lifetime)))
                        if (0..=100).contains(&weight) =>
                    {
                        strike_rules.insert(severity, StrikeRule { weight, lifetime });
                    }
                    (Some(_), _, Some(Err(reason))) => {
                        errors.push(format!("{field}.expiry"), reason)
                    }
                    (Some(_), _, _) => errors.push(
                        field,
                        "must be {\"weight\": 0 to 100, \"expiry\": ISO 8601 duration}",
                    ),
                    (None, _, _) => {}
                }
            }
        }
        Some(_) => errors.push("strikes", "must be an object keyed by severity"),
    }
    strike_rules
}

/// The `matrix` rows; when all else is well, every severity needs a row for
/// any category from zero strikes.
fn parse_matrix(
    object: &serde_json::Map<String, Value>,
    categories: &BTreeMap<String, PolicyCategory>,
    errors: &mut FieldErrors,
) -> Vec<MatrixRow> {
    let mut matrix = Vec::new();
    match object.get("matrix").and_then(Value::as_array) {
        None => errors.push("matrix", "is required: a list of rows"),
        Some(rows) if rows.len() > MATRIX_ROWS_MAX => {
            errors.push("matrix", format!("at most {MATRIX_ROWS_MAX} rows"))
        }
        Some(rows) => {
            for (index, row) in rows.iter().enumerate() {
                let prefix = format!("matrix[{index}]");
                match parse_row(row, categories) {
                    Ok(row) => matrix.push(row),
                    Err(found) => errors
                        .0
                        .extend(found.0.into_iter().map(|e| e.under(&prefix))),
                }
            }
            if errors.is_empty() {
                for severity in Severity::ALL {
                    let covered = matrix.iter().any(|row| {
                        row.category.is_none()
                            && row.severity.is_none_or(|s| s == severity)
                            && row.strikes_min == 0
                    });
                    if !covered {
                        errors.push(
                            "matrix",
                            format!("needs a row for any category at {severity} severity with strikes_min 0, so every decision has a recommendation"),
                        );
                    }
                }
            }
        }
    }
    matrix
}

fn parse_row(
    value: &Value,
    categories: &BTreeMap<String, PolicyCategory>,
) -> Result<MatrixRow, FieldErrors> {
    let mut errors = FieldErrors::default();
    let category = match value.get("category").and_then(Value::as_str) {
        None | Some("*") => None,
        Some(code) if categories.contains_key(code) => Some(code.to_string()),
        Some(code) => {
            errors.push(
                "category",
                format!("{code:?} is not a category of this document"),
            );
            None
        }
    };
    let severity = match value.get("severity").and_then(Value::as_str) {
        None | Some("*") => None,
        Some(text) => errors.take("severity", text.parse::<Severity>()),
    };
    let strikes_min = match value.get("strikes_min") {
        None => 0,
        Some(v) => match v.as_i64() {
            Some(n) if (0..=1000).contains(&n) => n,
            _ => {
                errors.push("strikes_min", "must be a whole number from 0 to 1000");
                0
            }
        },
    };
    let action = match value.get("action") {
        Some(v) => match action_from_json(v) {
            Ok(action) if Rung::of(&action.kind).is_some() => Some(action),
            Ok(_) => {
                errors.push(
                    "action.type",
                    "must be an account action: warn, restrict, suspend or ban",
                );
                None
            }
            Err(found) => {
                errors
                    .0
                    .extend(found.0.into_iter().map(|e| e.under("action")));
                None
            }
        },
        None => {
            errors.push("action", "is required");
            None
        }
    };
    match action {
        Some(action) if errors.is_empty() => Ok(MatrixRow {
            category,
            severity,
            strikes_min,
            action,
        }),
        _ => Err(errors),
    }
}

/// DSA category, keywords, what `KEYWORD_OTHER` means, ground, legal
/// ground, and reason codes (code, name).
type DefaultMapping = (
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
    DsaGround,
    Option<&'static str>,
    &'static [(&'static str, &'static str)],
);

/// The mapping of a category that is not built in: "other violation of
/// terms and conditions".
const OTHER_MAPPING: DefaultMapping = (
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    &[],
    None,
    DsaGround::IncompatibleContent,
    None,
    &[],
);

/// The default DSA mapping and reason codes of each built-in category.
const DEFAULT_MAPPINGS: &[(&str, DefaultMapping)] = &[
    (
        "spam",
        (
            "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            &["KEYWORD_OTHER"],
            Some("Spam"),
            DsaGround::IncompatibleContent,
            None,
            &[
                ("spam.bulk", "Bulk or repetitive posting"),
                ("spam.links", "Deceptive or unwanted links"),
                ("spam.engagement", "Fake engagement"),
            ],
        ),
    ),
    (
        "scam",
        (
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            &[],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[
                ("scam.advance_fee", "Advance-fee or prize scam"),
                ("scam.investment", "Investment or crypto scam"),
                ("scam.romance", "Romance scam"),
            ],
        ),
    ),
    (
        "fraud",
        (
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            &[],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[
                ("fraud.stolen_card", "Stolen payment instrument"),
                ("fraud.chargeback", "Chargeback abuse"),
            ],
        ),
    ),
    (
        "phishing",
        (
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            &["KEYWORD_PHISHING"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("phishing.credentials", "Credential harvesting")],
        ),
    ),
    (
        "impersonation",
        (
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            &["KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[
                ("impersonation.person", "Impersonating a person"),
                ("impersonation.brand", "Impersonating a brand or organisation"),
            ],
        ),
    ),
    (
        "harassment",
        (
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            &["KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_BULLYING_INTIMIDATION"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[
                ("harassment.targeted", "Targeted harassment"),
                ("harassment.brigading", "Coordinated pile-on"),
            ],
        ),
    ),
    (
        "hate",
        (
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            &["KEYWORD_HATE_SPEECH"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[
                ("hate.slur", "Slurs against a protected group"),
                ("hate.dehumanisation", "Dehumanising speech"),
            ],
        ),
    ),
    (
        "violent_threat",
        (
            "STATEMENT_CATEGORY_VIOLENCE",
            &["KEYWORD_INCITEMENT_VIOLENCE_HATRED"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("violent_threat.direct", "Direct threat of violence")],
        ),
    ),
    (
        "self_harm",
        (
            "STATEMENT_CATEGORY_SELF_HARM",
            &["KEYWORD_SUICIDE", "KEYWORD_SELF_MUTILATION"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("self_harm.promotion", "Promotion of self-harm")],
        ),
    ),
    (
        "child_safety",
        (
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            &["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
            None,
            DsaGround::IllegalContent,
            Some("Directive 2011/93/EU on combating the sexual abuse and sexual exploitation of children and child pornography"),
            &[
                ("child_safety.csam", "Child sexual abuse material"),
                ("child_safety.grooming", "Grooming"),
            ],
        ),
    ),
    (
        "extremism",
        (
            "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
            &["KEYWORD_TERRORIST_CONTENT"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("extremism.propaganda", "Violent extremist propaganda")],
        ),
    ),
    (
        "ip_infringement",
        (
            "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            &["KEYWORD_COPYRIGHT_INFRINGEMENT", "KEYWORD_TRADEMARK_INFRINGEMENT"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[
                ("ip_infringement.copyright", "Copyright infringement"),
                ("ip_infringement.trademark", "Trademark infringement"),
            ],
        ),
    ),
    (
        "counterfeit",
        (
            "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            &["KEYWORD_TRADEMARK_INFRINGEMENT"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("counterfeit.goods", "Counterfeit goods")],
        ),
    ),
    (
        "account_compromise",
        (
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            &["KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("account_compromise.takeover", "Account takeover")],
        ),
    ),
    (
        "coordinated_inauthentic_behaviour",
        (
            "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            &["KEYWORD_INAUTHENTIC_ACCOUNTS"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[
                ("cib.network", "Network of fake accounts"),
                ("cib.amplification", "Inauthentic amplification"),
            ],
        ),
    ),
    (
        "adult_content",
        (
            "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
            &["KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_NUDITY"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("adult_content.explicit", "Explicit sexual content")],
        ),
    ),
    (
        "illegal_goods",
        (
            "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
            &["KEYWORD_PROHIBITED_PRODUCTS"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[
                ("illegal_goods.weapons", "Weapons"),
                ("illegal_goods.drugs", "Drugs"),
            ],
        ),
    ),
    (
        "privacy",
        (
            "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            &[],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("privacy.doxxing", "Publishing private information")],
        ),
    ),
    (
        "misinformation",
        (
            "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
            &["KEYWORD_MISINFORMATION_DISINFORMATION"],
            None,
            DsaGround::IncompatibleContent,
            None,
            &[("misinformation.health", "Harmful health misinformation")],
        ),
    ),
];

/// The default DSA mapping and reason codes of a built-in category; other
/// categories map to "other violation of terms and conditions".
fn default_category(category: &Category) -> PolicyCategory {
    let (dsa_category, keywords, other, ground, legal, reasons): DefaultMapping = DEFAULT_MAPPINGS
        .iter()
        .find(|(code, _)| *code == category.code)
        .map_or(OTHER_MAPPING, |(_, mapping)| *mapping);
    PolicyCategory {
        code: category.code.clone(),
        name: category.name.clone(),
        severity: category.severity,
        reason_codes: reasons
            .iter()
            .map(|(code, name)| ReasonCode {
                code: code.to_string(),
                name: name.to_string(),
            })
            .collect(),
        dsa: DsaMapping {
            category: dsa_category.into(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            keyword_other: other.map(str::to_string),
            ground,
            legal_ground: legal.map(str::to_string),
        },
        reference_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> EnforcementPolicy {
        EnforcementPolicy::default_for(&Taxonomy::default())
    }

    #[test]
    fn the_document_round_trips_and_is_checked() {
        let policy = policy();
        let document = policy.to_json();
        let back = EnforcementPolicy::from_json(&document).unwrap();
        assert_eq!(back, policy);

        let mut bad = document.clone();
        bad["categories"][0]["dsa"]["category"] =
            json!("STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT");
        bad["categories"][1]["dsa"]["keywords"] = json!(["KEYWORD_DISINFORMATION"]);
        bad["matrix"][0]["action"] = json!({"type": "remove_content"});
        bad["colour"] = json!("blue");
        let errors = EnforcementPolicy::from_json(&bad).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"categories[0].dsa.category"), "{fields:?}");
        assert!(fields.contains(&"categories[1].dsa.keywords"), "{fields:?}");
        assert!(fields.contains(&"matrix[0].action.type"), "{fields:?}");
        assert!(fields.contains(&"colour"), "{fields:?}");

        let mut uncovered = document;
        uncovered["matrix"] =
            json!([{"category": "*", "severity": "low", "action": {"type": "warn"}}]);
        let errors = EnforcementPolicy::from_json(&uncovered).unwrap_err();
        assert!(errors.to_string().contains("medium"), "{errors}");
    }

    /// The default document with `count` categories (copies of the first,
    /// renamed), `reasons` reason codes on the first, and `rows` matrix rows.
    fn document_with(count: usize, reasons: usize, rows: usize) -> Value {
        let mut document = policy().to_json();
        let first = document["categories"][0].clone();
        let categories: Vec<Value> = (0..count)
            .map(|i| {
                let mut category = first.clone();
                category["code"] = json!(format!("limit_{i}"));
                category
            })
            .collect();
        document["categories"] = json!(categories);
        document["categories"][0]["reason_codes"] = json!((0..reasons)
            .map(|i| json!({"code": format!("r_{i}"), "name": format!("Reason {i}")}))
            .collect::<Vec<_>>());
        let catch_all =
            json!({"category": "*", "severity": "*", "strikes_min": 0, "action": {"type": "warn"}});
        document["matrix"] = json!(vec![catch_all; rows]);
        document
    }

    fn fields_at_fault(document: &Value) -> Vec<String> {
        EnforcementPolicy::from_json(document)
            .err()
            .map(|e| e.0.into_iter().map(|e| e.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn categories_reason_codes_and_matrix_rows_at_their_limits() {
        let at_max = document_with(POLICY_CATEGORIES_MAX, REASON_CODES_MAX, MATRIX_ROWS_MAX);
        assert_eq!(fields_at_fault(&at_max), Vec::<String>::new());
        assert_eq!(
            fields_at_fault(&document_with(POLICY_CATEGORIES_MAX + 1, 1, 1)),
            ["categories"]
        );
        assert_eq!(
            fields_at_fault(&document_with(1, REASON_CODES_MAX + 1, 1)),
            ["categories[0].reason_codes"]
        );
        assert_eq!(
            fields_at_fault(&document_with(1, 1, MATRIX_ROWS_MAX + 1)),
            ["matrix"]
        );
    }

    #[test]
    fn every_built_in_category_maps_to_valid_dsa_keys() {
        for category in policy().categories() {
            assert!(dsa::CATEGORIES.contains(&category.dsa.category.as_str()));
            for keyword in &category.dsa.keywords {
                assert!(dsa::KEYWORDS.contains(&keyword.as_str()), "{keyword}");
            }
        }
    }
}
