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

/// The shortest time between scheduled classifier retrains: training takes
/// seconds and reads up to 50,000 decisions.
pub const RETRAIN_EVERY_MIN_SECONDS: i64 = 60;

/// The most models `[[classifier.models]]` may name (each retrain trains
/// them one after another).
pub const CLASSIFIER_MODELS_MAX: usize = 20;

/// The largest `[classifier] priority_weight`: case priority is capped at
/// `warden_domain::limits::CASE_PRIORITY_MAX`, and a score should not
/// outweigh a legal notice.
pub const CLASSIFIER_PRIORITY_WEIGHT_MAX: u32 = 1_000;

/// How often `warden incident bulk-status` reads a running bulk action's
/// progress on a terminal.
pub const BULK_STATUS_POLL_MILLIS: u64 = 500;
