//! Rule files: TOML with `[[rule]]` and `[[list]]` tables.
//!
//! ```toml
//! [[rule]]
//! id = "link-spam-new-accounts"
//! name = "Link spam from new accounts"
//! description = "Accounts under two days old posting links to known spam domains."
//! owner = "detection"
//! category = "spam"            # a taxonomy code
//! severity = "medium"          # optional; the category's by default
//! mode = "live"                # live, shadow or disabled
//! expression = 'actor_age_days < 2 & in_list("spam_domains", domains)'
//! [rule.outcome]
//! case = { queue = "spam", priority = 20 }   # open or join a case (queue optional)
//! label = { name = "link_spammer", expires = "P7D" }
//! throttle = { hits = 3, window = "1h", key = "actor" }  # act from the 3rd hit per actor per hour
//! action = { type = "remove_content" }      # recorded as automated, pending delivery
//!
//! [[list]]
//! name = "spam_domains"
//! kind = "domains"             # keywords, domains or hashes
//! entries = ["cheap-followers.example"]
//!
//! # Fields of the platform's JSON properties the pack reads, with their types
//! # (string, number, bool, array). Once a root (event.props, subject.props,
//! # actor.props) has declared fields, rules may read only those under it.
//! [fields]
//! "event.props.device.id" = "string"
//! event.props.payment = { amount = "number", method = "string" }   # the same, nested
//!
//! # Named expressions, computed at most once per event and read by any rule
//! # or feature by name.
//! [features]
//! text_l = 'lcase(text)'
//! is_new = 'actor_age_days < 1'
//! spam_words = { expression = 'in_list("spam_words", text_l)', description = "..." }
//! ```

use serde::Deserialize;
use sha2::{Digest, Sha256};

use warden_domain::case::Severity;
use warden_domain::duration::parse_iso8601_duration;
use warden_domain::taxonomy::Taxonomy;

use crate::lists::{ListKind, NamedList};
use crate::velocity::parse_window;

pub use crate::limits::RULES_MAX;

pub use crate::limits::LISTS_MAX;

/// How a rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Hits act: open cases, label, act.
    Live,
    /// Hits are stored and counted, nothing else.
    Shadow,
    /// Not evaluated.
    Disabled,
}

impl Mode {
    /// The name in rule files and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Shadow => "shadow",
            Mode::Disabled => "disabled",
        }
    }
}

/// What a throttle counts hits by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleKey {
    /// The acting account.
    Actor,
    /// The IP address.
    Ip,
    /// The device.
    Device,
    /// The event's subject.
    Subject,
}

/// Act only from the `hits`-th hit per key within `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Hits needed.
    pub hits: i64,
    /// Window.
    pub window_seconds: i64,
    /// Counted by.
    pub key: ThrottleKey,
}

/// What a live hit does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Open or join a case: `Some(queue override)`; `None` means no case.
    pub case: Option<CaseOutcome>,
    /// Put a label on the actor (or the subject when there is no actor).
    pub label: Option<LabelOutcome>,
    /// Act only above a rate.
    pub throttle: Option<Throttle>,
    /// An automatic action, recorded as automated.
    pub action: Option<ActionOutcome>,
}

/// Open or join a case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOutcome {
    /// The queue, instead of routing's choice.
    pub queue: Option<String>,
    /// Priority the hit adds.
    pub priority: i64,
}

/// Add a label.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelOutcome {
    /// The label.
    pub name: String,
    /// How long it lasts, in seconds; `None` for good.
    pub expires_seconds: Option<i64>,
}

/// An automatic action.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    /// Action type, as decisions name them.
    pub action_type: String,
    /// Duration in seconds, for restrictions and suspensions.
    pub duration_seconds: Option<i64>,
}

/// A rule as written, checked (but not yet compiled).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDefinition {
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// What it catches and why.
    pub description: String,
    /// Who owns it.
    pub owner: String,
    /// Taxonomy code of its hits.
    pub category: String,
    /// Severity of its hits.
    pub severity: Severity,
    /// Live, shadow or disabled.
    pub mode: Mode,
    /// The AbuseFilter expression.
    pub expression: String,
    /// What live hits do.
    pub outcome: Outcome,
    /// SHA-256 of the rule's definition: a new hash is a new version.
    pub source_hash: String,
    /// The rule as written, for versioning.
    pub source: String,
}

