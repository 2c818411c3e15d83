//! Every bound this crate keeps on input, lists and loops, in one place.

/// The largest error body `routes::error_bodies` reads to reuse as a detail:
/// framework rejections are one line; anything longer is not a message.
pub const ERROR_DETAIL_BYTES_MAX: usize = 1024;

/// Media ranges of an `Accept` header looked at: a scraper names two or
/// three; the rest of a longer header is ignored rather than parsed.
pub const ACCEPT_RANGES_MAX: usize = 32;

/// The largest console form: five note sections and five rationale
/// sections at their limit, percent-encoded, fit with room to spare.
pub const FORM_BYTES_MAX: usize = 1024 * 1024;

/// Tick labels along the x axis at most, so that they do not overlap.
pub const X_LABELS_MAX: usize = 8;

/// Audit records of today read to count the viewer's work.
pub const AUDIT_SCAN_MAX: usize = 5_000;
