//! `warden report transparency`: transparency-report aggregates as JSON or
//! CSV. The formulas are in `warden_domain::transparency`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde_json::json;

use warden_domain::transparency::{aggregate, TransparencyReport};
use warden_store::prelude::*;

use super::export::parse_instant;
use super::open_store;
use crate::cli::ReportCommand;
use crate::config::Config;

/// `warden report ...`.
pub async fn report(config: &Config, command: ReportCommand) -> Result<ExitCode> {
    let (from, to, format, output, store) = match command {
        ReportCommand::Transparency {
            from,
            to,
            format,
            output,
            store,
        } => (from, to, format, output, store),
        ReportCommand::Kpis(args) => return super::report_kpis::report_kpis(config, args).await,
    };
    let from = parse_instant("--from", &from)?;
    let to = parse_instant("--to", &to)?;
    anyhow::ensure!(to > from, "--to must be after --from");
    if !matches!(format.as_str(), "json" | "csv") {
        bail!("--format must be json or csv");
    }
    let store = open_store(config, &store).await?;
    let facts = store.transparency_facts(from, to).await?;
    let report = aggregate(
        &facts.actions,
        &facts.reversals,
        facts.appeals,
        facts.statements,
    );
    let text = if format == "json" {
        let mut text = serde_json::to_string_pretty(&json!({
            "from": from.to_rfc3339(),
            "to": to.to_rfc3339(),
            "actions_total": report.actions_total,
            "actions_by_category": report.by_category,
            "actions_by_source": report.by_source,
            "actions_by_automation": report.by_automation,
            "median_seconds_notice_to_action": report.median_seconds_notice_to_action,
            "actions_with_notice": report.actions_with_notice,
            "reversals_total": report.reversals_total,
            "reversals_by_category": report.reversals_by_category,
            "appeals_total": report.appeals_total,
            "statements_total": report.statements_total,
        }))?;
        text.push('\n');
        text
    } else {
        csv(&report)
    };
    match output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// One row per figure: `section,key,subkey,value`.
fn csv(report: &TransparencyReport) -> String {
    let mut rows = vec!["section,key,subkey,value".to_string()];
    let mut row = |section: &str, key: &str, subkey: &str, value: String| {
        rows.push(format!(
            "{section},{},{},{value}",
            field(key),
            field(subkey)
        ));
    };
    row("actions", "total", "", report.actions_total.to_string());
    for (category, types) in &report.by_category {
        for (kind, n) in types {
            row("actions_by_category", category, kind, n.to_string());
        }
    }
    for (source, n) in &report.by_source {
        row("actions_by_source", source, "", n.to_string());
    }
    for (automation, n) in &report.by_automation {
        row("actions_by_automation", automation, "", n.to_string());
    }
    row(
        "median_seconds_notice_to_action",
        "",
        "",
        report
            .median_seconds_notice_to_action
            .map_or(String::new(), |s| s.to_string()),
    );
    row(
        "actions_with_notice",
        "",
        "",
        report.actions_with_notice.to_string(),
    );
    row("reversals", "total", "", report.reversals_total.to_string());
    for (category, n) in &report.reversals_by_category {
        row("reversals_by_category", category, "", n.to_string());
    }
    row("appeals", "total", "", report.appeals_total.to_string());
    row(
        "statements_of_reasons",
        "total",
        "",
        report.statements_total.to_string(),
    );
    rows.join("\n") + "\n"
}
