//! Bounds on the load the store benchmarks generate, with why. The
//! benchmarks run on a developer's machine against a scratch database;
//! these keep a typo from filling the disk or the process table.

/// Open cases `bench claim` loads: ten times the 100,000 is
/// already gigabytes of scratch database.
pub const CASES_MAX: usize = 1_000_000;

/// Concurrent analysts in `bench claim`: more than any team works one
/// queue, and each holds an HTTP connection and a database connection.
pub const CLAIMERS_MAX: usize = 256;

/// Decisions `bench claim` makes in all (it stops sooner when the queue
/// runs out).
pub const DECISIONS_MAX: usize = 1_000_000;

/// Longest `bench claim` claims, in seconds: an hour.
pub const SECONDS_MAX: u64 = 3_600;

/// Concurrent HTTP clients sending intake batches: a platform's backfill
/// uses a few; the server's own limit on requests at once is far above.
pub const CLIENTS_MAX: usize = 64;

/// Events `bench ingest` sends.
pub const EVENTS_MAX: usize = 1_000_000;

/// Longest a benchmark waits for the detection worker to catch up with
/// the events it was sent before giving up, in seconds.
pub const DETECTION_WAIT_SECONDS_MAX: u64 = 3_600;

/// Text scored in the timed prediction pass, at least.
pub const PREDICTION_BYTES_MIN: usize = 50_000_000;