impl RuleDefinition {
    /// The rule's source with `mode = "disabled"` and a comment saying why, and the hash
    /// to record it under: what the host stores as a new version when it disables the rule
    /// after repeated errors. The hash also depends on `latest_version` (the rule's latest
    /// recorded version), so disabling the same text again after it ran again records a new
    /// version, while two workers disabling it at once record one.
    pub fn auto_disabled(&self, reason: &str, latest_version: i64) -> (String, String) {
        let mut table: toml::Table = toml::from_str(&self.source).unwrap_or_default();
        table.insert("mode".into(), toml::Value::String("disabled".into()));
        let comment: String = reason.lines().map(|line| format!("# {line}\n")).collect();
        let source = format!("{comment}{}", toml::to_string(&table).unwrap_or_default());
        let mut hasher = Sha256::new();
        hasher.update(source.as_bytes());
        hasher.update(format!("\0after version {latest_version}").as_bytes());
        (source, hex::encode(hasher.finalize()))
    }
}

/// A list as written.
#[derive(Debug, Clone)]
pub struct ListDefinition {
    /// Name.
    pub name: String,
    /// Built list.
    pub list: NamedList,
}

/// A problem in a rule file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    /// The file.
    pub file: String,
    /// The rule or list, if known.
    pub item: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for PackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.item {
            Some(item) => write!(f, "{}: {}: {}", self.file, item, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    rule: Vec<RuleToml>,
    #[serde(default)]
    list: Vec<ListToml>,
    #[serde(default)]
    fields: toml::Table,
    #[serde(default)]
    features: std::collections::BTreeMap<String, FeatureToml>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FeatureToml {
    Expression(String),
    Table(FeatureTableToml),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeatureTableToml {
    expression: String,
    #[serde(default)]
    description: String,
}

pub use crate::limits::FEATURES_MAX;

pub use crate::limits::FIELDS_MAX;

/// The roots under which rules read the platform's JSON properties.
pub const PROPERTY_ROOTS: &[(&str, &str)] = &[
    ("event.props", "the event's data"),
    ("subject.props", "the subject's attributes"),
    ("actor.props", "the acting account's attributes"),
];

/// A field of the platform's properties a pack declares it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDefinition {
    /// The path, such as `event.props.device.id`.
    pub path: String,
    /// Its type.
    pub ty: warden_rules::VarType,
}

/// A named expression of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureDefinition {
    /// Its name, read by rules as a variable.
    pub name: String,
    /// The AbuseFilter expression.
    pub expression: String,
    /// What it means.
    pub description: String,
    /// The file it is defined in.
    pub file: String,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner: String,
    category: String,
    severity: Option<String>,
    mode: String,
    expression: String,
    #[serde(default)]
    outcome: OutcomeToml,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct OutcomeToml {
    case: Option<CaseToml>,
    label: Option<LabelToml>,
    throttle: Option<ThrottleToml>,
    action: Option<ActionToml>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CaseToml {
    queue: Option<String>,
    priority: Option<i64>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct LabelToml {
    name: String,
    expires: Option<String>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct ThrottleToml {
    hits: i64,
    window: String,
    key: String,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct ActionToml {
    #[serde(rename = "type")]
    action_type: String,
    duration: Option<String>,
}

/// The rules and lists of a set of files.
#[derive(Debug, Default)]
pub struct ParsedPack {
    /// Rules, checked.
    pub rules: Vec<RuleDefinition>,
    /// Lists, built.
    pub lists: Vec<ListDefinition>,
    /// Declared property fields.
    pub fields: Vec<FieldDefinition>,
    /// Features (not yet compiled).
    pub features: Vec<FeatureDefinition>,
    /// Everything wrong, with where.
    pub errors: Vec<PackError>,
}

/// The identifiers an expression names outside string literals and comments, in
/// lowercase: enough to tell which features a rule may read before it is compiled.
pub(crate) fn identifiers(expression: &str) -> std::collections::BTreeSet<String> {
    let bytes = expression.as_bytes();
    let mut found = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' || b == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != b {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i = expression[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |end| i + 4 + end);
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
            found.insert(expression[start..i].to_ascii_lowercase());
        } else {
            i += 1;
        }
    }
    found
}

/// Makes each rule's version depend on the features it reads: their definitions are added
/// to the rule's recorded source (and so to its hash), so changing a feature gives every
/// rule reading it a new version, with the feature's text in the audited source.
fn tie_rules_to_features(pack: &mut ParsedPack) {
    if pack.features.is_empty() {
        return;
    }
    let by_name: std::collections::BTreeMap<&str, &FeatureDefinition> =
        pack.features.iter().map(|f| (f.name.as_str(), f)).collect();
    for rule in &mut pack.rules {
        let mut read = std::collections::BTreeSet::new();
        let mut queue: Vec<String> = identifiers(&rule.expression).into_iter().collect();
        while let Some(name) = queue.pop() {
            if let Some(feature) = by_name.get(name.as_str()) {
                if read.insert(feature.name.clone()) {
                    queue.extend(identifiers(&feature.expression));
                }
            }
        }
        if read.is_empty() {
            continue;
        }
        let mut features = toml::Table::new();
        for name in &read {
            features.insert(
                name.clone(),
                toml::Value::String(by_name[name.as_str()].expression.clone()),
            );
        }
        let mut table = toml::Table::new();
        table.insert("features".into(), toml::Value::Table(features));
        rule.source
            .push_str("\n# The features this rule reads, as defined when it was loaded\n");
        rule.source
            .push_str(&toml::to_string(&table).unwrap_or_default());
        rule.source_hash = hex::encode(Sha256::digest(rule.source.as_bytes()));
    }
}

/// Flattens `[fields]` (dotted keys or nested tables) into paths and types.
fn flatten_fields(
    prefix: &str,
    table: &toml::Table,
    out: &mut Vec<FieldDefinition>,
    errors: &mut Vec<(String, String)>,
) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten_fields(&path, inner, out, errors),
            toml::Value::String(ty) => match warden_rules::VarType::parse(ty) {
                Some(ty) => out.push(FieldDefinition { path, ty }),
                None => errors.push((
                    path,
                    format!("type {ty:?} is not string, number, bool or array"),
                )),
            },
            _ => errors.push((path, "a field's type is a string such as \"number\"".into())),
        }
    }
}

/// Checks a field path: under a property root, segments of `[0-9A-Za-z_]`, not too deep.
fn check_field_path(path: &str) -> Result<(), String> {
    let Some((root, _)) = PROPERTY_ROOTS.iter().find(|(root, _)| {
        path.len() > root.len() + 1 && path.starts_with(root) && path.as_bytes()[root.len()] == b'.'
    }) else {
        let roots: Vec<&str> = PROPERTY_ROOTS.iter().map(|(r, _)| *r).collect();
        return Err(format!("must start with one of {}", roots.join(", ")));
    };
    let segments = path.split('.').count();
    if segments > warden_rules::limits::MAX_PATH_SEGMENTS {
        return Err(format!(
            "has {segments} segments; at most {}",
            warden_rules::limits::MAX_PATH_SEGMENTS
        ));
    }
    if !path[root.len() + 1..]
        .split('.')
        .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err("segments may use only letters, digits and _".into());
    }
    Ok(())
}

