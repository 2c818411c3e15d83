//! Every limit Warden puts on its inputs, lists and loops, with the reason for it.
//!
//! Limits that an operator may lower or raise in `warden.toml` have their
//! default here and a hard ceiling that configuration cannot pass.

/// Platform ids are the platform's own strings; 256 bytes covers UUIDs, URLs
/// of reasonable length and composite keys, and bounds index size.
pub const PLATFORM_ID_BYTES_MAX: usize = 256;

/// Free-text fields that a person reads in the console: report text, note
/// sections, rationale sections. 10,000 characters is about four pages.
pub const REPORT_TEXT_CHARS_MAX: usize = 10_000;

/// Subject text as the platform showed it; long posts and listings fit.
pub const SUBJECT_TEXT_CHARS_MAX: usize = 100_000;

/// The `attributes` of a subject and `data` of an event, serialised: 64 KiB,
/// as the public contract says.
pub const ATTRIBUTES_BYTES_MAX: usize = 64 * 1024;

/// Media items attached to one subject.
pub const MEDIA_ITEMS_MAX: usize = 64;

/// URLs of media and similar references.
pub const URL_BYTES_MAX: usize = 2048;

/// Items in one NDJSON batch by default (the contract's 10,000).
pub const BATCH_ITEMS_DEFAULT: usize = 10_000;

/// Items in one NDJSON batch, whatever the configuration says: bigger batches
/// hold the single SQLite writer for too long.
pub const BATCH_ITEMS_CEILING: usize = 50_000;

/// Request body size by default: a full batch of 10,000 items of ~1.5 KiB.
pub const BODY_BYTES_DEFAULT: usize = 16 * 1024 * 1024;

/// One NDJSON line (one item), so that one item cannot use the whole body.
pub const BATCH_LINE_BYTES_MAX: usize = 256 * 1024;

/// Actions in one decision.
pub const DECISION_ACTIONS_MAX: usize = 16;

/// Rationale and note sections.
pub const RATIONALE_SECTION_CHARS_MAX: usize = REPORT_TEXT_CHARS_MAX;

/// Taxonomy codes, queue names, labels, features.
pub const CODE_BYTES_MAX: usize = 64;

/// A decision's policy id or section (`spam 1.2`, a URL fragment): a line.
pub const POLICY_ID_BYTES_MAX: usize = 256;

/// An event's type (`signup`, `message_sent`, ...): a short name.
pub const EVENT_TYPE_BYTES_MAX: usize = 64;

/// A device id as the platform sends it: hashes and UUIDs fit.
pub const DEVICE_ID_BYTES_MAX: usize = 256;

/// A media item's MIME type (`image/jpeg; charset=...`).
pub const MIME_BYTES_MAX: usize = 128;

/// An IP address as text: the longest IPv6 form with a zone is under 64
/// bytes; longer input is refused before parsing and never echoed.
pub const IP_TEXT_BYTES_MAX: usize = 64;

/// API token names, to tell tokens apart in lists.
pub const TOKEN_NAME_BYTES_MAX: usize = 128;

/// User names.
pub const USER_NAME_BYTES_MAX: usize = 64;

/// Passwords: long passphrases are welcome, megabytes are an attack on the hasher.
pub const PASSWORD_BYTES_MAX: usize = 1024;

/// Passwords shorter than this are refused outside demo mode.
pub const PASSWORD_CHARS_MIN: usize = 8;

/// Rows in one page of any list.
pub const PAGE_SIZE_MAX: u32 = 500;

/// Rows in one page when the caller does not say.
pub const PAGE_SIZE_DEFAULT: u32 = 50;

/// Items of each kind in one subject history answer.
pub const HISTORY_ITEMS_MAX: u32 = 500;

/// Cases one analyst may hold at once: more is hoarding, and blocks others.
pub const CLAIMS_PER_USER_MAX: u32 = 20;

