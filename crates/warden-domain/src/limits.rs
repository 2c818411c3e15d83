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

/// Nesting of a JSON value that masking walks; deeper parts are masked
/// whole. serde_json refuses to parse documents nested deeper than 128, so
/// stored attributes never reach it.
pub const MASK_DEPTH_MAX: usize = 128;

/// Audit records checked per page by `warden audit verify`.
pub const AUDIT_VERIFY_PAGE: u32 = 5_000;

/// Audit records the PostgreSQL sealer chains in one transaction.
pub const AUDIT_SEAL_BATCH: u32 = 1_000;

/// Audit records one sealing `UPDATE` writes (4 parameters each).
pub const AUDIT_SEAL_ROWS_PER_STATEMENT: usize = 250;

/// Sealing batches one call runs before it yields (a million records).
pub const AUDIT_SEAL_BATCHES_MAX: u32 = 1_000;

/// How long reading the audit log waits for transactions older than the
/// read to finish, so that the records committed before it are sealed.
pub const AUDIT_SEAL_WAIT_MS: u64 = 2_000;

/// A signed audit checkpoint's text: six short fields and a signature line
/// make about 330 bytes; 1 KiB refuses anything else early.
pub const CHECKPOINT_TEXT_BYTES_MAX: usize = 1_024;

/// Stored checkpoints listed by `warden audit checkpoints` and held against
/// the log by `warden audit verify`, newest first. The newest checkpoint
/// alone covers the whole log up to it; older ones add little, so a
/// thousand (a month of one per hour) bound the work.
pub const AUDIT_CHECKPOINTS_MAX: u32 = 1_000;

/// A key file is two short lines; anything longer is not one.
pub const AUDIT_KEY_FILE_BYTES_MAX: u64 = 4_096;

/// Fewest audit records between two checkpoints the server writes by count.
pub const CHECKPOINT_EVERY_RECORDS_MIN: u64 = 10;

/// Least and most time between checkpoints the server writes by time, in
/// seconds: no more than one a second, at least one a day.
pub const CHECKPOINT_EVERY_SECONDS_MIN: u64 = 1;
/// See [`CHECKPOINT_EVERY_SECONDS_MIN`].
pub const CHECKPOINT_EVERY_SECONDS_MAX: u64 = 86_400;

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

// ---------------------------------------------------------------- access

/// Teams one user may belong to. Teams are specialist groups (child safety,
/// legal, ...); a person in more than a handful is a misconfiguration, and
/// every principal carries its teams on every request.
pub const TEAMS_PER_USER_MAX: usize = 16;

/// Teams one queue may name: queues admit a few specialist teams at most.
pub const TEAMS_PER_QUEUE_MAX: usize = 16;

/// Trusted proxy ranges in `server.trusted_proxies`: a deployment has a
/// load balancer or two, not a routing table.
pub const TRUSTED_PROXIES_MAX: usize = 64;

// ---------------------------------------------------------------- quality

/// Ratings in one agreement computation (a calibration session or a CSV
/// given to `warden stats agreement`): 100,000 cases rated by ten people,
/// far beyond any calibration session, computed in well under a second.
pub const AGREEMENT_RATINGS_MAX: usize = 1_000_000;

/// Items in one agreement computation: every item has at least one rating.
pub const AGREEMENT_ITEMS_MAX: usize = AGREEMENT_RATINGS_MAX;

/// Raters in one agreement computation. Pairwise Cohen's kappa costs
/// raters × ratings; 200 raters keep that near 200 million steps at the
/// ratings limit and the list of pairs under 20,000. A larger team is
/// calibrated in groups.
pub const AGREEMENT_RATERS_MAX: usize = 200;

/// Distinct labels in one agreement computation: taxonomy codes (at most
/// [`POLICY_CATEGORIES_MAX`]) or a team's own labels, with room to spare;
/// per-pair work is raters² × categories.
pub const AGREEMENT_CATEGORIES_MAX: usize = 1_000;

/// An item's or a rater's id: platform ids, case ids, user names or e-mail
/// addresses, as long as a platform id may be.
pub const AGREEMENT_NAME_BYTES_MAX: usize = PLATFORM_ID_BYTES_MAX;

/// A label: a taxonomy code or a short phrase from a team's export.
pub const AGREEMENT_LABEL_BYTES_MAX: usize = 128;

