//! `[kpi]` and `[wellness]` in `warden.toml`: the points per severity of
//! weighted throughput, and how much visible media earns a suggested break.
//!
//! ```toml
//! [kpi.weights]
//! low = 1
//! medium = 2
//! high = 4
//! critical = 8
//!
//! [wellness]
//! break_after_minutes = 45
//! ```

use anyhow::{anyhow, bail, Result};
use chrono::Duration;
use serde::{Deserialize, Serialize};

use warden_app::kpis::KpiConfig;
use warden_app::limits::WELLNESS_BREAK_AFTER_MINUTES_MAX;
use warden_domain::kpi::{KpiSettings, SeverityWeights};

/// `[kpi]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KpiSection {
    /// `[kpi.weights]`: points per resolved case by severity.
    pub weights: WeightsSection,
}

/// `[kpi.weights]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightsSection {
    /// Points of a low-severity case.
    pub low: u32,
    /// Points of a medium-severity case.
    pub medium: u32,
    /// Points of a high-severity case.
    pub high: u32,
    /// Points of a critical case.
    pub critical: u32,
}

impl Default for WeightsSection {
    fn default() -> Self {
        Self {
            low: 1,
            medium: 2,
            high: 4,
            critical: 8,
        }
    }
}

/// `[wellness]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WellnessSection {
    /// Minutes of visible media after which a break is suggested.
    pub break_after_minutes: i64,
}

impl Default for WellnessSection {
    fn default() -> Self {
        Self {
            break_after_minutes: 45,
        }
    }
}

/// The application's KPI configuration, or what is wrong with the sections.
pub fn kpi_config(kpi: &KpiSection, wellness: &WellnessSection) -> Result<KpiConfig> {
    let w = &kpi.weights;
    let weights = SeverityWeights::new(w.low, w.medium, w.high, w.critical)
        .map_err(|errors| anyhow!("{errors}"))?;
    if !(1..=WELLNESS_BREAK_AFTER_MINUTES_MAX).contains(&wellness.break_after_minutes) {
        bail!("wellness.break_after_minutes must be from 1 to {WELLNESS_BREAK_AFTER_MINUTES_MAX}");
    }
    Ok(KpiConfig {
        settings: KpiSettings { weights },
        break_after: Duration::minutes(wellness.break_after_minutes),
        ..KpiConfig::default()
    })
}