/// Lease on a claimed case by default: ten minutes.
pub const LEASE_SECONDS_DEFAULT: i64 = 10 * 60;

/// Longest lease anyone can ask for: longer work uses "hold" with a reason.
pub const LEASE_SECONDS_MAX: i64 = 60 * 60;

/// Longest duration of a restriction or suspension: ten years.
pub const ACTION_DURATION_SECONDS_MAX: i64 = 10 * 366 * 24 * 3600;

/// Priority added to a case is capped so that one flood cannot starve all
/// other work in a queue forever.
pub const CASE_PRIORITY_MAX: i64 = 1_000_000;

/// Reports and signals shown inline with a case.
pub const CASE_ITEMS_SHOWN_MAX: u32 = 200;

/// Nesting of a JSON value that masking walks; deeper parts are masked
/// whole. serde_json refuses to parse documents nested deeper than 128, so
/// stored attributes never reach it.
pub const MASK_DEPTH_MAX: usize = 128;

/// Audit records checked per page by `warden audit verify`.
pub const AUDIT_VERIFY_PAGE: u32 = 5_000;

const _: () = assert!(BATCH_ITEMS_DEFAULT <= BATCH_ITEMS_CEILING);
const _: () = assert!(LEASE_SECONDS_DEFAULT <= LEASE_SECONDS_MAX);
const _: () = assert!(PAGE_SIZE_DEFAULT <= PAGE_SIZE_MAX);
const _: () = assert!(BATCH_LINE_BYTES_MAX < BODY_BYTES_DEFAULT);
const _: () = assert!(ATTRIBUTES_BYTES_MAX < BATCH_LINE_BYTES_MAX);

// ---------------------------------------------------------------- enforcement

/// Categories in one taxonomy version: the built-in twenty with room for a
/// platform's own, small enough to load with every decision.
pub const POLICY_CATEGORIES_MAX: usize = 200;

/// Reason codes under one category.
pub const REASON_CODES_MAX: usize = 50;

/// Rows of the enforcement matrix.
pub const MATRIX_ROWS_MAX: usize = 1_000;

/// A taxonomy version's document, serialised.
pub const POLICY_DOCUMENT_BYTES_MAX: usize = 512 * 1024;

/// A notice's subject line.
pub const NOTICE_SUBJECT_CHARS_MAX: usize = 200;

/// A notice's Markdown body: a page or two.
pub const NOTICE_BODY_CHARS_MAX: usize = 10_000;

/// Notice templates kept at once (action types × categories × languages).
pub const NOTICE_TEMPLATES_MAX: usize = 5_000;

/// Outbox rows one worker leases at a time.
pub const DELIVERY_BATCH_MAX: u32 = 1_000;

/// Delivery attempts before a dead letter, at most (the default is lower).
pub const DELIVERY_ATTEMPTS_CEILING: u32 = 100;

/// Why an analyst departs from the matrix: a paragraph.
pub const OVERRIDE_REASON_CHARS_MAX: usize = 2_000;

/// A delivery error or the platform's word in a callback, as kept on the
/// outbox row and shown in the console.
pub const DELIVERY_DETAIL_CHARS_MAX: usize = 500;

/// A callback body from the platform.
pub const CALLBACK_BODY_BYTES_MAX: usize = 64 * 1024;

const _: () = assert!(NOTICE_SUBJECT_CHARS_MAX < NOTICE_BODY_CHARS_MAX);
const _: () = assert!(DELIVERY_BATCH_MAX <= PAGE_SIZE_MAX * 2);

// ---------------------------------------------------------------- KPIs and trends

/// Longest KPI window: three years of days (1,096), so that a report by day
/// has at most that many groups and a multi-year comparison still fits.
pub const KPI_WINDOW_DAYS_MAX: i64 = 1_096;

/// Facts of one kind (resolutions, decisions, appeals, ...) in one KPI
/// computation. Ten million decisions take about a gigabyte as facts and
/// under ten seconds to compute; a larger team computes per month or keeps
/// the incrementally maintained aggregates instead.
pub const KPI_FACTS_PER_KIND_MAX: usize = 10_000_000;

