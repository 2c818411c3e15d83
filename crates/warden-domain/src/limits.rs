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

/// Taxonomy codes, queue names, labels, features, policy ids.
pub const CODE_BYTES_MAX: usize = 64;

/// BCP 47 language tags: 35 bytes holds every tag in the IANA registry
/// with a region and a script (RFC 5646 §4.4.1 asks for at least that).
pub const LANGUAGE_TAG_BYTES_MAX: usize = 35;

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

/// Report sources a statement of reasons names, read per decision: there
/// are six kinds of source, so ten is room to spare.
pub const STATEMENT_REPORT_SOURCES_MAX: u32 = 10;

/// Outbox rows read per action when it is reversed: its apply, lift,
/// reverse and its notices' rows, with room for replays.
pub const ACTION_DELIVERIES_READ_MAX: u32 = 100;

/// Why an analyst departs from the matrix: a paragraph.
pub const OVERRIDE_REASON_CHARS_MAX: usize = 2_000;

/// A delivery error or the platform's word in a callback, as kept on the
/// outbox row and shown in the console.
pub const DELIVERY_DETAIL_CHARS_MAX: usize = 500;

/// A callback body from the platform.
pub const CALLBACK_BODY_BYTES_MAX: usize = 64 * 1024;

const _: () = assert!(NOTICE_SUBJECT_CHARS_MAX < NOTICE_BODY_CHARS_MAX);
const _: () = assert!(DELIVERY_BATCH_MAX <= PAGE_SIZE_MAX * 2);
