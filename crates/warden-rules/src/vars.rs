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
/// Names are passed in lowercase, except property paths (see
/// [`Extensions::declare_path_root`]), whose segments after the root keep the case they
/// were written in. Returning `None` means the host has no value for this event; the rule
/// then sees [`Value::Undefined`], which never makes a rule match on its own. Each variable
/// is looked up at most once per evaluation and then cached.
pub trait Variables {
    /// The value of the variable `name` (lowercase), or `None` if the host has none.
    fn get(&self, name: &str) -> Option<Value>;

    /// The value of the declared variable numbered `index` (see
    /// [`Extensions::variable_index`]) and called `name`. Hosts that keep their variables in
    /// an array can answer by index without comparing names; by default this is
    /// [`Variables::get`] of the name.
    fn get_declared(&self, index: u32, name: &str) -> Option<Value> {
        let _ = index;
        self.get(name)
    }

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

/// The type a host declares for a variable or property path, so that compiling a rule can
/// report a comparison or a function that cannot make sense for it
/// ([`crate::ErrorKind::TypeMismatch`]). Values are not checked at run time: a value of
/// another type is juggled as AbuseFilter does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarType {
    /// Text.
    String,
    /// An integer or a float.
    Number,
    /// `true` or `false`.
    Bool,
    /// A list.
    Array,
}

