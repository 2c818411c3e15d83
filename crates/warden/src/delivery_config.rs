//! `[delivery]` and `[dsa]` in `warden.toml`: where actions and notices are
//! delivered and how, and where statements of reasons are submitted.
//! Secrets come from the environment (`WARDEN_DELIVERY_SECRET`,
//! `WARDEN_DSA_TOKEN`) rather than the file, and never print.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use warden_domain::limits::{DELIVERY_ATTEMPTS_CEILING, DELIVERY_BATCH_MAX};
use warden_server::callbacks::{CallbackSecret, EnforcementSettings};
use warden_workers::{DeliverySettings, Endpoints, Secret};

/// `[delivery]`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySection {
    /// Run the outbox worker inside `warden serve`.
    pub enabled: bool,
    /// The endpoint for every action type and notices without their own.
    pub endpoint: String,
    /// Endpoints by action type (`suspend`, `remove_content`, ...) or `notice`.
    pub endpoints: BTreeMap<String, String>,
    /// The HMAC-SHA256 secret shared with the platform (signs webhooks,
    /// authenticates callbacks). Prefer `WARDEN_DELIVERY_SECRET`.
    pub secret: String,
    /// Attempts before a delivery becomes a dead letter.
    pub attempts_max: u32,
    /// First retry wait, in milliseconds.
    pub backoff_initial_ms: i64,
    /// Longest retry wait, in milliseconds.
    pub backoff_max_ms: i64,
    /// One request's time limit, in milliseconds.
    pub timeout_ms: u64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Outbox rows leased per claim.
    pub batch_size: u32,
    /// How long a lease on outbox rows lasts; a worker that dies holding
    /// rows delays them this long.
    pub lease_seconds: i64,
    /// How often an idle worker looks for due rows, in milliseconds.
    pub poll_interval_ms: u64,
}

impl Default for DeliverySection {
    fn default() -> Self {
        let defaults = DeliverySettings::default();
        Self {
            enabled: true,
            endpoint: String::new(),
            endpoints: BTreeMap::new(),
            secret: String::new(),
            attempts_max: defaults.attempts_max,
            backoff_initial_ms: defaults.backoff_initial.num_milliseconds(),
            backoff_max_ms: defaults.backoff_max.num_milliseconds(),
            timeout_ms: defaults.timeout.as_millis() as u64,
            concurrency: defaults.concurrency,
            batch_size: defaults.batch_size,
            lease_seconds: defaults.lease.num_seconds(),
            poll_interval_ms: defaults.poll_interval.as_millis() as u64,
        }
    }
}

impl fmt::Debug for DeliverySection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliverySection")
            .field("enabled", &self.enabled)
            .field("endpoint", &self.endpoint)
            .field("endpoints", &self.endpoints)
            .field("secret", &Secret::new(self.secret.clone()))
            .field("attempts_max", &self.attempts_max)
            .finish_non_exhaustive()
    }
}

