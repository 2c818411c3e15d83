//! End-to-end tests: the real `warden` binary, started in a fresh data
//! directory on a free port, driven over HTTP and its command line.
//! The crash test runs when `WARDEN_CRASH_TESTS=1` (`.ci/run` sets it);
//! PostgreSQL tests run when `WARDEN_TEST_DATABASE_URL` is set.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

mod appeals;
mod audit;
mod bulk_crash;
mod classifier;
mod cli;
mod crash;
mod deliveries;
mod detection;
mod dsa;
mod escalations;
mod feedback;
mod serve;
mod stats;
mod support;
