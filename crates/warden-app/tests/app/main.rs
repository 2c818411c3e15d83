//! The application's rules, on every backend: the same tests against
//! SQLite (always) and PostgreSQL (when `WARDEN_TEST_DATABASE_URL` names a
//! server; each test gets a schema of its own there, dropped afterwards).
//!
//! New tests go in the module of the concept they exercise; each is
//! declared with `app_test!` so that it runs on every backend.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

mod accounts;
mod cases;
mod classifiers;
mod decisions;
mod kpis;
mod support;
mod taxonomy;
