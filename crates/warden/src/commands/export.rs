//! `warden export dsa` and `warden submit dsa`: statements of reasons as
//! JSON Lines, and their submission to the Transparency Database.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{NaiveDate, TimeZone, Utc};

use warden_domain::Timestamp;
use warden_store::prelude::*;
use warden_store::Actor;
use warden_workers::transparency::{submit_pending, TransparencyClient};
use warden_workers::Secret;

use super::open_store;
use crate::cli::{ExportCommand, SubmitCommand};
use crate::config::Config;

/// Reads `--since`/`--until`/`--from`/`--to`: RFC 3339, or a day (its start, UTC).
pub fn parse_instant(flag: &str, text: &str) -> Result<Timestamp> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| {
        format!("{flag} {text:?} is neither an RFC 3339 time nor a YYYY-MM-DD day")
    })?;
    // cannot fail: midnight exists on every day.
    Ok(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists")))
}

/// The actor of command-line changes.
fn operator() -> Actor {
    Actor {
        user_id: None,
        name: "cli".into(),
        token_id: None,
    }
}

/// `warden export ...`.
pub async fn export(config: &Config, command: ExportCommand) -> Result<ExitCode> {
    let ExportCommand::Dsa {
        since,
        until,
        output,
        store,
    } = command;
    let since = parse_instant("--since", &since)?;
    let until = parse_instant("--until", &until)?;
    anyhow::ensure!(until > since, "--until must be after --since");
    let store = open_store(config, &store).await?;
    let mut out: Box<dyn Write> = match &output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut after = 0;
    let mut written = 0;
    loop {
        let page = store.dsa_statements(since, until, after, 1_000).await?;
        if page.is_empty() {
            break;
        }
        for statement in &page {
            writeln!(out, "{}", statement.statement)?;
            after = statement.id;
            written += 1;
        }
    }
    out.flush()?;
    drop(out);
    store
        .record_read(
            &operator(),
            "dsa.export",
            "dsa_statements",
            &format!("{written} statements"),
            serde_json::json!({"since": since.to_rfc3339(), "until": until.to_rfc3339()}),
            Utc::now(),
        )
        .await?;
    if output.is_some() {
        eprintln!("exported {written} statements of reasons");
    }
    Ok(ExitCode::SUCCESS)
}

/// `warden submit ...`.
pub async fn submit(config: &Config, command: SubmitCommand) -> Result<ExitCode> {
    let SubmitCommand::Dsa {
        endpoint,
        batch_size,
        store,
    } = command;
    let endpoint = endpoint.unwrap_or_else(|| config.dsa.endpoint.clone());
    anyhow::ensure!(
        !config.dsa.token.is_empty(),
        "no Transparency Database token: set WARDEN_DSA_TOKEN (or [dsa] token)"
    );
    let client = TransparencyClient::new(
        &endpoint,
        Secret::new(config.dsa.token.clone()),
        std::time::Duration::from_secs(config.dsa.timeout_seconds.max(1)),
    )
    .map_err(anyhow::Error::msg)?;
    let store = open_store(config, &store).await?;
    let summary = submit_pending(
        store.as_ref(),
        &client,
        &operator(),
        batch_size.unwrap_or(config.dsa.batch_size),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    println!(
        "submitted {} batches: {} statements accepted, {} refused",
        summary.batches, summary.accepted, summary.rejected
    );
    if let Some(why) = summary.stopped {
        eprintln!("stopped early: {why}; run `warden submit dsa` again to send the rest");
        return Ok(ExitCode::FAILURE);
    }
    if summary.rejected > 0 {
        eprintln!("the database refused some statements; see GET /api/v1/dsa/statements for why");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