/// Most disputed items listed in an agreement report: what a calibration
/// page can discuss in one meeting.
pub const AGREEMENT_DISPUTED_ITEMS_MAX: usize = 10;

/// One physical line of a ratings CSV: three quoted fields at their limits,
/// every quote doubled, fit; a longer line is not a rating and is refused
/// before it fills memory.
pub const AGREEMENT_CSV_LINE_BYTES_MAX: usize = 4 * 1024;

/// A whole ratings CSV: a million ratings at about a kilobyte each. Typical
/// exports use 30 to 60 bytes a line; the bound keeps a quoted field that
/// never closes from reading without end.
pub const AGREEMENT_CSV_BYTES_MAX: u64 = 1024 * 1024 * 1024;

const _: () = assert!(AGREEMENT_ITEMS_MAX <= AGREEMENT_RATINGS_MAX);
// Indices into ratings, items, raters and categories are u32.
const _: () = assert!(AGREEMENT_RATINGS_MAX < u32::MAX as usize);
const _: () = assert!(AGREEMENT_LABEL_BYTES_MAX <= AGREEMENT_NAME_BYTES_MAX);
// The longest valid line: item and rater quoted with every byte a doubled
// quote, the label likewise, two commas and CRLF.
const _: () = assert!(
    AGREEMENT_CSV_LINE_BYTES_MAX
        >= 2 * (2 * AGREEMENT_NAME_BYTES_MAX + 2) + (2 * AGREEMENT_LABEL_BYTES_MAX + 2) + 2 + 2
);
const _: () = assert!(AGREEMENT_RATINGS_MAX as u64 * 1024 <= AGREEMENT_CSV_BYTES_MAX);

// ---------------------------------------------------------------- qa

/// Sampling plans in force at once. A plan per queue, per programme (new
/// reviewers, critical severities) and a few experiments fit many times
/// over; every decision is checked against every plan.
pub const QA_PLANS_MAX: usize = 64;

/// Entries in one of a plan's lists (queues, categories, severities,
/// reviewers it covers, severities sampled whole): a team's reviewers fit,
/// and checking a decision against a list stays cheap.
pub const QA_PLAN_LIST_ENTRIES_MAX: usize = 256;

/// Rate rules in one plan (a rate for a queue, category, severity or
/// reviewer inside the plan): tried in order for every decision.
pub const QA_PLAN_RATE_RULES_MAX: usize = 64;

/// Sampling rates are counted in parts of this: one per million is the
/// finest rate. A finer rate is a typing error (0.0000001 for 0.001); at
/// 100,000 decisions a week it would sample one decision in ten weeks.
pub const QA_RATE_PARTS: u32 = 1_000_000;

/// "Every decision of a reviewer in their first N days": a year at most;
/// after that a reviewer is not new.
pub const QA_NEW_REVIEWER_DAYS_MAX: u32 = 366;

/// The per-stratum minimum (decisions sampled per reviewer and per category
/// in a window): what a QA team reads of one person's week.
pub const QA_STRATUM_MINIMUM_MAX: u32 = 100;

/// A plan's weekly cap on decisions sampled by rate: a large QA team's week.
pub const QA_WEEKLY_CAP_MAX: u32 = 100_000;

/// Decisions in one window pass ([`crate::quality::sampling`]): a busy
/// platform's week, sorted in memory in well under a second.
pub const QA_WINDOW_DECISIONS_MAX: usize = 1_000_000;

/// Strata (queue × category × severity × reviewer) in one volume estimate
/// for the expected weekly load.
pub const QA_VOLUME_STRATA_MAX: usize = 100_000;

/// Decisions a week in one stratum of a volume estimate: far beyond any
/// platform, and small enough that sums stay exact in an f64.
pub const QA_VOLUME_DECISIONS_MAX: f64 = 1.0e9;

/// Lines in the written arithmetic of an expected weekly load; the rest is
/// summed in one line.
pub const QA_LOAD_LINES_MAX: usize = 50;

/// A QA reviewer's feedback to the decider: a page.
pub const QA_FEEDBACK_CHARS_MAX: usize = 5_000;

/// Cases in one calibration session: what a team rates in an afternoon,
/// and the page that shows every case's labels stays readable.
pub const CALIBRATION_CASES_MAX: usize = 200;

/// Raters in one calibration session: a team; larger groups calibrate in
/// several sessions.
pub const CALIBRATION_RATERS_MAX: usize = 50;

