//! EU Digital Services Act statements of reasons, in the Transparency
//! Database format (`../shared/specs/dsa-statement-of-reasons.md`).
//!
//! Four parts: the enumerations the database accepts; [`validate`], which
//! predicts the database's verdict on a statement by its own rules (trimming
//! and empty-string normalisation, rule chains run in the database's order,
//! its messages); [`build_statement`], which turns the facts of a decision
//! into a statement; and [`StatementDraft`], which assembles those facts
//! from what the store loads and checks the result before it is written. Warden validates every statement it builds
//! before storing it, and submits in batches of at most [`BATCH_SIZE_MAX`].
//!
//! Exporter policy where the format leaves a choice (see the spec's
//! checklist): content dated before 2000-01-01 is sent as 2000-01-01, the
//! earliest date the database accepts; a restriction ending after
//! 2038-01-01 (the database's last date) is sent without an end date; the
//! puid is `warden-sor-<decision id>`, so a retry re-uses it.

use std::sync::OnceLock;

use chrono::NaiveDate;
use regex::Regex;
use serde_json::{json, Map, Value};

use crate::decision::{ActionKind, Rationale};
use crate::enforcement::{DsaGround, EnforcementPolicy, PolicyCategory};
use crate::ids::{DecisionId, LanguageTag, SubjectKind};
use crate::intake::ReportSource;
use crate::FieldErrors;

pub use crate::limits::BATCH_SIZE_MAX;

/// `decision_visibility` keys.
pub const DECISION_VISIBILITY: &[&str] = &[
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
];

/// `decision_monetary` keys.
pub const DECISION_MONETARY: &[&str] = &[
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
    "DECISION_MONETARY_OTHER",
];

/// `decision_provision` keys.
pub const DECISION_PROVISION: &[&str] = &[
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
];

/// `decision_account` keys.
pub const DECISION_ACCOUNT: &[&str] =
    &["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"];

/// `account_type` keys.
pub const ACCOUNT_TYPES: &[&str] = &["ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"];

/// `decision_ground` keys.
pub const DECISION_GROUNDS: &[&str] = &[
    "DECISION_GROUND_ILLEGAL_CONTENT",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT",
];

/// `content_type` keys.
pub const CONTENT_TYPES: &[&str] = &[
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
];

/// `category` and `category_addition` keys.
pub const CATEGORIES: &[&str] = &[
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];

/// `category_specification` keys.
pub const KEYWORDS: &[&str] = &[
    "KEYWORD_ADULT_SEXUAL_MATERIAL",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "KEYWORD_ANIMAL_HARM",
    "KEYWORD_BIOMETRIC_DATA_BREACH",
    "KEYWORD_BULLYING_AGAINST_GIRLS",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
    "KEYWORD_COORDINATED_HARM",
    "KEYWORD_COPYRIGHT_INFRINGEMENT",
    "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_CYBER_HARASSMENT",
    "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
    "KEYWORD_CYBER_INCITEMENT",
    "KEYWORD_CYBER_STALKING",
    "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
    "KEYWORD_DATA_FALSIFICATION",
    "KEYWORD_DEFAMATION",
    "KEYWORD_DESIGN_INFRINGEMENT",
    "KEYWORD_DISCRIMINATION",
    "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
    "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
    "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "KEYWORD_HATE_SPEECH",
    "KEYWORD_HIDDEN_ADVERTISEMENT",
    "KEYWORD_HUMAN_EXPLOITATION",
    "KEYWORD_HUMAN_TRAFFICKING",
    "KEYWORD_ILLEGAL_ORGANIZATIONS",
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
    "KEYWORD_INAUTHENTIC_ACCOUNTS",
    "KEYWORD_INAUTHENTIC_LISTINGS",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS",
    "KEYWORD_INCITEMENT_AGAINST_WOMEN",
    "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
    "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_LANGUAGE_REQUIREMENTS",
    "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
    "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
    "KEYWORD_MISSING_PROCESSING_GROUND",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    "KEYWORD_NONCOMPLIANCE_PRICING",
    "KEYWORD_NUDITY",
    "KEYWORD_PATENT_INFRINGEMENT",
    "KEYWORD_PHISHING",
    "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_PYRAMID_SCHEMES",
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
    "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
    "KEYWORD_RISK_PUBLIC_HEALTH",
    "KEYWORD_SELF_MUTILATION",
    "KEYWORD_STALKING",
    "KEYWORD_SUICIDE",
    "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_TRADE_SECRET_INFRINGEMENT",
    "KEYWORD_TRADEMARK_INFRINGEMENT",
    "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
    "KEYWORD_UNLAWFUL_SALE_ANIMALS",
    "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_UNSAFE_PRODUCTS",
    "KEYWORD_VIOLATION_EU_LAW",
    "KEYWORD_VIOLATION_NATIONAL_LAW",
    "KEYWORD_OTHER",
];

/// `territorial_scope` codes: the EU and the three other EEA states.
pub const COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The whole European Economic Area, the default territorial scope.
pub const EEA_COUNTRIES: &[&str] = COUNTRIES;

/// `content_language` codes (upper-case ISO 639-1).
pub const LANGUAGES: &[&str] = &[
    "AA", "AB", "AE", "AF", "AK", "AM", "AN", "AR", "AS", "AV", "AY", "AZ", "BA", "BE", "BG", "BH",
    "BI", "BM", "BN", "BO", "BR", "BS", "CA", "CE", "CH", "CO", "CR", "CS", "CU", "CV", "CY", "DA",
    "DE", "DV", "DZ", "EE", "EL", "EN", "EO", "ES", "ET", "EU", "FA", "FF", "FI", "FJ", "FO", "FR",
    "FY", "GA", "GD", "GL", "GN", "GU", "GV", "HA", "HE", "HI", "HO", "HR", "HT", "HU", "HY", "HZ",
    "IA", "ID", "IE", "IG", "II", "IK", "IO", "IS", "IT", "IU", "JA", "JV", "KA", "KG", "KI", "KJ",
    "KK", "KL", "KM", "KN", "KO", "KR", "KS", "KU", "KV", "KW", "KY", "LA", "LB", "LG", "LI", "LN",
    "LO", "LT", "LU", "LV", "MG", "MH", "MI", "MK", "ML", "MN", "MR", "MS", "MT", "MY", "NA", "NB",
    "ND", "NE", "NG", "NL", "NN", "NO", "NR", "NV", "NY", "OC", "OJ", "OM", "OR", "OS", "PA", "PI",
    "PL", "PS", "PT", "QU", "RM", "RN", "RO", "RU", "RW", "SA", "SC", "SD", "SE", "SG", "SI", "SK",
    "SL", "SM", "SN", "SO", "SQ", "SR", "SS", "ST", "SU", "SV", "SW", "TA", "TE", "TG", "TH", "TI",
    "TK", "TL", "TN", "TO", "TR", "TS", "TT", "TW", "TY", "UG", "UK", "UR", "UZ", "VE", "VI", "VO",
    "WA", "WO", "XH", "YI", "YO", "ZA", "ZH", "ZU",
];

/// `source_type` keys.
pub const SOURCE_TYPES: &[&str] = &[
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
];

/// `automated_decision` keys.
pub const AUTOMATED_DECISIONS: &[&str] = &[
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
];

const YES_NO: &[&str] = &["Yes", "No"];

