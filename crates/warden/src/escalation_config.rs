//! `[escalation]` and `[evidence]` in `warden.toml`: severity definitions
//! (`[escalation.severities.sev1]` ...), specialist teams
//! (`[escalation.teams.child_safety]` ...), the Sev-1 page webhook, and the
//! largest evidence file. Everything left out takes the domain's defaults
//! (`warden_domain::escalation`), so an empty section is the contract's
//! set: four levels and six teams, each team with its restricted queue.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use chrono::Duration;
use serde::{Deserialize, Serialize};

use warden_domain::escalation::{
    EscalationPolicy, EscalationSeverity, SeverityDefinition, SpecialistTeam,
};
use warden_domain::evidence::EvidenceLimits;
use warden_domain::limits::EVIDENCE_FILE_BYTES_DEFAULT;
use warden_store::Paging;

/// `[escalation]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationSection {
    /// Where Sev-1 pages go (signed like action webhooks, with
    /// `[delivery] secret`); empty: nothing is paged, escalations still
    /// stay on the lead view until acknowledged.
    pub page_webhook: String,
    /// Severity definitions by level (`sev1` .. `sev4`); levels left out
    /// keep their built-in definitions.
    pub severities: BTreeMap<String, SeveritySection>,
    /// Specialist teams by name; the six built-in teams when empty.
    pub teams: BTreeMap<String, TeamSection>,
}

/// `[escalation.severities.sevN]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeveritySection {
    /// A short name (`imminent harm`).
    pub name: String,
    /// The written definition analysts choose the level by.
    pub definition: String,
    /// How soon a team member must acknowledge it, in minutes.
    pub acknowledge_minutes: i64,
    /// Minutes between pages until acknowledged; without it the level
    /// does not page.
    #[serde(default)]
    pub repage_minutes: Option<i64>,
}

/// `[escalation.teams.NAME]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSection {
    /// What the team handles.
    #[serde(default)]
    pub description: String,
    /// Its restricted queue (added, restricted to the team, when no queue
    /// of that name is configured).
    pub queue: String,
}

impl EscalationSection {
    /// The severity definitions and teams, checked.
    pub fn policy(&self) -> Result<EscalationPolicy> {
        let mut definitions = Vec::with_capacity(self.severities.len());
        for (level, section) in &self.severities {
            let severity: EscalationSeverity = level
                .parse()
                .map_err(|e: String| anyhow!("escalation.severities.{level}: {e}"))?;
            definitions.push(SeverityDefinition {
                severity,
                name: section.name.clone(),
                definition: section.definition.clone(),
                acknowledge_within: Duration::minutes(section.acknowledge_minutes),
                pages: section.repage_minutes.is_some(),
                repage_every: section.repage_minutes.map(Duration::minutes),
            });
        }
        let teams = if self.teams.is_empty() {
            SpecialistTeam::defaults()
        } else {
            self.teams
                .iter()
                .map(|(name, team)| SpecialistTeam {
                    name: name.clone(),
                    description: team.description.clone(),
                    queue: team.queue.clone(),
                })
                .collect()
        };
        EscalationPolicy::new(definitions, teams).map_err(|e| anyhow!(e))
    }

    /// Whether pages go out.
    pub fn paging(&self) -> Paging {
        if self.page_webhook.is_empty() {
            Paging::Off
        } else {
            Paging::Webhook
        }
    }

    /// Checks the section; the page webhook must be an http(s) URL.
    pub fn check(&self) -> Result<()> {
        if !(self.page_webhook.is_empty()
            || self.page_webhook.starts_with("http://")
            || self.page_webhook.starts_with("https://"))
        {
            bail!("escalation.page_webhook must be an http:// or https:// URL");
        }
        self.policy()?;
        Ok(())
    }
}

/// `[evidence]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceSection {
    /// The largest evidence file, in bytes.
    pub file_bytes_max: u64,
}

impl Default for EvidenceSection {
    fn default() -> Self {
        Self {
            file_bytes_max: EVIDENCE_FILE_BYTES_DEFAULT,
        }
    }
}

impl EvidenceSection {
    /// The limits, checked.
    pub fn limits(&self) -> Result<EvidenceLimits> {
        EvidenceLimits::new(self.file_bytes_max)
            .map_err(|e| anyhow!("evidence.file_bytes_max: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_section_is_the_contracts_set() {
        let section = EscalationSection::default();
        let policy = section.policy().unwrap();
        assert_eq!(policy.teams().len(), 6);
        assert!(policy.team("child_safety").is_some());
        assert!(policy.definition(EscalationSeverity::Sev1).pages);
        assert_eq!(section.paging(), Paging::Off);
        assert!(EvidenceSection::default().limits().is_ok());
    }

    #[test]
    fn bad_levels_urls_and_sizes_are_named() {
        let mut section = EscalationSection::default();
        section.severities.insert(
            "sev9".into(),
            SeveritySection {
                name: "x".into(),
                definition: "y".into(),
                acknowledge_minutes: 5,
                repage_minutes: None,
            },
        );
        assert!(section.check().unwrap_err().to_string().contains("sev9"));
        let section = EscalationSection {
            page_webhook: "ftp://pager".into(),
            ..EscalationSection::default()
        };
        assert!(section
            .check()
            .unwrap_err()
            .to_string()
            .contains("page_webhook"));
        let evidence = EvidenceSection { file_bytes_max: 0 };
        assert!(evidence
            .limits()
            .unwrap_err()
            .to_string()
            .contains("file_bytes_max"));
    }
}
