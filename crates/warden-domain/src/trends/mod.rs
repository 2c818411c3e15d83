//! Trends: spikes in hourly counts, emerging terms and domains, and
//! backlog forecasts.
//!
//! - [`spikes`]: hourly counts per category, rule, queue or term against a
//!   seasonal baseline (the same hour of the week over past weeks), flagged
//!   by a Poisson tail probability and a robust z-score with a minimum
//!   volume and ratio;
//! - [`terms`]: words and URL domains of reports and flagged content that
//!   rise between two windows (Dunning's log-likelihood G² and a smoothed
//!   ratio, with example ids);
//! - [`backlog`]: per queue, when the backlog clears or breaches its oldest
//!   deadline at the current intake and resolution rates, with the
//!   arithmetic in words;
//! - [`poisson`]: the Poisson upper tail in log space.
//!
//! Everything here is pure: counts and texts come in, findings go out.

pub mod backlog;
pub mod poisson;
pub mod spikes;
pub mod terms;

#[cfg(test)]
mod tests;

pub use backlog::{forecast_backlogs, BacklogForecast, Outlook, QueueFlow};
pub use spikes::{
    detect_spikes, detect_spikes_by_key, HourlySeries, KeyedSeries, KeyedSpike, Spike,
    SpikeDimension, SpikeSettings,
};
pub use terms::{emerging_terms, EmergingTerm, EmergingTerms, TermKind, TermSettings, TextItem};