/// The typed fields of one file, each declared once under a valid path.
fn add_fields(pack: &mut ParsedPack, file: &str, table: &toml::Table) {
    let error = |item: Option<&str>, message: String| pack_error(file, item, message);
    let mut fields = Vec::new();
    let mut field_errors = Vec::new();
    flatten_fields("", table, &mut fields, &mut field_errors);
    for field in fields {
        match check_field_path(&field.path) {
            Ok(()) if pack.fields.iter().any(|f| f.path == field.path) => pack
                .errors
                .push(error(Some(&field.path), "a field is declared twice".into())),
            Ok(()) => pack.fields.push(field),
            Err(message) => field_errors.push((field.path, format!("field path {message}"))),
        }
    }
    for (path, message) in field_errors {
        pack.errors.push(error(Some(&path), message));
    }
}

/// The features of one file, each named once with a variable name.
fn add_features(
    pack: &mut ParsedPack,
    file: &str,
    features: std::collections::BTreeMap<String, FeatureToml>,
) {
    let error = |item: Option<&str>, message: String| pack_error(file, item, message);
    for (name, feature) in features {
        let (expression, description) = match feature {
            FeatureToml::Expression(e) => (e, String::new()),
            FeatureToml::Table(t) => (t.expression, t.description),
        };
        if let Err(message) = check_feature_name(&name) {
            pack.errors.push(error(Some(&name), message));
            continue;
        }
        if pack.features.iter().any(|f| f.name == name) {
            pack.errors.push(error(
                Some(&name),
                "a feature with this name is defined twice".into(),
            ));
            continue;
        }
        pack.features.push(FeatureDefinition {
            name,
            expression,
            description,
            file: file.to_string(),
        });
    }
}