/// URL schemes the database's URL rule accepts.
const URL_SCHEMES: &[&str] = &[
    "aaa",
    "aaas",
    "about",
    "acap",
    "acct",
    "acd",
    "acr",
    "adiumxtra",
    "adt",
    "afp",
    "afs",
    "aim",
    "amss",
    "android",
    "appdata",
    "apt",
    "ark",
    "attachment",
    "aw",
    "barion",
    "beshare",
    "bitcoin",
    "bitcoincash",
    "blob",
    "bolo",
    "browserext",
    "calculator",
    "callto",
    "cap",
    "cast",
    "casts",
    "chrome",
    "chrome-extension",
    "cid",
    "coap",
    "coap+tcp",
    "coap+ws",
    "coaps",
    "coaps+tcp",
    "coaps+ws",
    "com-eventbrite-attendee",
    "content",
    "conti",
    "crid",
    "cvs",
    "dab",
    "data",
    "dav",
    "diaspora",
    "dict",
    "did",
    "dis",
    "dlna-playcontainer",
    "dlna-playsingle",
    "dns",
    "dntp",
    "dpp",
    "drm",
    "drop",
    "dtn",
    "dvb",
    "ed2k",
    "elsi",
    "example",
    "facetime",
    "fax",
    "feed",
    "feedready",
    "file",
    "filesystem",
    "finger",
    "first-run-pen-experience",
    "fish",
    "fm",
    "ftp",
    "fuchsia-pkg",
    "geo",
    "gg",
    "git",
    "gizmoproject",
    "go",
    "gopher",
    "graph",
    "gtalk",
    "h323",
    "ham",
    "hcap",
    "hcp",
    "http",
    "https",
    "hxxp",
    "hxxps",
    "hydrazone",
    "iax",
    "icap",
    "icon",
    "im",
    "imap",
    "info",
    "iotdisco",
    "ipn",
    "ipp",
    "ipps",
    "irc",
    "irc6",
    "ircs",
    "iris",
    "iris.beep",
    "iris.lwz",
    "iris.xpc",
    "iris.xpcs",
    "isostore",
    "itms",
    "jabber",
    "jar",
    "jms",
    "keyparc",
    "lastfm",
    "ldap",
    "ldaps",
    "leaptofrogans",
    "lorawan",
    "lvlt",
    "magnet",
    "mailserver",
    "mailto",
    "maps",
    "market",
    "message",
    "mid",
    "mms",
    "modem",
    "mongodb",
    "moz",
    "ms-access",
    "ms-browser-extension",
    "ms-calculator",
    "ms-drive-to",
    "ms-enrollment",
    "ms-excel",
    "ms-eyecontrolspeech",
    "ms-gamebarservices",
    "ms-gamingoverlay",
    "ms-getoffice",
    "ms-help",
    "ms-infopath",
    "ms-inputapp",
    "ms-lockscreencomponent-config",
    "ms-media-stream-id",
    "ms-mixedrealitycapture",
    "ms-mobileplans",
    "ms-officeapp",
    "ms-people",
    "ms-project",
    "ms-powerpoint",
    "ms-publisher",
    "ms-restoretabcompanion",
    "ms-screenclip",
    "ms-screensketch",
    "ms-search",
    "ms-search-repair",
    "ms-secondary-screen-controller",
    "ms-secondary-screen-setup",
    "ms-settings",
    "ms-settings-airplanemode",
    "ms-settings-bluetooth",
    "ms-settings-camera",
    "ms-settings-cellular",
    "ms-settings-cloudstorage",
    "ms-settings-connectabledevices",
    "ms-settings-displays-topology",
    "ms-settings-emailandaccounts",
    "ms-settings-language",
    "ms-settings-location",
    "ms-settings-lock",
    "ms-settings-nfctransactions",
    "ms-settings-notifications",
    "ms-settings-power",
    "ms-settings-privacy",
    "ms-settings-proximity",
    "ms-settings-screenrotation",
    "ms-settings-wifi",
    "ms-settings-workplace",
    "ms-spd",
    "ms-sttoverlay",
    "ms-transit-to",
    "ms-useractivityset",
    "ms-virtualtouchpad",
    "ms-visio",
    "ms-walk-to",
    "ms-whiteboard",
    "ms-whiteboard-cmd",
    "ms-word",
    "msnim",
    "msrp",
    "msrps",
    "mss",
    "mtqp",
    "mumble",
    "mupdate",
    "mvn",
    "news",
    "nfs",
    "ni",
    "nih",
    "nntp",
    "notes",
    "ocf",
    "oid",
    "onenote",
    "onenote-cmd",
    "opaquelocktoken",
    "openpgp4fpr",
    "pack",
    "palm",
    "paparazzi",
    "payto",
    "pkcs11",
    "platform",
    "pop",
    "pres",
    "prospero",
    "proxy",
    "pwid",
    "psyc",
    "pttp",
    "qb",
    "query",
    "redis",
    "rediss",
    "reload",
    "res",
    "resource",
    "rmi",
    "rsync",
    "rtmfp",
    "rtmp",
    "rtsp",
    "rtsps",
    "rtspu",
    "s3",
    "secondlife",
    "service",
    "session",
    "sftp",
    "sgn",
    "shttp",
    "sieve",
    "simpleledger",
    "sip",
    "sips",
    "skype",
    "smb",
    "sms",
    "smtp",
    "snews",
    "snmp",
    "soap.beep",
    "soap.beeps",
    "soldat",
    "spiffe",
    "spotify",
    "ssh",
    "steam",
    "stun",
    "stuns",
    "submit",
    "svn",
    "tag",
    "teamspeak",
    "tel",
    "teliaeid",
    "telnet",
    "tftp",
    "tg",
    "things",
    "thismessage",
    "tip",
    "tn3270",
    "tool",
    "ts3server",
    "turn",
    "turns",
    "tv",
    "udp",
    "unreal",
    "urn",
    "ut2004",
    "v-event",
    "vemmi",
    "ventrilo",
    "videotex",
    "vnc",
    "view-source",
    "wais",
    "webcal",
    "wpid",
    "ws",
    "wss",
    "wtai",
    "wyciwyg",
    "xcon",
    "xcon-userid",
    "xfire",
    "xmlrpc.beep",
    "xmlrpc.beeps",
    "xmpp",
    "xri",
    "ymsgr",
    "z39.50",
    "z39.50r",
    "z39.50s",
];

// ---------------------------------------------------------------- validation

/// Which endpoint's rules to apply: they differ in a few details (§4.2, §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /api/v1/statement`.
    Single,
    /// One element of `POST /api/v1/statements`.
    Batch,
}

/// The messages the database would answer, by field, in its order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<(String, Vec<String>)>);

impl Violations {
    /// True when the database would accept the statement.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields at fault, in order.
    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|(field, _)| field.as_str()).collect()
    }

    /// The messages of one field.
    pub fn of(&self, field: &str) -> &[String] {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map_or(&[], |(_, messages)| messages.as_slice())
    }

    /// The top-level `message` of a `422`: the first message, and how many more.
    pub fn message(&self) -> String {
        let mut all = self.0.iter().flat_map(|(_, messages)| messages.iter());
        let Some(first) = all.next() else {
            return String::new();
        };
        match all.count() {
            0 => first.clone(),
            1 => format!("{first} (and 1 more error)"),
            n => format!("{first} (and {n} more errors)"),
        }
    }

    /// The `errors` object of a `422`.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(field, messages)| (field.clone(), json!(messages)))
                .collect(),
        )
    }
}

/// Characters trimmed from both ends of every string before validation (§3.2).
fn is_trimmed(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\0'
            | '\u{0085}' | '\u{00A0}' | '\u{00AD}' | '\u{034F}' | '\u{061C}'
            | '\u{115F}' | '\u{1160}' | '\u{1680}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
            | '\u{2000}'..='\u{200F}'
            | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}'
            | '\u{2060}'..='\u{2065}'
            | '\u{206A}'..='\u{206F}'
            | '\u{2800}' | '\u{3000}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
            | '\u{1D159}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0020}'
    )
}

