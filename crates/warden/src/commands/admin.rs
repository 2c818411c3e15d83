//! `warden user`, `warden token`.
//!
//! Changes go through the application ([`warden_app::App`]) as the
//! operator at the machine ([`Actor::Operator`]): the same checks and audit
//! records as the API, with every right (whoever runs the binary against
//! the database has them anyway).

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use warden_app::accounts::credentials::NewPassword;
use warden_app::accounts::{AddUserCommand, MintTokenCommand};
use warden_app::{Actor, App, CommandError};
use warden_domain::access::{parse_teams, Role, Scope};
use warden_domain::ids::UserName;
use warden_domain::limits::{PASSWORD_BYTES_MAX, PASSWORD_CHARS_MIN};
use warden_store::prelude::*;

use super::open_store;
use crate::cli::{StoreArgs, TokenCommand, UserCommand};
use crate::config::Config;

/// The actor of command-line changes: the operator at the machine. The
/// audit log names them `cli`; tokens they mint record `system`.
const OPERATOR: Actor = Actor::Operator;

/// The application over the store the arguments name.
async fn application(config: &Config, store: &StoreArgs) -> Result<App> {
    let store = open_store(config, store).await?;
    let settings = config.server_settings(false).app_settings();
    Ok(App::new(store, config.case_policy()?, settings))
}

/// A command's error as the command line says it: the cause included.
fn said(error: CommandError) -> anyhow::Error {
    anyhow::anyhow!(error.chain())
}

/// A user name typed on the command line.
fn user_name(name: &str) -> Result<UserName> {
    UserName::parse(name).map_err(|e| anyhow::anyhow!("the user name {name:?} {e}"))
}

fn read_password() -> Result<NewPassword> {
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
    NewPassword::parse(password).map_err(|e| anyhow::anyhow!("the password {e}"))
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
            let app = application(config, &store).await?;
            let command = AddUserCommand {
                name,
                role,
                teams,
                password,
            };
            let user = app.add_user(&OPERATOR, command).await.map_err(said)?;
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
            user_teams(config, &name, set.as_deref(), &store).await?;
        }
        UserCommand::Passwd {
            name,
            password_stdin: _,
            store,
        } => {
            let password = read_password()?;
            let app = application(config, &store).await?;
            app.set_password(&OPERATOR, &user_name(&name)?, &password)
                .await
                .map_err(said)?;
            println!("set the password of {name}; their sessions ended");
        }
        UserCommand::List { store } => list_users(config, &store).await?,
        UserCommand::Disable { name, store } => {
            let app = application(config, &store).await?;
            app.disable_user(&OPERATOR, &user_name(&name)?)
                .await
                .map_err(said)?;
            println!(
                "disabled {name}: their sessions ended and their cases went back to their queues"
            );
        }
        UserCommand::Enable { name, store } => {
            let app = application(config, &store).await?;
            app.enable_user(&OPERATOR, &user_name(&name)?)
                .await
                .map_err(said)?;
            println!("enabled {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `warden user teams NAME [--set LIST]`: shows (or first sets) a user's teams.
async fn user_teams(
    config: &Config,
    name: &str,
    set: Option<&str>,
    store: &StoreArgs,
) -> Result<()> {
    let app = application(config, store).await?;
    let user = match set {
        Some(list) => {
            let wanted: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            let teams = parse_teams(&wanted).map_err(|e| anyhow::anyhow!("--set: {e}"))?;
            app.set_teams(&OPERATOR, &user_name(name)?, &teams)
                .await
                .map_err(said)?
        }
        None => app
            .user(&user_name(name)?)
            .await
            .map_err(said)
            .with_context(|| format!("no user named {name:?}"))?,
    };
    if user.teams.is_empty() {
        println!("{} is in no team", user.name);
    } else {
        println!("{} is in {}", user.name, user.teams.join(", "));
    }
    Ok(())
}

/// `warden user list`: every user with role, status, creation date and teams.
async fn list_users(config: &Config, store: &StoreArgs) -> Result<()> {
    let store = open_store(config, store).await?;
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
    Ok(())
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
            let name = name
                .map(|name| warden_app::accounts::check_token_name(&name))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--name {e}"))?;
            let app = application(config, &store).await?;
            let unknown = || format!("no user named {user:?}; add one with `warden user add`");
            let owner = UserName::parse(&user).map_err(|_| anyhow::anyhow!(unknown()))?;
            app.user(&owner).await.map_err(said).with_context(unknown)?;
            let command = MintTokenCommand {
                user: owner,
                scope,
                name,
            };
            let (_, secret) = app.mint_token(&OPERATOR, command).await.map_err(said)?;
            println!("{secret}");
        }
        TokenCommand::Revoke { id, store } => {
            let app = application(config, &store).await?;
            let token = app.revoke_token(&OPERATOR, id).await.map_err(said)?;
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
