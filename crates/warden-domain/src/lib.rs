//! Warden's domain core.
//!
//! This crate holds the types and rules of Trust & Safety work: subjects and
//! their references, intake items, cases and their state machine, queue
//! routing, SLA arithmetic, decisions and actions, strikes, access control and
//! the audit chain. It does no I/O and never reads the clock: every function
//! that needs the time takes `now` as an argument. Wire formats (JSON bodies,
//! SQL rows) live in the crates that own those boundaries.
#![deny(missing_docs)]

pub mod access;
pub mod action;
pub mod appeal;
pub mod audit;
pub mod case;
pub mod decision;
pub mod dsa;
pub mod duration;
pub mod enforcement;
pub mod error;
pub mod escalation;
pub mod evidence;
pub mod ids;
pub mod incident;
pub mod intake;
pub mod kpi;
pub mod limits;
pub mod notice;
pub mod privacy;
pub mod quality;
pub mod routing;
pub mod signature;
pub mod sla;
pub mod taxonomy;
pub mod text;
pub mod transparency;
pub mod trends;
pub mod webhook;

pub use error::{FieldError, FieldErrors};
pub use ids::{CaseId, PlatformId, SubjectKind, SubjectRef, UserName};

/// Warden's clock type: UTC instants with millisecond precision in storage.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
