//! Hard limits that keep compilation and evaluation bounded in time and memory.
//!
//! The rule language has no loops, so the cost of one evaluation is bounded by the size of
//! the rule and of the strings and arrays it produces. Each limit below closes one way a
//! hostile or careless rule could still use too much memory, stack or time. A host may
//! lower the runtime budgets per evaluation through [`crate::EvalContext`].

/// The longest rule source accepted by the compiler, in bytes.
///
/// The largest filters on the biggest wikis are a few tens of kilobytes; 64 KiB leaves room
/// for them while bounding compile time and the size of the syntax tree.
pub const MAX_RULE_LENGTH: usize = 64 * 1024;

/// The deepest nesting of parentheses, brackets, function calls, conditionals and chained
/// assignments that the parser accepts.
///
/// The parser and the evaluator are recursive, so this bounds their stack use. Real rules
/// rarely nest more than ten levels; 64 is generous and keeps the stack well below the
/// 2 MiB that Rust gives a new thread, even in unoptimised builds.
pub const MAX_NESTING_DEPTH: usize = 64;

/// The deepest syntax tree that the compiler accepts, counted in nodes from the root.
///
/// Nesting in the source is bounded by [`MAX_NESTING_DEPTH`], but one nesting level can hold
/// several operator levels, so the tree itself gets its own bound. The evaluator recurses
/// once per tree level.
pub const MAX_AST_DEPTH: usize = 256;

/// How many conditions one [`crate::EvalContext`] may consume before evaluation stops with
/// [`crate::ErrorKind::ConditionLimit`].
///
/// This is AbuseFilter's `$wgAbuseFilterConditionLimit` default. Comparisons, keyword
/// operators and function calls each count as one condition, as upstream.
pub const DEFAULT_CONDITION_LIMIT: u32 = 1000;

/// How many work units one [`crate::EvalContext`] may consume before evaluation stops with
/// [`crate::ErrorKind::TimeBudget`].
///
/// Every evaluated node costs one unit and string work costs one unit per KiB touched. The
/// default is far above what the largest accepted rule needs on ordinary input, so it only
/// stops pathological work; hosts that want a tighter per-event budget lower it.
pub const DEFAULT_STEP_LIMIT: u64 = 10_000_000;

/// How many steps pass between two calls of the host's deadline check, if one is set.
///
/// Checking a clock on every node would dominate the cost of small rules; every 1024 steps
/// keeps the overhead negligible while still reacting within microseconds.
pub const DEADLINE_CHECK_INTERVAL: u64 = 1024;

/// The longest string, in bytes, that evaluation may produce (by concatenation, replacement,
/// conversion of an array to a string and so on).
///
/// Strings given by the host are not limited. Without this bound, repeated self-concatenation
/// (`a := a + a`) would double memory per statement. 8 MiB is four times the largest page a
/// wiki accepts.
pub const MAX_STRING_LENGTH: usize = 8 * 1024 * 1024;

/// The largest array, in elements, that evaluation may produce.
///
/// Arrays given by the host are not limited. The bound stops repeated self-concatenation of
/// arrays from exhausting memory.
pub const MAX_ARRAY_LENGTH: usize = 100_000;

/// The deepest nesting of arrays that evaluation may produce (`[[[…]]]`).
///
/// Statements such as `a := [a]` add one level each without nesting in the source, and
/// converting, comparing or dropping a nested array recurses once per level, so the depth
/// must be bounded to keep the stack safe. Real rules rarely nest more than three levels.
/// Arrays given by the host are not checked.
pub const MAX_ARRAY_DEPTH: usize = 64;

/// The compiled size limit, in bytes, of one regular expression.
///
/// Patterns such as `(a{1000}){1000}` compile to huge programs; 1 MiB is ample for any
/// realistic filter pattern.
pub const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// The lazy DFA cache limit, in bytes, of one regular expression.
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 * 1024 * 1024;

/// The deepest nesting of groups a regular expression may have.
pub const REGEX_NEST_LIMIT: u32 = 100;

/// The backtracking budget of one match with a pattern that needs the backtracking engine
/// (look-around, back-references, atomic groups, possessive quantifiers).
///
/// Backtracking can be exponential; past this many steps the match fails with
/// [`crate::ErrorKind::TimeBudget`] instead of running away.
pub const REGEX_BACKTRACK_LIMIT: usize = 100_000;

/// How many distinct patterns built at run time (not literals) one [`crate::EvalContext`]
/// keeps compiled.
///
/// Literal patterns are compiled once with the rule. Patterns computed at run time are cached
/// per context; the cache is cleared when it reaches this size so memory stays bounded.
pub const REGEX_CACHE_CAPACITY: usize = 64;
