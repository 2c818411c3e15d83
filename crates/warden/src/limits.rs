//! Every bound this crate keeps on input, lists and loops, in one place.

/// The smallest step budget configuration may give a rule: below it ordinary rules on
/// long texts would fail.
pub const RULE_STEPS_MIN: u64 = 100_000;

/// The largest step budget configuration may give a rule: ten times the default, about a
/// tenth of a second of work in a release build.
pub const RULE_STEPS_MAX: u64 = 10 * warden_rules::limits::DEFAULT_STEP_LIMIT;

/// Files at least this big show a progress bar while read (on a terminal);
/// smaller ones are read before a bar would be seen.
pub const PROGRESS_BYTES_MIN: u64 = 16 * 1024 * 1024;

/// Sample cases in one `rules test` file at most.
pub const TEST_CASES_MAX: usize = 100_000;

/// How far back a backtest may reach.
pub const BACKTEST_DAYS_MAX: i64 = 90;