/// The database's normalisation: every string trimmed, then `""` made `null`,
/// at every depth; keys untouched.
pub fn normalize(value: &Value) -> Value {
    match value {
        Value::String(text) => {
            let trimmed = text.trim_matches(is_trimmed);
            if trimmed.is_empty() {
                Value::Null
            } else {
                Value::String(trimmed.to_string())
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Flag {
    VisibilityOther,
    ContentTypeOther,
    Voluntary,
}

#[derive(Debug, Clone, Copy)]
enum Rule {
    Required,
    RequiredIf(&'static str, &'static str, Option<&'static str>),
    RequiredWithoutAll([&'static str; 3]),
    RequiredWhen(Flag),
    ExcludeUnless(&'static str, &'static str),
    ExcludeUnlessFlag(Flag),
    ExcludeWhen(Flag),
    Array,
    Str,
    In(&'static [&'static str], bool),
    Max(usize),
    Regex(&'static str),
    Url,
    Date(&'static str),
    AfterOrEqual(&'static str),
    BeforeOrEqual(&'static str),
}

impl Rule {
    fn is_implicit(self) -> bool {
        matches!(
            self,
            Rule::Required
                | Rule::RequiredIf(..)
                | Rule::RequiredWithoutAll(_)
                | Rule::RequiredWhen(_)
        )
    }
}

struct FieldRules {
    name: &'static str,
    nullable: bool,
    rules: &'static [Rule],
}

const ILLEGAL: &str = "DECISION_GROUND_ILLEGAL_CONTENT";
const INCOMPATIBLE: &str = "DECISION_GROUND_INCOMPATIBLE_CONTENT";
const EAN: &str = "ean";
const PUID: &str = "puid";

macro_rules! field {
    ($name:literal, $nullable:expr, [$($rule:expr),* $(,)?]) => {
        FieldRules { name: $name, nullable: $nullable, rules: &[$($rule),*] }
    };
}

const CONTENT_ID: FieldRules = field!("content_id", true, [Rule::Array]);
const CONTENT_ID_EAN13: FieldRules =
    field!("content_id.EAN-13", false, [Rule::Str, Rule::Regex(EAN)]);

/// The fields between `content_id_ean` and `source_identity`, in order.
const MIDDLE: &[FieldRules] = &[
    field!("decision_visibility", true, [
        Rule::Array,
        Rule::In(DECISION_VISIBILITY, true),
        Rule::RequiredWithoutAll(["decision_monetary", "decision_provision", "decision_account"]),
    ]),
    field!("decision_visibility_other", false, [
        Rule::Max(500),
        Rule::RequiredWhen(Flag::VisibilityOther),
        Rule::ExcludeUnlessFlag(Flag::VisibilityOther),
    ]),
    field!("decision_monetary", true, [
        Rule::In(DECISION_MONETARY, true),
        Rule::RequiredWithoutAll(["decision_visibility", "decision_provision", "decision_account"]),
    ]),
    field!("decision_monetary_other", false, [
        Rule::RequiredIf("decision_monetary", "DECISION_MONETARY_OTHER", Some("The decision monetary other field is required when decision monetary is other.")),
        Rule::ExcludeUnless("decision_monetary", "DECISION_MONETARY_OTHER"),
        Rule::Max(500),
    ]),
    field!("decision_provision", true, [
        Rule::In(DECISION_PROVISION, true),
        Rule::RequiredWithoutAll(["decision_visibility", "decision_monetary", "decision_account"]),
    ]),
    field!("decision_account", true, [
        Rule::In(DECISION_ACCOUNT, true),
        Rule::RequiredWithoutAll(["decision_visibility", "decision_monetary", "decision_provision"]),
    ]),
    field!("account_type", true, [Rule::In(ACCOUNT_TYPES, true)]),
    field!("category_specification", true, [Rule::Array, Rule::In(KEYWORDS, true)]),
    field!("category_specification_other", false, [Rule::Max(500)]),
    field!("decision_ground", false, [Rule::Required, Rule::In(DECISION_GROUNDS, false)]),
    field!("decision_ground_reference_url", true, [Rule::Url, Rule::Max(500)]),
    field!("illegal_content_legal_ground", false, [
        Rule::RequiredIf("decision_ground", ILLEGAL, Some("The illegal content legal ground field is required when decision ground is illegal content.")),
        Rule::ExcludeUnless("decision_ground", ILLEGAL),
        Rule::Max(500),
    ]),
    field!("illegal_content_explanation", false, [
        Rule::RequiredIf("decision_ground", ILLEGAL, Some("The illegal content explanation field is required when decision ground is illegal content.")),
        Rule::ExcludeUnless("decision_ground", ILLEGAL),
        Rule::Max(2000),
    ]),
    field!("incompatible_content_ground", false, [
        Rule::RequiredIf("decision_ground", INCOMPATIBLE, Some("The incompatible content ground field is required when decision ground is incompatible content.")),
        Rule::ExcludeUnless("decision_ground", INCOMPATIBLE),
        Rule::Max(500),
    ]),
    field!("incompatible_content_explanation", false, [
        Rule::RequiredIf("decision_ground", INCOMPATIBLE, Some("The incompatible content explanation field is required when decision ground is incompatible content.")),
        Rule::ExcludeUnless("decision_ground", INCOMPATIBLE),
        Rule::Max(2000),
    ]),
    field!("incompatible_content_illegal", false, [
        Rule::In(YES_NO, false),
        Rule::ExcludeUnless("decision_ground", INCOMPATIBLE),
    ]),
    field!("content_type", false, [Rule::Array, Rule::Required, Rule::In(CONTENT_TYPES, false)]),
    field!("content_type_other", false, [
        Rule::Max(500),
        Rule::RequiredWhen(Flag::ContentTypeOther),
        Rule::ExcludeUnlessFlag(Flag::ContentTypeOther),
    ]),
    field!("category", false, [Rule::Required, Rule::In(CATEGORIES, false)]),
    field!("category_addition", false, [Rule::Array, Rule::In(CATEGORIES, false)]),
    field!("territorial_scope", true, [Rule::Array, Rule::In(COUNTRIES, false)]),
    field!("content_language", true, [Rule::In(LANGUAGES, false)]),
    field!("content_date", false, [
        Rule::Required,
        Rule::Date("The content date does not match the format YYYY-MM-DD."),
        Rule::AfterOrEqual("2000-01-01"),
        Rule::BeforeOrEqual("2038-01-01"),
    ]),
    field!("application_date", false, [
        Rule::Required,
        Rule::Date("The application date does not match the format YYYY-MM-DD."),
        Rule::AfterOrEqual("2020-01-01"),
        Rule::BeforeOrEqual("2038-01-01"),
    ]),
    field!("end_date_account_restriction", true, [
        Rule::Date("The end date of account restriction does not match the format YYYY-MM-DD."),
        Rule::BeforeOrEqual("2038-01-01"),
    ]),
    field!("end_date_monetary_restriction", true, [
        Rule::Date("The end date of monetary restriction does not match the format YYYY-MM-DD."),
        Rule::BeforeOrEqual("2038-01-01"),
    ]),
    field!("end_date_service_restriction", true, [
        Rule::Date("The end date of service restriction does not match the format YYYY-MM-DD."),
        Rule::BeforeOrEqual("2038-01-01"),
    ]),
    field!("end_date_visibility_restriction", true, [
        Rule::Date("The end date of visibility restriction does not match the format YYYY-MM-DD."),
        Rule::BeforeOrEqual("2038-01-01"),
    ]),
    field!("decision_facts", false, [Rule::Required, Rule::Max(5000)]),
    field!("source_type", false, [Rule::Required, Rule::In(SOURCE_TYPES, false)]),
];

const CONTENT_ID_EAN: FieldRules = field!("content_id_ean", true, [Rule::Str, Rule::Regex(EAN)]);
const SOURCE_IDENTITY_SINGLE: FieldRules = field!(
    "source_identity",
    false,
    [Rule::Max(500), Rule::ExcludeWhen(Flag::Voluntary)]
);
const SOURCE_IDENTITY_BATCH: FieldRules = field!("source_identity", true, [Rule::Max(500)]);

const LAST: &[FieldRules] = &[
    field!(
        "automated_detection",
        false,
        [Rule::Required, Rule::In(YES_NO, false)]
    ),
    field!(
        "automated_decision",
        false,
        [Rule::Required, Rule::In(AUTOMATED_DECISIONS, false)]
    ),
    field!(
        "puid",
        false,
        [Rule::Required, Rule::Max(500), Rule::Regex(PUID)]
    ),
];

/// A field as the rules see it.
#[derive(Clone, Copy)]
enum Slot<'a> {
    Absent,
    Present(&'a Value),
}

fn slot<'a>(body: &'a Map<String, Value>, name: &str) -> Slot<'a> {
    if let Some((outer, inner)) = name.split_once('.') {
        return match body.get(outer) {
            Some(Value::Object(map)) => map.get(inner).map_or(Slot::Absent, Slot::Present),
            _ => Slot::Absent,
        };
    }
    body.get(name).map_or(Slot::Absent, Slot::Present)
}

/// PHP's string form of a value (§3.1).
fn string_form(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(true) => "1".into(),
        Value::Bool(false) | Value::Null => String::new(),
        Value::Number(number) => {
            if let Some(i) = number.as_i64() {
                i.to_string()
            } else if let Some(u) = number.as_u64() {
                // Beyond i64, PHP decodes as a float.
                php_float(u as f64)
            } else {
                php_float(number.as_f64().unwrap_or(0.0))
            }
        }
        Value::Array(_) | Value::Object(_) => "Array".into(),
    }
}

/// A float as PHP prints it with `precision = 14`.
fn php_float(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let scientific = format!("{value:.13e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |text: &str| -> String {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text.to_string()
        }
    };
    if !(-5..15).contains(&exponent) {
        let mut mantissa = trim(mantissa);
        if !mantissa.contains('.') {
            mantissa.push_str(".0");
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{}", exponent.abs())
    } else {
        let decimals = (13 - exponent).max(0) as usize;
        trim(&format!("{value:.decimals$}"))
    }
}

fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn passes_required(slot: Slot<'_>) -> bool {
    match slot {
        Slot::Absent => false,
        Slot::Present(value) => !is_empty_value(value),
    }
}

fn exactly(body: &Map<String, Value>, field: &str, expected: &str) -> bool {
    matches!(body.get(field), Some(Value::String(text)) if text == expected)
}

fn listified(value: Option<&Value>, scalars_count: bool) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(map)) => map.values().collect(),
        Some(scalar) if scalars_count => vec![scalar],
        Some(_) => Vec::new(),
    }
}

fn flag(body: &Map<String, Value>, flag: Flag, endpoint: Endpoint) -> bool {
    let single = endpoint == Endpoint::Single;
    let contains = |field: &str, key: &str, scalars: bool| {
        listified(body.get(field), scalars)
            .iter()
            .any(|v| matches!(v, Value::String(text) if text == key))
    };
    match flag {
        Flag::VisibilityOther => {
            contains("decision_visibility", "DECISION_VISIBILITY_OTHER", single)
        }
        Flag::ContentTypeOther => contains("content_type", "CONTENT_TYPE_OTHER", single),
        Flag::Voluntary => single && contains("source_type", "SOURCE_VOLUNTARY", true),
    }
}

fn url_regex() -> &'static Regex {
    static URL: OnceLock<Regex> = OnceLock::new();
    URL.get_or_init(|| {
        let schemes: Vec<String> = URL_SCHEMES.iter().map(|s| regex::escape(s)).collect();
        let user = r"(?:[\pL\pN_.\-]|%[0-9a-f]{2})";
        let ipv4 = r"(?:\d{1,3}\.){3}\d{1,3}";
        let h = "[0-9a-f]{1,4}";
        let ipv6 = format!(
            "(?:(?:{h}:){{7}}{h}|(?:{h}:){{1,7}}:|(?:{h}:){{1,6}}:{h}|(?:{h}:){{1,5}}(?::{h}){{1,2}}|(?:{h}:){{1,4}}(?::{h}){{1,3}}|(?:{h}:){{1,3}}(?::{h}){{1,4}}|(?:{h}:){{1,2}}(?::{h}){{1,5}}|{h}:(?::{h}){{1,6}}|:(?:(?::{h}){{1,7}}|:)|(?:{h}:){{6}}{ipv4}|::(?:ffff(?::0{{1,4}})?:)?{ipv4}|(?:{h}:){{1,5}}:{ipv4}|(?:{h}:){{1,4}}(?::{h}){{1,4}}:{ipv4})"
        );
        let host = format!(
            r"(?:(?:[\pL\pN\pS\pM\-_]+\.)+(?:xn--[a-z0-9\-]+|[\pL\pN\pM]+)\.?|[a-z0-9_\-]+\.?|\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}\.\d{{1,3}}|\[{ipv6}\])"
        );
        let path = r"(?:[\pL\pN\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})";
        let query = r"(?:[\pL\pN\-._~!$&'\[\]()*+,;=:@/?]|%[0-9a-f]{2})";
        let fragment = r"(?:[\pL\pN\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})";
        let pattern = format!(
            r"(?i)^(?:{schemes})://(?:(?:{user}+:)?{user}+@)?{host}(?::\d+)?(?:/{path}*)*(?:\?{query}*)?(?:\#{fragment}*)?$",
            schemes = schemes.join("|"),
        );
        // cannot fail: a literal pattern, compiled by the tests.
        Regex::new(&pattern).expect("the URL pattern compiles")
    })
}

/// Whether `text` has the URL syntax of the database's `url` rule (§8.2).
pub fn is_valid_url(text: &str) -> bool {
    url_regex().is_match(text)
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
    {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

fn attribute(field: &str) -> String {
    if field == "content_id.EAN-13" {
        return "content id. e a n-13".into();
    }
    field.replace('_', " ")
}

fn is_member(value: &Value, list: &[&str], with_null: bool) -> bool {
    let text = string_form(value);
    list.contains(&text.as_str()) || (with_null && text == "null")
}

/// A scalar field's value is one of `list`.
fn in_list(value: &Value, list: &[&str], with_null: bool) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_)) && is_member(value, list, with_null)
}

/// An array field's items (or a scalar given for it) are all in `list`.
fn all_in_list(value: &Value, list: &[&str], with_null: bool) -> bool {
    match value {
        Value::Array(items) => items.iter().all(|v| in_list(v, list, with_null)),
        Value::Object(map) => map.values().all(|v| in_list(v, list, with_null)),
        other => is_member(other, list, with_null),
    }
}

/// What the rules of one field see: the body, the field's slot and its display name.
struct FieldView<'a> {
    body: &'a Map<String, Value>,
    endpoint: Endpoint,
    value: Slot<'a>,
    name: String,
    array_field: bool,
}

fn check_field(
    body: &Map<String, Value>,
    spec: &FieldRules,
    endpoint: Endpoint,
    out: &mut Vec<(String, Vec<String>)>,
) {
    let view = FieldView {
        body,
        endpoint,
        value: slot(body, spec.name),
        name: attribute(spec.name),
        array_field: spec.rules.iter().any(|r| matches!(r, Rule::Array)),
    };
    let mut messages = Vec::new();
    for rule in spec.rules {
        let rule = *rule;
        if let Some(excluded) = view.exclusion(rule) {
            if excluded {
                break;
            }
            continue;
        }
        let implicit = rule.is_implicit();
        let present = match view.value {
            Slot::Absent => None,
            Slot::Present(v) => Some(v),
        };
        if !implicit {
            match present {
                None => continue,
                Some(Value::Null) if spec.nullable => continue,
                _ => {}
            }
        }
        let failure = if implicit {
            view.requirement_failure(rule)
        } else {
            view.form_failure(rule, present.unwrap_or(&Value::Null))
        };
        if let Some(message) = failure {
            messages.push(message);
            if implicit {
                break;
            }
        }
    }
    if !messages.is_empty() {
        out.push((spec.name.to_string(), messages));
    }
}

impl FieldView<'_> {
    /// For an exclusion rule, whether it excludes the field from its
    /// remaining rules; `None` for every other rule.
    fn exclusion(&self, rule: Rule) -> Option<bool> {
        match rule {
            Rule::ExcludeUnless(field, expected) => Some(!exactly(self.body, field, expected)),
            Rule::ExcludeUnlessFlag(f) => Some(!flag(self.body, f, self.endpoint)),
            Rule::ExcludeWhen(f) => Some(flag(self.body, f, self.endpoint)),
            _ => None,
        }
    }

    /// The message of a failed implicit (required) rule.
    fn requirement_failure(&self, rule: Rule) -> Option<String> {
        let name = &self.name;
        let value = self.value;
        match rule {
            Rule::Required => {
                (!passes_required(value)).then(|| format!("The {name} field is required."))
            }
            Rule::RequiredIf(field, expected, custom) => {
                (exactly(self.body, field, expected) && !passes_required(value)).then(|| {
                    custom.map_or_else(|| format!("The {name} field is required."), str::to_string)
                })
            }
            Rule::RequiredWithoutAll(others) => {
                let any_other = others.iter().any(|o| passes_required(slot(self.body, o)));
                (!any_other && !passes_required(value)).then(|| {
                    let names: Vec<String> = others.iter().map(|o| attribute(o)).collect();
                    format!(
                        "The {name} field is required when none of {} are present.",
                        names.join(" / ")
                    )
                })
            }
            Rule::RequiredWhen(f) => (flag(self.body, f, self.endpoint) && !passes_required(value))
                .then(|| format!("The {name} field is required.")),
            _ => None,
        }
    }

    /// The message of a failed rule on the form of a present value `v`.
    fn form_failure(&self, rule: Rule, v: &Value) -> Option<String> {
        let name = &self.name;
        match rule {
            Rule::Array => (!matches!(v, Value::Array(_) | Value::Object(_)))
                .then(|| format!("The {name} field must be an array.")),
            Rule::Str => (!v.is_string()).then(|| format!("The {name} field must be a string.")),
            Rule::In(list, with_null) => (!if self.array_field {
                all_in_list(v, list, with_null)
            } else {
                in_list(v, list, with_null)
            })
            .then(|| format!("The selected {name} is invalid.")),
            Rule::Max(max) => {
                let size = match v {
                    Value::Array(items) => items.len(),
                    Value::Object(map) => map.len(),
                    other => string_form(other).chars().count(),
                };
                (size > max)
                    .then(|| format!("The {name} field must not be greater than {max} characters."))
            }
            Rule::Regex(which) => regex_failure(v, which, name),
            Rule::Url => (!v.as_str().is_some_and(is_valid_url))
                .then(|| format!("The {name} field must be a valid URL.")),
            Rule::Date(message) => v
                .as_str()
                .is_none_or(|t| parse_date(t).is_none())
                .then(|| message.to_string()),
            Rule::AfterOrEqual(_) | Rule::BeforeOrEqual(_) => bound_failure(rule, v, name),
            _ => None,
        }
    }
}

