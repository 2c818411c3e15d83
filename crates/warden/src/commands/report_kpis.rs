//! `warden report kpis`: every KPI of `specs/kpis.md` as JSON (the API's
//! shape), CSV (`group,kpi,value,numerator,denominator,unit`) or an
//! aligned table, through the application's `kpis` query as the operator.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use warden_app::kpis::{report_csv, report_json, KpiParams};
use warden_app::{Actor, App};
use warden_domain::kpi::KpiReport;

use super::open_store;
use crate::cli::KpisArgs;
use crate::config::Config;

/// `warden report kpis ...`.
pub async fn report_kpis(config: &Config, args: KpisArgs) -> Result<ExitCode> {
    if !matches!(args.format.as_str(), "json" | "csv" | "table") {
        bail!("--format must be json, csv or table");
    }
    let store = open_store(config, &args.store).await?;
    let settings = config.server_settings(false).app_settings();
    let app = App::new(store, config.case_policy()?, settings);
    let params = KpiParams {
        from: Some(args.from),
        to: Some(args.to),
        queue: args.queue,
        category: args.category,
        reviewer: args.reviewer,
        team: args.team,
        by: args.by,
    };
    let query = params.parse(app.now()).map_err(|errors| {
        let said: Vec<String> = errors
            .0
            .iter()
            .map(|e| format!("--{}: {}", e.field, e.reason))
            .collect();
        anyhow::anyhow!(said.join("; "))
    })?;
    let report = app
        .kpis(&Actor::Operator, &query)
        .await
        .map_err(|error| anyhow::anyhow!(error.chain()))?;
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&report_json(&report))? + "\n",
        "csv" => report_csv(&report),
        _ => table(&report),
    };
    match args.output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A value as a person reads it: ratios as percentages, others as numbers.
fn shown(value: Option<f64>, unit: &str) -> String {
    match value {
        None => "—".into(),
        Some(v) if unit == "ratio" => format!("{:.1} %", v * 100.0),
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// Aligned columns: one row per (group, KPI), totals first.
fn table(report: &KpiReport) -> String {
    let mut out = format!(
        "{:<12} {:<32} {:>12} {:>12} {:>12}  unit\n",
        "group", "kpi", "value", "numerator", "denominator"
    );
    let rows = std::iter::once(("total".to_string(), &report.totals)).chain(
        report
            .groups
            .iter()
            .map(|group| (group.key.label(), &group.kpis)),
    );
    for (group, set) in rows {
        for (kpi, value) in set.iter() {
            out.push_str(&format!(
                "{group:<12} {:<32} {:>12} {:>12} {:>12}  {}\n",
                kpi.name(),
                shown(value.value, value.unit.as_str()),
                value.numerator,
                value.denominator,
                value.unit.as_str()
            ));
        }
    }
    out
}
