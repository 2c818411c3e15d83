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
//! ```

use serde::Deserialize;
use sha2::{Digest, Sha256};

use warden_domain::case::Severity;
use warden_domain::duration::parse_iso8601_duration;
use warden_domain::taxonomy::Taxonomy;

use crate::lists::{ListKind, NamedList};
use crate::velocity::parse_window;

/// Rules in one pack at most.
pub const RULES_MAX: usize = 5_000;

/// Lists in one pack at most.
pub const LISTS_MAX: usize = 500;

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
    /// Everything wrong, with where.
    pub errors: Vec<PackError>,
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
    if pack.rules.len() > RULES_MAX {
        pack.errors.push(PackError {
            file: "pack".into(),
            item: None,
            message: format!("at most {RULES_MAX} rules; the rest were left out"),
        });
        pack.rules.truncate(RULES_MAX);
    }
    if pack.lists.len() > LISTS_MAX {
        pack.errors.push(PackError {
            file: "pack".into(),
            item: None,
            message: format!("at most {LISTS_MAX} lists; the rest were left out"),
        });
        pack.lists.truncate(LISTS_MAX);
    }
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
    let case = match &outcome.case {
        Some(case) => {
            if let Some(queue) = &case.queue {
                warden_domain::ids::parse_code(queue)
                    .map_err(|e| format!("outcome.case.queue {e}"))?;
            }
            let priority = case.priority.unwrap_or(15);
            if !(0..=1000).contains(&priority) {
                return Err("outcome.case.priority must be from 0 to 1000".into());
            }
            Some(CaseOutcome {
                queue: case.queue.clone(),
                priority,
            })
        }
        None => None,
    };
    let label = match &outcome.label {
        Some(label) => {
            warden_domain::ids::parse_code(&label.name)
                .map_err(|e| format!("outcome.label.name {e}"))?;
            let expires_seconds = label
                .expires
                .as_deref()
                .map(parse_iso8601_duration)
                .transpose()
                .map_err(|e| format!("outcome.label.expires: {e}"))?
                .map(|d| d.num_seconds());
            Some(LabelOutcome {
                name: label.name.clone(),
                expires_seconds,
            })
        }
        None => None,
    };
    let throttle = match &outcome.throttle {
        Some(throttle) => {
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
            Some(Throttle {
                hits: throttle.hits,
                window_seconds: parse_window(&throttle.window)
                    .map_err(|e| format!("outcome.throttle.window: {e}"))?,
                key,
            })
        }
        None => None,
    };
    let action = match &outcome.action {
        Some(action) => {
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
            Some(ActionOutcome {
                action_type: action.action_type.clone(),
                duration_seconds: duration.map(|d| d.num_seconds()),
            })
        }
        None => None,
    };
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