/// The message of a failed `regex` rule (EAN-13 or an identifier).
fn regex_failure(v: &Value, which: &str, name: &str) -> Option<String> {
    let text = match v {
        Value::String(_) | Value::Number(_) => Some(string_form(v)),
        _ => None,
    };
    let ok = text.is_some_and(|t| match which {
        EAN => t.len() == 13 && t.bytes().all(|b| b.is_ascii_digit()),
        _ => {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
    });
    (!ok).then(|| {
        if which == PUID {
            "The puid format is invalid.".to_string()
        } else {
            format!("The {name} field format is invalid.")
        }
    })
}

/// The message of a failed `after_or_equal` / `before_or_equal` rule.
fn bound_failure(rule: Rule, v: &Value, name: &str) -> Option<String> {
    let (Rule::AfterOrEqual(bound) | Rule::BeforeOrEqual(bound)) = rule else {
        return None;
    };
    // cannot fail: the bounds are literal dates.
    let bound_date = parse_date(bound).expect("bounds are dates");
    // A malformed date already has its format message.
    let date = v.as_str().and_then(parse_date)?;
    let after = matches!(rule, Rule::AfterOrEqual(_));
    let ok = if after {
        date >= bound_date
    } else {
        date <= bound_date
    };
    (!ok).then(|| {
        format!(
            "The {name} field must be a date {} or equal to {bound}.",
            if after { "after" } else { "before" }
        )
    })
}

/// Validates one statement as the database would, after its normalisation.
/// A body that is not a JSON object is judged as an empty one.
pub fn validate(statement: &Value, endpoint: Endpoint) -> Violations {
    let normalized = normalize(statement);
    let empty = Map::new();
    let body = normalized.as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    if endpoint == Endpoint::Single {
        check_field(body, &CONTENT_ID, endpoint, &mut out);
        check_field(body, &CONTENT_ID_EAN13, endpoint, &mut out);
        check_field(body, &CONTENT_ID_EAN, endpoint, &mut out);
    }
    for spec in MIDDLE {
        check_field(body, spec, endpoint, &mut out);
    }
    let source_identity = match endpoint {
        Endpoint::Single => &SOURCE_IDENTITY_SINGLE,
        Endpoint::Batch => &SOURCE_IDENTITY_BATCH,
    };
    check_field(body, source_identity, endpoint, &mut out);
    for spec in LAST {
        check_field(body, spec, endpoint, &mut out);
    }
    if endpoint == Endpoint::Batch {
        check_field(body, &CONTENT_ID, endpoint, &mut out);
        check_field(body, &CONTENT_ID_EAN13, endpoint, &mut out);
    }
    Violations(out)
}

/// Validates a batch body `{"statements": [...]}`: the wrapper's message, or
/// each failing statement's violations by index (§9). Puid uniqueness is the
/// caller's to check.
pub fn validate_batch(body: &Value) -> Result<(), BatchViolations> {
    let normalized = normalize(body);
    let statements = normalized.get("statements");
    let wrapper = match statements {
        None | Some(Value::Null) => Some("The statements field is required."),
        Some(Value::Array(items)) if items.is_empty() => Some("The statements field is required."),
        Some(Value::Object(map)) if map.is_empty() => Some("The statements field is required."),
        Some(Value::Array(items)) if items.len() > BATCH_SIZE_MAX => {
            Some("The statements field must have between 1 and 100 items.")
        }
        Some(Value::Object(map)) if map.len() > BATCH_SIZE_MAX => {
            Some("The statements field must have between 1 and 100 items.")
        }
        Some(Value::Array(_)) | Some(Value::Object(_)) => None,
        Some(_) => Some("The statements field must be an array."),
    };
    if let Some(message) = wrapper {
        return Err(BatchViolations::Wrapper(message.to_string()));
    }
    let items: Vec<&Value> = listified(statements, false);
    let failing: Vec<(usize, Violations)> = items
        .iter()
        .enumerate()
        .map(|(i, s)| (i, validate(s, Endpoint::Batch)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if failing.is_empty() {
        Ok(())
    } else {
        Err(BatchViolations::Statements(failing))
    }
}

/// Why a batch is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchViolations {
    /// The wrapper is wrong: its one message.
    Wrapper(String),
    /// These statements (by position) fail.
    Statements(Vec<(usize, Violations)>),
}

impl BatchViolations {
    /// The `422` body the database answers.
    pub fn to_json(&self) -> Value {
        match self {
            BatchViolations::Wrapper(message) => {
                json!({"message": message, "errors": {"statements": [message]}})
            }
            BatchViolations::Statements(failing) => {
                let errors: Map<String, Value> = failing
                    .iter()
                    .map(|(i, v)| (format!("statement_{i}"), v.to_json()))
                    .collect();
                json!({"errors": errors})
            }
        }
    }
}

// ---------------------------------------------------------------- building

/// One restriction a decision put in force, for a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// What it does.
    pub kind: ActionKind,
    /// The day it ends (UTC), if it ends.
    pub ends_on: Option<NaiveDate>,
}

/// Whether an action restricts content or an account (and so needs a
/// statement of reasons). A warning restricts nothing.
pub fn restricts(kind: &ActionKind) -> bool {
    !matches!(kind, ActionKind::Warn)
}

/// The facts of a decision a statement is built from.
#[derive(Debug, Clone)]
pub struct StatementInput<'a> {
    /// The platform-unique id (`warden-sor-<decision>`).
    pub puid: String,
    /// Restrictions in force.
    pub restrictions: Vec<Restriction>,
    /// The decided category, with its DSA mapping.
    pub category: &'a PolicyCategory,
    /// The decision's policy id or section, if given.
    pub policy: Option<&'a str>,
    /// The decision's rationale.
    pub rationale: &'a Rationale,
    /// Where the terms are published (the category's or the platform's URL).
    pub reference_url: Option<&'a str>,
    /// Countries of the service.
    pub territorial_scope: &'a [String],
    /// What the case is about.
    pub subject_kind: SubjectKind,
    /// MIME types of the subject's media.
    pub media_types: Vec<String>,
    /// `business` or `private`, from the account's attributes, if known.
    pub account_type: Option<String>,
    /// The content's language (BCP 47), if known.
    pub language: Option<String>,
    /// When the content was created (or first seen).
    pub content_date: NaiveDate,
    /// When the restriction was applied.
    pub application_date: NaiveDate,
    /// Where the case's reports came from.
    pub sources: Vec<ReportSource>,
    /// Whether a machine (signal or automated flag) detected it.
    pub automated_detection: bool,
    /// Whether Warden decided without a person.
    pub automated_decision: bool,
}

