//! The host interface: the [`Variables`] a rule reads and the [`Extensions`] a host adds.
//!
//! A host (Warden's detection service) implements [`Variables`] for its event type so rules
//! can read fields such as `user_name` or `added_lines`, and registers extra functions in an
//! [`Extensions`] registry (for example `velocity(key, "10m")` or `has_label(x)`), each with
//! its arity and a callback. The rule engine resolves names when compiling and never knows
//! how the host computes a value.

use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, LazyLock};

use crate::functions::Builtin;
use crate::lexer::KEYWORD_NAMES;
use crate::value::Value;

/// The values of the host's variables for one evaluation.
///
/// Names are passed in lowercase. Returning `None` means the host has no value for this
/// event; the rule then sees [`Value::Undefined`], which never makes a rule match on its
/// own. Each variable is looked up at most once per evaluation and then cached.
pub trait Variables {
    /// The value of the variable `name` (lowercase), or `None` if the host has none.
    fn get(&self, name: &str) -> Option<Value>;

    /// The host's own per-event context, for extension callbacks that need more than
    /// variables (downcast it with `<dyn Any>::downcast_ref`). Defaults to `None`.
    fn host_context(&self) -> Option<&dyn Any> {
        None
    }
}

/// A [`Variables`] with no variables at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVariables;

impl Variables for NoVariables {
    fn get(&self, _name: &str) -> Option<Value> {
        None
    }
}

impl Variables for HashMap<String, Value> {
    fn get(&self, name: &str) -> Option<Value> {
        HashMap::get(self, name).cloned()
    }
}

impl Variables for BTreeMap<String, Value> {
    fn get(&self, name: &str) -> Option<Value> {
        BTreeMap::get(self, name).cloned()
    }
}

impl<F: Fn(&str) -> Option<Value>> Variables for F {
    fn get(&self, name: &str) -> Option<Value> {
        self(name)
    }
}

/// The callback of a host function: it receives the evaluated arguments and the variables
/// of the current evaluation, and returns the result or an error message.
pub type HostFn = dyn Fn(&[Value], &dyn Variables) -> Result<Value, String> + Send + Sync;

/// A function registered by the host.
pub struct HostFunction {
    name: String,
    min_args: usize,
    max_args: Option<usize>,
    callback: Box<HostFn>,
}

impl HostFunction {
    /// The function's name, in lowercase.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fewest arguments the function takes.
    pub fn min_args(&self) -> usize {
        self.min_args
    }

    /// The most arguments the function takes, or `None` if it is variadic.
    pub fn max_args(&self) -> Option<usize> {
        self.max_args
    }

    pub(crate) fn call(&self, args: &[Value], vars: &dyn Variables) -> Result<Value, String> {
        (self.callback)(args, vars)
    }
}

impl fmt::Debug for HostFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostFunction")
            .field("name", &self.name)
            .field("min_args", &self.min_args)
            .field("max_args", &self.max_args)
            .finish_non_exhaustive()
    }
}

/// Why a function or variable could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// The name is not of the form `[a-z_][a-z0-9_]*`.
    #[error("'{0}' is not a valid name")]
    InvalidName(String),
    /// The name is a keyword or a built-in function.
    #[error("'{0}' is reserved by the language")]
    Reserved(String),
    /// A function of that name is already registered.
    #[error("'{0}' is already registered")]
    Duplicate(String),
    /// The minimum arity is larger than the maximum.
    #[error("'{0}' has a minimum arity above its maximum")]
    BadArity(String),
}

/// What a host adds to the language: functions, the variables it provides, and whether
/// unknown variable names are accepted.
///
/// [`Extensions::new`] starts with AbuseFilter's standard variable names (such as
/// `user_name`, `added_lines`, `page_namespace`) and its deprecated aliases, and no extra
/// functions. Compile rules against it with [`crate::Rule::compile_with`].
#[derive(Debug, Clone)]
pub struct Extensions {
    functions: HashMap<String, Arc<HostFunction>>,
    variables: HashSet<String>,
    aliases: HashMap<String, String>,
    allow_unknown_variables: bool,
}