/// An error in `item` (if any) of `file`.
fn pack_error(file: &str, item: Option<&str>, message: String) -> PackError {
    PackError {
        file: file.to_string(),
        item: item.map(str::to_string),
        message,
    }
}

/// A feature name is a code and a variable name.
fn check_feature_name(name: &str) -> Result<(), String> {
    warden_domain::ids::parse_code(name).map_err(|e| format!("feature name {e}"))?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(
            "a feature name is a variable name: a-z, 0-9 and _, not starting with a digit".into(),
        );
    }
    Ok(())
}

/// Keeps the first `max` of `items`, reporting the rest as left out.
fn cap<T>(items: &mut Vec<T>, max: usize, what: &str, errors: &mut Vec<PackError>) {
    if items.len() > max {
        errors.push(PackError {
            file: "pack".into(),
            item: None,
            message: format!("at most {max} {what}; the rest were left out"),
        });
        items.truncate(max);
    }
}

/// Parses rule files (`(name, text)` pairs). Bad rules and lists are left
/// out and reported; good ones are kept.
pub fn parse_files(files: &[(String, String)], taxonomy: &Taxonomy) -> ParsedPack {
    let mut pack = ParsedPack::default();
    let mut ids = std::collections::BTreeSet::new();
    let mut list_names = std::collections::BTreeSet::new();
    for (file, text) in files {
        let error = |item: Option<&str>, message: String| PackError {
            file: file.clone(),
            item: item.map(str::to_string),
            message,
        };
        let parsed: FileToml = match toml::from_str(text) {
            Ok(parsed) => parsed,
            Err(e) => {
                pack.errors
                    .push(error(None, format!("not a valid rule file: {e}")));
                continue;
            }
        };
        add_fields(&mut pack, file, &parsed.fields);
        add_features(&mut pack, file, parsed.features);
        for list in parsed.list {
            if !list_names.insert(list.name.clone()) {
                pack.errors.push(error(
                    Some(&list.name),
                    "a list with this name is defined twice".into(),
                ));
                continue;
            }
            match check_list(list) {
                Ok(definition) => pack.lists.push(definition),
                Err((name, message)) => pack.errors.push(error(Some(&name), message)),
            }
        }
        for rule in parsed.rule {
            if !ids.insert(rule.id.clone()) {
                pack.errors.push(error(
                    Some(&rule.id),
                    "a rule with this id is defined twice".into(),
                ));
                continue;
            }
            let id = rule.id.clone();
            match check_rule(rule, taxonomy) {
                Ok(definition) => pack.rules.push(definition),
                Err(message) => pack.errors.push(error(Some(&id), message)),
            }
        }
    }
    cap(&mut pack.rules, RULES_MAX, "rules", &mut pack.errors);
    tie_rules_to_features(&mut pack);
    cap(
        &mut pack.features,
        FEATURES_MAX,
        "features",
        &mut pack.errors,
    );
    cap(&mut pack.fields, FIELDS_MAX, "fields", &mut pack.errors);
    cap(&mut pack.lists, LISTS_MAX, "lists", &mut pack.errors);
    pack
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListToml {
    name: String,
    kind: String,
    entries: Vec<String>,
}

fn check_list(list: ListToml) -> Result<ListDefinition, (String, String)> {
    let name = list.name.clone();
    warden_domain::ids::parse_code(&list.name).map_err(|e| (name.clone(), format!("name {e}")))?;
    let kind = ListKind::parse(&list.kind).map_err(|e| (name.clone(), e))?;
    let built = NamedList::new(kind, list.entries).map_err(|e| (name.clone(), e))?;
    Ok(ListDefinition { name, list: built })
}

fn check_rule(rule: RuleToml, taxonomy: &Taxonomy) -> Result<RuleDefinition, String> {
    warden_domain::ids::parse_code(&rule.id).map_err(|e| format!("id {e}"))?;
    if rule.name.trim().is_empty() || rule.name.len() > 200 {
        return Err("name must be 1 to 200 bytes".into());
    }
    let category = taxonomy
        .get(&rule.category)
        .ok_or_else(|| format!("category: unknown taxonomy code {:?}", rule.category))?;
    let severity = match &rule.severity {
        Some(text) => text
            .parse::<Severity>()
            .map_err(|e| format!("severity: {e}"))?,
        None => category.severity,
    };
    let mode = match rule.mode.as_str() {
        "live" => Mode::Live,
        "shadow" => Mode::Shadow,
        "disabled" => Mode::Disabled,
        other => return Err(format!("mode: {other:?} is not live, shadow or disabled")),
    };
    let outcome = &rule.outcome;
    let case = outcome.case.as_ref().map(check_case).transpose()?;
    let label = outcome.label.as_ref().map(check_label).transpose()?;
    let throttle = outcome.throttle.as_ref().map(check_throttle).transpose()?;
    let action = outcome.action.as_ref().map(check_action).transpose()?;
    if mode == Mode::Live && case.is_none() && label.is_none() && action.is_none() {
        return Err("a live rule needs an outcome: case, label or action".into());
    }
    let source = toml::to_string(&rule).unwrap_or_default();
    let source_hash = hex::encode(Sha256::digest(source.as_bytes()));
    Ok(RuleDefinition {
        id: rule.id,
        name: rule.name,
        description: rule.description,
        owner: rule.owner,
        category: rule.category,
        severity,
        mode,
        expression: rule.expression,
        outcome: Outcome {
            case,
            label,
            throttle,
            action,
        },
        source_hash,
        source,
    })
}

/// `outcome.case`: a queue code and a priority from 0 to 1000.
fn check_case(case: &CaseToml) -> Result<CaseOutcome, String> {
    if let Some(queue) = &case.queue {
        warden_domain::ids::parse_code(queue).map_err(|e| format!("outcome.case.queue {e}"))?;
    }
    let priority = case.priority.unwrap_or(15);
    if !(0..=1000).contains(&priority) {
        return Err("outcome.case.priority must be from 0 to 1000".into());
    }
    Ok(CaseOutcome {
        queue: case.queue.clone(),
        priority,
    })
}

/// `outcome.label`: a label code and an optional ISO 8601 expiry.
fn check_label(label: &LabelToml) -> Result<LabelOutcome, String> {
    warden_domain::ids::parse_code(&label.name).map_err(|e| format!("outcome.label.name {e}"))?;
    let expires_seconds = label
        .expires
        .as_deref()
        .map(parse_iso8601_duration)
        .transpose()
        .map_err(|e| format!("outcome.label.expires: {e}"))?
        .map(|d| d.num_seconds());
    Ok(LabelOutcome {
        name: label.name.clone(),
        expires_seconds,
    })
}

/// `outcome.throttle`: 1 to 10000 hits per window and key.
fn check_throttle(throttle: &ThrottleToml) -> Result<Throttle, String> {
    if !(1..=10_000).contains(&throttle.hits) {
        return Err("outcome.throttle.hits must be from 1 to 10000".into());
    }
    let key = match throttle.key.as_str() {
        "actor" => ThrottleKey::Actor,
        "ip" => ThrottleKey::Ip,
        "device" => ThrottleKey::Device,
        "subject" => ThrottleKey::Subject,
        other => {
            return Err(format!(
                "outcome.throttle.key: {other:?} is not actor, ip, device or subject"
            ))
        }
    };
    Ok(Throttle {
        hits: throttle.hits,
        window_seconds: parse_window(&throttle.window)
            .map_err(|e| format!("outcome.throttle.window: {e}"))?,
        key,
    })
}

/// `outcome.action`: an action the automated decision may take.
fn check_action(action: &ActionToml) -> Result<ActionOutcome, String> {
    let duration = action
        .duration
        .as_deref()
        .map(parse_iso8601_duration)
        .transpose()
        .map_err(|e| format!("outcome.action.duration: {e}"))?;
    warden_domain::decision::check_action(
        &action.action_type,
        duration,
        Some("automated").filter(|_| action.action_type == "restrict"),
        Some("automated").filter(|_| action.action_type == "label"),
    )
    .map_err(|e| format!("outcome.action: {e}"))?;
    Ok(ActionOutcome {
        action_type: action.action_type.clone(),
        duration_seconds: duration.map(|d| d.num_seconds()),
    })
}