/// Distinct names of one dimension (queues, categories, reviewers, rules,
/// sessions) in one KPI fact set: every group of a report is one of them,
/// and a report of more than this many rows is not read by anyone.
pub const KPI_DIMENSION_NAMES_MAX: usize = 100_000;

/// Teams a KPI fact set knows: team membership is a 64-bit set per
/// reviewer, so that filtering by team costs one bit test per fact.
pub const KPI_TEAMS_MAX: usize = 64;

/// Severity weights of weighted throughput: large enough for any scale a
/// team uses, small enough that a sum over ten million resolutions fits
/// in 64 bits many times over.
pub const KPI_SEVERITY_WEIGHT_MAX: u32 = 1_000;

/// Hours in one series given to spike detection: a year. The seasonal
/// baseline needs a few weeks; more is history nobody compares against.
pub const TREND_SERIES_HOURS_MAX: usize = 366 * 24;

/// Past weeks the seasonal baseline of spike detection may look back:
/// a quarter. Older weeks describe another platform.
pub const TREND_BASELINE_WEEKS_MAX: usize = 13;

/// Texts in one window of emerging-term detection (reports or flagged
/// content of a day or a week at a large platform); more is sampled by
/// the caller.
pub const TREND_TEXTS_PER_WINDOW_MAX: usize = 200_000;

/// Characters of one text that emerging-term detection reads: the length
/// of a report's text; the rest of a longer text is not tokenised.
pub const TREND_TEXT_CHARS_MAX: usize = REPORT_TEXT_CHARS_MAX;

/// Distinct terms and domains counted over both windows; past this, new
/// terms are not counted (and the result says how many were dropped), so
/// that a flood of random tokens cannot exhaust memory.
pub const TREND_DISTINCT_TERMS_MAX: usize = 500_000;

/// Emerging terms returned at most.
pub const TREND_TERMS_RETURNED_MAX: usize = 500;

/// Example text ids kept per emerging term.
pub const TREND_EXAMPLES_PER_TERM_MAX: usize = 10;

/// Characters of one token: longer runs are base64, hashes or padding, not
/// words anyone searches for.
pub const TREND_TOKEN_CHARS_MAX: usize = 40;

/// Series checked in one spike-detection call: every category, rule,
/// queue and watched term of a platform.
pub const TREND_KEYED_SERIES_MAX: usize = 20_000;

/// Neighbouring hours on each side that may join a spike baseline: more
/// would blur the daily rhythm into the median.
pub const TREND_NEIGHBOUR_HOURS_MAX: usize = 3;

/// Terms of a Poisson tail summed at most: the series converges
/// geometrically past the mode, so this bound is never reached for means
/// up to 10^10; it only guards the loop.
pub const TREND_POISSON_TERMS_MAX: u64 = 1_000_000;

/// Longest window a backlog forecast takes its rates over: a month; older
/// rates describe another team.
pub const FORECAST_WINDOW_HOURS_MAX: i64 = 31 * 24;

/// Queues in one backlog forecast.
pub const FORECAST_QUEUES_MAX: usize = 1_000;

/// Points of one chart series (a day per point over three years fits).
pub const CHART_POINTS_MAX: usize = 1_200;

/// Bars of one bar chart, and bins of one histogram.
pub const CHART_BARS_MAX: usize = 200;

/// Characters of a chart's title, description and axis labels.
pub const CHART_TEXT_CHARS_MAX: usize = 500;

const _: () = assert!(KPI_TEAMS_MAX <= 64);
const _: () = assert!(CHART_POINTS_MAX as i64 >= KPI_WINDOW_DAYS_MAX);
const _: () = assert!(TREND_BASELINE_WEEKS_MAX * 7 * 24 < TREND_SERIES_HOURS_MAX);