impl DeliverySection {
    /// Checks the section.
    pub fn check(&self) -> Result<()> {
        if self.attempts_max == 0 || self.attempts_max > DELIVERY_ATTEMPTS_CEILING {
            bail!("delivery.attempts_max must be from 1 to {DELIVERY_ATTEMPTS_CEILING}");
        }
        if self.batch_size == 0 || self.batch_size > DELIVERY_BATCH_MAX {
            bail!("delivery.batch_size must be from 1 to {DELIVERY_BATCH_MAX}");
        }
        if self.concurrency == 0 || self.concurrency > 1024 {
            bail!("delivery.concurrency must be from 1 to 1024");
        }
        if self.backoff_initial_ms < 1 || self.backoff_max_ms < self.backoff_initial_ms {
            bail!("delivery.backoff_initial_ms must be at least 1 and at most backoff_max_ms");
        }
        if self.timeout_ms == 0 {
            bail!("delivery.timeout_ms must be at least 1");
        }
        if self.lease_seconds * 1000 <= self.timeout_ms as i64 {
            bail!("delivery.lease_seconds must be longer than delivery.timeout_ms, or rows are leased again while still being sent");
        }
        for (name, url) in std::iter::once(("endpoint", &self.endpoint))
            .chain(self.endpoints.iter().map(|(k, v)| (k.as_str(), v)))
        {
            if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
                bail!("delivery endpoint {name:?} must be an http:// or https:// URL");
            }
        }
        for key in self.endpoints.keys() {
            if !warden_domain::notice::is_template_action(key) && key != "notice" {
                bail!("delivery.endpoints.{key}: expected an action type or notice");
            }
        }
        Ok(())
    }

    /// The worker's settings.
    pub fn settings(&self) -> DeliverySettings {
        DeliverySettings {
            endpoints: Endpoints {
                default: Some(self.endpoint.clone()).filter(|e| !e.is_empty()),
                by_key: self.endpoints.clone(),
            },
            secret: Secret::new(self.secret.clone()),
            attempts_max: self.attempts_max,
            backoff_initial: chrono::Duration::milliseconds(self.backoff_initial_ms),
            backoff_max: chrono::Duration::milliseconds(self.backoff_max_ms),
            timeout: std::time::Duration::from_millis(self.timeout_ms),
            concurrency: self.concurrency,
            batch_size: self.batch_size,
            lease: chrono::Duration::seconds(self.lease_seconds),
            poll_interval: std::time::Duration::from_millis(self.poll_interval_ms.max(10)),
            lanes: 2,
        }
    }

    /// What the HTTP layer needs: the callback secret.
    pub fn server_settings(&self) -> EnforcementSettings {
        EnforcementSettings {
            callback_secret: Some(CallbackSecret::new(self.secret.clone()))
                .filter(|_| !self.secret.is_empty()),
        }
    }
}

/// `[dsa]`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DsaSection {
    /// The Transparency Database's API host (production, or the sandbox
    /// host given at onboarding).
    pub endpoint: String,
    /// The platform's API token. Prefer `WARDEN_DSA_TOKEN`.
    pub token: String,
    /// Statements per batch (at most 100).
    pub batch_size: usize,
    /// One request's time limit, in seconds.
    pub timeout_seconds: u64,
    /// How often `serve` submits pending statements, in seconds; 0 (the
    /// default) leaves it to `warden submit dsa`.
    pub submit_every_seconds: u64,
}

impl Default for DsaSection {
    fn default() -> Self {
        Self {
            endpoint: "https://transparency.dsa.ec.europa.eu".into(),
            token: String::new(),
            batch_size: warden_domain::dsa::BATCH_SIZE_MAX,
            timeout_seconds: 30,
            submit_every_seconds: 0,
        }
    }
}

impl fmt::Debug for DsaSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DsaSection")
            .field("endpoint", &self.endpoint)
            .field("token", &Secret::new(self.token.clone()))
            .field("batch_size", &self.batch_size)
            .field("submit_every_seconds", &self.submit_every_seconds)
            .finish_non_exhaustive()
    }
}

impl DsaSection {
    /// Checks the section.
    pub fn check(&self) -> Result<()> {
        if self.batch_size == 0 || self.batch_size > warden_domain::dsa::BATCH_SIZE_MAX {
            bail!(
                "dsa.batch_size must be from 1 to {}",
                warden_domain::dsa::BATCH_SIZE_MAX
            );
        }
        if !(self.endpoint.starts_with("http://") || self.endpoint.starts_with("https://")) {
            bail!("dsa.endpoint must be an http:// or https:// URL");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let section = DeliverySection {
            secret: "hunter2".into(),
            ..DeliverySection::default()
        };
        assert!(!format!("{section:?}").contains("hunter2"));
        let dsa = DsaSection {
            token: "tok".into(),
            ..DsaSection::default()
        };
        assert!(!format!("{dsa:?}").contains("tok\""));
        assert!(section.check().is_ok());
        let bad = DeliverySection {
            lease_seconds: 1,
            timeout_ms: 5000,
            ..DeliverySection::default()
        };
        assert!(bad.check().is_err());
    }
}