/// A calibration session's title: a line.
pub const CALIBRATION_TITLE_CHARS_MAX: usize = 200;

/// The resolution note that updates the guidance: a few pages.
pub const CALIBRATION_NOTE_CHARS_MAX: usize = 20_000;

/// Taxonomy categories one resolution note is linked to.
pub const CALIBRATION_NOTE_CATEGORIES_MAX: usize = 20;

/// Candidates a calibration session's cases are sampled from.
pub const CALIBRATION_CANDIDATES_MAX: usize = 100_000;

const _: () = assert!(QA_RATE_PARTS > 0);
const _: () = assert!(QA_STRATUM_MINIMUM_MAX <= QA_WEEKLY_CAP_MAX);
// A closed session's ratings go through the agreement statistics whole.
const _: () = assert!(CALIBRATION_RATERS_MAX <= AGREEMENT_RATERS_MAX);
const _: () = assert!(CALIBRATION_CASES_MAX * CALIBRATION_RATERS_MAX <= AGREEMENT_RATINGS_MAX);
const _: () = assert!(CALIBRATION_NOTE_CATEGORIES_MAX <= POLICY_CATEGORIES_MAX);
const _: () = assert!(CALIBRATION_CASES_MAX <= CALIBRATION_CANDIDATES_MAX);

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

// ---------------------------------------------------------------- appeals

/// The appeal window by default: six months after the decision, the least
/// DSA Art. 20(1) allows.
pub const APPEAL_WINDOW_MONTHS_DEFAULT: u32 = 6;

/// The shortest window configuration may set: DSA Art. 20(1) gives users
/// "at least six months" to complain.
pub const APPEAL_WINDOW_MONTHS_MIN: u32 = 6;

/// The longest window configuration may set: five years. Evidence and
/// decision context older than that are rarely kept.
pub const APPEAL_WINDOW_MONTHS_MAX: u32 = 60;

/// The appellant's statement: as long as a report's text.
pub const APPEAL_STATEMENT_CHARS_MAX: usize = REPORT_TEXT_CHARS_MAX;

/// How far in the future an appeal's `created_at` may be: clocks of the
/// platform and Warden differ by seconds, not minutes; a later time is a
/// mistake that would stretch the appeal window.
pub const APPEAL_CLOCK_SKEW_SECONDS_MAX: i64 = 5 * 60;

/// Appeals one open appeal gathers (the first and those that joined it):
/// the account and a few reporters contest the same decision; hundreds are
/// a campaign, handled as an incident.
pub const APPEAL_APPELLANTS_MAX: usize = 100;

/// Category routes of appeals to specialist teams: one per category at most.
pub const APPEAL_ROUTES_MAX: usize = POLICY_CATEGORIES_MAX;

// ---------------------------------------------------------------- escalations

/// Specialist teams configured: the six built-in with room for a
/// platform's own; each has a restricted queue.
pub const ESCALATION_TEAMS_MAX: usize = 32;

/// A team's or a severity's name and description in config: a paragraph.
pub const ESCALATION_DEFINITION_CHARS_MAX: usize = 2_000;

/// The reason an analyst gives for an escalation: a paragraph, as for holds.
pub const ESCALATION_REASON_CHARS_MAX: usize = 1_000;

/// The longest acknowledgement target a severity may have: a week. Longer is
/// not an escalation.
pub const ESCALATION_RESPONSE_MINUTES_MAX: u32 = 7 * 24 * 60;

/// Least time between two pages of one unacknowledged escalation: a minute,
/// so that a misconfiguration cannot flood the on-call's phone.
pub const ESCALATION_REPAGE_MINUTES_MIN: u32 = 1;

/// Most time between two pages: a day.
pub const ESCALATION_REPAGE_MINUTES_MAX: u32 = 24 * 60;

/// Pages sent for one escalation at most. Past this the escalation stays on
/// the lead view, unpaged: a dozen unanswered pages means the on-call
/// rotation itself is broken, which more pages do not fix.
pub const ESCALATION_PAGES_MAX: u32 = 12;

/// Items of one kind in an escalation package (reports, signals, evidence,
/// notes, decisions, prior actions, strikes, linked accounts, subject ids):
/// what a specialist can read; the package says how many more there were.
pub const PACKAGE_ITEMS_PER_PART_MAX: usize = 200;