fn cut(text: &str, max: usize) -> String {
    text.trim()
        .chars()
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Builds the statement of reasons for a decision's restrictions.
pub fn build_statement(input: &StatementInput<'_>) -> Value {
    let mut statement = Map::new();
    statement.insert("puid".to_string(), json!(input.puid));
    put_restrictions(input, &mut statement);
    put_ground(input, &mut statement);
    put_content_types(input, &mut statement);
    put_category_and_dates(input, &mut statement);
    put_source(input, &mut statement);
    Value::Object(statement)
}

/// The first day a statement may name.
fn floor() -> NaiveDate {
    // cannot fail: a literal, valid date.
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("date")
}

/// The first application day a statement may name.
fn application_floor() -> NaiveDate {
    // cannot fail: a literal, valid date.
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("date")
}

/// The last day a statement may name.
fn ceiling() -> NaiveDate {
    // cannot fail: a literal, valid date.
    NaiveDate::from_ymd_opt(2038, 1, 1).expect("date")
}

/// A date as `YYYY-MM-DD`.
fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A restriction's end date, when it has one before the ceiling.
fn end(d: Option<NaiveDate>) -> Option<String> {
    d.filter(|d| *d <= ceiling()).map(day)
}

/// The later of two restriction ends, where `None` inside means indefinite
/// and an outer `None` means none yet.
fn later(a: Option<Option<NaiveDate>>, b: Option<NaiveDate>) -> Option<Option<NaiveDate>> {
    Some(match (a, b) {
        (None, b) => b,
        (Some(None), _) | (_, None) => None,
        (Some(Some(a)), Some(b)) => Some(a.max(b)),
    })
}

/// The restrictions (visibility, monetary, provision, account) with their end dates, and the account type.
fn put_restrictions(input: &StatementInput<'_>, statement: &mut Map<String, Value>) {
    let mut put = |key: &str, value: Value| {
        statement.insert(key.to_string(), value);
    };
    let mut visibility: Vec<&str> = Vec::new();
    let mut visibility_end: Option<Option<NaiveDate>> = None;
    let mut account: Option<(&str, Option<NaiveDate>)> = None;
    let mut provision_end: Option<Option<NaiveDate>> = None;
    let mut monetary_end: Option<Option<NaiveDate>> = None;
    for restriction in &input.restrictions {
        match &restriction.kind {
            ActionKind::RemoveContent => visibility.push("DECISION_VISIBILITY_CONTENT_REMOVED"),
            ActionKind::Label { .. } => {
                visibility.push("DECISION_VISIBILITY_CONTENT_LABELLED");
                visibility_end = later(visibility_end, restriction.ends_on);
            }
            ActionKind::Restrict { .. } => {
                provision_end = later(provision_end, restriction.ends_on);
            }
            ActionKind::Suspend => {
                if account.is_none_or(|(key, _)| key != "DECISION_ACCOUNT_TERMINATED") {
                    let ends = match account {
                        Some((_, previous)) => later(Some(previous), restriction.ends_on).flatten(),
                        None => restriction.ends_on,
                    };
                    account = Some(("DECISION_ACCOUNT_SUSPENDED", ends));
                }
            }
            ActionKind::Ban => account = Some(("DECISION_ACCOUNT_TERMINATED", None)),
            ActionKind::HoldTransaction => {
                monetary_end = later(monetary_end, restriction.ends_on);
            }
            ActionKind::Warn => {}
        }
    }
    visibility.sort_unstable();
    visibility.dedup();
    if !visibility.is_empty() {
        put("decision_visibility", json!(visibility));
        if let Some(date) = visibility_end.flatten().and_then(|d| end(Some(d))) {
            put("end_date_visibility_restriction", json!(date));
        }
    }
    if let Some(ends) = monetary_end {
        put("decision_monetary", json!("DECISION_MONETARY_SUSPENSION"));
        if let Some(date) = end(ends) {
            put("end_date_monetary_restriction", json!(date));
        }
    }
    if let Some(ends) = provision_end {
        put(
            "decision_provision",
            json!("DECISION_PROVISION_PARTIAL_SUSPENSION"),
        );
        if let Some(date) = end(ends) {
            put("end_date_service_restriction", json!(date));
        }
    }
    if let Some((key, ends)) = account {
        put("decision_account", json!(key));
        if let Some(date) = end(ends) {
            put("end_date_account_restriction", json!(date));
        }
    }
    match input.account_type.as_deref() {
        Some("business") => put("account_type", json!("ACCOUNT_TYPE_BUSINESS")),
        Some("private") | Some("personal") => put("account_type", json!("ACCOUNT_TYPE_PRIVATE")),
        _ => {}
    }
}

/// The decision ground: the policy broken, the explanation and any reference URL.
fn put_ground(input: &StatementInput<'_>, statement: &mut Map<String, Value>) {
    let mut put = |key: &str, value: Value| {
        statement.insert(key.to_string(), value);
    };
    let category = input.category;
    let policy_name = match input.policy {
        Some(policy) => format!("Terms of service: {} ({policy})", category.name),
        None => format!("Terms of service: {}", category.name),
    };
    let explanation = {
        let mut text = input.rationale.policy.trim().to_string();
        let action = input.rationale.action.trim();
        if !action.is_empty() {
            text = format!("{text} {action}");
        }
        if text.trim().is_empty() {
            text = format!("The content breaks the rules on {}.", category.name);
        }
        // Statements are published: no personal data in them.
        cut(&crate::privacy::mask_text(&text).value, 2000)
    };
    match category.dsa.ground {
        DsaGround::IncompatibleContent => {
            put(
                "decision_ground",
                json!("DECISION_GROUND_INCOMPATIBLE_CONTENT"),
            );
            put("incompatible_content_ground", json!(cut(&policy_name, 500)));
            put("incompatible_content_explanation", json!(explanation));
            put("incompatible_content_illegal", json!("No"));
        }
        DsaGround::IllegalContent => {
            put("decision_ground", json!("DECISION_GROUND_ILLEGAL_CONTENT"));
            let legal = category
                .dsa
                .legal_ground
                .clone()
                .unwrap_or_else(|| policy_name.clone());
            put("illegal_content_legal_ground", json!(cut(&legal, 500)));
            put("illegal_content_explanation", json!(explanation));
        }
    }
    if let Some(url) = input.reference_url {
        put("decision_ground_reference_url", json!(url));
    }
}

/// The content types of the subject and its media.
fn put_content_types(input: &StatementInput<'_>, statement: &mut Map<String, Value>) {
    let mut put = |key: &str, value: Value| {
        statement.insert(key.to_string(), value);
    };
    let mut content_types: Vec<&str> = Vec::new();
    let mut other: Option<&str> = None;
    let media = |types: &mut Vec<&str>| {
        for mime in &input.media_types {
            let mime = mime.to_ascii_lowercase();
            if mime.starts_with("image/") {
                types.push("CONTENT_TYPE_IMAGE");
            } else if mime.starts_with("video/") {
                types.push("CONTENT_TYPE_VIDEO");
            } else if mime.starts_with("audio/") {
                types.push("CONTENT_TYPE_AUDIO");
            }
        }
    };
    match input.subject_kind {
        SubjectKind::Content | SubjectKind::Message => {
            content_types.push("CONTENT_TYPE_TEXT");
            media(&mut content_types);
        }
        SubjectKind::Listing => {
            content_types.push("CONTENT_TYPE_PRODUCT");
            media(&mut content_types);
        }
        SubjectKind::Media => {
            media(&mut content_types);
            if content_types.is_empty() {
                other = Some("Media item");
            }
        }
        SubjectKind::Account => other = Some("Account"),
        SubjectKind::Transaction => other = Some("Payment transaction"),
    }
    if let Some(text) = other {
        content_types.push("CONTENT_TYPE_OTHER");
        put("content_type_other", json!(text));
    }
    content_types.sort_unstable();
    content_types.dedup();
    put("content_type", json!(content_types));
}

/// The DSA category and keywords, scope, language, dates and facts.
fn put_category_and_dates(input: &StatementInput<'_>, statement: &mut Map<String, Value>) {
    let category = input.category;
    let mut put = |key: &str, value: Value| {
        statement.insert(key.to_string(), value);
    };
    put("category", json!(category.dsa.category));
    put("category_addition", json!([]));
    if !category.dsa.keywords.is_empty() {
        put("category_specification", json!(category.dsa.keywords));
        if category.dsa.keywords.iter().any(|k| k == "KEYWORD_OTHER") {
            if let Some(text) = &category.dsa.keyword_other {
                put("category_specification_other", json!(cut(text, 500)));
            }
        }
    }
    put("territorial_scope", json!(input.territorial_scope));
    if let Some(language) = &input.language {
        let primary = language
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if LANGUAGES.contains(&primary.as_str()) {
            put("content_language", json!(primary));
        }
    }
    put(
        "content_date",
        json!(day(input.content_date.clamp(floor(), ceiling()))),
    );
    put(
        "application_date",
        json!(day(input
            .application_date
            .clamp(application_floor(), ceiling()))),
    );
    let mut facts = input.rationale.what_happened.trim().to_string();
    let evidence = input.rationale.evidence.trim();
    if !evidence.is_empty() {
        facts = format!("{facts}\n\nEvidence: {evidence}");
    }
    // Statements are published: no personal data in them.
    put(
        "decision_facts",
        json!(cut(&crate::privacy::mask_text(&facts).value, 5000)),
    );
}

/// Where the notice came from and how automated detection and decision were.
fn put_source(input: &StatementInput<'_>, statement: &mut Map<String, Value>) {
    let category = input.category;
    let mut put = |key: &str, value: Value| {
        statement.insert(key.to_string(), value);
    };
    let illegal = category.dsa.ground == DsaGround::IllegalContent;
    let has = |source: ReportSource| input.sources.contains(&source);
    let source_type = if has(ReportSource::TrustedFlagger) {
        "SOURCE_TRUSTED_FLAGGER"
    } else if has(ReportSource::LegalNotice) || (illegal && has(ReportSource::UserReport)) {
        "SOURCE_ARTICLE_16"
    } else if has(ReportSource::UserReport) || has(ReportSource::SupportEscalation) {
        "SOURCE_TYPE_OTHER_NOTIFICATION"
    } else {
        "SOURCE_VOLUNTARY"
    };
    put("source_type", json!(source_type));
    put(
        "automated_detection",
        json!(if input.automated_detection {
            "Yes"
        } else {
            "No"
        }),
    );
    put(
        "automated_decision",
        json!(if input.automated_decision {
            "AUTOMATED_DECISION_FULLY"
        } else {
            "AUTOMATED_DECISION_NOT_AUTOMATED"
        }),
    );
}

// ---------------------------------------------------------------- assembly

/// The platform-unique id of a decision's statement of reasons.
pub fn puid(decision: DecisionId) -> String {
    format!("warden-sor-{decision}")
}

/// What the store knows of a decided case that a statement tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFacts {
    /// What the case is about.
    pub subject_kind: SubjectKind,
    /// MIME types of the subject's media.
    pub media_types: Vec<String>,
    /// `business`, `private` or `personal`, from the account's attributes.
    pub account_type: Option<String>,
    /// The content's language.
    pub language: Option<LanguageTag>,
    /// When the content was created (or first seen; else the case opened).
    pub content_date: NaiveDate,
    /// Where the case's reports came from.
    pub sources: Vec<ReportSource>,
    /// Signals that joined the case.
    pub signal_count: i64,
}

