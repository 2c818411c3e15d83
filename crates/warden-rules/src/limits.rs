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

/// The most segments one property path may have (`event.props.a.b` has four).
///
/// Paths name fields in the JSON properties of events and subjects; the platforms' own
/// nesting rarely passes four levels. Reading a path walks one level per segment, so the
/// bound also bounds the lookup.
pub const MAX_PATH_SEGMENTS: usize = 12;

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

/// How many steps one [`crate::EvalContext`] may consume before evaluation stops with
/// [`crate::ErrorKind::TimeBudget`].
///
/// Steps are the unit of the cost model (see [`cost`]): one step per evaluated node, and
/// work on strings and arrays in proportion to the bytes and elements it touches, so that
/// the budget bounds wall time rather than the number of calls. Measured in a release
/// build, a step is at most about three nanoseconds for the costliest function on the
/// costliest input and well under one for most, so ten million steps are at most a few
/// tens of milliseconds of work (a few times that in an unoptimised build): far above what
/// an ordinary rule needs on an event (a few hundred to a few thousand steps), enough for
/// a rule to run a few dozen passes over the largest subject text intake accepts, and
/// small enough that a pathological rule cannot hold a detection worker.
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

/// The largest array, in elements, that evaluation may produce; for arrays holding arrays,
/// the elements of all of them, each counted every time it appears.
///
/// Arrays given by the host are not limited. The bound stops repeated self-concatenation of
/// arrays from exhausting memory, and `a := [a, a]` repeated from building a value whose
/// string form or comparison takes time exponential in the rule's length.
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

/// The largest estimated cost, in steps, that a rule may have to be accepted by a rule pack
/// (`warden rules check`, and the detection worker when it loads rule files).
///
/// See [`cost`] for the model. It is the default step budget: a rule whose estimate on
/// event-sized input exceeds the budget it will run under would fail on such input at run
/// time, so it is refused when it is written rather than when a large event arrives.
pub const MAX_STATIC_COST: u64 = DEFAULT_STEP_LIMIT;

/// The cost model: what each kind of work charges to the step budget, and the assumptions
/// of the static estimate made when a rule pack is checked.
///
/// # At run time
///
/// Every evaluated node costs one step (so a rule's node count, bounded by
/// [`MAX_RULE_LENGTH`], bounds the cost of its control flow). Work on data is charged in
/// proportion to what it touches, input and output, at a rate per KiB that depends on the
/// kind of work:
///
/// - copying, comparing, concatenating and converting strings and arrays:
///   [`COPY_PER_KIB`] per KiB (arrays count one byte per element plus their contents);
/// - substring search (`contains`, `in`, `count`, `str_replace`, `strpos`, the
///   `contains_any` family, once per needle): [`SEARCH_PER_KIB`];
/// - character-wise passes (`lcase`, `ucase`, `length`, `substr`, `rescape`):
///   [`CHARS_PER_KIB`];
/// - normalisers (`ccnorm`, `norm`, `sanitize`, `rmspecials`, `rmdoubles`,
///   `rmwhitespace`, `specialratio`): [`NORMALIZE_PER_KIB`] per pass;
/// - regular expressions, per haystack byte: [`REGEX_PER_KIB`] on the linear engine,
///   [`BACKTRACK_PER_KIB`] on the backtracking one, plus [`REGEX_MATCH_STEPS`] per match
///   found by `rcount` and `str_replace_regexp` (charged as matches are found, so a
///   haystack of a million one-byte matches stops as soon as the budget is spent), plus
///   [`REGEX_COMPILE_STEPS`] and [`COPY_PER_KIB`] of the pattern when a pattern built at run
///   time is compiled;
/// - host functions: [`HOST_CALL_STEPS`] per call plus [`HOST_PER_KIB`] of their arguments
///   and [`COPY_PER_KIB`] of their result.
///
/// Work is charged before it is done whenever its size is known in advance (the input, and
/// the output of `str_replace`), so a single call that would exceed the budget fails
/// without doing the work. The rates were measured (`WARDEN_COST_CALIBRATION=1 cargo test
/// --release -p warden-rules calibration -- --nocapture`) so that one step is at most a few
/// nanoseconds of work in a release build for every function.
///
/// # Statically
///
/// [`crate::Rule::estimated_cost`] applies the same rates to sizes estimated from the
/// rule's text: every host variable and host function result is assumed to be
/// [`ASSUMED_HOST_VALUE_BYTES`] long, literals are their own length, a rule variable is the
/// largest value assigned to it so far, and each function's result size follows from its
/// arguments' (`str_replace` may grow its input by the ratio of replacement to search,
/// concatenation adds, and so on, capped at [`MAX_STRING_LENGTH`]). Every branch is counted
/// as if it ran, and every regular expression match charge assumes one match per
/// [`ASSUMED_MATCH_SPACING`] bytes. The estimate is an upper bound for ordinary rules on
/// event-sized input, not a prediction.
pub mod cost {
    /// Copying, comparing, concatenating and converting: steps per KiB.
    pub const COPY_PER_KIB: u64 = 128;

    /// Substring search: steps per KiB of haystack, per needle.
    pub const SEARCH_PER_KIB: u64 = 256;

    /// Character-wise passes such as case mapping: steps per KiB.
    pub const CHARS_PER_KIB: u64 = 2048;

    /// Normalisers (`ccnorm` and its family): steps per KiB, per pass.
    pub const NORMALIZE_PER_KIB: u64 = 6144;

    /// Regular expression scans on the linear engine: steps per KiB of haystack.
    pub const REGEX_PER_KIB: u64 = 2048;

    /// Regular expression scans on the backtracking engine: steps per KiB of haystack.
    pub const BACKTRACK_PER_KIB: u64 = 16384;

    /// Each match found while counting or replacing with a regular expression: steps.
    pub const REGEX_MATCH_STEPS: u64 = 128;

    /// Each match `str_replace` replaces: steps.
    pub const STR_MATCH_STEPS: u64 = 8;

    /// Compiling a pattern built at run time: steps, plus the pattern's bytes at
    /// [`COPY_PER_KIB`]. Literal patterns are compiled once with the rule and cost nothing
    /// at run time.
    pub const REGEX_COMPILE_STEPS: u64 = 20_000;

    /// Calling a host function: steps per call.
    pub const HOST_CALL_STEPS: u64 = 16;

    /// A host function's arguments: steps per KiB (hosts typically scan them once, as
    /// keyword lists and URL extraction do).
    pub const HOST_PER_KIB: u64 = 1024;

    /// The size the static estimate assumes for every host variable and host function
    /// result: the most an event's `data` or a subject's `attributes` may hold.
    pub const ASSUMED_HOST_VALUE_BYTES: usize = 64 * 1024;

    /// The static estimate assumes one regular expression match per this many haystack
    /// bytes when charging per match.
    pub const ASSUMED_MATCH_SPACING: usize = 16;
}