/// Timeline events in an escalation package (the newest kept).
pub const PACKAGE_TIMELINE_EVENTS_MAX: usize = 1_000;

/// Characters of one report's or note section's text quoted in a package;
/// the rest is cut with a mark. The full text stays on the case page.
pub const PACKAGE_EXCERPT_CHARS_MAX: usize = 2_000;

// ---------------------------------------------------------------- evidence

/// A file of evidence by default: 25 MiB holds screenshots, PDFs and short
/// screen recordings.
pub const EVIDENCE_FILE_BYTES_DEFAULT: u64 = 25 * 1024 * 1024;

/// A file of evidence, whatever the configuration says: 200 MiB. Larger
/// files (long videos) belong in the platform's own storage, linked by URL.
pub const EVIDENCE_FILE_BYTES_CEILING: u64 = 200 * 1024 * 1024;

/// Evidence items on one case: more is an investigation that needs its own
/// tooling; every item is hashed again on each read of the package.
pub const EVIDENCE_ITEMS_PER_CASE_MAX: usize = PACKAGE_ITEMS_PER_PART_MAX;

/// A text excerpt kept as evidence: a page of quoted messages.
pub const EVIDENCE_EXCERPT_CHARS_MAX: usize = REPORT_TEXT_CHARS_MAX;

/// A URL kept as evidence: as long as any URL Warden takes.
pub const EVIDENCE_URL_BYTES_MAX: usize = URL_BYTES_MAX;

/// A file name kept with evidence: 255 bytes, what common file systems
/// allow in one name.
pub const EVIDENCE_FILE_NAME_BYTES_MAX: usize = 255;

/// A note on an evidence item (what it shows): a paragraph.
pub const EVIDENCE_CAPTION_CHARS_MAX: usize = 1_000;

// ---------------------------------------------------------------- incidents

/// An incident's title: a line.
pub const INCIDENT_TITLE_CHARS_MAX: usize = 200;

/// An incident's description: as long as a report.
pub const INCIDENT_DESCRIPTION_CHARS_MAX: usize = REPORT_TEXT_CHARS_MAX;

/// Cases in one incident, and cases one bulk action decides: the
/// contract's 100,000 (a large spam wave), planned in memory in seconds.
pub const INCIDENT_CASES_MAX: usize = 100_000;

/// Cases one bulk action sets out to decide.
pub const BULK_CASES_MAX: usize = INCIDENT_CASES_MAX;

/// Entries in one incident's timeline: a surge lasting weeks with an entry
/// a minute fits; the oldest beyond are summarised.
pub const INCIDENT_TIMELINE_ENTRIES_MAX: usize = 10_000;

/// Bulk steps run in one transaction batch: small enough that a crash
/// loses little work and progress moves visibly, large enough that 100,000
/// cases take a few hundred batches.
pub const BULK_STEPS_PER_BATCH: usize = 200;

const _: () = assert!(APPEAL_WINDOW_MONTHS_MIN <= APPEAL_WINDOW_MONTHS_DEFAULT);
const _: () = assert!(APPEAL_WINDOW_MONTHS_DEFAULT <= APPEAL_WINDOW_MONTHS_MAX);
const _: () = assert!(ESCALATION_REPAGE_MINUTES_MIN <= ESCALATION_REPAGE_MINUTES_MAX);
const _: () = assert!(EVIDENCE_FILE_BYTES_DEFAULT <= EVIDENCE_FILE_BYTES_CEILING);
const _: () = assert!(EVIDENCE_ITEMS_PER_CASE_MAX <= PACKAGE_ITEMS_PER_PART_MAX);
const _: () = assert!(BULK_CASES_MAX <= INCIDENT_CASES_MAX);
const _: () = assert!(BULK_STEPS_PER_BATCH <= BULK_CASES_MAX);

/// Statements in one batch call, at most.
pub const BATCH_SIZE_MAX: usize = 100;

/// An extension kept whole when a long name is cut, at most this long.
pub const EXTENSION_BYTES_KEPT_MAX: usize = 16;

/// A forecast further out than this (ten years) is "never".
pub const HORIZON_HOURS_MAX: f64 = 10.0 * 366.0 * 24.0;

/// Shortest word counted, in characters.
pub const WORD_CHARS_MIN: usize = 2;

/// Bad ids named in one refusal at most; the rest are counted.
pub const BAD_IDS_NAMED_MAX: usize = 10;