/// A statement of reasons with everything but its puid: assembled and
/// checked by the planner, built by the writer once the decision has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementDraft {
    restrictions: Vec<Restriction>,
    category: PolicyCategory,
    policy_id: Option<String>,
    rationale: Rationale,
    reference_url: Option<String>,
    territorial_scope: Vec<String>,
    facts: StatementFacts,
    application_date: NaiveDate,
    automated_decision: bool,
}

/// The decision a statement is about.
#[derive(Debug, Clone, Copy)]
pub struct StatedDecision<'a> {
    /// Its category.
    pub category: &'a str,
    /// Its policy id or section.
    pub policy_id: Option<&'a str>,
    /// Its rationale.
    pub rationale: &'a Rationale,
    /// Whether Warden made it without a person.
    pub automated: bool,
}

impl StatementDraft {
    /// Assembles the statement of `decision`'s `restrictions` under
    /// `policy`, and checks it by the Transparency Database's rules: a
    /// statement the database would refuse is an error naming its field.
    pub fn assemble(
        decision: StatedDecision<'_>,
        restrictions: Vec<Restriction>,
        policy: &EnforcementPolicy,
        facts: &StatementFacts,
        application_date: NaiveDate,
    ) -> Result<Self, FieldErrors> {
        let category = policy.category(decision.category).ok_or_else(|| {
            FieldErrors::from(crate::FieldError::new(
                "category",
                format!(
                    "{:?} is missing from the decision's taxonomy version",
                    decision.category
                ),
            ))
        })?;
        let draft = StatementDraft {
            restrictions,
            reference_url: category
                .reference_url
                .clone()
                .or_else(|| policy.reference_url.clone()),
            category: category.clone(),
            policy_id: decision.policy_id.map(str::to_string),
            rationale: decision.rationale.clone(),
            territorial_scope: policy.territorial_scope.clone(),
            facts: facts.clone(),
            application_date,
            automated_decision: decision.automated,
        };
        // The longest puid there can be: if it passes, every one does.
        let violations = validate(&draft.build(DecisionId(i64::MAX)), Endpoint::Batch);
        match violations.0.first() {
            None => Ok(draft),
            Some((field, messages)) => Err(crate::FieldError::new(
                format!("statement_of_reasons.{field}"),
                format!(
                    "the Transparency Database would refuse this decision's statement of reasons: {}",
                    messages.join(" ")
                ),
            )
            .into()),
        }
    }

