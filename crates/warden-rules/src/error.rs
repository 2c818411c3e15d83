//! Errors raised while compiling or evaluating a rule.
//!
//! Every error carries an [`ErrorKind`] that callers can match on and the byte offset in the
//! rule source where it arose. Compile-time kinds correspond to AbuseFilter's syntax errors;
//! runtime kinds to its evaluation exceptions, plus Warden's budget and size limits.

use std::fmt;

/// What went wrong. The kinds mirror AbuseFilter's exception identifiers where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A token appeared where the grammar does not allow it (`unexpectedtoken`).
    UnexpectedToken,
    /// Input continued after a complete rule, such as a stray `)` (`unexpectedatend`).
    UnexpectedAtEnd,
    /// A required token, such as `)`, `]`, `then` or `end`, is missing (`expectednotfound`).
    ExpectedNotFound,
    /// A string literal has no closing quote (`unclosedstring`).
    UnclosedString,
    /// A `/*` comment has no closing `*/` (`unclosedcomment`).
    UnclosedComment,
    /// A character that starts no token (`unrecognisedtoken`).
    UnrecognisedToken,
    /// A keyword such as `rlike` used where a value is expected (`unrecognisedkeyword`).
    UnrecognisedKeyword,
    /// A call to a function that is neither built in nor registered (`unknownfunction`).
    UnknownFunction,
    /// A function was given fewer arguments than it needs (`noparams`, `notenoughargs`).
    TooFewArguments,
    /// A function was given more arguments than it takes (`toomanyargs`).
    TooManyArguments,
    /// A variable that is not known to the host and not assigned before its use
    /// (`unrecognisedvar`).
    UnknownVariable,
    /// A function or keyword name used as a variable (`usebuiltin`).
    ReservedIdentifier,
    /// An assignment to a host variable, function or keyword name (`overridebuiltin`).
    OverrideBuiltin,
    /// `set`/`set_var` with a variable name that is not a string literal (`variablevariable`).
    VariableVariable,
    /// A regular expression that does not compile, or uses an unsupported feature
    /// (`regexfailure`).
    BadRegex,
    /// Division or modulo by zero (`dividebyzero`).
    DivisionByZero,
    /// An array index at or past the end of the array (`outofbounds`).
    IndexOutOfBounds,
    /// A negative array index (`negativeindex`).
    NegativeIndex,
    /// Indexing or appending to a value that is not an array (`notarray`).
    NotAnArray,
    /// An invalid IP range given to `ip_in_range` or `ip_in_ranges` (`invalidiprange`).
    InvalidIpRange,
    /// The evaluation used more conditions than the context allows.
    ConditionLimit,
    /// The evaluation used more work than the context allows, or the host deadline passed.
    TimeBudget,
    /// The rule source is longer than [`crate::limits::MAX_RULE_LENGTH`].
    RuleTooLong,
    /// The rule nests deeper than [`crate::limits::MAX_NESTING_DEPTH`] or
    /// [`crate::limits::MAX_AST_DEPTH`].
    NestingTooDeep,
    /// Evaluation would produce a string longer than [`crate::limits::MAX_STRING_LENGTH`].
    StringTooLong,
    /// Evaluation would produce an array longer than [`crate::limits::MAX_ARRAY_LENGTH`].
    ArrayTooLong,
    /// Evaluation would nest arrays deeper than [`crate::limits::MAX_ARRAY_DEPTH`].
    ArrayTooDeep,
    /// A host extension function reported an error.
    Extension,
    /// The rule's estimated cost on event-sized input is beyond the limit a rule pack
    /// accepts (see [`crate::Rule::check_cost`] and [`crate::limits::cost`]).
    CostTooHigh,
    /// A variable or property path with a declared type is used where that type makes no
    /// sense (a declared number compared with a string, a string function on a boolean).
    TypeMismatch,
}

impl ErrorKind {
    /// A short stable identifier for logs and metrics, such as `unexpected_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnexpectedToken => "unexpected_token",
            ErrorKind::UnexpectedAtEnd => "unexpected_at_end",
            ErrorKind::ExpectedNotFound => "expected_not_found",
            ErrorKind::UnclosedString => "unclosed_string",
            ErrorKind::UnclosedComment => "unclosed_comment",
            ErrorKind::UnrecognisedToken => "unrecognised_token",
            ErrorKind::UnrecognisedKeyword => "unrecognised_keyword",
            ErrorKind::UnknownFunction => "unknown_function",
            ErrorKind::TooFewArguments => "too_few_arguments",
            ErrorKind::TooManyArguments => "too_many_arguments",
            ErrorKind::UnknownVariable => "unknown_variable",
            ErrorKind::ReservedIdentifier => "reserved_identifier",
            ErrorKind::OverrideBuiltin => "override_builtin",
            ErrorKind::VariableVariable => "variable_variable",
            ErrorKind::BadRegex => "bad_regex",
            ErrorKind::DivisionByZero => "division_by_zero",
            ErrorKind::IndexOutOfBounds => "index_out_of_bounds",
            ErrorKind::NegativeIndex => "negative_index",
            ErrorKind::NotAnArray => "not_an_array",
            ErrorKind::InvalidIpRange => "invalid_ip_range",
            ErrorKind::ConditionLimit => "condition_limit",
            ErrorKind::TimeBudget => "time_budget",
            ErrorKind::RuleTooLong => "rule_too_long",
            ErrorKind::NestingTooDeep => "nesting_too_deep",
            ErrorKind::StringTooLong => "string_too_long",
            ErrorKind::ArrayTooLong => "array_too_long",
            ErrorKind::ArrayTooDeep => "array_too_deep",
            ErrorKind::Extension => "extension",
            ErrorKind::CostTooHigh => "cost_too_high",
            ErrorKind::TypeMismatch => "type_mismatch",
        }
    }

    /// Whether this kind is found when compiling, as opposed to when evaluating.
    pub fn is_compile_time(self) -> bool {
        matches!(
            self,
            ErrorKind::UnexpectedToken
                | ErrorKind::UnexpectedAtEnd
                | ErrorKind::ExpectedNotFound
                | ErrorKind::UnclosedString
                | ErrorKind::UnclosedComment
                | ErrorKind::UnrecognisedToken
                | ErrorKind::UnrecognisedKeyword
                | ErrorKind::UnknownFunction
                | ErrorKind::TooFewArguments
                | ErrorKind::TooManyArguments
                | ErrorKind::UnknownVariable
                | ErrorKind::ReservedIdentifier
                | ErrorKind::OverrideBuiltin
                | ErrorKind::VariableVariable
                | ErrorKind::RuleTooLong
                | ErrorKind::NestingTooDeep
                | ErrorKind::CostTooHigh
                | ErrorKind::TypeMismatch
        )
    }

    /// Whether this is one of the two wrong-argument-count kinds.
    pub fn is_wrong_argument_count(self) -> bool {
        matches!(
            self,
            ErrorKind::TooFewArguments | ErrorKind::TooManyArguments
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from [`crate::Rule::compile`] or [`crate::Rule::evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The byte offset in the rule source of the token where the error arose.
    pub position: usize,
    /// A human-readable detail, such as the name of the unknown function.
    pub detail: Box<str>,
}

impl RuleError {
    /// Builds an error of `kind` at byte `position` with a human-readable `detail`.
    pub fn new(kind: ErrorKind, position: usize, detail: impl Into<String>) -> Self {
        RuleError {
            kind,
            position,
            detail: detail.into().into_boxed_str(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.position)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for RuleError {}

/// Shorthand for results in this crate.
pub(crate) type Result<T> = std::result::Result<T, RuleError>;
