//! The store's ports: small traits, one per capability, each in its own
//! file with the transaction contract of its methods.
//!
//! | port | what it keeps |
//! | --- | --- |
//! | [`HealthCheck`] | which backend, whether it answers |
//! | [`IntakeStore`] | subjects, events, reports, signals; opening and joining cases |
//! | [`CaseStore`] | claiming, leases, holds, assignment, status changes, notes, case reads |
//! | [`DecisionStore`] | decisions, corrections, the matrix's recommendation, approvals, reversals |
//! | [`OutboxStore`] | the outbox: leasing, outcomes, callbacks, replays |
//! | [`AccountStore`] | users, API tokens, console sessions |
//! | [`AuditLog`] | reads recorded in the audit log, its pages |
//! | [`DetectionStore`] | rule versions, the detection worker's reads and writes |
//! | [`TaxonomyStore`] | taxonomy versions and notice templates |
//! | [`StatementStore`] | statements of reasons and their submission |
//! | [`ReportStore`] | read models: queue numbers, histories, transparency, notices, stats |
//! | [`ModelStore`] | classifier model versions |
//! | [`QualityStore`] | QA plans, sampled decisions, blind reviews, rework; calibration sessions |
//! | [`AppealStore`] | appeals of decisions, their cases and outcomes |
//! | [`IncidentStore`] | incidents, their cases and timelines; bulk actions and their progress |
//! | [`KpiFactsStore`] | KPI facts for a window; wellness exposure and breaks |
//! | [`EscalationStore`] | escalations to specialist teams, packages, pages, acknowledgements |
//! | [`EvidenceStore`] | evidence items of a case and their content-addressed blobs |
//!
//! [`crate::Store`] is all of them together, so that one
//! `Arc<dyn Store>` reaches every method. What holds for every port:
//! - a call that returns `Ok` has committed to durable storage;
//! - every change writes its audit record in the same transaction, chained
//!   to the previous record by hash;
//! - `StoreError::NotFound` means the thing named does not exist and
//!   nothing changed; `StoreError::Conflict` means the current state
//!   refuses the change (a stale version, someone else's lease, a reused
//!   id) and nothing changed; `StoreError::Invalid` names the field at
//!   fault and nothing changed; `StoreError::Corrupt` means a stored
//!   value Warden does not know was read: the database was written by
//!   something else, and the read fails rather than guess.

mod accounts;
mod appeals;
mod audit;
mod cases;
mod decisions;
mod detection;
mod escalations;
mod evidence;
mod health;
mod incidents;
mod intake;
mod kpis;
mod models;
mod outbox;
mod quality;
mod reports;
mod statements;
mod taxonomy;

pub use accounts::AccountStore;
pub use appeals::AppealStore;
pub use audit::AuditLog;
pub use cases::{CaseFilter, CaseStore, StatusChange};
pub use decisions::DecisionStore;
pub use detection::DetectionStore;
pub use escalations::EscalationStore;
pub use evidence::EvidenceStore;
pub use health::HealthCheck;
pub use incidents::IncidentStore;
pub use intake::IntakeStore;
pub use kpis::{ExposureSinceBreak, KpiFactsStore, KpiFactsWindow, NewExposure};
pub use models::ModelStore;
pub use outbox::OutboxStore;
pub use quality::QualityStore;
pub use reports::ReportStore;
pub use statements::StatementStore;
pub use taxonomy::TaxonomyStore;