    /// The statement of the decision with id `decision`.
    pub fn build(&self, decision: DecisionId) -> Value {
        let facts = &self.facts;
        build_statement(&StatementInput {
            puid: puid(decision),
            restrictions: self.restrictions.clone(),
            category: &self.category,
            policy: self.policy_id.as_deref(),
            rationale: &self.rationale,
            reference_url: self.reference_url.as_deref(),
            territorial_scope: &self.territorial_scope,
            subject_kind: facts.subject_kind,
            media_types: facts.media_types.clone(),
            account_type: facts.account_type.as_ref().map(|t| t.to_lowercase()),
            language: facts.language.as_ref().map(|l| l.as_str().to_string()),
            content_date: facts.content_date,
            application_date: self.application_date,
            automated_detection: facts.signal_count > 0
                || facts.sources.contains(&ReportSource::AutomatedFlag),
            sources: facts.sources.clone(),
            automated_decision: self.automated_decision,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's valid example (§12.1).
    fn valid() -> Value {
        json!({
            "puid": "warden-sor-2025-000123",
            "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
            "decision_account": "DECISION_ACCOUNT_SUSPENDED",
            "end_date_account_restriction": "2025-12-31",
            "account_type": "ACCOUNT_TYPE_PRIVATE",
            "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "incompatible_content_ground": "Community Guidelines, section 4.2 (scams and phishing)",
            "incompatible_content_explanation": "The post promised a prize and linked to a page that asks for account passwords, which section 4.2 forbids.",
            "incompatible_content_illegal": "No",
            "decision_ground_reference_url": "https://example.com/community-guidelines#section-4.2",
            "content_type": ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE"],
            "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
            "category_addition": [],
            "category_specification": ["KEYWORD_PHISHING"],
            "territorial_scope": ["AT", "BE", "DE", "FR", "NL"],
            "content_language": "EN",
            "content_date": "2025-11-02",
            "application_date": "2025-11-03",
            "decision_facts": "Users reported the post. A moderator opened the link in a sandbox and confirmed that it collects login credentials.",
            "source_type": "SOURCE_ARTICLE_16",
            "automated_detection": "No",
            "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED"
        })
    }

    fn with(changes: &[(&str, Value)]) -> Value {
        let mut statement = valid();
        for (key, value) in changes {
            statement[*key] = value.clone();
        }
        statement
    }

    fn without(keys: &[&str]) -> Value {
        let mut statement = valid();
        for key in keys {
            statement.as_object_mut().unwrap().remove(*key);
        }
        statement
    }

    fn check(statement: &Value) -> Violations {
        validate(statement, Endpoint::Single)
    }

    #[test]
    fn the_spec_example_is_valid_on_both_endpoints() {
        assert_eq!(check(&valid()), Violations::default());
        assert_eq!(validate(&valid(), Endpoint::Batch), Violations::default());
    }

    #[test]
    fn valid_variants_the_database_accepts() {
        for statement in [
            // Trimmed before checking; the literal "null" passes `in:null,...`.
            with(&[
                ("puid", json!(" TK421 ")),
                ("content_date", json!(" 2025-01-31 ")),
            ]),
            with(&[
                ("decision_account", json!("null")),
                ("decision_visibility", Value::Null),
            ]),
            // Objects pass as arrays, numbers as text.
            with(&[
                ("territorial_scope", json!({"a": "BE"})),
                ("puid", json!(12345)),
            ]),
            with(&[("decision_facts", json!(7))]),
            // The illegal-content ground with its two texts; the others are dropped.
            with(&[
                ("decision_ground", json!("DECISION_GROUND_ILLEGAL_CONTENT")),
                ("illegal_content_legal_ground", json!("Art. 1 of a law")),
                ("illegal_content_explanation", json!("Why")),
                ("incompatible_content_ground", Value::Null),
            ]),
            without(&["territorial_scope", "content_language", "account_type"]),
            with(&[
                ("content_date", json!("2024-02-29")),
                ("end_date_account_restriction", json!("0999-01-01")),
            ]),
            with(&[(
                "decision_ground_reference_url",
                json!("http://[::1]:8080/a%20b?x=[1]#f"),
            )]),
            with(&[("content_id", json!({"EAN-13": "1234567890123"}))]),
        ] {
            assert_eq!(check(&statement), Violations::default(), "{statement}");
        }
    }

    #[test]
    fn each_kind_of_invalid_statement_gets_the_database_message() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (without(&["puid"]), "puid", "The puid field is required."),
            (with(&[("puid", json!("a.b"))]), "puid", "The puid format is invalid."),
            (with(&[("puid", json!("a".repeat(501)))]), "puid", "The puid field must not be greater than 500 characters."),
            (with(&[("content_language", json!("en"))]), "content_language", "The selected content language is invalid."),
            (with(&[("category", json!("STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"))]), "category", "The selected category is invalid."),
            (with(&[("category_specification", json!(["KEYWORD_DANGEROUS_TOYS"]))]), "category_specification", "The selected category specification is invalid."),
            (with(&[("content_type", json!([]))]), "content_type", "The content type field is required."),
            (with(&[("content_type", json!("CONTENT_TYPE_TEXT"))]), "content_type", "The content type field must be an array."),
            (with(&[("territorial_scope", json!(["EL"]))]), "territorial_scope", "The selected territorial scope is invalid."),
            (with(&[("content_date", json!("2023-02-29"))]), "content_date", "The content date does not match the format YYYY-MM-DD."),
            (with(&[("content_date", json!("2023-1-1"))]), "content_date", "The content date does not match the format YYYY-MM-DD."),
            (with(&[("content_date", json!("1999-12-31"))]), "content_date", "The content date field must be a date after or equal to 2000-01-01."),
            (with(&[("application_date", json!("2038-01-02"))]), "application_date", "The application date field must be a date before or equal to 2038-01-01."),
            (with(&[("end_date_account_restriction", json!("31/12/2025"))]), "end_date_account_restriction", "The end date of account restriction does not match the format YYYY-MM-DD."),
            (with(&[("decision_ground_reference_url", json!("mailto:a@b.c"))]), "decision_ground_reference_url", "The decision ground reference url field must be a valid URL."),
            (with(&[("decision_ground_reference_url", json!("https://example.com/a b"))]), "decision_ground_reference_url", "The decision ground reference url field must be a valid URL."),
            (with(&[("incompatible_content_explanation", Value::Null)]), "incompatible_content_explanation", "The incompatible content explanation field is required when decision ground is incompatible content."),
            (with(&[("incompatible_content_illegal", Value::Null)]), "incompatible_content_illegal", "The selected incompatible content illegal is invalid."),
            (with(&[("incompatible_content_illegal", json!(true))]), "incompatible_content_illegal", "The selected incompatible content illegal is invalid."),
            (with(&[("decision_ground", json!("DECISION_GROUND_ILLEGAL_CONTENT")), ("illegal_content_explanation", json!("why"))]), "illegal_content_legal_ground", "The illegal content legal ground field is required when decision ground is illegal content."),
            (with(&[("decision_visibility", json!(["DECISION_VISIBILITY_OTHER"]))]), "decision_visibility_other", "The decision visibility other field is required."),
            (with(&[("decision_monetary", json!("DECISION_MONETARY_OTHER"))]), "decision_monetary_other", "The decision monetary other field is required when decision monetary is other."),
            (with(&[("content_type", json!(["CONTENT_TYPE_OTHER"]))]), "content_type_other", "The content type other field is required."),
            (with(&[("decision_facts", json!("x".repeat(5001)))]), "decision_facts", "The decision facts field must not be greater than 5000 characters."),
            (with(&[("automated_detection", json!(false))]), "automated_detection", "The selected automated detection is invalid."),
            (with(&[("source_type", json!("null"))]), "source_type", "The selected source type is invalid."),
            (with(&[("content_id", json!({"EAN-13": "123"}))]), "content_id.EAN-13", "The content id. e a n-13 field format is invalid."),
            (with(&[("decision_visibility_other", json!("x".repeat(501)))]), "decision_visibility_other", "The decision visibility other field must not be greater than 500 characters."),
        ];
        for (statement, field, message) in cases {
            let violations = check(&statement);
            assert_eq!(violations.fields(), [field], "{statement}: {violations:?}");
            assert_eq!(violations.of(field), [message], "{field}");
        }
    }

    #[test]
    fn several_messages_and_the_top_level_message() {
        let violations = check(&with(&[("category_addition", Value::Null)]));
        assert_eq!(
            violations.of("category_addition"),
            [
                "The category addition field must be an array.",
                "The selected category addition is invalid."
            ]
        );
        let no_decision = check(&without(&["decision_visibility", "decision_account"]));
        assert_eq!(
            no_decision.fields(),
            [
                "decision_visibility",
                "decision_monetary",
                "decision_provision",
                "decision_account"
            ]
        );
        assert_eq!(
            no_decision.of("decision_visibility"),
            ["The decision visibility field is required when none of decision monetary / decision provision / decision account are present."]
        );
        let empty = check(&json!({}));
        assert_eq!(empty.0.len(), 14, "{:?}", empty.fields());
        assert_eq!(
            empty.message(),
            "The decision visibility field is required when none of decision monetary / decision provision / decision account are present. (and 13 more errors)"
        );
        let two = check(&with(&[
            ("content_language", json!("en")),
            ("puid", json!("a b")),
        ]));
        assert_eq!(
            two.message(),
            "The selected content language is invalid. (and 1 more error)"
        );
    }

    #[test]
    fn endpoints_differ_where_the_spec_says() {
        // The single endpoint drops source_identity for voluntary statements after its length check.
        let voluntary = with(&[
            ("source_type", json!("SOURCE_VOLUNTARY")),
            ("source_identity", json!("x".repeat(501))),
        ]);
        assert_eq!(check(&voluntary).fields(), ["source_identity"]);
        let long_but_fine = with(&[("content_id_ean", json!("12"))]);
        assert_eq!(check(&long_but_fine).fields(), ["content_id_ean"]);
        assert!(validate(&long_but_fine, Endpoint::Batch).is_empty());
        // A scalar "other" key counts on the single endpoint only.
        let scalar = with(&[("content_type", json!("CONTENT_TYPE_OTHER"))]);
        assert_eq!(
            check(&scalar).fields(),
            ["content_type", "content_type_other"]
        );
        assert_eq!(
            validate(&scalar, Endpoint::Batch).fields(),
            ["content_type"]
        );
    }

    #[test]
    fn batches_check_the_wrapper_then_each_statement() {
        assert_eq!(
            validate_batch(&json!({})).unwrap_err(),
            BatchViolations::Wrapper("The statements field is required.".into())
        );
        let many: Vec<Value> = (0..101).map(|_| valid()).collect();
        assert!(
            matches!(validate_batch(&json!({"statements": many})), Err(BatchViolations::Wrapper(m)) if m.contains("between 1 and 100"))
        );
        let body = json!({"statements": [valid(), with(&[("puid", Value::Null)])]});
        let error = validate_batch(&body).unwrap_err();
        assert_eq!(
            error.to_json()["errors"]["statement_1"]["puid"],
            json!(["The puid field is required."])
        );
        assert!(validate_batch(&json!({"statements": [valid()]})).is_ok());
    }

    #[test]
    fn floats_print_as_php_does() {
        assert_eq!(php_float(1000.0), "1000");
        assert_eq!(php_float(1e20), "1.0E+20");
        assert_eq!(php_float(0.1), "0.1");
        assert_eq!(php_float(1.5e-7), "1.5E-7");
    }

    #[test]
    fn urls() {
        for good in [
            "https://example.com",
            "http://localhost:8080/x",
            "ftp://1.2.3.4/a;b",
            "https://xn--bcher-kva.example/",
            "https://ü.example/ä?q=[x]#top",
        ] {
            assert!(is_valid_url(good), "{good}");
        }
        for bad in [
            "example.com",
            "https://exa mple.com",
            "https://example.com/%",
            "nope://example.com",
            "https://example.com/<a>",
        ] {
            assert!(!is_valid_url(bad), "{bad}");
        }
    }
}