impl Default for Extensions {
    fn default() -> Self {
        Extensions::new()
    }
}

static DEFAULT_EXTENSIONS: LazyLock<Extensions> = LazyLock::new(Extensions::new);

impl Extensions {
    /// AbuseFilter's standard variables and aliases, no host functions, and unknown
    /// variables rejected at compile time.
    pub fn new() -> Self {
        let mut ext = Extensions::empty();
        for name in ABUSEFILTER_VARIABLES {
            ext.variables.insert((*name).to_owned());
        }
        for (old, new) in ABUSEFILTER_DEPRECATED_VARIABLES {
            ext.aliases.insert((*old).to_owned(), (*new).to_owned());
        }
        ext
    }

    /// No variables, no aliases and no functions.
    pub fn empty() -> Self {
        Extensions {
            functions: HashMap::new(),
            variables: HashSet::new(),
            aliases: HashMap::new(),
            allow_unknown_variables: false,
        }
    }

    /// The shared instance used by [`crate::Rule::compile`].
    pub(crate) fn default_ref() -> &'static Extensions {
        &DEFAULT_EXTENSIONS
    }

    /// Registers a host function `name` taking `min_args` to `max_args` arguments
    /// (`None` for any number). The callback runs each time a rule calls it; if an argument
    /// is [`Value::Undefined`] the callback is skipped and the call yields `Undefined`.
    pub fn register_function<F>(
        &mut self,
        name: &str,
        min_args: usize,
        max_args: Option<usize>,
        callback: F,
    ) -> Result<&mut Self, RegistrationError>
    where
        F: Fn(&[Value], &dyn Variables) -> Result<Value, String> + Send + Sync + 'static,
    {
        let lower = name.to_ascii_lowercase();
        validate_name(&lower)?;
        if Builtin::lookup(&lower).is_some() || KEYWORD_NAMES.contains(&lower.as_str()) {
            return Err(RegistrationError::Reserved(lower));
        }
        if self.functions.contains_key(&lower) {
            return Err(RegistrationError::Duplicate(lower));
        }
        if max_args.is_some_and(|max| max < min_args) {
            return Err(RegistrationError::BadArity(lower));
        }
        self.functions.insert(
            lower.clone(),
            Arc::new(HostFunction {
                name: lower,
                min_args,
                max_args,
                callback: Box::new(callback),
            }),
        );
        Ok(self)
    }

    /// Declares a variable the host provides. Rules may read it but not assign it.
    pub fn declare_variable(&mut self, name: &str) -> Result<&mut Self, RegistrationError> {
        let lower = name.to_ascii_lowercase();
        validate_name(&lower)?;
        if Builtin::lookup(&lower).is_some() || KEYWORD_NAMES.contains(&lower.as_str()) {
            return Err(RegistrationError::Reserved(lower));
        }
        self.variables.insert(lower);
        Ok(self)
    }

    /// Declares `old` as another name for the variable `new`.
    pub fn declare_alias(&mut self, old: &str, new: &str) -> Result<&mut Self, RegistrationError> {
        let old = old.to_ascii_lowercase();
        validate_name(&old)?;
        self.aliases.insert(old, new.to_ascii_lowercase());
        Ok(self)
    }

    /// When `true`, a variable that is neither declared nor assigned by the rule is looked up
    /// in the host at run time instead of failing compilation with
    /// [`crate::ErrorKind::UnknownVariable`].
    pub fn allow_unknown_variables(&mut self, allow: bool) -> &mut Self {
        self.allow_unknown_variables = allow;
        self
    }

    /// Whether unknown variables are looked up in the host at run time.
    pub fn unknown_variables_allowed(&self) -> bool {
        self.allow_unknown_variables
    }

    /// Whether `name` (lowercase) is a declared host variable.
    pub fn is_variable(&self, name: &str) -> bool {
        self.variables.contains(name)
    }

    /// The registered host function `name` (lowercase), if any.
    pub fn function(&self, name: &str) -> Option<&Arc<HostFunction>> {
        self.functions.get(name)
    }

    /// The variable that the alias `name` stands for, if `name` is an alias.
    pub fn canonical_variable(&self, name: &str) -> Option<&str> {
        self.aliases.get(name).map(String::as_str)
    }

    /// Whether `name` (lowercase) is a keyword or a built-in or host function name, which a
    /// rule can neither read nor assign as a variable.
    pub(crate) fn is_reserved_name(&self, name: &str) -> bool {
        Builtin::lookup(name).is_some()
            || self.functions.contains_key(name)
            || KEYWORD_NAMES.contains(&name)
    }
}

