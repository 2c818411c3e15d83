//! The application layer's limits, each with why. The domain's limits
//! (`warden_domain::limits`) bound what one item may hold; these bound what
//! one command or query may ask for.

/// Characters in a reason (hold, escalation, reopening, ruling, reversal,
/// a taxonomy version's note): a few sentences, never a document.
pub const REASON_CHARS_MAX: usize = 1_000;

/// Rows a case list may skip: deep offsets are slow to serve; a narrower
/// filter finds the same cases faster.
pub const CASE_LIST_OFFSET_MAX: u32 = 100_000;

/// Reports and signals shown per case in a list (the single-case view
/// shows up to `CASE_ITEMS_SHOWN_MAX`).
pub const CASE_LIST_ITEMS_PER_CASE: u32 = 5;

/// Audit records one read of the log returns at most (the API's page).
pub const AUDIT_PAGE_DEFAULT: u32 = 100;

/// Intake items in one call: the HTTP layer's configured batch size is at
/// most this, and so is anything another transport hands over at once.
pub const INTAKE_ITEMS_PER_CALL_MAX: usize = warden_domain::limits::BATCH_ITEMS_CEILING;

/// How often, at least, a server looks for a taxonomy version another
/// server published: more often than once a second only loads the database.
pub const POLICY_POLL_MILLIS_MIN: u64 = 1_000;

/// How often, at most: past an hour a published category would be refused
/// by some servers for longer than anyone would accept.
pub const POLICY_POLL_MILLIS_MAX: u64 = 3_600_000;

/// The default interval between looks for a newer taxonomy version: servers
/// on one database agree within seconds.
pub const POLICY_POLL_MILLIS_DEFAULT: u64 = 5_000;

const _: () = assert!(POLICY_POLL_MILLIS_MIN <= POLICY_POLL_MILLIS_DEFAULT);
const _: () = assert!(POLICY_POLL_MILLIS_DEFAULT <= POLICY_POLL_MILLIS_MAX);
const _: () = assert!(AUDIT_PAGE_DEFAULT <= warden_domain::limits::AUDIT_VERIFY_PAGE);

/// Live classifiers read for case priority at most (the models of
/// `[classifier]`, which names at most 20; each costs a score per filed
/// case).
pub const CASE_SCORE_MODELS_MAX: usize = 20;

/// Decisions one QA sampling pass reads: a pass is one transaction, and
/// the worker runs again soon after for the rest.
pub const QA_SAMPLING_BATCH: u32 = 500;

/// Times a QA claim tries the next assignment when another reviewer took
/// the one it read: more only spins under contention.
pub const QA_CLAIM_ATTEMPTS: usize = 3;

/// Weeks of decisions a plan's expected weekly load averages: a month
/// evens out a quiet or busy week without reaching back to another team
/// size or taxonomy.
pub const QA_LOAD_WEEKS: u32 = 4;

/// Weeks of QA results at most: a year, what a trend needs.
pub const QA_RESULTS_WEEKS_MAX: u32 = 52;

/// Calibration sessions one list shows.
pub const CALIBRATION_SESSIONS_LISTED: u32 = 100;

/// Skipped cases listed in a bulk action's answer and progress (the
/// count covers them all).
pub const BULK_SKIPPED_LISTED_MAX: usize = 1_000;

/// Timeline entries and cases shown with an incident.
pub const INCIDENT_PAGE_ITEMS_MAX: u32 = 200;
/// Bytes of a KPI filter value (a queue, category, reviewer or team name).
pub const KPI_FILTER_BYTES_MAX: usize = 200;

/// Milliseconds of visible media one exposure record may claim: a page
/// reports at least this often while media is shown.
pub const EXPOSURE_VISIBLE_MS_MAX: i64 = 3_600_000;

/// Minutes of visible media before a break is suggested, at most (a day).
pub const WELLNESS_BREAK_AFTER_MINUTES_MAX: i64 = 1_440;
