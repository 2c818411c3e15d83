//! The store story: the same tests against SQLite (always) and PostgreSQL
//! (when `WARDEN_TEST_DATABASE_URL` names a server; each test gets a schema
//! of its own there, dropped afterwards).
//!
//! New tests go in the module of what they exercise; each is declared with
//! `store_test!` so that it runs on every backend.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

mod access;
mod appeals;
mod audit_sealing;
mod cases;
mod checks;
mod claim_order;
mod concurrency;
mod detection;
mod detection_order;
mod enforcement;
mod escalations;
mod free_text;
mod incidents;
mod intake;
mod kpis;
mod models;
mod quality;
mod support;
mod upgrade;