fn validate_name(name: &str) -> Result<(), RegistrationError> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(RegistrationError::InvalidName(name.to_owned()))
    }
}

/// AbuseFilter's built-in variable names, which [`Extensions::new`] declares.
pub const ABUSEFILTER_VARIABLES: &[&str] = &[
    "action",
    "accountname",
    "account_type",
    "added_lines",
    "added_lines_pst",
    "added_links",
    "all_links",
    "edit_delta",
    "edit_diff",
    "edit_diff_pst",
    "file_bits_per_channel",
    "file_height",
    "file_mediatype",
    "file_mime",
    "file_sha1",
    "file_size",
    "file_width",
    "moved_from_age",
    "moved_from_first_contributor",
    "moved_from_id",
    "moved_from_last_edit_age",
    "moved_from_namespace",
    "moved_from_prefixedtitle",
    "moved_from_recent_contributors",
    "moved_from_restrictions_create",
    "moved_from_restrictions_edit",
    "moved_from_restrictions_move",
    "moved_from_restrictions_upload",
    "moved_from_title",
    "moved_to_age",
    "moved_to_first_contributor",
    "moved_to_id",
    "moved_to_last_edit_age",
    "moved_to_namespace",
    "moved_to_prefixedtitle",
    "moved_to_recent_contributors",
    "moved_to_restrictions_create",
    "moved_to_restrictions_edit",
    "moved_to_restrictions_move",
    "moved_to_restrictions_upload",
    "moved_to_title",
    "new_content_model",
    "new_html",
    "new_links",
    "new_pst",
    "new_size",
    "new_text",
    "new_wikitext",
    "old_content_model",
    "old_links",
    "old_size",
    "old_wikitext",
    "page_age",
    "page_first_contributor",
    "page_id",
    "page_last_edit_age",
    "page_namespace",
    "page_prefixedtitle",
    "page_recent_contributors",
    "page_restrictions_create",
    "page_restrictions_edit",
    "page_restrictions_move",
    "page_restrictions_upload",
    "page_title",
    "removed_lines",
    "removed_links",
    "summary",
    "timestamp",
    "tor_exit_node",
    "user_age",
    "user_app",
    "user_blocked",
    "user_editcount",
    "user_emailconfirm",
    "user_groups",
    "user_mobile",
    "user_name",
    "user_rights",
    "user_type",
    "user_unnamed_ip",
    "wiki_language",
    "wiki_name",
];

/// AbuseFilter's deprecated variable names and the names that replaced them.
pub const ABUSEFILTER_DEPRECATED_VARIABLES: &[(&str, &str)] = &[
    ("article_articleid", "page_id"),
    ("article_first_contributor", "page_first_contributor"),
    ("article_namespace", "page_namespace"),
    ("article_prefixedtext", "page_prefixedtitle"),
    ("article_recent_contributors", "page_recent_contributors"),
    ("article_restrictions_create", "page_restrictions_create"),
    ("article_restrictions_edit", "page_restrictions_edit"),
    ("article_restrictions_move", "page_restrictions_move"),
    ("article_restrictions_upload", "page_restrictions_upload"),
    ("article_text", "page_title"),
    ("moved_from_articleid", "moved_from_id"),
    ("moved_from_prefixedtext", "moved_from_prefixedtitle"),
    ("moved_from_text", "moved_from_title"),
    ("moved_to_articleid", "moved_to_id"),
    ("moved_to_prefixedtext", "moved_to_prefixedtitle"),
    ("moved_to_text", "moved_to_title"),
];
