//! Every bound the workers keep, in one place.

use std::time::Duration;

/// The first pause after a failed or panicked batch.
pub const RETRY_PAUSE_FIRST: Duration = Duration::from_millis(250);

/// The longest pause between retries of a failing batch: doubling stops here.
pub const RETRY_PAUSE_MAX: Duration = Duration::from_secs(30);

/// How long a stopping worker may take to finish the batch in hand.
pub const STOP_GRACE: Duration = Duration::from_secs(15);

/// Live models scored on every event, at most: each costs a pass over the
/// text (tens of microseconds for a post), and rules name a handful.
pub const LIVE_CLASSIFIERS_MAX: usize = 20;

/// Rule files read from a directory at most.
pub const RULE_FILES_MAX: usize = 1_000;

/// Bytes of one rule file at most.
pub const RULE_FILE_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// Events replayed to warm the velocity counters at start, at most.
pub const WARMUP_EVENTS_MAX: usize = 200_000;

/// Per-event evaluation times kept for the percentiles on `GET /api/v1/rules`.
pub const EVENT_TIMES_KEPT: usize = 4_096;

/// Rounds of one submission run at most: each settles a statement or stops.
pub const SUBMISSION_ROUNDS_MAX: usize = 10_000;

/// How long the bulk runner waits when no bulk action is being applied.
pub const BULK_IDLE_PAUSE: Duration = Duration::from_secs(1);