impl VarType {
    /// The name in rule packs and messages: `string`, `number`, `bool` or `array`.
    pub fn as_str(self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Number => "number",
            VarType::Bool => "bool",
            VarType::Array => "array",
        }
    }

    /// Parses a type name (`string`, `number`, `integer`, `float`, `bool`, `boolean`,
    /// `array`, `list`).
    pub fn parse(name: &str) -> Option<VarType> {
        Some(match name {
            "string" | "text" => VarType::String,
            "number" | "integer" | "int" | "float" => VarType::Number,
            "bool" | "boolean" => VarType::Bool,
            "array" | "list" => VarType::Array,
            _ => return None,
        })
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
    /// Declared variables and their indices, in the order they were declared.
    variables: HashMap<String, u32>,
    aliases: HashMap<String, String>,
    allow_unknown_variables: bool,
    /// Property path roots (`event.props`), and whether only declared paths under each
    /// are accepted.
    path_roots: BTreeMap<String, bool>,
    /// Paths declared under roots.
    paths: HashSet<String>,
    types: HashMap<String, VarType>,
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
            let index = ext.variables.len() as u32;
            ext.variables.insert((*name).to_owned(), index);
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
            variables: HashMap::new(),
            aliases: HashMap::new(),
            allow_unknown_variables: false,
            path_roots: BTreeMap::new(),
            paths: HashSet::new(),
            types: HashMap::new(),
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
        let index = self.variables.len() as u32;
        self.variables.entry(lower).or_insert(index);
        Ok(self)
    }

    /// Declares `old` as another name for the variable `new`. Either may be a dotted name
    /// (`event.text` for `text`).
    pub fn declare_alias(&mut self, old: &str, new: &str) -> Result<&mut Self, RegistrationError> {
        let old = old.to_ascii_lowercase();
        validate_dotted(&old)?;
        self.aliases.insert(old, new.to_ascii_lowercase());
        Ok(self)
    }

    /// Declares a property path root such as `event.props`: rules may then read any
    /// `event.props.<segment>…` (at most [`crate::limits::MAX_PATH_SEGMENTS`] segments in
    /// all), and the host receives the whole path, with the segments after the root as
    /// written (property names are case-sensitive). Once a path under the root is declared
    /// with [`Extensions::declare_path`], only declared paths are accepted under it.
    pub fn declare_path_root(&mut self, root: &str) -> Result<&mut Self, RegistrationError> {
        let root = root.to_ascii_lowercase();
        validate_dotted(&root)?;
        self.path_roots.entry(root).or_insert(false);
        Ok(self)
    }

    /// Declares one path under a root, optionally with its type; from then on a path under
    /// that root that is not declared fails to compile with
    /// [`crate::ErrorKind::UnknownVariable`], naming the closest declared path.
    pub fn declare_path(
        &mut self,
        path: &str,
        ty: Option<VarType>,
    ) -> Result<&mut Self, RegistrationError> {
        let Some(root) = self.root_of(path).map(str::to_owned) else {
            return Err(RegistrationError::InvalidName(path.to_owned()));
        };
        let path = format!("{root}{}", &path[root.len()..]);
        validate_path_segments(&path)?;
        self.path_roots.insert(root, true);
        if let Some(ty) = ty {
            self.types.insert(path.clone(), ty);
        }
        self.paths.insert(path);
        Ok(self)
    }

    /// Declares the type of a host variable (declared or a path), for compile-time checks.
    pub fn declare_type(&mut self, name: &str, ty: VarType) -> &mut Self {
        self.types.insert(name.to_owned(), ty);
        self
    }

    /// The declared type of a variable or path, if any.
    pub fn variable_type(&self, name: &str) -> Option<VarType> {
        self.types.get(name).copied()
    }

    /// The root `name` is a path under (matched without regard to case), if any.
    pub fn root_of(&self, name: &str) -> Option<&str> {
        self.path_roots.keys().map(String::as_str).find(|root| {
            name.len() > root.len() + 1
                && name.as_bytes()[root.len()] == b'.'
                && name[..root.len()].eq_ignore_ascii_case(root)
        })
    }

    /// `name` with its path root in lowercase and the rest as written; other names in
    /// lowercase.
    pub(crate) fn canonical_name(&self, name: &str) -> String {
        match self.root_of(name) {
            Some(root) => format!("{root}{}", &name[root.len()..]),
            None => name.to_ascii_lowercase(),
        }
    }

    /// For a path under a root that only accepts declared paths: the declared path closest
    /// to `name`, to suggest in place of a typo. `None` when the path is acceptable or not
    /// under a root.
    pub(crate) fn undeclared_path(&self, name: &str) -> Option<Option<&str>> {
        let root = self.root_of(name)?;
        if !self.path_roots.get(root).copied().unwrap_or(false) || self.paths.contains(name) {
            return None;
        }
        let closest = self
            .paths
            .iter()
            .filter(|p| p.starts_with(root))
            .map(|p| (edit_distance(p, name), p))
            .min()
            .filter(|(distance, _)| *distance <= 3)
            .map(|(_, p)| p.as_str());
        Some(closest)
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

    /// Whether `name` (lowercase, or a canonical path) is a declared host variable or an
    /// acceptable path under a declared root.
    pub fn is_variable(&self, name: &str) -> bool {
        self.variables.contains_key(name)
            || (self.root_of(name).is_some()
                && self.undeclared_path(name).is_none()
                && validate_path_segments(name).is_ok())
    }

    /// The index of a declared variable: declared variables are numbered from 0 in the
    /// order of their first declaration ([`Extensions::new`] declares AbuseFilter's, in the
    /// order of [`ABUSEFILTER_VARIABLES`]). Rules read declared variables through
    /// [`Variables::get_declared`] with this index. Paths under roots have none.
    pub fn variable_index(&self, name: &str) -> Option<u32> {
        self.variables.get(name).copied()
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

/// A name of dot-separated valid names (`event.props`).
fn validate_dotted(name: &str) -> Result<(), RegistrationError> {
    if name.split('.').all(|part| validate_name(part).is_ok()) {
        Ok(())
    } else {
        Err(RegistrationError::InvalidName(name.to_owned()))
    }
}

/// A path: segments of `[0-9A-Za-z_]`, at most [`crate::limits::MAX_PATH_SEGMENTS`].
fn validate_path_segments(path: &str) -> Result<(), RegistrationError> {
    let segments: Vec<&str> = path.split('.').collect();
    let ok = segments.len() <= crate::limits::MAX_PATH_SEGMENTS
        && segments
            .iter()
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if ok {
        Ok(())
    } else {
        Err(RegistrationError::InvalidName(path.to_owned()))
    }
}

/// The Levenshtein distance between two short names (paths are at most a few dozen bytes).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
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
