//! `warden user`, `warden token`, `warden audit`.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::Utc;

use warden_domain::access::{parse_teams, Role, Scope};
use warden_domain::audit::ChainVerifier;
use warden_domain::ids::UserName;
use warden_domain::limits::{AUDIT_VERIFY_PAGE, PASSWORD_BYTES_MAX, PASSWORD_CHARS_MIN};
use warden_server::auth::{hash_password, new_token, secret_hash};
use warden_store::prelude::*;
use warden_store::Actor;

use super::open_store;
use crate::cli::{AuditCommand, TokenCommand, UserCommand};
use crate::config::Config;
use crate::progress;

/// The actor of command-line changes: the operator at the machine. Tokens
/// it mints record `system` as their minter.
fn operator() -> Actor {
    Actor {
        user_id: None,
        name: "cli".into(),
        token_id: None,
    }
}

fn read_password() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .take(PASSWORD_BYTES_MAX as u64 + 2)
        .read_to_string(&mut text)
        .context("cannot read the password from standard input")?;
    let password = text.trim_end_matches(['\n', '\r']).to_string();
    if password.len() > PASSWORD_BYTES_MAX {
        bail!("the password is longer than {PASSWORD_BYTES_MAX} bytes");
    }
    if password.chars().count() < PASSWORD_CHARS_MIN {
        bail!("the password must be at least {PASSWORD_CHARS_MIN} characters; pipe it in, e.g. `printf '%s' \"$PASSWORD\" | warden user add NAME --role analyst --password-stdin`");
    }
    Ok(password)
}

/// `warden user ...`.
pub async fn user(config: &Config, command: UserCommand) -> Result<ExitCode> {
    match command {
        UserCommand::Add {
            name,
            role,
            teams,
            password_stdin: _,
            store,
        } => {
            let name = UserName::parse(&name).map_err(|e| anyhow::anyhow!("the user name {e}"))?;
            let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let teams = parse_teams(&teams).map_err(|e| anyhow::anyhow!("--team: {e}"))?;
            let password = read_password()?;
            let hash = hash_password(&password).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let store = open_store(config, &store).await?;
            let user = store
                .create_user_with_teams(&operator(), name.as_str(), role, &hash, &teams, Utc::now())
                .await?;
            if user.teams.is_empty() {
                println!("added {} ({})", user.name, user.role);
            } else {
                println!(
                    "added {} ({}; teams {})",
                    user.name,
                    user.role,
                    user.teams.join(", ")
                );
            }
        }
        UserCommand::Teams { name, set, store } => {
            let store = open_store(config, &store).await?;
            let user = match set {
                Some(list) => {
                    let wanted: Vec<&str> = list
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .collect();
                    let teams = parse_teams(&wanted).map_err(|e| anyhow::anyhow!("--set: {e}"))?;
                    store
                        .set_user_teams(&operator(), &name, &teams, Utc::now())
                        .await?
                }
                None => store
                    .user_by_name(&name)
                    .await?
                    .with_context(|| format!("no user named {name:?}"))?,
            };
            if user.teams.is_empty() {
                println!("{} is in no team", user.name);
            } else {
                println!("{} is in {}", user.name, user.teams.join(", "));
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin: _,
            store,
        } => {
            let password = read_password()?;
            let hash = hash_password(&password).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let store = open_store(config, &store).await?;
            store
                .set_password(&operator(), &name, &hash, Utc::now())
                .await?;
            println!("set the password of {name}; their sessions ended");
        }
        UserCommand::List { store } => {
            let store = open_store(config, &store).await?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<24} {:<10} {:<9} {:<10} teams",
                "name", "role", "status", "created"
            )?;
            for user in store.list_users().await? {
                let status = if user.disabled { "disabled" } else { "active" };
                writeln!(
                    out,
                    "{:<24} {:<10} {:<9} {:<10} {}",
                    user.name,
                    user.role,
                    status,
                    user.created_at.format("%Y-%m-%d"),
                    user.teams.join(",")
                )?;
            }
        }
        UserCommand::Disable { name, store } => {
            let store = open_store(config, &store).await?;
            store
                .set_user_disabled(&operator(), &name, true, Utc::now())
                .await?;
            println!(
                "disabled {name}: their sessions ended and their cases went back to their queues"
            );
        }
        UserCommand::Enable { name, store } => {
            let store = open_store(config, &store).await?;
            store
                .set_user_disabled(&operator(), &name, false, Utc::now())
                .await?;
            println!("enabled {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `warden token ...`.
pub async fn token(config: &Config, command: TokenCommand) -> Result<ExitCode> {
    match command {
        TokenCommand::Create {
            user,
            scope,
            name,
            store,
        } => {
            let scope: Scope = scope.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let store = open_store(config, &store).await?;
            let owner = store.user_by_name(&user).await?.with_context(|| {
                format!("no user named {user:?}; add one with `warden user add`")
            })?;
            let secret = new_token();
            let name = name.unwrap_or_else(|| format!("{user}-{scope}"));
            store
                .create_token(
                    &operator(),
                    owner.id,
                    &name,
                    scope,
                    &secret_hash(&secret),
                    Utc::now(),
                )
                .await?;
            println!("{secret}");
        }
        TokenCommand::Revoke { id, store } => {
            let store = open_store(config, &store).await?;
            let token = store.revoke_token(&operator(), id, Utc::now()).await?;
            println!("revoked token {} ({})", token.id, token.name);
        }
        TokenCommand::List { store } => {
            let store = open_store(config, &store).await?;
            let users = store.list_users().await?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<6} {:<24} {:<24} {:<8} {:<8} minted by",
                "id", "name", "user", "scope", "status"
            )?;
            for token in store.list_tokens(None).await? {
                let user = users
                    .iter()
                    .find(|u| u.id == token.user_id)
                    .map_or("?", |u| u.name.as_str());
                let status = if token.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                writeln!(
                    out,
                    "{:<6} {:<24} {:<24} {:<8} {status:<8} {}",
                    token.id,
                    token.name,
                    user,
                    token.scope,
                    token.minted_by.as_deref().unwrap_or("-")
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `warden audit verify`.
pub async fn audit(config: &Config, command: AuditCommand) -> Result<ExitCode> {
    let AuditCommand::Verify { store } = command;
    let store = open_store(config, &store).await?;
    let mut verifier = ChainVerifier::default();
    let bar = progress::bar(0, "verifying");
    let mut after = 0;
    loop {
        let page = store.audit_page(after, AUDIT_VERIFY_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for record in &page {
            if let Err(fault) = verifier.check(record) {
                bar.finish_and_clear();
                eprintln!("audit chain broken: {fault}");
                eprintln!("{} records before it verified; restore the database from a backup and investigate who changed it", verifier.checked());
                return Ok(ExitCode::from(2));
            }
            after = record.entry.seq;
        }
        bar.inc(page.len() as u64);
    }
    bar.finish_and_clear();
    println!(
        "audit chain intact: {} records verified",
        verifier.checked()
    );
    Ok(ExitCode::SUCCESS)
}
