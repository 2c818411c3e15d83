//! Every bound this crate keeps on input, lists and loops, in one place.

/// Ids listed in an intake audit record; the rest are counted.
pub const AUDIT_IDS_MAX: usize = 100;

/// Verdicts listed at most (one per subject decided in the period).
pub const VERDICTS_MAX: i64 = 1_000_000;

/// Deliveries of one action shown at most (an apply, a lift, a reverse,
/// their notices and replays fit many times over).
pub const ACTION_DELIVERIES_SHOWN_MAX: i64 = 100;

/// Statements listed per call at most (an export or a submission batch
/// pages through the rest).
pub const STATEMENTS_PAGE_MAX: u32 = 10_000;

/// The longest kind name (`lr`, `svm`), in bytes.
pub const KIND_BYTES_MAX: usize = 16;

/// Users listed at most (the console pages them; an installation has people, not crowds).
pub const USERS_LISTED_MAX: i64 = 10_000;

/// Events read per detection batch at most.
pub const DETECTION_BATCH_MAX: u32 = 2_000;

/// How long a read of events waits at most (PostgreSQL) for transactions
/// older than the read that still run, so that the events committed before
/// it are in it (see `EventPosition`). Writers' transactions are short; a
/// server's migrations at start-up are the longest seen.
pub const DETECTION_WAIT_MS_MAX: u64 = 10_000;

/// Case ids listed in a detection batch's audit record; the rest are counted.
pub const AUDIT_CASES_MAX: usize = 100;

/// Rows read per page when loading KPI facts (each list pages by its time
/// and id, so a page costs one index range read).
pub const KPI_FACTS_PAGE: i64 = 50_000;
