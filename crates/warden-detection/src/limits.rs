//! Limits of detection, with why. The time limits and the auto-disable policy have
//! defaults here that `[detection]` in `warden.toml` may change within the ceilings.

/// How long one rule may run on one event by default, in milliseconds.
///
/// The step budget of the rule language ([`warden_rules::limits::DEFAULT_STEP_LIMIT`],
/// about ten milliseconds of work) stops runaway work that the cost model sees; the
/// deadline is the backstop for what it cannot see (a backtracking regular expression near
/// its own limit, a slow machine). An ordinary rule takes microseconds.
pub const RULE_DEADLINE_MS_DEFAULT: u64 = 50;

/// How long all the rules of a pack may run on one event by default, in milliseconds.
///
/// A 210-rule pack takes well under a millisecond per event; a quarter of a second per
/// event still lets the worker keep up with a few events per second while a broken rule
/// is being disabled, and keeps one event from holding the worker.
pub const PACK_DEADLINE_MS_DEFAULT: u64 = 250;

/// The longest deadline configuration may set, per rule or per pack: beyond ten seconds an
/// event would hold the detection worker (and every event behind it) too long.
pub const DEADLINE_MS_MAX: u64 = 10_000;

/// The shortest deadline configuration may set: below a millisecond ordinary rules would
/// fail on a busy machine.
pub const DEADLINE_MS_MIN: u64 = 1;

/// Errors (budget, deadline or condition limit) within the window after which a rule is
/// disabled automatically, by default. Five is enough to be sure it is the rule, not one
/// odd event, and few enough that a broken rule costs only five deadlines.
pub const STRIKES_DEFAULT: u32 = 5;

/// The most strikes configuration may ask for before disabling a rule.
pub const STRIKES_MAX: u32 = 10_000;

/// The window in which strikes count, by default, in seconds: ten minutes.
pub const STRIKE_WINDOW_SECONDS_DEFAULT: i64 = 600;

/// The longest strike window configuration may set: a day.
pub const STRIKE_WINDOW_SECONDS_MAX: i64 = 86_400;

/// How often the stopwatch is read between rules, in steps: the pack deadline is checked
/// after the rules of an event have used this many steps since the last reading (and by
/// the running rule itself every [`warden_rules::limits::DEADLINE_CHECK_INTERVAL`] steps),
/// so cheap rules do not pay for a clock reading each.
pub const PACK_CLOCK_INTERVAL_STEPS: u64 = 2048;

/// How deeply arrays read from the platform's JSON properties may nest; deeper arrays read
/// as `null`. The properties themselves are bounded by intake (64 KiB of JSON per event's
/// `data` and per subject's `attributes`), so this bounds only the recursion of turning
/// them into rule values. Property paths have at most
/// [`warden_rules::limits::MAX_PATH_SEGMENTS`] segments.
pub const PROPERTY_ARRAY_DEPTH_MAX: usize = 16;

/// Entries in one list at most.
pub const LIST_ENTRIES_MAX: usize = 100_000;

/// Bytes of one entry at most.
pub const ENTRY_BYTES_MAX: usize = 512;

/// Rules in one pack at most.
pub const RULES_MAX: usize = 5_000;

/// Lists in one pack at most.
pub const LISTS_MAX: usize = 500;

/// Features in one pack at most.
pub const FEATURES_MAX: usize = 500;

/// Declared fields in one pack at most.
pub const FIELDS_MAX: usize = 2_000;

/// Longest URL taken from text; longer runs are cut.
pub const URL_CHARS_MAX: usize = 2048;

/// URLs found in one text at most.
pub const URLS_MAX: usize = 64;

/// Longest window a rule may ask for: seven days.
pub const WINDOW_SECONDS_MAX: i64 = 7 * 24 * 3600;

/// Times kept per key; a count above this reads as this.
pub const TIMES_PER_KEY_MAX: usize = 10_000;

/// Keys kept at once.
pub const KEYS_MAX: usize = 1_000_000;
